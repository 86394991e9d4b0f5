"""S/4HANA's OData V2 error answers to our error classes."""
import json

import requests

from connectors.errors import (AuthError, ConflictError, RateLimitedError, RemoteNotFound, RetryableError,
                               ValidationFailed)
from connectors.s4hana import errors


def answer(status: int, body=None, headers=None, text: str = "") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode() if body is not None else text.encode()
    response.headers.update(headers or {})
    return response


def v2(code: str, message: str, target: str = "") -> dict:
    return {"error": {"code": code, "message": {"lang": "en", "value": message},
                      "innererror": {"errordetails": [{"code": code, "message": message, "target": target,
                                                       "severity": "error"}]}}}


def test_a_business_refusal_names_the_code_and_the_field():
    error = errors.classify(answer(400, v2("FH/202", "G/L account 99999 does not exist", "to_Item(2)/GLAccount")))
    assert isinstance(error, ValidationFailed) and error.platform_code == "FH/202"
    assert error.message == "G/L account 99999 does not exist (to_Item(2)/GLAccount)" and error.hint


def test_csrf_required_is_its_own_retryable_code():
    error = errors.classify(answer(403, headers={"x-csrf-token": "Required"}, text="CSRF token validation failed"))
    assert isinstance(error, RetryableError) and errors.csrf_required(error)
    assert "CSRF token validation failed" in error.message


def test_a_plain_403_is_an_auth_error():
    error = errors.classify(answer(403, text="Forbidden"))
    assert isinstance(error, AuthError) and not errors.csrf_required(error)


def test_a_stale_etag_is_a_conflict_and_a_missing_one_is_our_bug():
    assert isinstance(errors.classify(answer(412, v2("/IWBEP/CM_MGW_RT/022", "Precondition failed"))),
                      ConflictError)
    missing = errors.classify(answer(428, v2("/IWBEP/CM_MGW_RT/034", "Precondition required")))
    assert isinstance(missing, ValidationFailed) and not isinstance(missing, ConflictError)


def test_not_found_rate_limit_and_unavailable():
    assert isinstance(errors.classify(answer(404, v2("/IWBEP/CM_MGW_RT/020", "Resource not found"))),
                      RemoteNotFound)
    limited = errors.classify(answer(429, v2("/IWFND/CM_BEC/026", "Too many requests"), {"Retry-After": "7"}))
    assert isinstance(limited, RateLimitedError) and limited.retry_after == 7
    assert isinstance(errors.classify(answer(503, v2("/IWFND/CM_BEC/076", "Unavailable"))), RetryableError)
