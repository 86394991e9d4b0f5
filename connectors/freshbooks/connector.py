"""FreshBooks connector: snapshots in, FreshBooks accounting API calls out, classified errors back.

FreshBooks has no idempotency key. A create is made safe to repeat by our own numbers and names instead: FreshBooks
refuses an invoice or credit note number it holds already, and the pipeline searches before it sends again after a
lost answer (by our number, our client or item name, or our payment number kept in the payment's ``note``). It
has no optimistic concurrency either: an update reads the record first and refuses to overwrite it when it changed
since our version (a short race remains). Nothing is ever
removed: a delete sets ``vis_state`` to 1, and a read of such a record is "not found" here. FreshBooks has no void:
it is emulated as elsewhere in this product (every unit cost written to 0, the notes starting with a void note).
Its invoice lines carry no ledger account: the mapped accounts are checked against the business's chart, not sent.
Expenses are FreshBooks expenses posted to an expense category (``costs.py``); refunds and journals are not sent
(its public API records no refund of a credit and its journal entries are create-only: see the docs page).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from functools import cached_property
from urllib.parse import parse_qs, urlencode

from .. import oauth, rest, signatures
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, SCOPE_FIELD, TIMEOUT_FIELD, TOKEN_URL_FIELD, AccountKind,
                    BaseConnector, Capabilities, DemoChart, DocumentTotals, ReferenceData, Refused, RemoteChange,
                    RemoteCustomer, RemoteDocument, RemoteItem, RemotePayment, RuleKind, Setting, TokenSet)
from ..documents import (CreditNoteSnapshot, Entity, ExpenseSnapshot, Mapping, PaymentSnapshot, RemoteRef,
                         RemoteResult, Snapshot)
from ..errors import ConfigurationError, ConflictError, RemoteNotFound, SyncError, ValidationFailed
from ..registry import register
from . import costs as c
from . import translate as t
from .client import FreshBooksClient
from .errors import refused_references

API = "https://api.freshbooks.com"
AUTHORIZE = "https://auth.freshbooks.com/oauth/authorize"
IDENTITY = "auth/api/v1/users/me"
SIGNATURE_HEADER = "X-FreshBooks-Hmac-SHA256"
#: The rules a gone invoice-line account can come from (a refusal names them for the mapping editor).
SALES_KINDS = tuple(sorted(RuleKind.SALES_ACCOUNTS))
#: FreshBooks webhook object names -> our entities (``invoice.create``, ``payment.delete``...).
EVENT_ENTITIES = {"client": Entity.CUSTOMER, "item": Entity.ITEM, "invoice": Entity.INVOICE,
                  "payment": Entity.PAYMENT, "credit_note": Entity.CREDIT_NOTE}


def account_kind(account: dict) -> str:
    """A FreshBooks ledger account's kind from its ``account_type`` and ``account_sub_type`` (field names and values
    guessed from FreshBooks' chart of accounts; see docs/connectors/freshbooks.md)."""
    kind, sub = str(account.get("account_type", "")).lower(), str(account.get("account_sub_type", "")).lower()
    if kind == "income":
        return AccountKind.INCOME
    if kind in ("expense", "cost_of_goods_sold"):
        return AccountKind.EXPENSE
    if sub == "accounts_receivable":
        return AccountKind.RECEIVABLE
    if kind == "asset" and sub in ("bank", "cash", "undeposited_funds"):
        return AccountKind.DEPOSIT
    if kind == "liability" and "tax" in sub:
        return AccountKind.TAX_PAYABLE
    return AccountKind.OTHER


def offered_kind(account: dict) -> str:
    """The kind under which reference data offers an account: expense categories are the expense accounts (an
    expense posts to its category); the ledger's own expense accounts are offered as other accounts, since
    FreshBooks' API posts nothing to them directly."""
    if account.get("category"):
        return AccountKind.EXPENSE
    kind = account_kind(account)
    return AccountKind.OTHER if kind == AccountKind.EXPENSE else kind


