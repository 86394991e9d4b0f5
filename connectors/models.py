"""Connections: one platform company / tenant, its sync rules and its (encrypted) credentials."""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from . import registry
from .base import ConnectionConfig, TokenSet
from .budget import RateBudget, throttle_for  # noqa: F401 - RateBudget is defined with its code, exported here too
from .crypto import KEYS_CHANGED, KEYS_CHANGED_HINT, EncryptedTextField, Undecryptable, seal
from .documents import Entity
from .errors import AuthError

#: Refresh an access token this long before it expires, unless the platform's connector says otherwise
#: (``token_refresh_margin``: some platforms' tokens live minutes, not an hour).
DEFAULT_MARGIN = dt.timedelta(minutes=5)
#: A connection row read this few seconds ago stands in for a new read of its access token, for the requests a worker
#: makes right after leasing work with it (``Connection.read_lately``, ``token_getter``): a token another worker
#: rotated in the meantime costs one 401 and a retry with the new one. (A rate-limit pause is read again before
#: every request all the same: a request sent into it would count against the platform's limit.)
ROW_FRESH_SECONDS = 2.0
#: What ``Connection.status_message`` starts with when a refresh was refused and staff must reconnect.
REAUTH_PREFIX = "Reconnect needed: "


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
        if entity not in Entity.EVERY or not isinstance(ops, dict):
            raise ValidationError(
                f"Unknown entity {entity!r} in the sync table; choose from {', '.join(Entity.EVERY)}.")
        for op, flow in ops.items():
            if op not in OPERATIONS or flow not in Flow.values:
                raise ValidationError(f"{entity}: {op!r} → {flow!r} is not an operation and a direction "
                                      f"({', '.join(OPERATIONS)} → {', '.join(Flow.values)}).")


def default_entities() -> list[str]:
    return list(Entity.EVERY)


def validate_platform(value: str) -> None:
    if value not in dict(registry.choices()):
        raise ValidationError(f"Unknown platform “{value}”. Installed: {', '.join(dict(registry.choices()))}.")


def validate_entities(value: list) -> None:
    unknown = [v for v in value or [] if v not in Entity.EVERY]
    if unknown:
        raise ValidationError(f"Unknown entities {unknown}; choose from {', '.join(Entity.EVERY)}.")


