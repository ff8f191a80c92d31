"""Calendar arithmetic on the wall clock of the program's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaldsl.runtime.periods import (
    add_days,
    add_duration,
    add_months,
    add_years,
    at_midnight,
    month_key,
    parse_date,
    previous_calendar_month,
    start_of_day,
    start_of_month,
    start_of_next_month,
    start_of_next_year,
    start_of_year,
    surely_inside,
    whole_months_between,
    window_start,
)

MSK = ZoneInfo("Europe/Moscow")
NYC = ZoneInfo("America/New_York")


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)  # type: ignore[misc]


def nyc(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=NYC, fold=fold)  # type: ignore[misc]


def wall(t: datetime) -> tuple[int, ...]:
    return (t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond)


def test_add_months_clamps_and_keeps_wall_time() -> None:
    assert wall(add_months(msk(2026, 3, 31, 10), 1)) == wall(msk(2026, 4, 30, 10))
    assert wall(add_months(msk(2026, 1, 31, 23, 59), 1)) == wall(msk(2026, 2, 28, 23, 59))
    assert wall(add_months(msk(2024, 1, 31, 8), 1)) == wall(msk(2024, 2, 29, 8))
    assert wall(add_months(msk(2026, 3, 31, 10), -1)) == wall(msk(2026, 2, 28, 10))
    assert wall(add_months(msk(2026, 11, 15), 3)) == wall(msk(2027, 2, 15))
    assert wall(add_months(msk(2026, 1, 15), -13)) == wall(msk(2024, 12, 15))
    assert add_months(msk(2026, 3, 31, 10), 1).tzinfo is MSK


def test_add_years_leap_day() -> None:
    assert wall(add_years(msk(2024, 2, 29, 12), 1)) == wall(msk(2025, 2, 28, 12))
    assert wall(add_years(msk(2024, 2, 29, 12), 4)) == wall(msk(2028, 2, 29, 12))
    assert wall(add_years(msk(2026, 5, 1), -1)) == wall(msk(2025, 5, 1))


def test_dst_wall_clock_days() -> None:
    # New York springs forward on 2026-03-08 at 02:00 and falls back on 2026-11-01.
    noon = add_days(nyc(2026, 3, 7, 12), 1)
    assert wall(noon) == wall(nyc(2026, 3, 8, 12))
    assert noon.utcoffset() == timedelta(hours=-4)
    # (Python subtracts same-zone datetimes on the wall clock, so compare in UTC.)
    utc = UTC
    assert noon.astimezone(utc) - nyc(2026, 3, 7, 12).astimezone(utc) == timedelta(hours=23)
    # A wall time in the gap moves forward by the gap.
    gap = add_days(nyc(2026, 3, 7, 2, 30), 1)
    assert wall(gap) == wall(nyc(2026, 3, 8, 3, 30)) and gap.utcoffset() == timedelta(hours=-4)
    # A repeated wall time means its first occurrence.
    twice = add_days(nyc(2026, 10, 31, 1, 30), 1)
    assert wall(twice) == wall(nyc(2026, 11, 1, 1, 30)) and twice.fold == 0
    assert twice.utcoffset() == timedelta(hours=-4)
    # Adding nothing keeps the second occurrence.
    second = nyc(2026, 11, 1, 1, 30, fold=1)
    assert add_days(second, 0).fold == 1
    assert add_months(nyc(2026, 10, 1, 9), 1).utcoffset() == timedelta(hours=-5)


def test_starts() -> None:
    t = msk(2026, 3, 17, 15, 45, 12)
    assert start_of_day(t) == msk(2026, 3, 17)
    assert start_of_month(t) == msk(2026, 3, 1)
    assert start_of_next_month(t) == msk(2026, 4, 1)
    assert start_of_next_month(msk(2026, 12, 31, 23, 59)) == msk(2027, 1, 1)
    assert start_of_year(t) == msk(2026, 1, 1)
    assert start_of_next_year(t) == msk(2027, 1, 1)
    assert start_of_day(nyc(2026, 3, 8, 12)).utcoffset() == timedelta(hours=-5)
    assert start_of_next_month(nyc(2026, 10, 20)).utcoffset() == timedelta(hours=-4)
    assert start_of_next_month(nyc(2026, 11, 20)) == nyc(2026, 12, 1)
    for result in (start_of_day(t), start_of_month(t), start_of_next_year(t)):
        assert result.tzinfo is MSK


def test_start_of_day_where_midnight_is_skipped() -> None:
    # Chile springs forward at midnight: the day starts at 01:00.
    santiago = ZoneInfo("America/Santiago")
    first = start_of_day(datetime(2024, 9, 8, 12, tzinfo=santiago))
    assert (first.hour, first.minute) == (1, 0)
    assert first.astimezone(UTC) == datetime(2024, 9, 8, 4, tzinfo=UTC)


def test_month_end_is_local_not_utc() -> None:
    # A credit "usable during April" burns at 00:00 Moscow on 1 May: 21:00 UTC on 30 April.
    burns = start_of_next_month(msk(2026, 4, 10))
    assert burns.astimezone(UTC) == datetime(2026, 4, 30, 21, tzinfo=UTC)


def test_add_duration() -> None:
    t = msk(2026, 1, 31, 9)
    assert add_duration(t, 14, "days") == msk(2026, 2, 14, 9)
    assert add_duration(t, 2, "weeks") == msk(2026, 2, 14, 9)
    assert add_duration(t, 1, "months") == msk(2026, 2, 28, 9)
    assert add_duration(t, 1, "month") == msk(2026, 2, 28, 9)
    assert add_duration(t, 2, "years") == msk(2028, 1, 31, 9)
    with pytest.raises(ValueError, match="unit"):
        add_duration(t, 1, "fortnights")


def test_window_start() -> None:
    t = msk(2026, 3, 31, 18)
    assert window_start(t, "rolling-days", 30) == msk(2026, 3, 1, 18)
    assert window_start(t, "rolling-months", 12) == msk(2025, 3, 31, 18)
    assert window_start(t, "rolling-months", 1) == msk(2026, 2, 28, 18)
    assert window_start(t, "calendar-month") == msk(2026, 3, 1)
    assert window_start(t, "calendar-year") == msk(2026, 1, 1)
    assert window_start(t, "lifetime") is None
    with pytest.raises(ValueError):
        window_start(t, "fiscal-year")


def test_previous_calendar_month_and_key() -> None:
    assert previous_calendar_month(msk(2026, 4, 10, 12)) == (msk(2026, 3, 1), msk(2026, 4, 1))
    assert previous_calendar_month(msk(2026, 1, 1)) == (msk(2025, 12, 1), msk(2026, 1, 1))
    start, end = previous_calendar_month(nyc(2026, 4, 2))
    assert start.utcoffset() == timedelta(hours=-5) and end.utcoffset() == timedelta(hours=-4)
    assert month_key(msk(2026, 3, 31, 23, 59)) == "2026-03"
    assert month_key(msk(987, 1, 1)) == "0987-01"


def test_whole_months_between() -> None:
    a = msk(2026, 1, 15)
    assert whole_months_between(a, msk(2026, 3, 14)) == 1
    assert whole_months_between(a, msk(2026, 3, 15)) == 2
    assert whole_months_between(a, a) == 0
    assert whole_months_between(msk(2026, 1, 15, 10), msk(2026, 3, 15, 9)) == 1
    assert whole_months_between(msk(2026, 1, 31), msk(2026, 2, 28)) == 1
    assert whole_months_between(msk(2025, 11, 30), msk(2026, 2, 27)) == 2
    # MECHANICS 6: tier 3, two idle months -> tier 1.
    assert 3 - whole_months_between(msk(2026, 1, 10, 19), msk(2026, 3, 10, 19)) == 1
    # Another zone for b is compared as an instant.
    assert whole_months_between(a, datetime(2026, 2, 14, 21, tzinfo=UTC)) == 1
    with pytest.raises(ValueError):
        whole_months_between(msk(2026, 2, 1), msk(2026, 1, 1))


def test_dates() -> None:
    assert parse_date("2026-03-31") == date(2026, 3, 31)
    assert parse_date(" 2024-02-29 ") == date(2024, 2, 29)
    for bad in ("2026-02-30", "31.03.2026", "20260331", "2026-3-1", ""):
        with pytest.raises(ValueError):
            parse_date(bad)
    start = at_midnight(date(2026, 3, 31), MSK)
    assert start == msk(2026, 3, 31) and start.tzinfo is MSK
    assert at_midnight(date(2026, 3, 8), NYC).utcoffset() == timedelta(hours=-5)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        add_months(datetime(2026, 1, 1), 1)
    with pytest.raises(ValueError):
        start_of_month(datetime(2026, 1, 1))


class _NoOffset(tzinfo):
    """A hand-made zone that gives no offset: as good as naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None


