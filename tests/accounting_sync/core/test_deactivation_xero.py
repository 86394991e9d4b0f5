"""A customer made inactive here is archived in Xero, and active again when reactivated here (issue 18)."""
import pytest

from accounting_sync.models import ExternalReference
from tests import factories as f
from tests.conftest import drain

pytestmark = pytest.mark.django_db


def test_deactivated_customer_is_archived_in_xero_and_back(make_xero_connection, org, xsandbox):
    xsandbox.limits.off()
    make_xero_connection(org, rate_limits=False)
    customer = f.CustomerFactory(organization=org)
    drain()
    ref = ExternalReference.objects.get(source_key=f"ledger.customer:{customer.pk}")
    assert xsandbox.store.get("Contacts", ref.remote_id)["ContactStatus"] == "ACTIVE"
    customer.active = False
    customer.save()
    drain()
    assert xsandbox.store.get("Contacts", ref.remote_id)["ContactStatus"] == "ARCHIVED"
    customer.active = True
    customer.save()
    drain()
    assert xsandbox.store.get("Contacts", ref.remote_id)["ContactStatus"] == "ACTIVE"
    assert len(xsandbox.store.entities("Contacts")) == 1
