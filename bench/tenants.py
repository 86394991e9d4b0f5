"""``python -m bench.tenants``: a vertical SaaS host in small. Many companies, each with its own connection.

``SMALL_TENANTS`` (200) companies each save ``SMALL_INVOICES`` (20) invoices at random moments over
``SPREAD_S`` (60 s) while one more company's ``BACKLOG`` (10,000) invoices, queued as a resync queues them, drain
to the same platform; two ``qcluster`` processes on PostgreSQL and Redis do the work, and every request to the QBO
sandbox takes ``LATENCY_S`` (100 ms). Prints one ``name: value`` line per figure:

    tenants_small_p99_s   from a small company's commit to its invoice's remote reference, p99 (target <= 2 s)
    tenants_small_p50_s   the same, p50
    tenants_big_drain_s   from the backlog's resync being queued to its last invoice's remote reference

Needs ``BENCH_POSTGRES_URL`` (a database of its own: the bench empties it with ``flush`` first) and
``BENCH_REDIS_URL`` (or ``REDIS_URL``); without them it says so and stops. Each company connects to a sandbox
company of its own. The platform's rate limits are off (the backlog's company would drain at QBO's 40 batches a
minute, over eight minutes, which ``qbo_ceiling_utilisation`` measures already). ``BENCH_QUICK=1``: 20 companies of
5 invoices over 10 s beside a backlog of 300 (a smoke run of the script, not figures). ``BENCH_TENANT_WORKERS`` sets
each cluster's workers (default 5: a worker mostly waits on the platform, but on two cores shared with PostgreSQL,
the sandbox and the saving loop the burst keeps the CPU busy, and 8 a cluster gave a worse p99 than 5;
docs/performance.md, "Tenants"). A comment line then says where a small invoice waited: from its commit to its wake-
up taking the change in (the queue), to its lease, to its remote reference (the sending).
``BENCH_TENANTS_DUMP=<file>`` writes each small invoice's moment in the plan, delay and stage timestamps there as
JSON, with the start of the plan (to see when in the minute they waited).

Each company has sent one invoice before the minute (``established``). In the minute each company's invoices go to
that earlier patient until a new patient's first invoice, which sends the patient along first (a dependency): at a
random one of its 20 (``BENCH_TENANTS_NEW_PATIENTS=spread``, the default: new patients arrive over the minute) or at
its very first (``first``: all 200 new patients in the minute's first seconds, the pattern of the runs before
2026-12-05 12:00 UTC).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal

import requests

from bench.latency import qcluster, queue_backlog
from bench.run import QUICK, ROOT, make_invoices, percentile, sync_enabled

SMALL_TENANTS, SMALL_INVOICES, SPREAD_S, BACKLOG = (20, 5, 10, 300) if QUICK else (200, 20, 60, 10_000)
BACKLOG = int(os.environ.get("BENCH_TENANTS_BACKLOG", BACKLOG))
LATENCY_S = 0.1
CLUSTERS = 2
WORKERS = int(os.environ.get("BENCH_TENANT_WORKERS", "5"))
NEW_PATIENTS = os.environ.get("BENCH_TENANTS_NEW_PATIENTS", "spread")  # or "first": see ``main``
DRAIN_LIMIT_S = 1800  # the bench gives up (and says so) if the backlog is not through by then


def setup() -> dict:
    url = os.environ.get("BENCH_POSTGRES_URL", "")
    redis = os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or not redis:
        print("# tenants: skipped (set BENCH_POSTGRES_URL to a PostgreSQL database the bench may empty, and "
              "BENCH_REDIS_URL or REDIS_URL)", flush=True)
        raise SystemExit(0)
    from cryptography.fernet import Fernet

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": url, "REDIS_URL": redis,
           "DEBUG": "false", "LOG_LEVEL": "ERROR", "QUEUE_NAME": f"bench-tenants-{uuid.uuid4().hex[:8]}",
           "SECRET_KEY": uuid.uuid4().hex * 2, "SECURE_SSL_REDIRECT": "0", "Q_WORKERS": str(WORKERS),
           "ACCOUNTING_SYNC_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from django_q.models import Schedule

    call_command("migrate", verbosity=0)
    schedules = list(Schedule.objects.values())  # made by migrations: the sweeper, polling, token upkeep
    call_command("flush", interactive=False, verbosity=0)
    Schedule.objects.bulk_create(Schedule(**row) for row in schedules)
    return env


class Platform:
    """The QBO sandbox in a process of its own (``python -m connectors.qbo.sandbox``, limits off): the platform is
    not the host, so its work does not share the host's interpreter lock with the saving loop (on two cores it still
    shares the CPU). Each connection's consent makes a company of its own there (``--company-per-consent``), as each
    of a host's customer companies has its own QuickBooks company: a company's reconciliation reads its own
    documents, not the whole bench's. Latency is switched on after the set-up (``POST /_sandbox/latency``)."""

    def __init__(self, env: dict) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "connectors.qbo.sandbox", "--no-limits", "--company-per-consent", "--port",
             str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.time() + 60
        while True:
            try:
                requests.get(f"{self.base_url}/_sandbox/state", timeout=5).raise_for_status()
                return
            except requests.RequestException:
                if time.time() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise SystemExit("tenants: the sandbox did not start") from None
                time.sleep(0.2)

    def latency(self, seconds: float) -> None:
        requests.post(f"{self.base_url}/_sandbox/latency", json={"all": seconds}, timeout=10).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, 9)
        self.process.wait()


