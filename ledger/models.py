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

from .money import ISO_4217, MAX_INPUT_PLACES, line_tax, places, quantize
from .totals import KEPT, Totals, compute_totals


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
    #: Credit notes only: what the business keeps from a return (income to it), netted from the credit.
    RESTOCKING_FEE = "restocking_fee", "Restocking fee kept (credit notes)"
    RETURN_SHIPPING = "return_shipping", "Return shipping charged to the customer (credit notes)"


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

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not (self.name or "").strip():
            raise ValidationError({"name": "A customer needs a name."})
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": "A customer cannot be its own parent."})


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

    def clean(self) -> None:
        super().clean()
        if self.kind in KEPT:
            raise ValidationError({"kind": f"“{self.get_kind_display()}” is for credit notes: it is kept from what "
                                           "the customer is credited. On an invoice use a fee or shipping line."})


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
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="ledger_creditnote_number_unique"),
        ]


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


# -- money going the other way: refunds, expenses, journal entries ---------------------------------------------------
class RefundMethod(models.TextChoices):
    """How a refund is paid out (values shared with ``PaymentMethod``, so one mapping scope serves both)."""

    CARD = "card", "Card"
    CASH = "cash", "Cash"
    TRANSFER = "transfer", "Bank transfer"


class Refund(Document):
    """Money paid back to a customer against a credit note (its remaining credit) or an overpayment (the part of a
    payment applied to no invoice), in full or in part. Which bank or clearing account it leaves is mapped per
    ``method`` (mapping kind "refund account"). Void it to take it back."""

    date = models.DateField(default=timezone.localdate)
    amount = amount_field(validators=[MinValueValidator(Decimal("0.01"))])
    method = models.CharField(max_length=20, choices=RefundMethod.choices, default=RefundMethod.CARD)
    credit_note = models.ForeignKey(CreditNote, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="refunds")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds",
                                help_text="The overpayment refunded (when not refunding a credit note)")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="ledger_refund_number_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_refund_amount_positive"),
            models.CheckConstraint(condition=Q(credit_note__isnull=True, payment__isnull=False)
                                   | Q(credit_note__isnull=False, payment__isnull=True),
                                   name="ledger_refund_one_source"),
        ]

    @property
    def issue_date(self):
        return self.date

    @property
    def source(self):
        return self.credit_note or self.payment

    def clean(self) -> None:
        if bool(self.credit_note_id) == bool(self.payment_id):
            raise ValidationError("A refund pays back either a credit note or an overpayment: choose exactly one.")
        source = self.source
        if source.customer_id != self.customer_id:
            raise ValidationError({"customer": f"{source} belongs to another customer."})
        if source.currency != self.currency:
            raise ValidationError({"currency": f"{source} is in {source.currency}; refund it in that currency."})
        if self.status == DocumentStatus.VOID or self.amount is None:
            return
        if source.status == DocumentStatus.VOID:
            raise ValidationError(f"{source} is void: there is nothing to refund.")
        available = self.refundable()
        if self.amount > available:
            raise ValidationError({"amount": f"{source} has {available} {self.currency} left to refund; "
                                             f"{self.amount} is more."})

    def refundable(self) -> Decimal:
        """What the source still holds for this refund: its credit (a credit note's total less what it is applied
        to invoices) or its overpayment (a payment's amount less its allocations), less the other refunds."""
        if self.credit_note_id:
            held = self.credit_note.totals().total - _summed(self.credit_note.allocations)
        else:
            held = self.payment.amount - _summed(self.payment.allocations)
        others = self.source.refunds.exclude(status=DocumentStatus.VOID).exclude(pk=self.pk)
        return quantize(held - _summed(others))  # database sums carry 4 places (PostgreSQL): shown in cents


def _summed(related) -> Decimal:
    return related.aggregate(total=models.Sum("amount"))["total"] or Decimal("0")


class CostKind(models.TextChoices):
    """What an expense or a supplier bill's line was for; the mapping editor maps each to an expense account."""

    RETURN_SHIPPING = "return_shipping", "Return shipping"
    CONSUMABLES = "consumables", "Consumables and supplies"
    SUPPLIER = "supplier", "Supplier bill paid on the spot"
    FEES = "fees", "Bank and processor fees"
    OTHER = "other", "Other"


