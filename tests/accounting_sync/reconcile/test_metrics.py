"""The operational metrics (issue 16, part 5) on a worked example, computed by hand, and where staff see them."""
import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounting_sync import reconcile
from accounting_sync.models import ExternalReference, Outcome, SyncLog
from accounting_sync.reconcile import metrics
from accounting_sync.reconcile.models import DocumentCheck, Reason, Variance, VarianceStatus
from tests import factories as f
from tests.conftest import drain

pytestmark = pytest.mark.django_db


def test_worked_example():
    conn = f.ConnectionFactory()
    base = timezone.now() - dt.timedelta(days=1)
    keys = ["ledger.invoice:1", "ledger.invoice:2", "ledger.invoice:3", "ledger.payment:4"]
    for n, key in enumerate(keys, 1):
        ExternalReference.objects.create(connection=conn, source_key=key, entity=key.split(".")[1].split(":")[0],
                                         remote_id=str(n))
    ExternalReference.objects.create(connection=conn, source_key="ledger.customer:9", entity="customer",
                                     remote_id="9")  # not a document: not counted
    seconds_to_equal = {keys[0]: 120, keys[1]: 600, keys[2]: 300}
    for key in keys:
        proven = seconds_to_equal.get(key)
        DocumentCheck.objects.create(
            connection=conn, source_key=key, entity=key.split(".")[1].split(":")[0], committed_at=base,
            equal=proven is not None, equal_at=base + dt.timedelta(seconds=proven) if proven else None,
            checked_at=timezone.now())
    # Invoice 3 needed a person once (attention); the payment differs with an alarm.
    SyncLog.objects.create(connection=conn, source_key=keys[2], entity="invoice", outcome=Outcome.ATTENTION,
                           error_code="invalid_document")
    SyncLog.objects.create(connection=conn, source_key=keys[2], entity="invoice", outcome=Outcome.ATTENTION,
                           error_code="invalid_document")  # the same stop twice counts once
    Variance.objects.create(connection=conn, entity="payment", source_key=keys[3], field="exists",
                            reason=Reason.DELETED_REMOTELY, message="gone", action="re-send")
    # Also prevented this month: one duplicate adopted, one rounding caught, one alarm caught and resolved.
    SyncLog.objects.create(connection=conn, source_key="ledger.invoice:5", entity="invoice",
                           operation="adopt (batch)", outcome=Outcome.SUCCESS)
    Variance.objects.create(connection=conn, entity="invoice", source_key="ledger.invoice:6", field="total",
                            reason=Reason.ROUNDING, alarm=False, message="0.01", action="none")
    Variance.objects.create(connection=conn, entity="invoice", source_key="ledger.invoice:7", field="total",
                            reason=Reason.EDITED_REMOTELY, message="edited", action="resync",
                            status=VarianceStatus.RESOLVED, resolved_at=timezone.now())

    found = metrics.for_connections([conn.pk])

    accuracy = found["sync_accuracy_rate"]
    assert (accuracy["clean"], accuracy["reached"], accuracy["value"]) == (2, 4, 0.5)  # invoices 1 and 2 of four
    timing = found["time_to_reconcile"]
    assert (timing["versions"], timing["median_s"], timing["p95_s"]) == (3, 300.0, 600.0)  # of 120, 300, 600
    month = f"{timezone.now():%Y-%m}"
    assert found["errors_prevented"]["per_month"][month] == {
        "preflight_stops": 1, "duplicates_prevented": 1, "rounding_caught": 1, "variances_resolved": 1, "total": 4}
    assert all(found[name]["definition"] for name in found)


def test_percentile_is_nearest_rank():
    assert metrics.percentile([], 50) is None
    assert metrics.percentile([5.0], 95) == 5.0
    assert [metrics.percentile(list(map(float, range(1, 101))), p) for p in (50, 95)] == [50.0, 95.0]


def test_a_reconciled_document_counts_and_staff_see_the_metrics(connection, make_invoice, admin_client):
    make_invoice()
    drain()
    reconcile.run(connection)
    check = DocumentCheck.objects.get()
    assert check.equal and check.equal_at >= check.committed_at
    out = StringIO()
    call_command("accounting_sync_status", stdout=out)
    assert "sync accuracy 100.0% (1/1); time to reconcile median" in out.getvalue()
    out = StringIO()
    call_command("accounting_sync_status", json=True, stdout=out)
    [row] = json.loads(out.getvalue())
    assert row["metrics"]["sync_accuracy_rate"]["value"] == 1.0
    api = admin_client.get("/accounting-sync/api/status/").json()
    assert api["connections"][0]["metrics"]["time_to_reconcile"]["versions"] == 1
    page = admin_client.get("/admin/accounting_sync/reconciliationrun/report/").content.decode()
    assert "Sync accuracy rate" in page and "100% (1 of 1)" in page


def test_a_new_version_starts_its_own_time_to_reconcile(connection, make_invoice, sandbox):
    invoice = make_invoice()
    drain()
    reconcile.run(connection)
    first = DocumentCheck.objects.get().equal_at
    line = invoice.lines.get()
    line.quantity = 2
    line.save()
    drain()
    reconcile.run(connection)
    check = DocumentCheck.objects.get()
    assert check.equal and check.equal_at > first and check.synced_at > first
