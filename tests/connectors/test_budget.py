"""The per-connection rate budget shared by all workers: a token bucket in the database, paused by a 429."""

import pytest
from django.db import connection as db_connection

from connectors import budget
from connectors.errors import RateLimitedError
from connectors.models import Connection, RateBudget
from connectors.qbo.connector import QBOConnector
from tests.conftest import at_once, drain, remote_invoices

pytestmark = pytest.mark.django_db


class FakeTime:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def test_a_burst_may_use_the_whole_share_then_waits_for_the_window(connection):
    clock = FakeTime()
    granted = [budget.take(connection.pk, "request", 100, 60, clock) for _ in range(96)]
    assert granted[:95] == [0.0] * 95  # 95% of the published limit (budget.SHARE), at once
    assert 60 < granted[95] <= 62  # then nothing until those requests have left the window
    clock.now += granted[95]
    assert budget.take(connection.pk, "request", 100, 60, clock) == 0.0


def test_no_window_of_the_platforms_length_ever_sees_more_than_the_limit(connection):
    import random

    rng, clock, sent = random.Random(7), FakeTime(), []
    for _ in range(1500):
        clock.now += rng.choice([0, 0, 0.01, 0.2, 1, 3])  # bursts and pauses
        if budget.take(connection.pk, "request", 50, 10, clock) == 0:
            sent.append(clock.now)
    assert len(sent) > 300
    busiest = max(sum(1 for t in sent if start - 10 < t <= start) for start in sent)
    assert busiest <= 50


def test_paused_connection_lets_no_request_through(connection, clock):
    import datetime as dt

    from django.utils import timezone

    Connection.objects.filter(pk=connection.pk).update(paused_until=timezone.now() + dt.timedelta(seconds=120))
    throttle = budget.throttle_for(connection, QBOConnector)
    with pytest.raises(RateLimitedError) as info:
        throttle("request")
    assert 119 <= info.value.retry_after <= 120
    clock.advance(121)
    throttle("request")  # the pause is over


def test_limits_come_from_the_connector_and_can_be_overridden_or_switched_off(connection, settings):
    assert budget.limits_for(connection, QBOConnector) == {"request": (500, 60.0), "batch": (40, 60.0)}
    connection.settings = {**connection.settings, "rate_limits": {"request": [100, 60], "batch": None}}
    assert budget.limits_for(connection, QBOConnector) == {"request": (100, 60.0)}
    connection.settings = {**connection.settings, "rate_limits": False}
    assert budget.limits_for(connection, QBOConnector) == {}
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "RATE_BUDGET": False}
    connection.settings = {}
    assert budget.limits_for(connection, QBOConnector) == {}


@pytest.mark.django_db(transaction=True)
def test_workers_share_one_bucket_under_row_locks(connection):
    if db_connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway (covered on the PostgreSQL run)")
    clock = FakeTime()  # time stands still: only one window's share can be granted, whoever asks
    granted = []

    def worker():
        for _ in range(20):
            granted.append(budget.take(connection.pk, "request", 100, 60, clock) == 0)

    assert not at_once(8, worker)
    assert sum(granted) == 95 and len(granted) == 160  # budget.SHARE of 100
    assert sum(RateBudget.objects.get(connection=connection, kind="request").counts.values()) == 95


def test_budget_keeps_under_the_platform_limit_instead_of_bouncing_off_it(connection, make_invoice, sandbox):
    # Scale QuickBooks' 500-a-minute throttle down to 12 requests in 2 seconds, and tell the connection so.
    sandbox.limits.set("per_minute", 12, 2)
    try:
        connection.settings = {**connection.settings, "rate_limits": {"request": [12, 2], "batch": None}}
        connection.save()
        for _ in range(6):
            make_invoice()
        from accounting_sync.core.engine import process_entry
        from accounting_sync.models import OutboxEntry

        for entry in OutboxEntry.objects.filter(entity="invoice").order_by("pk"):
            process_entry(entry.pk)  # one request at a time: the single path, ~3 requests per invoice
        drain()
        from accounting_sync.models import SyncLog

        assert len(remote_invoices(sandbox)) == 6
        assert len([r for r in sandbox.requests_log if r[1].startswith("/v3/")]) > 12  # more than one window's worth
        assert not SyncLog.objects.filter(outcome="retry").exists()  # and not one was refused with a 429
    finally:
        sandbox.limits.restore()


