"""Lamps trade price list: a loyalty program compiled by loyaldsl from programs/lamps.loyal.

Generated code: do not edit. Change the program and run
    loyaldsl compile programs/lamps.loyal -o generated/lamps.py

It imports nothing outside the Python standard library. Use it like this:

    from lamps import Program

    program = Program()
    state = program.new_state()            # or program.state_from_json(saved)
    outcome = program.process(state, {
        "type": "purchase", "id": "p1", "customer": "anna",
        "time": "2026-03-01T10:00:00+03:00",
        "lines": [{"product": "latte", "category": "coffee", "quantity": 1, "unit_price": "250"}],
    })
    outcome.paid, outcome.discounts, outcome.earned, outcome.to_json()
    saved = program.state_to_json(state)   # plain JSON: keep it in your database
"""

from __future__ import annotations

import bisect
import calendar
import copy
import datetime as _dt
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from fractions import Fraction
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

PROGRAM_NAME = 'Lamps trade price list'
PROGRAM_VERSION = '1.0'
SOURCE_HASH = '480c64589647c302f5cbdad669cd8a36f21f0d5bd931a5dbc023337492d20bbc'
CURRENCY = 'GBP'
TIMEZONE = 'Europe/London'


# ============================================================================
# runtime/lazy.py
# Slots filled on first use. Most records the engine makes per event are dropped
# unread (an outcome's empty lists, a purchase record or a ledger record that no return
# ever reads): their lists and dicts are made when something first reads them, so making
# the record, and freeing it long after, costs less.
# ============================================================================

def made_on_first_use(owner: object, name: str, makers: Mapping[str, Callable[[], Any]]) -> Any:
    """For `__getattr__` of a slots class, which Python calls only when the slot is
    empty: the slot's first value, kept in it, or AttributeError for any other name."""
    make = makers.get(name)
    if make is None:
        raise AttributeError(f"{type(owner).__name__!r} object has no attribute {name!r}")
    value = make()
    object.__setattr__(owner, name, value)
    return value


def set_slots(owner: object) -> tuple[None, dict[str, Any]]:
    """For `__getstate__` of such a class: the slots that are set, read through their
    descriptors so that an empty one stays empty. A copy (a report settles a copy of
    the customer) or a pickle then leaves the original's unmade slots unmade, where the
    default state reads every slot and so makes each one."""
    slots: dict[str, Any] = {}
    for cls in type(owner).__mro__:
        for name in cls.__dict__.get("__slots__", ()):
            try:
                slots[name] = cls.__dict__[name].__get__(owner, cls)
            except AttributeError:
                continue
    return None, slots


# ============================================================================
# runtime/model.py
# Typed events: the input every engine (interpreter or compiled module) consumes.
# ============================================================================

@dataclass(frozen=True, slots=True)
class PurchaseLine:
    """One line of a basket: `quantity` units of `product` at `unit_price` each."""

    product: str
    category: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Purchase:
    """A checkout. `redeem` maps a points name to how many points the customer wants to
    spend (the key "" means the program's only redeemable points; the value None means
    "as many as the program allows")."""

    id: str
    customer: str
    at: _dt.datetime
    lines: tuple[PurchaseLine, ...]
    codes: tuple[str, ...] = ()
    redeem: tuple[tuple[str, Decimal | None], ...] = ()


@dataclass(frozen=True, slots=True)
class RefundLine:
    product: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Refund:
    """Return of a purchase: whole when `lines` is empty, else of the listed units."""

    id: str
    customer: str
    at: _dt.datetime
    purchase_id: str
    lines: tuple[RefundLine, ...] = ()


@dataclass(frozen=True, slots=True)
class CustomerEvent:
    """Anything that is not a purchase or a refund.

    kind is one of:
      signup   - the customer joins; `birth_date` may come with it
      birthday - explicit birthday trigger (otherwise birth_date drives it)
      tier     - a tier granted by hand (`tier` names it)
      action   - a non-purchase action such as a review (`action` names it)
    """

    id: str
    customer: str
    at: _dt.datetime
    kind: str
    birth_date: _dt.date | None = None
    tier: str | None = None
    action: str | None = None


Event = Purchase | Refund | CustomerEvent

CUSTOMER_EVENT_KINDS = ("signup", "birthday", "tier", "action")
EVENT_KINDS = ("purchase", "refund") + CUSTOMER_EVENT_KINDS


def event_kind(event: Event) -> str:
    """By class name, not identity: the records of loyaldsl and those copied into a
    compiled module are different classes with the same shape, and both are welcome."""
    name = type(event).__name__
    if name == "Purchase":
        return "purchase"
    if name == "Refund":
        return "refund"
    return event.kind  # type: ignore[union-attr]


# ============================================================================
# runtime/currency.py
# Money: ISO 4217 minor units, the program's rounding words, and display.
# ============================================================================

# ISO 4217 table A.1 (currencies and funds), alphabetic code -> minor unit, as
# published (so IRR is 2 and ISK is 0, whatever everyday practice is). Codes whose
# minor unit ISO gives as "N.A." (precious metals XAU/XAG/XPD/XPT, bond-market and
# SDR units XBA-XBD/XDR/XSU/XUA, and the XTS/XXX placeholders) are left out: nothing
# can be priced or rounded in them. Recently withdrawn codes that still appear in
# shops' data during a changeover (ANG -> XCG, ZWL -> ZWG, BGN -> EUR, CUC) are kept
# so old event files still load; the checker may warn about them.
MINOR_UNITS: dict[str, int] = {
    "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2,
    "AWG": 2, "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0,
    "BMD": 2, "BND": 2, "BOB": 2, "BOV": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2,
    "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHE": 2, "CHF": 2, "CHW": 2, "CLF": 4,
    "CLP": 0, "CNY": 2, "COP": 2, "COU": 2, "CRC": 2, "CUC": 2, "CUP": 2, "CVE": 2,
    "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2, "ETB": 2,
    "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2,
    "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2,
    "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0,
    "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2,
    "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3, "MAD": 2,
    "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2,
    "MVR": 2, "MWK": 2, "MXN": 2, "MXV": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2,
    "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2,
    "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2,
    "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2,
    "SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2,
    "THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2,
    "TZS": 2, "UAH": 2, "UGX": 0, "USD": 2, "USN": 2, "UYI": 0, "UYU": 2, "UYW": 4,
    "UZS": 2, "VED": 2, "VES": 2, "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2,
    "XCG": 2, "XOF": 0, "XPF": 0, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2, "ZWL": 2,
}

# The words a program uses for rounding, mapped to decimal's modes. "down"/"up" are
# toward/away from zero; "floor"/"ceiling" toward -inf/+inf (they differ on refunds).
ROUNDING_MODES: dict[str, str] = {
    "half-even": ROUND_HALF_EVEN,
    "half-up": ROUND_HALF_UP,
    "half-down": ROUND_HALF_DOWN,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
    "floor": ROUND_FLOOR,
    "ceiling": ROUND_CEILING,
}


def minor_unit(code: str) -> int:
    """Digits after the point for `code`; KeyError names the code so a typo is obvious."""
    try:
        return MINOR_UNITS[code]
    except KeyError:
        raise KeyError(
            f"unknown currency {code!r}: not an active ISO 4217 code with a minor unit"
        ) from None


def _currency_mode(rounding: str) -> str:
    """Map a rounding word to decimal's constant, listing the valid words on error."""
    try:
        return ROUNDING_MODES[rounding]
    except KeyError:
        words = ", ".join(ROUNDING_MODES)
        raise ValueError(f"unknown rounding {rounding!r}: use one of {words}") from None


