"""Two-way sync with Xero: If-Modified-Since polling and signed webhooks (with the intent-to-receive handshake)
bring payments and voids back (issue 5)."""
import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from accounting_sync import inbound, tasks
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, WebhookDelivery
from ledger.models import Payment
from tests.conftest import drain

pytestmark = pytest.mark.django_db
KEY = "xero-webhook-key-for-tests"


@pytest.fixture
def two_way(make_xero_connection, org, xsandbox, settings):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "WEBHOOK_SECRETS": {"xero": KEY}}
    xsandbox.limits.off()
    return make_xero_connection(org, direction="both", rate_limits=False)


def synced_invoice(make_invoice):
    invoice = make_invoice(("service", "2", "50.00"))
    drain()
    return invoice, ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")


def pay_in_xero(xsandbox, ref, amount: str) -> dict:
    """What a bookkeeper does in Xero: apply a payment from the bank account to the invoice."""
    [payment] = xsandbox.store.write("Payments", [{"Invoice": {"InvoiceID": ref.remote_id},
                                                   "Account": {"Code": "090"}, "Amount": amount,
                                                   "Date": "2026-11-20", "Reference": "XERO-DEP-9"}], method="PUT")
    return payment


def signed(body: dict, key: str = KEY) -> tuple[bytes, str]:
    raw = json.dumps(body).encode()
    return raw, base64.b64encode(hmac.new(key.encode(), raw, hashlib.sha256).digest()).decode()


def test_payment_made_in_xero_arrives_with_one_poll_and_is_not_sent_back(two_way, make_invoice, xsandbox):
    invoice, ref = synced_invoice(make_invoice)
    pay_in_xero(xsandbox, ref, "40.00")
    result = inbound.pull(two_way)
    assert result.applied >= 1, result
    [payment] = Payment.objects.filter(organization=invoice.organization)
    assert payment.amount == Decimal("40.00") and payment.number == "XERO-DEP-9"
    assert [(a.invoice_id, a.amount) for a in payment.allocations.all()] == [(invoice.pk, Decimal("40.00"))]
    calls = len(xsandbox.requests_log)
    drain()
    assert not [r for r in xsandbox.requests_log[calls:] if r[0] in ("PUT", "POST")]
    assert not OutboxEntry.objects.filter(connection=two_way).exclude(status=EntryStatus.DONE).exists()


def test_payment_by_webhook_three_times_and_by_poll_is_applied_once(two_way, make_invoice, xsandbox, client):
    invoice, ref = synced_invoice(make_invoice)
    pay_in_xero(xsandbox, ref, "100.00")
    raw, signature = signed({"events": [{"resourceUrl": f"{xsandbox.api_base}/Invoices/{ref.remote_id}",
                                         "resourceId": ref.remote_id, "eventDateUtc": "2026-11-20T10:00:00.000",
                                         "eventType": "UPDATE", "eventCategory": "INVOICE",
                                         "tenantId": xsandbox.tenant_id, "tenantType": "ORGANISATION"}],
                             "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "QWERTYUIOP"})
    for _ in range(3):
        assert client.post("/accounting-sync/webhooks/xero/", raw, content_type="application/json",
                           HTTP_X_XERO_SIGNATURE=signature).status_code == 200
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.times_received == 3
    tasks.process_webhook(delivery.pk)
    inbound.pull(two_way)
    [payment] = Payment.objects.filter(organization=invoice.organization)
    assert payment.amount == Decimal("100.00")


def test_intent_to_receive_and_tampered_bodies(two_way, client):
    raw, signature = signed({"events": [], "firstEventSequence": 0, "lastEventSequence": 0,
                             "entropy": "S0M3R4ND0MT3XT"})
    good = client.post("/accounting-sync/webhooks/xero/", raw, content_type="application/json",
                       HTTP_X_XERO_SIGNATURE=signature)
    assert good.status_code == 200 and good.content == b""
    bad = client.post("/accounting-sync/webhooks/xero/", raw, content_type="application/json",
                      HTTP_X_XERO_SIGNATURE=base64.b64encode(b"x" * 32).decode())
    assert bad.status_code == 401
    tampered = client.post("/accounting-sync/webhooks/xero/", raw.replace(b"S0M3", b"S0M4"),
                           content_type="application/json", HTTP_X_XERO_SIGNATURE=signature)
    assert tampered.status_code == 401 and not WebhookDelivery.objects.exists()


def test_invoice_voided_in_xero_needs_attention(two_way, make_invoice, xsandbox):
    invoice, ref = synced_invoice(make_invoice)
    xsandbox.store.write("Invoices", [{"InvoiceID": ref.remote_id, "Status": "VOIDED"}], method="POST",
                         path_id=ref.remote_id)
    assert inbound.pull(two_way).attention == 1
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert entry.error_code == "remote_voided" and "voided in Xero" in entry.last_error
