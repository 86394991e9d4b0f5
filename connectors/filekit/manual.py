"""Files for entering documents by hand while a platform with an API is down (the manual fallback).

The same kit as file delivery: a ``ManualFormat`` is a ``FileFormat`` (columns, limits, date format, encoding) plus
the rows of one document. Shared code knows only the generic CSV (``GENERIC``, every document kind, every
platform) and the shape every format reads (``ManualDocument``: names, not keys). A platform with an import format
of its own declares it in its folder (``connectors/qbo/manual.py``, ``connectors/xero/manual.py``) on its connector
(``BaseConnector.manual_formats``). ``accounting_sync.files.manual`` builds the documents and keeps the files in an
export batch.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from . import writer
from .formats import Column, FileFormat, date, money, quantity


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

    @property
    def signed_amount(self) -> Decimal:
        return -self.net_amount if self.kind == "discount" else self.net_amount

    @property
    def signed_price(self) -> Decimal:
        return -self.unit_price if self.kind == "discount" else self.unit_price


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
    total: Decimal | None
    tax_total: Decimal | None  # None for a payment
    lines: tuple[ManualLine, ...] = ()
    applied_to: str = ""  # a payment: the numbers of the invoices it pays
    method: str = ""  # a payment: card, cash, bank transfer...
    problem: str = ""  # why the mapping did not resolve (the person picks the account themselves)


def _takes_all(doc: ManualDocument) -> str:
    return ""


@dataclass(frozen=True)
class ManualFormat:
    """An import format for entering documents by hand: ``name`` (what ``--format`` takes), the file
    (``FileFormat``: its ``kind`` is the format's name, its ``entities`` the documents it carries), the rows of one
    document, and ``refuse``: why a document the file would carry cannot go in it ("" when it can), in words staff
    read (it is then keyed in from the generic CSV)."""

    name: str
    label: str
    file: FileFormat
    rows: Callable[[ManualDocument], list[dict[str, str]]]
    refuse: Callable[[ManualDocument], str] = _takes_all
    note: str = ""  # what staff choose in the platform's importer (date format, tax exclusive...)

    def carries(self, doc: ManualDocument) -> bool:
        return doc.entity in self.file.entities


def render(fmt: ManualFormat, documents: Sequence[ManualDocument]) -> list[writer.RenderedFile]:
    """The documents' files in ``fmt`` (several when the platform's limit per file is passed)."""
    return writer.render(fmt.file, [fmt.rows(doc) for doc in documents]) if documents else []


def _generic_rows(doc: ManualDocument) -> list[dict[str, str]]:
    head = {"Document": doc.entity.replace("_", " "), "Number": doc.number, "Customer": doc.customer_name,
            "Customer email": doc.customer_email, "Date": date(doc.date, "%Y-%m-%d"),
            "Due date": date(doc.due_date, "%Y-%m-%d"), "Currency": doc.currency, "Total": money(doc.total),
            "Tax total": money(doc.tax_total), "Memo": doc.memo, "Applies to": doc.applied_to, "Method": doc.method,
            "Mapping problem": doc.problem}
    if not doc.lines:
        return [head]
    return [{**head, "Line description": line.description, "Item": line.item_name,
             "Quantity": quantity(line.quantity), "Unit price": money(line.signed_price),
             "Line amount": money(line.signed_amount), "Line tax": money(line.tax_amount),
             "Account": " ".join(p for p in (line.account_code, f"({line.account_name})" if line.account_name else "")
                                 if p),
             "Tax code": " ".join(p for p in (line.tax_code, f"({line.tax_name})" if line.tax_name else "") if p)}
            for line in doc.lines]


GENERIC = ManualFormat(
    name="generic", label="Generic CSV (every document kind, one row per line)",
    file=FileFormat(
        kind="generic", title="manual-entry CSV", encoding="utf-8-sig",  # a byte-order mark: spreadsheets read accents
        columns=tuple(Column(name) for name in (
            "Document", "Number", "Customer", "Customer email", "Date", "Due date", "Currency", "Total", "Tax total",
            "Memo", "Line description", "Item", "Quantity", "Unit price", "Line amount", "Line tax", "Account",
            "Tax code", "Applies to", "Method", "Mapping problem")),
        entities=frozenset({"invoice", "credit_note", "payment"})),
    rows=_generic_rows,
    note="Dates are YYYY-MM-DD; amounts exclude tax; a discount line has a negative amount.")
