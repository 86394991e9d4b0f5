"""The outbound pipeline end to end against the QBO sandbox over loopback HTTP (issue acceptance 1-5, 7, 10)."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from accounting_sync import outbox
from accounting_sync.models import EntryStatus, ExternalReference, OutboxChange, OutboxEntry, Outcome, SyncLog
from ledger.models import InvoiceLine, PaymentAllocation
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.conftest import drain, entry_of, remote_invoices, tax_code_id

pytestmark = pytest.mark.django_db


def test_rollback_leaves_no_entry_and_makes_no_call(connection, org, sandbox, django_capture_on_commit_callbacks):
    calls = len(sandbox.requests_log)
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                invoice = f.InvoiceFactory(organization=org)
                f.InvoiceLineFactory(invoice=invoice)
                assert OutboxChange.objects.count() == 2  # invoice and customer, inside the host transaction...
                raise RuntimeError("host aborts")
    assert OutboxChange.objects.count() == 0  # ...and gone with it
    assert callbacks == []
    drain()
    assert not OutboxEntry.objects.exists()
    assert len(sandbox.requests_log) == calls


def test_committed_save_is_one_change_row_per_document_absorbed_into_pending_entries(connection, org):
    with transaction.atomic():
        invoice = f.InvoiceFactory(organization=org)
        f.InvoiceLineFactory(invoice=invoice)
        f.InvoiceLineFactory(invoice=invoice)  # the lines count as changes of their invoice: no row of their own
    assert sorted(OutboxChange.objects.values_list("source_key", flat=True)) == [
        f"ledger.customer:{invoice.customer_id}", f"ledger.invoice:{invoice.pk}"]
    assert not OutboxEntry.objects.exists()  # the host transaction wrote nothing else
    ids = outbox.absorb()
    assert len(ids) == 2 and set(OutboxEntry.objects.values_list("status", flat=True)) == {EntryStatus.PENDING}
    assert not OutboxChange.objects.exists()  # taken in and deleted together


@pytest.mark.parametrize("polls", [True, False], ids=["outbox-broker", "other-broker"])
def test_a_save_wakes_the_queue_only_when_its_broker_does_not_poll(connection, org, monkeypatch, polls,
                                                                   django_capture_on_commit_callbacks):
    woken = []
    monkeypatch.setattr(outbox, "dispatcher_polls", lambda: polls)
    monkeypatch.setattr(outbox, "wake", woken.append)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            invoice = f.InvoiceFactory(organization=org)
            f.InvoiceLineFactory(invoice=invoice)
            assert woken == []  # never before the commit
    assert woken == ([] if polls else [{connection.pk}])  # one wake-up per transaction, not per row


def test_five_quick_saves_make_one_remote_invoice_with_last_content(connection, make_invoice, sandbox):
    invoice = make_invoice(("service", "1", "10.00"))
    generation = entry_of(invoice).generation
    for n in range(1, 6):
        with transaction.atomic():  # five separate host transactions (savepoints inside the test's own)
            InvoiceLine.objects.filter(invoice=invoice).update(unit_price=Decimal(10 * n + 10))
            invoice.memo = f"version {n}"
            invoice.save()
            invoice.save()  # saved twice in one transaction: recorded once
    assert OutboxChange.objects.filter(source_key=f"ledger.invoice:{invoice.pk}").count() == 5  # one per transaction
    entries = OutboxEntry.objects.filter(source_key=f"ledger.invoice:{invoice.pk}")
    entry_of(invoice)  # the dispatcher takes the five in at once...
    assert entries.count() == 1 and entries.get().generation == generation + 1  # ...as one change
    drain()
    [remote] = remote_invoices(sandbox)
    assert Decimal(str(remote["TotalAmt"])) == Decimal("60.00")
    assert remote["CustomerMemo"]["value"] == "version 5"
    assert entries.get().status == EntryStatus.DONE


def test_edit_updates_with_sync_token_and_unchanged_save_makes_no_call(connection, make_invoice, sandbox):
    invoice = make_invoice(("service", "2", "40.00"))
    drain()
    ref = ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert ref.remote_version == "0"

    InvoiceLine.objects.filter(invoice=invoice).update(unit_price=Decimal("45.00"))
    invoice.save()
    drain()
    ref.refresh_from_db()
    [remote] = remote_invoices(sandbox)
    assert remote["SyncToken"] == ref.remote_version == "1"
    assert Decimal(str(remote["TotalAmt"])) == Decimal("90.00")
    assert SyncLog.objects.filter(operation="update", outcome=Outcome.SUCCESS).count() == 1

    calls = len(sandbox.requests_log)
    invoice.save()  # nothing changed
    drain()
    assert len(sandbox.requests_log) == calls
    assert SyncLog.objects.filter(operation="skip", outcome=Outcome.SKIPPED).exists()


def test_payment_saved_before_invoice_synced_goes_after_it_linked(connection, org, make_invoice, sandbox):
    invoice = make_invoice(("service", "1", "120.00"))
    with transaction.atomic():
        payment = f.PaymentFactory(organization=org, customer=invoice.customer, amount=Decimal("120.00"))
        PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal("120.00"))
    from accounting_sync.engine import process_entry

    # Process the payment's entry first: it must bring the invoice (and customer) along.
    entry = entry_of(payment)
    assert process_entry(entry.pk) == EntryStatus.DONE
    [remote_invoice] = remote_invoices(sandbox)
    [remote_payment] = sandbox.store.entities("Payment")
    assert remote_payment["Line"][0]["LinkedTxn"][0]["TxnId"] == remote_invoice["Id"]
    assert Decimal(str(sandbox.store.get("Invoice", remote_invoice["Id"])["Balance"])) == Decimal("0")
    assert OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}").status == EntryStatus.DONE
    order = [log.entity for log in SyncLog.objects.order_by("id") if log.outcome == Outcome.SUCCESS]
    assert order == ["customer", "invoice", "payment"]


def test_missing_tax_mapping_needs_attention_then_retry_sends(connection, org, make_invoice, sandbox):
    vat = f.TaxRateFactory(organization=org, name="VAT 20%", rate=Decimal("20"))
    invoice = make_invoice(("service", "1", "100.00", vat))
    drain()
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert entry.status == EntryStatus.NEEDS_ATTENTION
    assert "VAT 20%" in entry.last_error and "tax code" in entry.last_error
    assert entry.hint
    assert remote_invoices(sandbox) == []

    f.MappingFactory(connection=connection, kind=MappingKind.TAX_CODE, scope=Scope.TAX_RATE, local_value="VAT 20%",
                     remote_id=tax_code_id(sandbox, "GST 10%"))
    from django.core.management import call_command

    call_command("accounting_sync_retry", "--connection", connection.name, "--now")
    entry.refresh_from_db()
    assert entry.status == EntryStatus.DONE
    assert len(remote_invoices(sandbox)) == 1


def test_missing_account_mapping_names_the_line(make_connection, org, make_invoice, sandbox):
    make_connection(org, mapped=False)
    invoice = make_invoice(("shipping", "1", "9.00"))
    drain()
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert entry.status == EntryStatus.NEEDS_ATTENTION
    assert "line 1" in entry.last_error and "income account" in entry.last_error and "shipping" in entry.last_error
    assert sandbox.store.entities("Invoice") == []


def test_document_before_start_date_is_not_sent(make_connection, org, make_invoice, sandbox):
    make_connection(org, start_date=dt.date.today())
    make_invoice(issue_date=dt.date.today() - dt.timedelta(days=1))
    assert not OutboxEntry.objects.filter(entity="invoice").exists()
    drain()
    assert remote_invoices(sandbox) == []


def test_auto_sync_off_queues_nothing_until_resync(make_connection, org, make_invoice, sandbox):
    conn = make_connection(org, auto_sync=False)
    make_invoice()
    assert not OutboxEntry.objects.exists()
    from django.core.management import call_command

    call_command("accounting_sync_resync", "--connection", conn.name)
    assert len(remote_invoices(sandbox)) == 1


def test_local_void_voids_remote_and_delete_deletes(connection, make_invoice, sandbox):
    keep, gone = make_invoice(), make_invoice()
    drain()
    keep.status = "void"
    keep.save()
    gone_ref = ExternalReference.objects.get(source_key=f"ledger.invoice:{gone.pk}")
    gone.delete()
    drain()
    voided = sandbox.store.get("Invoice", ExternalReference.objects.get(source_key=f"ledger.invoice:{keep.pk}").remote_id)
    assert Decimal(str(voided["TotalAmt"])) == 0
    assert [i["Id"] for i in remote_invoices(sandbox)] == [voided["Id"]]
    gone_ref.refresh_from_db()
    assert gone_ref.remote_status == "deleted"


@pytest.mark.parametrize("problem,message", [
    ("no_lines", "has no lines"),
    ("currency", "not an ISO 4217 code"),
    ("places", "more than 4 decimal places"),
])
def test_bad_documents_needs_attention_nothing_sent(connection, org, sandbox, problem, message):
    with transaction.atomic():
        invoice = f.InvoiceFactory(organization=org)
        if problem != "no_lines":
            f.InvoiceLineFactory(invoice=invoice)
    if problem == "currency":
        type(invoice).objects.filter(pk=invoice.pk).update(currency="XYZ")
    if problem == "places":  # written around model validation, as a careless import script might
        from accounting_sync import sources

        adapter = sources.adapters()["ledger.invoice"]
        original = adapter.snapshot

        def snapshot(obj):
            snap = original(obj)
            line = snap.lines[0].__class__(**{**snap.lines[0].__dict__, "unit_price": Decimal("1.23456")})
            return snap.__class__(**{**snap.__dict__, "lines": (line,)})

        adapter.snapshot = snapshot
    try:
        if problem == "currency":  # the stored row is bad; a line save re-queues the invoice as it is stored
            invoice.lines.get().save()
        else:
            invoice.save()
        drain()
    finally:
        if problem == "places":
            del adapter.snapshot
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert entry.status == EntryStatus.NEEDS_ATTENTION
    assert message in entry.last_error and invoice.number in entry.last_error
    assert remote_invoices(sandbox) == []
    assert SyncLog.objects.filter(entry=entry, outcome=Outcome.ATTENTION).exists()


def test_customer_without_name_needs_attention(connection, org, make_invoice, sandbox):
    invoice = make_invoice()
    type(invoice.customer).objects.filter(pk=invoice.customer_id).update(name="  ")
    drain()
    entry = OutboxEntry.objects.get(source_key=f"ledger.customer:{invoice.customer_id}")
    assert entry.status == EntryStatus.NEEDS_ATTENTION and "no name" in entry.last_error
    invoice_entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert invoice_entry.status == EntryStatus.NEEDS_ATTENTION and "depends on" in invoice_entry.last_error
    assert sandbox.store.entities("Customer") == []


def test_finishing_a_dependency_wakes_entries_waiting_for_it(connection, make_invoice, sandbox):
    from django.utils import timezone

    from accounting_sync import engine

    invoice = make_invoice()
    customer_entry = entry_of(invoice.customer)
    held = outbox.claim(customer_entry.pk)  # another worker holds the customer
    invoice_entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert engine.process_entry(invoice_entry.pk) == EntryStatus.PENDING
    invoice_entry.refresh_from_db()
    assert invoice_entry.error_code == "dependency_pending" and invoice_entry.next_attempt_at > timezone.now()
    assert invoice_entry.attempts == 0

    engine.sync_object(connection, held.source_key, held, engine.Attempt(), depth=0)
    engine._wake(held)  # what on_commit runs once the customer's transaction commits
    invoice_entry.refresh_from_db()
    assert invoice_entry.next_attempt_at <= timezone.now()
    drain()
    assert len(remote_invoices(sandbox)) == 1


def test_change_recorded_in_a_rolled_back_savepoint_is_recorded_again(connection, org):
    invoice = f.InvoiceFactory.build(organization=org, customer=f.CustomerFactory(organization=org))
    invoice.__class__.objects.bulk_create([invoice])  # exists, but no save signal has recorded it yet
    with transaction.atomic():
        try:
            with transaction.atomic():
                invoice.memo = "first try"
                invoice.save()
                assert OutboxChange.objects.filter(source_key=f"ledger.invoice:{invoice.pk}").exists()
                raise RuntimeError("the host gives up on this step")
        except RuntimeError:
            pass
        assert not OutboxChange.objects.filter(source_key=f"ledger.invoice:{invoice.pk}").exists()
        invoice.memo = "second try"
        invoice.save()  # must not be skipped as "already recorded in this transaction"
    assert entry_of(invoice).status == EntryStatus.PENDING


def test_credit_note_applied_to_an_invoice_in_quickbooks_and_kept_equal(connection, org, make_invoice, sandbox):
    """QBO applies a credit memo with a zero-total payment linking the invoice and the memo."""
    from ledger.models import CreditNote, CreditNoteAllocation, CreditNoteLine

    invoice = make_invoice(("service", "1", "200.00"))
    with transaction.atomic():
        credit = CreditNote.objects.create(organization=org, customer=invoice.customer, number="CN-9",
                                           issue_date=invoice.issue_date)
        CreditNoteLine.objects.create(credit_note=credit, kind="service", quantity=Decimal("1"),
                                      unit_price=Decimal("80.00"))
        allocation = CreditNoteAllocation.objects.create(credit_note=credit, invoice=invoice, amount=Decimal("50.00"))
    drain()
    inv_ref = ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    memo_ref = ExternalReference.objects.get(source_key=f"ledger.creditnote:{credit.pk}")

    def remote_state():
        memo = sandbox.store.get("CreditMemo", memo_ref.remote_id)
        return (Decimal(str(sandbox.store.get("Invoice", inv_ref.remote_id)["Balance"])),
                Decimal(str(memo["RemainingCredit"])))

    assert remote_state() == (Decimal("150.00"), Decimal("30.00"))
    [application] = sandbox.store.entities("Payment")
    assert Decimal(str(application["TotalAmt"])) == 0 and application["PaymentRefNum"] == "CM CN-9"

    allocation.amount = Decimal("80.00")
    allocation.save()
    drain()
    assert remote_state() == (Decimal("120.00"), Decimal("0.00"))

    allocation.delete()
    drain()
    assert remote_state() == (Decimal("200.00"), Decimal("80.00")) and sandbox.store.entities("Payment") == []

    CreditNoteAllocation.objects.create(credit_note=credit, invoice=invoice, amount=Decimal("10.00"))
    drain()
    credit.delete()  # deleted here: its application goes first, then the memo
    drain()
    assert sandbox.store.get("CreditMemo", memo_ref.remote_id) is None
    assert Decimal(str(sandbox.store.get("Invoice", inv_ref.remote_id)["Balance"])) == Decimal("200.00")
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
