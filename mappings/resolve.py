"""Resolve a document's mappings, or explain precisely what is missing.

``resolve(connection, snapshot, refs)`` returns a ``connectors.documents.Mapping`` for the connector, or raises
``ConfigurationError`` listing every missing piece (document, line and what to map) so staff fix all at once.
``explain(connection, snapshot)`` is the same decision with its reasons: per line, the rules tried most specific
first and the one that won. Both use one precedence, written down once in ``CANDIDATES`` and ``RuleBook``.

Precedence: for each candidate in order (item, category, line kind, ..., then the default), an organization's
own rule wins over the connection-wide rule for that same candidate; the first candidate with a rule wins.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Q

from connectors import registry
from connectors.base import Dimension
from connectors.documents import (BillPaymentSnapshot, BillSnapshot, CustomerSnapshot, Entity, ExpenseSnapshot,
                                  ItemSnapshot, JournalSnapshot, LineSnapshot, Mapping, PaymentSnapshot,
                                  RefundSnapshot, SalesDocumentSnapshot, Snapshot)
from connectors.errors import ConfigurationError

from .models import Mapping as Rule
from .models import MappingKind, Scope

#: The scopes resolution consults for each required kind, most specific first (the default is always tried
#: last). A rule of another scope would never be used; the editor and the CSV import refuse to create one.
CANDIDATES: dict[str, tuple[str, ...]] = {
    MappingKind.INCOME_ACCOUNT: (Scope.ITEM, Scope.CATEGORY, Scope.LINE_KIND, Scope.DEFAULT),
    MappingKind.DISCOUNT_ACCOUNT: (Scope.LINE_KIND, Scope.DEFAULT),
    MappingKind.DEPOSIT_ACCOUNT: (Scope.PAYMENT_METHOD, Scope.DEFAULT),
    MappingKind.TAX_CODE: (Scope.TAX_RATE, Scope.DEFAULT),
    MappingKind.REFUND_ACCOUNT: (Scope.PAYMENT_METHOD, Scope.DEFAULT),
    MappingKind.EXPENSE_ACCOUNT: (Scope.COST_KIND, Scope.DEFAULT),
    MappingKind.PAID_FROM_ACCOUNT: (Scope.PAYMENT_METHOD, Scope.DEFAULT),
    MappingKind.JOURNAL_ACCOUNT: (Scope.ACCOUNT_CODE,),  # no default: a journal posts to the accounts it names
    MappingKind.PAYABLE_ACCOUNT: (Scope.DEFAULT,),  # optional: without one the platform's own AP account is used
}
#: Kinds of rule only the documents of some entities need: offered only on platforms that take one of them.
ENTITY_KINDS: dict[str, tuple[str, ...]] = {
    MappingKind.REFUND_ACCOUNT: (Entity.REFUND,),
    MappingKind.EXPENSE_ACCOUNT: (Entity.EXPENSE, Entity.BILL),
    MappingKind.PAID_FROM_ACCOUNT: (Entity.EXPENSE, Entity.BILL_PAYMENT),
    MappingKind.JOURNAL_ACCOUNT: (Entity.JOURNAL,),
    MappingKind.PAYABLE_ACCOUNT: (Entity.BILL,),
}
#: A platform's optional dimensions (``connectors.base.Dimension``): without a rule nothing is sent and nothing
#: is missing. Per-line ones go by line like income accounts (discount lines by their line kind ``discount``);
#: per-document ones take only the default (an organization's own first).
LINE_DIMENSION_SCOPES = (Scope.ITEM, Scope.CATEGORY, Scope.LINE_KIND, Scope.DEFAULT)


def dimensions_of(platform: str) -> dict[str, Dimension]:
    """The optional dimensions ``platform``'s connector declares, by kind (none for an unknown platform)."""
    try:
        return {d.kind: d for d in registry.get(platform).dimensions}
    except LookupError:
        return {}


