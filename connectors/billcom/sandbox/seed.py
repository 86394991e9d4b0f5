"""The sandbox organisation's public values and its seed chart of accounts (account types as Bill.com names them)."""
from __future__ import annotations

ORGANIZATION_ID = "00801SANDBOX0000001"  # Bill.com organisation ids begin with 008
DEV_KEY = "01SANDBOXDEVKEY0000000000000001"  # the sandbox's own developer key: public, not a secret
#: (name, accountType) of the seed chart
ACCOUNTS = (("Sales", "INCOME"), ("Consulting Income", "INCOME"), ("Shipping Income", "INCOME"),
            ("Late Fee Income", "OTHER_INCOME"), ("Discounts Given", "INCOME"), ("Undeposited Funds", "BANK"),
            ("Business Checking", "BANK"), ("Accounts Receivable", "ACCOUNTS_RECEIVABLE"),
            ("Sales Tax Payable", "OTHER_CURRENT_LIABILITY"), ("Office Supplies", "EXPENSE"))


def seed(store) -> None:
    for name, kind in ACCOUNTS:
        store.create("chart-of-accounts", {"name": name, "accountType": kind, "archived": False})
