"""Command line for the simulators: `python -m simulators` and `paygate sim` share this."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from simulators.config import DEFAULT_CONFIG_PATH, ConfigError, load_rails_config
from simulators.server import start_rails

DEFAULT_PORT_BASE = 8700

DESCRIPTION = """\
Run the simulated clearing rails (rtgs, batch, instant, card, citybank, cips, swift) in one
process, each on its own port: http://HOST:(PORT_BASE + port_offset). Every rail keeps its own
ledger and answers in its own protocol (pacs.008/pacs.002, JSON, MT103/MT199).
Operator endpoints on every rail: GET /_ledger, GET /_profile, POST /_control, POST /_reset,
GET|POST /_clock, GET /_statement?date=YYYY-MM-DD&format=camt053|mt940|mt950|csv[&plant=SPEC].
See simulators/README.md for the full protocol table."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG_PATH,
        help="rails YAML (default: simulators/rails.yaml)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument(
        "--port-base",
        type=int,
        default=None,
        help=f"rail port = PORT_BASE + port_offset (default: config, else {DEFAULT_PORT_BASE}); "
        "0 = ephemeral ports",
    )
    parser.add_argument(
        "--speed", type=float, default=None, help="simulated clock speed (3600 = 1 h/s)"
    )


async def serve(args: argparse.Namespace) -> None:
    cfg = load_rails_config(args.config)
    if args.speed is not None:
        cfg.clock_speed = args.speed
    base = args.port_base
    if base is None:
        base = cfg.port_base if cfg.port_base is not None else DEFAULT_PORT_BASE
    handle = await start_rails(cfg, host=args.host, port_base=base or None)
    for rail_id in handle.rail_ids:
        print(f"{rail_id:10s} {handle.base_url(rail_id)}", flush=True)
    print(f"clock      {handle.clock.now().isoformat()} x{handle.clock.speed}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await handle.stop()


def run(args: argparse.Namespace) -> int:
    try:
        asyncio.run(serve(args))
    except ConfigError as exc:
        print(f"invalid rails config: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot start rails: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulators",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
