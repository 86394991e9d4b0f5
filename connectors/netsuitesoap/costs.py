"""Refunds, expenses and journals as NetSuite SuiteTalk SOAP models them: the records' fields, built with the WSDL's
types (``types(ns, name)``, the client's ``type``) and read back. No I/O.

- **Refund** of a credit note: a ``CustomerRefund`` (transactions.customers) for the ``customer``, paid from
  ``account`` (the bank account of the refund: the mapped refund account), the credit memo a row of its
  ``applyList`` (``CustomerRefundApply``: ``doc``, ``apply``, ``amount``); NetSuite's refund ``total`` is the sum
  applied, and the credit memo's ``unapplied`` falls by it. Our number goes in ``memo`` (a refund's ``tranId`` is its
  check number). A refund of an overpayment applies the customer payment instead (NetSuite lists a customer's
  payments with unapplied amounts among a refund's credits). Voided: deleted (SOAP has no void operation).
- **Expense**: a ``Check`` (transactions.bank: debits each expense line's account, credits the bank account) from
  the mapped paid-from ``account``, payee ``entity`` (the connection's **Expense payee**: a check must name one;
  our payee's name goes in the memo), ``tranId`` our number, ``currency`` and ``exchangeRate`` ours, one
  ``CheckExpense`` row of ``expenseList`` per expense line (``account``, ``amount`` net, ``taxCode``, ``memo``);
  NetSuite computes each line's tax from the tax code, and ``userTotal`` is the check's amount. Voided: deleted.
- **Supplier bill**: a ``VendorBill`` (transactions.purchases: debits each expense line's account, credits
  accounts payable) owed to the supplier as a ``Vendor`` (found by ``companyName`` with ``VendorSearchBasic``, else
  added), ``tranId`` the supplier's bill number (the bill's "Reference No."; ours when the supplier gave none),
  ``tranDate``, ``dueDate``, ``account`` the mapped accounts-payable account (else the account's default A/P),
  ``currency`` and ``exchangeRate`` ours, our number in ``memo``, and ``VendorBillExpense`` rows of ``expenseList``
  as a check's. No payment is made: its ``status`` stays Open. The vendored record has no balance field (a guess
  that SuiteTalk gives it only in searches): an Open bill owes its ``userTotal``. Voided: deleted.
- **Journal**: a ``JournalEntry`` (transactions.general) with ``tranId``, ``tranDate``, ``memo``, ``currency``,
  ``subsidiary`` (OneWorld) and ``lineList`` rows (``JournalEntryLine``: ``account``, ``debit`` or ``credit``,
  ``memo``); it must balance. Voided: deleted.

Sources and guesses: docs/connectors/netsuitesoap.md.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from ..documents import BillSnapshot, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot
from ..errors import ConfigurationError

#: NetSuite's tranId and memo lengths we keep to (tranId: 45 in NetSuite's records browser; memo: 999).
TRAN_ID_MAX, MEMO_MAX = 45, 999
ZERO = Decimal("0.00")


def refund_problems(doc: RefundSnapshot) -> list[str]:
    if doc.credit_note_key or doc.payment_key:
        return []
    return ["a refund pays back a credit note or a payment's unapplied amount, and this one names neither; record "
            "it in NetSuite by hand (Transactions > Customers > Issue Customer Refund)"]


def payee_problems(payee: str) -> list[str]:
    if payee:
        return []
    return ["the NetSuite connection names no expense payee (the vendor a check is written to): set the "
            "connection's Expense payee"]


def _day(day: dt.date | None) -> dt.datetime:
    return dt.datetime.combine(day or dt.date.today(), dt.time())


def _bank(mapping: Mapping, what: str) -> str:
    if not mapping.deposit_account:
        raise ConfigurationError(f"no account is mapped for {what}", hint="Map the bank account it is paid from.")
    return str(mapping.deposit_account)


def _required(mapping: Mapping, key: str | None, what: str) -> str:
    if not key or key not in mapping.refs:
        raise ConfigurationError(f"the {what} of this document has no NetSuite id yet ({key})",
                                 hint="Sync it first; the pipeline normally does this by itself.")
    return str(mapping.refs[key])


def refund_record(doc: RefundSnapshot, mapping: Mapping, types: Callable, ref: Callable, currency):
    """The credit memo refunded, or the customer payment whose unapplied amount (an overpayment) is refunded."""
    source = (_required(mapping, doc.credit_note_key, "credit note") if doc.credit_note_key
              else _required(mapping, doc.payment_key, "payment"))
    apply = types("cust", "CustomerRefundApply")(apply=True, doc=int(source), amount=doc.amount)
    return types("cust", "CustomerRefund")(
        externalId=doc.key, customer=ref(_required(mapping, doc.customer_key, "customer")), currency=currency,
        tranDate=_day(doc.date), memo=doc.number[:MEMO_MAX] or None, account=ref(_bank(mapping, "refunds")),
        applyList=types("cust", "CustomerRefundApplyList")(apply=[apply]))


def check_record(doc: ExpenseSnapshot, mapping: Mapping, payee: str, types: Callable, ref: Callable, currency):
    if not payee:
        raise ConfigurationError("the NetSuite connection names no expense payee",
                                 hint="Set the connection's Expense payee: the internal id of the vendor a check "
                                      "for an expense is written to.")
    lines = expense_rows(doc, mapping, types("bank", "CheckExpense"), ref)
    memo = ": ".join(part for part in (doc.payee, doc.memo) if part)
    return types("bank", "Check")(
        externalId=doc.key, account=ref(_bank(mapping, "expenses")), entity=ref(payee), tranDate=_day(doc.date),
        currency=currency, exchangeRate=doc.exchange_rate, tranId=doc.number[:TRAN_ID_MAX] or None,
        memo=memo[:MEMO_MAX] or None, expenseList=types("bank", "CheckExpenseList")(expense=lines))


def expense_rows(doc: ExpenseSnapshot | BillSnapshot, mapping: Mapping, row: Callable, ref: Callable) -> list:
    """An expense's or a bill's expense rows (``row`` a CheckExpense or VendorBillExpense): each line on its mapped
    expense account, net, with its tax code (NetSuite computes the tax)."""
    lines = []
    for index, line in enumerate(doc.lines):
        account = mapping.line_account(index)
        if not account:
            raise ConfigurationError(f"expense line {index + 1} has no NetSuite expense account",
                                     hint="Map an expense account for its cost kind.")
        tax = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        lines.append(row(account=ref(account), amount=line.net_amount,
                         memo=(line.description or line.cost_kind.replace("_", " "))[:MEMO_MAX],
                         taxCode=ref(tax) if tax else None))
    return lines


def bill_number(doc: BillSnapshot) -> str:
    """A vendor bill's ``tranId`` (its "Reference No."): the supplier's bill number, else ours."""
    return (doc.supplier_reference.strip() or doc.number)[:TRAN_ID_MAX]


def bill_record(doc: BillSnapshot, mapping: Mapping, vendor: str, types: Callable, ref: Callable, currency):
    notes = [f"Our reference {doc.number}", doc.memo, f"Bill: {doc.attachment}" if doc.attachment else ""]
    return types("purch", "VendorBill")(
        externalId=doc.key, entity=ref(vendor), tranDate=_day(doc.issue_date),
        dueDate=_day(doc.due_date) if doc.due_date else None, currency=currency, exchangeRate=doc.exchange_rate,
        tranId=bill_number(doc) or None, memo=" — ".join(n for n in notes if n)[:MEMO_MAX] or None,
        account=ref(str(mapping.deposit_account)) if mapping.deposit_account else None,
        expenseList=types("purch", "VendorBillExpenseList")(expense=expense_rows(
            doc, mapping, types("purch", "VendorBillExpense"), ref)))


def journal_record(doc: JournalSnapshot, mapping: Mapping, subsidiary: str, types: Callable, ref: Callable,
                   currency):
    lines = []
    for index, line in enumerate(doc.lines):
        account = mapping.line_accounts[index] if index < len(mapping.line_accounts) else None
        if not account:
            raise ConfigurationError(f"journal line {index + 1} (account {line.account_code}) has no NetSuite "
                                     "account", hint="Map the account code to a NetSuite account.")
        side = {"debit": line.debit} if line.debit else {"credit": line.credit}
        lines.append(types("general", "JournalEntryLine")(account=ref(str(account)), **side,
                                                          memo=(line.description or "")[:MEMO_MAX] or None))
    return types("general", "JournalEntry")(
        externalId=doc.key, tranDate=_day(doc.date), currency=currency, exchangeRate=doc.exchange_rate,
        tranId=doc.number[:TRAN_ID_MAX] or None, subsidiary=ref(subsidiary) if subsidiary else None,
        memo=doc.memo[:MEMO_MAX] or None, lineList=types("general", "JournalEntryLineList")(line=lines))


# -- reading back -----------------------------------------------------------------------------------------------------
def expense_lines(record: dict) -> list[dict]:
    return list((record.get("expenseList") or {}).get("expense") or [])


def journal_lines(record: dict) -> list[dict]:
    return list((record.get("lineList") or {}).get("line") or [])


def cost_rows(record: dict) -> list[dict]:
    """A check's expense lines or a journal entry's lines, as the fingerprint compares them."""
    return [{"account": (row.get("account") or {}).get("internalId"), "amount": row.get("amount"),
             "debit": row.get("debit"), "credit": row.get("credit"),
             "taxCode": (row.get("taxCode") or {}).get("internalId")}
            for row in expense_lines(record) + journal_lines(record)]
