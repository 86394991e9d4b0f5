"""Patriot Accounting connector: documents rendered as Patriot's CSV import files (file delivery)."""
from __future__ import annotations

from decimal import Decimal

from connectors.base import Capabilities, DemoChart, DocumentTotals
from connectors.documents import (CustomerSnapshot, Entity, InvoiceSnapshot, Mapping, PaymentSnapshot, Snapshot)
from connectors.errors import ConfigurationError, DataError
from connectors.filekit import formats as ff
from connectors.filekit import parser
from connectors.filekit.delivery import FileConnector
from connectors.registry import register

from . import formats as pf

#: The demo's chart (accounts by name: Patriot's import names accounts, it has no account numbers to type).
SEED_ACCOUNTS = {"Sales": "Sales", "Consulting Income": "Consulting Income", "Product Sales": "Product Sales",
                 "Shipping Income": "Shipping Income", "Sales Discounts": "Sales Discounts",
                 "Checking": "Checking", "Undeposited Funds": "Undeposited Funds"}
SEED_KINDS = {"Sales": "income", "Consulting Income": "income", "Product Sales": "income",
              "Shipping Income": "income", "Sales Discounts": "income", "Checking": "deposit",
              "Undeposited Funds": "deposit"}
SEED_TAXES = {"Sales Tax": "Sales Tax", "Non-Taxable": "Non-Taxable"}


@register
class PatriotConnector(FileConnector):
    id = "patriot"
    name = "Patriot Accounting"
    file_prefix = "patriot"
    # Customers travel in the customers file of the batch holding their first invoice (``render_dependency``).
    capabilities = Capabilities(entities=frozenset({Entity.INVOICE, Entity.PAYMENT}),
                                currencies=frozenset({"USD"}), idempotency_keys=False, inbound_deletes=False)
    formats = (pf.CUSTOMERS, pf.INVOICES, pf.PAYMENTS)
    reconcile_entities = frozenset({Entity.INVOICE})  # the invoices report is what Patriot exports
    sandbox_class = "connectors.patriot.importer.PatriotImporter"
    demo_chart = DemoChart(default_income="Sales",
                           category_income={"Consultations": "Consulting Income", "Pharmacy": "Product Sales"},
                           line_kind_income={"shipping": "Shipping Income"}, discount="Sales Discounts",
                           deposit="Checking", taxes={"GST 10%": "Sales Tax", "Exempt": "Non-Taxable"})

    @classmethod
    def sandbox_settings(cls, base_url: str = "") -> dict:
        """Settings for a connection the demo and tests use: the emulator's chart."""
        return {"accounts": SEED_ACCOUNTS, "account_kinds": SEED_KINDS, "tax_codes": SEED_TAXES,
                "home_currency": "USD"}

    def _account(self, account_id: str | None, what: str) -> str:
        accounts = dict(self.setting("accounts") or {})
        if not account_id:
            raise ConfigurationError(f"no {what} is mapped", hint="Add the mapping rule, then retry the entry.")
        return accounts.get(account_id, account_id)

    def render_dependency(self, doc: Snapshot) -> dict[str, list[dict[str, str]]] | None:
        """A customer goes in the customers file with its first invoice (Patriot needs the customer first)."""
        if isinstance(doc, CustomerSnapshot):
            return {"customers": [{"Business Name": doc.name, "Email": doc.email}]}
        return None

    def render(self, doc: Snapshot, mapping: Mapping) -> dict[str, list[dict[str, str]]]:
        if isinstance(doc, CustomerSnapshot):
            return {"customers": [{"Business Name": doc.name, "Email": doc.email}]}
        if isinstance(doc, InvoiceSnapshot):
            return {"invoices": self._invoice(doc, mapping)}
        if isinstance(doc, PaymentSnapshot):
            return {"payments": self._payment(doc, mapping)}
        raise DataError(f"{self.name}'s import files take no {doc.entity.replace('_', ' ')}s",
                        hint="Enter it in Patriot by hand.")

    def _invoice(self, doc: InvoiceSnapshot, mapping: Mapping) -> list[dict[str, str]]:
        customer = mapping.refs.get(doc.customer_key, "")
        taxes = dict(self.setting("tax_codes") or {})
        rows = []
        for i, line in enumerate(doc.lines):
            sign = Decimal("-1") if line.kind == "discount" else Decimal("1")
            account = mapping.line_accounts[i] if i < len(mapping.line_accounts) else None
            code = mapping.tax_codes.get(line.tax_rate_key or "", "")
            rows.append({
                "Invoice Number": doc.number, "Customer": customer,
                "Invoice Date": ff.date(doc.issue_date, pf.DATE), "Due Date": ff.date(doc.due_date, pf.DATE),
                "Product/Service": line.item_name or line.kind.capitalize(), "Description": line.description,
                "Quantity": ff.quantity(line.quantity), "Rate": ff.money(sign * line.unit_price),
                "Amount": ff.money(sign * line.net_amount),
                "Income Account": self._account(account, f"income account for line {i + 1}"),
                "Sales Tax": taxes.get(code, code), "Tax Amount": ff.money(sign * line.tax_amount),
                "Memo": doc.memo if i == 0 else ""})
        if not rows:
            raise DataError(f"invoice {doc.number} has no lines")
        return rows

    def _payment(self, doc: PaymentSnapshot, mapping: Mapping) -> list[dict[str, str]]:
        if not doc.allocations:
            raise DataError(f"payment {doc.number} is applied to no invoice: Patriot records a customer payment "
                            "against invoices", hint="Apply the payment to an invoice, or enter it in Patriot.")
        deposit = self._account(mapping.deposit_account, "deposit account")
        return [{"Payment Date": ff.date(doc.date, pf.DATE), "Customer": mapping.refs.get(doc.customer_key, ""),
                 "Invoice Number": mapping.refs.get(a.invoice_key, ""), "Payment Amount": ff.money(a.amount),
                 "Payment Method": doc.method.capitalize(), "Deposit Account": deposit,
                 "Reference Number": doc.number, "Memo": doc.memo} for a in doc.allocations]

    def parse_export(self, name: str, content: bytes) -> list[DocumentTotals]:
        """Patriot's Invoices report as CSV, or an invoices import file (what was imported, all open)."""
        header = parser.header_of(pf.INVOICE_EXPORT, content)
        if "Status" in header:
            docs = []
            for (row,) in parser.read(pf.INVOICE_EXPORT, content):
                total = ff.parse_money(row.get("Total", ""))
                balance = ff.parse_money(row.get("Balance Due", ""))
                status = pf.STATUSES.get(row.get("Status", "").strip(), "open")
                docs.append(DocumentTotals(row["Invoice Number"], Entity.INVOICE, row["Invoice Number"], status,
                                           "USD", total, None, balance if balance is not None else total,
                                           date=ff.parse_date(row.get("Invoice Date", ""), pf.DATE)))
            return docs
        if "Invoice Number" in header and "Income Account" in header:
            totals: dict[str, Decimal] = {}
            for (row,) in parser.read(pf.INVOICES, content):
                number = row["Invoice Number"]
                totals[number] = totals.get(number, Decimal("0")) + (ff.parse_money(row["Amount"]) or 0) + (
                    ff.parse_money(row.get("Tax Amount", "")) or 0)
            return [DocumentTotals(n, Entity.INVOICE, n, "open", "USD", t, None, t) for n, t in totals.items()]
        raise DataError(f"{name} is neither Patriot's invoices report nor an invoices import file "
                        f"(its columns: {', '.join(header)})")
