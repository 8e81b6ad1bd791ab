"""`paygate sim`: run the simulated clearing rails (see simulators/README.md)."""

from __future__ import annotations

import argparse
from typing import Any

from simulators.cli import DESCRIPTION, add_arguments, run


def register(subparsers: Any) -> None:
    """Add the `sim` sub-command to the paygate CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sim",
        help="run the simulated clearing rails",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    return run(args)
