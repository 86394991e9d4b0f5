"""FreshBooks error classification, one exchange at a time through the client (``responses``)."""
import pytest
import responses

from connectors.base import RuleKind
from connectors.errors import (AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError,
                               SyncError, ValidationFailed)
from connectors.freshbooks.client import FreshBooksClient
from connectors.freshbooks.errors import code_and_message, refused_references

BASE = "https://api.freshbooks.com"
INVOICES = f"{BASE}/accounting/account/kQb2Pz/invoices/invoices"


def client(tokens=None):
    return FreshBooksClient(BASE, "kQb2Pz", tokens or (lambda force: "fresh" if force else "tok"))


def errors(status, errno, message, field="", headers=None):
    body = {"response": {"errors": [{"errno": errno, "field": field, "message": message, "object": "invoice",
                                     "value": ""}]}}
    responses.post(INVOICES, status=status, json=body, headers=headers or {})


def send():
    return client().create("invoice", {"customerid": 1})


@responses.activate
def test_every_call_carries_the_bearer_token_and_the_account_in_the_path():
    responses.get(f"{INVOICES}/7", json={"response": {"result": {"invoice": {"invoiceid": 7}}}}, match=[
        responses.matchers.header_matcher({"Authorization": "Bearer tok", "Api-Version": "alpha"})])
    assert client().read("invoice", "7") == {"invoiceid": 7}


ANSWERS = [
    (422, 1004, "Invoice number INV-7 already exists.", DuplicateError),
    (404, 1012, "Invoice not found.", RemoteNotFound),
    (422, 1012, "Client not found.", RemoteNotFound),
    (422, 1001, "Invalid value for field qty.", ValidationFailed),
    (403, 1003, "The server could not verify that you are authorized to access the URL requested.", AuthError),
    (500, 500, "An unexpected error occurred.", RetryableError),
]


@pytest.mark.parametrize("status, errno, message, kind", ANSWERS)
@responses.activate
def test_accounting_error_bodies(status, errno, message, kind):
    errors(status, errno, message)
    with pytest.raises(SyncError) as info:
        send()
    assert type(info.value) is kind and info.value.platform_code == str(errno)
    assert message in info.value.message
    assert info.value.hint or kind is RetryableError  # a retry needs no advice


@responses.activate
def test_429_is_throttled_with_its_retry_after_or_a_minute():
    errors(429, 429, "Too Many Requests", headers={"Retry-After": "17"})
    with pytest.raises(RateLimitedError) as info:
        send()
    assert info.value.retry_after == 17
    responses.replace(responses.POST, INVOICES, status=429, json={})
    with pytest.raises(RateLimitedError) as info:
        send()
    assert info.value.retry_after == 60


@responses.activate
def test_a_401_refreshes_once_then_is_an_auth_error_with_freshbooks_words():
    body = {"error": "unauthenticated", "error_description": "This action requires authentication to continue."}
    responses.post(INVOICES, status=401, json=body)
    seen = []
    with pytest.raises(AuthError) as info:
        client(lambda force: seen.append(force) or "t").create("invoice", {})
    assert seen == [False, True] and info.value.platform_code == "unauthenticated"
    assert "requires authentication" in info.value.message


@responses.activate
def test_an_html_503_is_retryable():
    responses.post(INVOICES, status=503, body="<html>503 Service Unavailable</html>")
    with pytest.raises(RetryableError):
        send()


def test_code_and_message_reads_each_shape():
    assert code_and_message({"response": {"errors": {"errno": 2, "message": "one"}}}, 400) == ("2", "one")
    assert code_and_message({"errno": 5, "message": "callback"}, 400) == ("5", "callback")
    assert code_and_message("nope", 502) == ("", "HTTP 502")
    assert code_and_message({}, 400) == ("", "HTTP 400")


def test_refused_references_name_the_account_our_check_refused():
    exc = ValidationFailed("the account 9 does not exist in FreshBooks or is archived", platform_code="x",
                           raw={"remote_id": "9", "kinds": ["income_account"]})
    [refused] = refused_references(exc)
    assert refused.remote_id == "9" and refused.kinds == {RuleKind.INCOME_ACCOUNT} and refused.definite
    gone = RemoteNotFound("Tax not found.", platform_code="1012")
    assert [r.kinds for r in refused_references(gone)] == [frozenset({RuleKind.TAX_CODE})]
    assert refused_references(DuplicateError("Invoice number 1 already exists.")) == []


@responses.activate
def test_a_refresh_sends_the_client_in_the_body_and_the_redirect_uri_when_set():
    from urllib.parse import parse_qs

    from connectors.base import ConnectionConfig
    from connectors.freshbooks.connector import FreshBooksConnector

    responses.post(f"{BASE}/auth/oauth/token", json={"access_token": "a2", "refresh_token": "r2", "expires_in": 43200,
                                                     "token_type": "Bearer", "created_at": 1})
    config = ConnectionConfig("freshbooks", "c", "kQb2Pz", {"redirect_uri": "https://host.example/cb"}, "id", "secret")
    tokens = FreshBooksConnector(config).refresh("r1")
    sent = {k: v[0] for k, v in parse_qs(responses.calls[0].request.body).items()}
    assert sent == {"grant_type": "refresh_token", "refresh_token": "r1", "redirect_uri": "https://host.example/cb",
                    "client_id": "id", "client_secret": "secret"}
    assert (tokens.access_token, tokens.refresh_token) == ("a2", "r2")  # the rotated one replaces ours
