"""Network latency for the sandboxes: a delay per request, fixed plus jitter, per endpoint kind.

On loopback a request costs almost nothing, so a client that sends one request per document looks as fast as one
that batches. A real platform answers in hundreds of milliseconds; :class:`Latency` puts that back. Every request
the platform works on waits ``fixed + uniform(0, jitter)`` seconds for its kind:

- ``read``: GET (and queries sent as POST where the platform has them),
- ``write``: POST, PUT, PATCH, DELETE of one document,
- ``batch``: the platform's batch endpoint (QBO's ``/batch``, OData's ``$batch``; in Xero, which batches by
  sending many elements in one ``PUT``, a write of more than one),
- ``auth``: the OAuth consent page, token and revocation endpoints.

The sandbox's request thread sleeps *before* the platform's work and holds no lock while it does (not the store's,
not the limiter's): other requests are served meanwhile, as by a real server. The QBO and Xero sandboxes wait inside
the request's in-flight slot, so their concurrency limits count a waiting request, and answer their 429s at once;
the kit's ``PlatformApp`` waits before ``route`` (where its platforms check their limits). Injected gateway faults
(5xx, reset) answer at once everywhere.

A spec, the same everywhere (the ``latency=`` argument of ``PlatformSandbox``, ``QBOSandbox`` and ``XeroSandbox``,
``sandbox.latency.set(...)``, ``POST /_sandbox/latency``, the kit's ``settings({"latency": ...})``, the command
line's ``--latency`` and the ``SANDBOX_LATENCY`` environment variable):

- a number of seconds, or text such as ``"0.15"``, ``"150ms"``, ``"0.15+0.05"`` (fixed plus jitter): every kind;
- a mapping ``{"all": 0.15, "batch": [0.4, 0.1], "auth": {"fixed": 0.1, "jitter": 0}}``;
- text ``"read=150ms+50ms,write=0.2,batch=0.4,auth=0.1"`` (``all=`` too);
- ``None``, ``0``, ``""`` or ``"off"``: no latency.

Each spec replaces the whole setting: a kind it does not name waits nothing (``all`` sets the base). The sleep
function and the random generator are injectable so tests count delays without waiting. Standard library only.
"""
from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

KINDS = ("read", "write", "batch", "auth")
ENV_VAR = "SANDBOX_LATENCY"
MAX_SECONDS = 300.0  # a typo such as 150 for 150 ms would stall every request for minutes
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Delay:
    """``fixed`` seconds plus a uniform draw from ``[0, jitter]``."""

    fixed: float = 0.0
    jitter: float = 0.0

    def as_list(self) -> list[Decimal]:
        return [_exact(self.fixed), _exact(self.jitter)]


OFF = {kind: Delay() for kind in KINDS}


def _exact(seconds: float) -> Decimal:
    """A reading for a JSON answer: the sandboxes write numbers as exact decimals, never as floats."""
    return Decimal(repr(seconds))


