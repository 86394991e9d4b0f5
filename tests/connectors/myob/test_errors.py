"""MYOB error classification, one exchange at a time through the client (``responses``)."""
import pytest
import responses

from connectors.base import RuleKind
from connectors.errors import (AuthError, ConflictError, DuplicateError, RateLimitedError, RemoteNotFound,
                               RetryableError, ValidationFailed)
from connectors.myob.client import MyobClient
from connectors.myob.errors import refused_references

API = "https://api.myob.com/accountright"
FILE = "c4f3d2a1-7e5b-4b8c-9a10-3f2e1d0c9b8a"
BASE = f"{API}/{FILE}"


def client():
    return MyobClient(API, FILE, "my-api-key", lambda force: "fresh" if force else "tok")


def errors(name, message, details="", code=None):
    return {"Errors": [{"Name": name, "Message": message, "AdditionalDetails": details, "ErrorCode": code,
                        "Severity": "Error", "LearnMoreUri": None}], "Information": "Warning, ..."}


def send(status, body, headers=None):
    responses.post(f"{BASE}/Sale/Invoice/Service", status=status, json=body, headers=headers or {})
    return client().request("POST", "Sale/Invoice/Service", body={})


@responses.activate
def test_every_call_carries_the_key_the_version_and_the_bearer_token_on_the_company_file():
    responses.get(f"{BASE}/Contact/Customer/1", json={"UID": "1"}, match=[responses.matchers.header_matcher(
        {"Authorization": "Bearer tok", "x-myobapi-key": "my-api-key", "x-myobapi-version": "v2"})])
    assert client().read("Contact/Customer", "1") == {"UID": "1"}


@responses.activate
def test_create_reads_the_record_at_the_location_of_the_201():
    location = f"{BASE}/Contact/Customer/abc"
    responses.post(f"{BASE}/Contact/Customer", status=201, body=b"", headers={"Location": location})
    responses.get(location, json={"UID": "abc", "RowVersion": "1"})
    assert client().create("Contact/Customer", {"CompanyName": "A"}) == {"UID": "abc", "RowVersion": "1"}


@responses.activate
def test_a_201_without_location_is_retryable_not_a_silent_success():
    responses.post(f"{BASE}/Contact/Customer", status=201, body=b"")
    with pytest.raises(RetryableError):
        client().create("Contact/Customer", {})


@responses.activate
def test_list_pages_with_top_and_skip_while_next_page_link_is_set():
    responses.get(f"{BASE}/Sale/Invoice", json={"Items": [{"UID": "1"}, {"UID": "2"}], "NextPageLink": "x",
                                                "Count": 3},
                  match=[responses.matchers.query_param_matcher({"$top": "2", "$skip": "0"})])
    responses.get(f"{BASE}/Sale/Invoice", json={"Items": [{"UID": "3"}], "NextPageLink": None, "Count": 3},
                  match=[responses.matchers.query_param_matcher({"$top": "2", "$skip": "2"})])
    assert [r["UID"] for r in client().rows("Sale/Invoice", size=2)] == ["1", "2", "3"]


#: (HTTP status, body, headers) -> our error class, platform code
ANSWERS = [
    (403, errors("RateLimitError", "API key has exceeded the per-second rate limit", "Header: x-myobapi-key"),
     {"Retry-After": "3"}, RateLimitedError, "RateLimitError"),
    (403, errors("DeveloperInactive", "API key is missing or inactive"), {}, AuthError, "DeveloperInactive"),
    (409, errors("IncorrectRowVersionSupplied", "Incorrect RowVersion"), {}, ConflictError,
     "IncorrectRowVersionSupplied"),
    (400, errors("NotFound", "Resource not found", "Lines[0].Account", 150), {}, RemoteNotFound, "NotFound"),
    (404, errors("ResourceNotFound", "The requested resource was not found"), {}, RemoteNotFound, "ResourceNotFound"),
    (400, errors("Required", "Customer is required", "Customer", 100), {}, ValidationFailed, "Required"),
    (400, errors("SerializationError", "Error converting value 'abc' to type 'System.Guid'", "", 50), {},
     ValidationFailed, "SerializationError"),
    (400, errors("DuplicateInvoiceNumber", "The invoice number INV-7 is already in use", "Number"), {},
     DuplicateError, "DuplicateInvoiceNumber"),
    (400, errors("SomethingNew", "Number INV-7 already exists"), {}, DuplicateError, "SomethingNew"),
    (500, errors("InternalError", "An internal error has occurred"), {}, RetryableError, "InternalError"),
    (504, errors("GatewayTimeout", "Connection to the API has timed out"), {}, RetryableError, "GatewayTimeout"),
]


@pytest.mark.parametrize("status,body,headers,error,code", ANSWERS)
@responses.activate
def test_answers_are_classified_by_name_and_status(status, body, headers, error, code):
    with pytest.raises(error) as info:
        send(status, body, headers)
    assert type(info.value) is error and info.value.platform_code == code and info.value.http_status == status


@responses.activate
def test_rate_limit_waits_what_retry_after_says_else_a_second():
    with pytest.raises(RateLimitedError) as info:
        send(403, errors("RateLimitError", "API key has exceeded the daily rate limit"), {"Retry-After": "120"})
    assert info.value.retry_after == 120
    with pytest.raises(RateLimitedError) as info:
        send(403, errors("RateLimitError", "API key has exceeded the per-second rate limit"))
    assert info.value.retry_after == 1


@responses.activate
def test_an_html_503_is_retryable_and_the_message_names_the_field():
    responses.post(f"{BASE}/Sale/Invoice/Service", status=503, body=b"<html>503</html>")
    with pytest.raises(RetryableError):
        client().request("POST", "Sale/Invoice/Service", body={})
    with pytest.raises(ValidationFailed) as info:
        send(400, errors("Required", "TaxCode is required", "Lines[1].TaxCode", 100))
    assert "Lines[1].TaxCode" in info.value.message


@responses.activate
def test_a_refused_account_or_tax_code_names_the_kinds_of_rule():
    with pytest.raises(RemoteNotFound) as info:
        send(400, errors("NotFound", "Account was not found", "Lines[0].Account", 150))
    [refused] = refused_references(info.value)
    assert refused.kinds == {RuleKind.INCOME_ACCOUNT, RuleKind.DEPOSIT_ACCOUNT} and refused.definite
    with pytest.raises(ValidationFailed) as info:
        send(400, errors("AccountInactive", "The account 4-5000 is inactive", "Lines[0].Account"))
    assert [r.definite for r in refused_references(info.value)] == [False]
    with pytest.raises(DuplicateError) as info:
        send(400, errors("DuplicateInvoiceNumber", "The invoice number 7 is already in use"))
    assert refused_references(info.value) == []
