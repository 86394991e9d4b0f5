"""HTTP layer of the QBO sandbox: a standard-library WSGI app on real loopback.

Served by ``wsgiref`` with a threading server so the connector is exercised
through real sockets, timeouts and connection drops - things an in-process
mock cannot show. No Django import here: the sandbox must run standalone
(``python -m connectors.qbo.sandbox``) for demos and host developers.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from ...sandboxkit.faults import POST_KINDS, FaultInjector
from ...sandboxkit.http import Drop as _Drop
from ...sandboxkit.http import LoopbackService, SandboxWSGI
from ...sandboxkit.latency import Latency, kind_of
from ...sandboxkit.limits import Exceeded, Limiter
from .batch import run_batch
from .schema import PATH_ENTITIES
from .store import Store
from .wire import QBOFault, dumps, loads, unsupported
from .webhooks import QBOWebhooks

JSON = "application/json;charset=UTF-8"
REFRESH_TOKEN_TTL = 8726400  # ~101 days, what QBO reports in x_refresh_token_expires_in
REFRESH_TOKEN_HARD_TTL = 5 * 365 * 86400  # the 2025 five-year hard cap
AUTH_CODE_TTL = 300
#: QBO's published throttles, per realm: 500 requests a minute (batch requests included), 10 requests in flight,
#: 40 batch requests a minute. ``(limit, window seconds)``; a window of 0 marks a concurrency limit.
QBO_LIMITS: dict[str, tuple[int | None, float]] = {
    "per_minute": (500, 60.0), "concurrent": (10, 0.0), "batch_per_minute": (40, 60.0)}
THROTTLE_DETAIL = "The request limit was reached.  Try again later"  # verbatim, two spaces included
#: ``POST /_sandbox/as-user`` actions: ``{"action": "record_payment", ...}`` calls ``store.record_payment_as_user``.
AS_USER_ACTIONS = ("record_payment", "edit_invoice_line", "edit", "void_invoice", "delete_invoice", "void_payment",
                   "delete_payment", "make_deposit", "bank_deposit", "create_customer", "edit_customer", "create_item",
                   "edit_item")


Response = tuple[int, list[tuple[str, str]], bytes]


# ---------------------------------------------------------------------------
# OAuth 2.0


class TokenAuthority:
    """Intuit's OAuth server in miniature: codes, rotating refresh tokens, expiry.

    Every refresh returns a new refresh token. The superseded one keeps
    working for ``refresh_grace_seconds`` (default 0: it dies at once - the
    strictest reading, which is what a robust client must survive).
    """

    def __init__(self, client_id: str, client_secret: str, realm_id: str, clock: Callable[[], float],
                 access_token_ttl: int = 3600, refresh_token_ttl: int = REFRESH_TOKEN_TTL,
                 refresh_grace_seconds: float = 0, consent_realm: Callable[[], str] | None = None) -> None:
        self.client_id, self.client_secret, self.realm_id = client_id, client_secret, realm_id
        #: The company a consent picks (``QBOSandbox(company_per_consent=True)``: a new one each time); the
        #: sandbox's own company otherwise. A grant, and every token of it, is for that company only.
        self.consent_realm = consent_realm or (lambda: self.realm_id)
        self.clock = clock
        self.access_token_ttl = access_token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self.refresh_grace_seconds = refresh_grace_seconds
        self.lock = threading.Lock()
        self.token_calls = 0
        self._codes: dict[str, dict] = {}
        self._access: dict[str, dict] = {}
        self._refresh: dict[str, dict] = {}
        self._grants: dict[str, dict] = {}

    def authorize(self, params: dict[str, str]) -> Response:
        """Simulated consent: redirect straight back with a one-time code."""
        redirect = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id or not redirect:
            return _text(400, "invalid client_id or missing redirect_uri")
        if params.get("response_type") != "code":
            query = {"state": params.get("state", ""), "realmId": self.realm_id,
                     "error": "unsupported_response_type"}
        else:
            realm = self.consent_realm()
            query = {"state": params.get("state", ""), "realmId": realm}
            code = "AB11" + secrets.token_hex(20)
            with self.lock:
                self._codes[code] = {"redirect_uri": redirect, "expires": self.clock() + AUTH_CODE_TTL,
                                     "used": False, "realm": realm}
            query["code"] = code
        parts = urlsplit(redirect)
        joined = "&".join(p for p in (parts.query, urlencode(query)) if p)
        return 302, [("Location", urlunsplit(parts._replace(query=joined)))], b""

    def token(self, authorization: str, form: dict[str, str], hard_expiry: bool) -> Response:
        """The token endpoint (authorization_code and refresh_token grants)."""
        with self.lock:
            self.token_calls += 1
            if not self._client_ok(authorization):
                return _json(401, {"error": "invalid_client"})
            grant_type = form.get("grant_type")
            now = self.clock()
            if grant_type == "authorization_code":
                code = self._codes.get(form.get("code", ""))
                if (code is None or code["used"] or code["expires"] <= now
                        or code["redirect_uri"] != form.get("redirect_uri")):
                    return _json(400, {"error": "invalid_grant"})
                code["used"] = True
                grant_id = self._new_grant(now, code["realm"])
            elif grant_type == "refresh_token":
                info = self._refresh.get(form.get("refresh_token", ""))
                if info is None or not self._refresh_valid(info, now):
                    return _json(400, {"error": "invalid_grant"})
                for other in self._refresh.values():  # rotation: everything older is superseded now
                    if other["grant"] == info["grant"] and other["superseded"] is None:
                        other["superseded"] = now
                grant_id = info["grant"]
            else:
                return _json(400, {"error": "unsupported_grant_type"})
            return _json(200, self._issue(grant_id, now, hard_expiry))

    def revoke(self, authorization: str, token: str) -> Response:
        """Revoking either token kills the whole grant (all its tokens)."""
        with self.lock:
            if not self._client_ok(authorization):
                return _json(401, {"error": "invalid_client"})
            info = self._refresh.get(token) or self._access.get(token)
            if info is not None:
                self._grants[info["grant"]]["revoked"] = True
            return 200, [], b""

    def issue(self) -> dict:
        """A fresh grant without the browser dance (tests, demo); not counted as a call."""
        with self.lock:
            now = self.clock()
            return self._issue(self._new_grant(now), now, False)

    def realm_of(self, authorization: str) -> str | None:
        """The company a bearer token is for (None for an unknown token)."""
        with self.lock:
            info = self._access.get(authorization[7:].strip())
            return None if info is None else self._grants[info["grant"]]["realm"]

    def check(self, authorization: str) -> str | None:
        """Return None if the bearer token is usable, else a 401 detail message."""
        if not authorization.lower().startswith("bearer "):
            return "Authorization header missing or not a Bearer token"
        token = authorization[7:].strip()
        with self.lock:
            info = self._access.get(token)
            if info is None:
                return "Malformed bearer token: unknown token"
            if self._grants[info["grant"]]["revoked"]:
                return "Token revoked"
            if info["expires"] <= self.clock():
                return "Token expired"
        return None

    # -- internals --------------------------------------------------------

    def _client_ok(self, authorization: str) -> bool:
        if not authorization.lower().startswith("basic "):
            return False
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        client_id, _, secret = decoded.partition(":")
        return hmac.compare_digest(client_id, self.client_id) and hmac.compare_digest(secret, self.client_secret)

    def _new_grant(self, now: float, realm: str | None = None) -> str:
        grant_id = uuid.uuid4().hex
        self._grants[grant_id] = {"created": now, "revoked": False, "realm": realm or self.realm_id}
        return grant_id

    def _refresh_valid(self, info: dict, now: float) -> bool:
        grant = self._grants[info["grant"]]
        if grant["revoked"] or info["expires"] <= now or now >= grant["created"] + REFRESH_TOKEN_HARD_TTL:
            return False
        return info["superseded"] is None or now < info["superseded"] + self.refresh_grace_seconds

    def _issue(self, grant_id: str, now: float, hard_expiry: bool) -> dict:
        access = "eyJ" + secrets.token_urlsafe(48)
        refresh = "AB11" + secrets.token_hex(24)
        self._access[access] = {"grant": grant_id, "expires": now + self.access_token_ttl}
        self._refresh[refresh] = {"grant": grant_id, "expires": now + self.refresh_token_ttl, "superseded": None}
        body = {"access_token": access, "refresh_token": refresh, "token_type": "bearer",  # nosec B105
                "expires_in": self.access_token_ttl, "x_refresh_token_expires_in": self.refresh_token_ttl}
        if hard_expiry:
            body["x_refresh_token_hard_expires_in"] = int(self._grants[grant_id]["created"]
                                                          + REFRESH_TOKEN_HARD_TTL - now)
        return body


class SandboxLimiter(Limiter):
    """The kit's Limiter plus ``clear()``, so a company reset starts with empty windows."""

    def clear(self) -> None:
        """Empty the sliding windows. Rules stay as configured; requests in flight keep their slots."""
        with self._lock:
            self._hits.clear()

    def state(self) -> dict:
        return {name: {"limit": limit, "window": window} for name, (limit, window) in self.rules.items()}


