"""The explanation-free ranking loop: rules that keep their order score nothing, opening
hours are read from the calendar's cached day, and `now` is converted only when needed."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from decimal import InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from routing import Decision, RouteRequest, RoutingConfig, decide
from routing.rules import DesignatedRule, When
from routing.snapshot import ChannelState, Snapshot

# The module, not the function `routing` exports under the same name.
deciding = importlib.import_module("routing.decide")
MakeRequest = Callable[..., RouteRequest]
BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2024, 6, 4, 10, 0, tzinfo=BERLIN)


def _facts(d: Decision) -> tuple[object, ...]:
    return (d.channel, d.fallbacks, d.fee, str(d.fee), d.rule, d.reason, d.expected_seconds)


def _evaluation(req: RouteRequest, config: RoutingConfig, now: dt.datetime = NOW) -> Any:
    return deciding._Evaluation(req, config.compiled, Snapshot(), now, False, True)


def test_a_rule_that_keeps_its_order_leaves_its_rails_unscored(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    req = make_request("100", product="payroll", debtor_country="DE", creditor_country="DE")
    cc = demo.compiled
    rule = next(r for r in cc.rules if r.id == "payroll-on-batch")
    assert not rule.scored
    ev = _evaluation(req, demo)
    listed = ev.rank_units(rule.channels, rule.scored, {})
    assert [s[2] for s in listed] == ["batch", "instant"]
    assert all(s[0] is None for s in listed)
    # A sorting rule meeting the same rails later scores them, as a fresh evaluation does.
    again = ev.rank_units(cc.ids, True, {})
    fresh = _evaluation(req, demo).rank_units(cc.ids, True, {})
    assert again == fresh
    assert all(isinstance(s[0], int) for s in again)
    assert _facts(decide(req, demo, Snapshot(), NOW, explain=False)) == _facts(
        decide(req, demo, Snapshot(), NOW, explain=True)
    )


def _huge_swift(demo: RoutingConfig, designated: bool) -> RoutingConfig:
    swift = demo.channel("swift")
    assert swift is not None
    band = swift.fees[0].model_copy(update={"max": None, "currency": "USD"})
    rules = list(demo.rules)
    if designated:
        rule = DesignatedRule(
            id="usd-swift", kind="designated", when=When(currency="USD"), channel="swift"
        )
        rules.insert(0, rule)
    return demo.model_copy(
        update={
            "channels": [
                c.model_copy(update={"fees": [band]}) if c.id == "swift" else c
                for c in demo.channels
            ],
            "rules": rules,
        }
    )


def test_an_absurd_amount_on_a_rule_that_keeps_its_order_gets_a_decision(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    # The risk of 1.5e29 at a 10% failure rate has more digits than a Decimal holds: scoring
    # it raises. A rule that keeps its order needs no score, so without explanations it
    # now decides (it used to raise); explanations, and sorting rules, still score and raise.
    req = make_request("1.5e29", "USD", debtor_country="DE", creditor_country="US")
    snapshot = Snapshot({"swift": ChannelState(success_rate=0.9)})
    listed = _huge_swift(demo, designated=True)
    quiet = decide(req, listed, snapshot, NOW, explain=False)
    assert (quiet.channel, quiet.rule) == ("swift", "usd-swift")
    with pytest.raises(InvalidOperation):
        decide(req, listed, snapshot, NOW, explain=True)
    with pytest.raises(InvalidOperation):
        decide(req, _huge_swift(demo, designated=False), snapshot, NOW, explain=False)


@pytest.mark.parametrize(
    "now",
    [
        dt.datetime(2024, 6, 4, 7, 59, 59, 999999, tzinfo=BERLIN),
        dt.datetime(2024, 6, 4, 8, 0, tzinfo=BERLIN),
        dt.datetime(2024, 6, 4, 16, 59, 59, 999999, tzinfo=BERLIN),
        dt.datetime(2024, 6, 4, 17, 0, tzinfo=BERLIN),
        dt.datetime(2024, 6, 4, 19, 59, 59, 999999, tzinfo=BERLIN),
        dt.datetime(2024, 6, 4, 20, 0, tzinfo=BERLIN),
        dt.datetime(2024, 6, 8, 12, 0, tzinfo=BERLIN),  # a Saturday
        dt.datetime(2024, 10, 3, 12, 0, tzinfo=BERLIN),  # a public holiday in DE
        dt.datetime(2024, 3, 31, 12, 0, tzinfo=BERLIN),  # a DST-change day
        dt.datetime(2024, 6, 4, 6, 0, tzinfo=dt.UTC),
    ],
)
def test_opening_hours_agree_with_and_without_explanations(
    demo: RoutingConfig, make_request: MakeRequest, now: dt.datetime
) -> None:
    # Alternating days moves each calendar's cached day back and forth.
    for when in (now, NOW, now):
        for amount in ("100", "80000"):
            req = make_request(amount, debtor_country="DE", creditor_country="DE")
            assert _facts(decide(req, demo, Snapshot(), when, explain=False)) == _facts(
                decide(req, demo, Snapshot(), when, explain=True)
            )


def test_now_is_converted_only_for_rails_with_hours_or_cycles(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    req = make_request("100", product="ecommerce", debtor_country="DE", creditor_country="DE")
    always_open = ("card", "instant")  # fixed latencies too
    ev = _evaluation(req, demo)
    assert [s[2] for s in ev.rank_units(always_open, True, {})] == ["instant", "card"]
    assert ev.now_ts is None
    ev.rank_units(("rtgs",), True, {})
    assert ev.now_ts == NOW.timestamp()


def test_a_shapes_rows_are_its_rails_terms(demo: RoutingConfig, make_request: MakeRequest) -> None:
    req = make_request("100", "CNY", debtor_country="CN", creditor_country="CN")
    cc = demo.compiled
    shape = cc.shapes.of(req)
    rows = shape.rows(cc.ids)
    assert [row[0] for row in rows] == list(shape.rails(cc.ids))
    for ch, name, order, *terms, cap_amount, cap_count, cal, latency, penalties in rows:
        assert (name, order) == (ch.id, ch.order)
        assert tuple(terms) == ch.terms["CNY"]
        assert (cap_amount, cap_count) == (ch.cap_amount, ch.cap_count)
        assert cal is (None if ch.calendar.always_open else ch.calendar)
        assert latency is ch.latency and penalties is ch.penalty_units
    assert shape.rows(cc.ids) is rows  # memoized per list of names


def test_integer_ranking_keeps_each_fitting_rails_score_as_its_fit(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    req = make_request("2500", debtor_country="DE", creditor_country="DE")
    cc = demo.compiled
    ev = _evaluation(req, demo)
    ranked = ev.rank_units(cc.ids, True, {})
    assert ranked
    for scored in ranked:
        # One tuple per fit: what a later rule or a straight-through channel reads back.
        assert ev.check(cc.by_id[scored[2]]) is scored
        assert ev.score(cc.by_id[scored[2]], scored) is scored
    passed = {s[2] for s in ranked}
    assert all(ev.fits.get(ch.id) is None for ch in cc.channels if ch.id not in passed)


@pytest.mark.parametrize("channel", ["rtgs", "instant", "batch", "card", "swift", "nope"])
def test_a_straight_through_rail_met_under_a_listed_rule_decides_as_explained(
    demo: RoutingConfig, make_request: MakeRequest, channel: str
) -> None:
    # Payroll's listed rule meets batch and instant unscored; the straight-through channel
    # is then read back from what that rule left.
    for amount in ("100", "60000", "250000"):
        req = make_request(
            amount, product="payroll", debtor_country="DE", creditor_country="DE"
        ).model_copy(update={"channel": channel})
        assert _facts(decide(req, demo, Snapshot(), NOW, explain=False)) == _facts(
            decide(req, demo, Snapshot(), NOW, explain=True)
        )
