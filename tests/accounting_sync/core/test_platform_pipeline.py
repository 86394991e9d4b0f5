"""The outbound pipeline end to end on every registered platform, each against its sandbox over loopback HTTP.

Parametrized over the registry (``tests/platforms.py``): a platform that registers a connector with a sandbox
and a demo chart runs all of this. Remote documents are read back through the connector, never a sandbox store.
"""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction

from accounting_sync.staff import demo
from accounting_sync.core import resync
from accounting_sync.models import EntryStatus, ExternalReference, OutboxChange, OutboxEntry, Outcome, SyncLog
from connectors.documents import Entity
from ledger import models as L
from mappings.models import Mapping, MappingKind, Scope
from tests import factories as f
from tests.conftest import drain, entry_of, make_due
from tests import platforms

pytestmark = pytest.mark.django_db
harness, platform, platform_sandboxes = platforms.harness, platforms.platform, platforms.platform_sandboxes


@pytest.fixture
def rates(org):
    """The organization's tax rates, named like the demo's so the demo chart maps them."""
    return {"gst": f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10")),
            "exempt": f.TaxRateFactory(organization=org, name="Exempt", rate=Decimal("0"))}


@pytest.fixture
def conn(harness, org, rates):
    return harness.connect(org)


def since() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)


def _entity(row: dict) -> str:
    """The entity of a read-back row (``credit note CN-3001`` -> ``credit_note``)."""
    return row["document"].rsplit(" ", 1)[0].replace(" ", "_")


def test_demo_clinic_documents_reach_the_platform_with_matching_totals(harness, org):
    demo.load_demo_data(org)
    # Our rate budget off: the demo's eleven documents, their customers and items, and the read-back below make
    # about as many requests as Acumatica's 90 a minute (95% of it, our budget's share) allows, all within this
    # test's second; the budget's own waiting is tested in tests/connectors/test_budget.py.
    conn = harness.connect(org, rate_limits=False)
    resync.queue(conn, resync.plan(conn))
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists(), list(
        OutboxEntry.objects.exclude(status=EntryStatus.DONE).values_list("label", "last_error"))
    rows = demo.readback(conn, org)
    # 3 invoices, 2 payments, 2 credit notes, a refund, an expense, a bill and its payment
    assert len(rows) == 11, rows
    taken = harness.capabilities.entities  # a refund, an expense, a bill or a payment of it not taken: by hand
    assert all(row["match"] or (row["match"] is None and _entity(row) in Entity.DECLARED and _entity(row) not in taken)
               for row in rows), rows
    invoices = {i.number: i for i in L.Invoice.objects.filter(organization=org)}
    first = invoices["RV-1001"]  # discount, shipping and tax lines
    assert {line.kind for line in first.lines.all()} >= {"discount", "shipping"} and first.totals().tax > 0
    remote = {number: harness.remote(conn, inv) for number, inv in invoices.items()}
    assert remote["RV-1001"].total == first.totals().total and remote["RV-1001"].balance == 0  # paid in full
    assert remote["RV-1002"].balance == invoices["RV-1002"].totals().total - Decimal("200.00")
    if Entity.CREDIT_NOTE in harness.capabilities.entities:  # 66.00 of the credit note applied to RV-1003
        assert remote["RV-1003"].balance == invoices["RV-1003"].totals().total - Decimal("66.00")


def test_edit_after_sync_updates_the_remote_document_and_an_unchanged_save_makes_no_call(conn, harness,
                                                                                         make_invoice):
    invoice = make_invoice(("service", "2", "40.00"))
    drain()
    ref = harness.ref(conn, invoice)
    first_version = ref.remote_version
    assert harness.remote(conn, invoice).total == Decimal("80.00")

    L.InvoiceLine.objects.filter(invoice=invoice).update(unit_price=Decimal("45.00"))
    invoice.save()
    drain()
    ref.refresh_from_db()
    remote = harness.remote(conn, invoice)
    assert remote.total == Decimal("90.00") and remote.remote_id == ref.remote_id
    assert ref.remote_version == remote.version and (not first_version or ref.remote_version != first_version)
    assert SyncLog.objects.filter(connection=conn, operation="update", outcome=Outcome.SUCCESS).count() == 1

    invoice.save()  # nothing changed
    drain()
    assert SyncLog.objects.filter(connection=conn, operation="skip", outcome=Outcome.SKIPPED).exists()
    assert harness.remote(conn, invoice).version == remote.version


