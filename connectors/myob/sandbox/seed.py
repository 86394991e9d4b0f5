"""The MYOB sandbox company file's reference data: a chart of accounts, tax codes and currencies.

Account names and DisplayIDs follow an Australian AccountRight file's default chart as far as we know it (the
exact numbers are a guess); ``Type`` and ``Classification`` use the API's values. Tax codes GST, FRE and N-T are
the Australian defaults. The local currency is USD by default (real files are AUD or NZD): the demo's documents
are in USD and carry no exchange rate (docs/sandbox-myob.md).
"""
from __future__ import annotations

from decimal import Decimal

COMPANY_FILE_ID = "c4f3d2a1-7e5b-4b8c-9a10-3f2e1d0c9b8a"
COMPANY_NAME = "Sandbox Clinic Pty Ltd"

#: DisplayID, Name, Type, Classification
ACCOUNTS = (
    ("1-1110", "Business Bank Account", "Bank", "Asset"), ("1-1190", "Undeposited Funds", "Bank", "Asset"),
    ("1-1200", "Trade Debtors", "AccountReceivable", "Asset"),
    ("2-1310", "GST Collected", "OtherCurrentLiability", "Liability"),
    ("4-1000", "Sales", "Income", "Income"), ("4-2000", "Services Income", "Income", "Income"),
    ("4-3000", "Freight Collected", "Income", "Income"), ("4-4000", "Late Fees Collected", "Income", "Income"),
    ("4-5000", "Discounts Given", "Income", "Income"), ("8-1000", "Interest Income", "OtherIncome", "OtherIncome"),
    ("5-1000", "Cost of Sales", "CostOfSales", "CostOfSales"), ("6-1000", "Office Supplies", "Expense", "Expense"),
    # for refunds, expenses and journals
    ("2-1200", "Business Credit Card", "CreditCard", "Liability"), ("4-6000", "Restocking Fees", "Income", "Income"),
    ("6-2000", "Freight Paid", "Expense", "Expense"), ("6-3000", "Bank Charges", "Expense", "Expense"),
)
#: Code, Description, Type, Rate
TAX_CODES = (("GST", "Goods & Services Tax", "GoodsAndServicesTax", Decimal("10")),
             ("FRE", "GST Free", "GoodsAndServicesTax", Decimal("0")),
             ("N-T", "Not Reportable", "GoodsAndServicesTax", Decimal("0")))
#: Code, name, rate (local units per foreign unit)
CURRENCIES = (("USD", "US Dollar", Decimal("1")), ("AUD", "Australian Dollar", Decimal("0.66")),
              ("NZD", "New Zealand Dollar", Decimal("0.60")))


def seed(store, local_currency: str = "USD") -> None:
    for display_id, name, kind, classification in ACCOUNTS:
        store.create("accounts", {"Name": name, "DisplayID": display_id, "Type": kind,
                                  "Classification": classification, "Number": int(display_id[2:]),
                                  "IsActive": True, "IsHeader": False, "Level": 4, "Description": "",
                                  "CurrentBalance": Decimal("0.00")})
    for code, description, kind, rate in TAX_CODES:
        store.create("taxcodes", {"Code": code, "Description": description, "Type": kind, "Rate": rate,
                                  "IsRateNegative": False})
    for code, name, rate in CURRENCIES:
        store.create("currencies", {"Code": code, "CurrencyName": name, "CurrencyRate": rate,
                                    "IsLocalCurrency": code == local_currency, "Symbol": "$", "DecimalPlaces": 2})
