"""QBO's fault bodies (codes and messages as the platform sends them) and the exact-decimal JSON wire."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .schema import CENT, COMPANY_TZ, CURRENCY_NAMES, EXCHANGE_RATES, HOME_CURRENCY


# ---------------------------------------------------------------------------
# Faults


class QBOFault(Exception):
    """A QBO ``Fault`` response; raised by business rules, rendered by the server."""

    def __init__(self, code: str, message: str, detail: str = "", element: str = "",
                 status: int = 400, fault_type: str = "ValidationFault") -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code, self.message, self.detail, self.element = code, message, detail, element
        self.status, self.fault_type = status, fault_type

    def body(self, time_str: str) -> dict:
        error = {"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}
        return {"Fault": {"Error": [error], "type": self.fault_type}, "time": time_str}


def required(field: str) -> QBOFault:
    return QBOFault("2020", "Required param missing, need to supply the required value for the API",
                    f"Required parameter {field} is missing in the request", field)


def invalid_ref(kind: str, value: Any, element: str) -> QBOFault:
    return QBOFault("2500", "Invalid Reference Id",
                    f"Invalid Reference Id : {kind} element id {value} not found", element)


def inactive_ref(element: str = "") -> QBOFault:
    return QBOFault("610", "Object Not Found",
                    "Object Not Found : Something you're trying to use has been made inactive. "
                    "Check the fields with accounts, customers, items, vendors or employees.", element)


def business(detail: str, element: str = "") -> QBOFault:
    return QBOFault("6000", "A business validation error has occurred while processing your request",
                    f"Business Validation Error: {detail}", element)


def stale() -> QBOFault:
    return QBOFault("5010", "Stale Object Error",
                    "Stale Object Error : You and API API were working on this at the same time. "
                    "API API finished before you did, so your work was not saved.")


def unsupported(detail: str) -> QBOFault:
    return QBOFault("500", "Unsupported Operation", f"Operation {detail} is not supported.")


def bad_length(field: str, maximum: int, supplied: int) -> QBOFault:
    return QBOFault("2050", "String length is either shorter or longer than supported by specification",
                    f"String length specified does not match the supported length. Min:0 Max:{maximum} "
                    f"supported. Supplied length:{supplied}", field)


def bad_property(name: str, entity: str) -> QBOFault:
    return QBOFault("2010", "Request has invalid or unsupported property",
                    f'Property Name:Unrecognized field "{name}" (class com.intuit.schema.finance.v3.{entity}),'
                    " not marked as ignorable specified is unsupported or invalid", name)


def bad_value(field: str, value: Any) -> QBOFault:
    return QBOFault("2010", "Request has invalid or unsupported property",
                    f"Property Name:Can not construct instance of java.math.BigDecimal from value "
                    f"{value!r} specified is unsupported or invalid", field)


def bad_enum(field: str, value: Any) -> QBOFault:
    return QBOFault("2170", "Invalid Enumeration", f"Invalid Enumeration : {value}", field)


def query_error(detail: str) -> QBOFault:
    return QBOFault("4000", "Error parsing query", f"QueryParserError: {detail}")


def period_closed() -> QBOFault:
    """6210: the transaction is dated on or before the company's closing date (verbatim message and detail)."""
    return QBOFault("6210", "Account Period Closed, Cannot Update Through Services API",
                    "The account period has closed and the account books cannot be updated through the QBO Services "
                    "API. Please use the QBO website to make these changes.")


def invalid_param(name: str, value: Any) -> QBOFault:
    return QBOFault("2010", "Request has invalid or unsupported property",
                    f"Property Name:{name} specified is unsupported or invalid: {value}", name)


# ---------------------------------------------------------------------------
# Helpers

_NONCE = secrets.token_hex(6)
_OPEN, _CLOSE = f'"@dec{_NONCE}:', f':ced{_NONCE}"'  # around each Decimal's digits, as a string, then dropped


def _decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_OPEN[1:]}{value:f}{_CLOSE[:-1]}"
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(obj: Any) -> bytes:
    """JSON-encode with ``Decimal`` written as a JSON number, digits preserved: each is written as a marked string,
    and the marks with their quotes are then removed by two plain replacements (a page of 1,000 invoices holds
    about 12,000 numbers: a regular expression substituting each took about a tenth of the page's encoding)."""
    text = json.dumps(obj, default=_decimal, ensure_ascii=False)
    return text.replace(_OPEN, "").replace(_CLOSE, "").encode("utf-8")


def loads(raw: bytes | str) -> Any:
    """Parse a request body keeping every number exact."""
    return json.loads(raw, parse_float=Decimal, parse_int=Decimal)


def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value: Any, field: str) -> Decimal:
    """Coerce a JSON scalar to Decimal the way QBO's deserializer does (strings allowed)."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise bad_value(field, value)
    try:
        result = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise bad_value(field, value) from None
    if not result.is_finite():
        raise bad_value(field, value)
    return result


def ref_value(ref: Any) -> str | None:
    """``{"value": "3"}`` -> ``"3"``; tolerate a bare id."""
    if isinstance(ref, dict):
        ref = ref.get("value")
    if ref is None or ref == "":
        return None
    return str(ref).strip() if not isinstance(ref, Decimal) else f"{ref:f}"


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def iso_time(epoch: float, millis: bool = False) -> str:
    stamp = dt.datetime.fromtimestamp(epoch, COMPANY_TZ)
    return stamp.isoformat(timespec="milliseconds" if millis else "seconds")


def as_date(value: Any) -> dt.date | None:
    """``None``/``""`` -> None; a date, datetime or ISO ``YYYY-MM-DD`` string -> date; anything else: ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip()[:10])


def parse_stamp(text: str) -> dt.datetime:
    """ISO 8601 date or date-time; without an offset it is company time (as in queries). ValueError if invalid."""
    text = text.strip()
    if "T" in text:
        text = text.replace(" ", "+")  # an unencoded "+hh:mm" offset arrives as a space
    stamp = dt.datetime.fromisoformat(text)
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=COMPANY_TZ)


def txn_date(row: dict) -> dt.date | None:
    try:
        return as_date(row.get("TxnDate"))
    except ValueError:
        return None


def id_key(value: str) -> tuple:
    return (0, int(value), "") if str(value).isdigit() else (1, 0, str(value))


def strip_private(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_private(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [strip_private(v) for v in value]
    return value


def currency(row: dict, customer: dict | None = None) -> tuple[str, Decimal]:
    """Validate a transaction's ``CurrencyRef``/``ExchangeRate`` and fill both in: the currency defaults to the
    customer's (the home currency without one) and must match it; the rate to the company's own for that currency."""
    cust_code = ref_value((customer or {}).get("CurrencyRef")) or HOME_CURRENCY
    code = (ref_value(row.get("CurrencyRef")) or cust_code).upper()
    if code not in EXCHANGE_RATES:
        raise business(f"The currency {code} isn't in your currency list.", "CurrencyRef")
    if customer is not None and code != cust_code:
        raise business(f"The transaction currency ({code}) must match the customer's currency "
                       f"({cust_code}).", "CurrencyRef")
    row["CurrencyRef"] = {"value": code, "name": CURRENCY_NAMES[code]}
    if code == HOME_CURRENCY:
        rate = Decimal("1")
    elif row.get("ExchangeRate") not in (None, ""):
        rate = to_decimal(row["ExchangeRate"], "ExchangeRate")
        if rate <= 0:
            raise business("ExchangeRate must be greater than zero.", "ExchangeRate")
    else:
        rate = EXCHANGE_RATES[code]
    row["ExchangeRate"] = rate
    return code, rate
