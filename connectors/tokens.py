"""Single-flight token refresh: exactly one worker refreshes a connection's token at a time.

The connection row is locked (``select_for_update``; on SQLite the IMMEDIATE transaction takes the write
lock), re-read, and refreshed only if it is still near expiry, so N workers that find an expired token make
one call to the token endpoint and all continue with the new token. The newest refresh token is always
stored, because platforms rotate it on every refresh.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from . import registry
from .errors import AuthError

DEFAULT_MARGIN = dt.timedelta(minutes=5)
REAUTH_PREFIX = "Reconnect needed: "


def _valid(conn, margin: dt.timedelta) -> bool:
    return bool(conn.access_token and conn.access_expires_at and conn.access_expires_at > timezone.now() + margin)


def get_access_token(connection_id: int, force_refresh: bool = False, seen_generation: int | None = None,
                     margin: dt.timedelta | None = None) -> str:
    """A valid access token for the connection, refreshing it (once, under a row lock) when needed.

    ``force_refresh`` with ``seen_generation`` is used after a 401: refresh unless another worker already
    did since we read the token.
    """
    from .models import Connection, ConnectionStatus

    conn = Connection.objects.get(pk=connection_id)
    if margin is None:  # the platform's own (its tokens may live minutes, not an hour)
        margin = getattr(registry.get(conn.platform), "token_refresh_margin", DEFAULT_MARGIN)
    if not force_refresh and _valid(conn, margin):
        return conn.access_token
    with transaction.atomic():
        conn = Connection.objects.select_for_update().get(pk=connection_id)
        if conn.status == ConnectionStatus.NEEDS_REAUTH:  # say why, as recorded when it happened
            reason = conn.status_message.removeprefix(REAUTH_PREFIX) or f"connection {conn.name} needs reconnecting"
            raise AuthError(reason, hint="Reconnect it in the admin.")
        rotated_meanwhile = seen_generation is not None and conn.token_generation != seen_generation
        if _valid(conn, margin) and (not force_refresh or rotated_meanwhile):
            return conn.access_token
        if not conn.refresh_token:
            raise AuthError(f"connection {conn.name} has no refresh token; connect it first",
                            hint="Open the connection in the admin and press Connect.")
        connector = registry.get(conn.platform)(conn.config())
        try:
            tokens = connector.refresh(conn.refresh_token)
        except AuthError as exc:
            failure = exc
        else:
            return _save_refreshed(conn, tokens)
    # Outside the lock's transaction, so the status survives even though we raise. Only if nobody stored newer
    # tokens meanwhile (a reconnect from the admin, another worker): then their tokens are used instead.
    if not _needs_reauth(conn, failure.message):
        return get_access_token(connection_id, False, None, margin)
    raise failure


def _save_refreshed(conn, tokens) -> str:
    conn.access_token = tokens.access_token
    conn.refresh_token = tokens.refresh_token
    conn.access_expires_at = tokens.access_expires_at
    conn.refresh_expires_at = tokens.refresh_expires_at or conn.refresh_expires_at
    conn.token_generation += 1
    conn.save(update_fields=["access_token", "refresh_token", "access_expires_at", "refresh_expires_at",
                             "token_generation", "updated_at"])
    return tokens.access_token


def _needs_reauth(conn, reason: str) -> bool:
    """Mark the connection for reconnecting, unless its tokens changed since we read them; True if marked."""
    from .models import ConnectionStatus

    # Committed on its own even if the caller's transaction rolls back: the dashboard must show it.
    return bool(type(conn).objects.filter(pk=conn.pk, token_generation=conn.token_generation).update(
        status=ConnectionStatus.NEEDS_REAUTH, status_message=f"{REAUTH_PREFIX}{reason}"[:500]))


def token_getter(connection_id: int) -> Callable[[bool], str]:
    """A closure for connectors: ``get(force_refresh)``; a forced refresh is skipped if someone else rotated."""
    state: dict[str, int | None] = {"generation": None}

    def get(force_refresh: bool = False) -> str:
        from .models import Connection

        if force_refresh:
            token = get_access_token(connection_id, True, state["generation"])
        else:
            token = get_access_token(connection_id)
        state["generation"] = Connection.objects.values_list("token_generation", flat=True).get(pk=connection_id)
        return token

    return get


def store_tokens(conn, tokens) -> None:
    """Save a fresh grant (OAuth callback) and reactivate the connection."""
    from .models import ConnectionStatus

    conn.access_token = tokens.access_token
    conn.refresh_token = tokens.refresh_token
    conn.access_expires_at = tokens.access_expires_at
    conn.refresh_expires_at = tokens.refresh_expires_at
    if tokens.remote_company_id:
        conn.remote_company_id = tokens.remote_company_id
    conn.status = ConnectionStatus.ACTIVE
    conn.status_message = ""
    conn.token_generation += 1
    conn.save()


KEEP_ALIVE_WITHIN = dt.timedelta(days=14)


def keep_alive(now: dt.datetime | None = None) -> list[str]:
    """Refresh the tokens of active connections whose refresh token would expire soon without use (Xero: 60
    days unused; QBO: about 100). An idle connection would otherwise need reconnecting by hand. Returns the
    names refreshed; a refusal marks the connection for reconnecting as usual, other failures wait a day."""
    from .errors import SyncError
    from .models import Connection, ConnectionStatus

    now = now or timezone.now()
    refreshed = []
    due = Connection.objects.filter(status=ConnectionStatus.ACTIVE, refresh_expires_at__lt=now + KEEP_ALIVE_WITHIN)
    for conn in due.exclude(refresh_token=""):  # nosec B106
        try:
            get_access_token(conn.pk, force_refresh=True, seen_generation=conn.token_generation)
        except SyncError:
            continue
        refreshed.append(conn.name)
    return refreshed
