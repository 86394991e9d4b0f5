"""Fault injection for the QBO sandbox.

Real integrations fail in ways a happy-path fake never shows: gateway 5xx,
throttling, slow answers and - the nasty one - a write that succeeded on the
server while the client only saw a dropped connection. The injector lets tests
and demos schedule exactly those failures, either deterministically
(``add``) or randomly (``rate``), for any request except the ``/_sandbox``
control endpoints.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

KINDS = ("http_500", "http_503", "timeout", "reset", "lost_response", "rate_limit")

#: Faults that are answered before the request reaches the business layer.
PRE_KINDS = frozenset({"http_500", "http_503", "rate_limit", "reset"})
#: Faults that let the request be processed (and a write applied) first.
POST_KINDS = frozenset({"timeout", "lost_response"})

_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


@dataclass
class Fault:
    """One scheduled fault. ``remaining=None`` means "every matching request"."""

    kind: str
    remaining: int | None = 1
    match: str | None = None
    retry_after: str | None = None

    def matches(self, method: str, path: str) -> bool:
        """``match`` is ``"[METHOD] [path-substring]"``, e.g. ``"POST /invoice"``."""
        if not self.match:
            return True
        parts = self.match.split(None, 1)
        want_method = None
        if parts and parts[0].upper() in _METHODS:
            want_method = parts[0].upper()
            parts = parts[1:]
        if want_method and want_method != method.upper():
            return False
        needle = parts[0].strip() if parts else ""
        return needle.lower() in path.lower()


@dataclass
class _RandomFaults:
    probability: float
    kinds: tuple
    rng: random.Random = field(default_factory=random.Random)  # nosec B311
    retry_after: str | None = None


class FaultInjector:
    """Thread-safe queue of faults consulted once per incoming request."""

    def __init__(self, timeout_seconds: float = 5.0) -> None:
        #: How long a ``timeout`` fault stalls before answering. Tests set this
        #: just above their client timeout so they stay fast.
        self.timeout_seconds = timeout_seconds
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._random: _RandomFaults | None = None
        #: (kind, method, path) of every fault that fired, for assertions.
        self.fired: list[tuple[str, str, str]] = []

    def add(
        self,
        kind: str,
        count: int | None = 1,
        match: str | None = None,
        retry_after: object | None = None,
    ) -> Fault:
        """Schedule ``kind`` for the next ``count`` matching requests (None = forever)."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {KINDS}")
        if count is not None and count < 1:
            raise ValueError("count must be >= 1 or None")
        fault = Fault(kind, count, match, None if retry_after is None else str(retry_after))
        with self._lock:
            self._faults.append(fault)
        return fault

    def rate(
        self,
        probability: float,
        kinds: Iterable[str] | None = None,
        seed: int | None = None,
        retry_after: object | None = None,
    ) -> None:
        """Fail a random ``probability`` share of requests with one of ``kinds``.

        ``probability=0`` switches random faults off. A ``seed`` makes the
        sequence reproducible (the draw order still depends on request order).
        ``retry_after`` is the ``Retry-After`` random throttling answers carry
        (None: the platform's own default).
        """
        chosen = tuple(kinds or ("http_500", "http_503", "rate_limit", "reset"))
        for kind in chosen:
            if kind not in KINDS:
                raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            if probability <= 0:
                self._random = None
            else:
                self._random = _RandomFaults(min(probability, 1.0), chosen, random.Random(seed),  # nosec B311
                                             None if retry_after is None else str(retry_after))

    def clear(self) -> None:
        """Drop scheduled and random faults (``fired`` history is kept)."""
        with self._lock:
            self._faults.clear()
            self._random = None

    @property
    def pending(self) -> list[dict]:
        """Scheduled faults still waiting to fire (for ``/_sandbox/state``)."""
        with self._lock:
            return [
                {"kind": f.kind, "remaining": f.remaining, "match": f.match, "retry_after": f.retry_after}
                for f in self._faults
            ]

    def pick(self, method: str, path: str) -> Fault | None:
        """Consume and return the fault for this request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    self.fired.append((fault.kind, method, path))
                    return fault
            rnd = self._random
            if rnd is not None and rnd.rng.random() < rnd.probability:
                kind = rnd.rng.choice(rnd.kinds)
                self.fired.append((kind, method, path))
                return Fault(kind, 1, None, rnd.retry_after)
        return None
