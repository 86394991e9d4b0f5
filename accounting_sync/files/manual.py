"""The manual fallback: when a platform cannot be reached for a day, hand the books to someone to key in.

1. ``export(conn, fmt)``: the connection's documents not yet synced (pending, waiting, failed or needing
   attention) go into a file: the generic CSV, or the platform's own import format (``connectors.manual``). The
   file is kept (``ManualExport``) exactly as downloaded; nothing is sent or changed by exporting.
2. ``mark_entered(export)``: staff say the documents were keyed in. Their entries stop being sent
   (``EntryStatus.MANUAL``) and are marked ``write_started``, as are their customers' entries not yet synced: from
   now on the pipeline looks for each one on the platform before creating it.
3. ``resume(conn)``: the platform is back. The marked entries go pending again; search-before-create finds each
   document a person keyed in by its number (a customer by its name), adopts it and brings it in line with ours
   (the adopt step updates it), so nothing is created twice. A document nobody keyed in is simply created. A
   document changed locally meanwhile goes pending by itself, still searching first.
"""
from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone

from connectors.errors import SyncError
from connectors.manual import ManualDocument, ManualFormat, ManualLine, render
from connectors.models import Connection
from mappings.resolve import resolve

from .. import audit, outbox, rules, sources
from ..audit.models import AuditKind
from ..models import EntryStatus, OutboxEntry, Outcome, SyncLog
from .models import ManualExport

#: The states a document not yet on the platform can be in (held by a trigger rule included: staff decide).
NOT_SYNCED = (EntryStatus.PENDING, EntryStatus.WAITING, EntryStatus.FAILED, EntryStatus.NEEDS_ATTENTION)
DOCUMENTS = ("invoice", "credit_note", "payment")


class ManualExportError(Exception):
    """What staff are told when an export cannot be made (an unknown format, a file-delivery connection)."""


def formats(conn: Connection) -> dict[str, ManualFormat]:
    return conn.connector_class().manual_formats_all()


def candidates(conn: Connection):
    """The connection's documents not yet on the platform."""
    return OutboxEntry.objects.filter(connection=conn, entity__in=DOCUMENTS, status__in=NOT_SYNCED).order_by("pk")


def export(conn: Connection, fmt_name: str = "generic", *, actor: str, entry_ids: list[int] | None = None
           ) -> ManualExport:
    """A file of the connection's unsynced documents (or of ``entry_ids`` among them) in ``fmt_name``."""
    if conn.connector_class().delivery != "api":
        raise ManualExportError(f"{conn.name} already gets files: use its export batches instead.")
    available = formats(conn)
    if fmt_name not in available:
        raise ManualExportError(f"{conn.platform_name} has no format {fmt_name!r}; choose one of: "
                                f"{', '.join(available)}")
    fmt = available[fmt_name]
    entries = candidates(conn)
    if entry_ids is not None:
        entries = entries.filter(pk__in=entry_ids)
    entries = [e for e in entries if e.entity in fmt.entities]
    documents, carried = [], []
    connector = conn.connector()
    for entry in entries:
        doc = document(conn, connector, entry)
        if doc is not None:
            documents.append(doc)
            carried.append(entry.pk)
    content, rows = render(fmt, documents)
    stamp = timezone.now()
    record = ManualExport.objects.create(
        connection=conn, created_by=actor, format=fmt.name, content=content,
        filename=f"{conn.name}-{stamp:%Y%m%d-%H%M%S}-{fmt.filename}".replace(" ", "-").replace("/", "-"),
        sha256=hashlib.sha256(content).hexdigest(), documents=len(documents), rows=rows, entries=carried)
    audit.append(AuditKind.STAFF, actor=actor, connection_id=conn.pk, connection_name=conn.name,
                 operation="manual export", outcome="done",
                 detail={"documents": len(documents), "format": fmt.name, "sha256": record.sha256})
    return record