def candidates(platform: str, kind: str) -> tuple[str, ...]:
    """The scopes resolution consults for ``kind`` on ``platform``, most specific first (empty: unknown kind)."""
    if kind in CANDIDATES:
        return CANDIDATES[kind]
    dimension = dimensions_of(platform).get(kind)
    if dimension is None:
        return ()
    return LINE_DIMENSION_SCOPES if dimension.per_line else (Scope.DEFAULT,)


class RuleRef(NamedTuple):
    """One stored rule, as resolution saw it."""

    pk: int
    organization_id: int | None
    kind: str
    scope: str
    local_value: str
    remote_id: str
    remote_name: str
    #: When the platform stopped offering ``remote_id`` (see ``accounting_sync.policies.drift``); a stale rule still
    #: wins (falling back to a more general rule would post to an account nobody chose) and preflight stops the
    #: document.
    stale_since: dt.datetime | None = None
    stale_reason: str = ""


def needed_on(platform: str, kind: str) -> bool:
    """False for a kind of rule only an entity ``platform`` does not take needs (a refund account on a platform
    without refunds)."""
    entities = ENTITY_KINDS.get(kind)
    if entities is None:
        return True
    try:
        return any(entity in registry.get(platform).capabilities.entities for entity in entities)
    except LookupError:
        return False


def describe(scope: str, value: str) -> str:
    """How staff read a candidate: ``category “Pharmacy”``, ``default``."""
    if scope == Scope.DEFAULT:
        return "default"
    return f"{Scope(scope).label.lower()} “{value}”"


@dataclass(frozen=True)
class Decision:
    """Which rule gave one mapped value, the candidates tried (most specific first), and what is missing."""

    kind: str
    tried: tuple[tuple[str, str], ...]
    rule: RuleRef | None = None
    missing: str = ""  # a problem staff must fix; empty when a rule won or none is needed

    @property
    def remote_id(self) -> str | None:
        return self.rule.remote_id if self.rule else None

    @property
    def why(self) -> str:
        if not self.rule:
            return "no rule matched " + ", ".join(describe(*c) for c in self.tried)
        where = "this organization's rule" if self.rule.organization_id else "connection-wide rule"
        return f"{describe(self.rule.scope, self.rule.local_value)} ({where})"


@dataclass(frozen=True)
class LineDecision:
    number: int  # 1-based, as staff count lines
    line: LineSnapshot
    account: Decision
    tax: Decision | None  # None when the line has no tax rate
    #: Decisions of the platform's optional per-line dimensions that found a rule.
    dimensions: tuple[Decision, ...] = ()

    def dimension(self, kind: str) -> Decision | None:
        return next((d for d in self.dimensions if d.kind == kind), None)

    @property
    def label(self) -> str:
        return line_label(self.number, self.line)


def line_label(number: int, line: LineSnapshot) -> str:
    """``line 2 (Return label)``: the description, else what the line is (any kind of document's line)."""
    what = (line.description or getattr(line, "item_name", "") or getattr(line, "kind", "")
            or getattr(line, "cost_kind", "") or f"account {getattr(line, 'account_code', '')}")
    return f"line {number} ({what})"


@dataclass(frozen=True)
class Explanation:
    """Everything resolution decided for one document."""

    document: Snapshot
    lines: tuple[LineDecision, ...] = ()  # invoices, credit notes and expenses
    #: An item's income account, a payment's deposit account, a refund's refund account, an expense's or a bill
    #: payment's paid-from account, a bill's accounts-payable account (optional: it may have no rule).
    account: Decision | None = None
    #: Decisions of the platform's optional per-document dimensions that found a rule (invoices, credit notes).
    dimensions: tuple[Decision, ...] = ()

    def dimension(self, kind: str) -> Decision | None:
        return next((d for d in self.dimensions if d.kind == kind), None)

    @property
    def problems(self) -> list[str]:
        decisions = [self.account] + [d for line in self.lines for d in (line.account, line.tax)]
        return list(dict.fromkeys(d.missing for d in decisions if d is not None and d.missing))


