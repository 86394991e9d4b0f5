"""Pure translation between our snapshots and FreshBooks accounting JSON (field names from FreshBooks' API pages
and the vendored OpenAPI document). No I/O here.

FreshBooks writes money as ``{"amount": "12.50", "code": "USD"}``, dates as ``YYYY-MM-DD``, last-modified times
as ``YYYY-MM-DD HH:MM:SS`` (``updated``), soft-deletes by ``vis_state`` (0 active, 1 deleted, 2 archived) and
takes a line's tax by name and percentage (``taxName1`` / ``taxAmount1``), not by id.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from ledger.money import quantize
from ..base import DocumentTotals, RemoteCustomer, RemoteDocument, RemoteItem, RemotePayment
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, ItemSnapshot, Mapping,
                         PaymentSnapshot, RemoteResult, SalesDocumentSnapshot)
from ..rest import clean, content_hash, iso_date, money, plain

#: our entity -> (path below /accounting/account/{id}/, object key, list key, id field, our number or name field)
ENTITIES = {
    "customer": ("users/clients", "client", "clients", "id", "organization"),
    "item": ("items/items", "item", "items", "itemid", "name"),
    "invoice": ("invoices/invoices", "invoice", "invoices", "invoiceid", "invoice_number"),
    "payment": ("payments/payments", "payment", "payments", "id", "note"),
    "credit_note": ("credit_notes/credit_notes", "credit_note", "credit_notes", "creditid", "credit_number"),
    "expense": ("expenses/expenses", "expense", "expenses", "expenseid", "notes"),
}
#: An expense has no reference field: our number starts its ``notes``, then this, then what was bought.
NUMBER_SEPARATOR = " - "
#: FreshBooks payment ``type`` values (its API pages list "Check", "Credit", "Cash", "Credit Card", "Bank Transfer").
PAYMENT_TYPES = {"cash": "Cash", "card": "Credit Card", "check": "Check", "transfer": "Bank Transfer"}
CREDIT_TYPE = "Credit"  # a credit note applied to an invoice is a payment of this type
VIS_ACTIVE, VIS_DELETED, VIS_ARCHIVED = 0, 1, 2
#: FreshBooks has no void: the connector writes every line's unit cost to 0 and starts the notes with this.
VOID_NOTE = "VOIDED by the business system."
#: The line fields FreshBooks takes on a write (``InvoiceLinesWritable`` in the vendored spec).
WRITABLE_LINE = ("type", "name", "description", "qty", "unit_cost", "taxName1", "taxAmount1", "taxName2",
                 "taxAmount2")
ZERO = Decimal("0.00")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: FreshBooks' accounting endpoints write times in US Eastern time without an offset (its official Python SDK
#: converts them from "US/Eastern"); ``search[updated_min]`` is taken in the same zone.
PLATFORM_ZONE = ZoneInfo("America/New_York")


def amount(value: Decimal, currency: str = "") -> dict:
    """FreshBooks' money object: a decimal string and (when known) the currency code."""
    return clean({"amount": format(quantize(Decimal(value)), "f"), "code": currency})


def amount_of(body: dict, field: str) -> Decimal | None:
    """The Decimal inside a FreshBooks money object (``{"amount": "1.00", "code": "USD"}``), None when absent."""
    value = body.get(field)
    if isinstance(value, dict):
        value = value.get("amount")
    return money(value)


# -- snapshots -> FreshBooks -----------------------------------------------------------------------------------------
def client_payload(doc: CustomerSnapshot) -> dict:
    """A client: our customer's name is FreshBooks' ``organization`` (company name); FreshBooks has no sub-clients."""
    return clean({"organization": doc.name[:200], "email": doc.email, "currency_code": doc.currency})


def item_payload(doc: ItemSnapshot) -> dict:
    """An item: name, description and unit cost. FreshBooks items carry no income account (see the docs page)."""
    return clean({"name": doc.name[:100], "description": doc.sku[:100],
                  "unit_cost": amount(doc.unit_price, "")})