def connect(sandbox, name: str):
    from accounting_sync.staff.demo import connect_to_sandbox
    from ledger.models import Organization

    org = Organization.objects.create(name=name, slug=f"t{Organization.objects.count():04d}")
    conn = connect_to_sandbox(sandbox.base_url, org, name=name, platform="qbo")
    conn.settings = {**conn.settings, "rate_limits": False}
    conn.direction = "push"  # pushing only: no polling of the platform in the figures
    conn.save()
    return org, conn


def established(org, conn):
    """The company has used the product before the measured minute: one earlier invoice sent, in this process, so what
    its platform company needed once (the generic items an invoice's lines post through) exists there and is
    remembered on the connection. Without it all 200 companies would make their items in the same few seconds, a
    start no host sees (the worker processes still start cold). Returns that invoice's patient."""
    from django.conf import settings
    from django.test import override_settings

    from accounting_sync import tasks
    from ledger.models import Customer

    sync_enabled(False)
    earlier = Customer.objects.create(organization=org, name="An earlier patient")
    sync_enabled(True)
    with override_settings(ACCOUNTING_SYNC={**settings.ACCOUNTING_SYNC, "QUEUE_TASKS": False}):
        save_invoice(org, earlier, "EARLIER-1")
        tasks.drain(conn.pk)
    return earlier


def save_invoice(org, customer, number: str) -> str:
    """One invoice with two lines in one transaction, as the host saves it; returns its source key."""
    from django.db import transaction

    from accounting_sync.core import sources
    from ledger.models import Invoice, InvoiceLine

    with transaction.atomic():
        invoice = Invoice.objects.create(organization=org, customer=customer, number=number)
        InvoiceLine.objects.create(invoice=invoice, position=0, kind="service", description="Consult",
                                   quantity=Decimal("1"), unit_price=Decimal("120.00"))
        InvoiceLine.objects.create(invoice=invoice, position=1, kind="product", description="Dressing",
                                   quantity=Decimal("2"), unit_price=Decimal("7.50"))
    return sources.key_for(invoice)


