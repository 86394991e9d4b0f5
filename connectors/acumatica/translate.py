"""Snapshots to Acumatica records and Acumatica records back to our results: pure functions, on plain (unwrapped)
records; the client wraps and unwraps every value (``wire``).

Customers and items are keyed by an id Acumatica does not make up: ``CustomerID`` / ``InventoryID`` derived
from our own key, so a PUT sent twice updates the one record (Acumatica's upsert by key fields). Invoices, credit
memos and payments are numbered by Acumatica (``ReferenceNbr``); our number travels in ``CustomerOrder`` (the
"Customer Order Nbr." of an AR invoice or memo) and in a payment's ``PaymentRef``. A document's remote id is its
key fields, ``Type/ReferenceNbr`` ("Invoice/AR000012"), which is also how a payment names the invoices it is
applied to. Amounts go out and come back as ``Decimal``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from .. import rest
from ..base import AccountKind, RemoteCustomer, RemoteDocument, RemoteItem, RemotePayment
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, Entity, InvoiceSnapshot, ItemSnapshot, Mapping,
                         PaymentSnapshot, RemoteResult)
from ..errors import ConfigurationError

DOC_TYPES = {Entity.INVOICE: "Invoice", Entity.CREDIT_NOTE: "Credit Memo"}
DRAFT = frozenset({"On Hold", "Balanced"})
POSTED = frozenset({"Open", "Closed", "Unposted", "Posted"})  # the last two: GL batches
CANCELLED = frozenset({"Voided", "Canceled"})
KINDS = {("Income", ""): AccountKind.INCOME, ("Expense", ""): AccountKind.EXPENSE,
         ("Asset", "CASH"): AccountKind.DEPOSIT, ("Asset", "AR"): AccountKind.RECEIVABLE,
         ("Liability", "TAX"): AccountKind.TAX_PAYABLE}


def account_kind(account: dict) -> str:
    kind, cls = str(account.get("Type") or ""), str(account.get("AccountClass") or "").upper()
    return KINDS.get((kind, cls)) or KINDS.get((kind, ""), AccountKind.OTHER)


def key_id(prefix: str, key: str) -> str:
    """A ten-character upper-case id for ``CustomerID`` / ``InventoryID`` from our key: the same key always
    gives the same id, so a repeated PUT is an update, never a second record."""
    return prefix + hashlib.sha256(key.encode()).hexdigest()[:9].upper()


def ref(mapping: Mapping, key: str | None, what: str) -> str:
    if not key or key not in mapping.refs:
        raise ConfigurationError(f"the {what} of this document has no Acumatica id yet ({key})",
                                 hint="Sync it first; the pipeline normally does this by itself.")
    return str(mapping.refs[key])


def document_id(record: dict) -> str:
    """A document's remote id: its key fields ``Type/ReferenceNbr``."""
    return f"{record['Type']}/{record['ReferenceNbr']}"


def document_keys(remote_id: str) -> dict:
    """The key fields a remote id stands for (an action's ``entity``)."""
    kind, _, number = remote_id.partition("/")
    return {"Type": kind, "ReferenceNbr": number}


def version(record: dict, content: str) -> str:
    """Acumatica's contract-based API has no version counter: ``LastModifiedDateTime`` and the content hash
    beside it tell two writes apart."""
    return f"{record.get('LastModifiedDateTime') or ''}/{content[:12]}"


# -- customers and items -------------------------------------------------------------------------------------
def customer_record(doc: CustomerSnapshot) -> dict:
    return {"CustomerID": key_id("C", doc.key), "CustomerName": doc.name, "Email": doc.email or None,
            "CurrencyID": doc.currency or None, "Status": "Active" if doc.active else "Inactive"}


def item_record(doc: ItemSnapshot) -> dict:
    return {"InventoryID": key_id("I", doc.key), "Description": doc.name, "DefaultPrice": doc.unit_price,
            "ItemType": "Service" if doc.kind == "service" else "Non-Stock Item",
            "ItemStatus": "Active" if doc.active else "Inactive"}


def customer_result(record: dict) -> RemoteResult:
    content = rest.content_hash("customer", record, ("CustomerName", "Email"))
    return RemoteResult(str(record["CustomerID"]), version(record, content), str(record.get("CustomerName") or ""),
                        status="active" if record.get("Status", "Active") == "Active" else "inactive", raw=record,
                        fingerprint=content)


