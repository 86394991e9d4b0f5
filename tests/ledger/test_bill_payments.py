"""Ledger rules of bill payments (issue 23): a supplier's bill paid in full or in part, never beyond what it owes."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from ledger import models as L
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def bill():
    found = f.BillFactory(number="BILL-1001")
    f.BillLineFactory(bill=found, amount=D("200.00"))
    return found


def test_a_bill_of_200_is_paid_80_then_120(bill):
    first = f.BillPaymentFactory(bill=bill, amount=D("80.00"))
    assert first.owed() == D("200.00")  # what the bill owed before this payment
    second = f.BillPaymentFactory(bill=bill, amount=D("120.00"))
    assert second.owed() == D("120.00") and first.owed() == D("80.00")
    assert str(second) == f"bill payment {second.number} (BILL-1001)" and second.issue_date == second.date
    assert second.currency == bill.currency


def test_a_payment_may_not_be_more_than_the_bill_still_owes(bill):
    f.BillPaymentFactory(bill=bill, amount=D("80.00"))
    with pytest.raises(ValidationError) as over:
        f.BillPaymentFactory(bill=bill, amount=D("120.01"))
    assert over.value.message_dict == {"amount": [f"{bill} has 120.00 USD left to pay; 120.01 is more."]}


def test_a_voided_payment_owes_the_bill_again(bill):
    paid = f.BillPaymentFactory(bill=bill, amount=D("200.00"))
    paid.status = L.DocumentStatus.VOID
    paid.save()
    again = f.BillPaymentFactory(bill=bill, amount=D("200.00"))
    assert again.owed() == D("200.00")
    paid.status = L.DocumentStatus.ISSUED  # taken back while the bill is paid by another: refused
    with pytest.raises(ValidationError):
        paid.save()


def test_a_void_bill_takes_no_payment_and_another_organization_none_either(bill):
    bill.status = L.DocumentStatus.VOID
    bill.save()
    with pytest.raises(ValidationError) as void:
        f.BillPaymentFactory(bill=bill, amount=D("10.00"))
    assert void.value.message_dict == {"bill": [f"{bill} is void: there is nothing to pay."]}
    with pytest.raises(ValidationError) as foreign:
        f.BillPaymentFactory(bill=bill, organization=f.OrganizationFactory(), amount=D("10.00"))
    assert "belongs to another organization" in str(foreign.value)


def test_the_database_refuses_a_payment_of_nothing_and_a_repeated_number(bill):
    f.BillPaymentFactory(bill=bill, number="BP-1", amount=D("10.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        models.Model.save(f.BillPaymentFactory.build(bill=bill, organization=bill.organization, number="BP-2",
                                                     amount=D("0")))
    with pytest.raises(IntegrityError), transaction.atomic():
        models.Model.save(f.BillPaymentFactory.build(bill=bill, organization=bill.organization, number="BP-1",
                                                     amount=D("5.00")))
    with pytest.raises(IntegrityError), transaction.atomic():  # a bill with payments is kept
        bill.delete()
