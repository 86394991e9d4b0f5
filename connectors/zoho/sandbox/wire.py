"""What every part of the Zoho Books sandbox answers with: Zoho's error body, its "Invalid value passed for …"
and exact Decimal amounts."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...sandboxkit.platform import PlatformError, decimal_value

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: Zoho's code for a refused business rule (void or delete of a settled document...) is unknown to us: a guess.
REFUSED = 1040


class ZohoError(PlatformError):
    """A Zoho error answer: HTTP status and the ``{"code", "message"}`` body."""

    def __init__(self, status: int, code: int, message: str, headers: tuple = ()) -> None:
        super().__init__(status, {"code": code, "message": message}, headers)
        self.code, self.message = code, message


def invalid(field: str, status: int = 400) -> ZohoError:
    return ZohoError(status, 2, f"Invalid value passed for {field}")


def money(value: Any, field: str, default: Decimal | None = None) -> Decimal:
    """A number from a request as an exact Decimal, or Zoho's "Invalid value passed for <field>"."""
    try:
        return decimal_value(value, default)
    except ValueError:
        raise invalid(field) from None
