"""End-of-day reconciliation step of ``paygate demo``.

For each rail and currency: fetch the day's statement with planted breaks and reconcile it
with the reconciliation service (imported, matched and persisted like any operator run), then
compare the breaks found with the simulator's ground truth. One rail failing prints a warning
and the others carry on.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from rich.console import Console
from rich.table import Table

from paygate.recon.breaks import Break
from paygate.recon.gateway_records import first_seen
from paygate.recon.matching import MatchResult
from paygate.recon.records import GatewayRecord, StatementLine
from paygate.recon.report import summarize, write_reports
from paygate.recon.service import run_reconciliation

FORMATS = {"swift": "mt940", "card": "csv"}  # everything else: camt053
FULL_PLANT = "drop:1,amount:1,fee:1,duplicate:1,unknown:1,value_date:1"
SMALL_PLANT = "amount:1,unknown:1"
FULL_PLANT_RAILS = frozenset({"rtgs", "instant", "swift"})
# Planted kind -> the break kinds that detect it.
EXPECTED_KINDS: dict[str, frozenset[str]] = {
    "drop": frozenset({"missing_in_statement"}),
    "amount": frozenset({"amount_mismatch", "fee_deducted", "partial_merge"}),
    "fee": frozenset({"amount_mismatch", "fee_deducted", "partial_merge"}),
    "duplicate": frozenset({"duplicate_in_statement"}),
    "unknown": frozenset({"missing_in_gateway"}),
    "value_date": frozenset({"value_date_difference"}),
    "settled_but_failed": frozenset({"status_mismatch"}),
}
_TIMEOUT = aiohttp.ClientTimeout(total=20)


def _refs_of_line(line: StatementLine) -> set[str]:
    return set(line.references())


def _refs_of_record(rec: GatewayRecord) -> set[str]:
    refs = {rec.reference, rec.end_to_end_id or "", (rec.uetr or "").lower()}
    return {r for r in refs if r}


def _planted_refs(p: dict[str, Any]) -> set[str]:
    refs = {
        str(p.get(k) or "")
        for k in ("reference", "end_to_end_id", "bank_ref", "original_bank_ref", "batch_id")
    }
    refs.add(str(p.get("uetr") or "").lower())
    for r in p.get("references") or []:
        refs.add(str(r))
    refs.discard("")
    refs.discard("NOTPROVIDED")
    return refs


def _break_refs(
    b: Break, lines: dict[str, StatementLine], records: dict[str, GatewayRecord]
) -> set[str]:
    refs: set[str] = set()
    for lid in b.line_ids:
        if lid in lines:
            refs |= _refs_of_line(lines[lid])
            if lines[lid].uetr:
                refs.add(lines[lid].uetr.lower())  # type: ignore[union-attr]
    for rid in (*b.record_ids, *b.related):
        if rid in records:
            refs |= _refs_of_record(records[rid])
    return refs


def compare(
    planted: list[dict[str, Any]],
    breaks: list[Break],
    lines: dict[str, StatementLine],
    records: dict[str, GatewayRecord],
) -> tuple[list[tuple[dict[str, Any], Break | None]], list[Break]]:
    """Pair every planted item with the break that reports it (or None); the breaks left
    over are false breaks (not planted)."""
    refs = [_break_refs(b, lines, records) for b in breaks]
    used: set[int] = set()
    pairs: list[tuple[dict[str, Any], Break | None]] = []
    for p in planted:
        want = _planted_refs(p)
        kinds = EXPECTED_KINDS.get(str(p.get("kind")), frozenset())
        hits = [i for i, r in enumerate(refs) if i not in used and r & want]
        best = next((i for i in hits if breaks[i].kind.value in kinds), hits[0] if hits else None)
        if best is not None:
            used.add(best)
        pairs.append((p, breaks[best] if best is not None else None))
    false = [b for i, b in enumerate(breaks) if i not in used]
    return pairs, false


async def _get(session: aiohttp.ClientSession, url: str, **params: str) -> tuple[bytes, str]:
    async with session.get(url, params=params, timeout=_TIMEOUT) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"GET {url} -> HTTP {resp.status}: {body[:200]!r}")
        return body, resp.headers.get("X-Statement-Id", "")


async def _reconcile_rail(
    session: aiohttp.ClientSession,
    pool: Any,
    rid: str,
    base: str,
    sim_date: dt.date,
    seed: int,
    reports_dir: Path,
) -> dict[str, Any]:
    """One run of the reconciliation service per currency statement (persisted, with its
    own reports under ``reports_dir/runs``), merged here for the demo's comparison."""
    ledger_raw, _ = await _get(session, f"{base}/_ledger")
    ledger = json.loads(ledger_raw)
    currencies = sorted({str(e["currency"]) for e in ledger if e.get("status") == "settled"})
    # The rails are this run's: the gateway's window starts at the first payment they know
    # (a statement's own references would miss a dropped first payment).
    known = [str(e["reference"]) for e in ledger if e.get("reference")]
    first = await first_seen(pool, rid, known)
    since = first or dt.datetime.combine(sim_date, dt.time(), tzinfo=dt.UTC)
    plant = FULL_PLANT if rid in FULL_PLANT_RAILS else SMALL_PLANT
    fmt = FORMATS.get(rid, "camt053")
    as_of = sim_date + dt.timedelta(days=5)
    lines: list[StatementLine] = []
    records: list[GatewayRecord] = []
    planted: list[dict[str, Any]] = []
    statement_ids: list[str] = []
    run_ids: list[str] = []
    result = MatchResult()
    for i, ccy in enumerate(currencies):
        body, stmt_id = await _get(
            session,
            f"{base}/_statement",
            date=sim_date.isoformat(),
            format=fmt,
            plant=plant,
            seed=str(seed + i),
            currency=ccy,
        )
        run = await run_reconciliation(
            pool,
            channel=rid,
            data=body,
            as_of=as_of,
            reports_dir=reports_dir / "runs",
            since=since,
        )
        if stmt_id:
            planted_raw, _ = await _get(session, f"{base}/_statement/planted", id=stmt_id)
            planted.extend(json.loads(planted_raw))
        statement_ids.extend(run.statement_ids)
        run_ids.append(str(run.run_id))
        lines.extend(run.lines)
        records.extend(run.records)
        _merge(result, run.match)
    return {
        "rail": rid,
        "plant": plant,
        "statements": statement_ids,
        "runs": run_ids,
        "records": records,
        "lines": lines,
        "planted": planted,
        "result": result,
    }


