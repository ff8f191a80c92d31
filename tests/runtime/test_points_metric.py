"""A tier metric of points earned counts what the purchase itself earned, not points
credited by time passing in the same event (a birthday bonus, here): the engine reads
the points earned before the purchase and takes them off."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from loyaldsl.check import check_source
from loyaldsl.codegen.loader import load_compiled
from loyaldsl.interpret import interpreter
from loyaldsl.runtime.model import CustomerEvent, Purchase, PurchaseLine

MSK = dt.timezone(dt.timedelta(hours=3))

SOURCE = """program "p"
  currency RUB
  timezone "Europe/Moscow"
  categories food

points bonus
  earn 1 per 100 RUB of order.total
  earn 500 on birthday

tiers by bonus earned over rolling 12 months
  Base from 0 bonus
  Silver from 100 bonus
"""


def test_a_birthday_bonus_in_the_same_event_is_not_the_purchases_metric():
    checked = check_source(SOURCE, "p.loyal")
    assert checked.ok, [d.message for d in checked.errors]
    events = [
        CustomerEvent("s1", "ann", dt.datetime(2026, 1, 1, tzinfo=MSK), "signup", birth_date=dt.date(1990, 3, 10)),
        # On her birthday: 500 birthday points come first, then the purchase earns 10.
        Purchase("p1", "ann", dt.datetime(2026, 3, 10, 12, tzinfo=MSK), (PurchaseLine("bun", "food", 1, Decimal("1000")),)),
    ]
    for engine in (interpreter(checked), load_compiled(checked)):
        state = engine.new_state()
        outcomes = [engine.process(state, event) for event in events]
        assert sorted(amount for _, amount, _, _ in outcomes[1].earned) == [10, 500]
        ann = state.customers["ann"]
        assert [value for _, value in ann.tier_entries] == [10]
        assert ann.tier == 0  # Base: 10 of the 100 Silver needs, not 510
