"""The tamper-evident audit trail: every transfer and every staff action on sync data, append-only, hash-chained.

There is one chain per connection (``connection:<id>``), one for records without a connection (``global``) and the
closed ``legacy`` chain of records written before chains were split (migration 0014). Each record commits to the
one before it in its chain: its ``hash`` is sha256 over the canonical JSON of its own fields (its chain among them)
and the previous record's hash (``canonical``). Editing a record breaks its own hash; deleting or reordering
records breaks the chain at that point; deleting the newest records leaves the chain's head row pointing past the
end. Every chain but ``global`` is opened by a record in the global chain, so a chain deleted whole (records and
head) is missed by name. ``verify`` finds each of these and names the chain and the record. On PostgreSQL
triggers also refuse UPDATE and DELETE of records outright, and of heads except their advance to the record just
appended.

Appends to different chains never wait on each other: workers of different connections commit independently. Only
opening a chain (a connection's first record) takes the global chain's head too, once per connection.

What is recorded, and where it is hooked:
- each sync attempt and each platform change applied: every ``SyncLog`` row, as it is written (``post_save``),
  in the same transaction, so the log row and its audit record commit or roll back together;
- each staff action on sync data (retry, sync now, send ours anyway, void locally, re-send, mapping edits): the
  admin's own log entry for it (``LogEntry``), for models of the sync apps.
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection as db
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import GENESIS, GLOBAL, LEGACY, AuditHead, AuditKind, AuditRecord

#: The fields a record's hash covers, in the canonical JSON (``prev_hash`` is appended after them).
HASHED = ("chain", "seq", "at", "kind", "actor", "connection_id", "connection_name", "source_key", "entity",
          "operation", "outcome", "remote_id", "detail")
#: What the records of the legacy chain were hashed over: the same without ``chain``.
LEGACY_HASHED = HASHED[1:]
OPENED = "chain opened"  # the operation of the global record that opens a chain


def chain_of(connection_id: int | None) -> str:
    """The chain a record about this connection (or about none) belongs to."""
    return GLOBAL if connection_id is None else f"connection:{connection_id}"


def canonical(record: AuditRecord) -> str:
    """The exact text a record's hash is computed over: its fields as sorted, compact JSON (times in UTC with
    microseconds), followed by the previous record's hash. An auditor can recompute it from an export."""
    fields = {name: getattr(record, name) for name in (LEGACY_HASHED if record.chain == LEGACY else HASHED)}
    fields["at"] = record.at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str) \
        + record.prev_hash


