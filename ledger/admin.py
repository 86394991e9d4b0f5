from django.contrib import admin

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
