"""The one place that turns S/4HANA OData answers into our error classes, with a plain-language hint.

SAP Gateway answers an OData V2 error with ``{"error": {"code": "F5/702", "message": {"lang": "en", "value":
"..."}, "innererror": {"errordetails": [{"code", "message", "target", "severity"}...]}}}``; the ``code`` is the
message class and number (``F5/702`` "Balance in transaction currency"), the details name each refused field.
Three answers are about the protocol, not the document:

- 403 with the header ``x-csrf-token: Required`` (body "CSRF token validation failed"): the CSRF token expired or
  its session cookie was lost; the client fetches a new one and sends the request again once (``CSRF_REQUIRED``);
- 412 "Precondition failed": the ``If-Match`` ETag is stale, someone changed the record: a ``ConflictError``;
- 428 "Precondition required": a change was sent without ``If-Match`` (our bug): a validation error.
The codes below and their meaning are partly guessed (docs/connectors/s4hana.md lists which).
"""
from __future__ import annotations

import requests

from ..errors import ConflictError, RetryableError, SyncError, ValidationFailed
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


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx answer to an error class."""
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
