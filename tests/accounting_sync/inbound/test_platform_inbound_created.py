"""Documents created on the platform come in, on every registered platform (issue 18): for each platform that
declares a creation in ``capabilities.inbound_creates``, an invoice, a credit note or a payment made there becomes a
local document exactly once (a second poll creates nothing, nothing goes back out), its customer and items matched to
local ones first; a platform that does not declare it creates nothing here and says so in the log.

Parametrized over the registry (``tests/platforms.py``), one sandbox per platform per session. "Made on the
platform" is a document another program wrote to the same company through the platform's API (another
organization's connection, whose references are then forgotten): nothing here knows it, as with a document a
bookkeeper types in, and it is written the same way on every platform.
"""
from decimal import Decimal

import pytest

from accounting_sync.inbound import sync as inbound
from accounting_sync.models import ExternalReference, Outcome, SyncLog
from accounting_sync.core.sources import key_for
from connectors.documents import Entity
from connectors.models import ConnectionStatus
from ledger.models import CreditNote, CreditNoteAllocation, Customer, Invoice, Item, Payment
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
def elsewhere(harness):
    """Another program writing to the same company: a push connection of another organization, forgotten after."""
    other = f.OrganizationFactory()
    conn = harness.connect(other, name="Another program")

    def make(entity: str = Entity.INVOICE, *, customer: str = "Harbour Dental", email: str = "books@harbour.example",
             item: str = "Crown, zirconia", applied: str | None = None):
        """``applied``: a credit note applied (that amount) to an invoice made there with it."""
        buyer = f.CustomerFactory(organization=other, name=customer, email=email)
        product = f.ItemFactory(organization=other, name=item, sku="ZR-1", unit_price=Decimal("40.00"))
        if entity == Entity.CREDIT_NOTE:
            document = f.CreditNoteFactory(organization=other, customer=buyer)
            f.CreditNoteLineFactory(credit_note=document, position=0, kind="product", item=product,
                                    quantity=Decimal("2"), unit_price=Decimal("40.00"))
            if applied:
                invoice = f.InvoiceFactory(organization=other, customer=buyer)
                f.InvoiceLineFactory(invoice=invoice, position=0, quantity=Decimal("1"), unit_price=Decimal("100.00"))
                CreditNoteAllocation.objects.create(credit_note=document, invoice=invoice, amount=Decimal(applied))
        else:
            document = f.InvoiceFactory(organization=other, customer=buyer)
            f.InvoiceLineFactory(invoice=document, position=0, kind="product", item=product, quantity=Decimal("2"),
                                 unit_price=Decimal("40.00"))
            f.InvoiceLineFactory(invoice=document, position=1, kind="service", description="Fitting",
                                 quantity=Decimal("1"), unit_price=Decimal("25.00"))
        drain()
        remote_id = ExternalReference.objects.get(connection=conn, source_key=key_for(document)).remote_id
        ExternalReference.objects.filter(connection=conn).delete()
        conn.status = ConnectionStatus.DISABLED
        conn.save(update_fields=["status"])
        return remote_id

    return make


def last_log(conn) -> int:
    return SyncLog.objects.filter(connection=conn).order_by("-pk").values_list("pk", flat=True).first() or 0


def writes_since(conn, mark: int) -> list:
    return list(SyncLog.objects.filter(connection=conn, pk__gt=mark, operation__in=WRITES)
                .values_list("operation", "entity"))


def names_items(conn, remote_id: str) -> bool:
    """Whether the platform's invoice lines name an item (some keep an account and a price only, e.g. Sage's lines
    as we send them)."""
    return bool(conn.connector().remote_document(Entity.INVOICE, remote_id).details[0].item_remote_id)


def declares(harness, entity: str) -> bool:
    return entity in harness.capabilities.inbound and entity in harness.capabilities.inbound_creates


def test_a_platform_declares_only_creations_it_reads(harness):
    """Creations come through polling: an entity created there is one the connector reports changes of."""
    assert harness.capabilities.inbound_creates <= harness.capabilities.inbound | {Entity.CUSTOMER, Entity.ITEM}


def test_invoice_made_on_the_platform_comes_in_once_or_not_at_all(two_way, harness, org, elsewhere):
    remote_id = elsewhere(Entity.INVOICE)
    result = inbound.pull(two_way)
    assert result.failed == 0 and result.attention == 0, result
    if not declares(harness, Entity.INVOICE):
        assert not Invoice.objects.filter(organization=org).exists()
        if Entity.INVOICE in harness.capabilities.inbound:
            assert SyncLog.objects.filter(connection=two_way, outcome=Outcome.SKIPPED, remote_id=remote_id,
                                          message__contains="capabilities.inbound_creates").exists()
        return
    [invoice] = Invoice.objects.filter(organization=org)
    remote = two_way.connector().fetch(Entity.INVOICE, remote_id)
    assert invoice.totals().total == remote.total == Decimal("105.00")
    assert invoice.customer.name == "Harbour Dental" and invoice.customer.email == "books@harbour.example"
    lines = list(invoice.lines.order_by("position").values_list("quantity", "unit_price", "item__name"))
    assert [(q, p) for q, p, _ in lines] == [(Decimal("2"), Decimal("40.00")), (Decimal("1"), Decimal("25.00"))]
    if names_items(two_way, remote_id):
        assert lines[0][2] == "Crown, zirconia"
    mark = last_log(two_way)
    again = inbound.pull(two_way)  # a second poll (or a webhook) reports it again
    assert again.applied == 0 and again.failed == 0, again
    assert Invoice.objects.filter(organization=org).count() == 1
    assert Customer.objects.filter(organization=org).count() == 1
    drain()
    assert writes_since(two_way, mark) == []  # what came in is not sent back


