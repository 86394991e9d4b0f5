"""Snapshots to Intacct function bodies and Intacct objects back to our results: pure functions.

Writes use the legacy AR functions the Intacct SDKs write (``create_invoice``, ``update_invoice``,
``reverse_invoice``, ``create_arpayment``) and the 3.0 generic ``create`` / ``update`` for ``CUSTOMER``; reads
use ``read`` / ``readByQuery``, which answer objects with upper-case field names (``RECORDNO``, ``RECORDID``,
``TOTALENTERED``, ``TOTALDUE``, ``STATE``, ``WHENMODIFIED``). Amounts go out as ``Decimal`` text and come back as
``Decimal``.

An AR invoice line is an amount on a GL account: Intacct keeps no quantity or unit price on it. The quantity is
written at the end of the line's memo (``Grooming [qty 2]``) and read back from there, so a line whose amount a
person changes in Intacct comes back as the same quantity at a new unit price; a line without it is quantity 1.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import ROUND_HALF_UP, Decimal

from .. import rest
from ..base import AccountKind, RemoteCustomer, RemoteDocument, RemoteItem, RemotePayment
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, ItemSnapshot, Mapping,
                         PaymentSnapshot, RemoteResult)
from ..errors import ConfigurationError
from .wire import as_list, split_date

CENT = Decimal("0.01")
QUANTITY = re.compile(r"\s*\[qty (-?[0-9]+(?:\.[0-9]+)?)\]$")
TIME = "%m/%d/%Y %H:%M:%S"
VOIDED = {"ARINVOICE": "Reversed", "ARPYMT": "Voided", "ARADJUSTMENT": "Reversed", "ARREFUND": "Voided",
          "APBILL": "Reversed", "APPYMT": "Voided", "GLBATCH": "Reversed"}
#: Intacct's payment methods for ours (``create_arpayment`` ``paymentmethod``).
METHODS = {"cash": "Cash", "check": "Printed Check", "cheque": "Printed Check", "card": "Credit Card",
           "transfer": "EFT", "bank": "EFT"}
LINE_DIMENSIONS = (("location", "locationid"), ("department", "departmentid"))


def account_kind(account: dict) -> str:
    """A GL account's kind by its type, normal balance and category (Intacct has no single "kind" field)."""
    kind, balance = str(account.get("ACCOUNTTYPE") or ""), str(account.get("NORMALBALANCE") or "")
    category, title = str(account.get("CATEGORY") or "").lower(), str(account.get("TITLE") or "").lower()
    if kind == "incomestatement":
        return AccountKind.INCOME if balance == "credit" else AccountKind.EXPENSE
    if "cash" in category:
        return AccountKind.DEPOSIT
    if "receivable" in category:
        return AccountKind.RECEIVABLE
    if balance == "credit" and "tax" in title:
        return AccountKind.TAX_PAYABLE
    return AccountKind.OTHER


def ref_id(mapping: Mapping, key: str | None, what: str) -> str:
    if not key or key not in mapping.refs:
        raise ConfigurationError(f"the {what} of this document has no Sage Intacct id yet ({key})",
                                 hint="Sync it first; the pipeline normally does this by itself.")
    return str(mapping.refs[key])


def quote(value: str) -> str:
    """A text value in a ``readByQuery`` query: single-quoted, a quote inside escaped with a backslash (as
    Intacct's query syntax asks: ``'Jane\\'s Deli'``)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def intacct_time(when: dt.datetime) -> str:
    """A datetime for a query on ``WHENMODIFIED``: UTC, to the second."""
    return when.astimezone(dt.UTC).strftime(TIME)


def parse_time(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, TIME).replace(tzinfo=dt.UTC)
    except (TypeError, ValueError):
        return None


def parse_date(value: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(value, "%m/%d/%Y").date()
    except (TypeError, ValueError):
        return None


def version(record: dict, content: str) -> str:
    """``WHENMODIFIED`` is to the second: the content hash beside it tells two writes within one second apart."""
    return f"{record.get('WHENMODIFIED') or ''}/{content[:12]}"


# -- customers -----------------------------------------------------------------------------------------------------
def record_id(doc: CustomerSnapshot | ItemSnapshot) -> str:
    """Our customer's ``CUSTOMERID`` or item's ``ITEMID``: derived from its key, so the same record always gets the
    same id (a second create of it is refused as a duplicate, never doubled). Intacct allows 20 characters."""
    prefix = "C" if isinstance(doc, CustomerSnapshot) else "I"
    return prefix + hashlib.sha256(doc.key.encode()).hexdigest()[:15].upper()


def customer_body(doc: CustomerSnapshot, remote_id: str) -> dict:
    return {"CUSTOMERID": remote_id, "NAME": doc.name,
            "DISPLAYCONTACT": {"PRINTAS": doc.name, "EMAIL1": doc.email or ""}}


def customer_result(record: dict) -> RemoteResult:
    content = rest.content_hash("customer", record, ("NAME", "DISPLAYCONTACT.EMAIL1"))
    return RemoteResult(str(record["CUSTOMERID"]), version(record, content), str(record.get("NAME") or ""),
                        status="active" if record.get("STATUS") == "active" else "inactive", raw=record,
                        fingerprint=content)


def remote_customer(record: dict) -> RemoteCustomer:
    """A ``CUSTOMER``: ``NAME``, its display contact's ``EMAIL1``, ``TAXID``, ``CURRENCY``, ``STATUS``."""
    contact = record.get("DISPLAYCONTACT") if isinstance(record.get("DISPLAYCONTACT"), dict) else {}
    email = contact.get("EMAIL1") or record.get("DISPLAYCONTACT.EMAIL1") or ""
    return RemoteCustomer(str(record["CUSTOMERID"]), str(record.get("NAME") or ""), email=str(email),
                          tax_number=str(record.get("TAXID") or ""), currency=str(record.get("CURRENCY") or ""),
                          version=customer_result(record).version, active=_active(record))


