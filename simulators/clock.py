"""The simulated clock shared by every rail in one process.

Rails read business hours, cut-offs and settlement cycles from this clock rather than the
wall clock, so a test can jump to 17:01 Berlin time or run a business day in seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SimClock:
    """Simulated time = anchor + (real elapsed seconds x speed). speed 0 freezes the clock."""

    def __init__(
        self,
        start: datetime | None = None,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        self._monotonic = monotonic
        self._anchor_sim = _as_utc(start) if start is not None else datetime.now(UTC)
        self._anchor_real = monotonic()
        self._speed = float(speed)

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        elapsed = self._monotonic() - self._anchor_real
        return self._anchor_sim + timedelta(seconds=elapsed * self._speed)

    def set(self, now: datetime | None = None, speed: float | None = None) -> None:
        """Jump to `now` (or keep the current time) and optionally change the speed."""
        if speed is not None and speed < 0:
            raise ValueError("clock speed must be >= 0")
        self._anchor_sim = _as_utc(now) if now is not None else self.now()
        self._anchor_real = self._monotonic()
        if speed is not None:
            self._speed = float(speed)

    def advance(self, seconds: float) -> None:
        self.set(self.now() + timedelta(seconds=seconds))

    def to_json(self) -> dict[str, object]:
        return {"now": self.now().isoformat(), "speed": self._speed}


def _as_utc(value: datetime) -> datetime:
    # A naive datetime in config or /_clock is taken as UTC, never as the host's local zone.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
