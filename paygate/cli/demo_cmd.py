"""``paygate demo``: placeholder until the demo lands (next commit)."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the end-to-end demo")
    p.set_defaults(handler=lambda a: 0)