class RuleBook:
    """All rules of one connection for one organization, loaded once, looked up most-specific first."""

    def __init__(self, connection, organization_id: int | None) -> None:
        rows = Rule.objects.filter(connection=connection).filter(
            Q(organization__isnull=True) | Q(organization_id=organization_id)).values_list(*RuleRef._fields)
        self._rules: dict[tuple[str, str, str], RuleRef] = {}
        # Connection-wide rules first so organization-specific ones overwrite them.
        for rule in sorted(map(RuleRef._make, rows), key=lambda r: r.organization_id is not None):
            self._rules[(rule.kind, rule.scope, rule.local_value)] = rule

    def decide(self, kind: str, *candidates: tuple[str, str | None], default: bool = True) -> Decision:
        """The first candidate with a rule, then the default (unless ``default`` is False); empty or None values
        are not candidates."""
        tried = tuple((scope, value) for scope, value in candidates if value) + (((Scope.DEFAULT, ""),) if default
                                                                                  else ())
        for scope, value in tried:
            rule = self._rules.get((kind, scope, value))
            if rule:
                return Decision(kind, tried, rule)
        return Decision(kind, tried)

    def lookup(self, kind: str, *candidates: tuple[str, str | None]) -> str | None:
        return self.decide(kind, *candidates).remote_id


#: Rule books loaded inside ``rules_held()``, by (connection, organization); None outside it.
_held: contextvars.ContextVar[dict | None] = contextvars.ContextVar("mappings_rules_held", default=None)


@contextlib.contextmanager
def rules_held() -> Iterator[None]:
    """Within the block each connection's rules for an organization are read once, however many documents are
    resolved and explained (a worker preparing a chunk of documents, or one document whose preflight and
    resolution both consult them). For work that takes milliseconds: a rule edited meanwhile applies from the
    next block on, as it would have had the edit come a moment later."""
    if _held.get() is not None:  # nested: the outer block's books serve
        yield
        return
    token = _held.set({})
    try:
        yield
    finally:
        _held.reset(token)


def rule_book(connection, organization_id: int | None) -> RuleBook:
    """The connection's rules for this organization: read now, or the ones read earlier in this ``rules_held``
    block."""
    held = _held.get()
    if held is None:
        return RuleBook(connection, organization_id)
    key = (connection.pk, organization_id)
    if key not in held:
        held[key] = RuleBook(connection, organization_id)
    return held[key]


