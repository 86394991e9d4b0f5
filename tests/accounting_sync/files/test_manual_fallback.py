"""The manual fallback: while a platform is down, export the unsynced documents for someone to key in (a manual-entry
export batch: the generic CSV and the platform's own import files), mark them entered, and when the platform is
back the pipeline adopts what was keyed in instead of duplicating it, or stops with both totals when they differ."""
import csv
import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounting_sync.staff import demo
from accounting_sync.core import outbox
from accounting_sync.policies import preflight
from accounting_sync.audit.models import AuditRecord
from accounting_sync.files import manual
from accounting_sync.files.models import BatchPurpose, ExportBatch, ExportItem
from accounting_sync.models import EntryStatus, OutboxEntry, Outcome, SyncLog
from connectors.errors import DataError
from connectors.filekit.manual import GENERIC
from tests import factories as f
from tests.conftest import account_id, drain, remote_invoices

pytestmark = pytest.mark.django_db


def read(batch: ExportBatch, kind: str) -> list[dict]:
    [file] = batch.files.filter(kind=kind)
    return list(csv.DictReader(io.StringIO(bytes(file.content).decode("utf-8-sig"))))


def entry(invoice) -> OutboxEntry:
    return OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")


def items(batch: ExportBatch):
    return ExportItem.objects.filter(batch=batch)


@pytest.fixture
def down(connection, sandbox):
    """QuickBooks answers every request with 503 until the test clears it (its lists were read before)."""
    preflight.reference_data(connection, connection.connector())
    connection.refresh_from_db()
    sandbox.faults.add("http_503", count=None)
    yield sandbox
    sandbox.faults.clear()


@pytest.fixture
def waiting_invoice(connection, make_invoice, org, down):
    """An invoice saved while QuickBooks is down: tried, refused with 503, waiting in the outbox to be retried."""
    customer = f.CustomerFactory(organization=org, name="Harbour Dental")
    invoice = make_invoice(("service", "2", "50.00"), ("product", "1", "30.00"), customer=customer, number="MAN-1")
    drain()
    assert entry(invoice).status == EntryStatus.PENDING and entry(invoice).attempts == 1
    return invoice


def key_in_qbo(sandbox, number: str, customer: str, *amounts: str) -> dict:
    """What a bookkeeper does in QuickBooks: the customer, then the invoice with our number, line by line."""
    person = next((c for c in sandbox.store.entities("Customer") if c["DisplayName"] == customer), None) or \
        sandbox.store.write("Customer", {"DisplayName": customer})
    item = sandbox.store.write("Item", {"Name": f"Keyed {number}", "Type": "Service",
                                        "IncomeAccountRef": {"value": account_id(sandbox, "Sales")}})
    return sandbox.store.write("Invoice", {"DocNumber": number, "CustomerRef": {"value": person["Id"]}, "Line": [
        {"Amount": amount, "DetailType": "SalesItemLineDetail",
         "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": amount}}
        for amount in amounts]})


def back(sandbox, connection) -> None:
    sandbox.faults.clear()
    manual.resume(connection)
    drain()


def test_one_batch_holds_the_generic_csv_and_the_quickbooks_file(connection, waiting_invoice):
    done = manual.export(connection, actor="ops")
    batch = done.batch
    assert batch.purpose == BatchPurpose.MANUAL and batch.documents == 1 and not done.left_out
    assert [f.kind for f in batch.files.all()] == ["generic", "qbo"]
    rows = read(batch, "generic")
    assert list(rows[0]) == list(GENERIC.file.names)
    assert [(r["Number"], r["Customer"], r["Line amount"]) for r in rows] == [
        ("MAN-1", "Harbour Dental", "100.00"), ("MAN-1", "Harbour Dental", "30.00")]
    assert rows[0]["Total"] == "130.00" and "(Sales)" in rows[0]["Account"]  # the mapped account, by name
    assert [(r["InvoiceNo"], r["ItemAmount"]) for r in read(batch, "qbo")] == [("MAN-1", "100.00"), ("MAN-1", "30.00")]
    [item] = items(batch)
    assert item.entry == entry(waiting_invoice) and item.number == "MAN-1" and set(item.rows) == {"generic", "qbo"}
    assert entry(waiting_invoice).status == EntryStatus.PENDING  # exporting changes nothing: the sync goes on trying
    assert manual.export(connection, actor="ops", names=["generic"]).batch.number == batch.number + 1


