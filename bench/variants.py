"""Time variants of a compiled module against each other and the hand-written code.

A question such as "what does keeping the refund record cost?" is answered by editing a
copy of generated/<program>.py (drop the record, skip a step: the results may then be
wrong, which is the point) and timing the copies side by side. On a shared machine one
run of an engine moves by 10-35%, so the engines run in turn, round after round, each
in a fresh process on the bench's own stream and timing (bench/run.py's `measure`,
samples off), and the medians are compared. The hand-written code runs in every round
as the yardstick.

    PYTHONPATH=. python bench/variants.py thresholds generated/thresholds.py /tmp/no_record.py
    PYTHONPATH=. python bench/variants.py capsboutique generated/capsboutique.py /tmp/v.py --rounds 5 --events 100000

Prints, per engine, the median microseconds per event, the best round, the ratio to the
hand-written median and every round.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.engines import import_generated  # noqa: E402
from bench.run import DEFAULT_CUSTOMERS, DEFAULT_EVENTS, measure, run_worker  # noqa: E402
from bench.stream import PROGRAMS  # noqa: E402

HANDWRITTEN = "handwritten"


def worker(program: str, module: str, events: int, customers: int, seed: int) -> None:
    """One run in this process: the hand-written code, or the module at `module`
    registered under the name bench/engines.py imports generated modules by."""
    kind = HANDWRITTEN
    if module != HANDWRITTEN:
        kind = "compiled"
        import_generated(program, Path(module))  # what `load` then finds for the program
    run = measure(program, kind, events, customers, seed, samples=False)
    print(json.dumps({"seconds": run["seconds"], "events": run["events"]}))


def one_run(program: str, module: str, events: int, customers: int, seed: int) -> float:
    """Microseconds per event of one run, in a fresh process."""
    figures = run_worker(Path(__file__).resolve(), [program, module, str(events), str(customers), str(seed)], f"variants: the run of {module}")
    return float(figures["seconds"]) / int(figures["events"]) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("program", choices=PROGRAMS)
    parser.add_argument("modules", nargs="+", type=Path, help="compiled modules (generated/<program>.py and edited copies of it)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="purchases (returns and repeats come on top)")
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":  # a run inside its own process
        program, module, events, customers, seed = sys.argv[2:7]
        worker(program, module, int(events), int(customers), int(seed))
        return 0
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    for module in args.modules:
        if not module.is_file():
            parser.error(f"no such module: {module}")
    engines = [HANDWRITTEN, *(str(module.resolve()) for module in args.modules)]
    times: dict[str, list[float]] = {engine: [] for engine in engines}
    for _ in range(args.rounds):
        for engine in engines:
            times[engine].append(one_run(args.program, engine, args.events, args.customers, args.seed))
    base = statistics.median(times[HANDWRITTEN])
    labels = {HANDWRITTEN: "hand-written", **{str(module.resolve()): str(module) for module in args.modules}}
    width = max(len(label) for label in labels.values())
    print(f"{args.program}: {args.events:,} purchases, {args.customers:,} customers, {args.rounds} round{'s' if args.rounds != 1 else ''}")
    for engine in engines:
        median = statistics.median(times[engine])
        rounds = ", ".join(f"{t:.2f}" for t in times[engine])
        print(f"  {labels[engine]:<{width}}  median {median:7.3f} us/event  best {min(times[engine]):7.3f}  x{median / base:.3f} of hand-written  ({rounds})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
