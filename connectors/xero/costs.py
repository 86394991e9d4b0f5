"""Refunds, expenses and manual journals as Xero models them (xero_accounting.yaml field names). Pure: no I/O.

- **Refund** of a credit note: a ``Payment`` whose ``CreditNote`` is the credit note (``CreditNoteID``), paid
  from the refund account (``Account.Code``, a BANK account or one with ``EnablePaymentsToAccount``). Xero lowers
  the credit note's ``RemainingCredit`` by it. Xero cannot edit a payment: a changed refund is deleted and
  recorded again, a voided one deleted (``Status`` DELETED). An overpayment is its own record in Xero
  (``Overpayments``, made by a RECEIVE-OVERPAYMENT bank transaction: how a payment applied to no invoice is sent);
  its refund is a ``Payment`` whose ``Overpayment`` is it (``OverpaymentID``), which lowers its
  ``RemainingCredit``, deleted like the others.
- **Expense**: a ``BankTransaction`` of ``Type`` SPEND from the paid-from account (``BankAccount.Code``, a BANK
  account: credit cards are BANK accounts in Xero), the payee as ``Contact`` by name (Xero finds or creates it),
  tax-exclusive lines coded to the mapped expense accounts and tax types. The transaction is in its bank account's
  currency; ``CurrencyRate`` is foreign units per base unit. Voided: ``Status`` DELETED.
- **Supplier bill**: an ``Invoice`` of ``Type`` ACCPAY, ``Status`` AUTHORISED (approved: it posts to the accounts
  payable system account by itself, so no accounts-payable rule is used), the supplier as ``Contact`` by name (Xero
  finds or creates it, as a supplier), ``InvoiceNumber`` the supplier's bill number (Xero shows it as the bill's
  reference; it need not be unique for ACCPAY), ours when the supplier gave none, ``DueDate``, tax-exclusive lines
  coded to the mapped expense accounts and tax types, a web-address attachment as ``Url``. ``Reference`` is not
  sent: the spec documents it as "ACCREC only". Voided: ``Status`` VOIDED (a draft would be DELETED).
- **Bill payment**: a ``Payment`` on the bill's ACCPAY invoice (``Invoice.InvoiceID``) from the bank account mapped
  for its method (``Account.Code``, the expenses' paid-from rule), ``Amount``, ``Date``, ``Reference`` our number.
  Xero lowers the bill's ``AmountDue`` and marks it PAID when nothing is left; it refuses a payment over what is
  due. A payment cannot be edited: voided (or changed), it is removed with ``Status`` DELETED (and sent again when
  changed), which puts the amount back on the bill.
- **Journal**: a ``ManualJournal`` (``Narration`` required, ``JournalLines`` with ``LineAmount`` positive for a
  debit and negative for a credit, summing to zero), ``Status`` POSTED; voided: VOIDED. Xero posts manual journals
  in the base currency only. A manual journal has no number field: the narration starts with ours.
"""
from __future__ import annotations

from decimal import Decimal

from ..documents import BillPaymentSnapshot, BillSnapshot, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot
from .translate import DESCRIPTION_MAX, NARRATION_SEPARATOR, REFERENCE_MAX, currency_rate, overpayment_id, q2, q4

URL_PREFIXES = ("http://", "https://")


def refund_payload(doc: RefundSnapshot, mapping: Mapping, send_currency_rate: bool = True) -> dict:
    """A ``Payment`` on the credit note, or on the ``Overpayment`` our payment was sent as (``PaymentType``
    AROVERPAYMENTPAYMENT: money paid back from the bank account)."""
    source = {"CreditNote": {"CreditNoteID": mapping.refs[doc.credit_note_key]}} if doc.credit_note_key else \
        {"Overpayment": {"OverpaymentID": overpayment_id(mapping.refs[doc.payment_key])}}
    body = {**source,
            "Account": {"Code": mapping.deposit_account}, "Amount": q2(doc.amount),
            "Reference": doc.number[:REFERENCE_MAX]}
    if doc.date:
        body["Date"] = doc.date.isoformat()
    if doc.exchange_rate and send_currency_rate:
        body["CurrencyRate"] = currency_rate(doc.exchange_rate)
    return body


def bill_payment_payload(doc: BillPaymentSnapshot, mapping: Mapping, send_currency_rate: bool = True) -> dict:
    body = {"Invoice": {"InvoiceID": mapping.refs[doc.bill_key]}, "Account": {"Code": mapping.deposit_account},
            "Amount": q2(doc.amount), "Reference": doc.number[:REFERENCE_MAX]}
    if doc.date:
        body["Date"] = doc.date.isoformat()
    if doc.exchange_rate and send_currency_rate:
        body["CurrencyRate"] = currency_rate(doc.exchange_rate)
    return body


