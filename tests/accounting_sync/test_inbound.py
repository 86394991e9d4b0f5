"""Two-way sync with QuickBooks Online: polling (CDC) and webhooks bring platform changes back (issue 5)."""
import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from accounting_sync import inbound, tasks
from accounting_sync.models import (DeliveryStatus, EntryStatus, ExternalReference, OutboxEntry, Outcome, SyncLog,
                                    WebhookDelivery)
from ledger.models import Invoice, Payment
from tests.conftest import drain

pytestmark = pytest.mark.django_db
SECRET = "verifier-token-for-tests"


@pytest.fixture
def two_way(make_connection, org, settings):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "WEBHOOK_SECRETS": {"qbo": SECRET}}
    return make_connection(org, direction="both")


def synced_invoice(make_invoice, *lines):
    invoice = make_invoice(*(lines or [("service", "2", "50.00")]))
    drain()
    ref = ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    return invoice, ref


def pay_in_quickbooks(sandbox, ref, amount: str) -> dict:
    """What a bookkeeper does in QuickBooks: receive a payment against the invoice."""
    remote = sandbox.store.get("Invoice", ref.remote_id)
    return sandbox.store.write("Payment", {"CustomerRef": remote["CustomerRef"], "TotalAmt": amount,
                                           "PaymentRefNum": "QB-CHK-77", "Line": [
                                               {"Amount": amount, "LinkedTxn": [{"TxnId": ref.remote_id,
                                                                                 "TxnType": "Invoice"}]}]})


def signed(body: dict, secret: str = SECRET) -> tuple[bytes, str]:
    raw = json.dumps(body).encode()
    return raw, base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def test_payment_made_in_quickbooks_arrives_with_one_poll_and_is_not_sent_back(two_way, make_invoice, sandbox):
    invoice, ref = synced_invoice(make_invoice)
    remote_payment = pay_in_quickbooks(sandbox, ref, "60.00")
    calls = len(sandbox.requests_log)
    result = inbound.pull(two_way)
    assert result.applied == 1, result
    [payment] = Payment.objects.filter(organization=invoice.organization)
    assert payment.amount == Decimal("60.00") and payment.number == "QB-CHK-77"
    assert [(a.invoice_id, a.amount) for a in payment.allocations.all()] == [(invoice.pk, Decimal("60.00"))]
    assert not OutboxEntry.objects.filter(source_key=f"ledger.payment:{payment.pk}").exclude(
        status=EntryStatus.DONE).exists()  # nothing queued back to QuickBooks
    drain()
    writes = [r for r in sandbox.requests_log[calls:] if r[0] == "POST" and "/query" not in r[1]]
    assert writes == [] and len(sandbox.store.entities("Payment")) == 1
    assert ExternalReference.objects.get(source_key=f"ledger.payment:{payment.pk}").remote_id == remote_payment["Id"]


def test_same_payment_by_webhook_three_times_and_by_poll_is_applied_once(two_way, make_invoice, sandbox, client):
    invoice, ref = synced_invoice(make_invoice)
    remote_payment = pay_in_quickbooks(sandbox, ref, "100.00")
    raw, signature = signed({"eventNotifications": [{"realmId": sandbox.realm_id, "dataChangeEvent": {"entities": [
        {"name": "Payment", "id": remote_payment["Id"], "operation": "Create",
         "lastUpdated": remote_payment["MetaData"]["LastUpdatedTime"]}]}}]})
    for _ in range(3):
        response = client.post("/accounting-sync/webhooks/qbo/", raw, content_type="application/json",
                               HTTP_INTUIT_SIGNATURE=signature)
        assert response.status_code == 200
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.times_received == 3
    tasks.process_webhook(delivery.pk)
    inbound.pull(two_way)
    assert Payment.objects.filter(organization=invoice.organization).count() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED and delivery.connection_id == two_way.pk


def test_cloudevents_payload_is_understood(two_way, make_invoice, sandbox):
    from connectors.qbo.connector import QBOConnector

    raw = json.dumps([{"specversion": "1.0", "id": "e1", "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
                       "type": "qbo.payment.created.v1", "time": "2026-11-20T10:00:00Z",
                       "intuitentityid": "42", "intuitaccountid": sandbox.realm_id}]).encode()
    [change] = QBOConnector.parse_webhook(raw)
    assert (change.entity, change.remote_id, change.operation, change.company_id) == \
        ("payment", "42", "create", sandbox.realm_id)