def explain(connection, doc: Snapshot) -> Explanation:
    """Which rule applies to each mapped piece of ``doc`` and why, or what is missing."""
    book = rule_book(connection, doc.organization_id)
    if isinstance(doc, ItemSnapshot):
        account = book.decide(MappingKind.INCOME_ACCOUNT, (Scope.ITEM, doc.key), (Scope.ITEM, doc.name),
                              (Scope.CATEGORY, doc.category), (Scope.LINE_KIND, doc.kind))
        if not account.rule:
            account = _missing(account, f"item “{doc.name}”: no income account mapped for its category "
                                        f"“{doc.category or '-'}”, its kind “{doc.kind}”, or as the default")
        return Explanation(doc, account=account)
    if isinstance(doc, PaymentSnapshot):
        deposit = book.decide(MappingKind.DEPOSIT_ACCOUNT, (Scope.PAYMENT_METHOD, doc.method))
        if not deposit.rule:
            deposit = _missing(deposit, f"payment {doc.number}: no deposit account mapped for method "
                                        f"“{doc.method}” or as the default")
        return Explanation(doc, account=deposit)
    if isinstance(doc, RefundSnapshot):
        account = book.decide(MappingKind.REFUND_ACCOUNT, (Scope.PAYMENT_METHOD, doc.method))
        if not account.rule:
            account = _missing(account, f"refund {doc.number}: no refund account mapped for method “{doc.method}” "
                                        "or as the default")
        return Explanation(doc, account=account)
    if isinstance(doc, ExpenseSnapshot):
        paid = book.decide(MappingKind.PAID_FROM_ACCOUNT, (Scope.PAYMENT_METHOD, doc.paid_from))
        if not paid.rule:
            paid = _missing(paid, f"expense {doc.number}: no paid-from account mapped for method “{doc.paid_from}” "
                                  "or as the default")
        return Explanation(doc, lines=tuple(_expense_line(book, n, line) for n, line in enumerate(doc.lines, 1)),
                           account=paid)
    if isinstance(doc, BillPaymentSnapshot):
        # The bank account it leaves: the expenses' paid-from rule, by method.
        paid = book.decide(MappingKind.PAID_FROM_ACCOUNT, (Scope.PAYMENT_METHOD, doc.paid_from))
        if not paid.rule:
            paid = _missing(paid, f"bill payment {doc.number}: no bank account to pay it from (a paid-from account) "
                                  f"mapped for method “{doc.paid_from}” or as the default")
        return Explanation(doc, account=paid)
    if isinstance(doc, BillSnapshot):
        # Optional: a platform without a rule posts the bill to its own (only, or default) accounts-payable account.
        payable = book.decide(MappingKind.PAYABLE_ACCOUNT)
        return Explanation(doc, lines=tuple(_expense_line(book, n, line) for n, line in enumerate(doc.lines, 1)),
                           account=payable)
    if isinstance(doc, JournalSnapshot):
        return Explanation(doc, lines=tuple(_journal_line(book, n, line) for n, line in enumerate(doc.lines, 1)))
    if isinstance(doc, SalesDocumentSnapshot):
        dims = dimensions_of(connection.platform).values()
        per_line = tuple(d.kind for d in dims if d.per_line)
        decided = (book.decide(d.kind) for d in dims if not d.per_line)
        return Explanation(doc, lines=tuple(_line(book, n, line, per_line) for n, line in enumerate(doc.lines, 1)),
                           dimensions=tuple(d for d in decided if d.rule))
    return Explanation(doc)


def _line(book: RuleBook, number: int, line: LineSnapshot, dimension_kinds: tuple[str, ...]) -> LineDecision:
    label = line_label(number, line)
    if line.kind == "discount":
        account = book.decide(MappingKind.DISCOUNT_ACCOUNT, (Scope.LINE_KIND, line.kind))
    else:
        account = book.decide(MappingKind.INCOME_ACCOUNT, (Scope.ITEM, line.item_key), (Scope.ITEM, line.item_name),
                              (Scope.CATEGORY, line.category), (Scope.LINE_KIND, line.kind))
    # A line with an item may go without: the platform item carries its own income account.
    if not account.rule and (line.kind == "discount" or not line.item_key):
        what = "discount account" if line.kind == "discount" else "income account"
        account = _missing(account, f"{label}: no {what} mapped for line kind “{line.kind}” or as the default")
    tax = None
    if line.tax_rate_key:
        tax = book.decide(MappingKind.TAX_CODE, (Scope.TAX_RATE, line.tax_rate_key),
                          (Scope.TAX_RATE, line.tax_rate_name))
        if not tax.rule:
            tax = _missing(tax, f"{label}: tax rate “{line.tax_rate_name}” has no platform tax code mapped")
    dimensions = tuple(d for kind in dimension_kinds
                       for d in [book.decide(kind, (Scope.ITEM, line.item_key), (Scope.ITEM, line.item_name),
                                             (Scope.CATEGORY, line.category), (Scope.LINE_KIND, line.kind))]
                       if d.rule)
    return LineDecision(number, line, account, tax, dimensions)


