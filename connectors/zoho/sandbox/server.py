"""A local Zoho Books API v3 on loopback HTTP, built on the sandbox kit.

Routes: Zoho accounts' OAuth (``/oauth/v2/auth``, ``/oauth/v2/token``, ``/oauth/v2/token/revoke``) and the Books
API under ``/books/v3``: organizations, contacts, items, invoices, customerpayments, creditnotes (with credits
applied to invoices), chartofaccounts, settings/taxes and settings/currencies. Per API request: the
``Zoho-oauthtoken`` (401, code 57), ``organization_id``, the per-minute and daily limits per organisation (429),
then the resource. Amounts are Decimal in and out; answers are ``{"code": 0, "message": ..., "<key>": ...}``.
Every fact and guess is listed with its source in docs/sandbox-zoho.md.
"""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ...sandboxkit.faults import Fault
from ...sandboxkit.limits import Limiter
from ...sandboxkit.listing import Listing
from ...sandboxkit.oauth import AuthServer
from ...sandboxkit.platform import PlatformSandbox, Request, Response, json_response
from ...sandboxkit.resources import Duplicate, NotFound, ResourceError, ResourceStore, Row, Unique
from .costs import ZohoCosts
from .seed import BASE_CURRENCY, ORGANIZATION_ID, seed
from .wire import CENT, REFUSED, ZERO, ZohoError, invalid, money

API = "/books/v3"
#: Per organisation: 100 requests a minute, and the plan's daily cap (1,000 on the free plan).
LIMITS = {"minute": (100, 60.0), "day": (1000, 86400.0)}
MAX_PER_PAGE = 200
#: path segment -> (object key, id field, unique field or None). List key = path segment.
RESOURCES = {
    "contacts": ("contact", "contact_id", "contact_name"), "items": ("item", "item_id", "name"),
    "invoices": ("invoice", "invoice_id", "invoice_number"),
    "customerpayments": ("payment", "payment_id", None),
    "creditnotes": ("creditnote", "creditnote_id", "creditnote_number"),
    "chartofaccounts": ("chart_of_account", "account_id", None), "taxes": ("tax", "tax_id", None),
    "currencies": ("currency", "currency_id", None), "creditnote_invoices": ("", "creditnote_invoice_id", None),
    "expenses": ("expense", "expense_id", None), "journals": ("journal", "journal_id", None),
    "creditnote_refunds": ("creditnote_refund", "creditnote_refund_id", None),
    "bills": ("bill", "bill_id", None),  # bill_number is unique per vendor (costs.py), not across bills
}
#: What Zoho computes; a client that sends a record back as it read it does not overwrite these.
READ_ONLY = ("created_time", "last_modified_time", "updated_time", "balance", "payment_made", "credits_applied",
             "sub_total", "tax_total", "total", "taxes", "unused_amount", "customer_name", "account_name",
             "tax_amount", "bcy_total", "line_item_total", "paid_through_account_name", "vendor_name")
WRITABLE = ("contacts", "items", "invoices", "customerpayments", "creditnotes", "expenses", "journals", "bills")
NOUN = {"contacts": "contact", "items": "item", "invoices": "invoice", "customerpayments": "payment",
        "creditnotes": "credit note", "chartofaccounts": "account", "taxes": "tax", "currencies": "currency",
        "creditnote_invoices": "credit applied", "expenses": "expense", "journals": "journal entry",
        "creditnote_refunds": "refund", "bills": "bill"}
MESSAGES = {"create": "The {} has been created.", "update": "The {} information has been updated.",
            "delete": "The {} has been deleted.", "void": "The {} status has been changed to Void.",
            "active": "The {} has been marked as active.", "inactive": "The {} has been marked as inactive."}
#: Fields a list may be filtered on with ``field=value`` (exact, ignoring case), ``field_contains``,
#: ``field_startswith``.
FILTERS = {"contacts": ("contact_name", "company_name", "email", "contact_type", "status"),
           "items": ("name", "sku", "status"),
           "invoices": ("invoice_number", "customer_id", "reference_number", "status", "date"),
           "customerpayments": ("customer_id", "reference_number", "payment_number", "payment_mode", "date"),
           "creditnotes": ("creditnote_number", "customer_id", "reference_number", "status", "date"),
           "chartofaccounts": ("account_type", "account_name"), "taxes": ("tax_name",), "currencies": (),
           "expenses": ("reference_number", "account_id", "vendor_id", "customer_id", "date", "status"),
           "journals": ("entry_number", "reference_number", "journal_date", "notes"),
           "bills": ("bill_number", "reference_number", "vendor_id", "status", "date", "due_date")}
