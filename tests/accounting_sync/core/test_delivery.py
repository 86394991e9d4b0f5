"""Delivery that never duplicates and never loses: lost responses, stale versions and edit conflicts, 429 pauses
per connection (issue 3 acceptance 1 and 4)."""
import datetime as dt
from decimal import Decimal

import pytest

from accounting_sync.core.engine import process_entry
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, SyncLog
from connectors.models import Connection
from connectors.qbo.sandbox import QBOSandbox
from tests import factories as f
from tests.conftest import drain, entry_of, make_due, map_defaults, remote_invoices, sandbox_settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("forget", [False, True], ids=["requestid-remembered", "requestid-forgotten"])
def test_write_applied_response_lost_then_retry_makes_exactly_one_invoice(connection, make_invoice, sandbox, forget):
    invoice = make_invoice(("service", "2", "45.50"))
    sandbox.faults.add("lost_response", match="POST /invoice")
    entry = entry_of(invoice)
    process_entry(entry.pk)  # one document on its own: the single-request path (the batch path is below)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PENDING and entry.attempts == 1 and entry.write_started
    assert len(remote_invoices(sandbox)) == 1  # QuickBooks has it; we never heard back
    if forget:
        sandbox.store.forget_request_ids()
    make_due()
    process_entry(entry.pk)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.DONE and not entry.write_started
    [remote] = remote_invoices(sandbox)
    assert ExternalReference.objects.get(source_key=entry.source_key).remote_id == remote["Id"]
    assert Decimal(str(remote["TotalAmt"])) == Decimal("91.00")
    outcomes = list(SyncLog.objects.filter(entry_id=entry.pk).order_by("pk").values_list("operation", "outcome"))
    assert outcomes == [("create", "retry"), ("adopt", "success")]


def test_batch_lost_response_then_retry_adopts_every_invoice(connection, make_invoice, sandbox):
    invoices = [make_invoice(("service", "1", f"{10 + n}.00")) for n in range(12)]
    sandbox.faults.add("lost_response", match="POST /batch")
    drain()
    assert len(remote_invoices(sandbox)) == 12
    sandbox.store.forget_request_ids()
    make_due()
    drain()
    assert len(remote_invoices(sandbox)) == 12
    assert {e.status for e in map(entry_of, invoices)} == {EntryStatus.DONE}
    remote_ids = {r["Id"] for r in remote_invoices(sandbox)}
    assert set(ExternalReference.objects.filter(entity="invoice").values_list("remote_id", flat=True)) == remote_ids


def edit_in_quickbooks(sandbox, remote_id, **changes):
    """What a person does in the QuickBooks UI: a sparse update with the current SyncToken."""
    current = sandbox.store.get("Invoice", remote_id)
    sandbox.store.write("Invoice", {"Id": remote_id, "SyncToken": current["SyncToken"], "sparse": True, **changes})


def test_stale_version_from_a_payment_is_reapplied(connection, make_invoice, sandbox):
    invoice = make_invoice(("service", "1", "100.00"))
    drain()
    ref = ExternalReference.objects.get(source_key=entry_of(invoice).source_key)
    customer = sandbox.store.get("Invoice", ref.remote_id)["CustomerRef"]
    sandbox.store.write("Payment", {"CustomerRef": customer, "TotalAmt": "40.00", "Line": [
        {"Amount": "40.00", "LinkedTxn": [{"TxnId": ref.remote_id, "TxnType": "Invoice"}]}]})
    invoice.memo = "changed locally after the payment"
    invoice.save()
    drain()
    entry = entry_of(invoice)
    assert entry.status == EntryStatus.DONE
    remote = sandbox.store.get("Invoice", ref.remote_id)
    assert remote["CustomerMemo"]["value"] == "changed locally after the payment"
    assert Decimal(str(remote["Balance"])) == Decimal("60.00")


