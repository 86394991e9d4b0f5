"""Contacts and items made or changed in Xero come in on their own (issue 18): contacts through webhooks (CONTACT
events) and ``If-Modified-Since`` polling (archived ones included), items through polling (Xero sends no item
events). Matched to local ones first, never duplicated, edits applied by the conflict rule, archived contacts made
inactive here, the sync table's refusals logged, and nothing that came in sent back as a write."""
import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from accounting_sync import tasks
from accounting_sync.inbound import sync as inbound
from accounting_sync.models import ExternalReference, Outcome, SyncLog, WebhookDelivery
from connectors.models import LAB_PRESET
from ledger.models import Customer, Item
from tests import factories as f
from tests.conftest import drain

pytestmark = pytest.mark.django_db
KEY = "xero-webhook-key-for-tests"
WRITES = ("create", "adopt", "update", "update (re-read)", "void", "delete")


@pytest.fixture
def two_way(make_xero_connection, org, xsandbox, settings):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "WEBHOOK_SECRETS": {"xero": KEY}}
    xsandbox.limits.off()
    return make_xero_connection(org, direction="both", rate_limits=False)


def contact_webhook(client, xsandbox, contact_id: str, event="CREATE"):
    body = json.dumps({"events": [{"resourceUrl": f"https://api.xero.com/api.xro/2.0/Contacts/{contact_id}",
                                   "resourceId": contact_id, "eventDateUtc": "2026-11-20T10:00:00.000",
                                   "eventType": event, "eventCategory": "CONTACT",
                                   "tenantId": xsandbox.tenant_id, "tenantType": "ORGANISATION"}],
                       "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "S0M3R4ND0MT3XT"}).encode()
    signature = base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest()).decode()
    response = client.post("/accounting-sync/webhooks/xero/", body, content_type="application/json",
                           HTTP_X_XERO_SIGNATURE=signature)
    assert response.status_code == 200
    return tasks.process_webhook(WebhookDelivery.objects.order_by("-pk").first().pk)


def last_log() -> int:
    return SyncLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def written_since(conn, mark: int) -> list:
    return list(SyncLog.objects.filter(connection=conn, pk__gt=mark, operation__in=WRITES)
                .values_list("operation", "entity"))


def remote_id_of(conn, obj) -> str:
    return ExternalReference.objects.get(connection=conn, source_key=f"ledger.{obj._meta.model_name}:{obj.pk}"
                                         ).remote_id


def test_contact_created_in_xero_comes_in_once_from_webhook_and_poll(two_way, org, xsandbox, client):
    made = xsandbox.act_as_user("create_customer", name="Harbour Dental", email="books@harbour.example",
                                tax_number="51824753556")
    contact_webhook(client, xsandbox, made["ContactID"])
    inbound.pull(two_way)
    contact_webhook(client, xsandbox, made["ContactID"])  # delivered again
    [customer] = Customer.objects.filter(organization=org)
    assert (customer.name, customer.email, customer.tax_number) == ("Harbour Dental", "books@harbour.example",
                                                                     "51824753556")
    assert remote_id_of(two_way, customer) == made["ContactID"]
    mark = last_log()
    drain()
    assert written_since(two_way, mark) == []
    assert len(xsandbox.store.entities("Contacts")) == 1


def test_contact_created_there_is_linked_by_tax_number_then_email(two_way, org, xsandbox):
    by_tax = f.CustomerFactory(organization=org, name="Harbour Dental Pty", tax_number="51824753556")
    by_email = f.CustomerFactory(organization=org, name="Smile Lab Ltd", email="lab@smile.example")
    first = xsandbox.act_as_user("create_customer", name="Harbour Dental", tax_number="51824753556")
    second = xsandbox.act_as_user("create_customer", name="Smile Lab", email="LAB@smile.example")
    result = inbound.pull(two_way)
    assert (result.applied, result.failed, result.attention) == (2, 0, 0), result
    assert remote_id_of(two_way, by_tax) == first["ContactID"]
    assert remote_id_of(two_way, by_email) == second["ContactID"]
    assert Customer.objects.filter(organization=org).count() == 2
    mark = last_log()
    drain()
    assert written_since(two_way, mark) == []


def test_contact_edited_and_archived_in_xero_is_applied_here_and_not_sent_back(two_way, org, xsandbox, client):
    customer = f.CustomerFactory(organization=org, name="Harbour Dental", email="old@harbour.example")
    drain()
    remote_id = remote_id_of(two_way, customer)
    assert inbound.pull(two_way).applied == 0  # our own write, reported back
    mark = last_log()
    xsandbox.act_as_user("edit_customer", customer_id=remote_id, name="Harbour Dental Clinic",
                         email="books@harbour.example", tax_number="51824753556")
    contact_webhook(client, xsandbox, remote_id, "UPDATE")
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.tax_number) == ("Harbour Dental Clinic", "books@harbour.example",
                                                                     "51824753556")
    assert inbound.pull(two_way).applied == 0  # the poll reports it too: already applied
    xsandbox.act_as_user("edit_customer", customer_id=remote_id, active=False)
    inbound.pull(two_way)
    customer.refresh_from_db()
    assert customer.active is False
    drain()
    assert written_since(two_way, mark) == []


