"""Zoho Books connector: snapshots in, Zoho Books v3 calls out, classified errors back.

Zoho has no idempotency key. A create is made safe to repeat by our own numbers and names instead: invoices and
credit notes carry our number with ``ignore_auto_number_generation``, so Zoho refuses a second one; a customer
or item whose name Zoho says exists already is searched and adopted; a payment (no unique field in Zoho) relies
on the pipeline searching by its reference before it sends again after a lost answer. Zoho has no optimistic
concurrency either: an update reads the record first and refuses to overwrite it when it changed since our
version (a short race remains).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from functools import cached_property

from .. import oauth, rest
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, SCOPE_FIELD, TIMEOUT_FIELD, TOKEN_URL_FIELD, AccountKind,
                    BaseConnector, Capabilities, DemoChart, DocumentTotals, ReferenceData, Refused, RemoteChange,
                    RemoteCustomer, RemoteDocument, RemoteItem, RemotePayment, Setting, TokenSet)
from ..documents import (BillSnapshot, CreditNoteSnapshot, Entity, ExpenseSnapshot, JournalSnapshot, Mapping,
                         RefundSnapshot, RemoteRef, RemoteResult, Snapshot)
from ..errors import ConfigurationError, ConflictError, DuplicateError, RemoteNotFound, SyncError, ValidationFailed
from ..registry import register
from . import costs as c
from . import translate as t
from .client import PAGE_SIZE, ZohoClient
from .errors import refused_references

#: data_center setting -> (API host, accounts server), from Zoho's OAuth "multiple data centers" table.
DATA_CENTERS = {"com": ("https://www.zohoapis.com", "https://accounts.zoho.com"),
                "eu": ("https://www.zohoapis.eu", "https://accounts.zoho.eu"),
                "in": ("https://www.zohoapis.in", "https://accounts.zoho.in"),
                "com.au": ("https://www.zohoapis.com.au", "https://accounts.zoho.com.au"),
                "jp": ("https://www.zohoapis.jp", "https://accounts.zoho.jp"),
                "ca": ("https://www.zohoapis.ca", "https://accounts.zohocloud.ca")}
#: The ``location`` Zoho adds to the consent redirect -> our data_center value.
LOCATIONS = {"us": "com", "eu": "eu", "in": "in", "au": "com.au", "jp": "jp", "ca": "ca"}
#: Zoho account_type -> AccountKind (a payment's account_id is a cash, bank or other current asset account).
ACCOUNT_KINDS = {"income": AccountKind.INCOME, "other_income": AccountKind.INCOME, "expense": AccountKind.EXPENSE,
                 "other_expense": AccountKind.EXPENSE, "cost_of_goods_sold": AccountKind.EXPENSE,
                 "cash": AccountKind.DEPOSIT, "bank": AccountKind.DEPOSIT, "other_current_asset": AccountKind.DEPOSIT,
                 "accounts_receivable": AccountKind.RECEIVABLE, "credit_card": AccountKind.CREDIT_CARD}
#: Refunds, expenses, journals and supplier bills: found by our number in ``reference_number``, written whole.
#: Zoho voids none of the first three (it deletes them); a bill it voids or deletes.
COSTS = (Entity.REFUND, Entity.EXPENSE, Entity.JOURNAL, Entity.BILL)


def account_kind(account: dict) -> str:
    kind = ACCOUNT_KINDS.get(str(account.get("account_type", "")), AccountKind.OTHER)
    if account.get("account_type") == "other_current_liability" and "tax" in str(account.get("account_name")).lower():
        return AccountKind.TAX_PAYABLE  # Zoho's "Tax Payable" (its type alone does not say so)
    return kind


@register
class ZohoConnector(BaseConnector):
    id = "zoho"
    name = "Zoho Books"
    capabilities = Capabilities(
        entities=frozenset({*Entity.ALL, Entity.BILL}),  # supplier bills: Zoho's bills (costs.py)
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE, Entity.BILL}),
        # customers and items are made inactive, never deleted; refunds, expenses and journals are deleted (Zoho
        # voids none of them)
        delete=frozenset({*Entity.ALL, Entity.BILL}),
        kept_lines=True,  # a restocking fee is a negative line of the credit note, like a discount line
        # contacts and items are listed newest change first like the documents: they come in on their own too
        inbound=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE}),
        inbound_creates=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE}),
        inbound_deletes=False,  # Zoho's lists hold no deleted records, and it has no deleted-since query
        idempotency_keys=False,  # Zoho has none: our own document numbers, refused when taken, stand in
    )
    #: Refunds, expenses and journals are reconciled like the sales documents (read back by id).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.RETURNS_AND_COSTS,
                                    Entity.BILL})
    #: Per organisation: 100 a minute, and a daily cap by plan (1,000 on the free plan; raise it per connection
    #: with ``settings["rate_limits"] = {"daily": [10000, 86400]}``).
    rate_limits = {"request": (100, 60.0), "daily": (1000, 86400.0)}
    concurrent_limit = 5  # guessed: Zoho limits concurrent calls per plan without publishing the figures we use
    default_settings = {"data_center": "com", "scope": "ZohoBooks.fullaccess.all", "timeout": 30}
    settings_fields = (
        Setting("data_center", "Data centre", "The Zoho data centre the organisation lives in; it sets the API and "
                "sign-in addresses.", "choice", choices=tuple((c, c) for c in DATA_CENTERS)),
        Setting("organization_id", "Organisation id", "The Zoho Books organisation. Empty: the user's only "
                "organisation, read when connecting."),
        SCOPE_FIELD,
        replace(API_BASE_FIELD, help=API_BASE_FIELD.help + " Empty: the data centre's."),
        replace(AUTHORIZE_URL_FIELD, help=AUTHORIZE_URL_FIELD.help + " Empty: the data centre's."),
        replace(TOKEN_URL_FIELD, help=TOKEN_URL_FIELD.help + " Empty: the data centre's."),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.zoho.sandbox.ZohoSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "General Income"},
                           line_kind_income={"shipping": "Shipping Charge", "fee": "Late Fee Income",
                                             "restocking_fee": "Other Charges", "return_shipping": "Shipping Charge"},
                           discount="Discount", deposit="Undeposited Funds",
                           taxes={"GST 10%": "GST 10%", "Exempt": "Exempt"},
                           refund="Business Checking", expense="Postage", paid_from="Business Checking")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        return {"api_base": f"{base_url}/books/v3", "authorize_url": f"{base_url}/oauth/v2/auth",
                "token_url": f"{base_url}/oauth/v2/token"}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        return refused_references(exc)

    def url(self, name: str) -> str:
        """``api_base``, ``authorize_url`` or ``token_url``: the setting when given, else the data centre's."""
        if self.setting(name):
            return self.setting(name)
        center = self.setting("data_center")
        if center not in DATA_CENTERS:
            raise ConfigurationError(f"unknown Zoho data centre {center!r}",
                                     hint=f"Set data_center to one of {', '.join(DATA_CENTERS)}.")
        api, accounts = DATA_CENTERS[center]
        return {"api_base": f"{api}/books/v3", "authorize_url": f"{accounts}/oauth/v2/auth",
                "token_url": f"{accounts}/oauth/v2/token"}[name]

    @cached_property
    def client(self) -> ZohoClient:
        return ZohoClient(self.url("api_base"), self.config.remote_company_id, self.access_token,
                          timeout=float(self.setting("timeout")), throttle=self.throttle)

    # -- OAuth -------------------------------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        return oauth.authorization_url(self.url("authorize_url"), self.config.client_id, redirect_uri,
                                       self.setting("scope"), state, {"access_type": "offline", "prompt": "consent"})

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        """The code is exchanged at the data centre staff chose; the organisation is the ``organization_id``
        setting, else the user's default (or only) organisation."""
        center = LOCATIONS.get(params.get("location", ""), params.get("location"))
        if center and center != self.setting("data_center") and not self.setting("token_url"):
            raise ConfigurationError(f"this Zoho account lives in the {center!r} data centre",
                                     hint=f"Set the connection's data_center to {center!r} and connect again.")
        tokens = self._grant({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        org = self.setting("organization_id") or self._organisation(tokens.access_token)
        return TokenSet(**{**tokens.__dict__, "remote_company_id": str(org)})

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _grant(self, data: dict) -> TokenSet:
        return oauth.token_request(self.url("token_url"), self.config.client_id, self.config.client_secret, data,
                                   client_auth="body")

    def _organisation(self, access_token: str) -> str:
        client = ZohoClient(self.url("api_base"), "", lambda force: access_token,
                            timeout=float(self.setting("timeout")))
        orgs = client.request("GET", "organizations").get("organizations") or []
        chosen = [o for o in orgs if o.get("is_default_org")] or orgs
        if len(chosen) != 1:
            raise ConfigurationError(f"the Zoho account has {len(orgs)} organisations and none is the default",
                                     hint="Set the connection's organization_id setting, then connect again.")
        return str(chosen[0]["organization_id"])

    # -- documents ---------------------------------------------------------------------------------------------
    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        entity = doc.entity
        if entity in COSTS:
            return self._find_cost(doc, mapping)
        field = t.ENTITIES[entity][4]
        ours = {Entity.CUSTOMER: lambda: doc.name[:200], Entity.ITEM: lambda: doc.name[:100],
                Entity.PAYMENT: lambda: doc.number[:100]}.get(entity, lambda: doc.number)()
        filters = {field: ours}
        if entity == Entity.PAYMENT:
            filters["customer_id"] = mapping.refs[doc.customer_key]
        rows = [r for r in self.client.list(entity, **filters) if str(r.get(field, "")).casefold() == ours.casefold()]
        if entity in (Entity.INVOICE, Entity.CREDIT_NOTE, Entity.PAYMENT):
            customer = mapping.refs[doc.customer_key]
            mine = [r for r in rows if str(r.get("customer_id", customer)) == customer]
            if rows and not mine and entity != Entity.PAYMENT:
                raise ValidationFailed(f"number {doc.number} is already used in Zoho Books by another customer",
                                       platform_code="duplicate", hint="Renumber the local document.")
            rows = mine
        if not rows:
            return None
        return t.result(entity, self.client.read(entity, str(rows[0][t.ENTITIES[entity][3]])), adopted=True)

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``idempotency_key`` is not sent: Zoho has no such thing (see the module docstring)."""
        if doc.entity in COSTS:
            return self._write_cost(doc, mapping, None)
        try:
            body = self.client.create(doc.entity, self._payload(doc, mapping), self._params(doc))
        except DuplicateError:
            found = self.find_existing(doc, mapping) if doc.entity in (Entity.CUSTOMER, Entity.ITEM) else None
            if found is None:
                raise
            return found  # Zoho refuses a second name: the one it holds is ours to adopt
        return self._apply_credit(doc, mapping, t.result(doc.entity, body))

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        current = self.fetch(doc.entity, ref.remote_id)
        if ref.version and current.version != ref.version:
            raise ConflictError(f"the {doc.entity.replace('_', ' ')} changed in Zoho Books since it was last synced",
                                platform_code="stale", raw=current.raw)
        if doc.entity in COSTS:
            return self._write_cost(doc, mapping, ref.remote_id)
        body = self.client.update(doc.entity, ref.remote_id, self._payload(doc, mapping), self._params(doc))
        return self._apply_credit(doc, mapping, t.result(doc.entity, body))

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        self.client.action("POST", entity, ref.remote_id, "status/void")
        return self.fetch(entity, ref.remote_id)

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        if entity in (Entity.CUSTOMER, Entity.ITEM):  # names stay for the documents that use them
            self.client.action("POST", entity, ref.remote_id, "inactive")
            return
        if entity == Entity.CREDIT_NOTE:  # its applications go first
            self._set_applications(ref.remote_id, {})
        if entity == Entity.REFUND:
            self.client.request("DELETE", c.refund_path(ref.remote_id))
            return
        self.client.action("DELETE", entity, ref.remote_id)

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        if entity == Entity.REFUND:
            return t.result(entity, self.client.request("GET", c.refund_path(remote_id))["creditnote_refund"])
        return t.result(entity, self.client.read(entity, remote_id))

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        return c.refund_problems(doc) if isinstance(doc, RefundSnapshot) else []

    def _payload(self, doc: Snapshot, mapping: Mapping) -> dict:
        if isinstance(doc, RefundSnapshot):
            return c.refund_payload(doc, mapping)
        if isinstance(doc, ExpenseSnapshot):
            return c.expense_payload(doc, mapping, self._vendor(doc.payee), self._currency_id(doc.currency))
        if isinstance(doc, JournalSnapshot):
            return c.journal_payload(doc, mapping, self._currency_id(doc.currency))
        if isinstance(doc, BillSnapshot):
            vendor = self._vendor(doc.supplier)
            if vendor is None:
                raise ValidationFailed("a bill needs its supplier's name", platform_code="vendor_id",
                                       hint="Name the bill's supplier.")
            return c.bill_payload(doc, mapping, vendor, self._currency_id(doc.currency))
        currency = getattr(doc, "currency", "")
        currency_id = None
        if doc.entity == Entity.CUSTOMER and currency and currency != self._currencies()[1]:
            currency_id = self._currencies()[0].get(currency)
            if currency_id is None:
                raise ConfigurationError(f"Zoho Books has no currency {currency}",
                                         hint=f"Add {currency} under Settings, Currencies in Zoho Books.")
        return t.payload(doc, mapping, currency_id)

    @staticmethod
    def _params(doc: Snapshot) -> dict | None:
        """Our own number on invoices and credit notes: Zoho then refuses a number it has already."""
        return {"ignore_auto_number_generation": "true"} if doc.entity in (Entity.INVOICE, Entity.CREDIT_NOTE) else None

    def _currencies(self) -> tuple[dict[str, str], str]:
        """(currency code -> Zoho currency_id, the organisation's base currency), read once per connector."""
        if "_currency_table" not in self.__dict__:
            rows = list(self.client.rows("settings/currencies", ("currencies",)))
            base = next((r["currency_code"] for r in rows if r.get("is_base_currency")), "")
            self.__dict__["_currency_table"] = ({r["currency_code"]: str(r["currency_id"]) for r in rows}, base)
        return self.__dict__["_currency_table"]

    # -- refunds, expenses, journals ------------------------------------------------------------------------------
    def _write_cost(self, doc: Snapshot, mapping: Mapping, remote_id: str | None) -> RemoteResult:
        """Create (``remote_id`` None) or replace a refund under its credit note, an expense or a journal."""
        body = self._payload(doc, mapping)
        if isinstance(doc, RefundSnapshot):
            if problems := c.refund_problems(doc):
                raise ConfigurationError("; ".join(problems), hint="Record the refund in Zoho Books by hand.")
            path = c.refund_path(remote_id) if remote_id else c.refunds_path(mapping.refs[doc.credit_note_key])
            answer = self.client.request("PUT" if remote_id else "POST", path, body=body)
            return t.result(doc.entity, answer["creditnote_refund"])
        if remote_id:
            return t.result(doc.entity, self.client.update(doc.entity, remote_id, body))
        return t.result(doc.entity, self.client.create(doc.entity, body))

    def _find_cost(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        """Ours by our number in ``reference_number``: a refund among its credit note's, an expense or a journal
        among all."""
        if isinstance(doc, RefundSnapshot):
            if not doc.credit_note_key:
                return None
            rows = self.client.request("GET", c.refunds_path(mapping.refs[doc.credit_note_key])).get(
                "creditnote_refunds") or []
        else:
            rows = list(self.client.list(doc.entity, reference_number=doc.number[:100]))
        ours = [r for r in rows if str(r.get("reference_number", "")).casefold() == doc.number[:100].casefold()]
        if not ours:
            return None
        found = t.result(doc.entity, ours[0])
        return replace(self.fetch(doc.entity, found.remote_id), adopted=True)

    def _vendor(self, payee: str) -> str | None:
        """The contact an expense is paid to: found by its name, else created as a vendor (Zoho's names are
        unique across contacts)."""
        name = payee.strip()[:200]
        if not name:
            return None
        known = self.__dict__.setdefault("_vendors", {})  # looked up once per connector
        if name.casefold() not in known:
            known[name.casefold()] = self._find_or_create_vendor(name)
        return known[name.casefold()]

    def _find_or_create_vendor(self, name: str) -> str | None:
        for attempt in range(2):
            found = [r for r in self.client.list(Entity.CUSTOMER, contact_name=name)
                     if str(r.get("contact_name", "")).casefold() == name.casefold()]
            if found:
                return str(found[0]["contact_id"])
            if attempt == 0:
                try:
                    return str(self.client.create(Entity.CUSTOMER, {"contact_name": name, "contact_type": "vendor"})
                               ["contact_id"])
                except DuplicateError:  # made meanwhile: found on the second look
                    continue
        return None

    def _currency_id(self, currency: str) -> str | None:
        """Zoho's ``currency_id`` for a document in ``currency``; None for the organisation's base currency."""
        codes, base = self._currencies()
        if not currency or currency == base:
            return None
        if currency not in codes:
            raise ConfigurationError(f"Zoho Books has no currency {currency}",
                                     hint=f"Add {currency} under Settings, Currencies in Zoho Books.")
        return codes[currency]

    # -- credit applied to invoices -------------------------------------------------------------------------------
    def _apply_credit(self, doc: Snapshot, mapping: Mapping, found: RemoteResult) -> RemoteResult:
        """Keep the credit note's applications equal to our allocations; returns it as it is afterwards."""
        if not isinstance(doc, CreditNoteSnapshot):
            return found
        if self._set_applications(found.remote_id, t.credit_applications(doc, mapping)):
            return self.fetch(Entity.CREDIT_NOTE, found.remote_id)
        return found

    def _set_applications(self, note_id: str, wanted: dict[str, Decimal]) -> bool:
        """``GET /creditnotes/{id}/invoices``; remove what differs, apply what is missing. True if anything moved."""
        path = f"creditnotes/{note_id}/invoices"
        current = self.client.request("GET", path).get("invoices_credited") or []
        have = {str(c["invoice_id"]): t.money(c.get("credited_amount") or c.get("amount_applied")) for c in current}
        if have == wanted:
            return False
        for row in current:
            if wanted.get(str(row["invoice_id"])) != have[str(row["invoice_id"])]:
                self.client.request("DELETE", f"{path}/{row['creditnote_invoice_id']}")
        missing = [{"invoice_id": i, "amount_applied": a} for i, a in wanted.items() if have.get(i) != a]
        if missing:
            self.client.request("POST", path, body={"invoices": missing})
        return True

    # -- platform -> local -----------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """Lists each entity newest change first and keeps what changed at or after ``since`` (to the second).
        Zoho lists no deleted records: a deletion is never reported here (reconciliation finds it)."""
        cursor = dt.datetime.now(dt.UTC).replace(microsecond=0)
        since = since.astimezone(dt.UTC).replace(microsecond=0)
        changes = []
        for entity in [e for e in entities if e in self.inbound_entities]:
            for row in self._changed(entity, since):
                if entity == Entity.CUSTOMER and str(row.get("contact_type", "customer")).lower() == "vendor":
                    continue  # a supplier, not a customer
                voided = str(row.get("status", "")).lower() == "void"
                changes.append(RemoteChange(entity, str(row[t.ENTITIES[entity][3]]), "void" if voided else "update",
                                            self.config.remote_company_id, t.modified_at(row)))
        return changes, cursor

    def _changed(self, entity: str, since: dt.datetime):
        """Rows of ``entity`` modified at or after ``since``. Zoho documents a ``last_modified_time`` filter on
        invoices only, so every list is asked newest change first and the client's ``changed`` stops paging at
        the first older row once ``page_context`` confirms that order."""
        path, _, keys, *_ = t.ENTITIES[entity]
        params = {"sort_column": "last_modified_time", "sort_order": "D"}
        if entity == Entity.INVOICE:
            params["last_modified_time"] = t.format_time(since)
        return self.client.changed(path, keys, since, t.modified_at, newest_first=t.newest_first, params=params,
                                   size=PAGE_SIZE, more=ZohoClient.has_more)

    def remote_payment(self, remote_id: str) -> RemotePayment:
        return t.remote_payment(self.client.read(Entity.PAYMENT, remote_id))

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        """The document whole; a credit note with the invoices it is applied to (``invoices_credited``)."""
        try:
            body = self.client.read(entity, remote_id)
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)
        if entity == Entity.CREDIT_NOTE and "invoices_credited" not in body:
            body = {**body, "invoices_credited": self.client.request(
                "GET", f"creditnotes/{remote_id}/invoices").get("invoices_credited") or []}
        return t.remote_document(entity, body)

    def remote_customer(self, remote_id: str) -> RemoteCustomer:
        return t.remote_customer(self.client.read(Entity.CUSTOMER, remote_id))

    def remote_item(self, remote_id: str) -> RemoteItem:
        return t.remote_item(self.client.read(Entity.ITEM, remote_id))

    # -- reconciliation ------------------------------------------------------------------------------------------
    def list_documents(self, entity: str, since: dt.datetime | None = None):
        """Every document of ``entity`` page by page (200 a page), from the list rows (no read per document).
        Refunds live under their credit notes (our id is ``<credit note>:<refund>``), expenses and journals are
        read by id only: none of them is listed for duplicates."""
        if entity in Entity.RETURNS_AND_COSTS:
            return
        rows = self._changed(entity, since.astimezone(dt.UTC)) if since else self.client.list(entity)
        yield from (t.totals(entity, row) for row in rows)

    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        if entity in Entity.RETURNS_AND_COSTS:  # read as ``fetch`` reads them (a refund under its credit note)
            return super().read_documents(entity, remote_ids)
        return rest.read_totals(entity, remote_ids,
                                lambda remote_id: t.totals(entity, self.client.read(entity, remote_id)))

    # -- reference data ------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        accounts = [a for a in self.client.rows("chartofaccounts", ("chartofaccounts",),
                                                filter_by="AccountType.Active") if a.get("is_active", True)]
        codes, home = self._currencies()
        return rest.reference_data(accounts, self.client.rows("settings/taxes", ("taxes",)), account_kind,
                                   account_id="account_id", account_name="account_name", tax_id="tax_id",
                                   tax_name="tax_name", currencies=codes, home_currency=home)

    def exchange_rate(self, currency: str, on: dt.date | None) -> Decimal | None:
        """Zoho's rate for ``currency`` in effect on ``on`` (base units per foreign unit); None when Zoho has
        none, and it then applies its own when the document is saved."""
        currency_id = self._currencies()[0].get(currency)
        if currency_id is None:
            raise ConfigurationError(f"Zoho Books has no currency {currency}",
                                     hint=f"Add {currency} under Settings, Currencies in Zoho Books.")
        params = {"from_date": on.isoformat()} if on else {"is_current_date": "true"}
        rows = self.client.request("GET", f"settings/currencies/{currency_id}/exchangerates",
                                   params=params).get("exchange_rates") or []
        rows = [r for r in rows if not on or str(r.get("effective_date", ""))[:10] <= on.isoformat()]
        latest = max(rows, key=lambda r: str(r.get("effective_date", "")), default=None)
        return Decimal(str(latest["rate"])) if latest and latest.get("rate") else None
