"""A local FreeAgent API v2 on loopback HTTP, built on the sandbox kit.

Routes: FreeAgent's OAuth (``/v2/approve_app``, ``/v2/token_endpoint``) and the API under ``/v2``: company,
categories, bank_accounts, sales_tax_periods, contacts, invoices and credit_notes (with their ``transitions``),
bank_transaction_explanations (which create the bank transaction they explain) and credit_note_reconciliations.
Per API request: the ``Bearer`` token (401), the per-user limits (120 a minute, 3,600 an hour; 5 a minute with
``X-RateLimit-Test: true``, as FreeAgent's sandbox does; 429 with Retry-After), then the resource. Records are
named by URL, amounts are written as decimal strings, lists page with ``page`` / ``per_page`` (100 at most, 25 by
default) and a ``Link`` header. Every fact and guess is listed with its source in docs/sandbox-freeagent.md.
"""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from ...sandboxkit.faults import Fault
from ...sandboxkit.limits import Limiter
from ...sandboxkit.oauth import AuthServer
from ...sandboxkit.platform import PlatformSandbox, Request, Response, json_response, parse_timestamp
from ...sandboxkit.resources import Duplicate, NotFound, ResourceError, ResourceStore, Row, Unique
from .costs import FreeAgentCosts
from .seed import COMPANY_ID, CURRENCY, company, seed
from .wire import CENT, ZERO, FreeAgentError, last_part, money, paid_resource, unprocessable

API = "/v2"
LIMITS = {"minute": (120, 60.0), "hour": (3600, 3600.0), "test": (5, 60.0)}
DEFAULT_PER_PAGE, MAX_PER_PAGE = 25, 100
#: path -> (object key, unique field or None)
RESOURCES = {
    "contacts": ("contact", None), "price_list_items": ("price_list_item", "code"),
    "invoices": ("invoice", "reference"), "credit_notes": ("credit_note", "reference"),
    "bank_transaction_explanations": ("bank_transaction_explanation", None),
    "credit_note_reconciliations": ("credit_note_reconciliation", None), "categories": ("category", None),
    "bank_accounts": ("bank_account", None), "bank_transactions": ("bank_transaction", None),
    "sales_tax_periods": ("sales_tax_period", None), "journal_sets": ("journal_set", None),
}
WRITABLE = ("contacts", "price_list_items", "invoices", "credit_notes", "bank_transaction_explanations",
            "credit_note_reconciliations", "journal_sets")
LINES = {"invoices": "invoice_items", "credit_notes": "credit_note_items"}
#: FreeAgent's documented invoice item types.
ITEM_TYPES = {"Hours", "Days", "Weeks", "Months", "Years", "Products", "Services", "Training", "Expenses",
              "Comment", "Bills", "Discount", "Credit", "VAT", "-no unit-", "Stock"}
TAX_STATUSES = {"TAXABLE", "EXEMPT", "OUT_OF_SCOPE"}
#: What FreeAgent computes; a client that sends a record back as it read it does not overwrite these.
READ_ONLY = ("url", "created_at", "updated_at", "status", "long_status", "net_value", "sales_tax_value",
             "total_value", "paid_value", "due_value", "due_on", "contact_name", "type", "is_money_in")
SORTS = {"created_at", "updated_at", "name", "dated_on", "code"}


