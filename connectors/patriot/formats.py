"""Patriot Accounting's import files and its invoice export, as far as Patriot documents them.

Documented (help articles "How to Import Customers into Accounting", "Importing Vendors", "How to Import Your
Chart of Accounts"): .csv (or .xls/.xlsx) files; the first row holds column headers, one field per column, data
from row 2; column order does not matter (fields are matched on the import screen); at most 200 records per
file, any number of files; customers need a Business Name or a First and Last Name; a business name and each
address line take at most 50 characters.

Guessed (Patriot publishes no invoice or payment import template we could find): the invoices and payments
files below follow the same conventions, one row per invoice line / per invoice a payment is applied to, with
the column names of Patriot's invoice screen and Invoices report. See docs/connectors/patriot.md.
"""
from __future__ import annotations

from connectors.filekit.formats import Column, FileFormat

ROWS_PER_FILE = 200  # documented for customers, vendors and accounts; assumed for invoices and payments
DATE = "%m/%d/%Y"  # a US product; assumed

CUSTOMERS = FileFormat(
    kind="customers", title="Patriot customers import file", entities=frozenset({"customer"}),
    max_rows=ROWS_PER_FILE, date_format=DATE,
    columns=(Column("Business Name", max_length=50), Column("First Name"), Column("Last Name"),
             Column("Address 1", max_length=50), Column("Address 2", max_length=50), Column("City"),
             Column("State"), Column("Zip"), Column("Email"), Column("Phone"), Column("Notes")))

INVOICES = FileFormat(
    kind="invoices", title="Patriot invoices import file", entities=frozenset({"invoice"}),
    max_rows=ROWS_PER_FILE, date_format=DATE,
    columns=(Column("Invoice Number", required=True, max_length=20),
             Column("Customer", required=True, max_length=50),  # the customer's business name (50, documented)
             Column("Invoice Date", required=True), Column("Due Date"),
             Column("Product/Service", required=True, max_length=100), Column("Description", max_length=500),
             Column("Quantity", required=True), Column("Rate", required=True), Column("Amount", required=True),
             Column("Income Account", required=True), Column("Sales Tax"), Column("Tax Amount"),
             Column("Memo", max_length=500)))

PAYMENTS = FileFormat(
    kind="payments", title="Patriot payments import file", entities=frozenset({"payment"}),
    max_rows=ROWS_PER_FILE, date_format=DATE,
    columns=(Column("Payment Date", required=True), Column("Customer", required=True, max_length=50),
             Column("Invoice Number", required=True, max_length=20), Column("Payment Amount", required=True),
             Column("Payment Method", max_length=50), Column("Deposit Account", required=True),
             Column("Reference Number", required=True, max_length=20), Column("Memo", max_length=500)))

#: Patriot's Invoices report, exported as CSV (statuses as its help lists them); read back to close and reconcile.
INVOICE_EXPORT = FileFormat(
    kind="invoice_export", title="Patriot invoices report (CSV export)", entities=frozenset({"invoice"}),
    date_format=DATE,
    columns=(Column("Invoice Number", required=True), Column("Customer"), Column("Invoice Date"), Column("Due Date"),
             Column("Status", required=True), Column("Total", required=True), Column("Balance Due")))
#: Invoice statuses in Patriot (help: "Managing Your Customer Invoices") -> ours.
STATUSES = {"Saved": "open", "Sent": "open", "Emailed": "open", "Pending": "open", "Partially Paid": "open",
            "Paid": "paid", "Voided": "voided"}
