"""Supplier bills on Sage Business Cloud Accounting (issue 23): a ledger bill goes through the pipeline to the
sandbox as a purchase invoice (``/purchase_invoices``: a VENDOR contact, ``vendor_reference`` the supplier's number,
our number as ``reference``, ``invoice_lines`` on the mapped expense ledgers with their ``tax_rate_id``), stays
unpaid with nothing paid, is deleted when voided here (Sage's DELETE of a purchase invoice takes no void reason),
and a create whose answer was lost is found by our reference before anything is sent again."""
from __future__ import annotations

from decimal import Decimal

import pytest

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, RemoteStatus
from connectors.documents import Entity, Mapping
from connectors.errors import RetryableError
from connectors.sage import costs
from ledger.models import DocumentStatus
from mappings.models import MappingKind
from tests import factories as f
from tests import platforms
from tests.accounting_sync.policies.test_returns_every_platform import (accounts, all_done, held, legs, rates,
                                                                        reconciled, ref_of, sides)
from tests.conftest import drain
from tests.connectors.contract import bill as contract_bill
from tests.connectors.sage.test_sandbox import Sage, check

pytestmark = pytest.mark.django_db
harness, platform_sandboxes = platforms.harness, platforms.platform_sandboxes
D = Decimal
DATE, DUE = f.BILL_DATE, f.BILL_DUE
__all__ = ["rates"]  # a fixture, used by name


@pytest.fixture
def platform() -> str:
    return "sage"


@pytest.fixture
def conn(harness, org, rates):
    return harness.connect(org)


def supplier_bill(org, rates, **kwargs):
    """200.00 owed: 120.00 taxed at GST 10% (12.00) and 68.00 exempt."""
    return f.two_line_bill(org, rates["gst"], rates["exempt"], **kwargs)


def test_a_bill_of_200_in_two_taxed_lines_is_an_unpaid_purchase_invoice(conn, org, rates, sage_sandbox):
    bill = supplier_bill(org, rates)
    drain()
    all_done()
    found = held(conn, Entity.BILL, bill)
    assert found.status == "active" and found.total == D("200.00") and found.balance == D("200.00")
    raw = found.raw
    assert raw["status"]["id"] == "UNPAID" and raw["vendor_reference"] == "INV-7788" and raw["reference"] == "BILL-1001"
    assert raw["contact_name"] == "Acme Supplies" and raw["due_date"] == "2026-12-02"
    assert D(str(raw["tax_amount"])) == D("12.00")
    expense = accounts(conn)[conn.connector().demo_chart.expense]
    assert [(line["ledger_account"]["id"], D(str(line["unit_price"])), line["tax_rate"]["displayed_as"])
            for line in raw["invoice_lines"]] == [(expense, D("120.00"), "GST 10%"), (expense, D("68.00"), "Exempt")]
    supplier = sage_sandbox.store.get("contacts", raw["contact"]["id"]).data
    assert [t["id"] for t in supplier["contact_types"]] == ["VENDOR"]
    entry = legs(conn, bill)
    assert sides(entry)[0] == (expense, D("120.00"), D("0.00")) and entry.debits == entry.credits == D("200.00")
    reconciled(conn, bill)


def test_a_foreign_currency_bill_carries_its_currency_and_rate(conn, org, rates):
    bill = supplier_bill(org, rates, currency="EUR", rate=D("1.10"))
    drain()
    all_done()
    found = held(conn, Entity.BILL, bill)
    assert found.raw["currency"]["id"] == "EUR" and D(str(found.raw["exchange_rate"])) == D("1.10")
    assert found.total == D("200.00") and found.balance == D("200.00") and found.home_total == D("220.00")
    reconciled(conn, bill)


def test_a_bill_voided_here_is_deleted_there(conn, org, rates, sage_sandbox):
    bill = supplier_bill(org, rates)
    drain()
    remote_id = ref_of(conn, bill).remote_id
    bill.status = DocumentStatus.VOID
    bill.save()
    drain()
    all_done()
    assert held(conn, Entity.BILL, bill) is None and sage_sandbox.store.find("purchase_invoices", remote_id) is None
    assert ref_of(conn, bill).remote_status == RemoteStatus.DELETED
    reconciled(conn, bill)


def test_a_bill_whose_answer_was_lost_is_found_by_our_reference_not_sent_twice(conn, sage_sandbox):
    connector = conn.connector()
    mapping = Mapping(line_accounts=(accounts(conn)[connector.demo_chart.expense],) * 2)
    connector.create(contract_bill("BILL-WARM"), mapping, "k0")  # the supplier is known now: the create is lost
    doc = contract_bill("BILL-LOST", ("150.00", "50.00"))
    sage_sandbox.faults.add("lost_response")
    with pytest.raises(RetryableError):
        connector.create(doc, mapping, "k1")
    found = connector.find_existing(doc, mapping)
    assert found is not None and found.adopted and found.total == D("200.00") and found.balance == D("200.00")
    assert [r.id for r in sage_sandbox.store.rows("purchase_invoices") if r.data["reference"] == "BILL-LOST"] == [
        found.remote_id]


def test_a_bill_line_without_an_expense_account_waits_for_its_mapping(conn, org, rates):
    conn.mappings.filter(kind=MappingKind.EXPENSE_ACCOUNT).delete()
    bill = supplier_bill(org, rates)
    drain()
    stopped = OutboxEntry.objects.get(source_key=f"ledger.bill:{bill.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert "no expense account mapped for cost kind “supplier”" in stopped.last_error
    assert not ExternalReference.objects.filter(source_key=f"ledger.bill:{bill.pk}").exists()


def test_the_bill_body_and_the_answer_match_sages_description(sage_sandbox):
    """Our purchase invoice against ``postPurchaseInvoices``, the sandbox's answer against ``PurchaseInvoice``; a
    customer is not a supplier, and Sage asks for a due date."""
    sage = Sage(sage_sandbox)
    ledger = sage.named("ledger_accounts", "Postage and Shipping")["id"]
    vendor = sage.ok("POST", "contacts", body={"contact": {"name": "Acme", "contact_type_ids": ["VENDOR"]}})["id"]
    body = {"purchase_invoice": costs.bill_payload(contract_bill("B-9", ("20.00",)), Mapping(line_accounts=(ledger,)),
                                                   vendor)}
    check("postPurchaseInvoices", body)
    made = sage.ok("POST", "purchase_invoices", body=body)
    check("PurchaseInvoice", made)
    assert made["outstanding_amount"] == made["total_amount"] == D("20.00") and made["status"]["id"] == "UNPAID"
    customer = sage.ok("POST", "contacts", body={"contact": {"name": "Buyer", "contact_type_ids": ["CUSTOMER"]}})["id"]
    sage.refused("POST", "purchase_invoices", 422, body={"purchase_invoice": {**body["purchase_invoice"],
                                                                              "contact_id": customer}})
    undated = {k: v for k, v in body["purchase_invoice"].items() if k != "due_date"}
    sage.refused("POST", "purchase_invoices", 422, body={"purchase_invoice": undated})
