"""Supplier bills reach the books: worked examples on QuickBooks Online and Xero (issue 23).

A bill is what the business owes a supplier: each line's cost on its expense account, the tax it reclaims, and the
total owed on accounts payable. The examples save a ledger bill, let the pipeline send it to the platform's sandbox,
and assert what the platform then holds, the GL preview's legs, and what reconciliation finds.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import transaction

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, RemoteStatus
from accounting_sync.policies import preflight
from accounting_sync.reconcile.models import Reason
from connectors import registry
from connectors.documents import BillSnapshot, Entity, ExpenseLineSnapshot
from connectors.errors import PermanentError
from ledger.models import DocumentStatus
from mappings.models import MappingKind
from tests import factories as f
from tests.accounting_sync.policies.test_returns_and_costs import (QBOBooks, XeroBooks, legs, purchase_tax, reconciled,
                                                                   ref_of, sides)
from tests.conftest import drain

pytestmark = pytest.mark.django_db
D = Decimal
DATE, DUE = dt.date(2026, 11, 2), dt.date(2026, 12, 2)


class QBOBills(QBOBooks):
    """QBO: a bill is a ``Bill`` on the company's Accounts Payable; the API deletes it rather than voiding it."""

    payable = "Accounts Payable (A/P)"
    gone = Reason.DELETED_REMOTELY

    def bill(self, remote_id: str) -> dict | None:
        bill = self.sandbox.store.get("Bill", remote_id)
        if bill is None:
            return None
        return {"total": D(str(bill["TotalAmt"])), "tax": D(str(bill["TxnTaxDetail"]["TotalTax"])),
                "supplier": bill["VendorRef"]["name"], "number": bill["DocNumber"], "due": str(bill["DueDate"]),
                "payable": bill["APAccountRef"]["value"],
                "lines": [(line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"], D(str(line["Amount"])),
                           line["AccountBasedExpenseLineDetail"]["TaxCodeRef"]["value"]) for line in bill["Line"]]}

    def edit_amount_as_user(self, remote_id: str, amount: Decimal) -> None:
        row = self.sandbox.store.get("Bill", remote_id)
        lines = [dict(line) for line in row["Line"]]
        lines[0] = {**lines[0], "Amount": str(amount)}
        self.sandbox.store.edit_as_user("Bill", remote_id, {"Line": lines})

    def remove_as_user(self, remote_id: str) -> None:
        with self.sandbox.store.lock:
            row = self.sandbox.store.get("Bill", remote_id)
            self.sandbox.store.write("Bill", {"Id": row["Id"], "SyncToken": row["SyncToken"]}, "delete")


class XeroBills(XeroBooks):
    """Xero: a bill is an invoice of Type ACCPAY, on the Accounts Payable system account; it is voided."""

    CODES = {**XeroBooks.CODES, "Accounts Payable (A/P)": "800"}
    payable = "Accounts Payable (A/P)"
    gone = Reason.VOIDED_REMOTELY

    def bill(self, remote_id: str) -> dict | None:
        bill = self.store.get("Invoices", remote_id)
        if bill is None or bill["Status"] in ("DELETED", "VOIDED"):
            return None
        assert bill["Type"] == "ACCPAY" and bill["Status"] == "AUTHORISED"
        return {"total": D(str(bill["Total"])), "tax": D(str(bill["TotalTax"])), "supplier": bill["Contact"]["Name"],
                "number": bill["InvoiceNumber"], "due": _day(bill["DueDate"]), "payable": "800",
                "lines": [(line["AccountCode"], D(str(line["LineAmount"])), line["TaxType"])
                          for line in bill["LineItems"]]}

    def edit_amount_as_user(self, remote_id: str, amount: Decimal) -> None:
        row = self.store.get("Invoices", remote_id)
        lines = [dict(line) for line in row["LineItems"]]
        lines[0] = {**lines[0], "UnitAmount": str(amount), "Quantity": "1"}
        lines[0].pop("LineAmount", None)
        lines[0].pop("TaxAmount", None)
        self.store.edit_as_user("Invoices", remote_id, {"LineItems": lines})

    def remove_as_user(self, remote_id: str) -> None:
        self.store.edit_as_user("Invoices", remote_id, {"Status": "VOIDED"})  # an approved bill is voided


