"""Pure translation between our snapshots and Reckon One API v2 JSON (field names from Reckon's API portal and the
vendored OpenAPI document). No I/O here.

What shapes the mapping: Reckon numbers invoices and credit notes itself (``invoiceNumber`` and
``creditNoteNumber`` are not writable), so our number travels in ``reference``, and that is the number we read
back. A customer payment is a Reckon *receipt* allocated to invoices through ``transactionLinks``. Every sales line
is an ``accountDetails`` line on the mapped ledger account (Reckon takes either an item or an account per line,
never both; the account is what our mappings decide). Invoices, credit notes and receipts carry no last-modified
time, so their version is a hash of their content.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ledger.money import quantize
from ..base import DocumentTotals, RemoteDocument, RemotePayment
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, ItemSnapshot, Mapping,
                         PaymentSnapshot, RemoteResult, SalesDocumentSnapshot)
from ..rest import clean, content_hash, money, parse_time, plain

#: our entity -> (list path, write path, date field, number field we read back as the document's number)
ENTITIES = {
    "customer": ("customers", "customers", "", "name"),
    "item": ("items", "items", "", "name"),
    "invoice": ("invoices", "invoices", "invoiceDate", "reference"),
    # The portal spells the list "creditnotes" and every other credit note path "creditNotes".
    "credit_note": ("creditnotes", "creditNotes", "creditNoteDate", "reference"),
    "payment": ("receipts", "receipts", "receiptDate", "reference"),
}
#: Reckon's own number of a document (auto-numbered), shown to staff beside ours.
OWN_NUMBER = {"invoice": "invoiceNumber", "credit_note": "creditNoteNumber", "payment": "receiptNumber"}
ZERO = Decimal("0.00")
#: Reckon has no void: the connector voids a document by zeroing its lines and starting its notes with this.
VOID_NOTE = "VOIDED by the business system."


def when(day: dt.date | None) -> str | None:
    """A date as Reckon's ``date-time`` fields take it (midnight UTC)."""
    return f"{day.isoformat()}T00:00:00Z" if day else None


def day_of(value) -> dt.date | None:
    text = str(value or "")[:10]
    return dt.date.fromisoformat(text) if text else None


