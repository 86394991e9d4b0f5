"""Two-way sync on every registered platform: what a person does on the platform (a payment, a line edit, a void)
comes back with one poll or one webhook, is applied once, and is not sent back.

Parametrized over the registry (``tests/platforms.py``); the person acts through the sandbox's "as a user"
helpers, and webhooks are the sandbox's own signed deliveries.
"""
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounting_sync.inbound import sync as inbound
from accounting_sync import tasks
from accounting_sync.models import (DeliveryStatus, EntryStatus, OutboxEntry, Outcome, PullCursor, SyncLog,
                                    WebhookDelivery)
from connectors import registry
from connectors.documents import Entity
from connectors.errors import RetryableError
from ledger.models import Invoice, Payment
from tests.conftest import drain
from tests import platforms

pytestmark = pytest.mark.django_db
harness, platform, platform_sandboxes = platforms.harness, platforms.platform, platforms.platform_sandboxes


@pytest.fixture
def two_way(harness, org):
    if not harness.capabilities.inbound:
        pytest.skip(f"{harness.platform} declares no inbound entities")
    return harness.connect(org, direction="both")


def synced_invoice(harness, conn, make_invoice, *lines):
    invoice = make_invoice(*(lines or [("service", "2", "50.00")]))
    drain()
    return invoice, harness.ref(conn, invoice)


WRITES = ("create", "adopt", "update", "update (re-read)", "void", "delete")


def writes_since(conn, log_id: int) -> list:
    """Writes to the platform this connection attempted after sync log row ``log_id``."""
    return list(SyncLog.objects.filter(connection=conn, pk__gt=log_id, operation__in=WRITES)
                .values_list("operation", "entity"))


def last_log(conn) -> int:
    return SyncLog.objects.filter(connection=conn).order_by("-pk").values_list("pk", flat=True).first() or 0


def needs(harness, entity: str) -> None:
    if entity not in harness.capabilities.inbound:
        pytest.skip(f"{harness.platform} does not report {entity} changes")


def test_payment_recorded_on_the_platform_arrives_with_one_pull_and_is_not_sent_back(two_way, harness,
                                                                                    make_invoice):
    needs(harness, Entity.PAYMENT)
    invoice, ref = synced_invoice(harness, two_way, make_invoice)
    harness.act("record_payment", invoice_id=ref.remote_id, amount="60.00", reference="CHK-77")
    result = inbound.pull(two_way)
    assert result.applied == 1 and result.failed == 0, result
    [payment] = Payment.objects.filter(organization=invoice.organization)
    assert payment.amount == Decimal("60.00") and payment.number
    if harness.takes("record_payment", "reference"):
        assert payment.number == "CHK-77"
    assert [(a.invoice_id, a.amount) for a in payment.allocations.all()] == [(invoice.pk, Decimal("60.00"))]
    assert not OutboxEntry.objects.filter(connection=two_way).exclude(status=EntryStatus.DONE).exists()
    mark = last_log(two_way)
    drain()
    assert writes_since(two_way, mark) == []  # nothing queued back to the platform
    remote_id = harness.ref(two_way, payment).remote_id
    assert two_way.connector().remote_payment(remote_id).amount == Decimal("60.00")
    assert harness.remote(two_way, invoice).balance == Decimal("40.00")
    assert inbound.pull(two_way).applied == 0  # known now: a second poll applies nothing


def test_payment_deleted_on_the_platform_is_deleted_here(two_way, harness, make_invoice):
    needs(harness, Entity.PAYMENT)
    if not harness.capabilities.inbound_deletes:
        pytest.skip(f"{harness.platform} does not declare capabilities.inbound_deletes (reconciliation finds them)")
    invoice, ref = synced_invoice(harness, two_way, make_invoice)
    harness.act("record_payment", invoice_id=ref.remote_id, amount="30.00", reference="CHK-78")
    inbound.pull(two_way)
    payment = Payment.objects.get(organization=invoice.organization)
    harness.act("delete_payment", payment_id=harness.ref(two_way, payment).remote_id)
    result = inbound.pull(two_way)
    assert result.applied == 1, result
    assert not Payment.objects.filter(pk=payment.pk).exists()
    mark = last_log(two_way)
    drain()
    assert writes_since(two_way, mark) == []


