"""A local MYOB Business (AccountRight) API v2 on loopback HTTP, built on the sandbox kit.

Routes: MYOB's OAuth server (``/oauth2/account/authorize``, ``/oauth2/v1/authorize``) and the API under
``/accountright``: the company file list, then per company file ``Contact/Customer``, ``Inventory/Item``,
``Sale/Invoice`` (``Service`` and ``Item`` layouts), ``Sale/CustomerPayment``, ``Sale/CreditSettlement``,
``Sale/CreditRefund``, ``Banking/SpendMoneyTxn``, ``GeneralLedger/GeneralJournal`` (their rules in ``costs.py``),
``GeneralLedger/Account``, ``GeneralLedger/TaxCode`` and ``GeneralLedger/Currency``. Per request: the Bearer token
(401), ``x-myobapi-key`` (403), ``x-myobapi-version: v2``, the per-second and daily limits per key (403
``RateLimitError``), then the resource. POST answers 201 with a ``Location`` and no body (the record with
``returnBody=true``); PUT needs the record's ``RowVersion`` (409 otherwise). Lists are ``{"Items", "NextPageLink",
"Count"}`` with OData ``$filter``, ``$orderby``, ``$top`` (at most 1000) and ``$skip``. Errors are
``{"Errors": [{"Name", "Message", "AdditionalDetails", "ErrorCode", "Severity", "LearnMoreUri"}]}``.
Every fact and guess is listed with its source in docs/sandbox-myob.md.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ...sandboxkit.faults import Fault
from ...sandboxkit.limits import Limiter
from ...sandboxkit.oauth import AuthServer
from ...sandboxkit.platform import PlatformSandbox, Request, Response, json_response
from ...sandboxkit.resources import Conflict, NotFound, ResourceError, ResourceStore, Row
from .costs import MyobCosts
from .seed import COMPANY_FILE_ID, COMPANY_NAME, seed
from .wire import CENT, ZERO, MyobError, invalid, myob_date, myob_time, not_found, number, required, uid_of

API = "/accountright"
#: Per API key: 8 calls a second and 1,000,000 a day (MYOB's published defaults). The per-second rule is off unless
#: asked for (``per_second_limit=8`` or ``/_sandbox/settings {"limits": {"second": [8, 1]}}``): the shared test
#: suites call connectors without the pipeline's throttle, which keeps a real connection under it.
LIMITS = {"second": (8, 1.0), "day": (1_000_000, 86400.0)}
PAGE_SIZE, MAX_TOP = 400, 1000
ROW_VERSION_BASE = -6933843581174022144  # the shape of MYOB's RowVersion (a signed 64-bit number as text)
NUMBER_LENGTH = 13  # invoice and receipt numbers (AccountRight's limit; a guess for receipts)
#: API path -> store resource (``Sale/Invoice`` lists both layouts).
PATHS = {"Contact/Customer": "customers", "Inventory/Item": "items", "Sale/Invoice": "sales",
         "Sale/Invoice/Service": "sales", "Sale/Invoice/Item": "sales", "Sale/CustomerPayment": "payments",
         "Sale/CreditSettlement": "settlements", "GeneralLedger/Account": "accounts",
         "GeneralLedger/TaxCode": "taxcodes", "GeneralLedger/Currency": "currencies",
         "Sale/CreditRefund": "refunds", "Banking/SpendMoneyTxn": "spends", "GeneralLedger/GeneralJournal": "journals"}
#: What each path lets a client do besides GET (MYOB has no PUT for payments, settlements and credit refunds).
WRITES = {"Contact/Customer": "POST PUT DELETE", "Inventory/Item": "POST PUT DELETE",
          "Sale/Invoice/Service": "POST PUT DELETE", "Sale/Invoice/Item": "POST PUT DELETE",
          "Sale/CustomerPayment": "POST DELETE", "Sale/CreditSettlement": "POST DELETE",
          "Sale/CreditRefund": "POST DELETE", "Banking/SpendMoneyTxn": "POST PUT DELETE",
          "GeneralLedger/GeneralJournal": "POST PUT DELETE"}
#: What MYOB computes; a client that sends a record back as it read it does not overwrite these.
READ_ONLY = ("UID", "URI", "RowVersion", "LastModified", "Subtotal", "TotalTax", "TotalAmount",
             "BalanceDueAmount", "Status", "CurrentBalance", "CreditAmount", "LastPaymentDate", "InvoiceType",
             "AmountPaid")


# -- OData $filter -------------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<typed>(?:guid|datetime)'[^']*')|(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)"
                    r"|(?P<punct>[(),])|(?P<word>[A-Za-z_][A-Za-z0-9_/]*))")
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}


class ODataFilter:
    """The part of OData v2 ``$filter`` MYOB's examples use: ``Field op literal`` with eq/ne/gt/ge/lt/le, paths
    such as ``Customer/UID``, ``and`` / ``or`` / ``not``, parentheses, ``startswith(Field,'x')`` and
    ``substringof('x',Field)``; literals ``'text'``, ``guid'...'``, ``datetime'...'``, numbers, true/false/null."""

    def __init__(self, text: str) -> None:
        self.tokens, pos = [], 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise invalid("$filter", f"The query filter is not valid: {text}")
            self.tokens.append((match.lastgroup, match.group(match.lastgroup)))
            pos = match.end()
        self.pos = 0
        self.test = self._or()
        if self.pos != len(self.tokens):
            raise invalid("$filter", f"The query filter is not valid: {text}")

    def __call__(self, record: dict) -> bool:
        return self.test(record)

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("", "")

    def _take(self, value: str | None = None) -> tuple[str, str]:
        token = self._peek()
        if not token[0] or (value is not None and token[1].lower() != value):
            raise invalid("$filter", "The query filter is not valid")
        self.pos += 1
        return token

    def _or(self) -> Callable[[dict], bool]:
        left = self._and()
        while self._peek()[1].lower() == "or":
            self._take()
            right, first = self._and(), left
            left = lambda r, a=first, b=right: a(r) or b(r)  # noqa: E731
        return left

    def _and(self) -> Callable[[dict], bool]:
        left = self._unary()
        while self._peek()[1].lower() == "and":
            self._take()
            right, first = self._unary(), left
            left = lambda r, a=first, b=right: a(r) and b(r)  # noqa: E731
        return left

    def _unary(self) -> Callable[[dict], bool]:
        kind, value = self._peek()
        if value.lower() == "not":
            self._take()
            inner = self._unary()
            return lambda r: not inner(r)
        if value == "(":
            self._take()
            inner = self._or()
            self._take(")")
            return inner
        if value.lower() in ("startswith", "substringof"):
            self._take()
            self._take("(")
            first = self._operand()
            self._take(",")
            second = self._operand()
            self._take(")")
            if value.lower() == "startswith":
                return lambda r: _text(first(r)).startswith(_text(second(r)))
            return lambda r: _text(first(r)) in _text(second(r))
        left = self._operand()
        op = self._take()[1].lower()
        if op not in _OPS:
            raise invalid("$filter", f"Unknown operator {op}")
        right = self._operand()
        return lambda r: _compare(left(r), op, right(r))

    def _operand(self) -> Callable[[dict], Any]:
        kind, value = self._take()
        if kind == "typed":
            literal = value[value.index("'") + 1:-1]
            return lambda r: literal
        if kind == "str":
            literal = value[1:-1].replace("''", "'")
            return lambda r: literal
        if kind == "num":
            return lambda r, v=Decimal(value): v
        if kind == "word" and value.lower() in ("true", "false", "null"):
            literal = {"true": True, "false": False, "null": None}[value.lower()]
            return lambda r: literal
        if kind == "word":
            path = value.split("/")
            return lambda r: _path(r, path)
        raise invalid("$filter", "The query filter is not valid")


def _path(record: Any, path: list[str]) -> Any:
    for part in path:
        record = record.get(part) if isinstance(record, dict) else None
    return record


def _text(value: Any) -> str:
    return "" if value is None else str(value).casefold()


def _compare(left: Any, op: str, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool) or left is None or right is None:
        a, b = left, right
        if op in ("eq", "ne"):
            return (a == b) == (op == "eq")
        return False
    if isinstance(left, (int, Decimal)) or isinstance(right, (int, Decimal)):
        try:
            a, b = Decimal(str(left)), Decimal(str(right))
        except ArithmeticError:
            a, b = _text(left), _text(right)
    else:
        a, b = _text(left), _text(right)
    return {"eq": a == b, "ne": a != b, "gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]


class MyobSandbox(MyobCosts, PlatformSandbox):
    """MYOB Business API v2 with one company file (``company_id``), its OAuth server, limits and faults."""

    platform, title, default_port, ready_path = "myob", "MYOB Business", 8772, "/_sandbox/state"
    api_path, token_path, authorize_path = API, "/oauth2/v1/authorize", "/oauth2/account/authorize"
    revoke_path = None  # MYOB documents no revocation endpoint
    #: What a person does in AccountRight to take back a credit refund (deleted: MYOB has no void or reversal of
    #: one through the API), a spend money or a general journal (reversed, in a file whose transactions must be
    #: reversed rather than changed): the ``<action>_as_user`` helper and its id keyword. A deleted spend money or
    #: journal (``delete_journal``) is in no list: reconciliation finds it, polling cannot.
    user_takes_back = {"refund": ("delete_refund", "refund_id"), "expense": ("reverse_spend_money", "spend_id"),
                       "journal": ("reverse_journal", "journal_id")}

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] | None = None,
                 company_file_id: str = COMPANY_FILE_ID, company_name: str = COMPANY_NAME,
                 local_currency: str = "USD", access_ttl: int = 1200, per_second_limit: int | None = None,
                 timeout_seconds: float = 5.0,
                 verbose: bool = False) -> None:
        super().__init__(host, port, clock, timeout_seconds, verbose)
        self.company_file_id, self.company_name, self.local_currency = company_file_id, company_name, local_currency
        # MYOB access tokens live 20 minutes; the refresh token is answered again on each refresh.
        self.auth = AuthServer(clock=self.clock, access_ttl=access_ttl, scheme="Bearer")
        self.limits = Limiter(self.clock, second=(per_second_limit, LIMITS["second"][1]), day=LIMITS["day"])
        self.store = ResourceStore(self.clock)
        for name in ("customers", "items", "sales", "payments", "settlements", "accounts", "taxcodes",
                     "currencies", "refunds", "spends", "journals"):
            self.store.declare(name, ids="uuid", versioned=True)
        self._numbers = itertools.count(1)
        self.reset()

    # -- kit hooks -------------------------------------------------------------------------------------------------
    @property
    def company_id(self) -> str:
        return self.company_file_id

    def bind(self):
        """The consent redirect carries ``businessId`` (the company file the user picked), as MYOB's does."""
        super().bind()
        self.auth.redirect_extra = {"businessId": self.company_file_id}
        self.auth.token_extra = {"user": {"uid": "5c1a4d7e-0000-4000-8000-000000000001", "username": "owner"}}
        return self

    def seed(self) -> None:
        self._numbers = itertools.count(1)
        seed(self.store, self.local_currency)

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            return self._too_many("second", int(fault.retry_after or 1))
        if fault.kind == "http_503":
            return 503, [("Content-Type", "text/html")], b"<html><body><h1>503 Service Unavailable</h1></body></html>"
        return MyobError(500, "InternalError", "An internal error has occurred", "", None).response()

    def apply_setting(self, name: str, value: Any) -> bool:
        if name == "daily_limit":
            self.limits.set("day", None if value is None else int(value))
            return True
        return False

    def extra_state(self) -> dict:
        return {"company_file_id": self.company_file_id}

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()

    # -- routing ----------------------------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        if (oauth := self.oauth_route(req)) is not None:
            return oauth
        if not (req.path == API or req.path.startswith(API + "/")):
            return MyobError(404, "ResourceNotFound", "The requested resource was not found").response()
        if self.auth.check(req.header("Authorization")) is not None:
            return MyobError(401, "OAuthTokenIsInvalid", "The supplied OAuth token (Bearer) is not valid",
                             "Header: Authorization", 31001).response()
        key = req.header("x-myobapi-key")
        if key != self.auth.client_id:
            return MyobError(403, "DeveloperInactive", "API key is missing or inactive",
                             "Header: x-myobapi-key").response()
        if req.header("x-myobapi-version", "v2").lower() != "v2":
            raise invalid("x-myobapi-version", "Only API version v2 is served here")
        exceeded = self.limits.hit(("second", key), ("day", key))
        if exceeded is not None:
            return self._too_many(exceeded.rule, exceeded.retry_after)
        parts = [p for p in req.path[len(API):].split("/") if p]
        if not parts:
            return json_response(200, [self.company_file()])
        if parts[0].lower() != self.company_file_id:
            return MyobError(404, "ResourceNotFound", f"Company file {parts[0]} was not found").response()
        return self.dispatch(req, parts[1:])

    def oauth_route(self, req: Request) -> Response | None:
        """MYOB's OAuth paths with or without the trailing slash (pymyob sends ``.../v1/authorize/``)."""
        if req.path.startswith("/oauth2/") and req.path.endswith("/"):
            req = Request(req.environ, req.method, req.path.rstrip("/"), req.params)
        return super().oauth_route(req)

    def _too_many(self, rule: str, retry_after: int) -> Response:
        word = "daily" if rule == "day" else "per-second"
        return MyobError(403, "RateLimitError", f"API key has exceeded the {word} rate limit",
                         "Header: x-myobapi-key", None, (("Retry-After", str(max(1, retry_after))),)).response()

    def store_error(self, error: ResourceError, req: Request) -> MyobError:
        if isinstance(error, Conflict):
            return MyobError(409, "IncorrectRowVersionSupplied", "The RowVersion supplied is not the current one "
                             "of the record: read it again", "RowVersion", 4010)
        if isinstance(error, NotFound):
            return MyobError(404, "ResourceNotFound", "The requested resource was not found", error.record_id or "")
        return invalid("", error.message)

    def dispatch(self, req: Request, parts: list[str]) -> Response:
        if not parts:
            return json_response(200, {"CompanyFile": self.company_file(),
                                       "Resources": [f"{self.file_uri()}/{p}" for p in PATHS]})
        record_id = parts[-1] if len(parts) > 1 and _is_uid(parts[-1]) else None
        path = "/".join(parts[:-1] if record_id else parts)
        path = next((p for p in PATHS if p.lower() == path.lower()), None)
        if path is None:
            return MyobError(404, "ResourceNotFound", "The requested resource was not found").response()
        resource = PATHS[path]
        if req.method == "GET":
            if record_id:
                return json_response(200, self.render(self._get(path, record_id)))
            return self.listing(req, path)
        if req.method not in WRITES.get(path, "") or (req.method == "POST") == bool(record_id):
            return MyobError(405, "MethodNotAllowed", f"{req.method} is not supported on {path}").response()
        if req.method == "DELETE":
            self._get(path, record_id)
            self.delete(resource, record_id)
            return 200, [], b""
        body = req.json_object(MyobError(400, "SerializationError", "The request body is not valid JSON", "", 50))
        if req.method == "POST":
            if body.get("UID") or body.get("RowVersion"):
                return MyobError(409, "IncorrectRowVersionSupplied", "A new record carries no UID or RowVersion",
                                 "UID", 4010).response()
            row = self.write(path, None, body)
            headers = [("Location", self.uri(row))]
            if req.params.get("returnBody", "").lower() == "true":
                return json_response(201, self.render(row), headers)
            return 201, headers, b""
        self._get(path, record_id)
        if str(body.get("UID", record_id)).lower() != record_id.lower():
            raise invalid("UID", "The UID in the body is not the UID of the address")
        if not body.get("RowVersion"):
            raise required("RowVersion")
        row = self.write(path, record_id, body, version=self._version(body["RowVersion"]))
        if req.params.get("returnBody", "").lower() == "true":
            return json_response(200, self.render(row))
        return 200, [], b""

    def _get(self, path: str, record_id: str) -> Row:
        row = self.store.get(PATHS[path], record_id)
        if row.resource == "sales" and path.count("/") == 2 and row.data["InvoiceType"] != path.split("/")[2]:
            raise NotFound("sales", f"sales {record_id} is not a {path}", record_id)
        return row

    @staticmethod
    def _version(text: Any) -> str:
        try:
            return str(int(str(text)) - ROW_VERSION_BASE)
        except ValueError:
            return "-1"

    def listing(self, req: Request, path: str) -> Response:
        p = req.params
        test = ODataFilter(p["$filter"]) if p.get("$filter") else None
        layout = path.split("/")[2] if path.startswith("Sale/Invoice/") else None
        rows = [self.render(r) for r in self.store.rows(PATHS[path])
                if not layout or r.data["InvoiceType"] == layout]
        rows = [r for r in rows if test is None or test(r)]
        if p.get("$orderby"):
            field, _, direction = p["$orderby"].strip().partition(" ")
            rows.sort(key=lambda r: (_path(r, field.split("/")) is None, str(_path(r, field.split("/")) or "")),
                      reverse=direction.strip().lower() == "desc")
        try:
            top = min(MAX_TOP, max(1, int(p.get("$top") or PAGE_SIZE)))
            skip = max(0, int(p.get("$skip") or 0))
        except ValueError:
            raise invalid("$top") from None
        page = rows[skip:skip + top]
        next_link = None
        if skip + top < len(rows):
            next_link = f"{self.file_uri()}/{path}?$top={top}&$skip={skip + top}" + (
                f"&$filter={p['$filter']}" if p.get("$filter") else "")
        return json_response(200, {"Items": page, "NextPageLink": next_link, "Count": len(rows)})

    # -- rendering ------------------------------------------------------------------------------------------------
    def file_uri(self) -> str:
        return f"{self.api_base}/{self.company_file_id}"

    def uri(self, row: Row) -> str:
        path = {"customers": "Contact/Customer", "items": "Inventory/Item", "payments": "Sale/CustomerPayment",
                "settlements": "Sale/CreditSettlement", "accounts": "GeneralLedger/Account",
                "taxcodes": "GeneralLedger/TaxCode", "currencies": "GeneralLedger/Currency",
                "refunds": "Sale/CreditRefund", "spends": "Banking/SpendMoneyTxn",
                "journals": "GeneralLedger/GeneralJournal"}.get(row.resource)
        if row.resource == "sales":
            path = f"Sale/Invoice/{row.data['InvoiceType']}"
        return f"{self.file_uri()}/{path}/{row.id}"

    def link(self, resource: str, record_id: str, *fields: str) -> dict:
        row = self.store.find(resource, record_id)
        if row is None:
            return {"UID": record_id}
        return {"UID": row.id, **{f: row.data.get(f) for f in fields}, "URI": self.uri(row)}

    def render(self, row: Row) -> dict:
        """A record as MYOB answers it: UID, the fields, links resolved, LastModified, URI and RowVersion."""
        data = {k: v for k, v in row.data.items() if not k.startswith("_")}
        if row.resource == "customers":
            data["SellingDetails"] = {**data.get("SellingDetails", {}),
                                      "TaxCode": self.link("taxcodes", row.data["_tax"], "Code"),
                                      "FreightTaxCode": self.link("taxcodes", row.data["_freight_tax"], "Code")}
        elif row.resource == "items":
            if row.data.get("_income"):
                data["IncomeAccount"] = self.link("accounts", row.data["_income"], "Name", "DisplayID")
            selling = dict(data.get("SellingDetails") or {})
            if row.data.get("_tax"):
                selling["TaxCode"] = self.link("taxcodes", row.data["_tax"], "Code")
            data["SellingDetails"] = selling
        elif row.resource == "sales":
            data["Customer"] = self.link("customers", row.data["_customer"], "CompanyName", "DisplayID")
            data["Customer"]["Name"] = data["Customer"].pop("CompanyName", "")
            data["Lines"] = [self._render_line(line) for line in row.data["Lines"]]
        elif row.resource == "payments":
            data["Customer"] = self.link("customers", row.data["_customer"], "CompanyName", "DisplayID")
            data["Customer"]["Name"] = data["Customer"].pop("CompanyName", "")
            data["Account"] = self.link("accounts", row.data["_account"], "Name", "DisplayID")
            data["Invoices"] = [{"RowID": i + 1, "UID": a["UID"], "Number": a["Number"], "Type": "Invoice",
                                 "AmountApplied": a["AmountApplied"],
                                 "URI": self.uri(self.store.get("sales", a["UID"]))
                                 if self.store.find("sales", a["UID"]) else None}
                                for i, a in enumerate(row.data["Invoices"])]
        elif row.resource == "settlements":
            data["Customer"] = self.link("customers", row.data["_customer"], "CompanyName", "DisplayID")
            data["CreditFromInvoice"] = self.link("sales", row.data["_credit"], "Number")
            data["Lines"] = [{"RowID": i + 1, "Type": "Invoice", "AmountApplied": a["AmountApplied"],
                              "Sale": self.link("sales", a["UID"], "Number")}
                             for i, a in enumerate(row.data["Lines"])]
        elif row.resource == "refunds":
            data["Account"] = self.link("accounts", row.data["_account"], "Name", "DisplayID")
            data["Invoice"] = self.link("sales", row.data["_credit"], "Number")
            data["Customer"] = self.link("customers", row.data["_customer"], "CompanyName", "DisplayID")
            data["Customer"]["Name"] = data["Customer"].pop("CompanyName", "")
        elif row.resource in ("spends", "journals"):
            if row.resource == "spends":
                data["Account"] = self.link("accounts", row.data["_account"], "Name", "DisplayID")
                contact = self.link("customers", row.data["_contact"], "CompanyName", "DisplayID") \
                    if row.data["_contact"] else None
                if contact:
                    contact.update(Name=contact.pop("CompanyName", ""), Type="Customer")
                data["Contact"] = contact
            data["Lines"] = [self._render_line(line) for line in row.data["Lines"]]
        return {"UID": row.id, **data, "LastModified": myob_time(row.modified), "URI": self.uri(row),
                "RowVersion": str(ROW_VERSION_BASE + int(row.version))}

    def _render_line(self, line: dict) -> dict:
        out = {k: v for k, v in line.items() if not k.startswith("_")}
        if line.get("_account"):
            out["Account"] = self.link("accounts", line["_account"], "Name", "DisplayID")
        if line.get("_item"):
            out["Item"] = self.link("items", line["_item"], "Number", "Name")
        out["TaxCode"] = self.link("taxcodes", line["_tax"], "Code")
        return out

    def company_file(self) -> dict:
        return {"Id": self.company_file_id, "Name": self.company_name, "LibraryPath": self.company_name,
                "ProductVersion": "2024.1", "ProductLevel": {"Code": 30, "Name": "Plus"},
                "CheckedOutDate": None, "CheckedOutBy": None, "Uri": self.file_uri(), "Country": "AU",
                "SerialNumber": "612345678901", "UIAccessFlags": 2}

    # -- writes -----------------------------------------------------------------------------------------------------
    def write(self, path: str, record_id: str | None, body: dict, version: str | None = None) -> Row:
        """Create (``record_id`` None) or update one record under the store lock; the balances of the sales a
        payment or settlement touches move with it."""
        resource = PATHS[path]
        body = {k: v for k, v in body.items() if k not in READ_ONLY}
        with self.store.lock:
            old = self.store.get(resource, record_id).data if record_id else {}
            if record_id and version is not None and version != self.store.get(resource, record_id).version:
                raise Conflict(resource, record_id, version, self.store.get(resource, record_id).version)
            if resource == "customers":
                data = self._customer(body, old)
            elif resource == "items":
                data = self._item(body, old, record_id)
            elif resource == "sales":
                data = self._sale(body, old, record_id, path.split("/")[2])
            elif resource == "payments":
                data = self._payment(body)
            elif resource == "refunds":
                data = self._refund(body)
            elif resource == "spends":
                data = self._spend(body, old)
            elif resource == "journals":
                data = self._journal(body, old)
            else:
                data = self._settlement(body)
            if resource == "sales" and record_id and abs(data["TotalAmount"]) < self._used(record_id):
                raise MyobError(400, "AmountBelowApplied", "The sale's total cannot be less than what is paid or "
                                "credited on it", "TotalAmount", 4304)
            row = self.store.update(resource, record_id, data, replace=True) if record_id \
                else self.store.create(resource, data)
            if resource == "sales":
                self._settle(row.id)
            for sale_id in {a["UID"] for a in data.get("Invoices", []) + data.get("Lines", [])
                            if resource in ("payments", "settlements")} | (
                    {data["_credit"]} if resource in ("settlements", "refunds") else set()):
                self._settle(sale_id)
            return self.store.get(resource, row.id)

    def _tax(self, link: Any, field: str) -> str:
        if not uid_of(link):
            raise required(field)
        return self.store.require("taxcodes", uid_of(link), not_found(field)).id

    def _account(self, link: Any, field: str) -> str:
        if not uid_of(link):
            raise required(field)
        row = self.store.require("accounts", uid_of(link), not_found(field))
        if not row.data["IsActive"]:
            raise MyobError(400, "AccountInactive", f"The account {row.data['DisplayID']} is inactive", field, 4101)
        if row.data["IsHeader"]:
            raise MyobError(400, "AccountIsHeader", "A header account cannot be used in a transaction", field)
        return row.id

    def _customer(self, body: dict, old: dict) -> dict:
        data = {**{k: v for k, v in old.items() if not k.startswith("_")}, **body}
        individual = bool(data.get("IsIndividual"))
        if individual and not str(data.get("LastName") or "").strip():
            raise required("LastName")
        if not individual and not str(data.get("CompanyName") or "").strip():
            raise required("CompanyName")
        if len(str(data.get("CompanyName") or "")) > 50:
            raise invalid("CompanyName", "CompanyName cannot be longer than 50 characters")
        selling = data.get("SellingDetails") or {}
        tax = self._tax(selling.get("TaxCode"), "SellingDetails.TaxCode") if selling.get("TaxCode") \
            else old.get("_tax") or self._tax(None, "SellingDetails.TaxCode")
        freight = self._tax(selling.get("FreightTaxCode"), "SellingDetails.FreightTaxCode") \
            if selling.get("FreightTaxCode") else old.get("_freight_tax") or self._tax(None, "SellingDetails"
                                                                                            ".FreightTaxCode")
        display = str(data.get("DisplayID") or "*None")  # card IDs: not checked for uniqueness here
        selling = {k: v for k, v in selling.items() if k not in ("TaxCode", "FreightTaxCode")}
        return {**data, "IsIndividual": individual, "IsActive": bool(data.get("IsActive", True)),
                "DisplayID": display, "SellingDetails": selling, "_tax": tax, "_freight_tax": freight,
                "CurrentBalance": old.get("CurrentBalance", ZERO)}

    def _item(self, body: dict, old: dict, record_id: str | None) -> dict:
        data = {**{k: v for k, v in old.items() if not k.startswith("_")}, **body}
        code = str(data.get("Number") or "").strip()
        if not code:
            raise required("Number")
        if len(code) > 30 or len(str(data.get("Name") or "")) > 30:
            raise invalid("Number", "Number and Name cannot be longer than 30 characters")
        if not str(data.get("Name") or "").strip():
            raise required("Name")
        if any(r.id != record_id and r.data["Number"].casefold() == code.casefold()
               for r in self.store.rows("items")):
            raise MyobError(400, "DuplicateItemNumber", f"The item number {code} already exists", "Number", 4201)
        sold = bool(data.get("IsSold", True))
        income = self._account(data.get("IncomeAccount"), "IncomeAccount") if sold and (
            data.get("IncomeAccount") or not old.get("_income")) else old.get("_income")
        selling = dict(data.get("SellingDetails") or {})
        tax = self._tax(selling["TaxCode"], "SellingDetails.TaxCode") if selling.get("TaxCode") else old.get("_tax")
        selling.pop("TaxCode", None)
        selling["BaseSellingPrice"] = number(selling.get("BaseSellingPrice"), "BaseSellingPrice", ZERO)
        selling.setdefault("IsTaxInclusive", False)
        data.pop("IncomeAccount", None)
        return {**data, "Number": code, "IsSold": sold, "IsBought": bool(data.get("IsBought", False)),
                "IsInventoried": bool(data.get("IsInventoried", False)), "IsActive": bool(data.get("IsActive", True)),
                "SellingDetails": selling, "_income": income, "_tax": tax}

    def _sale(self, body: dict, old: dict, record_id: str | None, layout: str) -> dict:
        """Lines priced and taxed per line (rounded to the cent), as AccountRight does; a negative total is a
        customer credit ("credit note")."""
        data = {**{k: v for k, v in old.items() if not k.startswith("_") and k != "Lines"}, **body}
        customer = uid_of(data.get("Customer"))
        if not customer:
            raise required("Customer")
        self.store.require("customers", customer, not_found("Customer"))
        code = str(data.get("Number") or "").strip() or f"{next(self._numbers):08d}"
        if len(code) > NUMBER_LENGTH:
            raise invalid("Number", f"Number cannot be longer than {NUMBER_LENGTH} characters")
        if not old.get("_reversal") and any(r.id != record_id and not r.data.get("_reversal")
                                            and r.data["Number"].casefold() == code.casefold()
                                            for r in self.store.rows("sales")):
            raise MyobError(400, "DuplicateInvoiceNumber", f"The invoice number {code} is already in use",
                            "Number", 4202)
        if not data.get("Date"):
            raise required("Date")
        lines = data.get("Lines")
        if not isinstance(lines, list) or not lines:
            raise required("Lines")
        inclusive = bool(data.get("IsTaxInclusive", False))
        priced, subtotal, tax_total = [], ZERO, ZERO
        for i, line in enumerate(lines):
            field = f"Lines[{i}]"
            out = {k: v for k, v in line.items() if k not in ("Account", "Item", "TaxCode", "RowVersion")}
            out.update(RowID=i + 1, Type=line.get("Type") or "Transaction")
            if layout == "Item":
                item_id = uid_of(line.get("Item"))
                if not item_id:
                    raise required(f"{field}.Item")
                item = self.store.require("items", item_id, not_found(f"{field}.Item"))
                quantity = number(line.get("ShipQuantity"), "ShipQuantity", Decimal("1"))
                price = number(line.get("UnitPrice"), "UnitPrice", item.data["SellingDetails"]["BaseSellingPrice"])
                discount = number(line.get("DiscountPercent"), "DiscountPercent", ZERO)
                total = (quantity * price * (100 - discount) / 100).quantize(CENT, ROUND_HALF_UP)
                sent = line.get("Total")
                if sent not in (None, "") and number(sent, "Total").quantize(CENT, ROUND_HALF_UP) != total:
                    raise invalid(f"{field}.Total", "Total does not equal ShipQuantity x UnitPrice less discount")
                out.update(ShipQuantity=quantity, UnitPrice=price, DiscountPercent=discount, _item=item.id,
                           _account=item.data.get("_income"))
                if not item.data.get("_income"):
                    raise MyobError(400, "ItemNotSold", f"The item {item.data['Number']} is not sold", field)
            else:
                if line.get("Total") in (None, ""):
                    raise required(f"{field}.Total")
                total = number(line["Total"], "Total").quantize(CENT, ROUND_HALF_UP)
                if line.get("UnitCount") not in (None, "") and line.get("UnitPrice") not in (None, ""):
                    out.update(UnitCount=number(line["UnitCount"], "UnitCount"),
                               UnitPrice=number(line["UnitPrice"], "UnitPrice"))
                out["_account"] = self._account(line.get("Account"), f"{field}.Account")
            tax = self._tax(line.get("TaxCode"), f"{field}.TaxCode")
            rate = self.store.get("taxcodes", tax).data["Rate"]
            amount = (total * rate / (100 + rate) if inclusive else total * rate / 100).quantize(CENT, ROUND_HALF_UP)
            out.update(Total=total, _tax=tax, RowVersion=str(ROW_VERSION_BASE + i))
            priced.append(out)
            subtotal += total
            tax_total += amount
        total = subtotal if inclusive else subtotal + tax_total
        day = myob_date(data["Date"])
        return {**data, "Number": code, "Date": day, "InvoiceType": layout, "IsTaxInclusive": inclusive,
                "Lines": priced, "Subtotal": subtotal, "TotalTax": tax_total, "TotalAmount": total,
                "BalanceDueAmount": total, "Status": "Credit" if total < 0 else "Open",
                "JournalMemo": str(data.get("JournalMemo") or f"Sale; {self._customer_name(customer)}"),
                "Customer": None, "_customer": customer, "_reversal": old.get("_reversal", False),
                "PromisedDate": data.get("PromisedDate"), "ForeignCurrency": None, "CurrencyExchangeRate": 1}

    def _customer_name(self, customer_id: str) -> str:
        return self.store.get("customers", customer_id).data.get("CompanyName") or ""

    def _payment(self, body: dict) -> dict:
        customer = uid_of(body.get("Customer"))
        if not customer:
            raise required("Customer")
        self.store.require("customers", customer, not_found("Customer"))
        deposit = body.get("DepositTo") or "Account"
        if deposit == "UndepositedFunds":
            account = self.store.first("accounts", Name="Undeposited Funds").id
        else:
            account = self._account(body.get("Account"), "Account")
        received = number(body.get("AmountReceived"), "AmountReceived").quantize(CENT, ROUND_HALF_UP)
        if received <= 0:
            raise invalid("AmountReceived", "AmountReceived must be more than zero")
        applied, entries = ZERO, []
        for i, entry in enumerate(body.get("Invoices") or []):
            sale = self.store.require("sales", entry.get("UID"), not_found(f"Invoices[{i}].UID")).data
            share = number(entry.get("AmountApplied"), "AmountApplied").quantize(CENT, ROUND_HALF_UP)
            if sale["_customer"] != customer or sale["TotalAmount"] < 0:
                raise invalid(f"Invoices[{i}].UID", "The invoice is not an open sale of this customer")
            if share <= 0 or share > sale["BalanceDueAmount"]:
                raise MyobError(400, "AmountAppliedExceedsBalanceDue", f"The amount applied to invoice "
                                f"{sale['Number']} exceeds its balance due", f"Invoices[{i}].AmountApplied", 4301)
            applied += share
            entries.append({"UID": str(entry["UID"]), "Number": sale["Number"], "AmountApplied": share})
        if not entries:
            raise required("Invoices")
        if applied != received:
            raise MyobError(400, "AmountReceivedMismatch", "AmountReceived must equal the sum of AmountApplied",
                            "AmountReceived", 4302)
        receipt = str(body.get("ReceiptNumber") or "").strip() or f"CR{next(self._numbers):06d}"
        if len(receipt) > NUMBER_LENGTH:
            raise invalid("ReceiptNumber", f"ReceiptNumber cannot be longer than {NUMBER_LENGTH} characters")
        return {"DepositTo": deposit, "ReceiptNumber": receipt, "Date": myob_date(body.get("Date") or self.today()),
                "AmountReceived": received, "PaymentMethod": body.get("PaymentMethod") or "Cash",
                "Memo": str(body.get("Memo") or ""), "Invoices": entries, "ForeignCurrency": None,
                "_customer": customer, "_account": account}

    def _settlement(self, body: dict) -> dict:
        credit_id = uid_of(body.get("CreditFromInvoice"))
        if not credit_id:
            raise required("CreditFromInvoice")
        credit = self.store.require("sales", credit_id, not_found("CreditFromInvoice")).data
        if credit["TotalAmount"] >= 0:
            raise invalid("CreditFromInvoice", "CreditFromInvoice is not a customer credit")
        applied, lines = ZERO, []
        for i, line in enumerate(body.get("Lines") or []):
            sale_id = uid_of(line.get("Sale"))
            sale = self.store.require("sales", sale_id, not_found(f"Lines[{i}].Sale")).data
            share = number(line.get("AmountApplied"), "AmountApplied").quantize(CENT, ROUND_HALF_UP)
            if sale["_customer"] != credit["_customer"] or sale["TotalAmount"] < 0:
                raise invalid(f"Lines[{i}].Sale", "The sale is not an open invoice of the credit's customer")
            if share <= 0 or share > sale["BalanceDueAmount"]:
                raise MyobError(400, "AmountAppliedExceedsBalanceDue", f"The amount applied to invoice "
                                f"{sale['Number']} exceeds its balance due", f"Lines[{i}].AmountApplied", 4301)
            applied += share
            lines.append({"UID": sale_id, "AmountApplied": share})
        if not lines:
            raise required("Lines")
        if applied > -credit["BalanceDueAmount"]:
            raise MyobError(400, "CreditAmountExceeded", "The amounts applied exceed the credit available",
                            "Lines", 4303)
        return {"Number": str(body.get("Number") or f"CS{next(self._numbers):06d}"),
                "Date": myob_date(body.get("Date") or self.today()), "CreditAmount": applied,
                "Memo": str(body.get("Memo") or ""), "Lines": lines, "_credit": credit_id,
                "_customer": credit["_customer"]}

    # -- balances and deletes ------------------------------------------------------------------------------------------
    def _used(self, sale_id: str) -> Decimal:
        """Payments and credits applied to an invoice, or what a credit has given away."""
        paid = sum((a["AmountApplied"] for r in self.store.rows("payments") for a in r.data["Invoices"]
                    if a["UID"] == sale_id), ZERO)
        credited = sum((a["AmountApplied"] for r in self.store.rows("settlements") for a in r.data["Lines"]
                        if a["UID"] == sale_id), ZERO)
        given = sum((r.data["CreditAmount"] for r in self.store.rows("settlements") if r.data["_credit"] == sale_id),
                    ZERO)
        return paid + credited + given + self.refunded(sale_id)

    def _settle(self, sale_id: str) -> None:
        with self.store.lock:
            row = self.store.find("sales", sale_id)
            if row is None:
                return
            data = row.data
            used = self._used(sale_id)
            balance = data["TotalAmount"] + used if data["TotalAmount"] < 0 else data["TotalAmount"] - used
            if balance == 0 and data["TotalAmount"] != 0:
                status = "Closed"
            else:
                status = "Credit" if data["TotalAmount"] < 0 else "Open"
            if data["BalanceDueAmount"] != balance or data["Status"] != status:
                self.store.update("sales", sale_id, {"BalanceDueAmount": balance, "Status": status})

    def delete(self, resource: str, record_id: str) -> None:
        with self.store.lock:
            data = self.store.get(resource, record_id).data
            if resource == "sales" and (any(a["UID"] == record_id for r in self.store.rows("payments")
                                            for a in r.data["Invoices"])
                                        or any(r.data["_credit"] == record_id or any(a["UID"] == record_id
                                                                                     for a in r.data["Lines"])
                                               for r in self.store.rows("settlements"))
                                        or any(r.data["_credit"] == record_id for r in self.store.rows("refunds"))):
                raise MyobError(400, "SaleHasPaymentsOrCredits", "A sale with payments or credits applied cannot "
                                "be deleted: delete them first", "UID", 4401)
            if resource in ("customers", "items"):
                field = "_customer" if resource == "customers" else "_item"
                used = any(r.data.get("_customer") == record_id for r in self.store.rows("sales")) or any(
                    line.get(field) == record_id for r in self.store.rows("sales") for line in r.data["Lines"])
                if used:
                    raise MyobError(400, "CardHasTransactions" if resource == "customers" else "ItemHasTransactions",
                                    "The record is used by transactions and cannot be deleted; make it inactive",
                                    "UID", 4402)
            self.store.delete(resource, record_id)
            touched = [a["UID"] for a in data.get("Invoices", [])] if resource == "payments" else []
            if resource == "settlements":
                touched = [a["UID"] for a in data["Lines"]] + [data["_credit"]]
            if resource == "refunds":
                touched = [data["_credit"]]
            for sale_id in touched:
                self._settle(sale_id)

    # -- what a bookkeeper does in AccountRight ------------------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: Any, date: str | None = None,
                               reference: str = "") -> dict:
        sale = self.store.get("sales", invoice_id).data
        row = self.write("Sale/CustomerPayment", None, {
            "DepositTo": "UndepositedFunds", "Customer": {"UID": sale["_customer"]}, "ReceiptNumber": reference,
            "Date": date or self.today(), "AmountReceived": number(amount, "amount"),
            "Invoices": [{"UID": invoice_id, "AmountApplied": number(amount, "amount"), "Type": "Invoice"}]})
        return self.render(row)

    def edit_invoice_line_as_user(self, invoice_id: str, line: int = 0, amount: Any = None, quantity: Any = None,
                                  description: str | None = None) -> dict:
        """A line's Total (``amount``), its quantity at the same unit price (``quantity``), or description."""
        row = self.store.get("sales", invoice_id)
        body = self.render(row)
        target = body["Lines"][int(line)]
        if quantity is not None and amount is None:  # the user types a new quantity: the total follows the price
            count = number(quantity, "quantity")
            if row.data["InvoiceType"] == "Item":
                target["ShipQuantity"] = count
                target.pop("Total", None)
            else:
                price = target.get("UnitPrice") or (target["Total"] / (target.get("UnitCount") or 1))
                target["UnitCount"], target["UnitPrice"] = count, price
                target["Total"] = price * count
        if amount is not None:
            target["Total"] = number(amount, "amount")
            if target.get("UnitCount"):
                target["UnitPrice"] = number(amount, "amount") / target["UnitCount"]
            if row.data["InvoiceType"] == "Item":
                target["UnitPrice"] = number(amount, "amount") / target["ShipQuantity"]
                target.pop("Total")
        if description is not None:
            target["Description"] = description
        path = f"Sale/Invoice/{row.data['InvoiceType']}"
        return self.render(self.write(path, invoice_id, body, version=row.version))

    def void_invoice_as_user(self, invoice_id: str) -> dict:
        """AccountRight has no void: a user reverses the sale. The reversal is a credit sale with the same number,
        negated lines and the journal memo ``Reversal; ...``, settled against the original in full."""
        with self.store.lock:
            row = self.store.get("sales", invoice_id)
            if self._used(invoice_id):
                raise MyobError(400, "SaleHasPaymentsOrCredits", "Delete the payments of the sale before reversing "
                                "it", "UID", 4401)
            body = self.render(row)
            lines = []
            for line in body["Lines"]:
                negated = {k: v for k, v in line.items() if k not in ("RowID", "RowVersion")}
                if row.data["InvoiceType"] == "Item":
                    negated["ShipQuantity"] = -line["ShipQuantity"]
                    negated.pop("Total", None)
                else:
                    negated["Total"] = -line["Total"]
                lines.append(negated)
            reversal = {"Number": row.data["Number"], "Date": self.today(), "Customer": body["Customer"],
                        "IsTaxInclusive": row.data["IsTaxInclusive"], "Lines": lines,
                        "JournalMemo": f"Reversal; {row.data['JournalMemo']}"}
            data = self._sale(reversal, {"_reversal": True}, None, row.data["InvoiceType"])
            credit = self.store.create("sales", data)
            self.store.create("settlements", {
                "Number": f"CS{next(self._numbers):06d}", "Date": myob_date(self.today()),
                "CreditAmount": row.data["TotalAmount"], "Memo": "Reversal", "_credit": credit.id,
                "_customer": row.data["_customer"], "Lines": [{"UID": invoice_id,
                                                               "AmountApplied": row.data["TotalAmount"]}]})
            self._settle(credit.id)
            self._settle(invoice_id)
            return self.render(self.store.get("sales", invoice_id))

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        self.delete("sales", invoice_id)
        return {"UID": invoice_id, "deleted": True}

    def delete_payment_as_user(self, payment_id: str) -> dict:
        self.delete("payments", payment_id)
        return {"UID": payment_id, "deleted": True}

    def delete_refund_as_user(self, refund_id: str) -> dict:
        """A credit refund deleted in AccountRight (it has no void): the credit is available again."""
        self.delete("refunds", refund_id)
        return {"UID": refund_id, "deleted": True}

    def edit_spend_money_as_user(self, spend_id: str, line: int = 0, amount: Any = None) -> dict:
        """A spend money line's amount typed over (MYOB adds its tax again)."""
        row = self.store.get("spends", spend_id)
        body = self.render(row)
        body["Lines"][int(line)]["Amount"] = number(amount, "amount")
        return self.render(self.write("Banking/SpendMoneyTxn", spend_id, body, version=row.version))

    def edit_journal_as_user(self, journal_id: str, amount: Any = None) -> dict:
        """A two-line general journal's amount typed over on both its lines (AccountRight refuses a journal out of
        balance); its ``LastModified`` and ``RowVersion`` move as on any edit."""
        row = self.store.get("journals", journal_id)
        body = self.render(row)
        for line in body["Lines"]:
            line["Amount"] = number(amount, "amount")
        return self.render(self.write("GeneralLedger/GeneralJournal", journal_id, body, version=row.version))

    def reverse_spend_money_as_user(self, spend_id: str) -> dict:
        """Edit, Reverse Cheque Transaction: a new spend money "containing amounts exactly opposite" (MYOB's help),
        dated today, with the original's number and the memo ``Reversal; ...`` (both **guesses**, as for a reversed
        sale). The original stays as it was."""
        body = self.render(self.store.get("spends", spend_id))
        for line in body["Lines"]:
            line["Amount"] = -line["Amount"]
        reversal = {**body, "Date": self.today(), "Memo": f"Reversal; {body.get('Memo') or ''}"[:255]}
        return self.render(self.write("Banking/SpendMoneyTxn", None, reversal))

    def reverse_journal_as_user(self, journal_id: str) -> dict:
        """A general journal reversed: a new journal with each line's debit and credit swapped, dated today, with
        the original's ``DisplayID`` and the memo ``Reversal; ...`` (**guesses**, as for spend money)."""
        body = self.render(self.store.get("journals", journal_id))
        for line in body["Lines"]:
            line["IsCredit"] = not line["IsCredit"]
        reversal = {**body, "DateOccurred": self.today(), "Memo": f"Reversal; {body.get('Memo') or ''}"[:255]}
        return self.render(self.write("GeneralLedger/GeneralJournal", None, reversal))

    def delete_journal_as_user(self, journal_id: str) -> dict:
        self.delete("journals", journal_id)
        return {"UID": journal_id, "deleted": True}

    def archive_account_as_user(self, account_id: str) -> dict:
        """Make an account inactive: documents that name it are refused from then on."""
        return self.render(self.store.update("accounts", account_id, {"IsActive": False}))


def _is_uid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
