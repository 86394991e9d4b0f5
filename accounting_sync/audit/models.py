"""The audit trail's tables: append-only records chained by hash, one chain per connection, and each chain's head.

A record belongs to one chain: ``connection:<id>`` for everything about a connection, ``global`` for records
without one (a staff action on settings) and for the opening of every other chain, ``legacy`` for the records
written while there was a single chain (closed: nothing is appended to it). A chain's head row is what its appends
lock (a row lock on PostgreSQL, the database write lock on SQLite): two writers can never both extend the same
record, so a chain never forks, and writers of different connections never wait on each other. The head also
remembers the chain's last record, so deleting the newest records is found as surely as deleting older ones.
Neither table has a foreign key: deleting a connection or a user must not (and, on PostgreSQL, cannot) delete its
history.
"""
from __future__ import annotations

from django.db import models

GENESIS = "0" * 64  # what the first record of a chain commits to
GLOBAL = "global"  # records without a connection, and the opening of every other chain
LEGACY = "legacy"  # the records of the single chain that came before per-connection chains (migration 0014)


class AuditKind(models.TextChoices):
    ATTEMPT = "attempt", "Sync attempt"
    INBOUND = "inbound", "Platform change applied"
    STAFF = "staff", "Staff action"
    CHAIN = "chain", "Chain opened"


class AuditRecord(models.Model):
    chain = models.CharField(max_length=40, help_text="connection:<id>, global (no connection) or legacy")
    seq = models.PositiveBigIntegerField(help_text="Position in its chain, from 1, without gaps")
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
        ordering = ["chain", "seq"]
        verbose_name = "audit record"
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="accounting_sync_audit_chain_seq")]
        indexes = [models.Index(fields=["at", "chain", "seq"], name="accounting_sync_audit_at")]

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq} {self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.operation} " \
               f"{self.source_key}".strip()


class AuditHead(models.Model):
    """One row per chain: its last record. Locked by every append to the chain."""

    chain = models.CharField(max_length=40, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        verbose_name = "audit chain head"

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq}"
