"""The batch path (``accounting_sync.core.bulk``): a chunk of documents costs a fixed number of statements, not
several per document, and leaves the same rows behind as the single path: a reference, a closed entry, a log row
and an audit record per document, the audit chain unbroken."""
import datetime as dt

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounting_sync import audit
from accounting_sync.audit.models import AuditKind, AuditRecord
from accounting_sync.core import bulk, outbox
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, SyncLog
from connectors.models import Connection
from tests import factories as f
from tests.conftest import drain, remote_invoices

pytestmark = pytest.mark.django_db


def send_in_one_batch(make_invoice, customer, count: int) -> tuple[list, int]:
    """``count`` new invoices of ``customer`` through ``bulk.process_batch`` at once: (invoices, statements)."""
    invoices = [make_invoice(("service", "1", f"{10 + n}.00"), customer=customer) for n in range(count)]
    outbox.absorb()
    ids = list(OutboxEntry.objects.filter(status=EntryStatus.PENDING).values_list("pk", flat=True))
    assert len(ids) == count
    with CaptureQueriesContext(db) as statements:
        assert bulk.process_batch(ids) == {EntryStatus.DONE: count}
    return invoices, len(statements)


def test_a_batch_of_25_invoices_costs_no_more_statements_than_a_batch_of_5(connection, org, make_invoice, sandbox):
    customer = f.CustomerFactory(organization=org)
    make_invoice(customer=customer)
    drain()  # the customer is on the platform, the reference data cached: what is left is per batch
    _, five = send_in_one_batch(make_invoice, customer, 5)
    invoices, twenty_five = send_in_one_batch(make_invoice, customer, 25)
    assert twenty_five == five, "a statement per document crept back into the batch path"
    # ...and the rows are those the single path leaves: one reference, a done entry, a log row and an audit
    # record per document.
    keys = [f"ledger.invoice:{invoice.pk}" for invoice in invoices]
    refs = ExternalReference.objects.filter(connection=connection, source_key__in=keys)
    assert sorted(refs.values_list("remote_number", flat=True)) == sorted(i.number for i in invoices)
    assert {r.remote_id for r in refs} <= {i["Id"] for i in remote_invoices(sandbox)}
    assert all(r.content_hash and r.remote_version for r in refs)
    assert set(OutboxEntry.objects.filter(source_key__in=keys).values_list("status", "lease_token")) == {
        (EntryStatus.DONE, "")}
    logs = SyncLog.objects.filter(source_key__in=keys)
    assert sorted(logs.values_list("source_key", "operation", "outcome")) == sorted(
        (key, "create (batch)", "success") for key in keys)
    records = AuditRecord.objects.filter(kind=AuditKind.ATTEMPT, source_key__in=keys).order_by("seq")
    assert [r.detail["sync_log"] for r in records] == list(logs.order_by("pk").values_list("pk", flat=True))
    assert [r.remote_id for r in records] == [refs.get(source_key=r.source_key).remote_id for r in records]
    assert audit.verify() == []


def test_a_document_changed_while_its_batch_was_sent_goes_round_again(connection, org, make_invoice, sandbox,
                                                                      monkeypatch):
    customer = f.CustomerFactory(organization=org)
    make_invoice(customer=customer)
    drain()
    first, second = (make_invoice(("service", "1", "20.00"), customer=customer) for _ in range(2))
    outbox.absorb()
    ids = list(OutboxEntry.objects.filter(status=EntryStatus.PENDING).order_by("pk").values_list("pk", flat=True))
    send = bulk._send_chunk

    def edited_meanwhile(conn, connector, chunk):  # a save of the second invoice while the batch is on the way
        OutboxEntry.objects.filter(source_key=f"ledger.invoice:{second.pk}").update(generation=99)
        return send(conn, connector, chunk)

    monkeypatch.setattr(bulk, "_send_chunk", edited_meanwhile)
    assert bulk.process_batch(ids) == {EntryStatus.DONE: 1, EntryStatus.PENDING: 1}
    statuses = dict(OutboxEntry.objects.filter(pk__in=ids).values_list("source_key", "status"))
    assert statuses == {f"ledger.invoice:{first.pk}": EntryStatus.DONE,
                        f"ledger.invoice:{second.pk}": EntryStatus.PENDING}
    assert ExternalReference.objects.filter(source_key=f"ledger.invoice:{second.pk}").exists()  # sent, kept
    monkeypatch.undo()
    drain()  # the second goes round again: an update of what was sent, not a second invoice
    assert OutboxEntry.objects.get(source_key=f"ledger.invoice:{second.pk}").status == EntryStatus.DONE
    assert len(remote_invoices(sandbox)) == 3