def test_tampered_webhook_is_refused_and_nothing_is_stored(two_way, client, sandbox):
    raw, signature = signed({"eventNotifications": [{"realmId": sandbox.realm_id, "dataChangeEvent": {
        "entities": [{"name": "Payment", "id": "1", "operation": "Create"}]}}]})
    tampered = raw.replace(b'"1"', b'"2"')
    response = client.post("/accounting-sync/webhooks/qbo/", tampered, content_type="application/json",
                           HTTP_INTUIT_SIGNATURE=signature)
    assert response.status_code == 401
    assert client.post("/accounting-sync/webhooks/qbo/", raw, content_type="application/json").status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_line_changed_in_quickbooks_updates_local_amounts_and_balance(two_way, make_invoice, sandbox):
    invoice, ref = synced_invoice(make_invoice, ("service", "2", "50.00"), ("product", "1", "10.00"))
    remote = sandbox.store.get("Invoice", ref.remote_id)
    lines = [dict(line) for line in remote["Line"] if line.get("DetailType") == "SalesItemLineDetail"]
    lines[0]["SalesItemLineDetail"] = {**lines[0]["SalesItemLineDetail"], "Qty": 3, "UnitPrice": "45.00"}
    lines[0]["Amount"] = "135.00"
    sandbox.store.write("Invoice", {"Id": ref.remote_id, "SyncToken": remote["SyncToken"], "sparse": True,
                                    "Line": lines, "TxnTaxDetail": {"TotalTax": "0"}})
    calls = len(sandbox.requests_log)
    assert inbound.pull(two_way).applied == 1
    invoice = Invoice.objects.get(pk=invoice.pk)
    first = invoice.lines.order_by("position").first()
    assert (first.quantity, first.unit_price) == (Decimal("3"), Decimal("45.00"))
    assert invoice.totals().total == Decimal("145.00")
    drain()
    assert not [r for r in sandbox.requests_log[calls:] if r[0] == "POST" and r[1].endswith("/invoice")]


def test_invoice_voided_in_quickbooks_needs_attention_then_void_locally_sends_nothing(two_way, make_invoice,
                                                                                       sandbox):
    invoice, ref = synced_invoice(make_invoice)
    remote = sandbox.store.get("Invoice", ref.remote_id)
    sandbox.store.write("Invoice", {"Id": ref.remote_id, "SyncToken": remote["SyncToken"]}, operation="void")
    assert inbound.pull(two_way).attention == 1
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert entry.status == EntryStatus.NEEDS_ATTENTION and entry.error_code == "remote_voided"
    assert "voided in QuickBooks Online" in entry.last_error and "Void locally" in entry.hint
    calls = len(sandbox.requests_log)
    assert inbound.void_locally(entry)
    assert Invoice.objects.get(pk=invoice.pk).status == "void"
    drain()
    assert not [r for r in sandbox.requests_log[calls:] if r[0] == "POST" and "/query" not in r[1]]
    assert OutboxEntry.objects.get(pk=entry.pk).status == EntryStatus.DONE


def test_push_only_connection_applies_nothing_and_says_so_once_per_cycle(make_connection, org, make_invoice,
                                                                          sandbox):
    conn = make_connection(org)  # direction: push
    invoice, ref = synced_invoice(make_invoice)
    pay_in_quickbooks(sandbox, ref, "10.00")
    pay_in_quickbooks(sandbox, ref, "20.00")
    result = inbound.pull(conn)
    assert result.applied == 0 and not Payment.objects.exists()
    notes = SyncLog.objects.filter(connection=conn, operation="pull", outcome=Outcome.SKIPPED)
    assert notes.count() == 1 and "only pushes" in notes.get().message


def test_invoice_deleted_in_quickbooks_can_be_re_sent_from_the_attention_list(two_way, make_invoice, sandbox,
                                                                               admin_client):
    invoice, ref = synced_invoice(make_invoice)
    remote = sandbox.store.get("Invoice", ref.remote_id)
    sandbox.store.write("Invoice", {"Id": ref.remote_id, "SyncToken": remote["SyncToken"]}, operation="delete")
    inbound.pull(two_way)
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert entry.error_code == "remote_deleted"
    page = admin_client.get("/admin/accounting_sync/attentionentry/").content.decode()
    assert "deleted in QuickBooks Online" in page and "Re-send" in page
    response = admin_client.post("/admin/accounting_sync/attentionentry/",
                                 {"action": "resend", "_selected_action": [entry.pk]})
    assert response.status_code == 302
    drain()
    [again] = sandbox.store.entities("Invoice")
    assert again["DocNumber"] == invoice.number and again["Id"] != ref.remote_id
    assert OutboxEntry.objects.get(pk=entry.pk).status == EntryStatus.DONE
    assert admin_client.get("/admin/accounting_sync/webhookdelivery/").status_code == 200
    assert admin_client.get("/admin/accounting_sync/pullcursor/").status_code == 200


