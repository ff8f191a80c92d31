"""The three engines under test, behind one small interface.

`load(program, kind)` returns a Runner: `make` and `make_refund` build the engine's own
event records from the stream, `process(event)` runs one event (state lives in the
runner), and `result(event, outcome)` reduces what happened to the figures compared
across engines:

                purchase                          return                            repeated delivery
  capsboutique  status, paid, points earned,      status, money refunded, points    status, tier
                points redeemed, tier after       taken back, points given back,
                                                  tier after
  lensmaster    status, paid, stamps on the card  status, money refunded, stamps    status, stamps on
                after, free pairs waiting         on the card after, free pairs     the card, free
                                                  waiting                           pairs waiting
  thresholds    status, paid                      status, money refunded            status

Each kind imports only what it needs, so a worker process measuring the memory of the
hand-written code never loads loyaldsl, and one measuring the compiled module loads
nothing but that module.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("handwritten", "compiled", "interpreter")


@dataclass
class Runner:
    program: str
    kind: str
    make: Callable[..., Any]
    make_refund: Callable[[str, str, Any, str], Any]
    process: Callable[[Any], Any]
    result: Callable[[Any, Any], tuple[str, ...]]
    customers: Callable[[], int]  # how many customers the state holds


def load(program: str, kind: str) -> Runner:
    if kind == "handwritten":
        return _handwritten(program)
    if kind == "compiled":
        module = import_generated(program)
        return _engine_runner(program, kind, module.Program(), module.Purchase, module.PurchaseLine, module.Refund)
    if kind == "interpreter":
        from loyaldsl.check import check_file
        from loyaldsl.diagnostics import render_all
        from loyaldsl.interpret import interpreter
        from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund

        path = ROOT / "programs" / f"{program}.loyal"
        checked = check_file(path)
        if not checked.ok:
            raise SystemExit(render_all(checked.diagnostics, str(path), checked.source))
        return _engine_runner(program, kind, interpreter(checked), Purchase, PurchaseLine, Refund)
    raise ValueError(f"unknown engine {kind!r}: use one of {', '.join(KINDS)}")


def import_generated(program: str, path: Path | None = None) -> Any:
    """generated/<program>.py (or another module at `path`, standing in for it: see
    bench/variants.py), imported by path (generated/ is not a package). Not
    loyaldsl.codegen.loader's twin on purpose: that would import the compiler, lark and
    jinja2 into the process whose memory the bench measures."""
    path = path or ROOT / "generated" / f"{program}.py"
    name = f"bench_generated_{program}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses need their module registered
    spec.loader.exec_module(module)
    return module


def generated_is_stale(program: str) -> bool:
    """True when generated/<program>.py was compiled from another text of the program
    (the bench would then measure something else than programs/<program>.loyal)."""
    text = (ROOT / "programs" / f"{program}.loyal").read_text(encoding="utf-8")
    digest = hashlib.sha256(unicodedata.normalize("NFC", text).encode("utf-8")).hexdigest()
    module_text = (ROOT / "generated" / f"{program}.py").read_text(encoding="utf-8")
    return f"SOURCE_HASH = '{digest}'" not in module_text


# ------------------------------------------------------------------ loyaldsl engines


def _engine_runner(program: str, kind: str, engine: Any, purchase_cls: Any, line_cls: Any, refund_cls: Any) -> Runner:
    """Works for a compiled module's Program and for the interpreter's Engine: both
    have new_state() and process(state, event) -> Outcome."""
    state = engine.new_state()

    def make(event_id: str, customer: str, at: Any, lines: list[Any], codes: tuple[str, ...], redeem: Any) -> Any:
        if redeem is None:
            wanted: tuple[tuple[str, Decimal | None], ...] = ()
        elif redeem == "max":
            wanted = (("", None),)
        else:
            wanted = (("bonus", redeem),)
        return purchase_cls(event_id, customer, at, tuple(line_cls(p, c, q, u) for p, c, q, u in lines), codes, wanted)

    def make_refund(event_id: str, customer: str, at: Any, purchase_id: str) -> Any:
        return refund_cls(event_id, customer, at, purchase_id)  # no lines: the whole purchase

    # Called as the hand-written code's bound `process` is: no Python frame of the bench's
    # own between the timer and the engine.
    process = functools.partial(engine.process, state)

    def refunded(out: Any) -> str:
        return str(out.refunded if out.refunded is not None else 0)  # None when rejected

    if program == "capsboutique":

        def result(event: Any, out: Any) -> tuple[str, ...]:
            if out.status == "replay":
                return (out.status, str(out.tier_after))
            if out.kind == "refund":
                taken = sum((points for _, points in out.taken_back), Decimal(0))
                given = sum((points for _, points in out.given_back), Decimal(0))
                return (out.status, refunded(out), str(taken), str(given), str(out.tier_after))
            earned = sum((points for _, points, _, _ in out.earned), Decimal(0))
            redeemed = sum((points for _, points, _ in out.redeemed), Decimal(0))
            return (out.status, str(out.paid), str(earned), str(redeemed), str(out.tier_after))

    elif program == "lensmaster":

        def result(event: Any, out: Any) -> tuple[str, ...]:
            card = state.customers[event.customer].cards.get("lenses")
            stamps, waiting = (str(card.stamps), str(card.rewards)) if card is not None else ("0", "0")
            if out.status == "replay":
                return (out.status, stamps, waiting)
            return (out.status, refunded(out) if out.kind == "refund" else str(out.paid), stamps, waiting)

    else:

        def result(event: Any, out: Any) -> tuple[str, ...]:
            if out.status == "replay":
                return (out.status,)
            return (out.status, refunded(out) if out.kind == "refund" else str(out.paid))

    return Runner(program, kind, make, make_refund, process, result, lambda: len(state.customers))


# ------------------------------------------------------------------ hand-written


def _handwritten(program: str) -> Runner:
    module = importlib.import_module(f"bench.handwritten.{program}")
    checkout = module.Checkout()
    records = importlib.import_module("bench.handwritten.records")
    line_cls, order_cls, refund_cls, receipt_cls = records.Line, records.Order, records.Refund, module.Receipt

    def make(event_id: str, customer: str, at: Any, lines: list[Any], codes: tuple[str, ...], redeem: Any) -> Any:
        return order_cls(event_id, customer, at, tuple(line_cls(p, c, q, u) for p, c, q, u in lines), codes, redeem)

    def make_refund(event_id: str, customer: str, at: Any, purchase_id: str) -> Any:
        return refund_cls(event_id, customer, at, purchase_id)

    # A replay answers only "done already"; what it left unchanged is read from the
    # checkout's state, as the engines' reducers read the engine's state.
    if program == "capsboutique":

        def result(event: Any, r: Any) -> tuple[str, ...]:
            if r.status == "replay":
                return (r.status, str(checkout.members[event.customer].level_name()))
            if type(r) is not receipt_cls:
                return (r.status, str(r.refunded), str(r.taken_back), str(r.given_back), str(r.tier))
            return (r.status, str(r.paid), str(r.earned), str(r.redeemed), str(r.tier))

    elif program == "lensmaster":

        def result(event: Any, r: Any) -> tuple[str, ...]:
            if r.status == "replay":
                card = checkout.cards[event.customer]
                return (r.status, str(card.count), str(card.free_waiting))
            money = r.paid if type(r) is receipt_cls else r.refunded
            return (r.status, str(money), str(r.stamps), str(r.free_waiting))

    else:

        def result(event: Any, r: Any) -> tuple[str, ...]:
            if r.status == "replay":
                return (r.status,)
            return (r.status, str(r.paid if type(r) is receipt_cls else r.refunded))

    def customers() -> int:
        return len(getattr(checkout, "members", None) or getattr(checkout, "cards", None) or {})

    return Runner(program, "handwritten", make, make_refund, checkout.process, result, customers)


def same(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Equal figures: amounts compare as numbers (1000.0 == 1000.00), words as text."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x == y:
            continue
        try:
            if Decimal(x) != Decimal(y):
                return False
        except ArithmeticError:
            return False
    return True
