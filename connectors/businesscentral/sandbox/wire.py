"""What every part of the Business Central sandbox answers with: the OData error body, ETags, times, amounts."""
from __future__ import annotations

import base64
import datetime as dt
import re
import secrets
from decimal import Decimal
from typing import Any

from ...sandboxkit.platform import PlatformError, decimal_value
from ...sandboxkit.resources import Row

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
NO_ID = "00000000-0000-0000-0000-000000000000"


class BCError(PlatformError):
    """A Business Central error answer: HTTP status and ``{"error": {"code", "message"}}``. Business Central
    appends a correlation id to its messages; the sandbox does too."""

    def __init__(self, status: int, code: str, message: str, headers: tuple = ()) -> None:
        text = f"{message}  CorrelationId:  {secrets.token_hex(4)}-{secrets.token_hex(2)}."
        super().__init__(status, {"error": {"code": code, "message": text}}, headers)
        self.code, self.message = code, message


def not_found() -> BCError:
    return BCError(404, "BadRequest_NotFound", "The specified resource does not exist.")


def bad_request(message: str, code: str = "BadRequest") -> BCError:
    return BCError(400, code, message)


def dialog(message: str) -> BCError:
    """A business rule Business Central refuses (its AL code raised an error dialog)."""
    return BCError(400, "Application_DialogException", message)


def field_error(message: str) -> BCError:
    """A ``TestField`` failure ("Blocked must be equal to 'No' in ...", "... must have a value in ...")."""
    return BCError(400, "Application_FieldValidationException", message)


def relation_error(field: str, table: str, value: Any, related: str) -> BCError:
    """A value that names no record of the related table."""
    return BCError(400, "Internal_InvalidTableRelation", f"The field {field} of table {table} contains a value "
                   f"({value}) that cannot be found in the related table ({related}).")


def too_long(value: str, limit: int) -> BCError:
    return BCError(400, "Application_StringExceededLength", f"The length of the string is {len(value)}, but it "
                   f"must be less than or equal to {limit} characters. Value: {value}")


def stale() -> BCError:
    """A stale ``If-Match``: Business Central raises its OData conflict exception, HTTP 409 (see the docs page)."""
    return BCError(409, "Request_EntityChanged", "Another user has already changed the record.")


def no_token() -> BCError:
    """PATCH without ``If-Match``."""
    return BCError(400, "BadRequest_InvalidToken", "Could not validate the client concurrency token required by "
                   "the service. Please provide a valid token in the client request.")


def bc_time(epoch: float) -> str:
    """``2020-08-21T00:24:35.687Z``: Business Central's ``lastModifiedDateTime``."""
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def etag(row: Row) -> str:
    """A weak ETag that changes with every write (Business Central's look like ``W/"JzE5OzE..."``)."""
    return 'W/"' + base64.b64encode(f"'{row.version};{int(row.modified * 1000)};'".encode()).decode() + '"'


def number(value: Any, field: str, default: Decimal | None = None) -> Decimal:
    try:
        return decimal_value(value, default)
    except ValueError:
        raise bad_request(f"Cannot convert the literal '{value}' to the expected type 'Edm.Decimal'.",
                          "BadRequest_InvalidRequestBody") from None


def guid_key(text: str | None) -> str:
    """The id inside ``entity(...)``: a bare GUID (Business Central's keys) or one in quotes (lines' keys)."""
    key = (text or "").strip().strip("'")
    if not re.fullmatch(GUID, key):
        raise bad_request(f"Bad Request - Error in query syntax: key '{text}'.", "BadRequest_InvalidKey")
    return key.lower()
