"""Compare what the platforms hold with what we hold: totals, tax, currency, status, balances, duplicates.

A full run checks every synced invoice, credit note and payment; an incremental run only those the platform's
change feed reports changed since the last run (and those we sent since), as the schedule does every few minutes.
Documents still in the outbox are not compared (they are on their way). Exit status: 0 when the books agree
(rounding within the platform's tolerance included), 1 when a variance needs a person, 2 when a platform could not
be read.

``--bank`` matches instead the payments taken here to the platform's deposits and bank transactions (bank-feed
payment matching, the last ``--days`` days): exit status 0 when every payment and deposit is matched, 1 when a
probable match waits for a person or something is unmatched, 2 when a platform could not be read. A platform
without a bank feed says so and counts as nothing to match.

Examples:
    manage.py accounting_sync_reconcile                                   # full run of every active connection
    manage.py accounting_sync_reconcile --connection "Riverside books"
    manage.py accounting_sync_reconcile --connection Main --incremental   # changes since the last run
    manage.py accounting_sync_reconcile --organization riverside --since 2026-11-01 --until 2026-11-30
    manage.py accounting_sync_reconcile --connection Main --json > reconciliation.json
    manage.py accounting_sync_reconcile --connection Main --bank --days 14   # payments against the bank feed
    manage.py accounting_sync_reconcile --connection Main --user alice       # as alice (needs run_reconciliation)
"""
from __future__ import annotations

import datetime as dt
import json
import sys

from django.core.management.base import CommandError

from accounting_sync.management.base import ExamplesCommand
from connectors.models import Connection, ConnectionStatus
from ledger.models import Organization

from ...reconcile import bank, run
from ...reconcile.models import ReconciliationRun, RunKind, RunStatus, Variance


def moment(value: str) -> dt.datetime:
    """A date (YYYY-MM-DD) or an ISO date-time; naive ones are UTC."""
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--connection", help="Connection name (default: every active connection)")
        parser.add_argument("--organization", help="Organization id or slug: only its documents")
        parser.add_argument("--incremental", action="store_true",
                            help="Only what changed since the last run (or since --since)")
        parser.add_argument("--since", type=moment, help="Full run: documents dated from (YYYY-MM-DD); incremental: "
                                                         "changes since (ISO date-time)")
        parser.add_argument("--until", type=moment, help="Full run: documents dated until (YYYY-MM-DD)")
        parser.add_argument("--json", action="store_true", help="Machine-readable output on stdout")
        self.add_progress_argument(parser)
        parser.add_argument("--bank", action="store_true",
                            help="Match payments to the platform's deposits and bank transactions instead")
        parser.add_argument("--days", type=int, default=30, help="--bank: payments of the last N days (default 30)")
        self.add_user_argument(parser, "reconcile")

    def handle(self, *args, **opts):
        self.acting_user(opts, "reconcile")
        organization = self._organization(opts["organization"])
        conns = self._connections(opts["connection"], organization)
        if opts["bank"]:
            return self._bank(conns, opts)
        kind = RunKind.INCREMENTAL if opts["incremental"] else RunKind.FULL
        runs = []
        for conn in conns:
            with self.progress(opts, None, f"Reconciling {conn.name}") as progress:  # the run sets the total
                runs.append(run(conn, kind, organization_id=organization, since=opts["since"], until=opts["until"],
                                progress=progress))
        if opts["json"]:
            self.stdout.write(json.dumps([as_dict(r) for r in runs], default=str, indent=2))
        else:
            for r in runs:
                self._print(r)
        if any(r.status == RunStatus.FAILED for r in runs):
            sys.exit(2)
        if any(r.alarms for r in runs):
            sys.exit(1)

    def _bank(self, conns: list[Connection], opts: dict) -> None:
        since = opts["since"].date() if opts["since"] else None
        until = opts["until"].date() if opts["until"] else None
        outcomes = [bank.run(conn, since, until, days=opts["days"]) for conn in conns]
        if opts["json"]:
            self.stdout.write(json.dumps([bank_dict(o) for o in outcomes], default=str, indent=2))
        else:
            for o in outcomes:
                if o.no_feed or o.error:
                    self.stdout.write(f"{o.connection.name}: {o.error}")
                    continue
                self.stdout.write(f"{o.connection.name}: {o.matched} matched, {o.probable} probable (confirm them in "
                                  f"the admin), {o.unmatched_payments} payments and {o.unmatched_deposits} deposits "
                                  f"unmatched; {o.confirmed} confirmed earlier")
                for m in o.matches:
                    if m.bucket != "matched":
                        deposit = f"deposit {m.deposit.remote_id} {m.deposit.amount}" if m.deposit else "no deposit"
                        payments = ", ".join(p.number for p in m.payments) or "no payment"
                        self.stdout.write(f"  {m.bucket:<9} {deposit}: {payments} ({m.reason})")
        if any(o.error and not o.no_feed for o in outcomes):
            sys.exit(2)
        if any(o.open for o in outcomes):
            sys.exit(1)

    def _organization(self, value: str | None) -> int | None:
        if not value:
            return None
        found = Organization.objects.filter(pk=int(value)) if value.isdigit() else Organization.objects.filter(
            slug=value)
        pk = found.values_list("pk", flat=True).first()
        if pk is None:
            raise CommandError(f"No organization {value!r} (give its id or slug)")
        return pk

    def _connections(self, name: str | None, organization: int | None) -> list[Connection]:
        if name:
            return [self.connection(name)]
        conns = Connection.objects.filter(status=ConnectionStatus.ACTIVE).order_by("name")
        if organization is not None:
            conns = conns.filter(organizations=organization)
        if not conns:
            raise CommandError("No active connection to reconcile")
        return list(conns)

    def _print(self, r: ReconciliationRun) -> None:
        self.stdout.write(f"{r.connection.name}: {r.kind} run, {r.checked} "
                          f"documents compared, {r.in_flight} still in the outbox, {r.variances} variances "
                          f"({r.alarms} need a person); {r.open_alarms} open in all")
        if r.error:
            self.stdout.write(f"    failed: {r.error}")
        for v in Variance.objects.filter(last_run=r).order_by("-alarm", "entity", "label"):
            self.stdout.write(f"  {'!' if v.alarm else ' '} {v.get_reason_display():<38} {v.message}")
            self.stdout.write(f"      → {v.action}")
        for t in r.totals.filter(period="month").exclude(local_total=0, remote_total=0):
            mark = "" if t.local_total == t.remote_total else f"  (difference {t.difference})"
            self.stdout.write(f"    {t.start:%Y-%m} {t.entity:<12} {t.currency:<3} ours {t.local_total} "
                              f"({t.local_count}), platform {t.remote_total} ({t.remote_count}){mark}")


