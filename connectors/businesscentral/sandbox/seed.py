"""The Business Central sandbox company's setup: G/L accounts, tax groups, currencies, a customer payment journal.

Account names and numbers follow the shape of a US Business Central company's chart (``category`` and
``subCategory`` values as the ``accounts`` API answers them); the exact names are ours so that the demo's chart
maps to them. Tax groups and their rates are ours too: the API lists tax groups without rates (the rate lives in
the tax area / VAT posting setup, which the API does not expose), so the sandbox keeps the rate aside.
"""
from __future__ import annotations

from decimal import Decimal

TENANT_ID = "7a1d6a2c-0b5e-4d6f-9a51-3c2e8f9b4d10"
ENVIRONMENT = "sandbox"
COMPANY_ID = "5f3c1e7a-2b4d-4e8f-a1c3-9d7b6e5f4a21"
COMPANY_NAME = "CRONUS Sandbox"
HOME_CURRENCY = "USD"

#: number, name, category, subCategory
ACCOUNTS = (
    ("10100", "Checking account", "Assets", "Cash"),
    ("10200", "Savings account", "Assets", "Cash"),
    ("10400", "Undeposited Receipts", "Assets", "Cash"),
    ("13100", "Accounts Receivable", "Assets", "Accounts Receivable"),
    ("22300", "Sales Tax Payable", "Liabilities", "Current Liabilities"),
    ("40100", "Sales, Services", "Income", "Income, Services"),
    ("40200", "Sales, Retail", "Income", "Income, Product Sales"),
    ("40300", "Consulting Income", "Income", "Income, Services"),
    ("40400", "Freight Income", "Income", "Income, Services"),
    ("40500", "Finance Charges Recvd.", "Income", "Interest Income"),
    ("40600", "Discounts Granted", "Income", "Income, Services"),
    ("40700", "Restocking Fees", "Income", "Income, Services"),
    ("50100", "Cost of Goods Sold", "CostOfGoodsSold", "Cost of Goods Sold"),
    ("60100", "Office Supplies", "Expense", "Operating Expenses"),
    ("60200", "Freight and Shipping", "Expense", "Operating Expenses"),
)
#: code, display name, rate (kept aside: the API does not show it)
TAX_GROUPS = (("GST10", "GST 10%", Decimal("10")), ("EXEMPT", "Exempt", Decimal("0")),
              ("SALES825", "Sales Tax 8.25%", Decimal("8.25")))
CURRENCIES = (("EUR", "Euro"), ("GBP", "Pound Sterling"), ("CAD", "Canadian dollar"), ("AUD", "Australian dollar"))


def seed(store, account_ids: dict) -> None:
    """Fill an empty store. ``account_ids`` receives number -> id of every account."""
    for number, name, category, sub in ACCOUNTS:
        row = store.create("accounts", {"number": number, "displayName": name, "category": category,
                                        "subCategory": sub, "blocked": False, "accountType": "Posting",
                                        "directPosting": True, "netChange": Decimal("0"),
                                        "consolidationTranslationMethod": "Average Rate",
                                        "consolidationDebitAccount": "", "consolidationCreditAccount": "",
                                        "excludeFromConsolidation": False})
        account_ids[number] = row.id
    for code, name, rate in TAX_GROUPS:
        store.create("taxGroups", {"code": code, "displayName": name, "taxType": "Sales Tax", "_rate": rate})
    for code, name in CURRENCIES:
        store.create("currencies", {"code": code, "displayName": name, "symbol": "", "amountDecimalPlaces": "2:2",
                                    "amountRoundingPrecision": Decimal("0.01")})
    store.create("customerPaymentJournals", {"code": "GENERAL", "displayName": "Cash receipts",
                                             "balancingAccountId": account_ids["10100"],
                                             "balancingAccountNumber": "10100"})
