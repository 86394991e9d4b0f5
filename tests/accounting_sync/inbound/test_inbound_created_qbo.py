"""Documents created in QuickBooks Online come in (issue 18): an invoice a user makes in the QBO sandbox becomes a
local invoice once, however many times it is reported; its customer and items are matched to local ones first; what
the sync table does not take in stays out and says so; nothing that came in goes back out as a new write."""
import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from accounting_sync.inbound import sync as inbound
from accounting_sync import tasks
from accounting_sync.ledger_adapters import InvoiceAdapter
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, Outcome, SyncLog
from accounting_sync.core.sources import SourceAdapter
from connectors.models import LAB_PRESET
from ledger.models import Customer, Invoice, Item, Payment
from tests import factories as f
from tests.conftest import drain, tax_code_id

pytestmark = pytest.mark.django_db
SECRET = "verifier-token-for-tests"
WRITES = ("create", "adopt", "update", "update (re-read)", "void", "delete")


@pytest.fixture
def two_way(make_connection, org, settings):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "WEBHOOK_SECRETS": {"qbo": SECRET}}
    return make_connection(org, direction="both")


def customer_in_quickbooks(sandbox, name="Harbour Dental", email="books@harbour.example", **extra) -> dict:
    return sandbox.store.write("Customer", {"DisplayName": name, "PrimaryEmailAddr": {"Address": email}, **extra})


def item_in_quickbooks(sandbox, name="Crown, zirconia", price="40.00", sku="ZR-1") -> dict:
    income = next(a for a in sandbox.store.entities("Account") if a["Name"] == "Sales")
    return sandbox.store.write("Item", {"Name": name, "Type": "Service", "UnitPrice": price, "Sku": sku,
                                        "IncomeAccountRef": {"value": income["Id"]}})


def invoice_in_quickbooks(sandbox, customer: dict, item: dict, number="QB-1001", tax_code=None) -> dict:
    """What a bookkeeper does in QuickBooks: a new invoice with two lines of ``item``."""
    def line(qty, price):
        detail = {"ItemRef": {"value": item["Id"]}, "Qty": qty, "UnitPrice": price}
        if tax_code:
            detail["TaxCodeRef"] = {"value": tax_code}
        return {"Amount": str(Decimal(qty) * Decimal(price)), "DetailType": "SalesItemLineDetail",
                "Description": "Upper left", "SalesItemLineDetail": detail}

    return sandbox.store.write("Invoice", {"CustomerRef": {"value": customer["Id"]}, "DocNumber": number,
                                           "TxnDate": "2026-11-20", "DueDate": "2026-12-20",
                                           "Line": [line("2", "40.00"), line("1", "25.00")]})


def webhook(client, sandbox, entity: str, remote_id: str, operation="Create"):
    body = json.dumps({"eventNotifications": [{"realmId": sandbox.realm_id, "dataChangeEvent": {"entities": [
        {"name": entity, "id": remote_id, "operation": operation, "lastUpdated": "2026-11-20T10:00:00Z"}]}}]}).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    response = client.post("/accounting-sync/webhooks/qbo/", body, content_type="application/json",
                           HTTP_INTUIT_SIGNATURE=signature)
    assert response.status_code == 200
    from accounting_sync.models import WebhookDelivery

    return tasks.process_webhook(WebhookDelivery.objects.order_by("-pk").first().pk)


def written_since(conn, mark: int) -> list:
    return list(SyncLog.objects.filter(connection=conn, pk__gt=mark, operation__in=WRITES)
                .values_list("operation", "entity"))


