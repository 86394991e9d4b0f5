"""Pure translation between snapshots and Xero payloads (field names from xero_accounting.yaml). No I/O here.

Also home of Xero's rounding rule (``xero_totals``): a line's amount is Quantity x UnitAmount rounded to the
cent; its tax is computed from that line amount at the tax rate and rounded to the cent (exclusive amounts:
``amount x rate``; inclusive amounts: ``amount x rate / (100 + rate)``); the document's tax is the sum of the
line taxes. Both roundings are half away from zero.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ..documents import (CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, ItemSnapshot, LineSnapshot, Mapping,
                         PaymentSnapshot, RemoteResult, SalesDocumentSnapshot)
from ..base import Dimension, RemoteCustomer, RemoteItem, RemoteLine
from ..errors import ConfigurationError
from ..exactjson import dumps  # re-exported: request bodies are encoded with translate.dumps

#: Xero's tracking categories as a mapping dimension: a rule's value is "category/option" by name (split at the
#: first "/": a Xero tracking category name must not contain one; its option may).
TRACKING = Dimension("tracking", "Tracking category", "Tracking (optional)",
                     "The Xero tracking category and option of each line, typed as “category/option” (for example "
                     "“Region/North”): by item, item category or line kind, else the default; no rule, no tracking.",
                     "tracking category/option", pair_separator="/")

CENT = Decimal("0.01")
UNIT = Decimal("0.0001")  # unitdp=4: Xero keeps unit amounts (and quantities) to 4 places
RATE_PLACES = Decimal("0.000001")  # CurrencyRate: max length [18].[6]
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

ITEM_CODE_MAX = 30
ITEM_NAME_MAX = 50
CONTACT_NAME_MAX = 255
NUMBER_MAX = 255
REFERENCE_MAX = 255
DESCRIPTION_MAX = 4000
IDEMPOTENCY_KEY_MAX = 128

#: entity -> (collection name in bodies and paths, id field, our-number field)
ENTITIES = {
    "customer": ("Contacts", "ContactID", "Name"),
    "item": ("Items", "ItemID", "Code"),
    "invoice": ("Invoices", "InvoiceID", "InvoiceNumber"),
    "payment": ("Payments", "PaymentID", "Reference"),
    "credit_note": ("CreditNotes", "CreditNoteID", "CreditNoteNumber"),
    "refund": ("Payments", "PaymentID", "Reference"),
    "expense": ("BankTransactions", "BankTransactionID", "Reference"),
    "journal": ("ManualJournals", "ManualJournalID", "Narration"),
    "bill": ("Invoices", "InvoiceID", "InvoiceNumber"),  # an invoice of Type ACCPAY
    "bill_payment": ("Payments", "PaymentID", "Reference"),  # a payment on an ACCPAY invoice
}
#: A manual journal has no number: its narration is ours, then this, then the memo (see ``costs``).
NARRATION_SEPARATOR = ": "
ROUNDING_DESCRIPTION = "Rounding adjustment"
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
INVOICE_STATUSES = ("AUTHORISED", "DRAFT", "SUBMITTED")


# -- exact JSON -------------------------------------------------------------------------------------------
def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def q4(value: Decimal) -> Decimal:
    return value.quantize(UNIT, rounding=ROUND_HALF_UP)


def idempotency_key(key: str, *suffix: str) -> str:
    """``key`` (plus a suffix for follow-up writes) within Xero's 128 characters, still deterministic."""
    full = ":".join((key, *suffix))
    if len(full) <= IDEMPOTENCY_KEY_MAX:
        return full
    return full[:IDEMPOTENCY_KEY_MAX - 41] + ":" + hashlib.sha256(full.encode()).hexdigest()[:40]


# -- names and codes --------------------------------------------------------------------------------------
_CODE_UNSAFE = re.compile(r"[^A-Za-z0-9._/-]+")


def item_code(doc: ItemSnapshot) -> str:
    """The Xero item Code (unique, at most 30 characters): the SKU when it fits, else a derived code.

    A derived code is a readable prefix of the SKU (or name) plus 8 hex characters of a hash of the local
    record's key, so it is stable across renames and unique per local item.
    """
    sku = doc.sku.strip()
    if sku and len(sku) <= ITEM_CODE_MAX:
        return sku
    source = sku or doc.name
    prefix = _CODE_UNSAFE.sub("-", source.upper()).strip("-")[:ITEM_CODE_MAX - 9] or "ITEM"
    digest = hashlib.sha256((sku or doc.key).encode()).hexdigest()[:8].upper()
    return f"{prefix}-{digest}"


