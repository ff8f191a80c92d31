"""The specialised purchase path (codegen/specialize.py): which programs get one and why
not, that a compiled module's purchases really take it, and that it hands back to the
general engine, unchanged, what it does not handle. Its results are held to the
interpreter's by the differential tests in test_compiled.py."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from loyaldsl.check import check_file, check_source
from loyaldsl.codegen.expressions import SourceBackend
from loyaldsl.codegen.loader import load_compiled
from loyaldsl.codegen.specialize import PurchasePlan, plan_purchase
from loyaldsl.interpret import SpecBuilder, interpreter
from tests.codegen.test_compiled import same_run

ROOT = Path(__file__).resolve().parents[2]
MSK = dt.timezone(dt.timedelta(hours=3))


def plan_of(source: str) -> PurchasePlan | str:
    checked = check_source(source, "p.loyal")
    assert checked.ok, [d.message for d in checked.errors]
    backend = SourceBackend(checked.symbols.tiers, checked.source)
    return plan_purchase(SpecBuilder(checked, backend).build(), backend)


HEAD = 'program "p"\n  currency RUB\n  timezone "Europe/Moscow"\n  categories food, drinks\n'


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("capsboutique", None),
        ("thresholds", None),
        ("lensmaster", None),
        ("coffeetiers", None),
        ("flyingclub", None),
        ("podruzhka", None),
        ("gap", None),
        ("multibuy", None),
        ("boloco", None),
        ("volume", None),
        ("unicode", None),
        ("catering", None),
        ("clubdiscount", None),
        ("sheetcodes", None),
        ("lamps", None),
    ],
)
def test_which_example_programs_are_specialised(name: str, reason: str | None):
    checked = check_file(ROOT / "programs" / f"{name}.loyal")
    backend = SourceBackend(checked.symbols.tiers, checked.source)
    plan = plan_purchase(SpecBuilder(checked, backend).build(), backend)
    if reason is None:
        assert isinstance(plan, PurchasePlan)
        assert "def purchase_path(" in (ROOT / "generated" / f"{name}.py").read_text(encoding="utf-8")
    else:
        assert plan == reason
        assert f"no specialised path, because {reason}." in (ROOT / "generated" / f"{name}.py").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "rule a\n  discount 5% on order\n\nstamps card\n  card of 5\n  stamp 1 per item\n  when full: free cheapest item, then reset\n\nstacking\n  best of a, card\n",
            "the stamp card card is in the stacking group best of a, card",
        ),
        ("points p\n  earn 1 per 10 RUB of order.paid\n  multiplier 2x on items in category [food]\n", "the points p have a multiplier on some items"),
        ("scale volume on order.subtotal over calendar year, whole amount\n  from 1000 RUB: 5%\n", "the scale volume counts an expression over a window"),
        (
            "points bonus\n  worth 1 RUB\n  earn 1 per 10 RUB of order.paid\n\nstamps card\n  card of 5\n  stamp 1 per item\n  when full: give 100 bonus, then reset\n",
            "the stamp card card rewards with points",
        ),
    ],
)
def test_what_keeps_a_program_on_the_general_engine(body: str, reason: str):
    assert plan_of(HEAD + "\n" + body) == reason


def test_conditions_are_inlined_over_locals():
    plan = plan_of(HEAD + "\nrule big\n  when order.subtotal >= 1000 RUB and customer.orders >= 2\n  discount 5% on order\n")
    assert isinstance(plan, PurchasePlan)
    (offer,) = plan.steps
    assert "subtotal >= D_1000" in offer.eligible and "Decimal(customer.orders) >= D_2" in offer.eligible
    assert "ctx" not in offer.eligible


def compile_source(source: str):
    """The checked program, its compiled Program and the module that holds it."""
    checked = check_source(source, "p.loyal")
    assert checked.ok, [d.message for d in checked.errors]
    program = load_compiled(checked)
    return checked, program, sys.modules[type(program).__module__]


def purchase(event_id: str, customer: str, day: int, *lines: tuple[str, str, int, str], codes: tuple[str, ...] = (), module=None):
    return module.Purchase(
        event_id,
        customer,
        dt.datetime(2026, 3, day, 12, 0, tzinfo=MSK),
        tuple(module.PurchaseLine(p, c, q, Decimal(u)) for p, c, q, u in lines),
        codes,
    )


def test_purchases_take_the_path_and_the_engine_gets_the_rest(monkeypatch):
    program = load_compiled(check_file(ROOT / "programs" / "lensmaster.loyal"))
    module = sys.modules[type(program).__module__]
    state = program.new_state()
    engine_calls = []
    original = program.engine.process
    monkeypatch.setattr(program.engine, "process", lambda s, e: engine_calls.append(e.id) or original(s, e))

    first = purchase("p1", "ann", 1, ("daily", "lenses", 3, "1500"), module=module)
    out = program.process(state, first)
    assert out.status == "ok" and out.paid == Decimal("4500.00") and out.stamps == [("lenses", 3, 3)]
    assert engine_calls == []  # the specialised path did it all

    assert program.process(state, first).status == "replay"  # a repeated delivery: the engine's
    coded = purchase("p2", "ann", 2, ("daily", "lenses", 1, "1500"), codes=("SALE",), module=module)
    assert program.process(state, coded).refused == [("SALE", "no such code")]  # on the path too
    assert engine_calls == ["p1"]
    assert state.customers["ann"].cards["lenses"].stamps == 4  # the coded purchase stamped too


def test_a_purchase_handed_back_changes_nothing_first():
    """Whatever the path refuses, it refuses before touching the state: the engine then
    sees the customer exactly as the path found it."""
    program = load_compiled(check_file(ROOT / "programs" / "thresholds.loyal"))
    module = sys.modules[type(program).__module__]
    state = program.new_state()
    program.process(state, purchase("p1", "ann", 10, ("fridge", "appliances", 1, "12000"), module=module))
    before = program.state_to_json(state)
    late = purchase("p0", "ann", 9, ("fridge", "appliances", 1, "12000"), module=module)
    assert program.purchase_path(program.engine, state, late) is None  # out of time order
    assert program.state_to_json(state) == before
    assert program.process(state, late).status == "rejected"


def test_the_last_order_discount_is_spread_over_the_lines_only_when_a_return_reads_them(monkeypatch):
    """thresholds' 5% is its last discount: the path takes it off the total and the
    record keeps it unspread, with the sold lines and no nets (PurchaseRecord.work_out),
    until a return of one kettle needs the kettle's share (MECHANICS: a return gives
    back the line's discounted price)."""
    plan = plan_of(HEAD + "\nrule big\n  when order.subtotal > 10000 RUB\n  discount 5% on order\n")
    assert isinstance(plan, PurchasePlan) and plan.deferred is not None and plan.deferred.order_fraction == "D_0_05"
    assert plan_of(HEAD + "\nrule big\n  discount 5% on order\n  discount 100 RUB on order\n").deferred is None  # not the last
    assert plan_of(HEAD + "\nrule big\n  discount 5% on order, up to 50 RUB\n").deferred is None  # capped: spread at the till

    program = load_compiled(check_file(ROOT / "programs" / "thresholds.loyal"))
    module = sys.modules[type(program).__module__]
    state = program.new_state()
    monkeypatch.setattr(program.engine, "purchase", lambda *args: pytest.fail("the purchase should take the path"))
    out = program.process(state, purchase("p1", "ann", 10, ("kettle", "appliances", 2, "3000"), ("toaster", "appliances", 1, "6000"), module=module))
    assert out.discounts == [("big_purchase", Decimal("600.00"))] and out.paid == Decimal("11400.00")
    till = state.customers["ann"].purchases["p1"]
    assert type(till) is tuple, "nothing but a return reads this record: the till's tuple is kept"
    record = module.as_record(till)
    assert record.cut == Decimal("600.00") and record.cut_lines is None and record.nets is None and len(record.sold) == 2
    back = program.process(state, module.Refund("r1", "ann", dt.datetime(2026, 3, 12, 12, tzinfo=MSK), "p1", (module.RefundLine("kettle", 1),)))
    assert back.refunded == Decimal("2850.00")
    record = state.customers["ann"].purchases["p1"]  # the return made the record, kept in the tuple's place
    assert type(record) is module.PurchaseRecord
    assert record.lines == [["kettle", 1, Decimal("2850")], ["toaster", 1, Decimal("5700")]]


