"""The one place that turns Xero responses into our error classes, with a plain-language hint per problem.

Xero answers a rejected write with HTTP 400 and ``{"ErrorNumber": 10, "Type": "ValidationException",
"Elements": [{..., "ValidationErrors": [{"Message": ...}]}]}``; with ``summarizeErrors=false`` the same
``ValidationErrors`` ride on each element of an HTTP 200 response instead (``element_error``). Gateway
failures (401/403) use ``{"Title", "Status", "Detail"}``. A 429 carries ``Retry-After`` and
``X-Rate-Limit-Problem`` (``minute``, ``day``, ``appminute``, ``concurrent``).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import requests

from ..base import Refused, RuleKind
from ..errors import (AuthError, ConfigurationError, DuplicateError, RateLimitedError, RemoteNotFound,
                      RetryableError, SyncError, ValidationFailed)

RATE_LIMIT_DEFAULT_WAIT = 60.0  # Xero always sends Retry-After; this covers a proxy that strips it
VALIDATION_ERROR_NUMBER = "10"  # Xero's ErrorNumber for ValidationException

#: (substring of Xero's message, lower case) -> hint. First match wins.
_TAX_HINT = ("The mapped tax type is unknown in Xero or cannot be used with that account. Check the tax code "
             "mappings (Xero tax rates are mapped by their TaxType, e.g. OUTPUT).")
_PERIOD_HINT = "The accounting period is locked in Xero. Re-date the document or move the lock date in Xero."
_OWED_HINT = "The amount is larger than what is still owed on the invoice in Xero."

#: (substring of Xero's message, lower case) -> hint. First match wins, so specific markers come first.
HINTS: tuple[tuple[str, str], ...] = (
    ("must be unique", "Another Xero document already uses this number. Renumber the local document, or link it."),
    ("already exists", "Another Xero item already has this code. Give the local item a different SKU, or link them."),
    ("already assigned to another contact",
     "Another active Xero contact has this name (Xero contact names are unique). Rename one of them, or "
     "archive the other contact in Xero."),
    ("taxtype", _TAX_HINT),
    ("tax type", _TAX_HINT),
    ("account code", "The mapped account code does not exist in Xero or is archived. Check the account mappings "
                     "for this connection (Xero accounts are mapped by their Code)."),
    ("item code", "The item's code is unknown in Xero. Re-send the item, or check it was not deleted in Xero."),
    ("currency", "The currency is not enabled for this Xero organisation. Add it under Settings → Currencies in "
                 "Xero, or change the document's currency."),
    ("lock date", _PERIOD_HINT),
    ("not of valid status", "The document's status in Xero does not allow this change (for example it is paid, "
                            "voided or deleted). Reverse the payments in Xero first, or re-create the document."),
    ("amount outstanding", _OWED_HINT),
    ("exceeds", _OWED_HINT),
    ("cannot be edited as it has a payment or credit note allocated",
     "Xero does not let an invoice with a payment or credit note allocated to it be edited. Remove the "
     "allocation in Xero (the payment's Options → Remove, or the credit note's allocation), retry, then apply it "
     "again; or keep the change local."),
    ("allocat", "The credit note's allocations do not fit the invoice's balance. Check the amounts."),
    ("payment", "The document has payments in Xero. Remove the payments in Xero first."),
    ("period", _PERIOD_HINT),
    ("contact", "The Xero contact is archived or missing. Restore it in Xero, or re-send the customer."),
)
DUPLICATE_MARKERS = ("must be unique", "already assigned to another contact", "already exists")
GENERIC_HINT = "Xero rejected the document; read the message and fix the document or the mappings, then retry."


def hint_for(message: str) -> str:
    lowered = message.lower()
    return next((hint for marker, hint in HINTS if marker in lowered), GENERIC_HINT)


def validation_messages(elements) -> list[str]:
    """All ``ValidationErrors[].Message`` of Xero elements (an ``Elements`` list or items of a 200 response)."""
    messages: list[str] = []
    for element in elements or ():
        if not isinstance(element, dict):
            continue
        for error in element.get("ValidationErrors") or ():
            message = (error or {}).get("Message") if isinstance(error, dict) else None
            if message and message not in messages:
                messages.append(str(message))
        # Line items and allocations carry their own errors on some endpoints.
        for nested in ("LineItems", "Allocations", "Payments"):
            for message in validation_messages(element.get(nested)):
                if message not in messages:
                    messages.append(message)
    return messages


def _validation_error(messages: list[str], http_status: int | None, raw, platform_code: str) -> ValidationFailed:
    message = "; ".join(messages) or "Xero rejected the request"
    cls = DuplicateError if any(m in message.lower() for m in DUPLICATE_MARKERS) else ValidationFailed
    return cls(f"Xero: {message}", platform_code=platform_code, http_status=http_status, hint=hint_for(message),
               raw=raw)


def element_error(element: dict) -> ValidationFailed | None:
    """The error of one element of a ``summarizeErrors=false`` response, or None if it went through."""
    failed = element.get("HasErrors") or element.get("HasValidationErrors") or \
        element.get("StatusAttributeString") == "ERROR" or bool(element.get("ValidationErrors"))
    if not failed:
        return None
    return _validation_error(validation_messages([element]), 200, element, VALIDATION_ERROR_NUMBER)


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx Xero response to an error class."""
    status = response.status_code
    headers = {str(k).lower(): v for k, v in response.headers.items()}
    body = _body(response.content)
    if status == 429:
        return rate_limited(headers, body)
    if status >= 500:
        return RetryableError(f"Xero answered HTTP {status}: {_detail(body) or 'server error'}", http_status=status,
                              raw=body)
    if status == 401:
        return AuthError(f"Xero refused our access token ({_detail(body) or 'unauthorized'})", http_status=401,
                         platform_code=_detail(body), hint="Reconnect the connection in the admin.", raw=body)
    if status == 403:
        detail = _detail(body)
        messages = validation_messages(body.get("Elements")) if isinstance(body, dict) else []
        if messages:  # a feature or edition restriction on this organisation: reconnecting will not help
            return ConfigurationError(f"Xero refused: {'; '.join(messages)}", http_status=403, raw=body,
                                      platform_code=str(body.get("ErrorNumber", "")) or "403",
                                      hint="The Xero organisation does not allow this (plan, edition or role). "
                                           "Change it in Xero, or turn this entity off for the connection.")
        return AuthError(
            f"Xero refused access to this organisation ({detail or 'forbidden'})", http_status=403,
            platform_code=detail or "403", raw=body,
            hint="The app was disconnected from this Xero organisation or lacks a permission (scope). Reconnect "
                 "the connection in the admin and approve every requested permission.")
    if status == 404:
        return RemoteNotFound("The record no longer exists in Xero (deleted, or never created there)",
                              http_status=404, platform_code="404", raw=body,
                              hint="Re-send the local record to create it again in Xero.")
    if isinstance(body, dict) and (body.get("Elements") or body.get("Type") or body.get("Message")):
        messages = validation_messages(body.get("Elements")) or [str(body.get("Message") or "")]
        return _validation_error([m for m in messages if m], status, body,
                                 str(body.get("ErrorNumber") or VALIDATION_ERROR_NUMBER))
    return ValidationFailed(f"Xero answered HTTP {status}: {_detail(body) or 'request refused'}", http_status=status,
                            platform_code=str(status), hint=GENERIC_HINT, raw=body)


