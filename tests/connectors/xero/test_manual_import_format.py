"""Xero's sales invoice import template, as the manual fallback writes it (connectors/xero/manual.py): read back
with the csv module, its header is Xero's template (required columns starred), its rows carry our numbers, the
account code and the tax rate's name, and a file holds at most 500 invoices."""
import csv
import datetime as dt
import io
from decimal import Decimal

from connectors.filekit.manual import ManualDocument, ManualLine, render
from connectors.xero.connector import XeroConnector
from connectors.xero.manual import SALES_INVOICES

TEMPLATE = ["*ContactName", "EmailAddress", "POAddressLine1", "POAddressLine2", "POAddressLine3", "POAddressLine4",
            "POCity", "PORegion", "POPostalCode", "POCountry", "*InvoiceNumber", "Reference", "*InvoiceDate",
            "*DueDate", "Total", "InventoryItemCode", "*Description", "*Quantity", "*UnitAmount", "Discount",
            "*AccountCode", "*TaxType", "TaxAmount", "TrackingName1", "TrackingOption1", "TrackingName2",
            "TrackingOption2", "Currency", "BrandingTheme"]


def line(qty="1", price="80.00", kind="service", **kwargs) -> ManualLine:
    qty, price = Decimal(qty), Decimal(price)
    return ManualLine(kind=kind, description=kwargs.pop("description", "Consultation"), quantity=qty,
                      unit_price=price, net_amount=qty * price, tax_amount=Decimal("0"), account_code="200",
                      account_name="Sales", tax_code="OUTPUT", tax_name="GST on Income", **kwargs)


def invoice(number="X-9", *lines) -> ManualDocument:
    return ManualDocument(entity="invoice", number=number, customer_name="Quay Vets", customer_email="a@quay.example",
                          date=dt.date(2026, 3, 4), due_date=None, currency="AUD", memo="PO 55",
                          total=Decimal("82.50"), tax_total=Decimal("7.50"), lines=lines or (line(),))


def parse(content: bytes) -> list[dict]:
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert table[0] == TEMPLATE
    return [dict(zip(TEMPLATE, row, strict=True)) for row in table[1:]]


def test_the_header_is_xeros_sales_invoice_template():
    assert list(SALES_INVOICES.file.names) == TEMPLATE
    assert SALES_INVOICES.file.required == tuple(c for c in TEMPLATE if c.startswith("*"))


def test_one_row_per_line_with_the_account_code_the_tax_rate_name_and_uk_dates():
    [file] = render(SALES_INVOICES, [invoice("X-9", line(), line("1", "5.00", kind="discount", description="Loyalty"))])
    rows = parse(file.content)
    assert [(r["*ContactName"], r["EmailAddress"], r["*InvoiceNumber"], r["Reference"], r["*InvoiceDate"],
             r["*DueDate"], r["Currency"]) for r in rows] == [
        ("Quay Vets", "a@quay.example", "X-9", "PO 55", "04/03/2026", "04/03/2026", "AUD")] * 2  # no due: the date
    assert [(r["*Description"], r["*Quantity"], r["*UnitAmount"], r["*AccountCode"], r["*TaxType"]) for r in rows] == [
        ("Consultation", "1", "80.00", "200", "GST on Income"), ("Loyalty", "1", "-5.00", "200", "GST on Income")]
    assert {r["Total"] for r in rows} == {""} and {r["TaxAmount"] for r in rows} == {""}  # Xero works them out
    assert all(not SALES_INVOICES.file.problems(r) for r in rows)


def test_a_file_holds_at_most_500_invoices():
    files = render(SALES_INVOICES, [invoice(f"X-{n}") for n in range(501)])
    assert [(f.part, f.records) for f in files] == [(1, 500), (2, 1)]
    assert parse(files[1].content)[0]["*InvoiceNumber"] == "X-500"


def test_xero_offers_it_besides_the_generic_csv():
    assert list(XeroConnector.manual_formats_all()) == ["generic", "xero"]
    assert SALES_INVOICES.refuse(invoice()) == ""
