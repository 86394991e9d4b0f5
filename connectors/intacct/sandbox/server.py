"""A local Sage Intacct XML gateway on loopback HTTP, built on the sandbox kit: ``POST /ia/xml/xmlgw.phtml``.

A request is parsed with defusedxml, its control checked (sender id and password, ``dtdversion`` 3.0, a repeated
``controlid`` under ``uniqueid`` true refused without running anything), its authentication checked (a
``<login>`` or a ``<sessionid>`` from ``getAPISession``, which expires after ``session_timeout`` seconds idle),
then each function is run on its own and answered as its own ``<result>`` (``status``, ``function``,
``controlid``, then ``<data>``, ``<key>`` or ``<errormessage>``). Functions served: ``getAPISession``;
``create`` and ``update`` of ``CUSTOMER`` and ``ITEM``, ``delete`` of ``CUSTOMER``; ``create_invoice``,
``update_invoice``, ``reverse_invoice``, ``delete_invoice``; ``create`` of ``ARPYMT`` (payments and credits
applied), ``create_arpayment``, ``reverse_arpayment``; ``create_aradjustment``, ``delete_aradjustment``;
``create`` of ``ARREFUND``, ``VENDOR``, ``APPYMT`` and ``GLBATCH``, ``create_bill``, ``reverse_bill``,
``delete_bill``, ``reverse_appayment``, ``reverse_arrefund`` (``costs.py``); ``read``, ``readByName``,
``readByQuery`` and ``readMore`` on every object the company holds. ``GET /intacct/connect`` stands in for the
Connect button (Intacct has no consent page). Sources and guesses: docs/sandbox-intacct.md.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
import secrets
import xml.etree.ElementTree as ET  # nosec B405: building answers only; requests are parsed by wire.parse
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from ...sandboxkit.platform import PlatformSandbox, Request, Response
from ...sandboxkit.resources import ResourceStore
from .. import wire
from . import seed as company
from .books import Books, IntacctError
from .costs import Costs

XML = "text/xml; charset=UTF-8"
#: Object name -> the id its rows are stored by and read with ``read`` keys.
KEYS = {"CUSTOMER": "CUSTOMERID", "ITEM": "ITEMID", "GLACCOUNT": "ACCOUNTNO", "LOCATION": "LOCATIONID",
        "DEPARTMENT": "DEPARTMENTID", "TAXDETAIL": "DETAILID", "TRXCURRENCIES": "CODE", "ARINVOICE": "RECORDNO",
        "ARPYMT": "RECORDNO", "ARADJUSTMENT": "RECORDNO", "ARREFUND": "RECORDNO", "VENDOR": "VENDORID",
        "APBILL": "RECORDNO", "APPYMT": "RECORDNO", "GLBATCH": "RECORDNO"}
WRITES = {"create", "update", "delete", "create_invoice", "update_invoice", "reverse_invoice", "delete_invoice",
          "create_arpayment", "reverse_arpayment", "create_aradjustment", "delete_aradjustment", "create_bill",
          "reverse_bill", "delete_bill", "reverse_appayment", "reverse_arrefund"}
#: Objects a 3.0 ``create`` makes here besides customers and items: what the answer's element is called.
CREATES = ("ARPYMT", "ARREFUND", "VENDOR", "APPYMT", "GLBATCH")
CONDITION = re.compile(r"^\s*([A-Za-z_.]+)\s*(=|!=|<>|>=|<=|>|<|IN)\s*(.+?)\s*$", re.I)
TIME = "%m/%d/%Y %H:%M:%S"
QTY = re.compile(r"\s*\[qty (-?[0-9.]+)\]$")


def unquote(value: str) -> str:
    """A query's text value: single-quoted, a quote inside escaped with a backslash (``'Jane\\'s Deli'``)."""
    return re.sub(r"\\(.)", r"\1", value.strip().removeprefix("'").removesuffix("'"))


class IntacctSandbox(PlatformSandbox):
    platform = "intacct"
    title = "Sage Intacct"
    default_port = 8786
    api_path = ""
    authorize_path = "/intacct/connect"

    #: What a bookkeeper does to take back a refund, an expense, a supplier bill or a journal we sent (entity -> the
    #: ``*_as_user`` action and its id keyword): Intacct deletes no posted record, it reverses it (the refund Voided,
    #: the bill and its payment reversed, the batch reversed by a reversing batch), stamping ``WHENMODIFIED``.
    user_takes_back = {"refund": ("reverse_refund", "refund_id"), "expense": ("reverse_bill", "bill_id"),
                       "bill": ("reverse_bill", "bill_id"),
                       "journal": ("reverse_journal", "journal_id")}

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self.store = ResourceStore(self.clock)
        for name in KEYS:
            self.store.declare(name)
        self.books = Books(self.store, self.clock)
        self.costs = Costs(self.books)
        self.sessions: dict[str, float] = {}  # session id -> last use
        self.session_timeout = 3600
        self.control_ids: set[str] = set()
        self.result_sets: dict[str, tuple[str, list[dict], int]] = {}
        self.logins = 0
        self._result_ids = itertools.count(1)
        self.seed()

    # -- the kit's interface --------------------------------------------------------------------------------------
    @property
    def company_id(self) -> str:
        return company.COMPANY_ID

    @property
    def client_id(self) -> str:
        return company.USER_ID

    @property
    def token_calls(self) -> int:
        return self.logins

    def seed(self) -> None:
        self.books._recordno = 0
        company.seed(self.store)

    def reset(self) -> None:
        super().reset()
        self.logins = 0
        self.control_ids.clear()
        self.result_sets.clear()

    def forget_idempotency_keys(self) -> None:
        super().forget_idempotency_keys()
        self.control_ids.clear()

    def issue_tokens(self) -> dict:
        """A session as ``getAPISession`` opens one (what a connection holds once connected)."""
        session = self.open_session()
        return {"access_token": session, "refresh_token": session, "expires_in": self.session_timeout}

    def token_problem(self, access_token: str) -> str | None:
        if access_token not in self.sessions:
            return "invalid"
        return "expired" if self.clock() - self.sessions[access_token] > self.session_timeout else None

    def open_session(self) -> str:
        session = secrets.token_hex(16)
        self.sessions[session] = self.clock()
        return session

    def apply_setting(self, name: str, value: Any) -> bool:
        if name == "session_timeout":
            self.session_timeout = int(value)
            return True
        return False

    def current_settings(self) -> dict:
        return {**super().current_settings(), "session_timeout": self.session_timeout}

    def extra_state(self) -> dict:
        return {"sessions": len(self.sessions), "control_ids": len(self.control_ids)}

    def fault_response(self, fault) -> Response:
        """The gateway in front of Intacct answers the injected ones (HTML pages, not the XML shape)."""
        if fault.kind == "rate_limit":
            return 429, [("Content-Type", "text/html"), ("Retry-After", fault.retry_after or "60")], \
                b"<html><body>Too Many Requests</body></html>"
        status = 503 if fault.kind == "http_503" else 500
        return status, [("Content-Type", "text/html")], b"<html><body>Service Unavailable</body></html>"

    def latency_kind(self, request: Request) -> str:
        """Every gateway call is a POST: a login is ``auth``, a request with a write function ``write``, reads
        ``read``; any other path as the kit decides."""
        if request.path != "/" + wire.GATEWAY_PATH:
            return super().latency_kind(request)
        raw = request.raw
        if b"getAPISession" in raw:
            return "auth"
        return "write" if any(f"<{name}".encode() in raw for name in WRITES) else "read"

    # -- routes ---------------------------------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        if req.path == self.authorize_path and req.method == "GET":
            redirect = req.params.get("redirect_uri", "")
            joiner = "&" if "?" in redirect else "?"
            query = urlencode({"code": "login", "state": req.params.get("state", "")})
            return 302, [("Location", f"{redirect}{joiner}{query}")], b""
        if req.path == "/" + wire.GATEWAY_PATH and req.method == "POST":
            return self.gateway(req.raw)
        return 404, [("Content-Type", "text/html")], b"<html><body>Not Found</body></html>"

    def gateway(self, raw: bytes) -> Response:
        try:
            root = wire.parse(raw)
        except ValueError:
            return self.refused(None, IntacctError("XL03000003", "The request is not well-formed XML"))
        control = root.find("control")
        if root.tag != "request" or control is None:
            return self.refused(None, IntacctError("XL03000003", "The request has no control element"))
        if (wire.child_text(control, "senderid"), wire.child_text(control, "password")) != \
                (company.SENDER_ID, company.SENDER_PASSWORD):
            return self.refused(control, IntacctError("XL03000005", "Incorrect Intacct XML Partner ID or password.",
                                                      "", "Check the sender id and password."))
        if wire.child_text(control, "dtdversion") != wire.DTD_VERSION:
            return self.refused(control, IntacctError("XL03000003", "This gateway serves dtdversion 3.0 only"))
        control_id, unique = wire.child_text(control, "controlid"), wire.child_text(control, "uniqueid") == "true"
        with self.store.lock:
            if unique and control_id in self.control_ids:
                return self.refused(control, IntacctError(
                    "XL03000009", f"A request with control id {control_id} was already processed.",
                    "Duplicate control id", "Send a new control id to run the request again."))
            return self.operation(root, control, control_id, unique)

    def operation(self, root: ET.Element, control: ET.Element, control_id: str, unique: bool) -> Response:
        operation = root.find("operation")
        authentication = operation.find("authentication") if operation is not None else None
        response = self.response(control, "success")
        out = ET.SubElement(response, "operation")
        refusal = self.authenticate(authentication)
        auth = ET.SubElement(out, "authentication")
        if refusal is not None:
            wire.fill(auth, {"status": "failure", "userid": "", "companyid": ""})
            out.append(self.errormessage(refusal))
            return self.answer_xml(response)
        wire.fill(auth, {"status": "success", "userid": company.USER_ID, "companyid": company.COMPANY_ID,
                         "locationid": "", "sessiontimestamp": self.now().isoformat(),
                         "sessiontimeout": (self.now() + dt.timedelta(seconds=self.session_timeout)).isoformat()})
        ran = False
        for function in operation.findall("content/function"):
            result, ok = self.function(function)
            out.append(result)
            ran = ran or ok
        if unique and control_id and ran:
            self.control_ids.add(control_id)
        return self.answer_xml(response)

    def authenticate(self, authentication: ET.Element | None) -> IntacctError | None:
        if authentication is None:
            return IntacctError("XL03000006", "Sign-in information is incorrect")
        session = wire.child_text(authentication, "sessionid")
        if session:
            if self.token_problem(session) is not None:
                return IntacctError("XL03000006", "Invalid session", "", "Open a new session with getAPISession.")
            self.sessions[session] = self.clock()
            return None
        login = authentication.find("login")
        found = tuple(wire.child_text(login, tag) for tag in ("userid", "companyid", "password"))
        if login is None or found != (company.USER_ID, company.COMPANY_ID, company.USER_PASSWORD):
            return IntacctError("XL03000006", "Sign-in information is incorrect", "",
                                "Check the user id, company id and password.")
        return None

    # -- one function ----------------------------------------------------------------------------------------------
    def function(self, function: ET.Element) -> tuple[ET.Element, bool]:
        controlid = function.get("controlid", "")
        call = function[0] if len(function) else None
        name = call.tag if call is not None else ""
        result = ET.Element("result")
        try:
            status_body = self.run(name, call)
        except IntacctError as error:
            wire.fill(result, {"status": "failure", "function": name, "controlid": controlid})
            result.append(self.errormessage(error))
            return result, False
        wire.fill(result, {"status": "success", "function": name, "controlid": controlid})
        if isinstance(status_body, ET.Element):
            result.append(status_body)
        elif status_body is not None:
            wire.fill(result, {"key": status_body})
        return result, True

    def run(self, name: str, call: ET.Element | None) -> Any:
        books = self.books
        if call is None:
            raise IntacctError("XL03000003", "The function is empty")
        body = wire.record(call)
        key = call.get("key", "")
        if name == "getAPISession":
            self.logins += 1
            session = self.open_session()
            return self.data("api", [{"sessionid": session, "endpoint": f"{self.base_url}/{wire.GATEWAY_PATH}",
                                      "locationid": ""}])
        if name in ("create", "update", "delete"):
            return self.object_call(name, call)
        legacy = {"create_invoice": lambda: books.create_invoice(body),
                  "update_invoice": lambda: books.update_invoice(key, body),
                  "reverse_invoice": lambda: books.reverse_invoice(key, body),
                  "delete_invoice": lambda: books.delete_invoice(key),
                  "create_arpayment": lambda: books.create_payment(body),
                  "reverse_arpayment": lambda: books.reverse_payment(key),
                  "create_aradjustment": lambda: books.create_adjustment(body),
                  "delete_aradjustment": lambda: books.delete_adjustment(key),
                  "reverse_arrefund": lambda: self.costs.reverse_refund(key),
                  "create_bill": lambda: self.costs.create_bill(body),
                  "reverse_bill": lambda: self.costs.reverse_bill(key),
                  "delete_bill": lambda: self.costs.delete_bill(key),
                  "reverse_appayment": lambda: self.costs.reverse_bill_payment(key)}
        if name in legacy:
            return legacy[name]()
        if name in ("read", "readByName"):
            return self.read(body, name)
        if name == "readByQuery":
            return self.read_by_query(body)
        if name == "readMore":
            return self.read_more(str(body.get("resultId") or ""))
        raise IntacctError("XL03000003", f"Unknown function {name}")

    def object_call(self, name: str, call: ET.Element) -> ET.Element:
        if name == "delete":
            body = wire.record(call)
            if body.get("object") != "CUSTOMER":
                raise IntacctError("BL01001973", f"delete of {body.get('object')} is not served here")
            for key in str(body.get("keys") or "").split(","):  # record numbers
                self.books.delete_customer(self.by_recordno("CUSTOMER", key.strip()) or f"#{key.strip()}")
            return self.data("objects", [])
        objects = list(call)
        if name == "create" and len(objects) == 1 and objects[0].tag in CREATES:
            obj, body = objects[0].tag, wire.record(objects[0])
            saved = {"ARPYMT": self.books.create_arpymt, "ARREFUND": self.costs.create_refund,
                     "VENDOR": self.costs.create_vendor, "APPYMT": self.costs.create_bill_payment,
                     "GLBATCH": self.costs.create_batch}[obj](body)
            shown = {"RECORDNO": saved["RECORDNO"], KEYS[obj]: saved[KEYS[obj]]}
            return self.data("objects", [shown], element=obj.lower())
        if len(objects) != 1 or objects[0].tag not in ("CUSTOMER", "ITEM"):
            raise IntacctError("BL01001973", f"{name} of {objects[0].tag if objects else 'nothing'} is not served")
        obj, body = objects[0].tag, wire.record(objects[0])
        writes = {("create", "CUSTOMER"): self.books.create_customer,
                  ("update", "CUSTOMER"): self.books.update_customer,
                  ("create", "ITEM"): self.books.create_item, ("update", "ITEM"): self.books.update_item}
        saved = writes[(name, obj)](body)
        return self.data("objects", [{"RECORDNO": saved["RECORDNO"], KEYS[obj]: saved[KEYS[obj]]}],
                         element=obj.lower())

    # -- reads --------------------------------------------------------------------------------------------------------
    def read(self, body: dict, name: str) -> ET.Element:
        obj = str(body.get("object") or "")
        if obj not in KEYS:
            raise IntacctError("XL03000003", f"Unknown object {obj}")
        rows = []
        for key in [k.strip() for k in str(body.get("keys") or "").split(",") if k.strip()]:
            # read takes record numbers; readByName the object's name key (CUSTOMERID, ITEMID...)
            found = key if name == "readByName" or KEYS[obj] == "RECORDNO" else self.by_recordno(obj, key)
            row = self.store.find(obj, found) if found else None
            if row is not None:
                rows.append(self.render(obj, row.data, full=True))
        return self.data(obj.lower(), rows)

    def by_recordno(self, obj: str, recordno: str) -> str | None:
        """The store id of the record numbered ``recordno`` (objects stored by their name key)."""
        return next((row.id for row in self.store.rows(obj) if row.data.get("RECORDNO") == recordno), None)

    def read_by_query(self, body: dict) -> ET.Element:
        obj = str(body.get("object") or "")
        if obj not in KEYS:
            raise IntacctError("XL03000003", f"Unknown object {obj}")
        conditions = self.conditions(str(body.get("query") or ""))
        rows = [self.render(obj, row.data) for row in self.store.rows(obj)
                if all(self.matches(row.data, *c) for c in conditions)]
        size = max(1, min(int(body.get("pagesize") or 100), 1000))
        return self.page(obj, rows, size)

    def page(self, obj: str, rows: list[dict], size: int) -> ET.Element:
        shown, rest = rows[:size], rows[size:]
        result_id = ""
        if rest:
            result_id = f"sandbox-{next(self._result_ids)}"
            self.result_sets[result_id] = (obj, rest, size)
        data = self.data(obj.lower(), shown)
        data.set("totalcount", str(len(rows)))
        data.set("numremaining", str(len(rest)))
        data.set("resultId", result_id)
        return data

    def read_more(self, result_id: str) -> ET.Element:
        if result_id not in self.result_sets:
            raise IntacctError("XL03000003", f"Result set {result_id} does not exist or has expired")
        obj, rows, size = self.result_sets.pop(result_id)
        return self.page(obj, rows, size)

    @staticmethod
    def conditions(query: str) -> list[tuple[str, str, Any]]:
        found = []
        for part in [p for p in re.split(r"\s+AND\s+", query.strip(), flags=re.I) if p.strip()]:
            match = CONDITION.match(part)
            if not match:
                raise IntacctError("XL03000003", f"Invalid query: {part}")
            field, op, value = match.group(1).upper(), match.group(2).upper(), match.group(3)
            if op == "IN":
                found.append((field, op, [unquote(v) for v in value.strip("() ").split(",")]))
            else:
                found.append((field, op, unquote(value)))
        return found

    @staticmethod
    def matches(data: dict, field: str, op: str, value: Any) -> bool:
        current = data.get(field)
        if op == "IN":
            return str(current) in value
        if field in ("WHENMODIFIED",):
            left, right = dt.datetime.strptime(str(current), TIME), dt.datetime.strptime(value, TIME)
        elif isinstance(current, Decimal):
            left, right = current, Decimal(value)
        else:
            left, right = str(current or "").casefold(), value.casefold()
        return {"=": left == right, "!=": left != right, "<>": left != right, ">=": left >= right,
                "<=": left <= right, ">": left > right, "<": left < right}[op]

    @staticmethod
    def render(obj: str, data: dict, full: bool = False) -> dict:
        shown = {k: v for k, v in data.items() if not k.startswith("_")}
        if obj == "ARINVOICE" and full:
            shown["ARINVOICEITEMS"] = {"arinvoiceitem": [dict(line) for line in data["_lines"]]}
        if obj == "ARADJUSTMENT" and full:
            shown["ARADJUSTMENTITEMS"] = {"aradjustmentitem": [dict(line) for line in data["_lines"]]}
        if obj == "ARPYMT" and full:
            shown["ARPYMTDETAILS"] = {"arpymtdetail": [dict(a) for a in data["_applied"]]}
        if obj == "APBILL" and full:
            shown["APBILLITEMS"] = {"apbillitem": [dict(line) for line in data["_lines"]]}
        if obj == "APPYMT" and full:
            shown["APPYMTDETAILS"] = {"appymtdetail": [dict(a) for a in data["_applied"]]}
        if obj == "ARREFUND" and full:
            shown["ARREFUNDDETAILS"] = {"arrefunddetail": [dict(a) for a in data["_applied"]]}
        if obj == "GLBATCH" and full:
            shown["ENTRIES"] = {"glentry": [dict(e) for e in data["_entries"]]}
        return shown

    # -- answers ------------------------------------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).replace(microsecond=0)

    @staticmethod
    def data(listtype: str, rows: list[dict], element: str = "") -> ET.Element:
        data = ET.Element("data", {"listtype": listtype, "count": str(len(rows))})
        for row in rows:
            data.append(wire.build(element or listtype, row))
        return data

    @staticmethod
    def response(control: ET.Element | None, status: str) -> ET.Element:
        response = ET.Element("response")
        wire.fill(ET.SubElement(response, "control"), {
            "status": status, "senderid": wire.child_text(control, "senderid"),
            "controlid": wire.child_text(control, "controlid"), "uniqueid": wire.child_text(control, "uniqueid"),
            "dtdversion": wire.DTD_VERSION})
        return response

    @staticmethod
    def errormessage(error: IntacctError) -> ET.Element:
        return wire.build("errormessage", {"error": {"errorno": error.errorno, "description": error.description,
                                                     "description2": error.description2,
                                                     "correction": error.correction}})

    def refused(self, control: ET.Element | None, error: IntacctError) -> Response:
        response = self.response(control, "failure")
        response.append(self.errormessage(error))
        return self.answer_xml(response)

    @staticmethod
    def answer_xml(element: ET.Element) -> Response:
        return 200, [("Content-Type", XML)], wire.dump(element)

    # -- what a bookkeeper does in Intacct ----------------------------------------------------------------------------
    def record_payment_as_user(self, invoice_id: str, amount: str, reference: str = "", date: str = "") -> dict:
        with self.store.lock:
            invoice = self.books.invoice(invoice_id, "apply a payment to")
            day = date or self.now().date().isoformat()
            key = self.books.create_payment({"customerid": invoice["CUSTOMERID"], "paymentamount": amount,
                                             "undepfundsacct": "1050", "refid": reference, "datereceived": day,
                                             "arpaymentitem": [{"invoicekey": invoice_id, "amount": amount}]})
        return {"id": key}

    def edit_invoice_line_as_user(self, invoice_id: str, line: int, amount: Any = None, quantity: Any = None) -> dict:
        """An AR invoice line is an amount: ``amount`` is its new amount. ``quantity`` is what a person does to a
        line whose memo names a quantity (``[qty 2]``, as the connector writes it): the memo says the new
        quantity and the amount follows at the same price."""
        with self.store.lock:
            invoice = self.books.invoice(invoice_id, "update")
            lines = [dict(x) for x in invoice["_lines"]]
            target = lines[int(line)]
            if quantity is not None:
                match = QTY.search(target["MEMO"])
                old = Decimal(match.group(1)) if match else Decimal("1")
                target["AMOUNT"] = (target["AMOUNT"] / old * Decimal(str(quantity))).quantize(Decimal("0.01"))
                target["MEMO"] = f"{QTY.sub('', target['MEMO'])} [qty {quantity}]"
            if amount is not None:
                target["AMOUNT"] = Decimal(str(amount)).quantize(Decimal("0.01"))
            self.store.update("ARINVOICE", invoice_id, {**self.books.totals(lines, invoice["TOTALPAID"]),
                                                        **self.books.stamp()})
        return {"id": str(invoice_id)}

    def void_invoice_as_user(self, invoice_id: str) -> dict:
        with self.store.lock:
            self.books.reverse_invoice(invoice_id, {})
        return {"id": str(invoice_id)}

    def delete_invoice_as_user(self, invoice_id: str) -> dict:
        with self.store.lock:
            self.books.delete_invoice(invoice_id)
        return {"id": str(invoice_id)}

    def delete_payment_as_user(self, payment_id: str) -> dict:
        with self.store.lock:
            self.books.delete_payment(payment_id)
        return {"id": str(payment_id)}

    def reverse_refund_as_user(self, refund_id: str) -> dict:
        """A customer refund reversed (Accounts Receivable > Customer refunds > Reverse): the credit comes back."""
        with self.store.lock:
            self.costs.reverse_refund(str(refund_id))
        return {"id": str(refund_id)}

    def reverse_bill_as_user(self, bill_id: str) -> dict:
        """An expense's bill taken back: the payments on it reversed first (Intacct asks for that), then the bill."""
        with self.store.lock:
            for payment in list(self.store.rows("APPYMT")):
                if payment.data["STATE"] != "Voided" and any(a["RECORDKEY"] == str(bill_id)
                                                             for a in payment.data["_applied"]):
                    self.costs.reverse_bill_payment(payment.id)
            self.costs.reverse_bill(str(bill_id))
        return {"id": str(bill_id)}

    def reverse_journal_as_user(self, journal_id: str) -> dict:
        """General Ledger > Journal entries > Reverse: a reversing batch on the same date."""
        with self.store.lock:
            made = self.costs.reverse_batch(str(journal_id))
        return {"id": made["RECORDNO"]}

    def archive_account_as_user(self, account_id: str) -> dict:
        self.store.update("GLACCOUNT", str(account_id), {"STATUS": "inactive"})
        return {"id": str(account_id)}