def test_a_whole_return_leaves_the_lines_unworked_and_a_second_one_is_refused():
    """Returning a whole purchase refunds its total without working out its lines
    (PurchaseRecord.return_everything); after it, nothing is left to return, in both
    engines, and the saved states agree."""
    checked = check_file(ROOT / "programs" / "thresholds.loyal")
    program = load_compiled(checked)
    module = sys.modules[type(program).__module__]
    at = dt.datetime(2026, 3, 12, 12, tzinfo=MSK)
    events = [
        purchase("p1", "ann", 10, ("kettle", "appliances", 2, "3000"), ("toaster", "appliances", 1, "6000"), module=module),
        module.Refund("r1", "ann", at, "p1"),
        module.Refund("r2", "ann", at, "p1"),
        module.Refund("r3", "ann", at, "p1", (module.RefundLine("kettle", 1),)),
    ]
    state = program.new_state()
    outs = [program.process(state, event) for event in events[:3]]
    assert (outs[1].status, outs[1].refunded) == ("ok", Decimal("11400.00"))
    record = state.customers["ann"].purchases["p1"]
    assert record.returned_all and record.sold is not None, "the whole returns did not need the lines"
    outs.append(program.process(state, events[3]))
    assert [(out.status, out.notes) for out in outs[2:]] == [
        ("rejected", ["purchase p1 was already refunded in full"]),
        ("rejected", ["cannot refund 1 x kettle: 0 left on purchase p1"]),
    ]
    assert module.state_to_json(state)["customers"]["ann"]["purchases"]["p1"]["lines"][0][1] == 0
    same_run(interpreter(checked), program, events)