def ref_id(value) -> str:
    """The id of a reference object (``{"id", "name"}``) or of a plain id string."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return "" if value is None else str(value)


# -- snapshots -> Reckon ------------------------------------------------------------------------------------------
def customer_payload(doc: CustomerSnapshot) -> dict:
    """A customer. Reckon has no sub-customers and no currency per customer: a parent is not sent."""
    body = {"name": doc.name[:100]}
    if doc.email:
        body["electronicAddresses"] = [{"type": "Email", "address": doc.email[:100]}]
    return body


def item_payload(doc: ItemSnapshot, mapping: Mapping) -> dict:
    """An item sold at a price excluding tax, booked to the mapped income account."""
    return clean({"name": doc.name[:100], "itemCode": doc.sku[:100],
                  "itemType": "Product" if doc.kind == "product" else "Service", "amountTaxStatus": "Exclusive",
                  "sale": clean({"price": doc.unit_price, "ledgerAccount": mapping.item_account})})


def sales_lines(doc: SalesDocumentSnapshot, mapping: Mapping, void: bool = False) -> list[dict]:
    """One account line per line of ours, amounts excluding tax. A discount line is a negative line on the mapped
    discount account with its own tax. Our tax amount is sent with the tax rate, so Reckon's total is ours to the
    cent (Reckon marks such a line ``taxIsModified`` when its own rounding differs). ``void``: every amount 0."""
    lines = []
    for i, line in enumerate(doc.lines):
        sign = -1 if line.kind == "discount" else 1
        tax_rate = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        amount = ZERO if void else sign * line.net_amount
        lines.append(clean({
            "lineNumber": i + 1,
            "accountDetails": clean({"ledgerAccount": mapping.line_accounts[i] if i < len(mapping.line_accounts)
                                     else None, "quantity": line.quantity, "amount": amount}),
            "description": (line.description or line.item_name or line.kind.title())[:1000],
            "taxRate": tax_rate,
            "taxAmount": (ZERO if void else sign * line.tax_amount) if tax_rate else None}))
    return lines


def sales_payload(doc: SalesDocumentSnapshot, mapping: Mapping, template: str | None = None,
                  void: bool = False) -> dict:
    """An invoice or credit note; ``template`` (the one Reckon holds) goes back on an update, where Reckon's
    portal lists it as required."""
    date_field = "creditNoteDate" if isinstance(doc, CreditNoteSnapshot) else "invoiceDate"
    notes = doc.memo[:1000]
    if void:
        notes = f"{VOID_NOTE} {notes}".strip()
    return clean({"customer": mapping.refs[doc.customer_key], date_field: when(doc.issue_date),
                  "dueDate": when(getattr(doc, "due_date", None)), "amountTaxStatus": "Exclusive",
                  "reference": doc.number[:200], "template": template, "lineItems": sales_lines(doc, mapping, void),
                  "notes": notes})


def receipt_payload(doc: PaymentSnapshot, mapping: Mapping) -> dict:
    """A receipt from the customer into the mapped bank account, allocated to the invoices it pays."""
    return clean({
        "customer": mapping.refs[doc.customer_key], "receiptDate": when(doc.date),
        "ledgerAccount": mapping.deposit_account, "reference": doc.number[:200], "notes": doc.memo[:255],
        "totalAmount": doc.amount,
        "transactionLinks": [{"transactionId": mapping.refs[a.invoice_key], "transactionType": "Invoice",
                              "transactionAmount": quantize(a.amount)} for a in doc.allocations if a.amount]})


def credit_links(doc: CreditNoteSnapshot, mapping: Mapping) -> dict[str, Decimal]:
    """The invoices (remote id -> amount) our credit note is applied to."""
    return {mapping.refs[a.invoice_key]: quantize(a.amount) for a in doc.allocations if a.amount}


def payload(doc, mapping: Mapping, template: str | None = None) -> dict:
    if isinstance(doc, CustomerSnapshot):
        return customer_payload(doc)
    if isinstance(doc, ItemSnapshot):
        return item_payload(doc, mapping)
    if isinstance(doc, PaymentSnapshot):
        return receipt_payload(doc, mapping)
    if isinstance(doc, (InvoiceSnapshot, CreditNoteSnapshot)):
        return sales_payload(doc, mapping, template)
    raise TypeError(f"Reckon One connector cannot send {type(doc).__name__}")


def void_payload(entity: str, body: dict) -> dict:
    """A document as Reckon holds it, written back with every amount 0 and the void note: Reckon's answer to a
    void it does not have (the number, customer, dates and lines stay, as after a void elsewhere)."""
    date_field = ENTITIES[entity][2]
    lines = []
    for line in body.get("lineItems") or []:
        account = line.get("accountDetails") or {}
        item = line.get("itemDetails") or {}
        details = ({"accountDetails": {"ledgerAccount": ref_id(account.get("ledgerAccount")),
                                       "quantity": account.get("quantity"), "amount": ZERO}} if account else
                   {"itemDetails": {"item": ref_id(item.get("item")), "quantity": item.get("quantity"),
                                    "price": ZERO}})
        tax = ref_id(line.get("taxRate"))
        lines.append(clean({"lineNumber": line["lineNumber"], **details, "description": line.get("description"),
                            "taxRate": tax or None, "taxAmount": ZERO if tax else None}))
    notes = str(body.get("notes") or "")
    return clean({"customer": ref_id(body.get("customer")), date_field: body.get(date_field),
                  "dueDate": body.get("dueDate"), "amountTaxStatus": body.get("amountTaxStatus") or "Exclusive",
                  "reference": body.get("reference"), "template": ref_id(body.get("template")) or None,
                  "lineItems": lines,
                  "notes": notes if notes.startswith(VOID_NOTE) else f"{VOID_NOTE} {notes}".strip()})


# -- Reckon -> our terms --------------------------------------------------------------------------------------------
def _flat(entity: str, body: dict) -> tuple[dict, list[dict], list]:
    """The editable content of a record as flat fields, its lines, and extras (a receipt's allocations)."""
    if entity == "customer":
        emails = sorted(str(e.get("address") or "") for e in body.get("electronicAddresses") or [])
        return {"name": body.get("name"), "status": body.get("status"), "emails": ",".join(emails)}, [], []
    if entity == "item":
        sale = body.get("sale") or {}
        return {"name": body.get("name"), "itemCode": body.get("itemCode"), "itemType": body.get("itemType"),
                "status": body.get("status"), "price": sale.get("price"),
                "ledgerAccount": ref_id(sale.get("ledgerAccount"))}, [], []
    head = {"customer": ref_id(body.get("customer")), "date": str(body.get(ENTITIES[entity][2]) or "")[:10],
            "reference": body.get("reference"), "notes": body.get("notes"), "totalAmount": body.get("totalAmount")}
    if entity == "payment":
        head["ledgerAccount"] = ref_id(body.get("ledgerAccount"))
        links = sorted((plain(link.get("transactionId")), plain(link.get("transactionAmount")))
                       for link in body.get("transactionLinks") or [])
        return head, [], links
    head.update(dueDate=str(body.get("dueDate") or "")[:10], amountTaxStatus=body.get("amountTaxStatus"))
    lines = []
    for line in body.get("lineItems") or []:
        account, item = line.get("accountDetails") or {}, line.get("itemDetails") or {}
        lines.append({"account": ref_id(account.get("ledgerAccount")), "item": ref_id(item.get("item")),
                      "quantity": account.get("quantity", item.get("quantity")),
                      "amount": account.get("amount", item.get("price")), "description": line.get("description"),
                      "taxRate": ref_id(line.get("taxRate")), "taxAmount": line.get("taxAmount")})
    return head, lines, []


def fingerprint(entity: str, body: dict) -> str:
    """Hash of the editable content of a Reckon record (see ``RemoteResult.fingerprint``)."""
    head, lines, extra = _flat(entity, body)
    return content_hash(entity, {**head, "lines": lines}, tuple(head),
                        ("account", "item", "quantity", "amount", "description", "taxRate", "taxAmount"),
                        lines="lines", extra=extra)


def version(entity: str, body: dict) -> str:
    """Reckon has no optimistic-concurrency token. Customers and items carry ``lastModifiedDateTime``; documents
    carry no time at all, so their version is their content hash (an edit in Reckon changes it)."""
    stamp = str(body.get("lastModifiedDateTime") or "")
    return f"{stamp}/{fingerprint(entity, body)[:12]}" if stamp else fingerprint(entity, body)[:16]


def is_voided(entity: str, body: dict) -> bool:
    return entity in ("invoice", "credit_note") and str(body.get("notes") or "").startswith(VOID_NOTE) \
        and (money(body.get("totalAmount")) or ZERO) == 0


def status(entity: str, body: dict) -> str:
    if is_voided(entity, body):
        return "voided"
    if entity in ("customer", "item") and str(body.get("status") or "").lower() == "inactive":
        return "inactive"
    return "active"


def result(entity: str, body: dict, adopted: bool = False) -> RemoteResult:
    """A RemoteResult from a Reckon record. Reckon books keep one currency: the home total is the total."""
    total = balance = None
    if entity == "payment":
        total = money(body.get("totalAmount"))
    elif entity in ("invoice", "credit_note"):
        total, balance = money(body.get("totalAmount")), money(body.get("balance"))
    return RemoteResult(
        remote_id=str(body["id"]), version=version(entity, body), number=str(body.get(ENTITIES[entity][3]) or ""),
        total=total, balance=balance, status=status(entity, body), adopted=adopted, raw=body,
        fingerprint=fingerprint(entity, body), home_total=total)


def totals(entity: str, body: dict, currency: str = "") -> DocumentTotals:
    """What reconciliation compares, from a record or a list row."""
    stamp = body.get("lastModifiedDateTime")
    return DocumentTotals.from_result(
        entity, result(entity, body), currency=currency,
        tax_total=money(body.get("totalTaxAmount")) if entity != "payment" else None,
        date=day_of(body.get(ENTITIES[entity][2])), modified=parse_time(stamp) if stamp else None)


def remote_document(entity: str, body: dict) -> RemoteDocument:
    """An invoice or credit note: status and (quantity, unit price) of each line, in order (an account line's unit
    price is its amount over its quantity)."""
    found = result(entity, body)
    lines = []
    for line in body.get("lineItems") or []:
        account, item = line.get("accountDetails") or {}, line.get("itemDetails") or {}
        quantity = Decimal(str(account.get("quantity", item.get("quantity")) or "1"))
        if account:
            price = Decimal(str(account.get("amount") or "0")) / (quantity or 1)
        else:
            price = Decimal(str(item.get("price") or "0"))
        lines.append((quantity, price))
    return RemoteDocument(found.remote_id, found.version, found.number, found.status, found.total, found.balance,
                          tuple(lines))


def remote_payment(body: dict, currency: str = "") -> RemotePayment:
    return RemotePayment(
        remote_id=str(body["id"]), version=version("payment", body), customer_remote_id=ref_id(body.get("customer")),
        date=day_of(body.get("receiptDate")) or dt.date.today(), amount=money(body.get("totalAmount")) or ZERO,
        currency=currency,
        allocations=tuple((str(link["transactionId"]), money(link.get("transactionAmount")) or ZERO)
                          for link in body.get("transactionLinks") or []
                          if str(link.get("transactionType", "Invoice")) == "Invoice"),
        reference=str(body.get("reference") or ""))


def quote(value: str) -> str:
    """A string literal in a Reckon ``filter`` (single quotes, a quote inside doubled)."""
    return "'" + str(value).replace("'", "''") + "'"
