"""Python bytecodes executed per event, by function: where an engine's work goes, in a
figure the load on a shared machine does not move.

`bench/calls.py` counts calls and `bench/cachegrind.py` machine instructions, both for
the whole engine; this one says which Python functions execute how many bytecodes per
event (each function's own, not its callees'), next to how often each is called. It
found, for example, that a capsboutique purchase spent more bytecodes checking the
engine's own times and amounts on their way into the points ledger than adding the lot.

The stream is processed once untraced to give the customers a history (a purchase
late in the stream meets months of kept points, tier entries and refund records), then
its last `--measured` events are traced opcode by opcode (slow: keep it small).

    PYTHONPATH=. python bench/opcodes.py                        # every program, compiled and hand-written
    PYTHONPATH=. python bench/opcodes.py --programs capsboutique --engines compiled --top 40
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.engines import KINDS, load  # noqa: E402
from bench.stream import DUPLICATE, PROGRAMS, PURCHASE, REFUND, event_stream  # noqa: E402


def opcodes_per_event(program: str, kind: str, events: int, measured: int, customers: int, seed: int, only: str | None) -> tuple[int, Counter[CodeType], Counter[CodeType]]:
    """(events traced, bytecodes per function, calls per function), over the last
    `measured` events of a stream of `events` purchases (of kind `only`, if given)."""
    runner = load(program, kind)
    stream = list(event_stream(program, events, runner.make, runner.make_refund, customers, seed))
    opcodes: Counter[CodeType] = Counter()
    calls: Counter[CodeType] = Counter()

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "opcode":
            opcodes[frame.f_code] += 1
        elif event == "call":
            calls[frame.f_code] += 1
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
        return trace

    process = runner.process
    first_traced = max(0, len(stream) - measured)
    traced = 0
    for index, (event_kind, event) in enumerate(stream):
        if index < first_traced or (only is not None and event_kind != only):
            process(event)
            continue
        traced += 1
        sys.settrace(trace)
        try:
            process(event)
        finally:
            sys.settrace(None)
    return traced, opcodes, calls


def where(code: CodeType) -> str:
    return f"{code.co_name} ({os.path.basename(code.co_filename)}:{code.co_firstlineno})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--programs", nargs="+", default=list(PROGRAMS), choices=PROGRAMS)
    parser.add_argument("--engines", nargs="+", default=["handwritten", "compiled"], choices=KINDS)
    parser.add_argument("--events", type=int, default=7_000, help="purchases in the stream (refunds and repeats come on top)")
    parser.add_argument("--measured", type=int, default=1_000, help="events traced, at the end of the stream")
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--only", choices=[PURCHASE, REFUND, DUPLICATE], default=PURCHASE, help="trace only these events (default: purchases)")
    parser.add_argument("--all-events", action="store_true", help="trace every kind of event")
    parser.add_argument("--top", type=int, default=15, help="functions listed per engine")
    args = parser.parse_args(argv)
    only = None if args.all_events else args.only
    for program in args.programs:
        totals: dict[str, float] = {}
        for kind in args.engines:
            traced, opcodes, calls = opcodes_per_event(program, kind, args.events, args.measured, args.customers, args.seed, only)
            if not traced:
                print(f"{program} {kind}: no {only} among the last {args.measured} events", file=sys.stderr)
                return 2
            totals[kind] = sum(opcodes.values()) / traced
            print(f"{program} {kind}: {totals[kind]:,.0f} bytecodes and {sum(calls.values()) / traced:.1f} Python calls per {only or 'event'} ({traced} traced)")
            print(f"  {'bytecodes':>10} {'calls':>6}  function")
            for code, count in opcodes.most_common(args.top):
                print(f"  {count / traced:>10.1f} {calls[code] / traced:>6.2f}  {where(code)}")
        if "handwritten" in totals:
            for kind, total in totals.items():
                if kind != "handwritten":
                    print(f"{program} {kind} / hand-written: {total / totals['handwritten']:.2f}x the bytecodes")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
