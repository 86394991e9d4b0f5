"""Snapshots to Service Layer bodies and Service Layer entities back to our results: pure functions.

Our number travels in ``NumAtCard`` (an A/R document's "Customer Ref. No.") and in an incoming payment's
``CounterReference``; SAP Business One numbers documents itself (``DocNum``) and keys them by ``DocEntry``. A credit
note is added on its own and applied to invoices by internal reconciliations (:func:`reconciliation`), so part of it
can be applied and the rest kept as the customer's credit. Amounts go out as ``Decimal`` (exact JSON numbers) and
come back as ``Decimal``.
"""
from __future__ import annotations

from decimal import Decimal

from .. import rest
from ..base import RemoteCustomer, RemoteItem
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, Entity, InvoiceSnapshot, ItemSnapshot, Mapping,
                         PaymentSnapshot, RemoteResult)
from ..errors import ConfigurationError

ZERO = Decimal("0.00")
#: Object type of an A/R invoice (SAP Business One object type 13, a reconciliation row's ``SrcObjTyp``).
AR_INVOICE = 13
#: Object type of an A/R credit note.
AR_CREDIT_NOTE = 14
#: The price list an item's price goes into.
PRICE_LIST = 1
#: Entity set and the field holding our number or name, per entity.
ENTITY_SETS = {Entity.CUSTOMER: ("BusinessPartners", "CardName"), Entity.ITEM: ("Items", "ItemName"),
               Entity.INVOICE: ("Invoices", "NumAtCard"), Entity.CREDIT_NOTE: ("CreditNotes", "NumAtCard"),
               Entity.PAYMENT: ("IncomingPayments", "CounterReference"),
               Entity.REFUND: ("VendorPayments", "CounterReference"), Entity.EXPENSE: ("VendorPayments",
                                                                                       "CounterReference"),
               Entity.JOURNAL: ("JournalEntries", "Reference")}
#: The key of each entity set's records (a journal entry is keyed by its transaction number).
KEYS = {Entity.CUSTOMER: "CardCode", Entity.ITEM: "ItemCode", Entity.JOURNAL: "JdtNum"}
#: What an outgoing payment of ours pays: a customer (a refund) or accounts (an expense).
PAYMENT_TYPES = {Entity.REFUND: "rCustomer", Entity.EXPENSE: "rAccount"}
DOCUMENT_HEAD = ("CardCode", "NumAtCard", "DocCurrency")
DOCUMENT_LINE = ("ItemCode", "AccountCode", "ItemDescription", "Quantity", "UnitPrice", "VatGroup")


def key_of(entity: str) -> str:
    return KEYS.get(entity, "DocEntry")


def ref_id(mapping: Mapping, key: str | None, what: str) -> str:
    if not key or key not in mapping.refs:
        raise ConfigurationError(f"the {what} of this document has no SAP Business One code yet ({key})",
                                 hint="Sync it first; the pipeline normally does this by itself.")
    return str(mapping.refs[key])


def business_partner(doc: CustomerSnapshot, card_code: str) -> dict:
    """A customer: ``CardType`` cCustomer; ``card_code`` is chosen by the caller (the Service Layer needs one
    unless the company numbers partners by series)."""
    return rest.clean({"CardCode": card_code, "CardName": doc.name[:100], "CardType": "cCustomer",
                       "EmailAddress": doc.email or None})


def item(doc: ItemSnapshot, item_code: str) -> dict:
    """A sales item; a service is a non-inventory item (``InventoryItem`` tNO). Its price goes into the first
    price list (``ItemPrices``, ``PriceList`` 1)."""
    return {"ItemCode": item_code, "ItemName": doc.name[:100], "SalesItem": "tYES",
            "InventoryItem": "tNO" if doc.kind == "service" else "tYES",
            "ItemPrices": [{"PriceList": PRICE_LIST, "Price": doc.unit_price}]}


def remote_customer(body: dict) -> RemoteCustomer:
    """A business partner: ``CardName``, ``EmailAddress``, ``FederalTaxID``, its currency ("##" is all: none),
    active unless not ``Valid`` or ``Frozen``."""
    currency = str(body.get("Currency") or "")
    return RemoteCustomer(str(body["CardCode"]), str(body.get("CardName") or ""),
                          email=str(body.get("EmailAddress") or ""), tax_number=str(body.get("FederalTaxID") or ""),
                          currency="" if currency == "##" else currency,
                          version=result(Entity.CUSTOMER, body).version, active=_active(body))


def remote_item(body: dict) -> RemoteItem:
    """A sales item: ``ItemName``, the first price list's price, ``InventoryItem``. No code: the ``ItemCode`` of
    ours is chosen by the connector, not our SKU."""
    return RemoteItem(str(body["ItemCode"]), str(body.get("ItemName") or ""), unit_price=item_price(body),
                      kind="product" if body.get("InventoryItem") == "tYES" else "service",
                      version=result(Entity.ITEM, body).version, active=_active(body))


