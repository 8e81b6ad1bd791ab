"""Hypothesis on the pure merge planner: (items, rules, now) → plan.

Whatever the input, a plan never assigns an item twice, never exceeds a cap, never holds
an item past its deadline or cut-off, keeps payees and currencies apart, and conserves
amounts per currency.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from paygate.merging import (
    MergeCandidate,
    MergeConfig,
    MergeMatch,
    MergeRule,
    MergeWindow,
    eligible_rule,
    last_boundary,
    next_boundary,
    next_wakeup,
    plan_merges,
    rule_accepts,
)

BASE = datetime(2024, 10, 26, 22, 0, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "Asia/Shanghai", "America/New_York", "Asia/Kolkata"]
CURRENCIES = ["EUR", "JPY"]
ACCOUNTS = ["ACC1", "ACC2"]
CLIENTS = ["c1", "c2"]

windows = st.one_of(
    st.builds(
        MergeWindow,
        every_minutes=st.sampled_from([1, 5, 7, 10, 30, 60, 1440]),
        timezone=st.sampled_from(ZONES),
    ),
    st.builds(
        MergeWindow,
        at=st.sets(
            st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
            min_size=1,
            max_size=3,
        ).map(tuple),
        timezone=st.sampled_from(ZONES),
    ),
)


@st.composite
def rules(draw: st.DrawFn, rule_id: str) -> MergeRule:
    max_item = Decimal(draw(st.sampled_from([50, 100, 1000])))
    amount_cap = draw(st.none() | st.sampled_from([1, 2, 5]).map(lambda k: max_item * k))
    return MergeRule(
        id=rule_id,
        match=MergeMatch(
            currency=draw(st.none() | st.sampled_from(CURRENCIES)),
            creditor_accounts=frozenset(draw(st.sets(st.sampled_from(ACCOUNTS), max_size=2))),
        ),
        max_item_amount=max_item,
        channels=("batch",),
        window=draw(windows),
        close_early_at_items=draw(st.none() | st.integers(2, 6)),
        close_early_at_amount=amount_cap,
        safety_margin_minutes=draw(st.integers(0, 30)),
        split_by_client=draw(st.booleans()),
    )


@st.composite
def configs(draw: st.DrawFn) -> MergeConfig:
    count = draw(st.integers(1, 3))
    return MergeConfig(version="p", rules=tuple(draw(rules(f"r{i}")) for i in range(count)))


RULE_IDS = [None, "r0", "r1", "gone"]
# Client, payee, currency and intake rule folded into one draw: generation, not planning,
# is what costs time here.
KINDS = [
    (client, account, currency, rule_id)
    for client in CLIENTS
    for account in ACCOUNTS
    for currency in CURRENCIES
    for rule_id in RULE_IDS
]
# Half the items share two kinds, so buckets fill up and caps bite.
kinds = st.integers(0, 1) | st.integers(0, len(KINDS) - 1)
# Amounts around the thresholds (50, 100, 1000) and caps, plus anything up to 1500.
cents = st.sampled_from([1, 2500, 3000, 4999, 5000, 5001, 9999, 10000, 60000, 99999, 100000])
cents = cents | st.integers(1, 150_000)
# Bounds as whole minutes from ``now``: boundaries and margins are whole minutes, so a
# deadline exactly on "next boundary + margin" is drawn often.
bounds = st.none() | st.integers(-30, 90) | st.integers(-3000, 3000)
# Arrival in seconds before (or, for a skewed clock, after) ``now``.
arrivals = st.integers(-120, 5).map(lambda m: m * 60) | st.integers(-3 * 24 * 3600, 600)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[MergeCandidate], datetime]:
    # Within hours of the 2024 autumn change in Europe, to cross a repeated hour.
    now = BASE + timedelta(
        minutes=draw(st.integers(-180, 360)), seconds=draw(st.sampled_from([0, 30]))
    )
    raws = draw(st.lists(st.tuples(kinds, cents, arrivals, bounds, bounds), max_size=40))
    items = []
    for index, (kind, amount, arrival, deadline, cutoff) in enumerate(raws):
        client, account, currency, rule_id = KINDS[kind]
        items.append(
            MergeCandidate(
                payment_id=f"p{index:03d}",
                client=client,
                creditor_account=account,
                currency=currency,
                amount=Decimal(amount).scaleb(-2),
                received_at=now + timedelta(seconds=arrival),
                deadline=None if deadline is None else now + timedelta(minutes=deadline),
                cutoff=None if cutoff is None else now + timedelta(minutes=cutoff),
                rule_id=rule_id,
            )
        )
    return items, now


def rule_of(item: MergeCandidate, config: MergeConfig) -> MergeRule | None:
    # The documented choice: the intake rule while it still accepts the item, else afresh.
    named = config.rule(item.rule_id) if item.rule_id else None
    if named is not None and rule_accepts(named, item):
        return named
    return eligible_rule(item, config)


@settings(max_examples=200, deadline=None)
@given(scenario=scenarios(), config=configs(), seed=st.integers(0, 2**16))
def test_planner_invariants(
    scenario: tuple[list[MergeCandidate], datetime], config: MergeConfig, seed: int
) -> None:
    items, now = scenario
    plan = plan_merges(items, config, now)
    by_id = {i.payment_id: i for i in items}

    # Every item exactly once: in one merge, waiting, or paid individually.
    placed = [p for m in plan.merges for p in m.items] + plan.waiting + plan.individual
    assert Counter(placed) == Counter(i.payment_id for i in items)

    # Amounts conserved per currency, and each merge's total is the sum of its items.
    given_sums: dict[str, Decimal] = defaultdict(Decimal)
    for i in items:
        given_sums[i.currency] += i.amount
    planned_sums: dict[str, Decimal] = defaultdict(Decimal)
    for m in plan.merges:
        assert m.total == sum((by_id[p].amount for p in m.items), Decimal(0))
        planned_sums[m.currency] += m.total
    for p in plan.waiting + plan.individual:
        planned_sums[by_id[p].currency] += by_id[p].amount
    assert planned_sums == given_sums

    for m in plan.merges:
        rule = config.rule(m.rule_id)
        assert rule is not None and m.items
        members = [by_id[p] for p in m.items]
        # One rule, one payee, one currency (and one client when the rule splits by client).
        assert all(rule_of(i, config) is rule for i in members)
        assert {(i.creditor_account, i.currency) for i in members} == {
            (m.creditor_account, m.currency)
        }
        if rule.split_by_client:
            assert {i.client for i in members} == {m.client}
        # Caps are never exceeded.
        if rule.close_early_at_items is not None:
            assert len(m.items) <= rule.close_early_at_items
        if rule.close_early_at_amount is not None:
            assert m.total <= rule.close_early_at_amount

    buckets: dict[str, list[MergeCandidate]] = defaultdict(list)
    for p in plan.waiting:
        waiting = by_id[p]
        rule = rule_of(waiting, config)
        assert rule is not None
        # Never held past a bound: it must still be ahead after the next boundary + margin.
        hold_until = next_boundary(rule.window, now) + timedelta(minutes=rule.safety_margin_minutes)
        for bound in (waiting.deadline, waiting.cutoff):
            assert bound is None or bound > hold_until
        # Nothing waits in a bucket whose window is due.
        assert waiting.received_at >= last_boundary(rule.window, now)
        client = waiting.client if rule.split_by_client else None
        buckets[f"{rule.id}|{client}|{waiting.creditor_account}|{waiting.currency}"].append(waiting)
    for rule_id_key, held in buckets.items():
        rule = config.rule(rule_id_key.split("|", 1)[0])
        assert rule is not None
        # What waits is less than a full merge.
        if rule.close_early_at_items is not None:
            assert len(held) < rule.close_early_at_items
        if rule.close_early_at_amount is not None:
            assert sum(i.amount for i in held) < rule.close_early_at_amount

    # Items paid individually are those no current rule accepts.
    for p in plan.individual:
        assert rule_of(by_id[p], config) is None

    # Deterministic: the order the engine happened to read the items in does not matter.
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    assert plan_merges(shuffled, config, now) == plan

    wakeup = next_wakeup(items, config, now)
    assert (wakeup is None) == (not plan.waiting)
    if wakeup is not None:
        assert wakeup > now
        # Right up to the wake-up nothing more closes; at it, something does (unless an
        # item stamped after ``now`` by a skewed clock makes the wake-up an early one).
        just_before = plan_merges(items, config, wakeup - timedelta(microseconds=1))
        assert set(just_before.waiting) == set(plan.waiting)
        if all(by_id[p].received_at <= now for p in plan.waiting):
            assert set(plan_merges(items, config, wakeup).waiting) < set(plan.waiting)
