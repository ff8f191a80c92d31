"""Typed events: the input every engine (interpreter or compiled module) consumes.

Stdlib only: this module is copied into generated modules, so shops can build events
from their own data without installing loyaldsl.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from decimal import Decimal


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


__all__ = [
    "PurchaseLine",
    "Purchase",
    "RefundLine",
    "Refund",
    "CustomerEvent",
    "Event",
    "EVENT_KINDS",
    "CUSTOMER_EVENT_KINDS",
    "event_kind",
]
