"""The one place that turns MYOB Business API error answers into our error classes, with a plain-language hint.

MYOB answers an error with an HTTP status and ``{"Errors": [{"Name", "Message", "AdditionalDetails", "ErrorCode",
"Severity", "LearnMoreUri"}]}`` (its "API Error Messages & Warnings" page). The ``Name`` decides here and becomes
our ``platform_code``: ``RateLimitError`` (HTTP 403, per second or per day) is a rate limit, not an auth error;
409 (``IncorrectRowVersionSupplied``) is a concurrency conflict; ``NotFound`` (ErrorCode 150, a UID a body names)
and 404 are gone records; ``Required`` (100) and ``SerializationError`` (50) are validation. Names of business
rules MYOB does not publish (a duplicate number...) are the sandbox's guesses, listed in docs/connectors/myob.md;
a message saying a number "already exists" or "is already in use" is a duplicate whatever its name.
"""
from __future__ import annotations

import re

import requests

from ..base import Refused, RuleKind
from ..errors import ConflictError, DuplicateError, SyncError
from ..http import ErrorCodes, parse_json
from ..rest import refused_by_words

CODES = ErrorCodes(
    "MYOB",
    rate_limited=frozenset({"RateLimitError"}),  # 403: "API key has exceeded the per-second / daily rate limit"
    internal=frozenset({"InternalError", "GatewayTimeout", "ServiceUnavailable"}),
    auth=frozenset({"OAuthTokenIsInvalid", "DeveloperInactive", "AccessDenied", "InvalidCredentials"}),
    duplicate=frozenset({"DuplicateInvoiceNumber", "DuplicateItemNumber", "DuplicateDisplayID"}),
    not_found=frozenset({"NotFound", "ResourceNotFound"}),
    wait=1.0,  # the per-second limit: one second is enough unless MYOB says otherwise
    hints={
        "duplicate": "MYOB already has a sale or item with this number. If it is this document, it is linked "
                     "automatically; otherwise renumber the local one.",
        "not_found": "The record was deleted in MYOB, or a mapped account, tax code or item no longer exists in "
                     "the company file. Check the mappings for this connection, then send the document again.",
        "validation": "MYOB refused the document; read its message, then fix the document or the mappings.",
        "auth": "Reconnect the connection in the admin (Connections, Reconnect); check the API key and that the "
                "user still has access to the company file.",
    })
_IN_USE = re.compile(r"already (exists|in use|been used)", re.I)


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx MYOB response to an error class."""
    body = parse_json(response)
    name, message = name_and_message(body, response.status_code)
    if response.status_code == 409:
        return ConflictError(f"MYOB refused the update: {message}", platform_code=name or "409", http_status=409,
                             hint="The record changed in MYOB since it was last read; it is read again.", raw=body)
    if response.status_code == 400 and _IN_USE.search(message) and name not in CODES.duplicate:
        return DuplicateError(message, platform_code=name or "duplicate", http_status=400,
                              hint=CODES.hints["duplicate"], raw=body)
    return CODES.classify(response, name, message, body)


def name_and_message(body, status: int) -> tuple[str, str]:
    """The first error's ``Name`` and its message with the field it names (``AdditionalDetails``)."""
    errors = body.get("Errors") if isinstance(body, dict) else None
    if not errors or not isinstance(errors, list) or not isinstance(errors[0], dict):
        text = body.get("text", "") if isinstance(body, dict) else ""
        return "", (str(text)[:200] or f"HTTP {status}")
    first = errors[0]
    message = str(first.get("Message") or f"HTTP {status}")
    details = str(first.get("AdditionalDetails") or "")
    if details and details not in message:
        message = f"{message} ({details})"
    return str(first.get("Name") or ""), message


# -- references the platform refused (mapping drift) --------------------------------------------------------------
_REFERENCE_WORDS = ((re.compile(r"\baccount\b", re.I), frozenset({RuleKind.INCOME_ACCOUNT, RuleKind.DEPOSIT_ACCOUNT})),
                    (re.compile(r"\btax ?code\b", re.I), frozenset({RuleKind.TAX_CODE})))
_GONE = re.compile(r"inactive|not found|does not exist|deleted|invalid", re.I)


def refused_references(exc: SyncError) -> list[Refused]:
    """The account or tax-code references a refusal names: MYOB names the field (``Lines[0].Account``,
    ``TaxCode``) but not the UID, so ``remote_id`` stays None and the kinds are those the field could stand for."""
    return refused_by_words(exc, _REFERENCE_WORDS, _GONE)
