"""The explanation-free ranking: integer scores and fee tables give what Decimals give."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from routing import Decision, RouteRequest, RoutingConfig, decide
from routing.compiled import compile_bands, fee_from_bands
from routing.config import ScoreWeights, Weights
from routing.fee_table import FeeTable
from routing.scaled import weight_units
from routing.snapshot import ChannelState, Snapshot

# The module, not the function `routing` exports under the same name.
deciding = importlib.import_module("routing.decide")
MakeRequest = Callable[..., RouteRequest]
NOW = dt.datetime(2024, 6, 4, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def _same(a: Decision, b: Decision) -> None:
    def facts(d: Decision) -> tuple[object, ...]:
        return (d.channel, d.fallbacks, d.fee, str(d.fee), d.rule, d.reason, d.expected_seconds)

    assert facts(a) == facts(b)


@pytest.mark.parametrize(
    "amount",
    ["0.01", "1", "99.99", "166.66", "166.67", "1000", "8333.33", "8333.34", "1e6", "5e7"],
)
@pytest.mark.parametrize("channel", ["card", "cips", "swift"])
def test_fee_table_gives_the_band_walks_fee(demo: RoutingConfig, channel: str, amount: str) -> None:
    spec = demo.channel(channel)
    assert spec is not None
    for currency, bands in compile_bands(spec.fees).items():
        found = FeeTable(bands, currency).fee(Decimal(amount))
        fee = fee_from_bands(bands, Decimal(amount), currency)
        assert found is not None and fee is not None
        assert found[0] == fee and str(found[0]) == str(fee)
        assert found[1] == int(fee.scaleb(4))


def test_weight_units_share_one_scale() -> None:
    assert weight_units((Decimal(1), Decimal("0.25"), Decimal(2))) == (100, 25, 200)
    assert weight_units((Decimal(1), Decimal(0), Decimal(1))) == (1, 0, 1)


def test_ranking_without_explanations_matches_ranking_with(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    weighted = demo.model_copy(
        update={
            "weights": Weights(
                default=ScoreWeights(fee=Decimal("0.3"), latency=Decimal("1.25"), risk=Decimal(2))
            )
        }
    )
    snapshot = Snapshot(
        {
            "rtgs": ChannelState(success_rate=0.991),
            "card": ChannelState(success_rate=0.97),
            "swift": ChannelState(success_rate=0.9),
        }
    )
    for config in (demo, weighted):
        for amount in ("0.5", "20", "8000", "49999.99", "123456.78"):
            for currency, creditor in (("EUR", "DE"), ("CNY", "CN"), ("CNY", "US")):
                debtor = "CN" if currency == "CNY" else "DE"
                req = make_request(
                    amount, currency, debtor_country=debtor, creditor_country=creditor
                )
                _same(
                    decide(req, config, snapshot, NOW, explain=False),
                    decide(req, config, snapshot, NOW, explain=True),
                )


def test_a_score_past_27_digits_is_ranked_with_decimals(
    demo: RoutingConfig, make_request: MakeRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A percentage fee with no maximum on an amount this large gives a 28-digit score: the
    # integer ranking hands it back to the Decimal one.
    huge = Decimal("4e26")
    modes: list[bool] = []
    inner = deciding._decide

    def spy(*args: object) -> Decision:
        modes.append(bool(args[-1]))
        return inner(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(deciding, "_decide", spy)
    swift = demo.channel("swift")
    assert swift is not None
    band = swift.fees[0].model_copy(update={"max": None, "currency": "USD"})
    config = demo.model_copy(
        update={
            "channels": [
                c.model_copy(update={"fees": [band]}) if c.id == "swift" else c
                for c in demo.channels
            ]
        }
    )
    req = make_request(str(huge), "USD", debtor_country="DE", creditor_country="US")
    quiet = decide(req, config, Snapshot(), NOW, explain=False)
    assert modes == [True, False]  # integers first, then Decimals
    _same(quiet, decide(req, config, Snapshot(), NOW, explain=True))
    assert quiet.channel == "swift" and quiet.fee == Decimal("200000000000000000000025.00")