@pytest.mark.parametrize(("combine", "points"), [("compound", "300"), ("best", "200")])
def test_multipliers_combine_on_the_path_as_in_the_engine(combine: str, points: str):
    """A Gold member (2x) buying on a Saturday (1.5x): 1,000 RUB earn 100 points, times
    3 compounded or 2 at best; the purchase takes the path and agrees with the
    interpreter."""
    source = HEAD + (
        "\npoints bonus\n  worth 1 RUB\n  earn 1 per 10 RUB of order.paid\n  multiplier 1.5x on saturday\n"
        f"  multipliers {combine}\n\ntiers by spend over lifetime\n  Bronze from 0 RUB\n  Gold from 1 RUB, multiplier 2x\n  upgrade immediately\n"
    )
    checked, program, module = compile_source(source)
    events = [  # 7 March 2026 is a Saturday
        purchase("p1", "ann", 7, ("beans", "food", 1, "1000"), module=module),
        purchase("p2", "ann", 8, ("beans", "food", 1, "1000"), module=module),
    ]
    state = program.new_state()
    first = program.purchase_path(program.engine, state, events[0])
    assert first is not None and first.earned[0][1] == Decimal(points)
    assert program.purchase_path(program.engine, state, events[1]).earned[0][1] == Decimal("200")  # Sunday: Gold only
    same_run(interpreter(checked), program, events)


@pytest.mark.parametrize(
    ("group", "beans", "chosen", "refused"),
    [
        # 10% of 3,000 = 300 beats 250 off
        ("best of flat, tenth", "1000", "tenth", [("flat", "tenth gives more (best of flat, tenth)")]),
        # 10% of 2,499.99 = 250.00 ties with 250 off: the first in the group's order wins
        ("best of flat, tenth", "833.33", "flat", [("tenth", "flat gives more (best of flat, tenth)")]),
        ("best of tenth, flat", "833.33", "tenth", [("flat", "tenth gives more (best of tenth, flat)")]),
        ("first of flat, tenth", "1000", "flat", [("tenth", "flat comes first (first of flat, tenth)")]),
        ("first of tenth, flat", "1000", "tenth", [("flat", "tenth comes first (first of tenth, flat)")]),
    ],
)
def test_stacking_groups_choose_on_the_path_as_in_the_engine(group: str, beans: str, chosen: str, refused: list[tuple[str, str]]):
    """The group chooses where its first member in program order would apply (after
    `drinks`, which lowers the basket first), says why the others were not applied,
    and the path agrees with the interpreter."""
    source = HEAD + (
        "\nrule drinks\n  discount 10 RUB on each item in category [drinks]\n"
        "\nrule flat\n  when order.total >= 1000 RUB\n  discount 250 RUB on order\n"
        "\nrule tenth\n  discount 10% on order\n"
        f"\nstacking\n  {group}\n  stack the rest\n"
    )
    checked, program, module = compile_source(source)
    buy = purchase("p1", "ann", 10, ("beans", "food", 3, beans), ("tea", "drinks", 1, "10"), module=module)
    out = program.purchase_path(program.engine, program.new_state(), buy)
    assert out is not None
    assert out.applied == ["drinks", chosen] and out.refused == refused
    same_run(interpreter(checked), program, [buy, purchase("p2", "bob", 10, ("tea", "drinks", 2, "600"), module=module)])


