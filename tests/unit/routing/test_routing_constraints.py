"""Each hard constraint drops a rail with its own reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from routing import BreakerState, ChannelState, RoutingConfig, Snapshot, decide
from tests.unit.routing.routing_demo import BERLIN, TUESDAY_10, MakeRequest

UTC = dt.UTC


def verdicts(
    demo: RoutingConfig, req: object, snapshot: Snapshot = Snapshot(), now: dt.datetime = TUESDAY_10
) -> dict[str, str | None]:
    d = decide(req, demo, snapshot, now)  # type: ignore[arg-type]
    return {v.channel: v.dropped_because for v in d.verdicts}


def test_currency(demo: RoutingConfig, make_request: MakeRequest) -> None:
    assert verdicts(demo, make_request("10", "USD"))["instant"] == "does not carry USD"


def test_min_and_max(demo: RoutingConfig, make_request: MakeRequest) -> None:
    assert (
        verdicts(demo, make_request("0.001"))["rtgs"] == "amount 0.001 EUR below its minimum 0.01"
    )
    assert verdicts(demo, make_request("50000.01"))["batch"] == (
        "amount 50000.01 EUR above its maximum 50000"
    )
    assert verdicts(demo, make_request("50000"))["batch"] is None


def test_daily_amount_and_count_caps(demo: RoutingConfig, make_request: MakeRequest) -> None:
    used = Snapshot({"card": ChannelState(used_amount_today=Decimal("4999950"))})
    req = make_request("100", product="ecommerce")
    assert verdicts(demo, req, used)["card"] == "daily amount cap 5000000 reached (used 4999950)"
    assert verdicts(demo, make_request("50", product="ecommerce"), used)["card"] in (
        None,
        "not chosen",
    )
    capped = demo.model_copy(
        update={"channels": [c.model_copy(update={"daily_count_cap": 3}) for c in demo.channels]}
    )
    full = Snapshot({"batch": ChannelState(used_count_today=3)})
    d = decide(make_request("10"), capped, full, TUESDAY_10)
    assert d.channel == "instant"
    assert {v.channel: v.dropped_because for v in d.verdicts}[
        "batch"
    ] == "daily count cap 3 reached"


def test_liquidity_protection(demo: RoutingConfig, make_request: MakeRequest) -> None:
    state = ChannelState(position=Decimal(1500), protection=Decimal(1000))
    low = Snapshot({"batch": state})
    assert verdicts(demo, make_request("500"), low)["batch"] is None  # exactly at the floor
    assert verdicts(demo, make_request("500.01"), low)["batch"] == (
        "liquidity: position 1500 - 500.01 would fall below 1000"
    )
    assert decide(make_request("600"), demo, low, TUESDAY_10).channel == "instant"


def test_open_breaker_is_out_and_half_open_is_penalised(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    req = make_request("1000")
    assert (
        verdicts(demo, req, Snapshot({"batch": ChannelState(breaker=BreakerState.OPEN)}))["batch"]
        == "circuit breaker open"
    )
    half = decide(
        req, demo, Snapshot({"batch": ChannelState(breaker=BreakerState.HALF_OPEN)}), TUESDAY_10
    )
    batch = {v.channel: v for v in half.verdicts}["batch"]
    assert batch.risk_penalty == Decimal("2.55")  # 0.5 * (5 + 1000 * 0.0001)
    assert half.channel == "instant"


def test_hours_and_cutoff_in_channel_time_zone(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    req = make_request("500000")  # only rtgs carries it
    assert verdicts(demo, req, now=dt.datetime(2024, 6, 4, 16, 59, tzinfo=BERLIN))["rtgs"] is None
    after_cutoff = verdicts(demo, req, now=dt.datetime(2024, 6, 4, 17, 0, tzinfo=BERLIN))
    assert after_cutoff["rtgs"] == "past cut-off 17:00 Europe/Berlin"
    # 06:30 UTC is 08:30 in Berlin (summer time): open, though the UTC clock says 06:30.
    assert verdicts(demo, req, now=dt.datetime(2024, 6, 4, 6, 30, tzinfo=UTC))["rtgs"] is None
    early = verdicts(demo, req, now=dt.datetime(2024, 6, 4, 5, 30, tzinfo=UTC))
    assert (
        early["rtgs"] == "closed at Tue 07:30 (hours Mon/Tue/Wed/Thu/Fri 08:00-18:00 Europe/Berlin)"
    )
    saturday = verdicts(demo, req, now=dt.datetime(2024, 6, 8, 10, 0, tzinfo=BERLIN))
    assert saturday["rtgs"].startswith("closed at Sat 10:00")


def test_shanghai_hours_for_citybank(demo: RoutingConfig, make_request: MakeRequest) -> None:
    req = make_request("100", "CNY", creditor_agent_bic="BKSHCNSHXXX")
    open_ = decide(req, demo, Snapshot(), dt.datetime(2024, 6, 4, 8, 59, tzinfo=UTC))  # 16:59 CST
    assert open_.channel == "citybank"
    late = decide(req, demo, Snapshot(), dt.datetime(2024, 6, 4, 9, 0, tzinfo=UTC))  # 17:00 CST
    assert late.channel != "citybank"


def test_holidays(demo: RoutingConfig, make_request: MakeRequest) -> None:
    christmas = dt.datetime(2024, 12, 25, 10, 0, tzinfo=BERLIN)
    assert verdicts(demo, make_request("500000"), now=christmas)["rtgs"] == (
        "closed: public holiday in DE (2024-12-25)"
    )
    national_day = dt.datetime(2024, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    reason = verdicts(demo, make_request("10", "CNY"), now=national_day)["citybank"]
    assert reason == "closed: public holiday in CN (2024-10-01)"


def test_deadline_drops_slow_rails(demo: RoutingConfig, make_request: MakeRequest) -> None:
    req = make_request("1000", deadline=TUESDAY_10 + dt.timedelta(minutes=10))
    d = decide(req, demo, Snapshot(), TUESDAY_10)
    dropped = {v.channel: v.dropped_because for v in d.verdicts}
    assert dropped["batch"] == "cannot settle by the deadline (needs 1800s, 600s left)"
    assert d.channel == "instant"
    past = decide(
        make_request("10", deadline=TUESDAY_10 - dt.timedelta(seconds=1)),
        demo,
        Snapshot(),
        TUESDAY_10,
    )
    assert past.channel is None and past.reason.startswith("no eligible channel")


def test_batch_waits_for_next_cycle(demo: RoutingConfig, make_request: MakeRequest) -> None:
    d = decide(make_request("10"), demo, Snapshot(), TUESDAY_10 + dt.timedelta(minutes=20))
    batch = {v.channel: v for v in d.verdicts}["batch"]
    assert batch.expected_seconds == pytest.approx(600)


def test_cross_border_and_domestic(demo: RoutingConfig, make_request: MakeRequest) -> None:
    cross = verdicts(demo, make_request("10", "EUR", debtor_country="DE", creditor_country="FR"))
    assert cross["instant"] == "domestic rail; the payment is cross-border"
    assert cross["swift"] is None
    domestic = verdicts(demo, make_request("10", "EUR", debtor_country="DE", creditor_country="DE"))
    assert domestic["swift"] == "cross-border rail; the payment is domestic"


def test_merged_payments_only_on_accepting_rails(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    got = verdicts(demo, make_request("10", "CNY", merged=True))
    assert got["instant"] == "does not accept merged payments"
    assert got["citybank"] is None or got["citybank"] == "not chosen"
    assert got["batch"] is None or "not" not in (got["batch"] or "")


def test_lei_required(demo: RoutingConfig, make_request: MakeRequest) -> None:
    req = make_request("10", "CNY", debtor_country="CN", creditor_country="HK")
    assert verdicts(demo, req)["cips"] == "requires an LEI and the payment has none"


def test_naive_now_is_refused(demo: RoutingConfig, make_request: MakeRequest) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(make_request(), demo, Snapshot(), dt.datetime(2024, 6, 4, 10, 0))
