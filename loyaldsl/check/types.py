"""The types of .loyal values. Units are part of the type, so money of two currencies,
points of two wallets, percents and counts never mix by accident."""

from __future__ import annotations

import attrs


@attrs.frozen
class Type:
    kind: str  # money points percent number duration date time weekday tier bool
    unit: str | None = None  # currency code for money, wallet name for points

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

COUNT_UNITS = {"item", "items", "visit", "visits", "stamp", "stamps", "order", "orders"}

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

ORDERED_KINDS = {"money", "points", "percent", "number", "duration", "date", "time", "tier"}
