"""bench/run.py's code path on a few hundred purchases per program: the stream is
deterministic, it carries returns and repeated deliveries as well as purchases, and the
hand-written checkouts agree with the compiled module and the interpreter on every
event. Returns whose paths the short stream does not reach (bonuses clawed back and
forgiven, bonuses going back to a returned order's lot or to a burned one, a free pair
taken back) are played as small stories through the three engines. No timing is
asserted (that is `make bench`'s job)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bench.engines import KINDS, load, same
from bench.run import differences, measure, verify_all
from bench.stream import DUPLICATE, PROGRAMS, PURCHASE, REFUND, REFUND_AFTER_DAYS, REFUND_WINDOW_DAYS, event_stream

EVENTS = 300
CUSTOMERS = 20  # few customers, so each buys often: tiers, redemption, full stamp cards
SEED = 14  # a seed whose 300 purchases include a cancelled order (SKIDKA30 with the gift mug)


def _raw(program: str, events: int) -> list[tuple[str, tuple]]:
    return list(event_stream(program, events, lambda *fields: fields, lambda *fields: fields, CUSTOMERS, SEED))


def test_stream_is_deterministic_and_in_time_order() -> None:
    first, second = _raw("capsboutique", EVENTS), _raw("capsboutique", EVENTS)
    assert first == second
    purchases = [event for kind, event in first if kind == PURCHASE]
    assert len(purchases) == EVENTS  # returns and repeats come on top
    times = [event[2] for _, event in first]
    assert times == sorted(times)
    # The same customers at the same instants for every program; only baskets differ.
    skeleton = [(customer, at) for _, customer, at, *_ in purchases]
    for program in PROGRAMS[1:]:
        assert [(event[1], event[2]) for kind, event in _raw(program, EVENTS) if kind == PURCHASE] == skeleton


@pytest.mark.parametrize("program", PROGRAMS)
def test_stream_has_returns_and_repeated_deliveries(program: str) -> None:
    stream = event_stream(program, EVENTS, lambda *fields: fields, lambda *fields: fields, CUSTOMERS, SEED)
    events = list(stream)
    assert stream.counts() == {
        "purchases": EVENTS,
        "refunds": sum(kind == REFUND for kind, _ in events),
        "duplicates": sum(kind == DUPLICATE for kind, _ in events),
    }
    assert stream.refunds >= 5 and stream.duplicates >= 2
    bought = {}
    ids = set()
    for position, (kind, event) in enumerate(events):
        if kind == DUPLICATE:  # the same event, right after the first delivery
            assert events[position - 1] == (PURCHASE, event)
            continue
        assert event[0] not in ids  # ids are unique, returns' too
        ids.add(event[0])
        if kind == PURCHASE:
            bought[event[0]] = event
        else:
            refund_id, customer, at, purchase_id = event
            purchase = bought.pop(purchase_id)  # an earlier purchase, returned once
            assert purchase[1] == customer
            low, high = REFUND_AFTER_DAYS
            assert dt.timedelta(days=low) <= at - purchase[2] <= dt.timedelta(days=min(high, REFUND_WINDOW_DAYS[program]))


@pytest.mark.parametrize("program", PROGRAMS)
def test_hand_written_agrees_with_both_engines(program: str) -> None:
    runs = {kind: measure(program, kind, EVENTS, CUSTOMERS, SEED) for kind in KINDS}
    compiled = runs["compiled"]
    assert compiled["purchases"] == EVENTS
    assert compiled["refunds"] > 0 and compiled["duplicates"] > 0
    assert compiled["events"] == EVENTS + compiled["refunds"] + compiled["duplicates"]
    assert len(compiled["samples"]) == compiled["events"]  # below 2,000 purchases every event is a sample
    assert {kind for _, kind, _, _ in compiled["samples"]} == {PURCHASE, REFUND, DUPLICATE}
    assert differences(compiled, runs["handwritten"]) == []
    assert differences(compiled, runs["interpreter"]) == []
    assert all(run["peak_kb"] > 0 for run in runs.values())


def test_stream_exercises_what_the_bench_claims() -> None:
    """Codes, a cancelled order, redemption, a tier above Bronze; a free pair of lenses;
    returns that take points back and give spent points back, and that take stamps
    back; repeated deliveries answered as replays."""
    caps = measure("capsboutique", "compiled", EVENTS, CUSTOMERS, SEED)["samples"]
    bought = [figures for _, kind, _, figures in caps if kind == PURCHASE]
    returned = [figures for _, kind, _, figures in caps if kind == REFUND]
    assert "cancelled" in {figures[0] for figures in bought}
    assert any(figures[3] not in ("0", "") for figures in bought)  # points redeemed
    assert {figures[4] for figures in bought} & {"Silver", "Gold"}
    assert all(figures[0] == "ok" for figures in returned)
    assert any(Decimal(figures[2]) > 0 for figures in returned)  # points taken back
    assert any(Decimal(figures[3]) > 0 for figures in returned)  # spent points given back
    for program in PROGRAMS:
        samples = measure(program, "compiled", EVENTS, CUSTOMERS, SEED)["samples"]
        assert {figures[0] for _, kind, _, figures in samples if kind == DUPLICATE} == {"replay"}
        assert all(Decimal(figures[1]) > 0 for _, kind, _, figures in samples if kind == REFUND)  # money back
    lens = measure("lensmaster", "compiled", EVENTS, CUSTOMERS, SEED)["samples"]
    assert any(figures[3] != "0" for _, kind, _, figures in lens if kind == PURCHASE)  # a free pair was waiting


def test_verify_all_finds_no_difference() -> None:
    assert verify_all("thresholds", 100, CUSTOMERS, SEED) == 0


# ------------------------------------------------------------------ returns, story by story

MOSCOW = ZoneInfo("Europe/Moscow")
D = Decimal


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=MOSCOW)


def _play(program: str, story: list[tuple]) -> list[list[tuple[str, ...]]]:
    """Each step through the three engines; returns per step the three results.
    Steps: ("buy", id, customer, time, lines, codes, redeem), ("return", id, customer,
    time, purchase id), ("again", step number): deliver that step's event again."""
    runners = [load(program, kind) for kind in KINDS]
    built: list[list] = []
    results = []
    for step in story:
        if step[0] == "again":
            events = built[step[1]]
        elif step[0] == "buy":
            _, event_id, customer, at, lines, codes, redeem = step
            events = [runner.make(event_id, customer, _at(at), lines, codes, redeem) for runner in runners]
        else:
            _, event_id, customer, at, purchase_id = step
            events = [runner.make_refund(event_id, customer, _at(at), purchase_id) for runner in runners]
        built.append(events)
        results.append([runner.result(event, runner.process(event)) for runner, event in zip(runners, events, strict=True)])
    return results