def test_a_zone_without_an_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        add_days(datetime(2026, 1, 1, tzinfo=_NoOffset()), 1)
    # A fixed offset is a zone: accepted on the fast path.
    assert add_days(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=3))), 1) == datetime(2026, 1, 2, tzinfo=timezone(timedelta(hours=3)))


def test_results_in_a_steady_zone_are_first_occurrences() -> None:
    """Moscow repeats no hour, so every result has fold 0 even when the input says 1."""
    t = msk(2026, 1, 31, 10, 30).replace(fold=1)
    for result in (add_days(t, 1), add_months(t, 1), add_months(t, -13), start_of_next_month(t), window_start(t, "rolling-months", 12)):
        assert result is not None and result.fold == 0 and result.tzinfo is MSK
    assert wall(add_months(t, 1)) == (2026, 2, 28, 10, 30, 0, 0)
    assert wall(add_duration(t, 2, "weeks")) == (2026, 2, 14, 10, 30, 0, 0)


zones = st.sampled_from([MSK, NYC])
moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31), timezones=zones
)


def _exists(t: datetime) -> bool:
    """Whether t's wall time really occurs in its zone."""
    back = t.astimezone(UTC).astimezone(t.tzinfo)
    return back.replace(tzinfo=None) == t.replace(tzinfo=None)


