"""Base for our commands: the module docstring is the help, its examples printed as written."""
from argparse import RawDescriptionHelpFormatter

from django.core.management.base import BaseCommand


class ExamplesCommand(BaseCommand):
    def create_parser(self, *args, **kwargs):
        parser = super().create_parser(*args, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser
