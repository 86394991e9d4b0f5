"""Re-encrypt every stored token and secret with the first key of ACCOUNTING_SYNC["ENCRYPTION_KEYS"].

Rotation: put the new key first, keep the old one after it, run this command, then remove the old key.

Examples:
    manage.py accounting_sync_rotate_keys
"""
from accounting_sync.management.base import ExamplesCommand
from django.db import connection as db, transaction

from connectors.crypto import rotate
from connectors.models import Connection

FIELDS = ("client_secret", "access_token", "refresh_token")


class Command(ExamplesCommand):
    help = __doc__

    @transaction.atomic
    def handle(self, *args, **opts):
        table = Connection._meta.db_table
        count = 0
        with db.cursor() as cursor:
            cursor.execute(f"SELECT id, {', '.join(FIELDS)} FROM {table}")  # nosec B608
            for row in cursor.fetchall():
                values = [rotate(v) if v else v for v in row[1:]]
                assignments = ", ".join(f"{f} = %s" for f in FIELDS)
                cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s",  # nosec B608
                               [*values, row[0]])
                count += 1
        self.stdout.write(f"Re-encrypted the secrets of {count} connections with the current first key.")
