"""Live channel health for routing: circuit breakers and outcome windows per rail.

Breaker and window logic are the pure ones from ``routing``; this class only feeds them real
outcomes and hands routing a ``Snapshot``. Usage and liquidity come from ``usage`` (PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from routing import BreakerState, ChannelState, CircuitBreaker, OutcomeWindow, Snapshot

UsageSource = Callable[[], dict[str, ChannelState]]


class ChannelHealth:
    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cool_down: dt.timedelta = dt.timedelta(seconds=30),
        window: dt.timedelta = dt.timedelta(minutes=5),
        usage: UsageSource | None = None,
        cache_for: dt.timedelta = dt.timedelta(milliseconds=200),
    ) -> None:
        self._threshold = failure_threshold
        self._cool_down = cool_down
        self._window = window
        self._breakers: dict[str, CircuitBreaker] = {}
        self._windows: dict[str, OutcomeWindow] = {}
        self._usage = usage
        self._cache_for = cache_for
        self._cached: tuple[dt.datetime, Snapshot] | None = None

    def _breaker(self, channel: str) -> CircuitBreaker:
        if channel not in self._breakers:
            self._breakers[channel] = CircuitBreaker(self._threshold, self._cool_down)
        return self._breakers[channel]

    def record(self, channel: str, *, ok: bool, latency_ms: float | None, now: dt.datetime) -> None:
        breaker = self._breaker(channel)
        before = breaker.state(now)
        if ok:
            breaker.record_success(now)
        else:
            breaker.record_failure(now)
        window = self._windows.setdefault(channel, OutcomeWindow(self._window))
        window.record(now, ok, latency_ms if latency_ms is not None else 0.0)
        if breaker.state(now) != before:
            self._cached = None

    def breaker_state(self, channel: str, now: dt.datetime) -> BreakerState:
        return self._breaker(channel).state(now)

    def snapshot(self, now: dt.datetime) -> Snapshot:
        if self._cached is not None and now - self._cached[0] < self._cache_for:
            return self._cached[1]
        base = self._usage() if self._usage else {}
        states: dict[str, ChannelState] = dict(base)
        for channel in set(self._breakers) | set(self._windows):
            usage = base.get(channel, ChannelState())
            window = self._windows.get(channel)
            states[channel] = ChannelState(
                used_amount_today=usage.used_amount_today,
                used_count_today=usage.used_count_today,
                position=usage.position,
                protection=usage.protection,
                breaker=self._breaker(channel).state(now),
                success_rate=window.success_rate(now) if window else 1.0,
                p95_latency_ms=window.p95_latency_ms(now) if window else 0.0,
            )
        snap = Snapshot(states)
        self._cached = (now, snap)
        return snap