def digest(record: AuditRecord) -> str:
    return hashlib.sha256(canonical(record).encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    """Decimals, dates and the like as strings: what the JSON column gives back is what was hashed."""
    return json.loads(json.dumps(value, default=str))


def append(kind: str, *, actor: str = "", connection_id: int | None = None, connection_name: str = "",
           source_key: str = "", entity: str = "", operation: str = "", outcome: str = "", remote_id: str = "",
           detail: dict | None = None) -> AuditRecord:
    """Add one record at the end of the connection's chain (the global one without a connection). Runs inside the
    caller's transaction (its own if there is none), holding that chain's head until it commits: concurrent
    writers of one connection append one after the other; writers of different connections do not wait. No
    savepoint: a failure here is never caught and carried on from, so the caller's whole transaction fails."""
    with transaction.atomic(savepoint=False):
        head = _locked_head(chain_of(connection_id), connection_id, connection_name)
        return _extend(head, **_fields(kind, actor=actor, connection_id=connection_id,
                                       connection_name=connection_name, source_key=source_key, entity=entity,
                                       operation=operation, outcome=outcome, remote_id=remote_id, detail=detail))


def append_many(records: list[dict]) -> list[AuditRecord]:
    """``append`` for many records (each a dict of ``append``'s arguments), in their order within each chain: each
    chain's head is locked once, its records are written with one INSERT and the head advanced once, in the
    caller's transaction. Chains are locked in name order, so two writers of the same chains never wait on each
    other in a cycle."""
    by_chain: dict[str, list[dict]] = {}
    for fields in records:
        by_chain.setdefault(chain_of(fields.get("connection_id")), []).append(_fields(**fields))
    written: list[AuditRecord] = []
    with transaction.atomic(savepoint=False):
        for chain in sorted(by_chain):
            group = by_chain[chain]
            head = _locked_head(chain, group[0]["connection_id"], group[0]["connection_name"])
            batch = []
            for fields in group:
                record = AuditRecord(chain=chain, seq=head.seq + 1, at=timezone.now(), prev_hash=head.hash,
                                     **fields)
                record.hash = digest(record)
                head.seq, head.hash = record.seq, record.hash
                batch.append(record)
            AuditRecord.objects.bulk_create(batch)
            AuditHead.objects.filter(pk=head.pk).update(seq=head.seq, hash=head.hash)
            written += batch
    return written


def _fields(kind: str, *, actor: str = "", connection_id: int | None = None, connection_name: str = "",
            source_key: str = "", entity: str = "", operation: str = "", outcome: str = "", remote_id: str = "",
            detail: dict | None = None) -> dict:
    """A record's own fields as stored (cut to their columns; the detail as its JSON gives it back)."""
    return dict(kind=kind, actor=actor[:150], connection_id=connection_id, connection_name=connection_name[:200],
                source_key=source_key[:200], entity=entity[:30], operation=operation[:40], outcome=outcome[:20],
                remote_id=remote_id[:100], detail=_jsonable(detail or {}))


def command_action(operation: str, *, connection=None, detail: dict | None = None,
                   actor: str | None = None) -> AuditRecord:
    """A staff action taken with a management command (resync, retry): recorded with the operating-system user
    who ran it (or ``actor``: the command's ``--user``), as the admin's actions are with the staff user."""
    if actor is None:
        try:
            actor = f"{getpass.getuser()} (command)"
        except (KeyError, OSError):  # no user name in this environment (some containers)
            actor = "(command)"
    return append(AuditKind.STAFF, actor=actor, connection_id=connection.pk if connection else None,
                  connection_name=connection.name if connection else "", operation=operation, outcome="done",
                  detail=detail)


def _extend(head: AuditHead, **fields) -> AuditRecord:
    """Write the record after ``head`` (locked by this transaction) and advance the head to it."""
    record = AuditRecord(chain=head.chain, seq=head.seq + 1, at=timezone.now(), prev_hash=head.hash, **fields)
    record.hash = digest(record)
    if db.vendor == "postgresql":  # every sync attempt writes one: plain statements, no model save machinery
        _insert(record)
        with db.cursor() as cursor:
            cursor.execute(f"UPDATE {AuditHead._meta.db_table} SET seq = %s, hash = %s WHERE id = %s",  # nosec B608
                           [record.seq, record.hash, head.pk])
    else:
        record.save(force_insert=True)
        AuditHead.objects.filter(pk=head.pk).update(seq=record.seq, hash=record.hash)
    head.seq, head.hash = record.seq, record.hash
    return record


def _insert(record: AuditRecord) -> None:
    """``record.save(force_insert=True)`` in one plain INSERT (each field's value prepared as the ORM would)."""
    fields = [f for f in AuditRecord._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(record, True), db) for f in fields]
    sql = (f"INSERT INTO {AuditRecord._meta.db_table} ({', '.join(f.column for f in fields)}) "  # nosec B608
           f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id")
    with db.cursor() as cursor:
        cursor.execute(sql, values)
        record.pk = cursor.fetchone()[0]
    record._state.adding, record._state.db = False, db.alias


def _lock(chain: str) -> AuditHead | None:
    """The chain's head row, locked for this transaction: ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite (no
    row locks) a write to it first, which takes the database's write lock before the head is read."""
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute(f"SELECT id, chain, seq, hash FROM {AuditHead._meta.db_table} "  # nosec B608
                           "WHERE chain = %s FOR UPDATE", [chain])
            row = cursor.fetchone()
        return AuditHead.from_db(db.alias, ["id", "chain", "seq", "hash"], row) if row else None
    AuditHead.objects.filter(chain=chain).update(seq=F("seq"))
    return AuditHead.objects.filter(chain=chain).first()


def _locked_head(chain: str, connection_id: int | None = None, connection_name: str = "") -> AuditHead:
    """The chain's head, locked; a chain without one is opened first. Opening holds the global head, so two writers
    opening the same chain do it one after the other (the second finds the head the first created), and records
    the opening in the global chain: a chain deleted whole is then missed by ``verify``."""
    head = _lock(chain)
    if head is not None:
        return head
    if chain == GLOBAL:  # a fresh (or flushed) database: the first append creates it
        AuditHead.objects.get_or_create(chain=GLOBAL)
        return _lock(GLOBAL)
    global_head = _locked_head(GLOBAL)
    head = _lock(chain)  # opened by another writer while this one waited for the global head
    if head is not None:
        return head
    head = AuditHead.objects.create(chain=chain)
    _extend(global_head, kind=AuditKind.CHAIN, connection_name=connection_name[:200], operation=OPENED,
            outcome="done", detail={"chain": chain, "connection_id": connection_id})
    return head


# -- verification ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    chain: str
    seq: int
    kind: str  # "edited" | "deleted" | "reordered" | "replaced" | "truncated" | "headless" | "vanished" | "unopened"
    message: str

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq} {self.kind}: {self.message}"


