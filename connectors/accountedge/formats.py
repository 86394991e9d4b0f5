"""AccountEdge's Service Sales and Receive Payments import files, as its user guide documents them.

Documented (AccountEdge help "File Formats for Importing", "Importing/Exporting with AccountEdge", the
"Receive Payments Fields" table; Ledger One's "Importing and Exporting Data To and From AccountEdge"): tab-delimited
or comma-separated text files; the first record is a header record or a data record, as chosen on the import
screen; a transaction of two or more lines is followed by an empty line; import formats are identical to export
formats; Receive Payments fields and limits (Co./Last Name 255, Deposit Account # 5 digits with an optional
separator after the first, ID # 8, Invoice # 8, Customer PO # 20, Amount Applied 15 characters with 2 decimals,
Currency Code 3, Payment Method 20, Payment Notes 50); dates follow the system's date convention.

Guessed: the Service Sales column list (AccountEdge's own export of a service sale, as exporting a sample shows,
could not be fetched: names follow the field list conventions of the Receive Money / Receive Payments tables),
the text encoding (Windows-1252) and line endings (CR LF). See docs/connectors/accountedge.md.
"""
from __future__ import annotations

from connectors.filekit.formats import Column, FileFormat

DATE = "%m/%d/%Y"  # "follows the date convention of your system": a US company file; a setting can change it
ENCODING = "cp1252"  # assumed
ACCOUNT = r"^\d[^0-9]?\d{4}$"  # 5 digits, optional non-numeric separator after the first (documented)

SALES = FileFormat(
    kind="sales", title="AccountEdge Service Sales import file", entities=frozenset({"invoice"}),
    delimiter="\t", encoding=ENCODING, record_separator=True, date_format=DATE, extension="txt",
    columns=(Column("Co./Last Name", required=True, max_length=255), Column("First Name", max_length=255),
             Column("Inclusive", max_length=1), Column("Invoice #", required=True, max_length=8),
             Column("Date", required=True, max_length=10), Column("Customer PO #", max_length=20),
             Column("Description", max_length=255), Column("Account #", required=True, max_length=6),
             Column("Amount", required=True, max_length=15), Column("Job", max_length=15),
             Column("Journal Memo", max_length=255), Column("Tax Code", max_length=5),
             Column("Tax Amount", max_length=15), Column("Currency Code", max_length=3),
             Column("Exchange Rate", max_length=11), Column("Amount Paid", max_length=15),
             Column("Payment Method", max_length=20), Column("Sale Status", max_length=1)))

RECEIVE_PAYMENTS = FileFormat(
    kind="receive_payments", title="AccountEdge Receive Payments import file", entities=frozenset({"payment"}),
    delimiter="\t", encoding=ENCODING, record_separator=True, date_format=DATE, extension="txt",
    columns=(Column("Co./Last Name", required=True, max_length=255), Column("First Name", max_length=255),
             Column("Deposit Account #", required=True, max_length=6), Column("ID #", max_length=8),
             Column("Receipt Date", max_length=10), Column("Memo", max_length=255),
             Column("Invoice #", required=True, max_length=8), Column("Customer PO #", max_length=20),
             Column("Invoice Date", max_length=10), Column("Amount Applied", required=True, max_length=15),
             Column("Currency Code", max_length=3), Column("Exchange Rate", max_length=11),
             Column("Payment Method", max_length=20), Column("Payment Notes", max_length=50)))
