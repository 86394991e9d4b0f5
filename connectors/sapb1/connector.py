"""SAP Business One connector (Service Layer, OData v4 under ``/b1s/v2/``): snapshots in, entity sets out,
classified errors back, on the kit's session family.

**Sessions.** The connection's client id is the Business One user name, its client secret the password, its
``company_db`` setting the company database. ``login`` is ``POST Login`` (the ``B1SESSION`` cookie, idle timeout
``SessionTimeout`` minutes, 30 by default), stored and renewed single-flight by the token store like an OAuth
refresh; a call answered 401 with code 301 ("Invalid session") gets one new session through the token getter
and is sent again (the shared loop's 401 retry); ``release`` is ``POST Logout``.

**Documents are added, not drafted.** An A/R invoice, credit note or incoming payment is booked when it is added
(no draft step is used, so the kit's life cycle only voids: ``Cancel``). Business One never changes the lines or
amounts of an added document, so an update that changes them **replaces** the document: the old one is cancelled,
a new one is added with the same ``NumAtCard`` (our number) or ``CounterReference``, and the new ``DocEntry``
becomes the reference. An update that changes only header fields (our number, remarks, due date) is a ``PATCH``
and keeps the document. A cancel Business One refuses (payments applied to the invoice, a credit note based on
it) stops the update with what staff must do first, and nothing is changed.

**Batches.** A bulk run sends up to ``BATCH`` documents in one ``$batch`` request, each in a change set of its own
(one refused document rolls back only itself): ``find_existing_many`` asks each number's search in one batch, and
``write_batch`` adds the documents in one and then looks for other live holders of their numbers in one more.
A credit note applied to invoices, and every update (each reads what Business One holds before it writes), go one
by one as above.

**Refunds, expenses and journals** (connectors/sapb1/costs.py): outgoing payments (``VendorPayments``) to the
customer applied to the credit note, outgoing payments on account, journal entries; added, cancelled when voided (a
journal entry by the reversing entry Business One adds) and replaced like the documents above when their amounts
change; always sent one by one, never in a ``$batch``.

**No idempotency key, no uniqueness.** Business One takes a second invoice with the same ``NumAtCard``, so after
adding a document the connector looks for another live one with our number; when there is one, it cancels the one
it just added and refuses the create (``DuplicateError``). Customers and items get a code derived from our key, so
a second add of the same one is refused by Business One itself (-2035).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from functools import cached_property
from urllib.parse import quote as quote_url
from urllib.parse import urlencode

from .. import lifecycle, rest
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, TIMEOUT_FIELD, AccountKind, BatchOp, BatchOutcome,
                    Capabilities, DemoChart, DocumentTotals, ReferenceData, RemoteChange, RemoteCustomer, RemoteItem,
                    RemotePayment, Setting)
from ..documents import (Entity, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot, RemoteRef, RemoteResult,
                         Snapshot)
from ..errors import (ConfigurationError, ConflictError, DuplicateError, PermanentError, PostingRefused,
                      RemoteNotFound, SyncError)
from ..registry import register
from ..session import Session, SessionConnector
from . import costs as c
from . import errors
from . import translate as t
from .client import ServiceLayerClient, quote

#: Added documents are voided by ``Cancel``; none is created as a draft.
LIFECYCLE = lifecycle.Lifecycle(
    entities=frozenset(), posted=frozenset({"bost_Open", "bost_Close"}), cancelled=frozenset({"cancelled"}),
    void_by="cancel", cancel_from_draft=False,
    hint="Fix what SAP Business One names (a payment or credit note still applied, a locked period), then retry.")
#: Header fields a PATCH may change on an added document (Business One keeps its lines and amounts).
HEADER = {Entity.INVOICE: ("NumAtCard", "Comments", "DocDueDate"), Entity.CREDIT_NOTE: ("NumAtCard", "Comments"),
          Entity.PAYMENT: ("CounterReference",), Entity.REFUND: ("CounterReference", "Remarks"),
          Entity.EXPENSE: ("CounterReference", "Remarks", "JournalRemarks"), Entity.JOURNAL: ("Memo", "Reference")}
#: What decides whether a document must be replaced: its head and, per line, what sets its amount.
HEAD = {Entity.INVOICE: ("CardCode", "DocCurrency", "DocDate"), Entity.CREDIT_NOTE: ("CardCode", "DocCurrency",
                                                                                        "DocDate"),
        Entity.PAYMENT: ("CardCode", "DocCurrency", "DocDate", "TransferAccount", "TransferSum"),
        Entity.REFUND: ("CardCode", "DocCurrency", "DocDate", "TransferAccount", "TransferSum", "CashAccount",
                        "CashSum"),
        Entity.EXPENSE: ("DocCurrency", "DocDate", "TransferAccount", "TransferSum", "CashAccount", "CashSum"),
        Entity.JOURNAL: ("ReferenceDate",)}
#: Refunds, expenses and journals: sent one by one (never in a ``$batch``), voided by cancelling them.
COSTS = frozenset(Entity.RETURNS_AND_COSTS)
LINE = ("AccountCode", "ItemCode", "Quantity", "UnitPrice", "VatGroup", "BaseEntry")
#: The lines whose amounts Business One keeps fixed, per entity: (collection, fields).
LINES = {Entity.INVOICE: ("DocumentLines", LINE), Entity.CREDIT_NOTE: ("DocumentLines", LINE),
         Entity.EXPENSE: ("PaymentAccounts", ("AccountCode", "SumPaid", "SumPaidFC", "VatGroup")),
         Entity.JOURNAL: ("JournalEntryLines", ("AccountCode", "Debit", "Credit"))}
#: Documents per ``$batch`` request: SAP publishes no limit; each is a change set of its own, and 20 keeps a batch's
#: answer within the 30 seconds of a call's timeout on a busy server (ours, not SAP's).
BATCH = 20
REPLACE_HINT = ("SAP Business One cannot change an added document's lines or amounts, so it is replaced (cancelled "
                "and added again with the same number), which it refuses while payments or credit notes are "
                "applied to it. Void those here first (they are cancelled there), send this document again, then "
                "send them again.")


#: Customers' and items' key fields (what a change names them by).
PARTY_KEYS = {Entity.CUSTOMER: "CardCode", Entity.ITEM: "ItemCode"}


@register
class ServiceLayerConnector(SessionConnector):
    id = "sapb1"
    name = "SAP Business One"
    capabilities = Capabilities(
        #: refunds: outgoing payments applied to the credit note; expenses: outgoing payments on account; journals:
        #: journal entries (connectors/sapb1/costs.py)
        entities=frozenset(Entity.ALL),
        #: Cancel; a journal entry is cancelled by the reversing entry Business One adds
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE, Entity.PAYMENT, *Entity.RETURNS_AND_COSTS}),
        delete=frozenset(),  # Business One deletes no added document; customers and items are kept
        kept_lines=True,  # a restocking fee is a negative line of the credit note, on its own income account
        # UpdateDate / UpdateTime polling; a cancelled payment is a deletion; customers (business partners of type
        # cCustomer) and sales items come in on their own too; a refund or expense (outgoing payment) cancelled
        # there, or a journal entry cancelled by its reversing entry, is a void
        inbound=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.PAYMENT, *Entity.RETURNS_AND_COSTS}),
        # payments recorded there (remote_payment reads them whole); customers and items (remote_customer / _item)
        inbound_creates=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.PAYMENT}),
        inbound_deletes=True,
        idempotency_keys=False,  # none in the Service Layer: our number in NumAtCard, searched before each create
        batch_size=BATCH,  # $batch: one change set per document
    )
    #: Refunds, expenses and journals are reconciled like the sales documents (read back one by one with ``fetch``).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.RETURNS_AND_COSTS})
    #: SAP publishes no rate limit for the Service Layer; a pace of our own (a proxy's 429 is honoured anyway).
    rate_limits = {"request": (300, 60.0)}
    concurrent_limit = 4
    session_lifetime = dt.timedelta(minutes=30)
    default_settings = {"api_base": "", "company_db": "", "timeout": 30}
    settings_fields = (
        replace(API_BASE_FIELD, help="The Service Layer's address, ending in /b1s/v2 "
                "(https://your-server:50000/b1s/v2)."),
        replace(AUTHORIZE_URL_FIELD, help="SAP Business One has no consent page: Connect logs in at once. Only a "
                "local sandbox's stand-in sign-in page goes here."),
        Setting("company_db", "Company database", "The company database the connection logs in to (the client "
                "id is the user name, the client secret its password).", required=True),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.sapb1.sandbox.ServiceLayerSandbox"
    demo_chart = DemoChart(default_income="Sales Revenue", category_income={"Consultations": "Consulting Revenue"},
                           line_kind_income={"shipping": "Freight Revenue", "fee": "Late Fee Income",
                                             "restocking_fee": "Restocking Fee Income",
                                             "return_shipping": "Freight Revenue"},
                           discount="Sales Discounts", deposit="Bank Account",
                           taxes={"GST 10%": "GST 10%", "Exempt": "GST Free"},
                           refund="Bank Account", expense="Freight Expense", paid_from="Bank Account")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        from .sandbox.seed import COMPANY_DB  # the sandbox's own company database
        return {"api_base": f"{base_url}/b1s/v2", "company_db": COMPANY_DB,
                "authorize_url": f"{base_url}/b1s/v2/_connect"}

    # -- the client and the session --------------------------------------------------------------------------------
    @cached_property
    def client(self) -> ServiceLayerClient:
        base = str(self.setting("api_base") or "").rstrip("/")
        if not base or not self.setting("company_db"):
            raise ConfigurationError("the SAP Business One connection names no Service Layer or company database",
                                     hint="Set the connection's api_base (https://your-server:50000/b1s/v2) and "
                                          "company_db settings.")
        return ServiceLayerClient(base, self.access_token, timeout=float(self.setting("timeout")),
                                  throttle=self.throttle)

    def login(self) -> Session:
        session, expires = self.client.login(str(self.setting("company_db")), self.config.client_id,
                                             self.config.client_secret)
        return Session(session, expires, str(self.setting("company_db")))

    def logout(self, token: str) -> None:
        self.client.logout(token)

    def session_expired(self, exc: SyncError) -> bool:
        return errors.session_expired(exc)

    # -- reading ----------------------------------------------------------------------------------------------------
    @staticmethod
    def _path(entity: str, remote_id: str) -> str:
        entity_set = t.ENTITY_SETS[entity][0]
        key = quote(remote_id) if entity in (Entity.CUSTOMER, Entity.ITEM) else str(int(remote_id))
        return f"{entity_set}({key})"

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        return t.result(entity, self._read(entity, remote_id))

    def _read(self, entity: str, remote_id: str) -> dict:
        """A record as Business One holds it; a journal entry marked ``_reversed`` when an entry reverses it."""
        body = self.client.get(self._path(entity, remote_id))
        if entity == Entity.JOURNAL:
            body["_reversed"] = self._reversed(remote_id)
        return body

    def _reversed(self, number: str) -> bool:
        """True when a journal entry reverses ``number`` (what Business One adds when it is cancelled)."""
        rows = self.client.get("JournalEntries", {"$filter": f"StornoToTransaction eq {int(number)}",
                                                  "$select": "JdtNum"}).get("value") or []
        return bool(rows)

    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        found = self._find_all(doc)
        return t.result(doc.entity, found[0], adopted=True) if found else None

    def find_existing_many(self, items) -> list[RemoteResult | None]:
        """Each document's search in one ``$batch`` (``BATCH`` at a time); a search the batch could not answer
        raises its error, as the single search would."""
        if any(doc.entity in COSTS for doc, _ in items):  # refunds, expenses and journals: one by one
            rest_ = [(doc, m) for doc, m in items if doc.entity not in COSTS]
            batched = iter(self.find_existing_many(rest_) if rest_ else [])
            return [self.find_existing(doc, m) if doc.entity in COSTS else next(batched) for doc, m in items]
        found: list[RemoteResult | None] = []
        for start in range(0, len(items), BATCH):
            chunk = items[start:start + BATCH]
            answers = self.client.batch([("GET", self._search(doc), None) for doc, _ in chunk])
            for (doc, _), answer in zip(chunk, answers, strict=True):
                if isinstance(answer, SyncError):
                    raise answer
                rows = answer.get("value") or []
                found.append(t.result(doc.entity, rows[0], adopted=True) if rows else None)
        return found

    def _find_all(self, doc: Snapshot) -> list[dict]:
        """Live records with our name (customers, items) or number (documents), oldest first. A journal entry is
        live when it reverses none and none reverses it (the Service Layer cannot filter on the second)."""
        entity_set, params = self._query(doc)
        rows = list(self.client.rows(entity_set, params))
        if doc.entity == Entity.JOURNAL:
            rows = [r for r in rows if not r.get("StornoToTransaction") and not self._reversed(str(r["JdtNum"]))]
        return rows

    def _search(self, doc: Snapshot) -> str:
        """``_find_all``'s first page as one URL relative to the service root (for a batch)."""
        entity_set, params = self._query(doc)
        return f"{entity_set}?{urlencode(params, quote_via=quote_url)}"

    @staticmethod
    def _query(doc: Snapshot) -> tuple[str, dict]:
        entity_set, field = t.ENTITY_SETS[doc.entity]
        if doc.entity in (Entity.CUSTOMER, Entity.ITEM):
            key = "CardCode" if doc.entity == Entity.CUSTOMER else "ItemCode"
            wanted = f"{field} eq {quote(doc.name[:100])}"
            if doc.entity == Entity.CUSTOMER:
                wanted += " and CardType eq 'cCustomer'"
        elif doc.entity == Entity.JOURNAL:
            key, wanted = "JdtNum", f"{field} eq {quote(doc.number[:c.REFERENCE])}"
        else:
            key, wanted = "DocEntry", f"{field} eq {quote(doc.number[:100])} and Cancelled eq 'tNO'"
            if doc.entity in t.PAYMENT_TYPES:
                wanted += f" and DocType eq {quote(t.PAYMENT_TYPES[doc.entity])}"
        return entity_set, {"$filter": wanted, "$orderby": key}

    # -- writing ----------------------------------------------------------------------------------------------------
    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        made = self.client.post(t.ENTITY_SETS[doc.entity][0], self._create_body(doc, mapping))
        if doc.entity not in (Entity.CUSTOMER, Entity.ITEM):
            self._refuse_taken(doc, str(made[t.key_of(doc.entity)]))
        if doc.entity == Entity.CREDIT_NOTE and self._reconcile(doc, mapping, made):
            return self.fetch(doc.entity, str(made["DocEntry"]))
        return t.result(doc.entity, made)

    def write_batch(self, ops: Sequence[BatchOp]) -> list[BatchOutcome]:
        """Creates in one ``$batch`` (a change set each), then one more batch of searches for other live holders of
        their numbers (``_refuse_taken`` for many); a credit note applied to invoices and every update go one by one
        (the base class's way). Raises when a batch request itself failed: the caller retries every op, and the
        search before each create finds what the first try added."""
        together = [i for i, op in enumerate(ops) if op.operation == "create" and op.doc.entity not in COSTS and not (
            op.doc.entity == Entity.CREDIT_NOTE and any(a.amount for a in op.doc.allocations))]
        outcomes: dict[int, BatchOutcome] = {}
        if together:
            answers = self.client.batch([("POST", t.ENTITY_SETS[ops[i].doc.entity][0], self._create_body(ops[i].doc,
                                                                                                       ops[i].mapping))
                                         for i in together])
            made = {}
            for i, answer in zip(together, answers, strict=True):
                if isinstance(answer, SyncError):
                    outcomes[i] = answer
                else:
                    made[i] = answer
            outcomes.update(self._refuse_taken_many({i: (ops[i].doc, body) for i, body in made.items()}))
        alone = [op for i, op in enumerate(ops) if i not in outcomes]
        singles = iter(super().write_batch(alone) if alone else [])
        return [outcomes[i] if i in outcomes else next(singles) for i in range(len(ops))]

    def _create_body(self, doc: Snapshot, mapping: Mapping) -> dict:
        if doc.entity == Entity.CUSTOMER:
            return t.business_partner(doc, code_for("C", doc.key))
        if doc.entity == Entity.ITEM:
            return t.item(doc, doc.sku[:50] if doc.sku else code_for("I", doc.key))
        return self._body(doc, mapping)

    def _refuse_taken_many(self, made: dict[int, tuple[Snapshot, dict]]) -> dict[int, BatchOutcome]:
        """The outcome of each document just added: its result, or ``DuplicateError`` (and the copy cancelled) when
        another live document holds its number; customers and items are refused by Business One itself."""
        outcomes: dict[int, BatchOutcome] = {i: t.result(doc.entity, body) for i, (doc, body) in made.items()}
        documents = [i for i, (doc, _) in made.items() if doc.entity not in (Entity.CUSTOMER, Entity.ITEM)]
        if not documents:
            return outcomes
        answers = self.client.batch([("GET", self._search(made[i][0]), None) for i in documents])
        for i, answer in zip(documents, answers, strict=True):
            doc, body = made[i]
            if isinstance(answer, SyncError):
                raise answer  # added, not yet checked: the retry's search finds it and checks again
            entry = str(body["DocEntry"])
            taken = [str(row["DocEntry"]) for row in answer.get("value") or [] if str(row["DocEntry"]) != entry]
            if taken:
                try:
                    self.cancel(doc.entity, entry)
                except SyncError as exc:
                    outcomes[i] = exc
                    continue
                outcomes[i] = DuplicateError(f"SAP Business One already holds {self._what(doc)} (DocEntry "
                                             f"{taken[0]}); the copy just added (DocEntry {entry}) was cancelled",
                                             platform_code="num_at_card_taken",
                                             hint="The pipeline adopts it when it is ours; otherwise renumber one "
                                                  "of them.")
        return outcomes

    def _refuse_taken(self, doc: Snapshot, made: str) -> None:
        """Business One takes a second document with our number: when another live one has it, cancel the one
        just added and refuse the create. The add is the first request, so a lost answer leaves a document that
        search-before-create finds; a check before it would leave nothing to find when it is the lost one."""
        key = t.key_of(doc.entity)
        taken = [str(row[key]) for row in self._find_all(doc) if str(row[key]) != made]
        if taken:
            self.cancel(doc.entity, made)
            raise DuplicateError(f"SAP Business One already holds {self._what(doc)} (DocEntry {taken[0]}); the "
                                 f"copy just added (DocEntry {made}) was cancelled", platform_code="num_at_card_taken",
                                 hint="The pipeline adopts it when it is ours; otherwise renumber one of them.")

    def _body(self, doc: Snapshot, mapping: Mapping) -> dict:
        if isinstance(doc, RefundSnapshot):
            return c.refund_body(doc, mapping, self._local_currency)
        if isinstance(doc, ExpenseSnapshot):
            return c.expense_body(doc, mapping, self._local_currency)
        if isinstance(doc, JournalSnapshot):
            if problems := c.journal_problems(doc, self._local_currency):
                raise ConfigurationError("; ".join(problems), hint="Enter the journal in SAP Business One by hand.")
            return c.journal_body(doc, mapping)
        return t.payment(doc, mapping) if doc.entity == Entity.PAYMENT else t.document(doc, mapping)

    @cached_property
    def _local_currency(self) -> str:
        """The company's local currency (``AdminInfo.LocalCurrency``)."""
        return str(self.client.post("CompanyService_GetAdminInfo").get("LocalCurrency") or "")

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        if isinstance(doc, RefundSnapshot):
            return c.refund_problems(doc)
        if isinstance(doc, JournalSnapshot):
            return c.journal_problems(doc, self._local_currency)
        return []

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        current = self.fetch(doc.entity, ref.remote_id)
        if ref.version and current.version != ref.version:
            raise ConflictError(f"{self._what(doc)} changed in SAP Business One since we last wrote it",
                                platform_code="UpdateDate", hint="Compare both versions, then send ours anyway or "
                                "change the local document.")
        path = self._path(doc.entity, ref.remote_id)
        if doc.entity == Entity.CUSTOMER:
            body = t.business_partner(doc, ref.remote_id)
            self.client.patch(path, {k: v for k, v in body.items() if k not in ("CardCode", "CardType")})
            return self.fetch(doc.entity, ref.remote_id)
        if doc.entity == Entity.ITEM:
            self.client.patch(path, {k: v for k, v in t.item(doc, ref.remote_id).items() if k != "ItemCode"})
            return self.fetch(doc.entity, ref.remote_id)
        body = self._body(doc, mapping)
        if current.status == "voided":  # cancelled, and staff chose to send ours anyway: added again
            return self._add_again(doc, body)
        if needs_replacing(doc.entity, current.raw, body):
            if doc.entity == Entity.CREDIT_NOTE:
                self._unreconcile(ref.remote_id)
            replaced = self._replace(doc, ref.remote_id, body)
            if doc.entity == Entity.CREDIT_NOTE and self._reconcile(doc, mapping, replaced.raw):
                return self.fetch(doc.entity, replaced.remote_id)
            return replaced
        header = {k: body.get(k) for k in HEADER[doc.entity] if body.get(k) != current.raw.get(k)}
        if header:
            self.client.patch(path, header)
        if doc.entity == Entity.CREDIT_NOTE and self._applied(ref.remote_id) != self._wanted(doc, mapping):
            self._unreconcile(ref.remote_id)
            self._reconcile(doc, mapping, current.raw)
        return self.fetch(doc.entity, ref.remote_id)

    # -- a credit note applied to invoices: internal reconciliations ------------------------------------------------
    @staticmethod
    def _wanted(doc: Snapshot, mapping: Mapping) -> list[tuple[str, str]]:
        """(invoice ``DocEntry``, amount) the credit note should be applied with, in a stable order."""
        return sorted((t.ref_id(mapping, a.invoice_key, "invoice"), rest.plain(a.amount))
                      for a in doc.allocations if a.amount)

    def _reconciliations(self, note_entry: str) -> list[dict]:
        """The live internal reconciliations naming the credit note (read whole and picked here: the Service
        Layer cannot filter on a reconciliation's rows)."""
        return [r for r in self.client.rows("InternalReconciliations", {"$filter": "CancelAbs eq 0"})
                if any(str(row.get("SrcObjTyp")) == str(t.AR_CREDIT_NOTE) and str(row.get("SrcObjAbs")) == note_entry
                       for row in r.get("InternalReconciliationRows") or [])]

    def _applied(self, note_entry: str) -> list[tuple[str, str]]:
        return sorted((str(row["SrcObjAbs"]), rest.plain(row["ReconcileAmount"]))
                      for r in self._reconciliations(note_entry) for row in r["InternalReconciliationRows"]
                      if str(row.get("SrcObjTyp")) == str(t.AR_INVOICE))

    def _reconcile(self, doc: Snapshot, mapping: Mapping, note: dict) -> bool:
        """Reconcile the credit note with each invoice it is applied to, for the amount applied; True when it did
        any (the credit note's ``PaidToDate`` changed)."""
        done = False
        for allocation in [a for a in doc.allocations if a.amount]:
            invoice = self.client.get(self._path(Entity.INVOICE, t.ref_id(mapping, allocation.invoice_key,
                                                                          "invoice")))
            self.client.post("InternalReconciliations", t.reconciliation(
                str(note["CardCode"]), invoice, note, allocation.amount, rest.iso_date(doc.issue_date)))
            done = True
        return done

    def _unreconcile(self, note_entry: str) -> None:
        for reconciliation in self._reconciliations(note_entry):
            self.client.post("InternalReconciliationsService_Cancel",
                             {"ReconParams": {"ReconNum": int(reconciliation["ReconNum"])}})

    def _replace(self, doc: Snapshot, remote_id: str, body: dict) -> RemoteResult:
        """Cancel the added document, then add the new content with the same number: the new one is the result."""
        try:
            self.cancel(doc.entity, remote_id)
        except PermanentError as exc:
            raise PostingRefused(f"{self._what(doc)} could not be replaced in SAP Business One: it refused to cancel "
                                 f"DocEntry {remote_id}: {exc.message}", platform_code=exc.platform_code or "cancel",
                                 http_status=exc.http_status, hint=REPLACE_HINT, raw=exc.raw) from exc
        try:
            return t.result(doc.entity, self.client.post(t.ENTITY_SETS[doc.entity][0], body))
        except PermanentError as exc:
            raise PostingRefused(f"{self._what(doc)}: DocEntry {remote_id} was cancelled in SAP Business One to be "
                                 f"replaced, and the replacement was refused: {exc.message}",
                                 platform_code=exc.platform_code or "add", http_status=exc.http_status,
                                 hint="Fix what SAP Business One names, then send the document again: it is added "
                                      "anew with the same number.", raw=exc.raw) from exc

    def _add_again(self, doc: Snapshot, body: dict) -> RemoteResult:
        taken = self._find_all(doc)
        if taken:
            return t.result(doc.entity, taken[0], adopted=True)
        return t.result(doc.entity, self.client.post(t.ENTITY_SETS[doc.entity][0], body))

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        if entity == Entity.CREDIT_NOTE and self.state(entity, ref.remote_id) != "cancelled":
            self._unreconcile(ref.remote_id)
        lifecycle.void(LIFECYCLE, self, entity, ref.remote_id, self.state(entity, ref.remote_id),
                       f"{entity.replace('_', ' ')} {ref.remote_id}")
        return self.fetch(entity, ref.remote_id)

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        raise PermanentError(f"SAP Business One deletes no {entity.replace('_', ' ')}", code="unsupported",
                             hint="Void the document instead (it is cancelled in SAP Business One).")

    # -- reconciliation ---------------------------------------------------------------------------------------------
    def read_documents(self, entity: str, remote_ids: Sequence[str]) -> list[DocumentTotals]:
        """Refunds, expenses and journals read one by one with their currency (a journal entry's is the local
        one) and, for an expense, the tax Business One computed on its rows (``VatAmount``); the sales documents as
        the base class reads them."""
        if entity not in COSTS:
            return super().read_documents(entity, remote_ids)
        found = []
        for remote_id in remote_ids:
            try:
                body = self._read(entity, remote_id)
            except RemoteNotFound:
                found.append(DocumentTotals(str(remote_id), entity, "", "deleted"))
                continue
            result = t.result(entity, body)
            tax = None
            if entity == Entity.EXPENSE:
                tax = Decimal("0.00") if result.status == "voided" else sum(
                    (rest.money(row.get("VatAmount")) or Decimal("0.00") for row in body.get("PaymentAccounts") or []),
                    Decimal("0.00"))
            currency = self._local_currency if entity == Entity.JOURNAL else str(body.get("DocCurrency") or "")
            day = body.get("ReferenceDate") or body.get("DocDate")
            found.append(DocumentTotals.from_result(entity, result, currency=currency, tax_total=tax,
                                                    date=dt.date.fromisoformat(str(day)[:10]) if day else None))
        return found

    # -- the life cycle's steps (connectors.lifecycle.LifecycleSteps): only voiding is used ---------------------------
    def state(self, entity: str, remote_id: str) -> str:
        if entity == Entity.JOURNAL:  # no status of its own: cancelled when an entry reverses it
            return "cancelled" if self._reversed(remote_id) else "bost_Open"
        body = self.client.get(self._path(entity, remote_id), {"$select": "Cancelled,DocumentStatus"})
        return "cancelled" if body.get("Cancelled") == "tYES" else str(body.get("DocumentStatus") or "bost_Open")

    def cancel(self, entity: str, remote_id: str) -> None:
        self.client.action(f"{self._path(entity, remote_id)}/Cancel")

    def post(self, entity: str, remote_id: str) -> None:
        raise NotImplementedError("SAP Business One documents are booked when added (LIFECYCLE.entities is empty)")

    def to_draft(self, entity: str, remote_id: str) -> None:
        raise NotImplementedError("an added SAP Business One document has no draft to return to")

    def reverse(self, entity: str, remote_id: str) -> str:
        raise NotImplementedError("SAP Business One documents are voided by cancelling them (LIFECYCLE.void_by)")

    def discard(self, entity: str, remote_id: str) -> None:
        raise NotImplementedError("SAP Business One documents are never left as drafts")

    # -- reference data ------------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        accounts = list(self.client.rows("ChartOfAccounts", {"$filter": "ActiveAccount eq 'tYES'",
                                                             "$select": "Code,Name,AccountType,CashAccount"}))
        taxes = list(self.client.rows("VatGroups", {"$filter": "Inactive eq 'tNO'", "$select": "Code,Name"}))
        currencies = [row["Code"] for row in self.client.rows("Currencies", {"$select": "Code"})]
        home = str(self.client.post("CompanyService_GetAdminInfo").get("LocalCurrency") or "")
        return rest.reference_data(accounts, taxes, account_kind, account_id="Code", account_name="Name",
                                   tax_id="Code", tax_name="Name", currencies=currencies, home_currency=home)

    # -- platform -> local ---------------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """Documents with ``UpdateDate ge`` the day of ``since``, then to the second by ``UpdateTime`` (the
        Service Layer filters dates by the day); a cancelled payment is reported as a deletion, a cancelled invoice
        or credit note as a void. Invoices and credit notes are answered too (the harness and full runs count
        them), though only payments are declared inbound. Refunds, expenses and journals: ``_cost_changes``. The
        cursor is the second we asked in."""
        cursor = dt.datetime.now(dt.UTC).replace(microsecond=0)
        since = since.astimezone(dt.UTC)
        changes: list[RemoteChange] = []
        for entity in [e for e in entities if e in PARTY_KEYS and e in self.inbound_entities]:
            key = PARTY_KEYS[entity]
            only = " and CardType eq 'cCustomer'" if entity == Entity.CUSTOMER else " and SalesItem eq 'tYES'"
            rows = self.client.rows(t.ENTITY_SETS[entity][0], {
                "$filter": f"UpdateDate ge {quote(since.date().isoformat())}{only}",
                "$select": f"{key},UpdateDate,UpdateTime", "$orderby": key})
            for row in rows:
                changed = stamp(row)
                if changed is not None and changed >= since.replace(microsecond=0):
                    changes.append(RemoteChange(entity, str(row[key]), "update", self.config.remote_company_id,
                                                changed))
        for entity in [e for e in entities if e in (Entity.INVOICE, Entity.CREDIT_NOTE, Entity.PAYMENT)]:
            rows = self.client.rows(t.ENTITY_SETS[entity][0], {
                "$filter": f"UpdateDate ge {quote(since.date().isoformat())}",
                "$select": "DocEntry,UpdateDate,UpdateTime,Cancelled", "$orderby": "DocEntry"})
            for row in rows:
                changed = stamp(row)
                if changed is None or changed < since.replace(microsecond=0):
                    continue
                gone = "delete" if entity == Entity.PAYMENT else "void"
                operation = gone if row.get("Cancelled") == "tYES" else "update"
                changes.append(RemoteChange(entity, str(row["DocEntry"]), operation, self.config.remote_company_id,
                                            changed))
        return changes + self._cost_changes([e for e in entities if e in COSTS and e in self.inbound_entities],
                                            since), cursor

    def _cost_changes(self, entities: list[str], since: dt.datetime) -> list[RemoteChange]:
        """Refunds and expenses: one ``VendorPayments`` request (``DocType`` says which: rCustomer a refund,
        rAccount an expense), a cancelled one a void. Journals: one ``JournalEntries`` request; an entry that
        reverses another (``StornoToTransaction``, what cancelling adds) is not one of ours: the entry it reverses
        is reported voided instead."""
        changes: dict[tuple[str, str], RemoteChange] = {}
        day, second = quote(since.date().isoformat()), since.replace(microsecond=0)
        payments = {t.PAYMENT_TYPES[e]: e for e in entities if e in (Entity.REFUND, Entity.EXPENSE)}
        if payments:
            for row in self.client.rows(c.PAYMENTS, {"$filter": f"UpdateDate ge {day}",
                                                     "$select": "DocEntry,DocType,UpdateDate,UpdateTime,Cancelled",
                                                     "$orderby": "DocEntry"}):
                changed, entity = stamp(row), payments.get(str(row.get("DocType") or ""))
                if entity is None or changed is None or changed < second:
                    continue
                operation = "void" if row.get("Cancelled") == "tYES" else "update"
                changes[(entity, str(row["DocEntry"]))] = RemoteChange(
                    entity, str(row["DocEntry"]), operation, self.config.remote_company_id, changed)
        if Entity.JOURNAL in entities:
            for row in self.client.rows(c.JOURNALS, {"$filter": f"UpdateDate ge {day}",
                                                     "$select": "JdtNum,UpdateDate,UpdateTime,StornoToTransaction",
                                                     "$orderby": "JdtNum"}):
                changed = stamp(row)
                if changed is None or changed < second:
                    continue
                original = str(row.get("StornoToTransaction") or "")
                remote_id = original or str(row["JdtNum"])
                if original or (Entity.JOURNAL, remote_id) not in changes:
                    changes[(Entity.JOURNAL, remote_id)] = RemoteChange(
                        Entity.JOURNAL, remote_id, "void" if original else "update", self.config.remote_company_id,
                        changed)
        return list(changes.values())

    def remote_customer(self, remote_id: str) -> RemoteCustomer:
        return t.remote_customer(self.client.get(self._path(Entity.CUSTOMER, remote_id)))

    def remote_item(self, remote_id: str) -> RemoteItem:
        return t.remote_item(self.client.get(self._path(Entity.ITEM, remote_id)))

    def remote_payment(self, remote_id: str) -> RemotePayment:
        body = self.client.get(self._path(Entity.PAYMENT, remote_id))
        result = t.result(Entity.PAYMENT, body)
        amount = (rest.money(body.get("TransferSum")) or Decimal("0.00")) + \
            (rest.money(body.get("CashSum")) or Decimal("0.00"))
        allocations = tuple((str(row["DocEntry"]), rest.money(row.get("SumApplied")))
                            for row in body.get("PaymentInvoices") or [] if row.get("InvoiceType", "it_Invoice")
                            == "it_Invoice")
        date = dt.date.fromisoformat(str(body.get("DocDate"))[:10]) if body.get("DocDate") else \
            dt.datetime.now(dt.UTC).date()
        return RemotePayment(result.remote_id, result.version, str(body.get("CardCode") or ""), date, amount,
                             str(body.get("DocCurrency") or ""), allocations,
                             reference=str(body.get("CounterReference") or ""),
                             deleted=body.get("Cancelled") == "tYES")

    @staticmethod
    def _what(doc: Snapshot) -> str:
        label = doc.entity.replace("_", " ")
        return f"{label} {getattr(doc, 'number', '') or getattr(doc, 'name', '')}".strip()


def code_for(prefix: str, key: str) -> str:
    """A ``CardCode`` / ``ItemCode`` for a record of ours: the same for the same local record (so a create sent
    twice is refused as a duplicate, never doubled), 11 characters (Business One allows 15 for a partner)."""
    return prefix + hashlib.sha256(key.encode()).hexdigest()[:10].upper()


def account_kind(account: dict) -> str:
    """Revenue and expense accounts by ``AccountType``; among the others, a cash account (``CashAccount``) takes
    deposits, and receivable and tax accounts are told by their names (Business One marks control accounts in
    its account determination, which the Service Layer's chart does not say)."""
    kind = str(account.get("AccountType") or "")
    name = str(account.get("Name") or "").lower()
    if kind == "at_Revenues":
        return AccountKind.INCOME
    if kind == "at_Expenses":
        return AccountKind.EXPENSE
    if account.get("CashAccount") == "tYES":
        return AccountKind.DEPOSIT
    if "receivable" in name:
        return AccountKind.RECEIVABLE
    if "tax" in name or "gst" in name or "vat" in name:
        return AccountKind.TAX_PAYABLE
    return AccountKind.OTHER


def stamp(row: dict) -> dt.datetime | None:
    """When a record last changed: ``UpdateDate`` (a date) and ``UpdateTime`` (``HH:MM:SS``), read as UTC."""
    date = str(row.get("UpdateDate") or "")[:10]
    if not date:
        return None
    time = str(row.get("UpdateTime") or "00:00:00")[:8]
    return dt.datetime.fromisoformat(f"{date}T{time}").replace(tzinfo=dt.UTC)


def needs_replacing(entity: str, current: dict, body: dict) -> bool:
    """True when ``body`` changes what Business One keeps fixed on an added document: its head (customer, currency,
    date; a payment's account and amount), its lines (what sets each line's amount; a line's VAT group only where
    we send one) or a payment's applications."""
    plain = rest.plain
    if any(plain(body.get(f)) != plain(current.get(f)) for f in HEAD[entity] if f in body):
        return True
    if entity in (Entity.PAYMENT, Entity.REFUND):
        ours = sorted((int(a["DocEntry"]), plain(a["SumApplied"])) for a in body.get("PaymentInvoices") or [])
        theirs = sorted((int(a["DocEntry"]), plain(a["SumApplied"])) for a in current.get("PaymentInvoices") or [])
        return ours != theirs
    collection, fields = LINES[entity]
    lines, read = body.get(collection) or [], current.get(collection) or []
    if len(lines) != len(read):
        return True
    return any(plain(line.get(f)) != plain(old.get(f))
               for line, old in zip(lines, read, strict=True) for f in fields if f in line)