def _seconds(value: Any, what: str) -> float:
    """Seconds from a number, a Decimal or text (``"0.15"``, ``"150ms"``, ``"0.2s"``); finite, 0..MAX_SECONDS."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected seconds, not {value!r}")
    scale = 1.0
    if isinstance(value, str):
        text = value.strip().lower()
        if text.endswith("ms"):
            text, scale = text[:-2], 0.001
        elif text.endswith("s"):
            text = text[:-1]
        value = text
    try:
        seconds = float(str(value)) * scale
    except ValueError:
        raise ValueError(f"{what}: not a number of seconds: {value!r}") from None
    if not math.isfinite(seconds) or seconds < 0 or seconds > MAX_SECONDS:
        raise ValueError(f"{what}: {seconds!r} s is outside 0..{MAX_SECONDS:g} s")
    return seconds


def _delay(value: Any, what: str) -> Delay:
    if isinstance(value, Delay):
        return value
    if isinstance(value, Mapping):
        unknown = set(value) - {"fixed", "jitter"}
        if unknown:
            raise ValueError(f"{what}: unknown keys {sorted(unknown)}; expected 'fixed' and 'jitter'")
        return Delay(_seconds(value.get("fixed", 0), what), _seconds(value.get("jitter", 0), what))
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"{what}: expected [fixed, jitter], got {list(value)!r}")
        return Delay(_seconds(value[0], what), _seconds(value[1], what))
    if isinstance(value, str) and "+" in value:
        fixed, _, jitter = value.partition("+")
        return Delay(_seconds(fixed, what), _seconds(jitter, what))
    return Delay(_seconds(value, what), 0.0)


def parse(spec: Any) -> dict[str, Delay]:
    """The delay of every kind a spec gives (see the module docstring); ``ValueError`` naming what is wrong."""
    if spec is None or isinstance(spec, Latency):
        return dict(OFF) if spec is None else spec.delays
    if isinstance(spec, str):
        text = spec.strip()
        if text.lower() in ("", "off", "none", "0"):
            return dict(OFF)
        if "=" not in text:
            return {kind: _delay(text, "latency") for kind in KINDS}
        pairs: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"latency: expected kind=seconds, got {part!r}")
            pairs[name.strip().lower()] = value.strip()
        spec = pairs
    if not isinstance(spec, Mapping):
        return {kind: _delay(spec, "latency") for kind in KINDS}
    unknown = set(spec) - set(KINDS) - {"all"}
    if unknown:
        raise ValueError(f"latency: unknown endpoint kinds {sorted(unknown)}; expected {', '.join(KINDS)} or all")
    base = _delay(spec["all"], "latency all") if "all" in spec else Delay()
    return {kind: _delay(spec[kind], f"latency {kind}") if kind in spec else base for kind in KINDS}


def kind_of(method: str, path: str, *, auth_paths: Iterable[str | None] = (),
            read_paths: Iterable[str] = ()) -> str:
    """The endpoint kind of a request: ``auth`` for one of ``auth_paths``, ``batch`` when the path's last segment
    is ``batch`` or ``$batch``, ``read`` for GET and for a POST to a path ending in one of ``read_paths`` (a
    platform's query endpoint), ``write`` otherwise."""
    clean = path.rstrip("/")
    if clean in {p.rstrip("/") for p in auth_paths if p}:
        return "auth"
    last = clean.rsplit("/", 1)[-1].lower()
    if last in ("batch", "$batch"):
        return "batch"
    if method.upper() in _READ_METHODS or any(clean.lower().endswith(p.lower()) for p in read_paths):
        return "read"
    return "write"


class Latency:
    """The delays of one sandbox; thread-safe. ``wait(kind)`` sleeps this request's delay and returns it."""

    def __init__(self, spec: Any = None, *, sleep: Callable[[float], Any] = time.sleep,
                 rng: random.Random | None = None) -> None:
        self.sleep = sleep
        self._rng = rng or random.Random()  # nosec B311 - a simulated network delay, not a secret
        self._lock = threading.Lock()
        self._delays = parse(spec)
        #: Requests delayed and seconds waited, per kind (for ``/_sandbox/state`` and benchmarks).
        self.waited = {kind: [0, 0.0] for kind in KINDS}

    @property
    def delays(self) -> dict[str, Delay]:
        with self._lock:
            return dict(self._delays)

    @property
    def enabled(self) -> bool:
        return any(d.fixed or d.jitter for d in self.delays.values())

    def set(self, spec: Any) -> dict:
        """Replace the whole setting with ``spec`` (validated first: a bad spec changes nothing); returns state."""
        delays = parse(spec)
        with self._lock:
            self._delays = delays
        return self.state()

    def off(self) -> None:
        self.set(None)

    def draw(self, kind: str) -> float:
        """This request's delay for ``kind``: fixed plus a uniform draw within the jitter."""
        with self._lock:
            delay = self._delays[kind]
            return delay.fixed + (self._rng.uniform(0.0, delay.jitter) if delay.jitter else 0.0)

    def wait(self, kind: str) -> float:
        """Sleep this request's delay for ``kind`` (outside every lock) and return it."""
        if kind not in KINDS:
            raise ValueError(f"unknown endpoint kind {kind!r}; expected one of {KINDS}")
        seconds = self.draw(kind)
        if seconds > 0:
            self.sleep(seconds)
        with self._lock:
            tally = self.waited[kind]
            tally[0] += 1
            tally[1] += seconds
        return seconds

    def state(self) -> dict:
        """``{"delays": {kind: [fixed, jitter]}, "waited": {kind: {"requests", "seconds"}}}``, as exact decimals."""
        delays = self.delays
        with self._lock:
            waited = {kind: {"requests": n, "seconds": _exact(round(s, 6))} for kind, (n, s) in self.waited.items()}
        return {"delays": {kind: d.as_list() for kind, d in delays.items()}, "waited": waited}
