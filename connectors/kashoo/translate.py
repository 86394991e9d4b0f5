"""Pure translation between our snapshots and Kashoo JSON. No I/O here.

Kashoo keeps money as integer cents (``balanceDue: 12345`` is 123.45; the one public client example divides by 100).
Everything we send is converted with :func:`to_cents` and everything we read with :func:`from_cents`, so no float
ever appears. Field names other than ``contactName``, ``balanceDue`` and the date-range parameters are guesses
(listed in docs/connectors/kashoo.md): the OpenAPI document on api.kashoo.com could not be reached.

Kashoo's tax codes are not mapped: our tax goes as its own line ("Sales tax") so the total Kashoo holds is ours to
the cent, and a line is marked ``taxable`` when its mapped tax code is ``TAXABLE``.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from ..base import DocumentTotals, RemoteDocument
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, ItemSnapshot, Mapping, PaymentSnapshot, RemoteResult,
                         SalesDocumentSnapshot)
from ..rest import clean, content_hash, iso_date, parse_time, plain

#: our entity -> (path under the business, our number or name field)
ENTITIES = {"customer": ("contacts", "name"), "item": ("items", "name"), "invoice": ("records/invoices", "number"),
            "payment": ("records/payments", "number"), "credit_note": ("records/creditNotes", "number"),
            "expense": ("records/bills", "number"),  # an expense is a bill paid at once (costs.py)
            "bill": ("records/bills", "number")}  # a supplier bill: a bill left open
TAX_CODES = {"TAXABLE": "Taxable", "NON_TAXABLE": "Non-taxable"}
TAX_LINE = "Sales tax"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(value: Decimal) -> int:
    """A Decimal amount as Kashoo's integer cents (half up at the cent)."""
    return int((Decimal(value) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def from_cents(value) -> Decimal | None:
    """Kashoo's integer cents as a Decimal amount; None when absent."""
    if value is None or value == "":
        return None
    return (Decimal(str(value)) / 100).quantize(CENT)


# -- snapshots -> Kashoo --------------------------------------------------------------------------------------------
def customer_payload(doc: CustomerSnapshot) -> dict:
    return clean({"name": doc.name[:100], "email": doc.email or None})


def item_payload(doc: ItemSnapshot) -> dict:
    """A product or service the business sells; its price in cents."""
    return clean({"name": doc.name[:100], "unitPrice": to_cents(doc.unit_price),
                  "type": "PRODUCT" if doc.kind == "product" else "SERVICE"})


def line_items(doc: SalesDocumentSnapshot, mapping: Mapping) -> list[dict]:
    """One line per our line (a discount is a negative price), prices in cents, and our tax as a last line."""
    lines = []
    for i, line in enumerate(doc.lines):
        sign = -1 if line.kind == "discount" else 1
        account = mapping.line_accounts[i] if i < len(mapping.line_accounts) else None
        code = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        lines.append(clean({"itemId": mapping.refs.get(line.item_key) if line.item_key else None,
                            "description": (line.description or line.item_name or line.kind.title())[:255],
                            "quantity": line.quantity, "unitPrice": sign * to_cents(line.unit_price),
                            "taxable": code == "TAXABLE", "accountId": account}))
    if doc.tax_total:
        lines.append({"description": TAX_LINE, "quantity": Decimal("1"), "unitPrice": to_cents(doc.tax_total),
                      "taxable": False})
    return lines


def invoice_payload(doc: SalesDocumentSnapshot, mapping: Mapping) -> dict:
    due = getattr(doc, "due_date", None) or doc.issue_date
    return clean({"contactId": mapping.refs[doc.customer_key], "number": doc.number[:30],
                  "date": iso_date(doc.issue_date), "dueDate": iso_date(due), "currency": doc.currency or None,
                  "memo": doc.memo[:1000] or None, "lineItems": line_items(doc, mapping)})


def credit_payload(doc: CreditNoteSnapshot, mapping: Mapping) -> dict:
    """A credit note (guessed record type), applied to the invoices of our allocations."""
    return clean({"contactId": mapping.refs[doc.customer_key], "number": doc.number[:30],
                  "date": iso_date(doc.issue_date), "currency": doc.currency or None, "memo": doc.memo[:1000] or None,
                  "lineItems": line_items(doc, mapping),
                  "invoices": [{"invoiceId": mapping.refs[a.invoice_key], "amount": to_cents(a.amount)}
                               for a in doc.allocations if a.amount]})


def payment_payload(doc: PaymentSnapshot, mapping: Mapping) -> dict:
    """A customer payment applied to invoices, our number in ``number``, the deposit account if mapped."""
    return clean({"contactId": mapping.refs[doc.customer_key], "number": doc.number[:30], "date": iso_date(doc.date),
                  "amount": to_cents(doc.amount), "depositAccountId": mapping.deposit_account,
                  "memo": doc.memo[:1000] or None,
                  "invoices": [{"invoiceId": mapping.refs[a.invoice_key], "amount": to_cents(a.amount)}
                               for a in doc.allocations]})


#: What a voided document becomes (Kashoo has no documented void).
VOID_LINES = [{"description": "Voided", "quantity": Decimal("1"), "unitPrice": 0, "taxable": False}]
VOID_MEMO = "Voided"


def voided(body: dict) -> bool:
    lines = body.get("lineItems") or []
    return (body.get("memo") == VOID_MEMO and len(lines) == 1 and lines[0].get("description") == "Voided"
            and not body.get("amount"))


# -- Kashoo -> our terms --------------------------------------------------------------------------------------------
EDITABLE = {"customer": ("name", "email"), "item": ("name", "unitPrice", "type"),
            "invoice": ("contactId", "number", "date", "dueDate", "memo"),
            "payment": ("contactId", "number", "date", "amount", "depositAccountId", "memo"),
            "credit_note": ("contactId", "number", "date", "memo"),
            "expense": ("contactId", "number", "date", "currency", "memo"),
            "bill": ("contactId", "number", "date", "dueDate", "currency", "memo")}
LINE_FIELDS = ("itemId", "description", "quantity", "unitPrice", "taxable", "accountId")


def fingerprint(entity: str, body: dict) -> str:
    extra = sorted((plain(i.get("invoiceId")), plain(i.get("amount"))) for i in body.get("invoices") or []) \
        if entity in ("payment", "credit_note") else []
    return content_hash(entity, body, EDITABLE[entity],
                        LINE_FIELDS if entity in ("invoice", "credit_note", "expense", "bill") else (),
                        lines="lineItems", extra=extra)


def modified(body: dict) -> str:
    return str(body.get("modified") or body.get("created") or "")


def modified_at(body: dict) -> dt.datetime | None:
    return parse_time(modified(body)) if modified(body) else None


def version(entity: str, body: dict) -> str:
    """Kashoo shows no concurrency token: its last-modified time joined with the content hash."""
    return f"{modified(body)}/{fingerprint(entity, body)[:12]}"


def result(entity: str, body: dict, adopted: bool = False) -> RemoteResult:
    total = balance = None
    if entity in ("invoice", "payment", "credit_note", "expense", "bill"):
        total = from_cents(body.get("amount"))
    if entity in ("invoice", "credit_note", "bill"):
        balance = from_cents(body.get("balanceDue"))
    number = str(body.get(ENTITIES[entity][1]) or "")
    state = "voided" if entity in ("invoice", "credit_note") and voided(body) else "active"
    return RemoteResult(remote_id=str(body["id"]), version=version(entity, body), number=number, total=total,
                        balance=balance, status=state, adopted=adopted, raw=body,
                        fingerprint=fingerprint(entity, body),
                        # a bill may be in another currency; Kashoo's home-currency amount is not known
                        home_total=None if entity in ("expense", "bill") else total)


def totals(entity: str, body: dict) -> DocumentTotals:
    day = str(body.get("date") or "")[:10]
    return DocumentTotals.from_result(entity, result(entity, body), currency=str(body.get("currency") or ""),
                                      date=dt.date.fromisoformat(day) if day else None, modified=modified_at(body))


def remote_document(entity: str, body: dict) -> RemoteDocument:
    found = result(entity, body)
    lines = tuple((Decimal(str(line.get("quantity", "1"))), from_cents(line.get("unitPrice", 0)) or ZERO)
                  for line in body.get("lineItems") or [] if line.get("description") != TAX_LINE)
    return RemoteDocument(found.remote_id, found.version, found.number, found.status, found.total, found.balance,
                          lines)
