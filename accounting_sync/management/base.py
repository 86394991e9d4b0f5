"""Base for our commands: the module docstring is the help, its examples printed as written."""
from argparse import RawDescriptionHelpFormatter

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounting_sync import permissions
from accounting_sync.adminkit import readable
from accounting_sync.core.engine import process_entry
from accounting_sync.models import EntryStatus, OutboxEntry
from connectors.models import Connection


class ExamplesCommand(BaseCommand):
    def create_parser(self, *args, **kwargs):
        parser = super().create_parser(*args, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    @staticmethod
    def add_user_argument(parser, action: str) -> None:
        """``--user USERNAME``: act as that Django user, who must hold the action's permission."""
        parser.add_argument("--user", metavar="USERNAME",
                            help=f"Act as this user: refused unless they hold {permissions.permission(action)} "
                                 "(recorded in the audit trail); default: the operating-system user, unchecked")

    @staticmethod
    def add_progress_argument(parser) -> None:
        parser.add_argument("--no-progress", action="store_true",
                            help="No progress bar (it goes to stderr, with the total and a percentage, and only "
                                 "when stderr is a terminal)")

    def progress_shown(self, opts: dict) -> bool:
        """Whether a progress bar is drawn: stderr is a terminal and ``--no-progress`` was not given (a log file or
        a pipe gets no bar; a command can then skip counting the total)."""
        if opts.get("no_progress"):
            return False
        isatty = getattr(self.stderr._out, "isatty", None)
        return bool(isatty and isatty())

    def progress(self, opts: dict, total: int | None, desc: str):
        """A progress bar on stderr with the total and a percentage (none off a terminal or with
        ``--no-progress``)."""
        return tqdm(total=total, desc=desc, unit="doc", file=self.stderr._out, disable=not self.progress_shown(opts))

    def process_now(self, opts: dict, ids: list[int], desc: str) -> int:
        """Process the entries ``ids`` here, one line each on stdout (with the error and its hint), the progress bar
        kept below the lines; returns how many did not sync."""
        unsynced = 0
        with self.progress(opts, len(ids), desc) as bar:
            for entry_id in ids:
                status = process_entry(entry_id, ignore_schedule=True)
                entry = OutboxEntry.objects.get(pk=entry_id)
                line = f"#{entry_id} {readable(entry.source_key, entry.label)}: {status}"
                if entry.last_error:
                    line += f" — {entry.last_error} {entry.hint}"
                with bar.external_write_mode(file=self.stdout._out):  # the bar cleared, the line, the bar again
                    self.stdout.write(line)
                bar.update(1)
                unsynced += entry.status != EntryStatus.DONE
        return unsynced

    @staticmethod
    def acting_user(opts: dict, action: str):
        """The ``--user`` checked against ``action`` (a CommandError if they may not), or None without one."""
        return permissions.command_user(opts.get("user"), action)

    @staticmethod
    def connection(name: str):
        """The connection called ``name``, or a CommandError that lists the ones there are."""
        try:
            return Connection.objects.get(name=name)
        except Connection.DoesNotExist:
            names = ", ".join(Connection.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No connection named {name!r} (existing: {names})") from None