def test_a_document_the_platform_import_cannot_take_is_in_the_generic_file_only_and_staff_are_told(
        connection, waiting_invoice, make_invoice):
    make_invoice(("service", "1", "80.00"), ("discount", "1", "5.00"), number="MAN-2",
                 customer=waiting_invoice.customer)
    outbox.absorb()
    done = manual.export(connection, actor="ops")
    assert [r["Number"] for r in read(done.batch, "generic")] == ["MAN-1", "MAN-1", "MAN-2", "MAN-2"]
    assert {r["InvoiceNo"] for r in read(done.batch, "qbo")} == {"MAN-1"}
    assert done.left_out == ["MAN-2: not in the QuickBooks Online invoice import (CSV) file (QuickBooks' invoice "
                             "import takes no discount lines or negative amounts)"]
    assert read(done.batch, "generic")[3]["Line amount"] == "-5.00"


def test_an_unknown_format_and_a_file_delivery_connection_are_refused(connection, org):
    with pytest.raises(DataError, match="no manual-entry format 'xero'") as refused:
        manual.export(connection, actor="ops", names=["xero"])
    assert refused.value.hint == "Choose among: generic, qbo."
    with pytest.raises(DataError, match="import files already"):
        manual.export(demo.connect_file_platform(org, platform="patriot"), actor="ops")


def test_a_void_document_is_not_handed_to_anyone_to_key_in(connection, waiting_invoice):
    waiting_invoice.status = "void"
    waiting_invoice.save()
    outbox.absorb()
    assert entry(waiting_invoice).status == EntryStatus.PENDING
    assert manual.export(connection, actor="ops").batch is None


def test_nothing_to_export_makes_no_batch(connection):
    assert manual.export(connection, actor="ops").batch is None and not ExportBatch.objects.exists()


def test_keyed_in_by_hand_then_adopted_when_quickbooks_is_back_not_duplicated(connection, waiting_invoice, down):
    batch = manual.export(connection, actor="ops").batch
    keyed = key_in_qbo(down, "MAN-1", "Harbour Dental", "100.00", "30.00")  # through QuickBooks' own screens
    assert manual.mark_entered(items(batch), actor="ops").closed == [entry(waiting_invoice).label]
    marked = entry(waiting_invoice)
    assert marked.status == EntryStatus.MANUAL and marked.write_started and "adopted" in marked.hint
    log = SyncLog.objects.get(entry_id=marked.pk, outcome=Outcome.MANUAL)
    assert f"manual-entry batch {batch.number}" in log.message and "marked by ops" in log.message
    assert items(batch).get().confirmed_by == "ops"
    down.faults.clear()
    drain()  # the platform answers again, but nothing is sent for a document marked entered by hand
    assert entry(waiting_invoice).status == EntryStatus.MANUAL and len(remote_invoices(down)) == 1

    back(down, connection)
    done = entry(waiting_invoice)
    assert done.status == EntryStatus.DONE, done.last_error
    [remote] = remote_invoices(down)  # adopted, not created again
    assert remote["Id"] == keyed["Id"] and Decimal(str(remote["TotalAmt"])) == Decimal("130.00")
    assert [c["DisplayName"] for c in down.store.entities("Customer")] == ["Harbour Dental"]  # adopted too
    assert SyncLog.objects.filter(entry_id=done.pk, operation="adopt", outcome=Outcome.SUCCESS).exists()


def test_a_total_keyed_in_wrong_needs_attention_with_both_totals_and_is_not_overwritten(
        admin_client, connection, waiting_invoice, down):
    manual.mark_entered(items(manual.export(connection, actor="ops").batch), actor="ops")
    keyed = key_in_qbo(down, "MAN-1", "Harbour Dental", "100.00", "3.00")  # 30 typed as 3
    back(down, connection)
    stopped = entry(waiting_invoice)
    assert stopped.status == EntryStatus.NEEDS_ATTENTION and stopped.error_code == "conflict"
    assert "entered by hand in QuickBooks Online (number MAN-1) with total 103.00 USD, but ours is 130.00" in \
        stopped.last_error
    assert "Send ours anyway" in stopped.hint
    [remote] = remote_invoices(down)
    assert remote["SyncToken"] == keyed["SyncToken"] and Decimal(str(remote["TotalAmt"])) == Decimal("103.00")

    admin_client.post("/admin/accounting_sync/outboxentry/", {"action": "send_ours_anyway",
                                                               "_selected_action": [stopped.pk]})
    drain()
    assert entry(waiting_invoice).status == EntryStatus.DONE
    [remote] = remote_invoices(down)
    assert remote["Id"] == keyed["Id"] and Decimal(str(remote["TotalAmt"])) == Decimal("130.00")


