"""``python -m bench.latency``: what users meet, with a network between us and the platform.

Prints one ``name: value`` line per figure:

    latency_baseline_time_ratio      our time for 1,000 invoices / a plain python-quickbooks loop's (one request
                                     per invoice), both against the QBO sandbox answering every request in 150 ms
                                     (target < 0.2); ours: one ``qcluster`` (the project's settings, two workers)
                                     started on a queued resync, until the last remote reference
    latency_baseline_request_ratio   our requests / the loop's, in the qcluster run
    requests_per_invoice_<platform>  HTTP requests (API and token) per invoice in a bulk resync of 200 invoices
                                     (5 customers, reference data and token included), for every registered API
                                     platform, each against its own sandbox
    qbo_ceiling_utilisation          invoices a minute achieved by one qcluster on a backlog with QuickBooks' real
                                     limits on (500 requests and 40 batches a minute, 10 in flight), in steady
                                     state, divided by the most those limits allow (target >= 0.9) ...
    xero_ceiling_utilisation         ... and with Xero's (60 a minute, 5 in flight, 5,000 a day)
    qbo_429s, xero_429s              responses 429 the platforms sent on the way (target 0)

A comment line after each ceiling says how many requests a minute went in steady state (QBO: batch requests, the
bound that binds) against what the budget allows (``connectors.budget.SHARE`` of the limit): requests far below it
mean the budget did not bind and the machine's own throughput was the bound.

Requests per platform are counted by the sandboxes themselves: every request a sandbox works on passes its latency
(``connectors.sandboxkit.latency``), which tallies it by endpoint kind, whether or not it waits. The loop is the
same python-quickbooks loop as ``baseline_time_ratio``'s in ``bench/run.py`` (its customers and item are made before
the clock starts; ours are part of our time), run in a process of its own with a sandbox of its own while the per-
platform requests are counted (it mostly waits on the latency; ``start_loop``). The ceilings run a ``qcluster``
(``OutboxBroker``) on a backlog for a fixed time and count the invoices that reached the platform after the first
minute (the budget lets a burst take 95% of a minute's allowance at once; after that the rate is the steady one, and
a steady window must be a whole minute, since the burst's pattern repeats each window), so they do not wait for a
10,000 backlog to drain. The backlog is queued the way a resync queues it, one pending ``OutboxEntry`` per invoice,
but written in bulk (not timed). ``BENCH_QUICK=1`` runs smaller numbers (a smoke run of the script, not figures).
Everything runs in a throw-away SQLite database in a temporary directory; platforms on loopback.
"""
from __future__ import annotations

import collections
import contextlib
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import QUICK, ROOT, api_requests, baseline, connect, make_invoices, setup_environment

LATENCY_S = 0.15  # per request, every kind
BASELINE_INVOICES = 100 if QUICK else 1_000
PLATFORM_INVOICES, PLATFORM_CUSTOMERS = (30, 3) if QUICK else (150, 3)
#: Ceiling runs: the backlog, the burst left out before measuring (the budget's window), the steady seconds
#: measured after it, the latency of every request.
CEILING_BACKLOG = 1_000 if QUICK else 10_000
CEILING_WARMUP_S, CEILING_STEADY_S = (10, 10) if QUICK else (60, 60)
CEILING_LATENCY_S = 0.1
#: The limit rules (sandbox names) that bound documents a minute on each platform: per request, the batch size.
CEILING_RULES = {"qbo": ("per_minute", "batch_per_minute"), "xero": ("minute",)}
#: Which requests count against the rule that binds (QBO: its batches; Xero: every request).
BOUND_REQUESTS = {"qbo": lambda path: path.rstrip("/").endswith("/batch"), "xero": lambda path: True}


def requests_seen(sandbox) -> collections.Counter:
    """Requests the sandbox worked on (API and token) by endpoint kind, from its latency tally: counted alike on
    every sandbox."""
    return collections.Counter({kind: count for kind, (count, _) in sandbox.latency.waited.items()})


