"""Wave error classification, one exchange at a time through the client (``responses``): GraphQL ``errors`` by
``extensions.code`` and HTTP status, and ``didSucceed: false`` input errors at HTTP 200."""
import pytest
import responses
from graphql import GraphQLError

from connectors.base import RuleKind
from connectors.errors import (AuthError, DuplicateError, PermanentError, RateLimitedError, RetryableError,
                               ValidationFailed)
from connectors.documents import Entity
from connectors.wave.client import WaveClient
from connectors.wave.translate import CREATE, mutation
from connectors.wave.errors import refused_references

URL = "https://gql.waveapps.com/graphql/public"


def client():
    return WaveClient(URL, lambda force: "fresh" if force else "tok")


def gql_error(status, code, message="boom", headers=None):
    responses.post(URL, status=status, json={"errors": [{"message": message, "extensions": {"code": code}}]},
                   headers=headers or {})


@responses.activate
def test_every_call_is_one_post_with_the_bearer_token_and_a_json_query():
    responses.post(URL, json={"data": {"user": {"id": "U"}}}, match=[
        responses.matchers.header_matcher({"Authorization": "Bearer tok"}),
        responses.matchers.json_params_matcher({"query": "{ user { id } }", "variables": {}})])
    assert client().graphql("{ user { id } }") == {"user": {"id": "U"}}


@pytest.mark.parametrize("status, code, expected", [
    (429, "RATE_LIMITED", RateLimitedError), (500, "INTERNAL_SERVER_ERROR", RetryableError),
    (503, "", RetryableError), (400, "GRAPHQL_VALIDATION_FAILED", ValidationFailed),
])
@responses.activate
def test_graphql_errors_by_status_and_code(status, code, expected):
    gql_error(status, code, headers={"Retry-After": "30"} if status == 429 else None)
    with pytest.raises(expected) as info:
        client().graphql("{ user { id } }")
    if expected is RateLimitedError:
        assert info.value.retry_after == 30
    if expected is ValidationFailed:
        assert isinstance(info.value, PermanentError) and not isinstance(info.value, RetryableError)


@responses.activate
def test_401_refreshes_once_then_is_an_auth_error():
    gql_error(401, "UNAUTHENTICATED")
    gql_error(401, "UNAUTHENTICATED")
    with pytest.raises(AuthError):
        client().graphql("{ user { id } }")
    assert [c.request.headers["Authorization"] for c in responses.calls] == ["Bearer tok", "Bearer fresh"]


@responses.activate
def test_errors_in_a_200_answer_are_raised_not_returned():
    gql_error(200, "UNAUTHENTICATED", "token expired")
    with pytest.raises(AuthError):
        client().graphql("{ user { id } }")


@responses.activate
def test_did_succeed_false_with_duplicate_code_is_a_duplicate():
    responses.post(URL, json={"data": {"invoiceCreate": {"didSucceed": False, "invoice": None, "inputErrors": [
        {"message": "Invoice number is already in use.", "code": "DUPLICATE", "path": ["input", "invoiceNumber"]}]}}})
    with pytest.raises(DuplicateError) as info:
        client().mutate("invoiceCreate", mutation(*CREATE[Entity.INVOICE]), {"input": {}})
    assert info.value.platform_code == "DUPLICATE" and "input.invoiceNumber" in info.value.message


@responses.activate
def test_unknown_reference_in_input_is_a_validation_error_naming_the_account():
    responses.post(URL, json={"data": {"productCreate": {"didSucceed": False, "inputErrors": [
        {"message": "Account not found.", "code": "NOT_FOUND", "path": ["input", "incomeAccountId"]}]}}})
    with pytest.raises(ValidationFailed) as info:
        client().mutate("productCreate", mutation(*CREATE[Entity.ITEM]), {"input": {}})
    assert info.value.platform_code == "INVALID_REFERENCE"
    [refused] = refused_references(info.value)
    assert RuleKind.INCOME_ACCOUNT in refused.kinds


@responses.activate
def test_a_document_wave_does_not_have_fails_here_before_anything_is_sent():
    """gql validates every document against the vendored SDL: a field Wave lacks is named, nothing goes out."""
    with pytest.raises(GraphQLError, match="noSuchField"):
        client().graphql("{ user { id noSuchField } }")
    assert len(responses.calls) == 0
