"""Kashoo's error answers become our error classes: the error code first, then the HTTP status."""
import json

import pytest
import requests

from connectors.errors import AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError, \
    ValidationFailed
from connectors.kashoo.errors import classify


def answer(status, code, message, headers=None):
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps({"errorCode": code, "message": message}).encode()
    response.headers.update(headers or {})
    return response


@pytest.mark.parametrize("status,code,message,kind", [
    (401, "TOKEN_EXPIRED", "Authentication token is expired", AuthError),
    (401, "INVALID_CREDENTIALS", "Invalid email or password", AuthError),
    (403, "ACCESS_DENIED", "No access to this business", AuthError),
    (429, "TOO_MANY_REQUESTS", "Too many requests", RateLimitedError),
    (500, "INTERNAL_ERROR", "An internal error occurred", RetryableError),
    (409, "DUPLICATE_NUMBER", "A record numbered INV-1 already exists", DuplicateError),
    (404, "NOT_FOUND", "No invoices record 20001", RemoteNotFound),
    (400, "VALIDATION_ERROR", "number is required", ValidationFailed),
])
def test_classified(status, code, message, kind):
    error = classify(answer(status, code, message))
    assert type(error) is kind and error.platform_code == code


def test_rate_limit_waits_for_retry_after_or_a_minute():
    assert classify(answer(429, "TOO_MANY_REQUESTS", "slow", {"Retry-After": "120"})).retry_after == 120
    assert classify(answer(429, "TOO_MANY_REQUESTS", "slow")).retry_after == 60


def test_a_wrong_path_is_not_a_gone_record():
    error = classify(answer(404, "NO_SUCH_RESOURCE", "No such resource"))
    assert isinstance(error, ValidationFailed) and not isinstance(error, RemoteNotFound)


@pytest.mark.parametrize("status,kind", [(502, RetryableError), (401, AuthError), (404, RemoteNotFound)])
def test_a_body_that_is_not_json_still_classifies_by_status(status, kind):
    response = requests.Response()
    response.status_code, response._content = status, b"<html>oops</html>"
    assert isinstance(classify(response), kind)
