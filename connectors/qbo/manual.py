"""QuickBooks Online's invoice import (Settings -> Import data -> Invoices), for entering invoices by hand while the
API cannot be reached.

The columns are those QuickBooks Online maps by itself when a file's headers use its default names (an Intuit
community answer lists them: *Invoice number, *Customer, *Invoice date, *Due date, Terms, Item (Product/Service),
Item Description, Item Quantity, Item Rate, *Item Amount, Item tax code, Service Date, Memo); we write Intuit's
sample-file spelling of them (InvoiceNo, ItemAmount, ...), which the importer also recognises, plus ItemTaxAmount
and Currency. One row per invoice line; the lines of one invoice share its number. Customers that do not exist
yet are created by the import. GUESS (not checked against a QuickBooks company): the exact header spelling the
importer auto-maps; a header it does not recognise is mapped by hand in its mapping step. See docs/connectors/qbo.md.
"""
from __future__ import annotations

from connectors.manual import ManualDocument, ManualFormat, money, quantity, signed

HEADER = ("InvoiceNo", "Customer", "InvoiceDate", "DueDate", "Terms", "Location", "Memo", "Item(Product/Service)",
          "ItemDescription", "ItemQuantity", "ItemRate", "ItemAmount", "ItemTaxCode", "ItemTaxAmount", "Currency",
          "Service Date")
DATE = "%m/%d/%Y"  # the importer asks for the file's date format; this is the one chosen in the note


def _rows(doc: ManualDocument) -> list[list[str]]:
    date = doc.date.strftime(DATE) if doc.date else ""
    due = doc.due_date.strftime(DATE) if doc.due_date else date
    return [[doc.number, doc.customer_name, date, due, "", "", doc.memo, line.item_name or line.description[:100],
             line.description, quantity(line.quantity), money(line.unit_price if line.kind != "discount"
                                                              else -line.unit_price),
             money(signed(line)), line.tax_name or line.tax_code, money(line.tax_amount), doc.currency, ""]
            for line in doc.lines]


INVOICES = ManualFormat(
    name="qbo-invoices", label="QuickBooks Online invoice import (CSV)", filename="quickbooks-invoices.csv",
    header=HEADER, rows=_rows, entities=frozenset({"invoice"}),
    note="In QuickBooks Online: Settings → Import data → Invoices; date format MM/DD/YYYY; amounts exclude tax.")
