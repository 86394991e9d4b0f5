"""Customers and items made or changed in QuickBooks Online come in on their own (issue 18), per the issue's table:

| entity   | create                                    | update                                                 |
|----------|-------------------------------------------|--------------------------------------------------------|
| customer | in: created here, or linked to the local  | in: name, e-mail, tax number, active flag applied by   |
|          | one it matches (tax number, e-mail, name) | the conflict rule; out: a local edit is sent           |
| item     | in: created here, or linked (SKU, name)   | in: name, SKU, price, active flag                      |

Both directions, the table's refusals visible in the log, one local record however many times a webhook and a poll
report it, and nothing that came in sent back as a write. The user's actions are the sandbox's "as a user" helpers.
"""
import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from accounting_sync import tasks
from accounting_sync.core.sources import SourceAdapter
from accounting_sync.inbound import sync as inbound
from accounting_sync.ledger_adapters import CustomerAdapter
from accounting_sync.models import (EntryStatus, ExternalReference, OutboxEntry, Outcome, SyncLog,
                                    WebhookDelivery)
from connectors.models import LAB_PRESET
from ledger.models import Customer, Item
from tests import factories as f
from tests.conftest import drain

pytestmark = pytest.mark.django_db
SECRET = "verifier-token-for-tests"
WRITES = ("create", "adopt", "update", "update (re-read)", "void", "delete")


@pytest.fixture
def two_way(make_connection, org, settings):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "WEBHOOK_SECRETS": {"qbo": SECRET}}
    return make_connection(org, direction="both")


def webhook(client, sandbox, entity: str, remote_id: str, operation="Create"):
    body = json.dumps({"eventNotifications": [{"realmId": sandbox.realm_id, "dataChangeEvent": {"entities": [
        {"name": entity, "id": remote_id, "operation": operation, "lastUpdated": "2026-11-20T10:00:00Z"}]}}]}).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    response = client.post("/accounting-sync/webhooks/qbo/", body, content_type="application/json",
                           HTTP_INTUIT_SIGNATURE=signature)
    assert response.status_code == 200
    return tasks.process_webhook(WebhookDelivery.objects.order_by("-pk").first().pk)


def last_log() -> int:
    return SyncLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def written_since(conn, mark: int) -> list:
    return list(SyncLog.objects.filter(connection=conn, pk__gt=mark, operation__in=WRITES)
                .values_list("operation", "entity"))


def test_customer_created_in_quickbooks_comes_in_once_from_webhook_and_poll(two_way, org, sandbox, client):
    made = sandbox.act_as_user("create_customer", name="Harbour Dental", email="books@harbour.example",
                               tax_number="51 824 753 556")
    webhook(client, sandbox, "Customer", made["Id"])
    inbound.pull(two_way)
    webhook(client, sandbox, "Customer", made["Id"], "Update")  # delivered again
    [customer] = Customer.objects.filter(organization=org)
    assert (customer.name, customer.email, customer.tax_number) == ("Harbour Dental", "books@harbour.example",
                                                                     "51 824 753 556")
    ref = ExternalReference.objects.get(connection=two_way, source_key=f"ledger.customer:{customer.pk}")
    assert ref.remote_id == made["Id"] and ref.content_hash
    assert SyncLog.objects.filter(connection=two_way, outcome=Outcome.SUCCESS, entity="customer",
                                  message__contains="created here").count() == 1
    mark = last_log()
    drain()
    assert written_since(two_way, mark) == []  # not sent back
    assert len(sandbox.store.entities("Customer")) == 1


@pytest.mark.parametrize("match", ["tax", "email", "name"])
def test_customer_created_there_is_linked_to_the_local_one_it_matches(two_way, org, sandbox, match):
    mine = f.CustomerFactory(organization=org, name="Harbour Dental" if match == "name" else "Harbour Dental Pty",
                             email="BOOKS@harbour.example" if match == "email" else "",
                             tax_number="51824753556" if match == "tax" else "")
    f.CustomerFactory(organization=org, name="Someone else", email="other@elsewhere.example")
    # (not sent yet: QuickBooks keeps display names unique, so a name match is a customer not sent from here)
    made = sandbox.act_as_user("create_customer", name="Harbour Dental", email="books@harbour.example",
                               tax_number="51824753556" if match == "tax" else None)
    result = inbound.pull(two_way)
    assert result.failed == 0 and result.attention == 0 and result.applied == 1, result
    assert Customer.objects.filter(organization=org).count() == 2  # never duplicated
    assert ExternalReference.objects.get(connection=two_way, source_key=f"ledger.customer:{mine.pk}"
                                         ).remote_id == made["Id"]
    assert SyncLog.objects.filter(connection=two_way, outcome=Outcome.SUCCESS,
                                  message__contains="linked to Harbour Dental").exists()


