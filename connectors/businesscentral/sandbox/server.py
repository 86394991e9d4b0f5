"""Business Central API v2.0 on loopback HTTP, built on the sandbox kit.

Routes: Entra ID's token endpoints (``/{tenant}/oauth2/v2.0/authorize`` and ``/token``: authorization code,
refresh token and client credentials grants) and the standard API under
``/v2.0/{tenant}/{environment}/api/v2.0``: ``companies``, and per company (``companies({id})/...``) customers,
items, accounts, taxGroups, currencies, companyInformation, salesInvoices (+ salesInvoiceLines, ``post``,
``cancel``), salesCreditMemos (+ lines, ``post``, ``cancel``), customerPaymentJournals and customerPayments,
vendors, purchaseInvoices (+ lines, ``post``), journals (+ journalLines, ``post``) and generalLedgerEntries
(``costs.py``), and the tenant's webhook ``subscriptions`` (validation handshake, renewal, notifications).

OData v4 as Business Central speaks it: ``@odata.context`` and ``@odata.etag`` on every entity, collections under
``value``, ``@odata.nextLink`` server-driven paging (``Prefer: odata.maxpagesize``), ``$filter`` (``eq``, ``ne``,
``gt``, ``ge``, ``lt``, ``le`` joined by ``and``), ``$top``, ``$skip``, ``$orderby``, ``$expand`` of document lines,
``If-Match`` required on PATCH and checked on DELETE and bound actions when sent (a stale ETag is a 409
``Request_EntityChanged``), errors as ``{"error": {"code", "message"}}``.
Every fact and guess is listed with its source in docs/sandbox-businesscentral.md.
"""
from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import re
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ...sandboxkit.faults import Fault
from ...sandboxkit.limits import Limiter
from ...sandboxkit.oauth import AuthServer
from ...sandboxkit.platform import (PlatformError, PlatformSandbox, Request, Response, dumps,
                                    json_response, parse_timestamp)
from ...sandboxkit.resources import Conflict, NotFound, ResourceError, ResourceStore, Row
from .costs import POSTED_PURCHASE_SERIES, PURCHASE_SERIES, VENDOR_SERIES, BusinessCentralCosts
from .seed import COMPANY_ID, COMPANY_NAME, ENVIRONMENT, HOME_CURRENCY, TENANT_ID, seed
from .wire import (CENT, GUID, ZERO, BCError, bad_request, bc_time, dialog, etag, field_error, guid_key,
                   no_token, not_found, number, relation_error, stale, too_long)

#: Business Central's per-user limit: 6,000 requests in a sliding 5-minute window (API limits page).
LIMIT = (6000, 300.0)
MAX_PAGE = 20000  # entities per page unless the client asks for fewer (Prefer: odata.maxpagesize)
#: Subscriptions live three days unless renewed (webhooks page).
SUBSCRIPTION_TTL = 3 * 86400
#: Resources under ``companies({id})``: what the store calls them, and the entity set's ETag/OData type name.
ENTITY_SETS = ("customers", "items", "accounts", "taxGroups", "currencies", "salesInvoices", "salesCreditMemos",
               "customerPaymentJournals", "customerPayments", "vendors", "purchaseInvoices", "journals",
               "journalLines", "generalLedgerEntries")
LINES = {"salesInvoices": "salesInvoiceLines", "salesCreditMemos": "salesCreditMemoLines",
         "purchaseInvoices": "purchaseInvoiceLines"}
#: The table a document's lines live in, as Business Central names it in its messages.
LINE_TABLES = {"salesInvoices": "Sales Line", "salesCreditMemos": "Sales Line", "purchaseInvoices": "Purchase Line"}
DATE_FIELD = {"salesInvoices": "invoiceDate", "salesCreditMemos": "creditMemoDate", "purchaseInvoices": "invoiceDate"}
#: Fields the server computes; a client that sends them is refused (as Business Central refuses a read-only field).
READ_ONLY = {"id", "number", "lastModifiedDateTime", "status", "totalAmountExcludingTax", "totalTaxAmount",
             "totalAmountIncludingTax", "remainingAmount", "customerName", "customerNumber", "journalDisplayName",
             "balancingAccountNumber", "appliesToInvoiceNumber", "invoiceNumber", "lineNumber",
             "vendorName", "vendorNumber", "templateDisplayName", "entryNumber", "debitAmount", "creditAmount"}
WRITABLE = {
    "customers": {"displayName", "type", "email", "phoneNumber", "website", "currencyCode", "blocked",
                  "taxLiable", "taxRegistrationNumber", "addressLine1", "addressLine2", "city", "state", "country",
                  "postalCode"},
    "items": {"displayName", "type", "unitPrice", "unitCost", "blocked", "taxGroupCode", "gtin",
              "priceIncludesTax", "itemCategoryCode"},
    "salesInvoices": {"externalDocumentNumber", "invoiceDate", "dueDate", "customerId", "currencyCode",
                      "customerPurchaseOrderReference", "pricesIncludeTax", "discountAmount", "salesInvoiceLines",
                      "email", "phoneNumber", "postingDate"},
    "salesCreditMemos": {"externalDocumentNumber", "creditMemoDate", "dueDate", "customerId", "currencyCode",
                         "pricesIncludeTax", "discountAmount", "salesCreditMemoLines", "invoiceId", "postingDate",
                         "email", "phoneNumber"},
    "customerPaymentJournals": {"code", "displayName", "balancingAccountId"},
    "customerPayments": {"customerId", "postingDate", "documentNumber", "externalDocumentNumber", "amount",
                         "appliesToInvoiceId", "description", "comment", "journalId"},
    "vendors": {"displayName", "email", "currencyCode", "blocked", "taxRegistrationNumber"},
    "purchaseInvoices": {"vendorInvoiceNumber", "invoiceDate", "postingDate", "dueDate", "vendorId", "currencyCode",
                         "pricesIncludeTax", "discountAmount", "purchaseInvoiceLines"},
    "journals": {"code", "displayName", "balancingAccountId"},
    "journalLines": {"journalId", "lineNumber", "accountType", "accountId", "accountNumber", "postingDate",
                     "documentNumber", "externalDocumentNumber", "amount", "description", "comment", "taxCode",
                     "balanceAccountType", "balancingAccountId", "balancingAccountNumber"},
}
LINE_WRITABLE = {"sequence", "lineType", "itemId", "accountId", "lineObjectNumber", "description", "unitPrice",
                 "quantity", "taxCode", "discountAmount", "discountPercent"}
SERIES = {"customers": "C", "items": "I", "salesInvoices": "S-INV", "salesCreditMemos": "S-CR",
          "customerPayments": "G", "vendors": VENDOR_SERIES, "purchaseInvoices": PURCHASE_SERIES}
POSTED_SERIES = {"salesInvoices": "PS-INV", "salesCreditMemos": "PS-CR", "purchaseInvoices": POSTED_PURCHASE_SERIES}
SEGMENT = re.compile(r"^(?P<name>[A-Za-z.]+)(?:\((?P<key>[^)]*)\))?$")
COMPARE = re.compile(r"^\s*(?P<field>[A-Za-z]+)\s+(?P<op>eq|ne|gt|ge|lt|le)\s+(?P<value>'(?:[^']|'')*'|\S+)\s*$")




