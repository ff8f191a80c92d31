"""The `loyaldsl` command: click commands only, each a thin shell over a library call.

Exit status: 0 fine (warnings allowed), 1 the program or the events have errors,
2 usage errors (a missing file, a bad option), 3 an internal error (never a traceback).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from loyaldsl.check import CheckedProgram, check_source
from loyaldsl.diagnostics import render_all, summary
from loyaldsl.harness.commands import fuzz, test

REPORT_URL = "https://github.com/loyaldsl/loyaldsl/issues"


class Failed(Exception):
    """Stop with a message already printed, and this exit status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def guarded(command: Callable[..., Any]) -> Callable[..., Any]:
    """No Python traceback reaches a user: an unexpected error says what and where
    to report it, and exits 3."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except Failed as failed:
            sys.exit(failed.status)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # the last line of defence, deliberately broad
            where = traceback.extract_tb(exc.__traceback__)[-1]
            click.echo(
                f"loyaldsl: internal error: {type(exc).__name__}: {exc}\n"
                f"  at {Path(where.filename).name}:{where.lineno} in {where.name}\n"
                f"  this is a bug in loyaldsl, not in your program; please report it at {REPORT_URL}",
                err=True,
            )
            sys.exit(3)

    return wrapper


def usage_error(message: str) -> Failed:
    """A one-line message and exit status 2: the user named something that is not there."""
    click.echo(f"loyaldsl: {message}", err=True)
    return Failed(2)


def read_text(path: str) -> str:
    """A program's text. A byte-order mark (Windows Notepad) is dropped; a binary file
    is refused rather than checked."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise usage_error(f"no such file: {path}") from None
    except IsADirectoryError:
        raise usage_error(f"{path} is a folder; give a .loyal file") from None
    except OSError as exc:
        raise usage_error(f"cannot read {path}: {exc.strerror}") from None
    if b"\x00" in data:
        raise usage_error(f"{path} is a binary file, not a program") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise usage_error(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def load_program(path: str, quiet_warnings: bool = False) -> CheckedProgram:
    """Check a program; print its diagnostics; stop with 1 on errors."""
    source = read_text(path)
    checked = check_source(source, path)
    shown = [d for d in checked.diagnostics if d.is_error or not quiet_warnings]
    if shown:
        click.echo(render_all(shown, path, checked.source), err=True)
    if not checked.ok:
        click.echo(f"{path}: {summary(checked.diagnostics)}; nothing was run", err=True)
        raise Failed(1)
    return checked


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="loyaldsl")
def main() -> None:
    """loyaldsl: customer loyalty programs as code.

    \b
    loyaldsl check   PROGRAM...         type-check programs, report every problem
    loyaldsl run     PROGRAM EVENTS     run purchases through a program
    loyaldsl compile PROGRAM -o OUT.py  write a standalone Python module
    loyaldsl test    [PATHS...]         run the tests written in programs
    loyaldsl fuzz    PROGRAM            random purchases against the program's promises
    """


# ------------------------------------------------------------------ check


@main.command()
@click.argument("programs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print diagnostics as JSON, one object per problem.")
@guarded
def check(programs: tuple[str, ...], as_json: bool) -> None:
    """Check PROGRAMS: syntax, names, types and units, and lints.

    Exits 1 when any program has an error, 0 when there are only warnings."""
    failed = False
    problems: list[dict[str, Any]] = []
    for path in programs:
        checked = check_source(read_text(path), path)
        failed = failed or not checked.ok
        if as_json:
            for d in checked.diagnostics:
                problems.append(
                    {
                        "file": path,
                        "line": d.span.line,
                        "column": d.span.column,
                        "end_line": d.span.end_line,
                        "end_column": d.span.end_column,
                        "severity": d.severity,
                        "code": d.code,
                        "message": d.message,
                        "hint": d.hint,
                    }
                )
            continue
        if checked.diagnostics:
            click.echo(render_all(checked.diagnostics, path, checked.source))
            click.echo()
        click.echo(f"{path}: {summary(checked.diagnostics) if checked.diagnostics else 'ok'}")
    if as_json:
        click.echo(json.dumps(problems, ensure_ascii=False, indent=2))
    if failed:
        raise Failed(1)


# ------------------------------------------------------------------ run