def lines_payload(doc: SalesDocumentSnapshot, taxes: dict[str, tuple[str, Decimal]], mapping: Mapping) -> list:
    """Lines with the tax named and its percentage (``taxes``: remote tax id -> (name, percent)). A discount line is
    a line with a negative unit cost, taxed like the lines it discounts; so is a credit note's line the business
    keeps (a restocking fee), which nets the credit."""
    lines = []
    for line in doc.lines:
        sign = -1 if line.kind == "discount" or line.kept else 1  # a kept line (restocking fee) nets the credit
        tax_id = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        name, percent = taxes.get(str(tax_id), ("", None)) if tax_id else ("", None)
        body = {"type": 0, "name": (line.item_name or line.description or line.kind.title())[:100],
                "description": line.description[:2000], "qty": format(line.quantity.normalize(), "f"),
                "unit_cost": amount(sign * line.unit_price, doc.currency)}
        if name and percent:
            body.update(taxName1=name, taxAmount1=format(percent.normalize(), "f"))
        lines.append(body)
    return lines


def invoice_payload(doc: InvoiceSnapshot, customer_id: str, lines: list) -> dict:
    due = (doc.due_date - doc.issue_date).days if doc.due_date and doc.issue_date else None
    return clean({"customerid": int(customer_id), "invoice_number": doc.number, "create_date": iso_date(doc.issue_date),
                  "due_offset_days": due if due and due > 0 else None, "currency_code": doc.currency,
                  "notes": doc.memo[:5000], "lines": lines})


def credit_payload(doc: CreditNoteSnapshot, customer_id: str, lines: list) -> dict:
    return clean({"clientid": int(customer_id), "credit_number": doc.number, "create_date": iso_date(doc.issue_date),
                  "currency_code": doc.currency, "notes": doc.memo[:5000], "lines": lines})


def payment_payload(doc: PaymentSnapshot, invoice_id: str) -> dict:
    """A payment against one invoice. Our payment number travels in ``note`` (FreshBooks' free reference text)."""
    return clean({"invoiceid": int(invoice_id), "amount": {"amount": format(quantize(doc.amount), "f")},
                  "date": iso_date(doc.date), "type": PAYMENT_TYPES.get(doc.method, "Other"),
                  "note": doc.number[:100]})


def credit_application(note_id: str, invoice_id: str, value: Decimal, day: dt.date) -> dict:
    return {"invoiceid": int(invoice_id), "amount": {"amount": format(quantize(value), "f")}, "date": day.isoformat(),
            "type": CREDIT_TYPE, "creditid": int(note_id)}


def credit_applications(doc: CreditNoteSnapshot, mapping: Mapping) -> dict[str, Decimal]:
    """The invoices (remote id -> amount) our credit note is applied to."""
    return {str(mapping.refs[a.invoice_key]): quantize(a.amount) for a in doc.allocations if a.amount}


# -- FreshBooks -> our terms -----------------------------------------------------------------------------------------
EDITABLE = {
    "customer": ("organization", "email", "currency_code"),
    "item": ("name", "description", "unit_cost"),
    "invoice": ("customerid", "invoice_number", "create_date", "due_offset_days", "currency_code", "notes"),
    "credit_note": ("clientid", "credit_number", "create_date", "currency_code", "notes"),
    "payment": ("invoiceid", "date", "amount", "type", "note"),
    "expense": ("categoryid", "date", "amount", "vendor", "notes", "taxName1", "taxAmount1"),
}
LINE_FIELDS = ("name", "description", "qty", "unit_cost", "taxName1", "taxAmount1")


def _flat(body: dict) -> dict:
    """Money objects replaced by their amount, so the hash ignores the currency echo and how a number is spelt."""
    return {k: (v.get("amount") if isinstance(v, dict) and "amount" in v else v) for k, v in body.items()}


def fingerprint(entity: str, body: dict) -> str:
    flat = {**_flat(body), "lines": [_flat(line) for line in body.get("lines") or []]}
    return content_hash(entity, flat, EDITABLE[entity], LINE_FIELDS, lines="lines")


def modified_at(body: dict) -> dt.datetime | None:
    value = str(body.get("updated") or "")
    if not value:
        return None
    return dt.datetime.strptime(value[:19], TIME_FORMAT).replace(tzinfo=PLATFORM_ZONE).astimezone(dt.UTC)


def format_time(value: dt.datetime) -> str:
    """An aware datetime as FreshBooks writes ``updated`` and takes ``search[updated_min]`` (US Eastern)."""
    return value.astimezone(PLATFORM_ZONE).strftime(TIME_FORMAT)


