"""Customers and items created or changed on the platform come in on their own (issue 18), on every registered
platform: where the connector declares the entity in ``capabilities.inbound`` and ``inbound_creates``, a customer or
item made there becomes a local one exactly once (matched to a local one first, never duplicated) and an edit made
there (name, e-mail, price) is applied here; nothing that came in goes back out as a write. A platform that does not
declare it brings nothing here.

"Made or changed on the platform" is another program writing to the same company through the platform's API
(another organization's connection), written the same way on every platform, as in
``test_platform_inbound_created.py``.
"""
from decimal import Decimal

import pytest

from accounting_sync.core import sources
from accounting_sync.core.sources import key_for
from accounting_sync.inbound import sync as inbound
from accounting_sync.models import ExternalReference, SyncLog
from connectors.documents import Entity, RemoteRef
from connectors.models import ConnectionStatus
from ledger.models import Customer, Item
from mappings.resolve import resolve
from tests import factories as f
from tests import platforms
from tests.conftest import drain

pytestmark = pytest.mark.django_db
harness, platform, platform_sandboxes = platforms.harness, platforms.platform, platforms.platform_sandboxes
WRITES = ("create", "adopt", "update", "update (re-read)", "void", "delete")


@pytest.fixture
def two_way(harness, org):
    if not harness.capabilities.inbound:
        pytest.skip(f"{harness.platform} declares no inbound entities")
    return harness.connect(org, direction="both")


@pytest.fixture
def another_program(harness):
    """Another program writing to the same company: a push connection of another organization. ``make`` creates
    a record there and forgets it (nothing here knows it); ``edit`` changes a record this system sent, through its
    own connector (as a bookkeeper's edit would, without anything here knowing)."""
    other = f.OrganizationFactory()
    conn = harness.connect(other, name="Another program")

    def make(entity: str, **fields) -> str:
        obj = (f.CustomerFactory if entity == Entity.CUSTOMER else f.ItemFactory)(organization=other, **fields)
        drain()
        remote_id = ExternalReference.objects.get(connection=conn, source_key=key_for(obj)).remote_id
        ExternalReference.objects.filter(connection=conn).delete()
        return remote_id

    def edit(ref: ExternalReference, **fields) -> None:
        """The record this system sent, changed (``fields``) and written over it through the platform's API by
        the other program's connector: an update there, to the same remote record (same id and key)."""
        model = Customer if ref.entity == Entity.CUSTOMER else Item
        mine = model.objects.get(pk=ref.source_key.rsplit(":", 1)[1])
        for name, value in fields.items():
            setattr(mine, name, value)  # not saved here: only the platform changes
        adapter = sources.adapter_for_key(ref.source_key)
        snapshot = adapter.snapshot(mine)
        connector = conn.connector()
        current = connector.fetch(ref.entity, ref.remote_id)
        connector.update(snapshot, resolve(conn, snapshot), RemoteRef(ref.remote_id, current.version),
                         f"another-program-{ref.pk}-{len(fields)}")

    yield type("AnotherProgram", (), {"make": staticmethod(make), "edit": staticmethod(edit), "connection": conn})
    conn.status = ConnectionStatus.DISABLED
    conn.save(update_fields=["status"])


def declares(harness, entity: str) -> bool:
    return entity in harness.capabilities.inbound and entity in harness.capabilities.inbound_creates


def last_log(conn) -> int:
    return SyncLog.objects.filter(connection=conn).order_by("-pk").values_list("pk", flat=True).first() or 0


def writes_since(conn, mark: int) -> list:
    return list(SyncLog.objects.filter(connection=conn, pk__gt=mark, operation__in=WRITES)
                .values_list("operation", "entity"))


def test_a_platform_that_polls_customers_or_items_declares_their_creations(harness):
    for entity in (Entity.CUSTOMER, Entity.ITEM):
        if entity in harness.capabilities.inbound:
            assert entity in harness.capabilities.inbound_creates


