"""The whole loop offline, over real loopback HTTP: a bookkeeper records a payment in the platform's sandbox, the
sandbox sends a signed webhook to the running Django app, the delivery is stored and processed, and the payment
is recorded here — for QuickBooks Online and for Xero (issue 5)."""
from decimal import Decimal

import pytest

from accounting_sync import tasks
from accounting_sync.models import DeliveryStatus, ExternalReference, WebhookDelivery
from ledger.models import Payment
from tests.conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)
SECRETS = {"qbo": "qbo-verifier-token", "xero": "xero-webhook-key"}


@pytest.fixture
def webhook_secrets(settings):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "WEBHOOK_SECRETS": SECRETS}


def test_quickbooks_payment_comes_back_by_webhook(live_server, webhook_secrets, make_connection, org, make_invoice,
                                                  sandbox):
    make_connection(org, direction="both")
    invoice = make_invoice()
    drain()
    ref = ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    sandbox.webhooks.configure(f"{live_server.url}/accounting-sync/webhooks/qbo/", SECRETS["qbo"],
                               payload="cloudevents", batch_window=30)
    try:
        sandbox.store.record_payment_as_user(ref.remote_id, "25.00", ref_num="UI-1")
        [delivery] = [d for d in sandbox.webhooks.flush() if d.status]
        assert delivery.status == 200
        stored = WebhookDelivery.objects.get()
        tasks.process_webhook(stored.pk)
        stored.refresh_from_db()
        assert stored.status == DeliveryStatus.PROCESSED
        [payment] = Payment.objects.all()
        assert payment.amount == Decimal("25.00") and payment.allocations.get().invoice_id == invoice.pk
    finally:
        sandbox.webhooks.disable()


def test_xero_payment_comes_back_by_webhook_after_intent_to_receive(live_server, webhook_secrets, xsandbox,
                                                                    make_xero_connection, org, make_invoice):
    xsandbox.limits.off()
    make_xero_connection(org, direction="both", rate_limits=False)
    invoice = make_invoice()
    drain()
    ref = ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    xsandbox.webhooks.configure(f"{live_server.url}/accounting-sync/webhooks/xero/", SECRETS["xero"],
                                batch_window=30)
    try:
        assert xsandbox.webhooks.intent_to_receive()["passed"]  # what Xero checks when the URL is saved
        xsandbox.store.record_payment_as_user(ref.remote_id, "25.00", reference="UI-2")
        delivered = [d for d in xsandbox.webhooks.flush() if d.status]
        assert delivered and all(d.status == 200 for d in delivered)
        for stored in WebhookDelivery.objects.all():
            tasks.process_webhook(stored.pk)
        [payment] = Payment.objects.all()
        assert payment.amount == Decimal("25.00") and payment.number == "UI-2"
    finally:
        xsandbox.webhooks.disable()
