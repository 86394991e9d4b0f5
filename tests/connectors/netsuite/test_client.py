"""The NetSuite client on the shared request loop against the sandbox: TBA signing and OAuth 2.0 bearer tokens,
Location ids, eid upserts, idempotency keys in the exchange log, SuiteQL paging, and NetSuite's errors mapped to
our classes (the concurrency limit a rate limit)."""
import json
import threading

import pytest
import requests

from connectors.errors import AuthError, RateLimitedError, RemoteNotFound, RetryableError, ValidationFailed
from connectors.netsuite import errors
from connectors.netsuite.client import NetSuiteClient


def tba_client(sb, secret=None):
    token, token_secret = next(iter(sb.tokens.items()))
    return NetSuiteClient(sb.base_url + "/services/rest", None, timeout=10,
                          tba_credentials=(sb.account_id, *sb.consumer, token, secret or token_secret))


@pytest.fixture
def client(nsandbox):
    return tba_client(nsandbox)


def new_invoice(client, cust, key="", amount="40.00"):
    return client.create("invoice", {"entity": {"id": cust}, "item": {"items": [
        {"item": {"id": "201"}, "quantity": 1, "rate": amount}]}}, key=key)


def test_create_read_patch_delete_with_tba(client):
    cust = client.create("customer", {"companyName": "Client Co"})
    inv = new_invoice(client, cust, key="key-1")
    assert client.read("invoice", inv)["entity"]["id"] == cust
    client.patch("invoice", inv, {"memo": "m"})
    assert client.read("invoice", inv, expand=False)["memo"] == "m"
    assert client.exchanges[1]["idempotency_key"] == "key-1"
    assert client.exchanges[1]["location"].endswith(f"/invoice/{inv}")
    client.delete("invoice", inv)
    with pytest.raises(RemoteNotFound):
        client.read("invoice", inv)


def test_a_repeated_idempotency_key_returns_the_first_record(client, nsandbox):
    cust = client.create("customer", {"companyName": "Client Co"})
    assert new_invoice(client, cust, key="same") == new_invoice(client, cust, key="same")
    assert len(nsandbox.store.rows("invoice")) == 1


def test_upsert_by_external_id(client):
    cust = client.create("customer", {"companyName": "Client Co"})
    body = {"entity": {"id": cust}, "item": {"items": [{"item": {"id": "201"}, "rate": "5"}]}}
    first = client.upsert("invoice", "ours 1", body)
    assert client.upsert("invoice", "ours 1", {"memo": "again"}) == first
    assert client.read("invoice", "eid:ours 1")["memo"] == "again"
    assert client.upsert("invoice", "ours 1", body) == first  # sent whole again: its lines replace, not add
    assert [x["rate"] for x in client.read("invoice", first)["item"]["items"]] == [5]


def test_oauth2_bearer(nsandbox):
    token = nsandbox.issue_tokens()["access_token"]
    client = NetSuiteClient(nsandbox.base_url + "/services/rest", lambda fresh: token, timeout=10)
    assert client.read("account", "54")["acctName"] == "Sales"


def test_suiteql_reads_every_page(client):
    cust = client.create("customer", {"companyName": "Client Co"})
    ids = [new_invoice(client, cust, amount=str(n)) for n in range(1, 6)]
    rows = list(client.suiteql("SELECT id FROM transaction WHERE type = 'CustInvc' ORDER BY id", page_size=2))
    assert [r["id"] for r in rows] == ids and all("links" not in r for r in rows)
    assert sum(1 for e in client.exchanges if "suiteql" in e["path"]) == 3


def test_errors_become_our_classes(nsandbox, client):
    with pytest.raises(AuthError):
        tba_client(nsandbox, secret="wrong").read("account", "54")
    with pytest.raises(ValidationFailed) as refused:
        client.create("invoice", {"entity": {"id": "424242"}, "item": {"items": []}})
    assert "entity" in str(refused.value)
    inside, release = threading.Event(), threading.Event()
    nsandbox.concurrency = 1
    nsandbox.on_request = lambda req: (inside.set(), release.wait(5)) if req.method == "GET" else None
    worker = threading.Thread(target=lambda: client.read("account", "54"))
    worker.start()
    try:
        assert inside.wait(5)
        with pytest.raises(RateLimitedError) as limited:
            tba_client(nsandbox).create("customer", {"companyName": "B"})
        assert limited.value.platform_code == "CONCURRENCY_LIMIT_EXCEEDED"
    finally:
        release.set()
        worker.join(5)
        nsandbox.on_request = None


def answer(status, body):
    response = requests.Response()
    response.status_code, response._content = status, body.encode()
    return response


@pytest.mark.parametrize("status, code, kind", [
    (429, "CONCURRENCY_LIMIT_EXCEEDED", RateLimitedError), (500, "UNEXPECTED_ERROR", RetryableError),
    (401, "INVALID_LOGIN", AuthError), (404, "NONEXISTENT_ID", RemoteNotFound),
    (400, "USER_ERROR", ValidationFailed)])
def test_classify_reads_o_error_details(status, code, kind):
    body = json.dumps({"type": "t", "title": "x", "status": status, "o:errorDetails": [
        {"detail": "Invalid account reference key 54.", "o:errorCode": code, "o:errorPath": "account"}]})
    error = errors.classify(answer(status, body))
    assert isinstance(error, kind)
    assert error.platform_code == code
    if kind is ValidationFailed:
        assert "(field account)" in str(error)
        assert errors.refused_references(error)


@pytest.mark.parametrize("path, kinds", [
    ("account", {"income_account", "deposit_account", "refund_account", "paid_from_account"}),
    ("expense.items[0].account", {"expense_account"}), ("line.items[1].account", {"journal_account"})])
def test_a_refused_account_names_the_rules_its_error_path_points_to(path, kinds):
    body = json.dumps({"type": "t", "title": "x", "status": 400, "o:errorDetails": [
        {"detail": "Invalid account reference key 61.", "o:errorCode": "USER_ERROR", "o:errorPath": path}]})
    [refused] = errors.refused_references(errors.classify(answer(400, body)))
    assert refused.kinds == kinds and refused.remote_id is None


def test_classify_survives_a_body_that_is_not_netsuite_s():
    assert isinstance(errors.classify(answer(502, "<html>bad gateway</html>")), RetryableError)