def test_a_backlog_goes_through_the_batch_path_adopting_the_right_ones(connection, waiting_invoice, make_invoice,
                                                                        down):
    second = make_invoice(("service", "1", "70.00"), number="MAN-2", customer=waiting_invoice.customer)
    third = make_invoice(("service", "1", "20.00"), number="MAN-3", customer=waiting_invoice.customer)
    drain()
    manual.mark_entered(items(manual.export(connection, actor="ops").batch), actor="ops")
    key_in_qbo(down, "MAN-1", "Harbour Dental", "100.00", "30.00")
    key_in_qbo(down, "MAN-2", "Harbour Dental", "7.00")  # MAN-3 was never keyed in
    back(down, connection)
    assert entry(waiting_invoice).status == EntryStatus.DONE and entry(third).status == EntryStatus.DONE
    assert entry(second).status == EntryStatus.NEEDS_ATTENTION and "total 7.00 USD" in entry(second).last_error
    assert sorted(r["DocNumber"] for r in remote_invoices(down)) == ["MAN-1", "MAN-2", "MAN-3"]


def test_a_document_nobody_keyed_in_is_simply_created_on_resume(connection, waiting_invoice, down):
    manual.mark_entered(items(manual.export(connection, actor="ops", names=["generic"]).batch), actor="ops")
    back(down, connection)
    assert entry(waiting_invoice).status == EntryStatus.DONE
    assert [r["DocNumber"] for r in remote_invoices(down)] == ["MAN-1"]


def test_retrying_a_marked_entry_lifts_its_mark_and_adopts_it(admin_client, connection, waiting_invoice, down):
    manual.mark_entered(items(manual.export(connection, actor="ops").batch), actor="ops")
    key_in_qbo(down, "MAN-1", "Harbour Dental", "100.00", "30.00")
    down.faults.clear()
    admin_client.post("/admin/accounting_sync/outboxentry/", {"action": "retry",
                                                               "_selected_action": [entry(waiting_invoice).pk]})
    drain()
    assert entry(waiting_invoice).status == EntryStatus.DONE and len(remote_invoices(down)) == 1


def test_exported_twice_either_batch_marks_it_and_a_marked_one_is_not_exported_again(connection, waiting_invoice):
    first = manual.export(connection, actor="ops").batch
    manual.export(connection, actor="ops")  # someone exported again in the afternoon
    assert manual.mark_entered(items(first), actor="ops").closed == [entry(waiting_invoice).label]
    assert entry(waiting_invoice).status == EntryStatus.MANUAL
    assert manual.export(connection, actor="ops").batch is None


def test_a_document_synced_before_it_was_marked_is_left_alone(connection, waiting_invoice, down):
    batch = manual.export(connection, actor="ops").batch
    down.faults.clear()
    OutboxEntry.objects.update(next_attempt_at=timezone.now())  # its back-off is over
    drain()  # the platform came back before anyone keyed it in
    done = manual.mark_entered(items(batch), actor="ops")
    assert not done.closed and done.skipped == [f"{entry(waiting_invoice).label}: synced"]
    assert entry(waiting_invoice).status == EntryStatus.DONE


