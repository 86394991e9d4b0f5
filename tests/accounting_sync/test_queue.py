"""The real task queue: ``qcluster`` subprocesses on the Redis broker, including one killed mid-write."""
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

ROOT = Path(__file__).resolve().parents[2]


def needs_postgres_and_redis():
    if not settings.REDIS_URL or db.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL (a qcluster subprocess cannot see an in-memory SQLite test db)")


@pytest.fixture
def cluster(monkeypatch):
    """Start ``qcluster`` subprocesses on a private Redis queue; each in its own process group."""
    needs_postgres_and_redis()
    from django_q.conf import Conf

    name = f"test-{uuid.uuid4().hex[:8]}"  # a private queue, so no other test's tasks reach this cluster
    monkeypatch.setattr(Conf, "PREFIX", name)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    db_settings = db.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "QUEUE_NAME": name,
           "DATABASE_URL": f"postgres://{db_settings['USER']}@{db_settings['HOST']}:{db_settings['PORT']}/"
                           f"{db_settings['NAME']}",
           "ACCOUNTING_SYNC_ENCRYPTION_KEYS": ",".join(settings.ACCOUNTING_SYNC["ENCRYPTION_KEYS"])}
    started = []

    def start():
        process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def wait_for(predicate, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_redis_broker_and_qcluster_sync_a_committed_invoice(cluster, connection, make_invoice, sandbox):
    process = cluster()
    invoice = make_invoice()  # commits: on_commit puts a task on the Redis list
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert wait_for(lambda: OutboxEntry.objects.get(pk=entry.pk).status == EntryStatus.DONE), \
        (OutboxEntry.objects.get(pk=entry.pk).last_error, process.poll())
    assert [r["DocNumber"] for r in remote_invoices(sandbox)] == [invoice.number]


@pytest.mark.django_db(transaction=True)
def test_cluster_killed_mid_write_then_new_cluster_completes_exactly_once(cluster, connection, make_invoice,
                                                                          sandbox, monkeypatch):
    from accounting_sync.tasks import sweep

    # QuickBooks applies the create, then holds its response: the worker is inside the call when it dies.
    monkeypatch.setattr(sandbox.faults, "timeout_seconds", 30)
    sandbox.faults.add("timeout", match="POST /invoice")  # whichever path the worker takes: one document...
    sandbox.faults.add("timeout", match="POST /batch")  # ...or a batch (the customer and its invoice together)
    first = cluster()
    invoice = make_invoice()
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert wait_for(lambda: len(remote_invoices(sandbox)) == 1), first.poll()
    os.killpg(first.pid, signal.SIGKILL)  # the whole cluster: sentinel, pusher, workers, monitor
    first.wait(timeout=10)
    sandbox.faults.clear()
    entry.refresh_from_db()
    assert entry.status == EntryStatus.IN_PROGRESS and entry.write_started  # the lease of a dead worker

    OutboxEntry.objects.filter(pk=entry.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))  # expires
    cluster()
    assert sweep() >= 1  # what the every-minute schedule does: re-enqueue due and abandoned entries
    assert wait_for(lambda: OutboxEntry.objects.get(pk=entry.pk).status == EntryStatus.DONE), \
        OutboxEntry.objects.get(pk=entry.pk).last_error
    [remote] = remote_invoices(sandbox)
    assert remote["DocNumber"] == invoice.number
    ref = ExternalReference.objects.get(source_key=entry.source_key)
    assert ref.remote_id == remote["Id"]
    assert SyncLog.objects.filter(entry_id=entry.pk, operation="adopt", outcome="success").exists()
