"""Writing, absorbing and claiming outbox entries.

``record_change`` runs inside the host's transaction (from the save receivers): it appends one
``OutboxChange`` row per connection that should receive the object, and nothing else, so a save stays cheap. A
rollback removes the change with the host's rows. The dispatcher (``absorb``) folds committed changes into one
pending ``OutboxEntry`` per (connection, object), coalescing repeated saves, and ``lease_due`` hands due entries
out in chunks. ``claim`` is a compare-and-set on the row, so two workers (or a task delivered twice by the
broker) never process one entry at once, on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.brokers import get_broker
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.conf import Conf
from django_q.tasks import async_task

from connectors import registry
from connectors.documents import Entity
from connectors.models import Connection, ConnectionStatus, Direction

from .. import conf
from ..models import EntryStatus, OutboxChange, OutboxEntry
from . import sources
from .echo import suppressed as echo_of_inbound

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
    sql = (f"SELECT c.id, c.entities, c.start_date FROM {table} c "  # nosec B608
           f"JOIN {through} o ON o.connection_id = c.id "
           f"WHERE o.organization_id = %s AND c.auto_sync = %s AND c.direction IN (%s, %s) AND c.status <> %s")
    db = transaction.get_connection()
    with db.cursor() as cursor:
        cursor.execute(sql, [organization_id, True, Direction.PUSH, Direction.BOTH, ConnectionStatus.DISABLED])
        rows = cursor.fetchall()
    return [(pk, json.loads(entities) if isinstance(entities, str) else entities,
             dt.date.fromisoformat(start) if isinstance(start, str) else start) for pk, entities, start in rows]


class _Transaction:
    """What this host transaction already recorded, so a document saved with its lines costs one change row, not
    one per row. Bound to the transaction by an ``on_commit`` callback: when that callback is gone from the
    connection's list (committed, rolled back), the state is stale and a fresh one is made."""

    def __init__(self) -> None:
        self.targets: dict[int, list] = {}
        self.recorded: dict[tuple[int, str], tuple] = {}  # (connection, key) -> savepoints when recorded
        self.to_wake: set[int] = set()
        self.flush = self._flush  # one bound method object, found again by identity

    def _flush(self) -> None:
        conn_ids, self.to_wake = self.to_wake, set()
        if conn_ids:
            wake(conn_ids)

    def covers(self, db, conn_id: int, key: str) -> bool:
        """True if this key was recorded in a savepoint that is still part of the transaction."""
        savepoints = self.recorded.get((conn_id, key))
        return savepoints is not None and tuple(db.savepoint_ids[:len(savepoints)]) == savepoints

    @staticmethod
    def forget_all() -> None:
        """The dispatcher ran inside this very transaction and took its changes: later saves record anew."""
        state = getattr(transaction.get_connection(), "_accounting_sync_transaction", None)
        if state is not None:
            state.recorded.clear()

    @classmethod
    def current(cls) -> _Transaction | None:
        db = transaction.get_connection()
        if not db.in_atomic_block:
            return None
        state = getattr(db, "_accounting_sync_transaction", None)
        if state is None or not any(func is state.flush for _, func, _ in db.run_on_commit):
            state = cls()
            transaction.on_commit(state.flush, robust=True)
            db._accounting_sync_transaction = state
        return state


CHANGE = ("INSERT INTO {table} (connection_id, source_key, entity, organization_id, label, created_at) "
          "VALUES (%s, %s, %s, %s, %s, %s)")


def record_change(obj, adapter: sources.SourceAdapter) -> int:
    """Queue ``obj`` (saved or deleted) for every target connection; returns how many connections.

    Runs inside the host's transaction and writes one ``OutboxChange`` row per connection: the change commits
    with the host's rows, or not at all. The dispatcher folds it into the object's outbox entry: the ORM broker
    (``accounting_sync.broker.OutboxBroker``) looks for changes itself, so the save hands nothing to the queue;
    any other broker gets one wake-up task per transaction, after the commit."""
    if not conf.get("ENABLED"):
        return 0
    org_id = adapter.organization_id(obj)
    state = _Transaction.current()
    if state is not None and org_id in state.targets:
        targets = state.targets[org_id]
    else:
        targets = _targets(org_id)
        if state is not None:
            state.targets[org_id] = targets
    if not targets:
        return 0
    date = adapter.document_date(obj)
    echo = echo_of_inbound()  # a change applied from that connection's platform is not sent back to it
    targets = [pk for pk, entities, start in targets
               if adapter.entity in (entities or []) and not (date and start and date < start) and pk not in echo]
    if not targets:
        return 0
    db = transaction.get_connection()
    key = sources.key_for(obj)
    new = [pk for pk in targets if state is None or not state.covers(db, pk, key)]
    if not new:
        return len(targets)
    label, now = adapter.label(obj)[:200], timezone.now()
    with db.cursor() as cursor:
        cursor.executemany(CHANGE.format(table=OutboxChange._meta.db_table),
                           [(conn_id, key, adapter.entity, org_id, label, now) for conn_id in new])
    if state is not None:
        savepoints = tuple(db.savepoint_ids)
        for conn_id in new:
            state.recorded[(conn_id, key)] = savepoints
    if not dispatcher_polls():
        if state is None:
            transaction.on_commit(lambda: wake(new), robust=True)  # autocommit: runs at once
        else:
            state.to_wake.update(new)
    return len(targets)


