"""Ledger validation and totals: bad input fails where it is entered, rounding is explicit."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from ledger import models as L
from ledger.money import MoneyError, to_decimal
from ledger.totals import compute_totals
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_totals_round_half_up_per_line_and_subtract_discounts():
    totals = compute_totals([("service", Decimal("1"), Decimal("0.125"), Decimal("10")),
                             ("product", Decimal("3"), Decimal("33.335"), Decimal("10")),
                             ("discount", Decimal("1"), Decimal("10.00"), Decimal("10"))])
    assert totals.subtotal == Decimal("100.14")  # 0.13 + 100.01
    assert totals.discount == Decimal("10.00")
    assert totals.tax == Decimal("9.01")  # 0.01 + 10.00 - 1.00
    assert totals.total == Decimal("99.15")


def test_float_is_refused_as_money():
    with pytest.raises(MoneyError):
        to_decimal(0.1)


@pytest.mark.parametrize("field,value,message", [
    ("currency", "XYZ", "ISO 4217"),
    ("unit_price", Decimal("1.23456"), "decimal places"),
])
def test_invalid_line_or_document_is_refused_on_save(field, value, message):
    invoice = f.InvoiceFactory()
    if field == "currency":
        invoice.currency = value
        with pytest.raises(ValidationError, match=message):
            invoice.save()
    else:
        with pytest.raises(ValidationError, match=message):
            f.InvoiceLineFactory(invoice=invoice, unit_price=value)


def test_customer_needs_a_name():
    with pytest.raises(ValidationError, match="needs a name"):
        f.CustomerFactory(name="   ")


def test_admin_form_shows_the_error(admin_client):
    org = f.OrganizationFactory()
    response = admin_client.post("/admin/ledger/customer/add/", {"organization": org.pk, "name": "", "currency": "usd"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required" in html and "ISO 4217" in html


@pytest.mark.django_db
def test_staff_read_rates_lines_and_allocations_as_words(org):
    rate = f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10"))
    assert str(rate) == "GST 10% (10%)" and str(f.TaxRateFactory(organization=org, name="Half",
                                                                  rate=Decimal("2.50"))) == "Half (2.5%)"
    invoice = f.InvoiceFactory(organization=org, number="S-1")
    line = L.InvoiceLine.objects.create(invoice=invoice, description="Rabies vaccine", quantity=Decimal("2"),
                                        unit_price=Decimal("32.50"), tax_rate=rate)
    assert str(line) == "Rabies vaccine: 2 × 32.50"
    payment = L.Payment.objects.create(organization=org, customer=invoice.customer, number="P-1",
                                       amount=Decimal("10.00"))
    allocation = L.PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=Decimal("10.00"))
    assert "10.00" in str(allocation) and "P-1" in str(allocation) and "S-1" in str(allocation)
