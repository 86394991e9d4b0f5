"""Outgoing webhooks for the sandboxes: queue, batch, sign, POST over loopback, retry, log every delivery.

A platform sandbox subclasses :class:`WebhookEmitter`, says how it signs (``signature_header``), turns a batch
of queued events into a request body (:meth:`WebhookEmitter.build`) and feeds it events from its store. The kit
does the rest, the way the platforms do it: events wait ``batch_window`` seconds so that changes made together
travel together, then a background thread POSTs them with ``urllib.request``; a delivery that gets no 2xx (or
no answer) is retried after each of ``retry_delays``. Deliveries are strictly one at a time and in order, like
QBO's delivery queue ("you may not receive subsequent events until you acknowledge the first").

Tests do not wait for the thread: :meth:`~WebhookEmitter.flush` delivers everything pending in the caller's
thread (retries included) and returns once every event recorded before the call has been delivered or has
failed. :meth:`~WebhookEmitter.redeliver_last` repeats a delivery byte for byte (duplicates) and
:meth:`~WebhookEmitter.send_raw` posts any body with any signature (tampering).

Signatures are ``base64(HMAC-SHA256(key, raw body))``, which QBO (``intuit-signature``, keyed with the app's
verifier token) and Xero (``x-xero-signature``, keyed with the webhook key) share. Standard library only.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

#: Options every emitter understands, with their defaults. Subclasses add their own in ``extra_options``.
BASE_OPTIONS: dict[str, Any] = {
    "batch_window": 0.25,             # seconds an event waits for company before it is sent
    "retry_delays": (0.1, 0.5, 2.0),  # pause before each retry; len + 1 attempts in all
    "timeout": 5.0,                   # seconds the receiver has to answer one attempt
    "max_batch": 100,                 # events per request at most
}
_KEEP = object()
log = logging.getLogger(__name__)


def sign(key: str | bytes, body: bytes) -> str:
    """``base64(HMAC-SHA256(key, body))``: the signature both QBO and Xero send."""
    raw_key = key.encode("utf-8") if isinstance(key, str) else key
    return base64.b64encode(hmac.new(raw_key, body, hashlib.sha256).digest()).decode("ascii")


def compact(obj: Any) -> bytes:
    """JSON as the platforms send it: compact, UTF-8. Receivers must verify these exact bytes."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class Attempt:
    """One POST of a delivery: the HTTP status (None when there was no answer) or the error."""

    status: int | None
    error: str | None
    seconds: float

    def to_dict(self) -> dict:
        return {"status": self.status, "error": self.error, "seconds": round(self.seconds, 4)}


@dataclass
class Delivery:
    """One webhook request and its attempts.

    ``kind`` is ``event`` (the platform announcing changes), ``redelivery`` (the same bytes again),
    ``raw`` (:meth:`WebhookEmitter.send_raw`) or ``intent`` (Xero's intent-to-receive check).
    ``state`` is ``sending``, ``delivered``, ``failed`` (no 2xx after the last attempt) or ``cancelled``
    (the webhook was switched off or reset while retrying).
    """

    id: int
    kind: str
    url: str
    body: bytes
    signature: str
    headers: dict[str, str]
    events: int
    redelivery_of: int | None = None
    history: list[Attempt] = field(default_factory=list)
    state: str = "sending"
    response_body: bytes = b""
    response_cookies: bool = False

    @property
    def attempts(self) -> int:
        return len(self.history)

    @property
    def status(self) -> int | None:
        """The HTTP status of the last attempt (None: no answer, or not sent yet)."""
        return self.history[-1].status if self.history else None

    @property
    def ok(self) -> bool:
        return self.state == "delivered"

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "url": self.url, "state": self.state, "status": self.status,
                "attempts": self.attempts, "events": self.events, "redelivery_of": self.redelivery_of,
                "signature": self.signature, "body": self.body.decode("utf-8", "replace"),
                "history": [a.to_dict() for a in self.history]}


