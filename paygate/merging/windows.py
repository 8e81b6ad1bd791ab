"""Window boundaries: the instants at which a merge bucket closes.

Boundaries follow the wall clock of the rule's time zone, because that is how operators
write them ("every 10 minutes", "at 09:30 and 15:00 Shanghai time"):

- ``every_minutes: N``: local times whose minutes since 1970-01-01 00:00 (local) are a
  multiple of N, so N = 10 gives :00, :10, :20 ... and N = 60 the full hours.
- ``at: [HH:MM, ...]``: those local times on every day.

Around daylight-saving changes the set of boundaries stays well defined: a wall time in
the skipped hour is read with the offset before the change (so it lands a little later);
in the repeated hour ``every_minutes`` boundaries fire on both passes while fixed ``at``
times fire once, on the first. ``next_boundary`` is the successor in that set, so it is
monotonic and always strictly after the instant asked about, which is what the planner's
guarantees rest on.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from paygate.merging.rules import MergeWindow, zone

_LOCAL_EPOCH = datetime(1970, 1, 1)


def require_aware(value: datetime, what: str) -> None:
    # UTC first: the database hands back UTC datetimes, and a close checks 100k of them.
    if value.tzinfo is UTC:
        return
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")


def next_boundary(window: MergeWindow, after: datetime) -> datetime:
    """The first window boundary strictly after ``after`` (aware), returned in UTC."""
    require_aware(after, "after")
    if window.every_minutes is not None:
        return _next_every(window.every_minutes, window.timezone, after)
    assert window.at is not None  # the model guarantees exactly one kind
    return _next_fixed(window.at, window.timezone, after)


def last_boundary(window: MergeWindow, at_or_before: datetime) -> datetime:
    """The latest window boundary at or before ``at_or_before``, in UTC."""
    require_aware(at_or_before, "at_or_before")
    # Walking forward from any boundary at or before ``at_or_before`` reaches the answer.
    # One step (or one day) back almost always holds one; an offset change can stretch
    # the gap, so fall back to looking further.
    if window.every_minutes is not None:
        step = timedelta(minutes=window.every_minutes)
        lookbacks = (step, step + _MAX_SHIFT)
    else:
        lookbacks = (timedelta(days=1), timedelta(days=3))
    for lookback in lookbacks:
        previous = next_boundary(window, at_or_before - lookback)
        if previous <= at_or_before:
            break
    while True:
        following = next_boundary(window, previous)
        if following > at_or_before:
            return previous
        previous = following


# Larger than any UTC offset change a time zone has made in one go.
_MAX_SHIFT = timedelta(hours=3)


def _next_every(minutes: int, zone_name: str, after: datetime) -> datetime:
    tz = zone(zone_name)
    step = timedelta(minutes=minutes)
    local = after.astimezone(tz)
    naive = local.replace(tzinfo=None)
    candidate = _LOCAL_EPOCH + step * ((naive - _LOCAL_EPOCH) // step + 1)
    first = candidate.replace(tzinfo=tz, fold=0)
    offset = local.utcoffset()
    if first.utcoffset() == offset and candidate.replace(tzinfo=tz, fold=1).utcoffset() == offset:
        # No offset change between ``after`` and the next wall-clock boundary: the plain
        # answer is exact. This is the path taken all but a few hours a year.
        return first.astimezone(UTC)
    return _next_every_near_shift(step, tz, after, naive)


def _next_every_near_shift(
    step: timedelta, tz: ZoneInfo, after: datetime, naive: datetime
) -> datetime:
    # Enumerate the wall-clock grid around ``after`` wide enough to cover any offset change
    # and take the smallest boundary instant after it.
    start = _LOCAL_EPOCH + step * ((naive - _MAX_SHIFT - _LOCAL_EPOCH) // step)
    stop = naive + step + _MAX_SHIFT
    best: datetime | None = None
    candidate = start
    while candidate <= stop:
        # Compare in UTC: aware datetimes sharing a tzinfo compare by wall time, ignoring fold.
        first = candidate.replace(tzinfo=tz, fold=0).astimezone(UTC)
        second = candidate.replace(tzinfo=tz, fold=1).astimezone(UTC)
        instants = [first]
        if second > first:
            instants.append(second)  # a repeated wall time: the second pass counts too
        for instant in instants:
            if instant > after and (best is None or instant < best):
                best = instant
        candidate += step
    assert best is not None  # the grid spans more than one step past ``after``
    return best


def _next_fixed(times: tuple[time, ...], zone_name: str, after: datetime) -> datetime:
    tz = zone(zone_name)
    today = after.astimezone(tz).date()
    best: datetime | None = None
    # Yesterday to the day after tomorrow covers every offset change; the minimum is taken
    # rather than the first hit because a skipped wall time may map past a later one.
    for days in range(-1, 3):
        day = today + timedelta(days=days)
        for at in times:
            instant = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
            if instant > after and (best is None or instant < best):
                best = instant
    assert best is not None  # a non-empty list of times always has one within two days
    return best
