"""Oracle NetSuite connector over REST web services (record/v1 and SuiteQL).

**Credentials.** OAuth 2.0 (authorization code) by default: the connection's client id and secret are the
integration record's, Connect opens NetSuite's consent page and the kit's token store refreshes the 60-minute
access tokens. Token-based authentication (TBA) instead when the ``token_id`` setting is given: every request is
signed with the integration's consumer key and secret (the connection's client id and secret) and the access token
made in NetSuite's UI; Connect then checks the token with one cheap read (``login``), and "renewing" it is that check
again (a TBA token does not expire; a revoked one stays refused, an ``AuthError``).

**No duplicates.** Every create carries our key twice: ``X-NetSuite-Idempotency-Key`` (a resend of a write whose
answer was lost is refused with the first request's ``Location``, which the client reads as the record made) and
``externalId`` (unique per record type): ``find_existing`` reads ``<type>/eid:<externalId>``, and a create NetSuite
refuses while a record with our external id exists is a ``DuplicateError``.

**Lines.** A NetSuite line always names an item and posts to the item's income account, so a line's mapped income
account is honoured by choosing an active non-inventory sale item on that account (SuiteQL, once per connector);
a line with a synced item uses it; with no account mapped, the connection's ``default_item``.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import replace
from decimal import Decimal
from functools import cached_property
from urllib.parse import urlencode

from .. import oauth, rest
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, SCOPE_FIELD, TIMEOUT_FIELD, TOKEN_URL_FIELD, AccountKind,
                    BaseConnector, Capabilities, DemoChart, ReferenceData, Refused, RemoteChange, RemoteDocument,
                    RemotePayment, Setting, TokenSet)
from ..documents import (BillSnapshot, Entity, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot, RemoteRef,
                         RemoteResult, Snapshot)
from ..errors import ConfigurationError, ConflictError, DuplicateError, RemoteNotFound, SyncError, ValidationFailed
from ..registry import register
from . import costs as c
from . import errors
from . import translate as t
from .client import NetSuiteClient

#: SuiteQL ``transaction.type`` of each transaction entity.
TRAN_TYPES = {Entity.INVOICE: "CustInvc", Entity.PAYMENT: "CustPymt", Entity.CREDIT_NOTE: "CustCred",
              Entity.REFUND: "CustRfnd", Entity.EXPENSE: "Check", Entity.JOURNAL: "Journal",
              Entity.BILL: "VendBill"}
#: SuiteQL's ``account.accttype`` -> ours (Undeposited Funds and a tax liability are told by name).
ACCOUNT_KINDS = {"Income": AccountKind.INCOME, "OthIncome": AccountKind.INCOME, "Expense": AccountKind.EXPENSE,
                 "OthExpense": AccountKind.EXPENSE, "COGS": AccountKind.EXPENSE, "Bank": AccountKind.DEPOSIT,
                 "AcctRec": AccountKind.RECEIVABLE, "CredCard": AccountKind.CREDIT_CARD}
UNDEPOSITED = "undeposited funds"
#: Sublists a write of each entity replaces whole (``?replace=``): NetSuite otherwise merges the lines it is sent.
SUBLISTS = {Entity.INVOICE: "item", Entity.CREDIT_NOTE: "item,apply", Entity.PAYMENT: "apply",
            Entity.REFUND: "apply", Entity.EXPENSE: "expense", Entity.JOURNAL: "line",
            Entity.BILL: "expense"}
#: How long a checked TBA token is trusted before the token store checks it again (it has no expiry).
CHECK_EVERY = dt.timedelta(days=30)
STAMP = "%Y-%m-%d %H:%M:%S"


def host(account_id: str) -> str:
    """The account's host part: lower case, ``_`` as ``-`` (``1234567_SB1`` -> ``1234567-sb1``)."""
    return account_id.strip().lower().replace("_", "-")