def _merge(into: MatchResult, part: MatchResult) -> None:
    into.matches.extend(part.matches)
    into.breaks.extend(part.breaks)
    into.pending.extend(part.pending)
    into.absent_as_expected.extend(part.absent_as_expected)
    into.fee_lines.extend(part.fee_lines)
    into.suppressed.extend(part.suppressed)
    for k, v in part.counters.items():
        into.counters[k] = into.counters.get(k, 0) + v


SHORT_KIND = {
    "missing_in_statement": "miss-stmt",
    "missing_in_gateway": "miss-gw",
    "amount_mismatch": "amount",
    "fee_deducted": "fee",
    "duplicate_in_statement": "dup",
    "status_mismatch": "status",
    "value_date_difference": "vdate",
    "currency_mismatch": "ccy",
    "balance_discontinuity": "balance",
    "partial_merge": "merge",
}


def _rail_table(rows: list[dict[str, Any]]) -> Table:
    t = Table(title="end-of-day reconciliation (planted breaks vs found)")
    for col in ("rail", "records", "lines", "matched", "fees", "breaks by kind", "planted", "found",
                "false"):  # fmt: skip
        t.add_column(col, justify="left" if col in ("rail", "breaks by kind") else "right")
    for r in rows:
        t.add_row(
            r["rail"],
            str(r["records"]),
            str(r["lines"]),
            str(r["matched"]),
            str(r["fee_lines"]),
            " ".join(f"{SHORT_KIND.get(k, k)}:{v}" for k, v in sorted(r["breaks_by_kind"].items()))
            or "-",
            str(r["planted"]),
            str(r["found"]),
            str(r["false_breaks"]),
        )
    return t