def main() -> None:
    env = setup()
    from accounting_sync.core import outbox
    from accounting_sync.models import ExternalReference, OutboxEntry
    from ledger.models import Customer

    sandbox = Platform(env)
    try:
        small = []
        for n in range(SMALL_TENANTS):
            org, conn = connect(sandbox, f"Clinic {n:03d}")
            earlier = established(org, conn)
            sync_enabled(False)  # a new patient: their first invoice sends them along (a dependency)
            small.append((org, earlier, Customer.objects.create(organization=org, name=f"Patient of clinic {n:03d}"),
                          conn))
            sync_enabled(True)
        big_org, big = connect(sandbox, "Hospital group")
        make_invoices(big_org, BACKLOG)  # with sync off
        queue_backlog(big, big_org)  # pending entries as `accounting_sync_resync --queue` leaves them, in bulk
        backlog = list(OutboxEntry.objects.filter(connection=big).values_list("pk", flat=True))
        rng = random.Random(SMALL_TENANTS)
        plan = sorted((rng.uniform(0, SPREAD_S), t, i) for t in range(SMALL_TENANTS) for i in range(SMALL_INVOICES))
        # Which of its invoices (in time order) is a company's new patient's first: a random one ("spread": new
        # patients arrive over the minute, as they do), or every company's first ("first": 200 dependencies in the
        # minute's first seconds). The invoices before it go to the earlier patient.
        arrives = [rng.randrange(SMALL_INVOICES) if NEW_PATIENTS == "spread" else 0 for _ in range(SMALL_TENANTS)]
        seen = [0] * SMALL_TENANTS
        sandbox.latency(LATENCY_S)
        with contextlib.ExitStack() as clusters:
            for _ in range(CLUSTERS):
                clusters.enter_context(qcluster(env))
            time.sleep(5)  # the clusters start (imports, Redis connections)
            queued = time.time()
            outbox.enqueue(backlog)  # what the resync does once its entries are written
            committed: dict[str, float] = {}
            start = time.time()
            for at, tenant, number in plan:
                time.sleep(max(0.0, start + at - time.time()))
                org, earlier, new, _ = small[tenant]
                customer = new if seen[tenant] >= arrives[tenant] else earlier
                seen[tenant] += 1
                committed[save_invoice(org, customer, f"C{tenant:03d}-{number:02d}")] = time.time()
            lag_s = time.time() - start - SPREAD_S  # how far the saving loop itself fell behind its plan
            smalls = ExternalReference.objects.filter(  # not the earlier invoice of ``established``
                connection__in=[c for *_, c in small], entity="invoice",
                created_at__gte=dt.datetime.fromtimestamp(queued, tz=dt.UTC))
            bigs = ExternalReference.objects.filter(connection=big, entity="invoice")
            deadline = queued + DRAIN_LIMIT_S
            while (smalls.count() < len(committed) or bigs.count() < BACKLOG) and time.time() < deadline:
                time.sleep(1)
        arrived = dict(smalls.values_list("source_key", "created_at"))
        stages = {key: (absorbed.timestamp(), leased.timestamp() if leased else None) for key, absorbed, leased in
                  OutboxEntry.objects.filter(connection__in=[c for *_, c in small], entity="invoice")
                  .values_list("source_key", "created_at", "last_attempt_at")}
        delays = [arrived[key].timestamp() - at for key, at in committed.items() if key in arrived]
        last_big = bigs.order_by("-created_at").values_list("created_at", flat=True).first()
        sent_big = bigs.count()
    finally:
        sandbox.stop()
    if len(delays) < len(committed) or sent_big < BACKLOG:
        raise SystemExit(f"tenants: not everything arrived within {DRAIN_LIMIT_S} s: {len(delays)} of "
                         f"{len(committed)} small invoices, {sent_big} of {BACKLOG} from the backlog")
    figures = {"tenants_small_p99_s": percentile(delays, 99), "tenants_small_p50_s": percentile(delays, 50),
               "tenants_big_drain_s": last_big.timestamp() - queued}
    for name, value in figures.items():
        print(f"{name}: {value:.3f}", flush=True)
    if os.environ.get("BENCH_TENANTS_DUMP"):  # each small invoice: its second in the plan, delay, stage timestamps
        with open(os.environ["BENCH_TENANTS_DUMP"], "w") as out:
            json.dump({"start": start, "invoices": [
                (at - start, arrived[key].timestamp() - at, *(stages.get(key) or (None, None)))
                for key, at in committed.items() if key in arrived]}, out)
    print(f"# where a small invoice waited: {breakdown(committed, stages, arrived)}", flush=True)
    print(f"# {SMALL_TENANTS} companies x {SMALL_INVOICES} invoices over {SPREAD_S} s (saving loop behind its plan "
          f"by {lag_s:.1f} s) beside a backlog of {BACKLOG}; {CLUSTERS} qcluster x {WORKERS} "
          f"workers, PostgreSQL + Redis, {LATENCY_S * 1000:.0f} ms a request; new patients {NEW_PATIENTS}; small p100 "
          f"{max(delays):.2f} s",
          flush=True)


def breakdown(committed: dict, stages: dict, arrived: dict) -> str:
    """p50 / p99 of each stage of a small invoice's way: commit to its wake-up taking the change in (the entry's
    creation: the task waited in the queue), to its lease, to its remote reference (the sending)."""
    waits: dict[str, list[float]] = {"queued": [], "leased": [], "sent": []}
    for key, at in committed.items():
        absorbed, leased = stages.get(key, (None, None))
        if absorbed is None or leased is None or key not in arrived:
            continue
        waits["queued"].append(absorbed - at)
        waits["leased"].append(leased - absorbed)
        waits["sent"].append(arrived[key].timestamp() - leased)
    return "; ".join(f"{stage} p50 {percentile(values, 50):.2f} s, p99 {percentile(values, 99):.2f} s"
                     for stage, values in waits.items() if values)


if __name__ == "__main__":
    sys.exit(main())
