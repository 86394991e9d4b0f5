"""Sage Intacct's refusals, classified once.

The XML gateway answers HTTP 200 to almost everything; a refusal is in the body, at one of three levels, each an
``<errormessage>`` of one or more ``<error>`` (``errorno``, ``description``, ``description2``, ``correction``):

- the request (``<control><status>failure</status>``): wrong sender credentials, a malformed request, a repeated
  control id under ``<uniqueid>true</uniqueid>``;
- the authentication (``<authentication><status>failure</status>``): a wrong login or a session that expired;
- one function (``<result><status>failure</status>``): a business refusal of that call only; the others in the
  same request stand on their own.

A gateway or proxy in front of Intacct may answer 429 or 5xx itself. The error numbers here are the ones the
sandbox gives; which of them are Intacct's own and which are guesses is in docs/connectors/intacct.md.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # nosec B405: for the Element type only; parsing is wire.parse (defusedxml)

import requests

from ..errors import (AuthError, ConfigurationError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError,
                      SyncError, ValidationFailed)
from ..http import retry_after
from .wire import child_text

#: Sign-in refused (wrong user, company or password) and session invalid or expired.
AUTH = frozenset({"XL03000006", "XL03000002"})
#: The sender id or password is wrong, or the sender is not authorised for the company.
SENDER = frozenset({"XL03000005", "XMLGW_JPP0002"})
#: The request's control id was used before with ``uniqueid`` true: Intacct did not run it again.
REPEATED_CONTROL_ID = "XL03000009"
#: Too many concurrent requests for the company's performance tier.
CONCURRENCY = frozenset({"XL03000010"})
#: Another record already holds the id or number.
DUPLICATE = frozenset({"BL34000061"})
NOT_FOUND = re.compile(r"not found|does not exist|no such|invalid key|cannot find|could not find", re.I)
ALREADY = re.compile(r"already exists|duplicate", re.I)
#: Functions that name an existing record: "not found" there means the record is gone (on a create it names a
#: reference the document carries, a validation refusal).
ON_A_RECORD = ("read", "update", "delete", "reverse", "apply")
HINTS = {"auth": "Check the connection's Web Services user (client id), its password (client secret) and the "
                 "company id, then reconnect.",
         "sender": "Check the sender id and sender password (the Web Services licence) and that the company "
                   "authorised this sender (Company > Setup > Company > Security > Web Services authorizations).",
         "validation": "Sage Intacct refused the document; fix what it names (an account, a location, a closed "
                       "period) and retry.",
         "duplicate": "Sage Intacct already holds a record with this id or number.",
         "not_found": "The record is gone from Sage Intacct; re-send the document to create it again."}


class RepeatedControlId(DuplicateError):
    """Raised when Intacct refuses a request because its control id was used before under ``uniqueid`` true: the
    earlier request with that id ran (its answer may have been lost), so this one was not run again."""


def first_error(errormessage: ET.Element | None) -> tuple[str, str]:
    """(error number, message) of an ``<errormessage>``: the descriptions and corrections of all its errors."""
    if errormessage is None:
        return "", "Sage Intacct gave no reason"
    errors = errormessage.findall("error")
    code = child_text(errors[0], "errorno") if errors else ""
    parts = []
    for error in errors:
        for tag in ("description", "description2", "correction"):
            value = child_text(error, tag)
            if value and value not in parts:
                parts.append(value)
    return code, "; ".join(parts)[:500] or "Sage Intacct gave no reason"


def from_errors(errormessage: ET.Element | None, level: str, raw: str = "") -> SyncError:
    """The error for a refusal at ``level`` ("control", "authentication" or a function's name)."""
    code, message = first_error(errormessage)
    if code == REPEATED_CONTROL_ID:
        return RepeatedControlId(f"Sage Intacct already ran a request with this control id: {message}",
                                 platform_code=code, hint="The earlier request ran; its result is looked up.",
                                 raw=raw)
    if code in CONCURRENCY:
        return RateLimitedError(f"Sage Intacct is busy: {message}", platform_code=code, retry_after=30, raw=raw)
    if code in SENDER:
        return ConfigurationError(f"Sage Intacct refused the sender: {message}", platform_code=code,
                                  hint=HINTS["sender"], raw=raw)
    if code in AUTH or level == "authentication":
        return AuthError(f"Sage Intacct refused the session: {message}", platform_code=code or level,
                         hint=HINTS["auth"], raw=raw)
    if code in DUPLICATE or ALREADY.search(message):
        return DuplicateError(message, platform_code=code or "duplicate", hint=HINTS["duplicate"], raw=raw)
    if NOT_FOUND.search(message) and level.startswith(ON_A_RECORD):
        return RemoteNotFound(message, platform_code=code or "not_found", hint=HINTS["not_found"], raw=raw)
    return ValidationFailed(message, platform_code=code or level, hint=HINTS["validation"], raw=raw)


def classify(response: requests.Response) -> SyncError:
    """A non-2xx answer: a gateway or proxy's (Intacct itself answers refusals with HTTP 200)."""
    status, body = response.status_code, response.text[:500]
    if status == 429:
        return RateLimitedError("Sage Intacct rate limit reached (HTTP 429)", http_status=status,
                                platform_code="429", retry_after=retry_after(response.headers.get("Retry-After"), 60),
                                raw=body)
    if status >= 500:
        return RetryableError(f"Sage Intacct answered HTTP {status}", http_status=status, platform_code=str(status),
                              raw=body)
    return ValidationFailed(f"Sage Intacct answered HTTP {status}", http_status=status, platform_code=str(status),
                            hint="Check the connection's API address.", raw=body)
