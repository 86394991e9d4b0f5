"""Tokens by connection id: a valid access token (single-flight refresh), a fresh grant stored, idle grants kept alive.

The refresh itself is the connection's (``Connection.access_token_for``): exactly one worker refreshes a
connection's token at a time. The connection row is locked (``select_for_update``; on SQLite the IMMEDIATE
transaction takes the write lock), re-read, and refreshed only if it is still near expiry, so N workers that find
an expired token make one call to the token endpoint and all continue with the new token. The newest refresh token
is always stored, because platforms rotate it on every refresh.
"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .base import TokenSet
from .errors import SyncError
from .models import DEFAULT_MARGIN, REAUTH_PREFIX, Connection, ConnectionStatus

__all__ = ["DEFAULT_MARGIN", "KEEP_ALIVE_WITHIN", "REAUTH_PREFIX", "get_access_token", "keep_alive", "store_tokens"]

#: ``get_access_token(connection_id, force_refresh=False, seen_generation=None, margin=None)``: a valid access
#: token for the connection, refreshing it (once, under a row lock) when needed. ``force_refresh`` with
#: ``seen_generation`` is used after a 401: refresh unless another worker already did since we read the token.
get_access_token = Connection.access_token_for


def store_tokens(conn: Connection, tokens: TokenSet) -> None:
    """Save a fresh grant (OAuth callback) and reactivate the connection."""
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
