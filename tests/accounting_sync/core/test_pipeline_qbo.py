"""What only QuickBooks Online does in the outbound pipeline (the rest runs on every platform in
test_platform_pipeline.py)."""
from decimal import Decimal

import pytest
from django.db import transaction

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry
from tests.conftest import drain

pytestmark = pytest.mark.django_db


def test_credit_note_applied_to_an_invoice_in_quickbooks_and_kept_equal(connection, org, make_invoice, sandbox):
    """QBO applies a credit memo with a zero-total payment linking the invoice and the memo."""
    from ledger.models import CreditNote, CreditNoteAllocation, CreditNoteLine

    invoice = make_invoice(("service", "1", "200.00"))
    with transaction.atomic():
        credit = CreditNote.objects.create(organization=org, customer=invoice.customer, number="CN-9",
                                           issue_date=invoice.issue_date)
        CreditNoteLine.objects.create(credit_note=credit, kind="service", quantity=Decimal("1"),
                                      unit_price=Decimal("80.00"))
        allocation = CreditNoteAllocation.objects.create(credit_note=credit, invoice=invoice, amount=Decimal("50.00"))
    drain()
    inv_ref = ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    memo_ref = ExternalReference.objects.get(source_key=f"ledger.creditnote:{credit.pk}")

    def remote_state():
        memo = sandbox.store.get("CreditMemo", memo_ref.remote_id)
        return (Decimal(str(sandbox.store.get("Invoice", inv_ref.remote_id)["Balance"])),
                Decimal(str(memo["RemainingCredit"])))

    assert remote_state() == (Decimal("150.00"), Decimal("30.00"))
    [application] = sandbox.store.entities("Payment")
    assert Decimal(str(application["TotalAmt"])) == 0 and application["PaymentRefNum"] == "CM CN-9"

    allocation.amount = Decimal("80.00")
    allocation.save()
    drain()
    assert remote_state() == (Decimal("120.00"), Decimal("0.00"))

    allocation.delete()
    drain()
    assert remote_state() == (Decimal("200.00"), Decimal("80.00")) and sandbox.store.entities("Payment") == []

    CreditNoteAllocation.objects.create(credit_note=credit, invoice=invoice, amount=Decimal("10.00"))
    drain()
    credit.delete()  # deleted here: its application goes first, then the memo
    drain()
    assert sandbox.store.get("CreditMemo", memo_ref.remote_id) is None
    assert Decimal(str(sandbox.store.get("Invoice", inv_ref.remote_id)["Balance"])) == Decimal("200.00")
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()


def test_a_retry_after_the_books_are_reopened_is_a_new_request(connection, make_invoice, sandbox):
    """QBO answers a repeated requestid with the original response, refusals included. A definitive refusal
    wrote nothing, so once staff fixed the cause the retry carries a new requestid (and reaches the books)."""
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from ledger.models import InvoiceLine

    invoice = make_invoice(("service", "1", "100.00"))
    drain()
    ref = ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    sandbox.store.closing_date = "2099-12-31"
    InvoiceLine.objects.filter(invoice=invoice).update(unit_price=Decimal("120.00"))
    invoice.save()
    drain()
    entry = OutboxEntry.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    assert (entry.status, entry.platform_code) == (EntryStatus.NEEDS_ATTENTION, "6210") and entry.refusals == 1

    with pytest.raises(CommandError, match="1 of 1 retried entries did not sync"):  # still closed: exits non-zero
        call_command("accounting_sync_retry", "--entry", str(entry.pk), "--now", stdout=io.StringIO())
    assert OutboxEntry.objects.get(pk=entry.pk).refusals == 2

    sandbox.store.closing_date = None  # staff reopened the period
    out = io.StringIO()
    call_command("accounting_sync_retry", "--entry", str(entry.pk), "--now", stdout=out)
    assert OutboxEntry.objects.get(pk=entry.pk).status == EntryStatus.DONE, out.getvalue()
    assert Decimal(str(sandbox.store.get("Invoice", ref.remote_id)["TotalAmt"])) == Decimal("120.00")
    request_ids = [params.get("requestid") for method, path, params in sandbox.requests_log
                   if method == "POST" and path.endswith(("/invoice", "/batch"))]
    assert len(request_ids) == len(set(request_ids)) >= 4  # the create, two refusals, the update that landed
