"""``python -m bench.reconcile``: a full reconciliation of synced invoices against the QBO sandbox, bulk reads.

Prints one ``name: value`` line per figure:

    reconcile_10k_s              full run over 10,000 synced invoices, in a process of its own, end to end
    reconcile_100k_s             ... over 100,000 (target <= 20 s)
    reconcile_requests_per_doc   HTTP requests (API and token) per invoice in the 100k run
    reconcile_peak_rss_mb_10k    peak RSS of that process for 10,000 ...
    reconcile_peak_rss_mb_100k   ... and for 100,000 (chunked: it should not grow)

The synced state is seeded directly and in bulk on both sides, not timed (sending 100,000 invoices through the
pipeline would take longer than the rest of ``make bench`` together), but built with the pipeline's own parts so
both sides hold what a real sync leaves:

- 50 customers and one invoice each are sent the normal way (``accounting_sync_resync``): the customers' and
  the generic items' references, the reference data and the mappings are the real ones;
- the other invoices (two lines: a service taxed at GST 10%, courier shipping untaxed; issue dates spread over
  a year) are written with ``bulk_create`` in chunks, sync switched off;
- for each one the snapshot, rules, mapping and content digest are computed as the engine computes them, the
  connector's own payload is written straight into the sandbox's store (as a user import would: the store
  computes lines, tax, totals and balances as QuickBooks does), and the ``ExternalReference`` (remote id,
  SyncToken, number, fingerprint, home total, content digest) and a done ``OutboxEntry`` are written with
  ``bulk_create``, as the engine would have recorded them.

Then ``manage.py accounting_sync_reconcile --connection ... --no-progress`` runs in a process of its own, which
reports its own peak RSS (``VmHWM``) when the command returns; it must report every invoice compared and the books
equal (exit 0). ``os.wait4``'s ``ru_maxrss`` would not do: Linux carries the peak of the process that started the
child over into the child, and that process holds the sandbox with every seeded invoice (about 6 KB each).
``BENCH_QUICK=1`` runs 300 and 1,000 instead (a smoke run). Everything runs in a throw-away SQLite database in a
temporary directory, against a QBO sandbox on loopback.
"""
from __future__ import annotations

import datetime as dt
import random
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bench.run import QUICK, ROOT, api_requests, connect, setup_environment, sync_enabled

SIZES = (300, 1_000) if QUICK else (10_000, 100_000)
CUSTOMERS = 50
CHUNK = 1_000
DAYS = 365  # issue dates spread over a year: a year of day and month totals per run


def label(count: int) -> str:
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


def _invoices(org, people, tax, start: int, stop: int, rng: random.Random, today: dt.date) -> list:
    """Invoices ``start``..``stop`` of ``org`` with their two lines, written in bulk (sync is off)."""
    from ledger.models import Invoice, InvoiceLine

    invoices = Invoice.objects.bulk_create(
        [Invoice(organization=org, customer=people[n % len(people)], number=f"{org.slug[:8]}-{n:06d}",
                 issue_date=today - dt.timedelta(days=n % DAYS)) for n in range(start, stop)])
    InvoiceLine.objects.bulk_create(
        [InvoiceLine(invoice=inv, position=pos, kind=kind, description=desc, quantity=Decimal(qty),
                     unit_price=Decimal(f"{rng.randint(100, 99999) / 100:.2f}"), tax_rate=rate)
         for inv in invoices
         for pos, (kind, desc, qty, rate) in enumerate([("service", "Lab panel", rng.randint(1, 4), tax),
                                                        ("shipping", "Courier", 1, None)])])
    return invoices


