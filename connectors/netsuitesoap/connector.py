"""NetSuite SuiteTalk SOAP connector (legacy: NetSuite's last SOAP endpoint is 2025.2, removed in 2028.2).

**Credentials.** Token-based authentication: the connection's client id and secret are the integration record's
consumer key and secret; the ``account_id``, ``token_id`` and ``token_secret`` settings name the account and the
access token made for it in NetSuite's UI (the secret stored encrypted). Every request carries a freshly signed
``tokenPassport``; there is no session. In the kit's token store the connection's "access token" is the token id,
checked by one cheap read when staff press Connect (``login``); a TBA token does not expire, so renewing it is that
check again: a token revoked in NetSuite stays refused and is an ``AuthError`` (staff issue a new token).

**No duplicates.** Every create is an ``add`` with our document key as ``externalId``, which NetSuite keeps unique
per record type: a second ``add`` with the same key is refused with ``DUP_RCRD`` (a ``DuplicateError``), and
``find_existing`` is a ``get`` by that external id, so a retry after a lost answer finds what the first one made.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from functools import cached_property

from urllib.parse import urlencode

from .. import oauth, rest
from ..base import (API_BASE_FIELD, AUTHORIZE_URL_FIELD, TIMEOUT_FIELD, AccountKind, BaseConnector, Capabilities,
                    DemoChart, DocumentTotals, ReferenceData, RemoteChange, RemoteDocument, RemotePayment, Setting,
                    TokenSet)
from ..documents import (BillSnapshot, CreditNoteSnapshot, Entity, ExpenseSnapshot, JournalSnapshot, Mapping,
                         RefundSnapshot, RemoteRef, RemoteResult, Snapshot)
from ..errors import ConfigurationError, ConflictError, RemoteNotFound
from ..registry import register
from . import costs as c
from . import errors
from .client import SoapClient

CENT = Decimal("0.01")
#: Our entity -> NetSuite record type, its XSD namespace and type name.
RECORDS = {Entity.CUSTOMER: ("customer", "rel", "Customer"), Entity.INVOICE: ("invoice", "sales", "Invoice"),
           Entity.PAYMENT: ("customerPayment", "cust", "CustomerPayment"),
           Entity.CREDIT_NOTE: ("creditMemo", "cust", "CreditMemo"),
           Entity.ITEM: ("nonInventorySaleItem", "acct", "NonInventorySaleItem"),
           Entity.REFUND: ("customerRefund", "cust", "CustomerRefund"), Entity.EXPENSE: ("check", "bank", "Check"),
           Entity.JOURNAL: ("journalEntry", "general", "JournalEntry"),
           Entity.BILL: ("vendorBill", "purch", "VendorBill")}
SEARCH_TYPE = {Entity.INVOICE: "_invoice", Entity.PAYMENT: "_customerPayment", Entity.CREDIT_NOTE: "_creditMemo",
               Entity.REFUND: "_customerRefund", Entity.EXPENSE: "_check", Entity.JOURNAL: "_journal",
               Entity.BILL: "_vendorBill"}
BY_TYPE = {record: entity for entity, (record, _, _) in RECORDS.items()}
#: NetSuite's AccountType values -> ours.
ACCOUNT_KINDS = {"_income": AccountKind.INCOME, "_otherIncome": AccountKind.INCOME, "_expense": AccountKind.EXPENSE,
                 "_otherExpense": AccountKind.EXPENSE, "_costOfGoodsSold": AccountKind.EXPENSE,
                 "_bank": AccountKind.DEPOSIT, "_accountsReceivable": AccountKind.RECEIVABLE,
                 "_creditCard": AccountKind.CREDIT_CARD}
#: Other current assets a payment may be deposited to (NetSuite's Undeposited Funds is one, by name).
UNDEPOSITED = "undeposited funds"
#: What our void leaves on an invoice or credit memo (SuiteTalk SOAP has no void operation): memo and one line.
VOIDED = "Voided"
#: NetSuite's limit on an item's name (itemId).
ITEM_NAME_MAX = 60
#: How long a checked token is trusted before the token store checks it again (a TBA token has no expiry).
CHECK_EVERY = dt.timedelta(days=30)


def money(value) -> Decimal | None:
    """An xsd:double amount as zeep reads it (a float) back to cents: ``repr`` is the shortest text that reads
    back the same, so amounts under 10^15 come back digit for digit."""
    if value is None:
        return None
    return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(CENT)


@register
class NetSuiteSoapConnector(BaseConnector):
    id = "netsuitesoap"
    name = "NetSuite (SuiteTalk SOAP, legacy)"
    capabilities = Capabilities(
        entities=frozenset({*Entity.ALL, Entity.BILL}),  # supplier bills as vendor bills (costs.py)
        # no SOAP void operation: emulated (the lines become one "Voided" line of 0, applications taken back)
        void=frozenset({Entity.INVOICE, Entity.CREDIT_NOTE}),
        #: Customer refunds, checks (our expenses) and journal entries voided here are deleted there: SOAP has no
        #: void operation, and NetSuite voids them only in the UI. A vendor bill likewise.
        delete=frozenset({*Entity.ALL, Entity.BILL}),
        kept_lines=True,  # a restocking fee is a credit memo line with a negative rate, on its income account's item
        # customer refunds, checks and journal entries we sent, deleted (or a check voided) in NetSuite's UI
        inbound=frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.RETURNS_AND_COSTS}),
        inbound_creates=frozenset({Entity.PAYMENT}),  # a payment recorded in NetSuite on a synced invoice
        inbound_deletes=True,  # getDeleted
        idempotency_keys=False,  # no request key: a resend is found first (get by externalId), else refused
    )
    #: Refunds, expenses and journals are reconciled too (searched by internal id, like the sales documents).
    reconcile_entities = frozenset({Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, *Entity.RETURNS_AND_COSTS,
                                    Entity.BILL})
    concurrent_limit = 15  # the account's limit (Tier 1), shared with every other integration
    default_settings = {"api_base": "", "timeout": 30, "default_item": "", "authorize_url": "", "expense_payee": "",
                        "subsidiary": ""}
    settings_fields = (
        replace(API_BASE_FIELD, help="https://<account id>.suitetalk.api.netsuite.com (the account's SuiteTalk "
                "domain, Setup > Company > Company Information > Company URLs)."),
        replace(AUTHORIZE_URL_FIELD, help="A consent page to open on Connect. Empty: the token is made in NetSuite's "
                "UI (Access Tokens) and typed below; Connect checks it directly."),
        TIMEOUT_FIELD,
        Setting("account_id", "Account ID", "The NetSuite account id (Setup > Company > Company Information), "
                "e.g. 1234567 or 1234567_SB1 for a sandbox account.", required=True),
        Setting("token_id", "Token ID", "The access token's id (Setup > Users/Roles > Access Tokens).",
                required=True),
        Setting("token_secret", "Token secret", "The access token's secret (kept when left empty).", secret=True),
        Setting("default_item", "Line item", "The internal id of the non-inventory sale item a line is booked on "
                "when it has no synced item and no income account mapped (a NetSuite invoice line is always on an "
                "item).", required=True),
        Setting("expense_payee", "Expense payee", "The internal id of the vendor an expense's check is written to "
                "(NetSuite requires a payee on a check; the expense's own payee goes in the check's memo). Needed "
                "only to send expenses."),
        Setting("subsidiary", "Subsidiary", "OneWorld accounts: the internal id of the subsidiary journal entries "
                "are posted to. Empty on accounts without subsidiaries."),
    )
    sandbox_class = "connectors.netsuitesoap.sandbox.NetSuiteSoapSandbox"
    demo_chart = DemoChart(default_income="Sales", category_income={"Consultations": "Consulting Revenue"},
                           line_kind_income={"shipping": "Shipping Income", "return_shipping": "Shipping Income"},
                           discount="Discounts Given", deposit="Checking",
                           taxes={"GST 10%": "Sales Tax 10%", "Exempt": "Tax Exempt"},
                           refund="Checking", expense="Operating Expenses", paid_from="Checking")

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        from .sandbox import seed  # noqa: PLC0415 - the sandbox's public account and token
        return {"api_base": base_url, "account_id": seed.ACCOUNT_ID, "token_id": seed.TOKEN_ID,
                "token_secret": seed.TOKEN_SECRET, "default_item": seed.ITEMS[0][0],
                "authorize_url": f"{base_url}/netsuitesoap/connect", "expense_payee": seed.VENDORS[0][0]}

    @cached_property
    def client(self) -> SoapClient:
        base = str(self.setting("api_base") or "").rstrip("/")
        if not base or not self.setting("account_id") or not self.setting("token_id"):
            raise ConfigurationError("the NetSuite connection names no address, account or token",
                                     hint="Set the connection's api_base, account_id, token_id and token_secret.")
        return SoapClient(base, str(self.setting("account_id")), (self.config.client_id, self.config.client_secret),
                          self.token_id, str(self.setting("token_secret") or ""),
                          timeout=float(self.setting("timeout")), throttle=self.throttle)

    def token_id(self, force: bool = False) -> str:
        """The token id from the token store (``login`` put it there); without a store (a check), the setting's."""
        if self._token_getter is None:
            return str(self.setting("token_id"))
        return self.access_token(force)

    # -- the token store's hooks: a TBA token made in NetSuite's UI stands in for a grant ----------------------------
    def login(self) -> TokenSet:
        """Check the account, consumer and token with one cheap read (``getAll`` currencies) signed with the
        settings' token; the token store keeps the token id as the access token."""
        token = str(self.setting("token_id") or "")
        checker = type(self)(self.config)  # no token getter: signs with the settings' token id
        answer = checker.client.call("getAll", record=checker.client.type("core", "GetAllRecord")(
            recordType="currency"))
        if not answer["status"]["isSuccess"]:
            raise errors.from_status(answer["status"])
        expires = dt.datetime.now(dt.UTC) + CHECK_EVERY
        return TokenSet(token, token, expires, None, str(self.setting("account_id") or self.config.remote_company_id))

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """No consent page (the token is made in NetSuite's UI): back to the callback at once (a sandbox may stand
        in a page: ``authorize_url``)."""
        if self.setting("authorize_url"):
            return oauth.authorization_url(self.setting("authorize_url"), self.config.client_id, redirect_uri, "",
                                           state)
        joiner = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{joiner}{urlencode({'code': 'tba', 'state': state})}"

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        return self.login()

    def refresh(self, refresh_token: str) -> TokenSet:
        """A TBA token cannot be renewed: the check again (a token revoked in NetSuite stays refused)."""
        return self.login()

    def exchanges(self) -> list[dict]:
        return self.client.exchanges if "client" in self.__dict__ else []

    # -- calls ---------------------------------------------------------------------------------------------------
    def ref(self, internal_id: str = "", kind: str = "", external_id: str = ""):
        values = {k: v for k, v in (("internalId", internal_id), ("externalId", external_id), ("type", kind)) if v}
        return self.client.type("core", "RecordRef")(**values)

    def write(self, operation: str, record) -> str:
        answer = self.client.call(operation, record=record)
        if not answer["status"]["isSuccess"]:
            raise errors.from_status(answer["status"])
        return str(answer["baseRef"]["internalId"])

    def get(self, entity: str, internal_id: str = "", external_id: str = "") -> dict:
        kind = RECORDS[entity][0]
        answer = self.client.call("get", baseRef=self.ref(internal_id, kind, external_id))
        if not answer["status"]["isSuccess"]:
            raise errors.from_status(answer["status"])
        return answer["record"]

    # -- documents to records ---------------------------------------------------------------------------------------
    @cached_property
    def currencies(self) -> dict[str, str]:
        """ISO code -> the currency record's internal id (one ``getAll`` per connector)."""
        answer = self.client.call("getAll", record=self.client.type("core", "GetAllRecord")(recordType="currency"))
        if not answer["status"]["isSuccess"]:
            raise errors.from_status(answer["status"])
        return {str(row["name"]): str(row["internalId"]) for row in (answer.get("recordList") or {}).get("record")
                or []}

    def currency_ref(self, code: str):
        """The currency of a refund, check or journal entry (by its record's internal id); none: the base one."""
        if not code:
            return None
        if code not in self.currencies:
            raise ConfigurationError(f"NetSuite has no currency {code}", platform_code="currency",
                                     hint="Add the currency in NetSuite (Lists > Accounting > Currencies).")
        return self.ref(self.currencies[code])

    def body(self, doc: Snapshot, mapping: Mapping):
        _, ns, name = RECORDS[doc.entity]
        record = self.client.type(ns, name)
        if isinstance(doc, RefundSnapshot):
            if problems := c.refund_problems(doc):
                raise ConfigurationError("; ".join(problems), hint="Record the refund in NetSuite by hand.")
            return c.refund_record(doc, mapping, self.client.type, self.ref, self.currency_ref(doc.currency))
        if isinstance(doc, ExpenseSnapshot):
            return c.check_record(doc, mapping, str(self.setting("expense_payee") or ""), self.client.type,
                                  self.ref, self.currency_ref(doc.currency))
        if isinstance(doc, BillSnapshot):
            return c.bill_record(doc, mapping, self.vendor(doc.supplier), self.client.type, self.ref,
                                 self.currency_ref(doc.currency))
        if isinstance(doc, JournalSnapshot):
            return c.journal_record(doc, mapping, str(self.setting("subsidiary") or ""), self.client.type, self.ref,
                                    self.currency_ref(doc.currency))
        if doc.entity == Entity.CUSTOMER:
            return record(externalId=doc.key, companyName=doc.name, email=doc.email or None,
                          isInactive=not doc.active)
        if doc.entity == Entity.ITEM:  # a non-inventory sale item on the mapped income account
            if not mapping.item_account:
                raise ConfigurationError(f"item {doc.name} has no income account mapped (a NetSuite sale item books "
                                         "to one)", platform_code="incomeAccount",
                                         hint="Map an income account for items in the connection's mappings.")
            return record(externalId=doc.key, itemId=doc.name[:ITEM_NAME_MAX], displayName=doc.name[:ITEM_NAME_MAX],
                          incomeAccount=self.ref(mapping.item_account), isInactive=not doc.active,
                          rate=format(doc.unit_price, "f"))
        customer = self.ref(self.required(mapping, doc.customer_key, "customer"))
        if doc.entity == Entity.PAYMENT:
            applies = [self.client.type("cust", "CustomerPaymentApply")(
                doc=int(self.required(mapping, a.invoice_key, "invoice")), apply=True, amount=a.amount)
                for a in doc.allocations]
            return record(externalId=doc.key, customer=customer, payment=doc.amount, tranId=doc.number,
                          tranDate=dt.datetime.combine(doc.date or dt.date.today(), dt.time()), memo=doc.memo or None,
                          applyList=self.client.type("cust", "CustomerPaymentApplyList")(apply=applies))
        lines = []
        for index, line in enumerate(doc.lines):
            item = self.line_item(line, index, mapping)
            # a discount nets the document; on a credit memo, a line the business keeps (a restocking fee) nets it
            sign = -1 if line.kind == "discount" or (isinstance(doc, CreditNoteSnapshot) and line.kept) else 1
            tax = mapping.tax_codes.get(line.tax_rate_key or "")
            lines.append(self.client.type("sales", "InvoiceItem")(
                item=self.ref(item), description=line.description or line.item_name or None,
                quantity=line.quantity, rate=format(sign * line.unit_price, "f"), amount=sign * line.net_amount,
                taxCode=self.ref(tax) if tax else None, tax1Amt=sign * line.tax_amount if tax else None))
        common = {"externalId": doc.key, "entity": customer, "tranId": doc.number, "memo": doc.memo or None,
                  "tranDate": dt.datetime.combine(doc.issue_date or dt.date.today(), dt.time())}
        if doc.entity == Entity.INVOICE:
            return record(**common, itemList=self.client.type("sales", "InvoiceItemList")(item=lines))
        applies = [self.client.type("cust", "CreditMemoApply")(
            doc=int(self.required(mapping, a.invoice_key, "invoice")), apply=True, amount=a.amount)
            for a in doc.allocations]
        return record(**common, itemList=self.client.type("cust", "CreditMemoItemList")(item=lines),
                      applyList=self.client.type("cust", "CreditMemoApplyList")(apply=applies))

    def vendor(self, name: str) -> str:
        """The vendor a bill's supplier is: the first active one whose ``companyName`` is the name
        (``VendorSearchBasic``), else one added (in the connection's subsidiary on OneWorld accounts). Remembered
        per connector."""
        name = name.strip()[:83]
        if not name:
            raise ConfigurationError("the bill names no supplier", hint="Give the bill a supplier.")
        if name not in self._vendors:
            core = self.client.type
            found = self._search_records(core("common", "VendorSearchBasic")(
                companyName=core("core", "SearchStringField")(operator="is", searchValue=name),
                isInactive=core("core", "SearchBooleanField")(searchValue=False)))
            if found:
                self._vendors[name] = str(sorted(found, key=lambda r: int(r["internalId"]))[0]["internalId"])
            else:
                subsidiary = str(self.setting("subsidiary") or "")
                self._vendors[name] = self.write("add", core("rel", "Vendor")(
                    companyName=name, subsidiary=self.ref(subsidiary) if subsidiary else None))
        return self._vendors[name]

    @cached_property
    def _vendors(self) -> dict[str, str]:
        return {}

    def line_item(self, line, index: int, mapping: Mapping) -> str:
        """The item a line is booked on: its own synced item; else the first active non-inventory sale item whose
        income account is the line's mapped account (NetSuite books a line to its item's income account); else,
        with no account mapped, the connection's ``default_item``. A mapped account no item books to is refused:
        the line would land on another account."""
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
        """Income account internal id -> the first active non-inventory sale item on it (one search per
        connector)."""
        core = self.client.type
        found: dict[str, str] = {}
        for item in self._search_records(core("common", "ItemSearchBasic")(
                isInactive=core("core", "SearchBooleanField")(searchValue=False),
                type=core("core", "SearchEnumMultiSelectField")(operator="anyOf", searchValue=["_nonInventoryItem"]))):
            account = str((item.get("incomeAccount") or {}).get("internalId") or "")
            if account:
                found.setdefault(account, str(item["internalId"]))
        return found

    @staticmethod
    def required(mapping: Mapping, key: str | None, what: str) -> str:
        if not key or key not in mapping.refs:
            raise ConfigurationError(f"the {what} of this document has no NetSuite id yet ({key})",
                                     hint="Sync it first; the pipeline normally does this by itself.")
        return str(mapping.refs[key])

    @staticmethod
    def lines(record: dict) -> list[dict]:
        return list((record.get("itemList") or {}).get("item") or [])

    @staticmethod
    def applications(record: dict) -> tuple[tuple[str, Decimal], ...]:
        return tuple((str(a.get("doc")), money(a.get("amount"))) for a in
                     (record.get("applyList") or {}).get("apply") or [] if a.get("apply") is not False)

    @classmethod
    def fingerprint(cls, entity: str, record: dict) -> str:
        """What a person can edit: the party, number, date and amounts, each line's item, quantity, rate, amount and
        tax code, and what a payment or credit memo applies (not totals NetSuite derives, nor timestamps)."""
        party = ((record.get("customer") if entity in (Entity.PAYMENT, Entity.REFUND) else record.get("entity"))
                 or {}).get("internalId")
        lines = [{"item": (line.get("item") or {}).get("internalId"), "quantity": line.get("quantity"),
                  "rate": line.get("rate"), "amount": line.get("amount"),
                  "taxCode": (line.get("taxCode") or {}).get("internalId")} for line in cls.lines(record)]
        lines += c.cost_rows(record)
        applied = sorted([doc, rest.plain(amount)] for doc, amount in cls.applications(record))
        body = {**record, "party": party, "lines": lines}
        body["income"] = (record.get("incomeAccount") or {}).get("internalId")
        body["bank"] = (record.get("account") or {}).get("internalId")
        return rest.content_hash(entity, body, ("party", "tranId", "tranDate", "payment", "companyName", "email",
                                                "itemId", "displayName", "income", "rate", "bank"),
                                 ("item", "quantity", "rate", "amount", "taxCode", "account", "debit", "credit"),
                                 lines="lines", extra=applied)

    @classmethod
    def voided(cls, record: dict) -> bool:
        """Voided in NetSuite's UI (status Voided), or by our emulated void (memo and one zero line "Voided")."""
        if record.get("status") == VOIDED:
            return True
        lines = cls.lines(record)
        return (record.get("memo") == VOIDED and len(lines) == 1 and lines[0].get("description") == VOIDED
                and not money(lines[0].get("amount")))

    @classmethod
    def result(cls, entity: str, record: dict, adopted: bool = False) -> RemoteResult:
        modified = record.get("lastModifiedDate")
        version = modified.isoformat() if isinstance(modified, dt.datetime) else str(modified or "")
        fingerprint = cls.fingerprint(entity, record)
        if entity in (Entity.CUSTOMER, Entity.ITEM):
            name = record.get("companyName") if entity == Entity.CUSTOMER else record.get("itemId")
            return RemoteResult(str(record["internalId"]), version, str(name or ""),
                                status="inactive" if record.get("isInactive") else "active", raw=record,
                                adopted=adopted, fingerprint=fingerprint)
        status = "voided" if cls.voided(record) else "active"
        if entity in (*Entity.RETURNS_AND_COSTS, Entity.BILL):
            return cls.cost_result(entity, record, version, status, adopted, fingerprint)
        total = money(record.get("payment") if entity == Entity.PAYMENT else record.get("total"))
        balance = money(record.get("amountRemaining") if entity == Entity.INVOICE else record.get("unapplied"))
        return RemoteResult(str(record["internalId"]), version, str(record.get("tranId") or ""), total, balance,
                            status=status, raw=record, adopted=adopted, fingerprint=fingerprint)

    @staticmethod
    def cost_result(entity: str, record: dict, version: str, status: str, adopted: bool,
                    fingerprint: str) -> RemoteResult:
        """A refund's total is what it applies (its memo our number); a check's or a vendor bill's its ``userTotal``
        (the amounts and their tax), in home currency at its ``exchangeRate``; a journal entry's the sum of its
        debits."""
        number, home = str(record.get("tranId") or ""), None
        if entity == Entity.REFUND:
            total = money(record.get("total"))
            if total is None:
                total = sum((money(a.get("amount")) or c.ZERO for a in (record.get("applyList") or {}).get("apply")
                             or [] if a.get("apply") is not False), c.ZERO)
            number = str(record.get("memo") or "")
        elif entity in (Entity.EXPENSE, Entity.BILL):
            total, rate = money(record.get("userTotal")), record.get("exchangeRate")
            home = money(total * Decimal(repr(rate))) if total is not None and rate is not None else None
        else:
            total = sum((money(line.get("debit")) or c.ZERO for line in c.journal_lines(record)), c.ZERO)
        # a vendor bill's record carries no balance (searches alone do): an Open bill owes its total, a paid one none
        balance = None
        if entity == Entity.BILL and total is not None:
            balance = {"Open": total, "Paid In Full": c.ZERO}.get(str(record.get("status") or ""))
        return RemoteResult(str(record["internalId"]), version, number, total, balance, status=status, raw=record,
                            adopted=adopted, fingerprint=fingerprint, home_total=home)

    # -- the connector interface ------------------------------------------------------------------------------------
    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        return self.result(entity, self.get(entity, remote_id))

    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        try:
            return self.result(doc.entity, self.get(doc.entity, external_id=doc.key), adopted=True)
        except RemoteNotFound:
            return None

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        """``add`` with our key as ``externalId``: NetSuite refuses a second one (``DUP_RCRD``)."""
        return self.fetch(doc.entity, self.write("add", self.body(doc, mapping)))

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """``update`` by internal id, after a ``get`` whose ``lastModifiedDate`` must be the version we last wrote:
        NetSuite SOAP has no conditional update, so a change made between the two calls is not seen."""
        current = self.fetch(doc.entity, ref.remote_id)
        if ref.version and current.version != ref.version:
            raise ConflictError(f"{doc.entity.replace('_', ' ')} {ref.remote_id} changed in NetSuite since we last "
                                "wrote it", platform_code="lastModifiedDate",
                                hint="Compare both versions, then send ours anyway or change the local document.")
        record = self.body(doc, mapping)
        record.internalId = ref.remote_id
        return self.fetch(doc.entity, self.write("update", record))

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        """Emulated (SuiteTalk SOAP has no void operation, and a void by reversing journal is an account preference
        we cannot rely on): an ``update`` that keeps the record's number, customer and date, replaces its lines with
        one "Voided" line of 0.00 on the first line's item and, on a credit memo, takes its applications back.
        NetSuite refuses it for an invoice with payments applied (its total would fall below what was paid)."""
        current = self.get(entity, ref.remote_id)
        first = (self.lines(current) or [{}])[0].get("item") or {}
        item = str(first.get("internalId") or self.setting("default_item") or "")
        line = self.client.type("sales", "InvoiceItem")(item=self.ref(item), description=VOIDED, quantity=1,
                                                        rate="0", amount=Decimal("0"))
        _, ns, name = RECORDS[entity]
        lists = ("sales", "InvoiceItemList") if entity == Entity.INVOICE else ("cust", "CreditMemoItemList")
        values = {"internalId": ref.remote_id, "memo": VOIDED,
                  "itemList": self.client.type(*lists)(item=[line], replaceAll=True)}
        if entity == Entity.CREDIT_NOTE:
            values["applyList"] = self.client.type("cust", "CreditMemoApplyList")(apply=[])
        return self.fetch(entity, self.write("update", self.client.type(ns, name)(**values)))

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        answer = self.client.call("delete", baseRef=self.ref(ref.remote_id, RECORDS[entity][0]))
        if not answer["status"]["isSuccess"]:
            error = errors.from_status(answer["status"])
            if not isinstance(error, RemoteNotFound):  # already gone: nothing to do
                raise error

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        if isinstance(doc, RefundSnapshot):
            return c.refund_problems(doc)
        if isinstance(doc, ExpenseSnapshot):
            return c.payee_problems(str(self.setting("expense_payee") or ""))
        return []

    def reference_data(self) -> ReferenceData:
        """Active accounts (``AccountSearchBasic``), sales tax items (``SalesTaxItemSearchBasic``) and currencies
        (``getAll`` of ``currency``, the base currency the home one)."""
        core = self.client.type
        active = core("core", "SearchBooleanField")(searchValue=False)
        accounts = self._search_records(core("common", "AccountSearchBasic")(isInactive=active))
        taxes = self._search_records(core("common", "SalesTaxItemSearchBasic")(isInactive=active))
        answer = self.client.call("getAll", record=core("core", "GetAllRecord")(recordType="currency"))
        if not answer["status"]["isSuccess"]:
            raise errors.from_status(answer["status"])
        currencies = [c for c in (answer.get("recordList") or {}).get("record") or [] if not c.get("isInactive")]
        home = next((c["name"] for c in currencies if c.get("isBaseCurrency")), "")
        return rest.reference_data(accounts, taxes, self.account_kind, account_id="internalId",
                                   account_name="acctName", tax_id="internalId", tax_name="itemId",
                                   currencies=[c["name"] for c in currencies], home_currency=home)

    @staticmethod
    def account_kind(account: dict) -> str:
        kind = str(account.get("acctType") or "")
        if kind == "_otherCurrentAsset" and str(account.get("acctName") or "").lower() == UNDEPOSITED:
            return AccountKind.DEPOSIT
        if kind == "_otherCurrentLiability" and "tax" in str(account.get("acctName") or "").lower():
            return AccountKind.TAX_PAYABLE
        return ACCOUNT_KINDS.get(kind, AccountKind.OTHER)

    def remote_payment(self, remote_id: str) -> RemotePayment:
        """A customer payment as NetSuite holds it (its ``memo`` is the reference); a deleted one says so."""
        try:
            record = self.get(Entity.PAYMENT, remote_id)
        except RemoteNotFound:
            return RemotePayment(remote_id, "", "", dt.date.today(), Decimal("0"), "", (), deleted=True)
        result = self.result(Entity.PAYMENT, record)
        day = record.get("tranDate")
        return RemotePayment(remote_id, result.version, str((record.get("customer") or {}).get("internalId") or ""),
                             day.date() if isinstance(day, dt.datetime) else dt.date.today(), result.total,
                             str((record.get("currency") or {}).get("name") or ""), self.applications(record),
                             reference=str(record.get("memo") or ""))

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        """An invoice or credit memo's status, totals and lines (quantity, rate); a deleted one says so."""
        try:
            record = self.get(entity, remote_id)
        except RemoteNotFound:
            return RemoteDocument(remote_id, "", "", "deleted", None, None)
        result = self.result(entity, record)
        lines = tuple((Decimal(repr(line.get("quantity") or 1.0)), money(line.get("rate") or "0"))
                      for line in self.lines(record))
        return RemoteDocument(remote_id, result.version, result.number, result.status, result.total, result.balance,
                              lines, applications=self.applications(record) if entity == Entity.CREDIT_NOTE else ())

    def read_documents(self, entity: str, remote_ids) -> list[DocumentTotals]:
        """One ``TransactionSearchBasic`` on ``internalId anyOf`` per 1,000 ids (a search page's size); an id the
        search does not return is gone."""
        ids = [str(i) for i in remote_ids]
        if entity not in SEARCH_TYPE:
            return [self._read_one(entity, i) for i in ids]
        found: dict[str, DocumentTotals] = {}
        core = self.client.type
        for start in range(0, len(ids), 1000):
            chunk = ids[start:start + 1000]
            search = core("common", "TransactionSearchBasic")(
                internalId=core("core", "SearchMultiSelectField")(operator="anyOf",
                                                                   searchValue=[self.ref(i) for i in chunk]),
                type=core("core", "SearchEnumMultiSelectField")(operator="anyOf", searchValue=[SEARCH_TYPE[entity]]))
            for record in self._search_records(search):
                result = self.result(entity, record)
                day = record.get("tranDate")
                found[result.remote_id] = DocumentTotals.from_result(
                    entity, result, tax_total=money(record.get("taxTotal")),
                    date=day.date() if isinstance(day, dt.datetime) else None,
                    modified=record.get("lastModifiedDate"))
        return [found.get(i) or DocumentTotals(i, entity, status="deleted") for i in ids]

    def _search_records(self, search) -> list[dict]:
        """Every record a search finds: its first page, then ``searchMoreWithId`` while pages remain."""
        result = self.client.call("search", searchRecord=search)
        records = []
        while True:
            if not result["status"]["isSuccess"]:
                raise errors.from_status(result["status"])
            records += (result.get("recordList") or {}).get("record") or []
            page, pages = result.get("pageIndex") or 1, result.get("totalPages") or 1
            if not result.get("searchId") or page >= pages:
                return records
            result = self.client.call("searchMoreWithId", searchId=result["searchId"], pageIndex=page + 1)

    def changes_since(self, entities, since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """A ``TransactionSearchBasic`` on ``lastModifiedDate`` (paged with ``searchMoreWithId``), then
        ``getDeleted`` page by page for the deletions; the cursor is the time we asked at. A refund, check or
        journal entry whose ``status`` is Voided (voided in the UI) is reported as a void. The reversing journal
        entry NetSuite makes when it voids with reversing journals is a journal entry of its own, not one of ours:
        the inbound sync finds no reference to it and skips it."""
        cursor = dt.datetime.now(dt.UTC)
        wanted = [e for e in entities if e in SEARCH_TYPE and e in self.inbound_entities]
        changes: list[RemoteChange] = []
        if not wanted:
            return changes, cursor
        core = self.client.type
        search = core("common", "TransactionSearchBasic")(
            lastModifiedDate=core("core", "SearchDateField")(operator="onOrAfter", searchValue=since),
            type=core("core", "SearchEnumMultiSelectField")(operator="anyOf",
                                                             searchValue=[SEARCH_TYPE[e] for e in wanted]))
        for record in self._search_records(search):
            entity = self._entity_of(record)
            voided = entity in Entity.RETURNS_AND_COSTS and record.get("status") == VOIDED
            changes.append(RemoteChange(entity, str(record["internalId"]), "void" if voided else "update",
                                        self.config.remote_company_id, record.get("lastModifiedDate")))
        flt = {"deletedDate": {"operator": "onOrAfter", "searchValue": since},
               "type": {"operator": "anyOf", "searchValue": [RECORDS[e][0] for e in wanted]}}
        page, pages = 1, 1
        while page <= pages:
            deleted = self.client.call("getDeleted", pageIndex=page, getDeletedFilter=flt)
            if not deleted["status"]["isSuccess"]:
                raise errors.from_status(deleted["status"])
            for row in ((deleted.get("deletedRecordList") or {}).get("deletedRecord") or []):
                changes.append(RemoteChange(BY_TYPE.get(row["record"]["type"], ""), str(row["record"]["internalId"]),
                                            "delete", self.config.remote_company_id, row.get("deletedDate")))
            page, pages = page + 1, deleted.get("totalPages") or 1
        return changes, cursor

    @staticmethod
    def _entity_of(record: dict) -> str:
        """A search row's entity by the fields only its type has (zeep's dicts drop the xsi:type)."""
        if "expenseList" in record:
            return Entity.EXPENSE
        if "lineList" in record:
            return Entity.JOURNAL
        if "customer" in record:
            return Entity.PAYMENT if "payment" in record else Entity.REFUND
        return Entity.CREDIT_NOTE if "unapplied" in record else Entity.INVOICE
