"""The outbox and the engine around one connection (issue acceptance 1-5, 7, 10): what a host transaction records,
what is held back and why. The QBO sandbox stands in for any platform here; what reaches each registered platform
is in test_platform_pipeline.py, QuickBooks' own ways in test_pipeline_qbo.py."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounting_sync.core import outbox
from accounting_sync.models import EntryStatus, OutboxChange, OutboxEntry, Outcome, SyncLog
from tests import factories as f
from tests.conftest import drain, entry_of, remote_invoices
from tests.locks import held_elsewhere, needs_row_locks

pytestmark = pytest.mark.django_db


def test_rollback_leaves_no_entry_and_makes_no_call(connection, org, sandbox, django_capture_on_commit_callbacks):
    calls = len(sandbox.requests_log)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
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
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        invoice = f.InvoiceFactory(organization=org)
        f.InvoiceLineFactory(invoice=invoice)
        assert woken == []  # never before the commit
    assert woken == ([] if polls else [{connection.pk}])  # one wake-up per transaction, not per row


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
        from accounting_sync.core import sources

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


def test_a_claim_takes_what_is_due_or_with_ignore_schedule_anything_not_held(connection, django_assert_num_queries):
    """One statement on PostgreSQL (the entries come back with their connection); a lock, an UPDATE and a read on
    SQLite."""
    from django.db import connection as db

    later = timezone.now() + dt.timedelta(hours=1)
    ids = {status: outbox.upsert_entry(connection, f"ledger.invoice:{n}", "invoice", None)
           for n, status in enumerate(["due", "later", "failed", "waiting", "held", "expired", "done"])}
    OutboxEntry.objects.filter(pk=ids["later"]).update(next_attempt_at=later)
    OutboxEntry.objects.filter(pk=ids["failed"]).update(status=EntryStatus.FAILED)
    OutboxEntry.objects.filter(pk=ids["waiting"]).update(status=EntryStatus.WAITING)
    OutboxEntry.objects.filter(pk=ids["held"]).update(status=EntryStatus.IN_PROGRESS, lease_until=later)
    OutboxEntry.objects.filter(pk=ids["expired"]).update(status=EntryStatus.IN_PROGRESS,
                                                         lease_until=timezone.now() - dt.timedelta(seconds=1))
    OutboxEntry.objects.filter(pk=ids["done"]).update(status=EntryStatus.DONE)
    name = {pk: status for status, pk in ids.items()}
    with django_assert_num_queries(1 if db.vendor == "postgresql" else 5):
        taken = outbox.claim_many(sorted(ids.values()))
        assert all(e.connection.name == connection.name for e in taken)  # loaded with the entries
    assert [name[e.pk] for e in taken] == ["due", "expired"]
    OutboxEntry.objects.filter(pk__in=[ids["due"], ids["expired"]]).update(status=EntryStatus.PENDING)
    anyway = outbox.claim_many(sorted(ids.values()), ignore_schedule=True)
    assert [name[e.pk] for e in anyway] == ["due", "later", "failed", "waiting", "expired"]
    assert {e.status for e in anyway} == {EntryStatus.IN_PROGRESS} and len({e.lease_token for e in anyway}) == 1
    assert outbox.claim(ids["held"], ignore_schedule=True) is None


def test_finishing_a_dependency_wakes_entries_waiting_for_it(connection, make_invoice, sandbox):
    from django.utils import timezone

    from accounting_sync.core import engine

    invoice = make_invoice()
    customer_entry = entry_of(invoice.customer)
    held = outbox.claim(customer_entry.pk)  # another worker holds the customer
    invoice_entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert engine.process_entry(invoice_entry.pk) == EntryStatus.PENDING
    invoice_entry.refresh_from_db()
    assert invoice_entry.error_code == "dependency_pending" and invoice_entry.next_attempt_at > timezone.now()
    assert invoice_entry.attempts == 0

    for _ in range(3):  # woken again while the customer is still held: a wait is logged once, not per wake-up
        engine._wake(OutboxEntry.objects.get(pk=invoice_entry.pk))
        assert engine.process_entry(invoice_entry.pk, ignore_schedule=True) == EntryStatus.PENDING
    assert SyncLog.objects.filter(entry_id=invoice_entry.pk, message__startswith="waiting for").count() == 1

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


def test_a_changed_encryption_key_stops_the_connection_with_the_fix(settings, connection, make_invoice, sandbox):
    """The keys changed under a running connection: nothing is sent, the worker does not crash, the connection
    says what happened and how to fix it, and restoring the key lets the entry through."""
    from cryptography.fernet import Fernet
    from django.test import override_settings

    from connectors.models import Connection, ConnectionStatus

    invoice = make_invoice(("service", "1", "100.00"))
    with override_settings(ACCOUNTING_SYNC={**settings.ACCOUNTING_SYNC,
                                            "ENCRYPTION_KEYS": [Fernet.generate_key().decode()]}):
        drain()
        conn = Connection.objects.get(pk=connection.pk)
        assert conn.status == ConnectionStatus.NEEDS_REAUTH and "encryption keys changed" in conn.status_message
        entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
        assert entry.status == EntryStatus.PENDING and "Restore the previous key" in entry.hint
    assert sandbox.store.entities("Invoice") == []
    Connection.objects.filter(pk=connection.pk).update(status=ConnectionStatus.ACTIVE, status_message="")
    drain()
    assert len(sandbox.store.entities("Invoice")) == 1 and entry_of(invoice).status == EntryStatus.DONE


@pytest.mark.django_db(transaction=True)
def test_waking_waiting_entries_never_waits_on_rows_another_worker_holds(connection):
    """The batch worker's deadlock: after a chunk commits, several workers wake the same waiting entries. A row
    another worker has locked is skipped rather than waited for, so no two wake-ups wait on each other."""
    from accounting_sync.core import engine
    from connectors.errors import DependencyPendingError

    needs_row_locks()
    ids = [outbox.upsert_entry(connection, f"ledger.invoice:{n}", "invoice", None) for n in (1, 2, 3)]
    waiting = OutboxEntry.objects.filter(pk__in=ids)
    waiting.update(error_code=DependencyPendingError.default_code,
                   next_attempt_at=timezone.now() + dt.timedelta(hours=1))
    held_pk = waiting.order_by("pk").first().pk
    with held_elsewhere(OutboxEntry.objects.filter(pk=held_pk)):
        engine._wake(waiting.exclude(pk=held_pk).first())
    woken = set(waiting.filter(next_attempt_at__lte=timezone.now()).values_list("pk", flat=True))
    assert woken == set(waiting.exclude(pk=held_pk).values_list("pk", flat=True)) and len(woken) == 2