def _agree(program: str, story: list[tuple]) -> list[tuple[str, ...]]:
    results = _play(program, story)
    for number, trio in enumerate(results):
        hand, compiled, interp = trio
        assert same(compiled, hand) and same(compiled, interp), f"step {number} {story[number][:2]}: {trio}"
    return [trio[1] for trio in results]


GRINDER = ("hand-grinder", "accessories")


def test_returns_claw_back_forgive_and_chain_the_same_way() -> None:
    """The points a returned order earned were spent by a later order: the return claws
    back what it can from the pending points and forgives the rest; returning the
    spending order then pays the forgiven part and puts the clawed points back."""
    got = _agree(
        "capsboutique",
        [
            ("buy", "p1", "ann", "2025-06-02 12:00", [(*GRINDER, 1, D(3000))], (), None),  # earns 300
            ("buy", "p2", "ann", "2025-06-17 12:00", [(*GRINDER, 1, D(2000))], (), "max"),  # spends the 300, earns 170
            ("return", "r1", "ann", "2025-06-18 12:00", "p1"),  # 300 back: 170 clawed, 130 forgiven
            ("return", "r2", "ann", "2025-06-19 12:00", "p2"),  # the 300 settle 130, give 170 back; 170 taken
            ("buy", "p3", "ann", "2025-07-20 12:00", [(*GRINDER, 1, D(2000))], (), "max"),  # nothing to spend
            ("again", 3),  # r2 delivered again
            ("again", 4),  # p3 delivered again
        ],
    )
    assert same(got[2], ("ok", "3000", "170", "0", "Bronze"))
    assert same(got[3], ("ok", "1700", "170", "170", "Bronze"))
    assert got[4][3] == "0"
    assert [figures[0] for figures in got[5:]] == ["replay", "replay"]


