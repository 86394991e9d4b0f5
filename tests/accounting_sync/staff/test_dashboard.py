"""The integration dashboard: the app's admin landing page and the standalone site's admin index."""
import datetime as dt
import re

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from accounting_sync.staff import charts, dashboard
from accounting_sync.adminkit import readable
from accounting_sync.models import EntryStatus, OutboxEntry, Outcome, SyncLog
from accounting_sync.reconcile.models import Variance, VarianceStatus
from connectors import budget
from connectors.models import RateBudget
from mappings.models import Mapping, MappingKind
from tests import factories as f
from tests.conftest import drain

pytestmark = pytest.mark.django_db


def staff(*perms: str) -> User:
    user = User.objects.create_user(f"staff{User.objects.count()}", password="x", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def synced_and_broken(connection, make_invoice, org):
    Mapping.objects.filter(connection=connection, kind=MappingKind.TAX_CODE).delete()
    ok = make_invoice()
    broken = make_invoice(("service", "1", "10.00", f.TaxRateFactory(organization=org)))
    drain()
    return ok, broken


def row_of(html: str, connection) -> str:
    match = re.search(rf'<tr class="as-connection" data-connection="{connection.pk}">(.*?)</tr>', html, re.S)
    assert match, "the connection has no row on the dashboard"
    return match.group(1)


def cell(row: str, name: str) -> str:
    return re.search(rf'<td class="as-{name}">(.*?)</td>', row, re.S).group(1)


def test_the_apps_landing_page_shows_each_connections_health(admin_client, connection, synced_and_broken):
    ok, broken = synced_and_broken
    html = admin_client.get("/admin/accounting_sync/").content.decode()
    row = row_of(html, connection)
    done = OutboxEntry.objects.filter(connection=connection, status=EntryStatus.DONE).count()
    assert "<strong>1</strong>" in cell(row, "attention")  # the broken invoice
    assert cell(row, "done") == str(done) and done >= 2  # the customer and the good invoice (and its items)
    assert cell(row, "pending") == "0"
    assert "as-light red" in row and "documents need a person" in row
    assert "request: " in row and "of 475 per 60 s" in row  # QBO's 500 a minute, of which workers use 95%
    assert "never run" in row  # no reconciliation yet
    # the action items: the error, its hint, the link that fixes it and a retry button
    items = html[html.index('id="as-action-items"'):]
    assert broken.number in items and "no platform tax code mapped" in items and "Add the missing" in items
    assert ok.number not in items
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{broken.pk}")
    assert f'action="/admin/accounting_sync/outboxentry/{entry.pk}/retry/"' in items


def test_the_standalone_admin_index_opens_with_the_dashboard(admin_client, connection, synced_and_broken):
    html = admin_client.get("/admin/").content.decode()
    assert 'id="accounting-sync-dashboard"' in html
    assert row_of(html, connection)
    assert "Site administration" in html  # the stock index is still there, below


def test_the_dashboard_needs_view_dashboard(client, connection, synced_and_broken):
    page = reverse("admin:accounting_sync_dashboard")
    assert page == "/admin/accounting_sync/outboxentry/dashboard/"
    client.force_login(staff("accounting_sync.view_synclog"))
    html = client.get("/admin/").content.decode()
    assert 'id="accounting-sync-dashboard"' not in html
    assert 'id="accounting-sync-dashboard"' not in client.get("/admin/accounting_sync/").content.decode()
    assert client.get(page).status_code == 403
    client.force_login(staff("accounting_sync.view_dashboard"))
    html = client.get("/admin/").content.decode()
    assert 'id="accounting-sync-dashboard"' in html
    assert "/retry/" not in html  # seeing is not retrying: no button without sync_connection
    response = client.get(page)
    html = response.content.decode()
    assert response.status_code == 200 and "<h1>Integration dashboard</h1>" in html
    assert 'id="accounting-sync-dashboard"' in html and row_of(html, connection)
    assert "/retry/" not in html
    assert 'id="accounting-sync-dashboard"' in client.get("/admin/accounting_sync/").content.decode()
    other = client.get("/admin/accounting_sync/attentionentry/dashboard/")  # one address only, not one per list
    assert other.status_code != 200 and b"Integration dashboard" not in other.content
    client.logout()
    assert client.get(page).status_code == 302  # the admin's login first


def test_one_click_retry_needs_sync_and_requeues(client, connection, synced_and_broken):
    _, broken = synced_and_broken
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{broken.pk}")
    url = f"/admin/accounting_sync/outboxentry/{entry.pk}/retry/"
    client.force_login(staff("accounting_sync.view_dashboard"))
    assert client.post(url).status_code == 403
    client.force_login(staff("accounting_sync.view_dashboard", "accounting_sync.sync_connection"))
    assert client.get(url).status_code == 405
    OutboxEntry.objects.filter(pk=entry.pk).update(label="")  # an entry from before labels were kept
    html = client.get("/admin/accounting_sync/").content.decode()
    assert f'<tr class="as-item" data-entry="{entry.pk}">' in html and f">invoice #{broken.pk}</a>" in html
    response = client.post(url, {"next": "/admin/accounting_sync/"})
    assert response.status_code == 302 and response["Location"] == "/admin/accounting_sync/"
    assert f"invoice #{broken.pk}: queued for retry." in [str(m) for m in response.wsgi_request._messages]
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PENDING and entry.attempts == 0
    response = client.post(url, {"next": "https://elsewhere.example/"})  # not ours: back to the entry instead
    assert response["Location"] == f"/admin/accounting_sync/outboxentry/{entry.pk}/change/"


def test_a_failed_entrys_page_has_a_retry_button_and_no_done_at(admin_client, connection, synced_and_broken):
    ok, broken = synced_and_broken
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{broken.pk}")
    OutboxEntry.objects.filter(pk=entry.pk).update(done_at=timezone.now())  # an earlier version went through
    html = admin_client.get(f"/admin/accounting_sync/outboxentry/{entry.pk}/change/").content.decode()
    assert f'action="/admin/accounting_sync/outboxentry/{entry.pk}/retry/"' in html and "Retry now" in html
    assert "Done at" not in html
    done = OutboxEntry.objects.get(source_key=f"ledger.invoice:{ok.pk}")
    html = admin_client.get(f"/admin/accounting_sync/outboxentry/{done.pk}/change/").content.decode()
    assert "Retry now" not in html and "Done at" in html


def test_charts_count_per_day_reason_and_open_variance(connection):
    today = timezone.localdate()
    now = timezone.now()

    def log(outcome, days_ago, code=""):
        SyncLog.objects.create(connection=connection, source_key="ledger.invoice:1", entity="invoice",
                               outcome=outcome, error_code=code, created_at=now - dt.timedelta(days=days_ago))

    for _ in range(3):
        log(Outcome.SUCCESS, 0)
    log(Outcome.SUCCESS, 2)
    log(Outcome.SUCCESS, 30)  # outside the window
    log(Outcome.ATTENTION, 1, "mapping_missing")
    log(Outcome.ATTENTION, 1, "mapping_missing")
    log(Outcome.RETRY, 0, "network")
    per_day = dashboard.synced_per_day(today)
    assert len(per_day) == dashboard.DAYS and per_day[-1][1] == 3 and per_day[-3][1] == 1
    assert sum(n for _, n in per_day) == 4
    assert dashboard.failures_by_reason(now) == [("mapping missing", 2), ("network", 1)]

    def variance(opened_days_ago, resolved_days_ago=None):
        Variance.objects.create(connection=connection, entity="invoice", source_key="ledger.invoice:1", field="total",
                                reason="edited", first_seen_at=now - dt.timedelta(days=opened_days_ago),
                                last_seen_at=now, status=VarianceStatus.RESOLVED if resolved_days_ago is not None
                                else VarianceStatus.OPEN,
                                resolved_at=None if resolved_days_ago is None else
                                now - dt.timedelta(days=resolved_days_ago))

    assert dashboard.open_variances_per_day(today) == []  # none ever: the chart says so instead of a flat line
    variance(5)  # still open
    variance(4, resolved_days_ago=2)
    counts = [n for _, n in dashboard.open_variances_per_day(today)]
    assert counts[-6] == 1 and counts[-5] == 2 and counts[-3] == 1 and counts[-1] == 1 and counts[0] == 0

    svg = charts.bars(per_day, "synced")
    assert svg.count('class="as-bar"') == sum(1 for _, n in per_day if n) + sum(1 for _, n in per_day if not n)
    assert "<title>" in svg and "3</title>" in svg
    assert charts.hbars(dashboard.failures_by_reason(now), "failures").count('class="as-bar"') == 2
    assert charts.line(dashboard.open_variances_per_day(today), "open").count('class="as-point"') == dashboard.DAYS
    assert "nothing yet" in charts.bars([("a", 0)], "synced")


def test_chart_labels_are_escaped(connection):
    svg = charts.hbars([("<script>alert(1)</script>", 3)], "failures")
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_rate_budget_usage_reads_the_shared_window(connection):
    connector_cls = connection.connector_class()
    clock = lambda: 1_000_000.0  # noqa: E731
    for _ in range(7):
        assert budget.take(connection.pk, "request", 500, 60.0, clock=clock) == 0
    slot, _ = budget.hold(connection.pk, 10, clock=clock)
    usage = {u["kind"]: u for u in budget.usage(connection, connector_cls, clock=clock)}
    assert usage["request"]["used"] == 7 and usage["request"]["allowed"] == 475
    assert usage["concurrent"]["used"] == 1 and usage["concurrent"]["allowed"] == 10
    later = lambda: 1_000_000.0 + 120  # noqa: E731 - two minutes on: the window is empty again
    usage = {u["kind"]: u for u in budget.usage(connection, connector_cls, clock=later)}
    assert usage["request"]["used"] == 0
    assert RateBudget.objects.filter(connection=connection).count() == 2


def test_external_references_read_as_document_names_and_xero_versions_as_times(admin_client, connection,
                                                                              synced_and_broken):
    from accounting_sync.models import ExternalReference
    from connectors.xero.connector import XeroConnector

    ok, _ = synced_and_broken
    html = admin_client.get("/admin/accounting_sync/externalreference/").content.decode()
    assert f">invoice {ok.number}</a>" in html  # its label, linked to the document, not "ledger.invoice:1"
    assert XeroConnector.describe_version("/Date(1700000000000+0000)/") == "2023-11-14 22:13:20.000 UTC"
    assert XeroConnector.describe_version("3") == "3"
    xero = f.ConnectionFactory(platform="xero", name="Xero books")
    ExternalReference.objects.create(connection=xero, source_key="ledger.invoice:999", entity="invoice",
                                     remote_id="abc", remote_version="/Date(1700000000000+0000)/")
    ref = ExternalReference.objects.get(connection=xero)
    html = admin_client.get("/admin/accounting_sync/externalreference/").content.decode()
    assert "2023-11-14 22:13:20.000 UTC" in html and "/Date(" not in html
    assert ">invoice #999</a>" in html and ">ledger.invoice:999<" not in html  # no label kept: its kind and id
    html = admin_client.get(f"/admin/accounting_sync/externalreference/{ref.pk}/change/").content.decode()
    assert "2023-11-14 22:13:20.000 UTC" in html and "/Date(" not in html


def test_a_document_without_a_label_reads_as_its_kind_and_id():
    assert readable("ledger.creditnote:7") == "credit note #7"
    assert readable("ledger.invoice:7", "INV-7 for Ada") == "INV-7 for Ada"
    assert readable("host.unknownmodel:7") == "host.unknownmodel:7"  # a key naming no model stays as it is
    assert readable("no-colon") == "no-colon"
