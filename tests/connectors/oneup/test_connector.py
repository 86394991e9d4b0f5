"""The connector against its sandbox beyond the shared contract: the credentials check (exchange_code) and the
stored Basic credentials text, a wrong key refused before anything is stored, a revoked key turning into an auth
error after one more check, and the reconciliation list read whole and filtered by ``updated_at``."""
import base64
import datetime as dt
from decimal import Decimal

import pytest

from connectors.base import ConnectionConfig
from connectors.documents import Mapping
from connectors.errors import AuthError, ConfigurationError
from connectors.oneup.connector import OneUpConnector
from tests.connectors.contract import customer, invoice
from tests.platforms import CLIENT


def settings(sb):
    return {**OneUpConnector.sandbox_settings(sb.base_url), "timeout": 3}


def test_exchange_code_checks_the_credentials_and_keeps_them_as_the_token(osandbox):
    before = osandbox.token_calls
    tokens = OneUpConnector(ConnectionConfig("oneup", "t", "", settings(osandbox), *CLIENT)).exchange_code(
        "api-key", "http://host/cb", {})
    assert osandbox.token_calls == before + 1 and tokens.remote_company_id == CLIENT[0]
    assert base64.b64decode(tokens.access_token).decode() == f"{CLIENT[0]}:{CLIENT[1]}"
    assert tokens.refresh_token == tokens.access_token
    assert tokens.access_expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(days=29)


def test_a_wrong_key_is_refused_at_connect(osandbox):
    bad = OneUpConnector(ConnectionConfig("oneup", "t", "", settings(osandbox), CLIENT[0], "wrong"))
    with pytest.raises(AuthError) as info:
        bad.exchange_code("api-key", "http://host/cb", {})
    assert info.value.platform_code == "001"


def test_missing_credentials_are_a_configuration_error(osandbox):
    with pytest.raises(ConfigurationError):
        OneUpConnector(ConnectionConfig("oneup", "t", "", settings(osandbox), CLIENT[0], "")).login()


def test_the_authorize_step_goes_straight_back_to_the_callback(osandbox):
    plain = {k: v for k, v in settings(osandbox).items() if k != "authorize_url"}
    url = OneUpConnector(ConnectionConfig("oneup", "t", "", plain, *CLIENT)).authorization_url(
        "https://app.example/cb", "s1")
    assert url == "https://app.example/cb?code=api-key&state=s1"


def test_the_demo_connect_flow_follows_the_sandbox_redirect_then_checks(osandbox):
    """What accounting_sync.staff.demo does: the authorize URL, the sandbox's redirect, then exchange_code."""
    import requests
    from urllib.parse import parse_qs, urlparse

    connector = OneUpConnector(ConnectionConfig("oneup", "t", "", settings(osandbox), *CLIENT))
    url = connector.authorization_url("http://127.0.0.1:8000/connectors/oauth/callback/", "demo-state")
    location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    params = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
    assert params["state"] == "demo-state"
    tokens = connector.exchange_code(params["code"], "http://127.0.0.1:8000/connectors/oauth/callback/", params)
    assert tokens.access_token and tokens.refresh_token


def test_a_revoked_key_is_an_auth_error_after_one_more_check(osandbox):
    config = ConnectionConfig("oneup", "t", osandbox.company_id, settings(osandbox), CLIENT[0], "rotated-away")
    checks = []

    def token_getter(force=False):
        if force:
            checks.append(1)
            return OneUpConnector(config).refresh("").access_token  # the stored key no longer works
        return "bm90LWEta2V5"

    with pytest.raises(AuthError):
        OneUpConnector(config, token_getter).create(customer(), Mapping(), "k")
    assert checks == [1]


def test_list_documents_reads_whole_lists_and_keeps_what_changed_since(osandbox):
    config = ConnectionConfig("oneup", "t", osandbox.company_id, settings(osandbox), *CLIENT)
    token = osandbox.issue_tokens()["access_token"]
    connector = OneUpConnector(config, lambda force=False: token)
    accounts = {name: pk for pk, name in connector.reference_data().accounts.items()}
    cust = customer()
    refs = {cust.key: connector.create(cust, Mapping(), "c").remote_id}
    mapping = Mapping(line_accounts=(accounts["Sales"],), refs=refs)
    old = connector.create(invoice(cust.key, "L-1", ("10.00",)), mapping, "i1")
    osandbox.clock.advance(3600)
    since = dt.datetime.fromtimestamp(osandbox.clock(), dt.UTC) - dt.timedelta(seconds=1)
    new = connector.create(invoice(cust.key, "L-2", ("20.00",)), mapping, "i2")
    everything = {d.remote_id: d.total for d in connector.list_documents("invoice")}
    assert everything == {old.remote_id: Decimal("10.00"), new.remote_id: Decimal("20.00")}
    assert [d.remote_id for d in connector.list_documents("invoice", since)] == [new.remote_id]
    assert list(connector.list_documents("credit_note")) == []
    assert connector.reference_data().home_currency == "USD"
