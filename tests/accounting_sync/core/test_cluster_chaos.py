"""Chaos with real processes (PostgreSQL + Redis): two ``qcluster`` processes deliver a backlog under about 20%
injected faults of every kind while one of them is SIGKILLed again and again. In the end: 0 duplicates, 0 lost,
0 stuck, and no deadlock anywhere in the workers' output or their failed tasks.

Bounded: a few hundred invoices, short leases and backoff (handed to the clusters through the environment), and
a hard deadline."""
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as db, transaction

from accounting_sync.models import EntryStatus, OutboxEntry
from connectors.sandboxkit.faults import KINDS
from ledger.models import Invoice
from tests import factories as f
from tests.conftest import remote_invoices
from tests.processes import stop_group

ROOT = Path(__file__).resolve().parents[3]
COUNT = 200
KILLS = 8
DEADLINE = 240  # seconds for the whole delivery; it takes well under a minute on an idle machine
OVERRIDES = {"LEASE_SECONDS": 4, "BACKOFF_BASE_SECONDS": 1, "BACKOFF_CAP_SECONDS": 3, "MAX_ATTEMPTS": 60,
             "DEPENDENCY_WAIT_SECONDS": 1}


@pytest.fixture
def clusters(monkeypatch, tmp_path):
    """Start ``qcluster`` subprocesses on a private Redis queue, each in its own process group, their output
    kept in files; stop whatever is left at the end."""
    from django_q.conf import Conf

    if db.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("needs PostgreSQL and REDIS_URL (the CI's second run)")
    from accounting_sync.core import outbox

    monkeypatch.setattr(outbox, "dispatcher_polls", lambda: False)
    name = f"chaos-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(Conf, "PREFIX", name)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    s = db.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "QUEUE_NAME": name, "Q_WORKERS": "2",
           "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}", "LOG_LEVEL": "WARNING",
           "ACCOUNTING_SYNC_ENCRYPTION_KEYS": ",".join(settings.ACCOUNTING_SYNC["ENCRYPTION_KEYS"]),
           "ACCOUNTING_SYNC_TEST_OVERRIDES": json.dumps(OVERRIDES)}
    started = []

    def start():
        log = (tmp_path / f"cluster-{len(started)}.log").open("wb")
        process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        started.append(process)
        return process

    start.logs = lambda: "\n".join(p.read_text(errors="replace") for p in sorted(tmp_path.glob("cluster-*.log")))
    yield start
    for process in started:
        stop_group(process, grace=0)


@pytest.mark.django_db(transaction=True)
def test_two_clusters_one_killed_repeatedly_under_faults(clusters, org, connection, sandbox, settings, monkeypatch):
    from django_q.models import Failure

    from accounting_sync.tasks import sweep

    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, **OVERRIDES}
    connection.settings = {**connection.settings, "timeout": 1, "rate_limits": False}  # faults, not pacing
    connection.save()
    monkeypatch.setattr(sandbox.faults, "timeout_seconds", 1.5)
    monkeypatch.setattr(sandbox.auth, "refresh_grace_seconds", 86400)
    sandbox.faults.rate(0.2, kinds=KINDS, seed=20261203, retry_after=1)  # a throttle pauses the connection 1 s

    steady, victim = clusters(), clusters()
    customers = [f.CustomerFactory(organization=org) for _ in range(10)]
    with transaction.atomic():
        for n in range(COUNT):
            invoice = f.InvoiceFactory(organization=org, customer=customers[n % 10], number=f"CH-{n:04d}")
            f.InvoiceLineFactory(invoice=invoice, quantity=Decimal(1 + n % 3), unit_price=Decimal(f"{n % 89}.25"))

    kills, started, last_kill, last_sweep = 0, time.monotonic(), time.monotonic(), 0.0
    while time.monotonic() - started < DEADLINE:
        now = time.monotonic()
        if kills < KILLS and now - last_kill > 4:
            os.killpg(victim.pid, signal.SIGKILL)  # the whole cluster: sentinel, pusher, workers, monitor
            victim.wait(timeout=10)
            kills, last_kill, victim = kills + 1, now, clusters()
        if now - last_sweep > 2:  # what the every-minute schedule does, sooner
            sweep()
            last_sweep = now
        if kills >= KILLS and not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists() \
                and OutboxEntry.objects.count() == COUNT + len(customers):
            break
        time.sleep(0.5)
    sandbox.faults.rate(0)
    assert steady.poll() is None, "the steady cluster died"

    left = OutboxEntry.objects.exclude(status=EntryStatus.DONE)
    assert kills == KILLS
    assert not left.exists(), list(left.values_list("label", "status", "attempts", "last_error")[:5])  # 0 stuck
    remote = remote_invoices(sandbox)
    numbers = [r["DocNumber"] for r in remote]
    assert len(numbers) == len(set(numbers)) == COUNT  # 0 duplicates, 0 lost
    by_number = {r["DocNumber"]: r for r in remote}
    for invoice in Invoice.objects.filter(organization=org):
        assert Decimal(str(by_number[invoice.number]["TotalAmt"])) == invoice.totals().total, invoice.number
    output = clusters.logs().lower()
    failures = [str(x.result) for x in Failure.objects.all()]
    assert "deadlock" not in output and not any("deadlock" in r.lower() for r in failures), \
        [line for line in output.splitlines() if "deadlock" in line][:5] or failures[:5]
