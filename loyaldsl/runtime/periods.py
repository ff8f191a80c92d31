"""Calendar arithmetic in the program's time zone.

Stdlib only (copied into generated modules). Every function takes and returns
timezone-aware datetimes, and every result carries the input's own tzinfo object.

The one rule, decided here so the interpreter and compiled modules agree:
arithmetic is done on the wall clock of the zone ("1 month after 2026-03-31 10:00
Moscow" is 2026-04-30 10:00 Moscow, whatever the UTC offsets are), and only then is
the wall time turned into an instant:
  - a wall time that occurs twice (clocks go back) means its first occurrence (fold=0);
  - a wall time that does not exist (clocks go forward) is moved forward by the gap
    (02:30 on a New York spring-forward day becomes 03:30), which is what
    `datetime.fromtimestamp(x.timestamp(), tz)` yields; this re-normalisation is done
    only when the wall time is missing, so ordinary results keep their wall time.
So "start of day" is the first instant of the day even where midnight is skipped.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

_PERIODS_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _periods_check(t: datetime) -> None:
    """Naive datetimes have no zone, so "month" would be ambiguous: refuse them."""
    if not isinstance(t, datetime):
        raise TypeError(f"expected a datetime, got {type(t).__name__}")
    tz = t.tzinfo
    # A ZoneInfo or a fixed offset always has an offset; only a hand-made tzinfo may not.
    if type(tz) is not ZoneInfo and type(tz) is not timezone and (tz is None or t.utcoffset() is None):
        raise ValueError(f"datetime {t.isoformat()} has no time zone; events must be aware")


_PERIODS_STEADY: dict[tuple[tzinfo, int], bool] = {}


def _periods_steady(tz: tzinfo, year: int) -> bool:
    """Whether the zone keeps one UTC offset all year (Moscow, Kuwait, UTC): then no
    wall time is skipped or repeated that year and the gap check can be skipped."""
    key = (tz, year)
    steady = _PERIODS_STEADY.get(key)
    if steady is None:
        # Weekly samples: no zone changes its offset and back within a week.
        start = datetime(year, 1, 1)
        offsets = {(start + timedelta(days=7 * week)).replace(tzinfo=tz).utcoffset() for week in range(53)}
        offsets.add(datetime(year, 12, 31, 23, 59, tzinfo=tz).utcoffset())
        steady = _PERIODS_STEADY[key] = len(offsets) == 1
    return steady


def steady_zone(tz: tzinfo | None, year: int) -> bool:
    """Whether `tz` keeps one UTC offset all through `year`: wall-clock arithmetic there
    never meets a gap or a repeated hour (callers may remember results by month)."""
    return tz is not None and _periods_steady(tz, year)


# Whole days as timedeltas, made once each: adding one is then the cheapest step.
_PERIODS_DAYS: dict[int, timedelta] = {}


def _periods_days(n: int) -> timedelta:
    days = _PERIODS_DAYS.get(n)
    if days is None:
        days = _PERIODS_DAYS[n] = timedelta(days=n)
    return days


def _periods_at(tz: tzinfo, wall: datetime) -> datetime:
    """Turn a naive wall time in `tz` into an aware instant (first occurrence; gaps move
    forward)."""
    # Positional arguments: building a datetime is several times cheaper than replace().
    candidate = datetime(wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second, wall.microsecond, tz)
    if _periods_steady(tz, wall.year):
        return candidate
    real = datetime.fromtimestamp(candidate.timestamp(), tz)
    if real.replace(tzinfo=None) != wall:
        return real
    return candidate


def _periods_wall(t: datetime, wall: datetime) -> datetime:
    """Result of wall-clock arithmetic on `t`; `t` itself when the wall time is unchanged
    (so adding zero keeps the second occurrence of a repeated hour)."""
    if wall == t.replace(tzinfo=None):
        return t
    return _periods_at(t.tzinfo, wall)  # type: ignore[arg-type]


def _periods_midnight(tz: tzinfo, year: int, month: int, day: int) -> datetime:
    """First instant of a calendar day in `tz`."""
    if _periods_steady(tz, year):
        return datetime(year, month, day, 0, 0, 0, 0, tz)
    return _periods_at(tz, datetime(year, month, day))


def _periods_utc(t: datetime) -> datetime:
    """Exact instant for comparison: same-zone comparisons in Python ignore fold."""
    return t.astimezone(UTC)


def add_days(t: datetime, n: int) -> datetime:
    """Same wall time `n` calendar days later (a day across DST is 23 or 25 hours)."""
    tz = t.tzinfo
    if type(t) is not datetime or type(tz) is not ZoneInfo:  # the engine's times skip the call
        _periods_check(t)
    days = _PERIODS_DAYS.get(n) or _periods_days(n)
    result = t + days  # aware + timedelta is wall-clock arithmetic, and its fold is 0
    year = t.year
    # _periods_steady, its remembered answer looked up here: this runs on most events.
    if (_PERIODS_STEADY.get((tz, year)) or _periods_steady(tz, year)) and (result.year == year or _periods_steady(tz, result.year)):  # type: ignore[arg-type]
        return result if n else t
    return _periods_wall(t, t.replace(tzinfo=None) + days)


def add_months(t: datetime, n: int) -> datetime:
    """Same wall time `n` months later, the day clamped to the month's length
    (Jan 31 + 1 month = Feb 28, or 29 in a leap year; Mar 31 - 1 month = Feb 28)."""
    tz = t.tzinfo
    if type(t) is not datetime or type(tz) is not ZoneInfo:  # as in add_days
        _periods_check(t)
    years, month0 = divmod(t.month - 1 + n, 12)
    year = t.year + years
    month = month0 + 1
    day = t.day
    if day > 28:  # every month has the first 28 days
        day = min(day, calendar.monthrange(year, month)[1])
    if n and (_PERIODS_STEADY.get((tz, t.year)) or _periods_steady(tz, t.year)) and (year == t.year or _PERIODS_STEADY.get((tz, year)) or _periods_steady(tz, year)):  # type: ignore[arg-type]
        # No gap, no repeated hour (fold 0); positional arguments, as in _periods_at.
        return datetime(year, month, day, t.hour, t.minute, t.second, t.microsecond, t.tzinfo)
    return _periods_wall(t, t.replace(tzinfo=None, year=year, month=month, day=day))


def add_years(t: datetime, n: int) -> datetime:
    """Same wall time `n` years later; Feb 29 becomes Feb 28 in a common year."""
    return add_months(t, 12 * n)


def start_of_day(t: datetime) -> datetime:
    """First instant of t's calendar day in t's zone."""
    _periods_check(t)
    return _periods_midnight(t.tzinfo, t.year, t.month, t.day)  # type: ignore[arg-type]


def start_of_month(t: datetime) -> datetime:
    """First instant of t's calendar month."""
    _periods_check(t)
    return _periods_midnight(t.tzinfo, t.year, t.month, 1)  # type: ignore[arg-type]


