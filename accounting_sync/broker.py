"""``OutboxBroker``: django-q2's ORM broker that also dispatches the outbox itself.

With the ORM broker the task queue is a table in the host's database, so handing it one task per save would
write a second row in every host transaction. Instead the cluster's pusher, each time it polls (``poll``, 0.2 s
by default), absorbs committed changes into outbox entries and takes leases on due entries (new work, retries
whose backoff ended, entries of crashed workers), and hands them to the workers as batch tasks, one chunk per
connection of the platform's batch size. Saves then hand nothing to the queue, a burst of saves goes out in
batch requests, and a retry runs when its backoff ends rather than at the next sweep.

Enable with ``Q_CLUSTER["broker_class"] = "accounting_sync.broker.OutboxBroker"`` (with ``"orm"`` set).
Ordinary tasks (schedules, webhooks, resyncs) go through the ORM queue as before.
"""
from __future__ import annotations

import logging
import time
import uuid

from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.signing import SignedPackage

from .core import outbox

log = logging.getLogger(__name__)
PREFIX = "outbox:"  # ack ids of dispatched chunks: no queue row stands behind them


class OutboxBroker(ORM):
    polls_outbox = True  # read by ``outbox.dispatcher_polls``: this broker (and a subclass) hands out due entries
    # At most this many entries are leased per poll; the pusher polls again at once while there is work, and
    # blocks when the workers' queue is full, so leases are never taken far ahead of a free worker.
    lease_limit = 200
    # Changes taken in per poll: a backlog saved while no cluster ran is dispatched while it is taken in, not
    # after all of it is.
    absorb_limit, absorb_chunk = 5000, 1000

    def dequeue(self):
        tasks = self._queued() + self._dispatched()
        if tasks:
            return tasks
        time.sleep(Conf.POLL)  # nothing anywhere: spare the CPU, as the ORM broker does
        return None

    def _queued(self) -> list[tuple]:
        """Ordinary tasks from the ORM queue, each locked for ``retry`` seconds against other clusters."""
        rows = self.get_connection().filter(key=self.list_key, lock__lt=timezone.now())[:Conf.BULK]
        taken = []
        for row in rows:
            if self.get_connection().filter(id=row.id, lock=row.lock).update(lock=self.timeout(row)):
                taken.append((row.pk, row.payload))
        return taken

    def _dispatched(self) -> list[tuple]:
        try:
            self.get_connection()  # closes a stale database connection, as the ORM broker does before each use
            outbox.absorb(self.absorb_chunk, most=self.absorb_limit)
            chunks = outbox.lease_due(limit=self.lease_limit)
        except Exception:  # a locked or unreachable database: try again at the next poll
            log.warning("the outbox dispatcher could not poll; trying again", exc_info=True)
            return []
        return [(f"{PREFIX}{token}:{ids[0]}", SignedPackage.dumps(_task(ids, token))) for ids, token in chunks]

    def acknowledge(self, task_id):
        if not _dispatched_id(task_id):
            return super().acknowledge(task_id)

    def fail(self, task_id):
        if not _dispatched_id(task_id):
            return super().fail(task_id)

    def delete(self, task_id):
        if not _dispatched_id(task_id):
            return super().delete(task_id)


def _dispatched_id(task_id) -> bool:
    return isinstance(task_id, str) and task_id.startswith(PREFIX)


def _task(entry_ids: list[int], token: str) -> dict:
    """The package ``async_task`` would have built for ``tasks.process_leased(entry_ids, token)``."""
    task = {"id": uuid.uuid4().hex, "name": f"sync-{entry_ids[0]}-{len(entry_ids)}",
            "func": outbox.task_function("accounting_sync.tasks.process_leased"), "args": (entry_ids, token),
            "kwargs": {}, "group": "accounting_sync", "started": timezone.now()}
    if Conf.ACK_FAILURES:
        task["ack_failure"] = True
    return task
