"""Refunds, expenses and journals as Sage Business Cloud Accounting models them (v3.1 swagger field names). Pure.

- **Refund** of a credit note: a contact payment of ``transaction_type_id`` CUSTOMER_REFUND from the mapped refund
  bank account (``bank_account_id``), ``total_amount`` the refund, allocated to the credit note
  (``allocated_artefacts``: the credit note's id with the amount negative, as Sage allocates credit notes), our
  number as ``reference``. Sage lowers the credit note's ``outstanding_amount``. Edited with ``PUT``; voided: deleted.
  A refund of an overpayment (a receipt's payment on account) is not sent: refused before sending.
- **Expense**: an other payment (``/other_payments``, ``transaction_type_id`` OTHER_PAYMENT) from the mapped
  paid-from bank account, one ``payment_lines`` entry per line (``ledger_account_id``, ``details``, ``tax_rate_id``,
  ``net_amount``, ``tax_amount``, ``total_amount``; our tax, as Sage lets a person enter it), our number as
  ``reference``. An other payment has no currency of its own: it is in its bank account's currency, so an expense
  in another currency is refused before sending. Voided: deleted.
- **Bill** (a supplier's bill, accounts payable): a purchase invoice (``/purchase_invoices``) for the supplier
  (``contact_id``: a VENDOR contact found by name, else created), ``vendor_reference`` the supplier's own number,
  ``reference`` ours (what a lost answer is searched by), ``date``, ``due_date`` (required by Sage; the bill's date
  when it has none), ``notes``, ``currency_id`` / ``exchange_rate`` and ``invoice_lines`` (``description``,
  ``ledger_account_id``, ``quantity`` 1, ``unit_price`` the net amount, ``tax_rate_id``): Sage adds each line's tax
  and keeps it unpaid (``outstanding_amount`` = ``total_amount``). Sage's ``DELETE /purchase_invoices/{key}``
  takes no ``void_reason`` (unlike a sales invoice's): a bill voided here is deleted there.
- **Journal**: ``/journals`` with ``date``, ``reference`` (our number), ``description`` (the memo) and
  ``journal_lines`` (``ledger_account_id``, ``debit``, ``credit``, ``details``); in the base currency only. Sage has
  no ``PUT`` for journals: a changed journal is deleted and created again (a new id). Voided: deleted.
"""
from __future__ import annotations

from ..documents import BillSnapshot, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot
from ..rest import clean, iso_date
from .translate import PAYMENT_METHODS

REFERENCE_MAX = 25  # Sage's references (as on invoices and receipts)


def refund_payload(doc: RefundSnapshot, mapping: Mapping) -> dict:
    return clean({"transaction_type_id": "CUSTOMER_REFUND", "contact_id": mapping.refs[doc.customer_key],
                  "bank_account_id": mapping.deposit_account, "date": iso_date(doc.date), "total_amount": doc.amount,
                  "reference": doc.number[:REFERENCE_MAX],
                  "payment_method_id": PAYMENT_METHODS.get(doc.method, "BANK_TRANSFER"),
                  "allocated_artefacts": [{"artefact_id": mapping.refs[doc.credit_note_key], "amount": -doc.amount}]})


def refund_problems(doc: RefundSnapshot) -> list[str]:
    if doc.credit_note_key:
        return []
    return ["this connector refunds credit notes only, not a customer's payment on account; record the refund in "
            "Sage by hand"]


def expense_payload(doc: ExpenseSnapshot, mapping: Mapping) -> dict:
    lines = [clean({"ledger_account_id": mapping.line_accounts[i],
                    "details": (f"{doc.payee}: " if doc.payee else "") + (line.description or line.cost_kind),
                    "tax_rate_id": mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None,
                    "net_amount": line.net_amount, "tax_amount": line.tax_amount,
                    "total_amount": line.net_amount + line.tax_amount})
             for i, line in enumerate(doc.lines)]
    return clean({"transaction_type_id": "OTHER_PAYMENT", "bank_account_id": mapping.deposit_account,
                  "date": iso_date(doc.date), "reference": doc.number[:REFERENCE_MAX],
                  "payment_method_id": PAYMENT_METHODS.get(doc.paid_from, "BANK_TRANSFER"),
                  "net_amount": doc.subtotal, "tax_amount": doc.tax_total, "total_amount": doc.total,
                  "payment_lines": lines})


def bill_payload(doc: BillSnapshot, mapping: Mapping, contact_id: str) -> dict:
    lines = [clean({"description": (line.description or line.cost_kind.replace("_", " "))[:2000],
                    "ledger_account_id": mapping.line_accounts[i], "quantity": 1, "unit_price": line.net_amount,
                    "tax_rate_id": mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None})
             for i, line in enumerate(doc.lines)]
    notes = [doc.memo, f"Attachment: {doc.attachment}" if doc.attachment else ""]
    return clean({"contact_id": contact_id, "date": iso_date(doc.issue_date),
                  "due_date": iso_date(doc.due_date or doc.issue_date), "reference": doc.number[:REFERENCE_MAX],
                  "vendor_reference": doc.supplier_reference.strip()[:REFERENCE_MAX],
                  "notes": " — ".join(n for n in notes if n)[:2000], "currency_id": doc.currency or None,
                  "exchange_rate": doc.exchange_rate, "invoice_lines": lines})


def journal_payload(doc: JournalSnapshot, mapping: Mapping) -> dict:
    lines = [{"ledger_account_id": mapping.line_accounts[i], "debit": line.debit, "credit": line.credit,
              "details": line.description or f"Account {line.account_code}"} for i, line in enumerate(doc.lines)]
    return clean({"date": iso_date(doc.date), "reference": doc.number[:REFERENCE_MAX], "description": doc.memo,
                  "journal_lines": lines})


def currency_problems(doc, currency: str, where: str) -> list[str]:
    if doc.currency == currency:
        return []
    return [f"Sage records {where} in {currency} only; this {doc.entity} is in {doc.currency}"]
