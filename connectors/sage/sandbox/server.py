"""A local Sage Business Cloud Accounting API v3.1 on loopback HTTP, built on the sandbox kit.

Routes: Sage's OAuth (``/oauth2/auth/central`` consent, ``/token``, ``/revoke``) and the API under ``/v3.1``:
businesses, contacts, products, services, sales_invoices (void by ``DELETE ?void_reason=``, ``/release``),
sales_credit_notes, purchase_invoices (a supplier's bill: deleted, never voided, by ``DELETE``),
contact_payments (``allocated_artefacts``), contact_allocations (credit notes allocated to
invoices), ledger_accounts, bank_accounts, tax_rates, currencies and financial_settings. Per API request: the
Bearer token (401), ``X-Business`` (the lead business when absent), the per-minute limit per business (429 with
Retry-After), then the resource. Bodies are wrapped in the resource's singular name (``{"sales_invoice": {...}}``);
lists answer Sage's envelope (``$total``, ``$page``, ``$next``, ``$back``, ``$items_per_page``, ``$items``); errors
are a list of ``{"$severity", "$dataCode", "$message", "$source"}``. Amounts are Decimal in and out. Every fact
and guess is listed with its source in docs/sandbox-sage.md.
"""
from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ...sandboxkit.faults import Fault
from ...sandboxkit.limits import Limiter
from ...sandboxkit.oauth import AuthServer
from ...sandboxkit.platform import (PlatformSandbox, Request, Response, decimal_value, json_response,
                                    parse_timestamp)
from ...sandboxkit.resources import NotFound, ResourceError, ResourceStore, Row
from .costs import SageCosts
from .seed import BASE_CURRENCY, BUSINESS_ID, seed
from .wire import CENT, ZERO, SageError, amount, artefact_of, invalid, link, not_found, sage_time

API = "/v3.1"
MAX_PER_PAGE, DEFAULT_PER_PAGE = 200, 20
ACCESS_TTL = 300  # Sage's access tokens live 5 minutes
REFRESH_TTL = 2678400  # refresh tokens: 31 days
#: path segment -> the singular key its bodies are wrapped in
RESOURCES = {"contacts": "contact", "products": "product", "services": "service", "sales_invoices": "sales_invoice",
             "sales_credit_notes": "sales_credit_note", "contact_payments": "contact_payment",
             "contact_allocations": "contact_allocation", "ledger_accounts": "ledger_account",
             "bank_accounts": "bank_account", "tax_rates": "tax_rate", "currencies": "currency",
             "other_payments": "other_payment", "journals": "journal", "purchase_invoices": "purchase_invoice"}
WRITABLE = frozenset({"contacts", "products", "services", "sales_invoices", "sales_credit_notes", "contact_payments",
                      "contact_allocations", "other_payments", "journals", "purchase_invoices"})
DOCUMENTS = {"sales_invoices": ("invoice_lines", "invoice_number", "SI-"),
             "sales_credit_notes": ("credit_note_lines", "credit_note_number", "SCN-"),
             # Sage gives a purchase invoice no number of its own: its reference and the vendor's (vendor_reference)
             "purchase_invoices": ("invoice_lines", "", "")}
#: What Sage computes; a client that sends a record back as it read it does not overwrite these.
READ_ONLY = frozenset({"id", "displayed_as", "$path", "created_at", "updated_at", "net_amount", "tax_amount",
                       "total_amount", "outstanding_amount", "total_paid", "status", "contact", "currency", "balance",
                       "deleted_at", "transaction", "transaction_type", "payment_method", "bank_account", "editable"})
#: The list filters Sage's description gives each path (checked against the vendored spec in the tests).
FILTERS = {"contacts": frozenset({"search", "contact_type_id"}), "products": frozenset({"search", "active"}),
           "services": frozenset({"search", "active"}),
           "sales_invoices": frozenset({"search", "contact_id", "status_id", "from_date", "to_date"}),
           "sales_credit_notes": frozenset({"search", "contact_id", "status_id", "from_date", "to_date"}),
           "purchase_invoices": frozenset({"search", "contact_id", "status_id", "from_date", "to_date"}),
           "contact_payments": frozenset({"contact_id", "from_date", "to_date", "transaction_type_id",
                                          "bank_account_id"}),
           "other_payments": frozenset({"contact_id", "from_date", "to_date", "transaction_type_id",
                                        "bank_account_id"}),
           "contact_allocations": frozenset({"contact_id"}), "ledger_accounts": frozenset({"search", "visible_in"})}
#: What ``search`` looks in (guessed from the parameter's description: reference, number, contact name; names).
SEARCHED = {"contacts": ("name", "reference"), "products": ("description", "item_code"),
            "services": ("description", "item_code"), "sales_invoices": ("reference", "invoice_number", "contact_name"),
            "sales_credit_notes": ("reference", "credit_note_number", "contact_name"),
            "purchase_invoices": ("reference", "vendor_reference", "contact_name"),
            "ledger_accounts": ("name", "nominal_code")}
