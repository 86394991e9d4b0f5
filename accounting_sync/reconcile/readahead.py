"""Read the platform one page ahead, in a thread of its own, while the run compares the page before.

A full run alternates between waiting for the platform (its answer is rendered and sent by another machine, or
another process on loopback) and working locally (loading our documents, comparing, writing checks). Reading the
next page while this one is compared lets both happen at once: the waiting releases the interpreter lock. At most
one page waits in the queue, so memory holds three pages at most (compared, waiting, being read), whatever the
number of documents.

The reader thread has database connections of its own (the token and the rate budget are read there), which cannot
see uncommitted rows: inside a transaction (a test, or a caller's ``atomic`` block) pages are read in turn instead.
"""
from __future__ import annotations

import queue
import threading
from typing import TypeVar
from collections.abc import Callable, Iterator

from django.db import connections, transaction

T = TypeVar("T")
_DONE = object()
_POLL = 0.1  # seconds between the reader's checks that the run still wants pages


def read_ahead(pages: Callable[[], Iterator[T]]) -> Iterator[T]:
    """The pages ``pages()`` yields, produced one ahead in a thread; in turn inside a transaction. An error the
    reader meets is raised here, at the page where it happened; stopping early stops the reader."""
    if transaction.get_connection().in_atomic_block:
        yield from pages()
        return
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand_over(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for page in pages():
                if not hand_over((page, None)):
                    return
            hand_over((_DONE, None))
        except BaseException as exc:  # handed to the run, which raises it as its own
            hand_over((None, exc))
        finally:
            connections.close_all()  # this thread's own connections

    reader = threading.Thread(target=read, name="reconcile-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            page, error = ready.get()
            if error is not None:
                raise error
            if page is _DONE:
                return
            yield page
    finally:
        stop.set()
        reader.join()
