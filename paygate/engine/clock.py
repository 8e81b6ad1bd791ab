"""Clocks. Pure code receives ``now``; the shell reads it from one of these."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class SimulatedClock:
    """Business time that starts at ``start`` and runs ``speed`` times faster than real time,
    so that hours, cut-offs and settlement cycles can be exercised in seconds."""

    def __init__(self, start: dt.datetime, speed: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError("clock start must be timezone-aware")
        self._start = start
        self._speed = speed
        self._origin = time.monotonic()

    def now(self) -> dt.datetime:
        elapsed = (time.monotonic() - self._origin) * self._speed
        return self._start + dt.timedelta(seconds=elapsed)


def clock_from(start: dt.datetime | None, speed: float) -> Clock:
    return SystemClock() if start is None else SimulatedClock(start, speed)
