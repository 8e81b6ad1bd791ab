"""The planner caps every merge at the smallest per-payment maximum of its rule's rails."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from paygate.merging import (
    MergeCandidate,
    MergeConfig,
    MergeRule,
    MergeWindow,
    merge_amount_cap,
    next_wakeup,
    plan_merges,
)

NOW = datetime(2024, 6, 3, 10, 5, tzinfo=UTC)


def rule(**kw: object) -> MergeRule:
    base: dict[str, object] = {
        "id": "r",
        "max_item_amount": Decimal("1000"),
        "channels": ("batch", "instant"),
        "window": MergeWindow(every_minutes=10),
    }
    base.update(kw)
    return MergeRule.model_validate(base)


def item(pid: str, amount: str, minutes_ago: int = 30, currency: str = "EUR") -> MergeCandidate:
    return MergeCandidate(
        payment_id=pid,
        client="c",
        creditor_account="ACC",
        currency=currency,
        amount=Decimal(amount),
        received_at=NOW - timedelta(minutes=minutes_ago),
    )


def test_cap_is_the_smallest_rail_maximum_in_the_currency() -> None:
    limits = {("batch", "EUR"): Decimal("500"), ("instant", "EUR"): Decimal("300")}
    assert merge_amount_cap(rule(), "EUR", limits) == Decimal("300")
    assert merge_amount_cap(rule(), "JPY", limits) is None
    assert merge_amount_cap(rule(close_early_at_amount=Decimal("1000")), "JPY", limits) == 1000
    assert merge_amount_cap(rule(close_early_at_amount=Decimal("1000")), "EUR", limits) == 300
    assert merge_amount_cap(rule(), "EUR", None) is None


def test_merges_split_at_the_rail_maximum_and_oversized_items_go_alone() -> None:
    config = MergeConfig(version="1", rules=(rule(),))
    items = [item("a", "200"), item("b", "200"), item("c", "100"), item("d", "400")]
    limits = {("batch", "EUR"): Decimal("500"), ("instant", "EUR"): Decimal("350")}
    plan = plan_merges(items, config, NOW, limits)
    assert plan.individual == ["d"]
    assert [m.items for m in plan.merges] == [["a"], ["b", "c"]]
    assert all(m.total <= Decimal("350") for m in plan.merges)
    # Without limits the same items make one merge.
    assert [m.items for m in plan_merges(items, config, NOW).merges] == [["a", "b", "c", "d"]]


RAILS = ("batch", "instant", "rtgs")


@settings(max_examples=150, deadline=None)
@given(
    amounts=st.lists(st.integers(1, 100_000), max_size=40),
    ages=st.lists(st.integers(-2, 60), min_size=40, max_size=40),
    currencies=st.lists(st.sampled_from(["EUR", "JPY"]), min_size=40, max_size=40),
    channels=st.sets(st.sampled_from(RAILS), min_size=1),
    limits=st.dictionaries(
        st.tuples(st.sampled_from(RAILS), st.sampled_from(["EUR", "JPY"])),
        st.integers(1, 2_000).map(Decimal),
    ),
    amount_cap=st.none() | st.integers(1_000, 3_000).map(Decimal),
    items_cap=st.none() | st.integers(2, 8),
)
def test_no_merge_exceeds_a_rail_maximum(
    amounts: list[int],
    ages: list[int],
    currencies: list[str],
    channels: set[str],
    limits: dict[tuple[str, str], Decimal],
    amount_cap: Decimal | None,
    items_cap: int | None,
) -> None:
    r = rule(
        channels=tuple(sorted(channels)),
        close_early_at_amount=amount_cap,
        close_early_at_items=items_cap,
    )
    config = MergeConfig(version="1", rules=(r,))
    items = [
        item(f"p{i:02d}", str(Decimal(a).scaleb(-2)), ages[i], currencies[i])
        for i, a in enumerate(amounts)
    ]
    by_id = {i.payment_id: i for i in items}
    plan = plan_merges(items, config, NOW, limits)
    placed = [p for m in plan.merges for p in m.items] + plan.waiting + plan.individual
    assert Counter(placed) == Counter(list(by_id))
    for m in plan.merges:
        for channel in r.channels:
            limit = limits.get((channel, m.currency))
            assert limit is None or m.total <= limit
        assert m.total == sum((by_id[p].amount for p in m.items), Decimal(0))
    for p in plan.individual:
        # Only an item no rail of the rule could carry merged is paid alone.
        cap = merge_amount_cap(r, by_id[p].currency, limits)
        assert cap is not None and by_id[p].amount > cap
    wakeup = next_wakeup(items, config, NOW, limits)
    assert (wakeup is None) == (not plan.waiting)
