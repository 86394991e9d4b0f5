"""The Odoo sandbox database's reference data: a company in US dollars, a small chart of accounts with Odoo's
``account_type`` values, sales taxes and the three journals an invoicing database starts with (sales, bank,
miscellaneous operations).

Account codes and names follow Odoo's generic chart (``l10n_generic_coa``: 400000 Product Sales, 101401 Bank,
121000 Account Receivable, 251000 Tax Received) as far as we know it; Consulting Revenue, Shipping Revenue, Late
Fee Income and Discounts Given are ours, so the demo chart maps to them. The login and API key are the sandbox's
own, public values (not secrets), equal to the demo's client id and secret.
"""
from __future__ import annotations

from decimal import Decimal

DATABASE = "sandbox"
LOGIN = "sandbox-client"
API_KEY = "sandbox-secret"  # nosec B105 - the sandbox's public key, like its OAuth client
UID = 2  # Odoo's first user after the superuser (OdooBot is 1)

#: code, name, account_type
ACCOUNTS = (
    ("400000", "Product Sales", "income"), ("400100", "Consulting Revenue", "income"),
    ("400200", "Shipping Revenue", "income"), ("440000", "Late Fee Income", "income_other"),
    ("450000", "Discounts Given", "income"), ("101401", "Bank", "asset_cash"),
    ("101402", "Outstanding Receipts", "asset_current"), ("121000", "Account Receivable", "asset_receivable"),
    ("251000", "Tax Received", "liability_current"), ("600000", "Expenses", "expense"),
    # appended for refunds, expenses and journals (the accounts above keep their ids)
    ("440100", "Restocking Fees", "income_other"), ("610000", "Freight and Postage", "expense"),
)
#: name, amount (percent)
TAXES = (("Tax 10%", Decimal("10")), ("Tax Exempt", Decimal("0")))
CURRENCIES = (("USD", "$"), ("EUR", "€"), ("AUD", "$"))


def seed(store) -> None:
    currencies = {name: store.create("res.currency", {"name": name, "symbol": symbol, "active": True}).id
                  for name, symbol in CURRENCIES}
    store.create("res.company", {"name": "Sandbox Company", "currency_id": int(currencies["USD"])})
    accounts = {}
    for code, name, kind in ACCOUNTS:
        accounts[code] = store.create("account.account", {"code": code, "name": name, "account_type": kind,
                                                          "deprecated": False}).id
    for name, amount in TAXES:
        store.create("account.tax", {"name": name, "amount": amount, "amount_type": "percent",
                                     "type_tax_use": "sale", "active": True,
                                     "account_id": int(accounts["251000"])})
    store.create("account.journal", {"name": "Customer Invoices", "code": "INV", "type": "sale",
                                     "default_account_id": int(accounts["400000"])})
    store.create("account.journal", {"name": "Bank", "code": "BNK1", "type": "bank",
                                     "default_account_id": int(accounts["101401"])})
    store.create("account.journal", {"name": "Miscellaneous Operations", "code": "MISC", "type": "general",
                                     "default_account_id": False})
