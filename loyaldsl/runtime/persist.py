"""Engine state <-> JSON-ready dicts, so a shop keeps each customer's state in its own
database and the same state loads back into either engine.

Decimals become strings, datetimes ISO 8601 with their offset (the program's zone is
re-applied on load), so a round trip is exact.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .ledger import Ledger
from .state import CardState, CustomerState, Dated, Holding, PurchaseRecord, State, TillRecord, as_record


def _persist_time(value: _dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _persist_parse_time(text: str | None, zone: ZoneInfo) -> _dt.datetime | None:
    return None if text is None else _dt.datetime.fromisoformat(text).astimezone(zone)


def _persist_entries(entries: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    return [[entry[0].isoformat(), str(entry[1]), *entry[2:]] for entry in entries]


def _persist_parse_entries(rows: list[list[Any]], zone: ZoneInfo, number: type = Decimal) -> list[Any]:
    """Entries back as the engine keeps them: tuples (state.py, Dated)."""
    return [(_dt.datetime.fromisoformat(row[0]).astimezone(zone), number(row[1]), *row[2:]) for row in rows]


def _persist_dated(entries: list[Dated]) -> list[Dated]:
    """Windowed entries in time order, as the engine keeps them (a state saved before
    it did may have a return's entry after later ones); equal times keep their order."""
    return sorted(entries, key=lambda entry: entry[0])


def customer_to_json(customer: CustomerState) -> dict[str, Any]:
    return {
        "id": customer.id,
        "signed_up": _persist_time(customer.signed_up),
        "birth_date": None if customer.birth_date is None else customer.birth_date.isoformat(),
        "birthday_year": customer.birthday_year,
        "orders": customer.orders,
        "spend": str(customer.spend),
        "last_visit": _persist_time(customer.last_visit),
        "last_event_at": _persist_time(customer.last_event_at),
        "seen": {key: value.isoformat() for key, value in customer.seen.items()},
        "wallets": {name: ledger.to_json() for name, ledger in customer.wallets.items()},
        "tier": customer.tier,
        "tier_manual": customer.tier_manual,
        "reviewed_at": _persist_time(customer.reviewed_at),
        "demoted_steps": customer.demoted_steps,
        "tier_entries": _persist_entries(customer.tier_entries),
        "months": {key: str(value) for key, value in customer.months.items()},
        "credited_through": customer.credited_through,
        "scale_entries": {name: _persist_entries(rows) for name, rows in customer.scale_entries.items()},
        "cards": {
            name: {"entries": _persist_entries(card.entries), "remainder": str(card.remainder), "rewards": card.rewards}
            for name, card in customer.cards.items()
        },
        "coupons": [
            [h.name, h.issued_at.isoformat(), _persist_time(h.expires_at), h.uses_left, h.source] for h in customer.coupons
        ],
        "uses": dict(customer.uses),
        "purchases": {
            pid: {
                "at": rec.at.isoformat(),
                "lines": [[product, units, str(price)] for product, units, price in rec.lines],
                "total": str(rec.total),
                "refunded": str(rec.refunded),
                "redeemed": str(rec.redeemed),
                "refunded_money": str(rec.refunded_money),
                "applied": list(rec.applied),
                "categories": list(rec.categories),
                "stamped": {k: list(v) for k, v in rec.stamped.items()},
                "stamp_money": {k: str(v) for k, v in rec.stamp_money.items()},
                "stamps": dict(rec.stamps),
                "coupons": list(rec.coupons),
                "scale_values": {k: str(v) for k, v in rec.scale_values.items()},
                "points_metric": str(rec.points_metric),
            }
            for pid, rec in ((pid, as_record(kept)) for pid, kept in customer.purchases.items())
        },
    }


def customer_from_json(data: dict[str, Any], zone: ZoneInfo) -> CustomerState:
    purchases: dict[str, PurchaseRecord | TillRecord] = {}
    for pid, rec in data["purchases"].items():
        record = purchases[pid] = PurchaseRecord(
            at=_dt.datetime.fromisoformat(rec["at"]).astimezone(zone),
            total=Decimal(rec["total"]),
            redeemed=Decimal(rec["redeemed"]),
            applied=tuple(rec["applied"]),
        )
        record.lines = [[product, units, Decimal(price)] for product, units, price in rec["lines"]]
        record.categories = list(rec["categories"])
        record.refunded = Decimal(rec["refunded"])
        record.refunded_money = Decimal(rec["refunded_money"])
        record.points_metric = Decimal(rec["points_metric"])
        record.stamped = {k: list(v) for k, v in rec["stamped"].items()}
        record.stamp_money = {k: Decimal(v) for k, v in rec["stamp_money"].items()}
        record.stamps = dict(rec["stamps"])
        record.coupons = list(rec["coupons"])
        record.scale_values = {k: Decimal(v) for k, v in rec["scale_values"].items()}
    birth = data["birth_date"]
    customer = CustomerState(
        id=data["id"],
        signed_up=_persist_parse_time(data["signed_up"], zone),
        birth_date=None if birth is None else _dt.date.fromisoformat(birth),
        birthday_year=data["birthday_year"],
        orders=data["orders"],
        spend=Decimal(data["spend"]),
        last_visit=_persist_parse_time(data["last_visit"], zone),
        last_event_at=_persist_parse_time(data["last_event_at"], zone),
        tier=data["tier"],
        tier_manual=data["tier_manual"],
        reviewed_at=_persist_parse_time(data["reviewed_at"], zone),
        demoted_steps=data["demoted_steps"],
        credited_through=data["credited_through"],
        purchases=purchases,
    )
    # Only the containers the saved customer has are its own; the others stay the
    # shared empty ones, as for a new customer.
    if data["seen"]:
        customer.seen = {key: _dt.datetime.fromisoformat(value).astimezone(zone) for key, value in data["seen"].items()}
    if data["wallets"]:
        customer.wallets = {name: Ledger.from_json(ledger) for name, ledger in data["wallets"].items()}
    if data["tier_entries"]:
        customer.tier_entries = _persist_dated(_persist_parse_entries(data["tier_entries"], zone))
    if data["months"]:
        customer.months = {key: Decimal(value) for key, value in data["months"].items()}
    if data["scale_entries"]:
        customer.scale_entries = {name: _persist_dated(_persist_parse_entries(rows, zone)) for name, rows in data["scale_entries"].items()}
    if data["cards"]:
        customer.cards = {
            name: CardState(_persist_parse_entries(card["entries"], zone, int), Decimal(card["remainder"]), card["rewards"])
            for name, card in data["cards"].items()
        }
    if data["coupons"]:
        customer.coupons = [
            Holding(name, _dt.datetime.fromisoformat(issued).astimezone(zone), _persist_parse_time(expires, zone), uses, source)
            for name, issued, expires, uses, source in data["coupons"]
        ]
    if data["uses"]:
        customer.uses = dict(data["uses"])
    return customer


def state_to_json(state: State) -> dict[str, Any]:
    return {
        "customers": {cid: customer_to_json(c) for cid, c in sorted(state.customers.items())},
        "code_uses": dict(sorted(state.code_uses.items())),
    }


def state_from_json(data: dict[str, Any], zone: ZoneInfo) -> State:
    return State(
        customers={cid: customer_from_json(c, zone) for cid, c in data["customers"].items()},
        code_uses=dict(data["code_uses"]),
    )
