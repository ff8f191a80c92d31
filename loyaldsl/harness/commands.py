"""The `loyaldsl test` and `loyaldsl fuzz` commands: thin click shells over the harness.

Built like the commands in cli.py (same `guarded` wrapper, exit statuses and
diagnostics): 0 all good, 1 a failed test, a broken promise or a program with errors,
2 a usage error, 3 an internal error (never a traceback).

cli.py imports this module to register the commands, so this module takes what it
needs from cli.py when a command runs, not when it is imported: either module can then
be imported first.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from loyaldsl.check import check_source
from loyaldsl.diagnostics import render_all, summary

_SKIPPED_FOLDERS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache"}


def guarded(command: Callable[..., Any]) -> Callable[..., Any]:
    """`loyaldsl.cli.guarded` (no traceback reaches a user), looked up at run time."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from loyaldsl.cli import guarded as cli_guarded

        return cli_guarded(command)(*args, **kwargs)

    return wrapper


def find_programs(paths: Sequence[str]) -> list[str]:
    """The .loyal files named, or found under the folders named, in a stable order."""
    found: list[str] = []
    for raw in paths:
        folder = Path(raw)
        if folder.is_dir():
            inside = sorted(
                p for p in folder.rglob("*.loyal") if p.is_file() and not any(part in _SKIPPED_FOLDERS for part in p.relative_to(folder).parts[:-1])
            )
            if not inside:
                raise click.UsageError(f"no .loyal files in {raw}")
            found.extend(str(p) for p in inside)
        elif folder.is_file():
            found.append(raw)
        else:
            raise click.UsageError(f"no such file or folder: {raw}")
    return list(dict.fromkeys(found))


# ------------------------------------------------------------------ test


@click.command("test")
@click.argument("paths", nargs=-1)
@click.option("--junit", "junit_file", metavar="FILE", help="Also write the results as JUnit XML to FILE.")
@click.option("--coverage", "show_coverage", is_flag=True, help="List per program the rules, codes, coupons, scales, tiers and stamp cards no test exercised.")
@guarded
def test(paths: tuple[str, ...], junit_file: str | None, show_coverage: bool) -> None:
    """Run the `test` blocks of the programs in PATHS (files, or folders searched for
    *.loyal; default: the current folder).

    Prints every failed expectation with what was expected, what happened and the
    step it is about. Exits 1 when a test fails or a program has errors."""
    from loyaldsl.cli import Failed, read_text
    from loyaldsl.harness.coverage import Coverage, coverage, render_coverage
    from loyaldsl.harness.junit import BrokenProgram, write_junit
    from loyaldsl.harness.scenarios import ProgramResults, render_result, run_tests, summarize

    programs = find_programs(paths or (".",))
    results: list[ProgramResults] = []
    broken: list[BrokenProgram] = []
    reports: list[Coverage] = []
    crashed = False
    for path in programs:
        source = read_text(path)
        checked = check_source(source, path)
        shown = [d for d in checked.diagnostics if d.is_error or d.code.startswith("S")]
        if shown:
            click.echo(render_all(shown, path, checked.source), err=True)
        errors = [d for d in checked.diagnostics if d.is_error]
        if not checked.ok:
            message = f"{path}: {summary(errors)}; its tests were not run"
            click.echo(message, err=True)
            broken.append(BrokenProgram(path, message, render_all(errors, path, checked.source)))
            continue
        program_results = run_tests(checked)
        results.append(program_results)
        click.echo(f"{path}" + ("" if program_results.tests else ": no tests"))
        for result in program_results.tests:
            click.echo(render_result(result, path))
            crashed = crashed or result.crashed
        if show_coverage:
            reports.append(coverage(checked.program, program_results))
    click.echo(summarize(results) + (f"; {len(broken)} program{'s' if len(broken) != 1 else ''} with errors" if broken else ""))
    if show_coverage and reports:
        click.echo(render_coverage(reports))
    if junit_file is not None:
        try:
            write_junit(junit_file, results, broken)
        except OSError as exc:
            raise click.UsageError(f"cannot write {junit_file}: {exc.strerror}") from None
    if crashed:
        click.echo("an internal error stopped a test; this is a bug in loyaldsl, not in your program: please report it", err=True)
        raise Failed(3)
    if broken or any(r.failed for r in results):
        raise Failed(1)


# ------------------------------------------------------------------ fuzz


@click.command("fuzz")
@click.argument("program")
@click.option("--examples", default=100, show_default=True, type=click.IntRange(1, 100_000), help="How many random streams to try (more are run while shrinking a failure).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="Seed for the random streams; the same seed gives the same streams (default: a fresh one, printed).")
@guarded
def fuzz(program: str, examples: int, seed: int | None) -> None:
    """Throw random purchase streams at PROGRAM and check its invariants and the
    built-in promises (nothing payable below zero, discounts within the subtotal,
    points never negative, no crash, the same events give the same output).

    A broken promise is shrunk to a small stream and printed as a `test` block to
    paste into the program. Exits 1 when a promise is broken."""
    from loyaldsl.cli import Failed, load_program

    try:
        from loyaldsl.harness.fuzz import fuzz as run_fuzz
        from loyaldsl.harness.fuzz import render_report
    except ModuleNotFoundError as exc:  # hypothesis is a test dependency, not a core one
        if exc.name != "hypothesis":
            raise
        click.echo("loyaldsl fuzz needs hypothesis, which comes with loyaldsl: pip install 'hypothesis>=6.100'", err=True)
        raise Failed(2) from None

    checked = load_program(program, quiet_warnings=True)
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    report = run_fuzz(checked, examples, seed)
    click.echo(render_report(report))
    if report.failure is not None:
        raise Failed(1)


__all__ = ["find_programs", "test", "fuzz"]
