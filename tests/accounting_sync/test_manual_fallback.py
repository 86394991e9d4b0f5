"""The manual fallback: while QuickBooks cannot be reached, export the unsynced documents for someone to key in, mark
them entered, and when the platform is back the pipeline adopts what was keyed in instead of duplicating it."""
import csv
import io
from decimal import Decimal

import pytest

from accounting_sync import outbox, preflight
from accounting_sync.files import manual
from accounting_sync.files.models import ManualExport
from accounting_sync.models import EntryStatus, OutboxEntry, Outcome, SyncLog
from connectors.qbo import manual as qbo_manual
from connectors.xero import manual as xero_manual
from tests import factories as f
from tests.conftest import account_id, drain, remote_invoices

pytestmark = pytest.mark.django_db


def read(record: ManualExport) -> list[dict]:
    text = bytes(record.content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def waiting_invoice(connection, make_invoice, org):
    """An invoice saved while QuickBooks is down: its entry waits in the outbox, nothing reached the platform."""
    gst = f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10"))
    customer = f.CustomerFactory(organization=org, name="Harbour Dental")
    invoice = make_invoice(("service", "2", "50.00", gst), ("product", "1", "30.00", gst), customer=customer,
                           number="MAN-1")
    outbox.absorb()
    preflight.reference_data(connection, connection.connector())  # cached while the platform was still reachable
    connection.refresh_from_db()
    return invoice


def entry(invoice) -> OutboxEntry:
    return OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")


def test_the_generic_file_lists_each_unsynced_document_line_by_line(connection, waiting_invoice, sandbox):
    record = manual.export(connection, "generic", actor="ops")
    rows = read(record)
    assert [r["Number"] for r in rows] == ["MAN-1", "MAN-1"] and record.documents == 1 and record.rows == 2
    assert {r["Customer"] for r in rows} == {"Harbour Dental"}
    assert [r["Line amount"] for r in rows] == ["100.00", "30.00"]
    assert rows[0]["Total"] == "143.00" and rows[0]["Tax total"] == "13.00"
    assert "(Sales)" in rows[0]["Account"] and "GST 10%" in rows[0]["Tax code"]  # the mapped account, by name
    assert record.entries == [entry(waiting_invoice).pk]
    assert entry(waiting_invoice).status == EntryStatus.PENDING  # exporting changes nothing


def test_the_quickbooks_file_has_quickbooks_import_columns(connection, waiting_invoice, sandbox):
    record = manual.export(connection, "qbo-invoices", actor="ops")
    text = bytes(record.content).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(text))) == list(qbo_manual.HEADER)
    rows = read(record)
    assert [(r["InvoiceNo"], r["Customer"], r["ItemQuantity"], r["ItemRate"], r["ItemAmount"]) for r in rows] == [
        ("MAN-1", "Harbour Dental", "2", "50.00", "100.00"), ("MAN-1", "Harbour Dental", "1", "30.00", "30.00")]
    assert rows[0]["InvoiceDate"] == waiting_invoice.issue_date.strftime("%m/%d/%Y")
    assert rows[0]["ItemTaxCode"] == "GST 10%" and rows[0]["ItemTaxAmount"] == "10.00"


def test_the_xero_file_has_xeros_template_columns(make_xero_connection, org, make_invoice):
    conn = make_xero_connection(org)
    gst = f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10"))
    make_invoice(("service", "1", "80.00", gst), ("discount", "1", "5.00"), number="X-9",
                 customer=f.CustomerFactory(organization=org, name="Quay Vets"))
    outbox.absorb()
    record = manual.export(conn, "xero-sales-invoices", actor="ops")
    text = bytes(record.content).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(text))) == list(xero_manual.HEADER)
    rows = read(record)
    assert [(r["*ContactName"], r["*InvoiceNumber"], r["*UnitAmount"], r["*AccountCode"]) for r in rows] == [
        ("Quay Vets", "X-9", "80.00", "200"), ("Quay Vets", "X-9", "-5.00", "210")]
    assert rows[0]["*TaxType"] and rows[0]["*InvoiceDate"].count("/") == 2


def test_an_unknown_format_is_refused_with_the_ones_there_are(connection):
    with pytest.raises(manual.ManualExportError, match="generic, qbo-invoices"):
        manual.export(connection, "xero-sales-invoices", actor="ops")


