"""Migration 0024: the manual fallback's files of 0023 (``ManualExport``) become manual-entry export batches, and
going back turns them into ``ManualExport`` rows again. Run for real (migrate back, write 0023's rows, migrate
forward) on the test database, so on SQLite and PostgreSQL alike."""
import hashlib

import pytest
from django.db import connection as db
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounting_sync.files.models import BatchPurpose, ExportBatch
from accounting_sync.models import EntryStatus, OutboxEntry
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounting_sync", "0023_manual_fallback")]
AFTER = [("accounting_sync", "0024_manual_entry_batches")]


def migrate(targets):
    executor = MigrationExecutor(db)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_0023():
    """The database as 0023 left it; afterwards at the newest migrations again, whatever the test did."""
    latest = MigrationExecutor(db).loader.graph.leaf_nodes()
    apps = migrate(BEFORE)
    yield apps
    migrate(latest)


def test_a_manual_export_of_0023_becomes_a_manual_entry_batch_and_comes_back(at_0023):
    conn = f.ConnectionFactory()
    entries = at_0023.get_model("accounting_sync", "OutboxEntry").objects
    marked = entries.create(connection_id=conn.pk, source_key="ledger.invoice:1", entity="invoice",
                            label="invoice MAN-1", status=EntryStatus.MANUAL, write_started=True)
    gone = entries.create(connection_id=conn.pk, source_key="ledger.invoice:2", entity="invoice")
    gone_pk = gone.pk
    gone.delete()  # an entry deleted since (its document was deleted here): no item for it
    at_0023.get_model("accounting_sync", "ExportBatch").objects.create(  # a batch numbered 1 already (made up)
        connection_id=conn.pk, number=1, sha256="0" * 64)
    content = "\ufeffInvoiceNo,Customer\r\nMAN-1,Harbour Dental\r\n".encode()
    when = timezone.now()
    at_0023.get_model("accounting_sync", "ManualExport").objects.create(
        connection_id=conn.pk, created_by="ops", format="qbo-invoices", filename="qbo-quickbooks-invoices.csv",
        content=content, sha256=hashlib.sha256(content).hexdigest(), documents=2, rows=1,
        entries=[marked.pk, gone_pk], marked_at=when, marked_by="alice")

    migrate(AFTER)
    batch = ExportBatch.objects.get(connection=conn, purpose=BatchPurpose.MANUAL)
    assert batch.number == 2 and batch.created_by == "ops" and batch.documents == 2
    [file] = batch.files.all()
    assert (file.name, file.kind, bytes(file.content), file.rows) == ("qbo-quickbooks-invoices.csv", "qbo", content, 1)
    assert file.intact and batch.sha256 == hashlib.sha256(
        f"{file.name}\0{file.sha256}\n".encode()).hexdigest()  # as batches.store hashes a batch
    [item] = batch.items.all()
    assert (item.entry_id, item.label, item.confirmed_at, item.confirmed_by) == (marked.pk, "invoice MAN-1", when,
                                                                                  "alice")
    assert OutboxEntry.objects.get(pk=marked.pk).status == EntryStatus.MANUAL  # the mark itself is unchanged

    apps = migrate(BEFORE)
    [back] = apps.get_model("accounting_sync", "ManualExport").objects.all()
    assert (back.format, back.filename, bytes(back.content), back.entries, back.marked_at, back.marked_by) == (
        "qbo-invoices", "qbo-quickbooks-invoices.csv", content, [marked.pk], when, "alice")
    assert list(apps.get_model("accounting_sync", "ExportBatch").objects.values_list("number", flat=True)) == [1]
