"""File delivery end to end, on every file-delivery platform (``demo.file_platforms()``): an invoice saved here is
rendered, exported once in an immutable batch, imported by the platform's importer emulator, and closed by
"confirm imported" or by the platform's export file read back; re-export is explicit and recorded; a document
with a missing mapping is explained and never put in a file."""
import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounting_sync.staff import demo
from accounting_sync.audit.models import AuditRecord
from accounting_sync.files import batches
from accounting_sync.files.models import ExportBatch, ExportFile, ExportItem, ImmutableError
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, SyncLog
from connectors import registry
from ledger import models as L
from mappings.models import Mapping, MappingKind
from tests import factories as f
from tests.conftest import drain, entry_of

pytestmark = pytest.mark.django_db
PLATFORMS = demo.file_platforms()


@pytest.fixture(params=PLATFORMS)
def platform(request):
    return request.param


@pytest.fixture
def rates(org):
    return {"gst": f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10")),
            "exempt": f.TaxRateFactory(organization=org, name="Exempt", rate=Decimal("0"))}


@pytest.fixture
def conn(platform, org, rates):
    return demo.connect_file_platform(org, platform=platform)


@pytest.fixture
def importer(platform):
    return demo.sandbox_class(platform)()


def rows_of(batch: ExportBatch, kind_contains: str) -> list[dict]:
    """The data rows of the batch's files of that kind, read with the csv module."""
    conn = batch.connection
    connector = conn.connector()
    out = []
    for file in batch.files.all():
        if kind_contains not in file.kind:
            continue
        fmt = connector.format(file.kind)
        text = bytes(file.content).decode(fmt.encoding)
        out += [r for r in csv.DictReader(io.StringIO(text, newline=""), delimiter=fmt.delimiter)
                if any((v or "").strip() for v in r.values())]
    return out


def invoice_format(conn):
    return next(f for f in conn.connector().formats if "invoice" in f.entities)


def number_column(conn) -> str:
    return next(c for c in invoice_format(conn).names if "Invoice" in c and ("Number" in c or "#" in c))


def invoice_numbers(batch) -> list[str]:
    return [r[number_column(batch.connection)] for r in rows_of(batch, invoice_format(batch.connection).kind)]


def test_an_invoice_is_exported_once_confirmed_and_never_repeated(conn, make_invoice, rates, importer):
    invoice = make_invoice(("service", "2", "40.00", rates["gst"]), number="F-1")
    drain()
    entry = entry_of(invoice)
    assert entry.status == EntryStatus.READY, (entry.last_error, entry.hint)

    batch = batches.export(conn, actor="tester")
    entry.refresh_from_db()
    assert entry.status == EntryStatus.EXPORTED and f"batch {batch.number}" in entry.hint
    numbers = invoice_numbers(batch)
    assert numbers.count("F-1") == 1  # one line, once
    for file in batch.files.all():
        assert file.intact and file.sha256 == __import__("hashlib").sha256(bytes(file.content)).hexdigest()
        result = importer.import_file(file.name, bytes(file.content))
        assert result.ok, result.errors

    assert batches.export(conn, actor="tester") is None  # nothing new: nothing exported again

    done = batches.confirm(ExportItem.objects.filter(batch=batch), actor="tester")
    assert done.closed and not done.skipped
    entry.refresh_from_db()
    ref = ExternalReference.objects.get(connection=conn, source_key=entry.source_key)
    assert entry.status == EntryStatus.DONE and ref.remote_number == "F-1"

    invoice.save()  # unchanged: no new file
    drain()
    assert entry_of(invoice).status == EntryStatus.DONE
    assert batches.export(conn, actor="tester") is None


def test_the_platform_export_file_closes_the_documents_and_feeds_reconciliation(conn, make_invoice, rates,
                                                                               importer):
    make_invoice(("service", "1", "100.00", rates["gst"]), number="F-2")
    drain()
    batch = batches.export(conn, actor="tester")
    for file in batch.files.all():
        assert importer.import_file(file.name, bytes(file.content)).ok
    name, content = importer.export_file()
    upload, done = batches.read_back(conn, name, content, actor="tester")
    assert len(done.closed) == 1 and upload.sha256
    ref = ExternalReference.objects.get(connection=conn, remote_number="F-2")
    (read,) = conn.connector().read_documents("invoice", [ref.remote_id])
    assert read.total == Decimal("110.00") and read.status == "open"
    assert conn.connector().read_documents("invoice", ["NOPE"])[0].status == "deleted"