def dispatcher_polls() -> bool:
    """True when the task queue's broker is ``OutboxBroker`` (or a subclass): its pusher absorbs changes and
    hands out due entries by itself, so nothing has to be enqueued for them. Not with ``Q_CLUSTER["sync"]``
    (a host's tests): no pusher runs then, so each transaction's wake-up runs the dispatcher in-process."""
    return not Conf.SYNC and _is_outbox_broker(Conf.BROKER_CLASS)


@functools.lru_cache(maxsize=8)
def _is_outbox_broker(path: str | None) -> bool:
    try:
        return bool(path) and bool(getattr(import_string(path), "polls_outbox", False))
    except ImportError:
        return False


def wake(connection_ids) -> None:
    """Ask the queue (a broker that does not poll the outbox) to absorb and send these connections' changes.

    At most one wake-up of a connection waits in the queue: a connection whose wake-up has not started yet gets no
    second one (``_unmarked``), since that one takes in every change committed before it starts. So a burst of one
    company's saves queues one task, not one per save that would find its work done."""
    if not conf.get("QUEUE_TASKS"):
        return
    ids = _unmarked(sorted(connection_ids))
    if ids and not _push("accounting_sync.tasks.dispatch", ids, name=f"sync-dispatch-{'-'.join(map(str, ids))}"):
        woken(ids)  # nothing is on its way after all: the next save tries again


#: How long a connection's wake-up mark lasts at most: a wake-up lost on its way (a worker killed after taking it)
#: holds that connection's next saves' wake-ups back no longer than this; the sweeper finds what it left.
WAKE_MARK_SECONDS = 30


def _marks():
    """Where wake-up marks are kept: the Redis of django-q2's Redis broker (shared by every process of the queue);
    None with any other broker or with tasks run inline, where every save sends its wake-up."""
    if Conf.SYNC:
        return None
    broker = _broker()
    return broker.connection if isinstance(broker, RedisBroker) else None


def _mark(connection_id: int) -> str:
    return f"{Conf.PREFIX}:accounting_sync:waking:{connection_id}"


def _unmarked(connection_ids: list[int]) -> list[int]:
    """Mark these connections as having a wake-up on its way (``SET NX``, expiring); returns those that had none
    (all of them without marks, or when Redis does not answer: a wake-up too many is harmless)."""
    client = _marks()
    if client is None or not connection_ids:
        return connection_ids
    try:
        pipe = client.pipeline(transaction=False)
        for pk in connection_ids:
            pipe.set(_mark(pk), "1", nx=True, ex=WAKE_MARK_SECONDS)
        return [pk for pk, new in zip(connection_ids, pipe.execute(), strict=True) if new]
    except Exception:
        log.warning("could not mark wake-ups of %s; sending them", connection_ids, exc_info=True)
        return connection_ids


def woken(connection_ids) -> None:
    """A wake-up of these connections starts (or was never sent): their marks go before it takes their changes in,
    so a save committed from now on sends a wake-up of its own, and one committed before is taken in by this one."""
    client = _marks()
    if client is None or not connection_ids:
        return
    try:
        client.delete(*[_mark(pk) for pk in connection_ids])
    except Exception:  # the marks expire by themselves
        log.warning("could not clear the wake-up marks of %s", connection_ids, exc_info=True)


