"""Pure translation between our snapshots and FreeAgent API v2 JSON (field names from the attribute tables of
dev.freeagent.com/docs: contacts, invoices, credit notes, bank transaction explanations, credit note
reconciliations, categories). No I/O here.

FreeAgent names every record by its URL (``https://api.freeagent.com/v2/invoices/123``); our remote id is the last
path segment, and a body refers to another record by its full URL, which :func:`url` builds from the API base.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ledger.money import quantize
from ..base import DocumentTotals, RemoteCustomer, RemoteDocument, RemoteLine, RemotePayment
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, ItemSnapshot, Mapping, PaymentSnapshot, RemoteResult,
                         SalesDocumentSnapshot)
from ..rest import clean, content_hash, iso_date, money, parse_time, plain

#: our entity -> (resource path, object key, list key, our number or name field)
ENTITIES = {
    "customer": ("contacts", "contact", "contacts", "organisation_name"),
    "item": ("price_list_items", "price_list_item", "price_list_items", "code"),
    "invoice": ("invoices", "invoice", "invoices", "reference"),
    "payment": ("bank_transaction_explanations", "bank_transaction_explanation", "bank_transaction_explanations",
                "description"),
    "credit_note": ("credit_notes", "credit_note", "credit_notes", "reference"),
    # refunds and expenses are explanations too (connectors/freeagent/costs.py); journals are journal sets
    "refund": ("bank_transaction_explanations", "bank_transaction_explanation", "bank_transaction_explanations",
               "description"),
    "expense": ("bank_transaction_explanations", "bank_transaction_explanation", "bank_transaction_explanations",
                "description"),
    "journal": ("journal_sets", "journal_set", "journal_sets", "description"),
}
#: Entities recorded as bank transaction explanations (money in or out of a bank account).
EXPLAINED = ("payment", "refund", "expense")
#: Between our number and the rest of the description of an explanation (refund, expense) or a journal set.
NUMBER_SEPARATOR = " — "
#: The line list of an invoice and of a credit note.
LINES = {"invoice": "invoice_items", "credit_note": "credit_note_items"}
#: Our line kind -> FreeAgent ``item_type`` (its documented list: Hours, Days, ..., Products, Services, Discount...).
ITEM_TYPES = {"product": "Products", "discount": "Discount"}
#: Tax "codes" that are a status, not a rate (FreeAgent has no tax codes: a line carries a rate and a status).
STATUS_CODES = {"EXEMPT": "Exempt", "OUT_OF_SCOPE": "Out of scope"}
ZERO = Decimal("0.00")


def number_of(description) -> str:
    """Our number from a description we wrote: what comes before ``NUMBER_SEPARATOR``."""
    return str(description or "").split(NUMBER_SEPARATOR, 1)[0]


def paid_resource(value) -> str:
    """What an explanation's ``paid_invoice`` names: ``invoices`` or ``credit_notes`` (a refund), else ""."""
    parts = str(value or "").rstrip("/").rsplit("/", 2)
    return parts[-2] if len(parts) == 3 else ""


def record_id(value) -> str:
    """``https://api.freeagent.com/v2/invoices/123`` -> ``123`` (an id stays an id)."""
    return str(value or "").rstrip("/").rsplit("/", 1)[-1]


def url(api_base: str, path: str, remote_id) -> str:
    return f"{api_base.rstrip('/')}/{path}/{record_id(remote_id)}"


# -- snapshots -> FreeAgent -----------------------------------------------------------------------------------------
def contact_payload(doc: CustomerSnapshot) -> dict:
    """A contact named by its organisation (FreeAgent asks for an organisation name or a first and last name)."""
    return clean({"organisation_name": doc.name[:255], "email": doc.email,
                  "sales_tax_registration_number": doc.tax_number})


def item_payload(doc: ItemSnapshot, mapping: Mapping, api_base: str) -> dict:
    """A price list item: ``code`` (unique in FreeAgent) is our item's name; one unit at our price."""
    return clean({"code": doc.name[:255], "description": (doc.name if not doc.sku else f"{doc.name} ({doc.sku})"),
                  "item_type": "Products" if doc.kind == "product" else "Services", "quantity": Decimal("1"),
                  "price": doc.unit_price,
                  "category": url(api_base, "categories", mapping.item_account) if mapping.item_account else None})


