"""The integration dashboard: the app's landing page in the admin (``/admin/accounting_sync/``) and, on the
standalone site, the top of the admin index.

What it shows, for a user with ``accounting_sync.view_dashboard``:

- per connection: status, last success, entries pending / in progress / held / needing attention / failed, token
  or session expiry, rate budgets used now (and the daily one where the platform has a daily limit), attempts
  logged today, the last reconciliation and its open variances;
- the action items: entries that need a person, with the error, the hint, links to what fixes them and a
  one-click retry (for those who may retry), and open alert incidents;
- charts drawn on the server (``charts``): documents synced per day, failures by reason, open variances per day.

``context(user)`` builds all of it; the template tag ``{% accounting_sync_dashboard %}``
(``accounting_sync.templatetags.accounting_sync_dashboard``) renders it inside any admin template, so a host puts it
on its own admin index with one line (docs/host-integration.md).
"""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, Max, Q
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from connectors import budget
from connectors.models import Connection, ConnectionStatus

from ..alerts.models import Incident
from ..models import EntryStatus, OutboxEntry, Outcome, SyncLog
from ..permissions import allowed
from ..policies.preflight import fixes
from ..reconcile.models import ReconciliationRun, Variance, VarianceStatus
from . import charts
from ..adminkit import readable
from .status import stalled, waiting_changes

DAYS = 14  # how far back the charts look
ACTION_ITEMS = 25  # entries listed under "needs a person" (the attention list has them all)
FAILED_OUTCOMES = (Outcome.ATTENTION, Outcome.FAILED, Outcome.RETRY, Outcome.AUTH, Outcome.CONFLICT)


def context(user, *, today: dt.date | None = None) -> dict:
    """Everything the dashboard shows, for ``user`` (who may act only where their permissions say)."""
    now = timezone.now()
    today = today or timezone.localdate(now)
    connections = list(Connection.objects.order_by("name"))
    return {
        "connections": [_health(conn, now, today) for conn in _counted(connections)],
        "action_items": _action_items(),
        "attention_total": OutboxEntry.objects.filter(
            status__in=[EntryStatus.NEEDS_ATTENTION, EntryStatus.FAILED]).count(),
        "incidents": list(Incident.objects.filter(resolved_at__isnull=True).select_related("connection")
                          .order_by("-opened_at")[:10]),
        "stalled": [text for text in (stalled(n, oldest) for n, oldest in waiting_changes().values()) if text],
        "charts": {
            "synced": charts.bars(synced_per_day(today), f"Documents synced per day, last {DAYS} days"),
            "failures": charts.hbars(failures_by_reason(now), f"Failures by reason, last {DAYS} days"),
            "variances": charts.line(open_variances_per_day(today), f"Open variances at the end of each day, "
                                                                   f"last {DAYS} days"),
        },
        "can_sync": allowed(user, "sync"),
        "can_reconcile": allowed(user, "reconcile"),
        "links": {
            "attention": reverse("admin:accounting_sync_attentionentry_changelist"),
            "outbox": reverse("admin:accounting_sync_outboxentry_changelist"),
            "logs": reverse("admin:accounting_sync_synclog_changelist"),
            "report": reverse("admin:accounting_sync_reconciliation_report"),
            "incidents": reverse("admin:accounting_sync_incident_changelist"),
        },
    }


def _counted(connections: list[Connection]) -> list[Connection]:
    """The connections with their entries counted by state (one query)."""
    def by(*statuses):
        return Count("pk", filter=Q(status__in=statuses))

    rows = (OutboxEntry.objects.filter(connection__in=connections).values("connection_id")
            .annotate(pending=Count("pk", filter=Q(status=EntryStatus.PENDING) & ~Q(error_code="held")),
                      in_progress=by(EntryStatus.IN_PROGRESS),
                      held=Count("pk", filter=Q(error_code="held", status__in=[EntryStatus.PENDING,
                                                                                EntryStatus.WAITING])),
                      needs_attention=by(EntryStatus.NEEDS_ATTENTION), failed=by(EntryStatus.FAILED),
                      done=by(EntryStatus.DONE)))
    counts = {r["connection_id"]: r for r in rows}
    last = dict(SyncLog.objects.filter(connection__in=connections, outcome=Outcome.SUCCESS)
                .values_list("connection_id").annotate(at=Max("created_at")).values_list("connection_id", "at"))
    for conn in connections:
        conn.counts = counts.get(conn.pk, {})
        conn.last_success = last.get(conn.pk)
    return connections