def absorb(chunk: int = 1000, most: int | None = None, connection_ids=None, saved_before=None) -> list[int]:
    """Fold committed changes into their outbox entries (all of them, or about ``most``; those of ``connection_ids``
    only, when given; those saved before ``saved_before`` only, when given), ``chunk`` changes per transaction that
    also deletes them; returns the ids of the entries marked pending. Two dispatchers at once never absorb one
    change twice on PostgreSQL (``SKIP LOCKED``); SQLite runs one writer at a time anyway."""
    ids: list[int] = []
    if transaction.get_connection().vendor == "sqlite" and not _pending(connection_ids, saved_before).exists():
        return ids  # the usual poll: a read, no write lock taken (elsewhere the locking read below is as cheap)
    absorbed = 0
    while most is None or absorbed < most:
        taken, marked = _absorb_chunk(chunk, connection_ids, saved_before)
        ids += marked
        absorbed += taken
        if taken < chunk:
            break
    return ids


# ``_absorb_chunk``'s read and delete of the changes it takes, in one statement on PostgreSQL: the oldest ``limit``
# changes (of these connections, saved before then, when given) that no other transaction holds, with whether their
# connection still exists.
_TAKE_CHANGES = """
DELETE FROM {change} WHERE id IN (SELECT id FROM {change} WHERE {where} ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)
RETURNING id, connection_id, source_key, entity, organization_id, label,
          EXISTS (SELECT 1 FROM {conn} WHERE {conn}.id = {change}.connection_id)
"""


def _take_changes(limit: int, connection_ids, saved_before) -> list[tuple]:
    where, params = ["TRUE"], []
    if connection_ids is not None:
        where.append("connection_id = ANY(%s)")
        params.append(list(connection_ids))
    if saved_before is not None:
        where.append("created_at < %s")
        params.append(saved_before)
    sql = _TAKE_CHANGES.format(change=OutboxChange._meta.db_table, conn=Connection._meta.db_table,
                               where=" AND ".join(where))
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return sorted(cursor.fetchall())


def _pending(connection_ids, saved_before):
    pending = OutboxChange.objects.all()
    if connection_ids is not None:
        pending = pending.filter(connection_id__in=list(connection_ids))
    if saved_before is not None:
        pending = pending.filter(created_at__lt=saved_before)
    return pending


def _absorb_chunk(limit: int, connection_ids, saved_before) -> tuple[int, list[int]]:
    live = Exists(Connection.objects.filter(pk=OuterRef("connection_id")))
    postgresql = transaction.get_connection().vendor == "postgresql"
    with transaction.atomic():
        if postgresql:
            changes = _take_changes(limit, connection_ids, saved_before)
        else:
            taken = _pending(connection_ids, saved_before).select_for_update(skip_locked=True, of=("self",))
            changes = list(taken.annotate(live=live).order_by("pk").values_list(
                "pk", "connection_id", "source_key", "entity", "organization_id", "label", "live")[:limit])
        if not changes:
            return 0, []
        latest: dict[tuple[int, str], tuple] = {}
        for _, conn_id, key, entity, org_id, label, exists in changes:
            if exists:  # a change for a connection deleted meanwhile has nowhere to go
                latest[(conn_id, key)] = (entity, org_id, label)
        ids = [upsert_entry(conn_id, key, entity, org_id, label)
               for (conn_id, key), (entity, org_id, label) in latest.items()]
        if not postgresql:
            OutboxChange.objects.filter(pk__in=[c[0] for c in changes]).delete()
    _Transaction.forget_all()
    return len(changes), ids


UPSERT = """
INSERT INTO {table} (connection_id, source_key, entity, organization_id, label, status, generation, attempts,
                     next_attempt_at, lease_token, last_error, error_code, platform_code, hint, created_at,
                     updated_at, write_started, overwrite_remote, refusals, send_now)
VALUES (%s, %s, %s, %s, %s, 'pending', 1, 0, %s, '', '', '', '', '', %s, %s, %s, %s, 0, %s)
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
                           [conn_id, key, entity, organization_id, label, now, now, now, False, False, False])
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

    One entry goes as one task; a few (up to ``CHAINS_PER_CONNECTION`` chunks of a connection) as batch tasks of
    the platform's batch size. A connection with more (a resync, a backlog) gets *chains* instead
    (``start_chains``): a bounded number of tasks, each queueing that connection's next chunk when it finishes, at
    the back of the queue. So on a first-in-first-out broker (Redis) a 10,000-invoice backlog keeps a few tasks in
    the list, and every other company's wake-up is taken between two of its chunks, not after all of them.
    With ``OutboxBroker`` nothing is sent: its dispatcher hands out every due entry by itself."""
    if not conf.get("QUEUE_TASKS") or not entry_ids or dispatcher_polls():
        return
    if len(entry_ids) == 1:
        _push("accounting_sync.tasks.process_entry", entry_ids[0], name=f"sync-entry-{entry_ids[0]}")
        return
    per_connection: dict[int, list[list[int]]] = {}
    for conn_id, chunk in _chunks_by_connection(entry_ids):
        per_connection.setdefault(conn_id, []).append(chunk)
    backlogs = [conn_id for conn_id, chunks in per_connection.items()
                if len(chunks) > conf.get("CHAINS_PER_CONNECTION") and not _runs_inline()]
    for conn_id, chunks in per_connection.items():
        if conn_id in backlogs:
            continue
        for chunk in chunks:
            if len(chunk) == 1:
                _push("accounting_sync.tasks.process_entry", chunk[0], name=f"sync-entry-{chunk[0]}")
            else:
                _push("accounting_sync.tasks.process_batch", chunk, name=f"sync-batch-{chunk[0]}-{len(chunk)}")
    if backlogs:
        start_chains(backlogs, busy_too=True)