def _currency_check(amount: Decimal) -> None:
    """Refuse floats and non-finite values: they are how rounding residues get in."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be a Decimal, got {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError(f"money must be finite, got {amount}")


def round_money(amount: Decimal, code: str, rounding: str = "half-even") -> Decimal:
    """Quantize to the currency's minor unit (RUB 148.5 -> 148.50, JPY -> exponent 0).

    Negative zero comes back as plain zero so output never shows "-0.00".
    """
    _currency_check(amount)
    quantum = Decimal(1).scaleb(-minor_unit(code))
    result = amount.quantize(quantum, rounding=_currency_mode(rounding))
    if result.is_zero():
        result = result.copy_abs()
    return result


def money_rounder(code: str, rounding: str = "half-even") -> Callable[[Decimal], Decimal]:
    """round_money with the currency and mode looked up once: the engine rounds many
    times per purchase."""
    quantum = Decimal(1).scaleb(-minor_unit(code))
    mode = _currency_mode(rounding)

    def rounder(amount: Decimal) -> Decimal:
        # Positional rounding and truth testing: half the cost of keywords and is_zero().
        result = amount.quantize(quantum, mode)
        return result if result else result.copy_abs()

    return rounder


_CURRENCY_DISPLAY: dict[str, tuple[Callable[[Decimal], Decimal], str]] = {}


def format_money(amount: Decimal, code: str) -> str:
    """Display form "19,800.00 RUB": rounded half-even, comma grouping, code after. The
    rounder and the format are made once per currency: a scale's note is written on
    every purchase it sees."""
    known = _CURRENCY_DISPLAY.get(code)
    if known is None:
        known = _CURRENCY_DISPLAY[code] = (money_rounder(code), f",.{minor_unit(code)}f")
    _currency_check(amount)
    rounder, shape = known
    return f"{rounder(amount):{shape}} {code}"


# ============================================================================
# runtime/periods.py
# Calendar arithmetic in the program's time zone.
# ============================================================================

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


# ============================================================================
# runtime/bands.py
# Rate tables: "from 10000 RUB: 5%" (slab) and "over 100: 5% off" (bracket).
# ============================================================================

@dataclass(frozen=True, slots=True)
class Band:
    """One row of a table. `inclusive` True is "from" (value >= threshold), False is
    "over" (value > threshold): the language makes the author say which. `rate` is a
    fraction (Decimal("0.05") for 5%)."""

    threshold: Decimal
    inclusive: bool
    rate: Decimal


def bands_in_order(bands: Sequence[Band]) -> list[Band]:
    """Bands from lowest to highest edge; at an equal threshold "from" comes before
    "over" (it is reached first). The checker rejects such overlaps; this keeps the
    result deterministic anyway."""
    return sorted(bands, key=lambda band: (band.threshold, not band.inclusive))


def band_reached(band: Band, value: Decimal) -> bool:
    return value >= band.threshold if band.inclusive else value > band.threshold


def slab_rate(bands: Sequence[Band], value: Decimal) -> Decimal | None:
    """The rate of the highest band whose edge `value` passes; None below the first."""
    return rate_in_order(bands_in_order(bands), value)


def rate_in_order(ordered: Sequence[Band], value: Decimal) -> Decimal | None:
    """slab_rate on bands already in `bands_in_order` order (a scale's, sorted once)."""
    rate: Decimal | None = None
    for band in ordered:
        if band_reached(band, value):
            rate = band.rate
        else:
            break
    return rate


def slab_discount(bands: Sequence[Band], value: Decimal) -> Decimal:
    """The slab rate times the whole value (0 below the first band). Note the dead
    zone this creates just below each edge (19,000 -> 950 off, 20,000 -> 2,000 off)."""
    rate = slab_rate(bands, value)
    return Decimal(0) if rate is None else rate * value


def marginal_amount_discount(bands: Sequence[Band], start: Decimal, end: Decimal) -> Decimal:
    """Bracket discount for a continuous amount whose running total moves from `start`
    to `end` (start 0 for a single order; the window's earlier total otherwise).

    Each band's rate applies to the part of [start, end) between its threshold and
    the next band's threshold; a band's edge ("from"/"over") does not matter for a
    continuous amount. If end < start (a refund moves the total back) the result is
    the negative of the discount from end to start, so giving back is exact.
    """
    if end < start:
        return -marginal_amount_discount(bands, end, start)
    ordered = bands_in_order(bands)
    total = Decimal(0)
    for index, band in enumerate(ordered):
        low = max(start, band.threshold)
        high = end if index + 1 == len(ordered) else min(end, ordered[index + 1].threshold)
        if high > low:
            total += band.rate * (high - low)
    return total


def _bands_first_unit(band: Band) -> int:
    """The first whole unit number (1-based) that reaches this band."""
    threshold = band.threshold
    whole = int(threshold.to_integral_value(rounding=ROUND_FLOOR))
    if band.inclusive:
        return whole if whole == threshold else whole + 1
    return whole + 1


def marginal_unit_rates(
    bands: Sequence[Band], first_unit: int, count: int
) -> list[tuple[Decimal, int]]:
    """Rates for units first_unit .. first_unit+count-1 of a running count (1-based,
    over the metric's window): unit k gets the rate of the highest band with
    k >= threshold ("from") or k > threshold ("over"), 0 below every band.

    Returns (rate, units) groups in unit order, neighbours with the same rate merged.
    Lamps "over 100: 5%, over 200: 10%": 250 units from unit 1 give
    [(0, 100), (0.05, 100), (0.10, 50)].
    """
    if isinstance(first_unit, bool) or not isinstance(first_unit, int) or first_unit < 1:
        raise ValueError(f"first_unit must be a whole number >= 1, got {first_unit!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a whole number >= 0, got {count!r}")
    # (first unit, rate) steps; a later band at the same first unit overrides.
    steps: list[tuple[int, Decimal]] = [(first_unit, Decimal(0))]
    for band in bands_in_order(bands):
        steps.append((max(first_unit, _bands_first_unit(band)), band.rate))
    last = first_unit + count  # exclusive
    groups: list[tuple[Decimal, int]] = []
    for index, (begin, rate) in enumerate(steps):
        finish = last if index + 1 == len(steps) else min(last, steps[index + 1][0])
        units = finish - begin
        if units <= 0:
            continue
        if groups and groups[-1][0] == rate:
            groups[-1] = (rate, groups[-1][1] + units)
        else:
            groups.append((rate, units))
    return groups


# ============================================================================
# runtime/ledger.py
# A points balance kept as a ledger of lots, never as a bare number.
# ============================================================================

_LEDGER_ZERO = Decimal(0)
_LEDGER_NEVER = datetime.max.replace(tzinfo=UTC)  # Ledger.expiry_floor when no lot expires


@dataclass(slots=True)
class Lot:
    """Points earned together: one expiry, one availability date, one source event.

    `amount` is what was earned and never changes; `remaining` is what is left to
    spend; `expired` is how much of it has expired (kept so a later refund does not
    claw back points the customer already lost); `seq` is the ledger's insertion
    number, the lot's identity in JSON and the last tie-breaker in burn order.
    """

    amount: Decimal
    remaining: Decimal
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None
    source: str
    reason: str
    seq: int = 0
    expired: Decimal = _LEDGER_ZERO


@dataclass(slots=True)
class LedgerDraw:
    """Points taken from one lot by a source event: a spend (burn) or a clawback.

    `amount` is what is still outstanding (it shrinks as points are given back);
    `lot` None means "owed": a clawback that went into debt and is not yet paid.
    """

    lot: Lot | None
    amount: Decimal


@dataclass(slots=True)
class LedgerSource:
    """Everything one source event did to the ledger, so its refund can be exact.

    `fraction` is how much of the event has been refunded so far (an exact Fraction,
    so three refunds of a third add up to one); `taken`/`given` are the points taken
    back from its earnings and given back from its spending so far; `shortfall` is
    what its refunds could not claw back (forgiven, but paid first if the points it
    earned ever come back).

    A record is kept for every event that earned or spent points, and most are dropped
    untouched once past the refund window: its lists are made on first use.
    """

    at: datetime
    lots: list[Lot] = field(init=False)
    burns: list[LedgerDraw] = field(init=False)
    claws: list[LedgerDraw] = field(init=False)
    earned: Decimal = _LEDGER_ZERO
    burned: Decimal = _LEDGER_ZERO
    fraction: Fraction = Fraction(0)
    taken: Decimal = _LEDGER_ZERO
    given: Decimal = _LEDGER_ZERO
    shortfall: Decimal = _LEDGER_ZERO
    expired_counted: Decimal = _LEDGER_ZERO

    def __getattr__(self, name: str) -> list[Any]:
        """A list not yet used: made now (only called when the slot is empty)."""
        value: list[Any] = made_on_first_use(self, name, _LEDGER_SOURCE_LISTS)
        return value

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        return set_slots(self)  # a copy leaves the original's unmade lists unmade


_LEDGER_SOURCE_LISTS: dict[str, Callable[[], list[Any]]] = dict.fromkeys(("lots", "burns", "claws"), list)


@dataclass(frozen=True, slots=True)
class Reversal:
    """What a refund did to the points, for the run report.

    Given back (from what the purchase spent): `restored` reached the balance
    (including points that paid off debt), `restored_expired` went to lots that had
    expired meanwhile, `settled` paid an earlier refund's forgiven shortfall.
    Taken back (from what the purchase earned): `removed` (its unspent remainder),
    `already_expired` (its points that had expired anyway), `clawed_back` (from other
    points, of which `into_debt` pushed the balance below zero), `shortfall` (not
    taken because of the floor). The balance changes by
    restored - removed - clawed_back.
    """

    restored: Decimal = _LEDGER_ZERO
    restored_expired: Decimal = _LEDGER_ZERO
    settled: Decimal = _LEDGER_ZERO
    removed: Decimal = _LEDGER_ZERO
    already_expired: Decimal = _LEDGER_ZERO
    clawed_back: Decimal = _LEDGER_ZERO
    into_debt: Decimal = _LEDGER_ZERO
    shortfall: Decimal = _LEDGER_ZERO


class InsufficientPoints(ValueError):
    """A spend larger than the available points: refused whole, never partly done."""

    def __init__(self, requested: Decimal, available: Decimal) -> None:
        super().__init__(f"cannot spend {requested} points: only {available} available")
        self.requested = requested
        self.available = available


def _ledger_points(value: Decimal | int, what: str) -> Decimal:
    """Accept Decimal or int points; refuse float and bool, which hide rounding bugs."""
    if type(value) is Decimal and value.is_finite():
        return value  # what the engine always passes: a Decimal is immutable, no copy needed
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{what} must be a Decimal, got {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{what} must be finite, got {result}")
    return result


def _ledger_aware(t: datetime) -> None:
    """Refuse a naive time: the ledger compares instants. (A ZoneInfo always gives an
    offset: the engine's times skip asking.)"""
    if type(t.tzinfo) is not ZoneInfo and (t.tzinfo is None or t.utcoffset() is None):
        raise ValueError(f"datetime {t.isoformat()} has no time zone")


def _ledger_utc(t: datetime) -> datetime:
    """Exact instant: same-zone comparisons in Python look at wall time and ignore fold."""
    _ledger_aware(t)
    return t.astimezone(UTC)


def _ledger_not_after(a: datetime, b: datetime) -> bool:
    """a <= b as instants. Two times in one zone, neither in the second pass of a
    repeated hour, compare by wall clock exactly as by instant (the engine never holds
    a time inside a DST gap), which skips two UTC conversions on the hot path."""
    if a.tzinfo is b.tzinfo and not a.fold and not b.fold:
        return a <= b
    return _ledger_utc(a) <= _ledger_utc(b)


def _ledger_is_expired(lot: Lot, as_of: datetime) -> bool:
    return lot.expires_at is not None and _ledger_not_after(lot.expires_at, as_of)


def _ledger_is_available(lot: Lot, as_of: datetime) -> bool:
    return _ledger_not_after(lot.available_at, as_of)


def _ledger_burn_key(lot: Lot) -> tuple[bool, datetime, datetime, int]:
    """Burn order: soonest expiry first, never-expiring last, then earned_at, then seq."""
    expires = lot.expires_at if lot.expires_at is not None else lot.earned_at
    return (lot.expires_at is None, _ledger_utc(expires), _ledger_utc(lot.earned_at), lot.seq)


def _ledger_in_burn_order(lots: list[Lot]) -> list[Lot]:
    """`lots` sorted by _ledger_burn_key. When every time is in one zone and none is in
    the second pass of a repeated hour, wall clocks order them as instants do (see
    _ledger_not_after), which spares two UTC conversions per lot on every spend."""
    zone = lots[0].earned_at.tzinfo if lots else None
    keyed = []
    for lot in lots:
        earned, ends = lot.earned_at, lot.expires_at
        if earned.tzinfo is not zone or earned.fold or (ends is not None and (ends.tzinfo is not zone or ends.fold)):
            return sorted(lots, key=_ledger_burn_key)
        keyed.append((ends is None, earned if ends is None else ends, earned, lot.seq, lot))
    keyed.sort()  # no key function to call per lot: seq is unique, so the lot itself is never compared
    return [item[4] for item in keyed]


def _ledger_round(value: Fraction, quantum: Decimal, rounding: str) -> Decimal:
    """Round an exact value to a multiple of `quantum` (ROUND_CEILING or ROUND_FLOOR)."""
    steps = value / Fraction(quantum)
    whole = -((-steps.numerator) // steps.denominator) if rounding == ROUND_CEILING else (
        steps.numerator // steps.denominator
    )
    return Decimal(whole) * quantum


def _ledger_dt_to_json(t: datetime) -> str:
    """ISO 8601 with offset, plus the zone key in brackets (RFC 9557) when there is one,
    so a round trip gives back the same zone, not just the same instant."""
    text = t.isoformat()
    if isinstance(t.tzinfo, ZoneInfo):
        text += f"[{t.tzinfo.key}]"
    return text


def _ledger_dt_from_json(text: str) -> datetime:
    """Inverse of _ledger_dt_to_json. With a zone key the wall time and fold are
    restored as written (even a wall time that falls in a DST gap), not re-derived
    from the instant, so the round trip is exact."""
    if not text.endswith("]"):
        return datetime.fromisoformat(text)
    stamp, _, key = text[:-1].partition("[")
    parsed = datetime.fromisoformat(stamp)
    zone = ZoneInfo(key)
    wall = parsed.replace(tzinfo=None)
    for fold in (0, 1):
        candidate = wall.replace(tzinfo=zone, fold=fold)
        if candidate.utcoffset() == parsed.utcoffset():
            return candidate
    return parsed.astimezone(zone)


def _ledger_opt_dt_to_json(t: datetime | None) -> str | None:
    return None if t is None else _ledger_dt_to_json(t)


def _ledger_opt_dt_from_json(text: str | None) -> datetime | None:
    return None if text is None else _ledger_dt_from_json(text)


@dataclass(slots=True)
class Ledger:
    """One customer's balance of one kind of points.

    `lots` holds the lots with points left, in insertion order; `sources` maps each
    source event id to what it did; `debt` is the owed amount (see the module
    docstring); `debts` lists the unpaid debt clawbacks oldest first as
    (source id, index into that source's `claws`).
    """

    lots: list[Lot] = field(default_factory=list)
    sources: dict[str, LedgerSource] = field(default_factory=dict)
    debt: Decimal = _LEDGER_ZERO
    debts: list[tuple[str, int]] = field(default_factory=list)
    next_seq: int = 0
    # No lot in `lots` expires before this instant (_LEDGER_NEVER: none expires; None:
    # not known), so `expire`, called by every change, skips its scan until then.
    # Derived from `lots`: neither saved nor compared.
    expiry_floor: datetime | None = field(default=None, compare=False, repr=False)

    # ----- queries (pure: they never change the ledger) -----

    def available(self, as_of: datetime) -> Decimal:
        """Spendable now: lots already available and not expired, minus any debt."""
        total = _LEDGER_ZERO
        zone = as_of.tzinfo if not as_of.fold else None
        for lot in self.lots:
            # _ledger_is_available and not _ledger_is_expired, their same-zone case
            # written out: this runs per lot on every redemption.
            starts, ends = lot.available_at, lot.expires_at
            if (starts <= as_of if starts.tzinfo is zone and not starts.fold else _ledger_not_after(starts, as_of)) and (
                ends is None or not (ends <= as_of if ends.tzinfo is zone and not ends.fold else _ledger_not_after(ends, as_of))
            ):
                total += lot.remaining
        return total - self.debt

    def pending(self, as_of: datetime) -> Decimal:
        """Earned but not yet spendable (inside a return window)."""
        return sum(
            (
                lot.remaining
                for lot in self.lots
                if not _ledger_is_available(lot, as_of) and not _ledger_is_expired(lot, as_of)
            ),
            _LEDGER_ZERO,
        )

    def total(self, as_of: datetime) -> Decimal:
        """available + pending: the balance a floor is measured against."""
        return self.available(as_of) + self.pending(as_of)

    def next_expiry(self, as_of: datetime) -> tuple[datetime, Decimal] | None:
        """The earliest instant any points (available or pending) expire after as_of,
        and how many expire then; None if nothing will expire."""
        best: datetime | None = None
        amount = _LEDGER_ZERO
        for lot in self.lots:
            if lot.expires_at is None or lot.remaining <= 0 or _ledger_is_expired(lot, as_of):
                continue
            if best is None or _ledger_utc(lot.expires_at) < _ledger_utc(best):
                best, amount = lot.expires_at, lot.remaining
            elif _ledger_utc(lot.expires_at) == _ledger_utc(best):
                amount += lot.remaining
        return None if best is None else (best, amount)

    # ----- changes -----

    def earn(
        self,
        amount: Decimal,
        earned_at: datetime,
        available_at: datetime,
        expires_at: datetime | None,
        source: str,
        reason: str,
    ) -> Lot:
        """Add a lot of `amount` (> 0) earned by event `source`; pays debt first."""
        points = _ledger_points(amount, "earned points")
        if points <= 0:
            raise ValueError(f"earned points must be positive, got {points}")
        for moment in (earned_at, available_at, expires_at):
            if moment is not None:
                _ledger_aware(moment)
        return self.add_lot(points, earned_at, available_at, expires_at, source, reason)

    def add_lot(
        self,
        points: Decimal,
        earned_at: datetime,
        available_at: datetime,
        expires_at: datetime | None,
        source: str,
        reason: str,
    ) -> Lot:
        """`earn` without its checks, for a caller that only ever passes a positive
        Decimal and aware times (the engine, on nearly every purchase): the checks
        were a third of what earning cost."""
        floor = self.expiry_floor
        if floor is None or (floor is not _LEDGER_NEVER and _ledger_not_after(floor, earned_at)):
            self.expire(earned_at)
            floor = self.expiry_floor
        lot = Lot(points, _LEDGER_ZERO, earned_at, available_at, expires_at, source, reason,
                  self.next_seq)
        self.next_seq += 1
        record = self.sources.get(source)
        if record is None:
            record = self.sources[source] = LedgerSource(earned_at)
            record.lots = [lot]
        else:
            record.lots.append(lot)
        record.earned += points
        if expires_at is not None and _ledger_not_after(expires_at, earned_at):
            lot.expired = points  # born expired
            return lot
        if self.debts:
            self._ledger_credit(lot, points)
            self._ledger_prune()
        else:
            # What _ledger_credit does without debt, for a lot newer than every other
            # (so it goes last) in a list `expire` has just left with live lots only.
            lot.remaining = points
            self.lots.append(lot)
            if floor is not None and expires_at is not None and (floor is _LEDGER_NEVER or _ledger_not_after(expires_at, floor)):
                self.expiry_floor = expires_at
        return lot

    def expire(self, as_of: datetime) -> Decimal:
        """Expire every lot with expires_at <= as_of; returns how many points went.
        Idempotent, and called by every other change, so it is safe to call often:
        before the soonest expiry it does not look at the lots at all."""
        floor = self.expiry_floor
        if floor is not None and (floor is _LEDGER_NEVER or not _ledger_not_after(floor, as_of)):
            return _LEDGER_ZERO
        gone = _LEDGER_ZERO
        kept: list[Lot] = []
        soonest = _LEDGER_NEVER
        zone = as_of.tzinfo if not as_of.fold else None
        for lot in self.lots:
            left = lot.remaining
            if left <= 0:
                continue
            ends = lot.expires_at
            if ends is not None:
                # _ledger_not_after's same-zone case written out, as in `available`:
                # this runs per lot whenever a lot may have expired.
                if ends <= as_of if ends.tzinfo is zone and not ends.fold else _ledger_not_after(ends, as_of):
                    gone += left
                    lot.expired += left
                    lot.remaining = _LEDGER_ZERO
                    continue
                if soonest is _LEDGER_NEVER or not (soonest <= ends if soonest.tzinfo is zone and ends.tzinfo is zone and not (soonest.fold or ends.fold) else _ledger_not_after(soonest, ends)):
                    soonest = ends
            kept.append(lot)
        if len(kept) != len(self.lots):
            self.lots = kept
        self.expiry_floor = soonest
        return gone

    def expire_by(self, deadline: datetime) -> None:
        """Bring every lot's expiry forward to `deadline` at the latest (inactivity),
        spent lots too: points given back to them later stay expired."""
        _ledger_aware(deadline)
        lots = [*self.lots, *(lot for record in self.sources.values() for lot in record.lots)]
        for lot in lots:
            if lot.expires_at is None or not _ledger_not_after(lot.expires_at, deadline):
                lot.expires_at = deadline
        self.expiry_floor = None

    def burn(self, amount: Decimal, as_of: datetime, source: str) -> Decimal:
        """Spend `amount` available points for event `source`, soonest-expiring first.

        Raises InsufficientPoints (nothing spent) if fewer are available; returns the
        amount spent.
        """
        points = _ledger_points(amount, "points to spend")
        if points < 0:
            raise ValueError(f"points to spend must not be negative, got {points}")
        spendable, have = self.spendable(as_of)
        if points > have:
            raise InsufficientPoints(points, have)
        return self.burn_from(spendable, points, as_of, source)

    def spendable(self, as_of: datetime) -> tuple[list[Lot], Decimal]:
        """The lots that can be spent at `as_of` (expiry applied first), in the ledger's
        order, and what they hold less any debt: `available(as_of)`, with the lots that
        make it, for a caller that then spends some of it (burn_from) without looking
        at every lot again."""
        self.expire(as_of)
        zone = as_of.tzinfo if not as_of.fold else None
        spendable = [  # none expired: just expired; _ledger_is_available written out, as in `available`
            lot for lot in self.lots
            if (lot.available_at <= as_of if lot.available_at.tzinfo is zone and not lot.available_at.fold else _ledger_not_after(lot.available_at, as_of))
        ]
        return spendable, sum([lot.remaining for lot in spendable], _LEDGER_ZERO) - self.debt

    def burn_from(self, spendable: list[Lot], points: Decimal, as_of: datetime, source: str) -> Decimal:
        """`burn` of points no more than `spendable(as_of)` holds, from its lots, with
        nothing changed in between (its checks done by the caller)."""
        if points == 0:
            return points
        record = self._ledger_record(source, as_of)
        left = points
        emptied = False
        for lot in _ledger_in_burn_order(spendable):
            take = min(left, lot.remaining)
            if take <= 0:
                continue
            lot.remaining -= take
            emptied = emptied or not lot.remaining
            record.burns.append(LedgerDraw(lot, take))
            left -= take
            if left == 0:
                break
        record.burned += points
        if emptied:
            self._ledger_prune()
        return points

    def reverse(
        self, source: str, as_of: datetime, floor: Decimal | None = _LEDGER_ZERO
    ) -> Reversal:
        """Refund event `source` in full (see the module docstring). Reversing a source
        twice, or one the ledger never saw, changes nothing."""
        record = self.sources.get(source)
        if record is None or record.fraction >= 1:
            return Reversal()
        return self._ledger_reverse(source, Fraction(1), as_of, floor, Decimal(1))

    def reverse_partial(
        self,
        source: str,
        fraction: Decimal | Fraction,
        as_of: datetime,
        floor: Decimal | None = _LEDGER_ZERO,
        quantum: Decimal = Decimal(1),
    ) -> Reversal:
        """Refund `fraction` (0..1) of event `source`.

        Fractions add up across calls (capped at the whole); pass an exact Fraction
        (refunded / paid) so that refunds of 1/3 three times make exactly one. The
        points taken back are the cumulative fraction of what it earned rounded UP to
        a multiple of `quantum` (a partial refund never leaves a point earned on
        refunded goods), those given back the cumulative fraction of what it spent
        rounded DOWN (never gives back more than was spent on refunded goods); at
        the whole both are exact.
        """
        share = Fraction(fraction)
        if share < 0 or share > 1:
            raise ValueError(f"refund fraction must be between 0 and 1, got {fraction}")
        step = _ledger_points(quantum, "quantum")
        if step <= 0:
            raise ValueError(f"quantum must be positive, got {quantum}")
        record = self.sources.get(source)
        if record is None or record.fraction >= 1 or share == 0:
            return Reversal()
        return self._ledger_reverse(source, min(Fraction(1), record.fraction + share), as_of,
                                    floor, step)

    def forget_before(self, cutoff: datetime) -> int:
        """Drop the records of events before `cutoff` (past any refund window) so memory
        stays bounded; returns how many were dropped. Records a later refund may still
        need (a refund that left a shortfall or clawbacks to undo) are kept. After
        this, reversing a dropped source is a no-op."""
        _ledger_aware(cutoff)
        dropped = []
        zone = cutoff.tzinfo if not cutoff.fold else None
        for name, record in self.sources.items():
            at = record.at  # _ledger_not_after(cutoff, at), its same-zone case written out
            if cutoff <= at if at.tzinfo is zone and not at.fold else _ledger_not_after(cutoff, at):
                # Records are made as a customer's events come, in time order, so the
                # rest are newer: the look stops here instead of reading every record.
                # (One dated earlier than its place, a birthday bonus given late, goes
                # when those before it have.)
                break
            # Only a refunded source (fraction > 0) has clawbacks: the others are not
            # asked for their list, which would make one just to find it empty.
            if record.shortfall == 0 and (not record.fraction or not record.claws or all(draw.amount == 0 for draw in record.claws)):
                dropped.append(name)
        for name in dropped:
            del self.sources[name]
        return len(dropped)

    # ----- JSON -----

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (Decimals as strings, datetimes ISO 8601 with offset and
        zone); `Ledger.from_json(l.to_json()) == l`. Lots referenced only by source
        records (fully spent) are stored too, flagged by remaining == 0."""
        every: dict[int, Lot] = {lot.seq: lot for lot in self.lots}
        for record in self.sources.values():
            for lot in record.lots:
                every.setdefault(lot.seq, lot)
            for draw in record.burns + record.claws:
                if draw.lot is not None:
                    every.setdefault(draw.lot.seq, draw.lot)

        listed = {id(lot) for lot in self.lots}

        def draw_json(draw: LedgerDraw) -> list[Any]:
            return [None if draw.lot is None else draw.lot.seq, str(draw.amount)]

        return {
            "version": 1,
            "next_seq": self.next_seq,
            "debt": str(self.debt),
            "debts": [[name, index] for name, index in self.debts],
            "lots": [
                {
                    "seq": lot.seq,
                    "amount": str(lot.amount),
                    "remaining": str(lot.remaining),
                    "expired": str(lot.expired),
                    "earned_at": _ledger_dt_to_json(lot.earned_at),
                    "available_at": _ledger_dt_to_json(lot.available_at),
                    "expires_at": _ledger_opt_dt_to_json(lot.expires_at),
                    "source": lot.source,
                    "reason": lot.reason,
                    "listed": id(lot) in listed,
                }
                for lot in sorted(every.values(), key=lambda lot: lot.seq)
            ],
            "sources": {
                name: {
                    "at": _ledger_dt_to_json(record.at),
                    "lots": [lot.seq for lot in record.lots],
                    "burns": [draw_json(draw) for draw in record.burns],
                    "claws": [draw_json(draw) for draw in record.claws],
                    "earned": str(record.earned),
                    "burned": str(record.burned),
                    "fraction": str(record.fraction),
                    "taken": str(record.taken),
                    "given": str(record.given),
                    "shortfall": str(record.shortfall),
                    "expired_counted": str(record.expired_counted),
                }
                for name, record in self.sources.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ledger:
        """Rebuild a ledger written by `to_json`, sharing lot objects as before."""
        if data.get("version") != 1:
            raise ValueError(f"unsupported ledger version {data.get('version')!r}")
        every: dict[int, Lot] = {}
        listed: list[Lot] = []
        for item in data["lots"]:
            lot = Lot(
                amount=Decimal(item["amount"]),
                remaining=Decimal(item["remaining"]),
                earned_at=_ledger_dt_from_json(item["earned_at"]),
                available_at=_ledger_dt_from_json(item["available_at"]),
                expires_at=_ledger_opt_dt_from_json(item["expires_at"]),
                source=item["source"],
                reason=item["reason"],
                seq=int(item["seq"]),
                expired=Decimal(item["expired"]),
            )
            every[lot.seq] = lot
            if item["listed"]:
                listed.append(lot)

        def draw_from(pair: list[Any]) -> LedgerDraw:
            return LedgerDraw(None if pair[0] is None else every[int(pair[0])], Decimal(pair[1]))

        sources = {
            name: LedgerSource(
                at=_ledger_dt_from_json(item["at"]),
                earned=Decimal(item["earned"]),
                burned=Decimal(item["burned"]),
                fraction=Fraction(item["fraction"]),
                taken=Decimal(item["taken"]),
                given=Decimal(item["given"]),
                shortfall=Decimal(item["shortfall"]),
                expired_counted=Decimal(item["expired_counted"]),
            )
            for name, item in data["sources"].items()
        }
        for name, item in data["sources"].items():
            record = sources[name]
            record.lots = [every[int(seq)] for seq in item["lots"]]
            record.burns = [draw_from(pair) for pair in item["burns"]]
            record.claws = [draw_from(pair) for pair in item["claws"]]
        return cls(
            lots=listed,
            sources=sources,
            debt=Decimal(data["debt"]),
            debts=[(str(name), int(index)) for name, index in data["debts"]],
            next_seq=int(data["next_seq"]),
        )

    # ----- internals -----

    def _ledger_record(self, source: str, at: datetime) -> LedgerSource:
        """The record `burn` adds to: made with the lists a purchase that spends fills
        (its burns, and the lots it earns next)."""
        record = self.sources.get(source)
        if record is None:
            record = self.sources[source] = LedgerSource(at)
            record.burns, record.lots = [], []
        return record

    def _ledger_prune(self) -> None:
        """Drop emptied lots from `lots`; records still reach them if needed again."""
        self.lots = [lot for lot in self.lots if lot.remaining > 0]

    def _ledger_credit(self, lot: Lot, points: Decimal) -> None:
        """Put points into a live lot, paying any debt from them first (oldest first);
        a paid debt becomes a clawback on this lot so a later undo knows where to go."""
        while points > 0 and self.debts:
            name, index = self.debts[0]
            owed = self.sources[name].claws[index]
            pay = min(points, owed.amount)
            owed.amount -= pay
            self.debt -= pay
            self.sources[name].claws.append(LedgerDraw(lot, pay))
            points -= pay
            if owed.amount == 0:
                self.debts.pop(0)
        if points > 0:
            if not any(listed is lot for listed in self.lots):
                bisect.insort(self.lots, lot, key=lambda item: item.seq)
                self.expiry_floor = None  # rare (returns, debt): `expire` looks again
            lot.remaining += points

    def _ledger_give_back(
        self, lot: Lot, points: Decimal, as_of: datetime
    ) -> tuple[Decimal, Decimal, Decimal]:
        """Return spent points to `lot`, following refund chains; returns (restored,
        restored_expired, settled). An explicit stack, not recursion: chains can be long."""
        restored = lapsed = settled = _LEDGER_ZERO
        stack: list[tuple[Lot, Decimal]] = [(lot, points)]
        while stack:
            target, left = stack.pop()
            record = self.sources.get(target.source)
            if record is not None and record.fraction > 0:
                pay = min(left, record.shortfall)
                record.shortfall -= pay
                settled += pay
                left -= pay
                for index, draw in enumerate(record.claws):
                    if left == 0:
                        break
                    if draw.lot is None and draw.amount > 0:
                        undo = min(left, draw.amount)
                        draw.amount -= undo
                        self.debt -= undo
                        restored += undo
                        left -= undo
                        if draw.amount == 0:
                            self.debts.remove((target.source, index))
                for draw in reversed(record.claws):
                    if left == 0:
                        break
                    if draw.lot is not None and draw.amount > 0:
                        undo = min(left, draw.amount)
                        draw.amount -= undo
                        left -= undo
                        stack.append((draw.lot, undo))
            if left > 0:
                if _ledger_is_expired(target, as_of):
                    target.expired += left
                    lapsed += left
                else:
                    self._ledger_credit(target, left)
                    restored += left
        return restored, lapsed, settled

    def _ledger_reverse(
        self,
        source: str,
        upto: Fraction,
        as_of: datetime,
        floor: Decimal | None,
        quantum: Decimal,
    ) -> Reversal:
        """Move `source` to having `upto` of it refunded: give back, then take back."""
        record = self.sources[source]
        if floor is not None:
            floor = _ledger_points(floor, "floor")
        self.expire(as_of)
        if upto >= 1:
            give_target, take_target = record.burned, record.earned
        else:
            give_target = min(record.burned,
                              _ledger_round(upto * Fraction(record.burned), quantum, ROUND_FLOOR))
            take_target = min(record.earned,
                              _ledger_round(upto * Fraction(record.earned), quantum, ROUND_CEILING))
        record.fraction = upto

        # Give back first: points the purchase spent may be needed to cover the clawback.
        give = max(_LEDGER_ZERO, give_target - record.given)
        record.given += give
        restored = lapsed = settled = _LEDGER_ZERO
        left = give
        for draw in reversed(record.burns):
            if left == 0:
                break
            back = min(left, draw.amount)
            if back <= 0:
                continue
            draw.amount -= back
            left -= back
            r, e, s = self._ledger_give_back(draw.lot, back, as_of)  # type: ignore[arg-type]
            restored, lapsed, settled = restored + r, lapsed + e, settled + s

        # Then take back what it earned: remainder, then what expired, then clawback.
        need = max(_LEDGER_ZERO, take_target - record.taken)
        record.taken += need
        removed = _LEDGER_ZERO
        for lot in record.lots:
            if need == 0:
                break
            cut = min(need, lot.remaining)  # expired lots are already empty
            if cut > 0:
                lot.remaining -= cut
                removed += cut
                need -= cut
        expired_total = sum((lot.expired for lot in record.lots), _LEDGER_ZERO)
        already = min(need, max(_LEDGER_ZERO, expired_total - record.expired_counted))
        record.expired_counted += already
        need -= already

        clawed = into_debt = shortfall = _LEDGER_ZERO
        if need > 0:
            room: Decimal | None = None
            if floor is not None:
                room = max(_LEDGER_ZERO, self.total(as_of) - floor)
            live = [lot for lot in self.lots if lot.remaining > 0]
            order = _ledger_in_burn_order([lot for lot in live if _ledger_is_available(lot, as_of)]) + _ledger_in_burn_order(
                [lot for lot in live if not _ledger_is_available(lot, as_of)]
            )
            for lot in order:
                if need == 0 or room == 0:
                    break
                take = min(need, lot.remaining) if room is None else min(need, lot.remaining, room)
                lot.remaining -= take
                record.claws.append(LedgerDraw(lot, take))
                clawed += take
                need -= take
                if room is not None:
                    room -= take
            if need > 0 and (room is None or room > 0):
                owe = need if room is None else min(need, room)
                record.claws.append(LedgerDraw(None, owe))
                self.debts.append((source, len(record.claws) - 1))
                self.debt += owe
                into_debt = owe
                clawed += owe
                need -= owe
            shortfall = need
            record.shortfall += shortfall
        self._ledger_prune()
        return Reversal(
            restored=restored,
            restored_expired=lapsed,
            settled=settled,
            removed=removed,
            already_expired=already,
            clawed_back=clawed,
            into_debt=into_debt,
            shortfall=shortfall,
        )


# ============================================================================
# runtime/spec.py
# A program as plain data the engine runs: no AST, no lark.
# ============================================================================

# A condition or an amount evaluated on one purchase (or customer event).
Cond = Callable[[Any], bool]
Value = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class ItemFilterSpec:
    kind: str  # "all" | "category" | "product"
    names: frozenset[str] = frozenset()

    def matches(self, product: str, category: str) -> bool:
        if self.kind == "all":
            return True
        if self.kind == "category":
            return category in self.names
        return product in self.names


ALL_ITEMS = ItemFilterSpec("all")


@dataclass(frozen=True, slots=True)
class DurationSpec:
    amount: int
    unit: str  # days | weeks | months | years


@dataclass(frozen=True, slots=True)
class EarnSpec:
    kind: str  # per-money percent per-item per-visit signup birthday first-purchase action monthly
    points: Decimal = Decimal(0)
    per: Decimal | None = None
    rate: Decimal | None = None  # a fraction
    base: Value | None = None
    items: ItemFilterSpec = ALL_ITEMS
    action: str | None = None
    when: Cond | None = None
    bands: tuple[Band, ...] = ()
    label: str = ""  # the clause as written, shown as the reason for the points


@dataclass(frozen=True, slots=True)
class MultiplierSpec:
    factor: Decimal
    items: ItemFilterSpec | None = None
    weekdays: frozenset[int] = frozenset()  # 0 = Monday
    start: _dt.time | None = None
    end: _dt.time | None = None
    when: Cond | None = None


@dataclass(frozen=True, slots=True)
class ExpirySpec:
    kind: str  # after-earned | inactivity | never
    duration: DurationSpec | None = None
    end_of_month: bool = False


@dataclass(frozen=True, slots=True)
class WalletSpec:
    name: str
    worth: Decimal | None = None
    decimals: int = 0
    earns: tuple[EarnSpec, ...] = ()
    multipliers: tuple[MultiplierSpec, ...] = ()
    pending: DurationSpec | None = None
    expiry: ExpirySpec | None = None
    redeem_cap: Decimal | None = None  # a fraction of redeem_base
    redeem_base: Value | None = None
    allow_negative: bool = False
    combine: str = "compound"  # compound | best

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.decimals)

    @property
    def redeemable(self) -> bool:
        return self.worth is not None and self.redeem_cap is not None


@dataclass(frozen=True, slots=True)
class WindowSpec:
    kind: str  # rolling-days | rolling-months | calendar-year | calendar-month | lifetime
    amount: int = 0


@dataclass(frozen=True, slots=True)
class TierSpec:
    name: str
    threshold: Decimal | None  # None: granted by hand only
    inclusive: bool = True
    multiplier: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class TiersSpec:
    metric: str  # spend | visits | points
    wallet: str | None
    window: WindowSpec
    tiers: tuple[TierSpec, ...]
    upgrade: str = "immediately"  # immediately | next purchase
    review: str | None = None  # yearly | quarterly | monthly
    downgrade: str | None = None  # one step | to qualified
    demote_monthly: bool = False
    returns_lower_at_once: bool = False


@dataclass(frozen=True, slots=True)
class EffectSpec:
    kind: str  # discount | multibuy | give-points | give-coupon
    percent: Decimal | None = None  # a fraction
    amount: Value | None = None  # money, for fixed discounts
    target: str = "order"  # order | items | each | cheapest
    items: ItemFilterSpec = ALL_ITEMS
    cap: Value | None = None
    buy: int = 0
    get: int = 0
    repeating: bool = True
    wallet: str | None = None
    points: Decimal = Decimal(0)
    coupon: str | None = None


@dataclass(frozen=True, slots=True)
class OfferSpec:
    kind: str  # rule | code | coupon
    name: str
    when: Cond | None = None
    when_text: str = ""
    once_per_customer: bool = False
    effects: tuple[EffectSpec, ...] = ()
    valid_from: _dt.date | None = None
    valid_to: _dt.date | None = None
    valid_for: DurationSpec | None = None
    limit_per_customer: int | None = None
    limit_total: int | None = None
    exclusions: tuple[tuple[str, bool], ...] = ()  # (other, cancel order)
    uses: int | None = None  # coupons: None = unlimited

    @property
    def discounts(self) -> bool:
        return any(e.kind in ("discount", "multibuy") for e in self.effects)

    @property
    def counts_uses(self) -> bool:
        """Whether its uses are counted per customer (CustomerState.uses): only a limit
        reads the count, and counting every offer cost a dict write on every purchase."""
        return self.once_per_customer or (self.kind == "code" and self.limit_per_customer is not None)


@dataclass(frozen=True, slots=True)
class ScaleSpec:
    name: str
    base_kind: str  # expr | quantity | amount
    base: Value | None = None
    items: ItemFilterSpec = ALL_ITEMS
    window: WindowSpec | None = None
    marginal: bool = False
    bands: tuple[Band, ...] = ()
    when: Cond | None = None
    when_text: str = ""


@dataclass(frozen=True, slots=True)
class StampCardSpec:
    name: str
    size: int
    stamp_kind: str  # item | purchase | money
    count: int = 1
    items: ItemFilterSpec = ALL_ITEMS
    per: Decimal | None = None
    base: Value | None = None
    carry_remainder: bool = False
    when: Cond | None = None
    reward_kind: str = "free-item"  # free-item | coupon | points
    reward_items: ItemFilterSpec = ALL_ITEMS
    reward_coupon: str | None = None
    reward_wallet: str | None = None
    reward_points: Decimal = Decimal(0)
    overflow: str = "reset"  # reset | carry over
    expiry: DurationSpec | None = None


@dataclass(frozen=True, slots=True)
class ProgramSpec:
    name: str
    version: str | None
    source_hash: str
    currency: str
    rounding: str
    timezone: str
    wallets: tuple[WalletSpec, ...] = ()
    tiers: TiersSpec | None = None
    # Everything that can change a price or give something, in program order.
    sources: tuple[Any, ...] = ()  # OfferSpec | ScaleSpec | StampCardSpec
    stacking: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (best|first, members)
    periods: dict[str, tuple[_dt.date, _dt.date]] = field(default_factory=dict)
    refund_window: DurationSpec | None = None

    def wallet(self, name: str) -> WalletSpec:
        for wallet in self.wallets:
            if wallet.name == name:
                return wallet
        raise KeyError(name)


# ============================================================================
# runtime/pricing.py
# The basket and what discounts do to it.
# ============================================================================

ZERO = Decimal(0)


@dataclass(slots=True)
class BasketLine:
    product: str
    category: str
    quantity: int
    unit_price: Decimal
    gross: Decimal  # quantity x unit price, rounded to the minor unit
    net: Decimal  # after the discounts applied so far

    def matches(self, items: ItemFilterSpec) -> bool:
        return items.matches(self.product, self.category)


class Basket:
    """Lines with running net amounts, priced with the program's rounding (`rounder`)
    to its minor unit (`quantum`), both made once by the engine. The subtotal is fixed;
    the total is kept as discounts are taken, not re-summed."""

    __slots__ = ("lines", "quantum", "subtotal", "total", "_round", "_matching")

    def __init__(self, lines: tuple[PurchaseLine, ...], rounder: Callable[[Decimal], Decimal], quantum: Decimal) -> None:
        self.quantum = quantum
        self._round = rounder
        self.lines = []
        for line in lines:
            gross = self._round(line.unit_price * line.quantity)
            self.lines.append(BasketLine(line.product, line.category, line.quantity, line.unit_price, gross, gross))
        self.subtotal: Decimal = sum((line.gross for line in self.lines), ZERO)
        self._matching: dict[int, tuple[ItemFilterSpec, list[int]]] = {}
        self.total: Decimal = self.subtotal

    def round(self, amount: Decimal) -> Decimal:
        return self._round(amount)

    def nets(self) -> list[Decimal]:
        return [line.net for line in self.lines]

    def quantities(self) -> list[int]:
        return [line.quantity for line in self.lines]

    def restore(self, nets: list[Decimal]) -> None:
        """Undo discounts taken since `nets()` (a trial of an offer in `best of`)."""
        for line, net in zip(self.lines, nets, strict=True):
            line.net = net
        self.total = sum(nets, ZERO)

    @property
    def items(self) -> int:
        return sum(line.quantity for line in self.lines)

    def matching(self, items: ItemFilterSpec) -> list[int]:
        """Indexes of the lines a filter selects (remembered: lines never change
        product or category, and offers ask the same question several times)."""
        known = self._matching.get(id(items))  # by identity: hashing a filter costs more
        if known is None:
            # The filter is kept with its answer, so its id cannot be reused meanwhile.
            known = self._matching[id(items)] = (items, [i for i, line in enumerate(self.lines) if line.matches(items)])
        return known[1]

    def apply(self, per_line: list[Decimal]) -> Decimal:
        """Take per-line discounts off; returns the total taken."""
        nets = self.nets()
        taken = take_off(nets, per_line)
        for line, net in zip(self.lines, nets, strict=True):
            line.net = net
        self.total -= taken
        return taken

    # ------------------------------------------------------------ discount shapes
    def zeros(self) -> list[Decimal]:
        return [ZERO] * len(self.lines)

    def allocate(self, amount: Decimal, indexes: Sequence[int]) -> list[Decimal]:
        """Spread `amount` over lines in proportion to their net."""
        return spread_over(amount, self.nets(), indexes, self.quantum)

    def allocate_by(self, amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
        return spread(amount, weights, self.quantum)

    def percent_of_lines(self, fraction: Decimal, indexes: Sequence[int]) -> list[Decimal]:
        return percent_of_lines(fraction, self.nets(), indexes, self._round)

    def percent_of_order(self, fraction: Decimal, indexes: Sequence[int]) -> list[Decimal]:
        return percent_of_order(fraction, self.nets(), indexes, self.quantum, self._round)

    def each_unit(self, fraction: Decimal | None, amount: Decimal | None, indexes: Sequence[int]) -> list[Decimal]:
        return each_unit(fraction, amount, self.nets(), self.quantities(), indexes, self._round)

    def cheapest_units(self, fraction: Decimal | None, amount: Decimal | None, indexes: Sequence[int], count: int = 1) -> list[Decimal]:
        return cheapest_units(fraction, amount, self.nets(), self.quantities(), indexes, count, self._round)

    def multi_buy(self, buy: int, get: int, fraction: Decimal, repeating: bool, indexes: Sequence[int]) -> list[Decimal]:
        return multi_buy(buy, get, fraction, repeating, self.nets(), self.quantities(), indexes, self._round)

    def marginal_units(self, bands: tuple[Band, ...], first_unit: int, indexes: Sequence[int]) -> list[Decimal]:
        return marginal_units(bands, first_unit, self.nets(), self.quantities(), indexes, self._round)


# ------------------------------------------------------------------ discount shapes
# On plain lists (each line's net so far, its quantity), so a compiled module's
# purchase path shares them with the Basket without building line objects.


def spread(amount: Decimal, weights: list[Decimal], quantum: Decimal) -> list[Decimal]:
    """Spread `amount` in proportion to `weights`, in minor units, the leftover units
    going to the largest remainders first, so the parts add up exactly. Worked in whole
    numbers (weights are money, whole multiples of the minor unit), so no remainder is
    ever lost to the precision of a division."""
    base = sum(weights, ZERO)
    if amount <= 0 or base <= 0:
        return [ZERO] * len(weights)
    units = int(min(amount, base) / quantum)
    scale = quantum
    scaled = [weight / scale for weight in weights]
    whole = [int(w) for w in scaled]
    while whole != scaled:  # a weight finer than the minor unit: count in smaller steps
        scale /= 10
        scaled = [weight / scale for weight in weights]
        whole = [int(w) for w in scaled]
    total = sum(whole)
    parts = [units * w // total if w > 0 else 0 for w in whole]
    left = units - sum(parts)
    if left:
        by_remainder = sorted((i for i, w in enumerate(whole) if w > 0), key=lambda i: (-(units * whole[i] % total), i))
        for i in by_remainder[:left]:
            parts[i] += 1
    return [Decimal(part) * quantum if w > 0 else ZERO for part, w in zip(parts, whole, strict=True)]


def spread_over(amount: Decimal, nets: list[Decimal], indexes: Sequence[int], quantum: Decimal) -> list[Decimal]:
    """Spread `amount` over the lines at `indexes`, in proportion to their net."""
    weights = [ZERO] * len(nets)
    for i in indexes:
        weights[i] = nets[i]
    return spread(amount, weights, quantum)


def percent_of_lines(fraction: Decimal, nets: list[Decimal], indexes: Sequence[int], rounder: Callable[[Decimal], Decimal]) -> list[Decimal]:
    """Each line rounded on its own."""
    out = [ZERO] * len(nets)
    for i in indexes:
        out[i] = min(rounder(nets[i] * fraction), nets[i])
    return out


def take_percent_of_lines(fraction: Decimal, nets: list[Decimal], indexes: Sequence[int], rounder: Callable[[Decimal], Decimal]) -> Decimal:
    """take_off(nets, percent_of_lines(...)) in one pass over the lines it is on, with
    no list of per-line amounts: the purchase path's most common discount."""
    taken = ZERO
    for i in indexes:
        net = nets[i]
        amount = rounder(net * fraction)
        if amount > net:
            amount = net
        if amount > 0:
            nets[i] = net - amount
            taken += amount
    return taken


def percent_of_order(fraction: Decimal, nets: list[Decimal], indexes: Sequence[int], quantum: Decimal, rounder: Callable[[Decimal], Decimal]) -> list[Decimal]:
    """One rounding on the whole amount, then spread: a 100% discount leaves 0.00."""
    base = sum((nets[i] for i in indexes), ZERO)
    return spread_over(rounder(base * fraction), nets, indexes, quantum)


def each_unit(fraction: Decimal | None, amount: Decimal | None, nets: list[Decimal], quantities: list[int], indexes: Sequence[int], rounder: Callable[[Decimal], Decimal]) -> list[Decimal]:
    out = [ZERO] * len(nets)
    for i in indexes:
        unit = nets[i] / quantities[i]
        per_unit = unit * fraction if fraction is not None else min(amount or ZERO, unit)
        out[i] = min(rounder(per_unit * quantities[i]), nets[i])
    return out


def units_by_price(nets: list[Decimal], quantities: list[int], indexes: Sequence[int]) -> list[tuple[Decimal, int]]:
    """(net unit price, line) for every unit, dearest first, ties in line order."""
    units = []
    for i in indexes:
        unit = nets[i] / quantities[i]
        units.extend([(unit, i)] * quantities[i])
    units.sort(key=lambda u: (-u[0], u[1]))
    return units


def cheapest_units(fraction: Decimal | None, amount: Decimal | None, nets: list[Decimal], quantities: list[int], indexes: Sequence[int], count: int, rounder: Callable[[Decimal], Decimal]) -> list[Decimal]:
    out = [ZERO] * len(nets)
    units = units_by_price(nets, quantities, indexes)
    for unit, i in list(reversed(units))[:count]:
        off = unit * fraction if fraction is not None else min(amount or ZERO, unit)
        out[i] += rounder(off)
    return out


def multi_buy(
    buy: int, get: int, fraction: Decimal, repeating: bool, nets: list[Decimal], quantities: list[int], indexes: Sequence[int], rounder: Callable[[Decimal], Decimal]
) -> list[Decimal]:
    """Every full group of buy+get units earns `get` discounted units, and the
    discounted units are the cheapest of the basket (MECHANICS: "cheapest"), so the
    customer gets the choice the usual till gives. Without `repeating`, one group."""
    out = [ZERO] * len(nets)
    units = units_by_price(nets, quantities, indexes)
    groups = len(units) // (buy + get)
    if not repeating:
        groups = min(groups, 1)
    for unit, i in units[len(units) - groups * get :] if groups else []:
        out[i] += rounder(unit * fraction)
    return out


def marginal_units(
    bands: tuple[Band, ...], first_unit: int, nets: list[Decimal], quantities: list[int], indexes: Sequence[int], rounder: Callable[[Decimal], Decimal]
) -> list[Decimal]:
    """Unit k of the running count, `first_unit` being this basket's first, gets its
    bracket's rate (B2B volume brackets); each line's discount is its units' rates on
    its net per unit, rounded once: the line's net x the sum of its units' rates / its
    units, so that the one inexact step is the last division (a net per unit of 1.00 / 3
    cut at 28 digits first could fall just short of a half penny). Worked on the runs of
    units at one rate, so an order of a million units costs what one of ten does."""
    out = [ZERO] * len(nets)
    runs = marginal_unit_rates(bands, first_unit, sum(quantities[i] for i in indexes))
    run = 0
    left = runs[0][1] if runs else 0  # units of the current run not yet given to a line
    for i in indexes:
        quantity = need = quantities[i]
        rates = ZERO  # the line's units' rates, summed (exact: rates are short decimals)
        while need:
            while not left:  # the next run
                run += 1
                left = runs[run][1]
            take = min(need, left)
            rates += runs[run][0] * take
            need -= take
            left -= take
        out[i] = rounder(nets[i] * rates / quantity)
    return out


def take_off(nets: list[Decimal], per_line: list[Decimal]) -> Decimal:
    """Take per-line discounts off `nets` in place, never below zero; the total taken."""
    taken = ZERO
    for i, (net, amount) in enumerate(zip(nets, per_line, strict=True)):
        if amount > net:
            amount = net
        if amount > 0:
            nets[i] = net - amount
            taken += amount
    return taken


def units_made_free(per_line: list[Decimal], nets: list[Decimal], quantities: list[int]) -> list[int]:
    """How many units each line's free-item discount made free (before it is taken)."""
    units = [0] * len(nets)
    for i, amount in enumerate(per_line):
        if amount > 0:
            unit = nets[i] / quantities[i]
            units[i] = int((amount / unit).to_integral_value()) if unit else 0
    return units


# ============================================================================
# runtime/outcome.py
# What processing one event did, as plain data: printed as a table, dumped as JSON,
# compared between the interpreter and a compiled module.
# ============================================================================

_OUTCOME_LISTS: dict[str, Callable[[], list[Any]]] = dict.fromkeys(('discounts', 'applied', 'refused', 'redeemed', 'earned', 'taken_back', 'given_back', 'expired', 'stamps', 'coupons_issued', 'coupons_used', 'notes'), list)


@dataclass(slots=True)
class Outcome:
    """Its lists are made on first use: most events fill two or three of the twelve,
    and an outcome is made for every event."""

    event_id: str
    customer: str
    kind: str
    at: _dt.datetime
    status: str = "ok"  # ok | replay | rejected | cancelled
    subtotal: Decimal | None = None
    discounts: list[tuple[str, Decimal]] = field(init=False)
    applied: list[str] = field(init=False)  # every offer, scale or card that applied
    refused: list[tuple[str, str]] = field(init=False)  # (offer or code entered, why not)
    total: Decimal | None = None
    redeemed: list[tuple[str, Decimal, Decimal]] = field(init=False)  # wallet, points, money
    paid: Decimal | None = None
    refunded: Decimal | None = None
    earned: list[tuple[str, Decimal, str, _dt.datetime]] = field(init=False)  # wallet, points, reason, available at
    taken_back: list[tuple[str, Decimal]] = field(init=False)
    given_back: list[tuple[str, Decimal]] = field(init=False)
    expired: list[tuple[str, Decimal]] = field(init=False)
    stamps: list[tuple[str, int, int]] = field(init=False)  # card, change, now on card
    coupons_issued: list[str] = field(init=False)
    coupons_used: list[str] = field(init=False)
    tier_before: str | None = None
    tier_after: str | None = None
    notes: list[str] = field(init=False)

    def __getattr__(self, name: str) -> list[Any]:
        """A list not yet used: made now (only called when the slot is empty)."""
        value: list[Any] = made_on_first_use(self, name, _OUTCOME_LISTS)
        return value

    def to_json(self) -> dict[str, Any]:
        """Stable, JSON-ready: money and points as strings, times in ISO 8601."""
        out: dict[str, Any] = {
            "event": self.event_id,
            "customer": self.customer,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "status": self.status,
        }
        if self.subtotal is not None:
            out["subtotal"] = str(self.subtotal)
            out["discounts"] = [{"by": name, "amount": str(amount)} for name, amount in self.discounts]
            out["total"] = str(self.total)
            out["redeemed"] = [{"points": w, "amount": str(p), "value": str(v)} for w, p, v in self.redeemed]
            out["paid"] = str(self.paid)
        if self.applied:
            out["applied"] = list(self.applied)
        if self.refused:
            out["refused"] = [{"offer": name, "reason": reason} for name, reason in self.refused]
        if self.refunded is not None:
            out["refunded"] = str(self.refunded)
        if self.earned:
            out["earned"] = [
                {"points": w, "amount": str(p), "reason": r, "available_at": a.isoformat()} for w, p, r, a in self.earned
            ]
        for key, pairs in (("taken_back", self.taken_back), ("given_back", self.given_back), ("expired", self.expired)):
            if pairs:
                out[key] = [{"points": w, "amount": str(p)} for w, p in pairs]
        if self.stamps:
            out["stamps"] = [{"card": c, "change": d, "on_card": n} for c, d, n in self.stamps]
        if self.coupons_issued:
            out["coupons_issued"] = list(self.coupons_issued)
        if self.coupons_used:
            out["coupons_used"] = list(self.coupons_used)
        if self.tier_before != self.tier_after:
            out["tier"] = {"from": self.tier_before, "to": self.tier_after}
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass(frozen=True, slots=True)
class WalletReport:
    name: str
    available: Decimal
    pending: Decimal
    next_expiry: tuple[_dt.datetime, Decimal] | None


@dataclass(frozen=True, slots=True)
class CustomerReport:
    """A customer's standing at one instant: what `run --as-of` prints."""

    customer: str
    as_of: _dt.datetime
    orders: int
    spend: Decimal
    tier: str | None
    wallets: tuple[WalletReport, ...]
    stamps: tuple[tuple[str, int, int, int], ...]  # card, stamps, card size, rewards waiting
    coupons: tuple[tuple[str, _dt.datetime | None, int | None], ...]  # name, expires, uses left
    next_tier: tuple[str, Decimal] | None = None  # the next tier and how much more it needs

    def to_json(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "as_of": self.as_of.isoformat(),
            "orders": self.orders,
            "spend": str(self.spend),
            "tier": self.tier,
            "next_tier": None if self.next_tier is None else {"tier": self.next_tier[0], "needs": str(self.next_tier[1])},
            "points": {
                w.name: {
                    "available": str(w.available),
                    "pending": str(w.pending),
                    "next_expiry": None
                    if w.next_expiry is None
                    else {"at": w.next_expiry[0].isoformat(), "amount": str(w.next_expiry[1])},
                }
                for w in self.wallets
            },
            "stamps": {c: {"stamps": s, "card": size, "rewards": r} for c, s, size, r in self.stamps},
            "coupons": [
                {"coupon": name, "expires": None if exp is None else exp.isoformat(), "uses_left": uses}
                for name, exp, uses in self.coupons
            ],
        }


# ============================================================================
# runtime/state.py
# A customer's state as the engine keeps it between events: plain records, so it
# can be saved as JSON (persist.py) and loaded into either engine.
# ============================================================================

_STATE_ZERO = Decimal(0)

# Entries a customer keeps for months (tier and scale windows, stamps) are tuples of
# plain values, never lists: Python's garbage collector stops tracking such a tuple
# after its first collection, where it would walk every list again at each full one.
# An entry that changes is replaced.
Dated = tuple[_dt.datetime, Decimal]  # (at, value), in a tier or scale window
# A window's entries as last summed: (that very list, its length then, their sum). Not
# state: worked out again when the list is another or its length moved.
WindowSum = tuple[list[Dated], int, Decimal]
StampEntry = tuple[_dt.datetime, int, str]  # (at, stamps, the event or "restored")


@dataclass(slots=True)
class CardState:
    entries: list[StampEntry] = field(default_factory=list)
    remainder: Decimal = _STATE_ZERO  # money toward the next stamp, with "remainder carries over"
    rewards: int = 0  # full cards whose free item is not yet taken
    # Not state: no stamp on the card lapses before this instant (Engine.lapse_stamps),
    # so most purchases skip working out when the oldest lapses. Never saved or compared.
    lapse_floor: _dt.datetime | None = field(default=None, compare=False, repr=False)
    # Not state: the stamps on `counted_entries` when it held `counted_length` entries,
    # so a purchase adds its stamps to the count instead of reading every entry (each a
    # tuple made on another visit, cold in memory by now). Only ever appended to, but
    # by remove_stamps, which forgets the count; a new list is counted anew.
    counted_entries: list[StampEntry] | None = field(default=None, compare=False, repr=False)
    counted_length: int = field(default=0, compare=False, repr=False)
    counted_stamps: int = field(default=0, compare=False, repr=False)

    @property
    def stamps(self) -> int:
        entries = self.entries
        if self.counted_entries is entries and self.counted_length == len(entries):
            return self.counted_stamps
        stamps: int = sum(map(_STATE_STAMPS_OF, entries))
        self.counted_entries, self.counted_length, self.counted_stamps = entries, len(entries), stamps
        return stamps

    def add_stamps(self, at: _dt.datetime, given: int, source: str) -> int:
        """A new entry of `given` stamps; the stamps on the card after it."""
        before = self.stamps  # counts the entries now if the kept count is not theirs
        self.entries.append((at, given, source))
        self.counted_length += 1
        self.counted_stamps = before + given
        return self.counted_stamps


_STATE_STAMPS_OF = itemgetter(1)  # an entry's stamps


@dataclass(slots=True)
class Holding:
    """A coupon a customer holds."""

    name: str
    issued_at: _dt.datetime
    expires_at: _dt.datetime | None
    uses_left: int | None
    source: str


@dataclass(frozen=True, slots=True)
class LinePricing:
    """How a sold line's net is worked out when its record did not keep the nets: the
    program's rounding of price x quantity, and its minor unit for an order discount's
    spread. One per program (Engine.pricing), shared by its records."""

    round: Callable[[Decimal], Decimal]
    quantum: Decimal


# What a record's empty slots hold until first set: most records are dropped unread.
_RECORD_DEFAULTS: dict[str, Callable[[], Any]] = {
    "lines": list,
    "categories": list,
    "refunded": lambda: _STATE_ZERO,
    "refunded_money": lambda: _STATE_ZERO,
    "points_metric": lambda: _STATE_ZERO,
    "stamped": dict,
    "stamp_money": dict,
    "stamps": dict,
    "coupons": list,
    "scale_values": dict,
}


@dataclass(slots=True)
class PurchaseRecord:
    """What a refund needs: per line the units left and their net price, the money
    it counted toward metrics, and the stamps and coupons it gave.

    A record is kept for every purchase in the refund window, and most are dropped
    unread when it closes, long after they were made: then freeing the record is most
    of what it costs, one object at a time. So a record made at the till holds the
    purchase's own lines and works out its per-line data (the net per unit, an order
    discount's spread) only when a return or a save reads `lines` or `categories`, and
    what only some programs or returns fill is made on first use."""

    at: _dt.datetime
    total: Decimal
    # Worked out from `sold` when first read; declared before it so that a comparison,
    # which reads the fields in this order, sees them worked out on both sides.
    lines: list[list[Any]] = field(init=False)  # per line [product, units left, net per unit]
    categories: list[str] = field(init=False)  # per line, for scale counts
    sold: Sequence[Any] | None = None  # the purchase's lines, until `lines` works them out
    nets: list[Decimal] | None = None  # each sold line's net before `cut`; None: its rounded price x quantity
    cut: Decimal = _STATE_ZERO  # an order discount already off the total, spread over `cut_lines` when worked out
    cut_lines: Sequence[int] | None = None  # None: every line
    pricing: LinePricing | None = field(default=None, compare=False, repr=False)  # for nets not kept and the spread
    redeemed: Decimal = _STATE_ZERO  # the part of the total paid with points
    applied: tuple[str, ...] = ()  # offers it applied, whose counted uses a whole return gives back (a tuple: see Dated)
    refunded: Decimal = field(init=False)  # value of the goods returned so far
    refunded_money: Decimal = field(init=False)
    points_metric: Decimal = field(init=False)
    stamped: dict[str, list[int]] = field(init=False)  # card -> stamped units per line
    stamp_money: dict[str, Decimal] = field(init=False)  # card -> money counted toward stamps
    stamps: dict[str, int] = field(init=False)
    coupons: list[str] = field(init=False)
    scale_values: dict[str, Decimal] = field(init=False)
    # Every unit was returned before `lines` was worked out: they are worked out with none
    # left (return_everything). Says nothing `lines` does not say once worked out.
    returned_all: bool = field(default=False, init=False, compare=False, repr=False)

    def __getattr__(self, name: str) -> Any:
        """A slot not yet set: its default, kept (only called when the slot is empty)."""
        if name in ("lines", "categories") and self.sold is not None:  # name first: copy asks for names before any slot is set
            self.work_out()
            return object.__getattribute__(self, name)
        return made_on_first_use(self, name, _RECORD_DEFAULTS)

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        return set_slots(self)  # a copy leaves the original's lines unworked and its containers unmade

    def work_out(self) -> None:
        """The sold lines to `lines` and `categories`, once: the nets (worked out
        again if not kept) less the order discount's spread, per unit."""
        sold = self.sold
        assert sold is not None
        nets = self.nets
        if nets is None:
            assert self.pricing is not None
            rounder = self.pricing.round
            nets = [rounder(line.unit_price * line.quantity) for line in sold]
        if self.cut:
            assert self.pricing is not None
            indexes = self.cut_lines if self.cut_lines is not None else range(len(nets))
            take_off(nets, spread_over(self.cut, nets, indexes, self.pricing.quantum))
        kept = not self.returned_all  # every unit is left, or none (return_everything)
        self.lines = [[line.product, line.quantity if kept else 0, net / line.quantity] for line, net in zip(sold, nets, strict=True)]
        self.categories = [line.category for line in sold]
        self.sold = self.nets = None

    def return_everything(self) -> list[int]:
        """Take back every unit still kept; the units taken, per line. A whole return
        of a record never read leaves its lines to be worked out when read (if ever):
        the value it refunds is the record's total, not a sum over the lines."""
        if self.sold is not None:
            if self.returned_all:
                return [0] * len(self.sold)
            self.returned_all = True
            return [line.quantity for line in self.sold]
        lines = self.lines
        returned = [line[1] for line in lines]
        for line in lines:
            line[1] = 0
        return returned


# A purchase record as the till keeps it: PurchaseRecord's arguments, in its order, in a
# plain tuple, then the stamps it gave per card as (card, stamps, stamped units per
# line or None, money counted or None). The compiled purchase path keeps this when
# only a return or a save will read the record (it gives no gifts or coupons): most
# records are dropped unread when the refund window closes, and a tuple costs less to
# make, to keep and to free than the record's twenty-one slots and its dicts
# (measured: 10% of a thresholds purchase, 9% of a lensmaster one). `purchase_record`
# makes the record on first read. A state holding a till tuple and one holding the
# record it stands for save the same JSON; compare states by their JSON.
TillStamps = tuple[tuple[str, int, "tuple[int, ...] | None", "Decimal | None"], ...]
TillRecord = tuple[_dt.datetime, Decimal, Sequence[Any], "list[Decimal] | None", Decimal, "Sequence[int] | None", "LinePricing | None", Decimal, tuple[str, ...], TillStamps]


def as_record(kept: PurchaseRecord | TillRecord) -> PurchaseRecord:
    """A kept purchase as its record (made anew from a till tuple)."""
    if not isinstance(kept, tuple):
        return kept
    at, total, sold, nets, cut, cut_lines, pricing, redeemed, applied, stamps = kept
    record = PurchaseRecord(at, total, sold, nets, cut, cut_lines, pricing, redeemed, applied)
    # A kept tuple is made a record to be read, by a return or a save, which read these:
    # set now, not made on first use one call each.
    record.refunded = record.refunded_money = _STATE_ZERO
    record.stamps, record.scale_values, record.coupons = {}, {}, []
    for card, given, units, money in stamps:
        record.stamps[card] = given
        if units is not None:
            record.stamped[card] = list(units)  # a return takes units back from it
        if money is not None:
            record.stamp_money[card] = money
    return record


def purchase_record(purchases: dict[str, PurchaseRecord | TillRecord], purchase_id: str) -> PurchaseRecord | None:
    """The record of `purchase_id` (None: none is kept), made from the till's tuple,
    and kept in its place, on first read."""
    kept = purchases.get(purchase_id)
    if not isinstance(kept, tuple):
        return kept
    record = purchases[purchase_id] = as_record(kept)
    return record


def purchase_time(kept: PurchaseRecord | TillRecord) -> _dt.datetime:
    """When a kept purchase was made, in either form."""
    return kept[0] if isinstance(kept, tuple) else kept.at


class _SharedEmptyDict(dict[Any, Any]):
    """The one empty dict every customer holds, until it writes its own, for each
    container only some programs fill (points, tiers, cards, coupons...): a customer
    of a program without them does not carry seven empty containers, each allocated
    with it and walked by every full garbage collection for as long as it is kept.
    Reads see an empty dict; a write is refused (CustomerState.made gives the
    customer its own first), so a forgotten write fails instead of reaching every
    customer. A copy is this very object."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("the shared empty container of customers: write to CustomerState.made(name)")

    __setitem__ = __delitem__ = __ior__ = setdefault = pop = popitem = clear = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (_shared_empty_dict, ())


class _SharedEmptyList(list[Any]):
    """The same for a list (see _SharedEmptyDict)."""

    _refuse = _SharedEmptyDict._refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = append = extend = insert = remove = pop = clear = sort = reverse = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (_shared_empty_list, ())


_SHARED_EMPTY_DICT = _SharedEmptyDict()
_SHARED_EMPTY_LIST = _SharedEmptyList()


def _shared_empty_dict() -> dict[Any, Any]:
    return _SHARED_EMPTY_DICT


def _shared_empty_list() -> list[Any]:
    return _SHARED_EMPTY_LIST


@dataclass(slots=True)
class CustomerState:
    """Every container but `purchases` (which every purchase writes) starts as the
    shared empty one (_SharedEmptyDict): read it as it is, and write through
    `made(name)`. `seen` too: a purchase's record stands for its id, so only other
    events (returns, signups...) and cancelled orders write an id there."""

    id: str
    signed_up: _dt.datetime | None = None
    birth_date: _dt.date | None = None
    birthday_year: int = 0
    orders: int = 0
    spend: Decimal = _STATE_ZERO
    last_visit: _dt.datetime | None = None
    last_event_at: _dt.datetime | None = None
    seen: dict[str, _dt.datetime] = field(default_factory=_shared_empty_dict)
    wallets: dict[str, Ledger] = field(default_factory=_shared_empty_dict)
    tier: int = -1
    tier_manual: bool = False
    reviewed_at: _dt.datetime | None = None
    demoted_steps: int = 0
    tier_entries: list[Dated] = field(default_factory=_shared_empty_list)  # in time order (engine.add_tier_entry)
    months: dict[str, Decimal] = field(default_factory=_shared_empty_dict)
    credited_through: str = ""
    scale_entries: dict[str, list[Dated]] = field(default_factory=_shared_empty_dict)  # each in time order, as tier_entries
    cards: dict[str, CardState] = field(default_factory=_shared_empty_dict)
    coupons: list[Holding] = field(default_factory=_shared_empty_list)
    uses: dict[str, int] = field(default_factory=_shared_empty_dict)  # offers with a limit only (OfferSpec.counts_uses)
    purchases: dict[str, PurchaseRecord | TillRecord] = field(default_factory=dict)  # oldest first
    # Not state: until this instant no refund record or event id is old enough to drop
    # (Engine.forget). Worked out again after a load; never saved or compared.
    forget_due: _dt.datetime | None = field(default=None, compare=False, repr=False)
    # Not state: (tier_entries, how many, their sum) as last known (Engine.tier_total),
    # so a purchase adds its entry to the sum instead of summing the window again. Used
    # only while it is the same list with the same length; never saved or compared.
    tier_sum: WindowSum | None = field(default=None, compare=False, repr=False)
    # Not state: the same per scale with a window (Engine.scale_prior), made on first use.
    scale_sums: dict[str, WindowSum] | None = field(default=None, compare=False, repr=False)

    def made(self, name: str) -> Any:
        """The container `name`, the customer's own, for a write: an empty one of its
        own first if it still holds the shared one."""
        value = getattr(self, name)
        if value is _SHARED_EMPTY_DICT:
            value = {}
            setattr(self, name, value)
        elif value is _SHARED_EMPTY_LIST:
            value = []
            setattr(self, name, value)
        return value


@dataclass(slots=True)
class State:
    """All customers, plus what is counted across customers (code uses in total)."""

    customers: dict[str, CustomerState] = field(default_factory=dict)
    code_uses: dict[str, int] = field(default_factory=dict)


# ============================================================================
# runtime/context.py
# What conditions and amounts see when they are evaluated: `order.*` and `customer.*`
# of the language, as attributes the interpreter's closures and the compiled module's
# functions both read.
# ============================================================================

_CONTEXT_ZERO = Decimal(0)
_CONTEXT_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Context:
    """What conditions and amounts see: `order.*` and `customer.*` of the language."""

    __slots__ = ("periods", "customer", "at", "basket", "redeemed")

    def __init__(self, periods: dict[str, tuple[_dt.date, _dt.date]], customer: CustomerState, at: _dt.datetime, basket: Basket | None) -> None:
        self.periods = periods
        self.customer = customer
        self.at = at
        self.basket = basket
        self.redeemed = _CONTEXT_ZERO

    @property
    def order_subtotal(self) -> Decimal:
        return self.basket.subtotal if self.basket else _CONTEXT_ZERO

    @property
    def order_total(self) -> Decimal:
        return self.basket.total if self.basket else _CONTEXT_ZERO

    @property
    def order_paid(self) -> Decimal:
        return self.order_total - self.redeemed

    @property
    def order_discount(self) -> Decimal:
        return self.order_subtotal - self.order_total

    @property
    def order_items(self) -> Decimal:
        return Decimal(self.basket.items) if self.basket else _CONTEXT_ZERO

    @property
    def order_day(self) -> str:
        return _CONTEXT_WEEKDAYS[self.at.weekday()]

    @property
    def order_time(self) -> _dt.time:
        return self.at.time().replace(tzinfo=None)

    @property
    def order_date(self) -> _dt.date:
        return self.at.date()

    @property
    def customer_orders(self) -> Decimal:
        return Decimal(self.customer.orders)

    @property
    def customer_visits(self) -> Decimal:
        return Decimal(self.customer.orders)

    @property
    def customer_spend(self) -> Decimal:
        return self.customer.spend

    @property
    def customer_tier(self) -> int:
        return self.customer.tier

    def customer_points(self, wallet: str) -> Decimal:
        ledger = self.customer.wallets.get(wallet)
        return ledger.available(self.at) if ledger else _CONTEXT_ZERO

    def during(self, period: str) -> bool:
        return during(self.periods, period, self.at)


def during(periods: dict[str, tuple[_dt.date, _dt.date]], period: str, at: _dt.datetime) -> bool:
    """Whether `at` falls in a named period of the program (both ends included)."""
    start, end = periods[period]
    return start <= at.date() <= end


# ============================================================================
# runtime/engine.py
# The engine: runs a ProgramSpec over events, one customer state at a time.
# ============================================================================

_ZERO = Decimal(0)
_ONE = Decimal(1)
_ALL = Fraction(1)  # the share of a purchase a whole return takes back (made once: a Fraction is slow to make)
# Memory per customer is bounded by time windows, never by the length of the stream:
# refund records live for the refund window (a year unless the program states one) and
# at least a month, event ids for a month (an older replay is caught anyway: it comes
# out of time order). A purchase's id is its record's key, not kept twice.
IDS_KEPT = _dt.timedelta(days=31)  # (also the purchase path's)
_MONTH = _dt.timedelta(days=31)
_INSTANT = _dt.timedelta(microseconds=1)  # the last instant before a boundary is boundary - _INSTANT
DEFAULT_REFUND_WINDOW = DurationSpec(365, "days")
_UNIT_DAYS = {"days": 1, "weeks": 7, "months": 31, "years": 366}
NOT_PURCHASE_EARNS = frozenset({"signup", "birthday", "action", "monthly"})  # earned by other events (codegen reads it too)
REVIEW_MONTHS = {"yearly": 12, "quarterly": 3, "monthly": 1}  # months in a review period (also the purchase path's)
_MIDNIGHT = _dt.time(0)


def _refund_reach(refund_window: DurationSpec) -> _dt.timedelta:
    """A day longer than the longest the refund window can be, so pruning never drops a
    record a refund could still reach."""
    return _dt.timedelta(days=refund_window.amount * _UNIT_DAYS[refund_window.unit] + 1)


def records_kept(refund_window: DurationSpec) -> _dt.timedelta:
    """How long a purchase's record is kept. It is also the proof that its event was
    processed (its id is not kept a second time in `seen`), so at least as long as an id."""
    return max(_refund_reach(refund_window), IDS_KEPT)


def free_item_waits(card: str) -> str:
    """The note of a full card whose reward is a free item (also the purchase path's,
    made once per card)."""
    return f"stamp card {card} full: a free item waits for the next purchase"


def _entry_time(entry: Dated) -> _dt.datetime:
    return entry[0]


def entries_total(entries: list[Dated]) -> Decimal:
    """The sum of dated entries' values (a tier or scale window, once pruned). map over
    itemgetter, not a generator: it runs on every purchase of a program with tiers."""
    return sum(map(_entry_value, entries), _ZERO)


_entry_value = operator.itemgetter(1)


def add_dated(entries: list[Dated], at: _dt.datetime, value: Decimal) -> None:
    """Add (at, value) to dated entries (tier and scale windows), keeping them in time
    order: a return counts at its purchase's date, before later entries, and in order a
    window's pruning drops a prefix (found by bisection) instead of testing every entry."""
    if entries and entries[-1][0] > at:
        bisect.insort_right(entries, (at, value), key=_entry_time)
    else:
        entries.append((at, value))


def add_to_window(entries: list[Dated], known: WindowSum | None, at: _dt.datetime, value: Decimal) -> WindowSum | None:
    """add_dated, and the window's running sum (see Engine.window_total) with the value
    added when it was known for this very list; else `known` as it was, which no longer
    matches the list's length."""
    add_dated(entries, at, value)
    if known is not None and known[0] is entries and known[1] == len(entries) - 1:
        return (entries, len(entries), known[2] + value)
    return known


def add_tier_entry(customer: CustomerState, at: _dt.datetime, value: Decimal) -> None:
    """add_dated on the customer's tier window, keeping its running sum when it is known
    (CustomerState.tier_sum): a purchase adds to the sum instead of the next upgrade
    summing the window again."""
    customer.tier_sum = add_to_window(customer.made("tier_entries"), customer.tier_sum, at, value)


# ------------------------------------------------------------------ the engine


class Engine:
    def __init__(self, spec: ProgramSpec) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)
        self.sources_by_name = {source.name: source for source in spec.sources}
        self.group_of: dict[str, tuple[str, tuple[str, ...]]] = {}
        for kind, members in spec.stacking:
            for member in members:
                self.group_of[member] = (kind, members)
        self.offer_codes = {s.name.casefold(): s for s in spec.sources if isinstance(s, OfferSpec) and s.kind == "code"}
        self.tier_names = tuple(t.name for t in spec.tiers.tiers) if spec.tiers else ()
        # (rank, threshold, inclusive) of the tiers that have a threshold, the last
        # listed first: `qualified` runs on every purchase of a program with tiers.
        self.tier_thresholds = tuple(reversed([(index, tier.threshold, tier.inclusive) for index, tier in enumerate(spec.tiers.tiers) if tier.threshold is not None])) if spec.tiers else ()
        self.redeemable = [w for w in spec.wallets if w.redeemable]
        self.refund_window = spec.refund_window or DEFAULT_REFUND_WINDOW
        refund_reach = _refund_reach(self.refund_window)
        self.keep_ledger_records = refund_reach + _MONTH  # a month more, for monthly credits
        # How far back an entry of each window is surely inside it (prune_entries).
        windows = [spec.tiers.window] if spec.tiers is not None else []
        windows += [source.window for source in spec.sources if isinstance(source, ScaleSpec) and source.window is not None]
        self.inside_spans = {(window.kind, window.amount): surely_inside(window.kind, window.amount) for window in windows}
        self.keep_records = records_kept(self.refund_window)
        self.round = money_rounder(spec.currency, spec.rounding)
        self.expiring_cards = [s for s in spec.sources if isinstance(s, StampCardSpec) and s.expiry is not None]
        self.monthly = [(w, e) for w in spec.wallets for e in w.earns if e.kind == "monthly" and w.worth is not None]
        # The steps a purchase takes, worked out once: a program without stamp cards,
        # scales or exclusions never pays for looking for them on every purchase.
        self.cards = [s for s in spec.sources if isinstance(s, StampCardSpec)]
        self.scales = [s for s in spec.sources if isinstance(s, ScaleSpec)]
        self.windowed_scales = [s for s in self.scales if s.window is not None]
        self.scale_steps = {s.name: bands_in_order(s.bands) for s in self.scales}
        self.money_step = Decimal(1).scaleb(-minor_unit(spec.currency))
        self.pricing = LinePricing(self.round, self.money_step)  # shared by the purchase records
        self.step_notes = {s.name: self._step_notes(s) for s in self.scales}
        self.point_quanta = {wallet.name: wallet.quantum for wallet in spec.wallets}  # WalletSpec.quantum makes a Decimal per call
        self._expiry_by_month: dict[tuple[Any, ...], _dt.datetime] = {}  # expiry_after_earning's memory
        self.has_exclusions = any(isinstance(s, OfferSpec) and s.exclusions for s in spec.sources)
        self.purchase_earns = [
            (wallet, any(m.items is not None for m in wallet.multipliers), [e for e in wallet.earns if e.kind not in NOT_PURCHASE_EARNS])
            for wallet in spec.wallets
        ]

    # ------------------------------------------------------------ public API
    def new_state(self) -> State:
        return State()

    def process(self, state: State, event: Event) -> Outcome:
        """Apply one event to `state` and say what happened. Never raises on bad
        business input: a refused code or an unknown purchase becomes a note."""
        at = event.at.astimezone(self.zone)
        customer = state.customers.get(event.customer)
        if customer is None:
            customer = state.customers[event.customer] = CustomerState(event.customer)
        kind = event_kind(event)
        out = Outcome(event.id, event.customer, kind, at)
        out.tier_before = out.tier_after = self.tier_name(customer.tier)
        if event.id in customer.seen or event.id in customer.purchases:
            out.status = "replay"
            out.notes.append(f"event {event.id} was already processed; nothing changed")
            return out
        if customer.last_event_at is not None and at < customer.last_event_at:
            out.status = "rejected"
            out.notes.append(
                f"event is dated {at.isoformat()}, before this customer's last event ({customer.last_event_at.isoformat()}); events of a customer must come in time order"
            )
            return out
        self.settle(customer, at, out)
        out.tier_before = self.tier_name(customer.tier)  # after time passed: demotions are not this event's doing
        if kind == "purchase":
            self.purchase(state, customer, event, at, out)  # type: ignore[arg-type]
        elif kind == "refund":
            self.refund(state, customer, event, at, out)  # type: ignore[arg-type]
        else:
            self.customer_event(customer, event, at, out)  # type: ignore[arg-type]
        # Even a refused event is done: replaying it must not run again. A purchase
        # whose record is kept is known by its record.
        if event.id not in customer.purchases:
            customer.made("seen")[event.id] = at
        customer.last_event_at = at
        out.tier_after = self.tier_name(customer.tier)
        return out

    def report(self, state: State, customer_id: str, as_of: _dt.datetime, in_place: bool = False) -> CustomerReport:
        """A customer's standing at `as_of`. A report reads: a copy of the customer is
        settled, so later events see the state as it was. `in_place` skips the copy for
        a state that is about to be thrown away (the closing balances of a run)."""
        as_of = as_of.astimezone(self.zone)
        known = state.customers.get(customer_id) or CustomerState(customer_id)
        customer = known if in_place else copy.deepcopy(known)
        scratch = Outcome("", customer_id, "report", as_of)
        if customer.last_event_at is None or as_of >= customer.last_event_at:
            self.settle(customer, as_of, scratch)
        wallets = []
        for wallet in self.spec.wallets:
            ledger = self.ledger(customer, wallet.name)
            wallets.append(WalletReport(wallet.name, ledger.available(as_of), ledger.pending(as_of), ledger.next_expiry(as_of)))
        cards = []
        for source in self.spec.sources:
            if isinstance(source, StampCardSpec):
                card = customer.cards.get(source.name) or CardState()
                cards.append((source.name, card.stamps, source.size, card.rewards))
        coupons = tuple((h.name, h.expires_at, h.uses_left) for h in customer.coupons)
        return CustomerReport(
            customer=customer_id,
            as_of=as_of,
            orders=customer.orders,
            spend=customer.spend,
            tier=self.tier_name(customer.tier),
            wallets=tuple(wallets),
            stamps=tuple(cards),
            coupons=coupons,
            next_tier=self.next_tier(customer, as_of),
        )

    # ------------------------------------------------------------ helpers
    def tier_name(self, rank: int) -> str | None:
        return self.tier_names[rank] if rank >= 0 else None

    def ledger(self, customer: CustomerState, wallet: str) -> Ledger:
        ledger = customer.wallets.get(wallet)
        if ledger is None:
            ledger = customer.made("wallets")[wallet] = Ledger()
        return ledger

    def quantize_points(self, wallet: WalletSpec, amount: Decimal) -> Decimal:
        """Points are floored to the wallet's precision: 105 RUB at 1 per 10 is 10."""
        return amount.quantize(self.point_quanta[wallet.name], ROUND_FLOOR) if amount > 0 else _ZERO  # positional: cheaper


    def add(self, at: _dt.datetime, duration: DurationSpec) -> _dt.datetime:
        return add_duration(at, duration.amount, duration.unit)

    def expiry_after_earning(self, wallet: WalletSpec, at: _dt.datetime) -> _dt.datetime | None:
        """When points of `wallet` earned at `at` expire (None: they do not)."""
        expiry = wallet.expiry
        if expiry is None or expiry.kind != "after-earned" or expiry.duration is None:
            return None
        if not expiry.end_of_month:
            return self.add(at, expiry.duration)
        # "N months, at the end of the month": every instant of a month gives the same
        # answer, but 00:00 on the 1st (N months on is then a month start itself), as
        # long as the zone keeps one offset (no wall time moved by a gap). Remembered per
        # month: points are earned on nearly every purchase.
        moved_by_months = expiry.duration.unit in MONTH_UNITS  # days would move the day
        if moved_by_months:
            key = (wallet.name, at.tzinfo, at.year, at.month, at.day == 1 and at.time() == _MIDNIGHT)
            known = self._expiry_by_month.get(key)
            if known is not None:
                return known
        moved = self.add(at, expiry.duration)
        expires_at = start_of_next_month(moved - _INSTANT)
        if moved_by_months and all(steady_zone(at.tzinfo, year) for year in (at.year, moved.year, expires_at.year)):
            self._expiry_by_month[key] = expires_at
        return expires_at

    def earn(self, customer: CustomerState, wallet: WalletSpec, amount: Decimal, at: _dt.datetime, source: str, reason: str, out: Outcome, pending: bool = True) -> None:
        amount = self.quantize_points(wallet, amount)
        if amount <= 0:
            return
        available_at = self.add(at, wallet.pending) if (pending and wallet.pending) else at
        expires_at = self.expiry_after_earning(wallet, at)
        # The engine's amounts are positive Decimals and its times aware: Ledger.earn's
        # checks are skipped (they were a third of what earning cost).
        self.ledger(customer, wallet.name).add_lot(amount, at, available_at, expires_at, source, reason)
        out.earned.append((wallet.name, amount, reason, available_at))

    # ------------------------------------------------------------ settling time
    def settle(self, customer: CustomerState, at: _dt.datetime, out: Outcome) -> None:
        """Bring a customer up to `at`: everything that happens by the passing of time.
        Expiry runs before and after monthly credits, so a credit that arrives at the
        instant an old one burns never hides the burn."""
        self.expire_wallets(customer, at, out)
        if self.monthly:
            self.monthly_credits(customer, at, out)
            self.expire_wallets(customer, at, out)
        if customer.birth_date is not None:
            self.birthday(customer, at, out, explicit=False)
        if self.spec.tiers is not None:
            self.review_tiers(customer, at)
        for card_spec in self.expiring_cards:
            card = customer.cards.get(card_spec.name)
            if card is not None and card.entries:
                self.lapse_stamps(card_spec, card, at)
        if customer.coupons:
            customer.coupons = [h for h in customer.coupons if h.expires_at is None or h.expires_at > at]
        self.forget(customer, at)

    def lapse_stamps(self, card_spec: StampCardSpec, card: CardState, at: _dt.datetime) -> None:
        """Drop the stamps whose time is up. A card's entries are in time order (stamps
        come with a customer's events, which are in time order; an entry put back by a
        return is only ever written on an empty card), so when the oldest has not
        lapsed none has, and that one look is all most purchases pay."""
        assert card_spec.expiry is not None
        floor = card.lapse_floor
        if floor is not None and at < floor:
            return
        first = self.add(card.entries[0][0], card_spec.expiry)
        if first > at:
            card.lapse_floor = first
            return
        card.entries = [e for e in card.entries if self.add(e[0], card_spec.expiry) > at]

    def forget(self, customer: CustomerState, at: _dt.datetime) -> None:
        """Drop what no later event can need: refund records past the refund window
        (and the ledger's records of them a month later, for monthly credits), event ids
        older than a month. Records are kept in time order (a customer's events come in
        time order), so dropping from the front stops at the first one kept.

        Refund records and event ids are made at the time of the event being processed,
        never earlier, so `customer.forget_due` (when the oldest of them, or the next one
        made, is first old enough to drop) lets most events skip looking at them. This
        runs on most purchases of a customer who buys every few weeks, so it makes no
        time it does not compare with: ids only when the customer has some."""
        if self.spec.wallets and customer.wallets:  # without points, the customer's (cold) dict is not read
            # ledger records may be dated earlier: looked at every time
            ledger_horizon = at - self.keep_ledger_records
            for ledger in customer.wallets.values():
                if ledger.sources and next(iter(ledger.sources.values())).at < ledger_horizon:
                    ledger.forget_before(ledger_horizon)
        due = customer.forget_due
        if due is not None and at <= due:
            return
        keep = self.keep_records
        horizon = at - keep
        purchases = customer.purchases
        last = customer.last_event_at  # every record and id is dated at or before it
        kept_at = at  # when the oldest record kept was made; else the next one is made at `at` or later
        if last is not None and last < horizon:  # every record is past the refund window (a customer back after weeks)
            purchases.clear()
        else:
            while purchases:  # oldest first: drop from the front until one is kept
                oldest = next(iter(purchases))
                made = purchase_time(purchases[oldest])
                if made >= horizon:
                    kept_at = made
                    break
                del purchases[oldest]
        # A record is dropped once `at` is past its time + keep_records; an id, past + IDS_KEPT.
        due = kept_at + keep
        seen = customer.seen
        if seen:  # else it may be the shared empty one
            since = at - IDS_KEPT
            if last is not None and last < since:  # every id is older than a month
                seen.clear()
            while seen:
                oldest = next(iter(seen))
                if seen[oldest] >= since:
                    break
                del seen[oldest]
        if seen:
            seen_due = seen[next(iter(seen))] + IDS_KEPT
            if seen_due < due:
                due = seen_due
        elif keep > IDS_KEPT:  # an id made next, at `at` or later, may be due before the oldest record
            due = min(due, at + IDS_KEPT)
        customer.forget_due = due

    def expire_wallets(self, customer: CustomerState, at: _dt.datetime, out: Outcome) -> None:
        for wallet in self.spec.wallets:
            ledger = customer.wallets.get(wallet.name)
            if ledger is None:
                continue
            expiry = wallet.expiry
            if expiry is not None and expiry.kind == "inactivity" and expiry.duration is not None:
                since = customer.last_visit or customer.signed_up
                if since is not None:
                    deadline = self.add(since, expiry.duration)
                    if deadline <= at:
                        ledger.expire_by(deadline)
            gone = ledger.expire(at)
            if gone:
                for index, (name, amount) in enumerate(out.expired):
                    if name == wallet.name:
                        out.expired[index] = (name, amount + gone)
                        break
                else:
                    out.expired.append((wallet.name, gone))

    def monthly_credits(self, customer: CustomerState, at: _dt.datetime, out: Outcome) -> None:
        """Credit each finished month's rate x spend at the start of the next month.
        Month totals are kept a year after, so a late refund can take its share back."""
        current = month_key(at)
        oldest = month_key(add_months(at, -12))
        for key in sorted(k for k in customer.months if k < current):
            spend = customer.months[key]
            if key < oldest:
                del customer.months[key]
                continue
            if key <= customer.credited_through:
                continue
            customer.credited_through = key
            year, month = (int(part) for part in key.split("-"))
            credited_at = start_of_next_month(at_midnight(_dt.date(year, month, 1), self.zone))
            for wallet, earn in self.monthly:
                points = self.monthly_points(wallet, earn.bands, spend)
                if points > 0:
                    self.earn(customer, wallet, points, credited_at, f"month:{key}", f"{earn.label} ({key})", out, pending=False)

    def monthly_points(self, wallet: WalletSpec, bands: tuple[Any, ...], spend: Decimal) -> Decimal:
        rate = slab_rate(bands, spend) if spend > 0 else None
        if not rate or wallet.worth is None:
            return _ZERO
        return self.quantize_points(wallet, spend * rate / wallet.worth)

    def refund_month(self, customer: CustomerState, key: str, value: Decimal, at: _dt.datetime, out: Outcome) -> None:
        """A refund lowers its month's total; once the month is credited, the credit is
        worked again on the lower total and the difference taken back."""
        if key not in customer.months:
            return
        before = customer.months[key]
        after = customer.months[key] = before - value
        if key > customer.credited_through:
            return
        for wallet, earn in self.monthly:
            ledger = customer.wallets.get(wallet.name)
            record = ledger.sources.get(f"month:{key}") if ledger else None
            if ledger is None or record is None or record.earned <= 0:
                continue
            drop = self.monthly_points(wallet, earn.bands, before) - self.monthly_points(wallet, earn.bands, after)
            if drop > 0:
                floor = None if wallet.allow_negative else _ZERO
                reversal = ledger.reverse_partial(f"month:{key}", Fraction(drop) / Fraction(record.earned), at, floor, wallet.quantum)
                taken = reversal.removed + reversal.clawed_back
                if taken:
                    out.taken_back.append((wallet.name, taken))

    def birthday(self, customer: CustomerState, at: _dt.datetime, out: Outcome, explicit: bool) -> None:
        """Birthday bonuses, once a year: on an explicit `birthday` event, or at 00:00 of
        the birthday (28 February for 29 February in other years) once time passes it,
        for every year since the last one given, even with no visit in between."""
        if explicit:
            if customer.birthday_year < at.year:
                self.give_birthday(customer, at, at.year, out)
                customer.birthday_year = at.year
            return
        if customer.birth_date is None or customer.birthday_year >= at.year:
            return
        first = customer.birthday_year + 1 if customer.birthday_year else (customer.signed_up or at).year
        for year in range(first, at.year + 1):
            month, day = customer.birth_date.month, customer.birth_date.day
            if (month, day) == (2, 29) and not calendar.isleap(year):
                day = 28
            when = at_midnight(_dt.date(year, month, day), self.zone)
            if when > at:
                break
            if customer.signed_up is not None and when < start_of_month(customer.signed_up):
                continue
            self.give_birthday(customer, when, year, out)
            customer.birthday_year = year

    def give_birthday(self, customer: CustomerState, when: _dt.datetime, year: int, out: Outcome) -> None:
        for wallet in self.spec.wallets:
            for earn in wallet.earns:
                if earn.kind == "birthday" and self.holds(earn.when, customer, when, None):
                    self.earn(customer, wallet, earn.points, when, f"birthday:{year}", earn.label, out, pending=False)

    def holds(self, cond: Any, customer: CustomerState, at: _dt.datetime, basket: Basket | None) -> bool:
        return cond is None or bool(cond(Context(self.spec.periods, customer, at, basket)))

    # ------------------------------------------------------------ tiers
    def metric_value(self, customer: CustomerState, at: _dt.datetime, before: bool = False) -> Decimal:
        tiers = self.spec.tiers
        assert tiers is not None
        start = self.window_start(tiers.window, at)
        total = _ZERO
        for entry_at, value in customer.tier_entries:
            if (start is None or entry_at >= start) and (entry_at < at if before else entry_at <= at):
                total += value
        return total

    def window_start(self, window: WindowSpec, at: _dt.datetime) -> _dt.datetime | None:
        return window_start(at, window.kind, window.amount)

    def qualified(self, value: Decimal) -> int:
        """The highest-listed tier whose threshold `value` meets (-1: none). Listed
        order, not the highest threshold: a program may list them out of order (a
        warning, not an error)."""
        for index, threshold, inclusive in self.tier_thresholds:  # the last listed first
            if value >= threshold if inclusive else value > threshold:
                return index
        return -1

    def tier_total(self, customer: CustomerState, at: _dt.datetime) -> Decimal:
        """What the tier metric counts at `at`: the entries pruned to the window, and
        their sum. The sum is kept between events (CustomerState.tier_sum) and lowered
        by what leaves the window: summing a customer's window on every purchase cost
        more than the rest of the upgrade, its entries being cold in memory by then."""
        tiers = self.spec.tiers
        assert tiers is not None
        kept, total = self.window_total(customer.tier_entries, customer.tier_sum, tiers.window, at)
        customer.tier_entries = kept
        customer.tier_sum = (kept, len(kept), total)
        return total

    def window_total(self, entries: list[Dated], known: WindowSum | None, window: WindowSpec, at: _dt.datetime) -> tuple[list[Dated], Decimal]:
        """`entries` pruned to `window` at `at`, and their sum: from `known`, the sum as
        last kept for this very list (WindowSum), less what has left the window, when it
        still matches; else summed anew."""
        kept = self.prune_entries(entries, window, at)
        if known is None or known[0] is not entries or known[1] != len(entries):
            total = entries_total(kept)
        elif kept is entries or window.kind == "lifetime":
            total = known[2]  # nothing left, or the entries folded into one of the same sum
        else:
            total = known[2] - entries_total(entries[: len(entries) - len(kept)])  # `kept` is what follows them
        return kept, total

    def upgrade(self, customer: CustomerState, at: _dt.datetime) -> None:
        tiers = self.spec.tiers
        assert tiers is not None
        rank = self.qualified(self.tier_total(customer, at))
        if rank > customer.tier:
            customer.tier = rank
            customer.tier_manual = False
            customer.demoted_steps = 0
        if customer.reviewed_at is None and customer.tier >= 0:
            customer.reviewed_at = at

    def prune_entries(self, entries: list[Dated], window: WindowSpec | None, at: _dt.datetime) -> list[Dated]:
        """Keep what a window can still count (memory stays bounded per customer)."""
        if window is None or window.kind == "lifetime":
            if len(entries) > 1:
                return [(entries[-1][0], entries_total(entries))]
            return entries
        if not entries:
            return entries
        span = self.inside_spans.get((window.kind, window.amount))
        if span is not None and entries[0][0] >= at - span:
            return entries  # the oldest entry is surely inside: no start worked out (periods.surely_inside)
        start = window_start(at, window.kind, window.amount)  # not Engine.window_start: a frame less on every purchase
        if start is None or entries[0][0] >= start:
            return entries  # the common case: nothing has left the window
        return entries[bisect.bisect_left(entries, start, key=_entry_time) :]

    def review_tiers(self, customer: CustomerState, at: _dt.datetime) -> None:
        tiers = self.spec.tiers
        assert tiers is not None
        if tiers.demote_monthly and customer.last_visit is not None and customer.tier > 0:
            due = whole_months_between(customer.last_visit, at) - customer.demoted_steps
            if due > 0:
                customer.demoted_steps += due
                customer.tier = max(0, customer.tier - due)
        reviewed = customer.reviewed_at
        if tiers.review is None or reviewed is None or customer.tier < 0:
            return
        step = REVIEW_MONTHS[tiers.review]
        if reviewed.tzinfo is self.zone and at.year == reviewed.year and (at.month - 1) // step == (reviewed.month - 1) // step:
            return  # still the review period of the last review (or first tier): none is due
        year, month = self.next_review_month(reviewed, step)
        if (at.year, at.month) < (year, month):
            return  # reviews fall at 00:00 on the first of a month: none is due yet
        boundary = self.next_review(reviewed, step)
        while boundary <= at:
            if not customer.tier_manual:
                rank = self.qualified(self.metric_value(customer, boundary - _INSTANT))
                if rank < customer.tier:
                    customer.tier = customer.tier - 1 if tiers.downgrade == "one step" else max(rank, 0)
            customer.reviewed_at = boundary
            boundary = self.next_review(boundary, step)

    def next_review(self, after: _dt.datetime, months: int) -> _dt.datetime:
        """The first review boundary strictly after `after`: 1 January, a quarter's or
        a month's first day, at 00:00 in the program's zone."""
        year, month = self.next_review_month(after, months)
        return at_midnight(_dt.date(year, month, 1), self.zone)

    def next_review_month(self, after: _dt.datetime, months: int) -> tuple[int, int]:
        """(year, month) of the first review boundary strictly after `after`."""
        local = after.astimezone(self.zone)
        first = (local.month - 1) // months * months  # the period `after` falls in
        year, month0 = divmod(first + months, 12)
        return local.year + year, month0 + 1

    def next_tier(self, customer: CustomerState, at: _dt.datetime) -> tuple[str, Decimal] | None:
        tiers = self.spec.tiers
        if tiers is None:
            return None
        value = self.metric_value(customer, at)
        for index, tier in enumerate(tiers.tiers):
            if index > customer.tier and tier.threshold is not None:
                need = tier.threshold - value
                if not tier.inclusive:  # `over`: the smallest step past the threshold
                    need += self.metric_step()
                return tier.name, max(need, _ZERO)
        return None

    def metric_step(self) -> Decimal:
        tiers = self.spec.tiers
        assert tiers is not None
        if tiers.metric == "spend":
            return self.money_step
        if tiers.metric == "points" and tiers.wallet is not None:
            return self.point_quanta[tiers.wallet]
        return _ONE

    # ------------------------------------------------------------ customer events
    def customer_event(self, customer: CustomerState, event: CustomerEvent, at: _dt.datetime, out: Outcome) -> None:
        if event.kind == "signup":
            if customer.signed_up is not None:
                out.notes.append("customer had already signed up; no signup bonus")
                return
            customer.signed_up = at
            if event.birth_date is not None:
                customer.birth_date = event.birth_date
            for wallet in self.spec.wallets:
                for earn in wallet.earns:
                    if earn.kind == "signup" and self.holds(earn.when, customer, at, None):
                        self.earn(customer, wallet, earn.points, at, event.id, earn.label, out, pending=False)
            if self.spec.tiers is not None:
                self.upgrade(customer, at)
            self.birthday(customer, at, out, explicit=False)
        elif event.kind == "birthday":
            if customer.birthday_year >= at.year:
                out.notes.append(f"birthday bonus for {at.year} already given")
            self.birthday(customer, at, out, explicit=True)
        elif event.kind == "tier":
            if event.tier not in self.tier_names:
                out.status = "rejected"
                out.notes.append(f"no tier called {event.tier!r}; tiers are {', '.join(self.tier_names) or 'not declared'}")
                return
            customer.tier = self.tier_names.index(event.tier)
            customer.tier_manual = True
            customer.reviewed_at = customer.reviewed_at or at
        elif event.kind == "action":
            given = False
            for wallet in self.spec.wallets:
                for earn in wallet.earns:
                    if earn.kind == "action" and earn.action == event.action and self.holds(earn.when, customer, at, None):
                        self.earn(customer, wallet, earn.points, at, event.id, earn.label, out)
                        given = True
            if not given:
                out.notes.append(f"no rule earns anything for action {event.action!r}")

    # ------------------------------------------------------------ purchases
    def purchase(self, state: State, customer: CustomerState, purchase: Purchase, at: _dt.datetime, out: Outcome) -> None:
        basket = Basket(purchase.lines, self.round, self.money_step)
        ctx = Context(self.spec.periods, customer, at, basket)
        out.subtotal = basket.subtotal
        eligible = self.eligible(state, customer, purchase, ctx, out)
        if self.has_exclusions and self.exclusions(eligible, out):
            out.status = "cancelled"
            out.total = out.paid = out.subtotal
            return
        applied, free_units = self.apply_offers(state, eligible, customer, basket, ctx, out)
        out.total = basket.total
        if self.scales:
            self.next_steps(eligible, customer, basket, ctx, out)
        self.redeem(customer, purchase, basket, ctx, at, out)
        out.paid = basket.total - ctx.redeemed
        first_purchase = customer.orders == 0
        spend = basket.total
        # The tier metric moves before earning so `upgrade immediately` earns at the
        # new tier; `customer.*` in conditions still sees the customer before it.
        tiers = self.spec.tiers
        if tiers is not None and tiers.metric in ("spend", "visits"):
            add_tier_entry(customer, at, spend if tiers.metric == "spend" else _ONE)
            if tiers.upgrade == "immediately":
                self.upgrade(customer, at)
        if self.monthly:
            key = month_key(at)
            customer.made("months")[key] = customer.months.get(key, _ZERO) + spend
        # A points metric counts what this purchase earns: the points earned before it.
        points_before = self.ledger_earned(out, tiers.wallet) if tiers is not None and tiers.metric == "points" else _ZERO
        self.earn_for_purchase(customer, purchase, basket, ctx, first_purchase, at, out)
        record = PurchaseRecord(
            at,
            basket.total,
            purchase.lines,
            basket.nets(),
            redeemed=ctx.redeemed,
            applied=tuple(source.name for source in applied if isinstance(source, OfferSpec)),
        )
        for source in applied:
            self.give(customer, source, purchase.id, at, out, record)
        if self.cards:
            self.stamp(customer, purchase.id, basket, ctx, free_units, at, out, record)
        for scale in self.windowed_scales:
            self.count_in_window(customer, scale, self.scale_value(scale, basket, ctx, gross=True), at, record)
        if tiers is not None:
            if tiers.metric == "points":
                earned = self.ledger_earned(out, tiers.wallet) - points_before
                record.points_metric = earned
                if earned:
                    add_tier_entry(customer, at, earned)
            if tiers.metric == "points" or tiers.upgrade != "immediately":
                self.upgrade(customer, at)
        customer.purchases[purchase.id] = record
        customer.orders += 1
        customer.spend += spend
        customer.last_visit = at
        customer.demoted_steps = 0

    def ledger_earned(self, out: Outcome, wallet: str | None) -> Decimal:
        return sum((p for w, p, _, _ in out.earned if w == wallet), _ZERO)

    # ---- step 2: offers
    def eligible(self, state: State, customer: CustomerState, purchase: Purchase, ctx: Context, out: Outcome) -> list[Any]:
        entered = self.read_codes(purchase.codes, out)
        found: list[Any] = []
        for source in self.spec.sources:
            if isinstance(source, OfferSpec):
                reason = self.offer_refusal(state, customer, source, ctx, entered)
                if reason is None and source.discounts and ctx.basket is not None and not any(self.applies_to(e, ctx.basket) for e in source.effects):
                    reason = "nothing in the basket it applies to"
                if reason is None:
                    found.append(source)
                elif source.kind == "code" and source.name.casefold() in entered:
                    self.refuse(out, source.name, reason, f"code {entered[source.name.casefold()]}")
            elif isinstance(source, ScaleSpec):
                if source.when is None or source.when(ctx):
                    found.append(source)
            elif isinstance(source, StampCardSpec):
                card = customer.cards.get(source.name)
                if source.reward_kind == "free-item" and card is not None and card.rewards > 0 and ctx.basket and ctx.basket.matching(source.reward_items):
                    found.append(source)
        return found

    def read_codes(self, codes: Sequence[str], out: Outcome) -> dict[str, str]:
        """The program's codes among those entered, by their folded name, each with its
        text as entered; an unknown code is refused and a repeated one noted."""
        entered: dict[str, str] = {}
        for code in codes:
            key = code.strip().casefold()
            if key in entered:
                out.notes.append(f"code {code} entered twice; counted once")
            elif key not in self.offer_codes:
                self.refuse(out, code, "no such code", f"code {code}")
            else:
                entered[key] = code
        return entered

    def applies_to(self, effect: EffectSpec, basket: Basket) -> bool:
        """Whether an effect has something to act on in this basket: a gift always does,
        a discount needs a matching line not yet free, a deal enough matching units."""
        if effect.kind in ("give-points", "give-coupon"):
            return True
        lines = [basket.lines[i] for i in basket.matching(effect.items)]
        if effect.kind == "multibuy":
            return sum(line.quantity for line in lines) >= effect.buy + effect.get
        return any(line.net > 0 for line in lines)

    def offer_refusal(self, state: State, customer: CustomerState, offer: OfferSpec, ctx: Context, entered: dict[str, str]) -> str | None:
        """Why an offer does not apply to this basket, or None when it does."""
        if offer.kind == "code" and offer.name.casefold() not in entered:
            return "not entered"
        if offer.kind == "coupon" and not any(h.name == offer.name for h in customer.coupons):
            return "not held"
        reason = self.use_refusal(state, customer, offer, ctx.at)
        if reason is None and offer.when is not None and not offer.when(ctx):
            reason = f"condition not met: {offer.when_text}"
        return reason

    def use_refusal(self, state: State, customer: CustomerState, offer: OfferSpec, at: _dt.datetime) -> str | None:
        """Why a code's dates or an offer's use limits refuse it at `at`, or None. (A
        compiled purchase path asks this too, and tests the condition itself.)"""
        if offer.kind == "code":
            day = at.date()
            if offer.valid_from is not None and day < offer.valid_from:
                return f"valid from {offer.valid_from.isoformat()}"
            if offer.valid_to is not None and day > offer.valid_to:
                return f"expired on {offer.valid_to.isoformat()}"
            used = customer.uses.get(offer.name, 0)
            if offer.limit_per_customer is not None and used >= offer.limit_per_customer:
                return f"already used {used} time{'s' if used != 1 else ''} by this customer (limit {offer.limit_per_customer})"
            if offer.limit_total is not None and state.code_uses.get(offer.name, 0) >= offer.limit_total:
                return f"used up ({offer.limit_total} uses in total)"
        if offer.once_per_customer and customer.uses.get(offer.name, 0) >= 1:
            return "already used once by this customer"
        return None

    def exclusions(self, eligible: list[Any], out: Outcome) -> bool:
        """Drop offers that are `not with` another eligible one; True = cancel order."""
        names = {source.name for source in eligible}
        dropped = set()
        for source in eligible:
            if not isinstance(source, OfferSpec):
                continue
            for other, cancel in source.exclusions:
                if other in names:
                    if cancel:
                        out.refused.append((source.name, f"order cancelled: not valid with {other}"))
                        out.notes.append(f"order cancelled: {source.name} is not valid with {other}")
                        return True
                    dropped.add(source.name)
                    self.refuse(out, source.name, f"not valid with {other}", f"code {source.name}" if source.kind == "code" else source.name)
                    break
        eligible[:] = [s for s in eligible if s.name not in dropped]
        return False

    def apply_offers(self, state: State, eligible: list[Any], customer: CustomerState, basket: Basket, ctx: Context, out: Outcome) -> tuple[list[Any], dict[str, list[int]]]:
        applied: list[Any] = []
        free_units: dict[str, list[int]] = {}
        by_name = {source.name: source for source in eligible}
        done: set[str] = set()
        for source in eligible:
            if source.name in done:
                continue
            group = self.group_of.get(source.name)
            chosen = source
            if group is not None:
                kind, members = group
                candidates = [by_name[m] for m in members if m in by_name and m not in done]
                if kind == "first":
                    chosen = candidates[0]
                else:
                    best_value = None
                    for candidate in candidates:
                        value = self.trial(candidate, customer, basket, ctx)
                        if best_value is None or value > best_value:
                            chosen, best_value = candidate, value
                for candidate in candidates:
                    done.add(candidate.name)
                    if candidate is not chosen:
                        what = f"code {candidate.name}" if isinstance(candidate, OfferSpec) and candidate.kind == "code" else candidate.name
                        rule = "gives more" if kind == "best" else "comes first"
                        self.refuse(out, candidate.name, f"{chosen.name} {rule} ({kind} of {', '.join(members)})", what, verb="not applied")
            done.add(chosen.name)
            amount = self.apply(chosen, customer, basket, ctx, free_units)
            if amount > 0:
                out.discounts.append((chosen.name, amount))
            applied.append(chosen)
            out.applied.append(chosen.name)
            if isinstance(chosen, OfferSpec):
                if chosen.counts_uses:
                    customer.made("uses")[chosen.name] = customer.uses.get(chosen.name, 0) + 1
                if chosen.kind == "code":
                    state.code_uses[chosen.name] = state.code_uses.get(chosen.name, 0) + 1
                    out.notes.append(f"code {chosen.name} applied")
                if chosen.kind == "coupon":
                    self.use_coupon(customer, chosen.name)
                    out.coupons_used.append(chosen.name)
        return applied, free_units

    def refuse(self, out: Outcome, name: str, reason: str, what: str, verb: str = "refused") -> None:
        """An offer that did not apply, said twice: as data and as a note for people."""
        out.refused.append((name, reason))
        out.notes.append(f"{what} {verb}: {reason}")

    def trial(self, source: Any, customer: CustomerState, basket: Basket, ctx: Context) -> Decimal:
        """The discount a source would give now, leaving the basket as it was."""
        saved = basket.nets()
        value = self.apply(source, customer, basket, ctx, {}, trial=True)
        basket.restore(saved)
        return value

    def apply(self, source: Any, customer: CustomerState, basket: Basket, ctx: Context, free_units: dict[str, list[int]], trial: bool = False) -> Decimal:
        if isinstance(source, OfferSpec):
            taken = _ZERO
            for effect in source.effects:
                taken += basket.apply(self.effect_lines(effect, basket, ctx))
            return taken
        if isinstance(source, ScaleSpec):
            return basket.apply(self.scale_lines(source, customer, basket, ctx))
        card = customer.cards[source.name]
        indexes = basket.matching(source.reward_items)
        units = sum(basket.lines[i].quantity for i in indexes)
        count = min(card.rewards, units)
        lines = basket.cheapest_units(_ONE, None, indexes, count)
        if not trial:
            card.rewards -= count
            free_units[source.name] = units_made_free(lines, basket.nets(), basket.quantities())
        return basket.apply(lines)

    def effect_lines(self, effect: EffectSpec, basket: Basket, ctx: Context) -> list[Decimal]:
        if effect.kind == "multibuy":
            assert effect.percent is not None
            return basket.multi_buy(effect.buy, effect.get, effect.percent, effect.repeating, basket.matching(effect.items))
        if effect.kind != "discount":
            return basket.zeros()
        indexes = basket.matching(effect.items)
        fraction = effect.percent
        amount = effect.amount(ctx) if effect.amount is not None else None
        target = effect.target
        if target == "order" or target == "items":
            if fraction is not None:
                lines = basket.percent_of_order(fraction, indexes) if target == "order" else basket.percent_of_lines(fraction, indexes)
            else:
                lines = basket.allocate(amount or _ZERO, indexes)
        elif target == "each":
            lines = basket.each_unit(fraction, amount, indexes)
        else:
            lines = basket.cheapest_units(fraction, amount, indexes, 1)
        if effect.cap is not None:
            cap = effect.cap(ctx)
            if sum(lines, _ZERO) > cap:
                lines = basket.allocate_by(cap, lines)
        return lines

    def scale_value(self, scale: ScaleSpec, basket: Basket, ctx: Context, gross: bool = False) -> Decimal:
        if scale.base_kind == "expr":
            assert scale.base is not None
            return Decimal(scale.base(ctx))
        indexes = basket.matching(scale.items)
        if scale.base_kind == "quantity":
            return Decimal(sum(basket.lines[i].quantity for i in indexes))
        return sum(((basket.lines[i].gross if gross else basket.lines[i].net) for i in indexes), _ZERO)

    def scale_prior(self, scale: ScaleSpec, customer: CustomerState, at: _dt.datetime) -> Decimal:
        """What a scale with a window counted before this purchase: the customer's
        entries inside the window at `at`. Those left of it are dropped now (a later
        window never reaches back), and the sum is kept between purchases
        (CustomerState.scale_sums), as tier_total keeps the tier's: summing the window
        of a keen trade customer's purchases, twice per purchase, was 29% of the
        general engine's time on a lamps stream."""
        assert scale.window is not None
        entries = customer.scale_entries.get(scale.name)
        if not entries:
            return _ZERO
        sums = customer.scale_sums
        if sums is None:
            sums = customer.scale_sums = {}
        kept, total = self.window_total(entries, sums.get(scale.name), scale.window, at)
        customer.made("scale_entries")[scale.name] = kept
        sums[scale.name] = (kept, len(kept), total)
        return total

    def count_in_window(self, customer: CustomerState, scale: ScaleSpec, value: Decimal, at: _dt.datetime, record: PurchaseRecord) -> None:
        """Keep what a purchase counts toward a scale with a window: for the purchases
        after it (the window pruned at `at` first, its sum kept), and in its record for a
        return to take back."""
        assert scale.window is not None
        record.scale_values[scale.name] = value
        self.scale_prior(scale, customer, at)
        sums = customer.scale_sums
        entries = customer.made("scale_entries").setdefault(scale.name, [])
        if sums is None:  # nothing counted yet: the next purchase sums its window
            add_dated(entries, at, value)
        else:
            known = add_to_window(entries, sums.get(scale.name), at, value)
            if known is not None:
                sums[scale.name] = known

    def scale_lines(self, scale: ScaleSpec, customer: CustomerState, basket: Basket, ctx: Context) -> list[Decimal]:
        value = self.scale_value(scale, basket, ctx)
        prior = self.scale_prior(scale, customer, ctx.at) if scale.window is not None else _ZERO
        indexes = basket.matching(scale.items)
        if scale.marginal:
            if scale.base_kind == "quantity":
                return basket.marginal_units(scale.bands, int(prior) + 1, indexes)
            return basket.allocate(self.round(marginal_amount_discount(scale.bands, prior, prior + value)), indexes)
        rate = rate_in_order(self.scale_steps[scale.name], prior + value)
        if not rate:
            return basket.zeros()
        if scale.base_kind == "quantity":
            return basket.percent_of_lines(rate, indexes)
        return basket.percent_of_order(rate, indexes)

    def next_steps(self, eligible: list[Any], customer: CustomerState, basket: Basket, ctx: Context, out: Outcome) -> None:
        """Tell the customer how far the next step of a scale is ("2,000.00 RUB more
        gets 10% off"), the nudge that makes a threshold work."""
        for scale in eligible:
            if not isinstance(scale, ScaleSpec):
                continue
            value = self.scale_value(scale, basket, ctx, gross=True)
            if value <= 0:  # nothing in this basket counts toward it
                continue
            if scale.window is not None:
                value += self.scale_prior(scale, customer, ctx.at)
            note = self.next_step_note(scale, value)
            if note is not None:
                out.notes.append(note)

    def next_step_note(self, scale: ScaleSpec, value: Decimal) -> str | None:
        """The nudge toward the first step of `scale` that `value` has not reached."""
        for threshold, inclusive, beyond, what in self.step_notes[scale.name]:
            if value >= threshold if inclusive else value > threshold:  # band_reached, written out
                continue
            need = threshold - value + beyond
            if scale.base_kind == "quantity":
                return f"{int(need)} more item{'s' if need != 1 else ''} {what}"
            return f"{format_money(need, self.spec.currency)} more {what}"
        return None

    def _step_notes(self, scale: ScaleSpec) -> list[tuple[Decimal, bool, Decimal, str]]:
        """Per step of `scale`, in order: its edge, whether the edge itself reaches it,
        how far past the edge counts as reaching it (0
        for `from`, one unit or item for `over`) and the note's words after the amount.
        Worked out once: a scale's note is written on every purchase it sees."""
        unit = _ONE if scale.base_kind == "quantity" else self.money_step
        notes = []
        for band in self.scale_steps[scale.name]:
            rate = f"{(band.rate * 100).normalize():f}%"
            what = f"the part above {band.threshold:,} gets {rate} off" if scale.marginal else f"gets {rate} off"
            notes.append((band.threshold, band.inclusive, _ZERO if band.inclusive else unit, f"{what} ({scale.name})"))
        return notes

    def use_coupon(self, customer: CustomerState, name: str) -> None:
        for holding in customer.coupons:
            if holding.name == name:
                if holding.uses_left is not None:
                    holding.uses_left -= 1
                    if holding.uses_left <= 0:
                        customer.coupons.remove(holding)
                return

    # ---- step 3: redemption
    def redeem(self, customer: CustomerState, purchase: Purchase, basket: Basket, ctx: Context, at: _dt.datetime, out: Outcome) -> None:
        def base(wallet: WalletSpec, redeemed: Decimal) -> Decimal:
            ctx.redeemed = redeemed  # `order.paid` in a redeem base sees what is paid so far
            return wallet.redeem_base(ctx) if wallet.redeem_base is not None else basket.total

        ctx.redeemed = self.redeem_points(customer, purchase, basket.total, base, at, out)

    def redeem_points(
        self, customer: CustomerState, purchase: Purchase, total: Decimal, base: Callable[[WalletSpec, Decimal], Decimal], at: _dt.datetime, out: Outcome
    ) -> Decimal:
        """Spend the points the purchase asks to pay with; returns the money they paid.
        `base(wallet, redeemed so far)` is what the wallet's "up to N% of" is taken of
        (a compiled module's purchase path passes its own, over its locals)."""
        redeemed = _ZERO
        for name, requested in purchase.redeem:
            if name == "":
                if len(self.redeemable) != 1:
                    out.notes.append("redeem: say which points to redeem; this program has " + (", ".join(w.name for w in self.redeemable) or "no redeemable points"))
                    continue
                wallet = self.redeemable[0]
            else:
                matches = [w for w in self.spec.wallets if w.name == name]
                if not matches:
                    out.notes.append(f"redeem: no points called {name}")
                    continue
                wallet = matches[0]
                if not wallet.redeemable:
                    out.notes.append(f"redeem: {name} cannot be spent as payment in this program")
                    continue
            assert wallet.worth is not None and wallet.redeem_cap is not None
            ledger = self.ledger(customer, wallet.name)
            spendable, available = ledger.spendable(at)  # ledger.available(at), with its lots
            # "up to 50%" never pays more than half: the cap is rounded down.
            cap_money = min((base(wallet, redeemed) * wallet.redeem_cap).quantize(self.money_step, rounding=ROUND_FLOOR), total - redeemed)
            cap_points = (cap_money / wallet.worth).quantize(self.point_quanta[wallet.name], rounding=ROUND_DOWN) if cap_money > 0 else _ZERO
            wanted = cap_points if requested is None else requested
            points = min(wanted, available, cap_points)
            if requested is not None and points < requested:
                why = f"only {available} available" if available < min(requested, cap_points) else f"at most {cap_points} on this order"
                out.notes.append(f"redeem: asked for {requested} {wallet.name}, used {points} ({why})")
            if points <= 0:
                continue
            ledger.burn_from(spendable, points, at, purchase.id)
            value = self.round(points * wallet.worth)
            redeemed += value
            out.redeemed.append((wallet.name, points, value))
        return redeemed

    # ---- step 4: earning, gifts, stamps
    def multiplier(self, wallet: WalletSpec, customer: CustomerState, ctx: Context, line: Any | None) -> Decimal:
        factors = []
        tiers = self.spec.tiers
        if tiers is not None and customer.tier >= 0:
            factor = tiers.tiers[customer.tier].multiplier
            if factor != _ONE:
                factors.append(factor)
        weekday = ctx.at.weekday()
        clock = ctx.order_time
        for m in wallet.multipliers:
            if m.items is not None and (line is None or not line.matches(m.items)):
                continue
            if m.weekdays and weekday not in m.weekdays:
                continue
            if m.start is not None and clock < m.start:
                continue
            if m.end is not None and clock >= m.end:
                continue
            if m.when is not None and not m.when(ctx):
                continue
            factors.append(m.factor)
        if not factors:
            return _ONE
        if wallet.combine == "best":
            return max(factors)
        result = _ONE
        for factor in factors:
            result *= factor
        return result

    def earn_for_purchase(self, customer: CustomerState, purchase: Purchase, basket: Basket, ctx: Context, first: bool, at: _dt.datetime, out: Outcome) -> None:
        for wallet, per_line, earns in self.purchase_earns:
            if not earns:
                continue
            order_factor = self.multiplier(wallet, customer, ctx, None)
            for earn in earns:
                if earn.kind == "first-purchase" and not first:
                    continue
                if earn.when is not None and not earn.when(ctx):
                    continue
                if earn.kind == "first-purchase":
                    amount = earn.points
                elif earn.kind == "per-visit":
                    amount = earn.points * order_factor
                elif earn.kind == "per-item":
                    amount = _ZERO
                    for line in basket.lines:
                        if line.matches(earn.items):
                            factor = self.multiplier(wallet, customer, ctx, line) if per_line else order_factor
                            amount += earn.points * line.quantity * factor
                else:
                    assert earn.base is not None
                    base = earn.base(ctx)
                    if earn.kind == "per-money":
                        assert earn.per is not None
                        per_unit = earn.points / earn.per
                    else:
                        assert earn.rate is not None and wallet.worth is not None
                        per_unit = earn.rate / wallet.worth
                    total = basket.total
                    if per_line and total > 0:
                        amount = _ZERO
                        for line in basket.lines:
                            amount += base * line.net / total * per_unit * self.multiplier(wallet, customer, ctx, line)
                    else:
                        amount = base * per_unit * order_factor
                self.earn(customer, wallet, amount, at, purchase.id, earn.label, out)

    def give(self, customer: CustomerState, source: Any, event_id: str, at: _dt.datetime, out: Outcome, record: PurchaseRecord) -> None:
        if not isinstance(source, OfferSpec):
            return
        for effect in source.effects:
            if effect.kind == "give-points" and effect.wallet is not None:
                self.earn(customer, self.spec.wallet(effect.wallet), effect.points, at, event_id, source.name, out)
            elif effect.kind == "give-coupon" and effect.coupon is not None:
                self.issue_coupon(customer, effect.coupon, event_id, at, out, record)

    def issue_coupon(self, customer: CustomerState, name: str, event_id: str, at: _dt.datetime, out: Outcome, record: PurchaseRecord | None) -> None:
        coupon = self.sources_by_name[name]
        expires = self.add(at, coupon.valid_for) if coupon.valid_for is not None else None
        customer.made("coupons").append(Holding(name, at, expires, coupon.uses, event_id))
        out.coupons_issued.append(name)
        if record is not None:
            record.coupons.append(name)

    def stamp(self, customer: CustomerState, event_id: str, basket: Basket, ctx: Context, free_units: dict[str, list[int]], at: _dt.datetime, out: Outcome, record: PurchaseRecord) -> None:
        for card_spec in self.cards:
            card = customer.made("cards").setdefault(card_spec.name, CardState())
            if card_spec.when is not None and not card_spec.when(ctx):
                continue
            free = free_units.get(card_spec.name, [0] * len(basket.lines))
            if card_spec.stamp_kind == "item":
                stamped = [line.quantity - free[i] if line.matches(card_spec.items) else 0 for i, line in enumerate(basket.lines)]
                given = sum(stamped) * card_spec.count
            elif card_spec.stamp_kind == "purchase":
                given = card_spec.count if basket.lines else 0
            else:
                assert card_spec.base is not None and card_spec.per is not None
                base = card_spec.base(ctx)
                amount = base + (card.remainder if card_spec.carry_remainder else _ZERO)
                steps = int((amount / card_spec.per).to_integral_value(rounding=ROUND_FLOOR)) if amount > 0 else 0
                if card_spec.carry_remainder:
                    card.remainder = amount - steps * card_spec.per
                given = steps * card_spec.count
            if given <= 0:
                continue  # the record keeps nothing of a card that gave nothing: no return reads it
            if card_spec.stamp_kind == "item":
                record.stamped[card_spec.name] = stamped
            elif card_spec.stamp_kind == "money":
                record.stamp_money[card_spec.name] = base
            card.add_stamps(at, given, event_id)
            record.stamps[card_spec.name] = given
            while card.stamps >= card_spec.size:
                self.reward(customer, card_spec, card, event_id, at, out, record)
                if card_spec.overflow == "reset":
                    card.entries = []
                    break
                self.remove_stamps(card, card_spec.size)
            out.stamps.append((card_spec.name, given, card.stamps))

    def remove_stamps(self, card: CardState, count: int) -> int:
        """Take stamps off the card, oldest first; returns how many were there."""
        removed = 0
        while card.entries and removed < count:
            entry_at, stamps, source = card.entries[0]
            take = min(stamps, count - removed)
            removed += take
            if take == stamps:
                card.entries.pop(0)
            else:
                card.entries[0] = (entry_at, stamps - take, source)
        card.counted_entries = None  # an entry changed in place: counted anew when read
        return removed

    def reward(self, customer: CustomerState, card_spec: StampCardSpec, card: CardState, event_id: str, at: _dt.datetime, out: Outcome, record: PurchaseRecord | None) -> None:
        """A full card's reward. `record` (None: a till tuple's purchase, whose cards
        reward with a free item) keeps a coupon it issues, for a return to withdraw."""
        if card_spec.reward_kind == "free-item":
            card.rewards += 1
            out.notes.append(free_item_waits(card_spec.name))
        elif card_spec.reward_kind == "coupon" and card_spec.reward_coupon is not None:
            self.issue_coupon(customer, card_spec.reward_coupon, event_id, at, out, record)
        elif card_spec.reward_wallet is not None:
            self.earn(customer, self.spec.wallet(card_spec.reward_wallet), card_spec.reward_points, at, event_id, f"stamp card {card_spec.name}", out)

    # ------------------------------------------------------------ refunds
    def refund(self, state: State, customer: CustomerState, refund: Refund, at: _dt.datetime, out: Outcome) -> None:
        record = purchase_record(customer.purchases, refund.purchase_id)
        if record is None:
            out.status = "rejected"
            out.notes.append(f"no purchase {refund.purchase_id} of this customer to refund (or it is past the refund window)")
            return
        if self.add(record.at, self.refund_window) < at:
            out.status = "rejected"
            out.notes.append(f"purchase {refund.purchase_id} is past the refund window")
            return
        value = _ZERO
        if not refund.lines:
            returned = record.return_everything()  # `value` is the total's rest: see `whole` below
        else:
            returned = [0] * len(record.lines)
            wanted: dict[str, int] = {}
            for unit in refund.lines:
                wanted[unit.product] = wanted.get(unit.product, 0) + unit.quantity
            for product, quantity in wanted.items():
                have = sum(ln[1] for ln in record.lines if ln[0] == product)
                if quantity > have:
                    out.status = "rejected"
                    out.notes.append(f"cannot refund {quantity} x {product}: {have} left on purchase {refund.purchase_id}")
                    return
            for product, quantity in wanted.items():
                for index, line in enumerate(record.lines):
                    if line[0] == product and quantity > 0:
                        take = min(quantity, line[1])
                        line[1] -= take
                        quantity -= take
                        returned[index] += take
                        value += take * line[2]
        value = self.round(value)
        whole = not refund.lines or all(ln[1] == 0 for ln in record.lines)
        # Nothing came back this time and nothing is left: returned before. (A purchase
        # that cost nothing, a free item alone, is returned once like any other.)
        if whole and not any(returned) and record.refunded >= record.total:
            out.status = "rejected"
            out.notes.append(f"purchase {refund.purchase_id} was already refunded in full")
            return
        fraction = _ALL if whole or record.total == 0 else Fraction(value) / Fraction(record.total)
        paid_in_money = record.total - record.redeemed
        if whole:
            value = record.total - record.refunded
            money = paid_in_money - record.refunded_money
            # A returned purchase gives back the uses it counted (`once per customer`, code limits).
            for name in record.applied:
                if customer.uses.get(name, 0) > 0:
                    customer.uses[name] -= 1
                if state.code_uses.get(name, 0) > 0:
                    state.code_uses[name] -= 1
        else:
            money = self.round(value * paid_in_money / record.total) if record.total else _ZERO
        record.refunded += value
        record.refunded_money += money
        # Money goes back as money; what was paid with points goes back as points.
        out.refunded = money
        for wallet in self.spec.wallets:
            ledger = customer.wallets.get(wallet.name)
            if ledger is None:
                continue
            floor = None if wallet.allow_negative else _ZERO
            if whole:
                reversal = ledger.reverse(refund.purchase_id, at, floor)
            else:
                already = ledger.sources.get(refund.purchase_id)
                share = fraction if already is None else min(Fraction(1) - already.fraction, fraction)
                reversal = ledger.reverse_partial(refund.purchase_id, share, at, floor, wallet.quantum)
            taken = reversal.removed + reversal.clawed_back
            if taken:
                out.taken_back.append((wallet.name, taken))
            if reversal.restored:
                out.given_back.append((wallet.name, reversal.restored))
            if reversal.shortfall:
                out.notes.append(f"{reversal.shortfall} {wallet.name} earned by this purchase were already spent and could not be taken back")
        # Metrics count the refund at the purchase's own date, so windows stay right.
        customer.spend -= value
        tiers = self.spec.tiers
        if tiers is not None and tiers.metric == "spend":
            add_tier_entry(customer, record.at, -value)
        elif tiers is not None and tiers.metric == "visits" and whole:
            add_tier_entry(customer, record.at, -_ONE)
        elif tiers is not None and tiers.metric == "points" and record.points_metric:
            taken = record.points_metric * Decimal(fraction.numerator) / Decimal(fraction.denominator)
            add_tier_entry(customer, record.at, -taken.quantize(self.metric_step(), rounding=ROUND_CEILING))
        if customer.months:
            self.refund_month(customer, month_key(record.at), value, at, out)
        if tiers is not None and tiers.returns_lower_at_once and not customer.tier_manual:
            # `returns lower the tier at once`: the tier the metric now earns, never higher.
            qualified = self.qualified(self.tier_total(customer, at))
            customer.tier = min(customer.tier, qualified)
        for name, base in record.scale_values.items():
            scale = self.sources_by_name[name]
            if scale.base_kind in ("quantity", "amount"):
                # The units returned that the scale counted, not a share of the money.
                counted = _ZERO
                for index, units in enumerate(returned):
                    if units and scale.items.matches(record.lines[index][0], record.categories[index]):
                        counted += Decimal(units) if scale.base_kind == "quantity" else units * record.lines[index][2]
            else:
                counted = base * Decimal(fraction.numerator) / Decimal(fraction.denominator)
            add_dated(customer.made("scale_entries").setdefault(name, []), record.at, -counted)
        if record.stamps:
            everything = fraction is _ALL or fraction == 1  # `is` first: comparing a Fraction is a Python call
            # The money's share, read by a card counting money on a part returned only.
            share = fraction if everything or not record.total else Fraction(value) / Fraction(record.total)
            for name in list(record.stamps):
                self.refund_stamps(customer, name, record, returned, everything, share, out)
        if whole:
            for name in record.coupons:
                for holding in list(customer.coupons):
                    if holding.name == name and holding.source == refund.purchase_id:
                        customer.coupons.remove(holding)
                        out.notes.append(f"coupon {name} issued by this purchase withdrawn")

    def refund_stamps(self, customer: CustomerState, name: str, record: PurchaseRecord, returned: list[int], whole: bool, share: Fraction, out: Outcome) -> None:
        """Take back the stamps the returned goods earned: per stamped unit returned; per
        purchase only when all of it is; per money, the steps the returned money had
        reached, spending a carried remainder first. Stamps already turned into a
        waiting free item take that item back (and put the card's other stamps back)."""
        card_spec = self.sources_by_name[name]
        card = customer.cards[name]
        if name in record.stamped:
            stamped = record.stamped[name]
            units = 0
            for index, count in enumerate(returned):
                take = min(count, stamped[index])
                stamped[index] -= take
                units += take
            back = units * card_spec.count
        elif name in record.stamp_money:
            assert card_spec.per is not None
            per = card_spec.per
            before = record.stamp_money[name]
            money = min(before, before if whole else Decimal(share.numerator) * before / Decimal(share.denominator))
            record.stamp_money[name] = after = before - money
            if card_spec.carry_remainder:
                if money <= card.remainder:
                    card.remainder -= money
                    steps = 0
                else:
                    over = money - card.remainder
                    steps = int((over / per).to_integral_value(rounding=ROUND_CEILING))
                    card.remainder = steps * per - over
            else:
                steps = int((before / per).to_integral_value(rounding=ROUND_FLOOR)) - int((after / per).to_integral_value(rounding=ROUND_FLOOR))
            back = steps * card_spec.count
        else:
            back = record.stamps[name] if whole else 0
        back = min(back, record.stamps[name])
        record.stamps[name] -= back
        if back <= 0:
            return
        removed = self.remove_stamps(card, back)
        missing = back - removed
        if missing > 0 and card_spec.reward_kind == "free-item" and card.rewards > 0:
            cards_back = min(card.rewards, -(-missing // card_spec.size))
            card.rewards -= cards_back
            restored = cards_back * card_spec.size - missing
            if restored > 0:
                card.add_stamps(record.at, restored, "restored")
                card.lapse_floor = None  # an older entry: it may lapse sooner
            out.notes.append(f"{cards_back} free item{'s' if cards_back != 1 else ''} on {name} taken back")
        out.stamps.append((name, -back, card.stamps))


# ============================================================================
# runtime/persist.py
# Engine state <-> JSON-ready dicts, so a shop keeps each customer's state in its own
# database and the same state loads back into either engine.
# ============================================================================

def _persist_time(value: _dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _persist_parse_time(text: str | None, zone: ZoneInfo) -> _dt.datetime | None:
    return None if text is None else _dt.datetime.fromisoformat(text).astimezone(zone)


def _persist_entries(entries: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    return [[entry[0].isoformat(), str(entry[1]), *entry[2:]] for entry in entries]


def _persist_parse_entries(rows: list[list[Any]], zone: ZoneInfo, number: type = Decimal) -> list[Any]:
    """Entries back as the engine keeps them: tuples (state.py, Dated)."""
    return [(_dt.datetime.fromisoformat(row[0]).astimezone(zone), number(row[1]), *row[2:]) for row in rows]


def _persist_dated(entries: list[Dated]) -> list[Dated]:
    """Windowed entries in time order, as the engine keeps them (a state saved before
    it did may have a return's entry after later ones); equal times keep their order."""
    return sorted(entries, key=lambda entry: entry[0])


def customer_to_json(customer: CustomerState) -> dict[str, Any]:
    return {
        "id": customer.id,
        "signed_up": _persist_time(customer.signed_up),
        "birth_date": None if customer.birth_date is None else customer.birth_date.isoformat(),
        "birthday_year": customer.birthday_year,
        "orders": customer.orders,
        "spend": str(customer.spend),
        "last_visit": _persist_time(customer.last_visit),
        "last_event_at": _persist_time(customer.last_event_at),
        "seen": {key: value.isoformat() for key, value in customer.seen.items()},
        "wallets": {name: ledger.to_json() for name, ledger in customer.wallets.items()},
        "tier": customer.tier,
        "tier_manual": customer.tier_manual,
        "reviewed_at": _persist_time(customer.reviewed_at),
        "demoted_steps": customer.demoted_steps,
        "tier_entries": _persist_entries(customer.tier_entries),
        "months": {key: str(value) for key, value in customer.months.items()},
        "credited_through": customer.credited_through,
        "scale_entries": {name: _persist_entries(rows) for name, rows in customer.scale_entries.items()},
        "cards": {
            name: {"entries": _persist_entries(card.entries), "remainder": str(card.remainder), "rewards": card.rewards}
            for name, card in customer.cards.items()
        },
        "coupons": [
            [h.name, h.issued_at.isoformat(), _persist_time(h.expires_at), h.uses_left, h.source] for h in customer.coupons
        ],
        "uses": dict(customer.uses),
        "purchases": {
            pid: {
                "at": rec.at.isoformat(),
                "lines": [[product, units, str(price)] for product, units, price in rec.lines],
                "total": str(rec.total),
                "refunded": str(rec.refunded),
                "redeemed": str(rec.redeemed),
                "refunded_money": str(rec.refunded_money),
                "applied": list(rec.applied),
                "categories": list(rec.categories),
                "stamped": {k: list(v) for k, v in rec.stamped.items()},
                "stamp_money": {k: str(v) for k, v in rec.stamp_money.items()},
                "stamps": dict(rec.stamps),
                "coupons": list(rec.coupons),
                "scale_values": {k: str(v) for k, v in rec.scale_values.items()},
                "points_metric": str(rec.points_metric),
            }
            for pid, rec in ((pid, as_record(kept)) for pid, kept in customer.purchases.items())
        },
    }


def customer_from_json(data: dict[str, Any], zone: ZoneInfo) -> CustomerState:
    purchases: dict[str, PurchaseRecord | TillRecord] = {}
    for pid, rec in data["purchases"].items():
        record = purchases[pid] = PurchaseRecord(
            at=_dt.datetime.fromisoformat(rec["at"]).astimezone(zone),
            total=Decimal(rec["total"]),
            redeemed=Decimal(rec["redeemed"]),
            applied=tuple(rec["applied"]),
        )
        record.lines = [[product, units, Decimal(price)] for product, units, price in rec["lines"]]
        record.categories = list(rec["categories"])
        record.refunded = Decimal(rec["refunded"])
        record.refunded_money = Decimal(rec["refunded_money"])
        record.points_metric = Decimal(rec["points_metric"])
        record.stamped = {k: list(v) for k, v in rec["stamped"].items()}
        record.stamp_money = {k: Decimal(v) for k, v in rec["stamp_money"].items()}
        record.stamps = dict(rec["stamps"])
        record.coupons = list(rec["coupons"])
        record.scale_values = {k: Decimal(v) for k, v in rec["scale_values"].items()}
    birth = data["birth_date"]
    customer = CustomerState(
        id=data["id"],
        signed_up=_persist_parse_time(data["signed_up"], zone),
        birth_date=None if birth is None else _dt.date.fromisoformat(birth),
        birthday_year=data["birthday_year"],
        orders=data["orders"],
        spend=Decimal(data["spend"]),
        last_visit=_persist_parse_time(data["last_visit"], zone),
        last_event_at=_persist_parse_time(data["last_event_at"], zone),
        tier=data["tier"],
        tier_manual=data["tier_manual"],
        reviewed_at=_persist_parse_time(data["reviewed_at"], zone),
        demoted_steps=data["demoted_steps"],
        credited_through=data["credited_through"],
        purchases=purchases,
    )
    # Only the containers the saved customer has are its own; the others stay the
    # shared empty ones, as for a new customer.
    if data["seen"]:
        customer.seen = {key: _dt.datetime.fromisoformat(value).astimezone(zone) for key, value in data["seen"].items()}
    if data["wallets"]:
        customer.wallets = {name: Ledger.from_json(ledger) for name, ledger in data["wallets"].items()}
    if data["tier_entries"]:
        customer.tier_entries = _persist_dated(_persist_parse_entries(data["tier_entries"], zone))
    if data["months"]:
        customer.months = {key: Decimal(value) for key, value in data["months"].items()}
    if data["scale_entries"]:
        customer.scale_entries = {name: _persist_dated(_persist_parse_entries(rows, zone)) for name, rows in data["scale_entries"].items()}
    if data["cards"]:
        customer.cards = {
            name: CardState(_persist_parse_entries(card["entries"], zone, int), Decimal(card["remainder"]), card["rewards"])
            for name, card in data["cards"].items()
        }
    if data["coupons"]:
        customer.coupons = [
            Holding(name, _dt.datetime.fromisoformat(issued).astimezone(zone), _persist_parse_time(expires, zone), uses, source)
            for name, issued, expires, uses, source in data["coupons"]
        ]
    if data["uses"]:
        customer.uses = dict(data["uses"])
    return customer


def state_to_json(state: State) -> dict[str, Any]:
    return {
        "customers": {cid: customer_to_json(c) for cid, c in sorted(state.customers.items())},
        "code_uses": dict(sorted(state.code_uses.items())),
    }


def state_from_json(data: dict[str, Any], zone: ZoneInfo) -> State:
    return State(
        customers={cid: customer_from_json(c, zone) for cid, c in data["customers"].items()},
        code_uses=dict(data["code_uses"]),
    )


# ============================================================================
# runtime/dicts.py
# Plain dicts -> event records, for shops that call a compiled module with data from
# their own systems (the same shape as a line of a JSON Lines events file).
# ============================================================================

def _dicts_text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, (str, int)) or isinstance(value, bool) or value == "":
        raise ValueError(f"event field {key!r} must be a non-empty string, got {value!r}")
    return str(value)


def _dicts_decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, float):
        raise ValueError(f"{what} must be a string or a Decimal, not a float ({value!r}): floats lose cents")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{what} is not a number: {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{what} must be a finite amount of at least 0, got {value!r}")
    return number


def _dicts_time(value: Any, zone: ZoneInfo) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = _dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"time {value!r} is not ISO 8601, such as 2026-03-01T10:00:00+03:00") from None
    else:
        raise ValueError(f"time must be an ISO 8601 string or a datetime, got {value!r}")
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def _dicts_quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"quantity must be a whole number, got {value!r}")
    try:
        quantity = int(value)
    except ValueError:
        raise ValueError(f"quantity must be a whole number, got {value!r}") from None
    if quantity < 1:
        raise ValueError(f"quantity must be at least 1, got {value!r}")
    return quantity


def event_from_dict(data: Mapping[str, Any], zone: ZoneInfo) -> Event:
    """One event from a dict such as {"type": "purchase", "id": ..., "lines": [...]}."""
    kind = data.get("type", "purchase")
    event_id = _dicts_text(data, "id")
    customer = _dicts_text(data, "customer")
    at = _dicts_time(data.get("time"), zone)
    if kind == "purchase":
        lines = data.get("lines")
        if not isinstance(lines, list) or not lines:
            raise ValueError("a purchase needs a non-empty list of lines")
        parsed = tuple(
            PurchaseLine(
                _dicts_text(line, "product"),
                str(line.get("category", "")),
                _dicts_quantity(line.get("quantity")),
                _dicts_decimal(line.get("unit_price"), "unit_price"),
            )
            for line in lines
        )
        codes = data.get("codes", ())
        if isinstance(codes, str):
            codes = (codes,)
        redeem_raw = data.get("redeem", {})
        if not isinstance(redeem_raw, Mapping):
            redeem_raw = {"": redeem_raw}
        redeem = tuple(
            sorted((str(name), None if amount == "max" else _dicts_decimal(amount, f"redeem {name}")) for name, amount in redeem_raw.items())
        )
        return Purchase(event_id, customer, at, parsed, tuple(str(c) for c in codes), redeem)
    if kind == "refund":
        units = tuple(RefundLine(_dicts_text(line, "product"), _dicts_quantity(line.get("quantity"))) for line in data.get("lines", ()))
        return Refund(event_id, customer, at, _dicts_text(data, "purchase"), units)
    if kind in ("signup", "birthday", "tier", "action"):
        birth = data.get("birth_date")
        return CustomerEvent(
            event_id,
            customer,
            at,
            kind,
            birth_date=None if birth is None else _dt.date.fromisoformat(str(birth)),
            tier=None if data.get("tier") is None else str(data["tier"]),
            action=None if data.get("action") is None else str(data["action"]),
        )
    raise ValueError(f"unknown event type {kind!r}: purchase, refund, signup, birthday, tier or action")


# ============================================================================
# runtime/program.py
# The API a shop calls: one class around the engine, with state that is plain JSON.
# ============================================================================

PurchasePath = Callable[[Engine, State, Purchase], Outcome | None]


class CompiledProgram:
    """`process(state, event)` applies one event and says what happened.

    `state` holds every customer the program has seen; keep it between calls, or save
    it with `state_to_json` (one dict per customer under "customers") and load it back
    with `state_from_json`. Events are the records of this module (Purchase, Refund,
    CustomerEvent) or dicts in the JSON Lines shape.
    """

    def __init__(self, spec: ProgramSpec, purchase_path: PurchasePath | None = None) -> None:
        self.spec = spec
        self.engine = Engine(spec)
        # A compiled module's purchase path specialised to its program, if it has one
        # (codegen/specialize.py): it returns None for purchases it leaves to the engine.
        self.purchase_path = purchase_path

    def new_state(self) -> State:
        return self.engine.new_state()

    def process(self, state: State, event: Event | Mapping[str, Any]) -> Outcome:
        # By class name, as event_kind does: loyaldsl's own records are welcome too
        # (this module's own are checked first: one identity test on every purchase).
        kind = type(event)
        if kind is Purchase or kind.__name__ == "Purchase":
            path = self.purchase_path
            if path is not None:
                out = path(self.engine, state, event)  # type: ignore[arg-type]  # a Purchase (typing.cast is a call)
                if out is not None:
                    return out
            return self.engine.process(state, event)  # type: ignore[arg-type]
        if kind is Refund:  # before the Mapping test, which asks the ABC
            return self.engine.process(state, event)  # type: ignore[arg-type]
        if isinstance(event, Mapping):
            return self.process(state, event_from_dict(event, self.engine.zone))
        return self.engine.process(state, event)

    def report(self, state: State, customer: str, as_of: _dt.datetime) -> CustomerReport:
        return self.engine.report(state, customer, as_of)

    def state_to_json(self, state: State) -> dict[str, Any]:
        return state_to_json(state)

    def state_from_json(self, data: Mapping[str, Any]) -> State:
        return state_from_json(dict(data), self.engine.zone)


# ============================================================================
# The program: its constants, conditions and amounts, then its spec.
# ============================================================================

D_0_05 = Decimal('0.05')
D_0_1 = Decimal('0.1')
D_0_2 = Decimal('0.2')
D_100 = Decimal('100')
D_200 = Decimal('200')
D_300 = Decimal('300')



SPEC = ProgramSpec(
    name='Lamps trade price list',
    version='1.0',
    source_hash='480c64589647c302f5cbdad669cd8a36f21f0d5bd931a5dbc023337492d20bbc',
    currency='GBP',
    rounding='half-even',
    timezone='Europe/London',
    sources=(
        ScaleSpec(
            name='lamp_brackets',
            base_kind='quantity',
            items=ItemFilterSpec(
                kind='category',
                names=frozenset({'lamps'}),
            ),
            window=WindowSpec(
                kind='calendar-year',
            ),
            marginal=True,
            bands=(
                Band(
                    threshold=D_100,
                    inclusive=False,
                    rate=D_0_05,
                ),
                Band(
                    threshold=D_200,
                    inclusive=False,
                    rate=D_0_1,
                ),
                Band(
                    threshold=D_300,
                    inclusive=False,
                    rate=D_0_2,
                ),
            ),
        ),
    ),
    refund_window=DurationSpec(
        amount=30,
        unit='days',
    ),
)


QUANTUM = Decimal('0.01')
# Engine.round written out for the lines' nets (a call per line costs more): the
# program's rounding to the minor unit, and zero never negative.
MONEY_MODE = _currency_mode(SPEC.rounding)
MONEY_ZERO = _ZERO.quantize(QUANTUM)
SCALE_1 = SPEC.sources[0]
SCALE_1_STEPS = bands_in_order(SCALE_1.bands)


def purchase_path(engine: Engine, state: State, event: Purchase) -> Outcome | None:
    """A purchase of this program, with only the steps the program has, on the engine's
    own records and with its results (tests/codegen holds the two equal). None, with
    nothing changed, hands the purchase to the general engine: redemptions, repeated
    deliveries, events out of time order, a customer with a birthday or coupons on
    file."""
    if event.redeem:
        return None
    at = event.at
    if at.tzinfo is not engine.zone:
        at = at.astimezone(engine.zone)
    customers = state.customers
    customer = customers.get(event.customer)
    if customer is None:
        customer = customers[event.customer] = CustomerState(event.customer)
    elif event.id in customer.seen or event.id in customer.purchases or customer.birth_date is not None or customer.coupons or (customer.last_event_at is not None and at < customer.last_event_at):
        return None
    out = Outcome(event.id, event.customer, "purchase", at)
    # The lists this path fills on most purchases, made now: cheaper than Outcome's
    # make-on-first-use.
    out.discounts = []
    out.applied = []
    out.notes = []

    # Time has passed since the customer's last event: Engine.settle's steps that this
    # program has (a customer with a birthday or coupons went back to the engine above),
    # each called only when its own first test says it has something to do.
    due = customer.forget_due  # Engine.forget's own first test
    if due is None or at > due:
        if customer.seen:  # ids of other events to drop too: the engine's own forget
            engine.forget(customer, at)
        else:
            # Engine.forget for a customer with refund records only, written out: on most
            # purchases of a customer who buys every few weeks, the call cost more than
            # dropping the one record that is due.
            keep = engine.keep_records
            horizon = at - keep
            purchases = customer.purchases
            kept_at = at  # when the oldest record kept was made; else the next one is made at `at` or later
            last = customer.last_event_at  # every record is dated at or before it
            if last is not None and last < horizon:  # every record is past the refund window
                purchases.clear()
            else:
                while purchases:  # oldest first: drop from the front until one is kept
                    oldest = next(iter(purchases))
                    record = purchases[oldest]
                    made = record[0] if isinstance(record, tuple) else record.at  # state.purchase_time, in place
                    if made >= horizon:
                        kept_at = made
                        break
                    del purchases[oldest]
            customer.forget_due = kept_at + keep

    # The basket: each line's net, rounded once, then lowered by each discount.
    lines = event.lines
    round_money = engine.round
    quantities = [line.quantity for line in lines]
    nets = [(line.unit_price * line.quantity).quantize(QUANTUM, MONEY_MODE) or MONEY_ZERO for line in lines]
    subtotal = total = sum(nets, _ZERO)
    redeemed = _ZERO
    out.subtotal = subtotal
    lines_1 = [i for i, line in enumerate(lines) if line.category == 'lamps']
    if event.codes:  # none is this program's: each is refused
        engine.read_codes(event.codes, out)

    # What applies, decided on the basket as entered.
    applies_1 = True

    # Discounts, in program order.
    # A tuple, as the record keeps it: `() + (name,)` is the constant itself, no new object.
    applied_offers: tuple[str, ...] = ()
    nets_lowered = False  # the record keeps the nets only if a discount took from the lines
    if applies_1:
        prior_1 = engine.scale_prior(SCALE_1, customer, at)  # what its window holds already (read here, as the engine does)
        taken = take_off(nets, marginal_units(SCALE_1.bands, int(prior_1) + 1, nets, quantities, lines_1, round_money))
        nets_lowered = True
        total -= taken
        if taken > 0:
            out.discounts.append(('lamp_brackets', taken))
        out.applied.append('lamp_brackets')
    out.total = total
    if applies_1:  # how far the next step of lamp_brackets is
        value = Decimal(sum(quantities[i] for i in lines_1))
        if value > 0:
            note = engine.next_step_note(SCALE_1, value + engine.scale_prior(SCALE_1, customer, at))
            if note is not None:
                out.notes.append(note)
    out.paid = total  # no points to pay with: `redeemed` stays zero

    # Kept for a return: the lines as sold, and their nets only if a discount took
    # from them (else worked out again when read, as is the deferred discount's spread).
    record = PurchaseRecord(
        at,
        total,
        lines,
        nets if nets_lowered else None,
        _ZERO,
        None,
        engine.pricing,
        redeemed,
        applied_offers,
    )

    # What this purchase counts toward each scale with a window, as the engine keeps it.
    engine.count_in_window(customer, SCALE_1, Decimal(sum(quantities[i] for i in lines_1)), at, record)

    customer.purchases[event.id] = record
    customer.orders += 1
    customer.spend += total
    customer.last_visit = at
    customer.last_event_at = at  # the record kept stands for the event's id (Engine.process)
    return out


class Program(CompiledProgram):
    """Lamps trade price list (version 1.0)."""

    name = PROGRAM_NAME
    version = PROGRAM_VERSION
    source_hash = SOURCE_HASH

    def __init__(self) -> None:
        super().__init__(SPEC, purchase_path)

    def process(self, state: State, event: Event | Mapping[str, Any]) -> Outcome:
        # This module's own purchase records go straight to the purchase path, and one it
        # hands back straight to the engine (CompiledProgram.process first asks which
        # path there is, on every purchase).
        if type(event) is Purchase:
            out = purchase_path(self.engine, state, event)
            return out if out is not None else self.engine.process(state, event)
        return super().process(state, event)