class _CostDocument:
    """What an expense and a supplier bill share: their date is their issue date, and their totals are their cost
    lines' (each line's amount net of tax, taxed at its rate)."""

    @property
    def issue_date(self):
        return self.date

    def totals(self) -> Totals:
        return compute_totals(("cost", Decimal("1"), line.amount, line.tax_rate.rate if line.tax_rate else None)
                              for line in self.lines.select_related("tax_rate"))


class _CostLine:
    """What an expense line and a bill line share: an amount net of tax, a cost kind and a tax rate."""

    def __str__(self) -> str:
        return f"{self.description or self.get_cost_kind_display()}: {self.amount}"

    def tax(self) -> Decimal:
        return line_tax(quantize(self.amount), self.tax_rate.rate if self.tax_rate else None)


class Expense(_CostDocument, ValidatedModel):
    """A cost the business paid (return shipping, consumables, a supplier bill paid on the spot). ``paid_from`` is
    how it was paid; the account it left is mapped per method (mapping kind "paid-from account")."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=21, help_text="Our reference (receipt or bill number)")
    payee = models.CharField(max_length=100, help_text="Who was paid")
    date = models.DateField(default=timezone.localdate)
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    exchange_rate = models.DecimalField(
        max_digits=18, decimal_places=8, null=True, blank=True, help_text="Home-currency units per one unit")
    paid_from = models.CharField(max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.CARD)
    attachment = models.CharField(max_length=500, blank=True,
                                  help_text="Where the receipt is kept (a URL or a document reference)")
    memo = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.ISSUED)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="ledger_expense_number_unique"),
            models.CheckConstraint(condition=~Q(payee=""), name="ledger_expense_payee_not_empty"),
            models.CheckConstraint(condition=Q(exchange_rate__isnull=True) | Q(exchange_rate__gt=0),
                                   name="ledger_expense_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"expense {self.number} ({self.payee})"

    def clean(self) -> None:
        if not (self.payee or "").strip():
            raise ValidationError({"payee": "An expense needs a payee."})



class ExpenseLine(_CostLine, ValidatedModel):
    expense = models.ForeignKey(Expense, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    cost_kind = models.CharField(max_length=20, choices=CostKind.choices, default=CostKind.OTHER)
    description = models.CharField(max_length=4000, blank=True)
    amount = amount_field(validators=[MinValueValidator(Decimal("0.01"))], help_text="Net of tax")
    tax_rate = models.ForeignKey(TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_expenseline_amount_positive")]



class Bill(_CostDocument, ValidatedModel):
    """A supplier's bill the business owes (accounts payable): lines by cost kind, paid later. ``number`` is our
    reference, ``supplier_reference`` the supplier's own bill number."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=21, help_text="Our reference for the bill")
    supplier = models.CharField(max_length=100, help_text="Who sent the bill (the vendor / supplier)")
    supplier_reference = models.CharField(max_length=50, blank=True, help_text="The supplier's own bill number")
    date = models.DateField(default=timezone.localdate)
    due_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    exchange_rate = models.DecimalField(
        max_digits=18, decimal_places=8, null=True, blank=True, help_text="Home-currency units per one unit")
    attachment = models.CharField(max_length=500, blank=True,
                                  help_text="Where the bill is kept (a URL or a document reference)")
    memo = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.ISSUED)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="ledger_bill_number_unique"),
            models.CheckConstraint(condition=~Q(supplier=""), name="ledger_bill_supplier_not_empty"),
            models.CheckConstraint(condition=Q(exchange_rate__isnull=True) | Q(exchange_rate__gt=0),
                                   name="ledger_bill_rate_positive"),
            models.CheckConstraint(condition=Q(due_date__isnull=True) | Q(due_date__gte=models.F("date")),
                                   name="ledger_bill_due_after_date"),
        ]

    def __str__(self) -> str:
        return f"bill {self.number} ({self.supplier})"

    def clean(self) -> None:
        if not (self.supplier or "").strip():
            raise ValidationError({"supplier": "A bill needs a supplier."})
        if self.due_date and self.date and self.due_date < self.date:
            raise ValidationError({"due_date": "The due date cannot be before the bill's date."})



