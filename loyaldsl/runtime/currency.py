"""Money: ISO 4217 minor units, the program's rounding words, and display.

Stdlib only (copied into generated modules). Money is always `decimal.Decimal`;
a float here is a bug, so it is refused rather than converted.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)

# ISO 4217 table A.1 (currencies and funds), alphabetic code -> minor unit, as
# published (so IRR is 2 and ISK is 0, whatever everyday practice is). Codes whose
# minor unit ISO gives as "N.A." (precious metals XAU/XAG/XPD/XPT, bond-market and
# SDR units XBA-XBD/XDR/XSU/XUA, and the XTS/XXX placeholders) are left out: nothing
# can be priced or rounded in them. Recently withdrawn codes that still appear in
# shops' data during a changeover (ANG -> XCG, ZWL -> ZWG, BGN -> EUR, CUC) are kept
# so old event files still load; the checker may warn about them.
MINOR_UNITS: dict[str, int] = {
    "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2,
    "AWG": 2, "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0,
    "BMD": 2, "BND": 2, "BOB": 2, "BOV": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2,
    "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHE": 2, "CHF": 2, "CHW": 2, "CLF": 4,
    "CLP": 0, "CNY": 2, "COP": 2, "COU": 2, "CRC": 2, "CUC": 2, "CUP": 2, "CVE": 2,
    "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2, "ETB": 2,
    "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2,
    "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2,
    "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0,
    "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2,
    "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3, "MAD": 2,
    "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2,
    "MVR": 2, "MWK": 2, "MXN": 2, "MXV": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2,
    "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2,
    "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2,
    "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2,
    "SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2,
    "THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2,
    "TZS": 2, "UAH": 2, "UGX": 0, "USD": 2, "USN": 2, "UYI": 0, "UYU": 2, "UYW": 4,
    "UZS": 2, "VED": 2, "VES": 2, "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2,
    "XCG": 2, "XOF": 0, "XPF": 0, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2, "ZWL": 2,
}

# The words a program uses for rounding, mapped to decimal's modes. "down"/"up" are
# toward/away from zero; "floor"/"ceiling" toward -inf/+inf (they differ on refunds).
ROUNDING_MODES: dict[str, str] = {
    "half-even": ROUND_HALF_EVEN,
    "half-up": ROUND_HALF_UP,
    "half-down": ROUND_HALF_DOWN,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
    "floor": ROUND_FLOOR,
    "ceiling": ROUND_CEILING,
}


def minor_unit(code: str) -> int:
    """Digits after the point for `code`; KeyError names the code so a typo is obvious."""
    try:
        return MINOR_UNITS[code]
    except KeyError:
        raise KeyError(
            f"unknown currency {code!r}: not an active ISO 4217 code with a minor unit"
        ) from None


def _currency_mode(rounding: str) -> str:
    """Map a rounding word to decimal's constant, listing the valid words on error."""
    try:
        return ROUNDING_MODES[rounding]
    except KeyError:
        words = ", ".join(ROUNDING_MODES)
        raise ValueError(f"unknown rounding {rounding!r}: use one of {words}") from None


def _currency_check(amount: Decimal) -> None:
    """Refuse floats and non-finite values: they are how rounding residues get in."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be a Decimal, got {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError(f"money must be finite, got {amount}")


def round_money(amount: Decimal, code: str, rounding: str = "half-even") -> Decimal:
    """Quantize to the currency's minor unit (RUB 148.5 -> 148.50, JPY -> exponent 0).

    Negative zero comes back as plain zero so output never shows "-0.00".
    """
    _currency_check(amount)
    quantum = Decimal(1).scaleb(-minor_unit(code))
    result = amount.quantize(quantum, rounding=_currency_mode(rounding))
    if result.is_zero():
        result = result.copy_abs()
    return result


def money_rounder(code: str, rounding: str = "half-even") -> Callable[[Decimal], Decimal]:
    """round_money with the currency and mode looked up once: the engine rounds many
    times per purchase."""
    quantum = Decimal(1).scaleb(-minor_unit(code))
    mode = _currency_mode(rounding)

    def rounder(amount: Decimal) -> Decimal:
        # Positional rounding and truth testing: half the cost of keywords and is_zero().
        result = amount.quantize(quantum, mode)
        return result if result else result.copy_abs()

    return rounder


_CURRENCY_DISPLAY: dict[str, tuple[Callable[[Decimal], Decimal], str]] = {}


def format_money(amount: Decimal, code: str) -> str:
    """Display form "19,800.00 RUB": rounded half-even, comma grouping, code after. The
    rounder and the format are made once per currency: a scale's note is written on
    every purchase it sees."""
    known = _CURRENCY_DISPLAY.get(code)
    if known is None:
        known = _CURRENCY_DISPLAY[code] = (money_rounder(code), f",.{minor_unit(code)}f")
    _currency_check(amount)
    rounder, shape = known
    return f"{rounder(amount):{shape}} {code}"
