"""One test harness for every registered platform, driven by the registry (``accounting_sync.staff.demo.platforms()``).

A suite parametrized over ``platform`` runs once per platform whose connector names a sandbox and a demo chart,
so a platform joins every such suite by registering. The harness keeps the suites platform-neutral:

- one sandbox per platform per session, started on first use and stopped at the end, emptied before each test
  (``PlatformHarness.reset``); where ``tests/conftest.py`` already has a ``<platform>_sandbox`` session fixture,
  that one is shared, so a session never runs two sandboxes of one platform;
- ``act(action, **kw)``: what a person does on the platform (``record_payment``, ``edit_invoice_line``,
  ``void_invoice``, ``delete_invoice``, ``delete_payment``, ``archive_account``) with one set of keyword names
  for all sandboxes, whatever each sandbox's store calls them; an action the platform's users cannot do at all
  (a sandbox's ``impossible_actions``: action -> why) skips the test with that reason;
- ``connect(org)``: a connected ``Connection`` through the platform's OAuth flow with the demo chart mapped
  (``accounting_sync.staff.demo.connect_to_sandbox``); the organization needs tax rates named like the demo's;
- remote documents are read through the connector (``fetch``, ``remote_payment``, ``changes_since``), never
  from a sandbox's store.

A test module takes the fixtures it uses into its namespace:
``harness, platform, platform_sandboxes = platforms.harness, platforms.platform, platforms.platform_sandboxes``.
"""
from __future__ import annotations

import datetime as dt
import inspect
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from accounting_sync.staff import demo
from connectors import registry
from connectors.base import BaseConnector, ConnectionConfig
from connectors.documents import RemoteResult
from connectors.errors import RemoteNotFound

#: Every API platform with a sandbox and a demo chart, in registry order.
PLATFORMS = demo.platforms()
#: File-delivery platforms: parametrized too, and skipped with the reason (their suites: tests/accounting_sync/
#: test_file_delivery.py and tests/connectors/<id>/).
FILE_PLATFORMS = demo.file_platforms()
FILE_SKIP = ("delivers documents as import files (delivery = 'file'): no API to run this suite against; the file "
             "delivery suites cover it")
CLIENT = (demo.CLIENT_ID, demo.CLIENT_SECRET)
TIMEOUT = 3  # seconds a connector waits for its sandbox in tests (faults answer at once, or stall longer)

#: The harness's keyword names for ``act`` and what each sandbox's store may call them instead.
ALIASES = {"reference": ("reference", "ref_num", "reference_number"), "quantity": ("quantity", "qty"),
           "unit_price": ("unit_price", "unit_amount", "rate"), "date": ("date", "txn_date"),
           "account_id": ("account_id", "code")}
#: Details of an action a sandbox may not model; left out there (``PlatformHarness.takes``).
OPTIONAL = frozenset({"reference"})


class SandboxPool:
    """The session's sandboxes by platform, started on first use, stopped at the end of the session."""

    def __init__(self) -> None:
        self._started: dict[str, Any] = {}
        self._receiver: WebhookReceiver | None = None

    def get(self, platform: str):
        if platform not in self._started:
            self._started[platform] = demo.sandbox_class(platform)(port=0).start()
        return self._started[platform]

    def receiver(self) -> WebhookReceiver:
        if self._receiver is None:
            self._receiver = WebhookReceiver().start()
        return self._receiver

    def stop(self) -> None:
        started, self._started = self._started, {}
        for sandbox in started.values():
            sandbox.stop()
        if self._receiver is not None:
            self._receiver, receiver = None, self._receiver
            receiver.stop()


