"""``paygate recon run|report``: reconcile a channel statement file, show a run's report."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from paygate.config import Settings
from paygate.errors import NotFound, PaygateError
from paygate.recon import repository as repo
from paygate.recon.service import RunResult, run_reconciliation
from paygate.store.database import open_database


def register(sub: Any) -> None:
    recon = sub.add_parser(
        "recon",
        help="reconcile channel statements",
        description=(
            "Reconcile what the gateway recorded against a channel's statement. Matches, "
            "breaks (with a risk grade and a proposed action) and the run are stored in "
            "PostgreSQL; JSON, CSV and HTML reports are written under <data_dir>/reports/. "
            "Resolve breaks with POST /v1/reconciliations/{id}/breaks/{b}/resolve."
        ),
    )
    rsub = recon.add_subparsers(dest="recon_command", required=True, metavar="ACTION")
    run = rsub.add_parser(
        "run",
        help="import a statement and reconcile it",
        description=(
            "Import a statement (camt.053, camt.054, MT940, MT950 or a card settlement CSV; "
            "the format is detected from the content), reconcile it against the channel's "
            "payments and print a summary. Importing the same statement again adds no lines."
        ),
    )
    run.add_argument("--channel", required=True, help="channel id the statement is of, e.g. rtgs")
    run.add_argument("--statement", required=True, type=Path, help="statement file")
    run.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=None,
        help="reconcile as of this date, YYYY-MM-DD (default: today); payments are "
        "missing from the statement only once past their due date",
    )
    run.set_defaults(handler=lambda a: asyncio.run(_run(a)))
    report = rsub.add_parser(
        "report",
        help="print a run's report path (or content)",
        description="Print the path of a run's report in the chosen format, or with "
        "--content the report itself.",
    )
    report.add_argument("id", help="reconciliation run id (printed by 'recon run')")
    report.add_argument("--format", choices=("html", "csv", "json"), default="html")
    report.add_argument("--content", action="store_true", help="print the file, not its path")
    report.set_defaults(handler=lambda a: asyncio.run(_report(a)))


def summary_table(result: RunResult) -> Table:
    s = result.summary
    t = Table(title=f"reconciliation {result.run_id} ({result.channel}, as of {result.as_of})")
    t.add_column("what")
    t.add_column("value", justify="right")
    rows = [
        ("statements", ", ".join(result.statement_ids)),
        ("lines in file", str(result.lines_seen)),
        ("lines added", str(result.lines_added)),
        ("matched lines", str(s.get("matched", 0))),
        ("breaks", str(s.get("breaks", 0))),
        ("resolved before (not raised)", str(s.get("suppressed", 0))),
    ]
    for kind, n in dict(s.get("breaks_by_kind") or {}).items():
        rows.append((f"  {kind}", str(n)))
    for rail in s.get("rails") or []:
        rows.append((f"match rate {rail['channel']}", str(rail["match_rate"])))
    for what, value in rows:
        t.add_row(what, value)
    return t


def breaks_table(result: RunResult) -> Table:
    t = Table(title="breaks")
    for col in ("id", "kind", "grade", "proposed action", "detail"):
        t.add_column(col)
    for bid, b in zip(result.break_ids, result.breaks, strict=True):
        t.add_row(str(bid), b.kind.value, b.grade.value, b.action.value, b.detail)
    return t


async def _run(args: argparse.Namespace) -> int:
    console = Console()
    try:
        data = args.statement.read_bytes()
    except OSError as exc:
        console.print(f"[red]cannot read {args.statement}: {exc.strerror}[/]")
        return 2
    settings = Settings()
    database = await open_database(settings)
    try:
        result = await run_reconciliation(
            database.pool,
            channel=args.channel,
            data=data,
            as_of=args.as_of or dt.datetime.now(dt.UTC).date(),
            reports_dir=settings.reports_dir,
        )
    except PaygateError as exc:
        console.print(f"[red]reconciliation failed:[/] {exc.detail}")
        for err in getattr(exc, "errors", []) or []:
            console.print(f"  {err.pointer}: {err.reason}")
        return 2
    finally:
        await database.close()
    console.print(summary_table(result))
    if result.breaks:
        console.print(breaks_table(result))
    console.print("reports: " + ", ".join(result.report_paths.values()))
    # Plain, on its own line: scripts pick the id up from here for 'recon report'.
    print(f"run id: {result.run_id}")
    return 0


async def _report(args: argparse.Namespace) -> int:
    try:
        run_id = uuid.UUID(args.id)
    except ValueError:
        print(f"not a run id: {args.id}", file=sys.stderr)
        return 2
    database = await open_database(Settings())
    try:
        async with database.pool.acquire() as conn:
            run = await repo.get_run(conn, run_id)
    except NotFound as exc:
        print(exc.detail, file=sys.stderr)
        return 1
    finally:
        await database.close()
    path = run["report_paths"].get(args.format)
    if not path or not Path(path).exists():
        print(f"no {args.format} report on disk for run {run_id}", file=sys.stderr)
        return 1
    if args.content:
        sys.stdout.write(Path(path).read_text(encoding="utf-8"))
    else:
        print(path)
    return 0