def test_in_flight_slots_are_held_given_back_and_expire_after_a_crash(connection):
    clock = FakeTime()
    slots = [budget.hold(connection.pk, 3, clock) for _ in range(4)]
    assert all(slot for slot, _ in slots[:3]) and slots[3][0] is None  # the fourth waits...
    assert 0 < slots[3][1] <= budget.SLOT_POLL  # ...and looks again shortly
    budget.give_back(connection.pk, slots[0][0])
    assert budget.hold(connection.pk, 3, clock)[0]  # a slot given back is free at once
    assert budget.hold(connection.pk, 3, clock)[0] is None
    clock.now += budget.HOLD_SECONDS + 1  # their workers were killed mid-request: the slots run out
    assert all(budget.hold(connection.pk, 3, clock)[0] for _ in range(3))


def test_the_concurrency_limit_comes_from_the_connector_and_can_be_overridden(connection, settings):
    from connectors.xero.connector import XeroConnector

    assert budget.concurrency_for(connection, QBOConnector) == 10
    assert budget.concurrency_for(connection, XeroConnector) == 5
    connection.settings = {**connection.settings, "rate_limits": {"concurrent": 4}}
    assert budget.concurrency_for(connection, QBOConnector) == 4
    assert budget.limits_for(connection, QBOConnector) == {"request": (500, 60.0), "batch": (40, 60.0)}
    connection.settings = {**connection.settings, "rate_limits": {"concurrent": None}}
    assert budget.concurrency_for(connection, QBOConnector) is None
    connection.settings = {**connection.settings, "rate_limits": False}
    assert budget.concurrency_for(connection, QBOConnector) is None
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "RATE_BUDGET": False}
    connection.settings = {}
    assert budget.concurrency_for(connection, QBOConnector) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ours", [3, None], ids=["budgeted", "unbudgeted"])
def test_workers_together_keep_under_the_platforms_requests_in_flight(connection, sandbox, monkeypatch, ours,
                                                                     request):
    """QuickBooks allows 10 requests in flight per company (scaled to 3 here); 9 workers call at once with slow
    answers. With the shared slots none is refused; without them (the control) QuickBooks refuses some."""
    if db_connection.vendor != "postgresql":
        pytest.skip("workers on several database connections need PostgreSQL")
    sandbox.limits.set("concurrent", 3)
    request.addfinalizer(sandbox.limits.restore)  # the sandbox outlives this test
    Connection.objects.filter(pk=connection.pk).update(
        settings={**connection.settings, "rate_limits": {"concurrent": ours}})
    monkeypatch.setattr(sandbox.faults, "timeout_seconds", 0.3)
    sandbox.faults.add("timeout", count=None, match="/query")  # every query answers after 0.3 s

    def worker():
        Connection.objects.get(pk=connection.pk).connector().client.query("select * from CompanyCurrency")

    errors = at_once(9, worker)
    refused = [t for t in sandbox.throttled if t[0] == "concurrent"]
    if ours:
        assert not errors and not refused
        assert RateBudget.objects.get(connection=connection, kind="concurrent").counts == {}  # all given back
    else:
        assert refused and errors


def test_a_budget_row_says_what_it_counts(connection):
    budget.take(connection.pk, "request", 100, 60, FakeTime())
    budget.hold(connection.pk, 3, FakeTime())
    assert str(RateBudget.objects.get(kind="request")).endswith("request: 1 recent requests")
    assert str(RateBudget.objects.get(kind="concurrent")).endswith(": 1 requests in flight")
