"""Expenses and journals as Business Central API v2.0 models them (entity and field names from Microsoft's API v2.0
reference). Pure: no I/O. Refunds are not sent (see docs/connectors/businesscentral.md: the standard API has no
customer refund applied to a credit memo).

- **Journal**: a general journal batch of its own (``journals``: ``code``, ``displayName``) holding one
  ``journalLines`` entry per line: ``accountType`` "G/L Account", ``accountId``, ``postingDate``, ``documentNumber``
  and ``externalDocumentNumber`` (our number), ``amount`` (a debit positive, a credit negative), ``description``.
  Journal lines carry no currency in the API: a journal is sent in the company's currency only. The batch's code
  is derived from our number (``journal_code``), so the same journal sent twice meets Business Central's unique
  batch name and is found again by it. The batch is left for staff to post (``Microsoft.NAV.post`` on the
  journal): once posted, its lines leave the batch for G/L entries the API cannot change, so an edit or a void
  from here would have nothing to act on.
- **Expense**: a purchase invoice (``purchaseInvoices``) from the payee as vendor (found by name, else created),
  our number as ``vendorInvoiceNumber`` (which Business Central keeps unique per vendor when posting), the
  expense's ``currencyCode``, one G/L account line per expense line (``lineType`` Account, ``unitCost`` the net
  amount, ``taxCode`` the mapped tax group: Business Central computes the tax) and a comment line naming the
  account it was paid from. Left as a draft; the payment from that account is recorded by staff (a vendor
  payment journal line carries no currency in the API).
"""
from __future__ import annotations

import hashlib

from ledger.money import quantize
from ..documents import ExpenseSnapshot, JournalSnapshot, Mapping
from ..rest import clean, iso_date

#: Business Central's limits: batch name (Code[10]), journal line document number (Code[20]), descriptions.
CODE_MAX, DOCUMENT_NUMBER_MAX, EXTERNAL_MAX, DESCRIPTION_MAX = 10, 20, 35, 100
JOURNAL_PREFIX = "SY"
PAID_FROM_NOTE = "Paid from: "


def journal_code(number: str) -> str:
    """The batch name of our journal ``number``: ``SY`` and 8 hex digits of its hash (Code[10], upper case)."""
    return JOURNAL_PREFIX + hashlib.sha256(number.encode()).hexdigest()[:CODE_MAX - len(JOURNAL_PREFIX)].upper()


def journal_header(doc: JournalSnapshot) -> dict:
    """The batch: its name from our number, our number as its description (the memo goes on the lines)."""
    return {"code": journal_code(doc.number), "displayName": doc.number[:DESCRIPTION_MAX]}


def journal_lines(doc: JournalSnapshot, mapping: Mapping) -> list[dict]:
    return [clean({"lineNumber": 10000 * (i + 1), "accountType": "G/L Account", "accountId": mapping.line_accounts[i],
                   "postingDate": iso_date(doc.date), "documentNumber": doc.number[:DOCUMENT_NUMBER_MAX],
                   "externalDocumentNumber": doc.number[:EXTERNAL_MAX],
                   "amount": quantize(line.debit) - quantize(line.credit),
                   "description": (line.description or doc.memo or f"Account {line.account_code}")[:DESCRIPTION_MAX]})
            for i, line in enumerate(doc.lines)]


def journal_problems(doc: JournalSnapshot, home_currency: str) -> list[str]:
    if not home_currency or doc.currency in ("", home_currency):
        return []
    return [f"Business Central's journal lines carry no currency in its API: a journal is sent in {home_currency} "
            f"only, and this one is in {doc.currency}; enter it in Business Central by hand"]


def expense_payload(doc: ExpenseSnapshot, mapping: Mapping, vendor_id: str, home_currency: str,
                    paid_from: str) -> dict:
    """A draft purchase invoice: header and lines inline (deep insert)."""
    lines = [clean({"sequence": 10000 * (i + 1), "lineType": "Account", "accountId": mapping.line_accounts[i],
                    "description": (line.description or line.cost_kind.replace("_", " ").capitalize())
                    [:DESCRIPTION_MAX], "quantity": 1, "unitCost": quantize(line.net_amount),
                    "taxCode": mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None})
             for i, line in enumerate(doc.lines)]
    if paid_from:
        lines.append({"sequence": 10000 * (len(lines) + 1), "lineType": "Comment",
                      "description": f"{PAID_FROM_NOTE}{paid_from} ({doc.paid_from})"[:DESCRIPTION_MAX]})
    return {**expense_header(doc, vendor_id, home_currency), "purchaseInvoiceLines": lines}


def expense_header(doc: ExpenseSnapshot, vendor_id: str, home_currency: str) -> dict:
    """``currencyCode`` empty is the company's own currency (LCY), as on customers."""
    body = clean({"vendorId": vendor_id, "vendorInvoiceNumber": doc.number[:EXTERNAL_MAX],
                  "invoiceDate": iso_date(doc.date), "postingDate": iso_date(doc.date)})
    body["currencyCode"] = "" if doc.currency in ("", home_currency) else doc.currency
    return body


def expense_problems(doc: ExpenseSnapshot) -> list[str]:
    if doc.payee.strip():
        return []
    return ["Business Central records an expense as a purchase invoice from a vendor: give the expense a payee"]