def item_result(record: dict) -> RemoteResult:
    content = rest.content_hash("item", record, ("Description", "DefaultPrice", "ItemType"))
    return RemoteResult(str(record["InventoryID"]), version(record, content), str(record.get("Description") or ""),
                        status="active" if record.get("ItemStatus", "Active") == "Active" else "inactive",
                        raw=record, fingerprint=content)


def remote_customer(record: dict) -> RemoteCustomer:
    """A customer: name, e-mail (its own, else its main contact's), currency, ``Status`` Active or not."""
    email = record.get("Email") or (record.get("MainContact") or {}).get("Email") or ""
    return RemoteCustomer(str(record["CustomerID"]), str(record.get("CustomerName") or ""), email=str(email),
                          currency=str(record.get("CurrencyID") or ""), version=customer_result(record).version,
                          active=record["Status"] == "Active" if record.get("Status") else None)


def remote_item(record: dict) -> RemoteItem:
    """A non-stock item: its description is its name (as we send it), ``DefaultPrice``, ``ItemStatus``. No code:
    the ``InventoryID`` of ours is made from our key (``key_id``), not our SKU, so it is no SKU to match or apply."""
    price = record.get("DefaultPrice")
    return RemoteItem(str(record["InventoryID"]), str(record.get("Description") or ""),
                      unit_price=rest.money(price) if price is not None else None,
                      kind="service" if record.get("ItemType") == "Service" else "product",
                      version=item_result(record).version,
                      active=record["ItemStatus"] == "Active" if record.get("ItemStatus") else None)


# -- invoices and credit memos -------------------------------------------------------------------------------
def detail_lines(doc: InvoiceSnapshot | CreditNoteSnapshot, mapping: Mapping) -> list[dict]:
    """One detail line per line: the mapped income account, the tax category, our item where it is known; a
    discount line, and a credit memo's kept line (restocking fee), as a negative unit price."""
    lines = []
    for index, line in enumerate(doc.lines):
        account = mapping.line_account(index)
        if not account:
            raise ConfigurationError(f"line {index + 1} of {doc.number} has no income account mapped",
                                     hint="Map an income account in the mapping editor.")
        # a discount nets the document; on a credit memo, a line the business keeps (a restocking fee) nets the
        # credit: both are negative lines
        kept = isinstance(doc, CreditNoteSnapshot) and line.kept
        price = -line.unit_price if line.kind == "discount" or kept else line.unit_price
        detail = {"TransactionDescr": line.description or line.item_name or "-", "Quantity": line.quantity,
                  "UnitPrice": price, "Account": str(account),
                  "TaxCategory": mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None}
        if line.item_key and line.item_key in mapping.refs:
            detail["InventoryID"] = str(mapping.refs[line.item_key])
        lines.append(detail)
    return lines


def document_record(entity: str, doc: InvoiceSnapshot | CreditNoteSnapshot, mapping: Mapping) -> dict:
    due = getattr(doc, "due_date", None)
    return {"Type": DOC_TYPES[entity], "CustomerID": ref(mapping, doc.customer_key, "customer"),
            "CustomerOrder": doc.number, "CurrencyID": doc.currency, "Date": rest.iso_date(doc.issue_date),
            "DueDate": due.isoformat() if due else None, "Description": doc.memo or doc.number, "Hold": False,
            "Details": detail_lines(doc, mapping)}


def document_content(record: dict) -> str:
    """What a person could edit on an invoice or memo: customer, number, currency, and per line its text,
    quantity, unit price, account and tax category. The same from what we wrote and from what Acumatica answers."""
    return rest.content_hash("document", record, ("CustomerID", "CustomerOrder", "CurrencyID"),
                             ("TransactionDescr", "Quantity", "UnitPrice", "Account", "TaxCategory"), lines="Details")


def same_lines(written: dict, read: dict) -> bool:
    """Whether a document as read already holds what ``written`` would write: customer, number, currency, and
    each line's text, quantity, unit price, account (and tax category, where we name one)."""
    fields = ("CustomerID", "CustomerOrder", "CurrencyID")
    if any(rest.plain(written.get(f)) != rest.plain(read.get(f)) for f in fields):
        return False
    ours, theirs = written.get("Details") or [], read.get("Details") or []
    return len(ours) == len(theirs) and all(
        rest.plain(mine.get(f)) == rest.plain(other.get(f)) for mine, other in zip(ours, theirs, strict=True)
        for f in ("TransactionDescr", "Quantity", "UnitPrice", "Account", "TaxCategory")
        if f != "TaxCategory" or mine.get(f) is not None)