def test_a_gift_not_chosen_by_its_group_is_not_given():
    """Found by the thorough differential run: `best of` a 1% discount and a gift of
    50 points on a basket of 0.01 RUB is a tie (nothing either way), the discount comes
    first in the group and wins, and the gift must not be given."""
    source = HEAD + (
        "\npoints bonus\n  worth 1 RUB\n  earn 1 per 1 RUB of order.paid\n  available immediately\n"
        "\nrule offer0\n  discount 1% on order\n\nrule offer1\n  give 50 bonus\n\nstacking\n  best of offer0, offer1\n  stack the rest\n"
    )
    checked, program, module = compile_source(source)
    buy = purchase("p1", "ann", 10, ("sku1", "food", 1, "0.01"), module=module)
    out = program.purchase_path(program.engine, program.new_state(), buy)
    assert out is not None and out.applied == ["offer0"] and out.earned == []
    same_run(interpreter(checked), program, [buy])


def test_a_multiplier_condition_on_the_items_counts_them():
    """Found by the thorough differential run: a multiplier's `when order.items > 2` read
    the line quantities, which the path only counted when a discount needed them."""
    source = HEAD + (
        "\npoints bonus\n  worth 1 RUB\n  earn 1 per 10 RUB of order.subtotal\n"
        "  multiplier 3x on friday from 18:00 to 23:00 when order.items > 2\n"
    )
    checked, program, module = compile_source(source)
    friday_evening = module.Purchase("p1", "ann", dt.datetime(2026, 3, 13, 19, tzinfo=MSK), (module.PurchaseLine("beans", "food", 3, Decimal("100")),))
    out = program.purchase_path(program.engine, program.new_state(), friday_evening)
    assert out is not None and out.earned[0][1] == Decimal("90")  # 30 points, tripled
    same_run(interpreter(checked), program, [friday_evening])


CODES = HEAD + (
    "\nrule mug\n  discount 100% on each item [mug]\n"
    "\ncode SPRING\n  when order.subtotal >= 1000 RUB\n  discount 20% on order\n  valid 2026-03-01 to 2026-03-20\n  limit 1 per customer\n  not with mug, cancel order\n"
    "\ncode TEA\n  discount 50 RUB on items in category [drinks]\n  limit 1 in total\n  not with SPRING\n"
    "\nstacking\n  stack the rest\n"
)


@pytest.mark.parametrize(
    ("day", "lines", "codes", "status", "refused", "notes"),
    [
        (10, [("beans", "food", 1, "1000")], (" spring",), "ok", [], ["code SPRING applied"]),
        (10, [("beans", "food", 1, "1000")], ("SPRING", "spring", "NOPE"), "ok", [("NOPE", "no such code")],
         ["code spring entered twice; counted once", "code NOPE refused: no such code", "code SPRING applied"]),
        (10, [("beans", "food", 1, "999")], ("SPRING",), "ok", [("SPRING", "condition not met: order.subtotal >= 1000 RUB")],
         ["code SPRING refused: condition not met: order.subtotal >= 1000 RUB"]),
        (21, [("beans", "food", 1, "1000")], ("SPRING",), "ok", [("SPRING", "expired on 2026-03-20")], ["code SPRING refused: expired on 2026-03-20"]),
        (10, [("beans", "food", 1, "1000")], ("TEA",), "ok", [("TEA", "nothing in the basket it applies to")],
         ["code TEA refused: nothing in the basket it applies to"]),
        (10, [("beans", "food", 1, "1000"), ("tea", "drinks", 1, "100")], ("TEA", "SPRING"), "ok", [("TEA", "not valid with SPRING")],
         ["code TEA refused: not valid with SPRING", "code SPRING applied"]),
        (10, [("beans", "food", 1, "1000"), ("mug", "food", 1, "1")], ("SPRING",), "cancelled", [("SPRING", "order cancelled: not valid with mug")],
         ["order cancelled: SPRING is not valid with mug"]),
    ],
)
def test_codes_are_read_refused_and_excluded_on_the_path_as_in_the_engine(day, lines, codes, status, refused, notes, monkeypatch):
    """Every way a code entered can go (read once, unknown, its condition, its dates, nothing
    to act on, `not with` dropping it or cancelling the order) takes the path and says
    what the engine says, in the same order."""
    checked, program, module = compile_source(CODES)
    monkeypatch.setattr(program.engine, "purchase", lambda *args: pytest.fail("the purchase should take the path"))
    buy = purchase("p1", "ann", day, *lines, codes=codes, module=module)
    state = program.new_state()
    out = program.process(state, buy)
    assert (out.status, out.refused, out.notes) == (status, refused, notes)
    if status == "cancelled":
        assert out.paid == out.subtotal and state.customers["ann"].orders == 0 and "p1" not in state.customers["ann"].purchases
        assert state.customers["ann"].seen == {"p1": buy.at}  # a cancelled order is still done: a replay changes nothing
    monkeypatch.undo()
    same_run(interpreter(checked), program, [buy])


