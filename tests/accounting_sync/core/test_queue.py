"""The real task queue: ``qcluster`` subprocesses on the Redis broker and on the ORM broker with the outbox
dispatcher (``OutboxBroker``), including a cluster killed mid-write."""
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as db
from django.utils import timezone

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, SyncLog
from tests.conftest import remote_invoices
from tests.processes import running, stop_group

ROOT = Path(__file__).resolve().parents[3]


BROKERS = ["redis", "orm"]


@pytest.fixture(params=BROKERS)
def broker(request, monkeypatch):
    """Which broker the clusters (and this process, the host saving invoices) use."""
    if db.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (a qcluster subprocess cannot see an in-memory SQLite test db)")
    if request.param == "redis" and not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    from accounting_sync.core import outbox

    monkeypatch.setattr(outbox, "dispatcher_polls", lambda: request.param == "orm")
    return request.param


@pytest.fixture
def cluster(monkeypatch, broker, tmp_path_factory):
    """Start ``qcluster`` subprocesses on a private queue; each in its own process group."""
    from django_q.conf import Conf

    name = f"test-{uuid.uuid4().hex[:8]}"  # a private queue, so no other test's tasks reach this cluster
    monkeypatch.setattr(Conf, "PREFIX", name)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    db_settings = db.settings_dict
    base = {k: v for k, v in os.environ.items() if k != "REDIS_URL" or broker == "redis"}
    env = {**base, "DJANGO_SETTINGS_MODULE": "tests.settings", "QUEUE_NAME": name, "LOG_LEVEL": "INFO",
           "DATABASE_URL": f"postgres://{db_settings['USER']}@{db_settings['HOST']}:{db_settings['PORT']}/"
                           f"{db_settings['NAME']}",
           "ACCOUNTING_SYNC_ENCRYPTION_KEYS": ",".join(settings.ACCOUNTING_SYNC["ENCRYPTION_KEYS"])}
    started = []
    logs = tmp_path_factory.mktemp("qcluster")

    def start():
        log_path = logs / f"cluster-{len(started) + 1}.log"  # what a failing test shows (cluster_log)
        with open(log_path, "wb") as log:
            process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        process.log_path = str(log_path)
        started.append(process)
        return process

    yield start
    for process in started:
        stop_group(process)


def cluster_log(process, lines=40) -> str:
    """The last lines a cluster printed (at INFO: the tasks it took, warnings, tracebacks)."""
    with open(process.log_path, encoding="utf-8", errors="replace") as log:
        return "".join(log.readlines()[-lines:])


def wait_for(predicate, seconds=60, every=None, period=10.0):
    """Poll ``predicate`` until true or ``seconds`` pass; ``every`` (if given) runs each ``period`` seconds meanwhile
    (the schedule a real deployment runs, such as the sweep)."""
    deadline = time.monotonic() + seconds
    next_run = time.monotonic() + period
    while time.monotonic() < deadline:
        if predicate():
            return True
        if every is not None and time.monotonic() >= next_run:
            every()
            next_run = time.monotonic() + period
        time.sleep(0.1)
    return False


def entry_once_absorbed(document) -> OutboxEntry:
    """The document's entry, once the cluster's dispatcher has taken in the saved change."""
    key = f"{document._meta.label_lower}:{document.pk}"
    assert wait_for(lambda: OutboxEntry.objects.filter(source_key=key).exists()), "the change was never absorbed"
    return OutboxEntry.objects.get(source_key=key)


