"""Live usage and liquidity for routing: a loader that keeps a fresh ``dict[str, ChannelState]``
for ``ChannelHealth(usage=...)``, and the liquidity alert (event, metric, log).

The routing library already drops a rail whose position − amount would fall below its
protection level; this module makes that visible to operators.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal

import asyncpg

from paygate.domain import PaymentStatus
from paygate.engine.metrics import Metrics
from paygate.engine.routing_service import RoutingService
from paygate.logs import get_logger
from paygate.store import channel_usage
from paygate.store import payments as repo
from routing import ChannelState, RouteRequest, Snapshot

log = get_logger("paygate.engine.usage")
LIQUIDITY = "liquidity:"


class UsageLoader:
    """Reads today's usage and the positions from PostgreSQL into a dict routing can use."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        now: Callable[[], dt.datetime],
        *,
        interval_s: float = 0.25,
    ) -> None:
        self._pool = pool
        self._now = now
        self._interval = interval_s
        self._states: dict[str, ChannelState] = {}

    def states(self) -> dict[str, ChannelState]:
        """The ``usage`` callable for ChannelHealth: the last loaded states."""
        return self._states

    async def refresh(self) -> dict[str, ChannelState]:
        async with self._pool.acquire() as conn:
            used = await channel_usage.usage_on(conn, channel_usage.business_day(self._now()))
            held = await channel_usage.positions(conn)
        states: dict[str, ChannelState] = {
            u.channel: ChannelState(used_amount_today=u.amount, used_count_today=u.count)
            for u in used
        }
        # A snapshot carries one position per rail: with accounts in several currencies, the
        # one with the least headroom above its protection level speaks for the rail.
        tightest: dict[str, channel_usage.PositionRow] = {}
        for p in held:
            best = tightest.get(p.channel)
            if best is None or p.position - p.protection < best.position - best.protection:
                tightest[p.channel] = p
        for channel, p in tightest.items():
            base = states.get(channel, ChannelState())
            states[channel] = ChannelState(
                used_amount_today=base.used_amount_today,
                used_count_today=base.used_count_today,
                position=p.position,
                protection=p.protection,
            )
        self._states = states
        return states

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("usage refresh failed; keeping the last snapshot", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)


def liquidity_shortfalls(snapshot: Snapshot, amount: Decimal) -> list[str]:
    """Rails whose position would fall below protection with this amount (cheap pre-check)."""
    out = []
    for channel, state in snapshot.channels.items():
        if state.position is None:
            continue
        floor = state.protection if state.protection is not None else Decimal(0)
        if state.position - amount < floor:
            out.append(channel)
    return out


async def alert_liquidity(
    conn: asyncpg.Connection,
    *,
    payment_id: uuid.UUID,
    status: PaymentStatus,
    request: RouteRequest,
    routing: RoutingService,
    snapshot: Snapshot,
    now: dt.datetime,
    metrics: Metrics,
) -> list[str]:
    """Record an alert for every rail routing avoided for this payment because of liquidity."""
    if not liquidity_shortfalls(snapshot, request.amount):
        return []
    explained = routing.decide(request, snapshot, now, explain=True)
    alerted = []
    for verdict in explained.verdicts:
        why = verdict.dropped_because
        if why is None or not why.startswith(LIQUIDITY):
            continue
        state = snapshot.state(verdict.channel)
        reason = (
            f"liquidity alert: {verdict.channel} avoided, position {state.position} "
            f"- {request.amount} {request.currency} would fall below protection "
            f"{state.protection}"
        )
        await repo.add_event(
            conn,
            payment_id,
            status,
            reason,
            data={
                "alert": "liquidity",
                "channel": verdict.channel,
                "position": str(state.position),
                "protection": str(state.protection),
                "amount": str(request.amount),
            },
        )
        metrics.liquidity_alerts.labels(verdict.channel).inc()
        log.warning(
            "liquidity below protection; rail avoided",
            channel=verdict.channel,
            position=str(state.position),
            protection=str(state.protection),
            amount=str(request.amount),
            payment_id=str(payment_id),
        )
        alerted.append(verdict.channel)
    return alerted
