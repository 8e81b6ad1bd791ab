"""Payments, their events and submissions: every write that changes a payment's state."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any, TypeAlias

import asyncpg

from paygate.domain import PaymentOrder, PaymentStatus, check_transition
from paygate.errors import IdempotencyConflict, NotFound, StateError
from paygate.store.ids import new_id

Conn: TypeAlias = asyncpg.Connection | asyncpg.Pool


@dataclass(frozen=True)
class NewPayment:
    client_id: uuid.UUID
    idempotency_key: str
    fingerprint: bytes
    order: PaymentOrder
    order_doc: dict[str, Any] | None = None
    # The order's JSON text if the caller already has it (the API: ``order.model_dump_json()``),
    # so that the INSERT does not build a dict and dump it again.
    order_json: str | None = None

    def document(self) -> dict[str, Any]:
        return self.order_doc if self.order_doc is not None else self.order.model_dump(mode="json")

    def stored_json(self) -> str:
        if self.order_json is not None:
            return self.order_json
        return json.dumps(self.document())


@dataclass(frozen=True)
class PaymentRow:
    id: uuid.UUID
    client_id: uuid.UUID
    status: PaymentStatus
    amount: Decimal
    currency: str
    end_to_end_id: str
    instruction_id: str | None
    uetr: uuid.UUID
    # The stored order document; claims fetch it as JSON text (see ``claim_due``), which
    # validates faster (``model_validate_json``) than decoding it to a dict first.
    stored_order: dict[str, Any] | str
    channel: str | None
    channel_reference: str | None
    fee: Decimal | None
    tried_channels: list[str]
    next_action: str | None
    action_attempts: int
    merge_id: uuid.UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_record(cls, r: asyncpg.Record) -> PaymentRow:
        return cls(
            id=r["id"],
            client_id=r["client_id"],
            status=PaymentStatus(r["status"]),
            amount=r["amount"],
            currency=r["currency"],
            end_to_end_id=r["end_to_end_id"],
            instruction_id=r["instruction_id"],
            uetr=r["uetr"],
            stored_order=r["order_doc"],
            channel=r["channel"],
            channel_reference=r["channel_reference"],
            fee=r["fee"],
            tried_channels=list(r["tried_channels"]),
            next_action=r["next_action"],
            action_attempts=r["action_attempts"],
            merge_id=r["merge_id"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
        )

    @cached_property
    def order_doc(self) -> dict[str, Any]:
        doc = self.stored_order
        return json.loads(doc) if isinstance(doc, str) else doc

    @cached_property
    def order(self) -> PaymentOrder:
        """The stored order, validated once per row (it was validated at intake)."""
        doc = self.stored_order
        if isinstance(doc, str):
            return PaymentOrder.model_validate_json(doc)
        return PaymentOrder.model_validate(doc)


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    from_status: str | None
    to_status: str
    reason: str
    data: dict[str, Any] | None


@dataclass(frozen=True)
class Submission:
    id: uuid.UUID
    payment_id: uuid.UUID
    channel: str
    reference: str
    attempt: int
    state: str
    reason: str | None


_COLUMNS = (
    "id, client_id, status, amount, currency, end_to_end_id, instruction_id, uetr, order_doc, "
    "channel, channel_reference, fee, tried_channels, next_action, action_attempts, merge_id, "
    "created_at, updated_at"
)

_INSERT_ONE = """
WITH ins AS (
    INSERT INTO payments (id, client_id, idempotency_key, fingerprint, status, amount, currency,
        end_to_end_id, instruction_id, uetr, product, business_category, priority, order_doc,
        response_doc, next_action, next_action_at, created_at, updated_at)
    VALUES ($1, $2, $3, $4, 'validated', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
        'dispatch', $15, $15, $15)
    ON CONFLICT (client_id, idempotency_key) DO NOTHING
    RETURNING id, created_at
), ev AS (
    INSERT INTO payment_events (payment_id, at, from_status, to_status, reason)
    SELECT id, created_at, NULL, 'received', 'accepted by the API' FROM ins
    UNION ALL
    SELECT id, created_at, 'received', 'validated', 'canonical order is valid' FROM ins
)
SELECT id FROM ins
"""


def initial_response(payment_id: uuid.UUID, new: NewPayment, now: dt.datetime) -> dict[str, Any]:
    order = new.order
    return {
        "id": str(payment_id),
        "status": PaymentStatus.VALIDATED.value,
        "amount": {"value": str(order.amount.value), "currency": order.amount.currency},
        "end_to_end_id": order.end_to_end_id,
        "instruction_id": order.instruction_id,
        "uetr": str(order.uetr),
        "client_reference": order.client_reference,
        "channel": None,
        "fee": None,
        "created_at": now.isoformat(),
        "updated_at": now.isoformat(),
    }


async def insert_payment(
    conn: Conn, new: NewPayment, now: dt.datetime
) -> tuple[bool, dict[str, Any]]:
    """Insert once per (client, idempotency key). Returns (created, response document).

    A replay with the same fingerprint returns the stored response; a different body under the
    same key raises ``IdempotencyConflict``.
    """
    payment_id = new_id()
    response = initial_response(payment_id, new, now)
    order = new.order
    inserted = await conn.fetchval(
        _INSERT_ONE,
        payment_id,
        new.client_id,
        new.idempotency_key,
        new.fingerprint,
        order.amount.value,
        order.amount.currency,
        order.end_to_end_id,
        order.instruction_id,
        order.uetr,
        order.product,
        order.business_category,
        order.priority.value,
        new.document(),
        response,
        now,
    )
    if inserted is not None:
        return True, response
    existing = await conn.fetchrow(
        "SELECT fingerprint, response_doc FROM payments WHERE client_id=$1 AND idempotency_key=$2",
        new.client_id,
        new.idempotency_key,
    )
    if existing is None:  # deleted between the two statements: cannot happen without DELETEs
        raise StateError("idempotency record vanished; retry the request")
    if bytes(existing["fingerprint"]) != new.fingerprint:
        raise IdempotencyConflict(
            "this Idempotency-Key was already used with a different request body"
        )
    return False, dict(existing["response_doc"])


_INSERT_MANY = """
WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bytea[], $5::numeric[],
        $6::text[], $7::text[], $8::text[], $9::uuid[], $10::text[], $11::text[], $12::text[],
        $13::text[], $14::text[], $15::timestamptz[])
        AS t(id, client_id, idempotency_key, fingerprint, amount, currency, end_to_end_id,
             instruction_id, uetr, product, business_category, priority, order_doc,
             response_doc, at)
), ins AS (
    INSERT INTO payments (id, client_id, idempotency_key, fingerprint, status, amount, currency,
        end_to_end_id, instruction_id, uetr, product, business_category, priority, order_doc,
        response_doc, next_action, next_action_at, created_at, updated_at)
    SELECT id, client_id, idempotency_key, fingerprint, 'validated', amount, currency,
        end_to_end_id, instruction_id, uetr, product, business_category, priority,
        order_doc::jsonb, response_doc::jsonb, 'dispatch', at, at, at
    FROM input
    ORDER BY client_id, idempotency_key
    ON CONFLICT (client_id, idempotency_key) DO NOTHING
    RETURNING id, created_at
), ev AS (
    INSERT INTO payment_events (payment_id, at, from_status, to_status, reason)
    SELECT id, created_at, NULL, 'received', 'accepted by the API' FROM ins
    UNION ALL
    SELECT id, created_at, 'received', 'validated', 'canonical order is valid' FROM ins
)
SELECT id FROM ins
"""

_STORED_MANY = """
SELECT p.client_id, p.idempotency_key, p.fingerprint, p.response_doc
FROM payments p
JOIN unnest($1::uuid[], $2::text[]) AS k(client_id, idempotency_key)
  ON p.client_id = k.client_id AND p.idempotency_key = k.idempotency_key
