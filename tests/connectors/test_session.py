"""The kit's login-session family (``connectors.session``): a session stored like a token, renewed once under the
connection's lock with the old one logged out, a call refused as "session expired" sent again once with a new
session, and connecting without a consent page."""
import datetime as dt
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection as db_connection
from django.test import override_settings
from django.utils import timezone

from accounting_sync.staff.admin import disconnect
from connectors.base import Capabilities, ConnectionConfig
from connectors.errors import AuthError, RetryableError, ValidationFailed
from connectors.models import Connection
from connectors.session import Session, SessionConnector
from connectors.tokens import get_access_token
from tests.conftest import at_once
from tests.factories import ConnectionFactory


class FakePlatform:
    """Sessions as a platform keeps them: numbered, forgotten at logout; counts logins and logouts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.issued, self.live, self.logins, self.logouts, self.refuse_login = 0, set(), 0, [], False

    def login(self) -> str:
        with self.lock:
            if self.refuse_login:
                raise AuthError("wrong password", platform_code="login")
            self.logins += 1
            self.issued += 1
            token = f"session-{self.issued}"
            self.live.add(token)
            return token

    def logout(self, token: str) -> None:
        with self.lock:
            self.logouts.append(token)
            self.live.discard(token)


PLATFORM = FakePlatform()


class FakeSessionConnector(SessionConnector):
    id = "session-test"
    name = "Session test"
    capabilities = Capabilities(entities=frozenset({"customer", "invoice"}))
    session_lifetime = dt.timedelta(minutes=30)

    def login(self) -> Session:
        return Session(PLATFORM.login())

    def logout(self, token: str) -> None:
        if token == "unreachable":
            raise RetryableError("connection reset")
        PLATFORM.logout(token)

    def whoami(self) -> str:
        def send(token: str) -> str:
            if token not in PLATFORM.live:
                raise AuthError("Session expired", platform_code="session_expired")
            return token
        return self.call(send)


FAKE = {"session-test": "tests.connectors.test_session.FakeSessionConnector"}


@pytest.fixture(autouse=True)
def fresh_platform(settings):
    PLATFORM.reset()
    current = settings.ACCOUNTING_SYNC
    with override_settings(ACCOUNTING_SYNC={**current, "CONNECTORS": {**current.get("CONNECTORS", {}), **FAKE}}):
        yield PLATFORM


def connected(**fields) -> Connection:
    tokens = FakeSessionConnector(ConnectionConfig("session-test", "s", "")).exchange_code("login", "", {})
    return ConnectionFactory(platform="session-test", access_token=tokens.access_token,
                             refresh_token=tokens.refresh_token, access_expires_at=tokens.access_expires_at, **fields)


def test_connecting_logs_in_once_and_stores_the_session_with_the_platforms_idle_timeout(db):
    conn = connected()
    assert PLATFORM.logins == 1 and conn.access_token == conn.refresh_token == "session-1"
    left = conn.access_expires_at - timezone.now()
    assert dt.timedelta(minutes=29) < left <= dt.timedelta(minutes=30)


def test_no_consent_page_the_connect_button_goes_straight_to_the_callback():
    connector = FakeSessionConnector(ConnectionConfig("session-test", "s", ""))
    url = connector.authorization_url("https://host.example/cb/?x=1", "st8")
    assert url.startswith("https://host.example/cb/?x=1&")
    assert parse_qs(urlsplit(url).query) == {"x": ["1"], "code": ["login"], "state": ["st8"]}
    stand_in = FakeSessionConnector(ConnectionConfig("session-test", "s", "", {"authorize_url": "http://sb/authorize"},
                                                     "user"))
    assert stand_in.authorization_url("https://host.example/cb/", "st8").startswith("http://sb/authorize?")


@pytest.mark.django_db
def test_an_expired_session_is_renewed_once_and_the_old_one_logged_out():
    conn = connected()
    Connection.objects.filter(pk=conn.pk).update(access_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert get_access_token(conn.pk) == "session-2"
    assert get_access_token(conn.pk) == "session-2"  # valid now: no second login
    assert PLATFORM.logins == 2 and PLATFORM.logouts == ["session-1"] and PLATFORM.live == {"session-2"}


@pytest.mark.django_db
def test_a_session_the_platform_forgot_is_renewed_and_the_call_sent_again_once():
    conn = connected()
    PLATFORM.live.clear()  # the platform timed it out early (or a person logged it out)
    assert conn.connector().whoami() == "session-2"
    assert PLATFORM.logins == 2


@pytest.mark.django_db
def test_a_new_session_refused_too_is_an_auth_error_and_marks_the_connection():
    conn = connected()
    PLATFORM.live.clear()
    PLATFORM.refuse_login = True
    with pytest.raises(AuthError):
        conn.connector().whoami()
    conn.refresh_from_db()
    assert conn.status == "needs_reauth" and "wrong password" in conn.status_message


def test_a_logout_that_fails_does_not_stop_the_new_login():
    connector = FakeSessionConnector(ConnectionConfig("session-test", "s", ""))
    tokens = connector.refresh("unreachable")
    assert tokens.access_token == "session-1" and PLATFORM.logouts == []


def test_a_session_refused_for_another_reason_is_not_retried():
    connector = FakeSessionConnector(ConnectionConfig("session-test", "s", ""), lambda force: "session-0")
    calls = []

    def send(token):
        calls.append(token)
        raise ValidationFailed("bad field")
    with pytest.raises(ValidationFailed):
        connector.call(send)
    assert calls == ["session-0"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_renewal_is_single_flight():
    """Eight workers find the session expired at once: one login, one logout, all go on with the new session."""
    if db_connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway (covered on the PostgreSQL run)")
    conn = connected()
    Connection.objects.filter(pk=conn.pk).update(access_expires_at=timezone.now() - dt.timedelta(seconds=1))
    seen = []
    errors = at_once(8, lambda: seen.append(Connection.objects.get(pk=conn.pk).connector().whoami()))
    assert not errors, errors
    assert PLATFORM.logins == 2 and PLATFORM.logouts == ["session-1"] and set(seen) == {"session-2"}


@pytest.mark.django_db
def test_disconnecting_logs_the_session_out():
    conn = connected()
    disconnect(conn, "staff")
    conn.refresh_from_db()
    assert PLATFORM.logouts == ["session-1"] and not PLATFORM.live and conn.access_token == ""
