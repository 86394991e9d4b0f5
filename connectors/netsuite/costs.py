"""Refunds, expenses and journals as NetSuite REST web services (record/v1) model them. Pure: no I/O.

- **Refund** of a credit note: a ``customerrefund`` (record ID ``customerRefund``) for the ``customer``, paid from
  ``account`` (the bank account of the refund: the mapped refund account), with the credit memo in its ``apply``
  sublist (``{doc: {id}, apply: true, amount}``); NetSuite's refund amount is the sum applied, and the credit memo's
  unapplied amount falls by it. Our number goes in ``memo`` (a refund's ``tranId`` is its check number). Edited with
  PATCH (``?replace=apply``); voided: deleted (record/v1 has no void). A refund of an overpayment applies the
  customer payment instead (its unapplied amount, listed among the refund's credits as for an open balance).
  Customer deposits (the ``deposit`` sublist) are not used: we send none.
- **Expense**: a ``check`` (Transactions > Bank > Write Checks: debits each expense line's account, credits the
  bank account) from the mapped paid-from account, payee ``entity`` (the connection's **Expense payee**: the
  records browser marks Payee required; our payee's name goes in the memo), ``tranId`` our number, ``currency``
  and ``exchangeRate`` ours, one ``expense`` sublist line per expense line (``account``, ``amount`` net,
  ``taxCode``, ``memo``); NetSuite computes each line's tax from the tax code. Voided: deleted (NetSuite's help:
  "Voiding of checks is not supported in REST web services").
- **Supplier bill**: a ``vendorbill`` (record ID ``vendorBill``; Transactions > Payables > Enter Bills: debits
  each expense line's account, credits accounts payable): ``entity`` the supplier as a vendor (found by
  ``companyName`` through SuiteQL, else created), ``tranId`` the supplier's bill number (the bill's "Reference
  No."; ours when the supplier gave none), ``tranDate``, ``dueDate``, ``account`` the mapped accounts-payable
  account (else NetSuite's default A/P), ``currency`` and ``exchangeRate`` ours, our number in ``memo``, and the
  same ``expense`` sublist as a check's. No payment is made: it stays Open with ``amountRemaining`` its total.
  Voided: deleted (record/v1 has no void action; a bill with a payment applied cannot be deleted).
- **Journal**: a ``journalentry`` with ``tranId``, ``tranDate``, ``memo``, ``currency``, ``subsidiary`` (OneWorld)
  and the ``line`` sublist (``account``, ``debit`` or ``credit``, ``memo``); it must balance. Voided: deleted.

Sources and guesses: docs/connectors/netsuite.md.
"""
from __future__ import annotations

from .. import rest
from ..documents import BillSnapshot, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot
from ..errors import ConfigurationError
from .translate import external_id, ref

#: NetSuite's ``tranId`` and ``memo`` lengths we keep to (**guess** for tranId: 45 as on the SOAP schema).
TRAN_ID_MAX, MEMO_MAX = 45, 999


def refund_problems(doc: RefundSnapshot) -> list[str]:
    if doc.credit_note_key or doc.payment_key:
        return []
    return ["a refund pays back a credit note or a payment's unapplied amount, and this one names neither; record "
            "it in NetSuite by hand (Transactions > Customers > Issue Customer Refund)"]


def _account(mapping: Mapping, what: str) -> dict:
    if not mapping.deposit_account:
        raise ConfigurationError(f"no account is mapped for {what}", hint="Map the bank account it is paid from.")
    return {"id": str(mapping.deposit_account)}


def refund_payload(doc: RefundSnapshot, mapping: Mapping, currency: dict) -> dict:
    """The credit memo refunded, or the customer payment whose unapplied amount (an overpayment) is refunded: both
    are lines of the refund's ``apply`` sublist (NetSuite lists a customer's credits there)."""
    source = (ref(mapping, doc.credit_note_key, "credit note") if doc.credit_note_key
              else ref(mapping, doc.payment_key, "payment"))
    return rest.clean({"externalId": external_id(doc.key), "customer": ref(mapping, doc.customer_key, "customer"),
                       "account": _account(mapping, "refunds"), "tranDate": rest.iso_date(doc.date),
                       "currency": currency, "memo": doc.number[:MEMO_MAX] or None,
                       "apply": {"items": [{"doc": source, "apply": True, "amount": doc.amount}]}})


