"""Business days, opening hours, cut-off and holidays of one rail, in the rail's time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class BusinessHours:
    tz: str = "UTC"
    days: frozenset[int] = frozenset(range(7))
    open: time = time(0, 0)
    close: time | None = None  # None: open until midnight
    cutoff: time | None = None  # last time customer payments are accepted; defaults to close
    holiday_country: str | None = None
    _zone: ZoneInfo = field(init=False, repr=False)
    _holidays: holidays.HolidayBase | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._zone = ZoneInfo(self.tz)
        self._holidays = (
            holidays.country_holidays(self.holiday_country) if self.holiday_country else None
        )

    @property
    def always_open(self) -> bool:
        return (
            len(self.days) == 7
            and self.open == time(0, 0)
            and self.close is None
            and self.cutoff is None
            and self._holidays is None
        )

    def local(self, now: datetime) -> datetime:
        return now.astimezone(self._zone)

    def local_date(self, now: datetime) -> date:
        return self.local(now).date()

    def is_business_day(self, day: date) -> bool:
        if day.weekday() not in self.days:
            return False
        return not (self._holidays is not None and day in self._holidays)

    def accepting(self, now: datetime) -> bool:
        """True while customer payments are accepted for same-day settlement."""
        if self.always_open:
            return True
        local = self.local(now)
        if not self.is_business_day(local.date()):
            return False
        last = self.cutoff or self.close
        t = local.time()
        return self.open <= t and (last is None or t < last)

    def next_open(self, now: datetime) -> datetime:
        """The next moment at or after `now` at which the rail accepts payments."""
        if self.accepting(now):
            return now
        local = self.local(now)
        day = local.date()
        for _ in range(400):  # a year of holidays cannot block more than this
            if self.is_business_day(day):
                opening = datetime.combine(day, self.open, tzinfo=self._zone)
                if opening > now:
                    return opening.astimezone(UTC)
            day += timedelta(days=1)
        raise ValueError("calendar has no business day within a year")

    def describe(self) -> dict[str, Any]:
        return {
            "tz": self.tz,
            "days": [DAY_NAMES[d] for d in sorted(self.days)],
            "open": self.open.strftime("%H:%M"),
            "close": self.close.strftime("%H:%M") if self.close else "24:00",
            "cutoff": self.cutoff.strftime("%H:%M") if self.cutoff else None,
            "holidays": self.holiday_country,
            "always_open": self.always_open,
        }