def test_xero_keyed_in_by_hand_is_adopted_and_a_wrong_total_needs_attention(xsandbox, org, make_invoice,
                                                                            make_xero_connection):
    conn = make_xero_connection(org)
    gst = f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10"))
    vets = f.CustomerFactory(organization=org, name="Quay Vets")
    right = make_invoice(("service", "1", "80.00", gst), number="X-1", customer=vets)
    wrong = make_invoice(("service", "1", "50.00", gst), number="X-2", customer=vets)
    preflight.reference_data(conn, conn.connector())  # Xero's lists, cached while it still answered
    conn.refresh_from_db()
    xsandbox.faults.add("http_503", count=None)
    drain()
    done = manual.export(conn, actor="ops")
    assert [f.kind for f in done.batch.files.all()] == ["generic", "xero"]
    assert [(r["*InvoiceNumber"], r["*UnitAmount"], r["*AccountCode"], r["*TaxType"]) for r in read(
        done.batch, "xero")] == [("X-1", "80.00", "200", "Tax on Sales"), ("X-2", "50.00", "200", "Tax on Sales")]
    manual.mark_entered(items(done.batch), actor="ops")
    xsandbox.faults.clear()
    [contact] = xsandbox.store.write("Contacts", [{"Name": "Quay Vets"}], method="PUT")
    for number, amount in (("X-1", "80.00"), ("X-2", "5.00")):  # X-2: one zero short
        xsandbox.store.write("Invoices", [{
            "Type": "ACCREC", "Contact": {"ContactID": contact["ContactID"]}, "InvoiceNumber": number,
            "Date": right.issue_date.isoformat(), "DueDate": right.issue_date.isoformat(), "Status": "AUTHORISED",
            "LineItems": [{"Description": "Keyed in", "Quantity": 1, "UnitAmount": amount, "AccountCode": "200",
                           "TaxType": "OUTPUT"}]}], method="PUT")
    manual.resume(conn)
    drain()
    assert entry(right).status == EntryStatus.DONE, entry(right).last_error
    stopped = entry(wrong)
    assert stopped.status == EntryStatus.NEEDS_ATTENTION and "with total 5.50 USD, but ours is 55.00" in \
        stopped.last_error
    invoices = xsandbox.store.entities("Invoices")
    assert sorted(i["InvoiceNumber"] for i in invoices) == ["X-1", "X-2"]  # nothing created twice
    assert [c["Name"] for c in xsandbox.store.entities("Contacts") if c["Name"] == "Quay Vets"] == ["Quay Vets"]


def test_staff_export_download_mark_and_resume_in_the_admin(admin_client, connection, waiting_invoice, down):
    response = admin_client.post("/admin/connectors/connection/", {"action": "export_manual",
                                                                   "_selected_action": [connection.pk]}, follow=True)
    batch = ExportBatch.objects.get(connection=connection)
    html = response.content.decode()
    assert "1 documents for entering by hand in" in html and f"manual-entry batch {batch.number}" in html
    qbo = batch.files.get(kind="qbo")
    assert f"/admin/accounting_sync/exportbatch/file/{qbo.pk}/" in html
    page = admin_client.get(f"/admin/accounting_sync/exportbatch/{batch.pk}/change/").content.decode()
    assert f"/admin/accounting_sync/exportbatch/file/{qbo.pk}/" in page  # the batch page offers the download too
    download = admin_client.get(f"/admin/accounting_sync/exportbatch/file/{qbo.pk}/")
    assert download.status_code == 200 and bytes(download.content) == bytes(qbo.content)
    response = admin_client.post("/admin/accounting_sync/exportbatch/", {"action": "mark_entered",
                                                                          "_selected_action": [batch.pk]}, follow=True)
    assert "1 documents marked as entered by hand" in response.content.decode()
    assert entry(waiting_invoice).status == EntryStatus.MANUAL
    admin_client.post("/admin/connectors/connection/", {"action": "resume_after_manual",
                                                        "_selected_action": [connection.pk]})
    assert entry(waiting_invoice).status == EntryStatus.PENDING and entry(waiting_invoice).write_started
    staff = [r.operation for r in AuditRecord.objects.filter(kind="staff")]
    assert len(staff) == 3  # export, mark, resume: one record each


