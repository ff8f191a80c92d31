"""Test results as JUnit XML, the format CI servers (GitLab, Jenkins, GitHub actions
reporters) already know how to show: one testsuite per program, one testcase per test.

A program that does not check is reported as one errored testcase named `check`, so a
broken program turns the CI run red instead of silently running no tests.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import attrs

from loyaldsl.harness.scenarios import ProgramResults, render_failure


@attrs.frozen
class BrokenProgram:
    """A program whose tests could not run, and the rendered reason (its diagnostics)."""

    path: str
    message: str
    details: str


_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    """XML 1.0 cannot hold most control characters, and a test name may; drop them
    rather than write a file no CI server can read."""
    return _NOT_XML.sub("\ufffd", text)


def _sanitize(element: ET.Element) -> None:
    for node in element.iter():
        for key, value in node.attrib.items():
            node.set(key, _clean(value))
        if node.text:
            node.text = _clean(node.text)


def _classname(path: str) -> str:
    stem = Path(path).with_suffix("").as_posix().lstrip("./")
    return stem.replace("/", ".") or "program"


def junit_tree(results: Sequence[ProgramResults], broken: Sequence[BrokenProgram] = ()) -> ET.ElementTree:
    total_tests = total_failures = total_errors = 0
    total_time = 0.0
    root = ET.Element("testsuites", name="loyaldsl")
    for program in results:
        failures = sum(1 for t in program.tests if t.failures and t.error is None)
        errors = sum(1 for t in program.tests if t.error is not None)
        seconds = sum(t.seconds for t in program.tests)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=program.path,
            tests=str(len(program.tests)),
            failures=str(failures),
            errors=str(errors),
            skipped="0",
            time=f"{seconds:.3f}",
        )
        for test in program.tests:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_classname(program.path),
                name=test.name,
                file=program.path,
                line=str(test.line),
                time=f"{test.seconds:.3f}",
            )
            if test.error is not None:
                element = ET.SubElement(case, "error", message=test.error, type="error")
                element.text = f"{program.path}:{test.error_line or test.line}: {test.error}"
            elif test.failures:
                first = test.failures[0]
                count = len(test.failures)
                message = f"line {first.line}: expected {first.expected}, actual {first.actual}" + (f" (and {count - 1} more)" if count > 1 else "")
                element = ET.SubElement(case, "failure", message=message, type="expectation")
                element.text = "\n\n".join(render_failure(f, program.path) for f in test.failures)
        total_tests += len(program.tests)
        total_failures += failures
        total_errors += errors
        total_time += seconds
    for bad in broken:
        suite = ET.SubElement(root, "testsuite", name=bad.path, tests="1", failures="0", errors="1", skipped="0", time="0.000")
        case = ET.SubElement(suite, "testcase", classname=_classname(bad.path), name="check", file=bad.path, time="0.000")
        element = ET.SubElement(case, "error", message=bad.message, type="check")
        element.text = bad.details
        total_tests += 1
        total_errors += 1
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", str(total_errors))
    root.set("time", f"{total_time:.3f}")
    _sanitize(root)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(path: str | Path, results: Sequence[ProgramResults], broken: Sequence[BrokenProgram] = ()) -> None:
    """Write the report as UTF-8 with an XML declaration (names may be Persian or Gujarati)."""
    junit_tree(results, broken).write(str(path), encoding="utf-8", xml_declaration=True)


__all__ = ["BrokenProgram", "junit_tree", "write_junit"]
