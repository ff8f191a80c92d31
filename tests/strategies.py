"""Hypothesis strategies shared by the property, persistence and differential tests:
purchase streams in time order across month and year ends, with refunds of earlier
purchases, duplicated events, customer events, codes and redemptions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from loyaldsl.runtime.model import CustomerEvent, Purchase, PurchaseLine, Refund

START = dt.datetime(2025, 11, 20, 9, 0)
MOSCOW = ZoneInfo("Europe/Moscow")


@st.composite
def event_streams(
    draw: st.DrawFn,
    categories: tuple[str, ...],
    codes: tuple[str, ...] = (),
    zone: ZoneInfo = MOSCOW,
    customers: tuple[str, ...] = ("anna", "boris", "chen"),
    max_events: int = 25,
    tiers: tuple[str, ...] = (),
    extras: bool = True,
) -> list:
    """Purchases, returns (whole and partial) and repeated deliveries of a few customers
    over months; with `extras`, also codes (known and not), redemptions and customer
    events (signup, birthday, tier)."""
    events: list = []
    at = START.replace(tzinfo=zone)
    purchases: list[Purchase] = []
    for index in range(draw(st.integers(1, max_events))):
        at = at + dt.timedelta(hours=draw(st.integers(1, 24 * 40)))
        customer = draw(st.sampled_from(customers))
        kinds = ["purchase"] * 6 + ["refund", "partial", "duplicate"] + (["signup", "birthday"] if extras else []) + (["tier"] if tiers and extras else [])
        kind = draw(st.sampled_from(kinds))
        if kind in ("refund", "partial") and purchases:
            original = draw(st.sampled_from(purchases))
            units = ()
            if kind == "partial":
                line = draw(st.sampled_from(original.lines))
                from loyaldsl.runtime.model import RefundLine

                units = (RefundLine(line.product, draw(st.integers(1, line.quantity))),)
            events.append(Refund(f"r{index}", original.customer, at, original.id, units))
            continue
        if kind == "duplicate" and events:
            events.append(events[-1])
            continue
        if kind in ("signup", "birthday"):
            events.append(CustomerEvent(f"c{index}", customer, at, kind, birth_date=dt.date(1990, at.month, 1)))
            continue
        if kind == "tier":
            events.append(CustomerEvent(f"t{index}", customer, at, "tier", tier=draw(st.sampled_from(tiers))))
            continue
        lines = tuple(
            PurchaseLine(
                f"sku{draw(st.integers(1, 5))}",
                draw(st.sampled_from(categories)),
                draw(st.integers(1, 4)),
                Decimal(draw(st.integers(1, 3_000_000))) / 100,
            )
            for _ in range(draw(st.integers(1, 4)))
        )
        entered = tuple(draw(st.lists(st.sampled_from([*codes, *(c.lower() for c in codes), "NOPE"]), max_size=2))) if extras else ()
        redeem = (("", None),) if extras and draw(st.booleans()) else ()
        purchase = Purchase(f"p{index}", customer, at, lines, entered, redeem)
        purchases.append(purchase)
        events.append(purchase)
    return events