@dataclass
class _Walked:
    count: int = 0
    last: int = 0
    last_hash: str = GENESIS


def verify(chunk_size: int = 2000, progress=None) -> list[Problem]:
    """Walk every chain; every record whose content, position or neighbours are not what was appended, every chain
    whose newest records, head or whole self are gone, and every chain the global chain never opened.
    ``progress``: something with ``update(n)`` (a progress bar), told of each record walked."""
    heads = {head.chain: head for head in AuditHead.objects.all()}
    with_records = set(AuditRecord.objects.order_by().values_list("chain", flat=True).distinct())
    problems: list[Problem] = []
    opened: dict[str, AuditRecord] = {}

    def note_opening(record: AuditRecord) -> None:
        if record.kind == AuditKind.CHAIN and record.operation == OPENED and isinstance(record.detail, dict):
            opened.setdefault(str(record.detail.get("chain")), record)

    walked = {GLOBAL: _walk(GLOBAL, heads.get(GLOBAL), problems, chunk_size, note_opening, progress)}
    for chain in sorted((with_records | set(heads) | set(opened)) - {GLOBAL}, key=_chain_order):
        if chain not in with_records and chain not in heads:
            problems.append(Problem(chain, 1, "vanished", f"the chain opened by global record #{opened[chain].seq} "
                                                          "is gone: all its records and its head were deleted"))
            continue
        walked[chain] = _walk(chain, heads.get(chain), problems, chunk_size, progress=progress)
        if chain not in opened:
            problems.append(Problem(chain, 0, "unopened", "no global record opened this chain: the global chain's "
                                                          "records were deleted, or the chain was made up"))
        elif chain == LEGACY:  # closed when chains were split: it must still end where it was sealed
            seal, end = opened[chain].detail, walked[chain]
            if (seal.get("last_seq"), seal.get("last_hash")) != (end.last, end.last_hash):
                problems.append(Problem(chain, end.last, "truncated", f"the legacy chain was sealed at "
                                                                      f"#{seal.get('last_seq')}, it now ends at "
                                                                      f"#{end.last} with another record"))
    return problems


def _chain_order(chain: str) -> tuple:
    name, _, number = chain.partition(":")
    return (name != LEGACY, name, int(number) if number.isdigit() else 0, chain)