def tax_fields(code: str | None) -> dict:
    """A tax "code" of ours -> the line's ``sales_tax_rate`` and ``sales_tax_status``: a rate (``10.0``) is taxable
    at that rate, ``EXEMPT`` / ``OUT_OF_SCOPE`` are that status at rate 0, none sends nothing (FreeAgent then
    applies the category's own rate)."""
    if not code:
        return {}
    if code in STATUS_CODES:
        return {"sales_tax_status": code, "sales_tax_rate": ZERO}
    return {"sales_tax_status": "TAXABLE", "sales_tax_rate": Decimal(code)}


def sales_items(doc: SalesDocumentSnapshot, mapping: Mapping, api_base: str, current: list | None = None) -> list:
    """The lines of an invoice (positive prices) or a credit note (FreeAgent keeps credit notes negative: each
    price is sent with its sign turned). A discount line is a negative line of item type Discount. ``current``
    (the record's lines as read) gives each line its URL back so an update edits in place; its lines beyond ours
    are sent with ``_destroy`` (FreeAgent's nested-attribute removal)."""
    credit = -1 if isinstance(doc, CreditNoteSnapshot) else 1
    items = []
    for i, line in enumerate(doc.lines):
        sign = -1 if line.kind == "discount" or line.kept else 1  # a kept line (restocking fee) nets the credit
        code = mapping.line_accounts[i] if i < len(mapping.line_accounts) else None
        item = clean({
            "item_type": ITEM_TYPES.get(line.kind, "Services"), "quantity": line.quantity,
            "price": credit * sign * line.unit_price,
            "description": (line.description or line.item_name or line.kind.title())[:2000],
            "category": url(api_base, "categories", code) if code else None,
            **tax_fields(mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None)})
        if current and i < len(current) and current[i].get("url"):
            item = {"url": current[i]["url"], **item}
        items.append(item)
    for extra in (current or [])[len(doc.lines):]:
        items.append({"url": extra["url"], "_destroy": True})
    return items


def sales_payload(doc: SalesDocumentSnapshot, mapping: Mapping, api_base: str, current: dict | None = None) -> dict:
    entity = "credit_note" if isinstance(doc, CreditNoteSnapshot) else "invoice"
    due = getattr(doc, "due_date", None)
    terms = (due - doc.issue_date).days if due and doc.issue_date and due >= doc.issue_date else 0
    return clean({
        "contact": url(api_base, "contacts", mapping.refs[doc.customer_key]), "reference": doc.number,
        "dated_on": iso_date(doc.issue_date), "payment_terms_in_days": terms, "currency": doc.currency,
        "exchange_rate": doc.exchange_rate, "comments": doc.memo[:5000],
        LINES[entity]: sales_items(doc, mapping, api_base, (current or {}).get(LINES[entity]))})


def items_change(payload: dict, current: dict, entity: str) -> bool:
    """Whether sending ``payload`` would change a document's items beyond their category (what FreeAgent locks once
    a document is sent): an item added or removed, or a field of one changed."""
    have = {i.get("url"): i for i in current.get(LINES[entity]) or []}
    for item in payload.get(LINES[entity]) or []:
        if not item.get("url") or item.get("_destroy") or item["url"] not in have:
            return True
        if any(plain(v) != plain(have[item["url"]].get(k)) for k, v in item.items() if k not in ("url", "category")):
            return True
    return False


def explanation_payload(doc: PaymentSnapshot, mapping: Mapping, api_base: str, bank_account_url: str) -> dict:
    """A payment is an invoice receipt: a bank transaction explanation in the deposit bank account, paying one
    invoice, with our number in ``description`` (what finds it again)."""
    [allocation] = doc.allocations
    return clean({"bank_account": bank_account_url, "dated_on": iso_date(doc.date), "gross_value": doc.amount,
                  "paid_invoice": url(api_base, "invoices", mapping.refs[allocation.invoice_key]),
                  "description": doc.number[:255]})


def reconciliation_payload(note_url: str, invoice_url: str, amount: Decimal, on: dt.date | None) -> dict:
    return clean({"credit_note": note_url, "invoice": invoice_url, "gross_value": quantize(amount),
                  "dated_on": iso_date(on)})


