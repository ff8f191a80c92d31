"""The compiled module is the program: generated/ is up to date, standalone, lint-clean,
and gives the same outcomes and final states as the interpreter (differential tests,
on every example program and on random well-typed programs)."""

from __future__ import annotations

import ast
import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from loyaldsl.check import check_file, check_source
from loyaldsl.codegen.generator import compile_program
from loyaldsl.codegen.loader import load_compiled
from loyaldsl.events import EventsSource, RowError
from loyaldsl.interpret import interpreter
from loyaldsl.runtime.persist import state_to_json
from tests.strategies import event_streams

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = sorted((ROOT / "programs").glob("*.loyal"))
NAMES = [p.stem for p in PROGRAMS]


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOYALDSL_CACHE", str(tmp_path_factory.getbasetemp() / "loyaldsl-cache"))


@functools.cache
def engines(path: Path):
    checked = check_file(path)
    assert checked.ok
    return checked, interpreter(checked), load_compiled(checked)


def same_run(interpreted, compiled, events) -> None:
    """Both engines, the same events: identical outcomes, reports and final state.
    `compiled` is the module's Program, so purchases take its specialised path when
    it has one."""
    left, right = interpreted.new_state(), compiled.new_state()
    for event in events:
        a = interpreted.process(left, event).to_json()
        b = compiled.process(right, event).to_json()
        assert a == b, f"event {event.id}:\ninterpreter {json.dumps(a, indent=1)}\ncompiled {json.dumps(b, indent=1)}"
    if events:
        last = events[-1].at
        for customer in sorted(left.customers):
            assert interpreted.report(left, customer, last).to_json() == compiled.report(right, customer, last).to_json()
    assert state_to_json(left) == json.loads(json.dumps(state_to_json(right)))


@pytest.mark.parametrize("path", PROGRAMS, ids=NAMES)
def test_generated_module_is_up_to_date(path: Path):
    # Compiled as `make generate` does: from the project root, by relative path.
    expected = compile_program(check_source(path.read_text(encoding="utf-8"), f"programs/{path.name}"), f"generated/{path.stem}.py")
    written = ROOT / "generated" / f"{path.stem}.py"
    assert written.exists() and written.read_text(encoding="utf-8") == expected, f"generated/{path.stem}.py is stale: run `make generate`"


@pytest.mark.parametrize("path", PROGRAMS, ids=NAMES)
def test_generated_module_imports_only_the_standard_library(path: Path):
    tree = ast.parse((ROOT / "generated" / f"{path.stem}.py").read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}, modules - set(sys.stdlib_module_names)


def test_generated_module_constants_and_api():
    module_path = ROOT / "generated" / "capsboutique.py"
    from loyaldsl.codegen.loader import import_module_from

    module = import_module_from(module_path, "generated_capsboutique_api")
    checked = check_file(ROOT / "programs" / "capsboutique.loyal")
    program = module.Program()
    assert module.PROGRAM_NAME == program.name == "Capsboutique coffee club"
    assert module.SOURCE_HASH == interpreter(checked).spec.source_hash
    state = program.new_state()
    outcome = program.process(
        state,
        {"id": "p1", "customer": "anna", "time": "2026-03-02T12:00:00+03:00", "lines": [{"product": "ethiopia", "category": "beans", "quantity": 11, "unit_price": "2000"}]},
    )
    assert str(outcome.paid) == "19800.00"  # a first order: no returning-customer 15%; the whole-order scale takes 10% of 22,000
    saved = json.loads(json.dumps(program.state_to_json(state)))
    again = program.state_from_json(saved)
    assert program.state_to_json(again) == saved
    with pytest.raises(ValueError, match="floats lose cents"):
        program.process(state, {"id": "p2", "customer": "anna", "time": "2026-03-02T13:00:00+03:00", "lines": [{"product": "x", "quantity": 1, "unit_price": 1.5}]})


def tool(name: str) -> list[str]:
    if shutil.which(name) is None and subprocess.run([sys.executable, "-m", name, "--version"], capture_output=True).returncode != 0:
        pytest.skip(f"{name} is not installed (it comes with the test extras)")
    return [sys.executable, "-m", name]


