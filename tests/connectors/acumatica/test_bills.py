"""Supplier bills on Acumatica (issue 23): a vendor ``Bill`` like an expense's, with the supplier's number in
``VendorRef`` and a ``DueDate``, released and left Open (no check pays it); reversed to void it (Acumatica voids no
released bill); a lost answer's bill found by VendorRef and vendor; through the pipeline, a bill of 200.00 in two
lines reads back open, and a cost kind without an expense account stops the bill before anything is sent."""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import transaction

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry
from connectors.acumatica import costs as c
from connectors.documents import BillSnapshot, Entity, ExpenseLineSnapshot, Mapping, RemoteRef
from connectors.errors import SyncError
from mappings.models import MappingKind
from tests import factories as f
from tests.conftest import drain
from tests.connectors.acumatica.test_connector import connect
from tests.connectors.contract import expense
from tests.platforms import POOL, PlatformHarness

D = Decimal
DATE, DUE = dt.date(2026, 11, 2), dt.date(2026, 12, 2)
#: Taxable 10% on the first line (10.00), exempt the second: 200.00 owed.
ACCOUNTS = Mapping(line_accounts=("60100", "60200"), tax_codes={"gst": "TAXABLE", "none": "EXEMPT"})


def supplier_bill(currency: str = "USD", reference: str = "INV-7788") -> BillSnapshot:
    number = f"B{uuid.uuid4().hex[:6]}"
    lines = (ExpenseLineSnapshot("supplier", "Boxes and tape", D("100.00"), D("10.00"), "gst"),
             ExpenseLineSnapshot("consumables", "Labels", D("90.00"), D("0.00"), "none"))
    return BillSnapshot(key=f"test.bill:{number}", organization_id=1, number=number, supplier="Acme Supplies",
                        supplier_reference=reference, issue_date=DATE, due_date=DUE, currency=currency,
                        memo="Packaging for November", lines=lines, subtotal=D("190.00"), tax_total=D("10.00"),
                        total=D("200.00"))


def test_a_bill_of_200_in_two_lines_with_tax_reads_back_open(asandbox):
    conn = connect(asandbox)
    doc = supplier_bill()
    made = conn.create(doc, ACCOUNTS, "b")
    assert made.remote_id.startswith("Bill/") and made.status == "active" and made.number == "INV-7788"
    assert (made.total, made.balance) == (D("200.00"), D("200.00"))
    held = asandbox.lookup("Bill", made.remote_id.split("/")).data
    assert held["Status"] == "Open" and held["Vendor"] == c.vendor_id("Acme Supplies")
    assert (held["VendorRef"], held["Date"][:10], held["DueDate"][:10]) == ("INV-7788", "2026-11-02", "2026-12-02")
    assert held["Description"] == f"Bill {doc.number} - Packaging for November" and held["TaxTotal"] == D("10.00")
    assert [(d["Account"], d["ExtendedCost"], d["TaxCategory"]) for d in held["Details"]] == [
        ("60100", D("100.00"), "TAXABLE"), ("60200", D("90.00"), "EXEMPT")]
    assert asandbox.store.rows("Check") == []  # nothing pays it
    assert asandbox.store.first("Vendor", VendorID=c.vendor_id("Acme Supplies")).data["VendorName"] == "Acme Supplies"
    [read] = conn.read_documents(Entity.BILL, [made.remote_id])
    assert (read.total, read.balance, read.status) == (D("200.00"), D("200.00"), "open")


def test_a_foreign_currency_bill_is_in_its_currency(asandbox):
    conn = connect(asandbox)
    made = conn.create(supplier_bill("EUR"), ACCOUNTS, "b")
    assert made.raw["CurrencyID"] == "EUR" and (made.total, made.balance) == (D("200.00"), D("200.00"))


def test_a_currency_acumatica_does_not_keep_is_refused_by_it(asandbox):
    with pytest.raises(SyncError):
        connect(asandbox).create(supplier_bill("JPY"), ACCOUNTS, "b")
    assert asandbox.store.rows("Bill") == []


def test_a_bill_voided_is_reversed_and_not_adopted_again(asandbox):
    conn = connect(asandbox)
    doc = supplier_bill()
    made = conn.create(doc, ACCOUNTS, "b")
    voided = conn.void(Entity.BILL, RemoteRef(made.remote_id), "v")
    assert voided.status == "voided" and voided.total == D("0.00")
    [adjustment] = [r for r in asandbox.store.rows("Bill") if r.data["Type"] == "Debit Adj."]
    assert adjustment.data["Description"] == f"Reversal of {made.remote_id}" and adjustment.data["Status"] == "Closed"
    assert conn.find_existing(doc, ACCOUNTS) is None
    [read] = conn.read_documents(Entity.BILL, [made.remote_id])
    assert read.status == "voided"


def test_a_bill_left_balanced_is_deleted(asandbox):
    conn = connect(asandbox, release=False)
    made = conn.create(supplier_bill(), ACCOUNTS, "b")
    assert made.raw["Status"] == "Balanced"
    conn.delete(Entity.BILL, RemoteRef(made.remote_id), "d")
    assert asandbox.store.rows("Bill") == []