SORTS = {"created_time", "last_modified_time", "date", "total", "balance", "invoice_number", "creditnote_number",
         "bill_number", "contact_name", "customer_name", "name", "amount", "account_name", "due_date",
         "reference_number"}
INVOICE_FILTERS = {"Status.Draft": {"draft"}, "Status.Sent": {"sent"}, "Status.Paid": {"paid"},
                   "Status.PartiallyPaid": {"partially_paid"}, "Status.Void": {"void"}, "Status.Overdue": {"overdue"},
                   "Status.Unpaid": {"sent", "overdue", "partially_paid"}}


def not_exist(resource: str, status: int = 404) -> ZohoError:
    """Zoho's "... does not exist." (code 1002, as on its errors page), HTTP 404 for a path id."""
    return ZohoError(status, 1002, f"{NOUN.get(resource, resource).capitalize()} does not exist.")


#: Lists without ``sort_order``: documents newest first, reference data in creation order (a guess; see docs).
LISTING = Listing(FILTERS, frozenset(SORTS), invalid, columns={"created_time": "created",
                                                               "last_modified_time": "modified"},
                  default_sort="created_time", descending=frozenset({"invoices", "creditnotes", "customerpayments",
                                                                        "expenses", "journals", "bills"}),
                  max_per_page=MAX_PER_PAGE, modified_param="last_modified_time")