def test_invoice_voided_on_the_platform_needs_attention_and_voiding_here_sends_nothing(two_way, harness,
                                                                                       make_invoice):
    needs(harness, Entity.INVOICE)
    invoice, ref = synced_invoice(harness, two_way, make_invoice)
    harness.act("void_invoice", invoice_id=ref.remote_id)
    assert inbound.pull(two_way).attention == 1
    entry = OutboxEntry.objects.get(connection=two_way, source_key=ref.source_key)
    assert entry.status == EntryStatus.NEEDS_ATTENTION and entry.error_code == "remote_voided"
    assert f"voided in {two_way.platform_name}" in entry.last_error and "Void locally" in entry.hint
    version = harness.remote(two_way, invoice).version
    mark = last_log(two_way)
    assert inbound.void_locally(entry)
    assert Invoice.objects.get(pk=invoice.pk).status == "void"
    drain()
    assert writes_since(two_way, mark) == [] and harness.remote(two_way, invoice).version == version
    assert OutboxEntry.objects.get(pk=entry.pk).status == EntryStatus.DONE


def test_a_discount_line_is_not_taken_for_a_line_changed_on_the_platform(two_way, harness, make_invoice):
    """Several platforms keep our discount as a negative line: read back, it is not one of the document's lines."""
    needs(harness, Entity.INVOICE)
    invoice, ref = synced_invoice(harness, two_way, make_invoice, ("service", "2", "50.00"), ("discount", "1", "10.00"))
    # Platforms stamp changes to the second: the payment lands in a later one, so the invoice's version moves and
    # its lines are compared (within the same second they were not, and the test passed by luck).
    platforms.next_second()
    if Entity.PAYMENT in harness.capabilities.inbound:
        harness.act("record_payment", invoice_id=ref.remote_id, amount="20.00")
    result = inbound.pull(two_way)
    assert result.failed == 0, result
    assert not OutboxEntry.objects.filter(connection=two_way, status=EntryStatus.NEEDS_ATTENTION).exists(), \
        list(OutboxEntry.objects.filter(connection=two_way).values_list("last_error", flat=True))
    assert Invoice.objects.get(pk=invoice.pk).totals().total == harness.remote(two_way, invoice).total


def test_line_changed_on_the_platform_updates_local_amounts(two_way, harness, make_invoice):
    needs(harness, Entity.INVOICE)
    invoice, ref = synced_invoice(harness, two_way, make_invoice, ("service", "2", "50.00"), ("product", "1", "10.00"))
    harness.act("edit_invoice_line", invoice_id=ref.remote_id, line=0, amount="135.00")  # the quantity stays
    assert inbound.pull(two_way).applied == 1
    invoice = Invoice.objects.get(pk=invoice.pk)
    first = invoice.lines.order_by("position").first()
    assert (first.quantity, first.unit_price) == (Decimal("2"), Decimal("67.50"))
    assert invoice.totals().total == Decimal("145.00") == harness.remote(two_way, invoice).total
    mark = last_log(two_way)
    drain()
    assert writes_since(two_way, mark) == []


def test_invoice_changed_on_both_sides_this_system_wins_and_the_conflict_is_logged(two_way, harness, make_invoice):
    needs(harness, Entity.INVOICE)
    invoice, ref = synced_invoice(harness, two_way, make_invoice, ("service", "2", "50.00"))
    harness.act("edit_invoice_line", invoice_id=ref.remote_id, line=0, amount="70.00")
    line = invoice.lines.get()
    line.unit_price = Decimal("55.00")
    line.save()  # changed here too, not yet sent
    inbound.pull(two_way)
    assert invoice.lines.get().unit_price == Decimal("55.00")  # ours stands
    conflict = SyncLog.objects.get(connection=two_way, outcome=Outcome.CONFLICT)
    assert f"changed both here and in {two_way.platform_name}" in conflict.message
    assert "this system's version" in conflict.message
    drain()
    assert harness.remote(two_way, invoice).total == Decimal("110.00")


