"""A local NetSuite SuiteTalk SOAP endpoint (v2025_2, a subset) on loopback HTTP, built on the sandbox kit.

``GET /wsdl/v2025_2_0/netsuite.wsdl`` (and the XSDs beside it) serves the trimmed WSDL in ``connectors/netsuitesoap/
spec``; ``POST /services/NetSuitePort_2025_2`` answers SOAP 1.1 document/literal envelopes. Every request must carry
a ``tokenPassport`` header (token-based authentication: account, consumer key, token, nonce, timestamp, an
HMAC-SHA256 signature); a wrong signature, an unknown token, a timestamp more than five minutes off or a nonce used
before is an ``invalidCredentialsFault`` (HTTP 500, ``INVALID_LOGIN_ATTEMPT``). More requests at once than the
account's concurrency limit is an ``exceededConcurrentRequestLimitFault`` (``WS_REQUEST_BLOCKED``, what NetSuite
answers a TBA request; ``WS_CONCUR_SESSION_DISALLWD`` is the session-login variant).
Operations: ``add``, ``upsert`` (by ``externalId``), ``update``, ``delete``, ``get``, ``search``
(``TransactionSearchBasic`` / ``CustomerSearchBasic`` on ``lastModifiedDate``, ``internalId``,
``externalIdString``, ``tranId``, ``type``), ``searchMoreWithId`` and ``getDeleted``, on Customer, Invoice,
CustomerPayment, CreditMemo, CustomerRefund, Check and JournalEntry (their rules: ``costs.py``);
``AccountSearchBasic``, ``SalesTaxItemSearchBasic`` and ``ItemSearchBasic`` searches and ``getAll`` of
``currency`` for the reference data. A refused write is ``status isSuccess="false"``
with ``statusDetail type="ERROR"`` ``code`` / ``message``; a done one names the record in ``baseRef``
(``internalId``, ``externalId``, ``type``).
Sources and guesses: docs/sandbox-netsuitesoap.md.
"""
from __future__ import annotations

import datetime as dt
import secrets
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr  # nosec B406 - escaping what is written; nothing is parsed with it

from defusedxml.ElementTree import fromstring

from ...sandboxkit.platform import PlatformSandbox, Request, Response
from .. import tba
from . import seed as account
from .books import SEARCH_TYPES, TYPES, Books, NetSuiteError
from .costs import CostActions

