"""What the NetSuite SOAP sandbox's books and their cost records share: the refusal and amounts in cents."""
from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")


class NetSuiteError(Exception):
    """A refusal in a write or read response: ``statusDetail`` ``code`` and ``message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def money(value) -> Decimal:
    try:
        return Decimal(str(value)).quantize(CENT)
    except ArithmeticError:
        raise NetSuiteError("INVALID_FLD_VALUE", f"Invalid amount {value!r}.") from None
