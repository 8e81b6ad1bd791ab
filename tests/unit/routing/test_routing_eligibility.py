"""The memoized shortcuts of the decision path agree with the plain definitions: the rule
index memo with matching every rule, the per-shape rail filter with the per-rail
constraints, and the reasonless ranking (explanations off) with the explained one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

from routing import BreakerState, ChannelState, RouteRequest, RoutingConfig, Snapshot, decide
from routing.bench import bench_config, bench_requests, bench_snapshot
from routing.eligibility import shape_reason

BERLIN = ZoneInfo("Europe/Berlin")


def test_matching_rules_equals_matching_every_rule() -> None:
    cc = bench_config().compiled
    for req in bench_requests(512):
        for variant in (req, req.model_copy(update={"amount": Decimal("0.01"), "merged": True})):
            expected = [rule.id for rule in cc.rules if rule.match.matches(variant)]
            assert [rule.id for rule in cc.matching_rules(variant)] == expected


def test_shape_allows_exactly_the_rails_whose_static_constraints_hold(
    demo: RoutingConfig, make_request: Callable[..., RouteRequest]
) -> None:
    cc = demo.compiled
    cases = {
        "domestic EUR": make_request(debtor_country="DE", creditor_country="DE"),
        "cross-border CNY, no LEI": make_request(
            currency="CNY", debtor_country="CN", creditor_country="US"
        ),
        "cross-border CNY with LEI": make_request(
            currency="CNY", debtor_country="CN", creditor_country="US", lei_present=True
        ),
        "merged CNY": make_request(currency="CNY", merged=True),
        "GBP": make_request(currency="GBP", debtor_country="GB", creditor_country="FR"),
    }
    allowed = {name: cc.shapes.of(req).passes for name, req in cases.items()}
    assert allowed == {
        "domestic EUR": {"rtgs", "batch", "instant", "card"},
        "cross-border CNY, no LEI": {"swift"},
        "cross-border CNY with LEI": {"cips", "swift"},
        "merged CNY": {"batch", "citybank"},
        "GBP": {"swift"},
    }
    for req in cases.values():
        shape = cc.shapes.of(req)
        for ch in cc.channels:
            static_ok = req.currency in ch.currencies and (
                shape_reason(
                    ch, req.debtor_country, req.creditor_country, req.merged, req.lei_present
                )
                is None
            )
            assert (ch.id in shape.passes) == static_ok
        # The rails of a rule's list keep the list's order.
        names = tuple(reversed([c.id for c in cc.channels]))
        assert [ch.id for ch in shape.rails(names)] == [n for n in names if n in shape.passes]


def test_explained_and_quiet_decisions_agree() -> None:
    config = bench_config()
    base = dt.datetime(2024, 6, 4, 9, 0, tzinfo=BERLIN)
    times = [base + dt.timedelta(minutes=49 * k) for k in range(10)]
    times.append(dt.datetime(2024, 10, 27, 2, 30, tzinfo=BERLIN))  # a DST-change day
    strained = Snapshot(
        {
            "rtgs": ChannelState(breaker=BreakerState.OPEN),
            "instant": ChannelState(position=Decimal(20_000), protection=Decimal(5_000)),
            "card": ChannelState(used_amount_today=Decimal(4_990_000), success_rate=0.9),
            "swift": ChannelState(breaker=BreakerState.HALF_OPEN, success_rate=0.8),
        }
    )
    for snapshot in (bench_snapshot(), strained):
        for i, req in enumerate(bench_requests(256)):
            if i % 5 == 0:
                req = req.model_copy(update={"deadline": base + dt.timedelta(minutes=40)})
            for now in times:
                quiet = decide(req, config, snapshot, now, explain=False)
                explained = decide(req, config, snapshot, now, explain=True)
                explained.verdicts = []
                assert quiet == explained
