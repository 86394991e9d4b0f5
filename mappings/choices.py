"""What staff may pick when they write a rule: platform ids per kind, local values per scope.

Platform choices come from the connection's reference data (active accounts and tax codes only; accounts of a
fitting kind when the platform says what each account is for). Local choices come from the ledger of the
connection's organizations. The editor and the CSV import both use these, so they accept the same rules.
"""
from __future__ import annotations

from connectors.base import AccountKind, ReferenceData
from ledger import models as L

from .models import MappingKind, Scope
from .resolve import CANDIDATES, candidates, dimensions_of, needed_on

#: Platform account kinds offered for each kind of rule.
ACCOUNT_KINDS: dict[str, frozenset[str]] = {
    MappingKind.INCOME_ACCOUNT: frozenset({AccountKind.INCOME}),
    MappingKind.DISCOUNT_ACCOUNT: frozenset({AccountKind.INCOME, AccountKind.EXPENSE}),
    MappingKind.DEPOSIT_ACCOUNT: frozenset({AccountKind.DEPOSIT}),
    MappingKind.REFUND_ACCOUNT: frozenset({AccountKind.DEPOSIT}),
    MappingKind.EXPENSE_ACCOUNT: frozenset({AccountKind.EXPENSE}),
    MappingKind.PAID_FROM_ACCOUNT: frozenset({AccountKind.DEPOSIT, AccountKind.CREDIT_CARD}),
    MappingKind.PAYABLE_ACCOUNT: frozenset({AccountKind.PAYABLE}),
}
#: Kinds of rule that may point at any active account (a journal posts wherever the accountant says).
ANY_ACCOUNT = frozenset({MappingKind.JOURNAL_ACCOUNT})

#: How a rule's target is named in messages (a platform dimension's ``target`` for its kinds).
TARGETS = {
    MappingKind.INCOME_ACCOUNT: "income account",
    MappingKind.DISCOUNT_ACCOUNT: "income or expense account",
    MappingKind.DEPOSIT_ACCOUNT: "bank or deposit account",
    MappingKind.TAX_CODE: "tax code",
    MappingKind.REFUND_ACCOUNT: "bank or clearing account",
    MappingKind.EXPENSE_ACCOUNT: "expense account",
    MappingKind.PAID_FROM_ACCOUNT: "bank or credit card account",
    MappingKind.JOURNAL_ACCOUNT: "account",
    MappingKind.PAYABLE_ACCOUNT: "accounts payable account",
}


def kinds_for(platform: str) -> list[str]:
    """The kinds of rule that mean something on ``platform``: every required kind (those of refunds, expenses and
    journals where the platform takes them), then its optional dimensions."""
    return [*(kind for kind in MappingKind.values if needed_on(platform, kind)), *dimensions_of(platform)]


def target(platform: str, kind: str) -> str:
    """How messages name what a ``kind`` rule points at."""
    dimension = dimensions_of(platform).get(kind)
    return dimension.target if dimension else TARGETS.get(kind, kind)


def is_free_text(platform: str, kind: str) -> bool:
    """Dimension values are typed in rather than picked: the platform's lists of them are not part of the fetched
    reference data, so the platform checks them when a document is sent."""
    return kind in dimensions_of(platform)


def free_text_problem(platform: str, kind: str, remote_id: str) -> str:
    """What is wrong with a typed-in target, or ""."""
    dimension = dimensions_of(platform).get(kind)
    return dimension.problem(remote_id) if dimension else ""


def remote_options(kind: str, reference: ReferenceData) -> dict[str, str]:
    """Platform ids a ``kind`` rule may point at, id -> name: active tax codes, or active accounts of a fitting
    kind (every active account when the platform did not say what each is for); none for typed-in kinds."""
    if kind == MappingKind.TAX_CODE:
        return dict(reference.tax_codes)
    if kind in ANY_ACCOUNT:
        return dict(reference.accounts)
    if kind not in ACCOUNT_KINDS:
        return {}
    if not reference.account_kinds:
        return dict(reference.accounts)
    wanted = ACCOUNT_KINDS[kind]
    return {pk: name for pk, name in reference.accounts.items() if reference.account_kinds.get(pk) in wanted}


def remote_label(remote_id: str, name: str) -> str:
    return f"{name} ({remote_id})" if name and name != remote_id else remote_id


def encode(scope: str, value: str) -> str:
    """One select value for a (scope, local value) pair; scope names hold no colon, local values may."""
    return f"{scope}:{value}"


def decode(choice: str) -> tuple[str, str]:
    scope, _, value = choice.partition(":")
    return scope, value


def local_options(platform: str, kind: str, organization_ids) -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped "applies to" choices for a ``kind`` rule, most general first: ``[(group, [(value, label)])]``.

    Only the scopes resolution consults for ``kind`` are offered; names rather than keys, so a mapping set
    exported as CSV means the same in another environment.
    """
    orgs = {"organization_id__in": list(organization_ids)}
    values = {
        Scope.DEFAULT: lambda: [""],
        Scope.LINE_KIND: lambda: ["discount"] if kind == MappingKind.DISCOUNT_ACCOUNT
        else list(L.LineKind.values) if kind not in CANDIDATES  # a dimension: discount lines too
        else [k for k in L.LineKind.values if k != "discount"],
        Scope.CATEGORY: lambda: _names(L.ItemCategory, orgs),
        Scope.ITEM: lambda: _names(L.Item, orgs),
        Scope.TAX_RATE: lambda: _names(L.TaxRate, orgs),
        Scope.PAYMENT_METHOD: lambda: list(L.RefundMethod.values) if kind == MappingKind.REFUND_ACCOUNT
        else list(L.PaymentMethod.values),
        Scope.COST_KIND: lambda: list(L.CostKind.values),
        Scope.ACCOUNT_CODE: lambda: sorted(set(L.JournalLine.objects.filter(
            entry__organization_id__in=list(organization_ids)).values_list("account_code", flat=True))),
    }
    groups = []
    for scope in reversed(candidates(platform, kind)):
        options = [(encode(scope, v), local_label(scope, v)) for v in values[scope]()]
        if options:
            groups.append(("Default" if scope == Scope.DEFAULT else Scope(scope).label, options))
    return groups


def local_label(scope: str, value: str) -> str:
    if scope == Scope.DEFAULT:
        return "Default (anything not matched by a rule below)"
    labels = {Scope.LINE_KIND: dict(L.LineKind.choices), Scope.PAYMENT_METHOD: dict(L.PaymentMethod.choices),
              Scope.COST_KIND: dict(L.CostKind.choices)}
    if scope in labels:
        return labels[scope].get(value, value)
    name = key_name(scope, value)
    return f"{name} ({value})" if name else value


def key_name(scope: str, value: str) -> str | None:
    """The name of the ledger item or tax rate a key such as ``ledger.item:12`` stands for, if it is one."""
    model = {Scope.ITEM: L.Item, Scope.TAX_RATE: L.TaxRate}.get(scope)
    prefix = f"{model._meta.label_lower}:" if model else ""
    if not prefix or not value.startswith(prefix) or not value[len(prefix):].isdigit():
        return None
    return model.objects.filter(pk=value[len(prefix):]).values_list("name", flat=True).first()


def _names(model, filters: dict) -> list[str]:
    return sorted(set(model.objects.filter(**filters).values_list("name", flat=True)), key=str.casefold)