def test_returns_refused_and_points_given_back_to_a_burned_lot() -> None:
    got = _agree(
        "capsboutique",
        [
            ("buy", "p1", "bob", "2025-05-20 12:00", [(*GRINDER, 1, D(3000))], (), None),  # 300, burn 1 June 2026
            ("buy", "p2", "bob", "2025-06-20 12:00", [(*GRINDER, 1, D(1000))], (), None),  # 100, burn 1 July 2026
            ("buy", "p3", "bob", "2026-05-25 12:00", [(*GRINDER, 1, D(2000))], (), D(350)),  # spends 300 + 50
            ("return", "r3", "bob", "2026-06-05 12:00", "p3"),  # the 300 are burned by now: only 50 come back
            ("return", "r3b", "bob", "2026-06-06 12:00", "p3"),  # returned already
            ("return", "r2", "bob", "2026-06-07 12:00", "p2"),  # a year old
            ("return", "r9", "bob", "2026-06-07 12:00", "p9"),  # no such order
            ("buy", "p4", "bob", "2026-06-08 12:00", [(*GRINDER, 1, D(12000)), ("gift-mug", "promo", 1, D(600))], ("SKIDKA30",), None),
            ("return", "r4", "bob", "2026-06-09 12:00", "p4"),  # cancelled: nothing to return
            ("buy", "p5", "cat", "2026-06-08 12:00", [(*GRINDER, 1, D(1000))], (), None),
            ("return", "r5", "bob", "2026-06-09 12:00", "p5"),  # somebody else's order
            ("return", "r5b", "cat", "2026-07-08 12:00", "p5"),  # exactly 30 days: accepted
            ("buy", "p6", "cat", "2026-07-08 12:00", [(*GRINDER, 1, D(1000))], (), None),
            ("return", "r6", "cat", "2026-08-07 12:00:01", "p6"),  # 30 days and a second: refused
        ],
    )
    assert same(got[3], ("ok", "1650", "165", "50", "Bronze"))
    assert [figures[0] for figures in got[4:9:]] == ["rejected", "rejected", "rejected", "cancelled", "rejected"]
    assert got[10][0] == "rejected" and got[11][0] == "ok" and got[13][0] == "rejected"


def test_return_around_the_yearly_review() -> None:
    """A return takes its spend out of the level window at the order's date; the level
    only falls at the review on 1 January."""
    got = _agree(
        "capsboutique",
        [
            ("buy", "p1", "dan", "2025-12-01 12:00", [(*GRINDER, 1, D(20000))], (), None),  # 18,000: Bronze
            ("buy", "p2", "dan", "2025-12-10 12:00", [(*GRINDER, 1, D(20000))], (), None),  # 36,000: Silver
            ("return", "r2", "dan", "2025-12-20 12:00", "p2"),  # Silver until the review
            ("buy", "p3", "dan", "2026-01-02 12:00", [(*GRINDER, 1, D(1000))], (), None),  # reviewed: Bronze
        ],
    )
    assert [figures[-1] for figures in got] == ["Bronze", "Silver", "Silver", "Bronze"]


LENS = ("acuvue-oasys", "lenses")


