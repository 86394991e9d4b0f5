"""Acumatica connector (contract-based REST API, ``/entity/Default/<version>/``): snapshots in, wrapped records out,
classified errors back, on the kit's session family and draft -> posted (released) life cycle.

**Sessions.** The connection's client id is the Acumatica user, its client secret the password, its ``company``
setting the tenant (and ``branch`` the branch, when the user has several). Logging in (the kit's
``SessionConnector.login``) is ``POST /entity/auth/login``; the session is its cookies. Acumatica's licence caps the
API sessions open at once, so a renewal logs the old session out first and disconnecting logs it out
(``SessionConnector.release``); a login refused for the licence's limit ("API Login Limit") waits like a rate limit.
A session Acumatica forgot (idle timeout, logged out) answers 401: one new session, single-flight through the
token store, and the call is sent again once.

**Life cycle.** Invoices and credit memos (``Invoice`` of ``Type`` "Invoice" / "Credit Memo") and payments
(``Payment``) are put as Balanced documents (``Hold`` false) and released (``ReleaseInvoice``, ``ReleasePayment``);
a refused release deletes the draft (``connectors.lifecycle.create_posted``). With the ``release`` setting off
they stay Balanced for someone to release in Acumatica. A payment is applied to its invoices in
``DocumentsToApply``; a credit memo is applied through the ``Payment`` entity (``Type`` "Credit Memo", the memo's
``ReferenceNbr``) and that application released. Acumatica cannot change a released document: an edit of a
released invoice or memo without applications voids it (``VoidInvoice``) and sends the new content as a new
document; a payment is voided (``VoidPayment``, which gives its applications back) and entered again. A void is
``VoidInvoice`` / ``VoidPayment``; a delete removes an unreleased document and voids a released one.

**Refunds, expenses and journals** (``costs.py``): a refund is a ``Payment`` of ``Type`` "Refund" applied to the
credit memo; an expense a vendor ``Bill`` paid by a ``Check``; a journal a GL ``JournalTransaction``; each put
Balanced and released like the rest. Acumatica voids no released bill or GL batch: an expense is taken back by
voiding its check and reversing its bill (``ReverseBill``, the debit adjustment released), a journal by a
counter-batch; either then reads as voided. A supplier bill is the same ``Bill`` left Open (no check), the
supplier's number in ``VendorRef``, reversed like an expense's bill (``costs.py``).

**No idempotency key.** Customers and items are keyed by ids derived from our keys, so their PUT is an upsert.
Documents are numbered by Acumatica: a create first looks for a live document with our number (``CustomerOrder``,
``PaymentRef``) and refuses itself (``DuplicateError``) when there is one; the pipeline's search-before-create
adopts what a lost answer left (and releases it if it was left Balanced).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from decimal import Decimal
from functools import cached_property
from typing import Any

from .. import lifecycle, rest
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, TIMEOUT_FIELD, Capabilities, DemoChart, ReferenceData,
                    Refused, RemoteChange, RemoteCustomer, RemoteDocument, RemoteItem, RemotePayment, RuleKind,
                    Setting)
from ..documents import (BillSnapshot, Entity, ExpenseSnapshot, Mapping, RefundSnapshot, RemoteRef, RemoteResult,
                         Snapshot)
from ..errors import (ConfigurationError, ConflictError, DuplicateError, RemoteNotFound, SyncError,
                      ValidationFailed)
from ..registry import register
from ..session import Session, SessionConnector
from . import costs as c
from . import errors, wire
from . import translate as t
from .client import ContractClient

LIFECYCLE = lifecycle.Lifecycle(
    entities=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE, Entity.PAYMENT, *Entity.RETURNS_AND_COSTS, Entity.BILL}),
    draft=t.DRAFT, posted=t.POSTED,
    cancelled=t.CANCELLED, void_by="cancel", cancel_from_draft=False,
    hint="Fix what Acumatica names (a closed financial period, an inactive account or tax category) and retry; "
         "the Balanced document Acumatica took was deleted.")
#: Without releasing: documents are only put, and stay Balanced.
UNRELEASED = replace(LIFECYCLE, entities=frozenset())
ENTITY_OF = {Entity.CUSTOMER: "Customer", Entity.ITEM: "NonStockItem", Entity.INVOICE: "Invoice",
             Entity.CREDIT_NOTE: "Invoice", Entity.PAYMENT: "Payment", Entity.REFUND: "Payment",
             Entity.EXPENSE: "Bill", Entity.JOURNAL: "JournalTransaction", Entity.BILL: "Bill"}
#: Refunds, expenses (bills paid by check), journals (GL batches) and supplier bills (bills left open): costs.py.
COSTS = frozenset({*Entity.RETURNS_AND_COSTS, Entity.BILL})
#: The release and void actions per entity (None: the Default endpoint has none for it).
RELEASE = {Entity.INVOICE: "ReleaseInvoice", Entity.CREDIT_NOTE: "ReleaseInvoice", Entity.PAYMENT: "ReleasePayment",
           Entity.REFUND: "ReleasePayment", Entity.EXPENSE: "ReleaseBill",
           Entity.JOURNAL: "ReleaseJournalTransaction", Entity.BILL: "ReleaseBill"}
VOID = {Entity.INVOICE: "VoidInvoice", Entity.CREDIT_NOTE: "VoidInvoice", Entity.PAYMENT: "VoidPayment",
        Entity.REFUND: "VoidPayment"}
#: The entities sent as a ``Bill``: an expense's (paid by a check) and a supplier bill (left open).
BILLS = (Entity.EXPENSE, Entity.BILL)
#: Released documents that are reversed rather than voided: a bill (``ReverseBill``), a GL batch (a counter-batch).
REVERSED = frozenset({Entity.EXPENSE, Entity.JOURNAL, Entity.BILL})
#: How a document carrying our number is searched before a create: (entity, $filter with {number}).
SEARCH = {Entity.PAYMENT: ("Payment", "Type eq 'Payment' and PaymentRef eq {number}"),
          Entity.REFUND: ("Payment", "Type eq 'Refund' and PaymentRef eq {number}"),
          Entity.EXPENSE: ("Bill", "Type eq 'Bill' and VendorRef eq {number} and Vendor eq {vendor}"),
          Entity.JOURNAL: ("JournalTransaction", "Module eq 'GL' and Description eq {number}"),
          Entity.BILL: ("Bill", "Type eq 'Bill' and VendorRef eq {number} and Vendor eq {vendor}")}

#: The key field of customers and items (Acumatica's id for them).
KEY_OF = {Entity.CUSTOMER: "CustomerID", Entity.ITEM: "InventoryID"}
#: What a refused field's error names (``'Account' cannot be found in the system``) -> the rules behind it.
#: A line's account may be an income, expense or journal account; a cash account a deposit, refund or paid-from one.
REFUSED = ((re.compile(r"(?<!Cash )'Account'"), RuleKind.SALES_ACCOUNTS | {RuleKind.EXPENSE_ACCOUNT,
                                                                          RuleKind.JOURNAL_ACCOUNT}),
           (re.compile(r"'Cash Account'"), frozenset({RuleKind.DEPOSIT_ACCOUNT, RuleKind.REFUND_ACCOUNT,
                                                      RuleKind.PAID_FROM_ACCOUNT})),
           (re.compile(r"'Tax Category'"), frozenset({RuleKind.TAX_CODE})))
GONE = re.compile(r"cannot be found|inactive", re.I)


@register
class AcumaticaConnector(SessionConnector):
    id = "acumatica"
    name = "Acumatica"
    capabilities = Capabilities(
        # refunds (Payment of type Refund), expenses (a Bill paid by a Check), journals (JournalTransaction, GL),
        # supplier bills (a Bill left Open)
        entities=frozenset({*Entity.ALL, Entity.BILL}),
        # VoidInvoice, VoidPayment (payments and refunds). Acumatica voids no released bill or GL batch: an
        # expense's check is voided and its bill reversed (ReverseBill, the debit adjustment released), a supplier
        # bill reversed alike; a journal is reversed by a counter-batch (Default has no reverse action for
        # batches). All read back as voided.
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE, Entity.PAYMENT, *Entity.RETURNS_AND_COSTS, Entity.BILL}),
        # customers and items made inactive; unreleased documents deleted, released ones voided (or reversed)
        delete=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.CREDIT_NOTE,
                          *Entity.RETURNS_AND_COSTS, Entity.BILL}),
        kept_lines=True,  # a restocking fee is a negative line of the credit memo: the memo is what goes back
        # LastModifiedDateTime polling; customers and non-stock items come in on their own too; refunds, expenses'
        # bills and GL batches as well (voided, or reversed by a released reversing document: reported voided);
        # supplier bills are the same Bill rows (one list for both)
        inbound=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE,
                           *Entity.RETURNS_AND_COSTS, Entity.BILL}),
        # payments recorded there (remote_payment reads them whole); customers and items (remote_customer / _item)
        inbound_creates=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.PAYMENT}),
        inbound_deletes=False,  # lists hold no deleted records: reconciliation finds a deletion
        idempotency_keys=False,  # our number in CustomerOrder / PaymentRef / VendorRef / Description, searched
    )
    #: Refunds, expenses and journals are reconciled like the sales documents (read back by id).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.RETURNS_AND_COSTS,
                                    Entity.BILL})
    #: Acumatica's limits come with each licence (License Monitoring Console): a pace of our own below the
    #: smallest tiers; its 429 is honoured anyway.
    rate_limits = {"request": (90, 60.0)}
    concurrent_limit = 2
    session_lifetime = dt.timedelta(minutes=20)
    default_settings = {"api_base": "", "company": "", "branch": "", "endpoint_version": "24.200.001",
                        "payment_method": "CHECK", "release": True, "timeout": 30}
    settings_fields = (
        replace(API_BASE_FIELD, help="The Acumatica site (https://yourcompany.acumatica.com, with the instance "
                "name when it has one), or this project's local sandbox."),
        replace(AUTHORIZE_URL_FIELD, help="Acumatica's cookie login has no consent page: Connect logs in at once. "
                "Only a local sandbox's stand-in sign-in page goes here."),
        Setting("company", "Tenant", "The tenant (company) the user signs in to.", required=True),
        Setting("branch", "Branch", "The branch to sign in to, when the user has several (empty: the user's "
                "default branch)."),
        Setting("endpoint_version", "Endpoint version", "The version of the Default endpoint documents are sent "
                "to (Web Service Endpoints, SM207060).", default="24.200.001"),
        Setting("payment_method", "Payment method", "The Acumatica payment method payments are entered with.",
                default="CHECK"),
        Setting("release", "Release documents", "Release invoices, credit memos and payments when they are sent "
                "(off: they stay Balanced for someone to release in Acumatica).", "flag", default=True),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.acumatica.sandbox.AcumaticaSandbox"
    demo_chart = DemoChart(default_income="Sales Revenue", category_income={"Consultations": "Consulting Revenue"},
                           line_kind_income={"shipping": "Shipping Revenue", "fee": "Late Fee Income",
                                             "restocking_fee": "Restocking Fee Income",
                                             "return_shipping": "Shipping Revenue"},
                           discount="Sales Discounts", deposit="Company Checking",
                           taxes={"GST 10%": "Taxable 10%", "Exempt": "Exempt"},
                           refund="Company Checking", expense="Freight Expense", paid_from="Company Checking")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        from .sandbox.seed import TENANT  # the sandbox's own tenant
        return {"api_base": base_url, "company": TENANT, "authorize_url": f"{base_url}/entity/_connect"}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        return rest.refused_by_words(exc, REFUSED, GONE)

    # -- the client and the session --------------------------------------------------------------------------
    def _site(self) -> str:
        site = str(self.setting("api_base") or "").rstrip("/")
        if not site or not self.setting("company"):
            raise ConfigurationError("the Acumatica connection names no site or tenant",
                                     hint="Set the connection's api_base (https://yourcompany.acumatica.com) and "
                                          "company (tenant) settings.")
        return site

    def _client(self, token_getter) -> ContractClient:
        return ContractClient(self._site(), f"entity/Default/{self.setting('endpoint_version')}", token_getter,
                              timeout=float(self.setting("timeout")), throttle=self.throttle)

    @cached_property
    def client(self) -> ContractClient:
        return self._client(self.access_token)

    def login(self) -> Session:
        cookies = self._client(lambda force: "").login(self.config.client_id, self.config.client_secret,
                                                       str(self.setting("company")), str(self.setting("branch") or ""))
        return Session(cookies, company_id=str(self.setting("company")))

    def logout(self, token: str) -> None:
        self._client(lambda force: token).logout(token)

    def session_expired(self, exc: SyncError) -> bool:
        return errors.session_expired(exc)

    @property
    def lifecycle(self) -> lifecycle.Lifecycle:
        return LIFECYCLE if self.setting("release") not in (False, "false", "0", 0) else UNRELEASED

    # -- reading --------------------------------------------------------------------------------------------------
    def _read(self, entity: str, remote_id: str) -> dict:
        expand = {Entity.INVOICE: "Details", Entity.CREDIT_NOTE: "Details", Entity.PAYMENT: "DocumentsToApply",
                  Entity.REFUND: "DocumentsToApply", Entity.EXPENSE: "Details", Entity.JOURNAL: "Details",
                  Entity.BILL: "Details"}
        params = {"$expand": expand[entity]} if entity in expand else None
        return self.client.get(ENTITY_OF[entity], remote_id, params)

    def fetch(self, entity: str, remote_id: str, made_now: bool = False) -> RemoteResult:
        """The document as Acumatica holds it. ``made_now``: one this call just put and released, which nobody can
        have reversed yet (a bill's or batch's reversal is then not looked for: one request fewer per create)."""
        record = self._read(entity, remote_id)
        if entity == Entity.CUSTOMER:
            return t.customer_result(record)
        if entity == Entity.ITEM:
            return t.item_result(record)
        if entity == Entity.PAYMENT:
            return t.payment_result(record)
        if entity == Entity.REFUND:
            return c.refund_result(record)
        if entity in (Entity.EXPENSE, Entity.BILL):
            return c.bill_result(record, reversed_=not made_now and self._reversed(entity, record))
        if entity == Entity.JOURNAL:
            return c.journal_result(record, reversed_=not made_now and self._reversed(entity, record))
        return t.document_result(record)

    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        if doc.entity in (Entity.CUSTOMER, Entity.ITEM):
            key = t.key_id("C", doc.key) if doc.entity == Entity.CUSTOMER else t.key_id("I", doc.key)
            try:
                result = self.fetch(doc.entity, key)
            except RemoteNotFound:
                return None
            return replace(result, adopted=True)
        if isinstance(doc, RefundSnapshot) and c.refund_problems(doc):
            return None
        found = self._find_all(doc)
        if not found:
            return None
        remote_id = found[0]  # a Balanced one is what a lost answer left: released now, as it was meant to be
        lifecycle.finish(self.lifecycle, self, doc.entity, remote_id, self.state(doc.entity, remote_id),
                         self._what(doc))
        if doc.entity == Entity.EXPENSE:
            self._pay_bill(doc, mapping, remote_id)
        return replace(self.fetch(doc.entity, remote_id), adopted=True)

    def _find_all(self, doc: Snapshot) -> list[str]:
        """Ids of the live documents carrying our number, oldest first."""
        if doc.entity in SEARCH:
            entity, query = SEARCH[doc.entity]
            number = c.supplier_number(doc) if isinstance(doc, BillSnapshot) else doc.number
            # an expense's bill and a supplier bill are both Bills: the vendor keeps one from being taken for another
            vendor = c.vendor_id(c.vendor_name(doc)) if isinstance(doc, (ExpenseSnapshot, BillSnapshot)) else ""
            params = {"$filter": query.format(number=_quote(number), vendor=_quote(vendor)), "$select": "Status"}
            if doc.entity == Entity.JOURNAL:  # a person's Reverse copies our description: that batch is not ours
                params["$custom"] = c.BATCH_ORIGIN
            rows = [r for r in self.client.rows(entity, params) if not c.reversed_batch(r)]
            if doc.entity in REVERSED:
                return [self._id_of(doc.entity, r) for r in rows
                        if r.get("Status") not in t.CANCELLED and not self._reversed(doc.entity, r)]
        else:
            query = f"Type eq {_quote(t.DOC_TYPES[doc.entity])} and CustomerOrder eq {_quote(doc.number)}"
            rows = self.client.rows("Invoice", {"$filter": query, "$select": "Status"})
        return [t.document_id(r) for r in rows if r.get("Status") not in t.CANCELLED]

    # -- writing ----------------------------------------------------------------------------------------------------
    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        if doc.entity == Entity.CUSTOMER:
            return t.customer_result(self.client.put("Customer", t.customer_record(doc)))
        if doc.entity == Entity.ITEM:
            return t.item_result(self.client.put("NonStockItem", t.item_record(doc)))
        return self._send(doc, mapping, refuse_taken=True)

    def _send(self, doc: Snapshot, mapping: Mapping, refuse_taken: bool = False) -> RemoteResult:
        """Put the document, release it (life cycle), apply a credit memo; the document as Acumatica holds it."""
        if doc.entity == Entity.PAYMENT:
            record = {**t.payment_record(doc, mapping, str(self.setting("payment_method"))),
                      "DocumentsToApply": self._applications(doc, mapping)}
        elif doc.entity in COSTS:
            record = self._cost_record(doc, mapping)
        else:
            record = t.document_record(doc.entity, doc, mapping)
        entity = ENTITY_OF[doc.entity]

        def draft() -> str:
            made = self._id_of(doc.entity, self._put(doc, entity, record))
            if refuse_taken:
                self._refuse_taken(doc, made)
            return made
        remote_id = lifecycle.create_posted(self.lifecycle, self, doc.entity, draft, self._what(doc))
        if doc.entity == Entity.CREDIT_NOTE and doc.allocations and self.lifecycle.entities:
            self._apply_memo(doc, mapping, remote_id)
        if doc.entity == Entity.EXPENSE:
            self._pay_bill(doc, mapping, remote_id)
        return self.fetch(doc.entity, remote_id, made_now=True)

    def _cost_record(self, doc: Snapshot, mapping: Mapping) -> dict:
        """The record of a refund, an expense's bill (its vendor put first: PUT upserts it) or a journal."""
        if isinstance(doc, RefundSnapshot):
            if problems := c.refund_problems(doc):
                raise ConfigurationError("; ".join(problems), hint="Enter the refund in Acumatica by hand.")
            return c.refund_record(doc, mapping, str(self.setting("payment_method")))
        if isinstance(doc, (ExpenseSnapshot, BillSnapshot)):
            return c.bill_record(doc, mapping)
        return c.journal_record(doc, mapping)

    def _put(self, doc: Snapshot, entity: str, record: dict) -> dict:
        """PUT the record. A bill whose vendor Acumatica does not know yet (our payee, the first time) has its
        vendor put (an upsert by ``VendorID``) and is put again: the bill stays the create's first write, so a
        lost answer leaves a bill that search-before-create finds."""
        try:
            return self.client.put(entity, record)
        except SyncError as exc:
            if not isinstance(doc, (ExpenseSnapshot, BillSnapshot)) or not c.VENDOR_UNKNOWN.search(str(exc)):
                raise
        self.client.put("Vendor", c.vendor_record(doc))
        return self.client.put(entity, record)

    def _pay_bill(self, doc, mapping: Mapping, remote_id: str) -> None:
        """An expense's released bill paid by a check from the paid-from cash account, released (a check a lost
        answer left is released rather than entered twice). With releasing off, the bill stays Balanced unpaid:
        Acumatica applies a check only to a released bill."""
        if Entity.EXPENSE not in self.lifecycle.entities:
            return
        bill = self.client.get("Bill", remote_id)
        if bill.get("Status") != "Open":
            return
        query = f"Type eq 'Payment' and PaymentRef eq {_quote(doc.number)} and Vendor eq {_quote(bill['Vendor'])}"
        left = [r for r in self.client.rows("Check", {"$filter": query, "$select": "Status"})
                if r.get("Status") in t.DRAFT]
        if left:
            check = t.document_keys(t.document_id(left[0]))
        else:
            made = self.client.put("Check", c.check_record(doc, mapping, str(self.setting("payment_method")), bill))
            check = t.document_keys(t.document_id(made))
        self.client.action("Check", "ReleaseCheck", check)

    @staticmethod
    def _id_of(entity: str, record: dict) -> str:
        return c.journal_id(record) if entity == Entity.JOURNAL else t.document_id(record)

    @staticmethod
    def _keys(entity: str, remote_id: str) -> dict:
        return c.journal_keys(remote_id) if entity == Entity.JOURNAL else t.document_keys(remote_id)

    def _refuse_taken(self, doc: Snapshot, made: str) -> None:
        """Acumatica takes a second document with our number: when another live one has it, delete the draft just
        made and refuse the create (the write is the create's first request, so a lost answer leaves a document
        search-before-create finds)."""
        taken = [other for other in self._find_all(doc) if other != made]
        if taken:
            self.discard(doc.entity, made)
            raise DuplicateError(f"Acumatica already holds {self._what(doc)} (id {taken[0]})",
                                 platform_code="number_taken",
                                 hint="The pipeline adopts it when it is ours; otherwise renumber one of them.")

    @staticmethod
    def _applications(doc, mapping: Mapping) -> list[dict]:
        """``DocumentsToApply`` of a payment or credit memo: the invoices' key fields and the amounts."""
        found = []
        for allocation in doc.allocations:
            keys = t.document_keys(t.ref(mapping, allocation.invoice_key, "invoice"))
            found.append({"DocType": keys["Type"], "ReferenceNbr": keys["ReferenceNbr"],
                          "AmountPaid": allocation.amount})
        return found

    def _apply_memo(self, doc, mapping: Mapping, remote_id: str) -> None:
        """A credit memo's applications are entered through the Payment entity and released there."""
        memo = {**t.document_keys(remote_id), "DocumentsToApply": self._applications(doc, mapping)}
        self.client.put("Payment", memo)
        self.client.action("Payment", "ReleasePayment", t.document_keys(remote_id))

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        current = self.fetch(doc.entity, ref.remote_id)
        if ref.version and current.version != ref.version:
            raise ConflictError(f"{self._what(doc)} changed in Acumatica since we last wrote it",
                                platform_code="LastModifiedDateTime", hint="Compare both versions, then send ours "
                                "anyway or change the local document.")
        if doc.entity == Entity.CUSTOMER:
            return t.customer_result(self.client.put("Customer", t.customer_record(doc)))
        if doc.entity == Entity.ITEM:
            return t.item_result(self.client.put("NonStockItem", t.item_record(doc)))
        state = str(current.raw.get("Status") or "")
        if state in t.DRAFT:
            return self._rewrite_draft(doc, mapping, current.raw)
        if doc.entity in COSTS:
            return self._update_cost(doc, mapping, current, state)
        if doc.entity == Entity.PAYMENT:
            record = t.payment_record(doc, mapping, str(self.setting("payment_method")))
            if t.same_payment(record, current.raw) and t.applied(current.raw) == t.wanted(doc, mapping):
                return current
        elif t.same_lines(t.document_record(doc.entity, doc, mapping), current.raw):
            if doc.entity == Entity.CREDIT_NOTE:
                self._apply_more(doc, mapping, ref.remote_id)
                return self.fetch(doc.entity, ref.remote_id)
            return current
        return self._replace(doc, mapping, ref.remote_id, state)

    def _update_cost(self, doc, mapping: Mapping, current: RemoteResult, state: str) -> RemoteResult:
        """A released refund, bill or batch is kept when it already holds what we would send (an expense's bill
        paid if it is not yet). Acumatica changes none once released: a changed refund is voided (its credit comes
        back), a changed bill reversed (its check voided first), a changed batch reversed by a counter-batch; then
        the new content is sent as a new document."""
        if doc.entity == Entity.REFUND:
            same = c.same_refund(self._cost_record(doc, mapping), current.raw)
        elif doc.entity in (Entity.EXPENSE, Entity.BILL):
            same = c.same_bill(c.bill_record(doc, mapping), current.raw)
            if same and doc.entity == Entity.EXPENSE:
                self._pay_bill(doc, mapping, current.remote_id)
                return self.fetch(doc.entity, current.remote_id)
        else:
            same = c.same_journal(c.journal_record(doc, mapping), current.raw)
        return current if same else self._replace(doc, mapping, current.remote_id, state)

    # -- reversals: bills and GL batches ---------------------------------------------------------------------------
    def _reversed(self, entity: str, record: dict) -> bool:
        """Whether a released bill or batch was reversed, by us or by a person: a released debit adjustment whose
        ``Orig. Ref. Nbr.`` is the bill (what Reverse on a bill makes, ours too); a released GL batch whose
        ``Description`` is "Reversal of <its id>" (our counter-batch) or made by Reverse on it (``OrigBatchNbr``,
        ``AutoReverseCopy``). The custom fields are filtered with ``cf.String(f='View.Field')``."""
        if entity not in REVERSED or str(record.get("Status") or "") not in t.POSTED:
            return False
        if entity in (Entity.EXPENSE, Entity.BILL):
            queries = [f"Type eq 'Debit Adj.' and {c.CUSTOM_FILTER['OrigRefNbr']} eq {_quote(record['ReferenceNbr'])}"]
        else:
            queries = [f"Description eq {_quote(c.reversal_of(self._id_of(entity, record)))}",
                       f"Module eq 'GL' and {c.CUSTOM_FILTER['OrigBatchNbr']} eq {_quote(record['BatchNbr'])} and "
                       f"{c.CUSTOM_FILTER['AutoReverseCopy']} eq true"]
        name = ENTITY_OF[entity]
        return any(any(r.get("Status") in t.POSTED for r in self.client.rows(name, {"$filter": query,
                                                                                     "$select": "Status"}))
                   for query in queries)

    def _reverse_bill(self, remote_id: str) -> None:
        """An expense taken back: the released checks that pay its bill voided (the bill is open again), then
        ``ReverseBill`` (a Balanced debit adjustment with the bill's lines), marked "Reversal of <bill>" and
        released: Acumatica applies it to the bill, closing both."""
        bill = self.client.get("Bill", remote_id)
        query = f"Type eq 'Payment' and Vendor eq {_quote(bill['Vendor'])} and PaymentRef eq " \
                f"{_quote(bill.get('VendorRef') or '')}"
        for check in self.client.rows("Check", {"$filter": query, "$expand": "Details"}):
            pays = any(d.get("ReferenceNbr") == bill["ReferenceNbr"] for d in check.get("Details") or [])
            if pays and check.get("Status") in t.POSTED:
                self.client.action("Check", "VoidCheck", t.document_keys(t.document_id(check)))
        self.client.action("Bill", "ReverseBill", t.document_keys(remote_id))
        query = f"Type eq 'Debit Adj.' and Vendor eq {_quote(bill['Vendor'])} and Status eq 'Balanced'"
        made = [r for r in self.client.rows("Bill", {"$filter": query}) if r.get("VendorRef") == bill.get("VendorRef")]
        if not made:
            raise ValidationFailed(f"Acumatica made no reversal of bill {remote_id}", platform_code="reverse",
                                   hint="Reverse the bill in Acumatica (Bills and Adjustments, Reverse).")
        keys = t.document_keys(t.document_id(made[-1]))
        self.client.put("Bill", {**keys, "Description": c.reversal_of(remote_id)})
        self.client.action("Bill", "ReleaseBill", keys)

    def _reverse_batch(self, remote_id: str) -> None:
        """A released GL batch taken back by a counter-batch (its lines with debit and credit swapped, dated as
        it), released: the Default endpoint has no action for Journal Transactions' Reverse."""
        batch = self.client.get("JournalTransaction", remote_id, {"$expand": "Details"})
        self._put_release(Entity.JOURNAL, c.counter_batch(batch, c.reversal_of(remote_id)))

    def _put_release(self, entity: str, record: dict) -> str:
        remote_id = self._id_of(entity, self.client.put(ENTITY_OF[entity], record))
        self.post(entity, remote_id)
        return remote_id

    def _apply_more(self, doc, mapping: Mapping, remote_id: str) -> None:
        """Bring a released credit memo's applications up to what the credit note now applies. Acumatica takes
        back a released application only by reversing it there: a smaller amount is refused with that hint."""
        try:
            done = t.applied(self.client.get("Payment", remote_id, {"$expand": "DocumentsToApply"}))
        except RemoteNotFound:
            done = {}
        wanted = t.wanted(doc, mapping)
        for key in [key for key, amount in done.items() if wanted.get(key, Decimal("0.00")) < amount]:
            self._reverse_application(remote_id, key)
            done.pop(key)
        more = [{"DocType": key.partition("/")[0], "ReferenceNbr": key.partition("/")[2],
                 "AmountPaid": amount - done.get(key, Decimal("0.00"))}
                for key, amount in wanted.items() if amount > done.get(key, Decimal("0.00"))]
        if more:
            self.client.put("Payment", {**t.document_keys(remote_id), "DocumentsToApply": more})
            self.client.action("Payment", "ReleasePayment", t.document_keys(remote_id))

    def _reverse_application(self, remote_id: str, applied_to: str) -> None:
        """Take back what a released payment or credit memo applied to one document (``Type/ReferenceNbr``)."""
        keys = t.document_keys(applied_to)
        self.client.action("Payment", "ReverseApplication", t.document_keys(remote_id),
                           {"DocType": keys["Type"], "ReferenceNbr": keys["ReferenceNbr"]})

    def _unapply(self, entity: str, remote_id: str) -> None:
        """A released credit memo's applications taken back before it is voided (Acumatica voids only a memo
        without applications)."""
        if entity != Entity.CREDIT_NOTE:
            return
        try:
            done = t.applied(self.client.get("Payment", remote_id, {"$expand": "DocumentsToApply"}))
        except RemoteNotFound:
            return
        for key in done:
            self._reverse_application(remote_id, key)

    def _rewrite_draft(self, doc: Snapshot, mapping: Mapping, record: dict) -> RemoteResult:
        """An unreleased document is changed in place (its old lines deleted by id) and released as declared."""
        if doc.entity == Entity.PAYMENT:
            body = {**t.payment_record(doc, mapping, str(self.setting("payment_method"))),
                    "DocumentsToApply": self._applications(doc, mapping), "ReferenceNbr": record["ReferenceNbr"]}
            self.client.put("Payment", body)
        elif doc.entity == Entity.REFUND:
            self.client.put("Payment", {**self._cost_record(doc, mapping), "ReferenceNbr": record["ReferenceNbr"]})
        elif doc.entity in COSTS:
            body = self._cost_record(doc, mapping)
            body["Details"] = [*({"id": line["id"], "delete": True} for line in record.get("Details") or []),
                               *body["Details"]]
            self._put(doc, ENTITY_OF[doc.entity], {**body, **self._keys(doc.entity, self._id_of(doc.entity,
                                                                                                    record))})
        else:
            body = t.document_record(doc.entity, doc, mapping)
            body["Details"] = [*({"id": line["id"], "delete": True} for line in record.get("Details") or []),
                               *body["Details"]]
            self.client.put("Invoice", {**body, "ReferenceNbr": record["ReferenceNbr"]})
        remote_id = self._id_of(doc.entity, record)
        lifecycle.finish(self.lifecycle, self, doc.entity, remote_id, str(record.get("Status")), self._what(doc))
        if doc.entity == Entity.EXPENSE:
            self._pay_bill(doc, mapping, remote_id)
        return self.fetch(doc.entity, remote_id)

    def _replace(self, doc: Snapshot, mapping: Mapping, remote_id: str, state: str) -> RemoteResult:
        """A released document cannot change in Acumatica: void it and send the new content as a new document
        (an invoice or memo with applications cannot be voided: Acumatica's refusal says so)."""
        lifecycle.void(LIFECYCLE, self, doc.entity, remote_id, state, self._what(doc))
        return self._send(doc, mapping)

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        lifecycle.void(LIFECYCLE, self, entity, ref.remote_id, self.state(entity, ref.remote_id),
                       f"{entity.replace('_', ' ')} {ref.remote_id}")
        return self.fetch(entity, ref.remote_id)

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        """Customers and items are made inactive (Acumatica refuses to delete one that documents use). An
        unreleased document is deleted; a released one is voided (Acumatica deletes only unreleased ones)."""
        if entity == Entity.CUSTOMER:
            self.client.put("Customer", {"CustomerID": ref.remote_id, "Status": "Inactive"})
            return
        if entity == Entity.ITEM:
            self.client.put("NonStockItem", {"InventoryID": ref.remote_id, "ItemStatus": "Inactive"})
            return
        state = self.state(entity, ref.remote_id)
        if state in t.DRAFT:
            self.discard(entity, ref.remote_id)
        else:
            lifecycle.void(LIFECYCLE, self, entity, ref.remote_id, state, f"{entity.replace('_', ' ')} "
                           f"{ref.remote_id}")

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        return c.refund_problems(doc) if isinstance(doc, RefundSnapshot) else []

    # -- the life cycle's steps (connectors.lifecycle.LifecycleSteps) -------------------------------------------
    def state(self, entity: str, remote_id: str) -> str:
        """The document's ``Status``; a bill or batch we reversed reads as Voided."""
        record = self.client.get(ENTITY_OF[entity], remote_id, {"$select": "Status"})
        return "Voided" if self._reversed(entity, record) else str(record.get("Status") or "")

    def post(self, entity: str, remote_id: str) -> None:
        self.client.action(ENTITY_OF[entity], RELEASE[entity], self._keys(entity, remote_id))

    def to_draft(self, entity: str, remote_id: str) -> None:
        raise ValidationFailed("Acumatica cannot take a released document back to Balanced",
                               platform_code="released", hint="Void it in Acumatica and send it again.")

    def cancel(self, entity: str, remote_id: str) -> None:
        if entity in (Entity.EXPENSE, Entity.BILL):
            self._reverse_bill(remote_id)
            return
        if entity == Entity.JOURNAL:
            self._reverse_batch(remote_id)
            return
        self._unapply(entity, remote_id)
        self.client.action(ENTITY_OF[entity], VOID[entity], self._keys(entity, remote_id))

    def reverse(self, entity: str, remote_id: str) -> str:
        raise NotImplementedError("Acumatica documents are voided here (LIFECYCLE.void_by)")

    def discard(self, entity: str, remote_id: str) -> None:
        self.client.delete(ENTITY_OF[entity], remote_id)

    # -- reference data ----------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        accounts = list(self.client.rows("Account", {"$filter": "Active eq true"}))
        taxes = list(self.client.rows("TaxCategory", {"$filter": "Active eq true"}))
        currencies = list(self.client.rows("Currency"))
        home = next((str(c["CurrencyID"]) for c in currencies if c.get("IsBaseCurrency")), "")
        return rest.reference_data(accounts, taxes, t.account_kind, account_id="AccountCD",
                                   account_name="Description", tax_id="TaxCategoryID", tax_name="Description",
                                   currencies=[str(c["CurrencyID"]) for c in currencies], home_currency=home)

    # -- platform -> local ---------------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """``LastModifiedDateTime ge since`` per document type; the cursor is the time we asked at. Refunds are
        ``Payment`` of ``Type`` "Refund" (a Voided Refund, Acumatica's counter-document of a void, is not one of
        ours: the refund itself reads Voided); expenses and journals: ``_bills_changed``, ``_batches_changed``."""
        cursor = dt.datetime.now(dt.UTC)
        changes: list[RemoteChange] = []
        when = f"LastModifiedDateTime ge datetimeoffset'{t.acumatica_time(since)}'"
        wanted = [e for e in entities if e in self.inbound_entities]
        if bills := [e for e in wanted if e in BILLS]:
            changes += self._bills_changed(when, bills)
        for entity in [e for e in wanted if e not in BILLS]:
            if entity in KEY_OF:  # customers and items: their key field names them
                rows = self.client.rows(ENTITY_OF[entity], {"$filter": when,
                                                            "$select": f"{KEY_OF[entity]},LastModifiedDateTime"})
                changes += [RemoteChange(entity, str(row[KEY_OF[entity]]), "update", self.config.remote_company_id,
                                         rest.parse_time(str(row["LastModifiedDateTime"]))) for row in rows]
                continue
            if entity == Entity.JOURNAL:
                changes += self._batches_changed(when)
                continue
            kind = {Entity.PAYMENT: "Payment", Entity.REFUND: "Refund"}.get(entity) or t.DOC_TYPES[entity]
            rows = self.client.rows(ENTITY_OF[entity], {"$filter": f"Type eq {_quote(kind)} and {when}",
                                                        "$select": "Status,LastModifiedDateTime"})
            for row in rows:
                operation = "void" if row.get("Status") in t.CANCELLED else "update"
                changes.append(RemoteChange(entity, t.document_id(row), operation, self.config.remote_company_id,
                                            rest.parse_time(str(row["LastModifiedDateTime"]))))
        return changes, cursor

    def _bills_changed(self, when: str, entities: list[str]) -> list[RemoteChange]:
        """Bills and debit adjustments changed (one list, with each one's ``Orig. Ref. Nbr.`` through
        ``$custom``). A bill is an "update", or a "void" when voided; a released debit adjustment reversing a bill
        (Reverse on the bill: its ``OrigRefNbr``) reports that bill voided and is not reported itself. An
        expense's bill and a supplier bill are the same ``Bill`` rows: each is reported as every one of
        ``entities`` asked for (the pipeline skips the entity it holds no reference of)."""
        rows = list(self.client.rows("Bill", {"$filter": when, "$select": "Status,LastModifiedDateTime",
                                              "$custom": c.BILL_ORIGIN}))
        found: dict[tuple[str, str], RemoteChange] = {}
        for row in rows:
            when_changed = rest.parse_time(str(row["LastModifiedDateTime"]))
            for entity in entities:
                if row.get("Type") == "Bill":
                    operation = "void" if row.get("Status") in t.CANCELLED else "update"
                    found.setdefault((entity, t.document_id(row)), RemoteChange(
                        entity, t.document_id(row), operation, self.config.remote_company_id, when_changed))
                elif (reversed_ := c.reversed_bill(row)) and row.get("Status") in t.POSTED:
                    found[(entity, reversed_)] = RemoteChange(entity, reversed_, "void",
                                                              self.config.remote_company_id, when_changed)
        return list(found.values())

    def _batches_changed(self, when: str) -> list[RemoteChange]:
        """GL batches changed (one list, ``$custom`` their ``OrigModule`` / ``OrigBatchNbr`` /
        ``AutoReverseCopy``). A batch is an "update" ("void" when voided); a released reversing batch, a person's
        (Reverse: ``AutoReverseCopy``) or our counter-batch ("Reversal of GL/<nbr>"), reports the batch it reverses
        voided and is not reported itself."""
        rows = self.client.rows("JournalTransaction", {"$filter": f"Module eq 'GL' and {when}",
                                                       "$select": "Status,Description,LastModifiedDateTime",
                                                       "$custom": c.BATCH_ORIGIN})
        found: dict[str, RemoteChange] = {}
        for row in rows:
            when_changed = rest.parse_time(str(row["LastModifiedDateTime"]))
            if reversed_ := c.reversed_batch(row):
                if row.get("Status") in t.POSTED:
                    found[reversed_] = RemoteChange(Entity.JOURNAL, reversed_, "void", self.config.remote_company_id,
                                                    when_changed)
                continue
            operation = "void" if row.get("Status") in t.CANCELLED else "update"
            found.setdefault(c.journal_id(row), RemoteChange(Entity.JOURNAL, c.journal_id(row), operation,
                                                             self.config.remote_company_id, when_changed))
        return list(found.values())

    def remote_payment(self, remote_id: str) -> RemotePayment:
        record = self._read(Entity.PAYMENT, remote_id)
        allocations: list[tuple[str, Decimal]] = []
        for item in record.get("DocumentsToApply") or []:
            allocations.append((f"{item['DocType']}/{item['ReferenceNbr']}", rest.money(item["AmountPaid"])))
        return t.remote_payment(record, allocations)

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        try:
            return t.remote_document(self._read(entity, remote_id))
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)

    def remote_customer(self, remote_id: str) -> RemoteCustomer:
        return t.remote_customer(self._read(Entity.CUSTOMER, remote_id))

    def remote_item(self, remote_id: str) -> RemoteItem:
        return t.remote_item(self._read(Entity.ITEM, remote_id))

    @staticmethod
    def _what(doc: Snapshot) -> str:
        label = doc.entity.replace("_", " ")
        return f"{label} {getattr(doc, 'number', '') or getattr(doc, 'name', '')}".strip()


def _quote(value: Any) -> str:
    return wire.quote(str(value))
