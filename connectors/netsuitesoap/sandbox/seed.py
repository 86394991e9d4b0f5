"""The NetSuite sandbox account's public, non-secret credentials and reference data: items, tax codes (sales tax
items), the chart of accounts (``acctType`` values as NetSuite's ``AccountType`` enumeration spells them),
currencies and vendors."""
from __future__ import annotations

from decimal import Decimal

ACCOUNT_ID = "1234567_SB1"
CONSUMER_KEY = "sandbox-client"
CONSUMER_SECRET = "sandbox-secret"  # nosec B105 - the sandbox's public value, like its OAuth client
TOKEN_ID = "sandbox-token"  # nosec B105 - the sandbox's public value, an id not a secret
TOKEN_SECRET = "sandbox-token-secret"  # nosec B105 - the sandbox's public value
#: internalId, name, base rate, income account (non-inventory sale items: a NetSuite invoice line is always on an
#: item, and the item's income account is where the line is booked)
ITEMS = (("11", "Services", Decimal("0.00"), "5"), ("12", "Consulting", Decimal("0.00"), "6"),
         ("13", "Shipping", Decimal("0.00"), "7"), ("14", "Discount", Decimal("0.00"), "8"))
#: internalId -> rate in percent
TAX_CODES = {"21": Decimal("10"), "22": Decimal("0")}
TAX_NAMES = {"21": "Sales Tax 10%", "22": "Tax Exempt"}
#: internalId, acctNumber, acctName, acctType
ACCOUNTS = (("1", "1000", "Checking", "_bank"), ("2", "1050", "Undeposited Funds", "_otherCurrentAsset"),
            ("3", "1200", "Accounts Receivable", "_accountsReceivable"),
            ("4", "2200", "Sales Tax Payable", "_otherCurrentLiability"), ("5", "4000", "Sales", "_income"),
            ("6", "4100", "Consulting Revenue", "_income"), ("7", "4200", "Shipping Income", "_income"),
            ("8", "4900", "Discounts Given", "_income"), ("9", "6000", "Operating Expenses", "_expense"),
            ("10", "2000", "Accounts Payable", "_accountsPayable"), ("15", "6100", "Office Supplies", "_expense"))
#: internalId, ISO code, base currency
CURRENCIES = (("1", "USD", True), ("2", "EUR", False), ("3", "CAD", False))
#: A currency's exchange rate to the base currency (what a transaction in it defaults to).
RATES = {"1": Decimal("1"), "2": Decimal("1.08"), "3": Decimal("0.73")}
#: internalId, company name (vendors: a check's payee)
VENDORS = (("41", "Sundry Payees"), ("42", "Parcel Express"))


def seed(books) -> None:
    for internal_id, name, rate, _ in ITEMS:
        books.items[internal_id] = {"internalId": internal_id, "name": name, "rate": rate}
    books.reference["item"] = [{"_type": "item", "internalId": i, "itemId": name, "displayName": name,
                                "incomeAccount": {"internalId": income, "name": ""}, "isInactive": False}
                               for i, name, _, income in ITEMS]
    books.tax_codes.update(TAX_CODES)
    books.reference["account"] = [{"_type": "account", "internalId": i, "acctNumber": number, "acctName": name,
                                   "acctType": kind, "isInactive": False} for i, number, name, kind in ACCOUNTS]
    books.reference["salesTaxItem"] = [{"_type": "salesTaxItem", "internalId": i, "itemId": TAX_NAMES[i],
                                        "rate": f"{rate}%", "isInactive": False} for i, rate in TAX_CODES.items()]
    books.reference["currency"] = [{"_type": "currency", "internalId": i, "name": code, "symbol": code,
                                    "isBaseCurrency": base, "isInactive": False, "exchangeRate": RATES[i]}
                                   for i, code, base in CURRENCIES]
    for i, name in VENDORS:  # records (a vendor bill's supplier may be added over the API)
        books.records[i] = {"_type": "vendor", "internalId": i, "externalId": "", "companyName": name,
                            "isInactive": False, "createdDate": books.clock(), "lastModifiedDate": books.clock(),
                            "_applied": {}, "_refunded": {}}
