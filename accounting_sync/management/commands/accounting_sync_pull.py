"""Bring platform changes (payments, line edits, voids, deletes) back now, instead of waiting for the poll.

Examples:
    manage.py accounting_sync_pull --connection "Riverside books"
    manage.py accounting_sync_pull --connection Main --since 2026-11-01T00:00:00Z   # look further back once
"""
import datetime as dt

from accounting_sync.management.base import ExamplesCommand

from ...inbound import sync as inbound


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--connection", required=True, help="Connection name")
        parser.add_argument("--since", type=dt.datetime.fromisoformat,
                            help="ISO date-time; default: where the last poll left off")

    def handle(self, *args, **opts):
        conn = self.connection(opts["connection"])
        since = opts["since"]
        if since and since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        result = inbound.pull(conn, since)
        for note in result.notes:
            self.stdout.write(note)
        self.stdout.write(f"{conn.name}: {result.summary()}")
