"""Acumatica's contract-based REST API on loopback HTTP, built on the sandbox kit.

- ``POST /entity/auth/login`` ``{name, password, company, branch?}``: 204 and the ``.ASPXAUTH``,
  ``ASP.NET_SessionId``, ``UserBranch`` and ``Locale`` cookies. A session idles out after ``SESSION_MINUTES``
  without a request; ``POST /entity/auth/logout`` ends it. With a licence limit set (``api_users``), a login past
  it is refused with 429 "API Login Limit" until a session ends. A request without a live session: 401.
- ``/entity/Default/24.200.001/<Entity>``: ``Customer``, ``StockItem``, ``NonStockItem``, ``Account``,
  ``TaxCategory``, ``Currency``, ``Invoice`` (AR invoices and credit memos, by ``Type``), ``Payment`` (payments,
  and credit memos' applications; refunds), ``Vendor``, ``Bill``, ``Check``, ``JournalTransaction`` (their rules in
  ``costs.py``). ``PUT`` inserts or updates by key fields or ``id`` (detail lines by their
  ``id``; ``"delete": true`` removes one); ``GET`` by ``id`` or key fields, or a list with ``$filter`` (``eq``,
  ``ne``, ``gt``, ``ge``, ``lt``, ``le`` joined by ``and``; ``datetimeoffset'...'`` literals), ``$top``, ``$skip``,
  ``$expand``, ``$custom`` (the reversal links of bills and GL batches: ``CUSTOM``; filtered as
  ``cf.String(f='View.Field')``); ``DELETE`` by ``id`` (unreleased documents only); actions ``ReleaseInvoice``,
  ``VoidInvoice``,
  ``ReleasePayment``, ``VoidPayment``, ``ReverseApplication``, ``ReleaseBill``, ``ReverseBill``, ``ReleaseCheck``,
  ``VoidCheck``, ``ReleaseJournalTransaction`` (``POST`` with ``{"entity", "parameters"}``: 202 and a ``Location`` whose
  ``GET`` answers 204).
- Every value wrapped as ``{"value": ...}``; errors as ``{"message", "exceptionMessage", "exceptionType"}`` (HTTP
  500 for a business rule, as Acumatica does) or 422 with the entity and a per-field ``error``.

Sources and guesses: docs/sandbox-acumatica.md.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from .. import wire
from ...sandboxkit.faults import Fault
from ...sandboxkit.platform import (PlatformError, PlatformSandbox, Request, Response, json_response,
                                    parse_timestamp)
from ...sandboxkit.resources import NotFound, ResourceError, ResourceStore, Row
from .answers import DETAILS, AcumaticaError, FieldErrors, business, merge_details, money
from .costs import AcumaticaCosts
from .seed import (ACCOUNTS, BRANCH, CASH_CURRENCIES, CURRENCIES, ENDPOINT, HOME_CURRENCY, PASSWORD,
                   TAX_CATEGORIES, TENANT, USER, VERSION)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
SESSION_MINUTES = 20
KEYS = {"Customer": ("CustomerID",), "StockItem": ("InventoryID",), "NonStockItem": ("InventoryID",),
        "Account": ("AccountCD",), "TaxCategory": ("TaxCategoryID",), "Currency": ("CurrencyID",),
        "Invoice": ("Type", "ReferenceNbr"), "Payment": ("Type", "ReferenceNbr"), "Vendor": ("VendorID",),
        "Bill": ("Type", "ReferenceNbr"), "Check": ("Type", "ReferenceNbr"),
        "JournalTransaction": ("Module", "BatchNbr")}
READ_ONLY = ("Account", "TaxCategory", "Currency")
DRAFT = ("On Hold", "Balanced")
RELEASED = ("Open", "Closed")
#: The counter-document Acumatica enters when a released payment or refund is voided (same reference number).
VOIDED_TYPES = {"Payment": "Voided Payment", "Refund": "Voided Refund"}
#: Header fields of a released document that may still change (everything else is locked once released).
RELEASED_EDITABLE = {"Description", "id", "Type", "ReferenceNbr"}
COMPARE = re.compile(r"^\s*(?P<field>[A-Za-z]+|cf\.[A-Za-z]+\(f='[A-Za-z]+\.[A-Za-z]+'\))\s+"
                     r"(?P<op>eq|ne|gt|ge|lt|le)\s+(?P<value>datetimeoffset'[^']*'|'(?:[^']|'')*'|\S+)\s*$")
#: Fields of a form that the Default endpoint's entity leaves out, read with ``$custom=<View>.<Field>`` and filtered
#: with ``cf.<Type>(f='<View>.<Field>')``: entity -> "View.Field" -> (where the row keeps it, its custom type).
#: A reversing document's link to what it reverses (``APRegister.OrigDocType`` / ``OrigRefNbr``, set by the bill's
#: Reverse; ``Batch.OrigModule`` / ``OrigBatchNbr`` / ``AutoReverseCopy``, set by the batch's Reverse).
CUSTOM = {"Bill": {"Document.OrigDocType": ("_OrigDocType", "CustomStringField"),
                   "Document.OrigRefNbr": ("_OrigRefNbr", "CustomStringField")},
          "JournalTransaction": {"BatchModule.OrigModule": ("_OrigModule", "CustomStringField"),
                                 "BatchModule.OrigBatchNbr": ("_OrigBatchNbr", "CustomStringField"),
                                 "BatchModule.AutoReverseCopy": ("_AutoReverseCopy", "CustomBooleanField")}}
CUSTOM_FILTER = re.compile(r"^cf\.[A-Za-z]+\(f='(?P<name>[A-Za-z]+\.[A-Za-z]+)'\)$")
OPS = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
       "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}


class AcumaticaSandbox(AcumaticaCosts, PlatformSandbox):
    """One tenant (``TENANT``) with its sessions, master data and AR documents."""

    platform, title, default_port = "acumatica", "Acumatica", 8784
    #: What a person does in Acumatica to take back a refund, an expense, a journal or a supplier bill we sent (our
    #: remote id): void the refund; void the checks paying the bill (none for a supplier bill) and reverse the
    #: bill; reverse the GL batch. Each releases what it makes, as a person does.
    user_takes_back = {"refund": ("void_refund", "refund_id"), "expense": ("reverse_bill", "bill_id"),
                       "journal": ("reverse_journal", "journal_id"), "bill": ("reverse_bill", "bill_id")}
    api_path = f"/entity/{ENDPOINT}/{VERSION}"
    authorize_path = "/entity/_connect"  # stand-in for the Connect button: Acumatica's cookie login has no page

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self.store = ResourceStore(self.clock)
        for name in KEYS:
            self.store.declare(name, ids="uuid")
        self.sessions: dict[str, float] = {}  # .ASPXAUTH value -> last request (sandbox clock)
        self.logins = 0
        self.api_users: int | None = None  # the licence's "Maximum Number of Web Services API Users"
        self._lock = threading.Lock()
        self.seed()

    @property
    def company_id(self) -> str:
        return TENANT

    @property
    def token_calls(self) -> int:
        return self.logins

    @property
    def client_id(self) -> str:
        return USER

    def seed(self) -> None:
        for code, name, kind, cls in ACCOUNTS:
            self.store.create("Account", {"AccountCD": code, "Description": name, "Type": kind,
                                          "AccountClass": cls, "Active": True,
                                          "_currency": CASH_CURRENCIES.get(code, HOME_CURRENCY), **self.stamp()})
        for code, name, rate in TAX_CATEGORIES:
            self.store.create("TaxCategory", {"TaxCategoryID": code, "Description": name, "Active": True,
                                              "_rate": rate, **self.stamp()})
        for code in CURRENCIES:
            self.store.create("Currency", {"CurrencyID": code, "IsBaseCurrency": code == HOME_CURRENCY,
                                           **self.stamp()})

    def reset(self) -> None:
        super().reset()
        self.logins = 0
        self.api_users = None

    def extra_state(self) -> dict:
        return {"tenant": TENANT, "sessions": len(self.sessions), "logins": self.logins, "api_users": self.api_users}

    def apply_setting(self, name: str, value: Any) -> bool:
        if name == "api_users":
            self.api_users = None if value is None else int(value)
            return True
        return False

    # -- sessions --------------------------------------------------------------------------------------------------
    def issue_tokens(self) -> dict:
        cookies = self._open()
        return {"access_token": cookies, "refresh_token": cookies, "expires_in": SESSION_MINUTES * 60}

    def token_problem(self, access_token: str) -> str | None:
        session = self._cookies(access_token).get(".ASPXAUTH", "")
        with self._lock:
            last = self.sessions.get(session)
        if last is None:
            return "invalid"
        return "expired" if self.clock() - last > SESSION_MINUTES * 60 else None

    def _open(self) -> str:
        with self._lock:
            now = self.clock()
            for session, last in list(self.sessions.items()):
                if now - last > SESSION_MINUTES * 60:
                    del self.sessions[session]
            if self.api_users is not None and len(self.sessions) >= self.api_users:
                raise AcumaticaError(429, "API Login Limit", "PX.Data.PXException")
            session = secrets.token_hex(24).upper()
            self.sessions[session] = now
            self.logins += 1
        return f".ASPXAUTH={session}; ASP.NET_SessionId={secrets.token_hex(12)}; UserBranch=1; Locale=en-US"

    @staticmethod
    def _cookies(header: str) -> dict[str, str]:
        return dict(part.strip().split("=", 1) for part in header.split(";") if "=" in part)

    def _session(self, req: Request) -> str:
        session = self._cookies(req.header("Cookie")).get(".ASPXAUTH", "")
        if self.token_problem(f".ASPXAUTH={session}") is not None:
            with self._lock:
                self.sessions.pop(session, None)
            raise AcumaticaError(401, "You are not logged in.", "System.UnauthorizedAccessException")
        with self._lock:
            self.sessions[session] = self.clock()
        return session

    def _login(self, req: Request) -> Response:
        body = req.json_object(AcumaticaError(400, "The request is invalid.", "System.ArgumentException"))
        if str(body.get("company") or "") != TENANT or body.get("name") != USER or body.get("password") != PASSWORD:
            raise AcumaticaError(500, "Invalid credentials. Please try again.", "PX.Data.PXException")
        if body.get("branch") not in (None, "", BRANCH):
            raise AcumaticaError(500, f"The branch '{body['branch']}' does not exist.", "PX.Data.PXException")
        cookies = self._cookies(self._open())
        return 204, [("Set-Cookie", f"{name}={value}; path=/; HttpOnly") for name, value in cookies.items()], b""

    # -- routing ----------------------------------------------------------------------------------------------------
    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            return json_response(429, {"message": "The number of requests exceeds the limit of the licence."},
                                 [("Retry-After", str(fault.retry_after or 60))])
        status = 503 if fault.kind == "http_503" else 500
        return json_response(status, {"message": "An error has occurred."})

    def store_error(self, error: ResourceError, request: Request) -> PlatformError:
        if isinstance(error, NotFound):
            return AcumaticaError(404, "No entity satisfies the condition.", "PX.Api.ContractBased.NoEntitySatisfies"
                                  "TheConditionException")
        return business(error.message)

    def route(self, req: Request) -> Response:
        if req.path == self.authorize_path and req.method == "GET":
            return self._connect(req.params)
        if req.path == "/entity/auth/login" and req.method == "POST":
            return self._login(req)
        session = self._session(req)
        if req.path == "/entity/auth/logout" and req.method == "POST":
            with self._lock:
                self.sessions.pop(session, None)
            return 204, [], b""
        if not req.path.startswith(self.api_path + "/"):
            raise AcumaticaError(404, f"The endpoint {req.path} does not exist.", "System.ArgumentException")
        parts = [p for p in req.path[len(self.api_path) + 1:].split("/") if p]
        if not parts or parts[0] not in KEYS:
            raise AcumaticaError(404, f"The entity {parts[0] if parts else ''} does not exist in the endpoint.",
                                 "System.ArgumentException")
        with self.store.lock:
            return self.dispatch(req, parts[0], parts[1:])

    def _connect(self, params: dict) -> Response:
        redirect = params.get("redirect_uri", "")
        query = urlencode({"code": "login", **({"state": params["state"]} if "state" in params else {})})
        return 302, [("Location", redirect + ("&" if "?" in redirect else "?") + query)], b""

    def dispatch(self, req: Request, entity: str, rest: list[str]) -> Response:
        expand = {e.strip() for e in req.params.get("$expand", "").split(",") if e.strip()}
        if req.method == "GET" and not rest:
            return json_response(200, self.listing(entity, req.params, expand))
        if req.method == "GET" and len(rest) >= 3 and rest[-2] == "status":
            return 204, [], b""  # an action's status: every action here finishes before it is answered
        if req.method == "GET":
            return json_response(200, self.render(entity, self.lookup(entity, rest), expand,
                                                  req.params.get("$select", ""), req.params.get("$custom", "")))
        if req.method == "PUT" and not rest and entity not in READ_ONLY:
            record = wire.unwrap(req.json_object(AcumaticaError(400, "The request is invalid.")))
            row = self.put(entity, record, req.json())
            return json_response(200, self.render(entity, row, expand | set(DETAILS.values())))
        if req.method == "DELETE" and rest and entity not in READ_ONLY:
            self.delete(entity, self.lookup(entity, rest))
            return 204, [], b""
        if req.method == "POST" and len(rest) == 1:
            body = req.json_object(AcumaticaError(400, "The request is invalid."))
            target = self.find_record(entity, wire.unwrap(body.get("entity") or {}))
            if target is None:
                raise AcumaticaError(404, "No entity satisfies the condition.")
            self.action(entity, rest[0], target, wire.unwrap(body.get("parameters") or {}))
            location = f"{self.api_path}/{entity}/{rest[0]}/status/{uuid.uuid4()}"
            return 202, [("Location", location)], b""
        raise AcumaticaError(405, f"The requested resource does not support http method '{req.method}'.",
                             "System.Web.Http.HttpResponseException")

    # -- reads -----------------------------------------------------------------------------------------------------
    def lookup(self, entity: str, rest: list[str]) -> Row:
        if len(rest) == 1 and re.fullmatch(r"[0-9a-fA-F-]{36}", rest[0]):
            return self.store.get(entity, rest[0].lower())
        if len(rest) != len(KEYS[entity]):
            raise AcumaticaError(400, f"Specify the key fields of {entity}: {', '.join(KEYS[entity])}.")
        keys = dict(zip(KEYS[entity], rest, strict=True))
        found = self.find_record(entity, keys)
        if found is None:
            raise NotFound(entity, "No entity satisfies the condition.")
        return found

    def find_record(self, entity: str, record: dict) -> Row | None:
        if record.get("id"):
            return self.store.find(entity, str(record["id"]).lower())
        keys = {k: record.get(k) for k in KEYS[entity]}
        if any(v in (None, "") for v in keys.values()):
            return None
        return next((r for r in self.store.rows(entity)
                     if all(str(r.data.get(k, "")).casefold() == str(v).casefold() for k, v in keys.items())), None)

    def render(self, entity: str, row: Row, expand: set[str] = frozenset(), select: str = "",
               custom: str = "") -> dict:
        """A record as Acumatica answers it: ``$expand`` details, ``$select`` fields (key fields always), and the
        ``$custom`` fields under ``custom`` as ``{View: {Field: {"type", "value"}}}``."""
        data = {k: v for k, v in row.data.items() if not k.startswith("_")}
        detail = DETAILS.get(entity)
        if detail and detail not in expand:
            data.pop(detail, None)
        fields = {f.strip() for f in select.split(",") if f.strip()}
        if fields:
            data = {k: v for k, v in data.items() if k in fields | set(KEYS[entity]) or k in expand}
        extra: dict = {}
        for name in (n.strip() for n in custom.split(",") if n.strip()):
            key, kind = self.custom_field(entity, name)
            view, _, field = name.partition(".")
            extra.setdefault(view, {})[field] = {"type": kind, "value": row.data.get(key)}
        return {"id": row.id, "rowNumber": 1, "note": {"value": data.pop("note", "") or ""}, **wire.wrap(data),
                "custom": extra}

    @staticmethod
    def custom_field(entity: str, name: str) -> tuple[str, str]:
        found = CUSTOM.get(entity, {}).get(name)
        if found is None:
            raise AcumaticaError(400, f"The custom field {name} is not found in the {entity} entity.",
                                 "System.ArgumentException")
        return found

    def listing(self, entity: str, params: dict, expand: set[str]) -> list[dict]:
        expression = params.get("$filter", "")
        rows = [r for r in self.store.rows(entity) if self.matches(r.data, expression, entity)]
        skip = int(params.get("$skip") or 0)
        top = int(params["$top"]) if params.get("$top") else None
        page = rows[skip:None if top is None else skip + top]
        select, custom = params.get("$select", ""), params.get("$custom", "")
        return [{**self.render(entity, r, expand, select, custom), "rowNumber": i + 1} for i, r in enumerate(page)]

    def matches(self, data: dict, expression: str, entity: str = "") -> bool:
        """``$filter``: comparisons joined by ``and``; a field of the entity, or a custom one as
        ``cf.String(f='View.Field')``."""
        if not expression.strip():
            return True
        for clause in re.split(r"\s+and\s+", expression.strip()):
            found = COMPARE.match(clause)
            if found is None:
                raise AcumaticaError(400, f"The $filter expression is invalid: {clause}", "System.ArgumentException")
            custom = CUSTOM_FILTER.match(found["field"])
            field = self.custom_field(entity, custom["name"])[0] if custom else found["field"]
            literal, actual = found["value"], data.get(field)
            wanted: Any
            if literal.startswith("datetimeoffset'"):
                wanted, actual = parse_timestamp(literal[15:-1]), parse_timestamp(actual) if actual else 0.0
            elif literal.startswith("'"):
                wanted, actual = literal[1:-1].replace("''", "'").casefold(), str(actual or "").casefold()
            elif literal in ("true", "false"):
                wanted = literal == "true"
            else:
                wanted, actual = Decimal(literal), money(actual)
            if not OPS[found["op"]](actual, wanted):
                return False
        return True

    # -- writes ----------------------------------------------------------------------------------------------------
    def stamp(self) -> dict:
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        return {"LastModifiedDateTime": now.isoformat(timespec="milliseconds")}

    def put(self, entity: str, record: dict, raw: dict) -> Row:
        existing = self.find_record(entity, record)
        if record.get("id") and existing is None:
            raise AcumaticaError(404, "No entity satisfies the condition.")
        if entity == "Invoice":
            return self.put_document(record, raw, existing)
        if entity == "Payment":
            return self.put_payment(record, raw, existing)
        if entity == "Bill":
            return self.put_bill(record, raw, existing)
        if entity == "Check":
            return self.put_check(record, raw, existing)
        if entity == "JournalTransaction":
            return self.put_journal(record, raw, existing)
        return self.put_master(entity, record, raw, existing)

    def put_master(self, entity: str, record: dict, raw: dict, existing: Row | None) -> Row:
        key = KEYS[entity][0]
        changes = {k: v for k, v in record.items() if k not in ("id", "rowNumber", "custom")}
        if existing is not None:
            return self.store.update(entity, existing.id, {**changes, **self.stamp()})
        if not record.get(key):
            raise FieldErrors(entity, raw, {key: f"'{key}' cannot be empty."})
        if entity == "Customer":
            defaults = {"CustomerName": "", "Status": "Active", "CurrencyID": HOME_CURRENCY, "Email": None}
        elif entity == "Vendor":
            defaults = {"VendorName": "", "Status": "Active", "CurrencyID": HOME_CURRENCY}
        else:
            defaults = {"Description": "", "DefaultPrice": ZERO, "ItemStatus": "Active", "ItemType":
                        "Finished Good" if entity == "StockItem" else "Non-Stock Item"}
        return self.store.create(entity, {**defaults, **changes, key: str(record[key]).upper(), **self.stamp()})

    def customer(self, record: dict, raw: dict, entity: str) -> Row:
        found = self.find_record("Customer", {"CustomerID": record.get("CustomerID")})
        if found is None or found.data.get("Status") != "Active":
            raise FieldErrors(entity, raw, {"CustomerID": f"'Customer' cannot be found in the system. "
                                            f"{record.get('CustomerID')}"})
        return found

    def lines(self, old: list[dict], sent: list[dict], raw: dict) -> list[dict]:
        """Detail lines after a PUT: a sent line with an ``id`` updates (or with ``delete`` removes) that line,
        one without is added; every line checked and its amount and tax computed."""
        lines = merge_details(old, sent)
        errors: dict[str, str] = {}
        for index, line in enumerate(lines):
            account = self.store.first("Account", AccountCD=str(line.get("Account") or ""))
            if line.get("Account") is None or account is None or not account.data["Active"]:
                errors[f"Account#{index}"] = f"'Account' cannot be found in the system. {line.get('Account')}"
            category = self.store.first("TaxCategory", TaxCategoryID=str(line.get("TaxCategory") or "EXEMPT"))
            if category is None:
                errors[f"TaxCategory#{index}"] = f"'Tax Category' cannot be found in the system. " \
                                                 f"{line.get('TaxCategory')}"
                continue
            item = line.get("InventoryID")
            if item and self.find_record("NonStockItem", {"InventoryID": item}) is None and \
                    self.find_record("StockItem", {"InventoryID": item}) is None:
                errors[f"InventoryID#{index}"] = f"'Inventory ID' cannot be found in the system. {item}"
            quantity, price = money(line.get("Quantity", 1)), money(line.get("UnitPrice"))
            amount = (quantity * price).quantize(CENT, ROUND_HALF_UP)
            line.update({"Quantity": quantity, "UnitPrice": price, "Amount": amount, "TaxCategory": category.data[
                "TaxCategoryID"], "_tax": (amount * category.data["_rate"] / 100).quantize(CENT, ROUND_HALF_UP)})
        if errors:
            raise FieldErrors("Invoice", {**raw, "Details": [wire.wrap(line) for line in lines]}, errors)
        return lines

    def put_document(self, record: dict, raw: dict, existing: Row | None) -> Row:
        kind = str(record.get("Type") or (existing.data["Type"] if existing else "Invoice"))
        if kind not in ("Invoice", "Credit Memo", "Debit Memo"):
            raise FieldErrors("Invoice", raw, {"Type": f"'{kind}' is not a valid document type."})
        if existing is not None and existing.data["Status"] not in DRAFT:
            locked = set(record) - RELEASED_EDITABLE
            if locked:
                raise business(f"The document {existing.data['ReferenceNbr']} is released and cannot be changed "
                               f"({', '.join(sorted(locked))}).")
            return self.store.update("Invoice", existing.id, {**record, **self.stamp()})
        base = dict(existing.data) if existing else {"Type": kind, "Hold": False, "CurrencyID": HOME_CURRENCY,
                                                     "Date": self.stamp()["LastModifiedDateTime"][:10],
                                                     "Details": []}
        merged = {**base, **{k: v for k, v in record.items() if k not in ("Details", "id", "rowNumber", "custom")}}
        self.customer(merged, raw, "Invoice")
        lines = self.lines(base["Details"], record.get("Details") or [], raw)
        if not lines:
            raise business("The document cannot be saved: add at least one line.")
        tax = sum((line["_tax"] for line in lines), ZERO)
        amount = sum((line["Amount"] for line in lines), ZERO) + tax
        if amount < 0:
            raise business("The document total cannot be negative.")
        merged.update({"Details": lines, "TaxTotal": tax, "Amount": amount, "Balance": amount,
                       "Status": "On Hold" if merged.get("Hold") else "Balanced", **self.stamp()})
        if existing is not None:
            return self.store.update("Invoice", existing.id, merged, replace=True)
        merged["ReferenceNbr"] = f"AR{len(self.store.rows('Invoice')) + len(self.store.rows('Payment')) + 1:06d}"
        return self.store.create("Invoice", merged)

    def put_payment(self, record: dict, raw: dict, existing: Row | None) -> Row:
        kind = str(record.get("Type") or (existing.data["Type"] if existing else "Payment"))
        if existing is not None and existing.data["Status"] not in DRAFT:
            locked = set(record) - RELEASED_EDITABLE - {"DocumentsToApply"}
            if locked:
                raise business(f"The payment {existing.data['ReferenceNbr']} is released and cannot be changed.")
        if kind == "Credit Memo":
            return self.credit_memo_applications(record, raw, existing)
        if kind not in ("Payment", "Refund"):
            raise FieldErrors("Payment", raw, {"Type": f"'{kind}' is not a valid document type."})
        if kind == "Refund":
            self.refund_applications(record.get("DocumentsToApply"), raw)
        base = dict(existing.data) if existing else {"Type": kind, "Hold": False, "CurrencyID": HOME_CURRENCY,
                                                     "ApplicationDate": self.stamp()["LastModifiedDateTime"][:10],
                                                     "DocumentsToApply": [], "PaymentMethod": "CHECK"}
        merged = {**base, **{k: v for k, v in record.items() if k not in ("DocumentsToApply", "id", "rowNumber")}}
        customer = self.customer(merged, raw, "Payment")
        cash = self.store.first("Account", AccountCD=str(merged.get("CashAccount") or ""))
        if cash is None or cash.data["AccountClass"] != "CASH" or not cash.data["Active"]:
            raise FieldErrors("Payment", raw, {"CashAccount": f"'Cash Account' cannot be found in the system. "
                                               f"{merged.get('CashAccount')}"})
        merged["PaymentAmount"] = money(merged.get("PaymentAmount"))
        if merged["PaymentAmount"] <= 0:
            raise FieldErrors("Payment", raw, {"PaymentAmount": "The payment amount must be greater than zero."})
        merged["DocumentsToApply"] = self.applications(base["DocumentsToApply"], record.get("DocumentsToApply"),
                                                       customer, merged["PaymentAmount"])
        merged.update({"Status": "On Hold" if merged.get("Hold") else "Balanced", **self.stamp()})
        if existing is not None:
            return self.store.update("Payment", existing.id, merged, replace=True)
        merged["ReferenceNbr"] = f"AR{len(self.store.rows('Invoice')) + len(self.store.rows('Payment')) + 1:06d}"
        return self.store.create("Payment", merged)

    def applications(self, old: list[dict], sent: list[dict] | None, customer: Row, limit: Decimal) -> list[dict]:
        """Applications after a PUT (sent ones replace those not yet released), each to a released document of
        the customer with that much open."""
        if sent is None:
            return old
        kept = [a for a in old if a.get("_released")]
        for item in sent:
            doc = self.find_record("Invoice", {"Type": item.get("DocType") or "Invoice",
                                               "ReferenceNbr": item.get("ReferenceNbr")})
            if doc is None or doc.data["CustomerID"] != customer.data["CustomerID"] or doc.data["Status"] != "Open":
                raise business(f"The document {item.get('ReferenceNbr')} cannot be applied: it is not an open "
                               f"released document of customer {customer.data['CustomerID']}.")
            paid = money(item.get("AmountPaid"))
            if paid <= 0 or paid > doc.data["Balance"]:
                raise business(f"The amount paid {paid} exceeds the balance of document {doc.data['ReferenceNbr']}.")
            kept.append({"id": str(uuid.uuid4()), "DocType": doc.data["Type"], "ReferenceNbr":
                         doc.data["ReferenceNbr"], "AmountPaid": paid, "Balance": doc.data["Balance"]})
        if sum((money(a["AmountPaid"]) for a in kept), ZERO) > limit:
            raise business("The total amount applied exceeds the amount of the document.")
        return kept

    def credit_memo_applications(self, record: dict, raw: dict, existing: Row | None) -> Row:
        """A credit memo's applications go through the Payment entity, keyed by the memo's reference number."""
        memo = self.find_record("Invoice", {"Type": "Credit Memo", "ReferenceNbr": record.get("ReferenceNbr")})
        if memo is None or memo.data["Status"] != "Open":
            raise FieldErrors("Payment", raw, {"ReferenceNbr": "The credit memo must be released before it is "
                                               "applied."})
        customer = self.store.first("Customer", CustomerID=memo.data["CustomerID"])
        base = dict(existing.data) if existing else {
            "Type": "Credit Memo", "ReferenceNbr": memo.data["ReferenceNbr"], "CustomerID": memo.data["CustomerID"],
            "PaymentAmount": memo.data["Amount"], "PaymentRef": memo.data.get("CustomerOrder"),
            "ApplicationDate": memo.data.get("Date"), "CurrencyID": memo.data.get("CurrencyID"), "Hold": False,
            "DocumentsToApply": []}
        released = sum((a["AmountPaid"] for a in base["DocumentsToApply"] if a.get("_released")), ZERO)
        base["DocumentsToApply"] = self.applications(base["DocumentsToApply"], record.get("DocumentsToApply"),
                                                     customer, memo.data["Balance"] + released)
        base.update({"Status": "Balanced", **self.stamp()})
        if existing is not None:
            return self.store.update("Payment", existing.id, base, replace=True)
        return self.store.create("Payment", base)

    def delete(self, entity: str, row: Row) -> None:
        if entity in DETAILS and row.data["Status"] not in DRAFT:
            raise business(f"The document {row.data.get('ReferenceNbr') or row.data.get('BatchNbr')} is released "
                           "and cannot be deleted.")
        if entity == "Customer" and any(r.data["CustomerID"] == row.data["CustomerID"]
                                        for r in self.store.rows("Invoice")):
            raise business("The customer cannot be deleted because it has documents.")
        if entity == "Vendor" and any(r.data["Vendor"] == row.data["VendorID"] for r in self.store.rows("Bill")):
            raise business("The vendor cannot be deleted because it has documents.")
        self.store.delete(entity, row.id)

    # -- actions ---------------------------------------------------------------------------------------------------
    def action(self, entity: str, name: str, row: Row, parameters: dict) -> None:
        steps = {("Invoice", "ReleaseInvoice"): self.release_invoice, ("Invoice", "VoidInvoice"): self.void_invoice,
                 ("Payment", "ReleasePayment"): self.release_payment, ("Payment", "VoidPayment"): self.void_payment,
                 ("Bill", "ReleaseBill"): self.release_bill, ("Bill", "ReverseBill"): self.reverse_bill,
                 ("Check", "ReleaseCheck"): self.release_check,
                 ("Check", "VoidCheck"): self.void_check,
                 ("JournalTransaction", "ReleaseJournalTransaction"): self.release_journal}
        if (entity, name) == ("Payment", "ReverseApplication"):
            self.reverse_application(row, parameters)
            return
        step = steps.get((entity, name))
        if step is None:
            raise AcumaticaError(404, f"The action {name} does not exist in the {entity} entity.",
                                 "System.ArgumentException")
        step(row)

    def reverse_application(self, row: Row, parameters: dict) -> None:
        """Take back the released applications of a payment or credit memo to one document (the form's "Reverse
        Application"): the document's balance and the memo's (or the payment's unapplied amount) grow again."""
        kept, back = [], ZERO
        for item in row.data["DocumentsToApply"]:
            if item.get("_released") and (item["DocType"], item["ReferenceNbr"]) == (
                    parameters.get("DocType"), parameters.get("ReferenceNbr")):
                doc = self.find_record("Invoice", {"Type": item["DocType"], "ReferenceNbr": item["ReferenceNbr"]})
                self.adjust(doc, item["AmountPaid"])
                back += item["AmountPaid"]
            else:
                kept.append(item)
        if not back:
            raise business(f"The document {parameters.get('ReferenceNbr')} has no released application to reverse.")
        if row.data["Type"] == "Credit Memo":
            memo = self.find_record("Invoice", {"Type": "Credit Memo", "ReferenceNbr": row.data["ReferenceNbr"]})
            self.adjust(memo, back)
        self.store.update("Payment", row.id, {"DocumentsToApply": kept, "Status": self.payment_status(
            row.data["PaymentAmount"], kept), **self.stamp()})

    def release_invoice(self, row: Row) -> None:
        if row.data["Status"] == "On Hold":
            raise business("The document is on hold and cannot be released.")
        if row.data["Status"] != "Balanced":
            raise business(f"The document {row.data['ReferenceNbr']} is already released.")
        self.store.update("Invoice", row.id, {"Status": "Open" if row.data["Amount"] else "Closed", **self.stamp()})

    def void_invoice(self, row: Row) -> None:
        if row.data["Status"] != "Open" or row.data["Balance"] != row.data["Amount"]:
            raise business(f"The document {row.data['ReferenceNbr']} cannot be voided: only a released document "
                           "without applications can be voided.")
        self.store.update("Invoice", row.id, {"Status": "Voided", "Balance": ZERO, **self.stamp()})

    def release_payment(self, row: Row) -> None:
        if row.data["Status"] == "On Hold":
            raise business("The document is on hold and cannot be released.")
        pending = [a for a in row.data["DocumentsToApply"] if not a.get("_released")]
        if row.data["Status"] not in DRAFT and not pending:
            raise business(f"The document {row.data['ReferenceNbr']} is already released.")
        applied = []
        for item in row.data["DocumentsToApply"]:
            if not item.get("_released"):
                doc = self.find_record("Invoice", {"Type": item["DocType"], "ReferenceNbr": item["ReferenceNbr"]})
                self.adjust(doc, -item["AmountPaid"])
                item = {**item, "_released": True}
            applied.append(item)
        changes = {"DocumentsToApply": applied, "Status": self.payment_status(row.data["PaymentAmount"], applied)}
        if row.data["Type"] == "Credit Memo":
            memo = self.find_record("Invoice", {"Type": "Credit Memo", "ReferenceNbr": row.data["ReferenceNbr"]})
            self.adjust(memo, -sum((a["AmountPaid"] for a in pending), ZERO))
        self.store.update("Payment", row.id, {**changes, **self.stamp()})

    @staticmethod
    def payment_status(amount: Decimal, applied: list[dict]) -> str:
        return "Closed" if sum((a["AmountPaid"] for a in applied), ZERO) >= amount else "Open"

    def adjust(self, doc: Row, by: Decimal) -> None:
        balance = doc.data["Balance"] + by
        self.store.update("Invoice", doc.id, {"Balance": balance, "Status": "Closed" if balance == 0 else "Open",
                                              **self.stamp()})

    def void_payment(self, row: Row) -> None:
        if row.data["Type"] not in ("Payment", "Refund") or row.data["Status"] not in RELEASED:
            raise business(f"The document {row.data['ReferenceNbr']} cannot be voided: only a released payment can.")
        for item in row.data["DocumentsToApply"]:
            if item.get("_released"):
                doc = self.find_record("Invoice", {"Type": item["DocType"], "ReferenceNbr": item["ReferenceNbr"]})
                self.adjust(doc, item["AmountPaid"])
        self.store.update("Payment", row.id, {"Status": "Voided", **self.stamp()})
        # Acumatica voids a payment or refund with a counter-document of the same number, released with it
        counter = {k: v for k, v in row.data.items() if k not in ("Type", "Status", "DocumentsToApply", "Hold")}
        self.store.create("Payment", {**counter, "Type": VOIDED_TYPES[row.data["Type"]], "Status": "Closed",
                                      "Hold": False, "DocumentsToApply": [], **self.stamp()})

    # -- what a person does in Acumatica ----------------------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: Any, reference: str = "", date: str = "") -> dict:
        """Enter a payment applied to the invoice on the Payments and Applications form and release it."""
        with self.store.lock:
            invoice = self.lookup("Invoice", str(invoice_id).split("/"))
            row = self.put_payment({"Type": "Payment", "CustomerID": invoice.data["CustomerID"],
                                    "CashAccount": "10200", "PaymentAmount": money(amount), "PaymentRef": reference
                                    or None, **({"ApplicationDate": date} if date else {}),
                                    "DocumentsToApply": [{"DocType": invoice.data["Type"], "ReferenceNbr":
                                                          invoice.data["ReferenceNbr"], "AmountPaid": money(amount)}]},
                                   {}, None)
            self.release_payment(row)
        return {"id": f"Payment/{row.data['ReferenceNbr']}"}

    def edit_invoice_line_as_user(self, invoice_id: str, line: int, amount: Any = None, quantity: Any = None) -> dict:
        """A stand-in, not what Acumatica lets a person do: a released invoice's lines are locked there (a person
        corrects or reverses it). The line is changed in place, tax and totals computed again, so that the
        inbound path has a changed invoice to read: ``amount`` sets the line's amount (its quantity stays),
        ``quantity`` a new quantity at the same unit price."""
        with self.store.lock:
            row = self.lookup("Invoice", str(invoice_id).split("/"))
            lines = [dict(item) for item in row.data["Details"]]
            target = lines[int(line)]
            if quantity is not None:
                target["Quantity"] = money(quantity)
            if amount is not None:
                target["UnitPrice"] = money(amount) / target["Quantity"]
            lines = self.lines([], [{k: v for k, v in item.items() if k not in ("id", "Amount", "_tax")}
                                    for item in lines], {})
            paid = row.data["Amount"] - row.data["Balance"]
            tax = sum((item["_tax"] for item in lines), ZERO)
            amount_now = sum((item["Amount"] for item in lines), ZERO) + tax
            self.store.update("Invoice", row.id, {"Details": lines, "TaxTotal": tax, "Amount": amount_now,
                                                  "Balance": amount_now - paid, **self.stamp()})
        return {"id": str(invoice_id)}

    def void_invoice_as_user(self, invoice_id: str) -> dict:
        with self.store.lock:
            self.void_invoice(self.lookup("Invoice", str(invoice_id).split("/")))
        return {"id": str(invoice_id)}

    def void_refund_as_user(self, refund_id: str) -> dict:
        """Payments and Applications, Void on a released refund: the credit it paid out is the memo's again, the
        refund Voided, and a Voided Refund of the same number entered (released with it here)."""
        with self.store.lock:
            self.void_payment(self.lookup("Payment", str(refund_id).split("/")))
        return {"id": str(refund_id)}

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        with self.store.lock:
            self.delete("Invoice", self.lookup("Invoice", str(invoice_id).split("/")))
        return {"id": str(invoice_id)}

    def archive_account_as_user(self, account_id: str) -> dict:
        with self.store.lock:
            row = self.store.first("Account", AccountCD=str(account_id))
            if row is None:
                raise LookupError(f"no account {account_id}")
            self.store.update("Account", row.id, {"Active": False, **self.stamp()})
        return {"id": str(account_id)}