def test_code_limits_count_on_the_path():
    """SPRING once per customer, TEA once in all: the second use of each is refused."""
    checked, program, module = compile_source(CODES)
    events = [
        purchase("p1", "ann", 10, ("beans", "food", 1, "1000"), codes=("SPRING",), module=module),
        purchase("p2", "ann", 11, ("beans", "food", 1, "1000"), codes=("SPRING",), module=module),
        purchase("p3", "bob", 11, ("tea", "drinks", 1, "100"), codes=("TEA",), module=module),
        purchase("p4", "cat", 12, ("tea", "drinks", 1, "100"), codes=("TEA",), module=module),
    ]
    state = program.new_state()
    outs = [program.purchase_path(program.engine, state, event) for event in events]
    assert [out.refused for out in outs] == [[], [("SPRING", "already used 1 time by this customer (limit 1)")], [], [("TEA", "used up (1 uses in total)")]]
    assert state.code_uses == {"SPRING": 1, "TEA": 1}
    same_run(interpreter(checked), program, events)


def test_only_limited_offers_count_their_uses_per_customer():
    """A customer's `uses` holds what a limit reads (a `once per customer` rule, a code
    with a limit per customer), in both engines; a whole return gives them back."""
    source = HEAD + (
        "\nrule mug\n  discount 100% on each item [mug]\n"
        "\nrule welcome\n  discount 10 RUB on order\n  once per customer\n"
        "\ncode SPRING\n  discount 5% on order\n  limit 2 per customer\n"
        "\ncode TEA\n  discount 50 RUB on items in category [drinks]\n"
        "\nstacking\n  stack the rest\n"
    )
    checked, program, module = compile_source(source)
    events = [
        purchase("p1", "ann", 10, ("mug", "food", 1, "300"), ("tea", "drinks", 1, "100"), codes=("SPRING", "TEA"), module=module),
        purchase("p2", "ann", 11, ("mug", "food", 1, "300"), codes=("SPRING",), module=module),
    ]
    for engine in (interpreter(checked), program):
        state = engine.new_state()
        outs = [engine.process(state, event) for event in events]
        assert outs[0].applied == ["mug", "welcome", "SPRING", "TEA"] and outs[1].applied == ["mug", "SPRING"]
        assert state.customers["ann"].uses == {"welcome": 1, "SPRING": 2}
        engine.process(state, module.Refund("r1", "ann", dt.datetime(2026, 3, 12, 12, 0, tzinfo=MSK), "p1"))
        assert state.customers["ann"].uses == {"welcome": 0, "SPRING": 1}
    same_run(interpreter(checked), program, events)


