"""`loyaldsl fuzz`: the same seed gives the same run, counts are reported, and every
generated stream can be written as a test block that parses back to the same events."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given

from loyaldsl.check import check_source
from loyaldsl.check.scenario_checks import check_tests
from loyaldsl.harness.fuzz import FuzzCase, Probe, _Draft, amount_text, case_events, cases, catalog, counterexample, fit, product_text, step_text
from loyaldsl.harness.invariants import Invariants, Violation, run_stream
from loyaldsl.interpret import interpreter
from loyaldsl.syntax.parser import parse
from tests.harness.helpers import checked, invoke
from tests.harness.programs import CAFE, PASSING
from tests.harness.test_invariants import TIERED

MSK = ZoneInfo("Europe/Moscow")
CAFE_CHECKED = checked(CAFE + PASSING, "cafe.loyal")
CAFE_CATALOG = catalog(CAFE_CHECKED)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"cafe": tmp_path / "cafe.loyal", "tiered": tmp_path / "tiered.loyal", "broken": tmp_path / "broken.loyal"}
    paths["cafe"].write_text(CAFE + PASSING, encoding="utf-8")
    paths["tiered"].write_text(TIERED, encoding="utf-8")
    paths["broken"].write_text(CAFE.replace("currency RUB", "currency RUR"), encoding="utf-8")
    return paths


def test_the_same_seed_gives_the_same_run(files):
    first = invoke("fuzz", str(files["cafe"]), "--examples", "25", "--seed", "11")
    second = invoke("fuzz", str(files["cafe"]), "--examples", "25", "--seed", "11")
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    head, verdict = first.stdout.splitlines()
    assert head.startswith(f"{files['cafe']}: tried 25 streams, ")
    assert head.endswith(" events (seed 11, 25 examples); checked 0 invariants of the program and 5 built-in")
    assert verdict == "no promise broken"


def test_a_broken_promise_exits_1_and_is_the_same_with_the_same_seed(files):
    first = invoke("fuzz", str(files["tiered"]), "--examples", "20", "--seed", "5")
    second = invoke("fuzz", str(files["tiered"]), "--examples", "20", "--seed", "5")
    assert first.exit_code == 1
    assert first.stdout == second.stdout
    lines = first.stdout.splitlines()
    assert lines[1] == f"BROKEN: Gold pays no more than Silver ({files['tiered']}:22)"
    assert lines[4] == "shrunk counterexample, ready to paste into the program:"
    assert lines[6] == 'test "fuzz: Gold pays no more than Silver (seed 5) as Gold"'
    assert "note:" not in first.stdout  # the printed blocks were verified


def test_without_a_seed_one_is_chosen_and_printed(files):
    result = invoke("fuzz", str(files["cafe"]), "--examples", "3")
    assert result.exit_code == 0
    assert "(seed " in result.stdout


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["fuzz", "missing.loyal"], 2, "no such file: missing.loyal"),
        (["fuzz", "PROGRAM", "--examples", "0"], 2, "0 is not in the range"),
        (["fuzz", "BROKEN"], 1, "error[H002]"),
    ],
)
def test_bad_input_gets_a_message_not_a_traceback(files, args, status, message):
    args = [str(files["cafe"]) if a == "PROGRAM" else str(files["broken"]) if a == "BROKEN" else a for a in args]
    result = invoke(*args)
    assert result.exit_code == status
    assert message in result.output
    assert "Traceback" not in result.output


def test_without_hypothesis_fuzz_says_what_to_install(files, monkeypatch):
    monkeypatch.delitem(sys.modules, "loyaldsl.harness.fuzz", raising=False)
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    result = invoke("fuzz", str(files["cafe"]))
    assert result.exit_code == 2
    assert "loyaldsl fuzz needs hypothesis" in result.stderr


def test_the_catalog_comes_from_the_program():
    assert CAFE_CATALOG.currency == "RUB"
    assert ("latte", "coffee") in CAFE_CATALOG.products and ("cakes-1", "cakes") in CAFE_CATALOG.products
    # 300 RUB (WELCOME's threshold) and the kopeck either side of it
    assert {a for a in CAFE_CATALOG.prices if 299 < a < 301} == {Decimal("299.99"), Decimal("300.00"), Decimal("300.01")}
    assert CAFE_CATALOG.codes == ("WELCOME", "STAFF", "welcome", "NOPE")
    assert CAFE_CATALOG.wallets == ("bonus",)
    assert CAFE_CATALOG.tiers == ("Regular", "Gold")


@pytest.mark.parametrize(
    ("name", "written"),
    [("latte", "latte"), ("espresso-cup", "espresso-cup"), ("in", '"in"'), ("big mug", '"big mug"'), ('say "hi"', '"say \\"hi\\""'), ("7up", '"7up"')],
)
def test_products_are_quoted_only_when_they_must_be(name, written):
    assert product_text(name) == written


def test_negative_amounts_are_written_as_a_subtraction():
    assert amount_text(Decimal("-5.10"), "RUB") == "0 RUB - 5.10 RUB"


def block_of(case: FuzzCase) -> str:
    return 'test "round trip"\n' + "".join(f"  {step_text(step)}\n" for step in case.test.steps)


@given(cases(CAFE_CATALOG))
def test_every_generated_stream_prints_as_a_test_that_parses_back(case):
    text = CAFE + "\n" + block_of(case)
    parsed = parse(text, "cafe.loyal")
    assert parsed.diagnostics == ()
    (test,) = parsed.program.tests
    assert [step_text(s) for s in test.steps] == [step_text(s) for s in case.test.steps]
    assert [d for d in check_tests(parsed.program, check_source(text).symbols, text) if d.is_error] == []
    replayed = FuzzCase(test, case.order)
    assert case_events(replayed, MSK) == case_events(case, MSK)


def test_a_replayed_event_is_a_comment_in_the_printed_test():
    program = checked(CAFE, "cafe.loyal")
    later = ("hours", 2, 0)
    draft = _Draft(
        ("anna",),
        (None, None, None),
        dt.date(2026, 3, 5),
        (("purchase", later, 0, [(0, 2, 5)], [0], None), ("again", 0), ("return", later, 0, 0, []), ("purchase", later, 0, [(1, 1, 3)], [], (0, 0))),
    )
    case = fit(catalog(program), draft)
    engine = interpreter(program)
    events, numbers = case_events(case, engine.zone)
    assert ([e.id for e in events], numbers) == (["p1", "p1", "t1-3", "p2"], [2, 2, 3, 4])
    run = run_stream(engine, Invariants(program, engine), events)
    assert [o.status for o in run.outcomes] == ["ok", "replay", "ok", "ok"]
    example = counterexample(program, engine, case, Probe(Violation("made up", None, 3, "for the test"), 4, run.outcomes), 1)
    assert example.verified is None
    assert example.blocks.splitlines()[3] == (
        "  # here the event `on 2026-03-05 11:00 anna buys 2 cakes-1 in cakes at 2.00 RUB with code WELCOME as p1` is sent again: a replay, which must change nothing"
    )
    assert example.event == "on 2026-03-05 15:00 anna buys 1 cakes-2 in cakes at 1.00 RUB redeeming max bonus as p2"
