"""Zoho Books error classification, one exchange at a time through the client (``responses``)."""
import pytest
import responses

from connectors.base import RuleKind
from connectors.errors import (AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError,
                               SyncError, ValidationFailed)
from connectors.zoho.client import ZohoClient
from connectors.zoho.errors import refused_references

BASE = "https://www.zohoapis.com/books/v3"


def client(tokens=None):
    return ZohoClient(BASE, "10234695", tokens or (lambda force: "fresh" if force else "tok"))


def answer(status, code=None, message="", headers=None):
    body = {"message": message, **({"code": code} if code is not None else {})}
    responses.post(f"{BASE}/invoices", status=status, json=body, headers=headers or {})


def send():
    return client().request("POST", "invoices", params={"ignore_auto_number_generation": "true"}, body={})


@responses.activate
def test_every_call_carries_the_organisation_and_zoho_token():
    responses.get(f"{BASE}/invoices/1", json={"code": 0, "invoice": {"invoice_id": "1"}}, match=[
        responses.matchers.query_param_matcher({"organization_id": "10234695"}),
        responses.matchers.header_matcher({"Authorization": "Zoho-oauthtoken tok"})])
    assert client().read("invoice", "1") == {"invoice_id": "1"}


#: (HTTP status, Zoho code, message) -> our error class; what status, code and message mean in general is
#: tested once in tests/connectors/test_http.py (ErrorCodes).
ANSWERS = [
    (400, 1001, 'Invoice "INV-7" already exists.', DuplicateError),
    (400, 3062, 'The customer "Ada" already exists. Please specify a different name.', DuplicateError),
    (400, 9999, "This item name has already been used.", DuplicateError),
    (404, 1002, "Invoice does not exist.", RemoteNotFound),
    (401, 57, "You are not authorized to perform this operation", AuthError),
    (429, 44, "You have made too many requests.", RateLimitedError),
    (400, 45, "You have made too many requests continuously.", RateLimitedError),
    (500, 1000, "Internal error", RetryableError), (503, None, "Internal error", RetryableError),
    (400, 1000, "Internal error", RetryableError),
    (400, 14, "Invalid value passed for account_id", ValidationFailed),
    (404, 5, "Invalid URL Passed", ValidationFailed),  # a path Zoho does not serve is not a gone record
]


@pytest.mark.parametrize("status, code, message, error", ANSWERS)
@responses.activate
def test_zoho_answers_are_classified_with_code_and_hint(status, code, message, error):
    forced = []
    answer(status, code, message)
    with pytest.raises(SyncError) as info:
        client(lambda force: forced.append(force) or "tok").request("POST", "invoices", body={})
    assert type(info.value) is error and info.value.platform_code == ("" if code is None else str(code))
    assert info.value.message.endswith(message) and info.value.http_status == status
    assert bool(info.value.hint) == (error not in (RateLimitedError, RetryableError))
    assert forced == ([False, True] if status == 401 else [False])  # a refused token is refreshed once
    if error is AuthError:
        assert "Reconnect" in info.value.hint


@responses.activate
def test_rate_limit_honours_retry_after_or_waits_a_minute():
    answer(429, 44, "You have made too many requests.", {"Retry-After": "120"})
    with pytest.raises(RateLimitedError) as info:
        send()
    assert info.value.retry_after == 120
    responses.reset()
    answer(429, None, "Rate limit exceeded")
    with pytest.raises(RateLimitedError) as info:
        send()
    assert info.value.retry_after == 60


@responses.activate
def test_a_body_that_is_not_json():
    responses.post(f"{BASE}/invoices", status=400, body=b"<html>bad</html>")
    with pytest.raises(ValidationFailed) as info:
        send()
    assert info.value.platform_code == "400"


def test_refused_references_name_the_kind_not_the_id():
    gone = RemoteNotFound("The account you selected does not exist.", platform_code="1002")
    [refused] = refused_references(gone)
    assert RuleKind.INCOME_ACCOUNT in refused.kinds and refused.remote_id is None and refused.definite
    tax = ValidationFailed("Invalid value passed for tax_id (tax is inactive)", platform_code="14")
    assert [r.kinds for r in refused_references(tax)] == [frozenset({RuleKind.TAX_CODE})]
    assert refused_references(DuplicateError('Invoice "1" already exists.')) == []
    assert refused_references(ValidationFailed("Please enter a date.")) == []
