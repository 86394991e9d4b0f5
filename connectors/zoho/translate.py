"""Pure translation between our snapshots and Zoho Books v3 JSON (field names from Zoho's API documentation and
its published OpenAPI documents). No I/O here."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ledger.money import quantize
from ..base import DocumentTotals, RemoteCustomer, RemoteDocument, RemoteItem, RemoteLine, RemotePayment
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, ItemSnapshot, Mapping,
                         PaymentSnapshot, RemoteResult, SalesDocumentSnapshot)
from ..rest import clean, content_hash, iso_date, money, parse_time, plain

#: our entity -> (resource path, object key, list keys, id field, our number or name field)
ENTITIES = {
    "customer": ("contacts", "contact", ("contacts",), "contact_id", "contact_name"),
    "item": ("items", "item", ("items",), "item_id", "name"),
    "invoice": ("invoices", "invoice", ("invoices",), "invoice_id", "invoice_number"),
    # Zoho's OpenAPI document names the list "customer_payments"; its API pages show "customerpayments".
    "payment": ("customerpayments", "payment", ("customerpayments", "customer_payments"), "payment_id",
                "reference_number"),
    "credit_note": ("creditnotes", "creditnote", ("creditnotes",), "creditnote_id", "creditnote_number"),
    "expense": ("expenses", "expense", ("expenses",), "expense_id", "reference_number"),
    "journal": ("journals", "journal", ("journals",), "journal_id", "reference_number"),
    # a supplier's bill: ``bill_number`` is the supplier's own number, ours is its ``reference_number``
    "bill": ("bills", "bill", ("bills",), "bill_id", "reference_number"),
    # read and written under its credit note (``costs.refund_path``); the list of all is ``creditnotes/refunds``
    "refund": ("creditnotes/refunds", "creditnote_refund", ("creditnote_refunds",), "creditnote_refund_id",
               "reference_number"),
}
#: A refund's remote id joins its credit note's id and its own: Zoho reads a refund under its credit note.
REFUND_SEPARATOR = ":"
PAYMENT_MODES = {"cash": "cash", "card": "creditcard", "check": "check", "transfer": "banktransfer"}
ZERO = Decimal("0.00")


# -- snapshots -> Zoho ----------------------------------------------------------------------------------------------
def contact_payload(doc: CustomerSnapshot, currency_id: str | None = None) -> dict:
    """A customer contact. Zoho has no sub-customers: a parent is not sent. ``currency_id`` only when the
    customer's currency is not the organisation's (Zoho takes the base currency otherwise)."""
    body = {"contact_name": doc.name[:200], "contact_type": "customer", "currency_id": currency_id}
    if doc.email:
        body["contact_persons"] = [{"email": doc.email, "is_primary_contact": True}]
    if doc.tax_number:
        body["tax_reg_no"] = doc.tax_number[:50]  # the contact's tax registration number (read back the same)
    return clean(body)


def item_payload(doc: ItemSnapshot, mapping: Mapping) -> dict:
    return clean({"name": doc.name[:100], "rate": doc.unit_price, "sku": doc.sku[:100],
                  "product_type": "goods" if doc.kind == "product" else "service",
                  "account_id": mapping.item_account})


def sales_payload(doc: SalesDocumentSnapshot, mapping: Mapping) -> dict:
    """An invoice or credit note. Zoho computes tax itself from each line's ``tax_id``. A discount line is a
    negative line on the mapped discount account with its own tax, so Zoho's per-line tax adds up like ours."""
    lines = []
    for i, line in enumerate(doc.lines):
        sign = -1 if line.kind == "discount" or line.kept else 1  # a kept line (restocking fee) nets the credit
        lines.append(clean({
            "item_id": mapping.refs.get(line.item_key) if line.item_key else None,
            "name": None if line.item_key else (line.item_name or line.description or line.kind.title())[:100],
            "description": line.description[:2000], "rate": sign * line.unit_price, "quantity": line.quantity,
            "account_id": mapping.line_accounts[i] if i < len(mapping.line_accounts) else None,
            "tax_id": mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None,
            "item_order": i + 1}))
    number_field = "creditnote_number" if isinstance(doc, CreditNoteSnapshot) else "invoice_number"
    return clean({"customer_id": mapping.refs[doc.customer_key], number_field: doc.number,
                  "date": iso_date(doc.issue_date), "line_items": lines, "is_inclusive_tax": False,
                  "exchange_rate": doc.exchange_rate, "notes": doc.memo[:5000],
                  "due_date": iso_date(getattr(doc, "due_date", None))})


