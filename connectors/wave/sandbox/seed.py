"""The Wave sandbox business's reference data: a chart of accounts and sales taxes.

Account names and subtypes follow a new Wave business's default chart (Sales, Cash on Hand, Accounts Receivable,
Sales Tax...) as the API Reference's ``AccountSubtypeValue`` names them. The sales taxes are ours: a new business
has none; "GST 10%" and "Exempt" match the demo's tax codes (a guess, see docs/sandbox-wave.md).
"""
from __future__ import annotations

from decimal import Decimal

BUSINESS_UUID = "4a0a4c3a-4b1e-4bd6-9a2b-5f0c6e0d1a11"
BUSINESS_NAME = "Sandbox Wave Business"
BASE_CURRENCY = "USD"

#: name, type, subtype
ACCOUNTS = (
    ("Sales", "INCOME", "INCOME"), ("Discounts", "INCOME", "DISCOUNTS"),
    ("Uncategorized Income", "INCOME", "UNCATEGORIZED_INCOME"),
    ("Cash on Hand", "ASSET", "CASH_AND_BANK"), ("Business Checking", "ASSET", "CASH_AND_BANK"),
    ("Accounts Receivable", "ASSET", "ACCOUNTS_RECEIVABLE"), ("Sales Tax Payable", "LIABILITY", "SALES_TAX"),
    ("Cost of Goods Sold", "EXPENSE", "COST_OF_GOODS_SOLD"), ("Office Supplies", "EXPENSE", "EXPENSE"),
)
#: name, abbreviation, rate (a fraction: Wave's ``rate`` for 10% is 0.1, a guess from the reference's examples)
TAXES = (("GST 10%", "GST", Decimal("0.1")), ("Exempt", "EX", Decimal("0")),
         ("Sales Tax 8.25%", "ST", Decimal("0.0825")))


def seed(store) -> None:
    for sequence, (name, kind, subtype) in enumerate(ACCOUNTS, 1):
        store.create("accounts", {"name": name, "type": kind, "subtype": subtype, "isArchived": False,
                                  "sequence": sequence, "description": "", "currency": BASE_CURRENCY})
    for name, abbreviation, rate in TAXES:
        store.create("salesTaxes", {"name": name, "abbreviation": abbreviation, "rate": rate, "isArchived": False,
                                    "isCompound": False, "isRecoverable": False, "description": "",
                                    "taxNumber": ""})
