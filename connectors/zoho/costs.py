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
- **Bill** (a supplier's bill, accounts payable): ``POST /bills`` with ``vendor_id`` (the supplier, a vendor
  contact found or created by name as an expense's payee), ``bill_number`` (the supplier's own number, ours when
  it has none), ``reference_number`` (our number: what a lost answer is searched by), ``date``, ``due_date``,
  ``currency_id`` / ``exchange_rate``, ``notes`` and ``line_items`` (``account_id``, ``description``, ``rate`` at
  the net amount, ``quantity`` 1, ``tax_id``), amounts before tax (``is_inclusive_tax`` false). Zoho keeps it open
  (balance = total) until a payment is made; voided with ``POST /bills/{bill_id}/status/void``, or deleted.
- **Journal**: ``POST /journals`` with ``journal_date``, ``reference_number`` (our number), ``notes``,
  ``currency_id`` / ``exchange_rate`` and ``line_items`` (``account_id``, ``amount``, ``debit_or_credit``),
  ``status`` published. Voided: deleted.
"""
from __future__ import annotations

from ..documents import BillSnapshot, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot
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


def bill_number(doc: BillSnapshot) -> str:
    """A bill's ``bill_number``: the supplier's own bill number, else ours."""
    return (doc.supplier_reference.strip() or doc.number)[:100]


def bill_payload(doc: BillSnapshot, mapping: Mapping, vendor_id: str | None, currency_id: str | None) -> dict:
    lines = [clean({"account_id": mapping.line_accounts[i], "rate": line.net_amount, "quantity": 1,
                    "tax_id": mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None,
                    "description": (line.description or line.cost_kind.replace("_", " "))[:2000],
                    "item_order": i + 1})
             for i, line in enumerate(doc.lines)]
    notes = [doc.memo, f"Attachment: {doc.attachment}" if doc.attachment else ""]
    return clean({"vendor_id": vendor_id, "bill_number": bill_number(doc), "reference_number": doc.number[:100],
                  "date": iso_date(doc.issue_date), "due_date": iso_date(doc.due_date), "line_items": lines,
                  "is_inclusive_tax": False, "currency_id": currency_id, "exchange_rate": doc.exchange_rate,
                  "notes": " — ".join(n for n in notes if n)[:5000]})


def journal_payload(doc: JournalSnapshot, mapping: Mapping, currency_id: str | None) -> dict:
    lines = [{"account_id": mapping.line_accounts[i], "amount": line.debit or line.credit,
              "debit_or_credit": "debit" if line.debit else "credit",
              "description": (line.description or f"Account {line.account_code}")[:500]}
             for i, line in enumerate(doc.lines)]
    return clean({"journal_date": iso_date(doc.date), "reference_number": doc.number[:100], "notes": doc.memo[:500],
                  "currency_id": currency_id, "exchange_rate": doc.exchange_rate, "line_items": lines,
                  "status": "published"})