def rate_limited(headers: dict, body=None, now: dt.datetime | None = None) -> RateLimitedError:
    """A 429: pause for ``Retry-After``; a daily-limit hit pauses until the next UTC midnight."""
    problem = (headers.get("x-rate-limit-problem") or "").strip().lower()
    retry_after = _seconds(headers.get("retry-after"))
    if problem == "day":
        now = now or dt.datetime.now(dt.UTC)
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        until_midnight = max(1.0, (midnight - now).total_seconds())
        return RateLimitedError(
            "Xero's daily limit of 5,000 API calls for this organisation was reached; syncing resumes after "
            "midnight UTC", http_status=429, platform_code="day", retry_after=max(until_midnight, retry_after or 0),
            hint="Nothing to do: entries wait and go out after midnight UTC. Large resyncs count against the "
                 "daily limit; spread them over several days.", raw=body)
    what = {"minute": "per-minute limit (60 calls)", "appminute": "app-wide per-minute limit",
            "concurrent": "limit of 5 concurrent calls"}.get(problem, "rate limit")
    return RateLimitedError(f"Xero {what} reached for this organisation", http_status=429,
                            platform_code=problem or "429", retry_after=retry_after or RATE_LIMIT_DEFAULT_WAIT,
                            raw=body)


def transport_error(exc: requests.RequestException) -> RetryableError:
    """Timeouts, refused or reset connections, lost responses: safe to retry with the same idempotency key."""
    kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
    return RetryableError(f"Xero request {kind} ({type(exc).__name__})")


def _body(raw: bytes):
    if not raw:
        return {}
    try:
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, TypeError):
        return {"text": raw.decode("utf-8", "replace")[:2000]}


def _detail(body) -> str:
    if not isinstance(body, dict):
        return ""
    return str(body.get("Detail") or body.get("detail") or body.get("Message") or body.get("Title")
               or body.get("error") or "")


def _seconds(value) -> float | None:
    try:
        return max(0.0, float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


# -- references the platform refused (mapping drift) ------------------------------------------------------------
_ACCOUNT = re.compile(r"Account code '([^']*)' (has been archived|has been deleted|is not a valid code)", re.I)
_TAX = re.compile(r"TaxType code '([^']*)' does not exist", re.I)
#: Marker in a payment's refusal -> whether it says the account is gone (rather than unusable for payments).
_PAYMENT_ACCOUNT = {"account for the payment could not be found": True,
                    "account type is invalid for making a payment": False}


def refused_references(exc: SyncError) -> list[Refused]:
    """Account codes and tax types Xero's validation messages name: archived or deleted accounts are gone, an
    invalid code or a tax type that does not exist may only be unusable here."""
    message = exc.message or ""
    found = [Refused(RuleKind.SALES_ACCOUNTS, code, "valid" not in how.lower())
             for code, how in _ACCOUNT.findall(message)]
    found += [Refused(frozenset({RuleKind.TAX_CODE}), code, False) for code in _TAX.findall(message)]
    found += [Refused(frozenset({RuleKind.DEPOSIT_ACCOUNT}), None, definite)
              for marker, definite in _PAYMENT_ACCOUNT.items() if marker in message.lower()]
    return found