def applied(record: dict) -> dict[str, Decimal]:
    """What a payment or credit memo application record applies, by document (``Type/ReferenceNbr``)."""
    found: dict[str, Decimal] = {}
    for item in record.get("DocumentsToApply") or []:
        key = f"{item['DocType']}/{item['ReferenceNbr']}"
        found[key] = found.get(key, Decimal("0.00")) + rest.money(item.get("AmountPaid"))
    return found


def wanted(doc: PaymentSnapshot | CreditNoteSnapshot, mapping: Mapping) -> dict[str, Decimal]:
    """What a payment or credit note should apply, by document (``Type/ReferenceNbr``)."""
    found: dict[str, Decimal] = {}
    for allocation in doc.allocations:
        key = ref(mapping, allocation.invoice_key, "invoice")
        found[key] = found.get(key, Decimal("0.00")) + allocation.amount
    return found


def same_payment(written: dict, read: dict) -> bool:
    fields = ("CustomerID", "PaymentAmount", "PaymentRef", "CashAccount")
    return all(rest.plain(written.get(f)) == rest.plain(read.get(f)) for f in fields) and \
        str(written.get("ApplicationDate") or "")[:10] == str(read.get("ApplicationDate") or "")[:10]


def document_result(record: dict, adopted: bool = False) -> RemoteResult:
    """A voided or cancelled document keeps its amounts in Acumatica; it is reported voided with nothing due."""
    content = document_content(record)
    gone = record.get("Status") in CANCELLED
    total = Decimal("0.00") if gone else rest.money(record.get("Amount"))
    balance = Decimal("0.00") if gone else rest.money(record.get("Balance"))
    return RemoteResult(document_id(record), version(record, content), str(record.get("CustomerOrder") or ""), total,
                        balance, "voided" if gone else "active", adopted, record, content)


def remote_document(record: dict) -> RemoteDocument:
    """Status, amounts and (quantity, unit price) of each sales line: a line with a negative price is our discount
    line (``detail_lines``), not one of the document's lines."""
    result = document_result(record)
    sales = tuple((Decimal(str(line["Quantity"])), Decimal(str(line["UnitPrice"])))
                  for line in record.get("Details") or [] if Decimal(str(line["UnitPrice"])) >= 0)
    return RemoteDocument(result.remote_id, result.version, result.number, result.status, result.total,
                          result.balance, sales)


# -- payments --------------------------------------------------------------------------------------------------
def payment_record(doc: PaymentSnapshot, mapping: Mapping, method: str) -> dict:
    if not mapping.deposit_account:
        raise ConfigurationError("no deposit account is mapped for payments",
                                 hint="Map a deposit account (an Acumatica cash account).")
    return {"Type": "Payment", "CustomerID": ref(mapping, doc.customer_key, "customer"), "PaymentMethod": method,
            "CashAccount": str(mapping.deposit_account), "PaymentAmount": doc.amount, "PaymentRef": doc.number,
            "ApplicationDate": rest.iso_date(doc.date), "CurrencyID": doc.currency,
            "Description": doc.memo or doc.number, "Hold": False}


def payment_content(record: dict) -> str:
    head = {**record, "ApplicationDate": str(record.get("ApplicationDate") or "")[:10]}
    return rest.content_hash("payment", head, ("CustomerID", "PaymentAmount", "ApplicationDate", "PaymentRef"))


def payment_result(record: dict, adopted: bool = False) -> RemoteResult:
    content = payment_content(record)
    gone = record.get("Status") in CANCELLED
    total = Decimal("0.00") if gone else rest.money(record.get("PaymentAmount"))
    return RemoteResult(document_id(record), version(record, content), str(record.get("PaymentRef") or ""), total,
                        None, "voided" if gone else "active", adopted, record, content)


def remote_payment(record: dict, allocations: list[tuple[str, Decimal]]) -> RemotePayment:
    result = payment_result(record)
    return RemotePayment(result.remote_id, result.version, str(record.get("CustomerID") or ""),
                         dt.date.fromisoformat(str(record.get("ApplicationDate"))[:10]),
                         rest.money(record.get("PaymentAmount")), str(record.get("CurrencyID") or ""),
                         tuple(allocations), str(record.get("PaymentRef") or ""),
                         deleted=record.get("Status") in CANCELLED)


def acumatica_time(when: dt.datetime) -> str:
    """A ``datetimeoffset`` literal for ``$filter`` on ``LastModifiedDateTime``: UTC, to the millisecond."""
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds")