def start_of_next_month(t: datetime) -> datetime:
    """First instant of the month after t's: the exclusive end of t's month, and the
    instant a credit "usable until the end of the month" burns."""
    _periods_check(t)
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return _periods_midnight(t.tzinfo, year, month, 1)  # type: ignore[arg-type]


def start_of_year(t: datetime) -> datetime:
    """First instant of t's calendar year."""
    _periods_check(t)
    return _periods_midnight(t.tzinfo, t.year, 1, 1)  # type: ignore[arg-type]


def start_of_next_year(t: datetime) -> datetime:
    """First instant of the year after t's (exclusive end of t's year)."""
    _periods_check(t)
    return _periods_midnight(t.tzinfo, t.year + 1, 1, 1)  # type: ignore[arg-type]


# A duration's unit -> the calendar step and how many of it one unit is (a year is
# add_years' twelve months).
_PERIODS_STEPS: dict[str, tuple[Callable[[datetime, int], datetime], int]] = {
    "day": (add_days, 1), "days": (add_days, 1), "week": (add_days, 7), "weeks": (add_days, 7),
    "month": (add_months, 1), "months": (add_months, 1), "year": (add_months, 12), "years": (add_months, 12),
}
# Units that move a time by whole months, keeping its day of the month where it can.
MONTH_UNITS = frozenset(unit for unit, (step, _) in _PERIODS_STEPS.items() if step is add_months)


def add_duration(t: datetime, amount: int, unit: str) -> datetime:
    """`amount` days, weeks, months or years after t (singular unit words accepted)."""
    step = _PERIODS_STEPS.get(unit)
    if step is None:
        raise ValueError(f"unknown duration unit {unit!r}: use days, weeks, months or years")
    return step[0](t, amount * step[1])


