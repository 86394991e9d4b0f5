"""Mappings from local things (line kinds, categories, items, tax rates, payment methods) to platform ids.

A mapping belongs to a connection and optionally to one organization (organizations sharing one remote company
may map differently). Resolution takes the most specific rule: organization before connection-wide, and for
income accounts item before category before line kind before the default.

A rule is **stale** (``stale_since`` set) when the platform no longer offers what it points at (an account or tax
code archived, deleted or made inactive there); ``accounting_sync.policies.drift`` marks and clears it. Documents that
need a stale rule wait; pointing the rule at something else clears the mark (``save``).
"""
from __future__ import annotations

from django.db import models

from connectors import registry
from connectors.base import RuleKind


class MappingKind(models.TextChoices):
    """The kinds of rule every platform needs. A rule's ``kind`` may also be one of the optional dimensions its
    connection's platform declares (``connectors.base.Dimension``: a class, a location, a tracking category),
    stored the same way, so a platform adds dimensions without a migration."""

    INCOME_ACCOUNT = RuleKind.INCOME_ACCOUNT, "Income account"
    DISCOUNT_ACCOUNT = RuleKind.DISCOUNT_ACCOUNT, "Discount account"
    DEPOSIT_ACCOUNT = RuleKind.DEPOSIT_ACCOUNT, "Deposit account (payments)"
    TAX_CODE = RuleKind.TAX_CODE, "Tax code"
    REFUND_ACCOUNT = RuleKind.REFUND_ACCOUNT, "Refund account (refunds)"
    EXPENSE_ACCOUNT = RuleKind.EXPENSE_ACCOUNT, "Expense account (expenses)"
    PAID_FROM_ACCOUNT = RuleKind.PAID_FROM_ACCOUNT, "Paid-from account (expenses)"
    JOURNAL_ACCOUNT = RuleKind.JOURNAL_ACCOUNT, "Journal account (journal entries)"
    PAYABLE_ACCOUNT = RuleKind.PAYABLE_ACCOUNT, "Accounts payable account (supplier bills)"


class Scope(models.TextChoices):
    DEFAULT = "default", "Default (anything not matched below)"
    LINE_KIND = "line_kind", "Line kind"
    CATEGORY = "category", "Item category"
    ITEM = "item", "Item"
    TAX_RATE = "tax_rate", "Tax rate"
    PAYMENT_METHOD = "payment_method", "Payment method"
    COST_KIND = "cost_kind", "Cost kind"
    ACCOUNT_CODE = "account_code", "Account code"


class Mapping(models.Model):
    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="mappings")
    organization = models.ForeignKey("ledger.Organization", null=True, blank=True, on_delete=models.CASCADE,
                                     help_text="Leave empty to apply to every organization of the connection")
    kind = models.CharField(max_length=30, help_text="A ``MappingKind``, or a dimension the platform declares")
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.DEFAULT)
    local_value = models.CharField(max_length=200, blank=True,
                                   help_text="Line kind, category name, item name or key, tax-rate name or key, "
                                             "payment method, cost kind, account code; empty for the default")
    remote_id = models.CharField(max_length=100,
                                 help_text="Account id or code, tax code, or the value of a platform dimension")
    remote_name = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    stale_since = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="Set when the platform stopped offering the account or tax code this rule points at")
    stale_reason = models.CharField(max_length=500, blank=True, editable=False)

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

    def save(self, *args, **kwargs) -> None:
        """Pointing a stale rule at another account or tax code clears its stale mark."""
        loaded = getattr(self, "_loaded_remote_id", None)
        if self.stale_since and loaded is not None and self.remote_id != loaded:
            self.stale_since, self.stale_reason = None, ""
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "stale_since", "stale_reason"}
        super().save(*args, **kwargs)
        self._loaded_remote_id = self.remote_id

    @property
    def kind_label(self) -> str:
        """The kind as staff read it: a required kind's label, or the platform dimension's."""
        if self.kind in MappingKind.values:
            return MappingKind(self.kind).label
        try:
            dimensions = registry.get(self.connection.platform).dimensions
        except LookupError:
            dimensions = ()
        return next((d.label for d in dimensions if d.kind == self.kind), self.kind)

    def get_kind_display(self) -> str:
        return self.kind_label

    @classmethod
    def from_db(cls, db, field_names, values):
        rule = super().from_db(db, field_names, values)
        rule._loaded_remote_id = rule.__dict__.get("remote_id")
        return rule

    @property
    def is_stale(self) -> bool:
        return self.stale_since is not None
