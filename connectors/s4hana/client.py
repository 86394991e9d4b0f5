"""S/4HANA Cloud's OData V2 services on the shared request loop.

- Every service lives under ``/sap/opu/odata/sap/<SERVICE>/``; an entity comes back as ``{"d": {...}}`` with its
  ETag in ``__metadata.etag`` (and the ``ETag`` header), a collection as ``{"d": {"results": [...]}}``, further
  pages through ``d.__next``.
- Authentication is the communication arrangement's: the communication user's HTTP Basic credentials, or an OAuth2
  client-credentials token (Bearer). The loop's ``Authorization`` header carries either (``auth_scheme``).
- A change (``POST``, ``PATCH``, ``MERGE``, ``DELETE``) carries an ``X-CSRF-Token`` fetched with a ``GET`` that
  sends ``X-CSRF-Token: Fetch``. The token is bound to the session cookie the fetch set, so the client keeps one
  ``requests.Session`` (its cookie jar). When SAP answers 403 with ``x-csrf-token: Required`` (the token expired
  with its session), the token is fetched again and the request sent again, once.
- ``PATCH`` carries ``If-Match`` with the ETag last read; a stale one is 412 (a ``ConflictError``).
"""
from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator

import requests

from ..errors import SyncError
from ..http import ApiClient, parse_json
from . import errors

MODIFYING = frozenset({"POST", "PATCH", "MERGE", "PUT", "DELETE"})
_DATE = re.compile(r"^/Date\((-?\d+)(?:([+-])(\d{4}))?\)/$")


def quote(value: str) -> str:
    """An OData string literal: single quotes, an inner quote doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def odata_time(value: str | None) -> dt.datetime | None:
    """An OData V2 ``/Date(ms)/`` or ``/Date(ms+0000)/`` as an aware UTC datetime (None when absent)."""
    found = _DATE.match(str(value or ""))
    if not found:
        return None
    return dt.datetime.fromtimestamp(int(found.group(1)) / 1000, dt.UTC)


def odata_date(value: dt.date | None) -> str | None:
    """A date as an Edm.DateTime for a request body (``/Date(ms)/``, midnight UTC)."""
    if value is None:
        return None
    return f"/Date({int(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp() * 1000)})/"


def datetimeoffset(value: dt.datetime) -> str:
    """A ``$filter`` literal for an Edm.DateTimeOffset property."""
    return f"datetimeoffset'{value.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"


class ODataV2Client(ApiClient):
    platform = "SAP S/4HANA Cloud"
    trace_headers = ("sap-messages", "x-correlationid")
    classify = staticmethod(errors.classify)

    def __init__(self, base_url: str, token_getter, *, scheme: str = "Bearer", **kwargs) -> None:
        super().__init__(base_url, token_getter, **kwargs)
        self.auth_scheme = scheme  # "Basic" for a communication user, "Bearer" for an OAuth2 client
        self.csrf_token = ""  # nosec B105 - none fetched yet (SAP's anti-forgery token, not a credential)
        self.csrf_fetches = 0
        self._csrf_lock = threading.Lock()

    def default_headers(self) -> dict:
        return {"Accept": "application/json", "sap-cancel-on-close": "true"}

    # -- CSRF --------------------------------------------------------------------------------------------------
    def fetch_csrf(self, service: str) -> str:
        """A new token from ``GET <service>/`` with ``X-CSRF-Token: Fetch`` (the session cookie it sets stays in
        the session's jar)."""
        response = super().send("GET", f"{service}/", headers={"X-CSRF-Token": "Fetch"})
        token = response.headers.get("x-csrf-token", "")
        with self._csrf_lock:
            self.csrf_token = token
            self.csrf_fetches += 1
        return token

    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        if method.upper() not in MODIFYING:
            return super().send(method, path, **kwargs)
        service = path.split("/", 1)[0]
        token = self.csrf_token or self.fetch_csrf(service)
        headers = dict(kwargs.pop("headers", None) or {})
        try:
            return super().send(method, path, headers={**headers, "X-CSRF-Token": token}, **kwargs)
        except SyncError as exc:
            if not errors.csrf_required(exc):
                raise
        token = self.fetch_csrf(service)  # expired with its session: one new token, one more try
        return super().send(method, path, headers={**headers, "X-CSRF-Token": token}, **kwargs)

    # -- records -------------------------------------------------------------------------------------------------
    def entity(self, path: str, params: dict | None = None) -> dict:
        """One entity (``d``)."""
        return parse_json(self.send("GET", path, params=params)).get("d") or {}

    def create(self, path: str, body: dict) -> dict:
        return parse_json(self.send("POST", path, body=body)).get("d") or {}

    def patch(self, path: str, body: dict, etag: str) -> None:
        self.send("PATCH", path, body=body, headers={"If-Match": etag or "*"})

    def function(self, path: str, params: dict) -> dict:
        """A function import called with POST (``Reverse?CompanyCode='1710'...``)."""
        return parse_json(self.send("POST", path, params=params, text=b"")).get("d") or {}

    def rows(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every row of a collection, following ``__next``."""
        body = self.entity(path, params)
        while True:
            yield from body.get("results") or []
            link = body.get("__next")
            if not link:
                return
            body = parse_json(self.send("GET", link)).get("d") or {}
