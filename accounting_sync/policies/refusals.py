"""A reference the platform refused (an account or tax code it names in an error): is the rule that chose it stale?

Called by the pipeline for every failed entry (installed as the policy's ``on_failure``). Refreshes the platform's
lists (at most once a minute, through ``reference.reference_data``, which runs ``drift.check_rules``), then turns
the error into a ``mapping_stale`` one when the document's rule points at what is gone. See ``drift``.
"""
from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from connectors.base import Refused
from connectors.documents import CustomerSnapshot, Snapshot
from connectors.errors import ConfigurationError, PermanentError, RemoteNotFound, SyncError, ValidationFailed
from mappings.choices import remote_label
from mappings.models import Mapping as Rule
from mappings.resolve import explain

from ..models import OutboxEntry
from . import drift
from .reference import reference_data

log = logging.getLogger(__name__)


def on_failure(entry: OutboxEntry, exc: SyncError) -> SyncError:
    """The error to record for ``entry``: ``exc``, or a ``mapping_stale`` error when the platform refused an
    account or tax code that is gone. Never raises (a failure here must not hide the original error)."""
    if not isinstance(exc, (ValidationFailed, RemoteNotFound)):
        return exc
    try:
        return _on_failure(entry, exc)
    except Exception:  # noqa: BLE001
        log.exception("could not check %s's failure for mapping drift", entry.source_key)
        return exc


def _on_failure(entry: OutboxEntry, exc: PermanentError) -> SyncError:
    """See the module: refresh the lists (at most once a minute), then a rule the document used is stale when
    the lists no longer hold its target, or, without a fresh answer from the lists, when the platform said the
    target is gone."""
    conn = entry.connection
    refused = drift.refused_references(conn.platform, exc)
    if not refused:
        return exc
    doc = drift.snapshot_of(entry.source_key)
    suspects = _suspects(conn, doc, refused)
    refreshed = _refresh_lists(conn)
    lists = type(conn).objects.filter(pk=conn.pk).values_list("reference_data", flat=True).first() or {}
    stale = _stale(suspects, lists, refreshed)
    if not stale:
        return exc
    drift.mark_stale({rule.pk for _, rule in stale}, f"{conn.platform_name} refused it: {exc.message}")
    problems = [f"{where + ': ' if where else ''}{drift.rule_text(rule)} points at {_target(rule, lists)}, "
                f"which {conn.platform_name} no longer offers" for where, rule in stale]
    what = drift.label(doc) if doc is not None else (entry.label or entry.source_key)
    return ConfigurationError(f"{what}: " + "; ".join(dict.fromkeys(problems)) + f" ({exc.message})",
                              code=drift.STALE_CODE, hint=drift.HINT, platform_code=exc.platform_code,
                              http_status=exc.http_status, raw=exc.raw)


def _suspects(conn, doc: Snapshot | None, refused: list[Refused]) -> list[tuple[str, Rule, Refused]]:
    """``(where, rule, refused)``: the rules the document used that point at what the platform refused."""
    if doc is not None and not isinstance(doc, CustomerSnapshot):
        return [(where, d.rule, r) for where, d in drift.used(explain(conn, doc)) for r in refused
                if drift.matches(r, d.rule)]
    # the document cannot be read again: the connection's rules pointing at the ids the platform named
    return [("", rule, r) for rule in Rule.objects.filter(connection=conn) for r in refused
            if r.remote_id is not None and drift.matches(r, rule)]


def _stale(suspects, lists: dict, refreshed: bool) -> list[tuple[str, Rule]]:
    """The suspects whose target is gone: already stale, missing from the lists, or named gone by the platform
    when the lists could not be fetched again. Each ``(where, rule)`` once."""
    stale_now = set(Rule.objects.filter(pk__in=[rule.pk for _, rule, _ in suspects], stale_since__isnull=False)
                    .values_list("pk", flat=True))
    stale: dict[tuple[str, int], tuple[str, Rule]] = {}
    for where, rule, r in suspects:
        family = drift.names(lists, rule.kind)
        gone = (rule.pk in stale_now or (family and rule.remote_id not in family)
                or (r.definite and not refreshed))
        if gone:
            stale.setdefault((where, rule.pk), (where, rule))
    return list(stale.values())


def _target(rule: Rule, lists: dict) -> str:
    return remote_label(rule.remote_id, drift.names(lists, rule.kind).get(rule.remote_id) or rule.remote_name)


def _refresh_lists(conn) -> bool:
    """Fetch the platform's lists again (running ``check_rules``) unless that happened in the last minute."""
    fetched = type(conn).objects.filter(pk=conn.pk).values_list("reference_data_at", flat=True).first()
    if fetched and fetched > timezone.now() - dt.timedelta(seconds=drift.ERROR_REFRESH_SECONDS):
        return False
    try:
        reference_data(conn, conn.connector(), refresh=True)
    except (SyncError, NotImplementedError) as exc:
        log.warning("could not refresh %s's lists after a refused reference: %s", conn, exc)
        return False
    return True