def test_keyed_in_by_hand_then_adopted_when_the_platform_is_back_not_duplicated(connection, waiting_invoice, sandbox):
    record = manual.export(connection, "qbo-invoices", actor="ops")
    # A bookkeeper keys the file in QuickBooks, the customer included, one cent off on a line.
    person = sandbox.store.write("Customer", {"DisplayName": "Harbour Dental"})
    item = sandbox.store.write("Item", {"Name": "Cleaning", "Type": "Service",
                                        "IncomeAccountRef": {"value": account_id(sandbox, "Sales")}})
    sandbox.store.write("Invoice", {"DocNumber": "MAN-1", "CustomerRef": {"value": person["Id"]}, "Line": [
        {"Amount": 100.01, "DetailType": "SalesItemLineDetail",
         "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": 100.01}}]})
    assert manual.mark_entered(record, actor="ops") == 1
    marked = entry(waiting_invoice)
    assert marked.status == EntryStatus.MANUAL and marked.write_started
    assert SyncLog.objects.filter(entry_id=marked.pk, outcome=Outcome.MANUAL).exists()
    drain()  # the platform is still said to be down: nothing is sent for a document entered by hand
    assert entry(waiting_invoice).status == EntryStatus.MANUAL and len(remote_invoices(sandbox)) == 1

    assert manual.resume(connection, actor="ops") == 1
    drain()
    done = entry(waiting_invoice)
    assert done.status == EntryStatus.DONE, done.last_error
    [remote] = remote_invoices(sandbox)  # adopted, not created again
    assert remote["DocNumber"] == "MAN-1" and Decimal(str(remote["TotalAmt"])) == Decimal("143.00")  # made ours
    customers = [c for c in sandbox.store.entities("Customer") if c["DisplayName"] == "Harbour Dental"]
    assert len(customers) == 1  # the customer keyed in was adopted too
    assert SyncLog.objects.filter(entry_id=done.pk, operation="adopt", outcome=Outcome.SUCCESS).exists()


def test_a_document_nobody_keyed_in_is_simply_created_on_resume(connection, waiting_invoice, sandbox):
    record = manual.export(connection, "generic", actor="ops")
    manual.mark_entered(record, actor="ops")
    manual.resume(connection, actor="ops")
    drain()
    assert entry(waiting_invoice).status == EntryStatus.DONE
    assert [r["DocNumber"] for r in remote_invoices(sandbox)] == ["MAN-1"]


def test_a_file_delivery_connection_uses_its_batches(org):
    from accounting_sync import demo

    conn = demo.connect_file_platform(org, platform="patriot")
    with pytest.raises(manual.ManualExportError, match="export batches"):
        manual.export(conn, "generic", actor="ops")



def test_staff_export_download_mark_and_resume_in_the_admin(admin_client, connection, waiting_invoice, sandbox):
    response = admin_client.post("/admin/connectors/connection/", {"action": "export_manual_platform",
                                                                   "_selected_action": [connection.pk]}, follow=True)
    record = ManualExport.objects.get(connection=connection)
    html = response.content.decode()
    assert "1 documents for entering by hand" in html and f"/admin/accounting_sync/manualexport/{record.pk}/file/" in html
    download = admin_client.get(f"/admin/accounting_sync/manualexport/{record.pk}/file/")
    assert download.status_code == 200 and bytes(download.content) == bytes(record.content)
    assert record.format == "qbo-invoices"
    admin_client.post("/admin/accounting_sync/manualexport/", {"action": "mark_entered",
                                                               "_selected_action": [record.pk]})
    assert entry(waiting_invoice).status == EntryStatus.MANUAL
    admin_client.post("/admin/connectors/connection/", {"action": "resume_after_manual",
                                                        "_selected_action": [connection.pk]})
    assert entry(waiting_invoice).status == EntryStatus.PENDING and entry(waiting_invoice).write_started


def test_downloading_and_marking_need_export_manual(client, connection, waiting_invoice):
    from django.contrib.auth.models import Permission, User

    record = manual.export(connection, "generic", actor="ops")
    user = User.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client.force_login(user)
    assert client.get("/admin/accounting_sync/manualexport/").status_code == 200
    assert client.get(f"/admin/accounting_sync/manualexport/{record.pk}/file/").status_code == 403
    response = client.post("/admin/accounting_sync/manualexport/", {"action": "mark_entered",
                                                                    "_selected_action": [record.pk]})
    assert response.status_code == 403 and entry(waiting_invoice).status == EntryStatus.PENDING


def test_the_command_writes_the_file_marks_it_and_resumes(connection, waiting_invoice, sandbox, tmp_path, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    call_command("accounting_sync_export", "--connection", connection.name, "--manual", "qbo-invoices",
                 "--folder", str(tmp_path))
    out = capsys.readouterr().out
    record = ManualExport.objects.get(connection=connection)
    [written] = tmp_path.iterdir()
    assert written.read_bytes() == bytes(record.content) and f"--mark-entered {record.pk}" in out
    with pytest.raises(CommandError, match="has no format 'nope'"):
        call_command("accounting_sync_export", "--connection", connection.name, "--manual", "nope")
    call_command("accounting_sync_export", "--connection", connection.name, "--mark-entered", str(record.pk))
    assert entry(waiting_invoice).status == EntryStatus.MANUAL
    call_command("accounting_sync_export", "--connection", connection.name, "--resume")
    assert "1 documents entered by hand queued" in capsys.readouterr().out
    drain()
    assert entry(waiting_invoice).status == EntryStatus.DONE and len(remote_invoices(sandbox)) == 1
