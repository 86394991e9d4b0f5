"""The sandbox's company database: its login, chart of accounts, tax (VAT) groups and currencies. The user name and
password are the sandbox's own public values (not secrets), equal to the demo's client id and secret."""
from __future__ import annotations

COMPANY_DB = "SBODEMOUS"
USER, PASSWORD = "sandbox-client", "sandbox-secret"
HOME_CURRENCY = "USD"
CURRENCIES = (("USD", "US Dollar"), ("EUR", "Euro"), ("GBP", "Pound Sterling"), ("AUD", "Australian Dollar"))
#: (Code, Name, AccountType): ``at_Revenues``, ``at_Expenses``, ``at_Other`` (Service Layer enums). A bank account
#: is flagged ``CashAccount`` tYES (``CASH_ACCOUNTS``).
ACCOUNTS = (("_SYS00000000001", "Sales Revenue", "at_Revenues"),
            ("_SYS00000000002", "Consulting Revenue", "at_Revenues"),
            ("_SYS00000000003", "Freight Revenue", "at_Revenues"),
            ("_SYS00000000004", "Late Fee Income", "at_Revenues"),
            ("_SYS00000000005", "Sales Discounts", "at_Revenues"),
            ("_SYS00000000006", "Bank Account", "at_Other"),
            ("_SYS00000000007", "Accounts Receivable", "at_Other"),
            ("_SYS00000000008", "GST Payable", "at_Other"),
            ("_SYS00000000009", "Restocking Fee Income", "at_Revenues"),
            ("_SYS00000000010", "Freight Expense", "at_Expenses"),
            ("_SYS00000000011", "Bank Charges", "at_Expenses"))
CASH_ACCOUNTS = frozenset({"_SYS00000000006"})
#: (Code, Name, Rate): output tax groups.
VAT_GROUPS = (("S1", "GST 10%", "10"), ("S0", "GST Free", "0"))