"""

InsertOutcome: TypeAlias = tuple[bool, dict[str, Any]] | IdempotencyConflict | StateError


async def insert_payments(
    conn: Conn, items: list[tuple[NewPayment, dt.datetime]]
) -> list[InsertOutcome]:
    """``insert_payment`` for many orders at once: one multi-row INSERT (with the two intake
    events, in the same statement) and, only for keys that already existed, one SELECT.

    Returns, position by position, exactly what ``insert_payment`` would have returned for that
    item, or the error it would have raised. Several items with the same (client, key) behave
    like concurrent requests: one creates the row, the others replay it (or conflict).
    """
    first: dict[tuple[uuid.UUID, str], int] = {}
    for i, (new, _) in enumerate(items):
        first.setdefault((new.client_id, new.idempotency_key), i)
    reps = [items[i] for i in first.values()]
    ids = [new_id() for _ in reps]
    responses = [initial_response(pid, new, now) for pid, (new, now) in zip(ids, reps, strict=True)]
    orders = [new.order for new, _ in reps]
    inserted_rows = await conn.fetch(
        _INSERT_MANY,
        ids,
        [new.client_id for new, _ in reps],
        [new.idempotency_key for new, _ in reps],
        [new.fingerprint for new, _ in reps],
        [o.amount.value for o in orders],
        [o.amount.currency for o in orders],
        [o.end_to_end_id for o in orders],
        [o.instruction_id for o in orders],
        [o.uetr for o in orders],
        [o.product for o in orders],
        [o.business_category for o in orders],
        [o.priority.value for o in orders],
        [new.stored_json() for new, _ in reps],
        [json.dumps(r) for r in responses],
        [now for _, now in reps],
    )
    inserted = {r["id"] for r in inserted_rows}
    # (client, key) -> (fingerprint, response, index of the item that created it or -1)
    stored: dict[tuple[uuid.UUID, str], tuple[bytes, dict[str, Any], int]] = {}
    missing: list[tuple[uuid.UUID, str]] = []
    for (k, index), pid, response in zip(first.items(), ids, responses, strict=True):
        if pid in inserted:
            stored[k] = (items[index][0].fingerprint, response, index)
        else:
            missing.append(k)
    if missing:
        rows = await conn.fetch(_STORED_MANY, [k[0] for k in missing], [k[1] for k in missing])
        for r in rows:
            k = (r["client_id"], r["idempotency_key"])
            stored[k] = (bytes(r["fingerprint"]), dict(r["response_doc"]), -1)
    out: list[InsertOutcome] = []
    for i, (new, _) in enumerate(items):
        found = stored.get((new.client_id, new.idempotency_key))
        if found is None:  # deleted between the two statements: cannot happen without DELETEs
            out.append(StateError("idempotency record vanished; retry the request"))
        elif found[0] != new.fingerprint:
            out.append(
                IdempotencyConflict(
                    "this Idempotency-Key was already used with a different request body"
                )
            )
        else:
            out.append((found[2] == i, dict(found[1])))
    return out


async def get_payment(conn: Conn, payment_id: uuid.UUID, client_id: uuid.UUID | None) -> PaymentRow:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM payments WHERE id = $1", payment_id)
    if row is None or (client_id is not None and row["client_id"] != client_id):
        raise NotFound(f"no payment {payment_id}")
    return PaymentRow.from_record(row)


async def list_payments(
    conn: Conn,
    client_id: uuid.UUID,
    *,
    status: str | None,
    since: dt.datetime | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[PaymentRow]:
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM payments
            WHERE client_id = $1 AND ($2::text IS NULL OR status = $2)
              AND ($3::timestamptz IS NULL OR created_at >= $3)
              AND ($4::uuid IS NULL OR id > $4)
            ORDER BY id LIMIT $5""",
        client_id,
        status,
        since,
        after,
        limit,
    )
    return [PaymentRow.from_record(r) for r in rows]


