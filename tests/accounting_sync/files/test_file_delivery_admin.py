"""File delivery as staff use it in the admin: export a batch from the connection, download its files exactly as
stored, confirm the import or upload the platform's export file, export a batch again; a wrong upload is refused
beside the field and nothing is kept."""
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounting_sync.staff import demo
from accounting_sync.files.models import ExportBatch, ExportFile
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry
from connectors.models import PlatformExport
from tests import factories as f
from tests.conftest import drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def gst(org):
    f.TaxRateFactory(organization=org, name="Exempt", rate=Decimal("0"))  # the demo chart maps both
    return f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10"))


@pytest.fixture(params=demo.file_platforms())
def conn(request, org, gst):
    return demo.connect_file_platform(org, platform=request.param)


@pytest.fixture
def exported(admin_client, conn, make_invoice, gst):
    """An invoice staged, then exported with the connection's admin action."""
    invoice = make_invoice(("service", "1", "100.00", gst), number="A-1")
    drain()
    response = admin_client.post("/admin/connectors/connection/", {"action": "export_batch",
                                                                   "_selected_action": [conn.pk]}, follow=True)
    assert response.status_code == 200
    batch = ExportBatch.objects.get(connection=conn)
    assert f"batch {batch.number}</a> with 1 documents" in response.content.decode()
    return invoice, batch


def entry(conn):
    return OutboxEntry.objects.get(connection=conn, entity="invoice")


def test_export_action_makes_a_batch_whose_files_download_exactly(admin_client, conn, exported):
    _, batch = exported
    assert entry(conn).status == EntryStatus.EXPORTED
    page = admin_client.get(f"/admin/accounting_sync/exportbatch/{batch.pk}/change/").content.decode()
    outbox = admin_client.get("/admin/accounting_sync/outboxentry/").content.decode()
    assert f"batch {batch.number}" in outbox
    for file in batch.files.all():
        assert file.name in page and file.sha256[:12] in page
        response = admin_client.get(f"/admin/accounting_sync/exportbatch/file/{file.pk}/")
        assert response.status_code == 200 and response.content == bytes(file.content)
        assert f'filename="{file.name}"' in response["Content-Disposition"]
    ExportFile.objects.filter(pk=file.pk).update(content=b"altered")  # behind the model's back
    assert admin_client.get(f"/admin/accounting_sync/exportbatch/file/{file.pk}/").status_code == 409


def test_a_second_export_has_nothing_to_take(admin_client, conn, exported):
    response = admin_client.post("/admin/connectors/connection/", {"action": "export_batch",
                                                                   "_selected_action": [conn.pk]}, follow=True)
    assert "nothing ready for export" in response.content.decode()
    assert ExportBatch.objects.filter(connection=conn).count() == 1


def test_confirm_imported_on_the_batch_closes_its_documents(admin_client, conn, exported):
    _, batch = exported
    admin_client.post("/admin/accounting_sync/exportbatch/", {"action": "confirm_imported",
                                                              "_selected_action": [batch.pk]})
    assert entry(conn).status == EntryStatus.DONE
    assert ExternalReference.objects.filter(connection=conn, entity="invoice", remote_number="A-1").exists()


def test_export_again_makes_a_new_batch_of_the_same_documents(admin_client, conn, exported):
    _, batch = exported
    admin_client.post("/admin/accounting_sync/exportbatch/", {"action": "export_again",
                                                              "_selected_action": [batch.pk]})
    again = ExportBatch.objects.get(connection=conn, reexport_of=batch)
    assert again.documents == 1 and entry(conn).status == EntryStatus.EXPORTED


def test_uploading_the_platform_export_closes_the_documents(admin_client, conn, exported):
    _, batch = exported
    importer = demo.sandbox_class(conn.platform)()
    for file in batch.files.all():
        assert importer.import_file(file.name, bytes(file.content)).ok
    name, content = importer.export_file()
    response = admin_client.post("/admin/connectors/platformexport/add/",
                                 {"connection": conn.pk, "upload": SimpleUploadedFile(name, content)}, follow=True)
    assert response.status_code == 200
    assert "1 exported documents closed as imported" in response.content.decode()
    upload = PlatformExport.objects.get(connection=conn)
    assert bytes(upload.content) == content and upload.uploaded_by
    assert entry(conn).status == EntryStatus.DONE


def test_a_file_that_is_not_the_platform_export_is_refused_beside_the_field(admin_client, conn, exported):
    response = admin_client.post("/admin/connectors/platformexport/add/",
                                 {"connection": conn.pk,
                                  "upload": SimpleUploadedFile("notes.csv", b"Colour,Size\r\nred,2\r\n")})
    assert response.status_code == 200  # the form again, with the error
    html = response.content.decode()
    assert "errorlist" in html and "notes.csv" in html
    assert not PlatformExport.objects.exists() and entry(conn).status == EntryStatus.EXPORTED


def test_an_api_connection_has_no_export(admin_client, connection):
    response = admin_client.post("/admin/connectors/connection/", {"action": "export_batch",
                                                                   "_selected_action": [connection.pk]}, follow=True)
    assert "no export files" in response.content.decode() and not ExportBatch.objects.exists()
