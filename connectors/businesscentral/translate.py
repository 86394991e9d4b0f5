"""Pure translation between our snapshots and Business Central API v2.0 JSON (entity and field names from
Microsoft's API v2.0 reference). No I/O here."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from ledger.money import quantize
from ..base import DocumentTotals, RemoteCustomer, RemoteDocument, RemoteItem, RemoteLine, RemotePayment
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, ItemSnapshot, Mapping, PaymentSnapshot, RemoteResult,
                         SalesDocumentSnapshot)
from ..rest import clean, content_hash, iso_date, money, parse_time

#: our entity -> (entity set, our number or name field, line navigation property)
ENTITIES = {
    "customer": ("customers", "displayName", ""),
    "item": ("items", "displayName", ""),
    "invoice": ("salesInvoices", "externalDocumentNumber", "salesInvoiceLines"),
    "credit_note": ("salesCreditMemos", "externalDocumentNumber", "salesCreditMemoLines"),
    "payment": ("customerPayments", "externalDocumentNumber", ""),
    # an expense is a purchase invoice; a journal is a general journal batch of its own with its lines (costs.py)
    "expense": ("purchaseInvoices", "vendorInvoiceNumber", "purchaseInvoiceLines"),
    "journal": ("journals", "displayName", "journalLines"),
}
NO_ID = "00000000-0000-0000-0000-000000000000"
ZERO = Decimal("0.00")
#: Our item kinds -> Business Central item types (an inventory item would need stock to be invoiced).
ITEM_TYPES = {"product": "Non-Inventory", "service": "Service"}


# -- snapshots -> Business Central -----------------------------------------------------------------------------------
def customer_payload(doc: CustomerSnapshot, home_currency: str) -> dict:
    """A customer. Business Central has no parent customers in the API: a parent is not sent. ``currencyCode``
    empty means the company's own currency (LCY)."""
    return clean({"displayName": doc.name[:100], "type": "Company", "email": doc.email[:80],
                  "currencyCode": "" if doc.currency in ("", home_currency) else doc.currency,
                  "taxRegistrationNumber": doc.tax_number[:20]})  # Business Central's field holds 20


def item_payload(doc: ItemSnapshot) -> dict:
    """An item. The income account is not an item field in Business Central (it comes from the posting setup):
    our lines are G/L account lines, so the item's account mapping is not sent."""
    return clean({"displayName": doc.name[:100], "type": ITEM_TYPES.get(doc.kind, "Service"),
                  "unitPrice": doc.unit_price})


#: The comment line that records how much of a credit memo is applied to its invoice, when not all of it.
APPLY_NOTE = "Amount to apply: "
APPLY_PATTERN = re.compile(r"^Amount to apply: (-?\d+\.\d{2})$")


def lines_payload(doc: SalesDocumentSnapshot, mapping: Mapping) -> list[dict]:
    """Each line as a G/L account line (``lineType: Account``) on the mapped income account, with the mapped tax
    group code. A discount line is a negative line on the discount account, taxed like the others. A credit memo
    applied to its invoice for less than its total ends with a comment line saying how much (Business Central's
    document applies its whole amount; see docs/connectors/businesscentral.md)."""
    lines = []
    for i, line in enumerate(doc.lines):
        sign = -1 if line.kind == "discount" or line.kept else 1  # a kept line (restocking fee) nets the credit
        account = mapping.line_accounts[i] if i < len(mapping.line_accounts) else mapping.item_account
        description = line.description or line.item_name or line.kind.title()
        lines.append(clean({
            "sequence": 10000 * (i + 1), "lineType": "Account", "accountId": account,
            "description": description[:100], "quantity": line.quantity, "unitPrice": sign * line.unit_price,
            "taxCode": mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None}))
    partial = partial_application(doc)
    if partial is not None:
        lines.append({"sequence": 10000 * (len(lines) + 1), "lineType": "Comment",
                      "description": f"{APPLY_NOTE}{partial}"})
    return lines


def partial_application(doc: SalesDocumentSnapshot) -> Decimal | None:
    """The amount a credit note applies to its invoice when it is less than the note's total, else None."""
    if not isinstance(doc, CreditNoteSnapshot):
        return None
    applied = [a for a in doc.allocations if a.amount]
    if not applied or quantize(applied[0].amount) >= quantize(doc.total):
        return None
    return quantize(applied[0].amount)


def applied_amount(body: dict) -> Decimal:
    """What a credit memo read with its lines applies to its invoice: the comment line's amount, else all of it
    (nothing when it names no invoice)."""
    if str(body.get("invoiceId") or NO_ID) == NO_ID:
        return ZERO
    for line in body.get("salesCreditMemoLines") or []:
        found = APPLY_PATTERN.match(str(line.get("description") or "")) if line.get("lineType") == "Comment" \
            else None
        if found:
            return Decimal(found.group(1))
    return money(body.get("totalAmountIncludingTax")) or ZERO


