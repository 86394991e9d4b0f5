"""Pure translation between our snapshots and Sage Business Cloud Accounting v3.1 JSON (field names from Sage's
published swagger for v3.1 and its API reference). No I/O here."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ledger.money import quantize
from ..base import DocumentTotals, RemoteCustomer, RemoteDocument, RemoteItem, RemoteLine, RemotePayment
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, ItemSnapshot, Mapping,
                         PaymentSnapshot, RemoteResult, SalesDocumentSnapshot)
from ..rest import clean, content_hash, iso_date, money, parse_time, plain

#: our entity -> (resource path, the field that holds our number or name)
ENTITIES = {"customer": ("contacts", "name"), "item": ("services", "description"),
            "invoice": ("sales_invoices", "reference"), "credit_note": ("sales_credit_notes", "reference"),
            "payment": ("contact_payments", "reference"), "refund": ("contact_payments", "reference"),
            "expense": ("other_payments", "reference"), "journal": ("journals", "reference"),
            "bill": ("purchase_invoices", "reference")}
LINES = {"invoice": "invoice_lines", "credit_note": "credit_note_lines", "bill": "invoice_lines"}
#: The lines of an expense (other payment) and of a journal, and the fields a person edits on them.
COST_LINES = {"expense": "payment_lines", "journal": "journal_lines"}
COST_LINE_FIELDS = ("ledger_account", "details", "tax_rate", "net_amount", "tax_amount", "total_amount", "debit",
                    "credit")
#: our payment method -> Sage's payment_method id
PAYMENT_METHODS = {"cash": "CASH", "card": "CREDIT_DEBIT", "check": "CHECK", "transfer": "BANK_TRANSFER"}
ZERO = Decimal("0.00")


def ref_id(value) -> str:
    """The id of a nested reference (``{"id", "displayed_as", "$path"}``), or ""."""
    return str(value.get("id") or "") if isinstance(value, dict) else ""


# -- snapshots -> Sage ---------------------------------------------------------------------------------------------
def contact_payload(doc: CustomerSnapshot) -> dict:
    """A customer contact. Sage has no sub-customers: a parent is not sent."""
    body = {"name": doc.name[:100], "contact_type_ids": ["CUSTOMER"], "currency_id": doc.currency or None}
    if doc.email:
        body["main_contact_person"] = {"email": doc.email[:100], "is_main_contact": True}
    if doc.tax_number:
        body["tax_number"] = doc.tax_number
    return clean(body)


def item_payload(doc: ItemSnapshot, mapping: Mapping, purchase_ledger: str | None = None) -> dict:
    """A service, or a product when ``purchase_ledger`` is given (Sage requires one on a product)."""
    body = {"description": doc.name[:200], "item_code": doc.sku[:50], "sales_ledger_account_id": mapping.item_account,
            "active": True}
    if purchase_ledger:
        body.update(purchase_ledger_account_id=purchase_ledger,
                    sales_prices=[{"price_name": "Selling Price", "price": doc.unit_price,
                                   "price_includes_tax": False}])
    else:
        body["sales_rates"] = [{"rate_name": "Rate", "rate": doc.unit_price, "rate_includes_tax": False}]
    return clean(body)


def sales_payload(doc: SalesDocumentSnapshot, mapping: Mapping) -> dict:
    """An invoice or credit note; our number is its ``reference`` (Sage numbers documents itself). Sage computes
    each line's tax from its ``tax_rate_id``; a discount line is a negative line with its own tax, so Sage's
    per-line tax adds up like ours. Lines name no product or service (their ledger account and price are ours)."""
    lines = []
    for i, line in enumerate(doc.lines):
        sign = -1 if line.kind == "discount" or line.kept else 1  # a kept line (restocking fee) nets the credit
        lines.append(clean({
            "description": (line.description or line.item_name or line.kind.title())[:2000],
            "ledger_account_id": mapping.line_accounts[i] if i < len(mapping.line_accounts) else None,
            "quantity": line.quantity, "unit_price": sign * line.unit_price,
            "tax_rate_id": mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None}))
    key = "credit_note_lines" if isinstance(doc, CreditNoteSnapshot) else "invoice_lines"
    return clean({"contact_id": mapping.refs[doc.customer_key], "date": iso_date(doc.issue_date),
                  "due_date": iso_date(getattr(doc, "due_date", None)), "reference": doc.number[:25],
                  "notes": doc.memo[:2000], "currency_id": doc.currency or None, "exchange_rate": doc.exchange_rate,
                  key: lines})


def payment_payload(doc: PaymentSnapshot, mapping: Mapping) -> dict:
    """A customer receipt into the mapped bank account, allocated to invoices; what is not allocated stays on
    account."""
    return clean({
        "transaction_type_id": "CUSTOMER_RECEIPT", "contact_id": mapping.refs[doc.customer_key],
        "bank_account_id": mapping.deposit_account, "date": iso_date(doc.date), "total_amount": doc.amount,
        "reference": doc.number[:25], "payment_method_id": PAYMENT_METHODS.get(doc.method, "BANK_TRANSFER"),
        "currency_id": doc.currency or None, "exchange_rate": doc.exchange_rate,
        "allocated_artefacts": [{"artefact_id": mapping.refs[a.invoice_key], "amount": a.amount}
                                for a in doc.allocations]})


def credit_allocations(doc: CreditNoteSnapshot, mapping: Mapping) -> dict[str, Decimal]:
    """The invoices (remote id -> amount) our credit note is allocated to."""
    return {mapping.refs[a.invoice_key]: quantize(a.amount) for a in doc.allocations if a.amount}


def payload(doc, mapping: Mapping, purchase_ledger: str | None = None) -> dict:
    if isinstance(doc, CustomerSnapshot):
        return contact_payload(doc)
    if isinstance(doc, ItemSnapshot):
        return item_payload(doc, mapping, purchase_ledger)
    if isinstance(doc, PaymentSnapshot):
        return payment_payload(doc, mapping)
    if isinstance(doc, (InvoiceSnapshot, CreditNoteSnapshot)):
        return sales_payload(doc, mapping)
    raise TypeError(f"Sage connector cannot send {type(doc).__name__}")


# -- Sage -> our terms ----------------------------------------------------------------------------------------------
#: The content a person can edit, per entity (nested references by their id); what Sage computes (amounts,
#: outstanding, status after a payment, timestamps) is left out. Lines by these fields, in order.
EDITABLE = {
    "customer": ("name", "email", "currency"),
    "item": ("description", "item_code", "sales_ledger_account", "active", "price"),
    "invoice": ("contact", "reference", "date", "due_date", "currency", "notes"),
    "credit_note": ("contact", "reference", "date", "currency", "notes"),
    "payment": ("contact", "date", "total_amount", "reference", "payment_method", "bank_account"),
    "refund": ("contact", "date", "total_amount", "reference", "payment_method", "bank_account"),
    "expense": ("date", "total_amount", "reference", "payment_method", "bank_account", "contact"),
    "journal": ("date", "reference", "description"),
    "bill": ("contact", "reference", "vendor_reference", "date", "due_date", "currency", "notes"),
}
LINE_FIELDS = ("description", "quantity", "unit_price", "ledger_account", "tax_rate")


def _flat(record: dict) -> dict:
    return {k: ref_id(v) if isinstance(v, dict) else v for k, v in record.items()}


def fingerprint(entity: str, body: dict) -> str:
    """Hash of the editable content of a Sage record, a receipt's allocations included."""
    flat = _flat(body)
    lines = body.get(LINES.get(entity) or COST_LINES.get(entity, "")) or []
    flat["lines"] = [_flat(line) for line in lines]
    prices = body.get("sales_rates") or body.get("sales_prices") or [{}]
    flat["price"] = prices[0].get("rate", prices[0].get("price"))
    allocated = sorted((ref_id(a.get("artefact")), plain(a.get("amount")))
                       for a in body.get("allocated_artefacts") or [] if entity in ("payment", "refund"))
    line_fields = COST_LINE_FIELDS if entity in COST_LINES else LINE_FIELDS
    return content_hash(entity, flat, EDITABLE[entity], line_fields, lines="lines", extra=allocated)


