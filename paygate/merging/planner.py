"""The merge planner: pending items + rules + ``now`` → which merges to close now.

Pure and deterministic: the same items in any order give the same plan. The engine runs
it under an advisory lock per merge key, commits the merges it returns, and sleeps until
``next_wakeup``.

What closes a bucket (all items sharing rule, client when the rule splits by client,
payee account and currency):

1. **Its window is due**: a boundary of the rule's window has passed since its oldest
   item arrived. Every item in the bucket goes.
2. **A cap is reached**: items are taken oldest first; a merge closes as soon as it holds
   ``close_early_at_items`` items or ``close_early_at_amount`` in total, or the next item
   would push it over the amount cap. Full merges go now, window or not.
3. **A deadline or cut-off would be missed**: if waiting for the next boundary (plus the
   rule's safety margin) would pass an item's deadline or its rail's cut-off, that item's
   merge goes now. This bound always wins.

Whatever does not close waits. Items no current rule accepts (the configuration changed
since intake) are returned in ``individual`` for the engine to pay one by one.

**Rail maxima** (``rail_max``, optional data derived from the routing configuration by the
engine: ``(rail, currency) → per-payment maximum``): a merge is one channel payment, so its
total must not exceed the smallest maximum among its rule's rails in its currency. That
maximum acts as an amount cap (tightening ``close_early_at_amount``); an item larger than it
on its own can never be merged and goes to ``individual``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from paygate.merging.rules import MergeConfig, MergeRule, eligible_rule, rule_accepts
from paygate.merging.windows import last_boundary, next_boundary, require_aware

MergeReason = Literal["window_due", "items_cap", "amount_cap", "deadline", "cutoff"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeCandidate:
    """One pending payment as the planner sees it.

    ``cutoff`` is the rail's cut-off the item must make; ``rule_id`` is the rule chosen at
    intake (``None``: let the planner choose). ``payee_id`` is optional, for rules that
    name payees by id rather than account.
    """

    payment_id: str
    client: str
    product: str | None = None
    business_category: str | None = None
    creditor_account: str
    creditor_name: str = ""
    currency: str
    amount: Decimal
    received_at: datetime
    deadline: datetime | None = None
    cutoff: datetime | None = None
    rule_id: str | None = None
    payee_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise ValueError(f"{self.payment_id}: amount must be a finite Decimal")
        if self.amount <= 0:
            raise ValueError(f"{self.payment_id}: amount must be greater than zero")
        require_aware(self.received_at, f"{self.payment_id}: received_at")
        if self.deadline is not None:
            require_aware(self.deadline, f"{self.payment_id}: deadline")
        if self.cutoff is not None:
            require_aware(self.cutoff, f"{self.payment_id}: cutoff")


@dataclass(frozen=True, slots=True)
class PlannedMerge:
    """One aggregate payment to close now. Several merges may share a ``merge_key`` when
    caps split a bucket."""

    merge_key: str
    rule_id: str
    client: str | None
    currency: str
    creditor_account: str
    items: list[str]
    total: Decimal
    reason: MergeReason


@dataclass(frozen=True, slots=True)
class MergePlan:
    merges: list[PlannedMerge] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    # No rule accepts these any more (rules changed since intake): pay them one by one.
    individual: list[str] = field(default_factory=list)


BucketKey = tuple[str, str | None, str, str]
# (rail id, currency) -> the rail's per-payment maximum in that currency.
RailMax = Mapping[tuple[str, str], Decimal]


def merge_amount_cap(
    rule: MergeRule, currency: str, rail_max: RailMax | None = None
) -> Decimal | None:
    """The most one merge under ``rule`` in ``currency`` may total: the rule's
    ``close_early_at_amount`` and the smallest per-payment maximum of its rails, whichever
    is lower; ``None`` if neither bounds it."""
    cap = rule.close_early_at_amount
    if rail_max:
        for channel in rule.channels:
            limit = rail_max.get((channel, currency))
            if limit is not None and (cap is None or limit < cap):
                cap = limit
    return cap


def merge_key(rule_id: str, client: str | None, creditor_account: str, currency: str) -> str:
    """The stable text key of a bucket; ``*`` stands for "any client"."""
    return f"{rule_id}|{client if client is not None else '*'}|{creditor_account}|{currency}"


@dataclass(frozen=True, slots=True)
class _RuleClock:
    """What ``now`` means for one rule, computed once per plan rather than per item."""

    last_boundary: datetime  # latest boundary <= now: items older than it are due
    next_boundary: datetime  # when this rule's window next closes
    hold_until: datetime  # an item bound at or before this cannot wait

    @classmethod
    def at(cls, rule: MergeRule, now: datetime) -> _RuleClock:
        upcoming = next_boundary(rule.window, now)
        return cls(
            last_boundary=last_boundary(rule.window, now),
            next_boundary=upcoming,
            hold_until=upcoming + timedelta(minutes=rule.safety_margin_minutes),
        )


def _urgency(items: Sequence[MergeCandidate], hold_until: datetime) -> MergeReason | None:
    # The earliest bound among the items decides, and names itself as the reason.
    earliest: datetime | None = None
    reason: MergeReason | None = None
    for item in items:
        deadline, cutoff = item.deadline, item.cutoff
        if (
            deadline is not None
            and deadline <= hold_until
            and (earliest is None or deadline < earliest)
        ):
            earliest, reason = deadline, "deadline"
        if cutoff is not None and cutoff <= hold_until and (earliest is None or cutoff < earliest):
            earliest, reason = cutoff, "cutoff"
    return reason


def _chunks(
    items: Sequence[MergeCandidate], rule: MergeRule, max_amount: Decimal | None
) -> list[tuple[list[MergeCandidate], Decimal, MergeReason | None]]:
    """Cut a bucket (oldest first) into merges within the caps (``max_amount``: see
    ``merge_amount_cap``); the reason is the cap that closed a chunk, ``None`` for the last,
    still open one."""
    max_items = rule.close_early_at_items
    out: list[tuple[list[MergeCandidate], Decimal, MergeReason | None]] = []
    current: list[MergeCandidate] = []
    total = Decimal(0)
    for item in items:
        if current and max_amount is not None and total + item.amount > max_amount:
            out.append((current, total, "amount_cap"))
            current, total = [], Decimal(0)
        current.append(item)
        total += item.amount
        if max_items is not None and len(current) >= max_items:
            out.append((current, total, "items_cap"))
            current, total = [], Decimal(0)
        elif max_amount is not None and total >= max_amount:
            out.append((current, total, "amount_cap"))
            current, total = [], Decimal(0)
    if current:
        out.append((current, total, None))
    return out


def _rule_for(
    item: MergeCandidate, rules: dict[str, MergeRule], config: MergeConfig
) -> MergeRule | None:
    # Keep the rule chosen at intake while it still accepts the item, so a reload that only
    # adds rules does not reshuffle pending buckets; otherwise choose afresh.
    if item.rule_id is not None:
        rule = rules.get(item.rule_id)
        if rule is not None and rule_accepts(rule, item):
            return rule
    return eligible_rule(item, config)


def _sort_key(item: MergeCandidate) -> tuple[datetime, str]:
    return (item.received_at, item.payment_id)


def plan_merges(
    items: Sequence[MergeCandidate],
    config: MergeConfig,
    now: datetime,
    rail_max: RailMax | None = None,
) -> MergePlan:
    """Decide which merges close at ``now``; see the module docstring for the rules."""
    require_aware(now, "now")
    rules = {rule.id: rule for rule in config.rules}
    buckets: dict[BucketKey, list[MergeCandidate]] = {}
    individual: list[MergeCandidate] = []
    seen: set[str] = set()
    for item in items:
        if item.payment_id in seen:
            raise ValueError(f"payment {item.payment_id} appears twice in the pending items")
        seen.add(item.payment_id)
        rule = _rule_for(item, rules, config)
        if rule is None:
            individual.append(item)
            continue
        client = item.client if rule.split_by_client else None
        key = (rule.id, client, item.creditor_account, item.currency)
        bucket = buckets.get(key)
        if bucket is None:
            buckets[key] = [item]
        else:
            bucket.append(item)

    clocks: dict[str, _RuleClock] = {}
    plan = MergePlan()
    for key in sorted(buckets, key=lambda k: (k[0], k[1] or "", k[2], k[3])):
        rule_id, client, account, currency = key
        rule = rules[rule_id]
        clock = clocks.get(rule_id)
        if clock is None:
            clock = clocks[rule_id] = _RuleClock.at(rule, now)
        members = sorted(buckets[key], key=_sort_key)
        cap = merge_amount_cap(rule, currency, rail_max)
        if cap is not None and any(i.amount > cap for i in members):
            # Larger than a rail of the rule takes in one payment: never mergeable here.
            individual.extend(i for i in members if i.amount > cap)
            members = [i for i in members if i.amount <= cap]
            if not members:
                continue
        # Due once a boundary has passed since the oldest item arrived. An item stamped
        # after ``now`` (clock skew between processes) is not due yet; its deadline is
        # still checked below, and at every boundary the scheduler wakes for.
        due = members[0].received_at < clock.last_boundary
        text_key = merge_key(rule_id, client, account, currency)
        for chunk, total, cap_reason in _chunks(members, rule, cap):
            reason: MergeReason | None
            if due:
                reason = "window_due"
            elif cap_reason is not None:
                reason = cap_reason
            else:
                reason = _urgency(chunk, clock.hold_until)
            if reason is None:
                plan.waiting.extend(i.payment_id for i in chunk)
                continue
            plan.merges.append(
                PlannedMerge(
                    merge_key=text_key,
                    rule_id=rule_id,
                    client=client,
                    currency=currency,
                    creditor_account=account,
                    items=[i.payment_id for i in chunk],
                    total=total,
                    reason=reason,
                )
            )
    plan.individual.extend(i.payment_id for i in sorted(individual, key=_sort_key))
    return plan


def next_wakeup(
    items: Sequence[MergeCandidate],
    config: MergeConfig,
    now: datetime,
    rail_max: RailMax | None = None,
) -> datetime | None:
    """When the scheduler should next plan, given these pending items: the earliest next
    boundary among rules with waiting items, or ``None`` if nothing would wait.

    Deadlines need no wake-up of their own: until a rule's next boundary the answer to
    "would waiting miss it?" cannot change, and at that boundary the bucket is due. New
    arrivals can fill a bucket to its cap, so the engine should also plan on intake.
    """
    plan = plan_merges(items, config, now, rail_max)
    if not plan.waiting:
        return None
    waiting = set(plan.waiting)
    rules = {rule.id: rule for rule in config.rules}
    waiting_rules: set[str] = set()
    for item in items:
        if item.payment_id in waiting:
            rule = _rule_for(item, rules, config)
            assert rule is not None  # waiting items have a rule by construction
            waiting_rules.add(rule.id)
    return min(next_boundary(rules[rule_id].window, now) for rule_id in waiting_rules)