STATUSES = {"DRAFT": "Draft", "UNPAID": "Unpaid", "PART_PAID": "Part Paid", "PAID": "Paid", "VOID": "Void"}
PAYMENT_METHODS = {"CASH": "Cash", "CHECK": "Check", "CREDIT_DEBIT": "Credit/Debit Card",
                   "BANK_TRANSFER": "Bank Transfer", "ALTERNATIVE_PAYMENT": "Alternative Payment"}


class SageSandbox(SageCosts, PlatformSandbox):
    """Sage Business Cloud Accounting v3.1 with one business (``company_id``), its OAuth server, limits, faults."""

    platform, title, default_port, ready_path = "sage", "Sage Business Cloud Accounting", 8768, "/_sandbox/state"
    #: What a person does in Sage to take back a refund, an expense or a journal we sent: each is deleted (Sage
    #: voids none of them); entity -> (the ``<action>_as_user`` helper, its id keyword).
    user_takes_back = {"refund": ("delete_refund", "refund_id"), "expense": ("delete_other_payment", "payment_id"),
                       "journal": ("delete_journal", "journal_id")}
    api_path, token_path, authorize_path, revoke_path = API, "/token", "/oauth2/auth/central", "/revoke"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] | None = None,
                 business_id: str = BUSINESS_ID, business_name: str = "Sandbox Veterinary LLC",
                 access_ttl: int = ACCESS_TTL, per_minute: int | None = 200, timeout_seconds: float = 5.0,
                 verbose: bool = False) -> None:
        super().__init__(host, port, clock, timeout_seconds, verbose)
        self.business_id, self.business_name = business_id, business_name
        self.auth = AuthServer(clock=self.clock, access_ttl=access_ttl, rotate_refresh=True,
                               token_extra={"refresh_token_expires_in": REFRESH_TTL,
                                            "requested_by_id": "a8b9c0d1e2f34a5b8c7d6e5f4a3b2c1d"},
                               redirect_extra={"country": "US"})
        self.limits = Limiter(self.clock, minute=(per_minute, 60.0))
        self.store = ResourceStore(self.clock)
        for name in RESOURCES:
            self.store.declare(name)
        self._numbers: dict[str, itertools.count] = {}
        self._gone: dict[str, str] = {}  # id -> displayed_as of deleted records (deleted_since lists them)
        self.reset()

    # -- kit hooks -------------------------------------------------------------------------------------------------
    @property
    def company_id(self) -> str:
        return self.business_id

    def seed(self) -> None:
        self._numbers = {name: itertools.count(1) for name in DOCUMENTS}
        self._gone = {}
        seed(self)

    payment_methods = PAYMENT_METHODS

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def new(self, resource: str, data: dict) -> Row:
        """Create a record with a Sage-shaped id (32 hex digits)."""
        return self.store.create(resource, data, record_id=uuid.uuid4().hex)

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            return self._too_many(int(fault.retry_after or 60))
        if fault.kind == "http_503":
            return SageError(503, "ServiceUnavailable", "Service Unavailable").response()
        return SageError(500, "InternalServerError", "An internal error occurred").response()

    def apply_setting(self, name: str, value: Any) -> bool:
        if name == "per_minute":
            self.limits.set("minute", None if value is None else int(value))
            return True
        return False

    def extra_state(self) -> dict:
        return {"business_id": self.business_id}

    # -- routing ----------------------------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        if (oauth := self.oauth_route(req)) is not None:
            return oauth
        if not req.path.startswith(API + "/"):
            return not_found().response()
        if self.auth.check(req.header("Authorization")) is not None:
            return SageError(401, "AuthorizationFailure", "Invalid or expired access token").response()
        parts = [p for p in req.path[len(API) + 1:].split("/") if p]
        business = req.header("X-Business") or self.business_id  # absent: the lead business
        if business != self.business_id:
            raise SageError(403, "AccessDenied", f"You do not have access to business {business}")
        exceeded = self.limits.hit(("minute", business))
        if exceeded is not None:
            return self._too_many(exceeded.retry_after)
        return self.dispatch(req, parts)

    def _too_many(self, retry_after: int) -> Response:
        return SageError(429, "TooManyRequests", "Too many requests. Please retry later.", "",
                         (("Retry-After", str(max(1, retry_after))),)).response()

    def store_error(self, error: ResourceError, req: Request) -> SageError:
        if isinstance(error, NotFound):
            return not_found(error.resource)
        return invalid("", error.message)

    def dispatch(self, req: Request, parts: list[str]) -> Response:
        method, head = req.method, parts[0]
        if head == "businesses" and method == "GET":
            return json_response(200, self.business() if len(parts) == 2 else self._envelope([self.business()], 1,
                                                                                               1, 20, req))
        if head == "financial_settings" and method == "GET" and len(parts) == 1:
            currency = self.store.get("currencies", BASE_CURRENCY)
            return json_response(200, {"$path": "/financial_settings", "base_currency": link(currency),
                                       "multi_currency_enabled": True, "year_end_date": "2026-12-31"})
        if head not in RESOURCES or len(parts) > 3:
            raise not_found()
        if method == "GET" and len(parts) == 1:
            return self.list(req, head)
        if method == "GET" and len(parts) == 2:
            return json_response(200, self.render(self.store.get(head, parts[1])))
        if head not in WRITABLE:
            raise SageError(405, "MethodNotAllowed", "Method Not Allowed")
        if len(parts) == 1 and method == "POST":
            return json_response(201, self.render(self.write(head, None, self._body(req, head))))
        record_id = parts[1]
        self.store.get(head, record_id)  # 404 first
        if len(parts) == 2 and method == "PUT":
            return json_response(200, self.render(self.write(head, record_id, self._body(req, head))))
        if len(parts) == 2 and method == "DELETE":
            self.delete(head, record_id, req.params.get("void_reason", ""))
            return 204, [], b""
        if len(parts) == 3 and parts[2] == "release" and method == "POST" and head in DOCUMENTS:
            return json_response(200, self.render(self.release(head, record_id)))
        raise not_found()

    @staticmethod
    def _body(req: Request, resource: str) -> dict:
        """The JSON body's object under the resource's singular key (Sage's wrapping)."""
        key = RESOURCES[resource]
        body = req.json_object(SageError(400, "BadRequest", "The request body is not valid JSON"))
        inner = body.get(key)
        if not isinstance(inner, dict):
            raise invalid(key, f"param is missing or the value is empty: {key}")
        return inner

    # -- reads ------------------------------------------------------------------------------------------------------
    def render(self, row: Row) -> dict:
        body = row.public("id")
        body.setdefault("displayed_as", "")
        body.update({"$path": f"/{row.resource}/{row.id}", "created_at": sage_time(row.created),
                     "updated_at": sage_time(row.modified)})
        return body

    def list(self, req: Request, resource: str) -> Response:
        """A page of ``resource``: changed since ``updated_or_created_since`` (inclusive), or deleted since
        ``deleted_since`` (exclusive, deleted records only), filtered, oldest first. Rows carry the base attributes
        (``id``, ``displayed_as``, ``$path``) unless ``attributes`` asks for more (``all``)."""
        p = req.params
        try:
            per_page = min(MAX_PER_PAGE, max(1, int(p.get("items_per_page") or DEFAULT_PER_PAGE)))
            page = max(1, int(p.get("page") or 1))
        except ValueError:
            raise invalid("items_per_page", "must be a number") from None
        if p.get("deleted_since"):
            since = self._time(p, "deleted_since")
            gone = [(rid, at) for rid, at in self.store.deleted_since(resource, since) if at > since]
            items = [{"id": rid, "displayed_as": self._gone.get(rid, ""), "$path": f"/{resource}/{rid}",
                      "deleted_at": sage_time(at)} for rid, at in gone]
            total = len(items)
            items = items[(page - 1) * per_page:page * per_page]
        else:
            since = self._time(p, "updated_or_created_since") if p.get("updated_or_created_since") else None
            found = self.store.query(resource, modified_since=since, where=self._where(resource, p), sort="created",
                                     page=page, per_page=per_page)
            total, items = found.total, [self._attributes(self.render(r), p.get("attributes", "")) for r in found.rows]
        return json_response(200, self._envelope(items, total, page, per_page, req))

    def _envelope(self, items: list, total: int, page: int, per_page: int, req: Request) -> dict:
        def url(number: int) -> str | None:
            if number < 1 or (number - 1) * per_page >= total:
                return None
            query = "&".join(f"{k}={v}" for k, v in {**req.params, "page": number}.items())
            return f"{req.path[len(API):]}?{query}"
        return {"$total": total, "$page": page, "$next": url(page + 1), "$back": url(page - 1),
                "$items_per_page": per_page, "$items": items}

    def _time(self, params: dict, name: str) -> float:
        try:
            return parse_timestamp(params[name])
        except ValueError:
            raise invalid(name, "is not a valid date-time") from None

    @staticmethod
    def _attributes(body: dict, wanted: str) -> dict:
        if wanted.strip().lower() == "all":
            return body
        names = {"id", "displayed_as", "$path", *(a.strip() for a in wanted.split(",") if a.strip())}
        return {k: v for k, v in body.items() if k in names}

    @staticmethod
    def _where(resource: str, p: dict) -> Callable[[Row], bool]:
        """The list filters Sage's description gives this path (``FILTERS``); any other parameter is ignored."""
        allowed = FILTERS.get(resource, frozenset())
        p = {k: v for k, v in p.items() if k in allowed and v != ""}
        search = p.get("search", "").casefold()
        fields = SEARCHED.get(resource, ())

        def where(row: Row) -> bool:
            d = row.data
            if search and not any(search in str(d.get(f, "")).casefold() for f in fields):
                return False
            if "contact_id" in p and (d.get("contact") or {}).get("id") != p["contact_id"]:
                return False
            if "status_id" in p and (d.get("status") or {}).get("id") != p["status_id"]:
                return False
            if "transaction_type_id" in p and (d.get("transaction_type") or {}).get("id") != p["transaction_type_id"]:
                return False
            if "bank_account_id" in p and (d.get("bank_account") or {}).get("id") != p["bank_account_id"]:
                return False
            if "from_date" in p and str(d.get("date", "")) < p["from_date"][:10]:
                return False
            if "to_date" in p and str(d.get("date", "")) > p["to_date"][:10]:
                return False
            if "contact_type_id" in p and p["contact_type_id"] not in [t["id"] for t in d.get("contact_types", [])]:
                return False
            if p.get("visible_in") == "sales" and not d.get("visible_in_sales"):
                return False
            return not (p.get("active") in ("true", "false") and bool(d.get("active")) != (p["active"] == "true"))
        return where

    def business(self) -> dict:
        return {"id": self.business_id, "displayed_as": self.business_name, "$path": f"/businesses/{self.business_id}",
                "name": self.business_name, "is_demo": False, "subscriptions": [{"id": "ACCOUNTING_PLUS"}],
                "address_line_1": "1 Sandbox Way", "city": "Atlanta", "postal_code": "30301",
                "country": {"id": "US", "displayed_as": "United States (US)"}}

    # -- writes -----------------------------------------------------------------------------------------------------
    def write(self, resource: str, record_id: str | None, body: dict) -> Row:
        computed = READ_ONLY if resource in DOCUMENTS else READ_ONLY & {"id", "displayed_as", "$path", "created_at",
                                                                           "updated_at", "deleted_at", "editable"}
        body = {k: v for k, v in body.items() if k not in computed}
        with self.store.lock:
            old = self.store.get(resource, record_id).data if record_id else {}
            data = getattr(self, f"_{resource}")({**old, **body}, old, record_id)
            if record_id and resource in DOCUMENTS and data["total_amount"] < sum(self._allocated(resource,
                                                                                                  record_id)):
                raise invalid("total_amount", "cannot be less than the amount already paid or allocated")
            row = self.store.update(resource, record_id, data, replace=True) if record_id else self.new(resource, data)
            self._after_write(resource, row.id, old, data)
            return self.store.get(resource, row.id)

    def _after_write(self, resource: str, record_id: str, old: dict, data: dict) -> None:
        if resource in DOCUMENTS:
            self._settle(resource, record_id)
        elif resource in ("contact_payments", "contact_allocations"):
            for entry in old.get("allocated_artefacts", []) + data["allocated_artefacts"]:
                self._settle(*artefact_of(entry))

    def _contacts(self, data: dict, old: dict, record_id: str | None) -> dict:
        name = str(data.get("name") or "").strip()
        if not name:
            raise invalid("name", "can't be blank")
        types = data.pop("contact_type_ids", None) or [t["id"] for t in old.get("contact_types", [])]
        if not types or any(t not in ("CUSTOMER", "VENDOR") for t in types):
            raise invalid("contact_type_ids", "is invalid")
        currency = self._currency(data.pop("currency_id", None) or (old.get("currency") or {}).get("id"))
        person = data.pop("main_contact_person", None) or {}
        email = person.get("email", data.get("email", "")) if person or not old else old.get("email", "")
        return {**{k: v for k, v in data.items() if not k.endswith("_id")}, "name": name,
                "displayed_as": f"{name} ({data.get('reference') or ''})" if data.get("reference") else name,
                "contact_types": [{"id": t, "displayed_as": t.title()} for t in types], "email": email,
                "currency": link(currency), "reference": data.get("reference") or "",
                "balance": old.get("balance", ZERO), "deletable": True}

    def _products(self, data: dict, old: dict, record_id: str | None) -> dict:
        return self._catalog(data, old, "sales_prices", "price", "purchase_ledger_account_id")

    def _services(self, data: dict, old: dict, record_id: str | None) -> dict:
        return self._catalog(data, old, "sales_rates", "rate", None)

    def _catalog(self, data: dict, old: dict, prices: str, price: str, purchase: str | None) -> dict:
        description = str(data.get("description") or "").strip()
        if not description:
            raise invalid("description", "can't be blank")
        out = {k: v for k, v in data.items() if not k.endswith("_id")}
        sales = data.get("sales_ledger_account_id") or (old.get("sales_ledger_account") or {}).get("id")
        out["sales_ledger_account"] = link(self._ledger(sales, "sales_ledger_account_id"))
        if purchase:
            bought = data.get(purchase) or (old.get("purchase_ledger_account") or {}).get("id")
            out["purchase_ledger_account"] = link(self._ledger(bought, purchase, sales=False))
        if data.get("sales_tax_rate_id"):
            out["sales_tax_rate"] = link(self._tax(data["sales_tax_rate_id"], "sales_tax_rate_id"))
        out[prices] = [{**p, price: amount(p.get(price), f"{prices}.{price}", ZERO)} for p in data.get(prices) or []]
        return {**out, "description": description, "displayed_as": description, "item_code": data.get("item_code", ""),
                "active": bool(data.get("active", True))}

    def _sales_invoices(self, data: dict, old: dict, record_id: str | None) -> dict:
        return self._document("sales_invoices", data, old)

    def _sales_credit_notes(self, data: dict, old: dict, record_id: str | None) -> dict:
        return self._document("sales_credit_notes", data, old)

    def _purchase_invoices(self, data: dict, old: dict, record_id: str | None) -> dict:
        """A supplier's bill: a VENDOR contact, a due date (required by the spec), lines as a sales invoice's;
        shown by its vendor's reference, else its reference (Sage gives it no number)."""
        contact_id = data.get("contact_id") or (old.get("contact") or {}).get("id")
        contact = self.store.find("contacts", str(contact_id or ""))
        if contact is not None and "VENDOR" not in [t["id"] for t in contact.data.get("contact_types", [])]:
            raise invalid("contact_id", "is not a supplier")
        if not data.get("due_date"):
            raise invalid("due_date", "can't be blank")
        out = self._document("purchase_invoices", data, old)
        out["displayed_as"] = out.get("vendor_reference") or out["reference"]
        return out

    def _document(self, resource: str, data: dict, old: dict) -> dict:
        """Lines priced and taxed the way Sage shows them: net = quantity x unit price, tax per line from its rate,
        both to the cent; the document's amounts are the lines' sums. The number is Sage's own series."""
        lines_key, number_key, prefix = DOCUMENTS[resource]
        status = (old.get("status") or {}).get("id")
        if status == "VOID":
            raise invalid("base", "A voided document cannot be edited")
        contact = self.store.require("contacts", data.get("contact_id") or (old.get("contact") or {}).get("id"),
                                     invalid("contact_id", "can't be blank" if not data.get("contact_id")
                                             else "is invalid"))
        if not data.get("date"):
            raise invalid("date", "can't be blank")
        lines = data.get(lines_key)
        if not isinstance(lines, list) or not lines:
            raise invalid(lines_key, "can't be blank")
        priced, net_total, tax_total = [], ZERO, ZERO
        for i, line in enumerate(lines):
            source = f"{lines_key}.{i}"
            if not str(line.get("description") or "").strip():
                raise invalid(f"{source}.description", "can't be blank")
            ledger_id = line.get("ledger_account_id") or (line.get("ledger_account") or {}).get("id")
            ledger = self._ledger(ledger_id, f"{source}.ledger_account_id")
            tax_id = line.get("tax_rate_id") or (line.get("tax_rate") or {}).get("id")
            tax = self._tax(tax_id, f"{source}.tax_rate_id") if tax_id else None
            if line.get("unit_price") in (None, ""):
                raise invalid(f"{source}.unit_price", "can't be blank")
            price = amount(line["unit_price"], f"{source}.unit_price")
            quantity = amount(line.get("quantity"), f"{source}.quantity", Decimal("1"))
            net = (price * quantity).quantize(CENT)
            tax_amount = (net * tax.data["percentage"] / 100).quantize(CENT) if tax else ZERO
            out = {"id": line.get("id") or uuid.uuid4().hex, "displayed_as": line["description"],
                   "description": line["description"], "ledger_account": link(ledger), "quantity": quantity,
                   "unit_price": price, "net_amount": net, "tax_amount": tax_amount, "total_amount": net + tax_amount,
                   "tax_rate": link(tax) if tax else None, "unit_price_includes_tax": False,
                   "discount_amount": ZERO}
            for kind in ("product", "service"):
                ref = line.get(f"{kind}_id") or (line.get(kind) or {}).get("id")
                if ref:
                    out[kind] = link(self.store.require(f"{kind}s", ref, invalid(f"{source}.{kind}_id")))
            priced.append(out)
            net_total, tax_total = net_total + net, tax_total + tax_amount
        currency = self._currency(data.get("currency_id") or (old.get("currency") or {}).get("id")
                                  or (contact.data.get("currency") or {}).get("id"))
        number = (old.get(number_key) or f"{prefix}{next(self._numbers[resource])}") if number_key else ""
        wanted = data.get("status_id") or status or "UNPAID"
        if wanted not in ("DRAFT", "UNPAID"):
            wanted = status or "UNPAID"
        keep = {k: v for k, v in data.items() if not k.endswith("_id") and k != lines_key}
        numbered = {number_key: number, f"{number_key}_prefix": prefix} if number_key else {}
        return {**keep, "contact": link(contact), "contact_name": contact.data["name"], **numbered,
                "displayed_as": number, "date": str(data["date"])[:10],
                "reference": data.get("reference") or "", "notes": data.get("notes") or "",
                lines_key: priced, "net_amount": net_total, "tax_amount": tax_total,
                "total_amount": net_total + tax_total, "outstanding_amount": old.get("outstanding_amount", ZERO),
                "total_paid": old.get("total_paid", ZERO), "currency": link(currency),
                "exchange_rate": amount(data.get("exchange_rate"), "exchange_rate", Decimal("1")),
                "status": {"id": wanted, "displayed_as": STATUSES[wanted]}, "void_reason": None,
                **({"due_date": str(data.get("due_date") or data["date"])[:10]} if resource != "sales_credit_notes"
                   else {})}

    def _contact_payments(self, data: dict, old: dict, record_id: str | None) -> dict:
        kind = data.get("transaction_type_id") or (old.get("transaction_type") or {}).get("id")
        if kind not in ("CUSTOMER_RECEIPT", "CUSTOMER_REFUND"):
            raise invalid("transaction_type_id", "is invalid (this sandbox takes CUSTOMER_RECEIPT and CUSTOMER_REFUND)")
        contact = self.store.require("contacts", data.get("contact_id") or (old.get("contact") or {}).get("id"),
                                     invalid("contact_id"))
        bank_id = data.get("bank_account_id") or (old.get("bank_account") or {}).get("id")
        bank = self.store.require("bank_accounts", bank_id, invalid("bank_account_id"))
        if not data.get("date"):
            raise invalid("date", "can't be blank")
        total = amount(data.get("total_amount"), "total_amount").quantize(CENT)
        if total <= 0:
            raise invalid("total_amount", "must be greater than 0")
        before = {a["artefact"]["id"]: a["amount"] for a in old.get("allocated_artefacts", [])}
        entries = data["allocated_artefacts"] if "allocated_artefacts" in data else [
            {"artefact_id": a["artefact"]["id"], "amount": a["amount"]} for a in old.get("allocated_artefacts", [])]
        allocated, applied = ZERO, []
        if kind == "CUSTOMER_REFUND":
            allocated, applied = self._refund_allocations(entries, contact, old)
            entries = []
        for i, entry in enumerate(entries or []):
            share = amount(entry.get("amount"), f"allocated_artefacts.{i}.amount").quantize(CENT)
            invoice = self.store.require("sales_invoices", entry.get("artefact_id"),
                                         invalid(f"allocated_artefacts.{i}.artefact_id"))
            if invoice.data["contact"]["id"] != contact.id:
                raise invalid(f"allocated_artefacts.{i}.artefact_id", "belongs to another contact")
            room = invoice.data["outstanding_amount"] + before.get(invoice.id, ZERO)
            if invoice.data["status"]["id"] == "VOID" or share <= 0 or share > room:
                raise invalid(f"allocated_artefacts.{i}.amount",
                              f"exceeds the outstanding amount of {invoice.data['invoice_number']}")
            allocated += share
            applied.append({"id": entry.get("id") or uuid.uuid4().hex, "artefact": link(invoice),
                            "amount": share, "discount": ZERO})
        if allocated > total:
            raise invalid("allocated_artefacts", "The allocated amount exceeds the payment amount")
        method = data.get("payment_method_id") or (old.get("payment_method") or {}).get("id") or "BANK_TRANSFER"
        if method not in PAYMENT_METHODS:
            raise invalid("payment_method_id")
        on_account = total - allocated
        label = "Customer Receipt" if kind == "CUSTOMER_RECEIPT" else "Customer Refund"
        return {"transaction_type": {"id": kind, "displayed_as": label}, "contact": link(contact),
                "bank_account": link(bank), "payment_method": {"id": method, "displayed_as": PAYMENT_METHODS[method]},
                "date": str(data["date"])[:10], "net_amount": total, "tax_amount": ZERO, "total_amount": total,
                "currency": link(self._currency(data.get("currency_id") or (contact.data.get("currency") or {})
                                                .get("id"))),
                "exchange_rate": amount(data.get("exchange_rate"), "exchange_rate", Decimal("1")),
                "reference": data.get("reference") or "", "displayed_as": data.get("reference") or "",
                "allocated_artefacts": applied, "editable": True,
                "payment_on_account": {"contact_name": contact.data["name"], "total_amount": on_account,
                                       "outstanding_amount": on_account} if on_account else None}

    def _contact_allocations(self, data: dict, old: dict, record_id: str | None) -> dict:
        """An allocation between a customer's documents: invoices positive, credit notes negative, summing to 0."""
        if data.get("transaction_type_id") != "CUSTOMER_ALLOCATION":
            raise invalid("transaction_type_id", "is invalid (this sandbox takes CUSTOMER_ALLOCATION)")
        contact = self.store.require("contacts", data.get("contact_id"), invalid("contact_id"))
        applied, balance = [], ZERO
        for i, entry in enumerate(data.get("allocated_artefacts") or []):
            share = amount(entry.get("amount"), f"allocated_artefacts.{i}.amount").quantize(CENT)
            resource = "sales_invoices" if share > 0 else "sales_credit_notes"
            artefact = self.store.require(resource, entry.get("artefact_id"),
                                          invalid(f"allocated_artefacts.{i}.artefact_id"))
            if artefact.data["contact"]["id"] != contact.id or artefact.data["status"]["id"] in ("VOID", "DRAFT") \
                    or share == 0 or abs(share) > artefact.data["outstanding_amount"]:
                raise invalid(f"allocated_artefacts.{i}.amount", "is invalid for this artefact")
            balance += share
            applied.append({"id": uuid.uuid4().hex, "artefact": link(artefact), "amount": share})
        if len(applied) < 2 or balance != 0:
            raise invalid("allocated_artefacts", "The allocated amounts must balance to zero")
        return {"transaction_type": {"id": "CUSTOMER_ALLOCATION", "displayed_as": "Customer Allocation"},
                "contact": link(contact), "date": str(data.get("date") or self.today())[:10],
                "allocated_artefacts": applied, "displayed_as": "Customer Allocation"}

    # -- balances, void, delete ------------------------------------------------------------------------------------
    def _allocated(self, resource: str, record_id: str) -> tuple[Decimal, Decimal]:
        """(paid by receipts, allocated from or to other documents) of one invoice or credit note."""
        paid = sum((abs(a["amount"]) for r in self.store.rows("contact_payments")
                    for a in r.data["allocated_artefacts"] if a["artefact"]["id"] == record_id), ZERO)
        moved = sum((abs(a["amount"]) for r in self.store.rows("contact_allocations")
                     for a in r.data["allocated_artefacts"] if a["artefact"]["id"] == record_id), ZERO)
        return paid, moved

    def _settle(self, resource: str, record_id: str) -> None:
        with self.store.lock:
            row = self.store.find(resource, record_id)
            if row is None or row.data["status"]["id"] in ("VOID", "DRAFT"):
                if row is not None and row.data["status"]["id"] == "DRAFT":
                    self._change(resource, record_id, {"outstanding_amount": row.data["total_amount"]})
                return
            paid, moved = self._allocated(resource, record_id)
            outstanding = max(ZERO, row.data["total_amount"] - paid - moved)
            state = "PAID" if outstanding == 0 and row.data["total_amount"] > 0 else \
                "PART_PAID" if paid or moved else "UNPAID"
            self._change(resource, record_id, {"outstanding_amount": outstanding, "total_paid": paid + moved,
                                               "status": {"id": state, "displayed_as": STATUSES[state]}})

    def _change(self, resource: str, record_id: str, change: dict) -> None:
        data = self.store.get(resource, record_id).data
        if any(data.get(k) != v for k, v in change.items()):
            self.store.update(resource, record_id, change)

    def release(self, resource: str, record_id: str) -> Row:
        with self.store.lock:
            if self.store.get(resource, record_id).data["status"]["id"] != "DRAFT":
                raise invalid("status", "Only a draft can be released")
            self.store.update(resource, record_id, {"status": {"id": "UNPAID", "displayed_as": "Unpaid"}})
            self._settle(resource, record_id)
            return self.store.get(resource, record_id)

    def delete(self, resource: str, record_id: str, void_reason: str = "") -> None:
        """DELETE: a draft invoice or credit note is deleted, any other is voided (``void_reason`` required, and
        refused while payments or credit are allocated to it); receipts and allocations are deleted (the documents
        they settled owe again); contacts and items are deleted while no transaction uses them."""
        with self.store.lock:
            row = self.store.get(resource, record_id)
            data = row.data
            if resource == "purchase_invoices" and any(self._allocated(resource, record_id)):
                raise invalid("base", "A purchase invoice with payments allocated cannot be deleted. Remove them "
                                      "first.")
            if resource in DOCUMENTS and resource != "purchase_invoices" and data["status"]["id"] != "DRAFT":
                if not void_reason.strip():
                    raise invalid("void_reason", "can't be blank")
                if data["status"]["id"] == "VOID":
                    raise invalid("base", "The document is already void")
                if any(self._allocated(resource, record_id)):
                    raise invalid("base", "A document with payments or allocations cannot be voided. Remove them "
                                          "first.")
                self.store.void(resource, record_id, zero=("outstanding_amount",), status="",
                                extra={"status": {"id": "VOID", "displayed_as": "Void"}, "void_reason": void_reason})
                return
            if resource in ("contacts", "products", "services") and self._used(resource, record_id):
                raise invalid("base", f"The {RESOURCES[resource]} has transactions and cannot be deleted")
            self._gone[record_id] = str(data.get("displayed_as") or "")
            self.store.delete(resource, record_id)
            for entry in data.get("allocated_artefacts", []) if resource in ("contact_payments",
                                                                              "contact_allocations") else []:
                self._settle(*artefact_of(entry))

    def _used(self, resource: str, record_id: str) -> bool:
        kind = RESOURCES[resource]
        for doc in ("sales_invoices", "sales_credit_notes", "contact_payments", "purchase_invoices"):
            for r in self.store.rows(doc):
                if kind == "contact" and r.data["contact"]["id"] == record_id:
                    return True
                lines = r.data.get(DOCUMENTS.get(doc, ("",))[0]) or []
                if any((line.get(kind) or {}).get("id") == record_id for line in lines):
                    return True
        return False

    # -- references -------------------------------------------------------------------------------------------------
    def _ledger(self, ledger_id: Any, source: str, sales: bool = True) -> Row:
        row = self.store.require("ledger_accounts", ledger_id, invalid(source, "can't be blank" if not ledger_id
                                                                       else "is not a valid ledger account"))
        if not row.data["included_in_chart"]:
            raise invalid(source, f"The ledger account {row.data['name']} is not included in the chart of accounts")
        return row

    def _tax(self, tax_id: Any, source: str) -> Row:
        return self.store.require("tax_rates", tax_id, invalid(source, "is not a valid tax rate"))

    def _currency(self, code: Any) -> Row:
        return self.store.require("currencies", code or BASE_CURRENCY, invalid("currency_id"))

    # -- what a bookkeeper does in Sage Accounting ----------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: Any, date: str | None = None,
                               reference: str = "") -> dict:
        invoice = self.store.get("sales_invoices", invoice_id).data
        bank = self.store.rows("bank_accounts")[0]
        return self.render(self.write("contact_payments", None, {
            "transaction_type_id": "CUSTOMER_RECEIPT", "contact_id": invoice["contact"]["id"],
            "bank_account_id": bank.id, "date": date or self.today(), "total_amount": amount,
            "reference": reference, "allocated_artefacts": [{"artefact_id": invoice_id, "amount": amount}]}))

    def edit_invoice_line_as_user(self, invoice_id: str, line: int = 0, amount: Any = None, unit_price: Any = None,
                                  quantity: Any = None, description: str | None = None) -> dict:
        """``amount`` sets the line's net amount (unit price = amount / quantity)."""
        data = self.store.get("sales_invoices", invoice_id).data
        lines = [dict(li) for li in data["invoice_lines"]]
        target = lines[int(line)]
        if quantity is not None:
            target["quantity"] = decimal_value(quantity)
        if unit_price is not None:
            target["unit_price"] = decimal_value(unit_price)
        if amount is not None:
            target["unit_price"] = decimal_value(amount) / target["quantity"]
        if description is not None:
            target["description"] = description
        return self.render(self.write("sales_invoices", invoice_id, {"invoice_lines": lines}))

    def void_invoice_as_user(self, invoice_id: str, void_reason: str = "Voided in Sage") -> dict:
        self.delete("sales_invoices", invoice_id, void_reason)
        return self.render(self.store.get("sales_invoices", invoice_id))

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        """A user deletes an invoice (Sage's UI deletes an unpaid invoice; the API only voids one)."""
        with self.store.lock:
            if any(self._allocated("sales_invoices", invoice_id)):
                raise invalid("base", "An invoice with payments allocated cannot be deleted")
            self._gone[invoice_id] = self.store.get("sales_invoices", invoice_id).data["displayed_as"]
            self.store.delete("sales_invoices", invoice_id)
        return {"id": invoice_id, "deleted": True}

    def delete_payment_as_user(self, payment_id: str) -> dict:
        self.delete("contact_payments", payment_id)
        return {"id": payment_id, "deleted": True}

    def delete_refund_as_user(self, refund_id: str) -> dict:
        """A customer refund deleted from the bank account's activity (Sage voids no refund): the credit note it
        was allocated to has that much outstanding again; ``deleted_since`` lists it."""
        self._delete_as_user("contact_payments", refund_id, "CUSTOMER_REFUND")
        return {"id": refund_id, "deleted": True}

    def delete_other_payment_as_user(self, payment_id: str) -> dict:
        """An other payment (a bank payment of costs) deleted from the bank account's activity."""
        self._delete_as_user("other_payments", payment_id, "OTHER_PAYMENT")
        return {"id": payment_id, "deleted": True}

    def delete_journal_as_user(self, journal_id: str) -> dict:
        """A journal deleted from the journals list (Sage's UI offers Delete on a journal; nothing voids one)."""
        self._delete_as_user("journals", journal_id, "JOURNAL")
        return {"id": journal_id, "deleted": True}

    def _delete_as_user(self, resource: str, record_id: str, kind: str) -> None:
        with self.store.lock:
            found = (self.store.get(resource, record_id).data.get("transaction_type") or {}).get("id")
            if found != kind:
                raise invalid("base", f"{record_id} is a {found}, not a {kind}")
            self.delete(resource, record_id)

    def edit_other_payment_line_as_user(self, payment_id: str, line: int = 0, amount: Any = None) -> dict:
        """A person types over a line's gross amount on an other payment (Sage splits the tax out again at the line's
        rate); the payment's totals follow."""
        with self.store.lock:
            lines = [dict(x) for x in self.store.get("other_payments", payment_id).data["payment_lines"]]
            target = lines[int(line)]
            target["total_amount"] = decimal_value(amount)
            target.pop("net_amount"), target.pop("tax_amount")
            return self.render(self.write("other_payments", payment_id, {
                "payment_lines": lines, "total_amount": sum(x["total_amount"] for x in lines)}))

    def archive_account_as_user(self, account_id: str) -> dict:
        """Take a ledger account out of the chart: documents that name it are refused from then on."""
        return self.render(self.store.update("ledger_accounts", account_id, {"included_in_chart": False}))

