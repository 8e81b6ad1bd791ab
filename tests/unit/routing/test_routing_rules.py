"""One test (at least) per rule kind, on the demo configuration."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from routing import (
    STRAIGHT_THROUGH,
    BreakerState,
    ChannelState,
    RoutingConfig,
    Snapshot,
    decide,
    load_config_text,
)
from tests.unit.routing.routing_demo import DEMO, TUESDAY_10, MakeRequest

FRESH = Snapshot()


def test_default_scores_cheapest_rail_for_small_eur(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    d = decide(make_request("1000"), demo, FRESH, TUESDAY_10)
    assert d.channel == "batch"
    assert d.fee == Decimal("0.20")
    assert d.rule == "default"
    assert d.fallbacks == ["instant", "rtgs", "card"]


def test_default_moves_to_instant_then_rtgs_as_amount_grows(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    assert decide(make_request("80000"), demo, FRESH, TUESDAY_10).channel == "instant"
    big = decide(make_request("500000"), demo, FRESH, TUESDAY_10)
    assert big.channel == "rtgs"
    assert big.fallbacks == []


def test_designated_route_uses_channel_then_fallback(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    req = make_request("100", product="payroll")
    assert decide(req, demo, FRESH, TUESDAY_10).channel == "batch"
    broken = Snapshot({"batch": ChannelState(breaker=BreakerState.OPEN)})
    d = decide(req, demo, broken, TUESDAY_10)
    assert (d.channel, d.rule) == ("instant", "payroll-on-batch")


def test_designated_route_ignores_score(demo: RoutingConfig, make_request: MakeRequest) -> None:
    # Above the batch maximum the designated chain goes to instant even though a
    # cheaper-scoring rail might exist: designated means "this rail, in this order".
    d = decide(make_request("60000", product="payroll"), demo, FRESH, TUESDAY_10)
    assert d.channel == "instant"
    assert d.fallbacks == []


def test_whitelist_routes_listed_bic_only(demo: RoutingConfig, make_request: MakeRequest) -> None:
    listed = make_request("100", "CNY", creditor_agent_bic="BKSHCNSHXXX")
    other = make_request("100", "CNY", creditor_agent_bic="ICBKCNBJXXX")
    assert decide(listed, demo, FRESH, TUESDAY_10).rule == "city-partners"
    assert decide(listed, demo, FRESH, TUESDAY_10).channel == "citybank"
    assert decide(other, demo, FRESH, TUESDAY_10).rule == "default"


def test_exclusive_whitelist_reserves_the_rail(make_request: MakeRequest) -> None:
    text = DEMO.read_text().replace(
        "creditor_agent_bics: [BKSHCNSHXXX, HZCBCN2HXXX]",
        "creditor_agent_bics: [BKSHCNSHXXX, HZCBCN2HXXX]\n    exclusive: true",
    )
    config = load_config_text(text)
    other = make_request("100", "CNY", creditor_agent_bic="ICBKCNBJXXX")
    d = decide(other, config, FRESH, TUESDAY_10)
    assert d.channel != "citybank"
    verdict = {v.channel: v for v in d.verdicts}["citybank"]
    assert verdict.dropped_because == "reserved for the whitelist of rule 'city-partners'"


def test_product_route_scores_among_its_channels(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    d = decide(make_request("100", product="ecommerce"), demo, FRESH, TUESDAY_10)
    assert (d.channel, d.rule, d.fallbacks) == ("instant", "ecommerce-product", ["card"])
    outside = {v.channel: v for v in d.verdicts}["batch"]
    assert (
        outside.eligible and outside.dropped_because == "not a channel of rule 'ecommerce-product'"
    )


def test_exclusion_removes_channels_wherever_it_stands(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    d = decide(make_request("1000", product="treasury"), demo, FRESH, TUESDAY_10)
    assert d.channel == "instant"  # batch would be cheapest but is excluded
    verdicts = {v.channel: v for v in d.verdicts}
    assert verdicts["batch"].dropped_because == "excluded by rule 'no-card-for-treasury'"
    assert verdicts["card"].eligible is False


def test_condition_on_priority(demo: RoutingConfig, make_request: MakeRequest) -> None:
    d = decide(make_request("100", priority="urgent"), demo, FRESH, TUESDAY_10)
    assert (d.channel, d.rule) == ("instant", "urgent-fast-rails")
    big = decide(make_request("200000", priority="urgent"), demo, FRESH, TUESDAY_10)
    assert big.channel == "rtgs"


def test_condition_listed_order_is_a_priority_chain(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    req = make_request(
        "5000000", "CNY", debtor_country="CN", creditor_country="SG", lei_present=True
    )
    d = decide(req, demo, FRESH, TUESDAY_10)
    # cips (200.00, capped) is listed first even where swift would also be capped at 150.00.
    assert (d.channel, d.fee, d.fallbacks) == ("cips", Decimal("200.00"), ["swift"])
    no_lei = decide(req.model_copy(update={"lei_present": False}), demo, FRESH, TUESDAY_10)
    assert no_lei.channel == "swift"


def test_split_is_sticky_and_near_its_shares(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    picks = Counter()
    for i in range(2000):
        req = make_request("100", product="supplier", payment_id=f"sup-{i}")
        first = decide(req, demo, FRESH, TUESDAY_10, explain=False).channel
        again = decide(req, demo, FRESH, TUESDAY_10, explain=False).channel
        assert first == again
        picks[first] += 1
    assert set(picks) == {"instant", "rtgs"}
    assert abs(picks["instant"] / 2000 - 0.70) < 0.04


def test_split_falls_back_to_other_share(demo: RoutingConfig, make_request: MakeRequest) -> None:
    down = Snapshot({"instant": ChannelState(breaker=BreakerState.OPEN)})
    for i in range(50):
        d = decide(
            make_request("100", product="supplier", payment_id=f"x{i}"), demo, down, TUESDAY_10
        )
        assert (d.channel, d.rule) == ("rtgs", "supplier-split")


def test_rule_without_fallthrough_leaves_payment_unrouted(make_request: MakeRequest) -> None:
    text = DEMO.read_text().replace(
        "    channel: batch\n    fallbacks: [instant]",
        "    channel: batch\n    fallthrough: false",
    )
    config = load_config_text(text)
    d = decide(make_request("60000", product="payroll"), config, FRESH, TUESDAY_10)
    assert d.channel is None
    assert d.rule == "payroll-on-batch"
    assert "batch: amount 60000 EUR above its maximum 50000" in d.reason


def test_straight_through_honoured_only_if_eligible(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    d = decide(make_request("1000", channel="rtgs"), demo, FRESH, TUESDAY_10)
    assert (d.channel, d.rule) == ("rtgs", STRAIGHT_THROUGH)
    assert d.fallbacks[0] == "batch"
    bad = decide(make_request("1000", channel="citybank"), demo, FRESH, TUESDAY_10)
    assert bad.channel == "batch"
    assert bad.reason == "straight-through channel citybank not eligible: does not carry EUR"


def test_no_rules_scores_every_rail(demo: RoutingConfig, make_request: MakeRequest) -> None:
    bare = demo.model_copy(update={"rules": []})
    d = decide(make_request("100", product="payroll"), bare, FRESH, TUESDAY_10)
    assert d.rule is None
    assert d.channel == "batch"


def test_explain_off_gives_same_choice_without_verdicts(
    demo: RoutingConfig, make_request: MakeRequest
) -> None:
    req = make_request("2500", priority="high")
    on = decide(req, demo, FRESH, TUESDAY_10)
    off = decide(req, demo, FRESH, TUESDAY_10, explain=False)
    assert (on.channel, on.fallbacks, on.fee, on.rule) == (
        off.channel,
        off.fallbacks,
        off.fee,
        off.rule,
    )
    assert off.verdicts == [] and len(on.verdicts) == 7


def test_decision_to_dict_is_json_ready(demo: RoutingConfig, make_request: MakeRequest) -> None:
    import json

    data = decide(make_request("10"), demo, FRESH, TUESDAY_10).to_dict()
    assert json.loads(json.dumps(data))["fee"] == "0.20"
    assert [v["channel"] for v in data["verdicts"]][:2] == ["rtgs", "batch"]
