"""Window boundaries: every N minutes and fixed local times, across time zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from paygate.merging import MergeWindow, last_boundary, next_boundary

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def local(zone: ZoneInfo, *parts: int) -> datetime:
    year, month, day, hour, minute, *rest = parts
    return datetime(year, month, day, hour, minute, rest[0] if rest else 0, tzinfo=zone)


def boundaries(window: MergeWindow, start: datetime, count: int) -> list[datetime]:
    out, at = [], start
    for _ in range(count):
        at = next_boundary(window, at)
        out.append(at)
    return out


def test_every_ten_minutes_aligns_to_the_local_wall_clock() -> None:
    window = MergeWindow(every_minutes=10, timezone="Asia/Shanghai")
    got = next_boundary(window, local(SHANGHAI, 2024, 6, 3, 9, 57, 12))
    assert got == local(SHANGHAI, 2024, 6, 3, 10, 0)
    assert got.tzinfo is UTC
    # Strictly after: a boundary instant itself moves on to the next one.
    assert next_boundary(window, got) == local(SHANGHAI, 2024, 6, 3, 10, 10)


def test_every_n_minutes_in_a_half_hour_zone_follows_local_time() -> None:
    # India is UTC+05:30: local full hours fall on UTC half hours.
    window = MergeWindow(every_minutes=60, timezone="Asia/Kolkata")
    got = next_boundary(window, datetime(2024, 6, 3, 4, 10, tzinfo=UTC))
    assert got == datetime(2024, 6, 3, 4, 30, tzinfo=UTC)


def test_every_n_minutes_not_dividing_a_day_counts_from_the_local_epoch() -> None:
    window = MergeWindow(every_minutes=7)
    got = next_boundary(window, datetime(2024, 6, 3, 0, 0, tzinfo=UTC))
    minutes = (got - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(minutes=1)
    assert minutes % 7 == 0
    assert timedelta(0) < got - datetime(2024, 6, 3, tzinfo=UTC) <= timedelta(minutes=7)


def test_fixed_times_in_a_time_zone_roll_over_to_the_next_day() -> None:
    window = MergeWindow(at=(time(9, 30), time(15, 0)), timezone="Asia/Shanghai")
    assert next_boundary(window, local(SHANGHAI, 2024, 6, 3, 8, 0)) == local(
        SHANGHAI, 2024, 6, 3, 9, 30
    )
    assert next_boundary(window, local(SHANGHAI, 2024, 6, 3, 9, 30)) == local(
        SHANGHAI, 2024, 6, 3, 15, 0
    )
    # 16:00 UTC is already the next day (00:00) in Shanghai.
    assert next_boundary(window, datetime(2024, 6, 3, 16, 0, tzinfo=UTC)) == local(
        SHANGHAI, 2024, 6, 4, 9, 30
    )
    assert last_boundary(window, local(SHANGHAI, 2024, 6, 4, 9, 0)) == local(
        SHANGHAI, 2024, 6, 3, 15, 0
    )
    assert last_boundary(window, local(SHANGHAI, 2024, 6, 4, 9, 30)) == local(
        SHANGHAI, 2024, 6, 4, 9, 30
    )


def test_fall_back_repeats_every_n_minute_boundaries_on_both_passes() -> None:
    window = MergeWindow(every_minutes=30, timezone="Europe/Berlin")
    start = local(BERLIN, 2024, 10, 27, 1, 50)
    got = [b.astimezone(BERLIN).strftime("%H:%M%z") for b in boundaries(window, start, 6)]
    assert got == [
        "02:00+0200",
        "02:30+0200",
        "02:00+0100",
        "02:30+0100",
        "03:00+0100",
        "03:30+0100",
    ]


def test_spring_forward_skips_the_missing_hour() -> None:
    window = MergeWindow(every_minutes=30, timezone="Europe/Berlin")
    start = local(BERLIN, 2024, 3, 31, 1, 10)
    got = [b.astimezone(BERLIN).strftime("%H:%M%z") for b in boundaries(window, start, 4)]
    assert got == ["01:30+0100", "03:00+0200", "03:30+0200", "04:00+0200"]
    # A fixed time inside the missing hour happens once, read with the winter offset.
    fixed = MergeWindow(at=(time(2, 30),), timezone="Europe/Berlin")
    assert next_boundary(fixed, start) == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "window",
    [
        MergeWindow(every_minutes=30, timezone="Europe/Berlin"),
        MergeWindow(every_minutes=7, timezone="Australia/Lord_Howe"),
        MergeWindow(at=(time(2, 30), time(9, 0)), timezone="Europe/Berlin"),
        MergeWindow(every_minutes=1440, timezone="America/New_York"),
    ],
)
@pytest.mark.parametrize(
    "around",
    [
        datetime(2024, 10, 27, 1, 0, tzinfo=UTC),
        datetime(2024, 3, 31, 1, 0, tzinfo=UTC),
        datetime(2024, 4, 6, 15, 0, tzinfo=UTC),
        datetime(2024, 11, 3, 6, 0, tzinfo=UTC),
    ],
)
def test_next_boundary_is_a_monotonic_successor(window: MergeWindow, around: datetime) -> None:
    # The planner relies on: next_boundary(t) is constant between boundaries, and
    # last_boundary(t) is the boundary that next_boundary steps over to reach past t.
    at = around - timedelta(hours=3)
    previous = next_boundary(window, at)
    while at < around + timedelta(hours=3):
        upcoming = next_boundary(window, at)
        assert upcoming > at
        assert upcoming >= previous
        if at < previous:
            assert upcoming == previous
        last = last_boundary(window, at)
        assert last <= at < next_boundary(window, last)
        previous = upcoming
        at += timedelta(minutes=3)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_boundary(MergeWindow(every_minutes=5), datetime(2024, 6, 3, 10, 0))
