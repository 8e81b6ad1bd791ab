"""Properties of `routing.decide` over generated payments, states and times."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from routing import (
    BreakerState,
    ChannelSpec,
    ChannelState,
    RouteRequest,
    ScoreWeights,
    Snapshot,
    Weights,
    decide,
    fee_for,
    load_config,
    load_config_text,
)
from routing.channels import WEEKDAY_INDEX

DEMO = load_config(Path(__file__).parents[2] / "routing" / "configs" / "demo.yaml")
CHANNEL_IDS = [c.id for c in DEMO.channels]
COUNTRIES = ["DE", "FR", "CN", "US", "SG", None]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(300_000), places=2)
times = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2024, 12, 31),
    timezones=st.just(dt.UTC),
)


@st.composite
def requests(draw: st.DrawFn) -> RouteRequest:
    return RouteRequest(
        payment_id=draw(st.text("abcdef0123456789", min_size=4, max_size=12)),
        amount=draw(amounts),
        currency=draw(st.sampled_from(["EUR", "CNY", "USD", "GBP", "JPY"])),
        debtor_country=draw(st.sampled_from(COUNTRIES)),
        creditor_country=draw(st.sampled_from(COUNTRIES)),
        creditor_agent_bic=draw(st.sampled_from([None, "BKSHCNSHXXX", "DEUTDEFFXXX"])),
        product=draw(st.sampled_from([None, "payroll", "ecommerce", "supplier", "treasury"])),
        priority=draw(st.sampled_from(["normal", "high", "urgent"])),
        merged=draw(st.booleans()),
        lei_present=draw(st.booleans()),
        channel=draw(st.sampled_from([None, *CHANNEL_IDS])),
    )


@st.composite
def states(draw: st.DrawFn) -> ChannelState:
    position = draw(st.none() | st.decimals(min_value=0, max_value=10_000_000, places=0))
    return ChannelState(
        used_amount_today=draw(st.decimals(min_value=0, max_value=6_000_000, places=0)),
        used_count_today=draw(st.integers(0, 100)),
        position=position,
        protection=draw(st.none() | st.decimals(min_value=0, max_value=1_000_000, places=0)),
        breaker=draw(st.sampled_from(list(BreakerState))),
        success_rate=draw(st.floats(0, 1)),
    )


snapshots = st.dictionaries(st.sampled_from(CHANNEL_IDS), states()).map(Snapshot)


def is_open(spec: ChannelSpec, now: dt.datetime) -> bool:
    """An oracle for the calendar, written independently of routing.compiled."""
    cal = spec.calendar
    if cal.always_open:
        return True
    local = now.astimezone(ZoneInfo(cal.timezone))
    if cal.holiday_country and local.date() in holidays.country_holidays(
        cal.holiday_country, years=local.year
    ):
        return False
    t = local.time().replace(tzinfo=None)
    in_hours = any(
        local.weekday() in {WEEKDAY_INDEX[d] for d in h.days} and h.open <= t < h.close
        for h in cal.hours
    )
    return in_hours and (cal.cutoff is None or t < cal.cutoff)


def assert_hard_constraints(
    spec: ChannelSpec, req: RouteRequest, state: ChannelState, now: dt.datetime
) -> None:
    assert req.currency in spec.currencies
    limits = spec.limits.get(req.currency)
    if limits is not None:
        assert limits.min <= req.amount
        assert limits.max is None or req.amount <= limits.max
    cross = (
        req.debtor_country is not None
        and req.creditor_country is not None
        and req.debtor_country != req.creditor_country
    )
    assert spec.cross_border if cross else (not spec.cross_border or bool(spec.domestic_countries))
    if spec.daily_amount_cap is not None:
        assert state.used_amount_today + req.amount <= spec.daily_amount_cap
    if spec.daily_count_cap is not None:
        assert state.used_count_today < spec.daily_count_cap
    if state.position is not None:
        assert state.position - req.amount >= (state.protection or 0)
    assert state.breaker != BreakerState.OPEN
    assert not req.merged or spec.capabilities.accepts_merged
    assert not spec.capabilities.lei_required or req.lei_present
    assert is_open(spec, now)
    fee_for(spec, req.amount, req.currency)  # a band covers it


@SETTINGS
@given(req=requests(), snapshot=snapshots, now=times)
def test_chosen_channel_satisfies_every_hard_constraint(
    req: RouteRequest, snapshot: Snapshot, now: dt.datetime
) -> None:
    decision = decide(req, DEMO, snapshot, now)
    for channel in [c for c in [decision.channel, *decision.fallbacks] if c is not None]:
        spec = DEMO.channel(channel)
        assert spec is not None
        assert_hard_constraints(spec, req, snapshot.state(channel), now)
    verdicts = {v.channel: v for v in decision.verdicts}
    if decision.channel is not None:
        assert verdicts[decision.channel].eligible
        assert decision.fee == verdicts[decision.channel].fee


@SETTINGS
@given(req=requests(), snapshot=snapshots, now=times)
def test_open_breaker_channel_is_never_chosen(
    req: RouteRequest, snapshot: Snapshot, now: dt.datetime
) -> None:
    decision = decide(req, DEMO, snapshot, now, explain=False)
    chosen = [c for c in [decision.channel, *decision.fallbacks] if c is not None]
    assert all(snapshot.state(c).breaker != BreakerState.OPEN for c in chosen)


DEMO_AGAIN = load_config_text(DEMO.model_dump_json())  # an equal config, compiled separately


@SETTINGS
@given(req=requests(), snapshot=snapshots, now=times)
def test_deterministic_and_explain_independent(
    req: RouteRequest, snapshot: Snapshot, now: dt.datetime
) -> None:
    first = decide(req, DEMO, snapshot, now)
    again = decide(req, DEMO_AGAIN, snapshot, now)
    quiet = decide(req, DEMO, snapshot, now, explain=False)
    assert first == again
    assert (first.channel, first.fallbacks, first.fee, first.rule, first.reason) == (
        quiet.channel,
        quiet.fallbacks,
        quiet.fee,
        quiet.rule,
        quiet.reason,
    )


# Fee-only scoring for every product, and no rules: the choice is the cheapest eligible rail.
COST_ONLY = DEMO.model_copy(
    update={
        "rules": [],
        "weights": Weights(
            default=ScoreWeights(fee=Decimal(1), latency=Decimal(0), risk=Decimal(0))
        ),
    }
)


@SETTINGS
@given(
    req=requests(),
    snapshot=snapshots,
    now=times,
    extra=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2),
)
def test_dearer_channel_never_changes_cost_only_choice(
    req: RouteRequest, snapshot: Snapshot, now: dt.datetime, extra: Decimal
) -> None:
    req = req.model_copy(update={"channel": None})
    before = decide(req, COST_ONLY, snapshot, now, explain=False)
    assume(before.channel is not None and before.fee is not None)
    dearer = ChannelSpec.model_validate(
        {
            "id": "dearer",
            "kind": "instant",
            "currencies": [req.currency],
            "cross_border": req.debtor_country != req.creditor_country,
            "latency": {"expected_seconds": 0},
            "fees": [{"currency": req.currency, "fixed": before.fee + extra}],
            "capabilities": {"accepts_merged": True},
        }
    )
    grown = COST_ONLY.model_copy(update={"channels": [*COST_ONLY.channels, dearer]})
    after = decide(req, grown, snapshot, now, explain=False)
    assert after.channel == before.channel
    assert after.fee == before.fee


SPLIT_HEAD = """
channels:
  - {id: a, kind: instant, currencies: [EUR], latency: {expected_seconds: 1},
     fees: [{currency: EUR, fixed: 1}]}
  - {id: b, kind: instant, currencies: [EUR], latency: {expected_seconds: 1},
     fees: [{currency: EUR, fixed: 1}]}
  - {id: c, kind: instant, currencies: [EUR], latency: {expected_seconds: 1},
     fees: [{currency: EUR, fixed: 1}]}
rules:
  - id: spread
    kind: split
    shares:
"""


@settings(max_examples=50, deadline=None)
@given(
    cuts=st.lists(st.integers(1, 99), min_size=1, max_size=2, unique=True),
    prefix=st.text("abcxyz-", max_size=6),
)
def test_volume_split_converges_within_two_percent(cuts: list[int], prefix: str) -> None:
    bounds = [0, *sorted(cuts), 100]
    percents = [hi - lo for lo, hi in itertools.pairwise(bounds)]
    shares = "".join(
        f"      - {{channel: {ch}, percent: {p}}}\n" for ch, p in zip("abc", percents, strict=False)
    )
    config = load_config_text(SPLIT_HEAD + shares)
    now = dt.datetime(2024, 6, 4, 10, tzinfo=dt.UTC)
    n = 10_000
    counts: Counter[str | None] = Counter()
    for i in range(n):
        req = RouteRequest(payment_id=f"{prefix}{i}", amount=Decimal(10), currency="EUR")
        counts[decide(req, config, Snapshot(), now, explain=False).channel] += 1
    for ch, p in zip("abc", percents, strict=False):
        assert abs(counts[ch] / n * 100 - p) <= 2, (ch, p, counts)
