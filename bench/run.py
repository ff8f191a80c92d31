"""Throughput and memory of three ways to run a loyalty program, on one machine, in one run.

For each program (points and tiers: capsboutique, whose stream also carries the code
SKIDKA30; stamps: lensmaster; a threshold discount: thresholds) the same in-memory
stream of events (bench/stream.py: 200,000 purchases of 10,000 customers over 14
months by default, plus about 2% of them returned whole and 0.5% delivered twice)
goes through

  (a) hand-written  bench/handwritten/<program>.py, plain Python without loyaldsl;
  (b) compiled      generated/<program>.py, the module `loyaldsl compile` wrote;
  (c) interpreter   loyaldsl.check.check_file + loyaldsl.interpret.interpreter;

each in a fresh subprocess, which reports the time spent in `process` calls (CPU time
of the process, so other load on the machine does not count; wall time is shown too;
the stream is generated in chunks outside the timed part), its peak RSS (VmHWM)
after the run, and the results of a sample of events (the first 2,000 purchases, every
50th after them, every return and every repeated delivery). The parent checks that the
three engines agree on every sampled event (paid, points earned and spent, tier;
stamps; money refunded, points taken and given back; replays) and exits 1, after
printing what differs, if they do not. The three engines run in turn, three rounds by
default (`--rounds`), and each engine's median round is reported, with every round's
compiled / hand-written ratio: one run of each on a shared machine moved by 10-35%.
The compiled and hand-written engines run once more with half the purchases and the
same customers, to show how memory grows with events.

    make bench                                  # the full run (5 to 8 minutes)
    PYTHONPATH=. python bench/run.py --quick    # 20,000 purchases, 2,000 customers
    python bench/run.py --programs lensmaster --events 50000
    python bench/run.py --verify-all            # no timing: compare EVERY event
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.engines import KINDS, generated_is_stale, load, same  # noqa: E402
from bench.stream import PROGRAMS, PURCHASE, event_stream, is_sample  # noqa: E402

KIND_OF_PROGRAM = {"capsboutique": "points and tiers", "lensmaster": "stamps", "thresholds": "threshold discount"}
LABELS = {"handwritten": "hand-written", "compiled": "compiled", "interpreter": "interpreter"}
CHUNK = 5_000
DEFAULT_EVENTS = 200_000
DEFAULT_CUSTOMERS = 10_000
QUICK_EVENTS = 20_000
QUICK_CUSTOMERS = 2_000


# ------------------------------------------------------------------ one measurement


def peak_rss_kb() -> int:
    """This process's peak resident set size, in KiB. On Linux from /proc (VmHWM, the
    high-water mark of this program's own memory): `ru_maxrss` also counts the memory of
    the process that started it, which a child made by vfork carries across exec (the
    bench's parent, holding every run's samples, showed through as 103 MB for every
    engine). Elsewhere `ru_maxrss`."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak // 1024 if sys.platform == "darwin" else peak


