"""Xero's sales invoice import (Business -> Invoices -> Import), for entering invoices by hand while the API cannot
be reached.

The header is Xero's "Sales invoice import template" as Xero's importer describes it: ContactName*,
InvoiceNumber* (one per invoice; repeated on each of its lines), InvoiceDate* and DueDate* as DD/MM/YYYY,
Description*, Quantity, UnitAmount, AccountCode (the account's code as Xero shows it), TaxType (the tax rate's
display name as Xero shows it, e.g. "GST on Income"); Total and TaxAmount are worked out by Xero. The template marks
required columns with a leading ``*``, which we keep. Xero imports at most 500 invoices per file. Sources: Xero's
import help as quoted by accounting-firm guides (see docs/connectors/xero.md); credit notes have a separate
template that we do not write (they go in the generic CSV).
"""
from __future__ import annotations

from connectors.manual import ManualDocument, ManualFormat, money, quantity

HEADER = ("*ContactName", "EmailAddress", "POAddressLine1", "POAddressLine2", "POAddressLine3", "POAddressLine4",
          "POCity", "PORegion", "POPostalCode", "POCountry", "*InvoiceNumber", "Reference", "*InvoiceDate",
          "*DueDate", "Total", "InventoryItemCode", "*Description", "*Quantity", "*UnitAmount", "Discount",
          "*AccountCode", "*TaxType", "TaxAmount", "TrackingName1", "TrackingOption1", "TrackingName2",
          "TrackingOption2", "Currency", "BrandingTheme")
DATE = "%d/%m/%Y"


def _rows(doc: ManualDocument) -> list[list[str]]:
    date = doc.date.strftime(DATE) if doc.date else ""
    due = doc.due_date.strftime(DATE) if doc.due_date else date
    rows = []
    for line in doc.lines:
        unit = -line.unit_price if line.kind == "discount" else line.unit_price  # a discount: a negative line
        rows.append([doc.customer_name, doc.customer_email, "", "", "", "", "", "", "", "", doc.number, doc.memo[:255],
                     date, due, money(doc.total), "", line.description or line.item_name, quantity(line.quantity),
                     money(unit), "", line.account_code, line.tax_name or line.tax_code, money(line.tax_amount),
                     "", "", "", "", doc.currency, ""])
    return rows


SALES_INVOICES = ManualFormat(
    name="xero-sales-invoices", label="Xero sales invoice import (CSV)", filename="xero-sales-invoices.csv",
    header=HEADER, rows=_rows, entities=frozenset({"invoice"}),
    note="In Xero: Business → Invoices → Import; amounts are tax exclusive; at most 500 invoices per file.")
