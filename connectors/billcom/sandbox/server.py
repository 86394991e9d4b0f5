"""A local Bill.com AR API v3 on loopback HTTP, built on the sandbox kit.

Routes under ``/connect/v3``: ``POST /login`` (a session for username, password, organizationId and devKey),
``POST /logout`` (ends the session it is sent with),
``customers`` (create, read, PATCH, list, ``/{id}/archive``), ``invoices`` (create, read, PATCH, list),
``POST /invoices/record-payment``, ``receivable-payments`` (read, list, ``/{id}/void``) and
``classifications/chart-of-accounts`` (list). Per API request: the ``devKey`` header (401, BDC_1102), the
``sessionId`` header (401, BDC_1109; a session lapses after 35 minutes without a call), the per-developer-key hourly
limit and three requests at once per organisation, then the resource. Errors are Bill.com's array of
``{timestamp, code, severity, category, message}``. ``/connect/authorize`` is the sandbox's own stand-in for a
consent page (Bill.com has none): it redirects back at once, so the demo's OAuth-shaped connect step runs. Every
fact and guess is listed with its source in docs/sandbox-billcom.md.
"""
from __future__ import annotations

import base64
import datetime as dt
import hmac
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ...sandboxkit.faults import Fault
from ...sandboxkit.limits import Limiter
from ...sandboxkit.oauth import AuthServer
from ...sandboxkit.platform import PlatformError, PlatformSandbox, Request, Response, decimal_value, json_response
from ...sandboxkit.resources import Duplicate, NotFound, ResourceError, ResourceStore, Row, Unique
from .payables import BillcomPayables
from .seed import DEV_KEY, ORGANIZATION_ID, seed
from .webhooks import BillcomWebhooks

API = "/connect/v3"
SESSION_IDLE = 35 * 60  # seconds without a call after which Bill.com ends a session
LIMITS = {"hour": (20000, 3600.0), "login": (200, 3600.0), "concurrent": (3, 0.0)}
MAX_PAGE = 100
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PAYMENT_TYPES = ("CASH", "CHECK", "CREDIT_CARD", "ACH", "PAYPAL", "OTHER")
#: path -> (store resource, id prefix, noun)
RESOURCES = {"customers": ("customers", "0cu01", "customer"), "invoices": ("invoices", "00e01", "invoice"),
             "receivable-payments": ("receivable-payments", "0rp01", "received payment"),
             "items": ("items", "0ii01", "item"), "credit-memos": ("credit-memos", "0cm01", "credit memo"),
             "classifications/chart-of-accounts": ("chart-of-accounts", "0ca01", "chart of account"),
             "vendors": ("vendors", "00901", "vendor"), "bills": ("bills", "00n01", "bill")}
FILTER = re.compile(r'\s*(\w+):(eq|ne|gt|gte|lt|lte|sw):("(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)')
#: Bill.com's documented codes, and (marked) guesses where its pages name none
CODE_UNKNOWN = "BDC_1002"  # "Unknown error occurred." (documented for a bad parameter or body)
CODE_LOGIN = "BDC_1101"  # documented
CODE_DEV_KEY = "BDC_1102"  # documented
CODE_SESSION = "BDC_1109"  # documented
CODE_NOT_SUPPORTED = "BDC_1121"  # documented
CODE_LIMIT = "BDC_1144"  # documented
CODE_CONCURRENT = "BDC_1322"  # documented
CODE_NOT_FOUND = "BDC_1124"  # guessed
CODE_DUPLICATE = "BDC_1171"  # guessed
CODE_INVALID = "BDC_1000"  # guessed: a field value Bill.com refuses
EDITABLE = ("customers", "items", "invoices", "credit-memos", "vendors", "bills")


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00"


class BillcomError(PlatformError):
    """Bill.com's error answer: an array of one error object."""

    def __init__(self, status: int, code: str, message: str, category: str = "REQUEST",
                 headers: tuple = (), clock: Callable[[], float] = lambda: dt.datetime.now().timestamp()) -> None:
        super().__init__(status, [{"timestamp": iso(clock()), "code": code, "severity": "ERROR",
                                   "category": category, "message": message}], headers)
        self.code, self.message = code, message


def invalid(message: str) -> BillcomError:
    return BillcomError(400, CODE_INVALID, message)


