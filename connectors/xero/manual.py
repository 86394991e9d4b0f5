"""Xero's sales invoice import (Business → Invoices → Import), for entering invoices by hand while the API cannot be
reached.

The header is Xero's sales invoice import template; a leading ``*`` marks the columns Xero requires, as in the
template. One row per invoice line, the invoice number repeated on each; dates DD/MM/YYYY; ``*AccountCode`` is the
account's code as Xero shows it, ``*TaxType`` the tax rate's display name as Xero shows it. Total and TaxAmount are
left empty: Xero works them out from Quantity, UnitAmount and TaxType. A discount is a negative line. Xero imports
at most 500 invoices per file. Sources and what is guessed: docs/connectors/xero.md.
"""
from __future__ import annotations

from connectors.filekit.formats import Column, FileFormat, date, money, quantity
from connectors.filekit.manual import ManualDocument, ManualFormat

DATE = "%d/%m/%Y"
FILE = FileFormat(
    kind="xero", title="Xero sales invoice import file", encoding="utf-8-sig", date_format=DATE, max_records=500,
    entities=frozenset({"invoice"}),
    columns=(Column("*ContactName", True, 255), Column("EmailAddress"), Column("POAddressLine1"),
             Column("POAddressLine2"), Column("POAddressLine3"), Column("POAddressLine4"), Column("POCity"),
             Column("PORegion"), Column("POPostalCode"), Column("POCountry"), Column("*InvoiceNumber", True, 255),
             Column("Reference", max_length=255), Column("*InvoiceDate", True), Column("*DueDate", True),
             Column("Total"), Column("InventoryItemCode"), Column("*Description", True, 4000),
             Column("*Quantity", True), Column("*UnitAmount", True), Column("Discount"), Column("*AccountCode", True),
             Column("*TaxType", True), Column("TaxAmount"), Column("TrackingName1"), Column("TrackingOption1"),
             Column("TrackingName2"), Column("TrackingOption2"), Column("Currency"), Column("BrandingTheme")))


def _rows(doc: ManualDocument) -> list[dict[str, str]]:
    issued = date(doc.date, DATE)
    head = {"*ContactName": doc.customer_name, "EmailAddress": doc.customer_email, "*InvoiceNumber": doc.number,
            "Reference": doc.memo[:255], "*InvoiceDate": issued, "*DueDate": date(doc.due_date, DATE) or issued,
            "Currency": doc.currency}
    return [{**head, "*Description": line.description or line.item_name, "*Quantity": quantity(line.quantity),
             "*UnitAmount": money(line.signed_price), "*AccountCode": line.account_code,
             "*TaxType": line.tax_name or line.tax_code}
            for line in doc.lines]


def _refuse(doc: ManualDocument) -> str:
    return "" if doc.lines else "it has no lines"


SALES_INVOICES = ManualFormat(
    name="xero", label="Xero sales invoice import (CSV)", file=FILE, rows=_rows, refuse=_refuse,
    note="In Xero: Business → Invoices → Import; choose “tax exclusive”. At most 500 invoices per file (a larger "
         "export comes as several files).")
