"""The sandbox company: one account (``ACCOUNT_ID``), a chart of accounts, a subsidiary, currencies, sales tax items
and the non-inventory sale items an invoice line is booked on (a NetSuite line always names an item; the item's
income account is where the line posts)."""
from __future__ import annotations

from decimal import Decimal

from ...sandboxkit.resources import ResourceStore

ACCOUNT_ID = "1234567_SB1"  # a sandbox account's id; the realm is this, the host uses "1234567-sb1"
SUBSIDIARY = "1"
CURRENCY = "1"  # USD, the base currency
#: id, acctNumber, acctName, acctType (SuiteQL's ``account.accttype`` values)
ACCOUNTS = (("54", "4000", "Sales", "Income"), ("55", "4100", "Service Revenue", "Income"),
            ("56", "4200", "Shipping Income", "Income"), ("57", "4900", "Discounts Given", "Income"),
            ("58", "4300", "Restocking Fees", "Income"),
            ("1", "1000", "Checking", "Bank"), ("122", "1100", "Undeposited Funds", "OthCurrAsset"),
            ("119", "1200", "Accounts Receivable", "AcctRec"), ("125", "2200", "Sales Tax Payable", "OthCurrLiab"),
            ("60", "6000", "Operating Expenses", "Expense"), ("61", "6100", "Postage and Delivery", "Expense"),
            ("2", "1010", "Euro Checking", "Bank"), ("111", "2000", "Accounts Payable", "AcctPay"))
#: Accounts in a currency other than the base one (a bank account in a foreign currency takes only that currency)
ACCOUNT_CURRENCIES = {"2": "2"}
#: id, companyName: vendors (a check's payee)
VENDORS = (("301", "Sundry Supplier"),)
#: id, itemId, basePrice, income account
ITEMS = (("201", "Consulting hour", Decimal("150.00"), "55"), ("202", "Widget", Decimal("25.00"), "54"),
         ("203", "Shipping", Decimal("0.00"), "56"), ("204", "Discount", Decimal("0.00"), "57"),
         ("205", "Restocking fee", Decimal("0.00"), "58"))
#: id, itemId, rate in percent (sales tax items of a legacy-tax account, not SuiteTax)
TAX_ITEMS = (("31", "Sales Tax 10%", Decimal("10.00")), ("32", "Tax Exempt", Decimal("0.00")))
#: id, name, ISO code (``symbol``), base currency, exchange rate to the base currency (the currency record's)
CURRENCIES = (("1", "US Dollar", "USD", True, Decimal("1")), ("2", "Euro", "EUR", False, Decimal("1.10")),
              ("3", "Canadian Dollar", "CAD", False, Decimal("0.73")))


def seed(store: ResourceStore) -> None:
    for rid, number, name, kind in ACCOUNTS:
        store.create("account", {"acctNumber": number, "acctName": name, "acctType": {"id": kind, "refName": kind},
                                 "currency": {"id": ACCOUNT_CURRENCIES.get(rid, CURRENCY)}, "isInactive": False},
                     record_id=rid)
    for rid, name in VENDORS:
        store.create("vendor", {"companyName": name, "isInactive": False}, record_id=rid)
    for rid, name, price, income in ITEMS:
        store.create("noninventorysaleitem", {"itemId": name, "displayName": name, "basePrice": price,
                                              "incomeAccount": {"id": income}, "isInactive": False}, record_id=rid)
    for rid, name, rate in TAX_ITEMS:
        store.create("salestaxitem", {"itemId": name, "rate": rate, "taxAgency": {"id": "-100"},
                                      "isInactive": False}, record_id=rid)
    for rid, name, code, base, rate in CURRENCIES:
        store.create("currency", {"name": name, "symbol": code, "isBaseCurrency": base, "exchangeRate": rate,
                                  "isInactive": False}, record_id=rid)
