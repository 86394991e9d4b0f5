"""OneUp error classification and API-key auth, one exchange at a time through the client (``responses``).

The error bodies here are GUESSES (see connectors/oneup/errors.py); the status-driven classes are the kit's rules."""
import pytest
import responses

from connectors.errors import (AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError,
                               SyncError, ValidationFailed)
from connectors.oneup.client import API_BASE, OneUpClient


def client(key=None):
    return OneUpClient(API_BASE, "books@example.com", key or (lambda force: "key-2" if force else "key-1"))


@responses.activate
def test_every_call_carries_the_api_email_and_key():
    responses.get(f"{API_BASE}/customers/7", json={"id": 7}, match=[responses.matchers.header_matcher(
        {"Authorization": "Bearer key-1", "X-Api-Email": "books@example.com"})])
    assert client().request("GET", "customers/7") == {"id": 7}


ANSWERS = [
    (400, {"error": {"code": "duplicate", "message": "Invoice number INV-7 already exists"}}, DuplicateError),
    (422, {"message": "customer_id is required"}, ValidationFailed),
    (404, {"error": "Not found"}, RemoteNotFound),
    (401, {"message": "Invalid API key"}, AuthError),
    (429, {"message": "Too many requests"}, RateLimitedError),
    (503, {"message": "Service unavailable"}, RetryableError),
]


@pytest.mark.parametrize("status, body, error", ANSWERS)
@responses.activate
def test_answers_are_classified(status, body, error):
    forced = []
    responses.post(f"{API_BASE}/invoices", status=status, json=body)
    with pytest.raises(SyncError) as info:
        client(lambda force: forced.append(force) or "k").request("POST", "invoices", body={})
    assert type(info.value) is error and info.value.http_status == status
    assert forced == ([False, True] if status == 401 else [False])  # a refused key is tried once more
    if error is AuthError:
        assert "API key" in info.value.hint


@responses.activate
def test_rate_limit_honours_retry_after_or_waits_a_minute():
    responses.post(f"{API_BASE}/invoices", status=429, json={}, headers={"Retry-After": "30"})
    with pytest.raises(RateLimitedError) as info:
        client().request("POST", "invoices", body={})
    assert info.value.retry_after == 30
    responses.reset()
    responses.post(f"{API_BASE}/invoices", status=429, body=b"slow down")
    with pytest.raises(RateLimitedError) as info:
        client().request("POST", "invoices", body={})
    assert info.value.retry_after == 60
