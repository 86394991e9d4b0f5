"""The Zoho Books sandbox organisation's reference data: a chart of accounts, taxes and currencies.

Account names follow a new Zoho Books organisation's default chart (Sales, General Income, Shipping Charge,
Discount, Undeposited Funds, Petty Cash, Postage, Other Charges, Credit Card...) and Zoho's ``account_type``
values. The taxes are ours: a new organisation has none until someone adds them; "GST 10%" and "Exempt" match the
demo's tax codes (docs).
"""
from __future__ import annotations

from decimal import Decimal

ORGANIZATION_ID = "10234695"  # the organisation id in Zoho's own request examples
BASE_CURRENCY = "USD"

ACCOUNTS = (
    ("Sales", "income"), ("General Income", "income"), ("Shipping Charge", "income"),
    ("Late Fee Income", "income"), ("Discount", "income"), ("Interest Income", "other_income"),
    ("Undeposited Funds", "cash"), ("Petty Cash", "cash"), ("Business Checking", "bank"),
    ("Accounts Receivable", "accounts_receivable"), ("Tax Payable", "other_current_liability"),
    ("Cost of Goods Sold", "cost_of_goods_sold"), ("Office Supplies", "expense"),
    # for refunds, expenses and journals (appended, so the accounts above keep their ids)
    ("Postage", "expense"), ("Bank Fees and Charges", "expense"), ("Credit Card", "credit_card"),
    ("Other Charges", "income"),
)
TAXES = (("GST 10%", Decimal("10")), ("Exempt", Decimal("0")), ("Sales Tax 8.25%", Decimal("8.25")))
#: code, name, symbol, exchange rate (base units per foreign unit)
CURRENCIES = (("USD", "US Dollar", "$", Decimal("1")), ("EUR", "Euro", "€", Decimal("1.08")),
              ("GBP", "Pound Sterling", "£", Decimal("1.27")), ("CAD", "Canadian Dollar", "$", Decimal("0.73")),
              ("AUD", "Australian Dollar", "$", Decimal("0.66")))


def seed(store, today: str) -> None:
    """Fill an empty store: every account active, every tax of type ``tax``, USD as the base currency."""
    for name, kind in ACCOUNTS:
        store.create("chartofaccounts", {"account_name": name, "account_type": kind, "is_active": True,
                                         "account_code": "", "description": "", "currency_code": BASE_CURRENCY,
                                         "is_user_created": False, "is_system_account": kind != "income"})
    for name, percentage in TAXES:
        store.create("taxes", {"tax_name": name, "tax_percentage": percentage, "tax_type": "tax",
                               "is_default_tax": False, "is_editable": True, "status": "active"})
    for code, name, symbol, rate in CURRENCIES:
        store.create("currencies", {"currency_code": code, "currency_name": f"{code}- {name}",
                                    "currency_symbol": symbol, "price_precision": 2, "currency_format": "1,234,567.89",
                                    "is_base_currency": code == BASE_CURRENCY, "exchange_rate": rate,
                                    "effective_date": today})
