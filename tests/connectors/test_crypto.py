"""Tokens are encrypted at rest, rotatable, and fail closed with a wrong key (acceptance 6)."""
import pytest
from cryptography.fernet import Fernet
from django.db import connection as db
from django.test import override_settings

from connectors.crypto import DecryptionError
from connectors.models import Connection
from tests import factories as f

pytestmark = pytest.mark.django_db


def raw_row(pk):
    with db.cursor() as cursor:
        cursor.execute("SELECT client_secret, access_token, refresh_token FROM connectors_connection WHERE id = %s",
                       [pk])
        return cursor.fetchone()


def test_raw_sql_shows_no_token_text():
    conn = f.ConnectionFactory(client_secret="s3cret-value", access_token="access-abc123",
                               refresh_token="refresh-xyz789")
    row = raw_row(conn.pk)
    for plain, stored in zip(("s3cret-value", "access-abc123", "refresh-xyz789"), row):
        assert plain not in stored and stored.startswith("fernet:")
    assert Connection.objects.get(pk=conn.pk).refresh_token == "refresh-xyz789"


def test_wrong_key_raises_instead_of_returning_ciphertext(settings):
    conn = f.ConnectionFactory(access_token="access-abc123")
    with override_settings(ACCOUNTING_SYNC={**settings.ACCOUNTING_SYNC,
                                            "ENCRYPTION_KEYS": [Fernet.generate_key().decode()]}):
        with pytest.raises(DecryptionError):
            Connection.objects.get(pk=conn.pk)


def test_rotation_then_old_key_removed(settings):
    from django.core.management import call_command

    old = settings.ACCOUNTING_SYNC["ENCRYPTION_KEYS"]
    conn = f.ConnectionFactory(access_token="access-abc123", refresh_token="refresh-1")
    new_key = Fernet.generate_key().decode()
    with override_settings(ACCOUNTING_SYNC={**settings.ACCOUNTING_SYNC, "ENCRYPTION_KEYS": [new_key, *old]}):
        call_command("accounting_sync_rotate_keys")
    with override_settings(ACCOUNTING_SYNC={**settings.ACCOUNTING_SYNC, "ENCRYPTION_KEYS": [new_key]}):
        assert Connection.objects.get(pk=conn.pk).access_token == "access-abc123"


def test_admin_never_shows_tokens(admin_client):
    conn = f.ConnectionFactory(client_secret="s3cret-value", access_token="access-abc123", refresh_token="r-xyz")
    html = admin_client.get(f"/admin/connectors/connection/{conn.pk}/change/").content.decode()
    assert "s3cret-value" not in html and "access-abc123" not in html and "r-xyz" not in html
