"""A local Kashoo API on loopback HTTP, built on the sandbox kit.

Routes under ``/api``: ``POST /authTokens`` (HTTP Basic login email and password; answers the token object
api.kashoo.com shows: ``authenticationCode``, ``expiryDate`` in epoch milliseconds, ``locale``, ``myUserId``,
``restriction``, ``site``) and, under ``/businesses/{businessId}``: the business itself (GET), ``contacts``
(customers and vendors), ``items``, ``records/invoices``, ``records/payments``, ``records/creditNotes``,
``records/bills`` and ``records/billPayments`` (POST, GET one, PUT, DELETE, list with ``startDate`` / ``endDate``
on the record date, ``limit`` and ``offset``) and ``accounts`` (list). A bill is shaped like an invoice (owed to a
contact), a bill payment like a customer payment (applied to bills, paid from ``accountId``).
Every API request needs ``Authorization: TOKEN json:{token}`` (401 otherwise or when the token lapsed). Money is
integer cents everywhere; a float is refused. Errors are ``{"errorCode", "message"}`` (a guess: Kashoo's pages
show none). ``/_connect/authorize`` is the sandbox's stand-in for a consent page (Kashoo has none): it redirects
back at once, so the demo's OAuth-shaped connect step runs. Facts and guesses: docs/sandbox-kashoo.md.
"""
from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ...sandboxkit.faults import Fault
from ...sandboxkit.oauth import AuthServer
from ...sandboxkit.platform import PlatformError, PlatformSandbox, Request, Response, json_response
from ...sandboxkit.resources import Duplicate, NotFound, ResourceError, Row, ResourceStore, Unique
from .seed import BUSINESS_ID, CURRENCIES, CURRENCY, seed

API = "/api"
USER_ID = 1230001  # the sandbox user's id (``myUserId``)
TOKEN_TTL = 12 * 3600  # seconds a token lasts unless ``duration`` asks for less (a guess)
MAX_LIMIT = 100
#: path under the business -> store resource
RESOURCES = {"contacts": "customers", "items": "items", "records/invoices": "invoices",
             "records/payments": "payments",
             "records/creditNotes": "creditNotes",
             "records/bills": "bills", "records/billPayments": "billPayments",
             "accounts": "accounts"}
EDITABLE = ("customers", "items", "invoices", "payments", "creditNotes", "bills", "billPayments")
DATED = ("invoices", "payments", "creditNotes", "bills", "billPayments")
#: money applied to documents: the applying record -> (its list of applications, the id key, the documents)
APPLIED = {"payments": ("invoices", "invoiceId", "invoices"), "creditNotes": ("invoices", "invoiceId", "invoices"),
           "billPayments": ("bills", "billId", "bills")}


class KashooError(PlatformError):
    def __init__(self, status: int, code: str, message: str, headers: tuple = ()) -> None:
        super().__init__(status, {"errorCode": code, "message": message}, headers)


def invalid(message: str) -> KashooError:
    return KashooError(400, "VALIDATION_ERROR", message)