def test_lens_returns_take_stamps_and_free_pairs_back() -> None:
    story: list[tuple] = [("buy", f"p{day}", "eve", f"2026-03-{day:02d} 12:00", [(*LENS, 1, D(1780))], (), None) for day in range(1, 10)]
    story += [
        ("buy", "p10", "eve", "2026-03-10 12:00", [(*LENS, 3, D(1780))], (), None),  # 12 stamps: a free pair waits
        ("return", "r10", "eve", "2026-03-11 12:00", "p10"),  # the free pair goes; the card gets 10 - 3
        ("buy", "p11", "eve", "2026-03-12 12:00", [(*LENS, 3, D(1780))], (), None),  # 10: a free pair waits
        ("buy", "p12", "eve", "2026-03-13 12:00", [(*LENS, 1, D(1780))], (), None),  # free: costs nothing
        ("return", "r12", "eve", "2026-03-14 12:00", "p12"),  # accepted, 0.00 back
        ("return", "r11", "eve", "2026-03-15 12:00", "p11"),  # the free pair was taken: stamps stay
        ("buy", "q1", "fay", "2026-03-01 12:00", [(*LENS, 2, D(1780))], (), None),
        ("buy", "q2", "fay", "2026-03-21 12:00", [(*LENS, 1, D(1780))], (), None),
        ("return", "rq2", "fay", "2026-03-22 12:00", "q2"),  # takes a stamp of 1 March, the oldest
        ("buy", "q3", "fay", "2027-03-02 12:00", [("opti-free-300ml", "solutions", 1, D(450))], (), None),
        ("again", 18),
    ]
    got = _agree("lensmaster", story)
    assert same(got[9][2:], ("0", "1"))
    assert same(got[10], ("ok", "5340", "7", "0"))
    assert same(got[13][:2], ("ok", "0"))
    assert got[14][0] == "ok"
    assert got[17][2] == "2"
    assert got[18][2] == "1"  # q1's stamp left lapsed on 1 March 2027, q2's stays until the 21st
    assert got[19][0] == "replay"


def test_thresholds_returns_within_14_days() -> None:
    tv = ("tv-55", "electronics")
    got = _agree(
        "thresholds",
        [
            ("buy", "p1", "gus", "2026-03-01 12:00", [(*tv, 1, D(45990))], (), None),
            ("return", "r1", "gus", "2026-03-15 12:00", "p1"),  # exactly 14 days
            ("buy", "p2", "gus", "2026-03-16 12:00", [(*tv, 1, D(45990))], (), None),
            ("return", "r2", "gus", "2026-03-30 12:00:01", "p2"),  # a second late
            ("again", 1),
        ],
    )
    assert same(got[1], ("ok", "43690.50"))
    assert got[3][0] == "rejected"
    assert same(got[4], ("replay",))


def test_cachegrind_child_runs_the_stream_and_counts_its_events(capsys: pytest.CaptureFixture[str]) -> None:
    """bench/cachegrind.py's child, without valgrind: the same stream processed or only
    made gives the same count of events (purchases, returns and repeated deliveries)."""
    from bench import cachegrind

    counts = []
    for mode in ("process", "stream"):
        assert cachegrind.main(["--child", "thresholds", "compiled", "120", "10", str(SEED), mode]) == 0
        counts.append(int(capsys.readouterr().out))
    assert counts[0] == counts[1] > 120


