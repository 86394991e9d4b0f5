"""The shapes of the Acumatica sandbox's error answers, shared by the server and its cost documents.

- ``AcumaticaError``: the ASP.NET Web API error body ``{"message", "exceptionMessage", "exceptionType",
  "stackTrace"}`` (HTTP 500 for a business rule, as Acumatica answers one).
- ``FieldErrors``: 422 with the record echoed and each refused field's ``error``, inside detail lines too.
"""
from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from ...sandboxkit.platform import PlatformError, decimal_value

ZERO = Decimal("0.00")
#: Each document entity's detail collection (where a line's field error is shown).
DETAILS = {"Invoice": "Details", "Payment": "DocumentsToApply", "Bill": "Details", "Check": "Details",
           "JournalTransaction": "Details"}


class AcumaticaError(PlatformError):
    """The ASP.NET error body Acumatica answers with."""

    def __init__(self, status: int, message: str, kind: str = "PX.Data.PXException", headers: tuple = ()) -> None:
        body = {"message": "An error has occurred.", "exceptionMessage": message, "exceptionType": kind,
                "stackTrace": None}
        super().__init__(status, body, headers)


class FieldErrors(PlatformError):
    """A refused write: 422 with the record echoed, each refused field carrying its ``error``."""

    def __init__(self, entity: str, record: dict, errors: dict[str, str]) -> None:
        shown = dict(record)
        for path, message in errors.items():
            name, _, line = path.partition("#")
            if line:
                details = shown[DETAILS[entity]]
                item = dict(details[int(line)])
                item[name] = {**(item.get(name) or {"value": None}), "error": message}
                details[int(line)] = item
            else:
                shown[name] = {**(shown.get(name) or {"value": None}), "error": message}
        shown["error"] = f"Inserting '{entity}' record raised at least one error. Please review the errors."
        super().__init__(422, shown)


def business(message: str) -> AcumaticaError:
    return AcumaticaError(500, message)


def money(value: Any) -> Decimal:
    return decimal_value(value, ZERO)


def merge_details(old: list[dict], sent: list[dict] | None, missing=None) -> list[dict]:
    """A document's detail lines after a PUT, as Acumatica merges them: a sent line with an ``id`` updates that line
    (or, with ``delete``, removes it), one without is added with a new id. A line id that is not there is refused
    with ``missing(message)`` (default: a 500, as a document's own screen answers)."""
    lines = [dict(line) for line in old]
    for item in sent or []:
        if item.get("id"):
            index = next((i for i, line in enumerate(lines) if line["id"] == str(item["id"]).lower()), None)
            if index is None:
                message = f"The detail line {item['id']} does not exist."
                raise missing(message) if missing else AcumaticaError(500, message)
            if item.get("delete"):
                lines.pop(index)
            else:
                lines[index].update({k: v for k, v in item.items() if k not in ("id", "rowNumber")})
        else:
            lines.append({**{k: v for k, v in item.items() if k != "rowNumber"}, "id": str(uuid.uuid4())})
    return lines
