"""QuickBooks Online's invoice import file, as the manual fallback writes it (connectors/qbo/manual.py): read back
with the csv module, its header is the importer's, its rows carry our numbers and amounts, its limits hold."""
import csv
import datetime as dt
import io
from decimal import Decimal

from connectors.filekit.manual import ManualDocument, ManualLine, render
from connectors.qbo.connector import QBOConnector
from connectors.qbo.manual import INVOICES

TEMPLATE = ["InvoiceNo", "Customer", "InvoiceDate", "DueDate", "Terms", "Location", "Memo", "Item(Product/Service)",
            "ItemDescription", "ItemQuantity", "ItemRate", "ItemAmount", "ItemTaxCode", "ItemTaxAmount", "Currency",
            "Service Date"]


def line(qty="2", price="50.00", kind="service", tax="5.00", **kwargs) -> ManualLine:
    qty, price = Decimal(qty), Decimal(price)
    return ManualLine(kind=kind, description=kwargs.pop("description", "Cleaning"), quantity=qty, unit_price=price,
                      net_amount=qty * price, tax_amount=Decimal(tax), tax_name="GST", **kwargs)


def invoice(number="INV-7", *lines, **kwargs) -> ManualDocument:
    return ManualDocument(entity="invoice", number=number, customer_name="Harbour Dental, Ltd",
                          customer_email="desk@harbour.example", date=dt.date(2026, 3, 4), due_date=dt.date(2026, 4, 3),
                          currency="USD", memo="Thanks", total=Decimal("110.00"), tax_total=Decimal("10.00"),
                          lines=lines or (line(),), **kwargs)


def parse(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())  # a byte-order mark: spreadsheet programs read accents
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_the_header_is_quickbooks_invoice_import_header():
    assert list(INVOICES.file.names) == TEMPLATE
    [file] = render(INVOICES, [invoice()])
    assert parse(file.content)[0] == TEMPLATE


def test_one_row_per_line_with_our_number_amounts_and_us_dates():
    doc = invoice("INV-7", line(), line("1", "30.00", tax="3.00", item_name="Whitening", description="Kit"))
    [file] = render(INVOICES, [doc])
    rows = [dict(zip(TEMPLATE, r, strict=True)) for r in parse(file.content)[1:]]
    assert file.rows == 2 and file.records == 1
    assert [(r["InvoiceNo"], r["Customer"], r["InvoiceDate"], r["DueDate"]) for r in rows] == [
        ("INV-7", "Harbour Dental, Ltd", "03/04/2026", "04/03/2026")] * 2  # the comma survives the csv quoting
    assert [(r["Item(Product/Service)"], r["ItemDescription"], r["ItemQuantity"], r["ItemRate"], r["ItemAmount"],
             r["ItemTaxCode"], r["ItemTaxAmount"]) for r in rows] == [
        ("Cleaning", "Cleaning", "2", "50.00", "100.00", "GST", "5.00"),
        ("Whitening", "Kit", "1", "30.00", "30.00", "GST", "3.00")]
    assert all(not INVOICES.file.problems(r) for r in rows)  # every required column filled, nothing too long


def test_a_discount_or_an_empty_invoice_is_refused_with_the_reason():
    assert INVOICES.refuse(invoice()) == ""
    assert "no discount lines" in INVOICES.refuse(invoice("INV-8", line(), line("1", "5.00", kind="discount")))
    assert INVOICES.refuse(ManualDocument("invoice", "INV-9", "A", "", None, None, "USD", "", Decimal(0),
                                          Decimal(0))) == "it has no lines"


def test_over_100_invoices_start_a_new_file_never_splitting_an_invoice():
    docs = [invoice(f"INV-{n}", line(), line("1", "1.00")) for n in range(101)]
    files = render(INVOICES, docs)
    assert [(f.part, f.records, f.rows) for f in files] == [(1, 100, 200), (2, 1, 2)]
    assert parse(files[1].content)[1][0] == "INV-100"


def test_quickbooks_offers_it_besides_the_generic_csv():
    assert list(QBOConnector.manual_formats_all()) == ["generic", "qbo"]
    assert INVOICES.file.entities == {"invoice"}
