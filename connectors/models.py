"""Connections: one platform company / tenant, its sync rules and its (encrypted) credentials."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from . import registry
from .base import ConnectionConfig
from .crypto import KEYS_CHANGED, KEYS_CHANGED_HINT, EncryptedTextField, Undecryptable
from .documents import Entity
from .errors import AuthError


class Direction(models.TextChoices):
    PUSH = "push", "Push (local → platform)"
    PULL = "pull", "Pull (platform → local)"
    BOTH = "both", "Both ways"


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    NEEDS_REAUTH = "needs_reauth", "Needs reconnect"
    DISABLED = "disabled", "Disabled"


OPERATIONS = ("create", "update", "delete")


class Flow(models.TextChoices):
    """Which way one operation on one entity syncs (``Connection.operations``)."""

    NONE = "none", "—"
    OUT = "out", "Out (here → platform)"
    IN = "in", "In (platform → here)"
    BOTH = "both", "Both ways"


#: The lab system's table (issue 18): customers and products go out when created, invoices both ways, credits out,
#: payments both ways. A preset in the connection form.
LAB_PRESET = {
    "customer": {"create": "out", "update": "out", "delete": "none"},
    "item": {"create": "out", "update": "none", "delete": "none"},
    "invoice": {"create": "both", "update": "in", "delete": "both"},
    "credit_note": {"create": "out", "update": "out", "delete": "out"},
    "payment": {"create": "both", "update": "both", "delete": "both"},
}


def validate_operations(value: dict) -> None:
    for entity, ops in (value or {}).items():
        if entity not in Entity.ALL or not isinstance(ops, dict):
            raise ValidationError(f"Unknown entity {entity!r} in the sync table; choose from {', '.join(Entity.ALL)}.")
        for op, flow in ops.items():
            if op not in OPERATIONS or flow not in Flow.values:
                raise ValidationError(f"{entity}: {op!r} → {flow!r} is not an operation and a direction "
                                      f"({', '.join(OPERATIONS)} → {', '.join(Flow.values)}).")


def default_entities() -> list[str]:
    return list(Entity.ALL)


def validate_platform(value: str) -> None:
    if value not in dict(registry.choices()):
        raise ValidationError(f"Unknown platform “{value}”. Installed: {', '.join(dict(registry.choices()))}.")


def validate_entities(value: list) -> None:
    unknown = [v for v in value or [] if v not in Entity.ALL]
    if unknown:
        raise ValidationError(f"Unknown entities {unknown}; choose from {', '.join(Entity.ALL)}.")


class Connection(models.Model):
    name = models.CharField(max_length=100, unique=True)
    platform = models.CharField(max_length=30, validators=[validate_platform])
    organizations = models.ManyToManyField("ledger.Organization", related_name="connections", blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.PUSH)
    entities = models.JSONField(default=default_entities, validators=[validate_entities],
                                help_text="Entities that sync: " + ", ".join(Entity.ALL))
    operations = models.JSONField(
        default=dict, blank=True, validators=[validate_operations],
        help_text="Per entity and operation (create, update, delete): out, in, both or none. Empty: every operation "
                  "follows the direction.")
    auto_sync = models.BooleanField(default=True, help_text="Send changes as they happen")
    start_date = models.DateField(null=True, blank=True, help_text="Documents dated earlier are not sent")
    settings = models.JSONField(default=dict, blank=True, help_text="Platform settings, e.g. api_base")
    remote_company_id = models.CharField(max_length=100, blank=True, help_text="QBO realm id / Xero tenant id")
    status = models.CharField(max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE)
    status_message = models.CharField(max_length=500, blank=True)
    paused_until = models.DateTimeField(null=True, blank=True, help_text="Set by rate limits (429)")

    client_id = models.CharField(max_length=200, blank=True)
    client_secret = EncryptedTextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    token_generation = models.PositiveIntegerField(default=0, editable=False)

    reference_data = models.JSONField(default=dict, blank=True, editable=False)
    reference_data_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def pushes(self) -> bool:
        return self.direction in (Direction.PUSH, Direction.BOTH)

    @property
    def pulls(self) -> bool:
        return self.direction in (Direction.PULL, Direction.BOTH)

    @property
    def platform_name(self) -> str:
        return dict(registry.choices()).get(self.platform, self.platform)

    def syncs(self, entity: str) -> bool:
        return entity in (self.entities or [])

    def flow(self, entity: str, operation: str) -> str:
        """Which way ``operation`` (create, update, delete; a void counts as a delete) on ``entity`` syncs: the
        sync table's cell, or, without a table, the connection's direction."""
        operation = "delete" if operation == "void" else operation
        if self.operations:
            return (self.operations.get(entity) or {}).get(operation, Flow.NONE)
        return {Direction.PUSH: Flow.OUT, Direction.PULL: Flow.IN, Direction.BOTH: Flow.BOTH}[self.direction]

    def sends(self, entity: str, operation: str) -> bool:
        return self.flow(entity, operation) in (Flow.OUT, Flow.BOTH)

    def receives(self, entity: str, operation: str) -> bool:
        return self.flow(entity, operation) in (Flow.IN, Flow.BOTH)

    def is_paused(self, now: dt.datetime | None = None) -> bool:
        return bool(self.paused_until and self.paused_until > (now or timezone.now()))

    def config(self) -> ConnectionConfig:
        return ConnectionConfig(platform=self.platform, name=self.name, remote_company_id=self.remote_company_id,
                                settings=dict(self.settings or {}), client_id=self.client_id,
                                client_secret=self.client_secret)

    def connector_class(self):
        """The platform's connector class (its declarations: capabilities, dimensions, rules)."""
        return registry.get(self.platform)

    @property
    def secrets_unreadable(self) -> bool:
        """True when no configured encryption key decrypts a stored secret (the keys were changed)."""
        return any(isinstance(v, Undecryptable) for v in (self.client_secret, self.access_token, self.refresh_token))

    def connector(self):
        """The platform connector for this connection, with single-flight token refresh wired in. Raises
        ``AuthError`` (the connection then waits for staff) when its secrets cannot be decrypted."""
        if self.secrets_unreadable:
            raise AuthError(KEYS_CHANGED, code="encryption_keys", hint=KEYS_CHANGED_HINT)
        from .budget import throttle_for
        from .tokens import token_getter

        cls = registry.get(self.platform)
        if cls.delivery == "file":  # no API, no tokens: it reads the platform's export files staff uploaded
            return cls(self.config(), readback=self._readback)
        return cls(self.config(), token_getter(self.pk), throttle_for(self, cls))

    def _readback(self) -> list[tuple[str, bytes]]:
        """The platform's export files uploaded for this connection, newest first (file-delivery platforms)."""
        return [(f.name, bytes(f.content)) for f in self.platform_exports.order_by("-uploaded_at", "-pk")[:20]]


class PlatformExport(models.Model):
    """An export file a file-delivery platform produced (its invoices report, its sales export), uploaded by staff.
    The connector reads it back (``FileConnector.readback_files``): it closes exported documents and feeds
    reconciliation. Kept as uploaded, with its SHA-256; never edited."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="platform_exports")
    name = models.CharField(max_length=200)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.connection})"


class RateBudget(models.Model):
    """Requests a connection made recently, per request kind, and its requests in flight (kind ``concurrent``),
    shared by every worker process (``budget.py``)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="rate_budgets")
    kind = models.CharField(max_length=20)
    counts = models.JSONField(default=dict, help_text="Requests per time slot (a sixtieth of the window)")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "kind"], name="one_budget_per_kind")]

    def __str__(self) -> str:
        if self.kind == "concurrent":  # slot id -> when it expires
            return f"{self.connection}: {len(self.counts)} requests in flight"
        return f"{self.connection} {self.kind}: {sum(self.counts.values())} recent requests"