def _active(body: dict) -> bool:
    return body.get("Valid", "tYES") == "tYES" and body.get("Frozen", "tNO") == "tNO"


def item_price(body: dict) -> Decimal | None:
    """The item's price in the first price list, as read back."""
    for row in body.get("ItemPrices") or []:
        if int(row.get("PriceList") or 0) == PRICE_LIST:
            return rest.money(row.get("Price"))
    return None


def document_lines(doc: InvoiceSnapshot | CreditNoteSnapshot, mapping: Mapping) -> list:
    """One line per snapshot line: the mapped revenue account, the item where it is known, the VAT group; a
    discount line as a negative unit price, and so is a line of a credit note the business keeps (a restocking
    fee): it nets the credit, on its own income account."""
    lines = []
    credit = isinstance(doc, CreditNoteSnapshot)
    for index, line in enumerate(doc.lines):
        account = mapping.line_account(index)
        if not account:
            raise ConfigurationError(f"line {index + 1} of {doc.number} has no revenue account mapped",
                                     hint="Map an income account in the mapping editor.")
        price = -line.unit_price if line.kind == "discount" or (credit and line.kept) else line.unit_price
        body = {"AccountCode": account, "ItemDescription": (line.description or line.item_name or "-")[:100],
                "Quantity": line.quantity, "UnitPrice": price}
        if line.item_key and line.item_key in mapping.refs:
            body["ItemCode"] = mapping.refs[line.item_key]
        tax = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        if tax:
            body["VatGroup"] = tax
        lines.append(body)
    return lines


def document(doc: InvoiceSnapshot | CreditNoteSnapshot, mapping: Mapping) -> dict:
    """An A/R invoice or credit note. A credit note is never based on an invoice here (a based one is applied for
    its whole amount): what is applied of it is reconciled with the invoices (:func:`reconciliation`)."""
    body = {"CardCode": ref_id(mapping, doc.customer_key, "customer"), "NumAtCard": doc.number[:100],
            "DocCurrency": doc.currency, "DocDate": rest.iso_date(doc.issue_date),
            "DocDueDate": rest.iso_date(getattr(doc, "due_date", None)), "Comments": doc.memo or None,
            "DocumentLines": document_lines(doc, mapping)}
    return rest.clean(body)


def payment(doc: PaymentSnapshot, mapping: Mapping) -> dict:
    """An incoming payment by bank transfer into the mapped deposit account, applied to its invoices."""
    if not mapping.deposit_account:
        raise ConfigurationError("no deposit account is mapped for payments",
                                 hint="Map a deposit account (the transfer account of incoming payments).")
    applied = [{"DocEntry": int(ref_id(mapping, a.invoice_key, "invoice")), "SumApplied": a.amount,
                "InvoiceType": "it_Invoice"} for a in doc.allocations if a.amount]
    return rest.clean({"CardCode": ref_id(mapping, doc.customer_key, "customer"), "DocDate": rest.iso_date(doc.date),
                       "DocCurrency": doc.currency, "TransferAccount": mapping.deposit_account,
                       "TransferSum": doc.amount, "CounterReference": doc.number[:100],
                       "PaymentInvoices": applied})


def reconciliation(card_code: str, invoice: dict, note: dict, amount: Decimal, on: str | None) -> dict:
    """An internal reconciliation of ``amount`` between an invoice (debit) and a credit note (credit) of the same
    business partner, each named by its object type, ``DocEntry`` and journal entry (``TransNum``)."""
    def row(doc: dict, kind: int, side: str) -> dict:
        return {"Selected": "tYES", "ShortName": card_code, "TransId": doc.get("TransNum"), "TransRowId": 0,
                "SrcObjTyp": str(kind), "SrcObjAbs": int(doc["DocEntry"]), "CreditOrDebit": side,
                "ReconcileAmount": amount}
    return rest.clean({"ReconDate": on, "CardOrAccount": "coaCard",
                       "InternalReconciliationOpenTransRows": [row(invoice, AR_INVOICE, "codDebit"),
                                                               row(note, AR_CREDIT_NOTE, "codCredit")]})


def document_content(body: dict) -> str:
    """What a person could edit on an invoice or credit note, the same from what we wrote and what is read back
    (the Service Layer adds ``LineNum``, ``LineTotal``... which are left out)."""
    return rest.content_hash("document", body, DOCUMENT_HEAD, DOCUMENT_LINE, lines="DocumentLines")


def version(body: dict, content: str) -> str:
    """The Service Layer has no version counter on documents: the update stamp, the content hash and whether it
    is cancelled stand in (a cancel within the second of the last write still changes the version)."""
    cancelled = "/c" if body.get("Cancelled") == "tYES" else ""  # 34 characters at most (a reference keeps 50)
    return f"{str(body.get('UpdateDate') or '')[:10]}T{body.get('UpdateTime') or ''}/{content[:12]}{cancelled}"


