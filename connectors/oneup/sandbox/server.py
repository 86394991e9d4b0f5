"""A local OneUp API v1 on loopback HTTP, built on the sandbox kit.

Routes under ``/v1`` (documented shape: a collection URI lists with GET, creates with POST and deletes several
elements with DELETE and a JSON array of ``{"id"}``; an element URI reads with GET, updates with PUT, where a
missing field is left as it is, and deletes with DELETE): ``customers``, ``items``, ``invoices`` and ``payments``
(GUESS: the name of the payments resource), ``credit_notes`` (GUESS), and the read-only ``accounts``,
``currencies`` and ``employees``.
Lists are JSON arrays paged by ``offset`` and ``limit`` (at most 1000: GUESS) and ordered by ``sort`` (a field,
``-`` for descending; ``created_at`` seen in public scripts, any field here); ``X-OneUp-Has-Next-Page`` says
whether more follow (GUESS after myERP's ``X-MyERP-Has-Next-Page``). Every request needs HTTP Basic with the API
email and API key (the kit's sandbox client id and secret). Money is a JSON number in currency units; request
bodies are validated against connectors/oneup/spec/oneup-api.schema.json when ``jsonschema`` is installed. Errors
are ``{"error": {"code", "message"}}``. ``/_connect/authorize`` is the sandbox's stand-in for a consent page (OneUp
has none): it redirects back at once, so the demo's connect step runs. Facts and guesses: docs/sandbox-oneup.md.
"""
from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from ...sandboxkit.faults import Fault
from ...sandboxkit.oauth import AuthServer
from ...sandboxkit.platform import PlatformError, PlatformSandbox, Request, Response, json_response
from ...sandboxkit.resources import Duplicate, NotFound, ResourceError, ResourceStore, Row, Unique
from .. import errors as codes
from .seed import seed

API = "/v1"
SPEC = Path(__file__).resolve().parents[1] / "spec" / "oneup-api.schema.json"
MAX_LIMIT = 1000  # GUESS
CENT = Decimal("0.01")
EDITABLE = ("customers", "items", "invoices", "payments", "credit_notes")
READ_ONLY = ("accounts", "currencies", "employees")
REQUEST_SCHEMA = {"customers": "customerRequest", "items": "itemRequest", "invoices": "invoiceRequest",
                  "payments": "paymentRequest", "credit_notes": "creditNoteRequest"}
#: invoice_status by what is paid (GUESS: the values are ours)
UNPAID, PARTIAL, PAID = "unpaid", "partially_paid", "paid"


class OneUpError(PlatformError):
    def __init__(self, status: int, code: str, message: str, headers: tuple = ()) -> None:
        super().__init__(status, {"error": {"code": code, "message": message}}, headers)


def invalid(message: str) -> OneUpError:
    return OneUpError(400, codes.VALIDATION, message)


