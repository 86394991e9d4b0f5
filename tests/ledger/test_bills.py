"""Ledger rules of supplier bills (issue 23): what the business owes a supplier, by cost kind, with its due date."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ledger import models as L
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


def test_a_bill_totals_its_lines_and_the_tax_it_reclaims():
    bill = f.BillFactory()
    f.BillLineFactory(bill=bill, amount=D("200.00"), tax_rate=f.TaxRateFactory(organization=bill.organization))
    f.BillLineFactory(bill=bill, position=1, cost_kind="consumables", amount=D("15.005"))
    totals = bill.totals()
    assert (totals.subtotal, totals.tax, totals.total) == (D("215.01"), D("20.00"), D("235.01"))
    assert str(bill) == f"bill {bill.number} (Acme Supplies)" and bill.issue_date == bill.date


def test_a_bill_needs_a_supplier_and_is_not_due_before_its_date():
    with pytest.raises(ValidationError) as nobody:
        f.BillFactory(supplier="  ")
    assert nobody.value.message_dict == {"supplier": ["A bill needs a supplier."]}
    with pytest.raises(ValidationError) as early:
        f.BillFactory(date=dt.date(2026, 11, 2), due_date=dt.date(2026, 11, 1))
    assert early.value.message_dict == {"due_date": ["The due date cannot be before the bill's date."]}
    assert f.BillFactory(due_date=None).due_date is None  # a bill without terms


def test_the_database_refuses_what_the_model_refuses():
    bill = f.BillFactory(date=dt.date(2026, 11, 2), due_date=dt.date(2026, 12, 2))
    for change in ({"supplier": ""}, {"due_date": dt.date(2026, 11, 1)}, {"exchange_rate": D("0")},
                   {"number": f.BillFactory(organization=bill.organization).number}):
        with pytest.raises(IntegrityError), transaction.atomic():
            L.Bill.objects.filter(pk=bill.pk).update(**change)
    line = f.BillLineFactory(bill=bill)
    with pytest.raises(IntegrityError), transaction.atomic():
        L.BillLine.objects.filter(pk=line.pk).update(amount=D("0"))


def test_bill_lines_are_checked_where_they_are_entered():
    with pytest.raises(ValidationError, match="amount"):
        f.BillLineFactory(amount=D("0"))
    with pytest.raises(ValidationError, match="decimal places"):
        f.BillLineFactory(amount=D("1.00001"))