def synced(sandbox, env: dict, count: int):
    """A connection with ``count`` invoices synced: here, in the sandbox, and the references between them."""
    from django.db import transaction
    from django.utils import timezone

    from accounting_sync.core import engine, sources
    from accounting_sync.policies import rules
    from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, RemoteStatus
    from connectors.qbo import translate
    from ledger.models import Customer, Invoice, Organization, TaxRate
    from mappings.resolve import resolve

    sandbox.reset()
    sandbox.limits.off()
    name = f"R{count} bench"
    org = Organization.objects.create(name=name, slug=name.lower().replace(" ", "-"))
    tax = TaxRate.objects.create(organization=org, name="GST 10%", rate=Decimal("10"))  # mapped by connect()
    org, conn = connect(sandbox, name, organization=org)
    rng, today = random.Random(count), timezone.localdate()
    sync_enabled(False)
    with transaction.atomic():
        people = Customer.objects.bulk_create(
            [Customer(organization=org, name=f"{org.name} customer {n}") for n in range(CUSTOMERS)])
        _invoices(org, people, tax, 0, CUSTOMERS, rng, today)
    sync_enabled(True)
    # The customers, the generic items and one invoice each, the normal way.
    done = subprocess.run([sys.executable, "manage.py", "accounting_sync_resync", "--connection", conn.name],
                          cwd=ROOT, env=env, capture_output=True)
    if done.returncode != 0 or len(sandbox.store.entities("Invoice")) != CUSTOMERS:
        raise SystemExit(f"sending the first {CUSTOMERS} invoices failed: {done.stdout.decode()} "
                         f"{done.stderr.decode()[-2000:]}")
    conn.refresh_from_db()
    connector = conn.connector()
    adapter = sources.adapter_for_key(sources.key_for(Invoice(pk=0)))
    customer_refs = dict(ExternalReference.objects.filter(connection=conn, entity="customer")
                         .values_list("source_key", "remote_id"))
    mappings: dict = {}
    sync_enabled(False)
    for start in range(CUSTOMERS, count, CHUNK):
        stop = min(count, start + CHUNK)
        with transaction.atomic():
            invoices = _invoices(org, people, tax, start, stop, rng, today)
            adapter.prefetch(invoices)  # what the snapshots read, as reconciliation reads it
            refs, entries, now = [], [], timezone.now()
            for invoice in invoices:
                key = sources.key_for(invoice)
                snapshot = rules.apply(conn, connector, adapter.snapshot(invoice))
                deps = {k: customer_refs[k] for _, k in snapshot.dependencies()}
                shape = (snapshot.organization_id, tuple(sorted(deps.items())),
                         tuple((ln.kind, ln.item_key, ln.category, ln.tax_rate_key, ln.tax_rate_name)
                               for ln in snapshot.lines))  # all that resolution reads
                mapping = mappings.get(shape) or mappings.setdefault(shape, resolve(conn, snapshot, deps))
                row = sandbox.store.write("Invoice", connector._payload(snapshot, mapping),
                                          include=["allowduplicatedocnum"])  # numbers are unique: skip the scan
                result = translate.result("Invoice", row)
                refs.append(ExternalReference(
                    connection=conn, source_key=key, entity=adapter.entity, remote_id=result.remote_id,
                    remote_version=result.version, remote_number=result.number, remote_status=RemoteStatus.ACTIVE,
                    content_hash=engine.content_digest(snapshot, mapping), remote_fingerprint=result.fingerprint,
                    home_total=result.home_total, synced_at=now))
                entries.append(OutboxEntry(connection=conn, source_key=key, entity=adapter.entity,
                                           organization_id=org.pk, label=adapter.label(invoice)[:200],
                                           status=EntryStatus.DONE, done_at=now, last_attempt_at=now))
            ExternalReference.objects.bulk_create(refs)
            OutboxEntry.objects.bulk_create(entries)
    sync_enabled(True)
    remote = sandbox.store.counts()["Invoice"]
    local = ExternalReference.objects.filter(connection=conn, entity="invoice").count()
    if remote != count or local != count:
        raise SystemExit(f"seeding {count} invoices gave {remote} in the sandbox and {local} references")
    return conn


PEAK = "peak_rss_kb: "


def reconcile(sandbox, env: dict, conn, count: int) -> dict:
    """``accounting_sync_reconcile`` in a process of its own: seconds, requests, peak RSS; the books must agree."""
    before = api_requests(sandbox)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench.reconcile", "--measure", "accounting_sync_reconcile",
                           "--connection", conn.name, "--no-progress"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    output = done.stdout.decode()
    peak = [line for line in output.splitlines() if line.startswith(PEAK)]
    if done.returncode != 0 or not peak or f"{count} documents compared" not in output or " 0 variances" not in output:
        raise SystemExit(f"reconciliation of {count} did not find the books equal (exit {done.returncode}): "
                         f"{output[:2000]}")
    return {"seconds": seconds, "requests": api_requests(sandbox) - before,
            "rss_mb": int(peak[-1][len(PEAK):]) / 1024}


def measure(argv: list[str]) -> None:
    """``manage.py <argv>`` in this process, then its peak RSS on a line of its own (``PEAK``): the high-water
    mark of this process's own memory, which the one that started it does not inflate."""
    from django.core.management import execute_from_command_line

    status = 0
    try:
        execute_from_command_line(["manage.py", *argv])
    except SystemExit as exc:
        status = exc.code
    with open("/proc/self/status") as info:
        peak = next(line.split()[1] for line in info if line.startswith("VmHWM:"))
    print(f"{PEAK}{peak}", flush=True)
    sys.exit(status)


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="accounting-sync-bench-reconcile-"))
    try:
        env = setup_environment(workdir)
        from accounting_sync.reconcile.engine import fewer_collections
        from connectors.qbo.sandbox import QBOSandbox

        sandbox = QBOSandbox(port=0).start()
        results, seeding = {}, {}
        for count in SIZES:
            started = time.perf_counter()
            with fewer_collections():  # as a run does: thousands of short-lived objects per chunk (a sixth faster)
                conn = synced(sandbox, env, count)
            seeding[count] = time.perf_counter() - started
            results[count] = reconcile(sandbox, env, conn, count)
        sandbox.stop()
        small, large = (results[n] for n in SIZES)
        figures = {
            f"reconcile_{label(SIZES[0])}_s": small["seconds"],
            f"reconcile_{label(SIZES[1])}_s": large["seconds"],
            "reconcile_requests_per_doc": large["requests"] / SIZES[1],
            f"reconcile_peak_rss_mb_{label(SIZES[0])}": small["rss_mb"],
            f"reconcile_peak_rss_mb_{label(SIZES[1])}": large["rss_mb"],
        }
        for name, value in figures.items():
            print(f"{name}: {value:.3f}", flush=True)
        print("# " + "; ".join(f"{n}: {results[n]['requests']} requests, seeded in {seeding[n]:.1f} s (not timed)"
                               for n in SIZES), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        measure(sys.argv[2:])
    else:
        main()
