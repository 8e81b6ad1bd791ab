"""One reconciliation run, end to end: import → match → persist → report. And the
operator's resolution of a break, with its effect on the payment.

The matcher stays pure (``recon.matching``); this module is the I/O shell around it. A run
takes a per-channel advisory lock so two gateway processes reconciling the same rail at
once cannot match one payment twice (the unique constraints would refuse it anyway).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

import asyncpg

from paygate.domain import PaymentStatus, can_transition
from paygate.errors import FieldError, StateError, UnsupportedMessage, ValidationFailed
from paygate.messages.statements import Statement
from paygate.recon import repository as repo
from paygate.recon.breaks import Break, check_continuity, statement_conflict
from paygate.recon.csv_import import CsvMapping, import_csv
from paygate.recon.gateway_records import first_seen, load_records
from paygate.recon.matching import MatchResult, Tolerances, match
from paygate.recon.records import GatewayRecord, StatementLine, content_hash
from paygate.recon.report import summarize, write_reports
from paygate.recon.statement_lines import detect_and_parse, lines_from_statement
from paygate.store import payments as payments_repo

# MT940 :86: names a charge included in the amount as /CHGS/[CCY]amount.
_CHGS = re.compile(r"/CHGS/(?:[A-Z]{3})?(\d+(?:[.,]\d+)?)")


class ResolveAction(StrEnum):
    """What an operator may confirm for a break."""

    REVERSE = "reverse"
    SUPPLEMENTARY_POSTING = "supplementary_posting"
    CREDIT_ADJUSTMENT = "credit_adjustment"
    RETURN_BY_ORIGINAL_ROUTE = "return_by_original_route"
    ACCEPT = "accept"
    FEE_POSTING = "fee_posting"
    CORRECT_STATUS = "correct_status"
    MARK_FAILED = "mark_failed"


# Actions that move the payment's status (when its state machine allows); every other
# action leaves the status and records an event.
_STATUS_EFFECT: dict[ResolveAction, PaymentStatus] = {
    ResolveAction.CORRECT_STATUS: PaymentStatus.SETTLED,
    ResolveAction.MARK_FAILED: PaymentStatus.FAILED,
}


@dataclass(slots=True)
class _Page:
    head: repo.StatementHeader
    lines: list[StatementLine]
    charges: dict[str, Decimal]


@dataclass(slots=True)
class RunResult:
    run_id: uuid.UUID
    channel: str
    as_of: dt.date
    statement_ids: list[str]
    lines_seen: int
    lines_added: int
    breaks: list[Break]
    break_ids: list[uuid.UUID]
    summary: dict[str, Any]
    report_paths: dict[str, str] = field(default_factory=dict)
    # The values the run worked on, for callers that show or compare more (the demo).
    match: MatchResult = field(default_factory=MatchResult)
    lines: list[StatementLine] = field(default_factory=list)
    records: list[GatewayRecord] = field(default_factory=list)


def stated_charge(fees: Decimal | None, details: str | None) -> Decimal | None:
    if fees:
        return fees
    found = _CHGS.search(details or "")
    if found is None:
        return None
    try:
        return Decimal(found.group(1).replace(",", "."))
    except InvalidOperation:
        return None


def _page(channel: str, stmt: Statement, statement_id: str) -> _Page:
    lines = lines_from_statement(stmt, channel=channel, statement_id=statement_id)
    charges: dict[str, Decimal] = {}
    for line, entry in zip(lines, stmt.entries, strict=True):
        charge = None if line.is_fee else stated_charge(entry.fees, entry.details)
        if charge:
            charges[line.line_id] = charge
    opening, closing = stmt.opening_balance, stmt.closing_balance
    currency = stmt.currency or (opening.currency if opening else None)
    head = repo.StatementHeader(
        channel=channel,
        statement_id=statement_id,
        source=stmt.source,
        account=stmt.account or None,
        currency=currency,
        sequence=stmt.sequence,
        page=stmt.page,
        opening_balance=opening.signed if opening else None,
        opening_date=opening.date if opening else None,
        closing_balance=closing.signed if closing else None,
        closing_date=closing.date if closing else None,
        content_hash=content_hash(
            stmt.account,
            currency,
            opening.signed if opening else None,
            opening.date if opening else None,
            closing.signed if closing else None,
            closing.date if closing else None,
            *(ln.content_hash for ln in lines),
        ),
    )
    return _Page(head, lines, charges)


def _looks_like_csv(data: bytes, mapping: CsvMapping) -> bool:
    first = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", errors="replace")
    columns = [c.strip() for c in first.split(mapping.delimiter)]
    return mapping.reference in columns and mapping.amount in columns


def parse_statement(
    channel: str, data: bytes, *, as_of: dt.date, csv_mapping: CsvMapping | None = None
) -> list[_Page]:
    """camt.053 / MT940 / MT950 (by content) or a CSV settlement file (by its header)."""
    mapping = csv_mapping or CsvMapping()
    if not data.strip():
        raise ValidationFailed("the statement is empty", [FieldError("/statement", "empty")])
    if _looks_like_csv(data, mapping):
        text = data.decode("utf-8-sig")
        sid = f"{channel}-csv-{as_of:%Y%m%d}-{content_hash(text)[:10]}"
        imported = import_csv(text, statement_id=sid, channel=channel, mapping=mapping)
        if imported.errors:
            raise ValidationFailed(
                f"{len(imported.errors)} unreadable rows in the settlement file", imported.errors
            )
        lines = imported.lines
        currencies = {ln.currency for ln in lines}
        head = repo.StatementHeader(
            channel=channel,
            statement_id=sid,
            source="csv",
            currency=currencies.pop() if len(currencies) == 1 else None,
            content_hash=content_hash("csv", *(ln.content_hash for ln in lines)),
        )
        return [_Page(head, lines, {})]
    try:
        statements = detect_and_parse(data)
    except UnsupportedMessage as exc:
        raise ValidationFailed(
            "the statement is not camt.053, camt.054, MT940, MT950 or a CSV settlement file",
            [FieldError("/statement", exc.detail)],
        ) from exc
    pages: list[_Page] = []
    seen: Counter[str] = Counter()
    for n, stmt in enumerate(statements, start=1):
        base = stmt.statement_id or f"{channel}-{as_of:%Y%m%d}"
        seen[base] += 1
        # MT pages share :20:; the page number keeps their line ids apart.
        sid = base if seen[base] == 1 else f"{base}/{stmt.page or n}"
        pages.append(_page(channel, stmt, sid))
    return pages


def _statement_date(pages: Sequence[_Page], lines: Sequence[StatementLine]) -> dt.date | None:
    closing = [p.head.closing_date for p in pages if p.head.closing_date]
    if closing:
        return max(closing)
    dates = Counter(ln.value_date for ln in lines if not ln.is_fee)
    return dates.most_common(1)[0][0] if dates else None


def _conflict(line: StatementLine, stored: dict[str, Any]) -> Break:
    def says(amount: Any, cd: Any, currency: Any, value_date: Any) -> str:
        return f"{cd} {amount} {str(currency or '').strip()} value {value_date}"

    before = says(
        stored.get("amount"),
        stored.get("credit_debit"),
        stored.get("currency"),
        stored.get("value_date"),
    )
    now = says(line.amount, line.credit_debit, line.currency, line.value_date)
    return statement_conflict(
        line.channel,
        line.line_id,
        currency=line.currency,
        stored_amount=stored.get("amount"),
        amount=line.amount,
        content_hash=line.content_hash,
        detail=f"line re-sent with different content: first imported as {before}, now {now}"
        " (the first import stands)",
    )


async def run_reconciliation(
    pool: Any,
    *,
    channel: str,
    data: bytes,
    as_of: dt.date,
    reports_dir: Path,
    tolerances: Tolerances | None = None,
    csv_mapping: CsvMapping | None = None,
    now: dt.datetime | None = None,
    since: dt.datetime | None = None,
) -> RunResult:
    """Import ``data`` (a statement of ``channel``), reconcile it against the gateway's
    payments on that channel, persist matches and breaks, write the reports.

    The gateway side is the channel's payments created from ``since``; by default from
    the earliest payment the statement names (a caller that knows better, such as the
    demo holding the rail's ledger, passes it: a dropped first payment would be missed)."""
    tol = tolerances or Tolerances()
    pages = parse_statement(channel, data, as_of=as_of, csv_mapping=csv_mapping)
    parsed = [ln for p in pages for ln in p.lines]
    stmt_date = _statement_date(pages, parsed) or as_of
    currencies = {ln.currency for ln in parsed} | {
        p.head.currency for p in pages if p.head.currency
    }
    refs = sorted({r for ln in parsed if not ln.is_fee for r in (ln.tx_id, ln.entry_ref) if r})
    since = (
        since
        or await first_seen(pool, channel, refs)
        or dt.datetime.combine(stmt_date - dt.timedelta(days=7), dt.time(), tzinfo=dt.UTC)
    )
    all_records = await load_records(pool, channel, since, value_date=stmt_date)
    run_id = uuid.uuid4()
    generated = now or dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"recon:{channel}")
        lines: list[StatementLine] = []
        charges: dict[str, Decimal] = {}
        import_breaks: list[Break] = []  # balance discontinuity, re-sent lines
        added = 0
        statement_pk: int | None = None
        prev_in_file: repo.StatementHeader | None = None
        for page in pages:
            head = page.head
            prev: Decimal | None = None
            if prev_in_file is not None and prev_in_file.closing_balance is not None:
                prev = prev_in_file.closing_balance
            elif head.opening_balance is not None:
                found = await repo.previous_closing(conn, head)
                prev = found[0] if found else None
            imported = await repo.import_statement(conn, head, page.lines, page.charges)
            statement_pk = statement_pk or imported.statement_pk
            added += imported.added
            if imported.new_statement and head.opening_balance is not None:
                brk = check_continuity(
                    prev,
                    head.opening_balance,
                    channel=channel,
                    statement_id=head.statement_id,
                    currency=head.currency,
                )
                if brk is not None:
                    import_breaks.append(brk)
            import_breaks.extend(_conflict(ln, row) for ln, row in imported.conflicts)
            # Charges follow the line to the id it was first imported under.
            clashing = {id(ln) for ln, _ in imported.conflicts}
            kept = [ln for ln in page.lines if id(ln) not in clashing]
            for original, line in zip(kept, imported.lines, strict=True):
                if original.line_id in page.charges:
                    charges[line.line_id] = page.charges[original.line_id]
            lines.extend(imported.lines)
            prev_in_file = head
        done_lines, done_records = await repo.matched_ids(conn, channel)
        todo_lines = [ln for ln in lines if ln.line_id not in done_lines]
        records = [
            r for r in all_records if r.record_id not in done_records and r.currency in currencies
        ]
        resolved = await repo.resolved_fingerprints(conn, channel)
        result = match(
            records,
            todo_lines,
            tolerances=tol,
            as_of=as_of,
            already_resolved=resolved,
            charges=charges,
        )
        for brk in import_breaks:
            (result.suppressed if brk.fingerprint in resolved else result.breaks).append(brk)
        result.counters["breaks"] = len(result.breaks)
        for kind in ("balance_discontinuity", "statement_conflict"):
            result.counters[f"break.{kind}"] = sum(
                1 for b in import_breaks if b.kind.value == kind and b.fingerprint not in resolved
            )
        await repo.create_run(conn, run_id, channel, as_of, statement_pk)
        await repo.save_matches(conn, run_id, result.matches)
        break_ids = await repo.save_breaks(conn, run_id, result.breaks)
        # The operations view of the rail beside the run: each day of the window and the
        # statement's month (volume, success rate, settled amount).
        start = dt.datetime.combine(since.astimezone(dt.UTC).date(), dt.time(), tzinfo=dt.UTC)
        end = dt.datetime.combine(stmt_date + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        month = dt.datetime.combine(stmt_date.replace(day=1), dt.time(), tzinfo=dt.UTC)
        next_month = (month + dt.timedelta(days=32)).replace(day=1)
        aggregates = [
            *await repo.rail_aggregates(conn, "day", channel=channel, since=start, until=end),
            *await repo.rail_aggregates(
                conn, "month", channel=channel, since=month, until=next_month
            ),
        ]
        report = summarize(
            result,
            records,
            todo_lines,
            run_id=str(run_id),
            as_of=as_of,
            generated_at=generated,
            aggregates=aggregates,
        )
        paths = write_reports(report, reports_dir, f"recon-{channel}-{run_id}")
        full = report.to_dict()
        summary = {k: v for k, v in full.items() if k != "breaks"}
        summary.update(
            {
                "channel": channel,
                "statement_ids": [p.head.statement_id for p in pages],
                "statement_date": stmt_date.isoformat(),
                "lines_seen": len(parsed),
                "lines_added": added,
                "matched": len(result.matches),
                "breaks": len(result.breaks),
                "suppressed": len(result.suppressed),
            }
        )
        report_paths = {k: str(v) for k, v in paths.items()}
        await repo.finish_run(conn, run_id, summary, report_paths)
    return RunResult(
        run_id=run_id,
        channel=channel,
        as_of=as_of,
        statement_ids=[p.head.statement_id for p in pages],
        lines_seen=len(parsed),
        lines_added=added,
        breaks=list(result.breaks),
        break_ids=break_ids,
        summary=summary,
        report_paths=report_paths,
        match=result,
        lines=todo_lines,
        records=records,
    )


async def resolve_break(
    pool: Any,
    run_id: uuid.UUID,
    break_id: uuid.UUID,
    *,
    operator: str,
    action: ResolveAction,
    reason: str,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Record the operator's decision (audit) and make the payment follow: ``correct_status``
    settles a payment the rail settled, ``mark_failed`` fails it, where the state machine
    allows; otherwise, and for every other action, the payment gets an event."""
    at = now or dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn, conn.transaction():
        brk = await repo.get_break(conn, run_id, break_id, lock=True)
        if brk["status"] == "resolved":
            raise StateError(
                f"break {break_id} was already resolved by {brk['resolved_by']}"
                f" ({brk['action_taken']})"
            )
        data = {
            "reconciliation": str(run_id),
            "break": str(break_id),
            "kind": brk["kind"],
            "action": action.value,
            "operator": operator,
            "reason": reason,
        }
        for rid in brk["record_ids"]:
            await _payment_follows(conn, rid, action, operator, reason, data)
        await repo.mark_resolved(
            conn, break_id, operator=operator, action=action.value, reason=reason, at=at
        )
        return await repo.get_break(conn, run_id, break_id)


async def _payment_follows(
    conn: asyncpg.Connection,
    record_id: str,
    action: ResolveAction,
    operator: str,
    reason: str,
    data: dict[str, Any],
) -> None:
    try:
        pid = uuid.UUID(record_id)
    except ValueError:
        return  # not a payment id (a record from outside the gateway)
    status_text = await conn.fetchval("SELECT status FROM payments WHERE id = $1 FOR UPDATE", pid)
    if status_text is None:
        return
    status = PaymentStatus(status_text)
    text = f"reconciliation: {action.value} by {operator}: {reason}"
    target = _STATUS_EFFECT.get(action)
    if target is not None and target != status and can_transition(status, target):
        await payments_repo.transition(conn, pid, status, target, text, data=data)
    else:
        await payments_repo.add_event(conn, pid, status, text, data)
