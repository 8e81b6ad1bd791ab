"""The reconciliation service against the simulated rtgs rail's own statements (real
PostgreSQL, real HTTP): planted breaks found with the right category and nothing else,
idempotent import, resolved breaks stay resolved, balance continuity."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from paygate.messages.camt import build_camt053, build_camt054, parse_camt053
from paygate.recon.service import ResolveAction, resolve_break, run_reconciliation
from simulators import RailsHandle
from tests.integration.recon.recon_world import (
    ALL_KINDS,
    AS_OF,
    DAY,
    EXPECTED,
    OPEN_TIME,
    S,
    book_day,
    break_refs,
    planted,
    record,
    statement,
)
from tests.integration.simulators.sim_messages import Tx, payment

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.mark.parametrize(("seed", "fmt"), [(7, "camt053"), (11, "mt940")])
async def test_every_planted_break_found_with_its_category_and_no_false_breaks(
    rails: RailsHandle, pool: Any, tmp_path: Path, seed: int, fmt: str
) -> None:
    base = rails.base_url("rtgs")
    await book_day(pool, base, f"S{seed}")
    stmt_id, data = await statement(base, fmt, plant=ALL_KINDS, seed=str(seed))
    plants = await planted(base, stmt_id)
    assert sorted(p["kind"] for p in plants) == sorted(EXPECTED)

    run = await run_reconciliation(
        pool, channel="rtgs", data=data, as_of=AS_OF, reports_dir=tmp_path / "reports"
    )

    want = Counter((EXPECTED[p["kind"]], str(p["reference"])) for p in plants)
    assert await break_refs(pool, run) == want  # all found, right category, none extra
    fee = next(b for b in run.breaks if b.kind.value == "fee_deducted")
    assert fee.action.value == "fee_posting"
    assert run.summary["matched"] == 10 - 4  # drop, amount, fee and value_date broke
    # What was persisted is what was found, and the report says the same.
    async with pool.acquire() as conn:
        kinds = await conn.fetch("SELECT kind FROM recon_breaks WHERE run_id = $1", run.run_id)
        matched = await conn.fetchval("SELECT count(*) FROM recon_match_records")
    assert Counter(r["kind"] for r in kinds) == Counter(EXPECTED.values())
    assert matched == 6
    report = json.loads(Path(run.report_paths["json"]).read_text())
    assert report["breaks_by_kind"] == {k: 1 for k in EXPECTED.values()}
    assert Path(run.report_paths["html"]).read_text().startswith("<!")


async def test_same_statement_twice_adds_no_lines_and_matches_nothing_twice(
    rails: RailsHandle, pool: Any, tmp_path: Path
) -> None:
    base = rails.base_url("rtgs")
    await book_day(pool, base, "IDEM", count=4)
    _, data = await statement(base, "camt053")
    first = await run_reconciliation(
        pool, channel="rtgs", data=data, as_of=AS_OF, reports_dir=tmp_path
    )
    # A re-issued statement (new id, same content) is the same statement too.
    _, reissued = await statement(base, "camt053")
    assert reissued != data
    second = await run_reconciliation(
        pool, channel="rtgs", data=data, as_of=AS_OF, reports_dir=tmp_path
    )
    third = await run_reconciliation(
        pool, channel="rtgs", data=reissued, as_of=AS_OF, reports_dir=tmp_path
    )
    assert first.lines_added == first.lines_seen == 8  # 4 payments + 4 fee entries
    assert second.lines_added == third.lines_added == 0
    assert first.summary["matched"] == 4 and not first.breaks
    assert second.summary["matched"] == third.summary["matched"] == 0
    assert not second.breaks and not third.breaks
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM recon_statement_lines") == 8
        assert await conn.fetchval("SELECT count(*) FROM recon_statements") == 1
        assert await conn.fetchval("SELECT count(*) FROM recon_match_records") == 4
        # The schema itself refuses a second match of a payment.
        run_id = await conn.fetchval("SELECT id FROM recon_runs LIMIT 1")
        mid = await conn.fetchval(
            "INSERT INTO recon_matches (run_id, channel, line_id, kind, stage, score)"
            " VALUES ($1, 'rtgs', 'other#1', '1:1', 1, 1) RETURNING id",
            run_id,
        )
        taken = await conn.fetchval("SELECT record_id FROM recon_match_records LIMIT 1")
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(
                "INSERT INTO recon_match_records VALUES ($1, 'rtgs', $2)", mid, taken
            )


async def test_resolved_break_is_not_raised_again(
    rails: RailsHandle, pool: Any, tmp_path: Path
) -> None:
    base = rails.base_url("rtgs")
    await book_day(pool, base, "RES", count=6)
    _, data = await statement(base, "camt053", plant="unknown:1,drop:1", seed="3")
    first = await run_reconciliation(
        pool, channel="rtgs", data=data, as_of=AS_OF, reports_dir=tmp_path
    )
    assert sorted(b.kind.value for b in first.breaks) == [
        "missing_in_gateway",
        "missing_in_statement",
    ]
    unknown = next(i for i, b in enumerate(first.breaks) if b.kind.value == "missing_in_gateway")
    done = await resolve_break(
        pool,
        first.run_id,
        first.break_ids[unknown],
        operator="ops-anna",
        action=ResolveAction.RETURN_BY_ORIGINAL_ROUTE,
        reason="not ours; sent back",
    )
    assert (done["status"], done["resolved_by"]) == ("resolved", "ops-anna")

    again = await run_reconciliation(
        pool, channel="rtgs", data=data, as_of=AS_OF, reports_dir=tmp_path
    )
    assert [b.kind.value for b in again.breaks] == ["missing_in_statement"]
    assert again.summary["suppressed"] == 1
    # The schema refuses it too.
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(
                "INSERT INTO recon_breaks (run_id, channel, fingerprint, kind, grade,"
                " proposed_action, details) VALUES ($1, 'rtgs', $2, 'x', 'low', 'accept', '{}')",
                again.run_id,
                first.breaks[unknown].fingerprint,
            )


async def test_balance_discontinuity_flagged_when_a_day_is_skipped(
    rails: RailsHandle, pool: Any, tmp_path: Path
) -> None:
    base = rails.base_url("rtgs")
    await book_day(pool, base, "D1", count=2)
    rails.clock.set(OPEN_TIME + dt.timedelta(days=1), speed=0)
    await book_day(pool, base, "D2", count=2)
    days = [DAY + dt.timedelta(days=n) for n in range(3)]
    stmts = [(await statement(base, "camt053", day=d))[1] for d in days]

    async def kinds(data: bytes) -> list[str]:
        run = await run_reconciliation(
            pool, channel="rtgs", data=data, as_of=AS_OF, reports_dir=tmp_path
        )
        return [b.kind.value for b in run.breaks if b.kind.value == "balance_discontinuity"]

    assert await kinds(stmts[0]) == []  # the first statement is taken as given
    assert await kinds(stmts[2]) == ["balance_discontinuity"]  # day 2 was never imported
    assert await kinds(stmts[1]) == []  # day 2 continues day 1


async def test_card_csv_settlement_file_net_includes_fee(
    rails: RailsHandle, pool: Any, tmp_path: Path
) -> None:
    """The card rail's CSV (net = amount + fee) imports with the default mapping: fees are
    posted as fee lines, and the planted breaks are the only breaks."""
    base = rails.base_url("card")
    txs = [Tx(f"CARD-{i}", f"{20 + i}.00", ccy="CNY", e2e=f"E2E-CARD-{i}") for i in range(5)]
    async with aiohttp.ClientSession() as http:
        for tx in txs:
            body = payment(tx.tx_id, tx.amount, tx.ccy, end_to_end_id=str(tx.e2e), uetr=tx.uetr)
            async with http.post(f"{base}/payments", json=body) as resp:
                assert (await resp.json())["status"] == "settled"
    for i, tx in enumerate(txs):
        await record(pool, tx, S.SETTLED, channel="card", n=i)
    stmt_id, data = await statement(
        base, "csv", plant="amount:1,unknown:1", seed="5", currency="CNY"
    )
    plants = await planted(base, stmt_id)
    run = await run_reconciliation(
        pool, channel="card", data=data, as_of=AS_OF, reports_dir=tmp_path
    )
    want = Counter((EXPECTED[p["kind"]], str(p["reference"])) for p in plants)
    assert len(want) == 2 and await break_refs(pool, run) == want
    assert run.summary["matched"] == 4
    assert run.summary["counters"]["fee_lines"] >= 4  # the card fee, stated per row


async def test_camt054_notifications_import_and_match_like_the_statement(
    rails: RailsHandle, pool: Any, tmp_path: Path
) -> None:
    """The rail's day as camt.054 debit/credit notifications (built from its camt.053 with
    paygate's own camt.054 builder): imported through the same path, matched, idempotent."""
    base = rails.base_url("rtgs")
    await book_day(pool, base, "N54", count=4)
    _, camt053 = await statement(base, "camt053", plant="amount:1", seed="9")
    stmts = parse_camt053(camt053)
    data = build_camt054(stmts, msg_id="NTF-1", created=OPEN_TIME + dt.timedelta(hours=10))
    run = await run_reconciliation(
        pool, channel="rtgs", data=data, as_of=AS_OF, reports_dir=tmp_path
    )
    assert run.lines_seen == run.lines_added == 8  # 4 payments + 4 fee entries
    assert [b.kind.value for b in run.breaks] == ["amount_mismatch"]
    assert run.summary["matched"] == 3
    again = await run_reconciliation(
        pool, channel="rtgs", data=data, as_of=AS_OF, reports_dir=tmp_path
    )
    assert again.lines_added == 0 and again.summary["matched"] == 0
    async with pool.acquire() as conn:
        sources = await conn.fetch("SELECT source FROM recon_statements")
    assert [r["source"] for r in sources] == ["camt.054.001.08"]
    # The report carries the rail's operations figures: the day and the month.
    report = json.loads(Path(run.report_paths["json"]).read_text())
    assert [(a["period"], a["volume"], a["settled"]) for a in report["aggregates"]] == [
        (DAY.isoformat(), 5, 4),
        (DAY.isoformat()[:7], 5, 4),
    ]
    assert "Per rail and period" in Path(run.report_paths["html"]).read_text()


