"""The Intacct sandbox company's reference data and its public, non-secret credentials (equal to the demo's
client id and secret for the Web Services user).

The chart is a small US chart in Intacct's shape (``ACCOUNTNO``, ``TITLE``, ``ACCOUNTTYPE`` balancesheet /
incomestatement, ``NORMALBALANCE`` debit / credit, ``CATEGORY``); the names are ours so the demo chart maps to
them. Tax details (``TAXDETAIL``, ``TAXTYPE`` Sale) are what a VAT/GST-enabled company has; a US company without
taxes has none. Locations and departments are the two standard dimensions.
"""
from __future__ import annotations

from decimal import Decimal

COMPANY_ID = "sandbox-company"
USER_ID = "sandbox-client"
USER_PASSWORD = "sandbox-secret"  # nosec B105 - the sandbox's public value, like its OAuth client
SENDER_ID = "sandbox-sender"
SENDER_PASSWORD = "sandbox-sender-password"  # nosec B105 - the sandbox's public value
HOME_CURRENCY = "USD"
CURRENCIES = ("USD", "EUR", "CAD")

#: ACCOUNTNO, TITLE, ACCOUNTTYPE, NORMALBALANCE, CATEGORY
ACCOUNTS = (
    ("1000", "Bank", "balancesheet", "debit", "Cash and Cash Equivalents"),
    ("1050", "Undeposited Funds", "balancesheet", "debit", "Cash and Cash Equivalents"),
    ("1200", "Accounts Receivable", "balancesheet", "debit", "Accounts Receivable"),
    ("2200", "Sales Tax Payable", "balancesheet", "credit", "Other Current Liabilities"),
    ("4000", "Product Sales", "incomestatement", "credit", "Revenue"),
    ("4100", "Consulting Revenue", "incomestatement", "credit", "Revenue"),
    ("4200", "Shipping Revenue", "incomestatement", "credit", "Revenue"),
    ("4300", "Late Fee Income", "incomestatement", "credit", "Other Income"),
    ("4400", "Restocking Fee Income", "incomestatement", "credit", "Other Income"),
    ("4900", "Discounts Given", "incomestatement", "credit", "Revenue"),
    ("6000", "Operating Expenses", "incomestatement", "debit", "Expenses"),
    ("6100", "Freight and Postage", "incomestatement", "debit", "Expenses"),
    ("6200", "Bank Charges", "incomestatement", "debit", "Expenses"),
)
#: DETAILID, VALUE (percent)
TAXES = (("Sales Tax 10%", Decimal("10")), ("Tax Exempt", Decimal("0")))
LOCATIONS = (("100", "Headquarters"), ("200", "Branch"))
DEPARTMENTS = (("10", "Sales"), ("20", "Services"))


def seed(store) -> None:
    for number, title, kind, balance, category in ACCOUNTS:
        store.create("GLACCOUNT", {"ACCOUNTNO": number, "TITLE": title, "ACCOUNTTYPE": kind,
                                   "NORMALBALANCE": balance, "CATEGORY": category, "STATUS": "active"}, number)
    for detail, value in TAXES:
        store.create("TAXDETAIL", {"DETAILID": detail, "TAXTYPE": "Sale", "VALUE": value, "STATUS": "active"}, detail)
    for location, name in LOCATIONS:
        store.create("LOCATION", {"LOCATIONID": location, "NAME": name, "STATUS": "active"}, location)
    for department, title in DEPARTMENTS:
        store.create("DEPARTMENT", {"DEPARTMENTID": department, "TITLE": title, "STATUS": "active"}, department)
    for code in CURRENCIES:
        store.create("TRXCURRENCIES", {"CODE": code, "ISBASE": "true" if code == HOME_CURRENCY else "false",
                                       "STATUS": "active"}, code)
