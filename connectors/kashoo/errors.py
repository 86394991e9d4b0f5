"""The one place that turns Kashoo error answers into our error classes, with a plain-language hint.

Kashoo's public pages do not document an error body. We read the shape ``{"errorCode": ..., "message": ...}``
(a guess, marked in docs/connectors/kashoo.md) and fall back on the HTTP status and the message: 400 a refusal,
401/403 the token or the credentials, 404 a gone record, 409 a duplicate number, 429 throttled (``Retry-After``),
5xx transient. Any body that is not JSON still classifies by its status.
"""
from __future__ import annotations

import requests

from ..errors import SyncError
from ..http import ErrorCodes, parse_json

CODES = ErrorCodes(
    "Kashoo",
    internal=frozenset({"INTERNAL_ERROR", "SERVICE_UNAVAILABLE"}),
    auth=frozenset({"INVALID_TOKEN", "TOKEN_EXPIRED", "INVALID_CREDENTIALS", "ACCESS_DENIED"}),
    rate_limited=frozenset({"TOO_MANY_REQUESTS"}),
    duplicate=frozenset({"DUPLICATE_NUMBER"}),
    not_found=frozenset({"NOT_FOUND"}),
    bad_url=frozenset({"NO_SUCH_RESOURCE"}),
    wait=60.0,
    hints={
        "duplicate": "Kashoo already has a record with this number. If it is this document, it is linked "
                     "automatically; otherwise renumber the local one.",
        "not_found": "The record was deleted in Kashoo, or a mapped account no longer exists there. Check the "
                     "mappings for this connection, then send the document again.",
        "validation": "Kashoo refused the document; read its message, then fix the document or the mappings.",
        "auth": "Check the connection's Kashoo login email (client id) and password (client secret) and its "
                "business_id setting, then press Connect again.",
    })


def first_error(body) -> tuple[str, str]:
    """(code, message) of a Kashoo error answer; ("", "") when the body has neither."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if isinstance(body, dict):
        return str(body.get("errorCode") or body.get("code") or ""), str(body.get("message") or "")
    return "", ""


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx Kashoo response to an error class."""
    body = parse_json(response)
    code, message = first_error(body)
    return CODES.classify(response, code, message or f"HTTP {response.status_code}", body)
