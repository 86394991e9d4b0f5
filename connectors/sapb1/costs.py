"""Refunds, expenses and journals as SAP Business One's Service Layer models them. Pure: no I/O.

Field names from the Service Layer's entity types (``Payment``, ``PaymentInvoice``, ``PaymentAccount``,
``JournalEntry``, ``JournalEntryLine``) as SAP's SDK help and its generated clients spell them; sources and guesses
in docs/connectors/sapb1.md.

- **Refund** of a credit note: an outgoing payment (``VendorPayments``) to the customer (``DocType`` rCustomer,
  ``CardCode`` the customer's business partner) applied to the credit note (``PaymentInvoices``: ``DocEntry``,
  ``SumApplied``, ``InvoiceType`` it_CredItnote, SAP's own spelling of the enum member). Cash goes out of the
  mapped refund account as ``CashAccount`` / ``CashSum``; every other method (transfer, card, check) as a bank
  transfer, ``TransferAccount`` / ``TransferSum`` (a card refund needs a credit-card type set up in Business One,
  which nothing here maps, so it leaves the mapped refund account as a transfer). Our number in
  ``CounterReference``; in a foreign currency our rate in ``DocRate``. Business One raises the credit note's
  ``PaidToDate`` by it. An added payment never changes its amounts: a changed refund is cancelled
  (``VendorPayments(n)/Cancel``) and added again; voided here, it is cancelled there. A refund of an overpayment
  is not sent (refused before sending).
- **Expense**: an outgoing payment on account (``DocType`` rAccount, no business partner), one ``PaymentAccounts``
  row per line (``AccountCode``, the amount before tax, ``VatGroup``, ``Decription``: SAP's spelling) paid out of
  the mapped paid-from account by transfer (``TransferAccount`` / ``TransferSum``, the total with tax). In the
  expense's own currency (``DocCurrency``): Business One pays from an account in any currency the company defines;
  a row's amount is ``SumPaid`` in the local currency and ``SumPaidFC`` in a foreign one (with ``DocRate``, our
  rate). Business One computes each row's tax from its group. Voided: cancelled.
- **Journal**: a journal entry (``JournalEntries``: ``ReferenceDate``, ``Memo``, ``Reference`` our number and
  ``JournalEntryLines`` with ``AccountCode``, ``Debit``, ``Credit``, ``LineMemo``). It must balance; in the local
  currency only (``Debit`` / ``Credit`` are local amounts). Voided: cancelled, which Business One does by adding
  the reversing entry (``StornoToTransaction`` names the one it reverses).
"""
from __future__ import annotations

from ..documents import ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot
from ..errors import ConfigurationError
from ..rest import clean, iso_date
from .translate import ref_id

PAYMENTS, JOURNALS = "VendorPayments", "JournalEntries"
#: ``BoRcptTypes``: who an outgoing payment pays.
TO_CUSTOMER, ON_ACCOUNT = "rCustomer", "rAccount"
#: ``BoRcptInvTypes`` member of an A/R credit note (object type 14), spelled as SAP spells it.
CREDIT_NOTE_TYPE = "it_CredItnote"
#: Lengths of the fields that carry our text (OVPM CounterRef 100; OJDT Memo 50, Ref1 100; Descrip 250).
COUNTER_REFERENCE, MEMO, REFERENCE, DESCRIPTION, REMARKS = 100, 50, 100, 250, 254


def refund_problems(doc: RefundSnapshot) -> list[str]:
    if doc.credit_note_key:
        return []
    return ["this connector refunds credit notes only, not a customer's payment on account; record the refund in "
            "SAP Business One by hand (an outgoing payment to the customer)"]


def _means(method: str, account: str | None, amount) -> dict:
    """Cash from the cash account, everything else as a bank transfer from the mapped account."""
    if not account:
        raise ConfigurationError("no account is mapped to pay this out of",
                                 hint="Map the refund / paid-from account for this method in the mapping editor.")
    if method == "cash":
        return {"CashAccount": account, "CashSum": amount}
    return {"TransferAccount": account, "TransferSum": amount}