def zoho_time(epoch: float) -> str:
    """``2013-11-18T10:02:51+0000``: Zoho's timestamps (the organisation's zone; ours is UTC)."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class ZohoSandbox(ZohoCosts, PlatformSandbox):
    """Zoho Books v3 with one organisation (``company_id``), its OAuth server, limits and faults."""

    platform, title, default_port, ready_path = "zoho", "Zoho Books", 8767, "/_sandbox/state"
    api_path, token_path, authorize_path = API, "/oauth/v2/token", "/oauth/v2/auth"
    revoke_path = "/oauth/v2/token/revoke"
    #: How a person takes back what the connector sent (``PlatformHarness.take_back``): Zoho Books voids no refund,
    #: expense or manual journal, it deletes them, and its lists hold no deleted records (so the connector's polling
    #: cannot report these; reconciliation's read by id finds them gone).
    user_takes_back = {"refund": ("delete_refund", "refund_id"), "expense": ("delete_expense", "expense_id"),
                       "journal": ("delete_journal", "journal_id"), "bill": ("void_bill", "bill_id")}

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] | None = None,
                 organization_id: str = ORGANIZATION_ID, organization_name: str = "Sandbox Books Inc",
                 access_ttl: int = 3600, daily_limit: int | None = 1000, timeout_seconds: float = 5.0,
                 verbose: bool = False) -> None:
        super().__init__(host, port, clock, timeout_seconds, verbose)
        self.organization_id, self.organization_name = str(organization_id), organization_name
        prefix = "1000."  # how Zoho's tokens begin
        self.auth = AuthServer(clock=self.clock, access_ttl=access_ttl, scheme="Zoho-oauthtoken", token_prefix=prefix,
                               render_error=lambda error, status: (200, {"error": _TOKEN_ERRORS.get(error, error)}))
        self.limits = Limiter(self.clock, minute=LIMITS["minute"], day=(daily_limit, LIMITS["day"][1]))
        self.store = ResourceStore(self.clock)
        for k, (name, (_, _, unique)) in enumerate(RESOURCES.items()):
            rules = (Unique((unique,)),) if unique else ()
            self.store.declare(name, id_start=460000000000000 + k * 10_000_000 + 1001, unique=rules)
        self._numbers = itertools.count(1)
        self._line_ids = itertools.count(460000090000001)
        self.reset()

    # -- kit hooks -------------------------------------------------------------------------------------------------
    @property
    def company_id(self) -> str:
        return self.organization_id

    def bind(self):
        """Once the port is known, the consent redirect and token answers name this server, as Zoho names its own
        data centre (``location``, ``accounts-server``, ``api_domain``)."""
        super().bind()
        self.auth.redirect_extra = {"location": "us", "accounts-server": self.base_url}
        self.auth.token_extra = {"api_domain": self.base_url}
        return self

    def seed(self) -> None:
        self._numbers = itertools.count(1)
        self.entries = itertools.count(1)
        seed(self.store, self.today())

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            return self._too_many("minute", int(fault.retry_after or 60))
        if fault.kind == "http_503":
            return 503, [("Content-Type", "text/html")], b"<html><body><h1>503 Service Unavailable</h1></body></html>"
        return ZohoError(500, 1000, "Internal error").response()

    def apply_setting(self, name: str, value: Any) -> bool:
        if name == "daily_limit":
            self.limits.set("day", None if value is None else int(value))
            return True
        return False

    def extra_state(self) -> dict:
        return {"organization_id": self.organization_id}

    # -- routing ----------------------------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        if (oauth := self.oauth_route(req)) is not None:  # Zoho's examples send the grant in the query
            return oauth
        if not req.path.startswith(API + "/"):
            return ZohoError(404, 5, "Invalid URL Passed").response()
        if self.auth.check(req.header("Authorization")) is not None:
            return ZohoError(401, 57, "You are not authorized to perform this operation").response()
        parts = [p for p in req.path[len(API) + 1:].split("/") if p]
        if parts[:1] == ["organizations"] and req.method == "GET":
            return self._ok("", {"organizations": [self.organization()]} if len(parts) == 1 else
                            {"organization": self._org_or_404(parts[1])})
        org = req.params.get("organization_id", "")
        if not org:
            raise invalid("organization_id")
        if org != self.organization_id:
            raise ZohoError(401, 6041, f"This user is not associated with the CompanyID/CompanyName:{org}.")
        exceeded = self.limits.hit(("minute", org), ("day", org))
        if exceeded is not None:
            return self._too_many(exceeded.rule, exceeded.retry_after)
        return self.dispatch(req, parts)

    def _too_many(self, rule: str, retry_after: int) -> Response:
        if rule == "day":
            message = "You have reached the maximum number of API calls allowed for your organization today. " \
                      "Please try again tomorrow."
        else:
            message = "You have made too many requests continuously. Please try again after some time."
        headers = (("Retry-After", str(max(1, retry_after))),)
        return ZohoError(429, 44 if rule == "day" else 45, message, headers).response()

    def store_error(self, error: ResourceError, req: Request) -> ZohoError:
        """A duplicate name or number (1001; 3062 for a contact name); a record that does not exist: 404 for the
        path's record, 400 for one a body names (a guess, see docs)."""
        if isinstance(error, NotFound):
            return not_exist(error.resource, 404 if error.record_id in req.path.split("/") else 400)
        if not isinstance(error, Duplicate):
            return ZohoError(400, 2, error.message)
        if error.resource == "contacts":
            return ZohoError(400, 3062, "The contact name already exists. Please specify a different name.")
        original = self.store.get(error.resource, error.existing_id).data.get(error.rule.fields[0], "")
        return ZohoError(400, 1001, f'{NOUN[error.resource].capitalize()} "{original}" already exists.')

    def dispatch(self, req: Request, parts: list[str]) -> Response:
        method, head = req.method, parts[0]
        if head == "settings" and len(parts) >= 2 and parts[1] in ("taxes", "currencies") and method == "GET":
            if len(parts) == 4 and parts[1] == "currencies" and parts[3] == "exchangerates":
                return self._ok("", {"exchange_rates": self.exchange_rates(parts[2])})
            return self.read(req, parts[1], parts[2:])
        if head == "creditnotes" and parts[1:] == ["refunds"] and method == "GET":
            return self.all_refunds()
        if head == "creditnotes" and len(parts) in (3, 4) and parts[2] == "refunds":
            return self.refunds(req, parts[1], parts[3] if len(parts) == 4 else None)
        if head not in FILTERS or len(parts) > 4:
            raise ZohoError(404, 5, "Invalid URL Passed")
        if method == "GET" and len(parts) <= 2:
            return self.read(req, head, parts[1:])
        if head not in WRITABLE:
            raise ZohoError(405, 5, "Invalid URL Passed")
        if len(parts) == 1 and method == "POST":
            return self._saved(head, "create", self.write(head, None, self._body(req), req.params), 201)
        record_id = parts[1]
        self.store.get(head, record_id)  # 404 first
        if len(parts) == 2 and method == "PUT":
            return self._saved(head, "update", self.write(head, record_id, self._body(req), req.params))
        if len(parts) == 2 and method == "DELETE":
            self.delete(head, record_id)
            return self._ok(MESSAGES["delete"].format(NOUN[head]), {})
        action = "/".join(parts[2:])
        if method == "POST" and action in ("active", "inactive") and head in ("contacts", "items"):
            self.store.update(head, record_id, {"status": action})
            return self._ok(MESSAGES[action].format(NOUN[head]), {})
        if method == "POST" and action == "status/void" and head in ("invoices", "creditnotes", "bills"):
            self.void(head, record_id)
            return self._ok(MESSAGES["void"].format(NOUN[head]), {})
        if method == "POST" and action == "status/sent" and head == "invoices":
            self._settle(record_id, sent=True)
            return self._ok("Invoice status has been changed to Sent.", {})
        if head == "creditnotes" and parts[2] == "invoices":
            return self.credits(req, record_id, parts[3] if len(parts) == 4 else None)
        raise ZohoError(404, 5, "Invalid URL Passed")

    @staticmethod
    def _body(req: Request) -> dict:
        """A JSON body, or Zoho's older form field ``JSONString``."""
        return req.json_object(ZohoError(400, 4, "Invalid value passed for JSONString"), form_field="JSONString")

    def _ok(self, message: str, body: dict, status: int = 200) -> Response:
        return json_response(status, {"code": 0, "message": message or "success", **body})

    def _saved(self, resource: str, verb: str, row: Row, status: int = 200) -> Response:
        return self._ok(MESSAGES[verb].format(NOUN[resource]), {RESOURCES[resource][0]: self.render(row)}, status)

    # -- reads ------------------------------------------------------------------------------------------------------
    def render(self, row: Row) -> dict:
        """A record as Zoho answers it: id field first, the public fields, created and last-modified times."""
        body = row.public(RESOURCES[row.resource][1])
        body.update(created_time=zoho_time(row.created), last_modified_time=zoho_time(row.modified))
        if row.resource == "creditnotes":
            body["updated_time"] = body["last_modified_time"]
        return body

    def read(self, req: Request, resource: str, rest: list[str]) -> Response:
        key = RESOURCES[resource][0]
        if rest:
            return self._ok("", {key: self.render(self.store.get(resource, rest[0]))})
        p = req.params
        wanted = self._filter_by(resource, p.get("filter_by", ""))
        search = p.get("search_text", "").casefold()
        number = RESOURCES[resource][2] or "name"

        def where(row: Row) -> bool:
            return (wanted is None or wanted(row.data)) and (
                not search or search in str(row.data.get(number, "")).casefold()
                or search in str(row.data.get("reference_number", "")).casefold())

        found, column, descending = LISTING.query(self.store, resource, p, where)
        context = {"page": found.page, "per_page": found.per_page, "has_more_page": found.has_more,
                   "report_name": resource, "applied_filter": p.get("filter_by", "Status.All"), "sort_column": column,
                   "sort_order": "D" if descending else "A"}
        return self._ok("", {resource: [self.render(r) for r in found.rows], "page_context": context})

    @staticmethod
    def _filter_by(resource: str, value: str) -> Callable[[dict], bool] | None:
        if not value or value.endswith(".All"):
            return None
        if resource == "chartofaccounts" and value in ("AccountType.Active", "AccountType.Inactive"):
            return lambda d: bool(d.get("is_active")) == (value == "AccountType.Active")
        if resource in ("contacts", "items") and value in ("Status.Active", "Status.Inactive"):
            return lambda d: d.get("status") == value.split(".")[1].lower()
        if value in INVOICE_FILTERS and resource in ("invoices", "creditnotes"):
            statuses = INVOICE_FILTERS[value] | ({"open"} if value == "Status.Unpaid" else set())
            return lambda d: d.get("status") in statuses
        raise invalid("filter_by")

    def exchange_rates(self, currency_id: str) -> list[dict]:
        cur = self.store.get("currencies", currency_id).data
        return [{"exchange_rate_id": f"{currency_id}1", "currency_id": currency_id,
                 "currency_code": cur["currency_code"], "effective_date": cur["effective_date"],
                 "rate": cur["exchange_rate"]}]

    def organization(self) -> dict:
        currency = self._named("currencies", "currency_code", BASE_CURRENCY)
        return {"organization_id": self.organization_id, "name": self.organization_name,
                "contact_name": "Sandbox Owner", "email": "owner@example.com", "is_default_org": True,
                "plan_type": 0, "plan_name": "FREE", "version": "global", "country": "U.S.A",
                "currency_id": currency.id, "currency_code": BASE_CURRENCY, "currency_symbol": "$",
                "price_precision": 2, "time_zone": "Etc/UTC", "fiscal_year_start_month": 0,
                "is_org_active": True}

    def _org_or_404(self, org_id: str) -> dict:
        if org_id != self.organization_id:
            raise ZohoError(401, 6041, f"This user is not associated with the CompanyID/CompanyName:{org_id}.")
        return self.organization()

    # -- writes -----------------------------------------------------------------------------------------------------
    def write(self, resource: str, record_id: str | None, body: dict, params: dict) -> Row:
        """Create (``record_id`` None) or update one record, under the store lock: a payment and the invoices it
        settles change together."""
        body = {k: v for k, v in body.items() if k not in (RESOURCES[resource][1], *READ_ONLY)}
        with self.store.lock:
            old = self.store.get(resource, record_id).data if record_id else {}
            merged = {**old, **body}
            if resource == "expenses" and "line_items" not in body:  # the one-account form replaces the lines
                merged.pop("line_items", None)
            data = getattr(self, f"_{resource}")(merged, old, params)
            if record_id and resource in ("invoices", "creditnotes") and data["total"] < self._used(resource,
                                                                                                  record_id):
                raise ZohoError(400, 2, f"The {NOUN[resource]} total cannot be less than the amount already paid "
                                        "or credited.")
            row = (self.store.update(resource, record_id, data) if record_id
                   else self.store.create(resource, data))
            if resource == "customerpayments":
                for invoice_id in {a["invoice_id"] for a in old.get("invoices", []) + data["invoices"]}:
                    self._settle(invoice_id)
            elif resource == "invoices":
                self._settle(row.id)
            elif resource == "creditnotes":
                self._settle_note(row.id)
            return self.store.get(resource, row.id)

    def _contacts(self, data: dict, old: dict, params: dict) -> dict:
        if not str(data.get("contact_name") or "").strip():
            raise ZohoError(400, 2, "Contact name cannot be empty.")
        currency = self.store.require("currencies", data["currency_id"], invalid("currency_id")) if data.get(
            "currency_id") else self._named("currencies", "currency_code", BASE_CURRENCY)
        persons = data.get("contact_persons") or []
        primary = next((p for p in persons if p.get("is_primary_contact")), persons[0] if persons else {})
        return {**data, "contact_type": data.get("contact_type") or "customer",
                "status": data.get("status") or "active", "company_name": data.get("company_name", ""),
                "email": primary.get("email", data.get("email", "")),
                "currency_id": currency.id, "currency_code": currency.data["currency_code"]}

    def _items(self, data: dict, old: dict, params: dict) -> dict:
        if not str(data.get("name") or "").strip():
            raise ZohoError(400, 2, "Item name cannot be empty.")
        if data.get("account_id"):
            self._account(data["account_id"])
        if data.get("tax_id"):
            self.store.require("taxes", data["tax_id"], invalid("tax_id"))
        return {**data, "rate": money(data.get("rate"), "rate", ZERO), "status": data.get("status") or "active",
                "product_type": data.get("product_type") or "service", "item_type": "sales"}

    def _invoices(self, data: dict, old: dict, params: dict) -> dict:
        return self._sales_document(data, old, params, "invoice_number", "INV-")

    def _creditnotes(self, data: dict, old: dict, params: dict) -> dict:
        return self._sales_document(data, old, params, "creditnote_number", "CN-")

    def _sales_document(self, data: dict, old: dict, params: dict, number_field: str, prefix: str) -> dict:
        """Lines priced and taxed the way Zoho does it (tax per line, rounded to cents), our number kept when
        ``ignore_auto_number_generation=true``, else the next number of the series."""
        if old.get("status") == "void":
            raise ZohoError(400, REFUSED, f"The {number_field.split('_')[0]} is void and cannot be edited.")
        customer = self._customer(data.get("customer_id"))
        if not old:
            if str(params.get("ignore_auto_number_generation", "")).lower() == "true":
                if not str(data.get(number_field) or "").strip():
                    raise invalid(number_field)
            else:
                data[number_field] = f"{prefix}{next(self._numbers):06d}"
        lines = data.get("line_items")
        if not isinstance(lines, list) or not lines:
            raise invalid("line_items")
        inclusive = bool(data.get("is_inclusive_tax"))
        priced, sub_total = [], ZERO
        for i, line in enumerate(lines):
            item = self.store.get("items", line["item_id"]).data if line.get("item_id") else {}
            rate = money(line.get("rate"), "rate", item.get("rate", ZERO))
            quantity = money(line.get("quantity"), "quantity", Decimal("1"))
            account_id = self._account(line.get("account_id") or item.get("account_id")
                                       or self._named("chartofaccounts", "account_name", "Sales").id).id
            tax_id = line.get("tax_id") or item.get("tax_id")
            tax = self.store.require("taxes", tax_id, invalid("tax_id")) if tax_id else None
            total = (rate * quantity).quantize(CENT)
            sub_total += total
            priced.append({**line, "line_item_id": line.get("line_item_id") or str(next(self._line_ids)),
                           "name": line.get("name") or item.get("name", ""), "rate": rate, "quantity": quantity,
                           "account_id": account_id, "item_total": total, "item_order": line.get("item_order", i + 1),
                           "tax_id": tax.id if tax else "", "tax_name": tax.data["tax_name"] if tax else "",
                           "tax_percentage": tax.data["tax_percentage"] if tax else ZERO})
        discount = money(data.get("discount"), "discount", ZERO)
        before_tax = bool(data.get("is_discount_before_tax", True))
        share = (sub_total - discount) / sub_total if before_tax and sub_total else Decimal(1)
        taxes: dict[str, Decimal] = {}
        for line in priced:
            pct = line["tax_percentage"]
            base = line["item_total"] * share
            amount = (base * pct / (100 + pct) if inclusive else base * pct / 100).quantize(CENT)
            if line["tax_id"]:
                taxes[line["tax_name"]] = taxes.get(line["tax_name"], ZERO) + amount
        tax_total = sum(taxes.values(), ZERO)
        extra = money(data.get("shipping_charge"), "shipping_charge", ZERO) + money(
            data.get("adjustment"), "adjustment", ZERO)
        total = sub_total - discount + (ZERO if inclusive else tax_total) + extra
        rate = self.store.get("currencies", customer.data["currency_id"]).data["exchange_rate"]
        return {**data, "customer_id": customer.id, "customer_name": customer.data["contact_name"],
                "date": data.get("date") or self.today(), "due_date": data.get("due_date") or data.get("date")
                or self.today(), "currency_code": customer.data["currency_code"],
                "currency_id": customer.data["currency_id"],
                "exchange_rate": money(data.get("exchange_rate"), "exchange_rate", rate),
                "line_items": priced, "discount": discount, "is_discount_before_tax": before_tax,
                "is_inclusive_tax": inclusive, "sub_total": sub_total, "tax_total": tax_total,
                "taxes": [{"tax_name": n, "tax_amount": a} for n, a in taxes.items()], "total": total,
                "balance": total, "status": old.get("status", "draft"),
                "reference_number": data.get("reference_number", ""), "_sent": old.get("_sent", False)}

    def _customerpayments(self, data: dict, old: dict, params: dict) -> dict:
        customer = self._customer(data.get("customer_id"))
        amount = money(data.get("amount"), "amount").quantize(CENT)
        if amount <= 0:
            raise invalid("amount")
        account_id = data.get("account_id") or self._named("chartofaccounts", "account_name", "Undeposited Funds").id
        self._account(account_id)
        before = {a["invoice_id"]: a["amount_applied"] for a in old.get("invoices", [])}
        applied, applications = ZERO, []
        for entry in data.get("invoices") or []:
            invoice = self.store.get("invoices", str(entry.get("invoice_id"))).data
            share = money(entry.get("amount_applied"), "amount_applied").quantize(CENT)
            if invoice["customer_id"] != customer.id:
                raise ZohoError(400, 2, "Invoices selected do not belong to this customer.")
            if invoice["status"] == "void" or share > invoice["balance"] + before.get(entry["invoice_id"], ZERO):
                raise ZohoError(400, 2, "The amount applied exceeds the balance due of the invoice "
                                        f"{invoice['invoice_number']}.")
            applied += share
            applications.append({"invoice_id": str(entry["invoice_id"]), "invoice_number": invoice["invoice_number"],
                                 "amount_applied": share, "total": invoice["total"], "date": invoice["date"]})
        if applied > amount:
            raise ZohoError(400, 2, "The amount applied to invoices exceeds the payment amount.")
        number = old.get("payment_number") or str(len(self.store.rows("customerpayments")) + 1)
        return {**data, "payment_number": number, "customer_id": customer.id,
                "customer_name": customer.data["contact_name"], "amount": amount, "unused_amount": amount - applied,
                "date": data.get("date") or self.today(), "payment_mode": data.get("payment_mode") or "cash",
                "account_id": account_id, "account_name": self.store.get("chartofaccounts", account_id).data[
                    "account_name"], "reference_number": data.get("reference_number", ""),
                "description": data.get("description", ""), "currency_code": customer.data["currency_code"],
                "exchange_rate": money(data.get("exchange_rate"), "exchange_rate", Decimal("1")),
                "invoices": applications}

    # -- balances, void, delete, credits ---------------------------------------------------------------------------
    def _applied(self, invoice_id: str) -> tuple[Decimal, Decimal]:
        paid = sum((a["amount_applied"] for r in self.store.rows("customerpayments") for a in r.data["invoices"]
                    if a["invoice_id"] == invoice_id), ZERO)
        return paid, self.store.total("creditnote_invoices", "amount_applied", invoice_id=invoice_id)

    def _used(self, resource: str, record_id: str) -> Decimal:
        """What is already settled against a document: payments and credits on an invoice, credits of a note."""
        if resource == "invoices":
            return sum(self._applied(record_id), ZERO)
        return self.store.total("creditnote_invoices", "amount_applied", creditnote_id=record_id) + self.refunded(
            record_id)

    def _settle(self, invoice_id: str, sent: bool | None = None) -> None:
        """An invoice's balance and status from what is applied to it: paid, partially_paid, sent/overdue, draft."""
        with self.store.lock:
            data = self.store.get("invoices", invoice_id).data
            if data["status"] == "void":
                return
            paid, credited = self._applied(invoice_id)
            balance = data["total"] - paid - credited
            sent = data["_sent"] if sent is None else sent
            if balance == 0 and data["total"] > 0:
                status = "paid"
            elif paid or credited:
                status = "partially_paid"
            elif sent:
                status = "overdue" if data["due_date"] < self.today() else "sent"
            else:
                status = "draft"
            change = {"balance": balance, "payment_made": paid, "credits_applied": credited, "status": status,
                      "_sent": sent}
            if any(data.get(k) != v for k, v in change.items()):
                self.store.update("invoices", invoice_id, change)

    def _settle_note(self, note_id: str) -> None:
        with self.store.lock:
            data = self.store.get("creditnotes", note_id).data
            if data["status"] == "void":
                return
            balance = data["total"] - self._used("creditnotes", note_id)
            status = "closed" if balance == 0 and data["total"] > 0 else "open"
            if data.get("balance") != balance or data.get("status") != status:
                self.store.update("creditnotes", note_id, {"balance": balance, "status": status})

    def void(self, resource: str, record_id: str) -> None:
        """Void keeps the document at zero. Zoho refuses to void one with payments or credits applied (guess: it
        asks for them to be removed first)."""
        with self.store.lock:
            data = self.store.get(resource, record_id).data
            if resource == "invoices" and any(self._applied(record_id)):
                raise ZohoError(400, REFUSED, "Invoices with payments or credits applied cannot be voided. Delete the "
                                           "payments and credits first.")
            if resource == "creditnotes" and data["balance"] != data["total"]:
                raise ZohoError(400, REFUSED, "Credit notes applied to invoices or refunded cannot be voided. Remove "
                                           "the credits applied and the refunds first.")
            self.store.void(resource, record_id, zero=("total", "balance", "sub_total", "tax_total"))

    def delete(self, resource: str, record_id: str) -> None:
        with self.store.lock:
            data = self.store.get(resource, record_id).data
            if resource == "invoices" and any(self._applied(record_id)):
                raise ZohoError(400, REFUSED, "Invoices with payments or credits applied cannot be deleted.")
            if resource == "creditnotes" and any(r.data["creditnote_id"] == record_id
                                                 for r in self.store.rows("creditnote_invoices")):
                raise ZohoError(400, REFUSED, "Credit notes applied to invoices cannot be deleted. Remove the credits "
                                           "applied first.")
            if resource == "creditnotes" and self.refunded(record_id):
                raise ZohoError(400, REFUSED, "Credit notes with refunds cannot be deleted. Delete the refunds first.")
            if resource in ("contacts", "items"):
                field = "customer_id" if resource == "contacts" else "item_id"
                used = any(r.data.get(field) == record_id or any(li.get("item_id") == record_id
                                                                 for li in r.data.get("line_items", []))
                           for kind in ("invoices", "creditnotes", "customerpayments") for r in self.store.rows(kind))
                if used:
                    raise ZohoError(400, REFUSED, f"The {NOUN[resource]} has transactions and cannot be deleted. "
                                               "Mark it as inactive instead.")
            self.store.delete(resource, record_id)
            for entry in data.get("invoices", []) if resource == "customerpayments" else []:
                self._settle(entry["invoice_id"])

    def credits(self, req: Request, note_id: str, application_id: str | None) -> Response:
        """``GET`` / ``POST /creditnotes/{id}/invoices`` and ``DELETE .../invoices/{creditnote_invoice_id}``."""
        with self.store.lock:
            note = self.store.get("creditnotes", note_id).data
            mine = [r for r in self.store.rows("creditnote_invoices") if r.data["creditnote_id"] == note_id]
            if req.method == "GET" and application_id is None:
                return self._ok("", {"invoices_credited": [self._credit_row(r) for r in mine]})
            if req.method == "DELETE" and application_id is not None:
                row = next((r for r in mine if r.id == application_id), None)
                if row is None:
                    raise not_exist("creditnote_invoices")
                self.store.delete("creditnote_invoices", application_id)
                self._settle(row.data["invoice_id"])
                self._settle_note(note_id)
                return self._ok("Credits applied to an invoice have been deleted.", {})
            if req.method != "POST" or application_id is not None:
                raise ZohoError(405, 5, "Invalid URL Passed")
            if note["status"] == "void":
                raise ZohoError(400, REFUSED, "Credits cannot be applied from a void credit note.")
            entries, total = self._body(req).get("invoices") or [], ZERO
            for entry in entries:
                invoice = self.store.get("invoices", str(entry.get("invoice_id"))).data
                share = money(entry.get("amount_applied"), "amount_applied")
                if invoice["customer_id"] != note["customer_id"] or invoice["status"] == "void" \
                        or share <= 0 or share > invoice["balance"]:
                    raise ZohoError(400, 2, f"Invalid amount applied to invoice {invoice['invoice_number']}.")
                total += share
            if not entries or total > note["balance"]:
                raise ZohoError(400, 2, "The amount applied exceeds the available credits of the credit note.")
            for entry in entries:
                invoice = self.store.get("invoices", str(entry["invoice_id"]))
                self.store.create("creditnote_invoices", {
                    "creditnote_id": note_id, "creditnote_number": note["creditnote_number"], "invoice_id": invoice.id,
                    "invoice_number": invoice.data["invoice_number"], "date": self.today(),
                    "amount_applied": money(entry["amount_applied"], "amount_applied").quantize(CENT)})
                self._settle(invoice.id)
            self._settle_note(note_id)
            applied = [{"invoice_id": str(e["invoice_id"]), "amount_applied": money(e["amount_applied"], "x")}
                       for e in entries]
            return self._ok("Credits have been applied to the invoice(s).",
                            {"apply_to_invoices": {"invoices": applied}})

    @staticmethod
    def _credit_row(row: Row) -> dict:
        return {"creditnote_invoice_id": row.id, **row.data, "credited_amount": row.data["amount_applied"]}

    # -- references -------------------------------------------------------------------------------------------------
    def _customer(self, customer_id: Any) -> Row:
        return self.store.require("contacts", customer_id, ZohoError(400, 1002, "Customer does not exist.")
                                  if customer_id else invalid("customer_id"))

    def _account(self, account_id: Any) -> Row:
        row = self.store.require("chartofaccounts", account_id,
                                 ZohoError(400, 1002, f"The account {account_id} does not exist."))
        if not row.data["is_active"]:
            raise ZohoError(400, 2, f"The account {row.data['account_name']} is inactive.")
        return row

    def _named(self, resource: str, field: str, value: str) -> Row:
        return self.store.first(resource, **{field: value})

    # -- what a bookkeeper does in Zoho Books -------------------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: Any, date: str | None = None,
                               payment_mode: str = "cash", reference_number: str = "") -> dict:
        invoice = self.store.get("invoices", invoice_id).data
        row = self.write("customerpayments", None, {
            "customer_id": invoice["customer_id"], "amount": money(amount, "amount"), "date": date or self.today(),
            "payment_mode": payment_mode, "reference_number": reference_number,
            "invoices": [{"invoice_id": invoice_id, "amount_applied": amount}]}, {})
        return self.render(row)

    def edit_invoice_line_as_user(self, invoice_id: str, line: int = 0, amount: Any = None, rate: Any = None,
                                  quantity: Any = None, description: str | None = None) -> dict:
        """``amount`` sets the line's total (rate = amount / quantity)."""
        data = self.store.get("invoices", invoice_id).data
        lines = [dict(li) for li in data["line_items"]]
        target = lines[int(line)]
        if quantity is not None:
            target["quantity"] = money(quantity, "quantity")
        if rate is not None:
            target["rate"] = money(rate, "rate")
        if amount is not None:
            target["rate"] = money(amount, "amount") / target["quantity"]
        if description is not None:
            target["description"] = description
        return self.render(self.write("invoices", invoice_id, {"line_items": lines}, {}))

    def void_invoice_as_user(self, invoice_id: str) -> dict:
        self.void("invoices", invoice_id)
        return self.render(self.store.get("invoices", invoice_id))

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        self.delete("invoices", invoice_id)
        return {"invoice_id": invoice_id, "deleted": True}

    def delete_payment_as_user(self, payment_id: str) -> dict:
        self.delete("customerpayments", payment_id)
        return {"payment_id": payment_id, "deleted": True}

    def archive_account_as_user(self, account_id: str) -> dict:
        """Mark an account inactive: documents that name it are refused from then on."""
        return self.render(self.store.update("chartofaccounts", account_id, {"is_active": False}))


#: Zoho's accounts server answers a bad code or refresh token with ``invalid_code`` (HTTP 200), a wrong client with
#: ``invalid_client``.
_TOKEN_ERRORS = {"invalid_grant": "invalid_code"}
