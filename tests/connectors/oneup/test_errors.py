"""OneUp error classification and HTTP Basic auth, one exchange at a time through the client (``responses``).

The 404 body ``{"error": {"code": "003", "message": "The resource was not found."}}`` is the one seen in the
official myERP client's fixtures; the other codes are our GUESSES (see connectors/oneup/errors.py)."""
import base64

import pytest
import responses

from connectors.errors import (AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError,
                               SyncError, ValidationFailed)
from connectors.oneup.client import API_BASE, OneUpClient, basic_token


def client(key=None):
    return OneUpClient(API_BASE, key or (lambda force: basic_token("books@example.com", "k2" if force else "k1")))


@responses.activate
def test_every_call_carries_the_api_email_and_key_as_http_basic():
    expected = "Basic " + base64.b64encode(b"books@example.com:k1").decode()
    responses.get(f"{API_BASE}/customers/7", json={"id": 7},
                  match=[responses.matchers.header_matcher({"Authorization": expected})])
    assert client().request("GET", "customers/7") == {"id": 7}


ANSWERS = [
    (400, {"error": {"code": "005", "message": "The number INV-7 already exists"}}, DuplicateError),
    (400, {"error": {"code": "duplicate", "message": "Invoice number INV-7 already exists"}}, DuplicateError),
    (400, {"error": {"code": "002", "message": "customer_id is not a customer"}}, ValidationFailed),
    (422, {"message": "customer_id is required"}, ValidationFailed),
    (404, {"error": {"code": "003", "message": "The resource was not found."}}, RemoteNotFound),
    (404, {"error": "Not found"}, RemoteNotFound),
    (401, {"error": {"code": "001", "message": "Invalid API email or API key."}}, AuthError),
    (429, {"error": {"code": "006", "message": "Too many requests"}}, RateLimitedError),
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
def test_a_wrong_path_is_not_a_gone_record_and_the_reason_is_kept():
    responses.get(f"{API_BASE}/estimates", status=404, json={"error": {"code": "004", "message": "No such URL"}})
    with pytest.raises(ValidationFailed) as info:
        client().request("GET", "estimates")
    assert not isinstance(info.value, RemoteNotFound)
    responses.post(f"{API_BASE}/items", status=400,
                   json={"error": {"code": "002", "message": "Invalid field", "reason": "name is empty"}})
    with pytest.raises(ValidationFailed) as info:
        client().request("POST", "items", body={})
    assert "name is empty" in info.value.message


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


@responses.activate
def test_lists_page_by_offset_until_the_next_page_header_says_no():
    pages = [([{"id": i} for i in range(100)], "true"), ([{"id": 100}], "false")]
    for rows, more in pages:
        responses.get(f"{API_BASE}/items", json=rows, headers={"X-OneUp-Has-Next-Page": more})
    assert [r["id"] for r in client().list("items")] == list(range(101))
    offsets = [c.request.url.split("offset=")[1].split("&")[0] for c in responses.calls]
    assert offsets == ["0", "100"]


@responses.activate
def test_without_the_header_a_short_page_ends_the_list():
    responses.get(f"{API_BASE}/items", json=[{"id": 1}])
    assert [r["id"] for r in client().list("items")] == [1] and len(responses.calls) == 1
