"""The one place that turns QBO responses into our error classes, with a plain-language hint per code."""
from __future__ import annotations

import re

import requests

from ..base import Refused, RuleKind
from ..errors import (AuthError, ConflictError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError,
                      SyncError, ValidationFailed)

RATE_LIMIT_DEFAULT_WAIT = 60.0  # Intuit: "wait 60 seconds" when no Retry-After is given

HINTS = {
    "610": "The record was deleted or made inactive in QuickBooks. Re-send it to create it again.",
    "2020": "A required field is missing; check the document's customer, lines and dates.",
    "2500": "The document refers to something QuickBooks does not have (account, item, tax code or customer). "
            "Check the mappings for this connection.",
    "5010": "Someone changed this record in QuickBooks at the same time. Retry to re-read and re-apply.",
    "6000": "QuickBooks rejected the document as a whole; read the message and fix the document or mappings.",
    "6140": "Another QuickBooks document already uses this number. Renumber the local document, or link it.",
    "6190": "The QuickBooks company is not active (subscription ended or company closed).",
    "6210": "The accounting period is closed in QuickBooks. Re-date the document or reopen the period.",
    "6240": "Another QuickBooks customer, vendor or employee has this name. Rename one of them.",
    "6540": "The payment is already deposited in QuickBooks; remove it from the deposit first.",
}
CLASSES = {"610": RemoteNotFound, "5010": ConflictError, "6140": DuplicateError, "6240": DuplicateError}


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx QBO response to an error class."""
    status = response.status_code
    if status == 429:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        return RateLimitedError("QuickBooks rate limit reached", http_status=429, platform_code="003001",
                                retry_after=retry_after, raw=_body(response))
    if status >= 500:
        return RetryableError(f"QuickBooks answered HTTP {status}", http_status=status, raw=_body(response))
    body = _body(response)
    if status in (401, 403):
        code, message = _first_error(body, status)
        return AuthError(f"QuickBooks refused our credentials: {message}", http_status=status, platform_code=code,
                         hint="Reconnect the connection in the admin.", raw=body)
    return fault_error(body, status)


def fault_error(body, status: int = 400) -> SyncError:
    """The error for a business fault body: a whole response, or one item of a batch response."""
    code, message = _first_error(body, status)
    if code == "10000" or (isinstance(body, dict) and (body.get("Fault") or {}).get("type") == "SystemFault"):
        return RetryableError(f"QuickBooks system fault: {message}", platform_code=code, http_status=status, raw=body)
    cls = CLASSES.get(code, ValidationFailed)
    return cls(message, platform_code=code, http_status=status, hint=HINTS.get(code, ""), raw=body)


def _first_error(body, status: int) -> tuple[str, str]:
    # Business faults use {"Fault": {"Error": [...]}}; the gateway (401/403/429) uses lower-case keys.
    fault = (body.get("Fault") or body.get("fault") or {}) if isinstance(body, dict) else {}
    first = (fault.get("Error") or fault.get("error") or [{}])[0]
    message = (first.get("Detail") or first.get("detail") or first.get("Message") or first.get("message")
               or f"HTTP {status}")
    return str(first.get("code", "")), message


def transport_error(exc: requests.RequestException) -> RetryableError:
    kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
    return RetryableError(f"QuickBooks request {kind} ({type(exc).__name__})")


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else RATE_LIMIT_DEFAULT_WAIT
    except ValueError:
        return RATE_LIMIT_DEFAULT_WAIT


def _body(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return {"text": response.text[:2000]}


# -- references the platform refused (mapping drift) ------------------------------------------------------------
#: QBO element (the end of ``Fault.Error[].element``) -> the kinds of rule that fill it.
ELEMENTS = {"DepositToAccountRef": frozenset({RuleKind.DEPOSIT_ACCOUNT}),
            "DiscountAccountRef": frozenset({RuleKind.DISCOUNT_ACCOUNT}),
            "IncomeAccountRef": frozenset({RuleKind.INCOME_ACCOUNT}),
            "ItemAccountRef": frozenset({RuleKind.INCOME_ACCOUNT}),
            "TaxCodeRef": frozenset({RuleKind.TAX_CODE})}
#: 2500 "Invalid Reference Id" (not found) and 610 "Object Not Found" (made inactive).
REFERENCE_CODES = ("2500", "610")
_ELEMENT_ID = re.compile(r"element id (\S+) not found", re.I)


def refused_references(exc: SyncError) -> list[Refused]:
    """The account or tax-code elements a 2500 / 610 fault names, with the id when its detail gives one."""
    if exc.platform_code not in REFERENCE_CODES:
        return []
    body = exc.raw if isinstance(exc.raw, dict) else {}
    fault = body.get("Fault") or body.get("fault") or {}
    errors = (fault.get("Error") or fault.get("error") or []) if isinstance(fault, dict) else []
    found = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        kinds = ELEMENTS.get(str(error.get("element") or "").rsplit(".", 1)[-1])
        if kinds:
            match = _ELEMENT_ID.search(str(error.get("Detail") or error.get("detail") or ""))
            found.append(Refused(kinds, match.group(1) if match else None))
    return found