def start_chains(connection_ids=None, *, busy_too: bool = False) -> int:
    """Start up to ``CHAINS_PER_CONNECTION`` chains for each of these connections (all active ones if None) that has
    due entries; returns how many entries the chains' first chunks leased.

    A chain's chunk is leased here, in turns across connections (``lease_due``), and handed to the queue as
    ``tasks.process_chain``; when it finishes it leases and queues its connection's next chunk (``chain_next``).
    A connection whose entries are leased already (a chain in the queue or a worker on it) gets none, unless
    ``busy_too`` (an explicit enqueue: staff's "sync now", a resync): so the sweeper and the wake-ups never pile
    chains onto a backlog that is draining. A lost chain task leaves its lease to expire (``HANDOUT_SECONDS``); the
    sweeper then starts the chain again."""
    if not conf.get("QUEUE_TASKS") or (connection_ids is not None and not connection_ids):
        return 0
    now = timezone.now()
    candidates = _active_connections(now, connection_ids)
    if not busy_too:
        busy = set(OutboxEntry.objects.filter(connection_id__in=candidates, status=EntryStatus.IN_PROGRESS,
                                              lease_until__gte=now).values_list("connection_id", flat=True))
        candidates = [pk for pk in candidates if pk not in busy]
    if not candidates:
        return 0
    leased = 0
    for ids, token in lease_due(candidates, limit=None, turns=conf.get("CHAINS_PER_CONNECTION")):
        _push_chain(ids, token)
        leased += len(ids)
    return leased


def chain_next(connection_id: int) -> tuple[list[int], str] | None:
    """Lease this connection's next chunk of due entries for its chain; None when nothing is due (the chain ends).
    Queues it as the chain's next task unless tasks run inline (then the caller runs it)."""
    chunks = lease_due([connection_id], limit=None, turns=1)
    if not chunks:
        return None
    for ids, token in chunks[1:]:  # one turn is one chunk; a second would be a platform's size change meanwhile
        _push_chain(ids, token)
    if _runs_inline():
        return chunks[0]
    _push_chain(*chunks[0])
    return None


def _push_chain(entry_ids: list[int], token: str) -> None:
    _push("accounting_sync.tasks.process_chain", entry_ids, token,
          name=f"sync-chain-{entry_ids[0]}-{len(entry_ids)}")


def _push(func: str, *args, name: str) -> bool:
    """Queue one task; False when the broker would not take it."""
    try:
        async_task(task_function(func), *args, task_name=name[:100], group="accounting_sync", broker=_broker())
    except Exception:  # broker down: the sweeper re-enqueues due entries (and leased ones once their lease ends)
        log.warning("could not enqueue %s%s; the sweeper will pick it up", func, args[:1], exc_info=True)
        return False
    return True


@functools.lru_cache(maxsize=32)
def task_function(path: str):
    """The task function a django-q2 task names (``accounting_sync.tasks.dispatch``), resolved once per process.
    Handed over as the function itself (pickled by its module and name), a worker runs it without ``pydoc.locate``,
    which tries the whole path as a module first and reads the failed import's traceback source lines: about a
    twentieth of a busy cluster's CPU."""
    return import_string(path)


def _runs_inline() -> bool:
    """True with ``Q_CLUSTER["sync"]`` (a host's tests): a queued task runs at once in this process, so a chain
    goes on in a loop rather than by queueing itself (which would recurse). Also when nothing is to be queued
    (``QUEUE_TASKS`` off) and a chain's task was called directly."""
    from django_q.conf import Conf  # read at call time: tests switch it

    return bool(Conf.SYNC) or not conf.get("QUEUE_TASKS")


_brokers: dict[tuple, object] = {}


