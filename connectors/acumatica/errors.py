"""The one place that turns Acumatica's error answers into our error classes, with a plain-language hint.

Acumatica answers a refusal in one of two shapes:

- the ASP.NET Web API error body ``{"message": "An error has occurred.", "exceptionMessage": "...",
  "exceptionType": "PX.Data.PXException", "stackTrace": "..."}``, with HTTP 500 for a business rule an action or a
  write broke (``PXException`` and its subclasses: a permanent refusal, not an outage), 401 when the session is
  gone, 429 when the licence's request or login limit is reached ("API Login Limit"), 404 for an unknown record;
- HTTP 422 with the entity itself echoed, its top-level ``error`` saying that the record "raised at least one
  error" and the reason in the ``error`` of each refused field (``"Account": {"value": "99999", "error": ...}``),
  also inside ``Details`` lines.

An injected 5xx without ``exceptionType`` (a proxy, an outage) stays retryable. Sources and guesses:
docs/connectors/acumatica.md.
"""
from __future__ import annotations

import re

import requests

from ..errors import AuthError, RateLimitedError, SyncError
from ..http import ErrorCodes, parse_json, retry_after
from . import wire

#: exceptionType values of business refusals (answered with HTTP 500 by Acumatica).
BUSINESS = re.compile(r"^PX\.|PXException|PXSetPropertyException|PXOuterException", re.I)
LOGIN_LIMIT = re.compile(r"API Login Limit|login limit|maximum number of .*API users", re.I)
CREDENTIALS = re.compile(r"Invalid credentials|username or password|not logged in|login failed", re.I)
CODES = ErrorCodes(
    "Acumatica",
    hints={
        "duplicate": "Acumatica already holds a record with this key or number. If it is this document, it is "
                     "linked automatically; otherwise renumber the local one.",
        "not_found": "The record is gone from Acumatica, or a mapped account, tax category or item does not "
                     "exist there. Check the mappings for this connection, then send the document again.",
        "validation": "Acumatica refused the document; read its message, then fix the document or the mappings.",
        "auth": "Check the connection's user name, password and tenant (company), then reconnect it in the admin.",
    })
LIMIT_HINT = ("Acumatica's licence allows a fixed number of API sessions at once (License Monitoring Console, "
              "SM604000); another integration may hold them. This retries once a session is free.")


def message_of(body, status: int) -> tuple[str, str]:
    """(exceptionType or "", the clearest message) of an error body: the field errors of a 422 entity, else the
    ``exceptionMessage``, else ``message``."""
    if not isinstance(body, dict):
        return "", f"HTTP {status}"
    errors = [f"{where}: {text}" for where, text in wire.field_errors(body) if where != "record"]
    if errors:
        return "", "; ".join(errors)[:500]
    text = body.get("exceptionMessage") or body.get("error") or body.get("message") or body.get("text")
    return str(body.get("exceptionType") or ""), str(text or f"HTTP {status}")[:500]


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx Acumatica answer to an error class."""
    body = parse_json(response)
    kind, message = message_of(body, response.status_code)
    status = response.status_code
    if LOGIN_LIMIT.search(message):
        return RateLimitedError(f"Acumatica's API login limit is reached: {message}", platform_code="API Login Limit",
                                http_status=status, retry_after=retry_after(response.headers.get("Retry-After"), 60),
                                hint=LIMIT_HINT, raw=body)
    if status in (401, 403) or CREDENTIALS.search(message):
        return AuthError(f"Acumatica refused the session: {message}", platform_code=kind or str(status),
                         http_status=status, hint=CODES.hints["auth"], raw=body)
    if status >= 500 and BUSINESS.search(kind):
        return CODES.refusal(kind, message, status, body)
    return CODES.classify(response, kind or ("field error" if status == 422 else ""), message, body)


def session_expired(exc: SyncError) -> bool:
    """True when ``exc`` says the session is gone (a 401): log in again and resend once."""
    return isinstance(exc, AuthError) and exc.http_status == 401