def _walk(chain: str, head: AuditHead | None, problems: list[Problem], chunk_size: int, each=None,
          progress=None) -> _Walked:
    """Check one chain's records in ``seq`` order, and its head against its last record."""
    position = _positions(chain, chunk_size)
    previous_hash, expected, last, previous_moved, count = GENESIS, 1, 0, False, 0
    for record in AuditRecord.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=chunk_size):
        count += 1
        appended_as = position.get(record.hash, record.seq)
        moved = appended_as != record.seq
        edited = _digest_at(record, appended_as) != record.hash
        if record.seq > expected:
            gap = f"#{expected}" if record.seq == expected + 1 else f"#{expected} to #{record.seq - 1}"
            problems.append(Problem(chain, expected, "deleted", f"record {gap} deleted: the chain jumps from "
                                                                f"#{expected - 1} to #{record.seq}"))
        elif moved:
            problems.append(Problem(chain, record.seq, "reordered", f"record #{record.seq} was appended as "
                                                                    f"#{appended_as}: records were reordered"))
        elif record.prev_hash != previous_hash and not previous_moved and not edited:
            problems.append(Problem(chain, record.seq - 1, "replaced", f"record #{record.seq} does not follow "
                                                                       f"#{record.seq - 1}: #{record.seq - 1} was "
                                                                       "replaced (edited and its hash recomputed)"))
        if edited:  # its own content (a record from another chain, too: the chain is hashed)
            problems.append(Problem(chain, record.seq, "edited", f"record #{record.seq} was edited: its content no "
                                                                 "longer matches its hash"))
        if each is not None:
            each(record)
        if progress is not None:
            progress.update(1)
        previous_hash, expected, last, previous_moved = record.hash, record.seq + 1, record.seq, moved
    if head is None:
        if count:
            problems.append(Problem(chain, last, "headless", f"the chain's head was deleted (its last record is "
                                                             f"#{last}): newer records may have been deleted too"))
    elif (head.seq, head.hash) != (last, previous_hash):
        if head.seq > last:
            problems.append(Problem(chain, last + 1, "truncated", f"the newest records (#{last + 1} to #{head.seq}) "
                                                                  "were deleted"))
        else:
            problems.append(Problem(chain, last, "replaced", f"the newest record #{last} is not the one appended "
                                                             "last"))
    return _Walked(count, last, previous_hash)


def _positions(chain: str, chunk_size: int) -> dict[str, int]:
    """Each record's place in its chain as the hashes link it (hash -> position), whatever its ``seq`` says now."""
    following = {prev: this for this, prev in AuditRecord.objects.filter(chain=chain).order_by()
                 .values_list("hash", "prev_hash").iterator(chunk_size=chunk_size)}
    position, current = {}, GENESIS
    while current in following and len(position) < len(following):
        current = following[current]
        position[current] = len(position) + 1
    return position


def _digest_at(record: AuditRecord, seq: int) -> str:
    """The record's hash had it kept position ``seq`` (a moved record is reported as moved, not also edited)."""
    if seq == record.seq:
        return digest(record)
    original = AuditRecord(**{name: getattr(record, name) for name in HASHED}, prev_hash=record.prev_hash)
    original.seq = seq
    return digest(original)


# -- export ---------------------------------------------------------------------------------------------------
EXPORT_FIELDS = ("chain", "seq", "at", "kind", "actor", "connection_id", "connection_name", "source_key", "entity",
                 "operation", "outcome", "remote_id", "detail", "prev_hash", "hash")


def records(since=None, until=None, chunk_size: int = 2000) -> Iterator[dict]:
    """The records of a period (``since`` inclusive, ``until`` exclusive) of every chain as plain dicts, by time,
    then chain and position in it."""
    qs = AuditRecord.objects.order_by("at", "chain", "seq")
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    for record in qs.iterator(chunk_size=chunk_size):
        row = {name: getattr(record, name) for name in EXPORT_FIELDS}
        row["at"] = record.at.astimezone(dt.UTC).isoformat(timespec="microseconds")
        yield row


__all__ = ["AuditKind", "append", "command_action", "verify", "records", "canonical", "chain_of", "Problem"]
