"""Where the trail hears about transfers and staff actions: the sync log's rows and the admin's log entries."""
from __future__ import annotations

import hashlib
import json

from django.contrib.admin.models import LogEntry
from django.db.models.signals import post_save

from connectors.models import Connection

from ..core.signals import sync_logs_written as logs_written_together
from ..models import SyncLog
from . import AuditKind, append, append_many

#: Apps whose admin log entries are staff actions on sync data.
SYNC_APPS = ("accounting_sync", "connectors", "mappings")
INBOUND_OPERATIONS = ("pull", "void locally")


def sync_log_written(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """One record per attempt (outbound) or platform change applied (inbound), in the log row's transaction."""
    if not created or raw:
        return
    append(**_attempt(instance))


def sync_logs_written(sender, logs: list[SyncLog], **kwargs) -> None:
    """The same for log rows written together (a chunk of documents sent in one batch): one record each, appended
    together, in the rows' transaction."""
    append_many([_attempt(log) for log in logs])


def _attempt(log: SyncLog) -> dict:
    inbound = log.operation.startswith(INBOUND_OPERATIONS)
    exchanges = json.dumps(log.exchanges or [], sort_keys=True, default=str)
    return dict(kind=AuditKind.INBOUND if inbound else AuditKind.ATTEMPT, connection_id=log.connection_id,
                connection_name=log.connection.name if log.connection_id else "", source_key=log.source_key,
                entity=log.entity, operation=log.operation, outcome=log.outcome, remote_id=log.remote_id,
                detail={"sync_log": log.pk, "entry": log.entry_id, "label": log.label, "message": log.message,
                        "hint": log.hint, "error_code": log.error_code, "platform_code": log.platform_code,
                        "http_status": log.http_status, "duration_ms": log.duration_ms,
                        "exchanges": len(log.exchanges or []),
                        "exchanges_sha256": hashlib.sha256(exchanges.encode()).hexdigest()})


def admin_action_logged(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """A staff action through the admin (actions, mapping edits) on a model of the sync apps."""
    entry = instance
    if not created or raw or entry.content_type is None or entry.content_type.app_label not in SYNC_APPS:
        return
    model = entry.content_type.model_class()
    connection_id = None
    if model is not None:
        if model._meta.label_lower == "connectors.connection":
            connection_id = int(entry.object_id) if str(entry.object_id).isdigit() else None
        elif any(f.name == "connection" for f in model._meta.fields):
            connection_id = model._default_manager.filter(pk=entry.object_id).values_list(
                "connection_id", flat=True).first()
    action = {1: "addition", 2: "change", 3: "deletion"}.get(entry.action_flag, str(entry.action_flag))
    append(AuditKind.STAFF, actor=entry.user.get_username() if entry.user_id else "",
           connection_id=connection_id, connection_name=_connection_name(connection_id),
           source_key=f"{entry.content_type.app_label}.{entry.content_type.model}:{entry.object_id}",
           entity=entry.content_type.model, operation=f"admin {action}", outcome="done",
           detail={"object": entry.object_repr, "change": entry.get_change_message(), "admin_log": entry.pk})


def _connection_name(connection_id: int | None) -> str:
    if connection_id is None:
        return ""
    return Connection.objects.filter(pk=connection_id).values_list("name", flat=True).first() or ""


def connect() -> None:
    post_save.connect(sync_log_written, sender=SyncLog, dispatch_uid="accounting_sync.audit.sync_log")
    post_save.connect(admin_action_logged, sender=LogEntry, dispatch_uid="accounting_sync.audit.admin_log")
    logs_written_together.connect(sync_logs_written, dispatch_uid="accounting_sync.audit.sync_logs")
