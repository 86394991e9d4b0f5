"""One reconciliation run: our synced documents beside what the platform holds, read in bulk, chunk by chunk.

Memory stays flat in the number of documents: references are read in pages of ``CHUNK`` (one query each, so no
cursor stays open while the run writes); each page is compared with what the platform holds and its variances and
checks are written before the next one is loaded. Across pages the run keeps counters, per-period totals, the
duplicates found, and one bit per reference a full run has already compared.

A full run of the whole connection lists the platform anyway, to find duplicates of ours. Where the connector's
list says what a read would (``reconcile_from_list``), the run compares each listed page with our references to
those ids, reading the platform's next page meanwhile (``readahead``), and then reads by id only the references
the list did not show (deleted there): each document crosses the wire once. Otherwise, and for runs limited to an
organization or a period, references are read by id with ``read_documents`` (one request per ``reconcile_chunk``
ids on platforms with a bulk read). Duplicates are recognised page by page: a listed document that is none of
ours but carries the number of one of ours, both looked up in the database.

A document still on its way (its outbox entry pending or in progress, or a saved change the dispatcher has not
taken in) is not compared at all: it explains itself, and raising an alarm for it would teach staff to ignore
alarms.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import logging
from collections import defaultdict, namedtuple
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol
from collections.abc import Iterable, Iterator

from django.db import connections, router, transaction
from django.db.models import BooleanField, CharField, Exists, OuterRef, Subquery, Value
from django.utils import timezone

from connectors.base import DocumentTotals
from connectors.errors import SyncError
from connectors.models import Connection

from ..policies import preflight, rules
from ..core import sources
from ..core.batching import chunks
from ..models import EntryStatus, ExternalReference, OutboxChange, OutboxEntry, RemoteStatus
from .compare import CLOSED, Finding, LocalDocument, compare, duplicate, unsynced
from .models import (DocumentCheck, Period, PeriodTotal, Reason, ReconciliationRun, RunKind, RunStatus, Variance,
                     VarianceStatus)
from .readahead import read_ahead

log = logging.getLogger(__name__)
CHUNK = 900  # documents per chunk: each chunk's IN lists stay within SQLite's 999 variables (before 3.32)
SCAN = 20 * CHUNK  # primary keys per query when looking for the references a run has not compared yet
CENT = Decimal("0.01")
FIRST_WINDOW = dt.timedelta(days=1)  # how far back the first incremental run of a connection looks
OVERLAP = dt.timedelta(minutes=2)  # each incremental run re-reads a little of the last window (late commits)
IN_FLIGHT = (EntryStatus.PENDING, EntryStatus.IN_PROGRESS, EntryStatus.WAITING)  # waiting: held by a trigger rule
STUCK = (EntryStatus.NEEDS_ATTENTION, EntryStatus.FAILED)
#: The fields of a reference a check reads (``_rows`` adds its outbox status and whether it has open variances).
REF_FIELDS = ("pk", "source_key", "entity", "remote_id", "remote_number", "remote_version", "home_total",
              "synced_at")


@contextmanager
def fewer_collections(young: int = 50_000) -> Iterator[None]:
    """Python's cycle collector runs every ``young`` allocations instead of every 700 while this block runs. A
    chunk's objects (model instances, rows, snapshots) live as long as the chunk: at 700 the collector ran
    thousands of times per 10,000 documents, and what it found alive it moved to the oldest generation, whose
    growth then triggered full collections of the whole process. Collecting after each chunk as well cost more
    than it saved (about a tenth of a run's CPU) and kept no less memory: the automatic collections suffice."""
    threshold = gc.get_threshold()
    gc.set_threshold(young, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


class Progress(Protocol):
    total: int | None

    def update(self, n: int = 1) -> object: ...


def run(conn: Connection, kind: str = RunKind.FULL, *, organization_id: int | None = None,
        since: dt.datetime | None = None, until: dt.datetime | None = None,
        progress: Progress | None = None, record: ReconciliationRun | None = None) -> ReconciliationRun:
    """Reconcile ``conn`` and store the run, its variances and its per-period totals. A platform that cannot be
    read (down, consent revoked) fails the run, not the caller: the run says why. ``record``: the run's record
    written already (a scheduled pass claims the connection with it, ``tasks.claim``)."""
    record = record or ReconciliationRun.objects.create(connection=conn, kind=kind, organization_id=organization_id,
                                                        since=since, until=until)
    work = Reconciliation(conn, record, progress)
    try:
        with fewer_collections():
            work.prepare()
            if kind == RunKind.FULL:
                work.full(since, until)
            else:
                work.incremental(since)
    except SyncError as exc:
        record.status, record.error = RunStatus.FAILED, f"{conn.platform_name} could not be read: {exc.message}"
    except Exception as exc:
        log.exception("reconciling %s failed", conn)
        record.status, record.error = RunStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}"
        work.finish()
        raise
    else:
        record.status = RunStatus.DONE
    work.finish()
    return record


class Reconciliation:
    def __init__(self, conn: Connection, record: ReconciliationRun, progress: Progress | None) -> None:
        self.conn, self.record, self.progress = conn, record, progress
        self.connector = conn.connector()
        self.platform = conn.platform_name
        self.entities = [e for e in self.connector.reconcile_entities if conn.syncs(e)]
        self.home_currency = ""
        self.totals: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0), 0, Decimal(0)])
        self.period: tuple[dt.date | None, dt.date | None] = (None, None)
        #: Per model label, the primary keys of the local objects this run met through their references.
        self.referenced: dict[str, Bits] = defaultdict(Bits)

    def prepare(self) -> None:
        """The company's home currency (a document in it has a home total equal to its total)."""
        self.conn.refresh_from_db(fields=["reference_data", "reference_data_at"])
        self.home_currency = preflight.reference_data(self.conn, self.connector).home_currency

    # -- the two kinds of run -------------------------------------------------------------------------------------
    def full(self, since: dt.datetime | None, until: dt.datetime | None) -> None:
        """Every synced document (dated within ``since``/``until`` when given); a run of the whole connection also
        lists the platform for duplicates of ours, and compares from that list where the connector allows it."""
        self.period = (since.date() if since else None, until.date() if until else None)
        refs = ExternalReference.objects.filter(connection=self.conn, entity__in=self.entities)
        if self.progress is not None:
            self.progress.total = refs.count()
        compared = Bits()
        if self.record.organization_id is None and self.period == (None, None):
            for entity in self.entities:
                self.listed(entity, compared)
        for page in _pages(refs, compared, self.conn.pk):
            self.check(page)
        self.unsynced()
        self.record.cursor = self.record.started_at

    def listed(self, entity: str, compared: Bits) -> None:
        """The platform's whole list of ``entity``, page by page: duplicates of ours, and (``reconcile_from_list``)
        our documents compared with what it lists, each reference marked in ``compared``. Duplicates not listed
        again are resolved."""
        from_list = self.connector.reconcile_from_list
        lister = self.conn.connector()  # a client of its own: the list is read in another thread (``read_ahead``)
        duplicates: list[str] = []
        for page in read_ahead(lambda: chunks(lister.list_documents(entity), CHUNK)):
            mine = self._refs_to(entity, [theirs.remote_id for theirs in page])
            ours = {ref.remote_id.lower() for ref in mine}
            if from_list:
                fresh = [ref for ref in mine if ref.pk not in compared]  # a list that shifted may show one twice
                compared.update(ref.pk for ref in fresh)
                if fresh:
                    self.check(fresh, {theirs.remote_id.lower(): theirs for theirs in page})
            found = self.duplicates(entity, [theirs for theirs in page if theirs.remote_id.lower() not in ours])
            duplicates += [theirs.remote_id for rows in found.values() for _, theirs, _ in rows]
        Variance.objects.filter(connection=self.conn, entity=entity, status=VarianceStatus.OPEN,
                                reason=Reason.DUPLICATE).exclude(remote_id__in=duplicates).update(
            status=VarianceStatus.RESOLVED, resolved_at=timezone.now())

    def incremental(self, since: dt.datetime | None) -> None:
        """Documents the platform reports changed since the last run (its change feed), and those we wrote since."""
        since = since or self._cursor()
        self.record.since = since
        inbound = [e for e in self.entities if e in self.connector.inbound_entities]
        changes, cursor = [], timezone.now()
        if inbound:
            changes, cursor = self.connector.changes_since(inbound, since)
        self.record.cursor = cursor
        changed: dict[str, set[str]] = defaultdict(set)
        for change in changes:
            if change.entity in self.entities:
                changed[change.entity].add(change.remote_id)
        for chunk in chunks(self._changed_refs(since, cursor, changed), CHUNK):
            self.check(chunk)
        for entity, entity_ids in changed.items():
            for ids in chunks(sorted(entity_ids), CHUNK):
                ours = {ref.remote_id.lower() for ref in self._refs_to(entity, ids)}
                for strangers in chunks([i for i in ids if i.lower() not in ours], self.connector.reconcile_chunk):
                    self.duplicates(entity, self.connector.read_documents(entity, strangers))

    def _refs_to(self, entity: str, remote_ids: list[str]) -> list:
        """Our references (``REF_FIELDS`` rows) to these remote ids of ``entity``, whatever their case."""
        refs = ExternalReference.objects.filter(connection=self.conn, entity=entity)
        return [row for wanted in chunks(sorted({*remote_ids, *(i.lower() for i in remote_ids)}), CHUNK)
                for row in _rows(refs.filter(remote_id__in=wanted), self.conn.pk)]

    def _changed_refs(self, since: dt.datetime, until: dt.datetime, changed: dict[str, set[str]]) -> Iterator:
        """Our references to what the platform reports changed (asked for in slices: a feed may report thousands),
        then those we wrote from ``since`` until the run's cursor, each once. Not those written after the cursor:
        the next run starts from it (less ``OVERLAP``), and a run beside a draining backlog would otherwise chase
        the backlog's writes, reading back every document the moment it is sent, on the platform's request budget
        the backlog needs."""
        seen = Bits()
        for entity, ids in changed.items():
            for chunk in chunks(sorted(ids), CHUNK):
                for ref in self._refs_to(entity, chunk):
                    if ref.pk not in seen:
                        seen.add(ref.pk)
                        yield ref
        since_refs = ExternalReference.objects.filter(connection=self.conn, entity__in=self.entities,
                                                      synced_at__gte=since, synced_at__lt=until)
        for page in _pages(since_refs, seen, self.conn.pk):
            yield from page

    def _cursor(self) -> dt.datetime:
        last = (ReconciliationRun.objects.filter(connection=self.conn, status=RunStatus.DONE, cursor__isnull=False)
                .exclude(pk=self.record.pk).order_by("-started_at").values_list("cursor", flat=True).first())
        return (last - OVERLAP) if last else timezone.now() - FIRST_WINDOW

    # -- one chunk ------------------------------------------------------------------------------------------------
    def check(self, refs: list, listed: dict[str, DocumentTotals] | None = None) -> None:
        """Compare the documents of ``refs`` (``REF_FIELDS`` rows) with what the platform holds: ``listed`` (remote
        id in lower case -> document, every one of ``refs`` in it) when a list already says, else read by id."""
        for ref in refs:  # these have a reference: the scan for documents never sent skips them (``unsynced``)
            label, _, pk = ref.source_key.rpartition(":")
            if pk.isdigit():
                self.referenced[label].add(int(pk))
        statuses = {r.source_key: r.outbox for r in refs if r.outbox}
        moving = {key for key, status in statuses.items() if status in IN_FLIGHT}
        changes = OutboxChange.objects.filter(connection_id=self.conn.pk)
        if changes.exists():  # saved changes the dispatcher has not taken in: usually none
            moving.update(changes.filter(source_key__in=[r.source_key for r in refs])
                          .values_list("source_key", flat=True))
        objects = self._objects([r for r in refs if r.source_key not in moving])
        loaded = []
        for ref in refs:
            if ref.source_key in moving:
                self.record.in_flight += 1
                continue
            item = self._load(ref, objects)
            if item is not None:
                loaded.append((ref, *item, statuses.get(ref.source_key) in STUCK))
        synced = self._synced({key for *_, applied, _, _ in loaded for key, _ in applied or ()})
        documents = [self._document(ref, snapshot, label, applied, synced, stuck, committed)
                     for ref, snapshot, label, applied, committed, stuck in loaded]
        found: dict[str, list[tuple[LocalDocument, DocumentTotals, Finding]]] = {d.key: [] for d in documents}
        for entity in self.entities:
            mine = [d for d in documents if d.entity == entity]
            if not mine:
                continue
            if listed is None:
                read = self.connector.read_documents(entity, [d.remote_id for d in mine])
                remote = {r.remote_id.lower(): r for r in read}
            else:
                remote = listed
            for doc in mine:
                theirs = remote.get(doc.remote_id.lower()) or DocumentTotals(doc.remote_id, entity, status="deleted")
                tolerance = self.connector.rounding_tolerance(entity, doc.lines)
                found[doc.key] += [(doc, theirs, f) for f in compare(doc, theirs, tolerance, self.platform)]
                self._add_totals(doc, theirs)
        self.record.checked += len(documents)
        self.save(found, open_keys={r.source_key for r in refs if r.open})
        self.remember(documents, {key for key, rows in found.items() if rows},
                      {r.source_key for r in refs if r.checked})
        if self.progress is not None:
            self.progress.update(len(refs))

    @staticmethod
    def _objects(refs: list[ExternalReference]) -> dict[str, tuple]:
        """Source key -> (adapter, object or None when deleted here): one query per model, and what the snapshots
        read prefetched by the adapter (``prefetch``), instead of a few queries per document."""
        by_label: dict[str, list[str]] = defaultdict(list)
        for ref in refs:
            label, _, pk = ref.source_key.rpartition(":")
            by_label[label].append(pk)
        found = {}
        for label, pks in by_label.items():
            try:
                adapter = sources.adapter_for_key(f"{label}:0")
            except LookupError:
                continue  # a model no longer registered: its documents are not compared
            objs = sources.in_bulk(adapter.model, pks)
            adapter.prefetch(list(objs.values()))
            found.update((f"{label}:{pk}", (adapter, objs.get(pk))) for pk in pks)
        return found

    def _load(self, ref: ExternalReference, objects: dict[str, tuple]):
        """(snapshot as this connection sends it, label, applications) of a reference's local object; None when it
        is outside this run (another organization, another period, a document the connection's rules skip)."""
        if ref.source_key not in objects:
            return None
        adapter, obj = objects[ref.source_key]
        if obj is None:
            return None, ref.source_key, None, None
        snapshot = adapter.snapshot(obj)
        with contextlib.suppress(SyncError):  # compared as the adapter builds it; the outbound side reports it
            snapshot = rules.apply(self.conn, self.connector, snapshot)
        if snapshot is None:
            return None
        if self.record.organization_id is not None and snapshot.organization_id != self.record.organization_id:
            return None
        date = getattr(snapshot, "issue_date", None) or getattr(snapshot, "date", None)
        first, last = self.period
        if (first and (date is None or date < first)) or (last and (date is None or date > last)):
            return None
        applied = adapter.applied(obj) if ref.entity != "payment" else None
        return snapshot, adapter.label(obj)[:200], applied, getattr(obj, "updated_at", None)

    def _synced(self, keys: set[str]) -> set[str]:
        """Of ``keys`` (payments, credit notes), those that reached the platform and are not on their way again."""
        if not keys:
            return set()
        active = set(ExternalReference.objects.filter(connection=self.conn, source_key__in=keys,
                                                      remote_status=RemoteStatus.ACTIVE)
                     .values_list("source_key", flat=True))
        moving = set(OutboxEntry.objects.filter(connection=self.conn, source_key__in=keys, status__in=IN_FLIGHT)
                     .values_list("source_key", flat=True))
        moving |= set(OutboxChange.objects.filter(connection_id=self.conn.pk, source_key__in=keys)
                      .values_list("source_key", flat=True))
        return active - moving

    def _document(self, ref, snapshot, label, applied, synced: set[str], stuck: bool, committed) -> LocalDocument:
        if snapshot is None:  # deleted here
            return LocalDocument(ref.source_key, ref.entity, None, label, ref.remote_number, "deleted", "",
                                 Decimal(0), None, None, None, None, None, 0, ref.remote_id, ref.remote_version,
                                 stuck, None, ref.synced_at)
        payment = ref.entity == "payment"
        total = getattr(snapshot, "total", None)
        if total is None:  # payments and refunds carry an amount; documents with lines a total
            total = snapshot.amount
        balance = synced_balance = None
        if applied is not None:
            balance = total - sum((amount for _, amount in applied), Decimal(0))
            synced_balance = total - sum((amount for key, amount in applied if key in synced), Decimal(0))
        if snapshot.is_void:
            status = "voided"
        elif payment or (balance is not None and balance == 0 and total):
            status = "paid"
        else:
            status = "open"
        if snapshot.currency == self.home_currency:
            home = total
        elif snapshot.exchange_rate:
            home = (total * snapshot.exchange_rate).quantize(CENT, rounding=ROUND_HALF_UP)
        else:
            home = ref.home_total  # booked at the platform's rate when it was sent
        return LocalDocument(
            ref.source_key, ref.entity, snapshot.organization_id, label, snapshot.number, status, snapshot.currency,
            total, None if payment else getattr(snapshot, "tax_total", None), balance, synced_balance, home,
            getattr(snapshot, "issue_date", None) or getattr(snapshot, "date", None),
            len(getattr(snapshot, "lines", ())), ref.remote_id, ref.remote_version, stuck, committed, ref.synced_at)

    # -- documents that never reached the platform ------------------------------------------------------------
    def unsynced(self) -> None:
        """Documents here that the connection should have sent and that have no reference on it: each is a variance
        "not synced yet" (an alarm when it never entered the outbox: a save made while syncing was off, say; none
        when the attention list holds it) and counts in the local side of the period totals. Documents still on
        their way, drafts, voided ones and those the connection's rules, start date, run's organization or period
        leave out are not. The local objects are scanned by primary key, a page at a time: only those without a
        reference are loaded. Open variances of this kind whose document is no longer unsynced are resolved."""
        org_ids = set(self.conn.organizations.values_list("pk", flat=True))
        if self.record.organization_id is not None:
            org_ids &= {self.record.organization_id}
        found: dict[str, list] = {}
        for label, adapter in sources.adapters().items():
            if adapter.entity not in self.entities or not org_ids or not self.conn.sends(adapter.entity, "create"):
                continue  # a connection that only takes these in from the platform sends none of ours
            met = self.referenced[label]
            for pks in _pk_pages(adapter.queryset(org_ids)):
                keys = [f"{label}:{pk}" for pk in pks if not (isinstance(pk, int) and pk in met)]
                known = set(ExternalReference.objects.filter(connection=self.conn, source_key__in=keys)
                            .values_list("source_key", flat=True)) if keys else set()
                missing = [key for key in keys if key not in known]
                if missing:
                    found.update(self._unsynced(adapter, org_ids, missing))
        self.save(found)
        stale = (Variance.objects.filter(connection=self.conn, status=VarianceStatus.OPEN, reason=Reason.NOT_SYNCED,
                                         remote_id="", entity__in=self.entities)
                 .values_list("pk", "source_key", "organization_id"))
        gone = [pk for pk, key, org in stale if key not in found and (self.record.organization_id in (None, org))]
        if gone and self.period == (None, None):
            Variance.objects.filter(pk__in=gone).update(status=VarianceStatus.RESOLVED, resolved_at=timezone.now())

    def _unsynced(self, adapter, org_ids: set[int], keys: list[str]) -> dict[str, list]:
        objects = sources.in_bulk(adapter.model, [key.rsplit(":", 1)[1] for key in keys])
        adapter.prefetch(list(objects.values()))
        statuses = dict(OutboxEntry.objects.filter(connection=self.conn, source_key__in=keys)
                        .values_list("source_key", "status"))
        statuses.update((key, EntryStatus.PENDING) for key in OutboxChange.objects.filter(  # saved, not taken in yet
            connection_id=self.conn.pk, source_key__in=keys).values_list("source_key", flat=True))
        start, found = self.conn.start_date, {}
        for key in keys:
            obj, status = objects.get(key.rsplit(":", 1)[1]), statuses.get(key)
            if obj is None or status in IN_FLIGHT or adapter.organization_id(obj) not in org_ids:
                continue
            ref = NOT_SENT._replace(source_key=key, entity=adapter.entity)
            loaded = self._load(ref, {key: (adapter, obj)})
            if loaded is None or loaded[0] is None:
                continue
            snapshot, label, applied, committed = loaded
            date = getattr(snapshot, "issue_date", None) or getattr(snapshot, "date", None)
            if snapshot.is_void or adapter.is_draft(obj, snapshot) or (start and date and date < start):
                continue
            doc = self._document(ref, snapshot, label, applied, set(), status in STUCK, committed)
            self._add_totals(doc, DocumentTotals("", adapter.entity, status="deleted"))
            found[key] = [(doc, DocumentTotals("", adapter.entity, status="missing"),
                           unsynced(doc, self.platform, status in STUCK))]
        return found

    # -- duplicates -----------------------------------------------------------------------------------------------
    def duplicates(self, entity: str, strangers: Iterable[DocumentTotals]) -> dict[str, list]:
        """Of platform documents that are none of ours, those that carry the number of one of ours: each becomes a
        duplicate variance of that document (of the newest reference, should several of ours carry the number).
        Returns what was found, by our document's key."""
        strangers = [theirs for theirs in strangers if theirs.number and theirs.status not in CLOSED]
        numbers = {}
        if strangers:
            numbers = {number: (remote_id, key) for remote_id, key, number in ExternalReference.objects.filter(
                connection=self.conn, entity=entity, remote_number__in={theirs.number for theirs in strangers})
                .order_by("pk").values_list("remote_id", "source_key", "remote_number")}
        found: dict[str, list] = defaultdict(list)
        for theirs in strangers:
            if theirs.number in numbers:
                remote_id, key = numbers[theirs.number]
                found[key].append((None, theirs, duplicate(None, theirs, remote_id, self.platform)))
        self.save(found, duplicates=True)
        return found

    # -- storing --------------------------------------------------------------------------------------------------
    def save(self, found: dict[str, list], duplicates: bool = False, open_keys: set[str] | None = None) -> None:
        """Open a variance per new finding and refresh the ones still open. Compared documents (``found`` has
        every one, findings or not) also have their other open variances resolved; duplicates are resolved only
        by a run that lists the whole platform (``duplicates``). ``open_keys``: of ``found``, the only keys that
        may have open variances (None: any)."""
        now = timezone.now()
        current = {}
        for key, rows in found.items():
            for doc, theirs, f in rows:
                remote_id = theirs.remote_id if f.reason == Reason.DUPLICATE else (doc.remote_id if doc else "")
                current[(key, remote_id, f.field, f.reason)] = (doc, theirs, f)
        keys = list(found) if open_keys is None else [key for key in found if key in open_keys]
        existing = Variance.objects.filter(connection=self.conn, status=VarianceStatus.OPEN, source_key__in=keys)
        existing = existing.filter(reason=Reason.DUPLICATE) if duplicates else existing.exclude(reason=Reason.DUPLICATE)
        existing = {(v.source_key, v.remote_id, v.field, v.reason): v for v in existing} if keys else {}
        new = []
        for ident, (doc, theirs, f) in current.items():
            values = dict(last_run=self.record, last_seen_at=now, local_value=f.local_value[:100],
                          remote_value=f.remote_value[:100], difference=f.difference, alarm=f.alarm,
                          message=f.message[:500], action=f.action[:500])
            if ident in existing:
                Variance.objects.filter(pk=existing[ident].pk).update(**values)
                continue
            new.append(Variance(
                connection=self.conn, first_run=self.record, organization_id=doc.organization_id if doc else None,
                entity=theirs.entity, source_key=ident[0], label=(doc.label if doc else theirs.number)[:200],
                remote_id=ident[1], number=(doc.number if doc else theirs.number)[:100], field=f.field,
                reason=f.reason, first_seen_at=now, **values))
        Variance.objects.bulk_create(new)
        self.record.variances += len(current)
        self.record.alarms += sum(1 for *_, f in current.values() if f.alarm)
        stale = [v.pk for ident, v in existing.items() if ident not in current]
        if stale and not duplicates:
            Variance.objects.filter(pk__in=stale).update(status=VarianceStatus.RESOLVED, resolved_at=now)

    def remember(self, documents: list[LocalDocument], differing: set[str], checked: set[str]) -> None:
        """Each compared document's check: equal or not, and when its current version was first found equal.
        ``checked``: the keys that have a check already (the others are new).

        Written in a few statements per chunk, whatever its size: new checks in one ``executemany``
        (``insert_checks``), and checks of a version already known (the common case on every run after the first) by
        one UPDATE per outcome; only checks whose version, organization or commit time moved are written row by row
        (``bulk_update``)."""
        now = timezone.now()
        known = {key: (pk, org, committed, synced, equal_at) for pk, key, org, committed, synced, equal_at in
                 DocumentCheck.objects.filter(connection=self.conn,
                                              source_key__in=[d.key for d in documents if d.key in checked])
                 .values_list("pk", "source_key", "organization_id", "committed_at", "synced_at", "equal_at")}
        new, moved = [], []
        same: dict[tuple[bool, bool], list[int]] = defaultdict(list)  # (equal, first found equal now) -> pks
        for doc in documents:
            equal = doc.key not in differing
            if doc.key not in known:
                new.append((self.conn.pk, doc.key, doc.entity, doc.organization_id, doc.committed_at, doc.synced_at,
                            equal, now if equal else None, now))
                continue
            pk, org, committed, synced, equal_at = known[doc.key]
            if synced != doc.synced_at:  # another version: its own time to reconcile
                equal_at = None
            elif org == doc.organization_id and committed == doc.committed_at:
                same[(equal, equal and equal_at is None)].append(pk)
                continue
            moved.append(DocumentCheck(pk=pk, organization_id=doc.organization_id, committed_at=doc.committed_at,
                                       synced_at=doc.synced_at, equal=equal, checked_at=now,
                                       equal_at=now if equal and equal_at is None else equal_at))
        insert_checks(new)
        for (equal, first), pks in same.items():
            DocumentCheck.objects.filter(pk__in=pks).update(equal=equal, checked_at=now,
                                                            **({"equal_at": now} if first else {}))
        DocumentCheck.objects.bulk_update(moved, ["organization_id", "committed_at", "synced_at", "equal",
                                                  "equal_at", "checked_at"])

    def _add_totals(self, doc: LocalDocument, theirs: DocumentTotals) -> None:
        if doc.status not in CLOSED and doc.date is not None:
            for period, start in _periods(doc.date):
                row = self.totals[(doc.organization_id, doc.entity, period, start, doc.currency)]
                row[0] += 1
                row[1] += doc.total
        date = theirs.date or doc.date
        if theirs.status not in CLOSED and theirs.total is not None and date is not None:
            for period, start in _periods(date):
                row = self.totals[(doc.organization_id, doc.entity, period, start, theirs.currency or doc.currency)]
                row[2] += 1
                row[3] += theirs.total

    def finish(self) -> None:
        PeriodTotal.objects.bulk_create(
            PeriodTotal(run=self.record, organization_id=org, entity=entity, period=period, start=start,
                        currency=currency, local_count=lc, local_total=lt, remote_count=rc, remote_total=rt)
            for (org, entity, period, start, currency), (lc, lt, rc, rt) in sorted(
                self.totals.items(), key=lambda item: tuple(str(part) for part in item[0])))
        self.record.open_alarms = Variance.objects.filter(connection=self.conn, status=VarianceStatus.OPEN,
                                                          alarm=True).count()
        self.record.finished_at = timezone.now()
        self.record.save()