class BillLine(_CostLine, ValidatedModel):
    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    cost_kind = models.CharField(max_length=20, choices=CostKind.choices, default=CostKind.SUPPLIER)
    description = models.CharField(max_length=4000, blank=True)
    amount = amount_field(validators=[MinValueValidator(Decimal("0.01"))], help_text="Net of tax")
    tax_rate = models.ForeignKey(TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_billline_amount_positive")]


class BillPayment(ValidatedModel):
    """Money paid to a supplier against a bill (in full or in part): it clears accounts payable. ``paid_from`` is
    how it was paid; the bank account it left is mapped per method (the expenses' "paid-from account" rule). It may
    not be more than the bill still owes (its total less the other payments). Void it to take it back."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="payments")
    number = models.CharField(max_length=21, help_text="Our reference (a check number, a transfer reference)")
    date = models.DateField(default=timezone.localdate)
    amount = amount_field(validators=[MinValueValidator(Decimal("0.01"))])
    paid_from = models.CharField(max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER)
    memo = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.ISSUED)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="ledger_billpayment_number_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_billpayment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"bill payment {self.number} ({self.bill.number if self.bill_id else '?'})"

    @property
    def issue_date(self):
        return self.date

    @property
    def currency(self) -> str:
        return self.bill.currency

    def clean(self) -> None:
        if not self.bill_id:
            return
        if self.organization_id and self.bill.organization_id != self.organization_id:
            raise ValidationError({"bill": f"{self.bill} belongs to another organization."})
        if self.status == DocumentStatus.VOID or self.amount is None:
            return
        if self.bill.status == DocumentStatus.VOID:
            raise ValidationError({"bill": f"{self.bill} is void: there is nothing to pay."})
        owed = self.owed()
        if self.amount > owed:
            raise ValidationError({"amount": f"{self.bill} has {owed} {self.bill.currency} left to pay; "
                                             f"{self.amount} is more."})

    def owed(self) -> Decimal:
        """What the bill still owes for this payment: its total less its other payments (voided ones aside)."""
        others = self.bill.payments.exclude(status=DocumentStatus.VOID).exclude(pk=self.pk)
        return quantize(self.bill.totals().total - _summed(others))



class JournalEntry(ValidatedModel):
    """A manual journal (an adjustment, a fee settlement). Its lines must balance to the cent: the admin form
    checks the lines it is given, and preflight stops an entry that does not balance before anything is sent. The
    model does not refuse to save one: lines are saved one by one, and an entry stopped by preflight must stay
    editable so that staff can correct it."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=21)
    date = models.DateField(default=timezone.localdate)
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    exchange_rate = models.DecimalField(
        max_digits=18, decimal_places=8, null=True, blank=True, help_text="Home-currency units per one unit")
    memo = models.CharField(max_length=4000, blank=True, help_text="Why the entry is made (the journal's narration)")
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.ISSUED)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "journal entries"
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="ledger_journalentry_number_unique"),
            models.CheckConstraint(condition=Q(exchange_rate__isnull=True) | Q(exchange_rate__gt=0),
                                   name="ledger_journalentry_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"journal entry {self.number}"

    @property
    def issue_date(self):
        return self.date


def imbalance(sides) -> str:
    """What is wrong with journal lines given as ``(debit, credit)`` pairs, or "" when they balance to the cent."""
    sides = list(sides)
    if not sides:
        return ""
    debits = sum((quantize(d or 0) for d, _ in sides), Decimal("0.00"))
    credits = sum((quantize(c or 0) for _, c in sides), Decimal("0.00"))
    if debits != credits:
        return (f"the journal does not balance: debits {debits} and credits {credits} differ by "
                f"{abs(debits - credits)}; make them equal to the cent")
    return ""


class JournalLine(ValidatedModel):
    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    account_code = models.CharField(max_length=50, help_text="The account's code in the business's chart; mapped to "
                                                             "the platform's account in the mapping editor")
    description = models.CharField(max_length=4000, blank=True)
    debit = amount_field(default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    credit = amount_field(default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(debit=0) & Q(credit__gt=0)),
                                   name="ledger_journalline_one_side"),
            models.CheckConstraint(condition=~Q(account_code=""), name="ledger_journalline_account_not_empty"),
        ]

    def __str__(self) -> str:
        side = f"Dr {self.debit}" if self.debit else f"Cr {self.credit}"
        return f"{self.account_code} {side}"

    def clean(self) -> None:
        if not (self.account_code or "").strip():
            raise ValidationError({"account_code": "A journal line needs an account code."})
        debit, credit = self.debit or 0, self.credit or 0
        if (debit > 0) == (credit > 0):
            raise ValidationError("A journal line is either a debit or a credit: fill in exactly one of them.")
        if places(Decimal(debit or credit)) > 2:
            raise ValidationError("Journal amounts are in cents: at most 2 decimal places.")
