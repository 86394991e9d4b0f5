"""A local NetSuite REST web services endpoint on loopback HTTP, built on the sandbox kit.

Routes under ``/services/rest``: ``record/v1/<type>`` (POST creates and answers 204 with ``Location``; GET,
PATCH, DELETE on ``<type>/<id>``; PUT on ``<type>/eid:<externalId>`` upserts), ``query/v1/suiteql`` (POST with
``Prefer: transient``, ``limit``/``offset``, ``hasMore`` and ``links``), and the OAuth 2.0 token endpoint
``auth/oauth2/v1/token``. Every API request is signed with TBA (OAuth 1.0a HMAC-SHA256, ``realm`` = account id)
or carries an OAuth 2.0 bearer token; the account's concurrency limit is shared by every caller (429); a write
may carry ``X-NetSuite-Idempotency-Key``. Errors are NetSuite's ``type``/``title``/``status``/``o:errorDetails``.
Types served: customer, noninventorysaleitem, invoice, customerpayment (``apply`` list), creditmemo (``apply``
list), and read only account, salestaxitem, currency. Lines with a ``taxCode`` (a sales tax item) carry the tax
NetSuite computes (``taxRate1``, ``tax1Amt``); a transaction's ``subtotal``, ``taxTotal`` and ``total`` follow.
Facts and guesses are listed with sources in docs/sandbox-netsuite.md.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote

from ...sandboxkit.faults import Fault
from ...sandboxkit.oauth import AuthServer
from ...sandboxkit.platform import PlatformSandbox, Request, Response, json_response
from ...sandboxkit.resources import Duplicate, NotFound, ResourceError, ResourceStore, Row, Unique
from .. import tba
from .costs import COST_SUBLISTS, USER_VIEW_PARAMS, NetSuiteCosts
from .seed import ACCOUNT_ID, CURRENCY, SUBSIDIARY, seed
from .wire import NetSuiteError, invalid, money, nonexistent, ns_time, user_error

API = "/services/rest"
RECORD = API + "/record/v1/"
SUITEQL = API + "/query/v1/suiteql"
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
#: NetSuite's default account limit on a Tier 1 account without SuiteCloud Plus (15 concurrent requests).
CONCURRENCY = 15
TYPES = ("customer", "noninventorysaleitem", "invoice", "customerpayment", "creditmemo", "customerrefund", "check",
         "journalentry", "vendorbill", "account", "salestaxitem", "currency", "vendor")
WRITABLE = ("customer", "noninventorysaleitem", "invoice", "customerpayment", "creditmemo", "customerrefund", "check",
            "journalentry", "vendorbill", "vendor")
#: SuiteQL ``transaction.type`` of each transaction record.
TRAN_TYPES = {"invoice": "CustInvc", "customerpayment": "CustPymt", "creditmemo": "CustCred",
              "customerrefund": "CustRfnd", "check": "Check", "journalentry": "Journal", "vendorbill": "VendBill"}
#: Transactions whose money goes out or that only post (refunds, checks, journal entries): ``costs.py``.
COSTS = ("customerrefund", "check", "journalentry", "vendorbill")
#: Fields NetSuite computes; a body that sends them is refused ("read-only field").
READ_ONLY = ("total", "subtotal", "taxTotal", "amountRemaining", "status", "lastModifiedDate", "createdDate",
             "applied", "unapplied")
#: What a direct void leaves in the memo (**guess**: NetSuite's help says only that the amounts become zero).
VOID_MEMO = "VOID"
USER_VIEW = USER_VIEW_PARAMS


class NetSuiteSandbox(NetSuiteCosts, PlatformSandbox):
    """One NetSuite account (``company_id``) with TBA credentials, an OAuth 2.0 server and its concurrency limit."""

    platform, title, default_port, ready_path = "netsuite", "Oracle NetSuite (REST)", 8791, "/_sandbox/state"
    api_path, token_path, authorize_path = API, API + "/auth/oauth2/v1/token", "/app/login/oauth2/authorize.nl"
    revoke_path = API + "/auth/oauth2/v1/revoke"
    #: What a person does in NetSuite's UI to take back a refund, an expense (a check) or a journal entry we sent:
    #: the ``<action>_as_user`` helper and its id keyword (a deleted one is in SuiteQL's ``deletedrecord``, a
    #: voided check keeps its id with ``voided`` T and a new ``lastmodifieddate``).
    user_takes_back = {"refund": ("delete_refund", "refund_id"), "expense": ("void_check", "check_id"),
                       "journal": ("delete_journal", "journal_id")}

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] | None = None,
                 account_id: str = ACCOUNT_ID, concurrency: int = CONCURRENCY, timeout_seconds: float = 5.0,
                 verbose: bool = False) -> None:
        super().__init__(host, port, clock, timeout_seconds, verbose)
        self.account_id = account_id
        self.auth = AuthServer(clock=self.clock, access_ttl=3600)  # NetSuite's access tokens live 60 minutes
        #: TBA: the integration record's consumer key/secret and the user's token id/secret.
        self.consumer = ("sandbox-consumer-key", "sandbox-consumer-secret")
        self.tokens = {"sandbox-token-id": "sandbox-token-secret"}
        self.concurrency = concurrency
        self.in_flight = 0
        self._flight = threading.Lock()
        self._nonces: set[tuple[str, str]] = set()
        #: Test hook: called inside the concurrency slot of every API request (a test may block it).
        self.on_request: Callable[[Request], None] | None = None
        self.store = ResourceStore(self.clock)
        for k, name in enumerate(TYPES):
            rules = (Unique(("externalId",)),) if name in WRITABLE else ()
            self.store.declare(name, id_start=1000 + k * 1000, unique=rules)
        self.reset()

    @property
    def company_id(self) -> str:
        return self.account_id

    def seed(self) -> None:
        seed(self.store)

    def extra_state(self) -> dict:
        return {"account_id": self.account_id, "concurrency": self.concurrency}

    def apply_setting(self, name: str, value: Any) -> bool:
        if name == "concurrency":
            self.concurrency = int(value)
            return True
        return False

    def latency_kind(self, request: Request) -> str:
        return "read" if request.path == SUITEQL else super().latency_kind(request)

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":  # NetSuite's own refusal names no wait; an injected one may
            return self._too_many((("Retry-After", str(fault.retry_after)),) if fault.retry_after else ()).response()
        status = 503 if fault.kind == "http_503" else 500
        return NetSuiteError(status, "UNEXPECTED_ERROR", "An unexpected error occurred.").response()

    def store_error(self, error: ResourceError, req: Request) -> NetSuiteError:
        if isinstance(error, NotFound):
            return nonexistent()
        if isinstance(error, Duplicate):  # guessed code: see docs/sandbox-netsuite.md
            return user_error("A record with this external ID already exists.", "externalId")
        return NetSuiteError(409, "USER_ERROR", error.message)

    # -- auth and the shared concurrency slot ---------------------------------------------------------------------
    def url_of(self, req: Request) -> str:
        query = req.environ.get("QUERY_STRING", "")
        host = req.header("Host") or f"{self.host}:{self.port}"
        path = quote(req.path, safe="/:@!$&'()*+,;=-._~")  # WSGI hands the path decoded: encode it back
        return f"http://{host}{path}" + (f"?{query}" if query else "")

    def check_tba(self, req: Request, header: str) -> str | None:
        """None when the OAuth 1.0a signature is good, else why not (NetSuite says only "Invalid login attempt"
        and records the reason in the Login Audit Trail; we keep the reason for tests)."""
        fields = tba.parse(header)
        if fields is None:
            return "missing"
        if fields.get("realm", "") != tba.realm(self.account_id):
            return "realm"
        if fields.get("oauth_signature_method") != tba.SIGNATURE_METHOD:
            return "signature method"
        if fields.get("oauth_consumer_key") != self.consumer[0] or fields.get("oauth_token") not in self.tokens:
            return "unknown consumer or token"
        try:
            stamp = int(fields.get("oauth_timestamp", ""))
        except ValueError:
            return "timestamp"
        if abs(stamp - self.clock()) > 300:
            return "timestamp"
        wanted = tba.signature(req.method, self.url_of(req), fields, self.consumer[1],
                               self.tokens[fields["oauth_token"]])
        if wanted != fields.get("oauth_signature"):
            return "signature"
        nonce = (fields["oauth_token"], fields.get("oauth_nonce", ""))
        with self._flight:
            if nonce in self._nonces:
                return "nonce used"
            self._nonces.add(nonce)
        return None

    def route(self, req: Request) -> Response:
        if (oauth := self.oauth_route(req)) is not None:
            return oauth
        if not req.path.startswith(API + "/"):
            raise NetSuiteError(404, "INVALID_URL", "Invalid URL.")
        header = req.header("Authorization")
        problem = (self.auth.check(header, "Bearer") if header.lower().startswith("bearer ")
                   else self.check_tba(req, header))
        if problem is not None:
            raise NetSuiteError(401, "INVALID_LOGIN", "Invalid login attempt. For more details, see the Login Audit "
                                "Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login "
                                "Audit Trail.")
        with self._flight:
            if self.in_flight >= self.concurrency:
                raise self._too_many()
            self.in_flight += 1
        try:
            if self.on_request is not None:
                self.on_request(req)
            return self.dispatch(req)
        finally:
            with self._flight:
                self.in_flight -= 1

    @staticmethod
    def _too_many(headers: tuple = ()) -> NetSuiteError:
        return NetSuiteError(429, "CONCURRENCY_LIMIT_EXCEEDED",
                             "Concurrent request limit exceeded. Request blocked.", headers=headers)

    def dispatch(self, req: Request) -> Response:
        if req.path == SUITEQL:
            if req.method != "POST":
                raise NetSuiteError(405, "INVALID_REQUEST", "Method not allowed.")
            return self.suiteql(req)
        if not req.path.startswith(RECORD):
            raise NetSuiteError(404, "INVALID_URL", "Invalid URL.")
        parts = req.path[len(RECORD):].split("/")
        kind = parts[0].lower()
        if kind not in TYPES or len(parts) > 2:
            raise NetSuiteError(404, "INVALID_RCRD_TYPE", f"Record type '{parts[0]}' does not exist.")
        ident = parts[1] if len(parts) == 2 else ""
        key = req.header("X-NetSuite-Idempotency-Key")
        if req.method == "GET":
            return self._ok(self.render(kind, self._resolve(kind, ident), req))
        if kind not in WRITABLE:
            raise NetSuiteError(405, "INVALID_REQUEST", "Method not allowed.")
        if req.method == "POST" and not ident:
            return self._once(key, req, lambda: self._created(kind, self.create(kind, self._body(req))))
        if req.method == "PUT" and ident.startswith("eid:"):
            return self._once(key, req, lambda: self._created(kind, self.upsert(kind, ident[4:], self._body(req),
                                                                                    replacing(req))))
        if req.method == "PATCH" and ident:
            return self._once(key, req, lambda: self._created(kind, self.patch(kind, self._resolve(kind, ident).id,
                                                                               self._body(req), replacing(req))))
        if req.method == "DELETE" and ident:
            return self._once(key, req, lambda: self._done(self.delete(kind, self._resolve(kind, ident).id)))
        raise NetSuiteError(405, "INVALID_REQUEST", "Method not allowed.")

    def _once(self, key: str, req: Request, run: Callable[[], Response]) -> Response:
        """A write with ``X-NetSuite-Idempotency-Key`` runs once. A repeat of a key is refused as NetSuite's help
        shows: 400, ``IDEMPOTENCY_ERROR``, ``Location`` naming what the first request made (NetSuite names the
        asynchronous job there; a synchronous request's record is our guess). An error is not remembered (the
        write did not happen), so a corrected retry with the key may run."""
        if not key:
            return run()
        with self.store.lock:
            seen = self.store.recall(f"idempotency {key}")
            if seen is not None:
                return NetSuiteError(400, "IDEMPOTENCY_ERROR", "A request with the same idempotency key is already "
                                     'submitted. See the "Location" header for a link to the previously submitted '
                                     "job", headers=(("Location", seen),)).response()
            answer = run()
            location = dict(answer[1]).get("Location") or f"{self.base_url}{req.path}"
            self.store.remember(f"idempotency {key}", location)
            return answer

    @staticmethod
    def _ok(body: dict) -> Response:
        return json_response(200, body)

    def _created(self, kind: str, row: Row) -> Response:
        return 204, [("Location", f"{self.base_url}{RECORD}{kind}/{row.id}")], b""

    @staticmethod
    def _done(_row: Row) -> Response:
        return 204, [], b""

    @staticmethod
    def _body(req: Request) -> dict:
        return req.json_object(invalid("Invalid JSON in the request body."))

    def _resolve(self, kind: str, ident: str) -> Row:
        if not ident:
            raise NetSuiteError(405, "INVALID_REQUEST", "Method not allowed.")
        if ident.startswith("eid:"):
            row = self.store.first(kind, externalId=ident[4:])
            if row is None:
                raise nonexistent()
            return row
        if not ident.isdigit():
            raise nonexistent()
        return self.store.get(kind, ident)

    # -- records ------------------------------------------------------------------------------------------------------
    def _ref(self, kind: str, value: Any, path: str, required: bool = True) -> dict | None:
        """A reference field ``{"id": "..."}`` (or ``{"externalId": "..."}``) naming a live record of ``kind``."""
        if value in (None, ""):
            if required:
                raise user_error(f"Please enter value(s) for: {path}.", path)
            return None
        if not isinstance(value, dict):
            raise invalid(f"Invalid value for the field {path}. Expected an object.", path)
        if value.get("externalId") and not value.get("id"):
            row = self.store.first(kind, externalId=str(value["externalId"]))
        else:
            row = self.store.find(kind, str(value.get("id", "")))
        if row is None or row.data.get("isInactive"):
            raise user_error(f"Invalid {path} reference key {value.get('id') or value.get('externalId')}.", path)
        return {"id": row.id}

    def _clean(self, kind: str, body: dict, current: dict | None = None,
               replace: frozenset[str] = frozenset()) -> dict:
        """The stored fields of a create or patch body; refuses read-only fields and unknown references."""
        for name in READ_ONLY:
            if name in body:
                raise invalid(f"The field {name} is read-only.", name)
        data = {k: v for k, v in body.items() if k not in ("id", "links", "item", "apply", "expense", "line")}
        check = self._cost_fields if kind in COSTS else self._check_fields
        check(kind, data, {**(current or {}), **data}, current is None)
        if kind in TRAN_TYPES:
            if "currency" in data:
                data["currency"] = self._ref("currency", data["currency"], "currency")
            data.setdefault("tranDate", (current or {}).get("tranDate") or self.today())
            data.setdefault("currency", (current or {}).get("currency") or {"id": CURRENCY})
            data.setdefault("subsidiary", (current or {}).get("subsidiary") or {"id": SUBSIDIARY})
            if kind in COSTS:
                merged = {**(current or {}), **data}
                self._check_currency(kind, merged)
                data["exchangeRate"] = merged["exchangeRate"]
        if kind in COST_SUBLISTS and (COST_SUBLISTS[kind] in body or current is None):
            name = COST_SUBLISTS[kind]
            data[name] = self._cost_lines(kind, self._sublist(body, name, required=current is None),
                                          (current or {}).get(name, []), replace=current is None or name in replace)
        if kind in ("invoice", "creditmemo") and ("item" in body or current is None):
            data["item"] = self._lines(self._sublist(body, "item", required=current is None),
                                       (current or {}).get("item", []), replace=current is None or "item" in replace)
        if kind in ("customerpayment", "creditmemo", "customerrefund") and "apply" in body:
            sent = self._sublist(body, "apply", required=False)
            if current is not None and "apply" not in replace:  # merged by doc: a sent doc's line replaces its own
                docs = {str((a.get("doc") or {}).get("id")) for a in sent if isinstance(a, dict)}
                sent = [a for a in current.get("apply") or [] if a["doc"]["id"] not in docs] + sent
            data["apply"] = sent
        return data


    def _check_fields(self, kind: str, data: dict, merged: dict, new: bool) -> None:
        """Required fields and references of one record type (``data`` is changed in place)."""
        if kind in ("customer", "vendor"):
            if not str(merged.get("companyName") or "").strip():
                raise user_error("Please enter value(s) for: Company Name.", "companyName")
            for field in ("subsidiary", "currency"):
                if field in data and not isinstance(data[field], dict):
                    raise invalid(f"Invalid value for the field {field}. Expected an object.", field)
        elif kind == "noninventorysaleitem":
            if not str(merged.get("itemId") or "").strip():
                raise user_error("Please enter value(s) for: Name.", "itemId")
            if "basePrice" in data:
                data["basePrice"] = money(data["basePrice"], "basePrice")
        elif kind in ("invoice", "creditmemo"):
            if "entity" in data or new:
                data["entity"] = self._ref("customer", merged.get("entity"), "entity")
        elif kind == "customerpayment":
            if "customer" in data or new:
                data["customer"] = self._ref("customer", merged.get("customer"), "customer")
            if "account" in data:
                data["account"] = self._ref("account", data["account"], "account", required=False)
            if "payment" in data or new:
                data["payment"] = money(merged.get("payment", "0"), "payment")
                if data["payment"] <= 0:
                    raise user_error("Please enter value(s) for: Payment Amount.", "payment")

    @staticmethod
    def _sublist(body: dict, name: str, required: bool) -> list[dict]:
        value = body.get(name)
        if value is None:
            if required:
                raise user_error("You must enter at least one line item for this transaction.", name)
            return []
        if not isinstance(value, dict) or not isinstance(value.get("items"), list):
            raise invalid(f"Invalid value for the sublist {name}. Expected an object with items.", name)
        return value["items"]

    def _lines(self, items: list[dict], current: list[dict], replace: bool) -> list[dict]:
        """Item lines: ``item`` reference, ``quantity``, ``rate`` (or ``amount``), ``description``; NetSuite
        numbers them with ``line``. Without ``replace`` (PATCH without ``?replace=item``), a sent line naming an
        existing ``line`` changes it and the others are added, as NetSuite merges sublists."""
        lines = [] if replace else [dict(x) for x in current]
        for n, raw in enumerate(items):
            path = f"item.items[{n}]"
            if not isinstance(raw, dict):
                raise invalid(f"Invalid value for {path}.", path)
            number = raw.get("line")
            if not replace and number is not None:
                if not (isinstance(number, int) and 1 <= number <= len(current)):
                    raise invalid(f"Invalid value for {path}.line.", f"{path}.line")
                base = current[number - 1]
                raw = {"item": base["item"], **({"taxCode": base["taxCode"]} if base.get("taxCode") else {}),
                       "quantity": base["quantity"], "description": base["description"],
                       **({"rate": base["rate"]} if "rate" not in raw and "amount" not in raw else {}),
                       **{k: v for k, v in raw.items() if k != "line"}}
            quantity = money(raw.get("quantity", 1), f"{path}.quantity")
            rate = money(raw["rate"], f"{path}.rate") if raw.get("rate") is not None else None
            amount = (money(raw["amount"], f"{path}.amount") if raw.get("amount") is not None
                      else (quantity * rate).quantize(CENT) if rate is not None else None)
            if amount is None:
                raise user_error("Please enter value(s) for: Amount.", f"{path}.amount")
            line = {"item": self._ref("noninventorysaleitem", raw.get("item"), f"{path}.item"),
                    "description": str(raw.get("description") or ""), "quantity": quantity,
                    "rate": rate if rate is not None else amount, "amount": amount}
            tax = raw.get("taxCode")
            if tax not in (None, ""):
                line["taxCode"] = self._ref("salestaxitem", tax, f"{path}.taxCode")
                percent = self.store.get("salestaxitem", line["taxCode"]["id"]).data["rate"]
                line["taxRate1"] = percent
                line["tax1Amt"] = (amount * percent / 100).quantize(CENT, ROUND_HALF_UP)
            if not replace and number is not None:
                lines[number - 1] = line
            else:
                lines.append(line)
        if not lines:
            raise user_error("You must enter at least one line item for this transaction.", "item")
        for k, line in enumerate(lines, 1):
            line["line"] = k
        return lines

    def _applications(self, kind: str, rid: str, data: dict) -> list[dict]:
        """Check an ``apply`` list: each ``doc`` an open invoice of the same customer, ``amount`` no more than
        its remaining amount, the total no more than the payment (or the credit memo's total)."""
        customer = (data.get("customer") or data.get("entity") or {}).get("id")
        applied, total = [], ZERO
        for n, raw in enumerate(data.get("apply") or []):
            path = f"apply.items[{n}]"
            if not isinstance(raw, dict) or not isinstance(raw.get("doc"), dict):
                raise invalid(f"Invalid value for {path}.doc.", f"{path}.doc")
            if raw.get("apply") is False:
                continue
            doc = self.store.find("invoice", str(raw["doc"].get("id", "")))
            if doc is None or (doc.data.get("entity") or {}).get("id") != customer:
                raise user_error(f"Invalid apply reference key {raw['doc'].get('id')}.", f"{path}.doc")
            remaining = self.remaining(doc, skip=(kind, rid))
            amount = money(raw.get("amount", remaining), f"{path}.amount")
            if amount <= 0 or amount > remaining:
                raise user_error(f"The amount applied to invoice {doc.data.get('tranId')} exceeds its amount "
                                 "due.", f"{path}.amount")
            applied.append({"doc": {"id": doc.id}, "apply": True, "amount": amount})
            total += amount
        taken = self.refunded(self.store.get(kind, rid)) if rid else ZERO  # what refunds took from it
        limit = (data.get("payment") if kind == "customerpayment" else self.tran_total(data)) - taken
        if total > limit:
            raise user_error("The total amount applied exceeds the amount available.", "apply")
        return applied

    @staticmethod
    def subtotal(data: dict) -> Decimal:
        return sum((line["amount"] for line in data.get("item") or []), ZERO)

    @staticmethod
    def tax_total(data: dict) -> Decimal:
        """Tax computed per line (legacy tax: each line's rate times its amount, to the cent), then summed."""
        return sum((line.get("tax1Amt") or ZERO for line in data.get("item") or []), ZERO)

    @classmethod
    def tran_total(cls, data: dict) -> Decimal:
        return cls.subtotal(data) + cls.tax_total(data)

    def remaining(self, invoice: Row, skip: tuple[str, str] = ("", "")) -> Decimal:
        """An invoice's amount due: its total less what payments and credit memos apply to it."""
        used = ZERO
        for kind in ("customerpayment", "creditmemo"):
            for row in self.store.rows(kind):
                if (kind, row.id) == skip:
                    continue
                used += sum((a["amount"] for a in row.data.get("apply") or [] if a["doc"]["id"] == invoice.id), ZERO)
        return self.tran_total(invoice.data) - used

    def create(self, kind: str, body: dict) -> Row:
        with self.store.lock:
            data = self._clean(kind, body)
            if kind in TRAN_TYPES:
                data.setdefault("tranId", f"{TRAN_TYPES[kind][:3].upper()}{len(self.store.rows(kind)) + 1:05d}")
            if kind in ("customerpayment", "creditmemo"):
                data["apply"] = self._applications(kind, "", data)
            if kind == "customerrefund":
                data["apply"] = self._refund_applications("", data)
            return self.store.create(kind, data)

    def patch(self, kind: str, rid: str, body: dict, replace: frozenset[str] = frozenset()) -> Row:
        with self.store.lock:
            current = self.store.get(kind, rid).data
            if current.get("_voided") and any(name in body for name in ("item", "apply", "expense", "line")):
                raise user_error("You cannot change a voided transaction.")
            data = self._clean(kind, body, current, replace)
            if kind in ("customerpayment", "creditmemo"):
                merged = {**current, **data}
                if "apply" not in body:
                    merged["apply"] = [{**a, "amount": a["amount"]} for a in current.get("apply") or []]
                data["apply"] = self._applications(kind, rid, merged)
            if kind == "customerrefund":
                merged = {**current, **data}
                data["apply"] = self._refund_applications(rid, merged)
            if kind == "invoice" and "item" in data and self.tran_total(data) < self.tran_total(current) - \
                    self.remaining(self.store.get(kind, rid)):
                raise user_error("The total cannot be less than the amount already paid or credited.", "item")
            return self.store.update(kind, rid, data)

    def upsert(self, kind: str, external_id: str, body: dict, replace: frozenset[str] = frozenset()) -> Row:
        """``PUT /<type>/eid:<externalId>``: create with that external id, or replace the fields the body sends."""
        if "externalId" in body and str(body["externalId"]) != external_id:
            raise invalid("The external ID in the body does not match the one in the URL.", "externalId")
        with self.store.lock:
            row = self.store.first(kind, externalId=external_id)
            if row is None:
                return self.create(kind, {**body, "externalId": external_id})
            return self.patch(kind, row.id, body, replace)

    def delete(self, kind: str, rid: str) -> Row:
        """Delete as NetSuite does: an invoice something is applied to, or a customer or item in use, cannot go."""
        with self.store.lock:
            row = self.store.get(kind, rid)
            if kind == "invoice" and self.remaining(row) != self.tran_total(row.data):
                raise user_error("This record cannot be deleted because it has dependent records.")
            if kind in ("creditmemo", "customerpayment") and self.refunded(row):
                raise user_error("This record cannot be deleted because it has dependent records.")
            if kind in ("customer", "vendor") and any(
                    (r.data.get("entity") or r.data.get("customer") or {}).get("id") == rid
                    for t in TRAN_TYPES for r in self.store.rows(t)):
                raise user_error("This record cannot be deleted because it has dependent records.")
            if kind == "noninventorysaleitem" and any(line["item"]["id"] == rid for t in ("invoice", "creditmemo")
                                                      for r in self.store.rows(t) for line in r.data["item"]):
                raise user_error("This record cannot be deleted because it has dependent records.")
            return self.store.delete(kind, rid)

    def render(self, kind: str, row: Row, req: Request) -> dict:
        """A record as record/v1 answers it: ``links``, ``id``, references as ``{"id", "refName", "links"}``,
        sublists as links unless ``expandSubResources=true``, computed totals."""
        href = f"{self.base_url}{RECORD}{kind}/{row.id}"
        expand = req.params.get("expandSubResources", "").lower() == "true"
        out: dict[str, Any] = {"links": [{"rel": "self", "href": href}], "id": row.id}
        for name, value in row.data.items():
            if name.startswith("_"):  # the sandbox's own bookkeeping
                continue
            if name in ("item", "apply", "expense", "line"):
                sub = {"links": [{"rel": "self", "href": f"{href}/{name}"}]}
                if expand:
                    sub["items"] = [self._expand(line) for line in value]
                    sub["totalResults"] = len(value)
                out[name] = sub
            else:
                out[name] = self._expand_ref(name, value, kind)
        out["lastModifiedDate"] = ns_time(row.modified)
        out["createdDate"] = ns_time(row.created)
        if kind in ("invoice", "creditmemo"):
            total = self.tran_total(row.data)
            out["subtotal"], out["taxTotal"], out["total"] = self.subtotal(row.data), self.tax_total(row.data), total
            if row.data.get("_voided"):
                out["status"] = {"id": "V", "refName": "Voided"}
            if kind == "invoice":
                due = self.remaining(row)
                out["amountRemaining"] = due
                if not row.data.get("_voided"):
                    out["status"] = {"id": "B" if due == 0 else "A",
                                     "refName": "Paid In Full" if due == 0 else "Open"}
            else:
                applied = sum((a["amount"] for a in row.data.get("apply") or []), ZERO)
                out["applied"], out["unapplied"] = applied, self.credit_left(row)
        if kind == "customerpayment":
            applied = sum((a["amount"] for a in row.data.get("apply") or []), ZERO)
            out["applied"], out["unapplied"] = applied, self.credit_left(row)
        if kind in COSTS:
            self.render_cost(kind, row, out)
        return out

    def _expand(self, line: dict) -> dict:
        return {k: self._expand_ref(k, v) for k, v in line.items()}

    def _expand_ref(self, name: str, value: Any, record: str = "") -> Any:
        """A reference with its ``refName`` and link; a check's or vendor bill's ``entity`` is a vendor."""
        if not (isinstance(value, dict) and set(value) == {"id"}):
            return value
        if name == "entity" and record in ("check", "vendorbill"):
            name = "vendor"
        kind = {"entity": "customer", "vendor": "vendor", "customer": "customer", "item": "noninventorysaleitem",
                "doc": "invoice", "account": "account", "incomeAccount": "account", "taxCode": "salestaxitem",
                "currency": "currency"}.get(name)
        row = self.store.find(kind, value["id"]) if kind else None
        ref = {**value}
        if row is not None:
            ref["refName"] = (row.data.get("companyName") or row.data.get("itemId") or row.data.get("acctName")
                              or row.data.get("tranId") or row.data.get("name") or row.id)
            ref["links"] = [{"rel": "self", "href": f"{self.base_url}{RECORD}{kind}/{row.id}"}]
        return ref

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()

    # -- what a person does in NetSuite's UI ----------------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: Any, reference: str = "",
                               date: str | None = None) -> dict:
        """A customer payment entered in NetSuite's UI, applied to one invoice, into Undeposited Funds; ``reference``
        goes in its memo."""
        invoice = self.store.get("invoice", str(invoice_id))
        row = self.create("customerpayment", {
            "customer": invoice.data["entity"], "payment": str(amount), "account": {"id": "122"},
            "tranDate": date or self.today(), "memo": reference or None,
            "apply": {"items": [{"doc": {"id": invoice.id}, "apply": True, "amount": str(amount)}]}})
        return self.render("customerpayment", row, USER_VIEW)

    def edit_invoice_line_as_user(self, invoice_id: str, line: int = 0, amount: Any = None,
                                  rate: Any = None, quantity: Any = None, description: str | None = None) -> dict:
        """``amount`` sets the line's amount (rate = amount / quantity)."""
        current = self.store.get("invoice", str(invoice_id)).data
        lines = [{**li, "item": dict(li["item"])} for li in current["item"]]
        target = lines[int(line)]
        if quantity is not None:  # NetSuite recomputes the amount from the rate
            target["quantity"], target["amount"] = money(quantity, "quantity"), None
        if rate is not None:
            target["rate"], target["amount"] = money(rate, "rate"), None
        if amount is not None:
            target["amount"] = money(amount, "amount")
            target["rate"] = (target["amount"] / target["quantity"]).quantize(CENT)
        if description is not None:
            target["description"] = description
        for li in lines:
            li.pop("line", None)
            if li.get("amount") is None:
                li.pop("amount", None)
        row = self.patch("invoice", str(invoice_id), {"item": {"items": lines}}, frozenset({"item"}))
        return self.render("invoice", row, USER_VIEW)

    def void_invoice_as_user(self, invoice_id: str, **_: Any) -> dict:
        """A direct void (the account does not void with reversing journals): the total and every line become
        zero, the status Voided, the record stays. NetSuite refuses it while a payment or credit is applied."""
        with self.store.lock:
            invoice = self.store.get("invoice", str(invoice_id))
            if self.remaining(invoice) != self.tran_total(invoice.data):
                raise user_error("This transaction cannot be voided because it has payments or credits applied.")
            lines = [{**li, "rate": ZERO, "amount": ZERO, **({"tax1Amt": ZERO} if "taxCode" in li else {})}
                     for li in invoice.data["item"]]
            row = self.store.update("invoice", invoice.id, {"item": lines, "memo": VOID_MEMO, "_voided": True})
        return self.render("invoice", row, USER_VIEW)

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        self.delete("invoice", str(invoice_id))
        return {"id": str(invoice_id), "deleted": True}

    def delete_payment_as_user(self, payment_id: str) -> dict:
        self.delete("customerpayment", str(payment_id))
        return {"id": str(payment_id), "deleted": True}

    def archive_account_as_user(self, account_id: str) -> dict:
        """The GL account made inactive; a payment into it is refused from then on."""
        return self.render("account", self.store.update("account", str(account_id), {"isInactive": True}), USER_VIEW)

    # -- SuiteQL ----------------------------------------------------------------------------------------------------
    def suiteql(self, req: Request) -> Response:
        """The subset of SuiteQL our connector sends (see :data:`QUERY`); anything else is refused as NetSuite
        refuses a query it cannot parse. Pages: ``limit`` (at most 1000) and ``offset``."""
        if req.header("Prefer").lower() != "transient":
            raise invalid("The Prefer header must be set to transient for SuiteQL queries.")
        body = self._body(req)
        try:
            limit = int(req.params.get("limit", "1000"))
            offset = int(req.params.get("offset", "0"))
        except ValueError:
            raise invalid("Invalid value for limit or offset.") from None
        if not 1 <= limit <= 1000 or offset < 0 or offset % limit:
            raise invalid("Invalid paging: limit must be 1 to 1000 and offset a multiple of limit.")
        rows = self.query_rows(str(body.get("q") or ""))
        page = rows[offset:offset + limit]
        more = offset + limit < len(rows)
        base = f"{self.base_url}{SUITEQL}"
        links = [{"rel": "self", "href": f"{base}?limit={limit}&offset={offset}"}]
        if more:
            links.append({"rel": "next", "href": f"{base}?limit={limit}&offset={offset + limit}"})
        return self._ok({"links": links, "count": len(page), "hasMore": more, "items": page, "offset": offset,
                         "totalResults": len(rows)})

    def query_rows(self, q: str) -> list[dict]:
        match = QUERY.fullmatch(q.strip().rstrip(";"))
        if match is None:
            raise invalid("Invalid search query. Detailed unprocessed description follows. Search error "
                          "occurred: this sandbox understands only the queries listed in docs/sandbox-netsuite.md.")
        columns = [c.strip().lower() for c in match["columns"].split(",")]
        table = match["table"].lower()
        rows = self._table(table)
        for cond in re.split(r"\s+AND\s+", match["where"] or "", flags=re.I) if match["where"] else []:
            rows = [r for r in rows if self._holds(cond.strip(), r)]
        order = (match["order"] or "id").lower()
        if order not in ("id", "lastmodifieddate", "deleteddate"):
            raise invalid(f"Invalid search query: unknown ORDER BY column {order}.")
        rows.sort(key=lambda r: (r[order], int(r["id"])))
        for column in columns:
            if column != "*" and rows and column not in rows[0]:
                raise invalid(f"Invalid search query: field {column} not found on {table}.")
        keep = (lambda r: r) if columns == ["*"] else (lambda r: {c: r[c] for c in columns})
        return [{"links": [], **{k: v for k, v in keep(r).items() if v not in (None, "")}} for r in rows]

    def _table(self, table: str) -> list[dict]:
        if table == "transaction":
            out = []
            for kind, code in TRAN_TYPES.items():
                for row in self.store.rows(kind):
                    party = row.data.get("entity") or row.data.get("customer") or {}
                    total = (row.data["payment"] if kind == "customerpayment" else self.cost_total(kind, row.data)
                             if kind in COSTS else self.tran_total(row.data))
                    out.append({"id": row.id, "type": code, "tranid": row.data.get("tranId"),
                                "entity": party.get("id"), "externalid": row.data.get("externalId"),
                                "trandate": row.data.get("tranDate"), "foreigntotal": str(total),
                                "voided": flag(row.data.get("_voided")),
                                "lastmodifieddate": sql_time(row.modified)})
            return out
        if table in ("customer", "vendor"):
            return [{"id": r.id, "companyname": r.data.get("companyName"), "externalid": r.data.get("externalId"),
                     "isinactive": flag(r.data.get("isInactive")), "lastmodifieddate": sql_time(r.modified)}
                    for r in self.store.rows(table)]
        if table == "item":
            return [{"id": r.id, "itemid": r.data.get("itemId"), "externalid": r.data.get("externalId"),
                     "itemtype": "NonInvtPart", "incomeaccount": (r.data.get("incomeAccount") or {}).get("id"),
                     "isinactive": flag(r.data.get("isInactive")), "lastmodifieddate": sql_time(r.modified)}
                    for r in self.store.rows("noninventorysaleitem")]
        if table == "account":
            return [{"id": r.id, "acctnumber": r.data.get("acctNumber"), "fullname": r.data.get("acctName"),
                     "accttype": (r.data.get("acctType") or {}).get("id"), "isinactive": flag(r.data.get("isInactive"))}
                    for r in self.store.rows("account")]
        if table == "currency":
            return [{"id": r.id, "name": r.data.get("name"), "symbol": r.data.get("symbol"),
                     "isbasecurrency": flag(r.data.get("isBaseCurrency")),
                     "isinactive": flag(r.data.get("isInactive"))} for r in self.store.rows("currency")]
        if table == "salestaxitem":
            return [{"id": r.id, "itemid": r.data.get("itemId"), "rate": str(r.data.get("rate")),
                     "isinactive": flag(r.data.get("isInactive"))} for r in self.store.rows("salestaxitem")]
        if table == "deletedrecord":  # the record type as record/v1 names it: a guess (docs/sandbox-netsuite.md)
            gone = sorted((when, kind, rid) for kind in WRITABLE for rid, when in self.store.deleted_since(kind, 0.0))
            return [{"id": str(n), "recordid": rid, "type": kind, "deleteddate": sql_time(when)}
                    for n, (when, kind, rid) in enumerate(gone, 1)]
        raise invalid(f"Invalid search query: unknown table {table}.")

    @staticmethod
    def _holds(cond: str, row: dict) -> bool:
        m = CONDITION.fullmatch(cond)
        if m is None:
            raise invalid(f"Invalid search query: cannot parse condition {cond}.")
        column, op = m["column"].lower(), m["op"]
        if column not in row:
            raise invalid(f"Invalid search query: field {column} not found.")
        value = m["stamp"] or (m["text"] or "").replace("''", "'")
        have = row[column]
        if have is None:
            return False
        return {"=": have == value, ">=": have >= value, ">": have > value, "<": have < value}[op]


