"""The one place that turns Wave's error answers into our error classes, with a plain-language hint.

Wave answers in two ways (API Reference, "Errors"): a GraphQL ``errors`` list, each with ``message`` and
``extensions.code`` (``UNAUTHENTICATED``, ``GRAPHQL_VALIDATION_FAILED``, ``INTERNAL_SERVER_ERROR``...), for a
request it could not run; and, for a mutation it ran but refused, HTTP 200 with ``didSucceed: false`` and
``inputErrors [{message, code, path}]``. The rate-limit code is a guess (Wave documents throttling without a
code); HTTP 429 decides whatever the code.
"""
from __future__ import annotations

import re

import requests

from ..base import Refused, RuleKind
from ..errors import SyncError, ValidationFailed
from ..http import ErrorCodes, parse_json
from ..rest import refused_by_words

CODES = ErrorCodes(
    "Wave",
    internal=frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"}),
    duplicate=frozenset({"DUPLICATE"}),
    auth=frozenset({"UNAUTHENTICATED", "FORBIDDEN"}),
    bad_url=frozenset({"BAD_REQUEST", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}),
    rate_limited=frozenset({"RATE_LIMITED"}),
    wait=60.0,
    hints={
        "duplicate": "Wave already has an invoice with this number. If it is this document, it is linked "
                     "automatically; otherwise renumber the local one.",
        "not_found": "The record was deleted in Wave, or a mapped account, sales tax or product no longer exists "
                     "there. Check the mappings for this connection, then send the document again.",
        "validation": "Wave refused the document; read its message, then fix the document or the mappings.",
        "auth": "Reconnect the connection in the admin (Connections, Reconnect).",
    })


def first_error(body) -> tuple[str, str]:
    """(code, message) of the first GraphQL error in ``body``, or ("", "")."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return "", ""
    error = errors[0] if isinstance(errors[0], dict) else {}
    return str((error.get("extensions") or {}).get("code") or ""), str(error.get("message") or "")


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx Wave response to an error class."""
    body = parse_json(response)
    code, message = first_error(body)
    return CODES.classify(response, code, message or f"HTTP {response.status_code}", body)


def graphql_errors(response: requests.Response, body: dict) -> SyncError:
    """A 200 answer whose ``errors`` say the operation did not run: our query is wrong (a permanent error) unless
    the code says auth, throttling or Wave's own failure."""
    code, message = first_error(body)
    return CODES.classify(response, code, message, body)


def input_errors(operation: str, errors: list, body: dict) -> SyncError:
    """``didSucceed: false``: a duplicate (code ``DUPLICATE``) or a validation failure naming the input path."""
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    code = str(first.get("code") or "INVALID")
    path = ".".join(str(p) for p in first.get("path") or ())
    message = f"{operation}: {first.get('message') or 'refused'}" + (f" ({path})" if path else "")
    if code == "DUPLICATE":
        return CODES.refusal(code, message, 200, body)
    if code == "NOT_FOUND":  # a reference in our input: the document is wrong, the record itself is not gone
        code = "INVALID_REFERENCE"
    return ValidationFailed(message, platform_code=code, http_status=200, hint=CODES.hints["validation"], raw=body)


_REFERENCE_WORDS = ((re.compile(r"\baccount\b", re.I), frozenset({RuleKind.INCOME_ACCOUNT, RuleKind.DEPOSIT_ACCOUNT})),
                    (re.compile(r"\btax\b", re.I), frozenset({RuleKind.TAX_CODE})))
_GONE = re.compile(r"not found|archived|invalid", re.I)


def refused_references(exc: SyncError) -> list[Refused]:
    return refused_by_words(exc, _REFERENCE_WORDS, _GONE)