def last_log() -> int:
    return SyncLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_invoice_created_in_quickbooks_comes_in_once_from_webhook_and_poll_and_is_not_sent_back(
        two_way, org, sandbox, client):
    remote = invoice_in_quickbooks(sandbox, customer_in_quickbooks(sandbox), item_in_quickbooks(sandbox))
    webhook(client, sandbox, "Invoice", remote["Id"])
    inbound.pull(two_way)
    webhook(client, sandbox, "Invoice", remote["Id"])  # delivered again: platforms deliver at least once
    [invoice] = Invoice.objects.filter(organization=org)
    assert invoice.number == "QB-1001" and str(invoice.issue_date) == "2026-11-20"
    assert str(invoice.due_date) == "2026-12-20"
    assert [(line.quantity, line.unit_price, line.item.name) for line in invoice.lines.all()] == [
        (Decimal("2"), Decimal("40.00"), "Crown, zirconia"), (Decimal("1"), Decimal("25.00"), "Crown, zirconia")]
    assert invoice.totals().total == Decimal("105.00")
    [customer] = Customer.objects.filter(organization=org)
    assert (customer.name, customer.email) == ("Harbour Dental", "books@harbour.example")
    [item] = Item.objects.filter(organization=org)
    assert item.sku == "ZR-1" and item.unit_price == Decimal("40.00")
    ref = ExternalReference.objects.get(connection=two_way, source_key=f"ledger.invoice:{invoice.pk}")
    assert ref.remote_id == remote["Id"] and ref.content_hash
    assert ExternalReference.objects.filter(connection=two_way, entity="customer",
                                            remote_id=str(remote["CustomerRef"]["value"])).exists()
    assert SyncLog.objects.filter(connection=two_way, outcome=Outcome.SUCCESS,
                                  message__contains="QB-1001 from QuickBooks Online created here").count() == 1
    mark = last_log()
    drain()
    invoice.memo = "printed"  # and a later local edit goes out as an update of the same document
    invoice.save()
    drain()
    assert written_since(two_way, mark) == [("update", "invoice")]
    assert len(sandbox.store.entities("Invoice")) == 1 and len(sandbox.store.entities("Customer")) == 1


def test_customer_is_matched_by_email_then_name_never_duplicated(two_way, org, sandbox):
    mine = f.CustomerFactory(organization=org, name="Harbour Dental Clinic", email="BOOKS@harbour.example")
    same_name = f.CustomerFactory(organization=org, name="Smile Lab", email="")
    item = item_in_quickbooks(sandbox)
    invoice_in_quickbooks(sandbox, customer_in_quickbooks(sandbox), item, number="QB-1")
    invoice_in_quickbooks(sandbox, customer_in_quickbooks(sandbox, name="Smile Lab", email="lab@smile.example"),
                          item, number="QB-2")
    result = inbound.pull(two_way)
    assert result.applied == 5, result  # the two customers (linked) and the item come in on their own first
    assert Invoice.objects.filter(organization=org).count() == 2
    assert Customer.objects.filter(organization=org).count() == 2
    assert Invoice.objects.get(number="QB-1").customer == mine
    assert Invoice.objects.get(number="QB-2").customer == same_name
    mark = last_log()
    drain()
    assert written_since(two_way, mark) == []  # the matched customers are linked, not created in QuickBooks again
    assert len(sandbox.store.entities("Customer")) == 2


def test_customer_is_matched_by_tax_number_before_email(two_way, org, sandbox):
    by_tax = f.CustomerFactory(organization=org, name="Harbour Dental Pty", email="", tax_number="51 824 753 556")
    f.CustomerFactory(organization=org, name="Someone else", email="books@harbour.example")
    remote = customer_in_quickbooks(sandbox, BusinessNumber="51 824 753 556")
    invoice_in_quickbooks(sandbox, remote, item_in_quickbooks(sandbox))
    inbound.pull(two_way)
    assert Invoice.objects.get(number="QB-1001").customer == by_tax


def test_item_is_matched_by_sku_and_tax_code_maps_back_to_the_local_rate(two_way, org, sandbox):
    rate = f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10"))
    local_item = f.ItemFactory(organization=org, name="Zirconia crown", sku="ZR-1")
    invoice_in_quickbooks(sandbox, customer_in_quickbooks(sandbox), item_in_quickbooks(sandbox),
                          tax_code=tax_code_id(sandbox, "GST 10%"))
    inbound.pull(two_way)
    invoice = Invoice.objects.get(number="QB-1001")
    assert {line.item for line in invoice.lines.all()} == {local_item}
    assert {line.tax_rate for line in invoice.lines.all()} == {rate}
    assert Item.objects.filter(organization=org).count() == 1
    assert invoice.totals().total == Decimal("115.50")