class Connection(models.Model):
    name = models.CharField(max_length=100, unique=True)
    platform = models.CharField(max_length=30, validators=[validate_platform])
    organizations = models.ManyToManyField("ledger.Organization", related_name="connections", blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.PUSH)
    entities = models.JSONField(default=default_entities, validators=[validate_entities],
                                help_text="Entities that sync: " + ", ".join(Entity.EVERY))
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
    #: What the connector remembers of the platform for every process (``remember``): ids it looked up or created
    #: there, such as QBO's generic items, which each worker would otherwise look up again.
    remembered = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.settings = self.sealed_settings()
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._read_at = time.monotonic()
        return instance

    @classmethod
    def lock_unless_held(cls, pk: int) -> bool:
        """Lock this connection's row for the rest of the current transaction, unless another transaction holds it
        (``SKIP LOCKED``): False then, without waiting. Scheduled passes claim a connection's periodic work under it
        (reconciliation, polling), so two passes at once do it once."""
        return cls.objects.select_for_update(skip_locked=True).filter(pk=pk).exists()

    def read_lately(self) -> bool:
        """True when this row was read from the database within ``ROW_FRESH_SECONDS``."""
        return time.monotonic() - getattr(self, "_read_at", -ROW_FRESH_SECONDS) < ROW_FRESH_SECONDS

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
                                client_secret=self.client_secret, remembered=dict(self.remembered or {}),
                                remember=self.remember)

    def remember(self, key: str, value) -> None:
        """Keep ``value`` under ``key`` in ``remembered`` (None forgets it), for every process. The row is locked and
        its memory read again first, so two workers remembering different keys at once keep both."""
        with transaction.atomic():
            memory = (type(self).objects.select_for_update().filter(pk=self.pk)
                      .values_list("remembered", flat=True).first())
            if memory is None:  # deleted meanwhile
                return
            memory = dict(memory)
            if value is None:
                memory.pop(key, None)
            else:
                memory[key] = value
            type(self).objects.filter(pk=self.pk).update(remembered=memory)
        self.remembered = memory

    def connector_class(self):
        """The platform's connector class (its declarations: capabilities, dimensions, rules)."""
        return registry.get(self.platform)

    def sealed_settings(self) -> dict:
        """The settings with every value of a setting the platform declares secret (a sender password, a
        subscription key) encrypted like the client secret; values already encrypted stay as they are. The connector
        reads them decrypted (``BaseConnector.setting``)."""
        try:
            secret = {s.key for s in registry.get(self.platform).settings_fields if s.secret}
        except Exception:  # a platform no longer installed: nothing declares its settings
            return dict(self.settings or {})
        return {key: seal(value) if key in secret else value for key, value in (self.settings or {}).items()}

    @property
    def secrets_unreadable(self) -> bool:
        """True when no configured encryption key decrypts a stored secret (the keys were changed)."""
        return any(isinstance(v, Undecryptable) for v in (self.client_secret, self.access_token, self.refresh_token))

    def connector(self):
        """The platform connector for this connection, with single-flight token refresh wired in. Raises
        ``AuthError`` (the connection then waits for staff) when its secrets cannot be decrypted."""
        if self.secrets_unreadable:
            raise AuthError(KEYS_CHANGED, code="encryption_keys", hint=KEYS_CHANGED_HINT)
        cls = registry.get(self.platform)
        if cls.delivery == "file":  # no API, no tokens: it reads the platform's export files staff uploaded
            return cls(self.config(), readback=self._readback)
        return cls(self.config(), self.token_getter(), throttle_for(self, cls))

    def _readback(self) -> list[tuple[str, bytes]]:
        """The platform's export files uploaded for this connection, newest first (file-delivery platforms)."""
        return [(f.name, bytes(f.content)) for f in self.platform_exports.order_by("-uploaded_at", "-pk")[:20]]

    # -- single-flight token refresh -------------------------------------------------------------------------------
    # Exactly one worker refreshes a connection's token at a time: the row is locked (``select_for_update``; on
    # SQLite the IMMEDIATE transaction takes the write lock), re-read, and refreshed only if it is still near
    # expiry, so N workers that find an expired token make one call to the token endpoint and all continue with the
    # new token. The newest refresh token is always stored, because platforms rotate it on every refresh.
    # ``connectors.tokens.get_access_token`` is the same by connection id.

    def token_valid(self, margin: dt.timedelta) -> bool:
        """True when the stored access token lives longer than ``margin`` from now."""
        return bool(self.access_token and self.access_expires_at
                    and self.access_expires_at > timezone.now() + margin)

    def refresh_margin(self) -> dt.timedelta:
        """How long before expiry its token is refreshed: the platform's own margin (its tokens may live minutes, not
        an hour)."""
        return getattr(registry.get(self.platform), "token_refresh_margin", DEFAULT_MARGIN)

    @classmethod
    def access_token_for(cls, connection_id: int, force_refresh: bool = False, seen_generation: int | None = None,
                         margin: dt.timedelta | None = None) -> str:
        """A valid access token for the connection, refreshing it (once, under a row lock) when needed.

        ``force_refresh`` with ``seen_generation`` is used after a 401: refresh unless another worker already
        did since we read the token.
        """
        return cls._token_for(connection_id, force_refresh, seen_generation, margin)[0]

    @classmethod
    def _token_for(cls, connection_id: int, force_refresh: bool = False, seen_generation: int | None = None,
                   margin: dt.timedelta | None = None) -> tuple[str, int]:
        """``access_token_for``, with the token's generation as read with it (``token_getter``: no second read)."""
        conn = cls.objects.get(pk=connection_id)
        margin = conn.refresh_margin() if margin is None else margin
        if not force_refresh and conn.token_valid(margin):
            return conn.access_token, conn.token_generation
        with transaction.atomic():
            conn = cls.objects.select_for_update().get(pk=connection_id)
            if conn.status == ConnectionStatus.NEEDS_REAUTH:  # say why, as recorded when it happened
                reason = (conn.status_message.removeprefix(REAUTH_PREFIX)
                          or f"connection {conn.name} needs reconnecting")
                raise AuthError(reason, hint="Reconnect it in the admin.")
            rotated_meanwhile = seen_generation is not None and conn.token_generation != seen_generation
            if conn.token_valid(margin) and (not force_refresh or rotated_meanwhile):
                return conn.access_token, conn.token_generation
            if not conn.refresh_token:
                raise AuthError(f"connection {conn.name} has no refresh token; connect it first",
                                hint="Open the connection in the admin and press Connect.")
            connector = registry.get(conn.platform)(conn.config())
            try:
                tokens = connector.refresh(conn.refresh_token)
            except AuthError as exc:
                failure = exc
            else:
                return conn._save_refreshed(tokens), conn.token_generation
        # Outside the lock's transaction, so the status survives even though we raise. Only if nobody stored newer
        # tokens meanwhile (a reconnect from the admin, another worker): then their tokens are used instead.
        if not conn._mark_needs_reauth(failure.message):
            return cls._token_for(connection_id, False, None, margin)
        raise failure

    def _save_refreshed(self, tokens: TokenSet) -> str:
        self.access_token = tokens.access_token
        self.refresh_token = tokens.refresh_token
        self.access_expires_at = tokens.access_expires_at
        self.refresh_expires_at = tokens.refresh_expires_at or self.refresh_expires_at
        self.token_generation += 1
        self.save(update_fields=["access_token", "refresh_token", "access_expires_at", "refresh_expires_at",
                                 "token_generation", "updated_at"])
        return tokens.access_token

    def _mark_needs_reauth(self, reason: str) -> bool:
        """Mark the connection for reconnecting, unless its tokens changed since we read them; True if marked."""
        # Committed on its own even if the caller's transaction rolls back: the dashboard must show it.
        return bool(type(self).objects.filter(pk=self.pk, token_generation=self.token_generation).update(
            status=ConnectionStatus.NEEDS_REAUTH, status_message=f"{REAUTH_PREFIX}{reason}"[:500]))

    def token_getter(self) -> Callable[[bool], str]:
        """A closure for connectors: ``get(force_refresh)``; a forced refresh is skipped if someone else rotated."""
        connection_id, state = self.pk, {"generation": None, "row": self}
        connections = type(self)

        def get(force_refresh: bool = False) -> str:
            row = state["row"]
            if not force_refresh and row is not None and row.read_lately() and row.token_valid(row.refresh_margin()):
                token, state["generation"] = row.access_token, row.token_generation  # just read: no second read
                return token
            state["row"] = None  # from now on the database's: a token refreshed meanwhile is not given up again
            if force_refresh:
                token, state["generation"] = connections._token_for(connection_id, True, state["generation"])
            else:
                token, state["generation"] = connections._token_for(connection_id)
            return token

        return get


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
