"""OneUp error answers -> our error classes, with a plain-language hint.

The body is ``{"error": {"code": "003", "message": "The resource was not found.", "reason": ...}}``: that 404
answer is a fixture of the official myERP PHP client (OneUp's former name), which reads ``error.code``,
``error.message`` and an optional ``error.reason``. Only code ``003`` (not found) is seen there; the other codes
below are GUESSES the sandbox answers with. Bodies of another shape (``{"error": "..."}``, ``{"message": ...}``,
or no JSON at all) still classify by the HTTP status: 429 rate limited (Retry-After, else 60 s: GUESS), 5xx
retryable, 401/403 credentials, 404 a gone record, other 4xx a refusal; a message saying a record "already
exists" is a duplicate. See docs/connectors/oneup.md.
"""
from __future__ import annotations

import requests

from ..errors import SyncError
from ..http import ErrorCodes, parse_json

INTERNAL = "000"  # GUESS
AUTH = "001"  # GUESS
VALIDATION = "002"  # GUESS
NOT_FOUND = "003"  # seen: "The resource was not found."
NO_SUCH_PATH = "004"  # GUESS: a URL that names no resource (our bug, not a gone record)
DUPLICATE = "005"  # GUESS
RATE_LIMITED = "006"  # GUESS

CODES = ErrorCodes(
    "OneUp",
    internal=frozenset({INTERNAL}),
    auth=frozenset({AUTH}),
    not_found=frozenset({NOT_FOUND}),
    bad_url=frozenset({NO_SUCH_PATH}),
    duplicate=frozenset({DUPLICATE}),
    rate_limited=frozenset({RATE_LIMITED}),
    wait=60.0,  # GUESS: limits are documented on developers.oneup.com but the values were not captured
    hints={
        "duplicate": "OneUp already has a record with this number. If it is this document, it is linked "
                     "automatically; otherwise renumber the local one.",
        "not_found": "The record was deleted in OneUp, or a mapped item or account no longer exists there. Check "
                     "the mappings for this connection, then send the document again.",
        "validation": "OneUp refused the document; read its message, then fix the document or the mappings.",
        "auth": "Check the API email (client id) and API key (client secret) of this connection in the admin "
                "(OneUp: Settings, API), then press Connect again.",
    })


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx OneUp response to an error class."""
    body = parse_json(response)
    code, message = code_and_message(body, response.status_code)
    return CODES.classify(response, code, message, body)


def code_and_message(body, status: int) -> tuple[str, str]:
    """(code, message) of a OneUp error answer; the message says "HTTP <status>" when the body has none."""
    if not isinstance(body, dict):
        return "", f"HTTP {status}"
    inner = body.get("error")
    if isinstance(inner, dict):
        body = inner
    elif isinstance(inner, str) and not body.get("message"):
        body = {"message": inner}
    code = body.get("code")
    message = str(body.get("message") or f"HTTP {status}")
    if body.get("reason"):
        message = f"{message} ({body['reason']})"
    return ("" if code is None else str(code)), message
