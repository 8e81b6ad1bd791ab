"""Business-day arithmetic for due dates and date windows.

Weekends (Saturday, Sunday) plus an explicit holiday set; the rail's calendar is passed
in as data. Each date maps to a business-day ordinal so a difference between two dates
is one subtraction, which is what the matcher needs a million times a run.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import date, timedelta


class BusinessCalendar:
    def __init__(self, holidays: Iterable[date] = ()) -> None:
        self._holidays = sorted({h for h in holidays if h.weekday() < 5})
        self._ordinals: dict[date, int] = {}

    def is_business_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        i = bisect_right(self._holidays, day)
        return not (i and self._holidays[i - 1] == day)

    def ordinal(self, day: date) -> int:
        """Business days from a fixed epoch up to and including ``day``. A non-business
        day shares the ordinal of the business day before it."""
        cached = self._ordinals.get(day)
        if cached is not None:
            return cached
        days = day.toordinal()  # ordinal 1 (0001-01-01) is a Monday
        weeks, rest = divmod(days - 1, 7)
        weekdays = weeks * 5 + min(rest + 1, 5)
        value = weekdays - bisect_right(self._holidays, day)
        self._ordinals[day] = value
        return value

    def difference(self, a: date, b: date) -> int:
        """Absolute distance between two dates in business days."""
        return abs(self.ordinal(a) - self.ordinal(b))

    def add(self, day: date, n: int) -> date:
        """The ``n``-th business day after ``day`` (n >= 0; n == 0 rolls forward to a
        business day)."""
        current = day
        while not self.is_business_day(current):
            current += timedelta(days=1)
        remaining = n
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_business_day(current):
                remaining -= 1
        return current