async def events(conn: Conn, payment_id: uuid.UUID) -> list[Event]:
    rows = await conn.fetch(
        "SELECT at, from_status, to_status, reason, data FROM payment_events "
        "WHERE payment_id = $1 ORDER BY id",
        payment_id,
    )
    return [Event(r["at"], r["from_status"], r["to_status"], r["reason"], r["data"]) for r in rows]


async def transition(
    conn: asyncpg.Connection,
    payment_id: uuid.UUID,
    src: PaymentStatus,
    dst: PaymentStatus,
    reason: str,
    *,
    data: dict[str, Any] | None = None,
    set_fields: dict[str, Any] | None = None,
) -> None:
    """Move a payment from ``src`` to ``dst`` and append the event, in the caller's transaction.

    The ``WHERE status = src`` guard makes a concurrent change fail loudly instead of being
    overwritten.
    """
    check_transition(src, dst)
    fields = dict(set_fields or {})
    assignments = ["status = $3", "updated_at = now()"]
    args: list[Any] = [payment_id, src.value, dst.value]
    for name, value in fields.items():
        args.append(value)
        assignments.append(f"{name} = ${len(args)}")
    args.extend((reason, data))
    reason_at, data_at = len(args) - 1, len(args)
    # One round trip: the guarded UPDATE and its event in one statement (so in one transaction);
    # when the guard matches no row, the event CTE inserts nothing either.
    updated = await conn.fetchval(
        f"""WITH upd AS (
                UPDATE payments SET {", ".join(assignments)}
                WHERE id = $1 AND status = $2 RETURNING id
            ), ev AS (
                INSERT INTO payment_events (payment_id, from_status, to_status, reason, data)
                SELECT id, $2::text, $3::text, ${reason_at}::text, ${data_at}::jsonb FROM upd
            )
            SELECT id FROM upd""",
        *args,
    )
    if updated is None:
        raise StateError(f"payment {payment_id} is no longer {src}")


