"""Ledger rules of refunds, expenses, journal entries and the credit-note lines a business keeps (issue 23)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.forms.models import inlineformset_factory

from ledger import models as L
from ledger.admin import BalancedLines
from ledger.totals import compute_totals
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


def test_kept_lines_net_the_credit_note_and_its_tax():
    totals = compute_totals([("product", D("1"), D("120.00"), D("10")),
                             ("restocking_fee", D("1"), D("12.00"), D("10"))])
    assert (totals.subtotal, totals.kept, totals.tax, totals.total) == (D("120.00"), D("12.00"), D("10.80"),
                                                                        D("118.80"))


def note_of(amount: str, **kwargs) -> L.CreditNote:
    with transaction.atomic():
        note = f.CreditNoteFactory(**kwargs)
        f.CreditNoteLineFactory(credit_note=note, unit_price=D(amount))
    return note


def test_a_refund_takes_no_more_than_the_credit_left():
    note = note_of("100.00")
    f.RefundFactory(credit_note=note, amount=D("70.00"))
    with pytest.raises(ValidationError, match="has 30.00 USD left to refund; 30.01 is more"):
        f.RefundFactory(credit_note=note, amount=D("30.01"))
    voided = L.Refund.objects.get()
    voided.status = L.DocumentStatus.VOID
    voided.save()  # a void refund gives its amount back
    whole = f.RefundFactory(credit_note=note, amount=D("100.00"))
    assert whole.refundable() == D("100.00")  # what the note holds for this refund (itself left out)


def test_a_refund_pays_back_one_thing_of_its_own_customer_in_its_currency():
    note = note_of("50.00")
    with pytest.raises(ValidationError, match="either a credit note or an overpayment"):
        f.RefundFactory(credit_note=None, customer=note.customer, currency="USD", organization=note.organization)
    other = f.CustomerFactory(organization=note.organization)
    with pytest.raises(ValidationError, match="belongs to another customer"):
        f.RefundFactory(credit_note=note, customer=other)
    with pytest.raises(ValidationError, match="refund it in that currency"):
        f.RefundFactory(credit_note=note, currency="EUR")


def test_an_overpayment_is_refundable_up_to_what_no_invoice_took():
    payment = f.PaymentFactory(amount=D("80.00"))
    refund = f.RefundFactory(credit_note=None, payment=payment, amount=D("80.00"))
    assert refund.source == payment and refund.refundable() == D("80.00")


def test_a_journal_line_is_a_debit_or_a_credit_in_cents():
    entry = f.JournalEntryFactory()
    for debit, credit, message in ((D("1"), D("1"), "exactly one"), (D("0"), D("0"), "exactly one"),
                                   (D("1.005"), D("0"), "at most 2 decimal places")):
        with pytest.raises(ValidationError, match=message):
            f.JournalLineFactory(entry=entry, debit=debit, credit=credit)
    with pytest.raises(IntegrityError), transaction.atomic():  # the database refuses it too
        L.JournalLine.objects.bulk_create([L.JournalLine(entry=entry, account_code="1", debit=D("1"),
                                                         credit=D("1"))])


def test_imbalance_says_by_how_much():
    assert L.imbalance([(D("10.00"), D("0")), (D("0"), D("10.00"))]) == ""
    assert L.imbalance([(D("10.00"), D("0")), (D("0"), D("9.99"))]) == (
        "the journal does not balance: debits 10.00 and credits 9.99 differ by 0.01; make them equal to the cent")


def test_the_admin_refuses_journal_lines_that_do_not_balance():
    entry = f.JournalEntryFactory()

    def formset(first: str, second: str) -> BalancedLines:
        prefix = "lines"
        data = {f"{prefix}-TOTAL_FORMS": "2", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
                f"{prefix}-0-account_code": "6100", f"{prefix}-0-debit": first, f"{prefix}-0-credit": "0",
                f"{prefix}-0-position": "0",
                f"{prefix}-1-account_code": "1010", f"{prefix}-1-debit": "0", f"{prefix}-1-credit": second,
                f"{prefix}-1-position": "1"}
        kind = inlineformset_factory(L.JournalEntry, L.JournalLine, formset=BalancedLines,
                                     fields=["position", "account_code", "debit", "credit"])
        return kind(data, instance=entry, prefix=prefix)

    refused = formset("100.00", "90.00")
    assert not refused.is_valid()
    assert refused.non_form_errors() == ["The journal does not balance: debits 100.00 and credits 90.00 differ by "
                                         "10.00; make them equal to the cent."]
    assert formset("100.00", "100.00").is_valid()


def test_kept_lines_belong_on_credit_notes():
    invoice = f.InvoiceFactory()
    with pytest.raises(ValidationError, match="is for credit notes"):
        f.InvoiceLineFactory(invoice=invoice, kind="restocking_fee")


def test_an_expense_totals_its_lines_and_their_tax():
    expense = f.ExpenseFactory()
    gst = f.TaxRateFactory(organization=expense.organization)
    f.ExpenseLineFactory(expense=expense, amount=D("50.00"), tax_rate=gst)
    f.ExpenseLineFactory(expense=expense, amount=D("9.99"))
    assert (expense.totals().subtotal, expense.totals().tax, expense.totals().total) == \
        (D("59.99"), D("5.00"), D("64.99"))
    with pytest.raises(ValidationError, match="needs a payee"):
        f.ExpenseFactory(payee="  ")
