"""Staff flows in a real browser: log in and read the dashboard and the connections' health, connect QuickBooks
Online and Xero through their sign-in pages, see a platform's refusal with its hint and retry it once fixed, fix a
mapping in the editor, see a failed document with its hint and retry it once fixed, export a batch of documents for
a platform without an API and download its file, export for manual entry while a platform is down, download the
platform's import file and mark the batch entered by hand."""
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from accounting_sync.models import EntryStatus, OutboxEntry
from connectors import registry
from connectors.models import Connection, ConnectionStatus
from mappings.models import Mapping, MappingKind
from tests import factories as f
from tests.browser.helpers import run_action
from tests.conftest import drain, remote_invoices, sandbox_settings, xero_settings

pytestmark = pytest.mark.django_db(transaction=True)


def test_log_in_and_read_the_dashboard(logged_in, connection, make_invoice):
    page = logged_in
    make_invoice()
    drain()
    page.goto("/admin/")
    row = page.locator(f'tr.as-connection[data-connection="{connection.pk}"]')
    expect(row).to_contain_text(connection.name)
    expect(row).to_contain_text("syncing")
    expect(row.locator("td.as-done")).not_to_have_text("0")
    expect(page.locator("#as-chart-synced svg rect.as-bar").last).to_be_visible()  # today's bar
    expect(page.locator("#accounting-sync-dashboard")).to_contain_text("Nothing needs a person")
    page.click("text=Reconciliation report")
    expect(page.locator("h1")).to_contain_text("Reconciliation")


def test_the_dashboard_has_a_page_of_its_own(logged_in, connection, make_invoice):
    page = logged_in
    make_invoice()
    drain()
    page.goto("/admin/accounting_sync/outboxentry/dashboard/")
    expect(page.locator("h1")).to_have_text("Integration dashboard")
    expect(page.locator(f'tr.as-connection[data-connection="{connection.pk}"]')).to_contain_text(connection.name)
    page.click(".breadcrumbs >> text=Accounting sync")  # back to the app's page, which opens with it too
    expect(page.locator("#accounting-sync-dashboard")).to_be_visible()


