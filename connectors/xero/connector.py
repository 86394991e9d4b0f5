"""Xero connector: snapshots in, Xero Accounting API calls out (through xero-python), classified errors back."""
from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from functools import cached_property

from .. import oauth, signatures
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, SCOPE_FIELD, TIMEOUT_FIELD, TOKEN_URL_FIELD, AccountKind,
                    BankDeposit, BaseConnector, BatchOp, BatchOutcome, Capabilities, DemoChart, DocumentTotals,
                    ReferenceData, Refused, RemoteChange, RemoteCustomer, RemoteDocument, RemoteItem, RemotePayment,
                    Setting, TokenSet)
from ..documents import (BillPaymentSnapshot, BillSnapshot, CreditNoteSnapshot, CustomerSnapshot, Entity,
                         ExpenseSnapshot, InvoiceSnapshot, ItemSnapshot, JournalSnapshot, Mapping, PaymentSnapshot,
                         RefundSnapshot, RemoteRef, RemoteResult, SalesDocumentSnapshot, Snapshot)
from ..errors import (AuthError, ConfigurationError, ConflictError, DuplicateError, PermanentError, RemoteNotFound,
                      RetryableError, SyncError, ValidationFailed)
from ..registry import register
from . import costs as c
from . import translate as t
from .client import XeroClient, where_equals
from .errors import element_error, refused_references
from .manual import SALES_INVOICES as MANUAL_SALES_INVOICES

REFRESH_TOKEN_TTL = dt.timedelta(days=60)  # Xero: a refresh token expires after 60 days unused
INVOICE_NUMBERS_PER_REQUEST = 40  # InvoiceNumbers=a,b,c... one GET per chunk, URL stays short
EDITABLE = frozenset({"DRAFT", "SUBMITTED"})
CLOSED = frozenset({"VOIDED", "DELETED"})


def account_kind(account: dict) -> str:
    """The ``AccountKind`` of a Xero account (Type, Class and SystemAccount from xero_accounting.yaml)."""
    system = account.get("SystemAccount")
    if system == "DEBTORS":
        return AccountKind.RECEIVABLE
    if system == "CREDITORS":
        return AccountKind.PAYABLE
    if system == "GST":
        return AccountKind.TAX_PAYABLE
    if account.get("Type") == "BANK" or account.get("EnablePaymentsToAccount"):
        return AccountKind.DEPOSIT
    return {"REVENUE": AccountKind.INCOME, "EXPENSE": AccountKind.EXPENSE}.get(account.get("Class"), AccountKind.OTHER)


