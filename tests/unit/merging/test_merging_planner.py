"""The planner on hand-made cases: windows, caps, deadline and cut-off release, keys."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from paygate.merging import (
    MergeCandidate,
    MergeConfig,
    MergeMatch,
    MergeRule,
    MergeWindow,
    merge_key,
    next_wakeup,
    plan_merges,
)

T0 = datetime(2024, 6, 3, 10, 0, tzinfo=UTC)  # a 10-minute boundary


def rule(**overrides: object) -> MergeRule:
    fields: dict[str, object] = {
        "id": "r",
        "max_item_amount": Decimal("1000"),
        "channels": ("batch",),
        "window": MergeWindow(every_minutes=10),
    }
    fields.update(overrides)
    return MergeRule(**fields)


def config(*rules: MergeRule) -> MergeConfig:
    return MergeConfig(version="t", rules=rules or (rule(),))


def item(pid: str, minute: float = 1, amount: str = "10", **overrides: object) -> MergeCandidate:
    fields: dict[str, object] = {
        "payment_id": pid,
        "client": "c1",
        "creditor_account": "ACC1",
        "currency": "EUR",
        "amount": Decimal(amount),
        "received_at": T0 + timedelta(minutes=minute),
        "rule_id": "r",
    }
    fields.update(overrides)
    return MergeCandidate(**fields)  # type: ignore[arg-type]


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def test_nothing_closes_before_the_window_boundary() -> None:
    items = [item("a", 1), item("b", 3)]
    plan = plan_merges(items, config(), at(9.99))
    assert plan.merges == [] and plan.waiting == ["a", "b"]
    assert next_wakeup(items, config(), at(9.99)) == at(10)


def test_due_window_takes_the_whole_bucket_in_arrival_order() -> None:
    # "b" arrived after the 10:10 boundary but before the scheduler looked: it goes too.
    items = [item("b", 10.5, "2.50"), item("a", 1, "7.25")]
    plan = plan_merges(items, config(), at(11))
    (merge,) = plan.merges
    assert merge.items == ["a", "b"] and merge.total == Decimal("9.75")
    assert merge.reason == "window_due" and plan.waiting == []
    assert merge.merge_key == merge_key("r", "c1", "ACC1", "EUR") == "r|c1|ACC1|EUR"
    assert next_wakeup(items, config(), at(11)) is None


def test_an_item_arriving_exactly_on_a_boundary_waits_for_the_next_one() -> None:
    plan = plan_merges([item("a", 10)], config(), at(10))
    assert plan.waiting == ["a"]
    assert plan_merges([item("a", 10)], config(), at(20)).merges[0].reason == "window_due"


def test_different_payees_currencies_clients_and_rules_never_share_a_merge() -> None:
    other = rule(id="s", match=MergeMatch(products=frozenset({"x"})))
    items = [
        item("a"),
        item("b", creditor_account="ACC2"),
        item("c", currency="USD"),
        item("d", client="c2"),
        item("e", rule_id="s", product="x"),
        item("f"),
    ]
    plan = plan_merges(items, config(rule(), other), at(15))
    groups = sorted(m.items for m in plan.merges)
    assert groups == [["a", "f"], ["b"], ["c"], ["d"], ["e"]]


def test_rule_may_merge_across_clients() -> None:
    items = [item("a", client="c1"), item("b", client="c2")]
    plan = plan_merges(items, config(rule(split_by_client=False)), at(15))
    (merge,) = plan.merges
    assert merge.items == ["a", "b"] and merge.client is None
    assert merge.merge_key == "r|*|ACC1|EUR"


def test_items_cap_closes_early_and_splits_a_full_bucket() -> None:
    items = [item(f"p{i}", 1 + i / 10) for i in range(7)]
    plan = plan_merges(items, config(rule(close_early_at_items=3)), at(5))
    assert [(m.items, m.reason) for m in plan.merges] == [
        (["p0", "p1", "p2"], "items_cap"),
        (["p3", "p4", "p5"], "items_cap"),
    ]
    assert plan.waiting == ["p6"]
    # Once the window is due, everything goes, still within the cap.
    due = plan_merges(items, config(rule(close_early_at_items=3)), at(15))
    assert [len(m.items) for m in due.merges] == [3, 3, 1]
    assert {m.reason for m in due.merges} == {"window_due"}


def test_amount_cap_never_exceeded_and_closes_when_next_item_would_overflow() -> None:
    amounts = ["40", "50", "30", "100", "5"]
    items = [item(f"p{i}", 1 + i / 10, a) for i, a in enumerate(amounts)]
    capped = rule(max_item_amount=Decimal("100"), close_early_at_amount=Decimal("100"))
    plan = plan_merges(items, config(capped), at(5))
    assert [(m.items, m.total, m.reason) for m in plan.merges] == [
        (["p0", "p1"], Decimal("90"), "amount_cap"),  # +30 would be 120
        (["p2"], Decimal("30"), "amount_cap"),  # +100 would be 130
        (["p3"], Decimal("100"), "amount_cap"),  # exactly at the cap: full
    ]
    assert plan.waiting == ["p4"]


def test_deadline_that_waiting_would_miss_releases_the_bucket_now() -> None:
    # Next boundary 10:10, margin 2 min: a deadline at or before 10:12 cannot wait.
    items = [item("a", 1), item("b", 2, deadline=at(12))]
    plan = plan_merges(items, config(), at(3))
    (merge,) = plan.merges
    assert merge.items == ["a", "b"] and merge.reason == "deadline"
    kept = [item("a", 1), item("b", 2, deadline=at(12) + timedelta(seconds=1))]
    assert plan_merges(kept, config(), at(3)).waiting == ["a", "b"]


def test_cutoff_and_safety_margin_are_per_rule() -> None:
    strict = rule(safety_margin_minutes=30)
    items = [item("a", 1, cutoff=at(35))]
    assert plan_merges(items, config(strict), at(3)).merges[0].reason == "cutoff"
    assert plan_merges(items, config(rule()), at(3)).waiting == ["a"]


def test_earliest_bound_names_the_reason() -> None:
    items = [item("a", 1, deadline=at(11), cutoff=at(5)), item("b", 2, deadline=at(4))]
    assert plan_merges(items, config(), at(3)).merges[0].reason == "deadline"
    items = [item("a", 1, deadline=at(11), cutoff=at(3.5))]
    assert plan_merges(items, config(), at(3)).merges[0].reason == "cutoff"


def test_past_deadline_is_released_immediately() -> None:
    plan = plan_merges([item("a", 1, deadline=at(0))], config(), at(3))
    assert plan.merges[0].items == ["a"] and plan.merges[0].reason == "deadline"


def test_only_the_open_chunk_holding_the_urgent_item_is_released() -> None:
    items = [item(f"p{i}", 1 + i / 10) for i in range(4)] + [item("u", 2, deadline=at(4))]
    plan = plan_merges(items, config(rule(close_early_at_items=3)), at(3))
    assert [(m.items, m.reason) for m in plan.merges] == [
        (["p0", "p1", "p2"], "items_cap"),
        (["p3", "u"], "deadline"),
    ]
    assert plan.waiting == []


def test_fixed_time_window_is_due_after_the_latest_time_since_arrival() -> None:
    window = MergeWindow(at=(time(11, 30), time(16, 0)), timezone="Asia/Shanghai")
    cfg = config(rule(window=window))
    # Shanghai is UTC+8: 11:30 local = 03:30 UTC, 16:00 local = 08:00 UTC.
    arrived = datetime(2024, 6, 3, 4, 0, tzinfo=UTC)
    items = [item("a", received_at=arrived)]
    assert plan_merges(items, cfg, datetime(2024, 6, 3, 7, 59, tzinfo=UTC)).waiting == ["a"]
    assert next_wakeup(items, cfg, arrived) == datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
    assert plan_merges(items, cfg, datetime(2024, 6, 3, 8, 0, tzinfo=UTC)).merges


def test_items_no_rule_accepts_any_more_are_paid_individually() -> None:
    items = [
        item("gone", rule_id="deleted"),
        item("big", amount="5000"),  # above the threshold under the current rules
        item("moved", rule_id="deleted", product="x"),
    ]
    narrow = rule(id="s", match=MergeMatch(products=frozenset({"x"})))
    plan = plan_merges(items, config(narrow), at(15))
    assert plan.individual == ["big", "gone"]
    assert [(m.rule_id, m.items) for m in plan.merges] == [("s", ["moved"])]


def test_rule_is_chosen_when_the_candidate_names_none() -> None:
    plan = plan_merges([item("a", rule_id=None)], config(), at(15))
    assert plan.merges[0].rule_id == "r"


def test_plan_is_independent_of_input_order() -> None:
    items = [item(f"p{i}", i % 4, str(i + 1), creditor_account=f"A{i % 3}") for i in range(12)]
    cfg = config(rule(close_early_at_items=2))
    assert plan_merges(items, cfg, at(5)) == plan_merges(list(reversed(items)), cfg, at(5))


def test_items_stamped_after_now_wait_for_a_boundary_after_their_stamp() -> None:
    plan = plan_merges([item("a", 12)], config(), at(11))
    assert plan.waiting == ["a"]
    assert next_wakeup([item("a", 12)], config(), at(11)) == at(20)


def test_duplicate_payment_ids_and_naive_now_are_refused() -> None:
    with pytest.raises(ValueError, match="appears twice"):
        plan_merges([item("a"), item("a")], config(), at(15))
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_merges([], config(), datetime(2024, 6, 3))
