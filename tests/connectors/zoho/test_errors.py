"""Zoho Books error classification, one exchange at a time through the client (``responses``)."""
import pytest
import responses

from connectors.base import RuleKind
from connectors.errors import (AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError,
                               ValidationFailed)
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


@pytest.mark.parametrize("code, message", [(1001, 'Invoice "INV-7" already exists.'),
                                           (3062, 'The customer "Ada" already exists. Please specify a different '
                                                  'name.'),
                                           (9999, "This item name has already been used.")])
@responses.activate
def test_duplicates(code, message):
    answer(400, code, message)
    with pytest.raises(DuplicateError) as info:
        send()
    assert info.value.platform_code == str(code) and info.value.message == message and info.value.hint


@responses.activate
def test_does_not_exist_is_remote_not_found():
    responses.get(f"{BASE}/invoices/9", status=404, json={"code": 1002, "message": "Invoice does not exist."})
    with pytest.raises(RemoteNotFound) as info:
        client().read("invoice", "9")
    assert info.value.platform_code == "1002"


@responses.activate
def test_invalid_token_refreshes_once_then_is_an_auth_error():
    for _ in range(2):
        responses.get(f"{BASE}/invoices/1", status=401,
                      json={"code": 57, "message": "You are not authorized to perform this operation"})
    forced = []
    with pytest.raises(AuthError) as info:
        client(lambda force: forced.append(force) or "tok").read("invoice", "1")
    assert forced == [False, True] and info.value.platform_code == "57" and "Reconnect" in info.value.hint


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


@pytest.mark.parametrize("status, code", [(500, 1000), (503, None), (400, 1000)])
@responses.activate
def test_internal_errors_are_retryable(status, code):
    answer(status, code, "Internal error")
    with pytest.raises(RetryableError) as info:
        send()
    assert not isinstance(info.value, RateLimitedError)


@responses.activate
def test_validation_is_permanent_with_code_message_and_hint():
    answer(400, 14, "Invalid value passed for account_id")
    with pytest.raises(ValidationFailed) as info:
        send()
    assert not isinstance(info.value, (DuplicateError, RemoteNotFound))
    assert (info.value.platform_code, info.value.http_status) == ("14", 400) and info.value.hint


@responses.activate
def test_an_unknown_path_is_not_a_gone_record():
    responses.get(f"{BASE}/invoices/1/nothing", status=404, json={"code": 5, "message": "Invalid URL Passed"})
    with pytest.raises(ValidationFailed) as info:
        client().request("GET", "invoices/1/nothing")
    assert not isinstance(info.value, RemoteNotFound) and info.value.platform_code == "5"


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
