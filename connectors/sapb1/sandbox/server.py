"""The SAP Business One Service Layer (``/b1s/v2/``) on loopback HTTP, built on the sandbox kit.

- ``POST Login`` ``{CompanyDB, UserName, Password}``: ``{SessionId, Version, SessionTimeout}`` and the
  ``B1SESSION`` and ``ROUTEID`` cookies. A session idles out after ``SessionTimeout`` minutes (30) without a
  request; ``POST Logout`` ends it. A request without a live session: 401, code 301, "Invalid session or session
  already timeout.".
- Entity sets: ``BusinessPartners('code')``, ``Items('code')``, ``ChartOfAccounts('code')``, ``VatGroups('code')``,
  ``Invoices(n)``, ``CreditNotes(n)``, ``IncomingPayments(n)``, ``VendorPayments(n)`` (by ``DocEntry``) and
  ``JournalEntries(n)`` (by ``JdtNum``); ``POST`` creates, ``PATCH`` updates (a posted document's lines cannot
  change), ``<set>(n)/Cancel`` cancels (a journal entry by the reversing entry: sandbox/costs.py).
- OData: collections under ``value`` with ``@odata.context``; ``$filter`` (``eq``, ``ne``, ``gt``, ``ge``, ``lt``,
  ``le`` joined by ``and``), ``$select``, ``$orderby`` (one field); server-driven paging of 20 rows, or what
  ``Prefer: odata.maxpagesize`` asks, answered with ``Preference-Applied`` and ``@odata.nextLink`` (relative to the
  service root, ``Invoices?$skip=20...``).
- Errors: ``{"error": {"code": <number>, "message": {"lang": "en-us", "value": "..."}}}``.
- ``POST $batch``: OData's multipart batch (``connectors.multipart``): requests and change sets in one request,
  answered ``202 Accepted`` with one part per request or change set; a change set is applied all or nothing (a
  failed one answers its one error response, and nothing of it is kept); without ``Prefer:
  odata.continue-on-error`` the batch stops at the first failure and the parts after it go unanswered.

Sources and guesses: docs/sandbox-sapb1.md.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import secrets
import threading
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from ... import multipart
from ...sandboxkit.faults import Fault
from ...sandboxkit.platform import PlatformError, PlatformSandbox, Request, Response, decimal_value, json_response
from ...sandboxkit.resources import Conflict, NotFound, ResourceError, ResourceStore, Row
from .costs import ServiceLayerCosts
from .seed import ACCOUNTS, CASH_ACCOUNTS, COMPANY_DB, CURRENCIES, HOME_CURRENCY, PASSWORD, USER, VAT_GROUPS

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
SESSION_MINUTES = 30
DEFAULT_PAGE = 20
VERSION = "1000190"
KEYED = {"BusinessPartners": "CardCode", "Items": "ItemCode", "ChartOfAccounts": "Code", "VatGroups": "Code",
         "Currencies": "Code"}
READ_ONLY = ("ChartOfAccounts", "VatGroups", "Currencies")
DOCUMENTS = ("Invoices", "CreditNotes", "IncomingPayments", "VendorPayments")
JOURNALS = "JournalEntries"
RECONCILIATIONS = "InternalReconciliations"
#: Object types a reconciliation row names (``SrcObjTyp``): A/R invoice, A/R credit note.
OBJECT_TYPES = {"13": "Invoices", "14": "CreditNotes"}
SEGMENT = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<key>[^)]*)\))?$")
COMPARE = re.compile(r"^\s*(?P<field>[A-Za-z]+)\s+(?P<op>eq|ne|gt|ge|lt|le)\s+(?P<value>'(?:[^']|'')*'|\S+)\s*$")
OPS = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
       "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}
#: Header fields a PATCH may change on a posted document (its lines and amounts are fixed once added).
PATCHABLE = {"Invoices": {"NumAtCard", "Comments", "DocDueDate"}, "CreditNotes": {"NumAtCard", "Comments"},
             "IncomingPayments": {"CounterReference", "Remarks"},
             "VendorPayments": {"CounterReference", "Remarks", "JournalRemarks"},
             JOURNALS: {"Memo", "Reference", "Reference2"}}


class _ChangesetFailed(Exception):
    """A request of a change set failed: the store undoes the change set's earlier requests."""


