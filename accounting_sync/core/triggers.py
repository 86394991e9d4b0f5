"""When a document is sent: the connection's trigger rule for its kind (``TriggerRule``), applied by the engine
just before it would send.

A held document is not an error. Its entry waits, and says why (the entry's hint): for a status, a payment or
staff it waits as ``waiting`` until the document changes again (every save re-queues it) or staff send it; for a
batch window it stays pending until the window opens (``hold_until``), so the dispatcher and the sweeper pick it
up then and the platform's batch endpoint takes the whole window at once. Saves in between coalesce into the
entry: the document goes out once, with its latest content. Without a rule a document goes out on every save;
drafts never go out unless staff send them. Customers and items follow the documents that need them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from connectors.documents import Entity

from ..models import ExternalReference, OutboxEntry, RemoteStatus, TriggerKind, TriggerRule

DOCUMENTS = frozenset({Entity.INVOICE, Entity.CREDIT_NOTE, Entity.PAYMENT})
#: How long a ``waiting`` entry sleeps before the engine looks again by itself (a change re-queues it sooner).
RECHECK = dt.timedelta(days=1)


@dataclass(frozen=True)
class Hold:
    """Why a document is not sent now, and until when (None: until it changes or staff send it)."""

    reason: str
    until: dt.datetime | None = None


def rules_of(conn) -> dict[str, TriggerRule]:
    """The connection's rules by entity, read once per connection object (a worker's task holds one for its
    whole chunk, so a backlog costs one query, not one per document)."""
    cached = getattr(conn, "_trigger_rules", None)
    if cached is None:
        cached = {rule.entity: rule for rule in TriggerRule.objects.filter(connection_id=conn.pk)}
        conn._trigger_rules = cached
    return cached


def rule_for(conn, entity: str) -> TriggerRule | None:
    return rules_of(conn).get(entity)


def hold(conn, entry: OutboxEntry, adapter, obj, snapshot, *, dependency: bool = False,
         now: dt.datetime | None = None) -> Hold | None:
    """The reason to hold this document now, or None to send it."""
    if entry.send_now:
        return None
    now = now or timezone.now()
    entity = adapter.entity
    if entity not in DOCUMENTS:
        return None if dependency else _standalone_reference(conn, entry)
    if getattr(snapshot, "is_void", False):
        return None  # a void goes out at once (or is dropped if it was never sent: the engine decides)
    rule = rule_for(conn, entity)
    if adapter.is_draft(obj, snapshot):
        if rule is None or not rule.send_drafts:
            return Hold("waiting until it is no longer a draft (drafts are not sent)")
        if entity not in conn.connector_class().capabilities.drafts:
            return Hold(f"waiting until it is no longer a draft ({conn.platform_name} keeps no drafts)")
        return None  # sent as a draft now, whatever else the rule says; finalised when it becomes final
    own = adapter.waiting_for(obj, snapshot)
    if own:
        return Hold(own)
    if rule is None or rule.kind == TriggerKind.ON_SAVE:
        return None
    if rule.kind == TriggerKind.MANUAL:
        return Hold("waiting for staff to send it (this connection sends these only by hand)")
    if rule.kind == TriggerKind.ON_STATUS:
        wanted = rule.status or adapter.final_status or (adapter.statuses[-1][0] if adapter.statuses else "issued")
        current = adapter.workflow_status(obj) or getattr(snapshot, "status", "")
        if current != wanted:
            label = dict(adapter.statuses).get(wanted, wanted)
            return Hold(f"waiting for status {label}")
        return None
    if rule.kind == TriggerKind.AFTER_PAYMENT:
        return _payment_hold(adapter, obj, snapshot, rule.partly_paid)
    if rule.kind == TriggerKind.BATCH:
        return _window_hold(rule, entry, now)
    return None


def _standalone_reference(conn, entry: OutboxEntry) -> Hold | None:
    """A customer or item saved on its own: on a connection that holds documents back, it waits for the first
    document that needs it (it then goes out first, as that document's dependency); once sent, it follows its
    own saves."""
    if entry.send_now or all(rule.kind == TriggerKind.ON_SAVE for rule in rules_of(conn).values()):
        return None
    sent = ExternalReference.objects.filter(connection=conn, source_key=entry.source_key,
                                            remote_status=RemoteStatus.ACTIVE).exists()
    return None if sent else Hold("waiting for a document that needs it (sent with that document)")


def _payment_hold(adapter, obj, snapshot, partly: bool) -> Hold | None:
    applied = adapter.applied(obj)
    total = getattr(snapshot, "total", None)
    if applied is None or total is None:  # never send it unpaid just because the source is silent
        return Hold("waiting for payment, which the business system does not report for this kind of document "
                    "(its adapter has no applied()): send it by hand or choose another trigger")
    paid = sum((amount for _, amount in applied), start=type(total)(0))
    if paid >= total or (partly and paid > 0):
        return None
    return Hold("waiting for a payment" if partly else "waiting for full payment")


def _window_hold(rule: TriggerRule, entry: OutboxEntry, now: dt.datetime) -> Hold | None:
    if entry.hold_until is not None and entry.hold_until <= now:
        return None  # its window is open
    opens = entry.hold_until or next_window(rule, now)
    local = opens.astimezone(ZoneInfo(rule.time_zone))
    if rule.daily_at:
        return Hold(f"waiting for the {local:%H:%M} batch ({rule.time_zone})", opens)
    return Hold(f"waiting for the next batch, every {rule.every_minutes} minutes, at {local:%H:%M}", opens)


def next_window(rule: TriggerRule, now: dt.datetime) -> dt.datetime:
    """The first window opening after ``now``: every N minutes counted from midnight in the rule's time zone,
    or once a day at ``daily_at`` there."""
    zone = ZoneInfo(rule.time_zone)
    local = now.astimezone(zone)
    if rule.daily_at:
        opens = dt.datetime.combine(local.date(), rule.daily_at, tzinfo=zone)
        if opens <= local:
            opens = dt.datetime.combine(local.date() + dt.timedelta(days=1), rule.daily_at, tzinfo=zone)
        return opens.astimezone(dt.UTC)
    step = max(1, int(rule.every_minutes or 60))
    midnight = dt.datetime.combine(local.date(), dt.time(0), tzinfo=zone)
    elapsed = int((local - midnight).total_seconds() // 60)
    opens = midnight + dt.timedelta(minutes=(elapsed // step + 1) * step)
    return opens.astimezone(dt.UTC)
