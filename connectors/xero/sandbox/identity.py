"""Xero's identity service in miniature: authorization codes, token sets, rotation with grace, connections.

Rules modelled (developer.xero.com OAuth 2.0 guides; Xero staff on the developer community):

* Access tokens live 30 minutes (``expires_in: 1800``). They are JWT-shaped (Xero's are JWTs), but the
  sandbox only ever looks them up; nothing verifies a signature.
* Refresh tokens are single-use and rotate. The token a refresh replaced stays usable for a **grace period of
  30 minutes**, and using it again returns **the same new token set** (for a client whose refresh response got
  lost). After the grace period, once the newer refresh token has itself been used, or for an unknown, revoked
  or expired (60 days unused) token: ``400 {"error":"invalid_grant"}``.
* A refresh token is only issued when ``offline_access`` was granted; an ``id_token`` only for ``openid``.
* Revoking a refresh token ends the whole grant: its access tokens stop working and its connections go.
* Client authentication is HTTP Basic or ``client_id``/``client_secret`` form fields (xero-python sends the
  latter); a wrong client gets ``400 {"error":"invalid_client"}``.
"""
from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import secrets
import threading
import uuid
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

from .wire import Response, json_response, text_response

ACCESS_TOKEN_TTL = 1800
REFRESH_TOKEN_TTL = 60 * 86400
REFRESH_GRACE_SECONDS = 1800
AUTH_CODE_TTL = 300
DEFAULT_SCOPE = ("openid profile email accounting.transactions accounting.contacts accounting.settings "
                 "offline_access")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def connection_date(epoch: float) -> str:
    """``2019-12-07T18:46:19.5165400``: the /connections date format (UTC, 7 fractional digits, no zone)."""
    stamp = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond:06d}0"