def modified_at(body: dict) -> dt.datetime | None:
    value = body.get("updated_at") or body.get("created_at")
    return parse_time(str(value)) if value else None


def version(entity: str, body: dict) -> str:
    """Sage has no optimistic-concurrency token; ``updated_at`` changes on every edit but only to the second, so
    the version joins it with the content hash."""
    return f"{body.get('updated_at') or ''}/{fingerprint(entity, body)[:12]}"


#: Sage's transaction type of a customer refund (a contact payment, like a customer receipt).
REFUND_TYPE = "CUSTOMER_REFUND"


def entity_of(resource: str, body: dict) -> str:
    """Which of our entities a listed row is: a contact payment is a refund when its ``transaction_type`` says so,
    else a receipt; every other resource holds one entity."""
    if resource == "contact_payments":
        return "refund" if ref_id(body.get("transaction_type")) == REFUND_TYPE else "payment"
    return next(entity for entity, (path, _) in ENTITIES.items() if path == resource)


def change_filter(entities: list[str]) -> dict:
    """The list filter narrowing a change poll to the entities asked for on one resource: customers only among
    contacts; refunds only among contact payments when receipts are not asked for too."""
    if entities == ["customer"]:
        return {"contact_type_id": "CUSTOMER"}
    if entities == ["refund"]:
        return {"transaction_type_id": REFUND_TYPE}
    return {}


def status(entity: str, body: dict) -> str:
    if ref_id(body.get("status")) == "VOID":
        return "voided"
    return "inactive" if entity == "item" and body.get("active") is False else "active"


