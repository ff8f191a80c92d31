"""What a user waits for and what a run holds in memory, measured through the real CLI.

1. `loyaldsl check` of a 300-line program, wall time including interpreter start-up
   (the LALR tables come from lark's cache after the first run): median of several runs.
2. `loyaldsl run` peak memory (max RSS of the process) on a stream of N events over
   400 days and one of 2N events over 800 days (the same customers, the same rate):
   each customer keeps only what its windows (refunds, tiers, replays) still need, so
   the longer stream costs about the same; twice the customers cost more.

Run: `python bench/cli_costs.py` (from the project root, after `make install`).
Nothing here asserts a time: the machine is shared; the figures go into the README.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loyaldsl() -> list[str]:
    venv = ROOT / ".venv" / "bin" / "loyaldsl"
    if venv.exists():
        return [str(venv)]
    found = shutil.which("loyaldsl")
    return [found] if found else [sys.executable, "-m", "loyaldsl.cli"]


def program_of_lines(target: int) -> str:
    """The coffee-shop program, grown with ordinary rules to `target` lines."""
    base = (ROOT / "programs" / "capsboutique.loyal").read_text(encoding="utf-8")
    base = base.split("\ntest ", 1)[0]
    extra = []
    index = 0
    while (base + "".join(extra)).count("\n") < target:
        extra.append(
            f"\nrule loyalty_{index}\n  when customer.orders >= {index % 9 + 1} and order.subtotal >= {1000 + index * 50} RUB\n"
            f"  discount {index % 20 + 1}% on items in category [beans]\n"
        )
        index += 1
    return base + "".join(extra)


def user_env() -> dict[str, str]:
    """As a user runs it: bytecode caching on (some sandboxes turn it off, which makes
    every start-up compile every module again)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def time_check(path: Path, runs: int = 15) -> tuple[float, float]:
    command = [*loyaldsl(), "check", str(path)]
    subprocess.run(command, capture_output=True, env=user_env())  # warm lark's tables and the bytecode cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, env=user_env())
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def write_events(path: Path, events: int, customers: int, days: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = 1767225600  # 2026-01-01
    with path.open("w", encoding="utf-8") as out:
        for index in range(events):
            when = start + index * (days * 86400 // events)
            record = {
                "id": f"p{index}",
                "customer": f"c{rng.randrange(customers)}",
                "time": time.strftime("%Y-%m-%dT%H:%M:%S+03:00", time.gmtime(when)),
                "lines": [
                    {"product": f"sku{rng.randrange(40)}", "category": rng.choice(["beans", "capsules", "machines", "cups"]), "quantity": rng.randint(1, 3), "unit_price": str(rng.randint(100, 9000))}
                    for _ in range(rng.randint(1, 4))
                ],
            }
            out.write(json.dumps(record) + "\n")


def peak_in_fresh_process(program: Path, events: Path) -> float:
    """Max RSS of a `loyaldsl run` child, in MB, measured from a fresh parent so earlier
    runs do not count (Linux reports KB)."""
    code = (
        "import resource, subprocess, sys;"
        f"subprocess.run({[*loyaldsl(), 'run', str(program), str(events), '--json']!r}, stdout=subprocess.DEVNULL, check=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(result.stdout.strip()) / 1024


def main() -> None:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        program = work / "big.loyal"
        program.write_text(program_of_lines(300), encoding="utf-8")
        lines = program.read_text(encoding="utf-8").count("\n")
        median, best = time_check(program)
        print(f"loyaldsl check, {lines}-line program: median {median:.3f} s, best {best:.3f} s (wall, including start-up)")

        plain = ROOT / "programs" / "capsboutique.loyal"
        n = 10_000 if quick else 40_000
        sizes = [(n, 1_000, 400), (2 * n, 1_000, 800), (2 * n, 2_000, 800)]
        for events, customers, days in sizes:
            path = work / f"events-{events}-{customers}.jsonl"
            write_events(path, events, customers, days)
            start = time.perf_counter()
            peak = peak_in_fresh_process(plain, path)
            elapsed = time.perf_counter() - start
            print(
                f"loyaldsl run, {events:>6} events over {days} days, {customers:>5} customers: "
                f"peak RSS {peak:6.1f} MB, {events / elapsed:,.0f} events/s end to end"
            )
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
