"""What every part of the Sage Business Cloud Accounting sandbox answers with: Sage's error list, nested
references, exact Decimal amounts and timestamps."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ...sandboxkit.platform import PlatformError, decimal_value
from ...sandboxkit.resources import Row

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class SageError(PlatformError):
    """A Sage error answer: HTTP status and a list of one ``{"$severity", "$dataCode", "$message", "$source"}``."""

    def __init__(self, status: int, code: str, message: str, source: str = "", headers: tuple = ()) -> None:
        super().__init__(status, [{"$severity": "error", "$dataCode": code, "$message": message, "$source": source}],
                         headers)
        self.code, self.message, self.source = code, message, source


def invalid(source: str, message: str = "is invalid") -> SageError:
    """Sage's 422 for a body it refuses: ``RecordInvalid`` naming the field in ``$source``."""
    return SageError(422, "RecordInvalid", message, source)


def not_found(resource: str = "") -> SageError:
    return SageError(404, "RecordNotFound", "Resource not found", resource)


def sage_time(epoch: float) -> str:
    """``2019-08-24T14:15:22Z``: Sage's timestamps (UTC, to the second)."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def amount(value: Any, source: str, default: Decimal | None = None) -> Decimal:
    try:
        return decimal_value(value, default)
    except ValueError:
        raise invalid(source, "is not a number") from None


def link(row: Row, label: str = "") -> dict:
    """A nested reference as Sage answers it: ``{"id", "displayed_as", "$path"}``."""
    return {"id": row.id, "displayed_as": label or str(row.data.get("displayed_as") or row.data.get("name") or ""),
            "$path": f"/{row.resource}/{row.id}"}


def artefact_of(entry: dict) -> tuple[str, str]:
    """(resource, id) of the artefact an allocation names, from its ``$path`` (``/sales_invoices/<id>``)."""
    _, resource, record_id = entry["artefact"]["$path"].split("/")
    return resource, record_id
