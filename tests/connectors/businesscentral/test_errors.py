"""Business Central error classification, one exchange at a time through the client (``responses``)."""
import pytest
import responses

from connectors.base import RuleKind
from connectors.businesscentral.client import BusinessCentralClient, quote
from connectors.businesscentral.errors import refused_references
from connectors.errors import (AuthError, ConflictError, DuplicateError, RateLimitedError, RemoteNotFound,
                               RetryableError, SyncError, ValidationFailed)

BASE = "https://api.businesscentral.dynamics.com/v2.0/tenant-1/production/api/v2.0"
COMPANY = "5f3c1e7a-2b4d-4e8f-a1c3-9d7b6e5f4a21"
URL = f"{BASE}/companies({COMPANY})/salesInvoices"


def client(tokens=None):
    return BusinessCentralClient(BASE, COMPANY, tokens or (lambda force: "fresh" if force else "tok"))


def answer(status, code, message, headers=None):
    responses.post(URL, status=status, headers=headers or {},
                   json={"error": {"code": code, "message": f"{message}  CorrelationId:  1234-ab."}})


def send():
    return client().post("salesInvoices", {})


@responses.activate
def test_every_call_names_the_company_in_the_path_and_sends_the_bearer_token():
    responses.get(f"{URL}(abc)", json={"id": "abc"}, match=[
        responses.matchers.header_matcher({"Authorization": "Bearer tok", "Prefer": "odata.maxpagesize=1000"})])
    assert client().get("salesInvoices(abc)") == {"id": "abc"}


@responses.activate
def test_rows_follow_the_next_link_until_the_last_page():
    responses.get(URL, json={"value": [{"id": "1"}], "@odata.nextLink": f"{URL}?$skip=1"},
                  match=[responses.matchers.query_param_matcher({})])
    responses.get(URL, json={"value": [{"id": "2"}]}, match=[responses.matchers.query_param_matcher({"$skip": "1"})])
    assert [r["id"] for r in client().rows("salesInvoices")] == ["1", "2"]


@responses.activate
def test_a_change_carries_if_match():
    responses.patch(f"{URL}(abc)", json={"id": "abc"},
                    match=[responses.matchers.header_matcher({"If-Match": 'W/"JzE7Jw=="'})])
    assert client().patch("salesInvoices(abc)", {"externalDocumentNumber": "X"}, 'W/"JzE7Jw=="')["id"] == "abc"


def test_odata_string_literals_double_their_quotes():
    assert quote("O'Brien") == "'O''Brien'"


#: (HTTP status, Business Central code, message) -> our error class.
ANSWERS = [
    (409, "Request_EntityChanged", "Another user has already changed the record.", ConflictError),
    (412, "", "Precondition failed.", ConflictError),  # what OData prescribes, should a proxy or version say so
    (409, "Internal_EntityWithSameKeyExists", "The record already exists.", DuplicateError),
    (400, "BadRequest_InvalidToken", "Could not validate the client concurrency token required by the service.",
     ValidationFailed),
    (400, "Internal_InvalidTableRelation", "The field No. of table Sales Line contains a value (99) that cannot be "
     "found in the related table (G/L Account).", ValidationFailed),
    (400, "Application_FieldValidationException", "Blocked must be equal to 'No' in G/L Account: No.=40100.",
     ValidationFailed),
    (404, "BadRequest_NotFound", "The specified resource does not exist.", RemoteNotFound),
    (404, "BadRequest_NotFound", "No HTTP resource was found that matches the request URI.", ValidationFailed),
    (400, "Application_DialogException", "Blocked must be equal to 'No' in G/L Account: No.=40100.",
     ValidationFailed),
    (400, "BadRequest_PropertyNotFound", "The property 'x' does not exist on type 'Microsoft.NAV.customer'.",
     ValidationFailed),
    (401, "Authentication_InvalidCredentials", "The server has rejected the client credentials.", AuthError),
    (403, "Authorization_NotAllowed", "You do not have permission.", AuthError),
    (500, "InternalServerError", "Something went wrong.", RetryableError),
]


@pytest.mark.parametrize("status,code,message,expected", ANSWERS)
@responses.activate
def test_answers_are_classified_with_code_and_message(status, code, message, expected):
    answer(status, code, message)
    with pytest.raises(SyncError) as info:
        send()
    assert type(info.value) is expected
    assert info.value.message.endswith(message) and "CorrelationId" not in info.value.message
    if expected is not ConflictError:
        assert info.value.platform_code in (code, "BadRequest_NoSuchPath")


@responses.activate
def test_429_and_503_wait_as_long_as_retry_after_says():
    answer(429, "Application_TooManyRequests", "Too many requests reached.", {"Retry-After": "120"})
    with pytest.raises(RateLimitedError) as info:
        send()
    assert info.value.retry_after == 120
    responses.replace(responses.POST, URL, status=503, json={"error": {"code": "ServiceUnavailable",
                                                                        "message": "Busy"}})
    with pytest.raises(RetryableError) as unavailable:
        send()
    assert not isinstance(unavailable.value, RateLimitedError)


@responses.activate
def test_a_body_that_is_not_json_is_still_classified():
    responses.post(URL, status=502, body="<html>Bad gateway</html>")
    with pytest.raises(RetryableError):
        send()


@responses.activate
def test_a_401_gets_one_fresh_token_then_is_an_auth_error():
    seen = []
    responses.post(URL, status=401, json={"error": {"code": "Authentication_InvalidCredentials", "message": "no"}})
    with pytest.raises(AuthError):
        client(lambda force: seen.append(force) or "t").post("salesInvoices", {})
    assert seen == [False, True]


def test_refused_references_name_the_table_not_the_id():
    account = ValidationFailed("Blocked must be equal to 'No' in G/L Account: No.=40600. Current value is 'Yes'.",
                               platform_code="Application_DialogException")
    [refused] = refused_references(account)
    assert RuleKind.INCOME_ACCOUNT in refused.kinds and refused.remote_id is None and not refused.definite
    # an expense line, its paid-from account or a journal line names a G/L account too
    assert {RuleKind.EXPENSE_ACCOUNT, RuleKind.PAID_FROM_ACCOUNT, RuleKind.JOURNAL_ACCOUNT} <= refused.kinds
    tax = ValidationFailed("The field Tax Group Code of table Sales Line contains a value (GST10) that cannot be "
                           "found in the related table (Tax Group).", platform_code="Application_DialogException")
    assert [r.kinds for r in refused_references(tax)] == [frozenset({RuleKind.TAX_CODE})]
    assert refused_references(ValidationFailed("Posting Date is not within your range of allowed posting dates.",
                                               platform_code="Application_DialogException")) == []
