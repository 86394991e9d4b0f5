"""Tokens are encrypted at rest, rotatable, and fail closed with a wrong key (acceptance 6)."""
import pytest
from cryptography.fernet import Fernet
from django.db import connection as db
from django.test import override_settings

from connectors.crypto import DecryptionError, Undecryptable, decrypt
from connectors.errors import AuthError
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
    for plain, stored in zip(("s3cret-value", "access-abc123", "refresh-xyz789"), row, strict=True):
        assert plain not in stored and stored.startswith("fernet:")
    assert Connection.objects.get(pk=conn.pk).refresh_token == "refresh-xyz789"


def test_wrong_key_never_returns_ciphertext_and_saving_keeps_the_stored_value(settings):
    conn = f.ConnectionFactory(access_token="access-abc123")
    stored = raw_row(conn.pk)
    with override_settings(ACCOUNTING_SYNC={**settings.ACCOUNTING_SYNC,
                                            "ENCRYPTION_KEYS": [Fernet.generate_key().decode()]}):
        with pytest.raises(DecryptionError):
            decrypt(stored[1])
        loaded = Connection.objects.get(pk=conn.pk)  # the row still loads: staff and the engine can say why
        assert isinstance(loaded.access_token, Undecryptable) and not isinstance(loaded.access_token, str)
        assert str(loaded.access_token) == "" and loaded.secrets_unreadable
        with pytest.raises(AuthError, match="encryption keys changed") as raised:
            loaded.connector()
        assert "Restore the previous key" in raised.value.hint
        loaded.name = "renamed"
        loaded.save()
    assert raw_row(conn.pk) == stored  # restoring the old key recovers every secret
    assert Connection.objects.get(pk=conn.pk).access_token == "access-abc123"


def test_rotation_then_old_key_removed(settings):
    from django.core.management import call_command

    old = settings.ACCOUNTING_SYNC["ENCRYPTION_KEYS"]
    conn = f.ConnectionFactory(access_token="access-abc123", refresh_token="refresh-1")
    new_key = Fernet.generate_key().decode()
    with override_settings(ACCOUNTING_SYNC={**settings.ACCOUNTING_SYNC, "ENCRYPTION_KEYS": [new_key, *old]}):
        call_command("accounting_sync_rotate_keys")
    with override_settings(ACCOUNTING_SYNC={**settings.ACCOUNTING_SYNC, "ENCRYPTION_KEYS": [new_key]}):
        assert Connection.objects.get(pk=conn.pk).access_token == "access-abc123"


def raw_settings(pk) -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT settings FROM connectors_connection WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def test_a_secret_setting_is_stored_encrypted_read_decrypted_and_rotated(settings):
    """Settings a platform declares secret (Sage Intacct's sender password) are encrypted at rest like the client
    secret; the other settings stay readable; the connector reads the secret in clear."""
    from django.core.management import call_command

    from connectors.errors import ConfigurationError

    conn = f.ConnectionFactory(platform="intacct", settings={"sender_id": "acme-sender",
                                                             "sender_password": "s3nder-pa55"})
    assert "s3nder-pa55" not in raw_settings(conn.pk) and "acme-sender" in raw_settings(conn.pk)
    stored = Connection.objects.get(pk=conn.pk)
    assert stored.settings["sender_password"].startswith("fernet:")
    stored.save()  # saving again does not encrypt twice
    assert Connection.objects.get(pk=conn.pk).connector().setting("sender_password") == "s3nder-pa55"

    old = settings.ACCOUNTING_SYNC["ENCRYPTION_KEYS"]
    new_key = Fernet.generate_key().decode()
    with override_settings(ACCOUNTING_SYNC={**settings.ACCOUNTING_SYNC, "ENCRYPTION_KEYS": [new_key, *old]}):
        call_command("accounting_sync_rotate_keys")
    with override_settings(ACCOUNTING_SYNC={**settings.ACCOUNTING_SYNC, "ENCRYPTION_KEYS": [new_key]}):
        connector = Connection.objects.get(pk=conn.pk).connector()
        assert connector.setting("sender_password") == "s3nder-pa55"
    with override_settings(ACCOUNTING_SYNC={**settings.ACCOUNTING_SYNC, "ENCRYPTION_KEYS": old}), \
            pytest.raises(ConfigurationError, match="sender_password setting cannot be read"):
        connector.setting("sender_password")  # the old key alone: a clear error, never the ciphertext


def test_admin_never_shows_tokens(admin_client):
    conn = f.ConnectionFactory(client_secret="s3cret-value", access_token="access-abc123", refresh_token="r-xyz")
    html = admin_client.get(f"/admin/connectors/connection/{conn.pk}/change/").content.decode()
    assert "s3cret-value" not in html and "access-abc123" not in html and "r-xyz" not in html
