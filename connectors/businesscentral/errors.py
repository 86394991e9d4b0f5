"""The one place that turns Business Central error answers into our error classes, with a plain-language hint.

Business Central answers an error with an HTTP status and an OData error body ``{"error": {"code": "...",
"message": "...  CorrelationId:  ..."}}``. The codes below are the ones its "Error codes" page and its API pages
name (``BadRequest_NotFound``, ``Request_EntityChanged``, ``Internal_EntityWithSameKeyExists``,
``Application_DialogException``, ``Authentication_InvalidCredentials``...); docs/connectors/businesscentral.md marks
the ones we guessed. A stale ``If-Match`` (``Request_EntityChanged``, HTTP 409; or 412, as OData prescribes) is a
conflict; a 404 whose message says the URL itself matched nothing, and a refusal of the request's shape, are our
bug (validation), not a gone record.
"""
from __future__ import annotations

import re

import requests

from ..base import Refused, RuleKind
from ..errors import ConflictError, SyncError, ValidationFailed
from ..http import ErrorCodes, parse_json
from ..rest import refused_by_words

#: Our own code for a 404 that means "no such URL" (Business Central answers it with BadRequest_NotFound too).
BAD_URL = "BadRequest_NoSuchPath"
_NO_SUCH_PATH = re.compile(r"No HTTP resource was found|Resource not found for the segment|action .* does not exist",
                           re.I)
_CORRELATION = re.compile(r"\s+CorrelationId:.*$", re.S)

#: Refusals of the request's shape ("The property 'x' does not exist on type ..."): validation, whatever the words.
REQUEST_ERRORS = frozenset({"BadRequest_PropertyNotFound", "BadRequest_InvalidRequestBody", "BadRequest_InvalidKey",
                            "BadRequest_InvalidToken", "BadRequest_MethodNotAllowed"})

CODES = ErrorCodes(
    "Business Central",
    rate_limited=frozenset({"Application_TooManyRequests", "TooManyRequests"}),
    internal=frozenset({"InternalServerError", "ServiceUnavailable", "Internal_ServerError",
                        "Application_ServiceUnavailable"}),
    auth=frozenset({"Authentication_InvalidCredentials", "Unauthorized", "Authorization_NotAllowed"}),
    duplicate=frozenset({"Internal_EntityWithSameKeyExists"}),
    not_found=frozenset({"BadRequest_NotFound", "Internal_RecordNotFound"}),
    bad_url=frozenset({BAD_URL}),
    wait=30.0,  # when a 429 or 503 comes without Retry-After (Business Central's limits page: back off and retry)
    hints={
        "duplicate": "Business Central already has a record with this key. If it is this document, it is linked "
                     "automatically; otherwise renumber the local one.",
        "not_found": "The record was deleted in Business Central, or a mapped account, tax group or item no "
                     "longer exists there. Check the mappings for this connection, then send the document again.",
        "validation": "Business Central refused the document; read its message, then fix the document or the "
                      "mappings.",
        "auth": "Reconnect the connection in the admin (Connections, Reconnect); check that the Entra app is "
                "registered in Business Central with API permissions.",
    })


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx Business Central response to an error class."""
    body = parse_json(response)
    code, message = code_and_message(body, response.status_code)
    if code == "Request_EntityChanged" or response.status_code == 412:
        return ConflictError(f"the record changed in Business Central since it was last read: {message}",
                             platform_code=code or "412", http_status=response.status_code, raw=body)
    if response.status_code in (400, 404) and code == "BadRequest_NotFound" and _NO_SUCH_PATH.search(message):
        code = BAD_URL
    if response.status_code == 400 and code in REQUEST_ERRORS:  # our request's shape: never a gone record
        return ValidationFailed(message, platform_code=code, http_status=400, hint=CODES.hints["validation"],
                                raw=body)
    return CODES.classify(response, code, message, body)


def code_and_message(body, status: int) -> tuple[str, str]:
    """The error's code and its message without the correlation id (kept in the raw body)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        text = body.get("text") if isinstance(body, dict) else ""
        return "", str(text or f"HTTP {status}")
    message = _CORRELATION.sub("", str(error.get("message") or f"HTTP {status}")).strip()
    return str(error.get("code") or ""), message


# -- references the platform refused (mapping drift) --------------------------------------------------------------
_REFERENCE_WORDS = ((re.compile(r"G/L Account", re.I), frozenset({RuleKind.INCOME_ACCOUNT, RuleKind.DEPOSIT_ACCOUNT,
                                                                   RuleKind.DISCOUNT_ACCOUNT, RuleKind.EXPENSE_ACCOUNT,
                                                                   RuleKind.PAID_FROM_ACCOUNT,
                                                                   RuleKind.JOURNAL_ACCOUNT})),
                    (re.compile(r"Tax Group", re.I), frozenset({RuleKind.TAX_CODE})))
_GONE = re.compile(r"cannot be found in the related table|Blocked must be equal to 'No'|does not exist", re.I)


def refused_references(exc: SyncError) -> list[Refused]:
    """The account or tax group references a refusal names. Business Central names the table ("G/L Account",
    "Tax Group") and the number or code, not our id, so ``remote_id`` stays None."""
    return refused_by_words(exc, _REFERENCE_WORDS, _GONE)
