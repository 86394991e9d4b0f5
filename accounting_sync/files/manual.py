"""The manual fallback: when a platform with an API cannot be reached for a day, hand the books to someone to key in.

It rides on file delivery's export batches (``ExportBatch`` with ``purpose`` "manual", its ``ExportFile``s and one
``ExportItem`` per document), and on the file kit's formats (``connectors.filekit.manual``):

1. ``export(conn)``: the connection's documents not yet synced (pending, held, failed or needing attention), or the
   ones staff picked, go into one new batch: the generic CSV and the platform's own import files (the formats its
   connector declares in its folder), or only the formats asked for. The files are written
   once and never change. Nothing is sent, and no entry changes: the sync goes on trying meanwhile.
   (Who did what goes in the audit trail through the admin's log or the command, as for export batches.)
2. ``mark_entered(items)``: staff say the batch's documents were keyed in. Their entries stop being sent
   (``EntryStatus.MANUAL``, logged) and are marked ``write_started``, as are their customers' entries not yet
   synced: from now on the pipeline looks for each one on the platform before creating it.
3. ``resume(conn)`` (the platform is back) or a retry of the entry (the mark lifted): the entries go pending again.
   Search-before-create finds each document a person keyed in by its number (a customer by its name) and adopts
   it. Before adopting, ``check_keyed_in`` compares the platform's total with ours: a difference beyond the
   platform's rounding stops the entry as an edit conflict that says both totals, instead of overwriting what was
   keyed in. A document nobody keyed in is simply created.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from connectors.documents import RemoteResult, Snapshot
from connectors.errors import ConflictError, DataError, SyncError
from connectors.filekit import writer
from connectors.filekit.manual import ManualDocument, ManualFormat, ManualLine
from connectors.models import Connection
from mappings.resolve import resolve

from ..core import outbox, sources
from ..policies import rules
from ..models import EntryStatus, OutboxEntry, Outcome, SyncLog
from . import batches
from .models import BatchPurpose, ExportBatch, ExportItem

#: The states of a document not yet on the platform (held by a trigger rule included: staff decide).
NOT_SYNCED = (EntryStatus.PENDING, EntryStatus.WAITING, EntryStatus.FAILED, EntryStatus.NEEDS_ATTENTION)
DOCUMENTS = ("invoice", "credit_note", "payment")
MARKED_HINT = ("Entered by hand on the platform: not sent while marked. When the sync resumes (“Resume after manual "
               "entry”, or retry this entry) it is found there by its number and adopted, not created again.")


def formats(conn: Connection) -> dict[str, ManualFormat]:
    """The formats staff may export ``conn``'s documents in: ``generic``, then the platform's own."""
    return conn.connector_class().manual_formats_all()


def candidates(conn: Connection):
    """The connection's documents not yet on the platform."""
    return OutboxEntry.objects.filter(connection=conn, entity__in=DOCUMENTS, status__in=NOT_SYNCED).order_by("pk")


@dataclass
class Exported:
    batch: ExportBatch | None
    left_out: list[str] = field(default_factory=list)  # "MAN-2: not in the <format's label> file (why)"


