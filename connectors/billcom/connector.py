"""Bill.com accounts receivable (API v3) connector: snapshots in, Bill.com calls out, classified errors back.

Bill.com has no OAuth. A connection signs in with ``POST /v3/login {username, password, organizationId, devKey}``
and sends the answered ``sessionId`` (and the ``devKey``) as headers on every call. The connection keeps the
username in its client id and ``devKey:password`` in its (encrypted) client secret; the session id is stored as
the connection's access token: Bill.com is on the kit's session family (``connectors.session``), so the token store
signs in again single-flight under the connection's row lock shortly before the session could lapse (35 minutes
idle) and once more when Bill.com answers "Session is invalid" (HTTP 401, BDC_1109); a renewal and a disconnect
log the replaced session out (``POST /v3/logout``). Staff connect with the usual Connect button: there is no
consent page, the callback is reached at once and ``exchange_code`` signs in (a wrong password or key is refused
there, before anything is stored).

Bill.com has no idempotency key either: invoices carry our number (Bill.com refuses a second one), customers are
searched by name before they are created, and a recorded payment carries our number at the start of its
description, where search-before-create looks for it.

Expenses are bills for the payee recorded as paid outside Bill.com, supplier bills the same bills left unpaid
(``costs.py``); Bill.com pays out no customer credit and keeps no general ledger, so refunds and journals are not
sent (docs/connectors/billcom.md).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import replace
from functools import cached_property

from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, TIMEOUT_FIELD, AccountKind, Capabilities,
                    DemoChart, ReferenceData, RemoteChange, RemoteCustomer, RemoteDocument, RemoteItem, RemotePayment,
                    Setting)
from ..documents import BillSnapshot, Entity, ExpenseSnapshot, Mapping, RemoteRef, RemoteResult, Snapshot
from ..errors import AuthError, ConfigurationError, ConflictError, RemoteNotFound, SyncError, ValidationFailed
from ..registry import register
from ..session import Session, SessionConnector
from . import costs as c
from . import errors
from . import translate as t
from .client import BillcomClient, LogoutClient, quoted, time_filter

API_BASE = "https://gateway.prod.bill.com/connect/v3"
#: Bill.com ends a session after 35 minutes without a call; we sign in again before 30 are up.
SESSION_LIFETIME = dt.timedelta(minutes=35)  # Bill.com's idle timeout; renewed token_refresh_margin before
#: Bill.com accountType -> AccountKind
ACCOUNT_KINDS = {"INCOME": AccountKind.INCOME, "OTHER_INCOME": AccountKind.INCOME,
                 "EXPENSE": AccountKind.EXPENSE, "OTHER_EXPENSE": AccountKind.EXPENSE,
                 "COST_OF_GOODS_SOLD": AccountKind.EXPENSE, "BANK": AccountKind.DEPOSIT,
                 "ACCOUNTS_RECEIVABLE": AccountKind.RECEIVABLE}


#: Our entities sent as a Bill.com bill: an expense (recorded as paid) and a supplier bill (left unpaid).
BILLS = (Entity.EXPENSE, Entity.BILL)


def account_kind(account: dict) -> str:
    kind = str(account.get("accountType") or "").upper()
    if kind == "OTHER_CURRENT_LIABILITY" and "tax" in str(account.get("name", "")).lower():
        return AccountKind.TAX_PAYABLE
    return ACCOUNT_KINDS.get(kind, AccountKind.OTHER)


@register
class BillcomConnector(SessionConnector):
    id = "billcom"
    name = "Bill.com"
    capabilities = Capabilities(
        # expenses: paid bills; supplier bills: unpaid bills (costs.py); no refunds, journals
        entities=frozenset({*Entity.SALES, Entity.EXPENSE, Entity.BILL}),
        # Bill.com neither voids nor deletes: a void zeroes the document and archives it, a delete archives it
        # (an expense's bill and a supplier bill are archived for either: not declared voided)
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE}),
        delete=frozenset({*Entity.SALES, Entity.EXPENSE, Entity.BILL}) - {Entity.PAYMENT},
        currencies=frozenset({"USD"}),  # Bill.com AR invoices are in US dollars
        idempotency_keys=False,  # Bill.com has none for documents: our numbers and names stand in
        # polled by updatedTime; lists hold archived documents and voided payments, so deletions are reported
        # customers and items are listed by updatedTime too: they come in on their own (archived: inactive); an
        # expense's bill too (archived there: deleted; a line typed over: an update), and a supplier bill from the
        # same bills list
        inbound=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE,
                           Entity.EXPENSE, Entity.BILL}),
        inbound_creates=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE}),
        webhooks=True,  # invoice events, signed x-bill-sha-signature; a payment arrives as its invoice's update
    )
    #: Expenses are reconciled like the sales documents, read back by id (the organisation's other bills are not
    #: ours to look through).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, Entity.EXPENSE, Entity.BILL})
    #: Per developer key 20,000 requests an hour, of them at most 200 sign-ins; 3 requests at once per organisation.
    rate_limits = {"request": (20000, 3600.0), "login": (200, 3600.0)}
    concurrent_limit = 3
    session_lifetime = SESSION_LIFETIME
    token_refresh_margin = dt.timedelta(minutes=5)
    default_settings = {"api_base": API_BASE, "timeout": 30, "organization_id": ""}
    settings_fields = (
        API_BASE_FIELD,
        Setting("organization_id", "Organisation id", "The Bill.com organisation the connection signs in to. Empty: "
                "the remote company id."),
        replace(AUTHORIZE_URL_FIELD, help="A consent page to open on Connect. Empty: Bill.com has none, Connect "
                "signs in with the username (client id) and devKey:password (client secret) directly."),
        Setting("sandbox_dev_key", "Sandbox developer key", "The developer key used when the client secret is a "
                "password alone (the local sandbox's public key). Real organisations put devKey:password in the "
                "client secret instead."),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.billcom.sandbox.BillcomSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Consulting Income"},
                           line_kind_income={"shipping": "Shipping Income", "fee": "Late Fee Income"},
                           discount="Discounts Given", deposit="Undeposited Funds",
                           taxes={"GST 10%": "Taxable", "Exempt": "Non-taxable"},
                           expense="Office Supplies", paid_from="Business Checking")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        """The sandbox's API, its (public) organisation and developer key, and its stand-in connect page."""
        from .sandbox.seed import DEV_KEY, ORGANIZATION_ID  # the sandbox's own, public values (not secrets)
        return {"api_base": f"{base_url}/connect/v3", "organization_id": ORGANIZATION_ID,
                "sandbox_dev_key": DEV_KEY, "authorize_url": f"{base_url}/connect/authorize"}

    # -- credentials and the session ---------------------------------------------------------------------------
    def credentials(self) -> tuple[str, str]:
        """(devKey, password) from the client secret ``devKey:password``. A secret without a colon is a password
        alone, whose developer key is the local sandbox's public one (``sandbox_dev_key``)."""
        secret = self.config.client_secret
        dev_key, sep, password = secret.partition(":")
        if not sep:
            dev_key, password = str(self.setting("sandbox_dev_key") or ""), secret
        if not dev_key or not password or not self.config.client_id:
            raise ConfigurationError("the Bill.com connection lacks its username, developer key or password",
                                     hint="Set the client id to the Bill.com username and the client secret to "
                                          "devKey:password, then press Connect.")
        return dev_key, password

    def organization_id(self) -> str:
        org = self.setting("organization_id") or self.config.remote_company_id
        if not org:
            raise ConfigurationError("the Bill.com connection names no organisation",
                                     hint="Set the connection's organization_id setting (it begins with 008).")
        return str(org)

    @cached_property
    def client(self) -> BillcomClient:
        return BillcomClient(self.setting("api_base"), self.credentials()[0], self.access_token,
                             timeout=float(self.setting("timeout")), throttle=self.throttle)

    def login(self) -> Session:
        """``POST /v3/login``: a new session (the only way to get one; it also validates the credentials). Bill.com
        ends a session after 35 minutes without a call (``session_lifetime`` renews it before that)."""
        dev_key, password = self.credentials()
        client = BillcomClient(self.setting("api_base"), dev_key, lambda force: "",
                               timeout=float(self.setting("timeout")), throttle=self.throttle)
        body = client.request("POST", "login", kind="login", body={
            "username": self.config.client_id, "password": password, "organizationId": self.organization_id(),
            "devKey": dev_key})
        session = str(body.get("sessionId") or "")
        if not session:
            raise ValidationFailed("Bill.com answered the sign-in without a session id", platform_code="login")
        return Session(session, None, str(body.get("organizationId") or self.organization_id()))

    def logout(self, token: str) -> None:
        """``POST /v3/logout`` with the session: Bill.com ends it (the session family calls this on a renewal and
        on disconnect)."""
        client = LogoutClient(self.setting("api_base"), self.credentials()[0], lambda force: token,
                              timeout=float(self.setting("timeout")), throttle=self.throttle)
        client.request("POST", "logout", body={})

    def session_expired(self, exc: SyncError) -> bool:
        """Bill.com's BDC_1109, "Session is invalid. Please log in.": sign in again and resend once."""
        return isinstance(exc, AuthError) and exc.platform_code == errors.SESSION_INVALID

    # -- platform -> local -----------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """Each list filtered ``updatedTime:gte`` ``since`` (to the second); the cursor is the time we asked. An
        expense is its bill (``bills``): archived there it is a "delete" (Bill.com voids no bill), else an
        "update". A supplier bill is a bill too: the one list is asked once and each bill reported as each of
        the two asked for (the pipeline skips the one it holds no reference of)."""
        cursor = dt.datetime.now(dt.UTC).replace(microsecond=0)
        since = since.astimezone(dt.UTC).replace(microsecond=0)
        changes = []
        wanted = [e for e in entities if e in self.inbound_entities]
        if bills := [e for e in wanted if e in BILLS]:
            for row in self._changed(Entity.EXPENSE, since):
                changes += [RemoteChange(entity, str(row["id"]), c.change_operation(row),
                                         self.config.remote_company_id, t.modified_at(row)) for entity in bills]
        for entity in [e for e in wanted if e not in BILLS]:
            for row in self._changed(entity, since):
                operation = t.change_operation(entity, row)
                changes.append(RemoteChange(entity, str(row["id"]), operation, self.config.remote_company_id,
                                            t.modified_at(row)))
        return changes, cursor

    def _changed(self, entity: str, since: dt.datetime):
        path = c.BILLS if entity == Entity.EXPENSE else t.ENTITIES[entity][0]
        rows = self.client.list(path, (f"updatedTime:gte:{quoted(time_filter(since))}",))
        return (row for row in rows if (t.modified_at(row) or since) >= since)

    def remote_payment(self, remote_id: str) -> RemotePayment:
        return t.remote_payment(self.client.request("GET", f"receivable-payments/{remote_id}"))

    def payments_of(self, invoice_remote_id: str) -> list[RemoteChange]:
        """The payments applied to an invoice: Bill.com announces a recorded payment as ``invoice.updated``."""
        try:
            invoice = self.client.request("GET", f"invoices/{invoice_remote_id}")
        except RemoteNotFound:
            return []
        customer = t.customer_of(invoice)
        rows = self.client.list("receivable-payments", (f"customerId:eq:{quoted(customer)}",))
        return [RemoteChange(Entity.PAYMENT, str(r["id"]), t.change_operation(Entity.PAYMENT, r),
                             self.config.remote_company_id, t.modified_at(r))
                for r in rows if any(str(i.get("id")) == invoice_remote_id for i in r.get("invoices") or [])]

    @classmethod
    def verify_webhook(cls, headers: dict[str, str], body: bytes, secret: str) -> bool:
        """``x-bill-sha-signature`` is base64(HMAC-SHA256(the subscription's securityKey, raw body))."""
        sent = next((v for k, v in headers.items() if k.lower() == "x-bill-sha-signature"), "")
        if not sent or not secret:
            return False
        expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(sent.strip(), expected)

    @classmethod
    def parse_webhook(cls, body: bytes) -> list[RemoteChange]:
        """One event: ``metadata.eventType`` (``invoice.created|updated|archived|restored``) and the record under
        the entity's name. Events of other entities announce nothing we follow; a body that is no Bill.com event
        is a ``ValueError``."""
        try:
            event = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a Bill.com event notification: {exc}") from None
        meta = event.get("metadata") if isinstance(event, dict) else None
        kind = meta.get("eventType") if isinstance(meta, dict) else None
        if not isinstance(kind, str) or "." not in kind:
            raise ValueError("not a Bill.com event notification: no metadata.eventType")
        name, _, action = kind.partition(".")
        entity = {"invoice": Entity.INVOICE, "creditMemo": Entity.CREDIT_NOTE}.get(name)
        record = event.get(name)
        if entity is None:
            return []
        if not isinstance(record, dict) or not record.get("id"):
            raise ValueError(f"a Bill.com {kind} event without its {name}")
        operation = {"created": "create", "archived": "delete"}.get(action, "update")
        if action == "archived" and not t.money(record.get("totalAmount")):
            operation = "void"
        return [RemoteChange(entity, str(record["id"]), operation, str(meta.get("organizationId") or ""),
                             t.modified_at(record))]

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        try:
            return t.remote_document(entity, self.client.request("GET", f"{t.ENTITIES[entity][0]}/{remote_id}"))
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)

    def remote_customer(self, remote_id: str) -> RemoteCustomer:
        return t.remote_customer(self.client.request("GET", f"customers/{remote_id}"))

    def remote_item(self, remote_id: str) -> RemoteItem:
        return t.remote_item(self.client.request("GET", f"items/{remote_id}"))

    # -- documents -----------------------------------------------------------------------------------------------
    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        entity = doc.entity
        if isinstance(doc, ExpenseSnapshot):
            return self._find_expense(doc)
        if isinstance(doc, BillSnapshot):
            found = self._find_bill(doc)
            return replace(c.result(found, entity=Entity.BILL), adopted=True) if found else None
        if entity in (Entity.CUSTOMER, Entity.ITEM):
            path = t.ENTITIES[entity][0]
            rows = [r for r in self.client.list(path, (f"name:eq:{quoted(doc.name[:100])}",))
                    if str(r.get("name", "")).casefold() == doc.name[:100].casefold()]
            rows.sort(key=lambda r: bool(r.get("archived")))  # a live one first
        elif entity == Entity.CREDIT_NOTE:
            customer = mapping.refs[doc.customer_key]
            rows = [r for r in self.client.list("credit-memos", (f"referenceNumber:eq:{quoted(doc.number)}",))
                    if str(r.get("customerId", customer)) == customer and not r.get("archived")]
        elif entity == Entity.INVOICE:
            rows = list(self.client.list("invoices", (f"invoiceNumber:eq:{quoted(doc.number)}",)))
            customer = mapping.refs[doc.customer_key]
            mine = [r for r in rows if t.customer_of(r) in ("", customer)]
            if rows and not mine:
                raise ValidationFailed(f"number {doc.number} is already used in Bill.com by another customer",
                                       platform_code="duplicate", hint="Renumber the local document.")
            rows = mine
        else:
            customer = mapping.refs[doc.customer_key]
            rows = [r for r in self.client.list("receivable-payments", (f"customerId:eq:{quoted(customer)}",))
                    if t.payment_number(r) == doc.number and t.status(entity, r) != "voided"]
        return t.result(entity, rows[0], adopted=True) if rows else None

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``idempotency_key`` is not sent: Bill.com has no such thing for documents (see the module docstring)."""
        if isinstance(doc, ExpenseSnapshot):
            return self._create_expense(doc, mapping)
        if isinstance(doc, BillSnapshot):
            bill = c.bill_payload(doc, mapping, self._vendor(doc, True))
            return c.result(self.client.request("POST", c.BILLS, body=bill), entity=Entity.BILL)
        if doc.entity == Entity.PAYMENT:
            body = self.client.request("POST", "invoices/record-payment", body=t.payment_payload(doc, mapping))
            return t.result(doc.entity, body)
        body = self.client.request("POST", t.ENTITIES[doc.entity][0], body=self._payload(doc, mapping))
        return t.result(doc.entity, body)

    @staticmethod
    def _payload(doc: Snapshot, mapping: Mapping) -> dict:
        return {Entity.CUSTOMER: lambda: t.customer_payload(doc), Entity.ITEM: lambda: t.item_payload(doc),
                Entity.INVOICE: lambda: t.invoice_payload(doc, mapping),
                Entity.CREDIT_NOTE: lambda: t.credit_payload(doc, mapping)}[doc.entity]()

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """Reads first and refuses to overwrite a record changed since our version. A recorded payment cannot be
        edited in Bill.com: it is voided and recorded again (its id changes)."""
        current = self.fetch(doc.entity, ref.remote_id)
        if isinstance(doc, ExpenseSnapshot):
            return self._update_expense(doc, mapping, ref, current)
        if isinstance(doc, BillSnapshot):
            return self._update_bill(doc, mapping, ref, current)
        if doc.entity == Entity.PAYMENT and current.status == "voided":
            # our own void of an earlier attempt whose new recording failed or was lost: finish that attempt
            return self.find_existing(doc, mapping) or self.create(doc, mapping, idempotency_key)
        if ref.version and current.version != ref.version:
            raise ConflictError(f"the {doc.entity} changed in Bill.com since it was last synced",
                                platform_code="stale", raw=current.raw)
        path = t.ENTITIES[doc.entity][0]
        if doc.entity == Entity.PAYMENT:
            self.client.request("POST", f"{path}/{ref.remote_id}/void")
            return self.create(doc, mapping, idempotency_key)
        body = self.client.request("PATCH", f"{path}/{ref.remote_id}", body=self._payload(doc, mapping))
        return t.result(doc.entity, body)

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """Emulated: the lines become one line of 0.00 (a credit memo's applications are taken back) and the
        document is archived. Bill.com refuses it for an invoice that has payments (its total would fall below
        what was paid): that error reaches staff as it is."""
        path = t.ENTITIES[entity][0]
        lines = "creditMemoLineItems" if entity == Entity.CREDIT_NOTE else "invoiceLineItems"
        change = {lines: t.VOID_LINES, **({"invoices": []} if entity == Entity.CREDIT_NOTE else {})}
        self.client.request("PATCH", f"{path}/{ref.remote_id}", body=change)
        return t.result(entity, self.client.request("POST", f"{path}/{ref.remote_id}/archive"))

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        """Archived (Bill.com deletes nothing): customers and items stay readable as inactive; an archived invoice
        or credit memo counts as gone (a credit memo's applications are taken back first)."""
        if entity in BILLS:
            self.client.request("POST", f"{c.BILLS}/{ref.remote_id}/archive")
            return
        path = t.ENTITIES[entity][0]
        if entity == Entity.PAYMENT:
            raise ConfigurationError("Bill.com connector does not delete payments")
        if entity == Entity.CREDIT_NOTE:
            self.client.request("PATCH", f"{path}/{ref.remote_id}", body={"invoices": []})
        self.client.request("POST", f"{path}/{ref.remote_id}/archive")

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        if entity in BILLS:
            found = c.result(self.client.request("GET", f"{c.BILLS}/{remote_id}"), entity=entity)
        else:
            found = t.result(entity, self.client.request("GET", f"{t.ENTITIES[entity][0]}/{remote_id}"))
        if found.status == "deleted":
            raise RemoteNotFound(f"the {entity.replace('_', ' ')} {remote_id} is archived in Bill.com",
                                 platform_code="archived")
        return found

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        return c.expense_problems(doc) if isinstance(doc, ExpenseSnapshot) else []

    # -- expenses: bills recorded as paid ----------------------------------------------------------------------------
    def _vendor(self, doc: ExpenseSnapshot, create: bool) -> str | None:
        """The id of the live vendor named as the payee, made when ``create`` and Bill.com has none (remembered
        for this connector's life: a create's first call is then the bill's, which the retry can find)."""
        name = c.vendor_name(doc)
        known = self.__dict__.setdefault("_vendors", {})
        if name.casefold() not in known:
            rows = [r for r in self.client.list(c.VENDORS, (f"name:eq:{quoted(name)}",))
                    if str(r.get("name", "")).casefold() == name.casefold() and not r.get("archived")]
            if rows:
                known[name.casefold()] = str(rows[0]["id"])
            elif create:
                made = self.client.request("POST", c.VENDORS, body=c.vendor_payload(name))
                known[name.casefold()] = str(made["id"])
        return known.get(name.casefold())

    def _find_expense(self, doc: ExpenseSnapshot) -> RemoteResult | None:
        """The payee's live bill with our number. One whose recorded payment was lost is paid now: our expense
        was paid."""
        vendor = self._vendor(doc, create=False) if c.vendor_name(doc) else None
        if vendor is None:
            return None
        ours = doc.number[:c.NUMBER_LENGTH]
        rows = [r for r in self.client.list(c.BILLS, (f"vendorId:eq:{quoted(vendor)}",))
                if c.number(r) == ours and not r.get("archived")]
        if not rows:
            return None
        return replace(self._paid(rows[0], doc), adopted=True)

    def _find_bill(self, doc: BillSnapshot) -> dict | None:
        """The supplier's live bill with the supplier's number (ours when it has none), an unpaid one first: Bill.com
        takes a second bill of that number, so this is what keeps a lost answer from making two."""
        vendor = self._vendor(doc, create=False) if c.vendor_name(doc) else None
        if vendor is None:
            return None
        wanted = c.bill_number(doc)
        rows = [r for r in self.client.list(c.BILLS, (f"vendorId:eq:{quoted(vendor)}",))
                if c.number(r) == wanted and not r.get("archived")]
        rows.sort(key=lambda r: c.due(r) <= 0)
        return rows[0] if rows else None

    def _update_bill(self, doc: BillSnapshot, mapping: Mapping, ref: RemoteRef,
                     current: RemoteResult) -> RemoteResult:
        """The supplier bill's number, dates, description and lines replaced (its vendor stays: a bill keeps its
        vendor). Bill.com refuses a total below what was paid there."""
        if ref.version and current.version != ref.version:
            raise ConflictError("the bill changed in Bill.com since it was last synced", platform_code="stale",
                                raw=current.raw)
        body = c.bill_payload(doc, mapping, str(current.raw["vendorId"]))
        return c.result(self.client.request("PATCH", f"{c.BILLS}/{ref.remote_id}", body=body), entity=Entity.BILL)

    def _create_expense(self, doc: ExpenseSnapshot, mapping: Mapping) -> RemoteResult:
        problems = c.expense_problems(doc)
        if problems:
            raise ValidationFailed(problems[0], platform_code="not_taken",
                                   hint="Add the payee to the expense, or record it in Bill.com by hand.")
        bill = self.client.request("POST", c.BILLS, body=c.expense_payload(doc, mapping, self._vendor(doc, True)))
        return self._paid(bill, doc)

    def _update_expense(self, doc: ExpenseSnapshot, mapping: Mapping, ref: RemoteRef,
                        current: RemoteResult) -> RemoteResult:
        """The bill's lines replaced (the payee stays: a bill keeps its vendor); what it then has due is paid."""
        if ref.version and current.version != ref.version:
            raise ConflictError("the expense's bill changed in Bill.com since it was last synced",
                                platform_code="stale", raw=current.raw)
        body = c.expense_payload(doc, mapping, str(current.raw["vendorId"]))
        bill = self.client.request("PATCH", f"{c.BILLS}/{ref.remote_id}", body=body)
        return self._paid(bill, doc)

    def _paid(self, bill: dict, doc: ExpenseSnapshot) -> RemoteResult:
        """``bill`` with nothing left due: what is due recorded as paid outside Bill.com, read back."""
        if c.due(bill) > 0:
            self.client.request("POST", c.RECORD_PAYMENT, body=c.payment_payload(bill, doc.date))
            bill = self.client.request("GET", f"{c.BILLS}/{bill['id']}")
        return c.result(bill)

    # -- reconciliation ------------------------------------------------------------------------------------------
    def list_documents(self, entity: str, since: dt.datetime | None = None):
        """Every invoice or payment (changed since ``since``), page by page, from the list rows. Expenses are read
        by id only (``read_documents``): the organisation's other bills are not ours to look through."""
        if entity not in (Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE):
            return
        rows = self._changed(entity, since.astimezone(dt.UTC)) if since else \
            self.client.list(t.ENTITIES[entity][0])
        yield from (t.totals(entity, row) for row in rows)

    # -- reference data ------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        accounts = [a for a in self.client.list("classifications/chart-of-accounts", ("archived:eq:false",))
                    if not a.get("archived")]
        kinds = {str(a["id"]): account_kind(a) for a in accounts}
        control: dict[str, tuple[str, str]] = {}
        for a in accounts:
            if kinds[str(a["id"])] in (AccountKind.RECEIVABLE, AccountKind.TAX_PAYABLE):
                control.setdefault(kinds[str(a["id"])], (str(a["id"]), a["name"]))
        return ReferenceData(accounts={str(a["id"]): a["name"] for a in accounts}, tax_codes=dict(t.TAX_CODES),
                             currencies=frozenset({"USD"}), home_currency="USD", account_kinds=kinds,
                             control_accounts=control)
