"""OAuth 2 authorization-code and refresh grants over plain ``requests``.

Why not requests-oauthlib here: oauthlib refuses plain-HTTP endpoints unless the process-wide
``OAUTHLIB_INSECURE_TRANSPORT`` flag is set, and our sandboxes are served over loopback HTTP. Setting that
flag would weaken every other OAuth client in the host process, so the two form posts are written out here.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import requests

from .base import TokenSet
from .errors import AuthError, RetryableError

TIMEOUT = 20


def authorization_url(endpoint: str, client_id: str, redirect_uri: str, scope: str, state: str,
                      extra: dict | None = None) -> str:
    """The consent URL; ``extra`` adds platform parameters (an offline-access flag, a consent prompt)."""
    query = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope,
             "state": state, **(extra or {})}
    return f"{endpoint}?{urlencode(query)}"


def token_request(token_url: str, client_id: str, client_secret: str, data: dict,
                  session: requests.Session | None = None, *, client_auth: str = "basic") -> TokenSet:
    """POST a grant to ``token_url``; classify failures.

    ``client_auth`` is how the client authenticates: "basic" (HTTP Basic, RFC 6749 2.3.1) or "body" (client id
    and secret as form fields, for servers that accept only that). A 200 answer that carries an ``error`` and no
    token (some servers answer a bad code that way) is refused like a 400."""
    http = session or requests
    auth = (client_id, client_secret) if client_auth == "basic" else None
    if client_auth != "basic":
        data = {**data, "client_id": client_id, "client_secret": client_secret}
    try:
        response = http.post(token_url, data=data, auth=auth, headers={"Accept": "application/json"},
                             timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise RetryableError(f"token endpoint unreachable: {type(exc).__name__}") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise RetryableError(f"token endpoint answered HTTP {response.status_code}",
                             http_status=response.status_code)
    try:
        body = response.json() if response.content else {}
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if response.status_code != 200 or (body.get("error") and not body.get("access_token")):
        raise token_refusal(str(body.get("error") or ""), str(body.get("error_description") or ""),
                            response.status_code)
    now = dt.datetime.now(dt.UTC)
    refresh_ttl = body.get("x_refresh_token_expires_in") or body.get("refresh_expires_in")
    return TokenSet(
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token") or data.get("refresh_token", ""),
        access_expires_at=now + dt.timedelta(seconds=int(body.get("expires_in", 3600))),
        refresh_expires_at=now + dt.timedelta(seconds=int(refresh_ttl)) if refresh_ttl else None,
    )


#: What the standard token-endpoint errors (RFC 6749 section 5.2) mean for staff.
TOKEN_ERRORS = {
    "invalid_grant": "the platform no longer accepts this connection's consent: it was revoked or the app was "
                     "disconnected on the platform, or the refresh token expired or was already used",
    "invalid_client": "the platform does not accept the app's client id or secret (changed or deleted app)",
    "unauthorized_client": "the app is not allowed to use this grant type",
    "access_denied": "the user or an administrator denied access",
    "invalid_scope": "the app asked for access the platform does not grant",
    "unsupported_grant_type": "the platform does not support this grant type",
}


def token_refusal(error: str, description: str, status: int) -> AuthError:
    """An ``AuthError`` that carries the platform's own reason (its error code and description) and what it
    means, so the connection's status tells staff why they must reconnect."""
    said = error or f"HTTP {status}"
    if description and description != error:
        said += f": {description}"
    meaning = TOKEN_ERRORS.get(error)
    message = f"the platform refused the token request ({said})" + (f"; {meaning}" if meaning else "")
    return AuthError(message, platform_code=error, http_status=status,
                     hint="Reconnect the connection from the admin (Connections → Reconnect)"
                          + (" and check the app's client id and secret." if error == "invalid_client" else "."))
