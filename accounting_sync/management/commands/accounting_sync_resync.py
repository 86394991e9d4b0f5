"""Re-send a connection's documents.

Examples:
    manage.py accounting_sync_resync --connection "Riverside books"
    manage.py accounting_sync_resync --connection Main --entity invoice --since 2026-01-01 --dry-run
    manage.py accounting_sync_resync --connection Main --entity invoice --ids 12 --dry-run --gl   # journal lines
    manage.py accounting_sync_resync --connection Main --entity invoice --ids 12,13 --force
    manage.py accounting_sync_resync --connection Main --queue     # hand the work to the qcluster workers
    manage.py accounting_sync_resync --connection Main --user alice  # as alice (needs sync_connection)
"""
from accounting_sync.management.base import ExamplesCommand
import datetime as dt

from django.core.management.base import CommandError

from connectors.documents import Entity

from ... import audit, permissions
from ...core import bulk, resync
from ...staff import glpreview
from ...core.batching import chunks
from ...core.outbox import chunks_by_connection, enqueue
from ...policies.reference import platform_lists


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--connection", required=True, help="Connection name")
        parser.add_argument("--entity", action="append", choices=Entity.EVERY, help="Repeatable; default: all")
        parser.add_argument("--since", type=dt.date.fromisoformat, help="Only documents dated on or after (YYYY-MM-DD)")
        parser.add_argument("--ids", help="Comma-separated local primary keys")
        parser.add_argument("--dry-run", action="store_true", help="Print the plan; send nothing")
        parser.add_argument("--gl", action="store_true",
                            help="With --dry-run: print the journal lines (GL preview) of each invoice, credit note "
                                 "and payment under the current mappings")
        parser.add_argument("--force", action="store_true", help="Re-send even documents that did not change")
        parser.add_argument("--queue", action="store_true", help="Enqueue for the workers instead of running here")
        self.add_progress_argument(parser)
        self.add_user_argument(parser, "sync")

    def handle(self, *args, **opts):
        user = self.acting_user(opts, "sync")
        conn = self.connection(opts["connection"])
        if opts["gl"] and not opts["dry_run"]:
            raise CommandError("--gl prints the GL preview of a --dry-run; add --dry-run")
        ids = set(opts["ids"].split(",")) if opts["ids"] else None
        planned = resync.plan(conn, opts["entity"], opts["since"], ids)
        if opts["dry_run"]:
            reference = self._reference(conn) if opts["gl"] else None
            self.stdout.write(f"{'entity':<12} {'action':<18} document")
            count = 0
            for item in planned:
                self.stdout.write(f"{item.entity:<12} {item.action:<18} {item.label}")
                if opts["gl"] and item.entity in glpreview.ENTITIES:
                    for row in glpreview.render_text(glpreview.preview(conn, item.key, reference)):
                        self.stdout.write(f"{'':<12} {row}")
                count += 1
            self.stdout.write(f"{count} documents would be queued for {conn.name}; nothing was sent.")
            return
        audit.command_action("resync command", connection=conn, detail={
            "entities": opts["entity"], "since": opts["since"], "ids": opts["ids"], "force": opts["force"],
            "queue": opts["queue"]}, actor=permissions.actor(user))
        statuses: dict[str, int] = {}
        queued = 0
        progress = None
        if not opts["queue"]:
            # The total, for a percentage: one more pass over the plan (objects, not requests), skipped without a bar.
            total = None
            if self.progress_shown(opts):
                total = sum(1 for _ in resync.plan(conn, opts["entity"], opts["since"], ids))
            progress = self.progress(opts, total, f"Syncing to {conn.name}")
        # Streamed in chunks, in dependency order: memory does not grow with the number of documents.
        for chunk in chunks(planned, CHUNK):
            entry_ids = resync.queue(conn, chunk, force=opts["force"])
            queued += len(entry_ids)
            if opts["queue"]:
                enqueue(entry_ids)
                continue
            for batch in chunks_by_connection(entry_ids):
                for status, n in bulk.process_batch(batch).items():
                    statuses[status] = statuses.get(status, 0) + n
                progress.update(len(batch))
        if opts["queue"]:
            self.stdout.write(f"{queued} {'entry' if queued == 1 else 'entries'} queued for the workers.")
            return
        progress.close()
        self.stdout.write(", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "nothing to do")

    def _reference(self, conn):
        """The platform's lists for account names (cached ones, or none, when it cannot be reached)."""
        reference, warning = platform_lists(conn)
        if warning:
            self.stderr.write(warning)
        return reference


CHUNK = 300
