"""SAP S/4HANA Cloud's services (the subset the connector uses) on loopback HTTP, on the sandbox kit: the SOAP
service Journal Entry - Post (Synchronous) (``soap``) and the OData V2 services below.

- Authentication: OAuth2 client credentials at ``/oauth/token`` (a Bearer token), or HTTP Basic with the
  communication user (the client id and secret).
- CSRF: a ``GET`` with ``X-CSRF-Token: Fetch`` answers the token in ``x-csrf-token`` and sets the session cookie
  (``SAP_SESSIONID_<SID>_<client>``) the token is bound to. A ``POST`` / ``PATCH`` / ``MERGE`` / ``DELETE``
  without a token valid for its cookie: 403, ``x-csrf-token: Required``, text "CSRF token validation failed".
  ``expire_csrf`` drops every token (what a session timeout does).
- Services under ``/sap/opu/odata/sap/``: ``API_BUSINESS_PARTNER`` (``A_BusinessPartner``),
  ``API_GLACCOUNTINCHARTOFACCOUNTS_SRV`` (``A_GLAccountInChartOfAccounts``), ``API_COMPANYCODE_SRV``
  (``A_CompanyCode``) and ``API_JOURNALENTRYITEMBASIC_SRV`` (``A_JournalEntryItemBasic``, read only: one row per
  journal entry item of the leading ledger, amounts signed); each answers ``$metadata`` (EDMX, OData V2).
- OData V2 JSON: ``{"d": {...}}`` for an entity (with ``__metadata`` and its ``etag``), ``{"d": {"results": [...],
  "__next": ...}}`` for a collection; ``$filter`` (``eq ne gt ge lt le`` joined by ``and``; ``datetimeoffset'...'``
  literals), ``$top``, ``$skip``, ``$orderby``, ``$select``, ``$expand``, ``$inlinecount``; server pages of 50 rows.
- Changes (business partners, product descriptions): ``PATCH`` / ``MERGE`` need ``If-Match`` with the entity's
  ETag (428 without it, 412 when stale). A posted journal entry never changes; only a person reverses one
  (``void_invoice_as_user``, ``delete_payment_as_user``, ``reverse_refund_as_user``, ``reverse_expense_as_user``,
  ``reverse_journal_as_user``): no API of SAP_COM_0002 does. Document types: ``DR``, ``DG``, ``DZ``, ``DA``
  (customer document: a refund's customer debit may name a credit memo, no more than its open credit) need exactly
  one customer; ``SA`` (G/L account document: expenses, journals) takes G/L accounts only.
- Errors: ``{"error": {"code", "message": {"lang", "value"}, "innererror": {"errordetails": [...]}}}``.

Sources and guesses: docs/sandbox-s4hana.md.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import unquote, urlencode

from ...sandboxkit.faults import Fault
from ...sandboxkit.oauth import AuthServer
from ...sandboxkit.platform import PlatformError, PlatformSandbox, Request, Response, decimal_value, dumps
from ...sandboxkit.resources import Conflict, NotFound, ResourceError, ResourceStore, Row
from . import soap
from .seed import (ACCOUNTS, CHART_OF_ACCOUNTS, CLIENT_ID, CLIENT_SECRET, COMPANY_CODE, CURRENCIES, HOME_CURRENCY,
                   RECEIVABLES_ACCOUNT, TAX_ACCOUNT, TAX_CODES)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PAGE = 50
SESSION_COOKIE = "SAP_SESSIONID_S4H_100"
ROOT = "/sap/opu/odata/sap"
JSON = "application/json;charset=utf-8"
#: Service -> entity set -> (entity type, key fields, properties {name: EDM type}).
DOC_TYPES = {"DR": "Customer Invoice", "DG": "Customer Credit Memo", "DZ": "Customer Payment",
             "DA": "Customer Document", "SA": "G/L Account Document"}
#: The first digits of each document type's number range (guessed, as in a standard configuration).
NUMBER_RANGES = {"DR": 18, "DG": 16, "DZ": 14, "DA": 15, "SA": 10}
STRING, DECIMAL, DATE, STAMP, BOOL = "Edm.String", "Edm.Decimal", "Edm.DateTime", "Edm.DateTimeOffset", "Edm.Boolean"
SERVICES: dict[str, dict[str, tuple[str, tuple[str, ...], dict[str, str]]]] = {
    "API_BUSINESS_PARTNER": {
        "A_BusinessPartner": ("A_BusinessPartnerType", ("BusinessPartner",), {
            "BusinessPartner": STRING, "Customer": STRING, "BusinessPartnerCategory": STRING,
            "BusinessPartnerFullName": STRING, "OrganizationBPName1": STRING, "SearchTerm1": STRING,
            "BusinessPartnerIsBlocked": BOOL, "CreationDate": DATE, "LastChangeDate": DATE,
            "LastChangeTime": "Edm.Time"})},
    "API_PRODUCT_SRV": {
        "A_Product": ("A_ProductType", ("Product",), {
            "Product": STRING, "ProductType": STRING, "BaseUnit": STRING, "IsMarkedForDeletion": BOOL,
            "CreationDate": DATE, "LastChangeDateTime": STAMP}),
        "A_ProductDescription": ("A_ProductDescriptionType", ("Product", "Language"), {
            "Product": STRING, "Language": STRING, "ProductDescription": STRING})},
    "API_GLACCOUNTINCHARTOFACCOUNTS_SRV": {
        "A_GLAccountInChartOfAccounts": ("A_GLAccountInChartOfAccountsType", ("ChartOfAccounts", "GLAccount"), {
            "ChartOfAccounts": STRING, "GLAccount": STRING, "GLAccountType": STRING, "GLAccountName": STRING,
            "AccountIsBlockedForPosting": BOOL, "IsProfitLossAccount": BOOL})},
    "API_COMPANYCODE_SRV": {
        "A_CompanyCode": ("A_CompanyCodeType", ("CompanyCode",), {
            "CompanyCode": STRING, "CompanyCodeName": STRING, "Currency": STRING, "ChartOfAccounts": STRING})},
    "API_JOURNALENTRYITEMBASIC_SRV": {
        "A_JournalEntryItemBasic": ("A_JournalEntryItemBasicType", ("ID",), {
            "ID": STRING, "Ledger": STRING, "CompanyCode": STRING, "FiscalYear": STRING,
            "AccountingDocument": STRING, "AccountingDocumentItem": STRING, "AccountingDocumentType": STRING,
            "DocumentReferenceID": STRING, "AccountingDocumentHeaderText": STRING, "PostingDate": DATE,
            "DocumentDate": DATE, "GLAccount": STRING, "Customer": STRING, "DebitCreditCode": STRING,
            "AmountInTransactionCurrency": DECIMAL, "TransactionCurrency": STRING, "TaxCode": STRING,
            "TransactionTypeDetermination": STRING, "DocumentItemText": STRING, "InvoiceReference": STRING,
            "InvoiceReferenceFiscalYear": STRING, "IsReversal": BOOL, "IsReversed": BOOL,
            "ReversalReferenceDocument": STRING, "ClearingAccountingDocument": STRING,
            "CreationDateTime": STAMP, "LastChangeDateTime": STAMP})},
}
ITEMS = "A_JournalEntryItemBasic"
LEDGER = "0L"
NAVIGATION = {"A_Product": ("to_Description", "A_ProductDescription")}
PRODUCT_TYPES = frozenset({"SERV", "HAWA", "FERT", "NLAG", "DIEN"})
SEGMENT = re.compile(r"^(?P<name>[A-Za-z_]+)(?:\((?P<key>[^)]*)\))?$")
COMPARE = re.compile(r"^\s*(?P<field>[A-Za-z0-9_]+)\s+(?P<op>eq|ne|gt|ge|lt|le)\s+(?P<value>datetimeoffset'[^']*'|"
                     r"datetime'[^']*'|'(?:[^']|'')*'|\S+)\s*$")
OPS = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
       "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}
BP_CHANGES = {"OrganizationBPName1", "SearchTerm1", "BusinessPartnerIsBlocked"}


class ODataError(PlatformError):
    """An OData V2 error answer in SAP Gateway's shape."""

    def __init__(self, status: int, code: str, message: str, details: tuple = (), headers: tuple = ()) -> None:
        now = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S.%f")[:21]
        errordetails = [{"code": c, "message": m, "propertyref": "", "severity": "error", "target": t}
                        for c, m, t in (details or ((code, message, ""),))]
        body = {"error": {"code": code, "message": {"lang": "en", "value": message},
                          "innererror": {"application": {"component_id": "FI-GL", "service_namespace": "/SAP/",
                                                         "service_version": "0001"},
                                         "transactionid": secrets.token_hex(16).upper(), "timestamp": now,
                                         "errordetails": errordetails}}}
        super().__init__(status, body, headers)
        self.code, self.message = code, message

    def response(self) -> Response:
        return self.status, [("Content-Type", JSON), *self.headers], dumps(self.body)