def test_cachegrind_says_when_valgrind_is_missing(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bench import cachegrind

    monkeypatch.setattr(cachegrind.shutil, "which", lambda name: None)
    assert cachegrind.main(["--programs", "thresholds"]) == 2
    assert "valgrind is not installed" in capsys.readouterr().err


def test_opcodes_per_function_name_the_purchase_path_and_count_only_the_traced(capsys: pytest.CaptureFixture[str]) -> None:
    """bench/opcodes.py traces only the last events asked for, names the compiled
    module's purchase path among the functions that ran, and prints both engines and
    their ratio."""
    from bench.opcodes import main, opcodes_per_event

    traced, opcodes, calls = opcodes_per_event("thresholds", "compiled", 200, 50, CUSTOMERS, SEED, PURCHASE)
    assert 0 < traced <= 50
    assert "purchase_path" in {code.co_name for code in opcodes}
    assert all(calls[code] > 0 for code in opcodes)  # every function that ran was entered
    assert main(["--programs", "thresholds", "--events", "200", "--measured", "50", "--customers", str(CUSTOMERS), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "thresholds handwritten:" in out and "thresholds compiled:" in out and "compiled / hand-written:" in out


def test_time_by_kind_counts_every_event_of_the_stream_once(capsys: pytest.CaptureFixture[str]) -> None:
    """bench/kinds.py times each event under its kind: the counts add up to the stream's,
    and it prints one row per engine and kind."""
    from bench.kinds import main, time_by_kind

    runner = load("thresholds", "compiled")
    stream = event_stream("thresholds", 300, runner.make, runner.make_refund, CUSTOMERS, SEED)
    expected = {kind: 0 for kind in (PURCHASE, REFUND, DUPLICATE)}
    for kind, _ in stream:
        expected[kind] += 1
    figures = time_by_kind("thresholds", "compiled", 300, CUSTOMERS, SEED)
    assert {kind: count for kind, (count, _) in figures.items()} == expected
    assert expected[REFUND] and all(spent > 0 for count, spent in figures.values() if count)
    assert main(["--programs", "thresholds", "--events", "300", "--customers", str(CUSTOMERS)]) == 0
    out = capsys.readouterr().out
    assert sum(line.split()[:1] in (["handwritten"], ["compiled"]) for line in out.splitlines()) == 6


def test_the_bench_runs_each_engine_in_rounds_and_reports_the_median_one(capsys: pytest.CaptureFixture[str]) -> None:
    """bench/run.py runs the engines in turn, `--rounds` times, reports each engine's
    median round, and prints every round's compiled / hand-written ratio."""
    from bench.run import main, median_run, round_ratios

    runs = [{"seconds": 3.0}, {"seconds": 1.0}, {"seconds": 2.0}]
    assert median_run(runs)["seconds"] == 2.0 and median_run(runs[:2])["seconds"] == 1.0
    assert round_ratios({"handwritten": runs[:2], "compiled": [{"seconds": 6.0}, {"seconds": 1.5}]}) == [2.0, 1.5]
    assert main(["--programs", "thresholds", "--events", "150", "--customers", str(CUSTOMERS), "--rounds", "2", "--no-half"]) == 0
    out = capsys.readouterr().out
    assert len(re.findall(r"round by round: \d+\.\d\dx, \d+\.\d\dx \(", out)) == 1
    assert "in every round: hand-written = compiled = interpreter" in out
    assert re.search(r"\| thresholds \| [\d,]+ \| [\d,]+ \| [\d,]+ \| \d+\.\d\dx \|", out)


def test_a_worker_reports_its_own_peak_memory_not_its_parents() -> None:
    """A child started by vfork carries its parent's high-water mark into ru_maxrss
    across exec: with 160 MB held here, a worker that needs ~25 MB said 180 MB.
    bench/run.py reads the worker's own VmHWM instead."""
    from bench.run import measure_in_subprocess

    held = bytearray(160 * 1024 * 1024)
    held[:: 4096] = b"\1" * len(held[:: 4096])  # touched: resident
    run = measure_in_subprocess("thresholds", "handwritten", 100, CUSTOMERS, SEED)
    assert 0 < run["peak_kb"] < 100 * 1024, run["peak_kb"]
    del held


def test_the_bench_refuses_zero_rounds_before_printing_anything(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.run import main

    with pytest.raises(SystemExit) as stop:
        main(["--programs", "thresholds", "--rounds", "0"])
    assert stop.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "--rounds must be at least 1" in captured.err


def test_variants_time_edited_copies_of_a_module_side_by_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """bench/variants.py runs the hand-written code and each module given, in turn, in
    fresh processes, and reports each one's median against the hand-written code's."""
    from bench.variants import ROOT, main

    module = ROOT / "generated" / "thresholds.py"
    edited = tmp_path / "no_record.py"
    text = module.read_text(encoding="utf-8")
    assert "    customer.purchases[event.id] = (" in text
    edited.write_text(text.replace("    customer.purchases[event.id] = (", "    _dropped = (", 1), encoding="utf-8")
    assert main(["thresholds", str(module), str(edited), "--rounds", "2", "--events", "120", "--customers", "12"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "thresholds: 120 purchases, 12 customers, 2 rounds"
    assert [line.split()[0] for line in lines[1:]] == ["hand-written", str(module), str(edited)]
    assert all("us/event" in line and "of hand-written" in line for line in lines[1:])
    with pytest.raises(SystemExit):
        main(["thresholds", str(tmp_path / "missing.py")])
    assert "no such module" in capsys.readouterr().err