def window_start(t: datetime, kind: str, amount: int = 0) -> datetime | None:
    """Inclusive lower bound of a metric window ending at t; None means no lower bound.

    kind: "rolling-days" (t - amount days), "rolling-months" (t - amount months),
    "calendar-month" (start of t's month), "calendar-year" (start of t's year),
    "lifetime" (None).
    """
    if type(t) is not datetime or type(t.tzinfo) is not ZoneInfo:  # as in add_days
        _periods_check(t)
    if kind == "rolling-days":
        return add_days(t, -amount)
    if kind == "rolling-months":
        return add_months(t, -amount)
    if kind == "calendar-month":
        return start_of_month(t)
    if kind == "calendar-year":
        return start_of_year(t)
    if kind == "lifetime":
        return None
    raise ValueError(
        f"unknown window {kind!r}: use rolling-days, rolling-months, calendar-month,"
        " calendar-year or lifetime"
    )


def surely_inside(kind: str, amount: int = 0) -> timedelta | None:
    """A wall-clock span back from t within which every time is surely inside the
    window (window_start's kinds) that ends at t; None where there is no such span (a
    calendar window, or a rolling one of a day or less). A time at or after t - span
    needs no window start worked out by calendar arithmetic. A rolling window of N
    months reaches back at least as many days as the shortest N consecutive months
    have (a day clamped to a shorter month only moves its start earlier); a day less
    covers a start moved forward out of a DST gap, or a zone's offset between them."""
    if kind == "rolling-days":
        days = amount
    elif kind == "rolling-months":
        days = _periods_fewest_days(amount)
    else:
        return None
    return timedelta(days=days - 1) if days > 1 else None


def _periods_fewest_days(months: int) -> int:
    """Days in the shortest run of `months` consecutive calendar months (a 400-year
    cycle holds every arrangement of leap years). Worked out once per length."""
    known = _PERIODS_FEWEST_DAYS.get(months)
    if known is not None:
        return known
    fewest = _PERIODS_FEWEST_DAYS[months] = min(
        (date(year + (month - 1 + months) // 12, (month - 1 + months) % 12 + 1, 1) - date(year, month, 1)).days
        for year in range(2000, 2400)
        for month in range(1, 13)
    )
    return fewest


_PERIODS_FEWEST_DAYS: dict[int, int] = {}


def previous_calendar_month(t: datetime) -> tuple[datetime, datetime]:
    """(start, end) of the calendar month before t's, end exclusive."""
    _periods_check(t)
    year, month = (t.year - 1, 12) if t.month == 1 else (t.year, t.month - 1)
    tz = t.tzinfo
    return _periods_midnight(tz, year, month, 1), _periods_midnight(tz, t.year, t.month, 1)  # type: ignore[arg-type]


def month_key(t: datetime) -> str:
    """"2026-03": a stable key for per-month totals, taken on t's own wall clock."""
    return f"{t.year:04d}-{t.month:02d}"


def whole_months_between(a: datetime, b: datetime) -> int:
    """How many whole months (as add_months counts them) fit from a to b, a <= b.

    2026-01-15 -> 2026-03-14 is 1, -> 2026-03-15 (same time of day) is 2. Used for
    "one tier down per month with no visit". Instants are compared, so b may be in
    another zone; months are counted on a's wall clock.
    """
    _periods_check(a)
    _periods_check(b)
    if _periods_utc(b) < _periods_utc(a):
        raise ValueError(f"whole_months_between: {b.isoformat()} is before {a.isoformat()}")
    local_b = b.astimezone(a.tzinfo)
    k = (local_b.year - a.year) * 12 + (local_b.month - a.month)
    while k > 0 and _periods_utc(add_months(a, k)) > _periods_utc(b):
        k -= 1
    return max(k, 0)


def parse_date(s: str) -> date:
    """Parse "YYYY-MM-DD" (the only date form programs and event files use)."""
    text = s.strip()
    if not _PERIODS_DATE.fullmatch(text):
        raise ValueError(f"not a date {s!r}: expected YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date {s!r}: no such day in the calendar") from None


def at_midnight(d: date, tz: tzinfo) -> datetime:
    """First instant of calendar day `d` in zone `tz` (a code "valid from 31 March"
    starts here, not at UTC midnight)."""
    return _periods_midnight(tz, d.year, d.month, d.day)

