"""Checks run before anything is sent. A failure names the document, the line and the missing piece.

``check`` looks at the snapshot alone (bad local data); ``check_platform`` compares it with the mapping and the
platform's reference data (cached on the connection, see ``reference_data``) and the connector's own rules:

- a rule the document needs points at an account or tax code the platform no longer offers (archived, deleted,
  made inactive): code ``mapping_stale``, see ``accounting_sync.policies.drift``; an unmapped category, line kind, tax
  rate or payment method is reported before that, by ``mappings.resolve`` (code ``configuration``);
- a missing tax jurisdiction (code ``tax_jurisdiction``): some platforms have tax codes that carry no rate of
  their own and take it from the jurisdiction (state, county, city) of the local tax rate; the connector says
  which (``BaseConnector.tax_code_needs_jurisdiction``, e.g. a US sales-tax code). A line whose local tax rate is
  above 0% and is mapped to such a code needs that rate's ``jurisdiction`` filled in. Only the ledger's own tax
  rates can be checked (a host's tax rates carry no jurisdiction field we know of);
- a refund, an expense, a supplier bill, a bill payment or a journal entry on a platform that does not take them (code
  ``unsupported``), and a credit note with lines the business keeps (restocking fee, return shipping) on a platform
  whose connector does not send them (code ``unsupported``): checked with the local data, before any dependency is sent;
- a journal entry that does not balance to the cent, a journal line that is both or neither debit and credit, an
  expense without lines or payee, a bill without lines or supplier or due before its date, a refund of nothing, a
  bill payment of more than its bill still owes or of a void bill (code ``invalid_document``, with the local data
  problems);
- a currency the company does not take, a foreign currency without an exchange rate, and the connector's own
  checks (``BaseConnector.preflight``: totals its rounding would not reproduce, numbers, names): code
  ``configuration``.

``fixes(entry)`` says what would fix an entry stopped here, with links to the mapping editor's row (or the tax
rate) to change; the dashboard's attention list shows them.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from connectors.base import ReferenceData
from connectors.documents import (BillPaymentSnapshot, BillSnapshot, CustomerSnapshot, Entity, ExpenseSnapshot,
                                  JournalSnapshot, Mapping, PaymentSnapshot, RefundSnapshot, SalesDocumentSnapshot,
                                  Snapshot)
from connectors.errors import ConfigurationError, DataError, PermanentError
from ledger import models as L
from ledger.money import MAX_INPUT_PLACES, is_currency_code, places
from mappings.choices import encode, key_name
from mappings.models import MappingKind, Scope
from mappings.resolve import Decision, Explanation, describe, explain

from ..core import sources
from ..models import EntryStatus, OutboxEntry
from . import drift
from .reference import _from_cache, reference_data

JURISDICTION_CODE = "tax_jurisdiction"


def _label(doc: Snapshot) -> str:
    number = getattr(doc, "number", "") or getattr(doc, "name", "")
    return f"{doc.entity.replace('_', ' ').capitalize()} {number}".strip()


UNSUPPORTED_CODE = "unsupported"


def check_supported(conn, doc: Snapshot) -> None:
    """What the connection's platform cannot take at all: raises PermanentError (code ``unsupported``)."""
    caps = conn.connector_class().capabilities
    name = doc.entity.replace("_", " ")
    if doc.entity in Entity.DECLARED and doc.entity not in caps.entities:
        raise PermanentError(
            f"{_label(doc)}: {conn.platform_name} does not take {name}s through its API (this connector declares "
            "none), so it was not sent", code=UNSUPPORTED_CODE,
            hint=f"Enter it in {conn.platform_name} by hand (the GL preview shows the journal it should post), or "
                 f"remove “{name}” from the connection's entities so they are no longer queued.")
    kept = [line for line in getattr(doc, "lines", ()) if getattr(line, "kept", False)]
    if kept and not caps.kept_lines:
        kinds = ", ".join(dict.fromkeys(line.kind.replace("_", " ") for line in kept))
        raise PermanentError(
            f"{_label(doc)}: it keeps {kinds} back from the credit, and the {conn.platform_name} connector cannot "
            "send lines that net a credit note", code=UNSUPPORTED_CODE,
            hint=f"Issue the credit note for the net amount and invoice the {kinds} separately, or enter it in "
                 f"{conn.platform_name} by hand.")