def test_five_quick_saves_make_one_remote_invoice_with_the_last_content(conn, harness, make_invoice):
    started = since()
    invoice = make_invoice(("service", "1", "10.00"))
    generation = entry_of(invoice).generation
    for n in range(1, 6):
        with transaction.atomic():  # five separate host transactions (savepoints inside the test's own)
            L.InvoiceLine.objects.filter(invoice=invoice).update(unit_price=Decimal(10 * n + 10))
            invoice.memo = f"version {n}"
            invoice.save()
            invoice.save()  # saved twice in one transaction: recorded once
    key = f"ledger.invoice:{invoice.pk}"
    assert OutboxChange.objects.filter(source_key=key).count() == 5  # one per transaction
    entry = entry_of(invoice)  # the dispatcher takes the five in at once, as one change
    assert OutboxEntry.objects.filter(connection=conn, source_key=key).count() == 1
    assert entry.generation == generation + 1
    drain()
    connector = conn.connector()
    assert harness.numbered(connector, Entity.INVOICE, invoice.number, started) == [
        harness.ref(conn, invoice).remote_id]
    assert harness.remote(conn, invoice).total == Decimal("60.00")
    assert entry_of(invoice).status == EntryStatus.DONE


def test_void_and_delete_reach_the_platform_as_it_does_them(conn, harness, make_invoice):
    keep, gone = make_invoice(), make_invoice()
    drain()
    keep.status = "void"
    keep.save()
    gone_ref = harness.ref(conn, gone)
    gone.delete()
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    voided = harness.remote(conn, keep)
    if Entity.INVOICE in harness.capabilities.void:
        assert voided.status == "voided"
    assert voided.total == Decimal("0.00") and (voided.balance or Decimal("0")) == 0  # nothing due either way
    gone_ref.refresh_from_db()
    # a platform that deletes no invoice (SAP Business One) voids it: the reference says which it did
    assert gone_ref.remote_status == ("deleted" if Entity.INVOICE in harness.capabilities.delete else "voided")
    from connectors.errors import RemoteNotFound

    try:
        left = conn.connector().fetch(Entity.INVOICE, gone_ref.remote_id)
    except RemoteNotFound:
        left = None
    if Entity.INVOICE in harness.capabilities.delete and left is not None:
        assert left.total == Decimal("0.00")  # deletes only drafts: an approved invoice is voided instead
    assert left is None or left.status in ("deleted", "voided")


def test_lost_response_during_create_ends_with_exactly_one_remote_document(conn, harness, org, make_invoice):
    started = since()
    first = make_invoice(("service", "1", "20.00"))
    drain()  # the customer and whatever the platform needs once (generic items) exist now
    invoice = make_invoice(("service", "1", "70.00"), customer=first.customer)
    harness.clear_faults()
    for method in ("POST", "PUT"):  # the platform's first write (create or batch) is applied, its answer lost
        harness.sandbox.faults.add("lost_response", count=1, match=method)
    drain()
    assert [kind for kind, method, _ in harness.sandbox.faults.fired][:1] == ["lost_response"]
    harness.sandbox.faults.clear()
    make_due()
    drain()
    assert entry_of(invoice).status == EntryStatus.DONE
    connector = conn.connector()
    [remote_id] = harness.numbered(connector, Entity.INVOICE, invoice.number, started)
    assert harness.ref(conn, invoice).remote_id == remote_id
    assert harness.remote(conn, invoice).total == Decimal("70.00")


def test_unavailable_once_then_sent(conn, harness, make_invoice):
    invoice = make_invoice(("service", "1", "33.00"))
    harness.sandbox.faults.add("http_503", count=1)
    drain()
    [retry] = SyncLog.objects.filter(connection=conn, outcome=Outcome.RETRY)
    assert "503" in retry.message or retry.error_code, retry.message
    make_due()
    drain()
    assert entry_of(invoice).status == EntryStatus.DONE
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    assert harness.remote(conn, invoice).total == Decimal("33.00")


def test_an_unmapped_tax_rate_stops_its_invoice_with_a_plain_message_while_its_neighbours_go_through(
        conn, harness, org, make_invoice, rates):
    started = since()
    vat = f.TaxRateFactory(organization=org, name="VAT 20%", rate=Decimal("20"))
    before = make_invoice(("service", "1", "100.00", rates["gst"]))
    bad = make_invoice(("service", "1", "100.00", vat))
    after = make_invoice(("service", "2", "15.00", rates["exempt"]))
    drain()
    entry = entry_of(bad)
    assert entry.status == EntryStatus.NEEDS_ATTENTION
    assert "VAT 20%" in entry.last_error and "tax code" in entry.last_error and entry.hint
    assert harness.numbered(conn.connector(), Entity.INVOICE, bad.number, started) == []
    for neighbour, total in ((before, Decimal("110.00")), (after, Decimal("30.00"))):
        assert entry_of(neighbour).status == EntryStatus.DONE
        assert harness.remote(conn, neighbour).total == neighbour.totals().total == total

    gst_code = Mapping.objects.get(connection=conn, kind=MappingKind.TAX_CODE, local_value="GST 10%").remote_id
    f.MappingFactory(connection=conn, kind=MappingKind.TAX_CODE, scope=Scope.TAX_RATE, local_value="VAT 20%",
                     remote_id=gst_code)
    call_command("accounting_sync_retry", "--connection", conn.name, "--now")
    assert entry_of(bad).status == EntryStatus.DONE
    assert harness.numbered(conn.connector(), Entity.INVOICE, bad.number, started) == [harness.ref(conn, bad).remote_id]