def test_customer_made_there_comes_in_once_or_not_at_all(two_way, harness, org, another_program):
    remote_id = another_program.make(Entity.CUSTOMER, name="Harbour Dental", email="books@harbour.example")
    result = inbound.pull(two_way)
    assert result.failed == 0 and result.attention == 0, result
    if not declares(harness, Entity.CUSTOMER):
        assert not Customer.objects.filter(organization=org).exists()
        return
    [customer] = Customer.objects.filter(organization=org)
    assert (customer.name, customer.email) == ("Harbour Dental", "books@harbour.example")
    assert ExternalReference.objects.get(connection=two_way, source_key=key_for(customer)).remote_id == remote_id
    mark = last_log(two_way)
    assert inbound.pull(two_way).applied == 0
    assert Customer.objects.filter(organization=org).count() == 1
    drain()
    assert writes_since(two_way, mark) == []


def test_customer_made_there_is_matched_to_the_local_one_never_duplicated(two_way, harness, org, another_program):
    if not declares(harness, Entity.CUSTOMER):
        pytest.skip(f"{harness.platform} does not declare customers coming in")
    remote_id = another_program.make(Entity.CUSTOMER, name="Harbour Dental", email="books@harbour.example")
    mine = f.CustomerFactory(organization=org, name="Harbour Dental Ltd", email="BOOKS@harbour.example")  # not sent
    mark = last_log(two_way)
    assert inbound.pull(two_way).applied == 1
    assert list(Customer.objects.filter(organization=org)) == [mine]
    assert ExternalReference.objects.get(connection=two_way, source_key=key_for(mine)).remote_id == remote_id
    drain()
    assert writes_since(two_way, mark) == []  # linked: its pending creation there is closed, not sent


def test_item_made_there_comes_in_once_or_not_at_all(two_way, harness, org, another_program):
    another_program.make(Entity.ITEM, name="Crown, zirconia", sku="ZR-1", unit_price=Decimal("40.00"))
    result = inbound.pull(two_way)
    assert result.failed == 0 and result.attention == 0, result
    items = Item.objects.filter(organization=org)
    if not declares(harness, Entity.ITEM):
        assert not items.exists()
        return
    [item] = items
    assert item.name == "Crown, zirconia" and item.unit_price == Decimal("40.00")
    mark = last_log(two_way)
    assert inbound.pull(two_way).applied == 0
    drain()
    assert writes_since(two_way, mark) == []


def test_customer_edited_there_is_applied_here_and_not_sent_back(two_way, harness, org, another_program):
    customer = f.CustomerFactory(organization=org, name="Harbour Dental", email="old@harbour.example")
    drain()
    ref = ExternalReference.objects.get(connection=two_way, source_key=key_for(customer))
    assert inbound.pull(two_way).applied == 0  # our own write, reported back
    another_program.edit(ref, name="Harbour Dental Clinic", email="books@harbour.example")
    mark = last_log(two_way)
    result = inbound.pull(two_way)
    assert result.failed == 0 and result.attention == 0, result
    customer.refresh_from_db()
    if not declares(harness, Entity.CUSTOMER):
        assert (customer.name, customer.email) == ("Harbour Dental", "old@harbour.example")
        return
    assert (customer.name, customer.email) == ("Harbour Dental Clinic", "books@harbour.example")
    assert inbound.pull(two_way).applied == 0
    drain()
    assert writes_since(two_way, mark) == []


def test_item_edited_there_is_applied_here_and_not_sent_back(two_way, harness, org, another_program):
    item = f.ItemFactory(organization=org, name="Crown", sku="CR-1", unit_price=Decimal("10.00"))
    drain()
    ref = ExternalReference.objects.get(connection=two_way, source_key=key_for(item))
    another_program.edit(ref, unit_price=Decimal("12.50"))
    mark = last_log(two_way)
    result = inbound.pull(two_way)
    assert result.failed == 0 and result.attention == 0, result
    item.refresh_from_db()
    if not declares(harness, Entity.ITEM):
        assert item.unit_price == Decimal("10.00")
        return
    assert item.unit_price == Decimal("12.50")
    drain()
    assert writes_since(two_way, mark) == []