def check(conn, doc: Snapshot) -> None:
    """Local data problems: raises DataError listing all of them (after ``check_supported``)."""
    check_supported(conn, doc)
    problems: list[str] = []
    if isinstance(doc, CustomerSnapshot) and not doc.name.strip():
        problems.append("the customer has no name")
    currency = getattr(doc, "currency", None)
    if currency is not None and not is_currency_code(currency):
        problems.append(f"currency “{currency}” is not an ISO 4217 code")
    if isinstance(doc, SalesDocumentSnapshot):
        if not doc.lines:
            problems.append("it has no lines")
        for n, line in enumerate(doc.lines, start=1):
            for name in ("quantity", "unit_price"):
                value = getattr(line, name)
                if places(value) > MAX_INPUT_PLACES:
                    problems.append(f"line {n}: {name.replace('_', ' ')} {value} has more than "
                                    f"{MAX_INPUT_PLACES} decimal places")
            if line.unit_price < 0:
                problems.append(f"line {n}: negative unit price (use a discount line)")
        if doc.total < 0:
            problems.append(f"the total {doc.total} is negative")
    if isinstance(doc, PaymentSnapshot):
        if doc.amount <= 0:
            problems.append("the amount must be positive")
        if places(doc.amount) > MAX_INPUT_PLACES:
            problems.append(f"amount {doc.amount} has more than {MAX_INPUT_PLACES} decimal places")
        allocated = sum((a.amount for a in doc.allocations), start=0)
        if allocated > doc.amount:
            problems.append(f"allocations ({allocated}) exceed the payment amount ({doc.amount})")
    problems += _returns_and_costs(doc)
    if problems:
        raise DataError(f"{_label(doc)}: " + "; ".join(problems),
                        hint="Correct the document in the business system; it is sent once it is saved again.")


def _bill(doc: BillSnapshot) -> list[str]:
    problems = [] if doc.supplier.strip() else ["the bill has no supplier"]
    if not doc.lines:
        problems.append("it has no lines")
    problems += [f"line {n}: the amount must be positive" for n, line in enumerate(doc.lines, 1)
                 if line.net_amount <= 0]
    if doc.due_date and doc.issue_date and doc.due_date < doc.issue_date:
        problems.append(f"the due date {doc.due_date} is before the bill's date {doc.issue_date}")
    return problems


def _bill_payment(doc: BillPaymentSnapshot) -> list[str]:
    """A bill payment pays what its bill still owes, no more; a void bill owes nothing (a void payment is checked
    for nothing: taking it back is always allowed)."""
    if doc.is_void:
        return []
    if doc.amount <= 0:
        return ["the amount must be positive"]
    if doc.bill_status == "void":
        return [f"bill {doc.bill_number} is void: nothing is owed on it, so there is nothing to pay"]
    if doc.amount > doc.bill_owed:
        return [f"it pays {doc.amount} {doc.currency} and bill {doc.bill_number} ({doc.supplier}) has only "
                f"{doc.bill_owed} {doc.currency} left to pay: a payment may not be more than the bill still owes"]
    return []


def _returns_and_costs(doc: Snapshot) -> list[str]:
    """Local problems of refunds, expenses, supplier bills and journal entries."""
    problems: list[str] = []
    if isinstance(doc, RefundSnapshot):
        if doc.amount <= 0:
            problems.append("the amount must be positive")
        if bool(doc.credit_note_key) == bool(doc.payment_key):
            problems.append("it must refund exactly one credit note or one overpayment")
    if isinstance(doc, ExpenseSnapshot):
        if not doc.payee.strip():
            problems.append("the expense has no payee")
        if not doc.lines:
            problems.append("it has no lines")
        problems += [f"line {n}: the amount must be positive" for n, line in enumerate(doc.lines, 1)
                     if line.net_amount <= 0]
    if isinstance(doc, BillSnapshot):
        problems += _bill(doc)
    if isinstance(doc, BillPaymentSnapshot):
        problems += _bill_payment(doc)
    if isinstance(doc, JournalSnapshot) and not doc.is_void:
        if len(doc.lines) < 2:
            problems.append("a journal needs at least two lines")
        for n, line in enumerate(doc.lines, 1):
            if (line.debit > 0) == (line.credit > 0):
                problems.append(f"line {n} (account {line.account_code}): fill in either a debit or a credit")
        if imbalance := L.imbalance((line.debit, line.credit) for line in doc.lines):
            problems.append(imbalance)
    return problems