def _broker():
    """One broker object per process and queue (django-q builds a new one per task otherwise)."""
    key = (os.getpid(), Conf.PREFIX)
    if key not in _brokers:
        _brokers[key] = get_broker()
    return _brokers[key]


def chunks_by_connection(entry_ids: list[int]) -> list[list[int]]:
    """Split entry ids into per-connection chunks of that platform's batch size, in dependency order (customers
    and items first, then invoices, payments, credit notes), so each chunk of documents fills one request."""
    return [chunk for _, chunk in _chunks_by_connection(entry_ids)]


def _chunks_by_connection(entry_ids: list[int]) -> list[tuple[int, list[int]]]:
    """``chunks_by_connection`` with each chunk's connection id."""
    return _chunks_of(OutboxEntry.objects.filter(pk__in=entry_ids))


def _chunks_of(entries) -> list[tuple[int, list[int]]]:
    """The entries of queryset ``entries`` in per-connection chunks (connection id, entry ids), as
    ``chunks_by_connection`` makes them; one query."""
    return _chunked(entries.values_list("pk", "connection_id", "connection__platform", "entity"))


def _chunked(rows) -> list[tuple[int, list[int]]]:
    """(pk, connection id, platform, entity) rows in per-connection chunks (connection id, entry ids)."""
    groups: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for pk, connection_id, platform, entity in rows:
        groups.setdefault((connection_id, platform), []).append((Entity.ORDER.get(entity, 99), pk))
    out = []
    for (connection_id, platform), keyed in groups.items():
        try:
            size = max(1, registry.get(platform).capabilities.batch_size)
        except Exception:  # platform no longer installed: one by one, each fails with a clear message
            size = 1
        ids = [pk for _, pk in sorted(keyed)]
        out.extend((connection_id, ids[i:i + size]) for i in range(0, len(ids), size))
    return out


def lock_in_order(qs) -> list[int]:
    """Lock the rows of ``qs`` in pk order and return their pks (inside a transaction). A lease is taken only on rows
    locked this way: a multi-row UPDATE locks in whatever order its plan visits the rows, and could close a cycle
    with a worker whose transaction holds one of them and wants one this UPDATE locked first (PostgreSQL deadlock).
    Every transaction that locks several entries does so in pk order, so a wait never closes a cycle."""
    return list(qs.select_for_update().order_by("pk").values_list("pk", flat=True))


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
    else:  # run now whatever its schedule: a dependency needed at once, or staff's "retry now"
        due |= Q(status__in=[EntryStatus.FAILED, EntryStatus.WAITING])
    due |= Q(status=EntryStatus.IN_PROGRESS, lease_until__lt=now)
    token = str(uuid.uuid4())
    lease = now + dt.timedelta(seconds=conf.get("LEASE_SECONDS"))
    if transaction.get_connection().vendor == "postgresql":  # one statement (a dependency's claim: was five)
        return _lease_loaded(_PICK_IDS, [list(entry_ids)], now, lease, token,
                             due=(_CLAIMABLE, [now]) if ignore_schedule else None)
    with transaction.atomic():
        free = lock_in_order(OutboxEntry.objects.filter(due, pk__in=entry_ids))
        if not free or not OutboxEntry.objects.filter(pk__in=free).update(
                status=EntryStatus.IN_PROGRESS, lease_until=lease, lease_token=token, last_attempt_at=now):
            return []
    return list(OutboxEntry.objects.select_related("connection").filter(pk__in=entry_ids, lease_token=token)
                .order_by("pk"))


def _due(now, due_by=None) -> Q:
    """Due and pending (by ``due_by``, default now), or running with an expired lease (a crashed worker)."""
    return (Q(status=EntryStatus.PENDING, next_attempt_at__lte=now if due_by is None else due_by)
            | Q(status=EntryStatus.IN_PROGRESS, lease_until__lt=now))


HANDOUT_SECONDS = 60  # a handed-out chunk no worker started by then (its cluster stopped) is handed out again


def lease_due(connection_ids=None, *, limit: int | None = 200, turns: int | None = None) -> list[tuple[list[int], str]]:
    """Take leases on up to ``limit`` due entries of active, unpaused connections (all, or ``connection_ids``);
    returns them as (entry ids, lease token) chunks: per connection, in dependency order, of the platform's
    batch size. The dispatcher hands each chunk to a worker, which renews the lease for ``LEASE_SECONDS`` when
    it starts; until then it lasts ``HANDOUT_SECONDS``. A chunk handed out again meanwhile leaves the first
    worker nothing under its token.

    The entries are taken in turns across connections (``fair_due``): one connection's backlog never fills a
    round while another connection's single document waits. The chunks come back in the same turns (the first
    chunk of every connection, then the second...), so a worker pool takes them in that order too. With ``turns``,
    at most that many turns (request-fulls) of each connection."""
    return lease_round(connection_ids, limit=limit, turns=turns)[0]


