"""Odoo's refusals, classified once for both protocols.

XML-RPC answers a refusal as a fault, HTTP 200: the fault code says the ``odoo.exceptions`` class (Odoo's RPC
layer: 1 application error with the traceback as text, 2 ``UserError`` / ``ValidationError`` / ``MissingError``,
3 ``AccessDenied``, 4 ``AccessError``). JSON-2 answers with an HTTP status and ``{"name", "message", ...}``, the
exception's dotted class name. A proxy in front of Odoo may answer 429 or 5xx itself (Odoo has no rate limit).
"""
from __future__ import annotations

import re
import xmlrpc.client  # nosec B411: for its Fault class; answers are parsed by wire.loads (defusedxml)

import requests

from ..errors import (AuthError, ConfigurationError, RemoteNotFound, RetryableError, SyncError, ValidationFailed)
from ..http import ErrorCodes, parse_json

MISSING = re.compile(r"does not exist or has been deleted|Record does not exist", re.I)
TRANSIENT = re.compile(r"could not serialize access|concurrent update|OperationalError|deadlock", re.I)
HINTS = {"auth": "Check the connection's login (client id) and API key (client secret), then reconnect.",
         "validation": "Odoo refused the document; fix what it names (an account, a tax, a locked period) and "
                       "retry.",
         "not_found": "The record is gone from Odoo; re-send the document to create it again."}
CODES = ErrorCodes(platform="Odoo",
                   auth=frozenset({"werkzeug.exceptions.Unauthorized", "odoo.exceptions.AccessDenied"}),
                   not_found=frozenset({"odoo.exceptions.MissingError"}),
                   bad_url=frozenset({"werkzeug.exceptions.NotFound"}), hints=HINTS)
RIGHTS = "The Odoo user behind the API key lacks access rights for this; give it the Invoicing / Accounting rights."


def classify(response: requests.Response) -> SyncError:
    """A non-2xx HTTP answer: JSON-2's error body, or a proxy's page."""
    body = parse_json(response)
    code = str(body.get("name") or "") if isinstance(body, dict) else ""
    message = str(body.get("message") or body.get("text") or response.reason or "") if isinstance(body, dict) else ""
    if code == "odoo.exceptions.AccessError":
        return ValidationFailed(f"Odoo refused access: {message}", platform_code=code, http_status=403, hint=RIGHTS,
                                raw=body)
    return CODES.classify(response, code, message.strip()[:500], body)


def from_fault(fault: xmlrpc.client.Fault) -> SyncError:
    """An XML-RPC fault, by its code and text."""
    code, text = fault.faultCode, str(fault.faultString or "")
    message = text.strip().splitlines()[-1] if text.startswith("Traceback") else text.strip()
    platform_code = f"fault {code}"
    if code == 3:
        return AuthError(f"Odoo refused the session: {message}", platform_code=platform_code, hint=HINTS["auth"])
    if code == 4:
        return ValidationFailed(f"Odoo refused access: {message}", platform_code=platform_code, hint=RIGHTS)
    if MISSING.search(text):
        return RemoteNotFound(message, platform_code=platform_code, hint=HINTS["not_found"])
    if code == 1 and "database" in text and "does not exist" in text:
        return ConfigurationError(f"Odoo has no such database: {message}", platform_code=platform_code,
                                  hint="Set the connection's database setting to the Odoo database's name.")
    if code == 1 and TRANSIENT.search(text):
        return RetryableError(f"Odoo could not finish the call: {message}", platform_code=platform_code)
    return ValidationFailed(message[:500], platform_code=platform_code, hint=HINTS["validation"])