def test_creation_the_sync_table_does_not_take_in_stays_out_and_is_logged(make_connection, org, sandbox):
    table = {**LAB_PRESET, "invoice": {**LAB_PRESET["invoice"], "create": "out"}}
    conn = make_connection(org, direction="both", operations=table)
    invoice_in_quickbooks(sandbox, customer_in_quickbooks(sandbox), item_in_quickbooks(sandbox))
    inbound.pull(conn)
    assert not Invoice.objects.exists() and not Customer.objects.exists()
    assert SyncLog.objects.filter(connection=conn, outcome=Outcome.SKIPPED,
                                  message__contains="does not take invoice creates").exists()


def test_lab_preset_takes_invoices_in_but_not_a_customer_it_would_have_to_create(make_connection, org, sandbox):
    conn = make_connection(org, direction="both", operations=LAB_PRESET)  # customers: created out only
    invoice_in_quickbooks(sandbox, customer_in_quickbooks(sandbox), item_in_quickbooks(sandbox))
    assert inbound.pull(conn).attention == 1
    assert not Invoice.objects.exists() and not Customer.objects.exists()
    entry = OutboxEntry.objects.get(connection=conn, status=EntryStatus.NEEDS_ATTENTION)
    assert entry.error_code == "not_taken" and "Harbour Dental" in entry.last_error
    known = f.CustomerFactory(organization=org, name="Harbour Dental")  # staff create it here, then retry
    f.ItemFactory(organization=org, name="Crown, zirconia")  # items: the preset takes none in either
    from accounting_sync.staff.admin import retry_entries

    assert retry_entries(OutboxEntry.objects.filter(pk=entry.pk)) == 1
    assert Invoice.objects.get().customer == known
    assert OutboxEntry.objects.get(pk=entry.pk).status == EntryStatus.DONE


class OneWayInvoices(InvoiceAdapter):
    """A host's invoice adapter that does not create invoices from the platform."""

    create_from_platform = SourceAdapter.create_from_platform


def test_host_adapter_without_the_hook_gets_an_attention_item_in_admin(two_way, org, sandbox, settings,
                                                                       admin_client):
    host = settings.ACCOUNTING_SYNC
    settings.ACCOUNTING_SYNC = {**host, "SOURCES": [  # the ledger's, its invoices replaced
        {"model": "ledger.Invoice", "adapter": f"{__name__}.OneWayInvoices"}]}
    invoice_in_quickbooks(sandbox, customer_in_quickbooks(sandbox), item_in_quickbooks(sandbox))
    assert inbound.pull(two_way).attention == 1
    assert not Invoice.objects.exists()
    assert Customer.objects.get().name == "Harbour Dental"  # customers come in on their own (their adapter can)
    entry = OutboxEntry.objects.get(connection=two_way)
    assert entry.status == EntryStatus.NEEDS_ATTENTION and entry.error_code == "adapter_unsupported"
    assert "OneWayInvoices" in entry.last_error and "create_from_platform" in entry.hint
    page = admin_client.get("/admin/accounting_sync/attentionentry/").content.decode()
    assert "QB-1001 from QuickBooks Online" in page
    assert inbound.pull(two_way).attention == 1  # reported again (the poll's overlap): still one item
    assert OutboxEntry.objects.filter(connection=two_way).count() == 1
    settings.ACCOUNTING_SYNC = host  # the host's invoices can be created from the platform now: "Retry"
    from accounting_sync.staff.admin import retry_entries

    assert retry_entries(OutboxEntry.objects.filter(pk=entry.pk)) == 1
    assert Invoice.objects.get().number == "QB-1001"
    assert OutboxEntry.objects.get(pk=entry.pk).status == EntryStatus.DONE


def test_edited_line_on_the_platform_updates_local_amounts_and_balance(two_way, org, sandbox):
    remote = invoice_in_quickbooks(sandbox, customer_in_quickbooks(sandbox), item_in_quickbooks(sandbox))
    inbound.pull(two_way)
    sandbox.act_as_user("record_payment", invoice_id=remote["Id"], amount="50.00")
    inbound.pull(two_way)
    invoice = Invoice.objects.get()
    [payment] = Payment.objects.all()
    assert payment.allocations.get().invoice == invoice
    sandbox.act_as_user("edit_invoice_line", invoice_id=remote["Id"], line=1, unit_price="45.00")
    inbound.pull(two_way)
    assert [line.unit_price for line in invoice.lines.all()] == [Decimal("40.00"), Decimal("45.00")]
    total = invoice.totals().total
    assert total == Decimal("125.00")
    assert total - sum(a.amount for a in invoice.payment_allocations.all()) == Decimal("75.00")
    assert Decimal(str(sandbox.store.get("Invoice", remote["Id"])["Balance"])) == Decimal("75.00")
    mark = last_log()
    drain()
    assert written_since(two_way, mark) == []


