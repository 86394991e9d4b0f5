"""Refunds, expenses and manual journals as Zoho Books models them (Zoho Books API v3 field names). Pure: no I/O.

- **Refund** of a credit note: ``POST /creditnotes/{creditnote_id}/refunds`` with ``amount``, ``date``,
  ``refund_mode``, ``reference_number`` (our number), ``from_account_id`` (the mapped refund account, cash, bank
  or credit card) and ``description``. Zoho lowers the credit note's balance by it. It is edited in place
  (``PUT .../refunds/{creditnote_refund_id}``) and, voided here, deleted there (Zoho has no void for a refund).
  Zoho addresses a refund under its credit note, so our remote id is ``<creditnote_id>:<creditnote_refund_id>``.
  A refund of an overpayment (Zoho: ``/customerpayments/{id}/refunds``) is not sent: refused before sending.
- **Expense**: ``POST /expenses``, itemized (``line_items`` with ``account_id``, ``amount``, ``tax_id``,
  ``description``), ``paid_through_account_id`` (the mapped paid-from account), ``vendor_id`` (the payee, a vendor
  contact found or created by name), ``currency_id`` and ``exchange_rate``, ``reference_number`` (our number),
  amounts before tax (``is_inclusive_tax`` false: Zoho adds each line's tax from its ``tax_id``). Voided: deleted.
- **Journal**: ``POST /journals`` with ``journal_date``, ``reference_number`` (our number), ``notes``,
  ``currency_id`` / ``exchange_rate`` and ``line_items`` (``account_id``, ``amount``, ``debit_or_credit``),
  ``status`` published. Voided: deleted.
"""
from __future__ import annotations

from ..documents import ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot
from ..rest import clean, iso_date
from .translate import PAYMENT_MODES
from .translate import REFUND_SEPARATOR as SEPARATOR


def refund_path(remote_id: str) -> str:
    """``creditnotes/{creditnote_id}/refunds/{creditnote_refund_id}`` for our remote id of a refund."""
    note_id, _, own_id = remote_id.partition(SEPARATOR)
    return f"creditnotes/{note_id}/refunds/{own_id}"


def refunds_path(note_id: str) -> str:
    return f"creditnotes/{note_id}/refunds"


def refund_payload(doc: RefundSnapshot, mapping: Mapping) -> dict:
    return clean({"amount": doc.amount, "date": iso_date(doc.date),
                  "refund_mode": PAYMENT_MODES.get(doc.method, "others"), "reference_number": doc.number[:100],
                  "from_account_id": mapping.deposit_account, "exchange_rate": doc.exchange_rate,
                  "description": (doc.memo or f"Refund {doc.number} ({doc.method})")[:500]})


def refund_problems(doc: RefundSnapshot) -> list[str]:
    if doc.credit_note_key:
        return []
    return ["this connector refunds credit notes only, not a customer's overpayment; record the overpayment's "
            "refund in Zoho Books by hand (Sales, Payments Received, Refund)"]


def expense_reference(doc: ExpenseSnapshot) -> str:
    return doc.number[:100]


def expense_payload(doc: ExpenseSnapshot, mapping: Mapping, vendor_id: str | None, currency_id: str | None) -> dict:
    lines = [clean({"account_id": mapping.line_accounts[i], "amount": line.net_amount,
                    "tax_id": mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None,
                    "description": (line.description or line.cost_kind.replace("_", " "))[:500],
                    "item_order": i + 1})
             for i, line in enumerate(doc.lines)]
    notes = [doc.memo, f"Paid to {doc.payee}" if doc.payee and not vendor_id else "",
             f"Receipt: {doc.attachment}" if doc.attachment else ""]
    return clean({"account_id": lines[0]["account_id"] if lines else None, "date": iso_date(doc.date),
                  "line_items": lines, "is_inclusive_tax": False, "paid_through_account_id": mapping.deposit_account,
                  "vendor_id": vendor_id, "currency_id": currency_id, "exchange_rate": doc.exchange_rate,
                  "reference_number": expense_reference(doc),
                  "description": " — ".join(n for n in notes if n)[:500]})


def journal_payload(doc: JournalSnapshot, mapping: Mapping, currency_id: str | None) -> dict:
    lines = [{"account_id": mapping.line_accounts[i], "amount": line.debit or line.credit,
              "debit_or_credit": "debit" if line.debit else "credit",
              "description": (line.description or f"Account {line.account_code}")[:500]}
             for i, line in enumerate(doc.lines)]
    return clean({"journal_date": iso_date(doc.date), "reference_number": doc.number[:100], "notes": doc.memo[:500],
                  "currency_id": currency_id, "exchange_rate": doc.exchange_rate, "line_items": lines,
                  "status": "published"})