def rss_now_kb() -> int:
    """Resident set size now, in KiB (Linux /proc; 0 where it is not available)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, ValueError):
        return 0


def measure(program: str, kind: str, events: int, customers: int, seed: int, samples: bool = True) -> dict[str, Any]:
    """Run one engine over the stream in this process; time only `process` calls.
    `events` is the number of purchases; returns and repeated deliveries come on top."""
    runner = load(program, kind)
    rss_before = rss_now_kb()
    stream = event_stream(program, events, runner.make, runner.make_refund, customers, seed)
    process, result = runner.process, runner.result
    sampled: list[tuple[int, str, str, tuple[str, ...]]] = []
    seconds = wall = 0.0
    index = purchase = 0
    cpu_clock, wall_clock = time.process_time, time.perf_counter
    while True:
        chunk = list(itertools.islice(stream, CHUNK))
        if not chunk:
            break
        # Which results to keep is decided here, outside the timed part: sampled
        # purchases, and every return and repeated delivery.
        batch = []
        for kind_of_event, event in chunk:
            keep = None
            if kind_of_event == PURCHASE:
                if samples and is_sample(purchase):
                    keep = (index, kind_of_event)
                purchase += 1
            elif samples:
                keep = (index, kind_of_event)
            batch.append((event, keep))
            index += 1
        cpu_start, wall_start = cpu_clock(), wall_clock()
        for event, keep in batch:
            outcome = process(event)
            if keep is not None:
                # Reducing the outcome reads the state as this event left it, so it is
                # done here, with the clocks stopped: it is the bench's work, and it
                # costs each engine differently (0.2 to 2.5 us an event).
                cpu_paused, wall_paused = cpu_clock(), wall_clock()
                sampled.append((*keep, event.id, result(event, outcome)))
                cpu_start += cpu_clock() - cpu_paused
                wall_start += wall_clock() - wall_paused
        seconds += cpu_clock() - cpu_start
        wall += wall_clock() - wall_start
    peak = peak_rss_kb()
    return {
        "program": program,
        "kind": kind,
        "events": index,  # purchases + refunds + duplicates
        **stream.counts(),
        "customers": runner.customers(),
        "seconds": seconds,  # CPU time of this process in `process` calls
        "wall": wall,  # wall-clock time of the same
        "rss_before_kb": rss_before,
        "peak_kb": peak,
        "samples": sampled,
    }


def run_worker(script: Path, arguments: list[str], what: str) -> dict[str, Any]:
    """`script --worker ARGUMENTS` in a fresh interpreter with the project on its path,
    and the JSON it prints; on failure its errors, then exit naming `what` failed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, str(script), "--worker", *arguments], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{what} failed (exit {done.returncode})")
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def measure_in_subprocess(program: str, kind: str, events: int, customers: int, seed: int) -> dict[str, Any]:
    """A fresh interpreter per engine, so each peak RSS is that engine's alone."""
    return run_worker(Path(__file__).resolve(), [program, kind, str(events), str(customers), str(seed)], f"bench: the {kind} run of {program}")


# ------------------------------------------------------------------ comparing results