def credit_applications(doc: CreditNoteSnapshot, mapping: Mapping) -> dict[str, Decimal]:
    """The invoices (remote id -> amount) our credit note is applied to."""
    return {record_id(mapping.refs[a.invoice_key]): quantize(a.amount) for a in doc.allocations if a.amount}


# -- FreeAgent -> our terms ------------------------------------------------------------------------------------------
#: The content a person can edit, per entity; what FreeAgent computes (values, status, times) is left out.
EDITABLE = {
    "customer": ("organisation_name", "email"),
    "item": ("code", "description", "item_type", "price", "category"),
    "invoice": ("contact", "reference", "dated_on", "due_on", "currency", "comments", "discount_percent"),
    "credit_note": ("contact", "reference", "dated_on", "due_on", "currency", "comments", "discount_percent"),
    "payment": ("bank_account", "dated_on", "gross_value", "paid_invoice", "description"),
    "refund": ("bank_account", "dated_on", "gross_value", "foreign_currency_value", "paid_invoice", "description"),
    "expense": ("bank_account", "dated_on", "gross_value", "foreign_currency_value", "category", "sales_tax_rate",
                "sales_tax_status", "description"),
    "journal": ("dated_on", "description"),
}
LINE_FIELDS = ("item_type", "description", "quantity", "price", "sales_tax_rate", "category")
#: A journal set's entries and the fields a person edits on them.
JOURNAL_LINES, JOURNAL_LINE_FIELDS = "journal_entries", ("category", "bank_account", "debit_value", "description")


def fingerprint(entity: str, body: dict) -> str:
    """Hash of the editable content (URLs compared by their ids, so hosts do not matter)."""
    flat = {k: record_id(v) if k in ("contact", "category", "bank_account", "paid_invoice") else v
            for k, v in body.items()}
    key = JOURNAL_LINES if entity == "journal" else LINES.get(entity, "")
    lines = [{k: record_id(v) if k in ("category", "bank_account") else v for k, v in line.items()}
             for line in body.get(key, []) or []]
    fields = JOURNAL_LINE_FIELDS if entity == "journal" else LINE_FIELDS
    return content_hash(entity, {**flat, "lines": lines}, EDITABLE[entity], fields, lines="lines")


def version(entity: str, body: dict) -> str:
    """FreeAgent has no concurrency token: its ``updated_at`` joined with the content hash."""
    return f"{body.get('updated_at') or ''}/{fingerprint(entity, body)[:12]}"


def modified_at(body: dict) -> dt.datetime | None:
    value = body.get("updated_at") or body.get("created_at")
    return parse_time(str(value)) if value else None


def status(entity: str, body: dict) -> str:
    value = str(body.get("status") or "").lower()
    if entity in ("invoice", "credit_note") and value == "cancelled":
        return "voided"
    if entity == "customer" and value == "hidden":
        return "inactive"
    return "active"


def amounts(entity: str, body: dict) -> tuple[Decimal | None, Decimal | None]:
    """(total, balance) in our sign: a credit note's negative values turned positive."""
    if entity in EXPLAINED:  # refunds and expenses negative there; in the bank account's currency where foreign
        value = money(body.get("foreign_currency_value")) if body.get("foreign_currency_value") not in (None, "") \
            else money(body.get("gross_value"))
        return (abs(value) if value is not None else None), None
    if entity == "journal":  # its debits
        return sum((max(money(e.get("debit_value")) or ZERO, ZERO) for e in body.get(JOURNAL_LINES) or []),
                   ZERO), None
    if entity not in ("invoice", "credit_note"):
        return None, None
    total, due = money(body.get("total_value")), money(body.get("due_value"))
    if entity == "credit_note":
        total, due = (-total if total is not None else None), (-due if due is not None else None)
    return total, due


