"""The points ledger: lots, expiry, FIFO burn, refunds (with chains), JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from loyaldsl.runtime.ledger import _LEDGER_NEVER, InsufficientPoints, Ledger, Lot, Reversal, _ledger_burn_key, _ledger_in_burn_order
from loyaldsl.runtime.periods import add_days, add_months, start_of_next_month

D = Decimal
MSK = ZoneInfo("Europe/Moscow")
NYC = ZoneInfo("America/New_York")


def day(d: int, h: int = 12) -> datetime:
    """A moment in January 2026 (Moscow) for short scenarios."""
    return datetime(2026, 1, d, h, tzinfo=MSK)


def remaining(ledger: Ledger) -> dict[int, Decimal]:
    return {lot.seq: lot.remaining for lot in ledger.lots}


def roundtrip(ledger: Ledger) -> Ledger:
    text = json.dumps(ledger.to_json(), sort_keys=True)
    again = Ledger.from_json(json.loads(text))
    assert again == ledger
    assert json.dumps(again.to_json(), sort_keys=True) == text
    return again


# ----- earning, pending, expiry -----


def test_earn_pending_then_available() -> None:
    ledger = Ledger()
    lot = ledger.earn(D(170), day(1), day(15), None, "p1", "bonus")
    assert (lot.amount, lot.remaining, lot.source, lot.reason) == (D(170), D(170), "p1", "bonus")
    assert ledger.available(day(14)) == 0 and ledger.pending(day(14)) == 170
    assert ledger.available(day(15)) == 170 and ledger.pending(day(15)) == 0
    with pytest.raises(InsufficientPoints):
        ledger.burn(D(1), day(14), "p2")


def test_earn_refuses_bad_amounts() -> None:
    ledger = Ledger()
    with pytest.raises(ValueError):
        ledger.earn(D(0), day(1), day(1), None, "p", "r")
    with pytest.raises(TypeError):
        ledger.earn(1.5, day(1), day(1), None, "p", "r")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ledger.earn(D(1), datetime(2026, 1, 1), day(1), None, "p", "r")


def test_earning_compares_expiry_as_instants_across_zones() -> None:
    """add_lot compares wall clocks only within one zone: an expiry in another zone is
    compared as an instant, for being born expired and for the soonest expiry."""
    ledger = Ledger()
    earned = day(10, 12)  # 09:00 UTC
    # 04:30 in New York is 09:30 UTC: after the earning, though its wall clock is earlier.
    later = datetime(2026, 1, 10, 4, 30, tzinfo=NYC)
    ledger.earn(D(5), earned, earned, later, "p1", "r")
    assert ledger.available(earned) == 5
    assert ledger.expiry_floor == later
    # 03:30 in New York is 08:30 UTC: before the earning, so the lot is born expired.
    born_expired = ledger.earn(D(7), earned, earned, datetime(2026, 1, 10, 3, 30, tzinfo=NYC), "p2", "r")
    assert born_expired.expired == 7 and born_expired not in ledger.lots
    # A Moscow expiry at 12:15 (09:15 UTC) comes before the New York one: it is the floor.
    ledger.earn(D(3), earned, earned, day(10, 12).replace(minute=15), "p3", "r")
    assert ledger.expiry_floor == day(10, 12).replace(minute=15)
    assert ledger.expire(datetime(2026, 1, 10, 9, 15, tzinfo=UTC)) == 3
    assert ledger.expire(datetime(2026, 1, 10, 9, 30, tzinfo=UTC)) == 5
    assert ledger.lots == []


def test_expiry_is_exclusive_and_drops_lots() -> None:
    ledger = Ledger()
    ledger.earn(D(100), day(1), day(1), day(10), "p1", "base")
    ledger.earn(D(30), day(2), day(2), day(10), "p2", "base")
    ledger.earn(D(50), day(3), day(3), None, "p3", "base")
    assert ledger.next_expiry(day(5)) == (day(10), D(130))
    assert ledger.available(day(10) - timedelta(microseconds=1)) == 180
    assert ledger.available(day(10)) == 50  # gone at the instant itself
    assert ledger.expire(day(10)) == 130
    assert ledger.expire(day(11)) == 0  # idempotent
    assert [lot.source for lot in ledger.lots] == ["p3"]
    assert ledger.next_expiry(day(11)) is None


def test_expiry_compares_instants_across_fold() -> None:
    # New York falls back on 2026-11-01: 01:30 EDT comes before 01:15 EST.
    ledger = Ledger()
    ends = datetime(2026, 11, 1, 1, 30, tzinfo=NYC, fold=0)
    ledger.earn(D(10), datetime(2026, 10, 1, tzinfo=NYC), datetime(2026, 10, 1, tzinfo=NYC),
                ends, "p", "r")
    later = datetime(2026, 11, 1, 1, 15, tzinfo=NYC, fold=1)
    assert ledger.available(later) == 0


def test_monthly_credit_burns_at_local_midnight() -> None:
    # MECHANICS 10: 5,000 in March at 15% -> 750 usable in April, burned on 1 May 00:00.
    ledger = Ledger()
    march = datetime(2026, 3, 31, 23, 0, tzinfo=MSK)
    april = start_of_next_month(march)
    ledger.earn(D(750), march, april, start_of_next_month(april), "march", "podruzhka")
    assert ledger.available(datetime(2026, 3, 31, 23, 59, tzinfo=MSK)) == 0
    assert ledger.available(april) == 750
    assert ledger.available(datetime(2026, 4, 30, 23, 59, 59, tzinfo=MSK)) == 750
    assert ledger.available(datetime(2026, 4, 30, 21, 0, tzinfo=UTC)) == 0


# ----- burning -----


def test_burn_order_soonest_expiry_first_never_last() -> None:
    ledger = Ledger()
    never = ledger.earn(D(10), day(1), day(1), None, "a", "r")
    late = ledger.earn(D(10), day(2), day(2), day(30), "b", "r")
    soon_b = ledger.earn(D(10), day(4), day(4), day(20), "c", "r")
    soon_a = ledger.earn(D(10), day(3), day(3), day(20), "d", "r")  # same expiry, earned earlier
    ledger.burn(D(15), day(5), "x")
    assert soon_a.remaining == 0 and soon_b.remaining == 5
    assert late.remaining == 10 and never.remaining == 10
    ledger.burn(D(20), day(5), "y")
    assert never.remaining == 5 and late.remaining == 0
    assert [lot.seq for lot in ledger.lots] == [never.seq]


def test_burn_skips_pending_and_refuses_too_much() -> None:
    ledger = Ledger()
    ledger.earn(D(40), day(1), day(1), None, "p1", "r")
    ledger.earn(D(60), day(2), day(20), None, "p2", "r")
    with pytest.raises(InsufficientPoints) as caught:
        ledger.burn(D(50), day(3), "p3")
    assert caught.value.available == 40 and caught.value.requested == 50
    assert isinstance(caught.value, ValueError)
    assert ledger.available(day(3)) == 40 and ledger.pending(day(3)) == 60
    assert ledger.burn(D(40), day(3), "p3") == 40
    assert ledger.available(day(3)) == 0


def test_bonus_redeemed_then_earned_again() -> None:
    # MECHANICS 8: 5% bonus on 9,000 credits 450; the next 9,000 redeems it and earns 450.
    ledger = Ledger()
    ledger.earn(D(450), day(1), day(1), None, "o1", "5% bonus")
    assert ledger.burn(D(450), day(2), "o2") == 450
    ledger.earn(D(450), day(2), day(2), None, "o2", "5% bonus")
    assert ledger.available(day(2)) == 450


# ----- refunds -----


def test_refund_gives_back_to_same_lots_with_their_expiry() -> None:
    ledger = Ledger()
    soon = ledger.earn(D(100), day(1), day(1), day(20), "p1", "r")
    later = ledger.earn(D(100), day(2), day(2), day(28), "p2", "r")
    before = remaining(ledger)
    ledger.burn(D(150), day(3), "p3")
    result = ledger.reverse("p3", day(4))
    assert result == Reversal(restored=D(150))
    assert remaining(ledger) == before
    assert ledger.next_expiry(day(4)) == (day(20), D(100))
    assert soon.expires_at == day(20) and later.remaining == 100


def test_refund_after_expiry_gives_back_expired_points() -> None:
    ledger = Ledger()
    ledger.earn(D(100), day(1), day(1), day(10), "p1", "r")
    ledger.earn(D(100), day(2), day(2), None, "p2", "r")
    ledger.burn(D(150), day(3), "p3")  # 100 from p1's lot, 50 from p2's
    result = ledger.reverse("p3", day(12))
    assert result.restored == 50 and result.restored_expired == 100
    assert ledger.available(day(12)) == 100


def test_refund_within_return_window_removes_pending_points() -> None:
    ledger = Ledger()
    ledger.earn(D(170), day(1), day(15), None, "p1", "r")
    result = ledger.reverse("p1", day(5))
    assert result == Reversal(removed=D(170))
    assert ledger.total(day(20)) == 0
    assert ledger.reverse("p1", day(6)) == Reversal()  # twice: no-op
    assert ledger.reverse("never-seen", day(6)) == Reversal()


def test_refund_claws_back_spent_points_down_to_zero() -> None:
    ledger = Ledger()
    ledger.earn(D(30), day(1), day(1), None, "p1", "r")
    ledger.earn(D(100), day(2), day(2), day(20), "p2", "r")
    ledger.burn(D(80), day(3), "p3")  # all from p2's lot (expires first)
    ledger.earn(D(20), day(4), day(30), None, "p4", "r")  # pending
    result = ledger.reverse("p2", day(5))
    # 20 unspent removed; 80 spent: 30 available + 20 pending clawed, 30 short.
    assert (result.removed, result.clawed_back, result.shortfall) == (D(20), D(50), D(30))
    assert result.into_debt == 0
    assert ledger.available(day(5)) == 0 and ledger.pending(day(5)) == 0


def test_refund_without_floor_goes_into_debt_then_earning_pays_it() -> None:
    ledger = Ledger()
    ledger.earn(D(100), day(1), day(1), None, "p1", "r")
    ledger.burn(D(100), day(2), "p2")
    result = ledger.reverse("p1", day(3), floor=None)
    assert result.clawed_back == 100 and result.into_debt == 100 and result.shortfall == 0
    assert ledger.debt == 100 and ledger.available(day(3)) == -100
    with pytest.raises(InsufficientPoints):
        ledger.burn(D(1), day(3), "p3")
    roundtrip(ledger)
    ledger.earn(D(60), day(4), day(10), None, "p4", "r")  # even pending points pay debt
    assert ledger.debt == 40 and ledger.available(day(4)) == -40 and ledger.pending(day(4)) == 0
    ledger.earn(D(50), day(5), day(5), None, "p5", "r")
    assert ledger.debt == 0 and ledger.available(day(5)) == 10
    # Refunding the spend now undoes the clawback: debt paid by p4 and p5 comes back.
    back = ledger.reverse("p2", day(11), floor=None)
    assert back.restored == 100
    assert ledger.available(day(11)) == 110


def test_negative_floor_limits_debt() -> None:
    ledger = Ledger()
    ledger.earn(D(100), day(1), day(1), None, "p1", "r")
    ledger.burn(D(100), day(2), "p2")
    result = ledger.reverse("p1", day(3), floor=D(-30))
    assert (result.into_debt, result.shortfall) == (D(30), D(70))
    assert ledger.available(day(3)) == -30


def test_refund_gives_back_before_taking_back() -> None:
    ledger = Ledger()
    ledger.earn(D(100), day(1), day(1), None, "p1", "r")
    ledger.burn(D(100), day(2), "p2")  # p2 redeems 100...
    ledger.earn(D(50), day(2), day(2), None, "p2", "r")  # ...and earns 50
    ledger.burn(D(50), day(3), "p3")  # which p3 spends
    result = ledger.reverse("p2", day(4))
    assert (result.restored, result.clawed_back, result.shortfall) == (D(100), D(50), D(0))
    assert ledger.available(day(4)) == 50  # = 100 - what p3 spent


def test_chain_refunds_settle_forgiven_shortfall() -> None:
    # Refunding p2 after its points were spent forgives 100; refunding the spender later
    # must not hand those 100 back.
    ledger = Ledger()
    ledger.earn(D(100), day(1), day(1), None, "p2", "r")
    ledger.burn(D(100), day(2), "p3")
    assert ledger.reverse("p2", day(3)).shortfall == 100
    result = ledger.reverse("p3", day(4))
    assert result.settled == 100 and result.restored == 0
    assert ledger.total(day(4)) == 0


def test_chain_refunds_return_clawback_to_its_lot() -> None:
    ledger = Ledger()
    keep = ledger.earn(D(100), day(1), day(1), None, "p1", "r")
    ledger.earn(D(100), day(2), day(2), day(20), "p2", "r")
    ledger.burn(D(100), day(3), "p3")  # from p2's lot
    assert ledger.reverse("p2", day(4)).clawed_back == 100  # from p1's lot
    assert keep.remaining == 0
    assert ledger.reverse("p3", day(5)).restored == 100
    assert keep.remaining == 100 and ledger.total(day(5)) == 100
    assert [lot.seq for lot in ledger.lots] == [keep.seq]


def test_partial_refunds_round_against_the_customer_and_add_up() -> None:
    ledger = Ledger()
    ledger.earn(D(1000), day(1), day(1), None, "p0", "r")
    ledger.burn(D(101), day(2), "p1")
    ledger.earn(D(105), day(2), day(2), None, "p1", "r")
    third = Fraction(1, 3)
    first = ledger.reverse_partial("p1", third, day(3))
    assert first.removed == 35 and first.restored == 33  # ceil(35) taken, floor(33.67) given
    second = ledger.reverse_partial("p1", third, day(3))
    assert second.removed == 35 and second.restored == 34  # cumulative: 70 and floor(67.33)
    last = ledger.reverse_partial("p1", third, day(3))
    assert last.removed == 35 and last.restored == 34  # exactly the whole at the end
    assert ledger.available(day(3)) == 1000
    assert ledger.reverse("p1", day(3)) == Reversal()
    with pytest.raises(ValueError):
        ledger.reverse_partial("p0", D("1.5"), day(3))


def test_partial_refund_quantum() -> None:
    ledger = Ledger()
    ledger.earn(D("10.05"), day(1), day(1), None, "p1", "r")
    result = ledger.reverse_partial("p1", D("0.5"), day(2), quantum=D("0.01"))
    assert result.removed == D("5.03")
    assert ledger.available(day(2)) == D("5.02")
    assert ledger.reverse("p1", day(2)).removed == D("5.02")


def test_refund_counts_expired_points_as_taken() -> None:
    ledger = Ledger()
    ledger.earn(D(100), day(1), day(1), day(10), "p1", "r")
    ledger.earn(D(100), day(2), day(2), None, "p2", "r")
    ledger.burn(D(40), day(3), "p3")  # from p1's lot; 60 of it then expire
    result = ledger.reverse("p1", day(12))
    assert (result.already_expired, result.clawed_back) == (D(60), D(40))
    assert ledger.available(day(12)) == 60


def test_forget_before_bounds_records() -> None:
    ledger = Ledger()
    for d in range(1, 11):
        ledger.earn(D(10), day(d), day(d), None, f"p{d}", "r")
        ledger.burn(D(10), day(d), f"s{d}")
    ledger.earn(D(50), day(11), day(11), None, "p11", "r")
    ledger.burn(D(50), day(12), "s12")
    assert ledger.reverse("p11", day(13)).shortfall == 50  # keeps p11's record
    assert ledger.forget_before(day(20)) == 21
    assert set(ledger.sources) == {"p11"}
    assert ledger.lots == []
    assert ledger.reverse("s3", day(21)) == Reversal()


def test_json_round_trip_keeps_zone_and_shared_lots() -> None:
    ledger = Ledger()
    ledger.earn(D("12.5"), day(1), day(1), day(20), "p1", "rule \"a\"")
    ledger.earn(D(100), datetime(2026, 1, 2, tzinfo=NYC), day(2), None, "p2", "r")
    ledger.earn(D(7), day(2), day(2), None, "p5", "r")
    ledger.burn(D(110), day(3), "p3")
    ledger.reverse("p2", day(4), floor=None)
    again = roundtrip(ledger)
    assert again.sources["p1"].lots[0].earned_at.tzinfo is MSK
    assert again.sources["p2"].lots[0].earned_at.tzinfo is NYC
    # Shared references survive: giving back p3's spend updates the listed lot.
    assert again.reverse("p3", day(5), floor=None) == ledger.reverse("p3", day(5), floor=None)
    assert again == ledger


def test_json_round_trip_of_times_in_dst_gap_and_fold() -> None:
    # aware + timedelta can produce 02:30 on the spring-forward day (a wall time that
    # never happens) or the second 01:30 of the fall-back day: both must come back as is.
    gap = datetime(2026, 3, 8, 2, 30, tzinfo=NYC)
    second = datetime(2026, 11, 1, 1, 30, tzinfo=NYC, fold=1)
    ledger = Ledger()
    ledger.earn(D(5), gap, second, datetime(2027, 1, 1, tzinfo=UTC), "p", "r")
    again = roundtrip(ledger)
    lot = again.lots[0]
    assert (lot.earned_at.hour, lot.earned_at.minute, lot.earned_at.fold) == (2, 30, 0)
    assert lot.available_at.fold == 1 and lot.available_at.tzinfo is NYC
    assert lot.expires_at is not None and lot.expires_at.tzinfo is UTC


# ----- properties -----

EARN = st.tuples(
    st.just("earn"),
    st.integers(1, 100),
    st.integers(0, 3),  # days pending
    st.one_of(st.none(), st.integers(1, 30)),  # days to expiry
)
BURN = st.tuples(st.just("burn"), st.integers(1, 100))
BUY = st.tuples(st.just("buy"), st.integers(0, 60), st.integers(1, 100))  # redeem, then earn
REFUND = st.tuples(st.just("refund"), st.integers(0, 10**6))
PARTIAL = st.tuples(st.just("partial"), st.integers(0, 10**6), st.integers(1, 3))
WAIT = st.tuples(st.just("wait"), st.integers(1, 72))
OPS = st.lists(st.one_of(EARN, BURN, BUY, REFUND, PARTIAL, WAIT), max_size=30)
FLOORS = st.sampled_from([D(0), None])


INACTIVE = st.tuples(st.just("inactive"), st.integers(0, 96))  # every lot expires by now + hours
OPS_WITH_INACTIVITY = st.lists(st.one_of(EARN, BURN, BUY, REFUND, PARTIAL, WAIT, INACTIVE), max_size=30)


def run(
    ops: list[tuple], floor: Decimal | None, expiring: bool = True, scan_always: bool = False  # type: ignore[type-arg]
) -> tuple[Ledger, datetime, list[str]]:
    """Replay ops, checking after each that the reported changes add up to the balance
    and that the floor holds. `scan_always` drops the ledger's expiry floor before
    every op, so `expire` looks at every lot each time."""
    ledger = Ledger()
    now = datetime(2026, 3, 1, 9, tzinfo=NYC)  # crosses the March DST change
    balance = D(0)
    sources: list[str] = []
    for index, op in enumerate(ops):
        if scan_always:
            ledger.expiry_floor = None
        balance -= ledger.expire(now)
        name = f"e{index}"
        kind = op[0]
        if kind == "earn":
            _, amount, wait, life = op
            expires = None if life is None or not expiring else add_days(now, life)
            ledger.earn(D(amount), now, add_days(now, wait), expires, name, "rule")
            balance += amount
            sources.append(name)
        elif kind in ("burn", "buy"):
            spend = min(D(op[1]), max(ledger.available(now), D(0)))
            if spend > 0:
                ledger.burn(spend, now, name)
                balance -= spend
            if kind == "buy":
                ledger.earn(D(op[2]), now, add_days(now, 1), None, name, "rule")
                balance += op[2]
            sources.append(name)
        elif kind in ("refund", "partial") and sources:
            source = sources[op[1] % len(sources)]
            if kind == "refund":
                result = ledger.reverse(source, now, floor)
            else:
                result = ledger.reverse_partial(source, Fraction(1, op[2] + 1), now, floor)
            balance += result.restored - result.removed - result.clawed_back
            assert result.into_debt <= result.clawed_back
            if floor is not None:
                assert result.into_debt == 0
        elif kind == "wait":
            now = now + timedelta(hours=op[1])
            balance -= ledger.expire(now)
        elif kind == "inactive":
            ledger.expire_by(now + timedelta(hours=op[1]))
            balance -= ledger.expire(now)
        assert ledger.total(now) == balance
        if floor is not None:
            assert ledger.debt == 0
            assert ledger.available(now) >= 0 and ledger.pending(now) >= 0
        else:
            assert ledger.debt >= 0
            if ledger.debt > 0:
                assert all(lot.remaining == 0 for lot in ledger.lots)
            assert ledger.debt == sum(
                (ledger.sources[s].claws[i].amount for s, i in ledger.debts), D(0)
            )
        assert all(lot.remaining > 0 for lot in ledger.lots)
        assert [lot.seq for lot in ledger.lots] == sorted(lot.seq for lot in ledger.lots)
    return ledger, now, sources


@settings(max_examples=100, deadline=None)
@given(ops=OPS, floor=FLOORS)
def test_random_histories_keep_the_books(ops: list[tuple], floor: Decimal | None) -> None:  # type: ignore[type-arg]
    ledger, _, _ = run(ops, floor)
    roundtrip(ledger)


@settings(max_examples=100, deadline=None)
@given(ops=OPS, floor=FLOORS, spend=st.integers(1, 200))
def test_burn_then_refund_restores_every_lot(ops: list[tuple], floor: Decimal | None, spend: int) -> None:  # type: ignore[type-arg]
    ledger, now, _ = run(ops, floor)
    ledger.expire(now)
    amount = min(D(spend), ledger.available(now))
    if amount <= 0:
        return
    before = (remaining(ledger), ledger.available(now), ledger.pending(now), ledger.debt)
    ledger.burn(amount, now, "spend")
    assert ledger.available(now) == before[1] - amount
    result = ledger.reverse("spend", now, floor)
    assert result == Reversal(restored=amount)
    assert (remaining(ledger), ledger.available(now), ledger.pending(now), ledger.debt) == before


@settings(max_examples=100, deadline=None)
@given(ops=OPS, floor=FLOORS, order=st.randoms(use_true_random=False))
def test_refunding_everything_returns_to_zero(ops: list[tuple], floor: Decimal | None, order) -> None:  # type: ignore[no-untyped-def, type-arg]
    ledger, now, sources = run(ops, floor, expiring=False)
    order.shuffle(sources)
    for source in sources:
        ledger.reverse(source, now, floor)
    assert ledger.total(now) == 0
    assert ledger.debt == 0
    assert ledger.lots == []
    roundtrip(ledger)


@settings(max_examples=50, deadline=None)
@given(ops=OPS, floor=FLOORS)
def test_json_round_trip_then_same_future(ops: list[tuple], floor: Decimal | None) -> None:  # type: ignore[type-arg]
    ledger, now, sources = run(ops, floor)
    copy = roundtrip(ledger)
    later = add_months(now, 2)
    for source in sources:
        assert copy.reverse(source, later, floor) == ledger.reverse(source, later, floor)
    assert copy == ledger
    assert copy.total(later) == ledger.total(later)


@settings(max_examples=100, deadline=None)
@given(ops=OPS_WITH_INACTIVITY, floor=FLOORS, hours=st.integers(0, 24 * 40))
def test_expiry_floor_gives_what_looking_at_every_lot_gives(ops: list[tuple], floor: Decimal | None, hours: int) -> None:  # type: ignore[type-arg]
    """`expire` skips its scan before the soonest expiry it knows of: lots earned with
    earlier expiries than those before them, points given back to lots, and expiry
    brought forward by inactivity must all lower what it knows."""
    kept, now, _ = run(ops, floor)
    scanned, _, _ = run(ops, floor, scan_always=True)
    assert kept == scanned
    later = now + timedelta(hours=hours)
    scanned.expiry_floor = None
    assert kept.expire(later) == scanned.expire(later)
    assert kept == scanned and kept.available(later) == scanned.available(later)


def test_points_given_back_to_a_lot_expiring_sooner_still_expire() -> None:
    ledger = Ledger()
    ledger.earn(D(10), day(1), day(1), day(3), "p0", "r")
    ledger.earn(D(10), day(1), day(1), day(8), "p1", "r")
    ledger.earn(D(10), day(1), day(1), day(20), "p2", "r")
    ledger.burn(D(20), day(2), "s1")  # p0's and p1's lots, the sooner to expire: they leave `lots`
    assert ledger.expire(day(4)) == 0  # the soonest expiry left is now p2's, day 20
    assert ledger.reverse("s1", day(4)) == Reversal(restored=D(10), restored_expired=D(10))  # to p1, and to p0, expired
    assert ledger.expire(day(8)) == 10  # p1's, given back


def test_expiry_floor_is_not_saved() -> None:
    ledger = Ledger()
    ledger.earn(D(10), day(1), day(1), day(5), "p1", "r")
    assert ledger.expire(day(2)) == 0 and ledger.expiry_floor == day(5)
    copy = roundtrip(ledger)
    assert copy.expiry_floor is None and copy.expire(day(5)) == 10


# Times around New York's November 2026 repeated hour (01:00-02:00 twice), some in its
# second pass, and the same wall times in Moscow and UTC.
TIMES = st.builds(
    lambda zone, hour, minute, fold: datetime(2026, 11, 1, hour, minute, tzinfo=zone, fold=fold),
    st.sampled_from([NYC, NYC, NYC, MSK, UTC]),
    st.integers(0, 3),
    st.sampled_from([0, 30]),
    st.integers(0, 1),
)
LOTS = st.lists(st.tuples(TIMES, st.one_of(st.none(), TIMES)), max_size=8)


@settings(max_examples=200, deadline=None)
@given(times=LOTS)
def test_burn_order_by_wall_clock_is_burn_order_by_instant(times: list[tuple[datetime, datetime | None]]) -> None:
    """The burn order compares wall clocks when it can; it must be the instants' order."""
    lots = [Lot(D(1), D(1), earned, earned, ends, f"p{seq}", "r", seq) for seq, (earned, ends) in enumerate(times)]
    assert _ledger_in_burn_order(lots) == sorted(lots, key=_ledger_burn_key)


