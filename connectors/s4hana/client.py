"""S/4HANA Cloud's OData V2 services and its SOAP service Journal Entry - Post (Synchronous) on the shared request
loop (``JournalEntrySoapClient`` at the end of this module).

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
import uuid
from collections.abc import Iterator
from pathlib import Path

import requests
import zeep
from lxml import etree  # nosec B410: serialising zeep's own envelope only; answers are parsed by zeep
from zeep.helpers import serialize_object

from ..errors import SyncError
from ..http import ApiClient, parse_json
from . import errors

ODATA_ROOT = "/sap/opu/odata/sap"
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

    def rows(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every row of a collection, following ``__next``."""
        body = self.entity(path, params)
        while True:
            yield from body.get("results") or []
            link = body.get("__next")
            if not link:
                return
            body = parse_json(self.send("GET", link)).get("d") or {}


# -- SOAP: Journal Entry - Post (Synchronous) --------------------------------------------------------------------------
WSDL = Path(__file__).resolve().parent / "spec" / "journalentrycreaterequestconfirmation.wsdl"
#: The synchronous inbound service's path on the API host (SAP_COM_0002, JournalEntryCreateRequestConfirmation_In).
POST_PATH = "sap/bc/srt/scs_ext/sap/journalentrycreaterequestconfi"
OPERATION = "JournalEntryCreateRequestConfirmation_In"
SOAP_ACTION = (f"http://sap.com/xi/SAPSCORE/SFIN/{OPERATION}/{OPERATION}Request")
_SCHEMA: zeep.Client | None = None


def schema() -> zeep.Client:
    """The vendored WSDL, loaded once per process (offline)."""
    global _SCHEMA  # noqa: PLW0603 - a parsed WSDL is immutable and costly to load
    if _SCHEMA is None:
        _SCHEMA = zeep.Client(str(WSDL))
    return _SCHEMA


def host_of(api_base: str) -> str:
    """The API host from the OData root (``https://<tenant>-api.s4hana.cloud.sap/sap/opu/odata/sap``)."""
    base = api_base.rstrip("/")
    return base[: -len(ODATA_ROOT)] if base.endswith(ODATA_ROOT) else base


class JournalEntrySoapClient(ApiClient):
    """``JournalEntryCreateRequestConfirmation_In`` on the shared request loop: zeep builds the envelope from the
    vendored WSDL and parses the confirmation; the envelope goes out through the loop (budget, timeout, exchange
    record). A SOAP endpoint under ``/sap/bc/srt/`` takes no CSRF token. A SOAP fault (HTTP 500) is classified by
    ``errors.classify``; a refused posting is a 200 confirmation whose log has severity 3 (``errors.from_log``)."""

    platform = "SAP S/4HANA Cloud"
    classify = staticmethod(errors.classify)

    def __init__(self, host: str, token_getter, *, scheme: str = "Bearer", **kwargs) -> None:
        super().__init__(host, token_getter, **kwargs)
        self.auth_scheme = scheme
        self.zeep = schema()

    def default_headers(self) -> dict:
        return {"Content-Type": "text/xml; charset=utf-8", "Accept": "text/xml"}

    def post(self, entry: dict, user: str) -> dict:
        """Post one journal entry (the ``JournalEntry`` element's content, as a dict of the WSDL's names): the
        confirmation's ``AccountingDocument``, ``CompanyCode`` and ``FiscalYear``; a refusal raises."""
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message_id = uuid.uuid4().hex.upper()
        envelope = self.zeep.create_message(
            self.zeep.service, OPERATION, MessageHeader={"ID": message_id, "CreationDateTime": now},
            JournalEntryCreateRequest=[{"MessageHeader": {"ID": f"{message_id[:30]}01", "CreationDateTime": now},
                                        "JournalEntry": {**entry, "CreatedByUser": user}}])
        body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        response = self.send("POST", POST_PATH, text=body, headers={"SOAPAction": f'"{SOAP_ACTION}"'})
        binding = self.zeep.service._binding  # noqa: SLF001 - zeep's documented way to process a raw reply
        answer = serialize_object(binding.process_reply(self.zeep, binding.get(OPERATION), response), dict)
        confirmations = answer.get("JournalEntryCreateConfirmation") or []
        confirmation = confirmations[0] if confirmations else {}
        made = confirmation.get("JournalEntryCreateConfirmation") or {}
        document = str(made.get("AccountingDocument") or "").strip()
        if not document or not document.strip("0"):
            raise errors.from_log(confirmation.get("Log") or answer.get("Log") or {})
        return {"AccountingDocument": document, "CompanyCode": made.get("CompanyCode"),
                "FiscalYear": made.get("FiscalYear")}
