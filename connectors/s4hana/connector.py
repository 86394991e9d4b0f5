"""SAP S/4HANA Cloud connector: invoices, credit notes and payments as FI-AR journal entries, posted through the
SOAP service Journal Entry - Post (Synchronous) and read through the OData V2 service API_JOURNALENTRYITEMBASIC_SRV.

**Why journal entries.** S/4HANA Cloud creates a billing document (SD) only with reference to a billable sales
order or delivery; a free-standing invoice from an outside system goes either through an external billing document
request (the "External Billing" scope item, which bills in SD and posts to FI) or straight to accounts receivable
as a journal entry. We post journal entries: one API, one document model for all three of our documents (an
invoice is a customer debit ``DR``, a credit note a customer credit ``DG``, a payment a bank debit against the
customer's credit ``DZ`` naming the invoices it pays), no sales organisation, material or pricing set-up needed,
and reversal as the one way to void. What is lost: no SD billing document (no output, no SD revenue
recognition). Refunds of credit notes (``DA``), expenses and journals (``SA``) are journal entries too
(``costs.py``). docs/connectors/s4hana.md says more.

**Authentication.** The communication arrangement's communication user (HTTP Basic; ``auth`` "basic") or an OAuth2
client with the client-credentials grant (``auth`` "oauth2"); the connection's client id and secret are the
user and password, or the OAuth client; the same header goes to the SOAP endpoint. OData changes (business
partners, products) carry an ``X-CSRF-Token`` (the client fetches it, and fetches it again once when SAP answers
"Required"); the SOAP endpoint takes none.

**Posted, never edited; reversed by a counter-posting.** A journal entry is posted when created. SAP_COM_0002 has
no service that reverses one, so a void is a counter-posting through the same SOAP service: the same type and
reference, every item on the other side, its header text naming the original (``Reversal <doc>/<year>``); an entry
reads as reversed when S/4HANA marks it ``IsReversed`` (a person reversed it) or its counter-posting exists. An
update that changes the amounts **replaces** the entry (counter-posted, the new content posted with the same
reference, the new entry becomes the reference); one that changes only the memo is not sent (Journal Entry -
Change is asynchronous and not used). An invoice that payments or credit notes still name is not counter-posted:
the update stops with what staff must do first.

**No idempotency key, no uniqueness.** Our number travels in ``DocumentReferenceID``; after posting, the
connector looks for another live entry of the same type with it, and when there is one it counter-posts the one it
just posted and refuses the create (``DuplicateError``).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import replace
from decimal import Decimal
from functools import cached_property
from urllib.parse import urlencode

from .. import lifecycle, oauth, rest
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, TIMEOUT_FIELD, AccountKind, BaseConnector, Capabilities,
                    DemoChart, ReferenceData, RemoteChange, RemotePayment, Setting, TokenSet)
from ..documents import (Entity, ExpenseSnapshot, JournalSnapshot, Mapping, RefundSnapshot, RemoteRef, RemoteResult,
                         Snapshot)
from ..errors import (ConfigurationError, ConflictError, DuplicateError, PermanentError, PostingRefused, RemoteNotFound,
                      ValidationFailed)
from ..registry import register
from . import costs as c
from . import translate as t
from .client import JournalEntrySoapClient, ODataV2Client, datetimeoffset, host_of, odata_time, quote
from .errors import CODES

#: The sandbox's company code, tax codes and other currencies (its seed module holds the same values; a test
#: checks they agree).
SANDBOX_COMPANY_CODE = "1710"
SANDBOX_TAX_CODES = "O1:10:GST 10%, O0:0:GST Free"
SANDBOX_CURRENCIES = "EUR, GBP, AUD"
PARTNERS = "API_BUSINESS_PARTNER/A_BusinessPartner"
PRODUCTS = "API_PRODUCT_SRV/A_Product"
#: Journal entry items (read only): the leading ledger's lines, filtered by document, reference, type or time.
ITEMS = "API_JOURNALENTRYITEMBASIC_SRV/A_JournalEntryItemBasic"
LEDGER = "0L"
#: Posted journal entries are voided by reversal; none is created as a draft.
LIFECYCLE = lifecycle.Lifecycle(
    entities=frozenset(), posted=frozenset({"posted"}), cancelled=frozenset({"reversed"}), void_by="reverse",
    cancel_from_draft=False,
    hint="Fix what SAP S/4HANA names (payments or credit memos still referencing the invoice, a closed posting "
         "period), then retry.")
REPLACE_HINT = ("SAP S/4HANA never changes a posted journal entry's amounts, so it is replaced (reversed and posted "
                "again with the same reference), which it refuses while payments or credit notes reference the "
                "invoice. Void those here first (they are reversed there), send this document again, then send them "
                "again.")
UNTIMED = dt.timedelta(days=3650)


@register
class S4HanaConnector(BaseConnector):
    id = "s4hana"
    name = "SAP S/4HANA Cloud"
    capabilities = Capabilities(
        entities=frozenset(Entity.ALL),  # refunds (DA), expenses and journals (SA) as journal entries: costs.py
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE, Entity.PAYMENT, *Entity.RETURNS_AND_COSTS}),  # Reverse
        kept_lines=True,  # a restocking fee is a credit memo's income item on the other side
        delete=frozenset(),  # S/4HANA deletes no posted document; business partners are kept
        # LastChangeDateTime polling; a reversed payment is a deletion, a reversed refund, expense or journal a void
        inbound=frozenset({Entity.PAYMENT, *Entity.RETURNS_AND_COSTS}),
        inbound_creates=frozenset({Entity.PAYMENT}),  # incoming payments posted there (remote_payment reads them)
        inbound_deletes=True,
        idempotency_keys=False,  # none in OData V2: our number in DocumentReferenceID, searched after each post
    )
    #: Refunds, expenses and journals are reconciled too (read back by id from their items, like the sales three).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.RETURNS_AND_COSTS})
    #: SAP publishes no per-tenant request limit for S/4HANA Cloud APIs (fair use); a pace of our own.
    rate_limits = {"request": (300, 60.0)}
    concurrent_limit = 4
    default_settings = {"api_base": "", "token_url": "", "auth": "oauth2", "company_code": "",  # nosec B105 - a URL
                        "tax_codes": "", "currencies": "", "timeout": 30}
    settings_fields = (
        replace(API_BASE_FIELD, help="The OData V2 root of the tenant's API host, ending in /sap/opu/odata/sap "
                "(https://my000000-api.s4hana.cloud.sap/sap/opu/odata/sap)."),
        Setting("auth", "Authentication", "How the communication arrangement authenticates.", "choice", choices=(
            ("oauth2", "OAuth 2.0 client credentials (the client id and secret are the OAuth client)"),
            ("basic", "Communication user and password (the client id and secret)"))),
        Setting("token_url", "Token URL", "The OAuth 2.0 token endpoint (with OAuth only).", "url"),
        Setting("company_code", "Company code", "The company code documents are posted in (four characters).",
                required=True),
        Setting("tax_codes", "Output tax codes", "The tax codes documents may use, with their rate and name: "
                "code:rate:name, separated by commas (A1:19:VAT 19%, A0:0:Exempt). S/4HANA Cloud publishes no API "
                "that lists them; the tax items we post are computed from these rates and S/4HANA checks them."),
        Setting("currencies", "Other currencies", "Currencies besides the company code's that documents may be in "
                "(EUR, GBP), separated by commas."),
        replace(AUTHORIZE_URL_FIELD, help="S/4HANA has no consent page: Connect takes a token (or checks the "
                "communication user) at once. Only a local sandbox's stand-in page goes here."),
        TIMEOUT_FIELD,
    )
    sandbox_class = "connectors.s4hana.sandbox.S4HanaSandbox"
    demo_chart = DemoChart(default_income="Sales Revenue", category_income={"Consultations": "Consulting Revenue"},
                           line_kind_income={"shipping": "Freight Revenue", "fee": "Late Fee Income"},
                           discount="Sales Discounts", deposit="Bank Account",
                           taxes={"GST 10%": "GST 10%", "Exempt": "GST Free"},
                           refund="Bank Account", expense="Office Expenses", paid_from="Bank Account")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        return {"api_base": f"{base_url}/sap/opu/odata/sap", "token_url": f"{base_url}/oauth/token",
                "authorize_url": f"{base_url}/oauth/authorize", "company_code": SANDBOX_COMPANY_CODE,
                "auth": "oauth2", "tax_codes": SANDBOX_TAX_CODES, "currencies": SANDBOX_CURRENCIES}

    # -- authentication -------------------------------------------------------------------------------------------
    @property
    def basic(self) -> bool:
        return self.setting("auth") == "basic"

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """No consent page: back to the callback at once (a sandbox may stand in a page: ``authorize_url``)."""
        if self.setting("authorize_url"):
            return oauth.authorization_url(self.setting("authorize_url"), self.config.client_id, redirect_uri, "",
                                           state)
        joiner = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{joiner}{urlencode({'code': 'connect', 'state': state})}"

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        """A token (or the communication user's credentials), checked with one read of the company code."""
        tokens = self._credentials()
        company = str(self.setting("company_code") or "")
        probe = ODataV2Client(self._api_base(), lambda force: tokens.access_token, timeout=float(self.setting(
            "timeout")), scheme="Basic" if self.basic else "Bearer")
        try:
            probe.entity(f"API_COMPANYCODE_SRV/A_CompanyCode({quote(company)})")
        except RemoteNotFound as exc:
            raise ConfigurationError(f"SAP S/4HANA has no company code {company!r}", code="company_code",
                                     hint="Set the connection's company_code to one of the tenant's company codes "
                                          "(four characters), then connect again.") from exc
        return replace(tokens, remote_company_id=company)

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._credentials()

    def _credentials(self) -> TokenSet:
        if self.basic:
            user = f"{self.config.client_id}:{self.config.client_secret}".encode()
            value = base64.b64encode(user).decode()
            return TokenSet(value, "basic", dt.datetime.now(dt.UTC) + UNTIMED)
        if not self.setting("token_url"):
            raise ConfigurationError("the SAP S/4HANA connection names no OAuth token URL",
                                     hint="Set the connection's token_url, or choose communication-user "
                                          "authentication.")
        tokens = oauth.token_request(self.setting("token_url"), self.config.client_id, self.config.client_secret,
                                     {"grant_type": "client_credentials"})
        return replace(tokens, refresh_token="client_credentials")  # nosec B106 - a marker: ask again

    def _api_base(self) -> str:
        base = str(self.setting("api_base") or "").rstrip("/")
        if not base:
            raise ConfigurationError("the SAP S/4HANA connection names no API host",
                                     hint="Set the connection's api_base (https://<tenant>-api.s4hana.cloud.sap/"
                                          "sap/opu/odata/sap).")
        return base

    @cached_property
    def client(self) -> ODataV2Client:
        return ODataV2Client(self._api_base(), self.access_token, timeout=float(self.setting("timeout")),
                             throttle=self.throttle, scheme="Basic" if self.basic else "Bearer")

    @cached_property
    def soap(self) -> JournalEntrySoapClient:
        """Journal Entry - Post (Synchronous) on the same API host and credentials (SAP_COM_0002)."""
        soap = JournalEntrySoapClient(host_of(self._api_base()), self.access_token,
                                      timeout=float(self.setting("timeout")), throttle=self.throttle,
                                      scheme="Basic" if self.basic else "Bearer")
        soap.exchanges = self.client.exchanges  # one record of both transports, in order (the sync log's)
        return soap

    @property
    def company(self) -> str:
        company = str(self.setting("company_code") or self.config.remote_company_id or "")
        if not company:
            raise ConfigurationError("the SAP S/4HANA connection names no company code",
                                     hint="Set the connection's company_code setting.")
        return company

    # -- reading --------------------------------------------------------------------------------------------------
    def _item_rows(self, where: str) -> list[dict]:
        """Items of the leading ledger in our company code (``API_JOURNALENTRYITEMBASIC_SRV``) matching ``where``,
        in document and item order."""
        rows = self.client.rows(ITEMS, {"$filter": f"Ledger eq {quote(LEDGER)} and CompanyCode eq "
                                                   f"{quote(self.company)} and {where}",
                                        "$orderby": "AccountingDocument"})
        return sorted(rows, key=lambda r: (str(r.get("FiscalYear")), str(r.get("AccountingDocument")),
                                           str(r.get("AccountingDocumentItem"))))

    def _documents(self, where: str) -> dict[str, dict]:
        """The documents whose items match ``where``, each assembled from its items (``translate.entry_of``)."""
        grouped: dict[str, list[dict]] = {}
        for row in self._item_rows(where):
            grouped.setdefault(t.entry_id(row), []).append(row)
        return {key: t.entry_of(rows) for key, rows in grouped.items()}

    def _counter(self, remote_id: str, doc_type: str) -> dict | None:
        """Our counter-posting of a document (its header text names it), when there is one."""
        found = self._documents(f"AccountingDocumentHeaderText eq {quote(t.counter_text(remote_id))} and "
                                f"AccountingDocumentType eq {quote(doc_type)}")
        return next(iter(found.values()), None)

    def _entry(self, entity: str, remote_id: str) -> dict:
        """One journal entry of ours, read from its items; reversed when a person reversed it in S/4HANA
        (``IsReversed``) or when our counter-posting of it exists."""
        document, year = t.split_id(remote_id)
        if not document or not year:
            raise RemoteNotFound(f"{remote_id!r} is not a journal entry id (document-year)", platform_code="id")
        found = self._documents(f"AccountingDocument eq {quote(document)} and FiscalYear eq {quote(year)}")
        body = found.get(remote_id)
        if body is None:
            raise RemoteNotFound(f"SAP S/4HANA has no journal entry {remote_id} in company code {self.company}",
                                 platform_code="not_found", hint=CODES.hints["not_found"])
        if body.get("AccountingDocumentType") != t.DOC_TYPES[entity] or body.get("IsReversal") or \
                t.counter_of(body.get("DocumentHeaderText")):
            raise RemoteNotFound(f"journal entry {remote_id} is not a {entity.replace('_', ' ')}",
                                 platform_code="document_type")
        if not body.get("IsReversed"):
            counter = self._counter(remote_id, t.DOC_TYPES[entity])
            if counter is not None:
                body = t.reversed_by(body, counter)
        return body

    def _taken(self, remote_id: str) -> Decimal:
        """What live payments and credit memos take of an invoice: their customer items that name it, credits less
        debits (our counter-posting names it on the other side); documents a person reversed, and their reversal
        documents, left out."""
        document, year = t.split_id(remote_id)
        rows = self._item_rows(f"InvoiceReference eq {quote(document)} and InvoiceReferenceFiscalYear eq "
                               f"{quote(year)} and IsReversed eq false and IsReversal eq false")
        return -sum((rest.money(r.get("AmountInTransactionCurrency")) or t.ZERO for r in rows if r.get("Customer")),
                    t.ZERO)

    def _refunded(self, remote_id: str) -> Decimal:
        """What live refunds take of a credit memo: their customer debits that name it, less our counter-postings'
        credits (documents a person reversed, and their reversal documents, left out)."""
        document, year = t.split_id(remote_id)
        rows = self._item_rows(f"InvoiceReference eq {quote(document)} and InvoiceReferenceFiscalYear eq "
                               f"{quote(year)} and IsReversed eq false and IsReversal eq false")
        return sum((rest.money(r.get("AmountInTransactionCurrency")) or t.ZERO for r in rows if r.get("Customer")
                    and r.get("AccountingDocumentType") == c.REFUND_TYPE), t.ZERO)

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        if entity == Entity.CUSTOMER:
            return t.partner_result(self.client.entity(f"{PARTNERS}({quote(remote_id)})"))
        if entity == Entity.ITEM:
            return t.product_result(self.client.entity(f"{PRODUCTS}({quote(remote_id)})",
                                                       {"$expand": "to_Description"}))
        if entity not in t.DOC_TYPES:
            raise ConfigurationError(f"SAP S/4HANA takes no {entity.replace('_', ' ')} from us")
        body = self._entry(entity, remote_id)
        taken = t.ZERO
        if entity == Entity.INVOICE and not body.get("IsReversed"):
            taken = self._taken(remote_id)
        elif entity == Entity.CREDIT_NOTE and not body.get("IsReversed"):
            taken = self._refunded(remote_id)
        return t.result(entity, body, taken)

    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        if doc.entity == Entity.CUSTOMER:
            rows = list(self.client.rows(PARTNERS, {"$filter": f"OrganizationBPName1 eq {quote(doc.name[:40])}",
                                                    "$orderby": "BusinessPartner"}))
            return t.partner_result(rows[0], adopted=True) if rows else None
        if doc.entity == Entity.ITEM:
            try:
                return replace(self.fetch(Entity.ITEM, product_code(doc)), adopted=True)
            except RemoteNotFound:
                return None
        found = self._find_all(doc)
        if not found:
            return None
        return replace(self.fetch(doc.entity, found[0]), adopted=True)

    def _find_all(self, doc: Snapshot) -> list[str]:
        """Live journal entries of the document's type with our number, oldest first: neither reversed in
        S/4HANA, nor reversal documents, nor counter-posted by us (a counter-posting carries the same reference)."""
        found = self._documents(f"DocumentReferenceID eq {quote(t.reference(doc.number))} and "
                                f"AccountingDocumentType eq {quote(t.DOC_TYPES[doc.entity])}")
        countered = {t.counter_of(b.get("DocumentHeaderText")) for b in found.values()}
        return sorted((key for key, b in found.items() if not b.get("IsReversed") and not b.get("IsReversal")
                       and not t.counter_of(b.get("DocumentHeaderText")) and key not in countered),
                      key=lambda key: t.split_id(key)[::-1])

    # -- writing --------------------------------------------------------------------------------------------------
    def _body(self, doc: Snapshot, mapping: Mapping) -> dict:
        if isinstance(doc, RefundSnapshot):
            if problems := c.refund_problems(doc):
                raise ConfigurationError("; ".join(problems), hint="Record the refund in SAP S/4HANA by hand.")
            return c.refund(doc, mapping, self.company, t.ref_id(mapping, doc.credit_note_key, "credit note"))
        if isinstance(doc, ExpenseSnapshot):
            return c.expense(doc, mapping, self.company, self._tax_rates)
        if isinstance(doc, JournalSnapshot):
            return c.journal(doc, mapping, self.company)
        if doc.entity == Entity.PAYMENT:
            return t.payment(doc, mapping, self.company)
        return t.document(doc, mapping, self.company, self._tax_rates)

    @cached_property
    def _tax_rates(self) -> dict[str, Decimal]:
        """Each tax code's rate in percent, from the connection's ``tax_codes`` (the ProductTaxItem we send is
        computed from it; S/4HANA checks it against the code's rate)."""
        return {code: rate for code, rate, _ in tax_codes(self.setting("tax_codes"))}

    def _post(self, entity: str, body: dict) -> str:
        """Post a journal entry through the SOAP service: the new entry's id."""
        made = self.soap.post(t.soap_entry(body, self._tax_rates if entity != Entity.PAYMENT else {}),
                              str(self.config.client_id or "")[:12])
        return t.entry_id(made)

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``idempotency_key`` is not sent: S/4HANA's posting service has none (see the module docstring)."""
        if doc.entity == Entity.CUSTOMER:
            return t.partner_result(self.client.create(PARTNERS, t.business_partner(doc)))
        if doc.entity == Entity.ITEM:
            return t.product_result(self.client.create(PRODUCTS, t.product(doc, product_code(doc))))
        made = self._post(doc.entity, self._body(doc, mapping))
        self._refuse_taken(doc, made)
        return self.fetch(doc.entity, made)

    def _refuse_taken(self, doc: Snapshot, made: str) -> None:
        """S/4HANA posts a second entry with our reference: when another live one has it, counter-post the one
        just posted and refuse the create. The post is the first request, so a lost answer leaves an entry that
        search-before-create finds."""
        taken = [key for key in self._find_all(doc) if key != made]
        if taken:
            self.reverse(doc.entity, made)
            raise DuplicateError(f"SAP S/4HANA already holds {self._what(doc)} (journal entry {taken[0]}); the "
                                 f"copy just posted ({made}) was reversed", platform_code="reference_taken",
                                 hint="The pipeline adopts it when it is ours; otherwise renumber one of them.")

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        current = self.fetch(doc.entity, ref.remote_id)
        if ref.version and current.version != ref.version:
            raise ConflictError(f"{self._what(doc)} changed in SAP S/4HANA since we last wrote it",
                                platform_code="etag", hint="Compare both versions, then send ours anyway or change "
                                "the local document.")
        if doc.entity == Entity.CUSTOMER:
            self.client.patch(f"{PARTNERS}({quote(ref.remote_id)})",
                              {"OrganizationBPName1": doc.name[:40], "SearchTerm1": doc.name[:20].upper()},
                              ref.version or current.version)
            return self.fetch(doc.entity, ref.remote_id)
        if doc.entity == Entity.ITEM:  # the description (a PATCH saves the product, so its ETag moves on)
            self.client.patch(f"API_PRODUCT_SRV/A_ProductDescription(Product={quote(ref.remote_id)},Language='EN')",
                              {"ProductDescription": doc.name[:40]}, ref.version or current.version)
            return self.fetch(doc.entity, ref.remote_id)
        body = self._body(doc, mapping)
        if current.status == "voided":  # reversed, and staff chose to send ours anyway: posted again
            taken = self._find_all(doc)
            if taken:
                return replace(self.fetch(doc.entity, taken[0]), adopted=True)
            return self.fetch(doc.entity, self._post(doc.entity, body))
        if t.content(body) != current.fingerprint:
            return self._replace(doc, ref.remote_id, body)
        return current  # the same amounts: a changed memo alone is not sent (see the module docstring)

    def _replace(self, doc: Snapshot, remote_id: str, body: dict) -> RemoteResult:
        """Reverse the posted entry, then post the new content with the same reference: the new one is the
        result."""
        try:
            self.reverse(doc.entity, remote_id)
        except PermanentError as exc:
            raise PostingRefused(f"{self._what(doc)} could not be replaced in SAP S/4HANA: it refused to reverse "
                                 f"{remote_id}: {exc.message}", platform_code=exc.platform_code or "reverse",
                                 http_status=exc.http_status, hint=REPLACE_HINT, raw=exc.raw) from exc
        try:
            return self.fetch(doc.entity, self._post(doc.entity, body))
        except PermanentError as exc:
            raise PostingRefused(f"{self._what(doc)}: {remote_id} was reversed in SAP S/4HANA to be replaced, and "
                                 f"the replacement was refused: {exc.message}",
                                 platform_code=exc.platform_code or "post", http_status=exc.http_status,
                                 hint="Fix what SAP S/4HANA names, then send the document again: it is posted anew "
                                      "with the same reference.", raw=exc.raw) from exc

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        lifecycle.void(LIFECYCLE, self, entity, ref.remote_id, self.state(entity, ref.remote_id),
                       f"{entity.replace('_', ' ')} {ref.remote_id}")
        return self.fetch(entity, ref.remote_id)

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        raise PermanentError(f"SAP S/4HANA deletes no {entity.replace('_', ' ')}", code="unsupported",
                             hint="Void the document instead (it is reversed in SAP S/4HANA).")

    # -- the life cycle's steps (connectors.lifecycle.LifecycleSteps): only reversal is used -------------------------
    def state(self, entity: str, remote_id: str) -> str:
        return "reversed" if self._entry(entity, remote_id).get("IsReversed") else "posted"

    def reverse(self, entity: str, remote_id: str) -> str:
        """A counter-posting through Journal Entry - Post: the same document type, reference and items on the
        other sides, its header text naming the original (SAP_COM_0002 has no reversal service). An invoice
        that live payments or credit memos still name is refused: those are reversed first. The counter-posting's
        id."""
        body = self._entry(entity, remote_id)
        if body.get("IsReversed"):
            raise ValidationFailed(f"journal entry {remote_id} is already reversed", platform_code="F5/298")
        if entity == Entity.INVOICE and self._taken(remote_id):
            raise ValidationFailed(f"journal entry {remote_id} is named by live payments or credit memos; reverse "
                                   "those first", platform_code="referenced", hint=REPLACE_HINT)
        if entity == Entity.CREDIT_NOTE and self._refunded(remote_id):
            raise ValidationFailed(f"journal entry {remote_id} is named by live refunds; reverse those first",
                                   platform_code="referenced", hint=REPLACE_HINT)
        return self._post(entity, t.counter_posting(body, remote_id))

    def post(self, entity: str, remote_id: str) -> None:
        raise NotImplementedError("S/4HANA journal entries are posted when created (LIFECYCLE.entities is empty)")

    def to_draft(self, entity: str, remote_id: str) -> None:
        raise NotImplementedError("a posted S/4HANA journal entry has no draft to return to")

    def cancel(self, entity: str, remote_id: str) -> None:
        raise NotImplementedError("S/4HANA journal entries are voided by reversal (LIFECYCLE.void_by)")

    def discard(self, entity: str, remote_id: str) -> None:
        raise NotImplementedError("S/4HANA journal entries are never left as drafts")

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        return c.refund_problems(doc) if isinstance(doc, RefundSnapshot) else []

    # -- reference data -------------------------------------------------------------------------------------------
    def reference_data(self) -> ReferenceData:
        company = self.client.entity(f"API_COMPANYCODE_SRV/A_CompanyCode({quote(self.company)})")
        chart = str(company.get("ChartOfAccounts") or "")
        accounts = list(self.client.rows("API_GLACCOUNTINCHARTOFACCOUNTS_SRV/A_GLAccountInChartOfAccounts", {
            "$filter": f"ChartOfAccounts eq {quote(chart)} and AccountIsBlockedForPosting eq false"}))
        taxes = [{"TaxCode": code, "TaxCodeName": name or code} for code, _, name in
                 tax_codes(self.setting("tax_codes"))]
        home = str(company.get("Currency") or "")
        others = [c.strip().upper() for c in str(self.setting("currencies") or "").split(",") if c.strip()]
        return rest.reference_data(accounts, taxes, account_kind, account_id="GLAccount",
                                   account_name="GLAccountName", tax_id="TaxCode", tax_name="TaxCodeName",
                                   currencies=list(dict.fromkeys([home, *others])), home_currency=home)

    # -- platform -> local ----------------------------------------------------------------------------------------
    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """Journal entries of our types with items changed at or after ``since`` (to the second), one request per
        document type: a reversed one (by a person, or by our counter-posting, which names it) is a deletion for a
        payment, a void otherwise. Reversal documents themselves are not reported (their original is). Expenses and
        journals are both ``SA`` entries, which their items do not tell apart: a change to one is reported as each
        of the two asked for (the one we sent is known by its reference). The cursor is the second we asked in."""
        cursor = dt.datetime.now(dt.UTC).replace(microsecond=0)
        since = since.astimezone(dt.UTC).replace(microsecond=0)
        changes: dict[tuple[str, str], RemoteChange] = {}
        by_type: dict[str, list[str]] = {}
        for entity in [e for e in entities if e in t.DOC_TYPES]:
            by_type.setdefault(t.DOC_TYPES[entity], []).append(entity)
        for doc_type, kinds in by_type.items():
            found = self._documents(f"AccountingDocumentType eq {quote(doc_type)} and "
                                    f"LastChangeDateTime ge {datetimeoffset(since)}")
            for entity in kinds:
                gone = "delete" if entity == Entity.PAYMENT else "void"
                for key, body in found.items():
                    changed = odata_time(body.get("LastChangeDateTime"))
                    if changed is None or changed < since or body.get("IsReversal"):
                        continue
                    original = t.counter_of(body.get("DocumentHeaderText"))
                    remote_id, operation = (original, gone) if original else \
                        (key, gone if body.get("IsReversed") else "update")
                    if (entity, remote_id) not in changes or operation == gone:
                        changes[(entity, remote_id)] = RemoteChange(entity, remote_id, operation,
                                                                    self.config.remote_company_id, changed)
        return list(changes.values()), cursor

    def remote_payment(self, remote_id: str) -> RemotePayment:
        body = self._entry(Entity.PAYMENT, remote_id)
        result = t.result(Entity.PAYMENT, body)
        posted = odata_time(body.get("PostingDate"))
        return RemotePayment(result.remote_id, result.version, t.customer_of(body),
                             posted.date() if posted else dt.datetime.now(dt.UTC).date(),
                             rest.money(body.get("AmountInTransactionCurrency")) or t.ZERO,
                             str(body.get("TransactionCurrency") or ""), tuple(t.applied_to(body)),
                             reference=str(body.get("DocumentReferenceID") or ""),
                             deleted=bool(body.get("IsReversed")))

    @staticmethod
    def _what(doc: Snapshot) -> str:
        label = doc.entity.replace("_", " ")
        return f"{label} {getattr(doc, 'number', '') or getattr(doc, 'name', '')}".strip()


def tax_codes(setting) -> list[tuple[str, Decimal, str]]:
    """The ``tax_codes`` setting as (code, rate in percent, name); a malformed entry is a configuration error."""
    out = []
    for part in [p.strip() for p in str(setting or "").split(",") if p.strip()]:
        code, _, rest_ = part.partition(":")
        rate, _, name = rest_.partition(":")
        try:
            out.append((code.strip().upper(), Decimal(rate.strip() or "0"), name.strip() or code.strip().upper()))
        except ArithmeticError as exc:
            raise ConfigurationError(f"the SAP S/4HANA tax code entry {part!r} has no rate",
                                     hint="Write each tax code as code:rate:name (A1:19:VAT 19%).") from exc
    return out


def product_code(doc) -> str:
    """The product number of an item of ours: its SKU, else one derived from our key (the same for the same local
    item, so a create sent twice is refused as a duplicate, never doubled)."""
    if doc.sku:
        return doc.sku.strip().upper()[:40]
    return "I" + hashlib.sha256(doc.key.encode()).hexdigest()[:17].upper()


def account_kind(account: dict) -> str:
    """A G/L account's kind: a cash account (``GLAccountType`` C) takes deposits; among the profit-and-loss
    accounts (P), revenue is told by its name (S/4HANA marks revenue by account group and number range, which the
    chart's API does not say); balance-sheet accounts (X) are receivable or tax by name."""
    kind = str(account.get("GLAccountType") or "")
    name = str(account.get("GLAccountName") or "").lower()
    if kind == "C":
        return AccountKind.DEPOSIT
    if kind in ("P", "N"):
        return AccountKind.INCOME if any(w in name for w in ("revenue", "income", "sales")) else AccountKind.EXPENSE
    if "receivable" in name:
        return AccountKind.RECEIVABLE
    if "tax" in name:
        return AccountKind.TAX_PAYABLE
    return AccountKind.OTHER
