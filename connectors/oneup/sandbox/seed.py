"""The sandbox domain's currencies, its one API user and its seed chart of accounts (account types are GUESSES)."""
from __future__ import annotations

#: (iso_code, name, main_currency): the Currency object of the official myERP client (id, iso_code, name,
#: main_currency)
CURRENCIES = (("USD", "US Dollar", True), ("CAD", "Canadian Dollar", False), ("EUR", "Euro", False),
              ("GBP", "British Pound", False), ("AUD", "Australian Dollar", False))
#: (number, name, type) of the seed chart
ACCOUNTS = (("4000", "Sales", "income"), ("4010", "Consulting Income", "income"),
            ("4020", "Shipping Income", "income"), ("4030", "Late Fee Income", "other_income"),
            ("4090", "Discounts Given", "income"), ("1010", "Checking Account", "bank"),
            ("1020", "Undeposited Funds", "cash"), ("1200", "Accounts Receivable", "accounts_receivable"),
            ("2200", "Sales Tax Payable", "sales_tax"), ("6100", "Office Supplies", "expense"))


def seed(store, api_email: str) -> None:
    for code, name, main in CURRENCIES:
        store.create("currencies", {"iso_code": code, "name": name, "main_currency": main})
    for number, name, kind in ACCOUNTS:
        store.create("accounts", {"number": number, "name": name, "type": kind, "active": True})
    store.create("employees", {"first_name": "Sandbox", "last_name": "User", "email": api_email})
