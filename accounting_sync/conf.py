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
    "REFERENCE_DATA_TTL_SECONDS": 3600,
    "QUEUE_TASKS": True,
    "PULL_INTERVAL_MINUTES": 5,  # polling for platform changes, per connection (settings["pull_interval_minutes"])
    "WEBHOOK_SECRETS": {},  # platform id -> the app's webhook verifier token or key on that platform
    "RECONCILE_INTERVAL_MINUTES": 5,  # incremental reconciliation per connection (0 = only on demand)
    "RECONCILE_KEEP_DAYS": 90,  # reconciliation runs older than this are deleted (variances stay)
}


def get(name: str):
    return getattr(settings, "ACCOUNTING_SYNC", {}).get(name, DEFAULTS[name])
