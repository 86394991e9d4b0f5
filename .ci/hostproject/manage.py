#!/usr/bin/env python
"""The host check's minimal host project: a CRM that pip-installed django-accounting-sync."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
