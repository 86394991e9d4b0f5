"""Step 1 of file delivery: one outbox entry rendered into rows of the platform's import files, waiting for a batch.

Called by ``engine.sync_object`` for connections whose connector's ``delivery`` is "file", instead of everything
the API path does. Failures are raised as ``connectors.errors`` classes; the engine records them exactly as it
records a platform's refusal (needs attention, with the message and hint staff see), so a bad document is
explained and never reaches a file.
"""
from __future__ import annotations

import hashlib
import time

from django.db import transaction
from django.utils import timezone

from connectors.documents import Entity, Snapshot
from connectors.errors import DataError, DependencyPendingError, PermanentError
from connectors.redaction import redact
from mappings.resolve import resolve

from .. import conf
from ..policies import preflight, rules
from ..core import sources, triggers
from ..models import EntryStatus, ExternalReference, OutboxEntry, Outcome, RemoteStatus, SyncLog
from .models import ExportItem

READY_HINT = "Ready for the next export file: export a batch (admin, or the accounting_sync_export command)."


def stage(conn, connector, entry: OutboxEntry, attempt, started: float) -> None:
    """Render the entry's document for the next export batch, or close it with the reason it needs no file."""
    key = entry.source_key
    adapter, obj = sources.load(key)
    entity = adapter.entity
    ref = ExternalReference.objects.filter(connection=conn, source_key=key).first()
    pending = ExportItem.objects.filter(entry=entry, batch__isnull=False, confirmed_at__isnull=True).last()
    attempt.operation = "stage"
    if entity not in connector.capabilities.entities:
        carried = "named in the rows of the documents that need it" if entity in (Entity.CUSTOMER, Entity.ITEM) \
            else "not taken by its import files"
        _close(entry, attempt, started, f"{conn.platform_name} gets no {entity.replace('_', ' ')} file of its own: "
                                        f"{carried}")
        return
    if obj is None:
        if ref is None and pending is None:
            ExportItem.objects.filter(entry=entry, batch__isnull=True).delete()
            _close(entry, attempt, started, "deleted locally before it was exported: nothing to do")
            return
        raise PermanentError(f"{entry.label or key} was deleted here after it went to {conn.platform_name} in a "
                             "file; an import file cannot delete it", code="unsupported",
                             hint=f"Delete or void it in {conn.platform_name} by hand.")
    snapshot = adapter.snapshot(obj)
    held = triggers.hold(conn, entry, adapter, obj, snapshot)
    if held is not None:
        _park(entry, attempt, started, held)
        return
    preflight.check(conn, snapshot)
    snapshot = rules.apply(conn, connector, snapshot)
    if snapshot is None:
        _close(entry, attempt, started, "nothing to send for this document")
        return
    names, carried = _dependencies(conn, connector, snapshot)
    mapping = resolve(conn, snapshot, names)
    preflight.check_platform(conn, connector, snapshot, mapping)
    digest = hashlib.sha256(f"{snapshot.content_hash()}|{mapping!r}".encode()).hexdigest()
    if getattr(snapshot, "is_void", False):
        if ref is None and pending is None:
            ExportItem.objects.filter(entry=entry, batch__isnull=True).delete()
            _close(entry, attempt, started, "void locally and never exported: nothing to send")
            return
        raise PermanentError(f"{entry.label or key} was voided here after it went to {conn.platform_name} in a "
                             "file; an import file cannot void it", code="unsupported",
                             hint=f"Void it in {conn.platform_name} by hand.")
    if ref is not None and ref.remote_status == RemoteStatus.ACTIVE and ref.content_hash == digest:
        _close(entry, attempt, started, "unchanged since it was imported: nothing to export")
        return
    if pending is not None:
        if pending.digest == digest:  # saved again, unchanged: it is still in its batch, awaiting import
            _restore_exported(entry, pending)
            return
        raise PermanentError(
            f"{entry.label or key} changed after it was exported in batch {pending.batch.number}, before its import "
            "was confirmed", code="changed_after_export",
            hint=f"Confirm the batch imported, then make the same change in {conn.platform_name} by hand; or, if the "
                 "batch was never imported, export it again (it then carries this version).")
    if ref is not None:
        raise PermanentError(
            f"{entry.label or key} changed after it was imported into {conn.platform_name}; its import files only "
            "create documents", code="changed_after_import",
            hint=f"Make the same change in {conn.platform_name} by hand, then retry the entry to mark it done.")
    rows = connector.render(snapshot, mapping)
    connector.check_rows(rows)
    for _, dep_rows in carried.values():
        connector.check_rows(dep_rows)
        rows = {**dep_rows, **rows}
    _ready(conn, entry, snapshot, rows, digest, carried, attempt, started)