def test_from_the_attention_list_to_adoption_as_staff_do_it(admin_client, settings, connection, make_invoice, org,
                                                            down):
    """The platform stays down: the invoice's retries run out and it lands on the attention list. Staff export it
    from there, download QuickBooks' file, key in what it says, mark the batch entered and resume once QuickBooks is
    back: the invoice keyed in is adopted, nothing is created twice."""
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "MAX_ATTEMPTS": 1}
    customer = f.CustomerFactory(organization=org, name="Harbour Dental")
    invoice = make_invoice(("service", "2", "50.00"), ("product", "1", "30.00"), customer=customer, number="MAN-7")
    drain()
    stuck = entry(invoice)
    assert stuck.status == EntryStatus.FAILED
    attention = "/admin/accounting_sync/attentionentry/"
    assert f'value="{stuck.pk}"' in admin_client.get(attention).content.decode()

    html = admin_client.post(attention, {"action": "export_manual", "_selected_action": [stuck.pk]},
                             follow=True).content.decode()
    batch = ExportBatch.objects.get(connection=connection, purpose=BatchPurpose.MANUAL)
    assert f"manual-entry batch {batch.number}" in html
    link = re.search(r'<a href="([^"]+)">[^<]*-qbo\.csv</a>', html).group(1)
    download = admin_client.get(link)
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert {(r["InvoiceNo"], r["Customer"]) for r in rows} == {("MAN-7", "Harbour Dental")}
    keyed = key_in_qbo(down, rows[0]["InvoiceNo"], rows[0]["Customer"], *(r["ItemAmount"] for r in rows))

    admin_client.post("/admin/accounting_sync/exportbatch/", {"action": "mark_entered",
                                                              "_selected_action": [batch.pk]})
    assert entry(invoice).status == EntryStatus.MANUAL
    assert f'value="{stuck.pk}"' not in admin_client.get(attention).content.decode()  # no longer waits for a person

    down.faults.clear()
    admin_client.post("/admin/connectors/connection/", {"action": "resume_after_manual",
                                                        "_selected_action": [connection.pk]})
    drain()
    assert entry(invoice).status == EntryStatus.DONE, entry(invoice).last_error
    [remote] = remote_invoices(down)
    assert remote["Id"] == keyed["Id"] and Decimal(str(remote["TotalAmt"])) == Decimal("130.00")
    assert [c["DisplayName"] for c in down.store.entities("Customer")] == ["Harbour Dental"]


def test_the_outbox_list_exports_only_the_selected_entries(admin_client, connection, waiting_invoice, make_invoice):
    make_invoice(number="MAN-2", customer=waiting_invoice.customer)
    outbox.absorb()
    admin_client.post("/admin/accounting_sync/outboxentry/", {"action": "export_manual",
                                                               "_selected_action": [entry(waiting_invoice).pk]})
    batch = ExportBatch.objects.get(connection=connection)
    assert [i.number for i in items(batch)] == ["MAN-1"]


def test_exporting_downloading_and_marking_need_export_manual(client, connection, waiting_invoice):
    batch = manual.export(connection, actor="ops").batch
    user = User.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client.force_login(user)
    assert client.get("/admin/accounting_sync/exportbatch/").status_code == 200
    assert client.get(f"/admin/accounting_sync/exportbatch/file/{batch.files.first().pk}/").status_code == 403
    for url, action, pk in (("/admin/accounting_sync/exportbatch/", "mark_entered", batch.pk),
                            ("/admin/connectors/connection/", "export_manual", connection.pk),
                            ("/admin/accounting_sync/outboxentry/", "export_manual", entry(waiting_invoice).pk)):
        assert client.post(url, {"action": action, "_selected_action": [pk]}).status_code == 403
    assert entry(waiting_invoice).status == EntryStatus.PENDING and ExportBatch.objects.count() == 1


def test_the_command_exports_marks_and_resumes(connection, waiting_invoice, down, tmp_path, capsys):
    call_command("accounting_sync_export", "--connection", connection.name, "--manual", "--format", "qbo",
                 "--folder", str(tmp_path))
    out = capsys.readouterr().out
    batch = ExportBatch.objects.get(connection=connection)
    [written] = (tmp_path / f"qbo-batch-{batch.number}").iterdir()
    assert written.read_bytes() == bytes(batch.files.get().content) and f"--mark-entered {batch.number}" in out
    assert "MM/DD/YYYY" in out  # what to choose in QuickBooks' importer
    with pytest.raises(CommandError, match="no manual-entry format 'nope'"):
        call_command("accounting_sync_export", "--connection", connection.name, "--manual", "--format", "nope")
    with pytest.raises(CommandError, match="--format goes with --manual"):
        call_command("accounting_sync_export", "--connection", connection.name, "--format", "qbo")
    call_command("accounting_sync_export", "--connection", connection.name, "--mark-entered", str(batch.number))
    assert entry(waiting_invoice).status == EntryStatus.MANUAL
    key_in_qbo(down, "MAN-1", "Harbour Dental", "100.00", "30.00")
    down.faults.clear()
    call_command("accounting_sync_export", "--connection", connection.name, "--resume")
    assert "1 documents entered by hand queued" in capsys.readouterr().out
    drain()
    assert entry(waiting_invoice).status == EntryStatus.DONE and len(remote_invoices(down)) == 1
    assert {r.operation for r in AuditRecord.objects.filter(kind="staff")} >= {
        "manual export", "entered manually", "resume after manual entry"}