def test_invoice_changed_on_both_sides_business_system_wins_and_conflict_is_logged(two_way, make_invoice, sandbox):
    invoice, ref = synced_invoice(make_invoice, ("service", "2", "50.00"))
    remote = sandbox.store.get("Invoice", ref.remote_id)
    lines = [dict(line) for line in remote["Line"] if line.get("DetailType") == "SalesItemLineDetail"]
    lines[0]["SalesItemLineDetail"] = {**lines[0]["SalesItemLineDetail"], "Qty": 1, "UnitPrice": "70.00"}
    lines[0]["Amount"] = "70.00"
    sandbox.store.write("Invoice", {"Id": ref.remote_id, "SyncToken": remote["SyncToken"], "sparse": True,
                                    "Line": lines, "TxnTaxDetail": {"TotalTax": "0"}})
    line = invoice.lines.get()
    line.unit_price = Decimal("55.00")
    line.save()  # changed here too, not yet sent
    inbound.pull(two_way)
    assert invoice.lines.get().unit_price == Decimal("55.00")  # ours stands
    conflict = SyncLog.objects.get(outcome=Outcome.CONFLICT)
    assert "changed both here and in QuickBooks Online" in conflict.message and "this system's version" in \
        conflict.message
    drain()
    assert Decimal(str(sandbox.store.get("Invoice", ref.remote_id)["TotalAmt"])) == Decimal("110.00")


def test_payment_changed_on_both_sides_platform_wins_by_default(two_way, make_invoice, sandbox):
    invoice, ref = synced_invoice(make_invoice)
    remote_payment = pay_in_quickbooks(sandbox, ref, "30.00")
    inbound.pull(two_way)
    payment = Payment.objects.get()
    payment.memo = "edited here"
    payment.amount = Decimal("35.00")
    payment.save()
    payment.allocations.update(amount=Decimal("35.00"))
    current = sandbox.store.get("Payment", remote_payment["Id"])
    sandbox.store.write("Payment", {"Id": current["Id"], "SyncToken": current["SyncToken"], "sparse": True,
                                    "TotalAmt": "45.00", "Line": [{"Amount": "45.00", "LinkedTxn": [
                                        {"TxnId": ref.remote_id, "TxnType": "Invoice"}]}]})
    inbound.pull(two_way)
    payment.refresh_from_db()
    assert payment.amount == Decimal("45.00")
    assert SyncLog.objects.filter(outcome=Outcome.CONFLICT, message__contains="platform's version wins").exists()
    drain()
    assert Decimal(str(sandbox.store.get("Payment", remote_payment["Id"])["TotalAmt"])) == Decimal("45.00")


def test_each_entity_keeps_its_cursor_and_the_poll_comes_round_every_five_minutes(two_way, sandbox, clock):
    from accounting_sync.models import PullCursor

    assert inbound.due_connections() == [two_way]
    tasks.pull_due()
    cursors = dict(PullCursor.objects.filter(connection=two_way).values_list("entity", "last_result"))
    assert set(cursors) == {"invoice", "payment", "credit_note"} and all("0 applied" in r for r in cursors.values())
    assert inbound.due_connections() == []
    clock.advance(4 * 60)
    assert inbound.due_connections() == []
    clock.advance(61)
    assert inbound.due_connections() == [two_way]


def test_tax_as_a_line_connection_reads_platform_changes_without_false_conflicts(make_connection, org, make_invoice,
                                                                                 sandbox):
    from tests import factories as f

    conn = make_connection(org, direction="both")
    conn.settings = {**conn.settings, "tax_mode": "line"}
    conn.save()
    rate = f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10"))
    invoice, ref = synced_invoice(make_invoice, ("service", "2", "50.00", rate))
    remote = sandbox.store.get("Invoice", ref.remote_id)
    assert Decimal(str(remote["TotalAmt"])) == Decimal("110.00")  # 100 + a "Tax" line of 10
    pay_in_quickbooks(sandbox, ref, "30.00")
    result = inbound.pull(conn)
    assert (result.applied, result.attention) == (1, 0), result
    assert not SyncLog.objects.filter(outcome=Outcome.CONFLICT).exists()
    assert invoice.lines.get().unit_price == Decimal("50.00")

    from accounting_sync import glpreview

    journal = glpreview.preview(conn, f"ledger.invoice:{invoice.pk}", None)
    assert journal.debits == journal.credits == Decimal("110.00")
    assert any("Tax" in line.description for line in journal.lines)
