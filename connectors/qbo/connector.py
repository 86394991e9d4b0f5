"""QuickBooks Online connector: snapshots in, QBO v3 calls out, classified errors back."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
import uuid
from decimal import Decimal
from functools import cached_property

from .. import oauth, signatures
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, SCOPE_FIELD, TIMEOUT_FIELD, TOKEN_URL_FIELD, AccountKind,
                    BankDeposit, BaseConnector, Capabilities, DemoChart, Dimension, DocumentTotals, ReferenceData,
                    Refused, RemoteChange, RemoteCustomer, RemoteDocument, RemoteItem, RemotePayment, Setting,
                    TokenSet)
from ..documents import (BillPaymentSnapshot, BillSnapshot, CreditNoteSnapshot, CustomerSnapshot, Entity,
                         ExpenseSnapshot, InvoiceSnapshot, ItemSnapshot, JournalSnapshot, Mapping, PaymentSnapshot,
                         RefundSnapshot, RemoteRef, RemoteResult, Snapshot)
from ..errors import (ConfigurationError, PermanentError, RemoteNotFound, RetryableError, SyncError,
                      ValidationFailed)
from ..registry import register
from . import costs as c
from . import translate as t
from .client import QBOClient, quote
from .errors import HINTS, fault_error, refused_references
from .manual import INVOICES as MANUAL_INVOICES


REFERENCE_CODES = {"610", "2500"}  # object not found / invalid reference
#: US companies' sales-tax pseudo codes: taxable (rate from the jurisdiction) and not taxable.
US_TAX_CODE, US_NO_TAX_CODE = "TAX", "NON"

#: QBO AccountType -> AccountKind. A payment deposits to a Bank or Other Current Asset account (Finance.xsd,
#: Payment.DepositToAccountRef), Undeposited Funds being the usual one.
ACCOUNT_KINDS = {"Income": AccountKind.INCOME, "Other Income": AccountKind.INCOME,
                 "Expense": AccountKind.EXPENSE, "Other Expense": AccountKind.EXPENSE,
                 "Cost of Goods Sold": AccountKind.EXPENSE, "Bank": AccountKind.DEPOSIT,
                 "Credit Card": AccountKind.CREDIT_CARD,
                 "Other Current Asset": AccountKind.DEPOSIT, "Accounts Receivable": AccountKind.RECEIVABLE,
                 "Accounts Payable": AccountKind.PAYABLE}


def account_kind(account: dict) -> str:
    if account.get("AccountSubType") in ("SalesTaxPayable", "GlobalTaxPayable"):
        return AccountKind.TAX_PAYABLE
    return ACCOUNT_KINDS.get(account.get("AccountType", ""), AccountKind.OTHER)


@register
class QBOConnector(BaseConnector):
    id = "qbo"
    name = "QuickBooks Online"
    capabilities = Capabilities(
        entities=frozenset(Entity.EVERY),  # supplier bills and bill payments too (costs.py)
        void=frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.BILL_PAYMENT}),
        # Purchases, bills and journal entries cannot be voided through the API: a voided refund, expense, bill or
        # journal is deleted.
        delete=frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, Entity.CUSTOMER, Entity.ITEM,
                          Entity.REFUND, Entity.EXPENSE, Entity.JOURNAL, Entity.BILL, Entity.BILL_PAYMENT}),
        kept_lines=True,
        batch_size=30,
        # /cdc and webhooks report customers and items too: they come in on their own (created, edited, inactive).
        # refunds, expenses, journals, bills and bill payments: voids, deletes and amount edits are polled (not their
        # creation there)
        inbound=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE,
                           *Entity.DECLARED}),
        inbound_creates=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE}),
        webhooks=True,
        bank_feed=True,
    )
    rate_limits = {"request": (500, 60.0), "batch": (40, 60.0)}  # per company (realm)
    concurrent_limit = 10  # requests in flight per app and company
    manual_formats = (MANUAL_INVOICES,)  # entering invoices by hand while the API is down (manual.py)
    default_settings = {
        "api_base": "https://quickbooks.api.intuit.com/v3",
        "authorize_url": "https://appcenter.intuit.com/connect/oauth2",
        "token_url": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",  # nosec B105
        "scope": "com.intuit.quickbooks.accounting",
        "no_tax_code": "NON",  # the tax code for untaxed lines (US companies: NON)
        "timeout": 30,
    }
    settings_fields = (
        API_BASE_FIELD, AUTHORIZE_URL_FIELD, TOKEN_URL_FIELD, SCOPE_FIELD,
        Setting("no_tax_code", "Tax code for untaxed lines", "The QuickBooks tax code (its Id) put on lines without a "
                "tax rate. US companies: NON; elsewhere the company's zero-rated or exempt code."),
        TIMEOUT_FIELD,
    )

    dimensions = (
        Dimension("class", "Class", "Classes (optional)",
                  "The QuickBooks Online class (its Id) put on each sales line: by item, item category or line kind, "
                  "else the default; no rule, no class.", "class id"),
        Dimension("location", "Location", "Location (optional)",
                  "The QuickBooks Online location (Department Id) put on each invoice and credit memo; no rule, "
                  "no location.", "location (department) id", per_line=False),
    )
    sandbox_class = "connectors.qbo.sandbox.QBOSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Services"},
                           line_kind_income={"shipping": "Shipping Income", "fee": "Fees"},
                           discount="Discounts given", deposit="Undeposited Funds",
                           taxes={"GST 10%": "GST 10%", "Exempt": "Exempt"},
                           refund="Checking", expense="Shipping and Delivery", paid_from="Checking")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        return {"api_base": f"{base_url}/v3", "authorize_url": f"{base_url}/connect/oauth2",
                "token_url": f"{base_url}/oauth2/v1/tokens/bearer", "no_tax_code": "NON"}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        return refused_references(exc)

    @classmethod
    def tax_code_needs_jurisdiction(cls, tax_code: str, reference: ReferenceData | None) -> bool:
        """In a US company (its tax codes include the sales-tax pseudo codes TAX and NON) the code TAX carries no
        rate of its own: US sales tax is charged by jurisdiction (state, county, city)."""
        return (tax_code == US_TAX_CODE and reference is not None
                and {US_TAX_CODE, US_NO_TAX_CODE} <= reference.tax_codes.keys())

    @cached_property
    def client(self) -> QBOClient:
        return QBOClient(self.setting("api_base"), self.config.remote_company_id, self.access_token,
                         timeout=float(self.setting("timeout")), throttle=self.throttle)

    # -- OAuth -------------------------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        return oauth.authorization_url(self.setting("authorize_url"), self.config.client_id, redirect_uri,
                                       self.setting("scope"), state)

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        tokens = oauth.token_request(self.setting("token_url"), self.config.client_id, self.config.client_secret,
                                     {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        return TokenSet(**{**tokens.__dict__, "remote_company_id": params.get("realmId", "")})

    def refresh(self, refresh_token: str) -> TokenSet:
        return oauth.token_request(self.setting("token_url"), self.config.client_id, self.config.client_secret,
                                   {"grant_type": "refresh_token", "refresh_token": refresh_token})

    # -- documents ---------------------------------------------------------------------------------------
    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        entity = t.ENTITY_NAMES[doc.entity]
        if isinstance(doc, CustomerSnapshot):
            name = quote(doc.name[:100])
            rows = self.client.query(f"select * from Customer where DisplayName = {name}")  # nosec B608
        elif isinstance(doc, ItemSnapshot):
            rows = self.client.query(f"select * from Item where Name = {quote(doc.name[:100])}")  # nosec B608
        elif isinstance(doc, PaymentSnapshot):
            rows = self.client.query(
                f"select * from Payment where CustomerRef = {quote(mapping.refs[doc.customer_key])} "  # nosec B608
                f"and TxnDate = {quote(doc.date.isoformat())}")
            rows = [r for r in rows if r.get("PaymentRefNum") == doc.number[:21]]
        elif isinstance(doc, (RefundSnapshot, ExpenseSnapshot, JournalSnapshot)):
            rows = [r for r in self.client.query(f"select * from {entity} where DocNumber = "  # nosec B608
                                                 f"{quote(doc.number[:21])}") if self._same_payee(doc, mapping, r)]
        elif isinstance(doc, BillPaymentSnapshot):  # ours: our number, paying our bill
            rows = [r for r in self.client.query(f"select * from BillPayment where DocNumber = "  # nosec B608
                                                 f"{quote(doc.number[:21])}")
                    if any(str(link.get("TxnId")) == mapping.refs[doc.bill_key] and link.get("TxnType") == "Bill"
                           for line in r.get("Line", []) for link in line.get("LinkedTxn", []))]
        elif isinstance(doc, BillSnapshot):  # the supplier's number: ours only where the supplier's repeats
            rows = [r for r in self.client.query(f"select * from Bill where DocNumber = "  # nosec B608
                                                 f"{quote(c.bill_number(doc))}") if self._same_payee(doc, mapping, r)]
        else:
            rows = self.client.query(f"select * from {entity} where DocNumber = {quote(doc.number)}")  # nosec B608
            customer = mapping.refs[doc.customer_key]
            foreign = [r for r in rows if r.get("CustomerRef", {}).get("value") != customer]
            if foreign and len(foreign) == len(rows):
                raise ValidationFailed(
                    f"{entity} number {doc.number} is already used in QuickBooks by another customer",
                    platform_code="6140", hint=HINTS["6140"])
            rows = [r for r in rows if r not in foreign]
        return t.result(entity, rows[0], adopted=True) if rows else None

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        entity = t.ENTITY_NAMES[doc.entity]
        result = self._with_fresh_items(
            lambda key: t.result(entity, self.client.create(entity, self._payload(doc, mapping), key)), idempotency_key)
        if isinstance(doc, RefundSnapshot):
            return self._apply_refund(doc, mapping, result, idempotency_key)
        return self._apply_credit(doc, mapping, result, idempotency_key)

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        entity = t.ENTITY_NAMES[doc.entity]

        def send(key):
            body = {**self._payload(doc, mapping), "Id": ref.remote_id, "SyncToken": ref.version, "sparse": True}
            return t.result(entity, self.client.update(entity, body, key))

        if isinstance(doc, RefundSnapshot):  # lowered: its application first (QBO refuses a purchase below it)
            current = self._refund_application(ref.remote_id, mapping.refs[doc.customer_key])
            if current is not None and doc.amount < c.applied_to_refund(current, ref.remote_id):
                self._set_refund_application(doc, mapping, ref.remote_id, current, idempotency_key)
            return self._apply_refund(doc, mapping, self._with_fresh_items(send, idempotency_key), idempotency_key)
        return self._apply_credit(doc, mapping, self._with_fresh_items(send, idempotency_key), idempotency_key)

    # -- refunds: a purchase on A/R, and the zero payment applying the credit memo to it -------------------------
    def _apply_refund(self, doc: RefundSnapshot, mapping: Mapping, result: RemoteResult, key: str) -> RemoteResult:
        """Apply the refunded credit memo to the refund's purchase (``costs``) for the refund's amount: created, or
        changed when the amount changed. An overpayment's refund is left unapplied (its payment would have to be
        edited)."""
        if not doc.credit_note_key:
            return result
        current = self._refund_application(result.remote_id, mapping.refs[doc.customer_key])
        if current is not None and c.applied_to_refund(current, result.remote_id) == doc.amount:
            return result
        self._set_refund_application(doc, mapping, result.remote_id, current, key)
        return t.result("Purchase", self.client.read("Purchase", result.remote_id))

    def _set_refund_application(self, doc: RefundSnapshot, mapping: Mapping, purchase_id: str, current: dict | None,
                                key: str) -> None:
        body = {k: v for k, v in c.refund_application(doc, mapping, purchase_id).items() if v is not None}
        if current is None:
            self.client.create("Payment", body, _derived(key, f"refund-apply:{purchase_id}"))
        else:
            self.client.update("Payment", {"Id": current["Id"], "SyncToken": current["SyncToken"], "sparse": True,
                                           "TotalAmt": Decimal("0"), "Line": body["Line"]},
                               _derived(key, f"refund-apply:{current['Id']}:{current['SyncToken']}"))

    def _refund_application(self, purchase_id: str, customer_id: str) -> dict | None:
        rows = self.client.query(f"select * from Payment where CustomerRef = {quote(customer_id)} "  # nosec B608
                                 "and TotalAmt = '0' maxresults 1000")
        return next((row for row in rows if c.applies_refund(row, purchase_id)), None)

    def _unapply_refund(self, purchase_id: str, customer_id: str, key: str) -> None:
        current = self._refund_application(purchase_id, customer_id)
        if current is not None:
            self.client.delete("Payment", current["Id"], current["SyncToken"],
                               _derived(key, f"refund-unapply:{current['Id']}:{current['SyncToken']}"))

    def _same_payee(self, doc: Snapshot, mapping: Mapping, row: dict) -> bool:
        """A purchase or journal found by our number is ours: a refund's purchase pays our customer, an expense's a
        vendor, a journal has no payee. A bill with the supplier's bill number is ours when it is that supplier's."""
        payee = row.get("EntityRef") or {}
        if isinstance(doc, RefundSnapshot):
            return payee.get("type") == "Customer" and str(payee.get("value")) == mapping.refs[doc.customer_key]
        if isinstance(doc, ExpenseSnapshot):
            return payee.get("type", "Vendor") == "Vendor" and \
                str(payee.get("name", "")).casefold() == doc.payee.strip()[:500].casefold()
        if isinstance(doc, BillSnapshot):
            vendor = row.get("VendorRef") or {}
            return str(vendor.get("name", "")).casefold() == doc.supplier.strip()[:500].casefold()
        return True

    # -- credit applied to invoices ----------------------------------------------------------------------
    def _apply_credit(self, doc: Snapshot, mapping: Mapping, result: RemoteResult, key: str) -> RemoteResult:
        """QBO applies a credit memo to invoices with a Payment of total 0 whose lines link the invoices and the
        credit memo (Finance.xsd: Payment.Line.LinkedTxn). One such payment per credit memo, kept equal to our
        allocations: created, changed or deleted. Returns the credit memo as it is afterwards (applying it
        moves its SyncToken and RemainingCredit)."""
        if not isinstance(doc, CreditNoteSnapshot):
            return result
        wanted = [(mapping.refs[a.invoice_key], a.amount) for a in doc.allocations if a.amount]
        current = self._credit_application(result.remote_id, mapping.refs[doc.customer_key])
        lines = t.credit_application_lines(result.remote_id, wanted)
        if current is None and not wanted:
            return result
        if current is not None and t.same_application(current, lines):
            return result
        if current is None:
            body = {"CustomerRef": t.ref(mapping.refs[doc.customer_key]), "TotalAmt": Decimal("0"),
                    "PaymentRefNum": f"CM {doc.number}"[:21], "TxnDate": doc.issue_date.isoformat(),
                    "PrivateNote": f"Applies credit memo {doc.number}", "Line": lines}
            self.client.create("Payment", body, _derived(key, f"apply:{result.remote_id}"))
        elif wanted:
            body = {"Id": current["Id"], "SyncToken": current["SyncToken"], "sparse": True, "TotalAmt": Decimal("0"),
                    "Line": lines}
            self.client.update("Payment", body, _derived(key, f"apply:{current['Id']}:{current['SyncToken']}"))
        else:
            self.client.delete("Payment", current["Id"], current["SyncToken"],
                               _derived(key, f"unapply:{current['Id']}:{current['SyncToken']}"))
        return t.result("CreditMemo", self.client.read("CreditMemo", result.remote_id))

    def _credit_application(self, credit_memo_id: str, customer_id: str) -> dict | None:
        """The zero-total payment that applies this credit memo, if there is one."""
        rows = self.client.query(f"select * from Payment where CustomerRef = {quote(customer_id)} "  # nosec B608
                                 "and TotalAmt = '0' maxresults 1000")
        for row in rows:
            if any(link.get("TxnType") == "CreditMemo" and str(link.get("TxnId")) == credit_memo_id
                   for line in row.get("Line", []) for link in line.get("LinkedTxn", [])):
                return row
        return None

    def _with_fresh_items(self, send, idempotency_key: str):
        """A write refused for a missing or inactive reference may have used a remembered generic item that
        was deleted on the platform: forget the remembered items and send once more. Nothing was applied, and
        QBO remembers the refusal under the requestid, so the second send carries a requestid of its own."""
        self._used_remembered_item = False
        try:
            return send(idempotency_key)
        except PermanentError as exc:
            if exc.platform_code not in REFERENCE_CODES or not self._used_remembered_item:
                raise
        self.forget_generic_items()
        return send(_derived(idempotency_key, "fresh-items"))

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        name = t.ENTITY_NAMES[entity]
        return t.result(name, self.client.void(name, ref.remote_id, ref.version, idempotency_key))

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        name = t.ENTITY_NAMES[entity]
        if entity == Entity.CREDIT_NOTE:  # its applications go first: QBO refuses a credit memo still applied
            memo = self.client.read("CreditMemo", ref.remote_id)
            current = self._credit_application(ref.remote_id, memo["CustomerRef"]["value"])
            if current is not None:
                self.client.delete("Payment", current["Id"], current["SyncToken"],
                                   _derived(idempotency_key, f"unapply:{current['Id']}"))
                ref = RemoteRef(ref.remote_id, str(self.client.read("CreditMemo", ref.remote_id)["SyncToken"]))
        if entity == Entity.REFUND:  # its application goes first: QBO refuses a purchase still applied
            purchase = self.client.read("Purchase", ref.remote_id)
            customer = str((purchase.get("EntityRef") or {}).get("value", ""))
            if self._refund_application(ref.remote_id, customer) is not None:
                self._unapply_refund(ref.remote_id, customer, idempotency_key)
                ref = RemoteRef(ref.remote_id, str(self.client.read("Purchase", ref.remote_id)["SyncToken"]))
        if entity in (Entity.CUSTOMER, Entity.ITEM):  # QBO never deletes names: they are made inactive
            body = {"Id": ref.remote_id, "SyncToken": ref.version, "sparse": True, "Active": False}
            self.client.update(name, body, idempotency_key)
        else:
            self.client.delete(name, ref.remote_id, ref.version, idempotency_key)

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        name = t.ENTITY_NAMES[entity]
        return t.result(name, self.client.read(name, remote_id))

    # -- platform -> local -------------------------------------------------------------------------------
    def changes_since(self, entities, since):
        """Change data capture: ``GET /cdc`` (QBO keeps 30 days; at most 1,000 objects per answer)."""
        wanted = [e for e in entities if e in self.inbound_entities]
        names = list(dict.fromkeys(t.ENTITY_NAMES[e] for e in wanted))
        if not names:
            return [], since
        started = dt.datetime.now(dt.UTC)
        body = self.client.request("GET", "cdc", params={"entities": ",".join(names),
                                                        "changedSince": since.astimezone(dt.UTC)
                                                        .strftime("%Y-%m-%dT%H:%M:%SZ")})
        changes = []
        by_name: dict[str, list[str]] = {}
        for entity in wanted:  # a Purchase is a refund or an expense
            by_name.setdefault(t.ENTITY_NAMES[entity], []).append(entity)
        for block in body.get("CDCResponse", []):
            for response in block.get("QueryResponse", []):
                for name, rows in response.items():
                    if name not in by_name or not isinstance(rows, list):
                        continue
                    for row in rows:
                        deleted = str(row.get("status", "")).lower() == "deleted"
                        # a deleted row is only its Id: reported as each entity it may be (ours has a reference)
                        for entity in by_name[name]:
                            if deleted or t.purchase_is(entity, row):
                                changes.append(RemoteChange(entity, str(row["Id"]), "delete" if deleted else "update",
                                                            self.config.remote_company_id))
        return changes, started

    def remote_payment(self, remote_id: str) -> RemotePayment:
        return t.remote_payment(self.client.read("Payment", remote_id))

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        name = t.ENTITY_NAMES[entity]
        try:
            body = self.client.read(name, remote_id)
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)
        found = t.remote_document(body)
        if entity != Entity.CREDIT_NOTE:
            return found
        return dataclasses.replace(found, applications=self._credit_applications(body))

    def _credit_applications(self, memo: dict) -> tuple[tuple[str, Decimal], ...]:
        """A credit memo's applications to invoices: the zero-total payments its ``LinkedTxn`` names (how QBO
        applies a credit, and how ``_apply_credit`` writes it), their invoice lines each. A payment that also
        moved money is left out: it does not say which invoice the credit went to."""
        applications: list[tuple[str, Decimal]] = []
        for link in memo.get("LinkedTxn") or ():
            if link.get("TxnType") != "Payment":
                continue
            try:
                payment = self.client.read("Payment", str(link.get("TxnId")))
            except RemoteNotFound:
                continue
            if Decimal(str(payment.get("TotalAmt", "0"))) != 0:
                continue
            applications += t.invoice_links(payment)
        return tuple(applications)

    def remote_customer(self, remote_id: str) -> RemoteCustomer:
        return t.remote_customer(self.client.read("Customer", remote_id))

    def remote_item(self, remote_id: str) -> RemoteItem:
        return t.remote_item(self.client.read("Item", remote_id))

    @classmethod
    def verify_webhook(cls, headers, body, secret):
        """``intuit-signature`` = base64(HMAC-SHA256(verifier token, raw body))."""
        return signatures.verify(body, secret, signatures.header(headers, "intuit-signature"))

    @classmethod
    def parse_webhook(cls, body):
        """Both payloads Intuit sends: classic ``eventNotifications`` and the CloudEvents array. Anything else
        (not JSON, a scalar, a list of non-objects, notifications that are not a list) raises ``ValueError``."""
        data = json.loads(body or b"null")
        by_name: dict[str, list[str]] = {}
        for entity, name in t.ENTITY_NAMES.items():  # a Purchase event is a refund or an expense: reported as both
            by_name.setdefault(name.lower(), []).append(entity)
        changes = []
        if isinstance(data, dict) and _list_of_objects(data.get("eventNotifications")):
            for note in data["eventNotifications"]:
                entities = (note.get("dataChangeEvent") or {}).get("entities", [])
                if not isinstance(note.get("dataChangeEvent") or {}, dict) or not _list_of_objects(entities):
                    raise ValueError("a QuickBooks event notification without a list of entities")
                for event in entities:
                    for entity in by_name.get(str(event.get("name", "")).lower(), ()):
                        changes.append(RemoteChange(entity, str(event.get("id")),
                                                    str(event.get("operation", "Update")).lower(),
                                                    str(note.get("realmId", ""))))
        elif _list_of_objects(data) and data:  # CloudEvents: type "qbo.<entity>.<operation>.v1"
            for event in data:
                parts = str(event.get("type", "")).split(".")
                for entity in by_name.get(parts[1].lower(), ()) if len(parts) >= 3 else ():
                    changes.append(RemoteChange(entity, str(event.get("intuitentityid", "")),
                                                {"created": "create", "updated": "update", "deleted": "delete",
                                                 "voided": "void"}.get(parts[2].lower(), parts[2].lower()),
                                                str(event.get("intuitaccountid", ""))))
        else:
            raise ValueError("not a QuickBooks webhook: neither eventNotifications nor a CloudEvents array")
        return changes

    # -- bulk --------------------------------------------------------------------------------------------
    def find_existing_many(self, items) -> list[RemoteResult | None]:
        """Invoices and credit memos: one ``DocNumber IN (...)`` query per chunk; other entities one by one."""
        found: list[RemoteResult | None] = [None] * len(items)
        by_entity: dict[str, list[int]] = {}
        for i, (doc, _) in enumerate(items):
            if isinstance(doc, (InvoiceSnapshot, CreditNoteSnapshot)):
                by_entity.setdefault(t.ENTITY_NAMES[doc.entity], []).append(i)
            else:
                found[i] = self.find_existing(doc, items[i][1])
        for entity, positions in by_entity.items():
            for start in range(0, len(positions), 100):
                chunk = positions[start:start + 100]
                numbers = ", ".join(quote(items[i][0].number) for i in chunk)
                query = f"select * from {entity} where DocNumber in ({numbers}) maxresults 1000"  # nosec B608
                rows = self.client.query(query)
                for i in chunk:
                    doc, mapping = items[i]
                    mine = [r for r in rows if r.get("DocNumber") == doc.number
                            and r.get("CustomerRef", {}).get("value") == mapping.refs.get(doc.customer_key)]
                    found[i] = t.result(entity, mine[0], adopted=True) if mine else None
        return found

    def write_batch(self, ops) -> list:
        """Up to 30 creates/updates in one ``/batch`` request; each item's fault is that op's error alone."""
        self._used_remembered_item = False
        # Credit memos with applications and refunds need a follow-up payment each (see _apply_credit,
        # _apply_refund): one by one.
        singles = {i for i, op in enumerate(ops) if isinstance(op.doc, RefundSnapshot)
                   or (isinstance(op.doc, CreditNoteSnapshot) and op.doc.allocations)}
        if singles:
            rest = [i for i in range(len(ops)) if i not in singles]
            outcomes = [None] * len(ops)
            for i, outcome in zip(sorted(singles), BaseConnector.write_batch(self, [ops[i] for i in sorted(singles)]),
                                  strict=True):
                outcomes[i] = outcome
            for i, outcome in zip(rest, self.write_batch([ops[i] for i in rest]) if rest else [], strict=True):
                outcomes[i] = outcome
            return outcomes
        outcomes = self._write_batch(ops)
        stale = [i for i, o in enumerate(outcomes) if getattr(o, "platform_code", "") in REFERENCE_CODES]
        if stale and self._used_remembered_item:  # see _with_fresh_items: refused items were not applied
            self.forget_generic_items()
            for i, outcome in zip(stale, self._write_batch([ops[i] for i in stale], salt="fresh-items"), strict=True):
                outcomes[i] = outcome
        return outcomes

    def _write_batch(self, ops, salt: str = "") -> list:
        outcomes: dict[int, object] = {}
        items = []
        for i, op in enumerate(ops):
            entity = t.ENTITY_NAMES[op.doc.entity]
            try:
                body = self._payload(op.doc, op.mapping)
            except SyncError as exc:
                outcomes[i] = exc
                continue
            if op.operation == "update":
                body = {**body, "Id": op.ref.remote_id, "SyncToken": op.ref.version, "sparse": True}
            items.append({"bId": str(i), "operation": op.operation, entity: body})
        if items:
            requestid = _derived("qbo-batch:" + "|".join(op.idempotency_key for op in ops), salt)
            responses = self.client.batch(items, requestid)
            for item in items:
                i = int(item["bId"])
                entity = t.ENTITY_NAMES[ops[i].doc.entity]
                response = responses.get(item["bId"])
                if response is None:
                    outcomes[i] = RetryableError("QuickBooks returned no result for this batch item")
                elif "Fault" in response:
                    outcomes[i] = fault_error(response)
                else:
                    outcomes[i] = t.result(entity, response[entity])
        return [outcomes[i] for i in range(len(ops))]

    # -- reconciliation --------------------------------------------------------------------------------------
    reconcile_chunk = 1000  # ids per ``Id IN (...)`` query: QBO answers at most 1,000 rows per query
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.DECLARED})
    reconcile_from_list = True  # both read with ``select *`` and ``_totals``: a listed document is a read one

    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        """One ``select * from <Entity> where Id in (...)`` per chunk; an id QBO does not return was deleted."""
        name = t.ENTITY_NAMES[entity]
        found: dict[str, DocumentTotals] = {}
        ids = list(dict.fromkeys(str(i) for i in remote_ids))
        for start in range(0, len(ids), self.reconcile_chunk):
            chunk = ids[start:start + self.reconcile_chunk]
            quoted = ", ".join(quote(i) for i in chunk)
            rows = self.client.query(f"select * from {name} where Id in ({quoted}) "  # nosec B608
                                     "maxresults 1000")
            found.update((str(row["Id"]), self._totals(entity, row)) for row in rows)
        return [found.get(i) or DocumentTotals(i, entity, status="deleted") for i in ids]

    def list_documents(self, entity: str, since: dt.datetime | None = None):
        """Pages of 1,000 (``startposition``), ordered by Id; with ``since``, by ``MetaData.LastUpdatedTime``."""
        name = t.ENTITY_NAMES[entity]
        where = (f" where MetaData.LastUpdatedTime >= '{since.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}'"
                 if since else "")
        position = 1
        while True:
            rows = self.client.query(f"select * from {name}{where} orderby Id startposition {position} "  # nosec B608
                                     "maxresults 1000")
            count = len(rows)
            yield from (self._totals(entity, row) for row in rows if t.purchase_is(entity, row))
            rows = None  # not kept while the next page is read: memory holds one page, whatever the total
            if count < 1000:
                return
            position += count

    def bank_deposits(self, since: dt.date, until: dt.date):
        """Deposits (``select * from Deposit``, pages of 1,000) and payments received straight into a bank account
        (their ``DepositToAccountRef`` is a Bank account, not Undeposited Funds). A deposit's lines that link a
        Payment name it; its negative lines are fees."""
        window = f"TxnDate >= '{since.isoformat()}' and TxnDate <= '{until.isoformat()}'"
        for row in self._pages("Deposit", window):
            payments, fees = [], Decimal("0")
            for line in row.get("Line") or []:
                links = [str(link.get("TxnId")) for link in line.get("LinkedTxn") or []
                         if link.get("TxnType") == "Payment"]
                payments += links
                amount = Decimal(str(line.get("Amount", "0")))
                if not links and amount < 0:
                    fees -= amount
            yield BankDeposit(
                str(row["Id"]), dt.date.fromisoformat(str(row["TxnDate"])[:10]), Decimal(str(row["TotalAmt"])),
                str((row.get("CurrencyRef") or {}).get("value", "")), str(row.get("PrivateNote") or ""),
                str((row.get("DepositToAccountRef") or {}).get("value", "")), tuple(payments), fees, "deposit")
        banks = {str(a["Id"]) for a in self.client.query("select * from Account where AccountType = 'Bank' "
                                                         "maxresults 1000")}
        for row in self._pages("Payment", window):
            account = str((row.get("DepositToAccountRef") or {}).get("value", ""))
            if account in banks:
                yield BankDeposit(
                    f"payment:{row['Id']}", dt.date.fromisoformat(str(row["TxnDate"])[:10]),
                    Decimal(str(row["TotalAmt"])), str((row.get("CurrencyRef") or {}).get("value", "")),
                    str(row.get("PaymentRefNum") or ""), account, (str(row["Id"]),), Decimal("0"), "payment")

    def _pages(self, name: str, where: str):
        position = 1
        while True:
            rows = self.client.query(f"select * from {name} where {where} orderby TxnDate, Id "  # nosec B608
                                     f"startposition {position} maxresults 1000")
            yield from rows
            if len(rows) < 1000:
                return
            position += len(rows)

    @staticmethod
    def _totals(entity: str, body: dict) -> DocumentTotals:
        found = t.result(t.ENTITY_NAMES[entity], body, fingerprinted=False)  # reconciliation compares no hash
        tax = (body.get("TxnTaxDetail") or {}).get("TotalTax")
        modified = (body.get("MetaData") or {}).get("LastUpdatedTime")
        date = str(body.get("TxnDate") or "")[:10]
        return DocumentTotals.from_result(
            entity, found, currency=str((body.get("CurrencyRef") or {}).get("value", "")),
            tax_total=Decimal(str(tax)) if tax is not None else (Decimal("0") if entity != Entity.PAYMENT else None),
            date=dt.date.fromisoformat(date) if date else None,
            modified=dt.datetime.fromisoformat(modified.replace("Z", "+00:00")) if modified else None)

    def reference_data(self) -> ReferenceData:
        accounts = self.client.query("select * from Account where Active = true maxresults 1000")
        tax_codes = self.client.query("select * from TaxCode maxresults 1000")
        currencies = self.client.query("select * from CompanyCurrency maxresults 1000")
        prefs = self.client.query("select * from Preferences")
        home = (prefs[0].get("CurrencyPrefs", {}).get("HomeCurrency", {}).get("value", "") if prefs else "")
        kinds = {a["Id"]: account_kind(a) for a in accounts}
        control = {}
        for a in accounts:  # ordered by Id: the first receivable / payable / tax-payable account is the company's own
            if kinds[a["Id"]] in (AccountKind.RECEIVABLE, AccountKind.PAYABLE, AccountKind.TAX_PAYABLE):
                control.setdefault(kinds[a["Id"]], (a["Id"], a.get("FullyQualifiedName") or a["Name"]))
        return ReferenceData(
            accounts={a["Id"]: a.get("FullyQualifiedName") or a["Name"] for a in accounts},
            tax_codes={c["Id"]: c["Name"] for c in tax_codes if c.get("Active", True)},
            currencies=frozenset({c["Code"] for c in currencies if c.get("Active", True)}
                                 | ({home} if home else set())),
            home_currency=home, account_kinds=kinds, control_accounts=control,
        )

    # -- helpers -----------------------------------------------------------------------------------------
    def _payload(self, doc: Snapshot, mapping: Mapping) -> dict:
        if isinstance(doc, CustomerSnapshot):
            return t.customer_payload(doc, mapping)
        if isinstance(doc, ItemSnapshot):
            return t.item_payload(doc, mapping)
        if isinstance(doc, PaymentSnapshot):
            return t.payment_payload(doc, mapping)
        if isinstance(doc, (InvoiceSnapshot, CreditNoteSnapshot)):
            return t.sales_payload(doc, mapping, self._line_items(doc, mapping), self.setting("no_tax_code"))
        if isinstance(doc, RefundSnapshot):
            return c.refund_payload(doc, mapping, self._receivable_account(),
                                    self._account_type(mapping.deposit_account))
        if isinstance(doc, ExpenseSnapshot):
            return c.expense_payload(doc, mapping, self._vendor(doc.payee), self.setting("no_tax_code"),
                                     self._account_type(mapping.deposit_account))
        if isinstance(doc, BillSnapshot):
            return c.bill_payload(doc, mapping, self._vendor(doc.supplier), self.setting("no_tax_code"))
        if isinstance(doc, BillPaymentSnapshot):
            return c.bill_payment_payload(doc, mapping, self._vendor(doc.supplier),
                                          self._account_type(mapping.deposit_account))
        if isinstance(doc, JournalSnapshot):
            return c.journal_payload(doc, mapping)
        raise TypeError(f"QBO connector cannot send {type(doc).__name__}")

    def _receivable_account(self) -> str:
        """The company's Accounts Receivable account, where a refund takes the customer's credit from."""
        if "_receivable" not in self.__dict__:
            rows = self.client.query("select * from Account where AccountType = 'Accounts Receivable' "
                                     "and Active = true maxresults 1")
            if not rows:
                raise ConfigurationError("the QuickBooks company has no active Accounts Receivable account",
                                         hint="Create or reactivate it in QuickBooks, then retry.")
            self._receivable = str(rows[0]["Id"])
        return self._receivable

    def _account_type(self, account_id: str) -> str:
        """An account's ``AccountType`` (Bank, Credit Card, ...), read once per connector use."""
        types = self.__dict__.setdefault("_account_types", {})
        if account_id not in types:
            rows = self.client.query(f"select * from Account where Id = {quote(account_id)}")  # nosec B608
            types[account_id] = str(rows[0].get("AccountType", "")) if rows else ""
        return types[account_id]

    def _vendor(self, name: str) -> str:
        """The vendor an expense's payee or a bill's supplier is: found by its display name, else created
        (idempotent by requestid)."""
        name = name.strip()[:500]
        vendors = self.__dict__.setdefault("_vendors", {})  # once per connector use
        if name not in vendors:
            rows = self.client.query(f"select * from Vendor where DisplayName = {quote(name)}")  # nosec B608
            if rows:
                vendors[name] = str(rows[0]["Id"])
            else:
                request = str(uuid.uuid5(uuid.NAMESPACE_URL, f"qbo:{self.config.remote_company_id}:vendor:{name}"))
                vendors[name] = str(self.client.create("Vendor", c.vendor_payload(name), request)["Id"])
        return vendors[name]

    def _line_items(self, doc, mapping: Mapping) -> dict[int, str]:
        """Remote ItemRef per sales line: the synced local item, QBO's shipping box for the document's one shipping
        line when the company has shipping on, or a generic item for its kind and account."""
        items = {}
        shipping = [i for i, line in enumerate(doc.lines) if line.kind == "shipping" and not line.item_key]
        for i, line in enumerate(doc.lines):
            if line.kind == "discount":
                continue
            if shipping == [i] and self._allows_shipping():
                items[i] = t.SHIPPING_ITEM_ID  # posts to the company's shipping account, not the mapped one
            elif line.item_key:
                items[i] = mapping.refs[line.item_key]
            else:
                account = mapping.line_accounts[i]
                if not account:
                    raise ConfigurationError(f"line {i + 1} ({line.kind}) has no item and no income account")
                items[i] = self._generic_item(line.kind, account)
        return items

    def _generic_item(self, kind: str, account: str) -> str:
        """Find or create the service item that stands for ``kind`` lines posting to ``account``; idempotent by
        name and requestid.

        QBO posts a sales line to its item's income account (a line cannot name another), so each account gets
        its own item: the plain name ("Shipping") for the first account used, "Shipping (<account name>)" for
        others (organizations sharing a company with different mappings, a mapping changed later). Remembered
        per company for ``GENERIC_ITEM_TTL`` seconds in this process (a bulk resync would otherwise look it up
        once per batch), and on the connection for every process for ``GENERIC_ITEM_KEEP`` seconds (a worker that
        has not met the company yet would look each one up again); forgotten at once, in both places, when a write
        is refused for a reference."""
        key = (self.setting("api_base"), self.config.remote_company_id, kind, account)
        cached = _GENERIC_ITEMS.get(key)
        if cached and cached[1] > time.monotonic():
            self._used_remembered_item = True
            return cached[0]
        memory_key = f"{GENERIC_ITEM_MEMORY}{self.config.remote_company_id}:{kind}:{account}"
        remembered = self.config.remembered.get(memory_key)
        if isinstance(remembered, list) and len(remembered) == 2 and remembered[1] > time.time() - GENERIC_ITEM_KEEP:
            _GENERIC_ITEMS[key] = (remembered[0], time.monotonic() + GENERIC_ITEM_TTL)  # another process found it
            self._used_remembered_item = True
            return remembered[0]
        name = t.generic_item_name(kind)
        rows = self.client.query(f"select * from Item where Name = {quote(name)}")  # nosec B608
        if rows and (rows[0].get("IncomeAccountRef") or {}).get("value") != account:
            name = t.generic_item_name(kind, self.client.read("Account", account).get("Name", account))
            rows = self.client.query(f"select * from Item where Name = {quote(name)}")  # nosec B608
        if rows:
            item_id = rows[0]["Id"]
        else:
            request = str(uuid.uuid5(uuid.NAMESPACE_URL, f"qbo:{self.config.remote_company_id}:item:{name}"))
            item_id = self.client.create("Item", t.generic_item_payload(name, account), request)["Id"]
        _GENERIC_ITEMS[key] = (item_id, time.monotonic() + GENERIC_ITEM_TTL)
        self.config.remembered[memory_key] = [item_id, time.time()]
        if self.config.remember is not None:
            self.config.remember(memory_key, [item_id, time.time()])
        return item_id

    def exchange_rate(self, currency: str, on: dt.date | None) -> Decimal:
        """QBO's own rate for ``currency`` on ``on`` (home units per foreign unit): ``GET /exchangerate``."""
        rates = self.__dict__.setdefault("_exchange_rates", {})
        if (currency, on) not in rates:
            params = {"sourcecurrencycode": currency, **({"asofdate": on.isoformat()} if on else {})}
            body = self.client.request("GET", "exchangerate", params=params)
            rates[(currency, on)] = Decimal(str(body["ExchangeRate"]["Rate"]))
        return rates[(currency, on)]

    def forget_generic_items(self) -> None:
        for key in [k for k in _GENERIC_ITEMS if k[:2] == (self.setting("api_base"), self.config.remote_company_id)]:
            _GENERIC_ITEMS.pop(key, None)
        for key in [k for k in self.config.remembered if k.startswith(GENERIC_ITEM_MEMORY)]:
            self.config.remembered.pop(key, None)
            if self.config.remember is not None:
                self.config.remember(key, None)
        _SHIPPING_BOX.pop((self.setting("api_base"), self.config.remote_company_id), None)

    def _allows_shipping(self) -> bool:
        """The company's ``SalesFormsPrefs.AllowShipping`` (the invoice form's shipping box), remembered like the
        generic items."""
        key = (self.setting("api_base"), self.config.remote_company_id)
        cached = _SHIPPING_BOX.get(key)
        if cached is None or cached[1] <= time.monotonic():
            prefs = self.client.query("select * from Preferences")
            allowed = bool(prefs) and (prefs[0].get("SalesFormsPrefs") or {}).get("AllowShipping") is True
            cached = _SHIPPING_BOX[key] = (allowed, time.monotonic() + GENERIC_ITEM_TTL)
        return cached[0]


def _derived(key: str, salt: str) -> str:
    """A requestid (at most 50 characters for QBO) derived from a key and a purpose."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{key}|{salt}"))


GENERIC_ITEM_TTL = 600
#: The generic items are also remembered on the connection (``ConnectionConfig.remember``) under this prefix plus
#: company, line kind and account, with when they were found, for ``GENERIC_ITEM_KEEP`` seconds: a worker process
#: that has not met the company yet takes them from there instead of looking them up (two queries for an invoice of
#: two kinds, each time a host's many companies meet a worker that has not seen them within ``GENERIC_ITEM_TTL``).
GENERIC_ITEM_MEMORY = "qbo.generic_item:"
GENERIC_ITEM_KEEP = 86400
_GENERIC_ITEMS: dict[tuple[str, str, str], tuple[str, float]] = {}
_SHIPPING_BOX: dict[tuple[str, str], tuple[bool, float]] = {}


def forget_remembered_items() -> None:
    """Forget every remembered generic item (tests reset their sandbox company between cases)."""
    _GENERIC_ITEMS.clear()
    _SHIPPING_BOX.clear()


def _list_of_objects(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)