def replacing(req: Request) -> frozenset[str]:
    """The sublists ``?replace=item,apply`` names: sent whole, replacing the record's lines."""
    return frozenset(p.strip() for p in req.params.get("replace", "").split(",") if p.strip())


def flag(value: Any) -> str:
    """A checkbox as SuiteQL answers it: ``T`` or ``F``."""
    return "T" if value else "F"


def sql_time(epoch: float) -> str:
    """SuiteQL's ``lastmodifieddate`` as our queries select it (a guess at the user's date format: ISO)."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


#: ``SELECT cols FROM table [WHERE cond [AND cond]...] [ORDER BY col [ASC]]``.
QUERY = re.compile(r"SELECT\s+(?P<columns>\*|[\w\s,]+?)\s+FROM\s+(?P<table>\w+)"
                   r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+ASC)?)?", re.I | re.S)
#: ``col = 'text'`` or ``col >= TO_TIMESTAMP('YYYY-MM-DD HH24:MI:SS', 'YYYY-MM-DD HH24:MI:SS')``.
CONDITION = re.compile(r"(?P<column>\w+)\s*(?P<op>>=|=|>|<)\s*(?:'(?P<text>(?:[^']|'')*)'|TO_TIMESTAMP\(\s*'"
                       r"(?P<stamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)'\s*,\s*'YYYY-MM-DD HH24:MI:SS'\s*\))", re.I)

