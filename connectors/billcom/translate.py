"""Pure translation between our snapshots and Bill.com v3 JSON (field names from developer.bill.com: "Create an
invoice", "Record AR payment", "Create a customer"). No I/O here.

Bill.com's AR invoice has no tax codes in the v3 API: a line is ``taxable`` or not and the organisation's sales
tax applies. We send our tax as its own line ("Sales tax") so the total Bill.com holds is ours to the cent, and a
line is marked ``taxable`` when its mapped tax code is ``TAXABLE`` (see docs/connectors/billcom.md).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..base import DocumentTotals, RemoteCustomer, RemoteDocument, RemoteItem, RemoteLine, RemotePayment
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, ItemSnapshot, Mapping, PaymentSnapshot, RemoteResult,
                         SalesDocumentSnapshot)
from ..rest import clean, content_hash, iso_date, money, parse_time, plain

#: our entity -> (resource path, our number or name field)
ENTITIES = {"customer": ("customers", "name"), "item": ("items", "name"), "invoice": ("invoices", "invoiceNumber"),
            "payment": ("receivable-payments", "description"), "credit_note": ("credit-memos", "referenceNumber")}
#: Bill.com's paymentType values (documented: CASH, CHECK, CREDIT_CARD, ACH, PAYPAL, OTHER)
PAYMENT_TYPES = {"cash": "CASH", "card": "CREDIT_CARD", "check": "CHECK", "transfer": "ACH", "paypal": "PAYPAL"}
#: The two "tax codes" a mapping may name: whether a line is taxable in Bill.com.
TAX_CODES = {"TAXABLE": "Taxable", "NON_TAXABLE": "Non-taxable"}
TAX_LINE = "Sales tax"
ZERO = Decimal("0.00")


# -- snapshots -> Bill.com ------------------------------------------------------------------------------------------
def customer_payload(doc: CustomerSnapshot) -> dict:
    """A customer: its name (Bill.com has no sub-customers in v3: a parent is not sent) and email."""
    return clean({"name": doc.name[:100], "email": doc.email or None})


def item_payload(doc: ItemSnapshot) -> dict:
    return clean({"name": doc.name[:100], "price": doc.unit_price, "type": "PRODUCT" if doc.kind == "product"
                  else "SERVICE"})


def line_items(doc: SalesDocumentSnapshot, mapping: Mapping) -> list[dict]:
    """One line per our line (a discount is a negative price) and our tax as a last line."""
    lines = []
    for i, line in enumerate(doc.lines):
        sign = -1 if line.kind == "discount" else 1
        account = mapping.line_accounts[i] if i < len(mapping.line_accounts) else None
        code = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        lines.append(clean({"itemId": mapping.refs.get(line.item_key) if line.item_key else None,
                            "description": (line.description or line.item_name or line.kind.title())[:4000],
                            "quantity": line.quantity, "price": sign * line.unit_price,
                            "taxable": code == "TAXABLE",
                            "classifications": {"chartOfAccountId": account} if account else None}))
    if doc.tax_total:
        lines.append({"description": TAX_LINE, "quantity": Decimal("1"), "price": doc.tax_total, "taxable": False})
    return lines


def invoice_payload(doc: SalesDocumentSnapshot, mapping: Mapping) -> dict:
    due = getattr(doc, "due_date", None) or doc.issue_date
    return clean({"customer": {"id": mapping.refs[doc.customer_key]}, "invoiceNumber": doc.number[:21],
                  "invoiceDate": iso_date(doc.issue_date), "dueDate": iso_date(due),
                  "invoiceLineItems": line_items(doc, mapping), "description": doc.memo[:4000]})


def credit_payload(doc: CreditNoteSnapshot, mapping: Mapping) -> dict:
    """A credit memo, applied to the invoices of our allocations."""
    return clean({"customerId": mapping.refs[doc.customer_key], "referenceNumber": doc.number[:21],
                  "creditDate": iso_date(doc.issue_date), "creditMemoLineItems": line_items(doc, mapping),
                  "description": doc.memo[:4000],
                  "invoices": [{"id": mapping.refs[a.invoice_key], "amount": a.amount} for a in doc.allocations
                               if a.amount]})


#: What a voided document becomes (Bill.com has no void: the lines are zeroed and the document archived).
VOID_LINES = [{"description": "Voided", "quantity": Decimal("1"), "price": Decimal("0.00"), "taxable": False}]


def payment_payload(doc: PaymentSnapshot, mapping: Mapping) -> dict:
    """A payment received outside Bill.com, applied to invoices. Our number opens ``description`` (Bill.com has
    no reference field on a recorded payment): search-before-create finds it there."""
    return clean({"customerId": mapping.refs[doc.customer_key], "paymentDate": iso_date(doc.date),
                  "paymentType": PAYMENT_TYPES.get(doc.method, "OTHER"), "amount": doc.amount,
                  "description": " ".join(p for p in (doc.number, doc.memo) if p)[:4000],
                  "invoices": [{"id": mapping.refs[a.invoice_key], "amount": a.amount} for a in doc.allocations]})


def customer_of(body: dict) -> str:
    """An invoice's customer id: ``customer.id`` in the API's answers, ``customerId`` in event notifications."""
    return str((body.get("customer") or {}).get("id") or body.get("customerId") or "")


def payment_number(body: dict) -> str:
    """Our number: the first word of the payment's description."""
    return (str(body.get("description") or "").split() or [""])[0]