def fa_time(epoch: float) -> str:
    """``2017-05-22T09:00:00.000Z``: FreeAgent's timestamps, in UTC with milliseconds."""
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def wire(value: Any) -> Any:
    """Amounts as FreeAgent writes them: decimal strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


class FreeAgentSandbox(FreeAgentCosts, PlatformSandbox):
    """FreeAgent API v2 with one company, its OAuth server, limits and faults."""

    platform, title, default_port, ready_path = "freeagent", "FreeAgent", 8773, "/_sandbox/state"
    api_path, token_path, authorize_path = API, "/v2/token_endpoint", "/v2/approve_app"
    revoke_path = None  # FreeAgent documents no revocation endpoint: a user revokes an app in its settings
    #: What a person does in FreeAgent to take back a refund, an expense or a journal we sent: each is deleted
    #: (entity -> the ``<action>_as_user`` helper, its id keyword). The connector does not poll these: FreeAgent
    #: lists no deleted records (docs/connectors/freeagent.md).
    user_takes_back = {"refund": ("delete_explanation", "explanation_id"),
                       "expense": ("delete_explanation", "explanation_id"),
                       "journal": ("delete_journal_set", "journal_set_id")}

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] | None = None,
                 access_ttl: int = 3600, timeout_seconds: float = 5.0, verbose: bool = False) -> None:
        super().__init__(host, port, clock, timeout_seconds, verbose)
        self.auth = AuthServer(clock=self.clock, access_ttl=access_ttl, scheme="Bearer")
        self.limits = Limiter(self.clock, **LIMITS)
        self.store = ResourceStore(self.clock)
        for name, (_, unique) in RESOURCES.items():
            self.store.declare(name, id_start=1 if name not in ("categories", "bank_accounts") else 1000,
                               unique=(Unique((unique,)),) if unique else ())
        self.reset()

    # -- kit hooks -------------------------------------------------------------------------------------------------
    @property
    def company_id(self) -> str:
        return COMPANY_ID

    def seed(self) -> None:
        self._item_ids = itertools.count(1)
        seed(self.store)

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            return self._too_many(int(fault.retry_after or 60), 120, 60)
        if fault.kind == "http_503":
            return 503, [("Content-Type", "text/html")], b"<html><body><h1>Service Unavailable</h1></body></html>"
        return FreeAgentError(500, "Internal server error").response()

    def extra_state(self) -> dict:
        return {"company": company(self.base_url)}

    # -- routing ----------------------------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        if (oauth := self.oauth_route(req)) is not None:
            return oauth
        if not req.path.startswith(API + "/"):
            raise FreeAgentError(404, "Resource not found")
        if self.auth.check(req.header("Authorization")) is not None:
            raise FreeAgentError(401, "Access token not recognised")
        test = req.header("X-RateLimit-Test").lower() == "true"
        exceeded = self.limits.hit(("test", "user")) if test else self.limits.hit(("minute", "user"), ("hour", "user"))
        if exceeded is not None:
            return self._too_many(exceeded.retry_after, exceeded.limit, int(exceeded.window))
        parts = [p for p in req.path[len(API) + 1:].split("/") if p]
        return self.dispatch(req, parts)

    def _too_many(self, retry_after: int, limit: int, window: int) -> Response:
        headers = (("Retry-After", str(max(1, retry_after))),)
        return FreeAgentError(429, f"You must not exceed {limit} requests per {window} seconds", headers).response()

    def store_error(self, error: ResourceError, req: Request) -> FreeAgentError:
        if isinstance(error, NotFound):
            return FreeAgentError(404, "Resource not found")
        if isinstance(error, Duplicate):
            field = error.rule.fields[0].capitalize()
            return unprocessable(f"{field} has already been taken")
        return unprocessable(error.message)

    def dispatch(self, req: Request, parts: list[str]) -> Response:
        method, head = req.method, parts[0]
        if head == "company" and method == "GET" and len(parts) == 1:
            return self._ok({"company": company(self.base_url)})
        if parts == ["users", "me"] and method == "GET":
            return self._ok({"user": self.user()})
        if head == "categories" and method == "GET":
            return self.categories(parts[1:])
        if head not in RESOURCES or len(parts) > 4:
            raise FreeAgentError(404, "Resource not found")
        if method == "GET" and len(parts) <= 2:
            return self.read(req, head, parts[1:])
        if head not in WRITABLE:
            raise FreeAgentError(405, "Method not allowed")
        key = RESOURCES[head][0]
        if len(parts) == 1 and method == "POST":
            return self._ok({key: self.render(self.write(head, None, self._body(req, key)))}, 201)
        record_id = parts[1]
        self.store.get(head, record_id)  # 404 first
        if len(parts) == 2 and method == "PUT":
            return self._ok({key: self.render(self.write(head, record_id, self._body(req, key)))})
        if len(parts) == 2 and method == "DELETE":
            self.delete(head, record_id)
            return 200, [], b""
        if len(parts) == 4 and parts[2] == "transitions" and method == "PUT" and head in LINES:
            self.transition(head, record_id, parts[3])
            return 200, [], b""
        raise FreeAgentError(404, "Resource not found")

    @staticmethod
    def _body(req: Request, key: str) -> dict:
        body = req.json_object(FreeAgentError(400, "Invalid JSON in request body"))
        inner = body.get(key)
        if not isinstance(inner, dict):
            raise FreeAgentError(400, f"param is missing or the value is empty: {key}")
        return inner

    @staticmethod
    def _ok(body: dict, status: int = 200) -> Response:
        return json_response(status, wire(body))

    # -- reads ------------------------------------------------------------------------------------------------------
    def url_of(self, resource: str, record_id: str) -> str:
        return f"{self.base_url}{API}/{resource}/{record_id}"

    def render(self, row: Row, nested: bool = True) -> dict:
        """A record as FreeAgent answers it: ``url`` first, its fields, references as URLs, created and updated
        times. Lists leave an invoice's or credit note's items out unless asked (``nested_invoice_items``)."""
        data = {k: v for k, v in row.data.items() if not k.startswith("_")}
        body = {"url": self.url_of(row.resource, row.id), **data}
        if row.resource in LINES and not nested:
            body.pop(LINES[row.resource], None)
        body.update(created_at=fa_time(row.created), updated_at=fa_time(row.modified))
        return body

    def user(self) -> dict:
        """The user the token acts for (FreeAgent's limits are per user): a full-access owner."""
        return {"url": self.url_of("users", "1"), "first_name": "Sandbox", "last_name": "Owner",
                "email": "owner@example.com", "role": "Owner", "permission_level": 8, "opening_mileage": "0.0"}

    def categories(self, rest: list[str]) -> Response:
        if rest:
            row = self.store.get("categories", rest[0])
            return self._ok({"category": self._category(row)})
        grouped: dict[str, list] = {}
        for row in self.store.rows("categories"):
            grouped.setdefault(row.data["_group"], []).append(self._category(row))
        return self._ok(grouped)

    def _category(self, row: Row) -> dict:
        return {"url": self.url_of("categories", row.id),
                **{k: v for k, v in row.data.items() if not k.startswith("_")}}

    def read(self, req: Request, resource: str, rest: list[str]) -> Response:
        key = RESOURCES[resource][0]
        if rest:
            return self._ok({key: self.render(self.store.get(resource, rest[0]))})
        p = req.params
        where = self._filter(resource, p)
        since = None
        if p.get("updated_since"):
            try:
                since = parse_timestamp(p["updated_since"])
            except ValueError:
                raise FreeAgentError(400, "updated_since is not a valid timestamp") from None
        sort = p.get("sort", "")
        column = sort.lstrip("-") or "created"
        if sort and column not in SORTS:
            raise FreeAgentError(400, f"Invalid sort: {sort}")
        column = {"created_at": "created", "updated_at": "modified", "name": "organisation_name"}.get(column, column)
        try:
            page = max(1, int(p.get("page") or 1))
            per_page = min(MAX_PER_PAGE, max(1, int(p.get("per_page") or DEFAULT_PER_PAGE)))
        except ValueError:
            raise FreeAgentError(400, "page and per_page must be numbers") from None
        found = self.store.query(resource, modified_since=since, where=where, sort=column,
                                 descending=sort.startswith("-"), page=page, per_page=per_page)
        nested = str(p.get(f"nested_{LINES.get(resource, '')}", "")).lower() == "true"
        plural = resource if resource != "categories" else "categories"
        headers = self._links(req, page, per_page, found.total)
        return json_response(200, wire({plural: [self.render(r, nested) for r in found.rows]}), headers)

    def _links(self, req: Request, page: int, per_page: int, total: int) -> list:
        last = max(1, -(-total // per_page))
        base = f"{self.base_url}{req.path}"

        def link(n: int) -> str:
            return f"<{base}?{urlencode({**req.params, 'page': n, 'per_page': per_page})}>"
        rels = [(page - 1, "prev")] if page > 1 else []
        rels += [(page + 1, "next")] if page < last else []
        rels += [(1, "first"), (last, "last")]
        return [("Link", ", ".join(f'{link(n)}; rel="{rel}"' for n, rel in rels)), ("X-Total-Count", str(total))]

    def _filter(self, resource: str, p: dict) -> Callable[[Row], bool] | None:
        """``view``, ``contact``, ``bank_account`` and the date filters each list documents."""
        checks: list[Callable[[Row], bool]] = []
        view = p.get("view", "all")
        if resource == "contacts":
            views = {"all": None, "active": "Active", "hidden": "Hidden", "clients": "Active"}
            if view not in views:
                raise FreeAgentError(400, f"Invalid view: {view}")
            if views[view]:
                checks.append(lambda r: r.data.get("status") == views[view])
        if resource in LINES:
            statuses = {"all": None, "draft": {"Draft"}, "open": {"Open"}, "overdue": {"Overdue"},
                        "open_or_overdue": {"Open", "Overdue"}, "paid": {"Paid"}, "refunded": {"Refunded"},
                        "recent_open_or_overdue": {"Open", "Overdue"}}
            if view not in statuses:
                raise FreeAgentError(400, f"Invalid view: {view}")
            if statuses[view]:
                checks.append(lambda r: self._status(r) in statuses[view])
            if p.get("contact"):
                contact = last_part(p["contact"])
                checks.append(lambda r: r.data.get("_contact") == contact)
        if resource == "bank_transactions":
            views = {"all": None, "unexplained": True, "explained": False, "manual": None, "imported": None}
            if view not in views:
                raise FreeAgentError(400, f"Invalid view: {view}")
            if views[view] is not None:
                checks.append(lambda r: (r.data.get("unexplained_amount") != 0) == views[view])
        if resource in ("bank_transaction_explanations", "bank_transactions"):
            if not p.get("bank_account"):
                raise unprocessable("Bank account not found")
            account = last_part(p["bank_account"])
            self.store.require("bank_accounts", account, unprocessable("Bank account not found"))
            checks.append(lambda r: last_part(r.data.get("bank_account")) == account)
        for name, test in (("from_date", lambda d, v: d >= v), ("to_date", lambda d, v: d <= v)):
            if p.get(name) and resource not in ("contacts", "categories", "bank_accounts"):
                value = p[name]
                checks.append(lambda r, v=value, f=test: f(str(r.data.get("dated_on", ""))[:10], v))
        return (lambda r: all(c(r) for c in checks)) if checks else None

    # -- writes -----------------------------------------------------------------------------------------------------
    def write(self, resource: str, record_id: str | None, body: dict) -> Row:
        """Create (``record_id`` None) or update one record under the store lock: an explanation and the invoice it
        pays change together."""
        body = {k: v for k, v in body.items() if k not in READ_ONLY and not k.startswith("_")}
        with self.store.lock:
            old = self.store.get(resource, record_id).data if record_id else {}
            data = getattr(self, f"_{resource}")(body, old, record_id)
            row = self.store.update(resource, record_id, data) if record_id else self.store.create(resource, data)
            self.settle_all()
            return self.store.get(resource, row.id)

    def _contacts(self, body: dict, old: dict, record_id: str | None) -> dict:
        data = {**old, **body}
        if not str(data.get("organisation_name") or "").strip() and not (
                str(data.get("first_name") or "").strip() and str(data.get("last_name") or "").strip()):
            raise unprocessable("Organisation name or first and last name must be present")
        return {"organisation_name": "", "first_name": "", "last_name": "", "email": "", "status": "Active",
                **data, "contact_name_on_invoices": True}

    def _price_list_items(self, body: dict, old: dict, record_id: str | None) -> dict:
        """Code, quantity, item type, description and price are required (FreeAgent's attribute table)."""
        data = {**old, **body}
        for field in ("code", "item_type", "description"):
            if not str(data.get(field) or "").strip():
                raise unprocessable(f"{field.replace('_', ' ').capitalize()} can't be blank")
        if data["item_type"] not in ITEM_TYPES:
            raise unprocessable(f"Item type {data['item_type']} is not included in the list")
        category = last_part(data.get("category")) if data.get("category") else None
        if category is not None and self.store.find("categories", category) is None:
            raise FreeAgentError(400, "Invalid nominal code")
        return {**data, "quantity": money(data.get("quantity"), "quantity"), "price": money(data.get("price"), "price"),
                "sales_tax_rate": money(data.get("sales_tax_rate"), "sales_tax_rate", ZERO),
                "category": self.url_of("categories", category) if category else None}

    def _contact(self, value: Any) -> Row:
        return self.store.require("contacts", last_part(value) if value else None, unprocessable("Contact not found"))

    def _invoices(self, body: dict, old: dict, record_id: str | None) -> dict:
        return self._sales("invoices", body, old, record_id)

    def _credit_notes(self, body: dict, old: dict, record_id: str | None) -> dict:
        return self._sales("credit_notes", body, old, record_id)

    def _sales(self, resource: str, body: dict, old: dict, record_id: str | None) -> dict:
        """Lines priced and taxed per line to the cent; ``reference`` ours or the next of the global sequence,
        unique across invoices and credit notes; items updated in place by ``url``, removed with ``_destroy``."""
        if old.get("_cancelled"):
            raise unprocessable("Cancelled invoices cannot be edited")
        data = {**old, **{k: v for k, v in body.items() if k != LINES[resource]}}
        contact = self._contact(data.get("contact"))
        if not data.get("dated_on"):
            raise unprocessable("Dated on can't be blank")
        if data.get("payment_terms_in_days") in (None, "") and not old:
            raise unprocessable("Payment terms in days can't be blank")
        reference = str(data.get("reference") or "").strip() or self._next_reference()
        for other in ("invoices", "credit_notes"):
            taken = self.store.first(other, reference=reference)
            if taken is not None and (other, taken.id) != (resource, record_id):
                raise unprocessable("Reference has already been taken")
        if old.get("_sent") and body.get(LINES[resource]) is not None:
            self._locked(resource, body[LINES[resource]], old[LINES[resource]])
        items = self._items(resource, body.get(LINES[resource]), old.get(LINES[resource], []))
        if not items:
            raise unprocessable(f"{LINES[resource].replace('_', ' ').capitalize()} can't be blank")
        net = sum((i["_net"] for i in items), ZERO)
        tax = sum((i["_tax"] for i in items), ZERO)
        if resource == "credit_notes" and net + tax > 0:
            raise unprocessable("Credit notes must have a negative total")
        terms = int(data.get("payment_terms_in_days") or 0)
        due_on = (dt.date.fromisoformat(str(data["dated_on"])[:10]) + dt.timedelta(days=terms)).isoformat()
        public = [{k: v for k, v in i.items() if not k.startswith("_")} for i in items]
        return {**data, "contact": self.url_of("contacts", contact.id), "_contact": contact.id,
                "contact_name": contact.data["organisation_name"], "reference": reference,
                "dated_on": str(data["dated_on"])[:10], "payment_terms_in_days": terms, "due_on": due_on,
                "currency": data.get("currency") or CURRENCY,
                "exchange_rate": money(data.get("exchange_rate"), "exchange_rate", Decimal("1.0")),
                "net_value": net, "sales_tax_value": tax, "total_value": net + tax, LINES[resource]: public,
                "_lines": [{k: v for k, v in i.items() if k in ("_net", "_tax")} for i in items],
                "_sent": old.get("_sent", False), "_cancelled": False}

    @staticmethod
    def _locked(resource: str, sent: Any, current: list) -> None:
        """A sent document's items are locked (FreeAgent's forum: "invoice_items.description is locked and cannot
        be changed"; mark it as draft first): only the category may change, and no item be added or removed."""
        by_url = {i["url"]: i for i in current}
        problems = []
        for entry in sent if isinstance(sent, list) else []:
            if not entry.get("url") or entry.get("_destroy") or entry["url"] not in by_url:
                problems.append(f"{LINES[resource]} cannot be added or removed once sent")
                continue
            for field, value in entry.items():
                if field in ("url", "category", "position"):
                    continue
                have = by_url[entry["url"]].get(field)
                numeric = isinstance(have, Decimal)
                if (money(value, field) if numeric else str(value)) != (have if numeric else str(have)):
                    problems.append(f"{LINES[resource]}.{field} is locked and cannot be changed")
        if problems:
            raise FreeAgentError(422, problems[0], more=(*problems[1:], f"{LINES[resource]} contain errors"))

    def _items(self, resource: str, sent: Any, current: list) -> list[dict]:
        if sent is None:
            sent = current  # a PUT without items keeps them
        if not isinstance(sent, list):
            raise FreeAgentError(400, f"{LINES[resource]} must be an array")
        by_url = {i["url"]: dict(i) for i in current}
        kept = [dict(i) for i in current]
        for entry in sent:
            if entry.get("url"):
                if entry["url"] not in by_url:
                    raise unprocessable("Invoice item not found")
                index = next(n for n, i in enumerate(kept) if i["url"] == entry["url"])
                if entry.get("_destroy") in (True, 1, "1", "true"):
                    kept.pop(index)
                else:
                    kept[index] = {**kept[index], **entry}
            else:
                kept.append(dict(entry))
        priced = []
        for position, item in enumerate(kept, start=1):
            item_type = item.get("item_type") or "-no unit-"
            if item_type not in ITEM_TYPES:
                raise unprocessable(f"Item type {item_type} is not included in the list")
            price = money(item.get("price"), "price", ZERO)
            quantity = money(item.get("quantity"), "quantity", Decimal("1"))
            category = last_part(item.get("category") or "001")
            if self.store.find("categories", category) is None:
                raise FreeAgentError(400, "Invalid nominal code")
            status = str(item.get("sales_tax_status") or "TAXABLE").upper()
            if status not in TAX_STATUSES:
                raise unprocessable(f"Sales tax status {status} is not included in the list")
            rate = money(item.get("sales_tax_rate"), "sales_tax_rate", ZERO) if status == "TAXABLE" else ZERO
            net = (price * quantity).quantize(CENT)
            url = item.get("url") or self.url_of(LINES[resource], str(next(self._item_ids)))
            priced.append({"url": url, "position": position, "item_type": item_type, "quantity": quantity,
                           "price": price, "description": str(item.get("description") or ""),
                           "category": self.url_of("categories", category), "sales_tax_rate": rate,
                           "sales_tax_status": status, "_net": net, "_tax": (net * rate / 100).quantize(CENT)})
        return priced

    def _next_reference(self) -> str:
        used = len(self.store.rows("invoices")) + len(self.store.rows("credit_notes"))
        return f"{used + 1:03d}"

    def _bank_transaction_explanations(self, body: dict, old: dict, record_id: str | None) -> dict:
        data = {**old, **body}
        explained = None
        if data.get("bank_transaction") and not old:  # explaining a transaction a feed or statement brought in
            explained = self.store.require("bank_transactions", last_part(data["bank_transaction"]),
                                           unprocessable("Bank transaction not found"))
            data["bank_account"] = explained.data["bank_account"]
        account = self.store.require("bank_accounts", last_part(data.get("bank_account")) or None,
                                     unprocessable("Bank account not found"))
        if not data.get("dated_on"):
            raise unprocessable("Dated on can't be blank")
        gross = money(data.get("gross_value"), "gross_value")
        if gross == 0:
            raise unprocessable("Gross value can't be zero")
        value = self._bank_value(data, account, gross)
        note = None
        if data.get("paid_invoice") and paid_resource(data["paid_invoice"]) == "credit_notes":
            note = self._refunded_note(data, old, value)  # a credit note refund (sandbox/costs.py)
            kind, paid = "Credit Note Refund", None
        elif data.get("paid_invoice"):
            if data.get("sales_tax_rate") not in (None, "", "AUTO") and money(data["sales_tax_rate"], "x") > 0:
                raise unprocessable("sales_tax_rate must be the AUTO rate or a rate less than or equal to 0")
            invoice = self.store.require("invoices", last_part(data["paid_invoice"]),
                                         unprocessable("Invoice not found for this company"))
            if not invoice.data["_sent"] or invoice.data["_cancelled"]:
                raise unprocessable("Invoice must be sent before a payment can be explained against it")
            before = old.get("_value", ZERO) if old.get("_invoice") == invoice.id else ZERO
            if value > self._due("invoices", invoice.id) + before:
                raise unprocessable("Gross value is more than the amount due on the invoice")
            kind, paid = "Invoice Receipt", invoice.id
        else:
            if not str(data.get("description") or "").strip():
                raise unprocessable("Description can't be blank")
            data.update(self._categorised(data, value))  # its category and sales tax (sandbox/costs.py)
            kind, paid = "Payment" if gross < 0 else "Money Received", None
        data.update(_note=note, _value=abs(value),
                    paid_invoice=self.url_of("credit_notes", note) if note else data.get("paid_invoice"))
        if explained is not None:
            left = explained.data["unexplained_amount"]
            if abs(gross) > abs(left) or (gross > 0) != (left > 0):
                raise unprocessable("Gross value is more than the unexplained amount of the bank transaction")
            self.store.update("bank_transactions", explained.id, {"unexplained_amount": left - gross})
            return self._explanation(data, account, explained.id, kind, paid, gross, owned=False)
        transaction = old.get("_transaction")
        change = {"amount": gross, "bank_account": self.url_of("bank_accounts", account.id),
                  "dated_on": str(data["dated_on"])[:10], "description": str(data.get("description") or ""),
                  "unexplained_amount": ZERO, "is_manual": True}
        if old and not old.get("_owned"):
            transaction = None  # an explanation of an imported transaction: the transaction stays as imported
        elif transaction:
            self.store.update("bank_transactions", transaction, change)
        else:
            transaction = self.store.create("bank_transactions", change).id
        return self._explanation(data, account, transaction or old["_transaction"], kind, paid, gross,
                                 owned=bool(old.get("_owned", True)))

    def _explanation(self, data: dict, account: Row, transaction: str, kind: str, paid: str | None,
                     gross: Decimal, owned: bool) -> dict:
        if data.get("_note"):  # a credit note refund keeps its credit note in paid_invoice
            return {**data, "_owned": owned, "bank_account": self.url_of("bank_accounts", account.id),
                    "_bank_account": account.id, "bank_transaction": self.url_of("bank_transactions", transaction),
                    "_transaction": transaction, "type": kind, "dated_on": str(data["dated_on"])[:10],
                    "gross_value": gross, "description": str(data.get("description") or ""), "is_money_in": False,
                    "_invoice": None, "marked_for_review": False}
        return {**data, "_owned": owned, "bank_account": self.url_of("bank_accounts", account.id),
                "_bank_account": account.id,
                "bank_transaction": self.url_of("bank_transactions", transaction), "_transaction": transaction,
                "type": kind, "dated_on": str(data["dated_on"])[:10], "gross_value": gross,
                "description": str(data.get("description") or ""), "is_money_in": gross > 0,
                "paid_invoice": self.url_of("invoices", paid) if paid else None, "_invoice": paid,
                "marked_for_review": False}

    def _credit_note_reconciliations(self, body: dict, old: dict, record_id: str | None) -> dict:
        data = {**old, **body}
        invoice = self.store.require("invoices", last_part(data.get("invoice")) or None,
                                     unprocessable("Invoice not found for this company"))
        note = self.store.require("credit_notes", last_part(data.get("credit_note")) or None,
                                  unprocessable("Credit note not found for this company"))
        gross = money(data.get("gross_value"), "gross_value")
        if invoice.data["_contact"] != note.data["_contact"]:
            raise unprocessable("Credit note and invoice must belong to the same contact")
        if not invoice.data["_sent"] or not note.data["_sent"] or invoice.data["_cancelled"]:
            raise unprocessable("Invoice and credit note must be sent before they can be reconciled")
        before = old.get("gross_value", ZERO)
        if gross <= 0 or gross > self._due("invoices", invoice.id) + before \
                or gross > self._due("credit_notes", note.id) + before:
            raise unprocessable("Gross value is more than the amount left on the invoice or the credit note")
        return {**data, "invoice": self.url_of("invoices", invoice.id), "credit_note": self.url_of("credit_notes",
                                                                                                    note.id),
                "_invoice": invoice.id, "_note": note.id, "gross_value": gross,
                "dated_on": str(data.get("dated_on") or self.today())[:10], "currency": invoice.data["currency"],
                "exchange_rate": invoice.data["exchange_rate"]}

    # -- balances, transitions, delete ------------------------------------------------------------------------------
    def _applied(self, resource: str, record_id: str) -> tuple[Decimal, Decimal]:
        """(paid by explanations, reconciled with credit notes) of an invoice; (0, reconciled) of a credit note."""
        paid = self.store.total("bank_transaction_explanations", "_value",
                                **{"_invoice" if resource == "invoices" else "_note": record_id})
        field = "_invoice" if resource == "invoices" else "_note"
        return paid, self.store.total("credit_note_reconciliations", "gross_value", **{field: record_id})

    def _due(self, resource: str, record_id: str) -> Decimal:
        data = self.store.get(resource, record_id).data
        paid, credited = self._applied(resource, record_id)
        return abs(data["total_value"]) - paid - credited

    def _status(self, row: Row) -> str:
        return row.data.get("status", "Draft")

    def settle_all(self) -> None:
        """Every document's paid, due and status from what is applied to it (only changed ones are written)."""
        with self.store.lock:
            for resource in LINES:
                for row in self.store.rows(resource):
                    self._settle(resource, row)

    def _settle(self, resource: str, row: Row) -> None:
        data = row.data
        paid, credited = self._applied(resource, row.id)
        total = abs(data["total_value"])
        due = total - paid - credited
        if data["_cancelled"]:
            status = "Cancelled"
        elif not data["_sent"]:
            status = "Draft"
        elif total == 0:
            status = "Zero Value"
        elif due == 0:
            status = "Paid" if resource == "invoices" else "Refunded"
        else:
            status = "Overdue" if data["due_on"] < self.today() else "Open"
        sign = Decimal(-1) if resource == "credit_notes" else Decimal(1)
        change = {"paid_value": sign * (paid + credited), "due_value": sign * due, "status": status}
        if resource == "credit_notes":  # refunded or set against invoices
            change = {"refunded_value": sign * (paid + credited), "due_value": sign * due, "status": status}
        if any(data.get(k) != v for k, v in change.items()):
            self.store.update(resource, row.id, change)

    def transition(self, resource: str, record_id: str, name: str) -> None:
        with self.store.lock:
            data = self.store.get(resource, record_id).data
            if name == "mark_as_sent":
                change = {"_sent": True}
            elif name == "mark_as_draft":
                if any(self._applied(resource, record_id)):
                    raise unprocessable("Invoices with payments cannot be marked as draft")
                change = {"_sent": False}
            elif name == "mark_as_cancelled" and resource == "invoices":
                if any(self._applied(resource, record_id)):
                    raise unprocessable("Invoices with payments or credit notes cannot be cancelled")
                change = {"_cancelled": True}
            else:
                raise FreeAgentError(404, "Resource not found")
            if data.get("_cancelled") and name != "mark_as_cancelled":
                raise unprocessable("Cancelled invoices cannot change state")
            self.store.update(resource, record_id, change)
            self.settle_all()

    def delete(self, resource: str, record_id: str) -> None:
        with self.store.lock:
            data = self.store.get(resource, record_id).data
            if resource in LINES and any(self._applied(resource, record_id)):
                raise unprocessable("This document has payments or credit notes reconciled against it and cannot "
                                    "be deleted")
            if resource == "contacts" and any(r.data.get("_contact") == record_id
                                              for kind in LINES for r in self.store.rows(kind)):
                raise unprocessable("This contact has invoices and cannot be deleted")
            self.store.delete(resource, record_id)
            if resource == "bank_transaction_explanations" and data.get("_owned"):
                self.store.delete("bank_transactions", data["_transaction"])
            elif resource == "bank_transaction_explanations":
                row = self.store.get("bank_transactions", data["_transaction"])
                self.store.update("bank_transactions", row.id, {
                    "unexplained_amount": row.data["unexplained_amount"] + data["gross_value"]})
            self.settle_all()

    # -- what a bookkeeper does in FreeAgent ------------------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: Any, date: str | None = None,
                               reference: str = "") -> dict:
        """Explain a bank receipt as paying the invoice (in the primary bank account)."""
        row = self.write("bank_transaction_explanations", None, {
            "bank_account": self.url_of("bank_accounts", "1"), "dated_on": date or self.today(),
            "gross_value": money(amount, "amount"), "paid_invoice": self.url_of("invoices", invoice_id),
            "description": reference})
        return self.render(row)

    def bank_feed_as_user(self, amount: Any, description: str = "Bank feed", date: str | None = None,
                          bank_account_id: str = "1") -> dict:
        """A transaction arrives from the bank feed, unexplained."""
        self.store.require("bank_accounts", bank_account_id, unprocessable("Bank account not found"))
        gross = money(amount, "amount")
        row = self.store.create("bank_transactions", {
            "amount": gross, "bank_account": self.url_of("bank_accounts", bank_account_id),
            "dated_on": date or self.today(), "description": description, "unexplained_amount": gross,
            "is_manual": False})
        return self.render(row)

    def edit_invoice_line_as_user(self, invoice_id: str, line: int = 0, amount: Any = None, price: Any = None,
                                  quantity: Any = None, description: str | None = None) -> dict:
        """``amount`` sets the line's total (price = amount / quantity)."""
        items = self.store.get("invoices", invoice_id).data["invoice_items"]
        target = dict(items[int(line)])
        change: dict = {"url": target["url"]}
        if quantity is not None:
            change["quantity"] = money(quantity, "quantity")
        if price is not None:
            change["price"] = money(price, "price")
        if amount is not None:
            change["price"] = money(amount, "amount") / change.get("quantity", target["quantity"])
        if description is not None:
            change["description"] = description
        sent = self.store.get("invoices", invoice_id).data["_sent"]
        if sent:  # as in FreeAgent's UI: a sent invoice goes back to draft to be edited, then is sent again
            self.transition("invoices", invoice_id, "mark_as_draft")
        self.write("invoices", invoice_id, {"invoice_items": [change]})
        if sent:
            self.transition("invoices", invoice_id, "mark_as_sent")
        return self.render(self.store.get("invoices", invoice_id))

    def void_invoice_as_user(self, invoice_id: str) -> dict:
        self.transition("invoices", invoice_id, "mark_as_cancelled")
        return self.render(self.store.get("invoices", invoice_id))

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        self.delete("invoices", invoice_id)
        return {"url": self.url_of("invoices", invoice_id), "deleted": True}

    def delete_payment_as_user(self, payment_id: str) -> dict:
        self.delete("bank_transaction_explanations", payment_id)
        return {"url": self.url_of("bank_transaction_explanations", payment_id), "deleted": True}

    def delete_explanation_as_user(self, explanation_id: str) -> dict:
        """Delete a bank transaction explanation (a refund of a credit note, or an expense we sent): FreeAgent voids
        none; its manual bank transaction goes with it, and no list shows either afterwards."""
        self.delete("bank_transaction_explanations", explanation_id)
        return {"url": self.url_of("bank_transaction_explanations", explanation_id), "deleted": True}

    def delete_journal_set_as_user(self, journal_set_id: str) -> dict:
        """Delete a journal set (FreeAgent has no reversal of a journal set: a person deletes it)."""
        self.delete("journal_sets", journal_set_id)
        return {"url": self.url_of("journal_sets", journal_set_id), "deleted": True}

    def archive_account_as_user(self, account_id: str) -> dict:
        """Delete a category the company added (FreeAgent lets a user delete its own unused categories)."""
        row = self.store.get("categories", account_id)
        self.store.delete("categories", account_id)
        return self._category(row)