def test_reexport_is_explicit_repeats_the_documents_and_is_recorded(conn, make_invoice, rates):
    make_invoice(("service", "1", "10.00", rates["exempt"]), number="F-3")
    drain()
    first = batches.export(conn, actor="tester")
    again = batches.reexport(first, actor="ops", reason="files lost")
    assert again.reexport_of == first and again.number == first.number + 1
    assert invoice_numbers(again) == invoice_numbers(first) == ["F-3"]
    assert AuditRecord.objects.filter(operation="re-export", actor="ops").exists()
    # the first batch's item can no longer close the entry: the latest batch does
    assert batches.confirm(ExportItem.objects.filter(batch=first), actor="t").skipped
    assert batches.confirm(ExportItem.objects.filter(batch=again), actor="t").closed
    with pytest.raises(ImmutableError):
        file = ExportFile.objects.filter(batch=first).first()
        file.content = b"changed"
        file.save()


def test_a_document_with_a_missing_mapping_is_explained_and_not_put_in_a_file(conn, make_invoice, rates):
    Mapping.objects.filter(connection=conn, kind=MappingKind.INCOME_ACCOUNT).delete()
    make_invoice(("service", "1", "10.00", rates["gst"]), number="F-4")
    drain()
    entry = OutboxEntry.objects.get(connection=conn, entity="invoice")
    assert entry.status == EntryStatus.NEEDS_ATTENTION and "income" in entry.last_error.lower()
    assert SyncLog.objects.filter(entry=entry, outcome="attention").exists()
    assert batches.export(conn, actor="tester") is None and not ExportItem.objects.exists()


def test_a_payment_follows_its_invoice_in_the_import_order(conn, make_invoice, rates, org, importer):
    invoice = make_invoice(("service", "1", "50.00", rates["exempt"]), number="F-5")
    payment = L.Payment.objects.create(organization=org, customer=invoice.customer, number="P-5",
                                       date=invoice.issue_date, amount=Decimal("50.00"), method="card")
    L.PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal("50.00"))
    drain()
    drain()
    batch = batches.export(conn, actor="tester")
    kinds = [f.kind for f in batch.files.all()]
    assert len(kinds) >= 2 and batch.documents == 2
    for file in batch.files.all():
        result = importer.import_file(file.name, bytes(file.content))
        assert result.ok, result.errors
    name, content = importer.export_file()
    batches.read_back(conn, name, content, actor="tester")
    assert conn.connector().read_documents("invoice", ["F-5"])[0].status == "paid"


def test_the_export_command_writes_the_batch_to_a_folder(conn, make_invoice, rates, tmp_path):
    make_invoice(("service", "1", "10.00", rates["exempt"]), number="F-6")
    drain()
    out = io.StringIO()
    call_command("accounting_sync_export", "--connection", str(conn.pk), "--folder", str(tmp_path), stdout=out)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and "batch 1" in out.getvalue()
    call_command("accounting_sync_export", "--connection", str(conn.pk), "--folder", str(tmp_path), stdout=out)
    assert "Nothing ready" in out.getvalue()
    batch = ExportBatch.objects.get(connection=conn)
    call_command("accounting_sync_export", "--connection", str(conn.pk), "--reexport", str(batch.number),
                 "--reason", "lost", stdout=out)
    assert ExportBatch.objects.filter(connection=conn, reexport_of=batch).exists()
    assert AuditRecord.objects.filter(operation="re-export").exists()


def test_every_file_platform_is_registered_with_file_delivery():
    assert PLATFORMS and all(registry.get(p).delivery == "file" for p in PLATFORMS)


def test_reconciliation_reads_the_platform_export_file(conn, make_invoice, rates, importer):
    """The generic reconciliation engine over a file platform: books equal after the read-back; a total edited on
    the platform (its next export file) is a variance with a reason."""
    from accounting_sync.reconcile import engine
    from accounting_sync.reconcile.models import RunStatus

    make_invoice(("service", "1", "100.00", rates["gst"]), number="F-7")
    drain()
    batch = batches.export(conn, actor="tester")
    for file in batch.files.all():
        assert importer.import_file(file.name, bytes(file.content)).ok
    name, content = importer.export_file()
    batches.read_back(conn, name, content, actor="tester")

    run = engine.run(conn)
    assert run.status == RunStatus.DONE, run.error
    assert not conn.variances.filter(entity="invoice", status="open").exists()

    importer.edit_total_as_user("invoice", "F-7", Decimal("99.00"))
    name, content = importer.export_file()
    batches.read_back(conn, name, content, actor="tester")
    run = engine.run(conn)
    variance = conn.variances.get(entity="invoice", last_run=run)
    assert variance.reason and variance.field == "total"
