"""The durable state of the pipeline: outbox entries, external references and the sync log.

The outbox table is the source of truth for what still has to reach a platform; the task queue only
triggers work. There is one entry per (connection, local object): repeated saves coalesce into it, and the
worker always sends the object's current state. Nothing here is ever deleted by the pipeline.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from .permissions import CUSTOM as STAFF_PERMISSIONS


class EntryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Synced"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    FAILED = "failed", "Failed (retries exhausted)"
    WAITING = "waiting", "Waiting for its trigger"  # a status, a payment, staff: see TriggerRule
    READY = "ready_to_export", "Ready for the next export file"  # file delivery: see accounting_sync/files
    EXPORTED = "exported", "Exported, awaiting import"
    MANUAL = "manual", "Entered by hand, to be adopted"  # the manual fallback: see accounting_sync/files/manual.py


class OutboxEntry(models.Model):
    # Every index below is written on each host save that queues a document: only those the pipeline's own
    # queries need. The unique constraint (connection, source_key) also serves lookups by connection.
    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="outbox",
                                   db_index=False)
    source_key = models.CharField(max_length=200, help_text="Local object, as app_label.model:pk")
    entity = models.CharField(max_length=30)
    organization_id = models.BigIntegerField(null=True, blank=True)
    label = models.CharField(max_length=200, blank=True, help_text="How staff recognise the document")
    status = models.CharField(max_length=20, choices=EntryStatus.choices, default=EntryStatus.PENDING)
    generation = models.PositiveIntegerField(default=1, help_text="Bumped on every local change")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=36, blank=True)
    last_error = models.TextField(blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    platform_code = models.CharField(max_length=50, blank=True)
    hint = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    write_started = models.BooleanField(
        default=False, help_text="A create was sent and its outcome may be unknown: search the platform first")
    overwrite_remote = models.BooleanField(
        default=False, help_text="Staff chose to send ours over a conflicting edit made on the platform")
    refusals = models.PositiveIntegerField(
        default=0, help_text="Definitive refusals so far: part of the idempotency key, so a retry after the cause "
                             "is fixed is a new request rather than a replay of the refused one")
    hold_until = models.DateTimeField(
        null=True, blank=True, help_text="Held for a batch window that opens at this time (see TriggerRule)")
    send_now = models.BooleanField(default=False, help_text="Staff pushed it: send it whatever its trigger rule")

    class Meta:
        verbose_name_plural = "outbox entries"
        constraints = [models.UniqueConstraint(fields=["connection", "source_key"], name="outbox_one_per_object")]
        indexes = [
            # What is due, per connection: the dispatcher's and the sweeper's query.
            models.Index(fields=["connection", "status", "next_attempt_at"], name="outbox_due"),
            # The attention list; partial, so a pending entry (every save) adds nothing to it.
            models.Index(fields=["status", "updated_at"], name="outbox_attention",
                         condition=models.Q(status__in=["needs_attention", "failed"])),
        ]
        ordering = ["-updated_at"]
        # The staff actions' permissions (accounting_sync.permissions): declared here, the app's central model.
        permissions = STAFF_PERMISSIONS

    def __str__(self) -> str:
        return f"{self.label or self.source_key} → {self.connection}"


class OutboxChange(models.Model):
    """A local change not yet taken into the outbox: the only row a host save writes.

    Saves append here, inside the host's transaction (no unique key, no foreign key, no secondary index: one
    page written per commit). The dispatcher (``outbox.absorb``) folds committed changes into their
    ``OutboxEntry`` and deletes them in one transaction, so a change is never lost and never applied twice.
    """

    connection_id = models.BigIntegerField()
    source_key = models.CharField(max_length=200)
    entity = models.CharField(max_length=30)
    organization_id = models.BigIntegerField(null=True, blank=True)
    label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "change waiting for the dispatcher"

    def __str__(self) -> str:
        return f"{self.label or self.source_key} (connection {self.connection_id})"


class AttentionEntry(OutboxEntry):
    """Entries a human must look at (needs attention or failed), as their own admin list."""

    class Meta:
        proxy = True
        verbose_name = "attention needed"
        verbose_name_plural = "attention needed"


class RemoteStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    VOIDED = "voided", "Voided"
    DELETED = "deleted", "Deleted"


class ExternalReference(models.Model):
    """Local object <-> remote id, with the remote version and the hash of what we last sent."""

    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="references")
    source_key = models.CharField(max_length=200)
    entity = models.CharField(max_length=30)
    remote_id = models.CharField(max_length=100)
    remote_version = models.CharField(max_length=50, blank=True,
                                      help_text="The platform's optimistic-concurrency version of the object")
    remote_number = models.CharField(max_length=100, blank=True)
    remote_status = models.CharField(max_length=10, choices=RemoteStatus.choices, default=RemoteStatus.ACTIVE)
    content_hash = models.CharField(max_length=64, blank=True)
    remote_fingerprint = models.CharField(max_length=64, blank=True,
                                          help_text="Hash of the remote content as we last wrote or read it")
    home_total = models.DecimalField(
        max_digits=18, decimal_places=2, null=True, blank=True,
        help_text="The document's total in the platform company's home currency, as the platform booked it")
    synced_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "source_key"], name="extref_one_per_object"),
            models.UniqueConstraint(fields=["connection", "entity", "remote_id"], name="extref_one_per_remote"),
        ]

    def __str__(self) -> str:
        return f"{self.source_key} ↔ {self.connection} #{self.remote_id}"


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    SKIPPED = "skipped", "Skipped (no change)"
    RETRY = "retry", "Will retry"
    AUTH = "auth", "Needs reconnect"
    ATTENTION = "attention", "Needs attention"
    FAILED = "failed", "Failed"
    CONFLICT = "conflict", "Changed on both sides"
    HELD = "held", "Held by its trigger rule"
    STAGED = "staged", "Ready for the next export file"
    EXPORTED = "exported", "Exported to a file"
    MANUAL = "manual", "Entered by hand on the platform"


class SyncLog(models.Model):
    """One row per attempt, success or failure. Append-only; secrets are redacted before they get here."""

    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="logs")
    entry = models.ForeignKey(OutboxEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="logs")
    source_key = models.CharField(max_length=200)
    entity = models.CharField(max_length=30)
    label = models.CharField(max_length=200, blank=True)
    operation = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    remote_id = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    hint = models.CharField(max_length=500, blank=True)
    error_code = models.CharField(max_length=50, blank=True, help_text="Our error code")
    platform_code = models.CharField(max_length=50, blank=True, help_text="The platform's error code")
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    exchanges = models.JSONField(default=list, blank=True, help_text="HTTP exchanges of this attempt (redacted)")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.label or self.source_key}: {self.outcome}"


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored (no matching connection)"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One verified webhook delivery, stored before it is processed (deduplicated by its body's hash)."""

    platform = models.CharField(max_length=30)
    connection = models.ForeignKey("connectors.Connection", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="webhook_deliveries")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the raw body")
    body = models.TextField()
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED)
    times_received = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.platform} webhook {self.received_at:%Y-%m-%d %H:%M:%S}"


