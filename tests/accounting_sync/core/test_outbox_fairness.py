"""Fair lease order across connections: one tenant's backlog never starves another tenant's single document.

``outbox.lease_due`` (the dispatcher's round, ``OutboxBroker`` and ``tasks.dispatch``) and ``outbox.due_entries``
(the sweeper) take due entries in turns across connections: every connection's first request-full before anyone's
second. Run on SQLite and on PostgreSQL (``DATABASE_URL``).
"""
import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from accounting_sync.core import outbox
from accounting_sync.models import EntryStatus, OutboxEntry
from connectors import registry
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def backlog(conn, count: int, *, age_minutes: float) -> None:
    """``count`` pending invoice entries of ``conn``, the first due since ``age_minutes`` ago, one a ms later each."""
    now = timezone.now()
    OutboxEntry.objects.bulk_create(
        OutboxEntry(connection=conn, source_key=f"ledger.invoice:{conn.pk}-{n}", entity="invoice",
                    next_attempt_at=now - dt.timedelta(minutes=age_minutes, milliseconds=-n))
        for n in range(count))


def batch_size(conn) -> int:
    return registry.get(conn.platform).capabilities.batch_size


@pytest.fixture
def tenants():
    """One connection with a 3,000-entry backlog, due for an hour, and 20 small tenants with one invoice each,
    saved a minute ago."""
    big = ConnectionFactory(name="Big clinic")
    backlog(big, 3000, age_minutes=60)
    small = [ConnectionFactory(name=f"Small clinic {n}") for n in range(20)]
    for conn in small:
        backlog(conn, 1, age_minutes=1)
    return big, small


def leased_by_connection(chunks) -> Counter:
    ids = [pk for chunk, _ in chunks for pk in chunk]
    return Counter(OutboxEntry.objects.filter(pk__in=ids).values_list("connection_id", flat=True))


def test_the_first_round_leases_every_small_tenants_entry(tenants):
    big, small = tenants
    # Oldest first, as the round took them before, the 200 would all be the backlog's.
    oldest = OutboxEntry.objects.order_by("next_attempt_at").values_list("connection_id", flat=True)[:200]
    assert set(oldest) == {big.pk}
    chunks = outbox.lease_due(limit=200)
    per_connection = leased_by_connection(chunks)
    assert all(per_connection[conn.pk] == 1 for conn in small)
    assert per_connection[big.pk] == 200 - len(small)  # the backlog takes what the round leaves over
    leased = OutboxEntry.objects.filter(status=EntryStatus.IN_PROGRESS)
    assert leased.count() == 200 and not leased.exclude(lease_token=chunks[0][1]).exists()
    # ... its oldest entries, in chunks of the platform's batch size
    oldest = list(OutboxEntry.objects.filter(connection=big).order_by("next_attempt_at", "pk")
                  .values_list("pk", flat=True)[:per_connection[big.pk]])
    assert set(leased.filter(connection=big).values_list("pk", flat=True)) == set(oldest)
    assert max(len(chunk) for chunk, _ in chunks) == batch_size(big)


def test_chunks_come_in_turns_every_connections_first_chunk_first(tenants):
    big, small = tenants
    chunks = outbox.lease_due(limit=200)
    owner = dict(OutboxEntry.objects.values_list("pk", "connection_id"))
    first_turn = [owner[chunk[0]] for chunk, _ in chunks[:len(small) + 1]]
    # the backlog's first chunk waited longest, so it leads the turn; every small tenant follows before its second
    assert first_turn == [big.pk] + [conn.pk for conn in small]
    assert {owner[chunk[0]] for chunk, _ in chunks[len(small) + 1:]} == {big.pk}


def test_the_next_rounds_go_on_fairly_and_leave_nothing_twice(tenants):
    big, small = tenants
    late = ConnectionFactory(name="Late clinic")
    first = outbox.lease_due(limit=200)
    backlog(late, 2, age_minutes=0.5)  # saved while the first round runs
    second = outbox.lease_due(limit=200)
    assert leased_by_connection(second) == Counter({late.pk: 2, big.pk: 198})
    ids = [pk for chunk, _ in first + second for pk in chunk]
    assert len(ids) == len(set(ids)) == 400


def test_turns_are_a_request_full_per_connection():
    """Two backlogs on a batching platform share a round one batch each, not one entry each."""
    a, b = ConnectionFactory(name="A"), ConnectionFactory(name="B")
    backlog(a, 100, age_minutes=10)
    backlog(b, 100, age_minutes=5)
    size = batch_size(a)
    per_connection = leased_by_connection(outbox.lease_due(limit=2 * size))
    assert per_connection == Counter({a.pk: size, b.pk: size})


def test_a_platform_without_batches_takes_one_entry_per_turn():
    single = next(pid for pid, cls in registry.connectors().items()
                  if cls.capabilities.batch_size == 1 and cls.delivery == "api")
    a = ConnectionFactory(name="A", platform=single)
    b = ConnectionFactory(name="B", platform=single)
    backlog(a, 10, age_minutes=10)
    backlog(b, 10, age_minutes=5)
    assert leased_by_connection(outbox.lease_due(limit=6)) == Counter({a.pk: 3, b.pk: 3})


