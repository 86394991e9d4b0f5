"""A local Wave public GraphQL API on loopback HTTP, built on the sandbox kit.

Routes: Wave's OAuth (``/oauth2/authorize/``, ``/oauth2/token/``) and the one API endpoint
``POST /graphql/public``. Each request is parsed, validated and executed by graphql-core against the SDL vendored
in ``connectors/wave/spec/schema.graphql``: no pattern matching of query text. Business errors are HTTP 200 with
``didSucceed: false`` and ``inputErrors``; schema errors are GraphQL ``errors``. Money is a ``Money`` object whose
``value`` is a string; ``Decimal`` scalars are exact. Every fact and guess is listed in docs/sandbox-wave.md.
"""
from __future__ import annotations

import base64
import datetime as dt
import itertools
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, build_schema, graphql_sync, parse

from ...sandboxkit.faults import Fault
from ...sandboxkit.limits import Limiter
from ...sandboxkit.oauth import AuthServer
from ...sandboxkit.platform import PlatformSandbox, Request, Response, json_response
from ...sandboxkit.resources import NotFound, ResourceStore
from .seed import BASE_CURRENCY, BUSINESS_NAME, BUSINESS_UUID, seed

API = "/graphql/public"
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "spec" / "schema.graphql"
#: Per token (a guess: Wave publishes no numbers): 60 requests a minute; extra ones are 429 with Retry-After.
LIMITS = {"minute": (60, 60.0)}
MAX_PAGE_SIZE = 100
CENT = Decimal("0.01")
CURRENCIES = {"USD": ("$", "United States Dollar"), "CAD": ("$", "Canadian Dollar"), "EUR": ("€", "Euro"),
              "GBP": ("£", "Pound Sterling"), "AUD": ("$", "Australian Dollar")}
TYPE_NAMES = {"ASSET": ("Assets", "DEBIT"), "LIABILITY": ("Liabilities & Credit Cards", "CREDIT"),
              "EQUITY": ("Equity", "CREDIT"), "INCOME": ("Income", "CREDIT"), "EXPENSE": ("Expenses", "DEBIT")}
#: GraphQL type name of each store resource (Wave's ids are base64 of "Business:<uuid>;<Type>:<n>").
NODE = {"customers": "Customer", "products": "Product", "invoices": "Invoice", "salesTaxes": "SalesTax",
        "accounts": "Account", "payments": "InvoicePayment"}


def _schema():
    schema = build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
    scalar = schema.type_map["Decimal"]

    def parse(value: Any) -> Decimal:
        if isinstance(value, (bool, float)):
            raise GraphQLError(f"Decimal cannot represent an inexact value: {value!r}")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise GraphQLError(f"Decimal cannot represent value: {value!r}") from None
        if not number.is_finite():
            raise GraphQLError(f"Decimal cannot represent value: {value!r}")
        return number

    def literal(node: Any, _variables: Any = None) -> Decimal:
        return parse(getattr(node, "value", None))

    # graphql-core 3.3 reads the ``coerce_*`` hooks; older releases the ``serialize``/``parse_*`` ones.
    scalar.serialize = scalar.coerce_output_value = str  # exact text, never float
    scalar.parse_value = scalar.coerce_input_value = parse
    scalar.parse_literal = scalar.coerce_input_literal = literal
    return schema


SCHEMA = _schema()


class Refused(Exception):
    """A business-rule refusal: answered as ``didSucceed: false`` with one input error."""

    def __init__(self, message: str, code: str = "INVALID", path: list | None = None) -> None:
        super().__init__(message)
        self.error = {"message": message, "code": code, "path": path or ["input"]}


