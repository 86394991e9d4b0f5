"""A platform's file -> records, with the csv module, read the way the platform's import reads it."""
from __future__ import annotations

import csv
import io

from ..errors import DataError
from .formats import FileFormat


def decode(fmt: FileFormat, content: bytes) -> str:
    try:
        text = content.decode(fmt.encoding)
    except UnicodeDecodeError as exc:
        raise DataError(f"the file is not {fmt.encoding} text: {exc}") from None
    return text[1:] if text.startswith("\ufeff") else text  # a byte-order mark some spreadsheets write


def read(fmt: FileFormat, content: bytes, *, header: bool | None = None) -> list[list[dict[str, str]]]:
    """The file's records (lists of rows as dicts by column name).

    With a header row, columns are matched by name (their order does not matter); without one, by position in
    the format's column list. With ``record_separator`` an empty line ends a record; otherwise every row is its
    own record (callers group rows of one document by its number).
    """
    header = fmt.header if header is None else header
    reader = csv.reader(io.StringIO(decode(fmt, content), newline=""), delimiter=fmt.delimiter)
    names: list[str] | None = None if header else list(fmt.names)
    records: list[list[dict[str, str]]] = []
    current: list[dict[str, str]] = []
    for raw in reader:
        empty = not raw or all(not cell.strip() for cell in raw)
        if names is None:
            if empty:
                continue
            names = [cell.strip() for cell in raw]
            continue
        if empty:
            if current:
                records.append(current)
                current = []
            continue
        if len(raw) > len(names):
            raise DataError(f"line {reader.line_num} has {len(raw)} fields, the header names {len(names)}")
        row = {name: (raw[i] if i < len(raw) else "") for i, name in enumerate(names)}
        if fmt.record_separator:
            current.append(row)
        else:
            records.append([row])
    if current:
        records.append(current)
    return records


def header_of(fmt: FileFormat, content: bytes) -> list[str]:
    """The first row of the file (its column names, when it has a header)."""
    for raw in csv.reader(io.StringIO(decode(fmt, content), newline=""), delimiter=fmt.delimiter):
        if raw:
            return [cell.strip() for cell in raw]
    return []
