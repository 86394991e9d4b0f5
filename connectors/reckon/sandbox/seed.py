"""The Reckon One sandbox book's reference data: a chart of ledger accounts, tax rates and payment methods.

Account names follow an Australian Reckon One book's default chart as far as we know it (Sales, Business Bank
Account, Accounts Receivable, GST Payable...) with Reckon's ``accountType`` values from its OpenAPI document; some
names are ours (Consulting Income, Freight Income, Late Fees Income, Discounts Given) so the demo chart maps to
them. Tax rates are Australia's sales codes GST (10%) and GST Free (0%), plus Input Taxed (purchases only here).
"""
from __future__ import annotations

from decimal import Decimal

#: The book id in Reckon's own request examples.
BOOK_ID = "5af6572c-9771-4b86-995d-3374d3bc683c"
BOOK_NAME = "Sandbox Book"
COUNTRY = "AU"
#: The API Management subscription key the sandbox accepts: public, like its OAuth client (not a secret).
SUBSCRIPTION_KEY = "sandbox-subscription-key"

#: name, accountType, isDebit
ACCOUNTS = (
    ("Sales", "Income", False), ("Consulting Income", "Income", False), ("Freight Income", "Income", False),
    ("Late Fees Income", "Income_Other", False), ("Discounts Given", "Income", False),
    ("Interest Income", "Income_Other", False), ("Business Bank Account", "CurrentAsset_Bank", True),
    ("Undeposited Funds", "CurrentAsset_Other", True), ("Accounts Receivable", "CurrentAsset_AccountsReceivable", True),
    ("GST Payable", "CurrentLiability_Other", False), ("Accounts Payable", "CurrentLiability_AccountsPayable", False),
    ("Cost of Sales", "Expense_CostOfGoodsSold", True), ("Office Expenses", "Expense", True),
)
#: name, description, rate, useOnSales, useOnPurchases
TAX_RATES = (("GST", "Goods and services tax", Decimal("10"), True, True),
             ("GST Free", "GST free supplies", Decimal("0"), True, True),
             ("Input Taxed", "Input taxed supplies", Decimal("0"), False, True))
PAYMENT_METHODS = ("Cash", "Cheque", "Credit Card", "EFT", "Other")


def seed(store, now: str) -> None:
    """Fill an empty store: every account and tax rate active."""
    for order, (name, kind, debit) in enumerate(ACCOUNTS, start=1):
        store.create("ledgeraccounts", {"name": name, "fullName": name, "description": "", "isDebit": debit,
                                        "sortOrder": order, "status": "Active", "accountType": kind,
                                        "accountCode": f"{order:04d}", "exportCode": ""})
    for name, description, rate, sales, purchases in TAX_RATES:
        store.create("taxrates", {"name": name, "description": description, "rate": rate, "status": "Active",
                                  "useOnSales": sales, "useOnPurchases": purchases})
    for name in PAYMENT_METHODS:
        store.create("paymentmethods", {"name": name})
    store.create("templates", {"name": "Standard Invoice", "kind": "invoice"})
    store.create("templates", {"name": "Standard Customer adjustment note", "kind": "creditnote"})
