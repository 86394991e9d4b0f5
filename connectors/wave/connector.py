"""Wave connector: snapshots in, Wave public GraphQL calls out, classified errors back.

Wave has no idempotency key and no optimistic-concurrency version. A create is made safe to repeat by our own
invoice numbers (Wave refuses a number it holds; we search by number first) and by names for customers and
products (searched and adopted). Every invoice line references a product: synced items are products; any other
line uses one product per (line kind, income account), found by name or created once. Wave's public API has no
invoice update: an unpaid invoice is updated by deleting it and creating it again with the same number (a new
remote id, returned to the pipeline); a paid one is refused. Payments, credit notes and voids are not offered
(see docs/connectors/wave.md for what the product does instead).
"""
from __future__ import annotations

from functools import cached_property

from .. import oauth
from ..base import (AccountKind, BaseConnector, Capabilities, DemoChart, DocumentTotals, ReferenceData, Refused,
                    RemoteDocument)
from ..documents import Entity, Mapping, RemoteRef, RemoteResult, Snapshot
from ..errors import ConfigurationError, RemoteNotFound, SyncError, ValidationFailed
from . import translate as t
from .client import WaveClient
from .errors import refused_references
from ..registry import register

API_BASE = "https://gql.waveapps.com/graphql/public"
AUTHORIZE_URL = "https://api.waveapps.com/oauth2/authorize/"
TOKEN_URL = "https://api.waveapps.com/oauth2/token/"  # nosec B105 - a public endpoint URL, not a secret
#: Wave account subtype -> AccountKind.
SUBTYPES = {"INCOME": AccountKind.INCOME, "DISCOUNTS": AccountKind.INCOME,
            "UNCATEGORIZED_INCOME": AccountKind.INCOME, "CASH_AND_BANK": AccountKind.DEPOSIT,
            "MONEY_IN_TRANSIT": AccountKind.DEPOSIT, "ACCOUNTS_RECEIVABLE": AccountKind.RECEIVABLE,
            "SALES_TAX": AccountKind.TAX_PAYABLE, "EXPENSE": AccountKind.EXPENSE,
            "COST_OF_GOODS_SOLD": AccountKind.EXPENSE}


class WaveConnector(BaseConnector):
    id = "wave"
    name = "Wave"
    capabilities = Capabilities(
        entities=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE}),
        delete=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE}),  # products are archived, not deleted
        inbound=frozenset(),
        inbound_deletes=False,
        idempotency_keys=False,
    )
    #: Wave publishes no figures; a guess on the safe side (docs/connectors/wave.md).
    rate_limits = {"request": (60, 60.0)}
    concurrent_limit = 2
    default_settings = {"scope": "account:* business:* customer:* invoice:* product:* sales_tax:* user:read",
                        "timeout": 30}
    sandbox_class = "connectors.wave.sandbox.WaveSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Uncategorized Income"},
                           line_kind_income={"shipping": "Sales", "fee": "Uncategorized Income"},
                           discount="Discounts", deposit="Cash on Hand",
                           taxes={"GST 10%": "GST 10%", "Exempt": "Exempt"})

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
        node = self._read(entity, remote_id)
        if node is None:
            raise RemoteNotFound(f"Wave has no {entity.replace('_', ' ')} {remote_id}", platform_code="NOT_FOUND")
        return t.result(entity, node)

    def _list(self, entity: str, filters: str = "", **values):
        return self.client.nodes(t.list_query(entity, filters), t.FIELDS[entity][1],
                                 {"businessId": self.business_id, **values})

    # -- documents ---------------------------------------------------------------------------------------------
    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        if doc.entity == Entity.INVOICE:
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
        name, input_type, key, fields = t.CREATE[doc.entity]
        output = self.client.mutate(name, t.mutation(name, input_type, key, fields),
                                    {"input": self._input(doc, mapping)})
        return t.result(doc.entity, output[key])

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
        if doc.entity == Entity.INVOICE:
            current = self.fetch(Entity.INVOICE, ref.remote_id)
            if current.raw.get("amountPaid") and t.money(current.raw["amountPaid"]):
                raise ValidationFailed("Wave cannot change an invoice that has payments", platform_code="paid",
                                       hint="Remove the payment in Wave first, or issue a credit outside Wave.")
            self.delete(Entity.INVOICE, ref, idempotency_key)
            return self.create(doc, mapping, idempotency_key)
        name, input_type, key, fields = t.PATCH[doc.entity]
        body = {k: v for k, v in self._input(doc, mapping).items() if k != "businessId"}
        output = self.client.mutate(name, t.mutation(name, input_type, key, fields),
                                    {"input": {"id": ref.remote_id, **body}})
        return t.result(doc.entity, output[key])

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        if entity == Entity.ITEM:
            self.client.mutate("productArchive", t.mutation("productArchive", "ProductArchiveInput"),
                               {"input": {"id": ref.remote_id}})
        elif entity == Entity.CUSTOMER:
            self.client.mutate("customerDelete", t.mutation("customerDelete", "CustomerDeleteInput"),
                               {"input": {"id": ref.remote_id}})
        else:
            self.client.mutate("invoiceDelete", t.mutation("invoiceDelete", "InvoiceDeleteInput"),
                               {"input": {"invoiceId": ref.remote_id}})

    # -- reconciliation ------------------------------------------------------------------------------------------
    reconcile_entities = frozenset({Entity.INVOICE})

    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        out = []
        for remote_id in remote_ids:
            node = self._read(entity, remote_id)
            out.append(t.totals(node) if node else DocumentTotals(remote_id=remote_id, entity=entity,
                                                                   status="deleted"))
        return out

    def list_documents(self, entity: str, since=None):
        filters, values = ("modifiedAtAfter:DateTime", {"modifiedAtAfter": since.isoformat()}) if since else ("", {})
        yield from (t.totals(node) for node in self._list(entity, filters, **values))

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
