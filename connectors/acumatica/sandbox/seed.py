"""The sandbox tenant: its login, chart of accounts, tax categories and currencies.

The user, password and tenant are the sandbox's own public values (not secrets), equal to the demo's client id
and secret. Account classes (``CASH``, ``AR``, ``TAX``) are the sandbox's; a real tenant names its own.
"""
from __future__ import annotations

from decimal import Decimal

TENANT = "SandboxCompany"
BRANCH = "HEADOFFICE"
USER = "sandbox-client"
PASSWORD = "sandbox-secret"  # nosec B105 - the sandbox's public password, like its OAuth client
HOME_CURRENCY = "USD"
ENDPOINT = "Default"
VERSION = "24.200.001"
#: AccountCD, Description, Type, AccountClass
ACCOUNTS = (("40000", "Sales Revenue", "Income", "SALES"), ("40100", "Consulting Revenue", "Income", "SALES"),
            ("40200", "Shipping Revenue", "Income", "SALES"), ("40300", "Late Fee Income", "Income", "SALES"),
            ("40900", "Sales Discounts", "Income", "SALES"), ("10200", "Company Checking", "Asset", "CASH"),
            ("11000", "Accounts Receivable", "Asset", "AR"), ("23000", "Sales Tax Payable", "Liability", "TAX"),
            ("60000", "Operating Expenses", "Expense", "EXPENSE"),
            # for refunds, expenses (bills paid by check) and journals
            ("10300", "Euro Checking", "Asset", "CASH"), ("40400", "Restocking Fee Income", "Income", "SALES"),
            ("60100", "Freight Expense", "Expense", "EXPENSE"), ("60200", "Bank Charges", "Expense", "EXPENSE"),
            ("20000", "Accounts Payable", "Liability", "AP"))
#: The currency of each cash account that is not in the home currency (a check is in its cash account's currency).
CASH_CURRENCIES = {"10300": "EUR"}
#: TaxCategoryID, Description, rate (percent) the sandbox's one tax zone applies to a line of the category
TAX_CATEGORIES = (("TAXABLE", "Taxable 10%", Decimal("10")), ("EXEMPT", "Exempt", Decimal("0")))
CURRENCIES = ("USD", "EUR", "AUD")