def test_generated_modules_pass_ruff():
    result = subprocess.run([*tool("ruff"), "check", str(ROOT / "generated")], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_modules_pass_mypy_strict():
    # Every module: they share the runtime, but each specialised purchase path is
    # written from its own program's pieces.
    for path in sorted((ROOT / "generated").glob("*.py")):
        result = subprocess.run([*tool("mypy"), "--strict", "--no-incremental", str(path)], capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", PROGRAMS, ids=NAMES)
def test_sample_events_give_identical_results(path: Path):
    checked, interpreted, compiled = engines(path)
    events_path = path.with_name(f"{path.stem}.events.jsonl")
    events = [e for e in EventsSource.open(events_path, interpreted.zone) if not isinstance(e, RowError)]
    same_run(interpreted, compiled, events)


def program_facts(path: Path):
    checked = check_file(path)
    symbols = checked.symbols
    codes = tuple(o.name.text for o in checked.program.offers if o.kind == "code")
    return tuple(sorted(symbols.categories)) or ("other",), codes, symbols.timezone, symbols.tiers


@pytest.mark.parametrize("path", PROGRAMS, ids=NAMES)
@given(data=st.data())
def test_random_streams_give_identical_results(path: Path, data):
    categories, codes, zone, tiers = program_facts(path)
    events = data.draw(event_streams(categories, codes, zone, tiers=tiers))
    checked, interpreted, compiled = engines(path)
    same_run(interpreted, compiled, events)


# ------------------------------------------------------------------ random programs


@st.composite
def programs(draw) -> str:
    """Well-typed programs built from the language's pieces, so the differential test
    also covers combinations no example program has."""
    currency = draw(st.sampled_from(["RUB", "USD", "KWD", "JPY"]))
    lines = [
        'program "random"',
        f"  currency {currency}",
        '  timezone "Europe/Moscow"',
        "  categories food, drinks, gear",
        "",
        "points bonus",
        f"  worth 1 {currency}",
        f"  earn {draw(st.integers(1, 5))} per {draw(st.sampled_from([1, 10, 100]))} {currency} of {draw(st.sampled_from(['order.paid', 'order.total', 'order.subtotal']))}",
        draw(st.sampled_from(["  available immediately", "  available 14 days after purchase"])),
        draw(st.sampled_from(["  never expire", "  expire 3 months after earned, at end of month", "  expire all after 2 months without purchase"])),
        f"  redeem up to {draw(st.integers(10, 100))}% of order.total",
    ]
    if draw(st.booleans()):
        lines.append(f"  earn {draw(st.integers(1, 20))} per item in category [{draw(st.sampled_from(['food', 'drinks']))}]")
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["  earn 5 per visit", "  earn 100 on first purchase", "  earn 2% of order.paid", f"  earn 10 per visit when order.subtotal >= 1000 {currency}"])))
    if draw(st.booleans()):
        lines += [
            draw(st.sampled_from(["  multiplier 2x on saturday, sunday", "  multiplier 1.5x on monday, wednesday, friday from 10:00 to 14:00", "  multiplier 3x on friday from 18:00 to 23:00 when order.items > 2"])),
            draw(st.sampled_from(["  multipliers compound", "  multipliers best"])),
        ]
    tiered = draw(st.booleans())
    if tiered:
        lines += [
            "",
            f"tiers by {draw(st.sampled_from(['spend', 'visits', 'bonus earned']))} over {draw(st.sampled_from(['rolling 6 months', 'calendar year', 'lifetime']))}",
            "  Basic from 0" + (f" {currency}" if True else ""),
        ]
        if "visits" in lines[-2]:
            lines[-1] = "  Basic from 0 visits"
            lines += ["  Silver from 3 visits, multiplier 1.5x", "  Gold over 6 visits, multiplier 2x"]
        elif "bonus earned" in lines[-2]:
            lines[-1] = "  Basic from 0 bonus"
            lines += ["  Silver from 2000 bonus, multiplier 1.5x", "  Gold over 6000 bonus, multiplier 2x"]
        else:
            lines += [f"  Silver from 20000 {currency}, multiplier 1.5x", f"  Gold over 60000 {currency}, multiplier 2x"]
        lines += [draw(st.sampled_from(["  upgrade immediately", "  upgrade from next purchase"]))]
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["  review yearly, downgrade one step", "  review quarterly, downgrade to qualified"])))
        if draw(st.booleans()):
            lines.append("  demote one step per month without visit")
        if draw(st.booleans()):
            lines.append("  returns lower the tier at once")
    offers = []
    for index in range(draw(st.integers(0, 4))):
        name = f"offer{index}"
        kind = draw(st.sampled_from(["rule", "code"]))
        body = []
        condition = draw(
            st.sampled_from(
                [None, f"order.subtotal >= {draw(st.integers(1, 30)) * 1000} {currency}", "customer.orders >= 1", "order.day in [friday, saturday]", "order.items > 2"]
                + (["customer.tier >= Silver"] if tiered else [])
            )
        )
        if condition:
            body.append(f"  when {condition}")
        body.append(
            draw(
                st.sampled_from(
                    [
                        f"  discount {draw(st.integers(1, 100))}% on order",
                        f"  discount {draw(st.integers(1, 50))}% on items in category [food]",
                        f"  discount {draw(st.integers(1, 500))} {currency} on each item in category [gear], up to 1000 {currency}",
                        "  discount 100% on cheapest item in category [drinks]",
                        f"  buy 2 get 1 free on items in category [food], {draw(st.sampled_from(['repeating', 'once per order']))}",
                        "  give 50 bonus",
                    ]
                )
            )
        )
        if kind == "code":
            body.append(draw(st.sampled_from(["  valid 2025-12-01 to 2026-06-30", "  limit 1 per customer", "  limit 2 in total"])))
        elif draw(st.booleans()):
            body.append("  once per customer")
        body += not_with(draw, [other for _, other, _ in offers])
        offers.append((kind, name, body))
        lines += ["", f"{kind} {name}", *body]
    if draw(st.booleans()):
        offers.append(("scale", "volume", []))
        lines += [
            "",
            f"scale volume on {draw(st.sampled_from(['order.subtotal', 'amount of items in category [food]']))}"
            f"{draw(st.sampled_from(['', ' over calendar year', ' over rolling 2 months']))}, {draw(st.sampled_from(['whole amount', 'each part']))}",
            f"  from 10000 {currency}: 5%",
            f"  over 20000 {currency}: 10%",
        ]
    if draw(st.booleans()):
        offers.append(("scale", "packs", []))
        lines += [
            "",
            f"scale packs on quantity of items in category [drinks]{draw(st.sampled_from(['', ' over calendar month', ' over rolling 30 days']))}, {draw(st.sampled_from(['whole amount', 'each part']))}",
            "  over 2: 10%",
            "  from 6: 20%",
        ]
    if draw(st.booleans()):
        offers.append(("stamps", "card", []))
        stamping = draw(st.sampled_from(["  stamp 1 per item in category [drinks]", f"  stamp 1 per 500 {currency} of order.total, remainder carries over", f"  stamp 2 per 1000 {currency} of order.paid"]))
        lines += ["", "stamps card", f"  card of {draw(st.integers(1, 5))}", stamping,
                  f"  when full: free cheapest item in category [drinks], then {draw(st.sampled_from(['reset', 'carry over']))}"]
    if len(offers) >= 2:
        names = [name for _, name, _ in offers]
        group = draw(st.sampled_from(["best", "first", None]))
        lines += ["", "stacking"]
        if group:
            lines.append(f"  {group} of {names[0]}, {names[1]}")
        lines.append("  stack the rest")
    return "\n".join(lines) + "\n"