def test_a_lost_answer_leaves_a_bill_the_search_finds_and_a_second_create_is_refused(asandbox):
    conn = connect(asandbox)
    conn.create(supplier_bill(reference="INV-1"), ACCOUNTS, "first")  # the vendor known: the create is one PUT
    doc = supplier_bill()
    asandbox.faults.add("lost_response")
    with pytest.raises(SyncError):
        conn.create(doc, ACCOUNTS, "b")
    found = conn.find_existing(doc, ACCOUNTS)
    assert found is not None and found.adopted and (found.total, found.balance) == (D("200.00"), D("200.00"))
    assert found.raw["Status"] == "Open"
    with pytest.raises(SyncError):
        conn.create(doc, ACCOUNTS, "b2")
    assert [r.data["VendorRef"] for r in asandbox.store.rows("Bill")] == ["INV-1", "INV-7788"]
    other_supplier = dataclasses.replace(doc, supplier="Another Supplier")
    assert conn.find_existing(other_supplier, ACCOUNTS) is None  # the same number from another vendor is not ours


def test_a_bill_edited_while_open_is_reversed_and_sent_again(asandbox):
    conn = connect(asandbox)
    doc = supplier_bill()
    made = conn.create(doc, ACCOUNTS, "b")
    smaller = dataclasses.replace(doc, lines=doc.lines[:1], subtotal=D("100.00"), total=D("110.00"))
    updated = conn.update(smaller, ACCOUNTS, RemoteRef(made.remote_id, made.version), "u")
    assert updated.remote_id != made.remote_id and (updated.total, updated.balance) == (D("110.00"), D("110.00"))
    assert conn.fetch(Entity.BILL, made.remote_id).status == "voided"


# -- through the pipeline -----------------------------------------------------------------------------------------
@pytest.fixture
def books(org, request):
    harness = PlatformHarness("acumatica", request.getfixturevalue("asandbox"), POOL)
    harness.reset()
    harness.rates = {name: f.TaxRateFactory(organization=org, name=name, rate=D(rate))
                     for name, rate in (("GST 10%", "10"), ("Exempt", "0"))}
    harness.conn = harness.connect(org)
    return harness


def ledger_bill(books, org, lines=(("100.00", "GST 10%"), ("90.00", "Exempt"))):
    with transaction.atomic():
        bill = f.BillFactory(organization=org, number="BILL-1001", supplier="Acme Supplies",
                             supplier_reference="INV-7788", date=DATE, due_date=DUE)
        for position, (amount, rate) in enumerate(lines):
            f.BillLineFactory(bill=bill, position=position, amount=D(amount), tax_rate=books.rates.get(rate))
    return bill


@pytest.mark.django_db
def test_the_pipeline_sends_a_bill_that_stays_open(books, org):
    bill = ledger_bill(books, org)
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    ref = books.ref(books.conn, bill)
    held = books.remote(books.conn, bill)
    assert (held.total, held.balance, held.number) == (D("200.00"), D("200.00"), "INV-7788")
    assert ref.entity == Entity.BILL and held.raw["Status"] == "Open"
    assert [(d["ExtendedCost"], d["TaxCategory"]) for d in held.raw["Details"]] == [(D("100.00"), "TAXABLE"),
                                                                                     (D("90.00"), "EXEMPT")]


@pytest.mark.django_db
def test_a_cost_kind_without_an_expense_account_stops_the_bill_before_sending(books, org):
    books.conn.mappings.filter(kind=MappingKind.EXPENSE_ACCOUNT).delete()
    bill = ledger_bill(books, org, (("200.00", None),))
    drain()
    stopped = OutboxEntry.objects.get(source_key=f"ledger.bill:{bill.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert "no expense account mapped for cost kind “supplier”" in stopped.last_error
    assert not ExternalReference.objects.filter(source_key=f"ledger.bill:{bill.pk}").exists()
    assert books.sandbox.store.rows("Bill") == []


def test_an_unchanged_bill_is_kept_and_a_new_due_date_sends_it_again(asandbox):
    conn = connect(asandbox)
    doc = supplier_bill()
    made = conn.create(doc, ACCOUNTS, "b")
    kept = conn.update(doc, ACCOUNTS, RemoteRef(made.remote_id, made.version), "u")
    assert kept.remote_id == made.remote_id
    later = conn.update(dataclasses.replace(doc, due_date=DUE + dt.timedelta(days=10)), ACCOUNTS,
                        RemoteRef(made.remote_id, made.version), "u2")
    assert later.remote_id != made.remote_id and later.raw["DueDate"][:10] == "2026-12-12"


def test_an_expense_numbered_as_a_suppliers_bill_is_not_taken_for_it(asandbox):
    """Both are Bills searched by VendorRef: the vendor tells them apart."""
    conn = connect(asandbox)
    conn.create(supplier_bill(reference="E-42"), ACCOUNTS, "b")
    spent = dataclasses.replace(expense("E-42", ("30.00",)), payee="Courier Co")
    assert conn.find_existing(spent, Mapping(line_accounts=("60100",), deposit_account="10200")) is None