def export(conn: Connection, *, actor: str, names: list[str] | None = None,
           entry_ids: list[int] | None = None) -> Exported:
    """One new manual-entry batch of ``conn``'s unsynced documents (or of ``entry_ids`` among them), in the formats
    ``names`` (all of the connection's when None). ``batch`` is None when no document went into a file."""
    if conn.connector_class().delivery != "api":
        raise DataError(f"{conn.name} gets its documents as import files already",
                        hint="Use its export batches (“Export a batch”) instead.")
    chosen = _chosen(conn, names)
    entries = candidates(conn)
    if entry_ids is not None:
        entries = entries.filter(pk__in=entry_ids)
    connector = conn.connector()
    out = Exported(None)
    documents: list[tuple[OutboxEntry, ManualDocument, str]] = []
    for entry in entries:
        built = document(conn, connector, entry)
        if built is not None:
            documents.append((entry, *built))
    per_format: dict[str, list[list[dict[str, str]]]] = {fmt.name: [] for fmt in chosen}  # each document's rows
    carried: list[tuple[OutboxEntry, ManualDocument, str, dict]] = []
    for entry, doc, digest in documents:
        rows = {}
        for fmt in chosen:
            why = fmt.refuse(doc) if fmt.carries(doc) else f"{fmt.label} carries no {doc.entity.replace('_', ' ')}s"
            if why:
                out.left_out.append(f"{doc.number or entry.label}: not in the {fmt.label} file ({why})")
                continue
            rows[fmt.name] = fmt.rows(doc)
            per_format[fmt.name].append(rows[fmt.name])
        if rows:
            carried.append((entry, doc, digest, rows))
    if not carried:
        return out
    with transaction.atomic():
        Connection.objects.select_for_update().filter(pk=conn.pk).first()  # one batch number at a time
        number = batches.next_number(conn)
        files = []
        for fmt in chosen:
            rendered = writer.render(fmt.file, per_format[fmt.name])
            for f in rendered:
                suffix = f"-{f.part}" if len(rendered) > 1 else ""
                files.append((f"{conn.platform}-manual-{number}-{fmt.name}{suffix}.{fmt.file.extension}", f))
        out.batch = batches.store(conn, number, files, len(carried), actor=actor, purpose=BatchPurpose.MANUAL)
        ExportItem.objects.bulk_create(
            ExportItem(connection=conn, entry=entry, batch=out.batch, source_key=entry.source_key, entity=entry.entity,
                       label=entry.label, number=doc.number, rows=rows, digest=digest, generation=entry.generation)
            for entry, doc, digest, rows in carried)
    return out


def _chosen(conn: Connection, names: list[str] | None) -> list[ManualFormat]:
    available = formats(conn)
    unknown = [n for n in names or () if n not in available]
    if unknown:
        raise DataError(f"{conn.platform_name} has no manual-entry format {', '.join(map(repr, unknown))}",
                        hint=f"Choose among: {', '.join(available)}.")
    return [fmt for name, fmt in available.items() if names is None or name in names]


def document(conn: Connection, connector, entry: OutboxEntry) -> tuple[ManualDocument, str] | None:
    """The entry's document as a person keys it in, and the hash of its snapshot; None when it no longer exists
    here, is void, or the connection's rules send nothing for it."""
    adapter, obj = sources.load(entry.source_key)
    if obj is None:
        return None
    snapshot = adapter.snapshot(obj)
    with contextlib.suppress(SyncError):  # the person keys in the document as it is here
        snapshot = rules.apply(conn, connector, snapshot)
    if snapshot is None or getattr(snapshot, "is_void", False):  # a void never synced: nothing to key in
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
    doc = ManualDocument(
        entity=entry.entity, number=snapshot.number, customer_name=name, customer_email=email,
        date=getattr(snapshot, "issue_date", None) or getattr(snapshot, "date", None),
        due_date=getattr(snapshot, "due_date", None), currency=snapshot.currency, memo=snapshot.memo,
        total=total_of(snapshot), tax_total=getattr(snapshot, "tax_total", None), lines=tuple(lines),
        applied_to=applied, method=getattr(snapshot, "method", ""), problem=problem)
    return doc, snapshot.content_hash()


def total_of(snapshot: Snapshot):
    """A document's total as the platform shows it: an invoice's or credit note's total, a payment's amount."""
    return getattr(snapshot, "amount", None) if snapshot.entity == "payment" else getattr(snapshot, "total", None)


