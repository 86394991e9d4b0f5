"""What only Xero does in the pipeline (issue 4 acceptance 3 and 4): a 50-invoice backlog where 3 are invalid goes
in one request and stops on Xero's own message, two workers refresh with one refresh token inside Xero's grace
period, the daily limit pauses the connection. What every platform does is in test_platform_pipeline.py."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounting_sync.models import EntryStatus, OutboxEntry
from connectors.models import Connection, ConnectionStatus
from connectors.tokens import get_access_token
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.conftest import drain

pytestmark = pytest.mark.django_db


def test_backlog_of_50_with_3_invalid_syncs_47_and_3_need_attention_with_xeros_message(xsandbox, org, make_invoice,
                                                                                          make_xero_connection):
    xsandbox.limits.off()
    conn = make_xero_connection(org, rate_limits=False)
    # Fees were mapped to an account code this Xero organisation does not have: only Xero can tell.
    f.MappingFactory(connection=conn, kind=MappingKind.INCOME_ACCOUNT, scope=Scope.LINE_KIND, local_value="fee",
                     remote_id="999")
    invoices = []
    for n in range(50):
        lines = [("service", "1", f"{20 + n}.00")] + ([("fee", "1", "5.00")] if n in (4, 17, 33) else [])
        invoices.append(make_invoice(*lines))
    drain()
    entries = {i.number: OutboxEntry.objects.get(source_key=f"ledger.invoice:{i.pk}") for i in invoices}
    done = [n for n, e in entries.items() if e.status == EntryStatus.DONE]
    attention = {n: e for n, e in entries.items() if e.status == EntryStatus.NEEDS_ATTENTION}
    assert len(done) == 47 and sorted(attention) == sorted(invoices[n].number for n in (4, 17, 33))
    for entry in attention.values():
        assert "Account code '999' is not a valid code" in entry.last_error and entry.platform_code
    remote = {r["InvoiceNumber"]: r for r in xsandbox.store.entities("Invoices")}
    assert sorted(remote) == sorted(done)
    for invoice in invoices:
        if invoice.number in remote:
            assert Decimal(str(remote[invoice.number]["Total"])) == invoice.totals().total
    puts = [p for m, p, _ in xsandbox.requests_log if m in ("PUT", "POST") and p.endswith("/Invoices")]
    assert len(puts) == 1  # fifty invoices, one request


def test_two_workers_refresh_with_one_refresh_token_inside_the_grace_period(xsandbox, org, make_xero_connection):
    """Worker A's refresh reaches Xero but its answer is lost; worker B, holding the same (now superseded)
    refresh token, refreshes inside Xero's 30 minutes of grace: both refreshes succeed, the newest token set is
    stored and the connection never needs re-authorising."""
    conn = make_xero_connection(org)
    old_refresh = conn.refresh_token
    Connection.objects.filter(pk=conn.pk).update(access_expires_at=timezone.now() - dt.timedelta(seconds=1))
    xsandbox.faults.add("lost_response", match="/connect/token")
    from connectors.errors import RetryableError

    with pytest.raises(RetryableError):  # worker A: Xero rotated the token, A never heard back
        get_access_token(conn.pk)
    conn.refresh_from_db()
    assert conn.refresh_token == old_refresh and conn.status == ConnectionStatus.ACTIVE

    token = get_access_token(conn.pk)  # worker B, same refresh token, minutes later
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.ACTIVE and conn.access_token == token
    assert conn.refresh_token != old_refresh
    current = xsandbox.identity._refresh[conn.refresh_token]
    assert current.get("successor") is None  # what we stored is the newest refresh token Xero issued
    assert xsandbox.token_calls >= 2

    conn.refresh_from_db()
    from connectors.xero.connector import XeroConnector

    assert XeroConnector(conn.config(), lambda force=False: token).reference_data().accounts  # it works


def test_daily_limit_pauses_the_connection_until_the_next_day_and_the_dashboard_says_so(
        xsandbox, org, make_invoice, make_xero_connection, admin_client):
    conn = make_xero_connection(org)
    xsandbox.faults.add("rate_limit", retry_after=1, problem="day", match="/api.xro/")  # midnight is later
    make_invoice()
    drain()
    conn.refresh_from_db()
    midnight = dt.datetime.combine(conn.paused_until.date(), dt.time(), tzinfo=dt.UTC)
    assert conn.paused_until is not None and abs((conn.paused_until - midnight).total_seconds()) < 5
    assert "daily limit" in conn.status_message
    page = admin_client.get("/admin/connectors/connection/").content.decode()
    assert f"paused until {midnight:%Y-%m-%d}" in page and "daily limit of 5,000 API calls" in page
    assert OutboxEntry.objects.filter(connection=conn, status=EntryStatus.PENDING).count() == 2  # nothing lost


def test_a_customer_and_an_item_deleted_here_are_archived_and_deleted_in_xero_not_left_for_a_person(
        xsandbox, org, make_invoice, make_xero_connection):
    from ledger.models import Customer, Item

    from accounting_sync.models import ExternalReference, RemoteStatus

    make_xero_connection(org)
    customer = f.CustomerFactory(organization=org, name="Leaving Ltd")
    item = f.ItemFactory(organization=org, name="Old service")
    drain()
    keys = {"customer": f"ledger.customer:{customer.pk}", "item": f"ledger.item:{item.pk}"}
    refs = {entity: ExternalReference.objects.get(source_key=key) for entity, key in keys.items()}
    Customer.objects.filter(pk=customer.pk).delete()
    Item.objects.filter(pk=item.pk).delete()
    drain()
    for key in keys.values():
        entry = OutboxEntry.objects.get(source_key=key)
        assert entry.status == EntryStatus.DONE, entry.last_error  # no "remove it by hand" item for staff
        assert ExternalReference.objects.get(source_key=key).remote_status == RemoteStatus.DELETED
    contact = xsandbox.store.get("Contacts", refs["customer"].remote_id)
    assert contact["ContactStatus"] == "ARCHIVED"
    assert xsandbox.store.get("Items", refs["item"].remote_id) is None