def test_push_only_connection_applies_nothing_and_says_so_once_per_poll(harness, org, make_invoice):
    conn = harness.connect(org)  # direction: push
    invoice, ref = synced_invoice(harness, conn, make_invoice)
    harness.act("record_payment", invoice_id=ref.remote_id, amount="10.00", reference="CHK-1")
    harness.act("record_payment", invoice_id=ref.remote_id, amount="20.00", reference="CHK-2")
    result = inbound.pull(conn)
    assert result.applied == 0 and not Payment.objects.exists()
    notes = SyncLog.objects.filter(connection=conn, operation="pull", outcome=Outcome.SKIPPED)
    assert notes.count() == 1 and "only pushes" in notes.get().message


def test_each_entity_keeps_its_cursor_and_the_poll_comes_round_every_five_minutes(two_way, harness, clock):
    assert inbound.due_connections() == [two_way]
    tasks.pull_due()
    cursors = dict(PullCursor.objects.filter(connection=two_way).values_list("entity", "last_result"))
    assert set(cursors) == {e for e in harness.capabilities.inbound if two_way.syncs(e)}
    assert all("0 applied" in r for r in cursors.values())
    assert inbound.due_connections() == []
    clock.advance(4 * 60)
    assert inbound.due_connections() == []
    clock.advance(61)
    assert inbound.due_connections() == [two_way]


@pytest.fixture
def asked(monkeypatch, two_way):
    """Every ``changes_since`` call of the platform's connector, as (entities, since), in ``asked.calls``; with
    ``asked.fail`` set to an error the calls raise it instead of asking the platform."""
    cls = registry.get(two_way.platform)
    real = cls.changes_since
    spy = SimpleNamespace(calls=[], fail=None)

    def changes_since(self, entities, since):
        spy.calls.append((list(entities), since))
        if spy.fail is not None:
            raise spy.fail
        return real(self, entities, since)

    monkeypatch.setattr(cls, "changes_since", changes_since)
    return spy


def polled(conn, harness) -> list[str]:
    return [e for e in Entity.EVERY if conn.syncs(e) and e in harness.capabilities.inbound]


def cursors(conn) -> dict:
    return {c.entity: (c.changed_since, c.last_result) for c in PullCursor.objects.filter(connection=conn)}


def test_one_poll_asks_the_platform_once_for_every_entity_from_the_earliest_cursor(two_way, harness, asked,
                                                                                   make_invoice):
    invoice, ref = synced_invoice(harness, two_way, make_invoice)
    if Entity.PAYMENT in harness.capabilities.inbound:
        harness.act("record_payment", invoice_id=ref.remote_id, amount="25.00", reference="CHK-9")
    first = inbound.pull(two_way)
    assert first.failed == 0, first.summary()
    entities = polled(two_way, harness)
    [(asked_for, since)] = asked.calls
    assert asked_for == entities and set(cursors(two_way)) == set(entities)
    assert since < timezone.now() - inbound.FIRST_PULL + dt.timedelta(minutes=1)  # new cursors start a day back
    assert len({at for at, _ in cursors(two_way).values()}) == 1  # every cursor moved to the same point
    # One entity lags behind (polled for the first time, or restored): the poll asks once, from its cursor; the
    # others get their window again, and what they already applied is not applied twice.
    lagging = timezone.now() - dt.timedelta(hours=3)
    PullCursor.objects.filter(connection=two_way, entity=entities[-1]).update(changed_since=lagging)
    mark = last_log(two_way)
    again = inbound.pull(two_way)
    assert len(asked.calls) == 2 and asked.calls[1] == (entities, lagging)
    assert again.applied == 0 and again.failed == 0, again.summary()
    assert len({at for at, _ in cursors(two_way).values()}) == 1
    assert all(at > lagging for at, _ in cursors(two_way).values())
    drain()
    assert writes_since(two_way, mark) == []


