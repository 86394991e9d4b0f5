"""The tamper-evident audit trail: every transfer and every staff action on sync data, append-only, hash-chained.

Each record commits to the one before it: its ``hash`` is sha256 over the canonical JSON of its own fields and
the previous record's hash (``canonical``). Editing a record breaks its own hash; deleting or reordering records
breaks the chain at that point; deleting the newest records leaves the head row pointing past the end. ``verify``
finds each of these and names the record. On PostgreSQL a trigger also refuses UPDATE and DELETE outright.

What is recorded, and where it is hooked:
- each sync attempt and each platform change applied: every ``SyncLog`` row, as it is written (``post_save``),
  in the same transaction, so the log row and its audit record commit or roll back together;
- each staff action on sync data (retry, sync now, send ours anyway, void locally, re-send, mapping edits): the
  admin's own log entry for it (``LogEntry``), for models of the sync apps.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterator

from django.db import connection as db, transaction
from django.db.models import F
from django.utils import timezone

from .models import GENESIS, AuditHead, AuditKind, AuditRecord

#: The fields a record's hash covers, in the canonical JSON (``prev_hash`` is appended after them).
HASHED = ("seq", "at", "kind", "actor", "connection_id", "connection_name", "source_key", "entity", "operation",
          "outcome", "remote_id", "detail")


def canonical(record: AuditRecord) -> str:
    """The exact text a record's hash is computed over: its fields as sorted, compact JSON (times in UTC with
    microseconds), followed by the previous record's hash. An auditor can recompute it from an export."""
    fields = {name: getattr(record, name) for name in HASHED}
    fields["at"] = record.at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
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
    """Add one record at the end of the chain. Runs inside the caller's transaction (its own if there is none),
    holding the chain head until that commits: concurrent writers append one after the other."""
    with transaction.atomic():
        head = _locked_head()
        record = AuditRecord(
            seq=head.seq + 1, at=timezone.now(), kind=kind, actor=actor[:150], connection_id=connection_id,
            connection_name=connection_name[:200], source_key=source_key[:200], entity=entity[:30],
            operation=operation[:40], outcome=outcome[:20], remote_id=remote_id[:100],
            detail=_jsonable(detail or {}), prev_hash=head.hash)
        record.hash = digest(record)
        record.save(force_insert=True)
        AuditHead.objects.filter(pk=head.pk).update(seq=record.seq, hash=record.hash)
    return record


def command_action(operation: str, *, connection=None, detail: dict | None = None) -> AuditRecord:
    """A staff action taken with a management command (resync, retry): recorded with the operating-system user
    who ran it, as the admin's actions are with the staff user."""
    import getpass

    try:
        actor = f"{getpass.getuser()} (command)"
    except (KeyError, OSError):  # no user name in this environment (some containers)
        actor = "(command)"
    return append(AuditKind.STAFF, actor=actor, connection_id=connection.pk if connection else None,
                  connection_name=connection.name if connection else "", operation=operation, outcome="done",
                  detail=detail)


def _locked_head() -> AuditHead:
    """The head row, locked for this transaction: ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite (no row
    locks) a write to it first, which takes the database's write lock before the head is read."""
    if db.vendor == "postgresql":
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
    else:
        AuditHead.objects.filter(pk=1).update(seq=F("seq"))
        head = AuditHead.objects.filter(pk=1).first()
    if head is None:  # a fresh (or flushed) database: the first append creates it
        AuditHead.objects.get_or_create(pk=1)
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


# -- verification ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str  # "edited" | "deleted" | "reordered" | "truncated"
    message: str


def verify(chunk_size: int = 2000) -> list[Problem]:
    """Walk the whole chain; every record whose content, position or neighbours are not what was appended."""
    position = _positions(chunk_size)
    problems: list[Problem] = []
    previous_hash, expected, last, previous_moved = GENESIS, 1, 0, False
    for record in AuditRecord.objects.order_by("seq").iterator(chunk_size=chunk_size):
        appended_as = position.get(record.hash, record.seq)
        moved = appended_as != record.seq
        if record.seq > expected:
            gap = f"#{expected}" if record.seq == expected + 1 else f"#{expected} to #{record.seq - 1}"
            problems.append(Problem(expected, "deleted", f"record {gap} deleted: the chain jumps from "
                                                         f"#{expected - 1} to #{record.seq}"))
        elif moved:
            problems.append(Problem(record.seq, "reordered", f"record #{record.seq} was appended as #{appended_as}: "
                                                             "records were reordered"))
        elif record.prev_hash != previous_hash and not previous_moved:
            problems.append(Problem(record.seq - 1, "replaced", f"record #{record.seq} does not follow "
                                                                f"#{record.seq - 1}: #{record.seq - 1} was replaced "
                                                                "(edited and its hash recomputed)"))
        if _digest_at(record, appended_as) != record.hash:
            problems.append(Problem(record.seq, "edited", f"record #{record.seq} was edited: its content no longer "
                                                          "matches its hash"))
        previous_hash, expected, last, previous_moved = record.hash, record.seq + 1, record.seq, moved
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (last, previous_hash):
        if head.seq > last:
            problems.append(Problem(last + 1, "truncated", f"the newest records (#{last + 1} to #{head.seq}) were "
                                                           "deleted"))
        else:
            problems.append(Problem(last, "replaced", f"the newest record #{last} is not the one appended last"))
    return problems


def _positions(chunk_size: int) -> dict[str, int]:
    """Each record's place in the chain as its hashes link it (hash -> position), whatever its ``seq`` says now."""
    following = {prev: this for this, prev in
                 AuditRecord.objects.values_list("hash", "prev_hash").iterator(chunk_size=chunk_size)}
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
EXPORT_FIELDS = ("seq", "at", "kind", "actor", "connection_id", "connection_name", "source_key", "entity",
                 "operation", "outcome", "remote_id", "detail", "prev_hash", "hash")


def records(since=None, until=None, chunk_size: int = 2000) -> Iterator[dict]:
    """The records of a period (``since`` inclusive, ``until`` exclusive) as plain dicts, in chain order."""
    qs = AuditRecord.objects.order_by("seq")
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    for record in qs.iterator(chunk_size=chunk_size):
        row = {name: getattr(record, name) for name in EXPORT_FIELDS}
        row["at"] = record.at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
        yield row


__all__ = ["AuditKind", "append", "command_action", "verify", "records", "canonical", "Problem"]