@register
class FreshBooksConnector(BaseConnector):
    id = "freshbooks"
    name = "FreshBooks"
    capabilities = Capabilities(
        entities=frozenset({*Entity.SALES, Entity.EXPENSE}),  # expenses: costs.py; no refunds or journals (docs)
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE}),  # emulated: unit costs to 0 and a void note
        #: soft: vis_state 1, still readable with that flag; an expense is deleted (FreshBooks voids none)
        delete=frozenset({*Entity.SALES, Entity.EXPENSE}),
        kept_lines=True,  # a restocking fee is a credit-note line of the other sign, like a discount line
        # clients and items are listed by updated_min too: they come in on their own; expenses too (a deleted one
        # is listed with search[vis_state]=1; one edited there is an update, flagged by reconciliation)
        inbound=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.PAYMENT, Entity.CREDIT_NOTE, Entity.EXPENSE}),
        # payments recorded there (remote_payment reads them whole); clients and items (remote_customer / _item)
        inbound_creates=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.PAYMENT}),
        inbound_deletes=True,  # deleted records are listed with search[vis_state]=1
        # FreshBooks signs its webhooks, but posts them as form fields signed over a JSON re-serialisation, each
        # callback with its own verifier after a handshake: the shared receiver takes neither (see the docs page).
        # verify_webhook / parse_webhook below are ready; polling is what the product uses.
        webhooks=False,
        idempotency_keys=False,  # FreshBooks has none: search-before-create by our numbers and names
    )
    #: Expenses are reconciled like the sales documents (read back by id).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, Entity.EXPENSE})
    #: FreshBooks publishes no request limits; this budget is ours (it answers 429 when it throttles).
    rate_limits = {"request": (100, 60.0)}
    default_settings = {"timeout": 30, "scope": ""}
    settings_fields = (
        replace(API_BASE_FIELD, default=API), replace(AUTHORIZE_URL_FIELD, default=AUTHORIZE),
        replace(TOKEN_URL_FIELD, default=f"{API}/auth/oauth/token"),
        replace(SCOPE_FIELD, help="What Connect asks FreshBooks for, separated by spaces. Empty: the scopes set on "
                "the app."),
        Setting("account_id", "Account id", "The FreshBooks account (business). Empty: the user's only business, "
                "read when connecting."),
        Setting("redirect_uri", "Redirect address", "The app's redirect address, sent with each token refresh as "
                "FreshBooks' examples do. Empty: not sent.", "url"),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.freshbooks.sandbox.FreshBooksSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Services Income"},
                           line_kind_income={"shipping": "Shipping Income", "fee": "Late Fee Income"},
                           discount="Discounts", deposit="Undeposited Funds",
                           taxes={"GST 10%": "GST 10%", "Exempt": "Exempt"},
                           expense="Shipping & Delivery", paid_from="Business Checking")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        return {"api_base": base_url, "authorize_url": f"{base_url}/oauth/authorize",
                "token_url": f"{base_url}/auth/oauth/token"}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        return refused_references(exc)

    def url(self, name: str) -> str:
        return self.setting(name) or {"api_base": API, "authorize_url": AUTHORIZE,
                                      "token_url": f"{API}/auth/oauth/token"}[name]

    @cached_property
    def client(self) -> FreshBooksClient:
        return FreshBooksClient(self.url("api_base"), self.config.remote_company_id, self.access_token,
                                timeout=float(self.setting("timeout")), throttle=self.throttle)

    # -- OAuth -------------------------------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """FreshBooks' consent page; without a ``scope`` setting the app's registered scopes apply."""
        query = {"client_id": self.config.client_id, "response_type": "code", "redirect_uri": redirect_uri,
                 "state": state, **({"scope": self.setting("scope")} if self.setting("scope") else {})}
        return f"{self.url('authorize_url')}?{urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        """The code for tokens; the account is the ``account_id`` setting, else the user's only business."""
        tokens = self._grant({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        account = self.setting("account_id") or self._only_account(tokens.access_token)
        return TokenSet(**{**tokens.__dict__, "remote_company_id": str(account)})

    def refresh(self, refresh_token: str) -> TokenSet:
        """FreshBooks rotates refresh tokens: the answer's refresh token replaces ours, which stops working. Its
        examples send the app's ``redirect_uri`` with a refresh too: the ``redirect_uri`` setting, when set."""
        extra = {"redirect_uri": self.setting("redirect_uri")} if self.setting("redirect_uri") else {}
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token, **extra})

    def _grant(self, data: dict) -> TokenSet:
        return oauth.token_request(self.url("token_url"), self.config.client_id, self.config.client_secret, data,
                                   client_auth="body")

    def _memberships(self, client: FreshBooksClient) -> list[dict]:
        body = client.request("GET", IDENTITY)
        return ((body.get("response") or {}).get("business_memberships")) or []

    def _only_account(self, access_token: str) -> str:
        client = FreshBooksClient(self.url("api_base"), "", lambda force: access_token,
                                  timeout=float(self.setting("timeout")))
        accounts = [m["business"]["account_id"] for m in self._memberships(client)
                    if (m.get("business") or {}).get("account_id")]
        if len(accounts) != 1:
            raise ConfigurationError(f"the FreshBooks user belongs to {len(accounts)} businesses",
                                     hint="Set the connection's account_id setting, then connect again.")
        return str(accounts[0])

    @cached_property
    def business(self) -> dict:
        """The business behind our account id (its numeric id serves the ledger-account endpoints)."""
        for membership in self._memberships(self.client):
            business = membership.get("business") or {}
            if str(business.get("account_id")) == self.config.remote_company_id:
                return business
        raise ConfigurationError(f"this FreshBooks user has no business with account id "
                                 f"{self.config.remote_company_id}", hint="Reconnect with a user of that business.")

    # -- documents ---------------------------------------------------------------------------------------------
    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        entity = doc.entity
        if entity == Entity.PAYMENT:
            rows = [r for r in self._payments_of(self._payment_invoice(doc, mapping))
                    if str(r.get("note") or "") == doc.number[:100]]
        elif isinstance(doc, ExpenseSnapshot):  # no reference field: the day's expenses, our number in the notes
            day = doc.date.isoformat() if doc.date else ""
            rows = [r for r in self.client.list(entity, date_min=day, date_max=day)
                    if t.number(entity, r) == doc.number]
        else:
            field = t.ENTITIES[entity][4]
            ours = doc.name[:200 if entity == Entity.CUSTOMER else 100] if entity in (
                Entity.CUSTOMER, Entity.ITEM) else doc.number
            search = {f"{field}_like": ours} if entity == Entity.CUSTOMER else {field: ours}
            rows = [r for r in self.client.list(entity, **search)
                    if str(r.get(field, "")).casefold() == ours.casefold()]
            if entity in (Entity.INVOICE, Entity.CREDIT_NOTE):
                customer, key = mapping.refs[doc.customer_key], "customerid" if entity == Entity.INVOICE else "clientid"
                mine = [r for r in rows if str(r.get(key, customer)) == customer]
                if rows and not mine:
                    raise ValidationFailed(f"number {doc.number} is already used in FreshBooks by another client",
                                           platform_code="duplicate", hint="Renumber the local document.")
                rows = mine
        if not rows:
            return None
        return t.result(entity, self.client.read(entity, t.remote_id(entity, rows[0])), adopted=True)

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        if isinstance(doc, ExpenseSnapshot):
            return c.expense_problems(doc, mapping)
        return []

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``idempotency_key`` is not sent: FreshBooks has none (see the module docstring)."""
        body = self.client.create(doc.entity, self._payload(doc, mapping))
        return self._apply_credit(doc, mapping, t.result(doc.entity, body))

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        current = self.fetch(doc.entity, ref.remote_id)
        if ref.version and current.version != ref.version:
            raise ConflictError(f"the {doc.entity.replace('_', ' ')} changed in FreshBooks since it was last synced",
                                platform_code="stale", raw=current.raw)
        body = self.client.update(doc.entity, ref.remote_id, self._payload(doc, mapping))
        return self._apply_credit(doc, mapping, t.result(doc.entity, body))

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """FreshBooks has no void: every line's unit cost becomes 0 (lines, number, client and dates stay) and the
        notes start with ``VOID_NOTE``. A credit note's applications are removed first; an invoice with payments
        is refused by FreshBooks (its total would fall below what was paid)."""
        if entity == Entity.CREDIT_NOTE:
            self._set_applications(ref.remote_id, {})
        body = self.client.read(entity, ref.remote_id)
        if t.status(body) != "voided":
            notes = t.VOID_NOTE + (f"\n{body['notes']}" if body.get("notes") else "")
            self.client.update(entity, ref.remote_id, {"lines": t.voided_lines(body), "notes": notes[:5000]})
        return self.fetch(entity, ref.remote_id)

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        if entity == Entity.CREDIT_NOTE:  # its applications go first
            self._set_applications(ref.remote_id, {})
        self.client.update(entity, ref.remote_id, {"vis_state": t.VIS_DELETED})

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        found = t.result(entity, self.client.read(entity, remote_id))
        if found.status == "deleted":
            raise RemoteNotFound(f"the {entity.replace('_', ' ')} {remote_id} was deleted in FreshBooks",
                                 platform_code="vis_state=1", hint="It is in FreshBooks' deleted items.")
        if entity == Entity.CREDIT_NOTE and found.total is not None and found.status != "voided":
            applied = sum((t.amount_of(r, "amount") or t.ZERO for r in self._credit_payments(remote_id)), t.ZERO)
            found = replace(found, balance=found.total - applied)  # FreshBooks answers no remaining credit we know
        return found

    def _payload(self, doc: Snapshot, mapping: Mapping) -> dict:
        if doc.entity == Entity.CUSTOMER:
            return t.client_payload(doc)
        if doc.entity == Entity.ITEM:
            self._check_accounts((mapping.item_account,))
            return t.item_payload(doc)
        if isinstance(doc, PaymentSnapshot):
            return t.payment_payload(doc, self._payment_invoice(doc, mapping))
        if isinstance(doc, ExpenseSnapshot):
            return self._expense_payload(doc, mapping)
        self._check_accounts(mapping.line_accounts)
        self._check_taxes(doc, mapping)
        lines = t.lines_payload(doc, self._taxes, mapping)
        customer = mapping.refs[doc.customer_key]
        if isinstance(doc, CreditNoteSnapshot):
            return t.credit_payload(doc, customer, lines)
        return t.invoice_payload(doc, customer, lines)

    def _expense_payload(self, doc: ExpenseSnapshot, mapping: Mapping) -> dict:
        """Refused before anything is sent when the lines need several categories or taxes, when the category is
        gone, or when the paid-from account is gone (it is not sent: FreshBooks has no such field)."""
        problems = c.expense_problems(doc, mapping)
        if problems:
            raise ValidationFailed(problems[0], platform_code="not_taken",
                                   hint="Record the expense in FreshBooks by hand, or change it as said.")
        category = c.category_of(mapping.line_accounts[0] if mapping.line_accounts else None)
        if category not in self._categories:
            raise ValidationFailed(f"the expense category {category} does not exist in FreshBooks",
                                   platform_code="unknown_account", hint="Map the expense account again.",
                                   raw={"remote_id": c.category_account(category),
                                        "kinds": [RuleKind.EXPENSE_ACCOUNT]})
        self._check_accounts((mapping.deposit_account,), (RuleKind.PAID_FROM_ACCOUNT,))
        self._check_taxes(doc, mapping)
        return c.expense_payload(doc, mapping, self._taxes)

    @cached_property
    def _categories(self) -> dict[str, dict]:
        """Active expense categories by id (``GET expenses/categories``, list key ``categories``)."""
        rows = self.client.rows(self.client.accounting("expenses/categories"), "categories")
        return {str(r.get("categoryid") or r.get("id")): r for r in rows if int(r.get("vis_state") or 0) == 0}

    @staticmethod
    def _payment_invoice(doc: PaymentSnapshot, mapping: Mapping) -> str:
        """The one invoice a FreshBooks payment is for."""
        if len(doc.allocations) != 1:
            raise ValidationFailed(
                f"payment {doc.number} is applied to {len(doc.allocations)} invoices; a FreshBooks payment is "
                "recorded against exactly one invoice", platform_code="one_invoice_per_payment",
                hint="Record one payment per invoice here (split the payment), then sync again.")
        return str(mapping.refs[doc.allocations[0].invoice_key])

    @cached_property
    def _accounts(self) -> dict[str, dict]:
        """The chart of accounts, ``GET /accounting/businesses/{business_uuid}/ledger_accounts/accounts``: one
        answer ``{"data": [...]}``, no paging (the shape FreshBooks' SDK reads)."""
        path = f"accounting/businesses/{self.business['business_uuid']}/ledger_accounts/accounts"
        return {str(a["id"]): a for a in self.client.request("GET", path).get("data") or []}

    def _check_accounts(self, ids, kinds: tuple[str, ...] = SALES_KINDS) -> None:
        """Invoice lines carry no account in FreshBooks; a mapped account that is gone is still refused here, so
        the mapping is fixed before FreshBooks' books and ours drift apart."""
        for account_id in {str(i) for i in ids if i}:
            account = self._accounts.get(account_id)
            if account is None or not account.get("active", True):
                raise ValidationFailed(f"the account {account_id} does not exist in FreshBooks or is archived",
                                       platform_code="unknown_account", hint="Map the account again.",
                                       raw={"remote_id": account_id, "kinds": list(kinds)})

    def _check_taxes(self, doc: Snapshot, mapping: Mapping) -> None:
        """A line names its tax by name and percentage: a mapped tax FreshBooks no longer has would go out untaxed,
        so it is refused here, naming the tax code."""
        for line in doc.lines:
            tax_id = mapping.tax_codes.get(line.tax_rate_key) if line.tax_rate_key else None
            if tax_id and str(tax_id) not in self._taxes:
                raise ValidationFailed(f"the tax {tax_id} does not exist in FreshBooks", platform_code="unknown_tax",
                                       hint="Map the tax rate to a FreshBooks tax again.",
                                       raw={"remote_id": str(tax_id), "kinds": [RuleKind.TAX_CODE]})

    @cached_property
    def _taxes(self) -> dict[str, tuple[str, Decimal]]:
        """Remote tax id -> (name, percentage): FreshBooks lines name their tax."""
        return {str(x.get("taxid") or x["id"]): (x["name"], Decimal(str(x.get("amount") or "0")))
                for x in self.client.rows(self.client.accounting("taxes/taxes"), "taxes")}

    # -- credit applied to invoices -------------------------------------------------------------------------------
    def _apply_credit(self, doc: Snapshot, mapping: Mapping, found: RemoteResult) -> RemoteResult:
        if not isinstance(doc, CreditNoteSnapshot):
            return found
        if self._set_applications(found.remote_id, t.credit_applications(doc, mapping), doc.issue_date):
            return self.fetch(Entity.CREDIT_NOTE, found.remote_id)
        return found

    def _set_applications(self, note_id: str, wanted: dict[str, Decimal], day: dt.date | None = None) -> bool:
        """A credit applied to an invoice is a payment of type "Credit" naming the credit note. Delete what
        differs, create what is missing; True if anything moved."""
        current = self._credit_payments(note_id)
        have = {str(r["invoiceid"]): t.amount_of(r, "amount") for r in current}
        if have == wanted:
            return False
        for row in current:
            if wanted.get(str(row["invoiceid"])) != have[str(row["invoiceid"])]:
                self.client.update(Entity.PAYMENT, t.remote_id("payment", row), {"vis_state": t.VIS_DELETED})
        for invoice_id, value in wanted.items():
            if have.get(invoice_id) != value:
                self.client.create(Entity.PAYMENT, t.credit_application(note_id, invoice_id, value,
                                                                         day or dt.date.today()))
        return True

    def _credit_payments(self, note_id: str) -> list[dict]:
        return [r for r in self.client.list(Entity.PAYMENT, creditid=note_id)
                if str(r.get("type")) == t.CREDIT_TYPE and str(r.get("creditid")) == str(note_id)]

    def _payments_of(self, invoice_id: str) -> list[dict]:
        return [r for r in self.client.list(Entity.PAYMENT, invoiceid=invoice_id)
                if str(r.get("type")) != t.CREDIT_TYPE]

    # -- platform -> local -----------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """Each entity's rows updated at or after ``since`` (to the second), live ones and then deleted ones
        (``search[vis_state]=1``). Credit applications (payments of type "Credit") are not payments here. Invoices
        are answered when asked (reconciliation and tests use it), though not declared inbound: FreshBooks has no
        void, so a user's change to an invoice is not applied here by polling (see the docs page). Expenses come
        from the same list filter on ``expenses/expenses``: one deleted there (FreshBooks voids none) is a
        "delete", any other change an "update" (the shared code compares the total)."""
        cursor = dt.datetime.now(dt.UTC).replace(microsecond=0)
        stamp = t.format_time(since.astimezone(dt.UTC).replace(microsecond=0))
        changes = []
        asked = (Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, Entity.EXPENSE)
        for entity in [e for e in entities if e in asked]:
            for vis in (None, t.VIS_DELETED):
                search = {"updated_min": stamp, **({"vis_state": vis} if vis is not None else {})}
                for row in self.client.list(entity, **search):
                    if entity == Entity.PAYMENT and str(row.get("type")) == t.CREDIT_TYPE:
                        continue
                    deleted = t.status(row) == "deleted"
                    changes.append(RemoteChange(entity, t.remote_id(entity, row), "delete" if deleted else "update",
                                                self.config.remote_company_id, t.modified_at(row)))
        return changes, cursor

    def remote_payment(self, remote_id: str) -> RemotePayment:
        return t.remote_payment(self.client.read(Entity.PAYMENT, remote_id))

    def remote_customer(self, remote_id: str) -> RemoteCustomer:
        return t.remote_customer(self.client.read(Entity.CUSTOMER, remote_id))

    def remote_item(self, remote_id: str) -> RemoteItem:
        return t.remote_item(self.client.read(Entity.ITEM, remote_id))

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        try:
            return t.remote_document(entity, self.client.read(entity, remote_id))
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)

    # -- webhooks -------------------------------------------------------------------------------------------------
    @classmethod
    def verify_webhook(cls, headers: dict[str, str], body: bytes, secret: str) -> bool:
        """``X-FreshBooks-Hmac-SHA256`` is base64 HMAC-SHA256, keyed with the callback's verifier, over the JSON
        text of the form fields (values as strings, Python's default separators), per FreshBooks' webhooks page."""
        try:
            form = cls._form(body)
        except ValueError:
            return False
        message = json.dumps({k: str(v) for k, v in form.items()}).encode("utf-8")
        return signatures.verify(message, secret, signatures.header(headers, SIGNATURE_HEADER))

    @classmethod
    def parse_webhook(cls, body: bytes) -> list[RemoteChange]:
        """One event per delivery: ``name=invoice.update&object_id=…&account_id=…``. The verification request
        (``callback.verify``) and objects we do not keep announce nothing."""
        form = cls._form(body)
        name, object_id = form.get("name", ""), form.get("object_id", "")
        if not name or not object_id:
            raise ValueError("not a FreshBooks webhook: no name or object_id")
        noun, _, action = name.partition(".")
        entity = EVENT_ENTITIES.get(noun)
        if entity is None or action not in ("create", "update", "delete"):
            return []
        return [RemoteChange(entity, str(object_id), action, str(form.get("account_id", "")))]

    @staticmethod
    def _form(body: bytes) -> dict[str, str]:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("not a FreshBooks webhook: not UTF-8") from None
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=True) if text else {}
        return {k: v[-1] for k, v in fields.items()}

    def register_callback(self, event: str, uri: str) -> dict:
        """``POST /events/account/{id}/events/callbacks``; FreshBooks then posts a verifier to ``uri``."""
        body = self.client.request("POST", f"events/account/{self.config.remote_company_id}/events/callbacks",
                                   body={"callback": {"event": event, "uri": uri}})
        return (body.get("response") or {}).get("result", {}).get("callback") or {}

    def verify_callback(self, callback_id: str, verifier: str) -> dict:
        """Send the verifier back: the callback starts delivering, each event signed with that verifier."""
        body = self.client.request("PUT", f"events/account/{self.config.remote_company_id}/events/callbacks/"
                                          f"{callback_id}", body={"callback": {"verifier": verifier}})
        return (body.get("response") or {}).get("result", {}).get("callback") or {}

    # -- reconciliation ------------------------------------------------------------------------------------------
    def list_documents(self, entity: str, since: dt.datetime | None = None):
        """Every document of ``entity`` from the list rows. Expenses are read by id only (``read_documents``):
        the business's other expenses (imported from its bank, entered by hand) are not ours to look through."""
        if entity == Entity.EXPENSE:
            return
        search = {"updated_min": t.format_time(since)} if since else {}
        for row in self.client.list(entity, **search):
            if entity == Entity.PAYMENT and str(row.get("type")) == t.CREDIT_TYPE:
                continue
            yield t.totals(entity, row)

    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        def read(remote_id: str) -> DocumentTotals:
            body = self.client.read(entity, remote_id)
            if t.status(body) == "deleted":
                raise RemoteNotFound(f"{entity} {remote_id} was deleted")
            return t.totals(entity, body)
        return rest.read_totals(entity, remote_ids, read)

    # -- reference data ------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        self.__dict__.pop("_accounts", None)
        self.__dict__.pop("_taxes", None)
        self.__dict__.pop("_categories", None)
        accounts = [a for a in self._accounts.values() if a.get("active", True)]
        accounts += [{"id": c.category_account(key), "name": row.get("category") or key, "category": True}
                     for key, row in self._categories.items()]
        taxes = [{"id": k, "name": name} for k, (name, _) in self._taxes.items()]
        home = str(self.business.get("base_currency") or self.business.get("currency_code") or "")
        return rest.reference_data(accounts, taxes, offered_kind, account_id="id", account_name="name",
                                   tax_id="id", tax_name="name", home_currency=home)
