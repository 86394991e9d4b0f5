"""A fake OAuth2 authorization server for the platform sandboxes.

What every platform's accounts server does, in miniature: the authorization-code grant (the sandbox consents at
once and redirects back with ``code``, ``state`` and whatever the platform adds, e.g. a data-centre location),
the refresh grant (with or without refresh-token rotation), access tokens that expire after ``access_ttl``
seconds of the injectable clock, revocation, and client authentication by HTTP Basic or by ``client_id`` /
``client_secret`` form fields (both accepted: clients differ). Platforms answer errors in different shapes and
even statuses (one says HTTP 200 with ``{"error": "invalid_code"}``), so every error goes through the
``render_error(error, status) -> (status, body)`` callback the platform passes in.

Responses are ``(status, headers, body bytes)`` tuples, the shape ``SandboxWSGI.handle`` returns.
"""
from __future__ import annotations

import base64
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

Response = tuple[int, list, bytes]
CODE_TTL = 300.0


def _default_error(error: str, status: int) -> tuple[int, dict]:
    return status, {"error": error}


class AuthServer:
    """Codes, token sets and revocation. Thread-safe. ``token_calls`` counts calls of the token endpoint."""

    def __init__(self, client_id: str = "sandbox-client", client_secret: str = "sandbox-secret",  # nosec B107
                 clock: Callable[[], float] = time.time, access_ttl: int = 3600, rotate_refresh: bool = False,
                 scheme: str = "Bearer", token_prefix: str = "",
                 redirect_extra: dict[str, str] | None = None, token_extra: dict[str, Any] | None = None,
                 render_error: Callable[[str, int], tuple[int, Any]] = _default_error) -> None:
        self.client_id, self.client_secret, self.clock = client_id, client_secret, clock
        #: Seconds an access token lives; changeable at run time (``/_sandbox/settings``).
        self.access_ttl = access_ttl
        #: True: each refresh answers a new refresh token and the old one stops working.
        self.rotate_refresh = rotate_refresh
        #: The word before the token in ``Authorization`` (``Bearer``, ``Zoho-oauthtoken``), compared ignoring case.
        self.scheme = scheme
        self.token_prefix = token_prefix
        self.redirect_extra = dict(redirect_extra or {})
        self.token_extra = dict(token_extra or {})
        self.render_error = render_error
        self.lock = threading.Lock()
        self.token_calls = 0
        self._codes: dict[str, dict] = {}
        self._access: dict[str, dict] = {}
        self._refresh: dict[str, dict] = {}

    # -- endpoints -------------------------------------------------------------------------------------------
    def authorize(self, params: dict[str, str]) -> Response:
        """Consent at once: 302 to ``redirect_uri`` with a one-time code, the ``state`` and the platform's extras."""
        redirect = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id or not redirect:
            return self._error("invalid_client", 400)
        query: dict[str, str] = {}
        if params.get("response_type", "code") != "code":
            query["error"] = "unsupported_response_type"
        else:
            code = self.token_prefix + secrets.token_hex(20)
            with self.lock:
                self._codes[code] = {"redirect_uri": redirect, "scope": params.get("scope", ""),
                                     "expires": self.clock() + CODE_TTL}
            query["code"] = code
        if "state" in params:
            query["state"] = params["state"]
        query.update(self.redirect_extra)
        parts = urlsplit(redirect)
        joined = "&".join(p for p in (parts.query, urlencode(query)) if p)
        return 302, [("Location", urlunsplit(parts._replace(query=joined)))], b""

    def token(self, authorization: str, form: dict[str, str]) -> Response:
        """The token endpoint: ``authorization_code`` and ``refresh_token`` grants."""
        with self.lock:
            self.token_calls += 1
            if not self._client_ok(authorization, form):
                return self._error("invalid_client", 401)
            now, grant = self.clock(), form.get("grant_type")
            if grant == "authorization_code":
                code = self._codes.pop(form.get("code", ""), None)
                if code is None or code["expires"] <= now or code["redirect_uri"] != form.get("redirect_uri"):
                    return self._error("invalid_grant", 400)
                return self._json(200, self._issue(code["scope"], now, None))
            if grant == "refresh_token":
                info = self._refresh.get(form.get("refresh_token", ""))
                if info is None or info.get("revoked"):
                    return self._error("invalid_grant", 400)
                if self.rotate_refresh:
                    info["revoked"] = True
                    return self._json(200, self._issue(info["scope"], now, None))
                return self._json(200, self._issue(info["scope"], now, form["refresh_token"]))
            return self._error("unsupported_grant_type", 400)

    def revoke(self, authorization: str, form: dict[str, str]) -> Response:
        """Revoke a refresh token (and every access token it issued) or one access token. Unknown tokens: 200."""
        token = form.get("token", "")
        with self.lock:
            if token in self._refresh:
                self._refresh[token]["revoked"] = True
                for info in self._access.values():
                    if info["refresh"] == token:
                        info["revoked"] = True
            elif token in self._access:
                self._access[token]["revoked"] = True
        return 200, [], b""

    # -- helpers for the sandbox ----------------------------------------------------------------------------------
    def issue(self, scope: str = "") -> dict:
        """A fresh token set without the browser step (tests, demo); not counted in ``token_calls``."""
        with self.lock:
            return self._issue(scope, self.clock(), None)

    def check(self, authorization: str, scheme: str | None = None) -> str | None:
        """None when the header carries a live access token, else why not: ``missing``, ``invalid``, ``expired``
        or ``revoked``."""
        scheme = (scheme or self.scheme).lower() + " "
        if not authorization.lower().startswith(scheme):
            return "missing"
        with self.lock:
            info = self._access.get(authorization[len(scheme):].strip())
            if info is None:
                return "invalid"
            if info["revoked"]:
                return "revoked"
            if info["expires"] <= self.clock():
                return "expired"
        return None

    def expire_all(self) -> None:
        """Every access token issued so far expires now (a test of the refresh-on-401 path)."""
        with self.lock:
            for info in self._access.values():
                info["expires"] = min(info["expires"], self.clock())

    # -- internals -------------------------------------------------------------------------------------------------
    def _client_ok(self, authorization: str, form: dict[str, str]) -> bool:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(authorization[6:].strip()).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
        return hmac.compare_digest(client_id, self.client_id) and hmac.compare_digest(secret, self.client_secret)

    def _issue(self, scope: str, now: float, refresh: str | None) -> dict:
        """New access token; a new refresh token unless ``refresh`` (kept, no rotation) is given."""
        access = self.token_prefix + secrets.token_hex(20)
        new_refresh = refresh is None
        if new_refresh:
            refresh = self.token_prefix + secrets.token_hex(20)
            self._refresh[refresh] = {"scope": scope, "revoked": False}
        self._access[access] = {"expires": now + self.access_ttl, "refresh": refresh, "revoked": False}
        body: dict[str, Any] = {"access_token": access}
        if new_refresh:
            body["refresh_token"] = refresh
        body.update(self.token_extra)
        body.update(token_type="Bearer", expires_in=self.access_ttl)  # nosec B106
        if scope:
            body["scope"] = scope
        return body

    def _error(self, error: str, status: int) -> Response:
        status, body = self.render_error(error, status)
        return self._json(status, body)

    @staticmethod
    def _json(status: int, body: Any) -> Response:
        return status, [("Content-Type", "application/json;charset=UTF-8")], json.dumps(body).encode("utf-8")
