"""What `decide` returns: the choice, its fallbacks and, on request, why."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# Not frozen: a frozen dataclass __init__ costs a microsecond per decision on the hot path.
@dataclass(slots=True)
class ChannelVerdict:
    """One rail in an explanation: dropped with a reason, or scored (lower score wins)."""

    channel: str
    eligible: bool
    dropped_because: str | None = None
    fee: Decimal | None = None
    latency_penalty: Decimal | None = None
    risk_penalty: Decimal | None = None
    score: Decimal | None = None
    expected_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "eligible": self.eligible,
            "dropped_because": self.dropped_because,
            "fee": _money(self.fee),
            "latency_penalty": _money(self.latency_penalty),
            "risk_penalty": _money(self.risk_penalty),
            "score": _money(self.score),
            "expected_seconds": self.expected_seconds,
        }


@dataclass(slots=True)
class Decision:
    """`channel` is None when nothing is eligible; `reason` then says why in one line."""

    channel: str | None
    fallbacks: list[str] = field(default_factory=list)
    fee: Decimal | None = None
    verdicts: list[ChannelVerdict] = field(default_factory=list)
    rule: str | None = None
    reason: str = ""
    expected_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (Decimals as strings), e.g. for `POST /v1/routing/quote`."""
        return {
            "channel": self.channel,
            "fallbacks": list(self.fallbacks),
            "fee": _money(self.fee),
            "rule": self.rule,
            "reason": self.reason,
            "expected_seconds": self.expected_seconds,
            "verdicts": [v.to_dict() for v in self.verdicts],
        }
