"""The connector against its sandbox beyond the shared contract: signing in again when the session lapsed, the
connect step, and a payment edit (void, then record again) whose second half failed."""
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from connectors.base import ConnectionConfig
from connectors.billcom.connector import BillcomConnector
from connectors.documents import Entity, Mapping, RemoteRef
from connectors.errors import AuthError, RetryableError
from tests.connectors.contract import customer, invoice, payment
from tests.platforms import CLIENT


@pytest.fixture
def env(bsandbox):
    state = {"token": bsandbox.issue_tokens()["access_token"], "logins": 0}
    config = ConnectionConfig("billcom", "t", bsandbox.company_id,
                              {**BillcomConnector.sandbox_settings(bsandbox.base_url), "timeout": 3}, *CLIENT)

    def token_getter(force=False):
        if force:
            state["logins"] += 1
            state["token"] = BillcomConnector(config).refresh("").access_token
        return state["token"]

    connector = BillcomConnector(config, token_getter)
    accounts = {name: pk for pk, name in connector.reference_data().accounts.items()}
    return connector, state, accounts


def test_a_lapsed_session_signs_in_once_more_and_the_call_goes_through(env, bsandbox):
    connector, state, _ = env
    bsandbox.clock.advance(36 * 60)  # 35 idle minutes end a Bill.com session
    before = bsandbox.token_calls
    connector.create(customer(), Mapping(), "k")
    assert state["logins"] == 1 and bsandbox.token_calls == before + 1


def test_exchange_code_signs_in_and_names_the_organisation_and_a_wrong_password_is_refused(bsandbox):
    settings = BillcomConnector.sandbox_settings(bsandbox.base_url)
    good = BillcomConnector(ConnectionConfig("billcom", "t", "", settings, *CLIENT))
    tokens = good.exchange_code("login", "http://host/cb", {})
    assert tokens.remote_company_id == bsandbox.company_id and tokens.access_token
    assert tokens.access_expires_at - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=35)  # Bill.com's idle timeout
    assert BillcomConnector.token_refresh_margin == dt.timedelta(minutes=5)  # renewed 30 minutes in
    bad = BillcomConnector(ConnectionConfig("billcom", "t", "", settings, CLIENT[0], "wrong"))
    with pytest.raises(AuthError) as info:
        bad.exchange_code("login", "http://host/cb", {})
    assert info.value.platform_code == "BDC_1101"


def test_a_renewal_and_a_disconnect_log_the_session_out(bsandbox):
    """On the session family: a renewal (called under the connection's row lock) signs the replaced session out
    before it signs in, and ``release`` (disconnect) signs out for good; a session already gone is not renewed
    just to be ended."""
    settings = BillcomConnector.sandbox_settings(bsandbox.base_url)
    connector = BillcomConnector(ConnectionConfig("billcom", "t", "", settings, *CLIENT))
    first = connector.exchange_code("login", "http://host/cb", {}).access_token
    second = connector.refresh(first).access_token
    assert second != first and bsandbox.logouts == 1
    assert bsandbox.auth.check(f"Bearer {first}") is not None  # signed out on Bill.com
    assert bsandbox.auth.check(f"Bearer {second}") is None
    logins = bsandbox.token_calls
    connector.release(second)
    connector.release(second)  # gone already: a 401, taken as done (no new sign-in to end it)
    assert bsandbox.auth.check(f"Bearer {second}") is not None and bsandbox.token_calls == logins


def test_a_payment_edit_whose_new_recording_failed_is_finished_on_the_retry(env, bsandbox):
    connector, _, accounts = env
    cust = customer()
    refs = {cust.key: connector.create(cust, Mapping(), "c").remote_id}
    inv = invoice(cust.key, f"I{uuid.uuid4().hex[:6]}")
    refs[inv.key] = connector.create(inv, Mapping(line_accounts=(accounts["Sales"],), refs=refs), "i").remote_id
    mapping = Mapping(refs=refs)
    paid = connector.create(payment(cust.key, "PX-1", inv.key, "40.00"), mapping, "p")
    changed = payment(cust.key, "PX-1", inv.key, "55.00")
    bsandbox.faults.add("http_500", match="POST /invoices/record-payment")
    with pytest.raises(RetryableError):
        connector.update(changed, mapping, RemoteRef(paid.remote_id, paid.version), "u")
    assert connector.fetch(Entity.PAYMENT, paid.remote_id).status == "voided"
    again = connector.update(changed, mapping, RemoteRef(paid.remote_id, paid.version), "u")
    assert again.remote_id != paid.remote_id and again.total == Decimal("55.00")
    assert connector.fetch(Entity.INVOICE, refs[inv.key]).balance == Decimal("45.00")
