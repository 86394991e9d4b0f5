"""Billing entities a host can use directly: organizations, customers, items, tax rates and documents.

Amounts are ``DecimalField`` (never float) with at most 4 decimal places on input; totals come from
``ledger.totals.compute_totals``. Every model validates its fields on save so bad input fails where it is
entered (admin form, API, host code) instead of half-way through a sync.
"""
from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .money import ISO_4217, MAX_INPUT_PLACES, places
from .totals import Totals, compute_totals


def validate_currency(value: str) -> None:
    if value not in ISO_4217:
        raise ValidationError(f"“{value}” is not an ISO 4217 currency code (for example USD, EUR, GBP).")


def validate_input_places(value: Decimal) -> None:
    if value is not None and places(value) > MAX_INPUT_PLACES:
        raise ValidationError(f"{value} has more than {MAX_INPUT_PLACES} decimal places.")


def amount_field(**kwargs) -> models.DecimalField:
    """Money or quantity column: 18 digits, 4 places, validated for places before the database rounds."""
    kwargs.setdefault("validators", [])
    kwargs["validators"] = [validate_input_places, *kwargs["validators"]]
    return models.DecimalField(max_digits=18, decimal_places=4, **kwargs)


class ValidatedModel(models.Model):
    """Runs field validation and ``clean()`` on every save, so code paths that skip forms are checked too."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.clean_fields()
        self.clean()
        super().save(*args, **kwargs)


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    VOID = "void", "Void"


class LineKind(models.TextChoices):
    PRODUCT = "product", "Product"
    SERVICE = "service", "Service"
    SHIPPING = "shipping", "Shipping"
    DISCOUNT = "discount", "Discount"
    FEE = "fee", "Fee (e.g. restocking)"


class Organization(ValidatedModel):
    """A tenant of the host system: a clinic, a repair shop, a lab."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    home_currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])

    def __str__(self) -> str:
        return self.name


class Customer(ValidatedModel):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="customers")
    name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    tax_number = models.CharField(max_length=50, blank=True, help_text="Tax, VAT or company registration number")
    active = models.BooleanField(default=True, help_text="Inactive customers are made inactive on the platforms too")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="ledger_customer_name_not_empty")]

    def clean(self) -> None:
        if not (self.name or "").strip():
            raise ValidationError({"name": "A customer needs a name."})
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": "A customer cannot be its own parent."})

    def __str__(self) -> str:
        return self.name


class TaxRate(ValidatedModel):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="tax_rates")
    name = models.CharField(max_length=100)
    rate = models.DecimalField(max_digits=7, decimal_places=4, validators=[MinValueValidator(0)], help_text="Percent")
    jurisdiction = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(rate__gte=0), name="ledger_taxrate_rate_non_negative")]

    def __str__(self) -> str:
        return f"{self.name} ({self.rate.normalize():f}%)"  # 10%, not 1E+1%


class ItemCategory(ValidatedModel):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="categories")
    name = models.CharField(max_length=100)

    class Meta:
        verbose_name_plural = "item categories"

    def __str__(self) -> str:
        return self.name


class Item(ValidatedModel):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="items")
    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=20, choices=LineKind.choices, default=LineKind.SERVICE)
    category = models.ForeignKey(ItemCategory, null=True, blank=True, on_delete=models.PROTECT)
    unit_price = amount_field(default=Decimal("0"))
    tax_rate = models.ForeignKey(TaxRate, null=True, blank=True, on_delete=models.PROTECT)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Document(ValidatedModel):
    """Fields shared by invoices, payments and credit notes."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=21)
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    exchange_rate = models.DecimalField(
        max_digits=18, decimal_places=8, null=True, blank=True, help_text="Home-currency units per one unit"
    )
    memo = models.TextField(blank=True, help_text="Printed on the document")
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.ISSUED)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.number}"


class LineBase(ValidatedModel):
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=LineKind.choices, default=LineKind.SERVICE)
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=4000, blank=True)
    quantity = amount_field(default=Decimal("1"))
    unit_price = amount_field()
    tax_rate = models.ForeignKey(TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True, help_text="Line note, sent as the line description")

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        what = self.description or (self.item.name if self.item_id else "") or self.get_kind_display()
        return f"{what}: {self.quantity.normalize():f} × {self.unit_price}"

    def clean(self) -> None:
        if self.unit_price is not None and self.unit_price < 0:
            raise ValidationError({"unit_price": "Enter a positive price; use a discount line to reduce a total."})


class TotalsMixin:
    def totals(self) -> Totals:
        return compute_totals(
            (line.kind, line.quantity, line.unit_price, line.tax_rate.rate if line.tax_rate else None)
            for line in self.lines.select_related("tax_rate")
        )


class Invoice(TotalsMixin, Document):
    issue_date = models.DateField(default=timezone.localdate)
    due_date = models.DateField(null=True, blank=True)
    private_note = models.TextField(blank=True, help_text="Internal note, not printed")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="ledger_invoice_number_unique"),
            models.CheckConstraint(condition=Q(exchange_rate__isnull=True) | Q(exchange_rate__gt=0),
                                   name="ledger_invoice_rate_positive"),
        ]


class InvoiceLine(LineBase):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineBase.Meta):
        constraints = [models.CheckConstraint(condition=Q(unit_price__gte=0), name="ledger_invoiceline_price_gte_0")]


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CARD = "card", "Card"
    CHECK = "check", "Check"
    TRANSFER = "transfer", "Bank transfer"


class Payment(Document):
    date = models.DateField(default=timezone.localdate)
    amount = amount_field(validators=[MinValueValidator(Decimal("0.01"))])
    method = models.CharField(max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.CARD)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="ledger_payment_number_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_payment_amount_positive"),
        ]

    @property
    def issue_date(self):
        return self.date


class PaymentAllocation(ValidatedModel):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payment_allocations")
    amount = amount_field(validators=[MinValueValidator(Decimal("0.01"))])

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_paymentalloc_positive")]

    def __str__(self) -> str:
        return f"{self.amount} of {self.payment} to {self.invoice}"


class CreditNote(TotalsMixin, Document):
    issue_date = models.DateField(default=timezone.localdate)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "number"], name="ledger_creditnote_number_unique")]


class CreditNoteLine(LineBase):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineBase.Meta):
        constraints = [models.CheckConstraint(condition=Q(unit_price__gte=0), name="ledger_creditline_price_gte_0")]


class CreditNoteAllocation(ValidatedModel):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_allocations")
    amount = amount_field(validators=[MinValueValidator(Decimal("0.01"))])

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_creditalloc_positive")]

    def __str__(self) -> str:
        return f"{self.amount} of {self.credit_note} to {self.invoice}"