class WebhookReceiver:
    """A loopback endpoint that answers every POST with an empty 200, like a subscribed host: somewhere for a
    sandbox's webhook emitter to deliver to (the test reads what was sent from the emitter's delivery log)."""

    def start(self) -> WebhookReceiver:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class PlatformHarness:
    """One platform's sandbox, connector class and demo chart, with the helpers the shared suites use."""

    def __init__(self, platform: str, sandbox, pool: SandboxPool) -> None:
        self.platform, self.sandbox, self.pool = platform, sandbox, pool
        self.cls: type[BaseConnector] = registry.get(platform)
        self.capabilities = self.cls.capabilities
        self.chart = self.cls.demo_chart

    def __repr__(self) -> str:
        return f"PlatformHarness({self.platform!r})"

    # -- lifecycle --------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """An empty company: no documents, faults, idempotency memory or webhook subscription; tokens survive.
        What the connector module remembers about a company (``forget_remembered_items()``, where it has one)
        is forgotten too, since ids of the emptied company are handed out again."""
        self.sandbox.reset()
        self.clear_faults()
        forget = getattr(sys.modules[self.cls.__module__], "forget_remembered_items", None)
        if forget is not None:
            forget()

    def clear_faults(self) -> None:
        """No faults scheduled, and none in the history (``faults.fired``: other suites read it from its start)."""
        self.sandbox.faults.clear()
        fired = getattr(self.sandbox.faults, "fired", None)
        if fired is not None:
            fired.clear()

    def settings(self, **extra) -> dict:
        """Connection settings pointing the connector at this sandbox."""
        return {**self.cls.sandbox_settings(self.sandbox.base_url), "timeout": TIMEOUT, **extra}

    # -- acting as a person on the platform --------------------------------------------------------------------
    def act(self, action: str, **kwargs) -> dict:
        """``sandbox.act_as_user(action, ...)`` with the harness's keyword names (``ALIASES``) translated to the
        ones this sandbox's helper takes. A detail the helper has no parameter for (``OPTIONAL``: a payment's
        reference) is left out; ``takes`` tells a test whether it was passed on."""
        impossible = getattr(self.sandbox, "impossible_actions", {}).get(action)
        if impossible:  # the platform's users cannot do this at all: the sandbox says why
            pytest.skip(f"{self.platform}: {impossible}")
        params = self._params(action)
        if params is not None:
            translated = {}
            for name, value in kwargs.items():
                found = next((n for n in ALIASES.get(name, (name,)) if n in params), None)
                if found is None and name in OPTIONAL:
                    continue
                translated[found or name] = value
            kwargs = translated
        return self.sandbox.act_as_user(action, **kwargs)

    def take_back(self, entity: str, remote_id: str) -> dict:
        """A person takes back a refund, an expense, a journal or a supplier bill we sent, the way the platform's
        users do: the sandbox's ``user_takes_back`` names the action (entity -> (action, its id keyword));
        a sandbox that names none skips the test, saying so."""
        found = getattr(self.sandbox, "user_takes_back", {}).get(entity)
        if found is None:
            pytest.skip(f"{self.platform}'s sandbox names no user action taking back this {entity} (user_takes_back)")
        action, keyword = found
        return self.act(action, **{keyword: remote_id})

    def takes(self, action: str, name: str) -> bool:
        """Whether this sandbox's ``action`` takes the harness's keyword ``name`` (under any of its aliases)."""
        params = self._params(action)
        return params is None or any(n in params for n in ALIASES.get(name, (name,)))

    def _params(self, action: str):
        """The parameters of the sandbox's ``<action>_as_user`` (on the sandbox, or on its store for sandboxes
        older than the kit), or None when it takes any keyword."""
        helper = (getattr(self.sandbox, f"{action}_as_user", None)
                  or getattr(getattr(self.sandbox, "store", None), f"{action}_as_user", None))
        if helper is None:
            return None
        params = inspect.signature(helper).parameters
        return None if any(p.kind is p.VAR_KEYWORD for p in params.values()) else params

    # -- connectors without a database (the contract) ----------------------------------------------------------
    def connector(self, token_getter: Callable[[bool], str], **settings) -> BaseConnector:
        config = ConnectionConfig(self.platform, "contract", self.sandbox.company_id, self.settings(**settings),
                                  *CLIENT)
        return self.cls(config, token_getter)

    def account_ids(self, reference) -> dict[str, str]:
        """Account name -> id in ``reference`` (a ``ReferenceData``)."""
        return {name: pk for pk, name in reference.accounts.items()}

    # -- connected connections (the pipeline and inbound suites) -----------------------------------------------
    def connect(self, org, *, direction: str = "push", name: str | None = None, **settings):
        """A connection serving ``org``, connected through the sandbox's OAuth flow, with the demo chart mapped
        (``org`` may only have tax rates the demo chart names: "GST 10%" and "Exempt")."""
        from connectors.models import Connection

        name = name or f"{self.cls.name} {Connection.objects.count() + 1}"
        conn = demo.connect_to_sandbox(self.sandbox.base_url, org, platform=self.platform, name=name)
        conn.direction = direction
        conn.settings = self.settings(**settings)
        conn.save()
        return conn

    def remote(self, conn, obj) -> RemoteResult:
        """The platform's current copy of local ``obj`` (read through the connector)."""
        ref = self.ref(conn, obj)
        return conn.connector().fetch(ref.entity, ref.remote_id)

    def ref(self, conn, obj):
        from accounting_sync.models import ExternalReference
        from accounting_sync.core.sources import key_for

        return ExternalReference.objects.get(connection=conn, source_key=key_for(obj))

    @staticmethod
    def changed_ids(connector: BaseConnector, entity: str, since: dt.datetime) -> list[str]:
        """Ids of ``entity`` documents the platform reports as changed since ``since``, once each."""
        changes, _ = connector.changes_since([entity], since)
        return list(dict.fromkeys(c.remote_id for c in changes if c.entity == entity))

    def named(self, connector: BaseConnector, entity: str, name: str, since: dt.datetime) -> list[str]:
        """Ids of the customers or items named ``name`` the platform reports as changed since ``since`` (what
        "exactly one remote record" counts for records without a number)."""
        read = connector.remote_customer if entity == "customer" else connector.remote_item
        found = []
        for remote_id in self.changed_ids(connector, entity, since):
            try:
                remote = read(remote_id)
            except RemoteNotFound:
                continue
            if remote is not None and remote.name == name:
                found.append(remote_id)
        return found

    def numbered(self, connector: BaseConnector, entity: str, number: str, since: dt.datetime) -> list[str]:
        """Ids of the live ``entity`` documents numbered ``number`` the platform holds, created since ``since``
        (what "exactly one remote document" counts)."""
        found = []
        for remote_id in self.changed_ids(connector, entity, since):
            try:
                result = connector.fetch(entity, remote_id)
            except RemoteNotFound:
                continue
            if result.number == number and result.status != "deleted":
                found.append(remote_id)
        return found

    # -- webhooks ------------------------------------------------------------------------------------------
    @property
    def emits_webhooks(self) -> bool:
        return callable(getattr(getattr(self.sandbox, "webhooks", None), "configure", None))

    def webhook_delivery(self, key: str, change: Callable[[], Any]) -> tuple[dict, bytes]:
        """Subscribe the sandbox's webhook emitter with signing ``key``, run ``change()``, and return the
        headers and body of the first event delivery it announced it in."""
        emitter = self.sandbox.webhooks
        emitter.configure(self.pool.receiver().url, key, batch_window=60)  # the test flushes, not the timer
        try:
            change()
            events = [d for d in emitter.flush() if d.events]
        finally:
            emitter.disable()
        assert events, "the sandbox announced no change"
        return dict(events[0].headers), events[0].body

    def webhook_signed(self, key: str, body: bytes) -> dict:
        """The headers the sandbox's webhook emitter sends with ``body`` correctly signed with ``key``."""
        emitter = self.sandbox.webhooks
        emitter.configure(self.pool.receiver().url, key, batch_window=60)
        try:
            return dict(emitter.send_raw(body).headers)
        finally:
            emitter.disable()


