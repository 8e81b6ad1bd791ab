"""Daily limit usage and liquidity positions per rail, updated atomically in PostgreSQL.

Reserve when a payment is routed (in the dispatch transaction), release on a definitive
rejection or when the rail never took it. A release finds the business day and the amount
from the payment row itself, so it undoes exactly what the reservation did.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from paygate.store.payments import Conn


@dataclass(frozen=True)
class UsageRow:
    channel: str
    amount: Decimal
    count: int


@dataclass(frozen=True)
class PositionRow:
    channel: str
    currency: str
    position: Decimal
    protection: Decimal


def business_day(now: dt.datetime) -> dt.date:
    return now.astimezone(dt.UTC).date()


async def reserve(
    conn: Conn, channel: str, amount: Decimal, currency: str, now: dt.datetime
) -> None:
    await conn.execute(
        "INSERT INTO channel_usage AS u (channel, day, amount, count) VALUES ($1, $2, $3, 1) "
        "ON CONFLICT (channel, day) DO UPDATE "
        "SET amount = u.amount + EXCLUDED.amount, count = u.count + 1",
        channel,
        business_day(now),
        amount,
    )
    await conn.execute(
        "UPDATE channel_positions SET position = position - $3, updated_at = now() "
        "WHERE channel = $1 AND currency = $2",
        channel,
        currency,
        amount,
    )


async def reserve_many(conn: Conn, items: list[tuple[str, Decimal, str]], now: dt.datetime) -> None:
    """``reserve`` for a batch of (channel, amount, currency): one aggregated row per channel
    and per (channel, currency), updated in a fixed order (usage rows sorted by channel, then
    position rows sorted by channel and currency) so that concurrent batches and ``release``
    (usage, then position) never wait on each other in a cycle."""
    if not items:
        return
    day = business_day(now)
    usage: dict[str, tuple[Decimal, int]] = {}
    held: dict[tuple[str, str], Decimal] = {}
    for channel, amount, currency in items:
        total, count = usage.get(channel, (Decimal(0), 0))
        usage[channel] = (total + amount, count + 1)
        held[(channel, currency)] = held.get((channel, currency), Decimal(0)) + amount
    await conn.executemany(
        "INSERT INTO channel_usage AS u (channel, day, amount, count) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (channel, day) DO UPDATE "
        "SET amount = u.amount + EXCLUDED.amount, count = u.count + EXCLUDED.count",
        [(channel, day, total, count) for channel, (total, count) in sorted(usage.items())],
    )
    await conn.executemany(
        "UPDATE channel_positions SET position = position - $3, updated_at = now() "
        "WHERE channel = $1 AND currency = $2",
        [(channel, currency, total) for (channel, currency), total in sorted(held.items())],
    )


async def release(conn: Conn, payment_id: uuid.UUID, channel: str) -> None:
    """Undo the reservation the payment's last routing to ``channel`` made."""
    row = await conn.fetchrow(
        "SELECT amount, currency, "
        "((route_request->>'routed_at')::timestamptz AT TIME ZONE 'UTC')::date AS day "
        "FROM payments WHERE id = $1",
        payment_id,
    )
    if row is None:
        return
    day = row["day"] or business_day(dt.datetime.now(dt.UTC))
    await conn.execute(
        "UPDATE channel_usage SET amount = GREATEST(amount - $3, 0), "
        "count = GREATEST(count - 1, 0) WHERE channel = $1 AND day = $2",
        channel,
        day,
        row["amount"],
    )
    await conn.execute(
        "UPDATE channel_positions SET position = position + $3, updated_at = now() "
        "WHERE channel = $1 AND currency = $2",
        channel,
        row["currency"].strip(),
        row["amount"],
    )


async def usage_on(conn: Conn, day: dt.date) -> list[UsageRow]:
    rows = await conn.fetch("SELECT channel, amount, count FROM channel_usage WHERE day = $1", day)
    return [UsageRow(r["channel"], r["amount"], r["count"]) for r in rows]


async def positions(conn: Conn) -> list[PositionRow]:
    rows = await conn.fetch(
        "SELECT channel, currency, position, protection FROM channel_positions "
        "ORDER BY channel, currency"
    )
    return [
        PositionRow(r["channel"], r["currency"].strip(), r["position"], r["protection"])
        for r in rows
    ]


async def set_position(
    conn: Conn, channel: str, currency: str, position: Decimal, protection: Decimal
) -> None:
    await conn.execute(
        "INSERT INTO channel_positions (channel, currency, position, protection) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (channel, currency) DO UPDATE "
        "SET position = EXCLUDED.position, protection = EXCLUDED.protection, updated_at = now()",
        channel,
        currency,
        position,
        protection,
    )
