"""Documents created in Xero come in (issue 18): an invoice a user makes in the Xero sandbox becomes a local invoice
once, its contact matched by tax number, e-mail or name and never duplicated; what the sync table does not take in
stays out and says so; nothing that came in goes back out as a new write."""
import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from accounting_sync.inbound import sync as inbound
from accounting_sync import tasks
from accounting_sync.models import ExternalReference, Outcome, SyncLog, WebhookDelivery
from ledger.models import Customer, Invoice, Item, Payment
from tests import factories as f
from tests.conftest import drain

pytestmark = pytest.mark.django_db
KEY = "xero-webhook-key-for-tests"
WRITES = ("create", "adopt", "update", "update (re-read)", "void", "delete")


@pytest.fixture
def two_way(make_xero_connection, org, xsandbox, settings):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "WEBHOOK_SECRETS": {"xero": KEY}}
    xsandbox.limits.off()
    f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10"))
    return make_xero_connection(org, direction="both", rate_limits=False)


def contact_in_xero(xsandbox, name="Harbour Dental", email="books@harbour.example", tax_number="") -> dict:
    contact = {"Name": name, "EmailAddress": email}
    if tax_number:
        contact["TaxNumber"] = tax_number
    return xsandbox.store.write("Contacts", [contact], method="PUT")[0]


def item_in_xero(xsandbox, code="ZR-1", name="Crown, zirconia") -> dict:
    return xsandbox.store.write("Items", [{"Code": code, "Name": name, "SalesDetails": {
        "UnitPrice": "40.00", "AccountCode": "200"}}], method="PUT")[0]


def invoice_in_xero(xsandbox, contact: dict, item: dict, number="XR-1001") -> dict:
    """What a bookkeeper does in Xero: a new approved invoice with two lines of ``item``, GST on each."""
    def line(quantity, price):
        return {"ItemCode": item["Code"], "Description": "Upper left", "Quantity": quantity, "UnitAmount": price,
                "AccountCode": "200", "TaxType": "OUTPUT"}

    return xsandbox.store.write("Invoices", [{
        "Type": "ACCREC", "Contact": {"ContactID": contact["ContactID"]}, "InvoiceNumber": number,
        "Date": "2026-11-20", "DueDate": "2026-12-20", "Status": "AUTHORISED", "LineAmountTypes": "Exclusive",
        "LineItems": [line("2", "40.00"), line("1", "25.00")]}], method="PUT")[0]


def webhook(client, xsandbox, invoice_id: str):
    body = json.dumps({"events": [{"resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{invoice_id}",
                                   "resourceId": invoice_id, "eventDateUtc": "2026-11-20T10:00:00.000",
                                   "eventType": "CREATE", "eventCategory": "INVOICE",
                                   "tenantId": xsandbox.tenant_id, "tenantType": "ORGANISATION"}],
                       "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "S0M3R4ND0MT3XT"}).encode()
    signature = base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest()).decode()
    response = client.post("/accounting-sync/webhooks/xero/", body, content_type="application/json",
                           HTTP_X_XERO_SIGNATURE=signature)
    assert response.status_code == 200
    return tasks.process_webhook(WebhookDelivery.objects.order_by("-pk").first().pk)


def written_since(conn, mark: int) -> list:
    return list(SyncLog.objects.filter(connection=conn, pk__gt=mark, operation__in=WRITES)
                .values_list("operation", "entity"))


def last_log() -> int:
    return SyncLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_invoice_created_in_xero_comes_in_once_from_webhook_and_poll_and_is_not_sent_back(two_way, org, xsandbox,
                                                                                         client):
    remote = invoice_in_xero(xsandbox, contact_in_xero(xsandbox), item_in_xero(xsandbox))
    webhook(client, xsandbox, remote["InvoiceID"])
    inbound.pull(two_way)
    webhook(client, xsandbox, remote["InvoiceID"])
    [invoice] = Invoice.objects.filter(organization=org)
    assert invoice.number == "XR-1001" and str(invoice.issue_date) == "2026-11-20"
    assert str(invoice.due_date) == "2026-12-20"
    lines = list(invoice.lines.all())
    assert [(line.quantity, line.unit_price) for line in lines] == [(Decimal("2"), Decimal("40.00")),
                                                                    (Decimal("1"), Decimal("25.00"))]
    assert {line.tax_rate.name for line in lines} == {"GST 10%"}  # OUTPUT maps back to the local rate
    assert invoice.totals().total == Decimal(str(remote["Total"])) == Decimal("115.50")
    [item] = Item.objects.filter(organization=org)
    assert (item.sku, item.name) == ("ZR-1", "Crown, zirconia")
    assert Customer.objects.filter(organization=org).count() == 1
    assert ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}").remote_id == remote["InvoiceID"]
    mark = last_log()
    drain()
    assert written_since(two_way, mark) == []
    assert len(xsandbox.store.entities("Invoices")) == 1 and len(xsandbox.store.entities("Contacts")) == 1