def next_second() -> None:
    """Wait until the wall clock has passed a whole second: platforms filter changes by the second."""
    now = time.time()
    time.sleep(1.05 - (now - int(now)))


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


# -- fixtures ---------------------------------------------------------------------------------------------------
#: The session's sandboxes. Fixtures hand it out through ``platform_sandboxes``, which stops it at the end.
POOL = SandboxPool()


@pytest.fixture(scope="session")
def platform_sandboxes():
    yield POOL
    POOL.stop()


@pytest.fixture(params=[*PLATFORMS, *(pytest.param(p, marks=pytest.mark.skip(reason=f"{p} {FILE_SKIP}"))
                                       for p in FILE_PLATFORMS)])
def platform(request) -> str:
    """Each registered platform with a sandbox, in turn."""
    return request.param


def sandbox_for(request, platform: str):
    """The session's sandbox of ``platform``: conftest's ``<platform>_sandbox`` if it has one, else the pool's."""
    try:
        return request.getfixturevalue(f"{platform}_sandbox")
    except pytest.FixtureLookupError:
        pass
    return request.getfixturevalue("platform_sandboxes").get(platform)  # outside the except: no chained error


@pytest.fixture
def harness(request, platform, platform_sandboxes):
    """The platform's harness over its session sandbox, emptied for this test."""
    h = PlatformHarness(platform, sandbox_for(request, platform), platform_sandboxes)
    h.reset()
    yield h
    h.clear_faults()
    webhooks = getattr(h.sandbox, "webhooks", None)
    if webhooks is not None and getattr(webhooks, "enabled", False):
        webhooks.disable()
