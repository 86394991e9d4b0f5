"""Refunds, expenses and journal entries as QuickBooks Online models them (Finance.xsd field names). Pure: no I/O.

- **Refund** of a customer's credit (a credit memo, or an overpayment): QBO's own way is a purchase ("expense")
  paid from the bank or clearing account, on Accounts Receivable with the customer as payee, then a zero-total
  Payment that applies the credit memo to that purchase (``LinkedTxn`` types ``CreditMemo`` and ``Expense``), so
  the memo's remaining credit falls by the refund. Posts: debit A/R, credit the refund account.
- **Expense**: a ``Purchase`` with ``PaymentType`` CreditCard when the paid-from account is a Credit Card account,
  Check when it was paid by check, else Cash (a card or a transfer taken from a bank account), its lines
  ``AccountBasedExpenseLineDetail`` on the mapped expense accounts, tax excluded from the line amounts
  (``GlobalTaxCalculation`` TaxExcluded, ``TxnTaxDetail.TotalTax`` our tax), the payee a Vendor.
- **Supplier bill**: a ``Bill`` (owed on Accounts Payable): ``VendorRef`` the supplier as a Vendor (found by name,
  else created, as an expense's payee), ``DocNumber`` the supplier's bill number (QBO's "Bill no."; our number when
  the supplier gave none), our number in ``PrivateNote``, ``APAccountRef`` the mapped accounts-payable account
  (left out without a rule: QBO then uses the company's only A/P account), lines as an expense's. The API cannot
  void a bill: a voided bill is deleted.
- **Bill payment**: a ``BillPayment`` (Finance.xsd): ``VendorRef`` the bill's vendor, ``PayType`` Check with
  ``CheckPayment.BankAccountRef`` the bank account mapped for the payment's method (the expenses' paid-from rule),
  or CreditCard with ``CreditCardPayment.CCAccountRef`` when that account is a credit card; ``TotalAmt`` the amount,
  one ``Line`` of the amount whose ``LinkedTxn`` is the bill (``TxnType`` Bill); ``DocNumber`` our number. QBO lowers
  the bill's ``Balance`` and refuses a line over it. Voided through the API as a payment is (``operation=update``
  ``include=void``: python-quickbooks' ``VoidMixin`` sends BillPayment so; Finance.xsd does not say): the payment
  stays with its amounts zeroed and the bill is owed again.
- **Journal entry**: a ``JournalEntry`` with ``JournalEntryLineDetail`` lines (``PostingType`` Debit / Credit).
"""
from __future__ import annotations

from decimal import Decimal

from ..documents import BillPaymentSnapshot, BillSnapshot, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot

CREDIT_CARD = "Credit Card"  # the AccountType QBO requires for PaymentType CreditCard
#: A refund is never paid by check, so its purchase (Cash or CreditCard) is named "Expense" in a payment's
#: ``LinkedTxn``.
REFUND_LINK_TYPE = "Expense"


def ref(value: str, name: str = "") -> dict:
    return {"value": value, "name": name} if name else {"value": value}


def _common(doc, number: str) -> dict:
    body = {"DocNumber": number[:21], "TxnDate": doc.date.isoformat() if doc.date else None,
            "CurrencyRef": ref(doc.currency)}
    if doc.exchange_rate:
        body["ExchangeRate"] = doc.exchange_rate
    return body


def refund_payload(doc: RefundSnapshot, mapping: Mapping, receivable: str, account_type: str) -> dict:
    """The purchase that pays the refund: from the refund account, onto Accounts Receivable for the customer."""
    customer = mapping.refs[doc.customer_key]
    what = "credit memo" if doc.credit_note_key else "overpayment"
    body = {
        **_common(doc, doc.number),
        "PaymentType": payment_type(doc.method, account_type), "AccountRef": ref(mapping.deposit_account),
        "EntityRef": {"value": customer, "type": "Customer"},
        "PrivateNote": (doc.memo or f"Refund {doc.number} of the customer's {what} ({doc.method})")[:4000],
        "Line": [{"Amount": doc.amount, "DetailType": "AccountBasedExpenseLineDetail",
                  "Description": f"Refund of {what}"[:4000],
                  "AccountBasedExpenseLineDetail": {"AccountRef": ref(receivable), "CustomerRef": ref(customer)}}],
    }
    return {k: v for k, v in body.items() if v is not None}


def refund_application(doc: RefundSnapshot, mapping: Mapping, purchase_id: str) -> dict:
    """The zero-total payment that applies the refunded credit memo to the refund's purchase."""
    memo, amount = mapping.refs[doc.credit_note_key], doc.amount
    return {"CustomerRef": ref(mapping.refs[doc.customer_key]), "TotalAmt": Decimal("0"),
            "CurrencyRef": ref(doc.currency), "PaymentRefNum": f"RF {doc.number}"[:21],
            "TxnDate": doc.date.isoformat() if doc.date else None,
            "PrivateNote": f"Applies the credit memo to refund {doc.number}",
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": purchase_id, "TxnType": REFUND_LINK_TYPE}]},
                     {"Amount": amount, "LinkedTxn": [{"TxnId": memo, "TxnType": "CreditMemo"}]}]}


def applies_refund(payment: dict, purchase_id: str) -> bool:
    return any(link.get("TxnType") == REFUND_LINK_TYPE and str(link.get("TxnId")) == purchase_id
               for line in payment.get("Line", []) for link in line.get("LinkedTxn", []))