# -- contacts and items -----------------------------------------------------------------------------------
def contact_name(name: str, parent_name: str = "") -> str:
    """The Xero contact Name. Xero has no sub-contacts and contact names are unique across active contacts, so
    a sub-customer is named like QuickBooks' fully-qualified names: ``Parent: Child`` (the parent part is
    shortened if the whole would pass Xero's 255 characters)."""
    name = name.strip()
    parent_name = parent_name.strip()
    if not parent_name:
        return name[:CONTACT_NAME_MAX]
    room = CONTACT_NAME_MAX - len(name) - len(PARENT_SEPARATOR)
    if room < 1:
        return name[:CONTACT_NAME_MAX]
    return f"{parent_name[:room]}{PARENT_SEPARATOR}{name}"


PARENT_SEPARATOR = ": "


def contact_payload(doc: CustomerSnapshot, mapping: Mapping, parent_name: str = "") -> dict:
    body = {"Name": contact_name(doc.name, parent_name), "DefaultCurrency": doc.currency,
            "ContactStatus": "ACTIVE" if doc.active else "ARCHIVED"}  # Xero archives contacts, never deletes them
    if doc.email:
        body["EmailAddress"] = doc.email[:255]
    if doc.tax_number:
        body["TaxNumber"] = doc.tax_number
    return body


def item_payload(doc: ItemSnapshot, mapping: Mapping) -> dict:
    sales = {"UnitPrice": q4(doc.unit_price)}
    if mapping.item_account:
        sales["AccountCode"] = mapping.item_account
    return {"Code": item_code(doc), "Name": doc.name.strip()[:ITEM_NAME_MAX], "Description": doc.name[:DESCRIPTION_MAX],
            "IsSold": True, "IsPurchased": False, "SalesDetails": sales}


# -- sales documents --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SalesSettings:
    line_amount_types: str = "Exclusive"
    status: str = "AUTHORISED"
    no_tax_type: str = "NONE"
    allow_rounding_adjustment: bool = False
    rounding_account: str = ""
    #: False when the connection takes rates from the platform: ``CurrencyRate`` is left out and Xero applies
    #: its own (XE.com) rate of the document's date.
    send_currency_rate: bool = True


@dataclass(frozen=True)
class XeroTotals:
    subtotal: Decimal
    tax: Decimal
    total: Decimal


def _rate(line: LineSnapshot) -> Decimal:
    return Decimal(line.tax_rate_percent or 0) if line.tax_rate_key else Decimal(0)


def line_unit_amount(line: LineSnapshot, line_amount_types: str) -> tuple[Decimal, Decimal]:
    """``(Quantity, UnitAmount)`` Xero gets for a snapshot line; discount lines, and the lines a credit note keeps
    back (a restocking fee), become negative lines.

    Exclusive / NoTax: our quantity and unit price. Inclusive: Xero wants tax-inclusive unit amounts, so the
    unit amount is the line's gross (net + our tax) over the quantity, to 4 places, nudged by 0.0001 where
    that makes Quantity x UnitAmount round to the gross exactly.
    """
    sign = Decimal(-1) if line.kind == "discount" or line.kept else Decimal(1)
    quantity = line.quantity
    if line_amount_types != "Inclusive":
        return quantity, sign * line.unit_price
    gross = line.net_amount + line.tax_amount
    if not quantity:
        return quantity, sign * line.unit_price
    unit = q4(gross / quantity)
    for step in (0, 1, -1, 2, -2):
        candidate = unit + step * UNIT
        if q2(quantity * candidate) == gross:
            unit = candidate
            break
    return quantity, sign * unit


def xero_line(quantity: Decimal, unit_amount: Decimal, rate: Decimal,
              line_amount_types: str) -> tuple[Decimal, Decimal]:
    """``(LineAmount, TaxAmount)`` as Xero computes them."""
    amount = q2(quantity * unit_amount)
    if line_amount_types == "NoTax" or not rate:
        return amount, ZERO
    if line_amount_types == "Inclusive":
        return amount, q2(amount * rate / (HUNDRED + rate))
    return amount, q2(amount * rate / HUNDRED)