def result(entity: str, body: dict, adopted: bool = False) -> RemoteResult:
    """A RemoteResult from a Sage record. A void document counts for nothing: total and balance 0.00 (Sage keeps
    its amounts on the record, with nothing outstanding)."""
    total = balance = None
    if entity in ("payment", "refund", "expense"):
        total = money(body.get("total_amount"))
    elif entity == "journal":
        total = money(body.get("total"))
    elif entity in LINES:
        total, balance = money(body.get("total_amount")), money(body.get("outstanding_amount"))
    state = status(entity, body)
    if state == "voided":
        total = balance = ZERO
    rate = Decimal(str(body.get("exchange_rate") or 1))
    return RemoteResult(
        remote_id=str(body["id"]), version=version(entity, body), number=str(body.get(ENTITIES[entity][1]) or ""),
        total=total, balance=balance, status=state, adopted=adopted, raw=body, fingerprint=fingerprint(entity, body),
        # an other payment (expense) has no exchange rate or base-currency total of its own: none is known here
        home_total=quantize(total * rate) if total is not None and entity != "expense" else None)


def totals(entity: str, body: dict) -> DocumentTotals:
    day = str(body.get("date") or "")[:10]
    return DocumentTotals.from_result(
        entity, result(entity, body), currency=ref_id(body.get("currency")),
        tax_total=money(body.get("tax_amount")) if entity != "payment" else None,
        date=dt.date.fromisoformat(day) if day else None, modified=modified_at(body))


def remote_document(entity: str, body: dict) -> RemoteDocument:
    """Status, the sales lines whole, contact, dates, currency and notes: a line with a negative price is our
    discount line (``sales_payload``), not one of the document's lines. The number is our reference where we wrote
    one, else Sage's own (``invoice_number`` / ``credit_note_number``)."""
    found = result(entity, body)
    details = tuple(remote_line(line) for line in body.get(LINES[entity]) or []
                    if Decimal(str(line.get("unit_price", "0"))) >= 0)
    contact = body.get("contact") or {}
    own = body.get("invoice_number" if entity == "invoice" else "credit_note_number")
    return RemoteDocument(found.remote_id, found.version, found.number or str(own or ""), found.status, found.total,
                          found.balance, tuple((d.quantity, d.unit_price) for d in details),
                          customer=RemoteCustomer(ref_id(contact), str(body.get("contact_name")
                                                                       or contact.get("displayed_as") or ""))
                          if ref_id(contact) else None,
                          issue_date=_date(body.get("date")), due_date=_date(body.get("due_date")),
                          currency=ref_id(body.get("currency")), memo=str(body.get("notes") or ""), details=details)


def remote_line(line: dict) -> RemoteLine:
    """A line; its product or service, where it names one (ours name none: ledger account and price are ours)."""
    item = line.get("service") or line.get("product") or {}
    tax = ref_id(line.get("tax_rate"))
    return RemoteLine(Decimal(str(line.get("quantity", "1"))), Decimal(str(line.get("unit_price", "0"))),
                      description=str(line.get("description") or ""), item_remote_id=ref_id(item),
                      item_name=str(item.get("displayed_as") or ""),
                      kind="product" if line.get("product") else "service", tax_code=tax)


def remote_customer(contact: dict) -> RemoteCustomer:
    return RemoteCustomer(str(contact["id"]), str(contact.get("name") or ""), email=str(contact.get("email") or ""),
                          tax_number=str(contact.get("tax_number") or ""), currency=ref_id(contact.get("currency")),
                          version=version("customer", contact), active=_active(contact))


def remote_item(entity_path: str, body: dict) -> RemoteItem:
    """A product or service (``entity_path``: "products" or "services") and its first sales price or rate."""
    prices = body.get("sales_prices") or body.get("sales_rates") or [{}]
    price = prices[0].get("price", prices[0].get("rate"))
    return RemoteItem(str(body["id"]), str(body.get("description") or ""), code=str(body.get("item_code") or ""),
                      unit_price=money(price), kind="product" if entity_path == "products" else "service",
                      version=version("item", body), active=_active(body))


def _active(body: dict) -> bool | None:
    """``active`` where the record has it (products and services); None where it does not say."""
    return body["active"] if isinstance(body.get("active"), bool) else None


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def remote_payment(body: dict) -> RemotePayment:
    return RemotePayment(
        remote_id=str(body["id"]), version=version("payment", body), customer_remote_id=ref_id(body.get("contact")),
        date=dt.date.fromisoformat(str(body["date"])[:10]), amount=money(body.get("total_amount")) or ZERO,
        currency=ref_id(body.get("currency")),
        allocations=tuple((ref_id(a.get("artefact")), money(a.get("amount")) or ZERO)
                          for a in body.get("allocated_artefacts") or []),
        reference=str(body.get("reference") or ""))


def format_time(value: dt.datetime) -> str:
    """An aware datetime as Sage's date-time filters take it: ``2026-12-03T10:02:51+00:00``."""
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat()