def test_a_group_chooses_once_where_its_members_follow_each_other():
    """Members with no other step between choose in one place, on either flag; a step
    between them (which lowers the basket) keeps a choice at each member's place, and
    the path still agrees with the interpreter when only the later member applies."""
    together = plan_of(HEAD + "\nrule a\n  discount 5% on order\n\nrule b\n  when order.subtotal >= 1 RUB\n  discount 10 RUB on order\n\nstacking\n  best of a, b\n  stack the rest\n")
    assert isinstance(together, PurchasePlan) and together.choose_at == {"a": ("applies_1", "applies_2")}
    source = HEAD + (
        "\nrule a\n  when order.items > 5\n  discount 5% on order\n"
        "\nrule drinks\n  discount 10 RUB on each item in category [drinks]\n"
        "\nrule b\n  discount 50 RUB on order\n"
        "\nstacking\n  best of a, b\n  stack the rest\n"
    )
    apart = plan_of(source)
    assert isinstance(apart, PurchasePlan) and apart.choose_at == {"a": ("applies_1",), "b": ("applies_3",)}
    checked, program, module = compile_source(source)
    buy = purchase("p1", "ann", 10, ("beans", "food", 1, "1000"), ("tea", "drinks", 1, "100"), module=module)
    out = program.purchase_path(program.engine, program.new_state(), buy)
    assert out is not None and out.applied == ["drinks", "b"]
    same_run(interpreter(checked), program, [buy, purchase("p2", "bob", 10, ("tea", "drinks", 6, "100"), module=module)])


def test_stamps_a_return_puts_back_lapse_on_time():
    """The card's lapse floor (CardState.lapse_floor) lets most purchases skip working
    out when the oldest stamp lapses. A return that takes back a filled card's free
    item puts its other stamps back dated at the returned purchase, older than the
    stamps the floor was worked out from: they must still lapse twelve months after
    that date, on the path as in the engine."""
    source = HEAD + (
        "\nstamps coffee\n  card of 10\n  stamp 1 per item in category [food]\n"
        "  when full: free cheapest item in category [drinks], then reset\n  stamps expire 12 months after stamped\n"
    )
    checked, program, module = compile_source(source)

    def buy(event_id: str, when: dt.datetime, buns: int):
        return module.Purchase(event_id, "ann", when, (module.PurchaseLine("bun", "food", buns, Decimal("100")),))

    def noon(year: int, month: int, day: int, hour: int = 12) -> dt.datetime:
        return dt.datetime(year, month, day, hour, tzinfo=MSK)

    events = [
        buy("p1", noon(2025, 1, 1), 1),  # lapses before p2 comes
        buy("p2", noon(2026, 1, 5), 10),  # fills the card: a free drink waits, the card starts again
        buy("p3", noon(2026, 1, 6), 1),
        buy("p4", noon(2026, 1, 7), 1),  # the floor: p3's stamp lapses first, on 2027-01-06
        # p2 back: p3's and p4's stamps go, the free drink goes, and 10 - 8 = 2 stamps
        # are put back dated 2026-01-05, lapsing 2027-01-05 12:00
        module.Refund("r2", "ann", noon(2026, 1, 8), "p2"),
        buy("p5", noon(2027, 1, 5, 13), 1),  # the 2 have lapsed: p5's stamp is the only one
    ]
    engine = interpreter(checked)
    state = engine.new_state()
    outcomes = [engine.process(state, event) for event in events]
    assert outcomes[4].stamps == [("coffee", -10, 2)]
    assert outcomes[5].stamps == [("coffee", 1, 1)]
    same_run(interpreter(checked), program, events)


def test_a_purchase_that_gives_no_stamp_keeps_nothing_of_the_card():
    """Most records are dropped unread when the refund window closes: one that gave no
    stamps keeps no per-line stamp counts (no return reads them), in either engine."""
    checked, program, module = compile_source(
        HEAD
        + "\nstamps coffee\n  card of 10\n  stamp 1 per item in category [food]\n  when full: free cheapest item in category [drinks], then reset\n"
    )
    events = [
        purchase("p1", "ann", 10, ("tea", "drinks", 2, "100"), module=module),
        purchase("p2", "ann", 11, ("bun", "food", 2, "100"), module=module),
    ]
    for engine in (interpreter(checked), program):
        state = engine.new_state()
        for event in events:
            engine.process(state, event)
        kept = state.customers["ann"].purchases
        records = {name: module.as_record(record) for name, record in kept.items()}
        assert (records["p1"].stamped, records["p1"].stamps) == ({}, {})
        assert (records["p2"].stamped, records["p2"].stamps) == ({"coffee": [2]}, {"coffee": 2})
    assert kept["p1"][-1] == () and kept["p2"][-1] == (("coffee", 2, (2,), None),)  # the path's till tuples
    same_run(interpreter(checked), program, events)