# -- Bill.com -> our terms ------------------------------------------------------------------------------------------
EDITABLE = {"customer": ("name", "email"), "item": ("name", "price", "type"),
            "credit_note": ("customerId", "referenceNumber", "creditDate", "description"),
            "invoice": ("invoiceNumber", "invoiceDate", "dueDate", "description"),
            "payment": ("customerId", "paymentDate", "paymentType", "amount", "description")}
LINE_FIELDS = ("itemId", "description", "quantity", "price", "taxable")


def fingerprint(entity: str, body: dict) -> str:
    extra = []
    if entity == "invoice":
        extra = [customer_of(body)]
    elif entity == "payment" or entity == "credit_note":
        extra = sorted((plain(i.get("id")), plain(i.get("amount"))) for i in body.get("invoices") or [])
    lines = "creditMemoLineItems" if entity == "credit_note" else "invoiceLineItems"
    return content_hash(entity, body, EDITABLE[entity], LINE_FIELDS, lines=lines, extra=extra)


def modified(body: dict) -> str:
    return str(body.get("updatedTime") or body.get("createdTime") or "")


def modified_at(body: dict) -> dt.datetime | None:
    return parse_time(modified(body)) if modified(body) else None


def version(entity: str, body: dict) -> str:
    """Bill.com has no optimistic-concurrency token: its last-modified time joined with the content hash."""
    return f"{modified(body)}/{fingerprint(entity, body)[:12]}"


def status(entity: str, body: dict) -> str:
    if entity == "payment" and str(body.get("status") or "").upper() in ("VOID", "VOIDED", "CANCELLED"):
        return "voided"
    if entity in ("invoice", "credit_note"):
        archived = bool(body.get("archived"))
        return "voided" if archived and not money(body.get("totalAmount")) else "deleted" if archived else "active"
    return "inactive" if body.get("archived") else "active"


def result(entity: str, body: dict, adopted: bool = False) -> RemoteResult:
    total = balance = None
    if entity == "payment":
        total = money(body.get("amount"))
    elif entity == "invoice":
        total, balance = money(body.get("totalAmount")), money(body.get("dueAmount"))
    elif entity == "credit_note":
        total, balance = money(body.get("totalAmount")), money(body.get("availableAmount"))
    state = status(entity, body)
    if state == "voided":
        total = balance = ZERO
    number = payment_number(body) if entity == "payment" else str(body.get(ENTITIES[entity][1]) or "")
    return RemoteResult(remote_id=str(body["id"]), version=version(entity, body), number=number, total=total,
                        balance=balance, status=state, adopted=adopted, raw=body,
                        fingerprint=fingerprint(entity, body), home_total=total)