@settings(max_examples=100, deadline=None)
@given(t=moments, n=st.integers(-1200, 1200))
def test_add_months_properties(t: datetime, n: int) -> None:
    result = add_months(t, n)
    if n == 0:  # adding nothing keeps t itself, even a wall time no clock shows (see _periods_wall)
        assert result is t
        return
    assert result.tzinfo is t.tzinfo
    assert _exists(result)
    target_day = min(t.day, 28)
    assert result.day >= target_day
    assert (result.year * 12 + result.month) - (t.year * 12 + t.month) == n
    if _exists(result.replace(hour=t.hour, minute=t.minute, second=t.second,
                              microsecond=t.microsecond, fold=0)):
        assert result.time() == t.time()
    else:  # the wall time is in a spring-forward gap: moved forward, never back
        assert result.time() > t.time()


@settings(max_examples=100, deadline=None)
@given(t=moments, k=st.integers(0, 400))
def test_whole_months_inverts_add_months(t: datetime, k: int) -> None:
    t = t.replace(hour=12, fold=0)  # a wall time that exists on every day in both zones
    assert whole_months_between(t, add_months(t, k)) == k
    if k > 0:
        assert whole_months_between(t, add_months(t, k) - timedelta(microseconds=1)) == k - 1


@settings(max_examples=100, deadline=None)
@given(t=moments, n=st.integers(-800, 800))
def test_add_days_and_month_bounds(t: datetime, n: int) -> None:
    result = add_days(t, n)
    assert (result.date() - t.date()).days == n
    assert start_of_month(t) <= t < start_of_next_month(t)
    assert start_of_year(t) <= t < start_of_next_year(t)
    assert start_of_day(t) <= t


@settings(max_examples=200, deadline=None)
@given(t=moments, kind=st.sampled_from(["rolling-months", "rolling-days"]), amount=st.integers(1, 40),
       back=st.floats(0, 1), entry_zone=st.sampled_from([None, UTC, NYC]))
def test_a_time_within_surely_inside_is_inside_the_window(t: datetime, kind: str, amount: int, back: float, entry_zone: tzinfo | None) -> None:
    """What prune_entries skips on: a time no further back than the span is never
    before the window's start, whatever the months' lengths, clamped days, DST gaps
    and repeated hours, or the zone the entry was written in."""
    span = surely_inside(kind, amount)
    if span is None:
        assert kind == "rolling-days" and amount == 1
        return
    entry = t - span * back
    if entry_zone is not None:
        entry = entry.astimezone(entry_zone)
    start = window_start(t, kind, amount)
    assert start is not None and entry >= start


def test_surely_inside_spans() -> None:
    assert surely_inside("rolling-months", 12) == timedelta(days=364)  # 12 months are 365 days at the fewest
    assert surely_inside("rolling-months", 1) == timedelta(days=27)  # a February
    assert surely_inside("rolling-days", 30) == timedelta(days=29)
    assert surely_inside("calendar-year") is None and surely_inside("calendar-month") is None and surely_inside("lifetime") is None
    # The bound is tight: 28 February 2026 - 12 months is 28 February 2025, 365 days back.
    assert msk(2026, 2, 28) - timedelta(days=365) == window_start(msk(2026, 2, 28), "rolling-months", 12)