def test_a_line_without_an_income_account_is_named(conn, harness, make_invoice):
    Mapping.objects.filter(connection=conn, kind=MappingKind.INCOME_ACCOUNT).delete()
    started = since()
    invoice = make_invoice(("shipping", "1", "9.00"))
    drain()
    entry = entry_of(invoice)
    assert entry.status == EntryStatus.NEEDS_ATTENTION
    assert "line 1" in entry.last_error and "income account" in entry.last_error and "shipping" in entry.last_error
    assert harness.numbered(conn.connector(), Entity.INVOICE, invoice.number, started) == []


def test_payment_saved_before_its_invoice_synced_goes_after_it_applied_to_it(conn, harness, org, make_invoice):
    from accounting_sync.core.engine import process_entry

    invoice = make_invoice(("service", "1", "120.00"))
    with transaction.atomic():
        payment = f.PaymentFactory(organization=org, customer=invoice.customer, amount=Decimal("120.00"))
        L.PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal("120.00"))
    assert process_entry(entry_of(payment).pk) == EntryStatus.DONE  # brings the invoice and customer along
    remote_invoice = harness.remote(conn, invoice)
    assert remote_invoice.balance == Decimal("0.00") and harness.remote(conn, payment).total == Decimal("120.00")
    if Entity.PAYMENT in harness.capabilities.inbound:
        paid = conn.connector().remote_payment(harness.ref(conn, payment).remote_id)
        assert paid.allocations == ((remote_invoice.remote_id, Decimal("120.00")),)
    assert entry_of(invoice).status == EntryStatus.DONE
    order = [log.entity for log in SyncLog.objects.filter(connection=conn).order_by("id")
             if log.outcome == Outcome.SUCCESS]
    assert order == ["customer", "invoice", "payment"]


def test_credit_note_applied_to_an_invoice_and_kept_equal(conn, harness, org, make_invoice):
    if Entity.CREDIT_NOTE not in harness.capabilities.entities:
        pytest.skip(f"{harness.platform} does not declare credit notes")
    invoice = make_invoice(("service", "1", "200.00"))
    with transaction.atomic():
        credit = L.CreditNote.objects.create(organization=org, customer=invoice.customer, number="CN-9",
                                             issue_date=invoice.issue_date)
        L.CreditNoteLine.objects.create(credit_note=credit, kind="service", quantity=Decimal("1"),
                                        unit_price=Decimal("80.00"))
        allocation = L.CreditNoteAllocation.objects.create(credit_note=credit, invoice=invoice,
                                                           amount=Decimal("50.00"))
    drain()

    def balances():
        return harness.remote(conn, invoice).balance, harness.remote(conn, credit).balance

    assert harness.remote(conn, credit).total == Decimal("80.00")
    assert balances() == (Decimal("150.00"), Decimal("30.00"))
    allocation.amount = Decimal("80.00")
    allocation.save()
    drain()
    assert balances() == (Decimal("120.00"), Decimal("0.00"))
    allocation.delete()
    drain()
    assert balances() == (Decimal("200.00"), Decimal("80.00"))

    L.CreditNoteAllocation.objects.create(credit_note=credit, invoice=invoice, amount=Decimal("10.00"))
    drain()
    assert balances()[0] == Decimal("190.00")
    credit.delete()  # deleted here: taken off the invoice, then deleted or voided as the platform does it
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    assert harness.remote(conn, invoice).balance == Decimal("200.00")
    ref = ExternalReference.objects.get(connection=conn, entity=Entity.CREDIT_NOTE)
    from connectors.errors import RemoteNotFound

    try:
        left = conn.connector().fetch(Entity.CREDIT_NOTE, ref.remote_id)
    except RemoteNotFound:
        left = None
    assert left is None or (left.status in ("deleted", "voided") and left.total == Decimal("0.00"))
