from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from . import models


class InvoiceLineInline(admin.TabularInline):
    model = models.InvoiceLine
    extra = 1
    autocomplete_fields = ["item"]


class CreditNoteLineInline(admin.TabularInline):
    model = models.CreditNoteLine
    extra = 1
    autocomplete_fields = ["item"]


class PaymentAllocationInline(admin.TabularInline):
    model = models.PaymentAllocation
    extra = 1


class CreditNoteAllocationInline(admin.TabularInline):
    model = models.CreditNoteAllocation
    extra = 0


class TotalsAdmin(admin.ModelAdmin):
    readonly_fields = ["totals_display"]

    @admin.display(description="Totals")
    def totals_display(self, obj):
        if not obj.pk:
            return "—"
        t = obj.totals()
        return f"subtotal {t.subtotal} − discount {t.discount} + tax {t.tax} = {t.total} {obj.currency}"


@admin.register(models.Invoice)
class InvoiceAdmin(TotalsAdmin):
    list_display = ["number", "customer", "organization", "issue_date", "currency", "status"]
    list_filter = ["organization", "status", "currency"]
    search_fields = ["number", "customer__name"]
    inlines = [InvoiceLineInline]
    autocomplete_fields = ["customer"]


@admin.register(models.CreditNote)
class CreditNoteAdmin(TotalsAdmin):
    list_display = ["number", "customer", "organization", "issue_date", "currency", "status"]
    list_filter = ["organization", "status"]
    search_fields = ["number", "customer__name"]
    inlines = [CreditNoteLineInline, CreditNoteAllocationInline]
    autocomplete_fields = ["customer"]


@admin.register(models.Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "organization", "date", "amount", "currency", "status"]
    list_filter = ["organization", "status", "method"]
    search_fields = ["number", "customer__name"]
    inlines = [PaymentAllocationInline]
    autocomplete_fields = ["customer"]


@admin.register(models.Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "parent", "email", "currency"]
    list_filter = ["organization"]
    search_fields = ["name", "email"]


@admin.register(models.Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "kind", "category", "unit_price", "active"]
    list_filter = ["organization", "kind", "category"]
    search_fields = ["name", "sku"]


admin.site.register(models.Organization)
admin.site.register(models.TaxRate)
admin.site.register(models.ItemCategory)


@admin.register(models.Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "organization", "date", "amount", "method", "currency", "status"]
    list_filter = ["organization", "status", "method"]
    search_fields = ["number", "customer__name"]
    autocomplete_fields = ["customer"]
    raw_id_fields = ["credit_note", "payment"]


class ExpenseLineInline(admin.TabularInline):
    model = models.ExpenseLine
    extra = 1


@admin.register(models.Expense)
class ExpenseAdmin(admin.ModelAdmin):
    list_display = ["number", "payee", "organization", "date", "currency", "paid_from", "status"]
    list_filter = ["organization", "status", "paid_from"]
    search_fields = ["number", "payee"]
    inlines = [ExpenseLineInline]


class BillLineInline(admin.TabularInline):
    model = models.BillLine
    extra = 1


@admin.register(models.Bill)
class BillAdmin(admin.ModelAdmin):
    list_display = ["number", "supplier", "supplier_reference", "organization", "date", "due_date", "currency",
                    "status"]
    list_filter = ["organization", "status"]
    search_fields = ["number", "supplier", "supplier_reference"]
    inlines = [BillLineInline]


@admin.register(models.BillPayment)
class BillPaymentAdmin(admin.ModelAdmin):
    list_display = ["number", "bill", "organization", "date", "amount", "paid_from", "status"]
    list_filter = ["organization", "status", "paid_from"]
    search_fields = ["number", "bill__number", "bill__supplier"]
    raw_id_fields = ["bill"]


class BalancedLines(BaseInlineFormSet):
    """Refuses journal lines that do not balance to the cent (the model checks saved lines; this, the form's)."""

    def clean(self) -> None:
        super().clean()
        sides = [(form.cleaned_data.get("debit"), form.cleaned_data.get("credit")) for form in self.forms
                 if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        problem = models.imbalance(sides)
        if problem and self.instance.status == models.DocumentStatus.ISSUED:
            raise ValidationError(problem[0].upper() + problem[1:] + ".")


class JournalLineInline(admin.TabularInline):
    model = models.JournalLine
    formset = BalancedLines
    extra = 2


@admin.register(models.JournalEntry)
class JournalEntryAdmin(admin.ModelAdmin):
    list_display = ["number", "organization", "date", "currency", "status"]
    list_filter = ["organization", "status"]
    search_fields = ["number", "memo"]
    inlines = [JournalLineInline]
