"""Writing and claiming outbox entries.

``record_change`` runs inside the host's transaction (from the save receivers): it upserts one pending entry
per connection that should receive the object and registers an ``on_commit`` enqueue. A rollback removes the
entry and the enqueue with it. ``claim`` is a compare-and-set on the row, so two workers (or a task delivered
twice by the broker) never process one entry at once, on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
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


def _targets(organization_id: int) -> list[tuple[int, list, dt.date | None]]:
    """(pk, entities, start_date) of the automatic pushing connections of an organization.

    On every save, so written as one plain query (no secrets decrypted, no ORM compilation)."""
    table = Connection._meta.db_table
    through = Connection.organizations.through._meta.db_table
    sql = (f"SELECT c.id, c.entities, c.start_date FROM {table} c JOIN {through} o ON o.connection_id = c.id "
           f"WHERE o.organization_id = %s AND c.auto_sync = %s AND c.direction IN (%s, %s) AND c.status <> %s")
    db = transaction.get_connection()
    with db.cursor() as cursor:
        cursor.execute(sql, [organization_id, True, Direction.PUSH, Direction.BOTH, ConnectionStatus.DISABLED])
        rows = cursor.fetchall()
    return [(pk, json.loads(entities) if isinstance(entities, str) else entities,
             dt.date.fromisoformat(start) if isinstance(start, str) else start) for pk, entities, start in rows]


class _Transaction:
    """What this host transaction already recorded, so a document saved with its lines costs one upsert and one
    enqueue, not one per row. Bound to the transaction by an ``on_commit`` callback: when that callback is gone
    from the connection's list (committed, rolled back), the state is stale and a fresh one is made."""

    def __init__(self) -> None:
        self.targets: dict[int, list] = {}
        self.recorded: dict[tuple[int, str], tuple[tuple, int]] = {}  # (connection, key) -> (savepoints, entry id)
        self.to_enqueue: list[int] = []
        self.flush = self._flush  # one bound method object, found again by identity

    def _flush(self) -> None:
        ids, self.to_enqueue = self.to_enqueue, []
        enqueue(ids)

    def covers(self, db, conn_id: int, key: str) -> int | None:
        """The entry id if this key was recorded in a savepoint that is still part of the transaction."""
        found = self.recorded.get((conn_id, key))
        if found is None:
            return None
        savepoints, entry_id = found
        return entry_id if tuple(db.savepoint_ids[:len(savepoints)]) == savepoints else None

    @staticmethod
    def forget(entry_id: int) -> None:
        """A worker in this very transaction took the entry: later saves must mark it pending again."""
        state = getattr(transaction.get_connection(), "_accounting_sync_transaction", None)
        if state is not None:
            state.recorded = {k: v for k, v in state.recorded.items() if v[1] != entry_id}

    @classmethod
    def current(cls) -> "_Transaction | None":
        db = transaction.get_connection()
        if not db.in_atomic_block:
            return None
        state = getattr(db, "_accounting_sync_transaction", None)
        if state is None or not any(func is state.flush for _, func, _ in db.run_on_commit):
            state = cls()
            transaction.on_commit(state.flush, robust=True)
            db._accounting_sync_transaction = state
        return state