def expense_payload(doc: ExpenseSnapshot, mapping: Mapping, payee: str, currency: dict) -> dict:
    if not payee:
        raise ConfigurationError("the NetSuite connection names no expense payee",
                                 hint="Set the connection's Expense payee: the internal id of the vendor a check "
                                      "for an expense is written to.")
    memo = ": ".join(part for part in (doc.payee, doc.memo) if part)
    return rest.clean({"externalId": external_id(doc.key), "account": _account(mapping, "expenses"),
                       "entity": {"id": str(payee)}, "tranId": doc.number[:TRAN_ID_MAX] or None,
                       "tranDate": rest.iso_date(doc.date), "currency": currency,
                       "exchangeRate": doc.exchange_rate, "memo": memo[:MEMO_MAX] or None,
                       "expense": {"items": expense_lines(doc, mapping)}})


def expense_lines(doc: ExpenseSnapshot | BillSnapshot, mapping: Mapping) -> list[dict]:
    """An expense's or a bill's ``expense`` sublist: each line on its mapped expense account, net, with its tax
    code (NetSuite computes the tax)."""
    lines = []
    for index, line in enumerate(doc.lines):
        account = mapping.line_account(index)
        if not account:
            raise ConfigurationError(f"expense line {index + 1} has no NetSuite expense account",
                                     hint="Map an expense account for its cost kind.")
        tax = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        lines.append(rest.clean({"account": {"id": str(account)}, "amount": line.net_amount,
                                 "taxCode": {"id": str(tax)} if tax else None,
                                 "memo": (line.description or line.cost_kind.replace("_", " "))[:MEMO_MAX]}))
    return lines


def bill_number(doc: BillSnapshot) -> str:
    """A vendor bill's ``tranId`` (its "Reference No."): the supplier's bill number, else ours."""
    return (doc.supplier_reference.strip() or doc.number)[:TRAN_ID_MAX]


def bill_payload(doc: BillSnapshot, mapping: Mapping, vendor: str, currency: dict) -> dict:
    notes = [f"Our reference {doc.number}", doc.memo, f"Bill: {doc.attachment}" if doc.attachment else ""]
    return rest.clean({"externalId": external_id(doc.key), "entity": {"id": str(vendor)},
                       "tranId": bill_number(doc) or None, "tranDate": rest.iso_date(doc.issue_date),
                       "dueDate": rest.iso_date(doc.due_date), "currency": currency,
                       "exchangeRate": doc.exchange_rate,
                       "account": {"id": str(mapping.deposit_account)} if mapping.deposit_account else None,
                       "memo": " — ".join(n for n in notes if n)[:MEMO_MAX] or None,
                       "expense": {"items": expense_lines(doc, mapping)}})


def journal_payload(doc: JournalSnapshot, mapping: Mapping, subsidiary: str, currency: dict) -> dict:
    lines = []
    for index, line in enumerate(doc.lines):
        account = mapping.line_accounts[index] if index < len(mapping.line_accounts) else None
        if not account:
            raise ConfigurationError(f"journal line {index + 1} (account {line.account_code}) has no NetSuite "
                                     "account", hint="Map the account code to a NetSuite account.")
        side = {"debit": line.debit} if line.debit else {"credit": line.credit}
        lines.append(rest.clean({"account": {"id": str(account)}, **side,
                                 "memo": (line.description or "")[:MEMO_MAX] or None}))
    return rest.clean({"externalId": external_id(doc.key), "tranId": doc.number[:TRAN_ID_MAX] or None,
                       "tranDate": rest.iso_date(doc.date), "memo": doc.memo[:MEMO_MAX] or None,
                       "currency": currency, "exchangeRate": doc.exchange_rate,
                       "subsidiary": {"id": subsidiary} if subsidiary else None, "line": {"items": lines}})