def header_payload(doc: SalesDocumentSnapshot, mapping: Mapping) -> dict:
    """An invoice's or credit memo's header: our number is the external document number (Business Central
    numbers its documents itself)."""
    is_note = isinstance(doc, CreditNoteSnapshot)
    body = {"customerId": mapping.refs[doc.customer_key], "externalDocumentNumber": doc.number[:35],
            "creditMemoDate" if is_note else "invoiceDate": iso_date(doc.issue_date),
            "dueDate": iso_date(getattr(doc, "due_date", None))}
    body = clean(body)
    if is_note:  # the empty id unapplies a credit memo that no longer applies to an invoice
        body["invoiceId"] = credit_invoice(doc, mapping) or NO_ID
    return body


def credit_invoice(doc: CreditNoteSnapshot, mapping: Mapping) -> str | None:
    """The one invoice a credit memo applies to (Business Central applies a credit memo to one document)."""
    applied = [a for a in doc.allocations if a.amount]
    return mapping.refs[applied[0].invoice_key] if applied else None


def payment_payload(doc: PaymentSnapshot, mapping: Mapping) -> dict:
    """A cash receipt journal line: negative (a payment credits the customer), applied to one invoice."""
    applied = [a for a in doc.allocations if a.amount]
    return clean({"customerId": mapping.refs[doc.customer_key], "postingDate": iso_date(doc.date),
                  "externalDocumentNumber": doc.number[:35], "amount": -quantize(doc.amount),
                  "appliesToInvoiceId": mapping.refs[applied[0].invoice_key] if applied else None,
                  "description": (doc.memo or f"Payment {doc.number}")[:100]})


# -- Business Central -> our terms -----------------------------------------------------------------------------------
EDITABLE = {
    "customer": ("displayName", "email", "currencyCode", "blocked"),
    "item": ("displayName", "type", "unitPrice", "blocked"),
    "invoice": ("customerId", "externalDocumentNumber", "invoiceDate", "dueDate", "currencyCode", "discountAmount"),
    "credit_note": ("customerId", "externalDocumentNumber", "creditMemoDate", "currencyCode", "discountAmount",
                    "invoiceId"),
    "payment": ("customerId", "postingDate", "amount", "externalDocumentNumber", "appliesToInvoiceId",
                "description"),
    "expense": ("vendorId", "vendorInvoiceNumber", "invoiceDate", "currencyCode", "discountAmount"),
    "journal": ("code", "displayName"),
}
LINE_FIELDS = ("lineType", "itemId", "accountId", "description", "unitPrice", "quantity", "taxCode")
#: A purchase invoice line's fields (its price is ``unitCost``) and a journal line's.
COST_LINE_FIELDS = {"expense": ("lineType", "accountId", "description", "unitCost", "quantity", "taxCode"),
                    "journal": ("accountType", "accountId", "postingDate", "documentNumber", "amount", "description")}
#: How a record's lines are ordered.
LINE_ORDER = {"journal": "lineNumber"}


def lines_of(entity: str, body: dict) -> list[dict]:
    nav = ENTITIES[entity][2]
    order = LINE_ORDER.get(entity, "sequence")
    return sorted(body.get(nav) or [], key=lambda line: int(line.get(order) or 0)) if nav else []


def fingerprint(entity: str, body: dict) -> str:
    """Hash of the editable content of a record, its lines (by sequence) included."""
    nav = ENTITIES[entity][2]
    ordered = {**body, nav: lines_of(entity, body)} if nav else body
    return content_hash(entity, ordered, EDITABLE[entity], COST_LINE_FIELDS.get(entity, LINE_FIELDS),
                        lines=nav or "lines")


def modified_at(body: dict) -> dt.datetime | None:
    value = body.get("lastModifiedDateTime")
    return parse_time(str(value)) if value else None


def status(entity: str, body: dict) -> str:
    if entity == "customer":
        return "inactive" if body.get("blocked") == "All" else "active"
    if entity == "item":
        return "inactive" if body.get("blocked") is True else "active"
    return "voided" if str(body.get("status") or "") in ("Canceled", "Cancelled") else "active"


def total_of(entity: str, body: dict) -> Decimal | None:
    if entity == "payment":
        return -money(body.get("amount")) if body.get("amount") is not None else None
    if entity in ("invoice", "credit_note", "expense"):
        return money(body.get("totalAmountIncludingTax"))
    if entity == "journal":  # its debits: the lines' positive amounts
        return sum((money(line.get("amount")) or ZERO for line in body.get("journalLines") or []
                    if (money(line.get("amount")) or ZERO) > 0), ZERO)
    return None