def wave_time(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def money(amount: Decimal, currency: dict) -> dict:
    amount = Decimal(amount).quantize(CENT)
    return {"raw": str(amount), "value": str(amount), "minorUnitValue": str(int(amount * 100)), "currency": currency}


class WaveSandbox(PlatformSandbox):
    """Wave's public API with one business, its OAuth server, a per-token limit and faults."""

    platform, title, default_port, ready_path = "wave", "Wave", 8774, "/_sandbox/state"
    api_path, token_path, authorize_path = API, "/oauth2/token/", "/oauth2/authorize/"
    revoke_path = None

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] | None = None,
                 access_ttl: int = 7200, timeout_seconds: float = 5.0, verbose: bool = False) -> None:
        super().__init__(host, port, clock, timeout_seconds, verbose)
        self.business_id = self.encode("Business", BUSINESS_UUID)
        self.auth = AuthServer(clock=self.clock, access_ttl=access_ttl, rotate_refresh=True)
        self.limits = Limiter(self.clock, minute=LIMITS["minute"])
        self.store = ResourceStore(self.clock)
        for name in NODE:
            self.store.declare(name, id_start=1)
        self._numbers = itertools.count(1)
        self.reset()

    # -- kit hooks -------------------------------------------------------------------------------------------------
    @property
    def company_id(self) -> str:
        return self.business_id

    def seed(self) -> None:
        self._numbers = itertools.count(1)
        seed(self.store)

    def extra_state(self) -> dict:
        return {"business_id": self.business_id}

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            return self._throttled(int(fault.retry_after or 60))
        status = 503 if fault.kind == "http_503" else 500
        return json_response(status, {"errors": [{"message": "Internal server error",
                                                  "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]})

    @staticmethod
    def _throttled(retry_after: int) -> Response:
        body = {"errors": [{"message": "Rate limit exceeded. Please retry later.",
                            "extensions": {"code": "RATE_LIMITED"}}]}
        return json_response(429, body, [("Retry-After", str(max(1, retry_after)))])

    # -- ids ---------------------------------------------------------------------------------------------------------
    @staticmethod
    def encode(kind: str, value: str) -> str:
        if kind != "Business":
            value = f"{BUSINESS_UUID};{kind}:{value}"
            kind = "Business"
        return base64.b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")

    def decode(self, resource: str, public_id: Any) -> str | None:
        """The store id behind a public id of ``resource``'s type in our business, or None."""
        try:
            text = base64.b64decode(str(public_id) + "=" * (-len(str(public_id)) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        prefix = f"Business:{BUSINESS_UUID};{NODE[resource]}:"
        return text[len(prefix):] if text.startswith(prefix) else None

    def lookup(self, resource: str, public_id: Any, field: str) -> dict:
        rid = self.decode(resource, public_id)
        row = self.store.find(resource, rid) if rid else None
        if row is None:
            raise Refused(f"{NODE[resource]} not found.", "NOT_FOUND", ["input", field])
        return {"_id": rid, **row.data, "_created": row.created, "_modified": row.modified}

    # -- routing ----------------------------------------------------------------------------------------------------
    def latency_kind(self, req: Request) -> str:
        """Every GraphQL call is a POST to one endpoint: a document that carries a mutation is a ``write``, a query
        a ``read`` (the kit would count both as writes). A body that is not GraphQL stays a ``write``."""
        kind = super().latency_kind(req)
        if kind != "write" or req.path.rstrip("/") != API:
            return kind
        try:
            body = req.json()
            document = parse(body["query"]) if isinstance(body, dict) and isinstance(body.get("query"), str) else None
        except (ValueError, GraphQLError):
            return kind
        if document is None:
            return kind
        operations = [d.operation for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        return "read" if operations and OperationType.MUTATION not in operations else kind

    def route(self, req: Request) -> Response:
        if (oauth := self.oauth_route(req)) is not None:
            return oauth
        if req.path.rstrip("/") != API:
            return json_response(404, {"errors": [{"message": "Not found"}]})
        why = self.auth.check(req.header("Authorization"))
        if why is not None:
            return json_response(401, {"errors": [{"message": "The access token is invalid or has expired."
                                                   if why != "missing" else "Authentication required.",
                                                   "extensions": {"code": "UNAUTHENTICATED"}}]})
        exceeded = self.limits.hit(("minute", req.header("Authorization")))
        if exceeded is not None:
            return self._throttled(exceeded.retry_after)
        if req.method != "POST":
            return json_response(405, {"errors": [{"message": "Method not allowed"}]})
        try:
            body = req.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return json_response(400, {"errors": [{"message": "POST body must be JSON with a query",
                                                   "extensions": {"code": "BAD_REQUEST"}}]})
        variables = body.get("variables") or {}
        result = graphql_sync(SCHEMA, body["query"], root_value=self.root(), variable_values=variables,
                              operation_name=body.get("operationName"))
        answer: dict = {}
        if result.errors:
            answer["errors"] = [self._error(e) for e in result.errors]
        if result.data is not None or not result.errors:
            answer["data"] = result.data
        status = 400 if result.errors and result.data is None else 200
        return json_response(status, answer)

    @staticmethod
    def _error(error: GraphQLError) -> dict:
        formatted = error.formatted
        code = "GRAPHQL_VALIDATION_FAILED" if error.path is None else "INTERNAL_SERVER_ERROR"
        formatted["extensions"] = {"code": code}
        return formatted

    # -- the graph ---------------------------------------------------------------------------------------------------
    def root(self) -> dict:
        def mutation(name: str) -> Callable:
            method = getattr(self, "m_" + name)
            return lambda info, input: self._mutate(method, input)

        mutations = {name: mutation(name)
                     for name in ("customerCreate", "customerPatch", "customerDelete", "productCreate",
                                  "productPatch", "productArchive", "salesTaxCreate", "invoiceCreate",
                                  "invoicePatch", "invoiceApprove",
                                  "invoiceDelete", "invoicePaymentCreateManual",
                                  "invoicePaymentDelete")}
        return {
            "user": {"id": self.encode("User", "1"), "defaultEmail": "owner@example.com", "firstName": "Sandbox",
                     "lastName": "Owner"},
            "businesses": lambda info, page=1, pageSize=10: self.connection([self.business()], page, pageSize),
            "business": lambda info, id=None: self.business() if id in (None, self.business_id) else None,
            "currencies": lambda info: [self.currency(c) for c in CURRENCIES],
            **mutations,
        }

    @staticmethod
    def _mutate(method: Callable[[dict], dict], data: dict) -> dict:
        try:
            return {"didSucceed": True, "inputErrors": [], **method(data)}
        except Refused as refused:
            return {"didSucceed": False, "inputErrors": [refused.error]}

    @staticmethod
    def connection(nodes: list, page: int, page_size: int) -> dict:
        page, page_size = max(1, int(page or 1)), max(1, min(MAX_PAGE_SIZE, int(page_size or 10)))
        total = len(nodes)
        chunk = nodes[(page - 1) * page_size: page * page_size]
        return {"pageInfo": {"currentPage": page, "totalPages": max(1, -(-total // page_size)), "totalCount": total},
                "edges": [{"node": n} for n in chunk]}

    @staticmethod
    def currency(code: str) -> dict:
        symbol, name = CURRENCIES.get(code, ("", code))
        return {"code": code, "symbol": symbol, "name": name}

    def business(self) -> dict:
        def lister(resource: str, node: Callable, keep: Callable = lambda record, args: True) -> Callable:
            def resolve(info, page=1, pageSize=10, **args):
                since = args.pop("modifiedAtAfter", None)
                cutoff = self._epoch(since) if since else None
                rows = [r for r in self.store.rows(resource)
                        if (cutoff is None or r.modified > cutoff) and keep(r.data, args)]
                return self.connection([node(r) for r in rows], page, pageSize)
            return resolve

        def getter(resource: str, node: Callable) -> Callable:
            def resolve(info, id):
                rid = self.decode(resource, id)
                row = self.store.find(resource, rid) if rid else None
                return node(row) if row else None
            return resolve

        def archived(record, args):
            return args.get("isArchived") is None or bool(record.get("isArchived")) == args["isArchived"]

        return {
            "id": self.business_id, "name": BUSINESS_NAME, "isPersonal": False,
            "currency": self.currency(BASE_CURRENCY),
            "customers": lister("customers", self.customer_node,
                                lambda r, a: not a.get("email")
                                or (r.get("email") or "").lower() == a["email"].lower()),
            "customer": getter("customers", self.customer_node),
            "products": lister("products", self.product_node, archived),
            "product": getter("products", self.product_node),
            "invoices": lister("invoices", self.invoice_node, lambda r, a: (
                (not a.get("invoiceNumber") or r["invoiceNumber"] == a["invoiceNumber"])
                and (not a.get("customerId") or r["customerId"] == self.decode("customers", a["customerId"])))),
            "invoice": getter("invoices", self.invoice_node),
            "salesTaxes": lister("salesTaxes", self.tax_node, archived),
            "salesTax": getter("salesTaxes", self.tax_node),
            "accounts": lister("accounts", self.account_node, lambda r, a: (
                archived(r, a) and (not a.get("types") or r["type"] in a["types"])
                and (not a.get("subtypes") or r["subtype"] in a["subtypes"]))),
            "account": getter("accounts", self.account_node),
        }

    @staticmethod
    def _epoch(text: str) -> float:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()

    def _stamps(self, row) -> dict:
        return {"createdAt": wave_time(row.created), "modifiedAt": wave_time(row.modified)}

    def customer_node(self, row) -> dict:
        d = row.data
        return {**{k: d.get(k) for k in ("name", "firstName", "lastName", "email", "displayId", "internalNotes")},
                "id": self.encode("Customer", row.id), "business": self.business,
                "currency": self.currency(d.get("currency") or BASE_CURRENCY), "isArchived": False,
                **self._stamps(row)}

    def tax_node(self, row) -> dict:
        return {**{k: v for k, v in row.data.items()}, "id": self.encode("SalesTax", row.id), **self._stamps(row)}

    def account_node(self, row) -> dict:
        d = row.data
        type_name, balance = TYPE_NAMES[d["type"]]
        kind = {"name": type_name, "normalBalanceType": balance, "value": d["type"]}
        return {"id": self.encode("Account", row.id), "name": d["name"], "description": d.get("description"),
                "displayId": None, "currency": self.currency(d["currency"]), "type": kind,
                "subtype": {"name": d["subtype"].replace("_", " ").title(), "value": d["subtype"], "type": kind},
                "isArchived": d["isArchived"], "sequence": d["sequence"], "normalBalanceType": balance}

    def product_node(self, row) -> dict:
        d = row.data
        income = self.store.find("accounts", d["incomeAccountId"]) if d.get("incomeAccountId") else None
        taxes = [self.tax_node(t) for t in (self.store.find("salesTaxes", i) for i in d["taxIds"]) if t]
        return {"id": self.encode("Product", row.id), "name": d["name"], "description": d.get("description"),
                "unitPrice": d["unitPrice"], "isSold": True, "isBought": False, "isArchived": d["isArchived"],
                "incomeAccount": self.account_node(income) if income else None, "defaultSalesTaxes": taxes,
                **self._stamps(row)}

    def invoice_node(self, row) -> dict:
        d = row.data
        cur = self.currency(d["currency"])
        items = []
        for item in d["items"]:
            product = self.store.find("products", item["productId"])
            taxes = [{"amount": money(t["amount"], cur),
                      "salesTax": self.tax_node(self.store.get("salesTaxes", t["salesTaxId"]))}
                     for t in item["taxes"]]
            items.append({"product": self.product_node(product) if product else None,
                          "description": item["description"], "quantity": item["quantity"],
                          "price": item["unitPrice"], "unitPrice": item["unitPrice"],
                          "subtotal": money(item["subtotal"], cur),
                          "total": money(item["subtotal"] + sum((t["amount"] for t in item["taxes"]), Decimal(0)), cur),
                          "account": None, "taxes": taxes})
        payments = [{"id": self.encode("InvoicePayment", p.id), "amount": money(p.data["amount"], cur),
                     "paymentDate": p.data["paymentDate"], "paymentMethod": p.data["paymentMethod"],
                     "memo": p.data.get("memo")}
                    for p in self.store.rows("payments") if p.data["invoiceId"] == row.id]
        customer = self.store.find("customers", d["customerId"])
        return {"id": self.encode("Invoice", row.id), "business": self.business, **self._stamps(row),
                "pdfUrl": None, "viewUrl": None, "status": self.status(d), "title": d.get("title"),
                "subhead": d.get("subhead"), "invoiceNumber": d["invoiceNumber"], "poNumber": d.get("poNumber"),
                "invoiceDate": d["invoiceDate"], "dueDate": d["dueDate"],
                "customer": self.customer_node(customer) if customer else None, "currency": cur,
                "exchangeRate": d["exchangeRate"], "items": items, "subtotal": money(d["subtotal"], cur),
                "taxTotal": money(d["taxTotal"], cur), "discountTotal": money(Decimal(0), cur),
                "total": money(d["total"], cur), "amountDue": money(d["total"] - d["amountPaid"], cur),
                "amountPaid": money(d["amountPaid"], cur), "memo": d.get("memo"), "footer": d.get("footer"),
                "lastSentAt": None, "payments": payments}

    @staticmethod
    def status(d: dict) -> str:
        if d["status"] == "DRAFT":
            return "DRAFT"
        if d["total"] != 0 and d["amountPaid"] == d["total"]:
            return "PAID"
        if d["amountPaid"] != 0:
            return "PARTIAL"
        return "SAVED"

    # -- mutations ---------------------------------------------------------------------------------------------------
    def _own_business(self, data: dict) -> None:
        if data.get("businessId") != self.business_id:
            raise Refused("Business not found.", "NOT_FOUND", ["input", "businessId"])

    def m_customerCreate(self, data: dict) -> dict:
        self._own_business(data)
        if not str(data.get("name") or "").strip():
            raise Refused("Name is required.", "REQUIRED", ["input", "name"])
        record = {k: data.get(k) for k in ("name", "firstName", "lastName", "email", "displayId", "internalNotes")}
        record["currency"] = data.get("currency") or BASE_CURRENCY
        row = self.store.create("customers", record)
        return {"customer": self.customer_node(row)}

    def m_customerPatch(self, data: dict) -> dict:
        found = self.lookup("customers", data["id"], "id")
        changes = {k: v for k, v in data.items() if k != "id"}
        row = self.store.update("customers", found["_id"], changes)
        return {"customer": self.customer_node(row)}

    def m_customerDelete(self, data: dict) -> dict:
        found = self.lookup("customers", data["id"], "id")
        if any(r.data["customerId"] == found["_id"] for r in self.store.rows("invoices")):
            raise Refused("Customer has invoices and cannot be deleted.", "INVALID", ["input", "id"])
        self.store.delete("customers", found["_id"])
        return {}

    def m_productCreate(self, data: dict) -> dict:
        self._own_business(data)
        if not str(data.get("name") or "").strip():
            raise Refused("Name is required.", "REQUIRED", ["input", "name"])
        income = None
        if data.get("incomeAccountId"):
            income = self.lookup("accounts", data["incomeAccountId"], "incomeAccountId")
            if income["type"] != "INCOME":
                raise Refused("Income account must be an income account.", "INVALID", ["input", "incomeAccountId"])
        taxes = [self.lookup("salesTaxes", t, "defaultSalesTaxIds")["_id"]
                 for t in data.get("defaultSalesTaxIds") or []]
        row = self.store.create("products", {"name": data["name"], "description": data.get("description"),
                                             "unitPrice": data["unitPrice"], "isArchived": False,
                                             "incomeAccountId": income["_id"] if income else None, "taxIds": taxes})
        return {"product": self.product_node(row)}

    def m_productPatch(self, data: dict) -> dict:
        found = self.lookup("products", data["id"], "id")
        changes = {k: data[k] for k in ("name", "description", "unitPrice") if data.get(k) is not None}
        if data.get("incomeAccountId"):
            changes["incomeAccountId"] = self.lookup("accounts", data["incomeAccountId"], "incomeAccountId")["_id"]
        if data.get("defaultSalesTaxIds") is not None:
            changes["taxIds"] = [self.lookup("salesTaxes", t, "defaultSalesTaxIds")["_id"]
                                 for t in data["defaultSalesTaxIds"]]
        return {"product": self.product_node(self.store.update("products", found["_id"], changes))}

    def m_productArchive(self, data: dict) -> dict:
        found = self.lookup("products", data["id"], "id")
        return {"product": self.product_node(self.store.update("products", found["_id"], {"isArchived": True}))}

    def m_salesTaxCreate(self, data: dict) -> dict:
        self._own_business(data)
        rate = data["rate"]
        if rate < 0 or rate > 1:
            raise Refused("Rate must be between 0 and 1.", "INVALID", ["input", "rate"])
        row = self.store.create("salesTaxes", {"name": data["name"], "abbreviation": data["abbreviation"],
                                               "rate": rate, "isArchived": False,
                                               "isCompound": bool(data.get("isCompound")),
                                               "isRecoverable": bool(data.get("isRecoverable")),
                                               "description": data.get("description"),
                                               "taxNumber": data.get("taxNumber")})
        return {"salesTax": self.tax_node(row)}

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()

    def _items(self, given: list) -> tuple[list, Decimal, Decimal]:
        items, subtotal, tax_total = [], Decimal(0), Decimal(0)
        for item in given:
            product = self.lookup("products", item["productId"], "items")
            quantity = item.get("quantity") if item.get("quantity") is not None else Decimal(1)
            price = item.get("unitPrice") if item.get("unitPrice") is not None else product["unitPrice"]
            line = (quantity * price).quantize(CENT)
            taxes = []
            for tax in item.get("taxes") or []:
                found = self.lookup("salesTaxes", tax["salesTaxId"], "items")
                taxes.append({"salesTaxId": found["_id"], "amount": (line * found["rate"]).quantize(CENT)})
            subtotal += line
            tax_total += sum((t["amount"] for t in taxes), Decimal(0))
            items.append({"productId": product["_id"], "description": item.get("description") or product["name"],
                          "quantity": quantity, "unitPrice": price, "subtotal": line, "taxes": taxes})
        return items, subtotal, tax_total

    def m_invoiceCreate(self, data: dict) -> dict:
        self._own_business(data)
        customer = self.lookup("customers", data["customerId"], "customerId")
        items, subtotal, tax_total = self._items(data.get("items") or [])
        number = data.get("invoiceNumber") or str(next(self._numbers))
        if any(r.data["invoiceNumber"] == number for r in self.store.rows("invoices")):
            raise Refused("Invoice number is already in use.", "DUPLICATE", ["input", "invoiceNumber"])
        invoice_date = str(data.get("invoiceDate") or self.today())
        record = {"customerId": customer["_id"], "status": data.get("status") or "SAVED",
                  "currency": data.get("currency") or customer.get("currency") or BASE_CURRENCY,
                  "exchangeRate": data.get("exchangeRate") or Decimal(1), "invoiceNumber": number,
                  "invoiceDate": invoice_date, "dueDate": str(data.get("dueDate") or invoice_date),
                  "items": items, "subtotal": subtotal, "taxTotal": tax_total, "total": subtotal + tax_total,
                  "amountPaid": Decimal(0), **{k: data.get(k) for k in ("title", "subhead", "poNumber", "memo",
                                                                       "footer")}}
        return {"invoice": self.invoice_node(self.store.create("invoices", record))}

    def m_invoicePatch(self, data: dict) -> dict:
        """Only the fields given change; ``items`` replaces every line (a guess: see docs)."""
        found = self.lookup("invoices", data["id"], "id")
        changes = {k: data[k] for k in ("title", "subhead", "poNumber", "memo", "footer", "currency", "exchangeRate")
                   if k in data}
        for key in ("invoiceDate", "dueDate"):
            if data.get(key):
                changes[key] = str(data[key])
        if data.get("customerId"):
            changes["customerId"] = self.lookup("customers", data["customerId"], "customerId")["_id"]
        number = data.get("invoiceNumber")
        if number and number != found["invoiceNumber"]:
            if any(r.data["invoiceNumber"] == number for r in self.store.rows("invoices")):
                raise Refused("Invoice number is already in use.", "DUPLICATE", ["input", "invoiceNumber"])
            changes["invoiceNumber"] = number
        if data.get("items") is not None:
            items, subtotal, tax_total = self._items(data["items"])
            total = subtotal + tax_total
            if found["amountPaid"] != 0 and abs(total) < abs(found["amountPaid"]):
                raise Refused("Invoice total cannot be less than the amount paid.", "INVALID", ["input", "items"])
            changes.update(items=items, subtotal=subtotal, taxTotal=tax_total, total=total)
        return {"invoice": self.invoice_node(self.store.update("invoices", found["_id"], changes))}

    def m_invoiceApprove(self, data: dict) -> dict:
        found = self.lookup("invoices", data["invoiceId"], "invoiceId")
        if found["status"] != "DRAFT":
            raise Refused("Only draft invoices can be approved.", "INVALID", ["input", "invoiceId"])
        return {"invoice": self.invoice_node(self.store.update("invoices", found["_id"], {"status": "SAVED"}))}

    def m_invoiceDelete(self, data: dict) -> dict:
        found = self.lookup("invoices", data["invoiceId"], "invoiceId")
        if found["amountPaid"] != 0:
            raise Refused("Invoices with payments cannot be deleted.", "INVALID", ["input", "invoiceId"])
        self.store.delete("invoices", found["_id"])
        return {}

    def m_invoicePaymentCreateManual(self, data: dict) -> dict:
        found = self.lookup("invoices", data["invoiceId"], "invoiceId")
        self.lookup("accounts", data["paymentAccountId"], "paymentAccountId")
        if found["status"] == "DRAFT":
            raise Refused("Payments cannot be recorded on a draft invoice.", "INVALID", ["input", "invoiceId"])
        amount, due = data["amount"], found["total"] - found["amountPaid"]
        # A negative invoice (Wave's stand-in for a credit) takes a negative payment (a refund): a guess.
        if amount == 0 or (amount > 0) != (due > 0):
            raise Refused("Amount must be greater than 0.", "INVALID", ["input", "amount"])
        if abs(amount) > abs(due):
            raise Refused("Payment amount exceeds the amount due.", "INVALID", ["input", "amount"])
        row = self.store.create("payments", {"invoiceId": found["_id"], "amount": amount,
                                             "paymentDate": str(data["paymentDate"]),
                                             "paymentMethod": data["paymentMethod"], "memo": data.get("memo")})
        self.store.update("invoices", found["_id"], {"amountPaid": found["amountPaid"] + amount})
        cur = self.currency(found["currency"])
        return {"invoicePayment": {"id": self.encode("InvoicePayment", row.id), "amount": money(amount, cur),
                                   "paymentDate": row.data["paymentDate"], "paymentMethod": data["paymentMethod"],
                                   "memo": data.get("memo")}}

    def m_invoicePaymentDelete(self, data: dict) -> dict:
        rid = self.decode("payments", data["invoicePaymentId"])
        row = self.store.find("payments", rid) if rid else None
        if row is None:
            raise Refused("Invoice payment not found.", "NOT_FOUND", ["input", "invoicePaymentId"])
        invoice = self.store.get("invoices", row.data["invoiceId"])
        self.store.delete("payments", rid)
        self.store.update("invoices", invoice.id, {"amountPaid": invoice.data["amountPaid"] - row.data["amount"]})
        return {}

    # -- what a bookkeeper does in Wave's UI ------------------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: Any, payment_date: str | None = None) -> dict:
        account = next(r for r in self.store.rows("accounts") if r.data["subtype"] == "CASH_AND_BANK")
        result = self._mutate(self.m_invoicePaymentCreateManual, {
            "invoiceId": invoice_id, "amount": Decimal(str(amount)), "paymentDate": payment_date or self.today(),
            "paymentAccountId": self.encode("Account", account.id), "paymentMethod": "CASH"})
        if not result["didSucceed"]:
            raise ValueError(result["inputErrors"][0]["message"])
        return result["invoicePayment"]

    def edit_invoice_line_as_user(self, invoice_id: str, line: int, amount: Any = None, quantity: Any = None) -> dict:
        """A bookkeeper edits one line in Wave's invoice editor: ``quantity`` at the same unit price, or ``amount``
        (the line's new subtotal, its unit price becoming amount / quantity); taxes and totals follow."""
        found = self.lookup("invoices", invoice_id, "id")
        items = [dict(item) for item in found["items"]]
        target = items[int(line)]
        if quantity is not None:
            target["quantity"] = Decimal(str(quantity))
        if amount is not None:
            target["unitPrice"] = Decimal(str(amount)) / target["quantity"]
        target["subtotal"] = (target["quantity"] * target["unitPrice"]).quantize(CENT)
        target["taxes"] = [{**tax, "amount": (target["subtotal"] * self.store.get("salesTaxes", tax["salesTaxId"])
                                               .data["rate"]).quantize(CENT)} for tax in target["taxes"]]
        subtotal = sum((item["subtotal"] for item in items), Decimal(0))
        tax_total = sum((tax["amount"] for item in items for tax in item["taxes"]), Decimal(0))
        row = self.store.update("invoices", found["_id"], {"items": items, "subtotal": subtotal,
                                                           "taxTotal": tax_total, "total": subtotal + tax_total})
        return self.invoice_node(row)

    def delete_invoice_payment_as_user(self, payment_id: str) -> dict:
        """A payment removed from its invoice in Wave's UI (on a negative invoice: a credit's refund taken back);
        ``payment_id`` is Wave's ``InvoicePayment`` id."""
        result = self._mutate(self.m_invoicePaymentDelete, {"invoicePaymentId": payment_id})
        if not result["didSucceed"]:
            raise ValueError(result["inputErrors"][0]["message"])
        return {"deleted": payment_id}

    def archive_account_as_user(self, account_id: str) -> dict:
        found = self.lookup("accounts", account_id, "id")
        self.store.update("accounts", found["_id"], {"isArchived": True})
        return {"archived": account_id}

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        result = self._mutate(self.m_invoiceDelete, {"invoiceId": invoice_id})
        if not result["didSucceed"]:
            raise ValueError(result["inputErrors"][0]["message"])
        return {"deleted": invoice_id}


__all__ = ["WaveSandbox", "NotFound"]
