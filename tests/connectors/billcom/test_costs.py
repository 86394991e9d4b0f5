"""Expenses on the Bill.com sandbox as Bill.com's accounts payable models them (issue 23): a bill for the payee
(a vendor) recorded as paid outside Bill.com; a recorded payment cannot exceed what is due, a bill's total cannot
fall below what was paid, a bill belongs to its vendor; and the connector's payload says it that way (our tax as a
last line, the paid-from account as the bill's payFromChartOfAccountId). Refunds and journals are not declared: the
product's fallback applies (entered by hand)."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry
from accounting_sync.policies import preflight
from accounting_sync.reconcile import engine
from accounting_sync.reconcile.models import DocumentCheck, RunStatus, Variance, VarianceStatus
from accounting_sync.staff import glpreview
from connectors.billcom import costs as c
from connectors.billcom.connector import BillcomConnector
from connectors.documents import Entity, ExpenseLineSnapshot, ExpenseSnapshot, Mapping
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.conftest import drain
from tests.connectors.billcom.test_sandbox import Bill, error_code
from tests.platforms import POOL, PlatformHarness, next_second, sandbox_for

D = Decimal


@pytest.fixture
def api(bsandbox):
    return Bill(bsandbox)


def accounts(api) -> dict[str, str]:
    return {row["name"]: row["id"] for row in api.ok("GET", "classifications/chart-of-accounts")["results"]}


def a_bill(api, vendor, number="EXP-1", amounts=("50.00",)):
    names = accounts(api)
    return api.call("POST", "bills", {
        "vendorId": vendor, "dueDate": "2026-12-03", "invoice": {"invoiceNumber": number, "invoiceDate": "2026-12-03"},
        "payFromChartOfAccountId": names["Business Checking"],
        "billLineItems": [{"amount": a, "description": f"Cost {i}",
                           "classifications": {"chartOfAccountId": names["Office Supplies"]}}
                          for i, a in enumerate(amounts)]})


def test_a_bill_recorded_as_paid_has_nothing_due_and_cannot_be_paid_twice(api):
    vendor = api.ok("POST", "vendors", {"name": "Parcel Express", "accountType": "BUSINESS"})["id"]
    assert vendor.startswith("009")
    made = a_bill(api, vendor, amounts=("50.00", "5.00"))
    assert made.status_code == 200 and made.body["id"].startswith("00n"), made.text
    assert (made.body["amount"], made.body["dueAmount"], made.body["paymentStatus"]) == (D("55.00"), D("55.00"),
                                                                                         "UNPAID")
    paid = {"vendorId": vendor, "processDate": "2026-12-03", "payments": [{"billId": made.body["id"], "amount": 55}]}
    assert api.call("POST", "bills/record-payment", paid).status_code == 200
    after = api.ok("GET", f"bills/{made.body['id']}")
    assert (after["dueAmount"], after["paidAmount"], after["paymentStatus"]) == (D("0.00"), D("55.00"), "PAID")
    again = api.call("POST", "bills/record-payment", paid)
    assert again.status_code == 400 and "due amount" in again.body[0]["message"] and error_code(again)


def test_a_bills_total_cannot_fall_below_what_was_paid_and_a_bill_is_its_vendors(api):
    vendor = api.ok("POST", "vendors", {"name": "Parcel Express"})["id"]
    other = api.ok("POST", "vendors", {"name": "Courier Co"})["id"]
    made = a_bill(api, vendor).body
    wrong = api.call("POST", "bills/record-payment", {"vendorId": other, "processDate": "2026-12-03",
                                                      "payments": [{"billId": made["id"], "amount": 10}]})
    assert wrong.status_code == 400 and "same vendor" in wrong.body[0]["message"]
    api.ok("POST", "bills/record-payment", {"vendorId": vendor, "processDate": "2026-12-03",
                                            "payments": [{"billId": made["id"], "amount": 50}]})
    lower = api.call("PATCH", f"bills/{made['id']}", {"billLineItems": [{"amount": "40.00", "description": "x"}]})
    assert lower.status_code == 400 and "already paid" in lower.body[0]["message"]
    higher = api.ok("PATCH", f"bills/{made['id']}", {"billLineItems": [{"amount": "60.00", "description": "x"}]})
    assert (higher["amount"], higher["dueAmount"], higher["paymentStatus"]) == (D("60.00"), D("10.00"), "PARTIAL")
    assert a_bill(api, "00901NOSUCHVENDOR").status_code == 400
    no_number = api.call("POST", "bills", {"vendorId": vendor, "dueDate": "2026-12-03",
                                           "billLineItems": [{"amount": 1}]})
    assert no_number.status_code == 400 and "invoiceNumber" in no_number.body[0]["message"]


def test_the_payload_puts_tax_on_a_last_line_and_pays_from_the_mapped_account():
    day = dt.date(2026, 12, 3)
    doc = ExpenseSnapshot(key="e", organization_id=1, number="EXP-1", payee="Parcel Express", date=day,
                          attachment="receipts/0042.pdf", tax_total=D("5.00"), total=D("55.00"), lines=(
                              ExpenseLineSnapshot("return_shipping", "", D("50.00"), D("5.00"), tax_rate_key="gst"),))
    body = c.expense_payload(doc, Mapping(line_accounts=("0ca-freight",), deposit_account="0ca-bank"), "009-v")
    assert body["billLineItems"] == [
        {"amount": D("50.00"), "description": "return shipping",
         "classifications": {"chartOfAccountId": "0ca-freight"}},
        {"amount": D("5.00"), "description": "Tax"}]
    assert (body["vendorId"], body["payFromChartOfAccountId"], body["invoice"], body["dueDate"]) == (
        "009-v", "0ca-bank", {"invoiceNumber": "EXP-1", "invoiceDate": "2026-12-03"}, "2026-12-03")
    assert body["description"] == "Receipt: receipts/0042.pdf"
    assert c.expense_problems(doc) == []
    nobody = ExpenseSnapshot(key="e", organization_id=1, number="EXP-2", payee=" ", date=day)
    assert "names no payee" in c.expense_problems(nobody)[0]


def test_refunds_and_journals_are_not_declared_so_the_product_falls_back():
    caps = BillcomConnector.capabilities
    assert Entity.EXPENSE in caps.entities and Entity.EXPENSE in caps.delete and Entity.EXPENSE not in caps.void
    assert not {Entity.REFUND, Entity.JOURNAL} & caps.entities and not caps.kept_lines
    assert Entity.EXPENSE in BillcomConnector.reconcile_entities


@pytest.fixture
def books(request, org):
    harness = PlatformHarness("billcom", sandbox_for(request, "billcom"), POOL)
    harness.reset()
    harness.gst = f.TaxRateFactory(organization=org, name="GST 10%", rate=D("10"))
    f.TaxRateFactory(organization=org, name="Exempt", rate=D("0"))
    harness.conn = harness.connect(org)
    return harness


def source_key(obj) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


@pytest.mark.django_db
def test_an_expense_with_tax_goes_out_as_a_paid_bill_and_is_reconciled(books, org):
    conn = books.conn
    names = {r.data["name"]: r.id for r in books.sandbox.store.rows("chart-of-accounts")}
    f.MappingFactory(connection=conn, kind=MappingKind.PAID_FROM_ACCOUNT, scope=Scope.PAYMENT_METHOD,
                     local_value="card", remote_id=names["Business Checking"])
    with transaction.atomic():
        expense = f.ExpenseFactory(organization=org, paid_from="card", payee="Parcel Express")
        f.ExpenseLineFactory(expense=expense, cost_kind="return_shipping", amount=D("50.00"), tax_rate=books.gst)
    drain()
    ref = ExternalReference.objects.get(connection=conn, source_key=source_key(expense))
    held = conn.connector().fetch(Entity.EXPENSE, ref.remote_id)
    assert (held.total, held.number) == (D("55.00"), expense.number)
    assert (held.raw["dueAmount"], held.raw["paymentStatus"]) == (D("0.00"), "PAID")
    assert held.raw["payFromChartOfAccountId"] == names["Business Checking"]
    assert [(line["amount"], line.get("classifications", {}).get("chartOfAccountId"))
            for line in held.raw["billLineItems"]] == [(D("50.00"), names["Office Supplies"]), (D("5.00"), None)]
    [vendor] = books.sandbox.store.rows("vendors")
    assert vendor.data["name"] == "Parcel Express" and held.raw["vendorId"] == vendor.id

    entry = glpreview.preview(conn, source_key(expense), preflight.reference_data(conn, conn.connector(),
                                                                                  refresh=True))
    assert entry.balanced and entry.lines[-1].account_id == names["Business Checking"]

    run = engine.run(conn)
    assert run.status == RunStatus.DONE, run.error
    assert not Variance.objects.filter(connection=conn, status=VarianceStatus.OPEN).exists()
    assert DocumentCheck.objects.get(connection=conn, source_key=source_key(expense)).equal


@pytest.mark.django_db
def test_an_expense_voided_here_archives_its_bill(books, org):
    with transaction.atomic():
        expense = f.ExpenseFactory(organization=org, paid_from="transfer", payee="Courier Co")
        f.ExpenseLineFactory(expense=expense, cost_kind="consumables", amount=D("20.00"))
    drain()
    ref = ExternalReference.objects.get(connection=books.conn, source_key=source_key(expense))
    expense.status = "void"
    expense.save()
    drain()
    assert books.sandbox.store.get("bills", ref.remote_id).data["archived"] is True


@pytest.mark.django_db
def test_an_expense_in_a_foreign_currency_stops_before_sending_with_the_currency_billcom_takes(books, org):
    with transaction.atomic():
        euros = f.ExpenseFactory(organization=org, currency="EUR", exchange_rate=D("1.08"), paid_from="card")
        f.ExpenseLineFactory(expense=euros, amount=D("50.00"))
    drain()
    stopped = OutboxEntry.objects.get(source_key=source_key(euros))
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert "does not accept EUR (it takes USD)" in stopped.last_error
    assert not ExternalReference.objects.filter(connection=books.conn, source_key=stopped.source_key).exists()
    assert books.sandbox.store.rows("bills") == [] and books.sandbox.store.rows("vendors") == []


@pytest.mark.django_db
def test_an_expense_changed_there_is_polled_by_its_bills_updated_time(books, org):
    """``changes_since`` lists ``bills`` filtered ``updatedTime:gte``: a line typed over there is an "update" (the
    bill read back with its new total), an archived bill a "delete"; from the returned cursor neither comes again."""
    with transaction.atomic():
        kept = f.ExpenseFactory(organization=org, paid_from="transfer", payee="Courier Co")
        f.ExpenseLineFactory(expense=kept, cost_kind="consumables", amount=D("20.00"))
        gone = f.ExpenseFactory(organization=org, paid_from="transfer", payee="Courier Co")
        f.ExpenseLineFactory(expense=gone, cost_kind="consumables", amount=D("30.00"))
    drain()
    edited, archived = (ExternalReference.objects.get(connection=books.conn, source_key=source_key(e)).remote_id
                        for e in (kept, gone))
    connector = books.conn.connector()
    since = dt.datetime.now(dt.UTC)
    next_second()
    books.act("edit_bill_line", bill_id=edited, line=0, amount="25.00")
    books.take_back(Entity.EXPENSE, archived)
    next_second()
    changes, cursor = connector.changes_since([Entity.EXPENSE], since)
    assert {(ch.entity, ch.remote_id, ch.operation) for ch in changes} == {
        (Entity.EXPENSE, edited, "update"), (Entity.EXPENSE, archived, "delete")}
    assert connector.read_documents(Entity.EXPENSE, [edited])[0].total == D("25.00")
    assert connector.read_documents(Entity.EXPENSE, [archived])[0].status == "deleted"
    next_second()
    assert connector.changes_since([Entity.EXPENSE], cursor)[0] == []
