"""The gateway side of a reconciliation: payments as ``GatewayRecord``s (asyncpg)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

from paygate.recon.records import GatewayRecord, RecordStatus

# Payment status -> what the gateway believes about the money on the rail.
STATUS_MAP: dict[str, RecordStatus] = {
    "settled": "settled",
    "accepted": "accepted",
    "submitted": "submitted",
    "unknown": "unknown",
    "rejected": "rejected",
    "failed": "failed",
    "returned": "returned",
    "cancelled": "failed",
}

_QUERY = """
SELECT id, status, amount, currency, end_to_end_id, instruction_id, uetr, channel,
       channel_reference, created_at
FROM payments
WHERE channel = $1 AND created_at >= $2 AND channel_reference IS NOT NULL
ORDER BY created_at, id
"""


def to_records(
    rows: list[Any], channel: str, value_date: date | None = None
) -> list[GatewayRecord]:
    """Rows (mappings with the payments columns) to records. Items sharing one channel
    reference went out as one message: they form a merged group named by that reference."""
    shared = Counter(r["channel_reference"] for r in rows if str(r["status"]) in STATUS_MAP)
    out: list[GatewayRecord] = []
    for r in rows:
        status = STATUS_MAP.get(str(r["status"]))
        if status is None:  # never reached the rail (received, routed, held, ...)
            continue
        ref = str(r["channel_reference"])
        created = r["created_at"]
        out.append(
            GatewayRecord(
                record_id=str(r["id"]),
                channel=channel,
                reference=ref,
                amount=r["amount"],
                currency=str(r["currency"]).strip(),
                status=status,
                value_date=value_date or created.date(),
                end_to_end_id=r["end_to_end_id"],
                uetr=str(r["uetr"]) if r["uetr"] else None,
                instruction_id=r["instruction_id"],
                merge_id=ref if shared[ref] > 1 else None,
                counterparty=None,
            )
        )
    return out


async def load_records(
    pool: Any, channel: str, since: datetime, *, value_date: date | None = None
) -> list[GatewayRecord]:
    """Payments given to ``channel`` since ``since``; ``value_date`` (the statement date)
    overrides the created-at date when given."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(_QUERY, channel, since)
    return to_records(list(rows), channel, value_date)


async def first_seen(pool: Any, channel: str, references: list[str]) -> datetime | None:
    """When the gateway created the earliest payment the rail knows by one of
    ``references``: the start of the window a rail's statement can speak about."""
    if not references:
        return None
    async with pool.acquire() as conn:
        value = await conn.fetchval(
            "SELECT min(created_at) FROM payments"
            " WHERE channel = $1 AND channel_reference = ANY($2::text[])",
            channel,
            references,
        )
    return value if isinstance(value, datetime) else None
