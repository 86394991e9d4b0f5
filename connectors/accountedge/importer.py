"""An in-process stand-in for AccountEdge's File > Import Data and its Service Sales export (see filekit.importer)."""
from __future__ import annotations

import re
from decimal import Decimal

from connectors.base import DocumentTotals
from connectors.documents import Entity
from connectors.errors import DataError
from connectors.filekit import formats as ff
from connectors.filekit import writer
from connectors.filekit.formats import FileFormat
from connectors.filekit.importer import ImporterEmulator

from . import formats as af
from .connector import AccountEdgeConnector


class AccountEdgeImporter(ImporterEmulator):
    platform = "accountedge"
    title = "AccountEdge"
    connector = AccountEdgeConnector

    def reset(self) -> None:
        super().reset()
        self.sales: dict[str, list[dict[str, str]]] = {}  # invoice # -> its rows, for the export
        self._applied: dict[str, list[tuple[str, Decimal]]] = {}

    def accept(self, fmt: FileFormat, record: list[dict[str, str]]) -> DocumentTotals | None:
        if fmt.kind == "sales":
            number = record[0]["Invoice #"]
            if any(r["Invoice #"] != number for r in record):
                raise DataError(f"sale {number}: a record holds one sale (an empty line must end each sale)")
            if (Entity.INVOICE, number) in self.documents:
                raise DataError(f"invoice # {number} already exists")
            total = Decimal("0")
            for row in record:
                ff.parse_date(row["Date"], af.DATE)
                if not re.match(af.ACCOUNT, row["Account #"]):
                    raise DataError(f"sale {number}: “{row['Account #']}” is not an account number")
                total += (ff.parse_money(row["Amount"]) or Decimal("0")) + (
                    ff.parse_money(row.get("Tax Amount", "")) or Decimal("0"))
            self.sales[number] = record
            return DocumentTotals(number, Entity.INVOICE, number, "open", "", total, None, total)
        number = record[0].get("ID #") or f"P{len(self.documents) + 1}"
        amount, applied = Decimal("0"), []
        for row in record:
            if not re.match(af.ACCOUNT, row["Deposit Account #"]):
                raise DataError(f"payment {number}: “{row['Deposit Account #']}” is not an account number")
            invoice = self.documents.get((Entity.INVOICE, row["Invoice #"]))
            if invoice is None:
                raise DataError(f"payment {number}: no open invoice # {row['Invoice #']} for "
                                f"{row['Co./Last Name']} (import the sales file first)")
            paid = ff.parse_money(row["Amount Applied"]) or Decimal("0")
            if paid > (invoice.balance or Decimal("0")):
                raise DataError(f"payment {number}: {paid} is more than the {invoice.balance} due")
            applied.append((invoice.number, paid))
            amount += paid
        self._applied[number] = applied
        return DocumentTotals(number, Entity.PAYMENT, number, "paid", "", amount, None, Decimal("0"))

    def commit(self, staged: list[DocumentTotals]) -> None:
        super().commit(staged)
        for doc in staged:
            for invoice, amount in self._applied.pop(doc.number, []) if doc.entity == Entity.PAYMENT else []:
                self.pay(Entity.INVOICE, invoice, amount)

    def edit_total_as_user(self, entity: str, number: str, total: Decimal) -> None:
        """The sale's first line takes the difference (its export is rendered from the sale's lines)."""
        old = self.documents[(entity, number)].total or Decimal("0")
        super().edit_total_as_user(entity, number, total)
        if entity == Entity.INVOICE:
            first = self.sales[number][0]
            first["Amount"] = ff.money((ff.parse_money(first["Amount"]) or Decimal("0")) + total - old)

    def export_file(self) -> tuple[str, bytes]:
        """File > Export Data > Sales > Service Sales: the import format, with Amount Paid filled in."""
        records = []
        for number, rows in self.sales.items():
            doc = self.documents[(Entity.INVOICE, number)]
            paid = (doc.total or Decimal("0")) - (doc.balance or Decimal("0"))
            records.append([{**row, "Amount Paid": ff.money(paid) if i == 0 else ""} for i, row in enumerate(rows)])
        files = writer.render(af.SALES, records) if records else []
        return "accountedge-service-sales-export.txt", files[0].content if files else b""