def _dependencies(conn, connector, snapshot: Snapshot) -> tuple[dict[str, str], dict[str, dict]]:
    """How the document's rows name each dependency (``refs`` for the mapping), and the rows of dependencies that
    travel with it (a customer in the platform's customers file, with its first document only)."""
    names, carried = {}, {}
    for dep_entity, dep_key in snapshot.dependencies():
        adapter, obj = sources.load(dep_key)
        if obj is None:
            raise DataError(f"depends on {dep_key}, which no longer exists locally",
                            hint="Restore the missing record or remove the reference from the document.")
        dep = adapter.snapshot(obj)
        names[dep_key] = connector.dependency_name(dep)
        if dep_entity in connector.capabilities.entities:  # an invoice a payment pays: on its way or imported
            _wait_for(conn, dep_key, dep_entity, names[dep_key])
            continue
        rows = connector.render_dependency(dep)
        if rows and not _already_carried(conn, dep_key):
            carried[dep_key] = (names[dep_key], rows)
    return names, carried


def _wait_for(conn, key: str, entity: str, name: str) -> None:
    if ExternalReference.objects.filter(connection=conn, source_key=key).exists() or \
            ExportItem.objects.filter(connection=conn, source_key=key).exists():
        return
    dep = OutboxEntry.objects.filter(connection=conn, source_key=key).first()
    if dep is not None and dep.status in (EntryStatus.NEEDS_ATTENTION, EntryStatus.FAILED):
        raise PermanentError(f"depends on {entity.replace('_', ' ')} {name}, which needs attention: {dep.last_error}",
                             code="dependency_failed", hint="Fix that record first; this one follows.")
    raise DependencyPendingError(f"waiting for {entity.replace('_', ' ')} {name} to be ready for export",
                                 retry_after=conf.get("DEPENDENCY_WAIT_SECONDS"))


def _already_carried(conn, key: str) -> bool:
    return ExternalReference.objects.filter(connection=conn, source_key=key).exists() or \
        ExportItem.objects.filter(connection=conn, includes__contains=f"{key}\t").exists()


@transaction.atomic
def _ready(conn, entry, snapshot, rows, digest, carried, attempt, started) -> None:
    ExportItem.objects.filter(entry=entry, batch__isnull=True).delete()
    updated = OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token,
                                         generation=entry.generation).update(
        status=EntryStatus.READY, attempts=0, last_error="", error_code="", platform_code="", hint=READY_HINT,
        lease_until=None, lease_token="", write_started=False, hold_until=None, send_now=False)  # nosec B106
    if not updated:  # it changed while we rendered it: render the new version
        OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token).update(
            status=EntryStatus.PENDING, next_attempt_at=timezone.now(), lease_until=None, lease_token="")  # nosec B106
        return
    ExportItem.objects.create(connection=conn, entry=entry, source_key=entry.source_key, entity=entry.entity,
                              label=entry.label, number=getattr(snapshot, "number", "") or "", rows=rows,
                              digest=digest, generation=entry.generation,
                              includes="".join(f"{k}\t{name}\n" for k, (name, _) in carried.items()))
    log(entry, Outcome.STAGED, "rendered for the next export file", started, operation="stage")


def _restore_exported(entry, item: ExportItem) -> None:
    OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token, generation=entry.generation).update(
        status=EntryStatus.EXPORTED, lease_until=None, lease_token="", last_error="", error_code="",  # nosec B106
        hint=exported_hint(item.batch))
    OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token).update(
        status=EntryStatus.PENDING, next_attempt_at=timezone.now(), lease_until=None, lease_token="")  # nosec B106


def exported_hint(batch) -> str:
    return (f"In export batch {batch.number}: import its files into {batch.connection.platform_name}, then confirm "
            "the import (or upload the platform's export file).")


def _close(entry, attempt, started, message: str) -> None:
    with transaction.atomic():
        OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token, generation=entry.generation).update(
            status=EntryStatus.DONE, done_at=timezone.now(), attempts=0, last_error="", error_code="",
            platform_code="", hint="", lease_until=None, lease_token="", hold_until=None, send_now=False)  # nosec B106
        OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token).update(
            status=EntryStatus.PENDING, next_attempt_at=timezone.now(), lease_until=None, lease_token="")  # nosec B106
        log(entry, Outcome.SKIPPED, message, started, operation="skip")


def _park(entry, attempt, started, hold) -> None:
    now = timezone.now()
    with transaction.atomic():
        updated = OutboxEntry.objects.filter(
            pk=entry.pk, lease_token=entry.lease_token, generation=entry.generation).update(
            status=EntryStatus.PENDING if hold.until else EntryStatus.WAITING,
            next_attempt_at=hold.until or now + triggers.RECHECK, hold_until=hold.until, lease_until=None,
            lease_token="", last_error="", error_code="held", platform_code="", hint=hold.reason[:500])  # nosec B106
        if updated and (entry.error_code != "held" or entry.hint != hold.reason[:500]):
            log(entry, Outcome.HELD, hold.reason, started, operation="hold")


def log(entry, outcome: str, message: str, started: float | None = None, *, operation: str = "",
        remote_id: str = "") -> SyncLog:
    return SyncLog.objects.create(
        connection=entry.connection, entry_id=entry.pk, source_key=entry.source_key, entity=entry.entity,
        label=entry.label, operation=operation, outcome=outcome, remote_id=remote_id,
        message=redact(message)[:4000],
        duration_ms=int((time.monotonic() - started) * 1000) if started is not None else 0)
