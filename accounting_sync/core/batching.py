"""Streaming work in fixed-size slices, so a long plan (a resync, a reconciliation) never sits in memory whole."""
from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter), read lazily."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def among(column: str, ids: Collection[int]) -> dict:
    """Filter keywords that select the rows whose integer ``column`` is one of ``ids``, cheaply: when ``ids`` fill
    at least half of the span from the lowest to the highest (a chunk of documents written one after another, the
    usual case) a range, which the database answers from the same index and Django builds in constant time,
    instead of an ``IN`` list whose every element Django prepares in Python (about 2 ms for 900). The range may
    also select rows of other ids in the span: the caller keeps only those of ``ids``."""
    if not ids:
        return {f"{column}__in": []}
    low, high = min(ids), max(ids)
    if high - low + 1 <= 2 * len(ids):
        return {f"{column}__gte": low, f"{column}__lte": high}
    return {f"{column}__in": sorted(ids)}
