"""Files for entering documents by hand while a platform is down (the manual fallback).

Shared code knows only the generic CSV and the shape every format reads (``ManualDocument``); a platform with an
import format of its own declares it in its folder (``connectors/qbo/manual.py``, ``connectors/xero/manual.py``)
as a ``ManualFormat`` on its connector (``BaseConnector.manual_formats``).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterable


@dataclass(frozen=True)
class ManualLine:
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    net_amount: Decimal  # positive; a discount line subtracts it
    tax_amount: Decimal
    item_name: str = ""
    account_code: str = ""  # the platform's id or code of the mapped account ("" when no rule resolves)
    account_name: str = ""
    tax_code: str = ""  # the platform's id or code of the mapped tax code
    tax_name: str = ""


@dataclass(frozen=True)
class ManualDocument:
    """A document as a person keys it in: names, not keys; the mapped accounts and tax codes where they resolve."""

    entity: str  # invoice, credit_note, payment
    number: str
    customer_name: str
    customer_email: str
    date: dt.date | None
    due_date: dt.date | None
    currency: str
    memo: str
    total: Decimal
    tax_total: Decimal
    lines: tuple[ManualLine, ...] = ()
    applied_to: str = ""  # a payment: the numbers of the invoices it pays
    method: str = ""  # a payment: card, cash, bank transfer...
    problem: str = ""  # why the mapping did not resolve (the person picks the account themselves)


@dataclass(frozen=True)
class ManualFormat:
    """An import format: its name (``--format``), what staff read, the file name, the header row and the rows of
    one document. ``entities``: the documents it carries (the others go in the generic CSV)."""

    name: str
    label: str
    filename: str
    header: tuple[str, ...]
    rows: Callable[[ManualDocument], list[list[str]]]
    entities: frozenset[str]
    note: str = ""  # what staff must choose in the platform's importer (date format, tax inclusive...)


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{Decimal(value):.2f}"


def quantity(value: Decimal) -> str:
    text = f"{Decimal(value).normalize():f}"
    return text


def signed(line: ManualLine) -> Decimal:
    return -line.net_amount if line.kind == "discount" else line.net_amount


def _generic_rows(doc: ManualDocument) -> list[list[str]]:
    date = doc.date.isoformat() if doc.date else ""
    due = doc.due_date.isoformat() if doc.due_date else ""
    head = [doc.entity.replace("_", " "), doc.number, doc.customer_name, doc.customer_email, date, due, doc.currency,
            money(doc.total), money(doc.tax_total), doc.memo]
    if not doc.lines:
        return [head + ["", "", "", "", "", "", "", "", doc.applied_to, doc.method, doc.problem]]
    return [head + [line.description, line.item_name, quantity(line.quantity), money(line.unit_price),
                    money(signed(line)), money(line.tax_amount),
                    " ".join(p for p in (line.account_code, f"({line.account_name})" if line.account_name else "") if p),
                    " ".join(p for p in (line.tax_code, f"({line.tax_name})" if line.tax_name else "") if p),
                    doc.applied_to, doc.method, doc.problem]
            for line in doc.lines]


GENERIC = ManualFormat(
    name="generic", label="Generic CSV (one row per line, every document kind)", filename="manual-entry.csv",
    header=("Document", "Number", "Customer", "Customer email", "Date", "Due date", "Currency", "Total", "Tax total",
            "Memo", "Line description", "Item", "Quantity", "Unit price", "Line amount", "Line tax", "Account",
            "Tax code", "Applies to", "Method", "Mapping problem"),
    rows=_generic_rows, entities=frozenset({"invoice", "credit_note", "payment"}),
    note="Amounts exclude tax; a discount line has a negative amount.")


def render(fmt: ManualFormat, documents: Iterable[ManualDocument]) -> tuple[bytes, int]:
    """The file's bytes (UTF-8 with a byte-order mark, so spreadsheet programs read accents) and its row count."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fmt.header)
    rows = 0
    for doc in documents:
        if doc.entity in fmt.entities:
            for row in fmt.rows(doc):
                writer.writerow(row)
                rows += 1
    return ("\ufeff" + out.getvalue()).encode("utf-8"), rows
