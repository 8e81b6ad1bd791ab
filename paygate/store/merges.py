"""Merges (并笔) in PostgreSQL: pending items, closing a merge in one transaction, the
aggregate payment, the fan-out of its outcome to the items, and the savings reports.

Every function runs in the caller's transaction. Item moves are set-based (one statement
for all items of a merge) and guarded by ``status``: a count that does not match raises
``StateError`` so the caller's transaction rolls back instead of half-closing a merge.

Closing a merge writes the merge, its links in ``merge_items`` and its aggregate, but does
not rewrite the items' payment rows (wide, with eight indexes: that UPDATE was most of the
closing time). An item linked to a live merge is "in" it from that commit on: it is never
selected again and cannot be cancelled. ``move_closed_items`` then moves the items of closed
merges ``pending_merge → submitted`` with their event, merge by merge, off the close path;
a merge's outcome does it first if it comes earlier (``settle_merge``, ``reject_merge``);
after a crash the next tick does it (``merges.items_moved`` marks what is left)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

import asyncpg

from paygate.domain import PaymentOrder, PaymentStatus, check_transition
from paygate.errors import NotFound, StateError
from paygate.store.ids import new_id
from paygate.store.payments import Conn

S = PaymentStatus
MERGE_CLIENT = "paygate-merge"


class PendingItem(NamedTuple):
    """A pending item with what the planner needs, read from columns and the stored order
    (validated at intake) without re-validating it. ``order_doc`` is only loaded for the
    items whose order seeds an aggregate (``close_merges`` fetches the ones it needs).
    A tuple: a close reads up to a page (20,000) of them at once."""

    payment_id: uuid.UUID
    client_id: uuid.UUID
    amount: Decimal
    currency: str
    order_doc: dict[str, Any] | None
    merge_rule: str | None
    merge_since: dt.datetime
    product: str | None = None
    business_category: str | None = None
    creditor_account: str = ""
    creditor_name: str = ""
    deadline: dt.datetime | None = None


@dataclass(frozen=True)
class MergeRow:
    id: uuid.UUID
    merge_key: str
    rule_id: str
    currency: str
    creditor_account: str
    total: Decimal
    item_count: int
    status: str
    reason: str
    payment_id: uuid.UUID
    reference: str
    channel: str | None
    fee_charged: Decimal | None
    fee_if_single: Decimal | None
    closed_at: dt.datetime
    settled_at: dt.datetime | None

    @classmethod
    def from_record(cls, r: asyncpg.Record) -> MergeRow:
        return cls(**{k: r[k] for k in cls.__dataclass_fields__})


_MERGE_COLUMNS = (
    "id, merge_key, rule_id, currency, creditor_account, total, item_count, status, reason, "
    "payment_id, reference, channel, fee_charged, fee_if_single, closed_at, settled_at"
)


def merge_reference(merge_id: uuid.UUID) -> str:
    """The aggregate's EndToEndId, the line the payee's statement shows (≤ 35 chars)."""
    return f"MRG-{merge_id.hex[-16:].upper()}"


async def to_pending(
    conn: asyncpg.Connection,
    payment_id: uuid.UUID,
    rule_id: str,
    now: dt.datetime,
) -> None:
    """validated → pending_merge, off the dispatch queue, with the rule chosen at intake."""
    if not await to_pending_many(conn, [(payment_id, rule_id, now)]):
        raise StateError(f"payment {payment_id} is no longer validated")


async def to_pending_many(
    conn: asyncpg.Connection, items: Sequence[tuple[uuid.UUID, str, dt.datetime]]
) -> set[uuid.UUID]:
    """``to_pending`` for many ``(payment, rule, since)`` in one statement (the transitions
    and their events); returns the payments moved: the others were no longer validated."""
    check_transition(S.VALIDATED, S.PENDING_MERGE)
    rows = await conn.fetch(
        """WITH input AS (
               SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[])
                   AS t(id, rule, since)
           ), moved AS (
               UPDATE payments p SET status = 'pending_merge', merge_rule = i.rule,
                   merge_since = i.since, next_action = NULL, next_action_at = NULL,
                   updated_at = now()
               FROM input i WHERE p.id = i.id AND p.status = 'validated'
               RETURNING p.id, i.rule
           ), ev AS (
               INSERT INTO payment_events (payment_id, from_status, to_status, reason, data)
               SELECT id, 'validated', 'pending_merge', 'waiting to be merged under rule ' || rule,
                      jsonb_build_object('rule', rule)
               FROM moved
           )
           SELECT id FROM moved""",
        [i[0] for i in items],
        [i[1] for i in items],
        [i[2] for i in items],
    )
    return {r["id"] for r in rows}


async def lock_pending(conn: asyncpg.Connection, limit: int) -> list[PendingItem]:
    """Pending items not in any merge, locked for this transaction; others' locks skipped."""
    # Columns in ``PendingItem`` field order: one positional call per row.
    rows = await conn.fetch(
        """SELECT id, client_id, amount, currency, NULL::jsonb AS order_doc, merge_rule,
                  merge_since, product, business_category,
                  coalesce(order_doc->'creditor_account'->>'iban',
                           order_doc->'creditor_account'->>'other', '') AS creditor_account,
                  coalesce(order_doc->'creditor'->>'name', '') AS creditor_name,
                  (order_doc->>'deadline')::timestamptz AS deadline
           FROM payments p WHERE status = 'pending_merge' AND NOT EXISTS (
               SELECT 1 FROM merge_items i WHERE i.payment_id = p.id AND NOT i.released)
           ORDER BY merge_since LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    return [PendingItem._make(r) for r in rows]


async def ensure_system_client(conn: Conn) -> uuid.UUID:
    row = await conn.fetchrow(
        """INSERT INTO clients (id, name) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id""",
        new_id(),
        MERGE_CLIENT,
    )
    assert row is not None
    return uuid.UUID(str(row["id"]))


@dataclass(frozen=True)
class NewMerge:
    merge_key: str
    rule_id: str
    currency: str
    creditor_account: str
    items: list[PendingItem]
    reason: str
    closed_at: dt.datetime


def aggregate_order(
    merge_id: uuid.UUID, new: NewMerge, total: Decimal, seed: dict[str, Any] | None = None
) -> PaymentOrder:
    """The one channel payment: the items' debtor and payee, the total, the merge reference.
    ``seed`` is the first item's stored order (else its ``order_doc``)."""
    doc = seed if seed is not None else new.items[0].order_doc
    if doc is None:
        raise StateError(f"no stored order for item {new.items[0].payment_id}")
    first = dict(doc)
    first.update(
        amount={"value": str(total), "currency": new.currency},
        end_to_end_id=merge_reference(merge_id),
        instruction_id=None,
        uetr=str(uuid.uuid4()),
        product=new.rule_id[:35],
        client_reference=None,
        deadline=None,
        requested_execution_date=None,
        metadata={},
        remittance={
            "unstructured": f"{len(new.items)} payments merged ({merge_reference(merge_id)})"
        },
    )
    first.pop("channel", None)
    return PaymentOrder.model_validate(first)


async def close_merge(
    conn: asyncpg.Connection, new: NewMerge, system_client: uuid.UUID
) -> uuid.UUID:
    """``close_merges`` for one merge."""
    return (await close_merges(conn, [new], system_client))[0]


async def close_merges(
    conn: asyncpg.Connection, news: list[NewMerge], system_client: uuid.UUID
) -> list[uuid.UUID]:
    """Create the merges, link their items and create one aggregate payment per merge in
    ``validated`` with a due dispatch (the items move to ``submitted`` later, in
    ``move_closed_items``). All in the caller's transaction, set-based: a fixed number of
    statements whatever the number of merges and items. The items must be pending and
    locked by the caller (``lock_pending``). The merge keys' advisory locks are taken first,
    in sorted order (so two processes closing overlapping keys cannot deadlock); the partial
    unique index on ``merge_items`` refuses an item already in a live merge, and the caller's
    transaction rolls back."""
    if not news:
        return []
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext(k)) FROM (SELECT DISTINCT unnest($1::text[]) "
        "AS k ORDER BY 1) keys",
        [n.merge_key for n in news],
    )
    now = dt.datetime.now(dt.UTC)
    # Only the first item of each merge seeds its aggregate: load just those orders.
    missing = [n.items[0].payment_id for n in news if n.items[0].order_doc is None]
    seeds: dict[uuid.UUID, dict[str, Any]] = {}
    if missing:
        rows = await conn.fetch(
            "SELECT id, order_doc FROM payments WHERE id = ANY($1::uuid[])", missing
        )
        seeds = {r["id"]: r["order_doc"] for r in rows}
    merge_ids = [new_id() for _ in news]
    aggregate_ids = [new_id() for _ in news]
    totals: list[Decimal] = []
    references: list[str] = []
    orders: list[PaymentOrder] = []
    responses: list[dict[str, Any]] = []
    links: list[tuple[uuid.UUID, uuid.UUID, Decimal]] = []
    for merge_id, aggregate_id, new in zip(merge_ids, aggregate_ids, news, strict=True):
        amounts = [i.amount for i in new.items]
        total = sum(amounts, Decimal(0))
        reference = merge_reference(merge_id)
        totals.append(total)
        references.append(reference)
        orders.append(aggregate_order(merge_id, new, total, seeds.get(new.items[0].payment_id)))
        responses.append(
            {
                "id": str(aggregate_id),
                "status": S.VALIDATED.value,
                "amount": {"value": str(total), "currency": new.currency},
                "end_to_end_id": reference,
                "merge_id": str(merge_id),
            }
        )
        links.extend((merge_id, i.payment_id, a) for i, a in zip(new.items, amounts, strict=True))
    await conn.execute(
        f"""INSERT INTO merges ({_MERGE_COLUMNS}, items_moved)
            SELECT t.id, t.merge_key, t.rule_id, t.currency, t.creditor_account, t.total,
                   t.item_count, 'submitted', t.reason, t.payment_id, t.reference, NULL, NULL,
                   NULL, t.closed_at, NULL, false
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                        $6::numeric[], $7::int[], $8::text[], $9::uuid[], $10::text[],
                        $11::timestamptz[])
                 AS t(id, merge_key, rule_id, currency, creditor_account, total, item_count,
                      reason, payment_id, reference, closed_at)""",
        merge_ids,
        [n.merge_key for n in news],
        [n.rule_id for n in news],
        [n.currency for n in news],
        [n.creditor_account for n in news],
        totals,
        [len(n.items) for n in news],
        [n.reason for n in news],
        aggregate_ids,
        references,
        [n.closed_at for n in news],
    )
    # The partial unique index refuses an item that is already in a live merge. The items
    # are the caller's, locked by ``lock_pending`` in this transaction: still pending.
    check_transition(S.PENDING_MERGE, S.SUBMITTED)
    # COPY: the links are most of the rows a close writes (binary, no array round trip).
    await conn.copy_records_to_table(
        "merge_items", records=links, columns=("merge_id", "payment_id", "amount")
    )
    await conn.execute(
        """WITH input AS (
               SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::numeric[],
                   $5::text[], $6::text[], $7::uuid[], $8::text[], $9::text[], $10::text[],
                   $11::jsonb[], $12::jsonb[], $13::uuid[], $14::int[], $15::text[])
                   AS t(id, idempotency_key, fingerprint, amount, currency, end_to_end_id,
                        uetr, product, business_category, priority, order_doc, response_doc,
                        merge_id, item_count, merge_reason)
           ), ins AS (
               INSERT INTO payments (id, client_id, idempotency_key, fingerprint, status,
                   amount, currency, end_to_end_id, instruction_id, uetr, product,
                   business_category, priority, order_doc, response_doc, next_action,
                   next_action_at, created_at, updated_at)
               SELECT id, $16, idempotency_key, fingerprint, 'validated', amount, currency,
                   end_to_end_id, NULL, uetr, product, business_category, priority, order_doc,
                   response_doc, 'dispatch', $17, $17, $17
               FROM input
           )
           INSERT INTO payment_events (payment_id, from_status, to_status, reason, data)
           SELECT id, NULL, 'validated',
                  'aggregate of merge ' || merge_id || ': ' || item_count || ' items, '
                      || amount || ' ' || currency,
                  jsonb_build_object('merge_id', merge_id::text, 'reason', merge_reason)
           FROM input""",
        aggregate_ids,
        [f"merge:{m}" for m in merge_ids],
        [m.bytes for m in merge_ids],
        totals,
        [n.currency for n in news],
        references,
        [o.uetr for o in orders],
        [o.product for o in orders],
        [o.business_category for o in orders],
        [o.priority.value for o in orders],
        [o.model_dump(mode="json") for o in orders],
        responses,
        merge_ids,
        [len(n.items) for n in news],
        [n.reason for n in news],
        system_client,
        now,
    )
    return merge_ids


