"""A committed change travels through the real task queue: a ``qcluster`` subprocess on the Redis broker."""
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as db

from accounting_sync.models import EntryStatus, OutboxEntry
from tests.conftest import remote_invoices

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_redis_broker_and_qcluster_sync_a_committed_invoice(connection, make_invoice, sandbox, monkeypatch):
    if not settings.REDIS_URL or db.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL (a qcluster subprocess cannot see an in-memory SQLite test db)")
    from django_q.conf import Conf

    name = f"test-{uuid.uuid4().hex[:8]}"  # a private queue, so no other test's tasks reach this cluster
    monkeypatch.setattr(Conf, "PREFIX", name)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    db_settings = db.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "QUEUE_NAME": name,
           "DATABASE_URL": f"postgres://{db_settings['USER']}@{db_settings['HOST']}:{db_settings['PORT']}/"
                           f"{db_settings['NAME']}",
           "ACCOUNTING_SYNC_ENCRYPTION_KEYS": ",".join(settings.ACCOUNTING_SYNC["ENCRYPTION_KEYS"])}
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        invoice = make_invoice()  # commits: on_commit puts a task on the Redis list
        entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            entry.refresh_from_db()
            if entry.status == EntryStatus.DONE:
                break
            time.sleep(0.25)
        assert entry.status == EntryStatus.DONE, (entry.last_error, cluster.poll())
        assert [r["DocNumber"] for r in remote_invoices(sandbox)] == [invoice.number]
    finally:
        cluster.terminate()
        try:
            cluster.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cluster.kill()
