"""The shared request loop (``connectors.http.ApiClient``), one exchange at a time with ``responses``, and the
declared error classification (``ErrorCodes``)."""
import datetime as dt
from decimal import Decimal

import pytest
import requests
import responses

from connectors.errors import (AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError, SyncError,
                               ValidationFailed)
from connectors.http import ApiClient, ErrorCodes, retry_after

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


@responses.activate
def test_changed_stops_at_the_first_older_row_only_when_the_answer_confirms_newest_first():
    since = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    rows = [{"n": 1, "day": 3}, {"n": 2}, {"n": 3, "day": 0}, {"n": 4, "day": 2}]
    for ordered in (True, False):
        responses.get(f"{BASE}/things", json={"things": rows, "ordered": ordered})
        found = client().changed("things", "things", since,
                                 lambda r: since + dt.timedelta(days=r["day"] - 1) if "day" in r else None,
                                 newest_first=lambda body: body["ordered"], size=10)
        assert [r["n"] for r in found] == ([1, 2] if ordered else [1, 2, 4])  # no time: kept, it may have changed
        responses.reset()


CODES = ErrorCodes("Example", rate_limited=frozenset({"R"}), internal=frozenset({"I"}), auth=frozenset({"A"}),
                   duplicate=frozenset({"D"}), not_found=frozenset({"N"}), bad_url=frozenset({"U"}), wait=42.0,
                   hints={"auth": "reconnect", "duplicate": "renumber", "not_found": "remap", "validation": "fix"})


@pytest.mark.parametrize("status, code, message, headers, error, hint", [
    (429, "", "slow down", {"Retry-After": "120"}, RateLimitedError, ""),
    (400, "R", "slow down", {}, RateLimitedError, ""),
    (503, "", "down", {}, RetryableError, ""), (400, "I", "oops", {}, RetryableError, ""),
    (403, "", "no", {}, AuthError, "reconnect"), (400, "A", "no", {}, AuthError, "reconnect"),
    (400, "D", "taken", {}, DuplicateError, "renumber"),
    (400, "X", "This name has already been used.", {}, DuplicateError, "renumber"),
    (400, "N", "gone", {}, RemoteNotFound, "remap"), (404, "X", "gone", {}, RemoteNotFound, "remap"),
    (400, "X", "Customer does not exist.", {}, RemoteNotFound, "remap"),
    (404, "U", "no such path", {}, ValidationFailed, "fix"), (400, "", "bad date", {}, ValidationFailed, "fix"),
])
def test_error_codes_classify_by_status_code_and_message(status, code, message, headers, error, hint):
    response = requests.Response()
    response.status_code, response.headers = status, requests.structures.CaseInsensitiveDict(headers)
    found = CODES.classify(response, code, message, {"code": code})
    assert type(found) is error and found.http_status == status and found.hint == hint
    assert found.platform_code == (code or (str(status) if hint in ("remap", "fix") else ""))
    if error is RateLimitedError:
        assert found.retry_after == (120 if headers else 42.0) and found.message.startswith("Example rate limit")
