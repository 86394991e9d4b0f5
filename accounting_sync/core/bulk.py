"""Bulk delivery: many entries of one connection through the platform's batch endpoint.

Used for backlogs (a resync, catching up after an outage): the sweeper and ``drain`` hand over chunks of due
entries, and this module sends their documents ``capabilities.batch_size`` at a time (one batch request
where the platform has one). Each document's outcome is applied to its own entry: one invalid
invoice does not fail its neighbours. The same safety nets as the single path hold:

- an entry that already has a remote reference is updated, never created again;
- an entry whose earlier create may have reached the platform (``write_started``) is searched for first, in
  one bulk query per chunk, and adopted if found;
- a create refused as a duplicate number falls back to search-and-adopt;
- a stale version falls back to the single path's re-read (and conflict report).

Customers and items (the dependencies) and anything that is not a plain create or update (voids, deletes) go
through the single path, in dependency order, before the documents that need them.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from itertools import groupby

from django.db import transaction

from connectors.base import BatchOp
from connectors.documents import Entity, RemoteRef, RemoteResult
from connectors.errors import AuthError, ConflictError, DuplicateError, RateLimitedError, SyncError
from connectors.models import Connection, ConnectionStatus
from mappings.resolve import resolve, rules_held

from ..models import ExternalReference, OutboxEntry, Outcome, RemoteStatus
from . import engine, outbox, policy, sources, triggers

log = logging.getLogger(__name__)
BATCHED = frozenset({Entity.INVOICE, Entity.CREDIT_NOTE, Entity.PAYMENT})


@dataclass
class Prepared:
    entry: OutboxEntry
    attempt: engine.Attempt
    started: float
    snapshot: object
    mapping: object
    digest: str
    ref: ExternalReference | None
    found: RemoteResult | None = None

    def op(self, conn: Connection) -> BatchOp:
        key, refusals = self.entry.source_key, self.entry.refusals
        if self.ref is not None:
            version = self.ref.remote_version
            return BatchOp("update", self.snapshot, self.mapping,
                           engine.idempotency_key(conn, key, "update", version, self.digest, refusals=refusals),
                           RemoteRef(self.ref.remote_id, version))
        if self.found is not None:
            return BatchOp("update", self.snapshot, self.mapping,
                           engine.idempotency_key(conn, key, "update", self.found.version, self.digest,
                                                  refusals=refusals),
                           RemoteRef(self.found.remote_id, self.found.version))
        return BatchOp("create", self.snapshot, self.mapping,
                       engine.idempotency_key(conn, key, "create", self.digest, refusals=refusals))


def process_batch(entry_ids: list[int]) -> dict[str, int]:
    """Claim and process these entries (any connections); returns a count per resulting status."""
    return run_entries(outbox.claim_many(entry_ids))


def run_entries(entries: list[OutboxEntry]) -> dict[str, int]:
    """Process entries this worker holds leases on (any connections); returns a count per resulting status."""
    entries.sort(key=lambda e: (e.connection_id, e.pk))
    for _, group in groupby(entries, key=lambda e: e.connection_id):
        run_claimed_batch(list(group))
    counts: dict[str, int] = {}
    if all(getattr(e, "closed_as", None) for e in entries):  # each closed here, and we know as what
        statuses = [e.closed_as for e in entries]
    else:
        statuses = OutboxEntry.objects.filter(pk__in=[e.pk for e in entries]).values_list("status", flat=True)
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts


def run_claimed_batch(entries: list[OutboxEntry]) -> None:
    """Process entries of one connection that this worker holds leases on."""
    conn = entries[0].connection
    if conn.status != ConnectionStatus.ACTIVE or conn.is_paused():
        for entry in entries:
            engine.run_claimed(entry)  # releases it until the pause ends
        return
    try:
        connector = conn.connector()
    except SyncError:  # e.g. secrets no key decrypts: each entry records it the way the single path does
        connector = None
    if connector is None or connector.capabilities.batch_size <= 1 or conn.operations:
        # (a connection with a sync table goes one by one: the single path applies the table to each operation)
        for entry in entries:
            engine.run_claimed(entry)
        return
    by_entity: dict[str, list[OutboxEntry]] = {}
    for entry in entries:
        by_entity.setdefault(entry.entity, []).append(entry)
    stopped: SyncError | None = None
    for entity in sorted(by_entity, key=lambda e: Entity.ORDER.get(e, 99)):
        if stopped is not None:
            _give_back(by_entity[entity], conn)
            continue
        if entity not in BATCHED:
            for entry in by_entity[entity]:
                engine.run_claimed(entry)
            continue
        stopped = _send_phase(conn, connector, by_entity[entity])


def _send_phase(conn: Connection, connector, entries: list[OutboxEntry]) -> SyncError | None:
    """Prepare and batch-send entries of one entity; returns the error that stopped the connection, if any."""
    # Read once for the whole phase: the documents with what their snapshots read, their references, the
    # connection's mapping rules, and the remote ids of the customers and items they need.
    keys = [entry.source_key for entry in entries]
    loaded = sources.load_many(keys)
    refs = {ref.source_key: ref for ref in ExternalReference.objects.filter(connection=conn, source_key__in=keys)}
    with rules_held():
        staged = [s for s in (_stage(conn, entry, loaded[entry.source_key], refs.get(entry.source_key))
                              for entry in entries) if s is not None]
        needed = engine.dependency_ids(conn, {key for s in staged for _, key in s.snapshot.dependencies()})
        prepared = [p for p in (_prepare(conn, connector, s, needed) for s in staged) if p is not None]
    searching = [p for p in prepared if p.ref is None and p.entry.write_started]
    if searching:
        try:
            found = connector.find_existing_many([(p.snapshot, p.mapping) for p in searching])
        except SyncError as exc:
            for p in searching:
                engine.fail(p.entry, exc, p.attempt, p.started)
            prepared = [p for p in prepared if p not in searching]
            if isinstance(exc, (RateLimitedError, AuthError)):
                _give_back([p.entry for p in prepared], conn)
                return exc
        else:
            for p, result in zip(searching, found, strict=False):
                p.found = result
                if result is not None:
                    try:  # entered by hand: adopted only if its total is ours
                        policy.check_adopt(connector, p.entry, p.snapshot, result)
                    except SyncError as exc:
                        engine.fail(p.entry, exc, p.attempt, p.started)
                        prepared = [x for x in prepared if x is not p]
    size = connector.capabilities.batch_size
    for start in range(0, len(prepared), size):
        chunk = prepared[start:start + size]
        stopped = _send_chunk(conn, connector, chunk)
        if stopped is not None:
            _give_back([p.entry for p in prepared[start + size:]], conn)
            return stopped
    return None


@dataclass
class Staged:
    entry: OutboxEntry
    attempt: engine.Attempt
    started: float
    adapter: object
    obj: object
    snapshot: object
    ref: ExternalReference | None


def _stage(conn: Connection, entry: OutboxEntry, loaded: tuple, ref: ExternalReference | None) -> Staged | None:
    """The entry's snapshot, unless its trigger rule holds it; None when the entry was finished here or handed to
    the single path. ``loaded`` and ``ref``: the entry's (adapter, object) and reference as the phase read them,
    before any of its documents was sent."""
    started, attempt = time.monotonic(), engine.Attempt()
    try:
        adapter, obj = loaded
        if obj is None or (ref is not None and ref.remote_status != RemoteStatus.ACTIVE):
            engine.run_claimed(entry)
            return None
        snapshot = adapter.snapshot(obj)
        if getattr(snapshot, "is_void", False):
            engine.run_claimed(entry)
            return None
        held = triggers.hold(conn, entry, adapter, obj, snapshot)
        if held is not None:
            engine.park(entry, held, attempt, started)
            return None
        return Staged(entry, attempt, started, adapter, obj, snapshot, ref)
    except SyncError as exc:
        engine.fail(entry, exc, attempt, started)
    except Exception as exc:
        engine.fail(entry, engine.internal_error(entry, exc), attempt, started)
    return None


def _prepare(conn: Connection, connector, staged: Staged, needed: dict[str, str]) -> Prepared | None:
    """Preflight, dependencies and mapping; None when the entry was finished here. ``needed``: the remote ids of
    the phase's dependencies that have one (those without are sent here first, and added)."""
    entry, attempt, started, ref = staged.entry, staged.attempt, staged.started, staged.ref
    try:
        policy.check(conn, staged.snapshot)
        snapshot = policy.apply(conn, connector, staged.snapshot)
        refs = {}
        for entity, key in snapshot.dependencies():
            if key not in needed:
                needed[key] = engine.ensure_dependency(conn, entity, key, attempt, 0)
            refs[key] = needed[key]
        mapping = resolve(conn, snapshot, refs)
        policy.check_platform(conn, connector, snapshot, mapping)
        digest = engine.content_digest(snapshot, mapping)
        if ref is not None and ref.content_hash == digest:
            attempt.operation = "skip"
            engine.close(entry, ref, attempt, Outcome.SKIPPED, "unchanged since the last sync: no call made", started)
            return None
        return Prepared(entry, attempt, started, snapshot, mapping, digest, ref)
    except SyncError as exc:
        engine.fail(entry, exc, attempt, started)
    except Exception as exc:
        engine.fail(entry, engine.internal_error(entry, exc), attempt, started)
    return None


