"""The FreeAgent sandbox company's reference data: company, categories, a bank account and a sales tax period.

The company is a ``UniversalCompany`` (FreeAgent's type for businesses outside the UK and US) keeping USD with a
GST of 10%, so the demo's tax rates ("GST 10%", "Exempt") have a counterpart. "001 Sales" is FreeAgent's own
first income category; the other names and nominal codes are ours (a company adds its own income categories).
"750 Bank Account" is FreeAgent's own category of every bank account (a journal entry posting to a bank account
names it with the ``bank_account``). The "Euro Account" is a foreign-currency bank account (EUR), for expenses
paid in euros.
"""
from __future__ import annotations

from decimal import Decimal

COMPANY_ID = "1"
CURRENCY = "USD"

#: (nominal code, description, group) -- the group is the list the categories endpoint answers it under.
CATEGORIES = (
    ("001", "Sales", "income_categories"), ("002", "Consultancy Income", "income_categories"),
    ("003", "Shipping Income", "income_categories"), ("004", "Late Fee Income", "income_categories"),
    ("005", "Discounts Given", "income_categories"), ("051", "Interest Received", "income_categories"),
    ("006", "Restocking Fees", "income_categories"),
    ("101", "Cost of Sales", "cost_of_sales_categories"),
    ("285", "Accommodation and Meals", "admin_expenses_categories"),
    ("365", "Office Costs", "admin_expenses_categories"),
    ("370", "Postage and Delivery", "admin_expenses_categories"),
    ("681", "Sales Tax Control", "general_categories"), ("750", "Bank Account", "general_categories"),
    ("796", "Trade Debtors", "general_categories"),
)
#: (id, name, currency)
BANK_ACCOUNTS = (("1", "Business Current Account", CURRENCY), ("2", "Business Savings Account", CURRENCY),
                 ("3", "Euro Account", "EUR"))
SALES_TAX = {"sales_tax_name": "GST", "sales_tax_registration_status": "Registered",
             "sales_tax_rate_1": Decimal("10.0"), "sales_tax_is_value_added": True, "effective_date": "2020-01-01"}


def company(base_url: str) -> dict:
    return {"url": f"{base_url}/v2/company", "id": int(COMPANY_ID), "name": "Sandbox Veterinary Clinic",
            "subdomain": "sandbox-vets", "type": "UniversalCompany", "currency": CURRENCY,
            "mileage_units": "kilometers", "company_start_date": "2020-01-01", "freeagent_start_date": "2020-01-01",
            "sales_tax_name": "GST", "sales_tax_registration_status": "Registered", "sales_tax_is_value_added": True}


def seed(store) -> None:
    for code, description, group in CATEGORIES:
        store.create("categories", {"description": description, "nominal_code": code, "_group": group,
                                    "allowable_for_tax": group != "general_categories",
                                    "tax_reporting_name": description}, record_id=code)
    for record_id, name, currency in BANK_ACCOUNTS:
        store.create("bank_accounts", {"type": "StandardBankAccount", "name": name, "currency": currency,
                                       "is_personal": False, "is_primary": record_id == "1", "status": "active",
                                       "opening_balance": Decimal("0.0"), "bank_name": "Sandbox Bank",
                                       "bank_code": "generic"}, record_id=record_id)
    store.create("sales_tax_periods", dict(SALES_TAX))
