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

When a platform with an API is down (the manual fallback, docs/operations.md):
    manage.py accounting_sync_export --connection "Clinic books" --manual --folder /srv/manual   # every format
    manage.py accounting_sync_export --connection "Clinic books" --manual --format generic      # one format
    manage.py accounting_sync_export --connection "Clinic books" --mark-entered 4  # batch 4 was keyed in
    manage.py accounting_sync_export --connection "Clinic books" --resume          # the platform is back
(--format: generic, or the platform's own format as its page under docs/connectors/ names it; an unknown one is
refused with the connection's formats. --resume needs sync_connection with --user.)
"""
from accounting_sync.management.base import ExamplesCommand
import getpass
from pathlib import Path

from django.core.management.base import CommandError

from connectors.errors import SyncError
from connectors.models import Connection

from ... import audit, permissions, tasks
from ...files import batches, manual
from ...files.models import BatchPurpose, ExportBatch, ExportItem


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
        parser.add_argument("--manual", action="store_true",
                            help="A platform with an API that is down: export its unsynced documents for entering "
                                 "by hand, as a new manual-entry batch")
        parser.add_argument("--format", action="append", dest="formats", metavar="FORMAT",
                            help="With --manual: only this format (generic, or the platform's own; repeatable); "
                                 "default: the generic CSV and the platform's own import files")
        parser.add_argument("--mark-entered", type=int, metavar="N",
                            help="Manual-entry batch N was keyed in: stop sending its documents, adopt them later")
        parser.add_argument("--resume", action="store_true",
                            help="The platform is back: send the documents entered by hand, adopting each one")
        self.add_user_argument(parser, "export")

    def handle(self, *args, **opts):
        user = self.acting_user(opts, "sync" if opts["resume"] else "export")
        conn = self._connection(opts["connection"])
        if opts["manual"] or opts["mark_entered"] or opts["resume"]:
            return self._manual(conn, opts, user)
        if opts["formats"]:
            raise CommandError("--format goes with --manual")
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

    def _manual(self, conn, opts, user) -> None:
        actor = permissions.actor(user) or _actor()
        if opts["resume"]:
            count = manual.resume(conn)
            audit.command_action("resume after manual entry", connection=conn, detail={"documents": count},
                                 actor=permissions.actor(user))
            self.stdout.write(f"{count} documents entered by hand queued: each is looked for on {conn.platform_name} "
                              "and adopted (created only if nobody keyed it in).")
            return
        if opts["mark_entered"]:
            batch = self._batch(conn, opts["mark_entered"])
            if batch.purpose != BatchPurpose.MANUAL:
                raise CommandError(f"batch {batch.number} is not a manual-entry batch: use --confirm")
            done = manual.mark_entered(ExportItem.objects.filter(batch=batch), actor=actor)
            audit.command_action("entered manually", connection=conn,
                                 detail={"batch": batch.number, "documents": len(done.closed)},
                                 actor=permissions.actor(user))
            self.stdout.write(f"Batch {batch.number}: {len(done.closed)} documents marked as entered by hand"
                              + (f"; {len(done.skipped)} left alone ({'; '.join(done.skipped)})" if done.skipped
                                 else "")
                              + f". Run --resume once {conn.platform_name} is back: each is then found there and "
                                "adopted, not sent again.")
            return
        try:
            done = manual.export(conn, actor=actor, names=opts["formats"])
        except SyncError as exc:
            raise CommandError(f"{exc.message}. {exc.hint}") from None
        for note in done.left_out:
            self.stdout.write(f"  {note}")
        if done.batch is None:
            self.stdout.write("No unsynced document to export.")
            return
        batch = done.batch
        audit.command_action("manual export", connection=conn,
                             detail={"batch": batch.number, "documents": batch.documents, "sha256": batch.sha256},
                             actor=permissions.actor(user))
        self.stdout.write(f"{conn}: manual-entry batch {batch.number}, {batch.documents} documents, "
                          f"sha256 {batch.sha256}")
        available = manual.formats(conn)
        for f in batch.files.all():
            self.stdout.write(f"  {f.name}  {f.records} documents, {f.rows} rows  sha256 {f.sha256}")
            if available[f.kind].note:
                self.stdout.write(f"    {available[f.kind].note}")
        if opts["folder"]:
            for path in batches.write_to_folder(batch, opts["folder"]):
                self.stdout.write(f"  written: {path}")
        self.stdout.write(f"  once keyed in: --mark-entered {batch.number}")

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