def _day(value) -> str:
    """A Xero date (``/Date(ms+0000)/`` as the API writes it, or a date) as ``YYYY-MM-DD``."""
    text = str(value)
    if text.startswith("/Date("):
        return dt.datetime.fromtimestamp(int(text[6:].split("+")[0].split(")")[0]) / 1000, dt.UTC).date().isoformat()
    return text[:10]


@pytest.fixture(params=["qbo", "xero"])
def books(request, org):
    if request.param == "qbo":
        found = QBOBills(request.getfixturevalue("sandbox"), request.getfixturevalue("make_connection")(org))
    else:
        found = XeroBills(request.getfixturevalue("xsandbox"), request.getfixturevalue("make_xero_connection")(org))
    found.map()
    return found


def supplier_bill(org, tax_rate=None, *, amount="200.00", reference="INV-7788"):
    with transaction.atomic():
        bill = f.BillFactory(organization=org, number="BILL-1001", supplier="Acme Supplies",
                             supplier_reference=reference, date=DATE, due_date=DUE, memo="Packaging for November")
        f.BillLineFactory(bill=bill, cost_kind="supplier", description="Boxes and tape", amount=D(amount),
                          tax_rate=tax_rate)
    return bill


def test_a_bill_of_200_with_10_percent_tax(books, org):
    bill = supplier_bill(org, purchase_tax(books, org))
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    held = books.bill(ref_of(bill).remote_id)
    assert held["total"] == D("220.00") and held["tax"] == D("20.00") and held["supplier"] == "Acme Supplies"
    assert held["number"] == "INV-7788" and held["due"] == "2026-12-02"
    assert held["payable"] == books.account(books.payable)
    assert held["lines"] == [(books.account("Supplies"), D("200.00"), books.tax_code())]

    entry = legs(books, bill)
    assert sides(entry) == [(books.account("Supplies"), D("200.00"), D("0.00")),
                            (entry.lines[1].account_id, D("20.00"), D("0.00")),
                            (books.account(books.payable), D("0.00"), D("220.00"))]
    assert entry.lines[1].tax_code == books.tax_code() and entry.debits == entry.credits == D("220.00")
    assert entry.lines[2].description == "Owed to Acme Supplies (their bill INV-7788)"
    reconciled(books, bill)


def test_a_bill_without_the_suppliers_number_carries_ours(books, org):
    bill = supplier_bill(org, reference="")
    drain()
    held = books.bill(ref_of(bill).remote_id)
    assert held["number"] == "BILL-1001" and held["total"] == D("200.00") and held["tax"] == D("0.00")
    reconciled(books, bill)


def test_a_bill_voided_here_leaves_nothing_owed_there(books, org):
    bill = supplier_bill(org)
    drain()
    bill.status = DocumentStatus.VOID
    bill.save()
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    assert books.bill(ref_of(bill).remote_id) is None
    assert ref_of(bill).remote_status in (RemoteStatus.DELETED, RemoteStatus.VOIDED)
    reconciled(books, bill)


