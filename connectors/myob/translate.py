"""Pure translation between our snapshots and MYOB Business API v2 JSON (field names from MYOB's API reference
pages for Contact/Customer, Inventory/Item, Sale/Invoice, Sale/CustomerPayment and Sale/CreditSettlement). No I/O
here.

MYOB has no credit-note object: a credit note is a sale with negative lines (its ``TotalAmount`` is negative and
its ``Status`` "Credit"), applied to invoices with a credit settlement. Our totals are positive either way.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ledger.money import line_net, quantize
from ..base import DocumentTotals, RemoteCustomer, RemoteDocument, RemoteItem, RemoteLine, RemotePayment
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, Entity, InvoiceSnapshot, ItemSnapshot, Mapping,
                         PaymentSnapshot, RemoteResult, SalesDocumentSnapshot)
from ..rest import clean, content_hash, money, parse_time, plain

CUSTOMERS, ITEMS, PAYMENTS, SETTLEMENTS = ("Contact/Customer", "Inventory/Item", "Sale/CustomerPayment",
                                           "Sale/CreditSettlement")
SALES = "Sale/Invoice"
REFUNDS, SPENDS, JOURNALS = "Sale/CreditRefund", "Banking/SpendMoneyTxn", "GeneralLedger/GeneralJournal"
LAYOUTS = ("Service", "Item")
#: Our payment methods -> MYOB payment method names (a new AccountRight file's list; a guess, see docs).
PAYMENT_METHODS = {"cash": "Cash", "card": "Visa", "check": "Cheque", "transfer": "EFT"}
REVERSAL = "Reversal;"  # the journal memo AccountRight gives a reversing sale
VOID = "Void;"  # how our emulated void marks a sale's journal memo
ZERO = Decimal("0.00")
NAME_LENGTH, ITEM_LENGTH, NUMBER_LENGTH = 50, 30, 13


def link(uid: str | None) -> dict | None:
    return {"UID": uid} if uid else None


def myob_date(value: dt.date | None) -> str | None:
    return f"{value.isoformat()}T00:00:00" if value else None


# -- snapshots -> MYOB ----------------------------------------------------------------------------------------------
def customer_payload(doc: CustomerSnapshot, tax_code: str) -> dict:
    """A company customer card. MYOB needs a sale and a freight tax code on every customer; ``tax_code`` (the
    connection's default) is both. Sub-customers do not exist in MYOB: a parent is not sent."""
    body = {"CompanyName": doc.name[:NAME_LENGTH], "IsIndividual": False, "IsActive": True,
            "SellingDetails": {"TaxCode": link(tax_code), "FreightTaxCode": link(tax_code)}}
    if doc.email:
        body["Addresses"] = [{"Location": 1, "Email": doc.email[:255]}]
    if doc.tax_number:
        body["SellingDetails"]["ABN"] = doc.tax_number[:14]  # MYOB's ABN: 11 digits, 14 with its spaces
    return body


def item_number(doc: ItemSnapshot) -> str:
    """The item's ``Number`` (MYOB's unique item code, 30 characters): our SKU, else our name."""
    return (doc.sku or doc.name)[:ITEM_LENGTH]


def item_payload(doc: ItemSnapshot, mapping: Mapping) -> dict:
    return {"Number": item_number(doc), "Name": doc.name[:ITEM_LENGTH], "IsActive": True, "IsSold": True,
            "IsBought": False, "IsInventoried": False, "IncomeAccount": link(mapping.item_account),
            "SellingDetails": {"BaseSellingPrice": doc.unit_price, "IsTaxInclusive": False}}


def layout(doc: SalesDocumentSnapshot, mapping: Mapping) -> str:
    """``Item`` when every line sells a mapped item (quantities and prices kept), else ``Service`` (a total and
    an account per line)."""
    if doc.lines and all(line.item_key and mapping.refs.get(line.item_key) for line in doc.lines):
        return "Item"
    return "Service"


def sales_payload(doc: SalesDocumentSnapshot, mapping: Mapping, kind: str, no_tax: str) -> dict:
    """An invoice, or a credit note as a sale with negative lines. A discount line is a negative line on the
    mapped discount account; on a credit note, a line the business keeps (a restocking fee) is a positive line on
    its mapped income account, so the credit is what goes back to the customer. Every MYOB line needs a tax code:
    a line without one gets ``no_tax``."""
    credit = -1 if isinstance(doc, CreditNoteSnapshot) else 1
    lines = []
    for i, line in enumerate(doc.lines):
        # a discount nets the document; a line the business keeps (restocking fee) nets the credit
        sign = credit * (-1 if line.kind == "discount" or (credit < 0 and line.kept) else 1)
        tax = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        out = {"Type": "Transaction", "Description": (line.description or line.item_name or line.kind.title())[:255],
               "TaxCode": link(tax or no_tax)}
        if kind == "Item":
            out.update(Item=link(mapping.refs[line.item_key]), ShipQuantity=sign * line.quantity,
                       UnitPrice=line.unit_price)
        else:
            out.update(Total=sign * line_net(line.quantity, line.unit_price), UnitCount=sign * line.quantity,
                       UnitPrice=line.unit_price,
                       Account=link(mapping.line_accounts[i] if i < len(mapping.line_accounts) else None))
        lines.append(clean(out))
    return clean({"Number": doc.number, "Date": myob_date(doc.issue_date),
                  "Customer": link(mapping.refs[doc.customer_key]), "IsTaxInclusive": False, "Lines": lines,
                  "JournalMemo": (doc.memo or f"Sale {doc.number}")[:255]})


def payment_payload(doc: PaymentSnapshot, mapping: Mapping) -> dict:
    """A customer payment applied to invoices, deposited to the mapped account. MYOB holds no unapplied money in
    a payment: the amount is what is applied."""
    return clean({
        "DepositTo": "Account", "Account": link(mapping.deposit_account),
        "Customer": link(mapping.refs[doc.customer_key]), "ReceiptNumber": doc.number[:NUMBER_LENGTH],
        "Date": myob_date(doc.date), "AmountReceived": doc.amount,
        "PaymentMethod": PAYMENT_METHODS.get(doc.method, "Other"), "Memo": doc.memo[:255],
        "Invoices": [{"UID": mapping.refs[a.invoice_key], "AmountApplied": a.amount, "Type": "Invoice"}
                     for a in doc.allocations]})


def credit_applications(doc: CreditNoteSnapshot, mapping: Mapping) -> dict[str, Decimal]:
    """The invoices (UID -> amount) our credit note is applied to."""
    return {mapping.refs[a.invoice_key]: quantize(a.amount) for a in doc.allocations if a.amount}


def settlement_payload(note: dict, wanted: dict[str, Decimal]) -> dict:
    return {"CreditFromInvoice": link(note["UID"]), "Customer": link((note.get("Customer") or {}).get("UID")),
            "Date": note.get("Date"), "Memo": f"Credit {note.get('Number', '')} applied"[:255],
            "Lines": [{"Type": "Invoice", "Sale": link(uid), "AmountApplied": amount} for uid, amount in
                      wanted.items()]}


# -- MYOB -> our terms ----------------------------------------------------------------------------------------------
def uid(value) -> str:
    return str(value.get("UID") or "") if isinstance(value, dict) else ""


def _flat(entity: str, body: dict) -> tuple[dict, list[dict]]:
    """The editable content of a record as one flat dict (links by UID), and its lines."""
    if entity == Entity.CUSTOMER:
        email = next((a.get("Email") for a in body.get("Addresses") or [] if a.get("Email")), "")
        return {"name": body.get("CompanyName"), "email": email, "active": body.get("IsActive")}, []
    if entity == Entity.ITEM:
        selling = body.get("SellingDetails") or {}
        return {"number": body.get("Number"), "name": body.get("Name"), "price": selling.get("BaseSellingPrice"),
                "account": uid(body.get("IncomeAccount")), "active": body.get("IsActive")}, []
    if entity == Entity.PAYMENT:
        return {"customer": uid(body.get("Customer")), "date": body.get("Date"), "amount": body.get("AmountReceived"),
                "number": body.get("ReceiptNumber"), "method": body.get("PaymentMethod"),
                "account": uid(body.get("Account")), "memo": body.get("Memo")}, []
    if entity == Entity.REFUND:
        return {"customer": uid(body.get("Customer")), "credit": uid(body.get("Invoice")),
                "account": uid(body.get("Account")), "number": body.get("Number"), "date": body.get("Date"),
                "amount": body.get("Amount"), "memo": body.get("Memo")}, []
    if entity in (Entity.EXPENSE, Entity.JOURNAL):
        lines = [{"account": uid(line.get("Account")), "tax": uid(line.get("TaxCode")), "total": line.get("Amount"),
                  "description": line.get("Memo"), "credit": line.get("IsCredit")} for line in body.get("Lines") or []]
        flat = {"number": body.get("PaymentNumber", body.get("DisplayID")), "date": body.get("Date",
                                                                                              body.get("DateOccurred")),
                "account": uid(body.get("Account")), "payee": body.get("PayeeAddress"),
                "inclusive": body.get("IsTaxInclusive"), "memo": body.get("Memo")}
        return flat, lines
    lines = [{"description": line.get("Description"), "total": line.get("Total"),
              "qty": line.get("ShipQuantity", line.get("UnitCount")),
              "price": line.get("UnitPrice"), "account": uid(line.get("Account")), "item": uid(line.get("Item")),
              "tax": uid(line.get("TaxCode"))} for line in body.get("Lines") or []]
    return {"customer": uid(body.get("Customer")), "number": body.get("Number"), "date": body.get("Date"),
            "inclusive": body.get("IsTaxInclusive"), "memo": body.get("JournalMemo")}, lines


def fingerprint(entity: str, body: dict) -> str:
    """Hash of the editable content of a MYOB record, a payment's applications included."""
    flat, lines = _flat(entity, body)
    applied = sorted((plain(i.get("UID")), plain(i.get("AmountApplied")))
                     for i in body.get("Invoices") or [] if entity == Entity.PAYMENT)
    line_fields = ("description", "total", "qty", "price", "account", "item", "tax") if entity not in (
        Entity.EXPENSE, Entity.JOURNAL) else ("description", "total", "account", "tax", "credit")
    return content_hash(entity, {**flat, "lines": lines}, tuple(flat), line_fields, lines="lines", extra=applied)


def number_of(entity: str, body: dict) -> str:
    field = {Entity.CUSTOMER: "CompanyName", Entity.ITEM: "Number", Entity.PAYMENT: "ReceiptNumber",
             Entity.EXPENSE: "PaymentNumber", Entity.JOURNAL: "DisplayID"}.get(entity, "Number")
    return str(body.get(field) or "")


def is_reversal(body: dict) -> bool:
    return str(body.get("JournalMemo") or "").startswith(REVERSAL)


def is_voided(body: dict) -> bool:
    """A sale our emulated void zeroed (its journal memo says so and nothing is left on it)."""
    return str(body.get("JournalMemo") or "").startswith(VOID) and (money(body.get("TotalAmount")) or ZERO) == 0


def voided_body(body: dict) -> dict:
    """A sale as our void PUTs it: every line at zero, ``Void;`` before the journal memo."""
    lines = []
    for line in body.get("Lines") or []:
        zeroed = {k: v for k, v in line.items() if k not in ("RowID", "RowVersion")}
        if "ShipQuantity" in zeroed and zeroed.get("Item"):
            zeroed.update(ShipQuantity=Decimal("0"), UnitPrice=Decimal("0"))
            zeroed.pop("Total", None)
        else:
            zeroed["Total"] = Decimal("0.00")
        lines.append(zeroed)
    memo = str(body.get("JournalMemo") or "")
    return {**{k: v for k, v in body.items() if k not in ("URI", "LastModified")}, "Lines": lines,
            "JournalMemo": memo if memo.startswith(VOID) else f"{VOID} {memo}"[:255]}


def status(entity: str, body: dict, reversed_: bool = False) -> str:
    if entity in (Entity.CUSTOMER, Entity.ITEM) and body.get("IsActive") is False:
        return "inactive"
    return "voided" if reversed_ or is_voided(body) else "active"


def result(entity: str, body: dict, adopted: bool = False, reversed_: bool = False) -> RemoteResult:
    """A RemoteResult from a MYOB record. A credit note's amounts are made positive; a reversed invoice counts
    for nothing (total and balance 0.00)."""
    total = balance = None
    if entity == Entity.PAYMENT:
        total = money(body.get("AmountReceived"))
    elif entity == Entity.REFUND:
        total = money(body.get("Amount"))
    elif entity == Entity.EXPENSE:
        total = money(body.get("AmountPaid"))
    elif entity == Entity.JOURNAL:
        total = journal_total(body)
    elif entity in (Entity.INVOICE, Entity.CREDIT_NOTE):
        sign = -1 if entity == Entity.CREDIT_NOTE else 1
        total, balance = money(body.get("TotalAmount")), money(body.get("BalanceDueAmount"))
        total = None if total is None else sign * total
        balance = None if balance is None else sign * balance
    state = status(entity, body, reversed_)
    if state == "voided":
        total = balance = ZERO
    rate = Decimal(str(body.get("CurrencyExchangeRate") or 1))
    return RemoteResult(
        remote_id=str(body["UID"]), version=str(body.get("RowVersion") or ""), number=number_of(entity, body),
        total=total, balance=balance, status=state, adopted=adopted, raw=body, fingerprint=fingerprint(entity, body),
        home_total=quantize(total * rate) if total is not None else None)


def journal_total(body: dict) -> Decimal | None:
    """A general journal's total as ours: its debits (the lines that are not ``IsCredit``)."""
    lines = body.get("Lines")
    if lines is None:
        return None
    return sum((money(line.get("Amount")) or ZERO for line in lines if not line.get("IsCredit")), ZERO)


def modified_at(body: dict) -> dt.datetime | None:
    """MYOB's ``LastModified`` (UTC, written without an offset)."""
    value = str(body.get("LastModified") or "")
    return parse_time(value) if value else None


def totals(entity: str, body: dict, reversed_: bool = False, currency: str = "") -> DocumentTotals:
    day = str(body.get("Date") or body.get("DateOccurred") or "")[:10]
    tax = money(body.get("TotalTax")) if entity not in (Entity.PAYMENT, Entity.REFUND, Entity.JOURNAL) else None
    if tax is not None and entity == Entity.CREDIT_NOTE:
        tax = -tax
    return DocumentTotals.from_result(entity, result(entity, body, reversed_=reversed_), currency=currency,
                                      tax_total=tax, date=dt.date.fromisoformat(day) if day else None,
                                      modified=modified_at(body))


def remote_document(entity: str, body: dict, reversed_: bool = False) -> RemoteDocument:
    """An invoice or credit note: status, its lines whole (a Service line without ``UnitCount`` and ``UnitPrice`` is
    one unit at its total; a credit note's lines are made positive; negative lines are our discounts, sent as
    negative lines, which the document keeps apart from its lines), customer, date and memo."""
    found = result(entity, body, reversed_=reversed_)
    sign = -1 if entity == Entity.CREDIT_NOTE else 1
    details = [d for d in (remote_line(line, sign) for line in body.get("Lines") or [])
               if d.quantity * d.unit_price >= 0]
    customer = body.get("Customer") or {}
    return RemoteDocument(found.remote_id, found.version, found.number, found.status, found.total, found.balance,
                          tuple((d.quantity, d.unit_price) for d in details),
                          customer=RemoteCustomer(uid(customer), str(customer.get("Name") or ""))
                          if uid(customer) else None,
                          issue_date=dt.date.fromisoformat(str(body["Date"])[:10]) if body.get("Date") else None,
                          memo=str(body.get("JournalMemo") or ""), details=tuple(details))


def remote_line(line: dict, sign: int) -> RemoteLine:
    count = line.get("ShipQuantity") if line.get("ShipQuantity") is not None else line.get("UnitCount")
    if count is not None and line.get("UnitPrice") is not None:
        quantity, price = sign * Decimal(str(count)), Decimal(str(line["UnitPrice"]))
    else:
        quantity, price = Decimal("1"), sign * Decimal(str(line.get("Total") or 0))
    item = line.get("Item") or {}
    return RemoteLine(quantity, price, description=str(line.get("Description") or ""), item_remote_id=uid(item),
                      item_name=str(item.get("Name") or ""), item_code=str(item.get("Number") or ""),
                      kind="product" if uid(item) else "service", tax_code=uid(line.get("TaxCode")))


def remote_customer(body: dict) -> RemoteCustomer:
    """A customer card: company name (or first and last name), the first address's e-mail, the ABN."""
    name = str(body.get("CompanyName") or "").strip() or \
        f"{body.get('FirstName') or ''} {body.get('LastName') or ''}".strip()
    email = next((str(a.get("Email")) for a in body.get("Addresses") or [] if a.get("Email")), "")
    abn = (body.get("SellingDetails") or {}).get("ABN")
    return RemoteCustomer(uid(body), name, email=email, tax_number=str(abn or ""),
                          version=str(body.get("RowVersion") or ""), active=_active(body))


def remote_item(body: dict) -> RemoteItem:
    price = (body.get("SellingDetails") or {}).get("BaseSellingPrice")
    return RemoteItem(uid(body), str(body.get("Name") or ""), code=str(body.get("Number") or ""),
                      unit_price=Decimal(str(price)) if price is not None else None,
                      kind="product" if body.get("IsInventoried") else "service",
                      version=str(body.get("RowVersion") or ""), active=_active(body))


def _active(body: dict) -> bool | None:
    """A card's or item's ``IsActive`` (made inactive in MYOB); None where the body does not carry it."""
    return body["IsActive"] if isinstance(body.get("IsActive"), bool) else None


def remote_payment(body: dict) -> RemotePayment:
    return RemotePayment(
        remote_id=str(body["UID"]), version=str(body.get("RowVersion") or ""),
        customer_remote_id=uid(body.get("Customer")), date=dt.date.fromisoformat(str(body["Date"])[:10]),
        amount=money(body.get("AmountReceived")) or ZERO,
        currency=str((body.get("ForeignCurrency") or {}).get("Code") or ""),
        allocations=tuple((str(i["UID"]), money(i.get("AmountApplied")) or ZERO) for i in body.get("Invoices") or []),
        reference=str(body.get("ReceiptNumber") or ""))


def entity_of_sale(body: dict) -> str:
    """A sale with a negative total is a customer credit (our credit note)."""
    return Entity.CREDIT_NOTE if (money(body.get("TotalAmount")) or ZERO) < 0 else Entity.INVOICE


def filter_time(value: dt.datetime) -> str:
    """``datetime'2026-12-03T10:02:51'`` (UTC): a $filter literal for LastModified."""
    return "datetime'" + value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + "'"


def payload(doc, mapping: Mapping, *, tax_code: str = "", kind: str = "Service", no_tax: str = "") -> dict:
    if isinstance(doc, CustomerSnapshot):
        return customer_payload(doc, tax_code)
    if isinstance(doc, ItemSnapshot):
        return item_payload(doc, mapping)
    if isinstance(doc, PaymentSnapshot):
        return payment_payload(doc, mapping)
    if isinstance(doc, (InvoiceSnapshot, CreditNoteSnapshot)):
        return sales_payload(doc, mapping, kind, no_tax)
    raise TypeError(f"MYOB connector cannot send {type(doc).__name__}")
