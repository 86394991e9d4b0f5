"""The one place that turns S/4HANA OData answers into our error classes, with a plain-language hint.

SAP Gateway answers an OData V2 error with ``{"error": {"code": "F5/702", "message": {"lang": "en", "value":
"..."}, "innererror": {"errordetails": [{"code", "message", "target", "severity"}...]}}}``; the ``code`` is the
message class and number (``F5/702`` "Balance in transaction currency"), the details name each refused field.
Three answers are about the protocol, not the document:

- 403 with the header ``x-csrf-token: Required`` (body "CSRF token validation failed"): the CSRF token expired or
  its session cookie was lost; the client fetches a new one and sends the request again once (``CSRF_REQUIRED``);
- 412 "Precondition failed": the ``If-Match`` ETag is stale, someone changed the record: a ``ConflictError``;
- 428 "Precondition required": a change was sent without ``If-Match`` (our bug): a validation error.
The SOAP posting service (``JournalEntryCreateRequestConfirmation_In``) answers a refused posting with HTTP 200:
a confirmation whose ``AccountingDocument`` is empty or ``0000000000`` and whose ``Log`` has
``MaximumLogItemSeverityCode`` 3, each ``Log/Item`` with ``TypeID`` "<number>(<class>)" (``702(F5)``),
``SeverityCode`` and ``Note`` (``from_log``); an envelope it cannot read is a SOAP fault with HTTP 500
(``faultcode``/``faultstring``).
The codes below and their meaning are partly guessed (docs/connectors/s4hana.md lists which).
"""
from __future__ import annotations

import re

import requests
from defusedxml.ElementTree import fromstring

from ..errors import ConflictError, PermanentError, RetryableError, SyncError, ValidationFailed
from ..http import ErrorCodes, parse_json

#: Posting refusals whose message says a master record "does not exist" (an account, a customer, a tax code the
#: document names): the document is refused, nothing of ours is gone.
REFERENCES = frozenset({"FH/202", "F5/104", "FS/102", "F5/165", "F5/814", "F5/097"})
#: Our platform code for a 403 whose ``x-csrf-token`` header says ``Required``.
CSRF_REQUIRED = "csrf_required"

CODES = ErrorCodes(
    "SAP S/4HANA Cloud",
    internal=frozenset({"/IWFND/CM_BEC/076"}),  # the backend could not be reached
    rate_limited=frozenset({"/IWFND/CM_BEC/026"}),
    not_found=frozenset({"/IWBEP/CM_MGW_RT/020"}),
    bad_url=frozenset({"/IWFND/MED/170", "/IWBEP/CM_MGW_RT/021"}),  # no such service / segment: our bug
    hints={
        "duplicate": "SAP S/4HANA already holds a document with this reference. If it is this document, it is "
                     "linked automatically; otherwise renumber the local one.",
        "not_found": "The record is not in SAP S/4HANA (reversed documents stay; a wrong id or fiscal year does "
                     "not). Check the mappings for this connection, then send the document again.",
        "validation": "SAP S/4HANA refused the posting; read its message (and the field it names), then fix the "
                      "document or the mappings (a G/L account blocked for posting, a tax code, a closed period).",
        "auth": "Check the communication arrangement: its communication user and password, or the OAuth client, "
                "then reconnect the connection in the admin.",
    })


def code_and_message(body, status: int) -> tuple[str, str]:
    """The error's code and message (with the first error detail that names a target field)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        text = str(body.get("text") or "").strip() if isinstance(body, dict) else ""
        return "", text or f"HTTP {status}"
    message = error.get("message")
    if isinstance(message, dict):
        message = message.get("value")
    message = str(message or f"HTTP {status}")
    details = ((error.get("innererror") or {}).get("errordetails") or []) if isinstance(error.get("innererror"),
                                                                                       dict) else []
    target = next((str(d.get("target")) for d in details if isinstance(d, dict) and d.get("target")), "")
    return str(error.get("code") or ""), f"{message} ({target})" if target else message


def soap_fault(response: requests.Response) -> tuple[str, str] | None:
    """(faultcode, faultstring) of a SOAP fault body, or None when the body is not one."""
    if b"Envelope" not in response.content[:400]:
        return None
    try:
        root = fromstring(response.content)
    except Exception:  # noqa: BLE001 - not XML after all: classified as the OData body it may be
        return None
    found = {element.tag.rsplit("}", 1)[-1]: (element.text or "").strip() for element in root.iter()}
    if "faultstring" not in found:
        return None
    return found.get("faultcode", ""), found["faultstring"]


_TYPE_ID = re.compile(r"^\s*(\d+)\((\w+)\)\s*$")


def log_code(type_id: str) -> str:
    """A log item's ``TypeID`` ("702(F5)") as the message class/number we classify by ("F5/702")."""
    found = _TYPE_ID.match(type_id or "")
    return f"{found.group(2)}/{found.group(1)}" if found else str(type_id or "")


def from_log(log: dict) -> SyncError:
    """The error of a refused posting: its first error item (severity 3 or more) names the code and message, the
    others are kept in the message."""
    items = [i for i in (log.get("Item") or []) if isinstance(i, dict)]
    errors_ = [i for i in items if str(i.get("SeverityCode") or "") >= "3"] or items
    if not errors_:
        return PermanentError("SAP S/4HANA did not post the journal entry and said nothing why",
                              code="no_document", hint=CODES.hints["validation"], raw=log)
    code = log_code(str(errors_[0].get("TypeID") or ""))
    message = "; ".join(str(i.get("Note") or "").strip() for i in errors_ if i.get("Note"))
    return ValidationFailed(message or "SAP S/4HANA refused the posting", platform_code=code or "log",
                            hint=CODES.hints["validation"], raw=log)


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx answer to an error class."""
    fault = soap_fault(response)
    if fault is not None:
        code, message = fault
        if response.status_code >= 500 and "server" in code.lower():
            return RetryableError(f"SAP S/4HANA's SOAP service failed: {message}", platform_code=code,
                                  http_status=response.status_code, raw=response.text[:2000])
        return ValidationFailed(f"SAP S/4HANA refused the SOAP request: {message}", platform_code=code or "fault",
                                http_status=response.status_code, hint=CODES.hints["validation"],
                                raw=response.text[:2000])
    body = parse_json(response)
    code, message = code_and_message(body, response.status_code)
    if response.status_code == 403 and response.headers.get("x-csrf-token", "").lower() == "required":
        return RetryableError(f"SAP S/4HANA refused the CSRF token: {message}", platform_code=CSRF_REQUIRED,
                              http_status=403, raw=body)
    if response.status_code == 412:
        return ConflictError(f"the record changed in SAP S/4HANA since we read it: {message}",
                             platform_code=code or "412", http_status=412, raw=body,
                             hint="Compare both versions, then send ours anyway or change the local document.")
    if code in REFERENCES:
        return ValidationFailed(message, platform_code=code, http_status=response.status_code,
                                hint=CODES.hints["validation"], raw=body)
    return CODES.classify(response, code, message, body)


def csrf_required(exc: SyncError) -> bool:
    return exc.platform_code == CSRF_REQUIRED
