"""Mapping drift: rules that point at an account or tax code the platform no longer offers.

Staff archive, delete or deactivate accounts and tax codes on the platform while rules here still point at them.
Such a rule is marked **stale** (``Mapping.stale_since`` and ``stale_reason``); documents that need it stop
before anything is sent, with the error code ``mapping_stale`` and a message naming the document, the line and
the rule to fix. Documents that do not use it carry on. Drift is seen:

- **when the platform's lists are fetched** (``reference.reference_data``: "Refresh from platform" in the
  editor or the connection list, and on the next use once the cached copy is older than
  ``REFERENCE_DATA_TTL_SECONDS``): ``check_rules`` compares the fresh lists with the ones fetched before; a rule
  whose target was listed then and is not now turns stale, and a stale rule whose target is listed again (an
  account re-activated on the platform) is cleared;
- **before a document is sent** (``preflight.check_platform`` calls ``check_document``): a document that needs a
  stale rule stops there;
- **from a platform error** (``engine.fail`` calls ``refusals.on_failure`` through ``core.policy``): a write refused
  for an account or tax-code reference, as the platform's connector reads its own errors
  (``BaseConnector.refused_references``). The lists are fetched again (at most once a minute per connection); a rule
  the document used is then stale when the lists do not hold its target, or, when the lists could not be fetched just
  now, when the platform said the target is gone (archived, deleted, inactive, not found). A refusal of something
  still listed ("not valid for this document") stays an ordinary validation error.

What drifted is what disappeared: an id the platform never listed is left for the platform to judge, and its
refusal then marks the rule. A stale rule still wins resolution: falling back to a more general rule would post
to an account nobody chose.

Fixing: pointing the rule at another account or tax code clears its mark (``Mapping.save``), and
``requeue_unblocked`` sends the entries that were paused for it again (and documents that failed because a
dependency of theirs was paused): the mapping editor and the CSV import call it after saving, and every fetch of
the lists calls it (so an edit made in the plain mappings list is picked up at the next refresh). Deleting the
rule works too: the document then resolves with the next rule in line.

Nothing already sent is touched: drift only stops documents on their way out. External references, remote
documents and entries already done stay as they are.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from connectors import registry
from connectors.base import ReferenceData, Refused
from connectors.documents import CustomerSnapshot, Snapshot
from connectors.errors import ConfigurationError, SyncError
from ledger.models import Organization
from mappings.choices import remote_label
from mappings.models import Mapping as Rule
from mappings.models import MappingKind
from mappings.resolve import Decision, Explanation, RuleRef, describe, explain

from ..core import outbox, sources
from ..models import EntryStatus, OutboxEntry

log = logging.getLogger(__name__)

STALE_CODE = "mapping_stale"
#: After a platform refused a reference, the lists are fetched again unless they were fetched this recently.
ERROR_REFRESH_SECONDS = 60
HINT = ("Pick another account or tax code for the rule named above in the connection's mapping editor (Admin → "
        "Connections → Edit mappings; the rule is marked there). Entries waiting for it are sent again once it is "
        "saved. Documents already sent are not changed.")


# -- the rules against the platform's lists ---------------------------------------------------------------------
def names(lists: dict, kind: str) -> dict:
    """The listed tax codes or accounts (id -> name) a ``kind`` rule points into; none for the optional
    dimensions a platform declares, whose lists are not fetched: drift does not judge them."""
    if kind not in MappingKind.values:
        return {}
    return lists.get("tax_codes" if kind == MappingKind.TAX_CODE else "accounts") or {}


def _listed(kind: str, remote_id: str, lists: dict) -> bool:
    return remote_id in names(lists, kind)


def gone_reason(rule, platform: str, names: dict | None = None) -> str:
    """Why a rule turned stale; ``names`` are the platform's names as last listed (id -> name)."""
    target = remote_label(rule.remote_id, (names or {}).get(rule.remote_id) or rule.remote_name)
    if rule.kind == MappingKind.TAX_CODE:
        return f"{platform} no longer offers tax code {target} (deleted or made inactive there)"
    return f"{platform} no longer offers account {target} (archived, deleted or made inactive there)"


@dataclass
class Drift:
    """What one comparison of the rules with the platform's lists changed."""

    stale: list[Rule] = field(default_factory=list)  # newly marked
    recovered: list[Rule] = field(default_factory=list)  # offered again: mark cleared
    requeued: int = 0

    def __str__(self) -> str:
        parts = [f"{len(self.stale)} mappings stale" if self.stale else "",
                 f"{len(self.recovered)} mappings valid again" if self.recovered else "",
                 f"{self.requeued} paused entries queued again" if self.requeued else ""]
        return ", ".join(p for p in parts if p) or "no mapping drift"


def check_rules(conn, reference: ReferenceData, previous: dict | None) -> Drift:
    """Compare the rules of ``conn`` with freshly fetched lists (``reference``) and the lists fetched before them
    (``previous``, the cached dict): a rule whose target was listed before and is not now turns stale; a stale
    rule whose target is listed again is cleared. Then entries no longer waiting for a stale rule are re-queued.

    What drifted is what *disappeared*: an id the platform never listed is left for the platform to judge (the
    editor and the CSV import only accept listed ids; the plain list does not check). A list that comes back
    empty is not taken as "everything was archived" (more likely a permission or an edition without it)."""
    now, result, platform = timezone.now(), Drift(), conn.platform_name
    fresh = {"accounts": reference.accounts, "tax_codes": reference.tax_codes}
    before = previous or {}
    for rule in Rule.objects.filter(connection=conn):
        listed = _listed(rule.kind, rule.remote_id, fresh)
        if rule.stale_since is not None and listed:
            Rule.objects.filter(pk=rule.pk).update(stale_since=None, stale_reason="")
            result.recovered.append(rule)
        elif (rule.stale_since is None and not listed and names(fresh, rule.kind)
              and _listed(rule.kind, rule.remote_id, before)
              and mark_stale([rule.pk], gone_reason(rule, platform, names(before, rule.kind)), now)):
            result.stale.append(rule)
    result.requeued = requeue_unblocked(conn)
    if result.stale or result.recovered:
        log.warning("mapping drift on %s: %s", conn, result)
    return result