def instant(t: datetime) -> datetime:
    return t.astimezone(UTC)


@settings(max_examples=200, deadline=None)
@given(times=LOTS, as_of=TIMES)
@example(  # 01:30 EDT is before 01:00 EST (the second pass), though its wall clock is later
    times=[(datetime(2026, 11, 1, 1, 30, tzinfo=NYC), datetime(2026, 11, 1, 1, 30, tzinfo=NYC))],
    as_of=datetime(2026, 11, 1, 1, 0, tzinfo=NYC, fold=1),
)
@example(
    times=[(datetime(2026, 11, 1, 1, 30, tzinfo=NYC), None), (datetime(2026, 11, 1, 1, 0, tzinfo=NYC, fold=1), None)],
    as_of=datetime(2026, 11, 1, 1, 15, tzinfo=NYC, fold=1),
)
def test_expiry_and_spending_by_wall_clock_are_by_instant(times: list[tuple[datetime, datetime | None]], as_of: datetime) -> None:
    """`expire`, `burn` and `forget_before` compare wall clocks when both times are in
    one zone and neither is in a repeated hour's second pass: what they expire, find
    spendable and keep must be what the instants say."""
    ledger = Ledger()
    ledger.lots = [Lot(D(1), D(1), earned, earned, ends, f"p{seq}", "r", seq) for seq, (earned, ends) in enumerate(times)]
    expiring = [ends is not None and instant(ends) <= instant(as_of) for _, ends in times]
    assert ledger.expire(as_of) == sum(expiring)
    left = [ends for (_, ends), gone in zip(times, expiring, strict=True) if not gone and ends is not None]
    floor = ledger.expiry_floor
    assert floor is _LEDGER_NEVER if not left else floor is not _LEDGER_NEVER and floor is not None and instant(floor) == min(map(instant, left))
    spendable = sum(1 for (earned, _), gone in zip(times, expiring, strict=True) if not gone and instant(earned) <= instant(as_of))
    with pytest.raises(InsufficientPoints) as refused:
        ledger.burn(D(spendable + 1), as_of, "spend")
    assert refused.value.available == spendable
    sources = Ledger()
    for seq, (earned, _) in enumerate(sorted(times, key=lambda pair: instant(pair[0]))):
        sources.earn(D(1), earned, earned, None, f"p{seq}", "r")
    sources.forget_before(as_of)
    assert [instant(record.at) for record in sources.sources.values()] == sorted(instant(earned) for earned, _ in times if instant(earned) >= instant(as_of))


def test_forget_before_reads_records_in_time_order_and_stops_at_the_first_newer() -> None:
    ledger = Ledger()
    ledger.earn(D(10), day(1), day(1), None, "p1", "r")
    ledger.earn(D(10), day(15), day(15), None, "p15", "r")
    ledger.earn(D(10), day(3), day(3), None, "late", "a bonus dated before its place")
    assert ledger.forget_before(day(10)) == 1  # p1; `late` waits behind p15
    assert list(ledger.sources) == ["p15", "late"]
    assert ledger.forget_before(day(20)) == 2
    assert ledger.available(day(20)) == 30  # forgetting records never touches points


def test_naive_times_are_refused() -> None:
    ledger = Ledger()
    with pytest.raises(ValueError, match="no time zone"):
        ledger.earn(D(10), datetime(2026, 1, 1), day(1), None, "p1", "r")
    with pytest.raises(ValueError, match="no time zone"):
        ledger.forget_before(datetime(2026, 1, 1))
