"""The one place that turns FreeAgent error answers into our error classes, with a plain-language hint.

FreeAgent answers an error with an HTTP status and a body listing messages, ``{"errors": [{"message": "..."}]}``
(seen on 422 validation refusals; some answers carry ``{"errors": {"error": {"message": ...}}}``, both are read).
It publishes no error codes (its API forum: "we cannot currently provide a list of all possible error messages"),
so the status and the message decide; the codes below are our names for the messages we recognise.
"""
from __future__ import annotations

import re

import requests

from ..base import Refused, RuleKind
from ..errors import SyncError
from ..http import ErrorCodes, parse_json
from ..rest import refused_by_words

#: Message patterns -> our code for them (FreeAgent has none of its own).
MESSAGE_CODES = (
    (re.compile(r"has already been taken|already exists", re.I), "taken"),
    (re.compile(r"not found|does not exist", re.I), "not_found"),
    (re.compile(r"invalid nominal code|category", re.I), "invalid_category"),
    (re.compile(r"access token|not authori[sz]ed|api access is disabled", re.I), "unauthorised"),
    (re.compile(r"not allowed to access|locked", re.I), "forbidden"),
    (re.compile(r"rate limit|too many requests|must not exceed", re.I), "rate_limited"),
)

CODES = ErrorCodes(
    "FreeAgent",
    duplicate=frozenset({"taken"}),
    not_found=frozenset({"not_found"}),
    auth=frozenset({"unauthorised"}),
    rate_limited=frozenset({"rate_limited"}),
    wait=60.0,  # the limits reset at the top of each minute: a minute is the longest wait without Retry-After
    hints={
        "duplicate": "FreeAgent already has a document with this reference. If it is this document, it is linked "
                     "automatically; otherwise renumber the local one.",
        "not_found": "The record was deleted in FreeAgent, or a mapped category or bank account no longer exists "
                     "there. Check the mappings for this connection, then send the document again.",
        "validation": "FreeAgent refused the document; read its message, then fix the document or the mappings.",
        "auth": "Reconnect the connection in the admin (Connections, Reconnect); the FreeAgent user needs the "
                "Banking access level (6) or above for payments.",
    })


def messages(body) -> list[str]:
    """Every message of a FreeAgent error body, in order."""
    if not isinstance(body, dict):
        return []
    errors = body.get("errors")
    if isinstance(errors, dict):
        errors = [errors.get("error", errors)]
    if isinstance(errors, list):
        return [str(e.get("message")) if isinstance(e, dict) else str(e) for e in errors if e]
    if body.get("message") or body.get("error"):
        return [str(body.get("message") or body.get("error"))]
    return []


def code_for(message: str) -> str:
    return next((code for pattern, code in MESSAGE_CODES if pattern.search(message)), "")


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx FreeAgent response to an error class. 403 on a locked period or a missing access level
    is a refusal staff must act on (not a token problem): it is a validation error, not an auth error."""
    body = parse_json(response)
    said = messages(body)
    message = "; ".join(said) or str(body.get("text") or "") or f"HTTP {response.status_code}"
    code = code_for(message)
    if response.status_code == 403 and code != "unauthorised":
        return CODES.refusal(code or "forbidden", message, 403, body)
    return CODES.classify(response, code, message, body)


# -- references the platform refused (mapping drift) --------------------------------------------------------------
_REFERENCE_WORDS = ((re.compile(r"\b(category|nominal code|bank account)\b", re.I),
                     frozenset({RuleKind.INCOME_ACCOUNT, RuleKind.DEPOSIT_ACCOUNT})),
                    (re.compile(r"\bsales tax\b", re.I), frozenset({RuleKind.TAX_CODE})))
_GONE = re.compile(r"invalid|not found|does not exist|deleted|hidden", re.I)


def refused_references(exc: SyncError) -> list[Refused]:
    """The category, bank account or tax references a refusal names ("Invalid nominal code", "Bank account not
    found"); FreeAgent's messages do not name the id, so ``remote_id`` stays None."""
    return refused_by_words(exc, _REFERENCE_WORDS, _GONE)