def check_platform(conn, connector, doc: Snapshot, mapping: Mapping) -> None:
    """Problems only the mapping and the platform's reference data reveal; raises ConfigurationError."""
    ref = _reference(conn, connector)
    if not isinstance(doc, CustomerSnapshot) and not getattr(doc, "is_void", False):  # a void posts nothing
        explanation = explain(conn, doc)
        drift.check_document(conn, doc, explanation)
        missing = jurisdiction_problems(conn, explanation, ref)
        if missing:
            raise ConfigurationError(
                f"{_label(doc)}: " + "; ".join(missing), code=JURISDICTION_CODE,
                hint="Fill in the tax rate's jurisdiction (the state, county or city whose sales tax it is) in the "
                     f"business system, or map the rate to a {conn.platform_name} tax code that carries its own "
                     "rate; then retry the entry.")
    problems = list(connector.preflight(doc, mapping))
    currency_problems = _currency_problems(conn, connector, doc, ref)
    if problems or currency_problems:
        hints = []
        if problems:  # the platform's own rules (a number too long, a field it does not take...)
            hints.append(f"Change the document (or its mapping) so that {conn.platform_name} accepts it")
        if currency_problems:
            hints.append("enable the currency on the platform (or give the document an exchange rate)")
        hint = "; ".join(hints)
        raise ConfigurationError(f"{_label(doc)}: " + "; ".join(problems + currency_problems),
                                 hint=f"{hint[0].upper()}{hint[1:]}, then retry.")


def _currency_problems(conn, connector, doc: Snapshot, ref: ReferenceData | None) -> list[str]:
    """The document's currency against what the platform company accepts (its capabilities or its lists)."""
    currency = getattr(doc, "currency", None)
    if not currency:
        return []
    allowed, listed = connector.capabilities.currencies, None
    if allowed is None:
        listed = ref
        allowed = ref.currencies if ref is not None else frozenset({currency})
    if currency not in allowed:
        return [f"the platform company does not accept {currency} (it takes {', '.join(sorted(allowed)) or 'none'})"]
    if (listed and listed.home_currency not in ("", currency) and hasattr(doc, "exchange_rate")
            and not doc.exchange_rate  # a customer in a foreign currency carries no rate: only documents do
            and (conn.settings or {}).get("rate_source") != "platform"):  # the platform applies its own rate
        return [f"{currency} is a foreign currency for this company ({listed.home_currency}) and the document has "
                "no exchange rate"]
    return []


def _reference(conn, connector) -> ReferenceData | None:
    """The platform's lists (cached), or None for a connector that has none."""
    try:
        return reference_data(conn, connector)
    except NotImplementedError:
        return None


def jurisdiction_problems(conn, explanation: Explanation, ref: ReferenceData | None) -> list[str]:
    """Lines whose taxed rate is mapped to a tax code that takes its rate from a jurisdiction, and the rate has
    none (see the module)."""
    return [problem for _, problem in _jurisdiction_gaps(conn, explanation, ref)]


def _jurisdiction_gaps(conn, explanation: Explanation, ref: ReferenceData | None):
    needs = conn.connector_class().tax_code_needs_jurisdiction
    gaps = []
    for decided in explanation.lines:
        tax = decided.tax
        if tax is None or tax.rule is None or not needs(tax.rule.remote_id, ref):
            continue
        rate = ledger_tax_rate(decided.line.tax_rate_key)
        if rate is not None and rate.rate > 0 and not rate.jurisdiction.strip():
            code = tax.rule.remote_id
            gaps.append((rate, f"{decided.label}: tax rate “{rate.name}” is mapped to {conn.platform_name}'s tax "
                               f"code {code}, which takes its rate from a jurisdiction, and the rate has no "
                               "jurisdiction"))
    return gaps


def ledger_tax_rate(key: str | None) -> L.TaxRate | None:
    """The ledger tax rate a line's ``tax_rate_key`` names (``ledger.taxrate:<pk>``), if it is one."""
    prefix = f"{L.TaxRate._meta.label_lower}:"
    if not key or not key.startswith(prefix) or not key[len(prefix):].isdigit():
        return None
    return L.TaxRate.objects.filter(pk=key[len(prefix):]).first()