# ---------------------------------------------------------------------------
# Responses


def _tid() -> str:
    return f"1-{secrets.token_hex(4)}-{secrets.token_hex(12)}"


def _json(status: int, body: Any) -> Response:
    return status, [("Content-Type", JSON)], dumps(body)


def _text(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Response:
    return status, [("Content-Type", content_type)], text.encode("utf-8")


def _gateway_fault(status: int, message: str, code: str, detail: str | None, kind: str) -> Response:
    """Errors raised by Intuit's API gateway (401/403/429) use this lower-case shape.

    Verbatim shape from routablehq/python-quickbooks#250 (401, code 3200) and
    intuit/oauth-jsclient#2 (403, code 3100).
    """
    body = {"warnings": None, "intuitObject": None,
            "fault": {"error": [{"message": message, "detail": detail, "code": code, "element": None}],
                      "type": kind},
            "report": None, "queryResponse": None, "batchItemResponse": [], "attachableResponse": [],
            "syncErrorResponse": None, "requestId": None, "time": int(time.time() * 1000), "status": None,
            "cdcresponse": []}
    return _json(status, body)


def _throttled(retry_after: str | None = None) -> Response:
    """429 ThrottleExceeded, for real limits and the ``rate_limit`` fault alike.

    Message, code, type and detail are the ones QBO sends (seen in XML, e.g. intuit/QuickBooks-V3-PHP-SDK#54).
    QBO documents no ``Retry-After`` ("wait 60 seconds"), so it is only sent when a fault asks for one.
    """
    status, headers, body = _gateway_fault(429, "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                                           "3001", THROTTLE_DETAIL, "SERVICE")
    if retry_after is not None:
        headers = headers + [("Retry-After", retry_after)]
    return status, headers, body


# ---------------------------------------------------------------------------
# WSGI application


class SandboxApp(SandboxWSGI):
    """Routes requests to OAuth, control endpoints and the company API."""

    def trace_headers(self) -> list[tuple[str, str]]:
        return [("intuit_tid", _tid())]

    def handle(self, environ: dict, method: str, path: str, params: dict[str, str]) -> Response:
        if path.startswith("/_sandbox/"):
            return self.control(environ, method, path)
        if path.startswith("/v3/"):
            with self.sb._log_lock:
                self.sb.requests_log.append((method, path, dict(params)))
        fault = self.sb.faults.pick(method, path)
        if fault is not None and fault.kind not in POST_KINDS:
            return self.pre_fault(environ, fault)
        with self.admit(environ, method, path) as refused:
            if refused is not None:
                return refused
            # In flight (the concurrency slot stays taken) but holding no lock: others are served meanwhile.
            self.sb.latency.wait(self.sb.latency_kind(method, path))
            response = self.route(environ, method, path, params)
            if fault is not None and fault.kind == "lost_response":
                raise _Drop()
            if fault is not None and fault.kind == "timeout":
                time.sleep(self.sb.faults.timeout_seconds)  # still in flight: the concurrency slot stays taken
        return response

    @contextmanager
    def admit(self, environ: dict, method: str, path: str) -> Iterator[Response | None]:
        """Apply the platform limits to an authenticated company API call; yields a 429 response when refused.

        A concurrency slot is held until the response is ready. Throttled requests are not counted.
        """
        realm = self._limited_realm(environ, path)
        if realm is None:
            yield None
            return
        limits = self.sb.limits
        with limits.concurrent("concurrent", realm) as busy:
            checks = [("per_minute", realm)]
            if method == "POST" and path.rstrip("/").lower().endswith("/batch"):
                checks.append(("batch_per_minute", realm))
            exceeded = busy or limits.hit(*checks)
            if exceeded is not None:
                self.sb._note_throttle(exceeded, method, path)
            yield None if exceeded is None else _throttled()

    def _limited_realm(self, environ: dict, path: str) -> str | None:
        """The realm a request counts against, or None (not the company API, bad token, other realm)."""
        parts = [p for p in path.split("/") if p]
        if len(parts) < 3 or parts[:2] != ["v3", "company"]:
            return None
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if self.sb.auth.check(authorization):
            return None  # the gateway answers 401 before any throttle applies
        return parts[2] if parts[2] == self.sb.auth.realm_of(authorization) else None

    def pre_fault(self, environ: dict, fault: Any) -> Response:
        if fault.kind == "reset":
            raise _Drop()
        if fault.kind == "rate_limit":
            return _throttled(fault.retry_after)
        if fault.kind == "http_503":
            return _text(503, "<html><head><title>503 Service Unavailable</title></head><body><h1>Service "
                              "Unavailable</h1></body></html>", "text/html; charset=utf-8")
        error = QBOFault("10000", "An application error has occurred while processing your request",
                         "System Failure Error: An unexpected error occurred while accessing or saving your "
                         "data. Please wait a few minutes and try again. If the problem persists, contact "
                         "customer support.", status=500, fault_type="SystemFault")
        return _json(500, error.body(self.sb.store.now_iso(millis=True)))

    def route(self, environ: dict, method: str, path: str, params: dict[str, str]) -> Response:
        sb = self.sb
        if path.rstrip("/") in ("/.well-known/openid_configuration", "/.well-known/openid_sandbox_configuration"):
            return _json(200, sb.discovery_document())
        if path == "/connect/oauth2" and method == "GET":
            return sb.auth.authorize(params)
        if path == "/oauth2/v1/tokens/bearer" and method == "POST":
            form = {k: v[-1] for k, v in parse_qs(_body(environ).decode("utf-8", "replace")).items()}
            hard = environ.get("HTTP_X_INCLUDE_REFRESH_TOKEN_HARD_EXPIRES_IN", "").lower() == "true"
            return sb.auth.token(environ.get("HTTP_AUTHORIZATION", ""), form, hard)
        if path == "/oauth2/v1/tokens/revoke" and method == "POST":
            raw = _body(environ).decode("utf-8", "replace")
            try:
                token = json.loads(raw).get("token", "")
            except (ValueError, AttributeError):
                token = {k: v[-1] for k, v in parse_qs(raw).items()}.get("token", "")
            return sb.auth.revoke(environ.get("HTTP_AUTHORIZATION", ""), token)
        if path == "/oauth2/v1/keys":
            return _json(200, {"keys": []})
        if path == "/v1/openid_connect/userinfo":
            if sb.auth.check(environ.get("HTTP_AUTHORIZATION", "")):
                return _json(401, {"error": "invalid_token"})
            return _json(200, {"sub": sb.auth.realm_of(environ.get("HTTP_AUTHORIZATION", "")),
                               "email": "sandbox@example.com", "emailVerified": True})
        if path.startswith("/v3/company/"):
            return self.api(environ, method, path, params)
        return _text(404, "Not Found")

    # -- company API -----------------------------------------------------------

    def api(self, environ: dict, method: str, path: str, params: dict[str, str]) -> Response:
        sb = self.sb
        problem = sb.auth.check(environ.get("HTTP_AUTHORIZATION", ""))
        if problem:
            return _gateway_fault(401, "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                                  "3200", problem, "AUTHENTICATION")
        parts = [p for p in path.split("/") if p][2:]  # drop "v3", "company"
        store = sb.company(parts[0]) if parts else None
        if store is None or parts[0] != sb.auth.realm_of(environ.get("HTTP_AUTHORIZATION", "")):
            return _gateway_fault(403, "message=AuthorizationFailed; errorCode=003100; statusCode=403",
                                  "3100", None, "SERVICE")
        now = store.now_iso
        try:
            resource = parts[1].lower() if len(parts) > 1 else ""
            if resource == "query":
                text = params.get("query")
                if text is None and method == "POST":
                    text = _body(environ).decode("utf-8", "replace")
                result = store.query(text or "")
                return _json(200, {**result, "time": now(millis=True)})
            if resource == "batch" and len(parts) == 2:
                if method != "POST":
                    raise unsupported(f"{method} on {path}")
                return self.batch(store, _body(environ), params.get("requestid"))
            if resource == "cdc" and len(parts) == 2 and method == "GET":
                lower = {k.lower(): v for k, v in params.items()}
                result = store.cdc(lower.get("entities"), lower.get("changedsince"))
                return _json(200, {**result, "time": now(millis=True)})
            if resource == "exchangerate" and method == "GET":
                rate = store.exchange_rate(params.get("sourcecurrencycode", ""), params.get("asofdate"))
                return _json(200, {"ExchangeRate": rate, "time": now(millis=True)})
            name = PATH_ENTITIES.get(resource)
            if name is None or len(parts) > 3:
                raise unsupported(f"Could not find resource for relative : {path} of full path: "
                                  f"{sb.base_url}{path}")
            if method == "GET":
                entity = store.read(name, parts[2] if len(parts) > 2 else "")
                return _json(200, {name: entity, "time": now(millis=True)})
            if method != "POST" or len(parts) > 2:
                raise unsupported(f"{method} on {path}")
            raw = _body(environ)
            include = params.get("include", "").split(",")
            return self.write(store, name, raw, params.get("operation"), include, params.get("requestid"))
        except QBOFault as fault:
            return _json(fault.status, fault.body(now(millis=True)))

    def write(self, store: Store, name: str, raw: bytes, operation: str | None, include: list[str],
              request_id: str | None) -> Response:

        def run() -> tuple[int, bytes]:
            try:
                body = loads(raw or b"{}")
            except ValueError:
                fault = QBOFault("2010", "Request has invalid or unsupported property",
                                 "Request body is not valid JSON")
                return fault.status, dumps(fault.body(store.now_iso(millis=True)))
            try:
                entity = store.write(name, body, operation, include)
                return 200, dumps({name: entity, "time": store.now_iso(millis=True)})
            except QBOFault as fault:
                return fault.status, dumps(fault.body(store.now_iso(millis=True)))

        status, body = store.idempotent(request_id, run)
        return status, [("Content-Type", JSON)], body

    def batch(self, store: Store, raw: bytes, request_id: str | None) -> Response:
        """``POST /batch``; a repeated ``requestid`` replays the whole original response."""

        def run() -> tuple[int, bytes]:
            try:
                return 200, dumps(run_batch(store, loads(raw or b"{}")))
            except ValueError:
                fault = QBOFault("2010", "Request has invalid or unsupported property",
                                 "Request body is not valid JSON")
            except QBOFault as error:
                fault = error
            return fault.status, dumps(fault.body(store.now_iso(millis=True)))

        status, body = store.idempotent(request_id, run)
        return status, [("Content-Type", JSON)], body

    # -- control endpoints (out-of-process tests and demos) --------------------

    def control(self, environ: dict, method: str, path: str) -> Response:
        sb = self.sb
        action = path[len("/_sandbox/"):].strip("/")
        if action == "webhooks" or action.startswith("webhooks/"):
            return self.control_webhooks(environ, method, action[len("webhooks"):].strip("/"))
        reads = {"state": sb.state, "limits": lambda: {"limits": sb.limits.state()}, "settings": sb.settings,
                 "latency": sb.latency.state}
        if method == "GET" and action in reads:
            return _json(200, reads[action]())
        if method != "POST":
            return _json(405, {"error": "method not allowed"})
        posts = {"reset": self.control_reset, "forget-request-ids": self.control_forget_request_ids,
                 "tokens": lambda environ: _json(200, sb.issue_tokens()), "limits": self.control_limits,
                 "latency": self.control_latency, "settings": self.control_settings,
                 "as-user": self.control_as_user, "faults": self.control_faults}
        if action in posts:
            return posts[action](environ)
        return _json(404, {"error": f"unknown control endpoint {action!r}"})

    def control_reset(self, environ: dict) -> Response:
        self.sb.reset()
        return _json(200, {"ok": True})

    def control_forget_request_ids(self, environ: dict) -> Response:
        self.sb.store.forget_request_ids()
        return _json(200, {"ok": True})

    def control_faults(self, environ: dict) -> Response:
        """``{"clear": true}``, ``{"probability", "kinds", "seed"}``, or ``{"kind", "count", "match",
        "retry_after"}``; ``timeout_seconds`` with any of them (or alone)."""
        faults = self.sb.faults
        try:
            spec = json.loads(_body(environ) or b"{}")
            if spec.get("clear"):
                faults.clear()
            elif "probability" in spec:
                faults.rate(float(spec["probability"]), spec.get("kinds"), spec.get("seed"))
            elif "kind" in spec or "timeout_seconds" not in spec:
                faults.add(spec["kind"], spec.get("count", 1), spec.get("match"), spec.get("retry_after"))
            if "timeout_seconds" in spec:
                faults.timeout_seconds = float(spec["timeout_seconds"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return _json(400, {"error": str(exc)})
        return _json(200, {"pending": faults.pending})

    def control_limits(self, environ: dict) -> Response:
        """``{"off": true}``, ``{"restore": true}`` or ``{"name", "limit", "window"}`` (limit null: rule off)."""
        limits = self.sb.limits
        try:
            spec = json.loads(_body(environ) or b"{}")
            if spec.get("off"):
                limits.off()
            elif spec.get("restore"):
                limits.restore()
            elif "name" in spec:
                window = spec.get("window")
                limits.set(spec["name"], _limit(spec["limit"]), None if window is None else float(window))
            elif spec:
                raise ValueError(f"expected off, restore or name/limit/window, got {sorted(spec)}")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return _json(400, {"error": str(exc)})
        return _json(200, {"limits": limits.state()})

    def control_latency(self, environ: dict) -> Response:
        """A latency spec (``{"all": 0.15, "batch": [0.4, 0.1]}``, see ``connectors.sandboxkit.latency``); it
        replaces the whole setting."""
        try:
            return _json(200, self.sb.latency.set(loads(_body(environ) or b"{}")))
        except ValueError as exc:
            return _json(400, {"error": str(exc)})

    def control_settings(self, environ: dict) -> Response:
        """``{"closing_date": "YYYY-MM-DD" | null}``."""
        try:
            spec = json.loads(_body(environ) or b"{}")
            if "closing_date" in spec:
                self.sb.store.closing_date = spec["closing_date"]
        except (ValueError, TypeError, AttributeError) as exc:
            return _json(400, {"error": str(exc)})
        return _json(200, self.sb.settings())

    def control_webhooks(self, environ: dict, method: str, action: str) -> Response:
        """``GET/POST /_sandbox/webhooks[/flush|redeliver|send-raw|clear|reset]``; see ``WebhookEmitter.control``."""
        try:
            if method == "GET":
                spec = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            else:
                spec = json.loads(_body(environ) or b"{}")
            if not isinstance(spec, dict):
                raise ValueError("expected a JSON object")
        except ValueError as exc:
            return _json(400, {"error": str(exc)})
        status, body = self.sb.webhooks.control(method, action, spec)
        return _json(status, body)

    def control_as_user(self, environ: dict) -> Response:
        """``{"action": "record_payment", "invoice_id": "12", "amount": "40.00"}``: a change made in QBO's UI."""
        store = self.sb.store
        try:
            spec = loads(_body(environ) or b"{}")
            action = spec.pop("action")
            if action not in AS_USER_ACTIONS:
                raise ValueError(f"unknown action {action!r}; expected one of {AS_USER_ACTIONS}")
            if isinstance(spec.get("line"), Decimal):
                spec["line"] = int(spec["line"])  # an index; a line Id comes as a string
            result = getattr(store, f"{action}_as_user")(**spec)
        except QBOFault as fault:
            return _json(fault.status, fault.body(store.now_iso(millis=True)))
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            return _json(400, {"error": str(exc)})
        return _json(200, {"result": result})


def _limit(value: Any) -> int | None:
    """A limit from JSON: null (rule off) or a whole number >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"limit must be null or a whole number >= 0, not {value!r}")
    return value


def _body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


# ---------------------------------------------------------------------------
# Facade


class QBOSandbox(LoopbackService):
    """A local QuickBooks Online (Accounting API v3 + OAuth 2.0) on loopback HTTP."""

    platform, title, default_port = "qbo", "QuickBooks Online", 8765
    ready_path = "/.well-known/openid_configuration"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, client_id: str = "sandbox-client",  # nosec B107
                 client_secret: str = "sandbox-secret", realm_id: str = "9130000000000001",
                 access_token_ttl: int = 3600, refresh_token_ttl: int = REFRESH_TOKEN_TTL,
                 refresh_grace_seconds: float = 0, clock: Callable[[], float] | None = None,
                 timeout_seconds: float = 5.0, verbose: bool = False, limits: bool = True,
                 latency: Any = None, company_per_consent: bool = False) -> None:
        self.host, self.port = host, port
        self.client_id, self.client_secret, self.realm_id = client_id, client_secret, realm_id
        self.clock = clock or time.time
        self.verbose = verbose
        self.store = Store(realm_id, self.clock)
        #: Every company by realm id: the sandbox's own (``store``), and with ``company_per_consent`` one more
        #: for each consent after the first, as if the user picked another company on Intuit's consent screen
        #: (a host with many customer companies, each connected to its own; ``bench.tenants``). The others
        #: send no webhooks, and the control endpoints act on the sandbox's own company.
        self.companies: dict[str, Store] = {realm_id: self.store}
        self.company_per_consent = company_per_consent
        self._consents = 0
        self._companies_lock = threading.Lock()
        self.auth = TokenAuthority(client_id, client_secret, realm_id, self.clock, access_token_ttl,
                                   refresh_token_ttl, refresh_grace_seconds, consent_realm=self._consent_realm)
        self.faults = FaultInjector(timeout_seconds)
        #: Outgoing webhooks (``sb.webhooks.configure(url, verifier_token, payload="classic")``); see docs.
        self.webhooks = QBOWebhooks(realm_id, client_id)
        self.store.subscribe(self.webhooks.record)
        #: QBO's throttles (QBO_LIMITS). ``limits.off()`` for benchmarks, ``limits.set(name, n, window)`` to scale.
        self.limits = SandboxLimiter(self.clock, **QBO_LIMITS)
        if not limits:
            self.limits.off()
        #: Simulated network latency per endpoint kind (a spec or a ``Latency``); it survives ``reset()``.
        self.latency = latency if isinstance(latency, Latency) else Latency(latency)
        #: (rule, method, path) of every request the limits refused with 429.
        self.throttled: list[tuple[str, str, str]] = []
        self.requests_log: list[tuple[str, str, dict]] = []
        self._log_lock = threading.Lock()

    # -- URLs -------------------------------------------------------------------

    @property
    def company_id(self) -> str:
        return self.realm_id

    def company(self, realm_id: str) -> Store | None:
        """The company with this realm id, if there is one."""
        return self.companies.get(realm_id)

    def _consent_realm(self) -> str:
        """The company a consent picks: the sandbox's own, or with ``company_per_consent`` a new one each time
        after the first (realm ids counting up from the sandbox's own)."""
        with self._companies_lock:
            self._consents += 1
            if not self.company_per_consent or self._consents == 1:
                return self.realm_id
            realm = str(int(self.realm_id) + len(self.companies))
            self.companies[realm] = Store(realm, self.clock)
            return realm

    def act_as_user(self, action: str, **kwargs) -> dict:
        """What a bookkeeper does in QuickBooks (``record_payment``, ``void_invoice``, ...): the store's
        ``<action>_as_user``."""
        return getattr(self.store, f"{action}_as_user")(**kwargs)

    def forget_idempotency_keys(self) -> None:
        self.store.forget_request_ids()

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/v3"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth2/v1/tokens/bearer"

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/connect/oauth2"

    @property
    def revoke_url(self) -> str:
        return f"{self.base_url}/oauth2/v1/tokens/revoke"

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid_configuration"

    @property
    def token_calls(self) -> int:
        return self.auth.token_calls

    def discovery_document(self) -> dict:
        base = self.base_url
        return {"issuer": base, "authorization_endpoint": self.authorize_url, "token_endpoint": self.token_url,
                "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo", "revocation_endpoint": self.revoke_url,
                "jwks_uri": f"{base}/oauth2/v1/keys", "response_types_supported": ["code"],
                "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile", "address", "phone",
                                     "com.intuit.quickbooks.accounting", "com.intuit.quickbooks.payment"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"]}

    # -- lifecycle ------------------------------------------------------------------

    thread_name = "qbo-sandbox"

    def app(self) -> SandboxApp:
        return SandboxApp(self)

    def on_stop(self) -> None:
        self.webhooks.close()

    # -- helpers --------------------------------------------------------------------

    def reset(self) -> None:
        """Wipe company data and settings, requestid memory, scheduled faults, the request log and limit windows.

        OAuth grants and tokens (and ``token_calls``) survive, so a connected
        client keeps working against the now-empty company. Limit *rules* survive
        too: a benchmark that switched limits off keeps them off.
        """
        self.store.reset()
        with self._companies_lock:  # the other companies go; their grants stay, and are refused (403)
            self.companies = {self.realm_id: self.store}
            self._consents = 0
        self.faults.clear()
        self.limits.clear()
        self.webhooks.reset()
        with self._log_lock:
            self.requests_log.clear()
            self.throttled.clear()

    def latency_kind(self, method: str, path: str) -> str:
        """``auth`` (consent, token, revocation), ``batch`` (``/batch``), ``read`` (GET, and a query sent as POST),
        ``write``."""
        return kind_of(method, path, auth_paths=("/connect/oauth2", "/oauth2/v1/tokens/bearer",
                                                 "/oauth2/v1/tokens/revoke"), read_paths=("/query",))

    def _note_throttle(self, exceeded: Exceeded, method: str, path: str) -> None:
        with self._log_lock:
            self.throttled.append((exceeded.rule, method, path))

    def settings(self) -> dict:
        closing = self.store.closing_date
        return {"closing_date": closing.isoformat() if closing else None}

    def issue_tokens(self) -> dict:
        """A token-endpoint-shaped response for a fresh grant (skips the consent redirect)."""
        return self.auth.issue()

    def state(self) -> dict:
        return {"realm_id": self.realm_id, "companies": len(self.companies), "counts": self.store.counts(),
                "deleted": self.store.deleted_counts(),
                "token_calls": self.token_calls, "api_calls": len(self.requests_log),
                "faults_pending": self.faults.pending, "faults_fired": len(self.faults.fired),
                "limits": self.limits.state(), "throttled": len(self.throttled), "settings": self.settings(),
                "latency": self.latency.state(),
                "webhooks": {"enabled": self.webhooks.enabled, "pending": self.webhooks.pending,
                             "deliveries": len(self.webhooks.deliveries)}}
