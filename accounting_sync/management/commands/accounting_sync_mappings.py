"""Export or import a connection's mapping set as CSV.

Columns: organization (slug; empty for a connection-wide rule), kind, scope, local_value, remote_id, remote_name.
An import checks every row first (kind, scope, organization, and each remote_id against the platform's active
accounts and tax codes) and writes nothing if any row is wrong. By default it merges: rows update the rules
they match and add the others, rules the file does not list stay. --replace also deletes those.

Examples:
    manage.py accounting_sync_mappings --connection "Riverside books" export mappings.csv
    manage.py accounting_sync_mappings --connection Main export -                  # to standard output
    manage.py accounting_sync_mappings --connection Staging import mappings.csv    # merge
    manage.py accounting_sync_mappings --connection Staging import mappings.csv --replace
    manage.py accounting_sync_mappings --connection Staging import mappings.csv --user alice  # needs change_mapping
"""
import sys
from pathlib import Path

from django.core.management.base import CommandError

from accounting_sync.management.base import ExamplesCommand
from connectors.models import Connection
from mappings import csv_io

from ...policies.reference import platform_lists


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--connection", required=True, help="Connection name")
        parser.add_argument("action", choices=["export", "import"])
        parser.add_argument("file", help="CSV file; - for standard output / input")
        parser.add_argument("--replace", action="store_true",
                            help="Import: also delete the connection's rules the file does not list")
        self.add_user_argument(parser, "edit_mappings")

    def handle(self, *args, **opts):
        if opts["action"] == "import":
            self.acting_user(opts, "edit_mappings")
        conn = self.connection(opts["connection"])
        if opts["action"] == "export":
            self._export(conn, opts["file"])
        else:
            self._import(conn, opts["file"], opts["replace"])

    def _export(self, conn: Connection, file: str) -> None:
        text = csv_io.export_rules(conn)
        if file == "-":
            self.stdout.write(text, ending="")
            return
        Path(file).write_text(text, encoding="utf-8", newline="")
        self.stdout.write(f"{conn.mappings.count()} rules of {conn.name} written to {file}.")

    def _import(self, conn: Connection, file: str, replace: bool) -> None:
        try:
            raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
            text = raw.decode("utf-8-sig")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not UTF-8 text.") from None
        reference, warning = platform_lists(conn)
        if reference is None:
            raise CommandError(f"{warning} Nothing was imported: the platform ids cannot be checked.")
        if warning:
            self.stderr.write(warning)
        try:
            result = csv_io.import_rules(conn, text, reference, replace=replace)
        except csv_io.ImportRefused as exc:
            raise CommandError("Nothing was imported. Fix these rows:\n  " + "\n  ".join(exc.errors)) from None
        self.stdout.write(f"{conn.name}: {result} ({'replace' if replace else 'merge'}).")