def result(entity: str, body: dict, adopted: bool = False) -> RemoteResult:
    """A RemoteResult from a FreeAgent record. Cancelled documents count for nothing: total and balance 0.00."""
    total, balance = amounts(entity, body)
    state = status(entity, body)
    if state == "voided":
        total = balance = ZERO
    rate = Decimal(str(body.get("exchange_rate") or 1))
    home = quantize(total * rate) if total is not None else None
    number = str(body.get(ENTITIES[entity][3]) or "")
    if entity in ("refund", "expense", "journal"):
        number = number_of(number)
    if entity in EXPLAINED and money(body.get("gross_value")) is not None:
        home = abs(money(body.get("gross_value")))  # gross_value is in the company's currency
    return RemoteResult(
        remote_id=record_id(body["url"]), version=version(entity, body), number=number, total=total,
        balance=balance, status=state, adopted=adopted, raw=body, fingerprint=fingerprint(entity, body),
        home_total=home)


def totals(entity: str, body: dict) -> DocumentTotals:
    day = str(body.get("dated_on") or "")[:10]
    tax = money(body.get("sales_tax_value")) if entity != "payment" else None
    if tax is not None and entity == "credit_note":
        tax = -tax
    return DocumentTotals.from_result(entity, result(entity, body), currency=str(body.get("currency") or ""),
                                      tax_total=tax, date=dt.date.fromisoformat(day) if day else None,
                                      modified=modified_at(body))


def remote_document(entity: str, body: dict) -> RemoteDocument:
    """An invoice or credit note: status, its lines whole in our sign (discounts, negative lines, are left out, as
    the document keeps them apart from its lines), contact, dates, currency and comments. FreeAgent's lines name no
    item (a description, a price and a category)."""
    found = result(entity, body)
    sign = Decimal(-1) if entity == "credit_note" else Decimal(1)
    details = tuple(d for d in (remote_line(line, sign) for line in body.get(LINES[entity]) or [])
                    if d.quantity * d.unit_price >= 0)  # a negative line is our discount (item type Discount)
    contact = record_id(body.get("contact"))
    return RemoteDocument(found.remote_id, found.version, found.number,
                          "voided" if found.status == "voided" else "active", found.total, found.balance,
                          tuple((d.quantity, d.unit_price) for d in details),
                          customer=RemoteCustomer(contact, str(body.get("contact_name") or "")) if contact else None,
                          issue_date=_date(body.get("dated_on")), due_date=_date(body.get("due_on")),
                          currency=str(body.get("currency") or ""), memo=str(body.get("comments") or ""),
                          details=details)


def remote_line(line: dict, sign: Decimal) -> RemoteLine:
    """A line in our sign; its tax "code" as ours are (``tax_fields``): the status where it is one, else the rate."""
    status = str(line.get("sales_tax_status") or "")
    rate = line.get("sales_tax_rate")
    code = status if status in STATUS_CODES else (str(rate) if rate not in (None, "") and status else "")
    return RemoteLine(Decimal(str(line.get("quantity", "1"))), sign * Decimal(str(line.get("price", "0"))),
                      description=str(line.get("description") or ""),
                      kind="product" if line.get("item_type") == "Products" else "service", tax_code=code)


def remote_customer(contact: dict) -> RemoteCustomer:
    """A contact: its organisation name (or first and last name), e-mail and sales tax registration number."""
    name = str(contact.get("organisation_name") or "").strip() or \
        f"{contact.get('first_name') or ''} {contact.get('last_name') or ''}".strip()
    return RemoteCustomer(record_id(contact.get("url")), name, email=str(contact.get("email") or ""),
                          tax_number=str(contact.get("sales_tax_registration_number") or ""),
                          version=str(contact.get("updated_at") or ""),
                          active={"Active": True, "Hidden": False}.get(str(contact.get("status") or "")))


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def remote_payment(body: dict, customer_id: str, currency: str) -> RemotePayment:
    amount = amounts("payment", body)[0] or ZERO  # in the bank account's currency
    invoice = record_id(body.get("paid_invoice"))
    return RemotePayment(
        remote_id=record_id(body["url"]), version=version("payment", body), customer_remote_id=customer_id,
        date=dt.date.fromisoformat(str(body["dated_on"])[:10]), amount=amount, currency=currency,
        allocations=((invoice, amount),) if invoice else (), reference=str(body.get("description") or ""))


def format_time(value: dt.datetime) -> str:
    """An aware datetime the way FreeAgent's ``updated_since`` examples write it: ``2017-05-22T09:00:00.000Z``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
