"""A customer holds a container of its own only for what its program fills: the others
(points, tiers, months, scales, cards, coupons, uses) are one shared, read-only empty
container until a write makes the customer its own (CustomerState.made), in both
engines and after a save and load. A thresholds customer then carries two containers,
not nine, and a write that forgets `made` fails instead of reaching every customer."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.check import check_file
from loyaldsl.codegen.loader import load_compiled
from loyaldsl.interpret import interpreter
from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund
from loyaldsl.runtime.persist import state_from_json, state_to_json
from loyaldsl.runtime.state import CustomerState

PROGRAMS = Path(__file__).resolve().parents[2] / "programs"
CONTAINERS = ("seen", "wallets", "tier_entries", "months", "scale_entries", "cards", "coupons", "uses")

# Per program: its zone, a basket that reaches what it fills, and the containers its
# customers own after the story below (`seen` for the return's id: a purchase's record
# stands for its own).
STORIES = {
    "thresholds": ("Europe/Moscow", [("fridge", "appliances", 1, "12000")], {"seen"}),
    "lensmaster": ("Europe/Moscow", [("acuvue-oasys", "lenses", 3, "1780")], {"seen", "cards"}),
    "capsboutique": ("Europe/Moscow", [("arabica", "beans", 2, "900")], {"seen", "wallets", "tier_entries"}),
}


def owned(customer: CustomerState) -> set[str]:
    nobody = type(customer)("nobody")  # a compiled module has its own copy of the runtime
    return {name for name in CONTAINERS if getattr(customer, name) is not getattr(nobody, name)}


@pytest.mark.parametrize("name", sorted(STORIES))
@pytest.mark.parametrize("engine_kind", ["interpreter", "compiled"])
def test_a_customer_owns_only_the_containers_its_program_fills(name: str, engine_kind: str) -> None:
    checked = check_file(PROGRAMS / f"{name}.loyal")
    assert checked.ok
    engine: Any = interpreter(checked) if engine_kind == "interpreter" else load_compiled(checked)
    zone_name, lines, expected = STORIES[name]
    zone = ZoneInfo(zone_name)
    state = engine.new_state()
    start = dt.datetime(2026, 3, 2, 12, tzinfo=zone)
    basket = tuple(PurchaseLine(product, category, quantity, Decimal(price)) for product, category, quantity, price in lines)
    for day in range(3):
        engine.process(state, Purchase(f"p{day}", "ann", start + dt.timedelta(days=day), basket))
    engine.process(state, Refund("r1", "ann", start + dt.timedelta(days=4), "p1"))
    loaded = state_from_json(state_to_json(state), zone)
    assert state_to_json(loaded) == state_to_json(state)
    for current in (state, loaded, copy.deepcopy(state)):
        assert owned(current.customers["ann"]) == expected
    # A report settles a copy: the customer's shared containers stay shared.
    engine.report(state, "ann", start + dt.timedelta(days=400))
    assert owned(state.customers["ann"]) == expected


def test_the_shared_empty_containers_refuse_writes() -> None:
    ann, bob = CustomerState("ann"), CustomerState("bob")
    assert ann.cards == {} and ann.coupons == [] and ann == CustomerState("ann")
    with pytest.raises(TypeError, match="made"):
        ann.cards["lenses"] = None  # type: ignore[assignment]
    with pytest.raises(TypeError, match="made"):
        ann.coupons.append(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="made"):
        ann.scale_entries.setdefault("volume", [])
    with pytest.raises(TypeError, match="made"):
        ann.tier_entries += [(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), Decimal(1))]
    ann.made("uses")["welcome"] = 1
    ann.made("tier_entries").append((dt.datetime(2026, 1, 1, tzinfo=dt.UTC), Decimal(1)))
    assert ann.uses == {"welcome": 1} and len(ann.tier_entries) == 1
    assert bob.uses == {} and bob.tier_entries == [] and owned(bob) == set()
    assert ann.made("uses") is ann.uses  # made once, then the customer's own


@pytest.mark.parametrize("engine_kind", ["interpreter", "compiled"])
def test_purchases_alone_keep_no_seen_ids_and_replays_are_still_caught(engine_kind: str) -> None:
    checked = check_file(PROGRAMS / "thresholds.loyal")
    engine: Any = interpreter(checked) if engine_kind == "interpreter" else load_compiled(checked)
    zone = ZoneInfo("Europe/Moscow")
    state = engine.new_state()
    start = dt.datetime(2026, 3, 2, 12, tzinfo=zone)
    basket = (PurchaseLine("fridge", "appliances", 1, Decimal("12000")),)
    # Forty days apart: each purchase also forgets the ones past their window.
    for day in (0, 1, 40, 41, 90):
        engine.process(state, Purchase(f"p{day}", "ann", start + dt.timedelta(days=day), basket))
    ann = state.customers["ann"]
    assert owned(ann) == set() and list(ann.purchases) == ["p90"]
    assert engine.process(state, Purchase("p90", "ann", start + dt.timedelta(days=90), basket)).status == "replay"
    assert owned(ann) == set()
