"""``PlatformSandbox``: the base class of every platform sandbox, and the one interface tests, the demo and the
``accounting_sync_sandbox`` command use.

A platform subclass declares ``platform``, ``title``, ``default_port``, ``ready_path`` and its paths, builds its
:class:`~connectors.sandboxkit.resources.ResourceStore`, :class:`~connectors.sandboxkit.oauth.AuthServer` and
:class:`~connectors.sandboxkit.limits.Limiter` in ``__init__`` (after ``super().__init__``), seeds its company in
:meth:`PlatformSandbox.seed`, answers its API in :meth:`PlatformSandbox.route`, and implements what a bookkeeper
does in its UI as ``<action>_as_user`` methods. The base does the rest once: the WSGI app with faults before and
after the platform's work, the ``/_sandbox/*`` control endpoints, a movable clock, settings and the command line.

The attributes a subclass must provide are ``store`` (or None), ``auth``, ``limits`` (or None) and ``company_id``;
everything else has a default. Adopting an older sandbox: call ``PlatformSandbox.__init__`` first (it sets
``host``, ``port``, ``verbose``, ``clock``, ``faults``, ``api_calls``), replace ``faults`` with the platform's
injector subclass if it has one, and either implement ``route`` or keep the sandbox's own WSGI app (``app()``) and
hand ``/_sandbox/*`` requests to ``control(Request(environ, method, path, params))``. A sandbox with several
companies overrides ``reset``, ``forget_idempotency_keys`` and ``state``. Standard library only: no Django here.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qs

from ..exactjson import dumps as exact_dumps
from .faults import POST_KINDS, Fault, FaultInjector
from .http import Drop, LoopbackService, SandboxWSGI
from .latency import ENV_VAR as LATENCY_ENV_VAR
from .latency import Latency, kind_of
from .limits import Limiter
from .oauth import AuthServer
from .resources import Conflict, Duplicate, NotFound, ResourceError, ResourceStore

Response = tuple[int, list, bytes]
JSON = "application/json;charset=UTF-8"


# -- exact-decimal JSON wire --------------------------------------------------------------------------------------
def dumps(body: Any) -> bytes:
    """JSON with every Decimal written digit for digit (``12.50`` stays ``12.50``); a float is refused."""
    return exact_dumps(body).encode("utf-8")


def loads(raw: bytes | str) -> Any:
    """JSON with every non-integer number read as ``Decimal`` (never float)."""
    return json.loads(raw, parse_float=Decimal)


def json_response(status: int, body: Any, headers: Sequence[tuple[str, str]] = ()) -> Response:
    return status, [("Content-Type", JSON), *headers], dumps(body)


def control_response(status: int, body: Any) -> Response:
    """A ``/_sandbox`` answer: settings and clock readings are floats (not money), written as exact decimals."""
    def plain(value: Any) -> Any:
        if isinstance(value, float):
            return Decimal(repr(value))
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value
    return json_response(status, plain(body))


def decimal_value(value: Any, default: Decimal | None = None) -> Decimal:
    """A number from a request body or query (Decimal, int or numeric text) as a finite ``Decimal``; ``default``
    for a missing one. A float, a bool or anything else is a ``ValueError``: money never passes through float."""
    if value in (None, "") and default is not None:
        return default
    if isinstance(value, (bool, float)):
        raise ValueError(f"not an exact number: {value!r}")
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def parse_timestamp(text: str) -> float:
    """Epoch seconds of an ISO 8601 time as platforms write them in query strings: ``2026-12-03T10:02:51+0000``,
    ``...-08:00``, ``...Z``, a ``+`` decoded to a space, or a bare date (midnight UTC). ``ValueError`` otherwise."""
    value = text.strip().replace(" ", "+").replace("Z", "+00:00")
    if "T" not in value:
        value += "T00:00:00"
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        when = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


class PlatformError(Exception):
    """A refusal in the platform's own shape (HTTP status, JSON body, headers). ``route`` raises it from any depth
    (a reference a body names, a broken business rule) and the kit answers it: no try/except per platform."""

    def __init__(self, status: int, body: Any, headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(body.get("message", body) if isinstance(body, dict) else body)
        self.status, self.body, self.headers = status, body, tuple(headers)

    def response(self) -> Response:
        return json_response(self.status, self.body, self.headers)


class SandboxClock:
    """Real (or injected) time plus an offset that ``/_sandbox/clock`` moves forward: tests expire tokens and
    empty rate windows without sleeping."""

    def __init__(self, base: Callable[[], float] | None = None) -> None:
        self.base = base or time.time
        self.offset = 0.0

    def __call__(self) -> float:
        return self.base() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += float(seconds)


class Request:
    """One API request as the platform's ``route`` sees it; the body is read once, on demand."""

    def __init__(self, environ: dict, method: str, path: str, params: dict[str, str]) -> None:
        self.environ, self.method, self.path, self.params = environ, method, path, params
        self._raw: bytes | None = None

    def header(self, name: str, default: str = "") -> str:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), default)

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            try:
                length = int(self.environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            self._raw = self.environ["wsgi.input"].read(length) if length > 0 else b""
        return self._raw

    def json(self) -> Any:
        """The body as JSON with Decimals; an empty body is ``{}``. Raises ``ValueError`` when it is not JSON."""
        return loads(self.raw) if self.raw.strip() else {}

    def json_object(self, error: Exception, form_field: str | None = None) -> dict:
        """The body as a JSON object, or raise ``error`` (the platform's "invalid body" refusal). With
        ``form_field``, a form body carrying the JSON in that field is accepted too (older APIs' ``JSONString``)."""
        try:
            form = self.form() if form_field and f"{form_field}=".encode() in self.raw else {}
            body = loads(form[form_field]) if form_field in form else self.json()
        except ValueError:
            raise error from None
        if not isinstance(body, dict):
            raise error
        return body

    def form(self) -> dict[str, str]:
        """An ``application/x-www-form-urlencoded`` body (token endpoints), last value of each field."""
        return {k: v[-1] for k, v in parse_qs(self.raw.decode("utf-8", "replace")).items()}


class PlatformApp(SandboxWSGI):
    """Per request: control endpoints, else a fault is picked; a "before" fault answers at once, otherwise the
    platform routes the request and an "after" fault (timeout, lost response) strikes once the work is done."""

    def trace_headers(self) -> list[tuple[str, str]]:
        return self.sb.trace_headers()

    def handle(self, environ: dict, method: str, path: str, params: dict[str, str]) -> Response:
        sb = self.sb
        request = Request(environ, method, path, params)
        if path.startswith("/_sandbox/") or path == "/_sandbox":
            return sb.control(request)
        with sb._counter_lock:
            sb.api_calls += 1
        fault = sb.faults.pick(method, path)
        if fault is not None and fault.kind not in POST_KINDS:
            if fault.kind == "reset":
                raise Drop()
            return sb.fault_response(fault)
        sb.latency.wait(sb.latency_kind(request))  # no lock held: other requests are served meanwhile
        response = sb.answer(request)
        if fault is not None and fault.kind == "lost_response":
            raise Drop()
        if fault is not None and fault.kind == "timeout":
            time.sleep(sb.faults.timeout_seconds)
        return response


class PlatformSandbox(LoopbackService):
    """Base of the platform sandboxes. See the module docstring for what a subclass provides."""

    #: Registry id (``"zoho"``), display name, default port of ``python -m``, a GET path answering 200 once up.
    platform: ClassVar[str] = ""
    title: ClassVar[str] = ""
    default_port: ClassVar[int] = 0
    ready_path: ClassVar[str] = "/_sandbox/state"
    #: Paths below ``base_url`` of the API root, the token endpoint and the consent page.
    api_path: ClassVar[str] = ""
    token_path: ClassVar[str] = "/oauth/token"
    authorize_path: ClassVar[str] = "/oauth/authorize"
    #: Where a token is revoked (None: the platform has no revocation endpoint).
    revoke_path: ClassVar[str | None] = None
    #: The fault injector class (a platform may subclass it to add options).
    fault_class: ClassVar[type] = FaultInjector

    store: ResourceStore | None = None
    auth: AuthServer | None = None
    limits: Limiter | None = None

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] | None = None,
                 timeout_seconds: float = 5.0, verbose: bool = False, latency: Any = None) -> None:
        self.host, self.port, self.verbose = host, port, verbose
        #: Simulated network latency per endpoint kind (``connectors.sandboxkit.latency``): a spec or a ``Latency``.
        self.latency = latency if isinstance(latency, Latency) else Latency(latency)
        self.thread_name = f"{self.platform or 'platform'}-sandbox"
        #: The sandbox's time: the injected clock (or real time) plus what ``/_sandbox/clock`` advanced.
        self.clock = SandboxClock(clock)
        self.faults: FaultInjector = self.fault_class(timeout_seconds)
        self.api_calls = 0
        self._counter_lock = threading.Lock()

    # -- what a subclass implements ------------------------------------------------------------------------------
    @property
    def company_id(self) -> str:
        """The id of the default company / organisation / tenant."""
        raise NotImplementedError

    def seed(self) -> None:
        """Fill the (empty) store with the platform's reference data: chart of accounts, taxes, currencies."""

    def route(self, request: Request) -> Response:
        """Answer one non-control request (auth, limits and the API itself)."""
        raise NotImplementedError

    def oauth_route(self, req: Request) -> Response | None:
        """The consent page, token and revocation endpoints at the declared paths (the grant read from the form
        body and the query string: some platforms' examples send it in the query), or None for another path."""
        if req.path == self.authorize_path and req.method == "GET":
            return self.auth.authorize(req.params)
        if req.path in (self.token_path, self.revoke_path) and req.method == "POST":
            serve = self.auth.token if req.path == self.token_path else self.auth.revoke
            return serve(req.header("Authorization"), {**req.params, **req.form()})
        return None

    def store_error(self, error: ResourceError, request: Request) -> PlatformError:
        """The platform's answer to a store refusal ``route`` let through: :class:`NotFound` (404),
        :class:`Duplicate` (400), :class:`Conflict` (409) by default; a platform renders its own error body."""
        status = 404 if isinstance(error, NotFound) else 409 if isinstance(error, Conflict) else 400
        return PlatformError(status, {"error": error.message})

    def answer(self, request: Request) -> Response:
        """:meth:`route`, with a raised :class:`PlatformError` or store refusal answered in the platform's shape."""
        try:
            return self.route(request)
        except PlatformError as error:
            return error.response()
        except (NotFound, Duplicate, Conflict) as error:
            return self.store_error(error, request).response()

    def fault_response(self, fault: Fault) -> Response:
        """The answer to an injected ``http_500`` / ``http_503`` / ``rate_limit`` fault, in the platform's shape."""
        if fault.kind == "rate_limit":
            return json_response(429, {"error": "rate limited"}, [("Retry-After", fault.retry_after or "60")])
        status = 503 if fault.kind == "http_503" else 500
        return json_response(status, {"error": "injected fault"})

    def trace_headers(self) -> list[tuple[str, str]]:
        return []

    def latency_kind(self, request: Request) -> str:
        """Which latency a request waits (``read``, ``write``, ``batch``, ``auth``): the OAuth paths are ``auth``,
        a ``batch`` / ``$batch`` path ``batch``, GET ``read``, any other method ``write``. A platform whose
        queries are POSTs or whose batch endpoint is named otherwise overrides this."""
        return kind_of(request.method, request.path,
                       auth_paths=(self.token_path, self.authorize_path, self.revoke_path))

    def extra_state(self) -> dict:
        return {}

    def apply_setting(self, name: str, value: Any) -> bool:
        """A platform's own ``/_sandbox/settings`` key; return True when handled."""
        return False

    # -- URLs and counters -----------------------------------------------------------------------------------------
    def app(self) -> PlatformApp:
        return PlatformApp(self)

    @property
    def api_base(self) -> str:
        return self.base_url + self.api_path

    @property
    def token_url(self) -> str:
        return self.base_url + self.token_path

    @property
    def authorize_url(self) -> str:
        return self.base_url + self.authorize_path

    @property
    def revoke_url(self) -> str | None:
        return self.base_url + self.revoke_path if self.revoke_path else None

    @property
    def token_calls(self) -> int:
        return self.auth.token_calls if self.auth is not None else 0

    @property
    def client_id(self) -> str:
        """The OAuth client the sandbox accepts (the demo and the sandbox command print it)."""
        return self.auth.client_id if self.auth is not None else ""

    # -- the uniform interface ----------------------------------------------------------------------------------------
    def reset(self) -> None:
        """An empty company with fresh seed data, no faults, the platform's limits with empty counters, counters and
        idempotency memory cleared, the clock back to real time. Issued tokens survive (a connection stays
        connected across tests)."""
        if self.store is not None:
            self.store.clear()
        self.faults.clear()
        self.faults.fired.clear()
        if self.limits is not None:
            self.limits.restore()
        self.clock.offset = 0.0
        with self._counter_lock:
            self.api_calls = 0
        if self.auth is not None:
            self.auth.token_calls = 0
        self.seed()

    def issue_tokens(self) -> dict:
        """A token set (``access_token``, ``refresh_token``, ``expires_in``...) without the consent redirect."""
        return self.auth.issue()

    def token_problem(self, access_token: str) -> str | None:
        """Why an access token from :meth:`issue_tokens` would be refused now (``"expired"``, ``"invalid"``...),
        or None while it is good. A platform whose tokens are not the kit's plain bearer value overrides this."""
        return self.auth.check(f"{self.auth.scheme} {access_token}")

    def forget_idempotency_keys(self) -> None:
        if self.store is not None:
            self.store.forget_idempotency()

    def act_as_user(self, action: str, **kwargs: Any) -> dict:
        """What a bookkeeper does in the platform's UI (``record_payment``, ``void_invoice``...): the subclass's
        ``<action>_as_user`` method. An unknown action is a ``ValueError`` naming the known ones."""
        method = getattr(self, f"{action}_as_user", None) if action.isidentifier() else None
        if method is None:
            raise ValueError(f"unknown action {action!r} for {self.title or self.platform}; known: {self.actions()}")
        return method(**kwargs)

    def actions(self) -> list[str]:
        return sorted(name[:-len("_as_user")] for name in dir(self) if name.endswith("_as_user")
                      and name != "act_as_user" and callable(getattr(self, name)))

    def settings(self, spec: dict) -> dict:
        """Change run-time settings: ``access_token_ttl`` (seconds), ``rotate_refresh`` (bool), ``timeout_seconds``
        (how long a timeout fault stalls), ``limits`` ({name: [limit or null, window]}), ``limits_off`` /
        ``limits_restore`` (true), ``latency`` (a latency spec), and the platform's own (:meth:`apply_setting`)."""
        for name, value in spec.items():
            if name in ("access_token_ttl", "token_lifetime"):
                self.auth.access_ttl = int(value)
            elif name == "rotate_refresh":
                self.auth.rotate_refresh = bool(value)
            elif name == "timeout_seconds":
                self.faults.timeout_seconds = float(value)
            elif name == "limits":
                for rule, pair in value.items():
                    limit, window = (pair if isinstance(pair, (list, tuple)) else (pair, None))
                    self.limits.set(rule, None if limit is None else int(limit), window)
            elif name == "limits_off" and value:
                self.limits.off()
            elif name == "limits_restore" and value:
                self.limits.restore()
            elif name == "latency":
                self.latency.set(value)
            elif not self.apply_setting(name, value):
                raise ValueError(f"unknown setting {name!r}")
        return self.current_settings()

    def current_settings(self) -> dict:
        return {"access_token_ttl": self.auth.access_ttl if self.auth else None,
                "rotate_refresh": self.auth.rotate_refresh if self.auth else None,
                "timeout_seconds": self.faults.timeout_seconds,
                "limits": {k: list(v) for k, v in self.limits.rules.items()} if self.limits else {},
                "latency": self.latency.state()["delays"]}

    def state(self) -> dict:
        return {"platform": self.platform, "title": self.title, "company_id": self.company_id,
                "counts": self.store.counts() if self.store is not None else {}, "token_calls": self.token_calls,
                "api_calls": self.api_calls, "clock_offset": self.clock.offset,
                "faults_pending": self.faults.pending, "faults_fired": len(self.faults.fired),
                "settings": self.current_settings(), "latency": self.latency.state(), "actions": self.actions(),
                **self.extra_state()}

    # -- /_sandbox/* ----------------------------------------------------------------------------------------------
    def control(self, request: Request) -> Response:
        """``GET state``; ``POST reset``, ``faults`` (add ``{"kind","count","match","retry_after"}``, or
        ``{"probability", "kinds", "seed"}``), ``DELETE faults``, ``POST clock`` (``{"advance": seconds}``),
        ``forget-idempotency``, ``as-user`` (``{"action", ...}``), ``settings``, ``tokens``; ``GET`` / ``POST
        latency`` (a latency spec: ``{"all": 0.15, "batch": [0.4, 0.1]}``; the whole setting is replaced)."""
        action, method = request.path[len("/_sandbox/"):].strip("/"), request.method
        try:
            spec = request.json() if method in ("POST", "PUT") else {}
            if not isinstance(spec, dict):
                raise ValueError("expected a JSON object")
            return control_response(*self._control(action, method, spec))
        except (LookupError, NotFound) as exc:
            return control_response(404 if action == "as-user" else 400, {"error": str(exc)})
        except Exception as exc:  # the platform's own refusal (a void of a paid invoice...) or a bad request
            return control_response(400, {"error": f"{type(exc).__name__}: {exc}"})

    def _control(self, action: str, method: str, spec: dict) -> tuple[int, dict]:
        if action == "state" and method == "GET":
            return 200, self.state()
        if action == "latency" and method in ("GET", "POST"):
            return 200, self.latency.set(spec) if method == "POST" else self.latency.state()
        if action == "faults" and method == "DELETE":
            self.faults.clear()
            return 200, {"pending": self.faults.pending}
        if method != "POST":
            return 405, {"error": f"{method} not allowed on /_sandbox/{action}"}
        posts = {"reset": self._control_reset, "faults": self._control_faults, "clock": self._control_clock,
                 "forget-idempotency": self._control_forget, "forget-idempotency-keys": self._control_forget,
                 "as-user": self._control_user_action, "settings": self.settings,
                 "tokens": lambda spec: self.issue_tokens()}
        if action not in posts:
            return 404, {"error": f"unknown control endpoint /_sandbox/{action}"}
        return 200, posts[action](spec)

    def _control_reset(self, spec: dict) -> dict:
        self.reset()
        return {"ok": True}

    def _control_faults(self, spec: dict) -> dict:
        if "probability" in spec:
            self.faults.rate(float(spec["probability"]), spec.get("kinds"), spec.get("seed"))
        else:
            self.faults.add(spec["kind"], spec.get("count", 1), spec.get("match"), spec.get("retry_after"))
        return {"pending": self.faults.pending}

    def _control_clock(self, spec: dict) -> dict:
        self.clock.advance(float(spec.get("advance", spec.get("seconds", 0))))
        return {"offset": self.clock.offset, "now": Decimal(str(self.clock()))}

    def _control_forget(self, spec: dict) -> dict:
        self.forget_idempotency_keys()
        return {"ok": True}

    def _control_user_action(self, spec: dict) -> dict:
        name = spec.pop("action", "")
        return {"result": self.act_as_user(str(name), **spec)}


