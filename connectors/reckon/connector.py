"""Reckon One connector: snapshots in, Reckon One API v2 calls out, classified errors back.

Access takes two credentials: an OAuth 2 token from Reckon's identity server (``read write offline_access``) and
the subscription key of the developer's API Management subscription, sent as ``Ocp-Apim-Subscription-Key`` on
every call (the connection's ``subscription_key`` setting). Every resource lives under the book's id; the book is
the ``book_id`` setting, else the user's only active book.

What Reckon does not have, and what this connector does instead:

- no idempotency key and no number of ours: Reckon numbers invoices, credit notes and receipts itself, so our
  number travels in ``reference``. Reckon does not refuse a reference twice, so after each create of an invoice
  or credit note the connector looks for another document with our reference and, if there is one, withdraws
  its own and refuses the create itself; the pipeline's search-before-create adopts a document whose answer was
  lost.
- no void: a void writes the document back with every amount 0 and notes starting with ``VOID_NOTE``; the number,
  customer, dates and lines stay (see ``translate.void_payload``). Payments and credits must be removed first.
- no version and, on invoices, credit notes and receipts, no last-modified time: an update reads the record first
  and refuses to overwrite a changed one (its content hash differs); changes made in Reckon are found by
  reconciliation, not polled (``capabilities.inbound`` is empty), and Reckon sends no webhooks.
- no currency: a book keeps one, which the API does not name; the ``currency`` setting says which (default from
  the book's country: AU, NZ, GB).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cached_property

from .. import oauth, rest
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, SCOPE_FIELD, TIMEOUT_FIELD, TOKEN_URL_FIELD, AccountKind,
                    BaseConnector, Capabilities, DemoChart, DocumentTotals, ReferenceData, Refused, RemoteChange,
                    RemoteDocument, RemotePayment, Setting, TokenSet)
from ..documents import CreditNoteSnapshot, Entity, Mapping, RemoteRef, RemoteResult, Snapshot
from ..errors import (ConfigurationError, ConflictError, DuplicateError, RemoteNotFound, SyncError,
                      ValidationFailed)
from ..registry import register
from . import translate as t
from .client import ReckonClient
from .errors import refused_references

API_BASE = "https://api-v2.reckonone.com"
IDENTITY = "https://identity.reckon.com"
#: A book's country -> the currency it keeps (Reckon One is sold in Australia, New Zealand and the UK).
COUNTRY_CURRENCY = {"AU": "AUD", "NZ": "NZD", "GB": "GBP", "UK": "GBP"}
#: Reckon ledger account types -> AccountKind (a receipt goes into a bank account or another current asset).
ACCOUNT_KINDS = {"Income": AccountKind.INCOME, "Income_Other": AccountKind.INCOME,
                 "Expense": AccountKind.EXPENSE, "Expense_Other": AccountKind.EXPENSE,
                 "Expense_CostOfGoodsSold": AccountKind.EXPENSE, "CurrentAsset_Bank": AccountKind.DEPOSIT,
                 "CurrentAsset_Other": AccountKind.DEPOSIT,
                 "CurrentAsset_AccountsReceivable": AccountKind.RECEIVABLE}


def account_kind(account: dict) -> str:
    kind = str(account.get("accountType") or "")
    if kind == "CurrentLiability_Other" and any(w in str(account.get("name")).lower() for w in ("gst", "vat", "tax")):
        return AccountKind.TAX_PAYABLE
    return ACCOUNT_KINDS.get(kind, AccountKind.OTHER)


@register
class ReckonConnector(BaseConnector):
    id = "reckon"
    name = "Reckon One"
    capabilities = Capabilities(
        entities=frozenset(Entity.SALES),
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE}),  # emulated: amounts to 0 and a void note
        delete=frozenset(Entity.SALES),  # customers and items are made Inactive, never deleted
        inbound=frozenset(),  # no modified time on documents and no webhooks: reconciliation finds changes
        inbound_deletes=False,
        idempotency_keys=False,  # Reckon has none: our reference, refused by us when taken, stands in
    )
    #: Reckon publishes no rate limit (its API Management policy applies one per subscription); 150 a minute is
    #: our guess at a safe pace, and a 429 carries Retry-After in any case.
    rate_limits = {"request": (150, 60.0)}
    default_settings = {"api_base": API_BASE, "authorize_url": f"{IDENTITY}/connect/authorize",
                        "token_url": f"{IDENTITY}/connect/token", "scope": "read write offline_access",
                        "timeout": 30, "subscription_key": "", "book_id": "", "currency": ""}
    settings_fields = (
        API_BASE_FIELD, AUTHORIZE_URL_FIELD, TOKEN_URL_FIELD, SCOPE_FIELD,
        Setting("subscription_key", "Subscription key", "The API subscription key Reckon issued to the app "
                "(Ocp-Apim-Subscription-Key).", secret=True),
        Setting("book_id", "Book id", "The Reckon One book the connection works in. Empty: the user's only book, "
                "read when connecting."),
        Setting("currency", "Book currency", "The book's currency as a three-letter code (USD). Empty: the "
                "currency of the book's country."),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.reckon.sandbox.ReckonSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Consulting Income"},
                           line_kind_income={"shipping": "Freight Income", "fee": "Late Fees Income"},
                           discount="Discounts Given", deposit="Business Bank Account",
                           taxes={"GST 10%": "GST", "Exempt": "GST Free"})

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        """The sandbox's API, identity server and subscription key. Its book is Australian; ``currency`` says it
        keeps US dollars, the demo clinic's currency (the API names no currency, see the module docstring)."""
        from .sandbox.seed import SUBSCRIPTION_KEY  # the sandbox's own, public key (not a secret)

        return {"api_base": base_url, "authorize_url": f"{base_url}/connect/authorize",
                "token_url": f"{base_url}/connect/token", "subscription_key": SUBSCRIPTION_KEY, "currency": "USD"}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        return refused_references(exc)

    @cached_property
    def client(self) -> ReckonClient:
        return self._client(self.config.remote_company_id, self.access_token)

    def _client(self, book_id: str, token_getter) -> ReckonClient:
        return ReckonClient(self.setting("api_base"), book_id, self.setting("subscription_key"), token_getter,
                            timeout=float(self.setting("timeout")), throttle=self.throttle)

    # -- OAuth -------------------------------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        return oauth.authorization_url(self.setting("authorize_url"), self.config.client_id, redirect_uri,
                                       self.setting("scope"), state)

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        """The book is the ``book_id`` setting, else the user's only active book."""
        tokens = self._grant({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        book = self.setting("book_id") or self._book(tokens.access_token)
        return TokenSet(**{**tokens.__dict__, "remote_company_id": str(book)})

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _grant(self, data: dict) -> TokenSet:
        return oauth.token_request(self.setting("token_url"), self.config.client_id, self.config.client_secret, data)

    def _book(self, access_token: str) -> str:
        books = self._client("", lambda force: access_token).request("GET", "books").get("list") or []
        active = [b for b in books if b.get("status") == "Active" and b.get("bookCreated", True)]
        if len(active) != 1:
            raise ConfigurationError(f"the Reckon One user has {len(active)} active books",
                                     hint="Set the connection's book_id setting to the book to sync, then connect "
                                          "again.")
        return str(active[0]["id"])

    # -- documents ---------------------------------------------------------------------------------------------
    def _search(self, doc: Snapshot, mapping: Mapping) -> list[dict]:
        """Records that already carry our name (customers, items) or our reference (documents)."""
        entity = doc.entity
        if entity in (Entity.CUSTOMER, Entity.ITEM):
            ours = doc.name[:100]
            rows = self.client.list(entity, filter=f"name eq {t.quote(ours)}")
            return [r for r in rows if str(r.get("name", "")).casefold() == ours.casefold()]
        ours = doc.number[:200]
        query = f"reference eq {t.quote(ours)}"
        if entity == Entity.PAYMENT:
            query += f" and customer.id eq {t.quote(mapping.refs[doc.customer_key])}"
        return [r for r in self.client.list(entity, filter=query) if str(r.get("reference", "")) == ours]

    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        rows = self._search(doc, mapping)
        if doc.entity in (Entity.INVOICE, Entity.CREDIT_NOTE, Entity.PAYMENT):
            customer = mapping.refs[doc.customer_key]
            mine = [r for r in rows if t.ref_id(r.get("customer")) == customer]
            if rows and not mine and doc.entity != Entity.PAYMENT:
                raise ValidationFailed(f"reference {doc.number} is already used in Reckon One by another customer",
                                       platform_code="duplicate", hint="Renumber the local document.")
            rows = mine
        if not rows:
            return None
        return t.result(doc.entity, self.client.read(doc.entity, str(rows[0]["id"])), adopted=True)

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``idempotency_key`` is not sent: Reckon has no such thing (see the module docstring)."""
        entity = doc.entity
        try:
            remote_id = self.client.create(entity, t.payload(doc, mapping))
        except DuplicateError:
            found = self.find_existing(doc, mapping) if entity in (Entity.CUSTOMER, Entity.ITEM) else None
            if found is None:
                raise
            return found  # Reckon refuses a second name: the one it holds is ours to adopt
        if entity in (Entity.INVOICE, Entity.CREDIT_NOTE):
            self._refuse_taken_reference(doc, mapping, remote_id)
        body = self.client.read(entity, remote_id)
        if entity in (Entity.INVOICE, Entity.CREDIT_NOTE) and body.get("status") == "Draft":
            self.client.patch(entity, remote_id, {"status": "Approved"})  # books with approval switched on
            body = self.client.read(entity, remote_id)
        return self._apply_credit(doc, mapping, t.result(entity, body))

    def _refuse_taken_reference(self, doc: Snapshot, mapping: Mapping, remote_id: str) -> None:
        """Reckon accepts a reference twice; we do not. Checked after the create (so a create whose answer is
        lost has happened, for the pipeline's search to adopt): when another document already carries our
        reference, the one just made is deleted again and the create refused as a duplicate. Two creates racing
        may both withdraw; the retry then makes one."""
        if [r for r in self._search(doc, mapping) if str(r.get("id")) != remote_id]:
            self.client.delete(doc.entity, remote_id)
            raise DuplicateError(f"Reckon One already has a {doc.entity.replace('_', ' ')} with reference "
                                 f"{doc.number}", platform_code="reference_taken",
                                 hint="If it is this document it is linked automatically; otherwise renumber the "
                                      "local document.")

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        current = self.client.read(doc.entity, ref.remote_id)
        found = t.result(doc.entity, current)
        if ref.version and found.version != ref.version:
            raise ConflictError(f"the {doc.entity.replace('_', ' ')} changed in Reckon One since it was last synced",
                                platform_code="stale", raw=current)
        template = t.ref_id(current.get("template")) or None
        self.client.update(doc.entity, ref.remote_id, t.payload(doc, mapping, template))
        return self._apply_credit(doc, mapping, self.fetch(doc.entity, ref.remote_id))

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """Reckon has no void: amounts to 0 and the void note (see the module docstring). A credit note's
        applications are removed first; an invoice with a receipt or credit applied is refused, as elsewhere."""
        if entity not in self.capabilities.void:
            raise ConfigurationError(f"Reckon One cannot void a {entity.replace('_', ' ')}")
        body = self.client.read(entity, ref.remote_id)
        if t.is_voided(entity, body):
            return t.result(entity, body)
        if entity == Entity.CREDIT_NOTE:
            self._set_links(ref.remote_id, {})
        elif [link for link in body.get("transactionLinks") or [] if link.get("transactionType") in
              ("Receipt", "CreditNote")]:
            raise ValidationFailed("Reckon One cannot void an invoice with receipts or credit notes allocated to it",
                                   platform_code="void_refused",
                                   hint="Delete the payments and remove the credits in Reckon One, then retry.")
        self.client.update(entity, ref.remote_id, t.void_payload(entity, body))
        return self.fetch(entity, ref.remote_id)

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        if entity in (Entity.CUSTOMER, Entity.ITEM):  # names stay for the documents that use them
            self.client.patch(entity, ref.remote_id, {"status": "Inactive"})
            return
        if entity == Entity.CREDIT_NOTE:  # its applications go first
            self._set_links(ref.remote_id, {})
        self.client.delete(entity, ref.remote_id)

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        return t.result(entity, self.client.read(entity, remote_id))

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        if getattr(doc, "exchange_rate", None) not in (None, Decimal("1")):
            return ["Reckon One books keep one currency: a document with an exchange rate cannot be sent"]
        return []

    # -- credit applied to invoices -------------------------------------------------------------------------------
    def _apply_credit(self, doc: Snapshot, mapping: Mapping, found: RemoteResult) -> RemoteResult:
        """Keep the credit note's invoice links equal to our allocations; returns it as it is afterwards."""
        if not isinstance(doc, CreditNoteSnapshot):
            return found
        if self._set_links(found.remote_id, t.credit_links(doc, mapping)):
            return self.fetch(Entity.CREDIT_NOTE, found.remote_id)
        return found

    def _set_links(self, note_id: str, wanted: dict[str, Decimal]) -> bool:
        """Remove the links that differ, add the missing ones. True if anything moved."""
        note = self.client.read(Entity.CREDIT_NOTE, note_id)
        links = [link for link in note.get("transactionLinks") or [] if link.get("transactionType") == "Invoice"]
        have = {str(link["transactionId"]): rest.money(link.get("transactionAmount")) for link in links}
        if have == wanted:
            return False
        path = self.client.book(f"creditNotes/{note_id}")
        for link in links:
            if wanted.get(str(link["transactionId"])) != have[str(link["transactionId"])]:
                self.client.request("DELETE", f"{path}/transactionlinks/{link['linkId']}")
        for invoice_id, amount in wanted.items():
            if have.get(invoice_id) != amount:
                self.client.request("POST", f"{path}/transactionLinks", body={
                    "transactionId": invoice_id, "transactionType": "Invoice", "transactionAmount": amount})
        return True

    # -- platform -> local -----------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """Customers and items changed at or after ``since`` (their ``lastModifiedDateTime``); every live
        invoice, credit note and receipt, since those carry no time to tell (which is why no entity is declared
        inbound: this serves reconciliation and tests, never polling)."""
        cursor = dt.datetime.now(dt.UTC)
        since = since.astimezone(dt.UTC)
        changes = []
        for entity in entities:
            for row in self.client.list(entity):
                stamp = row.get("lastModifiedDateTime")
                changed = rest.parse_time(stamp) if stamp else None
                if changed is not None and changed < since:
                    continue
                changes.append(RemoteChange(entity, str(row["id"]), "void" if t.is_voided(entity, row) else "update",
                                            self.config.remote_company_id, changed))
        return changes, cursor

    def remote_payment(self, remote_id: str) -> RemotePayment:
        return t.remote_payment(self.client.read(Entity.PAYMENT, remote_id), self._home_currency())

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        try:
            return t.remote_document(entity, self.client.read(entity, remote_id))
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)

    # -- reconciliation ------------------------------------------------------------------------------------------
    def list_documents(self, entity: str, since: dt.datetime | None = None):
        """Every document of ``entity`` page by page, from the list rows. Reckon's documents carry no modified
        time, so ``since`` cannot narrow the list: all of them come back."""
        currency = self._home_currency()
        yield from (t.totals(entity, row, currency) for row in self.client.list(entity))

    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        currency = self._home_currency()
        return rest.read_totals(entity, remote_ids,
                                lambda remote_id: t.totals(entity, self.client.read(entity, remote_id), currency))

    # -- reference data ------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        accounts = [a for a in self.client.rows(self.client.book("ledgeraccounts"), filter="status eq 'Active'")
                    if a.get("status", "Active") == "Active"]
        today = dt.date.today().isoformat()
        taxes = [x for x in self.client.rows(self.client.book(f"taxrates/{today}"))
                 if x.get("useOnSales", True) and x.get("status", "Active") == "Active"]
        home = self._home_currency()
        return rest.reference_data(accounts, taxes, account_kind, account_id="id", account_name="name",
                                   tax_id="id", tax_name="name", home_currency=home)

    def _home_currency(self) -> str:
        """The ``currency`` setting, else the currency of the book's country (read once per connector)."""
        if self.setting("currency"):
            return str(self.setting("currency"))
        if "_home" not in self.__dict__:
            book = self.client.request("GET", f"books/{self.config.remote_company_id}")
            country = str(book.get("country") or "")
            if country not in COUNTRY_CURRENCY:
                raise ConfigurationError(f"Reckon One does not say which currency the book ({country}) keeps",
                                         hint="Set the connection's currency setting (for example AUD).")
            self.__dict__["_home"] = COUNTRY_CURRENCY[country]
        return self.__dict__["_home"]