def test_a_failed_poll_moves_no_cursor_and_says_why_on_each(two_way, harness, asked):
    inbound.pull(two_way)
    before = {entity: at for entity, (at, _) in cursors(two_way).items()}
    asked.fail = RetryableError("the platform answered 503")
    result = inbound.pull(two_way)
    assert len(asked.calls) == 2
    assert (result.applied, result.skipped, result.attention, result.failed) == (0, 0, 0, 0)
    after = cursors(two_way)
    assert {entity: at for entity, (at, _) in after.items()} == before
    assert {r for _, r in after.values()} == {"failed: the platform answered 503"}
    [logged] = SyncLog.objects.filter(connection=two_way, operation="pull", outcome=Outcome.RETRY)
    assert "the platform answered 503" in logged.message


def test_signed_webhook_from_the_platform_is_accepted_three_times_applied_once_and_a_tampered_one_refused(
        two_way, harness, make_invoice, client, settings):
    if not harness.capabilities.webhooks:
        pytest.skip(f"{harness.platform} does not declare webhooks")
    if not harness.emits_webhooks:
        pytest.skip(f"the {harness.platform} sandbox emits no webhooks (the contract checks its signatures)")
    needs(harness, Entity.PAYMENT)
    secret = "platform-webhook-secret"
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "WEBHOOK_SECRETS": {harness.platform: secret}}
    invoice, ref = synced_invoice(harness, two_way, make_invoice)
    headers, body = harness.webhook_delivery(secret, lambda: harness.act(
        "record_payment", invoice_id=ref.remote_id, amount="100.00", reference="HOOK-1"))
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()
            if name.lower() != "content-type"}
    url = f"/accounting-sync/webhooks/{harness.platform}/"
    tampered = client.post(url, body.replace(b"}", b" }", 1), content_type="application/json", **meta)
    unsigned = client.post(url, body, content_type="application/json")
    assert tampered.status_code == unsigned.status_code == 401 and not WebhookDelivery.objects.exists()
    for _ in range(3):  # platforms deliver at least once
        assert client.post(url, body, content_type="application/json", **meta).status_code == 200
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.times_received == 3
    tasks.process_webhook(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED and delivery.connection_id == two_way.pk
    [payment] = Payment.objects.filter(organization=invoice.organization)
    assert payment.amount == Decimal("100.00")
    if harness.takes("record_payment", "reference"):
        assert payment.number == "HOOK-1"
    assert inbound.pull(two_way).applied == 0  # the poll finds it known
    assert Payment.objects.filter(organization=invoice.organization).count() == 1



@pytest.mark.parametrize("body", [b"[1,2]", b'"x"', b"", b'{"eventNotifications": "x"}', b'{"events": "x"}',
                                  b"{not json", b"null"])
def test_a_correctly_signed_body_of_the_wrong_shape_is_refused_and_not_stored(harness, client, settings, body):
    if not harness.capabilities.webhooks or not harness.emits_webhooks:
        pytest.skip(f"{harness.platform} declares no webhooks or its sandbox emits none")
    secret = "platform-webhook-secret"
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "WEBHOOK_SECRETS": {harness.platform: secret}}
    headers = harness.webhook_signed(secret, body)
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()
            if name.lower() not in ("content-type", "content-length", "host")}
    response = client.post(f"/accounting-sync/webhooks/{harness.platform}/", body, content_type="application/json",
                           **meta)
    assert response.status_code == 400 and not WebhookDelivery.objects.exists()
