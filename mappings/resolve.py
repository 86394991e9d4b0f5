"""Resolve a document's mappings, or explain precisely what is missing.

``resolve(connection, snapshot, refs)`` returns a ``connectors.documents.Mapping`` for the connector, or raises
``ConfigurationError`` listing every missing piece (document, line and what to map) so staff fix all at once.
"""
from __future__ import annotations

from connectors.documents import (CustomerSnapshot, ItemSnapshot, Mapping, PaymentSnapshot,
                                  SalesDocumentSnapshot, Snapshot)
from connectors.errors import ConfigurationError

from .models import Mapping as Rule
from .models import MappingKind, Scope


class RuleBook:
    """All rules of one connection for one organization, loaded once, looked up most-specific first."""

    def __init__(self, connection, organization_id: int | None) -> None:
        rules = Rule.objects.filter(connection=connection).filter(
            models_q_org(organization_id)).values_list("organization_id", "kind", "scope", "local_value", "remote_id")
        self._rules: dict[tuple, str] = {}
        # Connection-wide rules first so organization-specific ones overwrite them.
        for org, kind, scope, value, remote in sorted(rules, key=lambda r: r[0] is not None):
            self._rules[(kind, scope, value)] = remote

    def lookup(self, kind: str, *candidates: tuple[str, str | None]) -> str | None:
        for scope, value in candidates:
            if value is not None and (kind, scope, value) in self._rules:
                return self._rules[(kind, scope, value)]
        return self._rules.get((kind, Scope.DEFAULT, ""))


def models_q_org(organization_id):
    from django.db.models import Q

    return Q(organization__isnull=True) | Q(organization_id=organization_id)


def resolve(connection, doc: Snapshot, refs: dict[str, str] | None = None) -> Mapping:
    book = RuleBook(connection, doc.organization_id)
    problems: list[str] = []
    refs = dict(refs or {})
    if isinstance(doc, CustomerSnapshot):
        return Mapping(refs=refs)
    if isinstance(doc, ItemSnapshot):
        account = book.lookup(MappingKind.INCOME_ACCOUNT, (Scope.ITEM, doc.key), (Scope.ITEM, doc.name),
                              (Scope.CATEGORY, doc.category),
                              (Scope.LINE_KIND, doc.kind))
        if not account:
            problems.append(f"item “{doc.name}”: no income account mapped for its category "
                            f"“{doc.category or '-'}”, its kind “{doc.kind}”, or as the default")
        _raise(problems, doc)
        return Mapping(item_account=account, refs=refs)
    if isinstance(doc, PaymentSnapshot):
        deposit = book.lookup(MappingKind.DEPOSIT_ACCOUNT, (Scope.PAYMENT_METHOD, doc.method))
        if not deposit:
            problems.append(f"payment {doc.number}: no deposit account mapped for method “{doc.method}” "
                            "or as the default")
        _raise(problems, doc)
        return Mapping(deposit_account=deposit, refs=refs)
    assert isinstance(doc, SalesDocumentSnapshot)
    accounts: list[str | None] = []
    tax_codes: dict[str, str] = {}
    for n, line in enumerate(doc.lines, start=1):
        label = f"line {n} ({line.description or line.item_name or line.kind})"
        if line.kind == "discount":
            account = book.lookup(MappingKind.DISCOUNT_ACCOUNT, (Scope.LINE_KIND, line.kind))
        else:
            account = book.lookup(MappingKind.INCOME_ACCOUNT, (Scope.ITEM, line.item_key),
                                  (Scope.ITEM, line.item_name or None), (Scope.CATEGORY, line.category or None), (Scope.LINE_KIND, line.kind))
        if not account and (line.kind == "discount" or not line.item_key):
            what = "discount account" if line.kind == "discount" else "income account"
            problems.append(f"{label}: no {what} mapped for line kind “{line.kind}” or as the default")
        accounts.append(account)
        if line.tax_rate_key:
            code = book.lookup(MappingKind.TAX_CODE, (Scope.TAX_RATE, line.tax_rate_key),
                               (Scope.TAX_RATE, line.tax_rate_name))
            if code:
                tax_codes[line.tax_rate_key] = code
            else:
                problems.append(f"{label}: tax rate “{line.tax_rate_name}” has no platform tax code mapped")
    _raise(problems, doc)
    return Mapping(line_accounts=tuple(accounts), tax_codes=tax_codes, refs=refs)


def _raise(problems: list[str], doc: Snapshot) -> None:
    if problems:
        label = f"{doc.entity.replace('_', ' ')} {getattr(doc, 'number', '') or getattr(doc, 'name', '')}".strip()
        raise ConfigurationError(
            f"{label}: " + "; ".join(dict.fromkeys(problems)),
            hint="Add the missing mappings (Admin → Mappings) for this connection, then retry the entry.")
