"""Supplier bills on Zoho Books (issue 23): a ledger bill goes through the pipeline to the sandbox as a Zoho bill
(``/bills``: ``vendor_id``, ``bill_number`` the supplier's, our number in ``reference_number``, lines on the mapped
expense accounts with their ``tax_id``), stays open with nothing paid, is voided when voided here, and a create
whose answer was lost is found by our number before anything is sent again."""
from __future__ import annotations

from decimal import Decimal

import pytest

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, RemoteStatus
from connectors.documents import Entity, Mapping, RemoteRef
from connectors.errors import DuplicateError, RetryableError
from ledger.models import DocumentStatus
from mappings.models import MappingKind
from tests import factories as f
from tests import platforms
from tests.accounting_sync.policies.test_returns_every_platform import (accounts, all_done, held, legs, rates,
                                                                        reconciled, ref_of, sides)
from tests.conftest import drain
from tests.connectors.contract import bill as contract_bill

pytestmark = pytest.mark.django_db
harness, platform_sandboxes = platforms.harness, platforms.platform_sandboxes
D = Decimal
DATE, DUE = f.BILL_DATE, f.BILL_DUE
__all__ = ["rates"]  # a fixture, used by name


@pytest.fixture
def platform() -> str:
    return "zoho"


@pytest.fixture
def conn(harness, org, rates):
    return harness.connect(org)


def supplier_bill(org, rates, **kwargs):
    """200.00 owed: 120.00 taxed at GST 10% (12.00) and 68.00 exempt."""
    return f.two_line_bill(org, rates["gst"], rates["exempt"], **kwargs)


def test_a_bill_of_200_in_two_taxed_lines_is_an_open_zoho_bill(conn, org, rates, zoho_sandbox):
    bill = supplier_bill(org, rates)
    drain()
    all_done()
    found = held(conn, Entity.BILL, bill)
    assert found.status == "active" and found.total == D("200.00") and found.balance == D("200.00")
    raw = found.raw
    assert raw["status"] == "open" and raw["bill_number"] == "INV-7788" and raw["reference_number"] == "BILL-1001"
    assert raw["vendor_name"] == "Acme Supplies" and raw["due_date"] == "2026-12-02" and raw["tax_total"] == D("12")
    expense = accounts(conn)[conn.connector().demo_chart.expense]
    assert [(line["account_id"], D(str(line["rate"])), line["tax_name"]) for line in raw["line_items"]] == [
        (expense, D("120.00"), "GST 10%"), (expense, D("68.00"), "Exempt")]
    vendor = zoho_sandbox.store.get("contacts", raw["vendor_id"]).data
    assert vendor["contact_type"] == "vendor"
    entry = legs(conn, bill)
    assert sides(entry)[0] == (expense, D("120.00"), D("0.00")) and entry.debits == entry.credits == D("200.00")
    reconciled(conn, bill)


def test_a_foreign_currency_bill_carries_its_currency_and_rate(conn, org, rates):
    bill = supplier_bill(org, rates, currency="EUR", rate=D("1.10"))
    drain()
    all_done()
    found = held(conn, Entity.BILL, bill)
    assert found.raw["currency_code"] == "EUR" and D(str(found.raw["exchange_rate"])) == D("1.10")
    assert found.total == D("200.00") and found.balance == D("200.00") and found.home_total == D("220.00")
    reconciled(conn, bill)


def test_a_bill_voided_here_is_voided_there(conn, org, rates):
    bill = supplier_bill(org, rates)
    drain()
    bill.status = DocumentStatus.VOID
    bill.save()
    drain()
    all_done()
    found = held(conn, Entity.BILL, bill)
    assert found.status == "voided" and found.raw["status"] == "void" and found.balance == D("0.00")
    assert ref_of(conn, bill).remote_status == RemoteStatus.VOIDED
    reconciled(conn, bill)


def test_a_bill_deleted_through_the_connector_is_gone(conn, org, rates, zoho_sandbox):
    bill = supplier_bill(org, rates)
    drain()
    ref = ref_of(conn, bill)
    conn.connector().delete(Entity.BILL, RemoteRef(ref.remote_id, ref.remote_version), "k")
    assert zoho_sandbox.store.find("bills", ref.remote_id) is None


def test_a_bill_whose_answer_was_lost_is_found_by_our_number_not_sent_twice(conn, zoho_sandbox):
    connector = conn.connector()
    chart = accounts(conn)
    doc = contract_bill("BILL-LOST", ("150.00", "50.00"))
    mapping = Mapping(line_accounts=(chart[connector.demo_chart.expense],) * 2)
    connector.create(contract_bill("BILL-WARM"), mapping, "k0")  # the supplier is known now: the create is lost
    zoho_sandbox.faults.add("lost_response")
    with pytest.raises(RetryableError):
        connector.create(doc, mapping, "k1")
    found = connector.find_existing(doc, mapping)
    assert found is not None and found.adopted and found.total == D("200.00") and found.balance == D("200.00")
    assert [r.id for r in zoho_sandbox.store.rows("bills") if r.data["reference_number"] == "BILL-LOST"] == [
        found.remote_id]


def test_the_same_supplier_bill_number_twice_for_one_vendor_is_refused(conn, zoho_sandbox):
    """Zoho keeps a vendor's bill numbers unique (guessed code 1001): the connector raises a duplicate, so the
    pipeline searches by our number before sending again."""
    connector = conn.connector()
    mapping = Mapping(line_accounts=(accounts(conn)[connector.demo_chart.expense],))
    connector.create(contract_bill("BILL-A"), mapping, "k1")
    with pytest.raises(DuplicateError):
        connector.create(contract_bill("BILL-A"), mapping, "k2")


def test_a_bill_line_without_an_expense_account_waits_for_its_mapping(conn, org, rates):
    conn.mappings.filter(kind=MappingKind.EXPENSE_ACCOUNT).delete()
    bill = supplier_bill(org, rates)
    drain()
    stopped = OutboxEntry.objects.get(source_key=f"ledger.bill:{bill.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert "no expense account mapped for cost kind “supplier”" in stopped.last_error
    assert not ExternalReference.objects.filter(source_key=f"ledger.bill:{bill.pk}").exists()
