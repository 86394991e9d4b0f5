"""Sage Intacct connector (Accounts Receivable over the XML gateway): snapshots in, gateway functions out,
classified errors back, on the kit's session family.

**Credentials and sessions.** Every request carries the sender id and password of a Web Services licence (the
connection's ``sender_id`` and ``sender_password`` settings) and a company login: the Web Services user is the
connection's client id, its password the client secret, the company its ``company_id`` setting. Logging in (the
kit's ``SessionConnector.login``) is ``getAPISession`` with that login; its ``sessionid`` is the session each call
carries, and it lasts until the ``sessiontimeout`` the answer names. A refused session (``XL03000006``) logs in
once more, single-flight through the token store; refused again, the connection needs reconnecting. Intacct has no
call that ends an API session: it lapses by itself.

**No duplicates.** Every write is sent with ``<uniqueid>true</uniqueid>`` and our idempotency key as the request's
and the function's control id. Intacct refuses to run a request whose control id it has seen, so a retry after a
lost answer is refused (``RepeatedControlId``) and the connector looks the document up by our number and adopts
it. A refused write ran nothing; the pipeline's next attempt carries a new key. Invoice numbers are unique in
Intacct too, and a customer's ``CUSTOMERID`` is derived from our key.

**Documents.** Invoices are ``create_invoice`` (the legacy AR function, which the Intacct SDKs write: it takes our
number as ``invoiceno``, and ``update_invoice`` / ``reverse_invoice`` belong to the same family); they are posted
as created (no draft). A void is ``reverse_invoice`` (Intacct's void: the invoice is kept, reversed, nothing due),
run through the kit's life cycle (``void_by="reverse"``). Payments are ``create_arpayment`` applied to invoices
with ``arpaymentitem``; Intacct does not edit a posted payment, so a change reverses it (``reverse_arpayment``)
and records it again under the same number, and a void reverses it. Credit notes are credit memos
(``create_aradjustment``, negative line amounts) applied to invoices by an ``ARPYMT`` whose details carry
``ADJUSTMENTKEY``; Intacct cannot edit one, so new lines delete and create it again.

**Refunds, expenses and journals** (``costs.py``): a refund is a customer refund (``ARREFUND``) of the credit
memo; an expense an AP bill (``create_bill``, to a vendor made from the payee) paid at once by an ``APPYMT``; a
journal a ``GLBATCH`` in the general journal. Intacct edits none once posted: a changed one is reversed and sent
again, and a void reverses it (``reverse_arrefund``; ``reverse_appayment`` then ``reverse_bill``; a reversing
batch).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from dataclasses import replace
from functools import cached_property

from .. import lifecycle, rest
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, TIMEOUT_FIELD, Capabilities, DemoChart, Dimension,
                    DocumentTotals, ReferenceData, Refused, RemoteChange, RemoteCustomer, RemoteDocument, RemoteItem,
                    RemotePayment, RuleKind, Setting)
from ..documents import (BillSnapshot, Entity, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot, RemoteRef,
                         RemoteResult, Snapshot)
from ..errors import (ConfigurationError, ConflictError, DuplicateError, PermanentError, RemoteNotFound, SyncError,
                      ValidationFailed)
from ..registry import register
from ..session import Session, SessionConnector
from . import costs as c
from . import translate as t
from .client import GatewayClient, Result
from .errors import RepeatedControlId
from .wire import Function, as_list

LIFECYCLE = lifecycle.Lifecycle(
    entities=frozenset(), posted=frozenset({"Posted", "Partially Paid", "Paid", "Complete"}),
    cancelled=frozenset({"Reversed", "Voided"}), void_by="reverse",
    hint="Fix what Sage Intacct names (a closed period, payments still applied) and retry.")
OBJECTS = {Entity.INVOICE: "ARINVOICE", Entity.PAYMENT: "ARPYMT", Entity.CREDIT_NOTE: "ARADJUSTMENT",
           Entity.REFUND: c.REFUND, Entity.EXPENSE: c.BILL, Entity.JOURNAL: c.JOURNAL, Entity.BILL: c.BILL}
#: Refunds, expenses, journals and supplier bills (connectors/intacct/costs.py).
COSTS = frozenset({*Entity.RETURNS_AND_COSTS, Entity.BILL})
#: How each reads back as our result, and the day it counts on (reconciliation's periods).
RESULTS = {Entity.REFUND: c.refund_result, Entity.EXPENSE: c.bill_result, Entity.JOURNAL: c.journal_result,
           Entity.BILL: c.bill_result}
DAYS = {Entity.PAYMENT: "RECEIPTDATE", Entity.REFUND: "PAYMENTDATE", Entity.JOURNAL: "BATCH_DATE"}
#: Customers and items: the object and its id field.
PARTIES = {Entity.CUSTOMER: ("CUSTOMER", "CUSTOMERID"), Entity.ITEM: ("ITEM", "ITEMID")}
NUMBER_FIELDS = {Entity.INVOICE: "RECORDID", Entity.PAYMENT: "DOCNUMBER", Entity.CREDIT_NOTE: "RECORDID",
                 Entity.REFUND: "DOCNUMBER", Entity.EXPENSE: "RECORDID", Entity.JOURNAL: "REFERENCENO",
                 Entity.BILL: "RECORDID"}
#: A payment record that moves cash (not one that only applies a credit memo).
CASH = "TOTALENTERED > '0'"
REFUSED_ACCOUNT = re.compile(r"GL account", re.I)
REFUSED_TAX = re.compile(r"tax detail", re.I)
PAGE = 1000


@register
class IntacctConnector(SessionConnector):
    id = "intacct"
    name = "Sage Intacct"
    capabilities = Capabilities(
        #: refunds: customer refunds of credit memos; expenses: AP bills paid at once; journals: GL batches;
        #: supplier bills: AP bills left open (connectors/intacct/costs.py)
        entities=frozenset({*Entity.ALL, Entity.BILL}),
        #: reverse_invoice / reverse_arpayment / reverse_arrefund; an expense's payment and bill reversed; a journal
        #: by a reversing batch; a supplier bill by reverse_bill
        void=frozenset({Entity.INVOICE, Entity.PAYMENT, *Entity.RETURNS_AND_COSTS, Entity.BILL}),
        # a customer with transactions is made inactive; a credit memo's applications are reversed first; a supplier
        # bill by delete_bill (reversed instead when Intacct refuses)
        delete=frozenset({Entity.CUSTOMER, Entity.INVOICE, Entity.CREDIT_NOTE, Entity.BILL}),
        # readByQuery on WHENMODIFIED; customers and items come in on their own too; a refund, expense (its bill)
        # or journal reversed there is reported voided (a reversing batch as the batch it reverses); supplier bills
        # are the same APBILL rows as the expenses' (one query for both)
        inbound=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE,
                           *Entity.RETURNS_AND_COSTS, Entity.BILL}),
        # payments recorded there (remote_payment reads them whole); customers and items (remote_customer / _item)
        inbound_creates=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.PAYMENT}),
        inbound_deletes=False,  # readByQuery lists no deleted records: reconciliation finds a deletion
        idempotency_keys=True,  # <uniqueid>true</uniqueid> with our key as control id
        kept_lines=True,  # a restocking fee is a positive line of the credit memo, on its own income account
    )
    #: Refunds, expenses, journals and supplier bills are reconciled like the sales documents (read in bulk with
    #: ``read``).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.RETURNS_AND_COSTS,
                                    Entity.BILL})
    #: Performance tier 1: about two requests at a time per company; a monthly transaction count, not a rate.
    rate_limits = {"request": (300, 60.0)}
    concurrent_limit = 2
    default_settings = {"api_base": "https://api.intacct.com", "timeout": 30}
    settings_fields = (
        API_BASE_FIELD,
        replace(AUTHORIZE_URL_FIELD, help="Sage Intacct has no consent page: Connect logs in at once. Only a local "
                "sandbox's stand-in sign-in page goes here."),
        Setting("company_id", "Company ID", "The Sage Intacct company the Web Services user signs in to (the "
                "client id is the user, the client secret its password).", required=True),
        Setting("sender_id", "Sender ID", "The Web Services sender id of the licence this connection uses; the "
                "company must authorise it.", required=True),
        Setting("sender_password", "Sender password", "The Web Services sender password (kept when left empty).",
                secret=True),
        TIMEOUT_FIELD,
    )
    dimensions = (
        Dimension("location", "Location", "Locations (optional)", "The Sage Intacct location id each line is "
                  "booked to (Company > Locations); the company may require one.", "location id"),
        Dimension("department", "Department", "Departments (optional)", "The Sage Intacct department id each "
                  "line is booked to (Company > Departments).", "department id"),
    )
    sandbox_class = "connectors.intacct.sandbox.IntacctSandbox"
    demo_chart = DemoChart(default_income="Product Sales", category_income={"Consultations": "Consulting Revenue"},
                           line_kind_income={"shipping": "Shipping Revenue", "fee": "Late Fee Income",
                                             "restocking_fee": "Restocking Fee Income",
                                             "return_shipping": "Shipping Revenue"},
                           discount="Discounts Given", deposit="Undeposited Funds",
                           taxes={"GST 10%": "Sales Tax 10%", "Exempt": "Tax Exempt"},
                           refund="Bank", expense="Freight and Postage", paid_from="Bank")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        from .sandbox import seed  # the sandbox's own company and sender (public values)
        return {"api_base": base_url, "company_id": seed.COMPANY_ID, "sender_id": seed.SENDER_ID,
                "sender_password": seed.SENDER_PASSWORD, "authorize_url": f"{base_url}/intacct/connect"}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        message, found = exc.message or "", []
        if REFUSED_ACCOUNT.search(message):
            found.append(Refused(RuleKind.SALES_ACCOUNTS | {RuleKind.DEPOSIT_ACCOUNT}))
        if REFUSED_TAX.search(message):
            found.append(Refused(frozenset({RuleKind.TAX_CODE})))
        return found

    # -- the gateway ----------------------------------------------------------------------------------------------
    @cached_property
    def client(self) -> GatewayClient:
        base = str(self.setting("api_base") or "").rstrip("/")
        if not base or not all(self.setting(key) for key in ("company_id", "sender_id", "sender_password")):
            raise ConfigurationError("the Sage Intacct connection names no address, company or sender",
                                     hint="Set the connection's company_id, sender_id and sender_password.")
        return GatewayClient(base, str(self.setting("sender_id")), str(self.setting("sender_password") or ""),
                             timeout=float(self.setting("timeout")), throttle=self.throttle)

    def exchanges(self) -> list[dict]:
        return self.client.exchanges if "client" in self.__dict__ else []

    def run(self, call: str, body, key: str = "") -> Result:
        """One function in one request, its error raised. With ``key`` (a write), the key is the request's and the
        function's control id under ``uniqueid`` true; reads get a fresh control id."""
        control = key or f"read-{uuid.uuid4()}"
        function = Function(control, call, body)
        [result] = self.call(lambda session: self.client.execute({"sessionid": session}, [function], control,
                                                                 unique=bool(key)))
        return result.raise_for_error()

    # -- the session family ----------------------------------------------------------------------------------------
    def login(self) -> Session:
        login = {"login": {"userid": self.config.client_id, "companyid": str(self.setting("company_id")),
                           "password": self.config.client_secret}}
        [result] = self.client.execute(login, [Function(f"login-{uuid.uuid4()}", "getAPISession", None)],
                                       f"login-{uuid.uuid4()}", kind="login")
        result.raise_for_error()
        session = result.data.findtext("api/sessionid") if result.data is not None else None
        if not session:
            raise ValidationFailed("Sage Intacct opened no session", platform_code="getAPISession")
        expires = None
        timeout = result.authentication.findtext("sessiontimeout") if result.authentication is not None else None
        if timeout:
            try:
                expires = dt.datetime.fromisoformat(timeout.strip())
            except ValueError:
                expires = None
            if expires is not None and expires.tzinfo is None:
                expires = expires.replace(tzinfo=dt.UTC)
        return Session(session.strip(), expires, str(self.setting("company_id")))

    # -- reading ------------------------------------------------------------------------------------------------------
    def read(self, obj: str, keys: list[str], by_name: bool = False) -> list[dict]:
        if not keys:
            return []
        result = self.run("readByName" if by_name else "read", {"object": obj, "keys": ",".join(keys),
                                                                 "fields": "*"})
        return result.records()

    def read_one(self, obj: str, key: str, by_name: bool = False) -> dict:
        found = self.read(obj, [key], by_name)
        if not found:
            raise RemoteNotFound(f"Sage Intacct has no {obj} {key}", platform_code="not_found")
        return found[0]

    def query(self, obj: str, query: str, fields: str = "*") -> list[dict]:
        """``readByQuery``, then ``readMore`` with its ``resultId`` while rows remain."""
        result = self.run("readByQuery", {"object": obj, "fields": fields, "query": query, "pagesize": PAGE})
        rows = result.records()
        while result.data is not None and int(result.data.get("numremaining") or 0) > 0:
            result = self.run("readMore", {"resultId": result.data.get("resultId")})
            rows += result.records()
        return rows

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        if entity == Entity.CUSTOMER:
            return t.customer_result(self.read_one("CUSTOMER", remote_id, by_name=True))
        if entity == Entity.ITEM:
            return t.item_result(self.read_one("ITEM", remote_id, by_name=True))
        if entity == Entity.PAYMENT:
            return t.payment_result(self.read_one("ARPYMT", remote_id))
        if entity == Entity.CREDIT_NOTE:
            return t.credit_result(self.read_one("ARADJUSTMENT", remote_id))
        if entity in COSTS:
            return RESULTS[entity](self.read_one(OBJECTS[entity], remote_id))
        return t.invoice_result(self.read_one("ARINVOICE", remote_id))

    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        found = self._find(doc)
        if found is None:
            return None
        if isinstance(doc, ExpenseSnapshot):  # a bill a lost answer left unpaid is paid now, as it was meant to be
            self._pay_bill(doc, mapping, found, f"pay-{c.BILL}-{found}")
        return replace(self.fetch(doc.entity, found), adopted=True)

    def _find(self, doc: Snapshot) -> str | None:
        """The oldest live record with our name (customers) or number (documents)."""
        if doc.entity in (Entity.CUSTOMER, Entity.ITEM):
            obj, key = ("CUSTOMER", "CUSTOMERID") if doc.entity == Entity.CUSTOMER else ("ITEM", "ITEMID")
            rows = self.query(obj, f"NAME = {t.quote(doc.name)}", f"RECORDNO,{key}")
            return str(rows[0][key]) if rows else None
        obj = OBJECTS[doc.entity]
        cash = f" AND {CASH}" if doc.entity == Entity.PAYMENT else ""
        number = c.bill_number(doc) if isinstance(doc, BillSnapshot) else doc.number
        if doc.entity in (Entity.EXPENSE, Entity.BILL):  # a bill number is unique per vendor
            cash = f" AND VENDORID = {t.quote(c.vendor_id(c.party(doc)))}"
        rows = self.query(obj, f"{NUMBER_FIELDS[doc.entity]} = {t.quote(number)} AND STATE != "
                               f"{t.quote(t.VOIDED[obj])}{cash}",
                          "RECORDNO,REVERSEDFROM" if doc.entity == Entity.JOURNAL else "RECORDNO")
        rows = [r for r in rows if not r.get("REVERSEDFROM")]  # a reversing batch carries the number too
        return str(min(rows, key=lambda r: int(r["RECORDNO"]))["RECORDNO"]) if rows else None

    # -- writing ------------------------------------------------------------------------------------------------------
    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        try:
            return self._create(doc, mapping, idempotency_key)
        except RepeatedControlId:
            found = self.find_existing(doc, mapping)  # the first request ran; its answer was lost
            if found is None:
                raise
            return found

    def _create(self, doc: Snapshot, mapping: Mapping, key: str) -> RemoteResult:
        if doc.entity == Entity.CUSTOMER:
            remote_id = t.record_id(doc)
            self.run("create", {"CUSTOMER": t.customer_body(doc, remote_id)}, key)
            return self.fetch(doc.entity, remote_id)
        if doc.entity == Entity.ITEM:
            remote_id = t.record_id(doc)
            self.run("create", {"ITEM": t.item_body(doc, remote_id)}, key)
            return self.fetch(doc.entity, remote_id)
        if doc.entity == Entity.PAYMENT:
            body = t.arpymt_body(doc, mapping)
            if body is None:
                return self.fetch(doc.entity, self.run("create_arpayment", t.payment_body(doc, mapping), key).key)
            return self.fetch(doc.entity, str(self.run("create", body, key).records()[0]["RECORDNO"]))
        if doc.entity == Entity.CREDIT_NOTE:
            return self._create_credit(doc, mapping, key)
        if isinstance(doc, RefundSnapshot):
            return self.fetch(doc.entity, self._made(self.run("create", c.refund_body(doc, mapping), key)))
        if isinstance(doc, ExpenseSnapshot):
            return self._create_expense(doc, mapping, key)
        if isinstance(doc, BillSnapshot):  # the expense's bill, left open
            return self.fetch(doc.entity, self._send_bill(doc, c.supplier_bill_body(doc, mapping), key))
        if isinstance(doc, JournalSnapshot):
            return self.fetch(doc.entity, self._made(self.run("create", c.journal_body(doc, mapping), key)))
        return self.fetch(doc.entity, self.run("create_invoice", t.invoice_body(doc, mapping), key).key)

    @staticmethod
    def _made(result: Result) -> str:
        return str(result.records()[0]["RECORDNO"])

    # -- expenses: an AP bill paid at once -----------------------------------------------------------------------
    def _create_expense(self, doc: ExpenseSnapshot, mapping: Mapping, key: str) -> RemoteResult:
        """The bill, then its payment. The bill is the first write (a lost answer leaves a bill that
        search-before-create finds). A refused payment reverses the bill (a refusal leaves nothing) before it is
        raised."""
        remote_id = self._send_bill(doc, c.bill_body(doc, mapping), key)
        try:
            self._pay_bill(doc, mapping, remote_id, f"{key}:pay")
        except PermanentError:
            self.run("reverse_bill", {"@key": remote_id, "datereversed": t.split_date(dt.date.today())},
                     f"{key}:withdraw")
            raise
        return self.fetch(doc.entity, remote_id)

    def _send_bill(self, doc: ExpenseSnapshot | BillSnapshot, body: dict, key: str) -> str:
        """``create_bill``: its record number. A vendor Intacct does not know yet (our payee or supplier, the first
        time) is made when the bill is refused for it, and the bill sent again."""
        try:
            return self.run("create_bill", body, key).key
        except ValidationFailed as exc:
            if not c.VENDOR_UNKNOWN.search(str(exc)):
                raise
            with contextlib.suppress(DuplicateError):  # made by an earlier try (or its control id seen)
                self.run("create", c.vendor_body(doc), f"{key}:vendor")
            return self.run("create_bill", body, key).key  # the refused request ran nothing

    def _pay_bill(self, doc: ExpenseSnapshot, mapping: Mapping, remote_id: str, key: str) -> None:
        """Pay what the bill still owes from the paid-from account (nothing when it is paid: a lost answer)."""
        bill = self.read_one(c.BILL, remote_id)
        if bill.get("STATE") in LIFECYCLE.cancelled or not rest.money(bill.get("TOTALDUE")):
            return
        with contextlib.suppress(RepeatedControlId):
            self.run("create", c.bill_payment_body(doc, mapping, bill), key)

    def _reverse_expense(self, remote_id: str, key: str) -> None:
        """Intacct reverses no bill with payments on it: the live payments of the bill reversed, then the bill."""
        bill = self.read_one(c.BILL, remote_id)
        rows = self.query(c.BILL_PAYMENT, f"VENDORID = {t.quote(str(bill['VENDORID']))} AND STATE != 'Voided'",
                          "RECORDNO")
        for payment in self.read(c.BILL_PAYMENT, [str(r["RECORDNO"]) for r in rows]):
            details = payment.get("APPYMTDETAILS")
            if any(str(d.get("RECORDKEY")) == remote_id
                   for d in as_list(details.get("appymtdetail") if isinstance(details, dict) else None)):
                with contextlib.suppress(RepeatedControlId):
                    self.run("reverse_appayment", {"@key": payment["RECORDNO"],
                                                   "datereversed": t.split_date(dt.date.today())},
                             f"{key}:reverse-{payment['RECORDNO']}")
        with contextlib.suppress(RepeatedControlId):
            self.run("reverse_bill", {"@key": remote_id, "datereversed": t.split_date(dt.date.today())},
                     f"{key}:reverse-bill")

    def _update_cost(self, doc: Snapshot, mapping: Mapping, remote_id: str, key: str) -> RemoteResult:
        """A refund, bill or batch that already holds what we would send is kept (an expense's bill paid if it is
        not yet); Intacct edits none once posted: otherwise it is reversed and the new content sent as a new
        record."""
        record = self.read_one(OBJECTS[doc.entity], remote_id)
        if isinstance(doc, RefundSnapshot):
            same = c.same_refund(c.refund_body(doc, mapping), record)
        elif isinstance(doc, ExpenseSnapshot):
            same = c.same_bill(c.bill_body(doc, mapping), record)
            if same:
                self._pay_bill(doc, mapping, remote_id, f"{key}:pay")
        elif isinstance(doc, BillSnapshot):
            same = c.same_bill(c.supplier_bill_body(doc, mapping), record)
        else:
            same = c.same_journal(c.journal_body(doc, mapping), record)
        if same:
            return self.fetch(doc.entity, remote_id)
        if record.get("STATE") not in LIFECYCLE.cancelled:
            self._reverse_cost(doc.entity, remote_id, key)
        return self.create(doc, mapping, f"{key}:create")

    def _reverse_cost(self, entity: str, remote_id: str, key: str) -> None:
        if entity == Entity.REFUND:
            with contextlib.suppress(RepeatedControlId):
                self.run("reverse_arrefund", {"@key": remote_id, "datereversed": t.split_date(dt.date.today())},
                         f"{key}:reverse")
        elif entity == Entity.EXPENSE:
            self._reverse_expense(remote_id, key)
        elif entity == Entity.BILL:  # refused while payments are applied: staff reverse those first
            with contextlib.suppress(RepeatedControlId):
                self.run("reverse_bill", {"@key": remote_id, "datereversed": t.split_date(dt.date.today())},
                         f"{key}:reverse-bill")
        else:
            with contextlib.suppress(RepeatedControlId):
                self.run("create", c.reversing_body(self.read_one(c.JOURNAL, remote_id)), f"{key}:reverse")

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        return c.refund_problems(doc) if isinstance(doc, RefundSnapshot) else []

    def _create_credit(self, doc: Snapshot, mapping: Mapping, key: str) -> RemoteResult:
        """The credit memo, then the ``ARPYMT`` applying it to invoices; a refused application withdraws the credit
        memo (a refusal writes nothing) before it is raised."""
        remote_id = self.run("create_aradjustment", t.credit_body(doc, mapping), key).key
        try:
            self._apply_credit(doc, mapping, remote_id, f"{key}:apply")
        except PermanentError:
            self.run("delete_aradjustment", {"@key": remote_id}, f"{key}:withdraw")
            raise
        return self.fetch(doc.entity, remote_id)

    def _apply_credit(self, doc: Snapshot, mapping: Mapping, remote_id: str, key: str) -> None:
        """Make the credit memo's applications what ``doc.allocations`` say: nothing when they already are;
        otherwise the current ones are reversed and the new ones applied."""
        wanted = sorted((mapping.refs.get(a.invoice_key, ""), a.amount) for a in doc.allocations if a.amount > 0)
        current = self._credit_applications(remote_id, doc.number)
        held = sorted((str(d.get("RECORDKEY")), rest.money(d.get("TRX_ADJUSTMENTAMOUNT")))
                      for record in current for d in t.details(record) if d.get("ADJUSTMENTKEY") == remote_id)
        if held == wanted:
            return
        self._reverse_all(current, key)
        body = t.credit_applications(doc, mapping, remote_id)
        if body is not None:
            with contextlib.suppress(RepeatedControlId):
                self.run("create", body, key)

    def _credit_applications(self, remote_id: str, number: str) -> list[dict]:
        """The live payment records that apply credit memo ``remote_id`` (numbered like it)."""
        rows = self.query("ARPYMT", f"DOCNUMBER = {t.quote(number)} AND STATE != 'Voided'", "RECORDNO")
        return [record for record in self.read("ARPYMT", [str(r["RECORDNO"]) for r in rows])
                if any(d.get("ADJUSTMENTKEY") == remote_id for d in t.details(record))]

    def _reverse_all(self, records: list[dict], key: str) -> None:
        for record in records:
            with contextlib.suppress(RepeatedControlId):
                self.run("reverse_arpayment", {"@key": record["RECORDNO"],
                                               "datereversed": t.split_date(dt.date.today())},
                         f"{key}:reverse-{record['RECORDNO']}")

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        current = self.fetch(doc.entity, ref.remote_id)
        if ref.version and current.version != ref.version:
            raise ConflictError(f"{self._what(doc)} changed in Sage Intacct since we last wrote it",
                                platform_code="WHENMODIFIED", hint="Compare both versions, then send ours anyway or "
                                "change the local document.")
        try:
            if doc.entity == Entity.CUSTOMER:
                self.run("update", {"CUSTOMER": t.customer_body(doc, ref.remote_id)}, idempotency_key)
            elif doc.entity == Entity.ITEM:
                self.run("update", {"ITEM": t.item_body(doc, ref.remote_id)}, idempotency_key)
            elif doc.entity == Entity.CREDIT_NOTE:
                return self._revise_credit(doc, mapping, ref.remote_id, idempotency_key)
            elif doc.entity in COSTS:
                return self._update_cost(doc, mapping, ref.remote_id, idempotency_key)
            elif doc.entity == Entity.INVOICE:
                self.run("update_invoice", {"@key": ref.remote_id, **t.invoice_update(doc, mapping)},
                         idempotency_key)
            else:
                return self._replace_payment(doc, mapping, ref.remote_id, idempotency_key)
        except RepeatedControlId:
            pass  # the update ran; its answer was lost
        return self.fetch(doc.entity, ref.remote_id)

    def _revise_credit(self, doc: Snapshot, mapping: Mapping, remote_id: str, key: str) -> RemoteResult:
        """Intacct cannot edit a credit memo's lines: new lines mean its applications reversed, the credit memo
        deleted and created again (a new record number); the same lines mean only its applications change."""
        body = t.credit_body(doc, mapping)
        if t.same_credit_lines(self.read_one("ARADJUSTMENT", remote_id), body):
            self._apply_credit(doc, mapping, remote_id, f"{key}:apply")
            return self.fetch(doc.entity, remote_id)
        self._reverse_all(self._credit_applications(remote_id, doc.number), key)
        with contextlib.suppress(RepeatedControlId):
            self.run("delete_aradjustment", {"@key": remote_id}, f"{key}:delete")
        return self.create(doc, mapping, f"{key}:create")

    def _replace_payment(self, doc: Snapshot, mapping: Mapping, remote_id: str, key: str) -> RemoteResult:
        """Intacct does not edit a posted payment: reverse it, then record it again (a new record number)."""
        if self.state(Entity.PAYMENT, remote_id) not in LIFECYCLE.cancelled:
            with contextlib.suppress(RepeatedControlId):  # reversed by our earlier request, its answer lost
                self.run("reverse_arpayment", {"@key": remote_id, "datereversed": t.split_date(dt.date.today())},
                         f"{key}:reverse")
        return self.create(doc, mapping, f"{key}:create")

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        remote_id = lifecycle.void(LIFECYCLE, self, entity, ref.remote_id, self.state(entity, ref.remote_id),
                                   f"{entity.replace('_', ' ')} {ref.remote_id}")
        return self.fetch(entity, remote_id)

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        """A customer with transactions cannot be deleted: it is made inactive. An invoice or a supplier bill that
        Intacct will not delete (payments applied, a closed period) is reversed (nothing due) instead."""
        try:
            if entity == Entity.CUSTOMER:  # the generic delete takes record numbers, not customer ids
                recordno = str(self.read_one("CUSTOMER", ref.remote_id, by_name=True)["RECORDNO"])
                self.run("delete", {"object": "CUSTOMER", "keys": recordno}, idempotency_key)
            elif entity == Entity.CREDIT_NOTE:
                credit = self.read_one("ARADJUSTMENT", ref.remote_id)
                self._reverse_all(self._credit_applications(ref.remote_id, str(credit.get("RECORDID") or "")),
                                  idempotency_key)
                self.run("delete_aradjustment", {"@key": ref.remote_id}, idempotency_key)
            elif entity == Entity.BILL:
                self.run("delete_bill", {"@key": ref.remote_id}, idempotency_key)
            else:
                self.run("delete_invoice", {"@key": ref.remote_id}, idempotency_key)
        except RepeatedControlId:
            return
        except ValidationFailed:
            if entity == Entity.CUSTOMER:
                self.run("update", {"CUSTOMER": {"CUSTOMERID": ref.remote_id, "STATUS": "inactive"}},
                         f"{idempotency_key}:inactive")
            else:
                self.void(entity, ref, f"{idempotency_key}:void")

    # -- the life cycle's steps (connectors.lifecycle.LifecycleSteps): Intacct posts as it creates -----------------
    def state(self, entity: str, remote_id: str) -> str:
        return str(self.read_one(OBJECTS[entity], remote_id).get("STATE") or "")

    def reverse(self, entity: str, remote_id: str) -> str:
        if entity in COSTS:
            self._reverse_cost(entity, remote_id, f"reverse-{OBJECTS[entity]}-{remote_id}")
            return remote_id  # Intacct keeps the refund, bill or batch, marked reversed
        call = "reverse_invoice" if entity == Entity.INVOICE else "reverse_arpayment"
        with contextlib.suppress(RepeatedControlId):  # reversed by our earlier request, its answer lost
            self.run(call, {"@key": remote_id, "datereversed": t.split_date(dt.date.today())},
                     f"reverse-{OBJECTS[entity]}-{remote_id}")
        return remote_id  # Intacct keeps the document, marked reversed

    def post(self, entity: str, remote_id: str) -> None:
        raise NotImplementedError("Sage Intacct posts AR documents as it creates them (no drafts here)")

    def to_draft(self, entity: str, remote_id: str) -> None:
        raise NotImplementedError("Sage Intacct has no way back to draft for a posted AR document")

    def cancel(self, entity: str, remote_id: str) -> None:
        raise NotImplementedError("Sage Intacct voids by reversing (LIFECYCLE.void_by)")

    def discard(self, entity: str, remote_id: str) -> None:
        raise NotImplementedError("Sage Intacct creates no drafts to discard")

    # -- reference data and dimensions ------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        accounts = self.query("GLACCOUNT", "STATUS = 'active'", "ACCOUNTNO,TITLE,ACCOUNTTYPE,NORMALBALANCE,CATEGORY")
        taxes = self.query("TAXDETAIL", "TAXTYPE = 'Sale' AND STATUS = 'active'", "DETAILID")
        currencies = self.query("TRXCURRENCIES", "STATUS = 'active'", "CODE,ISBASE")
        home = next((c["CODE"] for c in currencies if c.get("ISBASE") == "true"), "")
        return rest.reference_data(accounts, taxes, t.account_kind, account_id="ACCOUNTNO", account_name="TITLE",
                                   tax_id="DETAILID", tax_name="DETAILID", currencies=[c["CODE"] for c in currencies],
                                   home_currency=home)

    def dimension_values(self, kind: str) -> dict[str, str]:
        """The active locations or departments (id -> name), for staff choosing a dimension's value."""
        if kind == "location":
            return {r["LOCATIONID"]: r["NAME"] for r in self.query("LOCATION", "STATUS = 'active'", "LOCATIONID,NAME")}
        if kind == "department":
            return {r["DEPARTMENTID"]: r["TITLE"] for r in self.query("DEPARTMENT", "STATUS = 'active'",
                                                                      "DEPARTMENTID,TITLE")}
        raise LookupError(f"Sage Intacct has no dimension {kind!r} here")

    # -- platform -> local -------------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """``WHENMODIFIED >= since`` (to the second) per object; the cursor is the second we asked in. A refund,
        bill or batch reversed there reads ``Voided`` / ``Reversed``: a void. A reversing batch (``REVERSEDFROM``)
        is not one of ours: the batch it reverses is reported voided instead. An APBILL with a reference number
        (``DOCNUMBER``, where our number goes) is a supplier bill, one without it an expense's bill."""
        cursor = dt.datetime.now(dt.UTC).replace(microsecond=0)
        changes: dict[tuple[str, str], RemoteChange] = {}
        read: dict[str, list[dict]] = {}
        for entity in [e for e in entities if e in self.inbound_entities]:
            if entity in PARTIES:  # customers and items: named by their id, inactive ones included
                obj, key = PARTIES[entity]
                for row in self.query(obj, f"WHENMODIFIED >= {t.quote(t.intacct_time(since))}",
                                      f"{key},WHENMODIFIED"):
                    changes[(entity, str(row[key]))] = RemoteChange(
                        entity, str(row[key]), "update", self.config.remote_company_id,
                        t.parse_time(row.get("WHENMODIFIED")))
                continue
            obj = OBJECTS[entity]
            cash = f" AND {CASH}" if entity == Entity.PAYMENT else ""
            reverses = ",REVERSEDFROM" if entity == Entity.JOURNAL else ""
            reference = ",DOCNUMBER" if obj == c.BILL else ""
            if obj not in read:  # expenses and supplier bills are both APBILL rows: one query for the two
                read[obj] = self.query(obj, f"WHENMODIFIED >= {t.quote(t.intacct_time(since))}{cash}",
                                       f"RECORDNO,STATE,WHENMODIFIED{reverses}{reference}")
            for row in read[obj]:
                if obj == c.BILL and c.bill_entity(row) != entity:
                    continue
                original = str(row.get("REVERSEDFROM") or "")
                remote_id = original or str(row["RECORDNO"])
                operation = "void" if original or row.get("STATE") == t.VOIDED[obj] else "update"
                if operation == "void" or (entity, remote_id) not in changes:
                    changes[(entity, remote_id)] = RemoteChange(entity, remote_id, operation,
                                                                self.config.remote_company_id,
                                                                t.parse_time(row.get("WHENMODIFIED")))
        return list(changes.values()), cursor

    def remote_payment(self, remote_id: str) -> RemotePayment:
        return t.remote_payment(self.read_one("ARPYMT", remote_id))

    def remote_customer(self, remote_id: str) -> RemoteCustomer:
        return t.remote_customer(self.read_one("CUSTOMER", remote_id, by_name=True))

    def remote_item(self, remote_id: str) -> RemoteItem:
        return t.remote_item(self.read_one("ITEM", remote_id, by_name=True))

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        try:
            return t.remote_document(self.read_one(OBJECTS[entity], remote_id), entity)
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)

    # -- reconciliation: one read per chunk --------------------------------------------------------------------------
    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        ids = [str(i) for i in remote_ids]
        obj = OBJECTS.get(entity)
        if obj is None:
            return [DocumentTotals(i, entity, status="deleted") for i in ids]
        found: dict[str, DocumentTotals] = {}
        for row in self.read(obj, ids):
            result = {Entity.PAYMENT: t.payment_result, Entity.CREDIT_NOTE: t.credit_result, **RESULTS}.get(
                entity, t.invoice_result)(row)
            day = t.parse_date(row.get(DAYS.get(entity, "WHENCREATED")))
            currency = str(row.get("CURRENCY") or "")
            if entity == Entity.JOURNAL:  # a batch's currency is its entries'
                currency = next((str(e.get("CURRENCY") or "") for e in c.entries(row)), "")
            found[result.remote_id] = DocumentTotals.from_result(
                entity, result, currency=currency, date=day, modified=t.parse_time(row.get("WHENMODIFIED")),
                tax_total=c.bill_tax(row) if entity in (Entity.EXPENSE, Entity.BILL) else None)
        return [found.get(i) or DocumentTotals(i, entity, status="deleted") for i in ids]

    @staticmethod
    def _what(doc: Snapshot) -> str:
        label = doc.entity.replace("_", " ")
        return f"{label} {getattr(doc, 'number', '') or getattr(doc, 'name', '')}".strip()
