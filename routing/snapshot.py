"""Live per-channel state the gateway passes in: usage today, liquidity, health."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class ChannelState:
    """One rail's state. `success_rate` is a ratio in [0, 1], not money, so float is fine."""

    used_amount_today: Decimal = Decimal(0)
    used_count_today: int = 0
    position: Decimal | None = None
    protection: Decimal | None = None
    breaker: BreakerState = BreakerState.CLOSED
    success_rate: float = 1.0
    p95_latency_ms: float = 0.0


FRESH = ChannelState()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """States by channel id; a channel that is missing is in its fresh state."""

    channels: dict[str, ChannelState] = field(default_factory=dict)

    def state(self, channel: str) -> ChannelState:
        return self.channels.get(channel, FRESH)
