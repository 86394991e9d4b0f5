"""Sage error classification, one exchange at a time through the client (``responses``): Sage's list of
``{"$severity", "$dataCode", "$message", "$source"}``, by HTTP status and code; refused references by ``$source``."""
import pytest
import responses

from connectors.base import RuleKind
from connectors.errors import AuthError, RateLimitedError, RemoteNotFound, RetryableError, ValidationFailed
from connectors.sage.client import SageClient
from connectors.sage.errors import refused_references

BASE = "https://api.accounting.sage.com/v3.1"
BUSINESS = "4ad3b3ea3c8a4cbda1e4ec3e5bd4a6e3"


def client():
    return SageClient(BASE, BUSINESS, lambda force: "fresh" if force else "tok")


def answer(status, code="", message="", source="", headers=None):
    body = [{"$severity": "error", "$dataCode": code, "$message": message, "$source": source}]
    responses.post(f"{BASE}/sales_invoices", status=status, json=body, headers=headers or {})


def send():
    return client().create("sales_invoices", {"contact_id": "c"})


@responses.activate
def test_every_call_carries_bearer_token_and_business_and_wraps_the_body():
    responses.post(f"{BASE}/sales_invoices", status=201, json={"id": "1"}, match=[
        responses.matchers.header_matcher({"Authorization": "Bearer tok", "X-Business": BUSINESS}),
        responses.matchers.json_params_matcher({"sales_invoice": {"contact_id": "c"}})])
    assert send() == {"id": "1"}


@responses.activate
def test_validation_error_names_the_field_first():
    answer(422, "RecordInvalid", "is not a valid ledger account", "invoice_lines.0.ledger_account_id")
    with pytest.raises(ValidationFailed) as info:
        send()
    assert info.value.platform_code == "RecordInvalid" and info.value.http_status == 422
    assert info.value.message.startswith("invoice_lines.0.ledger_account_id: ")
    [refused] = refused_references(info.value)
    assert refused.kinds == RuleKind.SALES_ACCOUNTS and refused.remote_id is None and refused.definite


@pytest.mark.parametrize("source, kinds", [("bank_account_id", {RuleKind.DEPOSIT_ACCOUNT}),
                                           ("invoice_lines.1.tax_rate_id", {RuleKind.TAX_CODE})])
@responses.activate
def test_refused_bank_account_and_tax_rate(source, kinds):
    answer(422, "RecordInvalid", "is not a valid tax rate", source)
    with pytest.raises(ValidationFailed) as info:
        send()
    assert [r.kinds for r in refused_references(info.value)] == [frozenset(kinds)]


@responses.activate
def test_a_blank_field_or_another_refusal_names_no_reference():
    answer(422, "RecordInvalid", "can't be blank", "date")
    with pytest.raises(ValidationFailed) as info:
        send()
    assert refused_references(info.value) == []


@responses.activate
def test_not_found_is_remote_not_found():
    answer(404, "RecordNotFound", "Resource not found")
    with pytest.raises(RemoteNotFound):
        send()


@responses.activate
def test_rate_limit_with_and_without_retry_after():
    answer(429, "TooManyRequests", "Too many requests", headers={"Retry-After": "17"})
    with pytest.raises(RateLimitedError) as info:
        send()
    assert info.value.retry_after == 17
    responses.reset()
    answer(429, "TooManyRequests", "Too many requests")
    with pytest.raises(RateLimitedError) as info:
        send()
    assert info.value.retry_after == 60  # Sage counts per minute


@pytest.mark.parametrize("status, code", [(500, "InternalServerError"), (503, "ServiceUnavailable"), (502, "")])
@responses.activate
def test_server_errors_are_retryable(status, code):
    answer(status, code, "down")
    with pytest.raises(RetryableError) as info:
        send()
    assert not isinstance(info.value, RateLimitedError)


@responses.activate
def test_401_refreshes_once_then_is_an_auth_error():
    answer(401, "AuthorizationFailure", "No active subscription. (MSE)")
    with pytest.raises(AuthError) as info:
        send()
    assert len(responses.calls) == 2 and responses.calls[1].request.headers["Authorization"] == "Bearer fresh"
    assert info.value.platform_code == "AuthorizationFailure"


@responses.activate
def test_no_access_to_the_business_is_an_auth_error():
    answer(403, "AccessDenied", "You do not have access to business x")
    with pytest.raises(AuthError):
        send()


@responses.activate
def test_a_body_that_is_not_sages_shape_still_classifies_by_status():
    responses.post(f"{BASE}/sales_invoices", status=422, body="<html>nope</html>")
    with pytest.raises(ValidationFailed) as info:
        send()
    assert info.value.http_status == 422
