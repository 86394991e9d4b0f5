"""The one place that turns Bill.com v3 error answers into our error classes, with a plain-language hint.

Bill.com answers an error with an HTTP status and a JSON array of objects ``{"timestamp", "code", "severity",
"category", "message"}``; codes begin with ``BDC_`` (developer.bill.com, "Common API error codes" and the FAQ).
The codes below are the documented ones; the duplicate and not-found codes are guesses (marked so in
docs/connectors/billcom.md): where a code is unknown the HTTP status and the message decide.
"""
from __future__ import annotations

import requests

from ..errors import SyncError
from ..http import ErrorCodes, parse_json

SESSION_INVALID = "BDC_1109"  # "Session is invalid. Please log in." (documented): sign in again

CODES = ErrorCodes(
    "Bill.com",
    internal=frozenset({"BDC_1001", "BDC_1002"}),  # "System error occurred." / "Unknown error occurred."
    # BDC_1101 wrong username or password, BDC_1102 invalid developer key, BDC_1109 session invalid (documented)
    auth=frozenset({"BDC_1101", "BDC_1102", SESSION_INVALID}),
    # BDC_1144: more than 20,000 requests an hour per developer key, or 200 logins an hour (documented);
    # BDC_1322: "Max number of concurrent requests per organization reached." (documented)
    rate_limited=frozenset({"BDC_1144", "BDC_1322"}),
    duplicate=frozenset({"BDC_1171"}),  # guessed: "Invoice number already exists" (the message decides anyway)
    not_found=frozenset({"BDC_1124"}),  # guessed: "Object not found"
    bad_url=frozenset({"BDC_1121"}),  # "API not supported." with a 404: a wrong path (documented)
    wait=60.0,
    hints={
        "duplicate": "Bill.com already has an invoice with this number. If it is this document, it is linked "
                     "automatically; otherwise renumber the local one.",
        "not_found": "The record was deleted or archived in Bill.com, or a mapped account no longer exists there. "
                     "Check the mappings for this connection, then send the document again.",
        "validation": "Bill.com refused the document; read its message, then fix the document or the mappings.",
        "auth": "Check the connection's username (client id), developer key and password (client secret, written "
                "devKey:password) and organization_id, then press Connect again.",
    })


def first_error(body) -> tuple[str, str]:
    """(code, message) of the first error object of a Bill.com error answer; ("", "") when it has none."""
    if isinstance(body, dict):
        body = [body]
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("code") or ""), str(body[0].get("message") or "")
    return "", ""


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx Bill.com response to an error class."""
    body = parse_json(response)
    code, message = first_error(body)
    error = CODES.classify(response, code, message or f"HTTP {response.status_code}", body)
    if code == "BDC_1322" and not response.headers.get("Retry-After"):
        error.retry_after = 1.0  # a concurrency refusal: a slot frees within a second or so
    return error
