"""``python -m loadtest``: run an open-loop (default) or closed-loop load against a URL.

Examples::

    python -m loadtest --url http://127.0.0.1:8080/v1/payments --rate 800 --duration 10 \\
        --header "Authorization: Bearer $KEY" --out .paygate/reports/bench
    python -m loadtest --spawn-echo --body-kind echo --find-max --start-rate 500
    python -m loadtest --spawn-echo --body-kind echo --mode closed --concurrency 64

Prints a table, writes ``<name>.json`` and ``<name>.png`` into ``--out``. ``--find-max`` raises
the rate in short steps until p99, errors or throughput degrade and reports the highest
sustainable rate (its step's result is the one written). ``--spawn-echo`` starts
``python -m loadtest.echo`` in a subprocess on a free port and targets it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from loadtest.bodies import BODY_KINDS
from loadtest.result import LoadResult, render_table
from loadtest.runner import find_max_rate, run_closed_loop, run_open_loop


def parse_header(text: str) -> tuple[str, str]:
    """``"K: V"`` → ``("K", "V")``; raises ``argparse.ArgumentTypeError`` without a colon."""
    key, sep, value = text.partition(":")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"header must look like 'Name: value', got {text!r}")
    return key.strip(), value.strip()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m loadtest",
        description="Open-loop HTTP load generator (latency from the scheduled send time).",
    )
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="target URL, e.g. http://127.0.0.1:8080/v1/payments")
    target.add_argument(
        "--spawn-echo", action="store_true", help="start a local echo server and target it"
    )
    p.add_argument("--method", default="POST")
    p.add_argument("--mode", choices=("open", "closed"), default="open")
    p.add_argument("--rate", type=float, default=800.0, help="open loop: requests per second")
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=0.0, help="unrecorded seconds first")
    p.add_argument("--connections", type=int, default=256, help="client connection pool size")
    p.add_argument("--concurrency", type=int, default=64, help="closed loop: workers")
    p.add_argument("--max-in-flight", type=int, default=None, help="open loop: drop above this")
    p.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    p.add_argument(
        "--header",
        action="append",
        type=parse_header,
        default=[],
        metavar="K:V",
        help="extra header, repeatable (e.g. 'Authorization: Bearer ...')",
    )
    p.add_argument("--body-kind", choices=BODY_KINDS, default="payment")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path(".paygate/reports/loadtest"))
    p.add_argument("--name", default="loadtest", help="file name stem for JSON and PNG")
    p.add_argument("--find-max", action="store_true", help="search the max sustainable rate")
    p.add_argument("--start-rate", type=float, default=200.0, help="--find-max: first rate")
    p.add_argument("--step", type=float, default=2.0, help="--find-max: seconds per step")
    p.add_argument("--growth", type=float, default=1.5, help="--find-max: rate factor per step")
    p.add_argument("--p99-limit-ms", type=float, default=100.0, help="--find-max: p99 bound")
    return p


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def spawned_echo(console: Console) -> Iterator[str]:
    """Run ``python -m loadtest.echo`` on a free port for the duration of the block."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/echo"
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadtest.echo", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15.0
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1.0):
                    break
            except (urllib.error.URLError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("echo server did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
        for line in out.splitlines():
            if "CPU" in line:
                console.print(line)


def _steps_table(steps: list[tuple[LoadResult, bool]]) -> Table:
    table = Table(title="find-max steps")
    for col in ("rate", "got/s", "p50 ms", "p99 ms", "errors", "dropped", "late", "gen CPU"):
        table.add_column(col, justify="right")
    table.add_column("ok")
    for r, ok in steps:
        table.add_row(
            f"{r.rate:,.0f}",
            f"{r.achieved_rps:,.0f}",
            f"{r.p50_ms:.2f}",
            f"{r.p99_ms:.2f}",
            str(r.error_count),
            str(r.dropped),
            str(r.late),
            f"{r.client_cpu_util:.0%}",
            "yes" if ok else "no",
        )
    return table


async def _run(args: argparse.Namespace, url: str, console: Console) -> LoadResult | None:
    headers = dict(args.header)
    if args.find_max:
        steps: list[tuple[LoadResult, bool]] = []

        def on_step(result: LoadResult, ok: bool) -> None:
            steps.append((result, ok))
            console.print(
                f"step {len(steps)}: {result.rate:,.0f} req/s → achieved "
                f"{result.achieved_rps:,.0f}, p99 {result.p99_ms:.2f} ms, "
                f"errors {result.error_count}, dropped {result.dropped} "
                f"[{'ok' if ok else 'degraded'}]"
            )

        best = await find_max_rate(
            url,
            start_rate=args.start_rate,
            body_kind=args.body_kind,
            headers=headers,
            connections=args.connections,
            step_s=args.step,
            warmup_s=min(args.warmup, args.step) if args.warmup else 0.5,
            growth=args.growth,
            p99_limit_ms=args.p99_limit_ms,
            seed=args.seed,
            method=args.method,
            on_step=on_step,
        )
        console.print(_steps_table(steps))
        console.print(f"[bold]highest sustainable open-loop rate: {best:,.0f} req/s[/bold]")
        good = [r for r, ok in steps if ok and r.rate == best]
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"{args.name}-steps.json").write_text(
            json.dumps(
                {"max_rate": best, "steps": [{**r.to_dict(), "ok": ok} for r, ok in steps]},
                indent=2,
            )
            + "\n"
        )
        return good[-1] if good else (steps[-1][0] if steps else None)
    if args.mode == "closed":
        return await run_closed_loop(
            url,
            concurrency=args.concurrency,
            duration_s=args.duration,
            body_kind=args.body_kind,
            headers=headers,
            connections=max(args.connections, args.concurrency),
            warmup_s=args.warmup,
            seed=args.seed,
            method=args.method,
            timeout_s=args.timeout,
        )
    return await run_open_loop(
        url,
        rate=args.rate,
        duration_s=args.duration,
        body_kind=args.body_kind,
        headers=headers,
        connections=args.connections,
        warmup_s=args.warmup,
        seed=args.seed,
        method=args.method,
        max_in_flight=args.max_in_flight,
        timeout_s=args.timeout,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    if args.spawn_echo:
        with spawned_echo(console) as url:
            result = asyncio.run(_run(args, url, console))
    else:
        result = asyncio.run(_run(args, args.url, console))
    if result is None:
        return 1
    console.print(render_table(result))
    result.write(args.out, name=args.name)
    console.print(f"wrote {args.out / (args.name + '.json')} and {args.name}.png")
    return 0 if result.completed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