def xero_totals(lines: list[tuple[Decimal, Decimal, Decimal]], line_amount_types: str) -> XeroTotals:
    """Xero's SubTotal / TotalTax / Total for ``(quantity, unit_amount, rate_percent)`` lines."""
    amounts = tax = ZERO
    for quantity, unit_amount, rate in lines:
        amount, line_tax = xero_line(quantity, unit_amount, rate, line_amount_types)
        amounts += amount
        tax += line_tax
    if line_amount_types == "Inclusive":
        return XeroTotals(subtotal=amounts - tax, tax=tax, total=amounts)
    return XeroTotals(subtotal=amounts, tax=tax, total=amounts + tax)


def expected_totals(doc: SalesDocumentSnapshot, line_amount_types: str) -> XeroTotals:
    """What Xero will compute for ``doc`` sent with ``line_amount_types`` (before any rounding line)."""
    rows = []
    for line in doc.lines:
        quantity, unit = line_unit_amount(line, line_amount_types)
        rows.append((quantity, unit, _rate(line)))
    return xero_totals(rows, line_amount_types)


def our_totals(doc: SalesDocumentSnapshot) -> XeroTotals:
    """Ours, as Xero counts them: the subtotal is what the lines add up to (discounts and kept lines netted)."""
    return XeroTotals(subtotal=doc.total - doc.tax_total, tax=doc.tax_total, total=doc.total)


def rounding_difference(doc: SalesDocumentSnapshot, line_amount_types: str) -> Decimal:
    """Our total minus Xero's: what a rounding adjustment line has to carry."""
    return doc.total - expected_totals(doc, line_amount_types).total


def rounding_problems(doc: SalesDocumentSnapshot, settings: SalesSettings) -> list[str]:
    """Plain-language problems when Xero's per-line rounding would give other totals than ours."""
    types = settings.line_amount_types
    theirs, ours = expected_totals(doc, types), our_totals(doc)
    if settings.allow_rounding_adjustment:
        difference = ours.total - theirs.total
        limit = CENT * (len(doc.lines) + 1)
        if abs(difference) > limit:
            return [f"Xero would compute a total of {theirs.total} where this document has {ours.total}; the "
                    f"difference ({difference}) is more than rounding, so no rounding line is added. Check the "
                    "document's line amounts and tax rates"]
        if difference and not settings.rounding_account:
            return ["a rounding adjustment line is needed but the connection has no “rounding_account” setting"]
        return []
    if theirs.tax == ours.tax and theirs.total == ours.total and theirs.subtotal == ours.subtotal:
        return []
    return [f"Xero rounds tax on each line and would compute tax {theirs.tax} and total {theirs.total} where "
            f"this document has tax {ours.tax} and total {ours.total} (amounts {types.lower()} of tax). Turn on "
            "the connection's “allow_rounding_adjustment” setting to add a rounding line, or adjust the "
            "document's prices or quantities"]


def sales_lines(doc: SalesDocumentSnapshot, mapping: Mapping, item_codes: dict[str, str],
                settings: SalesSettings) -> list[dict]:
    lines = []
    for i, line in enumerate(doc.lines):
        quantity, unit = line_unit_amount(line, settings.line_amount_types)
        body = {"Description": (line.description or line.item_name or line.kind.title())[:DESCRIPTION_MAX],
                "Quantity": quantity, "UnitAmount": unit}
        account = mapping.line_accounts[i] if i < len(mapping.line_accounts) else None
        code = item_codes.get(line.item_key) if line.item_key and line.kind != "discount" else None
        if account:
            body["AccountCode"] = account
        elif not code:
            raise ConfigurationError(f"line {i + 1} ({line.kind}) has no account code mapped and no item",
                                     hint="Map an income account for this line kind (Admin → Mappings).")
        if code:
            body["ItemCode"] = code
        if settings.line_amount_types == "NoTax":
            pass
        elif line.tax_rate_key:
            try:
                body["TaxType"] = mapping.tax_codes[line.tax_rate_key]
            except KeyError:
                raise ConfigurationError(f"line {i + 1}: tax rate “{line.tax_rate_name}” has no Xero tax type "
                                         "mapped", hint="Map the tax rate to a Xero TaxType.") from None
        else:
            body["TaxType"] = settings.no_tax_type
        if pair := TRACKING.pair(mapping.line_dimension(TRACKING.kind, i) or ""):
            body["Tracking"] = [{"Name": pair[0], "Option": pair[1]}]
        lines.append(body)
    if settings.allow_rounding_adjustment:
        difference = rounding_difference(doc, settings.line_amount_types)
        if difference:
            adjustment = {"Description": ROUNDING_DESCRIPTION, "Quantity": Decimal("1"), "UnitAmount": difference,
                          "AccountCode": settings.rounding_account}
            if settings.line_amount_types != "NoTax":
                adjustment["TaxType"] = settings.no_tax_type
            lines.append(adjustment)
    return lines


