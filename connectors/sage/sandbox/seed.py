"""The sandbox business's reference data: ledger accounts, bank accounts, tax rates and currencies.

The business is a US one (Sage Accounting in the US lets a business add its own sales tax rates; UK and Irish
businesses get fixed VAT rates). Ledger account names and nominal codes follow the shape of a new US business's
chart (Sales, Other Income, Shipping...), ``ledger_account_type`` ids are Sage's (SALES, OTHER_INCOME, BANK,
CURRENT_ASSETS, CURRENT_LIABILITY, EXPENSES). The tax rates are ours: "GST 10%" and "Exempt" match the demo's tax
codes (docs/sandbox-sage.md says which names are guessed).
"""
from __future__ import annotations

from decimal import Decimal

BUSINESS_ID = "4ad3b3ea3c8a4cbda1e4ec3e5bd4a6e3"  # a 32-hex-digit GUID, the shape of Sage's ids
BASE_CURRENCY = "USD"

#: name, nominal code, ledger_account_type id, visible_in_sales, control name or ""
LEDGER_ACCOUNTS = (
    ("Sales", 4000, "SALES", True, ""), ("Services Income", 4010, "SALES", True, ""),
    ("Shipping Income", 4020, "SALES", True, ""), ("Sales Discounts", 4030, "SALES", True, ""),
    ("Other Income", 4900, "OTHER_INCOME", True, ""), ("Interest Income", 4910, "OTHER_INCOME", True, ""),
    ("Accounts Receivable", 1100, "CURRENT_ASSETS", False, "SALES_LEDGER_CONTROL"),
    ("Sales Tax Payable", 2200, "CURRENT_LIABILITY", False, "SALES_TAX"),
    ("Cost of Sales", 5000, "DIRECT_EXPENSES", False, ""), ("Office Supplies", 6100, "OVERHEADS", False, ""),
    # for refunds, expenses and journals
    ("Postage and Shipping", 6200, "OVERHEADS", False, ""), ("Restocking Fees", 4920, "OTHER_INCOME", True, ""),
)
#: bank account name, nominal code, bank_account_type id, currency
BANK_ACCOUNTS = (("Checking", 1010, "CHECKING", BASE_CURRENCY), ("Savings", 1020, "SAVINGS", BASE_CURRENCY),
                 ("Cash in Hand", 1030, "CASH_IN_HAND", BASE_CURRENCY),
                 ("Euro Account", 1040, "CHECKING", "EUR"))  # a foreign-currency bank account (multi-currency)
TAX_RATES = (("GST 10%", Decimal("10.00")), ("Exempt", Decimal("0.00")), ("Sales Tax 8.25%", Decimal("8.25")))
CURRENCIES = (("USD", "US Dollar"), ("EUR", "Euro"), ("GBP", "Pound Sterling"), ("CAD", "Canadian Dollar"))


def seed(sandbox) -> None:
    """Fill an empty store through the sandbox's ``new`` (ids are 32-hex-digit GUIDs)."""
    for code, name in CURRENCIES:
        sandbox.store.create("currencies", {"displayed_as": f"{name} ({code})", "name": name, "code": code},
                             record_id=code)  # Sage's currency ids are the ISO codes
    for name, code, kind, sales, control in LEDGER_ACCOUNTS:
        sandbox.new("ledger_accounts", {"name": name, "display_name": name, "displayed_as": f"{name} ({code})",
                                        "nominal_code": code, "included_in_chart": True,
                                        "ledger_account_type": {"id": kind, "displayed_as": kind.replace("_", " ")
                                                                .title()},
                                        "visible_in_sales": sales, "is_control_account": bool(control),
                                        "control_name": control or None})
    for name, code, kind, currency in BANK_ACCOUNTS:
        ledger = sandbox.new("ledger_accounts", {
            "name": name, "display_name": name, "displayed_as": f"{name} ({code})", "nominal_code": code,
            "included_in_chart": True, "ledger_account_type": {"id": "BANK", "displayed_as": "Bank"},
            "visible_in_sales": False, "is_control_account": False, "control_name": None})
        sandbox.new("bank_accounts", {"displayed_as": f"{name} ({code})", "nominal_code": code,
                                      "bank_account_details": {"account_name": name},
                                      "bank_account_type": {"id": kind, "displayed_as": kind.replace("_", " ").title()},
                                      "ledger_account": {"id": ledger.id, "displayed_as": f"{name} ({code})"},
                                      "currency": {"id": currency}, "balance": Decimal("0.00"),
                                      "deletable": False})
    for name, percentage in TAX_RATES:
        sandbox.new("tax_rates", {"name": name, "displayed_as": f"{name}", "percentage": percentage,
                                  "is_visible": True, "editable": True, "deletable": True,
                                  "is_combined_rate": False, "agency": None})
