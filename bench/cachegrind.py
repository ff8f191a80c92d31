"""Instructions and cache misses per event, engine by engine, counted by valgrind's
cachegrind: figures that do not move with the load on a shared machine, unlike time.

`bench/calls.py` counts calls; this counts what the calls cost the processor, and what
they cost in memory, which calls do not show: on the bench's stream most of the gap to
the hand-written code is data that is cold when an event touches it (a customer's state
last seen weeks ago, a purchase record freed when its refund window closes, the garbage
collector walking objects kept for months). Each engine runs the stream twice under
cachegrind, once processing it and once only making it, and the difference is divided
by the number of events.

    PYTHONPATH=. python bench/cachegrind.py                      # 20,000 purchases of 1,000 customers
    PYTHONPATH=. python bench/cachegrind.py --programs thresholds --engines handwritten compiled interpreter

It needs valgrind (Debian: `apt-get install valgrind`); each run takes about 50 times
as long as without it. The simulated caches: 32 KiB first-level instruction and data
caches, 8-way, and a last-level cache of `--ll-kib` (1,024 KiB by default), 16-way,
64-byte lines.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.engines import KINDS, load  # noqa: E402
from bench.stream import PROGRAMS, event_stream  # noqa: E402

CHUNK = 5_000  # the stream is made and let go in chunks, as bench/run.py does
FIGURES = {"Ir": "I   refs", "D1": "D1  misses", "LL": "LLd misses"}  # what cachegrind's summary calls them


def child(program: str, kind: str, events: int, customers: int, seed: int, process: bool) -> None:
    """Make the stream in chunks and, if `process`, run each chunk through the engine;
    print how many events there were."""
    runner = load(program, kind)
    stream = event_stream(program, events, runner.make, runner.make_refund, customers, seed)
    run = runner.process
    count = 0
    while chunk := [event for _, event in itertools.islice(stream, CHUNK)]:
        if process:
            for event in chunk:
                run(event)
        count += len(chunk)
    print(count)


def counted(program: str, kind: str, args: argparse.Namespace, process: bool) -> tuple[int, dict[str, int]]:
    """(events, cachegrind's totals) for one run of the child under valgrind."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as scratch:
        command = [
            "valgrind", "--tool=cachegrind", "--cache-sim=yes",
            "--I1=32768,8,64", "--D1=32768,8,64", f"--LL={args.ll_kib * 1024},16,64",
            f"--cachegrind-out-file={Path(scratch) / 'out'}",
            sys.executable, str(Path(__file__).resolve()), "--child", program, kind,
            str(args.events), str(args.customers), str(args.seed), "process" if process else "stream",
        ]  # fmt: skip
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"cachegrind: the {kind} run of {program} failed (exit {done.returncode})")
    totals = {}
    for name, label in FIGURES.items():
        found = re.search(rf"{re.escape(label)}:\s+([\d,]+)", done.stderr)
        if found is None:
            raise SystemExit(f"cachegrind: no {label!r} in valgrind's summary for the {kind} run of {program}")
        totals[name] = int(found.group(1).replace(",", ""))
    return int(done.stdout.split()[-1]), totals


def per_event(program: str, kind: str, args: argparse.Namespace) -> dict[str, float]:
    """What processing costs per event: the processing run less the stream-only run."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        processing = pool.submit(counted, program, kind, args, True)
        making = pool.submit(counted, program, kind, args, False)
        events, with_processing = processing.result()
        _, stream_only = making.result()
    return {name: (with_processing[name] - stream_only[name]) / events for name in FIGURES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--programs", nargs="+", default=list(PROGRAMS), choices=PROGRAMS)
    parser.add_argument("--engines", nargs="+", default=["handwritten", "compiled"], choices=KINDS)
    parser.add_argument("--events", type=int, default=20_000, help="purchases per program (refunds and repeats come on top)")
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--ll-kib", type=int, default=1024, help="size of the simulated last-level cache")
    parser.add_argument("--child", nargs=6, metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        program, kind, events, customers, seed, mode = args.child
        child(program, kind, int(events), int(customers), int(seed), mode == "process")
        return 0
    if shutil.which("valgrind") is None:
        print("cachegrind: valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    print(f"{args.events:,} purchases of {args.customers:,} customers (with returns and repeated deliveries), per event:")
    print(f"{'program':<14}{'engine':<13}{'instructions':>14}{'D1 misses':>11}{'LL misses':>11}{'vs hand-written':>30}")
    for program in args.programs:
        figures = {kind: per_event(program, kind, args) for kind in args.engines}
        base = figures.get("handwritten")
        for kind, counts in figures.items():
            versus = "" if base is None or kind == "handwritten" else " / ".join(f"{counts[n] / base[n]:.2f}x" for n in FIGURES)
            print(f"{program:<14}{kind:<13}{counts['Ir']:>14,.0f}{counts['D1']:>11.1f}{counts['LL']:>11.1f}{versus:>30}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