async def test_line_resent_with_different_content_is_a_conflict(
    rails: RailsHandle, pool: Any, tmp_path: Path
) -> None:
    """The rail re-sends its statement under the same id with one entry's amount changed:
    the first version stands and the change is a break, not silently skipped."""
    base = rails.base_url("rtgs")
    await book_day(pool, base, "CF", count=3)
    _, data = await statement(base, "camt053")
    first = await run_reconciliation(
        pool, channel="rtgs", data=data, as_of=AS_OF, reports_dir=tmp_path
    )
    assert first.summary["matched"] == 3 and not first.breaks
    (stmt,) = parse_camt053(data)
    pos = next(i for i, e in enumerate(stmt.entries) if e.transaction_code != "CHRG")
    changed = stmt.entries[pos]
    entries = list(stmt.entries)
    entries[pos] = dataclasses.replace(changed, amount=changed.amount + 1)
    resent = build_camt053(
        [dataclasses.replace(stmt, entries=entries)],
        msg_id="RESENT",
        created=OPEN_TIME + dt.timedelta(hours=11),
    )
    second = await run_reconciliation(
        pool, channel="rtgs", data=resent, as_of=AS_OF, reports_dir=tmp_path
    )
    (brk,) = second.breaks
    line_id = f"{stmt.statement_id}#{pos + 1}"
    assert (brk.kind.value, brk.line_ids, brk.grade.value) == (
        "statement_conflict",
        (line_id,),
        "high",
    )
    assert (brk.expected, brk.actual) == (changed.amount, changed.amount + 1)
    assert second.lines_added == 0 and second.summary["matched"] == 0
    async with pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT amount FROM recon_statement_lines WHERE line_id = $1", line_id
        )
    assert stored == changed.amount  # the first import stands
    await resolve_break(
        pool,
        second.run_id,
        second.break_ids[0],
        operator="ops-li",
        action=ResolveAction.ACCEPT,
        reason="rail confirmed the first version",
    )
    third = await run_reconciliation(
        pool, channel="rtgs", data=resent, as_of=AS_OF, reports_dir=tmp_path
    )
    assert not third.breaks and third.summary["suppressed"] == 1
