"""`loyaldsl compile`: a checked program -> one standalone, readable Python module.

The module is the runtime (copied), the program's constants and condition functions
(written by the expression visitor), and its ProgramSpec (written by spec_source), all
put together by a jinja2 template.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from loyaldsl.check import CheckedProgram
from loyaldsl.codegen.expressions import SourceBackend
from loyaldsl.codegen.inline import inline_runtime
from loyaldsl.codegen.spec_source import spec_source
from loyaldsl.codegen.specialize import plan_purchase
from loyaldsl.interpret import SpecBuilder

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Python source, not HTML
    )
    env.filters["pyrepr"] = repr
    env.filters["docstring"] = lambda text: text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return env


def compile_program(checked: CheckedProgram, output: str = "generated/program.py") -> str:
    """The module's source. `output` only appears in its comments (how to rebuild)."""
    assert checked.symbols is not None
    backend = SourceBackend(checked.symbols.tiers, checked.source)
    spec = SpecBuilder(checked, backend).build()
    spec_text = spec_source(spec, backend.decimal)
    plan = plan_purchase(spec, backend)  # before the constants are written: it adds some
    runtime = inline_runtime()
    module = Path(output).stem
    source = _environment().get_template("module.py.j2").render(
        name=spec.name,
        version=spec.version,
        source_hash=spec.source_hash,
        currency=spec.currency,
        timezone=spec.timezone,
        filename=checked.filename,
        output=output,
        module=module,
        imports=runtime.imports,
        runtime=runtime.body,
        constants=sorted(((str(value), name) for value, name in backend.constants.items()), key=lambda c: c[1]),
        functions=backend.functions,
        spec=spec_text,
        plan=plan if not isinstance(plan, str) else None,
        not_specialised=plan if isinstance(plan, str) else None,
    )
    return source
