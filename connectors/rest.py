"""What a REST JSON platform's connector would otherwise write again: request bodies without empty fields, exact
money and times from JSON, a content hash that ignores how a number is spelt, reference data from account and tax
lists, and reading documents that may have been deleted. Platform facts (field names, account types) are passed
in; nothing here names a platform."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from ledger.money import quantize
from .base import AccountKind, DocumentTotals, ReferenceData, Refused
from .errors import DuplicateError, RemoteNotFound, SyncError, ValidationFailed


def clean(body: dict) -> dict:
    """A request body without the fields that are None or empty text (a platform then keeps its own value)."""
    return {k: v for k, v in body.items() if v not in (None, "")}


def iso_date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def money(value: Any) -> Decimal | None:
    """An amount from a JSON answer (Decimal, int or text) to the cent; None when absent."""
    return None if value in (None, "") else quantize(Decimal(str(value)))


def parse_time(value: str) -> dt.datetime:
    """An ISO 8601 time as platforms write it (``2013-11-18T02:02:51-0800``, ``...+00:00``, ``...Z``) as an aware
    datetime; UTC when it names no offset."""
    when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def plain(value: Any) -> str:
    """One spelling per value, so a number answered as 100, 100.0 or "100.00" hashes alike."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return format(Decimal(str(value)).normalize(), "f")
    if isinstance(value, str):
        try:
            return format(Decimal(value).normalize(), "f") if value.strip() else ""
        except ArithmeticError:
            return value.strip()
    return "" if value is None else str(value)


def content_hash(entity: str, body: dict, fields: Iterable[str], line_fields: Iterable[str] = (),
                 lines: str = "line_items", extra: Iterable = ()) -> str:
    """SHA-256 of the editable content of a record: ``fields`` of the body, then ``line_fields`` of each of its
    ``lines`` in order, every value in its :func:`plain` spelling, then ``extra`` (already plain; e.g. a payment's
    applications in a stable order). See ``RemoteResult.fingerprint``."""
    content: list = [plain(body.get(f)) for f in fields]
    content += [[plain(line.get(f)) for f in line_fields] for line in body.get(lines) or []]
    content += list(extra)
    return hashlib.sha256(json.dumps([entity, content]).encode()).hexdigest()


def reference_data(accounts: Iterable[dict], taxes: Iterable[dict], kind: Callable[[dict], str], *,
                   account_id: str, account_name: str, tax_id: str, tax_name: str, currencies: Iterable[str] = (),
                   home_currency: str = "") -> ReferenceData:
    """Reference data from the platform's active accounts and taxes (its field names given): each account's
    ``AccountKind`` by ``kind(account)``, and the first receivable and tax-payable accounts as control accounts."""
    accounts = list(accounts)
    kinds = {str(a[account_id]): kind(a) for a in accounts}
    control: dict[str, tuple[str, str]] = {}
    for a in accounts:
        if kinds[str(a[account_id])] in (AccountKind.RECEIVABLE, AccountKind.TAX_PAYABLE):
            control.setdefault(kinds[str(a[account_id])], (str(a[account_id]), a[account_name]))
    return ReferenceData(accounts={str(a[account_id]): a[account_name] for a in accounts},
                         tax_codes={str(x[tax_id]): x[tax_name] for x in taxes},
                         currencies=frozenset(currencies) | ({home_currency} if home_currency else set()),
                         home_currency=home_currency, account_kinds=kinds, control_accounts=control)


def read_totals(entity: str, remote_ids: Iterable[str], read: Callable[[str], DocumentTotals]) -> list[DocumentTotals]:
    """``read`` each document for reconciliation; one the platform no longer has is reported "deleted"."""
    found = []
    for remote_id in remote_ids:
        try:
            found.append(read(remote_id))
        except RemoteNotFound:
            found.append(DocumentTotals(str(remote_id), entity, status="deleted"))
    return found


def refused_by_words(exc: SyncError, words: Iterable[tuple[re.Pattern, frozenset[str]]],
                     gone: re.Pattern) -> list[Refused]:
    """The references a refusal names, for a platform whose messages name the kind of record ("The account ...
    does not exist") but not its id: when the message says the reference is gone (``gone``), one ``Refused``
    per kind word found (pattern -> the rule kinds it could stand for), ``remote_id`` None, definite only for a
    not-found error. A duplicate or any other error names none."""
    if not isinstance(exc, (ValidationFailed, RemoteNotFound)) or isinstance(exc, DuplicateError):
        return []
    message = exc.message or ""
    if not gone.search(message):
        return []
    return [Refused(kinds, None, definite=isinstance(exc, RemoteNotFound))
            for pattern, kinds in words if pattern.search(message)]
