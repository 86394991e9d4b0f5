"""A customer or item made inactive here is made inactive in QuickBooks Online (``Active: false``), and active again
when it is reactivated here (issue 18); nothing is deleted."""
import pytest

from accounting_sync.models import ExternalReference
from tests import factories as f
from tests.conftest import drain

pytestmark = pytest.mark.django_db


def remote_of(sandbox, obj, name: str) -> dict:
    ref = ExternalReference.objects.get(source_key=f"ledger.{obj._meta.model_name}:{obj.pk}")
    return sandbox.store.get(name, ref.remote_id)


@pytest.mark.parametrize("factory, name", [(f.ItemFactory, "Item"), (f.CustomerFactory, "Customer")])
def test_deactivated_here_is_inactive_in_quickbooks_and_back(connection, org, sandbox, factory, name):
    obj = factory(organization=org)
    drain()
    assert remote_of(sandbox, obj, name)["Active"] is True
    obj.active = False
    obj.save()
    drain()
    assert remote_of(sandbox, obj, name)["Active"] is False
    obj.active = True
    obj.save()
    drain()
    assert remote_of(sandbox, obj, name)["Active"] is True
    assert ExternalReference.objects.filter(source_key=f"ledger.{obj._meta.model_name}:{obj.pk}").count() == 1
