"""The one place that turns Service Layer error answers into our error classes, with a plain-language hint.

The Service Layer answers an error with an HTTP status and ``{"error": {"code": <number>, "message": {"lang":
"en-us", "value": "..."}}}`` (the shape SAP's Service Layer user manual shows for ``/b1s/v1``). ``/b1s/v2`` is
OData v4, whose standard error body has ``message`` as a plain string; both are read here. The codes are
DI API error numbers; the ones below and their meaning are partly guessed (docs/connectors/sapb1.md lists which).
A session that timed out or was logged out is HTTP 401 with code 301 "Invalid session": the session family logs
in again once (``session_expired``).
"""
from __future__ import annotations

import re

import requests

from ..errors import AuthError, SyncError
from ..http import ErrorCodes, parse_json

#: "Invalid session." / "Invalid session or session already timeout.": log in again and resend once.
INVALID_SESSION = "301"
_SESSION_WORDS = re.compile(r"invalid session|session already timeout", re.I)

CODES = ErrorCodes(
    "SAP Business One",
    auth=frozenset({"100000027", "-304"}),  # "Login failed"; "Fail to get DB Credentials" (guessed)
    duplicate=frozenset({"-2035"}),  # "This entry already exists in the following tables" (ODBC -2035)
    not_found=frozenset({"-2028"}),  # "No matching records found (ODBC -2028)"
    hints={
        "duplicate": "SAP Business One already has a record with this key. If it is this document, it is linked "
                     "automatically; otherwise renumber the local one.",
        "not_found": "The record was removed in SAP Business One, or a mapped account, tax code or item no longer "
                     "exists there. Check the mappings for this connection, then send the document again.",
        "validation": "SAP Business One refused the document; read its message, then fix the document or the "
                      "mappings.",
        "auth": "Check the connection's company database, user name and password, then reconnect it in the "
                "admin.",
    })


def code_and_message(body, status: int) -> tuple[str, str]:
    """The error's code (as text) and message, from either message shape (an object with ``value``, or text)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", f"HTTP {status}"
    message = error.get("message")
    if isinstance(message, dict):
        message = message.get("value")
    code = error.get("code")
    return ("" if code in (None, "") else str(code)), str(message or f"HTTP {status}")


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx Service Layer response to an error class."""
    body = parse_json(response)
    code, message = code_and_message(body, response.status_code)
    if response.status_code == 401 and (code == INVALID_SESSION or _SESSION_WORDS.search(message)):
        return AuthError(f"SAP Business One ended the session: {message}", platform_code=INVALID_SESSION,
                         http_status=401, hint=CODES.hints["auth"], raw=body)
    return CODES.classify(response, code, message, body)


def session_expired(exc: SyncError) -> bool:
    """True when ``exc`` is the Service Layer's "Invalid session" (timed out, logged out, unknown)."""
    return isinstance(exc, AuthError) and exc.platform_code == INVALID_SESSION
