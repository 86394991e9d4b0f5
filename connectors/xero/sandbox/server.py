"""HTTP layer of the Xero sandbox: a standard-library WSGI app on real loopback, and the ``XeroSandbox`` facade.

Routes: Xero's identity service (``/connect/authorize``, ``/connect/token``, ``/connect/revocation``), the
connections endpoint (``/connections``), the Accounting API (``/api.xro/2.0/...``) and the sandbox's own control
endpoints (``/_sandbox/...``). Per request, in order: fault injection, bearer token (401), ``xero-tenant-id``
(403), rate and concurrency limits (429), then the API itself; writes go through the ``Idempotency-Key`` memory
and the OpenAPI body validation. No Django import here: ``python -m connectors.xero.sandbox`` runs it alone.
"""
from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from ...sandboxkit.faults import POST_KINDS, Fault, FaultInjector
from ...sandboxkit.http import Drop, LoopbackService, SandboxWSGI
from ...sandboxkit.latency import Latency, kind_of
from ...sandboxkit.limits import Exceeded, Limiter
from . import schema
from .identity import ACCESS_TOKEN_TTL, DEFAULT_SCOPE, REFRESH_GRACE_SECONDS, Identity
from .store import COLLECTIONS, WRITABLE, Store
from .webhooks import XeroWebhooks
from .wire import (
    JSON_TYPE,
    Response,
    XeroError,
    dumps,
    epoch_ms,
    json_response,
    loads,
    ms_date,
    new_id,
    not_found,
    parse_timestamp,
    post_data_invalid,
    problem,
    strip_nulls,
    text_response,
)

API_PREFIX = "/api.xro/2.0"
DEFAULT_TENANT_ID = "6c1b2f4e-8d3a-4f5b-9e7c-2a1d0b9c8e7f"
IDEMPOTENCY_TTL = 360.0  # Xero keeps a key for about 6 minutes (developer docs, idempotent requests)
MAX_IDEMPOTENCY_KEY = 128
MAX_REQUEST_BYTES = 10 * 1024 * 1024
#: Xero's published limits: per tenant 60/minute, 5,000/day, 5 in flight; per app 10,000/minute.
LIMITS = {"minute": (60, 60.0), "day": (5000, 86400.0), "concurrent": (5, 0.0), "appminute": (10000, 60.0)}
LIMIT_HEADERS = {"day": "X-DayLimit-Remaining", "minute": "X-MinLimit-Remaining",
                 "appminute": "X-AppMinLimit-Remaining"}
DEFAULT_RETRY_AFTER = {"minute": "60", "appminute": "60", "day": "86400"}
#: Lower-case path segment -> collection name
RESOURCES = {name.lower(): name for name in COLLECTIONS}
SINGULAR = {"Invoices": "Invoice", "Contacts": "Contact", "Items": "Item", "Payments": "Payment",
            "CreditNotes": "CreditNote", "Allocations": "Allocation", "BankTransactions": "BankTransaction",
            "ManualJournals": "ManualJournal"}
#: ``POST /_sandbox/as-user`` actions: ``{"action": "record_payment", ...}`` calls ``store.record_payment_as_user``.
AS_USER_ACTIONS = ("record_payment", "edit_invoice_line", "edit", "void_invoice", "delete_invoice", "delete_payment",
                   "settlement_deposit", "reconcile_payments", "create_customer", "edit_customer", "create_item",
                   "edit_item")
NO_DATA = ("No data has been processed for this endpoint. This endpoint is expecting {} data to be specifed in "
           "the request body.")


class XeroFaults(FaultInjector):
    """The shared fault injector, plus which limit a ``rate_limit`` fault reports (``problem``)."""

    def add(self, kind: str, count: int | None = 1, match: str | None = None,
            retry_after: object | None = None, problem: str | None = None) -> Fault:
        if problem is not None and problem not in LIMITS:
            raise ValueError(f"unknown rate-limit problem {problem!r}; expected one of {sorted(LIMITS)}")
        fault = super().add(kind, count, match, retry_after)
        fault.problem = problem or "minute"
        return fault


class XeroLimiter(Limiter):
    """The shared limiter, plus the "remaining" counts Xero reports on every response."""

    def remaining(self, name: str, scope: str) -> int | None:
        with self._lock:
            limit, window = self._rules[name]
            if limit is None:
                return None
            return max(0, limit - len(self._window(name, scope, self.clock(), window)))


