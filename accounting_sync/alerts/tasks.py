"""What the Schedules of migration 0021 run (each returns a line for the task's result in the admin)."""
from __future__ import annotations

from . import digest as digests
from . import engine


def evaluate() -> str:
    """Every minute: open, update and resolve incidents; deliver due notices."""
    return str(engine.evaluate())


def digest() -> str:
    """Daily: the digest of open and recently cleared incidents, one email per recipient."""
    return f"{digests.send_digest()} digest emails sent"
