"""The sandbox business's public id, its currencies and its seed chart of accounts (type names are our guesses)."""
from __future__ import annotations

BUSINESS_ID = "104729"  # Kashoo business ids are numbers in its URLs
CURRENCY = "USD"
CURRENCIES = ("USD", "CAD", "AUD", "EUR", "GBP")
#: (name, type) of the seed chart
ACCOUNTS = (("Sales", "INCOME"), ("Consulting Income", "INCOME"), ("Shipping Income", "INCOME"),
            ("Late Fee Income", "OTHER_INCOME"), ("Discounts Given", "INCOME"), ("Chequing Account", "BANK"),
            ("Undeposited Funds", "CASH"), ("Accounts Receivable", "ACCOUNTS_RECEIVABLE"),
            ("Sales Tax Payable", "SALES_TAX"), ("Office Supplies", "EXPENSE"))


def seed(store) -> None:
    for name, kind in ACCOUNTS:
        store.create("accounts", {"name": name, "type": kind, "archived": False})
