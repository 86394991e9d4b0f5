"""A host's own invoice model syncs through its adapter exactly like a ledger invoice (acceptance 9)."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry
from tests.conftest import drain, remote_invoices
from tests.hostapp.models import Client, Job, JobInvoice, JobPayment

pytestmark = pytest.mark.django_db


def test_job_invoice_and_payment_sync_through_adapters(connection, org, sandbox):
    with transaction.atomic():
        client = Client.objects.create(organization=org, full_name="Dana Repairs Ltd")
        job = Job.objects.create(client=client, description="Replace compressor")
        invoice = JobInvoice.objects.create(job=job, reference="JOB-77", issued_on=dt.date.today(),
                                            labour_hours=Decimal("2.5"), hourly_rate=Decimal("80.00"),
                                            parts_total=Decimal("150.00"))
    with transaction.atomic():
        JobPayment.objects.create(invoice=invoice, reference="JP-1", paid_on=dt.date.today(), amount=Decimal("350"))
    drain()
    assert set(OutboxEntry.objects.values_list("status", flat=True)) == {EntryStatus.DONE}
    [remote] = remote_invoices(sandbox)
    assert remote["DocNumber"] == "JOB-77" and Decimal(str(remote["TotalAmt"])) == Decimal("350.00")
    assert Decimal(str(remote["Balance"])) == Decimal("0")
    [customer] = sandbox.store.entities("Customer")
    assert customer["DisplayName"] == "Dana Repairs Ltd"
    assert ExternalReference.objects.filter(source_key=f"tests_hostapp.jobinvoice:{invoice.pk}").exists()

    invoice.labour_hours = Decimal("3")
    invoice.save()
    drain()
    [remote] = remote_invoices(sandbox)
    # SyncToken 2: the payment touched the invoice (1), our update re-read and re-applied (2).
    assert Decimal(str(remote["TotalAmt"])) == Decimal("390.00") and remote["SyncToken"] == "2"


def test_platform_changes_reach_the_hosts_invoice_but_never_rewrite_the_job(make_connection, org, sandbox):
    """Two-way with a host model (issue 5 acceptance 4): a line changed in QuickBooks updates the job invoice's
    amounts and balance; the job itself, the source record, stays as it was. A payment received in QuickBooks
    becomes a job payment."""
    from accounting_sync.inbound import sync as inbound

    conn = make_connection(org, direction="both")
    with transaction.atomic():
        client = Client.objects.create(organization=org, full_name="Dana Repairs Ltd")
        job = Job.objects.create(client=client, description="Replace compressor")
        invoice = JobInvoice.objects.create(job=job, reference="JOB-78", issued_on=dt.date.today(),
                                            labour_hours=Decimal("2"), hourly_rate=Decimal("80.00"))
    drain()
    ref = ExternalReference.objects.get(source_key=f"tests_hostapp.jobinvoice:{invoice.pk}")
    sandbox.store.edit_invoice_line_as_user(ref.remote_id, 0, qty=3, unit_price="85.00")
    sandbox.store.record_payment_as_user(ref.remote_id, "100.00", ref_num="CHQ-5")
    assert inbound.pull(conn).applied == 2
    invoice.refresh_from_db()
    job.refresh_from_db()
    assert (invoice.labour_hours, invoice.hourly_rate) == (Decimal("3"), Decimal("85.00"))
    assert job.description == "Replace compressor" and job.client_id == client.pk
    [payment] = invoice.payments.all()
    assert payment.amount == Decimal("100.00") and payment.reference == "CHQ-5"
    balance = Decimal("255.00") - sum(p.amount for p in invoice.payments.all())
    assert balance == Decimal(str(sandbox.store.get("Invoice", ref.remote_id)["Balance"]))
    calls = len(sandbox.requests_log)
    drain()
    assert not [r for r in sandbox.requests_log[calls:] if r[0] == "POST" and "/query" not in r[1]]
