"""The sandbox's tenant: one company code, its chart of accounts (G/L accounts), tax codes and currencies. The
client id and secret (and the communication user's name and password) are the sandbox's own public values, not
secrets, equal to the demo's client id and secret."""
from __future__ import annotations

COMPANY_CODE = "1710"
CHART_OF_ACCOUNTS = "YCOA"
CLIENT_ID, CLIENT_SECRET = "sandbox-client", "sandbox-secret"  # nosec B105 - the sandbox's public demo values
HOME_CURRENCY = "USD"
CURRENCIES = (("USD", "United States Dollar"), ("EUR", "European Euro"), ("GBP", "British Pound"),
              ("AUD", "Australian Dollar"))
#: (GLAccount, GLAccountName, GLAccountType): "P" primary costs or revenue, "X" balance sheet, "C" cash account
#: (the values of ``GLAccountType`` in API_GLACCOUNTINCHARTOFACCOUNTS_SRV).
ACCOUNTS = (("41000000", "Sales Revenue", "P"),
            ("41100000", "Consulting Revenue", "P"),
            ("41200000", "Freight Revenue", "P"),
            ("41300000", "Late Fee Income", "P"),
            ("41400000", "Sales Discounts", "P"),
            ("11001000", "Bank Account", "C"),
            ("12100000", "Receivables Domestic", "X"),
            ("22000000", "Output Tax", "X"),
            ("61000000", "Office Expenses", "P"))
#: (TaxCode, TaxCodeName, TaxRate percent): output tax codes.
TAX_CODES = (("O1", "GST 10%", "10"), ("O0", "GST Free", "0"))
#: The G/L account automatic tax items are posted to.
TAX_ACCOUNT = "22000000"
#: The reconciliation account of customers (their items are posted to it in the general ledger).
RECEIVABLES_ACCOUNT = "12100000"
