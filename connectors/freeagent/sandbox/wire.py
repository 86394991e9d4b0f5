"""What every part of the FreeAgent sandbox answers with: FreeAgent's error list, exact Decimal amounts and the
records a URL names."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...sandboxkit.platform import PlatformError, decimal_value

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class FreeAgentError(PlatformError):
    """A FreeAgent error answer: HTTP status and ``{"errors": [{"message": ...}]}``."""

    def __init__(self, status: int, message: str, headers: tuple = (), more: tuple = ()) -> None:
        super().__init__(status, {"errors": [{"message": m} for m in (message, *more)]}, headers)
        self.message = message


def unprocessable(message: str) -> FreeAgentError:
    return FreeAgentError(422, message)


def money(value: Any, field: str, default: Decimal | None = None) -> Decimal:
    try:
        return decimal_value(value, default)
    except ValueError:
        raise unprocessable(f"{field.replace('_', ' ').capitalize()} is not a number") from None


def last_part(value: Any) -> str:
    return str(value or "").rstrip("/").rsplit("/", 1)[-1]


def paid_resource(value: Any) -> str:
    """The resource a URL names (``.../v2/credit_notes/3`` -> ``credit_notes``)."""
    parts = str(value or "").rstrip("/").rsplit("/", 2)
    return parts[-2] if len(parts) == 3 else ""
