"""A ProgramSpec written back as Python source: the constructor calls that rebuild it,
one field a line, leaving out fields at their defaults so the module reads like the
program it came from."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from loyaldsl.codegen.expressions import FunctionRef


def spec_source(value: Any, decimal: Callable[[Decimal], str], indent: int = 0) -> str:
    pad = "    " * (indent + 1)
    end = "    " * indent
    if isinstance(value, FunctionRef):
        return value.name
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = []
        for field in dataclasses.fields(value):
            current = getattr(value, field.name)
            default = field.default if field.default is not dataclasses.MISSING else (
                field.default_factory() if field.default_factory is not dataclasses.MISSING else dataclasses.MISSING  # type: ignore[misc]
            )
            if default is not dataclasses.MISSING and current == default and not isinstance(current, FunctionRef):
                continue
            parts.append(f"{pad}{field.name}={spec_source(current, decimal, indent + 1)},")
        if not parts:
            return f"{type(value).__name__}()"
        return f"{type(value).__name__}(\n" + "\n".join(parts) + f"\n{end})"
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return repr(value)
    if isinstance(value, Decimal):
        return decimal(value)
    if isinstance(value, dt.datetime):  # pragma: no cover - specs hold dates and times only
        raise TypeError("datetimes do not belong in a spec")
    if isinstance(value, dt.date):
        return f"_dt.date({value.year}, {value.month}, {value.day})"
    if isinstance(value, dt.time):
        return f"_dt.time({value.hour}, {value.minute})" if value != dt.time.max else "_dt.time.max"
    if isinstance(value, frozenset):
        if not value:
            return "frozenset()"
        return "frozenset({" + ", ".join(repr(v) for v in sorted(value)) + "})"
    if isinstance(value, tuple):
        if not value:
            return "()"
        items = [f"{pad}{spec_source(item, decimal, indent + 1)}," for item in value]
        return "(\n" + "\n".join(items) + f"\n{end})"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{spec_source(k, decimal, indent + 1)}: {spec_source(v, decimal, indent + 1)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{end}}}"
    raise TypeError(f"cannot write {type(value).__name__} into a spec")  # pragma: no cover
