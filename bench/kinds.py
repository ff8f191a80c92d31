"""Time per kind of event: purchases, returns and repeated deliveries, each engine.

`make bench` gives one rate for the whole stream; this splits it, so that a kind of
event that is rare but slow shows. It found, for example, that a thresholds return
took 42 us in the compiled module against 3.5 us in the hand-written code (about 8% of
the module's time for 2% of the events), because it worked out the record's lines.

Each event is timed alone (`time.perf_counter_ns` around `process`), so the figures
carry the clock's own cost, the same for every engine; the stream is made in chunks
as in `bench/run.py`, outside the timing. Engines run one after another in this
process: compare them on one run, and repeat (the machine is shared).

    PYTHONPATH=. python bench/kinds.py                               # every program, hand-written and compiled
    PYTHONPATH=. python bench/kinds.py --programs thresholds --engines handwritten compiled interpreter
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.engines import KINDS, load  # noqa: E402
from bench.stream import DUPLICATE, PROGRAMS, PURCHASE, REFUND, event_stream  # noqa: E402

EVENT_KINDS = (PURCHASE, REFUND, DUPLICATE)
CHUNK = 5_000  # events made at a time, as bench/run.py does


def time_by_kind(program: str, engine: str, events: int, customers: int, seed: int) -> dict[str, tuple[int, int]]:
    """Per kind of event: (how many, nanoseconds in `process` in all)."""
    runner = load(program, engine)
    stream = event_stream(program, events, runner.make, runner.make_refund, customers, seed)
    process, clock = runner.process, time.perf_counter_ns
    counts = dict.fromkeys(EVENT_KINDS, 0)
    spent = dict.fromkeys(EVENT_KINDS, 0)
    while chunk := list(itertools.islice(stream, CHUNK)):
        for kind, event in chunk:
            start = clock()
            process(event)
            spent[kind] += clock() - start
            counts[kind] += 1
    return {kind: (counts[kind], spent[kind]) for kind in EVENT_KINDS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--programs", nargs="+", default=list(PROGRAMS), choices=PROGRAMS)
    parser.add_argument("--engines", nargs="+", default=["handwritten", "compiled"], choices=KINDS)
    parser.add_argument("--events", type=int, default=40_000, help="purchases in the stream (returns and repeats come on top)")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    for program in args.programs:
        print(f"{program}: {args.events:,} purchases of {args.customers:,} customers")
        print(f"  {'engine':<12} {'kind':<10} {'events':>7} {'us each':>8} {'share of time':>14}")
        for engine in args.engines:
            figures = time_by_kind(program, engine, args.events, args.customers, args.seed)
            total = sum(spent for _, spent in figures.values()) or 1
            for kind, (count, spent) in figures.items():
                each = f"{spent / count / 1000:.2f}" if count else "-"
                print(f"  {engine:<12} {kind:<10} {count:>7,} {each:>8} {spent / total:>13.1%}")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
