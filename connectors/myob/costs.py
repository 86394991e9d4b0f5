"""Refunds, expenses and journals as MYOB Business (AccountRight) API v2 models them. Pure: no I/O.

Field names from the official .NET SDK's v2 contracts (``Sale/CreditRefund``, ``Banking/SpendMoneyTxn`` and its
lines, ``GeneralLedger/GeneralJournal`` and its lines) and MYOB's endpoint pages; sources and guesses in
docs/connectors/myob.md.

- **Refund** of a credit note: ``POST Sale/CreditRefund`` with ``Customer``, ``Invoice`` (the customer credit, our
  credit note, refunded), ``Account`` (the mapped refund account: a bank or credit-card account), ``Amount``,
  ``Date``, ``Number`` (the cheque number: our number) and ``Memo`` (our memo, else the method). MYOB lowers the
  credit's balance by it. MYOB has no ``PUT`` for a credit refund: a changed refund is deleted and recorded again
  (a new UID), and voided here it is deleted there (MYOB voids none of these). A refund of an overpayment is not
  sent: refused before sending.
- **Expense**: ``POST Banking/SpendMoneyTxn`` (spend money), ``PayFrom`` ``Account`` with the mapped paid-from
  account, the payee's name in ``PayeeAddress`` (no card is made for it), ``PaymentNumber`` (our number), ``Date``,
  ``IsTaxInclusive`` false and one line per our line (``Account``, ``TaxCode``, ``Amount`` before tax, ``Memo``):
  MYOB adds each line's tax from its code. Edited with ``PUT`` (``RowVersion``); voided: deleted.
- **Journal**: ``POST GeneralLedger/GeneralJournal`` with ``DisplayID`` (our number), ``DateOccurred``, ``Memo``,
  ``GSTReportingMethod`` and ``Lines`` (``Account``, ``Amount``, ``IsCredit``, ``TaxCode`` the connection's
  no-tax code, ``Memo``). Edited with ``PUT``; voided: deleted.

**Reversed in AccountRight** (a file whose transactions "can't be changed; they must be reversed"): Edit, Reverse
Cheque Transaction makes a new spend money with "amounts exactly opposite" (MYOB's help); a general journal is
reversed the same way. What the API shows of it is a **guess**: the same number (``PaymentNumber`` / ``DisplayID``),
the memo ``Reversal; ...`` as on a reversed sale, and a spend money's amounts negative. The original stays as it
was; we read it as voided while a reversal with its number exists, and never take the reversal for one of ours.

In the company file's local currency only, like the sales (the connector's reference data lists that currency
alone, so preflight stops a document in another one).
"""
from __future__ import annotations

from ..documents import Entity, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot
from ..rest import clean, money
from .translate import NUMBER_LENGTH, PAYMENT_METHODS, REVERSAL, link, myob_date

REFUNDS, SPENDS, JOURNALS = "Sale/CreditRefund", "Banking/SpendMoneyTxn", "GeneralLedger/GeneralJournal"
#: What MYOB's GST reports count a journal under (mandatory on a general journal): our journals carry no GST.
GST_REPORTING = "Sale"
MEMO_LENGTH = 255


def refund_payload(doc: RefundSnapshot, mapping: Mapping) -> dict:
    method = PAYMENT_METHODS.get(doc.method, "Other")
    return clean({"Customer": link(mapping.refs[doc.customer_key]), "Invoice": link(mapping.refs[doc.credit_note_key]),
                  "Account": link(mapping.deposit_account), "Number": doc.number[:NUMBER_LENGTH],
                  "Date": myob_date(doc.date), "Amount": doc.amount,
                  "Memo": (doc.memo or f"Refund {doc.number} ({method})")[:MEMO_LENGTH]})


def refund_problems(doc: RefundSnapshot) -> list[str]:
    if doc.credit_note_key:
        return []
    return ["this connector refunds credit notes only, not a customer's overpayment; record the refund in MYOB by "
            "hand (Sales, Settle returns & credits, Pay refund)"]


def expense_payload(doc: ExpenseSnapshot, mapping: Mapping, no_tax: str) -> dict:
    lines = [clean({"Account": link(mapping.line_accounts[i]),
                    "TaxCode": link((mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None)
                                    or no_tax),
                    "Amount": line.net_amount,
                    "Memo": (line.description or line.cost_kind.replace("_", " "))[:MEMO_LENGTH]})
             for i, line in enumerate(doc.lines)]
    notes = [doc.memo, f"Receipt: {doc.attachment}" if doc.attachment else ""]
    return clean({"PayFrom": "Account", "Account": link(mapping.deposit_account),
                  "PayeeAddress": doc.payee[:MEMO_LENGTH], "PaymentNumber": doc.number[:NUMBER_LENGTH],
                  "Date": myob_date(doc.date), "IsTaxInclusive": False,
                  "Memo": (" — ".join(n for n in notes if n) or f"Expense {doc.number}")[:MEMO_LENGTH],
                  "Lines": lines})


def journal_payload(doc: JournalSnapshot, mapping: Mapping, no_tax: str) -> dict:
    lines = [clean({"Account": link(mapping.line_accounts[i]), "Amount": line.debit or line.credit,
                    "IsCredit": not line.debit, "TaxCode": link(no_tax),
                    "Memo": (line.description or f"Account {line.account_code}")[:MEMO_LENGTH]})
             for i, line in enumerate(doc.lines)]
    return clean({"DisplayID": doc.number[:NUMBER_LENGTH], "DateOccurred": myob_date(doc.date),
                  "IsTaxInclusive": False, "Memo": (doc.memo or f"Journal {doc.number}")[:MEMO_LENGTH],
                  "GSTReportingMethod": GST_REPORTING, "IsYearEndAdjustment": False, "Lines": lines})



def is_reversal(entity: str, body: dict) -> bool:
    """A spend money or general journal AccountRight made to reverse another (see the module docstring: a guess at
    its shape): its memo starts ``Reversal;``, or a spend money pays out less than nothing (ours never do)."""
    if str(body.get("Memo") or "").startswith(REVERSAL):
        return True
    paid = money(body.get("AmountPaid")) if entity == Entity.EXPENSE else None
    return paid is not None and paid < 0