def result(entity: str, body: dict, adopted: bool = False) -> RemoteResult:
    """A read or written entity as our result. A cancelled document is "voided" with nothing due; a document's
    balance is its total less what is applied to it (``PaidToDate``)."""
    if entity in (Entity.CUSTOMER, Entity.ITEM):
        key, name = ("CardCode", "CardName") if entity == Entity.CUSTOMER else ("ItemCode", "ItemName")
        extra = [rest.plain(item_price(body))] if entity == Entity.ITEM else []
        content = rest.content_hash(entity, body, (name,), extra=extra)
        active = body.get("Valid", "tYES") == "tYES" and body.get("Frozen", "tNO") == "tNO"
        return RemoteResult(str(body[key]), version(body, content), str(body.get(name) or ""),
                            status="active" if active else "inactive", adopted=adopted, raw=body, fingerprint=content)
    cancelled = body.get("Cancelled") == "tYES"
    if entity in (Entity.REFUND, Entity.EXPENSE, Entity.JOURNAL):
        return cost_result(entity, body, adopted)
    if entity == Entity.PAYMENT:
        content = rest.content_hash(entity, body, ("CardCode", "TransferSum", "CashSum", "CounterReference"))
        total = ZERO if cancelled else (rest.money(body.get("TransferSum")) or ZERO) + \
            (rest.money(body.get("CashSum")) or ZERO)
        return RemoteResult(str(body["DocEntry"]), version(body, content), str(body.get("CounterReference") or ""),
                            total, None, "voided" if cancelled else "active", adopted, body, content)
    content = document_content(body)
    total = ZERO if cancelled else rest.money(body.get("DocTotal"))
    balance = ZERO if cancelled or total is None else total - (rest.money(body.get("PaidToDate")) or ZERO)
    return RemoteResult(str(body["DocEntry"]), version(body, content), str(body.get("NumAtCard") or ""), total,
                        balance, "voided" if cancelled else "active", adopted, body, content)


#: What a person could edit on a refund, an expense or a journal, the same from what we wrote and what is read back.
COST_HEAD = {Entity.REFUND: ("CardCode", "DocDate", "DocCurrency", "CashAccount", "CashSum", "TransferAccount",
                             "TransferSum", "CounterReference"),
             Entity.EXPENSE: ("DocDate", "DocCurrency", "CashAccount", "CashSum", "TransferAccount", "TransferSum",
                              "CounterReference"),
             Entity.JOURNAL: ("ReferenceDate", "Memo", "Reference")}
COST_LINES = {Entity.EXPENSE: ("PaymentAccounts", ("AccountCode", "SumPaid", "SumPaidFC", "VatGroup",
                                                   "Decription")),
              Entity.JOURNAL: ("JournalEntryLines", ("AccountCode", "Debit", "Credit", "LineMemo"))}


def cost_result(entity: str, body: dict, adopted: bool = False) -> RemoteResult:
    """A refund or an expense (an outgoing payment: its cash and transfer sums) or a journal entry (its debits). A
    cancelled payment, and a journal entry the connector found reversed (``_reversed``, set by the connector from
    the reversing entry), are "voided" with nothing left. An expense's home total is its total at ``DocRate``."""
    lines, line_fields = COST_LINES.get(entity, ("", ()))
    applied = sorted((plain_id(row.get("DocEntry")), rest.plain(row.get("SumApplied")))
                     for row in body.get("PaymentInvoices") or [])
    content = rest.content_hash(entity, body, COST_HEAD[entity], line_fields, lines=lines or "-", extra=applied)
    voided = body.get("Cancelled") == "tYES" or bool(body.get("_reversed"))
    if entity == Entity.JOURNAL:
        key, number = "JdtNum", body.get("Reference")
        total = sum((rest.money(line.get("Debit")) or ZERO for line in body.get("JournalEntryLines") or []), ZERO)
    else:
        key, number = "DocEntry", body.get("CounterReference")
        total = (rest.money(body.get("TransferSum")) or ZERO) + (rest.money(body.get("CashSum")) or ZERO)
    home = None
    rate = rest.money(body.get("DocRate")) if entity == Entity.EXPENSE else None
    if rate:
        home = ZERO if voided else (total * Decimal(str(body.get("DocRate")))).quantize(Decimal("0.01"))
    cancelled = "/c" if voided else ""
    stamp = f"{str(body.get('UpdateDate') or '')[:10]}T{body.get('UpdateTime') or ''}/{content[:12]}{cancelled}"
    return RemoteResult(str(body[key]), stamp, str(number or ""), ZERO if voided else total, None,
                        "voided" if voided else "active", adopted, body, content, home_total=home)


def plain_id(value) -> str:
    return "" if value is None else str(value)
