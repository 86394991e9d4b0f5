"""Snapshots to NetSuite record/v1 bodies and NetSuite records back to our results: pure functions.

Every record we write carries ``externalId`` = our snapshot key (cleaned to what NetSuite accepts), so the
connector can upsert by it (``PUT /<type>/eid:<externalId>``) and find a record whose create answer was lost.
Our document number travels in ``tranId`` (NetSuite's "Invoice #" / "Credit #"), a payment's in ``memo``.

A NetSuite invoice or credit memo line always names an **item**; the income account comes from the item, not from
the line. A line whose product is synced uses that item; any other line uses the connection's default sales item
(``default_item``), and its mapped income account cannot be set on the line (what staff see: the item's account).
A payment's and a credit memo's ``apply`` sublist names the invoices and amounts; amounts are ``Decimal``.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from ledger.money import quantize

from .. import rest
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, Entity, InvoiceSnapshot, ItemSnapshot, Mapping,
                         PaymentSnapshot, RemoteResult)
from ..errors import ConfigurationError

ZERO = Decimal("0.00")
#: What our emulated void leaves on an invoice or credit memo: the memo and one zero line with this description.
VOIDED = "Voided"
#: Our entity -> NetSuite record type.
RECORD_TYPES = {Entity.CUSTOMER: "customer", Entity.ITEM: "noninventorysaleitem", Entity.INVOICE: "invoice",
                Entity.CREDIT_NOTE: "creditmemo", Entity.PAYMENT: "customerpayment", Entity.REFUND: "customerrefund",
                Entity.EXPENSE: "check", Entity.JOURNAL: "journalentry",
                Entity.BILL: "vendorbill"}
#: The line sublist of an expense (a check), a journal entry and a supplier bill (a vendor bill).
COST_LINES = {Entity.EXPENSE: "expense", Entity.JOURNAL: "line", Entity.BILL: "expense"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")


def external_id(key: str) -> str:
    """Our key as a NetSuite external id: letters, digits and ``_.:-`` kept (anything else becomes ``_``), at
    most 255 characters. **Guess**: NetSuite documents no character set for external ids; this one survives a URL
    path unescaped."""
    return _UNSAFE.sub("_", key)[:255]


def ref(mapping: Mapping, key: str | None, what: str) -> dict:
    if not key or key not in mapping.refs:
        raise ConfigurationError(f"the {what} of this document has no NetSuite id yet ({key})",
                                 hint="Sync it first; the pipeline normally does this by itself.")
    return {"id": str(mapping.refs[key])}


def customer(doc: CustomerSnapshot, subsidiary: str) -> dict:
    """A company customer of ``subsidiary`` (NetSuite OneWorld needs one on every customer)."""
    return rest.clean({"externalId": external_id(doc.key), "companyName": doc.name[:83], "email": doc.email or None,
                       "subsidiary": {"id": subsidiary} if subsidiary else None, "isInactive": not doc.active})


def item(doc: ItemSnapshot, income_account: str | None) -> dict:
    """A non-inventory item for sale with its base price and, when mapped, its income account."""
    return rest.clean({"externalId": external_id(doc.key), "itemId": doc.name[:60], "displayName": doc.name[:60],
                       "basePrice": doc.unit_price, "isInactive": not doc.active,
                       "incomeAccount": {"id": income_account} if income_account else None})


def lines(doc: InvoiceSnapshot | CreditNoteSnapshot, mapping: Mapping, default_item: str,
          items: Sequence[str] = ()) -> list[dict]:
    """One ``item`` sublist line per snapshot line: the synced item, else ``items[index]`` (the item the connector
    chose for the line's income account), else ``default_item``; quantity and rate; a discount line as a negative
    rate; the mapped tax code where there is one (NetSuite computes the tax from it)."""
    out = []
    for index, line in enumerate(doc.lines):
        item_id = mapping.refs.get(line.item_key) if line.item_key else None
        item_id = item_id or (items[index] if index < len(items) else None)
        if not item_id and not default_item:
            raise ConfigurationError(f"line {index + 1} of {doc.number} has no NetSuite item",
                                     hint="Set the connection's default sales item, or sync the product first.")
        # a discount nets the document; on a credit memo, a line the business keeps (a restocking fee) nets the credit
        negative = line.kind == "discount" or (isinstance(doc, CreditNoteSnapshot) and line.kept)
        rate = -line.unit_price if negative else line.unit_price
        body = {"item": {"id": str(item_id or default_item)}, "quantity": line.quantity, "rate": rate,
                "description": (line.description or line.item_name or "")[:4000] or None}
        tax = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        if tax:
            body["taxCode"] = {"id": tax}
        out.append(rest.clean(body))
    return out


def document(doc: InvoiceSnapshot | CreditNoteSnapshot, mapping: Mapping, default_item: str,
             items: Sequence[str] = ()) -> dict:
    """An invoice or a credit memo (its applications to invoices in :func:`applications`)."""
    body = {"externalId": external_id(doc.key), "tranId": doc.number[:45], "entity": ref(mapping, doc.customer_key,
                                                                                          "customer"),
            "tranDate": rest.iso_date(doc.issue_date), "dueDate": rest.iso_date(getattr(doc, "due_date", None)),
            "memo": doc.memo[:999] or None, "item": {"items": lines(doc, mapping, default_item, items)}}
    if isinstance(doc, CreditNoteSnapshot):
        body["apply"] = {"items": applications(doc, mapping)}
    return rest.clean(body)


def applications(doc: PaymentSnapshot | CreditNoteSnapshot, mapping: Mapping) -> list[dict]:
    return [{"doc": ref(mapping, a.invoice_key, "invoice"), "apply": True, "amount": a.amount}
            for a in doc.allocations if a.amount]


def payment(doc: PaymentSnapshot, mapping: Mapping) -> dict:
    """A customer payment into the mapped deposit account, applied to its invoices."""
    if not mapping.deposit_account:
        raise ConfigurationError("no deposit account is mapped for payments",
                                 hint="Map a deposit account (where customer payments are deposited).")
    return rest.clean({"externalId": external_id(doc.key), "customer": ref(mapping, doc.customer_key, "customer"),
                       "payment": doc.amount, "tranDate": rest.iso_date(doc.date),
                       "account": {"id": mapping.deposit_account}, "memo": doc.number[:999] or None,
                       "apply": {"items": applications(doc, mapping)}})


def _id(value) -> str:
    return str(value.get("id")) if isinstance(value, dict) else str(value or "")


def _applied(body: dict) -> list[str]:
    rows = (body.get("apply") or {}).get("items") or []
    return sorted(f"{_id(r.get('doc'))}={rest.plain(rest.money(r.get('amount')))}" for r in rows
                  if r.get("apply", True))


def fingerprint(entity: str, body: dict) -> str:
    """The content a person could edit, the same from what we wrote and what is read back."""
    if entity == Entity.CUSTOMER:
        return rest.content_hash(entity, body, ("companyName", "email"))
    if entity == Entity.ITEM:
        return rest.content_hash(entity, body, ("itemId", "basePrice"))
    flat = {**body, "entity": _id(body.get("entity")), "customer": _id(body.get("customer"))}
    if entity == Entity.PAYMENT:
        return rest.content_hash(entity, flat, ("customer", "payment", "tranDate"), extra=_applied(body))
    if entity == Entity.REFUND:
        flat["account"] = _id(body.get("account"))
        return rest.content_hash(entity, flat, ("customer", "account", "tranDate", "memo"), extra=_applied(body))
    if entity in COST_LINES:
        flat["account"] = _id(body.get("account"))
        rows = [{"account": _id(r.get("account")), "amount": rest.money(r.get("amount")),
                 "debit": rest.money(r.get("debit")), "credit": rest.money(r.get("credit")),
                 "taxCode": _id(r.get("taxCode"))} for r in (body.get(COST_LINES[entity]) or {}).get("items") or []]
        return rest.content_hash(entity, {**flat, "lines": rows}, ("entity", "account", "tranId", "tranDate"),
                                 ("account", "amount", "debit", "credit", "taxCode"), lines="lines")
    rows = [{"item": _id(r.get("item")), "quantity": rest.money(r.get("quantity")), "rate": rest.money(r.get("rate")),
             "taxCode": _id(r.get("taxCode"))} for r in (body.get("item") or {}).get("items") or []]
    return rest.content_hash(entity, {**flat, "lines": rows}, ("entity", "tranId", "tranDate"),
                             ("item", "quantity", "rate", "taxCode"), lines="lines",
                             extra=_applied(body) if entity == Entity.CREDIT_NOTE else ())


def voided(body: dict) -> bool:
    """Voided in NetSuite (status Voided: a direct void sets every amount to zero and keeps the record), or by our
    emulated void (memo and one zero line "Voided", see the connector)."""
    if str((body.get("status") or {}).get("refName") or "") == "Voided":
        return True
    rows = (body.get("item") or {}).get("items") or []
    return (body.get("memo") == VOIDED and len(rows) == 1 and rows[0].get("description") == VOIDED
            and not rest.money(rows[0].get("amount") if rows[0].get("amount") is not None else rows[0].get("rate")))


def result(entity: str, body: dict, adopted: bool = False) -> RemoteResult:
    """A record read back (``expandSubResources=true``) as our result. The version is ``lastModifiedDate`` with the
    content hash (NetSuite has no version counter on records). An invoice's balance is ``amountRemaining``; a
    credit memo's is what is left unapplied."""
    content = fingerprint(entity, body)
    version = f"{body.get('lastModifiedDate') or ''}/{content[:12]}"
    if entity in (Entity.CUSTOMER, Entity.ITEM):
        name = body.get("companyName") if entity == Entity.CUSTOMER else body.get("itemId")
        return RemoteResult(str(body["id"]), version, str(name or ""), status="inactive" if body.get("isInactive")
                            else "active", adopted=adopted, raw=body, fingerprint=content)
    state = "voided" if str((body.get("status") or {}).get("refName") or "") == "Voided" else "active"
    if entity == Entity.PAYMENT:
        return RemoteResult(str(body["id"]), version, str(body.get("memo") or ""), rest.money(body.get("payment")),
                            None, "active", adopted, body, content)
    if entity == Entity.REFUND:  # the refund amount is what it applies (NetSuite's "Refund Amount", total)
        applied = sum((rest.money(r.get("amount")) or ZERO for r in (body.get("apply") or {}).get("items") or []
                       if r.get("apply", True)), ZERO)
        total = rest.money(body.get("total")) if body.get("total") is not None else applied
        return RemoteResult(str(body["id"]), version, str(body.get("memo") or ""), total, None, state, adopted, body,
                            content)
    if entity in (Entity.EXPENSE, Entity.BILL):  # a bill's balance is its amountRemaining (Open until paid)
        total, rate = rest.money(body.get("total")), body.get("exchangeRate")
        home = quantize(total * Decimal(str(rate))) if total is not None and rate not in (None, "") else None
        balance = rest.money(body.get("amountRemaining")) if entity == Entity.BILL else None
        return RemoteResult(str(body["id"]), version, str(body.get("tranId") or ""), total, balance, state, adopted,
                            body, content, home_total=home)
    if entity == Entity.JOURNAL:
        rows = (body.get("line") or {}).get("items")
        total = None if rows is None else sum((rest.money(r.get("debit")) or ZERO for r in rows), ZERO)
        return RemoteResult(str(body["id"]), version, str(body.get("tranId") or ""), total, None, state, adopted,
                            body, content)
    total = rest.money(body.get("total"))
    balance = rest.money(body.get("amountRemaining") if entity == Entity.INVOICE else body.get("unapplied"))
    return RemoteResult(str(body["id"]), version, str(body.get("tranId") or ""), total, balance,
                        "voided" if voided(body) else "active", adopted, body, content)