def test_a_batch_our_own_budget_refused_goes_out_next_time_without_a_search_first(connection, org, make_invoice,
                                                                                   sandbox, monkeypatch):
    customer = f.CustomerFactory(organization=org)
    make_invoice(customer=customer)
    drain()
    invoices = [make_invoice(("service", "1", "30.00"), customer=customer) for _ in range(3)]
    outbox.absorb()
    ids = list(OutboxEntry.objects.filter(status=EntryStatus.PENDING).values_list("pk", flat=True))
    send = bulk._send_chunk

    def paused_meanwhile(conn, connector, chunk):  # a 429 met by another worker of this connection just now
        Connection.objects.filter(pk=conn.pk).update(paused_until=timezone.now() + dt.timedelta(seconds=30))
        return send(conn, connector, chunk)

    monkeypatch.setattr(bulk, "_send_chunk", paused_meanwhile)
    calls = len(sandbox.requests_log)
    assert bulk.process_batch(ids) == {EntryStatus.PENDING: 3}
    assert len(sandbox.requests_log) == calls  # refused here: nothing went out...
    assert not OutboxEntry.objects.filter(pk__in=ids, write_started=True).exists()  # ...so nothing to search for
    monkeypatch.undo()
    Connection.objects.filter(pk=connection.pk).update(paused_until=None)
    OutboxEntry.objects.filter(pk__in=ids).update(next_attempt_at=timezone.now())
    drain()
    sent = [" ".join(map(str, r[:2])) for r in sandbox.requests_log[calls:]]
    assert not any("query" in s.lower() for s in sent), sent  # created at once, no search by number first
    assert {i.number for i in invoices} <= {i.get("DocNumber") for i in remote_invoices(sandbox)}
    assert len(remote_invoices(sandbox)) == 4


def test_one_invoice_our_own_budget_refused_is_created_next_time_without_a_search_first(connection, org,
                                                                                       make_invoice, sandbox,
                                                                                       monkeypatch):
    from accounting_sync.core import engine

    customer = f.CustomerFactory(organization=org)
    make_invoice(customer=customer)
    drain()
    invoice = make_invoice(("service", "1", "30.00"), customer=customer)
    outbox.absorb()
    [entry_id] = OutboxEntry.objects.filter(status=EntryStatus.PENDING).values_list("pk", flat=True)
    create = engine._create

    def paused_meanwhile(conn, *args, **kwargs):
        Connection.objects.filter(pk=conn.pk).update(paused_until=timezone.now() + dt.timedelta(seconds=30))
        return create(conn, *args, **kwargs)

    monkeypatch.setattr(engine, "_create", paused_meanwhile)
    calls = len(sandbox.requests_log)
    assert engine.process_entry(entry_id) == EntryStatus.PENDING
    assert len(sandbox.requests_log) == calls
    assert not OutboxEntry.objects.get(pk=entry_id).write_started
    monkeypatch.undo()
    Connection.objects.filter(pk=connection.pk).update(paused_until=None)
    OutboxEntry.objects.filter(pk=entry_id).update(next_attempt_at=timezone.now())
    drain()
    sent = [" ".join(map(str, r[:2])) for r in sandbox.requests_log[calls:]]
    assert not any("query" in s.lower() for s in sent), sent
    assert invoice.number in {i.get("DocNumber") for i in remote_invoices(sandbox)}


def test_a_wake_up_for_one_saved_invoice_costs_a_bounded_number_of_statements(connection, org, make_invoice,
                                                                             sandbox):
    """The single path (a save's wake-up, ``tasks.dispatch``): taking the change in, leasing, sending and recording
    one invoice whose customer is there already. Counted without savepoints (a test runs inside a transaction, so
    every block is one here) and with QBO's rate budget on (six statements: the request's window, the in-flight slot
    taken and given back): 40 before issue 20's work, 36 after its first cuts, 28 on PostgreSQL once a wake-up
    leased what it runs for itself (no hand-out and renewal), read the connection's liveness with its changes and
    the token's generation with the token; two more on SQLite (its look for changes before taking a write lock, and
    the audit head locked with a write, then read); outside a test the work also drops four savepoints and two
    reads after the commit. The bound catches statements per document creeping back."""
    from accounting_sync import tasks
    from accounting_sync.core.sources import key_for

    customer = f.CustomerFactory(organization=org)
    make_invoice(customer=customer)
    drain()  # the customer is on the platform, the reference data cached
    invoice = make_invoice(customer=customer)
    with CaptureQueriesContext(db) as captured:
        assert tasks.dispatch([connection.pk]) == 1
    assert ExternalReference.objects.filter(connection=connection, source_key=key_for(invoice)).exists()
    assert OutboxEntry.objects.get(source_key=key_for(invoice)).status == EntryStatus.DONE
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) <= 30, "\n".join(sql[:160] for sql in statements)