def _active(record: dict) -> bool | None:
    return {"active": True, "inactive": False}.get(str(record.get("STATUS") or ""))


# -- items -----------------------------------------------------------------------------------------------------------
def item_body(doc: ItemSnapshot, remote_id: str) -> dict:
    """An ``ITEM`` (non-inventory: we keep no stock); AR invoice lines carry no item, so it is for staff only."""
    return {"ITEMID": remote_id, "NAME": doc.name, "ITEMTYPE": "Non-Inventory", "BASEPRICE": doc.unit_price,
            "STATUS": "active" if doc.active else "inactive"}


def item_result(record: dict) -> RemoteResult:
    content = rest.content_hash("item", record, ("NAME", "ITEMTYPE", "BASEPRICE"))
    return RemoteResult(str(record["ITEMID"]), version(record, content), str(record.get("NAME") or ""),
                        status="active" if record.get("STATUS") == "active" else "inactive", raw=record,
                        fingerprint=content)


def remote_item(record: dict) -> RemoteItem:
    """An ``ITEM``: ``NAME``, ``BASEPRICE``, ``ITEMTYPE``, ``STATUS``. No code: the ``ITEMID`` of ours is the
    connector's, not our SKU."""
    price = record.get("BASEPRICE")
    return RemoteItem(str(record["ITEMID"]), str(record.get("NAME") or ""),
                      unit_price=rest.money(price) if price not in (None, "") else None,
                      kind="product" if record.get("ITEMTYPE") == "Inventory" else "service",
                      version=item_result(record).version, active=_active(record))


# -- invoices --------------------------------------------------------------------------------------------------------
def line_items(doc: InvoiceSnapshot | CreditNoteSnapshot, mapping: Mapping, sign: int = 1) -> dict:
    """``invoiceitems`` / ``updateinvoiceitems``: one ``lineitem`` per line, on the mapped GL account; a discount
    line (and a kept line of a credit note) is a negative amount, its tax too; tax as a ``taxentry`` of the mapped
    tax detail with our tax amount. ``sign`` -1 writes a credit memo's lines (negative in Intacct)."""
    items = []
    for index, line in enumerate(doc.lines):
        account = mapping.line_account(index)
        if not account:
            raise ConfigurationError(f"line {index + 1} of {doc.number} has no income account mapped",
                                     hint="Map an income (GL) account in the mapping editor.")
        subtracts = -1 if line.kind == "discount" or line.kept else 1  # its net and tax come off the total
        amount = sign * subtracts * line.net_amount
        memo = (line.description or line.item_name or "-").strip()
        if line.kind != "discount":
            memo = f"{memo} [qty {format(line.quantity.normalize(), 'f')}]"
        item = {"glaccountno": account, "amount": amount, "memo": memo}
        for kind, tag in LINE_DIMENSIONS:
            item[tag] = mapping.line_dimension(kind, index) or None
        tax = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        if tax:
            item["taxentries"] = {"taxentry": {"detailid": tax, "trx_tax": sign * subtracts * line.tax_amount}}
        items.append(item)
    return {"lineitem": items}


def invoice_body(doc: InvoiceSnapshot, mapping: Mapping) -> dict:
    return {"customerid": ref_id(mapping, doc.customer_key, "customer"), "datecreated": split_date(doc.issue_date),
            "datedue": split_date(getattr(doc, "due_date", None) or doc.issue_date), "invoiceno": doc.number,
            "description": doc.memo or None, "currency": doc.currency or None,
            "invoiceitems": line_items(doc, mapping)}


