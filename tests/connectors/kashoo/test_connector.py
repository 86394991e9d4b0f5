"""The connector against its sandbox beyond the shared contract: the sign-in (exchange_code), the stored
``json:{...}`` token and its expiry, a wrong password refused before anything is stored, and a lapsed token
signed in again once."""
import datetime as dt
import json
from decimal import Decimal

import pytest

from connectors.base import ConnectionConfig
from connectors.documents import Mapping
from connectors.errors import AuthError, ConfigurationError
from connectors.kashoo.connector import KashooConnector
from tests.connectors.contract import customer
from tests.platforms import CLIENT


def settings(sb):
    return {**KashooConnector.sandbox_settings(sb.base_url), "timeout": 3}


def test_exchange_code_signs_in_and_stores_the_token_text_with_its_expiry(ksandbox):
    before = ksandbox.token_calls
    tokens = KashooConnector(ConnectionConfig("kashoo", "t", "", settings(ksandbox), *CLIENT)).exchange_code(
        "login", "http://host/cb", {})
    assert ksandbox.token_calls == before + 1 and tokens.remote_company_id == ksandbox.company_id
    assert tokens.access_token.startswith("json:")
    token = json.loads(tokens.access_token[5:])
    assert tokens.access_expires_at == dt.datetime.fromtimestamp(token["expiryDate"] / 1000, dt.UTC)
    assert dt.timedelta(hours=11) < tokens.access_expires_at - dt.datetime.now(dt.UTC) <= \
        dt.timedelta(hours=12, minutes=1)


def test_a_wrong_password_is_refused_at_connect(ksandbox):
    bad = KashooConnector(ConnectionConfig("kashoo", "t", "", settings(ksandbox), CLIENT[0], "wrong"))
    with pytest.raises(AuthError) as info:
        bad.exchange_code("login", "http://host/cb", {})
    assert info.value.platform_code == "INVALID_CREDENTIALS"


def test_missing_credentials_or_business_are_configuration_errors(ksandbox):
    with pytest.raises(ConfigurationError):
        KashooConnector(ConnectionConfig("kashoo", "t", "", settings(ksandbox), CLIENT[0], "")).login()
    no_business = {**settings(ksandbox), "business_id": ""}
    with pytest.raises(ConfigurationError):
        KashooConnector(ConnectionConfig("kashoo", "t", "", no_business, *CLIENT)).login()


def test_the_authorize_step_goes_straight_back_to_the_callback(ksandbox):
    plain = {k: v for k, v in settings(ksandbox).items() if k != "authorize_url"}
    url = KashooConnector(ConnectionConfig("kashoo", "t", "", plain, *CLIENT)).authorization_url(
        "https://app.example/cb", "s1")
    assert url == "https://app.example/cb?code=login&state=s1"


def test_a_lapsed_token_signs_in_once_more_and_the_call_goes_through(ksandbox):
    config = ConnectionConfig("kashoo", "t", ksandbox.company_id, settings(ksandbox), *CLIENT)
    state = {"token": ksandbox.issue_tokens()["access_token"], "logins": 0}

    def token_getter(force=False):
        if force:
            state["logins"] += 1
            state["token"] = KashooConnector(config).refresh("").access_token
        return state["token"]

    connector = KashooConnector(config, token_getter)
    ksandbox.clock.advance(13 * 3600)
    made = connector.create(customer(), Mapping(), "k")
    assert state["logins"] == 1 and connector.fetch("customer", made.remote_id).remote_id == made.remote_id


def test_the_demo_connect_flow_follows_the_sandbox_redirect_then_signs_in(ksandbox):
    """What accounting_sync.staff.demo does: the authorize URL, the sandbox's redirect, then exchange_code."""
    import requests
    from urllib.parse import parse_qs, urlparse

    connector = KashooConnector(ConnectionConfig("kashoo", "t", "", settings(ksandbox), *CLIENT))
    url = connector.authorization_url("http://127.0.0.1:8000/connectors/oauth/callback/", "demo-state")
    location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    params = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
    assert params["state"] == "demo-state"
    tokens = connector.exchange_code(params["code"], "http://127.0.0.1:8000/connectors/oauth/callback/", params)
    assert tokens.access_token.startswith("json:") and tokens.refresh_token


def test_list_documents_reads_whole_lists_and_keeps_what_changed_since(ksandbox):
    from tests.connectors.contract import invoice

    config = ConnectionConfig("kashoo", "t", ksandbox.company_id, settings(ksandbox), *CLIENT)
    token = ksandbox.issue_tokens()["access_token"]
    connector = KashooConnector(config, lambda force=False: token)
    accounts = {name: pk for pk, name in connector.reference_data().accounts.items()}
    cust = customer()
    refs = {cust.key: connector.create(cust, Mapping(), "c").remote_id}
    mapping = Mapping(line_accounts=(accounts["Sales"],), refs=refs)
    old = connector.create(invoice(cust.key, "L-1", ("10.00",)), mapping, "i1")
    ksandbox.clock.advance(3600)
    since = dt.datetime.fromtimestamp(ksandbox.clock(), dt.UTC) - dt.timedelta(seconds=1)
    new = connector.create(invoice(cust.key, "L-2", ("20.00",)), mapping, "i2")
    everything = {d.remote_id: d.total for d in connector.list_documents("invoice")}
    assert everything == {old.remote_id: Decimal("10.00"), new.remote_id: Decimal("20.00")}
    assert [d.remote_id for d in connector.list_documents("invoice", since)] == [new.remote_id]
    assert connector.reference_data().home_currency == "USD"