def mark_stale(rule_ids, reason: str, now: dt.datetime | None = None) -> int:
    """Mark rules stale (those already stale keep their first date and reason)."""
    return Rule.objects.filter(pk__in=list(rule_ids), stale_since__isnull=True).update(
        stale_since=now or timezone.now(), stale_reason=reason[:500])


def stale_rules(conn):
    return Rule.objects.filter(connection=conn, stale_since__isnull=False).select_related("organization")


# -- one document ------------------------------------------------------------------------------------------------
def used(explanation: Explanation) -> Iterator[tuple[str, Decision]]:
    """``(where, decision)`` for every rule a document uses: its own account, then each line's account and tax."""
    if explanation.account is not None and explanation.account.rule:
        yield "", explanation.account
    for line in explanation.lines:
        for decision in (line.account, line.tax):
            if decision is not None and decision.rule:
                yield line.label, decision


def rule_text(rule: RuleRef | Rule) -> str:
    """How staff find a rule in the editor: ``the income account rule for default (connection-wide)``."""
    if rule.organization_id:
        owner = Organization.objects.filter(pk=rule.organization_id).values_list("name", flat=True).first()
        whose = f"{owner or 'organization ' + str(rule.organization_id)}'s own rule"
    else:
        whose = "connection-wide"
    return f"the {MappingKind(rule.kind).label.lower()} rule for {describe(rule.scope, rule.local_value)} ({whose})"


def stale_reason(rule: RuleRef | Rule, platform: str = "") -> str:
    """Why ``rule`` cannot be used now (empty while it can)."""
    if rule.stale_since is None:
        return ""
    target = remote_label(rule.remote_id, rule.remote_name)
    return rule.stale_reason or f"{platform or 'the platform'} no longer offers {target}"


def check_document(conn, doc: Snapshot, explanation: Explanation) -> None:
    """Stop ``doc`` (``ConfigurationError`` with code ``mapping_stale``) if a rule it needs is stale."""
    problems = [f"{where + ': ' if where else ''}{rule_text(d.rule)} is stale: "
                f"{stale_reason(d.rule, conn.platform_name)}" for where, d in used(explanation)
                if d.rule.stale_since is not None]
    if problems:
        raise ConfigurationError(f"{label(doc)}: " + "; ".join(dict.fromkeys(problems)), code=STALE_CODE, hint=HINT)


def label(doc: Snapshot) -> str:
    number = getattr(doc, "number", "") or getattr(doc, "name", "")
    return f"{doc.entity.replace('_', ' ').capitalize()} {number}".strip()


# -- a platform's refusal -------------------------------------------------------------------------------------------
def refused_references(platform: str, exc: SyncError) -> list[Refused]:
    """The account or tax-code references a platform error says it refused (the connector reads its own errors;
    empty for any other error or an unknown platform)."""
    try:
        return registry.get(platform).refused_references(exc)
    except LookupError:
        return []


def matches(refused: Refused, rule: RuleRef | Rule) -> bool:
    """``rule`` could have produced the refused reference."""
    return rule.kind in refused.kinds and (refused.remote_id is None or rule.remote_id == refused.remote_id)


def snapshot_of(key: str) -> Snapshot | None:
    try:
        adapter, obj = sources.load(key)
        return adapter.snapshot(obj) if obj is not None else None
    except Exception:  # noqa: BLE001 - an unreadable document just gives no line detail
        log.debug("could not build the snapshot of %s", key, exc_info=True)
        return None


# -- fixing ----------------------------------------------------------------------------------------------------------
def requeue_unblocked(conn) -> int:
    """Send again the entries paused for a stale rule that no longer wait for one (fixed, deleted, offered again),
    and the documents that failed because such an entry was their dependency. Returns how many were queued."""
    paused = list(OutboxEntry.objects.filter(connection=conn, status=EntryStatus.NEEDS_ATTENTION,
                                             error_code=STALE_CODE).only("pk", "source_key"))
    if not paused:
        return 0
    still_stale = set(Rule.objects.filter(connection=conn, stale_since__isnull=False).values_list("pk", flat=True))
    ready = [e for e in paused if not (still_stale and _waits_for(conn, e.source_key, still_stale))]
    keys = {e.source_key for e in ready}
    if keys:
        for entry in OutboxEntry.objects.filter(connection=conn, status=EntryStatus.NEEDS_ATTENTION,
                                                error_code="dependency_failed").only("pk", "source_key"):
            doc = snapshot_of(entry.source_key)
            if doc is not None and {key for _, key in doc.dependencies()} & keys:
                ready.append(entry)
    ids = [e.pk for e in ready]
    if not ids:
        return 0
    count = OutboxEntry.objects.filter(pk__in=ids, status=EntryStatus.NEEDS_ATTENTION).update(
        status=EntryStatus.PENDING, attempts=0, next_attempt_at=timezone.now())
    transaction.on_commit(lambda: outbox.enqueue(ids))
    return count


def _waits_for(conn, key: str, rule_ids: set[int]) -> bool:
    doc = snapshot_of(key)
    if doc is None or isinstance(doc, CustomerSnapshot):
        return False  # the engine says what is wrong with it
    return any(d.rule.pk in rule_ids for _, d in used(explain(conn, doc)))
