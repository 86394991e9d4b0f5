"""MYOB Business (AccountRight) connector: snapshots in, MYOB Business API v2 calls out, classified errors back.

MYOB has no idempotency key. A create is made safe to repeat by our own numbers and names: sales carry our number
(MYOB refuses a number it holds, as the sandbox models it), items our SKU as their unique ``Number``; customers
(names are not unique in MYOB) and payments (receipt numbers are not unique either) rely on the pipeline
searching by name or receipt number before it sends again after a lost answer. Updates carry the ``RowVersion``
we last saw: MYOB answers 409 when the record changed since, which is our ``ConflictError``.

What MYOB cannot do and what we do instead (docs/connectors/myob.md): no credit-note object (a credit note is a
sale with negative lines, applied with a credit settlement, refunded with a credit refund); no update of a payment,
a settlement or a credit refund (a changed payment or refund is deleted and recorded again, under a new UID); no
void (a user reverses a sale, which we read as voided; we void by zeroing the sale's lines and marking its journal
memo; a refund, a spend money (our expense) or a general journal voided here is deleted there).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from functools import cached_property

from .. import oauth
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, SCOPE_FIELD, TIMEOUT_FIELD, TOKEN_URL_FIELD, AccountKind,
                    BaseConnector, Capabilities, DemoChart, DocumentTotals, ReferenceData, Refused, RemoteChange,
                    RemoteCustomer, RemoteDocument, RemoteItem, RemotePayment, Setting, TokenSet)
from ..documents import (CreditNoteSnapshot, Entity, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot,
                         RemoteRef, RemoteResult, Snapshot)
from ..errors import ConfigurationError, ConflictError, RemoteNotFound, SyncError, ValidationFailed
from ..registry import register
from . import costs as c
from . import translate as t
from .client import MyobClient, quote
from .errors import refused_references

API_BASE = "https://api.myob.com/accountright"
AUTHORIZE_URL = "https://secure.myob.com/oauth2/account/authorize"
TOKEN_URL = "https://secure.myob.com/oauth2/v1/authorize"  # a URL, not a password  # nosec B105
#: MYOB's granular scopes this connector needs (pymyob's ``AuthScope`` lists them).
SCOPES = "sme-company-file sme-contacts-customer sme-sales sme-inventory sme-general-ledger sme-banking"
#: MYOB account Type -> AccountKind.
ACCOUNT_KINDS = {"Income": AccountKind.INCOME, "OtherIncome": AccountKind.INCOME, "Expense": AccountKind.EXPENSE,
                 "OtherExpense": AccountKind.EXPENSE, "CostOfSales": AccountKind.EXPENSE,
                 "Bank": AccountKind.DEPOSIT, "AccountReceivable": AccountKind.RECEIVABLE,
                 "CreditCard": AccountKind.CREDIT_CARD}
PATHS = {Entity.CUSTOMER: t.CUSTOMERS, Entity.ITEM: t.ITEMS, Entity.PAYMENT: t.PAYMENTS, Entity.REFUND: t.REFUNDS,
         Entity.EXPENSE: t.SPENDS, Entity.JOURNAL: t.JOURNALS}
#: Refunds, expenses and journals: MYOB voids none of them (a voided one is deleted there).
COSTS = (Entity.REFUND, Entity.EXPENSE, Entity.JOURNAL)
#: The $filter field that holds our number, per entity searched before a create.
NUMBER_FIELDS = {Entity.REFUND: "Number", Entity.EXPENSE: "PaymentNumber", Entity.JOURNAL: "DisplayID"}
#: What a person can reverse in AccountRight among what we send besides sales: spend money and general journals.
REVERSIBLE = (Entity.EXPENSE, Entity.JOURNAL)
#: Numbers asked for in one ``$filter`` (``… eq '…' or …``): the URL stays short.
NUMBERS_PER_QUERY = 20
ZERO = Decimal("0.00")


def account_kind(account: dict) -> str:
    kind = ACCOUNT_KINDS.get(str(account.get("Type", "")), AccountKind.OTHER)
    name = str(account.get("Name", "")).lower()
    if account.get("Type") == "OtherCurrentLiability" and ("gst" in name or "tax" in name) and "paid" not in name:
        return AccountKind.TAX_PAYABLE  # "GST Collected" (its type alone does not say so)
    return kind


@register
class MyobConnector(BaseConnector):
    id = "myob"
    name = "MYOB Business"
    capabilities = Capabilities(
        entities=frozenset(Entity.ALL),
        #: Emulated: MYOB has no void (a person reverses a sale in AccountRight); we zero the sale's lines and mark
        #: its journal memo "Void;", keeping its number. A sale with payments or credits applied is refused.
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE}),
        #: Customers and items are made inactive, never deleted; credit refunds, spend money and general journals
        #: are deleted (MYOB has no void for them: a person deletes or reverses them in AccountRight).
        delete=frozenset(Entity.ALL),
        kept_lines=True,  # a restocking fee is a positive line of the credit (a sale with negative lines)
        # customer cards and items carry LastModified too: they come in on their own. Spend money and general
        # journals edited in AccountRight come back by LastModified too; credit refunds do not (MYOB cannot change
        # one, and one deleted is in no list): docs/connectors/myob.md
        inbound=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE,
                           Entity.EXPENSE, Entity.JOURNAL}),
        inbound_creates=frozenset({Entity.CUSTOMER, Entity.ITEM, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE}),
        inbound_deletes=False,  # MYOB's lists hold no deleted records, and it has no deleted-since query
        idempotency_keys=False,  # MYOB has none: our numbers and names, searched before sending again, stand in
    )
    #: Refunds, expenses and journals are reconciled like the sales documents (read back by id, listed whole).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.RETURNS_AND_COSTS})
    #: Per API key: 8 calls a second and 1,000,000 a day (MYOB's published defaults).
    rate_limits = {"request": (8, 1.0), "daily": (1_000_000, 86400.0)}
    default_settings = {"api_base": API_BASE, "authorize_url": AUTHORIZE_URL, "token_url": TOKEN_URL,
                        "scope": SCOPES, "timeout": 30, "customer_tax_code": "GST", "no_tax_code": "N-T"}
    settings_fields = (
        API_BASE_FIELD, AUTHORIZE_URL_FIELD, TOKEN_URL_FIELD, SCOPE_FIELD,
        Setting("company_file_id", "Company file id", "The company file to connect to when MYOB does not name one "
                "on sign-in. Empty: the only company file the user can open."),
        Setting("cftoken", "Company file credentials", "The legacy company-file token (x-myobapi-cftoken) for files "
                "not yet on the granular scopes.", secret=True),
        Setting("customer_tax_code", "Customer tax code", "The tax code customers are created with."),
        Setting("no_tax_code", "Tax code for untaxed lines", "The tax code put on lines without a tax rate."),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.myob.sandbox.MyobSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Services Income"},
                           line_kind_income={"shipping": "Freight Collected", "fee": "Late Fees Collected",
                                             "restocking_fee": "Restocking Fees",
                                             "return_shipping": "Freight Collected"},
                           discount="Discounts Given", deposit="Undeposited Funds",
                           taxes={"GST 10%": "GST", "Exempt": "FRE"},
                           refund="Business Bank Account", expense="Freight Paid", paid_from="Business Bank Account")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        return {"api_base": f"{base_url}/accountright", "authorize_url": f"{base_url}/oauth2/account/authorize",
                "token_url": f"{base_url}/oauth2/v1/authorize"}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        return refused_references(exc)

    @cached_property
    def client(self) -> MyobClient:
        return self._client(self.config.remote_company_id, self.access_token)

    def _client(self, company_file_id: str, token_getter) -> MyobClient:
        return MyobClient(self.setting("api_base"), company_file_id, self.config.client_id, token_getter,
                          cftoken=self.setting("cftoken") or "", timeout=float(self.setting("timeout")),
                          throttle=self.throttle)

    # -- OAuth -------------------------------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """``prompt=consent`` makes MYOB's redirect name the business (company file) the user picked."""
        return oauth.authorization_url(self.setting("authorize_url"), self.config.client_id, redirect_uri,
                                       self.setting("scope"), state, {"prompt": "consent"})

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        """The company file is the redirect's ``businessId``, else the ``company_file_id`` setting, else the
        only company file the user can open."""
        tokens = self._grant({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        business = params.get("businessId") or self.setting("company_file_id") or self._company_file(
            tokens.access_token)
        return TokenSet(**{**tokens.__dict__, "remote_company_id": str(business)})

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _grant(self, data: dict) -> TokenSet:
        return oauth.token_request(self.setting("token_url"), self.config.client_id, self.config.client_secret,
                                   data, client_auth="body")

    def _company_file(self, access_token: str) -> str:
        files = self._client("", lambda force: access_token).request("GET", "")
        files = files if isinstance(files, list) else files.get("Items") or []
        if len(files) != 1:
            raise ConfigurationError(f"the MYOB user can open {len(files)} company files and MYOB named none",
                                     hint="Set the connection's company_file_id setting, then connect again.")
        return str(files[0]["Id"])

    # -- documents ---------------------------------------------------------------------------------------------
    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        entity = doc.entity
        if entity in (Entity.INVOICE, Entity.CREDIT_NOTE):
            return self._find_sale(doc, mapping)
        if entity in COSTS:
            if isinstance(doc, RefundSnapshot) and c.refund_problems(doc):
                return None
            query = f"{NUMBER_FIELDS[entity]} eq {quote(doc.number[:t.NUMBER_LENGTH])}"
            if entity == Entity.REFUND:
                query += f" and Customer/UID eq guid'{mapping.refs[doc.customer_key]}'"
        elif entity == Entity.CUSTOMER:
            query = f"CompanyName eq {quote(doc.name[:t.NAME_LENGTH])}"
        elif entity == Entity.ITEM:
            query = f"Number eq {quote(t.item_number(doc))}"
        else:
            query = (f"ReceiptNumber eq {quote(doc.number[:t.NUMBER_LENGTH])} and "
                     f"Customer/UID eq guid'{mapping.refs[doc.customer_key]}'")
        rows = [r for r in self.client.rows(PATHS[entity], query) if not c.is_reversal(entity, r)]
        return t.result(entity, rows[0], adopted=True) if rows else None

    def _find_sale(self, doc, mapping: Mapping) -> RemoteResult | None:
        rows = [r for r in self.client.rows(t.SALES, f"Number eq {quote(doc.number)}")
                if not t.is_reversal(r) and r.get("Number", "").casefold() == doc.number.casefold()]
        if not rows:
            return None
        customer = mapping.refs[doc.customer_key]
        mine = [r for r in rows if t.uid(r.get("Customer")) == customer and t.entity_of_sale(r) == doc.entity]
        if not mine:
            raise ValidationFailed(f"number {doc.number} is already used in MYOB by another sale",
                                   platform_code="duplicate", hint="Renumber the local document.")
        return self._sale_result(doc.entity, self.client.read(self._sale_path(mine[0]), mine[0]["UID"]),
                                 adopted=True)

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``idempotency_key`` is not sent: MYOB has no such thing (see the module docstring)."""
        path = self._path_for(doc, mapping)
        body = self.client.create(path, self._payload(doc, mapping, path))
        return self._apply_credit(doc, mapping, t.result(doc.entity, body))

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        entity = doc.entity
        current = self._read(entity, ref.remote_id)
        if ref.version and str(current.get("RowVersion")) != ref.version and entity in (Entity.PAYMENT,
                                                                                        Entity.REFUND):
            raise ConflictError(f"the {entity} changed in MYOB since it was last synced", platform_code="stale",
                                raw=current)
        if entity in (Entity.PAYMENT, Entity.REFUND):
            return self._replace(doc, mapping, current)
        path = self._sale_path(current) if entity in (Entity.INVOICE, Entity.CREDIT_NOTE) else PATHS[entity]
        body = {**self._payload(doc, mapping, path), "UID": ref.remote_id,
                "RowVersion": ref.version or current.get("RowVersion")}
        if entity == Entity.CUSTOMER:  # keep what staff set in MYOB and we do not send
            body = {**{k: current[k] for k in ("DisplayID", "IsIndividual") if k in current}, **body}
        updated = self.client.update(path, ref.remote_id, body)
        return self._apply_credit(doc, mapping, t.result(entity, updated))

    def _replace(self, doc, mapping: Mapping, current: dict) -> RemoteResult:
        """MYOB cannot change a recorded payment or credit refund: an unchanged one is kept, a changed one is
        deleted and recorded again (it gets a new UID)."""
        entity, path = doc.entity, PATHS[doc.entity]
        wanted = self._payload(doc, mapping, path)
        if t.fingerprint(entity, {**wanted, "UID": current["UID"]}) == t.fingerprint(entity, current):
            return t.result(entity, current)
        self.client.delete(path, current["UID"])
        return t.result(entity, self.client.create(path, wanted))

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """MYOB has no void: the sale keeps its number with every line at zero and ``Void;`` before its journal
        memo (a credit note's settlements are removed first)."""
        current = self._read(entity, ref.remote_id)
        if entity == Entity.CREDIT_NOTE:
            self._set_applications(current, {})
        body = t.voided_body(current)
        if ref.version:
            body["RowVersion"] = ref.version
        return t.result(entity, self.client.update(self._sale_path(current), ref.remote_id, body))

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        if entity in (Entity.CUSTOMER, Entity.ITEM):  # cards and items stay for the sales that use them
            current = self._read(entity, ref.remote_id)
            body = {k: v for k, v in current.items() if k not in ("URI", "LastModified")}
            self.client.update(PATHS[entity], ref.remote_id, {**body, "IsActive": False})
            return
        if entity == Entity.PAYMENT or entity in COSTS:  # MYOB deletes them by UID
            self.client.delete(PATHS[entity], ref.remote_id)
            return
        current = self._read(entity, ref.remote_id)
        if entity == Entity.CREDIT_NOTE:  # its settlements go first
            self._set_applications(current, {})
        self.client.delete(self._sale_path(current), ref.remote_id)

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        body = self._read(entity, remote_id)
        if entity in (Entity.INVOICE, Entity.CREDIT_NOTE):
            return self._sale_result(entity, body)
        return t.result(entity, body)

    def _sale_result(self, entity: str, body: dict, adopted: bool = False) -> RemoteResult:
        return t.result(entity, body, adopted=adopted, reversed_=self._reversed(entity, body))

    def _reversed(self, entity: str, body: dict) -> bool:
        """An invoice closed by a reversing sale (same number, journal memo "Reversal; ..."), or a spend money or
        general journal a person reversed (a reversal with its number: ``costs.is_reversal``): voided for us."""
        if entity in REVERSIBLE:
            return not c.is_reversal(entity, body) and t.number_of(entity, body) in self._reversed_numbers(
                entity, [t.number_of(entity, body)])
        if entity != Entity.INVOICE or body.get("Status") != "Closed":
            return False
        rows = self.client.rows(t.SALES, f"Number eq {quote(body.get('Number', ''))} and "
                                         f"Customer/UID eq guid'{t.uid(body.get('Customer'))}'")
        return any(t.is_reversal(r) and t.entity_of_sale(r) == Entity.CREDIT_NOTE for r in rows)

    def _reversed_numbers(self, entity: str, numbers) -> set[str]:
        """Of these spend money or journal numbers, those a reversal carries: one list request per
        ``NUMBERS_PER_QUERY`` numbers (``PaymentNumber eq '…' or …``)."""
        wanted, found = sorted({n for n in numbers if n}), set()
        for start in range(0, len(wanted), NUMBERS_PER_QUERY):
            query = " or ".join(f"{NUMBER_FIELDS[entity]} eq {quote(n)}"
                                for n in wanted[start:start + NUMBERS_PER_QUERY])
            found |= {t.number_of(entity, r) for r in self.client.rows(PATHS[entity], query)
                      if c.is_reversal(entity, r)}
        return found

    def _originals(self, entity: str, numbers) -> list[dict]:
        """The spend money or journals (not reversals) that carry these numbers."""
        wanted, found = sorted({n for n in numbers if n}), []
        for start in range(0, len(wanted), NUMBERS_PER_QUERY):
            query = " or ".join(f"{NUMBER_FIELDS[entity]} eq {quote(n)}"
                                for n in wanted[start:start + NUMBERS_PER_QUERY])
            found += [r for r in self.client.rows(PATHS[entity], query) if not c.is_reversal(entity, r)]
        return found

    def _read(self, entity: str, remote_id: str) -> dict:
        """One record; a sale is looked for under the Service layout, then the Item one."""
        if entity not in (Entity.INVOICE, Entity.CREDIT_NOTE):
            return self.client.read(PATHS[entity], remote_id)
        try:
            return self.client.read(f"{t.SALES}/Service", remote_id)
        except RemoteNotFound:
            return self.client.read(f"{t.SALES}/Item", remote_id)

    @staticmethod
    def _sale_path(body: dict) -> str:
        kind = body.get("InvoiceType") or ("Item" if "/Sale/Invoice/Item/" in str(body.get("URI", "")) else "Service")
        return f"{t.SALES}/{kind}"

    def _path_for(self, doc: Snapshot, mapping: Mapping) -> str:
        if doc.entity in (Entity.INVOICE, Entity.CREDIT_NOTE):
            return f"{t.SALES}/{t.layout(doc, mapping)}"
        return PATHS[doc.entity]

    def _payload(self, doc: Snapshot, mapping: Mapping, path: str) -> dict:
        if doc.entity == Entity.CUSTOMER:
            return t.payload(doc, mapping, tax_code=self._tax_code(self.setting("customer_tax_code")))
        if doc.entity in (Entity.INVOICE, Entity.CREDIT_NOTE):
            kind = path.rsplit("/", 1)[1]
            if kind == "Item" and t.layout(doc, mapping) != "Item":
                raise ValidationFailed(f"{doc.number} is an Item-layout sale in MYOB and a line now sells no item",
                                       platform_code="layout", hint="Map every line to an item, or delete the "
                                       "sale in MYOB so it is sent again as a Service sale.")
            return t.payload(doc, mapping, kind=kind, no_tax=self._tax_code(self.setting("no_tax_code")))
        if isinstance(doc, RefundSnapshot):
            if problems := c.refund_problems(doc):
                raise ConfigurationError("; ".join(problems), hint="Record the refund in MYOB by hand.")
            return c.refund_payload(doc, mapping)
        if isinstance(doc, ExpenseSnapshot):
            return c.expense_payload(doc, mapping, self._tax_code(self.setting("no_tax_code")))
        if isinstance(doc, JournalSnapshot):
            return c.journal_payload(doc, mapping, self._tax_code(self.setting("no_tax_code")))
        return t.payload(doc, mapping)

    def _tax_code(self, code: str) -> str:
        """The UID of tax code ``code`` (the first tax code when the file has no such code)."""
        if "_tax_table" not in self.__dict__:
            self.__dict__["_tax_table"] = {r["Code"]: r["UID"] for r in self.client.rows("GeneralLedger/TaxCode")}
        table = self.__dict__["_tax_table"]
        if not table:
            raise ConfigurationError("the MYOB company file has no tax codes",
                                     hint="Add a tax code (for example N-T) in MYOB.")
        return table.get(code) or next(iter(table.values()))

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        problems = []
        number = getattr(doc, "number", "")
        if doc.entity in (Entity.INVOICE, Entity.CREDIT_NOTE, Entity.PAYMENT, *COSTS) and len(number) > t.NUMBER_LENGTH:
            problems.append(f"MYOB numbers are at most {t.NUMBER_LENGTH} characters ({number!r} is longer)")
        if isinstance(doc, RefundSnapshot):
            problems += c.refund_problems(doc)
        if doc.entity == Entity.PAYMENT and sum((a.amount for a in doc.allocations), Decimal("0")) != doc.amount:
            problems.append("MYOB records a payment only as far as it is applied to invoices: apply all of it")
        return problems

    # -- credit applied to invoices -------------------------------------------------------------------------------
    def _apply_credit(self, doc: Snapshot, mapping: Mapping, found: RemoteResult) -> RemoteResult:
        if not isinstance(doc, CreditNoteSnapshot):
            return found
        if self._set_applications(found.raw, t.credit_applications(doc, mapping)):
            return self.fetch(Entity.CREDIT_NOTE, found.remote_id)
        return found

    def _set_applications(self, note: dict, wanted: dict[str, Decimal]) -> bool:
        """Keep the credit's settlements equal to ``wanted`` (invoice UID -> amount). MYOB cannot change a
        settlement: when they differ, every settlement of the credit is deleted and one new one records what we
        want. True if anything moved."""
        current = list(self.client.rows(t.SETTLEMENTS, f"CreditFromInvoice/UID eq guid'{note['UID']}'"))
        have: dict[str, Decimal] = {}
        for row in current:
            for line in row.get("Lines") or []:
                key = t.uid(line.get("Sale"))
                have[key] = have.get(key, Decimal("0.00")) + t.money(line.get("AmountApplied"))
        if have == wanted:
            return False
        for row in current:
            self.client.delete(t.SETTLEMENTS, row["UID"])
        if wanted:
            self.client.create(t.SETTLEMENTS, t.settlement_payload(note, wanted))
        return True

    # -- platform -> local -----------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """Customer cards, items, sales, payments, spend money (our expenses) and general journals whose
        ``LastModified`` is at or after ``since`` (to the second), one list request per resource. MYOB lists no
        deleted records: a deletion is never reported here (reconciliation finds it)."""
        cursor = dt.datetime.now(dt.UTC).replace(microsecond=0)
        since = since.astimezone(dt.UTC).replace(microsecond=0)
        wanted = [e for e in entities if e in self.inbound_entities]
        changes = []
        if {Entity.INVOICE, Entity.CREDIT_NOTE} & set(wanted):
            for row in self._changed(t.SALES, since):
                entity = t.entity_of_sale(row)
                if entity in wanted:
                    changes.append(RemoteChange(entity, str(row["UID"]), "update", self.config.remote_company_id,
                                                t.modified_at(row)))
        for entity, path in ((Entity.CUSTOMER, t.CUSTOMERS), (Entity.ITEM, t.ITEMS), (Entity.PAYMENT, t.PAYMENTS)):
            if entity in wanted:
                changes += [RemoteChange(entity, str(row["UID"]), "update", self.config.remote_company_id,
                                         t.modified_at(row)) for row in self._changed(path, since)
                            if entity != Entity.ITEM or row.get("IsSold", True) is not False]  # items for sale
        for entity in (e for e in REVERSIBLE if e in wanted):
            changes += self._cost_changes(entity, since)
        return changes, cursor

    def _cost_changes(self, entity: str, since: dt.datetime) -> list[RemoteChange]:
        """Spend money or general journals changed since ``since``: an edited one is an update; a reversal
        AccountRight made is not one of ours, the original it reverses is reported voided (found by number:
        one more list request, only when the poll saw reversals)."""
        company, found, reversed_at = self.config.remote_company_id, {}, {}
        for row in self._changed(PATHS[entity], since):
            if c.is_reversal(entity, row):
                reversed_at[t.number_of(entity, row)] = t.modified_at(row)
            else:
                found[str(row["UID"])] = RemoteChange(entity, str(row["UID"]), "update", company, t.modified_at(row))
        for row in self._originals(entity, reversed_at):
            found[str(row["UID"])] = RemoteChange(entity, str(row["UID"]), "void", company,
                                                  reversed_at[t.number_of(entity, row)])
        return list(found.values())

    def _changed(self, path: str, since: dt.datetime | None):
        query = f"LastModified ge {t.filter_time(since)}" if since else ""
        return self.client.rows(path, query, orderby="LastModified desc" if since else "")

    def remote_payment(self, remote_id: str) -> RemotePayment:
        return t.remote_payment(self.client.read(t.PAYMENTS, remote_id))

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        try:
            body = self._read(entity, remote_id)
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)
        return t.remote_document(entity, body, self._reversed(entity, body))

    def remote_customer(self, remote_id: str) -> RemoteCustomer:
        return t.remote_customer(self._read(Entity.CUSTOMER, remote_id))

    def remote_item(self, remote_id: str) -> RemoteItem:
        return t.remote_item(self._read(Entity.ITEM, remote_id))

    # -- reconciliation ------------------------------------------------------------------------------------------
    def list_documents(self, entity: str, since: dt.datetime | None = None):
        """Every document of ``entity`` page by page (1,000 a page), from the list rows (credit refunds, spend
        money and general journals too: MYOB lists them whole, with their lines)."""
        path = PATHS.get(entity, t.SALES)
        if entity in REVERSIBLE:  # reversals are left out, and what they reverse is voided (total 0.00)
            listed, gone = [], set()
            for row in self._changed(path, since.astimezone(dt.UTC) if since else None):
                if c.is_reversal(entity, row):
                    gone.add(t.number_of(entity, row))
                else:
                    listed.append(t.totals(entity, row, currency=self._home()))
            if since is not None:  # a reversal may be older or newer than the window: asked for by number
                gone = self._reversed_numbers(entity, [d.number for d in listed])
            for found in listed:
                yield (replace(found, status="voided", total=ZERO, balance=ZERO, home_total=ZERO)
                       if found.number in gone else found)
            return
        for row in self._changed(path, since.astimezone(dt.UTC) if since else None):
            if path != t.SALES or (t.entity_of_sale(row) == entity and not t.is_reversal(row)):
                yield t.totals(entity, row, currency=self._home())

    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        """Each by UID (a 404 is deleted); spend money and journals reversed there are voided (their numbers
        looked for among the reversals in one list request per ``NUMBERS_PER_QUERY``)."""
        found, bodies = [], {}
        for remote_id in remote_ids:
            try:
                bodies[str(remote_id)] = self._read(entity, remote_id)
            except RemoteNotFound:
                bodies[str(remote_id)] = None
        gone = set()
        if entity in REVERSIBLE:
            gone = self._reversed_numbers(entity, [t.number_of(entity, b) for b in bodies.values()
                                                   if b and not c.is_reversal(entity, b)])
        for remote_id, body in bodies.items():
            if body is None:
                found.append(DocumentTotals(remote_id, entity, status="deleted"))
                continue
            reversed_ = (t.number_of(entity, body) in gone and not c.is_reversal(entity, body)
                         if entity in REVERSIBLE else self._reversed(entity, body))
            found.append(t.totals(entity, body, reversed_, currency=self._home()))
        return found

    # -- reference data ------------------------------------------------------------------------------------------
    def _currencies(self) -> tuple[list[str], str]:
        if "_currency_table" not in self.__dict__:
            rows = list(self.client.rows("GeneralLedger/Currency"))
            home = next((r["Code"] for r in rows if r.get("IsLocalCurrency")), "")
            self.__dict__["_currency_table"] = ([r["Code"] for r in rows], home)
        return self.__dict__["_currency_table"]

    def _home(self) -> str:
        return self._currencies()[1]

    def reference_data(self) -> ReferenceData:
        accounts = [a for a in self.client.rows("GeneralLedger/Account")
                    if a.get("IsActive", True) and not a.get("IsHeader")]
        home = self._home()  # documents go in the file's local currency only (see docs/connectors/myob.md)
        kinds = {str(a["UID"]): account_kind(a) for a in accounts}
        control: dict[str, tuple[str, str]] = {}
        for a in accounts:
            if kinds[str(a["UID"])] in (AccountKind.RECEIVABLE, AccountKind.TAX_PAYABLE):
                control.setdefault(kinds[str(a["UID"])], (str(a["UID"]), a["Name"]))
        taxes = {str(x["UID"]): x["Code"] for x in self.client.rows("GeneralLedger/TaxCode")}
        return ReferenceData(accounts={str(a["UID"]): a["Name"] for a in accounts}, tax_codes=taxes,
                             currencies=frozenset({home} if home else ()), home_currency=home,
                             account_kinds=kinds, control_accounts=control)
