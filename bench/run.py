"""``make bench``: speed and memory of the sync pipeline, measured in one run on this machine.

Prints one ``name: value`` line per figure (see docs/performance.md for what each means and the last results):

    save_overhead_ratio      median save of an invoice with sync on / with sync off (target <= 1.10)
    bulk_invoices_per_s      bulk resync of 10,000 invoices to the QBO sandbox on loopback, limits off, end to end
    requests_per_invoice     HTTP requests per invoice in that resync (target <= 0.04, with batching)
    worker_peak_rss_mb_1k    peak RSS of the resync worker process for 1,000 invoices ...
    worker_peak_rss_mb_10k   ... and for 10,000 (must not grow with the number of invoices)
    baseline_time_ratio      our time for 1,000 invoices / python-quickbooks one request per invoice in a loop
    baseline_request_ratio   our requests for 1,000 invoices / that loop's requests
    latency_p50_s            save-to-remote latency, one qcluster on the ORM broker (target p50 <= 0.5 s)
    latency_p99_s
    reconcile_*              full reconciliation of 10,000 and 100,000 synced invoices (bench/reconcile.py)
    latency_baseline_*, requests_per_invoice_<platform>, <platform>_ceiling_utilisation, <platform>_429s
                             with network latency in the sandboxes and the platforms' real limits (bench/latency.py)
    outbox_pg_*              outbox rows a second one PostgreSQL writes, absorbs and claims (bench/outbox_pg.py;
                             only with BENCH_POSTGRES_URL)
    tenants_*                200 small tenants beside a 10,000-invoice backlog, two qcluster processes on
                             PostgreSQL + Redis (bench/tenants.py; only with BENCH_TENANTS=1, BENCH_POSTGRES_URL
                             and BENCH_REDIS_URL or REDIS_URL)

Everything runs in a throw-away SQLite database in a temporary directory, against a QBO sandbox on loopback.
"""
from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICK = os.environ.get("BENCH_QUICK") == "1"  # a smoke run of the script itself, not figures to report
SAVE_SAMPLES = 30 if QUICK else 300
LATENCY_SAMPLES = 10 if QUICK else 60
SMALL, LARGE = (100, 300) if QUICK else (1_000, 10_000)


def setup_environment(workdir: Path) -> dict:
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "DEBUG": "false", "LOG_LEVEL": "ERROR", "QUEUE_NAME": f"bench-{os.getpid()}",
        "ACCOUNTING_SYNC_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        # DEBUG off (no query log) needs real secrets; nothing here serves HTTP, so no HTTPS redirect.
        "SECRET_KEY": secrets.token_urlsafe(50), "SECURE_SSL_REDIRECT": "0",
        # python-quickbooks (the baseline) goes through requests-oauthlib, which refuses plain-HTTP loopback.
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
    })
    os.environ.update(env)
    for key in ("REDIS_URL",):
        os.environ.pop(key, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def sync_enabled(on: bool) -> None:
    from django.conf import settings

    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "ENABLED": on}


def connect(sandbox, name: str, limits: bool = False, organization=None):
    from accounting_sync.staff.demo import connect_to_sandbox
    from ledger.models import Organization

    org = organization or Organization.objects.create(name=name, slug=name.lower().replace(" ", "-"))
    conn = connect_to_sandbox(sandbox.base_url, org, name=name, platform="qbo")
    if not limits:
        conn.settings = {**conn.settings, "rate_limits": False}
        conn.save()
    return org, conn


def make_invoices(org, count: int, customers: int = 50) -> None:
    """``count`` invoices with two lines each, written in bulk with sync switched off."""
    from django.db import transaction

    from ledger.models import Customer, Invoice, InvoiceLine

    sync_enabled(False)
    rng = random.Random(count)
    with transaction.atomic():
        people = Customer.objects.bulk_create(
            [Customer(organization=org, name=f"{org.name} customer {n}") for n in range(customers)])
        for start in range(0, count, 1000):
            invoices = Invoice.objects.bulk_create(
                [Invoice(organization=org, customer=people[n % customers], number=f"{org.slug[:8]}-{n:06d}")
                 for n in range(start, min(count, start + 1000))])
            InvoiceLine.objects.bulk_create(
                [InvoiceLine(invoice=inv, position=pos, kind=kind, description=desc, quantity=Decimal(qty),
                             unit_price=Decimal(f"{rng.randint(100, 99999) / 100:.2f}"))
                 for inv in invoices
                 for pos, (kind, desc, qty) in enumerate([("service", "Lab panel", rng.randint(1, 4)),
                                                          ("shipping", "Courier", 1)])])
    sync_enabled(True)