#: The columns ``insert_checks`` writes, in the order of its rows.
CHECK_FIELDS = ("connection", "source_key", "entity", "organization_id", "committed_at", "synced_at", "equal",
                "equal_at", "checked_at")


def insert_checks(rows: list[tuple]) -> None:
    """New ``DocumentCheck`` rows (values in the order of ``CHECK_FIELDS``) in one ``executemany``. The first run
    over a connection writes one per document; ``bulk_create`` prepared each field of each row in Python (about
    75 µs a row on SQLite, against 20 here). Only the date-times are adapted (SQLite stores them as text)."""
    if not rows:
        return
    alias = router.db_for_write(DocumentCheck)
    db = connections[alias]
    quote, stamp = db.ops.quote_name, db.ops.adapt_datetimefield_value
    fields = [DocumentCheck._meta.get_field(name) for name in CHECK_FIELDS]
    stamps = [i for i, field in enumerate(fields) if field.get_internal_type() == "DateTimeField"]
    columns = ", ".join(quote(f.column) for f in fields)  # the model's own names, quoted; the values are bound
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(DocumentCheck._meta.db_table)} ({columns}) VALUES ({placeholders})"  # nosec B608
    stamp = functools.lru_cache(maxsize=4096)(stamp)  # a chunk's documents share a few instants (now, synced_at)
    values = []
    for row in rows:
        row = list(row)
        for i in stamps:
            row[i] = stamp(row[i])
        values.append(row)
    with transaction.atomic(using=alias), db.cursor() as cursor:
        cursor.executemany(sql, values)


