"""What a customer keeps for months (tier and scale window entries, stamps, the offers a
purchase record counted) is made of tuples of plain values, in both engines and after a
save and load: Python's garbage collector stops tracking such a tuple after one
collection, where it would walk every list again at each full collection for as long
as the customer keeps it (state.py, Dated)."""

from __future__ import annotations

import datetime as dt
import gc
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
from loyaldsl.runtime.state import as_record

PROGRAMS = Path(__file__).resolve().parents[2] / "programs"

# Per program: its zone and lines that reach its tiers, scale windows, cards and rules.
STORIES = {
    "capsboutique": ("Europe/Moscow", [("arabica", "beans", 2, "900"), ("delonghi", "machines", 1, "25000")]),
    "lensmaster": ("Europe/Moscow", [("acuvue-oasys", "lenses", 3, "1780")]),
    "lamps": ("Europe/London", [("led-e27-10pk", "lamps", 120, "10")]),
}


def kept_entries(state: Any) -> list[tuple[str, Any]]:
    """Every long-kept entry of every customer, named for the failure message."""
    found: list[tuple[str, Any]] = []
    for customer in state.customers.values():
        found += [("tier entry", entry) for entry in customer.tier_entries]
        for name, entries in customer.scale_entries.items():
            found += [(f"scale {name} entry", entry) for entry in entries]
        for name, card in customer.cards.items():
            found += [(f"card {name} entry", entry) for entry in card.entries]
        found += [(f"offers applied by {event}", as_record(record).applied) for event, record in customer.purchases.items()]
    return found


@pytest.mark.parametrize("name", sorted(STORIES))
@pytest.mark.parametrize("engine_kind", ["interpreter", "compiled"])
def test_long_kept_entries_are_untracked_tuples(name: str, engine_kind: str) -> None:
    checked = check_file(PROGRAMS / f"{name}.loyal")
    assert checked.ok
    engine = interpreter(checked) if engine_kind == "interpreter" else load_compiled(checked)
    zone_name, lines = STORIES[name]
    zone = ZoneInfo(zone_name)
    state = engine.new_state()
    start = dt.datetime(2026, 3, 2, 12, tzinfo=zone)
    basket = tuple(PurchaseLine(product, category, quantity, Decimal(price)) for product, category, quantity, price in lines)
    for day in range(8):
        engine.process(state, Purchase(f"p{day}", "ann", start + dt.timedelta(days=day), basket))
    engine.process(state, Refund("r1", "ann", start + dt.timedelta(days=9), "p2"))  # a return dated back into the windows
    for current in (state, state_from_json(state_to_json(state), zone)):
        entries = kept_entries(current)
        assert entries, "the story reaches none of the program's kept entries"
        gc.collect()
        for what, entry in entries:
            assert type(entry) is tuple, f"{what} is a {type(entry).__name__}: {entry!r}"
            assert not gc.is_tracked(entry), f"{what} is still tracked after a collection: {entry!r}"
