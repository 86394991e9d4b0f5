"""``ACCOUNTING_SYNC`` settings with defaults, read at call time so ``override_settings`` works."""
from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    "ENABLED": True,  # master switch for the save receivers
    "SOURCES": [],  # host models: [{"model": "app.Model", "adapter": "dotted.Adapter"}]
    "INCLUDE_LEDGER_SOURCES": True,  # register the ledger models too
    "CONNECTORS": {},  # platform id -> dotted connector class (adds or overrides)
    "LEASE_SECONDS": 300,  # how long a claimed entry is reserved for one worker
    "MAX_ATTEMPTS": 8,  # retryable failures before an entry turns "failed"
    "BACKOFF_BASE_SECONDS": 30,
    "BACKOFF_CAP_SECONDS": 3600,
    "DEPENDENCY_WAIT_SECONDS": 10,
    "SWEEP_BATCH": 500,  # entries enqueued per sweep
    # The sweeper leaves changes and due entries younger than this to the wake-up their save (or retry) sent.
    "SWEEP_GRACE_SECONDS": 30,
    # A backlog's chunks queued at once per connection on a broker that does not poll (Redis): each holds a worker.
    "CHAINS_PER_CONNECTION": 1,
    "REFERENCE_DATA_TTL_SECONDS": 3600,
    "QUEUE_TASKS": True,
    "PULL_INTERVAL_MINUTES": 5,  # polling for platform changes, per connection (settings["pull_interval_minutes"])
    "WEBHOOK_SECRETS": {},  # platform id -> the app's webhook verifier token or key on that platform
    "RECONCILE_INTERVAL_MINUTES": 5,  # incremental reconciliation per connection (0 = only on demand)
    "RECONCILE_KEEP_DAYS": 90,  # reconciliation runs older than this are deleted (variances stay)
    "RECONCILE_DEFER_BACKLOG": 200,  # due entries above which a connection's scheduled run waits (0 = never waits)
    "RECONCILE_DEFER_MAX_MINUTES": 60,  # ...but never longer than this after its last run
    # Alerts (docs/alerts.md)
    "ALERT_EMAILS": [],  # recipients of every incident and of the daily digest, besides each connection's own
    "ALERT_FROM_EMAIL": "",  # sender of alert emails ("" = DEFAULT_FROM_EMAIL)
    "ALERT_WEBHOOK": {},  # {"url": ..., "secret": ..., "timeout": 10}: a signed POST per opening and resolution
    "ALERT_KINDS": None,  # the incident kinds evaluated (None = all)
    "ALERT_ATTENTION_THRESHOLD": 1,  # entries needing attention on a connection that open an incident (0 = off)
    "ALERT_FAILURE_THRESHOLD": 1,  # failing entries on a connection that open an incident (0 = off)
    "ALERT_FAILURE_ATTEMPTS": 3,  # failed attempts in a row after which a retrying entry counts as failing
    "ALERT_QUEUE_STALL_MINUTES": 5,  # a schedule overdue or a saved change waiting this long: queue stopped (0 = off)
    "ALERT_RESOLVE_AFTER_MINUTES": {"rate_budget": 15},  # per kind: how long unseen before an incident clears
    "ALERT_DELIVERY_ATTEMPTS": 1440,  # evaluations at which a failing channel is retried before giving up
}


def get(name: str):
    return getattr(settings, "ACCOUNTING_SYNC", {}).get(name, DEFAULTS[name])
