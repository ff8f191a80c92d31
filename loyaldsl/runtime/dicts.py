"""Plain dicts -> event records, for shops that call a compiled module with data from
their own systems (the same shape as a line of a JSON Lines events file).

Stdlib only. Less forgiving than loyaldsl/events.py, which reports every problem of a
file for a person; this raises one ValueError naming the field, for a program.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from .model import CustomerEvent, Event, Purchase, PurchaseLine, Refund, RefundLine


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
