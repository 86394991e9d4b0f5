"""Alerts (issue 17 part 3): one incident per problem, announced once when it opens and once when it clears, by
email, a signal and a signed webhook; a daily digest; the command. Acceptance: an incident that fails 50 times is
announced once, and its resolution once."""
import datetime as dt
import hashlib
import hmac
import json
import re
from importlib import import_module

import pytest
import requests
import responses
from django.apps import apps as django_apps
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from accounting_sync.core import outbox
from accounting_sync.alerts import checks, digest, engine, notify
from accounting_sync.alerts.models import AlertRecipient, Incident, IncidentKind
from accounting_sync.alerts.signals import incident_opened, incident_resolved
from accounting_sync.models import EntryStatus, OutboxChange, OutboxEntry
from accounting_sync.reconcile.models import Reason, Variance, VarianceStatus
from connectors.models import ConnectionStatus
from tests import factories as f
from tests.conftest import at_once, drain, entry_of

pytestmark = pytest.mark.django_db

HOOK = {"url": "https://alerts.example.test/hook", "secret": "test-alert-secret"}
OPS = "ops@example.com"


@pytest.fixture(autouse=True)
def queue_running():
    """A running cluster keeps its schedules' next run ahead; the migration made them due when the test database
    was created, which would read as a stopped queue."""
    Schedule.objects.update(next_run=timezone.now() + dt.timedelta(days=30))


@pytest.fixture
def alert_settings(settings):
    def use(**extra):
        settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "ALERT_EMAILS": [OPS], "ALERT_WEBHOOK": HOOK, **extra}

    use()
    return use


@pytest.fixture
def heard():
    """The signals received, as (event, incident kind, connection)."""
    got = []

    def opened(sender, incident, connection, kind, **kwargs):
        got.append(("opened", kind, connection))

    def resolved(sender, incident, connection, kind, **kwargs):
        got.append(("resolved", kind, connection))

    incident_opened.connect(opened, dispatch_uid="test-opened")
    incident_resolved.connect(resolved, dispatch_uid="test-resolved")
    yield got
    incident_opened.disconnect(dispatch_uid="test-opened")
    incident_resolved.disconnect(dispatch_uid="test-resolved")


