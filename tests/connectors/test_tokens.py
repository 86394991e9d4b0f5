"""Single-flight refresh, rotation persisted, invalid_grant -> needs_reauth; OAuth state checks."""
import datetime as dt

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from connectors.errors import AuthError
from connectors.models import ROW_FRESH_SECONDS, Connection, ConnectionStatus
from connectors.tokens import get_access_token
from tests.conftest import at_once

pytestmark = pytest.mark.django_db


def expire(conn):
    Connection.objects.filter(pk=conn.pk).update(access_expires_at=timezone.now() - dt.timedelta(seconds=1))


def test_expired_token_is_refreshed_and_rotation_stored(connection, sandbox):
    expire(connection)
    old_refresh = connection.refresh_token
    before = sandbox.token_calls
    token = get_access_token(connection.pk)
    connection.refresh_from_db()
    assert sandbox.token_calls == before + 1
    assert connection.access_token == token
    assert connection.refresh_token != old_refresh
    assert get_access_token(connection.pk) == token and sandbox.token_calls == before + 1


def test_a_connection_just_read_gives_its_token_without_reading_it_again(connection, sandbox,
                                                                        django_assert_num_queries):
    """A worker that has just leased work reads the connection with it: the first requests take the token from that
    row. A row read a while ago is read again (the token may have been refreshed since)."""
    conn = Connection.objects.get(pk=connection.pk)
    get = conn.token_getter()
    with django_assert_num_queries(0):
        assert get(False) == conn.access_token
    conn._read_at -= ROW_FRESH_SECONDS
    with django_assert_num_queries(1):
        assert get(False) == conn.access_token


def test_a_token_rotated_since_the_row_was_read_costs_one_401_and_a_retry(connection, sandbox):
    """Another worker refreshed the token just after this one read the row: the stale token meets a 401, the retry
    takes the rotated token from the database (no refresh of its own) and goes through."""
    conn = Connection.objects.get(pk=connection.pk)
    expire(connection)
    rotated = get_access_token(connection.pk)  # another worker's refresh
    calls = sandbox.token_calls
    conn.access_token = "revoked-by-the-rotation"  # what this worker read, as the platform now sees it
    connector = conn.connector()
    assert connector.client.query("select * from CompanyCurrency") is not None
    assert [x["status"] for x in connector.exchanges()] == [401, 200]
    assert connector.access_token() == rotated and sandbox.token_calls == calls


def test_invalid_grant_marks_needs_reauth(connection, sandbox):
    expire(connection)
    Connection.objects.filter(pk=connection.pk).update()
    conn = Connection.objects.get(pk=connection.pk)
    conn.refresh_token = "revoked"
    conn.save()
    with pytest.raises(AuthError):
        get_access_token(connection.pk)
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.NEEDS_REAUTH and conn.status_message.startswith("Reconnect needed: ")
    # The platform's own reason and what it means, not only "needs reconnecting".
    assert "invalid_grant" in conn.status_message and "consent" in conn.status_message
    with pytest.raises(AuthError) as again:  # the next worker is told the same reason
        get_access_token(connection.pk)
    assert "invalid_grant" in again.value.message and "needs reconnecting" not in again.value.message