async def add_event(
    conn: Conn,
    payment_id: uuid.UUID,
    status: PaymentStatus,
    reason: str,
    data: dict[str, Any] | None = None,
) -> None:
    """An event that records something without changing the state (an inquiry, an alert)."""
    await conn.execute(
        "INSERT INTO payment_events (payment_id, from_status, to_status, reason, data) "
        "VALUES ($1, $2, $2, $3, $4)",
        payment_id,
        status.value,
        reason,
        data,
    )


async def schedule(
    conn: Conn,
    payment_id: uuid.UUID,
    action: str | None,
    delay_s: float = 0.0,
    *,
    reset_attempts: bool = False,
) -> None:
    await conn.execute(
        """UPDATE payments SET next_action = $2,
               next_action_at = CASE WHEN $2::text IS NULL THEN NULL
                                     ELSE now() + make_interval(secs => $3) END,
               action_attempts = CASE WHEN $4 THEN 0 ELSE action_attempts END
           WHERE id = $1""",
        payment_id,
        action,
        delay_s,
        reset_attempts,
    )


# The order document as text: ``PaymentRow.order`` validates it straight from JSON.
_CLAIM_COLUMNS = ", ".join(
    "p.order_doc::text AS order_doc" if c.strip() == "order_doc" else "p." + c.strip()
    for c in _COLUMNS.split(",")
)


async def claim_due(conn: Conn, limit: int, lease_s: float) -> list[PaymentRow]:
    """Claim due work. The lease (next_action_at pushed forward) hands the row to another
    worker if this process dies before it finishes."""
    rows = await conn.fetch(
        f"""WITH due AS (
                SELECT id FROM payments
                WHERE next_action_at <= now()
                ORDER BY next_action_at
                LIMIT $1
                FOR UPDATE SKIP LOCKED)
            UPDATE payments p
               SET next_action_at = now() + make_interval(secs => $2),
                   action_attempts = p.action_attempts + 1
              FROM due WHERE p.id = due.id
            RETURNING {_CLAIM_COLUMNS}""",
        limit,
        lease_s,
    )
    return [PaymentRow.from_record(r) for r in rows]


async def create_submission(
    conn: asyncpg.Connection, payment_id: uuid.UUID, channel: str, reference: str, attempt: int
) -> Submission:
    sub_id = new_id()
    await conn.execute(
        "INSERT INTO submissions (id, payment_id, channel, reference, attempt, state) "
        "VALUES ($1, $2, $3, $4, $5, 'pending')",
        sub_id,
        payment_id,
        channel,
        reference,
        attempt,
    )
    return Submission(sub_id, payment_id, channel, reference, attempt, "pending", None)


async def next_attempt(conn: Conn, payment_id: uuid.UUID) -> int:
    sql = "SELECT count(*) + 1 FROM submissions WHERE payment_id = $1"
    return int(await conn.fetchval(sql, payment_id))


