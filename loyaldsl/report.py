"""Turning outcomes and customer reports into text a person reads: one table row per
event, then balances. Formatting only; the numbers come from the engine."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from loyaldsl.runtime.currency import format_money
from loyaldsl.runtime.outcome import CustomerReport, Outcome


def _points(amount: Decimal) -> str:
    text = f"{amount:,}"
    return text


def _when(at) -> str:  # type: ignore[no-untyped-def]
    return at.strftime("%Y-%m-%d %H:%M")


EVENT_HEADER = f"{'time':<16}  {'event':<10}  {'customer':<12}  {'subtotal':>14}  {'discount':>12}  {'paid':>14}  details"


def event_row(outcome: Outcome, currency: str) -> str:
    """One line per event, details after the money columns, in the order they happened."""
    subtotal = discount = paid = ""
    details: list[str] = []
    if outcome.subtotal is not None:
        subtotal = format_money(outcome.subtotal, currency)
        taken = sum((amount for _, amount in outcome.discounts), Decimal(0))
        discount = f"-{format_money(taken, currency)}" if taken else "-"
        paid = format_money(outcome.paid if outcome.paid is not None else outcome.subtotal, currency)
        for name, amount in outcome.discounts:
            details.append(f"{name} -{format_money(amount, currency)}")
        for wallet, points, value in outcome.redeemed:
            details.append(f"redeemed {_points(points)} {wallet} (-{format_money(value, currency)})")
    elif outcome.kind != "purchase":
        details.append(outcome.kind)
    if outcome.refunded is not None:
        paid = f"-{format_money(outcome.refunded, currency)}"
    if outcome.status != "ok":
        details.insert(0, outcome.status.upper())
    for wallet, points, reason, available_at in outcome.earned:
        pending = f", available {available_at:%Y-%m-%d}" if available_at > outcome.at else ""
        details.append(f"+{_points(points)} {wallet} ({reason}{pending})")
    for wallet, points in outcome.taken_back:
        details.append(f"-{_points(points)} {wallet} taken back")
    for wallet, points in outcome.given_back:
        details.append(f"+{_points(points)} {wallet} given back")
    for wallet, points in outcome.expired:
        details.append(f"-{_points(points)} {wallet} expired")
    for card, change, on_card in outcome.stamps:
        details.append(f"{'+' if change > 0 else ''}{change} stamp{'s' if abs(change) != 1 else ''} on {card} ({on_card} now)")
    for coupon in outcome.coupons_issued:
        details.append(f"coupon {coupon} issued")
    for coupon in outcome.coupons_used:
        details.append(f"coupon {coupon} used")
    if outcome.tier_before != outcome.tier_after:
        details.append(f"tier {outcome.tier_before or '-'} -> {outcome.tier_after or '-'}")
    details.extend(outcome.notes)
    return (
        f"{_when(outcome.at):<16}  {outcome.event_id:<10}  {outcome.customer:<12}  "
        f"{subtotal:>14}  {discount:>12}  {paid:>14}  {'; '.join(details)}"
    ).rstrip()


def balances(reports: Iterable[CustomerReport], currency: str) -> str:
    """The customers' standing at the end (or at --as-of), one block per customer."""
    lines = []
    for report in reports:
        head = f"{report.customer}: {report.orders} order{'s' if report.orders != 1 else ''}, spent {format_money(report.spend, currency)}"
        if report.tier is not None or report.next_tier is not None:
            head += f", tier {report.tier or '-'}"
            if report.next_tier is not None:
                head += f" ({_points(report.next_tier[1])} more for {report.next_tier[0]})"
        lines.append(head)
        for wallet in report.wallets:
            text = f"  {wallet.name}: {_points(wallet.available)} available"
            if wallet.pending:
                text += f", {_points(wallet.pending)} pending"
            if wallet.next_expiry is not None:
                at, amount = wallet.next_expiry
                text += f", {_points(amount)} expire {at:%Y-%m-%d %H:%M}"
            lines.append(text)
        for card, stamps, size, rewards in report.stamps:
            text = f"  stamps {card}: {stamps}/{size}"
            if rewards:
                text += f", {rewards} free item{'s' if rewards != 1 else ''} waiting"
            lines.append(text)
        for name, expires, uses in report.coupons:
            text = f"  coupon {name}"
            text += f", {uses} use{'s' if uses != 1 else ''} left" if uses is not None else ", unlimited uses"
            if expires is not None:
                text += f", until {expires:%Y-%m-%d %H:%M}"
            lines.append(text)
    return "\n".join(lines)
