"""Dispatch workers: claim due payments, route, submit, record — never paying twice.

The sequence for one payment, and why it is safe:
1. In one transaction: route, insert the submission row (with the reference the rail
   de-duplicates on), move the payment to ``submitted`` and schedule an *inquiry* as the
   fallback action. Committed before any byte is sent.
2. Send, outside any transaction.
3. Record the answer in one transaction. If the process dies between 1 and 3, the lease
   expires and the scheduled inquiry finds out what the rail did.
A lost answer becomes ``unknown``; only a rail's "never received" (404 to an inquiry) allows a
resend, and only of the same reference; only a definitive rejection allows failover.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from paygate.channels.base import (
    BundlingAdapter,
    ChannelResult,
    InquiryRequest,
    Outcome,
    SubmissionRequest,
)
from paygate.channels.bundles import group_for_messages
from paygate.channels.registry import ChannelEndpoint
from paygate.channels.transport import Transport
from paygate.config import Settings
from paygate.domain import TERMINAL, PaymentOrder, PaymentStatus
from paygate.engine.clock import Clock
from paygate.engine.health import ChannelHealth
from paygate.engine.merge_worker import MergeWorker
from paygate.engine.metrics import Metrics
from paygate.engine.routing_service import RoutingService, route_request
from paygate.engine.usage import alert_liquidity, liquidity_shortfalls
from paygate.errors import (
    ChannelError,
    ChannelUnavailable,
    MessageError,
    OutcomeUnknown,
    StateError,
)
from paygate.logs import get_logger
from paygate.store import channel_usage
from paygate.store import payments as repo
from paygate.store.ids import new_id
from routing import Decision

S = PaymentStatus
log = get_logger("paygate.engine")
Sleep = Callable[[float], Awaitable[None]]


def submission_reference(payment_id: uuid.UUID, attempt: int = 1) -> str:
    """16 characters (fits MT field 20): 'P' + the random tail of the UUIDv7 in base 36 + the
    attempt number. Each new submission row gets a new reference; a resend reuses its row's."""
    tail = payment_id.int & ((1 << 62) - 1)
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = []
    for _ in range(13):
        tail, rem = divmod(tail, 36)
        out.append(digits[rem])
    return "P" + "".join(reversed(out)) + f"{attempt % 100:02d}"


def bundle_message_id() -> str:
    """The MsgId of a message carrying several payments: each keeps its own reference (TxId),
    so this one only has to be unique (35 characters at most)."""
    return "B" + new_id().hex


@dataclass
class Collaborators:
    pool: asyncpg.Pool
    settings: Settings
    routing: RoutingService
    health: ChannelHealth
    endpoints: dict[str, ChannelEndpoint]
    transport: Transport
    clock: Clock
    metrics: Metrics
    sleep: Sleep = asyncio.sleep
    # Merging (并笔): None = off. Intake of eligible payments and fan-out of aggregates.
    merging: MergeWorker | None = None


@dataclass
class _Planned:
    """A payment of a batch, routed and about to be submitted."""

    row: repo.PaymentRow
    order: PaymentOrder
    endpoint: ChannelEndpoint
    fee: Decimal | None
    route_request: str  # JSON text, stored as is
    routed_reason: str
    routed_data: dict[str, Any]
    reference: str = ""
    message_id: str = ""  # set when it travels with other payments in one message


