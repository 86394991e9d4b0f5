"""Row locks held by "another worker": a thread with a database connection of its own (PostgreSQL only)."""
import threading
from contextlib import contextmanager

import pytest
from django.db import connection, connections, transaction


def needs_row_locks() -> None:
    """Skip the test on SQLite: it has no row locks (it serialises writers), so what a held row changes is shown on
    the PostgreSQL run of the suite."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway (covered on the PostgreSQL run)")


@contextmanager
def held_elsewhere(rows):
    """Hold a lock on ``rows`` (a queryset) in another connection while the block runs; in the block, waiting on a
    held row raises after 3 s (``lock_timeout``) instead of hanging, so code that must skip it shows it did."""
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                list(rows.select_for_update())
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")  # waiting on the held row would raise here
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = 0")
    finally:
        release.set()
        thread.join()
