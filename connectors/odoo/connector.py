"""Odoo connector (Invoicing / Accounting, Odoo 17 to 19): snapshots in, ORM method calls out, classified errors
back, on the kit's session family and draft -> posted life cycle.

**Two protocols, one connector.** Odoo's external API is XML-RPC (``/xmlrpc/2/common`` and ``/xmlrpc/2/object``,
every Odoo up to 19, deprecated from 19) and, from Odoo 19, JSON-2 (``/json/2/<model>/<method>`` with a bearer API
key). Both call the same ORM methods with the same named parameters, so the connector speaks in one
``rpc(model, method, ids, **params)``. Which one a connection uses is its ``protocol`` setting: ``xmlrpc``,
``json2`` or ``auto`` (the default: the server's version from ``GET /web/version``, else XML-RPC's
``common.version()``; 19 and later take JSON-2).

**Sessions.** The connection's client id is the Odoo login, its client secret the user's API key (or password),
its ``database`` setting the database. Logging in (the kit's ``SessionConnector.login``) is XML-RPC's
``common.authenticate``, whose user id is the session each call carries; JSON-2 has no login, so the key is
checked with ``res.users.context_get`` and is itself the session. A refused session (fault 3 ``AccessDenied``,
HTTP 401) logs in once more, single-flight through the token store; refused again, the connection needs
reconnecting.

**Life cycle.** Invoices (``out_invoice``) and credit notes (``out_refund``) are created as drafts and posted
(``action_post``); an edit resets them to draft (``button_draft``), writes and posts again, and gives back the
payment and credit matches Odoo removed on the reset; a void resets and cancels (``button_cancel``). Payments are
``account.payment`` records created as drafts with our number as memo, posted, and matched with their invoices
by ``js_assign_outstanding_line`` (what the "outstanding credits" widget does); a credit note is matched the same
way. Odoo's ``account.payment.register`` wizard (create the wizard, then ``action_create_payments``) is what a
person uses; it is not used here because when the answer to its first call is lost nothing exists to be found,
while a draft payment carrying our number is found and finished. An edit resets the payment (``action_draft``),
writes, posts and matches it again.

**No idempotency key, no uniqueness.** Odoo accepts a second invoice with the same customer reference, so a
create first looks for a live document with our number and refuses itself (``DuplicateError``) when there is
one; the pipeline's search-before-create adopts what a lost answer left (and posts it if it was left a draft).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import replace
from decimal import Decimal
from functools import cached_property
from typing import Any

from .. import lifecycle, rest
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, TIMEOUT_FIELD, Capabilities, DemoChart, DocumentTotals,
                    ReferenceData, Refused, RemoteChange, RemoteCustomer, RemoteDocument, RemoteItem, RemotePayment,
                    RuleKind, Setting)
from ..documents import (Entity, ExpenseSnapshot, JournalSnapshot, Mapping, PaymentSnapshot, RefundSnapshot, RemoteRef,
                         RemoteResult, Snapshot)
from ..errors import (AuthError, ConfigurationError, ConflictError, DuplicateError, RemoteNotFound, SyncError,
                      ValidationFailed)
from ..registry import register
from ..session import Session, SessionConnector
from . import costs as c
from . import translate as t
from .client import Json2Client, XmlRpcClient

LIFECYCLE = lifecycle.Lifecycle(
    entities=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE, Entity.PAYMENT, *Entity.RETURNS_AND_COSTS}),
    void_by="cancel",
    hint="Fix what Odoo names (a lock date, an inactive account or tax, a missing line) and retry; the draft "
         "Odoo took was withdrawn.")
#: Server major version by "api_base|database" (a server's version changes only with an upgrade; a process that
#: outlives one keeps the protocol it chose until restarted, see docs/connectors/odoo.md).
_VERSIONS: dict[str, int] = {}
REFUSED_ACCOUNT = re.compile(r"account .*(deprecated|does not exist)|deprecated account", re.I)
REFUSED_TAX = re.compile(r"tax .*(archived|does not exist)", re.I)
#: Payments (money in) and refunds (money out to a customer) are both ``account.payment`` records.
PAYMENTS = (Entity.PAYMENT, Entity.REFUND)
#: Expenses and journals are journal entries (``account.move`` of ``move_type`` entry).
ENTRIES = (Entity.EXPENSE, Entity.JOURNAL)


@register
class OdooConnector(SessionConnector):
    id = "odoo"
    name = "Odoo"
    capabilities = Capabilities(
        entities=frozenset(Entity.ALL),
        # reset to draft, then cancelled (refunds are payments; expenses and journals are journal entries)
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE, Entity.PAYMENT, *Entity.RETURNS_AND_COSTS}),
        kept_lines=True,  # a restocking fee is a negative line of the credit note (out_refund)
        # customers and items archived (Odoo keeps used partners); documents deleted, or cancelled where Odoo refuses
        delete=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.CREDIT_NOTE}),
        # write_date polling; customers (partners of customer rank) and products come in on their own too; refunds,
        # expenses and journals we sent: cancelled or edited there (none made there is taken in)
        inbound=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE,
                           *Entity.RETURNS_AND_COSTS}),
        inbound_creates=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE}),
        inbound_deletes=False,  # Odoo lists no deleted records: reconciliation finds a deletion
        idempotency_keys=False,  # none in Odoo: our number in ref / memo, searched before each create
    )
    #: Refunds, expenses and journals are reconciled like the sales documents (read back by id).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.RETURNS_AND_COSTS})
    #: Odoo publishes no rate limit for its external API; a pace of our own (a proxy's 429 is honoured anyway).
    rate_limits = {"request": (300, 60.0)}
    concurrent_limit = 4
    default_settings = {"api_base": "", "database": "", "protocol": "auto", "timeout": 30}
    settings_fields = (
        API_BASE_FIELD,
        replace(AUTHORIZE_URL_FIELD, help="Odoo has no consent page: Connect logs in at once. Only a local "
                "sandbox's stand-in sign-in page goes here."),
        Setting("database", "Database", "The Odoo database the connection works in (one Odoo server can hold "
                "several).", required=True),
        Setting("protocol", "Protocol", "How calls are made: chosen by the server's version when automatic "
                "(JSON-2 from Odoo 19, XML-RPC before).", "choice",
                choices=(("auto", "Automatic (by server version)"), ("xmlrpc", "XML-RPC"), ("json2", "JSON-2"))),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.odoo.sandbox.OdooSandbox"
    demo_chart = DemoChart(default_income="Product Sales", category_income={"Consultations": "Consulting Revenue"},
                           line_kind_income={"shipping": "Shipping Revenue", "fee": "Late Fee Income",
                                             "restocking_fee": "Restocking Fees",
                                             "return_shipping": "Shipping Revenue"},
                           discount="Discounts Given", deposit="Bank",
                           taxes={"GST 10%": "Tax 10%", "Exempt": "Tax Exempt"},
                           refund="Bank", expense="Freight and Postage", paid_from="Bank")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        from .sandbox.seed import DATABASE  # the sandbox's own database name
        return {"api_base": base_url, "database": DATABASE, "authorize_url": f"{base_url}/odoo/connect"}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        message = exc.message or ""
        found = []
        if REFUSED_ACCOUNT.search(message):
            found.append(Refused(RuleKind.SALES_ACCOUNTS | {RuleKind.DEPOSIT_ACCOUNT}))
        if REFUSED_TAX.search(message):
            found.append(Refused(frozenset({RuleKind.TAX_CODE})))
        return found

    # -- the two protocols ---------------------------------------------------------------------------------------
    def _base(self) -> str:
        base = str(self.setting("api_base") or "").rstrip("/")
        if not base or not self.setting("database"):
            raise ConfigurationError("the Odoo connection names no server or database",
                                     hint="Set the connection's api_base (https://yourcompany.odoo.com) and "
                                          "database settings.")
        return base

    @cached_property
    def xmlrpc(self) -> XmlRpcClient:
        return XmlRpcClient(self._base(), str(self.setting("database")), self.config.client_secret,
                            timeout=float(self.setting("timeout")), throttle=self.throttle)

    @cached_property
    def json2(self) -> Json2Client:
        return Json2Client(self._base(), str(self.setting("database")), self.access_token,
                           timeout=float(self.setting("timeout")), throttle=self.throttle)

    @cached_property
    def server_version(self) -> int:
        """The server's major version: ``GET /web/version``, else (a server without it answers 404) XML-RPC's
        ``common.version()``. Remembered per server and database for the process's life."""
        key = f"{self._base()}|{self.setting('database')}"
        if key not in _VERSIONS:
            try:
                answer = self.xmlrpc.request("GET", "web/version")
                major = int(answer["version_info"][0])
            except (ValidationFailed, RemoteNotFound, KeyError, IndexError, TypeError, ValueError):
                info = self.xmlrpc.version()
                major = int(str(info.get("server_serie") or info.get("server_version")).split(".")[0]
                            .removeprefix("saas~"))
            _VERSIONS[key] = major
        return _VERSIONS[key]

    @cached_property
    def protocol(self) -> str:
        chosen = str(self.setting("protocol") or "auto")
        if chosen in ("xmlrpc", "json2"):
            return chosen
        return "json2" if self.server_version >= 19 else "xmlrpc"

    @cached_property
    def memo_field(self) -> str:
        """A payment's memo: ``ref`` up to Odoo 17, ``memo`` from 18."""
        return "memo" if self.server_version >= 18 else "ref"

    def exchanges(self) -> list[dict]:
        """Both clients' exchanges (the version check goes over XML-RPC's even on a JSON-2 connection)."""
        return [exchange for name in ("xmlrpc", "json2") if name in self.__dict__
                for exchange in self.__dict__[name].exchanges]

    def rpc(self, model: str, method: str, ids: list | None = None, **params: Any) -> Any:
        if self.protocol == "json2":
            return self.json2.call(model, method, ids, params)
        return self.call(lambda session: self.xmlrpc.call(session, model, method, ids, params))

    # -- the session family ----------------------------------------------------------------------------------------
    def login(self) -> Session:
        if self.protocol == "json2":
            key = self.config.client_secret
            client = Json2Client(self._base(), str(self.setting("database")), lambda force: key,
                                 timeout=float(self.setting("timeout")), throttle=self.throttle)
            client.call("res.users", "context_get", None, {}, kind="login")
            return Session(key, company_id=str(self.setting("database")))
        uid = self.xmlrpc.authenticate(self.config.client_id)
        if not uid:
            raise AuthError("Odoo refused the login: wrong login, API key or database", platform_code="authenticate",
                            hint="Check the client id (login), the client secret (API key) and the database.")
        return Session(str(uid), company_id=str(self.setting("database")))

    # -- reading --------------------------------------------------------------------------------------------------
    def read_one(self, model: str, remote_id: str, fields: list[str]) -> dict:
        found = self.rpc(model, "read", [int(remote_id)], fields=fields)
        if not found:
            raise RemoteNotFound(f"Odoo has no {model} {remote_id}", platform_code="MissingError")
        return found[0]

    def search_read(self, model: str, domain: list, fields: list[str], **params) -> list[dict]:
        return self.rpc(model, "search_read", domain=domain, fields=fields, **params)

    def _move(self, remote_id: str) -> tuple[dict, list[dict]]:
        move = self.read_one("account.move", remote_id, t.MOVE_FIELDS)
        lines = self.rpc("account.move.line", "read", list(move["invoice_line_ids"]), fields=t.LINE_FIELDS) \
            if move["invoice_line_ids"] else []
        return move, sorted(lines, key=lambda line: line["id"])

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        if entity == Entity.CUSTOMER:
            return t.partner_result(self.read_one("res.partner", remote_id, t.PARTNER_FIELDS))
        if entity == Entity.ITEM:
            return t.product_result(self.read_one("product.product", remote_id, t.PRODUCT_FIELDS))
        if entity in PAYMENTS:
            return t.payment_result(self.read_one("account.payment", remote_id, self._payment_fields),
                                    self.memo_field)
        if entity in ENTRIES:
            return c.entry_result(*self._entry(remote_id))
        return t.move_result(*self._move(remote_id))

    def _entry(self, remote_id: str) -> tuple[dict, list[dict]]:
        move = self.read_one("account.move", remote_id, c.ENTRY_FIELDS)
        lines = self.rpc("account.move.line", "read", list(move["line_ids"]), fields=c.ENTRY_LINE_FIELDS) \
            if move["line_ids"] else []
        return move, sorted(lines, key=lambda line: line["id"])

    @property
    def _payment_fields(self) -> list[str]:
        return [*t.PAYMENT_FIELDS, self.memo_field]

    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        found = self._find(doc)
        if found is None:
            return None
        result = self.fetch(doc.entity, found)
        state = str(result.raw.get("state") or "")
        if lifecycle.finish(LIFECYCLE, self, doc.entity, found, state, self._what(doc)):
            result = self.fetch(doc.entity, found)
        if isinstance(doc, RefundSnapshot) and self._apply_refund(doc, mapping, found):  # a lost answer's refund
            result = self.fetch(doc.entity, found)
        return RemoteResult(**{**result.__dict__, "adopted": True})

    def _find(self, doc: Snapshot) -> str | None:
        found = self._find_all(doc, limit=1)
        return found[0] if found else None

    def _find_all(self, doc: Snapshot, limit: int = 0) -> list[str]:
        """Live records with our name (customers, items) or number (documents), oldest first."""
        limit = limit or None
        if doc.entity == Entity.CUSTOMER:
            rows = self.rpc("res.partner", "search", domain=[["name", "=", doc.name]], limit=limit, order="id")
        elif doc.entity == Entity.ITEM:
            rows = self.rpc("product.product", "search", domain=[["name", "=", doc.name]], limit=limit, order="id")
        elif doc.entity in PAYMENTS:
            direction = "outbound" if doc.entity == Entity.REFUND else "inbound"
            rows = self.rpc("account.payment", "search", domain=[[self.memo_field, "=", doc.number],
                                                                 ["payment_type", "=", direction],
                                                                 ["state", "!=", "cancel"]], limit=limit, order="id")
        else:
            rows = self.rpc("account.move", "search", domain=[["move_type", "=", t.MOVE_TYPES[doc.entity]],
                                                              ["ref", "=", doc.number], ["state", "!=", "cancel"]],
                            limit=limit, order="id")
        return [str(r) for r in rows]

    # -- writing ----------------------------------------------------------------------------------------------------
    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        if doc.entity == Entity.CUSTOMER:
            return self.fetch(doc.entity, self._create("res.partner", t.partner_vals(doc, mapping)))
        if doc.entity == Entity.ITEM:
            return self.fetch(doc.entity, self._create("product.product", t.product_vals(doc)))
        if doc.entity == Entity.PAYMENT:
            model, vals = "account.payment", t.payment_vals(doc, mapping, self._journal(mapping), self.memo_field)
        elif doc.entity == Entity.REFUND:
            self._refuse_overpayment(doc)
            partner = t.ref_id(mapping, doc.customer_key, "customer")
            model, vals = "account.payment", c.refund_vals(doc, mapping, partner, self._journal(mapping),
                                                           self.memo_field)
        elif doc.entity in ENTRIES:
            model, vals = "account.move", self._entry_vals(doc, mapping)
        else:
            model, vals = "account.move", t.move_vals(doc.entity, doc, mapping, self._currency(doc.currency))

        def draft() -> str:
            made = self._create(model, vals)
            self._refuse_taken(doc, made)
            return made
        remote_id = lifecycle.create_posted(LIFECYCLE, self, doc.entity, draft, self._what(doc))
        self._apply(doc, mapping, remote_id)
        return self.fetch(doc.entity, remote_id)

    def _apply(self, doc: Snapshot, mapping: Mapping, remote_id: str) -> None:
        """Match a payment or credit note with the invoices it is applied to, for the amounts applied; a refund
        with its credit note."""
        if isinstance(doc, RefundSnapshot):
            self._apply_refund(doc, mapping, remote_id)
            return
        if doc.entity not in (Entity.PAYMENT, Entity.CREDIT_NOTE):
            return
        line = self._receivable("payment_id" if doc.entity == Entity.PAYMENT else "move_id", remote_id)
        for allocation in doc.allocations:
            self._match(ref_of(mapping, allocation.invoice_key), line, allocation.amount)

    def _refuse_taken(self, doc: Snapshot, made: str) -> None:
        """Odoo takes a second document with our number: when another live one has it, withdraw the draft just
        made and refuse the create (the first request of a create is the write itself, so a lost answer leaves
        a document search-before-create finds)."""
        taken = [other for other in self._find_all(doc) if other != made]
        if taken:
            self.discard(doc.entity, made)
            raise DuplicateError(f"Odoo already holds {self._what(doc)} (id {taken[0]})", platform_code="ref_taken",
                                 hint="The pipeline adopts it when it is ours; otherwise renumber one of them.")

    def _create(self, model: str, vals: dict, **params) -> str:
        [created] = self.rpc(model, "create", vals_list=[vals], **params)
        return str(created)

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        current = self.fetch(doc.entity, ref.remote_id)
        if ref.version and current.version != ref.version:
            raise ConflictError(f"{self._what(doc)} changed in Odoo since we last wrote it",
                                platform_code="write_date", hint="Compare both versions, then send ours anyway or "
                                "change the local document.")
        if doc.entity == Entity.CUSTOMER:
            self.rpc("res.partner", "write", [int(ref.remote_id)], vals=t.partner_vals(doc, mapping))
        elif doc.entity == Entity.ITEM:
            self.rpc("product.product", "write", [int(ref.remote_id)], vals=t.product_vals(doc))
        elif doc.entity in PAYMENTS:
            self._revise_payment(doc, mapping, ref.remote_id)
        elif doc.entity in ENTRIES:
            vals = self._entry_vals(doc, mapping)
            vals["line_ids"] = [(5, 0, 0), *vals["line_ids"]]
            vals.pop("move_type")
            lifecycle.revise(LIFECYCLE, self, doc.entity, ref.remote_id, self.state(doc.entity, ref.remote_id),
                             lambda: self.rpc("account.move", "write", [int(ref.remote_id)], vals=vals),
                             self._what(doc))
        else:
            self._revise_move(doc, mapping, ref.remote_id)
        return self.fetch(doc.entity, ref.remote_id)

    def _revise_move(self, doc, mapping: Mapping, remote_id: str) -> None:
        """Reset, rewrite the lines, post, and match again what Odoo unmatched on the reset: an invoice's payments
        and credits as they were, a credit note as its allocations now say."""
        receivable = self._receivable("move_id", remote_id)
        matched = self._matched(receivable) if receivable and doc.entity == Entity.INVOICE else []
        vals = t.move_vals(doc.entity, doc, mapping, self._currency(doc.currency))
        vals["invoice_line_ids"] = [(5, 0, 0), *vals["invoice_line_ids"]]
        vals.pop("move_type")
        lifecycle.revise(LIFECYCLE, self, doc.entity, remote_id, self.state(doc.entity, remote_id),
                         lambda: self.rpc("account.move", "write", [int(remote_id)], vals=vals), self._what(doc))
        for other, amount in matched:
            self._match(remote_id, other, amount)
        self._apply(doc, mapping, remote_id)

    def _revise_payment(self, doc: PaymentSnapshot | RefundSnapshot, mapping: Mapping, remote_id: str) -> None:
        vals = {"amount": doc.amount, "date": rest.iso_date(doc.date) or False, self.memo_field: doc.number}
        lifecycle.revise(LIFECYCLE, self, doc.entity, remote_id, self.state(doc.entity, remote_id),
                         lambda: self.rpc("account.payment", "write", [int(remote_id)], vals=vals), self._what(doc))
        self._apply(doc, mapping, remote_id)

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        lifecycle.void(LIFECYCLE, self, entity, ref.remote_id, self.state(entity, ref.remote_id),
                       f"{entity.replace('_', ' ')} {ref.remote_id}")
        return self.fetch(entity, ref.remote_id)

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        """Customers and items are archived (Odoo refuses to delete a partner that has journal items). An invoice
        or credit note is reset to draft and deleted; when Odoo refuses (it consumed a sequence number that is
        not the last of its chain), it is cancelled instead, which leaves nothing due."""
        if entity in (Entity.CUSTOMER, Entity.ITEM):
            model = "res.partner" if entity == Entity.CUSTOMER else "product.product"
            self.rpc(model, "action_archive", [int(ref.remote_id)])
            return
        state = self.state(entity, ref.remote_id)
        if state == "posted":
            self.to_draft(entity, ref.remote_id)
        try:
            self.discard(entity, ref.remote_id)
        except ValidationFailed:
            lifecycle.void(LIFECYCLE, self, entity, ref.remote_id, "draft", f"{entity.replace('_', ' ')} "
                           f"{ref.remote_id}")

    # -- the life cycle's steps (connectors.lifecycle.LifecycleSteps) -------------------------------------------
    @staticmethod
    def _model(entity: str) -> str:
        return "account.payment" if entity in PAYMENTS else "account.move"

    def state(self, entity: str, remote_id: str) -> str:
        return str(self.read_one(self._model(entity), remote_id, ["state"])["state"])

    def post(self, entity: str, remote_id: str) -> None:
        self.rpc(self._model(entity), "action_post", [int(remote_id)])

    def to_draft(self, entity: str, remote_id: str) -> None:
        method = "action_draft" if entity in PAYMENTS else "button_draft"
        self.rpc(self._model(entity), method, [int(remote_id)])

    def cancel(self, entity: str, remote_id: str) -> None:
        method = "action_cancel" if entity in PAYMENTS else "button_cancel"
        self.rpc(self._model(entity), method, [int(remote_id)])

    def reverse(self, entity: str, remote_id: str) -> str:
        raise NotImplementedError("Odoo documents are voided by cancelling them (LIFECYCLE.void_by)")

    def discard(self, entity: str, remote_id: str) -> None:
        self.rpc(self._model(entity), "unlink", [int(remote_id)])

    # -- refunds, expenses, journals ---------------------------------------------------------------------------------
    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        return c.refund_problems(doc) if isinstance(doc, RefundSnapshot) else []

    @staticmethod
    def _refuse_overpayment(doc: RefundSnapshot) -> None:
        if problems := c.refund_problems(doc):
            raise ConfigurationError("; ".join(problems), hint="Register the refund in Odoo by hand.")

    def _entry_vals(self, doc: ExpenseSnapshot | JournalSnapshot, mapping: Mapping) -> dict:
        if isinstance(doc, ExpenseSnapshot):
            return c.expense_vals(doc, mapping, self._currency(doc.currency))
        return c.journal_vals(doc, mapping, self._currency(doc.currency))

    def _apply_refund(self, doc: RefundSnapshot, mapping: Mapping, remote_id: str) -> bool:
        """Match the refund's receivable item (a debit) with its credit note's (a credit) for the amount refunded,
        unless it is matched already. True when it matched."""
        line = self._receivable("payment_id", remote_id)
        note = self._receivable("move_id", str(t.ref_id(mapping, doc.credit_note_key, "credit note")))
        if line is None or note is None or self._matched(line):
            return False
        self._create("account.partial.reconcile", {"debit_move_id": int(line), "credit_move_id": int(note),
                                                   "amount": doc.amount, "debit_amount_currency": doc.amount,
                                                   "credit_amount_currency": doc.amount})
        return True

    # -- matching ---------------------------------------------------------------------------------------------------
    def _receivable(self, owner: str, remote_id: str) -> str | None:
        """The receivable journal item of a move (``move_id``) or a payment (``payment_id``)."""
        rows = self.rpc("account.move.line", "search", domain=[[owner, "=", int(remote_id)],
                                                               ["account_type", "=", "asset_receivable"]], limit=1)
        return str(rows[0]) if rows else None

    def _matched(self, line_id: str) -> list[tuple[str, Decimal]]:
        """The journal items matched with a receivable item (the other side of each partial reconcile), with the
        amount matched."""
        line = self.read_one("account.move.line", line_id, ["matched_debit_ids", "matched_credit_ids"])
        partial_ids = [*line["matched_debit_ids"], *line["matched_credit_ids"]]
        if not partial_ids:
            return []
        partials = self.rpc("account.partial.reconcile", "read", partial_ids,
                            fields=["debit_move_id", "credit_move_id", "amount"])
        others = []
        for partial in partials:
            for side in ("debit_move_id", "credit_move_id"):
                other = str(t.many2one(partial[side]))
                if other != line_id:
                    others.append((other, rest.money(partial["amount"])))
        return others

    def _match(self, invoice_id: str, line_id: str | None, amount: Decimal) -> None:
        """A partial reconcile of ``amount`` between the invoice's receivable item and ``line_id`` (a payment's or
        credit note's). ``js_assign_outstanding_line`` would match as much as both have open; an amount applied
        is ours to say."""
        invoice_line = self._receivable("move_id", invoice_id)
        if line_id is None or invoice_line is None or amount <= 0:
            return
        self._create("account.partial.reconcile", {"debit_move_id": int(invoice_line), "credit_move_id": int(line_id),
                                                   "amount": amount, "debit_amount_currency": amount,
                                                   "credit_amount_currency": amount})

    # -- reference data ----------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        accounts = self.search_read("account.account", [["deprecated", "=", False]], ["code", "name", "account_type"])
        taxes = self.search_read("account.tax", [["type_tax_use", "=", "sale"]], ["name"])
        currencies = self.search_read("res.currency", [], ["name"])
        [company] = self.search_read("res.company", [], ["currency_id"], limit=1)
        home = str(company["currency_id"][1]) if company.get("currency_id") else ""
        return rest.reference_data(accounts, taxes, t.account_kind, account_id="id", account_name="name",
                                   tax_id="id", tax_name="name", currencies=[c["name"] for c in currencies],
                                   home_currency=home)

    @cached_property
    def _currencies(self) -> dict[str, int]:
        return {row["name"]: int(row["id"]) for row in self.search_read("res.currency", [], ["name"])}

    def _currency(self, code: str) -> int:
        if code not in self._currencies:
            raise ConfigurationError(f"Odoo has no active currency {code}",
                                     hint=f"Activate {code} in Odoo (Accounting > Configuration > Currencies).")
        return self._currencies[code]

    @cached_property
    def _journals(self) -> dict[str, int]:
        return {}

    def _journal(self, mapping: Mapping) -> int:
        """The bank or cash journal that posts to the mapped deposit account (looked up once per connector)."""
        if mapping.deposit_account in self._journals:
            return self._journals[mapping.deposit_account]
        if not mapping.deposit_account:
            raise ConfigurationError("no deposit account is mapped for payments",
                                     hint="Map a deposit account (an Odoo bank or cash account).")
        rows = self.rpc("account.journal", "search", domain=[["type", "in", ["bank", "cash"]],
                                                             ["default_account_id", "=", int(mapping.deposit_account)]],
                        limit=1)
        if not rows:
            raise ConfigurationError(f"no Odoo bank or cash journal posts to account {mapping.deposit_account}",
                                     hint="Map the deposit account to the account of an Odoo bank or cash journal.")
        self._journals[mapping.deposit_account] = int(rows[0])
        return int(rows[0])

    # -- platform -> local ---------------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """``write_date >= since`` (to the second) per model, one ``search_read`` per list a poll needs: payments
        and refunds are one list of ``account.payment`` (told apart by ``payment_type``), expenses and journals
        one list of journal entries (``move_type`` entry: reported as both, the inbound sync keeps the one it
        sent). A posted reversal Odoo made ("Reverse", ``reversed_entry_id`` set) is not ours: the entry it reverses
        is reported voided instead (back in force, an update, when the reversal is cancelled). The cursor is the
        second we asked in."""
        cursor = dt.datetime.now(dt.UTC).replace(microsecond=0)
        changes: dict[tuple[str, str], RemoteChange] = {}  # each record once: a void over an update
        listed: dict[tuple, list[dict]] = {}
        for entity in [e for e in entities if e in self.inbound_entities]:
            model, wanted, fields = self._change_list(entity)
            key = (model, repr(wanted))
            if key not in listed:
                listed[key] = self.search_read(model, [*wanted, ["write_date", ">=", t.odoo_time(since)]],
                                               ["write_date", *fields])
            for row in listed[key]:
                if not _listed_as(entity, row):
                    continue
                remote_id, operation = str(row["id"]), "void" if row.get("state") == "cancel" else "update"
                reversed_id = t.many2one(row.get("reversed_entry_id"))
                if reversed_id:  # Odoo's reversing entry: the original is what changed
                    remote_id, operation = str(reversed_id), "void" if row.get("state") == "posted" else "update"
                change = RemoteChange(entity, remote_id, operation, self.config.remote_company_id,
                                      t.parse_odoo_time(row["write_date"]))
                known = changes.get((entity, remote_id))
                if known is None or (known.operation, known.changed_at) < (change.operation, change.changed_at):
                    changes[(entity, remote_id)] = change
        return list(changes.values()), cursor

    #: Customers and items: the model and what makes a record one of ours (a partner with a customer rank);
    #: archived ones too (an archived partner or product is a change).
    _PARTY_MODELS = {Entity.CUSTOMER: ("res.partner", [["customer_rank", ">", 0]]),
                     Entity.ITEM: ("product.product", [])}

    def _change_list(self, entity: str) -> tuple[str, list, list[str]]:
        """The model, domain and fields of the list ``entity``'s changes come in."""
        if entity in self._PARTY_MODELS:
            model, wanted = self._PARTY_MODELS[entity]
            return model, [*wanted, ["active", "in", [True, False]]], []
        if entity in PAYMENTS:
            return "account.payment", [], ["state", "payment_type", "partner_type"]
        if entity in ENTRIES:
            return "account.move", [["move_type", "=", "entry"]], ["state", "reversed_entry_id"]
        return "account.move", [["move_type", "=", t.MOVE_TYPES[entity]]], ["state"]

    def remote_payment(self, remote_id: str) -> RemotePayment:
        payment = self.read_one("account.payment", remote_id, self._payment_fields)
        allocations: list[tuple[str, Decimal]] = []
        line_id = self._receivable("payment_id", remote_id)
        if line_id is not None:
            line = self.read_one("account.move.line", line_id, ["matched_debit_ids"])
            if line["matched_debit_ids"]:
                partials = self.rpc("account.partial.reconcile", "read", line["matched_debit_ids"],
                                    fields=["debit_move_id", "amount"])
                for partial in partials:
                    debit = self.read_one("account.move.line", str(t.many2one(partial["debit_move_id"])), ["move_id"])
                    allocations.append((str(t.many2one(debit["move_id"])), rest.money(partial["amount"])))
        return t.remote_payment(payment, self.memo_field, allocations)

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        try:
            found = t.remote_document(*self._move(remote_id))
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)
        if entity != Entity.CREDIT_NOTE or found.status != "active":
            return found
        return dataclasses.replace(found, applications=self._credit_applications(remote_id))

    def _credit_applications(self, remote_id: str) -> tuple[tuple[str, Decimal], ...]:
        """A credit note's applications: the customer invoices its receivable item is matched with (partial
        reconciles), with the amount matched each."""
        line_id = self._receivable("move_id", remote_id)
        applications = []
        for other, amount in self._matched(line_id) if line_id is not None else ():
            move_id = t.many2one(self.read_one("account.move.line", other, ["move_id"])["move_id"])
            if not move_id:  # a payment's item (a refund of the credit note), not an invoice's
                continue
            if self.read_one("account.move", str(move_id), ["move_type"])["move_type"] == \
                    t.MOVE_TYPES[Entity.INVOICE]:
                applications.append((str(move_id), amount))
        return tuple(applications)

    def remote_customer(self, remote_id: str) -> RemoteCustomer:
        return t.remote_customer(self.read_one("res.partner", remote_id, t.PARTNER_FIELDS))

    def remote_item(self, remote_id: str) -> RemoteItem:
        return t.remote_item(self.read_one("product.product", remote_id, t.PRODUCT_FIELDS))

    # -- reconciliation: one read per chunk ------------------------------------------------------------------------
    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        """Moves or payments by ``id in`` (with their lines in one more call, for the same version ``fetch``
        gives); an id Odoo no longer has comes back "deleted". Refunds, expenses and journals are read one by one as
        ``fetch`` reads them (a refund is a payment, the others entries: few, and not the sales documents' shape)."""
        if entity in ENTRIES:
            return self._read_entries(entity, remote_ids)
        if entity in Entity.RETURNS_AND_COSTS:
            return super().read_documents(entity, remote_ids)
        ids = [int(i) for i in remote_ids]
        found: dict[str, DocumentTotals] = {}
        if entity == Entity.PAYMENT:
            for row in self.search_read("account.payment", [["id", "in", ids]], self._payment_fields):
                result = t.payment_result(row, self.memo_field)
                found[result.remote_id] = DocumentTotals.from_result(
                    entity, result, currency=str(row["currency_id"][1]) if row.get("currency_id") else "",
                    date=dt.date.fromisoformat(str(row["date"])) if row.get("date") else None,
                    modified=t.parse_odoo_time(row["write_date"]))
        else:
            moves = self.search_read("account.move", [["id", "in", ids]], t.MOVE_FIELDS)
            lines: dict[int, list[dict]] = {}
            wanted = [line for move in moves for line in move["invoice_line_ids"]]
            for line in self.rpc("account.move.line", "read", wanted, fields=[*t.LINE_FIELDS, "move_id"]) \
                    if wanted else []:
                lines.setdefault(t.many2one(line["move_id"]), []).append(line)
            for move in moves:
                result = t.move_result(move, sorted(lines.get(int(move["id"]), []), key=lambda line: line["id"]))
                found[result.remote_id] = DocumentTotals.from_result(
                    entity, result, currency=str(move["currency_id"][1]) if move.get("currency_id") else "",
                    tax_total=rest.money(move.get("amount_tax")),
                    date=dt.date.fromisoformat(str(move["invoice_date"])) if move.get("invoice_date") else None,
                    modified=t.parse_odoo_time(move["write_date"]))
        return [found.get(str(i)) or DocumentTotals(str(i), entity, status="deleted") for i in ids]

    def _read_entries(self, entity: str, remote_ids) -> list[DocumentTotals]:
        """Expenses or journals read as ``fetch`` reads them, then one search for the posted reversals Odoo made of
        any of them ("Reverse"): a reversed entry stays posted there but is taken back, so it reads voided, with
        nothing left."""
        found = super().read_documents(entity, remote_ids)
        reversals = self.search_read("account.move", [["reversed_entry_id", "in", [int(i) for i in remote_ids]],
                                                      ["state", "=", "posted"]], ["reversed_entry_id", "write_date"])
        reversed_by = {str(t.many2one(row["reversed_entry_id"])): row for row in reversals}
        return [replace(read, status="voided", total=c.ZERO, home_total=c.ZERO, tax_total=c.ZERO,
                        version=f"{read.version}/reversed {reversed_by[read.remote_id]['id']}")
                if read.remote_id in reversed_by and read.status != "deleted" else read for read in found]

    @staticmethod
    def _what(doc: Snapshot) -> str:
        label = doc.entity.replace("_", " ")
        return f"{label} {getattr(doc, 'number', '') or getattr(doc, 'name', '')}".strip()


def _listed_as(entity: str, row: dict) -> bool:
    """Whether a row of the list ``entity``'s changes come in is one of ``entity``'s: a payment comes in,
    a refund goes out to a customer."""
    if entity == Entity.PAYMENT:
        return row.get("payment_type") != "outbound"
    if entity == Entity.REFUND:
        return row.get("payment_type") == "outbound" and row.get("partner_type") == "customer"
    return True


def ref_of(mapping: Mapping, key: str) -> str:
    return str(t.ref_id(mapping, key, "invoice"))


def forget_remembered_items() -> None:
    """Forget the server versions learnt (the test harness calls this when it empties a sandbox)."""
    _VERSIONS.clear()
