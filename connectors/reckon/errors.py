"""The one place that turns Reckon One error answers into our error classes, with a plain-language hint.

Two layers answer a Reckon One API v2 call, each in its own shape:

- Azure API Management, in front of the API, checks the subscription key and the rate limit first and answers
  ``{"statusCode": 401, "message": "Access denied due to missing subscription key..."}`` or ``{"statusCode": 429,
  "message": "Rate limit is exceeded. Try again in 5 seconds."}`` with a ``Retry-After`` header (Microsoft's
  documented API Management answers).
- The Reckon API itself answers ``{"code": <HTTP status>, "message": "...", "errors": [{"location": "...",
  "message": "..."}]}`` (``ErrorResponse`` in Reckon's OpenAPI document): 400 invalid data (``errors`` says which
  field), 401 a missing, expired or invalid token, 403 no permission, 404 no such book or record, 415 a PATCH not
  sent as ``application/merge-patch+json``.

Reckon's code is the HTTP status, so the platform code we keep is the first error's ``location`` (the field it
refused) where there is one. The wording of Reckon's messages is not published: the "already exists" and "does
not exist" phrases matched below are our reading of its examples (see docs/connectors/reckon.md).
"""
from __future__ import annotations

import re

import requests

from ..base import Refused, RuleKind
from ..errors import (AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError, SyncError,
                      ValidationFailed)
from ..http import parse_json, retry_after

PLATFORM = "Reckon One"
HINTS = {
    "duplicate": "Reckon One already has a record with this name or reference. If it is this document, it is "
                 "linked automatically; otherwise rename the local record or renumber the document.",
    "not_found": "The record was deleted in Reckon One. Send the document again to create it anew.",
    "validation": "Reckon One refused the document; read its message, then fix the document or the mappings "
                  "(an archived ledger account or tax rate is the usual cause).",
    "auth": "Reconnect the connection in the admin (Connections, Reconnect), and check the book id and the "
            "subscription key setting.",
    "subscription": "Check the connection's subscription_key setting: it is the key of your Reckon developer "
                    "portal subscription (Profile page), not the OAuth client secret.",
}
_ALREADY = re.compile(r"already (exists|been used|in use)", re.I)
_SECONDS = re.compile(r"try again in (\d+) seconds?", re.I)


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx Reckon One (or API Management) response to an error class."""
    body = parse_json(response)
    status = response.status_code
    body = body if isinstance(body, dict) else {}
    gateway = "statusCode" in body and "code" not in body  # API Management's own answer, not Reckon's
    message = _message(body, status)
    location = _location(body)
    if status == 429:
        said = _SECONDS.search(message)
        wait = retry_after(response.headers.get("Retry-After"), float(said.group(1)) if said else 60.0)
        return RateLimitedError(f"{PLATFORM} rate limit reached: {message}", http_status=status,
                                platform_code="rate_limit", retry_after=wait, raw=body)
    if status >= 500:
        return RetryableError(f"{PLATFORM} answered HTTP {status}: {message}", http_status=status,
                              platform_code=str(status), raw=body)
    if status in (401, 403):
        subscription = gateway and "subscription" in message.lower()
        return AuthError(f"{PLATFORM} refused our credentials: {message}", http_status=status,
                         platform_code="subscription_key" if subscription else str(status),
                         hint=HINTS["subscription" if subscription else "auth"], raw=body)
    if status == 404 and not gateway:
        return RemoteNotFound(message, platform_code="404", http_status=status, hint=HINTS["not_found"], raw=body)
    if _ALREADY.search(message):
        return DuplicateError(message, platform_code=location or "duplicate", http_status=status,
                              hint=HINTS["duplicate"], raw=body)
    code = "no_such_operation" if gateway and status == 404 else location or str(status)
    return ValidationFailed(message, platform_code=code, http_status=status, hint=HINTS["validation"], raw=body)


def _message(body: dict, status: int) -> str:
    message = str(body.get("message") or body.get("text") or f"HTTP {status}")
    details = [f"{e.get('location')}: {e.get('message')}" if e.get("location") else str(e.get("message"))
               for e in body.get("errors") or [] if isinstance(e, dict) and e.get("message")]
    return f"{message} ({'; '.join(details)})" if details else message


def _location(body: dict) -> str:
    errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
    return str(errors[0].get("location") or "") if errors else ""


# -- references the platform refused (mapping drift) --------------------------------------------------------------
_GONE = re.compile(r"inactive|does not exist|not found|deleted|archived", re.I)
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def _kinds(location: str) -> frozenset[str] | None:
    """The rule kinds a refused field stands for: a receipt's ``ledgerAccount`` is where the money went, a line's
    ``...accountDetails.ledgerAccount`` an income or discount account, a line's ``...taxRate`` a tax code."""
    if location.lower() == "ledgeraccount":
        return frozenset({RuleKind.DEPOSIT_ACCOUNT})
    if "ledgeraccount" in location.lower():
        return RuleKind.SALES_ACCOUNTS
    if "taxrate" in location.lower():
        return frozenset({RuleKind.TAX_CODE})
    return None


def refused_references(exc: SyncError) -> list[Refused]:
    """The ledger accounts and tax rates a refusal names: each error's ``location`` says which field and its
    message whether the reference is gone (inactive, does not exist) and, where Reckon quotes it, its id."""
    if not isinstance(exc, ValidationFailed) or isinstance(exc, DuplicateError):
        return []
    raw = exc.raw if isinstance(exc.raw, dict) else {}
    found = []
    for error in raw.get("errors") or []:
        if not isinstance(error, dict) or not _GONE.search(str(error.get("message") or "")):
            continue
        kinds = _kinds(str(error.get("location") or ""))
        if kinds is not None:
            guid = _GUID.search(str(error.get("message")))
            found.append(Refused(kinds, guid.group(0) if guid else None, definite=True))
    return found