def lease_round(connection_ids=None, *, limit: int | None = 200,
                turns: int | None = None) -> tuple[list[tuple[list[int], str]], bool]:
    """``lease_due``, and whether the round was full (``limit`` due entries found: more may be due). A round that
    was not full took every entry of these connections that was due, so nothing of theirs is left to chain."""
    now = timezone.now()
    active = _active_connections(now, connection_ids)
    if not active:
        return [], False
    order = fair_due(now, active, limit, turns=turns)
    full = limit is not None and len(order) >= limit
    if not order:
        return [], False
    ids = [pk for pk, _ in order]
    token = str(uuid.uuid4())
    lease = now + dt.timedelta(seconds=HANDOUT_SECONDS)
    with transaction.atomic():
        free = lock_in_order(OutboxEntry.objects.filter(_due(now), pk__in=ids))
        if not free or not OutboxEntry.objects.filter(pk__in=free).update(
                status=EntryStatus.IN_PROGRESS, lease_until=lease, lease_token=token, last_attempt_at=now):
            return [], full
    held = _chunks_of(OutboxEntry.objects.filter(pk__in=ids, lease_token=token))
    return [(chunk, token) for _, chunk in _in_turns(held, order)], full


def lease_to_run(connection_ids=None, *, limit: int = 200) -> tuple[list[list[OutboxEntry]], bool]:
    """``lease_round`` for a worker that runs what it leases itself (a wake-up, ``tasks.dispatch``): the leases last
    ``LEASE_SECONDS`` from the start and the entries come back loaded (with their connection), in the same chunks and
    turns, so nothing is handed out and taken again (``take_leased``). Also whether the round was full."""
    now = timezone.now()
    token = str(uuid.uuid4())
    lease = now + dt.timedelta(seconds=conf.get("LEASE_SECONDS"))
    one = connection_ids is not None and len(connection_ids) == 1
    if one and transaction.get_connection().vendor == "postgresql":  # one save's wake-up: one statement
        held = _lease_loaded(_PICK_ONE, [connection_ids[0], ConnectionStatus.ACTIVE, now, now, now, limit], now,
                             lease, token)
        by_pk = {e.pk: e for e in held}
        chunks = _chunked((e.pk, e.connection_id, e.connection.platform, e.entity) for e in held)
        return [[by_pk[pk] for pk in sorted(chunk)] for _, chunk in chunks], len(held) >= limit
    if one:  # one read finds what is due
        order = list(OutboxEntry.objects.filter(_due(now), connection_id=connection_ids[0],
                                                connection__status=ConnectionStatus.ACTIVE)
                     .exclude(connection__paused_until__gt=now)
                     .order_by("next_attempt_at", "pk").values_list("pk", "connection_id")[:limit])
    else:
        active = _active_connections(now, connection_ids)
        order = fair_due(now, active, limit) if active else []
    full = len(order) >= limit
    if not order:
        return [], full
    ids = [pk for pk, _ in order]
    if transaction.get_connection().vendor == "postgresql":
        held = {e.pk: e for e in _lease_loaded(_PICK_IDS, [ids], now, lease, token)}
    else:
        with transaction.atomic():
            free = lock_in_order(OutboxEntry.objects.filter(_due(now), pk__in=ids))
            if not free or not OutboxEntry.objects.filter(pk__in=free).update(
                    status=EntryStatus.IN_PROGRESS, lease_until=lease, lease_token=token, last_attempt_at=now):
                return [], full
        held = {e.pk: e for e in OutboxEntry.objects.select_related("connection").filter(pk__in=free,
                                                                                           lease_token=token)}
    chunks = _chunked((e.pk, e.connection_id, e.connection.platform, e.entity) for e in held.values())
    return [[held[pk] for pk in sorted(chunk)] for _, chunk in _in_turns(chunks, order)], full


