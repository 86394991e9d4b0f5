"""Service Layer error classification, one exchange at a time through the client (``responses``)."""
import pytest
import responses

from connectors.errors import (AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError,
                               ValidationFailed)
from connectors.sapb1.client import ServiceLayerClient
from connectors.sapb1.errors import INVALID_SESSION, session_expired

BASE = "https://b1.example.com:50000/b1s/v2"
URL = f"{BASE}/Invoices"


def answer(status, code, message, shape="object", headers=None):
    text = {"lang": "en-us", "value": message} if shape == "object" else message
    responses.post(URL, status=status, headers=headers or {}, json={"error": {"code": code, "message": text}})


def send(tokens=None):
    return ServiceLayerClient(BASE, tokens or (lambda fresh: "s2" if fresh else "s1")).post("Invoices", {})


@responses.activate
def test_the_session_travels_as_the_b1session_cookie_and_never_as_authorization():
    responses.post(URL, status=201, json={"DocEntry": 7})
    assert send() == {"DocEntry": 7}
    sent = responses.calls[0].request.headers
    assert "Authorization" not in sent
    assert sent["Cookie"] == "B1SESSION=s1"
    assert sent["Prefer"].startswith("odata.maxpagesize=")


@pytest.mark.parametrize("shape", ["object", "text"])
@responses.activate
def test_invalid_session_is_a_session_expiry_in_both_message_shapes(shape):
    answer(401, 301, "Invalid session or session already timeout.", shape)
    answer(401, 301, "Invalid session or session already timeout.", shape)
    with pytest.raises(AuthError) as caught:
        send()
    assert caught.value.platform_code == INVALID_SESSION and session_expired(caught.value)
    assert [c.request.headers["Cookie"] for c in responses.calls] == ["B1SESSION=s1", "B1SESSION=s2"]


@responses.activate
def test_a_401_answered_after_a_new_session_succeeds():
    answer(401, 301, "Invalid session.")
    responses.post(URL, status=201, json={"DocEntry": 8})
    assert send() == {"DocEntry": 8}


@pytest.mark.parametrize("status,code,message,error", [
    (401, 100000027, "Login failed", AuthError),
    (400, -2035, "This entry already exists in the following tables (ODBC -2035)", DuplicateError),
    (404, -2028, "No matching records found (ODBC -2028)", RemoteNotFound),
    (400, -5002, "Invalid account code '999'", ValidationFailed),
    (500, -1, "Internal server error", RetryableError),
    (503, -1, "Service unavailable", RetryableError),
])
@responses.activate
def test_classification(status, code, message, error):
    answer(status, code, message)
    answer(status, code, message)
    with pytest.raises(error) as caught:
        send()
    assert type(caught.value) is error
    assert caught.value.message.endswith(message)
    assert not session_expired(caught.value)


@responses.activate
def test_429_honours_retry_after():
    answer(429, -1, "Too many requests", headers={"Retry-After": "12"})
    with pytest.raises(RateLimitedError) as caught:
        send()
    assert caught.value.retry_after == 12