class Identity:
    """Codes, grants, tokens and the user's connections to the sandbox tenants. Thread-safe."""

    def __init__(self, client_id: str, client_secret: str, clock: Callable[[], float],
                 tenants: Callable[[], dict[str, str]], access_token_ttl: int = ACCESS_TOKEN_TTL,
                 refresh_token_ttl: int = REFRESH_TOKEN_TTL,
                 refresh_grace_seconds: float = REFRESH_GRACE_SECONDS) -> None:
        self.client_id, self.client_secret, self.clock = client_id, client_secret, clock
        self.tenants = tenants  # tenant_id -> tenant name, read at authorisation time
        self.access_token_ttl = access_token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self.refresh_grace_seconds = refresh_grace_seconds
        self.user_id = str(uuid.uuid4())
        self.lock = threading.Lock()
        self.token_calls = 0
        self._codes: dict[str, dict] = {}
        self._grants: dict[str, dict] = {}
        self._access: dict[str, dict] = {}
        self._refresh: dict[str, dict] = {}
        #: tenant_id -> connection dict (the user's authorisation of this app for that tenant)
        self.connections: dict[str, dict] = {}

    # -- endpoints ---------------------------------------------------------------------------------------

    def authorize(self, params: dict[str, str]) -> Response:
        """Simulated consent: redirect straight back with a one-time code (and ``state``)."""
        redirect = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id or not redirect:
            return text_response(400, "unauthorized_client: unknown client_id or missing redirect_uri",
                                 "text/plain; charset=utf-8")
        query = {}
        if params.get("response_type") != "code":
            query["error"] = "unsupported_response_type"
        else:
            code = secrets.token_hex(32)
            scope = params.get("scope") or DEFAULT_SCOPE
            with self.lock:
                self._codes[code] = {"redirect_uri": redirect, "scope": scope, "used": False,
                                     "expires": self.clock() + AUTH_CODE_TTL}
            query.update(code=code, scope=scope)
        if "state" in params:
            query["state"] = params["state"]
        query["session_state"] = secrets.token_urlsafe(16)
        parts = urlsplit(redirect)
        joined = "&".join(p for p in (parts.query, urlencode(query)) if p)
        return 302, [("Location", urlunsplit(parts._replace(query=joined)))], b""

    def token(self, authorization: str, form: dict[str, str]) -> Response:
        with self.lock:
            self.token_calls += 1
            if not self._client_ok(authorization, form):
                return json_response(400, {"error": "invalid_client"})
            now = self.clock()
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                code = self._codes.get(form.get("code", ""))
                if (code is None or code["used"] or code["expires"] <= now
                        or code["redirect_uri"] != form.get("redirect_uri")):
                    return json_response(400, {"error": "invalid_grant"})
                code["used"] = True
                return json_response(200, self._issue(self._new_grant(code["scope"], now), now))
            if grant_type == "refresh_token":
                body = self._refresh_grant(form.get("refresh_token", ""), now)
                return json_response(400, {"error": "invalid_grant"}) if body is None else json_response(200, body)
            return json_response(400, {"error": "unsupported_grant_type"})

    def revoke(self, authorization: str, form: dict[str, str]) -> Response:
        with self.lock:
            if not self._client_ok(authorization, form):
                return json_response(400, {"error": "invalid_client"})
            info = self._refresh.get(form.get("token", "")) or self._access.get(form.get("token", ""))
            if info is not None:
                self._grants[info["grant"]]["revoked"] = True
                self.connections.clear()  # "revoke ... and remove all a user's connections"
            return 200, [], b""

    # -- facade helpers ------------------------------------------------------------------------------------

    def issue(self, scope: str = DEFAULT_SCOPE) -> dict:
        """A fresh grant without the browser dance (tests, demo); not counted as a token call."""
        with self.lock:
            now = self.clock()
            return self._issue(self._new_grant(scope, now), now)

    def check(self, authorization: str) -> str | None:
        """None when the bearer token is usable, else the ``Detail`` of Xero's 401 body."""
        if not authorization.lower().startswith("bearer "):
            return "AuthenticationUnsuccessful"
        with self.lock:
            info = self._access.get(authorization[7:].strip())
            if info is None or self._grants[info["grant"]]["revoked"]:
                return "AuthenticationUnsuccessful"
            if info["expires"] <= self.clock():
                stamp = dt.datetime.fromtimestamp(info["expires"], dt.UTC)
                return f"TokenExpired: token expired at {stamp:%m/%d/%Y %H:%M:%S}"
        return None

    def connected(self, tenant_id: str) -> bool:
        with self.lock:
            return tenant_id in self.connections

    def connection_list(self) -> list[dict]:
        with self.lock:
            return [dict(c) for c in self.connections.values()]

    def disconnect(self, connection_id: str) -> bool:
        with self.lock:
            for tenant_id, conn in list(self.connections.items()):
                if conn["id"] == connection_id:
                    del self.connections[tenant_id]
                    return True
        return False

    def disconnect_tenant(self, tenant_id: str) -> None:
        with self.lock:
            self.connections.pop(tenant_id, None)

    # -- internals -------------------------------------------------------------------------------------------

    def _client_ok(self, authorization: str, form: dict[str, str]) -> bool:
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return False
            client_id, _, secret = decoded.partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return hmac.compare_digest(client_id, self.client_id) and hmac.compare_digest(secret, self.client_secret)

    def _new_grant(self, scope: str, now: float) -> str:
        grant_id = str(uuid.uuid4())
        auth_event = str(uuid.uuid4())
        self._grants[grant_id] = {"scope": scope, "revoked": False, "auth_event": auth_event, "auth_time": now}
        for tenant_id, name in self.tenants().items():  # consent (re)connects every sandbox tenant
            conn = self.connections.get(tenant_id)
            if conn is None:
                conn = {"id": str(uuid.uuid4()), "tenantId": tenant_id, "tenantType": "ORGANISATION",
                        "tenantName": name, "createdDateUtc": connection_date(now)}
                self.connections[tenant_id] = conn
            conn.update(authEventId=auth_event, updatedDateUtc=connection_date(now), tenantName=name)
        return grant_id

    def _refresh_grant(self, token: str, now: float) -> dict | None:
        info = self._refresh.get(token)
        if info is None or self._grants[info["grant"]]["revoked"] or info["expires"] <= now:
            return None
        successor = info.get("successor")
        if successor is None:
            info["superseded"] = now
            info["successor"] = self._issue(info["grant"], now)
            return dict(info["successor"])
        # A repeat: the same token set again, within the grace period and only while it is still current.
        if now >= info["superseded"] + self.refresh_grace_seconds:
            return None
        if self._refresh[successor["refresh_token"]].get("successor") is not None:
            return None
        again = dict(successor)
        again["expires_in"] = max(1, round(self._access[successor["access_token"]]["expires"] - now))
        return again

    def _issue(self, grant_id: str, now: float) -> dict:
        grant = self._grants[grant_id]
        scopes = grant["scope"].split()
        access = self._jwt({"nbf": int(now), "exp": int(now + self.access_token_ttl), "iss": "sandbox-identity",
                            "aud": "sandbox-identity/resources", "client_id": self.client_id,
                            "sub": self.user_id, "auth_time": int(grant["auth_time"]), "xero_userid": self.user_id,
                            "global_session_id": grant_id, "jti": uuid.uuid4().hex,
                            "authentication_event_id": grant["auth_event"], "scope": scopes})
        self._access[access] = {"grant": grant_id, "expires": now + self.access_token_ttl}
        body: dict = {}
        if "openid" in scopes:
            body["id_token"] = self._jwt({"nbf": int(now), "exp": int(now + 300), "iss": "sandbox-identity",
                                          "aud": self.client_id, "sub": self.user_id, "auth_time": int(now),
                                          "xero_userid": self.user_id, "email": "sandbox@example.com"})
        body.update(access_token=access, expires_in=self.access_token_ttl, token_type="Bearer")  # nosec B106
        if "offline_access" in scopes:
            refresh = secrets.token_hex(32)
            self._refresh[refresh] = {"grant": grant_id, "expires": now + self.refresh_token_ttl}
            body["refresh_token"] = refresh
        body["scope"] = grant["scope"]
        return body

    @staticmethod
    def _jwt(claims: dict) -> str:
        header = {"alg": "RS256", "kid": "sandbox", "typ": "JWT"}
        return ".".join((_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()),
                         _b64(secrets.token_bytes(64))))