def cents(value: Any, field: str) -> int:
    """An integer amount of cents; anything else (a float, a decimal string, a fraction) is refused."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or Decimal(value) != int(value):
        raise invalid(f"{field} must be a whole number of cents")
    return int(value)


def quantity(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise invalid(f"{field} is not a number") from None


def day(value: Any, field: str) -> str:
    try:
        return dt.date.fromisoformat(str(value or "")).isoformat()
    except ValueError:
        raise invalid(f"{field} must be a date (yyyy-MM-dd)") from None


class KashooSandbox(PlatformSandbox):
    """Kashoo with one business, its sign-in tokens and faults (no rate limit: Kashoo publishes none)."""

    platform, title, default_port, ready_path = "kashoo", "Kashoo", 8775, "/_sandbox/state"
    api_path, token_path, authorize_path = API, f"{API}/authTokens", "/_connect/authorize"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] | None = None,
                 business_id: str = BUSINESS_ID, timeout_seconds: float = 5.0, verbose: bool = False) -> None:
        super().__init__(host, port, clock, timeout_seconds, verbose)
        self.business_id = business_id
        # The login email and password are the kit's client id and secret; tokens are the kit's access tokens.
        self.auth = AuthServer(clock=self.clock, access_ttl=TOKEN_TTL)
        self.store = ResourceStore(self.clock)
        for name in RESOURCES.values():
            unique = (Unique(("number",)),) if name in ("invoices", "creditNotes") else ()
            self.store.declare(name, id_start=20001, unique=unique)
        self.reset()

    @property
    def company_id(self) -> str:
        return self.business_id

    def seed(self) -> None:
        seed(self.store)

    def token_object(self, code: str, expires: float) -> dict:
        """The token object as api.kashoo.com shows it inside the ``TOKEN json:`` header."""
        return {"authenticationCode": code, "expiryDate": int(expires * 1000), "locale": "default",
                "myUserId": USER_ID, "restriction": None, "site": "app.kashoo.net"}

    def issue_tokens(self) -> dict:
        """A token set whose access token is the ``json:{...}`` text a client sends after ``TOKEN``."""
        issued = self.auth.issue()
        text = "json:" + json.dumps(self.token_object(issued["access_token"], self.clock() + TOKEN_TTL),
                                    separators=(",", ":"))
        return {**issued, "access_token": text, "refresh_token": text}

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            return KashooError(429, "TOO_MANY_REQUESTS", "Too many requests",
                               (("Retry-After", fault.retry_after or "60"),)).response()
        status = 503 if fault.kind == "http_503" else 500
        return KashooError(status, "INTERNAL_ERROR", "An internal error occurred").response()

    def store_error(self, error: ResourceError, request: Request) -> PlatformError:
        if isinstance(error, Duplicate):
            return KashooError(409, "DUPLICATE_NUMBER", f"A record numbered {error.message} already exists")
        if isinstance(error, NotFound):
            return KashooError(404, "NOT_FOUND", f"No {error.resource} record {error.record_id}")
        return invalid(error.message)

    # -- routing ---------------------------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        if req.path == self.authorize_path and req.method == "GET":
            return self.auth.authorize(req.params)
        if req.path == self.token_path and req.method == "POST":
            return self.sign_in(req)
        prefix = f"{API}/businesses/"
        if not req.path.startswith(prefix):
            raise KashooError(404, "NO_SUCH_RESOURCE", "No such resource")
        self.check_token(req.header("Authorization"))
        business, _, path = req.path[len(prefix):].partition("/")
        if business != self.business_id:
            raise KashooError(403, "ACCESS_DENIED", "The token gives no access to this business")
        return self.api(req, path.strip("/"))

    def sign_in(self, req: Request) -> Response:
        with self.auth.lock:
            self.auth.token_calls += 1
        scheme, _, encoded = req.header("Authorization").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            user, password = "", ""  # an unreadable header: no login  # nosec B105
        user_ok = hmac.compare_digest(user, self.auth.client_id)
        password_ok = hmac.compare_digest(password, self.auth.client_secret)
        if scheme.lower() != "basic" or not (user_ok and password_ok):
            raise KashooError(401, "INVALID_CREDENTIALS", "Invalid email or password")
        try:
            duration = int(req.params.get("duration", TOKEN_TTL * 1000)) / 1000
        except ValueError:
            raise invalid("duration must be milliseconds") from None
        code = self.auth.issue()["access_token"]
        expires = self.clock() + min(duration, TOKEN_TTL)
        with self.auth.lock:
            self.auth._access[code]["expires"] = expires
        return json_response(200, self.token_object(code, expires))

    def token_problem(self, access_token: str) -> str | None:
        """The ``json:{...}`` token object's ``authenticationCode`` checked as the kit's access token."""
        code = ""
        if access_token.startswith("json:"):
            try:
                code = str(json.loads(access_token[5:]).get("authenticationCode") or "")
            except (ValueError, AttributeError):
                code = ""
        return self.auth.check(f"Bearer {code}") if code else "missing"

    def check_token(self, header: str) -> None:
        scheme, _, text = header.partition(" ")
        why = self.token_problem(text) if scheme.upper() == "TOKEN" else "missing"
        if why is not None:
            raise KashooError(401, "TOKEN_EXPIRED" if why == "expired" else "INVALID_TOKEN",
                              f"Authentication token is {why}")

    def api(self, req: Request, path: str) -> Response:
        method = req.method
        if path == "" and method == "GET":
            return json_response(200, {"id": self.business_id, "name": "Sandbox Clinic", "currency": CURRENCY,
                                       "currencies": list(CURRENCIES)})
        for prefix, resource in RESOURCES.items():
            if path == prefix:
                if method == "GET":
                    return json_response(200, self.list(resource, req.params))
                if method == "POST" and resource in EDITABLE:
                    return json_response(200, self.create(resource, self.body(req)))
            elif path.startswith(prefix + "/") and "/" not in path[len(prefix) + 1:]:
                rid = path[len(prefix) + 1:]
                if method == "GET":
                    return json_response(200, self.show(self.store.get(resource, rid)))
                if method == "PUT" and resource in EDITABLE:
                    return json_response(200, self.replace(resource, rid, self.body(req)))
                if method == "DELETE" and resource in EDITABLE:
                    self.remove(resource, rid)
                    return json_response(204, None)
        raise KashooError(404, "NO_SUCH_RESOURCE", "No such resource")

    def body(self, req: Request) -> dict:
        return req.json_object(invalid("The request body is not a JSON object"))

    # -- records ----------------------------------------------------------------------------------------------------
    def show(self, row: Row) -> dict:
        stamp = lambda t: dt.datetime.fromtimestamp(t, dt.UTC).strftime(  # noqa: E731
            "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return {"id": int(row.id), **row.data, "created": stamp(row.created), "modified": stamp(row.modified)}

    def list(self, resource: str, params: dict) -> list:
        try:
            limit = int(params.get("limit", MAX_LIMIT))
            offset = int(params.get("offset", 0))
        except ValueError:
            raise invalid("limit and offset must be numbers") from None
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            raise invalid(f"limit must be between 1 and {MAX_LIMIT}")
        rows = [self.show(r) for r in self.store.rows(resource)]
        if resource in DATED:
            start = day(params["startDate"], "startDate") if params.get("startDate") else ""
            end = day(params["endDate"], "endDate") if params.get("endDate") else "9999"
            rows = [r for r in rows if start <= r["date"] <= end]
        return rows[offset:offset + limit]

    def create(self, resource: str, body: dict) -> dict:
        with self.store.lock:
            if resource == "customers":
                return self.show(self.store.create(resource, self.customer_fields(body)))
            if resource == "items":
                return self.show(self.store.create(resource, self.item_fields(body)))
            if resource in ("invoices", "bills"):
                return self.show(self.store.create(resource, self.invoice_fields(body, 0)))
            fields = self.applying_fields(resource, body)
            self.apply(resource, fields, -1)
            return self.show(self.store.create(resource, fields))

    def applying_fields(self, resource: str, body: dict) -> dict:
        if resource == "payments":
            return self.payment_fields(body)
        if resource == "billPayments":
            return self.payment_fields(body, "bills")
        return self.credit_fields(body)

    def replace(self, resource: str, rid: str, body: dict) -> dict:
        with self.store.lock:
            current = self.store.get(resource, rid)
            if resource == "customers":
                fields = self.customer_fields(body)
            elif resource == "items":
                fields = self.item_fields(body)
            elif resource in ("invoices", "bills"):
                fields = self.invoice_fields(body, current.data["amount"] - current.data["balanceDue"])
            else:
                self.apply(resource, current.data, 1)
                try:
                    fields = self.applying_fields(resource, body)
                    self.apply(resource, fields, -1)
                except PlatformError:
                    self.apply(resource, current.data, -1)
                    raise
            return self.show(self.store.update(resource, rid, fields, replace=True))

    def remove(self, resource: str, rid: str) -> None:
        with self.store.lock:
            row = self.store.get(resource, rid)
            if resource in ("invoices", "bills") and row.data["balanceDue"] != row.data["amount"]:
                what = "An invoice" if resource == "invoices" else "A bill"
                raise invalid(f"{what} with payments applied cannot be deleted")
            if resource in APPLIED:
                self.apply(resource, row.data, 1)
            self.store.delete(resource, rid)

    def customer_fields(self, body: dict) -> dict:
        name = str(body.get("name") or "").strip()
        if not name or len(name) > 100:
            raise invalid("name is required (at most 100 characters)")
        return {"name": name, "email": body.get("email")}

    def item_fields(self, body: dict) -> dict:
        name = str(body.get("name") or "").strip()
        if not name or len(name) > 100:
            raise invalid("name is required (at most 100 characters)")
        if body.get("type", "SERVICE") not in ("SERVICE", "PRODUCT"):
            raise invalid("type must be SERVICE or PRODUCT")
        return {"name": name, "type": body.get("type", "SERVICE"),
                "unitPrice": cents(body.get("unitPrice", 0), "unitPrice")}

    def contact(self, body: dict) -> Row:
        return self.store.require("customers", body.get("contactId"), invalid("contactId is not a customer"))

    def invoice_fields(self, body: dict, paid: int) -> dict:
        customer = self.contact(body)
        number = str(body.get("number") or "").strip()
        if not number or len(number) > 30:
            raise invalid("number is required (at most 30 characters)")
        currency = str(body.get("currency") or CURRENCY)
        if currency not in CURRENCIES:
            raise invalid(f"currency {currency} is not enabled for this business")
        lines = body.get("lineItems")
        if not isinstance(lines, list) or not lines:
            raise invalid("lineItems is required")
        stored, total = [], 0
        for i, line in enumerate(lines):
            qty = quantity(line.get("quantity", 1), f"lineItems[{i}].quantity")
            price = cents(line.get("unitPrice"), f"lineItems[{i}].unitPrice")
            account = line.get("accountId")
            if account is not None:
                row = self.store.find("accounts", str(account))
                if row is None or row.data.get("archived"):
                    raise invalid(f"lineItems[{i}].accountId {account} is not an account")
            item = line.get("itemId")
            if item is not None and self.store.find("items", str(item)) is None:
                raise invalid(f"lineItems[{i}].itemId {item} is not an item")
            amount = int((qty * price).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
            stored.append({"description": line.get("description"), "quantity": qty, "unitPrice": price,
                           "amount": amount, "taxable": bool(line.get("taxable", False)),
                           **({"itemId": str(item)} if item is not None else {}),
                           **({"accountId": str(account)} if account is not None else {})})
            total += amount
        if total < paid:
            raise invalid("The invoice total cannot be less than the amount already paid")
        return {"contactId": customer.id, "contactName": customer.data["name"], "number": number,
                "date": day(body.get("date"), "date"), "dueDate": day(body.get("dueDate") or body.get("date"),
                                                                       "dueDate"),
                "currency": currency, "memo": body.get("memo"), "lineItems": stored, "amount": total,
                "balanceDue": total - paid}

    def credit_fields(self, body: dict) -> dict:
        """A credit note: lines like an invoice's, applied to invoices (``invoices``); ``balanceDue`` is what is
        left to apply."""
        fields = self.invoice_fields({**body, "dueDate": body.get("date")}, 0)
        fields.pop("dueDate")
        rows = self.applications(body.get("invoices") or [], fields["contactId"])
        used = sum(r["amount"] for r in rows)
        if used > fields["amount"]:
            raise invalid("The applied amounts are more than the credit note's amount")
        return {**fields, "balanceDue": fields["amount"] - used, "invoices": rows}

    def applications(self, applied: list, customer_id: str, to: str = "invoices") -> list[dict]:
        """Amounts applied to invoices (``invoiceId``) or, for a bill payment, to bills (``billId``)."""
        key, what = ("billId", "bill") if to == "bills" else ("invoiceId", "invoice")
        rows = []
        for i, item in enumerate(applied):
            document = self.store.require(to, item.get(key), invalid(f"{to}[{i}].{key} is not a {what}"))
            if document.data["contactId"] != customer_id:
                raise invalid(f"The {to} must belong to the record's contact")
            part = cents(item.get("amount"), f"{to}[{i}].amount")
            if part <= 0 or part > document.data["balanceDue"]:
                raise invalid(f"{to}[{i}].amount is more than the {what}'s balance due")
            rows.append({key: int(document.id), "amount": part})
        return rows

    def payment_fields(self, body: dict, to: str = "invoices") -> dict:
        """A customer payment applied to invoices (``depositAccountId``: where it went) or a bill payment applied
        to bills (``accountId``: what it was paid from)."""
        customer = self.contact(body)
        amount = cents(body.get("amount"), "amount")
        applied = body.get(to) or []
        if amount <= 0:
            raise invalid("amount must be more than zero")
        field = "accountId" if to == "bills" else "depositAccountId"
        account = body.get(field)
        if account is not None and self.store.find("accounts", str(account)) is None:
            raise invalid(f"{field} {account} is not an account")
        rows = self.applications(applied, customer.id, to)
        used = sum(r["amount"] for r in rows)
        if used > amount:
            raise invalid("The applied amounts are more than the payment amount")
        return {"contactId": customer.id, "number": str(body.get("number") or "") or None,
                "date": day(body.get("date"), "date"), "amount": amount, "memo": body.get("memo"),
                field: str(account) if account is not None else None, to: rows}

    def apply(self, resource: str, fields: dict, sign: int) -> None:
        """Raise (sign 1) or lower (-1) the balance due of each invoice or bill ``fields`` applies to."""
        listed, key, documents = APPLIED[resource]
        for item in fields[listed]:
            document = self.store.find(documents, str(item[key]))
            if document is not None:
                self.store.update(documents, document.id,
                                  {"balanceDue": document.data["balanceDue"] + sign * item["amount"]})

    # -- what a person does in Kashoo's web app ---------------------------------------------------------------------
    def archive_account_as_user(self, account_id: str) -> dict:
        return self.show(self.store.update("accounts", account_id, {"archived": True}))

    def record_payment_as_user(self, invoice_id: str, amount: str, reference: str = "",
                               date: str | None = None) -> dict:
        invoice = self.store.get("invoices", invoice_id)
        value = int((Decimal(str(amount)) * 100).quantize(Decimal("1")))
        return self.create("payments", {"contactId": invoice.data["contactId"], "number": reference or None,
                                        "date": date or dt.date.today().isoformat(), "amount": value,
                                        "invoices": [{"invoiceId": invoice_id, "amount": value}]})

    def edit_invoice_line_as_user(self, invoice_id: str, line: int, amount: Any = None, quantity: Any = None) -> dict:
        """``amount`` (in currency units): the line's unit price becomes it divided by its quantity; ``quantity``:
        a new quantity at the same unit price."""
        invoice = self.store.get("invoices", invoice_id)
        lines = [dict(item) for item in invoice.data["lineItems"]]
        target = lines[int(line)]
        if quantity is not None:
            target["quantity"] = Decimal(str(quantity))
        if amount is not None:
            value = Decimal(str(amount)) * 100 / target["quantity"]
            target["unitPrice"] = int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
        return self.replace("invoices", invoice_id, {**invoice.data, "lineItems": lines})

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        self.remove("invoices", invoice_id)
        return {"id": invoice_id, "deleted": True}

    def delete_payment_as_user(self, payment_id: str) -> dict:
        self.remove("payments", payment_id)
        return {"id": payment_id, "deleted": True}

    #: What a person does to take back an expense we sent (a bill and its payment: deletes both) or a supplier bill.
    user_takes_back = {"expense": ("delete_bill", "bill_id"), "bill": ("delete_bill", "bill_id")}

    def edit_bill_line_as_user(self, bill_id: str, line: int, amount: Any) -> dict:
        """A bill line's amount (in currency units) typed over; what was paid stays, so the bill then has an amount
        due (refused when its total would fall below what was paid)."""
        bill = self.store.get("bills", bill_id)
        lines = [dict(item) for item in bill.data["lineItems"]]
        value = Decimal(str(amount)) * 100 / lines[int(line)]["quantity"]
        lines[int(line)]["unitPrice"] = int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
        return self.replace("bills", bill_id, {**bill.data, "lineItems": lines})

    def delete_bill_as_user(self, bill_id: str) -> dict:
        """Deletes the bill's payments first, then the bill (Kashoo refuses a bill with payments applied)."""
        with self.store.lock:
            for row in list(self.store.rows("billPayments")):
                if any(str(b["billId"]) == str(bill_id) for b in row.data["bills"]):
                    self.remove("billPayments", row.id)
            self.remove("bills", bill_id)
        return {"id": bill_id, "deleted": True}
