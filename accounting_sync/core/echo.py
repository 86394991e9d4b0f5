"""Echo suppression: local writes applied from a connection's platform are not queued back to it.

Inbound sync wraps its writes in ``applying(conn)``; ``outbox.record_change`` skips the connections ``suppressed``
names. Per thread.
"""
from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.models import Connection

_state = threading.local()


@contextlib.contextmanager
def applying(conn: Connection):
    """Local writes inside this block came from ``conn``'s platform: they are not queued back to it."""
    previous = getattr(_state, "connections", frozenset())
    _state.connections = previous | {conn.pk}
    try:
        yield
    finally:
        _state.connections = previous


def suppressed() -> frozenset[int]:
    """Connections whose platform the current local writes came from (read by ``outbox.record_change``)."""
    return getattr(_state, "connections", frozenset())