def test_the_sweeper_takes_the_same_turns(tenants):
    big, small = tenants
    ids = outbox.due_entries(100)
    owners = Counter(OutboxEntry.objects.filter(pk__in=ids).values_list("connection_id", flat=True))
    assert len(ids) == 100 and all(owners[conn.pk] == 1 for conn in small) and owners[big.pk] == 80
    assert not OutboxEntry.objects.filter(status=EntryStatus.IN_PROGRESS).exists()  # the sweeper only reads


def test_paused_and_inactive_connections_and_a_connection_filter(tenants):
    big, small = tenants
    small[0].paused_until = timezone.now() + dt.timedelta(minutes=5)
    small[0].save()
    small[1].status = "needs_reauth"
    small[1].save()
    per_connection = leased_by_connection(outbox.lease_due([big.pk, small[0].pk, small[1].pk, small[2].pk]))
    assert set(per_connection) == {big.pk, small[2].pk} and per_connection[small[2].pk] == 1


# --- A broker that does not poll the outbox (Redis): first in, first out ---------------------------------------
# The queue below is that list, in this process: ``outbox._push`` appends, the test's worker pops from the front.
# What a task does to an entry is recorded, not sent (the engine and the platform are other tests' business).


@pytest.fixture
def fifo(monkeypatch, settings):
    from collections import deque

    from accounting_sync import tasks
    from accounting_sync.core import bulk, engine

    queue: deque = deque()
    sent: list[int] = []

    def run(entries):
        sent.extend(e.pk for e in entries)
        OutboxEntry.objects.filter(pk__in=[e.pk for e in entries]).update(status=EntryStatus.DONE)
        return {EntryStatus.DONE: len(entries)}

    def run_one(entry_id):
        entries = outbox.claim_many([entry_id])
        return run(entries) and EntryStatus.DONE if entries else None

    # Two chains a backlog (a host's setting; the default is one): what the sweeper, wake-ups and lost tasks must not
    # multiply, at its busiest.
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "CHAINS_PER_CONNECTION": 2}
    monkeypatch.setattr(outbox, "dispatcher_polls", lambda: False)
    monkeypatch.setattr(outbox, "_runs_inline", lambda: False)
    monkeypatch.setattr(outbox, "_push", lambda func, *args, name: queue.append((func, args)))
    monkeypatch.setattr(tasks, "_run", run)
    monkeypatch.setattr(bulk, "run_entries", run)
    monkeypatch.setattr(engine, "process_entry", run_one)

    def work(steps: int | None = None) -> list[tuple[str, tuple]]:
        """Run queued tasks in order (all, or ``steps`` of them); returns what ran."""
        ran = []
        while queue and (steps is None or len(ran) < steps):
            func, args = queue.popleft()
            getattr(tasks, func.rsplit(".", 1)[1])(*args)
            ran.append((func, args))
        return ran

    return queue, sent, work


def chains_of(queue, conn) -> int:
    owner = dict(OutboxEntry.objects.filter(connection=conn).values_list("pk", "connection_id"))
    return sum(1 for func, args in queue if func.endswith("process_chain") and args[0][0] in owner)


@pytest.mark.parametrize("chains", [None, 2], ids=["default", "two_chains"])
def test_a_queued_backlog_keeps_a_few_tasks_in_the_list_and_small_tenants_go_between_its_chunks(tenants, fifo,
                                                                                                settings, chains):
    """One chain by default (``CHAINS_PER_CONNECTION`` 1); a host may allow a backlog more."""
    settings.ACCOUNTING_SYNC = {**{k: v for k, v in settings.ACCOUNTING_SYNC.items() if k != "CHAINS_PER_CONNECTION"},
                                **({"CHAINS_PER_CONNECTION": chains} if chains else {})}  # the fixture's two, or not
    chains = chains or 1
    queue, sent, work = fifo
    big, small = tenants
    outbox.enqueue(list(OutboxEntry.objects.filter(connection=big).values_list("pk", flat=True)))  # a resync
    # One chain (or two), not the 3,000 / batch size tasks one per chunk would put in the list ahead of everyone.
    assert len(queue) == chains_of(queue, big) == chains
    for conn in small:  # then each small tenant's save wakes the queue
        outbox.wake([conn.pk])
    assert len(queue) == 20 + chains

    longest = 0
    small_ids = set(OutboxEntry.objects.filter(connection__in=small).values_list("pk", flat=True))
    while queue:
        work(1)
        longest = max(longest, len(queue))
        assert chains_of(queue, big) <= chains
    assert longest <= 20 + chains  # the list never grows: each finished chunk queues one next chunk
    size = batch_size(big)
    # Every small tenant's invoice went out right after the backlog's first chunk (or two), not after all of them.
    assert set(sent[chains * size:chains * size + len(small)]) == small_ids
    assert len(sent) == len(set(sent)) == 3020  # everything, each once
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()