@pytest.mark.django_db(transaction=True)
def test_qcluster_syncs_a_committed_invoice(broker, cluster, connection, make_invoice, sandbox):
    from django_q.models import OrmQ

    process = cluster()
    invoice = make_invoice()  # commits: a wake-up task on the Redis list, or nothing at all for the ORM broker
    if broker == "orm":
        assert not OrmQ.objects.exists()  # the save handed no task row to the queue
    entry = entry_once_absorbed(invoice)
    assert wait_for(lambda: OutboxEntry.objects.get(pk=entry.pk).status == EntryStatus.DONE), \
        (OutboxEntry.objects.get(pk=entry.pk).last_error, process.poll())
    assert [r["DocNumber"] for r in remote_invoices(sandbox)] == [invoice.number]


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_saves_goes_out_in_batches_each_invoice_once(broker, cluster, org, connection, make_invoice,
                                                                sandbox):
    """Two workers and a pusher (or a wake-up per save) against 120 saves made while they run."""
    from tests import factories as f

    cluster()
    customer = f.CustomerFactory(organization=org)
    invoices = [make_invoice(customer=customer) for _ in range(120)]
    assert wait_for(lambda: OutboxEntry.objects.filter(status=EntryStatus.DONE).count() == 121, seconds=90), \
        list(OutboxEntry.objects.exclude(status=EntryStatus.DONE).values_list("status", "last_error")[:5])
    remote = remote_invoices(sandbox)
    assert sorted(r["DocNumber"] for r in remote) == sorted(i.number for i in invoices)  # each exactly once
    writes = [p for m, p, _ in sandbox.requests_log if m == "POST" and p.rsplit("/", 1)[-1] in ("invoice", "batch")]
    assert 0 < len(writes) < 60  # many invoices per request: the saves were not sent one by one


@pytest.mark.django_db(transaction=True)
def test_cluster_killed_mid_write_then_new_cluster_completes_exactly_once(broker, cluster, connection, make_invoice,
                                                                          sandbox, monkeypatch):
    from accounting_sync.tasks import sweep

    # QuickBooks applies the create, then holds its response: the worker is inside the call when it dies.
    monkeypatch.setattr(sandbox.faults, "timeout_seconds", 30)
    sandbox.faults.add("timeout", match="POST /invoice")  # whichever path the worker takes: one document...
    sandbox.faults.add("timeout", match="POST /batch")  # ...or a batch (the customer and its invoice together)
    first = cluster()
    invoice = make_invoice()
    entry = entry_once_absorbed(invoice)
    assert wait_for(lambda: len(remote_invoices(sandbox)) == 1), first.poll()
    os.killpg(first.pid, signal.SIGKILL)  # the whole cluster: sentinel, pusher, workers, monitor
    first.wait(timeout=10)
    sandbox.faults.clear()
    entry.refresh_from_db()
    assert entry.status == EntryStatus.IN_PROGRESS and entry.write_started  # the lease of a dead worker

    # Time passes: every lease the dead cluster held expires (the invoice's, and its customer's when the two went
    # out in one batch: the invoice would otherwise wait for a customer still leased to the dead worker).
    OutboxEntry.objects.filter(status=EntryStatus.IN_PROGRESS).update(
        lease_until=timezone.now() - dt.timedelta(seconds=1))
    second = cluster()
    if broker == "redis":
        assert sweep() >= 1  # what the every-minute schedule does: re-enqueue due and abandoned entries
    # (the ORM broker's dispatcher finds the abandoned entry by itself at its next poll). With Redis the sweep's task
    # can be lost: a pusher killed inside BLPOP may still be registered when the task is pushed on a busy machine,
    # and Redis hands the task to the dead connection. The schedule runs the sweep again (every minute in a
    # deployment, every 10 s here), which is why a lost message is harmless; an entry sent twice is claimed once.
    if not wait_for(lambda: OutboxEntry.objects.get(pk=entry.pk).status == EntryStatus.DONE, seconds=180,
                    every=sweep if broker == "redis" else None):
        # printed, not put in the assertion: pytest cuts a long assertion message short
        print("entry:", OutboxEntry.objects.filter(pk=entry.pk).values(
            "status", "last_error", "attempts", "lease_until", "lease_token", "last_attempt_at")[0],
            "now:", timezone.now())
        print("last requests:", sandbox.requests_log[-8:])
        print("qcluster processes:", running("qcluster"), "first, second:", first.pid, second.pid)
        print("second cluster:", cluster_log(second, 80), "first cluster:", cluster_log(first, 80), sep="\n")
        print("log:", list(SyncLog.objects.values_list("created_at", "entry_id", "operation", "outcome", "message")))
        pytest.fail("the entry did not complete after the second cluster started (details printed above)")
    [remote] = remote_invoices(sandbox)
    assert remote["DocNumber"] == invoice.number
    ref = ExternalReference.objects.get(source_key=entry.source_key)
    assert ref.remote_id == remote["Id"]
    assert SyncLog.objects.filter(entry_id=entry.pk, operation="adopt", outcome="success").exists()
