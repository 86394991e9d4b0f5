"""Reconciliation works for every registered platform with a sandbox, through the connector hook alone (issue 16):
a platform the kit adds is reconciled with the default per-document reads until it brings bulk ones."""
import pytest

from accounting_sync import reconcile
from accounting_sync.reconcile.models import Reason, RunStatus, Variance
from connectors.base import BaseConnector
from tests import platforms
from tests.conftest import drain

pytestmark = pytest.mark.django_db
harness, platform, platform_sandboxes = platforms.harness, platforms.platform, platforms.platform_sandboxes


def reasons(run) -> list[tuple[str, str]]:
    assert run.status == RunStatus.DONE, run.error
    return sorted(Variance.objects.filter(last_run=run).values_list("reason", "field"))


@pytest.fixture
def synced(harness, org, make_invoice):
    conn = harness.connect(org)
    invoice = make_invoice(("service", "2", "50.00"))
    drain()
    return conn, harness.ref(conn, invoice)


def test_books_that_agree_then_an_edit_and_a_payment_on_the_platform(harness, synced):
    conn, ref = synced
    assert reasons(reconcile.run(conn)) == []
    harness.act("record_payment", invoice_id=ref.remote_id, amount="40.00")
    assert reasons(reconcile.run(conn)) == [(Reason.MISSING_HERE, "balance")]


def test_an_edit_on_the_platform(harness, synced):
    conn, ref = synced
    harness.act("edit_invoice_line", invoice_id=ref.remote_id, line=0, quantity=3)
    assert reasons(reconcile.run(conn)) == [(Reason.EDITED_REMOTELY, "total")]


def test_the_default_read_hook_reads_what_the_platform_holds(harness, synced):
    conn, ref = synced
    connector = conn.connector()
    [doc] = BaseConnector.read_documents(connector, "invoice", [ref.remote_id])
    assert (doc.status, doc.total, doc.balance) == ("open", 100, 100)
    [bulk] = connector.read_documents("invoice", [ref.remote_id])
    assert (bulk.status, bulk.total, bulk.balance, bulk.remote_id.lower()) == ("open", 100, 100,
                                                                               ref.remote_id.lower())