def test_item_created_and_edited_in_xero(two_way, org, xsandbox):
    made = xsandbox.act_as_user("create_item", name="Crown, zirconia", unit_price="40.00", code="ZR-1")
    inbound.pull(two_way)
    [item] = Item.objects.filter(organization=org)
    assert (item.name, item.sku, item.unit_price) == ("Crown, zirconia", "ZR-1", Decimal("40.00"))
    mark = last_log()
    xsandbox.act_as_user("edit_item", item_id=made["ItemID"], name="Crown, zirconia (full)", unit_price="45.50")
    inbound.pull(two_way)
    item.refresh_from_db()
    assert (item.name, item.unit_price) == ("Crown, zirconia (full)", Decimal("45.50"))
    assert inbound.pull(two_way).applied == 0
    drain()
    assert written_since(two_way, mark) == []
    assert Item.objects.filter(organization=org).count() == 1 and len(xsandbox.store.entities("Items")) == 1


def test_local_edit_goes_out_after_an_edit_came_in(two_way, org, xsandbox):
    item = f.ItemFactory(organization=org, name="Crown", sku="CR-1", unit_price=Decimal("10.00"))
    drain()
    remote_id = remote_id_of(two_way, item)
    xsandbox.act_as_user("edit_item", item_id=remote_id, unit_price="12.00")
    inbound.pull(two_way)
    item.refresh_from_db()
    assert item.unit_price == Decimal("12.00")
    mark = last_log()
    item.name = "Crown, porcelain"
    item.save()
    drain()
    assert written_since(two_way, mark) == [("update", "item")]
    assert xsandbox.store.get("Items", remote_id)["Name"] == "Crown, porcelain"


def test_contact_edited_on_both_sides_keeps_this_systems_version_by_default(two_way, org, xsandbox):
    customer = f.CustomerFactory(organization=org, name="Harbour Dental", email="a@harbour.example")
    drain()
    remote_id = remote_id_of(two_way, customer)
    two_way.auto_sync = False
    two_way.save()
    customer.email = "here@harbour.example"
    customer.save()
    xsandbox.act_as_user("edit_customer", customer_id=remote_id, email="there@harbour.example")
    inbound.pull(two_way)
    customer.refresh_from_db()
    assert customer.email == "here@harbour.example"
    assert SyncLog.objects.filter(connection=two_way, outcome=Outcome.CONFLICT, entity="customer").exists()


def test_lab_preset_keeps_contacts_and_items_made_there_out_and_says_so(make_xero_connection, org, xsandbox):
    xsandbox.limits.off()
    conn = make_xero_connection(org, direction="both", rate_limits=False)
    conn.operations = LAB_PRESET
    conn.save()
    xsandbox.act_as_user("create_customer", name="Harbour Dental")
    xsandbox.act_as_user("create_item", name="Crown, zirconia", unit_price="40.00")
    inbound.pull(conn)
    assert not Customer.objects.exists() and not Item.objects.exists()
    for entity in ("customer", "item"):
        assert SyncLog.objects.filter(connection=conn, outcome=Outcome.SKIPPED,
                                      message__contains=f"does not take {entity} creates").exists()


def test_supplier_only_contacts_are_not_customers(two_way, org, xsandbox):
    xsandbox.store.write("Invoices", [{"Type": "ACCPAY", "Contact": {"Name": "Dental Supplies Co"},
                                       "Date": "2026-11-20", "DueDate": "2026-12-20", "LineAmountTypes": "NoTax",
                                       "LineItems": [{"Description": "Gloves", "Quantity": "1", "UnitAmount": "10.00",
                                                      "AccountCode": "400"}]}], method="PUT")
    [supplier] = xsandbox.store.entities("Contacts")
    assert supplier["IsSupplier"] and not supplier["IsCustomer"]  # a bill made it a supplier, as in Xero
    inbound.pull(two_way)
    assert not Customer.objects.exists()
    xsandbox.act_as_user("create_customer", name="Harbour Dental")  # a contact with no bill yet: a customer
    inbound.pull(two_way)
    assert list(Customer.objects.values_list("name", flat=True)) == ["Harbour Dental"]
