"""django-q2 task functions. Module-level, primary keys in, nothing long-running (no sleeps)."""
from __future__ import annotations

from . import conf, engine, outbox


def process_entry(entry_id: int) -> str | None:
    """Process one outbox entry if it is due and nobody else holds it."""
    return engine.process_entry(entry_id)


def sweep() -> int:
    """Re-enqueue due entries: lost tasks, crashed workers, expired backoff. Scheduled every minute."""
    ids = outbox.due_entries(conf.get("SWEEP_BATCH"))
    outbox.enqueue(ids)
    return len(ids)


def drain(connection_id: int | None = None, limit: int = 10_000) -> int:
    """Process every due entry in this process (demo ``--once``, commands, tests); returns how many ran."""
    from django.utils import timezone

    from .models import EntryStatus, OutboxEntry

    ran = 0
    while ran < limit:
        qs = OutboxEntry.objects.filter(status=EntryStatus.PENDING, next_attempt_at__lte=timezone.now())
        if connection_id:
            qs = qs.filter(connection_id=connection_id)
        ids = list(qs.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:200])
        progressed = [i for i in ids if engine.process_entry(i) is not None]
        ran += len(progressed)
        if not progressed:
            return ran
    return ran
