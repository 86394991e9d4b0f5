"""Incidents (one row per problem, open until it clears) and who hears about them.

An incident stays one row while its problem lasts: each evaluation that finds it again moves ``last_seen_at``;
the first that no longer finds it resolves it. At most one incident of a kind and key is open per connection
(a partial unique index), so two evaluations running at once cannot open the same incident twice.

The delivery of its two notices (opened, resolved) is recorded per channel on the row, so a channel that failed
(a webhook receiver down, a mail server refusing) is tried again at the next evaluation and one that worked is
never repeated.
"""
from __future__ import annotations

from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone


class IncidentKind(models.TextChoices):
    REAUTH = "reauth", "Connection needs reconnecting"
    ATTENTION = "attention", "Entries need attention"
    FAILURES = "failures", "Entries keep failing"
    QUEUE = "queue_stopped", "Task queue stopped"
    RATE_BUDGET = "rate_budget", "Rate budget exhausted"
    VARIANCE = "variance", "Reconciliation found variances"


class Incident(models.Model):
    connection = models.ForeignKey("connectors.Connection", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="incidents",
                                   help_text="Empty: it concerns every connection (the task queue)")
    kind = models.CharField(max_length=20, choices=IncidentKind.choices)
    key = models.CharField(max_length=200, blank=True,
                           help_text="Tells apart incidents of one kind and connection (empty for the built-in kinds)")
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True, help_text="What the last evaluation found")
    hint = models.CharField(max_length=500, blank=True, help_text="What to do about it")
    value = models.PositiveIntegerField(default=0, help_text="How many (entries, variances, changes) at the last look")
    peak = models.PositiveIntegerField(default=0, help_text="The most it was while open")
    seen = models.PositiveIntegerField(default=1, help_text="Evaluations that found it")
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    # Delivery of the two notices, per channel (empty: not delivered; a channel not configured stays empty).
    notices_due = models.BooleanField(default=True, help_text="A notice is still to be delivered")
    opened_signal_at = models.DateTimeField(null=True, blank=True)
    opened_email_at = models.DateTimeField(null=True, blank=True)
    opened_webhook_at = models.DateTimeField(null=True, blank=True)
    resolved_signal_at = models.DateTimeField(null=True, blank=True)
    resolved_email_at = models.DateTimeField(null=True, blank=True)
    resolved_webhook_at = models.DateTimeField(null=True, blank=True)
    delivery_attempts = models.PositiveIntegerField(default=0, help_text="Evaluations at which a channel failed")
    delivery_error = models.TextField(blank=True, help_text="Why the last delivery failed")
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False,
                                         help_text="A worker is delivering its notices until then")

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                Coalesce("connection", models.Value(0), output_field=models.BigIntegerField()), "kind", "key",
                condition=models.Q(resolved_at__isnull=True), name="one_open_incident"),
        ]
        indexes = [models.Index(fields=["notices_due"], condition=models.Q(notices_due=True),
                                name="incident_notices_due")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class AlertRecipient(models.Model):
    """Someone who hears about one connection's incidents (and about the task queue, which concerns all).
    ``ACCOUNTING_SYNC["ALERT_EMAILS"]`` hear about every incident besides."""

    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="alert_recipients")
    email = models.EmailField()
    incidents = models.BooleanField(default=True, help_text="An email when an incident opens and when it clears")
    digest = models.BooleanField(default=True, help_text="The daily digest of open incidents")

    class Meta:
        ordering = ["connection", "email"]
        constraints = [models.UniqueConstraint(fields=["connection", "email"], name="one_alert_recipient")]

    def __str__(self) -> str:
        return f"{self.email} ({self.connection})"