async def end_of_day(
    console: Console,
    pool: Any,
    rails_handle: Any,
    sim_date: dt.date,
    reports_dir: Path,
    *,
    seed: int = 7,
) -> dict[str, Any]:
    console.rule(f"end-of-day reconciliation {sim_date.isoformat()}")
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    all_records: list[GatewayRecord] = []
    all_lines: list[StatementLine] = []
    merged = MatchResult()
    planted_rows: list[tuple[str, dict[str, Any], Break | None]] = []
    async with aiohttp.ClientSession() as session:
        for n, rid in enumerate(rails_handle.rail_ids):
            try:
                out = await _reconcile_rail(
                    session,
                    pool,
                    rid,
                    rails_handle.base_url(rid),
                    sim_date,
                    seed + 10 * n,
                    reports_dir,
                )
            except Exception as exc:  # one rail must not stop the others
                msg = f"{rid}: reconciliation skipped: {type(exc).__name__}: {exc}"
                warnings.append(msg)
                console.print(f"[yellow]warning[/] {msg}")
                continue
            result: MatchResult = out["result"]
            lines_by = {ln.line_id: ln for ln in out["lines"]}
            recs_by = {r.record_id: r for r in out["records"]}
            pairs, false = compare(out["planted"], result.breaks, lines_by, recs_by)
            found = sum(1 for _, b in pairs if b is not None)
            planted_rows.extend((rid, p, b) for p, b in pairs)
            rows.append(
                {
                    "rail": rid,
                    "plant": out["plant"],
                    "statements": out["statements"],
                    "runs": out["runs"],
                    "records": len(out["records"]),
                    "lines": len(out["lines"]),
                    "matched": len(result.matches),
                    "fee_lines": len(result.fee_lines),
                    "pending": len(result.pending),
                    "breaks": len(result.breaks),
                    "breaks_by_kind": dict(Counter(b.kind.value for b in result.breaks)),
                    "planted": len(out["planted"]),
                    "found": found,
                    "false_breaks": len(false),
                    "false_break_kinds": dict(Counter(b.kind.value for b in false)),
                }
            )
            all_records.extend(out["records"])
            all_lines.extend(out["lines"])
            _merge(merged, result)
    console.print(_rail_table(rows))
    if planted_rows:
        t = Table(title="planted breaks and what reconciliation proposes")
        for col in ("rail", "planted", "reference", "found as", "grade", "proposed action"):
            t.add_column(col)
        for rid, p, b in planted_rows:
            t.add_row(
                rid,
                str(p.get("kind")),
                str(p.get("reference") or p.get("bank_ref") or ""),
                b.kind.value if b else "[red]not found[/]",
                b.grade.value if b else "-",
                b.action.value if b else "-",
            )
        console.print(t)
    report_paths: dict[str, str] = {}
    try:
        summary = summarize(
            merged,
            all_records,
            all_lines,
            run_id=f"demo-eod-{sim_date:%Y%m%d}",
            as_of=sim_date + dt.timedelta(days=5),
            generated_at=dt.datetime.now(dt.UTC),
        )
        paths = write_reports(summary, reports_dir, f"recon-{sim_date:%Y%m%d}")
        report_paths = {k: str(v) for k, v in paths.items()}
        console.print("recon reports: " + ", ".join(report_paths.values()))
    except Exception as exc:
        msg = f"recon reports not written: {type(exc).__name__}: {exc}"
        warnings.append(msg)
        console.print(f"[yellow]warning[/] {msg}")
    planted_total = sum(r["planted"] for r in rows)
    found_total = sum(r["found"] for r in rows)
    false_total = sum(r["false_breaks"] for r in rows)
    console.print(
        f"reconciliation: planted {planted_total}, found {found_total}, "
        f"false breaks {false_total}, rails {len(rows)}/{len(rails_handle.rail_ids)}"
    )
    return {
        "sim_date": sim_date.isoformat(),
        "rails": rows,
        "planted_total": planted_total,
        "found_total": found_total,
        "false_breaks": false_total,
        "planted": [
            {
                "rail": rid,
                "kind": p.get("kind"),
                "reference": p.get("reference"),
                "found_as": b.kind.value if b else None,
                "proposed_action": b.action.value if b else None,
            }
            for rid, p, b in planted_rows
        ],
        "warnings": warnings,
        "report_paths": report_paths,
    }
