"""Export a file-delivery connection's ready documents as one batch of the platform's import files.

Every document ready for export goes into one new batch; its files are stored (with their SHA-256) and, with
--folder, written to <folder>/<platform>-batch-<n>/ for staff to import. A document is never exported twice:
--reexport N makes a new batch of batch N's documents not yet confirmed imported, explicitly, and records it in
the audit trail. --confirm N closes batch N's documents as imported; --read-back FILE reads the platform's own
export file and closes the documents it holds (and keeps it for reconciliation).

Examples:
    manage.py accounting_sync_export --connection 3
    manage.py accounting_sync_export --connection "Clinic files" --folder /srv/exports
    manage.py accounting_sync_export --connection 3 --reexport 7 --reason "files lost" --folder /srv/exports
    manage.py accounting_sync_export --connection 3 --confirm 7
    manage.py accounting_sync_export --connection 3 --read-back invoices-report.csv
    manage.py accounting_sync_export --connection 3 --folder /srv/exports --drain   # stage due entries first
    manage.py accounting_sync_export --connection 3 --user alice     # as alice (needs export_manual)
"""
from accounting_sync.management.base import ExamplesCommand
import getpass
from pathlib import Path

from django.core.management.base import CommandError

from connectors.errors import SyncError
from connectors.models import Connection

from ... import audit, permissions, tasks
from ...files import batches
from ...files.models import ExportBatch, ExportItem


def _actor() -> str:
    try:
        return f"{getpass.getuser()} (command)"
    except (KeyError, OSError):
        return "(command)"


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--connection", required=True, help="Connection id or name")
        parser.add_argument("--folder", help="Write the batch's files into this folder (a sub-folder per batch)")
        parser.add_argument("--drain", action="store_true", help="First process the connection's due entries")
        parser.add_argument("--reexport", type=int, metavar="N", help="Export batch N's documents again")
        parser.add_argument("--reason", default="", help="Why, for --reexport (kept in the audit trail)")
        parser.add_argument("--confirm", type=int, metavar="N", help="Confirm batch N imported")
        parser.add_argument("--read-back", metavar="FILE", help="The platform's export file to read back")
        self.add_user_argument(parser, "export")

    def handle(self, *args, **opts):
        user = self.acting_user(opts, "export")
        conn = self._connection(opts["connection"])
        if not batches.file_delivery(conn):
            raise CommandError(f"{conn} sends through {conn.platform_name}'s API: it has no export batches")
        actor = permissions.actor(user) or _actor()
        try:
            if opts["read_back"]:
                path = Path(opts["read_back"])
                upload, done = batches.read_back(conn, path.name, path.read_bytes(), actor=actor)
                audit.command_action("read back platform export", connection=conn,
                                     detail={"file": path.name, "sha256": upload.sha256, "closed": len(done.closed)},
                                     actor=permissions.actor(user))
                self.stdout.write(f"{path.name}: {len(done.closed)} documents closed as imported.")
                return
            if opts["confirm"]:
                batch = self._batch(conn, opts["confirm"])
                done = batches.confirm(ExportItem.objects.filter(batch=batch), actor=actor)
                audit.command_action("confirm imported", connection=conn,
                                     detail={"batch": batch.number, "closed": len(done.closed)},
                                     actor=permissions.actor(user))
                self.stdout.write(f"Batch {batch.number}: {len(done.closed)} documents closed as imported"
                                  + (f"; {len(done.skipped)} not awaiting import" if done.skipped else "") + ".")
                return
            if opts["reexport"]:
                batch = batches.reexport(self._batch(conn, opts["reexport"]), actor=actor, reason=opts["reason"])
            else:
                if opts["drain"]:
                    tasks.drain(conn.pk)
                batch = batches.export(conn, actor=actor)
        except SyncError as exc:
            raise CommandError(exc.message) from None
        if batch is None:
            self.stdout.write("Nothing ready for export.")
            return
        self.stdout.write(f"{conn}: batch {batch.number}, {batch.documents} documents, sha256 {batch.sha256}")
        for f in batch.files.all():
            self.stdout.write(f"  {f.name}  {f.rows} rows  sha256 {f.sha256}")
        if opts["folder"]:
            for path in batches.write_to_folder(batch, opts["folder"]):
                self.stdout.write(f"  written: {path}")

    @staticmethod
    def _connection(value: str) -> Connection:
        found = Connection.objects.filter(pk=int(value)).first() if value.isdigit() else None
        found = found or Connection.objects.filter(name=value).first()
        if found is None:
            raise CommandError(f"No connection {value!r}")
        return found

    @staticmethod
    def _batch(conn, number: int) -> ExportBatch:
        try:
            return ExportBatch.objects.get(connection=conn, number=number)
        except ExportBatch.DoesNotExist:
            raise CommandError(f"{conn} has no batch {number}") from None
