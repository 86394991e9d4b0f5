"""How a platform's import file looks: ``FileFormat`` and the value formatting every file format shares."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ..errors import DataError


@dataclass(frozen=True)
class Column:
    """One column of an import file: its header as the platform names it, whether the import needs a value in it,
    and the most characters the platform takes (0: no documented limit)."""

    name: str
    required: bool = False
    max_length: int = 0


@dataclass(frozen=True)
class FileFormat:
    """One kind of import file of a platform (its invoices file, its payments file).

    ``records`` are groups of rows: one record per document (an invoice and its lines). ``record_separator``
    says whether records are separated by an empty line (AccountEdge) or follow one another (a CSV with one row
    per line item). ``max_rows`` is the platform's documented limit per file (0: none); the writer starts a new
    file rather than split a record; ``max_records`` likewise caps the documents per file (0: none).
    ``header`` says whether the first row names the columns.
    """

    kind: str  # "invoices", "payments", "customers", "sales", "receive_payments"
    title: str  # what staff read: "Invoices import file"
    columns: tuple[Column, ...]
    delimiter: str = ","
    encoding: str = "utf-8"
    line_ending: str = "\r\n"
    header: bool = True
    record_separator: bool = False  # an empty line between records
    max_rows: int = 0
    max_records: int = 0
    date_format: str = "%m/%d/%Y"
    extension: str = "csv"
    #: The document entities whose rows go in files of this kind.
    entities: frozenset[str] = field(default_factory=frozenset)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def problems(self, row: dict[str, str]) -> list[str]:
        """What the platform's import would refuse in one row: unknown columns, missing required values, values
        longer than the platform takes, characters the file's encoding cannot carry."""
        found = []
        unknown = [k for k in row if k not in self.names]
        if unknown:
            found.append(f"unknown column(s) {', '.join(unknown)}")
        for c in self.columns:
            value = row.get(c.name, "")
            if c.required and not value.strip():
                found.append(f"{c.name} is required")
            if c.max_length and len(value) > c.max_length:
                found.append(f"{c.name} “{value}” is longer than {c.max_length} characters")
            try:
                value.encode(self.encoding)
            except UnicodeEncodeError:
                found.append(f"{c.name} “{value}” has characters the {self.encoding} file cannot carry")
        return found


def money(value: Decimal | None, places: int = 2) -> str:
    """A Decimal as the file writes it: fixed point, ``places`` decimals, half up, no thousands separator."""
    if value is None:
        return ""
    if not isinstance(value, Decimal):
        raise TypeError(f"money must be Decimal, not {type(value).__name__}")  # a float never reaches a file
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def quantity(value: Decimal) -> str:
    """A quantity without trailing zeros (2, 1.5)."""
    text = format(value.normalize(), "f")
    return text


def date(value: dt.date | None, fmt: str) -> str:
    return value.strftime(fmt) if value else ""


def parse_money(text: str) -> Decimal | None:
    """A money cell read back: currency signs, thousands separators and parentheses (negative) allowed."""
    cleaned = text.strip().replace(",", "").replace("$", "")
    if not cleaned:
        return None
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    cleaned = cleaned.strip("()")
    try:
        amount = Decimal(cleaned)
    except ArithmeticError:
        raise DataError(f"“{text}” is not an amount") from None
    return -amount if negative else amount


def parse_date(text: str, fmt: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, fmt).date()
    except ValueError:
        raise DataError(f"“{text}” is not a date in the form {fmt}") from None