def test_the_path_rounds_lines_as_the_engine_does_zero_never_negative():
    """The path rounds each line's net inline (Engine.round written out): half-even to
    the kopeck, and a line that rounds to zero from below is 0.00, never -0.00 (which
    a record that keeps its nets would show in a saved state)."""
    checked, program, module = compile_source(HEAD + "\nrule tea\n  discount 10% on each item in category [drinks]\n")
    events = [
        purchase("p1", "ann", 10, ("bun", "food", 1, "-0.001"), ("tea", "drinks", 3, "0.125"), module=module),
        purchase("p2", "ann", 11, ("bun", "food", 1, "10.005"), ("tea", "drinks", 1, "10"), module=module),
    ]
    state = program.new_state()
    first, second = (program.purchase_path(program.engine, state, event) for event in events)
    assert first is not None and str(first.subtotal) == "0.38"  # 0.00 + 0.375 -> 0.38 (half-even)
    assert second is not None and str(second.subtotal) == "20.00" and second.discounts == [("tea", Decimal("1.00"))]
    lines = module.as_record(state.customers["ann"].purchases["p1"]).lines  # kept nets: the tea line was lowered
    assert str(lines[0][2]) == "0.00" and lines[1][:2] == ["tea", 3]  # the tea's 0.38 - 0.04 = 0.34 over 3 units
    same_run(interpreter(checked), program, events)


def test_a_card_makes_the_line_quantities_only_when_its_free_item_applies():
    """lensmaster reads the quantities only to choose the free pair: they are made in
    that branch, not on every purchase."""
    checked = check_file(ROOT / "programs" / "lensmaster.loyal")
    backend = SourceBackend(checked.symbols.tiers, checked.source)
    plan = plan_purchase(SpecBuilder(checked, backend).build(), backend)
    assert isinstance(plan, PurchasePlan) and not plan.uses_quantities
    text = (ROOT / "generated" / "lensmaster.py").read_text(encoding="utf-8")
    assert "\n        quantities = [line.quantity for line in lines]" in text
    assert "\n    quantities = " not in text


def test_a_card_lists_its_reward_lines_only_when_a_free_item_waits():
    """A card is the only reader of its list of reward lines (an offer on the same lines
    would have to stack with it, and a card in a stacking group keeps the program on
    the general engine): the card's own test makes the list once a free item waits."""
    plan = plan_of(
        HEAD + "stamps coffee_card\n  card of 5\n  stamp 1 per item in category [drinks]\n  when full: free cheapest item in category [drinks], then reset\n"
    )
    assert isinstance(plan, PurchasePlan) and plan.made_by_cards == {"lines_1": "[i for i, line in enumerate(lines) if line.category == 'drinks']"}
    text = (ROOT / "generated" / "lensmaster.py").read_text(encoding="utf-8")
    assert "card_1.rewards > 0 and bool(lines_1 := [i for i, line in enumerate(lines) if line.category == 'lenses'])" in text
    assert "\n    lines_1 = " not in text


def test_forgetting_does_not_read_the_points_of_a_program_without_any():
    """Engine.forget looks at a customer's ledgers only when the program has points: the
    customer's (cold) dict of them is not read on every thresholds purchase."""

    class Unreadable(dict):
        def __len__(self) -> int:
            raise AssertionError("read")

    program = load_compiled(check_file(ROOT / "programs" / "thresholds.loyal"))
    module = sys.modules[type(program).__module__]
    customer = module.CustomerState("ann")
    customer.wallets = Unreadable()
    program.engine.forget(customer, dt.datetime(2026, 3, 10, 12, tzinfo=MSK))


