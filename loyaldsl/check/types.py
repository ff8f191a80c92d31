"""The types of .loyal values. Units are part of the type, so money of two currencies,
points of two wallets, percents and counts never mix by accident."""

from __future__ import annotations

import attrs


@attrs.frozen
class Type:
    kind: str  # money points percent number duration date time weekday tier bool
    # currency code for money (None: the program's currency is unknown), wallet name
    # for points, what is counted for a count (None: a bare number, any count)
    unit: str | None = None

    def __str__(self) -> str:
        label = _LABELS.get(self.kind, self.kind)
        return f"{label}[{self.unit}]" if self.unit else label


_LABELS = {
    "money": "Money",
    "points": "Points",
    "percent": "Percent",
    "number": "Count",
    "duration": "Duration",
    "date": "Date",
    "time": "Time",
    "weekday": "Weekday",
    "tier": "Tier",
    "bool": "Bool",
}

NUMBER = Type("number")
PERCENT = Type("percent")
DURATION = Type("duration")
DATE = Type("date")
TIME = Type("time")
WEEKDAY = Type("weekday")
TIER = Type("tier")
BOOL = Type("bool")
UNKNOWN = Type("unknown")  # after an error, so one mistake is reported once


def money(currency: str) -> Type:
    return Type("money", currency)


def points(name: str) -> Type:
    return Type("points", name)


def count(unit: str | None) -> Type:
    """A count of something: `Count[items]`; `count(None)` is a bare number."""
    return Type("number", COUNT_UNITS[unit] if unit is not None else None)


def compatible(left: Type, right: Type) -> bool:
    """Whether two values may be compared or added. A unit of None is a wildcard for
    money (the program's currency is unknown after an error) and counts (a bare number
    goes with a count of anything); tiers compare with tiers."""
    if UNKNOWN in (left, right):
        return True
    if left.kind != right.kind:
        return False
    if left.kind == "tier" or left.unit == right.unit:
        return True
    return left.kind in ("money", "number") and (left.unit is None or right.unit is None)


def join(left: Type, right: Type) -> Type:
    """The type of `left + right` for compatible types: the one with a unit."""
    return left if left.unit is not None else right


DURATION_UNITS = {
    "day": "days",
    "days": "days",
    "week": "weeks",
    "weeks": "weeks",
    "month": "months",
    "months": "months",
    "year": "years",
    "years": "years",
}

# What a count may count, singular and plural, to the unit of its type.
COUNT_UNITS = {
    "item": "items",
    "items": "items",
    "visit": "visits",
    "visits": "visits",
    "stamp": "stamps",
    "stamps": "stamps",
    "order": "orders",
    "orders": "orders",
}

# Units of time the language does not have, so a hint can name the ones it has.
CLOCK_UNITS = {"hour", "hours", "h", "hr", "hrs", "minute", "minutes", "min", "mins", "second", "seconds", "sec", "secs", "s"}

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

ORDERED_KINDS = {"money", "points", "percent", "number", "duration", "date", "time", "tier"}
