"""Supplier bills on Sage Intacct (issue 23): an AP bill (legacy ``create_bill``) left open, owed to the vendor made
from the supplier's name, ``billno`` the supplier's bill number and ``ponumber`` (read as ``DOCNUMBER``) ours. A bill
of 200.00 in two lines with tax read back open; a bill in euros; a void is a reversal and a delete ``delete_bill``
(both refused while a payment is applied); a lost answer found by the search before a create, not paid; through
the pipeline: sent, reconciled, voided here, and a line whose cost kind has no expense account stopped before
sending."""
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, RemoteStatus
from accounting_sync.reconcile import engine
from connectors.documents import BillSnapshot, Entity, ExpenseLineSnapshot, Mapping, RemoteRef
from connectors.errors import ValidationFailed
from connectors.intacct import costs as c
from ledger.models import DocumentStatus
from mappings.models import MappingKind
from tests import factories as f
from tests.accounting_sync.reconcile.test_reconcile_returns_and_costs import variances
from tests.conftest import drain
from tests.connectors.intacct.test_connector import connect
from tests.platforms import POOL, PlatformHarness, platform_sandboxes, sandbox_for  # noqa: F401 - a fixture

D = Decimal
DATE, DUE = dt.date(2026, 11, 2), dt.date(2026, 12, 2)


def key() -> str:
    return f"k-{uuid.uuid4()}"


def supplier_bill(number="BILL-1001", reference="INV-7788", currency="USD", supplier="Acme Supplies",
                  lines=(("100.00", "10.00", "gst"), ("90.00", "0.00", None))) -> BillSnapshot:
    made = tuple(ExpenseLineSnapshot("supplier", f"Supply {i}", D(net), D(tax), key)
                 for i, (net, tax, key) in enumerate(lines))
    subtotal = sum((x.net_amount for x in made), D("0.00"))
    tax = sum((x.tax_amount for x in made), D("0.00"))
    return BillSnapshot(key=f"test.bill:{number}", organization_id=1, number=number, supplier=supplier,
                        supplier_reference=reference, issue_date=DATE, due_date=DUE, currency=currency,
                        memo="Packaging for November", lines=made, subtotal=subtotal, tax_total=tax,
                        total=subtotal + tax)


def mapped(conn, lines=2) -> Mapping:
    accounts = {name: pk for pk, name in conn.reference_data().accounts.items()}
    return Mapping(line_accounts=(accounts["Freight and Postage"], accounts["Operating Expenses"])[:lines],
                   tax_codes={"gst": "Sales Tax 10%"})


def test_a_bill_of_200_in_two_lines_with_tax_is_read_back_open(isandbox):
    conn = connect(isandbox)
    made = conn.create(supplier_bill(), mapped(conn), key())
    assert (made.total, made.balance, made.status, made.number) == (D("200.00"), D("200.00"), "active", "INV-7788")
    held = isandbox.store.find("APBILL", made.remote_id).data
    assert (held["VENDORID"], held["VENDORNAME"]) == (c.vendor_id("Acme Supplies"), "Acme Supplies")
    assert (held["RECORDID"], held["DOCNUMBER"], held["WHENCREATED"], held["WHENDUE"]) == \
        ("INV-7788", "BILL-1001", "11/02/2026", "12/02/2026")
    assert (held["STATE"], held["TOTALDUE"], held["TOTALPAID"]) == ("Posted", D("200.00"), D("0.00"))
    assert [(line["ACCOUNTNO"], line["AMOUNT"], line["TAXDETAILID"], line["TRX_TAX"]) for line in held["_lines"]] == \
        [("6100", D("100.00"), "Sales Tax 10%", D("10.00")), ("6000", D("90.00"), "", D("0.00"))]
    assert isandbox.store.rows("APPYMT") == []  # no payment: the bill is owed
    [read] = conn.read_documents(Entity.BILL, [made.remote_id])
    assert (read.total, read.balance, read.tax_total, read.status) == (D("200.00"), D("200.00"), D("10.00"), "open")
    again = conn.update(supplier_bill(), mapped(conn), RemoteRef(made.remote_id, made.version), key())
    assert again.remote_id == made.remote_id  # the same content: kept as it is


def test_a_bill_in_euros_keeps_its_currency(isandbox):
    conn = connect(isandbox)
    made = conn.create(supplier_bill(currency="EUR", reference=""), mapped(conn), key())
    held = isandbox.store.find("APBILL", made.remote_id).data
    assert (held["CURRENCY"], held["RECORDID"], made.total, made.balance) == ("EUR", "BILL-1001", D("200.00"),
                                                                               D("200.00"))
    [read] = conn.read_documents(Entity.BILL, [made.remote_id])
    assert (read.currency, read.total) == ("EUR", D("200.00"))


