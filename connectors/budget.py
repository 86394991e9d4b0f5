"""A rate budget per connection shared by all workers, so a company's limits are kept, not bounced off.

Platforms limit requests per company (QBO: 500 a minute and 40 batches a minute; Xero: 60 a minute and 5,000 a
day). Every worker process of every cluster that talks to the same company counts its requests in one
sliding window per request kind, stored in the database row ``RateBudget`` and updated under a row lock. The
window is kept as 60 slots (a sixtieth of the window each); a request is allowed while the slots that may still
lie inside the window hold fewer than ``SHARE`` of the published limit. A slot is dropped only once all of it is
older than the window, so no window of the platform's length ever sees more than the limit, and a burst (a
demo, the first minutes of a resync) may use the whole share at once.

Platforms also limit requests in flight at once per company (QBO: 10; Xero: 5). A request holds one of those
slots from just before it is sent until its response is read: the slots are kept in the same table (kind
``concurrent``, each with an expiry, so a worker killed mid-request gives its slot back after ``HOLD_SECONDS``),
and a request waits while all are held. ``throttle(kind)`` returns the callable that gives the slot back.

A connection paused by a 429 (``Connection.paused_until``) lets no request through: the throttle raises
``RateLimitedError`` at once, so in-flight work of other workers stops calling too.

Settings: ``ACCOUNTING_SYNC["RATE_BUDGET"] = False`` switches budgets off (benchmarks on loopback); a
connection's ``settings["rate_limits"]`` overrides its connector's ``rate_limits`` per kind
(``{"request": [100, 60]}``, ``{"concurrent": 4}``), and ``settings["rate_limits"] = false`` switches them off
for that connection.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.conf import settings as django_settings
from django.db import models, transaction
from django.utils import timezone

from .errors import RateLimitedError

# Of the published limit. A slot leaves the window only once all of it is older than the window (61 s in effect
# for a 60 s window), which already covers requests that arrive later than they were counted; the 5% left is
# headroom for the platform's own counting. At 0.95, 38 of QBO's 40 batches and 57 of Xero's 60 requests a minute
# go: 0.934 of the ceiling in steady state (0.885 at 0.9; docs/performance.md, "With network latency").
SHARE = 0.95
SLOTS = 60
MAX_WAIT = 30.0  # seconds one call may sleep for budget before giving the entry back to the queue
CONCURRENT = "concurrent"
#: The codes of the ``RateLimitedError`` ``throttle`` raises: the call was refused here, before its request went out.
REFUSED_BEFORE_SENDING = frozenset({"paused", "budget"})
HOLD_SECONDS = 150.0  # longer than any request may take (the task timeout is 120 s): then a slot is free again
SLOT_POLL = 0.1  # how often a request waiting for a free slot looks again


class RateBudget(models.Model):
    """Requests a connection made recently, per request kind, and its requests in flight (kind ``concurrent``),
    shared by every worker process. Defined here with the code that keeps it, so this module needs nothing from
    ``connectors.models`` (which re-exports it and builds each connection's throttle with ``throttle_for``)."""

    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="rate_budgets")
    kind = models.CharField(max_length=20)
    counts = models.JSONField(default=dict, help_text="Requests per time slot (a sixtieth of the window)")

    class Meta:
        app_label = "connectors"
        constraints = [models.UniqueConstraint(fields=["connection", "kind"], name="one_budget_per_kind")]

    def __str__(self) -> str:
        if self.kind == CONCURRENT:  # slot id -> when it expires
            return f"{self.connection}: {len(self.counts)} requests in flight"
        return f"{self.connection} {self.kind}: {sum(self.counts.values())} recent requests"


def limits_for(connection, connector_cls) -> dict[str, tuple[int, float]]:
    if not getattr(django_settings, "ACCOUNTING_SYNC", {}).get("RATE_BUDGET", True):
        return {}
    override = (connection.settings or {}).get("rate_limits")
    if override is False:
        return {}
    limits = dict(connector_cls.rate_limits)
    for kind, value in (override or {}).items():
        if kind == CONCURRENT:
            continue
        if value:
            limits[kind] = (int(value[0]), float(value[1]))
        else:
            limits.pop(kind, None)
    return limits


def concurrency_for(connection, connector_cls) -> int | None:
    """How many requests of this connection may be in flight at once; None when that is not limited."""
    if not getattr(django_settings, "ACCOUNTING_SYNC", {}).get("RATE_BUDGET", True):
        return None
    override = (connection.settings or {}).get("rate_limits")
    if override is False:
        return None
    if isinstance(override, dict) and CONCURRENT in override:
        return int(override[CONCURRENT]) if override[CONCURRENT] else None
    return connector_cls.concurrent_limit


