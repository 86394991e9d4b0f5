"""Export batches: what went to a file platform, file by file, immutable once written."""
from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone


class BatchPurpose(models.TextChoices):
    FILE_DELIVERY = "file_delivery", "Import files (file delivery)"
    MANUAL = "manual", "For entering by hand (the platform is down)"


class ExportBatch(models.Model):
    """The files one export produced for one connection. Its files never change once written; a batch cannot be
    deleted on its own (its items and re-exports restrict it), only with its connection.

    Two purposes share it. File delivery: a platform without an API gets its documents only this way. The manual
    fallback (``manual.py``): a platform with an API is down, and its unsynced documents go in files for a person
    to key in; an item's ``confirmed_at`` then says when staff marked it entered by hand."""

    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="export_batches")
    number = models.PositiveIntegerField(help_text="1, 2, 3... per connection")
    purpose = models.CharField(max_length=20, choices=BatchPurpose.choices, default=BatchPurpose.FILE_DELIVERY)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150, blank=True, help_text="The staff user or command that exported it")
    reexport_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.RESTRICT, related_name="reexports",
                                    help_text="Set when staff exported an earlier batch's documents again")
    reason = models.CharField(max_length=500, blank=True, help_text="Why staff exported it again")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 over the files' names and SHA-256s, in order")
    documents = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "export batches"
        constraints = [models.UniqueConstraint(fields=["connection", "number"], name="one_batch_number")]

    def __str__(self) -> str:
        if self.purpose == BatchPurpose.MANUAL:
            return f"{self.connection} manual-entry batch {self.number}"
        return f"{self.connection} batch {self.number}"


class ImmutableError(Exception):
    """Raised when someone tries to change a written export file."""


class ExportFile(models.Model):
    """One file of a batch, exactly as staff download it."""

    batch = models.ForeignKey(ExportBatch, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40, help_text="The platform's import file: invoices, payments, sales...")
    position = models.PositiveSmallIntegerField(default=0, help_text="Import order")
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)
    records = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["batch", "position"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ImmutableError("an export file is never changed: export the documents again instead")
        self.sha256 = hashlib.sha256(bytes(self.content)).hexdigest()
        super().save(*args, **kwargs)

    @property
    def intact(self) -> bool:
        return hashlib.sha256(bytes(self.content)).hexdigest() == self.sha256


class ExportItem(models.Model):
    """One document rendered for a file platform: waiting for the next batch (``batch`` empty) or in a batch."""

    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="export_items")
    entry = models.ForeignKey("accounting_sync.OutboxEntry", on_delete=models.CASCADE, related_name="export_items")
    batch = models.ForeignKey(ExportBatch, null=True, blank=True, on_delete=models.RESTRICT, related_name="items")
    source_key = models.CharField(max_length=200)
    entity = models.CharField(max_length=30)
    label = models.CharField(max_length=200, blank=True)
    number = models.CharField(max_length=100, blank=True, help_text="The document's number as the file carries it")
    rows = models.JSONField(help_text="The document's rows, per import file kind (strings, as written)")
    digest = models.CharField(max_length=64, help_text="Hash of the snapshot and mapping rendered")
    includes = models.TextField(blank=True, help_text="Dependencies rendered with it (a customer with its first "
                                                      "invoice): their keys, one per line")
    generation = models.PositiveIntegerField(help_text="The entry's generation when it was rendered")
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text="Imported; in a manual-entry batch: "
                                                                         "marked entered by hand")
    confirmed_by = models.CharField(max_length=150, blank=True)
    remote_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            # One rendering waits per entry; once in a batch, an item stays in that batch.
            models.UniqueConstraint(fields=["entry"], condition=models.Q(batch__isnull=True),
                                    name="one_waiting_item_per_entry"),
            models.UniqueConstraint(fields=["batch", "entry"], name="entry_once_per_batch"),
        ]

    def __str__(self) -> str:
        return f"{self.label or self.source_key} ({'batch ' + str(self.batch.number) if self.batch else 'waiting'})"
