"""Rows -> the bytes of a platform's import files, with the csv module.

A record (one document: an invoice and its lines) is never split across files: a new file starts when the next
record would pass the format's ``max_rows`` or ``max_records``. A record larger than the limit on its own is refused.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import DataError
from .formats import FileFormat

Record = Sequence[dict[str, str]]  # the rows of one document


@dataclass(frozen=True)
class RenderedFile:
    kind: str
    part: int  # 1, 2, ... when the row limit split the records over several files
    content: bytes
    rows: int  # data rows (header and separators not counted)
    records: int


def chunks(fmt: FileFormat, records: Sequence[Record]) -> list[list[Record]]:
    """Records grouped into files of at most ``fmt.max_rows`` data rows and ``fmt.max_records`` records, never
    splitting a record."""
    files: list[list[Record]] = [[]]
    count = 0
    for record in records:
        size = len(record)
        if fmt.max_rows and size > fmt.max_rows:
            raise DataError(f"one document needs {size} rows, more than the {fmt.max_rows} a {fmt.title} takes")
        full = (fmt.max_rows and count + size > fmt.max_rows) or (fmt.max_records and len(files[-1]) >= fmt.max_records)
        if full and files[-1]:
            files.append([])
            count = 0
        files[-1].append(record)
        count += size
    return [f for f in files if f]


def render(fmt: FileFormat, records: Sequence[Record]) -> list[RenderedFile]:
    """The files (one or more) holding ``records`` in format ``fmt``."""
    out = []
    for part, group in enumerate(chunks(fmt, records), 1):
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, delimiter=fmt.delimiter, lineterminator=fmt.line_ending,
                            quoting=csv.QUOTE_MINIMAL)
        if fmt.header:
            writer.writerow(fmt.names)
        for i, record in enumerate(group):
            if fmt.record_separator and i:
                buffer.write(fmt.line_ending)  # the empty line between two records
            for row in record:
                writer.writerow([row.get(name, "") for name in fmt.names])
        if fmt.record_separator:
            buffer.write(fmt.line_ending)  # the last record is closed by an empty line too
        try:
            content = buffer.getvalue().encode(fmt.encoding)
        except UnicodeEncodeError as exc:
            raise DataError(f"a value cannot be written in the {fmt.title}'s {fmt.encoding} encoding: {exc}") from None
        out.append(RenderedFile(fmt.kind, part, content, sum(len(r) for r in group), len(group)))
    return out
