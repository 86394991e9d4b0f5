"""Mappings from local things (line kinds, categories, items, tax rates, payment methods) to platform ids.

A mapping belongs to a connection and optionally to one organization (organizations sharing one remote company
may map differently). Resolution takes the most specific rule: organization before connection-wide, and for
income accounts item before category before line kind before the default.
"""
from __future__ import annotations

from django.db import models


class MappingKind(models.TextChoices):
    INCOME_ACCOUNT = "income_account", "Income account"
    DISCOUNT_ACCOUNT = "discount_account", "Discount account"
    DEPOSIT_ACCOUNT = "deposit_account", "Deposit account (payments)"
    TAX_CODE = "tax_code", "Tax code"


class Scope(models.TextChoices):
    DEFAULT = "default", "Default (anything not matched below)"
    LINE_KIND = "line_kind", "Line kind"
    CATEGORY = "category", "Item category"
    ITEM = "item", "Item"
    TAX_RATE = "tax_rate", "Tax rate"
    PAYMENT_METHOD = "payment_method", "Payment method"


class Mapping(models.Model):
    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="mappings")
    organization = models.ForeignKey("ledger.Organization", null=True, blank=True, on_delete=models.CASCADE,
                                     help_text="Leave empty to apply to every organization of the connection")
    kind = models.CharField(max_length=30, choices=MappingKind.choices)
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.DEFAULT)
    local_value = models.CharField(max_length=200, blank=True,
                                   help_text="Line kind, category name, item name or key, tax-rate name or key, "
                                             "payment method; empty for the default")
    remote_id = models.CharField(max_length=100)
    remote_name = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "organization", "kind", "scope", "local_value"],
                                    name="mappings_unique_rule"),
            # NULLs are distinct in a unique index: connection-wide rules need their own.
            models.UniqueConstraint(fields=["connection", "kind", "scope", "local_value"],
                                    condition=models.Q(organization__isnull=True),
                                    name="mappings_unique_connection_wide_rule"),
        ]
        ordering = ["connection", "kind", "scope", "local_value"]

    def __str__(self) -> str:
        target = f"{self.get_scope_display()} “{self.local_value}”" if self.local_value else "default"
        return f"{self.get_kind_display()}: {target} → {self.remote_name or self.remote_id}"