def applied_to_refund(payment: dict, purchase_id: str) -> Decimal:
    """What ``payment`` applies to the refund's purchase."""
    return sum((Decimal(str(line.get("Amount", "0"))) for line in payment.get("Line", [])
                for link in line.get("LinkedTxn", [])
                if link.get("TxnType") == REFUND_LINK_TYPE and str(link.get("TxnId")) == purchase_id), Decimal("0"))


def payment_type(method: str, account_type: str) -> str:
    """QBO's ``PaymentType`` for an expense paid by ``method`` from an account of ``account_type``: QBO ties
    CreditCard to Credit Card accounts and Cash / Check to bank accounts, so the account decides first (a debit
    card takes money from the bank: Cash)."""
    if account_type == CREDIT_CARD:
        return "CreditCard"
    return "Check" if method == "check" else "Cash"


def cost_lines(doc: ExpenseSnapshot | BillSnapshot, mapping: Mapping, no_tax_code: str) -> list[dict]:
    """An expense's or a bill's lines: each on its mapped expense account, net of tax, with its tax code."""
    lines = []
    for i, line in enumerate(doc.lines):
        code = mapping.tax_codes[line.tax_rate_key] if line.tax_rate_key else no_tax_code
        lines.append({"Amount": line.net_amount, "DetailType": "AccountBasedExpenseLineDetail",
                      "Description": line.description[:4000],
                      "AccountBasedExpenseLineDetail": {"AccountRef": ref(mapping.line_accounts[i]),
                                                        "TaxCodeRef": ref(code)}})
    return lines


def expense_payload(doc: ExpenseSnapshot, mapping: Mapping, vendor: str, no_tax_code: str,
                    account_type: str) -> dict:
    notes = [f"Paid to {doc.payee}", doc.memo, f"Receipt: {doc.attachment}" if doc.attachment else ""]
    lines = cost_lines(doc, mapping, no_tax_code)
    body = {
        **_common(doc, doc.number),
        "PaymentType": payment_type(doc.paid_from, account_type), "AccountRef": ref(mapping.deposit_account),
        "EntityRef": {"value": vendor, "type": "Vendor"},
        "PrivateNote": " — ".join(n for n in notes if n)[:4000],
        "GlobalTaxCalculation": "TaxExcluded", "TxnTaxDetail": {"TotalTax": doc.tax_total}, "Line": lines,
    }
    return {k: v for k, v in body.items() if v is not None}


def bill_number(doc: BillSnapshot) -> str:
    """A bill's ``DocNumber``: the supplier's bill number, else ours."""
    return (doc.supplier_reference.strip() or doc.number)[:21]


def bill_payload(doc: BillSnapshot, mapping: Mapping, vendor: str, no_tax_code: str) -> dict:
    notes = [f"Our reference {doc.number}", doc.memo, f"Bill: {doc.attachment}" if doc.attachment else ""]
    body = {
        **_common(doc, bill_number(doc)),
        "VendorRef": ref(vendor), "DueDate": doc.due_date.isoformat() if doc.due_date else None,
        "PrivateNote": " — ".join(n for n in notes if n)[:4000],
        "GlobalTaxCalculation": "TaxExcluded", "TxnTaxDetail": {"TotalTax": doc.tax_total},
        "Line": cost_lines(doc, mapping, no_tax_code),
    }
    if mapping.deposit_account:  # the mapped accounts-payable account; without one QBO uses the company's only one
        body["APAccountRef"] = ref(mapping.deposit_account)
    return {k: v for k, v in body.items() if v is not None}


def bill_payment_payload(doc: BillPaymentSnapshot, mapping: Mapping, vendor: str, account_type: str) -> dict:
    """The bill payment: from the mapped bank (or credit card) account, its one line linking the bill."""
    account = ref(mapping.deposit_account)
    if account_type == CREDIT_CARD:
        kind, detail = "CreditCard", {"CreditCardPayment": {"CCAccountRef": account}}
    else:
        kind, detail = "Check", {"CheckPayment": {"BankAccountRef": account, "PrintStatus": "NotSet"}}
    notes = [f"Pays bill {doc.bill_number} ({doc.paid_from})", doc.memo]
    body = {
        **_common(doc, doc.number), "VendorRef": ref(vendor), "PayType": kind, **detail, "TotalAmt": doc.amount,
        "PrivateNote": " — ".join(n for n in notes if n)[:4000],
        "Line": [{"Amount": doc.amount, "LinkedTxn": [{"TxnId": mapping.refs[doc.bill_key], "TxnType": "Bill"}]}],
    }
    return {k: v for k, v in body.items() if v is not None}


def journal_payload(doc: JournalSnapshot, mapping: Mapping) -> dict:
    lines = []
    for i, line in enumerate(doc.lines):
        posting, amount = ("Debit", line.debit) if line.debit else ("Credit", line.credit)
        lines.append({"Amount": amount, "DetailType": "JournalEntryLineDetail",
                      "Description": (line.description or f"Account {line.account_code}")[:4000],
                      "JournalEntryLineDetail": {"PostingType": posting, "AccountRef": ref(mapping.line_accounts[i])}})
    body = {**_common(doc, doc.number), "Line": lines}
    if doc.memo:
        body["PrivateNote"] = doc.memo[:4000]
    return {k: v for k, v in body.items() if v is not None}


def vendor_payload(name: str) -> dict:
    return {"DisplayName": name[:500]}
