"""Send documents now, past their trigger rules (a manual-only connection, drafts, a batch window not open yet).

Examples:
    manage.py accounting_sync_push --connection Main                 # everything this connection is holding
    manage.py accounting_sync_push --connection Main --entity invoice
    manage.py accounting_sync_push --entry 42 --now                  # run it here and show the result
    manage.py accounting_sync_push --connection Main --user alice    # as alice (needs sync_connection)
"""
from accounting_sync.management.base import ExamplesCommand
from django.core.management.base import CommandError

from ... import audit, permissions
from ...staff.admin import push_entries
from ...models import OutboxEntry


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--connection", help="Connection name")
        parser.add_argument("--entity", help="Only this kind of document (invoice, credit_note, payment)")
        parser.add_argument("--entry", type=int, action="append", help="Outbox entry id (repeatable)")
        parser.add_argument("--now", action="store_true", help="Process here instead of queueing for workers")
        self.add_progress_argument(parser)
        self.add_user_argument(parser, "sync")

    def handle(self, *args, **opts):
        user = self.acting_user(opts, "sync")
        qs = OutboxEntry.objects.all()
        if opts["entry"]:
            qs = qs.filter(pk__in=opts["entry"])
        elif opts["connection"]:
            qs = qs.filter(connection=self.connection(opts["connection"]), error_code="held")
        else:
            raise CommandError("Say what to send: --connection NAME or --entry ID")
        if opts["entity"]:
            qs = qs.filter(entity=opts["entity"])
        ids = push_entries(qs)
        conn = self.connection(opts["connection"]) if opts["connection"] and not opts["entry"] else None
        audit.command_action("push command", connection=conn, detail={"entries": ids, "now": opts["now"]},
                             actor=permissions.actor(user))
        if not opts["now"]:
            self.stdout.write(f"{len(ids)} {'entry' if len(ids) == 1 else 'entries'} queued to send now.")
            return
        unsent = self.process_now(opts, ids, "Sending")
        if unsent:
            raise CommandError(f"{unsent} of {len(ids)} pushed entries did not sync (see above)")
