"""Reconciliation persistence (asyncpg): statements and lines, runs, matches, breaks.

The rules live in the schema (``0020_recon.sql``): a statement or line imported twice adds
nothing, a payment or line is matched at most once per channel, a resolved break is not
raised again. These functions only speak SQL; orchestration is ``recon.service``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import asyncpg

from paygate.domain import minor_units
from paygate.errors import NotFound, StateError
from paygate.recon.aggregates import FAILURE_STATUSES, Period, RailAggregate
from paygate.recon.breaks import Break
from paygate.recon.matching import Match
from paygate.recon.records import StatementLine


@dataclass(frozen=True, slots=True)
class StatementHeader:
    """What a statement says about itself, beside its lines."""

    channel: str
    statement_id: str
    source: str
    content_hash: str
    account: str | None = None
    currency: str | None = None
    sequence: int | None = None
    page: int | None = None
    opening_balance: Decimal | None = None  # signed
    opening_date: dt.date | None = None
    closing_balance: Decimal | None = None
    closing_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Imported:
    statement_pk: int
    new_statement: bool
    lines: list[StatementLine]  # under the ids they were first imported with
    added: int  # lines this import added
    # Lines whose id (statement id and position) was already imported with other content:
    # not stored, not in ``lines``; each with the stored line's row.
    conflicts: list[tuple[StatementLine, dict[str, Any]]] = field(default_factory=list)


async def previous_closing(
    conn: asyncpg.Connection, head: StatementHeader
) -> tuple[Decimal, str] | None:
    """Closing balance (and statement id) of the latest earlier statement of the same
    channel, account and currency, by closing date then import order."""
    if head.closing_date is None:
        return None
    row = await conn.fetchrow(
        """SELECT closing_balance, statement_id FROM recon_statements
           WHERE channel = $1 AND account IS NOT DISTINCT FROM $2 AND currency = $3
             AND closing_balance IS NOT NULL AND closing_date < $4
           ORDER BY closing_date DESC, id DESC LIMIT 1""",
        head.channel,
        head.account,
        head.currency,
        head.closing_date,
    )
    return None if row is None else (row["closing_balance"], row["statement_id"])


async def import_statement(
    conn: asyncpg.Connection,
    head: StatementHeader,
    lines: Sequence[StatementLine],
    charges: Mapping[str, Decimal],
) -> Imported:
    """Store a statement and its lines, idempotently, in the caller's transaction. Lines
    already known (same channel and content hash) keep their first line id, so a
    re-issued statement is matched under the ids its first import had."""
    pk = await conn.fetchval(
        """INSERT INTO recon_statements (channel, statement_id, source, account, currency,
               sequence, page, opening_balance, opening_date, closing_balance, closing_date,
               content_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (channel, content_hash) DO NOTHING RETURNING id""",
        head.channel,
        head.statement_id,
        head.source,
        head.account,
        head.currency,
        head.sequence,
        head.page,
        head.opening_balance,
        head.opening_date,
        head.closing_balance,
        head.closing_date,
        head.content_hash,
    )
    new_statement = pk is not None
    if pk is None:
        pk = await conn.fetchval(
            "SELECT id FROM recon_statements WHERE channel = $1 AND content_hash = $2",
            head.channel,
            head.content_hash,
        )
    rows = [
        (
            pk,
            ln.channel,
            ln.line_id,
            seq,
            ln.amount,
            ln.credit_debit,
            ln.currency,
            ln.value_date,
            ln.booking_date,
            ln.tx_id,
            ln.end_to_end_id,
            ln.uetr,
            ln.entry_ref,
            ln.account_servicer_ref,
            ln.batch_count,
            ln.is_fee,
            charges.get(ln.line_id),
            ln.content_hash,
        )
        for seq, ln in enumerate(lines, start=1)
    ]
    before = await _count_lines(conn, head.channel)
    await conn.executemany(
        """INSERT INTO recon_statement_lines (statement, channel, line_id, seq, amount,
               credit_debit, currency, value_date, booking_date, tx_id, end_to_end_id, uetr,
               entry_ref, acct_svcr_ref, batch_count, is_fee, stated_charges, content_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
               $17, $18)
           ON CONFLICT DO NOTHING""",
        rows,
    )
    added = await _count_lines(conn, head.channel) - before
    known = await conn.fetch(
        "SELECT content_hash, line_id FROM recon_statement_lines"
        " WHERE channel = $1 AND content_hash = ANY($2::text[])",
        head.channel,
        [ln.content_hash for ln in lines],
    )
    first_id = {r["content_hash"]: r["line_id"] for r in known}
    canonical: list[StatementLine] = []
    clashing: list[StatementLine] = []
    for ln in lines:
        found = first_id.get(ln.content_hash)
        if found is None:
            clashing.append(ln)  # neither inserted nor known: its line id holds other content
        else:
            canonical.append(ln if found == ln.line_id else replace(ln, line_id=found))
    conflicts: list[tuple[StatementLine, dict[str, Any]]] = []
    if clashing:
        stored = await conn.fetch(
            "SELECT line_id, amount, currency, credit_debit, value_date, content_hash"
            " FROM recon_statement_lines WHERE channel = $1 AND line_id = ANY($2::text[])",
            head.channel,
            [ln.line_id for ln in clashing],
        )
        by_id = {r["line_id"]: dict(r) for r in stored}
        conflicts = [(ln, by_id.get(ln.line_id, {})) for ln in clashing]
    return Imported(pk, new_statement, canonical, added, conflicts)


async def _count_lines(conn: asyncpg.Connection, channel: str) -> int:
    n = await conn.fetchval(
        "SELECT count(*) FROM recon_statement_lines WHERE channel = $1", channel
    )
    return int(n)


async def matched_ids(conn: asyncpg.Connection, channel: str) -> tuple[set[str], set[str]]:
    """(line ids, record ids) already matched on ``channel`` by earlier runs."""
    lines = await conn.fetch("SELECT line_id FROM recon_matches WHERE channel = $1", channel)
    recs = await conn.fetch("SELECT record_id FROM recon_match_records WHERE channel = $1", channel)
    return {r["line_id"] for r in lines}, {r["record_id"] for r in recs}


async def resolved_fingerprints(conn: asyncpg.Connection, channel: str) -> set[str]:
    rows = await conn.fetch(
        "SELECT fingerprint FROM recon_breaks WHERE channel = $1 AND status = 'resolved'",
        channel,
    )
    return {r["fingerprint"] for r in rows}


async def create_run(
    conn: asyncpg.Connection,
    run_id: uuid.UUID,
    channel: str,
    as_of: dt.date,
    statement_pk: int | None,
) -> None:
    await conn.execute(
        "INSERT INTO recon_runs (id, channel, as_of, statement, summary) VALUES ($1,$2,$3,$4,$5)",
        run_id,
        channel,
        as_of,
        statement_pk,
        {},
    )


async def finish_run(
    conn: asyncpg.Connection,
    run_id: uuid.UUID,
    summary: dict[str, Any],
    report_paths: Mapping[str, str],
) -> None:
    await conn.execute(
        "UPDATE recon_runs SET summary = $2, report_paths = $3 WHERE id = $1",
        run_id,
        _jsonable(summary),
        dict(report_paths),
    )


def _jsonable(value: Any) -> Any:
    # Round-trip through JSON so Decimals and dates are stored as the report shows them.
    return json.loads(json.dumps(value, default=str))


async def save_matches(
    conn: asyncpg.Connection, run_id: uuid.UUID, matches: Iterable[Match]
) -> int:
    """Insert the run's matches. A line or payment matched before raises (the unique
    constraints): that would be a double match, never something to skip silently."""
    n = 0
    for m in matches:
        match_id = await conn.fetchval(
            "INSERT INTO recon_matches (run_id, channel, line_id, kind, stage, score)"
            " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            run_id,
            m.channel,
            m.line_id,
            m.kind,
            m.stage,
            Decimal(str(m.score)),
        )
        await conn.executemany(
            "INSERT INTO recon_match_records (match_id, channel, record_id) VALUES ($1, $2, $3)",
            [(match_id, m.channel, r) for r in m.record_ids],
        )
        n += 1
    return n


def break_details(b: Break) -> dict[str, Any]:
    return {
        "alternatives": [a.value for a in b.alternatives],
        "currency": b.currency,
        "expected": None if b.expected is None else str(b.expected),
        "actual": None if b.actual is None else str(b.actual),
        "detail": b.detail,
        "related": list(b.related),
    }


async def save_breaks(
    conn: asyncpg.Connection, run_id: uuid.UUID, breaks: Iterable[Break]
) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for b in breaks:
        bid = await conn.fetchval(
            """INSERT INTO recon_breaks (run_id, channel, fingerprint, kind, grade,
                   proposed_action, record_ids, line_ids, details)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id""",
            run_id,
            b.channel,
            b.fingerprint,
            b.kind.value,
            b.grade.value,
            b.action.value,
            list(b.record_ids),
            list(b.line_ids),
            break_details(b),
        )
        ids.append(bid)
    return ids


def _break_row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(r["id"]),
        "run_id": str(r["run_id"]),
        "channel": r["channel"],
        "fingerprint": r["fingerprint"],
        "kind": r["kind"],
        "grade": r["grade"],
        "proposed_action": r["proposed_action"],
        "record_ids": list(r["record_ids"]),
        "line_ids": list(r["line_ids"]),
        **dict(r["details"]),
        "status": r["status"],
        "resolved_by": r["resolved_by"],
        "action_taken": r["action_taken"],
        "reason": r["reason"],
        "resolved_at": None if r["resolved_at"] is None else r["resolved_at"].isoformat(),
    }


async def get_run(conn: asyncpg.Connection, run_id: uuid.UUID) -> dict[str, Any]:
    row = await conn.fetchrow(
        "SELECT id, channel, as_of, created_at, summary, report_paths FROM recon_runs"
        " WHERE id = $1",
        run_id,
    )
    if row is None:
        raise NotFound(f"no reconciliation run {run_id}")
    return {
        "id": str(row["id"]),
        "channel": row["channel"],
        "as_of": row["as_of"].isoformat(),
        "created_at": row["created_at"].isoformat(),
        "summary": dict(row["summary"]),
        "report_paths": dict(row["report_paths"]),
    }


async def run_breaks(conn: asyncpg.Connection, run_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch("SELECT * FROM recon_breaks WHERE run_id = $1 ORDER BY id", run_id)
    return [_break_row(r) for r in rows]


async def get_break(
    conn: asyncpg.Connection, run_id: uuid.UUID, break_id: uuid.UUID, *, lock: bool = False
) -> dict[str, Any]:
    row = await conn.fetchrow(
        "SELECT * FROM recon_breaks WHERE run_id = $1 AND id = $2"
        + (" FOR UPDATE" if lock else ""),
        run_id,
        break_id,
    )
    if row is None:
        raise NotFound(f"no break {break_id} in reconciliation run {run_id}")
    return _break_row(row)


async def mark_resolved(
    conn: asyncpg.Connection,
    break_id: uuid.UUID,
    *,
    operator: str,
    action: str,
    reason: str,
    at: dt.datetime,
) -> None:
    done = await conn.fetchval(
        """UPDATE recon_breaks SET status = 'resolved', resolved_by = $2, action_taken = $3,
               reason = $4, resolved_at = $5
           WHERE id = $1 AND status = 'open' RETURNING id""",
        break_id,
        operator,
        action,
        reason,
        at,
    )
    if done is None:
        raise StateError(f"break {break_id} is already resolved")


_AGGREGATES = """
SELECT channel,
       to_char(created_at AT TIME ZONE 'UTC', $1) AS period,
       currency,
       count(*) AS volume,
       count(*) FILTER (WHERE status = 'settled') AS settled,
       count(*) FILTER (WHERE status = ANY($2::text[])) AS failed,
       coalesce(sum(amount) FILTER (WHERE status = 'settled'), 0) AS amount