def test_payment_announced_before_its_new_invoice_brings_the_invoice_in_first(two_way, org, sandbox, client):
    remote = invoice_in_quickbooks(sandbox, customer_in_quickbooks(sandbox), item_in_quickbooks(sandbox))
    paid = sandbox.act_as_user("record_payment", invoice_id=remote["Id"], amount="105.00")
    webhook(client, sandbox, "Payment", paid["Id"])
    invoice = Invoice.objects.get()
    assert Payment.objects.get().allocations.get().invoice == invoice
    assert inbound.pull(two_way).applied == 0  # the poll finds both known
    assert Invoice.objects.count() == Payment.objects.count() == 1


def test_payment_creation_the_table_does_not_take_in_is_not_recorded(make_connection, org, sandbox):
    table = {**LAB_PRESET, "customer": {"create": "both", "update": "out", "delete": "none"},
             "item": {"create": "both", "update": "none", "delete": "none"},
             "payment": {"create": "out", "update": "both", "delete": "both"}}
    conn = make_connection(org, direction="both", operations=table)
    remote = invoice_in_quickbooks(sandbox, customer_in_quickbooks(sandbox), item_in_quickbooks(sandbox))
    sandbox.act_as_user("record_payment", invoice_id=remote["Id"], amount="10.00")
    inbound.pull(conn)
    assert Invoice.objects.count() == 1 and not Payment.objects.exists()
    assert SyncLog.objects.filter(connection=conn, outcome=Outcome.SKIPPED,
                                  message__contains="does not take payment creates").exists()


def test_an_invoice_another_connection_sent_to_the_same_company_is_not_created_again(make_connection, org, sandbox,
                                                                                   make_invoice):
    """Two organizations sharing one QuickBooks company: what one sent is not a new document for the other."""
    other_org = f.OrganizationFactory()
    make_connection(org, direction="both")
    theirs = make_connection(other_org, direction="both")
    make_invoice()
    drain()
    assert len(sandbox.store.entities("Invoice")) == 1
    inbound.pull(theirs)
    assert not Invoice.objects.filter(organization=other_org).exists()
    assert SyncLog.objects.filter(connection=theirs, outcome=Outcome.SKIPPED,
                                  message__contains="sent from here through").exists()


def test_credit_memo_applied_in_quickbooks_comes_in_with_its_application(two_way, org, sandbox):
    """A credit memo a user makes and applies to an invoice ("Receive payment" of 0 using the credit): both come
    in, the local credit note applied to the local invoice for that amount; nothing goes back out."""
    customer, item = customer_in_quickbooks(sandbox), item_in_quickbooks(sandbox)
    invoice = invoice_in_quickbooks(sandbox, customer, item)
    memo = sandbox.store.write("CreditMemo", {"CustomerRef": {"value": customer["Id"]}, "DocNumber": "CM-7",
                                              "TxnDate": "2026-11-21", "Line": [{
                                                  "Amount": "30.00", "DetailType": "SalesItemLineDetail",
                                                  "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]},
                                                                          "Qty": "1", "UnitPrice": "30.00"}}]})
    sandbox.store.write("Payment", {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": "0", "Line": [
        {"Amount": "30.00", "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]},
        {"Amount": "30.00", "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}]}]})
    result = inbound.pull(two_way)
    assert result.failed == 0 and result.attention == 0, result
    from ledger.models import CreditNote

    credit = CreditNote.objects.get(number="CM-7")
    assert list(credit.allocations.values_list("invoice__number", "amount")) == [("QB-1001", Decimal("30.00"))]
    assert not Payment.objects.exists()  # the zero-total payment moved no money: it is the credit's application
    mark = last_log()
    assert inbound.pull(two_way).applied == 0
    drain()
    assert written_since(two_way, mark) == []
