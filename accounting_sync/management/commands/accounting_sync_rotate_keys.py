"""Re-encrypt every stored token, client secret and secret setting with the first key of
ACCOUNTING_SYNC["ENCRYPTION_KEYS"].

Rotation: put the new key first, keep the old one after it, run this command, then remove the old key.

Examples:
    manage.py accounting_sync_rotate_keys
"""
from accounting_sync.management.base import ExamplesCommand
from django.db import connection as db, transaction

from connectors.crypto import PREFIX, rotate
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
        # The secret settings (a sender password, a subscription key), encrypted inside the settings' JSON.
        for pk, stored in Connection.objects.values_list("pk", "settings"):
            fresh = {k: rotate(v) if isinstance(v, str) and v.startswith(PREFIX) else v
                     for k, v in (stored or {}).items()}
            if fresh != stored:
                Connection.objects.filter(pk=pk).update(settings=fresh)
        self.stdout.write(f"Re-encrypted the secrets of {count} connections with the current first key.")
