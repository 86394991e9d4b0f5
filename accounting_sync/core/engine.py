"""Process one outbox entry: snapshot, preflight, dependencies, mappings, connector call, bookkeeping.

Order of safety nets against duplicates: (1) an external reference means update, never create; (2) before a
create, the connector searches the platform for the document by our own number and adopts it; (3) every write
carries a deterministic idempotency key. The reference is written in the same transaction that closes the
entry. Failures are classified by their exception class alone (see ``connectors.errors``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import random
import time
import traceback
import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db import connection as db
from django.db.models import Q
from django.utils import timezone

from connectors import budget
from connectors.documents import Mapping, RemoteRef, RemoteResult, Snapshot
from connectors.errors import (AuthError, ConflictError, DataError, DependencyPendingError, DuplicateError,
                               PermanentError, RateLimitedError, RetryableError, SyncError)
from connectors.models import Connection, ConnectionStatus
from connectors.redaction import redact
from mappings.resolve import resolve, rules_held

from .. import conf
from ..models import EntryStatus, ExternalReference, OutboxEntry, Outcome, RemoteStatus, SyncLog
from . import outbox, policy, signals, sources, triggers

log = logging.getLogger(__name__)
MAX_DEPTH = 6


@dataclass
class Attempt:
    """What one attempt did, for the sync log."""

    operation: str = ""
    remote_id: str = ""
    connectors: list = field(default_factory=list)
    extra: list = field(default_factory=list)  # exchanges shared with other entries (a batch request)

    @property
    def exchanges(self) -> list[dict]:
        """HTTP exchanges of this attempt, from every connector client it used."""
        own = [x for c in self.connectors for x in c.exchanges()]
        return own + list(self.extra)


def idempotency_key(conn: Connection, key: str, *parts: str, refusals: int = 0) -> str:
    """Deterministic: the same write of the same content always carries the same key (36 characters: short enough
    for every platform's request-id field), so a retry after a lost response is recognised by the platform.

    ``refusals`` is the entry's count of definitive refusals. A refused request wrote nothing, but platforms
    remember the refusal under its key and replay it (some return the original response, errors included, to a
    repeated key), so once staff fixed the cause the next attempt must be a new request with a new key."""
    extra = (f"refused-{refusals}",) if refusals else ()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, ":".join(("accounting-sync", str(conn.pk), key, *parts, *extra))))


def process_entry(entry_id: int, *, ignore_schedule: bool = False) -> str | None:
    """Run one entry if it is due and free; returns the resulting entry status (None if not claimed)."""
    entry = outbox.claim(entry_id, ignore_schedule=ignore_schedule)
    if entry is None:
        return None
    return run_claimed(entry)


def run_claimed(entry: OutboxEntry) -> str:
    """Process an entry this worker holds the lease on."""
    conn = entry.connection
    if conn.status != ConnectionStatus.ACTIVE or conn.is_paused():
        release(entry, next_at=conn.paused_until if conn.is_paused() else timezone.now())
        return EntryStatus.PENDING
    started = time.monotonic()
    attempt = Attempt()
    try:
        with rules_held():  # the preflight and the resolution read the mapping rules once
            sync_object(conn, entry.source_key, entry, attempt, depth=0)
    except SyncError as exc:
        return fail(entry, exc, attempt, started)
    except Exception as exc:  # a bug or an unexpected library error: retry, but keep the traceback visible
        return fail(entry, internal_error(entry, exc), attempt, started)
    # What ``close`` left the entry as, when it was the last to touch it; else (parked, staged, a lease lost) read.
    closed_as = getattr(entry, "closed_as", None)
    return closed_as or OutboxEntry.objects.values_list("status", flat=True).get(pk=entry.pk)


def internal_error(entry: OutboxEntry, exc: Exception) -> RetryableError:
    log.exception("unexpected error syncing %s", entry.source_key)
    return RetryableError(f"internal error: {type(exc).__name__}: {exc}", code="internal",
                          raw={"traceback": traceback.format_exc()[-4000:]})


def sync_object(conn: Connection, key: str, entry: OutboxEntry, attempt: Attempt, depth: int) -> RemoteResult | None:
    """Bring one local object to the platform. Closes ``entry`` and writes its reference atomically."""
    adapter, obj = sources.load(key)
    connector = conn.connector()
    attempt.connectors.append(connector)
    started = time.monotonic()
    stage = policy.delivery(connector.delivery)
    if stage is not None:  # no API (an export file): handed over whole, nothing sent here
        stage(conn, connector, entry, attempt, started)
        return None
    if obj is None:
        ref = ExternalReference.objects.filter(connection=conn, source_key=key).first()
        return _delete(conn, connector, key, adapter.entity, entry, ref, attempt, started)
    snapshot = adapter.snapshot(obj)
    held = triggers.hold(conn, entry, adapter, obj, snapshot, dependency=depth > 0)
    if held is not None:  # its trigger rule says not yet: the entry waits and says why
        park(entry, held, attempt, started)
        if depth > 0:
            raise HeldDependency(f"waiting for {entry.label or key}: {held.reason}", held)
        return None
    policy.check(conn, snapshot)
    snapshot = policy.apply(conn, connector, snapshot)
    dependencies = snapshot.dependencies() if snapshot is not None else []
    known = {r.source_key: r for r in ExternalReference.objects.filter(  # its own and its dependencies', in one read
        connection=conn, source_key__in=[key, *(dep_key for _, dep_key in dependencies)])}
    ref = known.get(key)
    if snapshot is None:
        attempt.operation = "skip"
        close(entry, ref, attempt, Outcome.SKIPPED, policy.current().not_sent, started)
        return None
    refs = {dep_key: ensure_dependency(conn, dep_entity, dep_key, attempt, depth, ref=known.get(dep_key))
            for dep_entity, dep_key in dependencies}
    mapping = resolve(conn, snapshot, refs)
    policy.check_platform(conn, connector, snapshot, mapping)
    digest = content_digest(snapshot, mapping)
    if getattr(snapshot, "is_void", False):
        return _void(conn, connector, snapshot, entry, ref, attempt, started)
    if ref and ref.remote_status == RemoteStatus.ACTIVE and ref.content_hash == digest:
        attempt.operation = "skip"
        close(entry, ref, attempt, Outcome.SKIPPED, "unchanged since the last sync: no call made", started)
        return None
    operation = "create" if ref is None else "update"
    if not conn.sends(adapter.entity, operation):
        return not_sent(conn, adapter.entity, operation, entry, ref, attempt, started, depth)
    if ref is None:
        result = _create(conn, connector, snapshot, mapping, entry, digest, attempt)
    else:
        attempt.operation = "update"
        result = update_remote(conn, connector, snapshot, mapping, ref, digest, attempt, entry)
    attempt.remote_id = result.remote_id
    ref = save_ref(conn, key, adapter.entity, ref, result, digest, RemoteStatus.ACTIVE, entry, attempt, started)
    return result


def _create(conn, connector, snapshot, mapping, entry, digest, attempt: Attempt) -> RemoteResult:
    """Create, never twice. If an earlier attempt sent a create whose outcome we never learned (lost response,
    crashed worker), search the platform by our number first and adopt what we find. A first attempt goes
    straight to create; if the platform says the number is taken, search and adopt then."""
    key = snapshot.key
    found = connector.find_existing(snapshot, mapping) if entry.write_started else None
    if found is None:
        mark_write_started([entry.pk])
        attempt.operation = "create"
        exchanges = connector.exchanges()
        seen = len(exchanges)
        try:
            return connector.create(snapshot, mapping,
                                    idempotency_key(conn, key, "create", digest, refusals=entry.refusals))
        except DuplicateError:
            found = connector.find_existing(snapshot, mapping)
            if found is None:
                raise
        except RateLimitedError as exc:
            if not entry.write_started and refused_before_sending(exc, exchanges[seen:]):
                unmark_write_started([entry.pk])  # the next attempt creates at once, without a search first
            raise
    policy.check_adopt(connector, entry, snapshot, found)  # entered by hand: adopted only if totals agree
    return adopt(conn, connector, snapshot, mapping, found, digest, attempt, refusals=entry.refusals)


def adopt(conn, connector, snapshot, mapping, found: RemoteResult, digest, attempt: Attempt, *,
          refusals: int = 0) -> RemoteResult:
    """Found by our own number/name: adopt it, then make it match the current content so the reference's hash
    tells the truth."""
    attempt.operation = "adopt"
    return connector.update(snapshot, mapping, RemoteRef(found.remote_id, found.version),
                            idempotency_key(conn, snapshot.key, "update", found.version, digest, refusals=refusals))


def mark_write_started(entry_ids: list[int]) -> None:
    OutboxEntry.objects.filter(pk__in=entry_ids, write_started=False).update(write_started=True)


def unmark_write_started(entry_ids: list[int]) -> None:
    """For creates that certainly never left: they were marked by this attempt, and nothing was sent."""
    OutboxEntry.objects.filter(pk__in=entry_ids, write_started=True).update(write_started=False)


def refused_before_sending(exc: SyncError, exchanges_during: list) -> bool:
    """Our own rate budget (or a pause in force) refused the call before its request went out, and no other request
    of the call went out either: nothing of it can have reached the platform."""
    return (isinstance(exc, RateLimitedError) and exc.code in budget.REFUSED_BEFORE_SENDING
            and not exchanges_during)


def update_remote(conn, connector, snapshot, mapping, ref, digest, attempt: Attempt, entry) -> RemoteResult:
    """Update with the stored version. On a stale version, re-read once: if only the platform's own bookkeeping
    changed (a payment applied bumps an invoice's version), re-apply; if a person edited the content there since
    we last wrote it, stop and report the conflict instead of overwriting it (unless staff chose to)."""
    try:
        return connector.update(snapshot, mapping, RemoteRef(ref.remote_id, ref.remote_version),
                                idempotency_key(conn, ref.source_key, "update", ref.remote_version, digest,
                                                refusals=entry.refusals))
    except ConflictError as conflict:
        current = connector.fetch(snapshot.entity, ref.remote_id)
        edited = ref.remote_fingerprint and current.fingerprint and current.fingerprint != ref.remote_fingerprint
        if edited and not entry.overwrite_remote:
            raise ConflictError(
                f"{entry.label or snapshot.key} was edited in {connector.name} since we last sent it; "
                "our change was not applied so that edit is not overwritten",
                hint="Compare both versions. Then either change the local document, or choose "
                     "\"Send ours anyway\" to overwrite the platform's edit.", platform_code="5010") from conflict
        attempt.operation = "update (re-read)"
        return connector.update(snapshot, mapping, RemoteRef(ref.remote_id, current.version),
                                idempotency_key(conn, ref.source_key, "update", current.version, digest,
                                                refusals=entry.refusals))


def not_sent(conn: Connection, entity: str, operation: str, entry: OutboxEntry, ref, attempt: Attempt,
             started: float, depth: int = 0) -> None:
    """The connection's sync table does not send this operation: the entry closes as skipped and says why. A
    dependency that may not be created stops the document that needs it, with what to do."""
    name = entity.replace("_", " ")
    if depth > 0:
        raise PermanentError(f"needs its {name} in {conn.platform_name}, but {conn.name} does not create {name}s "
                             "there (its sync table)", code="direction",
                             hint=f"Allow creating {name}s in the connection's sync table, or create it in "
                                  f"{conn.platform_name} and let the next attempt find it.")
    attempt.operation = "skip"
    close(entry, ref, attempt, Outcome.SKIPPED,
          f"not sent: {conn.name} does not send {name} {'deletion' if operation == 'delete' else operation}s "
          f"(its sync table)", started)
    return None


def dependency_ids(conn: Connection, keys: set[str]) -> dict[str, str]:
    """The remote ids of those of ``keys`` that are on the platform (one query); the rest go through
    ``ensure_dependency``."""
    return dict(ExternalReference.objects.filter(connection=conn, source_key__in=keys,
                                                 remote_status=RemoteStatus.ACTIVE)
                .values_list("source_key", "remote_id")) if keys else {}


_UNREAD = object()


def ensure_dependency(conn: Connection, entity: str, key: str, attempt: Attempt, depth: int, *,
                      ref=_UNREAD) -> str:
    """Remote id of a dependency, syncing it first (inline, under its own entry's lease) if it has none. ``ref``:
    its reference as just read with others (None: it has none), else it is read here."""
    if ref is _UNREAD:
        ref = ExternalReference.objects.filter(connection=conn, source_key=key).first()
    if ref and ref.remote_status == RemoteStatus.ACTIVE:
        return ref.remote_id
    if depth >= MAX_DEPTH:
        raise DataError(f"dependency chain too deep at {key}")
    adapter, obj = sources.load(key)
    if obj is None:
        raise DataError(f"depends on {key}, which no longer exists locally",
                        hint="Restore the missing record or remove the reference from the document.")
    entry_id = outbox.upsert_entry(conn, key, entity, adapter.organization_id(obj), adapter.label(obj)[:200])
    dep_entry = outbox.claim(entry_id, ignore_schedule=True)
    if dep_entry is None:
        current = OutboxEntry.objects.get(pk=entry_id)
        if current.status == EntryStatus.NEEDS_ATTENTION:
            raise PermanentError(f"depends on {current.label or key}, which needs attention: {current.last_error}",
                                 code="dependency_failed", hint="Fix that record first; this one follows.")
        raise DependencyPendingError(f"waiting for {current.label or key} to sync",
                                     retry_after=conf.get("DEPENDENCY_WAIT_SECONDS"))
    dep_attempt = Attempt()
    dep_started = time.monotonic()
    try:
        result = sync_object(conn, key, dep_entry, dep_attempt, depth + 1)  # read again: after its claim
    except HeldDependency as exc:  # parked with its own reason; the document that needs it waits for it
        wait = (exc.hold.until - timezone.now()).total_seconds() if exc.hold.until else None
        raise DependencyPendingError(str(exc), retry_after=max(1.0, wait) if wait is not None
                                     else triggers.RECHECK.total_seconds()) from None
    except SyncError as exc:
        fail(dep_entry, exc, dep_attempt, dep_started)
        if isinstance(exc, PermanentError):
            raise PermanentError(f"depends on {dep_entry.label or key}, which failed: {exc.message}",
                                 code="dependency_failed", hint=exc.hint) from exc
        raise
    if result is not None and result.remote_id:  # sent: its reference was written with this id
        return result.remote_id
    return ExternalReference.objects.get(connection=conn, source_key=key).remote_id


def _void(conn, connector, snapshot: Snapshot, entry, ref, attempt: Attempt, started) -> RemoteResult | None:
    entity = snapshot.entity
    if ref is None or ref.remote_status != RemoteStatus.ACTIVE:
        attempt.operation = "skip"
        close(entry, ref, attempt, Outcome.SKIPPED, "void locally and not active on the platform: nothing to send",
               started)
        return None
    if not conn.sends(entity, "delete"):  # a void is the delete of the sync table
        return not_sent(conn, entity, "delete", entry, ref, attempt, started)
    remote = RemoteRef(ref.remote_id, ref.remote_version)
    if entity in connector.capabilities.void:
        attempt.operation = "void"
        result = connector.void(entity, remote, idempotency_key(conn, ref.source_key, "void", ref.remote_version,
                                                                 refusals=entry.refusals))
        status = RemoteStatus.VOIDED
    elif entity in connector.capabilities.delete:
        attempt.operation = "delete"
        connector.delete(entity, remote, idempotency_key(conn, ref.source_key, "delete", ref.remote_version,
                                                         refusals=entry.refusals))
        result, status = RemoteResult(remote_id=ref.remote_id, version=ref.remote_version), RemoteStatus.DELETED
    else:
        raise PermanentError(f"{connector.name} can neither void nor delete a {entity.replace('_', ' ')}",
                             code="unsupported", hint="Reverse it on the platform by hand.")
    attempt.remote_id = ref.remote_id
    save_ref(conn, ref.source_key, entity, ref, result, ref.content_hash, status, entry, attempt, started)
    return result


def _delete(conn, connector, key, entity, entry, ref, attempt: Attempt, started) -> None:
    if ref is None or ref.remote_status == RemoteStatus.DELETED:
        attempt.operation = "skip"
        close(entry, ref, attempt, Outcome.SKIPPED, "deleted locally and never sent: nothing to do", started)
        return None
    if not conn.sends(entity, "delete"):
        return not_sent(conn, entity, "delete", entry, ref, attempt, started)
    remote = RemoteRef(ref.remote_id, ref.remote_version)
    if entity in connector.capabilities.delete:
        attempt.operation = "delete"
        connector.delete(entity, remote,
                         idempotency_key(conn, key, "delete", ref.remote_version, refusals=entry.refusals))
        status = RemoteStatus.DELETED
    elif entity in connector.capabilities.void:
        attempt.operation = "void"
        connector.void(entity, remote,
                       idempotency_key(conn, key, "void", ref.remote_version, refusals=entry.refusals))
        status = RemoteStatus.VOIDED
    else:
        raise PermanentError(f"{connector.name} cannot delete a {entity.replace('_', ' ')}", code="unsupported",
                             hint="Remove it on the platform by hand.")
    attempt.remote_id = ref.remote_id
    result = RemoteResult(remote_id=ref.remote_id, version=ref.remote_version)
    save_ref(conn, key, entity, ref, result, ref.content_hash, status, entry, attempt, started)
    return None


class HeldDependency(Exception):
    """A dependency's own trigger rule holds it (an invoice waiting for its batch while its payment is sent)."""

    def __init__(self, message: str, hold: triggers.Hold) -> None:
        super().__init__(message)
        self.hold = hold


def park(entry: OutboxEntry, hold: triggers.Hold, attempt: Attempt, started: float) -> None:
    """Hold the entry as its trigger rule says: pending until its batch window opens (``hold_until``), or
    ``waiting`` until the document changes again or staff send it. Logged once per reason, not per look."""
    now = timezone.now()
    attempt.operation = "hold"
    with transaction.atomic():
        updated = OutboxEntry.objects.filter(
            pk=entry.pk, lease_token=entry.lease_token, generation=entry.generation).update(
            status=EntryStatus.PENDING if hold.until else EntryStatus.WAITING,
            next_attempt_at=hold.until or now + triggers.RECHECK, hold_until=hold.until, lease_until=None,
            lease_token="", last_error="", error_code="held", platform_code="", hint=hold.reason[:500])  # nosec B106
        OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token).exclude(
            generation=entry.generation).update(status=EntryStatus.PENDING, next_attempt_at=now, lease_until=None,
                                                lease_token="")  # nosec B106
        if updated and (entry.error_code != "held" or entry.hint != hold.reason[:500]):
            _log(entry, attempt, Outcome.HELD, started, message=hold.reason)


def content_digest(snapshot: Snapshot, mapping: Mapping) -> str:
    return hashlib.sha256(f"{snapshot.content_hash()}|{mapping!r}".encode()).hexdigest()


def save_ref(conn, key, entity, ref, result: RemoteResult, digest, status, entry, attempt, started):
    """Write the reference and close the entry in one transaction."""
    values = _ref_values(entity, ref, result, digest, status)
    with transaction.atomic():
        if ref is not None and ExternalReference.objects.filter(pk=ref.pk, connection=conn, source_key=key).update(
                **values):
            for name, value in values.items():
                setattr(ref, name, value)
        else:  # one statement (INSERT ... ON CONFLICT), no savepoint: also when another writer made it meanwhile
            ref = ExternalReference(connection=conn, source_key=key, **values)
            ExternalReference.objects.bulk_create([ref], update_conflicts=True, update_fields=list(values),
                                                  unique_fields=["connection", "source_key"])
        close(entry, ref, attempt, Outcome.SUCCESS, "", started)
    return ref


def _ref_values(entity, ref, result: RemoteResult, digest, status, now=None) -> dict:
    """A reference's fields after ``result``; what the platform did not say again is kept from ``ref``."""
    return dict(entity=entity, remote_id=result.remote_id,
                remote_version=result.version or (ref.remote_version if ref else ""),
                remote_number=result.number or (ref.remote_number if ref else ""),
                remote_status=status, content_hash=digest, synced_at=now or timezone.now(),
                remote_fingerprint=result.fingerprint or (ref.remote_fingerprint if ref else ""),
                home_total=result.home_total if status == RemoteStatus.ACTIVE else None)


@dataclass
class Finished:
    """A document the platform took (``save_refs``)."""

    entry: OutboxEntry
    ref: ExternalReference | None  # its reference before, if any
    result: RemoteResult
    digest: str
    attempt: Attempt
    started: float


def save_refs(conn, finished: list[Finished]) -> None:
    """``save_ref`` for many documents of one connection, in one transaction and with one statement per kind of
    row (references created, references updated, entries closed, entries gone round again, log rows, audit
    records) instead of several per document. Should a reference not go in that way (a unique rule), each
    document is written on its own, as ``save_ref`` does."""
    if not finished:
        return
    now = timezone.now()
    try:
        with transaction.atomic():
            old = {r.source_key: r for r in ExternalReference.objects.filter(
                connection=conn, source_key__in=[f.entry.source_key for f in finished])}
            refs, new, changed = {}, [], []
            for f in finished:
                key = f.entry.source_key
                values = _ref_values(f.entry.entity, old.get(key) or f.ref, f.result, f.digest,
                                     RemoteStatus.ACTIVE, now)
                if key in old:
                    ref = old[key]
                    for name, value in values.items():
                        setattr(ref, name, value)
                    changed.append(ref)
                else:
                    ref = ExternalReference(connection=conn, source_key=key, **values)
                    new.append(ref)
                refs[key] = ref
            ExternalReference.objects.bulk_create(new)
            if changed:
                ExternalReference.objects.bulk_update(changed, list(values))
            close_many([(f.entry, refs[f.entry.source_key], f.attempt, f.started) for f in finished],
                       Outcome.SUCCESS)
    except IntegrityError:
        for f in finished:
            save_ref(conn, f.entry.source_key, f.entry.entity, f.ref, f.result, f.digest, RemoteStatus.ACTIVE,
                     f.entry, f.attempt, f.started)


def close(entry: OutboxEntry, ref, attempt: Attempt, outcome: str, message: str, started: float) -> None:
    """Mark the entry done, unless the object changed again while we worked (then it goes round again)."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):  # nothing in here is caught and carried on from: no savepoint needed
        if OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token, generation=entry.generation).update(
                status=EntryStatus.DONE, done_at=now, **_CLOSED):
            entry.closed_as = EntryStatus.DONE
        elif OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token).exclude(
                generation=entry.generation).update(status=EntryStatus.PENDING, next_attempt_at=now, lease_until=None,
                                                    lease_token=""):  # nosec B106
            entry.closed_as = EntryStatus.PENDING  # changed while we worked: it goes round again
        _log(entry, attempt, outcome, started, message=message,
             remote_id=attempt.remote_id or (ref.remote_id if ref else ""))
    transaction.on_commit(lambda: _wake(entry))


#: What closing an entry clears.
_CLOSED = dict(attempts=0, last_error="", error_code="", platform_code="", hint="", lease_until=None,
               lease_token="", write_started=False, overwrite_remote=False, hold_until=None,  # nosec B106
               send_now=False)
_AT_ONCE = 100  # entries per statement in ``close_many`` (each brings three or two values to its condition)


def close_many(closing: list[tuple[OutboxEntry, ExternalReference | None, Attempt, float]], outcome: str,
               message: str = "") -> None:
    """``close`` for many entries of one connection: done unless changed meanwhile (then pending again), their log
    rows, and one wake-up for them all."""
    now = timezone.now()
    entries = [entry for entry, *_ in closing]
    with transaction.atomic():
        for start in range(0, len(entries), _AT_ONCE):
            part = entries[start:start + _AT_ONCE]
            done = OutboxEntry.objects.filter(_any(Q(pk=e.pk, lease_token=e.lease_token, generation=e.generation)
                                                   for e in part)).update(status=EntryStatus.DONE, done_at=now,
                                                                          **_CLOSED)
            if done == len(part):  # the usual case: none changed while it was sent, no second look
                for entry in part:
                    entry.closed_as = EntryStatus.DONE
                continue
            for entry in part:  # some went round again (or lost their lease): read when needed
                entry.__dict__.pop("closed_as", None)
            OutboxEntry.objects.filter(_any(Q(pk=e.pk, lease_token=e.lease_token) & ~Q(generation=e.generation)
                                            for e in part)).update(
                status=EntryStatus.PENDING, next_attempt_at=now, lease_until=None, lease_token="")  # nosec B106
        _log_many([(entry, attempt, outcome, started,
                    dict(message=message, remote_id=attempt.remote_id or (ref.remote_id if ref else "")))
                   for entry, ref, attempt, started in closing])
    transaction.on_commit(lambda: _wake_many(entries))


def _any(conditions) -> Q:
    found = Q(pk__in=[])
    for condition in conditions:
        found |= condition
    return found


def _wake_many(entries: list[OutboxEntry]) -> None:
    """``_wake`` for entries of one connection closed together: one look for dependants, one for changed ones."""
    if not entries:
        return
    ids = _waiters_woken(entries[0].connection_id)
    if all(getattr(e, "closed_as", None) for e in entries):  # what ``close_many`` left them as
        ids += [e.pk for e in entries if e.closed_as == EntryStatus.PENDING]
    else:
        ids += list(OutboxEntry.objects.filter(pk__in=[e.pk for e in entries], status=EntryStatus.PENDING)
                    .values_list("pk", flat=True))
    if ids:
        outbox.enqueue(list(dict.fromkeys(ids)))


def _waiters_woken(connection_id: int) -> list[int]:
    """The connection's entries waiting for a dependency, made due now; returns their ids. A plain read first: there
    are usually none, and then no transaction is opened (and committed) for nothing."""
    waiting = OutboxEntry.objects.filter(connection_id=connection_id, status=EntryStatus.PENDING,
                                         error_code=DependencyPendingError.default_code)
    if not waiting.exists():
        return []
    with transaction.atomic():
        # Rows locked in one order, and rows another worker holds skipped (it is waking or running them):
        # several workers finishing at once never wait on each other in a cycle (PostgreSQL deadlock).
        ids = list(waiting.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)[:100])
        OutboxEntry.objects.filter(pk__in=ids).update(next_attempt_at=timezone.now())
    return ids


def _wake(entry: OutboxEntry) -> None:
    """Re-enqueue this entry if it changed meanwhile, and entries that were waiting for a dependency."""
    ids = _waiters_woken(entry.connection_id)
    closed_as = getattr(entry, "closed_as", None)  # what ``close`` left it as, when it closed it
    if closed_as is None:
        ids += list(OutboxEntry.objects.filter(pk=entry.pk, status=EntryStatus.PENDING).values_list("pk", flat=True))
    elif closed_as == EntryStatus.PENDING:
        ids.append(entry.pk)
    if ids:
        outbox.enqueue(ids)


def fail(entry: OutboxEntry, exc: SyncError, attempt: Attempt, started: float) -> str:
    exc = policy.on_failure(entry, exc)  # e.g. an account or tax code refused because it disappeared: a stale rule
    now = timezone.now()
    conn = entry.connection
    update = dict(last_error=exc.message[:4000], error_code=exc.code, platform_code=exc.platform_code,
                  hint=exc.hint[:500], lease_until=None, lease_token="")  # nosec B106
    if isinstance(exc, RateLimitedError):
        until = now + dt.timedelta(seconds=exc.retry_after or 60)
        if exc.code != "paused":  # not the echo of a pause already in force (see connectors.budget)
            # Shown on the dashboard while the pause lasts (a daily limit pauses until the next day and says so).
            Connection.objects.filter(pk=conn.pk).update(
                paused_until=until,
                status_message=f"Paused by {conn.platform_name}'s rate limit: {exc.message}"[:500])
        status, outcome, update["next_attempt_at"] = EntryStatus.PENDING, Outcome.RETRY, until
    elif isinstance(exc, DependencyPendingError):
        status, outcome = EntryStatus.PENDING, Outcome.RETRY
        update["next_attempt_at"] = now + dt.timedelta(seconds=exc.retry_after or 10)
        if entry.error_code == exc.code and entry.last_error == exc.message[:4000]:
            # Still waiting for the same record: a wait is not an attempt, it was logged when it began.
            OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token).update(status=status, **update)
            return status
    elif isinstance(exc, RetryableError):
        attempts = entry.attempts + 1
        update["attempts"] = attempts
        if attempts >= conf.get("MAX_ATTEMPTS"):
            status, outcome = EntryStatus.FAILED, Outcome.FAILED
            update["hint"] = (exc.hint or "Retries are exhausted; use Retry once the platform is reachable.")[:500]
        else:
            status, outcome = EntryStatus.PENDING, Outcome.RETRY
            update["next_attempt_at"] = now + backoff(attempts, exc.retry_after)
    elif isinstance(exc, AuthError):
        # Not the entry's fault: no attempt is spent; the connection waits for a reconnect.
        # Only the first failure sets the reason: a later one (another worker that still saw the connection
        # active) must not replace the platform's own reason with a repeat of it.
        Connection.objects.filter(pk=conn.pk).exclude(status=ConnectionStatus.NEEDS_REAUTH).update(
            status=ConnectionStatus.NEEDS_REAUTH, status_message=f"Reconnect needed: {exc.message}"[:500])
        status, outcome = EntryStatus.PENDING, Outcome.AUTH
        update["hint"] = exc.hint or "Reconnect the connection in the admin."
    else:
        status, outcome = EntryStatus.NEEDS_ATTENTION, Outcome.ATTENTION
        update["attempts"] = entry.attempts + 1
        update["refusals"] = entry.refusals + 1  # the next attempt is a new request (see idempotency_key)
    OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token).update(status=status, **update)
    _log(entry, attempt, outcome, started, message=exc.message, hint=exc.hint, error_code=exc.code,
         platform_code=exc.platform_code, http_status=exc.http_status, remote_id=attempt.remote_id,
         raw=exc.raw)
    return status


def backoff(attempts: int, retry_after: float | None = None) -> dt.timedelta:
    """Exponential backoff with full jitter, capped; never shorter than a platform's Retry-After."""
    ceiling = min(conf.get("BACKOFF_CAP_SECONDS"), conf.get("BACKOFF_BASE_SECONDS") * 2 ** (attempts - 1))
    return dt.timedelta(seconds=max(retry_after or 0, random.uniform(ceiling / 2, ceiling)))  # nosec B311


def release(entry: OutboxEntry, next_at) -> None:
    OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token).update(
        status=EntryStatus.PENDING, lease_until=None, lease_token="", next_attempt_at=next_at)  # nosec B106


def _log(entry: OutboxEntry, attempt: Attempt, outcome: str, started: float, **details) -> None:
    _log_row(entry, attempt, outcome, started, **details).save(force_insert=True)


def _log_many(rows: list[tuple[OutboxEntry, Attempt, str, float, dict]]) -> None:
    """Log rows of many attempts with one INSERT; what hears about each row (the audit trail) is told of them
    together (``signals.sync_logs_written``). Where the database cannot give the new rows' ids back from one
    INSERT, they are written one by one."""
    logs = [_log_row(entry, attempt, outcome, started, **details) for entry, attempt, outcome, started, details in rows]
    if not db.features.can_return_rows_from_bulk_insert:
        for row in logs:
            row.save(force_insert=True)
        return
    SyncLog.objects.bulk_create(logs)
    signals.sync_logs_written.send(sender=SyncLog, logs=logs)


def _log_row(entry: OutboxEntry, attempt: Attempt, outcome: str, started: float, *, message: str = "",
             hint: str = "", error_code: str = "", platform_code: str = "", http_status: int | None = None,
             remote_id: str = "", raw=None) -> SyncLog:
    exchanges = attempt.exchanges
    if raw is not None:
        exchanges.append({"response": raw})
    last_status = next((x.get("status") for x in reversed(exchanges) if x.get("status")), None)
    return SyncLog(  # the connection object, so the audit record takes its name without a query
        connection=entry.connection, entry_id=entry.pk, source_key=entry.source_key, entity=entry.entity,
        label=entry.label, operation=attempt.operation, outcome=outcome, remote_id=remote_id or "",
        message=redact(message)[:4000], hint=hint[:500], error_code=error_code, platform_code=platform_code or "",
        http_status=http_status or last_status, duration_ms=int((time.monotonic() - started) * 1000),
        exchanges=redact(_jsonable(exchanges)))


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))