class SLError(PlatformError):
    """A Service Layer error answer: HTTP status and ``{"error": {"code", "message": {"lang", "value"}}}``."""

    def __init__(self, status: int, code: int, message: str, headers: tuple = ()) -> None:
        super().__init__(status, {"error": {"code": code, "message": {"lang": "en-us", "value": message}}}, headers)
        self.code, self.message = code, message


def invalid_session() -> SLError:
    return SLError(401, 301, "Invalid session or session already timeout.")


def not_found() -> SLError:
    return SLError(404, -2028, "No matching records found (ODBC -2028)")


def bad(message: str, code: int = -5002) -> SLError:
    return SLError(400, code, message)


def money(value: Any, field: str) -> Decimal:
    try:
        return decimal_value(value, ZERO)
    except ValueError:
        raise bad(f"Property '{field}' has invalid value", -1000) from None


class ServiceLayerSandbox(ServiceLayerCosts, PlatformSandbox):
    """One company database (``COMPANY_DB``), its sessions, master data and documents."""

    platform, title, default_port, ready_path = "sapb1", "SAP Business One Service Layer", 8780, "/_sandbox/state"
    api_path = "/b1s/v2"
    authorize_path = "/b1s/v2/_connect"  # stand-in for the Connect button: the Service Layer has no consent page
    token_path = "/b1s/v2/Login"  # nosec B105 - a URL path, not a password: where a session is had (latency "auth")

    #: What a Business One user cannot do at all (the shared test harness skips such a step, with this reason).
    impossible_actions = {"edit_invoice_line": "Business One never changes an added invoice's lines or amounts; a "
                                               "person cancels the invoice and adds a new one",
                          "delete_invoice": "Business One deletes no added invoice; a person cancels it"}
    #: What a user does to take back a refund, an expense or a journal we sent (entity -> the ``*_as_user`` action
    #: and its id keyword): Business One deletes none; the outgoing payment is cancelled (``Cancelled`` tYES, its
    #: ``UpdateDate`` / ``UpdateTime`` stamped), the journal entry cancelled by the reversing entry it adds.
    user_takes_back = {"refund": ("cancel_outgoing_payment", "payment_id"),
                       "expense": ("cancel_outgoing_payment", "payment_id"),
                       "journal": ("cancel_journal", "journal_id")}

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self.store = ResourceStore(self.clock)
        for name in KEYED:
            self.store.declare(name)
        for name in (*DOCUMENTS, JOURNALS):
            self.store.declare(name, versioned=True)
        self.store.declare(RECONCILIATIONS)
        self.sessions: dict[str, float] = {}  # session id -> last request (sandbox clock)
        self.logins = 0
        self._lock = threading.Lock()
        self.seed()

    home = HOME_CURRENCY

    @staticmethod
    def bad(message: str, code: int = -5002) -> SLError:
        return bad(message, code)

    @staticmethod
    def money(value: Any, field: str) -> Decimal:
        return money(value, field)

    @property
    def company_id(self) -> str:
        return COMPANY_DB

    def seed(self) -> None:
        for code, name, kind in ACCOUNTS:
            self.store.create("ChartOfAccounts", {"Code": code, "Name": name, "AccountType": kind,
                                                  "ActiveAccount": "tYES",
                                                  "CashAccount": "tYES" if code in CASH_ACCOUNTS else "tNO"}, code)
        for code, name in CURRENCIES:
            self.store.create("Currencies", {"Code": code, "Name": name}, code)
        for code, name, rate in VAT_GROUPS:
            self.store.create("VatGroups", {"Code": code, "Name": name, "Category": "bovcOutputTax",
                                            "VatGroups_Lines": [{"Rate": Decimal(rate)}], "Inactive": "tNO"}, code)

    @property
    def client_id(self) -> str:
        """The user name a connection logs in with (its client id)."""
        return USER

    @property
    def token_calls(self) -> int:
        """Logins (the Service Layer's "token" calls)."""
        return self.logins

    def extra_state(self) -> dict:
        return {"company_db": COMPANY_DB, "sessions": len(self.sessions), "logins": self.logins}

    # -- sessions --------------------------------------------------------------------------------------------------
    def issue_tokens(self) -> dict:
        session = self._open()
        return {"access_token": session, "refresh_token": session, "expires_in": SESSION_MINUTES * 60}

    def token_problem(self, access_token: str) -> str | None:
        with self._lock:
            last = self.sessions.get(access_token)
        if last is None:
            return "invalid"
        return "expired" if self.clock() - last > SESSION_MINUTES * 60 else None

    def expire_sessions(self) -> None:
        """Every open session idles out (what 30 minutes without a request do)."""
        with self._lock:
            self.sessions.clear()

    def _open(self) -> str:
        session = f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"
        with self._lock:
            self.sessions[session] = self.clock()
            self.logins += 1
        return session

    def _session(self, req: Request) -> str:
        cookies = dict(part.strip().split("=", 1) for part in req.header("Cookie").split(";") if "=" in part)
        session = cookies.get("B1SESSION", "")
        if self.token_problem(session) is not None:
            with self._lock:
                self.sessions.pop(session, None)
            raise invalid_session()
        with self._lock:
            self.sessions[session] = self.clock()
        return session

    def _login(self, req: Request) -> Response:
        body = req.json_object(bad("Invalid JSON body", -1000))
        if body.get("CompanyDB") != COMPANY_DB:
            raise SLError(401, -304, f"Fail to get DB Credentials from SLD. Company '{body.get('CompanyDB')}'")
        if body.get("UserName") != USER or body.get("Password") != PASSWORD:
            raise SLError(401, 100000027, "Login failed")
        session = self._open()
        return json_response(200, {"odata.metadata": f"{self.api_base}/$metadata#B1Sessions/@Element",
                                   "SessionId": session, "Version": VERSION, "SessionTimeout": SESSION_MINUTES},
                             [("Set-Cookie", f"B1SESSION={session}; path=/b1s/v2; HttpOnly"),
                              ("Set-Cookie", "ROUTEID=.node1; path=/b1s")])

    # -- routing ----------------------------------------------------------------------------------------------------
    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "rate_limit":
            return SLError(429, -1, "Too many requests", (("Retry-After", str(fault.retry_after or 60)),)).response()
        status = 503 if fault.kind == "http_503" else 500
        return SLError(status, -1, "Internal server error").response()

    def store_error(self, error: ResourceError, request: Request) -> PlatformError:
        if isinstance(error, NotFound):
            return not_found()
        if isinstance(error, Conflict):
            return SLError(409, -2039, "Another user or another operation modified data; to cancel your changes, "
                           "close the window; to keep your changes, reopen the window")
        return bad(error.message)

    def route(self, req: Request) -> Response:
        if req.path == self.authorize_path and req.method == "GET":
            return self._connect(req.params)
        if not req.path.startswith(self.api_path + "/"):
            raise SLError(404, -1, "Resource not found for the segment")
        tail = req.path[len(self.api_path) + 1:]
        if tail == "Login" and req.method == "POST":
            return self._login(req)
        session = self._session(req)
        if tail == "Logout" and req.method == "POST":
            with self._lock:
                self.sessions.pop(session, None)
            return 204, [], b""
        if tail == "$batch" and req.method == "POST":
            return self.batch(req)
        if tail == "InternalReconciliationsService_Cancel" and req.method == "POST":
            body = req.json_object(bad("Invalid JSON body", -1000))
            self.unreconcile(str((body.get("ReconParams") or {}).get("ReconNum") or ""))
            return 204, [], b""
        if tail == "CompanyService_GetAdminInfo" and req.method == "POST":
            return json_response(200, {"@odata.context": f"{self.api_base}/$metadata#AdminInfo", "CompanyName":
                                       "Sandbox Company", "LocalCurrency": HOME_CURRENCY,
                                       "SystemCurrency": HOME_CURRENCY})
        parts = [SEGMENT.match(p) for p in tail.split("/") if p]
        if not parts or any(p is None for p in parts):
            raise SLError(404, -1, f"Resource not found for the segment '{tail}'")
        return self.dispatch(req, parts)

    # -- $batch ------------------------------------------------------------------------------------------------------
    def batch(self, req: Request) -> Response:
        try:
            groups = multipart.decode_requests(req.environ.get("CONTENT_TYPE", ""), req.raw)
        except ValueError as exc:
            raise bad(f"Invalid batch request: {exc}", -1000) from None
        go_on = "odata.continue-on-error" in req.header("Prefer").lower()
        answers: list[multipart.Answer] = []
        for group in groups:
            answer = self._changeset(req, group) if isinstance(group, list) else self._sub(req, group)
            answers.append(answer)
            if not go_on and isinstance(answer, multipart.SubResponse) and not answer.ok:
                break
        content_type, body = multipart.encode_responses(answers)
        return 202, [("Content-Type", content_type)], body

    def _changeset(self, req: Request, requests: list[multipart.SubRequest]) -> multipart.Answer:
        """A change set, all or nothing: its responses, or the one that failed (the others undone)."""
        done: list[multipart.SubResponse] = []
        try:
            with self.store.transaction():
                for request in requests:
                    done.append(self._sub(req, request))
                    if not done[-1].ok:
                        raise _ChangesetFailed
        except _ChangesetFailed:
            return done[-1]
        return done

    def _sub(self, req: Request, sub: multipart.SubRequest) -> multipart.SubResponse:
        """One request of a batch, routed like any other with the batch's session."""
        path, params = sub.path_and_params(self.api_path)
        if path.rstrip("/").endswith("/$batch"):
            status, headers, body = bad("A batch cannot contain another batch", -1000).response()
        else:
            environ = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in sub.headers.items()
                       if name not in ("content-type", "content-length")}
            environ.update({"HTTP_COOKIE": req.header("Cookie"), "CONTENT_TYPE": sub.headers.get("content-type", ""),
                            "CONTENT_LENGTH": str(len(sub.body)), "wsgi.input": io.BytesIO(sub.body)})
            status, headers, body = self.answer(Request(environ, sub.method, path, params))
        return multipart.SubResponse(status, body, {name.lower(): value for name, value in headers},
                                     sub.content_id)

    def _connect(self, params: dict) -> Response:
        redirect = params.get("redirect_uri", "")
        query = urlencode({"code": "login", **({"state": params["state"]} if "state" in params else {})})
        return 302, [("Location", redirect + ("&" if "?" in redirect else "?") + query)], b""

    def dispatch(self, req: Request, parts: list) -> Response:
        name, key = parts[0]["name"], parts[0]["key"]
        if name not in KEYED and name not in DOCUMENTS and name not in (RECONCILIATIONS, JOURNALS):
            raise SLError(404, -1, f"Resource not found for the segment '{name}'")
        if key is None:
            if len(parts) > 1:
                raise not_found()
            if req.method == "GET":
                return self.listing(req, name)
            if req.method == "POST" and name not in READ_ONLY:
                row = self.create(name, req.json_object(bad("Invalid JSON body", -1000)))
                return json_response(201, self.render(name, row))
            raise SLError(405, -1, f"Method '{req.method}' is not allowed")
        row = self.store.get(name, self.key(name, key))
        if len(parts) == 2 and parts[1]["name"] == "Cancel" and req.method == "POST" and name in (*DOCUMENTS,
                                                                                                    JOURNALS):
            self.cancel(name, row)
            return 204, [], b""
        if len(parts) > 1:
            raise not_found()
        if req.method == "GET":
            return json_response(200, self.render(name, row))
        if req.method == "PATCH":
            self.patch(name, row, req.json_object(bad("Invalid JSON body", -1000)))
            return 204, [], b""
        raise SLError(405, -1, f"Method '{req.method}' is not allowed")

    def key(self, name: str, text: str) -> str:
        text = text.strip()
        if name in KEYED:
            if not (text.startswith("'") and text.endswith("'")):
                raise bad(f"Invalid key '{text}'", -1000)
            return text[1:-1].replace("''", "'")
        if not text.isdigit():
            raise bad(f"Invalid key '{text}'", -1000)
        return text

    # -- reads -----------------------------------------------------------------------------------------------------
    def render(self, name: str, row: Row) -> dict:
        body = {"@odata.context": f"{self.api_base}/$metadata#{name}/$entity",
                **{k: v for k, v in row.data.items() if not k.startswith("_")}}  # "_" keys: the sandbox's own
        if name in DOCUMENTS:
            body["DocEntry"] = int(row.id)
        if name == JOURNALS:
            body["JdtNum"] = int(row.id)
        return body

    def listing(self, req: Request, name: str) -> Response:
        rows = [r for r in self.store.rows(name) if self.matches(r.data, req.params.get("$filter", ""))]
        order = req.params.get("$orderby", "").split()
        if order:
            values = {r.id: r.data.get(order[0]) for r in rows}  # rows without the field kept apart from the rest
            rows.sort(key=lambda r: (values[r.id] is None, "" if values[r.id] is None else values[r.id]),
                      reverse=order[-1:] == ["desc"])
        skip = int(req.params.get("$skip") or 0)
        asked = re.search(r"odata\.maxpagesize=(\d+)", req.header("Prefer"))
        size = int(asked.group(1)) if asked and int(asked.group(1)) > 0 else DEFAULT_PAGE
        page = rows[skip:skip + size]
        select = [f.strip() for f in req.params.get("$select", "").split(",") if f.strip()]
        value = [{k: v for k, v in self.render(name, r).items() if not select or k in select} for r in page]
        for item in value:
            item.pop("@odata.context", None)
        body: dict = {"@odata.context": f"{self.api_base}/$metadata#{name}", "value": value}
        if skip + size < len(rows):
            params = {k: v for k, v in req.params.items() if k != "$skip"}
            body["@odata.nextLink"] = f"{name}?{urlencode({**params, '$skip': skip + size})}"
        headers = [("Preference-Applied", f"odata.maxpagesize={size}")] if asked else []
        return json_response(200, body, headers)

    def matches(self, data: dict, expression: str) -> bool:
        if not expression.strip():
            return True
        for clause in re.split(r"\s+and\s+", expression.strip()):
            found = COMPARE.match(clause)
            if found is None:
                raise bad(f"Invalid filter expression: {clause}", -1000)
            literal = found["value"]
            wanted: Any = literal[1:-1].replace("''", "'") if literal.startswith("'") else literal
            actual: Any = data.get(found["field"])
            if isinstance(actual, (int, Decimal)) and not isinstance(actual, bool):
                wanted, actual = Decimal(str(wanted)), Decimal(str(actual))
            elif actual is None:
                actual = ""
            else:
                actual = str(actual)
            if not OPS[found["op"]](actual, wanted):
                return False
        return True

    # -- writes ----------------------------------------------------------------------------------------------------
    def stamp(self) -> dict:
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        return {"UpdateDate": now.strftime("%Y-%m-%dT00:00:00Z"), "UpdateTime": now.strftime("%H:%M:%S")}

    def create(self, name: str, body: dict) -> Row:
        if name in KEYED:
            return self.create_master(name, body)
        if name == RECONCILIATIONS:
            return self.reconcile(body)
        if name == "VendorPayments":
            return self.create_outgoing(body)
        if name == JOURNALS:
            return self.create_journal(body)
        if self.store.find("BusinessPartners", str(body.get("CardCode") or "")) is None:
            raise bad(f"Invalid BP code '{body.get('CardCode')}'", -10)
        if name == "IncomingPayments":
            return self.create_payment(body)
        return self.create_document(name, body)

    def create_master(self, name: str, body: dict) -> Row:
        field = KEYED[name]
        code = str(body.get(field) or "")
        if not code:
            raise bad(f"Enter a code for the {field}", -10)
        if self.store.find(name, code) is not None:
            raise bad("This entry already exists in the following tables (ODBC -2035)", -2035)
        if name == "BusinessPartners":
            defaults = {"CardName": "", "CardType": "cCustomer", "EmailAddress": None, "Currency": HOME_CURRENCY,
                        "Valid": "tYES", "Frozen": "tNO"}
        else:
            defaults = {"ItemName": "", "ItemType": "itItems", "SalesItem": "tYES", "Valid": "tYES",
                        "Frozen": "tNO"}
        return self.store.create(name, {**defaults, **body, **self.stamp()}, code)

    def lines(self, body: dict) -> list[dict]:
        lines = []
        for index, line in enumerate(body.get("DocumentLines") or []):
            if not line.get("ItemCode") and not line.get("AccountCode"):
                raise bad(f"Line {index + 1}: enter an item or a G/L account", -5002)
            if line.get("AccountCode") and self.store.find("ChartOfAccounts", str(line["AccountCode"])) is None:
                raise bad(f"Invalid account code '{line['AccountCode']}'", -5002)
            if line.get("ItemCode") and self.store.find("Items", str(line["ItemCode"])) is None:
                raise bad(f"Invalid item code '{line['ItemCode']}'", -5002)
            group = self.store.find("VatGroups", str(line.get("VatGroup") or "S0"))
            if group is None:
                raise bad(f"Invalid tax code '{line.get('VatGroup')}'", -5002)
            quantity, price = money(line.get("Quantity", 1), "Quantity"), money(line.get("UnitPrice"), "UnitPrice")
            total = (quantity * price).quantize(CENT, ROUND_HALF_UP)
            tax = (total * group.data["VatGroups_Lines"][0]["Rate"] / 100).quantize(CENT, ROUND_HALF_UP)
            lines.append({**line, "LineNum": index, "Quantity": quantity, "UnitPrice": price, "LineTotal": total,
                          "VatGroup": group.id, "TaxTotal": tax})
        if not lines:
            raise bad("Document must contain at least one row", -5002)
        return lines

    def create_document(self, name: str, body: dict) -> Row:
        lines = self.lines(body)
        total = sum((line["LineTotal"] + line["TaxTotal"] for line in lines), ZERO)
        base = None
        if name == "CreditNotes":
            base = self.base_invoice(lines)
        data = {"DocNum": len(self.store.rows(name)) + 1, "TransNum": self.journal_number(),
                "CardCode": body["CardCode"],
                "DocDate": body.get("DocDate") or self.stamp()["UpdateDate"][:10],
                "DocDueDate": body.get("DocDueDate"), "DocCurrency": body.get("DocCurrency") or HOME_CURRENCY,
                "NumAtCard": body.get("NumAtCard"), "Comments": body.get("Comments"), "DocumentLines": lines,
                "DocTotal": total, "VatSum": sum((line["TaxTotal"] for line in lines), ZERO), "PaidToDate": ZERO,
                "DocumentStatus": "bost_Open", "Cancelled": "tNO", **self.stamp()}
        row = self.store.create(name, data)
        if base is not None:
            applied = min(total, base.data["DocTotal"] - base.data["PaidToDate"])
            self.apply(base, applied)
            self.store.update(name, row.id, {"PaidToDate": total, "DocumentStatus": "bost_Close",
                                             "_base": (base.id, applied)})
            row = self.store.get(name, row.id)
        return row

    def base_invoice(self, lines: list[dict]) -> Row | None:
        bases = {(line.get("BaseType"), line.get("BaseEntry")) for line in lines if line.get("BaseType") is not None}
        if not bases:
            return None
        if len(bases) > 1 or next(iter(bases))[0] != 13:
            raise bad("Base document must be one A/R invoice (BaseType 13)", -5002)
        invoice = self.store.find("Invoices", str(next(iter(bases))[1]))
        if invoice is None or invoice.data["Cancelled"] == "tYES":
            raise bad("Base document does not exist or is cancelled", -2028)
        return invoice

    def apply(self, invoice: Row, amount: Decimal) -> None:
        paid = invoice.data["PaidToDate"] + amount
        if paid > invoice.data["DocTotal"] or amount <= 0:
            raise bad(f"Amount applied exceeds the open amount of invoice {invoice.data['DocNum']}", -5002)
        status = "bost_Close" if paid == invoice.data["DocTotal"] else "bost_Open"
        self.store.update("Invoices", invoice.id, {"PaidToDate": paid, "DocumentStatus": status, **self.stamp()})

    def create_payment(self, body: dict) -> Row:
        applied = []
        for item in body.get("PaymentInvoices") or []:
            invoice = self.store.find("Invoices", str(item.get("DocEntry")))
            if invoice is None or invoice.data["CardCode"] != body["CardCode"] or invoice.data["Cancelled"] == "tYES":
                raise bad(f"Invalid invoice DocEntry {item.get('DocEntry')}", -5002)
            applied.append((invoice, money(item.get("SumApplied"), "SumApplied")))
        amount = money(body.get("TransferSum"), "TransferSum") + money(body.get("CashSum"), "CashSum")
        if amount <= 0:
            raise bad("Payment amount must be greater than zero", -5002)
        if sum((a for _, a in applied), ZERO) > amount:
            raise bad("Amount applied exceeds the payment amount", -5002)
        for invoice, sum_applied in applied:
            self.apply(invoice, sum_applied)
        data = {"DocNum": len(self.store.rows("IncomingPayments")) + 1, "CardCode": body["CardCode"],
                "DocDate": body.get("DocDate"), "DocCurrency": body.get("DocCurrency") or HOME_CURRENCY,
                "TransferAccount": body.get("TransferAccount"),
                "TransferSum": money(body.get("TransferSum"), "TransferSum"),
                "CashSum": money(body.get("CashSum"), "CashSum"), "CounterReference": body.get("CounterReference"),
                "Remarks": body.get("Remarks"), "Cancelled": "tNO",
                "PaymentInvoices": [{"LineNum": i, "DocEntry": int(inv.id), "SumApplied": a,
                                     "InvoiceType": "it_Invoice"} for i, (inv, a) in enumerate(applied)],
                **self.stamp()}
        return self.store.create("IncomingPayments", data)

    def patch(self, name: str, row: Row, body: dict) -> None:
        if name in KEYED:
            body = {k: v for k, v in body.items() if k != KEYED[name]}
            self.store.update(name, row.id, {**body, **self.stamp()})
            return
        refused = set(body) - PATCHABLE[name]
        if refused:
            raise bad(f"Cannot update {', '.join(sorted(refused))} of a document that is already added", -5006)
        if row.data.get("Cancelled") == "tYES":
            raise bad("Document is already cancelled", -5006)
        self.store.update(name, row.id, {**body, **self.stamp()})

    def cancel(self, name: str, row: Row) -> None:
        if name == JOURNALS:
            self.cancel_journal(row)
            return
        if row.data["Cancelled"] == "tYES":
            raise bad("Document is already cancelled", -5006)
        if name in OBJECT_TYPES.values() and self.reconciled(name, row.id):
            raise bad("Cannot cancel a document that is reconciled; cancel the internal reconciliation first", -5006)
        if name == "Invoices" and any(p.data["Cancelled"] == "tNO" and any(
                str(i["DocEntry"]) == row.id for i in p.data["PaymentInvoices"])
                for p in self.store.rows("IncomingPayments")):
            raise bad("Cannot cancel a document that has payments applied; cancel the payment first", -5006)
        if name == "Invoices" and any(c.data["Cancelled"] == "tNO" and (c.data.get("_base") or ("",))[0] == row.id
                                      for c in self.store.rows("CreditNotes")):
            raise bad("Cannot cancel a document that has target documents (a credit note based on it)", -5006)
        if name == "CreditNotes" and self.paid_out(row.id):
            raise bad("Cannot cancel a document that has payments applied; cancel the outgoing payment first", -5006)
        if name == "VendorPayments":
            self.cancel_outgoing(row)
        if name == "CreditNotes" and row.data.get("_base"):
            invoice_id, applied = row.data["_base"]
            invoice = self.store.get("Invoices", invoice_id)
            self.store.update("Invoices", invoice_id, {"PaidToDate": invoice.data["PaidToDate"] - applied,
                                                       "DocumentStatus": "bost_Open", **self.stamp()})
        if name == "IncomingPayments":
            for item in row.data["PaymentInvoices"]:
                invoice = self.store.get("Invoices", str(item["DocEntry"]))
                paid = invoice.data["PaidToDate"] - item["SumApplied"]
                self.store.update("Invoices", invoice.id, {"PaidToDate": paid, "DocumentStatus": "bost_Open",
                                                           **self.stamp()})
        self.store.update(name, row.id, {"Cancelled": "tYES", "DocumentStatus": "bost_Close", **self.stamp()})

    # -- internal reconciliations (part of a credit note applied to an invoice) --------------------------------------
    def journal_number(self) -> int:
        """The ``TransNum`` of a document's journal entry (the sandbox books none: a number to name it by)."""
        return sum(len(self.store.rows(name)) for name in DOCUMENTS) + 1000

    def reconciled(self, name: str, doc_id: str) -> bool:
        return any(not r.data["CancelAbs"] and any(OBJECT_TYPES.get(str(line["SrcObjTyp"])) == name and
                                                   str(line["SrcObjAbs"]) == doc_id
                                                   for line in r.data["InternalReconciliationRows"])
                   for r in self.store.rows(RECONCILIATIONS))

    def reconcile(self, body: dict) -> Row:
        """``InternalReconciliations`` (a manual reconciliation of a business partner's open items): debits and
        credits of equal sum, each within its document's open amount; each document's ``PaidToDate`` grows."""
        rows, sums = [], {"codDebit": ZERO, "codCredit": ZERO}
        for index, line in enumerate(body.get("InternalReconciliationOpenTransRows") or []):
            name = OBJECT_TYPES.get(str(line.get("SrcObjTyp")))
            doc = self.store.find(name, str(line.get("SrcObjAbs"))) if name else None
            side = line.get("CreditOrDebit")
            if doc is None or doc.data["Cancelled"] == "tYES" or side not in sums or \
                    doc.data["CardCode"] != line.get("ShortName"):
                raise bad(f"Row {index + 1}: no open transaction of that business partner to reconcile", -5002)
            amount = money(line.get("ReconcileAmount"), "ReconcileAmount")
            if amount <= 0 or amount > doc.data["DocTotal"] - doc.data["PaidToDate"]:
                raise bad(f"Row {index + 1}: amount to reconcile exceeds the open amount", -5002)
            sums[side] += amount
            rows.append((name, doc, amount, {"LineSeq": index, "ShortName": line["ShortName"],
                                             "TransId": doc.data.get("TransNum"), "TransRowId": 0,
                                             "SrcObjTyp": str(line["SrcObjTyp"]), "SrcObjAbs": int(doc.id),
                                             "CreditOrDebit": side, "ReconcileAmount": amount}))
        if len(rows) < 2 or sums["codDebit"] != sums["codCredit"]:
            raise bad("Reconciliation is not balanced: debits and credits must be equal", -5002)
        for name, doc, amount, _ in rows:
            self.add_paid(name, doc, amount)
        data = {"ReconDate": body.get("ReconDate") or self.stamp()["UpdateDate"][:10], "CardOrAccount": "coaCard",
                "ReconType": "rtManual", "Total": sums["codDebit"], "CancelAbs": 0,
                "InternalReconciliationRows": [line for *_, line in rows]}
        row = self.store.create(RECONCILIATIONS, data)
        self.store.update(RECONCILIATIONS, row.id, {"ReconNum": int(row.id)})
        return self.store.get(RECONCILIATIONS, row.id)

    def add_paid(self, name: str, doc: Row, amount: Decimal) -> None:
        paid = doc.data["PaidToDate"] + amount
        status = "bost_Close" if paid == doc.data["DocTotal"] else "bost_Open"
        self.store.update(name, doc.id, {"PaidToDate": paid, "DocumentStatus": status, **self.stamp()})

    def unreconcile(self, number: str) -> None:
        """``InternalReconciliationsService_Cancel``: what it reconciled is open again."""
        row = self.store.find(RECONCILIATIONS, number)
        if row is None or row.data["CancelAbs"]:
            raise bad(f"Internal reconciliation {number} does not exist or is already cancelled", -2028)
        for line in row.data["InternalReconciliationRows"]:
            name = OBJECT_TYPES[line["SrcObjTyp"]]
            self.add_paid(name, self.store.get(name, str(line["SrcObjAbs"])), -line["ReconcileAmount"])
        self.store.update(RECONCILIATIONS, number, {"CancelAbs": int(number)})

    # -- what a person does in the client ------------------------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: Decimal, reference: str = "",
                               date: str | None = None) -> dict:
        """An incoming payment entered in the client, applied to one invoice; ``reference`` goes into its
        ``CounterReference``."""
        invoice = self.store.get("Invoices", str(invoice_id))
        row = self.create_payment({"CardCode": invoice.data["CardCode"], "TransferSum": Decimal(str(amount)),
                                   "DocDate": date or self.stamp()["UpdateDate"][:10],
                                   "DocCurrency": invoice.data["DocCurrency"], "CounterReference": reference or None,
                                   "TransferAccount": next(iter(sorted(CASH_ACCOUNTS))),
                                   "PaymentInvoices": [{"DocEntry": int(invoice.id),
                                                        "SumApplied": Decimal(str(amount))}]})
        return self.render("IncomingPayments", row)

    def delete_payment_as_user(self, payment_id: str) -> dict:
        """Business One deletes no added document: a person cancels the incoming payment, which frees the
        invoices it was applied to."""
        self.cancel("IncomingPayments", self.store.get("IncomingPayments", str(payment_id)))
        return self.render("IncomingPayments", self.store.get("IncomingPayments", str(payment_id)))

    def archive_account_as_user(self, account_id: str) -> dict:
        """The account made inactive (``ActiveAccount`` tNO) in the chart of accounts."""
        self.store.update("ChartOfAccounts", str(account_id), {"ActiveAccount": "tNO"})
        return self.render("ChartOfAccounts", self.store.get("ChartOfAccounts", str(account_id)))

    def void_invoice_as_user(self, invoice_id: str, **_: Any) -> dict:
        self.cancel("Invoices", self.store.get("Invoices", str(invoice_id)))
        return self.render("Invoices", self.store.get("Invoices", str(invoice_id)))
