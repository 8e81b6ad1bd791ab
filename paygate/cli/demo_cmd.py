"""``paygate demo``: the front door. Starts the embedded PostgreSQL, the simulated rails and
the gateway in one process, pushes a mixed workload through the HTTP API, waits until every
payment is terminal, and prints (and writes) what happened."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from paygate.api.app import Overrides, create_app
from paygate.api.keys import POOL, ROUTING
from paygate.channels.registry import endpoints_for_urls
from paygate.cli.demo_merging import print_merge_savings
from paygate.cli.demo_recon import end_of_day
from paygate.cli.demo_report import collect, explain_samples, print_summary, write_reports
from paygate.cli.demo_workload import workload
from paygate.config import Settings
from paygate.engine.clock import SimulatedClock
from paygate.logs import configure
from paygate.store.clients import create_key
from paygate.store.database import recreate_database

# A Tuesday, just after the Frankfurt RTGS opens; every rail's business day overlaps it.
DEMO_START = dt.datetime(2026, 11, 24, 7, 5, tzinfo=dt.UTC)
DEMO_DATABASE = "paygate_demo"
DEMO_MERGE_RULES = Path(__file__).resolve().parents[1] / "merging" / "demo.yaml"
TERMINAL = ("settled", "rejected", "failed", "returned", "cancelled")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole gateway against the simulated rails and report",
        description="Start the embedded PostgreSQL, the seven simulated rails and the gateway; "
        "push a mixed workload through the HTTP API; wait until every payment is terminal; "
        "print a summary and write JSON and HTML reports under .paygate/reports/. Exits 0 "
        "only if every payment reached a terminal state.",
    )
    p.add_argument("--count", type=int, default=2000, help="payments to submit (default 2000)")
    p.add_argument("--seed", type=int, default=42, help="workload seed")
    p.add_argument("--concurrency", type=int, default=32, help="concurrent HTTP submissions")
    p.add_argument(
        "--speed",
        type=float,
        default=120.0,
        help="simulated seconds per real second (batch cycles, cut-offs)",
    )
    p.add_argument("--timeout", type=float, default=150.0, help="give up after this many seconds")
    p.set_defaults(handler=lambda a: asyncio.run(run(a)))


async def run(args: argparse.Namespace) -> int:
    console = Console()
    base = Settings()
    settings = base.model_copy(
        update={
            "clock_start": DEMO_START,
            "merging_file": DEMO_MERGE_RULES,
            "clock_speed": args.speed,
            "log_level": "warning",
            "channel_timeout_s": 2.0,
            "inquiry_backoff_s": 0.1,
            "poll_interval_s": 0.02,
        }
    )
    configure(settings.log_format, settings.log_level)
    from simulators import SimClock, start_rails

    started = time.monotonic()
    console.rule("[bold]paygate demo")
    where = "external" if settings.database_url else f"embedded PostgreSQL in {settings.data_dir}"
    # Every run starts from an empty database of its own, so that its report (and the
    # end-of-day reconciliation against this run's rail statements) covers this run only.
    dsn, _embedded = await recreate_database(settings, DEMO_DATABASE)
    settings = settings.model_copy(update={"database_url": dsn})
    console.print(f"database: {where}, database {DEMO_DATABASE} (emptied for this run)")
    rails = await start_rails(clock=SimClock(DEMO_START, args.speed))
    urls = {rid: rails.base_url(rid) for rid in rails.rail_ids}
    console.print(f"rails: {', '.join(f'{r} {u}' for r, u in urls.items())}")
    await _realistic_faults(console, urls)
    clock = SimulatedClock(DEMO_START, args.speed)
    app = create_app(settings, Overrides(endpoints=endpoints_for_urls(urls), clock=clock))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}"
    start = f"{DEMO_START:%a %Y-%m-%d %H:%M} UTC"
    console.print(f"gateway: {url}  (simulated clock starts {start}, x{args.speed:g})")
    try:
        pool = app[POOL]
        async with pool.acquire() as conn:
            key = await create_key(conn, "demo-upstream", {"submit", "read", "operator"})
        orders = workload(args.count, args.seed)
        since = dt.datetime.now(dt.UTC)
        ids = await _submit(console, url, key, orders, args.concurrency)
        ok = await _wait_terminal(console, pool, ids, args.timeout)
        summary = await collect(pool, ids, app[ROUTING], orders)
        summary["elapsed_s"] = round(time.monotonic() - started, 1)
        summary["since"] = since.isoformat()
        print_summary(console, summary)
        explain_samples(console, app[ROUTING], orders, clock.now())
        summary["merging"] = await print_merge_savings(console, pool, app[ROUTING])
        summary["reconciliation"] = await end_of_day(
            console, pool, rails, DEMO_START.date(), settings.reports_dir
        )
        paths = write_reports(settings.reports_dir, summary)
        console.print(f"reports: {paths['json']}  {paths['html']}")
        if not ok:
            console.print("[red]some payments did not reach a terminal state[/red]")
            return 1
        return 0
    finally:
        await runner.cleanup()
        await rails.stop()


# A little of what real rails do, so the demo shows the engine coping: lost answers resolved
# by inquiry, and definitive rejections failed over to the next rail.
DEMO_FAULTS = {
    "instant": {"lost_response_rate": 0.03, "seed": 11},
    "card": {"reject_rate": 0.03, "reject_reasons": {"AM04": 1.0}, "seed": 12},
}


async def _realistic_faults(console: Console, urls: dict[str, str]) -> None:
    async with aiohttp.ClientSession() as session:
        for rail, patch in DEMO_FAULTS.items():
            async with session.post(f"{urls[rail]}/_control", json=patch) as r:
                r.raise_for_status()
            console.print(f"fault profile {rail}: {patch}")


async def _submit(
    console: Console,
    url: str,
    key: str,
    orders: list[tuple[str, str, dict[str, Any]]],
    concurrency: int,
) -> list[str]:
    ids: list[str] = []
    queue: asyncio.Queue[tuple[str, str, dict[str, Any]]] = asyncio.Queue()
    for item in orders:
        queue.put_nowait(item)
    headers = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    with _progress(console) as progress:
        task = progress.add_task("submitting", total=len(orders))

        async def worker(session: aiohttp.ClientSession) -> None:
            while not queue.empty():
                idem, _segment, body = queue.get_nowait()
                async with session.post(
                    f"{url}/v1/payments", json=body, headers={**headers, "Idempotency-Key": idem}
                ) as r:
                    doc = await r.json()
                    if r.status == 201:
                        ids.append(doc["id"])
                    else:
                        failures.append(f"{r.status} {doc.get('detail')}")
                progress.advance(task)

        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    if failures:
        console.print(f"[yellow]{len(failures)} orders refused at intake, e.g. {failures[0]}")
    return ids


async def _wait_terminal(console: Console, pool: Any, ids: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    with _progress(console) as progress:
        task = progress.add_task("settling", total=len(ids))
        while True:
            done = await pool.fetchval(
                "SELECT count(*) FROM payments WHERE id = ANY($1::uuid[]) AND status = ANY($2)",
                ids,
                list(TERMINAL),
            )
            progress.update(task, completed=done)
            if done >= len(ids):
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.25)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
