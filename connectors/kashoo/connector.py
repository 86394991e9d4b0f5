"""Kashoo (TrulySmall Accounting) connector: snapshots in, Kashoo calls out, classified errors back.

Kashoo has no OAuth2 for us. A connection signs in with ``POST /api/authTokens`` (HTTP Basic: the Kashoo login
email and password) and Kashoo answers a token object; every call then sends ``Authorization: TOKEN json:{token}``.
The connection keeps the email in its client id and the password in its (encrypted) client secret; the
``json:{...}`` text is stored as its access token (encrypted) with the token's own ``expiryDate``, so the shared
token store signs in again shortly before it lapses and once more when Kashoo answers 401. There is no refresh
grant: "refresh" is a new sign-in. Staff connect with the usual Connect button: there is no consent page, the
callback is reached at once and ``exchange_code`` signs in (a wrong password is refused there, before anything is
stored). The business id goes in the path (``/api/businesses/{businessId}/...``): the ``business_id`` setting.

Kashoo has no idempotency key: invoices carry our number (the sandbox refuses a second one, a guess), customers are
searched by name and payments by our number before they are created.

Expenses go as a bill paid at once by a bill payment, supplier bills as a bill left open (``costs.py``); refunds and
journals are not sent (no record type for them in any source we could read: docs/connectors/kashoo.md).
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
from dataclasses import replace
from functools import cached_property
from urllib.parse import urlencode

from .. import oauth
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, TIMEOUT_FIELD, AccountKind, BaseConnector, Capabilities,
                    DemoChart, ReferenceData, RemoteChange, RemoteDocument, Setting, TokenSet)
from ..documents import Entity, Mapping, RemoteRef, RemoteResult, Snapshot
from ..errors import ConfigurationError, ConflictError, RemoteNotFound, SyncError, ValidationFailed
from ..registry import register
from . import costs as c
from . import translate as t
from .client import KashooClient

API_BASE = "https://api.kashoo.com/api"
#: How long we ask a token to last (``duration``, milliseconds; a guess at the parameter). Kashoo's answer decides.
TOKEN_DURATION = dt.timedelta(hours=12)
#: Kashoo account type -> AccountKind (type names are guesses)
ACCOUNT_KINDS = {"INCOME": AccountKind.INCOME, "OTHER_INCOME": AccountKind.INCOME, "EXPENSE": AccountKind.EXPENSE,
                 "COST_OF_SALES": AccountKind.EXPENSE, "BANK": AccountKind.DEPOSIT, "CASH": AccountKind.DEPOSIT,
                 "ACCOUNTS_RECEIVABLE": AccountKind.RECEIVABLE, "SALES_TAX": AccountKind.TAX_PAYABLE}


class CredentialsClient(KashooClient):
    """The sign-in call: HTTP Basic with the login email and password instead of a token."""

    auth_scheme = "Basic"


@register
class KashooConnector(BaseConnector):
    id = "kashoo"
    name = "Kashoo"
    capabilities = Capabilities(
        # an expense: a bill and its payment; a supplier bill: a bill left open (costs.py)
        entities=frozenset({*Entity.SALES, Entity.EXPENSE, Entity.BILL}),
        # no documented void: emulated (the lines become one "Voided" line of 0, applications taken back)
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE}),
        # DELETE on the record (guessed); an expense's bill with its payment (Kashoo voids neither); a supplier bill
        delete=frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, Entity.EXPENSE, Entity.BILL}),
        currencies=None,  # the business's currencies, from its record
        idempotency_keys=False,  # none documented: our numbers and names stand in
        inbound=frozenset(),  # lists filter by document date, not by modification: no changes feed
        webhooks=False,
    )
    #: Expenses and supplier bills are reconciled like the sales documents (their bill read back by id).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, Entity.EXPENSE, Entity.BILL})
    token_refresh_margin = dt.timedelta(minutes=5)
    default_settings = {"api_base": API_BASE, "timeout": 30, "business_id": ""}
    settings_fields = (
        API_BASE_FIELD,
        Setting("business_id", "Business id", "The Kashoo business the connection works in (the number in "
                "Kashoo's addresses). Empty: the remote company id."),
        replace(AUTHORIZE_URL_FIELD, help="A consent page to open on Connect. Empty: Kashoo has none, Connect signs in "
                "with the login e-mail (client id) and password (client secret) directly."),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.kashoo.sandbox.KashooSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Consulting Income"},
                           line_kind_income={"shipping": "Shipping Income", "fee": "Late Fee Income"},
                           discount="Discounts Given", deposit="Chequing Account",
                           taxes={"GST 10%": "Taxable", "Exempt": "Non-taxable"},
                           expense="Office Supplies", paid_from="Chequing Account")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        from .sandbox.seed import BUSINESS_ID  # the sandbox's own, public value (not a secret)
        return {"api_base": f"{base_url}/api", "business_id": BUSINESS_ID,
                "authorize_url": f"{base_url}/_connect/authorize"}

    # -- credentials and the token ---------------------------------------------------------------------------
    def business_id(self) -> str:
        business = self.setting("business_id") or self.config.remote_company_id
        if not business:
            raise ConfigurationError("the Kashoo connection names no business",
                                     hint="Set the connection's business_id setting (the number in Kashoo's URLs).")
        return str(business)

    @cached_property
    def client(self) -> KashooClient:
        return KashooClient(f"{str(self.setting('api_base')).rstrip('/')}/businesses/{self.business_id()}",
                            self.access_token, timeout=float(self.setting("timeout")), throttle=self.throttle)

    def login(self) -> TokenSet:
        """``POST /api/authTokens``: a new token (the only way to get one; it also checks the credentials)."""
        if not self.config.client_id or not self.config.client_secret:
            raise ConfigurationError("the Kashoo connection lacks its login email or password",
                                     hint="Set the client id to the Kashoo login email and the client secret to "
                                          "its password, then press Connect.")
        basic = base64.b64encode(f"{self.config.client_id}:{self.config.client_secret}".encode()).decode()
        client = CredentialsClient(self.setting("api_base"), lambda force: basic,
                                   timeout=float(self.setting("timeout")), throttle=self.throttle)
        body = client.request("POST", "authTokens", kind="login",
                              params={"duration": int(TOKEN_DURATION.total_seconds() * 1000)})
        if not isinstance(body, dict) or not body.get("authenticationCode"):
            raise ValidationFailed("Kashoo answered the sign-in without a token", platform_code="login")
        token = "json:" + json.dumps(body, separators=(",", ":"), default=str)
        expiry = body.get("expiryDate")
        expires = (dt.datetime.fromtimestamp(int(expiry) / 1000, dt.UTC) if expiry is not None
                   else dt.datetime.now(dt.UTC) + TOKEN_DURATION)
        return TokenSet(token, token, expires, None, self.business_id())

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """No consent page: straight back to the callback (the sandbox stands one in, for the demo's flow)."""
        if self.setting("authorize_url"):
            return oauth.authorization_url(self.setting("authorize_url"), self.config.client_id, redirect_uri, "",
                                           state)
        joiner = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{joiner}{urlencode({'code': 'login', 'state': state})}"

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        return self.login()

    def refresh(self, refresh_token: str) -> TokenSet:
        return self.login()

    # -- platform -> local -----------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """Kashoo's lists filter by the record's date, not by when it changed: each list is read whole and the
        records whose ``modified`` is at or after ``since`` are reported (deletions are not: lists hold no deleted
        records). The cursor is the time we asked, to the second."""
        cursor = dt.datetime.now(dt.UTC).replace(microsecond=0)
        since = since.astimezone(dt.UTC).replace(microsecond=0)
        changes = []
        for entity in [e for e in entities if e in t.ENTITIES and e not in (Entity.CUSTOMER, Entity.ITEM)]:
            for row in self.client.list(t.ENTITIES[entity][0]):
                when = t.modified_at(row)
                if when is not None and when >= since:
                    changes.append(RemoteChange(entity, str(row["id"]), "update", self.business_id(), when))
        return changes, cursor

    # -- documents -----------------------------------------------------------------------------------------------
    def _rows_on(self, entity: str, day) -> list[dict]:
        return list(self.client.list(t.ENTITIES[entity][0], startDate=day.isoformat(), endDate=day.isoformat()))

    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        entity = doc.entity
        if entity in (Entity.CUSTOMER, Entity.ITEM):
            rows = [r for r in self.client.list(t.ENTITIES[entity][0])
                    if str(r.get("name", "")).casefold() == doc.name[:100].casefold()]
        elif entity == Entity.INVOICE:
            customer = mapping.refs[doc.customer_key]
            rows = [r for r in self._rows_on(entity, doc.issue_date) if r.get("number") == doc.number[:30]]
            mine = [r for r in rows if str(r.get("contactId", "")) == customer]
            if rows and not mine:
                raise ValidationFailed(f"number {doc.number} is already used in Kashoo by another customer",
                                       platform_code="duplicate", hint="Renumber the local document.")
            rows = mine
        elif entity == Entity.EXPENSE:
            payee = doc.payee[:100].casefold()
            rows = [r for r in self._rows_on(entity, doc.date) if r.get("number") == doc.number[:c.NUMBER_LENGTH]
                    and str(r.get("contactName") or payee).casefold() == payee]
            if rows and not self._bill_payments(rows[0]):  # the answer to its payment was lost: paid now
                contact = str(rows[0].get("contactId") or self._payee(doc.payee))
                self.client.request("POST", c.BILL_PAYMENTS, body=c.payment_payload(doc, mapping, contact, rows[0]))
                rows = [self.client.request("GET", f"{c.BILLS}/{rows[0]['id']}")]
        elif entity == Entity.BILL:  # the supplier's number (ours without one), owed to that supplier
            supplier = doc.supplier[:100].casefold()
            rows = [r for r in self._rows_on(entity, doc.issue_date) if r.get("number") == c.bill_number(doc)
                    and str(r.get("contactName") or supplier).casefold() == supplier]
        else:
            customer = mapping.refs[doc.customer_key]
            day = doc.issue_date if entity == Entity.CREDIT_NOTE else doc.date
            rows = [r for r in self._rows_on(entity, day)
                    if r.get("number") == doc.number[:30] and str(r.get("contactId", "")) == customer]
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

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        return c.expense_problems(doc, mapping) if doc.entity == Entity.EXPENSE else []

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``idempotency_key`` is not sent: Kashoo has none (see the module docstring)."""
        if doc.entity == Entity.EXPENSE:
            return self._send_expense(doc, mapping)
        if doc.entity == Entity.BILL:
            return t.result(doc.entity, self._write_bill(doc, mapping, None)[1])
        body = self.client.request("POST", t.ENTITIES[doc.entity][0], body=self._payload(doc, mapping))
        return t.result(doc.entity, body)

    # -- expenses: a bill and the payment of it ----------------------------------------------------------------
    def _payee(self, name: str, fresh: bool = False) -> str:
        """The contact the expense's bill is owed to: found by name, else created; remembered per business
        (``fresh``: looked up again, for a remembered one Kashoo no longer knows)."""
        wanted = name[:100].casefold()
        key = (str(self.setting("api_base")), self.business_id(), wanted)
        if fresh or key not in _PAYEES:
            found = next((str(row["id"]) for row in self.client.list("contacts")
                          if str(row.get("name", "")).casefold() == wanted), None)
            _PAYEES[key] = found or str(self.client.request("POST", "contacts", body={"name": name[:100]})["id"])
        return _PAYEES[key]

    def _write_bill(self, doc: Snapshot, mapping: Mapping, bill_id: str | None) -> tuple[str, dict]:
        """The expense's or supplier bill's bill created (or rewritten when ``bill_id``); its contact id with it. A
        refusal with a remembered payee looks the payee up again once (the contact may have been deleted in
        Kashoo)."""
        supplier = doc.entity == Entity.BILL
        name = doc.supplier if supplier else doc.payee

        def send(contact: str) -> dict:
            body = (c.supplier_bill_payload if supplier else c.bill_payload)(doc, mapping, contact)
            if bill_id is None:
                return self.client.request("POST", c.BILLS, body=body)
            return self.client.request("PUT", f"{c.BILLS}/{bill_id}", body=body)

        contact = self._payee(name)
        try:
            return contact, send(contact)
        except ValidationFailed:
            again = self._payee(name, fresh=True)
            if again == contact:
                raise
            return again, send(again)

    def _bill_payments(self, bill: dict) -> list[dict]:
        """The bill payments applied to ``bill`` (listed on its date: we pay a bill on its own date)."""
        day = str(bill.get("date") or "")[:10]
        rows = self.client.list(c.BILL_PAYMENTS, **({"startDate": day, "endDate": day} if day else {}))
        return [row for row in rows if c.pays(row, str(bill["id"]))]

    def _send_expense(self, doc: Snapshot, mapping: Mapping, bill_id: str | None = None) -> RemoteResult:
        """The bill (created, or rewritten when ``bill_id``), then its payment in full; read back after it. A new
        bill whose payment is refused is deleted again, so a retry starts clean."""
        problems = c.expense_problems(doc, mapping)
        if problems:
            raise ValidationFailed(problems[0], platform_code="preflight")
        contact, bill = self._write_bill(doc, mapping, bill_id)
        try:
            self.client.request("POST", c.BILL_PAYMENTS, body=c.payment_payload(doc, mapping, contact, bill))
        except SyncError:
            if bill_id is None:  # else the bill stays unpaid; the search before the next create finds it by number
                with contextlib.suppress(SyncError):
                    self.client.request("DELETE", f"{c.BILLS}/{bill['id']}")
            raise
        return self.fetch(Entity.EXPENSE, str(bill["id"]))

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """Reads first and refuses to overwrite a record changed since our version (Kashoo has no version token)."""
        current = self.fetch(doc.entity, ref.remote_id)
        if ref.version and current.version != ref.version:
            raise ConflictError(f"the {doc.entity} changed in Kashoo since it was last synced",
                                platform_code="stale", raw=current.raw)
        if doc.entity == Entity.EXPENSE:  # its payment taken back, the bill rewritten, paid again
            for payment in self._bill_payments(current.raw):
                self.client.request("DELETE", f"{c.BILL_PAYMENTS}/{payment['id']}")
            return self._send_expense(doc, mapping, ref.remote_id)
        if doc.entity == Entity.BILL:  # rewritten whole (Kashoo refuses a total below what was paid on it)
            return t.result(doc.entity, self._write_bill(doc, mapping, ref.remote_id)[1])
        path = f"{t.ENTITIES[doc.entity][0]}/{ref.remote_id}"
        return t.result(doc.entity, self.client.request("PUT", path, body=self._payload(doc, mapping)))

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """Emulated: the record keeps its number, customer and date; its lines become one "Voided" line of 0 and a
        credit note's applications are taken back. Kashoo refuses it for an invoice with payments applied (its
        total would fall below what was paid): that error reaches staff as it is."""
        path = f"{t.ENTITIES[entity][0]}/{ref.remote_id}"
        current = self.client.request("GET", path)
        body = {k: current.get(k) for k in t.EDITABLE[entity] if current.get(k) is not None}
        body.update(lineItems=t.VOID_LINES, memo=t.VOID_MEMO, currency=current.get("currency"))
        if entity == Entity.CREDIT_NOTE:
            body["invoices"] = []
        return t.result(entity, self.client.request("PUT", path, body=body))

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        """``DELETE`` on the record. Customers and items are never deleted by the sync."""
        if entity not in self.capabilities.delete:
            raise ConfigurationError(f"Kashoo connector does not delete a {entity.replace('_', ' ')}")
        if entity == Entity.EXPENSE:  # a bill with payments applied cannot be deleted: its payment first
            bill = self.client.request("GET", f"{c.BILLS}/{ref.remote_id}")
            for payment in self._bill_payments(bill):
                self.client.request("DELETE", f"{c.BILL_PAYMENTS}/{payment['id']}")
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
        """Every invoice, payment or credit note (modified since ``since``), page by page. Kashoo's date range
        filters by the document's date, not by when it changed, so the whole list is read and filtered here."""
        if entity not in (Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE):
            return
        for row in self.client.list(t.ENTITIES[entity][0]):
            when = t.modified_at(row)
            if since is None or when is None or when >= since:
                yield t.totals(entity, row)

    # -- reference data ------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        business = self.client.request("GET", self.client.base_url)  # the business record itself
        accounts = [a for a in self.client.list("accounts") if not a.get("archived")]
        kinds = {str(a["id"]): ACCOUNT_KINDS.get(str(a.get("type") or "").upper(), AccountKind.OTHER)
                 for a in accounts}
        control: dict[str, tuple[str, str]] = {}
        for a in accounts:
            if kinds[str(a["id"])] in (AccountKind.RECEIVABLE, AccountKind.TAX_PAYABLE):
                control.setdefault(kinds[str(a["id"])], (str(a["id"]), a["name"]))
        home = str(business.get("currency") or "USD")
        currencies = frozenset(str(c) for c in business.get("currencies") or [home])
        return ReferenceData(accounts={str(a["id"]): a["name"] for a in accounts}, tax_codes=dict(t.TAX_CODES),
                             currencies=currencies | {home}, home_currency=home, account_kinds=kinds,
                             control_accounts=control)


#: (API base, business, payee name folded) -> the contact id an expense's bill is owed to, learnt once.
_PAYEES: dict[tuple[str, str, str], str] = {}


def forget_remembered_items() -> None:
    """Forget the payees learnt (the test harness calls this when it empties a sandbox)."""
    _PAYEES.clear()
