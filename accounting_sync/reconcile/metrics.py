"""The three operational metrics, each with the definition staff read beside it.

- **Sync accuracy rate**: of the documents that reached the platform, the share that reconciliation found
  equal without a person touching them: no attempt that needed attention, conflicted or failed, and no
  variance that raised an alarm.
- **Time to reconcile**: for each document version that reconciliation found equal, the time from the local
  save to the run that proved it, as median and 95th percentile (over the versions proven in the window).
- **Manual-entry errors prevented**, per month: documents stopped by preflight before they reached the books,
  duplicates prevented (the platform already had the document, so it was adopted, not created again),
  rounding differences caught by reconciliation, and variances caught and then resolved.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Exists, OuterRef
from django.db.models.functions import TruncMonth
from django.utils import timezone

from connectors.errors import ConfigurationError, DataError

from ..models import ExternalReference, Outcome, SyncLog
from ..policies.preflight import JURISDICTION_CODE
from .models import DocumentCheck, Reason, Variance, VarianceStatus

DEFINITIONS = {
    "sync_accuracy_rate": "Documents that reached the platform and that reconciliation found equal without a "
                          "person touching them (no attempt needing attention, no conflict, no failure, no "
                          "alarm), over all documents that reached the platform.",
    "time_to_reconcile": "From the local save of a document version to the reconciliation run that found the "
                         "platform's copy equal: median and 95th percentile, in seconds, over the versions proven "
                         "in the last {days} days.",
    "errors_prevented": "Per month: documents stopped by preflight before reaching the books, duplicates "
                        "prevented (adopted instead of created twice), rounding differences caught, and "
                        "variances caught and resolved.",
}
DOCUMENTS = ("invoice", "credit_note", "payment")
HUMAN = (Outcome.ATTENTION, Outcome.CONFLICT, Outcome.FAILED)
#: Error codes of preflight's stops (a local data problem, a mapping or reference-data problem, a tax jurisdiction).
PREFLIGHT_CODES = (DataError.default_code, ConfigurationError.default_code, JURISDICTION_CODE)


def for_connections(connection_ids: list[int], days: int = 30, months: int = 12) -> dict:
    """The three metrics over ``connection_ids`` together, each as ``{"value"..., "definition": ...}``."""
    return {"sync_accuracy_rate": accuracy(connection_ids),
            "time_to_reconcile": time_to_reconcile(connection_ids, days),
            "errors_prevented": errors_prevented(connection_ids, months)}


def accuracy(connection_ids: list[int]) -> dict:
    reached = ExternalReference.objects.filter(connection_id__in=connection_ids, entity__in=DOCUMENTS).count()
    touched = SyncLog.objects.filter(connection_id=OuterRef("connection_id"), source_key=OuterRef("source_key"),
                                     outcome__in=HUMAN)
    alarmed = Variance.objects.filter(connection_id=OuterRef("connection_id"), source_key=OuterRef("source_key"),
                                      alarm=True)
    clean = (DocumentCheck.objects.filter(connection_id__in=connection_ids, equal=True, entity__in=DOCUMENTS)
             .exclude(Exists(touched)).exclude(Exists(alarmed)).count())
    return {"value": round(clean / reached, 4) if reached else None, "clean": clean, "reached": reached,
            "definition": DEFINITIONS["sync_accuracy_rate"]}


def time_to_reconcile(connection_ids: list[int], days: int = 30) -> dict:
    since = timezone.now() - dt.timedelta(days=days)
    rows = DocumentCheck.objects.filter(connection_id__in=connection_ids, equal_at__gte=since,
                                        committed_at__isnull=False).values_list("committed_at", "equal_at")
    seconds = sorted(max(0.0, (proven - committed).total_seconds()) for committed, proven in rows.iterator())
    return {"median_s": percentile(seconds, 50), "p95_s": percentile(seconds, 95), "versions": len(seconds),
            "definition": DEFINITIONS["time_to_reconcile"].format(days=days)}


def percentile(ordered: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil(n * pct / 100), at least the first
    return round(ordered[int(rank) - 1], 3)


def errors_prevented(connection_ids: list[int], months: int = 12) -> dict:
    start = (timezone.now() - dt.timedelta(days=31 * (months - 1))).replace(day=1, hour=0, minute=0, second=0,
                                                                             microsecond=0)
    logs = SyncLog.objects.filter(connection_id__in=connection_ids, created_at__gte=start)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(name: str, rows) -> None:
        for row in rows:
            counts[f"{row['month']:%Y-%m}"][name] += row["n"]

    by_month = dict(month=TruncMonth("created_at"))
    add("preflight_stops", logs.filter(outcome=Outcome.ATTENTION, error_code__in=PREFLIGHT_CODES)
        .annotate(**by_month).values("month").annotate(n=Count("source_key", distinct=True)))
    add("duplicates_prevented", logs.filter(outcome=Outcome.SUCCESS, operation__startswith="adopt")
        .annotate(**by_month).values("month").annotate(n=Count("pk")))
    variances = Variance.objects.filter(connection_id__in=connection_ids)
    add("rounding_caught", variances.filter(reason=Reason.ROUNDING, first_seen_at__gte=start)
        .annotate(month=TruncMonth("first_seen_at")).values("month").annotate(n=Count("pk")))
    add("variances_resolved", variances.filter(alarm=True, status=VarianceStatus.RESOLVED, resolved_at__gte=start)
        .annotate(month=TruncMonth("resolved_at")).values("month").annotate(n=Count("pk")))
    per_month = {month: {**{k: 0 for k in ("preflight_stops", "duplicates_prevented", "rounding_caught",
                                           "variances_resolved")}, **found, "total": sum(found.values())}
                 for month, found in sorted(counts.items())}
    return {"per_month": per_month, "definition": DEFINITIONS["errors_prevented"]}