def test_revoked_consent_reason_reaches_the_connection_through_a_sync(connection, sandbox, make_invoice):
    """Consent revoked on the platform: the sync stops, and the connection's status says why."""
    from accounting_sync.models import EntryStatus
    from tests.conftest import drain, entry_of

    expire(connection)
    conn = Connection.objects.get(pk=connection.pk)
    conn.refresh_token = "revoked"
    conn.save()
    invoice = make_invoice()
    drain()
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.NEEDS_REAUTH
    assert "invalid_grant" in conn.status_message and "revoked" in conn.status_message, conn.status_message
    assert "needs reconnecting" not in conn.status_message
    assert entry_of(invoice).status == EntryStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_concurrent_refresh_is_single_flight(connection, sandbox):
    """8 workers find the access token expired at once: one call to the token endpoint, all 8 go on with the new
    token, and the stored refresh token is the newest one the platform issued."""
    if db_connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway (covered on the PostgreSQL run)")
    expire(connection)
    before = sandbox.token_calls
    results = []

    def worker():
        connector = Connection.objects.get(pk=connection.pk).connector()
        currencies = connector.client.query("select * from CompanyCurrency")  # an API call with the token
        results.append((connector.access_token(), len(currencies)))

    errors = at_once(8, worker)
    assert not errors, errors
    assert sandbox.token_calls == before + 1
    assert len(results) == 8 and len({token for token, _ in results}) == 1 and all(n for _, n in results)
    connection.refresh_from_db()
    assert connection.access_token == results[0][0]
    newest = [token for token, info in sandbox.auth._refresh.items() if info["superseded"] is None]
    assert connection.refresh_token in newest


def test_oauth_connect_and_callback_verify_state(admin_client, connection, sandbox):
    response = admin_client.get(f"/admin/connectors/connection/{connection.pk}/connect/")
    assert response.status_code == 302 and response["Location"].startswith(sandbox.authorize_url)
    bad = admin_client.get("/connectors/oauth/callback/", {"state": "forged", "code": "x", "realmId": "1"})
    assert bad.status_code == 400
    # The bad attempt consumed the pending state: even the right state no longer works.
    import requests

    admin_client.get(f"/admin/connectors/connection/{connection.pk}/connect/")
    location = admin_client.get(f"/admin/connectors/connection/{connection.pk}/connect/")["Location"]
    consent = requests.get(location, allow_redirects=False, timeout=5).headers["Location"]
    from urllib.parse import parse_qs, urlparse

    params = {k: v[0] for k, v in parse_qs(urlparse(consent).query).items()}
    calls = sandbox.token_calls
    ok = admin_client.get("/connectors/oauth/callback/", params)
    assert ok.status_code == 302 and sandbox.token_calls == calls + 1
    replay = admin_client.get("/connectors/oauth/callback/", params)
    assert replay.status_code == 400 and sandbox.token_calls == calls + 1


def test_refused_refresh_does_not_undo_a_reconnect_made_meanwhile(connection, sandbox, monkeypatch):
    """invalid_grant marks the connection for reconnecting only if nobody stored new tokens since we read them."""
    import datetime as dt

    from connectors.base import TokenSet
    from connectors.qbo.connector import QBOConnector
    from connectors.tokens import store_tokens

    expire(connection)

    def refused_while_staff_reconnect(self, refresh_token):
        fresh = sandbox.issue_tokens()  # staff press Connect in the admin at this very moment
        store_tokens(Connection.objects.get(pk=connection.pk), TokenSet(
            fresh["access_token"], fresh["refresh_token"], timezone.now() + dt.timedelta(hours=1)))
        raise AuthError("the platform refused the token request (invalid_grant)", platform_code="invalid_grant")

    monkeypatch.setattr(QBOConnector, "refresh", refused_while_staff_reconnect)
    token = get_access_token(connection.pk)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE and token == connection.access_token


def test_idle_connection_tokens_are_kept_alive_before_they_expire_unused(connection, sandbox):
    from connectors.tokens import keep_alive

    Connection.objects.filter(pk=connection.pk).update(refresh_expires_at=timezone.now() + dt.timedelta(days=30))
    assert keep_alive() == []  # a month left: nothing to do yet
    old = Connection.objects.get(pk=connection.pk).refresh_token
    Connection.objects.filter(pk=connection.pk).update(refresh_expires_at=timezone.now() + dt.timedelta(days=3))
    calls = sandbox.token_calls
    assert keep_alive() == [connection.name]
    connection.refresh_from_db()
    assert sandbox.token_calls == calls + 1 and connection.refresh_token != old
    assert connection.refresh_expires_at > timezone.now() + dt.timedelta(days=30)
    assert connection.status == ConnectionStatus.ACTIVE