def mark_entered(items, *, actor: str) -> batches.Confirmed:
    """Staff keyed these manual-entry items' documents in: stop sending them, and search before creating them (and
    their customers) from now on. A document synced meanwhile is left alone (whichever of its batches staff mark:
    exporting twice is harmless)."""
    out = batches.Confirmed()
    now = timezone.now()
    with transaction.atomic():
        chosen = list(items.filter(batch__purpose=BatchPurpose.MANUAL, confirmed_at__isnull=True)
                      .select_related("entry", "batch", "connection").order_by("pk"))
        entries = {e.pk: e for e in OutboxEntry.objects.select_for_update().filter(
            pk__in=[i.entry_id for i in chosen]).order_by("pk")}
        marked, customers = [], set()
        for item in chosen:
            entry = entries[item.entry_id]
            if entry.status not in (*NOT_SYNCED, EntryStatus.MANUAL):  # synced meanwhile (or on its way now)
                out.skipped.append(f"{item.label or item.source_key}: {entry.get_status_display().lower()}")
                continue
            adapter, obj = sources.load(entry.source_key)
            if obj is not None:
                customers.update(key for _, key in adapter.snapshot(obj).dependencies())
            marked.append((item, entry))
        OutboxEntry.objects.filter(pk__in=[e.pk for _, e in marked]).update(
            status=EntryStatus.MANUAL, write_started=True, last_error="", error_code="", platform_code="",
            hint=MARKED_HINT, updated_at=now)
        for conn_id in {i.connection_id for i, _ in marked}:
            OutboxEntry.objects.filter(connection_id=conn_id, source_key__in=customers,
                                       status__in=NOT_SYNCED).update(write_started=True)
        ExportItem.objects.filter(pk__in=[i.pk for i, _ in marked]).update(confirmed_at=now, confirmed_by=actor[:150])
        SyncLog.objects.bulk_create(
            SyncLog(connection_id=item.connection_id, entry_id=entry.pk, source_key=entry.source_key,
                    entity=entry.entity, label=entry.label, operation="manual", outcome=Outcome.MANUAL,
                    message=f"entered by hand on {item.connection.platform_name} from manual-entry batch "
                            f"{item.batch.number}, marked by {actor}") for item, entry in marked)
    out.closed = [item.label or item.source_key for item, _ in marked]
    return out


def resume(conn: Connection, *, entry_ids: list[int] | None = None) -> int:
    """The platform is back (or staff lifted the mark of ``entry_ids``): the documents entered by hand go through
    the pipeline again, which finds and adopts each one. Returns how many entries were queued."""
    marked = OutboxEntry.objects.filter(connection=conn, status=EntryStatus.MANUAL)
    if entry_ids is not None:
        marked = marked.filter(pk__in=entry_ids)
    ids = list(marked.values_list("pk", flat=True))
    OutboxEntry.objects.filter(pk__in=ids, status=EntryStatus.MANUAL).update(
        status=EntryStatus.PENDING, attempts=0, write_started=True, next_attempt_at=timezone.now(), hint="")
    outbox.enqueue(ids)
    return len(ids)


def check_keyed_in(connector, entry: OutboxEntry, snapshot: Snapshot, found: RemoteResult) -> None:
    """Before adopting a document staff marked entered by hand: its total on the platform must be ours, within the
    platform's rounding. Otherwise the entry stops as an edit conflict saying both totals, and nothing keyed in is
    overwritten, unless staff chose “Send ours anyway”. Documents never marked are not checked here."""
    ours = total_of(snapshot)
    if entry.overwrite_remote or found.total is None or ours is None:
        return
    item = (ExportItem.objects.filter(entry_id=entry.pk, batch__purpose=BatchPurpose.MANUAL,
                                      confirmed_at__isnull=False).select_related("batch")
            .order_by("-batch__number").first())
    if item is None:
        return
    tolerance = connector.rounding_tolerance(snapshot.entity, max(1, len(getattr(snapshot, "lines", ()))))
    if abs(found.total - ours) <= tolerance:
        return
    since = (f"; ours changed here after it was exported (manual-entry batch {item.batch.number})"
             if item.digest and item.digest != snapshot.content_hash() else "")  # no digest: moved by migration 0024
    raise ConflictError(
        f"{entry.label or snapshot.key} was entered by hand in {connector.name} (number {found.number or '?'}) with "
        f"total {found.total:.2f} {snapshot.currency}, but ours is {ours:.2f}{since}",
        hint=f"Correct the document in {connector.name} (or here) and retry; or, if ours is right, choose “Send ours "
             "anyway” to overwrite the copy entered by hand.")