def sales_payload(doc: SalesDocumentSnapshot, mapping: Mapping, item_codes: dict[str, str],
                  settings: SalesSettings) -> dict:
    """An ACCREC invoice or an ACCRECCREDIT credit note (without allocations)."""
    is_credit = isinstance(doc, CreditNoteSnapshot)
    body = {
        "Type": "ACCRECCREDIT" if is_credit else "ACCREC",
        "Contact": {"ContactID": mapping.refs[doc.customer_key]},
        ("CreditNoteNumber" if is_credit else "InvoiceNumber"): doc.number[:NUMBER_MAX],
        "LineAmountTypes": settings.line_amount_types,
        "CurrencyCode": doc.currency,
        "Status": settings.status,
        "LineItems": sales_lines(doc, mapping, item_codes, settings),
    }
    if doc.issue_date:
        body["Date"] = doc.issue_date.isoformat()
    if isinstance(doc, InvoiceSnapshot) and doc.due_date:  # else Xero applies the contact's/org's terms
        body["DueDate"] = doc.due_date.isoformat()
    if doc.memo:
        body["Reference"] = doc.memo[:REFERENCE_MAX]
    if doc.exchange_rate and settings.send_currency_rate:
        body["CurrencyRate"] = currency_rate(doc.exchange_rate)
    return body