# The lease of ``lease_to_run`` and ``take_leased`` on PostgreSQL, in one statement instead of four (a read of what
# is due, the locks, the UPDATE, a read of the entries with their connection): the rows to take (``{pick}``) are
# locked in pk order like ``lock_in_order`` does, so a wait never closes a cycle with another lease; a row changed
# while this waited for it is checked again (the conditions of the locking read) before it is taken; the UPDATE
# returns the entries with their connection's row.
_LEASE = """
WITH locked AS (
    SELECT id FROM {entry} WHERE id IN ({pick}) AND {due} ORDER BY id FOR UPDATE
)
UPDATE {entry} AS e SET status = 'in_progress', lease_until = %s, lease_token = %s, last_attempt_at = %s
FROM {conn} AS c
WHERE e.id IN (SELECT id FROM locked) AND c.id = e.connection_id
RETURNING {columns}
"""
_DUE = "((status = 'pending' AND next_attempt_at <= %s) OR (status = 'in_progress' AND lease_until < %s))"
# The due entries of one active, unpaused connection, oldest first (a wake-up's; ``_due`` and ``lease_to_run``).
_PICK_ONE = ("SELECT e.id FROM {entry} AS e JOIN {conn} AS c ON c.id = e.connection_id WHERE e.connection_id = %s "
             "AND c.status = %s AND NOT (c.paused_until IS NOT NULL AND c.paused_until > %s) AND "
             "((e.status = 'pending' AND e.next_attempt_at <= %s) "
             "OR (e.status = 'in_progress' AND e.lease_until < %s)) ORDER BY e.next_attempt_at, e.id LIMIT %s")
_PICK_IDS = "SELECT unnest(%s::bigint[])"  # these entries (a round ``fair_due`` chose; a chunk handed out)
# ``claim_many(ignore_schedule=True)``: whatever its schedule (a dependency needed at once, staff's "retry now").
_CLAIMABLE = (f"(status IN ('{EntryStatus.PENDING.value}', '{EntryStatus.FAILED.value}', "
              f"'{EntryStatus.WAITING.value}') OR (status = '{EntryStatus.IN_PROGRESS.value}' AND lease_until < %s))")


def _lease_loaded(pick: str, pick_params: list, now, lease, token: str, *, held_by: str = "",
                  due: tuple[str, list] | None = None) -> list[OutboxEntry]:
    """Lease the entries ``pick`` selects that are still due (or, with ``held_by``, still held under that token; with
    ``due``, that condition and its parameters) until ``lease`` under ``token``, in one statement; returns them (pk
    order) with their connection loaded."""
    entry, conn = OutboxEntry._meta, Connection._meta
    columns = [f"e.{f.column}" for f in entry.concrete_fields] + [f"c.{f.column}" for f in conn.concrete_fields]
    if due is None:
        due = ("(status = 'in_progress' AND lease_token = %s)", [held_by]) if held_by else (_DUE, [now, now])
    sql = _LEASE.format(entry=entry.db_table, conn=conn.db_table, columns=", ".join(columns), due=due[0],
                        pick=pick.format(entry=entry.db_table, conn=conn.db_table))
    db = transaction.get_connection()
    with db.cursor() as cursor:
        cursor.execute(sql, [*pick_params, *due[1], lease, token, now])
        rows = cursor.fetchall()
    return sorted(_with_connections(db, rows), key=lambda e: e.pk)


def _with_connections(db, rows) -> list[OutboxEntry]:
    """Entries from rows of their columns followed by their connection's, as ``select_related`` loads them."""
    entry_fields, conn_fields = OutboxEntry._meta.concrete_fields, Connection._meta.concrete_fields
    compiler = OutboxEntry.objects.none().query.get_compiler(connection=db)
    converters = compiler.get_converters([f.get_col(f.model._meta.db_table) for f in (*entry_fields, *conn_fields)])
    if converters:
        rows = compiler.apply_converters(rows, converters)
    n, relation = len(entry_fields), OutboxEntry._meta.get_field("connection")
    entry_names, conn_names = [f.attname for f in entry_fields], [f.attname for f in conn_fields]
    loaded = []
    for row in rows:
        entry = OutboxEntry.from_db(db.alias, entry_names, row[:n])
        relation.set_cached_value(entry, Connection.from_db(db.alias, conn_names, row[n:]))
        loaded.append(entry)
    return loaded


def take_leased(entry_ids: list[int], token: str) -> list[OutboxEntry]:
    """The entries of a handed-out chunk this worker still holds (pk order), their leases renewed from now."""
    now = timezone.now()
    lease = now + dt.timedelta(seconds=conf.get("LEASE_SECONDS"))
    if transaction.get_connection().vendor == "postgresql":
        return _lease_loaded(_PICK_IDS, [list(entry_ids)], now, lease, token, held_by=token)
    with transaction.atomic():
        held = lock_in_order(OutboxEntry.objects.filter(pk__in=entry_ids, lease_token=token,
                                                         status=EntryStatus.IN_PROGRESS))
        if not held or not OutboxEntry.objects.filter(pk__in=held).update(lease_until=lease, last_attempt_at=now):
            return []
    return list(OutboxEntry.objects.select_related("connection").filter(pk__in=entry_ids, lease_token=token)
                .order_by("pk"))