def _rate(doc, local_currency: str):
    """Our rate (``DocRate``) for a document in a currency other than the local one; None otherwise."""
    foreign = bool(local_currency) and doc.currency != local_currency
    return doc.exchange_rate if foreign and doc.exchange_rate else None


def refund_body(doc: RefundSnapshot, mapping: Mapping, local_currency: str = "") -> dict:
    if problems := refund_problems(doc):
        raise ConfigurationError("; ".join(problems), hint="Record the refund in SAP Business One by hand.")
    note = int(ref_id(mapping, doc.credit_note_key, "credit note"))
    return clean({"DocType": TO_CUSTOMER, "CardCode": ref_id(mapping, doc.customer_key, "customer"),
                  "DocDate": iso_date(doc.date), "DocCurrency": doc.currency, "DocRate": _rate(doc, local_currency),
                  "CounterReference": doc.number[:COUNTER_REFERENCE],
                  "Remarks": (doc.memo or f"Refund {doc.number} ({doc.method})")[:REMARKS],
                  **_means(doc.method, mapping.deposit_account, doc.amount),
                  "PaymentInvoices": [{"DocEntry": note, "SumApplied": doc.amount,
                                       "InvoiceType": CREDIT_NOTE_TYPE}]})


def expense_body(doc: ExpenseSnapshot, mapping: Mapping, local_currency: str) -> dict:
    """``local_currency``: the company's (``AdminInfo.LocalCurrency``); a row's amount goes in ``SumPaid`` in it,
    in ``SumPaidFC`` in any other."""
    foreign = bool(local_currency) and doc.currency != local_currency
    rows = []
    for i, line in enumerate(doc.lines):
        account = mapping.line_accounts[i] if i < len(mapping.line_accounts) else None
        if not account:
            raise ConfigurationError(f"line {i + 1} of expense {doc.number} has no expense account mapped",
                                     hint="Map an expense account for this cost kind in the mapping editor.")
        text = (line.description or line.cost_kind.replace("_", " "))
        rows.append(clean({"AccountCode": account, "SumPaidFC" if foreign else "SumPaid": line.net_amount,
                           "VatGroup": mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None,
                           "Decription": (f"{doc.payee}: {text}" if doc.payee else text)[:DESCRIPTION]}))
    notes = [doc.memo, f"Receipt: {doc.attachment}" if doc.attachment else ""]
    return clean({"DocType": ON_ACCOUNT, "DocDate": iso_date(doc.date), "DocCurrency": doc.currency,
                  "DocRate": _rate(doc, local_currency),
                  "CounterReference": doc.number[:COUNTER_REFERENCE],
                  "Remarks": (" — ".join(n for n in notes if n) or f"Expense {doc.number}")[:REMARKS],
                  "JournalRemarks": (doc.payee or f"Expense {doc.number}")[:MEMO],
                  **_means(doc.paid_from, mapping.deposit_account, doc.total), "PaymentAccounts": rows})


def journal_problems(doc: JournalSnapshot, local_currency: str) -> list[str]:
    if not local_currency or doc.currency == local_currency:
        return []
    return [f"SAP Business One journal entries are sent in the local currency ({local_currency}) only; this journal "
            f"is in {doc.currency}: enter it there by hand with its foreign-currency amounts"]


def journal_body(doc: JournalSnapshot, mapping: Mapping) -> dict:
    lines = []
    for i, line in enumerate(doc.lines):
        account = mapping.line_accounts[i] if i < len(mapping.line_accounts) else None
        if not account:
            raise ConfigurationError(f"line {i + 1} of journal {doc.number} has no account mapped "
                                     f"({line.account_code})", hint="Map the account code in the mapping editor.")
        lines.append({"AccountCode": account, "Debit": line.debit, "Credit": line.credit,
                      "LineMemo": (line.description or f"Account {line.account_code}")[:MEMO]})
    return clean({"ReferenceDate": iso_date(doc.date), "Memo": (doc.memo or f"Journal {doc.number}")[:MEMO],
                  "Reference": doc.number[:REFERENCE], "JournalEntryLines": lines})
