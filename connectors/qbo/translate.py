"""Pure translation between snapshots and QBO payloads (field names from Finance.xsd). No I/O here."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

from ledger.money import quantize
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, ItemSnapshot, Mapping,
                         PaymentSnapshot, RemoteResult, SalesDocumentSnapshot)

ENTITY_NAMES = {"customer": "Customer", "item": "Item", "invoice": "Invoice", "payment": "Payment",
                "credit_note": "CreditMemo", "refund": "Purchase", "expense": "Purchase", "journal": "JournalEntry",
                "bill": "Bill", "bill_payment": "BillPayment"}
PAYMENT_METHODS = {"cash": "Cash", "card": "Credit Card", "check": "Check", "transfer": "Bank Transfer"}


def purchase_is(entity: str, row: dict) -> bool:
    """Whether a row of ``ENTITY_NAMES[entity]`` is that entity: refunds and expenses are both Purchases, a refund
    the one paid to a customer (``EntityRef`` of type Customer). Other entities have a name of their own."""
    if entity not in ("refund", "expense"):
        return True
    to_customer = str((row.get("EntityRef") or {}).get("type") or "") == "Customer"
    return to_customer == (entity == "refund")


def ref(value: str, name: str = "") -> dict:
    return {"value": value, "name": name} if name else {"value": value}


def customer_payload(doc: CustomerSnapshot, mapping: Mapping) -> dict:
    body = {"DisplayName": doc.name[:100], "CurrencyRef": ref(doc.currency), "Active": doc.active}
    if doc.email:
        body["PrimaryEmailAddr"] = {"Address": doc.email}
    if doc.tax_number:
        body["PrimaryTaxIdentifier"] = doc.tax_number  # QBO masks it in answers (XXXX1234): write-only
    if doc.parent_key:
        body.update({"ParentRef": ref(mapping.refs[doc.parent_key]), "Job": True, "BillWithParent": True})
    else:
        body["Job"] = False
    return body


def item_payload(doc: ItemSnapshot, mapping: Mapping) -> dict:
    body = {"Name": doc.name[:100], "Type": "NonInventory" if doc.kind == "product" else "Service",
            "UnitPrice": doc.unit_price, "Taxable": doc.taxable, "Active": doc.active}
    if doc.sku:
        body["Sku"] = doc.sku[:100]
    if mapping.item_account:
        body["IncomeAccountRef"] = ref(mapping.item_account)
    return body


def generic_item_payload(name: str, account: str) -> dict:
    """A service item standing for lines of one kind that have no local item (shipping, fees, tax)."""
    return {"Name": name, "Type": "Service", "IncomeAccountRef": ref(account)}


def generic_item_name(kind: str, account_name: str = "") -> str:
    """"Shipping", or "Shipping (Freight income)" for the generic item of a further account (names are unique
    in QBO, at most 100 characters)."""
    name = {"shipping": "Shipping", "fee": "Fees and charges", "restocking_fee": "Restocking fees",
            "return_shipping": "Return shipping"}.get(kind, kind.title())
    return f"{name} ({account_name})"[:100] if account_name else name


def discount_line(doc: SalesDocumentSnapshot, mapping: Mapping) -> dict | None:
    """The document's discounts in QBO's discount field: one ``DiscountLineDetail`` line (QBO takes one per
    transaction), the sum of our discount lines, on the mapped discount account (discount rules go by line kind,
    so a document's discount lines share one)."""
    positions = [i for i, line in enumerate(doc.lines) if line.kind == "discount"]
    if not positions:
        return None
    detail = {"PercentBased": False}
    if mapping.line_accounts[positions[0]]:
        detail["DiscountAccountRef"] = ref(mapping.line_accounts[positions[0]])
    codes = {mapping.tax_codes[doc.lines[i].tax_rate_key] if doc.lines[i].tax_rate_key else None for i in positions}
    if len(codes) == 1 and None not in codes:
        detail["TaxCodeRef"] = ref(codes.pop())
    descriptions = dict.fromkeys(doc.lines[i].description for i in positions if doc.lines[i].description)
    return {"Amount": sum((doc.lines[i].net_amount for i in positions), Decimal("0.00")),
            "DetailType": "DiscountLineDetail", "Description": "; ".join(descriptions)[:4000],
            "DiscountLineDetail": detail}


def sales_payload(doc: SalesDocumentSnapshot, mapping: Mapping, line_items: dict[int, str],
                  no_tax_code: str) -> dict:
    """Invoice / CreditMemo body. ``line_items`` gives the remote ItemRef for each sales line by index.

    Discount lines become one line in QBO's discount field, where the first of them stands. A mapped class goes on
    each sales line (``ClassRef``), a mapped location on the transaction (``DepartmentRef``)."""
    lines = []
    discount = discount_line(doc, mapping)
    for i, line in enumerate(doc.lines):
        description = line.description[:4000]
        if line.kind == "discount":
            if discount is not None:
                lines.append(discount)
                discount = None
            continue
        tax_code = mapping.tax_codes[line.tax_rate_key] if line.tax_rate_key else no_tax_code
        sign = -1 if line.kept else 1  # kept back from a credit (restocking fee): a negative line nets the memo
        detail = {"ItemRef": ref(line_items[i]), "Qty": line.quantity, "UnitPrice": sign * line.unit_price,
                  "TaxCodeRef": ref(tax_code)}
        if klass := mapping.line_dimension("class", i):
            detail["ClassRef"] = ref(klass)
        lines.append({"LineNum": i + 1, "Amount": sign * line.net_amount, "DetailType": "SalesItemLineDetail",
                      "Description": description, "SalesItemLineDetail": detail})
    body = {
        "DocNumber": doc.number,
        "TxnDate": doc.issue_date.isoformat() if doc.issue_date else None,
        "CustomerRef": ref(mapping.refs[doc.customer_key]),
        "CurrencyRef": ref(doc.currency),
        "Line": lines,
        # We computed tax with the ledger's per-line rule; sending the total keeps both books equal.
        "TxnTaxDetail": {"TotalTax": doc.tax_total},
        "ApplyTaxAfterDiscount": False,
    }
    if location := mapping.dimensions.get("location"):
        body["DepartmentRef"] = ref(location)
    if doc.exchange_rate:
        body["ExchangeRate"] = doc.exchange_rate
    if doc.memo:
        body["CustomerMemo"] = {"value": doc.memo[:1000]}
    if doc.private_note:
        body["PrivateNote"] = doc.private_note[:4000]
    if isinstance(doc, InvoiceSnapshot) and doc.due_date:
        body["DueDate"] = doc.due_date.isoformat()
    return {k: v for k, v in body.items() if v is not None}


def payment_payload(doc: PaymentSnapshot, mapping: Mapping) -> dict:
    body = {
        "CustomerRef": ref(mapping.refs[doc.customer_key]),
        "TotalAmt": doc.amount,
        "TxnDate": doc.date.isoformat() if doc.date else None,
        "PaymentRefNum": doc.number[:21],
        "CurrencyRef": ref(doc.currency),
        "Line": [{"Amount": a.amount, "LinkedTxn": [{"TxnId": mapping.refs[a.invoice_key], "TxnType": "Invoice"}]}
                 for a in doc.allocations],
    }
    if mapping.deposit_account:
        body["DepositToAccountRef"] = ref(mapping.deposit_account)
    if doc.exchange_rate:
        body["ExchangeRate"] = doc.exchange_rate
    if doc.memo:
        body["PrivateNote"] = doc.memo[:4000]
    return {k: v for k, v in body.items() if v is not None}


#: What QBO changes on its own (a payment applied bumps SyncToken, Balance and LinkedTxn): not a person's edit.
VOLATILE = frozenset({"SyncToken", "MetaData", "Balance", "HomeBalance", "BalanceWithJobs", "RemainingCredit",
                      "LinkedTxn", "UnappliedAmt", "domain", "sparse", "EmailStatus", "PrintStatus", "DeliveryInfo"})


def fingerprint(body: dict) -> str:
    """Hash of the editable content of a QBO entity (see ``RemoteResult.fingerprint``)."""
    content = {k: v for k, v in body.items() if k not in VOLATILE}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def result(entity: str, body: dict, adopted: bool = False, *, fingerprinted: bool = True) -> RemoteResult:
    """A RemoteResult from a QBO entity body; without ``fingerprinted`` its fingerprint is left empty (reading
    thousands of documents to compare their totals, the hash of each body would cost more than the rest)."""
    total = body.get("TotalAmt")
    balance = body.get("Balance")
    voided = str(body.get("PrivateNote", "")).startswith("Voided")
    return RemoteResult(
        remote_id=str(body["Id"]), version=str(body.get("SyncToken", "")),
        number=str(body.get("DocNumber") or body.get("PaymentRefNum") or body.get("DisplayName")
                   or body.get("Name") or ""),
        total=quantize(Decimal(str(total))) if total is not None else None,
        balance=quantize(Decimal(str(balance))) if balance is not None else None,
        status="voided" if voided else ("inactive" if body.get("Active") is False else "active"),
        adopted=adopted, raw=body, fingerprint=fingerprint(body) if fingerprinted else "",
        home_total=home_total(body),
    )


def home_total(body: dict) -> Decimal | None:
    """A transaction's total in the company's home currency: QBO's ``HomeTotalAmt`` (foreign-currency invoices
    and credit memos), else ``TotalAmt`` at the transaction's ``ExchangeRate`` (payments; 1 in home currency)."""
    if body.get("HomeTotalAmt") is not None:
        return quantize(Decimal(str(body["HomeTotalAmt"])))
    if body.get("TotalAmt") is None:
        return None
    return quantize(Decimal(str(body["TotalAmt"])) * Decimal(str(body.get("ExchangeRate") or 1)))


__all__ = ["customer_payload", "item_payload", "sales_payload", "payment_payload", "result", "CreditNoteSnapshot"]


def remote_payment(body: dict):
    """A QBO Payment as a ``RemotePayment`` (invoice lines only; credit-memo links are not allocations)."""
    from ..base import RemotePayment

    allocations = []
    for line in body.get("Line", []):
        for link in line.get("LinkedTxn", []):
            if link.get("TxnType") == "Invoice":
                allocations.append((str(link["TxnId"]), quantize(Decimal(str(line.get("Amount", "0"))))))
    return RemotePayment(
        remote_id=str(body["Id"]), version=str(body.get("SyncToken", "")),
        customer_remote_id=str((body.get("CustomerRef") or {}).get("value", "")),
        date=dt.date.fromisoformat(str(body.get("TxnDate"))[:10]),
        amount=quantize(Decimal(str(body.get("TotalAmt", "0")))),
        currency=str((body.get("CurrencyRef") or {}).get("value", "")), allocations=tuple(allocations),
        reference=str(body.get("PaymentRefNum", "")))


#: QBO's own item for the shipping box of a company with shipping enabled (``SalesFormsPrefs.AllowShipping``).
SHIPPING_ITEM_ID = "SHIPPING_ITEM_ID"


def remote_document(body: dict):
    """A QBO Invoice / CreditMemo: status, customer, dates and each sales line, in order."""
    from ..base import RemoteCustomer, RemoteDocument

    found = result("Invoice", body)
    details = tuple(remote_line(line) for line in body.get("Line", [])
                    if line.get("DetailType") == "SalesItemLineDetail")
    customer = body.get("CustomerRef") or {}
    return RemoteDocument(
        found.remote_id, found.version, found.number, found.status if found.status == "voided" else "active",
        found.total, found.balance, tuple((d.quantity, d.unit_price) for d in details),
        customer=RemoteCustomer(str(customer.get("value", "")), str(customer.get("name", ""))),
        issue_date=_date(body.get("TxnDate")), due_date=_date(body.get("DueDate")),
        currency=str((body.get("CurrencyRef") or {}).get("value", "")),
        memo=str((body.get("CustomerMemo") or {}).get("value", "")), details=details)


def remote_line(line: dict):
    """A ``SalesItemLineDetail`` line in our terms; the shipping box and our generic items carry no local item."""
    from ..base import RemoteLine

    detail = line.get("SalesItemLineDetail") or {}
    item = detail.get("ItemRef") or {}
    item_id, item_name = str(item.get("value", "")), str(item.get("name", ""))
    kind = "service"
    if item_id == SHIPPING_ITEM_ID or item_name.startswith(generic_item_name("shipping")):
        kind, item_id, item_name = "shipping", "", ""
    elif item_name.startswith(generic_item_name("fee")):
        kind, item_id, item_name = "fee", "", ""
    price = Decimal(str(detail.get("UnitPrice", line.get("Amount", "0"))))
    return RemoteLine(Decimal(str(detail.get("Qty", "1"))), price,
                      description=str(line.get("Description") or ""), item_remote_id=item_id, item_name=item_name,
                      kind=kind, tax_code=str((detail.get("TaxCodeRef") or {}).get("value", "")))


def remote_customer(body: dict):
    """A QBO Customer: display name, e-mail and the tax number QBO shows unmasked (business number, GSTIN)."""
    from ..base import RemoteCustomer

    tax = body.get("BusinessNumber") or body.get("GSTIN") or body.get("PrimaryTaxIdentifier") or ""
    return RemoteCustomer(str(body["Id"]), _live_name(body, "DisplayName"),
                          email=str((body.get("PrimaryEmailAddr") or {}).get("Address") or ""),
                          tax_number="" if str(tax).startswith("X") else str(tax),  # QBO masks tax ids: XXXX1234
                          currency=str((body.get("CurrencyRef") or {}).get("value", "")),
                          version=str(body.get("SyncToken", "")), active=_active(body))


def remote_item(body: dict):
    from ..base import RemoteItem

    price = body.get("UnitPrice")
    return RemoteItem(str(body["Id"]), _live_name(body, "Name"), code=str(body.get("Sku") or ""),
                      unit_price=Decimal(str(price)) if price is not None else None,
                      kind="product" if body.get("Type") in ("Inventory", "NonInventory") else "service",
                      version=str(body.get("SyncToken", "")), active=_active(body), generic=_generic(body))


#: The kinds of line the connector keeps a generic item for (``generic_item_name``): lines without a local item.
GENERIC_KINDS = ("product", "service", "shipping", "discount", "fee", "restocking_fee", "return_shipping", "tax")


def _generic(body: dict) -> bool:
    """One of the connector's own service items ("Shipping", "Tax", "Shipping (Freight income)"...)."""
    name = _live_name(body, "Name")
    return body.get("Type") == "Service" and not body.get("Sku") and any(
        name == generic_item_name(kind) or name.startswith(f"{generic_item_name(kind)} (") for kind in GENERIC_KINDS)


def _live_name(body: dict, field: str) -> str:
    """The name without the " (deleted)" QBO appends when it makes a name-list object inactive."""
    name = str(body.get(field) or "")
    return name.removesuffix(" (deleted)") if _active(body) is False else name


def _active(body: dict) -> bool | None:
    """A name-list object's ``Active`` (QBO's "delete" of a customer or item makes it inactive)."""
    value = body.get("Active")
    return None if value is None else str(value).lower() == "true"


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def invoice_links(payment: dict) -> list[tuple[str, Decimal]]:
    """(invoice id, amount) for each line of a payment that links an invoice."""
    return [(str(link["TxnId"]), Decimal(str(line.get("Amount", "0"))))
            for line in payment.get("Line") or () for link in line.get("LinkedTxn") or ()
            if link.get("TxnType") == "Invoice" and link.get("TxnId")]


def credit_application_lines(credit_memo_id: str, applications: list[tuple[str, Decimal]]) -> list[dict]:
    """Lines of the zero-total Payment that applies a credit memo: one per invoice, one for the memo itself."""
    lines = [{"Amount": quantize(amount), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
             for invoice_id, amount in applications]
    total = sum((quantize(amount) for _, amount in applications), Decimal("0.00"))
    if lines:
        lines.append({"Amount": total, "LinkedTxn": [{"TxnId": credit_memo_id, "TxnType": "CreditMemo"}]})
    return lines


def same_application(payment: dict, lines: list[dict]) -> bool:
    def key(rows):
        return sorted((link.get("TxnType"), str(link.get("TxnId")), quantize(Decimal(str(row.get("Amount", "0")))))
                      for row in rows for link in row.get("LinkedTxn", []))

    return key(payment.get("Line", [])) == key(lines)
