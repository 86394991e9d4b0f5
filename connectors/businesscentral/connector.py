"""Dynamics 365 Business Central connector: snapshots in, API v2.0 calls out, classified errors back.

Business Central has no idempotency key and numbers its documents itself. Our number travels as the
``externalDocumentNumber`` of invoices, credit memos and payments, which Business Central does not require to be
unique: the connector searches for it before every create and refuses a number already used (a DuplicateError),
and the pipeline searches the same way before sending again after a lost answer. Customers and items are found by
their display name. Updates carry the ``@odata.etag`` we last read in ``If-Match``; Business Central refuses it
(``Request_EntityChanged``) when the record changed since, which is a ConflictError.

Invoices and credit memos are created as drafts with their lines inline, and posted (``Microsoft.NAV.post``) when
the connection's ``post_documents`` setting is on. Payments are lines of a customer payment journal (one journal
per deposit account, its balancing account); the standard API cannot post a payment journal, so staff post it in
Business Central. Until then, the balance we report for an invoice counts the journal lines and draft credit
memos applied to it (see docs/connectors/businesscentral.md).

Expenses are draft purchase invoices from the payee as vendor; journals are general journal batches of their own,
left for staff to post (``costs.py``). Refunds are not sent: the standard API has no customer refund that applies
to a credit memo (see the docs page).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from functools import cached_property

from .. import oauth, rest
from ..base import (TIMEOUT_FIELD, AccountKind, BaseConnector, Capabilities, DemoChart, DocumentTotals, ReferenceData,
                    Refused, RemoteChange, RemoteCustomer, RemoteDocument, RemoteItem, RemotePayment, Setting, TokenSet)
from ..documents import (Entity, ExpenseSnapshot, JournalSnapshot, Mapping, PaymentSnapshot, RemoteRef, RemoteResult,
                         Snapshot)
from ..errors import ConfigurationError, ConflictError, DuplicateError, RemoteNotFound, SyncError, ValidationFailed
from ..registry import register
from . import costs as c
from . import translate as t
from .client import BusinessCentralClient, quote
from .errors import refused_references

API_HOST = "https://api.businesscentral.dynamics.com"
LOGIN_HOST = "https://login.microsoftonline.com"
API_SCOPE = "https://api.businesscentral.dynamics.com/.default"
#: The sandbox's tenant and environment (its seed module holds the same values; a test checks they agree).
SANDBOX_TENANT, SANDBOX_ENVIRONMENT = "7a1d6a2c-0b5e-4d6f-9a51-3c2e8f9b4d10", "sandbox"
DOCUMENT_SETS = {Entity.INVOICE: "salesInvoices", Entity.CREDIT_NOTE: "salesCreditMemos"}
#: What Business Central takes besides sales: expenses (purchase invoices) and journals; refunds are not expressible.
COSTS = (Entity.EXPENSE, Entity.JOURNAL)


def account_kind(account: dict) -> str:
    """An account's kind from its ``category`` and ``subCategory`` (Business Central's account categories)."""
    category, sub = str(account.get("category") or ""), str(account.get("subCategory") or "").lower()
    name = str(account.get("displayName") or "").lower()
    if category == "Income":
        return AccountKind.INCOME
    if category in ("Expense", "CostOfGoodsSold"):
        return AccountKind.EXPENSE
    if category == "Assets" and ("cash" in sub or "bank" in sub):
        return AccountKind.DEPOSIT
    if category == "Assets" and "receivable" in sub:
        return AccountKind.RECEIVABLE
    if category == "Liabilities" and "tax" in name:
        return AccountKind.TAX_PAYABLE
    return AccountKind.OTHER


@register
class BusinessCentralConnector(BaseConnector):
    id = "businesscentral"
    name = "Dynamics 365 Business Central"
    capabilities = Capabilities(
        entities=frozenset({*Entity.SALES, *COSTS}),
        # Business Central cancels posted documents only: a draft is posted first, then cancelled.
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE}),
        # drafts (expenses' purchase invoices too), journal lines and our journal batches are deleted; customers and
        # items are blocked
        delete=frozenset({*Entity.SALES, *COSTS}),
        kept_lines=True,  # a restocking fee is a negative G/L account line of the credit memo
        # customers and items have lastModifiedDateTime too: they come in on their own; an expense's purchase
        # invoice cancelled or edited there is reported (issue 23), not a journal (a deleted batch leaves no trace
        # in any list, a posted one leaves the batch: see the docs page)
        inbound=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE,
                           Entity.EXPENSE}),
        inbound_creates=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE}),
        inbound_deletes=False,  # lists hold no deleted records; only a webhook says "deleted"
        idempotency_keys=False,  # none in Business Central: our number in externalDocumentNumber stands in
        webhooks=False,  # notifications carry no signature (clientState only): polled instead, see the docs page
    )
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *COSTS})
    #: Per user: 6,000 requests in any 5 minutes; 5 OData requests at once (more wait in a queue, then 429).
    rate_limits = {"request": (6000, 300.0)}
    concurrent_limit = 5
    default_settings = {"tenant": "", "environment": "production", "api_host": API_HOST, "login_host": LOGIN_HOST,
                        "grant": "authorization_code", "company_id": "", "post_documents": False, "timeout": 30}
    settings_fields = (
        Setting("tenant", "Tenant", "The Entra (Azure AD) tenant: its directory id or domain.", required=True),
        Setting("environment", "Environment", "The Business Central environment's name (production, or a sandbox "
                "environment's name)."),
        Setting("company_id", "Company id", "The company in the environment. Empty: the environment's only company, "
                "read when connecting."),
        Setting("grant", "Sign-in", "How the app gets its tokens.", "choice", choices=(
            ("authorization_code", "A user signs in (authorization code)"),
            ("client_credentials", "The app itself, after an administrator's consent (client credentials)"))),
        Setting("post_documents", "Post documents", "Post invoices and credit notes after creating them (drafts "
                "otherwise).", "flag"),
        Setting("api_host", "API host", "Business Central's API host. Change it only to use a sandbox or a proxy.",
                "url"),
        Setting("login_host", "Sign-in host", "Entra's sign-in host. Change it only together with the API host.",
                "url"),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.businesscentral.sandbox.BusinessCentralSandbox"
    demo_chart = DemoChart(default_income="Sales, Services", category_income={"Consultations": "Consulting Income"},
                           line_kind_income={"shipping": "Freight Income", "fee": "Finance Charges Recvd.",
                                             "restocking_fee": "Restocking Fees", "return_shipping": "Freight Income"},
                           discount="Discounts Granted", deposit="Undeposited Receipts",
                           taxes={"GST 10%": "GST 10%", "Exempt": "Exempt"},
                           expense="Freight and Shipping", paid_from="Checking account")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        return {"api_host": base_url, "login_host": base_url, "tenant": SANDBOX_TENANT,
                "environment": SANDBOX_ENVIRONMENT}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        return refused_references(exc)

    def url(self, name: str) -> str:
        tenant = self.setting("tenant")
        if not tenant:
            raise ConfigurationError("the Business Central connection names no Entra tenant",
                                     hint="Set the connection's tenant setting (the directory id or domain).")
        login = self.setting("login_host").rstrip("/")
        return {"api_base": f"{self.setting('api_host').rstrip('/')}/v2.0/{tenant}/{self.setting('environment')}"
                            "/api/v2.0",
                "authorize_url": f"{login}/{tenant}/oauth2/v2.0/authorize",
                "token_url": f"{login}/{tenant}/oauth2/v2.0/token"}[name]

    @cached_property
    def client(self) -> BusinessCentralClient:
        return BusinessCentralClient(self.url("api_base"), self.config.remote_company_id, self.access_token,
                                     timeout=float(self.setting("timeout")), throttle=self.throttle)

    # -- OAuth (Entra ID) ------------------------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """A user's consent (authorization code). With ``grant`` ``client_credentials`` an administrator signs in
        and consents for the organisation (``prompt=consent``, scope ``.default``); the code that comes back only
        proves the consent, the app then takes its own token. (Entra's dedicated ``/adminconsent`` page answers
        without a code, which the connection callback requires.)"""
        if self.setting("grant") == "client_credentials":
            return oauth.authorization_url(self.url("authorize_url"), self.config.client_id, redirect_uri,
                                           API_SCOPE, state, {"prompt": "consent"})
        return oauth.authorization_url(self.url("authorize_url"), self.config.client_id, redirect_uri,
                                       f"{API_SCOPE} offline_access", state, {"prompt": "select_account"})

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        """With ``grant`` ``client_credentials`` (service-to-service), the consent was an admin's and the app
        takes its own token; otherwise the code is exchanged. The company is the ``company_id`` setting, else the
        environment's only company."""
        if self.setting("grant") == "client_credentials":
            if params.get("error") or str(params.get("admin_consent", "True")).lower() != "true":
                raise ConfigurationError("the administrator did not consent to the app for this tenant",
                                         hint="Ask a tenant administrator to connect (and consent for the "
                                              f"organisation). {params.get('error_description', '')}".strip())
            tokens = self._client_token()
        else:
            tokens = self._grant({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                                  "scope": f"{API_SCOPE} offline_access"})
        company = self.setting("company_id") or self._company(tokens.access_token)
        return TokenSet(**{**tokens.__dict__, "remote_company_id": company})

    def refresh(self, refresh_token: str) -> TokenSet:
        if self.setting("grant") == "client_credentials":
            return self._client_token()
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token,
                            "scope": f"{API_SCOPE} offline_access"})

    def _grant(self, data: dict) -> TokenSet:
        return oauth.token_request(self.url("token_url"), self.config.client_id, self.config.client_secret, data,
                                   client_auth="body")

    def _client_token(self) -> TokenSet:
        """Client credentials: no refresh token exists, so a marker stands in and ``refresh`` asks again."""
        tokens = self._grant({"grant_type": "client_credentials", "scope": API_SCOPE})
        return TokenSet(**{**tokens.__dict__, "refresh_token": "client_credentials"})  # nosec B105

    def _company(self, access_token: str) -> str:
        client = BusinessCentralClient(self.url("api_base"), "", lambda force: access_token,
                                       timeout=float(self.setting("timeout")))
        companies = client.request("GET", "companies").get("value") or []
        if len(companies) != 1:
            raise ConfigurationError(f"the Business Central environment has {len(companies)} companies",
                                     hint="Set the connection's company_id setting (the company's id), then "
                                          "connect again.")
        return str(companies[0]["id"])

    # -- documents ---------------------------------------------------------------------------------------------
    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        entity = doc.entity
        if entity == Entity.JOURNAL:  # by its batch name, which our number gives
            code = c.journal_code(doc.number)
            rows = list(self.client.rows("journals", {"$filter": f"code eq {quote(code)}"}))
            if not rows:
                return None
            found = self._read(entity, str(rows[0]["id"]))
            if len(found.raw.get("journalLines") or []) != len(doc.lines):
                # our batch, its create cut short before all its lines were in: they are written now
                found = self._write_cost(doc, mapping, RemoteRef(found.remote_id))
            return replace(found, adopted=True)
        entity_set, field, _ = t.ENTITIES[entity]
        ours = doc.name[:100] if entity in (Entity.CUSTOMER, Entity.ITEM) else doc.number[:35]
        query = f"{field} eq {quote(ours)}"
        if entity == Entity.PAYMENT:
            query += f" and customerId eq {mapping.refs[doc.customer_key]}"
        rows = list(self.client.rows(entity_set, {"$filter": query}))
        if entity in DOCUMENT_SETS and rows:
            customer = mapping.refs[doc.customer_key]
            mine = [r for r in rows if str(r.get("customerId")) == customer]
            if not mine:
                raise ValidationFailed(f"number {doc.number} is already used in Business Central by another "
                                       "customer", platform_code="duplicate", hint="Renumber the local document.")
            rows = mine
        if not rows:
            return None
        return self._read(entity, str(rows[0]["id"]), adopted=True)

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``idempotency_key`` is not sent: Business Central has none (see the module docstring)."""
        entity = doc.entity
        if entity in COSTS:
            if problems := self.preflight(doc, mapping):
                raise ConfigurationError("; ".join(problems), hint="Enter it in Business Central by hand.")
            return self._write_cost(doc, mapping, None)
        if entity in DOCUMENT_SETS or entity == Entity.PAYMENT:
            self._check_allocations(doc)
        if entity == Entity.PAYMENT:
            journal = self._journal(mapping.deposit_account)
            body = self.client.post(f"customerPaymentJournals({journal})/customerPayments",
                                    t.payment_payload(doc, mapping))
            self._refuse_taken_number(entity, doc.number, str(body["id"]))
            return self._read(entity, str(body["id"]))
        if entity in DOCUMENT_SETS:
            payload = {**t.header_payload(doc, mapping), t.ENTITIES[entity][2]: t.lines_payload(doc, mapping)}
            body = self.client.post(DOCUMENT_SETS[entity], payload)
            self._refuse_taken_number(entity, doc.number, str(body["id"]))
            if self.setting("post_documents"):
                self.client.action(f"{DOCUMENT_SETS[entity]}({body['id']})", "post")
            return self._read(entity, str(body["id"]))
        payload = (t.customer_payload(doc, self._home_currency()) if entity == Entity.CUSTOMER
                   else t.item_payload(doc))
        return t.result(entity, self.client.post(t.ENTITIES[entity][0], payload))

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """PATCH with ``If-Match`` our version (stale: ConflictError); a document's lines are then replaced."""
        entity = doc.entity
        if entity in COSTS:
            return self._write_cost(doc, mapping, ref)
        entity_set = t.ENTITIES[entity][0]
        tail = f"{entity_set}({ref.remote_id})"
        version = ref.version or str(self.client.get(tail).get("@odata.etag") or "*")
        if entity == Entity.CUSTOMER:
            self.client.patch(tail, t.customer_payload(doc, self._home_currency()), version)
        elif entity == Entity.ITEM:
            self.client.patch(tail, t.item_payload(doc), version)
        elif entity == Entity.PAYMENT:
            self._check_allocations(doc)
            self.client.patch(tail, t.payment_payload(doc, mapping), version)
        else:
            self._check_allocations(doc)
            self.client.patch(tail, t.header_payload(doc, mapping), version)
            nav = t.ENTITIES[entity][2]
            for line in self.client.get(f"{tail}/{nav}").get("value") or []:
                self.client.delete(f"{tail}/{nav}('{line['id']}')", str(line.get("@odata.etag") or "*"))
            for line in t.lines_payload(doc, mapping):
                self.client.post(f"{tail}/{nav}", line)
        return self._read(entity, ref.remote_id)

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """``Microsoft.NAV.cancel``. Business Central cancels posted documents only, so a draft is posted first."""
        tail = f"{DOCUMENT_SETS[entity]}({ref.remote_id})"
        if self.client.get(tail).get("status") == "Draft":
            self.client.action(tail, "post")
        self.client.action(tail, "cancel")
        return self.fetch(entity, ref.remote_id)

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        """Drafts and journal lines are deleted; customers and items are blocked (their history stays)."""
        tail = f"{t.ENTITIES[entity][0]}({ref.remote_id})"
        if entity == Entity.CUSTOMER:
            self.client.patch(tail, {"blocked": "All"}, "*")
        elif entity == Entity.ITEM:
            self.client.patch(tail, {"blocked": True}, "*")
        elif entity == Entity.JOURNAL:  # its lines first: we do not rely on the batch taking them with it
            self._clear_lines(ref.remote_id)
            self.client.delete(tail, "*")
        else:
            self.client.delete(tail, "*")

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        return self._read(entity, remote_id)

    def _read(self, entity: str, remote_id: str, adopted: bool = False) -> RemoteResult:
        body = self._body(entity, remote_id)
        return t.result(entity, body, adopted=adopted, balance=self._balance(entity, body))

    def _body(self, entity: str, remote_id: str) -> dict:
        if entity == Entity.JOURNAL:
            return self._journal_body(self.client.get(f"journals({remote_id})"))
        entity_set, _, nav = t.ENTITIES[entity]
        return self.client.get(f"{entity_set}({remote_id})", {"$expand": nav} if nav else None)

    def _refuse_taken_number(self, entity: str, number: str, new_id: str) -> None:
        """Business Central does not keep external document numbers unique: once our draft (or journal line) is
        in, another record with the same number means ours is a duplicate. Ours is deleted again (nothing is
        posted yet) and the create is refused as a duplicate. The create itself is the first request, so a lost
        answer leaves the record for the pipeline's search to find."""
        query = {"$filter": f"{t.ENTITIES[entity][1]} eq {quote(number[:35])}"}
        others = [r for r in self.client.rows(t.ENTITIES[entity][0], query) if str(r["id"]) != new_id]
        if not others:
            return
        self.client.delete(f"{t.ENTITIES[entity][0]}({new_id})", "*")
        raise DuplicateError(f"Business Central already has a {entity.replace('_', ' ')} with external document "
                             f"number {number}", platform_code="duplicate_number",
                             hint="If it is this document, it is linked automatically; otherwise renumber the "
                                  "local one.")

    def _check_allocations(self, doc: Snapshot) -> None:
        """Business Central applies a payment journal line or a credit memo to one invoice; a posted credit memo
        applies all of its amount."""
        applied = [a for a in getattr(doc, "allocations", ()) if a.amount]
        if self.setting("post_documents") and t.partial_application(doc) is not None:
            raise ValidationFailed(f"the credit note {doc.number} applies part of its amount to an invoice; a posted "
                                   "Business Central credit memo applies all of it", platform_code="partial_credit",
                                   hint="Apply the credit note in full, or apply it in Business Central (Apply "
                                        "Entries).")
        if len(applied) > 1:
            noun = "payment" if isinstance(doc, PaymentSnapshot) else "credit note"
            raise ValidationFailed(f"the {noun} {doc.number} is applied to {len(applied)} invoices; Business "
                                   "Central applies it to one", platform_code="one_invoice",
                                   hint=f"Split the {noun} per invoice, or apply it in Business Central.")

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        if isinstance(doc, JournalSnapshot):
            return c.journal_problems(doc, self._home_currency())
        if isinstance(doc, ExpenseSnapshot):
            return c.expense_problems(doc)
        try:
            self._check_allocations(doc)
        except ValidationFailed as exc:
            return [exc.message]
        return []

    # -- expenses and journals ------------------------------------------------------------------------------------
    def _write_cost(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef | None) -> RemoteResult:
        """Create (``ref`` None) or replace an expense's purchase invoice or a journal's batch lines."""
        entity = doc.entity
        if ref is not None and ref.version:
            current = self._read(entity, ref.remote_id)
            if current.version != ref.version:
                raise ConflictError(f"the {entity} changed in Business Central since it was last synced",
                                    platform_code="stale", raw=current.raw)
        if isinstance(doc, JournalSnapshot):
            if ref is None:
                remote_id = str(self.client.post("journals", c.journal_header(doc))["id"])
            else:
                remote_id = ref.remote_id
                self._clear_lines(remote_id)
            for line in c.journal_lines(doc, mapping):
                self.client.post(f"journals({remote_id})/journalLines", line)
            return self._read(entity, remote_id)
        vendor = self._vendor(doc.payee, doc.currency)
        paid_from = self._account_label(mapping.deposit_account)
        payload = c.expense_payload(doc, mapping, vendor, self._home_currency(), paid_from)
        if ref is None:
            body = self.client.post("purchaseInvoices", payload)
            self._refuse_taken_number(entity, doc.number, str(body["id"]))
            return self._read(entity, str(body["id"]))
        tail = f"purchaseInvoices({ref.remote_id})"
        self.client.patch(tail, c.expense_header(doc, vendor, self._home_currency()),
                          str(self.client.get(tail).get("@odata.etag") or "*"))
        for line in self.client.get(f"{tail}/purchaseInvoiceLines").get("value") or []:
            self.client.delete(f"{tail}/purchaseInvoiceLines('{line['id']}')", str(line.get("@odata.etag") or "*"))
        for line in payload["purchaseInvoiceLines"]:
            self.client.post(f"{tail}/purchaseInvoiceLines", line)
        return self._read(entity, ref.remote_id)

    def _clear_lines(self, journal_id: str) -> None:
        for line in self.client.get(f"journals({journal_id})/journalLines").get("value") or []:
            self.client.delete(f"journals({journal_id})/journalLines({line['id']})",
                               str(line.get("@odata.etag") or "*"))

    def _journal_body(self, journal: dict) -> dict:
        """A journal batch with its lines. Its version covers the lines (the batch's own ETag does not change with
        them), its time is the latest of theirs."""
        lines = self.client.get(f"journals({journal['id']})/journalLines").get("value") or []
        tags = "|".join([str(journal.get("@odata.etag") or "")] + [str(x.get("@odata.etag") or "") for x in lines])
        times = [str(x.get("lastModifiedDateTime") or "") for x in [journal, *lines]]
        return {**journal, "journalLines": lines, "lastModifiedDateTime": max(times),
                "@odata.etag": 'W/"' + hashlib.sha256(tags.encode()).hexdigest()[:32] + '"'}

    def _vendor(self, payee: str, currency: str) -> str:
        """The vendor an expense is bought from: found by its name, else created (in the expense's currency)."""
        name = payee.strip()[:100]
        known = self.__dict__.setdefault("_vendors", {})
        if name.casefold() not in known:
            rows = [r for r in self.client.rows("vendors", {"$filter": f"displayName eq {quote(name)}"})
                    if str(r.get("displayName") or "").casefold() == name.casefold()]
            if rows:
                known[name.casefold()] = str(rows[0]["id"])
            else:
                home = self._home_currency()
                known[name.casefold()] = str(self.client.post("vendors", {
                    "displayName": name, "currencyCode": "" if currency in ("", home) else currency})["id"])
        return known[name.casefold()]

    def _account_label(self, account_id: str | None) -> str:
        """``10100 Checking account``: the account an expense was paid from, named for staff."""
        if not account_id:
            return ""
        known = self.__dict__.setdefault("_account_labels", {})
        if account_id not in known:
            account = self.client.get(f"accounts({account_id})")
            known[account_id] = f"{account.get('number', '')} {account.get('displayName', '')}".strip()
        return known[account_id]

    # -- balances -----------------------------------------------------------------------------------------------
    def _balance(self, entity: str, body: dict) -> Decimal | None:
        """An invoice: what Business Central shows as remaining, less the payment journal lines and draft credit
        memos applied to it that are not posted yet. A credit memo: nothing left once applied to an invoice."""
        if entity == Entity.CREDIT_NOTE:
            total = rest.money(body.get("totalAmountIncludingTax"))
            if body.get("status") != "Draft" or "salesCreditMemoLines" not in body:
                return t.ZERO if str(body.get("invoiceId") or t.NO_ID) != t.NO_ID else total
            return None if total is None else total - t.applied_amount(body)
        if entity != Entity.INVOICE:
            return None
        remaining = rest.money(body.get("remainingAmount"))
        if remaining is None or body.get("status") in ("Canceled", "Paid"):
            return remaining
        return max(t.ZERO, remaining - self._pending(str(body["id"])))

    def _pending(self, invoice_id: str) -> Decimal:
        paid = sum((-(rest.money(r.get("amount")) or t.ZERO) for r in self.client.rows(
            "customerPayments", {"$filter": f"appliesToInvoiceId eq {invoice_id}"})), t.ZERO)
        credited = sum((t.applied_amount(r) for r in self.client.rows(
            "salesCreditMemos", {"$filter": f"invoiceId eq {invoice_id} and status eq 'Draft'",
                                 "$expand": "salesCreditMemoLines"})), t.ZERO)
        return paid + credited

    # -- payments: one journal per deposit account ------------------------------------------------------------------
    def _journal(self, deposit_account: str | None) -> str:
        """The customer payment journal whose balancing account is ``deposit_account``, made when missing."""
        if not deposit_account:
            raise ConfigurationError("no deposit account is mapped for payments",
                                     hint="Map a deposit account (the payment journal's balancing account).")
        cache = self.__dict__.setdefault("_journals", {})
        if deposit_account not in cache:
            rows = list(self.client.rows("customerPaymentJournals",
                                         {"$filter": f"balancingAccountId eq {deposit_account}"}))
            if rows:
                cache[deposit_account] = str(rows[0]["id"])
            else:
                account = self.client.get(f"accounts({deposit_account})")
                code = f"SYNC{str(account.get('number') or '')[-6:]}"
                made = self.client.post("customerPaymentJournals", {
                    "code": code, "displayName": f"Accounting sync, {account.get('displayName', '')}"[:50],
                    "balancingAccountId": deposit_account})
                cache[deposit_account] = str(made["id"])
        return cache[deposit_account]

    # -- platform -> local -----------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """Each entity set filtered on ``lastModifiedDateTime ge since`` (``since`` rounded down to Business
        Central's millisecond: ``gt`` would miss a change in the same millisecond). Deletions are not listed by
        Business Central: never reported here (reconciliation finds them)."""
        cursor = dt.datetime.now(dt.UTC)
        changes = []
        for entity in [e for e in entities if e in self.inbound_entities]:
            for row in self._changed(entity, since):
                voided = t.status(entity, row) == "voided"
                changes.append(RemoteChange(entity, str(row["id"]), "void" if voided else "update",
                                            self.config.remote_company_id, t.modified_at(row)))
        return changes, cursor

    def _changed(self, entity: str, since: dt.datetime) -> Iterator[dict]:
        query = {"$filter": f"lastModifiedDateTime ge {t.odata_time(since)}"}
        return self.client.rows(t.ENTITIES[entity][0], query)

    def remote_payment(self, remote_id: str) -> RemotePayment:
        return t.remote_payment(self.client.get(f"customerPayments({remote_id})"))

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        try:
            body = self._body(entity, remote_id)
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)
        return t.remote_document(entity, body, self._balance(entity, body))

    def remote_customer(self, remote_id: str) -> RemoteCustomer:
        return t.remote_customer(self._body(Entity.CUSTOMER, remote_id))

    def remote_item(self, remote_id: str) -> RemoteItem:
        return t.remote_item(self._body(Entity.ITEM, remote_id))

    # -- reconciliation ------------------------------------------------------------------------------------------
    def list_documents(self, entity: str, since: dt.datetime | None = None) -> Iterator[DocumentTotals]:
        """Every document of ``entity`` (changed since ``since``), from the list rows."""
        if entity == Entity.JOURNAL:  # ours only (their batch names), each read with its lines
            for row in self.client.rows("journals"):
                if str(row.get("code") or "").startswith(c.JOURNAL_PREFIX):
                    body = self._journal_body(row)
                    if since is None or (t.modified_at(body) or since) >= since:
                        yield t.totals(entity, body, None)
            return
        rows = self._changed(entity, since) if since else self.client.rows(t.ENTITIES[entity][0])
        for row in rows:
            yield t.totals(entity, row, self._balance(entity, row))

    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        return rest.read_totals(entity, remote_ids, lambda remote_id: self._totals(entity, remote_id))

    def _totals(self, entity: str, remote_id: str) -> DocumentTotals:
        body = self._body(entity, remote_id)
        return t.totals(entity, body, self._balance(entity, body))

    # -- reference data ------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        accounts = [a for a in self.client.rows("accounts")
                    if not a.get("blocked") and a.get("accountType", "Posting") == "Posting"]
        currencies = [str(c["code"]) for c in self.client.rows("currencies")]
        return rest.reference_data(accounts, self.client.rows("taxGroups"), account_kind, account_id="id",
                                   account_name="displayName", tax_id="code", tax_name="displayName",
                                   currencies=currencies, home_currency=self._home_currency())

    def _home_currency(self) -> str:
        if "_home" not in self.__dict__:
            info = self.client.get("companyInformation").get("value") or [{}]
            self.__dict__["_home"] = str(info[0].get("currencyCode") or "")
        return self.__dict__["_home"]
