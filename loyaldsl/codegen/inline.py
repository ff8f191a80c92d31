"""Copy loyaldsl/runtime into a generated module: the same source, not a second
implementation. Relative imports between runtime modules are dropped (everything is
one namespace), standard-library imports are gathered at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import attrs

RUNTIME = Path(__file__).resolve().parents[1] / "runtime"

# Dependency order: each module only uses names defined above it.
MODULES = (
    "lazy",
    "model",
    "currency",
    "periods",
    "bands",
    "ledger",
    "spec",
    "pricing",
    "outcome",
    "state",
    "context",
    "engine",
    "persist",
    "dicts",
    "program",
)


@attrs.frozen
class InlinedRuntime:
    imports: tuple[str, ...]  # sorted, de-duplicated import statements
    body: str  # every module's code, each under a banner


def inline_runtime() -> InlinedRuntime:
    plain: set[str] = set()
    from_imports: dict[str, set[str]] = {}
    sections = []
    for name in MODULES:
        path = RUNTIME / f"{name}.py"
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        lines = source.splitlines()
        drop: set[int] = set()
        summary = ""
        for index, node in enumerate(tree.body):
            if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                summary = node.value.value.strip().split("\n\n")[0]
                drop.update(range(node.lineno, node.end_lineno + 1))  # type: ignore[operator]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                drop.update(range(node.lineno, node.end_lineno + 1))  # type: ignore[operator]
                if isinstance(node, ast.ImportFrom):
                    if node.level or node.module == "__future__":
                        continue
                    names = from_imports.setdefault(node.module or "", set())
                    names.update(a.name if a.asname is None else f"{a.name} as {a.asname}" for a in node.names)
                else:
                    plain.add(ast.unparse(node))
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
                drop.update(range(node.lineno, node.end_lineno + 1))  # type: ignore[operator]
        kept = [line for number, line in enumerate(lines, start=1) if number not in drop]
        text = "\n".join(kept).strip("\n")
        banner = "\n".join(f"# {line}".rstrip() for line in summary.splitlines())
        sections.append(f"# {'=' * 76}\n# runtime/{name}.py\n{banner}\n# {'=' * 76}\n\n{text}\n")
    merged = [f"from {module} import {', '.join(sorted(names, key=_name_order))}" for module, names in sorted(from_imports.items())]
    return InlinedRuntime(tuple(sorted(plain) + merged), "\n\n".join(sections))


def _name_order(name: str) -> tuple[int, str]:
    """isort's order by type: CONSTANTS, then Classes, then functions."""
    bare = name.split(" as ")[0]
    return (0 if bare.isupper() else 1 if bare[:1].isupper() else 2, bare)