def test_a_void_reverses_the_bill_and_a_changed_bill_is_sent_again(isandbox):
    conn = connect(isandbox)
    made = conn.create(supplier_bill(), mapped(conn), key())
    changed = conn.update(supplier_bill(lines=(("100.00", "10.00", "gst"), ("80.00", "0.00", None))), mapped(conn),
                          RemoteRef(made.remote_id, made.version), key())
    assert changed.remote_id != made.remote_id and changed.total == D("190.00")
    assert conn.fetch(Entity.BILL, made.remote_id).status == "voided"
    voided = conn.void(Entity.BILL, RemoteRef(changed.remote_id, changed.version), key())
    assert (voided.status, voided.total, voided.balance) == ("voided", D("0.00"), D("0.00"))
    assert isandbox.store.find("APBILL", changed.remote_id).data["STATE"] == "Reversed"
    assert conn.find_existing(supplier_bill(), mapped(conn)) is None  # a reversed bill is not ours any more


def test_a_bill_paid_by_a_bookkeeper_is_not_reversed(isandbox):
    conn = connect(isandbox)
    made = conn.create(supplier_bill(), mapped(conn), key())
    bank = {name: pk for pk, name in conn.reference_data().accounts.items()}["Bank"]
    payment = {c.BILL_PAYMENT: {"FINANCIALENTITY": bank, "PAYMENTMETHOD": "EFT",
                                "VENDORID": c.vendor_id("Acme Supplies"), "PAYMENTDATE": "11/10/2026",
                                "CURRENCY": "USD",
                                "APPYMTDETAILS": {"APPYMTDETAIL": [{"RECORDKEY": made.remote_id,
                                                                    "TRX_PAYMENTAMOUNT": "50.00"}]}}}
    conn.run("create", payment, key())
    assert conn.fetch(Entity.BILL, made.remote_id).balance == D("150.00")
    with pytest.raises(ValidationFailed, match="payments applied"):
        conn.void(Entity.BILL, RemoteRef(made.remote_id, made.version), key())
    with pytest.raises(ValidationFailed, match="payments applied"):  # not deleted, and not reversed instead
        conn.delete(Entity.BILL, RemoteRef(made.remote_id, made.version), key())
    assert isandbox.store.find("APBILL", made.remote_id).data["STATE"] == "Partially Paid"


def test_an_unpaid_bill_is_deleted(isandbox):
    conn = connect(isandbox)
    made = conn.create(supplier_bill(), mapped(conn), key())
    conn.delete(Entity.BILL, RemoteRef(made.remote_id, made.version), key())
    assert isandbox.store.find("APBILL", made.remote_id) is None
    assert conn.read_documents(Entity.BILL, [made.remote_id])[0].status == "deleted"


def test_a_lost_answer_is_found_by_the_search_and_left_open(isandbox):
    conn = connect(isandbox)
    doc = supplier_bill()
    conn.run("create", c.vendor_body(doc), key())
    sent = conn.run("create_bill", c.supplier_bill_body(doc, mapped(conn)), key()).key  # its answer lost
    found = conn.find_existing(doc, mapped(conn))
    assert (found.remote_id, found.adopted, found.balance) == (sent, True, D("200.00"))
    assert isandbox.store.rows("APPYMT") == []
    other = supplier_bill(supplier="Other Supplies")  # the same supplier's number from another supplier: not ours
    assert conn.find_existing(other, mapped(conn)) is None
    assert conn.create(other, mapped(conn), key()).remote_id != sent


# -- through the pipeline ------------------------------------------------------------------------------------------
@pytest.fixture
def books(request, org):
    harness = PlatformHarness("intacct", sandbox_for(request, "intacct"), POOL)
    harness.reset()
    gst = f.TaxRateFactory(organization=org, name="GST 10%", rate=D("10"))
    harness.conn = harness.connect(org)
    harness.gst = gst
    return harness


ledger_bill = f.supplier_bill  # 190.00 in two lines, the first taxed


def ref_of(bill) -> ExternalReference:
    return ExternalReference.objects.get(connection__isnull=False, source_key=f"ledger.bill:{bill.pk}")


@pytest.mark.django_db
def test_a_bill_sent_reconciles_and_voided_here_is_reversed_there(books, org):
    bill = ledger_bill(org, books.gst)
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    held = books.sandbox.store.find("APBILL", ref_of(bill).remote_id).data
    assert (held["TOTALENTERED"], held["TOTALDUE"], held["RECORDID"]) == (D("200.00"), D("200.00"), "INV-7788")
    assert variances(engine.run(books.conn)) == {}
    bill.status = DocumentStatus.VOID
    bill.save()
    drain()
    assert books.sandbox.store.find("APBILL", ref_of(bill).remote_id).data["STATE"] == "Reversed"
    assert ref_of(bill).remote_status == RemoteStatus.VOIDED
    assert variances(engine.run(books.conn)) == {}


@pytest.mark.django_db
def test_a_bill_line_without_an_expense_account_waits_for_its_mapping(books, org):
    books.conn.mappings.filter(kind=MappingKind.EXPENSE_ACCOUNT).delete()
    bill = ledger_bill(org)
    drain()
    stopped = OutboxEntry.objects.get(source_key=f"ledger.bill:{bill.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert "no expense account mapped for cost kind “supplier”" in stopped.last_error
    assert books.sandbox.store.rows("APBILL") == []
