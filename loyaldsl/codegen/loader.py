"""Compile a program into the user's cache and import it, for `run --engine compiled`
and for the differential tests: the cache is keyed by the generated text itself, so a
changed program or a changed loyaldsl never reuses a stale module."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from loyaldsl.check import CheckedProgram
from loyaldsl.codegen.generator import compile_program


def cache_dir() -> Path:
    base = os.environ.get("LOYALDSL_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "loyaldsl")
    return Path(base)


def import_module_from(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses need their module registered
    spec.loader.exec_module(module)
    return module


def load_compiled(checked: CheckedProgram) -> Any:
    """The compiled module's Program instance for a checked program."""
    source = compile_program(checked, f"{Path(checked.filename).stem}.py")
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:20]
    name = f"loyaldsl_compiled_{digest}"
    if name in sys.modules:
        return sys.modules[name].Program()
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    if not path.exists():
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(source, encoding="utf-8")
        temporary.replace(path)  # atomic: a concurrent run never imports half a file
    return import_module_from(path, name).Program()
