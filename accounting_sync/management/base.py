"""Base for our commands: the module docstring is the help, its examples printed as written."""
from argparse import RawDescriptionHelpFormatter

from django.core.management.base import BaseCommand, CommandError


class ExamplesCommand(BaseCommand):
    def create_parser(self, *args, **kwargs):
        parser = super().create_parser(*args, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    @staticmethod
    def connection(name: str):
        """The connection called ``name``, or a CommandError that lists the ones there are."""
        from connectors.models import Connection

        try:
            return Connection.objects.get(name=name)
        except Connection.DoesNotExist:
            names = ", ".join(Connection.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No connection named {name!r} (existing: {names})") from None
