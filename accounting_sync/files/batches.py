"""Steps 2 and 3 of file delivery: export a batch, export one again (explicitly), confirm what was imported."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from connectors.errors import DataError
from connectors.filekit.delivery import records_by_kind
from connectors.filekit.writer import RenderedFile
from connectors.models import Connection, PlatformExport

from .. import audit
from ..models import EntryStatus, ExternalReference, OutboxEntry, Outcome, RemoteStatus
from .models import BatchPurpose, ExportBatch, ExportFile, ExportItem
from .stage import exported_hint, log


def file_delivery(conn: Connection) -> bool:
    return conn.connector_class().delivery == "file"


def ready_count(conn: Connection) -> int:
    return ExportItem.objects.filter(connection=conn, batch__isnull=True,
                                     entry__status=EntryStatus.READY).count()


def export(conn: Connection, *, actor: str) -> ExportBatch | None:
    """Every document of ``conn`` ready for export, in one new batch (None when nothing is ready). The batch's
    files are written here, once; an item already in a batch is never taken again."""
    connector = conn.connector()
    with transaction.atomic():
        entries = list(OutboxEntry.objects.select_for_update().filter(connection=conn, status=EntryStatus.READY)
                       .order_by("pk").values_list("pk", flat=True))
        items = list(ExportItem.objects.filter(entry_id__in=entries, batch__isnull=True).order_by("pk"))
        if not items:
            return None
        batch = _new_batch(conn, connector, items, actor=actor)
        ExportItem.objects.filter(pk__in=[i.pk for i in items]).update(batch=batch)
        OutboxEntry.objects.filter(pk__in=[i.entry_id for i in items]).update(
            status=EntryStatus.EXPORTED, hint=exported_hint(batch), last_error="", error_code="")
        for item in items:
            log(item.entry, Outcome.EXPORTED, f"in export batch {batch.number} ({_file_of(batch, item)})",
                operation="export")
    return batch


def reexport(batch: ExportBatch, *, actor: str, reason: str = "", record=True) -> ExportBatch:
    """The documents of ``batch`` not yet confirmed imported, in a new batch: what staff ask for when the files
    were lost or the import failed there. Explicit and recorded: who, when, why, which batch."""
    conn = batch.connection
    if batch.purpose == BatchPurpose.MANUAL:
        raise DataError(f"batch {batch.number} is a manual-entry batch", hint="Export for manual entry again instead.")
    connector = conn.connector()
    with transaction.atomic():
        old = list(batch.items.filter(confirmed_at__isnull=True).select_related("entry").order_by("pk"))
        if not old:
            raise DataError(f"every document of batch {batch.number} was confirmed imported: nothing to export again")
        copies = [ExportItem(connection=conn, entry=i.entry, source_key=i.source_key, entity=i.entity,
                             label=i.label, number=i.number, rows=i.rows, digest=i.digest, generation=i.generation,
                             includes=i.includes) for i in old]
        new = _new_batch(conn, connector, copies, actor=actor, reexport_of=batch, reason=reason)
        for copy in copies:
            copy.batch = new
        ExportItem.objects.bulk_create(copies)
        OutboxEntry.objects.filter(pk__in=[i.entry_id for i in old]).update(
            status=EntryStatus.EXPORTED, hint=exported_hint(new))
        for item in old:
            log(item.entry, Outcome.EXPORTED, f"exported again in batch {new.number} (of batch {batch.number}) by "
                                              f"{actor}" + (f": {reason}" if reason else ""), operation="re-export")
        if record:  # the admin records its action through the admin log (audit receiver); commands come here
            audit.append(audit.AuditKind.STAFF, actor=actor, connection_id=conn.pk, connection_name=conn.name,
                         operation="re-export", outcome="done",
                         detail={"batch": batch.number, "new_batch": new.number, "documents": len(copies),
                                 "reason": reason, "sha256": new.sha256})
    return new


def _new_batch(conn, connector, items: list[ExportItem], *, actor: str, reexport_of=None, reason="") -> ExportBatch:
    number = next_number(conn)
    records = records_by_kind(_dedupe(connector, items))
    return store(conn, number, connector.write_files(records, number), len(items), actor=actor,
                 reexport_of=reexport_of, reason=reason)


def next_number(conn: Connection) -> int:
    return (ExportBatch.objects.filter(connection=conn).aggregate(n=Max("number"))["n"] or 0) + 1


def store(conn: Connection, number: int, files: list[tuple[str, RenderedFile]], documents: int, *, actor: str,
          purpose: str = BatchPurpose.FILE_DELIVERY, reexport_of=None, reason: str = "") -> ExportBatch:
    """A new batch holding ``files`` (name, rendered file), written once with their SHA-256s."""
    overall = hashlib.sha256()
    for name, f in files:
        overall.update(f"{name}\0{hashlib.sha256(f.content).hexdigest()}\n".encode())
    batch = ExportBatch.objects.create(connection=conn, number=number, purpose=purpose, created_by=actor[:150],
                                       reexport_of=reexport_of, reason=reason[:500], sha256=overall.hexdigest(),
                                       documents=documents)
    for position, (name, f) in enumerate(files):
        ExportFile.objects.create(batch=batch, name=name, kind=f.kind, position=position, content=f.content,
                                  rows=f.rows, records=f.records)
    return batch


def _dedupe(connector, items: list[ExportItem]):
    """Rows per item; a dependency two documents of one batch carry (the same customer) is written once."""
    seen: set[str] = set()
    for item in items:
        own = {f.kind for f in connector.formats if item.entity in f.entities}
        rows = dict(item.rows)
        for key, _ in carried(item):
            if key in seen:
                rows = {k: v for k, v in rows.items() if k in own}
            seen.add(key)
        yield rows


def carried(item: ExportItem) -> list[tuple[str, str]]:
    """(key, name) of the dependencies that travel with the item."""
    return [tuple(line.split("\t", 1)) for line in item.includes.split("\n") if "\t" in line]


def _file_of(batch: ExportBatch, item: ExportItem) -> str:
    names = [f.name for f in batch.files.all() if f.kind in item.rows]
    return ", ".join(names)


@dataclass
class Confirmed:
    closed: list[str] = field(default_factory=list)  # labels
    skipped: list[str] = field(default_factory=list)  # why, per document not closed


def confirm(items, *, actor: str, remote: dict[tuple[str, str], str] | None = None) -> Confirmed:
    """Close exported documents as imported: the reference records the platform's number (``remote`` maps
    (entity, our number) -> the platform's id, from its export file; else our number, which the files carry).
    Only the latest batch of an entry closes it; a document changed since it was rendered goes round again."""
    out = Confirmed()
    now = timezone.now()
    for item in items.select_related("entry", "batch", "connection").order_by("pk"):
        entry = item.entry
        if item.batch.purpose == BatchPurpose.MANUAL:
            out.skipped.append(f"{item.label}: manual-entry batch {item.batch.number} (mark it entered by hand)")
            continue
        latest = entry.export_items.filter(batch__isnull=False).order_by("-batch__number").first()
        if item.confirmed_at or entry.status != EntryStatus.EXPORTED or latest.pk != item.pk:
            out.skipped.append(f"{item.label}: not awaiting import in batch {item.batch.number}")
            continue
        remote_id = (remote or {}).get((item.entity, item.number)) or item.number or item.source_key
        with transaction.atomic():
            ExternalReference.objects.update_or_create(
                connection=item.connection, source_key=item.source_key,
                defaults=dict(entity=item.entity, remote_id=remote_id, remote_number=item.number,
                              remote_status=RemoteStatus.ACTIVE, content_hash=item.digest, synced_at=now))
            for key, name in carried(item):  # the customer that travelled with it
                if name and not ExternalReference.objects.filter(connection=item.connection, entity="customer",
                                                                 remote_id=name).exists():
                    ExternalReference.objects.get_or_create(
                        connection=item.connection, source_key=key,
                        defaults=dict(entity="customer", remote_id=name, remote_number=name, synced_at=now))
            ExportItem.objects.filter(pk__in=entry.export_items.filter(confirmed_at__isnull=True)
                                      .values_list("pk", flat=True)).update(confirmed_at=now,
                                                                            confirmed_by=actor[:150])
            ExportItem.objects.filter(pk=item.pk).update(remote_id=remote_id)
            same = OutboxEntry.objects.filter(pk=entry.pk, status=EntryStatus.EXPORTED, generation=item.generation)
            if not same.update(status=EntryStatus.DONE, done_at=now, hint="", last_error="", error_code=""):
                OutboxEntry.objects.filter(pk=entry.pk, status=EntryStatus.EXPORTED).update(
                    status=EntryStatus.PENDING, next_attempt_at=now)  # changed meanwhile: its next version goes round
            log(entry, Outcome.SUCCESS, f"imported into {item.connection.platform_name} (batch {item.batch.number}), "
                                        f"confirmed by {actor}", operation="import", remote_id=remote_id)
        out.closed.append(item.label or item.source_key)
    return out


def read_back(conn: Connection, name: str, content: bytes, *, actor: str) -> tuple[PlatformExport, Confirmed]:
    """Staff uploaded the platform's export file: keep it (reconciliation reads it), and close every exported
    document it holds."""
    connector = conn.connector()
    docs = connector.parse_export(name, content)  # DataError for a file that is not the platform's export
    upload = PlatformExport.objects.create(connection=conn, name=name[:200], content=content,
                                           sha256=hashlib.sha256(content).hexdigest(), uploaded_by=actor[:150])
    found = {(d.entity, d.number): d.remote_id for d in docs}
    awaiting = ExportItem.objects.filter(connection=conn, batch__isnull=False, confirmed_at__isnull=True,
                                         entry__status=EntryStatus.EXPORTED)
    matched = [i.pk for i in awaiting if (i.entity, i.number) in found]
    return upload, confirm(ExportItem.objects.filter(pk__in=matched), actor=actor, remote=found)


def write_to_folder(batch: ExportBatch, folder: str | Path) -> list[Path]:
    """The batch's files in ``folder``/batch-<n>/ (refused if that folder already holds other content)."""
    target = Path(folder) / f"{batch.connection.platform}-batch-{batch.number}"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for f in batch.files.all():
        path = target / f.name
        content = bytes(f.content)
        if path.exists() and path.read_bytes() != content:
            raise DataError(f"{path.name} already exists in {target.name} with other content")
        path.write_bytes(content)
        written.append(path)
    return written
