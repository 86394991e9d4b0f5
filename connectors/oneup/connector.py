"""OneUp connector: snapshots in, OneUp calls out, classified errors back.

OneUp has no OAuth2. Every call carries HTTP Basic authentication with the account's **API email** and **API
key** (OneUp: Settings, API). The connection keeps the API email in its client id and the API key in its
(encrypted) client secret. Connecting checks both with one cheap read (``GET /v1/employees?limit=1``: GUESS that
every API user may list employees) and stores the ``base64(email:key)`` text as the connection's (encrypted)
access token; "refresh" checks the credentials again, so a revoked key turns the connection to "reconnect" after
one refused call. Staff connect with the usual Connect button: there is no consent page, the callback is reached at
once and ``exchange_code`` checks the credentials (a wrong key is refused there, before anything is stored).

OneUp has no idempotency key: invoices and payments carry our number in ``user_code`` (the sandbox refuses a second
invoice with the same ``user_code``: GUESS), customers and items are searched by name before they are created.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import cached_property
from urllib.parse import urlencode

from .. import oauth
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, TIMEOUT_FIELD, AccountKind, BaseConnector, Capabilities,
                    DemoChart, ReferenceData, RemoteChange, RemoteDocument, TokenSet)
from ..documents import Entity, Mapping, RemoteRef, RemoteResult, Snapshot
from ..errors import ConfigurationError, ConflictError, RemoteNotFound, ValidationFailed
from ..registry import register
from . import translate as t
from .client import API_BASE, OneUpClient, basic_token

#: The cheap read that checks the API email and key (GUESS: any list would do; this one no sync call uses).
CHECK_PATH = "employees"
#: How long a checked key is trusted before it is checked again (the key itself does not expire).
CHECK_EVERY = dt.timedelta(days=30)
#: OneUp account type -> AccountKind (type names are GUESSES)
ACCOUNT_KINDS = {"income": AccountKind.INCOME, "other_income": AccountKind.INCOME, "expense": AccountKind.EXPENSE,
                 "cost_of_sales": AccountKind.EXPENSE, "bank": AccountKind.DEPOSIT, "cash": AccountKind.DEPOSIT,
                 "accounts_receivable": AccountKind.RECEIVABLE, "sales_tax": AccountKind.TAX_PAYABLE}
DOCUMENTS = (Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE)


@register
class OneUpConnector(BaseConnector):
    id = "oneup"
    name = "OneUp"
    capabilities = Capabilities(
        # credit notes: GUESS (the resource ``credit_notes`` and its fields are not documented to us)
        # no refunds, expenses or journals: no such resource is documented to us (docs/connectors/oneup.md)
        entities=frozenset(Entity.SALES),
        # no documented void: emulated (the lines become one "Voided" line of 0, applications taken back)
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE}),
        delete=frozenset(DOCUMENTS),  # DELETE on the element URI (documented for every resource)
        currencies=None,  # the domain's currencies, from /v1/currencies
        idempotency_keys=False,  # none documented: our numbers and names stand in
        inbound=frozenset(),  # no documented modified-since filter: platform-side changes are not polled
        inbound_deletes=False,
        webhooks=False,  # none documented
    )
    #: GUESS: developers.oneup.com documents rate limits, but their values were not captured. A modest budget;
    #: a 429 still pauses the connection for its Retry-After.
    rate_limits = {"request": (120, 60.0)}
    concurrent_limit = 2  # GUESS (a public client of api.oneup.com keeps 2 requests in flight)
    token_refresh_margin = dt.timedelta(minutes=5)
    default_settings = {"api_base": API_BASE, "timeout": 30}
    settings_fields = (
        API_BASE_FIELD,
        replace(AUTHORIZE_URL_FIELD, help="A consent page to open on Connect. Empty: OneUp has none, Connect signs "
                "in with the API e-mail (client id) and API key (client secret) directly."),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.oneup.sandbox.OneUpSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Consulting Income"},
                           line_kind_income={"shipping": "Shipping Income", "fee": "Late Fee Income"},
                           discount="Discounts Given", deposit="Checking Account",
                           taxes={"GST 10%": "Taxable", "Exempt": "Non-taxable"})

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        return {"api_base": f"{base_url}/v1", "authorize_url": f"{base_url}/_connect/authorize"}

    # -- credentials -------------------------------------------------------------------------------------------
    @cached_property
    def client(self) -> OneUpClient:
        return OneUpClient(self.setting("api_base"), self.access_token, timeout=float(self.setting("timeout")),
                           throttle=self.throttle)

    def login(self) -> TokenSet:
        """Check the API email and key with one cheap read; the token is ``base64(email:key)``."""
        if not self.config.client_id or not self.config.client_secret:
            raise ConfigurationError("the OneUp connection lacks its API email or API key",
                                     hint="Set the client id to the OneUp API email and the client secret to the "
                                          "API key (OneUp: Settings, API), then press Connect.")
        token = basic_token(self.config.client_id, self.config.client_secret)
        client = OneUpClient(self.setting("api_base"), lambda force: token, timeout=float(self.setting("timeout")),
                             throttle=self.throttle)
        answer = client.request("GET", CHECK_PATH, params={"limit": 1})
        if not isinstance(answer, list):
            raise ValidationFailed("OneUp answered the credentials check with something other than a list",
                                   platform_code="login")
        expires = dt.datetime.now(dt.UTC) + CHECK_EVERY
        return TokenSet(token, token, expires, None, self.config.remote_company_id or self.config.client_id)

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """No consent page: straight back to the callback (the sandbox stands one in, for the demo's flow)."""
        if self.setting("authorize_url"):
            return oauth.authorization_url(self.setting("authorize_url"), self.config.client_id, redirect_uri, "",
                                           state)
        joiner = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{joiner}{urlencode({'code': 'api-key', 'state': state})}"

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        return self.login()

    def refresh(self, refresh_token: str) -> TokenSet:
        return self.login()

    # -- platform -> local -----------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """OneUp documents no modified-since filter: each list is read whole and the records whose ``updated_at`` is
        at or after ``since`` are reported (deletions are not: lists hold no deleted records). Not polled by the
        product (``inbound`` is off); reconciliation and the test harness use it. The cursor is the time we asked,
        to the second."""
        cursor = dt.datetime.now(dt.UTC).replace(microsecond=0)
        since = since.astimezone(dt.UTC).replace(microsecond=0)
        changes = []
        for entity in [e for e in entities if e in DOCUMENTS]:
            for row in self.client.list(t.ENTITIES[entity][0], sort="-created_at"):
                when = t.modified_at(row)
                if when is not None and when >= since:
                    changes.append(RemoteChange(entity, str(row["id"]), "update", self.config.remote_company_id,
                                                when))
        return changes, cursor

    # -- documents -----------------------------------------------------------------------------------------------
    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        entity = doc.entity
        path, field = t.ENTITIES[entity]
        if entity == Entity.CUSTOMER or entity == Entity.ITEM:
            rows = [r for r in self.client.list(path) if str(r.get(field, "")).casefold() == doc.name[:255].casefold()]
        else:
            customer = mapping.refs[doc.customer_key]
            rows = [r for r in self.client.list(path) if r.get(field) == doc.number[:t.NUMBER_MAX]]
            mine = [r for r in rows if t.customer_of(r) == customer]
            if entity == Entity.INVOICE and rows and not mine:
                raise ValidationFailed(f"number {doc.number} is already used in OneUp by another customer",
                                       platform_code="duplicate", hint="Renumber the local document.")
            rows = mine
        return t.result(entity, rows[0], adopted=True) if rows else None

    def _payload(self, doc: Snapshot, mapping: Mapping) -> dict:
        if doc.entity == Entity.CUSTOMER:
            return t.customer_payload(doc)
        if doc.entity == Entity.ITEM:
            return t.item_payload(doc)
        if doc.entity == Entity.INVOICE:
            return t.invoice_payload(doc, mapping)
        if doc.entity == Entity.CREDIT_NOTE:
            return t.credit_payload(doc, mapping)
        return t.payment_payload(doc, mapping)

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``idempotency_key`` is not sent: OneUp has none (see the module docstring)."""
        body = self.client.request("POST", t.ENTITIES[doc.entity][0], body=self._payload(doc, mapping))
        return t.result(doc.entity, body)

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """Reads first and refuses to overwrite a record changed since our version (OneUp has no version token).
        ``PUT`` ignores missing fields (documented), so the whole payload is sent."""
        current = self.fetch(doc.entity, ref.remote_id)
        if ref.version and current.version != ref.version:
            raise ConflictError(f"the {doc.entity} changed in OneUp since it was last synced",
                                platform_code="stale", raw=current.raw)
        path = f"{t.ENTITIES[doc.entity][0]}/{ref.remote_id}"
        return t.result(doc.entity, self.client.request("PUT", path, body=self._payload(doc, mapping)))

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """Emulated: the record keeps its number, customer and date; its lines become one "Voided" line of 0.00 and
        a credit note's applications are taken back. The sandbox refuses it for an invoice with payments applied
        (its total would fall below what was paid): that error reaches staff as OneUp words it."""
        path = f"{t.ENTITIES[entity][0]}/{ref.remote_id}"
        body = {"order_lines": t.VOID_LINES, "public_note": t.VOID_NOTE}
        if entity == Entity.CREDIT_NOTE:
            body["invoices"] = []
        return t.result(entity, self.client.request("PUT", path, body=body))

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        """``DELETE`` on the element. Customers and items are never deleted by the sync."""
        if entity not in self.capabilities.delete:
            raise ConfigurationError(f"OneUp connector does not delete a {entity.replace('_', ' ')}")
        self.client.request("DELETE", f"{t.ENTITIES[entity][0]}/{ref.remote_id}")

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        return t.result(entity, self.client.request("GET", f"{t.ENTITIES[entity][0]}/{remote_id}"))

    def remote_document(self, entity: str, remote_id: str):
        try:
            return t.remote_document(entity, self.client.request("GET", f"{t.ENTITIES[entity][0]}/{remote_id}"))
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)

    # -- reconciliation ------------------------------------------------------------------------------------------
    def list_documents(self, entity: str, since: dt.datetime | None = None):
        """Every invoice, payment or credit note (changed since ``since``), page by page. OneUp documents no
        modified-since filter, so the whole list is read, newest first (``sort=-created_at``, seen in public
        scripts), and filtered here by ``updated_at``."""
        if entity not in DOCUMENTS:
            return
        for row in self.client.list(t.ENTITIES[entity][0], sort="-created_at"):
            when = t.modified_at(row)
            if since is None or when is None or when >= since:
                yield t.totals(entity, row)

    # -- reference data ------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        accounts = [a for a in self.client.list("accounts") if a.get("active", True)]
        kinds = {str(a["id"]): ACCOUNT_KINDS.get(str(a.get("type") or "").lower(), AccountKind.OTHER)
                 for a in accounts}
        control: dict[str, tuple[str, str]] = {}
        for a in accounts:
            if kinds[str(a["id"])] in (AccountKind.RECEIVABLE, AccountKind.TAX_PAYABLE):
                control.setdefault(kinds[str(a["id"])], (str(a["id"]), a["name"]))
        currencies = list(self.client.list("currencies"))
        codes = frozenset(str(c["iso_code"]) for c in currencies if c.get("iso_code"))
        home = next((str(c["iso_code"]) for c in currencies if c.get("main_currency")), "") or "USD"
        return ReferenceData(accounts={str(a["id"]): a["name"] for a in accounts}, tax_codes=dict(t.TAX_CODES),
                             currencies=codes | {home}, home_currency=home, account_kinds=kinds,
                             control_accounts=control)