def result(entity: str, body: dict, adopted: bool = False, balance: Decimal | None = None) -> RemoteResult:
    """A RemoteResult from an entity (documents read with their lines). The version is the ``@odata.etag``.
    Cancelled documents count for nothing: total and balance 0.00."""
    total = total_of(entity, body)
    state = status(entity, body)
    if state == "voided":
        total = balance = ZERO
    return RemoteResult(
        remote_id=str(body["id"]), version=str(body.get("@odata.etag") or ""),
        number=str(body.get(ENTITIES[entity][1]) or ""), total=total, balance=balance, status=state,
        adopted=adopted, raw=body, fingerprint=fingerprint(entity, body),
        home_total=total if not body.get("currencyCode") else None)


def totals(entity: str, body: dict, balance: Decimal | None) -> DocumentTotals:
    """What reconciliation compares."""
    lines = body.get("journalLines") or [{}]
    day = str(body.get("invoiceDate") or body.get("creditMemoDate") or body.get("postingDate")
              or lines[0].get("postingDate") or "")[:10]
    return DocumentTotals.from_result(
        entity, result(entity, body, balance=balance), currency=str(body.get("currencyCode") or ""),
        tax_total=money(body.get("totalTaxAmount")) if entity not in ("payment", "journal") else None,
        date=dt.date.fromisoformat(day) if day else None, modified=modified_at(body))


def remote_document(entity: str, body: dict, balance: Decimal | None) -> RemoteDocument:
    """An invoice or credit memo: status, its non-comment lines whole, customer, dates and currency. The number is
    our ``externalDocumentNumber`` where we wrote one, else Business Central's own ``number``."""
    found = result(entity, body, balance=balance)
    details = tuple(remote_line(line) for line in lines_of(entity, body) if line.get("lineType") != "Comment")
    customer = str(body.get("customerId") or "")
    return RemoteDocument(found.remote_id, found.version, found.number or str(body.get("number") or ""),
                          found.status, found.total, found.balance, tuple((d.quantity, d.unit_price) for d in details),
                          customer=RemoteCustomer(customer, str(body.get("customerName") or ""))
                          if customer and customer != NO_ID else None,
                          issue_date=_date(body.get(DATE_FIELDS[entity])), due_date=_date(body.get("dueDate")),
                          currency=str(body.get("currencyCode") or ""), details=details)


DATE_FIELDS = {"invoice": "invoiceDate", "credit_note": "creditMemoDate"}


def remote_line(line: dict) -> RemoteLine:
    item = str(line.get("itemId") or "")
    return RemoteLine(Decimal(str(line.get("quantity") or "0")), Decimal(str(line.get("unitPrice") or "0")),
                      description=str(line.get("description") or ""),
                      item_remote_id=item if item and item != NO_ID else "",
                      item_code=str(line.get("lineObjectNumber") or "") if line.get("lineType") == "Item" else "",
                      tax_code=str(line.get("taxCode") or ""))


def remote_customer(body: dict) -> RemoteCustomer:
    return RemoteCustomer(str(body["id"]), str(body.get("displayName") or ""), email=str(body.get("email") or ""),
                          tax_number=str(body.get("taxRegistrationNumber") or ""),
                          currency=str(body.get("currencyCode") or ""), version=str(body.get("@odata.etag") or ""),
                          active=None if "blocked" not in body else body["blocked"] != "All")


def remote_item(body: dict) -> RemoteItem:
    return RemoteItem(str(body["id"]), str(body.get("displayName") or ""), code=str(body.get("number") or ""),
                      unit_price=money(body.get("unitPrice")),
                      kind="product" if body.get("type") == "Inventory" else "service",
                      version=str(body.get("@odata.etag") or ""),
                      active=None if "blocked" not in body else body["blocked"] is not True)


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def remote_payment(body: dict) -> RemotePayment:
    amount = -(money(body.get("amount")) or ZERO)
    invoice = str(body.get("appliesToInvoiceId") or "")
    return RemotePayment(
        remote_id=str(body["id"]), version=str(body.get("@odata.etag") or ""),
        customer_remote_id=str(body.get("customerId", "")),
        date=dt.date.fromisoformat(str(body["postingDate"])[:10]), amount=amount, currency="",
        allocations=((invoice, amount),) if invoice and invoice != NO_ID else (),
        reference=str(body.get("externalDocumentNumber") or ""))


def odata_time(value: dt.datetime) -> str:
    """An aware datetime as an OData ``Edm.DateTimeOffset`` literal: ``2026-12-03T10:02:51.000Z``."""
    moment = value.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

