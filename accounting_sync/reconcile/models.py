"""What reconciliation found: runs, variances (open until a later run finds the document equal) and per-period totals.

A variance stays one row while it lasts: each run that finds it again moves ``last_seen_at``; a run that checks
the document and finds it equal resolves it. So the table answers both "what is wrong now" and "how long was it".
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class RunKind(models.TextChoices):
    FULL = "full", "Full"
    INCREMENTAL = "incremental", "Incremental (changes since the last run)"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ReconciliationRun(models.Model):
    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="reconciliations")
    organization_id = models.BigIntegerField(null=True, blank=True, help_text="Only this organization's documents")
    kind = models.CharField(max_length=20, choices=RunKind.choices, default=RunKind.FULL)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    since = models.DateTimeField(null=True, blank=True, help_text="Documents changed (or dated) from")
    until = models.DateTimeField(null=True, blank=True, help_text="Documents changed (or dated) until")
    cursor = models.DateTimeField(null=True, blank=True,
                                  help_text="Where the platform's change feed stood: the next incremental run's start")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    checked = models.PositiveIntegerField(default=0, help_text="Documents compared")
    in_flight = models.PositiveIntegerField(default=0, help_text="Documents still in the outbox: not compared")
    variances = models.PositiveIntegerField(default=0, help_text="Variances found by this run")
    alarms = models.PositiveIntegerField(default=0, help_text="Variances found by this run that need a person")
    open_alarms = models.PositiveIntegerField(default=0, help_text="The connection's open alarms after this run")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "reconciliation run"

    def __str__(self) -> str:
        kind = "Full" if self.kind == RunKind.FULL else "Incremental"
        return f"{kind} reconciliation of {self.connection} {self.started_at:%Y-%m-%d %H:%M}"


class Reason(models.TextChoices):
    NOT_SYNCED = "not_synced", "Not synced yet"
    EDITED_REMOTELY = "edited_remotely", "Edited on the platform"
    ROUNDING = "rounding", "Rounding within tolerance"
    EXCHANGE_RATE = "exchange_rate", "Exchange-rate difference"
    VOIDED_REMOTELY = "voided_remotely", "Voided on the platform"
    DELETED_REMOTELY = "deleted_remotely", "Deleted on the platform"
    MISSING_HERE = "missing_here", "Payment or credit missing here"
    MISSING_THERE = "missing_there", "Payment or credit missing on the platform"
    DUPLICATE = "duplicate", "Duplicate on the platform"
    UNKNOWN = "unknown", "Unknown"


class VarianceStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Variance(models.Model):
    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="variances")
    first_run = models.ForeignKey(ReconciliationRun, on_delete=models.SET_NULL, null=True, related_name="+")
    last_run = models.ForeignKey(ReconciliationRun, on_delete=models.SET_NULL, null=True, related_name="found")
    organization_id = models.BigIntegerField(null=True, blank=True)
    entity = models.CharField(max_length=30)
    source_key = models.CharField(max_length=200, blank=True, help_text="Local object (empty: only on the platform)")
    label = models.CharField(max_length=200, blank=True)
    remote_id = models.CharField(max_length=100, blank=True)
    number = models.CharField(max_length=100, blank=True)
    field = models.CharField(max_length=30, help_text="What differs: exists, status, currency, total, tax, ...")
    local_value = models.CharField(max_length=100, blank=True)
    remote_value = models.CharField(max_length=100, blank=True)
    difference = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True,
                                     help_text="Remote minus local, for amounts")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    alarm = models.BooleanField(default=True, help_text="False: explains itself (rounding, still on its way)")
    message = models.CharField(max_length=500)
    action = models.CharField(max_length=500, help_text="What to do about it")
    status = models.CharField(max_length=10, choices=VarianceStatus.choices, default=VarianceStatus.OPEN)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        indexes = [models.Index(fields=["connection", "status", "source_key"], name="variance_open")]

    def __str__(self) -> str:
        return f"{self.label or self.number or self.remote_id}: {self.get_reason_display()} ({self.field})"


class Period(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"


class PeriodTotal(models.Model):
    """Sum of one entity's documents in one period and currency, ours beside the platform's, for one run."""

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="totals")
    organization_id = models.BigIntegerField(null=True, blank=True)
    entity = models.CharField(max_length=30)
    period = models.CharField(max_length=5, choices=Period.choices)
    start = models.DateField()
    currency = models.CharField(max_length=3, blank=True)
    local_count = models.PositiveIntegerField(default=0)
    local_total = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    remote_count = models.PositiveIntegerField(default=0)
    remote_total = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        ordering = ["period", "start", "organization_id", "entity", "currency"]

    def __str__(self) -> str:
        return f"{self.entity} {self.period} {self.start}: {self.local_total} / {self.remote_total} {self.currency}"

    @property
    def difference(self):
        return self.remote_total - self.local_total


class DocumentCheck(models.Model):
    """Where one synced document stands: the version last compared, and when a run first found it equal.

    One row per (connection, document), rewritten by every run that compares it. A new version (the reference's
    ``synced_at`` moved) starts over, so ``equal_at - committed_at`` is the time that version took from the local
    commit to proven agreement: the metric "time to reconcile".
    """

    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="+")
    source_key = models.CharField(max_length=200)
    entity = models.CharField(max_length=30)
    organization_id = models.BigIntegerField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True, help_text="When the local version was saved")
    synced_at = models.DateTimeField(null=True, blank=True, help_text="When that version reached the platform")
    equal = models.BooleanField(default=False, help_text="The last run found both sides equal")
    equal_at = models.DateTimeField(null=True, blank=True, help_text="The first run that found this version equal")
    checked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "source_key"], name="one_check_per_document")]

    def __str__(self) -> str:
        return f"{self.source_key} ({'equal' if self.equal else 'differs'})"


class BankBucket(models.TextChoices):
    MATCHED = "matched", "Matched"
    PROBABLE = "probable", "Probable (staff confirm)"
    UNMATCHED = "unmatched", "Unmatched"


class BankDecision(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    REJECTED = "rejected", "Rejected"


class BankMatch(models.Model):
    """One bank-side record (a deposit, a bank transaction) and the payments of ours found in it, or one payment of
    ours found in none. Rewritten by every matching run, except what staff decided: a confirmed match stays as it
    is; a rejected proposal is remembered (``rejected``) and never proposed again."""

    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="bank_matches")
    ident = models.CharField(max_length=250, help_text="deposit:<platform id> or payment:<source key>")
    deposit_id = models.CharField(max_length=100, blank=True, help_text="The platform's id of the bank record")
    deposit_date = models.DateField(null=True, blank=True)
    deposit_amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    reference = models.CharField(max_length=200, blank=True)
    deposit_kind = models.CharField(max_length=20, blank=True, help_text="deposit, payment, bank_transaction")
    payment_keys = models.JSONField(default=list, blank=True, help_text="Source keys of our payments in it")
    payment_ids = models.JSONField(default=list, blank=True, help_text="The platform's ids of those payments")
    payment_labels = models.CharField(max_length=500, blank=True)
    payments_total = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    fee = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True,
                              help_text="Payments total minus the deposit: the processor's fee")
    bucket = models.CharField(max_length=10, choices=BankBucket.choices)
    reason = models.CharField(max_length=300, blank=True)
    decision = models.CharField(max_length=10, choices=BankDecision.choices, blank=True)
    rejected = models.JSONField(default=list, blank=True, help_text="Payment-key sets staff rejected for it")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-deposit_date", "-id"]
        verbose_name = "bank match"
        verbose_name_plural = "bank matches"
        constraints = [models.UniqueConstraint(fields=["connection", "ident"], name="one_bank_match_per_record")]
        indexes = [models.Index(fields=["connection", "bucket"], name="bank_match_bucket")]

    def __str__(self) -> str:
        what = f"deposit {self.deposit_id}" if self.deposit_id else self.payment_labels or self.ident
        return f"{what}: {self.get_bucket_display()}"
