"""A points balance kept as a ledger of lots, never as a bare number.

Stdlib only (copied into generated modules). Engines that keep one number lose track
of which points expire when, and refunds either leave earned points behind or take
them twice (DESIGN.md, "What goes wrong" #2 and #4). Here every point lives in a
`Lot` that remembers where it came from, and every source event (a purchase id)
keeps a `LedgerSource` record of what it earned, what it spent, and what its refund
took from other lots, so a refund can be undone exactly.

Decisions the interpreter relies on:
  - Points are Decimal; floats are refused. Expiry is exclusive: a lot with
    `expires_at` T is gone at T. Every mutating method applies expiry first.
  - Spending (`burn`) takes available lots in expiry order: soonest expiry first,
    never-expiring last, ties by earned_at then insertion order.
  - A refund (`reverse`) first gives back what the purchase spent, to the very lots it
    spent (latest-burned first, keeping their expiry; points given back to a lot that
    has expired meanwhile expire at once), then takes back what the purchase earned:
    the unspent remainder is removed; the part that expired counts as taken; the part
    that was spent is clawed back from other points (available first, then pending,
    each in burn order) down to `floor` on the total balance; what the floor stops
    is the `shortfall` and is forgiven.
  - Debt: with floor None (or negative) the balance may go below zero. The debt is
    kept in `Ledger.debt` (not as a negative lot). While there is debt every lot is
    empty, `available()` returns -debt, and any points that arrive (an earn, even a
    pending one, or points given back) pay the debt first, oldest debt first.
  - Chains: if points come back to a lot whose own purchase was refunded, they are
    not the customer's any more: they first pay that refund's forgiven shortfall,
    then undo its clawbacks (debt first, then lots, latest first); only what is left
    lands in the lot. So refunding everything, in any order, returns the balance to
    exactly zero (without expiry in between).
  - Fully spent lots leave `lots` at once (so scans stay short) but stay reachable from
    the source records that may need them back; `forget_before` drops the records of
    events that can no longer be refunded, which bounds memory per customer.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from .lazy import made_on_first_use, set_slots

_LEDGER_ZERO = Decimal(0)
_LEDGER_NEVER = datetime.max.replace(tzinfo=UTC)  # Ledger.expiry_floor when no lot expires


@dataclass(slots=True)
class Lot:
    """Points earned together: one expiry, one availability date, one source event.

    `amount` is what was earned and never changes; `remaining` is what is left to
    spend; `expired` is how much of it has expired (kept so a later refund does not
    claw back points the customer already lost); `seq` is the ledger's insertion
    number, the lot's identity in JSON and the last tie-breaker in burn order.
    """

    amount: Decimal
    remaining: Decimal
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None
    source: str
    reason: str
    seq: int = 0
    expired: Decimal = _LEDGER_ZERO


@dataclass(slots=True)
class LedgerDraw:
    """Points taken from one lot by a source event: a spend (burn) or a clawback.

    `amount` is what is still outstanding (it shrinks as points are given back);
    `lot` None means "owed": a clawback that went into debt and is not yet paid.
    """

    lot: Lot | None
    amount: Decimal


@dataclass(slots=True)
class LedgerSource:
    """Everything one source event did to the ledger, so its refund can be exact.

    `fraction` is how much of the event has been refunded so far (an exact Fraction,
    so three refunds of a third add up to one); `taken`/`given` are the points taken
    back from its earnings and given back from its spending so far; `shortfall` is
    what its refunds could not claw back (forgiven, but paid first if the points it
    earned ever come back).

    A record is kept for every event that earned or spent points, and most are dropped
    untouched once past the refund window: its lists are made on first use.
    """

    at: datetime
    lots: list[Lot] = field(init=False)
    burns: list[LedgerDraw] = field(init=False)
    claws: list[LedgerDraw] = field(init=False)
    earned: Decimal = _LEDGER_ZERO
    burned: Decimal = _LEDGER_ZERO
    fraction: Fraction = Fraction(0)
    taken: Decimal = _LEDGER_ZERO
    given: Decimal = _LEDGER_ZERO
    shortfall: Decimal = _LEDGER_ZERO
    expired_counted: Decimal = _LEDGER_ZERO

    def __getattr__(self, name: str) -> list[Any]:
        """A list not yet used: made now (only called when the slot is empty)."""
        value: list[Any] = made_on_first_use(self, name, _LEDGER_SOURCE_LISTS)
        return value

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        return set_slots(self)  # a copy leaves the original's unmade lists unmade


_LEDGER_SOURCE_LISTS: dict[str, Callable[[], list[Any]]] = dict.fromkeys(("lots", "burns", "claws"), list)


@dataclass(frozen=True, slots=True)
class Reversal:
    """What a refund did to the points, for the run report.

    Given back (from what the purchase spent): `restored` reached the balance
    (including points that paid off debt), `restored_expired` went to lots that had
    expired meanwhile, `settled` paid an earlier refund's forgiven shortfall.
    Taken back (from what the purchase earned): `removed` (its unspent remainder),
    `already_expired` (its points that had expired anyway), `clawed_back` (from other
    points, of which `into_debt` pushed the balance below zero), `shortfall` (not
    taken because of the floor). The balance changes by
    restored - removed - clawed_back.
    """

    restored: Decimal = _LEDGER_ZERO
    restored_expired: Decimal = _LEDGER_ZERO
    settled: Decimal = _LEDGER_ZERO
    removed: Decimal = _LEDGER_ZERO
    already_expired: Decimal = _LEDGER_ZERO
    clawed_back: Decimal = _LEDGER_ZERO
    into_debt: Decimal = _LEDGER_ZERO
    shortfall: Decimal = _LEDGER_ZERO


class InsufficientPoints(ValueError):
    """A spend larger than the available points: refused whole, never partly done."""

    def __init__(self, requested: Decimal, available: Decimal) -> None:
        super().__init__(f"cannot spend {requested} points: only {available} available")
        self.requested = requested
        self.available = available


def _ledger_points(value: Decimal | int, what: str) -> Decimal:
    """Accept Decimal or int points; refuse float and bool, which hide rounding bugs."""
    if type(value) is Decimal and value.is_finite():
        return value  # what the engine always passes: a Decimal is immutable, no copy needed
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{what} must be a Decimal, got {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{what} must be finite, got {result}")
    return result


def _ledger_aware(t: datetime) -> None:
    """Refuse a naive time: the ledger compares instants. (A ZoneInfo always gives an
    offset: the engine's times skip asking.)"""
    if type(t.tzinfo) is not ZoneInfo and (t.tzinfo is None or t.utcoffset() is None):
        raise ValueError(f"datetime {t.isoformat()} has no time zone")


def _ledger_utc(t: datetime) -> datetime:
    """Exact instant: same-zone comparisons in Python look at wall time and ignore fold."""
    _ledger_aware(t)
    return t.astimezone(UTC)


def _ledger_not_after(a: datetime, b: datetime) -> bool:
    """a <= b as instants. Two times in one zone, neither in the second pass of a
    repeated hour, compare by wall clock exactly as by instant (the engine never holds
    a time inside a DST gap), which skips two UTC conversions on the hot path."""
    if a.tzinfo is b.tzinfo and not a.fold and not b.fold:
        return a <= b
    return _ledger_utc(a) <= _ledger_utc(b)


def _ledger_is_expired(lot: Lot, as_of: datetime) -> bool:
    return lot.expires_at is not None and _ledger_not_after(lot.expires_at, as_of)


def _ledger_is_available(lot: Lot, as_of: datetime) -> bool:
    return _ledger_not_after(lot.available_at, as_of)


def _ledger_burn_key(lot: Lot) -> tuple[bool, datetime, datetime, int]:
    """Burn order: soonest expiry first, never-expiring last, then earned_at, then seq."""
    expires = lot.expires_at if lot.expires_at is not None else lot.earned_at
    return (lot.expires_at is None, _ledger_utc(expires), _ledger_utc(lot.earned_at), lot.seq)


def _ledger_in_burn_order(lots: list[Lot]) -> list[Lot]:
    """`lots` sorted by _ledger_burn_key. When every time is in one zone and none is in
    the second pass of a repeated hour, wall clocks order them as instants do (see
    _ledger_not_after), which spares two UTC conversions per lot on every spend."""
    zone = lots[0].earned_at.tzinfo if lots else None
    keyed = []
    for lot in lots:
        earned, ends = lot.earned_at, lot.expires_at
        if earned.tzinfo is not zone or earned.fold or (ends is not None and (ends.tzinfo is not zone or ends.fold)):
            return sorted(lots, key=_ledger_burn_key)
        keyed.append((ends is None, earned if ends is None else ends, earned, lot.seq, lot))
    keyed.sort()  # no key function to call per lot: seq is unique, so the lot itself is never compared
    return [item[4] for item in keyed]


def _ledger_round(value: Fraction, quantum: Decimal, rounding: str) -> Decimal:
    """Round an exact value to a multiple of `quantum` (ROUND_CEILING or ROUND_FLOOR)."""
    steps = value / Fraction(quantum)
    whole = -((-steps.numerator) // steps.denominator) if rounding == ROUND_CEILING else (
        steps.numerator // steps.denominator
    )
    return Decimal(whole) * quantum


def _ledger_dt_to_json(t: datetime) -> str:
    """ISO 8601 with offset, plus the zone key in brackets (RFC 9557) when there is one,
    so a round trip gives back the same zone, not just the same instant."""
    text = t.isoformat()
    if isinstance(t.tzinfo, ZoneInfo):
        text += f"[{t.tzinfo.key}]"
    return text


def _ledger_dt_from_json(text: str) -> datetime:
    """Inverse of _ledger_dt_to_json. With a zone key the wall time and fold are
    restored as written (even a wall time that falls in a DST gap), not re-derived
    from the instant, so the round trip is exact."""
    if not text.endswith("]"):
        return datetime.fromisoformat(text)
    stamp, _, key = text[:-1].partition("[")
    parsed = datetime.fromisoformat(stamp)
    zone = ZoneInfo(key)
    wall = parsed.replace(tzinfo=None)
    for fold in (0, 1):
        candidate = wall.replace(tzinfo=zone, fold=fold)
        if candidate.utcoffset() == parsed.utcoffset():
            return candidate
    return parsed.astimezone(zone)


def _ledger_opt_dt_to_json(t: datetime | None) -> str | None:
    return None if t is None else _ledger_dt_to_json(t)


def _ledger_opt_dt_from_json(text: str | None) -> datetime | None:
    return None if text is None else _ledger_dt_from_json(text)


@dataclass(slots=True)
class Ledger:
    """One customer's balance of one kind of points.

    `lots` holds the lots with points left, in insertion order; `sources` maps each
    source event id to what it did; `debt` is the owed amount (see the module
    docstring); `debts` lists the unpaid debt clawbacks oldest first as
    (source id, index into that source's `claws`).
    """

    lots: list[Lot] = field(default_factory=list)
    sources: dict[str, LedgerSource] = field(default_factory=dict)
    debt: Decimal = _LEDGER_ZERO
    debts: list[tuple[str, int]] = field(default_factory=list)
    next_seq: int = 0
    # No lot in `lots` expires before this instant (_LEDGER_NEVER: none expires; None:
    # not known), so `expire`, called by every change, skips its scan until then.
    # Derived from `lots`: neither saved nor compared.
    expiry_floor: datetime | None = field(default=None, compare=False, repr=False)

    # ----- queries (pure: they never change the ledger) -----

    def available(self, as_of: datetime) -> Decimal:
        """Spendable now: lots already available and not expired, minus any debt."""
        total = _LEDGER_ZERO
        zone = as_of.tzinfo if not as_of.fold else None
        for lot in self.lots:
            # _ledger_is_available and not _ledger_is_expired, their same-zone case
            # written out: this runs per lot on every redemption.
            starts, ends = lot.available_at, lot.expires_at
            if (starts <= as_of if starts.tzinfo is zone and not starts.fold else _ledger_not_after(starts, as_of)) and (
                ends is None or not (ends <= as_of if ends.tzinfo is zone and not ends.fold else _ledger_not_after(ends, as_of))
            ):
                total += lot.remaining
        return total - self.debt

    def pending(self, as_of: datetime) -> Decimal:
        """Earned but not yet spendable (inside a return window)."""
        return sum(
            (
                lot.remaining
                for lot in self.lots
                if not _ledger_is_available(lot, as_of) and not _ledger_is_expired(lot, as_of)
            ),
            _LEDGER_ZERO,
        )

    def total(self, as_of: datetime) -> Decimal:
        """available + pending: the balance a floor is measured against."""
        return self.available(as_of) + self.pending(as_of)

    def next_expiry(self, as_of: datetime) -> tuple[datetime, Decimal] | None:
        """The earliest instant any points (available or pending) expire after as_of,
        and how many expire then; None if nothing will expire."""
        best: datetime | None = None
        amount = _LEDGER_ZERO
        for lot in self.lots:
            if lot.expires_at is None or lot.remaining <= 0 or _ledger_is_expired(lot, as_of):
                continue
            if best is None or _ledger_utc(lot.expires_at) < _ledger_utc(best):
                best, amount = lot.expires_at, lot.remaining
            elif _ledger_utc(lot.expires_at) == _ledger_utc(best):
                amount += lot.remaining
        return None if best is None else (best, amount)

    # ----- changes -----

    def earn(
        self,
        amount: Decimal,
        earned_at: datetime,
        available_at: datetime,
        expires_at: datetime | None,
        source: str,
        reason: str,
    ) -> Lot:
        """Add a lot of `amount` (> 0) earned by event `source`; pays debt first."""
        points = _ledger_points(amount, "earned points")
        if points <= 0:
            raise ValueError(f"earned points must be positive, got {points}")
        for moment in (earned_at, available_at, expires_at):
            if moment is not None:
                _ledger_aware(moment)
        return self.add_lot(points, earned_at, available_at, expires_at, source, reason)

    def add_lot(
        self,
        points: Decimal,
        earned_at: datetime,
        available_at: datetime,
        expires_at: datetime | None,
        source: str,
        reason: str,
    ) -> Lot:
        """`earn` without its checks, for a caller that only ever passes a positive
        Decimal and aware times (the engine, on nearly every purchase): the checks
        were a third of what earning cost."""
        floor = self.expiry_floor
        if floor is None or (floor is not _LEDGER_NEVER and _ledger_not_after(floor, earned_at)):
            self.expire(earned_at)
            floor = self.expiry_floor
        lot = Lot(points, _LEDGER_ZERO, earned_at, available_at, expires_at, source, reason,
                  self.next_seq)
        self.next_seq += 1
        record = self.sources.get(source)
        if record is None:
            record = self.sources[source] = LedgerSource(earned_at)
            record.lots = [lot]
        else:
            record.lots.append(lot)
        record.earned += points
        if expires_at is not None and _ledger_not_after(expires_at, earned_at):
            lot.expired = points  # born expired
            return lot
        if self.debts:
            self._ledger_credit(lot, points)
            self._ledger_prune()
        else:
            # What _ledger_credit does without debt, for a lot newer than every other
            # (so it goes last) in a list `expire` has just left with live lots only.
            lot.remaining = points
            self.lots.append(lot)
            if floor is not None and expires_at is not None and (floor is _LEDGER_NEVER or _ledger_not_after(expires_at, floor)):
                self.expiry_floor = expires_at
        return lot

    def expire(self, as_of: datetime) -> Decimal:
        """Expire every lot with expires_at <= as_of; returns how many points went.
        Idempotent, and called by every other change, so it is safe to call often:
        before the soonest expiry it does not look at the lots at all."""
        floor = self.expiry_floor
        if floor is not None and (floor is _LEDGER_NEVER or not _ledger_not_after(floor, as_of)):
            return _LEDGER_ZERO
        gone = _LEDGER_ZERO
        kept: list[Lot] = []
        soonest = _LEDGER_NEVER
        zone = as_of.tzinfo if not as_of.fold else None
        for lot in self.lots:
            left = lot.remaining
            if left <= 0:
                continue
            ends = lot.expires_at
            if ends is not None:
                # _ledger_not_after's same-zone case written out, as in `available`:
                # this runs per lot whenever a lot may have expired.
                if ends <= as_of if ends.tzinfo is zone and not ends.fold else _ledger_not_after(ends, as_of):
                    gone += left
                    lot.expired += left
                    lot.remaining = _LEDGER_ZERO
                    continue
                if soonest is _LEDGER_NEVER or not (soonest <= ends if soonest.tzinfo is zone and ends.tzinfo is zone and not (soonest.fold or ends.fold) else _ledger_not_after(soonest, ends)):
                    soonest = ends
            kept.append(lot)
        if len(kept) != len(self.lots):
            self.lots = kept
        self.expiry_floor = soonest
        return gone

    def expire_by(self, deadline: datetime) -> None:
        """Bring every lot's expiry forward to `deadline` at the latest (inactivity),
        spent lots too: points given back to them later stay expired."""
        _ledger_aware(deadline)
        lots = [*self.lots, *(lot for record in self.sources.values() for lot in record.lots)]
        for lot in lots:
            if lot.expires_at is None or not _ledger_not_after(lot.expires_at, deadline):
                lot.expires_at = deadline
        self.expiry_floor = None

    def burn(self, amount: Decimal, as_of: datetime, source: str) -> Decimal:
        """Spend `amount` available points for event `source`, soonest-expiring first.

        Raises InsufficientPoints (nothing spent) if fewer are available; returns the
        amount spent.
        """
        points = _ledger_points(amount, "points to spend")
        if points < 0:
            raise ValueError(f"points to spend must not be negative, got {points}")
        spendable, have = self.spendable(as_of)
        if points > have:
            raise InsufficientPoints(points, have)
        return self.burn_from(spendable, points, as_of, source)

    def spendable(self, as_of: datetime) -> tuple[list[Lot], Decimal]:
        """The lots that can be spent at `as_of` (expiry applied first), in the ledger's
        order, and what they hold less any debt: `available(as_of)`, with the lots that
        make it, for a caller that then spends some of it (burn_from) without looking
        at every lot again."""
        self.expire(as_of)
        zone = as_of.tzinfo if not as_of.fold else None
        spendable = [  # none expired: just expired; _ledger_is_available written out, as in `available`
            lot for lot in self.lots
            if (lot.available_at <= as_of if lot.available_at.tzinfo is zone and not lot.available_at.fold else _ledger_not_after(lot.available_at, as_of))
        ]
        return spendable, sum([lot.remaining for lot in spendable], _LEDGER_ZERO) - self.debt

    def burn_from(self, spendable: list[Lot], points: Decimal, as_of: datetime, source: str) -> Decimal:
        """`burn` of points no more than `spendable(as_of)` holds, from its lots, with
        nothing changed in between (its checks done by the caller)."""
        if points == 0:
            return points
        record = self._ledger_record(source, as_of)
        left = points
        emptied = False
        for lot in _ledger_in_burn_order(spendable):
            take = min(left, lot.remaining)
            if take <= 0:
                continue
            lot.remaining -= take
            emptied = emptied or not lot.remaining
            record.burns.append(LedgerDraw(lot, take))
            left -= take
            if left == 0:
                break
        record.burned += points
        if emptied:
            self._ledger_prune()
        return points

    def reverse(
        self, source: str, as_of: datetime, floor: Decimal | None = _LEDGER_ZERO
    ) -> Reversal:
        """Refund event `source` in full (see the module docstring). Reversing a source
        twice, or one the ledger never saw, changes nothing."""
        record = self.sources.get(source)
        if record is None or record.fraction >= 1:
            return Reversal()
        return self._ledger_reverse(source, Fraction(1), as_of, floor, Decimal(1))

    def reverse_partial(
        self,
        source: str,
        fraction: Decimal | Fraction,
        as_of: datetime,
        floor: Decimal | None = _LEDGER_ZERO,
        quantum: Decimal = Decimal(1),
    ) -> Reversal:
        """Refund `fraction` (0..1) of event `source`.

        Fractions add up across calls (capped at the whole); pass an exact Fraction
        (refunded / paid) so that refunds of 1/3 three times make exactly one. The
        points taken back are the cumulative fraction of what it earned rounded UP to
        a multiple of `quantum` (a partial refund never leaves a point earned on
        refunded goods), those given back the cumulative fraction of what it spent
        rounded DOWN (never gives back more than was spent on refunded goods); at
        the whole both are exact.
        """
        share = Fraction(fraction)
        if share < 0 or share > 1:
            raise ValueError(f"refund fraction must be between 0 and 1, got {fraction}")
        step = _ledger_points(quantum, "quantum")
        if step <= 0:
            raise ValueError(f"quantum must be positive, got {quantum}")
        record = self.sources.get(source)
        if record is None or record.fraction >= 1 or share == 0:
            return Reversal()
        return self._ledger_reverse(source, min(Fraction(1), record.fraction + share), as_of,
                                    floor, step)

    def forget_before(self, cutoff: datetime) -> int:
        """Drop the records of events before `cutoff` (past any refund window) so memory
        stays bounded; returns how many were dropped. Records a later refund may still
        need (a refund that left a shortfall or clawbacks to undo) are kept. After
        this, reversing a dropped source is a no-op."""
        _ledger_aware(cutoff)
        dropped = []
        zone = cutoff.tzinfo if not cutoff.fold else None
        for name, record in self.sources.items():
            at = record.at  # _ledger_not_after(cutoff, at), its same-zone case written out
            if cutoff <= at if at.tzinfo is zone and not at.fold else _ledger_not_after(cutoff, at):
                # Records are made as a customer's events come, in time order, so the
                # rest are newer: the look stops here instead of reading every record.
                # (One dated earlier than its place, a birthday bonus given late, goes
                # when those before it have.)
                break
            # Only a refunded source (fraction > 0) has clawbacks: the others are not
            # asked for their list, which would make one just to find it empty.
            if record.shortfall == 0 and (not record.fraction or not record.claws or all(draw.amount == 0 for draw in record.claws)):
                dropped.append(name)
        for name in dropped:
            del self.sources[name]
        return len(dropped)

    # ----- JSON -----

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (Decimals as strings, datetimes ISO 8601 with offset and
        zone); `Ledger.from_json(l.to_json()) == l`. Lots referenced only by source
        records (fully spent) are stored too, flagged by remaining == 0."""
        every: dict[int, Lot] = {lot.seq: lot for lot in self.lots}
        for record in self.sources.values():
            for lot in record.lots:
                every.setdefault(lot.seq, lot)
            for draw in record.burns + record.claws:
                if draw.lot is not None:
                    every.setdefault(draw.lot.seq, draw.lot)

        listed = {id(lot) for lot in self.lots}

        def draw_json(draw: LedgerDraw) -> list[Any]:
            return [None if draw.lot is None else draw.lot.seq, str(draw.amount)]

        return {
            "version": 1,
            "next_seq": self.next_seq,
            "debt": str(self.debt),
            "debts": [[name, index] for name, index in self.debts],
            "lots": [
                {
                    "seq": lot.seq,
                    "amount": str(lot.amount),
                    "remaining": str(lot.remaining),
                    "expired": str(lot.expired),
                    "earned_at": _ledger_dt_to_json(lot.earned_at),
                    "available_at": _ledger_dt_to_json(lot.available_at),
                    "expires_at": _ledger_opt_dt_to_json(lot.expires_at),
                    "source": lot.source,
                    "reason": lot.reason,
                    "listed": id(lot) in listed,
                }
                for lot in sorted(every.values(), key=lambda lot: lot.seq)
            ],
            "sources": {
                name: {
                    "at": _ledger_dt_to_json(record.at),
                    "lots": [lot.seq for lot in record.lots],
                    "burns": [draw_json(draw) for draw in record.burns],
                    "claws": [draw_json(draw) for draw in record.claws],
                    "earned": str(record.earned),
                    "burned": str(record.burned),
                    "fraction": str(record.fraction),
                    "taken": str(record.taken),
                    "given": str(record.given),
                    "shortfall": str(record.shortfall),
                    "expired_counted": str(record.expired_counted),
                }
                for name, record in self.sources.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ledger:
        """Rebuild a ledger written by `to_json`, sharing lot objects as before."""
        if data.get("version") != 1:
            raise ValueError(f"unsupported ledger version {data.get('version')!r}")
        every: dict[int, Lot] = {}
        listed: list[Lot] = []
        for item in data["lots"]:
            lot = Lot(
                amount=Decimal(item["amount"]),
                remaining=Decimal(item["remaining"]),
                earned_at=_ledger_dt_from_json(item["earned_at"]),
                available_at=_ledger_dt_from_json(item["available_at"]),
                expires_at=_ledger_opt_dt_from_json(item["expires_at"]),
                source=item["source"],
                reason=item["reason"],
                seq=int(item["seq"]),
                expired=Decimal(item["expired"]),
            )
            every[lot.seq] = lot
            if item["listed"]:
                listed.append(lot)

        def draw_from(pair: list[Any]) -> LedgerDraw:
            return LedgerDraw(None if pair[0] is None else every[int(pair[0])], Decimal(pair[1]))

        sources = {
            name: LedgerSource(
                at=_ledger_dt_from_json(item["at"]),
                earned=Decimal(item["earned"]),
                burned=Decimal(item["burned"]),
                fraction=Fraction(item["fraction"]),
                taken=Decimal(item["taken"]),
                given=Decimal(item["given"]),
                shortfall=Decimal(item["shortfall"]),
                expired_counted=Decimal(item["expired_counted"]),
            )
            for name, item in data["sources"].items()
        }
        for name, item in data["sources"].items():
            record = sources[name]
            record.lots = [every[int(seq)] for seq in item["lots"]]
            record.burns = [draw_from(pair) for pair in item["burns"]]
            record.claws = [draw_from(pair) for pair in item["claws"]]
        return cls(
            lots=listed,
            sources=sources,
            debt=Decimal(data["debt"]),
            debts=[(str(name), int(index)) for name, index in data["debts"]],
            next_seq=int(data["next_seq"]),
        )

    # ----- internals -----

    def _ledger_record(self, source: str, at: datetime) -> LedgerSource:
        """The record `burn` adds to: made with the lists a purchase that spends fills
        (its burns, and the lots it earns next)."""
        record = self.sources.get(source)
        if record is None:
            record = self.sources[source] = LedgerSource(at)
            record.burns, record.lots = [], []
        return record

    def _ledger_prune(self) -> None:
        """Drop emptied lots from `lots`; records still reach them if needed again."""
        self.lots = [lot for lot in self.lots if lot.remaining > 0]

    def _ledger_credit(self, lot: Lot, points: Decimal) -> None:
        """Put points into a live lot, paying any debt from them first (oldest first);
        a paid debt becomes a clawback on this lot so a later undo knows where to go."""
        while points > 0 and self.debts:
            name, index = self.debts[0]
            owed = self.sources[name].claws[index]
            pay = min(points, owed.amount)
            owed.amount -= pay
            self.debt -= pay
            self.sources[name].claws.append(LedgerDraw(lot, pay))
            points -= pay
            if owed.amount == 0:
                self.debts.pop(0)
        if points > 0:
            if not any(listed is lot for listed in self.lots):
                bisect.insort(self.lots, lot, key=lambda item: item.seq)
                self.expiry_floor = None  # rare (returns, debt): `expire` looks again
            lot.remaining += points

    def _ledger_give_back(
        self, lot: Lot, points: Decimal, as_of: datetime
    ) -> tuple[Decimal, Decimal, Decimal]:
        """Return spent points to `lot`, following refund chains; returns (restored,
        restored_expired, settled). An explicit stack, not recursion: chains can be long."""
        restored = lapsed = settled = _LEDGER_ZERO
        stack: list[tuple[Lot, Decimal]] = [(lot, points)]
        while stack:
            target, left = stack.pop()
            record = self.sources.get(target.source)
            if record is not None and record.fraction > 0:
                pay = min(left, record.shortfall)
                record.shortfall -= pay
                settled += pay
                left -= pay
                for index, draw in enumerate(record.claws):
                    if left == 0:
                        break
                    if draw.lot is None and draw.amount > 0:
                        undo = min(left, draw.amount)
                        draw.amount -= undo
                        self.debt -= undo
                        restored += undo
                        left -= undo
                        if draw.amount == 0:
                            self.debts.remove((target.source, index))
                for draw in reversed(record.claws):
                    if left == 0:
                        break
                    if draw.lot is not None and draw.amount > 0:
                        undo = min(left, draw.amount)
                        draw.amount -= undo
                        left -= undo
                        stack.append((draw.lot, undo))
            if left > 0:
                if _ledger_is_expired(target, as_of):
                    target.expired += left
                    lapsed += left
                else:
                    self._ledger_credit(target, left)
                    restored += left
        return restored, lapsed, settled

    def _ledger_reverse(
        self,
        source: str,
        upto: Fraction,
        as_of: datetime,
        floor: Decimal | None,
        quantum: Decimal,
    ) -> Reversal:
        """Move `source` to having `upto` of it refunded: give back, then take back."""
        record = self.sources[source]
        if floor is not None:
            floor = _ledger_points(floor, "floor")
        self.expire(as_of)
        if upto >= 1:
            give_target, take_target = record.burned, record.earned
        else:
            give_target = min(record.burned,
                              _ledger_round(upto * Fraction(record.burned), quantum, ROUND_FLOOR))
            take_target = min(record.earned,
                              _ledger_round(upto * Fraction(record.earned), quantum, ROUND_CEILING))
        record.fraction = upto

        # Give back first: points the purchase spent may be needed to cover the clawback.
        give = max(_LEDGER_ZERO, give_target - record.given)
        record.given += give
        restored = lapsed = settled = _LEDGER_ZERO
        left = give
        for draw in reversed(record.burns):
            if left == 0:
                break
            back = min(left, draw.amount)
            if back <= 0:
                continue
            draw.amount -= back
            left -= back
            r, e, s = self._ledger_give_back(draw.lot, back, as_of)  # type: ignore[arg-type]
            restored, lapsed, settled = restored + r, lapsed + e, settled + s

        # Then take back what it earned: remainder, then what expired, then clawback.
        need = max(_LEDGER_ZERO, take_target - record.taken)
        record.taken += need
        removed = _LEDGER_ZERO
        for lot in record.lots:
            if need == 0:
                break
            cut = min(need, lot.remaining)  # expired lots are already empty
            if cut > 0:
                lot.remaining -= cut
                removed += cut
                need -= cut
        expired_total = sum((lot.expired for lot in record.lots), _LEDGER_ZERO)
        already = min(need, max(_LEDGER_ZERO, expired_total - record.expired_counted))
        record.expired_counted += already
        need -= already

        clawed = into_debt = shortfall = _LEDGER_ZERO
        if need > 0:
            room: Decimal | None = None
            if floor is not None:
                room = max(_LEDGER_ZERO, self.total(as_of) - floor)
            live = [lot for lot in self.lots if lot.remaining > 0]
            order = _ledger_in_burn_order([lot for lot in live if _ledger_is_available(lot, as_of)]) + _ledger_in_burn_order(
                [lot for lot in live if not _ledger_is_available(lot, as_of)]
            )
            for lot in order:
                if need == 0 or room == 0:
                    break
                take = min(need, lot.remaining) if room is None else min(need, lot.remaining, room)
                lot.remaining -= take
                record.claws.append(LedgerDraw(lot, take))
                clawed += take
                need -= take
                if room is not None:
                    room -= take
            if need > 0 and (room is None or room > 0):
                owe = need if room is None else min(need, room)
                record.claws.append(LedgerDraw(None, owe))
                self.debts.append((source, len(record.claws) - 1))
                self.debt += owe
                into_debt = owe
                clawed += owe
                need -= owe
            shortfall = need
            record.shortfall += shortfall
        self._ledger_prune()
        return Reversal(
            restored=restored,
            restored_expired=lapsed,
            settled=settled,
            removed=removed,
            already_expired=already,
            clawed_back=clawed,
            into_debt=into_debt,
            shortfall=shortfall,
        )
