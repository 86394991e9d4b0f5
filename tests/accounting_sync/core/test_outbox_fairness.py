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
