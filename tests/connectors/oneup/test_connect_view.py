"""Staff connect a OneUp connection with the shared Connect button: without a consent page the connect view sends
the browser straight back to the callback, which checks the stored API email and key and keeps the credentials
text encrypted (never in the settings). A wrong key is reported and nothing is stored."""
from urllib.parse import urlparse

import pytest

from connectors.models import Connection
from connectors.oneup.connector import OneUpConnector
from tests.platforms import CLIENT

pytestmark = pytest.mark.django_db


def make(osandbox, key):
    settings = {k: v for k, v in OneUpConnector.sandbox_settings(osandbox.base_url).items() if k != "authorize_url"}
    return Connection.objects.create(name="OneUp", platform="oneup", client_id=CLIENT[0], client_secret=key,
                                     settings={**settings, "timeout": 3})


def connect(admin_client, conn):
    location = admin_client.get(f"/admin/connectors/connection/{conn.pk}/connect/")["Location"]
    back = urlparse(location)
    assert back.path == "/connectors/oauth/callback/"  # no consent page: straight back to the callback
    return admin_client.get(f"{back.path}?{back.query}")


def test_connect_checks_the_key_and_stores_it_encrypted(admin_client, osandbox):
    conn = make(osandbox, CLIENT[1])
    calls = osandbox.token_calls
    assert connect(admin_client, conn).status_code == 302
    conn = Connection.objects.get(pk=conn.pk)
    assert osandbox.token_calls == calls + 1 and conn.access_token == osandbox.issue_tokens()["access_token"]
    assert conn.access_expires_at is not None
    assert conn.access_token not in str(conn.settings) and CLIENT[1] not in str(conn.settings)


def test_a_wrong_key_is_reported_and_nothing_is_stored(admin_client, osandbox):
    conn = make(osandbox, "wrong")
    assert connect(admin_client, conn).status_code == 302
    assert not Connection.objects.get(pk=conn.pk).access_token
