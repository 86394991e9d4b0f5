"""AccountEdge connector: documents rendered as AccountEdge's tab-delimited import files (file delivery)."""
from __future__ import annotations

import re
from decimal import Decimal

from connectors.base import Capabilities, DemoChart, DocumentTotals, Setting
from connectors.documents import Entity, InvoiceSnapshot, Mapping, PaymentSnapshot, Snapshot
from connectors.errors import ConfigurationError, DataError
from connectors.filekit import formats as ff
from connectors.filekit import parser
from connectors.filekit.delivery import FileConnector
from connectors.registry import register

from . import formats as af

SEED_ACCOUNTS = {"4-1000": "Sales", "4-1100": "Consultations", "4-1200": "Pharmacy Sales",
                 "4-1300": "Freight Income", "4-1900": "Sales Discounts", "1-1100": "Checking Account",
                 "1-1200": "Undeposited Funds"}
SEED_KINDS = {"4-1000": "income", "4-1100": "income", "4-1200": "income", "4-1300": "income", "4-1900": "income",
              "1-1100": "deposit", "1-1200": "deposit"}
SEED_TAXES = {"GST": "Goods & Services Tax", "N-T": "Not Reportable"}


@register
class AccountEdgeConnector(FileConnector):
    id = "accountedge"
    name = "AccountEdge"
    file_prefix = "accountedge"
    capabilities = Capabilities(entities=frozenset({Entity.INVOICE, Entity.PAYMENT}), idempotency_keys=False,
                                inbound_deletes=False)
    formats = (af.SALES, af.RECEIVE_PAYMENTS)
    reconcile_entities = frozenset({Entity.INVOICE})  # receive payments are exported as receive money only
    settings_fields = FileConnector.settings_fields + (
        Setting("date_format", "Date format", "How dates are written in the import files, as a strftime pattern; "
                "AccountEdge reads dates in the company computer's convention.", default=af.DATE),
    )
    sandbox_class = "connectors.accountedge.importer.AccountEdgeImporter"
    demo_chart = DemoChart(default_income="Sales",
                           category_income={"Consultations": "Consultations", "Pharmacy": "Pharmacy Sales"},
                           line_kind_income={"shipping": "Freight Income"}, discount="Sales Discounts",
                           deposit="Checking Account", taxes={"GST 10%": "Goods & Services Tax",
                                                              "Exempt": "Not Reportable"})

    @classmethod
    def sandbox_settings(cls, base_url: str = "") -> dict:
        return {"accounts": SEED_ACCOUNTS, "account_kinds": SEED_KINDS, "tax_codes": SEED_TAXES,
                "home_currency": "USD", "currencies": ["USD"]}

    def _date(self) -> str:
        return self.setting("date_format") or af.DATE

    @staticmethod
    def _account(account: str | None, what: str) -> str:
        if not account:
            raise ConfigurationError(f"no {what} is mapped", hint="Add the mapping rule, then retry the entry.")
        if not re.match(af.ACCOUNT, account):
            raise ConfigurationError(f"{what} “{account}” is not an AccountEdge account number (5 digits, e.g. "
                                     "4-1000)", hint="Map it to the account's number, then retry the entry.")
        return account

    def render(self, doc: Snapshot, mapping: Mapping) -> dict[str, list[dict[str, str]]]:
        if isinstance(doc, InvoiceSnapshot):
            return {"sales": self._sale(doc, mapping)}
        if isinstance(doc, PaymentSnapshot):
            return {"receive_payments": self._payment(doc, mapping)}
        raise DataError(f"{self.name}'s import files take no {doc.entity.replace('_', ' ')}s here",
                        hint="Enter it in AccountEdge by hand.")

    def _sale(self, doc: InvoiceSnapshot, mapping: Mapping) -> list[dict[str, str]]:
        customer = mapping.refs.get(doc.customer_key, "")
        home = self.setting("home_currency") or "USD"
        rows = []
        for i, line in enumerate(doc.lines):
            sign = Decimal("-1") if line.kind == "discount" else Decimal("1")
            account = mapping.line_accounts[i] if i < len(mapping.line_accounts) else None
            rows.append({
                "Co./Last Name": customer, "Inclusive": "", "Invoice #": doc.number,
                "Date": ff.date(doc.issue_date, self._date()),
                "Description": line.description or line.item_name or line.kind.capitalize(),
                "Account #": self._account(account, f"income account for line {i + 1}"),
                "Amount": ff.money(sign * line.net_amount), "Journal Memo": doc.memo[:255] if i == 0 else "",
                "Tax Code": mapping.tax_codes.get(line.tax_rate_key or "", ""),
                "Tax Amount": ff.money(sign * line.tax_amount),
                "Currency Code": doc.currency if doc.currency != home else "",
                "Exchange Rate": f"{doc.exchange_rate:.6f}" if doc.exchange_rate and doc.currency != home else "",
                "Sale Status": "I"})
        if not rows:
            raise DataError(f"invoice {doc.number} has no lines")
        return rows

    def _payment(self, doc: PaymentSnapshot, mapping: Mapping) -> list[dict[str, str]]:
        if not doc.allocations:
            raise DataError(f"payment {doc.number} is applied to no invoice: Receive Payments applies money to "
                            "invoices", hint="Apply the payment to an invoice, or record it in AccountEdge.")
        deposit = self._account(mapping.deposit_account, "deposit account")
        return [{"Co./Last Name": mapping.refs.get(doc.customer_key, ""), "Deposit Account #": deposit,
                 "ID #": doc.number, "Receipt Date": ff.date(doc.date, self._date()), "Memo": doc.memo[:255],
                 "Invoice #": mapping.refs.get(a.invoice_key, ""), "Amount Applied": ff.money(a.amount),
                 "Payment Method": doc.method.capitalize()[:20]} for a in doc.allocations]

    def parse_export(self, name: str, content: bytes) -> list[DocumentTotals]:
        """AccountEdge's export of Service Sales (the same format as its import), one record per sale."""
        header = parser.header_of(af.SALES, content)
        if "Invoice #" not in header or "Amount" not in header:
            raise DataError(f"{name} is not an AccountEdge Service Sales export (its columns: {', '.join(header)})")
        docs = []
        for record in parser.read(af.SALES, content):
            number = record[0]["Invoice #"]
            inclusive = bool(record[0].get("Inclusive", "").strip())
            total = sum(((ff.parse_money(r["Amount"]) or Decimal("0"))
                         + (Decimal("0") if inclusive else ff.parse_money(r.get("Tax Amount", "")) or Decimal("0"))
                         for r in record), Decimal("0"))
            paid = ff.parse_money(record[0].get("Amount Paid", "")) or Decimal("0")
            balance = total - paid
            docs.append(DocumentTotals(number, Entity.INVOICE, number, "paid" if balance == 0 and total else "open",
                                       record[0].get("Currency Code") or "", total, None, balance,
                                       date=ff.parse_date(record[0].get("Date", ""), self._date())))
        return docs
