"""Acumatica's contract-based JSON: every field value wrapped as ``{"value": ...}``, pure functions.

A record of the contract-based REST API is a JSON object whose system fields (``id``, ``rowNumber``, ``note``,
``custom``) stand as they are and whose general fields are objects with a ``value`` (and, in an answer refusing a
write, an ``error`` beside it); a detail collection (an invoice's ``Details``) is a list of such records. Used by
the connector's client and translation and by the sandbox; standard library only.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: Fields of a record that are not wrapped (Acumatica's "system fields").
SYSTEM_FIELDS = frozenset({"id", "rowNumber", "note", "custom", "_links", "files", "error", "delete"})


def wrap(record: dict) -> dict:
    """A plain dict as Acumatica wants it: each value as ``{"value": v}``, lists of dicts as detail records,
    system fields and values already wrapped left as they are; None values are left out."""
    out: dict = {}
    for name, value in record.items():
        if value is None:
            continue
        if name in SYSTEM_FIELDS or (isinstance(value, dict) and "value" in value):
            out[name] = value
        elif isinstance(value, list):
            out[name] = [wrap(item) for item in value]
        else:
            out[name] = {"value": value}
    return out


def unwrap(record: dict) -> dict:
    """An Acumatica record as a plain dict: ``{"value": v}`` read as ``v`` (an empty object as None), detail
    lists unwrapped, system fields as they are."""
    out: dict = {}
    for name, value in record.items():
        if name in SYSTEM_FIELDS:
            out[name] = value
        elif isinstance(value, dict):
            out[name] = value.get("value")
        elif isinstance(value, list):
            out[name] = [unwrap(item) if isinstance(item, dict) else item for item in value]
        else:
            out[name] = value
    return out


def field_errors(record: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """``(field path, message)`` of every ``error`` an answer carries: the record's own, each field's, and those
    in its detail records (``Details[1].Account``), where Acumatica puts the reason a write was refused."""
    if not isinstance(record, dict):
        return
    if isinstance(record.get("error"), str) and record["error"]:
        yield path or "record", record["error"]
    for name, value in record.items():
        if name in SYSTEM_FIELDS:
            continue
        where = f"{path}.{name}" if path else name
        if isinstance(value, dict) and isinstance(value.get("error"), str) and value["error"]:
            yield where, value["error"]
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from field_errors(item, f"{where}[{index + 1}]")


def quote(value: str) -> str:
    """An OData string literal: single quotes, an inner quote doubled."""
    return "'" + str(value).replace("'", "''") + "'"