def payment_payload(doc: PaymentSnapshot, mapping: Mapping) -> dict:
    """A customer payment applied to invoices; ``account_id`` is where it is deposited."""
    return clean({
        "customer_id": mapping.refs[doc.customer_key], "payment_mode": PAYMENT_MODES.get(doc.method, "others"),
        "amount": doc.amount, "date": iso_date(doc.date), "reference_number": doc.number[:100],
        "description": doc.memo[:500], "account_id": mapping.deposit_account, "exchange_rate": doc.exchange_rate,
        "invoices": [{"invoice_id": mapping.refs[a.invoice_key], "amount_applied": a.amount}
                     for a in doc.allocations]})


def credit_applications(doc: CreditNoteSnapshot, mapping: Mapping) -> dict[str, Decimal]:
    """The invoices (remote id -> amount) our credit note is applied to."""
    return {mapping.refs[a.invoice_key]: quantize(a.amount) for a in doc.allocations if a.amount}


def payload(doc, mapping: Mapping, currency_id: str | None = None) -> dict:
    if isinstance(doc, CustomerSnapshot):
        return contact_payload(doc, currency_id)
    if isinstance(doc, ItemSnapshot):
        return item_payload(doc, mapping)
    if isinstance(doc, PaymentSnapshot):
        return payment_payload(doc, mapping)
    if isinstance(doc, (InvoiceSnapshot, CreditNoteSnapshot)):
        return sales_payload(doc, mapping)
    raise TypeError(f"Zoho Books connector cannot send {type(doc).__name__}")


# -- Zoho -> our terms ----------------------------------------------------------------------------------------------
#: The content a person can edit, per entity; what Zoho changes by itself (balance, status after a payment,
#: timestamps) is left out. Lines by these fields, in order.
EDITABLE = {
    "customer": ("contact_name", "email", "currency_code"),
    "item": ("name", "rate", "sku", "account_id"),
    "invoice": ("customer_id", "invoice_number", "date", "due_date", "currency_code", "discount", "adjustment",
                "notes"),
    "credit_note": ("customer_id", "creditnote_number", "date", "currency_code", "discount", "adjustment", "notes"),
    "payment": ("customer_id", "date", "amount", "reference_number", "payment_mode", "account_id"),
    "refund": ("creditnote_id", "date", "amount_fcy", "reference_number", "refund_mode", "from_account_id",
               "exchange_rate", "description"),
    "expense": ("date", "reference_number", "paid_through_account_id", "vendor_id", "currency_code",
                "exchange_rate", "description"),
    "journal": ("journal_date", "reference_number", "notes", "currency_code", "exchange_rate", "status"),
    "bill": ("vendor_id", "bill_number", "reference_number", "date", "due_date", "currency_code", "exchange_rate",
             "notes"),
}
LINE_FIELDS = ("item_id", "description", "rate", "quantity", "account_id", "tax_id")
#: An expense's and a journal's lines: an account and an amount (a journal's on one side).
COST_LINE_FIELDS = ("account_id", "description", "amount", "tax_id", "debit_or_credit")


def fingerprint(entity: str, body: dict) -> str:
    """Hash of the editable content of a Zoho record, a payment's applications included."""
    applied = sorted((plain(i.get("invoice_id")), plain(i.get("amount_applied")))
                     for i in body.get("invoices") or [] if entity == "payment")
    line_fields = COST_LINE_FIELDS if entity in ("expense", "journal") else LINE_FIELDS
    return content_hash(entity, body, EDITABLE[entity], line_fields, extra=applied)


def modified(body: dict) -> str:
    """Zoho's last-modified time (credit notes answer ``updated_time`` on a read, payments may carry neither)."""
    return str(body.get("last_modified_time") or body.get("updated_time") or body.get("created_time") or "")


def modified_at(body: dict) -> dt.datetime | None:
    return parse_time(modified(body)) if modified(body) else None


def newest_first(answer: dict) -> bool:
    """Whether a list answer's ``page_context`` confirms it is sorted newest change first."""
    context = answer.get("page_context") or {}
    return context.get("sort_column") == "last_modified_time" and \
        str(context.get("sort_order", "")).upper().startswith("D")


def version(entity: str, body: dict) -> str:
    """Zoho has no optimistic-concurrency token. The last-modified time changes on every edit but only to the
    second, so the version joins it with the content hash: a second edit within the same second still shows."""
    return f"{modified(body)}/{fingerprint(entity, body)[:12]}"


def status(entity: str, body: dict) -> str:
    value = str(body.get("status") or "").lower()
    if value == "void":
        return "voided"
    return "inactive" if value == "inactive" and entity in ("customer", "item") else "active"