def record_change(obj, adapter: sources.SourceAdapter) -> list[int]:
    """Queue ``obj`` (saved or deleted) for every target connection; returns the entry ids.

    Runs inside the host's transaction: the entry is written with the host's rows, or not at all. The task that
    processes it is handed to the queue when the transaction commits (with the ORM broker, whose queue is a table
    in the same database, inside the transaction itself: one commit instead of two)."""
    if not conf.get("ENABLED"):
        return []
    org_id = adapter.organization_id(obj)
    state = _Transaction.current()
    if state is not None and org_id in state.targets:
        targets = state.targets[org_id]
    else:
        targets = _targets(org_id)
        if state is not None:
            state.targets[org_id] = targets
    date = adapter.document_date(obj)
    from .inbound import suppressed

    echo = suppressed()  # a change applied from that connection's platform is not sent back to it
    targets = [pk for pk, entities, start in targets
               if adapter.entity in (entities or []) and not (date and start and date < start) and pk not in echo]
    if not targets:
        return []
    db = transaction.get_connection()
    key = sources.key_for(obj)
    label = adapter.label(obj)[:200]
    ids, new = [], []
    for conn_id in targets:
        entry_id = state.covers(db, conn_id, key) if state is not None else None
        if entry_id is None:
            entry_id = upsert_entry(conn_id, key, adapter.entity, org_id, label)
            if state is not None:
                state.recorded[(conn_id, key)] = (tuple(db.savepoint_ids), entry_id)
            new.append(entry_id)
        ids.append(entry_id)
    if new:
        if state is None:
            transaction.on_commit(lambda: enqueue(new), robust=True)  # autocommit: runs at once
        elif _queue_in_transaction():
            # The task row commits (or rolls back) with the entry. On PostgreSQL a failed statement aborts the
            # whole transaction, so the insert gets a savepoint there; SQLite carries on after a failed statement.
            if db.vendor == "sqlite":
                enqueue(new)
            else:
                with transaction.atomic():
                    enqueue(new)
        else:
            state.to_enqueue.extend(new)
    return ids


def _queue_in_transaction() -> bool:
    """True when the task queue is a table in the default database (django-q's ORM broker)."""
    from django.conf import settings

    cluster = getattr(settings, "Q_CLUSTER", {})
    return cluster.get("orm") == "default" and not any(cluster.get(k) for k in ("redis", "sqs", "mongo", "iron_mq"))


UPSERT = """
INSERT INTO {table} (connection_id, source_key, entity, organization_id, label, status, generation, attempts,
                     next_attempt_at, lease_token, last_error, error_code, platform_code, hint, created_at,
                     updated_at, write_started, overwrite_remote)
VALUES (%s, %s, %s, %s, %s, 'pending', 1, 0, %s, '', '', '', '', '', %s, %s, %s, %s)
ON CONFLICT (connection_id, source_key) DO UPDATE SET
    generation = {table}.generation + 1,
    status = CASE WHEN {table}.status = 'in_progress' THEN 'in_progress' ELSE 'pending' END,
    attempts = CASE WHEN {table}.status = 'in_progress' THEN {table}.attempts ELSE 0 END,
    next_attempt_at = excluded.next_attempt_at,
    updated_at = excluded.updated_at,
    label = CASE WHEN excluded.label = '' THEN {table}.label ELSE excluded.label END
RETURNING id
"""


def upsert_entry(conn: Connection | int, key: str, entity: str, organization_id: int | None, label: str = "") -> int:
    """Mark the object's entry for this connection pending (coalescing), creating it if needed.

    A running entry keeps running; its worker sees the new generation and goes round again. One statement on
    SQLite and PostgreSQL (``INSERT ... ON CONFLICT DO UPDATE``); other databases take the portable path."""
    conn_id = conn if isinstance(conn, int) else conn.pk
    now = timezone.now()
    db = transaction.get_connection()
    if db.vendor in ("sqlite", "postgresql"):
        with db.cursor() as cursor:
            cursor.execute(UPSERT.format(table=OutboxEntry._meta.db_table),
                           [conn_id, key, entity, organization_id, label, now, now, now, False, False])
            return cursor.fetchone()[0]
    changes = dict(
        generation=F("generation") + 1,
        status=Case(When(status=EntryStatus.IN_PROGRESS, then=Value(EntryStatus.IN_PROGRESS)),
                    default=Value(EntryStatus.PENDING)),
        attempts=Case(When(status=EntryStatus.IN_PROGRESS, then=F("attempts")), default=Value(0)),
        next_attempt_at=now, updated_at=now,
    )
    if label:
        changes["label"] = label
    qs = OutboxEntry.objects.filter(connection_id=conn_id, source_key=key)
    if not qs.update(**changes):
        try:
            with transaction.atomic():
                return OutboxEntry.objects.create(connection_id=conn_id, source_key=key, entity=entity,
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
                           group="accounting_sync", broker=_broker())
            else:
                async_task("accounting_sync.tasks.process_batch", chunk, broker=_broker(),
                           task_name=f"sync-batch-{chunk[0]}-{len(chunk)}", group="accounting_sync")
        except Exception:  # broker down: the sweeper re-enqueues due entries
            log.warning("could not enqueue outbox entries %s; the sweeper will pick them up", chunk, exc_info=True)