def hold(connection_id: int, limit: int, clock: Callable[[], float] = time.time) -> tuple[str | None, float]:
    """Take one of ``limit`` in-flight slots: (slot id, 0), or (None, seconds until one may be free)."""
    with transaction.atomic():
        row, _ = RateBudget.objects.select_for_update().get_or_create(connection_id=connection_id, kind=CONCURRENT)
        now = clock()
        held = {slot: until for slot, until in (row.counts or {}).items() if until > now}
        slot = None
        if len(held) < limit:
            slot = uuid.uuid4().hex
            held[slot] = now + HOLD_SECONDS
        RateBudget.objects.filter(pk=row.pk).update(counts=held)
    return (slot, 0.0) if slot else (None, min(SLOT_POLL, max(0.01, min(held.values()) - now)))


def give_back(connection_id: int, slot: str) -> None:
    with transaction.atomic():
        row = RateBudget.objects.select_for_update().filter(connection_id=connection_id, kind=CONCURRENT).first()
        if row is not None and slot in (row.counts or {}):
            RateBudget.objects.filter(pk=row.pk).update(
                counts={s: until for s, until in row.counts.items() if s != slot})


def take(connection_id: int, kind: str, limit: int, window: float, clock: Callable[[], float] = time.time) -> float:
    """Count one request if the window allows it; returns 0, or the seconds to wait before it will."""
    allowed = max(1, int(limit * SHARE))
    slot = window / SLOTS
    with transaction.atomic():
        row, _ = RateBudget.objects.select_for_update().get_or_create(connection_id=connection_id, kind=kind)
        now = clock()
        current = int(now // slot)
        counts = {int(k): n for k, n in (row.counts or {}).items() if int(k) >= current - SLOTS}
        used = sum(counts.values())
        if used < allowed:
            counts[current] = counts.get(current, 0) + 1
            RateBudget.objects.filter(pk=row.pk).update(counts={str(k): n for k, n in counts.items()})
            return 0.0
        RateBudget.objects.filter(pk=row.pk).update(counts={str(k): n for k, n in counts.items()})
        # Wait until the oldest slot has left the window entirely.
        return max(0.01, (min(counts) + SLOTS + 1) * slot - now)


def usage(connection, connector_cls, clock: Callable[[], float] = time.time) -> list[dict]:
    """What the connection has used of each rate budget right now, for the dashboard: per kind (``request``,
    ``batch``, ``day``, ...) the requests counted in the current window, the share of the published limit the
    workers allow themselves (``SHARE``), the window in seconds, and for ``concurrent`` the requests in flight."""
    rows = {row.kind: row.counts or {} for row in RateBudget.objects.filter(connection_id=connection.pk)}
    now = clock()
    found = []
    for kind, (limit, window) in limits_for(connection, connector_cls).items():
        current = int(now // (window / SLOTS))
        used = sum(n for k, n in rows.get(kind, {}).items() if int(k) >= current - SLOTS)  # as take() counts
        found.append({"kind": kind, "used": used, "allowed": max(1, int(limit * SHARE)), "limit": limit,
                      "window_s": window})
    in_flight = concurrency_for(connection, connector_cls)
    if in_flight:
        held = sum(1 for until in rows.get(CONCURRENT, {}).values() if until > now)
        found.append({"kind": CONCURRENT, "used": held, "allowed": in_flight, "limit": in_flight, "window_s": None})
    return found


def throttle_for(connection, connector_cls, *, sleep: Callable[[float], None] = time.sleep):
    """The ``throttle(kind)`` callable a connector calls before each request. It waits for the rate budgets and,
    where the platform limits requests in flight, for a free slot; it returns the callable that frees that slot
    (the connector calls it once the response is read), or None."""
    connections = type(connection).objects  # the Connection model, from the row we were given
    limits = limits_for(connection, connector_cls)
    in_flight = concurrency_for(connection, connector_cls)
    connection_id = connection.pk

    def throttle(kind: str = "request") -> Callable[[], None] | None:
        paused = connections.filter(pk=connection_id).values_list("paused_until", flat=True).first()
        now = timezone.now()
        if paused and paused > now:
            raise RateLimitedError(f"{connection.name} is paused by the platform's rate limit until "
                                   f"{paused:%Y-%m-%d %H:%M:%S} UTC", retry_after=(paused - now).total_seconds(),
                                   code="paused")
        kinds = ["request"] + ([kind] if kind != "request" else [])
        for name in kinds:
            if name not in limits:
                continue
            waited = 0.0
            while (wait := take(connection_id, name, *limits[name])) > 0:
                if waited + wait > MAX_WAIT:
                    raise RateLimitedError(f"{connection.name}: the shared {name} budget is spent; trying later",
                                           retry_after=wait, code="budget")
                sleep(wait)
                waited += wait
        if not in_flight:
            return None
        waited = 0.0
        while True:
            slot, wait = hold(connection_id, in_flight)
            if slot:
                return lambda: give_back(connection_id, slot)
            if waited + wait > MAX_WAIT:
                raise RateLimitedError(f"{connection.name}: {in_flight} requests are already in flight; trying later",
                                       retry_after=5, code="budget")
            sleep(wait)
            waited += wait

    return throttle
