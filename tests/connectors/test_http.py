"""The shared request loop (``connectors.http.ApiClient``), one exchange at a time with ``responses``."""
from decimal import Decimal

import pytest
import requests
import responses

from connectors.errors import AuthError, RetryableError, SyncError, ValidationFailed
from connectors.http import ApiClient, retry_after

BASE = "https://api.example.test/v1"


class Client(ApiClient):
    platform = "Example"
    auth_scheme = "Token"
    trace_headers = ("X-Trace",)
    key_params = ("requestid",)

    def default_params(self):
        return {"org": "42"}

    def classify(self, response):
        if response.status_code == 401:
            return AuthError("refused", http_status=401)
        return ValidationFailed(response.json().get("message", ""), platform_code="7", http_status=response.status_code)


class Tokens:
    def __init__(self):
        self.calls = []

    def __call__(self, force: bool) -> str:
        self.calls.append(force)
        return "fresh" if force else "old"


class Budget:
    """A throttle that counts what it hands out and what comes back."""

    def __init__(self):
        self.taken, self.released = [], 0

    def __call__(self, kind):
        self.taken.append(kind)

        def release():
            self.released += 1
        return release


def client(**kwargs):
    return Client(BASE, kwargs.pop("tokens", Tokens()), **kwargs)


@responses.activate
def test_sends_auth_scheme_default_params_and_exact_decimals():
    responses.post(f"{BASE}/things", json={"amount": 1.10}, match=[
        responses.matchers.query_param_matcher({"org": "42", "requestid": "k-1"}),
        responses.matchers.header_matcher({"Authorization": "Token old", "Content-Type": "application/json"})])
    body = client().request("POST", "things", params={"requestid": "k-1"}, body={"amount": Decimal("0.10")})
    assert body == {"amount": Decimal("1.10")} and isinstance(body["amount"], Decimal)
    assert responses.calls[0].request.body == '{"amount": 0.10}'


def test_a_float_never_leaves():
    with pytest.raises(TypeError):
        client().request("POST", "things", body={"amount": 0.1})


@responses.activate
def test_exchange_is_recorded_without_secrets():
    responses.get(f"{BASE}/things", json={}, headers={"X-Trace": "t-9"})
    c = client()
    c.request("GET", "things", params={"requestid": "k-2", "access_token": "s3cret"})
    [entry] = c.exchanges
    assert entry["method"] == "GET" and entry["status"] == 200 and entry["x-trace"] == "t-9"
    assert entry["idempotency_key"] == "k-2" and entry["path"].startswith("/things?") and "s3cret" not in entry["path"]
    assert isinstance(entry["ms"], int) and "error" not in entry


@responses.activate
def test_401_refreshes_once_and_retries():
    responses.get(f"{BASE}/things", status=401, json={}, match=[
        responses.matchers.header_matcher({"Authorization": "Token old"})])
    responses.get(f"{BASE}/things", json={"ok": True}, match=[
        responses.matchers.header_matcher({"Authorization": "Token fresh"})])
    tokens, budget = Tokens(), Budget()
    c = client(tokens=tokens, throttle=budget)
    assert c.request("GET", "things") == {"ok": True}
    assert tokens.calls == [False, True] and [x["status"] for x in c.exchanges] == [401, 200]
    assert budget.taken == ["request", "request"] and budget.released == 2


@responses.activate
def test_401_after_refresh_is_classified_not_looped():
    responses.get(f"{BASE}/things", status=401, json={})
    tokens = Tokens()
    with pytest.raises(AuthError):
        client(tokens=tokens).request("GET", "things")
    assert tokens.calls == [False, True]


@responses.activate
def test_non_2xx_goes_to_classify_and_is_recorded():
    responses.post(f"{BASE}/things", status=400, json={"message": "bad date"})
    c = client()
    with pytest.raises(ValidationFailed) as info:
        c.request("POST", "things", body={}, kind="batch")
    assert info.value.message == "bad date" and c.exchanges[0]["error"] == "validation 7"


@pytest.mark.parametrize("exc", [requests.ConnectTimeout("slow"), requests.ReadTimeout("slow"),
                                 requests.ConnectionError("reset by peer")])
@responses.activate
def test_transport_errors_are_retryable_and_free_the_slot(exc):
    responses.get(f"{BASE}/things", body=exc)
    budget = Budget()
    c = client(throttle=budget)
    with pytest.raises(RetryableError) as info:
        c.request("GET", "things")
    assert info.value.message.startswith("Example request") and budget.released == 1
    assert c.exchanges[0]["status"] is None and c.exchanges[0]["error"] == "retryable"


@responses.activate
def test_no_hidden_retry_on_5xx():
    responses.get(f"{BASE}/things", status=503, json={})

    class Server(Client):
        def classify(self, response):
            return RetryableError("down", http_status=response.status_code)

    with pytest.raises(RetryableError):
        Server(BASE, Tokens()).request("GET", "things")
    assert len(responses.calls) == 1


@responses.activate
def test_kind_reaches_the_throttle_and_absolute_urls_pass_through():
    responses.get("https://other.example.test/orgs", json={})
    budget = Budget()
    client(throttle=budget).request("GET", "https://other.example.test/orgs", kind="daily")
    assert budget.taken == ["daily"]


@responses.activate
def test_pages_until_the_platform_says_no_more():
    for page, more in ((1, True), (2, False)):
        responses.get(f"{BASE}/things", json={"things": [{"n": page}], "more": more},
                      match=[responses.matchers.query_param_matcher({"org": "42", "page": str(page), "per_page": "1"},
                                                                    strict_match=False)])
    rows = list(client().pages("things", "things", size=1, more=lambda body, rows: body["more"]))
    assert rows == [{"n": 1}, {"n": 2}]


@responses.activate
def test_empty_and_non_json_bodies():
    responses.delete(f"{BASE}/things/1", body=b"")
    responses.get(f"{BASE}/odd", body=b"<html>")
    assert client().request("DELETE", "things/1") == {}
    assert client().request("GET", "odd") == {"text": "<html>"}


def test_retry_after_seconds_date_and_default():
    assert retry_after("120", 60) == 120 and retry_after(None, 60) == 60 and retry_after("soon", 5) == 5
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 60) == 0  # a date in the past: go now


def test_classify_is_required():
    with pytest.raises(NotImplementedError):
        ApiClient(BASE, Tokens()).classify(None)
    assert issubclass(RetryableError, SyncError)
