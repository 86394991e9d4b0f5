"""An in-process stand-in for Patriot's import screens and its Invoices report export (see filekit.importer)."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from connectors.base import DocumentTotals
from connectors.documents import Entity
from connectors.errors import DataError
from connectors.filekit import formats as ff
from connectors.filekit.formats import FileFormat
from connectors.filekit.importer import ImporterEmulator

from . import formats as pf
from .connector import PatriotConnector

STATUS = {"open": "Saved", "paid": "Paid", "voided": "Voided"}


class PatriotImporter(ImporterEmulator):
    platform = "patriot"
    title = "Patriot Accounting"
    connector = PatriotConnector

    def reset(self) -> None:
        super().reset()
        self.customers: set[str] = set()
        self._applied: dict[str, list[tuple[str, Decimal]]] = {}  # payment number -> (invoice, amount), to book

    def group(self, fmt: FileFormat, records: list[list[dict[str, str]]]) -> list[list[dict[str, str]]]:
        """Patriot's files have one row per invoice line / per invoice paid: rows of one number are one document."""
        key = {"invoices": "Invoice Number", "payments": "Reference Number"}.get(fmt.kind)
        if key is None:
            return records
        grouped: dict[str, list[dict[str, str]]] = {}
        for record in records:
            for row in record:
                grouped.setdefault(row.get(key, ""), []).append(row)
        return list(grouped.values())

    def accept(self, fmt: FileFormat, record: list[dict[str, str]]) -> DocumentTotals | None:
        if fmt.kind == "customers":
            (row,) = record
            name = row.get("Business Name") or f"{row.get('First Name', '')} {row.get('Last Name', '')}".strip()
            if not name:
                raise DataError("a customer needs a Business Name or a First and Last Name")
            self.customers.add(name)
            return None
        if fmt.kind == "invoices":
            number = record[0]["Invoice Number"]
            if (Entity.INVOICE, number) in self.documents:
                raise DataError(f"invoice number {number} is already used")
            total = Decimal("0")
            for row in record:
                ff.parse_date(row["Invoice Date"], pf.DATE)
                amount = ff.parse_money(row["Amount"]) or Decimal("0")
                rate = ff.parse_money(row["Rate"]) or Decimal("0")
                if ff.money(rate * Decimal(row["Quantity"])) != ff.money(amount):
                    raise DataError(f"invoice {number}: quantity × rate is not the amount {amount}")
                total += amount + (ff.parse_money(row.get("Tax Amount", "")) or Decimal("0"))
            return DocumentTotals(number, Entity.INVOICE, number, "open", "USD", total, None, total)
        number = record[0]["Reference Number"]
        if (Entity.PAYMENT, number) in self.documents:
            raise DataError(f"payment {number} was imported before")
        amount, applied = Decimal("0"), []
        for row in record:
            ff.parse_date(row["Payment Date"], pf.DATE)
            paid = ff.parse_money(row["Payment Amount"]) or Decimal("0")
            invoice = self.documents.get((Entity.INVOICE, row["Invoice Number"]))
            if invoice is None:
                raise DataError(f"payment {number}: no invoice {row['Invoice Number']} in Patriot (import the "
                                "invoices file first)")
            if paid > (invoice.balance or Decimal("0")):
                raise DataError(f"payment {number}: {paid} is more than the {invoice.balance} due on "
                                f"{invoice.number}")
            applied.append((invoice.number, paid))
            amount += paid
        self._applied[number] = applied
        return DocumentTotals(number, Entity.PAYMENT, number, "paid", "USD", amount, None, Decimal("0"))

    def commit(self, staged: list[DocumentTotals]) -> None:
        super().commit(staged)
        for doc in staged:
            for invoice, amount in self._applied.pop(doc.number, []) if doc.entity == Entity.PAYMENT else []:
                self.pay(Entity.INVOICE, invoice, amount)

    def export_file(self) -> tuple[str, bytes]:
        """Patriot's Invoices report, exported as CSV."""
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(pf.INVOICE_EXPORT.names)
        for (entity, _), doc in sorted(self.documents.items()):
            if entity != Entity.INVOICE:
                continue
            status = "Partially Paid" if doc.status == "open" and doc.balance != doc.total else STATUS[doc.status]
            writer.writerow([doc.number, "", "", "", status, ff.money(doc.total), ff.money(doc.balance)])
        return "patriot-invoices-report.csv", buffer.getvalue().encode("utf-8")