class WebhookEmitter:
    """Queue, batch, sign and deliver a platform's webhooks. Public methods are thread-safe."""

    #: Header that carries the signature (``intuit-signature``, ``x-xero-signature``).
    signature_header = "x-signature"
    #: Platform defaults that differ from :data:`BASE_OPTIONS` (e.g. QBO's 3-second timeout).
    defaults: ClassVar[dict[str, Any]] = {}
    #: Extra options and their defaults (QBO's ``payload`` format).
    extra_options: ClassVar[dict[str, Any]] = {}
    #: Extra ``POST /_sandbox/webhooks/<action>`` handlers of a platform: action -> method name (no arguments).
    control_actions: ClassVar[dict[str, str]] = {}
    content_type = "application/json"
    thread_name = "sandbox-webhooks"

    def __init__(self) -> None:
        self.url: str | None = None
        self.key: str | None = None
        self.options: dict[str, Any] = self._default_options()
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._pending: list[tuple[float, dict]] = []
        self._deliveries: list[Delivery] = []
        self._next_id = 1
        self._generation = 0
        self._closed = False
        self._thread: threading.Thread | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy

    # -- configuration ------------------------------------------------------------------------------------------

    def _default_options(self) -> dict[str, Any]:
        return {**BASE_OPTIONS, **self.defaults, **self.extra_options}

    def configure(self, url: Any = _KEEP, key: Any = _KEEP, **options: Any) -> dict:
        """Subscribe ``url`` with signing ``key``; options as in :data:`BASE_OPTIONS` and ``extra_options``.

        Omitted arguments keep their current values, so ``configure(batch_window=5)`` only rescales the window.
        ``url=None`` switches webhooks off (as :meth:`disable`). Returns :meth:`config`.
        """
        checked = {name: self._check_option(name, value) for name, value in options.items()}
        with self._cond:
            new_url = self.url if url is _KEEP else url
            new_key = self.key if key is _KEEP else key
            if new_url is not None:
                if not isinstance(new_url, str) or not new_url.startswith(("http://", "https://")):
                    raise ValueError(f"webhook url must be an http(s) URL, not {new_url!r}")
                if not isinstance(new_key, str) or not new_key:
                    raise ValueError("a webhook needs a signing key")
            if new_url != self.url:
                self._generation += 1  # retries aimed at the old URL stop
                self._pending.clear()
            self.url, self.key = new_url, new_key
            self.options.update(checked)
            self._closed = False
            self._configured()
            self._cond.notify_all()
        if self.url is not None:
            self._start_worker()
        return self.config()

    def _configured(self) -> None:
        """Hook, called under the lock after every configuration change."""

    def _check_option(self, name: str, value: Any) -> Any:
        if name not in self._default_options():
            raise ValueError(f"unknown webhook option {name!r}; known: {sorted(self._default_options())}")
        if name == "retry_delays":
            if not isinstance(value, (list, tuple)) or any(
                    isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 for v in value):
                raise ValueError("retry_delays must be a list of seconds >= 0")
            return tuple(float(v) for v in value)
        if name in ("batch_window", "timeout"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number of seconds >= 0")
            return float(value)
        if name == "max_batch":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError("max_batch must be a whole number >= 1")
            return value
        return value

    def disable(self) -> None:
        """Unsubscribe: nothing more is queued; pending events and running retries are dropped."""
        self.configure(url=None)

    @property
    def enabled(self) -> bool:
        return self.url is not None

    def config(self) -> dict:
        """The subscription as JSON-able data (the key itself is never shown)."""
        with self._cond:
            options = {k: list(v) if isinstance(v, tuple) else v for k, v in self.options.items()}
            return {"url": self.url, "key_set": bool(self.key), "signature_header": self.signature_header,
                    **options}

    def reset(self) -> None:
        """Back to unconfigured, with default options, no pending events and an empty delivery log."""
        with self._cond:
            self._generation += 1
            self.url, self.key = None, None
            self.options = self._default_options()
            self._pending.clear()
            self._deliveries = []
            self._configured()
            self._cond.notify_all()

    def close(self) -> None:
        """Reset and stop the background thread (the sandbox is stopping); ``configure`` starts it again."""
        self.reset()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)

    # -- events in ----------------------------------------------------------------------------------------------

    def accepting(self) -> bool:
        """Whether new events are queued now (subclasses add conditions, e.g. Xero's disabled webhook)."""
        return self.url is not None and not self._closed

    def enqueue(self, event: dict) -> None:
        """Queue one platform event (already in its wire shape); dropped when nobody is subscribed."""
        with self._cond:
            if not self.accepting():
                return
            self._pending.append((time.monotonic(), event))
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def build(self, events: list[dict]) -> bytes:
        """The request body announcing one batch of events (at most ``max_batch``). Platform-specific."""
        raise NotImplementedError

    # -- delivery -----------------------------------------------------------------------------------------------

    @property
    def deliveries(self) -> list[Delivery]:
        """Every request sent since the last reset, oldest first (a snapshot)."""
        with self._cond:
            return list(self._deliveries)

    def clear_log(self) -> None:
        with self._cond:
            self._deliveries = []

    def flush(self) -> list[Delivery]:
        """Deliver every pending event now, in this thread, retries included; returns the new deliveries.

        Waits for a delivery the background thread has in hand, so afterwards every event recorded before the
        call has been delivered (or has failed).
        """
        made: list[Delivery] = []
        with self._send_lock:
            while True:
                batch = self._take(force=True)
                if not batch:
                    return made
                made.append(self._send_batch(*batch))

    def redeliver_last(self, n: int = 1) -> list[Delivery]:
        """Send the last ``n`` event deliveries again, same bytes and signature: the duplicates platforms send.

        Synchronous, one attempt each, oldest first. Pending events are flushed first so "last" is well defined.
        """
        self.flush()
        with self._cond:
            originals = [d for d in self._deliveries if d.kind == "event"][-n:] if n > 0 else []
        if not originals:
            raise LookupError("no event delivery to repeat yet")
        with self._send_lock:
            return [self._send(d.body, "redelivery", d.events, retries=(), signature=d.signature,
                               redelivery_of=d.id, url=d.url) for d in originals]

    def send_raw(self, body: Any, signature: str | None = None, headers: dict | None = None,
                 url: str | None = None) -> Delivery:
        """POST ``body`` (bytes, text, or JSON data) once, without retries.

        ``signature=None`` signs it correctly; any other string is sent as the signature header as it is, so a
        test can pair a tampered body with the original signature or send a wrong one. ``headers`` are added
        (a header mapped to None is left out entirely).
        """
        raw = body if isinstance(body, bytes) else body.encode("utf-8") if isinstance(body, str) else compact(body)
        with self._send_lock:
            return self._send(raw, "raw", 0, retries=(), signature=signature, extra_headers=headers, url=url)

    def _take(self, force: bool) -> tuple[list[dict], int] | None:
        """Remove and return the next batch (and the generation it belongs to), if one is due."""
        with self._cond:
            if not self._pending or self.url is None:
                return None
            if not force and time.monotonic() < self._pending[0][0] + self.options["batch_window"]:
                return None
            size = self.options["max_batch"]
            batch, self._pending = self._pending[:size], self._pending[size:]
            return [event for _, event in batch], self._generation

    def _send_batch(self, events: list[dict], generation: int) -> Delivery:
        return self._send(self.build(events), "event", len(events), retries=self.options["retry_delays"],
                          generation=generation)

    def _send(self, body: bytes, kind: str, events: int, retries: Sequence[float], signature: str | None = None,
              redelivery_of: int | None = None, extra_headers: dict | None = None,
              generation: int | None = None, url: str | None = None,
              timeout: float | None = None) -> Delivery:
        """POST with retries; the caller holds ``_send_lock``. The delivery is logged before the first attempt."""
        with self._cond:
            target = url or self.url
            key = self.key
            timeout = self.options["timeout"] if timeout is None else timeout
            if generation is None:
                generation = self._generation
            if target is None:
                raise RuntimeError("webhooks are not configured; call configure(url, key) first")
            sig = sign(key, body) if signature is None else signature
            headers = {"Content-Type": self.content_type, self.signature_header: sig}
            for name, value in (extra_headers or {}).items():
                headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
                if value is not None:
                    headers[name] = str(value)
            delivery = Delivery(self._next_id, kind, target, body, sig, headers, events, redelivery_of)
            self._next_id += 1
            self._deliveries.append(delivery)
        for delay in (None, *retries):
            if delay is not None and not self._pause(delay, generation):
                delivery.state = "cancelled"
                return delivery
            result, response, cookies = self._post(target, body, headers, timeout)
            delivery.history.append(result)
            delivery.response_body, delivery.response_cookies = response, cookies
            if result.status is not None and 200 <= result.status < 300:
                delivery.state = "delivered"
                return delivery
        delivery.state = "failed"
        if kind == "event":
            self._exhausted(delivery)
        return delivery

    def _pause(self, seconds: float, generation: int) -> bool:
        """Sleep before a retry; False when the subscription changed meanwhile (stop retrying)."""
        with self._cond:
            self._cond.wait_for(lambda: self._generation != generation, timeout=seconds)
            return self._generation == generation

    def _exhausted(self, delivery: Delivery) -> None:
        """Hook: an event delivery failed every attempt (Xero disables the webhook)."""

    def _post(self, url: str, body: bytes, headers: dict, timeout: float) -> tuple[Attempt, bytes, bool]:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        started = time.monotonic()
        try:
            with self._opener.open(request, timeout=timeout) as response:
                answer = response.read(65536)
                return (Attempt(response.status, None, time.monotonic() - started), answer,
                        response.headers.get("Set-Cookie") is not None)
        except urllib.error.HTTPError as error:
            answer = error.read(65536)
            return (Attempt(error.code, None, time.monotonic() - started), answer,
                    error.headers.get("Set-Cookie") is not None)
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", error)  # refused, reset, timed out, not HTTP at all, ...
            return Attempt(None, f"{type(reason).__name__}: {reason}", time.monotonic() - started), b"", False

    # -- background delivery ------------------------------------------------------------------------------------

    def _start_worker(self) -> None:
        with self._cond:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._pending or self.url is None):
                    self._cond.wait()
                if self._closed:
                    return
                due = self._pending[0][0] + self.options["batch_window"] - time.monotonic()
                if due > 0:
                    self._cond.wait(timeout=due)
                    continue
            with self._send_lock:
                batch = self._take(force=False)
                try:
                    if batch:
                        self._send_batch(*batch)
                except Exception:  # a bug must not silently end all deliveries
                    log.exception("sandbox webhooks: delivery failed unexpectedly")

    # -- state (control endpoints) ------------------------------------------------------------------------------

    def state(self, limit: int | None = None) -> dict:
        """Config, queue length and the delivery log (newest ``limit`` entries) as JSON-able data."""
        log = self.deliveries
        if limit is not None:
            log = log[-limit:] if limit > 0 else []
        return {"config": self.config(), "pending": self.pending, "deliveries": [d.to_dict() for d in log]}

    def control(self, method: str, action: str, spec: dict) -> tuple[int, Any]:
        """The ``/_sandbox/webhooks[/<action>]`` control endpoint; returns (HTTP status, JSON-able body).

        ``GET``: :meth:`state`. ``POST`` with no action: :meth:`configure` with the JSON object (``url``, ``key``
        and options; ``{"url": null}`` switches off). Actions: ``flush``, ``redeliver`` (``{"n": 1}``),
        ``send-raw`` (``{"body": text or JSON, "signature": null or text, "headers": {...}}``), ``clear`` (the
        log), ``reset``, and the platform's ``control_actions``.
        """
        if method not in ("GET", "POST") or (method == "GET" and action):
            return 405, {"error": "method not allowed"}
        try:
            if method == "GET":
                limit = spec.get("limit")
                return 200, self.state(int(limit) if limit not in (None, "") else None)
            if not action:
                self.configure(**spec)
                return 200, self.state()
            if action == "flush":
                return 200, {"deliveries": [d.to_dict() for d in self.flush()]}
            if action == "redeliver":
                return 200, {"deliveries": [d.to_dict() for d in self.redeliver_last(int(spec.get("n", 1)))]}
            if action == "send-raw":
                delivery = self.send_raw(spec.get("body", ""), spec.get("signature"), spec.get("headers"))
                return 200, {"delivery": delivery.to_dict()}
            if action == "clear":
                self.clear_log()
                return 200, self.state()
            if action == "reset":
                self.reset()
                return 200, self.state()
            if action in self.control_actions:
                return 200, getattr(self, self.control_actions[action])()
        except (ValueError, TypeError, LookupError, RuntimeError) as exc:
            return 400, {"error": str(exc) or type(exc).__name__}
        return 404, {"error": f"unknown webhooks action {action!r}"}