def test_the_sweeper_and_wake_ups_start_no_second_chain_on_a_draining_backlog(tenants, fifo):
    from accounting_sync import tasks

    queue, sent, work = fifo
    big, small = tenants
    assert tasks.sweep() == 2 * batch_size(big) + len(small)  # two chunks of the backlog, every small entry
    assert chains_of(queue, big) == 2 and len(queue) == 2 + len(small)
    work(len(queue))  # the first chunks run; each backlog chain queued its next chunk
    assert chains_of(queue, big) == 2 and len(queue) == 2
    assert tasks.sweep() == 0 and tasks.dispatch([big.pk]) > 0  # a wake-up sends its round but adds no chain
    assert chains_of(queue, big) == 2


def test_a_lost_chain_is_started_again_once_its_lease_ends_and_the_stale_task_then_does_nothing(tenants, fifo):
    from accounting_sync import tasks

    queue, sent, work = fifo
    big, _ = tenants
    OutboxEntry.objects.exclude(connection=big).delete()
    outbox.enqueue(list(OutboxEntry.objects.values_list("pk", flat=True)))
    lost = list(queue)
    queue.clear()  # Redis handed both tasks to a dead connection
    assert tasks.sweep() == 0  # their leases hold for HANDOUT_SECONDS: nothing is sent twice meanwhile
    OutboxEntry.objects.filter(status=EntryStatus.IN_PROGRESS).update(
        lease_until=timezone.now() - dt.timedelta(seconds=1))
    assert tasks.sweep() == 2 * batch_size(big) and chains_of(queue, big) == 2
    for func, args in lost:  # the lost tasks turn up after all: their chunks belong to the new chains now
        assert getattr(tasks, func.rsplit(".", 1)[1])(*args) == {}
    assert chains_of(queue, big) == 2
    work()
    assert len(sent) == len(set(sent)) == 3000


def test_a_chain_goes_on_in_a_loop_when_tasks_run_inline(tenants, fifo, monkeypatch):
    from accounting_sync import tasks

    queue, sent, work = fifo
    big, small = tenants
    outbox.enqueue(list(OutboxEntry.objects.filter(connection=big).values_list("pk", flat=True)))
    monkeypatch.setattr(outbox, "_runs_inline", lambda: True)
    func, args = queue.popleft()
    tasks.process_chain(*args)  # no recursion, nothing queued: the chain drains the backlog here
    assert len(queue) == 1  # only the second chain, whose chunk stays leased to it
    assert len(sent) == 3000 - batch_size(big)


def test_a_wake_up_takes_in_and_sends_only_its_own_connections_changes(fifo):
    """Two saves' wake-ups for two connections: each takes in and sends its own connection's change, so a burst of
    saves is sent by as many workers as there are wake-ups (not all by the first one to run)."""
    from accounting_sync import tasks
    from accounting_sync.models import OutboxChange

    queue, sent, work = fifo
    a, b = ConnectionFactory(name="A"), ConnectionFactory(name="B")
    for conn in (a, b):
        OutboxChange.objects.create(connection_id=conn.pk, source_key=f"ledger.invoice:{conn.pk}", entity="invoice",
                                    created_at=timezone.now())
    assert tasks.dispatch([a.pk]) == 1
    assert set(OutboxEntry.objects.filter(pk__in=sent).values_list("connection_id", flat=True)) == {a.pk}
    assert OutboxChange.objects.filter(connection_id=b.pk).exists()  # left for B's own wake-up
    assert tasks.dispatch([b.pk]) == 1
    assert set(OutboxEntry.objects.filter(pk__in=sent).values_list("connection_id", flat=True)) == {a.pk, b.pk}
    assert not OutboxChange.objects.exists() and not queue


def test_the_sweeper_leaves_fresh_changes_and_entries_to_their_wake_ups(fifo):
    """A change saved, or an entry due, within ``SWEEP_GRACE_SECONDS`` has its wake-up in the queue ahead of any chain
    the sweeper would queue at the back: the sweeper leaves it; once older (that wake-up lost), it takes it."""
    from accounting_sync import tasks
    from accounting_sync.models import OutboxChange

    queue, sent, work = fifo
    conn = ConnectionFactory()
    OutboxChange.objects.create(connection_id=conn.pk, source_key=f"ledger.invoice:{conn.pk}-new", entity="invoice",
                                created_at=timezone.now())
    backlog(conn, 1, age_minutes=0)
    assert tasks.sweep() == 0 and not queue
    assert OutboxChange.objects.filter(connection_id=conn.pk).exists()
    an_age_ago = timezone.now() - dt.timedelta(seconds=31)
    OutboxChange.objects.update(created_at=an_age_ago)
    OutboxEntry.objects.update(next_attempt_at=an_age_ago)
    assert tasks.sweep() == 2 and chains_of(queue, conn) == 1
    assert not OutboxChange.objects.exists()
