"""Document totals, computed in exactly one place.

Rule: each line's net is quantity x unit price rounded half-up to the cent; each line's tax is its net x rate
rounded half-up to the cent; discount lines subtract their net and their tax, and so do the lines a credit note
keeps back for the business (a restocking fee, return shipping charged to the customer: ``KEPT``). Totals are the
sums. Both the
ledger models and the document snapshots use this function, so the numbers a connector sends are the numbers
staff see.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from .money import line_net, line_tax

ZERO = Decimal("0.00")
DISCOUNT = "discount"
#: Credit-note line kinds the business keeps: income to it, netted from what the customer is credited.
KEPT = frozenset({"restocking_fee", "return_shipping"})


class LineLike(Protocol):
    kind: str
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal  # positive lines before discounts
    discount: Decimal  # sum of discount lines (positive number)
    tax: Decimal
    total: Decimal
    kept: Decimal = ZERO  # sum of kept lines (restocking fees, return shipping), a positive number


def compute_totals(lines: Iterable[tuple[str, Decimal, Decimal, Decimal | None]]) -> Totals:
    """Totals of ``(kind, quantity, unit_price, tax_rate_percent)`` rows under the ledger's rounding rule."""
    return sum_lines((kind, net, line_tax(net, rate))
                     for kind, net, rate in ((kind, line_net(quantity, unit_price), rate)
                                             for kind, quantity, unit_price, rate in lines))


def sum_lines(lines: Iterable[tuple[str, Decimal, Decimal]]) -> Totals:
    """Totals of ``(kind, net, tax)`` rows whose net and tax were already rounded by the rule (``line_net``,
    ``line_tax``): what ``compute_totals`` does after rounding each line, for callers that hold the rounded
    amounts already (a snapshot's lines) and would otherwise round every line twice."""
    subtotal = discount = kept = tax = ZERO
    for kind, net, line_tax_amount in lines:
        if kind == DISCOUNT:
            discount += net
            tax -= line_tax_amount
        elif kind in KEPT:
            kept += net
            tax -= line_tax_amount
        else:
            subtotal += net
            tax += line_tax_amount
    return Totals(subtotal=subtotal, discount=discount, tax=tax, total=subtotal - discount - kept + tax, kept=kept)


def subtracts(kind: str) -> bool:
    """True for line kinds whose net and tax are taken off a document's total (discounts, kept lines)."""
    return kind == DISCOUNT or kind in KEPT