def bad(code: str, message: str, target: str = "") -> ODataError:
    return ODataError(400, code, message, ((code, message, target),))


def not_found(what: str = "Resource") -> ODataError:
    return ODataError(404, "/IWBEP/CM_MGW_RT/020", f"{what} not found")


def odata_date(value: dt.date | dt.datetime | None, offset: bool = False) -> str | None:
    """``/Date(ms)/`` (Edm.DateTime, a date at midnight UTC) or ``/Date(ms+0000)/`` (Edm.DateTimeOffset)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    ms = int(value.timestamp() * 1000)
    return f"/Date({ms}+0000)/" if offset else f"/Date({ms})/"


def parse_date(value: Any, field: str) -> dt.date | None:
    """An Edm.DateTime from a request: ``/Date(ms)/`` or ``YYYY-MM-DD[THH:MM:SS]``."""
    if value in (None, ""):
        return None
    text = str(value)
    found = re.match(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$", text)
    try:
        if found:
            return dt.datetime.fromtimestamp(int(found.group(1)) / 1000, dt.UTC).date()
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise bad("/IWBEP/CM_MGW_RT/004", f"Invalid value for property '{field}'", field) from None


def amount(value: Any, field: str) -> Decimal:
    try:
        return decimal_value(value, ZERO)
    except ValueError:
        raise bad("/IWBEP/CM_MGW_RT/004", f"Invalid value for property '{field}'", field) from None


class S4HanaSandbox(PlatformSandbox):
    """One tenant, one company code (``COMPANY_CODE``): business partners, G/L accounts, journal entries."""

    platform, title, default_port, ready_path = "s4hana", "SAP S/4HANA Cloud (OData V2)", 8790, "/_sandbox/state"
    api_path = ROOT
    token_path = "/oauth/token"  # nosec B105 - a URL path
    authorize_path = "/oauth/authorize"

    impossible_actions = {"edit_invoice_line": "a posted journal entry's amounts never change in S/4HANA; a person "
                                               "reverses it and posts a new one",
                          "delete_invoice": "S/4HANA deletes no posted journal entry; a person reverses it"}
    #: What a person does to take back a refund, an expense or a journal we sent (entity -> the ``*_as_user`` action
    #: and its id keyword): "Reverse Journal Entries" (the original ``IsReversed``, a reversal document posted, both
    #: stamped ``LastChangeDateTime``).
    user_takes_back = {"refund": ("reverse_refund", "refund_id"), "expense": ("reverse_expense", "expense_id"),
                       "journal": ("reverse_journal", "journal_id")}

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self.auth = AuthServer(CLIENT_ID, CLIENT_SECRET, clock=self.clock, access_ttl=3600,
                               render_error=lambda error, status: (status, {"error": error,
                                                                            "error_description": error}))
        self.store = ResourceStore(self.clock)
        for name in ("A_BusinessPartner", "A_Product", "A_GLAccountInChartOfAccounts", "A_CompanyCode", "A_TaxCode",
                     "A_Currency", "A_JournalEntry"):
            self.store.declare(name)
        self.csrf: dict[str, str] = {}  # session cookie -> token
        self.csrf_fetches = 0
        self._lock = threading.Lock()
        self.seed()

    @property
    def company_id(self) -> str:
        return COMPANY_CODE

    def seed(self) -> None:
        for account, name, kind in ACCOUNTS:
            self.store.create("A_GLAccountInChartOfAccounts", {
                "ChartOfAccounts": CHART_OF_ACCOUNTS, "GLAccount": account, "GLAccountType": kind,
                "GLAccountName": name, "AccountIsBlockedForPosting": False, "IsProfitLossAccount": kind == "P"},
                account)
        self.store.create("A_CompanyCode", {"CompanyCode": COMPANY_CODE, "CompanyCodeName": "Sandbox Company US",
                                            "Currency": HOME_CURRENCY, "ChartOfAccounts": CHART_OF_ACCOUNTS},
                          COMPANY_CODE)
        for code, name, rate in TAX_CODES:
            self.store.create("A_TaxCode", {"TaxCode": code, "TaxCodeName": name, "TaxRate": Decimal(rate),
                                            "TaxType": "A"}, code)
        for code, name in CURRENCIES:
            self.store.create("A_Currency", {"Currency": code, "CurrencyName": name}, code)

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.csrf.clear()
            self.csrf_fetches = 0

    def extra_state(self) -> dict:
        return {"company_code": COMPANY_CODE, "csrf_tokens": len(self.csrf), "csrf_fetches": self.csrf_fetches}

    def expire_csrf(self) -> None:
        """Every CSRF token is forgotten (the session it was bound to timed out)."""
        with self._lock:
            self.csrf.clear()

    # -- authentication and CSRF ---------------------------------------------------------------------------------
    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            return ODataError(429, "/IWFND/CM_BEC/026", "Too many requests",
                              headers=(("Retry-After", str(fault.retry_after or 60)),)).response()
        status = 503 if fault.kind == "http_503" else 500
        return ODataError(status, "/IWFND/CM_BEC/076", "Service temporarily unavailable").response()

    def store_error(self, error: ResourceError, request: Request) -> PlatformError:
        if isinstance(error, NotFound):
            return not_found()
        if isinstance(error, Conflict):
            return ODataError(412, "/IWBEP/CM_MGW_RT/022", "Precondition failed")
        return bad("/IWBEP/CM_MGW_RT/004", error.message)

    def authenticated(self, req: Request) -> bool:
        header = req.header("Authorization")
        if header.lower().startswith("basic "):
            return self.auth._client_ok(header, {})
        return self.auth.check(header) is None

    def _cookie(self, req: Request) -> str:
        cookies = dict(part.strip().split("=", 1) for part in req.header("Cookie").split(";") if "=" in part)
        return cookies.get(SESSION_COOKIE, "")

    def _csrf_ok(self, req: Request) -> bool:
        token = req.header("X-CSRF-Token")
        with self._lock:
            return bool(token) and token.lower() != "fetch" and self.csrf.get(self._cookie(req)) == token

    def route(self, req: Request) -> Response:
        if req.path == self.token_path and req.method == "POST":
            return self._client_credentials(req)
        if (oauth := self.oauth_route(req)) is not None:
            return oauth
        if req.path == soap.WSDL_PATH and req.method == "GET":
            address = f"{self.base_url}{soap.POST_PATH}".encode()
            return 200, [("Content-Type", soap.XML)], soap.WSDL.read_bytes().replace(soap.WSDL_ADDRESS, address)
        if req.path == soap.POST_PATH:
            if not self.authenticated(req):
                return 401, [("Content-Type", "text/plain"), ("WWW-Authenticate", 'Basic realm="SAP NetWeaver"')], \
                    b"Logon failed"
            if req.method != "POST":
                return soap.fault("Client", f"Method {req.method} is not supported by the SOAP runtime")
            return self.soap_post(req.raw)
        if not req.path.startswith(ROOT + "/"):
            raise not_found("Service")
        if not self.authenticated(req):
            return 401, [("Content-Type", "text/plain"), ("WWW-Authenticate", 'Basic realm="SAP NetWeaver"')], \
                b"Logon failed"
        extra: list[tuple[str, str]] = []
        if req.method == "GET" and req.header("X-CSRF-Token").lower() == "fetch":
            extra = self._fetch_csrf(req)
        elif req.method in ("POST", "PATCH", "MERGE", "PUT", "DELETE") and not self._csrf_ok(req):
            return 403, [("Content-Type", "text/plain"), ("x-csrf-token", "Required")], b"CSRF token validation failed"
        status, headers, body = self.dispatch(req)
        return status, [*headers, *extra], body

    def soap_post(self, raw: bytes) -> Response:
        """Journal Entry - Post (Synchronous): each request posted or refused on its own (see ``soap``)."""
        try:
            found = soap.requests_of(raw)
        except ValueError as exc:
            return soap.fault("Client", str(exc))
        confirmations = []
        for request in found:
            try:
                row = self.post_entry(soap.entry_of(request), explicit_tax=True)
            except soap.Refused as exc:
                confirmations.append(soap.confirmation(soap.message_id(request), None, exc))
            except ODataError as exc:
                confirmations.append(soap.confirmation(soap.message_id(request), None,
                                                       soap.Refused(exc.code, exc.message)))
            else:
                confirmations.append(soap.confirmation(soap.message_id(request), row.data, None))
        return 200, [("Content-Type", soap.XML)], soap.envelope("", confirmations)

    def _client_credentials(self, req: Request) -> Response:
        form = {**req.params, **req.form()}
        with self.auth.lock:
            self.auth.token_calls += 1
            if not self.auth._client_ok(req.header("Authorization"), form):
                return self.auth._error("invalid_client", 401)
        if form.get("grant_type") != "client_credentials":
            return self.auth._error("unsupported_grant_type", 400)
        body = self.auth.issue()
        body.pop("refresh_token", None)
        return 200, [("Content-Type", JSON)], dumps(body)

    def _fetch_csrf(self, req: Request) -> list[tuple[str, str]]:
        session = self._cookie(req)
        with self._lock:
            self.csrf_fetches += 1
            headers = []
            if session not in self.csrf:
                if not session:
                    session = secrets.token_urlsafe(24)
                    headers.append(("Set-Cookie", f"{SESSION_COOKIE}={session}; path=/; HttpOnly"))
                self.csrf[session] = secrets.token_urlsafe(18)
            return [*headers, ("x-csrf-token", self.csrf[session])]

    # -- dispatch ---------------------------------------------------------------------------------------------------
    def dispatch(self, req: Request) -> Response:
        tail = req.path[len(ROOT) + 1:]
        service, _, rest = tail.partition("/")
        sets = SERVICES.get(service)
        if sets is None:
            raise ODataError(404, "/IWFND/MED/170", f"No service found for namespace '', name '{service}', "
                                                    "version '0001'")
        if rest in ("", "/"):
            return self.json(200, {"d": {"EntitySets": list(sets)}})
        if rest == "$metadata":
            return 200, [("Content-Type", "application/xml")], metadata(service).encode()
        parts = [SEGMENT.match(p) for p in rest.split("/") if p]
        if not parts or any(p is None for p in parts) or parts[0]["name"] not in sets:
            raise ODataError(404, "/IWBEP/CM_MGW_RT/021", f"Resource not found for segment '{rest}'")
        name, key = parts[0]["name"], parts[0]["key"]
        if key is None:
            if req.method == "GET" and len(parts) == 1:
                return self.listing(req, name)
            if req.method == "POST" and name in ("A_BusinessPartner", "A_Product"):
                body = self.body(req)
                row = self.create_partner(body) if name == "A_BusinessPartner" else self.create_product(body)
                rendered = self.render(name, row, expand=True)
                return self.json(201, {"d": rendered}, [("ETag", rendered["__metadata"]["etag"]),
                                                        ("Location", rendered["__metadata"]["uri"])])
            raise ODataError(405, "/IWBEP/CM_MGW_RT/036", f"Method '{req.method}' not allowed")
        if name == "A_ProductDescription":
            return self.description(req, key)
        if name == ITEMS:
            return self.item_entity(req, key, len(parts))
        row = self.store.get(name, self.key(name, key))
        if len(parts) == 2 and NAVIGATION.get(name, ("",))[0] == parts[1]["name"] and req.method == "GET":
            return self.json(200, {"d": {"results": self.children(name, row)}})
        if len(parts) > 1:
            raise ODataError(404, "/IWBEP/CM_MGW_RT/021", "Resource not found for segment")
        if req.method == "GET":
            rendered = self.render(name, row, expand="to_Item" in req.params.get("$expand", ""))
            return self.json(200, {"d": rendered}, [("ETag", rendered["__metadata"]["etag"])])
        if req.method in ("PATCH", "MERGE", "PUT"):
            self.change(req, name, row)
            return 204, [("ETag", self.etag(self.store.get(name, row.id)))], b""
        raise ODataError(405, "/IWBEP/CM_MGW_RT/036", f"Method '{req.method}' not allowed")

    @staticmethod
    def json(status: int, body: Any, headers: list | None = None) -> Response:
        return status, [("Content-Type", JSON), ("dataserviceversion", "2.0"), *(headers or [])], dumps(body)

    @staticmethod
    def body(req: Request) -> dict:
        return req.json_object(bad("/IWBEP/CM_MGW_RT/005", "Malformed request body"))

    def key(self, name: str, text: str) -> str:
        """A record id from a key predicate: ``'1000001'`` or ``CompanyCode='1710',AccountingDocument=...``."""
        keys = SERVICES_BY_SET[name][1]
        values = dict(re.findall(r"(\w+)='((?:[^']|'')*)'", unquote(text)))
        if len(keys) == 1 and not values:
            values = {keys[0]: unquote(text).strip("'")}
        if name == "A_GLAccountInChartOfAccounts":
            return values.get("GLAccount", "")
        return values.get(keys[0], "")

    # -- reading ----------------------------------------------------------------------------------------------------
    def etag(self, row: Row) -> str:
        return f"W/\"datetimeoffset'{row.data.get('_changed', '')}'\""

    def render(self, name: str, row: Row, expand: bool = False) -> dict:
        kind, keys, props = SERVICES_BY_SET[name]
        service = SERVICE_OF[name]
        data = {k: self.out(props[k], row.data.get(k)) for k in props if k in row.data}
        key = ",".join(f"{k}='{row.data[k]}'" for k in keys)
        uri = f"{self.base_url}{ROOT}/{service}/{name}({key})"
        body = {"__metadata": {"id": uri, "uri": uri, "type": f"{service}.{kind}", "etag": self.etag(row)}, **data}
        if name in NAVIGATION:
            nav = NAVIGATION[name][0]
            body[nav] = {"results": self.children(name, row)} if expand else {"__deferred": {"uri": f"{uri}/{nav}"}}
        return body

    def children(self, name: str, row: Row) -> list[dict]:
        if name == "A_Product":
            return [self.render_description(row, d) for d in row.data["_descriptions"]]
        return self.items(row)

    def render_description(self, row: Row, description: dict) -> dict:
        uri = (f"{self.base_url}{ROOT}/API_PRODUCT_SRV/A_ProductDescription(Product='{row.id}',"
               f"Language='{description['Language']}')")
        return {"__metadata": {"id": uri, "uri": uri, "type": "API_PRODUCT_SRV.A_ProductDescriptionType",
                               "etag": self.etag(row)}, "Product": row.id, **description}

    def description(self, req: Request, key: str) -> Response:
        """``A_ProductDescription(Product='...',Language='EN')``: read, or ``PATCH`` the description (If-Match: the
        product's ETag, which a change of its description moves on)."""
        values = dict(re.findall(r"(\w+)='((?:[^']|'')*)'", unquote(key)))
        row = self.store.get("A_Product", values.get("Product", ""))
        found = next((d for d in row.data["_descriptions"] if d["Language"] == values.get("Language")), None)
        if found is None:
            raise not_found("Product description")
        if req.method == "GET":
            return self.json(200, {"d": self.render_description(row, found)})
        if req.method not in ("PATCH", "MERGE"):
            raise ODataError(405, "/IWBEP/CM_MGW_RT/036", f"Method '{req.method}' not allowed")
        self.check_match(req, row)
        text = str(self.body(req).get("ProductDescription") or "").strip()
        if not text or len(text) > 40:
            raise bad("/IWBEP/CM_MGW_RT/004", "ProductDescription: enter 1 to 40 characters", "ProductDescription")
        descriptions = [{**d, "ProductDescription": text} if d is found else d for d in row.data["_descriptions"]]
        self.store.update("A_Product", row.id, {"_descriptions": descriptions, **self.stamp()})
        return 204, [("ETag", self.etag(self.store.get("A_Product", row.id)))], b""

    def create_product(self, body: dict) -> Row:
        """A product with its descriptions (``to_Description``, deep insert); the ``Product`` number is ours
        (external numbering)."""
        product = str(body.get("Product") or "").strip().upper()
        if not product or len(product) > 40:
            raise bad("M3/300", "Enter a product number of 1 to 40 characters", "Product")
        if self.store.find("A_Product", product) is not None:
            raise bad("M3/350", f"Product {product} already exists", "Product")
        if body.get("ProductType") not in PRODUCT_TYPES:
            raise bad("M3/305", f"Product type {body.get('ProductType')} does not exist", "ProductType")
        descriptions = [{"Language": str(d.get("Language") or "EN"),
                         "ProductDescription": str(d.get("ProductDescription") or "")[:40]}
                        for d in (body.get("to_Description") or {}).get("results") or []]
        data = {"Product": product, "ProductType": body["ProductType"], "BaseUnit": body.get("BaseUnit") or "EA",
                "IsMarkedForDeletion": False, "CreationDate": self.now().date().isoformat(),
                "_descriptions": descriptions, **self.stamp()}
        return self.store.create("A_Product", data, product)

    def check_match(self, req: Request, row: Row) -> None:
        match = req.header("If-Match")
        if not match:
            raise ODataError(428, "/IWBEP/CM_MGW_RT/034", "Precondition required: send the entity's ETag in If-Match")
        if match != "*" and match != self.etag(row):
            raise ODataError(412, "/IWBEP/CM_MGW_RT/022", "Precondition failed: the entity was changed since it "
                                                           "was read (ETag mismatch)")

    def item_data(self, row: Row, item: dict) -> dict:
        """One item as the read service shows it (the leading ledger's line): the header's fields on every item,
        the amount signed (credit negative), the tax items with transaction key ``MWS``."""
        value = item["AmountInTransactionCurrency"]
        return {"ID": f"{LEDGER}{COMPANY_CODE}{row.data['FiscalYear']}{row.data['AccountingDocument']}"
                      f"{item['AccountingDocumentItem']}",
                "Ledger": LEDGER, "CompanyCode": COMPANY_CODE, "FiscalYear": row.data["FiscalYear"],
                "AccountingDocument": row.data["AccountingDocument"],
                "AccountingDocumentItem": item["AccountingDocumentItem"],
                "AccountingDocumentType": row.data["AccountingDocumentType"],
                "DocumentReferenceID": row.data.get("DocumentReferenceID"),
                "AccountingDocumentHeaderText": row.data.get("DocumentHeaderText"),
                "PostingDate": row.data["PostingDate"], "DocumentDate": row.data["DocumentDate"],
                "GLAccount": item["GLAccount"], "Customer": item["Customer"],
                "DebitCreditCode": item["DebitCreditCode"],
                "AmountInTransactionCurrency": -value if item["DebitCreditCode"] == "H" else value,
                "TransactionCurrency": row.data["TransactionCurrency"], "TaxCode": item["TaxCode"],
                "TransactionTypeDetermination": "MWS" if item.get("IsAutomaticallyCreated") else None,
                "DocumentItemText": item["DocumentItemText"], "InvoiceReference": item["InvoiceReference"],
                "InvoiceReferenceFiscalYear": item["InvoiceReferenceFiscalYear"],
                "IsReversal": row.data["IsReversal"], "IsReversed": row.data["IsReversed"],
                "ReversalReferenceDocument": row.data.get("ReverseDocument") or row.data.get("_reversal_of"),
                "ClearingAccountingDocument": None, "CreationDateTime": row.data["CreationDateTime"],
                "LastChangeDateTime": row.data["LastChangeDateTime"]}

    def render_item(self, data: dict) -> dict:
        props = SERVICES_BY_SET[ITEMS][2]
        uri = f"{self.base_url}{ROOT}/API_JOURNALENTRYITEMBASIC_SRV/{ITEMS}('{data['ID']}')"
        kind = "API_JOURNALENTRYITEMBASIC_SRV.A_JournalEntryItemBasicType"
        return {"__metadata": {"id": uri, "uri": uri, "type": kind}, **{k: self.out(props[k], data.get(k))
                                                                        for k in props}}

    def item_entity(self, req: Request, key: str, depth: int) -> Response:
        """One item by its ``ID``; the service is read-only."""
        if req.method != "GET":
            raise ODataError(405, "/IWBEP/CM_MGW_RT/036", "Entity set is read-only")
        wanted = unquote(key).strip("'")
        found = next((d for d in self.item_rows() if d["ID"] == wanted), None)
        if found is None or depth > 1:
            raise not_found("Journal entry item")
        return self.json(200, {"d": self.render_item(found)})

    def item_rows(self) -> list[dict]:
        return [self.item_data(row, item) for row in self.store.rows("A_JournalEntry") for item in row.data["_items"]]

    @staticmethod
    def out(kind: str, value: Any) -> Any:
        if value is None:
            return None
        if kind == DECIMAL:
            return format(Decimal(value).quantize(CENT) if Decimal(value).as_tuple().exponent >= -2 else value, "f")
        if kind == DATE:
            return odata_date(dt.date.fromisoformat(str(value)[:10]))
        if kind == STAMP:
            return odata_date(dt.datetime.fromisoformat(str(value)), offset=True)
        if kind == "Edm.Time":
            hours, minutes, seconds = str(value).split(":")
            return f"PT{hours}H{minutes}M{seconds}S"
        return value

    def all_items(self) -> list[tuple[Row, dict]]:
        return [(row, item) for row in self.store.rows("A_JournalEntry") for item in row.data["_items"]]

    def listing(self, req: Request, name: str) -> Response:
        expression = req.params.get("$filter", "")
        if name == ITEMS:
            candidates = [(data, data) for data in self.item_rows()]
        else:
            candidates = [(row.data, row) for row in self.store.rows(name)]
        matched = [(data, thing) for data, thing in candidates if self.matches(name, data, expression)]
        order = req.params.get("$orderby", "").split()
        if order:
            matched.sort(key=lambda pair: str(pair[0].get(order[0]) or ""), reverse=order[-1:] == ["desc"])
        skip = int(req.params.get("$skip") or 0)
        top = int(req.params.get("$top") or 0) or None
        window = matched[skip:]
        limit = min(PAGE, top) if top else PAGE
        page = window[:limit]
        if name == ITEMS:
            results = [self.render_item(thing) for _, thing in page]
        else:
            results = [self.render(name, thing, expand="to_Item" in req.params.get("$expand", "")) for _, thing in page]
        select = [f.strip() for f in req.params.get("$select", "").split(",") if f.strip()]
        if select:
            results = [{k: v for k, v in r.items() if k in select or k == "__metadata"} for r in results]
        body: dict = {"results": results}
        if req.params.get("$inlinecount") == "allpages":
            body["__count"] = str(len(matched))
        remaining = (top - limit) if top else None
        if len(window) > limit and (remaining is None or remaining > 0):
            params = {k: v for k, v in req.params.items() if k not in ("$skip", "$top")}
            params["$skip"] = str(skip + limit)
            if remaining:
                params["$top"] = str(remaining)
            body["__next"] = f"{self.base_url}{req.path}?{urlencode(params)}"
        return self.json(200, {"d": body})

    def matches(self, name: str, data: dict, expression: str) -> bool:
        if not expression.strip():
            return True
        props = SERVICES_BY_SET[name][2]
        for clause in re.split(r"\s+and\s+", expression.strip()):
            found = COMPARE.match(clause)
            if found is None or found["field"] not in props:
                raise bad("/IWBEP/CM_MGW_RT/006", f"Invalid filter expression: '{clause}'")
            literal, kind = found["value"], props[found["field"]]
            actual: Any = data.get(found["field"])
            if literal.startswith(("datetimeoffset'", "datetime'")):
                text = literal.split("'", 1)[1][:-1]
                try:
                    wanted: Any = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
                except ValueError:
                    raise bad("/IWBEP/CM_MGW_RT/006", f"Invalid date literal '{text}'") from None
                if wanted.tzinfo is None:
                    wanted = wanted.replace(tzinfo=dt.UTC)
                if actual is None:
                    return False
                actual = dt.datetime.fromisoformat(str(actual)) if kind == STAMP else \
                    dt.datetime.fromisoformat(str(actual)[:10]).replace(tzinfo=dt.UTC)
            elif literal.startswith("'"):
                wanted, actual = literal[1:-1].replace("''", "'"), "" if actual is None else str(actual)
            elif literal in ("true", "false"):
                wanted, actual = literal == "true", bool(actual)
            elif kind == DECIMAL:
                wanted, actual = Decimal(literal.rstrip("mM")), Decimal(str(actual or 0))
            else:
                raise bad("/IWBEP/CM_MGW_RT/006", f"Invalid literal '{literal}' for '{found['field']}'")
            if not OPS[found["op"]](actual, wanted):
                return False
        return True

    # -- writing ------------------------------------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    def stamp(self) -> dict:
        now = self.now()
        return {"LastChangeDateTime": now.isoformat(), "_changed": now.strftime("%Y%m%d%H%M%S.%f")}

    def create_partner(self, body: dict) -> Row:
        name = str(body.get("OrganizationBPName1") or "").strip()
        if body.get("BusinessPartnerCategory") != "2" or not name:
            raise bad("R11/401", "Enter a name for the organization (BusinessPartnerCategory 2)",
                      "OrganizationBPName1")
        if len(name) > 40:
            raise bad("/IWBEP/CM_MGW_RT/004", "Property 'OrganizationBPName1' is longer than 40 characters",
                      "OrganizationBPName1")
        number = str(1000000 + len(self.store.rows("A_BusinessPartner")) + 1)
        now = self.now()
        data = {"BusinessPartner": number, "Customer": number, "BusinessPartnerCategory": "2",
                "OrganizationBPName1": name, "BusinessPartnerFullName": name,
                "SearchTerm1": str(body.get("SearchTerm1") or name[:20]).upper(), "BusinessPartnerIsBlocked": False,
                "CreationDate": now.date().isoformat(), "LastChangeDate": now.date().isoformat(),
                "LastChangeTime": now.strftime("%H:%M:%S"), **self.stamp()}
        return self.store.create("A_BusinessPartner", data, number)

    def change(self, req: Request, name: str, row: Row) -> None:
        if name != "A_BusinessPartner":
            raise ODataError(405, "/IWBEP/CM_MGW_RT/036", "Entity set is read-only")
        self.check_match(req, row)
        body = self.body(req)
        refused = set(body) - BP_CHANGES - {"__metadata"}
        if refused:
            raise bad("/IWBEP/CM_MGW_RT/004", f"Property {', '.join(sorted(refused))} cannot be changed")
        changes = {k: v for k, v in body.items() if k in BP_CHANGES}
        now = self.now()
        if "OrganizationBPName1" in changes:
            changes["BusinessPartnerFullName"] = changes["OrganizationBPName1"]
        changes.update(LastChangeDate=now.date().isoformat(), LastChangeTime=now.strftime("%H:%M:%S"))
        self.store.update(name, row.id, {**changes, **self.stamp()})

    def _account(self, account: str, index: int) -> Row:
        row = self.store.find("A_GLAccountInChartOfAccounts", account)
        if row is None:
            raise bad("FH/202", f"G/L account {account} does not exist in chart of accounts {CHART_OF_ACCOUNTS}",
                      f"to_Item({index + 1})/GLAccount")
        if row.data["AccountIsBlockedForPosting"]:
            raise bad("F5/351", f"Account {account} is blocked for posting", f"to_Item({index + 1})/GLAccount")
        return row

    def post_entry(self, body: dict, reversal_of: Row | None = None, explicit_tax: bool = False) -> Row:
        """Post a journal entry: items that balance (debits ``S`` = credits ``H``, with the tax items posted
        automatically for each revenue item's tax code), a customer on its receivable items."""
        if body.get("CompanyCode") != COMPANY_CODE:
            raise bad("F5/165", f"Company code {body.get('CompanyCode')} does not exist", "CompanyCode")
        doc_type = body.get("AccountingDocumentType")
        if doc_type not in DOC_TYPES:
            raise bad("F5/814", f"Document type {doc_type} is not defined", "AccountingDocumentType")
        currency = body.get("TransactionCurrency") or HOME_CURRENCY
        if self.store.find("A_Currency", currency) is None:
            raise bad("F5/097", f"Currency {currency} is not defined", "TransactionCurrency")
        reference = str(body.get("DocumentReferenceID") or "")
        if len(reference) > 16:
            raise bad("/IWBEP/CM_MGW_RT/004", "Property 'DocumentReferenceID' is longer than 16 characters",
                      "DocumentReferenceID")
        posting = parse_date(body.get("PostingDate"), "PostingDate") or self.now().date()
        year = str(posting.year)
        number = f"{NUMBER_RANGES[doc_type]}{len(self.store.rows('A_JournalEntry')) + 1:08d}"
        items, totals = [], {"S": ZERO, "H": ZERO}
        head = {"AccountingDocument": number, "FiscalYear": year, "TransactionCurrency": currency}
        sent = (body.get("to_Item") or {}).get("results") or []
        for index, item in enumerate(sent):
            made = self.tax_item(item, index, len(items), head, sent) if item.get("_tax") else \
                self.entry_items(item, index, len(items), head, explicit_tax, doc_type)
            for entry in made:
                items.append(entry)
                totals[entry["DebitCreditCode"]] += entry["AmountInTransactionCurrency"]
        if len(items) < 2:
            raise bad("F5/701", "Enter at least two line items")
        if totals["S"] != totals["H"]:
            raise bad("F5/702", f"Balance in transaction currency: {totals['S'] - totals['H']}")
        customer_items = [i for i in items if i["Customer"]]
        if doc_type == "SA":  # G/L accounts only (account type S)
            if customer_items:
                raise bad("F5/193", "Account type D is not allowed for document type SA",
                          "AccountingDocumentType")
        elif not customer_items or len({i["Customer"] for i in customer_items}) > 1:
            raise bad("F5/770", "Enter exactly one customer on the receivable items")
        if doc_type == "DZ":  # a payment's amount: what reached the bank
            total = sum((i["AmountInTransactionCurrency"] for i in items if not i["Customer"] and
                         i["DebitCreditCode"] == ("H" if reversal_of else "S")), ZERO)
        elif doc_type == "SA":  # an expense's or journal's amount: its debits
            total = sum((i["AmountInTransactionCurrency"] for i in items if i["DebitCreditCode"] == "S"), ZERO)
        else:
            total = sum((i["AmountInTransactionCurrency"] for i in customer_items), ZERO)
        data = {"CompanyCode": COMPANY_CODE, "AccountingDocument": number, "FiscalYear": year,
                "AccountingDocumentType": doc_type, "DocumentReferenceID": reference or None,
                "DocumentHeaderText": (str(body.get("DocumentHeaderText") or "")[:25]) or None,
                "PostingDate": posting.isoformat(),
                "DocumentDate": (parse_date(body.get("DocumentDate"), "DocumentDate") or posting).isoformat(),
                "TransactionCurrency": currency, "AmountInTransactionCurrency": total, "IsReversal": bool(reversal_of),
                "IsReversed": False, "ReverseDocument": None, "ReverseDocumentFiscalYear": None,
                "ReversalReason": None, "CreationDateTime": self.now().isoformat(), "_items": items,
                "_reversal_of": reversal_of.data["AccountingDocument"] if reversal_of else None, **self.stamp()}
        return self.store.create("A_JournalEntry", data, f"{number}-{year}")

    def tax_item(self, item: dict, index: int, count: int, head: dict, sent: list[dict]) -> list[dict]:
        """A ``ProductTaxItem`` as sent: a known tax code, a base that G/L items with that code carry, and the
        amount the code's rate gives on that base (to the cent); posted to the tax account."""
        code = str(item.get("TaxCode") or "")
        tax = self.store.find("A_TaxCode", code)
        if tax is None:
            raise bad("FS/102", f"Tax code {code} is not defined", f"ProductTaxItem({index + 1})/TaxCode")
        base = item["_base"]
        based = sum((i["AmountInTransactionCurrency"] for i in sent if not i.get("_tax") and i.get("TaxCode") == code
                     and i["DebitCreditCode"] == item["DebitCreditCode"]), ZERO)
        expected = (base * tax.data["TaxRate"] / 100).quantize(CENT, ROUND_HALF_UP)
        if base > based or abs(item["AmountInTransactionCurrency"] - expected) > CENT:
            raise bad("FF/747", f"Tax amount {item['AmountInTransactionCurrency']} for tax code {code} differs from "
                                f"the amount calculated ({expected}) on base {base}",
                      f"ProductTaxItem({index + 1})/AmountInTransactionCurrency")
        return [{"CompanyCode": COMPANY_CODE, **head, "AccountingDocumentItem": f"{count + 1:03d}",
                 "GLAccount": TAX_ACCOUNT, "Customer": None, "DebitCreditCode": item["DebitCreditCode"],
                 "AmountInTransactionCurrency": item["AmountInTransactionCurrency"], "TaxCode": code,
                 "DocumentItemText": None, "InvoiceReference": None, "InvoiceReferenceFiscalYear": None,
                 "IsAutomaticallyCreated": True}]

    def entry_items(self, item: dict, index: int, count: int, head: dict, explicit_tax: bool = False,
                    doc_type: str = "") -> list[dict]:
        """One item as sent, checked (its account or customer, the invoice it names), and the tax item S/4HANA
        posts for a revenue item's tax code."""
        side = item.get("DebitCreditCode")
        value = amount(item.get("AmountInTransactionCurrency"), "AmountInTransactionCurrency")
        if side not in ("S", "H") or value <= 0:
            raise bad("F5/760", f"Item {index + 1}: enter a positive amount and debit (S) or credit (H)",
                      f"to_Item({index + 1})")
        customer = str(item.get("Customer") or "")
        if customer:
            partner = self.store.find("A_BusinessPartner", customer)
            if partner is None:
                raise bad("F5/104", f"Customer {customer} is not defined in company code {COMPANY_CODE}",
                          f"to_Item({index + 1})/Customer")
            if partner.data["BusinessPartnerIsBlocked"]:
                raise bad("F5/351", f"Customer {customer} is blocked for posting", f"to_Item({index + 1})")
            account = RECEIVABLES_ACCOUNT
        else:
            account = str(item.get("GLAccount") or "")
            self._account(account, index)
        reference_doc = str(item.get("InvoiceReference") or "")
        if reference_doc:
            self.check_reference(item, customer, value, index, doc_type)
        entry = {"CompanyCode": COMPANY_CODE, **head, "AccountingDocumentItem": f"{count + 1:03d}",
                 "GLAccount": account, "Customer": customer or None, "DebitCreditCode": side,
                 "AmountInTransactionCurrency": value, "TaxCode": item.get("TaxCode") or None,
                 "DocumentItemText": (str(item.get("DocumentItemText") or "")[:50]) or None,
                 "InvoiceReference": reference_doc or None,
                 "InvoiceReferenceFiscalYear": item.get("InvoiceReferenceFiscalYear") if reference_doc else None,
                 "IsAutomaticallyCreated": False}
        if explicit_tax and entry["TaxCode"] and self.store.find("A_TaxCode", str(entry["TaxCode"])) is None:
            raise bad("FS/102", f"Tax code {entry['TaxCode']} is not defined", f"Item({index + 1})/Tax/TaxCode")
        if not entry["TaxCode"] or customer or explicit_tax:
            return [entry]
        tax = self.store.find("A_TaxCode", str(entry["TaxCode"]))
        if tax is None:
            raise bad("FS/102", f"Tax code {entry['TaxCode']} is not defined", f"to_Item({index + 1})/TaxCode")
        tax_amount = (value * tax.data["TaxRate"] / 100).quantize(CENT, ROUND_HALF_UP)
        if not tax_amount:
            return [entry]
        return [entry, {**entry, "AccountingDocumentItem": f"{count + 2:03d}", "GLAccount": TAX_ACCOUNT,
                        "AmountInTransactionCurrency": tax_amount, "DocumentItemText": None,
                        "IsAutomaticallyCreated": True}]

    def check_reference(self, item: dict, customer: str, value: Decimal, index: int, doc_type: str = "") -> None:
        """An item that names an invoice it pays or credits: a live customer invoice of the same customer; a credit
        no greater than what is still open (a debit naming it, as a counter-posting does, gives back). On a
        customer document (``DA``, a refund) the item may name a credit memo instead: a debit no greater than the
        credit it still has."""
        ref = f"{item.get('InvoiceReference')}-{item.get('InvoiceReferenceFiscalYear') or ''}"
        invoice = self.store.find("A_JournalEntry", ref)
        if doc_type == "DA" and invoice is not None and invoice.data["AccountingDocumentType"] == "DG":
            if invoice.data["IsReversed"] or not any(i["Customer"] == customer for i in invoice.data["_items"]):
                raise bad("F5/118", f"Invoice reference {item.get('InvoiceReference')} is not an open item of "
                                    f"customer {customer}", f"to_Item({index + 1})/InvoiceReference")
            if item.get("DebitCreditCode") == "S" and value > self.open_credit(invoice):
                raise bad("F5/263", f"Amount {value} exceeds the open amount of credit memo "
                                    f"{item.get('InvoiceReference')}",
                          f"to_Item({index + 1})/AmountInTransactionCurrency")
            return
        if invoice is None or invoice.data["AccountingDocumentType"] != "DR" or invoice.data["IsReversed"] or \
                not any(i["Customer"] == customer for i in invoice.data["_items"]):
            raise bad("F5/118", f"Invoice reference {item.get('InvoiceReference')} is not an open item of customer "
                                f"{customer}", f"to_Item({index + 1})/InvoiceReference")
        if item.get("DebitCreditCode") == "H" and value > self.open_amount(invoice):
            raise bad("F5/263", f"Amount {value} exceeds the open amount of invoice {item.get('InvoiceReference')}",
                      f"to_Item({index + 1})/AmountInTransactionCurrency")

    def open_amount(self, invoice: Row) -> Decimal:
        total = invoice.data["AmountInTransactionCurrency"]
        taken = sum((i["AmountInTransactionCurrency"] * (1 if i["DebitCreditCode"] == "H" else -1)
                     for row, i in self.all_items() if not row.data["IsReversed"]
                     and not row.data["IsReversal"] and i["InvoiceReference"] == invoice.data["AccountingDocument"]
                     and i["InvoiceReferenceFiscalYear"] == invoice.data["FiscalYear"]), ZERO)
        return total - taken

    def open_credit(self, credit: Row) -> Decimal:
        """What a credit memo's customer still has of it: its customer credits that name no invoice, less the
        debits of live documents naming it (refunds), plus their credits (counter-postings)."""
        own = sum((i["AmountInTransactionCurrency"] for i in credit.data["_items"] if i["Customer"]
                   and not i["InvoiceReference"] and i["DebitCreditCode"] == "H"), ZERO)
        taken = sum((i["AmountInTransactionCurrency"] * (1 if i["DebitCreditCode"] == "S" else -1)
                     for row, i in self.all_items() if not row.data["IsReversed"] and not row.data["IsReversal"]
                     and row.id != credit.id and i["InvoiceReference"] == credit.data["AccountingDocument"]
                     and i["InvoiceReferenceFiscalYear"] == credit.data["FiscalYear"]), ZERO)
        return own - taken

    def referencing(self, row: Row) -> list[Row]:
        return [other for other in self.store.rows("A_JournalEntry") if not other.data["IsReversed"] and
                other.id != row.id and any(i["InvoiceReference"] == row.data["AccountingDocument"] and
                                           i["InvoiceReferenceFiscalYear"] == row.data["FiscalYear"]
                                           for i in other.data["_items"])]

    def reverse(self, entry_id: str, reason: str, posting: str | None) -> Row:
        """A person's reversal in the "Reverse Journal Entries" app (no API of SAP_COM_0002 offers one): a reversal
        document with every item on the other side; the original is ``IsReversed``. An invoice that payments or
        credit memos still reference is refused (reverse those first)."""
        row = self.store.find("A_JournalEntry", entry_id)
        if row is None:
            raise not_found("Journal entry")
        if row.data["IsReversed"] or row.data["IsReversal"]:
            raise bad("F5/298", f"Document {row.data['AccountingDocument']} is already reversed")
        if self.referencing(row):
            raise bad("F5/150", f"Document {row.data['AccountingDocument']} contains items that other documents "
                                "clear or reference; reverse those first")
        flipped = [{"GLAccount": i["GLAccount"], "Customer": i["Customer"], "TaxCode": None,
                    "DebitCreditCode": "H" if i["DebitCreditCode"] == "S" else "S",
                    "AmountInTransactionCurrency": i["AmountInTransactionCurrency"]} for i in row.data["_items"]]
        date = parse_date(str(posting).strip("'").replace("datetime", "") if posting else None, "PostingDate")
        reversal = self.post_entry({"CompanyCode": COMPANY_CODE, "AccountingDocumentType": row.data[
            "AccountingDocumentType"], "DocumentReferenceID": row.data.get("DocumentReferenceID"),
            "TransactionCurrency": row.data["TransactionCurrency"], "PostingDate": (date or self.now().date())
            .isoformat(), "to_Item": {"results": flipped}}, reversal_of=row)
        self.store.update("A_JournalEntry", row.id, {"IsReversed": True, "ReverseDocument": reversal.data[
            "AccountingDocument"], "ReverseDocumentFiscalYear": reversal.data["FiscalYear"], "ReversalReason": reason,
            **self.stamp()})
        return self.store.get("A_JournalEntry", row.id)

    # -- what a person does in the Fiori apps -----------------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: Decimal, reference: str = "",
                               date: str | None = None) -> dict:
        """An incoming payment posted in "Post Incoming Payments": bank debit, the customer's item credited with
        the invoice as its reference; ``reference`` goes into the document's reference."""
        invoice = self.store.get("A_JournalEntry", str(invoice_id))
        customer = next(i["Customer"] for i in invoice.data["_items"] if i["Customer"])
        value = Decimal(str(amount))
        row = self.post_entry({"CompanyCode": COMPANY_CODE, "AccountingDocumentType": "DZ",
                               "DocumentReferenceID": reference or None, "PostingDate": date,
                               "TransactionCurrency": invoice.data["TransactionCurrency"],
                               "to_Item": {"results": [
                                   {"GLAccount": "11001000", "DebitCreditCode": "S",
                                    "AmountInTransactionCurrency": value},
                                   {"Customer": customer, "DebitCreditCode": "H", "AmountInTransactionCurrency": value,
                                    "InvoiceReference": invoice.data["AccountingDocument"],
                                    "InvoiceReferenceFiscalYear": invoice.data["FiscalYear"]}]}})
        return self.entry_view(row)

    def entry_view(self, row: Row) -> dict:
        """A posted entry as a person sees it in "Manage Journal Entries": its key, type, reference, state and items
        (as the read service shows them)."""
        return {"CompanyCode": COMPANY_CODE, "AccountingDocument": row.data["AccountingDocument"],
                "FiscalYear": row.data["FiscalYear"], "AccountingDocumentType": row.data["AccountingDocumentType"],
                "DocumentReferenceID": row.data.get("DocumentReferenceID"), "IsReversed": row.data["IsReversed"],
                "ReverseDocument": row.data.get("ReverseDocument"),
                "items": [self.render_item(self.item_data(row, i)) for i in row.data["_items"]]}

    def delete_payment_as_user(self, payment_id: str) -> dict:
        """S/4HANA deletes no posted document: a person reverses the payment, which reopens the invoices."""
        return self.entry_view(self.reverse(str(payment_id), "01", None))

    def void_invoice_as_user(self, invoice_id: str, **_: Any) -> dict:
        return self.entry_view(self.reverse(str(invoice_id), "01", None))

    def reverse_refund_as_user(self, refund_id: str) -> dict:
        """A refund's journal entry reversed in "Reverse Journal Entries": the credit memo's credit is open again."""
        return self.entry_view(self.reverse(str(refund_id), "01", None))

    def reverse_expense_as_user(self, expense_id: str) -> dict:
        return self.entry_view(self.reverse(str(expense_id), "01", None))

    def reverse_journal_as_user(self, journal_id: str) -> dict:
        return self.entry_view(self.reverse(str(journal_id), "01", None))

    def archive_account_as_user(self, account_id: str) -> dict:
        """The G/L account blocked for posting."""
        self.store.update("A_GLAccountInChartOfAccounts", str(account_id), {"AccountIsBlockedForPosting": True})
        return self.render("A_GLAccountInChartOfAccounts",
                           self.store.get("A_GLAccountInChartOfAccounts", str(account_id)))


