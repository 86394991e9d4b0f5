"""Optional class / location (QBO) and tracking (Xero) mappings, end to end through each sandbox; a connection
without such rules sends what it always sent and does not send already-synced documents again."""
import hashlib

import pytest

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry
from mappings.models import Scope
from tests import factories as f
from tests.conftest import drain, remote_invoices

pytestmark = pytest.mark.django_db


def test_qbo_invoice_carries_mapped_class_per_line_and_location(connection, make_invoice, sandbox):
    f.MappingFactory(connection=connection, kind="class", remote_id="1")  # Retail
    f.MappingFactory(connection=connection, kind="class", scope=Scope.LINE_KIND, local_value="shipping",
                     remote_id="2")  # Wholesale
    f.MappingFactory(connection=connection, kind="location", remote_id="2")  # Online
    make_invoice(("service", "1", "100.00"), ("shipping", "1", "10.00"))
    drain()
    [remote] = remote_invoices(sandbox)
    assert remote["DepartmentRef"] == {"value": "2", "name": "Online"}
    classes = [line["SalesItemLineDetail"].get("ClassRef") for line in remote["Line"]
               if line["DetailType"] == "SalesItemLineDetail"]
    assert classes == [{"value": "1", "name": "Retail"}, {"value": "2", "name": "Wholesale"}]


@pytest.mark.parametrize("class_id, message", [("99", "Class element id 99 not found"),
                                               ("3", "has been made inactive")])  # 3: seeded "Old class"
def test_qbo_sandbox_refuses_an_unknown_or_inactive_class(connection, make_invoice, sandbox, class_id, message):
    f.MappingFactory(connection=connection, kind="class", remote_id=class_id)
    invoice = make_invoice()
    drain()
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert entry.status == EntryStatus.NEEDS_ATTENTION and message in entry.last_error
    assert remote_invoices(sandbox) == []


def test_xero_invoice_lines_carry_mapped_tracking(xsandbox, org, make_invoice, make_xero_connection):
    conn = make_xero_connection(org)
    f.MappingFactory(connection=conn, kind="tracking", remote_id="Region/North")
    f.MappingFactory(connection=conn, kind="tracking", scope=Scope.LINE_KIND, local_value="fee",
                     remote_id="Region/South")
    make_invoice(("service", "1", "100.00"), ("fee", "1", "5.00"))
    drain()
    [remote] = xsandbox.store.entities("Invoices")
    tracking = [[{k: t[k] for k in ("Name", "Option")} for t in line["Tracking"]] for line in remote["LineItems"]]
    assert tracking == [[{"Name": "Region", "Option": "North"}], [{"Name": "Region", "Option": "South"}]]


def _legacy_digest(snapshot_hash: str, mapping_repr: str) -> str:
    """``engine.content_digest`` as it was before the optional fields existed."""
    return hashlib.sha256(f"{snapshot_hash}|{mapping_repr}".encode()).hexdigest()


@pytest.mark.parametrize("platform", ["qbo", "xero"])
def test_without_these_rules_nothing_changes_and_nothing_is_sent_again(platform, request, org, make_invoice):
    from accounting_sync.core import sources
    from accounting_sync.core.engine import content_digest
    from mappings.resolve import resolve

    if platform == "qbo":
        sandbox = request.getfixturevalue("sandbox")
        conn = request.getfixturevalue("make_connection")(org)
        # A QBO connection with a Xero-only rule still sends nothing new (and the other way round below).
        f.MappingFactory(connection=conn, kind="class", scope=Scope.LINE_KIND, local_value="fee",
                         remote_id="1")
    else:
        sandbox = request.getfixturevalue("xsandbox")
        conn = request.getfixturevalue("make_xero_connection")(org)
    invoice = make_invoice(("service", "2", "40.00"))
    drain()
    ref = ExternalReference.objects.get(connection=conn, source_key=f"ledger.invoice:{invoice.pk}")
    adapter, obj = sources.load(f"ledger.invoice:{invoice.pk}")
    snapshot = adapter.snapshot(obj)
    customer = ExternalReference.objects.get(connection=conn, source_key=snapshot.customer_key)
    mapping = resolve(conn, snapshot, {snapshot.customer_key: customer.remote_id})
    assert (mapping.line_dimensions, mapping.dimensions) == ({}, {})
    legacy_repr = (f"Mapping(line_accounts={mapping.line_accounts!r}, tax_codes={mapping.tax_codes!r}, "
                   f"item_account=None, deposit_account=None, refs={mapping.refs!r})")
    assert repr(mapping) == legacy_repr
    assert content_digest(snapshot, mapping) == _legacy_digest(snapshot.content_hash(), legacy_repr) == ref.content_hash
    if platform == "qbo":
        [remote] = remote_invoices(sandbox)
        assert "DepartmentRef" not in remote
        assert all("ClassRef" not in line.get("SalesItemLineDetail", {}) for line in remote["Line"])
    else:
        [remote] = sandbox.store.entities("Invoices")
        assert all(line["Tracking"] == [] for line in remote["LineItems"])
    calls = len(sandbox.requests_log)
    invoice.save()  # nothing changed: the stored digest still matches, no call
    drain()
    assert len(sandbox.requests_log) == calls