_brokers: dict[tuple, object] = {}


def _broker():
    """One broker object per process and queue (django-q builds a new one per task otherwise)."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    key = (os.getpid(), Conf.PREFIX)
    if key not in _brokers:
        _brokers[key] = get_broker()
    return _brokers[key]


def chunks_by_connection(entry_ids: list[int]) -> list[list[int]]:
    """Split entry ids into per-connection chunks of that platform's batch size, in dependency order (customers
    and items first, then invoices, payments, credit notes), so each chunk of documents fills one request."""
    from connectors import registry
    from connectors.documents import Entity

    rows = OutboxEntry.objects.filter(pk__in=entry_ids).values_list("pk", "connection_id", "connection__platform",
                                                                    "entity")
    groups: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for pk, connection_id, platform, entity in rows:
        groups.setdefault((connection_id, platform), []).append((Entity.ORDER.get(entity, 99), pk))
    out = []
    for (_, platform), keyed in groups.items():
        try:
            size = max(1, registry.get(platform).capabilities.batch_size)
        except Exception:  # platform no longer installed: one by one, each fails with a clear message
            size = 1
        ids = [pk for _, pk in sorted(keyed)]
        out.extend(ids[i:i + size] for i in range(0, len(ids), size))
    return out


def claim(entry_id: int, *, ignore_schedule: bool = False) -> OutboxEntry | None:
    """Take a lease on a due entry (or one whose lease expired). None if someone else holds it or nothing is due."""
    claimed = claim_many([entry_id], ignore_schedule=ignore_schedule)
    return claimed[0] if claimed else None


def claim_many(entry_ids: list[int], *, ignore_schedule: bool = False) -> list[OutboxEntry]:
    """Take leases on those of ``entry_ids`` that are due and free, in one UPDATE; returns them (pk order)."""
    now = timezone.now()
    due = Q(status=EntryStatus.PENDING)
    if not ignore_schedule:
        due &= Q(next_attempt_at__lte=now)
    else:
        due |= Q(status=EntryStatus.FAILED)
    due |= Q(status=EntryStatus.IN_PROGRESS, lease_until__lt=now)
    token = str(uuid.uuid4())
    lease = now + dt.timedelta(seconds=conf.get("LEASE_SECONDS"))
    claimed = OutboxEntry.objects.filter(due, pk__in=entry_ids).update(
        status=EntryStatus.IN_PROGRESS, lease_until=lease, lease_token=token, last_attempt_at=now)
    if not claimed:
        return []
    entries = list(OutboxEntry.objects.select_related("connection").filter(pk__in=entry_ids, lease_token=token)
                   .order_by("pk"))
    for entry in entries:
        _Transaction.forget(entry.pk)
    return entries


def due_entries(limit: int) -> list[int]:
    """Entries the sweeper should enqueue: due and pending, or running with an expired lease (crashed worker)."""
    now = timezone.now()
    return list(
        OutboxEntry.objects.filter(Q(status=EntryStatus.PENDING, next_attempt_at__lte=now)
                                   | Q(status=EntryStatus.IN_PROGRESS, lease_until__lt=now))
        .filter(connection__status=ConnectionStatus.ACTIVE)
        .exclude(connection__paused_until__gt=now)
        .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
