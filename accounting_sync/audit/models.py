"""The audit trail's tables: append-only records chained by hash, and the chain's head.

The head row is what appends lock (a row lock on PostgreSQL, the database write lock on SQLite): two writers can
never both extend the same record, so the chain never forks. It also remembers the last record, so deleting the
newest records is found as surely as deleting older ones. Neither table has a foreign key: deleting a connection
or a user must not (and, on PostgreSQL, cannot) delete its history.
"""
from __future__ import annotations

from django.db import models

GENESIS = "0" * 64  # what the first record commits to


class AuditKind(models.TextChoices):
    ATTEMPT = "attempt", "Sync attempt"
    INBOUND = "inbound", "Platform change applied"
    STAFF = "staff", "Staff action"


class AuditRecord(models.Model):
    seq = models.PositiveBigIntegerField(unique=True, help_text="Position in the chain, from 1, without gaps")
    at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=AuditKind.choices)
    actor = models.CharField(max_length=150, blank=True, help_text="The staff user; empty for the pipeline")
    connection_id = models.BigIntegerField(null=True, blank=True)
    connection_name = models.CharField(max_length=200, blank=True)
    source_key = models.CharField(max_length=200, blank=True)
    entity = models.CharField(max_length=30, blank=True)
    operation = models.CharField(max_length=40, blank=True)
    outcome = models.CharField(max_length=20, blank=True)
    remote_id = models.CharField(max_length=100, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = "audit record"

    def __str__(self) -> str:
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.operation} {self.source_key}".strip()


class AuditHead(models.Model):
    """One row (pk 1): the chain's last record. Locked by every append."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        verbose_name = "audit chain head"
