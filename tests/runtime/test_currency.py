"""Money rounding and display: the ISO 4217 table, rounding words, formatting."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaldsl.runtime.currency import (
    MINOR_UNITS,
    ROUNDING_MODES,
    format_money,
    minor_unit,
    round_money,
)


def test_table_covers_active_codes_with_iso_values() -> None:
    assert len(MINOR_UNITS) >= 160
    assert all(len(code) == 3 and code.isupper() for code in MINOR_UNITS)
    assert set(MINOR_UNITS.values()) <= {0, 2, 3, 4}
    expected = {
        "RUB": 2, "USD": 2, "EUR": 2, "GBP": 2, "IRR": 2, "JPY": 0, "KWD": 3,
        "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3, "CLF": 4,
        "UYW": 4, "KRW": 0, "VND": 0, "ISK": 0, "XOF": 0, "XAF": 0, "PYG": 0,
        "INR": 2, "SAR": 2, "AED": 2, "CLP": 0, "UGX": 0, "XPF": 0, "CHF": 2,
    }
    for code, digits in expected.items():
        assert minor_unit(code) == digits, code


def test_units_without_a_minor_unit_are_absent() -> None:
    for code in ("XAU", "XAG", "XPT", "XPD", "XDR", "XXX", "XTS", "XBA", "XSU", "XUA"):
        assert code not in MINOR_UNITS


def test_unknown_code_names_itself() -> None:
    with pytest.raises(KeyError, match="RUR"):
        minor_unit("RUR")
    with pytest.raises(KeyError):
        round_money(Decimal(1), "rub")


def test_rounding_words() -> None:
    assert ROUNDING_MODES == {
        "half-even": decimal.ROUND_HALF_EVEN,
        "half-up": decimal.ROUND_HALF_UP,
        "half-down": decimal.ROUND_HALF_DOWN,
        "down": decimal.ROUND_DOWN,
        "up": decimal.ROUND_UP,
        "floor": decimal.ROUND_FLOOR,
        "ceiling": decimal.ROUND_CEILING,
    }


def test_round_money_quantizes_to_minor_unit() -> None:
    result = round_money(Decimal("148.5"), "RUB")
    assert result == Decimal("148.50") and str(result) == "148.50"
    yen = round_money(Decimal("148.5"), "JPY")
    assert str(yen) == "148" and yen.as_tuple().exponent == 0
    assert str(round_money(Decimal("149.5"), "JPY")) == "150"  # half-even
    assert str(round_money(Decimal("1.2345"), "KWD")) == "1.234"
    assert str(round_money(Decimal("1.23456"), "CLF")) == "1.2346"
    assert str(round_money(Decimal("19800"), "RUB")) == "19800.00"


@pytest.mark.parametrize(
    ("word", "positive", "negative"),
    [
        ("half-even", "0.12", "-0.12"),
        ("half-up", "0.13", "-0.13"),
        ("half-down", "0.12", "-0.12"),
        ("down", "0.12", "-0.12"),
        ("up", "0.13", "-0.13"),
        ("floor", "0.12", "-0.13"),
        ("ceiling", "0.13", "-0.12"),
    ],
)
def test_each_rounding_word(word: str, positive: str, negative: str) -> None:
    assert str(round_money(Decimal("0.125"), "USD", word)) == positive
    assert str(round_money(Decimal("-0.125"), "USD", word)) == negative


def test_round_money_refuses_floats_and_bad_words() -> None:
    with pytest.raises(TypeError):
        round_money(0.1, "USD")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="half-even"):
        round_money(Decimal(1), "USD", "banker")
    with pytest.raises(ValueError):
        round_money(Decimal("NaN"), "USD")


def test_no_negative_zero() -> None:
    assert str(round_money(Decimal("-0.001"), "USD")) == "0.00"
    assert format_money(Decimal("-0.004"), "RUB") == "0.00 RUB"


def test_format_money() -> None:
    assert format_money(Decimal("19800"), "RUB") == "19,800.00 RUB"
    assert format_money(Decimal("148.5"), "RUB") == "148.50 RUB"
    assert format_money(Decimal("1000"), "JPY") == "1,000 JPY"
    assert format_money(Decimal("1234567.8915"), "KWD") == "1,234,567.892 KWD"
    assert format_money(Decimal("-2400"), "GBP") == "-2,400.00 GBP"
    assert format_money(Decimal("999.999"), "USD") == "1,000.00 USD"
    assert format_money(Decimal("19800"), "RUB") == "19,800.00 RUB"  # again: the currency's format is remembered


def test_format_money_refuses_what_round_money_refuses() -> None:
    format_money(Decimal(1), "RUB")  # RUB's format is now remembered: the checks must still run
    with pytest.raises(TypeError, match="must be a Decimal"):
        format_money(1.5, "RUB")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        format_money(Decimal("NaN"), "RUB")
    with pytest.raises(KeyError, match="unknown currency 'XYZ'"):
        format_money(Decimal(1), "XYZ")


@settings(max_examples=100, deadline=None)
@given(
    amount=st.decimals(min_value=-10**9, max_value=10**9, allow_nan=False, places=6),
    code=st.sampled_from(["RUB", "JPY", "KWD", "CLF", "IRR", "USD"]),
    word=st.sampled_from(sorted(ROUNDING_MODES)),
)
def test_round_money_properties(amount: Decimal, code: str, word: str) -> None:
    digits = minor_unit(code)
    result = round_money(amount, code, word)
    assert result.as_tuple().exponent == -digits
    step = Decimal(1).scaleb(-digits)
    assert abs(result - amount) < step
    if word.startswith("half"):
        assert abs(result - amount) <= step / 2
    assert round_money(result, code, word) == result  # idempotent
    text = format_money(amount, code)
    assert text.endswith(" " + code)
