"""Reckon One error classification, one exchange at a time through the client (``responses``): the API
Management gateway's answers and Reckon's own ``ErrorResponse`` bodies."""
import pytest
import responses

from connectors.base import RuleKind
from connectors.errors import (AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError,
                               ValidationFailed)
from connectors.reckon.client import ReckonClient
from connectors.reckon.errors import refused_references

BASE = "https://api-v2.reckonone.com"
BOOK = "5af6572c-9771-4b86-995d-3374d3bc683c"
ACCOUNT = "9e59aeeb-d5b4-4e4d-bed7-22bf68cd5f32"


def client(tokens=None):
    return ReckonClient(BASE, BOOK, "key-123", tokens or (lambda force: "fresh" if force else "tok"))


def refused(status, body, headers=None):
    responses.post(f"{BASE}/{BOOK}/invoices", status=status, json=body, headers=headers or {})
    with pytest.raises(Exception) as info:
        client().create("invoice", {})
    return info.value


def reckon(status, message, *errors):
    return {"code": status, "message": message,
            **({"errors": [{"location": loc, "message": msg} for loc, msg in errors]} if errors else {})}


@responses.activate
def test_every_call_carries_the_bearer_token_the_subscription_key_and_the_book():
    responses.get(f"{BASE}/{BOOK}/invoices/1", json={"id": "1"}, match=[
        responses.matchers.header_matcher({"Authorization": "Bearer tok", "Ocp-Apim-Subscription-Key": "key-123"})])
    assert client().read("invoice", "1") == {"id": "1"}


@responses.activate
def test_patch_is_sent_as_a_merge_patch():
    responses.patch(f"{BASE}/{BOOK}/customers/1", status=204, match=[
        responses.matchers.header_matcher({"Content-Type": "application/merge-patch+json"}),
        responses.matchers.json_params_matcher({"status": "Inactive"})])
    client().patch("customer", "1", {"status": "Inactive"})


@responses.activate
def test_pages_until_a_short_page():
    rows = [{"id": str(n)} for n in range(100)]
    responses.get(f"{BASE}/{BOOK}/invoices", json={"list": rows}, match=[
        responses.matchers.query_param_matcher({"page": "1", "perPage": "100", "filter": "reference eq 'X'"})])
    responses.get(f"{BASE}/{BOOK}/invoices", json={"list": [{"id": "last"}]}, match=[
        responses.matchers.query_param_matcher({"page": "2", "perPage": "100", "filter": "reference eq 'X'"})])
    assert [r["id"] for r in client().list("invoice", filter="reference eq 'X'")][-2:] == ["99", "last"]


ANSWERS = [
    (400, reckon(400, "The request contains invalid data.", ("name", "A customer with the name 'Ada' already "
                                                                     "exists.")), DuplicateError, "name"),
    (400, reckon(400, "The request contains invalid data.",
                 ("lineItems[0].accountDetails.ledgerAccount", f"The ledger account '{ACCOUNT}' does not exist.")),
     ValidationFailed, "lineItems[0].accountDetails.ledgerAccount"),  # a body reference is not a gone record
    (404, reckon(404, "The specified book or invoice does not exist."), RemoteNotFound, "404"),
    (404, {"statusCode": 404, "message": "Resource not found"}, ValidationFailed, "no_such_operation"),
    (401, reckon(401, "The authentication token is missing, expired or invalid."), AuthError, "401"),
    (403, reckon(403, "The user does not have permission to create invoices."), AuthError, "403"),
    (401, {"statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a "
                                         "valid key for an active subscription."}, AuthError, "subscription_key"),
    (415, reckon(415, "The request must use Content-Type `application/merge-patch+json`."), ValidationFailed, "415"),
    (500, reckon(500, "An unexpected error has occurred."), RetryableError, "500"),
    (503, {"statusCode": 503, "message": "Service Unavailable"}, RetryableError, "503"),
]


@responses.activate
@pytest.mark.parametrize("status, body, cls, code", ANSWERS)
def test_answers_are_classified(status, body, cls, code):
    error = refused(status, body)
    assert type(error) is cls and error.platform_code == code and error.http_status == status
    assert body["message"] in error.message
    if cls is DuplicateError:
        assert "already exists" in error.message and "linked automatically" in error.hint
    if code == "subscription_key":
        assert "subscription_key setting" in error.hint


@responses.activate
def test_gateway_rate_limit_waits_as_told():
    error = refused(429, {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 12 seconds."},
                    {"Retry-After": "12"})
    assert isinstance(error, RateLimitedError) and error.retry_after == 12
    responses.reset()
    error = refused(429, {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 9 seconds."})
    assert error.retry_after == 9  # no header: the message's own figure


@responses.activate
def test_a_401_refreshes_the_token_once():
    seen = []

    def tokens(force):
        seen.append(force)
        return "fresh" if force else "stale"
    responses.get(f"{BASE}/{BOOK}/items/1", status=401, json=reckon(401, "expired"),
                  match=[responses.matchers.header_matcher({"Authorization": "Bearer stale"})])
    responses.get(f"{BASE}/{BOOK}/items/1", json={"id": "1"},
                  match=[responses.matchers.header_matcher({"Authorization": "Bearer fresh"})])
    assert client(tokens).read("item", "1") == {"id": "1"} and seen == [False, True]


def test_refused_references_name_the_field_kind_and_id():
    line_account = ValidationFailed("refused", raw=reckon(400, "The request contains invalid data.", (
        "lineItems[2].accountDetails.ledgerAccount", f"The ledger account '{ACCOUNT}' is inactive.")))
    [ref] = refused_references(line_account)
    assert ref.kinds == RuleKind.SALES_ACCOUNTS and ref.remote_id == ACCOUNT and ref.definite
    deposit = ValidationFailed("refused", raw=reckon(400, "x", ("ledgerAccount", "The ledger account 'Bank' does "
                                                                                 "not exist.")))
    assert refused_references(deposit)[0].kinds == {RuleKind.DEPOSIT_ACCOUNT}
    tax = ValidationFailed("refused", raw=reckon(400, "x", ("lineItems[0].taxRate", "The tax rate 'GST' does not "
                                                                                    "exist.")))
    assert refused_references(tax)[0].kinds == {RuleKind.TAX_CODE} and refused_references(tax)[0].remote_id is None
    unusable = ValidationFailed("refused", raw=reckon(400, "x", ("lineItems[0].taxRate", "Not a sales rate.")))
    assert refused_references(unusable) == []
    assert refused_references(DuplicateError("dup", raw=reckon(400, "x", ("name", "deleted")))) == []
