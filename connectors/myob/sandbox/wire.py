"""What every part of the MYOB sandbox answers with: MYOB's error body, its field errors, exact Decimal amounts
and MYOB's date and time formats."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ...sandboxkit.platform import PlatformError, decimal_value

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class MyobError(PlatformError):
    """A MYOB error answer: HTTP status and ``{"Errors": [...]}``."""

    def __init__(self, status: int, name: str, message: str, details: str = "", code: int | None = None,
                 headers: tuple = ()) -> None:
        error = {"Name": name, "Message": message, "AdditionalDetails": details, "ErrorCode": code,
                 "Severity": "Error", "LearnMoreUri": None}
        super().__init__(status, {"Errors": [error], "Information": "Warning, error messages have not been "
                                  "finalised in this release and may change"}, headers)
        self.name, self.message = name, message

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


def required(field: str) -> MyobError:
    return MyobError(400, "Required", f"{field} is required", field, 100)


def not_found(field: str) -> MyobError:
    """A UID a body names that the file does not hold (MYOB: 400, ErrorCode 150)."""
    return MyobError(400, "NotFound", f"{field} was not found", field, 150)


def invalid(field: str, message: str = "") -> MyobError:
    return MyobError(400, "ValidationError", message or f"{field} is invalid", field, 4000)


def number(value: Any, field: str, default: Decimal | None = None) -> Decimal:
    try:
        return decimal_value(value, default)
    except ValueError:
        raise MyobError(400, "SerializationError", f"Error converting value {value!r} to type 'System.Decimal'",
                        field, 50) from None


def myob_time(epoch: float) -> str:
    """``2014-01-01T05:03:55.233``: MYOB's LastModified (UTC, no offset)."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def myob_date(value: Any) -> str:
    """A date as MYOB writes it: ``2014-01-01T00:00:00``."""
    text = str(value or "").strip()
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        raise MyobError(400, "SerializationError", f"Error converting value {text!r} to type 'System.DateTime'",
                        "Date", 50) from None
    return f"{day.isoformat()}T00:00:00"


def uid_of(value: Any) -> str:
    return str(value.get("UID") or "") if isinstance(value, dict) else ""
