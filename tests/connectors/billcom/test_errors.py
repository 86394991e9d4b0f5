"""Bill.com's error arrays become our error classes: documented codes first, then the HTTP status and message."""
import json

import pytest
import requests

from connectors.billcom.errors import classify
from connectors.errors import AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError, \
    ValidationFailed


def answer(status, code, message, headers=None):
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps([{"timestamp": "2026-12-03T10:00:00.000+00:00", "code": code,
                                     "severity": "ERROR", "category": "REQUEST", "message": message}]).encode()
    response.headers.update(headers or {})
    return response


@pytest.mark.parametrize("status,code,message,kind", [
    (401, "BDC_1109", "Session is invalid.  Please log in.", AuthError),
    (400, "BDC_1101", "User name and/or password do not match our records.", AuthError),
    (401, "BDC_1102", "Developer key is invalid.", AuthError),
    (400, "BDC_1144", "Max number of API requests per developer key per hour reached.", RateLimitedError),
    (400, "BDC_1322", "Max number of concurrent requests per organization reached.", RateLimitedError),
    (400, "BDC_1001", "System error occurred.", RetryableError),
    (503, "", "", RetryableError),
    (400, "BDC_9999", "The invoice number already exists.", DuplicateError),
    (404, "BDC_1124", "Object not found", RemoteNotFound),
    (400, "BDC_1000", "invoiceDate is required.", ValidationFailed),
])
def test_classified(status, code, message, kind):
    error = classify(answer(status, code, message))
    assert type(error) is kind
    if code:
        assert error.platform_code == code


def test_rate_limits_wait_for_retry_after_or_a_second_for_concurrency():
    assert classify(answer(429, "BDC_1144", "limit", {"Retry-After": "120"})).retry_after == 120
    assert classify(answer(429, "BDC_1144", "limit")).retry_after == 60
    assert classify(answer(429, "BDC_1322", "busy")).retry_after == 1


def test_a_wrong_path_is_not_a_gone_record():
    error = classify(answer(404, "BDC_1121", "API not supported."))
    assert isinstance(error, ValidationFailed) and not isinstance(error, RemoteNotFound)


def test_a_body_that_is_not_an_array_still_classifies_by_status():
    response = requests.Response()
    response.status_code, response._content = 502, b"<html>bad gateway</html>"
    assert isinstance(classify(response), RetryableError)