class BusinessCentralSandbox(BusinessCentralCosts, PlatformSandbox):
    """One tenant, one environment, one company (``company_id``), its token endpoints, limits, faults and webhook
    subscriptions."""

    platform, title, default_port, ready_path = "businesscentral", "Dynamics 365 Business Central", 8770, \
        "/_sandbox/state"
    api_path = f"/v2.0/{TENANT_ID}/{ENVIRONMENT}/api/v2.0"
    #: What a person does in Business Central to take back an expense or a journal we sent (refunds are not sent):
    #: entity -> (the ``<action>_as_user`` helper, its id keyword). A draft purchase invoice may also simply be
    #: deleted, which no list shows afterwards (docs/connectors/businesscentral.md).
    user_takes_back = {"expense": ("cancel_purchase_invoice", "purchase_invoice_id"),
                       "journal": ("delete_journal", "journal_id")}
    token_path = f"/{TENANT_ID}/oauth2/v2.0/token"
    authorize_path = f"/{TENANT_ID}/oauth2/v2.0/authorize"
    revoke_path = None  # Entra ID has no token revocation endpoint

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] | None = None,
                 access_ttl: int = 3600, timeout_seconds: float = 5.0, verbose: bool = False) -> None:
        super().__init__(host, port, clock, timeout_seconds, verbose)
        self.auth = AuthServer(clock=self.clock, access_ttl=access_ttl, render_error=_token_error)
        self.limits = Limiter(self.clock, window=LIMIT)
        self.store = ResourceStore(self.clock)
        for name in ENTITY_SETS:
            self.store.declare(name, ids="uuid", versioned=True)
        self.store.declare("subscriptions", ids="uuid", versioned=True)
        self.account_ids: dict[str, str] = {}
        self._series: dict[str, Any] = {}
        self._sent: list[dict] = []  # webhook notifications and handshakes sent, newest last
        self._notify_lock = threading.Lock()
        self._pending: list[dict] = []
        self.store.subscribe(self._changed)
        self.reset()

    # -- kit hooks -------------------------------------------------------------------------------------------------
    @property
    def company_id(self) -> str:
        return COMPANY_ID

    def seed(self) -> None:
        self._series = {k: itertools.count(1001) for k in (*SERIES.values(), *POSTED_SERIES.values())}
        self.account_ids = {}
        with self._notify_lock:
            self._pending, self._sent = [], []
        seed(self.store, self.account_ids)

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            return self._too_many(int(fault.retry_after or 60))
        if fault.kind == "http_503":
            return BCError(503, "ServiceUnavailable", "The service is temporarily unavailable.",
                           (("Retry-After", "30"),)).response()
        return BCError(500, "InternalServerError", "Something went wrong.").response()

    def extra_state(self) -> dict:
        return {"tenant": TENANT_ID, "environment": ENVIRONMENT,
                "subscriptions": [self._subscription(r) for r in self.store.rows("subscriptions")],
                "notifications": list(self._sent)}

    def store_error(self, error: ResourceError, request: Request) -> PlatformError:
        if isinstance(error, NotFound):
            return not_found()
        if isinstance(error, Conflict):
            return stale()
        return bad_request(error.message)

    # -- routing ----------------------------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        if req.path == self.token_path and req.method == "POST":
            form = {**req.params, **req.form()}
            if form.get("grant_type") == "client_credentials":
                return self._client_credentials(req.header("Authorization"), form)
        if req.path == f"/{TENANT_ID}/adminconsent" and req.method == "GET":
            return self._admin_consent(req.params)
        if (oauth := self.oauth_route(req)) is not None:
            return oauth
        if not req.path.startswith(self.api_path + "/"):
            return BCError(404, "BadRequest_NotFound", "No HTTP resource was found that matches the request URI.") \
                .response()
        if self.auth.check(req.header("Authorization")) is not None:
            return BCError(401, "Authentication_InvalidCredentials",
                           "The server has rejected the client credentials.").response()
        exceeded = self.limits.hit(("window", TENANT_ID))
        if exceeded is not None:
            return self._too_many(exceeded.retry_after)
        parts = [p for p in req.path[len(self.api_path) + 1:].split("/") if p]
        return self.dispatch(req, parts)

    def _too_many(self, retry_after: int) -> Response:
        return BCError(429, "Application_TooManyRequests", "Too many requests reached.  Actual (6001).  "
                       "Maximum (6000).", (("Retry-After", str(max(1, retry_after))),)).response()

    def _admin_consent(self, params: dict) -> Response:
        """Entra's admin consent page: the administrator consents at once; back to ``redirect_uri`` with
        ``admin_consent=True``, the tenant and the ``state``."""
        redirect = params.get("redirect_uri", "")
        if params.get("client_id") != self.auth.client_id or not redirect:
            return self.auth._error("invalid_client", 400)
        query = urllib.parse.urlencode({"admin_consent": "True", "tenant": TENANT_ID,
                                        **({"state": params["state"]} if "state" in params else {})})
        return 302, [("Location", redirect + ("&" if "?" in redirect else "?") + query)], b""

    def _client_credentials(self, authorization: str, form: dict) -> Response:
        """Entra ID's client credentials grant: the app's own token, no refresh token, scope ``.default``."""
        with self.auth.lock:
            self.auth.token_calls += 1
            if not self.auth._client_ok(authorization, form):
                return self.auth._error("invalid_client", 401)
        if not form.get("scope", "").endswith("/.default"):
            return self.auth._error("invalid_scope", 400)
        body = self.auth.issue(form["scope"])
        body.pop("refresh_token", None)
        return json_response(200, body)

    def dispatch(self, req: Request, parts: list[str]) -> Response:
        segments = [SEGMENT.match(p) for p in parts]
        if any(s is None for s in segments):
            raise not_found()
        head = segments[0]
        if head["name"] == "subscriptions":
            return self.subscriptions(req, head["key"], len(parts))
        if head["name"] != "companies":
            raise BCError(404, "BadRequest_NotFound", "No HTTP resource was found that matches the request URI.")
        if head["key"] is None:
            if len(parts) > 1 or req.method != "GET":
                raise not_found()
            return self._collection("companies", [self.company()], req)
        if guid_key(head["key"]) != COMPANY_ID:
            raise BCError(404, "BadRequest_NotFound", f"The company '{head['key']}' does not exist.")
        return self._in_company(req, parts, segments[1:])

    def _in_company(self, req: Request, parts: list[str], rest: list[re.Match]) -> Response:
        """A request under ``companies({id})``: the company, its information, an entity set, one of its records,
        a bound action or a record's lines or payments."""
        if not rest:
            return self._entity("companies", self.company())
        name, key = rest[0]["name"], rest[0]["key"]
        if name == "companyInformation" and req.method == "GET":
            return self._collection("companyInformation", [self.company_information()], req)
        if name not in ENTITY_SETS:
            raise BCError(404, "BadRequest_NotFound", f"Resource not found for the segment '{name}'.")
        if key is None:
            if len(rest) > 1:
                raise not_found()
            return self._on_set(req, name)
        row = self.store.get(name, guid_key(key))
        if len(rest) == 1:
            return self._on_record(req, name, row)
        return self._below_record(req, parts, name, row, rest)

    def _on_set(self, req: Request, name: str) -> Response:
        if req.method == "GET":
            return self.list(req, name)
        if req.method == "POST" and name in WRITABLE:
            return self._entity(name, self.render(self.create(name, req)), 201, req)
        raise BCError(405, "BadRequest_MethodNotAllowed", f"'{req.method}' is not allowed on '{name}'.")

    def _on_record(self, req: Request, name: str, row: Row) -> Response:
        if req.method == "GET":
            return self._entity(name, self.render(row), req=req)
        if req.method == "PATCH" and name in WRITABLE:
            return self._entity(name, self.render(self.patch(name, row, req)), req=req)
        if req.method == "DELETE" and name in WRITABLE:
            self.remove(name, row, req)
            return 204, [], b""
        raise BCError(405, "BadRequest_MethodNotAllowed", f"'{req.method}' is not allowed on '{name}'.")

    def _below_record(self, req: Request, parts: list[str], name: str, row: Row, rest: list[re.Match]) -> Response:
        sub, sub_key = rest[1]["name"], rest[1]["key"]
        if sub.startswith("Microsoft.NAV.") and req.method == "POST" and len(rest) == 2:
            self.action(name, row, sub[len("Microsoft.NAV."):], req)
            return 204, [], b""
        if name == "customerPaymentJournals" and sub == "customerPayments" and len(rest) <= 3:
            if sub_key is None:
                if req.method == "GET":
                    return self.list(req, "customerPayments", lambda r: r.data["journalId"] == row.id)
                if req.method == "POST":
                    created = self.create("customerPayments", req, {"journalId": row.id})
                    return self._entity("customerPayments", self.render(created), 201, req)
            return self.dispatch(req, [parts[0], f"customerPayments({sub_key})"])
        if name == "journals" and sub == "journalLines" and len(rest) <= 3:
            if sub_key is None:
                if req.method == "GET":
                    return self.list(req, "journalLines", lambda r: r.data["journalId"] == row.id)
                if req.method == "POST":
                    created = self.create("journalLines", req, {"journalId": row.id})
                    return self._entity("journalLines", self.render(created), 201, req)
            return self.dispatch(req, [parts[0], f"journalLines({sub_key})"])
        if LINES.get(name) == sub and len(rest) == 2:
            return self.lines(req, name, row, sub_key)
        raise not_found()

    # -- OData answers ------------------------------------------------------------------------------------------
    def _context(self, name: str) -> str:
        return f"{self.api_base}/$metadata#companies({COMPANY_ID})/{name}"

    def _entity(self, name: str, body: dict, status: int = 200, req: Request | None = None) -> Response:
        if req is not None and "lines" in req.params.get("$expand", "").lower() and name in LINES:
            body[LINES[name]] = [self._line(line) for line in self.store.get(name, body["id"]).data["_lines"]]
        return json_response(status, {"@odata.context": f"{self._context(name)}/$entity", **body})

    def _collection(self, name: str, rows: list[dict], req: Request, next_link: str = "") -> Response:
        body: dict[str, Any] = {"@odata.context": self._context(name), "value": rows}
        if next_link:
            body["@odata.nextLink"] = next_link
        return json_response(200, body)

    def render(self, row: Row) -> dict:
        """An entity as Business Central answers it: ``@odata.etag``, ``id``, its public fields, times."""
        body = {"@odata.etag": etag(row), "id": row.id,
                **{k: v for k, v in row.data.items() if not k.startswith("_")}}
        body["lastModifiedDateTime"] = bc_time(row.modified)
        if row.resource in LINES:
            body = self._with_totals(row.resource, body, row.data["_lines"])
        return body

    def _line(self, line: dict) -> dict:
        return {"@odata.etag": 'W/"' + base64.b64encode(f"'{line['_version']};'".encode()).decode() + '"',
                **{k: v for k, v in line.items() if not k.startswith("_")}}

    def company(self) -> dict:
        return {"id": COMPANY_ID, "systemVersion": "25.0.23364.24883", "timestamp": 1, "name": COMPANY_NAME,
                "displayName": COMPANY_NAME, "businessProfileId": "", "systemCreatedAt": "2026-01-01T00:00:00Z",
                "systemCreatedBy": "00000000-0000-0000-0000-000000000001", "systemModifiedAt": "2026-01-01T00:00:00Z",
                "systemModifiedBy": "00000000-0000-0000-0000-000000000001"}

    def company_information(self) -> dict:
        return {"@odata.etag": 'W/"JzE7Jw=="', "id": COMPANY_ID, "displayName": COMPANY_NAME,
                "addressLine1": "", "addressLine2": "", "city": "", "state": "", "country": "US", "postalCode": "",
                "phoneNumber": "", "faxNumber": "", "email": "", "website": "", "taxRegistrationNumber": "",
                "currencyCode": HOME_CURRENCY, "currentFiscalYearStartDate": f"{self.today()[:4]}-01-01",
                "industry": "", "lastModifiedDateTime": "2026-01-01T00:00:00Z"}

    # -- lists ------------------------------------------------------------------------------------------------------
    def list(self, req: Request, name: str, extra: Callable[[Row], bool] | None = None) -> Response:
        p = req.params
        tests = self._filter(name, p.get("$filter", ""))
        keep = extra or (lambda row: True)  # a Python predicate (bandit's B610 takes "extra" for Django's)
        rows = [r for r in self.store.rows(name) if all(t(r) for t in tests) and keep(r)]
        order = p.get("$orderby", "").strip()
        if order:
            field, _, direction = order.partition(" ")
            if field == "lastModifiedDateTime":
                rows.sort(key=lambda r: r.modified, reverse=direction.strip().lower() == "desc")
            else:
                rows.sort(key=lambda r: str(r.data.get(field, "")), reverse=direction.strip().lower() == "desc")
        try:
            skip = int(p.get("$skip") or 0)
            top = int(p["$top"]) if p.get("$top") else None
        except ValueError:
            raise bad_request("Bad Request - Error in query syntax.") from None
        size = MAX_PAGE
        match = re.search(r"odata\.maxpagesize=(\d+)", req.header("Prefer"))
        if match:
            size = max(1, min(MAX_PAGE, int(match.group(1))))
        wanted = rows[skip:] if top is None else rows[skip:skip + top]
        page, more = wanted[:size], len(wanted) > size
        next_link = ""
        if more:
            query = {k: v for k, v in p.items() if k not in ("$skip", "$top")}
            query["$skip"] = str(skip + size)
            if top is not None:
                query["$top"] = str(top - size)
            next_link = f"{self.base_url}{req.path}?{urllib.parse.urlencode(query)}"
        rendered = []
        for row in page:
            body = self.render(row)
            if "lines" in p.get("$expand", "").lower() and name in LINES:
                body[LINES[name]] = [self._line(line) for line in row.data["_lines"]]
            rendered.append(body)
        return self._collection(name, rendered, req, next_link)

    def _filter(self, name: str, text: str) -> list[Callable[[Row], bool]]:
        """``$filter`` comparisons joined by ``and`` (the subset integrations use); anything else is refused."""
        if not text.strip():
            return []
        tests = []
        for clause in re.split(r"\s+and\s+", text.strip()):
            found = COMPARE.match(clause.strip().strip("()"))
            if found is None:
                raise bad_request(f"Bad Request - Error in query syntax: '{clause}'.")
            field, op, raw = found["field"], found["op"], found["value"]
            tests.append(self._comparison(name, field, op, raw))
        return tests

    def _comparison(self, name: str, field: str, op: str, raw: str) -> Callable[[Row], bool]:
        if field == "lastModifiedDateTime":
            try:
                when = parse_timestamp(raw.strip("'"))
            except ValueError:
                raise bad_request(f"The filter value '{raw}' is not a valid Edm.DateTimeOffset.") from None
            value_of: Callable[[Row], Any] = lambda r: int(r.modified * 1000)  # noqa: E731 - to the millisecond
            wanted: Any = int(round(when * 1000))
        elif field == "id":
            value_of, wanted = (lambda r: r.id), raw.strip("'").lower()
        else:
            known = {k for r in self.store.rows(name) for k in r.data} | WRITABLE.get(name, set()) | {
                "number", "status", "code", "displayName", "customerId", "journalId", "category"}
            if field not in known:
                raise bad_request(f"Could not find a property named '{field}' on type "
                                  f"'Microsoft.NAV.{name[:-1]}'.")
            if raw.startswith("'"):
                wanted = raw[1:-1].replace("''", "'")
                value_of = lambda r: str(r.data.get(field, ""))  # noqa: E731
            elif re.fullmatch(GUID, raw):
                wanted, value_of = raw.lower(), (lambda r: str(r.data.get(field, "")).lower())
            elif raw in ("true", "false"):
                wanted, value_of = raw == "true", (lambda r: r.data.get(field))
            else:
                wanted = number(raw, field)
                value_of = lambda r: Decimal(str(r.data.get(field) or 0))  # noqa: E731
        ops = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
               "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}
        return lambda row: ops[op](value_of(row), wanted)

    # -- writes -----------------------------------------------------------------------------------------------------
    def _body(self, req: Request, name: str, allowed: set[str]) -> dict:
        body = req.json_object(bad_request("The request body is not a valid JSON object.",
                                           "BadRequest_InvalidRequestBody"))
        body = {k: v for k, v in body.items() if not k.startswith("@odata.")}
        for key in body:
            if key not in allowed:
                if key in READ_ONLY:
                    raise bad_request(f"The property '{key}' is read-only.", "BadRequest_InvalidRequestBody")
                raise bad_request(f"The property '{key}' does not exist on type 'Microsoft.NAV.{name[:-1]}'. "
                                  "Make sure to only use property names that are defined by the type.",
                                  "BadRequest_PropertyNotFound")
        return body

    def _if_match(self, req: Request, row: Row, required: bool = True) -> None:
        """PATCH needs ``If-Match`` (``*`` or the current ETag); DELETE and bound actions check it when sent."""
        sent = req.header("If-Match").strip()
        if not sent:
            if required:
                raise no_token()
            return
        if sent != "*" and sent != etag(row):
            raise stale()

    def create(self, name: str, req: Request, fixed: dict | None = None) -> Row:
        body = {**self._body(req, name, WRITABLE[name]), **(fixed or {})}
        with self.store.lock:
            data = getattr(self, f"_{name}")(body, {})
            return self.store.create(name, data)

    def patch(self, name: str, row: Row, req: Request) -> Row:
        body = self._body(req, name, WRITABLE[name] - {LINES.get(name, "")})
        with self.store.lock:
            current = self.store.get(name, row.id)
            self._if_match(req, current)
            if name in LINES and current.data["status"] != "Draft":
                raise dialog(f"You cannot change a posted {self._noun(name)}. Status must be equal to 'Draft'.")
            data = getattr(self, f"_{name}")({**current.data, **body}, current.data)
            return self.store.update(name, row.id, data, replace=True)

    def remove(self, name: str, row: Row, req: Request) -> None:
        with self.store.lock:
            current = self.store.get(name, row.id)
            self._if_match(req, current, required=False)
            if name in LINES and current.data["status"] != "Draft":
                raise dialog(f"You cannot delete a posted {self._noun(name)}. Cancel it instead.")
            if name in ("customers", "items", "vendors") and self._used(name, row.id):
                raise dialog(f"You cannot delete {self._noun(name)} {current.data['number']} because there is at "
                             "least one outstanding document for it.")
            if name == "customerPaymentJournals" and any(
                    r.data["journalId"] == row.id for r in self.store.rows("customerPayments")):
                raise dialog("You cannot delete a journal that has lines.")
            if name == "journals":  # a general journal batch takes its lines with it
                for line in [r for r in self.store.rows("journalLines") if r.data["journalId"] == row.id]:
                    self.store.delete("journalLines", line.id)
            self.store.delete(name, row.id)

    @staticmethod
    def _noun(name: str) -> str:
        return {"salesInvoices": "sales invoice", "salesCreditMemos": "sales credit memo", "customers": "customer",
                "items": "item", "purchaseInvoices": "purchase invoice", "vendors": "vendor"}.get(name, name)

    def _used(self, name: str, record_id: str) -> bool:
        if name == "vendors":
            return any(r.data.get("vendorId") == record_id for r in self.store.rows("purchaseInvoices"))
        if name == "customers":
            return any(r.data.get("customerId") == record_id
                       for kind in ("salesInvoices", "salesCreditMemos", "customerPayments")
                       for r in self.store.rows(kind))
        return any(line.get("itemId") == record_id for kind in LINES for r in self.store.rows(kind)
                   for line in r.data["_lines"])

    def _next(self, series: str) -> str:
        return f"{series}{next(self._series[series]):06d}"

    def _customers(self, data: dict, old: dict) -> dict:
        if not str(data.get("displayName") or "").strip():
            raise field_error("Name must have a value in Customer: No.=. It cannot be zero or empty.")
        if len(str(data["displayName"])) > 100:
            raise too_long(str(data["displayName"]), 100)
        self._currency(data.get("currencyCode"))
        blocked = data.get("blocked") or " "
        if blocked not in (" ", "Ship", "Invoice", "All"):
            raise bad_request(f"The value '{blocked}' is not valid for blocked.", "BadRequest_InvalidRequestBody")
        return {"number": old.get("number") or self._next(SERIES["customers"]), "displayName": data["displayName"],
                "type": data.get("type") or "Company", "addressLine1": data.get("addressLine1", ""),
                "addressLine2": data.get("addressLine2", ""), "city": data.get("city", ""),
                "state": data.get("state", ""), "country": data.get("country", ""),
                "postalCode": data.get("postalCode", ""), "phoneNumber": data.get("phoneNumber", ""),
                "email": data.get("email", ""), "website": data.get("website", ""),
                "taxLiable": bool(data.get("taxLiable", False)),
                "taxRegistrationNumber": data.get("taxRegistrationNumber", ""),
                "currencyCode": data.get("currencyCode") or "", "blocked": blocked}

    def _items(self, data: dict, old: dict) -> dict:
        if not str(data.get("displayName") or "").strip():
            raise field_error("Description must have a value in Item. It cannot be zero or empty.")
        kind = data.get("type") or "Inventory"
        if kind not in ("Inventory", "Service", "Non-Inventory"):
            raise bad_request(f"The value '{kind}' is not valid for type.", "BadRequest_InvalidRequestBody")
        if data.get("taxGroupCode"):
            self._tax_group(data["taxGroupCode"])
        return {"number": old.get("number") or self._next(SERIES["items"]), "displayName": data["displayName"],
                "type": kind, "blocked": bool(data.get("blocked", False)),
                "unitPrice": number(data.get("unitPrice"), "unitPrice", ZERO),
                "unitCost": number(data.get("unitCost"), "unitCost", ZERO),
                "priceIncludesTax": bool(data.get("priceIncludesTax", False)),
                "taxGroupCode": data.get("taxGroupCode") or "", "gtin": data.get("gtin", ""),
                "itemCategoryCode": data.get("itemCategoryCode", "")}

    def _customerPaymentJournals(self, data: dict, old: dict) -> dict:  # noqa: N802 - the entity set's name
        code = str(data.get("code") or "").strip().upper()
        if not code or len(code) > 10:
            raise field_error("Name must have a value in Gen. Journal Batch. It cannot be zero or empty.")
        if any(r.data["code"] == code and r.data["code"] != old.get("code")
               for r in self.store.rows("customerPaymentJournals")):
            raise dialog(f"The record in table Gen. Journal Batch already exists. Identification fields and "
                         f"values: Journal Template Name='CASHRCPT',Name='{code}'")
        account = self._account(data.get("balancingAccountId")) if data.get("balancingAccountId") else None
        return {"code": code, "displayName": str(data.get("displayName") or code)[:50],
                "balancingAccountId": account.id if account else "00000000-0000-0000-0000-000000000000",
                "balancingAccountNumber": account.data["number"] if account else ""}

    def _customerPayments(self, data: dict, old: dict) -> dict:  # noqa: N802 - the entity set's name
        journal = self.store.get("customerPaymentJournals", data["journalId"]) if data.get("journalId") else \
            self.store.first("customerPaymentJournals", code="GENERAL")
        customer = self._customer(data.get("customerId"))
        amount = number(data.get("amount"), "amount", ZERO)
        if amount > 0:  # a receipt credits the customer (Business Central's error codes page quotes this message)
            raise dialog('The "amount" should be a negative number.')
        invoice_number = ""
        if data.get("appliesToInvoiceId"):
            invoice = self.store.require("salesInvoices", guid_key(str(data["appliesToInvoiceId"])),
                                         dialog(f"The sales invoice {data['appliesToInvoiceId']} does not exist."))
            if invoice.data["customerId"] != customer.id:
                raise dialog("The invoice that the payment applies to belongs to another customer.")
            invoice_number = invoice.data["number"]
        line = old.get("lineNumber") or 10000 * (1 + sum(1 for r in self.store.rows("customerPayments")
                                                         if r.data["journalId"] == journal.id))
        return {"journalId": journal.id, "journalDisplayName": journal.data["code"], "lineNumber": line,
                "customerId": customer.id, "customerNumber": customer.data["number"],
                "contactId": "", "postingDate": data.get("postingDate") or self.today(),
                "documentNumber": data.get("documentNumber") or old.get("documentNumber")
                or self._next(SERIES["customerPayments"]),
                "externalDocumentNumber": str(data.get("externalDocumentNumber") or "")[:35], "amount": amount,
                "appliesToInvoiceId": invoice_number and str(data["appliesToInvoiceId"]).lower(),
                "appliesToInvoiceNumber": invoice_number, "description": str(data.get("description") or "")[:100],
                "comment": str(data.get("comment") or "")[:250]}

    def _salesInvoices(self, data: dict, old: dict) -> dict:  # noqa: N802 - the entity set's name
        return self._document("salesInvoices", data, old)

    def _salesCreditMemos(self, data: dict, old: dict) -> dict:  # noqa: N802 - the entity set's name
        return self._document("salesCreditMemos", data, old)

    def _document(self, name: str, data: dict, old: dict) -> dict:
        """A draft sales invoice or credit memo: header fields, and its lines when sent inline (deep insert)."""
        customer = self._customer(data.get("customerId"))
        if customer.data["blocked"] == "All":
            raise dialog(f"You cannot sell to customer {customer.data['number']} because it is blocked.")
        date_field = DATE_FIELD[name]
        body = {"number": old.get("number") or self._next(SERIES[name]),
                "externalDocumentNumber": str(data.get("externalDocumentNumber") or ""),
                date_field: data.get(date_field) or self.today(),
                "postingDate": data.get("postingDate") or data.get(date_field) or self.today(),
                "dueDate": data.get("dueDate") or data.get(date_field) or self.today(),
                "customerId": customer.id, "customerNumber": customer.data["number"],
                "customerName": customer.data["displayName"], "currencyCode": customer.data["currencyCode"],
                "pricesIncludeTax": bool(data.get("pricesIncludeTax", False)),
                "discountAmount": number(data.get("discountAmount"), "discountAmount", ZERO),
                "status": old.get("status", "Draft"), "email": data.get("email", ""),
                "phoneNumber": data.get("phoneNumber", ""), "_lines": list(old.get("_lines", []))}
        if len(body["externalDocumentNumber"]) > 35:
            raise too_long(body["externalDocumentNumber"], 35)
        if name == "salesInvoices":
            body["customerPurchaseOrderReference"] = data.get("customerPurchaseOrderReference", "")
        else:
            body["invoiceId"], body["invoiceNumber"] = "00000000-0000-0000-0000-000000000000", ""
            if data.get("invoiceId") and data["invoiceId"] != body["invoiceId"]:
                invoice = self.store.require("salesInvoices", guid_key(str(data["invoiceId"])),
                                             dialog(f"The sales invoice {data['invoiceId']} does not exist."))
                if invoice.data["customerId"] != customer.id:
                    raise dialog("The invoice that the credit memo applies to belongs to another customer.")
                body["invoiceId"], body["invoiceNumber"] = invoice.id, invoice.data["number"]
        lines = data.get(LINES[name]) if not old else None
        if lines is not None:
            if not isinstance(lines, list):
                raise bad_request(f"'{LINES[name]}' must be a collection.", "BadRequest_InvalidRequestBody")
            body["_lines"] = []
            for line in lines:
                body["_lines"].append(self._line_data(name, line, {}, len(body["_lines"])))
        if name == "salesInvoices":
            body["remainingAmount"] = old.get("remainingAmount", ZERO)
        return body

    def _line_data(self, name: str, line: Any, old: dict, index: int) -> dict:
        if not isinstance(line, dict):
            raise bad_request("A line must be an object.", "BadRequest_InvalidRequestBody")
        price_field = "unitCost" if name == "purchaseInvoices" else "unitPrice"
        unknown = set(line) - (LINE_WRITABLE - {"unitPrice"}) - {price_field, "@odata.etag"}
        if unknown:
            raise bad_request(f"The property '{sorted(unknown)[0]}' does not exist on type "
                              f"'Microsoft.NAV.{LINES[name][:-1]}'.", "BadRequest_PropertyNotFound")
        data = {**old, **line}
        kind = data.get("lineType") or ("Item" if data.get("itemId") else "Account" if data.get("accountId")
                                        else "Comment")
        item_id = account_id = "00000000-0000-0000-0000-000000000000"
        object_number, description = "", str(data.get("description") or "")
        if kind == "Item":
            item = self.store.require("items", guid_key(str(data.get("itemId") or "")),
                                      dialog(f"The item {data.get('itemId')} does not exist."))
            if item.data["blocked"]:
                raise field_error(f"Blocked must be equal to 'No' in Item: No.={item.data['number']}. Current value is "
                                  "'Yes'.")
            item_id, object_number = item.id, item.data["number"]
            description = description or item.data["displayName"]
            default_price = item.data["unitPrice"]
        elif kind == "Account":
            account = self._account(data.get("accountId"), data.get("lineObjectNumber"), LINE_TABLES[name])
            account_id, object_number = account.id, account.data["number"]
            description = description or account.data["displayName"]
            default_price = ZERO
        elif kind == "Comment":
            default_price = ZERO
        else:
            raise bad_request(f"The value '{kind}' is not valid for lineType.", "BadRequest_InvalidRequestBody")
        if len(description) > 100:
            raise too_long(description, 100)
        quantity = number(data.get("quantity"), "quantity", Decimal("0") if kind == "Comment" else Decimal("1"))
        price = number(data.get(price_field), price_field, default_price)
        tax_code = str(data.get("taxCode") or "")
        rate = self._tax_group(tax_code, LINE_TABLES[name]).data["_rate"] if tax_code else Decimal("0")
        amount = (quantity * price).quantize(CENT)
        tax = (amount * rate / 100).quantize(CENT)
        return {"id": old.get("id") or str(uuid.uuid4()), "_version": old.get("_version", 0) + 1,
                "sequence": int(data.get("sequence") or old.get("sequence") or 10000 * (index + 1)),
                "lineType": kind, "itemId": item_id, "accountId": account_id, "lineObjectNumber": object_number,
                "description": description, price_field: price, "quantity": quantity, "discountAmount": ZERO,
                "discountPercent": ZERO, "amountExcludingTax": amount, "taxCode": tax_code, "taxPercent": rate,
                "totalTaxAmount": tax, "amountIncludingTax": amount + tax, "netAmount": amount,
                "netTaxAmount": tax, "netAmountIncludingTax": amount + tax}

    @staticmethod
    def _with_totals(name: str, body: dict, lines: list[dict]) -> dict:
        """Header totals from the lines (tax per line, to the cent: see docs for the rounding guess)."""
        net = sum((line["amountExcludingTax"] for line in lines), ZERO)
        tax = sum((line["totalTaxAmount"] for line in lines), ZERO)
        body.update(totalAmountExcludingTax=net, totalTaxAmount=tax, totalAmountIncludingTax=net + tax)
        if name == "salesInvoices" and body["status"] == "Draft":
            body["remainingAmount"] = net + tax
        return body

    def lines(self, req: Request, name: str, row: Row, key: str | None) -> Response:
        """``salesInvoices({id})/salesInvoiceLines[('{lineId}')]``: list, add, change, remove a draft's lines."""
        kind = LINES[name]
        if key is None and req.method == "GET":
            return self._collection(kind, [self._line(line) for line in row.data["_lines"]], req)
        with self.store.lock:
            current = self.store.get(name, row.id)
            lines = [dict(line) for line in current.data["_lines"]]
            if key is None and req.method == "POST":
                if current.data["status"] != "Draft":
                    raise dialog(f"Status must be equal to 'Draft' in {self._noun(name)}.")
                line = self._line_data(name, req.json_object(bad_request("Invalid body.")), {}, len(lines))
                self.store.update(name, row.id, {"_lines": lines + [line]})
                return json_response(201, {"@odata.context": f"{self._context(kind)}/$entity", **self._line(line)})
            line_id = guid_key(key)
            index = next((i for i, line in enumerate(lines) if line["id"] == line_id), None)
            if index is None:
                raise not_found()
            if req.method == "GET":
                return json_response(200, self._line(lines[index]))
            if current.data["status"] != "Draft":
                raise dialog(f"Status must be equal to 'Draft' in {self._noun(name)}.")
            sent = req.header("If-Match").strip()
            if not sent and req.method == "PATCH":
                raise no_token()
            if sent and sent not in ("*", self._line(lines[index])["@odata.etag"]):
                raise stale()
            if req.method == "DELETE":
                del lines[index]
                self.store.update(name, row.id, {"_lines": lines})
                return 204, [], b""
            if req.method == "PATCH":
                changes = req.json_object(bad_request("Invalid body."))
                lines[index] = self._line_data(name, changes, lines[index], index)
                self.store.update(name, row.id, {"_lines": lines})
                return json_response(200, self._line(lines[index]))
        raise BCError(405, "BadRequest_MethodNotAllowed", f"'{req.method}' is not allowed on '{kind}'.")

    # -- bound actions: post, cancel -----------------------------------------------------------------------------
    def action(self, name: str, row: Row, verb: str, req: Request) -> None:
        if name == "journals" and verb == "post":
            with self.store.lock:
                self._if_match(req, self.store.get(name, row.id), required=False)
                self.post_journal(row)
            return
        if name not in LINES or verb not in ("post", "cancel") or (name == "purchaseInvoices" and verb != "post"):
            raise BCError(404, "BadRequest_NotFound", f"The action 'Microsoft.NAV.{verb}' does not exist.")
        with self.store.lock:
            current = self.store.get(name, row.id)
            self._if_match(req, current, required=False)
            data = current.data
            if verb == "post" and name == "purchaseInvoices":
                self.post_purchase_invoice(row.id, data)
            elif verb == "post":
                self.post(name, row.id, data)
            else:
                self.cancel(name, row.id, data)

    def post(self, name: str, record_id: str, data: dict) -> None:
        """Drafts only. The document gets its posted number; a posted invoice's ``remainingAmount`` is its total;
        a posted credit memo with ``invoiceId`` is applied to that (posted) invoice, up to what remains."""
        if data["status"] != "Draft":
            raise dialog(f"The {self._noun(name)} has already been posted.")
        lines = [line for line in data["_lines"] if line["lineType"] != "Comment"]
        if not lines:
            raise dialog("There is nothing to post.")
        total = sum((line["amountIncludingTax"] for line in lines), ZERO)
        if total < 0:
            raise dialog("The total amount for the document must be 0 or greater.")
        change = {"status": "Open", "number": self._next(POSTED_SERIES[name])}
        if name == "salesInvoices":
            change.update(remainingAmount=total, status="Paid" if total == 0 else "Open")
        else:
            invoice_id = data["invoiceId"]
            if invoice_id != "00000000-0000-0000-0000-000000000000":
                invoice = self.store.get("salesInvoices", invoice_id).data
                if invoice["status"] not in ("Open", "Paid"):
                    raise dialog("The invoice that the credit memo applies to must be posted and open.")
                applied = min(total, invoice["remainingAmount"])
                left = invoice["remainingAmount"] - applied
                self.store.update("salesInvoices", invoice_id,
                                  {"remainingAmount": left, "status": "Paid" if left == 0 else "Open"})
            change["status"] = "Paid" if data["invoiceId"] != "00000000-0000-0000-0000-000000000000" else "Open"
        self.store.update(name, record_id, change)

    def cancel(self, name: str, record_id: str, data: dict) -> None:
        """A posted, unpaid document is cancelled by a corrective document; the original stays, status
        ``Canceled`` and nothing remains due on it."""
        if data["status"] == "Draft":
            raise dialog("You can only cancel a posted document.")
        if data["status"] == "Canceled":
            raise dialog(f"The {self._noun(name)} has already been cancelled.")
        if name == "salesInvoices":
            total = self.render(self.store.get(name, record_id))["totalAmountIncludingTax"]
            if data["remainingAmount"] != total:
                raise dialog("You cannot cancel this posted sales invoice because it is fully or partially paid.")
            self.store.update(name, record_id, {"status": "Canceled", "remainingAmount": ZERO})
        else:
            self.store.update(name, record_id, {"status": "Canceled"})

    # -- references -----------------------------------------------------------------------------------------------
    def _customer(self, customer_id: Any) -> Row:
        if not customer_id:
            raise field_error("Customer No. must have a value. It cannot be zero or empty.")
        return self.store.require("customers", guid_key(str(customer_id)),
                                  dialog(f"The customer {customer_id} does not exist."))

    def _account(self, account_id: Any, account_number: Any = None, table: str = "Sales Line") -> Row:
        row = None
        if account_id:
            row = self.store.find("accounts", guid_key(str(account_id)))
        elif account_number:
            row = self.store.first("accounts", number=str(account_number))
        if row is None:
            raise relation_error("No.", table, account_number or account_id, "G/L Account")
        if row.data["blocked"]:
            raise field_error(f"Blocked must be equal to 'No' in G/L Account: No.={row.data['number']}. "
                              "Current value is 'Yes'.")
        return row

    def _tax_group(self, code: str, table: str = "Sales Line") -> Row:
        row = self.store.first("taxGroups", code=code)
        if row is None:
            raise relation_error("Tax Group Code", table, code, "Tax Group")
        return row

    def _currency(self, code: Any) -> None:
        if code and code != HOME_CURRENCY and self.store.first("currencies", code=code) is None:
            raise relation_error("Currency Code", "Customer", code, "Currency")

    # -- webhooks -----------------------------------------------------------------------------------------------
    def subscriptions(self, req: Request, key: str | None, depth: int) -> Response:
        """``POST /subscriptions`` validates the notification URL first (handshake); ``PATCH`` with ``If-Match``
        renews; ``DELETE`` removes."""
        if depth != 1:
            raise not_found()
        if key is None:
            if req.method == "GET":
                rows = [self._subscription(r) for r in self.store.rows("subscriptions")]
                return json_response(200, {"@odata.context": f"{self.api_base}/$metadata#subscriptions",
                                           "value": rows})
            if req.method != "POST":
                raise BCError(405, "BadRequest_MethodNotAllowed", "Method not allowed.")
            body = req.json_object(bad_request("Invalid body."))
            url, resource = str(body.get("notificationUrl") or ""), str(body.get("resource") or "")
            if not url.startswith(("http://", "https://")) or not self._watched(resource):
                raise bad_request("The notification URL or the resource is not valid.")
            if not self._handshake(url):
                raise bad_request(f"The subscription could not be validated: the notification URL {url} did not "
                                  "answer the validation token.", "Application_InvalidSubscription")
            row = self.store.create("subscriptions", {"notificationUrl": url, "resource": resource,
                                                      "clientState": str(body.get("clientState") or ""),
                                                      "_expires": int(self.clock()) + SUBSCRIPTION_TTL})
            return json_response(201, self._subscription(row))
        row = self.store.get("subscriptions", key.strip("'"))
        if req.method == "GET":
            return json_response(200, self._subscription(row))
        self._if_match(req, row)
        if req.method == "DELETE":
            self.store.delete("subscriptions", row.id)
            return 204, [], b""
        if req.method == "PATCH":
            if not self._handshake(row.data["notificationUrl"]):
                raise bad_request("The subscription could not be renewed: validation failed.",
                                  "Application_InvalidSubscription")
            row = self.store.update("subscriptions", row.id, {"_expires": int(self.clock()) + SUBSCRIPTION_TTL})
            return json_response(200, self._subscription(row))
        raise BCError(405, "BadRequest_MethodNotAllowed", "Method not allowed.")

    def _subscription(self, row: Row) -> dict:
        return {"@odata.etag": etag(row), "subscriptionId": row.id, "notificationUrl": row.data["notificationUrl"],
                "resource": row.data["resource"], "userId": "00000000-0000-0000-0000-000000000001",
                "lastModifiedDateTime": bc_time(row.modified), "clientState": row.data["clientState"],
                "expirationDateTime": bc_time(row.data["_expires"])}

    def _watched(self, resource: str) -> str | None:
        """The entity set a subscription's ``resource`` names (``api/v2.0/companies(id)/salesInvoices``)."""
        found = re.fullmatch(r"/?api/v2\.0/companies\((?P<company>[^)]+)\)/(?P<set>[A-Za-z]+)", resource)
        if found is None or found["company"].lower() != COMPANY_ID or found["set"] not in ENTITY_SETS:
            return None
        return found["set"]

    def _post_json(self, url: str, body: bytes | None) -> tuple[int | None, bytes]:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(url, data=body if body is not None else b"", method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with opener.open(request, timeout=5) as answer:
                return answer.status, answer.read(65536)
        except urllib.error.HTTPError as error:
            return error.code, error.read(65536)
        except (urllib.error.URLError, OSError, ValueError):
            return None, b""

    def _handshake(self, url: str) -> bool:
        """POST ``url?validationToken=...``; the receiver must answer 200 with the token as the body."""
        token = secrets.token_urlsafe(16)
        joined = url + ("&" if "?" in url else "?") + urllib.parse.urlencode({"validationToken": token})
        status, body = self._post_json(joined, None)
        with self._notify_lock:
            self._sent.append({"kind": "handshake", "url": url, "status": status})
        return status == 200 and body.decode("utf-8", "replace").strip().strip('"') == token

    def _changed(self, event: str, resource: str, row: Row) -> None:
        """Queue a notification for every live subscription watching ``resource`` (sent by ``notify``)."""
        if resource not in ENTITY_SETS:
            return
        change = {"create": "created", "update": "updated", "void": "updated", "delete": "deleted"}.get(event)
        for sub in self.store.rows("subscriptions"):
            if self._watched(sub.data["resource"]) == resource and sub.data["_expires"] > self.clock():
                with self._notify_lock:
                    self._pending.append({
                        "_url": sub.data["notificationUrl"], "subscriptionId": sub.id,
                        "clientState": sub.data["clientState"], "expirationDateTime": bc_time(sub.data["_expires"]),
                        "resource": f"api/v2.0/companies({COMPANY_ID})/{resource}({row.id})",
                        "changeType": change or "updated", "lastModifiedDateTime": bc_time(row.modified)})

    def notify(self) -> list[dict]:
        """Send what is queued, one POST per notification URL (``{"value": [...]}``); returns what was sent."""
        with self._notify_lock:
            pending, self._pending = self._pending, []
        by_url: dict[str, list[dict]] = {}
        for item in pending:
            by_url.setdefault(item["_url"], []).append({k: v for k, v in item.items() if k != "_url"})
        sent = []
        for url, items in by_url.items():
            body = dumps({"value": items})
            status, _ = self._post_json(url, body)
            record = {"kind": "notification", "url": url, "status": status, "body": json.loads(body)}
            sent.append(record)
            with self._notify_lock:
                self._sent.append(record)
        return sent

    def control(self, request: Request) -> Response:
        """The kit's ``/_sandbox/*``, plus ``POST /_sandbox/notify`` (send the queued webhook notifications)."""
        if request.path.rstrip("/") == "/_sandbox/notify" and request.method == "POST":
            return json_response(200, {"sent": self.notify()})
        return super().control(request)

    # -- what a bookkeeper does in Business Central --------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: Any, date: str | None = None,
                               reference: str = "") -> dict:
        """A line in the cash receipt journal applied to the invoice (amount negative: a payment credits the
        customer)."""
        invoice = self.store.get("salesInvoices", invoice_id).data
        with self.store.lock:
            data = self._customerPayments({"customerId": invoice["customerId"], "appliesToInvoiceId": invoice_id,
                                           "amount": -number(amount, "amount"), "postingDate": date,
                                           "externalDocumentNumber": reference}, {})
            return self.render(self.store.create("customerPayments", data))

    def edit_invoice_line_as_user(self, invoice_id: str, line: int = 0, amount: Any = None, unit_price: Any = None,
                                  quantity: Any = None, description: str | None = None) -> dict:
        """Change a draft invoice's line; ``amount`` sets the line's amount (unit price = amount / quantity)."""
        with self.store.lock:
            data = self.store.get("salesInvoices", invoice_id).data
            if data["status"] != "Draft":
                raise dialog("Status must be equal to 'Draft' in Sales Header.")
            lines = [dict(x) for x in data["_lines"]]
            target = lines[int(line)]
            change: dict[str, Any] = {}
            if quantity is not None:
                change["quantity"] = number(quantity, "quantity")
            if unit_price is not None:
                change["unitPrice"] = number(unit_price, "unitPrice")
            if amount is not None:
                change["unitPrice"] = number(amount, "amount") / change.get("quantity", target["quantity"])
            if description is not None:
                change["description"] = description
            lines[int(line)] = self._line_data("salesInvoices", change, target, int(line))
            return self.render(self.store.update("salesInvoices", invoice_id, {"_lines": lines}))

    def void_invoice_as_user(self, invoice_id: str) -> dict:
        """Post the draft if need be, then Cancel it (Business Central cancels posted invoices only)."""
        with self.store.lock:
            if self.store.get("salesInvoices", invoice_id).data["status"] == "Draft":
                self.post("salesInvoices", invoice_id, self.store.get("salesInvoices", invoice_id).data)
            self.cancel("salesInvoices", invoice_id, self.store.get("salesInvoices", invoice_id).data)
            return self.render(self.store.get("salesInvoices", invoice_id))

    def post_invoice_as_user(self, invoice_id: str) -> dict:
        with self.store.lock:
            self.post("salesInvoices", invoice_id, self.store.get("salesInvoices", invoice_id).data)
            return self.render(self.store.get("salesInvoices", invoice_id))

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        with self.store.lock:
            if self.store.get("salesInvoices", invoice_id).data["status"] != "Draft":
                raise dialog("You cannot delete a posted sales invoice.")
            self.store.delete("salesInvoices", invoice_id)
        return {"id": invoice_id, "deleted": True}

    def delete_payment_as_user(self, payment_id: str) -> dict:
        self.store.delete("customerPayments", payment_id)
        return {"id": payment_id, "deleted": True}

    def cancel_purchase_invoice_as_user(self, purchase_invoice_id: str) -> dict:
        """Post the draft if need be, then Cancel it (the Posted Purchase Invoice page's Cancel: Business Central
        cancels a posted purchase invoice by a corrective credit memo, which this sandbox does not list); its status
        becomes ``Canceled``."""
        with self.store.lock:
            if self.store.get("purchaseInvoices", purchase_invoice_id).data["status"] == "Draft":
                self.post_purchase_invoice(purchase_invoice_id,
                                           self.store.get("purchaseInvoices", purchase_invoice_id).data)
            self.cancel("purchaseInvoices", purchase_invoice_id,
                        self.store.get("purchaseInvoices", purchase_invoice_id).data)
            return self.render(self.store.get("purchaseInvoices", purchase_invoice_id))

    def edit_purchase_invoice_line_as_user(self, purchase_invoice_id: str, line: int = 0, amount: Any = None,
                                           description: str | None = None) -> dict:
        """Change a draft purchase invoice's line; ``amount`` sets its amount (direct unit cost = amount /
        quantity)."""
        with self.store.lock:
            data = self.store.get("purchaseInvoices", purchase_invoice_id).data
            if data["status"] != "Draft":
                raise dialog("Status must be equal to 'Draft' in Purchase Header.")
            lines = [dict(x) for x in data["_lines"]]
            target = lines[int(line)]
            change: dict[str, Any] = {}
            if amount is not None:
                change["unitCost"] = number(amount, "amount") / target["quantity"]
            if description is not None:
                change["description"] = description
            lines[int(line)] = self._line_data("purchaseInvoices", change, target, int(line))
            return self.render(self.store.update("purchaseInvoices", purchase_invoice_id, {"_lines": lines}))

    def delete_journal_as_user(self, journal_id: str) -> dict:
        """Delete a general journal batch with the lines it holds (unposted lines are simply gone: nothing was
        posted)."""
        with self.store.lock:
            self.store.get("journals", journal_id)
            for row in self.store.rows("journalLines"):
                if row.data["journalId"] == journal_id:
                    self.store.delete("journalLines", row.id)
            self.store.delete("journals", journal_id)
        return {"id": journal_id, "deleted": True}

    def archive_account_as_user(self, account_id: str) -> dict:
        """Block a G/L account: documents that name it are refused from then on."""
        return self.render(self.store.update("accounts", account_id, {"blocked": True}))


def _token_error(error: str, status: int) -> tuple[int, dict]:
    """Entra ID's error body: ``error``, an ``AADSTS`` description, its codes, a trace and correlation id."""
    codes = {"invalid_grant": 70000, "invalid_client": 7000215, "unsupported_grant_type": 70003,
             "invalid_scope": 70011}
    code = codes.get(error, 90000)
    return status, {"error": error, "error_description": f"AADSTS{code}: The request was refused ({error}).",
                    "error_codes": [code], "timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
                    "trace_id": secrets.token_hex(8), "correlation_id": secrets.token_hex(8)}
