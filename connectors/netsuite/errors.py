"""The one place that turns NetSuite REST error answers into our error classes, with a plain-language hint.

NetSuite answers an error with an HTTP status and an RFC 9457-style body: ``type``, ``title``, ``status`` and
``o:errorDetails``, a list of ``{"detail", "o:errorCode", "o:errorPath"?}``. The codes below are those NetSuite's
help lists for REST web services ("Error Codes" / "REST Web Services Error Messages") and those seen in public
integrations; each is marked in docs/connectors/netsuite.md. The account's concurrency limit answers 429 and is
shared with every other integration of the account, so it is a rate limit (wait, then retry), never a refusal.
"""
from __future__ import annotations

import re

import requests

from ..base import Refused, RuleKind
from ..errors import DuplicateError, SyncError
from ..http import ErrorCodes, parse_json
from ..rest import refused_by_words

#: A repeated ``X-NetSuite-Idempotency-Key`` (NetSuite's help, "Sending an Asynchronous Request Using an
#: Idempotency Key"): 400 with the first request's ``Location``.
IDEMPOTENCY = "IDEMPOTENCY_ERROR"

CODES = ErrorCodes(
    "NetSuite",
    # 429: the account's concurrent-request limit (shared by REST, SOAP and RESTlets); a request over it is blocked
    rate_limited=frozenset({"CONCURRENCY_LIMIT_EXCEEDED", "REQUEST_LIMIT_EXCEEDED", "SSS_REQUEST_LIMIT_EXCEEDED"}),
    internal=frozenset({"UNEXPECTED_ERROR", "SSS_REQUEST_TIME_EXCEEDED"}),
    auth=frozenset({"INVALID_LOGIN", "INVALID_LOGIN_ATTEMPT", "INSUFFICIENT_PERMISSION", "USER_DISABLED"}),
    duplicate=frozenset({"DUP_RCRD", "DUP_ENTITY"}),  # guessed for REST (these are SOAP's names)
    not_found=frozenset({"NONEXISTENT_ID", "RCRD_DSNT_EXIST"}),
    bad_url=frozenset({"INVALID_URL", "INVALID_RCRD_TYPE", "INVALID_REQUEST"}),
    wait=5.0,  # a concurrency refusal clears as soon as another request of the account ends; no Retry-After
    hints={
        "duplicate": "NetSuite already has a record with this external ID or name. If it is this document, it is "
                     "linked automatically; otherwise change the local one.",
        "not_found": "The record was deleted in NetSuite, or a mapped account, item or customer no longer exists "
                     "there. Check the mappings for this connection, then send the document again.",
        "validation": "NetSuite refused the document; read its message (and the field it names), then fix the "
                      "document or the mappings.",
        "auth": "Check the connection's token (TBA) or reconnect it (OAuth 2.0), and the role's permissions for "
                "REST web services.",
    })


def details(body) -> list[dict]:
    if not isinstance(body, dict) or not isinstance(body.get("o:errorDetails"), list):
        return []
    return [d for d in body["o:errorDetails"] if isinstance(d, dict)]


def code_and_message(body, status: int) -> tuple[str, str]:
    """The first error detail's ``o:errorCode`` and its ``detail`` (with ``o:errorPath`` when given)."""
    found = details(body)
    if not found:
        title = body.get("title") if isinstance(body, dict) else None
        return "", str(title or f"HTTP {status}")
    first = found[0]
    message = str(first.get("detail") or f"HTTP {status}")
    if first.get("o:errorPath"):
        message = f"{message} (field {first['o:errorPath']})"
    return str(first.get("o:errorCode") or ""), message


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx NetSuite REST response to an error class."""
    body = parse_json(response)
    code, message = code_and_message(body, response.status_code)
    if code == IDEMPOTENCY:  # the key was used before: where its first request's result is, for the caller
        body = {**body, "location": response.headers.get("Location", "")}
        return DuplicateError(message, platform_code=code, http_status=response.status_code,
                              hint="This request was sent before with the same key; its first result is kept.",
                              raw=body)
    return CODES.classify(response, code, message, body)


_REFERENCE_WORDS = ((re.compile(r"^(?!.*\(field (expense|line)\.items).*\baccount\b", re.I | re.S),
                     frozenset({RuleKind.INCOME_ACCOUNT, RuleKind.DEPOSIT_ACCOUNT, RuleKind.REFUND_ACCOUNT,
                                RuleKind.PAID_FROM_ACCOUNT})),
                    # the line sublists of a check (our expense) and of a journal entry, by their error path
                    (re.compile(r"\(field expense\.items\[\d+\]\.account\)"), frozenset({RuleKind.EXPENSE_ACCOUNT})),
                    (re.compile(r"\(field line\.items\[\d+\]\.account\)"), frozenset({RuleKind.JOURNAL_ACCOUNT})),
                    (re.compile(r"\btax", re.I), frozenset({RuleKind.TAX_CODE})))
_GONE = re.compile(r"invalid .* reference key|does not exist|inactive|not found", re.I)


def refused_references(exc: SyncError) -> list[Refused]:
    """The account or tax references a refusal names ("Invalid account reference key 54."): the kind from the
    word, or from the error path for an expense or journal line's account, the id not taken from the message
    (``remote_id`` None)."""
    return refused_by_words(exc, _REFERENCE_WORDS, _GONE)
