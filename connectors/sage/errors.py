"""The one place that turns Sage Business Cloud Accounting error answers into our error classes.

Sage answers an error with an HTTP status (developer.sage.com, "Response Codes": 401, 404, 422, 429, 500, 503) and
a list of messages ``[{"$severity": "error", "$dataCode": "RecordInvalid", "$message": "...", "$source": "..."}]``
("Frequently Raised Errors" shows this shape with ``AuthorizationFailure``). ``$source`` names the refused field
(``invoice_lines.0.ledger_account_id``), which is how a refused reference is told apart. Codes other than
``AuthorizationFailure`` are not listed by Sage: the HTTP status decides, and the codes below are the sandbox's
(guesses, marked in docs/connectors/sage.md).
"""
from __future__ import annotations

import re

import requests

from ..base import Refused, RuleKind
from ..errors import RemoteNotFound, SyncError, ValidationFailed
from ..http import ErrorCodes, parse_json

CODES = ErrorCodes(
    "Sage Business Cloud Accounting",
    rate_limited=frozenset({"TooManyRequests"}),
    internal=frozenset({"InternalServerError", "ServiceUnavailable"}),
    auth=frozenset({"AuthorizationFailure", "AccessDenied"}),  # bad token, no subscription, no access to business
    not_found=frozenset({"RecordNotFound"}),
    wait=60.0,  # Sage counts per minute
    hints={
        "duplicate": "Sage already holds a document with this reference. If it is this document it is linked "
                     "automatically; otherwise renumber the local one.",
        "not_found": "The record was deleted in Sage, or a mapped ledger account, bank account or tax rate no "
                     "longer exists there. Check the connection's mappings, then send the document again.",
        "validation": "Sage refused the document; read its message (the field it names comes first), then fix the "
                      "document or the mappings.",
        "auth": "Reconnect the connection in the admin (Connections, Reconnect); check the business id and that "
                "the Sage subscription is active.",
    })


def first_error(body) -> dict:
    """The first ``{"$dataCode", "$message", "$source"}`` of an error answer (a list, or one object)."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return body[0]
    return body if isinstance(body, dict) else {}


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx Sage response to an error class; the message leads with the field Sage names."""
    body = parse_json(response)
    error = first_error(body)
    code = str(error.get("$dataCode") or "")
    message = str(error.get("$message") or error.get("text") or f"HTTP {response.status_code}")
    if error.get("$source"):
        message = f"{error['$source']}: {message}"
    return CODES.classify(response, code, message, body)


# -- references the platform refused (mapping drift) --------------------------------------------------------------
#: The field Sage names in ``$source`` -> the kinds of rule that could have produced it.
_SOURCES = ((re.compile(r"bank_account"), frozenset({RuleKind.DEPOSIT_ACCOUNT})),
            (re.compile(r"ledger_account"), RuleKind.SALES_ACCOUNTS),
            (re.compile(r"tax_rate"), frozenset({RuleKind.TAX_CODE})))
_GONE = re.compile(r"not a valid|not included|can't be blank|not found|invalid", re.I)


def refused_references(exc: SyncError) -> list[Refused]:
    """The ledger account, bank account or tax rate a refusal names in ``$source``. Sage names the field, not the
    id, so ``remote_id`` stays None; definite when the reference is not valid or out of the chart."""
    if not isinstance(exc, (ValidationFailed, RemoteNotFound)):
        return []
    error = first_error(exc.raw)
    source, message = str(error.get("$source") or ""), str(error.get("$message") or "")
    if not source or not _GONE.search(message) or "blank" in message:
        return []
    return [Refused(kinds, None, definite=True) for pattern, kinds in _SOURCES if pattern.search(source)][:1]