def test_customer_matched_by_tax_number_before_email(two_way, org, sandbox):
    by_tax = f.CustomerFactory(organization=org, name="Harbour Dental Pty", tax_number="51 824 753 556")
    f.CustomerFactory(organization=org, name="Someone else", email="books@harbour.example")
    made = sandbox.act_as_user("create_customer", name="Harbour Dental", email="books@harbour.example",
                               tax_number="51 824 753 556")
    assert inbound.pull(two_way).applied == 1
    assert ExternalReference.objects.get(connection=two_way, entity="customer",
                                         remote_id=made["Id"]).source_key == f"ledger.customer:{by_tax.pk}"
    assert Customer.objects.filter(organization=org).count() == 2
    by_tax.refresh_from_db()
    assert by_tax.name == "Harbour Dental Pty"  # linking changes nothing here


def test_customer_edited_in_quickbooks_is_applied_here_and_not_sent_back(two_way, org, sandbox):
    customer = f.CustomerFactory(organization=org, name="Harbour Dental", email="old@harbour.example")
    drain()
    remote_id = ExternalReference.objects.get(connection=two_way, source_key=f"ledger.customer:{customer.pk}").remote_id
    inbound.pull(two_way)  # our own write, reported back: nothing to do
    assert not SyncLog.objects.filter(connection=two_way, operation="pull customer",
                                      outcome=Outcome.SUCCESS).exists()
    sandbox.act_as_user("edit_customer", customer_id=remote_id, name="Harbour Dental Clinic",
                        email="books@harbour.example", tax_number="51824753556")
    mark = last_log()
    assert inbound.pull(two_way).applied == 1
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.tax_number) == ("Harbour Dental Clinic", "books@harbour.example",
                                                                     "51824753556")
    assert inbound.pull(two_way).applied == 0  # reported again: already applied
    drain()
    assert written_since(two_way, mark) == []
    customer.email = "accounts@harbour.example"  # and a later local edit goes out as an update
    customer.save()
    drain()
    assert written_since(two_way, mark) == [("update", "customer")]
    assert sandbox.store.get("Customer", remote_id)["PrimaryEmailAddr"]["Address"] == "accounts@harbour.example"


def test_customer_made_inactive_in_quickbooks_is_made_inactive_here(two_way, org, sandbox):
    customer = f.CustomerFactory(organization=org, name="Harbour Dental")
    drain()
    remote_id = ExternalReference.objects.get(connection=two_way, source_key=f"ledger.customer:{customer.pk}").remote_id
    sandbox.act_as_user("edit_customer", customer_id=remote_id, active=False)
    inbound.pull(two_way)
    customer.refresh_from_db()
    assert customer.active is False and customer.name == "Harbour Dental"


def test_customer_edited_on_both_sides_follows_the_conflict_rule(two_way, org, sandbox):
    customer = f.CustomerFactory(organization=org, name="Harbour Dental", email="a@harbour.example")
    drain()
    remote_id = ExternalReference.objects.get(connection=two_way, source_key=f"ledger.customer:{customer.pk}").remote_id
    two_way.auto_sync = False
    two_way.save()
    customer.email = "here@harbour.example"  # changed here, not sent yet
    customer.save()
    sandbox.act_as_user("edit_customer", customer_id=remote_id, email="there@harbour.example")
    inbound.pull(two_way)  # default rule for customers: this system wins
    customer.refresh_from_db()
    assert customer.email == "here@harbour.example"
    assert SyncLog.objects.filter(connection=two_way, outcome=Outcome.CONFLICT, entity="customer").exists()
    assert OutboxEntry.objects.get(connection=two_way, source_key=f"ledger.customer:{customer.pk}").overwrite_remote
    two_way.settings = {**two_way.settings, "conflict_policy": {"customer": "platform"}}
    two_way.save()
    sandbox.act_as_user("edit_customer", customer_id=remote_id, email="there2@harbour.example")
    inbound.pull(two_way)  # the platform wins now
    customer.refresh_from_db()
    assert customer.email == "there2@harbour.example"