def api_requests(sandbox) -> int:
    return len(sandbox.requests_log) + sandbox.token_calls


def save_overhead(sandbox) -> float:
    """Median time of saving an invoice (header + 2 lines, one transaction) with sync on / off."""
    from django.db import transaction

    from ledger.models import Invoice, InvoiceLine

    org, conn = connect(sandbox, "Bench saves", limits=True)
    make_invoices(org, 1, customers=1)
    customer = org.customers.first()
    timings = {True: [], False: []}
    for n in range(SAVE_SAMPLES * 2):
        on = bool(n % 2)
        sync_enabled(on)
        started = time.perf_counter()
        with transaction.atomic():
            invoice = Invoice.objects.create(organization=org, customer=customer, number=f"S-{n:06d}")
            InvoiceLine.objects.create(invoice=invoice, position=0, kind="service", description="Exam",
                                       quantity=Decimal("1"), unit_price=Decimal("85.00"))
            InvoiceLine.objects.create(invoice=invoice, position=1, kind="product", description="Vaccine",
                                       quantity=Decimal("2"), unit_price=Decimal("32.50"))
        timings[on].append(time.perf_counter() - started)
    sync_enabled(True)
    # Its queued saves are not part of any later figure: the latency run's cluster must not send them.
    conn.status = "disabled"
    conn.save()
    return statistics.median(timings[True]) / statistics.median(timings[False])