def parse_as_of(value: str | None, zone: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (2026-05-01) or a date-time (2026-05-01T12:00)", param_hint="--as-of") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


@main.command()
@click.argument("program")
@click.argument("events")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines: one outcome per event, then one balance per customer.")
@click.option("--as-of", "as_of", metavar="DATE", help="Stop before DATE (00:00 in the program's zone, or a date-time) and show balances, tiers and expiries then.")
@click.option("--rejects", metavar="FILE", help="Process the good rows and write the bad ones to FILE (default: reject the whole file).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="Events format (default: from the file name).")
@click.option(
    "--engine",
    "engine_kind",
    type=click.Choice(["interpreter", "compiled"]),
    default="interpreter",
    show_default=True,
    help="Evaluate with the interpreter, or through the program's compiled module (compiled into a cache when needed).",
)
@guarded
def run(program: str, events: str, as_json: bool, as_of: str | None, rejects: str | None, fmt: str | None, engine_kind: str) -> None:
    """Run the purchases in EVENTS (CSV or JSON Lines) through PROGRAM.

    Every row is validated first: a bad row stops the run before anything is
    processed, unless --rejects names a file for the bad rows."""
    from loyaldsl import events as ev
    from loyaldsl.interpret import interpreter
    from loyaldsl.report import EVENT_HEADER, balances, event_row

    checked = load_program(program, quiet_warnings=True)
    if engine_kind == "compiled":
        from loyaldsl.codegen.loader import load_compiled

        compiled = load_compiled(checked)
        engine, process = compiled.engine, compiled.process  # its process takes the specialised purchase path
    else:
        engine = interpreter(checked)
        process = engine.process
    zone = engine.zone
    until = parse_as_of(as_of, zone)
    try:
        source = ev.EventsSource.open(events, zone, fmt)
        errors = [item for item in source if isinstance(item, ev.RowError)]
    except ev.EventsFileError as exc:
        raise usage_error(str(exc)) from None
    if errors:
        for error in errors[:50]:
            click.echo(ev.format_row_error(events, error, source.fmt), err=True)
        if len(errors) > 50:
            click.echo(f"... and {len(errors) - 50} more", err=True)
        bad_rows = len({e.row for e in errors})
        if rejects is None:
            click.echo(f"{events}: {bad_rows} bad row{'s' if bad_rows != 1 else ''}; nothing was processed (use --rejects FILE to process the good rows)", err=True)
            raise Failed(1)
        written = source.write_rejects(rejects, errors)
        click.echo(f"{events}: {written} bad row{'s' if written != 1 else ''} written to {rejects}; processing the rest", err=True)

    state = engine.new_state()
    currency = engine.spec.currency
    last: dt.datetime | None = None
    skipped = 0
    if not as_json:
        click.echo(EVENT_HEADER)
    for item in _events_only(source):
        if until is not None and item.at >= until:
            skipped += 1
            continue
        outcome = process(state, item)
        last = outcome.at
        if as_json:
            click.echo(json.dumps(outcome.to_json(), ensure_ascii=False))
        else:
            click.echo(event_row(outcome, currency))
    moment = until or last
    if moment is None:
        click.echo("no events to process" + (f" before {until:%Y-%m-%d %H:%M}" if until else ""), err=True)
        return
    # The state is not used after this: settle each customer in place, no copies.
    reports = [engine.report(state, customer, moment, in_place=True) for customer in sorted(state.customers)]
    if as_json:
        for report in reports:
            click.echo(json.dumps({"balance": report.to_json()}, ensure_ascii=False))
    else:
        click.echo()
        click.echo(f"balances as of {moment:%Y-%m-%d %H:%M %Z}" + (f" ({skipped} later event{'s' if skipped != 1 else ''} not processed)" if skipped else ""))
        click.echo(balances(reports, currency))


# ------------------------------------------------------------------ compile


@main.command(name="compile")
@click.argument("program")
@click.option("-o", "--output", metavar="FILE", help="Where to write the module (default: print it).")
@guarded
def compile_(program: str, output: str | None) -> None:
    """Compile PROGRAM into one standalone Python module (standard library only)."""
    from loyaldsl.codegen.generator import compile_program

    checked = load_program(program)
    source = compile_program(checked, output or f"{Path(program).stem}.py")
    if output is None:
        click.echo(source, nl=False)
        return
    try:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(source, encoding="utf-8")
    except OSError as exc:
        raise usage_error(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"{program} -> {output}", err=True)


main.add_command(test)
main.add_command(fuzz)


def _events_only(source: Any) -> Iterator[Any]:
    from loyaldsl.events import RowError

    for item in source:
        if not isinstance(item, RowError):
            yield item


if __name__ == "__main__":  # pragma: no cover
    main()
