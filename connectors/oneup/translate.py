"""Pure translation between our snapshots and OneUp JSON. No I/O here.

Money is a JSON number in currency units (``total``, ``unpaid``, ``unit_price_wt``: seen in invoices read from
api.oneup.com by public scripts); we send Decimals, never floats, amounts quantized to the cent half up, and read
every amount back as a Decimal to the cent. Field names come from what is documented or seen (see
docs/connectors/oneup.md, "Sources"); the ones marked GUESS there are ours.

Tax: OneUp's tax objects are not mapped. Our tax total goes as its own last line ("Sales tax") so the total OneUp
holds equals ours to the cent; a line is marked ``is_taxable`` when its mapped tax code is ``TAXABLE``.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from ..base import DocumentTotals, RemoteDocument
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, ItemSnapshot, Mapping, PaymentSnapshot, RemoteResult,
                         SalesDocumentSnapshot)
from ..rest import clean, content_hash, iso_date, parse_time, plain

#: our entity -> (collection path under /v1, the field holding our number or name)
ENTITIES = {"customer": ("customers", "full_name"), "item": ("items", "name"), "invoice": ("invoices", "user_code"),
            "payment": ("payments", "user_code"), "credit_note": ("credit_notes", "user_code")}  # GUESS: credit_notes
TAX_CODES = {"TAXABLE": "Taxable", "NON_TAXABLE": "Non-taxable"}
TAX_LINE = "Sales tax"
CUSTOMER_COMPANY = 1  # documented: customer type 1 Company, 2 Individual
ITEM_TYPES = {"product": 1, "service": 2}  # GUESS: item ``type`` is an integer; which number is which is ours
NUMBER_MAX = 64  # documented for a customer's user_code; the same limit on invoices and payments is a GUESS
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def amount(value) -> Decimal:
    """A Decimal amount to the cent, half up (what we send as money)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money(value) -> Decimal | None:
    """An amount read from OneUp as a Decimal to the cent; None when absent."""
    if value is None or value == "":
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def ref_id(value):
    """A OneUp id as it sends them: an integer (our references are text)."""
    text = str(value)
    return int(text) if text.isdigit() else text


# -- snapshots -> OneUp -----------------------------------------------------------------------------------------
def customer_payload(doc: CustomerSnapshot) -> dict:
    """A company customer named like ours (``full_name`` is read-only and made from ``company_name``)."""
    return clean({"type": CUSTOMER_COMPANY, "company_name": doc.name[:255], "email": doc.email[:255] or None})


def item_payload(doc: ItemSnapshot) -> dict:
    return clean({"name": doc.name[:255], "type": ITEM_TYPES.get(doc.kind, ITEM_TYPES["service"]),
                  "sales_price": amount(doc.unit_price), "item_number": doc.sku[:64] or None})


def order_lines(doc: SalesDocumentSnapshot, mapping: Mapping) -> list[dict]:
    """One line per our line (a discount is a negative price), and our tax as a last line."""
    lines = []
    for i, line in enumerate(doc.lines):
        sign = -1 if line.kind == "discount" else 1
        account = mapping.line_accounts[i] if i < len(mapping.line_accounts) else None
        code = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        lines.append(clean({"item_id": ref_id(mapping.refs[line.item_key]) if mapping.refs.get(line.item_key or "")
                            else None,
                            "description": (line.description or line.item_name or line.kind.title())[:255],
                            "quantity": Decimal(line.quantity), "unit_price_wt": sign * Decimal(line.unit_price),
                            "is_taxable": code == "TAXABLE",
                            "account_id": ref_id(account) if account else None}))
    if doc.tax_total:
        lines.append({"description": TAX_LINE, "quantity": Decimal("1"), "unit_price_wt": amount(doc.tax_total),
                      "is_taxable": False})
    return lines


def invoice_payload(doc: SalesDocumentSnapshot, mapping: Mapping) -> dict:
    """Our number in ``user_code``, our memo as the ``public_note``."""
    due = getattr(doc, "due_date", None) or doc.issue_date
    return clean({"customer_id": ref_id(mapping.refs[doc.customer_key]), "user_code": doc.number[:NUMBER_MAX],
                  "date": iso_date(doc.issue_date), "due_date": iso_date(due),
                  "currency_iso_code": doc.currency or None, "public_note": doc.memo[:1000] or None,
                  "order_lines": order_lines(doc, mapping)})


def applications(allocations, mapping: Mapping) -> list[dict]:
    return [{"invoice_id": ref_id(mapping.refs[a.invoice_key]), "amount": amount(a.amount)}
            for a in allocations if a.amount]