class PullCursor(models.Model):
    """Where polling a connection's platform left off, per entity (changes are asked for since ``changed_since``)."""

    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="pull_cursors")
    entity = models.CharField(max_length=30)
    changed_since = models.DateTimeField()
    last_pull_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "entity"], name="one_cursor_per_entity")]

    def __str__(self) -> str:
        return f"{self.connection} {self.entity}: changes since {self.changed_since:%Y-%m-%d %H:%M:%S}"


# Models of the sub-packages, imported here so Django finds them with the app's models.
from .audit.models import AuditHead, AuditRecord  # noqa: E402,F401
from .reconcile.models import DocumentCheck, PeriodTotal, ReconciliationRun, Variance  # noqa: E402,F401
from .files.models import ExportBatch, ExportFile, ExportItem  # noqa: E402,F401
from .alerts.models import AlertRecipient, Incident  # noqa: E402,F401


class TriggerKind(models.TextChoices):
    ON_SAVE = "on_save", "On every save"
    ON_STATUS = "on_status", "When it reaches a status"
    AFTER_PAYMENT = "after_payment", "After it is paid"
    BATCH = "batch", "In batch windows"
    MANUAL = "manual", "Only when staff send it"


class TriggerRule(models.Model):
    """When a connection sends one kind of document. Without a rule a document goes out on every save, drafts
    excepted. Customers and items follow the documents that need them. See ``accounting_sync/triggers.py``."""

    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="trigger_rules")
    entity = models.CharField(max_length=30, choices=[("invoice", "Invoices"), ("credit_note", "Credit notes"),
                                                      ("payment", "Payments")])
    kind = models.CharField(max_length=20, choices=TriggerKind.choices, default=TriggerKind.ON_SAVE)
    status = models.CharField(
        max_length=50, blank=True,
        help_text="On a status: the status that sends it (the source model's own statuses; blank: its final one)")
    partly_paid = models.BooleanField(default=False, help_text="After payment: a part payment is enough")
    every_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Batch windows: one every N minutes (60: hourly)")
    daily_at = models.TimeField(null=True, blank=True, help_text="Batch windows: once a day at this time")
    time_zone = models.CharField(max_length=60, default="UTC", help_text="Of the daily window, e.g. Europe/London")
    send_drafts = models.BooleanField(
        default=False, help_text="Send drafts as drafts where the platform keeps drafts (finalised there when they "
                                 "become final here); elsewhere drafts wait")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "entity"], name="one_trigger_rule_per_entity")]

    def __str__(self) -> str:
        return f"{self.get_entity_display()}: {self.get_kind_display().lower()}"

    def clean(self) -> None:
        if self.kind == TriggerKind.BATCH and not (self.every_minutes or self.daily_at):
            raise ValidationError("A batch window needs either every N minutes or a daily time.")
        if self.kind == TriggerKind.BATCH and self.every_minutes and self.daily_at:
            raise ValidationError("Choose every N minutes or a daily time, not both.")
        if self.kind == TriggerKind.AFTER_PAYMENT and self.entity != "invoice":
            raise ValidationError("Only invoices are paid: choose another trigger for this kind of document.")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"time_zone": f"Unknown time zone {self.time_zone!r}"}) from None