def test_conflicting_edit_on_the_platform_is_reported_not_overwritten(connection, make_invoice, sandbox):
    invoice = make_invoice(("service", "1", "100.00"))
    drain()
    ref = ExternalReference.objects.get(source_key=entry_of(invoice).source_key)
    edit_in_quickbooks(sandbox, ref.remote_id, PrivateNote="corrected by the bookkeeper", TxnDate="2026-01-15")
    invoice.memo = "changed locally too"
    invoice.save()
    drain()
    entry = entry_of(invoice)
    assert entry.status == EntryStatus.NEEDS_ATTENTION and entry.error_code == "conflict"
    assert "edited in QuickBooks Online" in entry.last_error and "Send ours anyway" in entry.hint
    remote = sandbox.store.get("Invoice", ref.remote_id)
    assert remote["TxnDate"] == "2026-01-15" and remote.get("CustomerMemo", {}).get("value") != "changed locally too"

    # Staff decide the business system is right: "Send ours anyway".
    from accounting_sync.staff.admin import OutboxEntryAdmin
    from django.contrib.admin.sites import site

    OutboxEntryAdmin(OutboxEntry, site).send_ours_anyway(_Request(), OutboxEntry.objects.filter(pk=entry.pk))
    drain()
    entry.refresh_from_db()
    assert entry.status == EntryStatus.DONE and not entry.overwrite_remote
    remote = sandbox.store.get("Invoice", ref.remote_id)
    assert remote["CustomerMemo"]["value"] == "changed locally too" and remote["TxnDate"] == str(invoice.issue_date)


class _Request:
    """Enough of a request for an admin action run outside a view."""

    def __init__(self):
        from django.contrib.auth.models import User
        from django.contrib.messages.storage.fallback import FallbackStorage

        self.user = User.objects.create_superuser("ops", "ops@example.com", "x")
        self.session, self.META, self.method = {}, {}, "POST"
        self._messages = FallbackStorage(self)


@pytest.fixture
def second_sandbox():
    other = QBOSandbox(port=0, realm_id="9130000000000002").start()
    yield other
    other.stop()


def test_429_pauses_only_that_connection_for_retry_after(clock, sandbox, second_sandbox, make_invoice):
    org_a, org_b = f.OrganizationFactory(), f.OrganizationFactory()
    conns = {}
    for label, sb, org in (("A", sandbox, org_a), ("B", second_sandbox, org_b)):
        tokens = sb.issue_tokens()
        conns[label] = f.ConnectionFactory(
            name=f"Company {label}", settings=sandbox_settings(sb), remote_company_id=sb.realm_id,
            access_token=tokens["access_token"], refresh_token=tokens["refresh_token"],
            access_expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
        conns[label].organizations.add(org)
        map_defaults(conns[label], sb)
    sandbox.faults.add("rate_limit", retry_after=120, match="/v3/")
    make_invoice(organization=org_a), make_invoice(organization=org_b)
    drain()
    a = Connection.objects.get(pk=conns["A"].pk)
    assert a.paused_until is not None and 119 <= (a.paused_until - clock.now()).total_seconds() <= 120
    assert len(remote_invoices(second_sandbox)) == 1 and remote_invoices(sandbox) == []
    calls_to_a = len(sandbox.requests_log)

    # 89 s of the 120 in all: B keeps syncing, A is not called at all. The clock is real time plus an offset, and
    # real time passes too while the drains run (tens of seconds on a busy machine): the pause must not end by itself.
    for seconds in (30, 30, 29):
        clock.advance(seconds)
        make_invoice(organization=org_a), make_invoice(organization=org_b)
        make_due()
        drain()
        assert len(sandbox.requests_log) == calls_to_a
    assert len(remote_invoices(second_sandbox)) == 4
    assert OutboxEntry.objects.filter(connection=conns["A"]).exclude(status=EntryStatus.DONE).count() >= 4

    clock.advance(32)  # the pause is over
    make_due()
    drain()
    assert len(remote_invoices(sandbox)) == 4
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