# -- what fixes an entry stopped here ------------------------------------------------------------------------------
FIXABLE = frozenset({"configuration", drift.STALE_CODE, JURISDICTION_CODE})
DEPENDENCY_FAILED = "dependency_failed"


@dataclass(frozen=True)
class Fix:
    """One thing to change, and the page (the mapping editor's row, or a tax rate) where to change it."""

    text: str
    url: str


def editor_url(connection_id: int) -> str:
    """The connection's mapping editor (``staff.mapping_admin``), where a fix for a mapping problem is made."""
    return reverse("admin:connectors_connection_mappings", args=[connection_id])


def fixes(entry) -> list[Fix]:
    """What would let ``entry`` through, as it stands now: rules to add or fix (linked to the editor's row,
    highlighted there), tax rates to complete; for a document stopped by a dependency (an item waiting for a
    rule), that dependency's fixes. Empty for errors preflight did not raise."""
    if entry.error_code not in FIXABLE and entry.error_code != DEPENDENCY_FAILED:
        return []
    doc = _document(entry)
    if doc is None or isinstance(doc, CustomerSnapshot):
        return []
    if entry.error_code == DEPENDENCY_FAILED:
        waiting = OutboxEntry.objects.filter(connection_id=entry.connection_id, error_code__in=FIXABLE,
                                             status=EntryStatus.NEEDS_ATTENTION,
                                             source_key__in=[key for _, key in doc.dependencies()])
        return list({fix.url: fix for dependency in waiting for fix in fixes(dependency)}.values())
    conn = entry.connection
    ref = _from_cache(conn.reference_data) if conn.reference_data else None
    explanation = explain(conn, doc)
    editor = editor_url(conn.pk)
    found = [fix for decision in _decisions(explanation) for fix in _rule_fixes(decision, editor)]
    found += [fix for rate, _ in _jurisdiction_gaps(conn, explanation, ref)
              for fix in _jurisdiction_fixes(rate, explanation, editor)]
    return list({fix.url: fix for fix in found}.values())


def _document(entry) -> Snapshot | None:
    try:
        adapter, obj = sources.load(entry.source_key)
        return adapter.snapshot(obj) if obj is not None else None
    except Exception:  # noqa: BLE001 - the dashboard shows the error itself either way
        return None


def _rule_fixes(decision: Decision, editor: str) -> list[Fix]:
    """A rule to add where none matched, or the stale rule that matched to fix."""
    rule = decision.rule
    if rule is None and decision.missing:
        scope, value = _add_target(decision)
        query = urlencode({"add": decision.kind, "applies_to": encode(scope, value)})
        return [Fix(f"Add a {MappingKind(decision.kind).label.lower()} rule for {describe(scope, value)}",
                    f"{editor}?{query}#kind-{decision.kind}")]
    if rule is not None and rule.stale_since is not None:
        return [Fix(f"Fix {drift.rule_text(rule)}", f"{editor}?fix={rule.pk}#rule-{rule.pk}")]
    return []


def _jurisdiction_fixes(rate, explanation: Explanation, editor: str) -> list[Fix]:
    """The tax rate's jurisdiction to fill in (where the ledger's admin is installed), or its rule to change."""
    found = []
    with contextlib.suppress(NoReverseMatch):
        found.append(Fix(f"Fill in the jurisdiction of tax rate “{rate.name}”",
                         reverse("admin:ledger_taxrate_change", args=[rate.pk])))
    rule = next(d.tax.rule for d in explanation.lines if d.tax and d.tax.rule
                and d.line.tax_rate_key == f"{L.TaxRate._meta.label_lower}:{rate.pk}")
    found.append(Fix(f"or map “{rate.name}” to a tax code with its own rate", f"{editor}?fix={rule.pk}#rule-{rule.pk}"))
    return found


def _decisions(explanation: Explanation):
    if explanation.account is not None:
        yield explanation.account
    for line in explanation.lines:
        yield line.account
        if line.tax is not None:
            yield line.tax


def _add_target(decision: Decision) -> tuple[str, str]:
    """The rule to offer for a missing piece: the most specific candidate staff can pick by name in the editor
    (a category, a line kind, a tax rate's or payment method's name), else the default."""
    for scope, value in decision.tried:
        if scope in (Scope.ITEM, Scope.DEFAULT) or key_name(scope, value):
            continue
        return scope, value
    return Scope.DEFAULT, ""