async def live_submission(conn: Conn, payment_id: uuid.UUID) -> Submission | None:
    row = await conn.fetchrow(
        "SELECT id, payment_id, channel, reference, attempt, state, reason FROM submissions "
        "WHERE payment_id = $1 AND state IN ('pending','sent','accepted','unknown','settled')",
        payment_id,
    )
    if row is None:
        return None
    return Submission(**dict(row))


async def set_submission_state_by_ref(
    conn: Conn,
    reference: str,
    state: str,
    reason: str | None = None,
    fee: Decimal | None = None,
) -> None:
    await conn.execute(
        """UPDATE submissions
           SET state = $2, reason = COALESCE($3, reason), fee = COALESCE($4, fee),
               sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END,
               resolved_at = CASE WHEN $2 IN ('settled','rejected','not_received')
                                  THEN now() ELSE resolved_at END
           WHERE reference = $1""",
        reference,
        state,
        reason,
        fee,
    )


async def submissions_for(conn: Conn, payment_ids: Iterable[uuid.UUID]) -> list[Submission]:
    rows = await conn.fetch(
        "SELECT id, payment_id, channel, reference, attempt, state, reason FROM submissions "
        "WHERE payment_id = ANY($1::uuid[]) ORDER BY payment_id, attempt",
        list(payment_ids),
    )
    return [Submission(**dict(r)) for r in rows]


async def count_by_status(conn: Conn) -> dict[tuple[str, str | None], int]:
    rows = await conn.fetch("SELECT status, channel, count(*) AS n FROM payments GROUP BY 1, 2")
    return {(r["status"], r["channel"]): r["n"] for r in rows}


@dataclass(frozen=True)
class Dispatch:
    """One routed payment of a batch: the guarded ``src → routed → submitted`` transitions,
    their two events and the submission row, written by ``submit_many``."""

    payment_id: uuid.UUID
    src: PaymentStatus
    channel: str
    fee: Decimal | None
    route_request: dict[str, Any] | str  # a document, or its JSON text
    routed_reason: str
    routed_data: dict[str, Any]
    reference: str
    attempt: int
    submitted_reason: str
    message_id: str | None = None  # the MsgId when it travels with other payments


_SUBMIT_MANY = """
WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::numeric[], $5::text[],
        $6::text[], $7::text[], $8::uuid[], $9::text[], $10::int[], $11::text[], $12::int[],
        $14::text[])
        AS t(id, src, channel, fee, route_request, routed_reason, routed_data, sub_id,
             reference, attempt, submitted_reason, ord, message_id)
), upd AS (
    UPDATE payments p
       SET status = 'submitted', updated_at = now(), channel = i.channel, fee = i.fee,
           route_request = i.route_request::jsonb, channel_reference = i.reference,
           next_action = 'inquire', next_action_at = now() + make_interval(secs => $13)
      FROM input i
     WHERE p.id = i.id AND p.status = i.src
    RETURNING p.id
), ev AS (
    INSERT INTO payment_events (payment_id, from_status, to_status, reason, data)
    SELECT e.id, e.from_status, e.to_status, e.reason, e.data FROM (
        SELECT i.id, i.src AS from_status, 'routed' AS to_status, i.routed_reason AS reason,
               i.routed_data::jsonb AS data, i.ord, 0 AS step
          FROM input i JOIN upd USING (id)
        UNION ALL
        SELECT i.id, 'routed', 'submitted', i.submitted_reason,
               CASE WHEN i.message_id IS NOT NULL
                    THEN jsonb_build_object('message_id', i.message_id) END, i.ord, 1
          FROM input i JOIN upd USING (id)
    ) e ORDER BY e.ord, e.step
), sub AS (
    INSERT INTO submissions (id, payment_id, channel, reference, attempt, state)
    SELECT i.sub_id, i.id, i.channel, i.reference, i.attempt, 'pending'
      FROM input i JOIN upd USING (id)
)
SELECT id FROM upd
"""