def totals(entity: str, body: dict) -> DocumentTotals:
    day = str(body.get("invoiceDate") or body.get("paymentDate") or body.get("creditDate") or "")[:10]
    return DocumentTotals.from_result(entity, result(entity, body), currency="USD",
                                      date=dt.date.fromisoformat(day) if day else None, modified=modified_at(body))


def change_operation(entity: str, body: dict) -> str:
    """What a listed change is: an archived document is gone ("delete"), a zeroed and archived one "void", a
    voided payment "delete" (it no longer counts), anything else an "update"."""
    state = status(entity, body)
    if entity == "payment":
        return "delete" if state == "voided" else "update"
    return {"voided": "void", "deleted": "delete"}.get(state, "update")


def remote_document(entity: str, body: dict) -> RemoteDocument:
    """An invoice or credit memo: status, its lines whole but our tax line and our discounts (negative lines), in
    order, customer, dates and description; a credit memo with the invoices it is applied to."""
    found = result(entity, body)
    key = "creditMemoLineItems" if entity == "credit_note" else "invoiceLineItems"
    details = tuple(remote_line(line) for line in body.get(key) or [] if line.get("description") != TAX_LINE
                    and Decimal(str(line.get("price", "0"))) * Decimal(str(line.get("quantity", "1"))) >= 0)
    customer = str((body.get("customer") or {}).get("id") or body.get("customerId") or "")
    return RemoteDocument(found.remote_id, found.version, found.number, found.status, found.total, found.balance,
                          tuple((d.quantity, d.unit_price) for d in details),
                          customer=RemoteCustomer(customer, "") if customer else None,
                          issue_date=_date(body.get("creditDate" if entity == "credit_note" else "invoiceDate")),
                          due_date=_date(body.get("dueDate")), currency="USD",
                          memo=str(body.get("description") or ""), details=details,
                          applications=tuple((str(i["id"]), money(i.get("amount")) or ZERO)
                                             for i in body.get("invoices") or [] if entity == "credit_note"))


def remote_line(line: dict) -> RemoteLine:
    """A line; its tax "code" is whether it is taxable (``TAX_CODES``)."""
    return RemoteLine(Decimal(str(line.get("quantity", "1"))), Decimal(str(line.get("price", "0"))),
                      description=str(line.get("description") or ""), item_remote_id=str(line.get("itemId") or ""),
                      tax_code="TAXABLE" if line.get("taxable") else "NON_TAXABLE")


def remote_customer(body: dict) -> RemoteCustomer:
    return RemoteCustomer(str(body["id"]), str(body.get("name") or ""), email=str(body.get("email") or ""),
                          version=version("customer", body), active=_active(body))


def remote_item(body: dict) -> RemoteItem:
    return RemoteItem(str(body["id"]), str(body.get("name") or ""), unit_price=money(body.get("price")),
                      version=version("item", body), active=_active(body))


def _active(body: dict) -> bool | None:
    """Bill.com archives what is no longer used: ``archived`` true is inactive here."""
    return not body["archived"] if isinstance(body.get("archived"), bool) else None


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def remote_payment(body: dict) -> RemotePayment:
    return RemotePayment(
        remote_id=str(body["id"]), version=version("payment", body), customer_remote_id=str(body.get("customerId", "")),
        date=dt.date.fromisoformat(str(body["paymentDate"])[:10]), amount=money(body.get("amount")) or ZERO,
        currency="USD", allocations=tuple((str(i["id"]), money(i.get("amount")) or ZERO)
                                          for i in body.get("invoices") or []),
        reference=payment_number(body), deleted=status("payment", body) == "voided")
