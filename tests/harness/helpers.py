"""Shared helpers: checking a program text and invoking the harness commands through
the real `loyaldsl` group (registered for the test only, then removed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import attrs
from click.testing import CliRunner, Result

from loyaldsl.check import CheckedProgram, check_source
from loyaldsl.cli import main
from loyaldsl.harness import commands


def checked(source: str, filename: str = "cafe.loyal") -> CheckedProgram:
    program = check_source(source, filename)
    assert program.ok, program.errors
    return program


def without_test_checks(source: str, filename: str = "cafe.loyal") -> CheckedProgram:
    """A program whose tests the test checks would refuse, as if they had not run
    (whether or not `check_source` calls `check_tests` yet): for running them anyway."""
    program = check_source(source, filename)
    kept = tuple(d for d in program.diagnostics if not d.code.startswith("S"))
    program = attrs.evolve(program, diagnostics=kept)
    assert program.ok, program.errors
    return program


@contextmanager
def harness_commands() -> Iterator[None]:
    """`main.add_command(test)` and `main.add_command(fuzz)`, as cli.py will do."""
    added = [c for c in (commands.test, commands.fuzz) if c.name not in main.commands]
    for command in added:
        main.add_command(command)
    try:
        yield
    finally:
        for command in added:
            main.commands.pop(command.name or "", None)


def invoke(*args: str) -> Result:
    with harness_commands():
        return CliRunner().invoke(main, list(args))