def bulk_resync(sandbox, env: dict, count: int) -> dict:
    """``accounting_sync_resync`` in a worker process of its own: seconds end to end, requests, peak RSS."""
    sandbox.reset()
    sandbox.limits.off()
    org, conn = connect(sandbox, f"Bench {count}")
    make_invoices(org, count)
    before = api_requests(sandbox)
    started = time.perf_counter()
    worker = subprocess.Popen([sys.executable, "manage.py", "accounting_sync_resync", "--connection", conn.name],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(worker.pid, 0)
    seconds = time.perf_counter() - started
    output = worker.stdout.read().decode()
    remote = len(sandbox.store.entities("Invoice"))
    if status != 0 or remote != count:
        raise SystemExit(f"resync of {count} failed: exit {status}, {remote} remote invoices; {output}")
    return {"seconds": seconds, "requests": api_requests(sandbox) - before, "rss_mb": usage.ru_maxrss / 1024}


def baseline(sandbox, count: int, organization: str | None = None) -> dict:
    """The same invoices (those of ``organization``, by default the 1k resync's) sent the way a developer would
    without us: python-quickbooks, one request each."""
    from intuitlib.client import AuthClient
    from quickbooks import QuickBooks
    from quickbooks.objects.customer import Customer as QCustomer
    from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
    from quickbooks.objects.invoice import Invoice as QInvoice
    from quickbooks.objects.item import Item as QItem

    from ledger.models import Invoice, Organization

    sandbox.reset()
    sandbox.limits.off()
    tokens = sandbox.issue_tokens()
    auth = AuthClient(sandbox.client_id, sandbox.client_secret, "http://localhost/callback", sandbox.discovery_url,
                      access_token=tokens["access_token"], refresh_token=tokens["refresh_token"],
                      realm_id=sandbox.realm_id)
    qb = QuickBooks(auth_client=auth, refresh_token=tokens["refresh_token"], company_id=sandbox.realm_id,
                    minorversion=75)
    qb.api_url_v3 = qb.sandbox_api_url_v3 = sandbox.api_base
    org = Organization.objects.get(name=organization or f"Bench {count}")
    sales = next(a["Id"] for a in sandbox.store.entities("Account") if a["Name"] == "Sales")
    item = QItem()
    item.Name, item.Type = "Bench service", "Service"
    item.IncomeAccountRef = {"value": sales}
    item = item.save(qb=qb)
    customers = {}
    for customer in org.customers.all():
        remote = QCustomer()
        remote.DisplayName = customer.name
        customers[customer.pk] = remote.save(qb=qb).to_ref()
    documents = []
    for invoice in Invoice.objects.filter(organization=org).prefetch_related("lines").order_by("pk")[:count]:
        remote = QInvoice()
        remote.DocNumber, remote.CustomerRef = invoice.number, customers[invoice.customer_id]
        for line in invoice.lines.all():
            row = SalesItemLine()
            row.SalesItemLineDetail = SalesItemLineDetail()
            row.SalesItemLineDetail.ItemRef = item.to_ref()
            row.SalesItemLineDetail.Qty, row.SalesItemLineDetail.UnitPrice = str(line.quantity), str(line.unit_price)
            row.Amount = str((line.quantity * line.unit_price).quantize(Decimal("0.01")))
            remote.Line.append(row)
        documents.append(remote)
    before = api_requests(sandbox)
    started = time.perf_counter()
    for remote in documents:  # the plain loop
        remote.save(qb=qb)
    return {"seconds": time.perf_counter() - started, "requests": api_requests(sandbox) - before}


def latency(sandbox, env: dict) -> list[float]:
    """Save an invoice, wait until its remote reference exists; one qcluster on the ORM broker does the work."""
    from django.db import transaction

    from accounting_sync.models import ExternalReference
    from ledger.models import Invoice, InvoiceLine

    sandbox.reset()
    sandbox.limits.restore()  # QuickBooks' real limits: a steady trickle stays far below them
    org, conn = connect(sandbox, "Bench latency", limits=True)
    make_invoices(org, 1, customers=1)
    customer = org.customers.first()
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    samples = []
    try:
        for n in range(LATENCY_SAMPLES + 3):
            with transaction.atomic():
                invoice = Invoice.objects.create(organization=org, customer=customer, number=f"L-{n:05d}")
                InvoiceLine.objects.create(invoice=invoice, kind="service", description="Consult",
                                           quantity=Decimal("1"), unit_price=Decimal("120.00"))
            started = time.perf_counter()  # committed: the clock starts when the business system has saved
            key = f"ledger.invoice:{invoice.pk}"
            deadline = started + 60
            while not ExternalReference.objects.filter(connection=conn, source_key=key).exists():
                if time.perf_counter() > deadline:
                    raise SystemExit(f"invoice {invoice.number} did not reach the sandbox within 60 s")
                time.sleep(0.005)
            if n >= 3:  # the first ones warm the cluster up (imports, the customer, reference data)
                samples.append(time.perf_counter() - started)
            time.sleep(0.05)
    finally:
        cluster.terminate()  # the cluster stops its workers itself...
        with contextlib.suppress(subprocess.TimeoutExpired):
            cluster.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):  # ...and whatever it left behind goes with its process group
            os.killpg(cluster.pid, 9)
        cluster.wait()
    return samples


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="accounting-sync-bench-"))
    try:
        env = setup_environment(workdir)
        from connectors.qbo.sandbox import QBOSandbox

        sandbox = QBOSandbox(port=0).start()
        figures = {"save_overhead_ratio": save_overhead(sandbox)}
        small = bulk_resync(sandbox, env, SMALL)
        large = bulk_resync(sandbox, env, LARGE)
        plain = baseline(sandbox, SMALL)
        delays = latency(sandbox, env)
        sandbox.stop()
        figures.update({
            "bulk_invoices_per_s": LARGE / large["seconds"],
            "requests_per_invoice": large["requests"] / LARGE,
            "worker_peak_rss_mb_1k": small["rss_mb"],
            "worker_peak_rss_mb_10k": large["rss_mb"],
            "baseline_time_ratio": small["seconds"] / plain["seconds"],
            "baseline_request_ratio": small["requests"] / plain["requests"],
            "latency_p50_s": percentile(delays, 50),
            "latency_p99_s": percentile(delays, 99),
        })
        for name, value in figures.items():
            print(f"{name}: {value:.3f}", flush=True)
        print(f"# 1k resync {small['seconds']:.1f} s, {small['requests']} requests; 10k resync "
              f"{large['seconds']:.1f} s, {large['requests']} requests; python-quickbooks loop "
              f"{plain['seconds']:.1f} s, {plain['requests']} requests; {len(delays)} latency samples")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    # Reconciliation (bench/reconcile.py): a database and a sandbox of its own, so a process of its own.
    sys.stdout.flush()
    done = subprocess.run([sys.executable, "-m", "bench.reconcile"], cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(done.returncode)
    # Latency, requests per platform, ceilings (bench/latency.py): a database and sandboxes of its own too.
    done = subprocess.run([sys.executable, "-m", "bench.latency"], cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(done.returncode)
    # What one PostgreSQL sustains (bench/outbox_pg.py): says it is skipped without BENCH_POSTGRES_URL.
    done = subprocess.run([sys.executable, "-m", "bench.outbox_pg"], cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(done.returncode)
    # Many tenants beside a backlog (bench/tenants.py): minutes long, so only when asked for.
    if os.environ.get("BENCH_TENANTS") == "1":
        done = subprocess.run([sys.executable, "-m", "bench.tenants"], cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(done.returncode)
    else:
        print("# tenants: skipped (BENCH_TENANTS=1 runs bench/tenants.py: 200 tenants beside a 10,000-invoice "
              "backlog on PostgreSQL and Redis)", flush=True)


if __name__ == "__main__":
    main()