def account_kind(row: dict) -> str:
    kind, name = str(row.get("accttype") or ""), str(row.get("fullname") or "").lower()
    if kind == "OthCurrAsset" and name.rsplit(":", 1)[-1].strip() == UNDEPOSITED:
        return AccountKind.DEPOSIT
    if kind == "OthCurrLiab" and "tax" in name:
        return AccountKind.TAX_PAYABLE
    return ACCOUNT_KINDS.get(kind, AccountKind.OTHER)


def sql_stamp(when: dt.datetime) -> str:
    """A SuiteQL timestamp literal, to the second, in UTC (see docs/connectors/netsuite.md: a guess at the zone)."""
    moment = (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    return f"TO_TIMESTAMP('{moment.strftime(STAMP)}', 'YYYY-MM-DD HH24:MI:SS')"


def sql_time(value) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(str(value), STAMP).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


@register
class NetSuiteConnector(BaseConnector):
    id = "netsuite"
    name = "Oracle NetSuite"
    capabilities = Capabilities(
        entities=frozenset({*Entity.ALL, Entity.BILL}),  # supplier bills as vendor bills (costs.py)
        # record/v1 has no void action: emulated (one "Voided" line of 0, a credit memo's applications taken back)
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE}),
        #: Customer refunds, checks (our expenses) and journal entries voided here are deleted there: NetSuite voids
        #: them only in the UI ("Voiding of checks is not supported in REST web services"); a vendor bill likewise.
        delete=frozenset({*Entity.ALL, Entity.BILL}),
        kept_lines=True,  # a restocking fee is a credit memo line with a negative rate, on its income item
        # customer refunds, checks and journal entries we sent, deleted (or a check voided) in NetSuite's UI
        inbound=frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.RETURNS_AND_COSTS}),
        inbound_creates=frozenset({Entity.PAYMENT}),  # a payment recorded in NetSuite on a synced invoice
        inbound_deletes=True,  # SuiteQL's deletedrecord
        idempotency_keys=True,  # X-NetSuite-Idempotency-Key
    )
    #: Refunds, expenses and journals are reconciled too (read back by id, like the sales documents).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.RETURNS_AND_COSTS,
                                    Entity.BILL})
    #: The account's limit is 15 concurrent requests (Tier 1), shared with every other integration of the account:
    #: we take a third of it.
    concurrent_limit = 5
    default_settings = {"scope": "rest_webservices", "timeout": 30, "subsidiary": "", "default_item": "",
                        "expense_payee": ""}
    settings_fields = (
        Setting("account_id", "Account ID", "The NetSuite account id (Setup > Company > Company Information), e.g. "
                "1234567 or 1234567_SB1 for a sandbox account. It names the API and sign-in addresses.",
                required=True),
        Setting("default_item", "Line item", "The internal id of the non-inventory sale item a line is booked on "
                "when it has no synced item and no income account mapped (a NetSuite line is always on an item, "
                "and posts to that item's income account).", required=True),
        Setting("subsidiary", "Subsidiary", "OneWorld accounts: the internal id of the subsidiary new customers "
                "belong to. Empty on accounts without subsidiaries."),
        Setting("expense_payee", "Expense payee", "The internal id of the vendor an expense's check is written to "
                "(NetSuite requires a payee on a check; the expense's own payee goes in the check's memo). Needed "
                "only to send expenses."),
        Setting("token_id", "TBA token ID", "Token-based authentication instead of OAuth 2.0: the access token's "
                "id (Setup > Users/Roles > Access Tokens). Empty: Connect uses OAuth 2.0."),
        Setting("token_secret", "TBA token secret", "The access token's secret (kept when left empty).",
                secret=True),
        SCOPE_FIELD,
        replace(API_BASE_FIELD, help=API_BASE_FIELD.help + " Empty: https://<account>.suitetalk.api.netsuite.com/"
                "services/rest."),
        replace(AUTHORIZE_URL_FIELD, help=AUTHORIZE_URL_FIELD.help + " Empty: the account's "
                "app.netsuite.com/app/login/oauth2/authorize.nl."),
        replace(TOKEN_URL_FIELD, help=TOKEN_URL_FIELD.help + " Empty: the account's REST token endpoint."),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.netsuite.sandbox.NetSuiteSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Service Revenue"},
                           line_kind_income={"shipping": "Shipping Income", "restocking_fee": "Restocking Fees",
                                             "return_shipping": "Shipping Income"},
                           discount="Discounts Given", deposit="Checking",
                           taxes={"GST 10%": "Sales Tax 10%", "Exempt": "Tax Exempt"},
                           refund="Checking", expense="Postage and Delivery", paid_from="Checking")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        from .sandbox import seed  # noqa: PLC0415 - the sandbox's public account and items
        return {"account_id": seed.ACCOUNT_ID, "api_base": f"{base_url}/services/rest",
                "authorize_url": f"{base_url}/app/login/oauth2/authorize.nl",
                "token_url": f"{base_url}/services/rest/auth/oauth2/v1/token", "default_item": seed.ITEMS[0][0],
                "subsidiary": seed.SUBSIDIARY, "expense_payee": seed.VENDORS[0][0]}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        return errors.refused_references(exc)

    # -- addresses and the client -----------------------------------------------------------------------------
    def url(self, name: str) -> str:
        """``api_base``, ``authorize_url`` or ``token_url``: the setting when given, else the account's."""
        if self.setting(name):
            return str(self.setting(name)).rstrip("/")
        account = str(self.setting("account_id") or "")
        if not account:
            raise ConfigurationError("the NetSuite connection names no account",
                                     hint="Set the connection's account_id (Setup > Company > Company Information).")
        api = f"https://{host(account)}.suitetalk.api.netsuite.com/services/rest"
        return {"api_base": api, "token_url": f"{api}/auth/oauth2/v1/token",
                "authorize_url": f"https://{host(account)}.app.netsuite.com/app/login/oauth2/authorize.nl"}[name]

    @property
    def uses_tba(self) -> bool:
        return bool(self.setting("token_id"))

    @cached_property
    def client(self) -> NetSuiteClient:
        kwargs = {"timeout": float(self.setting("timeout")), "throttle": self.throttle}
        if self.uses_tba:
            credentials = (str(self.setting("account_id") or ""), self.config.client_id, self.config.client_secret,
                           str(self.setting("token_id")), str(self.setting("token_secret") or ""))
            return NetSuiteClient(self.url("api_base"), None, tba_credentials=credentials, **kwargs)
        return NetSuiteClient(self.url("api_base"), self.access_token, **kwargs)

    # -- OAuth 2.0, or a TBA token checked -------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """NetSuite's consent page; with TBA there is none (the token is made in NetSuite's UI): straight back to
        the callback, whose exchange checks the token."""
        if self.uses_tba:
            joiner = "&" if "?" in redirect_uri else "?"
            return f"{redirect_uri}{joiner}{urlencode({'code': 'tba', 'state': state})}"
        return oauth.authorization_url(self.url("authorize_url"), self.config.client_id, redirect_uri,
                                       self.setting("scope"), state)

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        if self.uses_tba:
            return self.login()
        tokens = self._grant({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        return replace(tokens, remote_company_id=str(self.setting("account_id") or ""))

    def refresh(self, refresh_token: str) -> TokenSet:
        if self.uses_tba:
            return self.login()
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _grant(self, data: dict) -> TokenSet:
        return oauth.token_request(self.url("token_url"), self.config.client_id, self.config.client_secret, data)

    def login(self) -> TokenSet:
        """TBA: one cheap signed read (the base currency); the token store keeps the token id as the access token."""
        list(self.client.suiteql("SELECT id FROM currency WHERE isbasecurrency = 'T'"))
        token = str(self.setting("token_id"))
        return TokenSet(token, token, dt.datetime.now(dt.UTC) + CHECK_EVERY, None, str(self.setting("account_id")))

    # -- documents to records ---------------------------------------------------------------------------------------
    def body(self, doc: Snapshot, mapping: Mapping) -> dict:
        if doc.entity == Entity.CUSTOMER:
            return t.customer(doc, str(self.setting("subsidiary") or ""))
        if doc.entity == Entity.ITEM:
            return t.item(doc, mapping.item_account)
        if doc.entity == Entity.PAYMENT:
            return {**t.payment(doc, mapping), "currency": self.currency_ref(doc.currency)}
        if isinstance(doc, RefundSnapshot):
            if problems := c.refund_problems(doc):
                raise ConfigurationError("; ".join(problems), hint="Record the refund in NetSuite by hand.")
            return c.refund_payload(doc, mapping, self.currency_ref(doc.currency))
        if isinstance(doc, ExpenseSnapshot):
            return c.expense_payload(doc, mapping, str(self.setting("expense_payee") or ""),
                                     self.currency_ref(doc.currency))
        if isinstance(doc, BillSnapshot):
            return c.bill_payload(doc, mapping, self.vendor(doc.supplier), self.currency_ref(doc.currency))
        if isinstance(doc, JournalSnapshot):
            return c.journal_payload(doc, mapping, str(self.setting("subsidiary") or ""),
                                     self.currency_ref(doc.currency))
        items = [self.line_item(line, index, mapping) for index, line in enumerate(doc.lines)]
        return {**t.document(doc, mapping, str(self.setting("default_item") or ""), items),
                "currency": self.currency_ref(doc.currency)}

    def currency_ref(self, code: str) -> dict:
        """The account's currency of ISO ``code`` (its ``symbol``); a currency the account lacks is refused here,
        rather than booked in the customer's currency."""
        ids = {symbol: cid for cid, symbol in self.currency_codes.items()}
        if code not in ids:
            raise ConfigurationError(f"the NetSuite account has no currency {code}", platform_code="currency",
                                     hint="Add the currency in NetSuite (Lists > Accounting > Currencies; "
                                          "Multiple Currencies enabled), then send the document again.")
        return {"id": ids[code]}

    def vendor(self, name: str) -> str:
        """The vendor a bill's supplier is: the first active one whose ``companyName`` is the name (SuiteQL), else
        one created (in the connection's subsidiary on OneWorld accounts). Remembered per connector."""
        name = name.strip()[:83]
        if not name:
            raise ConfigurationError("the bill names no supplier", hint="Give the bill a supplier.")
        if name not in self._vendors:
            quoted = name.replace("'", "''")  # SuiteQL's string literal: a quote doubled
            rows = list(self.client.suiteql(f"SELECT id FROM vendor WHERE companyname = '{quoted}' "  # nosec B608
                                            "AND isinactive = 'F' ORDER BY id"))
            if rows:
                self._vendors[name] = str(rows[0]["id"])
            else:
                subsidiary = str(self.setting("subsidiary") or "")
                self._vendors[name] = self.client.create("vendor", rest.clean(
                    {"companyName": name, "subsidiary": {"id": subsidiary} if subsidiary else None}))
        return self._vendors[name]

    @cached_property
    def _vendors(self) -> dict[str, str]:
        return {}

    def line_item(self, line, index: int, mapping: Mapping) -> str:
        """The item a line is booked on (see the module docstring). A mapped account no active item books to is
        refused: the line would land on another account."""
        if line.item_key and line.item_key in mapping.refs:
            return str(mapping.refs[line.item_key])
        account = mapping.line_account(index)
        if account:
            if account not in self.items_by_account:
                raise ConfigurationError(f"line {index + 1}: no active sale item in NetSuite books to account "
                                         f"{account}", platform_code="incomeAccount",
                                         hint="Map an income account that a non-inventory sale item uses, or give "
                                              "an item that income account in NetSuite.")
            return self.items_by_account[account]
        item = str(self.setting("default_item") or "")
        if not item:
            raise ConfigurationError(f"line {index + 1} has no NetSuite item: no synced item, no item on its income "
                                     "account and no default item", hint="Set the connection's line item.")
        return item

    @cached_property
    def items_by_account(self) -> dict[str, str]:
        """Income account id -> the first active non-inventory sale item on it (one SuiteQL query per connector)."""
        found: dict[str, str] = {}
        for row in self.client.suiteql("SELECT id, incomeaccount FROM item WHERE itemtype = 'NonInvtPart' AND "
                                       "isinactive = 'F' ORDER BY id"):
            if row.get("incomeaccount"):
                found.setdefault(str(row["incomeaccount"]), str(row["id"]))
        return found

    def read(self, entity: str, ident: str) -> dict:
        return self.client.read(t.RECORD_TYPES[entity], ident)

    # -- the connector interface ------------------------------------------------------------------------------------
    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        return t.result(entity, self.read(entity, remote_id))

    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        try:
            return t.result(doc.entity, self.read(doc.entity, f"eid:{t.external_id(doc.key)}"), adopted=True)
        except RemoteNotFound:
            return None

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """POST with our key as ``externalId`` and as the idempotency key. Refused while a record with our external
        id exists (NetSuite's code for that is not documented): a ``DuplicateError``."""
        kind = t.RECORD_TYPES[doc.entity]
        body = self.body(doc, mapping)
        try:
            remote_id = self.client.create(kind, body, idempotency_key)
        except ValidationFailed as exc:
            if isinstance(exc, DuplicateError) or self.find_existing(doc, mapping) is None:
                raise
            raise DuplicateError(f"NetSuite already holds a {kind} with external ID {body['externalId']}",
                                 platform_code=exc.platform_code or "externalId", http_status=exc.http_status,
                                 hint="It is this document, sent before: it is linked automatically.",
                                 raw=exc.raw) from exc
        return self.fetch(doc.entity, remote_id)

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """PATCH by internal id (the sublists sent replace the record's), after a read whose version must be the
        one we last wrote: record/v1 has no conditional update, so a change between the two calls is not seen."""
        current = self.fetch(doc.entity, ref.remote_id)
        if ref.version and current.version != ref.version:
            raise ConflictError(f"{doc.entity.replace('_', ' ')} {ref.remote_id} changed in NetSuite since we last "
                                "wrote it", platform_code="lastModifiedDate", raw=current.raw,
                                hint="Compare both versions, then send ours anyway or change the local document.")
        self.client.patch(t.RECORD_TYPES[doc.entity], ref.remote_id, self.body(doc, mapping),
                          SUBLISTS.get(doc.entity, ""))
        return self.fetch(doc.entity, ref.remote_id)

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """Emulated (record/v1 has no void): a PATCH that keeps the number, customer and date, replaces the lines
        with one "Voided" line of 0 on the first line's item and, on a credit memo, takes its applications back.
        NetSuite refuses it for an invoice with payments applied (its total would fall below what was paid)."""
        current = self.read(entity, ref.remote_id)
        first = ((current.get("item") or {}).get("items") or [{}])[0].get("item") or {}
        item = str(first.get("id") or self.setting("default_item") or "")
        body: dict = {"memo": t.VOIDED, "item": {"items": [{"item": {"id": item}, "quantity": 1, "rate": 0,
                                                            "description": t.VOIDED}]}}
        if entity == Entity.CREDIT_NOTE:
            body["apply"] = {"items": []}
        self.client.patch(t.RECORD_TYPES[entity], ref.remote_id, body, SUBLISTS[entity])
        return self.fetch(entity, ref.remote_id)

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        with contextlib.suppress(RemoteNotFound):  # already gone: nothing to do
            self.client.delete(t.RECORD_TYPES[entity], ref.remote_id)

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        if isinstance(doc, RefundSnapshot):
            return c.refund_problems(doc)
        if isinstance(doc, ExpenseSnapshot) and not self.setting("expense_payee"):
            return ["the NetSuite connection names no expense payee (the vendor a check is written to): set the "
                    "connection's Expense payee"]
        return []

    def reference_data(self) -> ReferenceData:
        """Active accounts, sales tax items and currencies through SuiteQL (the base currency the home one)."""
        accounts = list(self.client.suiteql("SELECT id, acctnumber, fullname, accttype FROM account "
                                            "WHERE isinactive = 'F' ORDER BY id"))
        taxes = list(self.client.suiteql("SELECT id, itemid FROM salestaxitem WHERE isinactive = 'F' ORDER BY id"))
        currencies = list(self.client.suiteql("SELECT id, symbol, isbasecurrency FROM currency "
                                              "WHERE isinactive = 'F' ORDER BY id"))
        home = next((c["symbol"] for c in currencies if c.get("isbasecurrency") == "T"), "")
        return rest.reference_data(accounts, taxes, account_kind, account_id="id", account_name="fullname",
                                   tax_id="id", tax_name="itemid", currencies=[c["symbol"] for c in currencies],
                                   home_currency=home)

    @cached_property
    def currency_codes(self) -> dict[str, str]:
        """Currency internal id -> ISO code (``symbol``)."""
        return {str(c["id"]): str(c.get("symbol") or "") for c in self.client.suiteql("SELECT id, symbol FROM "
                                                                                         "currency")}

    # -- platform -> local ------------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """SuiteQL on ``transaction.lastmodifieddate`` per entity (a transaction voided in the UI is reported as a
        void), then ``deletedrecord`` for the deletions; the cursor is the time we asked at (compared to the
        second: a change is reported again rather than missed). The reversing journal entry NetSuite makes when it
        voids with reversing journals is a journal entry of its own, not one of ours: the voided original is
        reported, and the reversal is skipped when the inbound sync finds no reference to it."""
        cursor = dt.datetime.now(dt.UTC)
        changes: list[RemoteChange] = []
        company = self.config.remote_company_id
        for entity in (e for e in entities if e in TRAN_TYPES and e in self.inbound_entities):
            # our constants and a formatted time only: nothing of a user's reaches the query
            query = (f"SELECT id, lastmodifieddate, voided FROM transaction "  # nosec B608
                     f"WHERE type = '{TRAN_TYPES[entity]}' AND lastmodifieddate >= {sql_stamp(since)} ORDER BY id")
            for row in self.client.suiteql(query):
                voided = entity in Entity.RETURNS_AND_COSTS and row.get("voided") == "T"
                changes.append(RemoteChange(entity, str(row["id"]), "void" if voided else "update", company,
                                            sql_time(row.get("lastmodifieddate"))))
            kind = t.RECORD_TYPES[entity]
            query = (f"SELECT recordid, deleteddate FROM deletedrecord WHERE type = '{kind}' "  # nosec B608
                     f"AND deleteddate >= {sql_stamp(since)} ORDER BY deleteddate")
            for row in self.client.suiteql(query):
                changes.append(RemoteChange(entity, str(row["recordid"]), "delete", company,
                                            sql_time(row.get("deleteddate"))))
        return changes, cursor

    def remote_payment(self, remote_id: str) -> RemotePayment:
        """A customer payment as NetSuite holds it (its ``memo`` is the reference); a deleted one says so."""
        try:
            body = self.read(Entity.PAYMENT, remote_id)
        except RemoteNotFound:
            return RemotePayment(remote_id, "", "", dt.date.today(), Decimal("0"), "", (), deleted=True)
        result = t.result(Entity.PAYMENT, body)
        day = dt.date.fromisoformat(str(body["tranDate"])[:10]) if body.get("tranDate") else dt.date.today()
        currency = self.currency_codes.get(str((body.get("currency") or {}).get("id") or ""), "")
        return RemotePayment(remote_id, result.version, str((body.get("customer") or {}).get("id") or ""), day,
                             result.total, currency, self.applications(body), reference=str(body.get("memo") or ""))

    @staticmethod
    def applications(body: dict) -> tuple[tuple[str, Decimal], ...]:
        return tuple((str((a.get("doc") or {}).get("id")), rest.money(a.get("amount")))
                     for a in (body.get("apply") or {}).get("items") or [] if a.get("apply", True) is not False)

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        """An invoice or credit memo's status, totals and lines (quantity, rate); a deleted one says so."""
        try:
            body = self.read(entity, remote_id)
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)
        result = t.result(entity, body)
        lines = tuple((Decimal(str(line.get("quantity") or 1)), rest.money(line.get("rate") or 0))
                      for line in (body.get("item") or {}).get("items") or [])
        return RemoteDocument(remote_id, result.version, result.number, result.status, result.total, result.balance,
                              lines, applications=self.applications(body) if entity == Entity.CREDIT_NOTE else ())
