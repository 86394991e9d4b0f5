"""Money without floats: quantization with an explicit rounding rule, ISO 4217 codes, line arithmetic.

Every amount in the product is a ``Decimal``. Rounding always names its mode: the ledger's rule is
ROUND_HALF_UP to the currency's minor unit (2 places here), applied per line, then summed. Connectors that
round differently check the snapshot against their own rule before a push.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MAX_INPUT_PLACES = 4
ROUNDING = ROUND_HALF_UP

# Active ISO 4217 alphabetic codes (fund and precious-metal codes excluded).
ISO_4217 = frozenset([
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC",
    "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
    "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD",
    "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL",
    "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD",
    "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD",
    "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP",
    "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VES",
    "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG"
])


class MoneyError(ValueError):
    """Raised when a value cannot be used as money: a float, too many decimal places, or not a number."""


def to_decimal(value: object) -> Decimal:
    """Convert ``value`` to Decimal, refusing floats so binary rounding never reaches the books."""
    if type(value) is Decimal:  # the common case, millions of times in a reconciliation: no further checks
        return value
    if isinstance(value, float):
        raise MoneyError(f"float {value!r} used as money; pass a Decimal or a string")
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise MoneyError(f"{value!r} is not a number") from exc


def places(value: Decimal) -> int:
    """Number of decimal places written in ``value`` (``Decimal('1.50')`` has 2)."""
    exponent = value.normalize().as_tuple().exponent if value else 0
    return max(0, -int(exponent))


def quantize(value: Decimal, exp: Decimal = CENT, rounding: str = ROUNDING) -> Decimal:
    """Round to ``exp`` with an explicit rounding mode (half-up unless told otherwise)."""
    return to_decimal(value).quantize(exp, rounding=rounding)


def is_currency_code(code: str) -> bool:
    return code in ISO_4217


def line_net(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """Net amount of a line: quantity x unit price, rounded half-up to the cent."""
    return quantize(to_decimal(quantity) * to_decimal(unit_price))


def line_tax(net: Decimal, rate_percent: Decimal | None) -> Decimal:
    """Tax of one line at ``rate_percent``, rounded half-up to the cent (tax is rounded per line)."""
    if not rate_percent:
        return Decimal("0.00")
    return quantize(to_decimal(net) * to_decimal(rate_percent) / Decimal(100))
