"""Connection health at a glance: used by the admin dashboard, ``accounting_sync_status`` and the API."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from connectors.models import Connection

from ..models import EntryStatus, OutboxChange, OutboxEntry, Outcome, SyncLog
from ..reconcile import metrics


def waiting_changes() -> dict[int, tuple[int, object]]:
    """Per connection: saved changes the dispatcher has not taken in yet, and when the oldest was saved. With a
    running cluster they last a fraction of a second; old ones mean no dispatcher is running."""
    rows = OutboxChange.objects.values("connection_id").annotate(n=Count("pk"), oldest=Min("created_at"))
    return {r["connection_id"]: (r["n"], r["oldest"]) for r in rows}


STALL_SECONDS = 120


def stalled(count: int, oldest) -> str:
    """A line for staff when saved changes have waited longer than a dispatcher ever takes; else ''."""
    if not count or oldest is None or timezone.now() - oldest < dt.timedelta(seconds=STALL_SECONDS):
        return ""
    return (f"{count} saved change{'' if count == 1 else 's'} not picked up since {oldest:%Y-%m-%d %H:%M} UTC: "
            f"is the task queue (manage.py qcluster) running?")


def held(connection_ids) -> dict[int, dict]:
    """Per connection: documents its trigger rules hold, by reason, and the next batch window (when it opens and
    how many documents it will send then)."""
    found: dict[int, dict] = {}
    rows = (OutboxEntry.objects.filter(connection_id__in=connection_ids, error_code="held")
            .exclude(status__in=[EntryStatus.DONE, EntryStatus.IN_PROGRESS])
            .values("connection_id", "hint").annotate(n=Count("pk")))
    for r in rows:
        found.setdefault(r["connection_id"], {"waiting": {}, "next_batch": None})["waiting"][r["hint"]] = r["n"]
    batches = (OutboxEntry.objects.filter(connection_id__in=connection_ids, status=EntryStatus.PENDING,
                                          hold_until__gt=timezone.now())
               .values("connection_id").annotate(at=Min("hold_until")))
    for r in batches:
        count = OutboxEntry.objects.filter(connection_id=r["connection_id"], status=EntryStatus.PENDING,
                                           hold_until=r["at"]).count()
        found.setdefault(r["connection_id"], {"waiting": {}, "next_batch": None})["next_batch"] = {
            "at": r["at"], "documents": count}
    return found


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
    waiting = waiting_changes()
    holding = held([conn.pk for conn in counts])
    rows = []
    for conn in counts:
        rows.append({
            "id": conn.pk, "name": conn.name, "platform": conn.platform, "status": conn.status,
            "status_message": conn.status_message, "auto_sync": conn.auto_sync,
            "pending": conn.pending, "waiting_changes": waiting.get(conn.pk, (0, None))[0],
            "oldest_waiting_change": waiting.get(conn.pk, (0, None))[1], "failed": conn.failed,
            "needs_attention": conn.needs_attention,
            "synced": conn.synced,
            "last_success": last_success.get(conn.pk), "token_expires_at": conn.access_expires_at,
            "refresh_token_expires_at": conn.refresh_expires_at, "paused_until": conn.paused_until,
            "metrics": metrics.for_connections([conn.pk]),
            "held": holding.get(conn.pk, {"waiting": {}, "next_batch": None}),
        })
    return rows
