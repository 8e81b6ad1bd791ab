"""What-if replay: route recorded requests under the active and a candidate configuration
and compare the outcomes before the candidate is activated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from routing.config import RoutingConfig
from routing.decide import decide
from routing.decision import Decision
from routing.request import RouteRequest
from routing.snapshot import Snapshot

Replayable = RouteRequest | tuple[RouteRequest, dt.datetime]


@dataclass(slots=True)
class ChannelVolume:
    count: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)  # per currency


@dataclass(slots=True)
class SideSummary:
    """Outcome of the whole replay under one configuration."""

    routed: int = 0
    unrouted: int = 0
    volume: dict[str, ChannelVolume] = field(default_factory=dict)
    fees: dict[str, Decimal] = field(default_factory=dict)  # per currency
    total_expected_seconds: float = 0.0

    @property
    def mean_expected_seconds(self) -> float | None:
        return self.total_expected_seconds / self.routed if self.routed else None

    def add(self, req: RouteRequest, decision: Decision) -> None:
        if decision.channel is None:
            self.unrouted += 1
            return
        self.routed += 1
        vol = self.volume.setdefault(decision.channel, ChannelVolume())
        vol.count += 1
        vol.amounts[req.currency] = vol.amounts.get(req.currency, Decimal(0)) + req.amount
        if decision.fee is not None:
            self.fees[req.currency] = self.fees.get(req.currency, Decimal(0)) + decision.fee
        self.total_expected_seconds += decision.expected_seconds or 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "routed": self.routed,
            "unrouted": self.unrouted,
            "volume": {
                ch: {"count": v.count, "amounts": {c: str(a) for c, a in sorted(v.amounts.items())}}
                for ch, v in sorted(self.volume.items())
            },
            "fees": {c: str(f) for c, f in sorted(self.fees.items())},
            "mean_expected_seconds": self.mean_expected_seconds,
        }


@dataclass(frozen=True, slots=True)
class ChangedDecision:
    payment_id: str
    active: str | None
    candidate: str | None


@dataclass(slots=True)
class WhatIfReport:
    total: int = 0
    changed: int = 0
    examples: list[ChangedDecision] = field(default_factory=list)  # the first few changes
    active: SideSummary = field(default_factory=SideSummary)
    candidate: SideSummary = field(default_factory=SideSummary)

    @property
    def fee_delta(self) -> dict[str, Decimal]:
        """Candidate fees minus active fees, per currency (negative: the candidate saves)."""
        currencies = sorted(set(self.active.fees) | set(self.candidate.fees))
        zero = Decimal(0)
        return {
            c: self.candidate.fees.get(c, zero) - self.active.fees.get(c, zero) for c in currencies
        }

    @property
    def moves(self) -> dict[tuple[str | None, str | None], int]:
        """How many decisions moved from one rail to another (among the kept examples)."""
        out: dict[tuple[str | None, str | None], int] = {}
        for change in self.examples:
            key = (change.active, change.candidate)
            out[key] = out.get(key, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "changed": self.changed,
            "examples": [
                {"payment_id": e.payment_id, "active": e.active, "candidate": e.candidate}
                for e in self.examples
            ],
            "active": self.active.to_dict(),
            "candidate": self.candidate.to_dict(),
            "fee_delta": {c: str(d) for c, d in self.fee_delta.items()},
        }


def _with_time(item: Replayable) -> tuple[RouteRequest, dt.datetime]:
    if isinstance(item, tuple):
        return item
    if item.routed_at is None:
        raise ValueError(f"request {item.payment_id} has no routed_at to replay it at")
    return item, item.routed_at


def whatif(
    requests: Iterable[Replayable],
    active: RoutingConfig,
    candidate: RoutingConfig,
    snapshot: Snapshot,
    *,
    max_examples: int = 100,
) -> WhatIfReport:
    """Replay each request (with `routed_at`, or as a `(request, now)` pair) under both."""
    report = WhatIfReport()
    for item in requests:
        req, now = _with_time(item)
        old = decide(req, active, snapshot, now, explain=False)
        new = decide(req, candidate, snapshot, now, explain=False)
        report.total += 1
        report.active.add(req, old)
        report.candidate.add(req, new)
        if old.channel != new.channel:
            report.changed += 1
            if len(report.examples) < max_examples:
                report.examples.append(ChangedDecision(req.payment_id, old.channel, new.channel))
    return report