SPEC = Path(__file__).resolve().parent.parent / "spec"
SERVICE_PATH = "/services/NetSuitePort_2025_2"
WSDL_PATH = "/wsdl/v2025_2_0/"
XML = "text/xml; charset=utf-8"
NS = {"soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
      "platformCore": "urn:core_2025_2.platform.webservices.netsuite.com",
      "platformMsgs": "urn:messages_2025_2.platform.webservices.netsuite.com",
      "platformFaults": "urn:faults_2025_2.platform.webservices.netsuite.com",
      "listRel": "urn:relationships_2025_2.lists.webservices.netsuite.com",
      "tranSales": "urn:sales_2025_2.transactions.webservices.netsuite.com",
      "tranCust": "urn:customers_2025_2.transactions.webservices.netsuite.com",
      "tranBank": "urn:bank_2025_2.transactions.webservices.netsuite.com",
      "tranGeneral": "urn:general_2025_2.transactions.webservices.netsuite.com",
      "tranPurch": "urn:purchases_2025_2.transactions.webservices.netsuite.com",
      "listAcct": "urn:accounting_2025_2.lists.webservices.netsuite.com",
      "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
PREFIX = {"customer": ("listRel", "Customer"), "invoice": ("tranSales", "Invoice"),
          "customerPayment": ("tranCust", "CustomerPayment"), "creditMemo": ("tranCust", "CreditMemo"),
          "account": ("listAcct", "Account"), "salesTaxItem": ("listAcct", "SalesTaxItem"),
          "currency": ("listAcct", "Currency"), "item": ("listAcct", "NonInventorySaleItem"),
          "nonInventorySaleItem": ("listAcct", "NonInventorySaleItem"),
          "customerRefund": ("tranCust", "CustomerRefund"), "check": ("tranBank", "Check"),
          "journalEntry": ("tranGeneral", "JournalEntry"), "vendorBill": ("tranPurch", "VendorBill"),
          "vendor": ("listRel", "Vendor")}
#: Body fields in the XSD's order, per record type (what ``get`` and ``search`` answer).
FIELDS = {
    "customer": ("entityId", "companyName", "email", "isInactive", "dateCreated", "lastModifiedDate"),
    "vendor": ("entityId", "companyName", "email", "isInactive", "lastModifiedDate"),
    "vendorBill": ("createdDate", "lastModifiedDate", "account", "entity", "subsidiary", "tranDate", "exchangeRate",
                   "dueDate", "tranId", "userTotal", "taxTotal", "memo", "currency", "status", "expenseList"),
    "account": ("acctType", "acctNumber", "acctName", "isInactive"),
    "salesTaxItem": ("itemId", "rate", "isInactive"),
    "nonInventorySaleItem": ("createdDate", "lastModifiedDate", "itemId", "displayName", "incomeAccount",
                             "isInactive", "rate"),
    "currency": ("name", "symbol", "isBaseCurrency", "isInactive"),
    "item": ("itemId", "displayName", "incomeAccount", "isInactive"),
    "invoice": ("createdDate", "lastModifiedDate", "entity", "currency", "tranDate", "dueDate", "tranId", "memo",
                "subTotal", "taxTotal", "total", "amountPaid", "amountRemaining", "status", "itemList"),
    "customerPayment": ("createdDate", "lastModifiedDate", "customer", "currency", "account", "undepFunds",
                        "payment", "tranDate", "tranId", "memo", "applied", "unapplied", "status", "applyList"),
    "creditMemo": ("createdDate", "lastModifiedDate", "entity", "currency", "tranDate", "tranId", "memo", "subTotal",
                   "taxTotal", "total", "applied", "unapplied", "status", "itemList", "applyList"),
    "customerRefund": ("createdDate", "lastModifiedDate", "status", "customer", "exchangeRate", "total", "currency",
                       "tranDate", "memo", "account", "tranId", "subsidiary", "applyList"),
    "check": ("createdDate", "lastModifiedDate", "status", "account", "entity", "subsidiary", "tranDate", "currency",
              "exchangeRate", "tranId", "memo", "taxTotal", "userTotal", "expenseList"),
    "journalEntry": ("tranDate", "currency", "exchangeRate", "tranId", "subsidiary", "memo", "createdDate",
                     "lastModifiedDate", "lineList"),
}
#: The line lists of a check and a journal entry: their row element and fields, in the XSD's order.
LISTS = {"expenseList": ("expense", ("line", "account", "amount", "memo", "taxCode", "taxRate1", "tax1Amt",
                                     "grossAmt")),
         "lineList": ("line", ("account", "line", "debit", "credit", "taxCode", "memo", "entity"))}
ROW_LISTS = ("itemList", "applyList", *LISTS)
LINE_FIELDS = ("item", "line", "description", "quantity", "rate", "amount", "taxCode", "tax1Amt")
REFS = {"entity", "customer", "currency", "account", "subsidiary", "item", "taxCode", "incomeAccount"}
TIMES = {"createdDate", "lastModifiedDate", "dateCreated"}
REFERENCE_SEARCHES = {"AccountSearchBasic": "account", "SalesTaxItemSearchBasic": "salesTaxItem",
                      "ItemSearchBasic": "item"}
FAULT_CODES = {"invalidCredentialsFault": "INVALID_LOGIN_ATTEMPT",
               "exceededConcurrentRequestLimitFault": "WS_REQUEST_BLOCKED",
               "unexpectedErrorFault": "UNEXPECTED_ERROR"}


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child(element, name: str):
    return next((c for c in element if local(c.tag) == name), None) if element is not None else None


def children(element, name: str) -> list:
    return [c for c in element if local(c.tag) == name] if element is not None else []


def text(element, name: str) -> str:
    found = child(element, name)
    return (found.text or "").strip() if found is not None else ""


class Fault(Exception):
    def __init__(self, element: str, message: str) -> None:
        super().__init__(message)
        self.element, self.message = element, message


class StoreView:
    """The books seen through the kit's store interface (``counts``, ``rows``, ``delete``) that the sandbox control
    endpoints and the every-sandbox suite use; the books keep NetSuite's rules."""

    def __init__(self, books: Books) -> None:
        self.books = books

    def counts(self) -> dict[str, int]:
        return self.books.counts()

    def rows(self, resource: str):
        return self.books.rows(resource)

    def delete(self, resource: str, record_id: str):
        return self.books.remove(resource, record_id)

    def clear(self) -> None:
        self.books.clear()

    def forget_idempotency(self) -> None:
        """NetSuite has no request keys to forget: external ids are part of the records and stay."""


class NetSuiteSoapSandbox(CostActions, PlatformSandbox):
    platform = "netsuitesoap"
    title = "NetSuite (SuiteTalk SOAP)"
    default_port = 8793
    api_path = SERVICE_PATH
    authorize_path = "/netsuitesoap/connect"
    #: What a person does in NetSuite's UI to take back a refund, an expense (a check) or a journal entry we sent:
    #: the ``<action>_as_user`` helper and its id keyword (a deleted one is listed by ``getDeleted``, a voided check
    #: keeps its internal id with status Voided and a new ``lastModifiedDate``).
    user_takes_back = {"refund": ("delete_refund", "refund_id"), "expense": ("void_check", "check_id"),
                       "journal": ("delete_journal", "journal_id")}

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self.books = Books(self.clock)
        self.store = StoreView(self.books)
        self.nonces: set[str] = set()
        self.concurrency_limit = 15  # Tier 1 service tier, no SuiteCloud Plus licence
        self.busy = 0  # requests other integrations of the account have in flight
        self.in_flight = 0
        self.searches: dict[str, tuple[str, list[dict], int]] = {}
        self.page_size = 1000
        self.requests = self.checks = 0
        self._flight = threading.Lock()
        self.seed()

    # -- the kit's interface --------------------------------------------------------------------------------------
    @property
    def company_id(self) -> str:
        return account.ACCOUNT_ID

    @property
    def client_id(self) -> str:
        return account.CONSUMER_KEY

    @property
    def token_calls(self) -> int:
        """TBA tokens are made in NetSuite's UI, never issued over the API; what stands in for a token call is the
        connector's credentials check (``getAll``), counted like the API-key sandboxes count theirs."""
        return self.checks

    def seed(self) -> None:
        account.seed(self.books)

    def reset(self) -> None:
        with self.books.lock:
            self.books.clear()
            super().reset()
            self.nonces.clear()
            self.searches.clear()
            self.busy, self.concurrency_limit, self.page_size, self.requests, self.checks = 0, 15, 1000, 0, 0

    def issue_tokens(self) -> dict:
        """A TBA token is made in NetSuite's UI (Access Tokens), not over the API: the sandbox's is fixed."""
        return {"access_token": account.TOKEN_ID, "refresh_token": account.TOKEN_ID, "expires_in": 10 ** 8}

    def token_problem(self, access_token: str) -> str | None:
        return None if access_token == account.TOKEN_ID else "invalid"

    def apply_setting(self, name: str, value: Any) -> bool:
        if name in ("concurrency_limit", "busy", "page_size"):
            setattr(self, name, int(value))
            return True
        return False

    def current_settings(self) -> dict:
        return {**super().current_settings(), "concurrency_limit": self.concurrency_limit, "busy": self.busy,
                "page_size": self.page_size}

    def fault_response(self, fault) -> Response:
        status = 503 if fault.kind == "http_503" else 429 if fault.kind == "rate_limit" else 500
        headers = [("Content-Type", "text/html")]
        if fault.kind == "rate_limit":
            headers.append(("Retry-After", fault.retry_after or "60"))
        return status, headers, b"<html><body>Service Unavailable</body></html>"

    def latency_kind(self, request: Request) -> str:
        if request.path != SERVICE_PATH:
            return super().latency_kind(request)
        action = request.header("SOAPAction").strip('"')
        return "write" if action in ("add", "upsert", "update", "delete") else "read"

    # -- routes ---------------------------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        if req.method == "GET" and req.path.startswith(WSDL_PATH):
            name = req.path[len(WSDL_PATH):]
            if "/" not in name and (SPEC / name).is_file() and name.endswith((".wsdl", ".xsd")):
                body = (SPEC / name).read_bytes()
                if name.endswith(".wsdl"):
                    body = body.replace(b"https://webservices.netsuite.com/services/NetSuitePort_2025_2",
                                        f"{self.base_url}{SERVICE_PATH}".encode())
                return 200, [("Content-Type", XML)], body
        if req.path == self.authorize_path and req.method == "GET":
            redirect = req.params.get("redirect_uri", "")
            joiner = "&" if "?" in redirect else "?"
            query = urlencode({"code": "tba", "state": req.params.get("state", "")})
            return 302, [("Location", f"{redirect}{joiner}{query}")], b""
        if req.path == SERVICE_PATH and req.method == "POST":
            with self._flight:
                if self.in_flight + self.busy >= self.concurrency_limit:
                    return self.fault("exceededConcurrentRequestLimitFault",
                                      f"Concurrent request limit exceeded ({self.concurrency_limit}). Request "
                                      "blocked.")
                self.in_flight += 1
            try:
                return self.soap(req.raw)
            finally:
                with self._flight:
                    self.in_flight -= 1
        return 404, [("Content-Type", "text/html")], b"<html><body>Not Found</body></html>"

    def soap(self, raw: bytes) -> Response:
        try:
            envelope = fromstring(raw)
        except Exception:  # noqa: BLE001 - any parse error is the client's malformed envelope
            return self.fault("unexpectedErrorFault", "The request is not a well-formed SOAP envelope.",
                              code="INVALID_REQUEST", client=True)
        header, body = child(envelope, "Header"), child(envelope, "Body")
        if body is None or not len(body):
            return self.fault("unexpectedErrorFault", "The envelope has no body.", code="INVALID_REQUEST",
                              client=True)
        try:
            self.authenticate(child(header, "tokenPassport"))
        except Fault as fault:
            return self.fault(fault.element, fault.message)
        operation = body[0]
        name = local(operation.tag)
        handler = {"add": self.write, "upsert": self.write, "update": self.write, "delete": self.delete,
                   "get": self.get, "getAll": self.get_all, "search": self.search, "searchMoreWithId": self.search_more,
                   "getDeleted": self.get_deleted}.get(name)
        if handler is None:
            return self.fault("unexpectedErrorFault", f"The operation {name} is not served here.",
                              code="INVALID_REQUEST", client=True)
        self.requests += 1
        if name == "getAll":
            self.checks += 1
        prefs = child(header, "searchPreferences")
        with self.books.lock:
            inner = handler(name, operation, prefs)
        return self.envelope(f'<platformMsgs:{name}Response>{inner}</platformMsgs:{name}Response>')

    def authenticate(self, passport) -> None:
        if passport is None:
            raise Fault("invalidCredentialsFault", "Ambiguous authentication: no tokenPassport was sent.")
        values = {n: text(passport, n) for n in ("account", "consumerKey", "token", "nonce", "timestamp")}
        sent = text(passport, "signature")
        algorithm = child(passport, "signature").get("algorithm", "") if child(passport, "signature") is not None \
            else ""
        if (values["account"], values["consumerKey"], values["token"]) != \
                (account.ACCOUNT_ID, account.CONSUMER_KEY, account.TOKEN_ID) or algorithm != tba.ALGORITHM:
            raise Fault("invalidCredentialsFault", "Invalid login attempt.")
        try:
            stamp = int(values["timestamp"])
        except ValueError:
            raise Fault("invalidCredentialsFault", "Invalid login attempt.") from None
        expected = tba.signature(account.ACCOUNT_ID, account.CONSUMER_KEY, account.CONSUMER_SECRET,
                                 account.TOKEN_ID, account.TOKEN_SECRET, values["nonce"], stamp)
        if not secrets.compare_digest(expected, sent) or abs(self.clock() - stamp) > 300 or \
                not values["nonce"] or values["nonce"] in self.nonces:
            raise Fault("invalidCredentialsFault", "Invalid login attempt.")
        self.nonces.add(values["nonce"])

    # -- operations ------------------------------------------------------------------------------------------------
    def write(self, name: str, operation, prefs) -> str:
        element = child(operation, "record")
        kind = TYPES.get(self.xsi_type(element))
        ref = {"internalId": element.get("internalId", "") if element is not None else "",
               "externalId": element.get("externalId", "") if element is not None else ""}
        if kind is None:
            return self.write_response(NetSuiteError("INVALID_RCRD_TYPE", "The record type is not served here."))
        try:
            record = getattr(self.books, name)(kind, self.parse_record(element))
        except NetSuiteError as error:
            return self.write_response(error, kind, ref)
        return self.write_response(None, kind, record)

    def delete(self, name: str, operation, prefs) -> str:
        element = child(operation, "baseRef")
        ref = {"internalId": element.get("internalId", ""), "externalId": element.get("externalId", "")}
        kind = element.get("type", "")
        if kind not in PREFIX:
            return self.write_response(NetSuiteError("INVALID_RCRD_TYPE", f"Invalid record type {kind}."))
        try:
            record = self.books.delete(kind, ref)
        except NetSuiteError as error:
            return self.write_response(error, kind, ref)
        return self.write_response(None, kind, record)

    def get(self, name: str, operation, prefs) -> str:
        element = child(operation, "baseRef")
        kind = element.get("type", "") if element is not None else ""
        record = self.books.find(kind, element.get("internalId", ""), element.get("externalId", "")) \
            if kind in PREFIX else None
        if record is None:
            status = self.status(NetSuiteError("RCRD_DSNT_EXIST", "That record does not exist."))
            return f"<platformMsgs:readResponse>{status}</platformMsgs:readResponse>"
        return f"<platformMsgs:readResponse>{self.status(None)}{self.record(record)}</platformMsgs:readResponse>"

    def search(self, name: str, operation, prefs) -> str:
        element = child(operation, "searchRecord")
        basic = self.xsi_type(element)
        if basic == "TransactionSearchBasic":
            types = [SEARCH_TYPES.get(v.text or "") for v in children(child(element, "type"), "searchValue")]
            kinds = [t for t in types if t] or list(SEARCH_TYPES.values())
        elif basic == "CustomerSearchBasic":
            kinds = ["customer"]
        elif basic == "VendorSearchBasic":
            kinds = ["vendor"]
        elif basic in REFERENCE_SEARCHES:
            return self.reference_search(REFERENCE_SEARCHES[basic], element, prefs)
        else:
            return self.search_result(error=NetSuiteError("INVALID_SEARCH", f"{basic} is not served here."))
        rows = [r for r in self.books.records.values() if r["_type"] in kinds]
        modified = child(element, "lastModifiedDate")
        if modified is not None:
            rows = [r for r in rows if self.date_matches(r["lastModifiedDate"], modified)]
        ids = child(element, "internalId")
        if ids is not None:
            wanted = {v.get("internalId", "") for v in children(ids, "searchValue")}
            rows = [r for r in rows if (r["internalId"] in wanted) == (ids.get("operator", "anyOf") == "anyOf")]
        inactive = child(element, "isInactive")
        if inactive is not None:
            wanted = text(inactive, "searchValue").lower() == "true"
            rows = [r for r in rows if bool(r.get("isInactive")) == wanted]
        for field in ("externalIdString", "tranId", "companyName"):
            condition = child(element, field)
            if condition is not None:
                target = "externalId" if field == "externalIdString" else field
                value, operator = text(condition, "searchValue"), condition.get("operator", "is")
                rows = [r for r in rows if self.string_matches(str(r.get(target) or ""), value, operator)]
        rows.sort(key=lambda r: int(r["internalId"]))
        size = int(text(prefs, "pageSize") or self.page_size) if prefs is not None else self.page_size
        size = max(5, min(size, self.page_size))
        search_id = f"WEBSERVICES_{account.ACCOUNT_ID}_{secrets.token_hex(8)}"
        self.searches[search_id] = (search_id, rows, size)
        return self.search_result(search_id, 1)

    def reference_search(self, kind: str, element, prefs) -> str:
        rows = list(self.books.reference.get(kind, []))
        inactive = child(element, "isInactive")
        if inactive is not None:
            wanted = text(inactive, "searchValue").lower() == "true"
            rows = [r for r in rows if r["isInactive"] == wanted]
        types = [v.text for v in children(child(element, "type"), "searchValue")]
        if types and kind == "account":
            rows = [r for r in rows if r.get("acctType") in types]
        elif types and "_nonInventoryItem" not in types:
            rows = []  # the account holds non-inventory items only
        search_id = f"WEBSERVICES_{account.ACCOUNT_ID}_{secrets.token_hex(8)}"
        self.searches[search_id] = (search_id, rows, self.page_size)
        return self.search_result(search_id, 1)

    def get_all(self, name: str, operation, prefs) -> str:
        """``getAll`` of the record types NetSuite serves it for; only ``currency`` here."""
        kind = child(operation, "record").get("recordType", "") if child(operation, "record") is not None else ""
        if kind != "currency":
            error = NetSuiteError("INVALID_RCRD_TYPE", f"getAll is not served for {kind} here.")
            return f"<platformCore:getAllResult>{self.status(error)}</platformCore:getAllResult>"
        rows = self.books.reference.get("currency", [])
        records = "".join(self.record(r, "platformCore:record") for r in rows)
        return (f"<platformCore:getAllResult>{self.status(None)}<platformCore:totalRecords>{len(rows)}"
                f"</platformCore:totalRecords><platformCore:recordList>{records}</platformCore:recordList>"
                f"</platformCore:getAllResult>")

    def search_more(self, name: str, operation, prefs) -> str:
        search_id = text(operation, "searchId")
        if search_id not in self.searches:
            return self.search_result(error=NetSuiteError("INVALID_SEARCH", "The search has expired or does not "
                                                          "exist."))
        return self.search_result(search_id, int(text(operation, "pageIndex") or 1))

    def get_deleted(self, name: str, operation, prefs) -> str:
        flt = child(operation, "getDeletedFilter")
        when, types = child(flt, "deletedDate"), [v.text for v in children(child(flt, "type"), "searchValue")]
        rows = [d for d in self.books.deleted if (when is None or self.date_matches(d[0], when))
                and (not types or d[1] in types)]
        size, page = self.page_size, int(text(operation, "pageIndex") or 1)
        chunk = rows[(page - 1) * size:page * size]
        records = "".join(
            f"<platformCore:deletedRecord><platformCore:deletedDate>{self.iso(w)}</platformCore:deletedDate>"
            f'<platformCore:record xsi:type="platformCore:RecordRef" internalId={quoteattr(i)}'
            f'{self.ext_attr(e)} type={quoteattr(k)}/></platformCore:deletedRecord>' for w, k, i, e in chunk)
        pages = max(1, -(-len(rows) // size))
        return (f"<platformCore:getDeletedResult>{self.status(None)}<platformCore:totalRecords>{len(rows)}"
                f"</platformCore:totalRecords><platformCore:pageSize>{size}</platformCore:pageSize>"
                f"<platformCore:totalPages>{pages}</platformCore:totalPages><platformCore:pageIndex>{page}"
                f"</platformCore:pageIndex><platformCore:deletedRecordList>{records}"
                f"</platformCore:deletedRecordList></platformCore:getDeletedResult>")

    # -- parsing a request -------------------------------------------------------------------------------------
    @staticmethod
    def xsi_type(element) -> str:
        value = element.get(f"{{{NS['xsi']}}}type", "") if element is not None else ""
        return value.rsplit(":", 1)[-1]

    def parse_record(self, element) -> dict:
        out: dict = {"internalId": element.get("internalId", ""), "externalId": element.get("externalId", "")}
        for field in element:
            name = local(field.tag)
            if name in ROW_LISTS:
                out[name] = [self.parse_fields(row) for row in field]
            else:
                out[name] = self.parse_value(name, field)
        return {k: v for k, v in out.items() if v != ""}

    def parse_fields(self, element) -> dict:
        return {local(f.tag): self.parse_value(local(f.tag), f) for f in element}

    @staticmethod
    def parse_value(name: str, field):
        if name in REFS or "internalId" in field.attrib or "externalId" in field.attrib:
            return {"internalId": field.get("internalId", ""), "externalId": field.get("externalId", "")}
        return (field.text or "").strip()

    def date_matches(self, stamp: float, condition) -> bool:
        operator = condition.get("operator", "after")
        first = self.parse_time(text(condition, "searchValue"))
        second = self.parse_time(text(condition, "searchValue2"))
        if operator == "after":
            return stamp > first
        if operator == "onOrAfter":
            return stamp >= first
        if operator == "before":
            return stamp < first
        if operator == "onOrBefore":
            return stamp <= first
        if operator == "within":
            return first <= stamp <= second
        return False

    @staticmethod
    def string_matches(value: str, wanted: str, operator: str) -> bool:
        value, wanted = value.lower(), wanted.lower()
        return {"is": value == wanted, "isNot": value != wanted, "contains": wanted in value,
                "startsWith": value.startswith(wanted)}.get(operator, False)

    @staticmethod
    def parse_time(value: str) -> float:
        if not value:
            return 0.0
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()

    # -- answers --------------------------------------------------------------------------------------------------
    @staticmethod
    def iso(stamp: float) -> str:
        return dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    @staticmethod
    def ext_attr(external: str) -> str:
        return f" externalId={quoteattr(external)}" if external else ""

    def status(self, error: NetSuiteError | None) -> str:
        if error is None:
            return '<platformCore:status isSuccess="true"/>'
        return (f'<platformCore:status isSuccess="false"><platformCore:statusDetail type="ERROR">'
                f"<platformCore:code>{escape(error.code)}</platformCore:code><platformCore:message>"
                f"{escape(error.message)}</platformCore:message></platformCore:statusDetail></platformCore:status>")

    def write_response(self, error: NetSuiteError | None, kind: str = "", ref: dict | None = None) -> str:
        ref = ref or {}
        base = ""
        if ref.get("internalId") or ref.get("externalId"):
            internal = f" internalId={quoteattr(ref['internalId'])}" if ref.get("internalId") else ""
            base = (f'<platformMsgs:baseRef xsi:type="platformCore:RecordRef"{internal}'
                    f'{self.ext_attr(ref.get("externalId") or "")} type={quoteattr(kind)}/>')
        return f"<platformMsgs:writeResponse>{self.status(error)}{base}</platformMsgs:writeResponse>"

    def search_result(self, search_id: str = "", page: int = 1, error: NetSuiteError | None = None) -> str:
        if error is not None:
            return f"<platformCore:searchResult>{self.status(error)}</platformCore:searchResult>"
        _, rows, size = self.searches[search_id]
        pages = max(1, -(-len(rows) // size))
        chunk = rows[(page - 1) * size:page * size]
        records = "".join(self.record(r, "platformCore:record") for r in chunk)
        return (f"<platformCore:searchResult>{self.status(None)}<platformCore:totalRecords>{len(rows)}"
                f"</platformCore:totalRecords><platformCore:pageSize>{size}</platformCore:pageSize>"
                f"<platformCore:totalPages>{pages}</platformCore:totalPages><platformCore:pageIndex>{page}"
                f"</platformCore:pageIndex><platformCore:searchId>{search_id}</platformCore:searchId>"
                f"<platformCore:recordList>{records}</platformCore:recordList></platformCore:searchResult>")

    def record(self, record: dict, tag: str = "platformMsgs:record") -> str:
        kind = record["_type"]
        prefix, type_name = PREFIX[kind]
        parts = []
        for name in FIELDS[kind]:
            value = record.get(name)
            if value in (None, "") and name not in ROW_LISTS:
                continue
            if name == "itemList":
                rows = "".join(f"<{prefix}:item>{self.fields('tranSales', line, LINE_FIELDS)}</{prefix}:item>"
                               for line in record.get("itemList") or [])
                parts.append(f"<{prefix}:itemList>{rows}</{prefix}:itemList>")
            elif name == "applyList":
                applied = record.get("_refunded" if kind == "customerRefund" else "_applied", {})
                rows = "".join(self.apply_row(prefix, record, doc, amount) for doc, amount in applied.items())
                parts.append(f"<{prefix}:applyList>{rows}</{prefix}:applyList>")
            elif name in LISTS:
                element, order = LISTS[name]
                rows = "".join(f"<{prefix}:{element}>{self.fields(prefix, line, order)}</{prefix}:{element}>"
                               for line in record.get(name) or [])
                parts.append(f"<{prefix}:{name}>{rows}</{prefix}:{name}>")
            else:
                parts.append(self.field(prefix, name, value))
        return (f'<{tag} xsi:type="{prefix}:{type_name}" internalId={quoteattr(record["internalId"])}'
                f'{self.ext_attr(record.get("externalId") or "")}>{"".join(parts)}</{tag}>')

    def apply_row(self, prefix: str, record: dict, doc: str, amount: Decimal) -> str:
        if record["_type"] == "customerRefund":  # a credit memo or a payment's unapplied amount
            credit = self.books.find("creditMemo", doc) or self.books.find("customerPayment", doc) or {}
            row = {"apply": "true", "doc": doc, "line": 0,
                   "type": "Payment" if credit.get("_type") == "customerPayment" else "Credit Memo",
                   "refNum": credit.get("tranId") or "", "total": credit.get("total", credit.get("payment")),
                   "due": credit.get("unapplied"), "currency": (record.get("currency") or {}).get("name"),
                   "amount": amount}
            return f"<{prefix}:apply>{self.fields(prefix, row, tuple(row))}</{prefix}:apply>"
        invoice = self.books.find("invoice", doc) or {}
        row = {"apply": "true", "doc": doc, "line": 0, "type": "Invoice", "refNum": invoice.get("tranId") or "",
               "total": invoice.get("total"), "due": invoice.get("amountRemaining"), "amount": amount}
        if record["_type"] == "creditMemo":
            row.pop("refNum")
        return f"<{prefix}:apply>{self.fields(prefix, row, tuple(row))}</{prefix}:apply>"

    def fields(self, prefix: str, values: dict, order) -> str:
        return "".join(self.field(prefix, n, values.get(n)) for n in order if values.get(n) not in (None, ""))

    def field(self, prefix: str, name: str, value) -> str:
        if isinstance(value, dict):
            inner = f"<platformCore:name>{escape(value['name'])}</platformCore:name>" if value.get("name") else ""
            internal = f" internalId={quoteattr(value['internalId'])}" if value.get("internalId") else ""
            return f"<{prefix}:{name}{internal}{self.ext_attr(value.get('externalId') or '')}>{inner}</{prefix}:{name}>"
        if name in TIMES:
            value = self.iso(value)
        elif name in ("tranDate", "dueDate") and value and "T" not in str(value):
            value = f"{value}T00:00:00.000Z"
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, Decimal):
            value = format(value, "f")
        return f"<{prefix}:{name}>{escape(str(value))}</{prefix}:{name}>"

    def envelope(self, body: str) -> Response:
        namespaces = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())
        xml = (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope {namespaces}><soapenv:Header>'
               f'<platformMsgs:documentInfo><platformMsgs:nsId>WEBSERVICES_{account.ACCOUNT_ID}_'
               f'{secrets.token_hex(6)}</platformMsgs:nsId></platformMsgs:documentInfo></soapenv:Header>'
               f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>")
        return 200, [("Content-Type", XML)], xml.encode()

    def fault(self, element: str, message: str, code: str = "", client: bool = False) -> Response:
        code = code or FAULT_CODES.get(element, "UNEXPECTED_ERROR")
        faultcode = "soapenv:Client" if client else "soapenv:Server.userException"
        xml = (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{NS["soapenv"]}">'
               f"<soapenv:Body><soapenv:Fault><faultcode>{faultcode}</faultcode><faultstring>{escape(message)}"
               f'</faultstring><detail><platformFaults:{element} xmlns:platformFaults="{NS["platformFaults"]}">'
               f"<platformFaults:code>{code}</platformFaults:code><platformFaults:message>{escape(message)}"
               f"</platformFaults:message></platformFaults:{element}></detail></soapenv:Fault></soapenv:Body>"
               f"</soapenv:Envelope>")
        return 500, [("Content-Type", XML)], xml.encode()

    # -- what a bookkeeper does in NetSuite ---------------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: str, reference: str = "", date: str = "") -> dict:
        with self.books.lock:
            invoice = self.books.require("invoice", {"internalId": str(invoice_id)}, "doc")
            saved = self.books.add("customerPayment", {
                "customer": {"internalId": invoice["_customer"]}, "payment": amount, "memo": reference,
                "tranDate": date or self.iso(self.clock())[:10],
                "applyList": [{"apply": "true", "doc": invoice["internalId"], "amount": amount}]})
        return {"id": saved["internalId"]}

    def edit_invoice_line_as_user(self, invoice_id: str, line: int, amount: Any = None, quantity: Any = None) -> dict:
        """A person changes a line's amount (the rate follows) or quantity (the amount follows) and saves."""
        with self.books.lock:
            invoice = self.books.require("invoice", {"internalId": str(invoice_id)}, "invoice")
            lines = [{**row, "item": dict(row["item"]), **({"taxCode": dict(row["taxCode"])} if "taxCode" in row
                                                          else {})} for row in invoice["itemList"]]
            target = lines[int(line)]
            if quantity is not None:
                target["quantity"] = Decimal(str(quantity))
                target["amount"] = (target["quantity"] * target["rate"]).quantize(Decimal("0.01"))
            if amount is not None:
                target["amount"] = Decimal(str(amount)).quantize(Decimal("0.01"))
                target["rate"] = (target["amount"] / target["quantity"]).quantize(Decimal("0.01"))
            for row in lines:
                row.pop("tax1Amt", None)  # recomputed from the tax code
            self.books.update("invoice", {"internalId": invoice["internalId"], "itemList": lines})
        return {"id": str(invoice_id)}

    def archive_account_as_user(self, account_id: str) -> dict:
        with self.books.lock:
            for row in self.books.reference.get("account", []):
                if row["internalId"] == str(account_id):
                    row["isInactive"] = True
                    return {"id": str(account_id)}
        raise ValueError(f"no account {account_id}")

    def void_invoice_as_user(self, invoice_id: str) -> dict:
        """A person voids an invoice with the default preference (Void Transactions Using Reversing Journals off):
        the invoice stays, its amounts become zero and its status Voided. NetSuite refuses it while payments are
        applied (guessed code: the same refusal as a delete)."""
        with self.books.lock:
            self.books.void("invoice", {"internalId": str(invoice_id)})
        return {"id": str(invoice_id)}

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        with self.books.lock:
            self.books.delete("invoice", {"internalId": str(invoice_id)})
        return {"id": str(invoice_id)}

    def delete_payment_as_user(self, payment_id: str) -> dict:
        with self.books.lock:
            self.books.delete("customerPayment", {"internalId": str(payment_id)})
        return {"id": str(payment_id)}
