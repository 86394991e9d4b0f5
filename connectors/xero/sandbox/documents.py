"""Line and total arithmetic of Xero invoices and credit notes (pure functions, ``Decimal`` only).

Xero's rules, as documented for LineItems and Line Amount Types:

* ``LineAmount = Quantity x UnitAmount`` less the discount (``DiscountRate`` %, or ``DiscountAmount``), rounded
  to cents. Give two of Quantity / UnitAmount / LineAmount and Xero works out the third.
* ``UnitAmount`` keeps 2 decimals, or 4 with ``unitdp=4``; ``Quantity`` keeps 4.
* Tax is worked out **per line and rounded to cents, then summed** (so an invoice can differ by a cent from
  "rate x subtotal"). ``Exclusive``: ``tax = LineAmount x rate``; ``Inclusive``: the line amount already holds
  the tax, ``tax = LineAmount x rate / (1 + rate)``; ``NoTax``: none. A ``TaxAmount`` sent on the line
  overrides the computed one.
* ``SubTotal`` excludes tax (inclusive lines give ``sum(LineAmount) - TotalTax``); ``Total = SubTotal +
  TotalTax``.

Rounding is half-up (away from zero), Xero's behaviour for line amounts and tax.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .wire import ElementError, q, to_decimal

ZERO = Decimal("0")
HUNDRED = Decimal("100")


@dataclass
class Totals:
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal
    total_discount: Decimal


def _number(line: dict, field: str) -> Decimal | None:
    if field not in line:
        return None
    value = to_decimal(line[field])
    if value is None:
        raise ElementError(f"{field} must be a number")
    return value


def line_amounts(line: dict, unitdp: int) -> dict:
    """Quantity, UnitAmount, LineAmount and discount of one line (the line dict as sent, defaults applied).

    Returns the numeric fields to store. A description-only line has a zero LineAmount and no quantity/price.
    """
    qty, unit, amount = _number(line, "Quantity"), _number(line, "UnitAmount"), _number(line, "LineAmount")
    rate, discount_amount = _number(line, "DiscountRate"), _number(line, "DiscountAmount")
    if rate is not None and discount_amount is not None:
        raise ElementError("Only one of DiscountRate or DiscountAmount can be specified for a line item")
    if qty is None and unit is None and amount is None:
        return {"LineAmount": Decimal("0.00")}
    if qty is None:
        qty = (amount / unit) if (unit not in (None, ZERO) and amount is not None) else Decimal(1)
    qty = q(qty, 4)
    explicit_unit = unit is not None
    if unit is None:
        unit = ZERO if amount is None or qty == ZERO else amount / qty
    unit = q(unit, unitdp)
    gross = qty * unit
    discount = ZERO
    if rate is not None:
        if not ZERO <= rate <= HUNDRED:
            raise ElementError("DiscountRate must be between 0 and 100")
        discount = gross * rate / HUNDRED
    elif discount_amount is not None:
        discount = discount_amount
    computed = q(gross - discount)
    if amount is not None and explicit_unit and "Quantity" in line and abs(q(amount) - computed) > Decimal("0.01"):
        raise ElementError(f"The line amount {q(amount)} does not equal Quantity x UnitAmount less discount "
                           f"({computed})")
    result = {"Quantity": qty, "UnitAmount": unit, "LineAmount": q(amount) if amount is not None else computed}
    if rate is not None:
        result["DiscountRate"] = q(rate, 2)
    if discount_amount is not None:
        result["DiscountAmount"] = q(discount_amount)
    result["_discount"] = q(discount)
    return result


def line_tax(line_amount: Decimal, rate_percent: Decimal, line_amount_types: str,
             override: Decimal | None = None) -> Decimal:
    """The tax of one line, rounded to cents (``override`` is a client-supplied TaxAmount)."""
    if line_amount_types == "NoTax":
        return Decimal("0.00")
    if override is not None:
        return q(override)
    rate = rate_percent / HUNDRED
    if line_amount_types == "Inclusive":
        return q(line_amount * rate / (1 + rate))
    return q(line_amount * rate)


def totals(lines: list[dict], line_amount_types: str) -> Totals:
    amounts = sum((line["LineAmount"] for line in lines), Decimal("0.00"))
    tax = sum((line.get("TaxAmount", ZERO) for line in lines), Decimal("0.00"))
    discount = sum((line.get("_discount", ZERO) for line in lines), Decimal("0.00"))
    if line_amount_types == "Inclusive":
        return Totals(q(amounts - tax), q(tax), q(amounts), q(discount))
    return Totals(q(amounts), q(tax), q(amounts + tax), q(discount))
