"""A customer's tax number goes out where the platform has a field for it (issue 18): QBO's
``PrimaryTaxIdentifier`` (answered masked, so never read back as a match), Xero's contact ``TaxNumber``, Zoho's
``tax_reg_no``, Business Central's ``taxRegistrationNumber``, MYOB's ``SellingDetails.ABN``, FreeAgent's
``sales_tax_registration_number``, Odoo's ``vat``, Sage's ``tax_number``. Bill.com's customer has no such field."""
import pytest

from accounting_sync.models import ExternalReference
from accounting_sync.core.sources import key_for
from tests import factories as f
from tests import platforms
from tests.conftest import drain

pytestmark = pytest.mark.django_db
harness, platform, platform_sandboxes = platforms.harness, platforms.platform, platforms.platform_sandboxes


def synced_customer(conn, org, make_invoice, tax_number: str):
    customer = f.CustomerFactory(organization=org, name="Harbour Dental", tax_number=tax_number)
    make_invoice(("service", "1", "100.00"), customer=customer)
    drain()
    return ExternalReference.objects.get(connection=conn, source_key=key_for(customer)).remote_id


def test_quickbooks_customer_gets_the_tax_number_and_answers_it_masked(make_connection, org, sandbox, make_invoice):
    conn = make_connection(org)
    remote_id = synced_customer(conn, org, make_invoice, "GB123456789")
    assert sandbox.store.get("Customer", remote_id)["PrimaryTaxIdentifier"] == "XXXXXXX6789"
    # masked, so a customer read back from QuickBooks is never matched on it
    assert conn.connector().remote_customer(remote_id).tax_number == ""


def test_quickbooks_customer_without_a_tax_number_sends_none(make_connection, org, sandbox, make_invoice):
    remote_id = synced_customer(make_connection(org), org, make_invoice, "")
    assert "PrimaryTaxIdentifier" not in sandbox.store.get("Customer", remote_id)


def test_xero_contact_gets_the_tax_number(make_xero_connection, org, xsandbox, make_invoice):
    conn = make_xero_connection(org)
    remote_id = synced_customer(conn, org, make_invoice, "12-345-678")
    assert conn.connector().remote_customer(remote_id).tax_number == "12-345-678"


#: Platforms whose customer record takes a tax number through the API, and read it back unmasked.
SENT_AND_READ = ["zoho", "businesscentral", "myob", "freeagent", "odoo", "sage"]


@pytest.mark.parametrize("platform", SENT_AND_READ, indirect=True)
def test_customer_tax_number_goes_out_and_reads_back(harness, platform, org):
    conn = harness.connect(org)
    customer = f.CustomerFactory(organization=org, name="Harbour Dental", tax_number="51 824 753 556")
    drain()
    remote_id = ExternalReference.objects.get(connection=conn, source_key=key_for(customer)).remote_id
    assert conn.connector().remote_customer(remote_id).tax_number == "51 824 753 556"


@pytest.mark.parametrize("platform", SENT_AND_READ, indirect=True)
def test_customer_without_a_tax_number_reads_back_none(harness, platform, org):
    conn = harness.connect(org)
    customer = f.CustomerFactory(organization=org, name="Harbour Dental")
    drain()
    remote_id = ExternalReference.objects.get(connection=conn, source_key=key_for(customer)).remote_id
    assert conn.connector().remote_customer(remote_id).tax_number == ""