def _periods(date: dt.date) -> tuple[tuple[str, dt.date], ...]:
    return (Period.DAY, date), (Period.MONTH, date.replace(day=1))


def _rows(refs, connection_id: int):
    """``refs`` as ``REF_FIELDS`` rows, each with its outbox entry's status when it is on its way or stuck
    (``outbox``, None otherwise), whether it has an open variance (``open``) and whether it has a
    ``DocumentCheck`` (``checked``): the database looks them up row by row on its (connection, source_key) indexes,
    instead of the run sending each chunk's thousand keys in three more ``IN`` lists. A lookup the connection has
    nothing for (no entry on its way or stuck, no open variance, no check: a first run, a quiet day) is not made at
    all: one indexed ``EXISTS`` per page instead of one per row."""
    same = {"connection": OuterRef("connection"), "source_key": OuterRef("source_key")}
    entries = OutboxEntry.objects.filter(status__in=IN_FLIGHT + STUCK)
    variances = Variance.objects.filter(status=VarianceStatus.OPEN)
    outbox = (Subquery(entries.filter(**same).values("status")[:1])
              if entries.filter(connection_id=connection_id).exists() else Value(None, CharField()))
    has_open = (Exists(variances.filter(**same)) if variances.filter(connection_id=connection_id).exists()
                else Value(False, BooleanField()))
    checked = (Exists(DocumentCheck.objects.filter(**same))
               if DocumentCheck.objects.filter(connection_id=connection_id).exists() else Value(False, BooleanField()))
    return refs.annotate(outbox=outbox, open=has_open, checked=checked
                         ).values_list(*REF_FIELDS, "outbox", "open", "checked", named=True)