def _body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _form(environ: dict) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(_body(environ).decode("utf-8", "replace")).items()}


class SandboxApp(SandboxWSGI):
    """Routes one request; see the module docstring for the order of checks."""

    def trace_headers(self) -> list[tuple[str, str]]:
        return [("Xero-Correlation-Id", new_id())]

    def handle(self, environ: dict, method: str, path: str, params: dict[str, str]) -> Response:
        if path.startswith("/_sandbox/"):
            return self.control(environ, method, path)
        lower = path.lower()
        if lower.startswith((API_PREFIX, "/connections")):
            with self.sb._log_lock:
                self.sb.requests_log.append((method, path, dict(params)))
        fault = self.sb.faults.pick(method, path)
        if fault is not None and fault.kind not in POST_KINDS:
            return self.pre_fault(fault)
        if lower.startswith(API_PREFIX + "/"):
            return self.api(environ, method, path[len(API_PREFIX) + 1:], params, fault)
        self.sb.latency.wait(self.sb.latency_kind(method, lower))
        response = self.route(environ, method, lower)
        self.finish(fault)
        return response

    @staticmethod
    def pre_fault(fault: Fault) -> Response:
        if fault.kind == "reset":
            raise Drop()
        if fault.kind == "rate_limit":
            problem_name = getattr(fault, "problem", "minute")
            headers = [("X-Rate-Limit-Problem", problem_name)]
            retry_after = fault.retry_after or DEFAULT_RETRY_AFTER.get(problem_name)
            if retry_after is not None:
                headers.append(("Retry-After", str(retry_after)))
            return 429, headers, b""
        if fault.kind == "http_503":
            return text_response(503, "<html><head><title>503 Service Unavailable</title></head><body><h1>Service "
                                      "Unavailable</h1></body></html>")
        return problem(500, "Internal Server Error", "An error occurred in Xero. Check the API Status page for "
                                                     "current service status.")

    def finish(self, fault: Fault | None) -> None:
        """Faults that strike after the work is done: the response is lost, or late."""
        if fault is not None and fault.kind == "lost_response":
            raise Drop()
        if fault is not None and fault.kind == "timeout":
            time.sleep(self.sb.faults.timeout_seconds)

    # -- identity and connections -------------------------------------------------------------------------------

    def route(self, environ: dict, method: str, path: str) -> Response:
        auth = self.sb.identity
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if path == "/connect/authorize" and method == "GET":
            return auth.authorize({k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()})
        if path == "/connect/token" and method == "POST":
            return auth.token(authorization, _form(environ))
        if path == "/connect/revocation" and method == "POST":
            return auth.revoke(authorization, _form(environ))
        if path.rstrip("/") == "/connections" or path.startswith("/connections/"):
            return self.connections(method, path, authorization)
        return not_found()

    def connections(self, method: str, path: str, authorization: str) -> Response:
        detail = self.sb.identity.check(authorization)
        if detail:
            return self.unauthorized(detail)
        exceeded = self.sb.limits.hit(("appminute", self.sb.client_id))
        headers = self.limit_headers(None)
        if exceeded is not None:
            return self.too_many(exceeded, headers)
        parts = [p for p in path.split("/") if p]
        if method == "GET" and len(parts) == 1:
            status, extra, body = json_response(200, self.sb.identity.connection_list())
            return status, extra + headers, body
        if method == "DELETE" and len(parts) == 2:
            return (204, headers, b"") if self.sb.identity.disconnect(parts[1]) else not_found()
        return text_response(405, f"The requested resource does not support http method '{method}'.")

    @staticmethod
    def unauthorized(detail: str) -> Response:
        status, headers, body = problem(401, "Unauthorized", detail)
        challenge = 'Bearer error="invalid_token"' if detail != "AuthenticationUnsuccessful" else "Bearer"
        return status, headers + [("WWW-Authenticate", challenge)], body

    # -- limits ------------------------------------------------------------------------------------------------

    def limit_headers(self, tenant: str | None) -> list[tuple[str, str]]:
        headers = []
        for name, header in LIMIT_HEADERS.items():
            if tenant is None and name != "appminute":
                continue  # tenantless calls (/connections) report only the app limit
            left = self.sb.limits.remaining(name, self.sb.client_id if name == "appminute" else tenant)
            if left is not None:
                headers.append((header, str(left)))
        return headers

    @staticmethod
    def too_many(exceeded: Exceeded, headers: list[tuple[str, str]]) -> Response:
        """A 429: ``X-Rate-Limit-Problem`` names the limit; ``Retry-After`` for the window limits."""
        extra = [("X-Rate-Limit-Problem", exceeded.rule)]
        if exceeded.rule != "concurrent":
            extra.append(("Retry-After", str(exceeded.retry_after)))
        return 429, extra + headers, b""

    # -- accounting API ----------------------------------------------------------------------------------------

    def api(self, environ: dict, method: str, rest: str, params: dict[str, str], fault: Fault | None) -> Response:
        sb = self.sb
        kind = self.latency_kind(environ, method)
        detail = sb.identity.check(environ.get("HTTP_AUTHORIZATION", ""))
        if detail:
            sb.latency.wait(kind)
            self.finish(fault)
            return self.unauthorized(detail)
        tenant = environ.get("HTTP_XERO_TENANT_ID", "").strip().lower()
        store = sb.stores.get(tenant)
        if store is None or not sb.identity.connected(tenant):
            sb.latency.wait(kind)
            self.finish(fault)
            return problem(403, "Forbidden", "AuthenticationUnsuccessful")
        with sb.limits.concurrent("concurrent", tenant) as busy:
            if busy is not None:
                return self.too_many(busy, self.limit_headers(tenant))
            exceeded = sb.limits.hit(("day", tenant), ("minute", tenant), ("appminute", sb.client_id))
            headers = self.limit_headers(tenant)
            if exceeded is not None:
                return self.too_many(exceeded, headers)
            # In flight (the concurrency slot stays taken) but holding no lock: others are served meanwhile.
            sb.latency.wait(kind)
            try:
                status, extra, body = self.dispatch(environ, method, rest, params, store)
            except XeroError as error:
                status, extra, body = error.response()
            self.finish(fault)
            return status, extra + headers, body

    @staticmethod
    def latency_kind(environ: dict, method: str) -> str:
        """``read`` for GET; a write carrying more than one element (Xero batches by sending many in one
        ``PUT`` / ``POST``) is a ``batch``, one element a ``write``. The body is read here and put back."""
        if method in ("GET", "HEAD"):
            return "read"
        raw = _body(environ)
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))
        try:
            body = loads(raw) if raw.strip() else {}
        except ValueError:
            return "write"
        many = isinstance(body, dict) and any(isinstance(v, list) and len(v) > 1 for v in body.values())
        return "batch" if many else "write"

    def dispatch(self, environ: dict, method: str, rest: str, params: dict[str, str], store: Store) -> Response:
        parts = [p for p in rest.split("/") if p]
        if not parts:
            return not_found()
        head = parts[0].lower()
        if head == "organisation" and len(parts) == 1 and method == "GET":
            return json_response(200, self.envelope("Organisations", [store.organisation()]))
        collection = RESOURCES.get(head)
        if collection is None or len(parts) > 4:
            return not_found()
        if method == "GET" and len(parts) <= 2:
            return self.read(environ, collection, parts, params, store)
        if collection == "CreditNotes" and len(parts) >= 3 and parts[2].lower() == "allocations":
            if method == "PUT" and len(parts) == 3:
                if store.get("CreditNotes", parts[1]) is None:
                    return not_found()
                return self.write(environ, method, "Allocations", params, store, parts[1])
            if method == "DELETE" and len(parts) == 4:
                alloc = store.delete_allocation(parts[1], parts[3])
                return json_response(200, alloc) if alloc is not None else not_found()
        if collection == "Items" and method == "DELETE" and len(parts) == 2:
            return (204, [], b"") if store.delete_item(parts[1]) else not_found()
        if collection in WRITABLE and len(parts) <= 2 and (method == "POST" or (method == "PUT" and len(parts) == 1)):
            if len(parts) == 2 and store.get(collection, parts[1]) is None:
                return not_found()
            return self.write(environ, method, collection, params, store, parts[1] if len(parts) == 2 else None)
        if len(parts) > 2:
            return not_found()
        return text_response(405, f"The requested resource does not support http method '{method}'.")

    def envelope(self, collection: str, rows: list, pagination: dict | None = None) -> dict:
        body: dict[str, Any] = {"Id": new_id(), "Status": "OK", "ProviderName": self.sb.app_name,
                                "DateTimeUTC": ms_date(epoch_ms(self.sb.clock()), offset=False)}
        if pagination is not None:
            body["pagination"] = pagination
        body[collection] = rows
        return body

    def read(self, environ: dict, collection: str, parts: list[str], params: dict[str, str],
             store: Store) -> Response:
        unitdp = 4 if params.get("unitdp") == "4" else 2
        if len(parts) == 2:
            row = store.get(collection, parts[1], unitdp)
            return json_response(200, self.envelope(collection, [row])) if row is not None else not_found()
        since = parse_timestamp(environ.get("HTTP_IF_MODIFIED_SINCE", ""))
        rows, pagination = store.list(collection, params, since)
        return json_response(200, self.envelope(collection, rows, pagination))

    def write(self, environ: dict, method: str, collection: str, params: dict[str, str], store: Store,
              path_id: str | None) -> Response:
        raw = _body(environ)
        if len(raw) > self.sb.max_request_bytes:
            return text_response(413, "Request Entity Too Large")
        key = environ.get("HTTP_IDEMPOTENCY_KEY", "").strip() or None
        if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
            raise XeroError(10, "ValidationException",
                            f"The Idempotency-Key header must be {MAX_IDEMPOTENCY_KEY} characters or fewer.", [])
        query = sorted((k, v) for k, v in params.items())
        fingerprint = hashlib.sha256(dumps([method, collection, path_id, query]) + b"\n" + raw).hexdigest()

        def run() -> tuple[int, bytes]:
            try:
                status, body = 200, self.apply(method, collection, params, store, path_id, raw)
            except XeroError as error:
                status, body = error.status, error.body()
            return status, dumps(body)

        status, body = store.idempotent(key, fingerprint, self.sb.idempotency_ttl, run)
        return status, [("Content-Type", JSON_TYPE)], body

    def apply(self, method: str, collection: str, params: dict[str, str], store: Store, path_id: str | None,
              raw: bytes) -> dict:
        try:
            body = strip_nulls(loads(raw or b"{}"))
        except json.JSONDecodeError as exc:
            raise post_data_invalid(f"{exc.msg}. Path '', line {exc.lineno}, position {exc.colno}.") from None
        except ValueError as exc:  # not UTF-8
            raise post_data_invalid(f"{exc}. Path ''.") from None
        if not isinstance(body, dict):
            raise post_data_invalid("The request body must be a JSON object. Path ''.")
        if collection in body:
            schema_name, elements = collection, body[collection]
        elif collection == "Payments" and path_id is not None:
            schema_name, elements = "PaymentDelete", [body]
        else:
            schema_name, elements = SINGULAR[collection], ([body] if body else [])
        error = schema.check(schema_name, body, self.sb.spec_path)
        if error is not None:
            raise error
        if not isinstance(elements, list) or not elements:
            raise XeroError(10, "ValidationException", NO_DATA.format(SINGULAR[collection]), [])
        summarize = str(params.get("summarizeErrors", "true")).lower() != "false"
        unitdp = 4 if params.get("unitdp") == "4" else 2
        if collection == "Allocations":
            results = store.allocate(path_id, elements, summarize)
        else:
            results = store.write(collection, elements, method=method, summarize=summarize, unitdp=unitdp,
                                  path_id=path_id)
        return self.envelope(collection, results)

    # -- control endpoints (out-of-process tests and demos) ----------------------------------------------------

    def control(self, environ: dict, method: str, path: str) -> Response:
        sb = self.sb
        action = path[len("/_sandbox/"):].strip("/")
        if action == "webhooks" or action.startswith("webhooks/"):
            return self.control_webhooks(environ, method, action[len("webhooks"):].strip("/"))
        if action == "state" and method == "GET":
            return json_response(200, sb.state())
        if action == "latency" and method == "GET":
            return json_response(200, sb.latency.state())
        if method != "POST":
            return json_response(405, {"error": "method not allowed"})
        try:
            spec = json.loads(_body(environ) or b"{}")
            if action == "reset":
                sb.reset()
            elif action == "forget-idempotency-keys":
                sb.forget_idempotency_keys()
            elif action == "tokens":
                return json_response(200, sb.issue_tokens(spec.get("scope", DEFAULT_SCOPE)))
            elif action == "as-user":
                return self.control_as_user(spec)
            elif action == "latency":  # a latency spec; it replaces the whole setting
                return json_response(200, sb.latency.set(spec))
            elif action == "faults":
                return self.control_faults(spec)
            elif action == "limits":
                return self.control_limits(spec)
            else:
                return json_response(404, {"error": f"unknown control endpoint {action!r}"})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return json_response(400, {"error": str(exc)})
        return json_response(200, {"ok": True})

    def control_faults(self, spec: dict) -> Response:
        """``{"clear": true}``, ``{"probability", "kinds", "seed"}``, or ``{"kind", "count", "match",
        "retry_after", "problem"}``; ``timeout_seconds`` with any of them (or alone)."""
        faults = self.sb.faults
        if spec.get("clear"):
            faults.clear()
        elif "probability" in spec:
            faults.rate(float(spec["probability"]), spec.get("kinds"), spec.get("seed"))
        elif "kind" in spec or "timeout_seconds" not in spec:
            faults.add(spec["kind"], spec.get("count", 1), spec.get("match"), spec.get("retry_after"),
                       spec.get("problem"))
        if "timeout_seconds" in spec:
            faults.timeout_seconds = float(spec["timeout_seconds"])
        return json_response(200, {"pending": faults.pending})

    def control_limits(self, spec: dict) -> Response:
        """``{"off": true}``, ``{"restore": true}``, or ``{"name", "limit", "window"}``."""
        limits = self.sb.limits
        if spec.get("off"):
            limits.off()
        elif spec.get("restore"):
            limits.restore()
        else:
            limits.set(spec["name"], spec.get("limit"), spec.get("window"))
        return json_response(200, {"rules": limits.rules})

    def control_webhooks(self, environ: dict, method: str, action: str) -> Response:
        """``GET/POST /_sandbox/webhooks[/flush|redeliver|send-raw|clear|reset|intent-to-receive]``."""
        try:
            if method == "GET":
                spec = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            else:
                spec = json.loads(_body(environ) or b"{}")
            if not isinstance(spec, dict):
                raise ValueError("expected a JSON object")
        except ValueError as exc:
            return json_response(400, {"error": str(exc)})
        status, body = self.sb.webhooks.control(method, action, spec)
        return json_response(status, body)

    def control_as_user(self, spec: dict) -> Response:
        """``{"action": "record_payment", "invoice_id": "...", "amount": 40, "tenant_id": optional}``."""
        action = spec.pop("action", None)
        if action not in AS_USER_ACTIONS:
            return json_response(400, {"error": f"unknown action {action!r}; expected one of {AS_USER_ACTIONS}"})
        store = self.sb.stores.get(str(spec.pop("tenant_id", self.sb.tenant_id)).lower())
        if store is None:
            return json_response(404, {"error": "unknown tenant"})
        try:
            result = getattr(store, f"{action}_as_user")(**spec)
        except XeroError as error:
            return error.response()
        except LookupError as exc:
            return json_response(404, {"error": str(exc)})
        return json_response(200, {"result": result})


