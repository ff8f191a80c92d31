"""The AST of a .loyal program: frozen attrs nodes, each with the span it came from.

The parser builds these; the checker, the interpreter and the code generator read them.
Nothing here knows about lark, so every later stage works on plain, typed data.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from loyaldsl.diagnostics import Span

# ------------------------------------------------------------------ expressions


@attrs.frozen
class Name:
    """A name as written, with where it was written (for did-you-mean hints)."""

    text: str
    span: Span


@attrs.frozen
class Number:
    value: Decimal
    span: Span


@attrs.frozen
class Quantity:
    """A number with a unit: `10 RUB`, `14 days`, `100 bonus`. The checker decides
    which kind of unit it is (currency, points name, duration)."""

    value: Decimal
    unit: Name
    span: Span


@attrs.frozen
class Percent:
    value: Decimal  # as written: 15 for 15%
    span: Span

    @property
    def fraction(self) -> Decimal:
        return self.value / 100


@attrs.frozen
class DateLit:
    value: dt.date
    span: Span


@attrs.frozen
class TimeLit:
    value: dt.time
    span: Span


@attrs.frozen
class Path:
    """`order.subtotal`, `customer.tier`, or a bare name (a tier, a weekday)."""

    parts: tuple[Name, ...]
    span: Span

    @property
    def dotted(self) -> str:
        return ".".join(p.text for p in self.parts)


@attrs.frozen
class BinOp:
    op: str  # + - *
    left: Expr
    right: Expr
    span: Span


Expr = Number | Quantity | Percent | DateLit | TimeLit | Path | BinOp


@attrs.frozen
class Compare:
    op: str  # >= <= > < = !=
    left: Expr
    right: Expr
    span: Span


@attrs.frozen
class Membership:
    subject: Expr
    names: tuple[Name, ...]
    span: Span


@attrs.frozen
class Between:
    """`order.time from 16:00 to 18:00`: start inclusive, end exclusive."""

    subject: Expr
    low: Expr
    high: Expr
    span: Span


@attrs.frozen
class During:
    period: Name
    span: Span


@attrs.frozen
class BoolOp:
    op: str  # and / or
    left: Cond
    right: Cond
    span: Span


@attrs.frozen
class Not:
    operand: Cond
    span: Span


Cond = Compare | Membership | Between | During | BoolOp | Not

# ------------------------------------------------------------------ shared pieces


@attrs.frozen
class ItemFilter:
    """Which basket lines a clause is about: all, some categories, or some products."""

    kind: str  # "all" | "category" | "product"
    names: tuple[Name, ...]
    span: Span

    @property
    def label(self) -> str:
        if self.kind == "all":
            return "all items"
        joined = ", ".join(n.text for n in self.names)
        return f"category [{joined}]" if self.kind == "category" else f"items [{joined}]"


@attrs.frozen
class Band:
    """One step of a rate table: `from 10000 RUB: 5%` (inclusive) or `over 100: 5%`."""

    inclusive: bool
    threshold: Expr
    rate: Percent
    span: Span


@attrs.frozen
class Window:
    """Over which time a metric is counted."""

    kind: str  # "rolling" | "calendar-year" | "calendar-month" | "lifetime"
    length: Quantity | None
    span: Span


# ------------------------------------------------------------------ program header


@attrs.frozen
class Header:
    name: str
    span: Span
    version: str | None = None
    currency: Name | None = None
    timezone: str | None = None
    timezone_span: Span | None = None
    rounding: str = "half-even"
    categories: tuple[Name, ...] = ()
    refund_window: Quantity | None = None


# ------------------------------------------------------------------ points


@attrs.frozen
class EarnPerMoney:
    """`earn 1 per 10 RUB of order.paid`: floor(base / step) * points."""

    points: Number
    per: Quantity
    base: Expr
    when: Cond | None
    span: Span


@attrs.frozen
class EarnPercent:
    """`earn 5% of order.total`: needs `worth` to turn money into points."""

    rate: Percent
    base: Expr
    when: Cond | None
    span: Span


@attrs.frozen
class EarnPerItem:
    points: Number
    items: ItemFilter
    when: Cond | None
    span: Span


@attrs.frozen
class EarnPerVisit:
    points: Number
    when: Cond | None
    span: Span


@attrs.frozen
class EarnOn:
    """Points for something that is not a purchase: signup, birthday, first purchase,
    or a named action such as a review."""

    points: Number
    trigger: str  # "signup" | "birthday" | "first purchase" | "action"
    action: str | None
    when: Cond | None
    span: Span


@attrs.frozen
class EarnMonthly:
    """A period credit: a rate chosen by last calendar month's spend, credited at the
    start of the next month (the Podruzhka rule)."""

    bands: tuple[Band, ...]
    span: Span


Earn = EarnPerMoney | EarnPercent | EarnPerItem | EarnPerVisit | EarnOn | EarnMonthly


@attrs.frozen
class Multiplier:
    factor: Decimal
    items: ItemFilter | None
    days: tuple[Name, ...]
    start: dt.time | None
    end: dt.time | None
    when: Cond | None
    span: Span


@attrs.frozen
class Expiry:
    kind: str  # "after-earned" | "inactivity" | "never"
    duration: Quantity | None
    end_of_month: bool
    span: Span


@attrs.frozen
class PointsDecl:
    name: Name
    span: Span
    worth: Quantity | None = None
    precision: Number | None = None
    earns: tuple[Earn, ...] = ()
    multipliers: tuple[Multiplier, ...] = ()
    available_after: Quantity | None = None
    available_span: Span | None = None
    expiry: Expiry | None = None
    redeem_cap: Percent | None = None
    redeem_base: Expr | None = None
    redeem_span: Span | None = None
    allow_negative: bool = False
    combine: str | None = None  # "compound" | "best"

    @property
    def decimals(self) -> int:
        return int(self.precision.value) if self.precision else 0


# ------------------------------------------------------------------ tiers


@attrs.frozen
class Metric:
    kind: str  # "spend" | "visits" | "points"
    points: Name | None
    span: Span


@attrs.frozen
class TierDef:
    name: Name
    edge: str  # "from" | "over" | "hand"
    threshold: Expr | None
    multiplier: Decimal | None
    span: Span


@attrs.frozen
class TiersDecl:
    metric: Metric
    window: Window
    span: Span
    tiers: tuple[TierDef, ...] = ()
    upgrade: str | None = None  # "immediately" | "next purchase"
    upgrade_span: Span | None = None
    review: str | None = None  # "yearly" | "quarterly" | "monthly"
    downgrade: str | None = None  # "one step" | "to qualified"
    review_span: Span | None = None
    demote_monthly: bool = False
    returns_lower_at_once: bool = False  # else a return lowers the metric, the tier waits for the review


# ------------------------------------------------------------------ offers


@attrs.frozen
class Target:
    kind: str  # "order" | "items" | "each" | "cheapest"
    items: ItemFilter
    span: Span


@attrs.frozen
class Discount:
    amount: Expr  # a Percent or a money Quantity
    target: Target
    cap: Expr | None
    span: Span


@attrs.frozen
class MultiBuy:
    """Buy `buy`, get `get` at `percent_off` (100 = free); the cheapest units of each
    group are the discounted ones."""

    buy: Number
    get: Number
    percent_off: Percent
    items: ItemFilter
    repeating: bool
    span: Span


@attrs.frozen
class GivePoints:
    amount: Quantity
    span: Span


@attrs.frozen
class GiveCoupon:
    coupon: Name
    span: Span


Effect = Discount | MultiBuy | GivePoints | GiveCoupon


@attrs.frozen
class Exclusion:
    other: Name
    cancel_order: bool
    span: Span


@attrs.frozen
class OfferDecl:
    """A rule (applies by itself), a code (applies when entered) or a coupon (applies
    while the customer holds one). They share one shape so stacking treats them alike."""

    kind: str  # "rule" | "code" | "coupon"
    name: Name
    span: Span
    when: Cond | None = None
    once_per_customer: bool = False
    effects: tuple[Effect, ...] = ()
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    valid_for: Quantity | None = None
    valid_forever: bool = False
    valid_span: Span | None = None
    limit_per_customer: Number | None = None
    limit_total: Number | None = None
    exclusions: tuple[Exclusion, ...] = ()
    uses: Number | None = None
    uses_unlimited: bool = False
    uses_span: Span | None = None


@attrs.frozen
class ScaleDecl:
    """A rate table turned into a discount: slab (`whole amount`) or marginal
    (`each part`), on an order amount or on a quantity/amount counted over a window."""

    name: Name
    base_kind: str  # "expr" | "quantity" | "amount"
    base_expr: Expr | None
    items: ItemFilter
    window: Window | None
    marginal: bool
    bands: tuple[Band, ...]
    when: Cond | None
    span: Span


# ------------------------------------------------------------------ stamps


@attrs.frozen
class StampRule:
    kind: str  # "item" | "purchase" | "money"
    count: Number
    items: ItemFilter
    per: Quantity | None
    base: Expr | None
    carry_remainder: bool
    when: Cond | None
    span: Span


@attrs.frozen
class Reward:
    kind: str  # "free-item" | "coupon" | "points"
    items: ItemFilter | None
    coupon: Name | None
    points: Quantity | None
    span: Span


@attrs.frozen
class StampsDecl:
    name: Name
    span: Span
    card_size: Number | None = None
    stamp: StampRule | None = None
    reward: Reward | None = None
    overflow: str = "reset"  # "reset" | "carry over"
    expiry: Quantity | None = None


# ------------------------------------------------------------------ stacking, periods


@attrs.frozen
class StackGroup:
    kind: str  # "best" | "first" | "rest"
    members: tuple[Name, ...]
    span: Span


@attrs.frozen
class StackingDecl:
    groups: tuple[StackGroup, ...]
    span: Span


@attrs.frozen
class PeriodDecl:
    name: Name
    start: dt.date
    end: dt.date  # inclusive, like the text says
    span: Span


# ------------------------------------------------------------------ scenario tests


@attrs.frozen
class TestCustomer:
    name: Name
    signed_up: dt.date | None
    born: dt.date | None
    span: Span


@attrs.frozen
class BuyLine:
    quantity: Number
    product: Name
    category: Name | None  # None: the product name is the category (`2 beans`)
    price: Quantity | None  # None: the price of the same product earlier in the test
    span: Span


@attrs.frozen
class TestBuy:
    at: dt.datetime  # naive: in the program's time zone
    customer: Name
    lines: tuple[BuyLine, ...]
    codes: tuple[Name, ...]
    redeem: Quantity | None
    redeem_max: Name | None
    alias: Name | None
    span: Span


@attrs.frozen
class TestReturn:
    at: dt.datetime
    customer: Name
    purchase: Name
    units: tuple[tuple[Number, Name], ...]  # empty: the whole purchase
    span: Span


@attrs.frozen
class TestCustomerEvent:
    at: dt.datetime
    customer: Name
    kind: str  # signup | birthday | tier | action
    tier: Name | None
    action: str | None
    span: Span


@attrs.frozen
class Expect:
    """One expectation. Without a customer it is about the last purchase or return."""

    kind: str  # paid discount no-discount earned code-refused coupon-issued cancelled refunded rejected balance tier stamps
    span: Span
    value: Expr | None = None
    offer: Name | None = None
    customer: Name | None = None
    wallet: Name | None = None
    balance: str = "available"
    tier: Name | None = None
    reason: str | None = None
    as_of: dt.datetime | None = None


TestStep = TestCustomer | TestBuy | TestReturn | TestCustomerEvent | Expect


@attrs.frozen
class TestDecl:
    name: str
    steps: tuple[TestStep, ...]
    span: Span


@attrs.frozen
class InvariantDecl:
    """A promise `loyaldsl fuzz` checks after every purchase: a condition that always
    holds, or that a higher tier never pays more than a lower one for the same basket."""

    name: str
    kind: str  # always | compare
    span: Span
    cond: Cond | None = None
    higher: Name | None = None
    lower: Name | None = None
    op: str = "<="


Decl = Header | PointsDecl | TiersDecl | OfferDecl | ScaleDecl | StampsDecl | StackingDecl | PeriodDecl | TestDecl | InvariantDecl


@attrs.frozen
class Program:
    """A parsed program, declarations in source order (order of application matters)."""

    declarations: tuple[Decl, ...]
    filename: str = "<program>"

    def of_type(self, kind: type) -> list:
        return [d for d in self.declarations if isinstance(d, kind)]

    @property
    def header(self) -> Header | None:
        found = self.of_type(Header)
        return found[0] if found else None

    @property
    def points(self) -> list[PointsDecl]:
        return self.of_type(PointsDecl)

    @property
    def tiers(self) -> TiersDecl | None:
        found = self.of_type(TiersDecl)
        return found[0] if found else None

    @property
    def offers(self) -> list[OfferDecl]:
        return self.of_type(OfferDecl)

    @property
    def scales(self) -> list[ScaleDecl]:
        return self.of_type(ScaleDecl)

    @property
    def stamp_cards(self) -> list[StampsDecl]:
        return self.of_type(StampsDecl)

    @property
    def stacking(self) -> StackingDecl | None:
        found = self.of_type(StackingDecl)
        return found[0] if found else None

    @property
    def periods(self) -> list[PeriodDecl]:
        return self.of_type(PeriodDecl)

    @property
    def tests(self) -> list[TestDecl]:
        return self.of_type(TestDecl)

    @property
    def invariants(self) -> list[InvariantDecl]:
        return self.of_type(InvariantDecl)