@contextlib.contextmanager
def qcluster(env: dict):
    """One ``qcluster`` (the project's settings: ``OutboxBroker``, ``Q_WORKERS`` workers) for the body, started at
    once; stopped with whatever it left behind (its process group)."""
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield cluster
    finally:
        cluster.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            cluster.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(cluster.pid, 9)
        cluster.wait()


def only(conn) -> None:
    """A cluster works for this connection only: the others are switched off (their sandboxes are gone), and it
    pushes without polling the platform, so every request counted is a push."""
    from connectors.models import Connection

    Connection.objects.exclude(pk=conn.pk).update(status="disabled")
    conn.direction = "push"
    conn.save()


def on_cluster(sandbox, env: dict, count: int) -> dict:
    """Ours the way the product runs: a ``qcluster`` sends a resync queued for it (``--queue``), from the cluster's
    start (its process start included) to the last invoice's remote reference. The resync is queued before the
    cluster starts: queued while it runs, its one-by-one upserts and the cluster's writes took turns at SQLite's
    single write lock, which on a busy machine outlasted SQLite's 5-second wait ("database is locked")."""
    from django.core.management import call_command

    from accounting_sync.models import ExternalReference

    sandbox.reset()
    sandbox.limits.off()
    name = f"Cluster {count}"
    org, conn = connect(sandbox, name)
    only(conn)
    make_invoices(org, count)
    call_command("accounting_sync_resync", connection=name, queue=True, no_progress=True, stdout=io.StringIO())
    before = api_requests(sandbox)
    started = time.perf_counter()
    with qcluster(env):
        deadline = started + 600
        while ExternalReference.objects.filter(connection=conn, entity="invoice").count() < count:
            if time.perf_counter() > deadline:
                raise SystemExit(f"the cluster did not send {count} invoices within 10 minutes")
            time.sleep(0.1)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "requests": api_requests(sandbox) - before}


def latency_baseline(env: dict) -> dict:
    """Ours (a running qcluster) against the QBO sandbox answering every request in ``LATENCY_S``; the
    python-quickbooks loop over the same invoices is started after it (``start_loop``)."""
    from connectors.qbo.sandbox import QBOSandbox

    sandbox = QBOSandbox(port=0, latency=LATENCY_S).start()
    try:
        return on_cluster(sandbox, env, BASELINE_INVOICES)
    finally:
        sandbox.stop()


