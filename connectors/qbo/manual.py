"""QuickBooks Online's invoice import (Settings → Import data → Invoices), for entering invoices by hand while the
API cannot be reached.

Columns: Intuit's sample-file spelling of the headers the importer maps by itself (Intuit's community answer lists
them as *Invoice number, *Customer, *Invoice date, *Due date, Terms, Item (Product/Service), Item Description, Item
Quantity, Item Rate, *Item Amount, Item tax code, Service Date, Memo), plus Location, ItemTaxAmount and Currency.
One row per invoice line; the lines of one invoice share its number. Limits (a guide quoting Intuit's help): at most
100 invoices per import and 1,000 spreadsheet rows (the header is one of them), no discounts, credit memos or
negative amounts, and the Customer must match a customer QuickBooks already has. Sources and what is guessed:
docs/connectors/qbo.md.
"""
from __future__ import annotations

from connectors.filekit.formats import Column, FileFormat, date, money, quantity
from connectors.filekit.manual import ManualDocument, ManualFormat

DATE = "%m/%d/%Y"  # the importer asks for the file's date format: the note says which to choose
FILE = FileFormat(
    kind="qbo", title="QuickBooks Online invoice import file", encoding="utf-8-sig", date_format=DATE,
    max_rows=999, max_records=100, entities=frozenset({"invoice"}),
    columns=(Column("InvoiceNo", True, 21), Column("Customer", True, 100), Column("InvoiceDate", True),
             Column("DueDate", True), Column("Terms"), Column("Location"), Column("Memo", max_length=1000),
             Column("Item(Product/Service)", max_length=100), Column("ItemDescription", max_length=4000),
             Column("ItemQuantity"), Column("ItemRate"), Column("ItemAmount", True), Column("ItemTaxCode"),
             Column("ItemTaxAmount"), Column("Currency"), Column("Service Date")))


def _rows(doc: ManualDocument) -> list[dict[str, str]]:
    issued = date(doc.date, DATE)
    head = {"InvoiceNo": doc.number, "Customer": doc.customer_name, "InvoiceDate": issued,
            "DueDate": date(doc.due_date, DATE) or issued, "Memo": doc.memo, "Currency": doc.currency}
    return [{**head, "Item(Product/Service)": line.item_name or line.description[:100],
             "ItemDescription": line.description, "ItemQuantity": quantity(line.quantity),
             "ItemRate": money(line.unit_price), "ItemAmount": money(line.net_amount),
             "ItemTaxCode": line.tax_name or line.tax_code, "ItemTaxAmount": money(line.tax_amount)}
            for line in doc.lines]


def _refuse(doc: ManualDocument) -> str:
    if any(line.kind == "discount" or line.net_amount < 0 or line.unit_price < 0 for line in doc.lines):
        return "QuickBooks' invoice import takes no discount lines or negative amounts"
    if not doc.lines:
        return "it has no lines"
    return ""


INVOICES = ManualFormat(
    name="qbo", label="QuickBooks Online invoice import (CSV)", file=FILE, rows=_rows, refuse=_refuse,
    note="In QuickBooks Online: turn on custom transaction numbers first (so the invoices keep our numbers) and add "
         "the customers it does not have yet (the generic CSV has their names and emails); then Settings → Import "
         "data → Invoices, date format MM/DD/YYYY, “exclusive of tax”.")
