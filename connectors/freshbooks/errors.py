"""The one place that turns FreshBooks error answers into our error classes, with a plain-language hint.

The accounting endpoints answer an error as ``{"response": {"errors": [{"errno": 1012, "field": "userid",
"message": "Client not found.", "object": "client", "value": "134"}]}}`` (the shape FreshBooks' own SDKs parse;
errno 1012 with HTTP 404 is their documented example). The OAuth layer answers a missing or expired token with
HTTP 401 and ``{"error": "unauthenticated", "error_description": "..."}``. Other errno values below are guesses,
marked as such in docs/connectors/freshbooks.md: where a code is unknown, the HTTP status and the message decide
(a message saying a number "already exists" is a duplicate whatever its code).
"""
from __future__ import annotations

import re

import requests

from ..base import Refused, RuleKind
from ..errors import SyncError
from ..http import ErrorCodes, parse_json
from ..rest import refused_by_words

CODES = ErrorCodes(
    "FreshBooks",
    not_found=frozenset({"1012"}),  # "Client not found." (FreshBooks SDK documentation)
    auth=frozenset({"1003", "unauthenticated", "unauthorized"}),  # 1003 guessed: another account's path
    wait=60.0,  # FreshBooks publishes no limits and no Retry-After that we know of
    hints={
        "duplicate": "FreshBooks already has a document with this number. If it is this document, it is linked "
                     "automatically; otherwise renumber the local one.",
        "not_found": "The record was deleted in FreshBooks, or a mapped tax or client no longer exists there. "
                     "Check the mappings for this connection, then send the document again.",
        "validation": "FreshBooks refused the document; read its message, then fix the document or the mappings.",
        "auth": "Reconnect the connection in the admin (Connections, Reconnect). FreshBooks keeps one refresh "
                "token per user and app: connecting the same user elsewhere ends this connection's grant.",
    })


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx FreshBooks response to an error class."""
    body = parse_json(response)
    code, message = code_and_message(body, response.status_code)
    return CODES.classify(response, code, message, body)


def code_and_message(body, status: int) -> tuple[str, str]:
    """The first error's ``errno`` and ``message`` (accounting shape), or the OAuth ``error`` and description."""
    if not isinstance(body, dict):
        return "", f"HTTP {status}"
    errors = (body.get("response") or {}).get("errors") if isinstance(body.get("response"), dict) else None
    if isinstance(errors, dict):
        errors = [errors]
    if errors:
        first = errors[0]
        code = first.get("errno")
        return ("" if code is None else str(code)), str(first.get("message") or f"HTTP {status}")
    if body.get("error"):
        return str(body["error"]), str(body.get("error_description") or body["error"])
    if body.get("errno") is not None:  # the events (callbacks) endpoints' flat shape
        return str(body["errno"]), str(body.get("message") or f"HTTP {status}")
    return "", str(body.get("message") or body.get("text") or f"HTTP {status}")


_REFERENCE_WORDS = ((re.compile(r"\baccount\b", re.I), frozenset({RuleKind.INCOME_ACCOUNT})),
                    (re.compile(r"\btax\b", re.I), frozenset({RuleKind.TAX_CODE})))
_GONE = re.compile(r"not found|does not exist|deleted|invalid|unknown", re.I)


def refused_references(exc: SyncError) -> list[Refused]:
    """The account or tax references a refusal names. The connector's own check of mapped accounts names the id
    (``raw["remote_id"]``); FreshBooks' messages name only the kind of record."""
    raw = exc.raw if isinstance(exc.raw, dict) else {}
    if raw.get("remote_id") and raw.get("kinds"):
        return [Refused(frozenset(raw["kinds"]), str(raw["remote_id"]), definite=True)]
    return refused_by_words(exc, _REFERENCE_WORDS, _GONE)
