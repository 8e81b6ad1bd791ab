"""`paygate routing …`: check a configuration, explain a decision, replay a change.

Talks only to the pure `routing` library; the lead wires `register` into the main parser.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

import routing
from paygate.config import Settings
from paygate.store import routing_configs
from paygate.store.database import open_database


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("routing", help="check, explain and replay routing configs")
    sub = parser.add_subparsers(dest="routing_command", required=True)

    check = sub.add_parser("check", help="validate a routing config (exit 1 on errors)")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=_check)

    explain = sub.add_parser("explain", help="show how one order would be routed")
    explain.add_argument("--config", type=Path, required=True)
    explain.add_argument("--order", type=Path, required=True, help="RouteRequest as JSON")
    explain.add_argument("--now", type=_aware_time, help="ISO time (default: order routed_at)")
    explain.set_defaults(handler=_explain)

    whatif = sub.add_parser("whatif", help="replay recorded requests under a candidate config")
    whatif.add_argument("--config", type=Path, required=True, help="candidate config")
    whatif.add_argument(
        "--active", type=Path, help="config in force (default with --since: the stored active one)"
    )
    source = whatif.add_mutually_exclusive_group(required=True)
    source.add_argument("--requests", type=Path, help="JSON lines of RouteRequest with routed_at")
    source.add_argument(
        "--since",
        type=_aware_time,
        help="replay the requests the gateway recorded for payments created since this time",
    )
    whatif.set_defaults(handler=_whatif)


def _aware_time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a UTC offset, e.g. 2024-06-04T10:00+02:00")
    return value


def _check(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    issues = routing.check_config(args.file)
    for issue in issues:
        print(issue.format(str(args.file)), file=out)
    return 1 if any(i.severity == "error" for i in issues) else 0


def _load(path: Path, out: TextIO) -> routing.RoutingConfig | None:
    try:
        return routing.load_config(path)
    except routing.ConfigLoadError as exc:
        for issue in exc.issues:
            print(issue.format(str(path)), file=out)
        return None


def _explain(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    config = _load(args.config, out)
    if config is None:
        return 1
    request = routing.RouteRequest.model_validate_json(args.order.read_text(encoding="utf-8"))
    now = args.now or request.routed_at
    if now is None:
        print("give --now or a routed_at in the order", file=out)
        return 2
    decision = routing.decide(request, config, routing.Snapshot(), now, explain=True)
    table = Table(title=f"{request.payment_id}: {request.amount} {request.currency} at {now}")
    for column in ("channel", "verdict", "fee", "latency", "risk", "score"):
        table.add_column(
            column, justify="right" if column in ("fee", "latency", "risk", "score") else "left"
        )
    for v in decision.verdicts:
        if v.channel == decision.channel:
            verdict = "CHOSEN"
        elif v.dropped_because is None:
            verdict = "fallback"
        else:
            verdict = v.dropped_because
        table.add_row(
            v.channel,
            verdict,
            *(
                "" if x is None else str(x)
                for x in (v.fee, v.latency_penalty, v.risk_penalty, v.score)
            ),
        )
    console = Console(file=out, width=140)
    console.print(table)
    if decision.channel is None:
        console.print(f"unrouted: {decision.reason}")
    else:
        fallbacks = ", ".join(decision.fallbacks) or "none"
        console.print(
            f"chosen {decision.channel} (rule {decision.rule or '-'}), fee {decision.fee}, "
            f"fallbacks {fallbacks}" + (f"; {decision.reason}" if decision.reason else "")
        )
    return 0


def _read_requests(path: Path) -> list[routing.RouteRequest]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [routing.RouteRequest.model_validate_json(line) for line in lines if line.strip()]


async def _stored(
    settings: Settings, since: dt.datetime
) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """The active version and its YAML, and the route requests recorded since ``since``."""
    database = await open_database(settings)
    try:
        active = await routing_configs.active_version(database.pool)
        docs = await routing_configs.recorded_requests(database.pool, since, 10_000_000)
    finally:
        await database.close()
    if active is None:
        return None, None, docs
    return active.version, active.yaml, docs


def _whatif(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    candidate = _load(args.config, out)
    if candidate is None:
        return 1
    active: routing.RoutingConfig | None
    if args.requests is not None:
        if args.active is None:
            print("give --active with --requests", file=out)
            return 2
        active = _load(args.active, out)
        requests = _read_requests(args.requests)
    else:
        settings = getattr(args, "settings", None) or Settings()
        version, text, docs = asyncio.run(_stored(settings, args.since))
        if args.active is not None:
            active = _load(args.active, out)
        elif text is None:
            print("no active routing config is stored; give --active", file=out)
            return 2
        else:
            try:
                active = routing.load_config_text(text, source=f"stored version {version}")
            except routing.ConfigLoadError as exc:
                for issue in exc.issues:
                    print(issue.format(f"stored version {version}"), file=out)
                return 1
        requests = [routing.RouteRequest.model_validate(d) for d in docs]
    if active is None:
        return 1
    report = routing.whatif(requests, active, candidate, routing.Snapshot())
    console = Console(file=out, width=140)
    console.print(f"replayed {report.total} requests: {report.changed} decisions change")
    table = Table(title="volume per channel (active → candidate)")
    table.add_column("channel")
    table.add_column("active", justify="right")
    table.add_column("candidate", justify="right")
    channels = sorted(set(report.active.volume) | set(report.candidate.volume))
    for channel in channels:
        before = report.active.volume.get(channel)
        after = report.candidate.volume.get(channel)
        table.add_row(channel, str(before.count if before else 0), str(after.count if after else 0))
    table.add_row("(unrouted)", str(report.active.unrouted), str(report.candidate.unrouted))
    console.print(table)
    for currency, delta in report.fee_delta.items():
        old_fees = report.active.fees.get(currency, Decimal(0))
        new_fees = report.candidate.fees.get(currency, Decimal(0))
        console.print(f"fees {currency}: {old_fees} → {new_fees} (delta {delta})")
    for label, side in (("active", report.active), ("candidate", report.candidate)):
        mean = side.mean_expected_seconds
        console.print(f"expected latency {label}: " + ("-" if mean is None else f"{mean:.1f} s"))
    print(json.dumps({"changed_examples": report.to_dict()["examples"][:10]}), file=out)
    return 0
