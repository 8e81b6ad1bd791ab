"""The merge worker (并笔): puts eligible payments aside, closes due windows into merges, and
fans an aggregate payment's outcome out to its items.

- **Intake** (called by the dispatcher for a ``validated`` payment): if a merge rule accepts
  it, ``validated → pending_merge`` and it leaves the dispatch queue.
- **Closing** (``tick``, every ``interval_s``): in ONE transaction, lock the pending items
  (``FOR UPDATE SKIP LOCKED``: another gateway process never sees the same ones), run the
  pure planner with the gateway clock's ``now``, and close every due merge set-based
  (``store.close_merges``: a fixed number of statements per tick), under
  ``pg_advisory_xact_lock(hashtext(merge_key))`` for each key, taken in sorted order:
  insert the merges, link the items (the partial unique index on ``merge_items`` refuses
  an item already in a live merge) and create the aggregate payments in ``validated`` with
  a due dispatch. From there the ordinary dispatcher routes each (``merged=True``), records
  the submission before sending, and inquires after a crash: the merge is submitted once.
  Each merge's total stays within the smallest per-payment maximum of its rule's rails
  (``rail_max``, from the routing configuration, handed to the pure planner).
- **Moving the items** (the same ``tick``, after the close committed, in short
  transactions of up to a thousand merges): ``pending_merge → submitted`` with the event
  "in merge M". Kept off the close transaction because rewriting 100k wide payment rows
  is most of the cost; a linked item is already out of reach of planning and cancel
  (409). A crash in between is finished by the next tick, or by the merge's outcome.
- **Fan-out** (``after_outcome``, called by the dispatcher in the transaction that records
  the aggregate's outcome): settled → every item settled and the fees recorded; definitive
  rejection or failure → items back to ``pending_merge`` (rule ``on_reject: next_window``)
  or routed alone (``individual``), the reason in their events. Unknown → nothing: the
  dispatcher inquires as for any payment.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import asyncpg

from paygate.domain import PaymentOrder, PaymentStatus
from paygate.engine.clock import Clock
from paygate.engine.routing_service import RoutingService
from paygate.errors import StateError
from paygate.logs import get_logger
from paygate.merging import (
    MergeCandidate,
    MergeConfig,
    RailMax,
    eligible_rule,
    next_boundary,
    plan_merges,
)
from paygate.store import merges as store
from paygate.store import payments as repo
from routing import Calendar

S = PaymentStatus
log = get_logger("paygate.merging")
Sleep = Callable[[float], Awaitable[None]]


def candidate(
    payment_id: uuid.UUID,
    client_id: uuid.UUID,
    order: PaymentOrder,
    received_at: dt.datetime,
    rule_id: str | None = None,
    cutoff: dt.datetime | None = None,
) -> MergeCandidate:
    return MergeCandidate(
        payment_id=str(payment_id),
        client=str(client_id),
        product=order.product,
        business_category=order.business_category,
        creditor_account=order.creditor_account.identifier,
        creditor_name=order.creditor.name,
        currency=order.amount.currency,
        amount=order.amount.value,
        received_at=received_at,
        deadline=order.deadline,
        cutoff=cutoff,
        rule_id=rule_id,
    )


def todays_cutoff(calendar: Calendar, now: dt.datetime) -> dt.datetime | None:
    """When a rail open at ``now`` stops taking payments for today (its cut-off, else the
    close of the current opening window); None if it is always open or closed now."""
    if calendar.always_open:
        return None
    tz = ZoneInfo(calendar.timezone)
    local = now.astimezone(tz)
    weekday = local.strftime("%a").lower()
    at = local.time().replace(tzinfo=None)
    for hours in calendar.hours:
        if any(d.value == weekday for d in hours.days) and hours.open <= at < hours.close:
            close = hours.close
            if calendar.cutoff is not None and calendar.cutoff < close:
                close = calendar.cutoff
            return dt.datetime.combine(local.date(), close, tzinfo=tz)
    return None


class MergeWorker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        config: MergeConfig,
        routing: RoutingService,
        clock: Clock,
        *,
        interval_s: float = 0.5,
        page: int = 20_000,
    ) -> None:
        self.pool = pool
        self.config = config
        self.routing = routing
        self.clock = clock
        self.interval_s = interval_s
        self.page = page
        self.system_client: uuid.UUID | None = None
        self._stopping = asyncio.Event()
        self._kick = asyncio.Event()
        self._candidates: dict[str, MergeCandidate] = {}
        self._intake_queue: list[tuple[uuid.UUID, str, dt.datetime, asyncio.Future[None]]] = []
        self._intake_flush: asyncio.Task[None] | None = None

    def rule_cutoff(self, rule_id: str | None, now: dt.datetime) -> dt.datetime | None:
        """The bound a merge under this rule must make: the latest of today's cut-offs of
        the rule's rails (any one of them can carry the merge); None if one never closes."""
        rule = self.config.rule(rule_id) if rule_id is not None else None
        if rule is None:
            return None
        specs = {c.id: c for c in self.routing.config.channels}
        cutoffs = []
        for channel in rule.channels:
            spec = specs.get(channel)
            if spec is None:
                continue
            cutoff = todays_cutoff(spec.calendar, now)
            if cutoff is None and spec.calendar.always_open:
                return None
            if cutoff is not None:
                cutoffs.append(cutoff)
        return max(cutoffs) if cutoffs else None

    def rails_open(self, rule_id: str, now: dt.datetime) -> bool:
        """Whether one of the rule's rails takes payments now (hours and cut-off; holidays
        are left to routing). Merges are not closed into a closed rail."""
        rule = self.config.rule(rule_id)
        if rule is None:
            return False
        specs = {c.id: c for c in self.routing.config.channels}
        for channel in rule.channels:
            spec = specs.get(channel)
            if spec is None:
                continue
            if spec.calendar.always_open:
                return True
            cutoff = todays_cutoff(spec.calendar, now)
            if cutoff is not None and cutoff > now:
                return True
        return False

    def rail_max(self) -> RailMax:
        """``(rail, currency) → per-payment maximum`` from the routing configuration."""
        return {
            (spec.id, currency): limits.max
            for spec in self.routing.config.channels
            for currency, limits in spec.limits.items()
            if limits.max is not None
        }

    async def start(self) -> None:
        async with self.pool.acquire() as conn:
            self.system_client = await store.ensure_system_client(conn)

    # ---- hooks called by the dispatcher -----------------------------------------------

    def is_aggregate(self, row: repo.PaymentRow) -> bool:
        return self.system_client is not None and row.client_id == self.system_client

    async def intake(self, row: repo.PaymentRow) -> bool:
        """Put an eligible ``validated`` payment aside for merging; False: route it alone."""
        if row.status != S.VALIDATED or self.is_aggregate(row):
            return False
        now = self.clock.now()
        rule = eligible_rule(candidate(row.id, row.client_id, row.order, now), self.config)
        if rule is None:
            return False
        done = asyncio.get_running_loop().create_future()
        self._intake_queue.append((row.id, rule.id, now, done))
        if self._intake_flush is None:
            self._intake_flush = asyncio.create_task(self._flush_intake())
        await done
        return True

    async def _flush_intake(self) -> None:
        """Write the intakes queued so far in ONE transaction and answer each caller once it
        committed. The dispatcher takes in a claimed batch's rows concurrently; one
        transaction per row made intake most of a merged item's cost (four round trips and
        a commit each)."""
        batch: list[tuple[uuid.UUID, str, dt.datetime, asyncio.Future[None]]] = []
        try:
            # One more turn of the loop: the rest of a gathered batch queues behind the first.
            await asyncio.sleep(0)
            batch, self._intake_queue, self._intake_flush = self._intake_queue, [], None
            async with self.pool.acquire() as conn, conn.transaction():
                moved = await store.to_pending_many(conn, [(p, r, t) for p, r, t, _ in batch])
        except asyncio.CancelledError:
            if not batch:  # cancelled before taking the queue: take it, so no caller hangs
                batch, self._intake_queue, self._intake_flush = self._intake_queue, [], None
            for *_, done in batch:
                done.cancel()
            raise
        except Exception as exc:
            # Nothing committed: every caller fails as its own transaction would have.
            for *_, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        for payment_id, _, _, done in batch:
            if done.done():
                continue
            if payment_id in moved:
                done.set_result(None)
            else:
                done.set_exception(StateError(f"payment {payment_id} is no longer validated"))

    async def after_outcome(
        self, conn: asyncpg.Connection, payment_id: uuid.UUID, dst: PaymentStatus, why: str
    ) -> None:
        """Fan an aggregate's final outcome out to its items, in the caller's transaction."""
        if dst not in (S.SETTLED, S.REJECTED, S.FAILED):
            return
        merge = await store.merge_of_aggregate(conn, payment_id)
        if merge is None or merge.status != "submitted":
            return
        now = self.clock.now()
        if dst == S.SETTLED:
            aggregate = await repo.get_payment(conn, payment_id, None)
            channel = aggregate.channel
            charged = aggregate.fee
            if_single: Decimal | None = None
            if channel is not None:
                if_single = Decimal(0)
                for _, amount in await store.live_items(conn, merge.id):
                    if_single += self.routing.fee_of(channel, amount, merge.currency) or Decimal(0)
            n = await store.settle_merge(conn, merge, channel, charged, if_single, now)
            log.info("merge settled", merge_id=str(merge.id), items=n, channel=channel)
            return
        rule = self.config.rule(merge.rule_id)
        individual = rule is None or rule.on_reject == "individual"
        n = await store.reject_merge(conn, merge, why, individual, now)
        log.info("merge rejected; items re-planned", merge_id=str(merge.id), items=n)
        self._kick.set()

    # ---- closing windows ----------------------------------------------------------------

    async def tick(self) -> int:
        """Plan and close what is due now, then move the closed merges' items to
        ``submitted``; returns the number of merges closed."""
        closed = await self.close_due()
        await self.move_items()
        return closed

    async def move_items(self, merges_per_tx: int = 1000) -> int:
        """Move the items of every closed merge not yet done to ``submitted`` (short
        transactions); returns the number of merges done."""
        done = 0
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                n = await store.move_closed_items(conn, merges_per_tx)
            if not n:
                return done
            done += n

    async def close_due(self) -> int:
        """Plan and close what is due now, in one transaction; returns the merges closed."""
        assert self.system_client is not None, "start() first"
        now = self.clock.now()
        closed = 0
        async with self.pool.acquire() as conn, conn.transaction():
            pending = await store.lock_pending(conn, self.page)
            if not pending:
                return 0
            by_id = {str(p.payment_id): p for p in pending}
            candidates: list[MergeCandidate] = []
            cutoffs: dict[str | None, dt.datetime | None] = {}
            for p in pending:
                if p.merge_rule not in cutoffs:
                    cutoffs[p.merge_rule] = self.rule_cutoff(p.merge_rule, now)
                # From columns and the order stored at intake (validated then): no
                # re-validation of every pending order on every tick.
                candidates.append(
                    MergeCandidate(
                        payment_id=str(p.payment_id),
                        client=str(p.client_id),
                        product=p.product,
                        business_category=p.business_category,
                        creditor_account=p.creditor_account,
                        creditor_name=p.creditor_name,
                        currency=p.currency,
                        amount=p.amount,
                        received_at=p.merge_since,
                        deadline=p.deadline,
                        cutoff=cutoffs[p.merge_rule],
                        rule_id=p.merge_rule,
                    )
                )
            self._candidates = {c.payment_id: c for c in candidates}
            plan = plan_merges(candidates, self.config, now, self.rail_max())
            individual = list(plan.individual)
            open_rules: dict[str, bool] = {}
            to_close: list[store.NewMerge] = []
            for planned in plan.merges:
                if planned.rule_id not in open_rules:
                    open_rules[planned.rule_id] = self.rails_open(planned.rule_id, now)
                if not open_rules[planned.rule_id]:
                    # The merged rails are closed: an item that cannot wait goes alone (an
                    # always-open rail may take it); the rest wait for the rails to open.
                    individual.extend(self._cannot_wait(planned.rule_id, planned.items, now))
                    continue
                to_close.append(
                    store.NewMerge(
                        merge_key=planned.merge_key,
                        rule_id=planned.rule_id,
                        currency=planned.currency,
                        creditor_account=planned.creditor_account,
                        items=[by_id[i] for i in planned.items],
                        reason=planned.reason,
                        closed_at=now,
                    )
                )
            # One set-based close for every due merge: a fixed number of statements.
            closed = len(await store.close_merges(conn, to_close, self.system_client))
            for item in individual:
                await repo.transition(
                    conn,
                    uuid.UUID(item),
                    S.PENDING_MERGE,
                    S.ROUTED,
                    "cannot be merged in time (no rule accepts it any more, or the merged "
                    "rails are closed before its deadline); paying it on its own",
                    set_fields={"next_action": "dispatch", "next_action_at": None},
                )
                await repo.schedule(conn, uuid.UUID(item), "dispatch", 0.0)
        if closed:
            log.info("merges closed", merges=closed, items=sum(len(m.items) for m in to_close))
        return closed

    def _cannot_wait(self, rule_id: str, items: list[str], now: dt.datetime) -> list[str]:
        """Of a merge that cannot close (its rails are closed), the items whose deadline
        falls before the rule's next window plus its margin."""
        rule = self.config.rule(rule_id)
        if rule is None:
            return list(items)
        hold = next_boundary(rule.window, now) + dt.timedelta(minutes=rule.safety_margin_minutes)
        out = []
        for item in items:
            deadline = self._candidates[item].deadline
            if deadline is not None and deadline <= hold:
                out.append(item)
        return out

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except (OSError, asyncpg.PostgresError, StateError) as exc:
                # Nothing was committed; the items are still pending for the next tick.
                log.warning("merge tick failed; retrying", error=str(exc))
            self._kick.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), self.interval_s)

    def stop(self) -> None:
        self._stopping.set()
        self._kick.set()