def _health(conn: Connection, now: dt.datetime, today: dt.date) -> dict:
    counts = conn.counts
    try:
        usage = budget.usage(conn, conn.connector_class())
    except Exception:  # noqa: BLE001 - a platform no longer installed: its row says so, the page still renders
        usage = []
    run = ReconciliationRun.objects.filter(connection=conn).order_by("-started_at").first()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    light, words = _light(conn, counts, now)
    return {
        "connection": conn, "light": light, "words": words,
        "change_url": reverse("admin:connectors_connection_change", args=[conn.pk]),
        "pending": counts.get("pending", 0), "in_progress": counts.get("in_progress", 0),
        "held": counts.get("held", 0), "needs_attention": counts.get("needs_attention", 0),
        "failed": counts.get("failed", 0), "done": counts.get("done", 0), "last_success": conn.last_success,
        "expires": conn.refresh_expires_at or conn.access_expires_at,
        "budgets": [dict(u, percent=min(100, round(100 * u["used"] / u["allowed"])),
                         label=_budget_label(u)) for u in usage],
        "attempts_today": SyncLog.objects.filter(connection=conn, created_at__gte=start).count(),
        "reconciliation": run,
        "open_variances": Variance.objects.filter(connection=conn, status=VarianceStatus.OPEN).count(),
        "open_alarms": Variance.objects.filter(connection=conn, status=VarianceStatus.OPEN, alarm=True).count(),
    }


def _light(conn: Connection, counts: dict, now: dt.datetime) -> tuple[str, str]:
    """A traffic light and the words for it: red when nothing can go out or a person is needed, amber while
    paused or failing, green otherwise."""
    if conn.status != ConnectionStatus.ACTIVE:
        return "red", conn.status_message or conn.get_status_display()
    if conn.paused_until and conn.paused_until > now:
        return "amber", f"paused by the platform's rate limit until {conn.paused_until:%H:%M} UTC"
    if counts.get("needs_attention"):
        return "red", "documents need a person"
    if counts.get("failed"):
        return "amber", "documents failed after their retries"
    return "green", "syncing"


def _budget_label(u: dict) -> str:
    if u["kind"] == budget.CONCURRENT:
        return f"in flight: {u['used']} of {u['allowed']}"
    window = u["window_s"]
    span = "a day" if window >= 86400 else "an hour" if window >= 3600 else f"{window:g} s"
    return f"{u['kind']}: {u['used']} of {u['allowed']} per {span}"


def _action_items() -> list[dict]:
    entries = (OutboxEntry.objects.filter(status__in=[EntryStatus.NEEDS_ATTENTION, EntryStatus.FAILED])
               .select_related("connection").order_by("-updated_at")[:ACTION_ITEMS])
    return [{"entry": e, "name": readable(e.source_key, e.label), "fixes": fixes(e),
             "url": reverse("admin:accounting_sync_outboxentry_change", args=[e.pk]),
             "retry_url": reverse("admin:accounting_sync_outboxentry_retry_one", args=[e.pk])} for e in entries]


def _days(today: dt.date) -> list[dt.date]:
    return [today - dt.timedelta(days=n) for n in range(DAYS - 1, -1, -1)]


def synced_per_day(today: dt.date) -> list[tuple[str, int]]:
    """Documents the platforms took (successful attempts) per day, oldest first, days without any included."""
    days = _days(today)
    start = timezone.make_aware(dt.datetime.combine(days[0], dt.time.min))
    counted = dict(SyncLog.objects.filter(outcome=Outcome.SUCCESS, created_at__gte=start)
                   .annotate(day=TruncDate("created_at")).values("day").annotate(n=Count("pk"))
                   .values_list("day", "n"))
    return [(f"{day:%d %b}", counted.get(day, 0)) for day in days]


def failures_by_reason(now: dt.datetime) -> list[tuple[str, int]]:
    """Failed attempts of the last ``DAYS`` days by our error code (what went wrong, in words)."""
    rows = (SyncLog.objects.filter(outcome__in=FAILED_OUTCOMES, created_at__gte=now - dt.timedelta(days=DAYS))
            .values("error_code", "outcome").annotate(n=Count("pk")))
    found: dict[str, int] = {}
    for r in rows:
        reason = (r["error_code"] or Outcome(r["outcome"]).label).replace("_", " ")
        found[reason] = found.get(reason, 0) + r["n"]
    return sorted(found.items(), key=lambda item: -item[1])


def open_variances_per_day(today: dt.date) -> list[tuple[str, int]]:
    """How many variances were open at the end of each day (one query, a count per day)."""
    days = _days(today)
    ends = {f"d{i}": timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
            for i, day in enumerate(days)}
    counts = Variance.objects.aggregate(**{
        name: Count("pk", filter=Q(first_seen_at__lt=end) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=end)))
        for name, end in ends.items()})
    if not any(counts.values()):
        return []
    return [(f"{day:%d %b}", counts[f"d{i}"]) for i, day in enumerate(days)]
