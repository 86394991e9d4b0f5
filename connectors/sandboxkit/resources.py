"""A generic stateful resource store for platform sandboxes.

Every platform keeps the same kinds of state: records of a few resource types with ids, a last-modified time,
sometimes a version checked on update, uniqueness rules (a document number, a contact name), void versus delete,
lists with paging and filters, "changed since" and "deleted since" queries, and an idempotency memory. Written
once here, a platform sandbox only declares its resource types and renders records and errors in its own shape.

Records are plain dicts (the platform's own field names). The store keeps the bookkeeping beside them in a
:class:`Row`: id, version, created and modified times (from the injectable clock). Money must be ``Decimal``: a
``float`` anywhere in a record is refused, because a float cannot hold cents exactly. One ``RLock`` guards
everything; a platform that needs several steps to be atomic (a payment that lowers an invoice's balance) holds
``store.lock`` around them. Event callbacks run after the change, outside no lock but the store's, so they must be
quick (a webhook emitter only queues).
"""
from __future__ import annotations

import copy
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

EVENTS = ("create", "update", "void", "delete")


class ResourceError(Exception):
    """Base of the store's refusals; the platform renders each in its own error body."""

    def __init__(self, resource: str, message: str, record_id: str | None = None) -> None:
        super().__init__(message)
        self.resource, self.record_id, self.message = resource, record_id, message


class NotFound(ResourceError):
    """No record with that id (or it was deleted)."""


class Conflict(ResourceError):
    """The version sent with an update is not the current one (optimistic concurrency)."""

    def __init__(self, resource: str, record_id: str, sent: str, current: str) -> None:
        super().__init__(resource, f"{resource} {record_id}: version {sent!r} is stale (current {current!r})",
                         record_id)
        self.sent, self.current = sent, current


class Duplicate(ResourceError):
    """A uniqueness rule would be broken; ``rule`` and ``value`` say which and by what."""

    def __init__(self, resource: str, rule: Unique, value: tuple, existing_id: str) -> None:
        shown = ", ".join(f"{f}={v!r}" for f, v in zip(rule.fields, value, strict=True))
        super().__init__(resource, f"{resource} with {shown} already exists ({existing_id})", existing_id)
        self.rule, self.value, self.existing_id = rule, value, existing_id


@dataclass(frozen=True)
class Unique:
    """A uniqueness rule: ``fields`` together are unique among live records, compared case-insensitively when
    ``ignore_case``, within ``scope`` (a field such as the organisation id, so two organisations may share a
    number). Records whose ``status`` field is in ``except_status`` (e.g. void) do not count; a missing or empty
    value never collides."""

    fields: tuple[str, ...]
    ignore_case: bool = True
    scope: str | None = None
    except_status: tuple[str, ...] = ()

    def key(self, record: dict) -> tuple | None:
        values = tuple(record.get(f) for f in self.fields)
        if any(v in (None, "") for v in values):
            return None
        if self.ignore_case:
            values = tuple(v.casefold() if isinstance(v, str) else v for v in values)
        return (record.get(self.scope) if self.scope else None,) + values


@dataclass
class ResourceType:
    """How one resource type behaves: id style (``seq`` numbers from ``id_start``, or ``uuid``), an id prefix,
    whether updates check a version, and its uniqueness rules."""

    name: str
    ids: str = "seq"
    id_start: int = 1
    id_prefix: str = ""
    versioned: bool = False
    unique: tuple[Unique, ...] = ()
    counter: Any = None

    def next_id(self) -> str:
        if self.ids == "uuid":
            return str(uuid.uuid4())
        return f"{self.id_prefix}{next(self.counter)}"


@dataclass
class Row:
    """One record with the store's bookkeeping. ``data`` is a copy: changing it changes nothing in the store."""

    resource: str
    id: str
    data: dict
    version: str
    created: float
    modified: float

    def public(self, id_field: str) -> dict:
        """The record as a platform shows it: its id under ``id_field``, then every field whose name does not
        start with ``_`` (the sandbox's own bookkeeping, e.g. whether an invoice was sent)."""
        return {id_field: self.id, **{k: v for k, v in self.data.items() if not k.startswith("_")}}