def cents(value: Any) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Any, field: str) -> Decimal:
    """A JSON number with at most two decimals (anything else is refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise invalid(f"{field} must be a number")
    value = Decimal(value)
    if value != value.quantize(CENT):
        raise invalid(f"{field} has more than two decimals")
    return value.quantize(CENT)


def number(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise invalid(f"{field} must be a number")
    return Decimal(value)


def day(value: Any, field: str) -> str:
    try:
        return dt.date.fromisoformat(str(value or "")).isoformat()
    except ValueError:
        raise invalid(f"{field} must be a date (YYYY-MM-DD)") from None


def stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class OneUpSandbox(PlatformSandbox):
    """OneUp with one domain, its API email and key, and faults (no rate limit: the values are not known)."""

    platform, title, default_port, ready_path = "oneup", "OneUp", 8776, "/_sandbox/state"
    api_path, token_path, authorize_path = API, "/_connect/token", "/_connect/authorize"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] | None = None,
                 timeout_seconds: float = 5.0, verbose: bool = False) -> None:
        super().__init__(host, port, clock, timeout_seconds, verbose)
        # The API email and API key are the kit's client id and secret; a "token" is base64(email:key).
        self.auth = AuthServer(clock=self.clock)
        self.store = ResourceStore(self.clock)
        for name in (*EDITABLE, *READ_ONLY):
            unique = (Unique(("user_code",)),) if name in ("customers", "invoices", "credit_notes") else ()
            self.store.declare(name, id_start=1001, unique=unique)
        self.schema = json.loads(SPEC.read_text())
        self.reset()

    @property
    def company_id(self) -> str:
        """OneUp has no company id in its URLs: the API email names the domain."""
        return self.auth.client_id

    def seed(self) -> None:
        seed(self.store, self.auth.client_id)

    def basic(self) -> str:
        return base64.b64encode(f"{self.auth.client_id}:{self.auth.client_secret}".encode()).decode()

    def issue_tokens(self) -> dict:
        """What a connection stores after connecting: the Basic credentials text (it does not expire)."""
        text = self.basic()
        return {"access_token": text, "refresh_token": text, "token_type": "Basic", "expires_in": 30 * 86400}  # nosec B105 - the scheme name

    def token_problem(self, access_token: str) -> str | None:
        try:
            user, _, key = base64.b64decode(access_token, validate=True).decode().partition(":")
        except ValueError:
            return "invalid"
        ok = hmac.compare_digest(user, self.auth.client_id) & hmac.compare_digest(key, self.auth.client_secret)
        return None if ok else "invalid"

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            return OneUpError(429, codes.RATE_LIMITED, "Too many requests",
                              (("Retry-After", fault.retry_after or "60"),)).response()
        status = 503 if fault.kind == "http_503" else 500
        return OneUpError(status, codes.INTERNAL, "An internal error occurred").response()

    def store_error(self, error: ResourceError, request: Request) -> PlatformError:
        if isinstance(error, Duplicate):
            return OneUpError(400, codes.DUPLICATE, f"The number {error.value[0]} already exists")
        if isinstance(error, NotFound):
            return OneUpError(404, codes.NOT_FOUND, "The resource was not found.")
        return invalid(error.message)

    # -- routing ---------------------------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        if req.path == self.authorize_path and req.method == "GET":
            return self.auth.authorize(req.params)
        if not req.path.startswith(API + "/"):
            raise OneUpError(404, codes.NO_SUCH_PATH, "The requested URL does not exist.")
        self.check_credentials(req.header("Authorization"))
        parts = req.path[len(API) + 1:].strip("/").split("/")
        resource = parts[0]
        if resource not in (*EDITABLE, *READ_ONLY) or len(parts) > 2:
            raise OneUpError(404, codes.NO_SUCH_PATH, "The requested URL does not exist.")
        if resource == "employees" and req.method == "GET" and len(parts) == 1:
            with self.auth.lock:  # the connector checks the API email and key here: counted as a token call
                self.auth.token_calls += 1
        if len(parts) == 1:
            if req.method == "GET":
                return self.list(resource, req.params)
            if req.method == "POST" and resource in EDITABLE:
                return json_response(200, self.create(resource, self.body(req, REQUEST_SCHEMA[resource])))
            if req.method == "DELETE" and resource in EDITABLE:
                return json_response(200, self.bulk_delete(resource, self.body(req, "bulkDelete", kind=list)))
        else:
            rid = parts[1]
            if req.method == "GET":
                return json_response(200, self.show(self.store.get(resource, rid)))
            if req.method == "PUT" and resource in EDITABLE:
                return json_response(200, self.edit(resource, rid, self.body(req, REQUEST_SCHEMA[resource],
                                                                              partial=True)))
            if req.method == "DELETE" and resource in EDITABLE:
                self.remove(resource, rid)
                return json_response(200, {"id": int(rid)})
        raise OneUpError(405, codes.NO_SUCH_PATH, f"{req.method} is not allowed here.")

    def check_credentials(self, header: str) -> None:
        scheme, _, text = header.partition(" ")
        if scheme.lower() != "basic" or self.token_problem(text.strip()) is not None:
            raise OneUpError(401, codes.AUTH, "Invalid API email or API key.")

    def body(self, req: Request, schema: str, partial: bool = False, kind: type = dict) -> Any:
        try:
            body = req.json()
        except ValueError:
            body = None
        if not isinstance(body, kind):
            raise invalid(f"The request body is not a JSON {'array' if kind is list else 'object'}.")
        self.validate(schema, body, partial)
        return body

    def validate(self, name: str, body: Any, partial: bool = False) -> None:
        """Against our schema of OneUp's bodies (see spec/README.md); a partial update needs no required field."""
        try:
            import jsonschema
        except ImportError:  # a host without the sandbox extra: the sandbox's own rules below still apply
            return
        definition = dict(self.schema["$defs"][name])
        if partial:
            definition.pop("required", None)
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator({**self.schema, **definition}).iter_errors(body))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "body"
            raise invalid(f"{where}: {error.message}")

    # -- records ----------------------------------------------------------------------------------------------------
    def show(self, row: Row) -> dict:
        data = {k: v for k, v in row.data.items() if not k.startswith("_")}
        shown = {"id": int(row.id), **data, "created_at": stamp(row.created), "updated_at": stamp(row.modified)}
        if row.resource in ("invoices", "credit_notes"):
            customer = self.store.find("customers", str(row.data["customer_id"]))
            shown["customer"] = {"id": row.data["customer_id"],
                                 "name": customer.data["full_name"] if customer else ""}
        if row.resource == "invoices":
            shown["installments"] = [{"due_date": row.data["due_date"], "amount": row.data["total"],
                                      "outstanding_amount": row.data["unpaid"], "created_at": shown["created_at"],
                                      "updated_at": shown["updated_at"]}]
        return shown

    def list(self, resource: str, params: dict) -> Response:
        try:
            limit = int(params.get("limit", 100))
            offset = int(params.get("offset", 0))
        except ValueError:
            raise invalid("limit and offset must be numbers") from None
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            raise invalid(f"limit must be between 1 and {MAX_LIMIT}, offset at least 0")
        rows = [self.show(r) for r in self.store.rows(resource)]
        sort = str(params.get("sort") or "id")
        field, descending = sort.lstrip("-"), sort.startswith("-")
        rows.sort(key=lambda r: (str(r.get(field, "")) if field.endswith("_at") else r.get(field) or 0, r["id"]),
                  reverse=descending)
        page = rows[offset:offset + limit]
        more = "true" if offset + limit < len(rows) else "false"
        return json_response(200, page, (("X-OneUp-Has-Next-Page", more),))

    def create(self, resource: str, body: dict) -> dict:
        with self.store.lock:
            if resource == "customers":
                fields = self.customer_fields(body)
                fields.setdefault("user_code", f"CUS-{len(self.store.rows('customers')) + 1:03d}")
                return self.show(self.store.create(resource, fields))
            if resource == "items":
                return self.show(self.store.create(resource, self.item_fields(body)))
            if resource == "invoices":
                fields = self.invoice_fields(body, Decimal("0.00"))
                fields["user_code"] = fields["user_code"] or f"INV-{len(self.store.rows('invoices')) + 1:05d}"
                return self.show(self.store.create(resource, fields))
            fields = self.payment_fields(body) if resource == "payments" else self.credit_fields(body)
            self.apply(fields["invoices"], 1)
            return self.show(self.store.create(resource, fields))

    def edit(self, resource: str, rid: str, body: dict) -> dict:
        """PUT: a field left out keeps its value (documented "Edition Mode")."""
        with self.store.lock:
            current = self.store.get(resource, rid)
            merged = {**{k: v for k, v in current.data.items() if not k.startswith("_")}, **body}
            if resource == "customers":
                fields = self.customer_fields(merged)
            elif resource == "items":
                fields = self.item_fields(merged)
            elif resource == "invoices":
                fields = self.invoice_fields(merged, current.data["paid"])
            else:
                self.apply(current.data["invoices"], -1)
                try:
                    fields = self.payment_fields(merged) if resource == "payments" else self.credit_fields(merged)
                    self.apply(fields["invoices"], 1)
                except PlatformError:
                    self.apply(current.data["invoices"], 1)
                    raise
            return self.show(self.store.update(resource, rid, fields, replace=True))

    def remove(self, resource: str, rid: str) -> None:
        with self.store.lock:
            row = self.store.get(resource, rid)
            if resource == "invoices" and row.data["paid"]:
                raise invalid("An invoice with payments applied cannot be deleted.")
            if resource in ("payments", "credit_notes"):
                self.apply(row.data["invoices"], -1)
            self.store.delete(resource, rid)

    def bulk_delete(self, resource: str, body: list) -> list:
        """Documented: DELETE on a collection deletes several elements. Each is checked first; all or none."""
        with self.store.lock:
            ids = [str(entry["id"]) for entry in body]
            for rid in ids:
                row = self.store.get(resource, rid)
                if resource == "invoices" and row.data["paid"]:
                    raise invalid(f"Invoice {rid} has payments applied and cannot be deleted.")
            for rid in ids:
                self.remove(resource, rid)
            return [{"id": int(rid)} for rid in ids]

    def customer_fields(self, body: dict) -> dict:
        kind = body.get("type")
        if kind == 1:
            name = str(body.get("company_name") or "").strip()
        else:
            name = " ".join(str(body.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
        if not name:
            raise invalid("company_name is required for a company, first_name or last_name for an individual")
        fields = {k: body[k] for k in ("type", "status", "company_name", "first_name", "last_name", "email",
                                       "phone_number", "user_code", "currency_iso_code", "notes") if k in body}
        return {**fields, "full_name": name}

    def item_fields(self, body: dict) -> dict:
        fields = {k: body[k] for k in ("name", "type", "item_number", "description") if k in body}
        for key in ("sales_price", "purchase_price"):
            if body.get(key) is not None:
                fields[key] = money(body[key], key)
        return fields

    def currency_codes(self) -> set[str]:
        return {r.data["iso_code"] for r in self.store.rows("currencies")}

    def main_currency(self) -> str:
        return next(r.data["iso_code"] for r in self.store.rows("currencies") if r.data["main_currency"])

    def customer(self, body: dict) -> Row:
        return self.store.require("customers", str(body.get("customer_id")), invalid("customer_id is not a customer"))

    def account(self, value: Any, field: str) -> str:
        row = self.store.find("accounts", str(value))
        if row is None or not row.data.get("active"):
            raise invalid(f"{field} {value} is not an active account")
        return row.id

    def invoice_fields(self, body: dict, paid: Decimal) -> dict:
        customer = self.customer(body)
        currency = str(body.get("currency_iso_code") or self.main_currency())
        if currency not in self.currency_codes():
            raise invalid(f"currency {currency} is not one of your currencies")
        lines, subtotal = [], Decimal("0.00")
        for i, line in enumerate(body.get("order_lines") or []):
            qty = number(line.get("quantity", 1), f"order_lines[{i}].quantity")
            price = number(line.get("unit_price_wt"), f"order_lines[{i}].unit_price_wt")
            stored = {"id": i + 1, "description": line.get("description"), "quantity": qty, "unit_price_wt": price,
                      "is_taxable": bool(line.get("is_taxable", False)), "total": cents(qty * price)}
            if line.get("account_id") is not None:
                stored["account_id"] = int(self.account(line["account_id"], f"order_lines[{i}].account_id"))
            if line.get("item_id") is not None:
                item = self.store.find("items", str(line["item_id"]))
                if item is None:
                    raise invalid(f"order_lines[{i}].item_id {line['item_id']} is not an item")
                stored["item_id"] = int(item.id)
            lines.append(stored)
            subtotal += stored["total"]
        if not lines:
            raise invalid("order_lines is required")
        total = subtotal  # the sandbox computes no tax: the connector sends tax as its own line
        if total < paid:
            raise invalid("The invoice total cannot be less than the amount already paid")
        unpaid = total - paid
        return {"customer_id": int(customer.id), "user_code": str(body.get("user_code") or "").strip(),
                "po_number": body.get("po_number"), "date": day(body.get("date"), "date"),
                "due_date": day(body.get("due_date") or body.get("date"), "due_date"), "currency_iso_code": currency,
                "public_note": body.get("public_note"), "order_lines": lines, "subtotal": subtotal,
                "tax_amount": Decimal("0.00"), "total": total, "paid": paid, "unpaid": unpaid,
                "invoice_status": PAID if total and not unpaid else PARTIAL if paid else UNPAID}

    def payment_fields(self, body: dict) -> dict:
        customer = self.customer(body)
        amount = money(body.get("amount"), "amount")
        if amount <= 0:
            raise invalid("amount must be more than zero")
        account = self.account(body["account_id"], "account_id") if body.get("account_id") is not None else None
        rows = self.applications(body.get("invoices") or [], int(customer.id))
        if sum((r["amount"] for r in rows), Decimal("0.00")) > amount:
            raise invalid("The applied amounts are more than the payment amount")
        return {"customer_id": int(customer.id), "user_code": str(body.get("user_code") or "") or None,
                "date": day(body.get("date"), "date"), "amount": amount, "notes": body.get("notes"),
                "account_id": int(account) if account else None, "invoices": rows}

    def applications(self, applied: list, customer_id: int) -> list[dict]:
        rows = []
        for i, item in enumerate(applied):
            invoice = self.store.require("invoices", str(item.get("invoice_id")),
                                         invalid(f"invoices[{i}].invoice_id is not an invoice"))
            if invoice.data["customer_id"] != customer_id:
                raise invalid("The invoices must belong to the record's customer")
            part = money(item.get("amount"), f"invoices[{i}].amount")
            if part <= 0 or part > invoice.data["unpaid"]:
                raise invalid(f"invoices[{i}].amount is more than the invoice's unpaid amount")
            rows.append({"invoice_id": int(invoice.id), "amount": part})
        return rows

    def credit_fields(self, body: dict) -> dict:
        """A credit note (GUESS: shaped like an invoice), applied to invoices (``invoices``); ``unpaid`` is what is
        left to apply."""
        fields = self.invoice_fields(body, Decimal("0.00"))
        for key in ("due_date", "invoice_status", "po_number"):
            fields.pop(key)
        fields["user_code"] = fields["user_code"] or f"CN-{len(self.store.rows('credit_notes')) + 1:05d}"
        rows = self.applications(body.get("invoices") or [], fields["customer_id"])
        used = sum((r["amount"] for r in rows), Decimal("0.00"))
        if used > fields["total"]:
            raise invalid("The applied amounts are more than the credit note's total")
        return {**fields, "paid": used, "unpaid": fields["total"] - used, "invoices": rows}

    def apply(self, applied: list, sign: int) -> None:
        """Record (sign 1) or take back (-1) the applied amounts on each invoice."""
        for item in applied:
            invoice = self.store.find("invoices", str(item["invoice_id"]))
            if invoice is not None:
                paid = invoice.data["paid"] + sign * item["amount"]
                unpaid = invoice.data["total"] - paid
                status = PAID if not unpaid else PARTIAL if paid else UNPAID
                self.store.update("invoices", invoice.id, {"paid": paid, "unpaid": unpaid, "invoice_status": status})

    # -- what a person does in OneUp's web app ----------------------------------------------------------------------
    def archive_account_as_user(self, account_id: str) -> dict:
        return self.show(self.store.update("accounts", str(account_id), {"active": False}))

    def record_payment_as_user(self, invoice_id: str, amount: str, reference: str = "",
                               date: str | None = None) -> dict:
        invoice = self.store.get("invoices", str(invoice_id))
        value = cents(Decimal(str(amount)))
        return self.create("payments", {"customer_id": invoice.data["customer_id"], "user_code": reference or None,
                                        "date": date or dt.date.today().isoformat(), "amount": value,
                                        "invoices": [{"invoice_id": int(invoice.id), "amount": value}]})

    def edit_invoice_line_as_user(self, invoice_id: str, line: int, amount: Any = None, quantity: Any = None) -> dict:
        """``amount``: the line's unit price becomes it divided by its quantity; ``quantity``: a new quantity at
        the same unit price."""
        invoice = self.store.get("invoices", str(invoice_id))
        lines = [dict(item) for item in invoice.data["order_lines"]]
        target = lines[int(line)]
        if quantity is not None:
            target["quantity"] = Decimal(str(quantity))
        if amount is not None:
            target["unit_price_wt"] = cents(Decimal(str(amount)) / target["quantity"])
        return self.edit("invoices", str(invoice_id), {"order_lines": lines})

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        self.remove("invoices", str(invoice_id))
        return {"id": invoice_id, "deleted": True}

    def delete_payment_as_user(self, payment_id: str) -> dict:
        self.remove("payments", str(payment_id))
        return {"id": payment_id, "deleted": True}
