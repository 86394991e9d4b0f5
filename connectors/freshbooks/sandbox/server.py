"""A local FreshBooks accounting API on loopback HTTP, built on the sandbox kit.

Routes: the OAuth server (``/oauth/authorize``, ``/auth/oauth/token``, ``/auth/oauth/revoke``; refresh tokens
rotate and are single-use), the identity endpoint ``/auth/api/v1/users/me``, the accounting API under
``/accounting/account/{account_id}/``: users/clients, items/items, invoices/invoices, payments/payments,
credit_notes/credit_notes, taxes/taxes, and the chart ``/accounting/businesses/{business_uuid}/ledger_accounts/
accounts``. Answers are ``{"response": {"result": {...}}}``; errors ``{"response": {"errors": [{"errno", "field",
"message", "object", "value"}]}}``. Nothing is removed: ``vis_state`` 1 marks a deleted record. Every fact and
guess is listed with its source in docs/sandbox-freshbooks.md.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import math
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from ...sandboxkit.faults import Fault
from ...sandboxkit.limits import Limiter
from ...sandboxkit.listing import Listing
from ...sandboxkit.oauth import AuthServer
from ...sandboxkit.platform import PlatformError, PlatformSandbox, Request, Response, decimal_value, json_response
from ...sandboxkit.resources import Duplicate, NotFound, ResourceError, ResourceStore, Row
from .seed import ACCOUNT_ID, BASE_CURRENCY, BUSINESS_ID, BUSINESS_UUID, STAFF, seed

CENT = Decimal("0.01")
#: Accounting times are US Eastern wall-clock time, ``YYYY-MM-DD HH:MM:SS`` (FreshBooks' Python SDK reads them so).
ZONE = ZoneInfo("America/New_York")
ZERO = Decimal("0.00")
MAX_PER_PAGE, DEFAULT_PER_PAGE = 100, 15
#: Our guess: FreshBooks publishes no limit. Settable at run time (``/_sandbox/settings``).
LIMITS = {"minute": (500, 60.0)}
#: path below /accounting/account/{id}/ -> (store resource, object key, list key, id fields)
PATHS = {
    "users/clients": ("clients", "client", "clients", ("id", "userid")),
    "items/items": ("items", "item", "items", ("itemid", "id")),
    "invoices/invoices": ("invoices", "invoice", "invoices", ("invoiceid", "id")),
    "payments/payments": ("payments", "payment", "payments", ("id", "logid")),
    "credit_notes/credit_notes": ("credit_notes", "credit_note", "credit_notes", ("creditid", "id")),
    "taxes/taxes": ("taxes", "tax", "taxes", ("taxid", "id")),
    "expenses/expenses": ("expenses", "expense", "expenses", ("expenseid", "id")),
    "expenses/categories": ("categories", "category", "categories", ("categoryid", "id")),
}
READ_ONLY = frozenset({"categories"})  # FreshBooks' expense categories are listed and read, not written by the API
BY_RESOURCE = {v[0]: (k, *v[1:]) for k, v in PATHS.items()}
NOUN = {"clients": "Client", "items": "Item", "invoices": "Invoice", "payments": "Payment",
        "credit_notes": "Credit note", "taxes": "Tax", "ledger_accounts": "Account", "expenses": "Expense",
        "categories": "Category"}
#: ``search[...]`` filters per list (exact, ignoring case; ``<field>_like`` for "contains").
FILTERS = {"clients": ("organization", "email", "fname", "lname", "currency_code"), "items": ("name",),
           "invoices": ("invoice_number", "customerid", "currency_code"),
           "payments": ("invoiceid", "clientid", "creditid", "type", "note"),
           "credit_notes": ("credit_number", "clientid"), "taxes": ("name",), "ledger_accounts": (),
           "expenses": ("categoryid", "vendor", "clientid"), "categories": ("category",)}
#: Date ranges a list takes (``search[date_min]`` / ``[date_max]``, inclusive, ``YYYY-MM-DD``).
DATE_RANGES = {"expenses": "date"}
#: Webhook events FreshBooks names for the objects we keep (its webhooks page lists many more).
EVENT_OBJECTS = {"clients": "client", "items": "item", "invoices": "invoice", "payments": "payment",
                 "credit_notes": "credit_note"}
EVENT_ACTIONS = ("create", "update", "delete")
SIGNATURE_HEADER = "X-FreshBooks-Hmac-SHA256"
#: Errno values: 1012 with HTTP 404 is FreshBooks' documented "not found"; the others are our guesses.
NOT_FOUND, INVALID, REFUSED, FORBIDDEN = 1012, 1001, 1004, 1003


class FreshBooksError(PlatformError):
    """A FreshBooks accounting error: HTTP status and ``{"response": {"errors": [...]}}``."""

    def __init__(self, status: int, errno: int, message: str, field: str = "", obj: str = "", value: Any = "",
                 headers: tuple = ()) -> None:
        error = {"errno": errno, "field": field, "message": message, "object": obj, "value": str(value)}
        super().__init__(status, {"response": {"errors": [error]}}, headers)
        self.errno, self.message = errno, message


def invalid(field: str, obj: str = "", value: Any = "", message: str = "") -> FreshBooksError:
    return FreshBooksError(422, INVALID, message or f"Invalid value for field {field}.", field, obj, value)


def not_found(resource: str, value: Any = "", status: int = 404) -> FreshBooksError:
    noun = NOUN.get(resource, resource)
    return FreshBooksError(status, NOT_FOUND, f"{noun} not found.", "id", noun.lower().replace(" ", "_"), value)


LISTING = Listing(FILTERS, frozenset(), invalid, contains="_like", startswith=None, sort_param="_no_sort",
                  max_per_page=MAX_PER_PAGE)


def number(value: Any, field: str, obj: str, default: Decimal | None = None) -> Decimal:
    """A decimal from a body (a FreshBooks money object's ``amount`` too), or the 422 refusal."""
    if isinstance(value, dict):
        value = value.get("amount")
    try:
        return decimal_value(value, default)
    except ValueError:
        raise invalid(field, obj, value) from None


def money(value: Decimal, code: str) -> dict:
    return {"amount": format(value.quantize(CENT), "f"), "code": code}


def stamp(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, ZONE).strftime("%Y-%m-%d %H:%M:%S")


class FreshBooksSandbox(PlatformSandbox):
    """FreshBooks with one business (``company_id`` is its account id), its OAuth server, limits and faults."""

    platform, title, default_port, ready_path = "freshbooks", "FreshBooks", 8769, "/_sandbox/state"
    api_path, token_path, authorize_path = "", "/auth/oauth/token", "/oauth/authorize"
    revoke_path = "/auth/oauth/revoke"
    #: What a person does in FreshBooks to take back a record we sent: an expense is deleted (FreshBooks has no
    #: void of an expense); refunds and journals are not sent to FreshBooks.
    user_takes_back = {"expense": ("delete_expense", "expense_id")}

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] | None = None,
                 account_id: str = ACCOUNT_ID, access_ttl: int = 43200, timeout_seconds: float = 5.0,
                 verbose: bool = False) -> None:
        super().__init__(host, port, clock, timeout_seconds, verbose)
        self.account_id = account_id
        # FreshBooks: one refresh token per user and app, single use (each refresh answers a new one).
        self.auth = AuthServer(clock=self.clock, access_ttl=access_ttl, rotate_refresh=True,
                               render_error=_token_error)
        self.limits = Limiter(self.clock, minute=LIMITS["minute"])
        self.store = ResourceStore(self.clock)
        for k, name in enumerate((*BY_RESOURCE, "ledger_accounts", "callbacks")):
            self.store.declare(name, id_start=100001 + k * 1_000_000)
        self._events: list[dict] = []  # changes waiting for ``notify()``
        self.sent: list[dict] = []  # every webhook request sent (verifications and events), oldest first
        self._events_lock = threading.Lock()
        self.store.subscribe(self._changed)
        self.reset()

    # -- kit hooks -------------------------------------------------------------------------------------------------
    @property
    def company_id(self) -> str:
        return self.account_id

    def seed(self) -> None:
        with self._events_lock:
            self._events, self.sent = [], []
        seed(self.store)

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            return self._too_many(int(fault.retry_after or 60))
        if fault.kind == "http_503":
            return 503, [("Content-Type", "text/html")], b"<html><body><h1>503 Service Unavailable</h1></body></html>"
        return FreshBooksError(500, 500, "An unexpected error occurred.").response()

    def _too_many(self, retry_after: int) -> Response:
        return json_response(429, {"response": {"errors": [{"errno": 429, "message": "Too Many Requests"}]}},
                             [("Retry-After", str(max(1, retry_after)))])

    def extra_state(self) -> dict:
        return {"account_id": self.account_id, "business_uuid": BUSINESS_UUID, "webhooks_pending": len(self._events),
                "webhooks_sent": len(self.sent)}

    def control(self, request: Request) -> Response:
        """The kit's ``/_sandbox/*``, plus ``POST /_sandbox/notify`` (deliver the queued webhook events now)."""
        if request.path.rstrip("/") == "/_sandbox/notify" and request.method == "POST":
            return json_response(200, {"sent": self.notify()})
        return super().control(request)

    # -- routing ----------------------------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        if (oauth := self.oauth_route(req)) is not None:
            return self._with_created_at(oauth) if req.path == self.token_path else oauth
        if self.auth.check(req.header("Authorization")) is not None:
            return json_response(401, {"error": "unauthenticated", "error_type": "unauthenticated",
                                       "error_description": "This action requires authentication to continue.",
                                       "message": "This action requires authentication to continue."})
        parts = [p for p in req.path.split("/") if p]
        if parts == ["auth", "api", "v1", "users", "me"] and req.method == "GET":
            return json_response(200, {"response": self.identity()})
        exceeded = self.limits.hit(("minute", self.account_id))
        if exceeded is not None:
            return self._too_many(exceeded.retry_after)
        if parts[:2] == ["events", "account"] and parts[3:5] == ["events", "callbacks"]:
            return self.callbacks(req, parts[2], parts[5:])
        if parts[:2] == ["accounting", "businesses"] and parts[3:] == ["ledger_accounts", "accounts"]:
            if parts[2] != BUSINESS_UUID:
                raise FreshBooksError(403, FORBIDDEN, "The server could not verify that you are authorized to "
                                                      "access the URL requested.")
            rows = [self._account(r) for r in self.store.rows("ledger_accounts")]
            return json_response(200, {"data": rows})
        return self._accounting(req, parts)

    def _accounting(self, req: Request, parts: list[str]) -> Response:
        """``/accounting/account/{account id}/{path}[/{id}]``: the resources of ``PATHS``."""
        if parts[:2] != ["accounting", "account"] or len(parts) < 5:
            raise FreshBooksError(404, 404, "The requested URL was not found on the server.")
        if parts[2] != self.account_id:
            raise FreshBooksError(403, FORBIDDEN, "The server could not verify that you are authorized to access "
                                                  "the URL requested.")
        path = "/".join(parts[3:5])
        if path not in PATHS:
            raise FreshBooksError(404, 404, "The requested URL was not found on the server.")
        resource, key, list_key, _ = PATHS[path]
        rest = parts[5:]
        if req.method == "GET" and not rest:
            return self.listing(req, resource, list_key)
        if req.method == "GET" and len(rest) == 1:
            return self._ok({key: self.render(self.store.get(resource, rest[0]))})
        if req.method in ("POST", "PUT") and resource in READ_ONLY:
            raise FreshBooksError(405, 405, "The method is not allowed for the requested URL.")
        if req.method == "POST" and not rest:
            return self._ok({key: self.render(self.write(resource, None, self._body(req, key)))})
        if req.method == "PUT" and len(rest) == 1:
            return self._ok({key: self.render(self.write(resource, rest[0], self._body(req, key)))})
        if req.method == "DELETE" and len(rest) == 1 and resource == "taxes":
            self.store.delete(resource, rest[0])
            return self._ok({})
        raise FreshBooksError(405, 405, "The method is not allowed for the requested URL.")

    def _with_created_at(self, answer: Response) -> Response:
        """FreshBooks' token answers carry ``created_at`` (epoch seconds); its SDKs read it."""
        status, headers, raw = answer
        if status != 200:
            return answer
        body = json.loads(raw)
        body["created_at"] = int(self.clock())
        return status, headers, json.dumps(body).encode()

    @staticmethod
    def _ok(result: dict) -> Response:
        return json_response(200, {"response": {"result": result}})

    @staticmethod
    def _body(req: Request, key: str) -> dict:
        body = req.json_object(invalid(key, key, "", "The request body is not a JSON object."))
        inner = body.get(key)
        if not isinstance(inner, dict):
            raise invalid(key, key, "", f"The request body must hold a {key} object.")
        return inner

    def store_error(self, error: ResourceError, req: Request) -> PlatformError:
        if isinstance(error, NotFound):
            return not_found(error.resource, error.record_id or "",
                             404 if error.record_id in req.path.split("/") else 422)
        if isinstance(error, Duplicate):
            return FreshBooksError(422, REFUSED, error.message)
        return FreshBooksError(422, INVALID, error.message)

    def identity(self) -> dict:
        return {"id": 2192788, "identity_id": 2192788, "first_name": "Sandbox", "last_name": "Owner",
                "email": "owner@example.com", "business_memberships": [{
                    "id": 9163, "role": "owner", "business": {
                        "id": BUSINESS_ID, "business_uuid": BUSINESS_UUID, "name": "Sandbox Books Inc",
                        "account_id": self.account_id, "base_currency": BASE_CURRENCY}}]}

    # -- lists --------------------------------------------------------------------------------------------------------
    def listing(self, req: Request, resource: str, list_key: str) -> Response:
        """``search[field]=value``, ``search[field_like]``, ``search[updated_min]`` / ``[updated_max]``
        (``YYYY-MM-DD HH:MM:SS``), ``search[vis_state]`` (default: every record but deleted ones); ``page``,
        ``per_page`` (15 by default, 100 at most)."""
        search = {k[7:-1]: v for k, v in req.params.items() if k.startswith("search[") and k.endswith("]")}
        vis = search.pop("vis_state", None)
        bounds = {name: self._time(search.pop(name)) for name in ("updated_min", "updated_max") if name in search}
        days = {name: search.pop(name) for name in ("date_min", "date_max")
                if resource in DATE_RANGES and name in search}
        unknown = set(search) - {f for f in FILTERS[resource]} - {f"{f}_like" for f in FILTERS[resource]}
        if unknown:
            raise invalid(f"search[{sorted(unknown)[0]}]")

        def where(row: Row) -> bool:
            state = int(row.data.get("vis_state", 0))
            if (state != int(vis)) if vis not in (None, "") else state == 1:
                return False
            day = str(row.data.get(DATE_RANGES.get(resource, ""), ""))[:10]
            if day < days.get("date_min", "") or day > days.get("date_max", "9999"):
                return False
            second = math.floor(row.modified)
            return second >= bounds.get("updated_min", -1) and second <= bounds.get("updated_max", math.inf)

        params = {**search, "page": req.params.get("page", ""),
                  "per_page": req.params.get("per_page") or str(DEFAULT_PER_PAGE)}
        found, _, _ = LISTING.query(self.store, resource, params, where)
        pages = max(1, math.ceil(found.total / found.per_page))
        return self._ok({list_key: [self.render(r) for r in found.rows], "page": found.page, "pages": pages,
                         "per_page": found.per_page, "total": found.total})

    @staticmethod
    def _time(value: str) -> float:
        try:
            when = dt.datetime.strptime(value.strip()[:19], "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise invalid("updated_min", value=value) from None
        return when.replace(tzinfo=ZONE).timestamp()

    # -- rendering ----------------------------------------------------------------------------------------------------
    def render(self, row: Row) -> dict:
        _, _, _, ids = BY_RESOURCE[row.resource]
        body = {name: int(row.id) for name in ids}
        body.update({k: v for k, v in row.data.items() if not k.startswith("_")})
        body["updated"] = stamp(row.modified)
        body["accounting_systemid"] = self.account_id
        if row.resource in ("invoices", "credit_notes"):
            body["created_at"] = stamp(row.created)
        return body

    @staticmethod
    def _account(row: Row) -> dict:
        return {"id": int(row.id), "uuid": f"acct-{row.id}", **row.data}

    # -- writes -------------------------------------------------------------------------------------------------------
    def write(self, resource: str, record_id: str | None, body: dict) -> Row:
        """Create (``record_id`` None) or update one record under the store lock (a payment and the invoice it
        settles change together). Read-only fields sent back are ignored."""
        _, key, _, ids = BY_RESOURCE[resource]
        body = {k: v for k, v in body.items() if k not in (*ids, "updated", "accounting_systemid", "created_at")}
        with self.store.lock:
            old = self.store.get(resource, record_id).data if record_id else {}
            vis = body.get("vis_state", old.get("vis_state", 0))
            if vis not in (0, 1, 2):
                raise invalid("vis_state", key, vis)
            if record_id and set(body) == {"vis_state"}:
                return self._set_vis(resource, record_id, int(vis))
            if int(old.get("vis_state", 0)) == 1:
                raise FreshBooksError(422, REFUSED, f"{NOUN[resource]} is deleted and cannot be edited.",
                                      "vis_state", key, 1)
            data = getattr(self, f"_{resource}")({**old, **body, "vis_state": int(vis)}, old, record_id)
            row = self.store.update(resource, record_id, data) if record_id else self.store.create(resource, data)
            self._after(resource, row.id, old)
            return self.store.get(resource, row.id)

    def _after(self, resource: str, record_id: str, old: dict) -> None:
        if resource == "invoices":
            self._settle(record_id)
        elif resource == "payments":
            data = self.store.get("payments", record_id).data
            self._settle(str(data["invoiceid"]))
            if data.get("creditid"):
                self._settle_note(str(data["creditid"]))

    def _set_vis(self, resource: str, record_id: str, vis: int) -> Row:
        """Delete (1), archive (2) or restore (0). A document with money applied is not deleted (a guess)."""
        if vis == 1 and resource == "invoices" and self._paid(record_id):
            raise FreshBooksError(422, REFUSED, "An invoice with payments cannot be deleted. Delete its payments "
                                                "first.", "vis_state", "invoice", 1)
        if vis == 1 and resource == "credit_notes" and self._applied(record_id):
            raise FreshBooksError(422, REFUSED, "A credit note applied to invoices cannot be deleted. Delete the "
                                                "credit payments first.", "vis_state", "credit_note", 1)
        row = self.store.update(resource, record_id, {"vis_state": vis})
        if resource == "payments":
            self._after("payments", record_id, {})
        return row

    def _client(self, client_id: Any, obj: str, field: str) -> Row:
        row = self.store.find("clients", str(client_id)) if client_id not in (None, "") else None
        if row is None or row.data.get("vis_state") == 1:
            raise FreshBooksError(422, NOT_FOUND, "Client not found.", field, obj, client_id or "")
        return row

    def _unique(self, resource: str, field: str, value: str, record_id: str | None, noun: str) -> None:
        """A document number is unique among the business's live documents (a guess: see the docs page)."""
        for row in self.store.rows(resource):
            if row.id != record_id and row.data.get("vis_state") != 1 and \
                    str(row.data.get(field, "")).casefold() == str(value).casefold():
                raise FreshBooksError(422, REFUSED, f"{noun} number {value} already exists.", field,
                                      resource[:-1], value)

    def _clients(self, data: dict, old: dict, record_id: str | None) -> dict:
        if not any(str(data.get(f) or "").strip() for f in ("organization", "fname", "lname", "email")):
            raise invalid("organization", "client", "", "A client needs an organization, a name or an email.")
        return {"fname": "", "lname": "", "email": "", "organization": "", **data,
                "currency_code": data.get("currency_code") or BASE_CURRENCY}

    def _items(self, data: dict, old: dict, record_id: str | None) -> dict:
        if not str(data.get("name") or "").strip():
            raise invalid("name", "item", "", "Item name is required.")
        cost = number(data.get("unit_cost"), "unit_cost", "item", ZERO)
        return {"description": "", "qty": "0", "inventory": None, "tax1": 0, "tax2": 0, **data,
                "unit_cost": money(cost, BASE_CURRENCY)}

    def _lines(self, data: dict, obj: str, currency: str) -> tuple[list, Decimal]:
        """Lines priced as FreshBooks does: amount = qty x unit_cost; each line's taxes as percentages of its
        amount, rounded to the cent per line. Returns the lines and the document total (tax included)."""
        lines = data.get("lines")
        if not isinstance(lines, list) or not lines:
            raise invalid("lines", obj, "", "At least one line is required.")
        priced, total = [], ZERO
        for i, line in enumerate(lines):
            qty = number(line.get("qty"), "qty", obj, Decimal("1"))
            cost = number(line.get("unit_cost"), "unit_cost", obj, ZERO)
            amount = (qty * cost).quantize(CENT)
            tax = ZERO
            for n in ("1", "2"):
                if line.get(f"taxAmount{n}") not in (None, ""):
                    tax += (amount * number(line[f"taxAmount{n}"], f"taxAmount{n}", obj) / 100).quantize(CENT)
            total += amount + tax
            priced.append({"lineid": i + 1, "type": int(line.get("type") or 0), "name": line.get("name", ""),
                           "description": line.get("description", ""), "qty": format(qty.normalize(), "f"),
                           "unit_cost": money(cost, currency), "amount": money(amount, currency),
                           "taxName1": line.get("taxName1", ""), "taxAmount1": str(line.get("taxAmount1") or ""),
                           "taxName2": line.get("taxName2", ""), "taxAmount2": str(line.get("taxAmount2") or "")})
        return priced, total

    def _invoices(self, data: dict, old: dict, record_id: str | None) -> dict:
        client = self._client(data.get("customerid"), "invoice", "customerid")
        if not data.get("create_date"):
            data["create_date"] = self.today()
        currency = data.get("currency_code") or client.data["currency_code"]
        lines, total = self._lines(data, "invoice", currency)
        paid = self._paid(record_id) if record_id else ZERO
        if total < paid:
            raise FreshBooksError(422, REFUSED, "The invoice total cannot be less than the amount paid.",
                                  "lines", "invoice")
        offset = int(data.get("due_offset_days") or 0)
        due = dt.date.fromisoformat(str(data["create_date"])[:10]) + dt.timedelta(days=offset)
        number_ = data.get("invoice_number") or f"{len(self.store.rows('invoices')) + 1:07d}"
        self._unique("invoices", "invoice_number", number_, record_id, "Invoice")
        return {**data, "invoice_number": number_, "customerid": int(client.id), "currency_code": currency,
                "lines": lines, "due_offset_days": offset, "due_date": due.isoformat(),
                "organization": client.data.get("organization", ""), "amount": money(total, currency),
                "discount_value": data.get("discount_value") or "0", "notes": data.get("notes", "")}

    def _credit_notes(self, data: dict, old: dict, record_id: str | None) -> dict:
        client = self._client(data.get("clientid"), "credit_note", "clientid")
        currency = data.get("currency_code") or client.data["currency_code"]
        lines, total = self._lines(data, "credit_note", currency)
        if record_id and total < self._applied(record_id):
            raise FreshBooksError(422, REFUSED, "The credit note total cannot be less than the credit applied.",
                                  "lines", "credit_note")
        number_ = data.get("credit_number") or f"CN{len(self.store.rows('credit_notes')) + 1:06d}"
        self._unique("credit_notes", "credit_number", number_, record_id, "Credit note")
        return {**data, "credit_number": number_, "clientid": int(client.id), "currency_code": currency,
                "create_date": data.get("create_date") or self.today(), "lines": lines,
                "amount": money(total, currency), "notes": data.get("notes", ""),
                "status": "sent" if not old else old.get("status", "sent")}

    def _payments(self, data: dict, old: dict, record_id: str | None) -> dict:
        if old and str(data.get("invoiceid")) != str(old["invoiceid"]):
            raise invalid("invoiceid", "payment", data.get("invoiceid"), "A payment's invoice cannot be changed.")
        invoice = self.store.find("invoices", str(data.get("invoiceid"))) if data.get("invoiceid") else None
        if invoice is None or invoice.data.get("vis_state") == 1:
            raise FreshBooksError(422, NOT_FOUND, "Invoice not found.", "invoiceid", "payment",
                                  data.get("invoiceid", ""))
        amount = number(data.get("amount"), "amount", "payment").quantize(CENT)
        if amount <= 0:
            raise invalid("amount", "payment", amount, "The payment amount must be greater than zero.")
        before = number(old.get("amount"), "amount", "payment", ZERO) if old else ZERO
        outstanding = number(invoice.data["outstanding"], "outstanding", "invoice") + before
        if amount > outstanding:
            raise FreshBooksError(422, REFUSED, f"The payment exceeds the amount outstanding on invoice "
                                                f"{invoice.data['invoice_number']}.", "amount", "payment", amount)
        credit = None
        if data.get("creditid"):
            credit = self.store.find("credit_notes", str(data["creditid"]))
            if credit is None or credit.data.get("vis_state") == 1:
                raise FreshBooksError(422, NOT_FOUND, "Credit note not found.", "creditid", "payment",
                                      data["creditid"])
            if credit.data["clientid"] != invoice.data["customerid"]:
                raise invalid("creditid", "payment", data["creditid"], "The credit belongs to another client.")
            remaining = number(credit.data["amount"], "amount", "credit_note") - self._applied(credit.id) + before
            if amount > remaining:
                raise FreshBooksError(422, REFUSED, "The amount exceeds the credit remaining.", "amount", "payment")
        code = invoice.data["currency_code"]
        return {**data, "invoiceid": int(invoice.id), "clientid": invoice.data["customerid"],
                "amount": money(amount, code), "date": data.get("date") or self.today(),
                "type": data.get("type") or "Check", "note": data.get("note", ""),
                "creditid": int(credit.id) if credit else None, "from_credit": credit is not None,
                "send_client_notification": False}

    def _expenses(self, data: dict, old: dict, record_id: str | None) -> dict:
        """An expense: a live category, a staff member, a date and a positive total; ``taxAmount1`` / ``2`` are
        amounts within that total (the percentages add no tax), so together they cannot exceed it."""
        category = self.store.find("categories", str(data.get("categoryid"))) \
            if data.get("categoryid") not in (None, "") else None
        if category is None or int(category.data.get("vis_state") or 0) == 1:
            raise FreshBooksError(422, NOT_FOUND, "Category not found.", "categoryid", "expense",
                                  data.get("categoryid", ""))
        if str(data.get("staffid") or "") not in STAFF:
            raise invalid("staffid", "expense", data.get("staffid", ""))
        if not data.get("date"):
            raise invalid("date", "expense", "", "Date is required.")
        code = (data.get("amount") or {}).get("code") if isinstance(data.get("amount"), dict) else None
        code = code or BASE_CURRENCY
        total = number(data.get("amount"), "amount", "expense").quantize(CENT)
        if total <= 0:
            raise invalid("amount", "expense", total, "The expense amount must be greater than zero.")
        taxes = {}
        for n in ("1", "2"):
            if data.get(f"taxAmount{n}") not in (None, "", {}):
                taxes[f"taxAmount{n}"] = money(number(data[f"taxAmount{n}"], f"taxAmount{n}", "expense"), code)
        if sum((number(v, "tax", "expense") for v in taxes.values()), ZERO) > total:
            raise invalid("taxAmount1", "expense", "", "The taxes cannot exceed the expense amount.")
        return {"vendor": "", "notes": "", "taxName1": "", "taxPercent1": None, "taxName2": "", "taxPercent2": None,
                "clientid": 0, "projectid": 0, "markup_percent": "0", "status": 0, "has_receipt": False,
                "bank_name": "", "transactionid": None, **data, **taxes, "categoryid": int(category.id),
                "staffid": int(data["staffid"]), "amount": money(total, code)}

    # -- balances -----------------------------------------------------------------------------------------------
    def _live_payments(self, **equals: Any) -> list[Row]:
        return [r for r in self.store.rows("payments") if r.data.get("vis_state", 0) != 1
                and all(str(r.data.get(k)) == str(v) for k, v in equals.items())]

    def _paid(self, invoice_id: str) -> Decimal:
        return sum((number(r.data["amount"], "amount", "payment") for r in self._live_payments(invoiceid=invoice_id)),
                   ZERO)

    def _applied(self, note_id: str) -> Decimal:
        return sum((number(r.data["amount"], "amount", "payment") for r in self._live_payments(creditid=note_id)),
                   ZERO)

    def _settle(self, invoice_id: str) -> None:
        """An invoice's paid, outstanding and statuses from its live payments (credits included)."""
        data = self.store.get("invoices", invoice_id).data
        total, code = number(data["amount"], "amount", "invoice"), data["currency_code"]
        paid = self._paid(invoice_id)
        state = "paid" if paid >= total and total > 0 else "partial" if paid else "unpaid"
        change = {"paid": money(paid, code), "outstanding": money(total - paid, code), "payment_status": state,
                  "v3_status": {"paid": "paid", "partial": "partial"}.get(state, "draft"),
                  "status": {"paid": 4, "partial": 7}.get(state, 1), "display_status": "draft",
                  "date_paid": self.today() if state == "paid" else None}
        if any(data.get(k) != v for k, v in change.items()):
            self.store.update("invoices", invoice_id, change)

    def _settle_note(self, note_id: str) -> None:
        pass  # a credit note's remaining credit is computed when it is used; nothing is stored

    # -- webhooks (callbacks) ---------------------------------------------------------------------------------------
    def callbacks(self, req: Request, account: str, rest: list[str]) -> Response:
        """``/events/account/{account_id}/events/callbacks``: register (``{"callback": {"event", "uri"}}``; a
        verification request goes to the URI at once), verify (``PUT .../{id}`` with ``{"callback": {"verifier"}}``),
        resend the verification (``{"callback": {"resend": true}}``), list, read and delete. Errors here are the
        events endpoints' flat ``{"errno", "message", "details"}`` (what FreshBooks' SDK reads there)."""
        if account != self.account_id:
            return json_response(403, {"errno": FORBIDDEN, "message": "Forbidden", "details": []})
        if not rest and req.method == "GET":
            rows = [self._callback(r) for r in self.store.rows("callbacks")]
            return self._ok({"callbacks": rows, "page": 1, "pages": 1, "per_page": len(rows) or 1,
                             "total": len(rows)})
        if not rest and req.method == "POST":
            body = self._events_body(req)
            event, uri = str(body.get("event") or ""), str(body.get("uri") or "")
            if not self._event_known(event) or not uri.startswith(("http://", "https://")):
                return json_response(422, {"errno": INVALID, "message": "Invalid event or uri.", "details": [
                    {"reason": "event" if not self._event_known(event) else "uri"}]})
            row = self.store.create("callbacks", {"event": event, "uri": uri, "verified": False,
                                                  "_verifier": secrets.token_urlsafe(24)})
            self._send_verification(row)
            return self._ok({"callback": self._callback(row)})
        row = self.store.find("callbacks", rest[0]) if len(rest) == 1 else None
        if row is None:
            return json_response(404, {"errno": NOT_FOUND, "message": "Callback not found.", "details": []})
        if req.method == "GET":
            return self._ok({"callback": self._callback(row)})
        if req.method == "DELETE":
            self.store.delete("callbacks", row.id)
            return 204, [], b""
        if req.method == "PUT":
            body = self._events_body(req)
            if body.get("resend"):
                self._send_verification(row)
                return self._ok({"callback": self._callback(row)})
            if not hmac.compare_digest(str(body.get("verifier") or ""), row.data["_verifier"]):
                return json_response(422, {"errno": INVALID, "message": "The verifier does not match.",
                                           "details": [{"reason": "verifier"}]})
            row = self.store.update("callbacks", row.id, {"verified": True})
            return self._ok({"callback": self._callback(row)})
        return json_response(405, {"errno": 405, "message": "Method not allowed.", "details": []})

    @staticmethod
    def _events_body(req: Request) -> dict:
        try:
            body = req.json()
        except ValueError:
            body = {}
        inner = body.get("callback") if isinstance(body, dict) else None
        return inner if isinstance(inner, dict) else {}

    @staticmethod
    def _event_known(event: str) -> bool:
        noun, _, action = event.partition(".")
        return noun in EVENT_OBJECTS.values() and action in ("", *EVENT_ACTIONS)

    @staticmethod
    def _callback(row: Row) -> dict:
        return {"callbackid": int(row.id), "id": int(row.id), "event": row.data["event"], "uri": row.data["uri"],
                "verified": row.data["verified"], "updated_at": stamp(row.modified)}

    def _form(self, name: str, object_id: Any, **extra: Any) -> dict:
        return {"account_id": self.account_id, "business_id": BUSINESS_ID, "identity_id": 2192788, "name": name,
                "object_id": object_id, "user_id": 1, **extra}

    def _send_verification(self, row: Row) -> None:
        """FreshBooks posts the verifier to a newly registered URI (form fields, no signature: nothing is shared
        yet)."""
        self._post(row.data["uri"], self._form("callback.verify", int(row.id), verifier=row.data["_verifier"]),
                   None)

    def _changed(self, event: str, resource: str, row: Row) -> None:
        """Queue ``<object>.create`` / ``.update`` / ``.delete`` (a vis_state of 1 is a delete)."""
        noun = EVENT_OBJECTS.get(resource)
        if noun is None:
            return
        action = "create" if event == "create" else "delete" if row.data.get("vis_state") == 1 else "update"
        with self._events_lock:
            self._events.append({"name": f"{noun}.{action}", "object_id": int(row.id)})

    def notify(self) -> list[dict]:
        """Deliver every queued event to each verified callback registered for it (``invoice`` takes every
        ``invoice.*``), one request per event, signed with that callback's verifier. FreshBooks promises no delivery
        time ("a few seconds to several minutes"): tests call this instead of waiting."""
        with self._events_lock:
            events, self._events = self._events, []
        sent = []
        hooks = [r for r in self.store.rows("callbacks") if r.data["verified"]]
        for event in events:
            for hook in hooks:
                if hook.data["event"] in (event["name"], event["name"].split(".")[0]):
                    form = self._form(event["name"], event["object_id"])
                    sent.append(self._post(hook.data["uri"], form, hook.data["_verifier"]))
        return sent

    def _post(self, uri: str, form: dict, verifier: str | None) -> dict:
        body = urlencode(form).encode("utf-8")
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if verifier is not None:
            headers[SIGNATURE_HEADER] = signature(verifier, form)
        status = None
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
        try:
            with opener.open(urllib.request.Request(uri, data=body, headers=headers, method="POST"),
                             timeout=5) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, OSError, ValueError):
            status = None
        record = {"uri": uri, "body": body.decode("utf-8"), "headers": headers, "status": status}
        with self._events_lock:
            self.sent.append(record)
        return record

    # -- what a bookkeeper does in FreshBooks ---------------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: Any, date: str | None = None,
                               payment_type: str = "Check", reference: str = "") -> dict:
        row = self.write("payments", None, {"invoiceid": int(invoice_id), "amount": {"amount": str(amount)},
                                            "date": date or self.today(), "type": payment_type, "note": reference})
        return self.render(row)

    def edit_invoice_line_as_user(self, invoice_id: str, line: int = 0, amount: Any = None, unit_price: Any = None,
                                  quantity: Any = None, description: str | None = None) -> dict:
        """``amount`` sets the line's total (unit cost = amount / qty)."""
        data = self.store.get("invoices", invoice_id).data
        lines = [dict(li) for li in data["lines"]]
        target = lines[int(line)]
        if quantity is not None:
            target["qty"] = str(quantity)
        if unit_price is not None:
            target["unit_cost"] = {"amount": str(unit_price)}
        if amount is not None:
            target["unit_cost"] = {"amount": str(decimal_value(amount) / Decimal(str(target["qty"])))}
        if description is not None:
            target["description"] = description
        return self.render(self.write("invoices", invoice_id, {"lines": lines}))

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        return self.render(self._set_vis("invoices", invoice_id, 1))

    def delete_payment_as_user(self, payment_id: str) -> dict:
        return self.render(self._set_vis("payments", payment_id, 1))

    def edit_expense_as_user(self, expense_id: str, amount: Any, line: int = 0) -> dict:
        """An expense's total typed over in FreshBooks (its tax amounts stay). An expense has one amount: ``line``
        0 is the only one."""
        if int(line) != 0:
            raise ValueError("a FreshBooks expense has one amount (line 0)")
        return self.render(self.write("expenses", expense_id, {"amount": {"amount": str(amount)}}))

    def delete_expense_as_user(self, expense_id: str) -> dict:
        return self.render(self._set_vis("expenses", expense_id, 1))

    def archive_account_as_user(self, account_id: str) -> dict:
        return self._account(self.store.update("ledger_accounts", account_id, {"active": False}))


def signature(verifier: str, form: dict) -> str:
    """``X-FreshBooks-Hmac-SHA256``: base64 of HMAC-SHA256, keyed with the callback's verifier, over the JSON text
    of the form fields (values as strings, Python's default separators), as FreshBooks' webhooks page shows it."""
    message = json.dumps({k: str(v) for k, v in form.items()}).encode("utf-8")
    return base64.b64encode(hmac.new(verifier.encode("utf-8"), message, hashlib.sha256).digest()).decode("ascii")


def _token_error(error: str, status: int) -> tuple[int, dict]:
    descriptions = {"invalid_grant": "The provided authorization grant is invalid, expired, revoked, does not match "
                                     "the redirection URI used in the authorization request, or was issued to "
                                     "another client.",
                    "invalid_client": "Client authentication failed due to unknown client, no client "
                                      "authentication included, or unsupported authentication method."}
    return (401 if error == "invalid_client" else 400), {"error": error,
                                                         "error_description": descriptions.get(error, error)}
