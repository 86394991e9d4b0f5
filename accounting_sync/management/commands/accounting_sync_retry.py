"""Retry entries that failed or need attention (after fixing a mapping, reconnecting, ...).

Examples:
    manage.py accounting_sync_retry --connection Main          # queue every failed / needs-attention entry
    manage.py accounting_sync_retry --entry 42 --now            # run one entry here and show the result
    manage.py accounting_sync_retry --all --now
    manage.py accounting_sync_retry --connection Main --user alice   # as alice (needs sync_connection)

With --now the command exits non-zero when any retried entry did not sync.
"""
from accounting_sync.management.base import ExamplesCommand
from django.core.management.base import CommandError

from ... import audit, permissions
from ...staff.admin import retry_entries
from ...models import EntryStatus, OutboxEntry


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--connection", help="Connection name")
        parser.add_argument("--entry", type=int, action="append", help="Outbox entry id (repeatable)")
        parser.add_argument("--all", action="store_true", help="Every connection")
        parser.add_argument("--now", action="store_true", help="Process here instead of queueing for workers")
        self.add_progress_argument(parser)
        self.add_user_argument(parser, "sync")

    def handle(self, *args, **opts):
        user = self.acting_user(opts, "sync")
        qs = OutboxEntry.objects.all()
        if opts["entry"]:
            qs = qs.filter(pk__in=opts["entry"])
        elif opts["connection"]:
            qs = qs.filter(connection__name=opts["connection"])
        elif not opts["all"]:
            raise CommandError("Say what to retry: --connection NAME, --entry ID or --all")
        ids = list(qs.filter(status__in=[EntryStatus.FAILED, EntryStatus.NEEDS_ATTENTION]).values_list("pk", flat=True))
        count = retry_entries(OutboxEntry.objects.filter(pk__in=ids))
        conn = self.connection(opts["connection"]) if opts["connection"] and not opts["entry"] else None
        audit.command_action("retry command", connection=conn, detail={"entries": ids, "now": opts["now"]},
                             actor=permissions.actor(user))
        if not opts["now"]:
            self.stdout.write(f"{count} {'entry' if count == 1 else 'entries'} queued for retry.")
            return
        unsynced = self.process_now(opts, ids, "Retrying")
        if unsynced:
            raise CommandError(f"{unsynced} of {len(ids)} retried entries did not sync (see above)")
