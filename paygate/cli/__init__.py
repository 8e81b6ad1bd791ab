"""The ``paygate`` command. Each group of sub-commands lives in its own module and registers
itself here; this module only builds the parser and dispatches."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module adds its sub-commands with ``register(subparsers)``.
_COMMANDS = (
    "serve_cmd",
    "db_cmd",
    "demo_cmd",
    "sim_cmd",
    "routing_cmd",
    "messages_cmd",
    "bench_cmd",
    "recon_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paygate",
        description=(
            "Unified payment clearing gateway. Settings come from PAYGATE_* environment "
            "variables (see paygate/config.py); with no PAYGATE_DATABASE_URL an embedded "
            "PostgreSQL is started in .paygate/."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMANDS:
        importlib.import_module(f"paygate.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    result = args.handler(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
