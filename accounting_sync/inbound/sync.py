"""Platform -> local: apply what changed on the platform (payments recorded there, line edits, voids, deletes).

Changes arrive as hints, from polling (``pull``) or webhooks (``process_delivery``), and are always re-read from
the platform before anything is applied. Every step is idempotent: the reference stores the remote version we
last wrote or applied, and a change whose version we already know is skipped, so the same payment announced by
three webhook deliveries and a poll is applied once.

Loop prevention: local writes made here run inside ``applying(connection)``, which keeps the save receivers
from queueing them back to that same connection, and the reference is updated to the new local content, so a
later resync finds nothing to send either. Other connections of the organization do receive the change.

Per entity (only for connections whose direction pulls, and entities they sync):
- payment: created, changed or deleted on the platform -> the same locally (the platform wins for payments);
- invoice / credit note created on the platform (where the sync table takes their creation in): created here
  through the adapter's ``create_from_platform``, after its customer and items are matched to local ones (our
  reference, then the adapter's ``find_from_platform``: tax number, e-mail, exact name) or, failing that,
  created; a reference is written for each, so nothing is sent back as a new write, and the unique reference per
  remote id makes a webhook and a poll reporting the same document create it once;
- refund / expense / journal (issue 23): voided or deleted on the platform -> voided here (the adapter's
  ``void_from_platform``; an adapter without it gives an attention item); an amount edited there is never applied:
  a conflict in the log and a reconciliation variance ("edited remotely");
- invoice / credit note: a remote void or delete of a document that is still valid here becomes an attention
  item ("void locally" or "re-send", admin actions); changed line amounts update the local lines when the local
  document did not change since the last sync; when both changed, the business system wins (the outbound entry
  overwrites the platform's edit) and the conflict is logged.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.utils import timezone

from connectors import registry
from connectors.base import RemoteChange, RemoteCustomer, RemoteDocument, RemoteItem
from connectors.documents import Entity
from connectors.errors import PermanentError, RemoteNotFound, SyncError
from connectors.models import Connection, ConnectionStatus
from mappings.models import Mapping, MappingKind, Scope
from mappings.resolve import resolve

from .. import conf
from ..core import engine, outbox, sources
from ..core.echo import applying
from ..models import (DeliveryStatus, EntryStatus, ExternalReference, OutboxEntry, Outcome, PullCursor, RemoteStatus,
                      SyncLog, WebhookDelivery)
from ..policies import rules
from ..reconcile.compare import finding
from ..reconcile.models import Reason, Variance, VarianceStatus

log = logging.getLogger(__name__)
OVERLAP = dt.timedelta(minutes=2)  # each poll re-asks a little of the previous window (clock skew, late commits)
FIRST_PULL = dt.timedelta(days=1)  # how far back the first poll of a connection looks


@dataclass
class Result:
    applied: int = 0
    skipped: int = 0
    attention: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.applied} applied, {self.skipped} already known, {self.attention} need attention, "
                f"{self.failed} failed")


# -- sources of change -----------------------------------------------------------------------------------------
def pull(conn: Connection, since: dt.datetime | None = None) -> Result:
    """Poll the platform once for every entity the connection polls, from the earliest of their cursors (or
    ``since``), and apply what changed. One ``changes_since`` call per poll: a platform whose one list serves several
    entities (invoices and bills in one list, payments and refunds in another) reads it once. An entity whose own
    cursor is later than the earliest gets the changes of the extra window again; applying is idempotent (a version
    already known is skipped). Each entity keeps its cursor (a newly polled one starts ``FIRST_PULL`` back) and its
    own summary; a failure moves none of them."""
    result = Result()
    if not _may_pull(conn, result):
        return result
    connector = conn.connector()
    entities = _entities(conn, connector)
    if not entities:
        return result
    cursors = {entity: PullCursor.objects.get_or_create(
        connection=conn, entity=entity, defaults={"changed_since": timezone.now() - FIRST_PULL})[0]
        for entity in entities}
    started = time.monotonic()
    try:
        changes, until = connector.changes_since(entities, since or min(c.changed_since for c in cursors.values()))
    except SyncError as exc:
        names = ", ".join(f"{e.replace('_', ' ')}s" for e in entities)
        _log(conn, "pull", Outcome.RETRY, started, f"polling {names} failed: {exc.message}", error=exc)
        PullCursor.objects.filter(pk__in=[c.pk for c in cursors.values()]).update(
            last_pull_at=timezone.now(), last_result=f"failed: {exc.message}"[:500])
        return result
    # Applied entity by entity in the order they were polled one by one (customers and items before the documents
    # naming them, invoices before their payments); a change of an entity not asked for comes last.
    by_entity: dict[str, list[RemoteChange]] = {entity: [] for entity in entities}
    others: list[RemoteChange] = []
    for change in changes:
        by_entity.get(change.entity, others).append(change)
    summaries = {}
    for entity, mine in [*by_entity.items(), ("", others)]:
        applied = apply_changes(conn, connector, mine, Result())
        for name in ("applied", "skipped", "attention", "failed"):
            setattr(result, name, getattr(result, name) + getattr(applied, name))
        summaries[entity] = applied.summary()
    for entity, cursor in cursors.items():
        PullCursor.objects.filter(pk=cursor.pk).update(changed_since=until - OVERLAP, last_pull_at=timezone.now(),
                                                       last_result=summaries[entity])
    return result


def process_delivery(delivery_id: int) -> Result:
    """Apply the changes one stored webhook delivery announces, for every connection of that company."""
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    result = Result()
    try:
        changes = registry.get(delivery.platform).parse_webhook(delivery.body.encode())
    except Exception as exc:  # a body we verified but cannot read: keep it, say why
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, error=str(exc)[:2000],
                                                             processed_at=timezone.now())
        return result
    companies = {c.company_id for c in changes}
    conns = list(Connection.objects.filter(platform=delivery.platform, remote_company_id__in=companies)
                 .exclude(status=ConnectionStatus.DISABLED))
    for conn in conns:
        if not _may_pull(conn, result):
            continue
        mine = [c for c in changes if c.company_id == conn.remote_company_id]
        connector = conn.connector()
        if conn.syncs(Entity.PAYMENT):
            # Some platforms announce a payment as an update of its invoice: ask for the invoice's payments too.
            for change in [c for c in mine if c.entity == Entity.INVOICE]:
                try:
                    mine.extend(connector.payments_of(change.remote_id))
                except SyncError as exc:
                    result.failed += 1
                    _log(conn, "pull payment", Outcome.RETRY, time.monotonic(), exc.message,
                         remote_id=change.remote_id, error=exc)
        apply_changes(conn, connector, mine, result)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PROCESSED if conns else DeliveryStatus.IGNORED, processed_at=timezone.now(),
        connection=conns[0] if conns else None, error="" if conns else "no connection for this company")
    return result


def _may_pull(conn: Connection, result: Result) -> bool:
    """Direction and status allow applying platform changes; otherwise say so once (per poll or delivery)."""
    if conn.status != ConnectionStatus.ACTIVE:
        result.notes.append(f"{conn.name} is {conn.get_status_display().lower()}: platform changes wait")
        return False
    if not conn.pulls:
        message = (f"{conn.name} only pushes (direction “{conn.get_direction_display()}”): changes made on the "
                   "platform are not applied here")
        result.notes.append(message)
        _log(conn, "pull", Outcome.SKIPPED, time.monotonic(), message)
        return False
    return True


def _entities(conn: Connection, connector) -> list[str]:
    return [e for e in Entity.EVERY if conn.syncs(e) and e in connector.inbound_entities]


# -- applying ---------------------------------------------------------------------------------------------------
def apply_changes(conn: Connection, connector, changes: list[RemoteChange], result: Result) -> Result:
    seen = set()
    for change in changes:
        if (change.entity, change.remote_id) in seen or not conn.syncs(change.entity):
            continue
        seen.add((change.entity, change.remote_id))
        started = time.monotonic()
        operation = _operation(conn, change)
        if not conn.receives(change.entity, operation):
            name = change.entity.replace("_", " ")
            _log(conn, f"pull {change.entity}", Outcome.SKIPPED, started,
                 f"not applied: {conn.name} does not take {name} "
                 f"{'deletion' if operation in ('delete', 'void') else operation}s from "
                 f"{conn.platform_name} (its sync table)", remote_id=change.remote_id)
            _not_taken_in(conn, connector, change, operation)
            result.skipped += 1
            continue
        try:
            outcome = _apply(conn, connector, change, started)
        except SyncError as exc:
            result.failed += 1
            _log(conn, f"pull {change.entity}", Outcome.RETRY if not isinstance(exc, PermanentError)
                 else Outcome.FAILED, started, exc.message, remote_id=change.remote_id, error=exc)
            continue
        except Exception as exc:  # a bug: keep going with the other changes, keep the traceback in the log
            log.exception("applying %s %s from %s failed", change.entity, change.remote_id, conn.name)
            result.failed += 1
            _log(conn, f"pull {change.entity}", Outcome.FAILED, started, f"internal error: {exc}",
                 remote_id=change.remote_id)
            continue
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def _operation(conn, change: RemoteChange) -> str:
    """What the change is to us: a platform record we hold no reference for is a creation (polling reports
    everything as changed), one we hold is an update (the platform's "create" event for a document we sent)."""
    if change.operation in ("delete", "void"):
        return change.operation
    known = ExternalReference.objects.filter(connection=conn, entity=change.entity, remote_id=change.remote_id).exists()
    return "update" if known else "create"


def _apply(conn, connector, change: RemoteChange, started: float) -> str:
    if change.entity == Entity.PAYMENT:
        return _apply_payment(conn, connector, change, started)
    if change.entity in (Entity.INVOICE, Entity.CREDIT_NOTE):
        return _apply_document(conn, connector, change, started)
    if change.entity in PARTIES:
        return _apply_party(conn, connector, change, started)
    if change.entity in Entity.DECLARED:
        return _apply_cost(conn, connector, change, started)
    return "skipped"


def _apply_cost(conn, connector, change: RemoteChange, started: float) -> str:
    """A refund, expense or journal we sent, changed on the platform. Read again with the reconciliation read
    (``read_documents``: status and total). Voided or deleted there -> voided here through the adapter's
    ``void_from_platform`` (an adapter without it: an attention item saying so); its amount edited there -> never
    applied: logged as a conflict and opened as a reconciliation variance ("edited remotely"; the reference keeps
    the version we wrote, so the next run reads it the same way and refreshes it). One created there is not taken
    in."""
    entity = change.entity
    ref = ExternalReference.objects.filter(connection=conn, entity=entity, remote_id=change.remote_id).first()
    if ref is None:
        return "skipped"  # not one of ours (a change reported as more than one entity, or a record made there)
    [remote] = connector.read_documents(entity, [change.remote_id]) or [None]
    if remote is None:
        return "skipped"
    adapter, obj = sources.load(ref.source_key)
    if obj is None:
        return "skipped"
    snapshot = adapter.snapshot(obj)
    label = adapter.label(obj)
    if remote.status in ("voided", "deleted"):
        status = RemoteStatus.VOIDED if remote.status == "voided" else RemoteStatus.DELETED
        if ref.remote_status == status and snapshot.is_void:
            return "skipped"
        verb = "voided" if status == RemoteStatus.VOIDED else "deleted"
        if not snapshot.is_void:
            try:
                with transaction.atomic(), applying(conn):
                    adapter.void_from_platform(obj)
            except PermanentError as exc:  # the host's adapter takes no voids from the platform
                ExternalReference.objects.filter(pk=ref.pk).update(remote_status=status, synced_at=timezone.now())
                _attention(conn, ref.source_key, entity, label, f"remote_{verb}",
                           f"{label} was {verb} in {conn.platform_name}, but it is still valid here: {exc.message}",
                           "Void it here by hand, or “Re-send” to create it in the platform again.")
                _log(conn, f"pull {entity}", Outcome.ATTENTION, started, f"{label} was {verb} in "
                     f"{conn.platform_name}; not voided here: {exc.message}", source_key=ref.source_key,
                     remote_id=change.remote_id)
                return "attention"
        ExternalReference.objects.filter(pk=ref.pk).update(remote_status=status, remote_version=remote.version
                                                           or ref.remote_version, synced_at=timezone.now())
        OutboxEntry.objects.filter(connection=conn, source_key=ref.source_key,
                                   status__in=(EntryStatus.PENDING, EntryStatus.NEEDS_ATTENTION)).update(
            status=EntryStatus.DONE, done_at=timezone.now())
        _log(conn, f"pull {entity}", Outcome.SUCCESS, started,
             f"{label} was {verb} in {conn.platform_name}: voided here too", source_key=ref.source_key,
             remote_id=change.remote_id)
        return "applied"
    if not remote.version or remote.version == ref.remote_version:
        return "skipped"  # our own write, or nothing we compare moved
    ours = getattr(snapshot, "total", None)
    ours = snapshot.amount if ours is None else ours
    if remote.total is None or remote.total == ours:
        ExternalReference.objects.filter(pk=ref.pk).update(remote_version=remote.version, synced_at=timezone.now())
        return "skipped"  # only the platform's own bookkeeping moved (a memo, a reconciliation mark)
    flagged = Variance.objects.filter(connection=conn, source_key=ref.source_key, remote_id=ref.remote_id,
                                      field="total", reason=Reason.EDITED_REMOTELY, status=VarianceStatus.OPEN)
    if flagged.exists():
        return "skipped"  # already flagged
    found = finding("total", Reason.EDITED_REMOTELY, f"{label}: total {ours} here, {remote.total} on "
                    f"{conn.platform_name} (changed there since we sent it; not applied here)", local=ours,
                    remote=remote.total, difference=remote.total - ours)
    now = timezone.now()
    Variance.objects.create(
        connection=conn, organization_id=snapshot.organization_id, entity=entity, source_key=ref.source_key,
        label=label[:200], remote_id=ref.remote_id, number=snapshot.number[:100], field=found.field,
        reason=found.reason, alarm=True, message=found.message[:500], action=found.action[:500],
        local_value=found.local_value[:100], remote_value=found.remote_value[:100], difference=found.difference,
        first_seen_at=now, last_seen_at=now)
    _log(conn, f"pull {entity}", Outcome.CONFLICT, started,
         f"{label}: its amount was changed in {conn.platform_name} to {remote.total}; it is {ours} here. Not "
         "applied (amounts of this kind of record are never overwritten from the platform): flagged as a "
         "reconciliation variance", source_key=ref.source_key, remote_id=change.remote_id)
    return "attention"


def _apply_payment(conn, connector, change: RemoteChange, started: float) -> str:
    ref = ExternalReference.objects.filter(connection=conn, entity=Entity.PAYMENT, remote_id=change.remote_id).first()
    try:
        remote = None if change.operation == "delete" else connector.remote_payment(change.remote_id)
    except RemoteNotFound:
        remote = None
    if remote is None or remote.deleted:
        if ref is None or ref.remote_status == RemoteStatus.DELETED:
            return "skipped"
        adapter, obj = sources.load(ref.source_key)
        with transaction.atomic(), applying(conn):
            if obj is not None:
                adapter.delete_from_platform(obj)
            ExternalReference.objects.filter(pk=ref.pk).update(remote_status=RemoteStatus.DELETED,
                                                               synced_at=timezone.now())
            _log(conn, "pull payment", Outcome.SUCCESS, started,
                 f"payment deleted in {conn.platform_name}: deleted here too", source_key=ref.source_key,
                 remote_id=change.remote_id)
        return "applied"
    if ref is not None and ref.remote_version == remote.version:
        return "skipped"  # our own write, or a change we already applied
    if ref is None and (not remote.allocations or remote.amount == 0):
        return "skipped"  # no money moved: a credit memo applied to an invoice (the credit note's own business)
    if ref is None and Entity.PAYMENT not in connector.capabilities.inbound_creates:
        _log(conn, "pull payment", Outcome.SKIPPED, started,
             f"not recorded here: the {conn.platform_name} connector does not read payments created there whole "
             "(capabilities.inbound_creates)", remote_id=change.remote_id)
        return "skipped"
    invoices = {}
    for remote_invoice, _ in remote.allocations:
        inv_ref = ExternalReference.objects.filter(connection=conn, entity=Entity.INVOICE,
                                                   remote_id=remote_invoice).first()
        if inv_ref is None and conn.syncs(Entity.INVOICE) and conn.receives(Entity.INVOICE, "create"):
            # Paid on the platform as soon as it was made there: the invoice comes in first.
            _apply_document(conn, connector, RemoteChange(Entity.INVOICE, remote_invoice, "create"), started)
            inv_ref = ExternalReference.objects.filter(connection=conn, entity=Entity.INVOICE,
                                                       remote_id=remote_invoice).first()
        if inv_ref is None:
            raise PermanentError(f"payment {remote.reference or remote.remote_id} in {conn.platform_name} is applied "
                                 f"to an invoice that did not come from here ({remote_invoice}); not recorded",
                                 code="unknown_invoice")
        invoices[remote_invoice] = inv_ref.source_key
    adapter = sources.payment_adapter_for([sources.load(k)[1] for k in invoices.values()])
    existing = sources.load(ref.source_key)[1] if ref is not None else None
    if existing is not None and _local_digest(conn, connector, adapter, existing) != ref.content_hash:
        label = adapter.label(existing)
        if policy(conn, Entity.PAYMENT) == BUSINESS:
            OutboxEntry.objects.filter(connection=conn, source_key=ref.source_key).update(overwrite_remote=True)
            _log(conn, "pull payment", Outcome.CONFLICT, started,
                 f"{label} was changed both here and in {conn.platform_name}; by the connection's policy this "
                 "system's version wins and will be sent", source_key=ref.source_key, remote_id=remote.remote_id)
            return "skipped"
        _log(conn, "pull payment", Outcome.CONFLICT, started,
             f"{label} was changed both here and in {conn.platform_name}; by the connection's policy the "
             f"platform's version wins: {remote.amount} on {remote.date}", source_key=ref.source_key,
             remote_id=remote.remote_id)
    with transaction.atomic(), applying(conn):
        obj = adapter.apply_from_platform(existing, remote, invoices, conn.platform_name)
        key = sources.key_for(obj)
        _remember(conn, key, Entity.PAYMENT, remote.remote_id, remote.version, adapter, obj)
        verb = "changed" if existing is not None else "recorded"
        _log(conn, "pull payment", Outcome.SUCCESS, started,
             f"payment {verb} in {conn.platform_name}: {remote.amount} {remote.currency} on {remote.date}",
             source_key=key, remote_id=remote.remote_id)
    return "applied"


def _apply_document(conn, connector, change: RemoteChange, started: float) -> str:
    ref = ExternalReference.objects.filter(connection=conn, entity=change.entity, remote_id=change.remote_id).first()
    if ref is None:
        return _create_document(conn, connector, change, started)
    remote = connector.remote_document(change.entity, change.remote_id)
    if remote.status == "active" and ref.remote_version == remote.version:
        return "skipped"
    adapter, obj = sources.load(ref.source_key)
    if obj is None:
        return "skipped"
    snapshot = rules.apply(conn, connector, adapter.snapshot(obj))  # as this connection sends it (tax line...)
    label = adapter.label(obj)
    if snapshot is None:
        return "skipped"
    if remote.status in ("voided", "deleted"):
        status = RemoteStatus.VOIDED if remote.status == "voided" else RemoteStatus.DELETED
        if ref.remote_status == status:
            return "skipped"
        ExternalReference.objects.filter(pk=ref.pk).update(remote_status=status, remote_version=remote.version
                                                           or ref.remote_version, synced_at=timezone.now())
        if getattr(snapshot, "is_void", False):
            return "skipped"  # void here as well: nothing to reconcile
        verb = "voided" if status == RemoteStatus.VOIDED else "deleted"
        fixes = ("“Void locally” voids it here too." if status == RemoteStatus.VOIDED else
                 "“Void locally” voids it here too; “Re-send” creates it in the platform again.")
        _attention(conn, ref.source_key, change.entity, label, f"remote_{verb}",
                   f"{label} was {verb} in {conn.platform_name}, but it is still valid here.", fixes)
        _log(conn, f"pull {change.entity}", Outcome.ATTENTION, started,
             f"{label} was {verb} in {conn.platform_name}", source_key=ref.source_key, remote_id=remote.remote_id)
        return "attention"
    local_lines = tuple((line.quantity, line.unit_price) for line in snapshot.lines
                        if line.kind not in ("discount", rules.TAX_LINE_KIND))
    # Tax as a line (rules.tax_as_line): the platform's last line is our tax line, not one of the document's.
    tax_lines = sum(1 for line in snapshot.lines if line.kind == rules.TAX_LINE_KIND)
    remote_lines = remote.lines[:len(remote.lines) - tax_lines] if tax_lines else remote.lines
    if _same_lines(local_lines, remote_lines):
        # Only the platform's own bookkeeping moved (a payment applied, an email sent): remember the version.
        ExternalReference.objects.filter(pk=ref.pk).update(remote_version=remote.version, synced_at=timezone.now())
        return "skipped"
    digest = _local_digest(conn, connector, adapter, obj)
    if digest != ref.content_hash:  # both sides changed since the last sync: the connection's policy decides
        if policy(conn, change.entity) == BUSINESS:
            OutboxEntry.objects.filter(connection=conn, source_key=ref.source_key).update(overwrite_remote=True)
            _log(conn, f"pull {change.entity}", Outcome.CONFLICT, started,
                 f"{label} was changed both here and in {conn.platform_name}; by the connection's policy this "
                 "system's version wins and will be sent", source_key=ref.source_key, remote_id=remote.remote_id)
            return "skipped"
        _log(conn, f"pull {change.entity}", Outcome.CONFLICT, started,
             f"{label} was changed both here and in {conn.platform_name}; by the connection's policy the "
             "platform's line amounts win", source_key=ref.source_key, remote_id=remote.remote_id)
    with transaction.atomic(), applying(conn):
        try:
            adapter.apply_line_amounts_from_platform(obj, remote_lines)
        except ValueError as exc:
            _attention(conn, ref.source_key, change.entity, label, "remote_changed",
                       f"{label} was changed in {conn.platform_name} in a way that cannot be applied here: {exc}",
                       "Change it here to match, or “Retry” to send this system's version over it.")
            return "attention"
        _remember(conn, ref.source_key, change.entity, remote.remote_id, remote.version, adapter, obj)
        _log(conn, f"pull {change.entity}", Outcome.SUCCESS, started,
             f"{label}: line amounts changed in {conn.platform_name} applied here (total now {remote.total})",
             source_key=ref.source_key, remote_id=remote.remote_id)
    return "applied"


# -- created on the platform --------------------------------------------------------------------------------------
class _Refused(Exception):
    """A record created on the platform cannot be created here: becomes an attention item (code, message, hint)."""

    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


def incoming_key(conn: Connection, entity: str, remote_id: str) -> str:
    """The attention list's key for a platform record that has no local object (yet)."""
    return f"{conn.platform}:{entity}:{remote_id}"[:200]


def _may_create(conn, connector, change: RemoteChange, started: float) -> bool:
    """Whether a record made on the platform may be created here: the connector reads such records whole
    (``inbound_creates``), and no other connection to the same company sent it from here (organizations sharing
    one company). Logs why not."""
    name, operation = change.entity.replace("_", " "), f"pull {change.entity}"
    if change.entity not in connector.capabilities.inbound_creates:
        _log(conn, operation, Outcome.SKIPPED, started,
             f"not created here: the {conn.platform_name} connector does not read {name}s created there whole "
             "(capabilities.inbound_creates)", remote_id=change.remote_id)
        return False
    sent = (ExternalReference.objects.filter(entity=change.entity, remote_id=change.remote_id,
                                             connection__platform=conn.platform,
                                             connection__remote_company_id=conn.remote_company_id)
            .exclude(connection=conn).select_related("connection").first())
    if sent is not None:
        _log(conn, operation, Outcome.SKIPPED, started, f"not created here: it was sent from here through "
             f"{sent.connection.name}", source_key=sent.source_key, remote_id=change.remote_id)
        return False
    return True


def _create_document(conn, connector, change: RemoteChange, started: float) -> str:
    """An invoice or credit note made on the platform becomes a local one (its customer and items matched first)."""
    name, operation = change.entity.replace("_", " "), f"pull {change.entity}"
    if not _may_create(conn, connector, change, started):
        return "skipped"
    remote = connector.remote_document(change.entity, change.remote_id)
    if remote.status != "active":
        return "skipped"  # voided or deleted there before it reached us: nothing to bring in
    label = f"{name.capitalize()} {remote.number or remote.remote_id} from {conn.platform_name}"
    adapter = sources.creator_for(change.entity)
    try:
        if adapter is None or not adapter.creates_from_platform:
            what = f"{type(adapter).__name__} ({adapter.model._meta.label})" if adapter else f"no {name} source"
            raise _Refused("adapter_unsupported", f"{label} was created in {conn.platform_name}, and the sync table "
                           f"takes {name}s in, but {what} cannot create {name}s here.",
                           f"Implement create_from_platform in the host's {name} adapter (docs/host-integration.md), "
                           f"then “Retry”; or set {name} creation to “out” in the connection's sync table.")
        organization = _organization_for(conn, remote, label)
        same = adapter.find_from_platform(organization, remote)
        if same is not None:
            _log(conn, operation, Outcome.SKIPPED, started,
                 f"{label} not created here: {adapter.label(same)} already has its number (ours, on its way, or a "
                 "duplicate there)", source_key=sources.key_for(same), remote_id=remote.remote_id)
            return "skipped"
        with transaction.atomic(), applying(conn):
            customer_key = _local_record(conn, connector, sources.related_adapter(adapter, Entity.CUSTOMER),
                                         Entity.CUSTOMER, remote.customer, organization, label)
            item_keys = {line.item_remote_id: _local_record(
                conn, connector, sources.related_adapter(adapter, Entity.ITEM), Entity.ITEM,
                RemoteItem(line.item_remote_id, line.item_name, code=line.item_code), organization, label)
                for line in remote.details if line.item_remote_id}
            applications, elsewhere = _applications(conn, remote)
            obj = adapter.create_from_platform(organization, sources.Incoming(
                remote, customer_key, item_keys, _tax_rates(conn, organization), conn.platform_name, applications))
            key = sources.key_for(obj)
            _remember(conn, key, change.entity, remote.remote_id, remote.version, adapter, obj)
            OutboxEntry.objects.filter(connection=conn, source_key=incoming_key(conn, change.entity, remote.remote_id)
                                       ).update(status=EntryStatus.DONE, done_at=timezone.now(), last_error="",
                                                error_code="", hint="")
            total = adapter.snapshot(obj).total
            differs = (f"; its total here ({total}) differs from {conn.platform_name}'s ({remote.total}): check the "
                       "tax-code rules" if remote.total is not None and total != remote.total else "")
            if applications:
                differs += f"; applied to {len(applications)} invoice(s) as in {conn.platform_name}"
            if elsewhere:
                differs += (f"; its application to {', '.join(elsewhere)} is left out (no such invoice here): apply it "
                            "here by hand")
            _log(conn, operation, Outcome.SUCCESS, started,
                 f"{label} created here as {adapter.label(obj)}{differs}", source_key=key, remote_id=remote.remote_id)
    except _Refused as refused:
        _attention(conn, incoming_key(conn, change.entity, change.remote_id), change.entity, label, refused.code,
                   refused.message, refused.hint)
        _log(conn, operation, Outcome.ATTENTION, started, refused.message, remote_id=change.remote_id)
        return "attention"
    except IntegrityError:
        # A webhook and a poll reported it at once: the other one created it (one reference per remote id).
        return "skipped"
    return "applied"


def _applications(conn, remote: RemoteDocument) -> tuple[dict[str, Decimal], list[str]]:
    """A credit note's applications in local terms: invoice key -> amount for invoices known here; the remote ids
    of the others."""
    known: dict[str, Decimal] = {}
    missing = []
    for invoice_id, amount in remote.applications:
        ref = ExternalReference.objects.filter(connection=conn, entity=Entity.INVOICE, remote_id=invoice_id).first()
        if ref is None or sources.load(ref.source_key)[1] is None:
            missing.append(invoice_id)
        else:
            known[ref.source_key] = known.get(ref.source_key, Decimal("0")) + amount
    return known, missing


def _organization_for(conn, remote: RemoteDocument, label: str) -> int:
    """The connection's organization; with several, the one its customer (by reference) belongs to."""
    organizations = list(conn.organizations.order_by("pk").values_list("pk", flat=True))
    if len(organizations) == 1:
        return organizations[0]
    ref = ExternalReference.objects.filter(connection=conn, entity=Entity.CUSTOMER,
                                           remote_id=remote.customer.remote_id if remote.customer else "").first()
    if ref is not None:
        adapter, obj = sources.load(ref.source_key)
        if obj is not None and adapter.organization_id(obj) in organizations:
            return adapter.organization_id(obj)
    raise _Refused("organization_unknown", f"{label}: {conn.name} serves {len(organizations)} organizations and its "
                   "customer is none of theirs yet, so it is not clear whose document it is.",
                   "Sync the customer from the organization it belongs to first, then “Retry”.")


def _local_record(conn, connector, adapter, entity: str, stub, organization: int, label: str) -> str:
    """The local key of the customer or item ``stub`` names: by our reference, else matched by the adapter, else
    created (if the sync table takes that entity's creation in); a reference links it either way."""
    name = entity.replace("_", " ")
    if stub is None or not stub.remote_id:
        raise _Refused("remote_incomplete", f"{label} names no {name}.", "Complete it on the platform, then “Retry”.")
    ref = ExternalReference.objects.filter(connection=conn, entity=entity, remote_id=stub.remote_id).first()
    if ref is not None:
        if sources.load(ref.source_key)[1] is not None:
            return ref.source_key
        raise _Refused("deleted_here", f"{label}: its {name} {stub.name} was deleted here.",
                       f"Restore the {name} here, or change the document on the platform, then “Retry”.")
    remote = (connector.remote_customer if entity == Entity.CUSTOMER else connector.remote_item)(stub.remote_id) \
        or stub
    if adapter is None:
        raise _Refused("adapter_unsupported", f"{label}: there is no {name} source to hold {remote.name}.",
                       f"Register a {name} adapter (ACCOUNTING_SYNC['SOURCES']).")
    obj = adapter.find_from_platform(organization, remote)
    if obj is None:
        if not conn.receives(entity, "create"):
            raise _Refused("not_taken", f"{label}: its {name} {remote.name} is not here, and {conn.name} does not "
                           f"take {name} creations from {conn.platform_name} (its sync table).",
                           f"Create the {name} here (same name, e-mail or tax number), or let the sync table take "
                           f"{name} creations in, then “Retry”.")
        if not adapter.creates_from_platform:
            raise _Refused("adapter_unsupported", f"{label}: its {name} {remote.name} is not here, and "
                           f"{type(adapter).__name__} cannot create {name}s.",
                           f"Implement find_from_platform / create_from_platform in the host's {name} adapter, or "
                           f"create the {name} here, then “Retry”.")
        obj = adapter.create_from_platform(organization, remote)
    key = sources.key_for(obj)
    if not ExternalReference.objects.filter(connection=conn, source_key=key).exists():
        _remember(conn, key, entity, remote.remote_id, remote.version, adapter, obj)
    return key


def _tax_rates(conn, organization: int) -> dict[str, str]:
    """The connection's tax codes that stand for exactly one local tax rate (rules scoped to a tax rate)."""
    named: dict[str, set[str]] = {}
    for code, local in Mapping.objects.filter(
            Q(organization__isnull=True) | Q(organization_id=organization), connection=conn,
            kind=MappingKind.TAX_CODE, scope=Scope.TAX_RATE).values_list("remote_id", "local_value"):
        named.setdefault(code, set()).add(local)
    return {code: locals_.pop() for code, locals_ in named.items() if len(locals_) == 1}


# -- customers and items created or changed on the platform (on their own) ------------------------------------
#: The entities that come in on their own where the connector declares them in ``inbound`` and ``inbound_creates``.
PARTIES = (Entity.CUSTOMER, Entity.ITEM)
#: What an edit on the platform may change here: (the snapshot's field, the remote record's field) per entity.
PARTY_FIELDS = {Entity.CUSTOMER: (("name", "name"), ("email", "email"), ("tax_number", "tax_number"),
                                  ("active", "active")),
                Entity.ITEM: (("name", "name"), ("sku", "code"), ("unit_price", "unit_price"), ("active", "active"))}


def _apply_party(conn, connector, change: RemoteChange, started: float) -> str:
    """A customer or item created or changed on the platform: created here (matched to a local one first), or its
    edit (name, e-mail, tax number, code, price, active flag) applied by the entity's conflict rule."""
    if change.entity not in connector.inbound_entities:
        return "skipped"  # announced (a webhook), but the connector does not declare reading it
    ref = ExternalReference.objects.filter(connection=conn, entity=change.entity, remote_id=change.remote_id).first()
    if ref is None:
        return _create_party(conn, connector, change, started)
    adapter, obj = sources.load(ref.source_key)
    if obj is None:
        return "skipped"  # deleted here: the outbound side deals with the platform's record
    name, operation = change.entity.replace("_", " "), f"pull {change.entity}"
    remote = _read_party(connector, change)
    gone = remote is None
    if gone:  # gone from the platform: inactive here too, where the sync table takes deletions in
        if ref.remote_status == RemoteStatus.DELETED:
            return "skipped"
        ExternalReference.objects.filter(pk=ref.pk).update(remote_status=RemoteStatus.DELETED, synced_at=timezone.now())
        if not conn.receives(change.entity, "delete"):
            _log(conn, operation, Outcome.SKIPPED, started, f"{adapter.label(obj)} was deleted in "
                 f"{conn.platform_name}; kept here ({conn.name} does not take {name} deletions in)",
                 source_key=ref.source_key, remote_id=change.remote_id)
            return "skipped"
        remote = (RemoteCustomer if change.entity == Entity.CUSTOMER else RemoteItem)(change.remote_id, "",
                                                                                      active=False)
    elif ref.remote_version and remote.version == ref.remote_version:
        return "skipped"  # our own write, or an edit already applied
    label = adapter.label(obj)
    snapshot = adapter.snapshot(obj)
    changed = [ours for ours, theirs in PARTY_FIELDS[change.entity]
               if getattr(remote, theirs) not in (None, "") and getattr(snapshot, ours) != getattr(remote, theirs)]
    if not changed:  # what moved there is nothing kept here (an address, a balance): remember the version
        ExternalReference.objects.filter(pk=ref.pk).update(remote_version=remote.version or ref.remote_version,
                                                           synced_at=timezone.now())
        return "skipped"
    if not adapter.updates_from_platform:
        ExternalReference.objects.filter(pk=ref.pk).update(remote_version=remote.version or ref.remote_version)
        _log(conn, operation, Outcome.SKIPPED, started, f"not applied: {label} was changed in {conn.platform_name} "
             f"({', '.join(changed)}), but {type(adapter).__name__} cannot take {name} edits (update_from_platform)",
             source_key=ref.source_key, remote_id=change.remote_id)
        return "skipped"
    if _local_digest(conn, connector, adapter, obj) != ref.content_hash:  # changed on both sides
        if policy(conn, change.entity) == BUSINESS:
            OutboxEntry.objects.filter(connection=conn, source_key=ref.source_key).update(overwrite_remote=True)
            _log(conn, operation, Outcome.CONFLICT, started,
                 f"{label} was changed both here and in {conn.platform_name} ({', '.join(changed)}); by the "
                 "connection's policy this system's version wins and will be sent", source_key=ref.source_key,
                 remote_id=change.remote_id)
            return "skipped"
        _log(conn, operation, Outcome.CONFLICT, started,
             f"{label} was changed both here and in {conn.platform_name}; by the connection's policy the "
             f"platform's {', '.join(changed)} win", source_key=ref.source_key, remote_id=change.remote_id)
    with transaction.atomic(), applying(conn):
        adapter.update_from_platform(obj, remote)
        _remember(conn, ref.source_key, change.entity, change.remote_id, remote.version or ref.remote_version,
                  adapter, obj)
        if gone:
            ExternalReference.objects.filter(pk=ref.pk).update(remote_status=RemoteStatus.DELETED)
        _log(conn, operation, Outcome.SUCCESS, started,
             f"{label}: {', '.join(changed)} changed in {conn.platform_name} applied here",
             source_key=ref.source_key, remote_id=change.remote_id)
    return "applied"


def _not_taken_in(conn, connector, change: RemoteChange, operation: str) -> None:
    """An edit of a customer or item the sync table keeps out (updates "out" or "none"): this system's record is
    the master, so the platform's version is taken as seen and the next local edit overwrites that edit (instead
    of stopping as "edited on the platform since we last sent it")."""
    if change.entity not in PARTIES or operation != "update" or change.entity not in connector.inbound_entities:
        return
    ref = ExternalReference.objects.filter(connection=conn, entity=change.entity, remote_id=change.remote_id).first()
    try:
        remote = _read_party(connector, change) if ref is not None else None
    except SyncError:  # only a courtesy: the next poll asks again
        return
    if remote is not None and remote.version and remote.version != ref.remote_version:
        ExternalReference.objects.filter(pk=ref.pk).update(remote_version=remote.version)


def _read_party(connector, change: RemoteChange):
    """The platform's customer or item whole; None when it is gone (deleted there)."""
    if change.operation == "delete":
        return None
    try:
        return (connector.remote_customer if change.entity == Entity.CUSTOMER else connector.remote_item)(
            change.remote_id)
    except RemoteNotFound:
        return None


def _create_party(conn, connector, change: RemoteChange, started: float) -> str:
    """A customer or item made on the platform, with no reference here: linked to the local one it matches (tax /
    company number, e-mail, exact name; items: code, exact name), else created through the adapter."""
    name, operation = change.entity.replace("_", " "), f"pull {change.entity}"
    if not _may_create(conn, connector, change, started):
        return "skipped"
    remote = _read_party(connector, change)
    if remote is None or remote.active is False or getattr(remote, "generic", False):
        return "skipped"  # deleted or made inactive there before it reached us, or the connector's own item
    label = f"{name.capitalize()} {remote.name or remote.remote_id} from {conn.platform_name}"
    adapter = sources.creator_for(change.entity)
    try:
        if adapter is None or not adapter.creates_from_platform:
            what = f"{type(adapter).__name__} ({adapter.model._meta.label})" if adapter else f"no {name} source"
            raise _Refused("adapter_unsupported", f"{label} was created in {conn.platform_name}, and the sync table "
                           f"takes {name}s in, but {what} cannot create {name}s here.",
                           f"Implement find_from_platform / create_from_platform in the host's {name} adapter "
                           f"(docs/host-integration.md), then “Retry”; or set {name} creation to “out” in the "
                           "connection's sync table.")
        organization, same = _party_home(conn, adapter, remote, label)
        if same is not None:
            linked = ExternalReference.objects.filter(connection=conn, source_key=sources.key_for(same)).first()
            if linked is not None:
                _log(conn, operation, Outcome.SKIPPED, started,
                     f"{label} not created here: it matches {adapter.label(same)}, which is already linked to "
                     f"{conn.platform_name}'s {linked.remote_id} (a duplicate there?)", source_key=linked.source_key,
                     remote_id=remote.remote_id)
                return "skipped"
        with transaction.atomic(), applying(conn):
            obj = same or adapter.create_from_platform(organization, remote)
            key = sources.key_for(obj)
            _remember(conn, key, change.entity, remote.remote_id, remote.version, adapter, obj)
            OutboxEntry.objects.filter(connection=conn, source_key=incoming_key(conn, change.entity, remote.remote_id)
                                       ).update(status=EntryStatus.DONE, done_at=timezone.now(), last_error="",
                                                error_code="", hint="")
            what = f"linked to {adapter.label(obj)} (the same {name} here)" if same else f"created here as " \
                f"{adapter.label(obj)}"
            _log(conn, operation, Outcome.SUCCESS, started, f"{label} {what}", source_key=key,
                 remote_id=remote.remote_id)
    except _Refused as refused:
        _attention(conn, incoming_key(conn, change.entity, change.remote_id), change.entity, label, refused.code,
                   refused.message, refused.hint)
        _log(conn, operation, Outcome.ATTENTION, started, refused.message, remote_id=change.remote_id)
        return "attention"
    except IntegrityError:
        # A webhook and a poll reported it at once: the other one linked or created it (one reference per remote id).
        return "skipped"
    return "applied"


def _party_home(conn, adapter, remote, label: str) -> tuple[int, object | None]:
    """The organization a customer or item made on the platform belongs to, and the local record it matches: the
    connection's only organization; with several, the one organization where it matches a record."""
    organizations = list(conn.organizations.order_by("pk").values_list("pk", flat=True))
    found = [(organization, same) for organization in organizations
             if (same := adapter.find_from_platform(organization, remote)) is not None]
    if len(organizations) == 1:
        return organizations[0], (found[0][1] if found else None)
    if len(found) == 1:
        return found[0]
    raise _Refused("organization_unknown", f"{label}: {conn.name} serves {len(organizations)} organizations and it "
                   f"matches a record in {len(found) or 'none'} of them, so it is not clear whose it is.",
                   "Create it (same name, e-mail or tax number) in the organization it belongs to, then “Retry”.")


def retry_incoming(entry: OutboxEntry) -> Result:
    """Staff retry an attention item about a platform record that could not be created here: read it again. The
    item closes unless it needs attention again or failed (created now, known by now, or no longer to be created)."""
    _, entity, remote_id = entry.source_key.split(":", 2)
    conn = entry.connection
    result = apply_changes(conn, conn.connector(), [RemoteChange(entity, remote_id, "create")], Result())
    if not (result.attention or result.failed):
        OutboxEntry.objects.filter(pk=entry.pk).update(status=EntryStatus.DONE, done_at=timezone.now(),
                                                       last_error="", error_code="", hint="")
    return result


#: ``incoming_key``s (platform:entity:remote id), as opposed to a local object's key (app_label.model:pk).
INCOMING_KEY = r"^[^.:]+:[a-z_]+:"


PLATFORM, BUSINESS = "platform", "business"
DEFAULT_POLICY = {Entity.PAYMENT: PLATFORM, Entity.INVOICE: BUSINESS, Entity.CREDIT_NOTE: BUSINESS}


def policy(conn: Connection, entity: str) -> str:
    """Who wins when a document changed on both sides since the last sync: ``settings["conflict_policy"]``,
    e.g. ``{"payment": "platform", "invoice": "business"}`` (the defaults)."""
    chosen = ((conn.settings or {}).get("conflict_policy") or {}).get(entity, DEFAULT_POLICY.get(entity, BUSINESS))
    return chosen if chosen in (PLATFORM, BUSINESS) else DEFAULT_POLICY.get(entity, BUSINESS)


def _same_lines(local, remote) -> bool:
    if len(local) != len(remote):
        return False
    return all(Decimal(lq) == Decimal(rq) and Decimal(lp) == Decimal(rp)
               for (lq, lp), (rq, rp) in zip(local, remote, strict=True))


def _local_digest(conn, connector, adapter, obj) -> str:
    """The content hash the outbound side would compute for the object now ("" if it cannot be resolved)."""
    obj = adapter.model._default_manager.get(pk=obj.pk)
    try:
        snapshot = rules.apply(conn, connector or conn.connector(), adapter.snapshot(obj))
    except SyncError:
        return ""
    if snapshot is None:
        return ""
    refs = {}
    for _, key in snapshot.dependencies():
        ref = ExternalReference.objects.filter(connection=conn, source_key=key).first()
        if ref is None:
            return ""
        refs[key] = ref.remote_id
    try:
        return engine.content_digest(snapshot, resolve(conn, snapshot, refs))
    except SyncError:
        return ""


def _remember(conn, key, entity, remote_id, version, adapter, obj) -> None:
    """The reference now describes the local object as applied from the platform: nothing to send back."""
    digest = _local_digest(conn, None, adapter, obj)
    ExternalReference.objects.update_or_create(
        connection=conn, source_key=key,
        defaults=dict(entity=entity, remote_id=remote_id, remote_version=version, remote_status=RemoteStatus.ACTIVE,
                      content_hash=digest, synced_at=timezone.now()))
    OutboxEntry.objects.filter(connection=conn, source_key=key, status=EntryStatus.PENDING).update(
        status=EntryStatus.DONE, done_at=timezone.now())


def _attention(conn, key, entity, label, code, message, hint) -> None:
    entry, _ = OutboxEntry.objects.get_or_create(connection=conn, source_key=key,
                                                 defaults={"entity": entity, "label": label[:200]})
    OutboxEntry.objects.filter(pk=entry.pk).update(
        status=EntryStatus.NEEDS_ATTENTION, error_code=code, last_error=message[:4000], hint=hint[:500],
        platform_code="", lease_until=None, lease_token="", updated_at=timezone.now())  # nosec B106


def _log(conn, operation, outcome, started, message, *, source_key="", remote_id="", error: SyncError | None = None):
    SyncLog.objects.create(connection=conn, source_key=source_key or f"{conn.platform}:{operation}",
                           entity=operation.split()[-1], operation=operation[:20], outcome=outcome,
                           remote_id=remote_id, message=message[:4000],
                           error_code=error.code if error else "", platform_code=(error.platform_code if error
                                                                                  else "") or "",
                           hint=(error.hint if error else "")[:500],
                           duration_ms=int((time.monotonic() - started) * 1000))


# -- staff decisions (admin actions) ------------------------------------------------------------------------
def void_locally(entry: OutboxEntry) -> bool:
    """The platform voided or deleted it: void it here too; nothing is sent back."""
    adapter, obj = sources.load(entry.source_key)
    if obj is None or not hasattr(adapter, "void_from_platform"):
        return False
    with transaction.atomic(), applying(entry.connection):
        adapter.void_from_platform(obj)
        OutboxEntry.objects.filter(pk=entry.pk).update(status=EntryStatus.DONE, done_at=timezone.now(),
                                                       last_error="", error_code="", hint="")
        SyncLog.objects.create(connection=entry.connection, entry=entry, source_key=entry.source_key,
                               entity=entry.entity, label=entry.label, operation="void locally",
                               outcome=Outcome.SUCCESS, message="voided here to match the platform; nothing sent")
    return True


def resend(entry: OutboxEntry) -> bool:
    """The platform deleted it: send it again as a new document."""
    ref = ExternalReference.objects.filter(connection=entry.connection, source_key=entry.source_key).first()
    if ref is None or ref.remote_status != RemoteStatus.DELETED:
        return False
    ref.delete()  # the old remote id is gone for good; the next sync creates the document again
    OutboxEntry.objects.filter(pk=entry.pk).update(status=EntryStatus.PENDING, attempts=0, error_code="",
                                                   last_error="", hint="", write_started=False,
                                                   next_attempt_at=timezone.now())
    outbox.enqueue([entry.pk])
    return True


def due_connections(now: dt.datetime | None = None) -> list[Connection]:
    """Active pulling connections whose polling interval has passed (for their least recently polled entity)."""
    now = now or timezone.now()
    return [conn for conn in Connection.objects.filter(status=ConnectionStatus.ACTIVE).annotate(
        polled=Min("pull_cursors__last_pull_at")) if conn.pulls and _poll_due(conn, conn.polled, now)]


def _poll_due(conn: Connection, polled: dt.datetime | None, now: dt.datetime) -> bool:
    minutes = float((conn.settings or {}).get("pull_interval_minutes", conf.get("PULL_INTERVAL_MINUTES")))
    return polled is None or polled <= now - dt.timedelta(minutes=minutes)


def claim(conn: Connection) -> bool:
    """Take ``conn``'s scheduled poll for this pass: only if it is still due, looked at again under a lock of the
    connection's row (``SKIP LOCKED``: a pass that holds it is claiming it); its cursors (those of entities polled for
    the first time made) then say it was polled now, before the poll. False when another pass has it. A pass over
    many pulling companies (a request or more each, at the platform's latency) can outlast the minute between passes;
    the next pass then walks the same due list, and each connection is polled by whichever pass claims it first, not
    by both (as ``reconcile.tasks.claim`` does for reconciliation)."""
    now = timezone.now()
    with transaction.atomic():
        if not Connection.lock_unless_held(conn.pk):
            return False
        cursors = PullCursor.objects.filter(connection=conn)
        if not _poll_due(conn, cursors.aggregate(polled=Min("last_pull_at"))["polled"], now):
            return False
        for entity in _entities(conn, conn.connector()):
            PullCursor.objects.get_or_create(connection=conn, entity=entity,
                                             defaults={"changed_since": now - FIRST_PULL})
        cursors.update(last_pull_at=now)
    return True
