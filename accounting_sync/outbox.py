"""Writing and claiming outbox entries.

``record_change`` runs inside the host's transaction (from the save receivers): it upserts one pending entry
per connection that should receive the object and registers an ``on_commit`` enqueue. A rollback removes the
entry and the enqueue with it. ``claim`` is a compare-and-set on the row, so two workers (or a task delivered
twice by the broker) never process one entry at once, on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from connectors.models import Connection, ConnectionStatus, Direction

from . import conf, sources
from .models import EntryStatus, OutboxEntry

log = logging.getLogger(__name__)


def target_connections(organization_id: int, entity: str, document_date: dt.date | None,
                       *, automatic: bool = True) -> list[Connection]:
    """Connections that should receive this object: pushing, serving its organization, syncing its entity."""
    qs = Connection.objects.filter(organizations=organization_id, direction__in=[Direction.PUSH, Direction.BOTH]) \
        .exclude(status=ConnectionStatus.DISABLED)
    if automatic:
        qs = qs.filter(auto_sync=True)
    return [c for c in qs if c.syncs(entity) and not (document_date and c.start_date and document_date < c.start_date)]


def record_change(obj, adapter: sources.SourceAdapter) -> list[int]:
    """Queue ``obj`` (saved or deleted) for every target connection; returns the entry ids."""
    if not conf.get("ENABLED"):
        return []
    org_id = adapter.organization_id(obj)
    conns = target_connections(org_id, adapter.entity, adapter.document_date(obj))
    key = sources.key_for(obj)
    label = adapter.label(obj)[:200]
    ids = [upsert_entry(conn, key, adapter.entity, org_id, label) for conn in conns]
    if ids:
        transaction.on_commit(lambda: enqueue(ids), robust=True)
    return ids


def upsert_entry(conn: Connection, key: str, entity: str, organization_id: int | None, label: str = "") -> int:
    """Mark the object's entry for this connection pending (coalescing), creating it if needed."""
    now = timezone.now()
    changes = dict(
        generation=F("generation") + 1,
        # A running entry keeps running; the worker sees the new generation and goes round again.
        status=Case(When(status=EntryStatus.IN_PROGRESS, then=Value(EntryStatus.IN_PROGRESS)),
                    default=Value(EntryStatus.PENDING)),
        attempts=Case(When(status=EntryStatus.IN_PROGRESS, then=F("attempts")), default=Value(0)),
        next_attempt_at=now, updated_at=now,
    )
    if label:
        changes["label"] = label
    qs = OutboxEntry.objects.filter(connection=conn, source_key=key)
    if not qs.update(**changes):
        try:
            with transaction.atomic():
                return OutboxEntry.objects.create(connection=conn, source_key=key, entity=entity,
                                                  organization_id=organization_id, label=label).pk
        except IntegrityError:  # another transaction created it first
            qs.update(**changes)
    return qs.values_list("pk", flat=True).get()


def enqueue(entry_ids: list[int]) -> None:
    """Ask the task queue to process entries. Losing this message is harmless: the sweeper finds them.

    One entry goes as one task; many (a resync, a backlog) go as batch tasks of the platform's batch size."""
    if not conf.get("QUEUE_TASKS") or not entry_ids:
        return
    from django_q.tasks import async_task

    for chunk in ([list(entry_ids)] if len(entry_ids) == 1 else chunks_by_connection(entry_ids)):
        try:
            if len(chunk) == 1:
                async_task("accounting_sync.tasks.process_entry", chunk[0], task_name=f"sync-entry-{chunk[0]}",
                           group="accounting_sync")
            else:
                async_task("accounting_sync.tasks.process_batch", chunk,
                           task_name=f"sync-batch-{chunk[0]}-{len(chunk)}", group="accounting_sync")
        except Exception:  # broker down: the sweeper re-enqueues due entries
            log.warning("could not enqueue outbox entries %s; the sweeper will pick them up", chunk, exc_info=True)


def chunks_by_connection(entry_ids: list[int]) -> list[list[int]]:
    """Split entry ids into per-connection chunks of that platform's batch size."""
    from connectors import registry

    rows = OutboxEntry.objects.filter(pk__in=entry_ids).values_list("pk", "connection_id", "connection__platform")
    groups: dict[tuple[int, str], list[int]] = {}
    for pk, connection_id, platform in rows:
        groups.setdefault((connection_id, platform), []).append(pk)
    out = []
    for (_, platform), ids in groups.items():
        try:
            size = max(1, registry.get(platform).capabilities.batch_size)
        except Exception:  # platform no longer installed: one by one, each fails with a clear message
            size = 1
        ids.sort()
        out.extend(ids[i:i + size] for i in range(0, len(ids), size))
    return out


def claim(entry_id: int, *, ignore_schedule: bool = False) -> OutboxEntry | None:
    """Take a lease on a due entry (or one whose lease expired). None if someone else holds it or nothing is due."""
    now = timezone.now()
    due = Q(status=EntryStatus.PENDING)
    if not ignore_schedule:
        due &= Q(next_attempt_at__lte=now)
    else:
        due |= Q(status=EntryStatus.FAILED)
    due |= Q(status=EntryStatus.IN_PROGRESS, lease_until__lt=now)
    token = str(uuid.uuid4())
    lease = now + dt.timedelta(seconds=conf.get("LEASE_SECONDS"))
    claimed = OutboxEntry.objects.filter(due, pk=entry_id).update(
        status=EntryStatus.IN_PROGRESS, lease_until=lease, lease_token=token, last_attempt_at=now)
    if not claimed:
        return None
    return OutboxEntry.objects.select_related("connection").get(pk=entry_id)


def due_entries(limit: int) -> list[int]:
    """Entries the sweeper should enqueue: due and pending, or running with an expired lease (crashed worker)."""
    now = timezone.now()
    return list(
        OutboxEntry.objects.filter(Q(status=EntryStatus.PENDING, next_attempt_at__lte=now)
                                   | Q(status=EntryStatus.IN_PROGRESS, lease_until__lt=now))
        .filter(connection__status=ConnectionStatus.ACTIVE)
        .exclude(connection__paused_until__gt=now)
        .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