def version(entity: str, body: dict) -> str:
    """FreshBooks has no concurrency token: ``updated`` (to the second) joined with the content hash."""
    return f"{body.get('updated', '')}/{fingerprint(entity, body)[:12]}"


def remote_customer(body: dict) -> RemoteCustomer:
    """A client: ``organization`` (else first and last name), ``email``, ``currency_code``; archived or deleted
    (``vis_state``) is inactive."""
    name = str(body.get("organization") or "").strip() or f"{body.get('fname') or ''} {body.get('lname') or ''}".strip()
    return RemoteCustomer(remote_id("customer", body), name, email=str(body.get("email") or ""),
                          currency=str(body.get("currency_code") or ""), version=result("customer", body).version,
                          active=status(body) == "active")


def remote_item(body: dict) -> RemoteItem:
    """An item: ``name``, ``unit_cost``; its ``description`` holds our SKU (``item_payload``), so it is the code."""
    return RemoteItem(remote_id("item", body), str(body.get("name") or ""), code=str(body.get("description") or ""),
                      unit_price=amount_of(body, "unit_cost"), version=result("item", body).version,
                      active=status(body) == "active")


def remote_id(entity: str, body: dict) -> str:
    return str(body.get(ENTITIES[entity][3]) or body.get("id"))


def status(body: dict) -> str:
    vis = int(body.get("vis_state") or 0)
    if vis == VIS_DELETED:
        return "deleted"
    if str(body.get("notes") or "").startswith(VOID_NOTE) and amount_of(body, "amount") == ZERO:
        return "voided"
    return "inactive" if vis == VIS_ARCHIVED else "active"


def voided_lines(body: dict) -> list[dict]:
    """A document's lines as FreshBooks takes them back, each unit cost 0 (what our emulated void writes)."""
    return [{**{k: line[k] for k in WRITABLE_LINE if line.get(k) not in (None, "")},
             "unit_cost": {"amount": "0.00"}} for line in body.get("lines") or []]


def result(entity: str, body: dict, adopted: bool = False) -> RemoteResult:
    total = balance = None
    if entity in ("payment", "expense"):
        total = amount_of(body, "amount")
    elif entity == "invoice":
        total, balance = amount_of(body, "amount"), amount_of(body, "outstanding")
    elif entity == "credit_note":
        total = amount_of(body, "amount")
    state = status(body)
    if state == "inactive" and entity not in ("customer", "item"):
        state = "active"  # an archived document still counts in FreshBooks
    if state == "voided":
        total = balance = ZERO
    return RemoteResult(
        remote_id=remote_id(entity, body), version=version(entity, body),
        number=number(entity, body), total=total, balance=balance, status=state,
        adopted=adopted, raw=body, fingerprint=fingerprint(entity, body), home_total=None)


def number(entity: str, body: dict) -> str:
    """Our number as FreshBooks holds it: an expense's is the start of its notes."""
    text = str(body.get(ENTITIES[entity][4]) or "")
    return text.split(NUMBER_SEPARATOR, 1)[0] if entity == "expense" else text


def totals(entity: str, body: dict) -> DocumentTotals:
    day = str(body.get("create_date") or body.get("date") or "")[:10]
    return DocumentTotals.from_result(entity, result(entity, body), currency=str(body.get("currency_code") or ""),
                                      date=dt.date.fromisoformat(day) if day else None, modified=modified_at(body))


def remote_document(entity: str, body: dict) -> RemoteDocument:
    found = result(entity, body)
    lines = tuple((Decimal(str(line.get("qty") or "1")), amount_of(line, "unit_cost") or ZERO)
                  for line in body.get("lines") or [])
    return RemoteDocument(found.remote_id, found.version, found.number,
                          found.status if found.status in ("deleted", "voided") else "active", found.total,
                          found.balance, lines)


def remote_payment(body: dict) -> RemotePayment:
    return RemotePayment(
        remote_id=remote_id("payment", body), version=version("payment", body),
        customer_remote_id=str(body.get("clientid") or ""), date=dt.date.fromisoformat(str(body["date"])[:10]),
        amount=amount_of(body, "amount") or ZERO, currency=str((body.get("amount") or {}).get("code") or ""),
        allocations=((str(body["invoiceid"]), amount_of(body, "amount") or ZERO),),
        reference=str(body.get("note") or ""), deleted=status(body) == "deleted")


def same(value, other) -> bool:
    return plain(value) == plain(other)