def _send_chunk(conn: Connection, connector, chunk: list[Prepared]) -> SyncError | None:
    ops = [p.op(conn) for p in chunk]
    engine.mark_write_started([p.entry.pk for p, op in zip(chunk, ops, strict=False) if op.operation == "create"])
    exchanges = connector.exchanges()
    seen = len(exchanges)
    try:
        outcomes = connector.write_batch(ops)
    except SyncError as exc:
        if engine.refused_before_sending(exc, exchanges[seen:]):  # our own budget said "not now": nothing left
            engine.unmark_write_started([p.entry.pk for p, op in zip(chunk, ops, strict=False)
                                         if op.operation == "create" and not p.entry.write_started])
        shared = [{**x, "batch_of": len(ops)} for x in exchanges[seen:]]
        for p, op in zip(chunk, ops, strict=False):
            p.attempt.operation, p.attempt.extra = f"{_label(p, op)} (batch)", shared
            engine.fail(p.entry, exc, p.attempt, p.started)
        return exc if isinstance(exc, (RateLimitedError, AuthError)) else None
    except Exception as exc:
        for p in chunk:
            engine.fail(p.entry, engine.internal_error(p.entry, exc), p.attempt, p.started)
        return None
    shared = exchanges[seen:]
    settled = []
    for position, (p, op, outcome) in enumerate(zip(chunk, ops, outcomes, strict=False)):
        p.attempt.operation = f"{_label(p, op)} (batch)"
        p.attempt.extra = [{**x, "batch_item": position, "batch_of": len(ops)} for x in shared]
        settled.append((p, _settle(conn, connector, p, op, outcome)))  # follow-up calls, outside any transaction
    with transaction.atomic():  # the chunk's references, entries and log rows in one commit
        finished = []
        for p, outcome in settled:
            if isinstance(outcome, RemoteResult):
                p.attempt.remote_id = outcome.remote_id
                finished.append(engine.Finished(p.entry, p.ref, outcome, p.digest, p.attempt, p.started))
            else:
                engine.fail(p.entry, outcome, p.attempt, p.started)
        engine.save_refs(conn, finished)
    return None