def currency_rate(home_per_foreign: Decimal) -> Decimal:
    """Xero's CurrencyRate is foreign units per one home unit: the inverse of our rate, to 6 places."""
    return (Decimal(1) / Decimal(home_per_foreign)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def allocation_payload(invoice_id: str, amount: Decimal, date) -> dict:
    return {"Invoice": {"InvoiceID": invoice_id}, "Amount": q2(amount), "Date": date.isoformat()}


# -- payments ---------------------------------------------------------------------------------------------
def payment_payload(doc: PaymentSnapshot, mapping: Mapping, send_currency_rate: bool = True) -> dict:
    allocation = doc.allocations[0]
    body = {
        "Invoice": {"InvoiceID": mapping.refs[allocation.invoice_key]},
        "Account": {"Code": mapping.deposit_account},
        "Amount": q2(allocation.amount),
        "Reference": doc.number[:REFERENCE_MAX],
    }
    if doc.date:
        body["Date"] = doc.date.isoformat()
    if doc.exchange_rate and send_currency_rate:
        body["CurrencyRate"] = currency_rate(doc.exchange_rate)
    return body


#: A payment applied to no invoice is an overpayment in Xero: our remote id for it names the ``Overpayments``
#: record (``overpayment:<OverpaymentID>``), so that it is read from there and never taken for a ``PaymentID``.
OVERPAYMENT_PREFIX = "overpayment:"


def overpayment_id(remote_id: str | None) -> str | None:
    """The ``OverpaymentID`` in our remote id of a payment sent as an overpayment; None for a Xero payment."""
    text = str(remote_id or "")
    return text[len(OVERPAYMENT_PREFIX):] if text.startswith(OVERPAYMENT_PREFIX) else None


def is_overpayment(doc: PaymentSnapshot) -> bool:
    """A payment applied to no invoice: Xero holds it as an overpayment (the customer's credit)."""
    return not doc.allocations and doc.amount > 0


def overpayment_payload(doc: PaymentSnapshot, mapping: Mapping, receivable_code: str,
                        send_currency_rate: bool = True) -> dict:
    """Xero makes an overpayment with a ``BankTransaction`` of ``Type`` RECEIVE-OVERPAYMENT: money received into
    the bank account from the contact, its one line on the accounts receivable account (the credit it leaves)."""
    body = {"Type": "RECEIVE-OVERPAYMENT", "Contact": {"ContactID": mapping.refs[doc.customer_key]},
            "BankAccount": {"Code": mapping.deposit_account}, "Reference": doc.number[:REFERENCE_MAX],
            "LineAmountTypes": "NoTax", "CurrencyCode": doc.currency,
            "LineItems": [{"Description": f"Overpayment {doc.number}"[:DESCRIPTION_MAX], "Quantity": Decimal("1"),
                           "UnitAmount": q2(doc.amount), "AccountCode": receivable_code}]}
    if doc.date:
        body["Date"] = doc.date.isoformat()
    if doc.exchange_rate and send_currency_rate:
        body["CurrencyRate"] = currency_rate(doc.exchange_rate)
    return body


def payment_problems(doc: PaymentSnapshot) -> list[str]:
    if is_overpayment(doc):
        return []
    if len(doc.allocations) != 1:
        return [f"Xero records a payment against exactly one invoice; this payment is allocated to "
                f"{len(doc.allocations)} invoices. Record one payment per invoice in the business system"]
    if doc.allocations[0].amount != doc.amount:
        return [f"Xero cannot hold unallocated money on a payment: the payment is {doc.amount} but "
                f"{doc.allocations[0].amount} is allocated. Allocate the whole amount (a payment applied to no "
                f"invoice is sent as an overpayment)"]
    return []


# -- results ----------------------------------------------------------------------------------------------
#: What a person can change on a sales document in Xero (used for ``RemoteResult.fingerprint``).
_SALES_CONTENT = ("Type", "InvoiceNumber", "CreditNoteNumber", "Reference", "DateString", "Date", "DueDateString",
                  "DueDate", "LineAmountTypes", "CurrencyCode", "CurrencyRate", "SubTotal", "TotalTax", "Total")
_LINE_CONTENT = ("Description", "Quantity", "UnitAmount", "ItemCode", "AccountCode", "TaxType", "TaxAmount",
                 "LineAmount", "DiscountRate", "DiscountAmount", "Tracking")
#: What Xero changes by itself on other records.
_VOLATILE = frozenset({"UpdatedDateUTC", "UpdatedDateUTCString", "HasAttachments", "HasValidationErrors",
                       "HasErrors", "ValidationErrors", "Warnings", "StatusAttributeString", "Balances",
                       "IsCustomer", "IsSupplier", "QuantityOnHand", "TotalCostPool", "Id"})


def fingerprint(entity: str, body: dict) -> str:
    if entity in ("invoice", "credit_note", "bill"):
        content = {k: body.get(k) for k in _SALES_CONTENT if k in body}
        content["Contact"] = (body.get("Contact") or {}).get("ContactID")
        content["LineItems"] = [{k: line.get(k) for k in _LINE_CONTENT if k in line}
                                for line in body.get("LineItems") or ()]
    else:
        content = {k: v for k, v in body.items() if k not in _VOLATILE}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


_HAS_FINGERPRINT = "fingerprint" in {f.name for f in dataclasses.fields(RemoteResult)}
_CLOSED = {"VOIDED": "voided", "DELETED": "deleted"}


def overpayment_result(body: dict, adopted: bool = False) -> RemoteResult:
    """Our payment sent as an overpayment: its ``Total``, and the credit not yet refunded nor allocated
    (``RemainingCredit``) as its balance. A VOIDED overpayment counts for nothing."""
    status = str(body.get("Status") or "").upper()
    total, balance = body.get("Total"), body.get("RemainingCredit")
    if status in _CLOSED:
        total = balance = ZERO
    total = q2(Decimal(str(total))) if total is not None else None
    extra = {"fingerprint": fingerprint("overpayment", body)} if _HAS_FINGERPRINT else {}
    return RemoteResult(
        remote_id=OVERPAYMENT_PREFIX + str(body["OverpaymentID"]), version=str(body.get("UpdatedDateUTC") or ""),
        number=str(body.get("Reference") or ""), total=total,
        balance=q2(Decimal(str(balance))) if balance is not None else None,
        status=_CLOSED.get(status) or "active", adopted=adopted, raw=body,
        home_total=home_total(total, body.get("CurrencyRate")), **extra)


def result(entity: str, body: dict, adopted: bool = False) -> RemoteResult:
    """A RemoteResult from a Xero record. Voided and deleted documents count for nothing: total 0.00."""
    if entity == "payment" and body.get("OverpaymentID") and not body.get("PaymentID"):
        return overpayment_result(body, adopted)
    _, id_field, number_field = ENTITIES[entity]
    status = str(body.get("Status") or body.get("ContactStatus") or "").upper()
    number = str(body.get(number_field) or "")
    if entity in ("payment", "refund", "bill_payment"):
        total, balance = body.get("Amount"), None
    elif entity == "expense":
        total, balance = body.get("Total"), None
    elif entity == "journal":
        number = number.split(NARRATION_SEPARATOR, 1)[0]
        amounts = [Decimal(str(line.get("LineAmount") or 0)) for line in body.get("JournalLines") or ()]
        total, balance = sum((amount for amount in amounts if amount > 0), ZERO), None  # its debits
    elif entity == "credit_note":
        total, balance = body.get("Total"), body.get("RemainingCredit")
    elif entity in ("invoice", "bill"):
        total, balance = body.get("Total"), body.get("AmountDue")
    else:
        total = balance = None
    if status in _CLOSED and total is not None:
        total = balance = ZERO
    extra = {"fingerprint": fingerprint(entity, body)} if _HAS_FINGERPRINT else {}
    total = q2(Decimal(str(total))) if total is not None else None
    return RemoteResult(
        remote_id=str(body[id_field]), version=str(body.get("UpdatedDateUTC") or ""),
        number=number, total=total,
        balance=q2(Decimal(str(balance))) if balance is not None else None,
        status=_CLOSED.get(status) or ("inactive" if status == "ARCHIVED" else "active"),
        adopted=adopted, raw=body, home_total=home_total(total, body.get("CurrencyRate")), **extra)


def home_total(total: Decimal | None, rate) -> Decimal | None:
    """A document's total in the organisation's base currency: Xero's ``CurrencyRate`` is foreign units per
    base unit, so the total divided by it (a base-currency document has rate 1)."""
    if total is None:
        return None
    return q2(total / Decimal(str(rate))) if rate else total


__all__ = ["dumps", "item_code", "contact_payload", "item_payload", "sales_payload", "payment_payload", "result",
           "xero_totals", "expected_totals", "rounding_problems", "SalesSettings", "CustomerSnapshot",
           "InvoiceSnapshot", "ItemSnapshot", "PaymentSnapshot"]


# -- platform -> local: what a document created in Xero is made of ---------------------------------------------
def remote_lines(body: dict, rounding_account: str = "") -> tuple[RemoteLine, ...]:
    """The sales lines of an invoice / credit note (not discounts, not our rounding line), in order."""
    found = []
    for line in body.get("LineItems") or ():
        price = Decimal(str(line.get("UnitAmount", "0")))
        if price < 0 or (rounding_account and line.get("AccountCode") == rounding_account):
            continue
        item = line.get("Item") or {}
        found.append(RemoteLine(Decimal(str(line.get("Quantity", "1"))), price,
                                description=str(line.get("Description") or ""),
                                item_remote_id=str(item.get("ItemID") or ""),
                                item_name=str(item.get("Name") or ""),
                                item_code=str(item.get("Code") or line.get("ItemCode") or ""),
                                tax_code=str(line.get("TaxType") or "")))
    return tuple(found)


def remote_allocations(body: dict) -> tuple[tuple[str, Decimal], ...]:
    """A credit note's allocations to invoices: (InvoiceID, amount) each, deleted ones left out."""
    return tuple((str(a["Invoice"]["InvoiceID"]), Decimal(str(a.get("Amount") or 0)))
                 for a in body.get("Allocations") or () if (a.get("Invoice") or {}).get("InvoiceID")
                 and not a.get("IsDeleted"))


def remote_customer(contact: dict) -> RemoteCustomer:
    """A Contact: its name, e-mail and tax number (or, without one, its company registration number)."""
    return RemoteCustomer(str(contact.get("ContactID") or ""), str(contact.get("Name") or ""),
                          email=str(contact.get("EmailAddress") or ""),
                          tax_number=str(contact.get("TaxNumber") or contact.get("CompanyNumber") or ""),
                          currency=str(contact.get("DefaultCurrency") or ""),
                          version=str(contact.get("UpdatedDateUTC") or ""),
                          active={"ACTIVE": True, "ARCHIVED": False, "GDPRREQUEST": False}.get(
                              str(contact.get("ContactStatus") or "").upper()))


def remote_item(body: dict) -> RemoteItem:
    price = (body.get("SalesDetails") or {}).get("UnitPrice")
    return RemoteItem(str(body.get("ItemID") or ""), str(body.get("Name") or body.get("Code") or ""),
                      code=str(body.get("Code") or ""),
                      unit_price=Decimal(str(price)) if price is not None else None,
                      kind="product" if body.get("IsTrackedAsInventory") else "service",
                      version=str(body.get("UpdatedDateUTC") or ""))


def remote_date(value) -> dt.date | None:
    """Xero's ``/Date(1552262400000+0000)/`` or an ISO date(-time) as a date."""
    text = str(value or "")
    if text.startswith("/Date(") and text.endswith(")/"):
        digits = re.split(r"[+-]", text[6:-2].lstrip("-"))[0]
        return dt.datetime.fromtimestamp(int(digits) / 1000, dt.UTC).date() if digits.isdigit() else None
    return dt.date.fromisoformat(text[:10]) if len(text) >= 10 else None
