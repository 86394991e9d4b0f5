"""Two-way sync, what only QuickBooks Online does (issue 5): CloudEvents webhooks, invoices deleted by a user, payments
edited there, tax as a line. What every platform does is in test_platform_inbound.py."""
import json
from decimal import Decimal

import pytest

from accounting_sync.inbound import sync as inbound
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, Outcome, SyncLog
from ledger.models import Payment
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


def test_cloudevents_payload_is_understood(two_way, make_invoice, sandbox):
    from connectors.qbo.connector import QBOConnector

    source = "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU="
    raw = json.dumps([{"specversion": "1.0", "id": "e1", "source": source,
                       "type": "qbo.payment.created.v1", "time": "2026-11-20T10:00:00Z",
                       "intuitentityid": "42", "intuitaccountid": sandbox.realm_id}]).encode()
    [change] = QBOConnector.parse_webhook(raw)
    assert (change.entity, change.remote_id, change.operation, change.company_id) == \
        ("payment", "42", "create", sandbox.realm_id)


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

    from accounting_sync.staff import glpreview

    journal = glpreview.preview(conn, f"ledger.invoice:{invoice.pk}", None)
    assert journal.debits == journal.credits == Decimal("110.00")
    assert any("Tax" in line.description for line in journal.lines)
