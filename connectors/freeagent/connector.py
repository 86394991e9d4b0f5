"""FreeAgent connector: snapshots in, FreeAgent API v2 calls out, classified errors back.

What FreeAgent has and does not have, and what this connector does about it:

- no idempotency key: our number travels in an invoice's or credit note's ``reference``, which FreeAgent refuses
  twice ("has already been taken"); a payment carries our number in its explanation's ``description`` and is
  found by it before it is sent again (the pipeline searches first after a lost answer);
- items are price list items (their unique ``code`` is our item's name); an invoice line does not link to one in
  FreeAgent, so lines go by description, category (our income account: a nominal code) and tax rate;
- no tax codes: a line has a ``sales_tax_rate`` and a ``sales_tax_status``; the connector offers the company's
  current sales-tax rates as codes ("GST 10%" is rate 10) and the statuses ``EXEMPT`` / ``OUT_OF_SCOPE``;
- a payment is a bank transaction explanation of type invoice receipt in the mapped bank account, paying exactly
  one invoice (a payment spread over several invoices is refused before it is sent: see ``preflight``); a credit
  note is applied to an invoice by a credit note reconciliation;
- invoices are created as drafts: the connector marks them as sent (``transitions/mark_as_sent``, the
  ``mark_as_sent`` setting) since FreeAgent takes payments on sent invoices only; a void is
  ``transitions/mark_as_cancelled``;
- refunds of credit notes and expenses are bank transaction explanations too (a credit note refund paying the
  credit note; a payment with a category), journals are journal sets: ``costs.py``;
- no optimistic concurrency: an update reads the record first and refuses to overwrite it when it changed since
  our version (a short race remains); no webhooks: invoices, credit notes and payments are polled with
  ``updated_since``, and deletions are not listed anywhere (reconciliation finds them).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from functools import cached_property

from .. import oauth, rest
from ..base import (API_BASE_FIELD, TIMEOUT_FIELD, AccountKind, BaseConnector, Capabilities, DemoChart, DocumentTotals,
                    ReferenceData, Refused, RemoteChange, RemoteCustomer, RemoteDocument, RemotePayment, Setting,
                    TokenSet)
from ..documents import (CreditNoteSnapshot, Entity, ExpenseSnapshot, JournalSnapshot, Mapping, PaymentSnapshot,
                         RefundSnapshot, RemoteRef, RemoteResult, Snapshot)
from ..errors import ConfigurationError, ConflictError, DuplicateError, RemoteNotFound, SyncError, ValidationFailed
from ..registry import register
from . import costs as c
from . import translate as t
from .client import FreeAgentClient
from .errors import refused_references

HOSTS = {"production": "https://api.freeagent.com/v2", "sandbox": "https://api.sandbox.freeagent.com/v2"}
#: The categories list's groups -> AccountKind.
CATEGORY_KINDS = {"income_categories": AccountKind.INCOME, "cost_of_sales_categories": AccountKind.EXPENSE,
                  "admin_expenses_categories": AccountKind.EXPENSE, "general_categories": AccountKind.OTHER}
#: UK companies have VAT at fixed rates and no sales tax periods in the API (those are US and Universal only).
UK_VAT = (Decimal("20"), Decimal("5"), Decimal("0"))
DOCUMENT_LISTS = {Entity.INVOICE: {"view": "all"}, Entity.CREDIT_NOTE: {"view": "all"},
                  Entity.CUSTOMER: {"view": "all"}}  # contacts: hidden ones too (hidden there: inactive here)


def bank_account_id(account: dict) -> str:
    return f"bank_accounts/{t.record_id(account['url'])}"


@register
class FreeAgentConnector(BaseConnector):
    id = "freeagent"
    name = "FreeAgent"
    capabilities = Capabilities(
        entities=frozenset(Entity.ALL),  # items are price list items; refunds, expenses and journals: costs.py
        void=frozenset({Entity.INVOICE}),  # credit notes have no documented cancel transition
        #: refunds and expenses (explanations) and journal sets are deleted: FreeAgent voids none of them
        delete=frozenset(Entity.ALL),
        kept_lines=True,  # a restocking fee is a credit-note line of the other sign, like a discount line
        # contacts come in on their own too (updated_since); FreeAgent's lines name no item (nothing to poll)
        inbound=frozenset({Entity.CUSTOMER, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE}),
        inbound_creates=frozenset({Entity.CUSTOMER, Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE}),
        inbound_deletes=False,  # FreeAgent's lists hold no deleted records and it has no deleted-since query
        idempotency_keys=False,  # none: our reference (refused when taken) and description stand in
    )
    #: Refunds, expenses and journals are reconciled like the sales documents (read back by id).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.RETURNS_AND_COSTS})
    #: Per user: 120 a minute and 3,600 an hour (FreeAgent's API forum, 2017; the limits reset at the top of each
    #: minute and hour, and 429 answers carry Retry-After).
    rate_limits = {"request": (120, 60.0), "hourly": (3600, 3600.0)}
    default_settings = {"environment": "production", "timeout": 30, "mark_as_sent": True}
    settings_fields = (
        Setting("environment", "Environment", "FreeAgent's live service or its sandbox.", "choice",
                choices=(("production", "Production"), ("sandbox", "Sandbox"))),
        replace(API_BASE_FIELD, help=API_BASE_FIELD.help + " Empty: the environment's."),
        Setting("mark_as_sent", "Mark invoices as sent", "Mark invoices as sent once created (FreeAgent creates them "
                "as drafts).", "flag"),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.freeagent.sandbox.FreeAgentSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Consultancy Income"},
                           line_kind_income={"shipping": "Shipping Income", "fee": "Late Fee Income",
                                             "restocking_fee": "Restocking Fees", "return_shipping": "Shipping Income"},
                           discount="Discounts Given", deposit="Business Current Account",
                           taxes={"GST 10%": "GST 10%", "Exempt": "Exempt"},
                           refund="Business Current Account", expense="Postage and Delivery",
                           paid_from="Business Current Account")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        return {"api_base": f"{base_url}/v2"}

    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        return refused_references(exc)

    @property
    def api_base(self) -> str:
        if self.setting("api_base"):
            return str(self.setting("api_base")).rstrip("/")
        environment = self.setting("environment")
        if environment not in HOSTS:
            raise ConfigurationError(f"unknown FreeAgent environment {environment!r}",
                                     hint="Set environment to production or sandbox.")
        return HOSTS[environment]

    @cached_property
    def client(self) -> FreeAgentClient:
        return FreeAgentClient(self.api_base, self.access_token, timeout=float(self.setting("timeout")),
                               throttle=self.throttle)

    def url(self, path: str, remote_id) -> str:
        return t.url(self.api_base, path, remote_id)

    # -- OAuth -------------------------------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """FreeAgent's consent page is ``/v2/approve_app``; it has no scopes (access follows the user's level)."""
        return oauth.authorization_url(f"{self.api_base}/approve_app", self.config.client_id, redirect_uri, "",
                                       state)

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        """The code for tokens, then ``GET /company``: the company the user's token reaches is the connection's."""
        tokens = self._grant({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        client = FreeAgentClient(self.api_base, lambda force: tokens.access_token,
                                 timeout=float(self.setting("timeout")))
        company = client.request("GET", "company").get("company") or {}
        return TokenSet(**{**tokens.__dict__, "remote_company_id": str(company.get("id") or
                                                                     t.record_id(company.get("url")))})

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _grant(self, data: dict) -> TokenSet:
        """``POST /v2/token_endpoint`` with the app's credentials as HTTP Basic (FreeAgent's OAuth page)."""
        return oauth.token_request(f"{self.api_base}/token_endpoint", self.config.client_id,
                                   self.config.client_secret, data, client_auth="basic")

    # -- documents ---------------------------------------------------------------------------------------------
    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        if isinstance(doc, PaymentSnapshot) and len(doc.allocations) != 1:
            return ["FreeAgent records a payment as the explanation of a bank transaction paying one invoice: "
                    f"this payment is applied to {len(doc.allocations)} invoices. Record one payment per invoice."]
        if isinstance(doc, PaymentSnapshot):
            bank = self._bank_accounts().get(str(mapping.deposit_account))
            return c.currency_problems(doc, bank, self._home, "a payment") if bank else []
        if isinstance(doc, RefundSnapshot):
            problems = c.refund_problems(doc)
            bank = self._bank_accounts().get(str(mapping.deposit_account))
            return problems or (c.currency_problems(doc, bank, self._home, "a refund") if bank else [])
        if isinstance(doc, ExpenseSnapshot):
            problems = c.expense_problems(doc, mapping)
            bank = self._bank_accounts().get(str(mapping.deposit_account))
            return problems or (c.currency_problems(doc, bank, self._home, "an expense") if bank else [])
        if isinstance(doc, JournalSnapshot):
            return c.journal_problems(doc, self._home)
        return []

    @cached_property
    def _home(self) -> str:
        """The company's currency (``GET /company``), read once per connector."""
        return str((self.client.request("GET", "company").get("company") or {}).get("currency") or "")

    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        entity = doc.entity
        if entity == Entity.CUSTOMER:
            name = doc.name[:255].casefold()
            rows = [r for r in self.client.list(entity, view="all", sort="created_at")
                    if str(r.get("organisation_name", "")).casefold() == name]
        elif entity == Entity.ITEM:
            code = doc.name[:255].casefold()
            rows = [r for r in self.client.list(entity) if str(r.get("code", "")).casefold() == code]
        elif entity == Entity.PAYMENT:
            rows = self._explanations(mapping, doc)
        elif entity in Entity.RETURNS_AND_COSTS:
            rows = self._costs(mapping, doc)
        else:
            contact = self.url("contacts", mapping.refs[doc.customer_key])
            rows = [r for r in self.client.list(entity, view="all", contact=contact)
                    if str(r.get("reference", "")) == doc.number]
        if not rows:
            return None
        found = t.result(entity, self.client.read(entity, t.record_id(rows[0]["url"])), adopted=True)
        if entity in (Entity.INVOICE, Entity.CREDIT_NOTE):
            found = self._sent(entity, found)
        return found

    def _explanations(self, mapping: Mapping, doc: PaymentSnapshot) -> list[dict]:
        """Invoice receipts in the deposit bank account on the payment's date carrying our number."""
        if len(doc.allocations) != 1:
            return []
        invoice = t.record_id(mapping.refs[doc.allocations[0].invoice_key])
        day = rest.iso_date(doc.date)
        rows = self.client.list(Entity.PAYMENT, bank_account=self._bank_account(mapping.deposit_account),
                                from_date=day, to_date=day)
        return [r for r in rows if str(r.get("description", "")) == doc.number[:255]
                and t.paid_resource(r.get("paid_invoice")) == "invoices"
                and t.record_id(r.get("paid_invoice")) == invoice]

    def _costs(self, mapping: Mapping, doc) -> list[dict]:
        """Ours among the refund's or expense's bank account's explanations on its date (a refund's paying its
        credit note, an expense's paying nothing), or among the journal sets of the journal's date: our number
        begins the description."""
        day = rest.iso_date(doc.date)
        if isinstance(doc, JournalSnapshot):
            rows = self.client.list(doc.entity, from_date=day, to_date=day)
            return [r for r in rows if c.is_ours(r.get("description"), doc.number)]
        if isinstance(doc, RefundSnapshot) and not doc.credit_note_key:
            return []
        note = t.record_id(mapping.refs[doc.credit_note_key]) if isinstance(doc, RefundSnapshot) else None
        rows = self.client.list(doc.entity, bank_account=self._bank_account(mapping.deposit_account),
                                from_date=day, to_date=day)
        return [r for r in rows if c.is_ours(r.get("description"), doc.number)
                and (t.paid_resource(r.get("paid_invoice")), t.record_id(r.get("paid_invoice")) or None) ==
                (("credit_notes", note) if note else ("", None))]

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``idempotency_key`` is not sent: FreeAgent has no such thing (see the module docstring)."""
        problems = self.preflight(doc, mapping)
        if problems:
            code = "one_invoice_per_payment" if doc.entity == Entity.PAYMENT else "not_taken"
            raise ValidationFailed(problems[0], platform_code=code,
                                   hint=f"Record the {doc.entity} in FreeAgent by hand, or change it as said.")
        try:
            body = self.client.create(doc.entity, self._payload(doc, mapping))
        except DuplicateError:
            found = self.find_existing(doc, mapping) if doc.entity == Entity.ITEM else None
            if found is None:
                raise
            return found  # FreeAgent refuses a second code: the item it holds is ours to adopt
        found = t.result(doc.entity, body)
        if doc.entity in (Entity.INVOICE, Entity.CREDIT_NOTE):
            found = self._sent(doc.entity, found)
        return self._apply_credit(doc, mapping, found)

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        current_body = self.client.read(doc.entity, ref.remote_id)
        current = t.result(doc.entity, current_body)
        if ref.version and current.version != ref.version:
            raise ConflictError(f"the {doc.entity.replace('_', ' ')} changed in FreeAgent since it was last synced",
                                platform_code="stale", raw=current.raw)
        body = self._put(doc.entity, ref.remote_id, self._payload(doc, mapping, current_body), current_body)
        return self._apply_credit(doc, mapping, t.result(doc.entity, body))

    def _put(self, entity: str, remote_id: str, payload: dict, current: dict) -> dict:
        """A sent invoice's or credit note's items are locked in FreeAgent: when ours change them, it is marked as
        draft, updated and marked as sent again (as its API forum advises). The sandbox refuses the draft step for
        a document with payments or credits (a guess), and staff then see that refusal."""
        reopen = entity in t.LINES and str(current.get("status", "")).lower() not in ("draft", "cancelled", "") \
            and t.items_change(payload, current, entity)
        if not reopen:
            return self.client.update(entity, remote_id, payload)
        self.client.transition(entity, remote_id, "mark_as_draft")
        try:
            self.client.update(entity, remote_id, payload)
        finally:
            self.client.transition(entity, remote_id, "mark_as_sent")
        return self.client.read(entity, remote_id)

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        self.client.transition(entity, ref.remote_id, "mark_as_cancelled")
        return self.fetch(entity, ref.remote_id)

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        if entity == Entity.CREDIT_NOTE:  # its reconciliations go first
            self._set_applications(ref.remote_id, {}, None)
        self.client.delete(entity, ref.remote_id)

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        return t.result(entity, self.client.read(entity, remote_id))

    def _payload(self, doc: Snapshot, mapping: Mapping, current: dict | None = None) -> dict:
        if doc.entity == Entity.CUSTOMER:
            return t.contact_payload(doc)
        if doc.entity == Entity.ITEM:
            return t.item_payload(doc, mapping, self.api_base)
        if doc.entity == Entity.PAYMENT:
            bank = self._bank(mapping.deposit_account)
            return {**t.explanation_payload(doc, mapping, self.api_base, bank["url"]),
                    **c.money_in(doc.amount, doc.currency, doc.exchange_rate, bank, self._home)}
        if isinstance(doc, RefundSnapshot):
            return c.refund_payload(doc, mapping, self.api_base, self._bank(mapping.deposit_account), self._home)
        if isinstance(doc, ExpenseSnapshot):
            return c.expense_payload(doc, mapping, self.api_base, self._bank(mapping.deposit_account), self._home)
        if isinstance(doc, JournalSnapshot):
            banks = {a: self._bank_account(a) for a in mapping.line_accounts if str(a).startswith("bank_accounts/")}
            return c.journal_payload(doc, list(mapping.line_accounts), self.api_base, banks, current)
        return t.sales_payload(doc, mapping, self.api_base, current)

    def _sent(self, entity: str, found: RemoteResult) -> RemoteResult:
        """A draft is marked as sent (FreeAgent takes payments and credits on sent documents only)."""
        if not self.setting("mark_as_sent") or str(found.raw.get("status", "")).lower() != "draft":
            return found
        self.client.transition(entity, found.remote_id, "mark_as_sent")
        return t.result(entity, self.client.read(entity, found.remote_id), adopted=found.adopted)

    def _bank_account(self, account_id: str | None) -> str:
        """The URL of the bank account our deposit account (``bank_accounts/<id>``) names."""
        return self._bank(account_id)["url"]

    def _bank(self, account_id: str | None) -> dict:
        accounts = self._bank_accounts()
        if not account_id or str(account_id) not in accounts:
            raise ValidationFailed(f"FreeAgent has no active bank account {account_id!r}",
                                   platform_code="bank_account_not_found",
                                   hint="Map the account to one of the company's bank accounts.")
        return accounts[str(account_id)]

    def _bank_accounts(self) -> dict[str, dict]:
        """``bank_accounts/<id>`` -> active bank account, read once per connector. Bank accounts have no nominal
        code in the API, so their account id is their path, which no category's nominal code can equal."""
        if "_bank_table" not in self.__dict__:
            rows = self.client.rows("bank_accounts", "bank_accounts")
            self.__dict__["_bank_table"] = {bank_account_id(r): r for r in rows
                                            if str(r.get("status") or "active") == "active"}
        return self.__dict__["_bank_table"]

    # -- credit applied to invoices -------------------------------------------------------------------------------
    def _apply_credit(self, doc: Snapshot, mapping: Mapping, found: RemoteResult) -> RemoteResult:
        if not isinstance(doc, CreditNoteSnapshot):
            return found
        if self._set_applications(found.remote_id, t.credit_applications(doc, mapping), doc.issue_date):
            return self.fetch(Entity.CREDIT_NOTE, found.remote_id)
        return found

    def _set_applications(self, note_id: str, wanted: dict[str, Decimal], on: dt.date | None) -> bool:
        """Credit note reconciliations of this note: remove those that differ, add what is missing."""
        rows = [r for r in self.client.rows("credit_note_reconciliations", "credit_note_reconciliations")
                if t.record_id(r.get("credit_note")) == str(note_id)]
        have = {t.record_id(r["invoice"]): rest.money(r.get("gross_value")) for r in rows}
        if have == wanted:
            return False
        for row in rows:
            invoice = t.record_id(row["invoice"])
            if wanted.get(invoice) != have[invoice]:
                self.client.request("DELETE", f"credit_note_reconciliations/{t.record_id(row['url'])}")
        for invoice, amount in wanted.items():
            if have.get(invoice) != amount:
                body = t.reconciliation_payload(self.url("credit_notes", note_id), self.url("invoices", invoice),
                                                amount, on)
                self.client.request("POST", "credit_note_reconciliations", body={"credit_note_reconciliation": body})
        return True

    # -- platform -> local -----------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """Contacts, invoices, credit notes and invoice receipts updated since ``since`` (``updated_since``).
        Deletions are never reported: FreeAgent lists no deleted records."""
        cursor = dt.datetime.now(dt.UTC).replace(microsecond=0)
        since = since.astimezone(dt.UTC).replace(microsecond=0)
        changes = []
        for entity in [e for e in entities if e in self.inbound_entities]:
            for row in self._rows(entity, since):
                voided = t.status(entity, row) == "voided"
                changes.append(RemoteChange(entity, t.record_id(row["url"]), "void" if voided else "update",
                                            self.config.remote_company_id, t.modified_at(row)))
        return changes, cursor

    def _rows(self, entity: str, since: dt.datetime | None = None):
        params = {"updated_since": t.format_time(since)} if since else {}
        if entity != Entity.PAYMENT:
            yield from self.client.list(entity, **DOCUMENT_LISTS[entity], **params)
            return
        for account in self._bank_accounts().values():  # explanations are listed per bank account
            for row in self.client.list(entity, bank_account=account["url"], **params):
                if t.paid_resource(row.get("paid_invoice")) == "invoices":  # not a credit note's refund
                    yield row

    def remote_payment(self, remote_id: str) -> RemotePayment:
        body = self.client.read(Entity.PAYMENT, remote_id)
        invoice = self.client.read(Entity.INVOICE, t.record_id(body.get("paid_invoice"))) \
            if body.get("paid_invoice") else {}
        return t.remote_payment(body, t.record_id(invoice.get("contact")), str(invoice.get("currency") or ""))

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        try:
            return t.remote_document(entity, self.client.read(entity, remote_id))
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)

    def remote_customer(self, remote_id: str) -> RemoteCustomer:
        return t.remote_customer(self.client.read(Entity.CUSTOMER, remote_id))

    # -- reconciliation ------------------------------------------------------------------------------------------
    def list_documents(self, entity: str, since: dt.datetime | None = None):
        """Every document of ``entity`` page by page (100 a page), from the list rows (no read per document).
        Refunds, expenses and journals are read by id only (``fetch``): none of them is listed for duplicates."""
        if entity in Entity.RETURNS_AND_COSTS:
            return
        yield from (t.totals(entity, row) for row in self._rows(entity, since.astimezone(dt.UTC)
                                                                 if since else None))

    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        if entity in Entity.RETURNS_AND_COSTS:  # read as ``fetch`` reads them
            return super().read_documents(entity, remote_ids)
        return rest.read_totals(entity, remote_ids,
                                lambda remote_id: t.totals(entity, self.client.read(entity, remote_id)))

    # -- reference data ------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        """Accounts are the income, cost and general categories (by nominal code) and the active bank accounts
        (``bank_accounts/<id>``); tax codes are the current sales-tax rates and the exempt and out-of-scope statuses."""
        categories = self.client.request("GET", "categories")
        accounts = [{**c, "kind": kind} for group, kind in CATEGORY_KINDS.items() for c in categories.get(group) or []]
        accounts += [{"nominal_code": key, "description": b.get("name"), "kind": AccountKind.DEPOSIT}
                     for key, b in self._bank_accounts().items()]
        company = self.client.request("GET", "company").get("company") or {}
        home = str(company.get("currency") or "")
        currencies = {str(b.get("currency")) for b in self._bank_accounts().values() if b.get("currency")}
        return rest.reference_data(accounts, self._tax_codes(company), lambda a: a["kind"], account_id="nominal_code",
                                   account_name="description", tax_id="id", tax_name="name", currencies=currencies,
                                   home_currency=home)

    def _tax_codes(self, company: dict) -> list[dict]:
        if str(company.get("type", "")).startswith("Uk"):
            name, rates = "VAT", UK_VAT
        else:
            periods = self.client.request("GET", "sales_tax_periods").get("sales_tax_periods") or []
            today = dt.date.today().isoformat()
            current = max((p for p in periods if str(p.get("effective_date", ""))[:10] <= today),
                          key=lambda p: str(p.get("effective_date")), default=None)
            if current is None:
                name, rates = str(company.get("sales_tax_name") or "Sales tax"), ()
            else:
                name = str(current.get("sales_tax_name") or "Sales tax")
                rates = tuple(Decimal(str(current[k])) for k in ("sales_tax_rate_1", "sales_tax_rate_2",
                                                                 "sales_tax_rate_3") if current.get(k) is not None)
        codes = [{"id": rest.plain(r), "name": f"{name} {rest.plain(r)}%"} for r in rates]
        return codes + [{"id": code, "name": label} for code, label in t.STATUS_CODES.items()]