def result(entity: str, body: dict, adopted: bool = False) -> RemoteResult:
    """A RemoteResult from a Zoho record. Voided documents count for nothing: total and balance 0.00."""
    _, _, _, id_field, number_field = ENTITIES[entity]
    total = balance = None
    if entity == "payment":
        total = money(body.get("amount"))
    elif entity == "refund":
        total = money(body.get("amount_fcy"))
    elif entity in ("expense", "journal"):
        total = money(body.get("total"))
    elif entity in ("invoice", "credit_note", "bill"):
        total, balance = money(body.get("total")), money(body.get("balance"))
    state = status(entity, body)
    if state == "voided":
        total = balance = ZERO
    rate = Decimal(str(body.get("exchange_rate") or 1))
    remote_id = str(body[id_field])
    if entity == "refund":
        remote_id = f"{body['creditnote_id']}{REFUND_SEPARATOR}{remote_id}"
    return RemoteResult(
        remote_id=remote_id, version=version(entity, body), number=str(body.get(number_field) or ""),
        total=total, balance=balance, status=state, adopted=adopted, raw=body, fingerprint=fingerprint(entity, body),
        home_total=quantize(total * rate) if total is not None else None)


def totals(entity: str, body: dict) -> DocumentTotals:
    """What reconciliation compares, from a record or a list row."""
    day = str(body.get("date") or "")[:10]
    return DocumentTotals.from_result(
        entity, result(entity, body), currency=str(body.get("currency_code") or ""),
        tax_total=money(body.get("tax_total")) if entity != "payment" else None,
        date=dt.date.fromisoformat(day) if day else None, modified=modified_at(body))


def remote_document(entity: str, body: dict) -> RemoteDocument:
    """An invoice or credit note: status, its sales lines whole (a line with a negative rate is our discount line,
    ``sales_payload``, not one of the document's lines), customer, dates, currency and notes."""
    found = result(entity, body)
    details = tuple(remote_line(line) for line in body.get("line_items") or []
                    if Decimal(str(line.get("rate", "0"))) >= 0)
    customer = RemoteCustomer(str(body.get("customer_id") or ""), str(body.get("customer_name") or ""))
    return RemoteDocument(found.remote_id, found.version, found.number, found.status if found.status == "voided"
                          else "active", found.total, found.balance, tuple((d.quantity, d.unit_price) for d in details),
                          customer=customer if customer.remote_id else None, issue_date=_date(body.get("date")),
                          due_date=_date(body.get("due_date")), currency=str(body.get("currency_code") or ""),
                          memo=str(body.get("notes") or ""), details=details,
                          applications=tuple((str(row["invoice_id"]), money(row.get("amount_applied")) or ZERO)
                                             for row in body.get("invoices_credited") or [] if row.get("invoice_id")))


def remote_line(line: dict) -> RemoteLine:
    return RemoteLine(Decimal(str(line.get("quantity", "1"))), Decimal(str(line.get("rate", "0"))),
                      description=str(line.get("description") or ""), item_remote_id=str(line.get("item_id") or ""),
                      item_name=str(line.get("name") or ""), item_code=str(line.get("sku") or ""),
                      tax_code=str(line.get("tax_id") or ""))


def remote_customer(contact: dict) -> RemoteCustomer:
    """A contact: name, e-mail (its own or its primary contact person's), tax registration number."""
    persons = contact.get("contact_persons") or []
    primary = next((p for p in persons if p.get("is_primary_contact")), persons[0] if persons else {})
    return RemoteCustomer(str(contact.get("contact_id") or ""), str(contact.get("contact_name") or ""),
                          email=str(contact.get("email") or primary.get("email") or ""),
                          tax_number=str(contact.get("tax_reg_no") or contact.get("vat_reg_no") or ""),
                          currency=str(contact.get("currency_code") or ""), version=version("customer", contact),
                          active=_active(contact))


def remote_item(item: dict) -> RemoteItem:
    return RemoteItem(str(item.get("item_id") or ""), str(item.get("name") or ""), code=str(item.get("sku") or ""),
                      unit_price=money(item.get("rate")),
                      kind="product" if item.get("product_type") == "goods" else "service",
                      version=version("item", item), active=_active(item))


def _active(row: dict) -> bool | None:
    """A contact's or item's ``status``: "active" or "inactive" (marked inactive in Zoho Books)."""
    status = str(row.get("status") or "").lower()
    return {"active": True, "inactive": False}.get(status)


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def remote_payment(body: dict) -> RemotePayment:
    return RemotePayment(
        remote_id=str(body["payment_id"]), version=version("payment", body),
        customer_remote_id=str(body.get("customer_id", "")), date=dt.date.fromisoformat(str(body["date"])[:10]),
        amount=money(body.get("amount")) or ZERO, currency=str(body.get("currency_code") or ""),
        allocations=tuple((str(i["invoice_id"]), money(i.get("amount_applied")) or ZERO)
                          for i in body.get("invoices") or []),
        reference=str(body.get("reference_number") or ""))


def format_time(value: dt.datetime) -> str:
    """An aware datetime the way Zoho writes times: ``2013-11-18T10:02:51+0000``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