# ---------------------------------------------------------------------------
# Facade


class XeroSandbox(LoopbackService):
    """A local Xero (Accounting API 2.0 + identity service) on loopback HTTP."""

    platform, title, default_port, ready_path = "xero", "Xero", 8766, "/connections"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, client_id: str = "sandbox-client",  # nosec B107
                 client_secret: str = "sandbox-secret", tenant_id: str = DEFAULT_TENANT_ID,
                 tenant_name: str = "Sandbox Company (US)", clock: Callable[[], float] | None = None,
                 access_token_ttl: int = ACCESS_TOKEN_TTL, refresh_grace_seconds: float = REFRESH_GRACE_SECONDS,
                 idempotency_ttl: float | None = IDEMPOTENCY_TTL, timeout_seconds: float = 5.0,
                 app_name: str = "Sandbox App", max_request_bytes: int = MAX_REQUEST_BYTES,
                 spec_path: Path | None = None, verbose: bool = False, latency: Any = None) -> None:
        self.host, self.port = host, port
        self.client_id, self.client_secret = client_id, client_secret
        self.tenant_id = tenant_id.lower()
        self.clock = clock or time.time
        self.app_name = app_name
        self.idempotency_ttl = idempotency_ttl
        self.max_request_bytes = max_request_bytes
        self.spec_path = spec_path
        self.verbose = verbose
        #: Outgoing webhooks (``sb.webhooks.configure(url, webhook_key)``), for every organisation; see docs.
        self.webhooks = XeroWebhooks(lambda: self.api_base)
        self.stores: dict[str, Store] = {}
        self._new_store(self.tenant_id, tenant_name)
        self.identity = Identity(client_id, client_secret, self.clock, self._tenant_names, access_token_ttl,
                                 refresh_grace_seconds=refresh_grace_seconds)
        self.faults = XeroFaults(timeout_seconds)
        self.limits = XeroLimiter(self.clock, **LIMITS)
        #: Simulated network latency per endpoint kind (a spec or a ``Latency``); it survives ``reset()``.
        self.latency = latency if isinstance(latency, Latency) else Latency(latency)
        self.requests_log: list[tuple[str, str, dict]] = []
        self._log_lock = threading.Lock()
        schema.load(spec_path)  # parse and compile the OpenAPI document now, once per process

    # -- tenants and URLs -----------------------------------------------------------------------------------------

    @property
    def company_id(self) -> str:
        return self.tenant_id

    def act_as_user(self, action: str, **kwargs) -> dict:
        """What a bookkeeper does in Xero (``record_payment``, ``void_invoice``, ...) in the default organisation:
        the store's ``<action>_as_user``."""
        return getattr(self.store, f"{action}_as_user")(**kwargs)

    @property
    def store(self) -> Store:
        """The default tenant's organisation."""
        return self.stores[self.tenant_id]

    def add_tenant(self, name: str, tenant_id: str | None = None) -> str:
        """Another organisation; connected on the next authorisation (or :meth:`issue_tokens`)."""
        tenant_id = (tenant_id or new_id()).lower()
        self._new_store(tenant_id, name)
        return tenant_id

    def _new_store(self, tenant_id: str, name: str) -> Store:
        store = Store(tenant_id, name, self.clock)
        store.subscribe(self.webhooks.record)
        self.stores[tenant_id] = store
        return store

    def _tenant_names(self) -> dict[str, str]:
        return {tenant_id: store.name for tenant_id, store in self.stores.items()}

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def token_url(self) -> str:
        return self.base_url + "/connect/token"

    @property
    def authorize_url(self) -> str:
        return self.base_url + "/connect/authorize"

    @property
    def revoke_url(self) -> str:
        return self.base_url + "/connect/revocation"

    @property
    def connections_url(self) -> str:
        return self.base_url + "/connections"

    @property
    def token_calls(self) -> int:
        return self.identity.token_calls

    # -- lifecycle ------------------------------------------------------------------------------------------------

    thread_name = "xero-sandbox"

    def app(self) -> SandboxApp:
        return SandboxApp(self)

    def on_stop(self) -> None:
        self.webhooks.close()

    # -- helpers --------------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to one empty organisation (fresh reference data; tenants added later are dropped), no idempotency
        keys, no faults, an empty request log, Xero's limits with empty counters. Grants and tokens survive."""
        for tenant_id in [t for t in self.stores if t != self.tenant_id]:
            del self.stores[tenant_id]
            self.identity.disconnect_tenant(tenant_id)
        self.store.reset()
        self.faults.clear()
        self.limits.restore()
        self.webhooks.reset()
        with self._log_lock:
            self.requests_log.clear()

    def latency_kind(self, method: str, path: str) -> str:
        """Outside the Accounting API: ``auth`` for the identity service (consent, token, revocation), ``read`` /
        ``write`` for ``/connections`` (the API itself: ``SandboxApp.latency_kind``)."""
        return kind_of(method, path, auth_paths=("/connect/authorize", "/connect/token", "/connect/revocation"))

    def forget_idempotency_keys(self) -> None:
        for store in self.stores.values():
            store.forget_idempotency_keys()

    def issue_tokens(self, scope: str = DEFAULT_SCOPE) -> dict:
        """A token-endpoint-shaped response for a fresh grant (skips the consent redirect); connects all tenants."""
        return self.identity.issue(scope)

    def state(self) -> dict:
        return {"tenant_id": self.tenant_id, "tenants": self._tenant_names(),
                "counts": {tenant: store.counts() for tenant, store in self.stores.items()},
                "token_calls": self.token_calls, "api_calls": len(self.requests_log),
                "connections": self.identity.connection_list(), "faults_pending": self.faults.pending,
                "faults_fired": len(self.faults.fired), "limits": self.limits.rules, "latency": self.latency.state(),
                "validation": schema.status(self.spec_path),
                "webhooks": {"enabled": self.webhooks.enabled, "status": self.webhooks.status,
                             "pending": self.webhooks.pending, "deliveries": len(self.webhooks.deliveries)}}
