"""The scheduled side of reconciliation: an incremental run per connection every few minutes."""
from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors.models import Connection, ConnectionStatus

from .. import conf
from ..models import EntryStatus, OutboxEntry
from .engine import run
from .models import ReconciliationRun, RunKind

log = logging.getLogger(__name__)


def due_connections(now: dt.datetime | None = None) -> list[Connection]:
    """Active connections due for their scheduled run (``is_due``: once in each of their intervals,
    ``settings["reconcile_interval_minutes"]``, else ``ACCOUNTING_SYNC["RECONCILE_INTERVAL_MINUTES"]``; 0 = never),
    except those draining a backlog (``draining``)."""
    now = now or timezone.now()
    due = []
    for conn in Connection.objects.filter(status=ConnectionStatus.ACTIVE):
        minutes = interval_minutes(conn)
        if minutes <= 0 or conn.is_paused():
            continue
        last = _last_start(conn)
        if is_due(conn, last, now, minutes) and not draining(conn, last, now):
            due.append(conn)
    return due


def phase(conn: Connection, minutes: float) -> float:
    """Where in each interval the connection's run falls, in seconds from the interval's start: fixed per connection
    and spread evenly over the interval by its id (the golden ratio's multiples modulo 1), so that companies connected
    in the same minute (a host moving its customers over at once) are not all reconciled in the same pass every time."""
    return (conn.pk * 0.6180339887498949) % 1.0 * minutes * 60


def is_due(conn: Connection, last: dt.datetime | None, now: dt.datetime, minutes: float) -> bool:
    """Whether the connection's scheduled run is due: the connection's intervals begin at its ``phase`` (counted from
    the epoch); a run is due once in each, from its beginning on. The first waits for the first interval that begins
    after the connection was made (within one interval of it). A run that started late in an interval (a long pass)
    is followed by the next one at least half an interval later, after which runs are back at the phase."""
    interval = minutes * 60
    began = now - dt.timedelta(seconds=(now.timestamp() - phase(conn, minutes)) % interval)
    if last is None:
        return conn.created_at <= began
    return last < began and last <= now - dt.timedelta(seconds=interval / 2)


def interval_minutes(conn: Connection) -> float:
    return float((conn.settings or {}).get("reconcile_interval_minutes", conf.get("RECONCILE_INTERVAL_MINUTES")))


def _last_start(conn: Connection) -> dt.datetime | None:
    return ReconciliationRun.objects.filter(connection=conn).order_by("-started_at").values_list(
        "started_at", flat=True).first()


def claim(conn: Connection) -> ReconciliationRun | None:
    """Start ``conn``'s scheduled run: its record, written only if the run is still due (no run started meanwhile;
    looked at again under a lock of the connection's row, ``SKIP LOCKED``: a pass that holds it is claiming it);
    None when another pass has it. A pass takes longer than the minute between passes when many companies are due
    (a few requests each, at the platform's latency), so the next pass starts while it runs and walks the same due
    list: each connection is reconciled by whichever pass claims it first, not by both."""
    with transaction.atomic():
        if not Connection.lock_unless_held(conn.pk):
            return None
        minutes = interval_minutes(conn)
        if minutes <= 0 or not is_due(conn, _last_start(conn), timezone.now(), minutes):
            return None
        return ReconciliationRun.objects.create(connection=conn, kind=RunKind.INCREMENTAL)


def draining(conn: Connection, last: dt.datetime | None, now: dt.datetime) -> bool:
    """The connection has more than ``RECONCILE_DEFER_BACKLOG`` documents due to be sent, and its last run is
    younger than ``RECONCILE_DEFER_MAX_MINUTES``: the scheduled run waits, so that the platform's request budget
    goes to sending them first (reading back what was just sent would take a share of it). Nothing is missed: the
    next run starts from the last one's cursor, and documents still in the outbox are "not synced yet" anyway."""
    backlog = int(conf.get("RECONCILE_DEFER_BACKLOG"))
    waiting_since = last or conn.created_at  # a first run waits from when the connection was made
    if backlog <= 0 or waiting_since <= now - dt.timedelta(minutes=float(conf.get("RECONCILE_DEFER_MAX_MINUTES"))):
        return False
    due = OutboxEntry.objects.filter(Q(status=EntryStatus.PENDING, next_attempt_at__lte=now)
                                     | Q(status=EntryStatus.IN_PROGRESS), connection=conn)
    return due[:backlog + 1].count() > backlog


def reconcile_due() -> int:
    """Run an incremental reconciliation of every due connection that no other pass has claimed (scheduled every
    minute); returns how many this pass ran."""
    ran = 0
    for conn in due_connections():
        record = claim(conn)
        if record is None:
            continue
        ran += 1
        try:
            run(conn, RunKind.INCREMENTAL, record=record)
        except Exception:  # a bug met on one connection (the run says so) must not keep the others waiting
            log.exception("incremental reconciliation of %s failed", conn)
    prune()
    return ran


def prune(now: dt.datetime | None = None) -> int:
    """Delete runs older than ``RECONCILE_KEEP_DAYS`` (their totals go with them; variances stay)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=float(conf.get("RECONCILE_KEEP_DAYS")))
    deleted, _ = ReconciliationRun.objects.filter(started_at__lt=cutoff).delete()
    return deleted