def test_its_customer_and_item_are_matched_to_local_ones_first(two_way, harness, org, elsewhere):
    if not declares(harness, Entity.INVOICE):
        pytest.skip(f"{harness.platform} does not declare invoice creations")
    mine = f.CustomerFactory(organization=org, name="Harbour Dental Ltd", email="BOOKS@harbour.example")
    crown = f.ItemFactory(organization=org, name="Crown, zirconia", sku="")
    remote_id = elsewhere(Entity.INVOICE)
    assert inbound.pull(two_way).applied >= 1
    [invoice] = Invoice.objects.filter(organization=org)
    assert invoice.customer == mine  # by e-mail, though the name differs
    if names_items(two_way, remote_id):
        assert invoice.lines.order_by("position").first().item == crown  # by exact name
    assert Customer.objects.filter(organization=org).count() == 1
    # (platforms that need an item on every line come back with their generic one for the "Fitting" line)
    assert Item.objects.filter(organization=org, name="Crown, zirconia").count() == 1


def test_credit_note_made_on_the_platform_comes_in_once_or_not_at_all(two_way, harness, org, elsewhere):
    if Entity.CREDIT_NOTE not in harness.capabilities.inbound:
        pytest.skip(f"{harness.platform} does not report credit note changes")
    elsewhere(Entity.CREDIT_NOTE)
    result = inbound.pull(two_way)
    assert result.failed == 0 and result.attention == 0, result
    if not declares(harness, Entity.CREDIT_NOTE):
        assert not CreditNote.objects.filter(organization=org).exists()
        return
    [credit] = CreditNote.objects.filter(organization=org)
    assert credit.totals().total == Decimal("80.00") and credit.customer.name == "Harbour Dental"
    assert inbound.pull(two_way).applied == 0
    assert CreditNote.objects.filter(organization=org).count() == 1


def test_payment_recorded_there_on_an_invoice_made_there_brings_both_once(two_way, harness, org, elsewhere):
    if Entity.PAYMENT not in harness.capabilities.inbound:
        pytest.skip(f"{harness.platform} does not report payment changes")
    remote_id = elsewhere(Entity.INVOICE)
    harness.act("record_payment", invoice_id=remote_id, amount="50.00", reference="CHK-9")
    result = inbound.pull(two_way)
    payments = Payment.objects.filter(organization=org)
    if declares(harness, Entity.PAYMENT) and not declares(harness, Entity.INVOICE):
        # the payment would be recorded, but its invoice cannot come in: it stops, visibly
        assert result.failed == 1 and not payments.exists(), result
        assert SyncLog.objects.filter(connection=two_way, error_code="unknown_invoice").exists()
        return
    assert result.failed == 0, result
    if not declares(harness, Entity.PAYMENT):
        assert not payments.exists()
        return
    [payment] = payments
    [invoice] = Invoice.objects.filter(organization=org)
    assert [(a.invoice_id, a.amount) for a in payment.allocations.all()] == [(invoice.pk, Decimal("50.00"))]
    mark = last_log(two_way)
    assert inbound.pull(two_way).applied == 0
    assert Payment.objects.filter(organization=org).count() == 1
    drain()
    assert writes_since(two_way, mark) == []


def test_credit_note_made_there_brings_its_applications_where_the_platform_keeps_them(two_way, harness, org,
                                                                                      elsewhere):
    if not declares(harness, Entity.CREDIT_NOTE) or not declares(harness, Entity.INVOICE):
        pytest.skip(f"{harness.platform} does not declare invoice and credit note creations")
    remote_id = elsewhere(Entity.CREDIT_NOTE, applied="30.00")
    result = inbound.pull(two_way)
    assert result.failed == 0 and result.attention == 0, result
    [credit] = CreditNote.objects.filter(organization=org)
    said = two_way.connector().remote_document(Entity.CREDIT_NOTE, remote_id).applications
    found = list(credit.allocations.values_list("invoice__number", "amount"))
    if not said:  # the connector does not read applications: none are made up
        assert found == []
        return
    [invoice] = Invoice.objects.filter(organization=org)
    assert found == [(invoice.number, Decimal("30.00"))]
    assert SyncLog.objects.filter(connection=two_way, outcome=Outcome.SUCCESS,
                                  message__contains="applied to 1").exists()
    mark = last_log(two_way)
    assert inbound.pull(two_way).applied == 0
    drain()
    assert writes_since(two_way, mark) == []


#: Platforms whose connector reads a credit note's applications to invoices (``RemoteDocument.applications``).
READS_APPLICATIONS = ["qbo", "xero", "zoho", "billcom", "odoo", "sage"]


@pytest.mark.parametrize("platform", READS_APPLICATIONS, indirect=True)
def test_credit_note_applications_are_read_where_the_connector_reads_them(two_way, harness, platform, org,
                                                                          elsewhere):
    remote_id = elsewhere(Entity.CREDIT_NOTE, applied="30.00")
    [(invoice_id, amount)] = two_way.connector().remote_document(Entity.CREDIT_NOTE, remote_id).applications
    assert amount == Decimal("30.00")
    assert two_way.connector().remote_document(Entity.INVOICE, invoice_id).status == "active"
    assert inbound.pull(two_way).failed == 0
    [credit] = CreditNote.objects.filter(organization=org)
    assert list(credit.allocations.values_list("amount", flat=True)) == [Decimal("30.00")]