async def attempts_of(conn: Conn, payment_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """``next_attempt`` for many payments in one statement."""
    rows = await conn.fetch(
        "SELECT payment_id, count(*) + 1 AS n FROM submissions "
        "WHERE payment_id = ANY($1::uuid[]) GROUP BY payment_id",
        payment_ids,
    )
    found = {r["payment_id"]: int(r["n"]) for r in rows}
    return {pid: found.get(pid, 1) for pid in payment_ids}


async def submit_many(
    conn: asyncpg.Connection, items: list[Dispatch], lease_s: float
) -> set[uuid.UUID]:
    """For every item, in the caller's transaction and in one statement: what ``transition``
    (src → routed), ``create_submission``, ``transition`` (routed → submitted) and the lease
    (next action ``inquire`` after ``lease_s``) do for one payment. An item whose payment is
    no longer in ``src`` is skipped entirely (no event, no submission). Returns the ids
    written."""
    for d in items:
        check_transition(d.src, PaymentStatus.ROUTED)
        check_transition(PaymentStatus.ROUTED, PaymentStatus.SUBMITTED)
    rows = await conn.fetch(
        _SUBMIT_MANY,
        [d.payment_id for d in items],
        [d.src.value for d in items],
        [d.channel for d in items],
        [d.fee for d in items],
        [
            d.route_request if isinstance(d.route_request, str) else json.dumps(d.route_request)
            for d in items
        ],
        [d.routed_reason for d in items],
        [json.dumps(d.routed_data) for d in items],
        [new_id() for _ in items],
        [d.reference for d in items],
        [d.attempt for d in items],
        [d.submitted_reason for d in items],
        list(range(len(items))),
        float(lease_s),
        [d.message_id for d in items],
    )
    return {r["id"] for r in rows}


@dataclass(frozen=True)
class Answer:
    """One settled / accepted / received answer of a batch, recorded by ``record_many``.

    ``dst == src`` (received): no transition, no event. ``next_action`` None with
    ``delay_s`` None clears the schedule (settled)."""

    payment_id: uuid.UUID
    reference: str
    src: PaymentStatus
    dst: PaymentStatus
    reason: str
    submission_state: str
    fee: Decimal | None
    next_action: str | None
    delay_s: float | None


_RECORD_MANY = """
WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
        $6::text[], $7::numeric[], $8::text[], $9::float8[], $10::int[])
        AS t(id, reference, src, dst, reason, sub_state, fee, next_action, delay_s, ord)
), upd AS (
    UPDATE payments p
       SET status = i.dst,
           updated_at = CASE WHEN i.dst <> i.src THEN now() ELSE p.updated_at END,
           fee = CASE WHEN i.dst = 'settled' THEN COALESCE(i.fee, p.fee) ELSE p.fee END,
           next_action = i.next_action,
           next_action_at = CASE WHEN i.next_action IS NULL THEN NULL
                                 ELSE now() + make_interval(secs => i.delay_s) END
      FROM input i
     WHERE p.id = i.id AND (p.status = i.src OR i.dst = i.src)
    RETURNING p.id
), ev AS (
    INSERT INTO payment_events (payment_id, from_status, to_status, reason)
    SELECT i.id, i.src, i.dst, i.reason FROM input i JOIN upd USING (id)
     WHERE i.dst <> i.src ORDER BY i.ord
), sub AS (
    UPDATE submissions s
       SET state = i.sub_state, fee = COALESCE(i.fee, s.fee),
           resolved_at = CASE WHEN i.sub_state = 'settled' THEN now() ELSE s.resolved_at END
      FROM input i JOIN upd USING (id)
     WHERE s.reference = i.reference
)
SELECT id FROM upd
"""


async def record_many(conn: asyncpg.Connection, items: list[Answer]) -> set[uuid.UUID]:
    """For every item, in the caller's transaction and in one statement: the submission state
    (``set_submission_state_by_ref``), the guarded transition with its event when ``dst !=
    src``, and the schedule. An item whose payment is no longer in ``src`` is skipped
    entirely. Returns the ids written."""
    for o in items:
        if o.dst != o.src:
            check_transition(o.src, o.dst)
    rows = await conn.fetch(
        _RECORD_MANY,
        [o.payment_id for o in items],
        [o.reference for o in items],
        [o.src.value for o in items],
        [o.dst.value for o in items],
        [o.reason for o in items],
        [o.submission_state for o in items],
        [o.fee for o in items],
        [o.next_action for o in items],
        [o.delay_s for o in items],
        list(range(len(items))),
    )
    return {r["id"] for r in rows}
