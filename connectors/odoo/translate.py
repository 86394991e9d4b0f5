"""Snapshots to Odoo values and Odoo records back to our results: pure functions.

Odoo names a many2one by id when written and as ``[id, "name"]`` when read; x2many fields are written with
command tuples (``(0, 0, vals)`` create a line, ``(6, 0, ids)`` set the list) and read as lists of ids. Amounts
go out as ``Decimal`` (XML-RPC ``<double>`` digit for digit, exact JSON numbers) and come back as ``Decimal``.
Our number travels in ``ref`` (an invoice's "Customer Reference") and in a payment's memo: Odoo numbers its
documents itself (``INV/2026/00001``) when they are posted.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from .. import rest
from ..base import AccountKind, RemoteCustomer, RemoteDocument, RemoteItem, RemoteLine, RemotePayment
from ..documents import (CreditNoteSnapshot, CustomerSnapshot, Entity, InvoiceSnapshot, ItemSnapshot, Mapping,
                         PaymentSnapshot, RemoteResult)
from ..errors import ConfigurationError

MOVE_TYPES = {Entity.INVOICE: "out_invoice", Entity.CREDIT_NOTE: "out_refund", Entity.EXPENSE: "entry",
              Entity.JOURNAL: "entry"}
MOVE_FIELDS = ["id", "name", "ref", "move_type", "state", "partner_id", "currency_id", "invoice_date",
               "invoice_date_due", "narration", "amount_total", "amount_tax", "amount_residual", "invoice_line_ids",
               "write_date"]
LINE_FIELDS = ["id", "name", "quantity", "price_unit", "account_id", "tax_ids", "product_id"]
PARTNER_FIELDS = ["id", "name", "email", "vat", "active", "write_date"]
PRODUCT_FIELDS = ["id", "name", "default_code", "list_price", "type", "active", "write_date"]
PAYMENT_FIELDS = ["id", "name", "partner_id", "amount", "date", "state", "currency_id", "journal_id",
                  "reconciled_invoice_ids", "write_date"]
ACCOUNT_KINDS = {"income": AccountKind.INCOME, "income_other": AccountKind.INCOME,
                 "expense": AccountKind.EXPENSE, "expense_direct_cost": AccountKind.EXPENSE,
                 "expense_depreciation": AccountKind.EXPENSE, "asset_cash": AccountKind.DEPOSIT,
                 "asset_receivable": AccountKind.RECEIVABLE}


def account_kind(account: dict) -> str:
    kind = str(account.get("account_type") or "")
    if kind == "liability_current" and "tax" in str(account.get("name", "")).lower():
        return AccountKind.TAX_PAYABLE
    return ACCOUNT_KINDS.get(kind, AccountKind.OTHER)


def many2one(value: Any) -> int | None:
    """The id of a many2one as read (``[id, name]``) or written (``id``); None when empty (``False``)."""
    if isinstance(value, (list, tuple)):
        return int(value[0]) if value else None
    return int(value) if value not in (False, None, "") else None


def ref_id(mapping: Mapping, key: str | None, what: str) -> int:
    if not key or key not in mapping.refs:
        raise ConfigurationError(f"the {what} of this document has no Odoo id yet ({key})",
                                 hint="Sync it first; the pipeline normally does this by itself.")
    return int(mapping.refs[key])


# -- customers and items -------------------------------------------------------------------------------------
def partner_vals(doc: CustomerSnapshot, mapping: Mapping) -> dict:
    vals = {"name": doc.name, "email": doc.email or False, "customer_rank": 1}
    if doc.tax_number:
        vals["vat"] = doc.tax_number  # Odoo's "Tax ID"
    if doc.parent_key and doc.parent_key in mapping.refs:
        vals["parent_id"] = int(mapping.refs[doc.parent_key])
    return vals


def product_vals(doc: ItemSnapshot) -> dict:
    return {"name": doc.name, "default_code": doc.sku or False, "list_price": doc.unit_price,
            "type": "service" if doc.kind == "service" else "consu"}


def name_result(record: dict, fields: tuple[str, ...]) -> RemoteResult:
    """A customer or item: its name as the number, inactive when archived."""
    content = rest.content_hash("name", record, fields)
    return RemoteResult(str(record["id"]), version(record, content), str(record.get("name") or ""),
                        status="active" if record.get("active", True) else "inactive", raw=record,
                        fingerprint=content)


def partner_result(record: dict) -> RemoteResult:
    return name_result(record, ("name", "email"))


def product_result(record: dict) -> RemoteResult:
    return name_result(record, ("name", "default_code", "list_price", "type"))


# -- invoices and credit notes -------------------------------------------------------------------------------
def line_vals(doc: InvoiceSnapshot | CreditNoteSnapshot, mapping: Mapping) -> list[tuple]:
    """One ``(0, 0, vals)`` per line: the mapped income account, the tax, our item where it is known; a discount
    line as a negative unit price."""
    commands = []
    for index, line in enumerate(doc.lines):
        account = mapping.line_account(index)
        if not account:
            raise ConfigurationError(f"line {index + 1} of {doc.number} has no income account mapped",
                                     hint="Map an income account in the mapping editor.")
        tax = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
        # a discount, and a line the business keeps (restocking fee) on a credit note, as a negative price
        price = -line.unit_price if line.kind == "discount" or line.kept else line.unit_price
        vals = {"name": line.description or line.item_name or "-", "quantity": line.quantity, "price_unit": price,
                "account_id": int(account), "tax_ids": [(6, 0, [int(tax)] if tax else [])]}
        if line.item_key and line.item_key in mapping.refs:
            vals["product_id"] = int(mapping.refs[line.item_key])
        commands.append((0, 0, vals))
    return commands


def move_vals(entity: str, doc: InvoiceSnapshot | CreditNoteSnapshot, mapping: Mapping, currency_id: int) -> dict:
    vals = {"move_type": MOVE_TYPES[entity], "partner_id": ref_id(mapping, doc.customer_key, "customer"),
            "ref": doc.number, "currency_id": currency_id, "invoice_date": rest.iso_date(doc.issue_date) or False,
            "narration": doc.memo or False, "invoice_line_ids": line_vals(doc, mapping)}
    due = getattr(doc, "due_date", None)
    if due:
        vals["invoice_date_due"] = due.isoformat()
    return vals


def move_content(move: dict, lines: list[dict]) -> str:
    """What a person could edit on an invoice or credit note: customer, number, currency, and per line its text,
    quantity, unit price, account and taxes. The same from what we wrote and from what Odoo answers."""
    head = {"partner": many2one(move.get("partner_id")), "ref": move.get("ref") or "",
            "currency": many2one(move.get("currency_id"))}
    rows = [{"name": line.get("name") or "", "quantity": line.get("quantity"), "price_unit": line.get("price_unit"),
             "account": many2one(line.get("account_id")), "taxes": ",".join(str(t) for t in sorted(taxes(line)))}
            for line in lines]
    return rest.content_hash("move", {**head, "lines": rows}, ("partner", "ref", "currency"),
                             ("name", "quantity", "price_unit", "account", "taxes"), lines="lines")


def taxes(line: dict) -> list[int]:
    """A line's tax ids, read (a list of ids) or written (``[(6, 0, ids)]``)."""
    found: list[int] = []
    for item in line.get("tax_ids") or []:
        if isinstance(item, (list, tuple)):
            found.extend(int(t) for t in (item[2] if item[0] == 6 else []))
        else:
            found.append(int(item))
    return found


