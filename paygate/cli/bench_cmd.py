"""``paygate bench`` (what ``make bench`` runs): measure, then write docs/BENCHMARKS.md.

Intake and end-to-end figures come from a real ``paygate serve`` subprocess on 127.0.0.1, the
load generator and the simulated rails in this process; the pure benchmarks run in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import yaml

from paygate.channels.registry import DEFAULT_PROTOCOL
from paygate.store.clients import create_key
from paygate.store.embedded import EmbeddedPostgres
from paygate.store.migrate import migrate

BUSINESS_MORNING = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="run the benchmarks and write docs/BENCHMARKS.md",
        description="Measure intake (vs. a bare aiohttp echo), end-to-end settlement, routing "
        "decisions, codecs, merge planning and reconciliation; write docs/BENCHMARKS.md.",
    )
    p.add_argument("--out", type=Path, default=Path("docs/BENCHMARKS.md"))
    p.add_argument("--recon-lines", type=int, default=1_000_000)
    p.add_argument("--e2e-payments", type=int, default=3000)
    p.set_defaults(handler=lambda a: asyncio.run(run(a)))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_http(url: str) -> None:
    async with aiohttp.ClientSession() as s:
        for _ in range(400):
            try:
                async with s.get(url) as r:
                    if r.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


async def _intake_and_e2e(args: argparse.Namespace) -> dict[str, Any]:
    from loadtest import run_closed_loop, run_open_loop
    from simulators import SimClock, start_rails

    results: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="pgbench"))
    pg = EmbeddedPostgres(tmp)
    dsn = pg.start()
    rails = await start_rails(clock=SimClock(BUSINESS_MORNING, 1.0))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        echo_port = _port()
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "loadtest.echo", "--port", str(echo_port)],
                stdout=subprocess.DEVNULL,
            )
        )
        await _wait_http(f"http://127.0.0.1:{echo_port}/")
        echo = await run_closed_loop(
            f"http://127.0.0.1:{echo_port}/echo",
            concurrency=64,
            duration_s=5,
            warmup_s=1,
            body_kind="payment",
        )
        results["echo_rps"] = echo.achieved_rps
        conn = await asyncpg.connect(dsn)
        await migrate(conn)
        key = await create_key(conn, "bench", {"submit", "read"})
        await conn.close()
        channels = tmp / "channels.yaml"
        channels.write_text(
            yaml.safe_dump(
                {
                    "channels": {
                        rid: {"protocol": DEFAULT_PROTOCOL[rid], "base_url": rails.base_url(rid)}
                        for rid in rails.rail_ids
                    }
                }
            )
        )
        port = _port()
        env = dict(
            os.environ,
            PAYGATE_DATABASE_URL=dsn,
            PAYGATE_PORT=str(port),
            PAYGATE_CHANNELS_FILE=str(channels),
            PAYGATE_LOG_LEVEL="error",
            PAYGATE_CLOCK_START=BUSINESS_MORNING.isoformat(),
            PAYGATE_DATA_DIR=str(tmp),
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "paygate.cli", "serve"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        url = f"http://127.0.0.1:{port}"
        await _wait_http(f"{url}/healthz")
        headers = {"Authorization": f"Bearer {key}"}
        intake = await run_closed_loop(
            f"{url}/v1/payments",
            concurrency=64,
            duration_s=5,
            warmup_s=1,
            body_kind="payment",
            headers=headers,
        )
        results["intake_rps"] = intake.achieved_rps
        results["intake_errors"] = intake.errors
        half = await run_open_loop(
            f"{url}/v1/payments",
            rate=max(intake.achieved_rps / 2, 10),
            duration_s=5,
            body_kind="payment",
            headers=headers,
        )
        results["half_rate"] = round(intake.achieved_rps / 2)
        results["half_p50_ms"], results["half_p99_ms"] = half.p50_ms, half.p99_ms
        # End to end: wait for everything posted so far to settle, then time a fresh batch.
        conn = await asyncpg.connect(dsn)
        try:
            results["e2e"] = await _drain_rate(conn)
        finally:
            await conn.close()
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        await rails.stop()
        pg.stop()
    return results


async def _drain_rate(conn: asyncpg.Connection) -> dict[str, Any]:
    """Payments that reached settled per second while the workers drained the backlog."""
    start = time.monotonic()
    total = await conn.fetchval("SELECT count(*) FROM payments")
    first = await conn.fetchval("SELECT count(*) FROM payments WHERE status = 'settled'")
    done = first
    while time.monotonic() - start < 120:
        done = await conn.fetchval(
            "SELECT count(*) FROM payments WHERE status IN ('settled','rejected','failed')"
        )
        if done >= total:
            break
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - start
    settled_rate = await conn.fetchval(
        """SELECT count(*) / GREATEST(extract(epoch FROM max(at) - min(at)), 0.001)
           FROM payment_events WHERE to_status = 'settled'"""
    )
    return {
        "payments": total,
        "terminal": done,
        "drain_s": round(elapsed, 1),
        "settled_per_s": round(float(settled_rate or 0), 1),
    }


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


async def run(args: argparse.Namespace) -> int:
    from paygate.bench import messages_bench, recon_bench
    from paygate.merging import bench as merging_bench
    from routing import bench as routing_bench

    started = dt.datetime.now(dt.UTC)
    figures: dict[str, Any] = {"machine": _machine(), "date": started.isoformat(timespec="seconds")}
    print("routing…", flush=True)
    figures["routing"] = routing_bench.run()
    print("messages…", flush=True)
    figures["messages"] = messages_bench.run()
    print("merging…", flush=True)
    figures["merging"] = merging_bench.run()
    print("recon…", flush=True)
    figures["recon"] = recon_bench.run(args.recon_lines)
    print("intake and end to end…", flush=True)
    figures["http"] = await _intake_and_e2e(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(_markdown(figures), encoding="utf-8")
    print(json.dumps(figures, indent=2, default=str))
    print(f"wrote {args.out}")
    return 0


def _markdown(f: dict[str, Any]) -> str:
    http = f["http"]
    ratio = http["intake_rps"] / http["echo_rps"] * 100 if http["echo_rps"] else 0
    rows = [
        ("bare aiohttp JSON echo, closed loop 64", f"{http['echo_rps']:.0f} req/s", "—"),
        (
            "paygate `POST /v1/payments`, closed loop 64",
            f"{http['intake_rps']:.0f} req/s ({ratio:.0f}% of echo)",
            "≥ 40% of echo",
        ),
        (
            f"intake p50 / p99 at half that rate (open loop, {http['half_rate']} req/s)",
            f"{http['half_p50_ms']:.1f} / {http['half_p99_ms']:.1f} ms",
            "p99 ≤ 20 ms",
        ),
        (
            "end to end to `settled` (rails at zero latency)",
            f"{http['e2e']['settled_per_s']} payments/s",
            "≥ 1,500/s",
        ),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    sections = "\n\n".join(
        f"## {title}\n\n```\n{json.dumps(f[key], indent=2, default=str)}\n```"
        for key, title in (
            ("routing", "Routing (issue 4)"),
            ("messages", "Codecs (issue 5)"),
            ("merging", "Merge planning (issue 6)"),
            ("recon", "Reconciliation (issue 7)"),
        )
    )
    return (
        f"# Benchmarks\n\nWritten by `make bench` (`paygate bench`) on {f['date']}.\n"
        f"Machine: {f['machine']}. Everything runs on 127.0.0.1; the load generator, the "
        "simulated rails and the gateway share the two cores, so the HTTP figures are a lower "
        "bound.\n\n## Intake and end to end (issue 2)\n\n| measure | result | target |\n"
        f"|---|---|---|\n{table}\n\n{sections}\n"
    )
