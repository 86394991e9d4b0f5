"""``python -m bench.outbox_pg``: how far one PostgreSQL goes, in outbox rows a second written and claimed.

Needs ``BENCH_POSTGRES_URL`` (``postgres://user@host:5432/name``): a database of its own that the bench may fill
(``migrate`` creates the tables; the rows it makes are deleted at the end). Without it, it says so and stops.
No platform is called: these are the database's figures, the ceiling of any number of ``qcluster`` processes
sharing it. Prints one ``name: value`` line per figure:

    outbox_pg_changes_written_per_s   ``OutboxChange`` rows appended by host transactions (one row and one commit
                                      each: ``outbox.record_change`` for one invoice, as a save's receiver does),
                                      ``WRITERS`` processes at once
    outbox_pg_changes_absorbed_per_s  changes folded into their ``OutboxEntry`` (``outbox.absorb``, the
                                      dispatcher's first step), one process
    outbox_pg_entries_claimed_per_s   entries leased in fair order (``outbox.lease_due``, 200 a round) and closed
                                      (one ``UPDATE`` to done per chunk, what a worker's close costs the outbox
                                      table), ``WRITERS`` dispatchers at once; no entry may be leased twice

``BENCH_QUICK=1`` runs for a few seconds with fewer rows (a smoke run, not figures).
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import time

from bench.run import QUICK

WRITERS = 2  # processes writing (and then claiming) at once: the machine has two cores
CONNECTIONS = 20  # tenants the entries belong to (fair lease order numbers per connection)
WRITE_SECONDS = 3 if QUICK else 15
INVOICES = 3_000 if QUICK else 10_000  # 2 writers recorded 3,147 in 15 s at load 20; a quiet machine may run out


def setup() -> None:
    url = os.environ.get("BENCH_POSTGRES_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("# outbox_pg: skipped (set BENCH_POSTGRES_URL to a PostgreSQL database the bench may fill)",
              flush=True)
        raise SystemExit(0)
    from cryptography.fernet import Fernet

    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": url, "DEBUG": "false",
                       "LOG_LEVEL": "ERROR", "SECRET_KEY": "bench-outbox-not-serving-anything",
                       "ACCOUNTING_SYNC_ENCRYPTION_KEYS": Fernet.generate_key().decode()})
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def tenants(stamp: str) -> list[tuple[int, list[int]]]:
    """``CONNECTIONS`` organizations, each with one connection that pushes invoices, and their invoices (made with
    sync off); returns (connection id, invoice ids) per tenant."""
    from bench.run import make_invoices
    from connectors.models import Connection
    from ledger.models import Invoice, Organization

    made = []
    for n in range(CONNECTIONS):
        org = Organization.objects.create(name=f"Outbox bench {stamp} {n}", slug=f"ob{stamp}-{n}")
        # Never contacted: the entries are leased and closed here, not sent.
        conn = Connection.objects.create(name=f"Outbox bench {stamp} {n}", platform="qbo", auto_sync=True,
                                         direction="push", client_id="bench", client_secret="bench")
        conn.organizations.add(org)
        make_invoices(org, INVOICES // CONNECTIONS, customers=5)
        made.append((conn.pk, list(Invoice.objects.filter(organization=org).values_list("pk", flat=True))))
    return made


def write(invoice_ids: list[int], until: float, done) -> None:
    """One host process: a transaction per invoice, recording its change, until ``until``."""
    from django.db import connections, transaction

    from accounting_sync.core import outbox, sources
    from ledger.models import Invoice

    connections.close_all()
    adapter = sources.adapter_for_key("ledger.invoice:1")
    count = 0
    for invoice in Invoice.objects.filter(pk__in=invoice_ids).iterator(chunk_size=500):
        if time.monotonic() >= until:
            break
        with transaction.atomic():
            count += outbox.record_change(invoice, adapter)
    done.put(count)


def claim(until: float, done) -> None:
    """One dispatcher: lease rounds in fair order, each chunk closed at once, until nothing is due."""
    from django.db import connections

    from accounting_sync.core import outbox
    from accounting_sync.models import EntryStatus, OutboxEntry

    connections.close_all()
    leased: list[int] = []
    while time.monotonic() < until:
        chunks = outbox.lease_due(limit=200)
        if not chunks:
            break
        for ids, token in chunks:
            OutboxEntry.objects.filter(pk__in=ids, lease_token=token).update(
                status=EntryStatus.DONE, lease_until=None, lease_token="")
            leased += ids
    done.put(leased)


def in_processes(target, args_per_process: list[tuple]) -> tuple[list, float]:
    """Run ``target`` in one process per argument tuple (forked: Django is set up), return results and seconds."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    done = context.Queue()
    started = time.monotonic()
    processes = [context.Process(target=target, args=(*args, done)) for args in args_per_process]
    for process in processes:
        process.start()
    results = [done.get() for _ in processes]
    seconds = time.monotonic() - started
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a bench process failed with exit code {process.exitcode}")
    return results, seconds


