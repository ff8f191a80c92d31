"""A stamp card's count (CardState.counted_*): kept between events, so a purchase adds
its stamps instead of reading every entry on the card, it must always be what summing
the entries gives, in both engines, with cards filled and reset or carried over,
stamps lapsing, returns taking stamps (and free items) back, and states saved and
loaded in between."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from loyaldsl.check import check_source
from loyaldsl.codegen.loader import load_compiled
from loyaldsl.interpret import interpreter
from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund, RefundLine
from loyaldsl.runtime.persist import state_from_json, state_to_json
from loyaldsl.runtime.state import CardState

MSK = ZoneInfo("Europe/Moscow")
START = dt.datetime(2026, 1, 5, 12, tzinfo=MSK)


def program(overflow: str) -> str:
    return (
        'program "p"\n  currency RUB\n  timezone "Europe/Moscow"\n  categories lenses, other\n\n'
        "stamps lenses\n  card of 4\n  stamp 1 per item in category [lenses]\n"
        f"  when full: free cheapest item in category [lenses], then {overflow}\n"
        "  stamps expire 2 months after stamped\n"
    )


ENGINES: dict[tuple[str, str], Any] = {}


def engine(overflow: str, kind: str) -> Any:
    if (overflow, kind) not in ENGINES:
        checked = check_source(program(overflow), "p.loyal")
        assert checked.ok, checked.diagnostics
        ENGINES[overflow, kind] = interpreter(checked) if kind == "interpreter" else load_compiled(checked)
    return ENGINES[overflow, kind]


steps = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.integers(1, 900), st.integers(0, 6)),  # hours later, pairs of lenses
        st.tuples(st.just("return"), st.integers(1, 48), st.integers(0, 2)),  # hours later, whole or one pair
        st.tuples(st.just("save"), st.just(0), st.just(0)),
    ),
    max_size=25,
)


def counted_right(card: CardState) -> bool:
    return card.stamps == sum(entry[1] for entry in card.entries)


@given(overflow=st.sampled_from(["reset", "carry over"]), kind=st.sampled_from(["interpreter", "compiled"]), steps=steps)
def test_the_kept_count_is_the_sum_of_the_entries(overflow: str, kind: str, steps: list[tuple[str, int, int]]) -> None:
    run = engine(overflow, kind)
    state = run.new_state()
    at = START
    bought: list[str] = []
    for number, (step, hours, amount) in enumerate(steps):
        at += dt.timedelta(hours=hours)
        if step == "buy":
            lines = (PurchaseLine("oasys", "lenses", amount, Decimal("1780")),) if amount else ()
            run.process(state, Purchase(f"p{number}", "ann", at, (*lines, PurchaseLine("drops", "other", 1, Decimal("300")))))
            bought.append(f"p{number}")
        elif step == "return" and bought:
            whole = amount == 0
            returned = () if whole else (RefundLine("oasys", 1),)
            run.process(state, Refund(f"r{number}", "ann", at, bought.pop(0), returned))
        elif step == "save":
            state = state_from_json(state_to_json(state), MSK)
        customer = state.customers.get("ann")
        if customer is not None:
            for card in customer.cards.values():
                assert counted_right(card), (card.entries, card.stamps)


def test_a_card_counts_anew_after_an_entry_changed_in_place() -> None:
    card = CardState()
    assert card.add_stamps(START, 3, "p1") == 3 and card.add_stamps(START, 2, "p2") == 5
    card.entries[0] = (START, 1, "p1")  # as remove_stamps does, which forgets the count
    card.counted_entries = None
    assert card.stamps == 3 and card.add_stamps(START, 1, "p3") == 4
    card.entries = [(START, 2, "p4")]  # a new list (a reset, stamps lapsing) is counted anew
    assert card.stamps == 2