@register
class XeroConnector(BaseConnector):
    id = "xero"
    name = "Xero"
    capabilities = Capabilities(
        # supplier bills too (invoices of Type ACCPAY) and their payments (payments on them): costs.py
        entities=frozenset(Entity.EVERY),
        # manual journals and bills are VOIDED; refunds (payments) and expenses (bank transactions) are DELETED
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE, Entity.JOURNAL, Entity.BILL}),
        # invoices: drafts are deleted, approved ones voided; contacts are archived, items deleted (Xero's API has
        # no archived state for items)
        delete=frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CUSTOMER, Entity.ITEM, Entity.REFUND,
                          Entity.EXPENSE, Entity.BILL_PAYMENT}),
        kept_lines=True,  # a restocking fee is a negative line of the credit note
        batch_size=50,
        # Contacts (webhooks and If-Modified-Since) and items (If-Modified-Since) come in on their own too.
        # refunds, expenses, journals and bills: voids, deletes and amount edits are polled (not their creation
        # there); bills are the ACCPAY rows of the invoices' own Invoices pages and bill payments the ACCPAYPAYMENT
        # rows of the payments' own Payments pages, so neither costs a request (a DELETED one is a delete)
        inbound=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE,
                           *Entity.RETURNS_AND_COSTS, Entity.BILL, Entity.BILL_PAYMENT}),
        inbound_creates=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE}),
        webhooks=True,
        drafts=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE}),  # Status DRAFT, then AUTHORISED on an update
        bank_feed=True,
    )
    #: Per organisation (tenant): 60 calls a minute and 5,000 a day (developer.xero.com/faq/limits).
    rate_limits = {"request": (60, 60.0), "day": (5000, 86400.0)}
    concurrent_limit = 5  # requests in flight per organisation
    manual_formats = (MANUAL_SALES_INVOICES,)  # entering invoices by hand while the API is down (manual.py)

    @classmethod
    def describe_version(cls, version: str) -> str:
        """Xero's version is the document's ``UpdatedDateUTC`` in Microsoft JSON (``/Date(1700000000000+0000)/``):
        shown as a UTC time."""
        match = re.match(r"^/Date\((-?\d+)([+-]\d{4})?\)/$", version or "")
        if not match:
            return version
        stamp = dt.datetime.fromtimestamp(int(match.group(1)) / 1000, tz=dt.UTC)
        return f"{stamp:%Y-%m-%d %H:%M:%S.%f}"[:-3] + " UTC"
    default_settings = {
        "api_base": "https://api.xero.com/api.xro/2.0",
        "authorize_url": "https://login.xero.com/identity/connect/authorize",
        "token_url": "https://identity.xero.com/connect/token",  # nosec B105
        "connections_url": "https://api.xero.com/connections",
        # Granular scopes (apps created from March 2026 cannot ask for accounting.transactions).
        "scope": "offline_access accounting.invoices accounting.payments accounting.contacts accounting.settings",
        "invoice_status": "AUTHORISED",  # or DRAFT (SUBMITTED = awaiting approval)
        "line_amount_types": "Exclusive",  # or Inclusive / NoTax
        "allow_rounding_adjustment": False,
        "rounding_account": "860",  # Account Code of the rounding line (Xero's default chart: 860 Rounding)
        "no_tax_type": "NONE",  # TaxType for lines without a tax rate
        "timeout": 30,
    }
    settings_fields = (
        API_BASE_FIELD, AUTHORIZE_URL_FIELD, TOKEN_URL_FIELD,
        Setting("connections_url", "Connections address", "Where Xero lists the organisations (tenants) a sign-in "
                "may use; the connection's tenant is picked from it when connecting.", "url"),
        SCOPE_FIELD,
        Setting("invoice_status", "Invoice status", "The status invoices and credit notes are created with.", "choice",
                choices=(("AUTHORISED", "Approved (AUTHORISED)"), ("SUBMITTED", "Awaiting approval (SUBMITTED)"),
                         ("DRAFT", "Draft (DRAFT)"))),
        Setting("line_amount_types", "Line amounts", "Whether line amounts are sent before tax, including tax, or "
                "without tax.", "choice",
                choices=(("Exclusive", "Tax exclusive"), ("Inclusive", "Tax inclusive"), ("NoTax", "No tax"))),
        Setting("allow_rounding_adjustment", "Add a rounding line", "When our total and Xero's differ by its "
                "rounding, add a line to the rounding account instead of stopping the document.", "flag"),
        Setting("rounding_account", "Rounding account", "The account code of the rounding line (Xero's default "
                "chart: 860 Rounding)."),
        Setting("no_tax_type", "Tax type for untaxed lines", "The Xero TaxType put on lines without a tax rate."),
        Setting("rate_source", "Exchange rates", "Where a foreign-currency document's rate comes from. With "
                "“Xero's own”, no rate is sent and Xero applies its daily rate.", "choice",
                choices=(("document", "The document's own rate"), ("table", "The rates table (other settings: rates)"),
                         ("platform", "Xero's own")), default="document"),
        TIMEOUT_FIELD,
    )

    dimensions = (t.TRACKING,)
    sandbox_class = "connectors.xero.sandbox.XeroSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Sales"},
                           line_kind_income={"shipping": "Other Revenue", "fee": "Other Revenue"},
                           discount="Sales Discounts", deposit="Business Bank Account",
                           taxes={"GST 10%": "Tax on Sales", "Exempt": "Exempt Sales"},
                           refund="Business Bank Account", expense="Freight & Courier",
                           paid_from="Business Bank Account")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        return {"api_base": f"{base_url}/api.xro/2.0", "authorize_url": f"{base_url}/connect/authorize",
                "token_url": f"{base_url}/connect/token", "connections_url": f"{base_url}/connections"}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        return refused_references(exc)

    @cached_property
    def client(self) -> XeroClient:
        # Every request counts against both the minute and the day budget: the client's kind is "day", and
        # throttle("day") takes one of each.
        return XeroClient(self.setting("api_base"), self.config.remote_company_id, self.access_token,
                          timeout=float(self.setting("timeout")), throttle=self.throttle)

    @cached_property
    def sales_settings(self) -> t.SalesSettings:
        types = str(self.setting("line_amount_types") or "Exclusive")
        status = str(self.setting("invoice_status") or "AUTHORISED").upper()
        if types not in t.LINE_AMOUNT_TYPES:
            raise ConfigurationError(f"setting line_amount_types must be one of {', '.join(t.LINE_AMOUNT_TYPES)}, "
                                     f"not “{types}”", hint="Fix the connection's settings in the admin.")
        if status not in t.INVOICE_STATUSES:
            raise ConfigurationError(f"setting invoice_status must be one of {', '.join(t.INVOICE_STATUSES)}, "
                                     f"not “{status}”", hint="Fix the connection's settings in the admin.")
        return t.SalesSettings(line_amount_types=types, status=status,
                               no_tax_type=str(self.setting("no_tax_type") or "NONE"),
                               allow_rounding_adjustment=_flag(self.setting("allow_rounding_adjustment")),
                               rounding_account=str(self.setting("rounding_account") or ""),
                               send_currency_rate=self.setting("rate_source") != "platform")

    def exchange_rate(self, currency: str, on: dt.date | None) -> None:
        """Xero publishes no rates through its API: with the connection's rates taken from the platform,
        ``CurrencyRate`` is left out and Xero applies its own (XE.com) rate of the document's date."""
        return None

    # -- OAuth -------------------------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        return oauth.authorization_url(self.setting("authorize_url"), self.config.client_id, redirect_uri,
                                       self.setting("scope"), state)

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        tokens = self._with_refresh_expiry(oauth.token_request(
            self.setting("token_url"), self.config.client_id, self.config.client_secret,
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}))
        tenant = self._tenant_for(tokens.access_token, params)
        return TokenSet(**{**tokens.__dict__, "remote_company_id": tenant})

    def refresh(self, refresh_token: str) -> TokenSet:
        # Our own grant over connectors.oauth (never xero-python's TokenApi, whose URL is a class attribute).
        return self._with_refresh_expiry(oauth.token_request(
            self.setting("token_url"), self.config.client_id, self.config.client_secret,
            {"grant_type": "refresh_token", "refresh_token": refresh_token}))

    @staticmethod
    def _with_refresh_expiry(tokens: TokenSet) -> TokenSet:
        if tokens.refresh_expires_at or not tokens.refresh_token:
            return tokens
        return TokenSet(**{**tokens.__dict__,
                           "refresh_expires_at": dt.datetime.now(dt.UTC) + REFRESH_TOKEN_TTL})

    def _tenant_for(self, access_token: str, params: dict) -> str:
        """The organisation this consent connected: ``GET /connections`` (tenantId of an ORGANISATION).

        Preference: an explicit ``tenantId`` in the callback parameters, then the tenant this connection already
        had (a reconnect), then the connections made by this very consent (``authEventId`` = the token's
        ``authentication_event_id``), most recently updated first.
        """
        # Not an organisation's call (no tenant yet), so it draws from no tenant's budget.
        client = XeroClient(self.setting("api_base"), "", lambda force: access_token,
                            timeout=float(self.setting("timeout")))
        rows = client.get_url(self.setting("connections_url"))
        organisations = [r for r in rows if isinstance(r, dict) and r.get("tenantType", "ORGANISATION") ==
                         "ORGANISATION"] if isinstance(rows, list) else []
        if not organisations:
            raise AuthError("Xero connected no organisation to this app",
                            hint="Connect again and pick an organisation on Xero's consent screen.")
        ids = {r["tenantId"] for r in organisations}
        for wanted in (params.get("tenantId"), params.get("tenant_id"), self.config.remote_company_id):
            if wanted and wanted in ids:
                return wanted
        event = _jwt_claims(access_token).get("authentication_event_id")
        fresh = [r for r in organisations if event and r.get("authEventId") == event] or organisations
        fresh.sort(key=lambda r: str(r.get("updatedDateUtc") or r.get("createdDateUtc") or ""), reverse=True)
        return fresh[0]["tenantId"]

    # -- documents ---------------------------------------------------------------------------------------
    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        if isinstance(doc, CustomerSnapshot):
            name = self._payload(doc, mapping)["Name"]
            rows = self._list("get_contacts", "Contacts", where=where_equals("Name", name))
            rows = [r for r in rows if r.get("ContactStatus", "ACTIVE") == "ACTIVE"
                    and str(r.get("Name", "")).casefold() == name.casefold()]
            return t.result(doc.entity, rows[0], adopted=True) if rows else None
        if isinstance(doc, ItemSnapshot):
            code = t.item_code(doc)
            rows = [r for r in self._list("get_items", "Items", where=where_equals("Code", code), unitdp=4)
                    if str(r.get("Code", "")).casefold() == code.casefold()]
            return t.result(doc.entity, rows[0], adopted=True) if rows else None
        if isinstance(doc, PaymentSnapshot):
            return self._find_payment(doc, mapping)
        if isinstance(doc, InvoiceSnapshot):
            return self.find_existing_many([(doc, mapping)])[0]
        if isinstance(doc, CreditNoteSnapshot):
            rows = self._list("get_credit_notes", "CreditNotes", where=where_equals("CreditNoteNumber", doc.number),
                              unitdp=4)
            return self._adoptable(doc, mapping, rows, "CreditNoteNumber")
        if isinstance(doc, (RefundSnapshot, ExpenseSnapshot, JournalSnapshot, BillSnapshot, BillPaymentSnapshot)):
            return self._find_cost(doc, mapping)
        raise TypeError(f"Xero connector cannot search for {type(doc).__name__}")

    _CREATE = {Entity.CUSTOMER: ("create_contacts", {}), Entity.ITEM: ("create_items", {"unitdp": 4}),
               Entity.PAYMENT: ("create_payments", {}), Entity.INVOICE: ("create_invoices", {"unitdp": 4}),
               Entity.CREDIT_NOTE: ("create_credit_notes", {"unitdp": 4}), Entity.REFUND: ("create_payments", {}),
               Entity.EXPENSE: ("create_bank_transactions", {"unitdp": 4}),
               Entity.JOURNAL: ("create_manual_journals", {}), Entity.BILL: ("create_invoices", {"unitdp": 4}),
               Entity.BILL_PAYMENT: ("create_payments", {})}

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``PUT`` (create only) with the idempotency key; a credit note then gets its allocations."""
        key = t.idempotency_key(idempotency_key)
        payload = self._payload(doc, mapping)
        if isinstance(doc, PaymentSnapshot) and t.is_overpayment(doc):
            return self._create_overpayment(payload, key)
        operation, extra = self._CREATE[doc.entity]
        collection = t.ENTITIES[doc.entity][0]
        body = self._single(self.client.call(operation, t.dumps({collection: [payload]}), idempotency_key=key,
                                             **extra), collection)
        if isinstance(doc, CreditNoteSnapshot):
            body = self._sync_allocations(doc, mapping, body, key)
        return t.result(doc.entity, body)

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        key = t.idempotency_key(idempotency_key)
        remote_id = ref.remote_id
        if isinstance(doc, CustomerSnapshot):
            payload = {**self._payload(doc, mapping), "ContactID": remote_id}
            body = self._single(self.client.call("update_contact", remote_id, t.dumps({"Contacts": [payload]}),
                                                 idempotency_key=key), "Contacts")
            return t.result(doc.entity, body)
        if isinstance(doc, ItemSnapshot):
            payload = {**self._payload(doc, mapping), "ItemID": remote_id}
            body = self._single(self.client.call("update_item", remote_id, t.dumps({"Items": [payload]}), unitdp=4,
                                                 idempotency_key=key), "Items")
            return t.result(doc.entity, body)
        if isinstance(doc, PaymentSnapshot) and (t.is_overpayment(doc) or t.overpayment_id(remote_id)):
            return self._update_overpayment(doc, mapping, ref)
        if isinstance(doc, (PaymentSnapshot, RefundSnapshot, BillPaymentSnapshot)):
            return self._update_payment(doc, mapping, ref, key)
        if isinstance(doc, (ExpenseSnapshot, JournalSnapshot, BillSnapshot)):
            return self._update_cost(doc, mapping, ref, key)
        if isinstance(doc, (InvoiceSnapshot, CreditNoteSnapshot)):
            current = self._current(doc.entity, remote_id)
            self._check_not_stale(doc.entity, current, ref)
            payload = self._update_payload(doc, mapping, current)
            if isinstance(doc, InvoiceSnapshot):
                body = self._single(self.client.call("update_invoice", remote_id, t.dumps({"Invoices": [payload]}),
                                                     unitdp=4, idempotency_key=key), "Invoices")
                return t.result(doc.entity, body)
            body = self._single(self.client.call("update_credit_note", remote_id,
                                                 t.dumps({"CreditNotes": [payload]}), unitdp=4,
                                                 idempotency_key=key), "CreditNotes")
            return t.result(doc.entity, self._sync_allocations(doc, mapping, body, key))
        raise TypeError(f"Xero connector cannot send {type(doc).__name__}")

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """Approved documents become VOIDED; a draft (Xero cannot void one) is DELETED instead."""
        if entity == Entity.JOURNAL:
            current = self._current(entity, ref.remote_id)
            if current.get("Status") in CLOSED:
                return t.result(entity, current)
            status = "DELETED" if current.get("Status") == "DRAFT" else "VOIDED"
            return t.result(entity, self._single(self.client.call(
                "update_manual_journal", ref.remote_id,
                t.dumps({"ManualJournals": [{"Narration": current.get("Narration", ""), "Status": status}]}),
                idempotency_key=t.idempotency_key(idempotency_key)), "ManualJournals"))
        if entity not in (Entity.INVOICE, Entity.CREDIT_NOTE, Entity.BILL):
            raise PermanentError(f"Xero cannot void a {entity.replace('_', ' ')}", code="unsupported")
        key = t.idempotency_key(idempotency_key)
        current = self._current(entity, ref.remote_id)
        status = current.get("Status", "")
        if status in CLOSED:
            return t.result(entity, current)
        if entity == Entity.CREDIT_NOTE:
            self._remove_allocations(current)
        return t.result(entity, self._set_status(entity, current, "DELETED" if status in EDITABLE else "VOIDED", key))

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        """Payments: Status DELETED. Invoices: drafts are DELETED; approved invoices (Xero cannot delete them)
        are VOIDED. A record already gone is fine."""
        key = t.idempotency_key(idempotency_key)
        if entity == Entity.EXPENSE:
            current = self._current(entity, ref.remote_id, missing_ok=True)
            if current.get("Status", "DELETED") != "DELETED":  # Xero's schema wants the transaction, not a stub
                body = {field: current[field] for field in ("BankTransactionID", "Type", "BankAccount", "LineItems")}
                self.client.call("update_bank_transaction", ref.remote_id,
                                 t.dumps({"BankTransactions": [{**body, "Status": "DELETED"}]}), idempotency_key=key)
            return None
        if entity == Entity.PAYMENT and t.overpayment_id(ref.remote_id):
            current = self._current(entity, ref.remote_id, missing_ok=True)
            if current and current.get("Status") != "VOIDED":
                raise PermanentError(
                    "Xero's API cannot remove an overpayment (its Overpayments record has no delete or void)",
                    code="unsupported", hint="Remove the overpayment in Xero by hand (its refunds first).")
            return None
        if entity in (Entity.PAYMENT, Entity.REFUND, Entity.BILL_PAYMENT):
            try:
                self.client.call("delete_payment", ref.remote_id, t.dumps({"Status": "DELETED"}),
                                 idempotency_key=key)
            except RemoteNotFound:
                pass
            except ValidationFailed:
                if self._current(entity, ref.remote_id, missing_ok=True).get("Status", "DELETED") != "DELETED":
                    raise
            return None
        if entity == Entity.CUSTOMER:  # Xero keeps contacts: a contact no longer wanted is archived
            with contextlib.suppress(RemoteNotFound):
                self.client.call("update_contact", ref.remote_id, t.dumps(
                    {"Contacts": [{"ContactID": ref.remote_id, "ContactStatus": "ARCHIVED"}]}), idempotency_key=key)
            return None
        if entity == Entity.ITEM:
            with contextlib.suppress(RemoteNotFound):
                self.client.call("delete_item", ref.remote_id)
            return None
        if entity != Entity.INVOICE:
            raise PermanentError(f"Xero connector does not delete a {entity.replace('_', ' ')}", code="unsupported")
        current = self._current(entity, ref.remote_id, missing_ok=True)
        status = current.get("Status", "DELETED")
        if status not in CLOSED:
            self._set_status(entity, current, "DELETED" if status in EDITABLE else "VOIDED", key)
        return None

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        body = self._current(entity, remote_id)
        if entity in (Entity.INVOICE, Entity.CREDIT_NOTE, Entity.PAYMENT, Entity.REFUND, Entity.EXPENSE,
                      Entity.JOURNAL, Entity.BILL, Entity.BILL_PAYMENT) and body.get("Status") == "DELETED":
            raise RemoteNotFound(f"the {entity.replace('_', ' ')} was deleted in Xero",
                                 hint="Re-send the local record to create it again in Xero.", platform_code="DELETED")
        return t.result(entity, body)

    # -- platform -> local -------------------------------------------------------------------------------
    _LISTS = {Entity.INVOICE: ("get_invoices", "Invoices"), Entity.PAYMENT: ("get_payments", "Payments"),
              Entity.CREDIT_NOTE: ("get_credit_notes", "CreditNotes"), Entity.CUSTOMER: ("get_contacts", "Contacts"),
              Entity.ITEM: ("get_items", "Items"), Entity.REFUND: ("get_payments", "Payments"),
              Entity.EXPENSE: ("get_bank_transactions", "BankTransactions"),
              Entity.JOURNAL: ("get_manual_journals", "ManualJournals"), Entity.BILL: ("get_invoices", "Invoices"),
              Entity.BILL_PAYMENT: ("get_payments", "Payments")}
    #: Extra arguments per list: archived contacts too (an archived contact is a change: inactive here).
    _LIST_ARGS = {Entity.CUSTOMER: {"include_archived": True}}

    def changes_since(self, entities, since):
        """``If-Modified-Since`` on invoices, payments, credit notes, contacts, refunds (payments on a credit note
        or an overpayment), spend money (expenses), manual journals, supplier bills and their payments (pages of
        ``LIST_PAGE_SIZE``: a feed reports every document we sent too, and a backlog's thousand a minute would
        otherwise cost ten requests of the platform's sixty) and items (one unpaged list); deleted and voided
        records come back with their status, archived contacts with theirs. Contacts that are suppliers only and
        items that are not sold are not ours to report. A list serving two entities is read once per call:
        ``GET /Invoices`` lists sales invoices (ACCREC) and bills (ACCPAY) alike ("Retrieves sales invoices or
        purchase bills", no ``where`` on ``Type``), and ``GET /Payments`` payments, refunds and bill payments
        (``PaymentType`` ACCPAYPAYMENT); each row is reported as the entity it is, and only for an entity asked
        for. Payments sent as overpayments are not polled (they are not in ``GET /Payments``)."""
        started = dt.datetime.now(dt.UTC)
        changes = []
        fetched: dict[tuple[str, int], list] = {}
        for entity in entities:
            if entity not in self._LISTS:
                continue
            operation, collection = self._LISTS[entity]
            id_field = t.ENTITIES[entity][1]
            for page in range(1, 1000):
                paging = {} if entity == Entity.ITEM else {  # Xero does not page items
                    "page": page, "page_size": self.LIST_PAGE_SIZE}
                key = (operation, page)  # payments and refunds are one list: read once, told apart by _listed_as
                if key not in fetched:
                    fetched[key] = self._list(operation, collection, if_modified_since=since, **paging,
                                              **self._LIST_ARGS.get(entity, {}))
                rows = fetched[key]
                for row in rows:
                    if not _listed_as(entity, row):
                        continue
                    status = str(row.get("Status", "")).upper()
                    changes.append(RemoteChange(entity, str(row[id_field]),
                                                {"DELETED": "delete", "VOIDED": "void"}.get(status, "update"),
                                                self.config.remote_company_id))
                if not paging or len(rows) < self.LIST_PAGE_SIZE:
                    break
        return changes, started

    def remote_payment(self, remote_id: str) -> RemotePayment:
        body = self._current(Entity.PAYMENT, remote_id)
        if t.overpayment_id(remote_id):  # a payment sent as an overpayment: applied to no invoice
            found = t.result(Entity.PAYMENT, body)
            return RemotePayment(
                remote_id=found.remote_id, version=found.version,
                customer_remote_id=str((body.get("Contact") or {}).get("ContactID", "")),
                date=dt.date.fromisoformat(_ms_date(str(body.get("Date", ""))) or str(body.get("Date", ""))[:10]),
                amount=t.q2(Decimal(str(body.get("Total") or 0))), currency=str(body.get("CurrencyCode") or ""),
                allocations=(), reference=str(body.get("Reference") or ""),
                deleted=str(body.get("Status", "")).upper() == "VOIDED")
        invoice = body.get("Invoice") or {}
        amount = Decimal(str(body.get("Amount", "0"))).quantize(Decimal("0.01"))
        allocations = ((str(invoice["InvoiceID"]), amount),) if invoice.get("InvoiceID") else ()
        return RemotePayment(
            remote_id=str(body["PaymentID"]), version=str(body.get("UpdatedDateUTC") or ""),
            customer_remote_id=str((invoice.get("Contact") or {}).get("ContactID", "")),
            date=dt.date.fromisoformat(_ms_date(str(body.get("Date", ""))) or str(body.get("Date", ""))[:10]),
            amount=amount, currency=str(invoice.get("CurrencyCode") or ""), allocations=allocations,
            reference=str(body.get("Reference") or ""), deleted=str(body.get("Status", "")).upper() == "DELETED")

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        body = self._current(entity, remote_id, missing_ok=True)
        if not body:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)
        found = t.result(entity, body)
        details = t.remote_lines(body, self.setting("rounding_account"))
        return RemoteDocument(found.remote_id, found.version, found.number,
                              found.status if found.status in ("voided", "deleted") else "active", found.total,
                              found.balance, tuple((d.quantity, d.unit_price) for d in details),
                              customer=t.remote_customer(body.get("Contact") or {}),
                              issue_date=t.remote_date(body.get("Date")), due_date=t.remote_date(body.get("DueDate")),
                              currency=str(body.get("CurrencyCode") or ""), memo=str(body.get("Reference") or ""),
                              details=details, applications=t.remote_allocations(body))

    def remote_customer(self, remote_id: str) -> RemoteCustomer:
        return t.remote_customer(self._current(Entity.CUSTOMER, remote_id))

    def remote_item(self, remote_id: str) -> RemoteItem:
        return t.remote_item(self._current(Entity.ITEM, remote_id))

    @classmethod
    def verify_webhook(cls, headers, body, secret):
        """``x-xero-signature`` = base64(HMAC-SHA256(webhook key, raw body))."""
        return signatures.verify(body, secret, signatures.header(headers, "x-xero-signature"))

    @classmethod
    def parse_webhook(cls, body):
        """Xero announces invoices and contacts (a payment shows as an update of its invoice; a contact event is a
        customer's change). A body without a list of events (the intent-to-receive check has an empty one) raises
        ``ValueError``."""
        data = json.loads(body or b"null")
        events = data.get("events") if isinstance(data, dict) else None
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise ValueError("not a Xero webhook: no list of events")
        changes = []
        for event in events:
            entity = {"INVOICE": Entity.INVOICE, "CONTACT": Entity.CUSTOMER}.get(
                str(event.get("eventCategory", "")).upper())
            if entity:
                changes.append(RemoteChange(entity, str(event.get("resourceId", "")),
                                            str(event.get("eventType", "UPDATE")).lower(),
                                            str(event.get("tenantId", "")).lower()))
        return changes

    def payments_of(self, invoice_remote_id: str) -> list[RemoteChange]:
        """The payments on one invoice (Xero's webhooks announce them as invoice updates)."""
        rows = self._list("get_payments", "Payments", where=f'Invoice.InvoiceID==Guid("{invoice_remote_id}")')
        return [RemoteChange(Entity.PAYMENT, str(r["PaymentID"]),
                             "delete" if str(r.get("Status", "")).upper() == "DELETED" else "update",
                             self.config.remote_company_id) for r in rows]

    # -- bulk --------------------------------------------------------------------------------------------
    def find_existing_many(self, items: Sequence[tuple[Snapshot, Mapping]]) -> list[RemoteResult | None]:
        """Invoices: one ``GET /Invoices?InvoiceNumbers=a,b,c`` per chunk; other entities one by one."""
        found: list[RemoteResult | None] = [None] * len(items)
        invoices = []
        for i, (doc, mapping) in enumerate(items):
            if isinstance(doc, InvoiceSnapshot) and "," not in doc.number:
                invoices.append(i)
            elif isinstance(doc, InvoiceSnapshot):  # a comma would split the list: search it on its own
                rows = self._list("get_invoices", "Invoices", where=where_equals("InvoiceNumber", doc.number),
                                  unitdp=4)
                found[i] = self._adoptable(doc, mapping, rows, "InvoiceNumber")
            else:
                found[i] = self.find_existing(doc, mapping)
        for start in range(0, len(invoices), INVOICE_NUMBERS_PER_REQUEST):
            chunk = invoices[start:start + INVOICE_NUMBERS_PER_REQUEST]
            numbers = list(dict.fromkeys(items[i][0].number for i in chunk))
            rows = self._list("get_invoices", "Invoices", invoice_numbers=numbers, unitdp=4)
            for i in chunk:
                doc, mapping = items[i]
                found[i] = self._adoptable(doc, mapping, rows, "InvoiceNumber")
        return found

    def write_batch(self, ops: Sequence[BatchOp]) -> list[BatchOutcome]:
        """Invoices, credit notes and new payments: up to 50 per request with ``summarizeErrors=false``; each
        element's ``ValidationErrors`` become that op's ``ValidationFailed``. Anything else goes one by one."""
        outcomes: dict[int, BatchOutcome] = {}
        groups: dict[tuple[str, str], list[tuple[int, dict]]] = {}
        stale_checks = [i for i, op in enumerate(ops) if op.operation == "update" and op.ref is not None
                        and isinstance(op.doc, (InvoiceSnapshot, CreditNoteSnapshot))]
        current = self._current_many(ops, stale_checks) if stale_checks else {}
        for i, op in enumerate(ops):
            doc = op.doc
            batchable = isinstance(doc, (InvoiceSnapshot, CreditNoteSnapshot)) or (
                isinstance(doc, PaymentSnapshot) and op.operation == "create" and not t.is_overpayment(doc))
            if not batchable:
                continue
            try:
                if op.operation == "update":
                    remote = current.get(op.ref.remote_id)
                    if remote is None:
                        raise RemoteNotFound(f"the {doc.entity.replace('_', ' ')} no longer exists in Xero",
                                             hint="Re-send the local record to create it again in Xero.")
                    self._check_not_stale(doc.entity, remote, op.ref)
                    payload = self._update_payload(doc, op.mapping, remote)
                else:
                    payload = self._payload(doc, op.mapping)
            except SyncError as exc:
                outcomes[i] = exc
                continue
            groups.setdefault((doc.entity, op.operation), []).append((i, payload))
        try:
            for (entity, operation), members in groups.items():
                self._send_group(ops, entity, operation, members, outcomes)
            for i, op in enumerate(ops):  # what the batch endpoints cannot carry: the single path
                if i in outcomes:
                    continue
                try:
                    if op.operation == "create":
                        outcomes[i] = self.create(op.doc, op.mapping, op.idempotency_key)
                    else:
                        outcomes[i] = self.update(op.doc, op.mapping, op.ref, op.idempotency_key)
                except PermanentError as exc:
                    outcomes[i] = exc
        except SyncError as exc:  # the request as a whole failed (transport, 429, 5xx, auth)
            if not any(isinstance(o, RemoteResult) for o in outcomes.values()):
                raise
            for i in range(len(ops)):  # keep what went through; the rest is retried as a whole
                outcomes.setdefault(i, exc)
        return [outcomes[i] for i in range(len(ops))]

    def _send_group(self, ops, entity: str, operation: str, members: list[tuple[int, dict]], outcomes: dict) -> None:
        collection = t.ENTITIES[entity][0]
        key = t.idempotency_key("batch", *sorted(ops[i].idempotency_key for i, _ in members))
        body = t.dumps({collection: [payload for _, payload in members]})
        if entity == Entity.PAYMENT:
            response = self.client.call("create_payments", body, summarize_errors=False, idempotency_key=key)
        elif entity == Entity.INVOICE:
            name = "create_invoices" if operation == "create" else "update_or_create_invoices"
            response = self.client.call(name, body, summarize_errors=False, unitdp=4, idempotency_key=key)
        else:
            name = "create_credit_notes" if operation == "create" else "update_or_create_credit_notes"
            response = self.client.call(name, body, summarize_errors=False, unitdp=4, idempotency_key=key)
        elements = response.get(collection) or []
        if len(elements) != len(members):
            for i, _ in members:
                outcomes[i] = RetryableError(f"Xero answered {len(elements)} results for {len(members)} "
                                             f"{collection}; the batch will be retried", raw=response)
            return
        for (i, _), element in zip(members, elements, strict=True):
            error = element_error(element)
            if error is not None:
                outcomes[i] = error
                continue
            op = ops[i]
            try:
                if isinstance(op.doc, CreditNoteSnapshot):
                    element = self._sync_allocations(op.doc, op.mapping, element,
                                                     t.idempotency_key(op.idempotency_key))
                outcomes[i] = t.result(entity, element)
            except PermanentError as exc:
                outcomes[i] = exc

    # -- reconciliation --------------------------------------------------------------------------------------
    reconcile_chunk = 40  # ids per request: the URL (or the where clause) stays short
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.DECLARED})

    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        """Invoices: ``GET /Invoices?IDs=`` per chunk; credit notes and payments: one ``where`` of ids joined by
        OR per chunk. Xero keeps deleted and voided documents (with their status); an id it does not return was
        removed for good."""
        operation, collection = self._LISTS[entity]
        id_field = t.ENTITIES[entity][1]
        found: dict[str, DocumentTotals] = {}
        ids = list(dict.fromkeys(str(i).lower() for i in remote_ids))
        if entity == Entity.PAYMENT:  # payments sent as overpayments are read from their Overpayments records
            overpayments = [t.overpayment_id(i) for i in ids if t.overpayment_id(i)]
            for start in range(0, len(overpayments), self.reconcile_chunk):
                chunk = overpayments[start:start + self.reconcile_chunk]
                where = " OR ".join(f'OverpaymentID==Guid("{i}")' for i in chunk)
                found.update((t.OVERPAYMENT_PREFIX + str(row["OverpaymentID"]).lower(), self._totals(entity, row))
                             for row in self._list("get_overpayments", "Overpayments", where=where))
            ids_read = [i for i in ids if not t.overpayment_id(i)]
        else:
            ids_read = ids
        for start in range(0, len(ids_read), self.reconcile_chunk):
            chunk = ids_read[start:start + self.reconcile_chunk]
            if entity in (Entity.INVOICE, Entity.BILL):
                rows = self._list(operation, collection, i_ds=chunk, unitdp=4)
            else:
                where = " OR ".join(f'{id_field}==Guid("{i}")' for i in chunk)
                rows = self._list(operation, collection, where=where,
                                  **({"unitdp": 4} if entity == Entity.CREDIT_NOTE else {}))
            found.update((str(row[id_field]).lower(), self._totals(entity, row)) for row in rows)
        return [found.get(i) or DocumentTotals(i, entity, status="deleted") for i in ids]

    LIST_PAGE_SIZE = 1000  # Xero's largest pageSize: a tenth of the requests of the default 100

    def list_documents(self, entity: str, since: dt.datetime | None = None):
        """Pages of 1,000 with ``If-Modified-Since`` (everything when ``since`` is None); sales documents only."""
        operation, collection = self._LISTS[entity]
        id_field = t.ENTITIES[entity][1]
        extra = {"if_modified_since": since} if since else {}
        first_ids = set()
        for page in range(1, 100_000):
            rows = self._list(operation, collection, page=page, page_size=self.LIST_PAGE_SIZE, **extra)
            if not rows or rows[0].get(id_field) in first_ids:  # an answer that ignored the page: stop, not loop
                return
            first_ids.add(rows[0].get(id_field))
            count = len(rows)
            yield from (self._totals(entity, row) for row in rows if _listed_as(entity, row))
            rows = None  # not kept while the next page is read: memory holds one page, whatever the total
            if count < self.LIST_PAGE_SIZE:
                return

    #: Bank transactions that are money received from customers: Receive Money, and overpayments and prepayments
    #: received into a bank account. RECEIVE-TRANSFER (between the company's own accounts) is not.
    BANK_RECEIPTS = ("RECEIVE", "RECEIVE-OVERPAYMENT", "RECEIVE-PREPAYMENT")

    def bank_deposits(self, since: dt.date, until: dt.date):
        """Money received in bank accounts, in pages of 1,000: ``GET /BankTransactions`` (the receipt types, not
        deleted; negative lines are fees) and customer payments Xero has reconciled against a bank statement line
        (``GET /Payments`` where ``IsReconciled``), each of which names itself."""
        window = (f"Date >= DateTime({since.year}, {since.month:02d}, {since.day:02d}) && "
                  f"Date <= DateTime({until.year}, {until.month:02d}, {until.day:02d})")
        types = " || ".join(f'Type=="{kind}"' for kind in self.BANK_RECEIPTS)
        for row in self._pages("get_bank_transactions", "BankTransactions",
                               f'{window} && Status=="AUTHORISED" && ({types})'):
            fees = sum((-Decimal(str(line.get("LineAmount") or 0)) for line in row.get("LineItems") or ()
                        if Decimal(str(line.get("LineAmount") or 0)) < 0), Decimal(0))
            yield BankDeposit(
                str(row["BankTransactionID"]), self._day(row), t.q2(Decimal(str(row.get("Total") or 0))),
                str(row.get("CurrencyCode") or ""), str(row.get("Reference") or ""),
                str((row.get("BankAccount") or {}).get("Code") or ""), (), fees, "bank_transaction",
                _flag(row.get("IsReconciled")))
        for row in self._pages("get_payments", "Payments",
                               f'{window} && IsReconciled==true && Status=="AUTHORISED" && '
                               'PaymentType=="ACCRECPAYMENT"'):
            yield BankDeposit(
                f"payment:{row['PaymentID']}", self._day(row), t.q2(Decimal(str(row.get("BankAmount")
                                                                                or row.get("Amount") or 0))),
                str((row.get("Invoice") or {}).get("CurrencyCode") or ""), str(row.get("Reference") or ""),
                str((row.get("Account") or {}).get("Code") or ""), (str(row["PaymentID"]),), Decimal(0), "payment",
                True)

    def _pages(self, operation: str, collection: str, where: str):
        for page in range(1, 100_000):
            rows = self._list(operation, collection, where=where, page=page, page_size=self.LIST_PAGE_SIZE)
            yield from rows
            if len(rows) < self.LIST_PAGE_SIZE:
                return

    @staticmethod
    def _day(row: dict) -> dt.date:
        value = str(row.get("Date") or "")
        return dt.date.fromisoformat(_ms_date(value) or value[:10])

    @staticmethod
    def _totals(entity: str, body: dict) -> DocumentTotals:
        found = t.result(entity, body)
        status = str(body.get("Status") or "").upper()
        normalized = {"VOIDED": "voided", "DELETED": "deleted", "PAID": "paid"}.get(
            status, "paid" if entity == Entity.PAYMENT else "open")
        tax = body.get("TotalTax")
        date = _ms_date(str(body.get("Date") or "")) or str(body.get("Date") or "")[:10]
        currency = (body.get("CurrencyCode") or (body.get("Invoice") or {}).get("CurrencyCode")
                    or (body.get("CreditNote") or {}).get("CurrencyCode") or "")
        return DocumentTotals(
            found.remote_id, entity, found.number, normalized, str(currency), found.total,
            t.q2(Decimal(str(tax))) if tax is not None and status not in CLOSED else
            (t.ZERO if tax is not None else None), found.balance, found.home_total,
            _ms_datetime(str(body.get("UpdatedDateUTC") or "")), dt.date.fromisoformat(date) if date else None,
            found.version)

    def reference_data(self) -> ReferenceData:
        accounts = self._list("get_accounts", "Accounts")
        tax_rates = self._list("get_tax_rates", "TaxRates")
        currencies = self._list("get_currencies", "Currencies")
        organisations = self._list("get_organisations", "Organisations")
        home = str((organisations[0] if organisations else {}).get("BaseCurrency") or "")
        active = [a for a in accounts if a.get("Status", "ACTIVE") == "ACTIVE" and a.get("Code")]
        # Every active account: expenses post to expense accounts and a journal line to any account (the editor
        # offers each kind of rule only the accounts of its kind).
        usable = active
        control = {}
        for a in active:
            if account_kind(a) in (AccountKind.RECEIVABLE, AccountKind.PAYABLE, AccountKind.TAX_PAYABLE):
                control.setdefault(account_kind(a), (str(a["Code"]), str(a.get("Name") or a["Code"])))
        return ReferenceData(
            accounts={str(a["Code"]): str(a.get("Name") or a["Code"]) for a in usable},
            tax_codes={str(r["TaxType"]): str(r.get("Name") or r["TaxType"]) for r in tax_rates
                       if r.get("Status", "ACTIVE") == "ACTIVE" and r.get("TaxType")},
            currencies=frozenset({str(c["Code"]) for c in currencies if c.get("Code")} | ({home} if home else set())),
            home_currency=home, account_kinds={str(a["Code"]): account_kind(a) for a in usable},
            control_accounts=control,
        )

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        problems: list[str] = []
        if isinstance(doc, CustomerSnapshot) and len(doc.name.strip()) > t.CONTACT_NAME_MAX:
            problems.append(f"Xero contact names are at most {t.CONTACT_NAME_MAX} characters")
        if isinstance(doc, SalesDocumentSnapshot):
            if not doc.number.strip():
                problems.append("it has no number; Xero would number it itself and a retry could not find it")
            elif len(doc.number) > t.NUMBER_MAX:
                problems.append(f"its number is longer than Xero's {t.NUMBER_MAX} characters")
            problems += t.rounding_problems(doc, self.sales_settings)
        if isinstance(doc, PaymentSnapshot):
            problems += t.payment_problems(doc)
            if not mapping.deposit_account:
                problems.append("no deposit account (Xero account Code) is mapped for its payment method")
        if isinstance(doc, RefundSnapshot):
            problems += c.refund_problems(doc, mapping)
        if isinstance(doc, JournalSnapshot):
            problems += c.journal_problems(doc, self._base_currency())
        return problems

    # -- helpers -----------------------------------------------------------------------------------------
    def _payload(self, doc: Snapshot, mapping: Mapping) -> dict:
        if isinstance(doc, CustomerSnapshot):
            return t.contact_payload(doc, mapping, self._parent_name(doc, mapping))
        if isinstance(doc, ItemSnapshot):
            return t.item_payload(doc, mapping)
        if isinstance(doc, PaymentSnapshot):
            problems = t.payment_problems(doc)
            if problems:
                raise ConfigurationError("; ".join(problems), hint="Change the payment in the business system.")
            if t.is_overpayment(doc):
                return t.overpayment_payload(doc, mapping, self._receivable_code(),
                                             send_currency_rate=self.setting("rate_source") != "platform")
            return t.payment_payload(doc, mapping, send_currency_rate=self.setting("rate_source") != "platform")
        if isinstance(doc, RefundSnapshot):
            if problems := c.refund_problems(doc, mapping):
                raise ConfigurationError("; ".join(problems), hint="Record the refund in Xero by hand.")
            return c.refund_payload(doc, mapping, send_currency_rate=self.setting("rate_source") != "platform")
        if isinstance(doc, ExpenseSnapshot):
            return c.expense_payload(doc, mapping, self.sales_settings.no_tax_type,
                                     send_currency_rate=self.setting("rate_source") != "platform")
        if isinstance(doc, JournalSnapshot):
            return c.journal_payload(doc, mapping)
        if isinstance(doc, BillSnapshot):
            return c.bill_payload(doc, mapping, self.sales_settings.no_tax_type,
                                  send_currency_rate=self.setting("rate_source") != "platform")
        if isinstance(doc, BillPaymentSnapshot):
            return c.bill_payment_payload(doc, mapping, send_currency_rate=self.setting("rate_source") != "platform")
        if isinstance(doc, SalesDocumentSnapshot):
            settings = self.sales_settings
            if doc.status == "draft":  # sent as a draft (the connection asked for it); final later by an update
                settings = dataclasses.replace(settings, status="DRAFT")
            return t.sales_payload(doc, mapping, self._item_codes(doc, mapping), settings)
        raise TypeError(f"Xero connector cannot send {type(doc).__name__}")

    def _update_payload(self, doc: SalesDocumentSnapshot, mapping: Mapping, current: dict) -> dict:
        entity = doc.entity
        id_field = t.ENTITIES[entity][1]
        payload = {**self._payload(doc, mapping), id_field: current[id_field]}
        if current.get("Status") not in EDITABLE:  # an approved document cannot go back to draft
            payload.pop("Status", None)
        return payload

    def _item_codes(self, doc: SalesDocumentSnapshot, mapping: Mapping) -> dict[str, str]:
        """Our item key -> Xero item Code, for the document's lines (one ``GET /Items`` per connector use)."""
        wanted = {line.item_key: mapping.refs.get(line.item_key) for line in doc.lines if line.item_key}
        wanted = {k: v for k, v in wanted.items() if v}
        if not wanted:
            return {}
        cache = self.__dict__.setdefault("_codes_by_item_id", {})
        if any(item_id not in cache for item_id in wanted.values()):
            for row in self._list("get_items", "Items", unitdp=4):
                cache[row["ItemID"]] = row.get("Code")
        missing = [key for key, item_id in wanted.items() if not cache.get(item_id)]
        if missing:
            raise RemoteNotFound(f"item {missing[0]} no longer exists in Xero (ItemID {wanted[missing[0]]})",
                                 hint="Re-send the item so it is created again in Xero, then retry.")
        return {key: cache[item_id] for key, item_id in wanted.items()}

    def _list(self, operation: str, collection: str, *args, **kwargs) -> list[dict]:
        response = self.client.call(operation, *args, **kwargs)
        rows = response.get(collection) if isinstance(response, dict) else None
        return [r for r in rows or () if isinstance(r, dict)]

    @staticmethod
    def _single(response: dict, collection: str) -> dict:
        rows = response.get(collection) or []
        if not rows:
            raise RetryableError(f"Xero's answer had no {collection}", raw=response)
        error = element_error(rows[0])
        if error is not None:
            raise error
        return rows[0]

    _GETTERS = {Entity.CUSTOMER: "get_contact", Entity.ITEM: "get_item", Entity.INVOICE: "get_invoice",
                Entity.PAYMENT: "get_payment", Entity.CREDIT_NOTE: "get_credit_note", Entity.REFUND: "get_payment",
                Entity.EXPENSE: "get_bank_transaction", Entity.JOURNAL: "get_manual_journal",
                Entity.BILL: "get_invoice", Entity.BILL_PAYMENT: "get_payment"}

    def _current(self, entity: str, remote_id: str, missing_ok: bool = False) -> dict:
        overpayment = t.overpayment_id(remote_id) if entity == Entity.PAYMENT else None
        if overpayment:  # our payment sent as an overpayment: its Overpayments record
            try:
                return self._single(self.client.call("get_overpayment", overpayment), "Overpayments")
            except RemoteNotFound:
                if missing_ok:
                    return {}
                raise
        collection = t.ENTITIES[entity][0]
        kwargs = {"unitdp": 4} if entity in (Entity.ITEM, Entity.INVOICE, Entity.CREDIT_NOTE, Entity.EXPENSE,
                                             Entity.BILL) else {}
        try:
            return self._single(self.client.call(self._GETTERS[entity], remote_id, **kwargs), collection)
        except RemoteNotFound:
            if missing_ok:
                return {}
            raise

    def _current_many(self, ops: Sequence[BatchOp], positions: list[int]) -> dict[str, dict]:
        """Current remote records for batch updates: invoices in one ``GET /Invoices?IDs=`` per chunk."""
        found: dict[str, dict] = {}
        invoice_ids = [ops[i].ref.remote_id for i in positions if isinstance(ops[i].doc, InvoiceSnapshot)]
        for start in range(0, len(invoice_ids), INVOICE_NUMBERS_PER_REQUEST):
            chunk = invoice_ids[start:start + INVOICE_NUMBERS_PER_REQUEST]
            for row in self._list("get_invoices", "Invoices", i_ds=chunk, unitdp=4):
                found[row["InvoiceID"]] = row
        for i in positions:
            if isinstance(ops[i].doc, CreditNoteSnapshot):
                row = self._current(Entity.CREDIT_NOTE, ops[i].ref.remote_id, missing_ok=True)
                if row:
                    found[ops[i].ref.remote_id] = row
        return found

    @staticmethod
    def _check_not_stale(entity: str, current: dict, ref: RemoteRef) -> None:
        """Xero has no optimistic-concurrency token; ``UpdatedDateUTC`` plays its part. A change since we last
        wrote raises ConflictError, and the pipeline re-reads and compares content before re-applying."""
        version = str(current.get("UpdatedDateUTC") or "")
        if ref.version and version and version != ref.version:
            raise ConflictError(f"the {entity.replace('_', ' ')} changed in Xero since we last wrote it",
                                platform_code="UpdatedDateUTC", raw={"remote_version": version})

    def _adoptable(self, doc: SalesDocumentSnapshot, mapping: Mapping, rows: list[dict],
                   number_field: str) -> RemoteResult | None:
        """The document with our number for our customer (deleted ones ignored), or None. A number held by
        another customer's document is a duplicate we must not adopt."""
        same = [r for r in rows if str(r.get(number_field, "")).casefold() == doc.number.casefold()
                and r.get("Type", "ACCREC" if number_field == "InvoiceNumber" else "ACCRECCREDIT")
                in ("ACCREC", "ACCRECCREDIT") and r.get("Status") != "DELETED"]
        if not same:
            return None
        customer = mapping.refs.get(doc.customer_key)
        mine = [r for r in same if (r.get("Contact") or {}).get("ContactID") == customer]
        if not mine:
            raise DuplicateError(f"Xero: {doc.entity.replace('_', ' ')} number {doc.number} is already used by "
                                 "another contact's document", platform_code="10",
                                 hint="Renumber the local document; the Xero one belongs to someone else.")
        return t.result(doc.entity, mine[0], adopted=True)

    def _set_status(self, entity: str, current: dict, status: str, key: str) -> dict:
        collection, id_field, _ = t.ENTITIES[entity]
        remote_id = current[id_field]
        payload = t.dumps({collection: [{id_field: remote_id, "Status": status}]})
        operation = "update_invoice" if entity in (Entity.INVOICE, Entity.BILL) else "update_credit_note"
        return self._single(self.client.call(operation, remote_id, payload, idempotency_key=key), collection)

    # -- credit note allocations -------------------------------------------------------------------------
    def _sync_allocations(self, doc: CreditNoteSnapshot, mapping: Mapping, body: dict, key: str) -> dict:
        """Make the credit note's allocations in Xero match ours, per invoice. Missing amounts are added (a
        retry finds them there and adds nothing twice); an invoice that got more than we now allocate has its
        allocations removed and the right amount added again."""
        if body.get("Status") not in ("AUTHORISED", "PAID"):
            return body  # a draft credit note cannot be allocated; it is allocated once approved
        have: dict[str, Decimal] = {}
        ids: dict[str, list[str]] = {}
        for allocation in body.get("Allocations") or ():
            invoice_id = (allocation.get("Invoice") or {}).get("InvoiceID")
            if invoice_id and not allocation.get("IsDeleted"):
                have[invoice_id] = have.get(invoice_id, Decimal(0)) + Decimal(str(allocation.get("Amount") or 0))
                ids.setdefault(invoice_id, []).append(allocation.get("AllocationID"))
        want: dict[str, Decimal] = {}
        for allocation in doc.allocations:
            invoice_id = mapping.refs[allocation.invoice_key]
            want[invoice_id] = want.get(invoice_id, Decimal(0)) + allocation.amount
        changed = False
        for invoice_id, amount in have.items():
            if amount > want.get(invoice_id, Decimal(0)):
                for allocation_id in ids[invoice_id]:
                    self._delete_allocation(body["CreditNoteID"], allocation_id)
                have[invoice_id] = Decimal(0)
                changed = True
        date = doc.issue_date or dt.date.today()
        for invoice_id, amount in want.items():
            missing = amount - have.get(invoice_id, Decimal(0))
            if missing <= 0:
                continue
            self.client.call("create_credit_note_allocation", body["CreditNoteID"],
                             t.dumps({"Allocations": [t.allocation_payload(invoice_id, missing, date)]}),
                             idempotency_key=t.idempotency_key(key, "alloc", invoice_id))
            changed = True
        return self._current(Entity.CREDIT_NOTE, body["CreditNoteID"]) if changed else body

    def _delete_allocation(self, credit_note_id: str, allocation_id: str | None) -> None:
        if not allocation_id:
            return
        with contextlib.suppress(RemoteNotFound):  # already removed
            self.client.call("delete_credit_note_allocations", credit_note_id, allocation_id)

    def _remove_allocations(self, current: dict) -> None:
        for allocation in current.get("Allocations") or ():
            if not allocation.get("IsDeleted"):
                self._delete_allocation(current["CreditNoteID"], allocation.get("AllocationID"))

    # -- payments ----------------------------------------------------------------------------------------
    def _find_payment(self, doc: PaymentSnapshot, mapping: Mapping) -> RemoteResult | None:
        """Our payment is the one on its invoice with our number as Reference and the same amount; an overpayment
        the RECEIVE-OVERPAYMENT bank transaction with our Reference from the customer."""
        if t.is_overpayment(doc):
            contact = mapping.refs.get(doc.customer_key)
            where = f'{where_equals("Reference", doc.number[:t.REFERENCE_MAX])} AND Type=="RECEIVE-OVERPAYMENT"'
            rows = [r for r in self._list("get_bank_transactions", "BankTransactions", where=where)
                    if r.get("Status") == "AUTHORISED" and r.get("OverpaymentID")
                    and r.get("Reference") == doc.number[:t.REFERENCE_MAX]
                    and (r.get("Contact") or {}).get("ContactID") == contact]
            if not rows:
                return None
            found = self._current(Entity.PAYMENT, t.OVERPAYMENT_PREFIX + rows[0]["OverpaymentID"])
            return t.result(Entity.PAYMENT, found, adopted=True)
        if not doc.allocations:
            return None
        invoice_id = mapping.refs.get(doc.allocations[0].invoice_key)
        if not invoice_id:
            return None
        where = f'{where_equals("Reference", doc.number[:t.REFERENCE_MAX])} AND Invoice.InvoiceID==Guid("{invoice_id}")'
        rows = [r for r in self._list("get_payments", "Payments", where=where)
                if r.get("Status") != "DELETED" and r.get("Reference") == doc.number[:t.REFERENCE_MAX]
                and (r.get("Invoice") or {}).get("InvoiceID", invoice_id) == invoice_id]
        return t.result(doc.entity, rows[0], adopted=True) if rows else None

    def _update_payment(self, doc: PaymentSnapshot | RefundSnapshot | BillPaymentSnapshot, mapping: Mapping,
                        ref: RemoteRef, key: str) -> RemoteResult:
        """Xero cannot edit a payment (nor a refund, a payment on a credit note, nor a bill payment): if what we
        would send differs, delete it and record it again."""
        current = self._current(doc.entity, ref.remote_id, missing_ok=True)
        payload = self._payload(doc, mapping)
        if current and current.get("Status") != "DELETED" and _same_payment(current, payload):
            return t.result(doc.entity, current)
        if current and current.get("Status") != "DELETED":
            self.delete(doc.entity, ref, t.idempotency_key(key, "replace"))
        body = self._single(self.client.call("create_payments", t.dumps({"Payments": [payload]}),
                                             idempotency_key=key), "Payments")
        return t.result(doc.entity, body)

    def _create_overpayment(self, payload: dict, key: str) -> RemoteResult:
        """A payment applied to no invoice: a RECEIVE-OVERPAYMENT bank transaction, which makes Xero's
        ``Overpayments`` record (its ``OverpaymentID`` is on the transaction); the result is that record."""
        body = self._single(self.client.call("create_bank_transactions",
                                             t.dumps({"BankTransactions": [payload]}), idempotency_key=key),
                            "BankTransactions")
        if not body.get("OverpaymentID"):
            raise RetryableError("Xero's answer named no OverpaymentID for the overpayment", raw=body)
        return t.result(Entity.PAYMENT, self._current(Entity.PAYMENT, t.OVERPAYMENT_PREFIX + body["OverpaymentID"]))

    def _update_overpayment(self, doc: PaymentSnapshot, mapping: Mapping, ref: RemoteRef) -> RemoteResult:
        """An overpayment as it was sent is left alone; Xero's API edits none (nor turns one into a payment)."""
        current = self._current(Entity.PAYMENT, ref.remote_id) if t.overpayment_id(ref.remote_id) else {}
        if current and t.is_overpayment(doc) and current.get("Status") != "VOIDED" and \
                Decimal(str(current.get("Total") or 0)) == t.q2(doc.amount) and \
                (current.get("Contact") or {}).get("ContactID") == mapping.refs.get(doc.customer_key):
            return t.result(Entity.PAYMENT, current)
        raise PermanentError("Xero's API cannot change an overpayment (nor make a payment one, or one a payment)",
                             code="unsupported", hint="Change the overpayment in Xero by hand.")

    def _receivable_code(self) -> str:
        """The accounts receivable system account's code (an overpayment's line posts there): one
        ``GET /Accounts`` per connector use."""
        if "_receivable" not in self.__dict__:
            codes = [str(a["Code"]) for a in self._list("get_accounts", "Accounts", where='SystemAccount=="DEBTORS"')
                     if a.get("SystemAccount") == "DEBTORS" and a.get("Code")]
            if not codes:
                raise ConfigurationError("Xero has no accounts receivable (DEBTORS) account with a code",
                                         hint="Give the Accounts Receivable account a code in Xero.")
            self._receivable = codes[0]
        return self._receivable

    # -- refunds, expenses, journals ---------------------------------------------------------------------
    def _find_cost(self, doc: RefundSnapshot | ExpenseSnapshot | JournalSnapshot | BillSnapshot | BillPaymentSnapshot,
                   mapping: Mapping) -> RemoteResult | None:
        """Ours by our number: a refund is the payment on its credit note with our number as Reference, an expense
        the SPEND transaction with our Reference, a journal the one whose narration is ours, a bill the supplier's
        ACCPAY invoice with the supplier's bill number (ours when there is none), a bill payment the payment on
        its bill with our number as Reference."""
        if isinstance(doc, BillPaymentSnapshot):
            bill = mapping.refs.get(doc.bill_key)
            if not bill:
                return None
            where = (f'{where_equals("Reference", doc.number[:t.REFERENCE_MAX])} AND '
                     f'Invoice.InvoiceID==Guid("{bill}")')
            rows = [r for r in self._list("get_payments", "Payments", where=where)
                    if r.get("Reference") == doc.number[:t.REFERENCE_MAX]]
        elif isinstance(doc, RefundSnapshot) and doc.payment_key:
            overpayment = t.overpayment_id(mapping.refs.get(doc.payment_key))
            if not overpayment:
                return None
            where = (f'{where_equals("Reference", doc.number[:t.REFERENCE_MAX])} AND '
                     f'PaymentType=="AROVERPAYMENTPAYMENT"')
            rows = [r for r in self._list("get_payments", "Payments", where=where)
                    if r.get("Reference") == doc.number[:t.REFERENCE_MAX]
                    and str((r.get("Overpayment") or {}).get("OverpaymentID", "")).lower() == overpayment.lower()]
        elif isinstance(doc, RefundSnapshot):
            note = mapping.refs.get(doc.credit_note_key or "")
            if not note:
                return None
            where = (f'{where_equals("Reference", doc.number[:t.REFERENCE_MAX])} AND '
                     f'CreditNote.CreditNoteID==Guid("{note}")')
            rows = [r for r in self._list("get_payments", "Payments", where=where)
                    if r.get("Reference") == doc.number[:t.REFERENCE_MAX]]
        elif isinstance(doc, BillSnapshot):
            number, supplier = c.bill_number(doc), doc.supplier.strip()[:255].casefold()
            rows = [r for r in self._list("get_invoices", "Invoices", invoice_numbers=[number], unitdp=4)
                    if r.get("Type") == "ACCPAY" and r.get("InvoiceNumber") == number
                    and str((r.get("Contact") or {}).get("Name", "")).casefold() == supplier]
        elif isinstance(doc, ExpenseSnapshot):
            reference = c.expense_reference(doc)
            rows = [r for r in self._list("get_bank_transactions", "BankTransactions", unitdp=4,
                                          where=f'{where_equals("Reference", reference)} AND Type=="SPEND"')
                    if r.get("Reference") == reference]
        else:
            narration = c.journal_payload(doc, mapping)["Narration"]
            rows = [r for r in self._list("get_manual_journals", "ManualJournals",
                                          where=where_equals("Narration", narration))
                    if r.get("Narration") == narration]
        rows = [r for r in rows if r.get("Status") not in CLOSED]
        return t.result(doc.entity, rows[0], adopted=True) if rows else None

    def _update_cost(self, doc: ExpenseSnapshot | JournalSnapshot | BillSnapshot, mapping: Mapping, ref: RemoteRef,
                     key: str) -> RemoteResult:
        """An expense's bank transaction, a bill or a journal, edited in place (Xero allows it until reconciled or
        paid)."""
        current = self._current(doc.entity, ref.remote_id)
        self._check_not_stale(doc.entity, current, ref)
        collection, id_field, _ = t.ENTITIES[doc.entity]
        payload = {**self._payload(doc, mapping), id_field: ref.remote_id}
        operation = {Entity.EXPENSE: "update_bank_transaction", Entity.BILL: "update_invoice"}.get(
            doc.entity, "update_manual_journal")
        extra = {"unitdp": 4} if doc.entity in (Entity.EXPENSE, Entity.BILL) else {}
        body = self._single(self.client.call(operation, ref.remote_id, t.dumps({collection: [payload]}),
                                             idempotency_key=key, **extra), collection)
        return t.result(doc.entity, body)

    def _base_currency(self) -> str:
        """The organisation's base currency (one ``GET /Organisation`` per connector use)."""
        if "_base" not in self.__dict__:
            organisations = self._list("get_organisations", "Organisations")
            self._base = str((organisations[0] if organisations else {}).get("BaseCurrency") or "")
        return self._base

    # -- customer hierarchy ------------------------------------------------------------------------------
    def _parent_name(self, doc: CustomerSnapshot, mapping: Mapping) -> str:
        """The parent customer's current Xero name (sub-customers are named ``Parent: Child``)."""
        parent_id = mapping.refs.get(doc.parent_key) if doc.parent_key else None
        if not parent_id:
            return ""
        cache = self.__dict__.setdefault("_contact_names", {})
        if parent_id not in cache:
            cache[parent_id] = str(self._current(Entity.CUSTOMER, parent_id).get("Name") or "")
        return cache[parent_id]


def _same_payment(current: dict, payload: dict) -> bool:
    def amount(value) -> Decimal:
        return Decimal(str(value or 0))

    current_date = str(current.get("Date") or "")
    date_same = payload.get("Date") is None or current_date.startswith(payload["Date"]) or \
        _ms_date(current_date) == payload.get("Date")
    return (amount(current.get("Amount")) == amount(payload.get("Amount"))
            and all((current.get(kind) or {}).get(f"{kind}ID") == (payload.get(kind) or {}).get(f"{kind}ID")
                    for kind in ("Invoice", "CreditNote", "Overpayment"))
            and str((current.get("Account") or {}).get("Code", "")) == payload["Account"]["Code"]
            and str(current.get("Reference") or "") == payload.get("Reference", "")
            and date_same)


def _ms_date(value: str) -> str | None:
    """``/Date(1552262400000+0000)/`` as ``2019-03-11``."""
    if value.startswith("/Date(") and value.endswith(")/"):
        digits = value[6:-2].split("+")[0].split("-")[0] if not value[6:].startswith("-") else None
        if digits and digits.isdigit():
            return dt.datetime.fromtimestamp(int(digits) / 1000, dt.UTC).date().isoformat()
    return None


def _ms_datetime(value: str) -> dt.datetime | None:
    """``/Date(1552262400000+0000)/`` (or an ISO time) as an aware datetime; None when it is neither."""
    if value.startswith("/Date(") and value.endswith(")/"):
        digits = value[6:-2].split("+")[0].split("-")[0]
        return dt.datetime.fromtimestamp(int(digits) / 1000, dt.UTC) if digits.isdigit() else None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    return parsed.replace(tzinfo=dt.UTC) if parsed and parsed.tzinfo is None else parsed


def _jwt_claims(token: str) -> dict:
    """The claims of a JWT access token, unverified (used only to prefer this consent's connections)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _listed_as(entity: str, row: dict) -> bool:
    """Whether a row of the list ``_LISTS[entity]`` reads is that entity and ours to report: sales invoices and
    credit notes (not bills, which the same list reports as bills: ACCPAY), payments on an invoice and refunds of a
    credit note (both ``Payments``), spend money (expenses), contacts that are not suppliers only, items that are
    sold."""
    if entity == Entity.INVOICE:
        return row.get("Type") in (None, "ACCREC")
    if entity == Entity.CREDIT_NOTE:
        return row.get("Type") in (None, "ACCRECCREDIT")
    if entity == Entity.CUSTOMER:
        return not (row.get("IsSupplier") and not row.get("IsCustomer"))
    if entity == Entity.ITEM:
        return row.get("IsSold", True) is not False
    if entity == Entity.EXPENSE:
        return row.get("Type") in (None, "SPEND")
    if entity == Entity.BILL:
        return row.get("Type") == "ACCPAY"
    if entity == Entity.REFUND:
        return bool(row.get("CreditNote") or row.get("Overpayment"))
    if entity == Entity.PAYMENT:
        return not row.get("CreditNote") and not row.get("Overpayment") and not _pays_a_bill(row)
    if entity == Entity.BILL_PAYMENT:
        return _pays_a_bill(row)
    return True


def _pays_a_bill(payment: dict) -> bool:
    """A payment on a supplier bill (an ACCPAY invoice): Xero's ``PaymentType`` ACCPAYPAYMENT."""
    return payment.get("PaymentType") == "ACCPAYPAYMENT" or (payment.get("Invoice") or {}).get("Type") == "ACCPAY"
