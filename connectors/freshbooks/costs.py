"""Expenses as FreshBooks' accounting API models them (field names from FreshBooks' expenses page and the vendored
OpenAPI document: ``Expense``, ``ExpenseCategory``). Pure: no I/O.

- **Expense** paid by the business: ``POST expenses/expenses`` with ``categoryid`` (an expense category: FreshBooks
  posts an expense to its category's account), ``staffid`` (required), ``date``, ``amount`` (the expense's total,
  tax included: "Total amount of the expense"), ``taxName1`` / ``taxPercent1`` with ``taxAmount1`` (the tax amount
  itself: the spec says the percentage "does not add tax to the expense, instead use taxAmount1"), ``vendor`` (our
  payee) and ``notes`` (our number first, then what was bought: FreshBooks expenses have no reference field).
  An expense has one category and up to two taxes: lines that share category and tax are sent as one expense; an
  expense whose lines differ in either is refused before sending. Edited with ``PUT``, deleted with ``vis_state``
  1; FreshBooks voids no expense.
- **Accounts**: the expense accounts staff map to are FreshBooks' expense categories (``GET expenses/categories``),
  offered as accounts ``categories/<categoryid>``. The account an expense is paid from is not sent: FreshBooks
  links an expense to a bank account only through its bank import (``bank_name``, ``transactionid``).
- Refunds and journals are not sent (FreshBooks' public API records no refund of a credit, and its journal entries
  are create-only): see docs/connectors/freshbooks.md.
"""
from __future__ import annotations

from decimal import Decimal

from ledger.money import quantize
from ..documents import ExpenseSnapshot, Mapping
from ..rest import clean, iso_date
from .translate import NUMBER_SEPARATOR, amount

CATEGORY_PREFIX = "categories/"
NOTES_MAX = 5000  # as the documents' notes (a guess: FreshBooks documents no length for an expense's notes)
#: The staff member an expense is recorded for: the business owner is staff 1 in FreshBooks' examples (a guess).
OWNER_STAFF_ID = 1


def category_account(category_id) -> str:
    """The account id under which an expense category is offered in reference data."""
    return f"{CATEGORY_PREFIX}{category_id}"


def category_of(account_id: str | None) -> str | None:
    """The category id of an account id from reference data, None when the account is not a category."""
    text = str(account_id or "")
    return text[len(CATEGORY_PREFIX):] if text.startswith(CATEGORY_PREFIX) else None


def described(number: str, rest: str = "") -> str:
    return (f"{number}{NUMBER_SEPARATOR}{rest}" if rest else number)[:NOTES_MAX]


def groups(doc: ExpenseSnapshot, mapping: Mapping) -> list[tuple[str | None, str | None]]:
    """The (expense account, tax code) pairs of an expense's lines, in order, each once."""
    pairs = []
    for i, line in enumerate(doc.lines):
        code = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        pair = (mapping.line_accounts[i] if i < len(mapping.line_accounts) else None, code)
        if pair not in pairs:
            pairs.append(pair)
    return pairs


def expense_problems(doc: ExpenseSnapshot, mapping: Mapping) -> list[str]:
    pairs = groups(doc, mapping)
    if len(pairs) > 1:
        return ["a FreshBooks expense has one category and one tax: this expense's lines post to several; send one "
                "expense per category and tax, or record it in FreshBooks by hand"]
    account = pairs[0][0] if pairs else None
    if category_of(account) is None:
        return [f"FreshBooks posts an expense to an expense category: map the expense account to one of FreshBooks' "
                f"expense categories (it is mapped to {account or 'nothing'})"]
    return []


def expense_payload(doc: ExpenseSnapshot, mapping: Mapping, taxes: dict[str, tuple[str, Decimal]]) -> dict:
    """``taxes``: remote tax id -> (name, percentage), as for invoice lines."""
    [(account, code)] = groups(doc, mapping)
    tax = quantize(sum((line.tax_amount for line in doc.lines), Decimal("0")))
    name, percent = taxes.get(str(code), ("", None)) if code else ("", None)
    what = "; ".join(line.description or line.cost_kind.replace("_", " ") for line in doc.lines)
    if not (name and percent is not None and tax):  # sent all the same: an update clears a tax it no longer has
        name, percent, tax = "", Decimal("0"), Decimal("0")
    taxed = {"taxName1": name, "taxPercent1": format(percent.normalize(), "f"), "taxAmount1": amount(tax, doc.currency)}
    return {**clean({"categoryid": int(category_of(account)), "staffid": OWNER_STAFF_ID, "date": iso_date(doc.date),
                     "amount": amount(doc.total, doc.currency), "vendor": doc.payee[:255],
                     "notes": described(doc.number, f"{what}{NUMBER_SEPARATOR}{doc.memo}" if doc.memo else what)}),
            **taxed}