def money(value: Any, field: str) -> Decimal:
    try:
        return decimal_value(value)
    except ValueError:
        raise invalid(f"{field} is invalid") from None


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class BillcomSandbox(BillcomPayables, PlatformSandbox):
    """Bill.com v3 AR (and the AP of expenses: ``payables.py``) with one organisation, its sign-in sessions, limits
    and faults."""

    platform, title, default_port, ready_path = "billcom", "Bill.com", 8777, "/_sandbox/state"
    api_path, token_path, authorize_path = API, f"{API}/login", "/connect/authorize"
    #: What a person does in Bill.com to take back a record we sent: an expense's bill is archived (Bill.com voids
    #: and deletes no bill); refunds and journals are not sent to Bill.com.
    user_takes_back = {"expense": ("archive_bill", "bill_id"), "bill": ("archive_bill", "bill_id")}

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] | None = None,
                 organization_id: str = ORGANIZATION_ID, timeout_seconds: float = 5.0, verbose: bool = False) -> None:
        super().__init__(host, port, clock, timeout_seconds, verbose)
        self.organization_id = organization_id
        # The sign-in user is the demo's client id and secret; sessions are the kit's access tokens.
        self.auth = AuthServer(clock=self.clock, access_ttl=SESSION_IDLE)
        self.logouts = 0
        self.limits = Limiter(self.clock, **LIMITS)
        self.store = ResourceStore(self.clock)
        for resource, prefix, _ in RESOURCES.values():
            rules = {"invoices": (Unique(("invoiceNumber",)),),
                     "credit-memos": (Unique(("referenceNumber",)),)}.get(resource, ())
            self.store.declare(resource, id_start=10001, id_prefix=prefix, unique=rules)
        self.store.declare("sent-payments", id_start=10001, id_prefix="stp01")  # recorded AP payments
        #: Event notifications (``sb.webhooks.configure(url, security_key)``); see docs/sandbox-billcom.md.
        self.webhooks = BillcomWebhooks(organization_id, self.show)
        self.store.subscribe(self.webhooks.record)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.webhooks.reset()

    def on_stop(self) -> None:
        self.webhooks.close()

    @property
    def company_id(self) -> str:
        return self.organization_id

    def seed(self) -> None:
        seed(self.store)

    #: the field rules ``payables.py`` shares with the AR resources
    invalid, money, cents = staticmethod(invalid), staticmethod(money), staticmethod(cents)

    def error(self, status: int, code: str, message: str, category: str = "REQUEST", headers: tuple = ()):
        return BillcomError(status, code, message, category, headers, self.clock)

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            err = self.error(429, CODE_LIMIT, "Max number of API requests per developer key per hour reached.",
                             headers=(("Retry-After", fault.retry_after or "60"),))
            return err.response()
        status = 503 if fault.kind == "http_503" else 500
        return self.error(status, "BDC_1001", "System error occurred.", "SERVER").response()

    def store_error(self, error: ResourceError, request: Request) -> PlatformError:
        noun = next((n for r, _, n in RESOURCES.values() if r == error.resource), error.resource)
        if isinstance(error, Duplicate):
            return self.error(400, CODE_DUPLICATE, f"The {noun} number already exists.")
        if isinstance(error, NotFound):
            return self.error(404, CODE_NOT_FOUND, f"Object not found: {noun} {error.record_id}")
        return self.error(400, CODE_UNKNOWN, error.message)

    # -- routing ---------------------------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        if req.path == self.authorize_path and req.method == "GET":
            return self.auth.authorize(req.params)
        if not req.path.startswith(API + "/"):
            raise self.error(404, CODE_NOT_SUPPORTED, "API not supported.")
        path = req.path[len(API) + 1:].strip("/")
        if path == "login" and req.method == "POST":
            return self.login(req)
        if not hmac.compare_digest(req.header("devKey"), DEV_KEY):
            raise self.error(401, CODE_DEV_KEY, "Developer key is invalid.")
        self.check_session(req.header("sessionId"))
        if path == "logout" and req.method == "POST":
            with self.auth.lock:
                self.auth._access.pop(req.header("sessionId"), None)
                self.logouts += 1
            return json_response(200, {})
        exceeded = self.limits.hit(("hour", DEV_KEY))
        if exceeded:
            raise self.error(429, CODE_LIMIT, "Max number of API requests per developer key per hour reached.")
        with self.limits.concurrent("concurrent", self.organization_id) as busy:
            if busy:
                raise self.error(429, CODE_CONCURRENT, "Max number of concurrent requests per organization reached.")
            return self.api(req, path)

    def login(self, req: Request) -> Response:
        body = req.json_object(self.error(400, CODE_UNKNOWN, "Request body is invalid."))
        if self.limits.hit(("login", DEV_KEY)):
            raise self.error(429, CODE_LIMIT, "Max number of login requests per developer key per hour reached.")
        with self.auth.lock:
            self.auth.token_calls += 1
        if not hmac.compare_digest(str(body.get("devKey") or ""), DEV_KEY):
            raise self.error(401, CODE_DEV_KEY, "Developer key is invalid.")
        user_ok = hmac.compare_digest(str(body.get("username") or ""), self.auth.client_id)
        password_ok = hmac.compare_digest(str(body.get("password") or ""), self.auth.client_secret)
        if not (user_ok and password_ok) or body.get("organizationId") != self.organization_id:
            raise self.error(401, CODE_LOGIN, "User name and/or password do not match our records.")
        session = self.auth.issue()["access_token"]
        return json_response(200, {"sessionId": session, "organizationId": self.organization_id,
                                   "userId": "006SANDBOXUSER01"})

    def check_session(self, session: str) -> None:
        """A live session, its idle timer restarted; else Bill.com's "Session is invalid. Please log in."."""
        if not session or self.auth.check(f"Bearer {session}") is not None:
            raise self.error(401, CODE_SESSION, "Session is invalid.  Please log in.", "DOWNSTREAM")
        with self.auth.lock:
            self.auth._access[session]["expires"] = self.clock() + self.auth.access_ttl  # idle timeout slides

    def api(self, req: Request, path: str) -> Response:
        method = req.method
        if path == "invoices/record-payment" and method == "POST":
            return json_response(200, self.record_payment(self.body(req)))
        if path == "bills/record-payment" and method == "POST":
            return json_response(200, self.record_ap_payment(self.body(req)))
        for prefix, (resource, _, _) in RESOURCES.items():
            if path == prefix:
                if method == "GET":
                    return json_response(200, self.list(resource, req.params))
                if method == "POST" and resource in EDITABLE:
                    return json_response(200, self.create(resource, self.body(req)))
            elif path.startswith(prefix + "/"):
                rest = path[len(prefix) + 1:].split("/")
                rid, action = rest[0], "/".join(rest[1:])
                if method == "GET" and not action:
                    return json_response(200, self.show(resource, self.store.get(resource, rid)))
                if method == "PATCH" and not action and resource in EDITABLE:
                    return json_response(200, self.patch(resource, rid, self.body(req)))
                if method == "POST" and action in ("archive", "restore") and resource in EDITABLE:
                    row = self.store.update(resource, rid, {"archived": action == "archive"})
                    return json_response(200, self.show(resource, row))
                if method == "POST" and action == "void" and resource == "receivable-payments":
                    return json_response(200, self.void_payment(rid))
        raise self.error(404, CODE_NOT_SUPPORTED, "API not supported.")

    def body(self, req: Request) -> dict:
        return req.json_object(self.error(400, CODE_UNKNOWN, "Request body is invalid."))

    # -- records ----------------------------------------------------------------------------------------------------
    def show(self, resource: str, row: Row) -> dict:
        return {"id": row.id, **{k: v for k, v in row.data.items() if not k.startswith("_")},
                "createdTime": iso(row.created), "updatedTime": iso(row.modified)}

    def list(self, resource: str, params: dict) -> dict:
        try:
            size = int(params.get("max", MAX_PAGE))
            start = int(base64.urlsafe_b64decode(params["page"].encode()).decode()) if params.get("page") else 0
        except ValueError:
            raise self.error(400, CODE_UNKNOWN, "Invalid max or page.") from None
        if not 1 <= size <= MAX_PAGE:
            raise self.error(400, CODE_UNKNOWN, f"max must be between 1 and {MAX_PAGE}.")
        rows = [self.show(resource, r) for r in self.store.rows(resource)]
        for field, op, value in self.filters(params.get("filters", "")):
            rows = [r for r in rows if self.matches(r, field, op, value)]
        page = rows[start:start + size]
        more = start + size < len(rows)
        return {"results": page,
                "nextPage": base64.urlsafe_b64encode(str(start + size).encode()).decode() if more else None}

    def filters(self, text: str) -> list[tuple[str, str, Any]]:
        found, pos = [], 0
        while pos < len(text):
            m = FILTER.match(text, pos)
            if not m or m.end() == pos:
                raise self.error(400, CODE_UNKNOWN, f"Invalid filters: {text}")
            raw = m.group(3).strip()
            value: Any = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\") if raw.startswith('"') else raw
            if value in ("true", "false"):
                value = value == "true"
            found.append((m.group(1), m.group(2), value))
            pos = m.end()
        return found

    @staticmethod
    def matches(record: dict, field: str, op: str, value: Any) -> bool:
        have = record.get(field)
        if field == "customerId" and have is None:
            have = (record.get("customer") or {}).get("id")
        if op == "eq":
            return have == value or (have is None and value is False)
        if op == "ne":
            return have != value
        if op == "sw":
            return str(have or "").startswith(str(value))
        if have is None:
            return False
        return {"gt": have > value, "gte": have >= value, "lt": have < value, "lte": have <= value}[op]

    def create(self, resource: str, body: dict) -> dict:
        if resource == "customers":
            return self.show(resource, self.store.create(resource, self.customer_fields(body)))
        if resource == "items":
            return self.show(resource, self.store.create(resource, self.item_fields(body)))
        if resource == "vendors":
            return self.show(resource, self.store.create(resource, self.vendor_fields(body)))
        if resource == "bills":
            return self.show(resource, self.store.create(resource, self.bill_fields(body, ZERO)))
        if resource == "credit-memos":
            with self.store.lock:
                fields = self.credit_fields(body)
                self.apply_credit(fields["invoices"], 1)
                return self.show(resource, self.store.create(resource, fields))
        return self.show(resource, self.store.create(resource, self.invoice_fields(body, ZERO)))

    def patch(self, resource: str, rid: str, body: dict) -> dict:
        current = self.store.get(resource, rid)
        if current.data.get("archived"):
            raise invalid(f"The {RESOURCES[resource][2] if resource in RESOURCES else resource} is archived.")
        if resource == "customers":
            fields = self.customer_fields({**current.data, **body})
        elif resource == "items":
            fields = self.item_fields({**current.data, **body})
        elif resource == "vendors":
            fields = self.vendor_fields({**current.data, **body})
        elif resource == "bills":
            fields = self.bill_fields({**current.data, **body}, current.data["paidAmount"])
        elif resource == "credit-memos":
            with self.store.lock:
                self.apply_credit(current.data["invoices"], -1)
                try:
                    fields = self.credit_fields({**current.data, **body})
                    self.apply_credit(fields["invoices"], 1)
                except PlatformError:
                    self.apply_credit(current.data["invoices"], 1)
                    raise
                return self.show(resource, self.store.update(resource, rid, fields))
        else:
            paid = current.data["totalAmount"] - current.data["dueAmount"]
            fields = self.invoice_fields({**current.data, **body}, paid)
        return self.show(resource, self.store.update(resource, rid, fields))

    def item_fields(self, body: dict) -> dict:
        name = str(body.get("name") or "").strip()
        if not name or len(name) > 100:
            raise invalid("name is required (at most 100 characters).")
        if body.get("type", "SERVICE") not in ("SERVICE", "PRODUCT", "DISCOUNT", "SALES_TAX"):
            raise invalid("type is invalid.")
        return {"name": name, "description": body.get("description"), "type": body.get("type", "SERVICE"),
                "price": money(body.get("price", 0), "price"), "archived": bool(body.get("archived", False))}

    def credit_fields(self, body: dict) -> dict:
        """A credit memo: its lines like an invoice's, and the invoices it is applied to (``invoices``)."""
        customer = self.store.require("customers", body.get("customerId"), invalid("customerId is invalid."))
        number = str(body.get("referenceNumber") or "").strip()
        if not number:
            raise invalid("referenceNumber is required.")
        lines = self.line_items(body.get("creditMemoLineItems"), "creditMemoLineItems")
        total = sum((line["amount"] for line in lines), ZERO)
        applied, used = [], ZERO
        for i, item in enumerate(body.get("invoices") or []):
            invoice = self.store.require("invoices", item.get("id"), invalid(f"invoices[{i}].id is invalid."))
            if invoice.data["customer"]["id"] != customer.id:
                raise invalid("The listed invoices must belong to the same customer.")
            part = cents(money(item.get("amount"), f"invoices[{i}].amount"))
            applied.append({"id": invoice.id, "amount": part})
            used += part
        if used > total:
            raise invalid("The applied amounts are more than the credit memo's total.")
        return {"customerId": customer.id, "referenceNumber": number, "creditDate": body.get("creditDate"),
                "description": body.get("description"), "creditMemoLineItems": lines, "totalAmount": total,
                "appliedAmount": used, "availableAmount": total - used, "invoices": applied,
                "archived": bool(body.get("archived", False))}

    def apply_credit(self, applied: list, sign: int) -> None:
        """Apply (sign 1) or take back (-1) a credit memo's amounts on its invoices."""
        for i, item in enumerate(applied):
            invoice = self.store.find("invoices", item["id"])
            if invoice is None:
                continue
            if sign > 0 and item["amount"] > invoice.data["dueAmount"]:
                raise invalid(f"invoices[{i}].amount is more than the invoice's due amount.")
            self.settle(invoice, -sign * item["amount"])

    def line_items(self, lines: Any, name: str) -> list[dict]:
        if not isinstance(lines, list) or not lines:
            raise invalid(f"{name} is required.")
        stored = []
        for i, line in enumerate(lines):
            quantity = money(line.get("quantity", 1), f"{name}[{i}].quantity")
            price = money(line.get("price"), f"{name}[{i}].price")
            account = (line.get("classifications") or {}).get("chartOfAccountId")
            if account is not None:
                row = self.store.find("chart-of-accounts", str(account))
                if row is None or row.data.get("archived"):
                    raise invalid(f"{name}[{i}].classifications.chartOfAccountId {account} is invalid.")
            item = line.get("itemId")
            if item is not None and self.store.find("items", str(item)) is None:
                raise invalid(f"{name}[{i}].itemId {item} is invalid.")
            stored.append({"id": line.get("id") or f"0il01{i + 1:010d}", "description": line.get("description"),
                           "quantity": quantity, "price": price, "amount": cents(quantity * price),
                           "taxable": bool(line.get("taxable", False)),
                           **({"itemId": str(item)} if item else {}),
                           **({"classifications": {"chartOfAccountId": str(account)}} if account else {})})
        return stored

    def customer_fields(self, body: dict) -> dict:
        name = str(body.get("name") or "").strip()
        if not name:
            raise invalid("name is required.")
        if len(name) > 100:
            raise invalid("name must be at most 100 characters.")
        return {"name": name, "email": body.get("email"), "accountType": body.get("accountType") or "BUSINESS",
                "archived": bool(body.get("archived", False))}

    def invoice_fields(self, body: dict, paid: Decimal) -> dict:
        customer = self.store.require("customers", (body.get("customer") or {}).get("id"),
                                      invalid("customer.id is invalid."))
        if customer.data.get("archived"):
            raise invalid("The customer is archived.")
        number = str(body.get("invoiceNumber") or "").strip()
        if not number or len(number) > 21:
            raise invalid("invoiceNumber is required (at most 21 characters).")
        for field in ("invoiceDate", "dueDate"):
            try:
                dt.date.fromisoformat(str(body.get(field) or ""))
            except ValueError:
                raise invalid(f"{field} is required in the yyyy-MM-dd format.") from None
        stored = self.line_items(body.get("invoiceLineItems"), "invoiceLineItems")
        total = sum((line["amount"] for line in stored), ZERO)
        if total < paid:
            raise invalid("The invoice total cannot be less than the amount already paid.")
        due = total - paid
        status = "PAID_IN_FULL" if due == 0 and total else "PARTIAL_PAYMENT" if paid else "OPEN"
        return {"customer": {"id": customer.id}, "invoiceNumber": number, "invoiceDate": body["invoiceDate"],
                "dueDate": body["dueDate"], "description": body.get("description"), "invoiceLineItems": stored,
                "totalAmount": total, "dueAmount": due, "status": status,
                "archived": bool(body.get("archived", False))}

    # -- payments ---------------------------------------------------------------------------------------------------
    def record_payment(self, body: dict) -> dict:
        customer = self.store.require("customers", body.get("customerId"), invalid("customerId is invalid."))
        if body.get("paymentType") not in PAYMENT_TYPES:
            raise invalid(f"paymentType must be one of {', '.join(PAYMENT_TYPES)}.")
        try:
            dt.date.fromisoformat(str(body.get("paymentDate") or ""))
        except ValueError:
            raise invalid("paymentDate is required in the yyyy-MM-dd format.") from None
        amount = money(body.get("amount"), "amount")
        applied = body.get("invoices")
        if amount <= 0 or not isinstance(applied, list) or not applied:
            raise invalid("amount and invoices are required.")
        with self.store.lock:
            rows, total = [], ZERO
            for i, item in enumerate(applied):
                invoice = self.store.require("invoices", item.get("id"), invalid(f"invoices[{i}].id is invalid."))
                if invoice.data["customer"]["id"] != customer.id:
                    raise invalid("The listed invoices must belong to the same customer.")
                if invoice.data.get("archived"):
                    raise invalid(f"invoices[{i}].id is archived.")
                part = cents(money(item.get("amount"), f"invoices[{i}].amount"))
                if part <= 0 or part > invoice.data["dueAmount"]:
                    raise invalid(f"invoices[{i}].amount is more than the invoice's due amount.")
                rows.append((invoice, part))
                total += part
            if total > amount:
                raise invalid("The invoice amounts are more than the payment amount.")
            for invoice, part in rows:
                self.settle(invoice, -part)
            row = self.store.create("receivable-payments", {
                "customerId": customer.id, "paymentDate": body["paymentDate"], "paymentType": body["paymentType"],
                "amount": cents(amount), "unappliedAmount": cents(amount) - total,
                "description": body.get("description"), "status": "PAID",
                "invoices": [{"id": inv.id, "amount": part} for inv, part in rows]})
        return self.show("receivable-payments", row)

    def settle(self, invoice: Row, change: Decimal) -> None:
        """Lower (negative ``change``) or raise an invoice's due amount, and set its status."""
        data = invoice.data
        due = data["dueAmount"] + change
        status = "PAID_IN_FULL" if due == 0 else "OPEN" if due == data["totalAmount"] else "PARTIAL_PAYMENT"
        self.store.update("invoices", invoice.id, {"dueAmount": due, "status": status})

    def void_payment(self, rid: str) -> dict:
        with self.store.lock:
            row = self.store.get("receivable-payments", rid)
            if row.data["status"] == "VOID":
                raise invalid("The received payment is already void.")
            for item in row.data["invoices"]:
                invoice = self.store.find("invoices", item["id"])
                if invoice is not None:
                    self.settle(invoice, item["amount"])
            row = self.store.update("receivable-payments", rid, {"status": "VOID"}, event="void")
        return self.show("receivable-payments", row)

    # -- what a person does in Bill.com's web app -------------------------------------------------------------------
    def archive_account_as_user(self, account_id: str) -> dict:
        return self.show("chart-of-accounts", self.store.update("chart-of-accounts", account_id, {"archived": True}))

    def record_payment_as_user(self, invoice_id: str, amount: str, reference: str = "",
                               date: str | None = None) -> dict:
        invoice = self.store.get("invoices", invoice_id)
        return self.record_payment({"customerId": invoice.data["customer"]["id"], "paymentType": "CHECK",
                                    "paymentDate": date or dt.date.today().isoformat(), "amount": amount,
                                    "description": reference, "invoices": [{"id": invoice_id, "amount": amount}]})

    def edit_invoice_line_as_user(self, invoice_id: str, line: int, amount: Any = None, quantity: Any = None) -> dict:
        """``amount``: the line's price becomes it divided by its quantity (the web app's line amount);
        ``quantity``: a new quantity at the same price."""
        invoice = self.store.get("invoices", invoice_id)
        lines = [dict(item) for item in invoice.data["invoiceLineItems"]]
        target = lines[int(line)]
        if quantity is not None:
            target["quantity"] = Decimal(str(quantity))
        if amount is not None:
            target["price"] = cents(Decimal(str(amount)) / target["quantity"])
        return self.patch("invoices", invoice_id, {"invoiceLineItems": lines})

    def void_invoice_as_user(self, invoice_id: str) -> dict:
        """Bill.com's web app has no void for an AR invoice: a person zeroes it and archives it."""
        self.patch("invoices", invoice_id, {"invoiceLineItems": [{"description": "Voided", "quantity": 1,
                                                                   "price": ZERO}]})
        return self.archive_invoice_as_user(invoice_id)

    def archive_invoice_as_user(self, invoice_id: str) -> dict:
        return self.show("invoices", self.store.update("invoices", invoice_id, {"archived": True}))

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        return self.archive_invoice_as_user(invoice_id)

    def delete_payment_as_user(self, payment_id: str) -> dict:
        return self.void_payment(payment_id)

    def archive_customer_as_user(self, customer_id: str) -> dict:
        return self.show("customers", self.store.update("customers", customer_id, {"archived": True}))
