"""Base for our commands: the module docstring is the help, its examples printed as written."""
from argparse import RawDescriptionHelpFormatter

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounting_sync import permissions


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
                            help="No progress bar (it goes to stderr, with the total and a percentage)")

    def progress(self, opts: dict, total: int | None, desc: str):
        """A progress bar on stderr with the total and a percentage (``--no-progress``: none)."""
        return tqdm(total=total, desc=desc, unit="doc", file=self.stderr._out,
                    disable=bool(opts.get("no_progress")))

    @staticmethod
    def acting_user(opts: dict, action: str):
        """The ``--user`` checked against ``action`` (a CommandError if they may not), or None without one."""
        return permissions.command_user(opts.get("user"), action)

    @staticmethod
    def connection(name: str):
        """The connection called ``name``, or a CommandError that lists the ones there are."""
        from connectors.models import Connection

        try:
            return Connection.objects.get(name=name)
        except Connection.DoesNotExist:
            names = ", ".join(Connection.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No connection named {name!r} (existing: {names})") from None
