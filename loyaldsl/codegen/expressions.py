"""Conditions and amounts as Python source: a visitor over the AST, in the manner of
jinja2's code generator. The twin of interpret.ClosureBackend: SpecBuilder calls the
same `value`/`cond` methods, here they return references to generated functions."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import attrs

from loyaldsl.interpret import CUSTOMER_ATTRS, ORDER_ATTRS
from loyaldsl.syntax import nodes as n


@attrs.frozen
class FunctionRef:
    """A generated function, written into the spec by name."""

    name: str


@attrs.frozen
class GeneratedFunction:
    name: str
    returns: str  # "bool" or "Decimal"
    body: str
    doc: str


class SourceBackend:
    def __init__(self, tiers: tuple[str, ...], source: str) -> None:
        self.tiers = tiers
        self.lines = source.splitlines()
        self.functions: list[GeneratedFunction] = []
        self.constants: dict[Decimal, str] = {}
        self.nodes: dict[str, Any] = {}  # function name -> its expression, for specialize.py

    # ---- what SpecBuilder calls
    def value(self, expr: n.Expr) -> FunctionRef:
        return self._function("amount", "Decimal", expr)

    def cond(self, cond: n.Cond | None) -> FunctionRef | None:
        if cond is None:
            return None
        return self._function("when", "bool", cond)

    def _function(self, prefix: str, returns: str, node: Any) -> FunctionRef:
        name = f"{prefix}_{len(self.functions) + 1}"
        self.functions.append(GeneratedFunction(name, returns, self.visit(node), self._source(node.span)))
        self.nodes[name] = node
        return FunctionRef(name)

    def _source(self, span: Any) -> str:
        line = self.lines[span.line - 1] if 0 < span.line <= len(self.lines) else ""
        end = span.end_column if span.end_line == span.line else len(line) + 1
        text = line[span.column - 1 : end - 1].split("#", 1)[0].strip()
        return f"line {span.line}: {text}"

    def decimal(self, value: Decimal) -> str:
        """Decimal literals become module constants, built once, named by value."""
        if value not in self.constants:
            label = re.sub(r"[^0-9A-Za-z]", "_", format(value, "f"))
            name = f"D_{label}"
            while name in self.constants.values():
                name += "_"
            self.constants[value] = name
        return self.constants[value]

    # ---- the visitor
    def visit(self, node: Any) -> str:
        return getattr(self, f"visit_{type(node).__name__}")(node)

    def visit_Number(self, node: n.Number) -> str:
        return self.decimal(node.value)

    def visit_Quantity(self, node: n.Quantity) -> str:
        return self.decimal(node.value)

    def visit_Percent(self, node: n.Percent) -> str:
        return self.decimal(node.fraction)

    def visit_DateLit(self, node: n.DateLit) -> str:
        d = node.value
        return f"_dt.date({d.year}, {d.month}, {d.day})"

    def visit_TimeLit(self, node: n.TimeLit) -> str:
        t = node.value
        return f"_dt.time({t.hour}, {t.minute})" if t != t.max else "_dt.time.max"

    def visit_Path(self, node: n.Path) -> str:
        if len(node.parts) == 1:
            name = node.parts[0].text
            if name in self.tiers:
                return str(self.tiers.index(name))
            return repr(name)  # a weekday
        head, field = node.parts[0].text, node.parts[1].text
        if head == "order":
            return f"ctx.{ORDER_ATTRS[field]}"
        if field in CUSTOMER_ATTRS:
            return f"ctx.{CUSTOMER_ATTRS[field]}"
        return f"ctx.customer_points({field!r})"

    def visit_BinOp(self, node: n.BinOp) -> str:
        return f"({self.visit(node.left)} {node.op} {self.visit(node.right)})"

    def visit_Compare(self, node: n.Compare) -> str:
        op = "==" if node.op == "=" else node.op
        return f"{self.visit(node.left)} {op} {self.visit(node.right)}"

    def visit_Membership(self, node: n.Membership) -> str:
        subject = self.visit(node.subject)
        if isinstance(node.subject, n.Path) and node.subject.parts[-1].text == "tier":
            members = sorted(self.tiers.index(name.text) for name in node.names)
        else:
            members = sorted(name.text for name in node.names)
        return f"{subject} in ({', '.join(repr(m) for m in members)},)"

    def visit_Between(self, node: n.Between) -> str:
        return f"{self.visit(node.low)} <= {self.visit(node.subject)} < {self.visit(node.high)}"

    def visit_During(self, node: n.During) -> str:
        return f"ctx.during({node.period.text!r})"

    def visit_BoolOp(self, node: n.BoolOp) -> str:
        return f"({self.visit(node.left)} {node.op} {self.visit(node.right)})"

    def visit_Not(self, node: n.Not) -> str:
        return f"not ({self.visit(node.operand)})"


class UnsupportedExpression(Exception):
    """An expression the specialised purchase path cannot read from its locals."""


class LocalsBackend(SourceBackend):
    """The same expressions written against the locals of a specialised purchase path
    (codegen/specialize.py) instead of a Context: `order.total` is the local `total`.
    Decimal constants are shared with the module's other functions."""

    # What each Context attribute is in the purchase path (see runtime/context.py).
    LOCALS = {
        "order_subtotal": "subtotal",
        "order_total": "total",
        "order_paid": "(total - redeemed)",
        "order_discount": "(subtotal - total)",
        "order_items": "Decimal(sum(quantities))",
        "order_day": "_CONTEXT_WEEKDAYS[at.weekday()]",
        "order_time": "at.time().replace(tzinfo=None)",
        "order_date": "at.date()",
        "customer_orders": "Decimal(customer.orders)",
        "customer_visits": "Decimal(customer.orders)",
        "customer_spend": "customer.spend",
        "customer_tier": "customer.tier",
    }

    def __init__(self, parent: SourceBackend) -> None:
        super().__init__(parent.tiers, "")
        self.constants = parent.constants
        self.parent_nodes = parent.nodes

    def expression(self, function: FunctionRef) -> str:
        """The body of a generated function, as an expression over the locals."""
        return self.visit(self.parent_nodes[function.name])

    def visit_Path(self, node: n.Path) -> str:
        text = super().visit_Path(node)
        if not text.startswith("ctx."):
            return text
        attribute = text.removeprefix("ctx.")
        if attribute not in self.LOCALS:
            raise UnsupportedExpression(f"{'.'.join(p.text for p in node.parts)} is not a local of the purchase path")
        return self.LOCALS[attribute]

    def visit_During(self, node: n.During) -> str:
        return f"during(periods, {node.period.text!r}, at)"