def test_item_created_and_edited_in_quickbooks(two_way, org, sandbox, client):
    made = sandbox.act_as_user("create_item", name="Crown, zirconia", unit_price="40.00", code="ZR-1")
    webhook(client, sandbox, "Item", made["Id"])
    inbound.pull(two_way)
    [item] = Item.objects.filter(organization=org)
    assert (item.name, item.sku, item.unit_price, item.active) == ("Crown, zirconia", "ZR-1", Decimal("40.00"), True)
    mark = last_log()
    sandbox.act_as_user("edit_item", item_id=made["Id"], name="Crown, zirconia (full)", unit_price="45.50")
    webhook(client, sandbox, "Item", made["Id"], "Update")
    inbound.pull(two_way)
    item.refresh_from_db()
    assert (item.name, item.unit_price) == ("Crown, zirconia (full)", Decimal("45.50"))
    sandbox.act_as_user("edit_item", item_id=made["Id"], active=False)
    inbound.pull(two_way)
    item.refresh_from_db()
    assert item.active is False and item.name == "Crown, zirconia (full)"
    assert Item.objects.filter(organization=org).count() == 1
    drain()
    assert written_since(two_way, mark) == []
    assert len(sandbox.store.entities("Item")) == 1


def test_item_created_there_is_linked_by_sku(two_way, org, sandbox):
    mine = f.ItemFactory(organization=org, name="Zirconia crown", sku="ZR-1")
    made = sandbox.act_as_user("create_item", name="Crown, zirconia", unit_price="40.00", code="ZR-1")
    inbound.pull(two_way)
    assert Item.objects.filter(organization=org).count() == 1
    assert ExternalReference.objects.get(connection=two_way, entity="item",
                                         remote_id=made["Id"]).source_key == f"ledger.item:{mine.pk}"


def test_lab_preset_keeps_customers_and_items_made_there_out_and_says_so(make_connection, org, sandbox):
    conn = make_connection(org, direction="both", operations=LAB_PRESET)  # customers and items: out only
    sandbox.act_as_user("create_customer", name="Harbour Dental", email="books@harbour.example")
    sandbox.act_as_user("create_item", name="Crown, zirconia", unit_price="40.00")
    inbound.pull(conn)
    assert not Customer.objects.exists() and not Item.objects.exists()
    assert SyncLog.objects.filter(connection=conn, outcome=Outcome.SKIPPED,
                                  message__contains="does not take customer creates").exists()
    assert SyncLog.objects.filter(connection=conn, outcome=Outcome.SKIPPED,
                                  message__contains="does not take item creates").exists()


def test_lab_preset_sends_customer_edits_out_and_takes_none_in(make_connection, org, sandbox):
    conn = make_connection(org, direction="both", operations=LAB_PRESET)
    customer = f.CustomerFactory(organization=org, name="Harbour Dental", email="a@harbour.example")
    drain()
    remote_id = ExternalReference.objects.get(connection=conn, source_key=f"ledger.customer:{customer.pk}").remote_id
    sandbox.act_as_user("edit_customer", customer_id=remote_id, email="there@harbour.example")
    inbound.pull(conn)
    customer.refresh_from_db()
    assert customer.email == "a@harbour.example"
    assert SyncLog.objects.filter(connection=conn, outcome=Outcome.SKIPPED,
                                  message__contains="does not take customer updates").exists()
    customer.email = "b@harbour.example"  # out: a local edit goes to QuickBooks
    customer.save()
    drain()
    assert sandbox.store.get("Customer", remote_id)["PrimaryEmailAddr"]["Address"] == "b@harbour.example"


class OneWayCustomers(CustomerAdapter):
    """A host's customer adapter that neither creates nor edits customers from the platform."""

    create_from_platform = SourceAdapter.create_from_platform
    update_from_platform = SourceAdapter.update_from_platform


def test_host_adapter_without_the_hooks_gets_an_attention_item_and_a_log(two_way, org, sandbox, settings):
    host = settings.ACCOUNTING_SYNC
    settings.ACCOUNTING_SYNC = {**host, "SOURCES": [{"model": "ledger.Customer",
                                                     "adapter": f"{__name__}.OneWayCustomers"}]}
    customer = f.CustomerFactory(organization=org, name="Harbour Dental")
    drain()
    remote_id = ExternalReference.objects.get(connection=two_way, source_key=f"ledger.customer:{customer.pk}").remote_id
    sandbox.act_as_user("create_customer", name="Smile Lab")
    sandbox.act_as_user("edit_customer", customer_id=remote_id, name="Harbour Dental Clinic")
    assert inbound.pull(two_way).attention == 1
    entry = OutboxEntry.objects.get(connection=two_way, status=EntryStatus.NEEDS_ATTENTION)
    assert entry.error_code == "adapter_unsupported" and "OneWayCustomers" in entry.last_error
    assert SyncLog.objects.filter(connection=two_way, outcome=Outcome.SKIPPED,
                                  message__contains="cannot take customer edits").exists()
    assert Customer.objects.get().name == "Harbour Dental"
    settings.ACCOUNTING_SYNC = host
    from accounting_sync.staff.admin import retry_entries

    assert retry_entries(OutboxEntry.objects.filter(pk=entry.pk)) == 1
    assert Customer.objects.filter(name="Smile Lab").exists()