def refund_problems(doc: RefundSnapshot, mapping: Mapping | None = None) -> list[str]:
    """A refund of an overpayment needs the payment sent as a Xero overpayment (one applied to no invoice)."""
    if doc.credit_note_key or mapping is None or not doc.payment_key:
        return []
    remote = mapping.refs.get(doc.payment_key)
    if remote and not overpayment_id(remote):
        return ["Xero refunds an overpayment from its Overpayment record, and this payment was sent as a payment on "
                "an invoice (only a payment applied to no invoice becomes a Xero overpayment); record the refund in "
                "Xero by hand"]
    return []


def expense_reference(doc: ExpenseSnapshot) -> str:
    """Our number, and the receipt's reference when it is not a web address (those go in ``Url``)."""
    attachment = doc.attachment.strip()
    if attachment and not attachment.startswith(URL_PREFIXES):
        return f"{doc.number} ({attachment})"[:REFERENCE_MAX]
    return doc.number[:REFERENCE_MAX]


def cost_lines(doc: ExpenseSnapshot | BillSnapshot, mapping: Mapping, no_tax_type: str) -> list[dict]:
    """An expense's or a bill's lines: quantity 1 at the net amount, on the mapped expense account and tax type."""
    return [{"Description": (line.description or line.cost_kind)[:DESCRIPTION_MAX],
             "Quantity": Decimal("1"), "UnitAmount": q4(line.net_amount), "AccountCode": mapping.line_accounts[i],
             "TaxType": mapping.tax_codes[line.tax_rate_key] if line.tax_rate_key else no_tax_type}
            for i, line in enumerate(doc.lines)]


def expense_payload(doc: ExpenseSnapshot, mapping: Mapping, no_tax_type: str, send_currency_rate: bool = True
                    ) -> dict:
    lines = cost_lines(doc, mapping, no_tax_type)
    body = {"Type": "SPEND", "Contact": {"Name": doc.payee.strip()[:255]},
            "BankAccount": {"Code": mapping.deposit_account}, "Reference": expense_reference(doc),
            "LineAmountTypes": "Exclusive", "CurrencyCode": doc.currency, "LineItems": lines}
    if doc.date:
        body["Date"] = doc.date.isoformat()
    if doc.attachment.strip().startswith(URL_PREFIXES):
        body["Url"] = doc.attachment.strip()
    if doc.exchange_rate and send_currency_rate:
        body["CurrencyRate"] = currency_rate(doc.exchange_rate)
    return body


def bill_number(doc: BillSnapshot) -> str:
    """A bill's ``InvoiceNumber``: the supplier's bill number, else ours."""
    return (doc.supplier_reference.strip() or doc.number)[:REFERENCE_MAX]


def bill_payload(doc: BillSnapshot, mapping: Mapping, no_tax_type: str, send_currency_rate: bool = True) -> dict:
    body = {"Type": "ACCPAY", "Contact": {"Name": doc.supplier.strip()[:255]}, "InvoiceNumber": bill_number(doc),
            "LineAmountTypes": "Exclusive", "CurrencyCode": doc.currency, "Status": "AUTHORISED",
            "LineItems": cost_lines(doc, mapping, no_tax_type)}
    if doc.issue_date:
        body["Date"] = doc.issue_date.isoformat()
    if doc.due_date:
        body["DueDate"] = doc.due_date.isoformat()
    if doc.attachment.strip().startswith(URL_PREFIXES):
        body["Url"] = doc.attachment.strip()
    if doc.exchange_rate and send_currency_rate:
        body["CurrencyRate"] = currency_rate(doc.exchange_rate)
    return body


def narration(doc: JournalSnapshot) -> str:
    return f"{doc.number}{NARRATION_SEPARATOR}{doc.memo}" if doc.memo.strip() else doc.number


def journal_payload(doc: JournalSnapshot, mapping: Mapping) -> dict:
    lines = [{"LineAmount": q2(line.debit) if line.debit else -q2(line.credit), "AccountCode": mapping.line_accounts[i],
              "Description": (line.description or f"Account {line.account_code}")[:DESCRIPTION_MAX]}
             for i, line in enumerate(doc.lines)]
    body = {"Narration": narration(doc), "JournalLines": lines, "LineAmountTypes": "NoTax", "Status": "POSTED"}
    if doc.date:
        body["Date"] = doc.date.isoformat()
    return body


def journal_problems(doc: JournalSnapshot, home_currency: str | None) -> list[str]:
    if home_currency and doc.currency != home_currency:
        return [f"Xero posts manual journals in the organisation's base currency ({home_currency}) only; this "
                f"journal is in {doc.currency}. Convert it to {home_currency} in the business system"]
    return []