def credit_payload(doc: CreditNoteSnapshot, mapping: Mapping) -> dict:
    """A credit note (GUESS: the resource and its fields mirror an invoice's), applied to our allocations' invoices."""
    return clean({"customer_id": ref_id(mapping.refs[doc.customer_key]), "user_code": doc.number[:NUMBER_MAX],
                  "date": iso_date(doc.issue_date), "currency_iso_code": doc.currency or None,
                  "public_note": doc.memo[:1000] or None, "order_lines": order_lines(doc, mapping),
                  "invoices": applications(doc.allocations, mapping)})


def payment_payload(doc: PaymentSnapshot, mapping: Mapping) -> dict:
    """A customer payment applied to invoices, our number in ``user_code``, the deposit account if mapped."""
    return clean({"customer_id": ref_id(mapping.refs[doc.customer_key]), "user_code": doc.number[:NUMBER_MAX],
                  "date": iso_date(doc.date), "amount": amount(doc.amount),
                  "account_id": ref_id(mapping.deposit_account) if mapping.deposit_account else None,
                  "notes": doc.memo[:1000] or None,
                  "invoices": applications(doc.allocations, mapping)})


#: What a voided document becomes (OneUp documents no void; the record keeps its number, customer and date).
VOID_NOTE = "Voided"
VOID_LINES = [{"description": "Voided", "quantity": Decimal("1"), "unit_price_wt": ZERO, "is_taxable": False}]


def voided(body: dict) -> bool:
    lines = body.get("order_lines") or []
    return (body.get("public_note") == VOID_NOTE and len(lines) == 1 and lines[0].get("description") == "Voided"
            and not money(body.get("total")))


# -- OneUp -> our terms ------------------------------------------------------------------------------------------
EDITABLE = {"customer": ("company_name", "email"), "item": ("name", "type", "sales_price", "item_number"),
            "invoice": ("customer_id", "user_code", "date", "due_date", "currency_iso_code", "public_note"),
            "payment": ("customer_id", "user_code", "date", "amount", "account_id", "notes"),
            "credit_note": ("customer_id", "user_code", "date", "currency_iso_code", "public_note")}
LINE_FIELDS = ("item_id", "description", "quantity", "unit_price_wt", "is_taxable", "account_id")


def fingerprint(entity: str, body: dict) -> str:
    extra = sorted((plain(i.get("invoice_id")), plain(i.get("amount"))) for i in body.get("invoices") or []) \
        if entity in ("payment", "credit_note") else []
    return content_hash(entity, body, EDITABLE[entity], LINE_FIELDS if entity in ("invoice", "credit_note") else (),
                        lines="order_lines", extra=extra)


def modified(body: dict) -> str:
    return str(body.get("updated_at") or body.get("created_at") or "")


def modified_at(body: dict) -> dt.datetime | None:
    return parse_time(modified(body)) if modified(body) else None


def version(entity: str, body: dict) -> str:
    """OneUp shows no concurrency token: its ``updated_at`` joined with the content hash."""
    return f"{modified(body)}/{fingerprint(entity, body)[:12]}"


def result(entity: str, body: dict, adopted: bool = False) -> RemoteResult:
    total = balance = None
    if entity in ("invoice", "credit_note"):
        total, balance = money(body.get("total")), money(body.get("unpaid"))
    elif entity == "payment":
        total = money(body.get("amount"))
    number = str(body.get(ENTITIES[entity][1]) or "")
    state = "voided" if entity in ("invoice", "credit_note") and voided(body) else "active"
    return RemoteResult(remote_id=str(body["id"]), version=version(entity, body), number=number, total=total,
                        balance=balance, status=state, adopted=adopted, raw=body,
                        fingerprint=fingerprint(entity, body), home_total=total)


def customer_of(body: dict) -> str:
    return str(body.get("customer_id") or (body.get("customer") or {}).get("id") or "")


def totals(entity: str, body: dict) -> DocumentTotals:
    day = str(body.get("date") or "")[:10]
    return DocumentTotals.from_result(entity, result(entity, body), currency=str(body.get("currency_iso_code") or ""),
                                      date=dt.date.fromisoformat(day) if day else None, modified=modified_at(body))


def remote_document(entity: str, body: dict) -> RemoteDocument:
    found = result(entity, body)
    lines = tuple((Decimal(str(line.get("quantity", "1"))), money(line.get("unit_price_wt", 0)) or ZERO)
                  for line in body.get("order_lines") or [] if line.get("description") != TAX_LINE)
    return RemoteDocument(found.remote_id, found.version, found.number, found.status, found.total, found.balance,
                          lines)
