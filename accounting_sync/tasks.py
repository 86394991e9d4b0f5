"""django-q2 task functions. Module-level, primary keys in, nothing long-running (no sleeps)."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from connectors.models import ConnectionStatus
from connectors.tokens import keep_alive

from . import conf
from .core import bulk, engine, outbox
from .inbound import sync as inbound
from .models import DeliveryStatus, EntryStatus, OutboxEntry, WebhookDelivery

ABSORB_PER_TASK = 5000  # changes one task takes in at most (a backlog is spread over tasks, each well in time)


def process_entry(entry_id: int) -> str | None:
    """Process one outbox entry if it is due and nobody else holds it."""
    return engine.process_entry(entry_id)


def process_batch(entry_ids: list[int]) -> dict[str, int]:
    """Process a chunk of one connection's entries through the platform's batch endpoint."""
    return bulk.process_batch(entry_ids)


def process_leased(entry_ids: list[int], token: str) -> dict[str, int]:
    """Process a chunk the dispatcher leased (``broker.OutboxBroker``): one connection's due entries."""
    return _run(outbox.take_leased(entry_ids, token))


def process_chain(entry_ids: list[int], token: str) -> dict[str, int]:
    """Process one chunk of a connection's chain (``outbox.start_chains``: a backlog on a broker that does not poll
    the outbox, Redis), then lease that connection's next chunk and queue it at the back of the queue. A chunk
    handed out again meanwhile (its lease expired in the queue) leaves this task nothing, and the chain that took
    it over goes on instead of this one."""
    counts: dict[str, int] = {}
    while True:
        entries = outbox.take_leased(entry_ids, token)
        if not entries:
            return counts
        for status, n in _run(entries).items():
            counts[status] = counts.get(status, 0) + n
        following = outbox.chain_next(entries[0].connection_id)
        if following is None:  # queued as the next task, or nothing left
            return counts
        entry_ids, token = following  # tasks run inline (``Q_CLUSTER["sync"]``): go on here, not by recursion


def _run(entries) -> dict[str, int]:
    if not entries:
        return {}
    if len(entries) == 1:
        return {engine.run_claimed(entries[0]): 1}
    return bulk.run_entries(entries)


def dispatch(connection_ids: list[int] | None = None) -> int:
    """Absorb committed changes and process the due entries of these connections; returns how many ran.

    The wake-up a save sends when the broker does not dispatch by itself (Redis). Bounded: one round of leases;
    what is left (a backlog saved in one transaction) goes on in chains queued behind the other wake-ups
    (``outbox.start_chains``), unless a chain or a worker already holds that connection's entries. A round that
    was not full took everything of theirs that was due: no chain is looked for then (the usual wake-up of one
    save). What becomes due while it runs has a wake-up of its own (its save's, or ``engine._wake``).

    A wake-up takes in only its own connections' changes: every save sends one for its connections, so a burst of
    saves is taken in and sent by as many workers as there are wake-ups, not by whichever took everyone's changes
    in first (one chunk after another, while the others found nothing). Two wake-ups of one connection at the same
    moment: the one that took the changes in sends them (the other skips them, locked). What a lost wake-up leaves,
    the sweeper takes in (all connections).

    The first chunk runs on the lease just taken; each later one renews its lease first (``take_leased``), so a
    chunk whose lease ran out while the ones before it were sent (a slow platform) is left to whoever took it."""
    if connection_ids is not None:
        outbox.woken(connection_ids)  # before taking changes in: a save committed after this sends a new wake-up
    outbox.absorb(most=ABSORB_PER_TASK, connection_ids=connection_ids)
    ran = 0
    chunks, full = outbox.lease_to_run(connection_ids)
    for n, entries in enumerate(chunks):
        if n:
            entries = outbox.take_leased([e.pk for e in entries], entries[0].lease_token)
        ran += sum(_run(entries).values())
    if full and not outbox.dispatcher_polls():  # a round that was not full left nothing of theirs due
        outbox.start_chains(connection_ids)
    return ran


def process_webhook(delivery_id: int) -> str:
    """Apply what one stored webhook delivery announces."""
    return inbound.process_delivery(delivery_id).summary()


def pull_due() -> int:
    """Poll every pulling connection whose interval has passed and that no other pass has claimed; also processes
    deliveries a lost task left. Scheduled every minute. Returns how many connections this pass polled."""
    received = WebhookDelivery.objects.filter(status=DeliveryStatus.RECEIVED)
    for delivery_id in received.values_list("pk", flat=True)[:100]:
        inbound.process_delivery(delivery_id)
    polled = 0
    for conn in inbound.due_connections():
        if inbound.claim(conn):  # not if another pass (this one outlasting the minute) polls it
            inbound.pull(conn)
            polled += 1
    return polled


def keep_tokens_alive() -> list[str]:
    """Refresh idle connections' tokens before their refresh token expires unused. Scheduled daily."""
    return keep_alive()


def sweep() -> int:
    """Absorb changes a lost wake-up left and start chains for connections with due entries that nothing holds:
    lost tasks, crashed workers, expired backoff; returns how many entries the chains leased first. Scheduled
    every minute. With ``OutboxBroker`` the dispatcher does all of this at every poll.

    Changes saved and entries due within ``SWEEP_GRACE_SECONDS`` are left alone: their wake-up is in the queue,
    ahead of the chains the sweeper would queue at the back (taken here, they would wait for those instead)."""
    if outbox.dispatcher_polls() or not conf.get("QUEUE_TASKS"):
        return 0
    settled = timezone.now() - dt.timedelta(seconds=conf.get("SWEEP_GRACE_SECONDS"))
    outbox.absorb(most=ABSORB_PER_TASK, saved_before=settled)
    due = outbox.due_entries(conf.get("SWEEP_BATCH"), due_by=settled)
    return outbox.start_chains(outbox.connections_of(due)) if due else 0


def drain(connection_id: int | None = None, limit: int = 100_000) -> int:
    """Process every due entry in this process (demo ``--once``, commands, tests); returns how many ran.

    A backlog goes through the batch path in chunks of the platform's batch size, like the queue does."""
    ran = 0
    while ran < limit:
        outbox.absorb()
        now = timezone.now()
        qs = (OutboxEntry.objects.filter(status=EntryStatus.PENDING, next_attempt_at__lte=now,
                                         connection__status=ConnectionStatus.ACTIVE)
              .exclude(connection__paused_until__gt=now))
        if connection_id:
            qs = qs.filter(connection_id=connection_id)
        ids = list(qs.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:300])
        if not ids:
            return ran
        progressed = 0
        for chunk in outbox.chunks_by_connection(ids):
            if len(chunk) == 1:
                progressed += engine.process_entry(chunk[0]) is not None
            else:
                progressed += sum(bulk.process_batch(chunk).values())
        ran += progressed
        if not progressed:
            return ran
    return ran
