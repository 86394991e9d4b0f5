"""Sage Business Cloud Accounting (API v3.1) connector: snapshots in, Sage calls out, classified errors back.

Sage has no idempotency key and numbers its invoices and credit notes itself. Our document number travels as the
document's ``reference``, which Sage does not keep unique. So an invoice or credit note is created as a draft,
searched for by its reference, deleted again (a DuplicateError) when another document holds that reference, and
released otherwise: a retry after a lost answer finds the first one (and releases it if need be) and never doubles
a document. Two creates of one number at the same instant may both be refused; neither is doubled. A receipt is
found again by its reference and customer.
Sage has no optimistic concurrency either: an update reads the record first and refuses to overwrite it when it
changed since our version. Sage voids an invoice or credit note with ``DELETE ?void_reason=``; it deletes only
drafts, and no document of ours stays a draft.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import replace
from decimal import Decimal
from functools import cached_property

from .. import oauth, rest
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, SCOPE_FIELD, TIMEOUT_FIELD, TOKEN_URL_FIELD, AccountKind,
                    BaseConnector, Capabilities, DemoChart, DocumentTotals, ReferenceData, Refused, RemoteChange,
                    RemoteCustomer, RemoteDocument, RemoteItem, RemotePayment, Setting, TokenSet)
from ..documents import (BillSnapshot, CreditNoteSnapshot, Entity, ExpenseSnapshot, ItemSnapshot, JournalSnapshot,
                         Mapping, RefundSnapshot, RemoteRef, RemoteResult, Snapshot)
from ..errors import ConfigurationError, ConflictError, DuplicateError, RemoteNotFound, SyncError, ValidationFailed
from ..registry import register
from . import costs as c
from . import translate as t
from .client import SageClient
from .errors import refused_references

API_BASE = "https://api.accounting.sage.com/v3.1"
AUTHORIZE_URL = "https://www.sageone.com/oauth2/auth/central"
TOKEN_URL = "https://oauth.accounting.sage.com/token"  # nosec B105
#: Sage ledger_account_type id -> AccountKind (bank accounts are listed from /bank_accounts instead).
ACCOUNT_KINDS = {"SALES": AccountKind.INCOME, "OTHER_INCOME": AccountKind.INCOME, "EXPENSES": AccountKind.EXPENSE,
                 "DIRECT_EXPENSES": AccountKind.EXPENSE, "OVERHEADS": AccountKind.EXPENSE,
                 "DEPRECIATION": AccountKind.EXPENSE}
#: Seconds before the expiry of an access token that the token store refreshes it (``token_refresh_margin``).
EARLY = 30


def account_kind(account: dict) -> str:
    if account.get("_bank"):
        return AccountKind.DEPOSIT
    kind = t.ref_id(account.get("ledger_account_type"))
    control = str(account.get("control_name") or "").upper()
    if kind == "CURRENT_ASSETS" and account.get("is_control_account") and ("SALES" in control or "DEBTOR" in control):
        return AccountKind.RECEIVABLE
    if kind == "CURRENT_LIABILITY" and ("TAX" in control or "VAT" in control):
        return AccountKind.TAX_PAYABLE
    return ACCOUNT_KINDS.get(kind, AccountKind.OTHER)


@register
class SageConnector(BaseConnector):
    id = "sage"
    name = "Sage Business Cloud Accounting"
    token_refresh_margin = dt.timedelta(seconds=EARLY)  # its access tokens live 5 minutes
    capabilities = Capabilities(
        entities=frozenset({*Entity.ALL, Entity.BILL}),  # supplier bills: purchase invoices (costs.py)
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE}),  # DELETE ?void_reason= voids; only drafts are deleted
        #: Sage's DELETE deletes a draft and voids any other invoice or credit note; items are made inactive;
        #: refunds, other payments (expenses), journals and purchase invoices (bills) are deleted (Sage's DELETE
        #: of a purchase invoice takes no void reason).
        delete=frozenset({*Entity.ALL, Entity.BILL}),
        kept_lines=True,  # a restocking fee is a negative line of the credit note
        # contacts of the customer type and services come in on their own too (updated_or_created_since); refunds,
        # other payments (expenses) and journals deleted or edited there are reported (issue 23), not taken in
        inbound=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE,
                           *Entity.RETURNS_AND_COSTS}),
        inbound_creates=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE}),
        inbound_deletes=True,  # deleted_since lists what was deleted
        idempotency_keys=False,  # Sage has none: our reference, searched before each create, stands in
    )
    #: Refunds, expenses and journals are reconciled like the sales documents (read back by id).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.RETURNS_AND_COSTS,
                                    Entity.BILL})
    #: Per business: 200 requests a minute (Sage's v3 guide; sources disagree, see docs/connectors/sage.md).
    rate_limits = {"request": (200, 60.0)}
    concurrent_limit = None
    #: ``drafts``: leave invoices and credit notes as drafts for a person to approve in Sage (then deletable).
    default_settings = {"scope": "full_access", "timeout": 30, "void_reason": "Voided in the business system",
                        "drafts": False}
    settings_fields = (
        replace(API_BASE_FIELD, default=API_BASE), replace(AUTHORIZE_URL_FIELD, default=AUTHORIZE_URL),
        replace(TOKEN_URL_FIELD, default=TOKEN_URL), SCOPE_FIELD,
        Setting("business_id", "Business id", "The Sage business (X-Business) the connection works in. Empty: the "
                "signed-in user's lead business, read when connecting."),
        Setting("drafts", "Leave as drafts", "Create invoices and credit notes as drafts for a person to approve in "
                "Sage (they can be deleted until then).", "flag"),
        Setting("void_reason", "Void reason", "The reason Sage records when a document is voided."),
        Setting("purchase_ledger_account_id", "Purchase ledger account id", "The ledger account (its id) products "
                "are bought into. Set: products are created as stock products; empty: as services."),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.sage.sandbox.SageSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Services Income"},
                           line_kind_income={"shipping": "Shipping Income", "fee": "Other Income",
                                             "restocking_fee": "Restocking Fees", "return_shipping": "Shipping Income"},
                           discount="Sales Discounts", deposit="Checking",
                           taxes={"GST 10%": "GST 10%", "Exempt": "Exempt"},
                           refund="Checking", expense="Postage and Shipping", paid_from="Checking")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        return {"api_base": f"{base_url}/v3.1", "authorize_url": f"{base_url}/oauth2/auth/central",
                "token_url": f"{base_url}/token"}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        return refused_references(exc)

    def url(self, name: str) -> str:
        defaults = {"api_base": API_BASE, "authorize_url": AUTHORIZE_URL, "token_url": TOKEN_URL}
        return self.setting(name) or defaults[name]

    @cached_property
    def client(self) -> SageClient:
        return SageClient(self.url("api_base"), self.config.remote_company_id, self.access_token,
                          timeout=float(self.setting("timeout")), throttle=self.throttle)

    # -- OAuth -------------------------------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        return oauth.authorization_url(self.url("authorize_url"), self.config.client_id, redirect_uri,
                                       self.setting("scope"), state, {"filter": "apiv3.1"})

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        """The business is the ``business_id`` setting, else the user's only business."""
        tokens = self._grant({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        business = self.setting("business_id") or self._business(tokens.access_token)
        return TokenSet(**{**tokens.__dict__, "remote_company_id": str(business)})

    def refresh(self, refresh_token: str) -> TokenSet:
        """Sage rotates refresh tokens: the answer's refresh token replaces ours, the old one stops working."""
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _grant(self, data: dict) -> TokenSet:
        """A token grant. Sage's access token lives 5 minutes: the token store refreshes it ``EARLY`` seconds
        before its expiry (``token_refresh_margin``); a token Sage refuses earlier is refreshed on the 401."""
        return oauth.token_request(self.url("token_url"), self.config.client_id, self.config.client_secret, data,
                                   client_auth="body")

    def _business(self, access_token: str) -> str:
        client = SageClient(self.url("api_base"), "", lambda force: access_token,
                            timeout=float(self.setting("timeout")))
        rows = client.request("GET", "businesses").get("$items") or []
        if len(rows) != 1:
            raise ConfigurationError(f"the Sage user has {len(rows)} businesses",
                                     hint="Set the connection's business_id setting, then connect again.")
        return str(rows[0]["id"])

    # -- documents ---------------------------------------------------------------------------------------------
    def _resource(self, doc: Snapshot) -> str:
        if isinstance(doc, ItemSnapshot):
            return "products" if doc.kind == "product" and self.setting("purchase_ledger_account_id") else "services"
        return t.ENTITIES[doc.entity][0]

    def _search(self, resource: str, text: str, **params) -> list[dict]:
        return list(self.client.rows(resource, {"search": text, **params}))

    def _numbered(self, doc: Snapshot, customer: str = "") -> list[dict]:
        """Invoices or credit notes (``search``, any customer) or the customer's receipts of the day (Sage has no
        search on receipts: ``contact_id`` and the date) whose reference is our number."""
        if doc.entity in (Entity.PAYMENT, Entity.REFUND, Entity.EXPENSE):
            day = rest.iso_date(doc.date)
            kind = {Entity.PAYMENT: "CUSTOMER_RECEIPT", Entity.REFUND: "CUSTOMER_REFUND",
                    Entity.EXPENSE: "OTHER_PAYMENT"}[doc.entity]
            params = {"transaction_type_id": kind, "from_date": day, "to_date": day}
            rows = self.client.rows(self._resource(doc), {**params, **({"contact_id": customer} if customer else {})})
        elif doc.entity == Entity.JOURNAL:  # Sage lists journals with no filter but dates of change: all of them
            rows = self.client.rows("journals")
        else:
            rows = self._search(self._resource(doc), doc.number)
        field = t.ENTITIES[doc.entity][1]
        return [r for r in rows if str(r.get(field, "")).casefold() == doc.number[:25].casefold()]

    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        entity = doc.entity
        if entity in (Entity.CUSTOMER, Entity.ITEM):
            name = doc.name[:100] if entity == Entity.CUSTOMER else doc.name[:200]
            field = t.ENTITIES[entity][1]
            resources = ["contacts"] if entity == Entity.CUSTOMER else ["services", "products"]
            for resource in resources:
                params = {"contact_type_id": "CUSTOMER"} if entity == Entity.CUSTOMER else {}
                rows = [r for r in self._search(resource, name, **params)
                        if str(r.get(field, "")).casefold() == name.casefold()]
                if rows:
                    return t.result(entity, rows[0], adopted=True)
            return None
        if entity in (Entity.EXPENSE, Entity.JOURNAL):
            rows = self._numbered(doc)
            return t.result(entity, rows[0], adopted=True) if rows else None
        if entity == Entity.BILL:  # ours: our reference, from the same supplier
            name = doc.supplier.strip()[:100].casefold()
            rows = [r for r in self._numbered(doc) if str(r.get("contact_name") or (r.get("contact") or {}).get(
                "displayed_as") or "").casefold() == name]
            return t.result(entity, rows[0], adopted=True) if rows else None
        customer = mapping.refs[doc.customer_key]
        rows = self._numbered(doc, customer)
        mine = [r for r in rows if t.ref_id(r.get("contact")) == customer]
        if rows and not mine and entity not in (Entity.PAYMENT, Entity.REFUND):
            raise ValidationFailed(f"reference {doc.number} is already used in Sage by another customer",
                                   platform_code="duplicate_reference", hint="Renumber the local document.")
        if not mine:
            return None
        found = mine[0]
        if t.ref_id(found.get("status")) == "DRAFT" and not self.setting("drafts"):  # lost before its release
            found = self.client.request("POST", f"{self._resource(doc)}/{found['id']}/release")
            if isinstance(doc, CreditNoteSnapshot):
                return replace(self._apply_credit(doc, mapping, t.result(entity, found)), adopted=True)
        return t.result(entity, found, adopted=True)

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``idempotency_key`` is not sent: Sage has no such thing (see the module docstring). An invoice or credit
        note is created as a draft, kept only when no other document holds its reference (else the draft is
        deleted and the create refused as a duplicate), then released."""
        resource = self._resource(doc)
        body = self._payload(doc, mapping)
        if doc.entity not in (Entity.INVOICE, Entity.CREDIT_NOTE):
            return t.result(doc.entity, self.client.create(resource, body))
        draft = self.client.create(resource, {**body, "status_id": "DRAFT"})
        others = [r for r in self._numbered(doc) if str(r["id"]) != str(draft["id"])]
        if others:
            self.client.delete(resource, str(draft["id"]))
            raise DuplicateError(f"Sage already holds a {doc.entity.replace('_', ' ')} with reference {doc.number}",
                                 platform_code="duplicate_reference",
                                 hint="If it is this document it is linked automatically; otherwise renumber it.")
        if self.setting("drafts"):  # left for a person to approve in Sage (and deletable until then)
            return t.result(doc.entity, draft)
        released = self.client.request("POST", f"{resource}/{draft['id']}/release")
        return self._apply_credit(doc, mapping, t.result(doc.entity, released))

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        resource, current = self._read(doc.entity, ref.remote_id)
        found = t.result(doc.entity, current)
        if ref.version and found.version != ref.version:
            raise ConflictError(f"the {doc.entity.replace('_', ' ')} changed in Sage since it was last synced",
                                platform_code="stale", raw=current)
        if doc.entity == Entity.JOURNAL:
            return self._replace_journal(doc, mapping, ref.remote_id)
        body = self.client.update(resource, ref.remote_id, self._payload(doc, mapping))
        return self._apply_credit(doc, mapping, t.result(doc.entity, body))

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        self.client.delete(t.ENTITIES[entity][0], ref.remote_id, {"void_reason": self.setting("void_reason")})
        return self.fetch(entity, ref.remote_id)

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        """A draft invoice or credit note is deleted, any other is voided (Sage's DELETE does either; a credit note's
        allocations are removed first); a customer or receipt is deleted; an item is made inactive (it stays for
        the documents that name it)."""
        if entity == Entity.ITEM:
            resource, _ = self._read(entity, ref.remote_id)
            self.client.update(resource, ref.remote_id, {"active": False})
            return
        if entity == Entity.CREDIT_NOTE:
            note = self.client.read("sales_credit_notes", ref.remote_id)
            self._set_allocations(ref.remote_id, t.ref_id(note.get("contact")), {})
        documents = (Entity.INVOICE, Entity.CREDIT_NOTE)
        params = {"void_reason": self.setting("void_reason")} if entity in documents else None
        self.client.delete(t.ENTITIES[entity][0], ref.remote_id, params)

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        return t.result(entity, self._read(entity, remote_id)[1])

    def _read(self, entity: str, remote_id: str) -> tuple[str, dict]:
        """(resource, record); an item is a service or a product."""
        if entity != Entity.ITEM:
            resource = t.ENTITIES[entity][0]
            return resource, self.client.read(resource, remote_id)
        try:
            return "services", self.client.read("services", remote_id)
        except RemoteNotFound:
            return "products", self.client.read("products", remote_id)

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        if isinstance(doc, RefundSnapshot):
            return c.refund_problems(doc)
        if isinstance(doc, ExpenseSnapshot) and mapping.deposit_account:
            try:
                bank = self.client.read("bank_accounts", mapping.deposit_account)
            except RemoteNotFound:
                return ["the paid-from account mapped for this expense is not a Sage bank account (an other payment "
                        "is paid from a bank account)"]
            return c.currency_problems(doc, t.ref_id(bank.get("currency")), "an other payment in its bank account's "
                                       "currency:")
        if isinstance(doc, JournalSnapshot):
            home = t.ref_id(self.client.request("GET", "financial_settings").get("base_currency"))
            return c.currency_problems(doc, home, "journals in the base currency,")
        return []

    def _payload(self, doc: Snapshot, mapping: Mapping) -> dict:
        if isinstance(doc, RefundSnapshot):
            if problems := c.refund_problems(doc):
                raise ConfigurationError("; ".join(problems), hint="Record the refund in Sage by hand.")
            return c.refund_payload(doc, mapping)
        if isinstance(doc, ExpenseSnapshot):
            return c.expense_payload(doc, mapping)
        if isinstance(doc, BillSnapshot):
            return c.bill_payload(doc, mapping, self._supplier(doc.supplier))
        if isinstance(doc, JournalSnapshot):
            ledgers = self._bank_ledgers
            return c.journal_payload(doc, replace(mapping, line_accounts=tuple(
                ledgers.get(a or "", a) for a in mapping.line_accounts)))
        purchase = self.setting("purchase_ledger_account_id") if self._resource(doc) == "products" else None
        return t.payload(doc, mapping, purchase)

    def _supplier(self, name: str) -> str:
        """The VENDOR contact a bill is owed to: found by its name, else created (a customer of that name is not
        it: Sage's purchase invoices name a supplier)."""
        name = name.strip()[:100]
        known = self.__dict__.setdefault("_suppliers", {})  # looked up once per connector
        if name.casefold() not in known:
            found = [r for r in self._search("contacts", name, contact_type_id="VENDOR")
                     if str(r.get("name", "")).casefold() == name.casefold()]
            known[name.casefold()] = str(found[0]["id"]) if found else str(self.client.create(
                "contacts", {"name": name, "contact_type_ids": ["VENDOR"]})["id"])
        return known[name.casefold()]

    def _replace_journal(self, doc: JournalSnapshot, mapping: Mapping, old_id: str) -> RemoteResult:
        """Sage cannot edit a journal: a new one replaces it (created, then the old one deleted). A journal with our
        reference other than the old one is what an earlier replacement left when its answer was lost before the
        old one was deleted: it goes first, so a retry never leaves two."""
        for leftover in [r for r in self._numbered(doc) if str(r["id"]) != old_id]:
            self.client.delete("journals", str(leftover["id"]))
        body = self.client.create("journals", self._payload(doc, mapping))
        self.client.delete("journals", old_id)
        return t.result(doc.entity, body)

    @cached_property
    def _bank_ledgers(self) -> dict[str, str]:
        """Bank account id -> its ledger account id: a journal line mapped to a bank account posts to its ledger."""
        return {str(b["id"]): t.ref_id(b.get("ledger_account")) for b in self.client.rows("bank_accounts")
                if t.ref_id(b.get("ledger_account"))}

    # -- credit allocated to invoices --------------------------------------------------------------------------
    def _apply_credit(self, doc: Snapshot, mapping: Mapping, found: RemoteResult) -> RemoteResult:
        if not isinstance(doc, CreditNoteSnapshot):
            return found
        if self._set_allocations(found.remote_id, mapping.refs[doc.customer_key], t.credit_allocations(doc, mapping)):
            return self.fetch(Entity.CREDIT_NOTE, found.remote_id)
        return found

    def _set_allocations(self, note_id: str, contact_id: str, wanted: dict[str, Decimal]) -> bool:
        """Keep the credit note's contact allocations equal to ``wanted`` (invoice id -> amount): when they
        differ, delete the note's allocations and post one ``CUSTOMER_ALLOCATION`` (invoices positive, the credit
        note negative). True if anything moved."""
        mine, have = self._allocations_of(note_id, contact_id)
        if have == wanted:
            return False
        for row in mine:
            self.client.delete("contact_allocations", str(row["id"]))
        if wanted:
            entries = [{"artefact_id": i, "amount": a} for i, a in wanted.items()]
            entries.append({"artefact_id": note_id, "amount": -sum(wanted.values(), Decimal("0.00"))})
            self.client.create("contact_allocations", {"transaction_type_id": "CUSTOMER_ALLOCATION",
                                                       "contact_id": contact_id, "allocated_artefacts": entries})
        return True

    def _allocations_of(self, note_id: str, contact_id: str) -> tuple[list[dict], dict[str, Decimal]]:
        """The contact allocations that allocate the credit note, and what they allocate it to (artefact id ->
        amount)."""
        mine = [r for r in self.client.rows("contact_allocations", {"contact_id": contact_id})
                if any(t.ref_id(a.get("artefact")) == note_id for a in r.get("allocated_artefacts") or [])]
        have: dict[str, Decimal] = {}
        for row in mine:
            for a in row.get("allocated_artefacts") or []:
                if t.ref_id(a.get("artefact")) != note_id:
                    key = t.ref_id(a.get("artefact"))
                    have[key] = have.get(key, Decimal("0.00")) + rest.money(a.get("amount"))
        return mine, have

    # -- platform -> local -----------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """``updated_or_created_since`` (inclusive) and ``deleted_since`` (exclusive) per resource, both from
        ``since`` to the second: one pair of list requests per resource, whichever of our entities it holds
        (receipts and refunds are both contact payments, told apart by ``transaction_type``). A deleted row names
        no type: it is reported for each entity asked for on its resource (the pull finds which one is ours)."""
        cursor = dt.datetime.now(dt.UTC).replace(microsecond=0)
        since = since.astimezone(dt.UTC).replace(microsecond=0)
        company = self.config.remote_company_id
        resources: dict[str, list[str]] = {}
        for entity in [e for e in entities if e in self.inbound_entities]:
            resources.setdefault(t.ENTITIES[entity][0], []).append(entity)
        changes = []
        for resource, kinds in resources.items():
            for row in self.client.rows(resource, {"updated_or_created_since": t.format_time(since),
                                                   **t.change_filter(kinds)}):
                entity = t.entity_of(resource, row)
                if entity not in kinds:
                    continue
                voided = t.status(entity, row) == "voided"
                changes.append(RemoteChange(entity, str(row["id"]), "void" if voided else "update", company,
                                            t.modified_at(row)))
            for row in self.client.rows(resource, {"deleted_since": t.format_time(since)}):
                gone = row.get("deleted_at")
                changes.extend(RemoteChange(entity, str(row["id"]), "delete", company,
                                            rest.parse_time(str(gone)) if gone else None) for entity in kinds)
        return changes, cursor

    def remote_payment(self, remote_id: str) -> RemotePayment:
        return t.remote_payment(self.client.read("contact_payments", remote_id))

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        try:
            found = t.remote_document(entity, self.client.read(t.ENTITIES[entity][0], remote_id))
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)
        if entity != Entity.CREDIT_NOTE or found.status != "active" or found.customer is None:
            return found
        # its applications: the invoices its contact allocations allocate it to (as _set_allocations writes them)
        _, have = self._allocations_of(remote_id, found.customer.remote_id)
        return dataclasses.replace(found, applications=tuple((k, a) for k, a in have.items() if a > 0))

    def remote_customer(self, remote_id: str) -> RemoteCustomer:
        return t.remote_customer(self.client.read("contacts", remote_id))

    def remote_item(self, remote_id: str) -> RemoteItem:
        """A line names a service or a product by id: services are asked first (what we send), then products."""
        try:
            return t.remote_item("services", self.client.read("services", remote_id))
        except RemoteNotFound:
            return t.remote_item("products", self.client.read("products", remote_id))

    # -- reconciliation ------------------------------------------------------------------------------------------
    def list_documents(self, entity: str, since: dt.datetime | None = None):
        params = {"updated_or_created_since": t.format_time(since)} if since else {}
        yield from (t.totals(entity, row) for row in self.client.rows(t.ENTITIES[entity][0], params))

    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        resource = t.ENTITIES[entity][0]
        return rest.read_totals(entity, remote_ids,
                                lambda remote_id: t.totals(entity, self.client.read(resource, remote_id)))

    # -- reference data ------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        """Ledger accounts in the chart (bank ledgers aside), bank accounts (where receipts go), visible tax rates,
        currencies and the base currency."""
        ledgers = [{**a, "_name": a.get("name") or a.get("displayed_as")} for a in self.client.rows("ledger_accounts")
                   if a.get("included_in_chart", True) and t.ref_id(a.get("ledger_account_type")) != "BANK"]
        banks = [{"id": b["id"], "_bank": True,
                  "_name": (b.get("bank_account_details") or {}).get("account_name") or b.get("displayed_as")}
                 for b in self.client.rows("bank_accounts")]
        taxes = [x for x in self.client.rows("tax_rates") if x.get("is_visible", True)]
        currencies = [str(c["id"]) for c in self.client.rows("currencies")]
        home = t.ref_id(self.client.request("GET", "financial_settings").get("base_currency"))
        return rest.reference_data(ledgers + banks, taxes, account_kind, account_id="id", account_name="_name",
                                   tax_id="id", tax_name="name", currencies=currencies, home_currency=home)
