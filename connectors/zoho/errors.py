"""The one place that turns Zoho Books error answers into our error classes, with a plain-language hint.

Zoho answers an error with an HTTP status and a body ``{"code": <int>, "message": "..."}``. Its published list
of codes is short (1000 internal error, 1002 "... does not exist"); the other codes below come from Zoho's API
pages and from answers seen in public integrations, and are marked as such in docs/connectors/zoho.md. Where a
code is unknown the HTTP status and the message decide: a message saying a name or number "already exists" is a
duplicate whatever its code.
"""
from __future__ import annotations

import re

import requests

from ..base import Refused, RuleKind
from ..errors import SyncError
from ..http import ErrorCodes, parse_json
from ..rest import refused_by_words

CODES = ErrorCodes(
    "Zoho Books",
    internal=frozenset({"1000"}),  # "Internal error" (Zoho's errors page): Zoho's side, try again later
    duplicate=frozenset({"1001", "3062"}),  # "... already exists": a number (1001, guessed) or a name (3062, seen)
    not_found=frozenset({"1002"}),  # "Invoice does not exist." (Zoho's errors page)
    auth=frozenset({"57"}),  # "You are not authorized to perform this operation" (401, bad or unscoped token)
    bad_url=frozenset({"5"}),  # "Invalid URL Passed": a path Zoho does not serve (our bug or the edition's)
    rate_limited=frozenset({"44", "45"}),  # too many requests (third-party guides; Zoho documents only HTTP 429)
    wait=60.0,  # Zoho counts per minute and sends no Retry-After that we know of
    hints={
        "duplicate": "Zoho Books already has a record with this number or name. If it is this document, it is "
                     "linked automatically; otherwise renumber or rename the local one.",
        "not_found": "The record was deleted in Zoho Books, or a mapped account, tax or item no longer exists "
                     "there. Check the mappings for this connection, then send the document again.",
        "validation": "Zoho Books refused the document; read its message, then fix the document or the mappings.",
        "auth": "Reconnect the connection in the admin (Connections, Reconnect), and check the organization id.",
    })


def classify(response: requests.Response) -> SyncError:
    """Map one non-2xx Zoho Books response to an error class."""
    body = parse_json(response)
    code, message = _code_and_message(body, response.status_code)
    return CODES.classify(response, code, message, body)


def _code_and_message(body, status: int) -> tuple[str, str]:
    if not isinstance(body, dict):
        return "", f"HTTP {status}"
    code = body.get("code")
    message = str(body.get("message") or body.get("text") or f"HTTP {status}")
    return ("" if code is None else str(code)), message


# -- references the platform refused (mapping drift) --------------------------------------------------------------
#: Words in a refusal's message -> the kinds of rule that could have produced the reference.
_REFERENCE_WORDS = ((re.compile(r"\baccount\b", re.I), frozenset({RuleKind.INCOME_ACCOUNT, RuleKind.DEPOSIT_ACCOUNT})),
                    (re.compile(r"\btax\b", re.I), frozenset({RuleKind.TAX_CODE})))
_INACTIVE = re.compile(r"inactive|does not exist|deleted|not found|invalid", re.I)


def refused_references(exc: SyncError) -> list[Refused]:
    """The account or tax references a refusal names. Zoho's messages name the kind of record ("The account ...
    does not exist", "Invalid value passed for tax_id") but rarely its id, so ``remote_id`` stays None and the
    kinds are those the word could stand for."""
    return refused_by_words(exc, _REFERENCE_WORDS, _INACTIVE)