def test_add_a_connection_with_the_platforms_own_form(logged_in):
    page = logged_in
    page.goto("/admin/connectors/connection/add/")
    page.fill("#id_name", "Clinic in Xero")  # typed before the platform is picked: kept through the reload
    page.fill("#id_client_secret_input", "not-in-the-address")
    page.select_option("#id_platform", "xero")  # the page reloads with Xero's table and settings
    page.wait_for_url("**/add/?platform=xero*")
    assert "not-in-the-address" not in page.url and "Clinic" in page.url
    expect(page.locator("#id_setting__invoice_status")).to_be_visible()
    caps = registry.get("xero").capabilities
    for entity in caps.entities - caps.inbound:  # what Xero does not report has no "in" box
        expect(page.locator(f'input[name="sync_table__{entity}__update__in"]')).to_have_count(0)
    expect(page.locator('input[name="sync_table__customer__update__in"]')).to_have_count(
        int("customer" in caps.inbound))
    expect(page.locator("#id_name")).to_have_value("Clinic in Xero")
    page.check('input[name="sync_table__invoice__update__in"]')
    page.uncheck('input[name="sync_table__item__create__out"]')
    page.uncheck('input[name="sync_table__item__update__out"]')
    page.uncheck('input[name="sync_table__item__delete__out"]')
    page.select_option("#id_setting__invoice_status", "DRAFT")
    page.fill("#id_setting__timeout", "0")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("greater than or equal to 1")  # said beside the field
    page.fill("#id_setting__timeout", "45")
    page.click("input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("Clinic in Xero")
    conn = Connection.objects.get(name="Clinic in Xero")
    assert conn.platform == "xero" and conn.settings == {"invoice_status": "DRAFT", "timeout": 45}
    assert "item" not in conn.entities and conn.direction == "both"
    assert conn.sends("invoice", "update") and conn.receives("invoice", "update")
    assert conn.sends("customer", "create") and not conn.receives("invoice", "create")


def test_connect_a_platform_through_its_sign_in_pages(logged_in, sandbox, org, live_server):
    page = logged_in
    conn = f.ConnectionFactory(name="Books online", settings=sandbox_settings(sandbox),
                               status=ConnectionStatus.NEEDS_REAUTH)
    conn.organizations.add(org)
    page.goto(f"/admin/connectors/connection/{conn.pk}/change/")
    with page.expect_request(lambda request: request.url.startswith(sandbox.authorize_url)) as consent:
        page.click("text=Connect / reconnect to")
    # the platform's consent page sends staff straight back with a code: the admin shows the result
    expect(page.locator("ul.messagelist")).to_contain_text("Books online is connected")
    asked = parse_qs(urlsplit(consent.value.url).query)
    assert asked["response_type"] == ["code"] and asked["state"][0]
    assert asked["redirect_uri"][0].startswith(live_server.url + "/")  # back to this site, not elsewhere
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.ACTIVE and conn.remote_company_id == sandbox.realm_id
    assert conn.access_token


def test_connect_xero_and_its_organisation_through_its_sign_in_pages(logged_in, xsandbox, org):
    page = logged_in
    conn = f.ConnectionFactory(name="Xero books", platform="xero", settings=xero_settings(xsandbox),
                               status=ConnectionStatus.NEEDS_REAUTH)
    conn.organizations.add(org)
    page.goto(f"/admin/connectors/connection/{conn.pk}/change/")
    with page.expect_request(lambda request: request.url.startswith(xsandbox.authorize_url)):
        page.click("text=Connect / reconnect to")
    expect(page.locator("ul.messagelist")).to_contain_text("Xero books is connected")
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.ACTIVE and conn.remote_company_id == xsandbox.tenant_id


def test_the_connection_list_shows_each_connections_health(logged_in, connection, make_invoice, org):
    page = logged_in
    stale = f.ConnectionFactory(name="Signed out books", status=ConnectionStatus.NEEDS_REAUTH)
    stale.organizations.add(org)
    Mapping.objects.filter(connection=connection, kind=MappingKind.TAX_CODE).delete()
    make_invoice(("service", "1", "10.00", f.TaxRateFactory(organization=org)))  # a rate nobody mapped
    drain()
    page.goto("/admin/connectors/connection/")
    expect(page.locator("#result_list td.field-health")).to_have_count(2)
    working = page.locator("#result_list tr", has_text=connection.name)
    expect(working.locator("td.field-health")).to_have_text("Active")
    expect(working.locator("td.field-needs_attention")).to_have_text(re.compile(r"\b1\b"))
    signed_out = page.locator("#result_list tr", has_text="Signed out books")
    expect(signed_out.locator("td.field-health")).to_contain_text("Needs reconnect — reconnect")


def test_see_an_error_with_its_hint_fix_the_mapping_and_retry(logged_in, connection, make_invoice, org, sandbox):
    page = logged_in
    Mapping.objects.filter(connection=connection, kind=MappingKind.TAX_CODE).delete()
    invoice = make_invoice(("service", "1", "10.00", f.TaxRateFactory(organization=org)))  # a rate nobody mapped
    drain()
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert entry.status == EntryStatus.NEEDS_ATTENTION

    page.goto("/admin/accounting_sync/")
    item = page.locator(f'tr.as-item[data-entry="{entry.pk}"]')
    expect(item).to_contain_text("no platform tax code mapped")
    expect(item).to_contain_text("Add the missing")  # the hint
    item.locator("a", has_text="Add a tax code rule").first.click()

    # the mapping editor, with the missing rule's row ready: pick the platform's tax code and save
    expect(page.locator("#kind-tax_code")).to_be_visible()
    target = page.locator("#kind-tax_code tr.fix-target")
    select = target.locator("select[name$='-remote_id']")
    option = select.locator("option", has_text="GST 10%").first.get_attribute("value")
    select.select_option(option)
    page.click("input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("Mappings saved")
    assert Mapping.objects.filter(connection=connection, kind=MappingKind.TAX_CODE).exists()

    page.goto("/admin/accounting_sync/")
    page.locator(f'tr.as-item[data-entry="{entry.pk}"] button', has_text="Retry").click()
    expect(page.locator("ul.messagelist")).to_contain_text("queued for retry")
    drain()  # what the task queue does
    page.reload()
    expect(page.locator("#accounting-sync-dashboard")).to_contain_text("Nothing needs a person")
    entry.refresh_from_db()
    assert entry.status == EntryStatus.DONE
    assert [r["DocNumber"] for r in remote_invoices(sandbox)] == [invoice.number]


def test_a_refusal_in_the_outbox_shows_its_hint_and_retries_once_fixed(logged_in, connection, make_invoice, sandbox):
    page = logged_in
    sandbox.store.closing_date = "2099-12-31"  # QuickBooks' books are closed: it refuses with 6210
    invoice = make_invoice()
    drain()
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert (entry.status, entry.platform_code) == (EntryStatus.NEEDS_ATTENTION, "6210")

    page.goto("/admin/accounting_sync/outboxentry/?status__exact=needs_attention")
    row = page.locator("#result_list tr", has=page.locator(f'input[name=_selected_action][value="{entry.pk}"]'))
    expect(row.locator("td.field-problem")).to_contain_text("The accounting period is closed in QuickBooks")

    sandbox.store.closing_date = None  # staff reopened the period in QuickBooks
    run_action(page, "/admin/accounting_sync/outboxentry/", "retry", entry.pk)
    expect(page.locator("ul.messagelist")).to_contain_text("queued")
    drain()  # what the task queue does
    page.goto("/admin/accounting_sync/outboxentry/?status__exact=done")
    expect(row.locator("td.field-status")).to_have_text("Synced")
    expect(row.locator("td.field-problem")).not_to_contain_text("closed")
    assert [r["DocNumber"] for r in remote_invoices(sandbox)] == [invoice.number]


def test_a_failed_entrys_page_retries_it(logged_in, connection, make_invoice, org):
    page = logged_in
    Mapping.objects.filter(connection=connection, kind=MappingKind.TAX_CODE).delete()
    invoice = make_invoice(("service", "1", "10.00", f.TaxRateFactory(organization=org)))  # a rate nobody mapped
    drain()
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    page.goto(f"/admin/accounting_sync/outboxentry/{entry.pk}/change/")
    expect(page.locator("body")).not_to_contain_text("Done at")
    page.click("text=Retry now")
    expect(page.locator("ul.messagelist")).to_contain_text("queued for retry")
    entry.refresh_from_db()
    assert entry.status == EntryStatus.PENDING


def test_export_a_batch_for_a_platform_without_an_api_and_download_it(logged_in, org, make_invoice):
    from accounting_sync.staff import demo

    page = logged_in
    f.TaxRateFactory(organization=org, name="Exempt", rate=Decimal("0"))
    gst = f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10"))
    conn = demo.connect_file_platform(org, platform="patriot")
    make_invoice(("service", "1", "100.00", gst), number="PB-1")
    drain()
    run_action(page, "/admin/connectors/connection/", "export_batch", conn.pk)
    message = page.locator("ul.messagelist")
    expect(message).to_contain_text("with 1 documents")
    message.locator("a", has_text=re.compile(r"batch \d+")).click()
    expect(page.locator("a[href*='/exportbatch/file/']")).to_have_count(2)  # customers first, then invoices
    link = page.locator("a[href*='/exportbatch/file/']", has_text="invoices")
    with page.expect_download() as download:
        link.click()
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "PB-1" in content
    assert Connection.objects.get(pk=conn.pk).platform == "patriot"


def test_export_for_manual_entry_while_a_platform_is_down(logged_in, connection, make_invoice):
    from accounting_sync.core import outbox

    page = logged_in
    invoice = make_invoice()
    outbox.absorb()  # saved while the platform is down: waiting in the outbox
    page.goto("/admin/connectors/connection/")
    page.locator(f'input[name=_selected_action][value="{connection.pk}"]').check()
    page.select_option("select[name=action]", "export_manual")
    page.click("button[name=index]")
    message = page.locator("ul.messagelist")
    expect(message).to_contain_text("1 documents for entering by hand")
    with page.expect_download() as download:  # QuickBooks' own import file, beside the generic CSV
        message.locator("a", has_text="-qbo.csv").click()
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert content.startswith("InvoiceNo,Customer,InvoiceDate") and invoice.number in content
    message.locator("a", has_text="manual-entry batch").click()  # the batch page: mark it entered by hand
    expect(page.locator("body")).to_contain_text("qbo-manual")
    page.goto("/admin/accounting_sync/exportbatch/")
    page.locator("input[name=_selected_action]").first.check()
    page.select_option("select[name=action]", "mark_entered")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("1 documents marked as entered by hand")