def sort_key(column: str) -> Callable[[Row], Any]:
    """Order rows by ``created``, ``modified`` or a record field (numbers before text, missing values last), with
    the creation order breaking ties."""
    if column in ("created", "modified"):
        return lambda row: (getattr(row, column), row.created)

    def key(row: Row) -> Any:
        value = row.data.get(column)
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return (0, value, "", row.created)
        return (1 if value not in (None, "") else 2, 0, str(value or "").casefold(), row.created)
    return key


@dataclass
class Page:
    """One page of a list: the rows, whether more follow, and the paging actually applied."""

    rows: list[Row]
    has_more: bool
    total: int
    page: int | None = None
    per_page: int | None = None
    offset: int | None = None
    limit: int | None = None


@dataclass
class _Record:
    data: dict
    version: int
    created: float
    modified: float
    tombstone: float | None = None
    order: int = 0


def check_money(value: Any, path: str = "record") -> None:
    """Refuse a float anywhere in ``value``: amounts in a sandbox are ``Decimal``, exactly as sent."""
    if isinstance(value, float):
        raise TypeError(f"float {value!r} at {path}; money must be Decimal")
    if isinstance(value, dict):
        for k, v in value.items():
            check_money(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_money(v, f"{path}[{i}]")


class ResourceStore:
    """Records of the declared resource types, thread-safe under one ``RLock`` (``store.lock``)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.types: dict[str, ResourceType] = {}
        self._records: dict[str, dict[str, _Record]] = {}
        self._idempotency: dict[str, Any] = {}
        self._listeners: list[Callable[[str, str, Row], None]] = []
        self._order = itertools.count()

    # -- declaration -------------------------------------------------------------------------------------------
    def declare(self, name: str, ids: str = "seq", id_start: int = 1, id_prefix: str = "", versioned: bool = False,
                unique: Iterable[Unique] = ()) -> ResourceType:
        """Declare a resource type (once per sandbox; :meth:`clear` keeps declarations)."""
        if ids not in ("seq", "uuid"):
            raise ValueError("ids must be 'seq' or 'uuid'")
        with self.lock:
            kind = ResourceType(name, ids, id_start, id_prefix, versioned, tuple(unique), itertools.count(id_start))
            self.types[name] = kind
            self._records[name] = {}
            return kind

    def subscribe(self, callback: Callable[[str, str, Row], None]) -> None:
        """``callback(event, resource, row)`` after every create, update, void and delete (webhook emitters)."""
        with self.lock:
            self._listeners.append(callback)

    def clear(self) -> None:
        """Forget every record, tombstone and idempotency key; ids start again. Declarations and subscribers stay."""
        with self.lock:
            for kind in self.types.values():
                kind.counter = itertools.count(kind.id_start)
                self._records[kind.name] = {}
            self._idempotency.clear()

    # -- single records ------------------------------------------------------------------------------------------
    def create(self, resource: str, data: dict, record_id: str | None = None) -> Row:
        """Store a new record (its id from the type's style unless given); checks uniqueness, refuses floats."""
        check_money(data)
        with self.lock:
            kind, records = self._kind(resource), self._records[resource]
            rid = str(record_id) if record_id is not None else kind.next_id()
            if rid in records and records[rid].tombstone is None:
                raise Duplicate(resource, Unique(("id",)), (rid,), rid)
            self._check_unique(kind, data, rid)
            now = self.clock()
            records[rid] = _Record(copy.deepcopy(data), 0, now, now, order=next(self._order))
            row = self._row(resource, rid)
            self._emit("create", row)
            return row

    def get(self, resource: str, record_id: str) -> Row:
        """The live record, or :class:`NotFound` (deleted records are not found)."""
        with self.lock:
            self._live(resource, record_id)
            return self._row(resource, str(record_id))

    def find(self, resource: str, record_id: str) -> Row | None:
        try:
            return self.get(resource, record_id)
        except NotFound:
            return None

    def require(self, resource: str, record_id: Any, error: Exception) -> Row:
        """The live record a request body names, or raise ``error`` (the platform's own "does not exist" or
        "invalid value" refusal) when the id is missing, unknown or deleted."""
        row = self.find(resource, str(record_id)) if record_id not in (None, "") else None
        if row is None:
            raise error
        return row

    def first(self, resource: str, **equals: Any) -> Row | None:
        """The oldest live record whose fields equal ``equals`` (ignoring case), or None."""
        rows = self.query(resource, equals=equals).rows
        return rows[0] if rows else None

    def total(self, resource: str, field: str, **equals: Any) -> Decimal:
        """The sum of ``field`` over the live records matching ``equals`` exactly (what is applied to a document:
        payments, credits), ``Decimal("0.00")`` when none."""
        return sum((r.data[field] for r in self.rows(resource)
                    if all(r.data.get(k) == v for k, v in equals.items())), Decimal("0.00"))

    def update(self, resource: str, record_id: str, changes: dict, version: str | None = None,
               replace: bool = False, event: str = "update") -> Row:
        """Merge ``changes`` into the record (or ``replace`` it). For a versioned type, ``version`` must be the
        current one (``None`` skips the check: platforms without optimistic concurrency, or the sandbox itself)."""
        check_money(changes)
        with self.lock:
            rec = self._live(resource, record_id)
            kind = self._kind(resource)
            if kind.versioned and version is not None and str(version) != str(rec.version):
                raise Conflict(resource, str(record_id), str(version), str(rec.version))
            merged = copy.deepcopy(changes) if replace else {**rec.data, **copy.deepcopy(changes)}
            self._check_unique(kind, merged, str(record_id))
            rec.data, rec.version, rec.modified = merged, rec.version + 1, self.clock()
            row = self._row(resource, str(record_id))
            self._emit(event, row)
            return row

    def void(self, resource: str, record_id: str, zero: Iterable[str] = (), status_field: str = "status",
             status: str = "void", version: str | None = None, extra: dict | None = None) -> Row:
        """Void keeps the record: the ``zero`` amount fields become ``Decimal("0.00")`` and the status says so."""
        changes = {name: Decimal("0.00") for name in zero}
        changes[status_field] = status
        changes.update(extra or {})
        return self.update(resource, record_id, changes, version=version, event="void")

    def delete(self, resource: str, record_id: str, version: str | None = None) -> Row:
        """Delete removes the record from reads and lists and leaves a tombstone for :meth:`deleted_since`."""
        with self.lock:
            rec = self._live(resource, record_id)
            kind = self._kind(resource)
            if kind.versioned and version is not None and str(version) != str(rec.version):
                raise Conflict(resource, str(record_id), str(version), str(rec.version))
            row = self._row(resource, str(record_id))
            rec.tombstone = rec.modified = self.clock()
            self._emit("delete", row)
            return row

    # -- queries ---------------------------------------------------------------------------------------------------
    def rows(self, resource: str) -> list[Row]:
        """Every live record, in creation order."""
        with self.lock:
            records = self._records[self._kind(resource).name]
            return [self._row(resource, rid) for rid, rec in sorted(records.items(), key=lambda kv: kv[1].order)
                    if rec.tombstone is None]

    def query(self, resource: str, equals: dict | None = None, contains: dict | None = None,
              modified_since: float | None = None, where: Callable[[Row], bool] | None = None,
              sort: Callable[[Row], Any] | str | None = None, descending: bool = False, ignore_case: bool = True,
              page: int | None = None, per_page: int | None = None, offset: int | None = None,
              limit: int | None = None, startswith: dict | None = None) -> Page:
        """Filter, sort and page the live records.

        ``equals`` / ``contains`` / ``startswith``: field -> value (case-insensitive unless told; a value compares
        by its text, so a query parameter ``"100"`` matches ``Decimal("100")``). ``modified_since``: modified at or
        after that time. ``sort``: a key function, or a column for :func:`sort_key`. Paging is ``page``/``per_page``
        (1-based) or ``offset``/``limit``; neither means everything."""
        def text(value: Any) -> str:
            value = "" if value is None else str(value)
            return value.casefold() if ignore_case else value

        rows = self.rows(resource)
        for name, wanted in (equals or {}).items():
            rows = [r for r in rows if text(r.data.get(name)) == text(wanted)]
        for name, wanted in (contains or {}).items():
            rows = [r for r in rows if text(wanted) in text(r.data.get(name))]
        for name, wanted in (startswith or {}).items():
            rows = [r for r in rows if text(r.data.get(name)).startswith(text(wanted))]
        if modified_since is not None:
            rows = [r for r in rows if r.modified >= modified_since]
        if where is not None:
            rows = [r for r in rows if where(r)]
        if sort is not None:
            rows.sort(key=sort_key(sort) if isinstance(sort, str) else sort, reverse=descending)
        elif descending:
            rows.reverse()
        total = len(rows)
        if page is not None or per_page is not None:
            page, per_page = max(1, page or 1), max(1, per_page or total or 1)
            start = (page - 1) * per_page
            return Page(rows[start:start + per_page], start + per_page < total, total, page=page, per_page=per_page)
        if offset is not None or limit is not None:
            offset = max(0, offset or 0)
            end = total if limit is None else offset + max(0, limit)
            return Page(rows[offset:end], end < total, total, offset=offset, limit=limit)
        return Page(rows, False, total)

    def deleted_since(self, resource: str, since: float) -> list[tuple[str, float]]:
        """(id, deleted at) of records deleted at or after ``since``, oldest first."""
        with self.lock:
            gone = [(rid, rec.tombstone) for rid, rec in self._records[self._kind(resource).name].items()
                    if rec.tombstone is not None and rec.tombstone >= since]
        return sorted(gone, key=lambda pair: pair[1])

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {name: sum(1 for r in recs.values() if r.tombstone is None) for name, recs in self._records.items()}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: when the block raises, every record and idempotency key is as it was before it (ids
        handed out meanwhile are not given back, like a database sequence's). For a platform's atomic unit of
        several requests (an OData change set); the lock is held throughout, and the state is copied whole, so it
        suits a sandbox's sizes, not a bulk load."""
        with self.lock:
            saved = copy.deepcopy(self._records), dict(self._idempotency)
            try:
                yield
            except BaseException:
                self._records, self._idempotency = saved
                raise

    # -- idempotency memory -----------------------------------------------------------------------------------------
    def recall(self, key: str) -> Any:
        """The response stored under ``key``, or None."""
        with self.lock:
            return self._idempotency.get(key)

    def remember(self, key: str, response: Any) -> None:
        with self.lock:
            self._idempotency[key] = response

    def once(self, key: str | None, run: Callable[[], Any]) -> Any:
        """``run()`` the first time a key is seen, the stored answer after that (no key: always run). The lock is
        held throughout, so two concurrent requests with one key apply the write once."""
        if not key:
            return run()
        with self.lock:
            if key not in self._idempotency:
                self._idempotency[key] = run()
            return self._idempotency[key]

    def forget_idempotency(self) -> None:
        """Forget every key (a platform's memory expires; tests use this to replay a request as new)."""
        with self.lock:
            self._idempotency.clear()

    # -- internals ----------------------------------------------------------------------------------------------------
    def _kind(self, resource: str) -> ResourceType:
        try:
            return self.types[resource]
        except KeyError:
            raise KeyError(f"undeclared resource {resource!r}; declared: {sorted(self.types)}") from None

    def _live(self, resource: str, record_id: str) -> _Record:
        rec = self._records[self._kind(resource).name].get(str(record_id))
        if rec is None or rec.tombstone is not None:
            raise NotFound(resource, f"{resource} {record_id} does not exist", str(record_id))
        return rec

    def _row(self, resource: str, rid: str) -> Row:
        rec = self._records[resource][rid]
        return Row(resource, rid, copy.deepcopy(rec.data), str(rec.version), rec.created, rec.modified)

    def _check_unique(self, kind: ResourceType, data: dict, own_id: str) -> None:
        for rule in kind.unique:
            if data.get("status") in rule.except_status:
                continue
            key = rule.key(data)
            if key is None:
                continue
            for rid, rec in self._records[kind.name].items():
                if rid == own_id or rec.tombstone is not None or rec.data.get("status") in rule.except_status:
                    continue
                if rule.key(rec.data) == key:
                    raise Duplicate(kind.name, rule, key[1:], rid)

    def _emit(self, event: str, row: Row) -> None:
        for callback in list(self._listeners):
            callback(event, row.resource, row)