def start_loop(env: dict) -> subprocess.Popen:
    """The python-quickbooks loop over the invoices our run sent, in a process of its own with a QBO sandbox of its
    own (the same latency): it waits on that latency about 1,000 times (150 s) and uses little CPU, so it runs while
    the per-platform request counts (deterministic) are taken, which makes ``make bench`` 2.5 minutes shorter. Its
    own interpreter, so the counting work never holds its lock; it shares the machine's cores with it."""
    return subprocess.Popen([sys.executable, "-m", "bench.latency", "--loop", f"Cluster {BASELINE_INVOICES}"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


def loop_main(organization: str) -> None:
    """``--loop``: the baseline loop alone (the database is the parent's), its result as JSON on the last line."""
    import django

    django.setup()
    from connectors.qbo.sandbox import QBOSandbox

    sandbox = QBOSandbox(port=0, latency=LATENCY_S).start()
    try:
        plain = baseline(sandbox, BASELINE_INVOICES, organization=organization)
    finally:
        sandbox.stop()
    print(json.dumps(plain), flush=True)


def loop_result(loop: subprocess.Popen) -> dict:
    out, _ = loop.communicate()
    if loop.returncode != 0:
        raise SystemExit(f"the python-quickbooks loop failed (exit {loop.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def platform_requests(platform: str, count: int) -> dict:
    """A bulk resync of ``count`` invoices to ``platform``'s sandbox, limits off on both sides: requests counted."""
    from django.core.management import call_command

    from accounting_sync.staff import demo
    from accounting_sync.models import ExternalReference
    from ledger.models import Organization

    sandbox = demo.sandbox_class(platform)(port=0).start()
    try:
        if sandbox.limits is not None:
            sandbox.limits.off()
        name = f"Requests {platform}"
        # Short invoice numbers ("rq-000001"): some platforms take at most 13 characters.
        org = Organization.objects.create(name=name, slug=f"rq{Organization.objects.count()}")
        conn = demo.connect_to_sandbox(sandbox.base_url, org, platform=platform, name=name)
        conn.settings = {**conn.settings, "rate_limits": False}
        conn.save()
        make_invoices(org, count, customers=PLATFORM_CUSTOMERS)
        before = requests_seen(sandbox)
        started = time.perf_counter()
        call_command("accounting_sync_resync", connection=name, no_progress=True, stdout=io.StringIO())
        seconds = time.perf_counter() - started
        sent = ExternalReference.objects.filter(connection=conn, entity="invoice").count()
        if sent != count:
            raise SystemExit(f"{platform}: {sent} of {count} invoices reached the sandbox")
        return {"requests": requests_seen(sandbox) - before, "seconds": seconds}  # per kind
    finally:
        sandbox.stop()


class StatusCounter:
    """A WSGI wrapper counting the HTTP statuses a sandbox answered (the 429s of a ceiling run), and noting when
    each API request arrived (its requests a minute)."""

    def __init__(self, app) -> None:
        self.app, self.counts, self.arrivals = app, collections.Counter(), []

    def __call__(self, environ, start_response):
        arrived = time.time()

        def start(status, headers, exc_info=None):
            self.counts[status.split()[0]] += 1
            if not environ.get("PATH_INFO", "").startswith("/_sandbox"):
                self.arrivals.append((arrived, environ.get("PATH_INFO", "")))
            return start_response(status, headers, exc_info)

        return self.app(environ, start)

    def clear(self) -> None:
        self.counts.clear()
        self.arrivals.clear()


def queue_backlog(conn, org) -> None:
    """One pending entry per invoice of ``org`` for ``conn``, as ``accounting_sync_resync --queue`` leaves them,
    written in bulk (a 10,000-entry resync upserts one by one: minutes of set-up on a busy disk)."""
    from django.utils import timezone

    from accounting_sync.core import sources
    from accounting_sync.models import OutboxEntry
    from ledger.models import Invoice

    now = timezone.now()
    OutboxEntry.objects.bulk_create(
        [OutboxEntry(connection=conn, source_key=sources.key_for(invoice), entity="invoice", organization_id=org.pk,
                     label=f"invoice {invoice.number}", next_attempt_at=now)
         for invoice in Invoice.objects.filter(organization=org).order_by("pk")], batch_size=1000)


def ceiling(platform: str, env: dict) -> dict:
    """One ``qcluster`` on a backlog with the platform's real limits on (sandbox and our budget), ``CEILING_LATENCY_S``
    a request: invoices a minute that reached the platform after the warm-up, against the most its limits allow."""
    from accounting_sync.staff import demo
    from accounting_sync.models import ExternalReference
    from connectors import budget, registry
    from ledger.models import Organization

    sandbox = demo.sandbox_class(platform)(port=0, latency=CEILING_LATENCY_S)
    counter = StatusCounter(sandbox.app())
    sandbox.app = lambda: counter
    sandbox.start()
    try:
        size = registry.get(platform).capabilities.batch_size
        bounds = [(limit, window) for name, (limit, window) in sandbox.limits.rules.items()
                  if name in CEILING_RULES[platform]]
        allowed = min(limit * 60 / window for limit, window in bounds)
        # What the budget lets go in steady state: SHARE of the limit per window, a window lasting 61/60 of it.
        budget_allows = min(int(limit * budget.SHARE) * 60 / (window * (budget.SLOTS + 1) / budget.SLOTS)
                            for limit, window in bounds)
        name = f"Ceiling {platform}"
        org = Organization.objects.create(name=name, slug=f"ce{Organization.objects.count()}")
        conn = demo.connect_to_sandbox(sandbox.base_url, org, platform=platform, name=name)
        only(conn)
        make_invoices(org, CEILING_BACKLOG)
        queue_backlog(conn, org)
        counter.clear()
        invoices = ExternalReference.objects.filter(connection=conn, entity="invoice")
        with qcluster(env):
            started = dt.datetime.now(dt.UTC)
            time.sleep(CEILING_WARMUP_S + CEILING_STEADY_S)
            sent, answered = invoices.count(), sum(counter.counts.values())  # before the cluster winds down
    finally:
        sandbox.stop()
    steady_from = started + dt.timedelta(seconds=CEILING_WARMUP_S)
    steady_to = steady_from + dt.timedelta(seconds=CEILING_STEADY_S)
    steady = invoices.filter(synced_at__gte=steady_from, synced_at__lt=steady_to).count()
    per_minute = steady * 60 / CEILING_STEADY_S
    counted = BOUND_REQUESTS[platform]
    calls = sum(1 for t, path in counter.arrivals
                if steady_from.timestamp() <= t < steady_to.timestamp() and counted(path))
    return {"utilisation": per_minute / (allowed * size), "per_minute": per_minute, "ceiling": allowed * size,
            "429s": counter.counts["429"], "sent": sent, "requests": answered,  # 429s: winding down included
            "requests_per_minute": calls * 60 / CEILING_STEADY_S, "budget_allows": budget_allows}


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="accounting-sync-bench-latency-"))
    try:
        env = setup_environment(workdir)
        from accounting_sync.staff import demo

        cluster = latency_baseline(env)
        loop = start_loop(env)
        try:
            counted = []
            for platform in demo.platforms():
                result = platform_requests(platform, PLATFORM_INVOICES)
                kinds = result["requests"]
                counted += [f"requests_per_invoice_{platform}: {sum(kinds.values()) / PLATFORM_INVOICES:.3f}",
                            f"# {platform}: {sum(kinds.values())} requests "
                            f"({', '.join(f'{n} {k}' for k, n in kinds.items())}) for {PLATFORM_INVOICES} invoices "
                            f"and {PLATFORM_CUSTOMERS} customers, {result['seconds']:.1f} s"]
        finally:
            plain = loop_result(loop)
        figures = {"latency_baseline_time_ratio": cluster["seconds"] / plain["seconds"],
                   "latency_baseline_request_ratio": cluster["requests"] / plain["requests"]}
        for name, value in figures.items():
            print(f"{name}: {value:.3f}", flush=True)
        print(f"# {LATENCY_S * 1000:.0f} ms a request, {BASELINE_INVOICES} invoices: one qcluster "
              f"{cluster['seconds']:.1f} s, {cluster['requests']} requests; python-quickbooks loop "
              f"{plain['seconds']:.1f} s, {plain['requests']} requests (run beside the per-platform counts)",
              flush=True)
        print("\n".join(counted), flush=True)
        for platform in demo.file_platforms():
            print(f"# {platform}: delivers import files, no requests", flush=True)
        for platform in CEILING_RULES:
            result = ceiling(platform, env)
            print(f"{platform}_ceiling_utilisation: {result['utilisation']:.3f}", flush=True)
            print(f"{platform}_429s: {result['429s']}", flush=True)
            print(f"# {platform}: {result['per_minute']:.0f} invoices a minute in steady state against a ceiling of "
                  f"{result['ceiling']:.0f}; {result['sent']} of {CEILING_BACKLOG} sent in "
                  f"{CEILING_WARMUP_S + CEILING_STEADY_S} s, {result['requests']} requests; in steady state "
                  f"{result['requests_per_minute']:.1f} {'batch requests' if platform == 'qbo' else 'requests'} a "
                  f"minute, of the {result['budget_allows']:.1f} the budget allows", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--loop"]:
        loop_main(sys.argv[2])
    else:
        main()