def differences(reference: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Sampled events whose figures differ (every one is returned; print a few)."""
    problems = []
    if len(reference["samples"]) != len(other["samples"]):
        problems.append(f"{len(reference['samples'])} samples vs {len(other['samples'])}")
    for (index, kind, event_id, a), (_, other_kind, other_id, b) in zip(reference["samples"], other["samples"], strict=False):
        if (kind, event_id) != (other_kind, other_id) or not same(tuple(a), tuple(b)):
            problems.append(f"{kind} #{index} ({event_id}): {LABELS[reference['kind']]} {tuple(a)} vs {LABELS[other['kind']]} {tuple(b)}")
    return problems


def sample_counts(run: dict[str, Any]) -> dict[str, int]:
    """How many sampled results of each kind of event a run kept."""
    counts = {"purchase": 0, "refund": 0, "duplicate": 0}
    for _, kind, _, _ in run["samples"]:
        counts[kind] += 1
    return counts


def verify_all(program: str, events: int, customers: int, seed: int) -> int:
    """Every event through the three engines side by side, results compared."""
    runners = [load(program, kind) for kind in KINDS]
    streams = [event_stream(program, events, runner.make, runner.make_refund, customers, seed) for runner in runners]
    bad = 0
    statuses: dict[str, dict[str, int]] = {}  # kind of event -> the compiled engine's status -> count
    for index, trio in enumerate(zip(*streams, strict=True)):
        kind = trio[0][0]
        assert all(k == kind for k, _ in trio), f"the streams differ at event #{index}"
        results = [runner.result(event, runner.process(event)) for runner, (_, event) in zip(runners, trio, strict=True)]
        tally = statuses.setdefault(kind, {})
        tally[results[1][0]] = tally.get(results[1][0], 0) + 1
        for runner, got in zip(runners, results, strict=True):
            if not same(results[1], got):
                bad += 1
                if bad <= 10:
                    print(f"  {program} {kind} #{index} ({trio[0][1].id}): compiled {results[1]} vs {LABELS[runner.kind]} {got}")
    count = sum(sum(tally.values()) for tally in statuses.values())
    detail = "; ".join(f"{kind}s: " + ", ".join(f"{n:,} {status}" for status, n in sorted(tally.items())) for kind, tally in statuses.items())
    print(f"{program}: {count:,} events compared ({detail}), {bad} differences")
    return bad


# ------------------------------------------------------------------ report


def machine() -> dict[str, str]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count() or "?"), "cpu": model or platform.processor() or "?", "python": platform.python_version()}


def mb(kb: int) -> str:
    return f"{kb / 1024:,.0f}"


def median_run(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round whose time is the median (the lower one of an even count)."""
    return sorted(rounds, key=lambda run: run["seconds"])[(len(rounds) - 1) // 2]


def round_ratios(rounds: dict[str, list[dict[str, Any]]]) -> list[float]:
    """Compiled / hand-written time, round by round (each pair ran back to back)."""
    return [compiled["seconds"] / hand["seconds"] for hand, compiled in zip(rounds["handwritten"], rounds["compiled"], strict=True)]


def report_program(program: str, runs: dict[str, dict[str, Any]], half: dict[str, dict[str, Any]] | None, ratios: list[float] | None = None) -> list[str]:
    hand, compiled, interp = runs["handwritten"], runs["compiled"], runs["interpreter"]
    lines = [
        f"{program} ({KIND_OF_PROGRAM.get(program, '')}): {compiled['events']:,} events ({compiled['purchases']:,} purchases,"
        f" {compiled['refunds']:,} returns, {compiled['duplicates']:,} repeated deliveries), {compiled['customers']:,} customers"
    ]
    lines.append(f"  {'engine':<13} {'events/s':>10} {'CPU s':>8} {'wall s':>8}  {'peak RSS MB':>11}  {'RSS before run':>14}")
    for run in (hand, compiled, interp):
        rate = run["events"] / run["seconds"] if run["seconds"] else float("inf")
        lines.append(
            f"  {LABELS[run['kind']]:<13} {rate:>10,.0f} {run['seconds']:>8.2f} {run['wall']:>8.2f}  {mb(run['peak_kb']):>11}  {mb(run['rss_before_kb']):>14}"
        )
    lines.append(f"  compiled / hand-written (time): {compiled['seconds'] / hand['seconds']:.2f}x   (issue's target: within 1.3x)")
    if ratios is not None and len(ratios) > 1:
        lines.append(f"  compiled / hand-written, round by round: {', '.join(f'{ratio:.2f}x' for ratio in ratios)} (above: each engine's median round)")
    lines.append(f"  interpreter / compiled (time):  {interp['seconds'] / compiled['seconds']:.2f}x   (issue's target: within 5x)")
    if half is not None:
        for kind in ("compiled", "handwritten"):
            small, full = half[kind], runs[kind]
            lines.append(
                f"  {LABELS[kind]} peak RSS: {mb(small['peak_kb'])} MB at {small['purchases']:,} purchases, {mb(full['peak_kb'])} MB at {full['purchases']:,}"
                f" (same {compiled['customers']:,} customers, same 14 months)"
            )
    return lines


def markdown_row(program: str, runs: dict[str, dict[str, Any]], half: dict[str, dict[str, Any]] | None) -> str:
    hand, compiled, interp = runs["handwritten"], runs["compiled"], runs["interpreter"]

    def rate(run: dict[str, Any]) -> str:
        return f"{run['events'] / run['seconds']:,.0f}"

    def peaks(kind: str) -> str:
        return (f"{mb(half[kind]['peak_kb'])} / " if half is not None else "") + mb(runs[kind]["peak_kb"])

    return (
        f"| {program} | {rate(hand)} | {rate(compiled)} | {rate(interp)} | {compiled['seconds'] / hand['seconds']:.2f}x"
        f" | {interp['seconds'] / compiled['seconds']:.2f}x | {peaks('handwritten')} | {peaks('compiled')} | {mb(interp['peak_kb'])} |"
    )


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS:,} purchases of {QUICK_CUSTOMERS:,} customers (a smoke run)")
    parser.add_argument("--events", type=int, help=f"purchases per program (default {DEFAULT_EVENTS:,})")
    parser.add_argument("--customers", type=int, help=f"customers (default {DEFAULT_CUSTOMERS:,})")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--programs", nargs="+", choices=PROGRAMS, default=list(PROGRAMS))
    parser.add_argument("--rounds", type=int, default=3, help="runs of each engine, in turn; the median is reported (default 3)")
    parser.add_argument("--no-half", action="store_true", help="skip the compiled run at half the purchases")
    parser.add_argument("--verify-all", action="store_true", help="compare every event across the engines (no timing)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--worker", nargs=5, metavar=("PROGRAM", "ENGINE", "EVENTS", "CUSTOMERS", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    if args.worker:
        program, kind, events, customers, seed = args.worker
        json.dump(measure(program, kind, int(events), int(customers), int(seed)), sys.stdout)
        return 0

    events = args.events or (QUICK_EVENTS if args.quick else DEFAULT_EVENTS)
    customers = args.customers or (QUICK_CUSTOMERS if args.quick else DEFAULT_CUSTOMERS)
    for program in args.programs:
        if generated_is_stale(program):
            print(f"warning: generated/{program}.py is stale (run `make generate`): the compiled figures are for an older text", file=sys.stderr)

    if args.verify_all:
        bad = sum(verify_all(program, events, customers, args.seed) for program in args.programs)
        return 1 if bad else 0

    info = machine()
    print(f"loyaldsl bench: {events:,} purchases, {customers:,} customers, seed {args.seed}")
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}")
    print()
    started = time.perf_counter()
    rows: list[str] = []
    failures: list[str] = []
    figures: dict[str, Any] = {"machine": info, "events": events, "customers": customers, "seed": args.seed, "programs": {}}
    for program in args.programs:
        rounds: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
        for _ in range(args.rounds):  # in turn, so that a slow spell of the machine hits every engine
            for kind in KINDS:
                rounds[kind].append(measure_in_subprocess(program, kind, events, customers, args.seed))
        runs = {kind: median_run(rounds[kind]) for kind in KINDS}
        half = None
        if not args.no_half:  # memory at half the purchases; hand-written as the control
            half = {kind: measure_in_subprocess(program, kind, events // 2, customers, args.seed) for kind in ("compiled", "handwritten")}
        for line in report_program(program, runs, half, round_ratios(rounds)):
            print(line)
        problems = [
            problem
            for index in range(args.rounds)
            for other in ("handwritten", "interpreter")
            for problem in differences(rounds["compiled"][index], rounds[other][index])
        ]
        checked = len(runs["compiled"]["samples"])
        kinds = sample_counts(runs["compiled"])
        what = f"{checked:,} sampled events ({kinds['purchase']:,} purchases, all {kinds['refund']:,} returns, all {kinds['duplicate']:,} repeated deliveries)"
        if problems:
            failures.append(program)
            print(f"  MISMATCH: the engines disagree on {len(problems)} of {what}:")
            for problem in problems[:10]:
                print(f"    {problem}")
        else:
            print(f"  results agree on all {what}, in every round: hand-written = compiled = interpreter")
        print(flush=True)
        rows.append(markdown_row(program, runs, half))
        figures["programs"][program] = {
            name: {k: v for k, v in run.items() if k != "samples"}
            for name, run in [*runs.items(), *((f"{kind}_half", run) for kind, run in (half or {}).items())]
        }
        figures["programs"][program]["rounds"] = {kind: [{k: v for k, v in run.items() if k != "samples"} for run in rounds[kind]] for kind in KINDS}
    print(
        "| program | hand-written ev/s | compiled ev/s | interpreter ev/s | compiled / hand-written | interpreter / compiled"
        " | hand-written peak MB (half / full) | compiled peak MB (half / full) | interpreter peak MB |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(row)
    print(f"\nwhole bench: {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    if failures:
        print(f"\nFAILED: hand-written, compiled and interpreter results differ for {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
