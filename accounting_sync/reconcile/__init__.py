"""Reconciliation: prove the books agree. One generic engine over the connectors' bulk read hook.

``run(connection, kind)`` compares every synced invoice, credit note and payment (a full run) or those changed
since the last run (an incremental run, on the platform's change feed) with what the platform holds, classifies
each variance with a reason and an action, and stores per-day and per-month totals of both sides. See
``docs/architecture.md`` ("Reconciliation").
"""
from __future__ import annotations

from .engine import run

__all__ = ["run"]
