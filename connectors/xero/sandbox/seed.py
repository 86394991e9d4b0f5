"""Reference data of a fresh sandbox organisation: a small US-style chart of accounts, tax rates, currencies.

The codes follow Xero's default charts (090 bank, 200 Sales, 260 Other Revenue, 610 Accounts Receivable,
800 Accounts Payable, 970 Owner A Funds Introduced as in Xero's own payment example). Tax rates are a
US-flavoured set; real organisations name and number their own (user-defined rates are ``TAX001``...), so
clients must read ``/TaxRates`` and map, never hard-code. The base currency is USD to match the demo.
"""
from __future__ import annotations

from decimal import Decimal

BASE_CURRENCY = "USD"
ORG_TIMEZONE = "EASTERNSTANDARDTIME"
#: Default sales/bill terms (Xero's Organisation.PaymentTerms): due 30 days after the invoice date.
PAYMENT_TERMS = {"Bills": {"Day": 30, "Type": "DAYSAFTERBILLDATE"},
                 "Sales": {"Day": 30, "Type": "DAYSAFTERBILLDATE"}}

CURRENCIES = {"USD": "United States Dollar", "EUR": "Euro", "GBP": "British Pound", "AUD": "Australian Dollar",
              "NZD": "New Zealand Dollar", "CAD": "Canadian Dollar"}
#: Xero's CurrencyRate convention: units of the foreign currency per ONE unit of the base currency
#: ("1 USD = 0.92 EUR"). Real Xero uses the XE.com day rate when a request gives none; this table is fixed.
RATES = {"USD": Decimal("1"), "EUR": Decimal("0.92"), "GBP": Decimal("0.79"), "AUD": Decimal("1.52"),
         "NZD": Decimal("1.65"), "CAD": Decimal("1.36")}

# (code, name, type, class, default tax type, status, extra)
ACCOUNTS = [
    ("090", "Business Bank Account", "BANK", "ASSET", "NONE", "ACTIVE",
     {"BankAccountNumber": "121-000-4567", "BankAccountType": "BANK", "CurrencyCode": "USD"}),
    ("091", "Business Savings Account", "BANK", "ASSET", "NONE", "ACTIVE",
     {"BankAccountNumber": "121-000-9876", "BankAccountType": "BANK", "CurrencyCode": "USD"}),
    ("092", "Euro Company Card", "BANK", "ASSET", "NONE", "ACTIVE",
     {"BankAccountNumber": "4000-0000-0092", "BankAccountType": "CREDITCARD", "CurrencyCode": "EUR"}),
    ("200", "Sales", "REVENUE", "REVENUE", "OUTPUT", "ACTIVE", {}),
    ("210", "Sales Discounts", "REVENUE", "REVENUE", "OUTPUT", "ACTIVE", {}),
    ("260", "Other Revenue", "REVENUE", "REVENUE", "OUTPUT", "ACTIVE", {}),
    ("270", "Interest Income", "REVENUE", "REVENUE", "NONE", "ACTIVE", {}),
    ("299", "Legacy Sales", "REVENUE", "REVENUE", "OUTPUT", "ARCHIVED", {}),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "EXPENSE", "INPUT", "ACTIVE", {}),
    ("400", "Advertising", "EXPENSE", "EXPENSE", "INPUT", "ACTIVE", {}),
    ("404", "Bank Fees", "EXPENSE", "EXPENSE", "NONE", "ACTIVE", {}),
    ("425", "Freight & Courier", "EXPENSE", "EXPENSE", "INPUT", "ACTIVE", {}),
    ("429", "General Expenses", "EXPENSE", "EXPENSE", "INPUT", "ACTIVE", {}),
    ("610", "Accounts Receivable", "CURRENT", "ASSET", "NONE", "ACTIVE", {"SystemAccount": "DEBTORS"}),
    ("800", "Accounts Payable", "CURRLIAB", "LIABILITY", "NONE", "ACTIVE", {"SystemAccount": "CREDITORS"}),
    ("820", "Sales Tax", "CURRLIAB", "LIABILITY", "NONE", "ACTIVE", {"SystemAccount": "GST"}),
    ("960", "Retained Earnings", "EQUITY", "EQUITY", "NONE", "ACTIVE", {"SystemAccount": "RETAINEDEARNINGS"}),
    ("970", "Owner A Funds Introduced", "EQUITY", "EQUITY", "NONE", "ACTIVE", {"EnablePaymentsToAccount": True}),
]

