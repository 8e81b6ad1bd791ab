"""Rail health from observed outcomes: a circuit breaker and a sliding outcome window.

Both are pure state machines: every call takes the time, nothing reads a clock, so the
gateway can drive them from real outcomes and tests can drive them from a script.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque

from routing.snapshot import BreakerState


class CircuitBreaker:
    """Opens after `failure_threshold` consecutive failures; after `cool_down` it half-opens
    to let a probe through; a success then closes it, a failure re-opens it."""

    __slots__ = ("_failures", "_opened_at", "cool_down", "failure_threshold")

    def __init__(
        self, failure_threshold: int = 5, cool_down: dt.timedelta = dt.timedelta(seconds=30)
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.cool_down = cool_down
        self._failures = 0
        self._opened_at: dt.datetime | None = None

    def state(self, now: dt.datetime) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if now - self._opened_at >= self.cool_down:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def record_success(self, now: dt.datetime) -> BreakerState:
        # A success while open (a late response) also proves the rail alive: close either way.
        self._failures = 0
        self._opened_at = None
        return BreakerState.CLOSED

    def record_failure(self, now: dt.datetime) -> BreakerState:
        """A failure or a timeout."""
        current = self.state(now)
        if current is BreakerState.HALF_OPEN:
            self._opened_at = now
            return BreakerState.OPEN
        if current is BreakerState.OPEN:
            return current
        self._failures += 1
        if self._failures >= self.failure_threshold:
            self._opened_at = now
            self._failures = 0
            return BreakerState.OPEN
        return BreakerState.CLOSED


class OutcomeWindow:
    """Outcomes of the last `span`: success rate and p95 latency (nearest rank) at `now`."""

    __slots__ = ("_items", "span")

    def __init__(self, span: dt.timedelta = dt.timedelta(minutes=5)) -> None:
        self.span = span
        self._items: deque[tuple[dt.datetime, bool, float]] = deque()

    def record(self, now: dt.datetime, ok: bool, latency_ms: float) -> None:
        self._items.append((now, ok, latency_ms))

    def _evict(self, now: dt.datetime) -> None:
        horizon = now - self.span
        items = self._items
        while items and items[0][0] <= horizon:
            items.popleft()

    def count(self, now: dt.datetime) -> int:
        self._evict(now)
        return sum(1 for t, _, _ in self._items if t <= now)

    def success_rate(self, now: dt.datetime) -> float:
        """1.0 when nothing was observed: an idle rail is not presumed broken."""
        self._evict(now)
        seen = [ok for t, ok, _ in self._items if t <= now]
        return sum(seen) / len(seen) if seen else 1.0

    def p95_latency_ms(self, now: dt.datetime) -> float:
        self._evict(now)
        latencies = sorted(ms for t, _, ms in self._items if t <= now)
        if not latencies:
            return 0.0
        return latencies[max(0, math.ceil(0.95 * len(latencies)) - 1)]