def main() -> None:
    setup()
    from accounting_sync.core import outbox
    from accounting_sync.models import EntryStatus, OutboxChange, OutboxEntry
    from connectors.models import Connection

    stamp = f"{os.getpid()}"
    made = tenants(stamp)
    conn_ids = [conn_id for conn_id, _ in made]
    try:
        OutboxChange.objects.all().delete()
        # Each writer records the changes of half the tenants, one invoice per transaction.
        shares = [[pk for _, ids in made[w::WRITERS] for pk in ids] for w in range(WRITERS)]
        until = time.monotonic() + WRITE_SECONDS
        counts, seconds = in_processes(write, [(share, until) for share in shares])
        written = sum(counts)
        if OutboxChange.objects.filter(connection_id__in=conn_ids).count() != written:
            raise SystemExit("the writers' count and the changes table disagree")
        print(f"outbox_pg_changes_written_per_s: {written / seconds:.1f}", flush=True)

        started = time.monotonic()
        absorbed = len(outbox.absorb())
        absorb_seconds = time.monotonic() - started
        if absorbed != written or OutboxChange.objects.filter(connection_id__in=conn_ids).exists():
            raise SystemExit(f"absorb folded {absorbed} of {written} changes")
        print(f"outbox_pg_changes_absorbed_per_s: {absorbed / absorb_seconds:.1f}", flush=True)

        results, claim_seconds = in_processes(claim, [(time.monotonic() + 600,)] * WRITERS)
        leased = [pk for ids in results for pk in ids]
        if len(leased) != len(set(leased)):
            raise SystemExit("an entry was leased twice")
        if len(leased) != absorbed or OutboxEntry.objects.filter(
                connection_id__in=conn_ids).exclude(status=EntryStatus.DONE).exists():
            raise SystemExit(f"{len(leased)} of {absorbed} entries claimed")
        print(f"outbox_pg_entries_claimed_per_s: {len(leased) / claim_seconds:.1f}", flush=True)
        print(f"# {WRITERS} writers, {written} changes in {seconds:.1f} s; absorbed in {absorb_seconds:.1f} s; "
              f"{len(leased)} entries of {CONNECTIONS} connections leased and closed by {WRITERS} dispatchers in "
              f"{claim_seconds:.1f} s", flush=True)
    finally:
        OutboxEntry.objects.filter(connection_id__in=conn_ids).delete()
        Connection.objects.filter(pk__in=conn_ids).delete()
        remove_tenants(f"ob{stamp}-")


def remove_tenants(prefix: str) -> None:
    """Delete the bench's organizations and their ledger rows (the ledger protects them, so children first)."""
    from ledger.models import Customer, Invoice, InvoiceLine, Organization

    orgs = Organization.objects.filter(slug__startswith=prefix)
    InvoiceLine.objects.filter(invoice__organization__in=orgs).delete()
    Invoice.objects.filter(organization__in=orgs).delete()
    Customer.objects.filter(organization__in=orgs).delete()
    orgs.delete()


if __name__ == "__main__":
    sys.exit(main())
