"""NetSuite REST's wire shapes in the sandbox: the RFC 9457-style error body with ``o:errorDetails``, amounts and
timestamps as record/v1 writes them."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ...sandboxkit.platform import PlatformError, decimal_value

CENT = Decimal("0.01")
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error"}
SECTION = {400: "15.5.1", 401: "15.5.2", 403: "15.5.4", 404: "15.5.5", 405: "15.5.6", 409: "15.5.10",
           429: "6", 500: "15.6.1"}


class NetSuiteError(PlatformError):
    """A NetSuite REST error: RFC 9457-style body with ``o:errorDetails``."""

    def __init__(self, status: int, code: str, detail: str, path: str = "", headers: tuple = ()) -> None:
        entry = {"detail": detail, "o:errorCode": code}
        if path:
            entry["o:errorPath"] = path
        kind = (f"https://www.rfc-editor.org/rfc/rfc6585.html#section-{SECTION[429]}" if status == 429 else
                f"https://www.rfc-editor.org/rfc/rfc9110.html#section-{SECTION.get(status, '15.5.1')}")
        body = {"type": kind, "title": TITLES.get(status, "Error"), "status": status, "o:errorDetails": [entry]}
        super().__init__(status, body, headers)
        self.code, self.detail = code, detail


def invalid(detail: str, path: str = "") -> NetSuiteError:
    return NetSuiteError(400, "INVALID_CONTENT", detail, path)


def user_error(detail: str, path: str = "") -> NetSuiteError:
    return NetSuiteError(400, "USER_ERROR", detail, path)


def nonexistent(path: str = "") -> NetSuiteError:
    return NetSuiteError(404, "NONEXISTENT_ID",
                         "The record instance does not exist. Provide a valid record instance ID.", path)


def money(value: Any, path: str) -> Decimal:
    try:
        return decimal_value(value).quantize(CENT)
    except (ValueError, ArithmeticError):
        raise invalid(f"Invalid value for the field {path}.", path) from None


def ns_time(epoch: float) -> str:
    """``2026-12-04T12:00:00Z``: record/v1 timestamps in UTC."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
