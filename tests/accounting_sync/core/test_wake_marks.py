"""Wake-up marks (``outbox.wake`` on django-q2's Redis broker): at most one wake-up of a connection waits in the
queue, since the one waiting takes in every change committed before it starts. Needs ``REDIS_URL``."""
import uuid

import pytest
from django.conf import settings
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf

from accounting_sync import tasks
from accounting_sync.core import outbox
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(monkeypatch):
    """Wake-ups sent to a private Redis queue, recorded (each as its connection ids) rather than queued."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    name = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(Conf, "PREFIX", name)
    monkeypatch.setattr(outbox, "dispatcher_polls", lambda: False)
    broker = Redis(list_key=name)
    monkeypatch.setattr(outbox, "_broker", lambda: broker)
    sent: list[list[int]] = []
    answer = {"ok": True}

    def push(func, *args, name):
        if answer["ok"]:
            sent.append(list(args[0]))
        return answer["ok"]

    monkeypatch.setattr(outbox, "_push", push)
    yield sent, answer, broker.connection
    keys = list(broker.connection.scan_iter(f"{name}:*"))
    if keys:
        broker.connection.delete(*keys)


def test_a_connection_with_a_wake_up_waiting_gets_no_second_one(pushed):
    sent, _, _ = pushed
    a, b = ConnectionFactory(name="A"), ConnectionFactory(name="B")
    outbox.wake([a.pk])
    outbox.wake([a.pk])  # a second save of A while its wake-up waits
    outbox.wake([a.pk, b.pk])  # a transaction that changed both: only B needs waking
    assert sent == [[a.pk], [b.pk]]


def test_a_wake_up_that_starts_clears_its_mark_so_the_next_save_sends_one_again(pushed):
    sent, _, _ = pushed
    conn = ConnectionFactory()
    outbox.wake([conn.pk])
    assert tasks.dispatch([conn.pk]) == 0  # nothing to send, but it started: what is saved next needs a new one
    outbox.wake([conn.pk])
    assert sent == [[conn.pk], [conn.pk]]


def test_a_mark_expires_and_a_wake_up_the_queue_refused_leaves_none(pushed):
    sent, answer, client = pushed
    conn, other = ConnectionFactory(name="Refused"), ConnectionFactory(name="Marked")
    answer["ok"] = False  # the broker is down: nothing on its way, so no mark may hold the next save back
    outbox.wake([conn.pk])
    answer["ok"] = True
    outbox.wake([conn.pk])
    assert sent == [[conn.pk]]
    outbox.wake([other.pk])
    # a wake-up lost on its way (its worker killed) holds the connection's saves back for a bounded time only
    assert 0 < client.ttl(outbox._mark(other.pk)) <= outbox.WAKE_MARK_SECONDS


def test_without_the_redis_broker_every_save_sends_its_wake_up(monkeypatch):
    monkeypatch.setattr(outbox, "_broker", lambda: object())  # another broker (SQS, MongoDB...)
    sent = []
    monkeypatch.setattr(outbox, "_push", lambda func, *args, name: sent.append(args[0]) or True)
    outbox.wake([7])
    outbox.wake([7])
    assert sent == [[7], [7]]