async def move_closed_items(conn: asyncpg.Connection, limit: int = 1000) -> int:
    """Move the items of up to ``limit`` closed merges ``pending_merge → submitted``, one
    event each (set-based); returns the number of merges done. Merges another transaction
    holds (closing, settling) are skipped: their outcome moves the items itself."""
    ids = await conn.fetch(
        """SELECT id FROM merges WHERE NOT items_moved ORDER BY closed_at
           LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    if not ids:
        return 0
    await _move_linked_items(conn, [r["id"] for r in ids])
    return len(ids)


async def _move_linked_items(conn: asyncpg.Connection, merge_ids: list[uuid.UUID]) -> None:
    """The close's second half for these merges (their rows locked by the caller): live
    items still ``pending_merge`` → ``submitted`` with ``merge_id``, and the event."""
    check_transition(S.PENDING_MERGE, S.SUBMITTED)
    await conn.execute(
        """WITH input AS (
               SELECT i.payment_id AS id, i.merge_id, m.reference
               FROM merge_items i JOIN merges m ON m.id = i.merge_id
               WHERE i.merge_id = ANY($1::uuid[]) AND NOT i.released
           ), moved AS (
               UPDATE payments p SET status = 'submitted', updated_at = now(),
                   merge_id = i.merge_id
               FROM input i WHERE p.id = i.id AND p.status = 'pending_merge'
               RETURNING p.id, i.merge_id, i.reference
           )
           INSERT INTO payment_events (payment_id, from_status, to_status, reason, data)
           SELECT id, 'pending_merge', 'submitted',
                  'in merge ' || merge_id || ' (' || reference || ')',
                  jsonb_build_object('merge_id', merge_id::text, 'reference', reference)
           FROM moved""",
        merge_ids,
    )
    await conn.execute(
        "UPDATE merges SET items_moved = true WHERE id = ANY($1::uuid[]) AND NOT items_moved",
        merge_ids,
    )


async def _move_items(
    conn: asyncpg.Connection,
    ids: list[uuid.UUID],
    src: PaymentStatus,
    dst: PaymentStatus,
    reason: str,
    data: dict[str, Any] | None,
    *,
    set_merge: uuid.UUID | None = None,
    clear_merge: bool = False,
    merge_since: dt.datetime | None = None,
    dispatch_now: bool = False,
) -> None:
    check_transition(src, dst)
    moved = await conn.fetchval(
        """WITH moved AS (
               UPDATE payments SET status = $3, updated_at = now(),
                   merge_id = CASE WHEN $5 THEN NULL ELSE COALESCE($4, merge_id) END,
                   merge_since = COALESCE($6, merge_since),
                   next_action = CASE WHEN $7 THEN 'dispatch' ELSE next_action END,
                   next_action_at = CASE WHEN $7 THEN now() ELSE next_action_at END
               WHERE id = ANY($1::uuid[]) AND status = $2 RETURNING id
           ), ev AS (
               INSERT INTO payment_events (payment_id, from_status, to_status, reason, data)
               SELECT id, $2, $3, $8, $9 FROM moved
           )
           SELECT count(*) FROM moved""",
        ids,
        src.value,
        dst.value,
        set_merge,
        clear_merge,
        merge_since,
        dispatch_now,
        reason,
        data,
    )
    if moved != len(ids):
        raise StateError(f"{len(ids) - moved} of {len(ids)} items are no longer {src}")


async def merge_of_aggregate(conn: asyncpg.Connection, payment_id: uuid.UUID) -> MergeRow | None:
    row = await conn.fetchrow(
        f"SELECT {_MERGE_COLUMNS} FROM merges WHERE payment_id = $1 FOR UPDATE", payment_id
    )
    return None if row is None else MergeRow.from_record(row)


async def live_items(conn: Conn, merge_id: uuid.UUID) -> list[tuple[uuid.UUID, Decimal]]:
    rows = await conn.fetch(
        "SELECT payment_id, amount FROM merge_items WHERE merge_id = $1 AND NOT released "
        "ORDER BY payment_id",
        merge_id,
    )
    return [(r["payment_id"], r["amount"]) for r in rows]


async def settle_merge(
    conn: asyncpg.Connection,
    merge: MergeRow,
    channel: str | None,
    fee_charged: Decimal | None,
    fee_if_single: Decimal | None,
    now: dt.datetime,
) -> int:
    await _move_linked_items(conn, [merge.id])
    ids = [pid for pid, _ in await live_items(conn, merge.id)]
    await _move_items(
        conn,
        ids,
        S.SUBMITTED,
        S.SETTLED,
        f"settled in merge {merge.id} ({merge.reference})",
        {"merge_id": str(merge.id), "reference": merge.reference, "channel": channel},
    )
    await conn.execute(
        """UPDATE merges SET status = 'settled', channel = $2, fee_charged = $3,
               fee_if_single = $4, settled_at = $5 WHERE id = $1""",
        merge.id,
        channel,
        fee_charged,
        fee_if_single,
        now,
    )
    return len(ids)


async def reject_merge(
    conn: asyncpg.Connection,
    merge: MergeRow,
    why: str,
    individual: bool,
    now: dt.datetime,
) -> int:
    """Release the items: back to ``pending_merge`` for the next window, or routed alone."""
    await _move_linked_items(conn, [merge.id])
    ids = [pid for pid, _ in await live_items(conn, merge.id)]
    await conn.execute("UPDATE merge_items SET released = true WHERE merge_id = $1", merge.id)
    data = {"merge_id": str(merge.id), "reason": why}
    if individual:
        await _move_items(
            conn,
            ids,
            S.SUBMITTED,
            S.ROUTED,
            f"merge {merge.id} rejected ({why}); paying this item on its own",
            data,
            clear_merge=True,
            dispatch_now=True,
        )
    else:
        await _move_items(
            conn,
            ids,
            S.SUBMITTED,
            S.PENDING_MERGE,
            f"merge {merge.id} rejected ({why}); waiting for the next window",
            data,
            clear_merge=True,
            merge_since=now,
        )
    await conn.execute(
        "UPDATE merges SET status = 'rejected', reason = reason || '; rejected: ' || $2 "
        "WHERE id = $1",
        merge.id,
        why,
    )
    return len(ids)


async def cancel_pending(
    conn: asyncpg.Connection, payment_id: uuid.UUID, client_id: uuid.UUID
) -> None:
    """Cancel an item still waiting for its window; 409 (StateError) once it is in a merge."""
    row = await conn.fetchrow(
        "SELECT status, merge_id, client_id FROM payments WHERE id = $1 FOR UPDATE", payment_id
    )
    if row is None or row["client_id"] != client_id:
        raise NotFound(f"no payment {payment_id}")
    merge_id = row["merge_id"] or await conn.fetchval(
        "SELECT merge_id FROM merge_items WHERE payment_id = $1 AND NOT released", payment_id
    )
    if merge_id is not None:
        raise StateError(f"payment {payment_id} is already in merge {merge_id}")
    if row["status"] != S.PENDING_MERGE.value:
        raise StateError(f"only a payment waiting to be merged can be cancelled ({row['status']})")
    await _move_items(
        conn, [payment_id], S.PENDING_MERGE, S.CANCELLED, "cancelled by upstream", None
    )
    await conn.execute("UPDATE payments SET merge_rule = NULL WHERE id = $1", payment_id)


async def return_settled(conn: asyncpg.Connection, payment_id: uuid.UUID, reason: str) -> Decimal:
    row = await conn.fetchrow(
        "SELECT status, amount, currency FROM payments WHERE id = $1 FOR UPDATE", payment_id
    )
    if row is None:
        raise NotFound(f"no payment {payment_id}")
    if row["status"] != S.SETTLED.value:
        raise StateError(f"only a settled payment can be returned ({row['status']})")
    merge_id = await conn.fetchval("SELECT id FROM merges WHERE payment_id = $1", payment_id)
    if merge_id is not None:
        raise StateError(f"this is the aggregate of merge {merge_id}: return its items instead")
    amount: Decimal = row["amount"]
    await _move_items(
        conn,
        [payment_id],
        S.SETTLED,
        S.RETURNED,
        f"returned: {reason}; refund of {amount} {row['currency']} recorded",
        {"refund": {"value": str(amount), "currency": row["currency"]}, "reason": reason},
    )
    return amount


async def get_merge(conn: Conn, merge_id: uuid.UUID) -> MergeRow:
    row = await conn.fetchrow(f"SELECT {_MERGE_COLUMNS} FROM merges WHERE id = $1", merge_id)
    if row is None:
        raise NotFound(f"no merge {merge_id}")
    return MergeRow.from_record(row)


async def merge_items(conn: Conn, merge_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """SELECT m.payment_id, m.amount, m.released, p.status
               FROM merge_items m JOIN payments p ON p.id = m.payment_id
               WHERE m.merge_id = $1 ORDER BY m.payment_id""",
            merge_id,
        )
    )


async def savings(conn: Conn, by: str) -> list[asyncpg.Record]:
    """Settled merges grouped by day (of settlement, gateway clock) or by rule."""
    group = "to_char(settled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')" if by == "day" else "rule_id"
    return list(
        await conn.fetch(
            f"""SELECT {group} AS key, count(*) AS merges, sum(item_count) AS items,
                       sum(fee_charged) AS fee_charged, sum(fee_if_single) AS fee_if_single
                FROM merges WHERE status = 'settled' AND fee_charged IS NOT NULL
                GROUP BY 1 ORDER BY 1"""
        )
    )
