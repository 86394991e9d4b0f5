"""Refunds, expenses and journals as SAP S/4HANA Cloud journal entries (FI), in the neutral body ``translate``
turns into the SOAP ``JournalEntry`` element and reads back: pure functions.

- **Journal**: natively a journal entry, document type ``SA`` (G/L account document): one G/L item per line, debit
  ``S`` or credit ``H``, its description as the item text; it must balance.
- **Expense**: a journal entry of type ``SA`` debiting each line's mapped expense account with its net amount (and
  its tax code, where one is mapped: the tax is a ``ProductTaxItem`` computed from the code's rate, as on invoices)
  and crediting the mapped paid-from (bank or clearing) account with the gross total. Our payee and memo go into
  the item text of the credit.
- **Refund** of a credit note: a journal entry of type ``DA`` (customer document) debiting the customer (an AR
  item whose ``InvoiceReference`` names the credit memo's journal entry, so what it takes of the credit is seen)
  and crediting the mapped refund (bank) account. A refund of an overpayment is not sent (preflight: record it by
  hand), nor one naming no credit note.

Voided: counter-posted like invoices (the connector's ``reverse``). Our number goes into ``DocumentReferenceID``.
Which document types we rely on and what is guessed: docs/connectors/s4hana.md.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from .. import rest
from ..documents import ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot
from ..errors import ConfigurationError
from .client import odata_date

ZERO = Decimal("0.00")
#: SAP's standard document types: DA customer document (customer and G/L accounts), SA G/L account document.
REFUND_TYPE, GL_TYPE = "DA", "SA"
TEXT_MAX = 50


def refund_problems(doc: RefundSnapshot) -> list[str]:
    if doc.credit_note_key:
        return []
    return ["SAP S/4HANA takes refunds of credit notes only from us: this refund (of an overpayment, or of nothing) "
            "is entered by hand in SAP S/4HANA (Manage Journal Entries, or a manual outgoing payment)"]


def _money(value: Decimal) -> str:
    return format(rest.money(value) or ZERO, "f")


def _bank(mapping: Mapping, what: str) -> str:
    if not mapping.deposit_account:
        raise ConfigurationError(f"no account is mapped for {what}",
                                 hint="Map the bank (or clearing) G/L account it is paid from.")
    return str(mapping.deposit_account)


def _head(doc, company: str, doc_type: str, items: list[dict], text: str = "") -> dict:
    day = doc.date or dt.date.today()  # a posting and document date are required
    return rest.clean({"CompanyCode": company, "AccountingDocumentType": doc_type,
                       "DocumentReferenceID": doc.number[:16], "DocumentHeaderText": text[:25],
                       "PostingDate": odata_date(day), "DocumentDate": odata_date(day),
                       "TransactionCurrency": doc.currency, "to_Item": {"results": items}})


def refund(doc: RefundSnapshot, mapping: Mapping, company: str, credit_note: str) -> dict:
    """``credit_note``: the credit memo's journal entry id (``<document>-<year>``), named by the customer item."""
    if doc.credit_note_key not in mapping.refs or doc.customer_key not in mapping.refs:
        raise ConfigurationError(f"refund {doc.number}: its customer or credit note has no SAP S/4HANA number yet",
                                 hint="Sync them first; the pipeline normally does this by itself.")
    document, _, year = credit_note.rpartition("-")
    items = [rest.clean({"Customer": str(mapping.refs[doc.customer_key]), "DebitCreditCode": "S",
                         "AmountInTransactionCurrency": _money(doc.amount), "InvoiceReference": document,
                         "InvoiceReferenceFiscalYear": year, "DocumentItemText": f"Refund {doc.number}"[:TEXT_MAX]}),
             {"GLAccount": _bank(mapping, "refunds"), "DebitCreditCode": "H",
              "AmountInTransactionCurrency": _money(doc.amount)}]
    return _head(doc, company, REFUND_TYPE, items, doc.memo)


def expense(doc: ExpenseSnapshot, mapping: Mapping, company: str, rates: dict[str, Decimal]) -> dict:
    items, gross = [], ZERO
    for index, line in enumerate(doc.lines):
        account = mapping.line_account(index)
        if not account:
            raise ConfigurationError(f"expense line {index + 1} has no SAP S/4HANA expense account",
                                     hint="Map an expense G/L account for its cost kind.")
        tax = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        items.append(rest.clean({"GLAccount": str(account), "DebitCreditCode": "S",
                                 "AmountInTransactionCurrency": _money(line.net_amount), "TaxCode": tax,
                                 "DocumentItemText": (line.description or line.cost_kind.replace("_", " "))[
                                     :TEXT_MAX]}))
        rate = rates.get(str(tax), ZERO) if tax else ZERO
        gross += line.net_amount + (line.net_amount * rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    text = ": ".join(part for part in (doc.payee, doc.memo) if part)
    items.append(rest.clean({"GLAccount": _bank(mapping, "expenses"), "DebitCreditCode": "H",
                             "AmountInTransactionCurrency": _money(gross), "DocumentItemText": text[:TEXT_MAX]}))
    return _head(doc, company, GL_TYPE, items, doc.payee or "")


def journal(doc: JournalSnapshot, mapping: Mapping, company: str) -> dict:
    items = []
    for index, line in enumerate(doc.lines):
        account = mapping.line_accounts[index] if index < len(mapping.line_accounts) else None
        if not account:
            raise ConfigurationError(f"journal line {index + 1} (account {line.account_code}) has no SAP S/4HANA "
                                     "G/L account", hint="Map the account code to a G/L account.")
        side, value = ("S", line.debit) if line.debit else ("H", line.credit)
        items.append(rest.clean({"GLAccount": str(account), "DebitCreditCode": side,
                                 "AmountInTransactionCurrency": _money(value),
                                 "DocumentItemText": (line.description or "")[:TEXT_MAX] or None}))
    return _head(doc, company, GL_TYPE, items, doc.memo or "")
