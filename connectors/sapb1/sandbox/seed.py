"""The sandbox's company database: its login, chart of accounts and tax (VAT) groups."""
from __future__ import annotations

COMPANY_DB = "SBODEMOAU"
USER, PASSWORD = "manager", "sandbox-password"
HOME_CURRENCY = "AUD"
#: (Code, Name, ActiveAccount, AccountType): ``at_Revenues``, ``at_Expenses``, ``at_Other`` (Service Layer enums).
ACCOUNTS = (("_SYS00000000001", "Sales Revenue", "at_Revenues"),
            ("_SYS00000000002", "Consulting Revenue", "at_Revenues"),
            ("_SYS00000000003", "Freight Revenue", "at_Revenues"),
            ("_SYS00000000004", "Late Fee Income", "at_Revenues"),
            ("_SYS00000000005", "Sales Discounts", "at_Revenues"),
            ("_SYS00000000006", "Bank Account", "at_Other"),
            ("_SYS00000000007", "Accounts Receivable", "at_Other"),
            ("_SYS00000000008", "GST Payable", "at_Other"))
#: (Code, Name, Rate): output tax groups.
VAT_GROUPS = (("S1", "GST 10%", "10"), ("S0", "GST Free", "0"))
