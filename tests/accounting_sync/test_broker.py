"""``OutboxBroker``: the ORM broker's pusher absorbs saved changes and hands due entries out as batch tasks.

These drive the broker in this process, the way django-q2's pusher and workers call it; ``test_queue.py`` runs
it in a real ``qcluster`` (PostgreSQL)."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage
from django_q.tasks import async_task

from accounting_sync.core import outbox
from accounting_sync import conf, tasks
from accounting_sync.broker import OutboxBroker
from accounting_sync.models import EntryStatus, ExternalReference, OutboxChange, OutboxEntry
from connectors.models import Connection, ConnectionStatus
from tests import factories as f
from tests.conftest import at_once, entry_of, remote_invoices

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(monkeypatch):
    monkeypatch.setattr(Conf, "POLL", 0)  # an empty poll returns at once
    return OutboxBroker(list_key="broker-test")


def run(handed) -> list[dict]:
    """What the pusher and a worker do with each handed-out package: unpack it, call the task, acknowledge."""
    packages = [SignedPackage.loads(payload) for _, payload in handed or []]
    for package in packages:
        package["result"] = package["func"](*package["args"], **package["kwargs"])  # the function itself, pickled
    return packages


def test_a_saved_invoice_is_absorbed_handed_out_as_one_task_and_synced(broker, connection, make_invoice, sandbox):
    invoice = make_invoice(("service", "2", "40.00"))
    assert OutboxChange.objects.count() == 2 and not OrmQ.objects.exists()  # the save wrote no task row
    handed = broker.dequeue()
    assert not OutboxChange.objects.exists()
    [package] = run(handed)
    assert package["func"] is tasks.process_leased and package["group"] == "accounting_sync"  # no pydoc.locate
    ids, _ = package["args"]
    assert len(ids) == 2  # the customer and its invoice, as one chunk of one connection
    assert [r["DocNumber"] for r in remote_invoices(sandbox)] == [invoice.number]
    assert entry_of(invoice).status == EntryStatus.DONE
    broker.acknowledge(handed[0][0])  # no queue row stands behind it: nothing to delete, no error
    assert broker.dequeue() is None  # nothing left anywhere


def test_a_burst_goes_out_in_chunks_of_the_batch_size_in_dependency_order(broker, connection, org, make_invoice,
                                                                          sandbox):
    customer = f.CustomerFactory(organization=org)
    invoices = [make_invoice(customer=customer) for _ in range(40)]
    packages = run(broker.dequeue())
    sizes = [len(p["args"][0]) for p in packages]
    assert sizes == [30, 11]  # QuickBooks takes 30 per /batch request; the customer goes first
    first = OutboxEntry.objects.get(pk=packages[0]["args"][0][0])
    assert first.entity == "customer"
    assert len(remote_invoices(sandbox)) == 40
    assert set(OutboxEntry.objects.values_list("status", flat=True)) == {EntryStatus.DONE}
    assert {r["DocNumber"] for r in remote_invoices(sandbox)} == {i.number for i in invoices}


def test_entries_of_a_paused_or_disconnected_connection_stay_where_they_are(broker, connection, make_invoice, clock):
    make_invoice()
    Connection.objects.filter(pk=connection.pk).update(paused_until=timezone.now() + dt.timedelta(seconds=120))
    assert broker.dequeue() is None  # absorbed, but not handed out during the pause
    assert set(OutboxEntry.objects.values_list("status", flat=True)) == {EntryStatus.PENDING}
    clock.advance(121)
    Connection.objects.filter(pk=connection.pk).update(status=ConnectionStatus.NEEDS_REAUTH)
    assert broker.dequeue() is None
    Connection.objects.filter(pk=connection.pk).update(status=ConnectionStatus.ACTIVE)
    assert len(broker.dequeue()) == 1


def test_a_retry_is_handed_out_when_its_backoff_ends(broker, connection, make_invoice, sandbox, clock):
    invoice = make_invoice()
    sandbox.faults.add("http_500", match="POST /batch")
    run(broker.dequeue())
    entry = entry_of(invoice)
    assert entry.status == EntryStatus.PENDING and entry.attempts == 1
    assert broker.dequeue() is None  # backing off
    clock.advance((entry.next_attempt_at - timezone.now()).total_seconds() + 1)
    run(broker.dequeue())
    assert entry_of(invoice).status == EntryStatus.DONE and len(remote_invoices(sandbox)) == 1


def test_a_chunk_no_worker_started_is_handed_out_again_and_the_stale_task_does_nothing(broker, connection,
                                                                                      make_invoice, sandbox, clock):
    invoice = make_invoice()
    lost = broker.dequeue()  # handed to a cluster that stops before a worker starts it
    assert broker.dequeue() is None  # leased: not handed out twice
    clock.advance(outbox.HANDOUT_SECONDS + 1)  # a minute, not the five of a started worker's lease
    [package] = run(broker.dequeue())  # the lease ran out: handed out again
    assert sum(package["result"].values()) == 2
    [stale] = [SignedPackage.loads(payload) for _, payload in lost]
    assert tasks.process_leased(*stale["args"]) == {}  # its token no longer holds anything
    assert [r["DocNumber"] for r in remote_invoices(sandbox)] == [invoice.number]


def test_a_started_chunk_keeps_its_entries_for_the_whole_lease(broker, connection, make_invoice, clock):
    make_invoice()
    [(_, payload)] = broker.dequeue()
    ids, token = SignedPackage.loads(payload)["args"]
    started = outbox.take_leased(ids, token)  # a worker starts it and renews the lease...
    clock.advance(outbox.HANDOUT_SECONDS + 1)
    assert broker.dequeue() is None  # ...so a slow chunk is not handed out twice
    assert {e.pk for e in started} == set(ids)


def test_ordinary_tasks_still_go_through_the_queue_table(broker, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    async_task("math.floor", 2.5, broker=broker)
    [(ack_id, payload)] = broker.dequeue()
    assert SignedPackage.loads(payload)["func"] == "math.floor"
    assert broker.dequeue() is None  # locked while a worker has it
    broker.acknowledge(ack_id)
    assert not OrmQ.objects.exists()


def test_a_change_for_a_connection_deleted_meanwhile_is_dropped(connection, make_invoice):
    make_invoice()
    Connection.objects.filter(pk=connection.pk).delete()
    assert outbox.absorb() == []
    assert not OutboxChange.objects.exists() and not OutboxEntry.objects.exists()


def test_a_dispatcher_that_cannot_reach_the_database_tries_again_next_poll(broker, connection, make_invoice,
                                                                         monkeypatch, caplog):
    make_invoice()

    def locked(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(outbox, "absorb", locked)
    assert broker.dequeue() is None
    assert "could not poll" in caplog.text
    monkeypatch.undo()
    assert OutboxChange.objects.count() == 2  # nothing was lost


def test_several_changes_of_one_document_coalesce_and_the_last_content_is_sent(broker, connection, make_invoice,
                                                                              sandbox):
    from django.db import transaction

    from ledger.models import InvoiceLine

    invoice = make_invoice(("service", "1", "10.00"))
    for price in ("20.00", "30.00"):
        with transaction.atomic():  # two more host transactions, each recording its change
            line = InvoiceLine.objects.get(invoice=invoice)
            line.unit_price = Decimal(price)
            line.save()
    assert OutboxChange.objects.filter(source_key=f"ledger.invoice:{invoice.pk}").count() == 3
    run(broker.dequeue())
    [remote] = remote_invoices(sandbox)
    assert Decimal(str(remote["TotalAmt"])) == Decimal("30.00")
    assert OutboxEntry.objects.filter(source_key=f"ledger.invoice:{invoice.pk}").count() == 1


@pytest.mark.django_db(transaction=True)
def test_dispatchers_of_several_clusters_at_once_absorb_each_change_once(connection, make_invoice):
    from django.db import connection as db

    if db.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time; PostgreSQL's row locks are what is tested")
    invoices = [make_invoice() for _ in range(30)]
    marked = []
    assert not at_once(4, lambda: marked.extend(outbox.absorb(chunk=7)))
    assert not OutboxChange.objects.exists()
    assert OutboxEntry.objects.filter(entity="invoice").count() == len(invoices)
    assert set(OutboxEntry.objects.values_list("generation", flat=True)) == {1}  # none taken in twice
    assert len(marked) == len(set(marked)) == OutboxEntry.objects.count()


def test_without_the_outbox_broker_a_wake_up_task_sends_its_connections_changes(make_connection, org, make_invoice,
                                                                               sandbox, monkeypatch):
    """The Redis path, run in this process: a save's wake-up (``tasks.dispatch``), then the sweeper's pass."""
    from connectors.models import Direction

    monkeypatch.setattr(outbox, "dispatcher_polls", lambda: False)
    monkeypatch.setattr(outbox, "_push", lambda func, *args, name: sent.append((func, args)))
    sent = []
    woken = make_connection(org)
    other = make_connection(org, name="Second books")
    other.direction = Direction.PUSH
    other.save()
    invoice = make_invoice()
    # the customer and the invoice for both connections: the save's wake-up names every connection its transaction
    # changed (``outbox.wake``), and takes in and sends those connections' changes
    assert tasks.dispatch([woken.pk, other.pk]) == 4
    assert [r["DocNumber"] for r in remote_invoices(sandbox)] == [invoice.number]  # one sandbox company: found
    assert set(ExternalReference.objects.filter(entity="invoice").values_list("connection_id", flat=True)) == {
        woken.pk, other.pk}
    assert not OutboxChange.objects.exists() and not sent

    # A change whose wake-up was lost: taken in by someone, sent by no one. The sweeper starts a chain for it.
    invoice.notes = "Edited"
    invoice.save()
    outbox.absorb()
    waiting = OutboxEntry.objects.filter(status=EntryStatus.PENDING)
    assert set(waiting.values_list("connection_id", flat=True)) == {woken.pk, other.pk}
    assert tasks.sweep() == 0  # due just now: its wake-up may still be on its way (SWEEP_GRACE_SECONDS)
    waiting.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=conf.get("SWEEP_GRACE_SECONDS") + 1))
    assert tasks.sweep() == 2  # one chunk for each connection, leased, queued
    assert {func for func, _ in sent} == {"accounting_sync.tasks.process_chain"} and len(sent) == 2
    for _, (chunk, token) in list(sent):
        assert tasks.process_chain(chunk, token) == {EntryStatus.DONE: 1}
    assert len(sent) == 2  # nothing more to chain
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()


def test_a_backlog_saved_while_no_cluster_ran_is_taken_in_a_slice_per_poll(broker, connection, org, make_invoice,
                                                                           monkeypatch):
    customer = f.CustomerFactory(organization=org)
    for _ in range(12):
        make_invoice(customer=customer)
    monkeypatch.setattr(OutboxBroker, "absorb_limit", 5)
    monkeypatch.setattr(OutboxBroker, "absorb_chunk", 2)
    broker.dequeue()
    assert OutboxChange.objects.count() == 13 - 6  # three chunks of two: at least the limit, then dispatching
    outbox.absorb()
    assert not OutboxChange.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_host_testing_with_sync_tasks_sees_its_saves_sent_at_commit(connection, make_invoice, sandbox,
                                                                      monkeypatch):
    """``Q_CLUSTER["sync"] = True`` runs tasks in-process and no pusher polls: the wake-up does the work."""
    monkeypatch.setattr(Conf, "SYNC", True)
    monkeypatch.setattr(Conf, "BROKER_CLASS", "accounting_sync.broker.OutboxBroker")
    invoice = make_invoice()  # commits: the wake-up task runs at once
    assert [r["DocNumber"] for r in remote_invoices(sandbox)] == [invoice.number]
    assert entry_of(invoice).status == EntryStatus.DONE
