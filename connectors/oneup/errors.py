"""OneUp error answers -> our error classes.

GUESS: OneUp publishes no error catalogue we could read (developers.oneup.com was not reachable from our research
tools). We assume a JSON body ``{"error": {"code": ..., "message": ...}}`` or ``{"message": ...}`` and let the HTTP
status decide (429 rate limited with Retry-After, 5xx retryable, 401/403 auth, 404 gone, other 4xx validation); a
message saying a record "already exists" is a duplicate. See docs/connectors/oneup.md.
"""
from __future__ import annotations

import requests

from ..errors import SyncError
from ..http import ErrorCodes, parse_json

CODES = ErrorCodes(
    "OneUp",
    wait=60.0,  # GUESS: limits are documented on developers.oneup.com but the values were not captured
    hints={
        "duplicate": "OneUp already has a record with this number or name. If it is this document, it is linked "
                     "automatically; otherwise renumber or rename the local one.",
        "not_found": "The record was deleted in OneUp, or a mapped item or account no longer exists there.",
        "validation": "OneUp refused the document; read its message, then fix the document or the mappings.",
        "auth": "Check the API email and API key of this connection in the admin (Connections, Reconnect).",
    })


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx OneUp response to an error class."""
    body = parse_json(response)
    code, message = _code_and_message(body, response.status_code)
    return CODES.classify(response, code, message, body)


def _code_and_message(body, status: int) -> tuple[str, str]:
    if not isinstance(body, dict):
        return "", f"HTTP {status}"
    inner = body.get("error")
    if isinstance(inner, dict):
        body = inner
    elif isinstance(inner, str) and not body.get("message"):
        body = {"message": inner}
    code = body.get("code")
    message = str(body.get("message") or f"HTTP {status}")
    return ("" if code is None else str(code)), message