def add_latency_argument(parser: argparse.ArgumentParser) -> None:
    """``--latency SPEC`` (default: the ``SANDBOX_LATENCY`` environment variable), for every sandbox's command line
    and ``accounting_sync_sandbox``."""
    parser.add_argument("--latency", default=os.environ.get(LATENCY_ENV_VAR, ""), metavar="SPEC",
                        help="simulated network latency per request: seconds for every kind ('0.15', '150ms', "
                             "'0.15+0.05' for fixed plus jitter) or per kind ('read=0.15,write=0.2,batch=0.4,"
                             f"auth=0.1'); default ${LATENCY_ENV_VAR}, else none")


def latency_from_argument(parser: argparse.ArgumentParser, spec: str) -> Latency:
    """The ``--latency`` value as a ``Latency``; a bad spec is the parser's usage error naming what is wrong."""
    try:
        return Latency(spec)
    except ValueError as exc:
        parser.error(str(exc))
        raise  # parser.error exits; this keeps type checkers content


def run_cli(sandbox_class: type, argv: list[str] | None = None) -> None:
    """``python -m connectors.<platform>.sandbox [--host H] [--port P] [--verbose] [--no-limits] [--latency SPEC]``:
    serve in the foreground until Ctrl-C or SIGTERM; the first lines name the URLs and a ready token set."""
    parser = argparse.ArgumentParser(description=f"Local {sandbox_class.title} API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=sandbox_class.default_port, help="0 takes a free port")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--no-limits", action="store_true", help="switch the platform's rate limits off")
    add_latency_argument(parser)
    args = parser.parse_args(argv)
    latency = latency_from_argument(parser, args.latency)
    sandbox = sandbox_class(host=args.host, port=args.port, verbose=args.verbose)
    sandbox.latency.set(latency)
    if args.no_limits and sandbox.limits is not None:
        sandbox.limits.off()
    sandbox.bind()
    print(f"{sandbox.title} sandbox on {sandbox.base_url} (company {sandbox.company_id})", flush=True)
    print(f"api: {sandbox.api_base}  token: {sandbox.token_url}  authorize: {sandbox.authorize_url}", flush=True)
    print("tokens:", json.dumps(sandbox.issue_tokens()), flush=True)

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        sandbox.serve_forever()