#: A reference that does not exist: what ``_load`` and ``_document`` read of one, for a document never sent.
NOT_SENT = namedtuple("NotSent", REF_FIELDS)(None, "", "", "", "", "", None, None)


def _pk_pages(objects) -> Iterator[list]:
    """The primary keys of ``objects`` in pages of ``CHUNK``, each page a query of its own (``_pages``)."""
    last = None
    while True:
        page = list((objects if last is None else objects.filter(pk__gt=last)).order_by("pk")
                    .values_list("pk", flat=True)[:CHUNK])
        if not page:
            return
        last = page[-1]
        yield page


def _pages(refs, skip: Bits, connection_id: int) -> Iterator[list]:
    """``refs`` as ``REF_FIELDS`` rows in pages of ``CHUNK`` by primary key, those in ``skip`` left out. Each page
    is a query of its own: a cursor left open across the run's writes would keep SQLite's read lock (and every
    write since in one transaction) until the last row, and hold the rows read ahead in memory. When most were
    compared already (from the platform's list), only primary keys are scanned, and the rows of the few left read."""
    last = None
    while True:
        page = (refs if last is None else refs.filter(pk__gt=last)).order_by("pk")
        if not skip:
            rows = list(_rows(page, connection_id)[:CHUNK])
            if not rows:
                return
            last = rows[-1].pk
            yield rows
            continue
        pks = list(page.values_list("pk", flat=True)[:SCAN])
        if not pks:
            return
        last = pks[-1]
        for wanted in chunks([pk for pk in pks if pk not in skip], CHUNK):
            yield list(_rows(refs.filter(pk__in=wanted).order_by("pk"), connection_id))


class Bits:
    """A set of non-negative integers (reference primary keys) as a bitmap: one bit each, so a run over 100,000
    documents remembers which it compared in about 12 KB."""

    def __init__(self) -> None:
        self.bits = bytearray()

    def add(self, n: int) -> None:
        byte = n >> 3
        if byte >= len(self.bits):
            self.bits.extend(bytes(byte + 1 - len(self.bits) + len(self.bits) // 2))
        self.bits[byte] |= 1 << (n & 7)

    def update(self, numbers: Iterable[int]) -> None:
        for n in numbers:
            self.add(n)

    def __bool__(self) -> bool:
        return any(self.bits)

    def __contains__(self, n: int) -> bool:
        byte = n >> 3
        return byte < len(self.bits) and bool(self.bits[byte] & (1 << (n & 7)))
