"""QBO responses map to our error classes in one place."""
import pytest
import responses

from connectors.errors import (AuthError, ConflictError, RateLimitedError, RemoteNotFound, RetryableError,
                               ValidationFailed)
from connectors.qbo.client import QBOClient

URL = "https://qbo.test/v3/company/1/invoice"


def fault(code, detail="x"):
    return {"Fault": {"Error": [{"Message": "m", "Detail": detail, "code": code, "element": ""}],
                      "type": "ValidationFault"}, "time": "2026-01-01T00:00:00.000-08:00"}


@pytest.mark.parametrize("status,body,headers,cls,code", [
    (400, fault("6140"), {}, ValidationFailed, "6140"),
    (400, fault("5010"), {}, ConflictError, "5010"),
    (400, fault("610"), {}, RemoteNotFound, "610"),
    (429, {}, {"Retry-After": "120"}, RateLimitedError, "003001"),
    (503, {}, {}, RetryableError, ""),
    (401, {"fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                                "code": "3200"}], "type": "AUTHENTICATION"}}, {}, AuthError, "3200"),
])
@responses.activate
def test_classification(status, body, headers, cls, code):
    responses.add(responses.POST, URL, json=body, status=status, headers=headers)
    client = QBOClient("https://qbo.test/v3", "1", lambda force=False: "tok")
    with pytest.raises(cls) as info:
        client.create("Invoice", {"Line": []}, "req-1")
    assert info.value.platform_code == code
    if cls is RateLimitedError:
        assert info.value.retry_after == 120
    if cls is ValidationFailed:
        assert "another QuickBooks document" in info.value.hint.lower() or info.value.hint


@responses.activate
def test_401_refreshes_once_then_succeeds():
    responses.add(responses.POST, URL, status=401, json={})
    responses.add(responses.POST, URL, status=200, json={"Invoice": {"Id": "1", "SyncToken": "0"}})
    forced = []
    client = QBOClient("https://qbo.test/v3", "1", lambda force=False: forced.append(force) or "tok")
    assert client.create("Invoice", {}, "req-1")["Id"] == "1"
    assert forced == [False, True]
