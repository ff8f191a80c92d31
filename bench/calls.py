"""Function calls per event, engine by engine: a figure that does not move with the load
on a shared machine, unlike time.

The time ratios of `bench/run.py` vary by 20-50% from one run to the next on a busy
machine; the number of Python function calls (and calls into C) an engine makes per
event does not, and in CPython it is most of what a purchase costs. It is the figure to
watch when changing the engine or the code generator.

    PYTHONPATH=. python bench/calls.py                 # 2,000 events per program
    PYTHONPATH=. python bench/calls.py --events 5000 --programs thresholds
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.engines import KINDS, load  # noqa: E402
from bench.stream import PROGRAMS, event_stream  # noqa: E402


def calls_per_event(program: str, kind: str, events: int, customers: int, seed: int) -> tuple[float, float]:
    """(Python calls, calls into C) per event of the stream, `process` only."""
    runner = load(program, kind)
    stream = list(event_stream(program, events, runner.make, runner.make_refund, customers, seed))
    counts = {"call": 0, "c_call": 0}

    def count(frame: Any, event: str, arg: Any) -> None:
        if event in counts:
            counts[event] += 1

    process = runner.process
    sys.setprofile(count)
    try:
        for _, event in stream:
            process(event)
    finally:
        sys.setprofile(None)
    # The loop's own call of `process` is counted once per event; leave it out.
    return (counts["call"] - len(stream)) / len(stream), counts["c_call"] / len(stream)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--programs", nargs="+", default=list(PROGRAMS), choices=PROGRAMS)
    parser.add_argument("--events", type=int, default=2_000, help="purchases per program (refunds and repeats come on top)")
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    print(f"{'program':<14}{'engine':<13}{'Python calls/event':>20}{'C calls/event':>15}{'vs hand-written':>17}")
    for program in args.programs:
        figures = {kind: calls_per_event(program, kind, args.events, args.customers, args.seed) for kind in KINDS}
        base = sum(figures["handwritten"])
        for kind in KINDS:
            python_calls, c_calls = figures[kind]
            print(f"{program:<14}{kind:<13}{python_calls:>20.1f}{c_calls:>15.1f}{(python_calls + c_calls) / base:>16.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
