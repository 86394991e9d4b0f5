"""FreeAgent error classification, one exchange at a time through the client (``responses``)."""
import pytest
import responses

from connectors.base import RuleKind
from connectors.errors import (AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError,
                               ValidationFailed)
from connectors.freeagent.client import FreeAgentClient
from connectors.freeagent.errors import classify, messages, refused_references

BASE = "https://api.freeagent.com/v2"


def client(tokens=None):
    return FreeAgentClient(BASE, tokens or (lambda force: "fresh" if force else "tok"))


def answer(status, message="", headers=None, shape="list"):
    body = {"errors": [{"message": message}]} if shape == "list" else {"errors": {"error": {"message": message}}}
    responses.post(f"{BASE}/invoices", status=status, json=body, headers=headers or {})


def send():
    return client().request("POST", "invoices", body={"invoice": {}})


@responses.activate
def test_every_call_carries_the_bearer_token_and_a_user_agent():
    responses.get(f"{BASE}/invoices/1", json={"invoice": {"url": f"{BASE}/invoices/1"}}, match=[
        responses.matchers.header_matcher({"Authorization": "Bearer tok", "User-Agent": "accounting-sync"})])
    assert client().read("invoice", "1") == {"url": f"{BASE}/invoices/1"}


#: (HTTP status, message, body shape) -> our error class. Messages are FreeAgent's own where its API forum or
#: docs quote them; FreeAgent publishes no error codes.
ANSWERS = [
    (422, "Reference has already been taken", "list", DuplicateError),
    (422, "Code has already been taken", "list", DuplicateError),
    (422, "Contact not found", "list", RemoteNotFound),
    (422, "Invoice not found for this company", "list", RemoteNotFound),
    (404, "Resource not found", "dict", RemoteNotFound),
    (400, "Invalid nominal code", "list", ValidationFailed),
    (422, "sales_tax_rate must be the AUTO rate or a rate less than or equal to 0", "list", ValidationFailed),
    (403, "Invoice is locked.", "list", ValidationFailed),  # a locked period: staff act, not a reconnect
    (403, "You are not allowed to access this action.", "list", ValidationFailed),
    (401, "Access token not recognised", "dict", AuthError),
    (500, "Internal server error", "list", RetryableError),
]


@pytest.mark.parametrize("status,message,shape,expected", ANSWERS)
@responses.activate
def test_answers_are_classified(status, message, shape, expected):
    answer(status, message, shape=shape)
    if status == 401:
        answer(status, message, shape=shape)  # the refresh-and-retry gets the same answer
    with pytest.raises(expected) as info:
        send()
    assert info.value.message.endswith(message) and (info.value.platform_code or status >= 500)
    assert info.value.http_status == status


@responses.activate
def test_rate_limit_carries_retry_after_or_waits_a_minute():
    answer(429, "You must not exceed 120 requests per 60 seconds", {"Retry-After": "17"})
    with pytest.raises(RateLimitedError) as info:
        send()
    assert info.value.retry_after == 17
    responses.reset()
    answer(429, "You must not exceed 120 requests per 60 seconds")
    with pytest.raises(RateLimitedError) as info:
        send()
    assert info.value.retry_after == 60  # FreeAgent's windows reset at the top of each minute


@responses.activate
def test_html_or_empty_error_bodies_still_classify():
    responses.post(f"{BASE}/invoices", status=503, body="<html>Service Unavailable</html>")
    with pytest.raises(RetryableError):
        send()
    responses.reset()
    responses.post(f"{BASE}/invoices", status=422, body="")
    with pytest.raises(ValidationFailed) as info:
        send()
    assert info.value.message == "HTTP 422"


def test_messages_of_both_body_shapes():
    assert messages({"errors": [{"message": "a"}, {"message": "b"}]}) == ["a", "b"]
    assert messages({"errors": {"error": {"message": "c"}}}) == ["c"]
    assert messages({"text": "<html>"}) == [] and messages(None) == []


def test_refused_references_name_categories_bank_accounts_and_tax():
    invalid = classify_message(400, "Invalid nominal code")
    [refused] = refused_references(invalid)
    assert RuleKind.INCOME_ACCOUNT in refused.kinds and refused.remote_id is None and not refused.definite
    [bank] = refused_references(classify_message(422, "Bank account not found"))
    assert RuleKind.DEPOSIT_ACCOUNT in bank.kinds and bank.definite
    assert refused_references(classify_message(422, "Reference has already been taken")) == []


def classify_message(status, message):
    import requests

    response = requests.Response()
    response.status_code = status
    response._content = (f'{{"errors": [{{"message": "{message}"}}]}}').encode()
    return classify(response)