SERVICES_BY_SET = {name: spec for sets in SERVICES.values() for name, spec in sets.items()}
SERVICE_OF = {name: service for service, sets in SERVICES.items() for name in sets}


def metadata(service: str) -> str:
    """The service's EDMX (OData V2, ``m:DataServiceVersion`` 2.0): its entity types, sets, the journal entry's
    items navigation and the ``Reverse`` function import."""
    types, sets, associations, assoc_sets = [], [], [], []
    for name, (kind, keys, props) in SERVICES[service].items():
        fields = "".join(
            f'<Property Name="{p}" Type="{t}" Nullable="{"false" if p in keys else "true"}"'
            + (' Precision="23" Scale="3"' if t == DECIMAL else ' Precision="7"' if t == STAMP else "")
            + (' sap:display-format="Date"' if t == DATE else "") + "/>" for p, t in props.items())
        nav = ""
        if name in NAVIGATION:
            nav_name, target = NAVIGATION[name]
            nav = (f'<NavigationProperty Name="{nav_name}" Relationship="{service}.assoc_{nav_name}" '
                   f'FromRole="FromRole_{nav_name}" ToRole="ToRole_{nav_name}"/>')
            target_type = SERVICES[service][target][0]
            associations.append(
                f'<Association Name="assoc_{nav_name}"><End Type="{service}.{kind}" Multiplicity="1" '
                f'Role="FromRole_{nav_name}"/><End Type="{service}.{target_type}" Multiplicity="*" '
                f'Role="ToRole_{nav_name}"/></Association>')
            assoc_sets.append(
                f'<AssociationSet Name="assoc_{nav_name}_set" Association="{service}.assoc_{nav_name}">'
                f'<End EntitySet="{name}" Role="FromRole_{nav_name}"/><End EntitySet="{target}" '
                f'Role="ToRole_{nav_name}"/></AssociationSet>')
        key = "".join(f'<PropertyRef Name="{k}"/>' for k in keys)
        types.append(f'<EntityType Name="{kind}" sap:content-version="1"><Key>{key}</Key>{fields}{nav}</EntityType>')
        sets.append(f'<EntitySet Name="{name}" EntityType="{service}.{kind}" sap:content-version="1"/>')
    functions = ""
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" '
            'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
            'xmlns:sap="http://www.sap.com/Protocols/SAPData">'
            '<edmx:DataServices m:DataServiceVersion="2.0">'
            f'<Schema Namespace="{service}" xml:lang="en" sap:schema-version="1" '
            'xmlns="http://schemas.microsoft.com/ado/2008/09/edm">'
            + "".join(types) + "".join(associations)
            + f'<EntityContainer Name="{service}_Entities" m:IsDefaultEntityContainer="true">'
            + "".join(sets) + "".join(assoc_sets) + functions
            + "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>")
