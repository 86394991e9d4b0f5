"""A rate budget per connection shared by all workers, so a company's limits are kept, not bounced off.

Platforms limit requests per company (QBO: 500 a minute and 40 batches a minute; Xero: 60 a minute and 5,000 a
day). Every worker process of every cluster that talks to the same company draws from one token bucket per
request kind, stored in the database row ``RateBudget`` and updated under a row lock. The bucket refills at
``FILL`` of the published rate and holds at most ``BURST`` of it, so even a burst at a window boundary stays
under the limit: burst + refill over one window = (BURST + FILL) x limit < limit.

A connection paused by a 429 (``Connection.paused_until``) lets no request through: the throttle raises
``RateLimitedError`` at once, so in-flight work of other workers stops calling too.

Settings: ``ACCOUNTING_SYNC["RATE_BUDGET"] = False`` switches budgets off (benchmarks on loopback); a
connection's ``settings["rate_limits"]`` overrides its connector's ``rate_limits`` per kind
(``{"request": [100, 60]}``), and ``settings["rate_limits"] = false`` switches them off for that connection.
"""
from __future__ import annotations

import time
from typing import Callable

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from .errors import RateLimitedError

BURST = 0.1
FILL = 0.8
MAX_WAIT = 30.0  # seconds one call may sleep for budget before giving the entry back to the queue


def limits_for(connection, connector_cls) -> dict[str, tuple[int, float]]:
    if not getattr(django_settings, "ACCOUNTING_SYNC", {}).get("RATE_BUDGET", True):
        return {}
    override = (connection.settings or {}).get("rate_limits")
    if override is False:
        return {}
    limits = dict(connector_cls.rate_limits)
    for kind, value in (override or {}).items():
        if value:
            limits[kind] = (int(value[0]), float(value[1]))
        else:
            limits.pop(kind, None)
    return limits


def take(connection_id: int, kind: str, limit: int, window: float, clock: Callable[[], float] = time.time) -> float:
    """Take one token if there is one; returns 0, or the seconds to wait before one will be there."""
    from .models import RateBudget

    rate = limit * FILL / window
    capacity = max(1.0, limit * BURST)
    with transaction.atomic():
        row, created = RateBudget.objects.select_for_update().get_or_create(
            connection_id=connection_id, kind=kind, defaults={"tokens": capacity, "updated": clock()})
        now = clock()
        tokens = min(capacity, row.tokens + max(0.0, now - row.updated) * rate)
        if tokens >= 1:
            RateBudget.objects.filter(pk=row.pk).update(tokens=tokens - 1, updated=now)
            return 0.0
        RateBudget.objects.filter(pk=row.pk).update(tokens=tokens, updated=now)
        return (1 - tokens) / rate


def throttle_for(connection, connector_cls, *, sleep: Callable[[float], None] = time.sleep):
    """The ``throttle(kind)`` callable a connector calls before each request; None when nothing limits it."""
    from .models import Connection

    limits = limits_for(connection, connector_cls)
    connection_id = connection.pk

    def throttle(kind: str = "request") -> None:
        paused = Connection.objects.filter(pk=connection_id).values_list("paused_until", flat=True).first()
        now = timezone.now()
        if paused and paused > now:
            raise RateLimitedError(f"{connection.name} is paused by the platform's rate limit until "
                                   f"{paused:%H:%M:%S}", retry_after=(paused - now).total_seconds())
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

    return throttle