def written_lines(vals: dict) -> list[dict]:
    return [command[2] for command in vals.get("invoice_line_ids") or []]


def version(record: dict, content: str) -> str:
    """Odoo has no version counter and writes ``write_date`` to the second: the content hash beside it tells two
    writes within one second apart."""
    return f"{record.get('write_date') or ''}/{content[:12]}"


def move_result(move: dict, lines: list[dict], adopted: bool = False) -> RemoteResult:
    """A cancelled move keeps its amounts in Odoo; it is reported voided with nothing due (total and balance 0)."""
    content = move_content(move, lines)
    cancelled = move.get("state") == "cancel"
    total = Decimal("0.00") if cancelled else rest.money(move.get("amount_total"))
    balance = Decimal("0.00") if cancelled else rest.money(move.get("amount_residual"))
    return RemoteResult(str(move["id"]), version(move, content), str(move.get("ref") or ""), total, balance,
                        "voided" if cancelled else "active", adopted, move, content)


def remote_document(move: dict, lines: list[dict]) -> RemoteDocument:
    """Status, amounts and the sales lines whole, with customer, dates, currency and notes: a line with a negative
    price is our discount line (``line_vals``), not one of the document's lines. The number is our reference
    (``ref``) where we wrote one, else Odoo's own (``name``, "/" until posted)."""
    result = move_result(move, lines)
    details = tuple(remote_line(line) for line in lines if Decimal(str(line["price_unit"])) >= 0)
    partner, currency = move.get("partner_id"), move.get("currency_id")
    name = str(move.get("name") or "")
    sales = tuple((d.quantity, d.unit_price) for d in details)
    return RemoteDocument(result.remote_id, result.version, result.number or (name if name != "/" else ""),
                          result.status, result.total, result.balance, sales,
                          customer=RemoteCustomer(str(partner[0]), str(partner[1])) if partner else None,
                          issue_date=_date(move.get("invoice_date")), due_date=_date(move.get("invoice_date_due")),
                          currency=str(currency[1]) if isinstance(currency, (list, tuple)) else "",
                          memo=str(move.get("narration") or ""), details=details)