def as_dict(r: ReconciliationRun) -> dict:
    return {
        "connection": r.connection.name, "kind": r.kind, "status": r.status, "started_at": r.started_at,
        "finished_at": r.finished_at, "checked": r.checked, "in_flight": r.in_flight, "variances": r.variances,
        "alarms": r.alarms, "open_alarms": r.open_alarms, "error": r.error,
        "found": [{"document": v.label, "source_key": v.source_key, "entity": v.entity, "remote_id": v.remote_id,
                   "field": v.field, "ours": v.local_value, "platform": v.remote_value, "difference": v.difference,
                   "reason": v.reason, "alarm": v.alarm, "message": v.message, "action": v.action}
                  for v in Variance.objects.filter(last_run=r).order_by("pk")],
        "totals": [{"organization": t.organization_id, "entity": t.entity, "period": t.period, "start": t.start,
                    "currency": t.currency, "ours": t.local_total, "ours_count": t.local_count,
                    "platform": t.remote_total, "platform_count": t.remote_count}
                   for t in r.totals.all()],
    }


def bank_dict(o: bank.Outcome) -> dict:
    return {
        "connection": o.connection.name, "bank_feed": not o.no_feed, "error": o.error, "matched": o.matched,
        "probable": o.probable, "unmatched_payments": o.unmatched_payments,
        "unmatched_deposits": o.unmatched_deposits, "confirmed": o.confirmed,
        "matches": [{"bucket": m.bucket, "reason": m.reason, "fee": m.fee,
                     "deposit": m.deposit and {"id": m.deposit.remote_id, "date": m.deposit.date,
                                               "amount": m.deposit.amount, "reference": m.deposit.reference},
                     "payments": [{"source_key": p.key, "number": p.number, "amount": p.amount, "date": p.date}
                                  for p in m.payments]} for m in o.matches],
    }
