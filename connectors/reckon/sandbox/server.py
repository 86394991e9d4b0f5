"""A local Reckon One API v2 on loopback HTTP, built on the sandbox kit.

Routes: Reckon's identity server (``/connect/authorize``, ``/connect/token``, ``/connect/revocation``) and the API at
the root, as ``api-v2.reckonone.com`` serves it: ``/books``, then per book ``/{bookId}/customers``, ``items``,
``invoices``, ``creditNotes`` (with ``transactionLinks`` to invoices), ``receipts``, ``ledgeraccounts``,
``taxrates/{effectiveDate}``, ``paymentMethods`` and ``settings/invoice``. Per API request, as Azure API Management
and then Reckon check them: the subscription key (401 from the gateway), the gateway's rate limit (429 with
Retry-After), the Bearer token (401), the book (404), then the resource. Lists take ``page``/``perPage``,
``filter`` and ``orderby``; answers are ``{"list": [...]}``; a create answers 201 ``{"id"}``, an update or delete
204. Amounts are Decimal in and out. Every fact and guess is listed with its source in docs/sandbox-reckon.md.
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
from ...sandboxkit.platform import PlatformError, PlatformSandbox, Request, Response, decimal_value, json_response
from ...sandboxkit.resources import Duplicate, NotFound, ResourceError, ResourceStore, Row, Unique
from .seed import BOOK_ID, BOOK_NAME, COUNTRY, SUBSCRIPTION_KEY, seed

#: Per subscription key, our guess (Reckon publishes none; its API Management policy applies one).
LIMIT = (200, 60.0)
MAX_PER_PAGE = 100  # a guess: Reckon publishes no largest page
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
EMAIL_TYPE = {"id": "a9628717-f060-4565-8e37-21ef430c1410", "name": "Email"}  # the id in Reckon's example
DOCUMENTS = {"invoices": ("invoiceDate", "invoiceNumber", "INV", "invoice"),
             "creditnotes": ("creditNoteDate", "creditNoteNumber", "CAN", "credit note")}
AMOUNT_TAX = ("NonTaxed", "Inclusive", "Exclusive")
DEPOSIT_TYPES = ("CurrentAsset_Bank", "CurrentAsset_Other", "CurrentLiability_CreditCard")
TOKEN_MESSAGE = "The authentication token is missing, expired or invalid."  # the OpenAPI document's words  # nosec B105


class ReckonError(PlatformError):
    """A Reckon API error answer: ``{"code": <status>, "message", "errors": [{"location", "message"}]}``."""

    def __init__(self, status: int, message: str, errors: tuple = (), headers: tuple = ()) -> None:
        body: dict = {"code": status, "message": message}
        if errors:
            body["errors"] = [{"location": loc, "message": msg} for loc, msg in errors]
        super().__init__(status, body, headers)


def invalid(location: str, message: str) -> ReckonError:
    """400 with the field that was wrong (wording ours; the shape is Reckon's ``ErrorResponse``)."""
    return ReckonError(400, "The request contains invalid data.", ((location, message),))


def gateway(status: int, message: str, headers: tuple = ()) -> PlatformError:
    """An answer of Azure API Management itself (Microsoft's documented body shape)."""
    return PlatformError(status, {"statusCode": status, "message": message}, headers)


def stamp(epoch: float) -> str:
    """Reckon's date-times: ``2020-02-06T12:00:00.123Z`` (UTC)."""
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def amount(value: Any, location: str, default: Decimal | None = None) -> Decimal:
    try:
        return decimal_value(value, default)
    except ValueError:
        raise invalid(location, f"The value '{value}' is not a valid number.") from None


def date_time(value: Any, location: str) -> str:
    """A date-time from a body as Reckon stores it (``YYYY-MM-DDTHH:MM:SSZ``); a bare date is midnight."""
    text = str(value or "").strip()
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        raise invalid(location, f"The value '{value}' is not a valid date.") from None
    return f"{day.isoformat()}T00:00:00Z" if len(text) <= 10 else f"{day.isoformat()}T{text[11:19] or '00:00:00'}Z"


# -- filter and orderby (Reckon's help pages: "Filtering", "Sorting") ---------------------------------------------
_TOKEN = re.compile(r"\s*(?:'((?:[^']|'')*)'|\"([^\"]*)\"|(-?\d+(?:\.\d+)?)(?![\w.])|([A-Za-z_][\w.]*))")
_OPS = {"eq", "ne", "gt", "ge", "lt", "le", "contains", "startswith", "endswith"}


def lookup(record: dict, path: str) -> Any:
    """A dotted field of a rendered record, names compared ignoring case (``customer.id``, ``creditnotedate``)."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = next((v for k, v in value.items() if k.lower() == part.lower()), None)
    return value


def parse_filter(text: str) -> Callable[[dict], bool]:
    """``field op value`` conditions joined by ``and`` / ``or`` (``and`` binds tighter), each optionally prefixed
    by ``not``. Strings compare case-sensitively, as Reckon's help says; a date-time field compares by its date
    when the value is a date."""
    tokens, pos = [], 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"cannot read the filter at {text[pos:pos + 20]!r}")
        single, double, number, word = match.groups()
        tokens.append(("str", single.replace("''", "'")) if single is not None else ("str", double)
                      if double is not None else ("num", Decimal(number)) if number is not None else ("word", word))
        pos = match.end()
    groups: list[list[Callable[[dict], bool]]] = [[]]
    i = 0
    while i < len(tokens):
        negate = tokens[i] == ("word", "not")
        i += negate
        if i + 2 >= len(tokens):
            raise ValueError("incomplete condition")
        (kind_f, field), (kind_o, op), value = tokens[i], tokens[i + 1], tokens[i + 2]
        if kind_f != "word" or kind_o != "word" or op.lower() not in _OPS:
            raise ValueError(f"unknown operator {op!r}")
        literal = value[1]
        if value[0] == "word":
            literal = {"true": True, "false": False, "null": None}.get(value[1].lower(), ValueError)
            if literal is ValueError:
                raise ValueError(f"unknown value {value[1]!r}")
        groups[-1].append(_condition(field, op.lower(), literal, negate))
        i += 3
        if i < len(tokens):
            joiner = tokens[i]
            if joiner == ("word", "or"):
                groups.append([])
            elif joiner != ("word", "and"):
                raise ValueError(f"expected and/or, found {joiner[1]!r}")
            i += 1
            if i >= len(tokens):
                raise ValueError("a condition must follow and/or")
    return lambda record: any(all(c(record) for c in group) for group in groups if group)


def _condition(field: str, op: str, literal: Any, negate: bool) -> Callable[[dict], bool]:
    def test(record: dict) -> bool:
        value = lookup(record, field)
        if isinstance(literal, Decimal) and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            left, right = Decimal(value), literal
        elif literal is None or isinstance(literal, bool):
            left, right = value, literal
        else:
            left, right = "" if value is None else str(value), str(literal)
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", right) and re.match(r"\d{4}-\d{2}-\d{2}T", left):
                left = left[:10]
        try:
            result = {"eq": lambda: left == right, "ne": lambda: left != right, "gt": lambda: left > right,
                      "ge": lambda: left >= right, "lt": lambda: left < right, "le": lambda: left <= right,
                      "contains": lambda: str(right) in str(left), "startswith": lambda: str(left).startswith(right),
                      "endswith": lambda: str(left).endswith(right)}[op]()
        except TypeError:
            result = False
        return result != negate
    return test


def _sortable(value: Any) -> tuple:
    """Numbers before text, so a column of mixed values still sorts."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, str(value))


def sort_rows(records: list[dict], orderby: str) -> list[dict]:
    """``field [asc|desc], ...``: a stable sort per key, the last key first."""
    keys = []
    for part in [p.strip() for p in orderby.split(",") if p.strip()]:
        words = part.split()
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ValueError(f"cannot sort by {part!r}")
        keys.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    for field, descending in reversed(keys):
        present = [r for r in records if lookup(r, field) is not None]
        missing = [r for r in records if lookup(r, field) is None]
        present.sort(key=lambda r: _sortable(lookup(r, field)), reverse=descending)
        records = present + missing
    return records


class ReckonSandbox(PlatformSandbox):
    """Reckon One API v2 with one book (``company_id``), Reckon's identity server, the gateway's key and limit."""

    platform, title, default_port, ready_path = "reckon", "Reckon One", 8771, "/_sandbox/state"
    api_path, token_path, authorize_path = "", "/connect/token", "/connect/authorize"
    revoke_path = "/connect/revocation"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] | None = None,
                 book_id: str = BOOK_ID, access_ttl: int = 3600, timeout_seconds: float = 5.0,
                 verbose: bool = False) -> None:
        super().__init__(host, port, clock, timeout_seconds, verbose)
        self.book_id = book_id
        self.subscription_key = SUBSCRIPTION_KEY
        self.approval_enabled = False
        self.auth = AuthServer(clock=self.clock, access_ttl=access_ttl)
        self.limits = Limiter(self.clock, minute=LIMIT)
        self.store = ResourceStore(self.clock)
        for name in ("ledgeraccounts", "taxrates", "paymentmethods", "templates", "invoices", "creditnotes",
                     "receipts", "links"):
            self.store.declare(name, ids="uuid")
        self.store.declare("customers", ids="uuid", unique=(Unique(("name",)),))
        self.store.declare("items", ids="uuid", unique=(Unique(("name",)),))
        self._numbers: dict[str, Any] = {}
        self.reset()

    # -- kit hooks -------------------------------------------------------------------------------------------------
    @property
    def company_id(self) -> str:
        return self.book_id

    def seed(self) -> None:
        self._numbers = {k: itertools.count(1) for k in ("invoices", "creditnotes", "receipts")}
        self.approval_enabled = False
        seed(self.store, stamp(self.clock()))

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            wait = int(fault.retry_after or 60)
            return gateway(429, f"Rate limit is exceeded. Try again in {wait} seconds.",
                           (("Retry-After", str(wait)),)).response()
        if fault.kind == "http_503":
            return gateway(503, "Service Unavailable").response()
        return ReckonError(500, "An unexpected error has occurred.").response()

    def apply_setting(self, name: str, value: Any) -> bool:
        if name == "approval_enabled":
            self.approval_enabled = bool(value)
            return True
        return False

    def extra_state(self) -> dict:
        return {"book_id": self.book_id, "subscription_key": self.subscription_key,
                "approval_enabled": self.approval_enabled}

    def store_error(self, error: ResourceError, req: Request) -> ReckonError:
        """A record that does not exist: 404 for the path's record, 400 naming the field for one a body names;
        a name taken: 400 naming ``name``."""
        if isinstance(error, Duplicate):
            noun = "customer" if error.resource == "customers" else "item"
            return invalid("name", f"A{'n' if noun == 'item' else ''} {noun} with the name "
                                   f"'{error.value[0]}' already exists.")
        if isinstance(error, NotFound):
            return ReckonError(404, f"The specified {error.resource.rstrip('s')} does not exist.")
        return ReckonError(400, error.message)

    # -- routing ----------------------------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        if (oauth := self.oauth_route(req)) is not None:
            return oauth
        key = req.header("Ocp-Apim-Subscription-Key") or req.params.get("subscription-key", "")
        if not key:
            raise gateway(401, "Access denied due to missing subscription key. Make sure to include subscription "
                               "key when making requests to an API.")
        if key != self.subscription_key:
            raise gateway(401, "Access denied due to invalid subscription key. Make sure to provide a valid key "
                               "for an active subscription.")
        exceeded = self.limits.hit(("minute", key))
        if exceeded is not None:
            raise gateway(429, f"Rate limit is exceeded. Try again in {exceeded.retry_after} seconds.",
                          (("Retry-After", str(exceeded.retry_after)),))
        parts = [p for p in req.path.split("/") if p]
        if parts[:1] == ["heartbeat"] and req.method == "GET":
            return json_response(200, {"status": "Healthy"})
        if self.auth.check(req.header("Authorization")) is not None:
            raise ReckonError(401, TOKEN_MESSAGE)
        if parts[:1] == ["books"] and req.method == "GET":
            if len(parts) == 1:
                return json_response(200, {"list": [self.book()]})
            if parts[1] != self.book_id or len(parts) > 2:
                raise ReckonError(404, "The specified book does not exist.")
            return json_response(200, self.book())
        if not parts:
            raise gateway(404, "Resource not found")
        if parts[0] != self.book_id:
            raise ReckonError(404, "The specified book does not exist.")
        return self.dispatch(req, [p.lower() for p in parts[1:2]] + parts[2:])

    def dispatch(self, req: Request, parts: list[str]) -> Response:
        resource, rest, method = (parts[0] if parts else ""), parts[1:], req.method
        if resource in ("ledgeraccounts", "paymentmethods") and method == "GET" and len(rest) <= 1:
            return self.read(req, resource, rest)
        if resource == "taxrates" and method == "GET" and 1 <= len(rest) <= 2:
            date_time(rest[-1], "effectiveDate")
            return self.read(req, resource, rest[:-1])
        if resource == "settings" and rest[:1] in (["invoice"], ["creditnote"]) and method == "GET":
            return json_response(200, self.document_settings(rest[0].lower()))
        if resource == "creditnotes" and len(rest) >= 2 and rest[1].lower() == "transactionlinks":
            return self.links(req, rest[0], rest[2] if len(rest) > 2 else None)
        if resource not in ("customers", "items", "invoices", "creditnotes", "receipts") or len(rest) > 1:
            raise gateway(404, "Resource not found")
        if method == "GET":
            return self.read(req, resource, rest)
        if method == "POST" and not rest:
            row = self.write(resource, None, self._body(req))
            return json_response(201, {"id": row.id})
        if method == "PUT" and rest:
            self.write(resource, rest[0], self._body(req))
            return 204, [], b""
        if method == "PATCH" and rest:
            if (req.environ.get("CONTENT_TYPE") or "").split(";")[0].strip() != "application/merge-patch+json":
                raise ReckonError(415, "The request must use Content-Type `application/merge-patch+json`.")
            self.patch(resource, rest[0], self._body(req))
            return 204, [], b""
        if method == "DELETE" and rest:
            self.delete(resource, rest[0])
            return 204, [], b""
        raise gateway(404, "Resource not found")

    @staticmethod
    def _body(req: Request) -> dict:
        return req.json_object(ReckonError(400, "The request body is not valid JSON."))

    # -- reads ---------------------------------------------------------------------------------------------------------
    def read(self, req: Request, resource: str, rest: list[str]) -> Response:
        if rest:
            return json_response(200, self.render(self.store.get(resource, rest[0])))
        params = {k.lower(): v for k, v in req.params.items()}
        try:
            page = max(1, int(params.get("page") or 1))
            per_page = min(MAX_PER_PAGE, max(1, int(params.get("perpage") or MAX_PER_PAGE)))
        except ValueError:
            raise ReckonError(400, "The request contains invalid data.", (("page", "Page numbers are whole "
                                                                                  "numbers."),)) from None
        records = [self.render(r) for r in self.store.rows(resource)]
        if resource == "taxrates":
            records = [r for r in records if r["status"] == "Active"]
        try:
            if params.get("filter"):
                keep = parse_filter(params["filter"])
                records = [r for r in records if keep(r)]
            if params.get("orderby"):
                records = sort_rows(records, params["orderby"])
        except ValueError as exc:
            name = "filter" if "sort" not in str(exc) else "orderby"
            raise ReckonError(400, f"The {name} is invalid.", ((name, str(exc)),)) from None
        start = (page - 1) * per_page
        return json_response(200, {"list": records[start:start + per_page]})

    def book(self) -> dict:
        return {"id": self.book_id, "name": BOOK_NAME, "status": "Active", "ownership": "Owned", "country": COUNTRY,
                "bookCreated": True, "products": [{"id": "7445ce22-d894-4fe4-88ee-ed96862939ca",
                                                   "name": "InvoicingMedium", "portalProductId": "CICL0UD1M"}]}

    def document_settings(self, kind: str) -> dict:
        template = self._template("invoice" if kind == "invoice" else "creditnote")
        if kind == "invoice":
            return {"approvalEnabled": self.approval_enabled, "prefix": "INV", "serviceDateOnInvoice": False,
                    "nextInvoiceNumber": self.store.counts().get("invoices", 0) + 1,
                    "defaultTemplate": {"id": template.id, "name": template.data["name"]}}
        return {"prefix": "CAN", "defaultTemplate": {"id": template.id, "name": template.data["name"]}}

    def render(self, row: Row) -> dict:
        """A record as Reckon answers it: references as ``{"id", "name"}``, computed balances and links."""
        data = {k: v for k, v in row.data.items() if not k.startswith("_")}
        body: dict = {"id": row.id}
        if row.resource in ("customers", "items", "ledgeraccounts"):
            body.update(data)
            body["lastModifiedDateTime"] = stamp(row.modified)
            if row.resource == "items":
                body["createdDateTime"] = stamp(row.created)
                sale = dict(data.get("sale") or {})
                for name, kind in (("ledgerAccount", "ledgeraccounts"), ("taxRate", "taxrates")):
                    if sale.get(name):
                        sale[name] = self._ref(kind, sale[name])
                body["sale"] = sale
            if row.resource == "customers":
                invoices = [r for r in self.store.rows("invoices") if r.data["customer"] == row.id]
                body.update(balance=sum((self._balance(r) for r in invoices), ZERO), invoiceCount=len(invoices),
                            phoneNumbers=[], addresses=[], contacts=[])
            return body
        if row.resource not in ("invoices", "creditnotes", "receipts"):
            return {**body, **data}
        body.update(data)
        body["customer"] = self._ref("customers", data["customer"])
        receivable = self.store.first("ledgeraccounts", accountType="CurrentAsset_AccountsReceivable")
        body["accountsReceivableLedgerAccount"] = {"id": receivable.id, "name": receivable.data["name"]}
        if row.resource == "receipts":
            body["ledgerAccount"] = self._ref("ledgeraccounts", data["ledgerAccount"])
            body["transactionLinks"] = [{**link, "linkId": f"RCT-{row.id}-{i}", "href":
                                         f"/{self.book_id}/invoices/{link['transactionId']}"}
                                        for i, link in enumerate(data["transactionLinks"])]
            return body
        body["template"] = self._ref("templates", data["template"])
        body["lineItems"] = [self._render_line(line) for line in data["lineItems"]]
        body["balance"] = self._balance(row)
        body["transactionLinks"] = self._links_of(row)
        if row.resource == "invoices":
            body["status"] = self._invoice_status(row)
        elif data["status"] != "Draft":
            body["status"] = "Closed" if body["balance"] == 0 and data["totalAmount"] > 0 else "Approved"
        return body

    def _render_line(self, line: dict) -> dict:
        out = dict(line)
        if "accountDetails" in line:
            out["accountDetails"] = {**line["accountDetails"],
                                     "ledgerAccount": self._ref("ledgeraccounts",
                                                                line["accountDetails"]["ledgerAccount"])}
        if "itemDetails" in line:
            out["itemDetails"] = {**line["itemDetails"], "item": self._ref("items", line["itemDetails"]["item"])}
        if line.get("taxRate"):
            out["taxRate"] = self._ref("taxrates", line["taxRate"])
        return out

    def _ref(self, resource: str, record_id: str) -> dict:
        row = self.store.find(resource, record_id)
        return {"id": record_id, "name": (row.data.get("fullName") or row.data.get("name")) if row else ""}

    # -- balances ---------------------------------------------------------------------------------------------------
    def _allocations(self, invoice_id: str) -> list[tuple[str, str, Decimal, Row]]:
        """(type, link id, amount, source row) of every receipt and credit note allocated to an invoice."""
        found = []
        for receipt in self.store.rows("receipts"):
            for i, link in enumerate(receipt.data["transactionLinks"]):
                if link["transactionId"] == invoice_id:
                    found.append(("Receipt", f"RCT-{receipt.id}-{i}", link["transactionAmount"], receipt))
        for link in self.store.rows("links"):
            if link.data["invoice"] == invoice_id:
                found.append(("CreditNote", link.id, link.data["amount"], self.store.get("creditnotes",
                                                                                         link.data["note"])))
        return found

    def _balance(self, row: Row) -> Decimal:
        if row.resource == "invoices":
            return row.data["totalAmount"] - sum((a[2] for a in self._allocations(row.id)), ZERO)
        used = sum((link.data["amount"] for link in self.store.rows("links") if link.data["note"] == row.id), ZERO)
        return row.data["totalAmount"] - used

    def _invoice_status(self, row: Row) -> str:
        if row.data["status"] == "Draft":
            return "Draft"
        return "Paid" if self._balance(row) == 0 and row.data["totalAmount"] > 0 else "Approved"

    def _links_of(self, row: Row) -> list[dict]:
        if row.resource == "invoices":
            links = []
            for kind, link_id, share, source in self._allocations(row.id):
                number = source.data.get("receiptNumber") or source.data.get("creditNoteNumber")
                date = source.data.get("receiptDate") or source.data.get("creditNoteDate")
                path = "receipts" if kind == "Receipt" else "creditNotes"
                links.append({"linkId": link_id, "transactionType": kind, "transactionId": source.id,
                              "transactionNumber": number, "transactionDate": date,
                              "transactionReference": source.data.get("reference", ""), "transactionAmount": share,
                              "href": f"/{self.book_id}/{path}/{source.id}"})
            return links
        links = []
        for link in self.store.rows("links"):
            if link.data["note"] == row.id:
                invoice = self.store.get("invoices", link.data["invoice"]).data
                links.append({"linkId": link.id, "transactionType": "Invoice", "transactionId": link.data["invoice"],
                              "transactionNumber": invoice["invoiceNumber"], "transactionDate": invoice["invoiceDate"],
                              "transactionReference": invoice.get("reference", ""),
                              "transactionAmount": link.data["amount"],
                              "href": f"/{self.book_id}/invoices/{link.data['invoice']}"})
        return links

    # -- writes -------------------------------------------------------------------------------------------------------
    def write(self, resource: str, record_id: str | None, body: dict) -> Row:
        """Create (``record_id`` None) or replace one record, under the store lock."""
        with self.store.lock:
            old = self.store.get(resource, record_id) if record_id else None
            data = getattr(self, f"_{resource}")(body, old)
            if old is not None and resource in DOCUMENTS:
                allocated = old.data["totalAmount"] - self._balance(old)
                if data["totalAmount"] < allocated:
                    raise invalid("lineItems", f"The {DOCUMENTS[resource][3]} total cannot be less than the amount "
                                               "already allocated to it.")
            return self.store.update(resource, record_id, data, replace=True) if old else \
                self.store.create(resource, data)

    def _customers(self, body: dict, old: Row | None) -> dict:
        name = str(body.get("name") or "").strip()
        if not name:
            raise invalid("name", "The name is required.")
        if len(name) > 100:
            raise invalid("name", "The name must be 100 characters or fewer.")
        status = body.get("status") or (old.data["status"] if old else "Active")
        if status not in ("Active", "Inactive"):
            raise invalid("status", f"The value '{status}' is not a valid status.")
        addresses = []
        for i, entry in enumerate(body.get("electronicAddresses") or []):
            if str(entry.get("type", "")).lower() not in ("email", EMAIL_TYPE["id"]):
                raise invalid(f"electronicAddresses[{i}].type", f"The electronic address type '{entry.get('type')}' "
                                                                 "does not exist.")
            addresses.append({"id": f"{i + 1}", "type": dict(EMAIL_TYPE), "address": str(entry.get("address", ""))})
        return {"name": name, "organisationName": body.get("organisationName") or name, "status": status,
                "notes": str(body.get("notes") or ""), "electronicAddresses": addresses}

    def _items(self, body: dict, old: Row | None) -> dict:
        name = str(body.get("name") or "").strip()
        if not name:
            raise invalid("name", "The name is required.")
        if body.get("amountTaxStatus") not in ("Inclusive", "Exclusive"):
            raise invalid("amountTaxStatus", "The amount tax status must be Inclusive or Exclusive.")
        kind = body.get("itemType") or "Service"
        if kind not in ("Product", "Service"):
            raise invalid("itemType", f"The value '{kind}' is not a valid item type.")
        sale = body.get("sale")
        if sale is not None:
            if not sale.get("ledgerAccount"):
                raise invalid("sale.ledgerAccount", "The ledger account is required.")
            sale = {"price": amount(sale.get("price"), "sale.price", ZERO), "priceAccuracy": 2,
                    "ledgerAccount": self._account(sale["ledgerAccount"], "sale.ledgerAccount").id,
                    "description": str(sale.get("description") or ""),
                    **({"taxRate": self._tax(sale["taxRate"], "sale.taxRate").id} if sale.get("taxRate") else {})}
        return {"name": name, "fullName": name, "itemCode": str(body.get("itemCode") or ""), "itemType": kind,
                "amountTaxStatus": body["amountTaxStatus"],
                "status": body.get("status") or (old.data["status"] if old else "Active"),
                **({"sale": sale} if sale is not None else {})}

    def _invoices(self, body: dict, old: Row | None) -> dict:
        return self._document("invoices", body, old)

    def _creditnotes(self, body: dict, old: Row | None) -> dict:
        return self._document("creditnotes", body, old)

    def _document(self, resource: str, body: dict, old: Row | None) -> dict:
        """An invoice or credit note priced the way Reckon does it: tax per line, rounded to the cent, unless the
        line brings its own ``taxAmount``. Reckon numbers it; an update keeps the number."""
        date_field, number_field, prefix, noun = DOCUMENTS[resource]
        required = ["customer", date_field, "amountTaxStatus"] + (["lineItems", "template"] if old else [])
        for name in required:  # the portal lists lineItems and template as required on an update
            if body.get(name) in (None, "", []):
                raise invalid(name, f"The {name} field is required.")
        customer = self._named("customers", body["customer"], "customer")
        mode = body["amountTaxStatus"]
        if mode not in AMOUNT_TAX:
            raise invalid("amountTaxStatus", f"The value '{mode}' is not a valid amount tax status.")
        lines, net, tax_total = [], ZERO, ZERO
        for i, line in enumerate(body.get("lineItems") or []):
            priced, line_net, line_tax = self._line(line, i, mode)
            lines.append(priced)
            net, tax_total = net + line_net, tax_total + line_tax
        total = net if mode == "Inclusive" else net + tax_total
        template = self._template("invoice" if resource == "invoices" else "creditnote", body.get("template"))
        data = {"customer": customer.id, date_field: date_time(body[date_field], date_field),
                "amountTaxStatus": mode, "reference": str(body.get("reference") or ""),
                "notes": str(body.get("notes") or ""), "template": template.id, "lineItems": lines,
                "totalAmount": total.quantize(CENT), "totalTaxAmount": tax_total.quantize(CENT),
                "emailStatus": "Unsent"}
        if len(data["reference"]) > 200:
            raise invalid("reference", "The reference must be 200 characters or fewer.")
        if resource == "invoices":
            data["dueDate"] = date_time(body.get("dueDate") or body[date_field], "dueDate")
        if old is not None:
            data[number_field], data["status"] = old.data[number_field], old.data["status"]
        else:
            data[number_field] = f"{prefix}{next(self._numbers[resource]):04d}"
            data["status"] = "Draft" if self.approval_enabled else "Approved"
        return data

    def _line(self, line: dict, i: int, mode: str) -> tuple[dict, Decimal, Decimal]:
        where = f"lineItems[{i}]"
        if not isinstance(line, dict) or line.get("lineNumber") in (None, ""):
            raise invalid(f"{where}.lineNumber", "The line number is required.")
        account, item = line.get("accountDetails"), line.get("itemDetails")
        if bool(account) == bool(item):
            raise invalid(where, "Either itemDetails or accountDetails must be provided, but not both.")
        out: dict = {"lineNumber": int(line["lineNumber"]), "lineId": str(uuid.uuid4()),
                     "description": str(line.get("description") or "")}
        if account:
            if not account.get("ledgerAccount"):
                raise invalid(f"{where}.accountDetails.ledgerAccount", "The ledger account is required.")
            ledger = self._account(account["ledgerAccount"], f"{where}.accountDetails.ledgerAccount")
            quantity = amount(account.get("quantity"), f"{where}.accountDetails.quantity", Decimal("1"))
            line_amount = amount(account.get("amount"), f"{where}.accountDetails.amount", ZERO).quantize(CENT)
            out["accountDetails"] = {"ledgerAccount": ledger.id, "quantity": quantity, "amount": line_amount}
        else:
            found = self._named("items", item.get("item"), f"{where}.itemDetails.item")
            quantity = amount(item.get("quantity"), f"{where}.itemDetails.quantity", Decimal("1"))
            price = amount(item.get("price"), f"{where}.itemDetails.price",
                           (found.data.get("sale") or {}).get("price", ZERO))
            line_amount = (price * quantity).quantize(CENT)
            out["itemDetails"] = {"item": found.id, "price": price, "quantity": quantity}
        tax = ZERO
        if line.get("taxRate") and mode != "NonTaxed":
            rate = self._tax(line["taxRate"], f"{where}.taxRate")
            pct = rate.data["rate"]
            computed = (line_amount * pct / (100 + pct) if mode == "Inclusive" else line_amount * pct / 100)
            computed = computed.quantize(CENT, rounding=ROUND_HALF_UP)  # a guess: Reckon does not say
            given = line.get("taxAmount")
            tax = computed if given in (None, "") else amount(given, f"{where}.taxAmount").quantize(CENT)
            out.update(taxRate=rate.id, taxAmount=tax, taxIsModified=tax != computed)
        else:
            out.update(taxAmount=ZERO, taxIsModified=False)
        return out, line_amount, tax

    def _receipts(self, body: dict, old: Row | None) -> dict:
        for name in ("customer", "receiptDate", "totalAmount"):
            if body.get(name) in (None, ""):
                raise invalid(name, f"The {name} field is required.")
        customer = self._named("customers", body["customer"], "customer")
        total = amount(body["totalAmount"], "totalAmount").quantize(CENT)
        if total <= 0:
            raise invalid("totalAmount", "The total amount must be greater than zero.")
        if body.get("ledgerAccount"):
            account = self._account(body["ledgerAccount"], "ledgerAccount")
        else:  # the receipt settings' default bank account
            account = self.store.first("ledgeraccounts", accountType="CurrentAsset_Bank")
        if account.data["accountType"] not in DEPOSIT_TYPES:
            raise invalid("ledgerAccount", f"The ledger account '{account.data['name']}' is not a bank account.")
        before = {link["transactionId"]: link["transactionAmount"] for link in
                  (old.data["transactionLinks"] if old else [])}
        links, allocated = [], ZERO
        for i, link in enumerate(body.get("transactionLinks") or []):
            where = f"transactionLinks[{i}]"
            if link.get("transactionType", "Invoice") != "Invoice":
                raise invalid(f"{where}.transactionType", "A receipt can only be allocated to invoices.")
            invoice = self.store.require("invoices", link.get("transactionId"), invalid(
                f"{where}.transactionId", f"The invoice '{link.get('transactionId')}' does not exist."))
            share = amount(link.get("transactionAmount"), f"{where}.transactionAmount").quantize(CENT)
            if invoice.data["customer"] != customer.id:
                raise invalid(f"{where}.transactionId", "The invoice belongs to another customer.")
            if invoice.data["status"] == "Draft":
                raise invalid(f"{where}.transactionId", "A receipt can only be allocated to approved invoices.")
            if share <= 0 or share > self._balance(invoice) + before.get(invoice.id, ZERO):
                raise invalid(f"{where}.transactionAmount", "The amount allocated exceeds the balance of invoice "
                                                            f"{invoice.data['invoiceNumber']}.")
            allocated += share
            links.append({"transactionType": "Invoice", "transactionId": invoice.id,
                          "transactionNumber": invoice.data["invoiceNumber"],
                          "transactionDate": invoice.data["invoiceDate"], "transactionAmount": share})
        if allocated > total:
            raise invalid("transactionLinks", "The amount allocated exceeds the total amount of the receipt.")
        reference = str(body.get("reference") or "")
        if len(reference) > 200:
            raise invalid("reference", "The reference must be 200 characters or fewer.")
        number = old.data["receiptNumber"] if old else f"RCPT{next(self._numbers['receipts']):04d}"
        return {"receiptNumber": number, "customer": customer.id, "receiptDate": date_time(body["receiptDate"],
                                                                                          "receiptDate"),
                "ledgerAccount": account.id, "allocateFullAmount": allocated == total, "reference": reference,
                "notes": str(body.get("notes") or "")[:255], "totalAmount": total,
                "reconciliationStatus": "Uncleared", "internalNotes": "", "transactionLinks": links,
                "lineItems": []}

    def patch(self, resource: str, record_id: str, body: dict) -> None:
        """Merge patch: header fields only (lines have their own endpoints). An invoice or credit note moves from
        Draft to Approved here, and back while nothing is allocated to it."""
        with self.store.lock:
            row = self.store.get(resource, record_id)
            changes = {}
            if "status" in body:
                status = body["status"]
                allowed = ("Active", "Inactive") if resource in ("customers", "items") else ("Draft", "Approved")
                if resource == "receipts" or status not in allowed:
                    raise invalid("status", f"The value '{status}' is not a valid status.")
                if status == "Draft" and resource in DOCUMENTS and self._balance(row) != row.data["totalAmount"]:
                    raise invalid("status", "A document with allocations cannot return to Draft.")
                changes["status"] = status
            for name in ("name", "notes", "reference", "itemCode"):
                if name in body and name in row.data:
                    changes[name] = str(body[name] or "")
            if changes:
                self.store.update(resource, record_id, changes)

    def delete(self, resource: str, record_id: str) -> None:
        with self.store.lock:
            row = self.store.get(resource, record_id)
            if resource == "invoices" and self._allocations(record_id):
                raise ReckonError(400, "The invoice cannot be deleted because receipts or credit notes are "
                                       "allocated to it.")
            if resource == "creditnotes" and any(link.data["note"] == record_id for link in self.store.rows("links")):
                raise ReckonError(400, "The credit note cannot be deleted because it is allocated to invoices.")
            if resource in ("customers", "items"):
                used = any(r.data.get("customer") == record_id or any(
                    (li.get("itemDetails") or {}).get("item") == record_id for li in r.data.get("lineItems", []))
                    for kind in ("invoices", "creditnotes", "receipts") for r in self.store.rows(kind))
                if used:
                    raise ReckonError(400, f"The {resource.rstrip('s')} cannot be deleted because it is used on "
                                           "transactions. Make it inactive instead.")
            self.store.delete(resource, row.id)

    def links(self, req: Request, note_id: str, link_id: str | None) -> Response:
        """``POST /creditNotes/{id}/transactionLinks``, ``PATCH`` / ``DELETE .../transactionlinks/{linkId}``."""
        with self.store.lock:
            note = self.store.get("creditnotes", note_id)
            mine = {r.id: r for r in self.store.rows("links") if r.data["note"] == note_id}
            if link_id is not None:
                if link_id not in mine:
                    raise ReckonError(404, "The specified transaction link does not exist.")
                if req.method == "DELETE":
                    self.store.delete("links", link_id)
                    return 204, [], b""
                if req.method == "PATCH":
                    share = amount(self._body(req).get("transactionAmount"), "transactionAmount").quantize(CENT)
                    link = mine[link_id]
                    invoice = self.store.get("invoices", link.data["invoice"])
                    spare = min(self._balance(invoice), self._balance(note)) + link.data["amount"]
                    if share <= 0 or share > spare:
                        raise invalid("transactionAmount", "The amount exceeds the balance of the invoice or of the "
                                                           "credit note.")
                    self.store.update("links", link_id, {"amount": share})
                    return 204, [], b""
                raise gateway(404, "Resource not found")
            if req.method != "POST":
                raise gateway(404, "Resource not found")
            body = self._body(req)
            if body.get("transactionType", "Invoice") != "Invoice":
                raise invalid("transactionType", "A credit note can only be allocated to invoices.")
            invoice = self.store.require("invoices", body.get("transactionId"), invalid(
                "transactionId", f"The invoice '{body.get('transactionId')}' does not exist."))
            share = amount(body.get("transactionAmount"), "transactionAmount").quantize(CENT)
            if note.data["status"] == "Draft" or invoice.data["status"] == "Draft":
                raise invalid("transactionId", "Only approved credit notes and invoices can be allocated.")
            if invoice.data["customer"] != note.data["customer"]:
                raise invalid("transactionId", "The invoice belongs to another customer.")
            if share <= 0 or share > self._balance(invoice) or share > self._balance(note):
                raise invalid("transactionAmount", "The amount exceeds the balance of the invoice or of the credit "
                                                   "note.")
            link = self.store.create("links", {"note": note_id, "invoice": invoice.id, "amount": share})
            return json_response(201, {"id": link.id})

    # -- references ----------------------------------------------------------------------------------------------------
    def _named(self, resource: str, value: Any, location: str) -> Row:
        """A record a body names by id or by (full) name, as Reckon's inputs accept."""
        text = str(value or "")
        row = self.store.find(resource, text) if text else None
        row = row or next((r for r in self.store.rows(resource) if text and text in (r.data.get("name"),
                                                                                      r.data.get("fullName"))), None)
        if row is None:
            noun = {"customers": "customer", "items": "item", "ledgeraccounts": "ledger account",
                    "taxrates": "tax rate"}[resource]
            raise invalid(location, f"The {noun} '{text}' does not exist.")
        return row

    def _account(self, value: Any, location: str) -> Row:
        row = self._named("ledgeraccounts", value, location)
        if row.data["status"] != "Active":
            raise invalid(location, f"The ledger account '{row.id}' is inactive.")
        return row

    def _tax(self, value: Any, location: str) -> Row:
        row = self._named("taxrates", value, location)
        if row.data["status"] != "Active" or not row.data["useOnSales"]:
            raise invalid(location, f"The tax rate '{row.id}' cannot be used on sales.")
        return row

    def _template(self, kind: str, value: Any = None) -> Row:
        rows = [r for r in self.store.rows("templates") if r.data["kind"] == kind]
        if value in (None, ""):
            return rows[0]
        row = next((r for r in rows if str(value) in (r.id, r.data["name"])), None)
        if row is None:
            raise invalid("template", f"The template '{value}' does not exist.")
        return row

    # -- what a bookkeeper does in Reckon One --------------------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: Any, date: str | None = None,
                               reference: str = "") -> dict:
        invoice = self.store.get("invoices", invoice_id).data
        row = self.write("receipts", None, {
            "customer": invoice["customer"], "receiptDate": date or invoice["invoiceDate"], "totalAmount": amount,
            "reference": reference, "transactionLinks": [{"transactionId": invoice_id, "transactionType": "Invoice",
                                                          "transactionAmount": amount}]})
        return self.render(row)

    def edit_invoice_line_as_user(self, invoice_id: str, line: int = 0, amount: Any = None, quantity: Any = None,
                                  description: str | None = None) -> dict:
        """``amount`` sets the line's amount excluding tax (its tax is computed again)."""
        with self.store.lock:
            row = self.store.get("invoices", invoice_id)
            data = row.data
            body = {"customer": data["customer"], "invoiceDate": data["invoiceDate"], "dueDate": data["dueDate"],
                    "amountTaxStatus": data["amountTaxStatus"], "reference": data["reference"],
                    "notes": data["notes"], "template": data["template"], "lineItems": []}
            for i, item in enumerate(data["lineItems"]):
                copy = {k: v for k, v in item.items() if k not in ("lineId", "taxIsModified")}
                if i == int(line):
                    details = copy.get("accountDetails") or {}
                    if quantity is not None and amount is None:  # a new quantity at the line's rate
                        before = Decimal(str(details.get("quantity") or 1))
                        rate = Decimal(str(details["amount"])) / before
                        details["amount"] = (rate * Decimal(str(quantity))).quantize(CENT, ROUND_HALF_UP)
                        copy.pop("taxAmount", None)
                    if quantity is not None:
                        details["quantity"] = quantity
                    if amount is not None:
                        details["amount"] = amount
                        copy.pop("taxAmount", None)
                    if description is not None:
                        copy["description"] = description
                body["lineItems"].append(copy)
            return self.render(self.write("invoices", invoice_id, body))

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        self.delete("invoices", invoice_id)
        return {"id": invoice_id, "deleted": True}

    def delete_payment_as_user(self, payment_id: str) -> dict:
        self.delete("receipts", payment_id)
        return {"id": payment_id, "deleted": True}

    def archive_account_as_user(self, account_id: str) -> dict:
        """Make a ledger account inactive: documents that name it are refused from then on."""
        return self.render(self.store.update("ledgeraccounts", account_id, {"status": "Inactive"}))
