"""Wire helpers shared by the Xero sandbox modules: exact JSON, Xero's date formats, money, error bodies.

Money is ``Decimal`` end to end. Request bodies are parsed with ``parse_float=Decimal`` (integers stay ``int``
so the OpenAPI ``integer`` type still validates); responses are written by :func:`dumps`, which prints a
``Decimal`` as a JSON number with its digits intact (``40.00``, ``2.0000``, ``1.000000`` as Xero does).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import uuid
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
UTC = dt.UTC
JSON_TYPE = "application/json; charset=utf-8"
NOT_FOUND_TEXT = "The resource you're looking for cannot be found"

Response = tuple[int, list[tuple[str, str]], bytes]

# ---------------------------------------------------------------------------
# JSON

_NONCE = secrets.token_hex(6)
_DEC_RE = re.compile(rf'"@dec{_NONCE}:([-0-9.E+]+)"')


def dumps(obj: Any) -> bytes:
    """JSON-encode with ``Decimal`` written as a number, digits preserved."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"@dec{_NONCE}:{value:f}"
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    return _DEC_RE.sub(r"\1", json.dumps(obj, default=default, ensure_ascii=False)).encode("utf-8")


def loads(raw: bytes | str) -> Any:
    """Parse a request body; fractional numbers become ``Decimal`` (no binary floats anywhere)."""
    return json.loads(raw, parse_float=Decimal)


def strip_nulls(value: Any) -> Any:
    """Drop ``null`` members recursively: Xero's deserializer treats them as absent."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value if v is not None]
    return value


def json_response(status: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return status, [("Content-Type", JSON_TYPE), *headers], dumps(body)


def text_response(status: int, text: str, content_type: str = "text/html; charset=utf-8") -> Response:
    return status, [("Content-Type", content_type)], text.encode("utf-8")


def not_found() -> Response:
    """Xero answers an unknown id or path with this bare sentence, not JSON (Xero-OpenAPI#163)."""
    return text_response(404, NOT_FOUND_TEXT)


def new_id() -> str:
    return str(uuid.uuid4())


# ---------------------------------------------------------------------------
# Dates: "/Date(1552262400000+0000)/" on the wire, ISO strings or MS dates accepted on input

_MS_DATE_RE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
                          r"(Z|[+-]\d{2}:?\d{2})?$")


def ms_date(epoch_ms: int, offset: bool = True) -> str:
    return f"/Date({epoch_ms}+0000)/" if offset else f"/Date({epoch_ms})/"


def epoch_ms(when: float) -> int:
    return round(when * 1000)


def date_to_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def render_date(day: dt.date) -> str:
    return ms_date(date_to_ms(day))


def date_string(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00"


def utc_string(epoch_ms_value: int) -> str:
    return dt.datetime.fromtimestamp(epoch_ms_value / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(value: Any) -> dt.date | None:
    """``2019-03-11``, ``2019-03-11T00:00:00`` or ``/Date(1552262400000)/``; None when unparseable."""
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    match = _MS_DATE_RE.match(text)
    if match:
        try:
            return dt.datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    match = _ISO_DATE_RE.match(text)
    if match:
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
    return None


def parse_timestamp(value: str) -> float | None:
    """An ``If-Modified-Since`` value: ISO 8601 (naive means UTC), RFC 1123, or an MS date."""
    text = (value or "").strip()
    if not text:
        return None
    match = _MS_DATE_RE.match(text)
    if match:
        return int(match.group(1)) / 1000
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

            stamp = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


# ---------------------------------------------------------------------------
# Money


def to_decimal(value: Any) -> Decimal | None:
    """A JSON number (or numeric string) as ``Decimal``; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def q(value: Decimal, places: int = 2) -> Decimal:
    """Round half-up (away from zero) to ``places`` decimals: Xero's rounding for line amounts and tax."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------
# Errors


class XeroError(Exception):
    """A whole-request failure rendered in Xero's ``ApiException`` shape (HTTP 400 unless told otherwise)."""

    def __init__(self, number: int, kind: str, message: str, elements: list | None = None,
                 status: int = 400) -> None:
        super().__init__(message)
        self.number, self.kind, self.message, self.status = number, kind, message, status
        self.elements = elements

    def body(self) -> dict:
        body: dict[str, Any] = {"ErrorNumber": self.number, "Type": self.kind, "Message": self.message}
        if self.elements is not None:
            body["Elements"] = self.elements
        return body

    def response(self) -> Response:
        return json_response(self.status, self.body())


def validation_exception(elements: list) -> XeroError:
    return XeroError(10, "ValidationException", "A validation exception occurred", elements)


def post_data_invalid(message: str) -> XeroError:
    """ErrorNumber 14: the body could not be read into Xero's types (bad JSON, wrong type, unknown enum)."""
    return XeroError(14, "PostDataInvalidException", message)


def query_parse_error(message: str) -> XeroError:
    return XeroError(16, "QueryParseException", message)


class ElementError(Exception):
    """One element of a batch failed validation; the messages go into its ``ValidationErrors``."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


def problem(status: int, title: str, detail: str) -> Response:
    """Xero's API gateway answers 401/403/500 with an RFC 7807 body like this one."""
    return json_response(status, {"Type": None, "Title": title, "Status": status, "Detail": detail,
                                  "Instance": new_id(), "Extensions": {}})
