"""A scale window's running sum (CustomerState.scale_sums, Engine.scale_prior): kept
between purchases instead of summing the window on every purchase, it must always be
what summing the customer's entries in the window gives, whatever the window, with
returns dated back into it, entries leaving it, and states saved and loaded in
between; and the compiled path, which calls the same methods, must agree."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from loyaldsl.check import check_source
from loyaldsl.codegen.loader import load_compiled
from loyaldsl.interpret import interpreter
from loyaldsl.runtime.engine import entries_total
from loyaldsl.runtime.persist import state_from_json, state_to_json
from tests.runtime.test_tier_sum import START, steps

MSK = ZoneInfo("Europe/Moscow")
WINDOWS = ["rolling 10 days", "rolling 2 months", "calendar month", "calendar year", "lifetime"]


def program(window: str, base: str, mode: str) -> str:
    return (
        'program "p"\n  currency RUB\n  timezone "Europe/Moscow"\n  categories food\n\n'
        f"scale volume on {base} of items in category [food] over {window}, {mode}\n"
        + ("  over 5: 5%\n  over 12: 10%\n" if base == "quantity" else "  over 3000 RUB: 5%\n  over 9000 RUB: 10%\n")
    )


def window_sum(engine, customer, scale, at) -> Decimal:
    """The window summed the long way: every entry the customer holds from its start."""
    start = engine.window_start(scale.window, at)
    return sum((e[1] for e in customer.scale_entries.get(scale.name, []) if start is None or e[0] >= start), Decimal(0))


@given(window=st.sampled_from(WINDOWS), base=st.sampled_from(["quantity", "amount"]), mode=st.sampled_from(["whole amount", "each part"]), plan=steps)
def test_the_scale_window_sum_is_the_sum_of_its_entries_in_both_engines(window: str, base: str, mode: str, plan: list[tuple[str, int, int]]):
    checked = check_source(program(window, base, mode), "p.loyal")
    assert checked.ok, [d.message for d in checked.errors]
    engines = [interpreter(checked), load_compiled(checked)]
    module = sys.modules[type(engines[1]).__module__]
    states = [engine.new_state() for engine in engines]
    at, bought = START, []
    for number, (kind, hours, value) in enumerate(plan):
        at += dt.timedelta(hours=hours)
        for index, engine in enumerate(engines):
            if kind == "buy":
                line = module.PurchaseLine("bun", "food", 1 + value % 7, Decimal(value))
                engine.process(states[index], module.Purchase(f"p{number}", "ann", at, (line,)))
            elif kind == "return" and bought:
                engine.process(states[index], module.Refund(f"r{number}", "ann", at, bought[value % len(bought)]))
            elif kind == "save":
                states[index] = state_from_json(json.loads(json.dumps(state_to_json(states[index]))), MSK)
        if kind == "buy":
            bought.append(f"p{number}")
        assert state_to_json(states[0]) == state_to_json(states[1])
        for index, engine in enumerate(engines):
            customer = states[index].customers.get("ann")
            if customer is None:
                continue
            core = engine.engine if index else engine
            scale = core.sources_by_name["volume"]
            known = (customer.scale_sums or {}).get("volume")
            if known is not None and known[0] is customer.scale_entries.get("volume") and known[1] == len(known[0]):
                assert known[2] == entries_total(known[0])
            expected = window_sum(core, customer, scale, at)  # before scale_prior prunes
            assert core.scale_prior(scale, customer, at) == expected