def test_contact_is_matched_by_tax_number_then_email_never_duplicated(two_way, org, xsandbox):
    by_tax = f.CustomerFactory(organization=org, name="Harbour Dental Pty", email="", tax_number="51824753556")
    by_email = f.CustomerFactory(organization=org, name="Smile Lab Ltd", email="lab@smile.example")
    item = item_in_xero(xsandbox)
    invoice_in_xero(xsandbox, contact_in_xero(xsandbox, tax_number="51824753556"), item, number="XR-1")
    invoice_in_xero(xsandbox, contact_in_xero(xsandbox, name="Smile Lab", email="LAB@smile.example"), item,
                    number="XR-2")
    assert inbound.pull(two_way).applied == 5  # the two contacts (linked) and the item on their own, then 2 invoices
    assert Invoice.objects.get(number="XR-1").customer == by_tax
    assert Invoice.objects.get(number="XR-2").customer == by_email
    assert Customer.objects.filter(organization=org).count() == 2
    mark = last_log()
    drain()
    assert written_since(two_way, mark) == []
    assert len(xsandbox.store.entities("Contacts")) == 2


def test_creation_the_sync_table_does_not_take_in_stays_out_and_is_logged(make_xero_connection, org, xsandbox):
    xsandbox.limits.off()
    table = {e: {"create": "out", "update": "both", "delete": "both"}
             for e in ("customer", "item", "invoice", "payment", "credit_note")}
    conn = make_xero_connection(org, direction="both", rate_limits=False)
    conn.operations = table
    conn.save()
    invoice_in_xero(xsandbox, contact_in_xero(xsandbox), item_in_xero(xsandbox))
    inbound.pull(conn)
    assert not Invoice.objects.exists() and not Customer.objects.exists()
    assert SyncLog.objects.filter(connection=conn, outcome=Outcome.SKIPPED,
                                  message__contains="does not take invoice creates").exists()


def test_payment_and_line_edit_on_a_created_invoice(two_way, org, xsandbox):
    remote = invoice_in_xero(xsandbox, contact_in_xero(xsandbox), item_in_xero(xsandbox))
    inbound.pull(two_way)
    xsandbox.act_as_user("edit_invoice_line", invoice_id=remote["InvoiceID"], line=1, unit_amount="35.00")
    inbound.pull(two_way)
    xsandbox.act_as_user("record_payment", invoice_id=remote["InvoiceID"], amount="15.50")  # Xero: no edits after
    inbound.pull(two_way)
    invoice = Invoice.objects.get()
    assert [line.unit_price for line in invoice.lines.all()] == [Decimal("40.00"), Decimal("35.00")]
    assert invoice.totals().total == Decimal("126.50")
    assert Payment.objects.get().allocations.get().invoice == invoice
    assert invoice.totals().total - Decimal("15.50") == Decimal("111.00")
    mark = last_log()
    drain()
    assert written_since(two_way, mark) == []
