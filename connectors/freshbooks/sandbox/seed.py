"""The FreshBooks sandbox business: its identity, a chart of ledger accounts and taxes.

Account names follow a new FreshBooks business's chart (Sales, Services Income, Shipping Income, Late Fee Income,
Discounts, Undeposited Funds, Petty Cash, Accounts Receivable, Sales Taxes Payable...). The ``account_type`` /
``account_sub_type`` values are our guess (see docs/sandbox-freshbooks.md). The taxes are ours: "GST 10%" and
"Exempt" match the demo's tax codes. Expense categories are listed with ``GET expenses/categories``.
"""
from __future__ import annotations

ACCOUNT_ID = "kQb2Pz"  # FreshBooks account ids are short letters-and-digits strings
BUSINESS_ID = 4179823
BUSINESS_UUID = "6f6c2e5a-3d1b-4c0e-9a8f-2b7d4e1c9a30"
BASE_CURRENCY = "USD"

ACCOUNTS = (
    ("4000", "Sales", "income", "sales"), ("4010", "Services Income", "income", "sales"),
    ("4020", "Shipping Income", "income", "other_income"), ("4030", "Late Fee Income", "income", "other_income"),
    ("4040", "Discounts", "income", "discounts"), ("1010", "Undeposited Funds", "asset", "undeposited_funds"),
    ("1020", "Petty Cash", "asset", "cash"), ("1030", "Business Checking", "asset", "bank"),
    ("1200", "Accounts Receivable", "asset", "accounts_receivable"),
    ("2200", "Sales Taxes Payable", "liability", "sales_taxes_payable"),
    ("5000", "Cost of Goods Sold", "cost_of_goods_sold", "cost_of_goods_sold"),
    ("6000", "Office Expenses", "expense", "office"),
)
#: name, percentage (FreshBooks writes a tax's ``amount`` as a percentage string)
TAXES = (("GST 10%", "10"), ("Exempt", "0"), ("Sales Tax 8.25%", "8.25"))
#: Expense categories (some of a new business's: names as FreshBooks' category picker shows them, a guess).
CATEGORIES = ("Advertising", "Office Expenses & Postage", "Shipping & Delivery", "Supplies", "Bank Fees",
              "Professional Services", "Travel")
#: Staff ids an expense may name: the business owner is staff 1 (FreshBooks' examples send ``"staffid": 1``).
STAFF = frozenset({"1"})


def seed(store) -> None:
    for number, name, kind, sub in ACCOUNTS:
        store.create("ledger_accounts", {"name": name, "account_number": number, "account_type": kind,
                                         "account_sub_type": sub, "active": True, "currency_code": BASE_CURRENCY})
    for name in CATEGORIES:
        store.create("categories", {"category": name, "parentid": None, "is_cogs": False, "is_editable": False,
                                    "vis_state": 0})
    for name, percent in TAXES:
        store.create("taxes", {"name": name, "amount": percent, "number": "", "compound": False})
