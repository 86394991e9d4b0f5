"""Evaluation: what needs a person now, as incidents opened, updated and resolved idempotently.

``evaluate()`` runs every minute (a Schedule, migration 0021) and from ``accounting_sync_alerts --evaluate``. It
looks at the current state in a handful of aggregate queries, whatever the size of the outbox:

- connections that need reconnecting, or are paused by a spent rate budget (one query on connections);
- entries needing attention, failed, or retrying after several failed attempts, counted per connection (one);
- open reconciliation variances that need a person, counted per connection (one);
- the task queue: schedules of this app overdue, saved changes the dispatcher has not taken in (two);
- the open incidents (one).

Each problem found is an ``Observation`` keyed by (connection, kind, key). One not open yet opens an incident
(its insert races safely with another worker's through the partial unique index ``one_open_incident``); one open
already moves ``last_seen_at``; an open incident no longer found is resolved by one conditional UPDATE, which only
one worker can win. Notices are then delivered by ``notify.deliver`` under a per-incident claim, so each
opening and each resolution is announced once per channel however many workers evaluate.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone
from django_q.models import Schedule

from connectors.models import Connection, ConnectionStatus

from .. import conf
from ..models import EntryStatus, OutboxChange, OutboxEntry
from ..reconcile.models import Variance, VarianceStatus
from . import notify
from .models import Incident, IncidentKind

log = logging.getLogger(__name__)

#: Schedules whose function lives here: one overdue means no cluster's scheduler is running.
SCHEDULE_PREFIX = "accounting_sync."


@dataclasses.dataclass(frozen=True)
class Observation:
    """One problem as an evaluation found it."""

    connection_id: int | None
    kind: str
    title: str
    detail: str = ""
    hint: str = ""
    value: int = 0
    key: str = ""

    @property
    def ident(self) -> tuple[int | None, str, str]:
        return self.connection_id, self.kind, self.key


@dataclasses.dataclass
class Result:
    opened: list[int] = dataclasses.field(default_factory=list)
    resolved: list[int] = dataclasses.field(default_factory=list)
    still_open: int = 0
    delivered: int = 0

    def __str__(self) -> str:
        return (f"{len(self.opened)} opened, {len(self.resolved)} resolved, {self.still_open} still open, "
                f"{self.delivered} notices delivered")


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def enabled(kind: str) -> bool:
    kinds = conf.get("ALERT_KINDS")
    return kinds is None or kind in kinds


# -- what is wrong now --------------------------------------------------------------------------------------------
def observe_connections(now: dt.datetime) -> list[Observation]:
    """Connections needing reconnecting, and connections paused because their rate budget is spent (the shared
    budget stayed full for as long as a worker may wait, or the platform answered 429): one query."""
    found = []
    rows = (Connection.objects.filter(Q(status=ConnectionStatus.NEEDS_REAUTH)
                                      | Q(status=ConnectionStatus.ACTIVE, paused_until__gt=now))
            .values("pk", "name", "status", "status_message", "paused_until"))
    for row in rows:
        if row["status"] == ConnectionStatus.NEEDS_REAUTH:
            if enabled(IncidentKind.REAUTH):
                found.append(Observation(
                    row["pk"], IncidentKind.REAUTH, f"{row['name']}: needs reconnecting",
                    detail=row["status_message"] or "The platform refused the connection's consent.",
                    hint="Django admin → Connections → the connection → Connect, and sign in to the platform "
                         "again. Its documents wait meanwhile; none is lost."))
        elif enabled(IncidentKind.RATE_BUDGET):
            found.append(Observation(
                row["pk"], IncidentKind.RATE_BUDGET, f"{row['name']}: rate budget exhausted",
                detail=f"{row['status_message'] or 'Paused by the rate limit.'} "
                       f"Paused until {row['paused_until']:%Y-%m-%d %H:%M:%S} UTC.",
                hint="Nothing is lost: work resumes when the pause ends. If it keeps happening, spread large "
                     "resyncs out or lower this connection's share (settings \"rate_limits\")."))
    return found


def observe_entries(now: dt.datetime) -> list[Observation]:
    """Entries needing attention and failing entries (retries exhausted, or still retrying after
    ``ALERT_FAILURE_ATTEMPTS`` failed attempts in a row), per active connection: one aggregate query."""
    attention_at = int(conf.get("ALERT_ATTENTION_THRESHOLD") or 0)
    failure_at = int(conf.get("ALERT_FAILURE_THRESHOLD") or 0)
    attempts = max(1, int(conf.get("ALERT_FAILURE_ATTEMPTS")))
    want_attention = attention_at > 0 and enabled(IncidentKind.ATTENTION)
    want_failures = failure_at > 0 and enabled(IncidentKind.FAILURES)
    if not (want_attention or want_failures):
        return []
    attention_q = Q(status=EntryStatus.NEEDS_ATTENTION)
    failing_q = Q(status=EntryStatus.FAILED) | Q(status__in=[EntryStatus.PENDING, EntryStatus.IN_PROGRESS],
                                                 attempts__gte=attempts)
    rows = (OutboxEntry.objects.filter(attention_q | failing_q)
            .exclude(connection__status=ConnectionStatus.DISABLED)
            .values("connection_id", "connection__name")
            .annotate(attention=Count("pk", filter=attention_q),
                      failed=Count("pk", filter=Q(status=EntryStatus.FAILED)),
                      failing=Count("pk", filter=failing_q), attempts=Max("attempts", filter=failing_q)))
    found = []
    for row in rows:
        name = row["connection__name"]
        if want_attention and row["attention"] >= attention_at:
            n = row["attention"]
            found.append(Observation(
                row["connection_id"], IncidentKind.ATTENTION,
                f"{name}: {_plural(n, 'entry needs', 'entries need')} attention", value=n,
                detail=f"{_plural(n, 'document')} stopped with a problem the platform or the checks found "
                       f"(a mapping, a closed period, missing data).",
                hint="Django admin → Accounting sync → Attention needed: each entry says why and how to fix it, "
                     "then retry it."))
        if want_failures and row["failing"] >= failure_at:
            n, failed = row["failing"], row["failed"]
            found.append(Observation(
                row["connection_id"], IncidentKind.FAILURES, f"{name}: {_plural(n, 'entry', 'entries')} failing",
                value=n,
                detail=f"Retries exhausted: {failed}; still retrying: {n - failed} (the most failed attempts in a "
                       f"row: {row['attempts']}).",
                hint="The platform or the network keeps failing: look at the last error in the sync log. Failed "
                     "entries need a retry (admin action, or accounting_sync_retry) once the cause is gone."))
    return found


def observe_variances(now: dt.datetime) -> list[Observation]:
    """Open reconciliation variances that need a person (alarms), per connection: one aggregate query."""
    if not enabled(IncidentKind.VARIANCE):
        return []
    rows = (Variance.objects.filter(status=VarianceStatus.OPEN, alarm=True)
            .exclude(connection__status=ConnectionStatus.DISABLED)
            .values("connection_id", "connection__name").annotate(n=Count("pk")))
    return [Observation(
        row["connection_id"], IncidentKind.VARIANCE,
        f"{row['connection__name']}: {_plural(row['n'], 'reconciliation variance')}", value=row["n"],
        detail="The platform's books and ours differ on documents that reached it (deleted, voided or edited "
               "there, payments missing on one side, duplicates).",
        hint="Django admin → Accounting sync → Reconciliation runs → report: each variance has its reason and "
             "the action to take.") for row in rows]


def observe_queue(now: dt.datetime) -> list[Observation]:
    """The task queue is stopped when a schedule of this app is overdue (no cluster's scheduler is running) or
    a saved change has waited for the dispatcher for ``ALERT_QUEUE_STALL_MINUTES``: two queries.

    An evaluation run by the cluster itself cannot see its own cluster stop: run ``accounting_sync_alerts
    --evaluate`` from cron as well (it is safe beside the schedule)."""
    minutes = float(conf.get("ALERT_QUEUE_STALL_MINUTES") or 0)
    if minutes <= 0 or not enabled(IncidentKind.QUEUE):
        return []
    cutoff = now - dt.timedelta(minutes=minutes)
    overdue = (Schedule.objects.filter(func__startswith=SCHEDULE_PREFIX, next_run__lt=cutoff).exclude(repeats=0)
               .aggregate(n=Count("pk"), since=Min("next_run")))
    waiting = OutboxChange.objects.filter(created_at__lt=cutoff).aggregate(n=Count("pk"), since=Min("created_at"))
    if not overdue["n"] and not waiting["n"]:
        return []
    parts = []
    if overdue["n"]:
        parts.append(f"{_plural(overdue['n'], 'scheduled task')} of accounting sync overdue since "
                     f"{overdue['since']:%Y-%m-%d %H:%M} UTC")
    if waiting["n"]:
        parts.append(f"{_plural(waiting['n'], 'saved change')} not picked up since "
                     f"{waiting['since']:%Y-%m-%d %H:%M} UTC")
    return [Observation(
        None, IncidentKind.QUEUE, "The task queue seems to be stopped", value=overdue["n"] + waiting["n"],
        detail="; ".join(parts) + ".",
        hint="Start the workers (manage.py qcluster) and check their log. Nothing is lost: the outbox keeps every "
             "change and the workers take them in when they run.")]


def observe(now: dt.datetime | None = None) -> list[Observation]:
    """Every problem there is now."""
    now = now or timezone.now()
    return [*observe_connections(now), *observe_entries(now), *observe_variances(now), *observe_queue(now)]


# -- incidents ----------------------------------------------------------------------------------------------------
def _ident(incident: Incident) -> tuple[int | None, str, str]:
    return incident.connection_id, incident.kind, incident.key


def resolve_after(kind: str) -> dt.timedelta:
    """How long an incident of ``kind`` must go unseen before it clears (a rate pause comes and goes: without a
    quiet period a busy connection would open and clear an incident every few minutes)."""
    minutes = (conf.get("ALERT_RESOLVE_AFTER_MINUTES") or {}).get(kind, 0)
    return dt.timedelta(minutes=float(minutes or 0))


def open_incident(obs: Observation, now: dt.datetime) -> Incident | None:
    """Open an incident for ``obs``; None when another worker opened it first (the unique index says so)."""
    try:
        with transaction.atomic():
            return Incident.objects.create(
                connection_id=obs.connection_id, kind=obs.kind, key=obs.key, title=obs.title[:300], detail=obs.detail,
                hint=obs.hint[:500], value=obs.value, peak=obs.value, opened_at=now, last_seen_at=now)
    except IntegrityError:
        return None


def apply(observations: list[Observation], now: dt.datetime | None = None) -> Result:
    """Open, update and resolve incidents so the open ones are exactly the ``observations`` (idempotent)."""
    now = now or timezone.now()
    result = Result()
    found = {obs.ident: obs for obs in observations}
    open_now = {_ident(i): i for i in Incident.objects.filter(resolved_at__isnull=True)}

    for ident, obs in found.items():
        if ident not in open_now:
            incident = open_incident(obs, now)
            if incident is not None:
                result.opened.append(incident.pk)
                log.warning("alert opened: %s", incident.title)

    seen = [i for ident, i in open_now.items() if ident in found]
    if seen:
        Incident.objects.filter(pk__in=[i.pk for i in seen], resolved_at__isnull=True).update(
            last_seen_at=now, seen=F("seen") + 1)
    for incident in seen:
        obs = found[_ident(incident)]
        if (obs.value, obs.title[:300], obs.detail) != (incident.value, incident.title, incident.detail):
            Incident.objects.filter(pk=incident.pk).update(
                value=obs.value, peak=max(incident.peak, obs.value), title=obs.title[:300], detail=obs.detail)
    result.still_open = len(seen)

    gone = [i for ident, i in open_now.items()
            if ident not in found and i.last_seen_at <= now - resolve_after(i.kind)]
    for incident in gone:
        # Only one worker's conditional UPDATE matches: that one resolution is announced once.
        if Incident.objects.filter(pk=incident.pk, resolved_at__isnull=True).update(resolved_at=now, notices_due=True):
            result.resolved.append(incident.pk)
            log.warning("alert resolved: %s", incident.title)
    result.still_open += len(open_now) - len(seen) - len(gone)
    return result


def evaluate() -> Result:
    """Look, update incidents, deliver due notices (the scheduled task; safe to run from several workers)."""
    now = timezone.now()
    result = apply(observe(now), now)
    result.delivered = notify.deliver()
    return result