def invoice_update(doc: InvoiceSnapshot, mapping: Mapping) -> dict:
    body = invoice_body(doc, mapping)
    body.pop("invoiceno"), body.pop("currency")
    body["updateinvoiceitems"] = body.pop("invoiceitems")
    return body


def lines_of(record: dict) -> list[dict]:
    """The owned lines of an AR invoice, an AR adjustment or an AP bill."""
    items = record.get("ARINVOICEITEMS") or record.get("ARADJUSTMENTITEMS") or record.get("APBILLITEMS")
    if not isinstance(items, dict):
        return []
    return as_list(items.get("arinvoiceitem") or items.get("aradjustmentitem") or items.get("apbillitem"))


def invoice_content(record: dict) -> str:
    return rest.content_hash("invoice", {**record, "lines": lines_of(record)}, ("CUSTOMERID", "RECORDID", "CURRENCY"),
                             ("ACCOUNTNO", "AMOUNT", "MEMO", "TAXDETAILID", "TRX_TAX", "LOCATIONID", "DEPARTMENTID"),
                             lines="lines")


def invoice_result(record: dict, adopted: bool = False) -> RemoteResult:
    """A reversed invoice keeps its amounts in Intacct; it is reported voided with nothing due."""
    content = invoice_content(record)
    voided = record.get("STATE") == VOIDED["ARINVOICE"]
    total = Decimal("0.00") if voided else rest.money(record.get("TOTALENTERED"))
    balance = Decimal("0.00") if voided else rest.money(record.get("TOTALDUE"))
    return RemoteResult(str(record["RECORDNO"]), version(record, content), str(record.get("RECORDID") or ""), total,
                        balance, "voided" if voided else "active", adopted, record, content)


def sales_lines(record: dict) -> tuple[tuple[Decimal, Decimal], ...]:
    """(quantity, unit price) of each line that is not a discount (a negative amount)."""
    found = []
    sign = -1 if "ARADJUSTMENTITEMS" in record else 1  # a credit memo's amounts are negative
    for line in lines_of(record):
        amount = sign * Decimal(str(line.get("AMOUNT") or "0"))
        if amount < 0:
            continue
        match = QUANTITY.search(str(line.get("MEMO") or ""))
        quantity = Decimal(match.group(1)) if match else Decimal("1")
        price = amount if quantity == 1 else (amount / quantity).quantize(CENT, ROUND_HALF_UP)
        found.append((quantity, price))
    return tuple(found)


def remote_document(record: dict, entity: str = "invoice") -> RemoteDocument:
    result = credit_result(record) if entity == "credit_note" else invoice_result(record)
    return RemoteDocument(result.remote_id, result.version, result.number, result.status, result.total,
                          result.balance, sales_lines(record), issue_date=parse_date(record.get("WHENCREATED")),
                          due_date=parse_date(record.get("WHENDUE")), currency=str(record.get("CURRENCY") or ""),
                          memo=str(record.get("DESCRIPTION") or ""))


# -- credit memos (AR adjustments) ----------------------------------------------------------------------------------
def credit_body(doc: CreditNoteSnapshot, mapping: Mapping) -> dict:
    """``create_aradjustment``: a credit memo is an adjustment whose line amounts are negative."""
    return {"customerid": ref_id(mapping, doc.customer_key, "customer"), "datecreated": split_date(doc.issue_date),
            "adjustmentno": doc.number, "description": doc.memo or None, "currency": doc.currency or None,
            "aradjustmentitems": line_items(doc, mapping, sign=-1)}


def credit_result(record: dict, adopted: bool = False) -> RemoteResult:
    """Amounts as we hold them: positive (Intacct keeps a credit memo's negative)."""
    content = rest.content_hash("credit", {**record, "lines": lines_of(record)}, ("CUSTOMERID", "RECORDID"),
                                ("ACCOUNTNO", "AMOUNT", "MEMO", "TAXDETAILID", "TRX_TAX"), lines="lines")
    total, balance = -(rest.money(record.get("TOTALENTERED")) or 0), -(rest.money(record.get("TOTALDUE")) or 0)
    return RemoteResult(str(record["RECORDNO"]), version(record, content), str(record.get("RECORDID") or ""), total,
                        balance, "active", adopted, record, content)


def same_credit_lines(record: dict, body: dict) -> bool:
    """Whether a credit memo already has the lines ``credit_body`` would write (Intacct cannot edit them)."""
    held = [(str(line.get("ACCOUNTNO")), rest.money(line.get("AMOUNT")), str(line.get("MEMO") or ""))
            for line in lines_of(record)]
    sent = [(str(item["glaccountno"]), rest.money(item["amount"]), str(item["memo"]))
            for item in body["aradjustmentitems"]["lineitem"]]
    return held == sent