def due_entries(limit: int, due_by=None) -> list[int]:
    """Entries the sweeper should enqueue: due and pending (since ``due_by``, when given), or running with an
    expired lease (crashed worker), of active, unpaused connections; taken in turns across connections like
    ``lease_due``."""
    now = timezone.now()
    active = _active_connections(now)
    return [pk for pk, _ in fair_due(now, active, limit, due_by=due_by)] if active else []


def connections_of(entry_ids: list[int]) -> list[int]:
    return sorted(set(OutboxEntry.objects.filter(pk__in=entry_ids).values_list("connection_id", flat=True)))


def _active_connections(now, connection_ids=None) -> list[int]:
    conns = Connection.objects.filter(status=ConnectionStatus.ACTIVE).exclude(paused_until__gt=now)
    if connection_ids is not None:
        conns = conns.filter(pk__in=list(connection_ids))
    return list(conns.values_list("pk", flat=True))


def fair_due(now, connection_ids: list[int], limit: int | None, *, turns: int | None = None,
             due_by=None) -> list[tuple[int, int]]:
    """Up to ``limit`` due entries of these connections as (pk, connection id), taken round-robin in *turns*: a
    connection's due entries, oldest first, are numbered per connection (``ROW_NUMBER() OVER (PARTITION BY
    connection)``) and its n-th entry falls in turn ``(n - 1) // batch size`` of its platform, so every turn takes
    one full request's worth from each connection with due work. Turn 0 of every connection comes before turn 1
    of any; within a turn, the connection whose entry waited longest goes first. A 10,000-entry backlog thus takes
    what the round leaves over, never a small tenant's place.

    A plain read, no row lock: ``lease_due`` then locks the rows it takes in pk order (``lock_in_order``) and
    leases them with a compare-and-set, as before. One query on SQLite and PostgreSQL (window functions), which
    numbers every due entry of those connections: about 0.02 s for 14,000, 0.2 s for 104,000 on the 2-core
    development machine (docs/operations.md, "Fairness and scale-out"). With ``turns``, only each connection's first
    ``turns`` turns (``limit`` None: all of those). ``due_by``: pending entries due by then only (the sweeper)."""
    if turns is None and len(connection_ids) == 1:  # one connection (a save's wake-up): turns are its own order
        rows = (OutboxEntry.objects.filter(_due(now, due_by), connection_id=connection_ids[0])
                .order_by("next_attempt_at", "pk").values_list("pk", "connection_id"))
        return list(rows[:limit] if limit is not None else rows)
    number = Window(RowNumber(), partition_by=[F("connection_id")],
                    order_by=[F("next_attempt_at").asc(), F("pk").asc()])
    rows = (OutboxEntry.objects.filter(_due(now, due_by), connection_id__in=connection_ids)
            .annotate(number=number, size=_batch_sizes())
            .annotate(turn=(F("number") - 1) / F("size")))
    if turns is not None:
        rows = rows.filter(turn__lt=turns)
    rows = rows.order_by("turn", "next_attempt_at", "pk").values_list("pk", "connection_id")
    return list(rows[:limit] if limit is not None else rows)


def _batch_sizes() -> Case:
    """Each entry's platform batch size, from the registry (1 for a platform no longer installed)."""
    platforms: dict[int, list[str]] = {}
    for platform, cls in registry.connectors().items():
        platforms.setdefault(max(1, cls.capabilities.batch_size), []).append(platform)
    return Case(*[When(connection__platform__in=sorted(names), then=Value(size))
                  for size, names in sorted(platforms.items()) if size != 1],
                default=Value(1), output_field=IntegerField())


def _in_turns(chunks: list[tuple[int, list[int]]], order: list[tuple[int, int]]) -> list[tuple[int, list[int]]]:
    """``chunks`` (per connection, dependency order kept) reordered in turns: every connection's first chunk, then
    every second one...; within a turn, connections in the order ``fair_due`` met them."""
    first: dict[int, int] = {}
    for n, (_, conn_id) in enumerate(order):
        first.setdefault(conn_id, n)
    seen: dict[int, int] = {}
    keyed = []
    for conn_id, chunk in chunks:
        keyed.append((seen.get(conn_id, 0), first[conn_id], len(keyed), (conn_id, chunk)))
        seen[conn_id] = seen.get(conn_id, 0) + 1
    return [chunk for *_, chunk in sorted(keyed)]
