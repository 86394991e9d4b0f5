"""The scheduled side of reconciliation: an incremental run per connection every few minutes."""
from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from connectors.models import Connection, ConnectionStatus

from .. import conf
from .engine import run
from .models import ReconciliationRun, RunKind

log = logging.getLogger(__name__)


def due_connections(now: dt.datetime | None = None) -> list[Connection]:
    """Active connections whose last run started longer ago than their interval
    (``settings["reconcile_interval_minutes"]``, else ``ACCOUNTING_SYNC["RECONCILE_INTERVAL_MINUTES"]``; 0 = never)."""
    now = now or timezone.now()
    due = []
    for conn in Connection.objects.filter(status=ConnectionStatus.ACTIVE):
        minutes = float((conn.settings or {}).get("reconcile_interval_minutes",
                                                  conf.get("RECONCILE_INTERVAL_MINUTES")))
        if minutes <= 0 or conn.is_paused():
            continue
        last = ReconciliationRun.objects.filter(connection=conn).order_by("-started_at").values_list(
            "started_at", flat=True).first()
        if last is None or last <= now - dt.timedelta(minutes=minutes):
            due.append(conn)
    return due


def reconcile_due() -> int:
    """Run an incremental reconciliation of every due connection (scheduled every minute); returns how many ran."""
    conns = due_connections()
    for conn in conns:
        try:
            run(conn, RunKind.INCREMENTAL)
        except Exception:  # a bug met on one connection (the run says so) must not keep the others waiting
            log.exception("incremental reconciliation of %s failed", conn)
    prune()
    return len(conns)


def prune(now: dt.datetime | None = None) -> int:
    """Delete runs older than ``RECONCILE_KEEP_DAYS`` (their totals go with them; variances stay)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=float(conf.get("RECONCILE_KEEP_DAYS")))
    deleted, _ = ReconciliationRun.objects.filter(started_at__lt=cutoff).delete()
    return deleted