FROM payments
WHERE channel IS NOT NULL
  AND ($3::text IS NULL OR channel = $3)
  AND ($4::timestamptz IS NULL OR created_at >= $4)
  AND ($5::timestamptz IS NULL OR created_at < $5)
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""


async def rail_aggregates(
    conn: asyncpg.Connection,
    period: Period,
    *,
    channel: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[RailAggregate]:
    """Volume, success rate and settled amount per rail and UTC day or month of creation,
    set-based over the payments routed to a rail (``channel`` set), ``[since, until)``.
    The same definitions as ``aggregates.aggregate`` (failed = failed, rejected, returned,
    cancelled; in-flight payments count in the volume only)."""
    rows = await conn.fetch(
        _AGGREGATES,
        "YYYY-MM-DD" if period == "day" else "YYYY-MM",
        sorted(FAILURE_STATUSES),
        channel,
        since,
        until,
    )
    out: dict[tuple[str, str], RailAggregate] = {}
    for r in rows:
        key = (str(r["channel"]), str(r["period"]))
        agg = out.get(key)
        if agg is None:
            agg = out[key] = RailAggregate(*key)
        agg.volume += int(r["volume"])
        agg.settled += int(r["settled"])
        agg.failed += int(r["failed"])
        if r["settled"]:
            ccy = str(r["currency"]).strip()
            total = agg.amount.get(ccy, Decimal(0)) + r["amount"]
            agg.amount[ccy] = total.quantize(Decimal(1).scaleb(-minor_units(ccy)))
    return [out[k] for k in sorted(out)]