def _expense_line(book: RuleBook, number: int, line) -> LineDecision:
    label = line_label(number, line)
    account = book.decide(MappingKind.EXPENSE_ACCOUNT, (Scope.COST_KIND, line.cost_kind))
    if not account.rule:
        account = _missing(account, f"{label}: no expense account mapped for cost kind “{line.cost_kind}” or as the "
                                    "default")
    tax = None
    if line.tax_rate_key:
        tax = book.decide(MappingKind.TAX_CODE, (Scope.TAX_RATE, line.tax_rate_key),
                          (Scope.TAX_RATE, line.tax_rate_name))
        if not tax.rule:
            tax = _missing(tax, f"{label}: tax rate “{line.tax_rate_name}” has no platform tax code mapped")
    return LineDecision(number, line, account, tax)


def _journal_line(book: RuleBook, number: int, line) -> LineDecision:
    label = line_label(number, line)
    account = book.decide(MappingKind.JOURNAL_ACCOUNT, (Scope.ACCOUNT_CODE, line.account_code), default=False)
    if not account.rule:
        account = _missing(account, f"{label}: account code “{line.account_code}” is not mapped to a platform "
                                    "account")
    return LineDecision(number, line, account, None)


def _missing(decision: Decision, problem: str) -> Decision:
    return Decision(decision.kind, decision.tried, None, problem)


def resolve(connection, doc: Snapshot, refs: dict[str, str] | None = None) -> Mapping:
    refs = dict(refs or {})
    if isinstance(doc, CustomerSnapshot):
        return Mapping(refs=refs)
    explanation = explain(connection, doc)
    _raise(explanation.problems, doc)
    if isinstance(doc, ItemSnapshot):
        return Mapping(item_account=explanation.account.remote_id, refs=refs)
    if isinstance(doc, (PaymentSnapshot, RefundSnapshot, BillPaymentSnapshot)):
        return Mapping(deposit_account=explanation.account.remote_id, refs=refs)
    if isinstance(doc, (ExpenseSnapshot, BillSnapshot, JournalSnapshot)):
        tax_codes = {d.line.tax_rate_key: d.tax.remote_id for d in explanation.lines if d.tax and d.tax.rule}
        return Mapping(line_accounts=tuple(d.account.remote_id for d in explanation.lines), tax_codes=tax_codes,
                       deposit_account=explanation.account.remote_id if explanation.account else None, refs=refs)
    if not isinstance(doc, SalesDocumentSnapshot):
        raise TypeError(f"no mapping for a {type(doc).__name__}")
    tax_codes = {d.line.tax_rate_key: d.tax.remote_id for d in explanation.lines if d.tax and d.tax.rule}
    return Mapping(line_accounts=tuple(d.account.remote_id for d in explanation.lines), tax_codes=tax_codes,
                   refs=refs, **_dimensions(explanation))


def _dimensions(explanation: Explanation) -> dict:
    """The optional dimensions for ``Mapping``; only those some rule gave, so a connection without such rules
    hands over the same ``Mapping`` (and content digest) as before they existed."""
    kinds = dict.fromkeys(d.kind for line in explanation.lines for d in line.dimensions)
    per_line = {}
    for kind in kinds:
        per_line[kind] = tuple(d.remote_id if (d := line.dimension(kind)) else None for line in explanation.lines)
    found: dict = {"line_dimensions": per_line} if per_line else {}
    if explanation.dimensions:
        found["dimensions"] = {d.kind: d.remote_id for d in explanation.dimensions}
    return found


def _raise(problems: list[str], doc: Snapshot) -> None:
    if problems:
        label = f"{doc.entity.replace('_', ' ')} {getattr(doc, 'number', '') or getattr(doc, 'name', '')}".strip()
        # An item's or a payment's problem already names it; a document's lines do not.
        prefix = "" if isinstance(doc, (ItemSnapshot, PaymentSnapshot, RefundSnapshot)) else f"{label}: "
        raise ConfigurationError(
            prefix + "; ".join(dict.fromkeys(problems)),
            hint="Add the missing mappings in the connection's mapping editor (Admin → Connections → Mappings), "
                 "then retry the entry.")
