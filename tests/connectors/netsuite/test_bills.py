"""Supplier bills on NetSuite REST (issue 23): a ledger bill goes through the pipeline to the sandbox as a
``vendorbill`` owed to the supplier's vendor (found by name, else created), with the supplier's number as its
``tranId``, its due date, its lines on the mapped expense accounts with the tax NetSuite computes; it stays Open
(``amountRemaining`` its total) since no payment is made; a foreign-currency bill keeps its currency and rate; a
bill voided here is deleted there (record/v1 has no void); a create whose answer was lost is found by our external
id, not sent twice; and a cost kind without an expense account stops the bill before anything is sent."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, RemoteStatus
from accounting_sync.reconcile import engine
from accounting_sync.reconcile.models import DocumentCheck, Reason
from connectors.documents import Entity
from ledger.models import DocumentStatus
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.accounting_sync.reconcile.test_reconcile_returns_and_costs import variances
from tests.conftest import drain, entry_of, make_due
from tests.platforms import POOL, PlatformHarness, platform_sandboxes, sandbox_for  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db
D = Decimal
DATE, DUE = dt.date(2026, 11, 2), dt.date(2026, 12, 2)


class RestBills:
    """A NetSuite REST vendor bill read back through the connector (record/v1, sublists expanded)."""

    record = "vendorbill"
    #: the account "consumables" is mapped to, the demo chart's default expense account, A/P, the tax items, EUR
    consumables, default_expense, payable, sales_tax, exempt, euro = "60", "61", "111", "31", "32", "2"
    @staticmethod
    def lose_next_create(harness) -> None:
        """The answer of the bill's create is lost (not of the vendor's SuiteQL look-up before it)."""
        harness.sandbox.faults.add("lost_response", count=1, match="POST /record/v1/vendorbill")

    @staticmethod
    def number_of(row) -> str:
        return row.data.get("tranId")

    @staticmethod
    def exists(harness, remote_id: str) -> bool:
        return harness.sandbox.store.find("vendorbill", remote_id) is not None

    @staticmethod
    def delete_as_user(harness, remote_id: str) -> None:
        harness.sandbox.delete("vendorbill", remote_id)

    @staticmethod
    def vendor_name(harness, raw: dict) -> str:
        name = harness.sandbox.store.get("vendor", raw["entity"]["id"]).data["companyName"]
        assert raw["entity"]["refName"] == name  # record/v1 names the vendor the reference is
        return name

    @staticmethod
    def held(raw: dict) -> dict:
        return {"number": raw["tranId"], "due": str(raw["dueDate"])[:10], "payable": raw["account"]["id"],
                "status": raw["status"]["refName"], "currency": raw["currency"]["id"],
                "rate": D(str(raw["exchangeRate"])), "memo": raw["memo"],
                "lines": [(x["account"]["id"], D(str(x["amount"])), (x.get("taxCode") or {}).get("id"))
                          for x in raw["expense"]["items"]]}


@pytest.fixture
def books(request, org, platform_sandboxes):  # noqa: F811 - the pool fixture
    platform = getattr(request.module, "PLATFORM", "netsuite")
    harness = PlatformHarness(platform, sandbox_for(request, platform), POOL)
    harness.reset()
    f.TaxRateFactory(organization=org, name="GST 10%", rate=D("10"))
    f.TaxRateFactory(organization=org, name="Exempt", rate=D("0"))
    harness.conn = harness.connect(org)
    read = getattr(request.module, "READ", RestBills)
    f.MappingFactory(connection=harness.conn, kind=MappingKind.EXPENSE_ACCOUNT, scope=Scope.COST_KIND,
                     local_value="consumables", remote_id=read.consumables)
    harness.read = read
    yield harness
    harness.clear_faults()


def supplier_bill(org, *, reference="INV-7788", currency="USD", rate=None, lines=None):
    gst, exempt = (f.TaxRateFactory._meta.model.objects.get(organization=org, name=n) for n in ("GST 10%", "Exempt"))
    with transaction.atomic():
        bill = f.BillFactory(organization=org, number="BILL-1001", supplier="Acme Supplies",
                             supplier_reference=reference, date=DATE, due_date=DUE, memo="Packaging for November",
                             currency=currency, exchange_rate=rate)
        for kind, amount, tax in lines or (("consumables", "100.00", gst), ("supplier", "90.00", exempt)):
            f.BillLineFactory(bill=bill, cost_kind=kind, description=f"{kind} line", amount=D(amount), tax_rate=tax)
    return bill


def test_a_bill_of_200_in_two_lines_with_tax_is_open_for_its_total(books, org):
    bill = supplier_bill(org)
    drain()
    assert entry_of(bill).status == EntryStatus.DONE
    result = books.remote(books.conn, bill)
    read = books.read
    held = read.held(result.raw)
    assert result.total == D("200.00") and result.balance == D("200.00")  # 100 + 10 tax + 90, nothing paid
    assert held["number"] == "INV-7788" and held["due"] == "2026-12-02" and held["status"] == "Open"
    assert held["payable"] == read.payable and "BILL-1001" in held["memo"]
    assert held["lines"] == [(read.consumables, D("100.00"), read.sales_tax),
                             (read.default_expense, D("90.00"), read.exempt)]
    assert read.vendor_name(books, result.raw) == "Acme Supplies"
    # a second bill of the same supplier is owed to the same vendor, not a new one
    with transaction.atomic():
        other = f.BillFactory(organization=org, number="BILL-1002", supplier="Acme Supplies",
                              supplier_reference="", date=DATE, due_date=DUE)
        f.BillLineFactory(bill=other, cost_kind="supplier", amount=D("15.00"))
    drain()
    second = books.remote(books.conn, other)
    assert read.held(second.raw)["number"] == "BILL-1002"  # no supplier's number: ours
    assert read.vendor_name(books, second.raw) == "Acme Supplies"
    assert books.ref(books.conn, other).remote_id != books.ref(books.conn, bill).remote_id
    vendors = [r for r in books.sandbox.store.rows("vendor") if r.data.get("companyName") == "Acme Supplies"]
    assert len(vendors) == 1


def test_a_foreign_currency_bill_keeps_its_currency_and_rate(books, org):
    bill = supplier_bill(org, currency="EUR", rate=D("1.08"), lines=(("consumables", "50.00", None),))
    drain()
    assert entry_of(bill).status == EntryStatus.DONE
    result = books.remote(books.conn, bill)
    held = books.read.held(result.raw)
    assert held["currency"] == books.read.euro and held["rate"] == D("1.08")
    assert result.total == result.balance == D("50.00") and result.home_total == D("54.00")


def test_a_bill_voided_here_is_deleted_there(books, org):
    bill = supplier_bill(org)
    drain()
    remote_id = books.ref(books.conn, bill).remote_id
    bill.status = DocumentStatus.VOID
    bill.save()
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    assert not books.read.exists(books, remote_id)
    assert books.ref(books.conn, bill).remote_status == RemoteStatus.DELETED
    assert Entity.BILL in books.capabilities.delete and Entity.BILL not in books.capabilities.void


def test_a_lost_create_is_found_by_search_and_not_sent_twice(books, org):
    warm = supplier_bill(org, reference="WARM-1")
    drain()  # the vendor exists now: the bill's create is the first write
    assert entry_of(warm).status == EntryStatus.DONE
    with transaction.atomic():
        bill = f.BillFactory(organization=org, number="BILL-2001", supplier="Acme Supplies",
                             supplier_reference="INV-9", date=DATE, due_date=DUE)
        f.BillLineFactory(bill=bill, cost_kind="supplier", amount=D("70.00"))
    books.clear_faults()
    books.read.lose_next_create(books)
    drain()
    # the platform made it; we never heard back
    made = [r for r in books.sandbox.store.rows(books.read.record) if books.read.number_of(r) == "INV-9"]
    assert len(made) == 1 and entry_of(bill).status != EntryStatus.DONE
    books.sandbox.faults.clear()
    make_due()
    drain()
    assert entry_of(bill).status == EntryStatus.DONE
    held = [r for r in books.sandbox.store.rows(books.read.record) if books.read.number_of(r) == "INV-9"]
    assert len(held) == 1 and books.ref(books.conn, bill).remote_id == held[0].id
    assert books.remote(books.conn, bill).total == D("70.00")


def test_a_cost_kind_without_an_expense_account_stops_the_bill_before_sending(books, org):
    books.conn.mappings.filter(kind=MappingKind.EXPENSE_ACCOUNT).delete()
    bill = supplier_bill(org)
    drain()
    stopped = OutboxEntry.objects.get(source_key=f"ledger.bill:{bill.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert "no expense account mapped for cost kind “consumables”" in stopped.last_error
    assert not ExternalReference.objects.filter(source_key=f"ledger.bill:{bill.pk}").exists()
    assert not books.sandbox.store.rows(books.read.record)


def test_a_bill_is_reconciled_and_one_deleted_there_is_the_variance(books, org):
    bill = supplier_bill(org)
    drain()
    run = engine.run(books.conn)
    assert variances(run) == {}
    check = DocumentCheck.objects.get(connection=books.conn, source_key=f"ledger.bill:{bill.pk}")
    assert check.equal and check.entity == Entity.BILL
    books.read.delete_as_user(books, books.ref(books.conn, bill).remote_id)
    found = variances(engine.run(books.conn))
    variance = found.pop(("ledger.bill", "exists"))
    assert variance.reason == Reason.DELETED_REMOTELY and variance.entity == Entity.BILL and found == {}