@given(source=programs(), data=st.data())
def test_random_programs_give_identical_results(source: str, data):
    note(source)
    checked = check_source(source, "random.loyal")
    assert checked.ok, [f"{d.span.line}: {d.message}" for d in checked.errors]
    codes = tuple(o.name.text for o in checked.program.offers if o.kind == "code")
    events = data.draw(event_streams(("food", "drinks", "gear"), codes, checked.symbols.timezone, tiers=checked.symbols.tiers))
    same_run(interpreter(checked), load_compiled(checked), events)


# ------------------------------------------------------------------ the specialised path


def not_with(draw, earlier: list[str]) -> list[str]:
    """Maybe a `not with` an earlier offer, dropping this one or cancelling the order.
    Chains (c not with b, b not with a) check that each reads what applied before any
    offer was dropped."""
    if not earlier or not draw(st.booleans()):
        return []
    return [f"  not with {draw(st.sampled_from(earlier))}{draw(st.sampled_from(['', ', cancel order']))}"]


@st.composite
def plain_programs(draw) -> str:
    """Programs within what codegen/specialize.py specialises (rules, codes, `not with`
    and stamp cards with a free item), so the differential test holds its purchase path to the
    interpreter on combinations the example programs do not have."""
    currency = draw(st.sampled_from(["RUB", "USD", "KWD", "JPY"]))
    lines = [
        'program "plain"',
        f"  currency {currency}",
        '  timezone "Europe/Moscow"',
        "  categories food, drinks, gear",
        f"  rounding {draw(st.sampled_from(['half-even', 'half-up', 'down']))}",
    ]
    if draw(st.booleans()):
        lines.append(f"  refunds within {draw(st.integers(1, 40))} days")
    lines += ["", "period spring 2026-03-01 to 2026-05-31"]
    names: list[str] = []
    for index in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["rule", "rule", "code"]))
        lines += ["", f"{kind} offer{index}"]
        condition = draw(
            st.sampled_from(
                [
                    None,
                    f"order.subtotal >= {draw(st.integers(1, 30)) * 1000} {currency}",
                    f"order.total > {draw(st.integers(1, 30)) * 500} {currency} and customer.orders >= 1",
                    "order.day in [friday, saturday]",
                    "order.items > 2",
                    "during spring",
                    f"not (customer.spend < 5000 {currency})",
                    f"order.time from 10:00 to 18:00 or order.discount > 0 {currency}",
                ]
            )
        )
        if condition:
            lines.append(f"  when {condition}")
        for _ in range(draw(st.integers(1, 2))):
            lines.append(
                draw(
                    st.sampled_from(
                        [
                            f"  discount {draw(st.integers(1, 100))}% on order",
                            f"  discount {draw(st.integers(1, 50))}% on items in category [food, drinks]",
                            f"  discount {draw(st.integers(1, 3000))} {currency} on order",
                            f"  discount order.subtotal * {draw(st.integers(1, 20))}% on items in category [gear]",
                            f"  discount {draw(st.integers(1, 500))} {currency} on each item in category [gear], up to 1000 {currency}",
                            f"  discount {draw(st.integers(10, 100))}% on each item in category [drinks]",
                            "  discount 100% on cheapest item in category [drinks]",
                            f"  discount {draw(st.integers(1, 900))} {currency} on cheapest item",
                        ]
                    )
                )
            )
        if kind == "code":
            lines.append(draw(st.sampled_from(["  valid 2026-01-01 to 2026-04-30", "  limit 1 per customer", "  limit 2 in total", "  once per customer"])))
        elif draw(st.booleans()):
            lines.append("  once per customer")
        lines += not_with(draw, names)
        names.append(f"offer{index}")
    for index in range(draw(st.integers(0, 2))):
        stamp = draw(
            st.sampled_from(["  stamp 1 per item in category [drinks]", "  stamp 2 per item", "  stamp 1 per purchase", f"  stamp 1 per 700 {currency} of order.total, remainder carries over"])
        )
        if draw(st.booleans()):
            stamp += f" when order.subtotal >= {draw(st.integers(1, 20)) * 100} {currency}"
        lines += ["", f"stamps card{index}", f"  card of {draw(st.integers(1, 6))}", stamp,
                  f"  when full: free cheapest item in category [{draw(st.sampled_from(['drinks', 'food, gear']))}], then {draw(st.sampled_from(['reset', 'carry over']))}"]
        if draw(st.booleans()):
            lines.append(f"  stamps expire {draw(st.integers(1, 3))} months after stamped")
    if sum(line.startswith(("rule ", "code ", "stamps ")) for line in lines) >= 2:
        lines += ["", "stacking", "  stack the rest"]
    return "\n".join(lines) + "\n"


@given(source=plain_programs(), data=st.data())
def test_specialised_purchase_path_gives_identical_results(source: str, data):
    note(source)
    checked = check_source(source, "plain.loyal")
    assert checked.ok, [f"{d.span.line}: {d.message}" for d in checked.errors]
    compiled = load_compiled(checked)
    assert compiled.purchase_path is not None, "the program should be specialised"
    codes = tuple(o.name.text for o in checked.program.offers if o.kind == "code")
    events = data.draw(event_streams(("food", "drinks", "gear"), codes, checked.symbols.timezone, extras=data.draw(st.booleans())))
    same_run(interpreter(checked), compiled, events)
