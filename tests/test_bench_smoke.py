"""bench/run.py's code path on a few hundred purchases per program: the stream is
deterministic, and the hand-written checkouts agree with the compiled module and the
interpreter on every purchase. No timing is asserted (that is `make bench`'s job)."""

from __future__ import annotations

import pytest

from bench.run import differences, measure, verify_all
from bench.stream import PROGRAMS, purchases

EVENTS = 300
CUSTOMERS = 20  # few customers, so each buys often: tiers, redemption, full stamp cards
SEED = 14  # a seed whose 300 purchases include a cancelled order (SKIDKA30 with the gift mug)


def _raw(program: str, events: int) -> list[tuple]:
    return list(purchases(program, events, lambda *fields: fields, CUSTOMERS, SEED))


def test_stream_is_deterministic_and_in_time_order() -> None:
    first, second = _raw("capsboutique", EVENTS), _raw("capsboutique", EVENTS)
    assert first == second
    assert len(first) == EVENTS
    times = [at for _, _, at, *_ in first]
    assert times == sorted(times)
    # The same customers at the same instants for every program; only baskets differ.
    skeleton = [(customer, at) for _, customer, at, *_ in first]
    for program in PROGRAMS[1:]:
        assert [(customer, at) for _, customer, at, *_ in _raw(program, EVENTS)] == skeleton


@pytest.mark.parametrize("program", PROGRAMS)
def test_hand_written_agrees_with_both_engines(program: str) -> None:
    runs = {kind: measure(program, kind, EVENTS, CUSTOMERS, SEED) for kind in ("handwritten", "compiled", "interpreter")}
    compiled = runs["compiled"]
    assert compiled["events"] == EVENTS
    assert len(compiled["samples"]) == EVENTS  # below 2,000 every purchase is a sample
    assert differences(compiled, runs["handwritten"]) == []
    assert differences(compiled, runs["interpreter"]) == []
    assert all(run["peak_kb"] > 0 for run in runs.values())


def test_stream_exercises_what_the_bench_claims() -> None:
    """Codes, a cancelled order, redemption, a tier above Bronze; a free pair of lenses."""
    caps = measure("capsboutique", "compiled", EVENTS, CUSTOMERS, SEED)["samples"]
    statuses = {figures[0] for _, _, figures in caps}
    assert "cancelled" in statuses
    assert any(figures[3] not in ("0", "") for _, _, figures in caps)  # points redeemed
    assert {figures[4] for _, _, figures in caps} & {"Silver", "Gold"}
    lens = measure("lensmaster", "compiled", EVENTS, CUSTOMERS, SEED)["samples"]
    assert any(figures[3] != "0" for _, _, figures in lens)  # a free pair was waiting


def test_verify_all_finds_no_difference() -> None:
    assert verify_all("thresholds", 100, CUSTOMERS, SEED) == 0