@pytest.mark.parametrize("window", ["14 days", "60 days"])
def test_the_path_forgets_records_and_ids_when_the_engine_does(window: str, monkeypatch):
    """Without points, the path drops a customer's due refund records itself (Engine.forget
    written out) and leaves ids of other events to the engine. With a refund window over
    a month, records outlive ids: the drop time it sets must be no later than that of an
    id made next, so the refused return's id r1 below goes on 3 April (31 days), not on
    1 May with p1's record. A later time would leave r1 among the ids after p2."""
    checked, program, module = compile_source(HEAD + f"  refunds within {window}\n\nrule big\n  when order.subtotal > 1000 RUB\n  discount 5% on order\n")
    monkeypatch.setattr(program.engine, "purchase", lambda *args: pytest.fail("the purchase should take the path"))

    def noon(month: int, day: int) -> dt.datetime:
        return dt.datetime(2026, month, day, 12, tzinfo=MSK)

    def buy(event_id: str, when: dt.datetime):
        return module.Purchase(event_id, "ann", when, (module.PurchaseLine("bun", "food", 3, Decimal("500")),))

    events = [
        buy("p1", noon(3, 1)),  # a new customer: nothing to drop, the next look is due by 1 April
        module.Refund("r1", "ann", noon(3, 2), "px"),  # refused; its id is kept a month
        buy("p2", noon(4, 3)),  # r1 goes; p1 stays for a 60-day window, goes for 14 days
        buy("p3", noon(4, 20)),
        buy("p4", noon(5, 30)),  # p1 goes for 60 days; p2 and p3 too for 14
        buy("p5", noon(9, 1)),  # back after months: every record goes at once
    ]
    same_run(interpreter(checked), program, events)
    state = program.new_state()
    kept = []
    for event in events:
        program.process(state, event)
        kept.append((sorted(state.customers["ann"].purchases), sorted(state.customers["ann"].seen)))
    long_window = window == "60 days"  # records kept 61 days, else a month (31 days)
    assert kept[1] == (["p1"], ["r1"])
    assert kept[2] == ((["p1", "p2"] if long_window else ["p2"]), [])
    assert kept[4] == ((["p2", "p3", "p4"] if long_window else ["p4"]), [])
    assert kept[5] == (["p5"], [])


def test_a_scale_over_a_window_counts_earlier_purchases_on_the_path(monkeypatch):
    """lamps' brackets count the year's packs: 80 packs, then 50 more, put 30 of the
    50 past the 100th pack at 5% off (15 GBP); a return of the 80 takes them out of
    the count, so the next 50 pay full price. All on the path, as the interpreter."""
    checked = check_file(ROOT / "programs" / "lamps.loyal")
    program = load_compiled(checked)
    module = sys.modules[type(program).__module__]
    london = dt.UTC  # early March is GMT in London

    def buy(event_id: str, day: int, packs: int):
        line = module.PurchaseLine("led-e27-10pk", "lamps", packs, Decimal("10"))
        return module.Purchase(event_id, "brightco", dt.datetime(2026, 3, day, 10, tzinfo=london), (line,))

    events = [buy("p1", 2, 80), buy("p2", 3, 50), module.Refund("r1", "brightco", dt.datetime(2026, 3, 4, 10, tzinfo=london), "p1"), buy("p3", 5, 50)]
    state = program.new_state()
    monkeypatch.setattr(program.engine, "purchase", lambda *args: pytest.fail("the purchase should take the path"))
    outs = [program.process(state, event) for event in events]
    assert [out.discounts for out in (outs[0], outs[1], outs[3])] == [[], [("lamp_brackets", Decimal("15.00"))], []]
    assert outs[1].notes == ["71 more items the part above 200 gets 10% off (lamp_brackets)"]  # from the year's 130 packs
    assert outs[3].notes == ["1 more item the part above 100 gets 5% off (lamp_brackets)"]  # 50 + 50: the 80 returned left the count
    assert state.customers["brightco"].scale_entries["lamp_brackets"][-1][1] == Decimal("50")
    monkeypatch.undo()
    same_run(interpreter(checked), program, events)


def test_a_cancelled_order_leaves_a_scale_window_as_the_engine_leaves_it():
    """The engine reads a scale's window only when the scale applies, which a cancelled
    order never reaches, so the window keeps entries that have left it until the next
    purchase counts; the path reads it at the same places, and the saved states agree."""
    source = HEAD + (
        "\nrule mug\n  discount 100% on each item [mug]\n"
        "\ncode SPRING\n  discount 5% on order\n  not with mug, cancel order\n"
        "\nscale volume on quantity of items in category [food] over rolling 10 days, whole amount\n  over 5: 5%\n"
        "\nstacking\n  stack the rest\n"
    )
    checked, program, module = compile_source(source)
    events = [
        purchase("p1", "ann", 1, ("beans", "food", 3, "100"), module=module),
        purchase("p2", "ann", 20, ("mug", "food", 1, "300"), ("beans", "food", 1, "100"), codes=("SPRING",), module=module),
    ]
    state = program.new_state()
    outs = [program.purchase_path(program.engine, state, event) for event in events]
    assert outs[1] is not None and outs[1].status == "cancelled"
    assert len(state.customers["ann"].scale_entries["volume"]) == 1  # day 1's entry, out of the window, not dropped
    same_run(interpreter(checked), program, events)