def document(conn: Connection, connector, entry: OutboxEntry) -> ManualDocument | None:
    """The entry's document as a person keys it in; None when it no longer exists here or the rules skip it."""
    adapter, obj = sources.load(entry.source_key)
    if obj is None:
        return None
    snapshot = adapter.snapshot(obj)
    try:
        snapshot = rules.apply(conn, connector, snapshot)
    except SyncError:
        pass
    if snapshot is None:
        return None
    name = email = ""
    customer_key = getattr(snapshot, "customer_key", "")
    if customer_key:
        customer_adapter, customer = sources.load(customer_key)
        if customer is not None:
            shown = customer_adapter.snapshot(customer)
            name, email = shown.name, shown.email
    mapping, problem = None, ""
    try:
        mapping = resolve(conn, snapshot)
    except SyncError as exc:  # the person picks the account; the file says why it is blank
        problem = exc.message[:300]
    reference = conn.reference_data or {}
    accounts, tax_codes = reference.get("accounts", {}), reference.get("tax_codes", {})
    lines = []
    for i, line in enumerate(getattr(snapshot, "lines", ())):
        account = (mapping.line_accounts[i] if mapping and i < len(mapping.line_accounts) else None) or ""
        tax = (mapping.tax_codes.get(line.tax_rate_key or "", "") if mapping else "") or ""
        lines.append(ManualLine(kind=line.kind, description=line.description, quantity=line.quantity,
                                unit_price=line.unit_price, net_amount=line.net_amount, tax_amount=line.tax_amount,
                                item_name=line.item_name, account_code=account,
                                account_name=accounts.get(account, "") if account else "", tax_code=tax,
                                tax_name=tax_codes.get(tax, line.tax_rate_name) if tax else line.tax_rate_name))
    applied = ""
    if entry.entity == "payment":
        numbers = []
        for allocation in snapshot.allocations:
            invoice_adapter, invoice = sources.load(allocation.invoice_key)
            numbers.append(invoice_adapter.snapshot(invoice).number if invoice is not None else allocation.invoice_key)
        applied = " ".join(numbers)
    return ManualDocument(
        entity=entry.entity, number=snapshot.number, customer_name=name, customer_email=email,
        date=getattr(snapshot, "issue_date", None) or getattr(snapshot, "date", None),
        due_date=getattr(snapshot, "due_date", None), currency=snapshot.currency, memo=snapshot.memo,
        total=getattr(snapshot, "total", None) if entry.entity != "payment" else snapshot.amount,
        tax_total=getattr(snapshot, "tax_total", 0), lines=tuple(lines), applied_to=applied,
        method=getattr(snapshot, "method", ""), problem=problem)


def mark_entered(record: ManualExport, *, actor: str) -> int:
    """Staff keyed the file's documents in: stop sending them, and search before creating them (and their
    customers) from now on. Returns how many entries were marked."""
    now = timezone.now()
    with transaction.atomic():
        entries = list(OutboxEntry.objects.select_for_update().filter(pk__in=record.entries, status__in=NOT_SYNCED)
                       .order_by("pk"))
        customers = set()
        for entry in entries:
            adapter, obj = sources.load(entry.source_key)
            if obj is not None:
                customers.update(key for _, key in adapter.snapshot(obj).dependencies())
        OutboxEntry.objects.filter(pk__in=[e.pk for e in entries]).update(
            status=EntryStatus.MANUAL, write_started=True, last_error="", error_code="", platform_code="",
            hint="Entered by hand on the platform: when the sync resumes it is found there and adopted, not sent "
                 "again.", updated_at=now)
        OutboxEntry.objects.filter(connection=record.connection, source_key__in=customers,
                                   status__in=NOT_SYNCED).update(write_started=True)
        SyncLog.objects.bulk_create(
            SyncLog(connection=record.connection, entry_id=e.pk, source_key=e.source_key, entity=e.entity,
                    label=e.label, operation="manual", outcome=Outcome.MANUAL,
                    message=f"Entered by hand from the manual-entry file of {record.created_at:%Y-%m-%d %H:%M} "
                            f"(marked by {actor})") for e in entries)
        ManualExport.objects.filter(pk=record.pk).update(marked_at=now, marked_by=actor)
    audit.append(AuditKind.STAFF, actor=actor, connection_id=record.connection_id,
                 connection_name=record.connection.name, operation="entered manually", outcome="done",
                 detail={"documents": len(entries), "manual_export": record.pk})
    return len(entries)


def resume(conn: Connection, *, actor: str) -> int:
    """The platform is back: the documents entered by hand go through the pipeline again, which finds and adopts
    each one instead of creating it. Returns how many entries were queued."""
    ids = list(OutboxEntry.objects.filter(connection=conn, status=EntryStatus.MANUAL).values_list("pk", flat=True))
    OutboxEntry.objects.filter(pk__in=ids).update(status=EntryStatus.PENDING, attempts=0, write_started=True,
                                                  next_attempt_at=timezone.now(), hint="")
    if ids:
        audit.append(AuditKind.STAFF, actor=actor, connection_id=conn.pk, connection_name=conn.name,
                     operation="resume after manual", outcome="done", detail={"documents": len(ids)})
    outbox.enqueue(ids)
    return len(ids)
