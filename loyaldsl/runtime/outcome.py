"""What processing one event did, as plain data: printed as a table, dumped as JSON,
compared between the interpreter and a compiled module."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .lazy import made_on_first_use

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
