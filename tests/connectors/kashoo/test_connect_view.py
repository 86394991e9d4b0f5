"""Staff connect a Kashoo connection with the shared Connect button: without a consent page the connect view sends
the browser straight back to the callback, which signs in with the stored email and password and keeps the token
encrypted (never in the settings). A wrong password is reported and nothing is stored."""
from urllib.parse import urlparse

import pytest

from connectors.kashoo.connector import KashooConnector
from connectors.models import Connection
from tests.platforms import CLIENT

pytestmark = pytest.mark.django_db


def make(ksandbox, secret):
    settings = {k: v for k, v in KashooConnector.sandbox_settings(ksandbox.base_url).items() if k != "authorize_url"}
    return Connection.objects.create(name="Kashoo", platform="kashoo", client_id=CLIENT[0], client_secret=secret,
                                     settings={**settings, "timeout": 3})


def connect(admin_client, conn):
    location = admin_client.get(f"/admin/connectors/connection/{conn.pk}/connect/")["Location"]
    back = urlparse(location)
    assert back.path == "/connectors/oauth/callback/"  # no consent page: straight back to the callback
    return admin_client.get(f"{back.path}?{back.query}")


def test_connect_signs_in_and_stores_the_token_encrypted(admin_client, ksandbox):
    conn = make(ksandbox, CLIENT[1])
    calls = ksandbox.token_calls
    assert connect(admin_client, conn).status_code == 302
    conn = Connection.objects.get(pk=conn.pk)
    assert ksandbox.token_calls == calls + 1 and conn.access_token.startswith("json:")
    assert conn.access_expires_at is not None
    assert "json:" not in str(conn.settings) and CLIENT[1] not in str(conn.settings)


def test_a_wrong_password_is_reported_and_nothing_is_stored(admin_client, ksandbox):
    conn = make(ksandbox, "wrong")
    assert connect(admin_client, conn).status_code == 302
    assert not Connection.objects.get(pk=conn.pk).access_token