# (tax type, name, rate %, status, applies to revenue, applies to expenses)
TAX_RATES = [
    ("OUTPUT", "Tax on Sales", Decimal("10.0000"), "ACTIVE", True, False),
    ("INPUT", "Tax on Purchases", Decimal("10.0000"), "ACTIVE", False, True),
    ("TAX001", "Sales Tax 8.25%", Decimal("8.2500"), "ACTIVE", True, False),
    ("EXEMPTOUTPUT", "Exempt Sales", Decimal("0.0000"), "ACTIVE", True, False),
    ("NONE", "Tax Exempt", Decimal("0.0000"), "ACTIVE", True, True),
    ("TAX002", "Old Sales Tax 7%", Decimal("7.0000"), "DELETED", True, False),
]


def accounts(new_id, stamp: int) -> list[dict]:
    rows = []
    for code, name, acc_type, klass, tax, status, extra in ACCOUNTS:
        row = {"AccountID": new_id(), "Code": code, "Name": name, "Status": status, "Type": acc_type,
               "TaxType": tax, "Class": klass, "EnablePaymentsToAccount": False, "ShowInExpenseClaims": False,
               "BankAccountType": "", "ReportingCode": "", "HasAttachments": False, "AddToWatchlist": False,
               "_updated": stamp}
        row.update(extra)
        rows.append(row)
    return rows


def tax_rates() -> list[dict]:
    rows = []
    for tax_type, name, rate, status, revenue, expenses in TAX_RATES:
        rows.append({"Name": name, "TaxType": tax_type, "ReportTaxType": "OUTPUT" if revenue else "INPUT",
                     "CanApplyToAssets": expenses, "CanApplyToEquity": False, "CanApplyToExpenses": expenses,
                     "CanApplyToLiabilities": False, "CanApplyToRevenue": revenue, "DisplayTaxRate": rate,
                     "EffectiveRate": rate, "Status": status,
                     "TaxComponents": [{"Name": name, "Rate": rate, "IsCompound": False, "IsNonRecoverable": False}]})
    return rows


def currencies() -> list[dict]:
    return [{"Code": code, "Description": name} for code, name in CURRENCIES.items()]


def organisation(tenant_id: str, name: str, created_ms: int) -> dict:
    return {"OrganisationID": tenant_id, "Name": name, "LegalName": f"{name} LLC", "PaysTax": True,
            "Version": "US", "OrganisationType": "COMPANY", "BaseCurrency": BASE_CURRENCY, "CountryCode": "US",
            "IsDemoCompany": False, "OrganisationStatus": "ACTIVE", "FinancialYearEndDay": 31,
            "FinancialYearEndMonth": 12, "SalesTaxBasis": "ACCRUAL", "SalesTaxPeriod": "MONTHLY",
            "DefaultSalesTax": "Tax Exclusive", "DefaultPurchasesTax": "Tax Exclusive",
            "CreatedDateUTC": f"/Date({created_ms})/", "Timezone": ORG_TIMEZONE, "OrganisationEntityType": "COMPANY",
            "ShortCode": "!sbx01", "Class": "STANDARD", "Edition": "BUSINESS", "LineOfBusiness": "Services",
            "Addresses": [], "Phones": [], "ExternalLinks": [], "PaymentTerms": PAYMENT_TERMS}