def _settle(conn: Connection, connector, p: Prepared, op: BatchOp, outcome):
    """One op's final outcome: a duplicate that is ours is adopted, a stale version re-read (single path)."""
    try:
        if isinstance(outcome, DuplicateError) and op.operation == "create":
            found = connector.find_existing(p.snapshot, p.mapping)
            if found is not None:
                policy.check_adopt(connector, p.entry, p.snapshot, found)
            return outcome if found is None else engine.adopt(conn, connector, p.snapshot, p.mapping, found,
                                                               p.digest, p.attempt, refusals=p.entry.refusals)
        if isinstance(outcome, ConflictError) and p.ref is not None:
            return engine.update_remote(conn, connector, p.snapshot, p.mapping, p.ref, p.digest, p.attempt, p.entry)
        return outcome
    except SyncError as exc:
        return exc
    except Exception as exc:
        return engine.internal_error(p.entry, exc)


def _label(p: Prepared, op: BatchOp) -> str:
    return "create" if op.operation == "create" else ("adopt" if p.ref is None else "update")


def _give_back(entries: list[OutboxEntry], conn: Connection) -> None:
    """Entries not tried because the connection stopped (429, lost consent): pending again, no attempt spent."""
    conn.refresh_from_db(fields=["paused_until"])
    for entry in entries:
        engine.release(entry, next_at=conn.paused_until or entry.next_attempt_at)