def remote_line(line: dict) -> RemoteLine:
    product = line.get("product_id")
    tax_ids = taxes(line)
    return RemoteLine(Decimal(str(line["quantity"])), Decimal(str(line["price_unit"])),
                      description=str(line.get("name") or ""),
                      item_remote_id=str(product[0]) if product else "", item_name=str(product[1]) if product else "",
                      tax_code=str(tax_ids[0]) if len(tax_ids) == 1 else "")


def remote_customer(partner: dict) -> RemoteCustomer:
    content = rest.content_hash("name", partner, ("name", "email"))
    return RemoteCustomer(str(partner["id"]), str(partner.get("name") or ""), email=str(partner.get("email") or ""),
                          tax_number=str(partner.get("vat") or ""), version=version(partner, content),
                          active=partner["active"] if isinstance(partner.get("active"), bool) else None)


def remote_item(product: dict) -> RemoteItem:
    content = rest.content_hash("name", product, ("name", "default_code", "list_price", "type"))
    return RemoteItem(str(product["id"]), str(product.get("name") or ""), code=str(product.get("default_code") or ""),
                      unit_price=rest.money(product.get("list_price")),
                      kind="service" if product.get("type") == "service" else "product",
                      version=version(product, content),
                      active=product["active"] if isinstance(product.get("active"), bool) else None)


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


# -- payments --------------------------------------------------------------------------------------------------
def payment_content(payment: dict, memo_field: str) -> str:
    head = {"partner": many2one(payment.get("partner_id")), "amount": payment.get("amount"),
            "date": payment.get("date") or payment.get("payment_date") or "",
            "memo": payment.get(memo_field) or payment.get("communication") or ""}
    return rest.content_hash("payment", head, ("partner", "amount", "date", "memo"))


def payment_result(payment: dict, memo_field: str, adopted: bool = False) -> RemoteResult:
    content = payment_content(payment, memo_field)
    cancelled = payment.get("state") == "cancel"
    total = Decimal("0.00") if cancelled else rest.money(payment.get("amount"))
    return RemoteResult(str(payment["id"]), version(payment, content), str(payment.get(memo_field) or ""), total,
                        None, "voided" if cancelled else "active", adopted, payment, content)


def payment_vals(doc: PaymentSnapshot, mapping: Mapping, journal_id: int, memo_field: str) -> dict:
    """A payment on its own (not applied to an invoice), or the fields an edit writes."""
    return {"partner_id": ref_id(mapping, doc.customer_key, "customer"), "amount": doc.amount,
            "date": rest.iso_date(doc.date) or False, "journal_id": journal_id, memo_field: doc.number,
            "payment_type": "inbound", "partner_type": "customer"}


def remote_payment(payment: dict, memo_field: str, allocations: list[tuple[str, Decimal]]) -> RemotePayment:
    result = payment_result(payment, memo_field)
    return RemotePayment(result.remote_id, result.version, str(many2one(payment.get("partner_id")) or ""),
                         dt.date.fromisoformat(str(payment["date"])), rest.money(payment["amount"]),
                         "", tuple(allocations), str(payment.get(memo_field) or ""),
                         deleted=payment.get("state") == "cancel")


def odoo_time(when: dt.datetime) -> str:
    """A datetime for a domain on ``write_date``: UTC, to the second."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_odoo_time(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
