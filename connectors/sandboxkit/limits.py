"""Platform rate and concurrency limits for the sandboxes: sliding windows per scope, all configurable.

A sandbox declares its platform's rules by name, for example QBO's
``Limiter(clock, per_minute=(500, 60), batch_per_minute=(40, 60), concurrent=(10, 0))``, and asks, per request,
``limiter.hit(("per_minute", realm))``. A window of 0 makes a rule a concurrency limit, taken with
``limiter.concurrent("concurrent", realm)``. ``limit=None`` switches a rule off; ``limiter.off()`` switches all
of them off (benchmarks), ``limiter.set(name, limit, window)`` rescales one (tests).

The clock is injectable so tests can move time instead of sleeping.
"""
from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Exceeded:
    rule: str
    scope: str
    limit: int
    window: float
    retry_after: int  # whole seconds until a slot frees up (at least 1)


class Limiter:
    def __init__(self, clock: Callable[[], float] = time.time, **rules: tuple[int | None, float]) -> None:
        self.clock = clock
        self._defaults = dict(rules)
        self._rules: dict[str, tuple[int | None, float]] = dict(rules)
        self._hits: dict[tuple[str, str], collections.deque] = {}
        self._running: dict[tuple[str, str], int] = collections.Counter()
        self._lock = threading.Lock()

    # -- configuration ---------------------------------------------------------------------------------
    @property
    def rules(self) -> dict[str, tuple[int | None, float]]:
        return dict(self._rules)

    def set(self, name: str, limit: int | None, window: float | None = None) -> None:
        if name not in self._rules:
            raise KeyError(f"unknown limit {name!r}; known: {sorted(self._rules)}")
        with self._lock:
            self._rules[name] = (limit, self._rules[name][1] if window is None else window)

    def off(self) -> None:
        """Switch every limit off (benchmarks measure our code, not the platform's throttle)."""
        with self._lock:
            self._rules = {name: (None, window) for name, (_, window) in self._rules.items()}

    def restore(self) -> None:
        """Back to the platform's published limits, with the counters emptied.

        Requests still in flight keep their concurrency slots: clearing those counts would let each finishing
        request drive its counter below zero and admit more than ``limit`` requests afterwards.
        """
        with self._lock:
            self._rules = dict(self._defaults)
            self._hits.clear()

    # -- checks ----------------------------------------------------------------------------------------
    def hit(self, *checks: tuple[str, str]) -> Exceeded | None:
        """Count one request against each ``(rule, scope)``; nothing is counted if any of them is exceeded."""
        now = self.clock()
        with self._lock:
            for name, scope in checks:
                limit, window = self._rules[name]
                if limit is None:
                    continue
                hits = self._window(name, scope, now, window)
                if len(hits) >= limit:  # limit 0 blocks everything, with an empty window
                    wait = max(1, math.ceil((hits[0] if hits else now) + window - now))
                    return Exceeded(name, scope, limit, window, wait)
            for name, scope in checks:
                if self._rules[name][0] is not None:
                    self._window(name, scope, now, self._rules[name][1]).append(now)
        return None

    @contextmanager
    def concurrent(self, name: str, scope: str) -> Iterator[Exceeded | None]:
        """Hold one of ``limit`` concurrent slots for the body; yields an ``Exceeded`` when none is free."""
        key = (name, scope)
        with self._lock:
            limit, window = self._rules[name]
            exceeded: Exceeded | None = None
            if limit is not None and self._running[key] >= limit:
                exceeded = Exceeded(name, scope, limit, window, 1)
            else:
                self._running[key] += 1
        try:
            yield exceeded
        finally:
            if exceeded is None:
                with self._lock:
                    self._running[key] -= 1

    def _window(self, name: str, scope: str, now: float, window: float) -> collections.deque:
        hits = self._hits.setdefault((name, scope), collections.deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        return hits