def test_a_bill_line_without_an_expense_account_waits_for_its_mapping(books, org):
    books.conn.mappings.filter(kind=MappingKind.EXPENSE_ACCOUNT).delete()
    bill = supplier_bill(org)
    drain()
    stopped = OutboxEntry.objects.get(source_key=f"ledger.bill:{bill.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert "no expense account mapped for cost kind “supplier”" in stopped.last_error
    assert not ExternalReference.objects.filter(source_key=f"ledger.bill:{bill.pk}").exists()  # nothing sent


def test_a_mapped_accounts_payable_account_is_the_one_owed_on_qbo(org, sandbox, make_connection):
    """QBO takes the bill's A/P account from the optional "accounts payable" rule (without one: its only one)."""
    books = QBOBills(sandbox, make_connection(org))
    books.map()
    with sandbox.store.lock:
        sandbox.store._rows["Account"]["16"] = {
            **sandbox.store._rows["Account"]["15"], "Id": "16", "Name": "Trade Payables",
            "FullyQualifiedName": "Trade Payables"}
    bill = supplier_bill(org)
    drain()  # two A/P accounts and no rule: QBO asks which one
    stopped = OutboxEntry.objects.get(source_key=f"ledger.bill:{bill.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION and "Accounts Payable account" in stopped.last_error
    f.MappingFactory(connection=books.conn, kind=MappingKind.PAYABLE_ACCOUNT, remote_id="16")
    bill.save()
    drain()
    assert books.bill(ref_of(bill).remote_id)["payable"] == "16"
    assert sides(legs(books, bill))[-1] == ("16", D("0.00"), D("200.00"))


def test_a_platform_without_bills_stops_them_with_the_fallback_message(org, make_connection, monkeypatch):
    """A connector declaring the first releases' entities (``Entity.ALL``) does not take bills: the bill stops
    before anything is sent, saying what staff do instead (the QBO connector is narrowed for the test)."""
    qbo = registry.get("qbo")
    monkeypatch.setattr(qbo, "capabilities", replace(qbo.capabilities, entities=frozenset(Entity.ALL),
                                                     delete=qbo.capabilities.delete - {Entity.BILL}))
    conn = make_connection(org)
    bill = supplier_bill(org)
    drain()
    stopped = OutboxEntry.objects.get(connection=conn, source_key=f"ledger.bill:{bill.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION and stopped.error_code == "unsupported"
    assert stopped.last_error == ("Bill BILL-1001: QuickBooks Online does not take bills through its API (this "
                                  "connector declares none), so it was not sent")
    assert "by hand" in stopped.hint and "GL preview" in stopped.hint


BILL = BillSnapshot(key="ledger.bill:1", organization_id=1, number="BILL-1", supplier="Acme Supplies",
                    lines=(ExpenseLineSnapshot("supplier", "Boxes", D("10.00"), D("0.00")),))


@pytest.mark.parametrize("platform", sorted(registry.connectors()))
def test_every_platform_takes_a_bill_or_says_what_staff_do_instead(platform):
    conn = f.ConnectionFactory(platform=platform)
    if Entity.BILL in registry.get(platform).capabilities.entities:
        preflight.check_supported(conn, BILL)
        return
    with pytest.raises(PermanentError) as stopped:
        preflight.check_supported(conn, BILL)
    assert stopped.value.code == "unsupported" and conn.platform_name in str(stopped.value)
    assert "by hand" in stopped.value.hint


@pytest.mark.parametrize("platform", sorted(registry.connectors()))
def test_every_platform_that_declares_bills_says_how_it_takes_them_back(platform):
    """Connectors that declare ``frozenset(Entity.ALL)`` did not take bills on unawares: one that declares bills
    names them on their own, and voids or deletes them (what a bill voided here becomes there)."""
    caps = registry.get(platform).capabilities
    assert Entity.BILL not in frozenset(Entity.ALL)
    if Entity.BILL in caps.entities:
        assert Entity.BILL in caps.void | caps.delete


def test_a_bill_due_before_its_date_or_without_lines_is_refused_locally():
    doc = replace(BILL, issue_date=DATE, due_date=DATE - dt.timedelta(days=1), lines=(), supplier=" ")
    assert preflight._bill(doc) == ["the bill has no supplier", "it has no lines",
                                    "the due date 2026-11-01 is before the bill's date 2026-11-02"]
