"""NetSuite SOAP refusals, classified once.

Two shapes: a SOAP fault (HTTP 500, ``<detail>`` holding a platformFaults element with ``code`` and ``message``:
``invalidCredentialsFault`` / ``INVALID_LOGIN_ATTEMPT``, ``exceededConcurrentRequestLimitFault`` /
``WS_REQUEST_BLOCKED`` (TBA; ``WS_CONCUR_SESSION_DISALLWD`` with session logins), ``unexpectedErrorFault``),
and a done request whose record was refused (``status isSuccess="false"`` with ``statusDetail`` ``code`` /
``message``). Codes: NetSuite's public status codes; our mapping: docs/connectors/netsuitesoap.md.
"""
from __future__ import annotations

import requests
from defusedxml.ElementTree import fromstring

from ..errors import (AuthError, DuplicateError, RateLimitedError, RemoteNotFound, RetryableError, SyncError,
                      ValidationFailed)
from ..http import retry_after

WRITES = frozenset({"add", "upsert", "update", "delete"})
AUTH = frozenset({"INVALID_LOGIN_ATTEMPT", "INVALID_LOGIN_CREDENTIALS", "INVALID_LOGIN"})
CONCURRENCY = frozenset({"WS_CONCUR_SESSION_DISALLWD", "WS_REQUEST_BLOCKED", "SSS_REQUEST_LIMIT_EXCEEDED"})
DUPLICATE = frozenset({"DUP_RCRD", "DUP_ENTITY"})
NOT_FOUND = frozenset({"RCRD_DSNT_EXIST"})
HINTS = {"auth": "Check the account id, consumer key and secret (client id and secret) and the token id and "
                 "secret of the connection's access token in NetSuite (Setup > Users/Roles > Access Tokens).",
         "validation": "NetSuite refused the record; fix what it names and retry."}


def from_status(status: dict | None, raw: str = "") -> SyncError:
    details = (status or {}).get("statusDetail") or [{}]
    code, message = str(details[0].get("code") or ""), str(details[0].get("message") or "NetSuite gave no reason")
    if code in DUPLICATE:
        return DuplicateError(message, platform_code=code, raw=raw)
    if code in NOT_FOUND:
        return RemoteNotFound(message, platform_code=code, raw=raw)
    return ValidationFailed(message, platform_code=code or "USER_ERROR", hint=HINTS["validation"], raw=raw)


def classify(response: requests.Response) -> SyncError:
    status, body = response.status_code, response.text[:2000]
    code, message = "", ""
    try:
        root = fromstring(response.content)
        for element in root.iter():
            name = element.tag.rsplit("}", 1)[-1]
            if name == "code" and not code:
                code = (element.text or "").strip()
            elif name in ("message", "faultstring") and not message:
                message = (element.text or "").strip()
    except Exception:  # noqa: BLE001 - a proxy's HTML page: classified by its status
        code = ""
    if code in AUTH:
        return AuthError(f"NetSuite refused the token: {message}", http_status=status, platform_code=code,
                         hint=HINTS["auth"], raw=body)
    if code in CONCURRENCY or status == 429:
        return RateLimitedError(f"NetSuite is busy: {message or 'too many requests'}", http_status=status,
                                platform_code=code or str(status),
                                retry_after=retry_after(response.headers.get("Retry-After"), 30), raw=body)
    if status >= 500 and not code or code == "UNEXPECTED_ERROR":
        return RetryableError(f"NetSuite answered HTTP {status}: {message}", http_status=status,
                              platform_code=code or str(status), raw=body)
    return ValidationFailed(message or f"NetSuite answered HTTP {status}", http_status=status,
                            platform_code=code or str(status), hint=HINTS["validation"], raw=body)
