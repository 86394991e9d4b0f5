"""Wave connector: snapshots in, Wave public GraphQL calls out, classified errors back.

Wave has no idempotency key and no optimistic-concurrency version (``modifiedAt`` with a content hash stands in). A
create is made safe to repeat by our own invoice numbers (Wave refuses a number it holds; we search by number first)
and by names for customers and products (searched and adopted). Every invoice line references a product: synced
items are products; any other line uses one product per (line kind, income account), found by name or created once.
Wave's public API has no invoice update: an unpaid invoice is updated by deleting it and creating it again with the
same number (a new remote id, returned to the pipeline); a paid one is refused. Payments are
``invoicePaymentCreateManual``; a credit note is a negative Wave invoice (Wave has no credit notes), and its refund a
negative payment on it (``costs.py``); a void is emulated (lines at zero, titled VOID). Expenses and journals are
not sent: Wave's public API cannot read back, change or delete a money transaction. See docs/connectors/wave.md for
coverage, guesses and limits.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import cached_property

from .. import oauth
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, SCOPE_FIELD, TIMEOUT_FIELD, TOKEN_URL_FIELD, AccountKind,
                    BaseConnector, Capabilities, DemoChart, DocumentTotals, ReferenceData, Refused, RemoteChange,
                    RemoteDocument, Setting)
from ..documents import Entity, Mapping, RefundSnapshot, RemoteRef, RemoteResult, Snapshot
from ..errors import ConfigurationError, ConflictError, RemoteNotFound, SyncError, ValidationFailed
from . import costs as c
from . import translate as t
from .client import WaveClient
from .errors import refused_references
from ..registry import register

API_BASE = "https://gql.waveapps.com/graphql/public"
AUTHORIZE_URL = "https://api.waveapps.com/oauth2/authorize/"
TOKEN_URL = "https://api.waveapps.com/oauth2/token/"  # a public endpoint URL, not a secret  # nosec B105
#: Wave account subtype -> AccountKind.
SUBTYPES = {"INCOME": AccountKind.INCOME, "DISCOUNTS": AccountKind.INCOME,
            "UNCATEGORIZED_INCOME": AccountKind.INCOME, "CASH_AND_BANK": AccountKind.DEPOSIT,
            "MONEY_IN_TRANSIT": AccountKind.DEPOSIT, "ACCOUNTS_RECEIVABLE": AccountKind.RECEIVABLE,
            "SALES_TAX": AccountKind.TAX_PAYABLE, "EXPENSE": AccountKind.EXPENSE,
            "COST_OF_GOODS_SOLD": AccountKind.EXPENSE}


@register
class WaveConnector(BaseConnector):
    id = "wave"
    name = "Wave"
    capabilities = Capabilities(
        # a credit note is a negative Wave invoice (Wave has no credit notes), its refund a negative payment on it;
        # no expenses or journals (costs.py)
        entities=frozenset({*Entity.SALES, Entity.REFUND}),
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE}),  # emulated: lines zeroed, titled VOID
        delete=frozenset({*Entity.SALES, Entity.REFUND}),  # products are archived; a refund is deleted (no void)
        kept_lines=True,  # a restocking fee is a line of the other sign on the negative invoice
        inbound=frozenset(),
        inbound_deletes=False,
        idempotency_keys=False,
    )
    #: Refunds are reconciled like the sales documents (read back by id through their negative invoice).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, Entity.REFUND})
    #: Wave publishes no figures; a guess on the safe side (docs/connectors/wave.md).
    rate_limits = {"request": (6000, 60.0)}
    concurrent_limit = 2
    default_settings = {"scope": "account:* business:* customer:* invoice:* product:* sales_tax:* user:read",
                        "timeout": 30}
    settings_fields = (
        replace(API_BASE_FIELD, default=API_BASE), replace(AUTHORIZE_URL_FIELD, default=AUTHORIZE_URL),
        replace(TOKEN_URL_FIELD, default=TOKEN_URL), SCOPE_FIELD,
        Setting("business_id", "Business id", "The Wave business the connection works in. Empty: the signed-in "
                "user's only business, read when connecting."),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.wave.sandbox.WaveSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Uncategorized Income"},
                           line_kind_income={"shipping": "Sales", "fee": "Uncategorized Income"},
                           discount="Discounts", deposit="Cash on Hand",
                           taxes={"GST 10%": "GST 10%", "Exempt": "Exempt"}, refund="Business Checking")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        return {"api_base": f"{base_url}/graphql/public", "authorize_url": f"{base_url}/oauth2/authorize/",
                "token_url": f"{base_url}/oauth2/token/"}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        return refused_references(exc)

    def url(self, name: str) -> str:
        return self.setting(name) or {"api_base": API_BASE, "authorize_url": AUTHORIZE_URL,
                                      "token_url": TOKEN_URL}[name]

    @cached_property
    def client(self) -> WaveClient:
        return WaveClient(self.url("api_base"), self.access_token, timeout=float(self.setting("timeout")),
                          throttle=self.throttle)

    @property
    def business_id(self) -> str:
        return self.config.remote_company_id

    # -- OAuth -------------------------------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        return oauth.authorization_url(self.url("authorize_url"), self.config.client_id, redirect_uri,
                                       self.setting("scope"), state)

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> oauth.TokenSet:
        tokens = self._grant({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        business = self.setting("business_id") or self._business(tokens.access_token)
        return oauth.TokenSet(**{**tokens.__dict__, "remote_company_id": business})

    def refresh(self, refresh_token: str) -> oauth.TokenSet:
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _grant(self, data: dict):
        return oauth.token_request(self.url("token_url"), self.config.client_id, self.config.client_secret, data,
                                   client_auth="body")

    def _business(self, access_token: str) -> str:
        client = WaveClient(self.url("api_base"), lambda force: access_token, timeout=float(self.setting("timeout")))
        nodes = [e["node"] for e in (client.graphql(t.BUSINESSES).get("businesses") or {}).get("edges") or []]
        nodes = [n for n in nodes if not n.get("isPersonal")] or nodes
        if len(nodes) != 1:
            raise ConfigurationError(f"the Wave user has {len(nodes)} businesses",
                                     hint="Set the connection's business_id setting, then connect again.")
        return str(nodes[0]["id"])

    # -- reads -----------------------------------------------------------------------------------------------
    def _read(self, entity: str, remote_id: str) -> dict | None:
        data = self.client.graphql(t.read_query(entity), {"businessId": self.business_id, "id": remote_id})
        return (data.get("business") or {}).get(t.FIELDS[entity][0])

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        if entity == Entity.PAYMENT:
            invoice_id, node = self._payment(remote_id)
            return t.payment_result(invoice_id, node)
        if entity == Entity.REFUND:
            invoice_id, node = self._payment(remote_id)
            return t.refund_result(invoice_id, node)
        node = self._read(entity, remote_id)
        if node is None:
            raise RemoteNotFound(f"Wave has no {entity.replace('_', ' ')} {remote_id}", platform_code="NOT_FOUND")
        return t.result(entity, node)

    def _payment(self, remote_id: str) -> tuple[str, dict]:
        invoice_id, wave_id = t.split_payment_id(remote_id, self.business_id)
        invoice = self._read(Entity.PAYMENT, invoice_id) if invoice_id and wave_id else None
        found = [p for p in (invoice or {}).get("payments") or [] if p["id"] == wave_id]
        if not found:
            raise RemoteNotFound(f"Wave has no payment {remote_id}", platform_code="NOT_FOUND")
        return invoice_id, found[0]

    def _list(self, entity: str, filters: str = "", **values):
        return self.client.nodes(t.list_query(entity, filters), t.FIELDS[entity][1],
                                 {"businessId": self.business_id, **values})

    # -- documents ---------------------------------------------------------------------------------------------
    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        if isinstance(doc, RefundSnapshot):
            return c.refund_problems(doc)
        return []

    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        if isinstance(doc, RefundSnapshot):
            if not doc.credit_note_key or not mapping.refs.get(doc.credit_note_key):
                return None
            note_id = mapping.refs[doc.credit_note_key]
            note = self._read(Entity.PAYMENT, note_id) or {}
            mine = [p for p in note.get("payments") or [] if p.get("memo") == doc.number and not c.is_application(p)]
            return t.refund_result(note_id, mine[0], adopted=True) if mine else None
        if doc.entity == Entity.PAYMENT:
            invoice_id = self._paid_invoice(doc, mapping)
            invoice = self._read(Entity.PAYMENT, invoice_id) or {}
            mine = [p for p in invoice.get("payments") or [] if p.get("memo") == doc.number]
            return t.payment_result(invoice_id, mine[0], adopted=True) if mine else None
        if doc.entity in (Entity.INVOICE, Entity.CREDIT_NOTE):
            rows = list(self._list(Entity.INVOICE, "invoiceNumber:String", invoiceNumber=doc.number))
            customer = mapping.refs.get(doc.customer_key)
            mine = [r for r in rows if (r.get("customer") or {}).get("id") == customer]
            if rows and not mine:
                raise ValidationFailed(f"number {doc.number} is already used in Wave by another customer",
                                       platform_code="DUPLICATE", hint="Renumber the local document.")
        else:
            mine = [r for r in self._list(doc.entity) if t.is_ours(doc, r) and not r.get("isArchived")]
        return t.result(doc.entity, mine[0], adopted=True) if mine else None

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``idempotency_key`` is not sent: Wave has none (see the module docstring)."""
        if doc.entity == Entity.PAYMENT:
            return self._pay(self._paid_invoice(doc, mapping), doc.amount, doc.date, doc.number,
                             t.METHODS.get(doc.method, "OTHER"), mapping)
        if isinstance(doc, RefundSnapshot):
            return self._refund(doc, mapping)
        name, input_type, key, fields = t.CREATE[doc.entity]
        output = self.client.mutate(name, t.mutation(name, input_type, key, fields),
                                    {"input": self._input(doc, mapping)})
        found = t.result(doc.entity, output[key])
        if doc.entity == Entity.CREDIT_NOTE and doc.allocations:
            self._apply_credit(doc, mapping, found.remote_id)
            return self.fetch(Entity.CREDIT_NOTE, found.remote_id)
        return found

    @staticmethod
    def _paid_invoice(doc, mapping: Mapping) -> str:
        """Wave records a payment against one invoice: the payment's single allocation."""
        if len(doc.allocations) != 1 or not mapping.refs.get(doc.allocations[0].invoice_key):
            raise ValidationFailed(f"Wave records a payment against exactly one invoice; payment {doc.number} has "
                                   f"{len(doc.allocations)} allocations", platform_code="allocations",
                                   hint="Allocate the payment to one invoice, or record the rest in Wave.")
        return mapping.refs[doc.allocations[0].invoice_key]

    def _pay(self, invoice_id: str, amount, date, memo: str, method: str, mapping: Mapping) -> RemoteResult:
        account = mapping.deposit_account or self._default_deposit()
        name, input_type, key, fields = t.PAY
        output = self.client.mutate(name, t.mutation(name, input_type, key, fields), {"input": {
            "invoiceId": invoice_id, "amount": str(amount), "paymentDate": (date or dt.date.today()).isoformat(),
            "paymentAccountId": account, "paymentMethod": method, "memo": memo}})
        return t.payment_result(invoice_id, output[key])

    def _refund(self, doc: RefundSnapshot, mapping: Mapping) -> RemoteResult:
        """A negative payment on the credit note's negative invoice, from the refund account (costs.py)."""
        problems = c.refund_problems(doc)
        if problems:
            raise ValidationFailed(problems[0], platform_code="not_taken",
                                   hint="Record the refund in Wave by hand.")
        note_id = mapping.refs.get(doc.credit_note_key)
        if not note_id:
            raise ValidationFailed("the refunded credit note is not in Wave yet", platform_code="dependency")
        account = mapping.deposit_account or self._default_deposit()
        name, input_type, key, fields = t.PAY
        output = self.client.mutate(name, t.mutation(name, input_type, key, fields),
                                    {"input": c.refund_input(doc, note_id, account)})
        return t.refund_result(note_id, output[key])

    def _default_deposit(self) -> str:
        """The business's first cash or bank account: where a credit's payment and refund pair is recorded."""
        data = self.reference_data()
        found = [pk for pk, kind in data.account_kinds.items() if kind == AccountKind.DEPOSIT]
        if not found:
            raise ValidationFailed("Wave has no cash or bank account to record this on",
                                   platform_code="deposit_account", hint="Add a bank account in Wave.")
        return found[0]

    def _apply_credit(self, doc, mapping: Mapping, note_id: str) -> None:
        """Wave cannot apply a credit to an invoice: each allocation is a payment on the invoice and an equal
        refund on the negative invoice, both through the deposit account, so the account nets to zero."""
        for allocation in doc.allocations:
            invoice_id = mapping.refs.get(allocation.invoice_key)
            if not invoice_id:
                raise ValidationFailed("the credited invoice is not in Wave yet", platform_code="dependency")
            memo = f"Credit note {doc.number}"
            self._pay(invoice_id, allocation.amount, doc.issue_date, memo, "OTHER", mapping)
            self._pay(note_id, -allocation.amount, doc.issue_date, memo, "OTHER", mapping)

    def _input(self, doc: Snapshot, mapping: Mapping) -> dict:
        if doc.entity == Entity.CUSTOMER:
            return t.customer_input(doc, self.business_id)
        if doc.entity == Entity.ITEM:
            return t.product_input(doc, mapping, self.business_id)
        customer = mapping.refs.get(doc.customer_key)
        if not customer:
            raise ValidationFailed("the invoice's customer is not in Wave yet", platform_code="dependency")
        products = [self._line_product(line, mapping, n) for n, line in enumerate(doc.lines)]
        return t.invoice_input(doc, self.business_id, customer, products, mapping)

    def _line_product(self, line, mapping: Mapping, index: int) -> str:
        """The product a line references: the synced item's, else the (kind, income account) product."""
        if line.item_key and mapping.refs.get(line.item_key):
            return mapping.refs[line.item_key]
        account = mapping.line_accounts[index] if index < len(mapping.line_accounts) else mapping.item_account
        name = t.line_product_name(line, account)
        cache = self.__dict__.setdefault("_line_products", {})
        if name not in cache:
            found = [r for r in self._list(Entity.ITEM) if r.get("name") == name and not r.get("isArchived")]
            if found:
                cache[name] = found[0]["id"]
            else:
                created = self.client.mutate("productCreate", t.mutation("productCreate", "ProductCreateInput",
                                                                         "product", "id"),
                                             {"input": {"businessId": self.business_id, "name": name,
                                                        "unitPrice": "0", "incomeAccountId": account,
                                                        "description": "Created by the sync for lines of this kind"}})
                cache[name] = created["product"]["id"]
        return cache[name]

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """Reads first and refuses to overwrite a record whose content changed since our version (Wave has no
        version token). Only the content hash part counts: a payment recorded on an invoice moves its
        ``modifiedAt`` without anyone having edited it."""
        current = None
        if doc.entity not in (Entity.PAYMENT, Entity.REFUND) and ref.version:
            current = self.fetch(doc.entity, ref.remote_id)
            if t.content_part(current.version) != t.content_part(ref.version):
                raise ConflictError(f"the {doc.entity.replace('_', ' ')} changed in Wave since it was last synced",
                                    platform_code="stale", raw=current.raw)
        if doc.entity in (Entity.PAYMENT, Entity.REFUND):  # Wave has no payment update: delete, record again
            self.delete(Entity.PAYMENT, ref, idempotency_key)
            return self.create(doc, mapping, idempotency_key)
        if doc.entity in (Entity.INVOICE, Entity.CREDIT_NOTE):
            if doc.entity == Entity.CREDIT_NOTE:
                self._unapply_credit(ref.remote_id, current.raw if current else None)
            body = {k: v for k, v in self._input(doc, mapping).items() if k not in ("businessId", "status")}
            output = self.client.mutate("invoicePatch", t.mutation("invoicePatch", "InvoicePatchInput", "invoice",
                                                                   t.INVOICE_FIELDS),
                                        {"input": {"id": ref.remote_id, **body}})
            if doc.entity == Entity.CREDIT_NOTE and doc.allocations:
                self._apply_credit(doc, mapping, ref.remote_id)
                return self.fetch(Entity.CREDIT_NOTE, ref.remote_id)
            return t.result(doc.entity, output["invoice"])
        name, input_type, key, fields = t.PATCH[doc.entity]
        body = {k: v for k, v in self._input(doc, mapping).items() if k != "businessId"}
        output = self.client.mutate(name, t.mutation(name, input_type, key, fields),
                                    {"input": {"id": ref.remote_id, **body}})
        return t.result(doc.entity, output[key])

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """Wave has no void: the document keeps its number and customer, every line goes to zero and its title
        says VOID. An invoice with payments is refused (Wave would keep the money on it)."""
        current = self._read(entity, ref.remote_id)
        if current is None:
            raise RemoteNotFound(f"Wave has no {entity.replace('_', ' ')} {ref.remote_id}", platform_code="NOT_FOUND")
        if entity == Entity.CREDIT_NOTE:
            self._unapply_credit(ref.remote_id, current)
        elif t.money(current.get("amountPaid")):
            raise ValidationFailed("Wave cannot void an invoice that has payments", platform_code="paid",
                                   hint="Remove the payments in Wave first, then void again.")
        items = [{"productId": i["product"]["id"], "description": i.get("description"), "quantity": "0",
                  "unitPrice": "0", "taxes": []} for i in current.get("items") or [] if i.get("product")]
        output = self.client.mutate("invoicePatch", t.mutation("invoicePatch", "InvoicePatchInput", "invoice",
                                                               t.INVOICE_FIELDS),
                                    {"input": {"id": ref.remote_id, "title": t.VOID_TITLE, "items": items}})
        return t.result(entity, output["invoice"])

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        if entity == Entity.ITEM:
            self.client.mutate("productArchive", t.mutation("productArchive", "ProductArchiveInput"),
                               {"input": {"id": ref.remote_id}})
        elif entity == Entity.CUSTOMER:
            self.client.mutate("customerDelete", t.mutation("customerDelete", "CustomerDeleteInput"),
                               {"input": {"id": ref.remote_id}})
        elif entity in (Entity.PAYMENT, Entity.REFUND):
            self._payment(ref.remote_id)
            self.client.mutate("invoicePaymentDelete", t.mutation("invoicePaymentDelete", "InvoicePaymentDeleteInput"),
                               {"input": {"invoicePaymentId": t.split_payment_id(ref.remote_id,
                                                                                 self.business_id)[1]}})
        else:
            if entity == Entity.CREDIT_NOTE:
                self._unapply_credit(ref.remote_id)
            self.client.mutate("invoiceDelete", t.mutation("invoiceDelete", "InvoiceDeleteInput"),
                               {"input": {"invoiceId": ref.remote_id}})

    def _unapply_credit(self, note_id: str, note: dict | None = None) -> None:
        """Remove the applications' refunds on the negative invoice and the matching payments on the credited
        invoices (``note``: the credit note as just read, with its payments). Refunds of the credit paid back to
        the customer (our refund numbers in their memo) stay."""
        if note is None or "payments" not in note:
            note = self._read(Entity.PAYMENT, note_id) or {}
        applications = [p for p in note.get("payments") or [] if c.is_application(p)]
        memos = {p.get("memo") for p in applications}
        for refund in applications:
            self.client.mutate("invoicePaymentDelete", t.mutation("invoicePaymentDelete", "InvoicePaymentDeleteInput"),
                               {"input": {"invoicePaymentId": refund["id"]}})
        if not memos:
            return
        for invoice in self._list(Entity.PAYMENT):
            for paid in invoice.get("payments") or []:
                if paid.get("memo") in memos and invoice["id"] != note_id:
                    self.client.mutate("invoicePaymentDelete",
                                       t.mutation("invoicePaymentDelete", "InvoicePaymentDeleteInput"),
                                       {"input": {"invoicePaymentId": paid["id"]}})

    # -- reconciliation ------------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """Invoices (and credit notes, payments through them) modified after ``since`` (``modifiedAtAfter``).
        Not declared as inbound: only reconciliation and our own checks read it (see docs)."""
        cursor = dt.datetime.now(dt.UTC)
        stamp = since.astimezone(dt.UTC).isoformat()
        changes = []
        for node in self._list(Entity.PAYMENT, "modifiedAtAfter:DateTime", modifiedAtAfter=stamp):
            invoice = self._read(Entity.INVOICE, node["id"]) or {}
            negative = (t.money(invoice.get("total")) or 0) < 0
            kind = Entity.CREDIT_NOTE if negative else Entity.INVOICE
            if kind in entities:
                voided = invoice.get("title") == t.VOID_TITLE
                changes.append(RemoteChange(kind, node["id"], "void" if voided else "update", self.business_id))
            if Entity.PAYMENT in entities and not negative:
                changes += [RemoteChange(Entity.PAYMENT, t.payment_id(node["id"], p["id"]), "update",
                                         self.business_id) for p in node.get("payments") or []]
        return changes, cursor

    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        out = []
        if entity == Entity.REFUND:  # read as ``fetch`` reads them
            return super().read_documents(entity, remote_ids)
        for remote_id in remote_ids:
            if entity == Entity.PAYMENT:
                try:
                    paid = self.fetch(Entity.PAYMENT, remote_id)
                except RemoteNotFound:
                    out.append(DocumentTotals(remote_id=remote_id, entity=entity, status="deleted"))
                    continue
                out.append(DocumentTotals(remote_id=remote_id, entity=entity, number=paid.number, status="paid",
                                          total=paid.total))
                continue
            node = self._read(entity, remote_id)
            out.append(t.totals(node, entity) if node else DocumentTotals(remote_id=remote_id, entity=entity,
                                                                           status="deleted"))
        return out

    def list_documents(self, entity: str, since=None):
        """Wave lists credit notes among invoices (negative totals): each entity keeps its own sign. Payments are
        those on invoices (a negative invoice's are a credit's applications and refunds); refunds are read by id
        only (``read_documents``)."""
        if entity == Entity.REFUND:
            return
        filters, values = ("modifiedAtAfter:DateTime", {"modifiedAtAfter": since.isoformat()}) if since else ("", {})
        for node in self._list(Entity.INVOICE, filters, **values):
            negative = (t.money(node.get("total")) or 0) < 0
            if entity == Entity.PAYMENT and not negative:
                invoice = self._read(Entity.PAYMENT, node["id"]) or {}
                for paid in invoice.get("payments") or []:
                    result = t.payment_result(node["id"], paid)
                    yield DocumentTotals(remote_id=result.remote_id, entity=entity, number=result.number,
                                         status="paid", total=result.total)
            elif negative == (entity == Entity.CREDIT_NOTE):
                yield t.totals(node, entity)

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        node = self._read(entity, remote_id)
        if node is None:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)
        lines = tuple((t.money(i["quantity"]) or 0, t.money(i["unitPrice"]) or 0) for i in node.get("items") or [])
        return RemoteDocument(remote_id, "", str(node.get("invoiceNumber")), "active", t.money(node.get("total")),
                              t.money(node.get("amountDue")), lines)

    # -- reference data ------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        data = self.client.graphql(t.REFERENCE, {"businessId": self.business_id})
        business = data.get("business") or {}
        accounts = [e["node"] for e in (business.get("accounts") or {}).get("edges") or []
                    if not e["node"].get("isArchived")]
        taxes = [e["node"] for e in (business.get("salesTaxes") or {}).get("edges") or []
                 if not e["node"].get("isArchived")]
        return ReferenceData(accounts={a["id"]: a["name"] for a in accounts},
                             tax_codes={x["id"]: x["name"] for x in taxes},
                             currencies=frozenset(c["code"] for c in data.get("currencies") or []),
                             home_currency=(business.get("currency") or {}).get("code", ""),
                             account_kinds={a["id"]: SUBTYPES.get((a.get("subtype") or {}).get("value"),
                                                                  AccountKind.OTHER) for a in accounts})