def credit_applications(doc: CreditNoteSnapshot, mapping: Mapping, credit_key: str) -> dict | None:
    """The ``ARPYMT`` that applies a credit memo to invoices (no cash: ``ADJUSTMENTKEY`` details only, so no
    account is needed; the mapped deposit account is named where there is one)."""
    details = [{"RECORDKEY": ref_id(mapping, a.invoice_key, "invoice"), "ADJUSTMENTKEY": credit_key,
                "TRX_ADJUSTMENTAMOUNT": a.amount} for a in doc.allocations if a.amount > 0]
    if not details:
        return None
    return {"ARPYMT": {"UNDEPOSITEDACCOUNTNO": mapping.deposit_account or None, "PAYMENTMETHOD": "Cash",
                       "CUSTOMERID": ref_id(mapping, doc.customer_key, "customer"), "DOCNUMBER": doc.number,
                       "RECEIPTDATE": (doc.issue_date or dt.date.today()).strftime("%m/%d/%Y"),
                       "CURRENCY": doc.currency or "USD", "ARPYMTDETAILS": {"ARPYMTDETAIL": details}}}


# -- payments --------------------------------------------------------------------------------------------------------
def deposit(mapping: Mapping) -> str:
    if not mapping.deposit_account:
        raise ConfigurationError("no deposit account is mapped for payments",
                                 hint="Map a deposit account (an Intacct undeposited funds or cash GL account).")
    return mapping.deposit_account


def arpymt_body(doc: PaymentSnapshot, mapping: Mapping) -> dict | None:
    """``create`` ``ARPYMT``: the payment with one detail per invoice it pays; None when it is applied to none
    (the object needs at least one detail: such a payment goes as a legacy advance, ``payment_body``)."""
    details = [{"RECORDKEY": ref_id(mapping, a.invoice_key, "invoice"), "TRX_PAYMENTAMOUNT": a.amount}
               for a in doc.allocations if a.amount > 0]
    if not details:
        return None
    return {"ARPYMT": {"UNDEPOSITEDACCOUNTNO": deposit(mapping), "PAYMENTMETHOD": METHODS.get(doc.method, "Cash"),
                       "CUSTOMERID": ref_id(mapping, doc.customer_key, "customer"), "DOCNUMBER": doc.number,
                       "RECEIPTDATE": (doc.date or dt.date.today()).strftime("%m/%d/%Y"),
                       "CURRENCY": doc.currency or "USD", "ARPYMTDETAILS": {"ARPYMTDETAIL": details}}}


def payment_body(doc: PaymentSnapshot, mapping: Mapping) -> dict:
    """``create_arpayment`` for a payment applied to no invoice (Intacct makes it an advance)."""
    deposit(mapping)
    return {"customerid": ref_id(mapping, doc.customer_key, "customer"), "paymentamount": doc.amount,
            "undepfundsacct": mapping.deposit_account, "refid": doc.number,
            "datereceived": split_date(doc.date or dt.date.today()),
            "paymentmethod": METHODS.get(doc.method, "Cash"),
            "arpaymentitem": [{"invoicekey": ref_id(mapping, a.invoice_key, "invoice"), "amount": a.amount}
                              for a in doc.allocations if a.amount > 0] or None}


def details(record: dict) -> list[dict]:
    found = record.get("ARPYMTDETAILS")
    return as_list(found.get("arpymtdetail") if isinstance(found, dict) else None)


def applied(record: dict) -> list[tuple[str, Decimal]]:
    """(invoice, cash amount) of a payment's details; credit memos applied with it are not cash."""
    return [(str(d.get("RECORDKEY")), rest.money(d.get("TRX_PAYMENTAMOUNT"))) for d in details(record)
            if d.get("TRX_PAYMENTAMOUNT") not in (None, "")]


def payment_result(record: dict, adopted: bool = False) -> RemoteResult:
    content = rest.content_hash("payment", record, ("CUSTOMERID", "TOTALENTERED", "RECEIPTDATE", "DOCNUMBER"),
                                extra=[f"{k}:{v}" for k, v in sorted(applied(record))])
    voided = record.get("STATE") == VOIDED["ARPYMT"]
    total = Decimal("0.00") if voided else rest.money(record.get("TOTALENTERED"))
    return RemoteResult(str(record["RECORDNO"]), version(record, content), str(record.get("DOCNUMBER") or ""), total,
                        None, "voided" if voided else "active", adopted, record, content)


def remote_payment(record: dict) -> RemotePayment:
    result = payment_result(record)
    return RemotePayment(result.remote_id, result.version, str(record.get("CUSTOMERID") or ""),
                         parse_date(record.get("RECEIPTDATE")) or dt.date.today(),
                         rest.money(record.get("TOTALENTERED")), str(record.get("CURRENCY") or ""),
                         tuple(applied(record)), str(record.get("DOCNUMBER") or ""),
                         deleted=record.get("STATE") == VOIDED["ARPYMT"])