@pytest.fixture
def hook():
    """The webhook receiver (``responses``); the sandboxes on loopback pass through."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(re.compile(r"http://(127\.0\.0\.1|localhost)[:/]"))
        rsps.post(HOOK["url"], status=204)
        yield rsps


def hook_calls(rsps) -> list:
    return [c for c in rsps.calls if c.request.url == HOOK["url"]]


def events(rsps) -> list[str]:
    return [json.loads(c.request.body)["event"] for c in hook_calls(rsps)]


def entry(conn, n=1, **fields) -> OutboxEntry:
    e = OutboxEntry.objects.get(pk=outbox.upsert_entry(conn, f"ledger.invoice:{n}", "invoice", None))
    OutboxEntry.objects.filter(pk=e.pk).update(**fields)
    return e


# -- acceptance ---------------------------------------------------------------------------------------------------
def test_an_entry_failing_fifty_times_is_announced_once_and_its_clearing_once(
        connection, make_invoice, sandbox, clock, alert_settings, mailoutbox, heard, hook):
    alert_settings(MAX_ATTEMPTS=100)
    customer = f.CustomerFactory(organization=connection.organizations.get())
    drain()  # the customer reaches the platform; then every attempt to send the invoice fails
    sandbox.faults.add("http_500", count=None, match="POST /invoice")
    invoice = make_invoice(customer=customer)
    for failure in range(1, 51):
        drain()
        assert entry_of(invoice).attempts == failure and entry_of(invoice).status == EntryStatus.PENDING
        engine.evaluate()
        clock.advance((entry_of(invoice).next_attempt_at - timezone.now()).total_seconds() + 1)
    assert len(sandbox.faults.fired) == 50
    incident = Incident.objects.get()
    assert (incident.kind, incident.connection, incident.is_open) == (IncidentKind.FAILURES, connection, True)
    assert incident.seen == 48  # found at every evaluation from the third failure on (ALERT_FAILURE_ATTEMPTS)
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [OPS]
    assert mailoutbox[0].subject == f"[Accounting sync] Alert: {connection.name}: 1 entry failing"
    assert heard == [("opened", IncidentKind.FAILURES, connection)]
    assert events(hook) == ["incident.opened"]

    sandbox.faults.clear()
    drain()
    assert entry_of(invoice).status == EntryStatus.DONE
    for _ in range(3):
        engine.evaluate()
    incident.refresh_from_db()
    assert incident.resolved_at is not None and not incident.notices_due
    assert len(mailoutbox) == 2 and mailoutbox[1].subject.startswith("[Accounting sync] Resolved: ")
    assert heard[1:] == [("resolved", IncidentKind.FAILURES, connection)]
    assert events(hook) == ["incident.opened", "incident.resolved"]


# -- each condition -----------------------------------------------------------------------------------------------
def make_reauth(conn):
    conn.status, conn.status_message = ConnectionStatus.NEEDS_REAUTH, "The platform revoked the consent."
    conn.save()
    return lambda: type(conn).objects.filter(pk=conn.pk).update(status=ConnectionStatus.ACTIVE)


def make_attention(conn):
    e = entry(conn, status=EntryStatus.NEEDS_ATTENTION, last_error="Unknown tax code")
    return lambda: OutboxEntry.objects.filter(pk=e.pk).update(status=EntryStatus.DONE)


def make_failed(conn):
    e = entry(conn, status=EntryStatus.FAILED, attempts=8)
    return lambda: OutboxEntry.objects.filter(pk=e.pk).update(status=EntryStatus.PENDING, attempts=0)


def make_retrying(conn):
    e = entry(conn, attempts=3, next_attempt_at=timezone.now() + dt.timedelta(minutes=5))
    return lambda: OutboxEntry.objects.filter(pk=e.pk).update(status=EntryStatus.DONE, attempts=0)


def make_paused(conn):
    type(conn).objects.filter(pk=conn.pk).update(paused_until=timezone.now() + dt.timedelta(seconds=60),
                                                 status_message="Paused: the shared request budget is spent")
    return lambda: type(conn).objects.filter(pk=conn.pk).update(paused_until=None)


def make_variance(conn):
    v = Variance.objects.create(connection=conn, entity="invoice", source_key="ledger.invoice:1", field="exists",
                                reason=Reason.DELETED_REMOTELY, message="Deleted on the platform", action="Re-send")
    return lambda: Variance.objects.filter(pk=v.pk).update(status=VarianceStatus.RESOLVED)


def make_waiting_change(conn):
    OutboxChange.objects.create(connection_id=conn.pk, source_key="ledger.invoice:1", entity="invoice",
                                created_at=timezone.now() - dt.timedelta(minutes=6))
    return lambda: OutboxChange.objects.all().delete()


def make_overdue_schedule(conn):
    overdue = timezone.now() - dt.timedelta(minutes=6)
    Schedule.objects.filter(func="accounting_sync.tasks.sweep").update(next_run=overdue)
    return lambda: Schedule.objects.update(next_run=timezone.now() + dt.timedelta(minutes=1))


CONDITIONS = {
    "reauth": (make_reauth, IncidentKind.REAUTH, True),
    "attention": (make_attention, IncidentKind.ATTENTION, True),
    "failed": (make_failed, IncidentKind.FAILURES, True),
    "retrying": (make_retrying, IncidentKind.FAILURES, True),
    "rate-budget": (make_paused, IncidentKind.RATE_BUDGET, True),
    "variance": (make_variance, IncidentKind.VARIANCE, True),
    "queue-changes": (make_waiting_change, IncidentKind.QUEUE, False),
    "queue-schedule": (make_overdue_schedule, IncidentKind.QUEUE, False),
}


@pytest.mark.parametrize("name", CONDITIONS)
def test_each_condition_opens_its_incident_and_clearing_resolves_it(name, alert_settings, mailoutbox, heard, hook,
                                                                    clock):
    if name == "queue-schedule":
        import_module("accounting_sync.migrations.0002_sweeper_schedule").create(django_apps, None)
        Schedule.objects.update(next_run=timezone.now() + dt.timedelta(days=30))
    make, kind, per_connection = CONDITIONS[name]
    conn = f.ConnectionFactory()
    clear = make(conn)
    result = engine.evaluate()
    incident = Incident.objects.get()
    assert len(result.opened) == 1 and incident.kind == kind and incident.is_open
    assert incident.connection_id == (conn.pk if per_connection else None)
    assert incident.title and incident.detail and incident.hint
    assert len(mailoutbox) == 1 and incident.title in mailoutbox[0].subject and incident.hint in mailoutbox[0].body
    assert heard == [("opened", kind, conn if per_connection else None)]

    clear()
    engine.evaluate()
    if kind == IncidentKind.RATE_BUDGET:  # a pause comes and goes: it clears after a quiet quarter of an hour
        assert Incident.objects.get().is_open
        clock.advance(15 * 60 + 1)
        engine.evaluate()
    incident.refresh_from_db()
    assert not incident.is_open
    assert [e for e, _, _ in heard] == ["opened", "resolved"] and len(mailoutbox) == 2
    assert events(hook) == ["incident.opened", "incident.resolved"]


def test_reevaluating_sends_nothing_again_and_counts_what_it_sees(alert_settings, mailoutbox, heard, hook):
    conn = f.ConnectionFactory()
    entry(conn, 1, status=EntryStatus.NEEDS_ATTENTION)
    first = engine.evaluate()
    entry(conn, 2, status=EntryStatus.NEEDS_ATTENTION)
    second = engine.evaluate()
    engine.evaluate()
    assert len(first.opened) == 1 and not second.opened and second.still_open == 1 and second.delivered == 0
    incident = Incident.objects.get()
    assert (incident.seen, incident.value, incident.peak) == (3, 2, 2)
    assert incident.title == f"{conn.name}: 2 entries need attention"
    assert len(mailoutbox) == 1 and len(heard) == 1 and len(hook_calls(hook)) == 1


def test_an_incident_that_returns_after_clearing_is_a_new_incident(alert_settings, mailoutbox):
    conn = f.ConnectionFactory()
    clear = make_reauth(conn)
    engine.evaluate()
    clear()
    engine.evaluate()
    make_reauth(conn)
    engine.evaluate()
    assert [i.is_open for i in Incident.objects.order_by("pk")] == [False, True]
    assert len(mailoutbox) == 3


def test_thresholds_kinds_and_disabled_connections(alert_settings, mailoutbox):
    conn, off = f.ConnectionFactory(), f.ConnectionFactory(status=ConnectionStatus.DISABLED)
    entry(conn, 1, status=EntryStatus.NEEDS_ATTENTION)
    entry(conn, 2, attempts=2)  # two failures in a row: not yet failing
    entry(off, 1, status=EntryStatus.FAILED)  # staff switched that connection off
    alert_settings(ALERT_ATTENTION_THRESHOLD=2)
    assert not engine.observe()
    alert_settings(ALERT_ATTENTION_THRESHOLD=1, ALERT_FAILURE_ATTEMPTS=2, ALERT_KINDS=["failures"])
    assert [(o.kind, o.connection_id) for o in engine.observe()] == [(IncidentKind.FAILURES, conn.pk)]


def test_evaluation_costs_a_few_queries_however_many_entries(alert_settings, django_assert_max_num_queries, hook,
                                                             mailoutbox):
    conns = [f.ConnectionFactory() for _ in range(3)]
    for conn in conns:
        for n in range(20):
            entry(conn, n, status=EntryStatus.NEEDS_ATTENTION if n % 2 else EntryStatus.FAILED)
    engine.evaluate()
    # five looks, the open incidents, one update of those still seen, the notices due
    with django_assert_max_num_queries(8):
        result = engine.evaluate()
    assert result.still_open == 6 and not result.opened


# -- delivery -----------------------------------------------------------------------------------------------------
def test_a_failing_webhook_is_retried_and_does_not_hold_up_the_email(alert_settings, mailoutbox, heard):
    conn = f.ConnectionFactory()
    make_reauth(conn)
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK["url"], status=503)
        rsps.post(HOOK["url"], body=requests.ConnectionError("receiver down"))
        rsps.post(HOOK["url"], status=200)
        engine.evaluate()
        incident = Incident.objects.get()
        assert len(mailoutbox) == 1 and len(heard) == 1  # email and signal went out
        assert incident.opened_webhook_at is None and incident.notices_due
        assert incident.delivery_error == "webhook: HTTP 503" and incident.delivery_attempts == 1
        engine.evaluate()
        assert Incident.objects.get().delivery_error == "webhook: ConnectionError"
        engine.evaluate()
        engine.evaluate()
        assert len(hook_calls(rsps)) == 3
        ids = {c.request.headers[notify.DELIVERY_HEADER] for c in hook_calls(rsps)}
    incident.refresh_from_db()
    assert incident.opened_webhook_at is not None and not incident.notices_due and not incident.delivery_error
    assert len(ids) == 1  # the same delivery id on every retry: a receiver can drop a repeat
    assert len(mailoutbox) == 1 and len(heard) == 1  # never repeated


def test_an_unreachable_webhook_costs_one_attempt_per_evaluation(alert_settings, mailoutbox):
    for _ in range(3):
        make_reauth(f.ConnectionFactory())
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK["url"], status=500)
        engine.evaluate()
        assert len(hook_calls(rsps)) == 1
    assert len(mailoutbox) == 3
    assert Incident.objects.filter(notices_due=True, opened_webhook_at__isnull=True).count() == 3


def test_a_failing_mail_server_is_retried_and_a_channel_gives_up_in_the_end(alert_settings, mailoutbox, hook,
                                                                           monkeypatch):
    alert_settings(ALERT_DELIVERY_ATTEMPTS=2)
    make_reauth(f.ConnectionFactory())

    def refuse(self, messages):
        raise OSError("mail server refused")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    engine.evaluate()
    incident = Incident.objects.get()
    assert incident.notices_due and incident.delivery_error == "email: OSError: mail server refused"
    assert incident.opened_signal_at and incident.opened_webhook_at  # the other channels went out
    engine.evaluate()
    incident.refresh_from_db()
    assert not incident.notices_due and incident.delivery_error.startswith("Gave up after 2 attempts")
    assert len(hook_calls(hook)) == 1


def test_a_receiver_that_raises_stops_nothing(alert_settings, mailoutbox, hook):
    def broken(**kwargs):
        raise RuntimeError("host bug")

    incident_opened.connect(broken, dispatch_uid="broken")
    try:
        make_reauth(f.ConnectionFactory())
        engine.evaluate()
    finally:
        incident_opened.disconnect(dispatch_uid="broken")
    incident = Incident.objects.get()
    assert len(mailoutbox) == 1 and len(hook_calls(hook)) == 1 and not incident.notices_due


def test_the_webhook_signature_verifies_and_a_tampered_delivery_does_not(alert_settings, mailoutbox, hook):
    make_reauth(f.ConnectionFactory(name="Clinic books"))
    engine.evaluate()
    (call,) = hook_calls(hook)
    body, headers = call.request.body, dict(call.request.headers)
    stamp, signature = headers["X-Accounting-Sync-Timestamp"], headers["X-Accounting-Sync-Signature"]
    # What a receiver does, with nothing of ours: HMAC-SHA256 over "<timestamp>.<body>", hex, "sha256=" prefix.
    expected = hmac.new(HOOK["secret"].encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, f"sha256={expected}")
    assert notify.verify(body, headers, HOOK["secret"])
    assert not notify.verify(body.replace(b"Clinic books", b"Clinic bookz"), headers, HOOK["secret"])
    assert not notify.verify(body, headers, "another secret")
    assert not notify.verify(body, headers, HOOK["secret"], now=int(stamp) + 301)  # replayed later
    payload = json.loads(body)
    assert headers["X-Accounting-Sync-Event"] == payload["event"] == "incident.opened"
    assert payload["incident"]["kind"] == "reauth" and payload["incident"]["connection"]["name"] == "Clinic books"
    assert payload["incident"]["status"] == "open" and payload["incident"]["resolved_at"] is None


def test_no_webhook_configured_means_email_and_signal_only(settings, mailoutbox, heard):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "ALERT_EMAILS": [OPS]}
    make_reauth(f.ConnectionFactory())
    with responses.RequestsMock():  # any request would fail the test
        engine.evaluate()
    assert len(mailoutbox) == 1 and len(heard) == 1 and not Incident.objects.get().notices_due


def test_recipients_hear_about_their_connections_and_the_queue(alert_settings, mailoutbox, hook):
    a, b = f.ConnectionFactory(name="North"), f.ConnectionFactory(name="South")
    AlertRecipient.objects.create(connection=a, email="north@example.com")
    AlertRecipient.objects.create(connection=b, email="south@example.com")
    AlertRecipient.objects.create(connection=b, email="quiet@example.com", incidents=False)
    make_reauth(a)
    make_waiting_change(a)
    engine.evaluate()
    sent = sorted((m.to[0], m.subject.split(": ", 1)[1]) for m in mailoutbox)
    assert sent == [("north@example.com", "North: needs reconnecting"),
                    ("north@example.com", "The task queue seems to be stopped"),
                    (OPS, "North: needs reconnecting"), (OPS, "The task queue seems to be stopped"),
                    ("south@example.com", "The task queue seems to be stopped")]
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mailoutbox)  # nobody sees another's address


@pytest.mark.django_db(transaction=True)
def test_two_workers_evaluating_at_once_open_and_announce_once(alert_settings, mailoutbox, heard, hook):
    from django.db import connection as db

    if db.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them anyway (covered on the PostgreSQL run)")
    conns = [f.ConnectionFactory() for _ in range(4)]
    for conn in conns:
        make_reauth(conn)
        entry(conn, status=EntryStatus.FAILED)
    for _ in range(3):
        assert at_once(4, engine.evaluate) == []
    assert Incident.objects.filter(resolved_at__isnull=True).count() == 8
    assert len(mailoutbox) == 8 and len(heard) == 8 and len(hook_calls(hook)) == 8
    OutboxEntry.objects.update(status=EntryStatus.DONE)
    for _ in range(3):
        assert at_once(4, engine.evaluate) == []
    assert Incident.objects.filter(resolved_at__isnull=False).count() == 4
    assert len(mailoutbox) == 12 and len(heard) == 12 and len(hook_calls(hook)) == 12


def test_one_open_incident_per_connection_kind_and_key_in_the_database():
    from django.db import IntegrityError, transaction

    conn = f.ConnectionFactory()
    for connection in (conn, None):  # the task queue's incident has no connection: still only one open
        Incident.objects.create(connection=connection, kind=IncidentKind.QUEUE, title="one")
        with pytest.raises(IntegrityError), transaction.atomic():
            Incident.objects.create(connection=connection, kind=IncidentKind.QUEUE, title="two")
    Incident.objects.update(resolved_at=timezone.now())
    Incident.objects.create(connection=None, kind=IncidentKind.QUEUE, title="again")  # a resolved one is history


# -- digest, command, admin, schedules, checks -------------------------------------------------------------------
def test_the_daily_digest_lists_open_and_recently_cleared_incidents_per_recipient(alert_settings, mailoutbox, clock):
    a, b = f.ConnectionFactory(name="North"), f.ConnectionFactory(name="South")
    AlertRecipient.objects.create(connection=a, email="north@example.com")
    AlertRecipient.objects.create(connection=b, email="south@example.com", digest=False)
    make_reauth(a)
    clear = make_attention(b)
    old = make_variance(b)
    engine.apply(engine.observe())
    old()
    engine.apply(engine.observe())  # the variance clears...
    clock.advance(2 * 86400)  # ...two days ago: not in today's digest
    clear()
    engine.apply(engine.observe())  # the attention clears now
    mailoutbox.clear()
    assert digest.send_digest() == 2
    mails = {m.to[0]: m for m in mailoutbox}
    assert set(mails) == {OPS, "north@example.com"}
    assert mails[OPS].subject == "[Accounting sync] Daily digest: 1 open, 1 cleared"
    body = mails[OPS].body
    assert "Open (1):\n- North: needs reconnecting (open 48 h" in body and "Connect" in body
    assert "Cleared in the last day (1):\n- South: 1 entry needs attention (cleared" in body
    assert "variance" not in body
    assert mails["north@example.com"].subject == "[Accounting sync] Daily digest: 1 open, 0 cleared"
    assert "South" not in mails["north@example.com"].body


def test_the_digest_sends_nothing_when_nothing_happened(alert_settings, mailoutbox):
    assert digest.send_digest() == 0 and mailoutbox == []


def test_the_command_evaluates_lists_and_sends_the_digest(alert_settings, mailoutbox, hook, capsys):
    conn = f.ConnectionFactory(name="North")
    make_reauth(conn)
    call_command("accounting_sync_alerts")
    assert "No open incidents." in capsys.readouterr().out
    call_command("accounting_sync_alerts", "--evaluate")
    out = capsys.readouterr().out
    assert out == "Evaluated: 1 opened, 0 resolved, 0 still open, 3 notices delivered.\n"
    call_command("accounting_sync_alerts", "--list")
    out = capsys.readouterr().out
    assert "OPEN" in out and "North: needs reconnecting" in out and "Connect" in out
    call_command("accounting_sync_alerts", "--digest")
    assert "Digest: 1 email sent." in capsys.readouterr().out
    call_command("accounting_sync_alerts", "--list", "--all")
    assert "North: needs reconnecting" in capsys.readouterr().out
    assert len(mailoutbox) == 2


def test_the_migration_schedules_the_evaluation_every_minute_and_the_digest_daily():
    Schedule.objects.filter(func__startswith="accounting_sync.alerts.").delete()
    import_module("accounting_sync.migrations.0021_alerts").create_schedules(django_apps, None)
    evaluate = Schedule.objects.get(func="accounting_sync.alerts.tasks.evaluate")
    daily = Schedule.objects.get(func="accounting_sync.alerts.tasks.digest")
    assert (evaluate.schedule_type, evaluate.minutes, evaluate.repeats) == ("I", 1, -1)
    assert (daily.schedule_type, daily.repeats, daily.next_run.hour, daily.next_run.minute) == ("D", -1, 7, 0)
    assert timezone.now() < daily.next_run <= timezone.now() + dt.timedelta(days=1)


def test_the_scheduled_tasks_return_a_line(alert_settings, mailoutbox, hook):
    from accounting_sync.alerts import tasks

    make_reauth(f.ConnectionFactory())
    assert tasks.evaluate().startswith("1 opened")
    assert tasks.digest() == "1 digest emails sent"


def test_admin_lists_incidents_read_only_and_recipients_on_the_connection(admin_client, alert_settings, mailoutbox,
                                                                          hook):
    conn = f.ConnectionFactory(name="North")
    make_reauth(conn)
    engine.evaluate()
    page = admin_client.get(reverse("admin:accounting_sync_incident_changelist") + "?state=open")
    assert page.status_code == 200 and b"North: needs reconnecting" in page.content
    assert admin_client.get(reverse("admin:accounting_sync_incident_changelist") + "?state=resolved&kind=reauth"
                            ).status_code == 200
    incident = Incident.objects.get()
    detail = admin_client.get(reverse("admin:accounting_sync_incident_change", args=[incident.pk]))
    assert detail.status_code == 200 and b"Save" not in detail.content
    assert admin_client.get(reverse("admin:accounting_sync_incident_add")).status_code == 403
    page = admin_client.get(reverse("admin:connectors_connection_change", args=[conn.pk]))
    assert page.status_code == 200 and b"alert_recipients-TOTAL_FORMS" in page.content
    assert admin_client.get(reverse("admin:accounting_sync_alertrecipient_changelist")).status_code == 200


def test_settings_mistakes_are_system_check_errors(settings):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "ALERT_EMAILS": "ops@example.com",
                                "ALERT_WEBHOOK": {"url": "ftp://x"}, "ALERT_KINDS": ["queue_stopped", "fire"]}
    assert [e.id for e in checks.alert_settings(None)] == ["accounting_sync.E101", "accounting_sync.E102",
                                                          "accounting_sync.E102", "accounting_sync.E103"]
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "ALERT_EMAILS": [OPS], "ALERT_WEBHOOK": HOOK,
                                "ALERT_KINDS": None}
    assert checks.alert_settings(None) == []