class Dispatcher:
    def __init__(self, c: Collaborators) -> None:
        self.c = c
        s = c.settings
        self._lease_s = s.channel_timeout_s * 3 + 5
        self._stopping = asyncio.Event()

    # ---- loops -------------------------------------------------------------------------

    async def run(self) -> None:
        loops = [
            asyncio.create_task(self._loop(i)) for i in range(self.c.settings.dispatch_workers)
        ]
        try:
            await asyncio.gather(*loops)
        finally:
            for task in loops:
                task.cancel()

    def stop(self) -> None:
        self._stopping.set()

    async def _loop(self, index: int) -> None:
        s = self.c.settings
        while not self._stopping.is_set():
            try:
                rows = await repo.claim_due(self.c.pool, s.dispatch_batch, self._lease_s)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("claim failed; retrying", error=str(exc), worker=index)
                await self.c.sleep(1.0)
                continue
            if not rows:
                await self.c.sleep(s.poll_interval_s)
                continue
            await self.handle_batch(rows)

    async def run_until_idle(self, max_rounds: int = 10_000) -> None:
        """Process due work until none is left (tests and the CLI's one-shot mode)."""
        for _ in range(max_rounds):
            rows = await repo.claim_due(self.c.pool, self.c.settings.dispatch_batch, self._lease_s)
            if not rows:
                return
            await self.handle_batch(rows)

    async def handle_batch(self, rows: list[repo.PaymentRow]) -> None:
        """A claimed batch: payments due for dispatch go through ``dispatch_batch`` (one
        transaction before the sends, one after); inquiries and the rest one by one."""
        fresh = [r for r in rows if self._dispatchable(r)]
        others = [r for r in rows if not self._dispatchable(r)]
        await asyncio.gather(
            self._guard(None, self.dispatch_batch(fresh)),
            *(self.handle(row) for row in others),
        )

    @staticmethod
    def _dispatchable(row: repo.PaymentRow) -> bool:
        return not (
            row.status in TERMINAL
            or row.next_action == "inquire"
            or row.status in (S.SUBMITTED, S.UNKNOWN, S.ACCEPTED)
        )

    async def _guard(self, payment_id: uuid.UUID | None, work: Awaitable[None]) -> None:
        """What ``handle`` does with a failure: log it; the lease hands the payment back."""
        pid = str(payment_id) if payment_id is not None else "batch"
        try:
            await work
        except StateError as exc:
            log.info("payment moved concurrently; skipped", payment_id=pid, error=str(exc))
        except (asyncpg.PostgresError, OSError, ChannelError) as exc:
            log.warning("work item failed; will retry after lease", payment_id=pid, error=str(exc))
        except Exception:
            log.exception("work item crashed; will retry after lease", payment_id=pid)

    async def handle(self, row: repo.PaymentRow) -> None:
        try:
            if row.status in TERMINAL:
                await repo.schedule(self.c.pool, row.id, None)
            elif row.next_action == "inquire" or row.status in (S.SUBMITTED, S.UNKNOWN, S.ACCEPTED):
                await self.inquire(row)
            else:
                await self.dispatch(row)
        except StateError as exc:
            log.info("payment moved concurrently; skipped", payment_id=str(row.id), error=str(exc))
        except (asyncpg.PostgresError, OSError, ChannelError) as exc:
            # The lease hands the payment back later; nothing is lost.
            log.warning(
                "work item failed; will retry after lease", payment_id=str(row.id), error=str(exc)
            )
        except Exception:
            # A bug must not stop the worker loop; the lease retries the payment later.
            log.exception("work item crashed; will retry after lease", payment_id=str(row.id))

    # ---- dispatch ----------------------------------------------------------------------

    async def dispatch(self, row: repo.PaymentRow) -> None:
        merging = self.c.merging
        if merging is not None and await merging.intake(row):
            return  # put aside for merging: the merge worker takes it from here
        await self._dispatch_one(row)

    async def _dispatch_one(self, row: repo.PaymentRow) -> None:
        merging = self.c.merging
        order = row.order
        now = self.c.clock.now()
        merged = merging is not None and merging.is_aggregate(row)
        request = route_request(
            order, str(row.id), client=str(row.client_id), merged=merged, now=now
        )
        snapshot = self.c.health.snapshot(now)
        # Read with the decision (no await between): a config activated meanwhile is not
        # credited with a decision the previous one made.
        config_version = self.c.routing.version
        decision = self.c.routing.decide(request, snapshot, now, exclude=row.tried_channels)

        async def liquidity_alerts(conn: asyncpg.Connection) -> None:
            await alert_liquidity(
                conn,
                payment_id=row.id,
                status=row.status,
                request=request,
                routing=self.c.routing,
                snapshot=snapshot,
                now=now,
                metrics=self.c.metrics,
            )

        if decision.channel is None:
            async with self.c.pool.acquire() as conn, conn.transaction():
                await liquidity_alerts(conn)
                dst = S.REJECTED if row.tried_channels else S.FAILED
                if row.status == S.VALIDATED and dst == S.REJECTED:
                    dst = S.FAILED
                await repo.transition(
                    conn,
                    row.id,
                    row.status,
                    dst,
                    f"no channel can take it: {decision.reason}",
                    set_fields={"next_action": None, "next_action_at": None},
                )
                if merging is not None:
                    await merging.after_outcome(conn, row.id, dst, str(decision.reason))
            self.c.metrics.transitions.labels(dst.value, "").inc()
            return
        channel = decision.channel
        endpoint = self.c.endpoints.get(channel)
        if endpoint is None:
            raise StateError(f"routing chose {channel!r}, which has no configured endpoint")
        fee, why, fallbacks = self._choice(decision, channel, order)
        async with self.c.pool.acquire() as conn, conn.transaction():
            await liquidity_alerts(conn)
            attempt = await repo.next_attempt(conn, row.id)
            reference = submission_reference(row.id, attempt)
            await repo.transition(
                conn,
                row.id,
                row.status,
                S.ROUTED,
                f"routed to {channel} ({why}); fallbacks: {fallbacks}",
                data={
                    "channel": channel,
                    "fee": str(fee),
                    "rule": decision.rule,
                    "fallbacks": decision.fallbacks,
                    "config_version": config_version,
                },
                set_fields={
                    "channel": channel,
                    "fee": fee,
                    "route_request": request.model_dump(mode="json"),
                },
            )
            await repo.create_submission(conn, row.id, channel, reference, attempt)
            await repo.transition(
                conn,
                row.id,
                S.ROUTED,
                S.SUBMITTED,
                f"submitted to {channel} as {reference}",
                set_fields={
                    "channel_reference": reference,
                    "next_action": "inquire",
                    "next_action_at": None,
                },
            )
            await conn.execute(
                "UPDATE payments SET next_action_at = now() + make_interval(secs => $2) "
                "WHERE id = $1",
                row.id,
                self._lease_s,
            )
            # Last: the usage and position rows are shared by every payment to this rail, so
            # their row locks are held only for the commit, not the whole transaction.
            await channel_usage.reserve(
                conn, channel, order.amount.value, order.amount.currency, now
            )
        sub = SubmissionRequest(reference=reference, order=order, now=now)
        await self._send(row.id, endpoint, sub, S.SUBMITTED)

    async def dispatch_batch(self, rows: list[repo.PaymentRow]) -> None:
        """``dispatch`` for a claimed batch, with the same sequence and guarantees: route each
        payment (pure); in ONE transaction write, for all of them, what ``_dispatch_one``
        writes for one (guarded transitions, events, submission rows, the lease as the
        inquiry fallback, then the usage reservation aggregated per rail); only after COMMIT
        send them all concurrently; record the answers in ONE transaction. A payment that
        fails its ``status = src`` guard is skipped, not sent. Anything unusual (no channel,
        a liquidity alert, a rejection, a lost answer, a rail that never took it) takes the
        one-payment path, and a failed batch transaction falls back to it entirely."""
        merging = self.c.merging
        if merging is not None:
            taken = await asyncio.gather(*(self._intake(merging, row) for row in rows))
            rows = [row for row, put_aside in zip(rows, taken, strict=True) if not put_aside]
        if not rows:
            return
        now = self.c.clock.now()
        snapshot = self.c.health.snapshot(now)
        # Read with the decisions (no await in between), as in ``_dispatch_one``.
        config_version = self.c.routing.version
        planned: list[_Planned] = []
        alone: list[repo.PaymentRow] = []
        for row in rows:
            try:
                order = row.order
                merged = merging is not None and merging.is_aggregate(row)
                request = route_request(
                    order, str(row.id), client=str(row.client_id), merged=merged, now=now
                )
                if liquidity_shortfalls(snapshot, request.amount):
                    alone.append(row)  # the alert events are written by the one-payment path
                    continue
                decision = self.c.routing.decide(request, snapshot, now, exclude=row.tried_channels)
            except Exception:
                log.exception("work item crashed; will retry after lease", payment_id=str(row.id))
                continue
            channel = decision.channel
            endpoint = self.c.endpoints.get(channel) if channel is not None else None
            if channel is None or endpoint is None:
                alone.append(row)
                continue
            fee, why, fallbacks = self._choice(decision, channel, order)
            planned.append(
                _Planned(
                    row=row,
                    order=order,
                    endpoint=endpoint,
                    fee=fee,
                    route_request=request.model_dump_json(),
                    routed_reason=f"routed to {channel} ({why}); fallbacks: {fallbacks}",
                    routed_data={
                        "channel": channel,
                        "fee": str(fee),
                        "rule": decision.rule,
                        "fallbacks": decision.fallbacks,
                        "config_version": config_version,
                    },
                )
            )
        solo = [self._guard(row.id, self._dispatch_one(row)) for row in alone]
        if not planned:
            await asyncio.gather(*solo)
            return
        # Which payments share a message is decided before the commit, so each one's
        # ``submitted`` event names the message it travels in.
        bundles = group_for_messages(
            planned, lambda p: p.endpoint, lambda p: p.order.requested_execution_date
        )
        for bundle in bundles:
            if len(bundle) > 1:
                message_id = bundle_message_id()
                for p in bundle:
                    p.message_id = message_id
        try:
            async with self.c.pool.acquire() as conn, conn.transaction():
                attempts = await repo.attempts_of(conn, [p.row.id for p in planned])
                items = []
                for p in planned:
                    attempt = attempts[p.row.id]
                    p.reference = submission_reference(p.row.id, attempt)
                    items.append(
                        repo.Dispatch(
                            payment_id=p.row.id,
                            src=p.row.status,
                            channel=p.endpoint.id,
                            fee=p.fee,
                            route_request=p.route_request,
                            routed_reason=p.routed_reason,
                            routed_data=p.routed_data,
                            reference=p.reference,
                            attempt=attempt,
                            submitted_reason=f"submitted to {p.endpoint.id} as {p.reference}"
                            + (f" in message {p.message_id}" if p.message_id else ""),
                            message_id=p.message_id or None,
                        )
                    )
                written = await repo.submit_many(conn, items, self._lease_s)
                # Last: the usage and position rows are shared by every payment to a rail.
                await channel_usage.reserve_many(
                    conn,
                    [
                        (p.endpoint.id, p.order.amount.value, p.order.amount.currency)
                        for p in planned
                        if p.row.id in written
                    ],
                    now,
                )
        except (asyncpg.PostgresError, StateError) as exc:
            # Nothing of the batch was committed: give each payment its own transaction, so
            # one bad row cannot hold the others back.
            log.warning("batch dispatch failed; one by one", error=str(exc), size=len(planned))
            solo.extend(self._guard(p.row.id, self._dispatch_one(p.row)) for p in planned)
            await asyncio.gather(*solo)
            return
        for p in planned:
            if p.row.id not in written:
                log.info("payment moved concurrently; skipped", payment_id=str(p.row.id))
        bundles = [sent for b in bundles if (sent := [p for p in b if p.row.id in written])]
        results, _ = await asyncio.gather(
            asyncio.gather(*(self._guarded_exchange(bundle) for bundle in bundles)),
            asyncio.gather(*solo),
        )
        answers = [
            (p, r)
            for bundle, bundle_results in zip(bundles, results, strict=True)
            for p, r in zip(bundle, bundle_results, strict=True)
            if r is not None
        ]
        await self._record_batch(answers)

    async def _intake(self, merging: MergeWorker, row: repo.PaymentRow) -> bool:
        """``merging.intake``; True (left to the lease) if it failed."""
        put_aside = True

        async def run() -> None:
            nonlocal put_aside
            put_aside = await merging.intake(row)

        await self._guard(row.id, run())
        return put_aside

    async def _guarded_exchange(self, bundle: list[_Planned]) -> list[ChannelResult | None]:
        """``_exchange_all`` for submitted payments of one rail; a crash leaves them all to
        the lease (and so to inquiry), like a crash of the process would."""
        now = self.c.clock.now()
        subs = [(p.row.id, SubmissionRequest(p.reference, p.order, now)) for p in bundle]
        results: list[ChannelResult | None] = [None] * len(bundle)
        message_id = bundle[0].message_id or None

        async def run() -> None:
            nonlocal results
            results = await self._exchange_all(bundle[0].endpoint, subs, S.SUBMITTED, message_id)

        await self._guard(bundle[0].row.id if len(bundle) == 1 else None, run())
        return results

    async def _record_batch(self, answers: list[tuple[_Planned, ChannelResult]]) -> None:
        """``apply`` for a batch of answers: settled, accepted and received in ONE
        transaction; rejections (release, failover) one by one through ``apply``."""
        easy: list[tuple[_Planned, ChannelResult, repo.Answer]] = []
        hard: list[tuple[_Planned, ChannelResult]] = []
        src = S.SUBMITTED
        poll = self._poll_delay()
        for p, result in answers:
            channel, reference = p.endpoint.id, p.reference
            if result.outcome == Outcome.SETTLED:
                answer = repo.Answer(
                    p.row.id, reference, src, S.SETTLED, f"{channel} settled {reference}",
                    "settled", result.fee, None, None,
                )  # fmt: skip
            elif result.outcome in (Outcome.ACCEPTED, Outcome.RECEIVED):
                dst = S.ACCEPTED if result.outcome == Outcome.ACCEPTED else src
                answer = repo.Answer(
                    p.row.id, reference, src, dst,
                    f"{channel} accepted {reference}; settlement pending",
                    "accepted", None, "inquire", poll,
                )  # fmt: skip
            else:
                hard.append((p, result))
                continue
            easy.append((p, result, answer))

        async def one(p: _Planned, result: ChannelResult) -> None:
            await self._guard(
                p.row.id, self.apply(p.row.id, p.endpoint.id, p.reference, src, result)
            )

        recorded: set[uuid.UUID] = set()
        if easy:
            try:
                async with self.c.pool.acquire() as conn, conn.transaction():
                    recorded = await repo.record_many(conn, [a for _, _, a in easy])
                    if self.c.merging is not None:  # an aggregate's outcome reaches its items
                        for p, result, a in easy:
                            if p.row.id in recorded:
                                code = f" ({result.reason_code})" if result.reason_code else ""
                                why = (
                                    f"{p.endpoint.id}{code}: "
                                    f"{result.reason_text or result.outcome.value}"
                                )
                                await self.c.merging.after_outcome(conn, p.row.id, a.dst, why)
            except (asyncpg.PostgresError, StateError) as exc:
                log.warning("batch outcome failed; one by one", error=str(exc), size=len(easy))
                hard.extend((p, result) for p, result, _ in easy)
                easy = []
        for p, _, a in easy:
            if p.row.id in recorded:
                self.c.metrics.transitions.labels(a.dst.value, p.endpoint.id).inc()
            else:
                log.info("payment moved concurrently; skipped", payment_id=str(p.row.id))
        await asyncio.gather(*(one(p, result) for p, result in hard))

    async def _send(
        self,
        payment_id: uuid.UUID,
        endpoint: ChannelEndpoint,
        sub: SubmissionRequest,
        src: PaymentStatus,
    ) -> None:
        result = await self._exchange(payment_id, endpoint, sub, src)
        if result is not None:
            await self.apply(payment_id, endpoint.id, sub.reference, src, result)

    async def _exchange(
        self,
        payment_id: uuid.UUID,
        endpoint: ChannelEndpoint,
        sub: SubmissionRequest,
        src: PaymentStatus,
    ) -> ChannelResult | None:
        return (await self._exchange_all(endpoint, [(payment_id, sub)], src))[0]

    async def _exchange_all(
        self,
        endpoint: ChannelEndpoint,
        subs: list[tuple[uuid.UUID, SubmissionRequest]],
        src: PaymentStatus,
        message_id: str | None = None,
    ) -> list[ChannelResult | None]:
        """Send recorded submissions to one rail: one payment in a message of its own (MsgId =
        its reference), or the payments of message ``message_id`` to a rail that takes
        several. Returns, per payment, the rail's answer for ``apply`` to record, or None when
        there is none: a lost answer (recorded as unknown) or a request the rail never took
        (recorded as not received), both already written here."""
        adapter = endpoint.adapter
        requests = [sub for _, sub in subs]
        bundler = adapter if isinstance(adapter, BundlingAdapter) and message_id else None
        try:
            if bundler is not None and message_id:
                call = bundler.bundle_call(message_id, requests)
            else:
                call = adapter.submit_call(requests[0])
        except MessageError as exc:
            if bundler is not None:
                # Which order is at fault is the single message's to say: send each alone.
                return await self._unbundled(endpoint, subs, src, message_id, exc)
            # The order cannot be expressed in this rail's format: nothing was sent, so this is
            # a definitive refusal by this channel and failover is safe.
            why = f"not expressible as {adapter.protocol}: {exc}"
            return [ChannelResult(Outcome.REJECTED, "FF01", why)]
        started = time.perf_counter()
        answers: list[ChannelResult | ChannelError]
        try:
            reply = await self.c.transport.send(endpoint.base_url, call)
            if bundler is not None:
                answers = bundler.read_bundle(reply.status, reply.body, requests)
            else:
                try:
                    answers = [adapter.read_submit(reply.status, reply.body, requests[0])]
                except ChannelError as exc:
                    answers = [exc]
        except ChannelError as exc:  # not taken, lost or unreadable: each payment alike
            answers = [exc] * len(subs)
            # One failed exchange is one failure for the breaker, however many it carried.
            self.c.health.record(endpoint.id, ok=False, latency_ms=None, now=self.c.clock.now())
            message_failed = True
        else:
            message_failed = False
        elapsed = time.perf_counter() - started
        now = self.c.clock.now()
        results: list[ChannelResult | None] = []
        lost = []
        for (payment_id, sub), answer in zip(subs, answers, strict=True):
            if isinstance(answer, ChannelError):
                if not message_failed:  # this payment's status alone is missing or unknown
                    self.c.health.record(endpoint.id, ok=False, latency_ms=None, now=now)
                lost.append(self._lost(payment_id, endpoint.id, sub.reference, src, answer))
                results.append(None)
                continue
            self.c.metrics.submission_latency.labels(endpoint.id, answer.outcome.value).observe(
                elapsed
            )
            self.c.health.record(
                endpoint.id,
                ok=answer.outcome != Outcome.REJECTED,
                latency_ms=elapsed * 1000,
                now=now,
            )
            results.append(answer)
        await asyncio.gather(*lost)
        return results

    async def _unbundled(
        self,
        endpoint: ChannelEndpoint,
        subs: list[tuple[uuid.UUID, SubmissionRequest]],
        src: PaymentStatus,
        message_id: str | None,
        error: MessageError,
    ) -> list[ChannelResult | None]:
        """Message ``message_id`` could not be built: nothing was sent. Each payment goes in a
        message of its own instead, and its timeline says so."""
        why = f"message {message_id} could not be built ({error}); sent in a message of its own"
        log.warning("bundle could not be built; sending one by one", error=str(error))
        for payment_id, _ in subs:
            await self._guard(payment_id, repo.add_event(self.c.pool, payment_id, src, why))
        alone = [self._exchange_all(endpoint, [item], src) for item in subs]
        return [r for results in await asyncio.gather(*alone) for r in results]

    async def _lost(
        self,
        payment_id: uuid.UUID,
        channel: str,
        reference: str,
        src: PaymentStatus,
        error: ChannelError,
    ) -> None:
        """No usable answer: never taken (safe to retry) or taken-or-not (inquire first)."""
        if isinstance(error, ChannelUnavailable):
            work = self._not_taken(payment_id, channel, reference, src, str(error))
        else:
            work = self._unknown(payment_id, channel, reference, src, str(error))
        await self._guard(payment_id, work)

    # ---- outcomes ----------------------------------------------------------------------

    async def apply(
        self,
        payment_id: uuid.UUID,
        channel: str,
        reference: str,
        src: PaymentStatus,
        result: ChannelResult,
    ) -> None:
        """Record what the rail said, in one transaction."""
        code = f" ({result.reason_code})" if result.reason_code else ""
        async with self.c.pool.acquire() as conn, conn.transaction():
            if result.outcome == Outcome.SETTLED:
                await repo.set_submission_state_by_ref(conn, reference, "settled", fee=result.fee)
                fields: dict[str, Any] = {"next_action": None, "next_action_at": None}
                if result.fee is not None:
                    fields["fee"] = result.fee
                await repo.transition(
                    conn,
                    payment_id,
                    src,
                    S.SETTLED,
                    f"{channel} settled {reference}",
                    set_fields=fields,
                )
                dst = S.SETTLED
            elif result.outcome in (Outcome.ACCEPTED, Outcome.RECEIVED):
                await repo.set_submission_state_by_ref(conn, reference, "accepted")
                dst = S.ACCEPTED if result.outcome == Outcome.ACCEPTED else src
                if dst != src:
                    await repo.transition(
                        conn,
                        payment_id,
                        src,
                        dst,
                        f"{channel} accepted {reference}; settlement pending",
                    )
                await repo.schedule(conn, payment_id, "inquire", self._poll_delay())
            elif result.outcome == Outcome.REJECTED:
                dst = await self._rejected(
                    conn,
                    payment_id,
                    channel,
                    reference,
                    src,
                    f"{channel} rejected {reference}{code}"
                    f"{': ' + result.reason_text if result.reason_text else ''}",
                    result.reason_code,
                )
            else:  # NOT_FOUND is handled by the inquiry path, never here
                raise StateError(f"unexpected outcome {result.outcome} for {reference}")
            if self.c.merging is not None:  # an aggregate's outcome reaches its items
                why = f"{channel}{code}: {result.reason_text or result.outcome.value}"
                await self.c.merging.after_outcome(conn, payment_id, dst, why)
        self.c.metrics.transitions.labels(dst.value, channel).inc()

    async def _rejected(
        self,
        conn: asyncpg.Connection,
        payment_id: uuid.UUID,
        channel: str,
        reference: str,
        src: PaymentStatus,
        reason: str,
        code: str | None,
    ) -> PaymentStatus:
        await repo.set_submission_state_by_ref(conn, reference, "rejected", reason=code)
        await channel_usage.release(conn, payment_id, channel)
        row = await repo.get_payment(conn, payment_id, None)
        tried = [*row.tried_channels, channel]
        now = self.c.clock.now()
        merged = self.c.merging is not None and self.c.merging.is_aggregate(row)
        request = route_request(
            row.order, str(payment_id), client=str(row.client_id), merged=merged, now=now
        )
        retry = self.c.routing.decide(request, self.c.health.snapshot(now), now, exclude=tried)
        fields: dict[str, Any] = {"tried_channels": tried}
        if retry.channel is not None:
            fields.update(next_action="dispatch", next_action_at=None)
            await repo.transition(
                conn,
                payment_id,
                src,
                S.ROUTED,
                f"{reason}; failing over to {retry.channel}",
                data={"reason_code": code},
                set_fields=fields,
            )
            await repo.schedule(conn, payment_id, "dispatch", 0.0, reset_attempts=True)
            return S.ROUTED
        fields.update(next_action=None, next_action_at=None)
        await repo.transition(
            conn,
            payment_id,
            src,
            S.REJECTED,
            f"{reason}; no channel left",
            data={"reason_code": code},
            set_fields=fields,
        )
        return S.REJECTED

    async def _unknown(
        self, payment_id: uuid.UUID, channel: str, reference: str, src: PaymentStatus, why: str
    ) -> None:
        async with self.c.pool.acquire() as conn, conn.transaction():
            await repo.set_submission_state_by_ref(conn, reference, "unknown")
            if src != S.UNKNOWN:
                await repo.transition(
                    conn,
                    payment_id,
                    src,
                    S.UNKNOWN,
                    f"outcome at {channel} unknown: {why}; will inquire",
                )
            await repo.schedule(conn, payment_id, "inquire", self._backoff(0), reset_attempts=True)
        self.c.metrics.transitions.labels(S.UNKNOWN.value, channel).inc()

    async def _not_taken(
        self, payment_id: uuid.UUID, channel: str, reference: str, src: PaymentStatus, why: str
    ) -> None:
        """The rail never saw the request (connection refused, declared outage)."""
        async with self.c.pool.acquire() as conn, conn.transaction():
            row = await repo.get_payment(conn, payment_id, None)
            await repo.set_submission_state_by_ref(conn, reference, "not_received", reason="UNAV")
            await channel_usage.release(conn, payment_id, channel)
            attempts = row.action_attempts
            fields: dict[str, Any] = {}
            if attempts >= self.c.settings.max_submission_attempts:
                fields["tried_channels"] = [*row.tried_channels, channel]
                reason = f"{channel} unavailable {attempts} times ({why}); trying another channel"
            else:
                reason = f"{channel} unavailable ({why}); retrying"
            await repo.transition(conn, payment_id, src, S.ROUTED, reason, set_fields=fields)
            delay = 0.0 if fields else self._backoff(attempts)
            await repo.schedule(conn, payment_id, "dispatch", delay, reset_attempts=bool(fields))

    # ---- inquiry -----------------------------------------------------------------------

    async def inquire(self, row: repo.PaymentRow) -> None:
        sub = await repo.live_submission(self.c.pool, row.id)
        if sub is None:
            # Routed but never submitted (or the last attempt was refused): dispatch again.
            await repo.schedule(self.c.pool, row.id, "dispatch", 0.0)
            return
        endpoint = self.c.endpoints[sub.channel]
        now = self.c.clock.now()
        order = row.order
        inquiry = InquiryRequest(sub.reference, order.uetr, order.end_to_end_id, now)
        try:
            result = await self._inquiry_with_retries(endpoint, inquiry)
        except ChannelError as exc:
            await self._inquiry_failed(row, sub.channel, str(exc))
            return
        src = row.status
        if result.outcome == Outcome.NOT_FOUND:
            async with self.c.pool.acquire() as conn, conn.transaction():
                await repo.add_event(
                    conn, row.id, src, f"{sub.channel} never received {sub.reference}; resending it"
                )
                if src != S.SUBMITTED:
                    await repo.transition(
                        conn,
                        row.id,
                        src,
                        S.SUBMITTED,
                        f"resending {sub.reference} to {sub.channel}",
                    )
            await self._send(
                row.id, endpoint, SubmissionRequest(sub.reference, order, now), S.SUBMITTED
            )
            return
        if result.outcome in (Outcome.ACCEPTED, Outcome.RECEIVED) and src == S.UNKNOWN:
            async with self.c.pool.acquire() as conn, conn.transaction():
                await repo.add_event(
                    conn,
                    row.id,
                    src,
                    f"inquiry: {sub.channel} has {sub.reference} ({result.outcome})",
                )
        if result.outcome == Outcome.RECEIVED and src in (S.UNKNOWN, S.SUBMITTED):
            await repo.schedule(self.c.pool, row.id, "inquire", self._poll_delay())
            return
        await self.apply(row.id, sub.channel, sub.reference, src, result)

    async def _inquiry_with_retries(
        self, endpoint: ChannelEndpoint, inquiry: InquiryRequest
    ) -> ChannelResult:
        call = endpoint.adapter.inquiry_call(inquiry)
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=self.c.settings.inquiry_backoff_s / 4, max=2),
            retry=retry_if_exception_type((OutcomeUnknown, ChannelUnavailable)),
            sleep=self.c.sleep,
            reraise=True,
        ):
            with attempt:
                reply = await self.c.transport.send(endpoint.base_url, call, inquiry=True)
                return endpoint.adapter.read_inquiry(reply.status, reply.body, inquiry)
        raise OutcomeUnknown("inquiry retries exhausted")  # unreachable: reraise=True

    async def _inquiry_failed(self, row: repo.PaymentRow, channel: str, why: str) -> None:
        attempts = row.action_attempts
        async with self.c.pool.acquire() as conn, conn.transaction():
            if attempts >= self.c.settings.inquiry_max_attempts:
                await repo.add_event(
                    conn,
                    row.id,
                    row.status,
                    f"inquiry to {channel} failed {attempts} times ({why}); operator action needed",
                )
                await repo.schedule(conn, row.id, None)
            else:
                await repo.add_event(
                    conn, row.id, row.status, f"inquiry {attempts} to {channel} failed: {why}"
                )
                await repo.schedule(conn, row.id, "inquire", self._backoff(attempts))

    def _backoff(self, attempts: int) -> float:
        return float(min(self.c.settings.inquiry_backoff_s * (2 ** max(attempts, 0)), 30.0))

    def _choice(
        self, decision: Decision, channel: str, order: PaymentOrder
    ) -> tuple[Decimal | None, str, str]:
        """The fee (the schedule's when routing did not price a failover), the rule and the
        fallbacks, as the routed event records them."""
        fee = decision.fee
        if fee is None:
            fee = self.c.routing.fee_of(channel, order.amount.value, order.amount.currency)
        return fee, decision.rule or "best score", ", ".join(decision.fallbacks) or "none"

    def _poll_delay(self) -> float:
        return self.c.settings.inquiry_backoff_s * 2
