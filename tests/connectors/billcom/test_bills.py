"""Supplier bills on Bill.com (issue 23): the same ``bills`` record as an expense's, for the supplier (a vendor found
or made by name), the supplier's number as ``invoice.invoiceNumber``, its due date, no paid-from account and no
recorded payment: it stays UNPAID, its ``dueAmount`` its total. Bill.com voids and deletes no bill: it is archived
(declared as a delete). A lost answer's bill is found by vendor and number (Bill.com takes a second bill with the
same number). Bill.com bills here are in US dollars: a foreign-currency bill stops before sending."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import transaction

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, RemoteStatus
from accounting_sync.reconcile import engine
from accounting_sync.reconcile.models import DocumentCheck, Reason, RunStatus, Variance, VarianceStatus
from connectors.billcom.connector import BillcomConnector
from connectors.documents import BillSnapshot, Entity, ExpenseLineSnapshot, Mapping
from connectors.errors import SyncError
from ledger.models import DocumentStatus
from mappings.models import MappingKind
from tests import factories as f
from tests.conftest import drain
from tests.platforms import POOL, PlatformHarness, next_second, sandbox_for

D = Decimal
DATE, DUE = dt.date(2026, 11, 2), dt.date(2026, 12, 2)
pytestmark = pytest.mark.django_db


@pytest.fixture
def books(request, org):
    harness = PlatformHarness("billcom", sandbox_for(request, "billcom"), POOL)
    harness.reset()
    harness.rates = {name: f.TaxRateFactory(organization=org, name=name, rate=D(rate))
                     for name, rate in (("GST 10%", "10"), ("Exempt", "0"))}
    harness.conn = harness.connect(org)
    harness.names = {r.data["name"]: r.id for r in harness.sandbox.store.rows("chart-of-accounts")}
    return harness


def ledger_bill(books, org, lines=(("100.00", "GST 10%"), ("90.00", "Exempt")), **fields):
    with transaction.atomic():
        bill = f.BillFactory(organization=org, **{"number": "BILL-1001", "supplier": "Acme Supplies",
                                                  "supplier_reference": "INV-7788", "date": DATE, "due_date": DUE,
                                                  "memo": "Packaging for November", **fields})
        for position, (amount, rate) in enumerate(lines):
            f.BillLineFactory(bill=bill, position=position, amount=D(amount), tax_rate=books.rates.get(rate))
    return bill


def ref_of(books, bill) -> ExternalReference:
    return ExternalReference.objects.get(connection=books.conn, source_key=f"ledger.bill:{bill.pk}")


def test_a_bill_of_200_in_two_lines_with_tax_stays_unpaid_and_is_reconciled(books, org):
    bill = ledger_bill(books, org)
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    held = books.conn.connector().fetch(Entity.BILL, ref_of(books, bill).remote_id)
    assert (held.total, held.balance, held.number) == (D("200.00"), D("200.00"), "INV-7788")
    raw = held.raw
    assert (raw["dueAmount"], raw["paymentStatus"], raw["dueDate"]) == (D("200.00"), "UNPAID", "2026-12-02")
    assert raw["invoice"] == {"invoiceNumber": "INV-7788", "invoiceDate": "2026-11-02"}
    assert "payFromChartOfAccountId" not in raw and books.sandbox.store.rows("sent-payments") == []
    assert raw["description"] == "Bill BILL-1001 — Packaging for November"
    office = books.names["Office Supplies"]  # the demo chart's expense account
    assert [(line["amount"], line.get("classifications", {}).get("chartOfAccountId"))
            for line in raw["billLineItems"]] == [(D("100.00"), office), (D("90.00"), office), (D("10.00"), None)]
    [vendor] = books.sandbox.store.rows("vendors")
    assert vendor.data["name"] == "Acme Supplies" and raw["vendorId"] == vendor.id

    run = engine.run(books.conn)
    assert run.status == RunStatus.DONE, run.error
    assert not Variance.objects.filter(connection=books.conn, status=VarianceStatus.OPEN).exists()
    assert DocumentCheck.objects.get(connection=books.conn, source_key=f"ledger.bill:{bill.pk}").equal


def test_a_bill_in_a_foreign_currency_stops_before_sending(books, org):
    bill = ledger_bill(books, org, currency="EUR", exchange_rate=D("1.08"))
    drain()
    stopped = OutboxEntry.objects.get(source_key=f"ledger.bill:{bill.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert "does not accept EUR (it takes USD)" in stopped.last_error
    assert books.sandbox.store.rows("bills") == [] and books.sandbox.store.rows("vendors") == []


def test_a_bill_voided_here_is_archived_there(books, org):
    bill = ledger_bill(books, org)
    drain()
    remote_id = ref_of(books, bill).remote_id
    bill.status = DocumentStatus.VOID
    bill.save()
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    assert books.sandbox.store.get("bills", remote_id).data["archived"] is True
    assert ref_of(books, bill).remote_status == RemoteStatus.DELETED
    [read] = books.conn.connector().read_documents(Entity.BILL, [remote_id])
    assert read.status == "deleted"


def test_a_bill_archived_there_is_polled_and_is_the_variance(books, org):
    bill = ledger_bill(books, org)
    drain()
    remote_id = ref_of(books, bill).remote_id
    connector = books.conn.connector()
    since = dt.datetime.now(dt.UTC)
    next_second()
    books.take_back(Entity.BILL, remote_id)
    next_second()
    changes, _ = connector.changes_since([Entity.EXPENSE, Entity.BILL], since)
    assert {(c.entity, c.remote_id, c.operation) for c in changes} == {
        (Entity.BILL, remote_id, "delete"), (Entity.EXPENSE, remote_id, "delete")}  # one list for both
    run = engine.run(books.conn)
    [variance] = Variance.objects.filter(connection=books.conn, status=VarianceStatus.OPEN)
    assert run.status == RunStatus.DONE and variance.reason == Reason.DELETED_REMOTELY
    assert variance.entity == Entity.BILL


def test_a_lost_answer_leaves_a_bill_the_search_finds(books, org):
    connector = books.conn.connector()
    office = books.names["Office Supplies"]
    lines = (ExpenseLineSnapshot("supplier", "Boxes", D("120.00"), D("0.00")),
             ExpenseLineSnapshot("supplier", "Tape", D("80.00"), D("0.00")))
    doc = BillSnapshot(key="test.bill:1", organization_id=1, number="BILL-7", supplier="Acme Supplies",
                       supplier_reference="INV-9", issue_date=DATE, due_date=DUE, lines=lines,
                       subtotal=D("200.00"), total=D("200.00"))
    accounts = Mapping(line_accounts=(office, office))
    assert connector.find_existing(doc, accounts) is None  # no vendor yet: nothing to find
    connector.create(replace(doc, key="test.bill:0", number="BILL-6", supplier_reference="INV-8"), accounts, "first")
    books.sandbox.faults.add("lost_response")
    with pytest.raises(SyncError):
        connector.create(doc, accounts, "b")
    found = connector.find_existing(doc, accounts)
    assert found is not None and found.adopted and (found.total, found.balance, found.number) == (
        D("200.00"), D("200.00"), "INV-9")
    assert len(books.sandbox.store.rows("bills")) == 2


def test_a_cost_kind_without_an_expense_account_stops_the_bill_before_sending(books, org):
    books.conn.mappings.filter(kind=MappingKind.EXPENSE_ACCOUNT).delete()
    bill = ledger_bill(books, org, (("200.00", None),))
    drain()
    stopped = OutboxEntry.objects.get(source_key=f"ledger.bill:{bill.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert "no expense account mapped for cost kind “supplier”" in stopped.last_error
    assert books.sandbox.store.rows("bills") == []


def test_bills_are_declared_deleted_not_voided():
    caps = BillcomConnector.capabilities
    assert Entity.BILL in caps.entities and Entity.BILL in caps.delete and Entity.BILL not in caps.void
