"""Acumatica's error answers into the one hierarchy: the ASP.NET error body, business rules answered 500, the
422 entity with per-field errors, the licence's limits."""
import json

import pytest
import requests

from connectors.acumatica import errors
from connectors.errors import (AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError,
                               ValidationFailed)


def answer(status, body=None, headers=None):
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode() if body is not None else b""
    response.headers.update(headers or {})
    return response


def failure(message, kind="PX.Data.PXException"):
    return {"message": "An error has occurred.", "exceptionMessage": message, "exceptionType": kind,
            "stackTrace": None}


@pytest.mark.parametrize("status, body, expected", [
    (401, failure("You are not logged in.", "System.UnauthorizedAccessException"), AuthError),
    (500, failure("Invalid credentials. Please try again."), AuthError),
    (500, failure("The document AR000012 is released and cannot be changed."), ValidationFailed),
    (500, failure("The document cannot be voided because it has applications."), ValidationFailed),
    (500, failure("Another document with this number already exists."), DuplicateError),
    (404, failure("No entity satisfies the condition."), RemoteNotFound),
    (500, {"message": "An error has occurred."}, RetryableError),
    (503, None, RetryableError),
])
def test_answers(status, body, expected):
    error = errors.classify(answer(status, body))
    assert type(error) is expected and error.message and error.http_status == status


def test_the_licence_login_limit_waits_like_a_rate_limit():
    error = errors.classify(answer(429, failure("API Login Limit")))
    assert isinstance(error, RateLimitedError) and error.platform_code == "API Login Limit"
    assert error.retry_after == 60 and "licence" in error.hint
    plain = errors.classify(answer(429, {"message": "Too many requests"}, {"Retry-After": "7"}))
    assert isinstance(plain, RateLimitedError) and plain.retry_after == 7


def test_a_422_names_each_refused_field_and_line():
    body = {"error": "Inserting 'Invoice' record raised at least one error. Please review the errors.",
            "CustomerID": {"value": "C1"},
            "Details": [{"Account": {"value": "40000"}},
                        {"Account": {"value": "99999", "error": "'Account' cannot be found in the system. 99999"}}]}
    error = errors.classify(answer(422, body))
    assert type(error) is ValidationFailed  # a refused reference, not a gone document
    assert error.message == "Details[2].Account: 'Account' cannot be found in the system. 99999"
    assert error.platform_code == "field error"


def test_a_refused_reference_names_the_mapping_rules_behind_it():
    from connectors.acumatica.connector import AcumaticaConnector
    from connectors.base import RuleKind

    account = errors.CODES.refusal("field error", "Details[1].Account: 'Account' cannot be found in the system. 9")
    cash = errors.CODES.refusal("field error", "CashAccount: 'Cash Account' cannot be found in the system. 9")
    tax = errors.CODES.refusal("field error", "Details[1].TaxCategory: 'Tax Category' cannot be found in the "
                                              "system. X")
    assert [r.kinds for r in AcumaticaConnector.refused_references(account)] == [
        RuleKind.SALES_ACCOUNTS | {RuleKind.EXPENSE_ACCOUNT, RuleKind.JOURNAL_ACCOUNT}]
    assert [r.kinds for r in AcumaticaConnector.refused_references(cash)] == [
        {RuleKind.DEPOSIT_ACCOUNT, RuleKind.REFUND_ACCOUNT, RuleKind.PAID_FROM_ACCOUNT}]
    assert [r.kinds for r in AcumaticaConnector.refused_references(tax)] == [{RuleKind.TAX_CODE}]


def test_only_a_401_is_a_lost_session():
    assert errors.session_expired(errors.classify(answer(401, failure("You are not logged in."))))
    assert not errors.session_expired(errors.classify(answer(500, failure("Invalid credentials."))))
