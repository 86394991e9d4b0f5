"""Connection health at a glance: used by the admin dashboard, ``accounting_sync_status`` and the API."""
from __future__ import annotations

from django.db.models import Count, Max, Q

from connectors.models import Connection

from .models import EntryStatus, Outcome, SyncLog


def connection_health(queryset=None) -> list[dict]:
    queryset = queryset if queryset is not None else Connection.objects.all()
    counts = queryset.annotate(
        pending=Count("outbox", filter=Q(outbox__status__in=[EntryStatus.PENDING, EntryStatus.IN_PROGRESS])),
        failed=Count("outbox", filter=Q(outbox__status=EntryStatus.FAILED)),
        needs_attention=Count("outbox", filter=Q(outbox__status=EntryStatus.NEEDS_ATTENTION)),
        synced=Count("outbox", filter=Q(outbox__status=EntryStatus.DONE)),
    )
    last_success = dict(SyncLog.objects.filter(outcome=Outcome.SUCCESS).values_list("connection_id")
                        .annotate(at=Max("created_at")).values_list("connection_id", "at"))
    rows = []
    for conn in counts:
        rows.append({
            "id": conn.pk, "name": conn.name, "platform": conn.platform, "status": conn.status,
            "status_message": conn.status_message, "auto_sync": conn.auto_sync,
            "pending": conn.pending, "failed": conn.failed, "needs_attention": conn.needs_attention,
            "synced": conn.synced,
            "last_success": last_success.get(conn.pk), "token_expires_at": conn.access_expires_at,
            "refresh_token_expires_at": conn.refresh_expires_at, "paused_until": conn.paused_until,
        })
    return rows
