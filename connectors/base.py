"""The connector base class: what every platform implements, and what it declares it can do.

A connector is a translation layer. It gets a ``ConnectionConfig`` (plain values, no Django model) and a
``token_getter`` that returns a valid access token (the pipeline owns refresh and its locking). It receives
snapshots and mappings and returns ``RemoteResult``s or raises a ``connectors.errors.SyncError`` subclass.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from . import crypto
from .documents import Mapping, RemoteRef, RemoteResult, Snapshot
from .errors import ConfigurationError, PermanentError, RemoteNotFound, SyncError
from .filekit.manual import GENERIC, ManualFormat


@dataclass(frozen=True)
class ConnectionConfig:
    """The parts of a ``Connection`` a connector may see."""

    platform: str
    name: str
    remote_company_id: str  # QBO realm id, Xero tenant id
    settings: dict = field(default_factory=dict)
    client_id: str = ""
    client_secret: str = ""
    #: What the connector remembered of the platform for this connection, in any process (ids it looked up or made
    #: there), and how to remember more: ``remember(key, value)``, None to forget (``Connection.remember``).
    remembered: dict = field(default_factory=dict)
    remember: Callable[[str, object], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    access_expires_at: dt.datetime
    refresh_expires_at: dt.datetime | None = None
    remote_company_id: str = ""


@dataclass(frozen=True)
class Capabilities:
    """What a platform can do, as the pipeline, the mapping editor and the capability matrix read it.

    ``entities`` names what the platform takes: every platform takes ``Entity.SALES``; refunds, expenses and
    journals (``Entity.RETURNS_AND_COSTS``) only where declared. An entity a connection syncs and its platform does
    not take stops with what to do instead (enter it by hand, the GL preview shows its journal)."""

    entities: frozenset[str]
    void: frozenset[str] = frozenset()  # entities the platform voids
    delete: frozenset[str] = frozenset()  # entities the platform deletes
    currencies: frozenset[str] | None = None  # None = ask the platform (reference data)
    batch_size: int = 1
    #: Entities whose platform-side changes the connector can report (``changes_since``, ``remote_*``).
    inbound: frozenset[str] = frozenset()
    #: The platform pushes signed change notifications (``verify_webhook`` / ``parse_webhook``).
    webhooks: bool = False
    #: ``changes_since`` reports documents deleted on the platform. False where the platform's lists hold no
    #: deleted records and it has no deleted-since query: a deletion there is found by reconciliation only.
    inbound_deletes: bool = True
    #: Entities the connector describes whole when they were created on the platform (``remote_document`` with
    #: customer, dates and lines; ``remote_customer`` / ``remote_item``), so inbound sync can create them here.
    #: ``customer`` / ``item`` here and in ``inbound``: customers and items created or changed there come in on
    #: their own (polled through ``changes_since``), not only as what a document needs.
    inbound_creates: frozenset[str] = frozenset()
    #: The platform honours our idempotency key: a create sent again with the same key returns the first
    #: document. False: a retry after a lost response is safe only through search-before-create (our number or
    #: name), which the pipeline does before sending again.
    idempotency_keys: bool = True
    #: Entities the platform keeps as drafts: a connection may send a local draft as a draft there, and the
    #: document is finalised remotely when it becomes final locally (its next update carries the final status).
    drafts: frozenset[str] = frozenset()
    #: The platform's API exposes bank-side records (deposits, bank transactions, reconciled payments) that
    #: ``bank_deposits`` reads for bank-feed payment matching. False: the product says there is no bank feed.
    bank_feed: bool = False
    #: The connector sends the credit-note lines a business keeps (restocking fee, return shipping charged to the
    #: customer) so that they net the credit. False: preflight stops a credit note that has such lines.
    kept_lines: bool = False


class RuleKind:
    """The kinds of mapping rule every platform has (``mappings.MappingKind`` uses these values). A platform's
    refusal names them (``Refused``) without knowing the mapping app."""

    INCOME_ACCOUNT = "income_account"
    DISCOUNT_ACCOUNT = "discount_account"
    DEPOSIT_ACCOUNT = "deposit_account"
    TAX_CODE = "tax_code"
    REFUND_ACCOUNT = "refund_account"  # the bank or clearing account a refund is paid from, per method
    EXPENSE_ACCOUNT = "expense_account"  # where an expense line's cost goes, per cost kind
    PAID_FROM_ACCOUNT = "paid_from_account"  # the account an expense is paid from, per method
    JOURNAL_ACCOUNT = "journal_account"  # the platform account a journal line's account code stands for
    PAYABLE_ACCOUNT = "payable_account"  # the accounts-payable account a supplier bill is owed in (optional)
    SALES_ACCOUNTS = frozenset({INCOME_ACCOUNT, DISCOUNT_ACCOUNT})


@dataclass(frozen=True)
class Refused:
    """A reference the platform refused: the kinds of rule that could have produced it, its id if the platform
    named it, and whether the platform said it is gone (``definite``: archived, deleted, inactive, not found)
    rather than merely unusable here (a bank account on an invoice line, a tax type that does not fit)."""

    kinds: frozenset[str]
    remote_id: str | None = None
    definite: bool = True


@dataclass(frozen=True)
class Dimension:
    """An optional mapping dimension a platform offers (a class, a location, a tracking category).

    Rules of a dimension are stored like any other mapping rule, with ``kind`` set to ``Dimension.kind``; no rule
    means nothing is sent. The resolved values reach the connector in ``Mapping.line_dimensions`` (per line) or
    ``Mapping.dimensions`` (per document) under the same ``kind``. The platform's lists of these are not fetched:
    staff type the value and the platform checks it when a document is sent.
    """

    kind: str  # stored in the rule's ``kind``; unique across the platform's dimensions, never a required kind
    label: str  # "Class": the rule's kind as staff read it
    section: str  # the mapping editor's heading: "Classes (optional)"
    help: str  # the editor's explanation under the heading
    target: str  # how messages name what a rule points at: "class id"
    per_line: bool = True  # False: one value per document (only the default rule applies)
    #: When set, a value names two things joined by it ("Region/North"): the first part must not contain it.
    pair_separator: str = ""

    def problem(self, remote_id: str) -> str:
        """What is wrong with a typed-in value, or ""."""
        if self.pair_separator and not self.pair(remote_id):
            sep = self.pair_separator
            return f"a {self.label.lower()} rule names two parts as “first{sep}second” (for example “Region{sep}North”)"
        return ""

    def pair(self, remote_id: str) -> tuple[str, str] | None:
        """``("Region", "North")`` for ``Region/North``; None when either part is empty."""
        first, _, second = remote_id.partition(self.pair_separator)
        first, second = first.strip(), second.strip()
        return (first, second) if first and second else None


@dataclass(frozen=True)
class DemoChart:
    """Names in the platform sandbox's seed chart that the demo maps the clinic's ledger to."""

    default_income: str
    category_income: dict[str, str]  # item category -> income account name
    line_kind_income: dict[str, str]  # line kind -> income account name
    discount: str
    deposit: str
    taxes: dict[str, str]  # local tax-rate name -> platform tax-code name
    #: Where the demo's refund is paid from, its expense posts and is paid from (platforms that take them).
    refund: str = ""
    expense: str = ""
    paid_from: str = ""


class AccountKind:
    """What a platform account is for, as far as mappings and the GL preview care."""

    INCOME = "income"  # revenue: sales, other income
    EXPENSE = "expense"
    DEPOSIT = "deposit"  # a payment may be deposited to it: bank accounts, QBO's Undeposited Funds
    RECEIVABLE = "receivable"  # accounts receivable, where invoices post their totals
    PAYABLE = "payable"  # accounts payable, where supplier bills post their totals
    TAX_PAYABLE = "tax_payable"  # where sales tax collected posts
    CREDIT_CARD = "credit_card"  # a company credit card an expense may be paid with
    OTHER = "other"


@dataclass(frozen=True)
class ReferenceData:
    """The platform's lists staff map to: accounts, tax codes, currencies (active ones only)."""

    accounts: dict[str, str] = field(default_factory=dict)  # id -> name
    tax_codes: dict[str, str] = field(default_factory=dict)  # id -> name
    currencies: frozenset[str] = frozenset()
    home_currency: str = ""
    #: ``AccountKind`` of each id in ``accounts``; empty when the platform (or an old cache) did not say.
    account_kinds: dict[str, str] = field(default_factory=dict)
    #: The company's own receivable and tax-payable accounts, ``AccountKind`` -> (id, name), where known.
    control_accounts: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchOp:
    """One write in a bulk request."""

    operation: str  # "create" | "update"
    doc: Snapshot
    mapping: Mapping
    idempotency_key: str
    ref: RemoteRef | None = None  # for updates: remote id and the version we last saw


#: What ``write_batch`` returns per op: the remote result, or the error that op alone met.
BatchOutcome = RemoteResult | SyncError


@dataclass(frozen=True)
class RemoteChange:
    """Something changed on the platform (from polling or a webhook); a hint: the pipeline re-reads the entity."""

    entity: str  # one of connectors.documents.Entity
    remote_id: str
    operation: str = "update"  # "create" | "update" | "delete" | "void"
    company_id: str = ""  # QBO realm / Xero tenant (webhooks carry it; polling knows it)
    changed_at: dt.datetime | None = None


@dataclass(frozen=True)
class RemotePayment:
    """A payment as the platform holds it, in our terms."""

    remote_id: str
    version: str
    customer_remote_id: str
    date: dt.date
    amount: Decimal
    currency: str
    allocations: tuple[tuple[str, Decimal], ...]  # (remote invoice id, amount)
    reference: str = ""
    deleted: bool = False


@dataclass(frozen=True)
class RemoteLine:
    """One sales line of a platform document, as a local line is made from it."""

    quantity: Decimal
    unit_price: Decimal
    description: str = ""
    item_remote_id: str = ""
    item_name: str = ""
    item_code: str = ""  # the item's SKU / code where the platform has one
    kind: str = "service"  # a local line kind: product, service, shipping, fee
    tax_code: str = ""  # the platform's tax code (rate) on the line


@dataclass(frozen=True)
class RemoteCustomer:
    """A customer (contact) as the platform holds it: what a local customer is matched on or created from."""

    remote_id: str
    name: str
    email: str = ""
    tax_number: str = ""  # tax / VAT / company registration number, whichever the platform keeps
    currency: str = ""
    version: str = ""
    active: bool | None = None  # False: made inactive / archived there; None: the connector does not read it


@dataclass(frozen=True)
class RemoteItem:
    """A product or service as the platform holds it."""

    remote_id: str
    name: str
    code: str = ""
    unit_price: Decimal | None = None
    kind: str = "service"  # product or service
    version: str = ""
    active: bool | None = None  # False: made inactive there; None: the connector does not read it
    #: An item the connector keeps for lines that have no local item (tax, shipping, fees): it stays there.
    generic: bool = False


@dataclass(frozen=True)
class RemoteDocument:
    """An invoice or credit note as the platform holds it: status and the amounts of its lines, in order.

    Platforms that declare the entity in ``capabilities.inbound_creates`` also fill in the rest (customer, dates,
    currency, lines with their items), from which a document created on the platform is created locally."""

    remote_id: str
    version: str
    number: str
    status: str  # "active" | "voided" | "deleted"
    total: Decimal | None
    balance: Decimal | None
    lines: tuple[tuple[Decimal, Decimal], ...] = ()  # (quantity, unit price) per sales line
    customer: RemoteCustomer | None = None  # at least the remote id and name; ``remote_customer`` reads the rest
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    currency: str = ""
    memo: str = ""
    details: tuple[RemoteLine, ...] = ()  # the sales lines of ``lines``, whole, in the same order
    #: A credit note's applications where the platform keeps them: (the invoice's remote id, amount) each.
    applications: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True)
class BankDeposit:
    """Money that reached a bank account, as the platform records it: a deposit of payments (a settlement batch
    less processor fees), a payment received straight into a bank account, a bank transaction.

    ``payment_ids`` are the platform's ids of the payments the record is known to contain (empty when the platform
    does not say); ``fees`` is what the record itself books as fees (a positive amount), ``amount`` the net sum.
    """

    remote_id: str
    date: dt.date
    amount: Decimal
    currency: str = ""
    reference: str = ""
    account: str = ""
    payment_ids: tuple[str, ...] = ()
    fees: Decimal = Decimal("0")
    kind: str = "deposit"  # "deposit" | "payment" (a payment received into a bank account) | "bank_transaction"
    reconciled: bool = False


@dataclass(frozen=True)
class Setting:
    """One key a connector reads from ``Connection.settings``, as the connection form asks for it
    (``connectors.forms``) and the platform's docs page lists it (``connectors.matrix``).

    ``kind``: ``text``, ``url`` (an http(s) address), ``number`` (a whole number from ``min_value`` to
    ``max_value``), ``flag`` (yes / no), ``choice`` (one of ``choices``) or ``json`` (a JSON object, or a list
    when ``default`` is one). Empty means the platform's default: ``default_settings[key]`` when it has one, else
    ``default`` (the value the connector falls back to in its own code; shown, never stored).
    """

    key: str
    label: str
    help: str
    kind: str = "text"
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    min_value: int | None = None
    max_value: int | None = None
    default: object = None
    #: A credential: the form never shows it and keeps the stored one when left empty.
    secret: bool = False

    KINDS: ClassVar[tuple[str, ...]] = ("text", "url", "number", "flag", "choice", "json")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS or (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"setting {self.key!r}: kind {self.kind!r} (choices only for kind 'choice')")


#: Settings most API platforms read, for their ``settings_fields`` (``dataclasses.replace`` adds a default).
TIMEOUT_FIELD = Setting("timeout", "Timeout (seconds)", "How long one request to the platform may take.", "number",
                        min_value=1, max_value=600)
API_BASE_FIELD = Setting("api_base", "API address", "Where API calls go. Change it only to use the platform's "
                         "sandbox, this project's local sandbox (it prints its addresses) or a proxy.", "url")
AUTHORIZE_URL_FIELD = Setting("authorize_url", "Sign-in page", "The platform's consent page that Connect opens. "
                              "Change it only together with the API address.", "url")
TOKEN_URL_FIELD = Setting("token_url", "Token address", "Where tokens are fetched and refreshed. Change it only "
                          "together with the API address.", "url")
SCOPE_FIELD = Setting("scope", "OAuth scopes", "What Connect asks the platform for, separated by spaces. Change it "
                      "only when the platform asks for other scopes; connect again afterwards.")


class BaseConnector:
    """Subclass per platform; register it with ``connectors.registry.register``."""

    id: ClassVar[str] = ""
    name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities]
    default_settings: ClassVar[dict] = {}
    #: The keys of ``Connection.settings`` the connector reads, typed (``Setting``): the connection form's fields
    #: for this platform. Keys a connection holds that are not declared stay in the form's "other settings".
    settings_fields: ClassVar[tuple[Setting, ...]] = ()
    #: How long before its expiry an access token is refreshed. Five minutes suits hour-long tokens; a platform
    #: whose tokens live minutes (Sage: 5) sets less, or every call would refresh first.
    token_refresh_margin: ClassVar[dt.timedelta] = dt.timedelta(minutes=5)

    #: The platform's published request limits per company: ``{kind: (requests, window_seconds)}``. The pipeline
    #: keeps every worker of a connection under them together (``connectors.budget``); the connector calls
    #: ``self.throttle(kind)`` before each HTTP request of that kind ("request" for every call; extra kinds,
    #: such as QBO's "batch", are counted as well).
    rate_limits: ClassVar[dict[str, tuple[int, float]]] = {}
    #: Requests the platform lets one company have in flight at once (None: not limited). The throttle holds a
    #: slot per request; the connector gives it back with what ``throttle`` returned once the response is read.
    concurrent_limit: ClassVar[int | None] = None
    #: The platform's own import formats for entering documents by hand while it is down
    #: (``connectors.filekit.manual``); the generic CSV is always offered besides these (``manual_formats_all``).
    manual_formats: ClassVar[tuple[ManualFormat, ...]] = ()
    #: Optional mapping dimensions the platform offers (see ``Dimension``); the mapping editor shows these.
    dimensions: ClassVar[tuple[Dimension, ...]] = ()
    #: Dotted path of the platform's local sandbox, a ``connectors.sandboxkit.platform.PlatformSandbox``
    #: subclass (imported only by the demo, the sandbox command and tests: production never loads it).
    sandbox_class: ClassVar[str] = ""
    #: The sandbox's seed chart the demo maps the clinic to (required for a platform in the demo).
    demo_chart: ClassVar[DemoChart | None] = None
    #: How documents reach the platform: "api" (create / update / void calls) or "file" (the platform has no
    #: API: ``connectors.filekit.FileConnector`` renders import files; the pipeline stages its entries into export
    #: batches instead of sending them, see ``accounting_sync/files``).
    delivery: ClassVar[str] = "api"

    def __init__(self, config: ConnectionConfig, token_getter: Callable[[bool], str] | None = None,
                 throttle: Callable[[str], Callable[[], None] | None] | None = None) -> None:
        self.config = config
        self._token_getter = token_getter
        self._throttle = throttle

    def throttle(self, kind: str = "request") -> Callable[[], None] | None:
        """Wait, if need be, until the shared budget allows one more request of ``kind``; returns the callable
        that frees the request's in-flight slot once its response is read (None if nothing to free)."""
        if self._throttle is not None:
            return self._throttle(kind)
        return None

    def setting(self, key: str):
        """A connection setting (or the connector's default); a secret one decrypted (``Connection.save`` encrypts
        the settings the connector declares secret)."""
        value = self.config.settings.get(key, self.default_settings.get(key))
        if isinstance(value, str) and value.startswith(crypto.PREFIX):
            try:
                return crypto.decrypt(value)
            except crypto.DecryptionError:
                raise ConfigurationError(f"The {key} setting cannot be read: {crypto.KEYS_CHANGED}", code=key,
                                         hint=crypto.KEYS_CHANGED_HINT) from None
        return value

    @classmethod
    def setting_default(cls, setting: Setting):
        """What the connector uses when ``setting`` is left empty (shown by the form and the docs)."""
        return cls.default_settings.get(setting.key, setting.default)

    @classmethod
    def describe_version(cls, version: str) -> str:
        """A document's version stamp (``RemoteResult.version``) as staff read it; default: as the platform sent it."""
        return version

    @classmethod
    def manual_formats_all(cls) -> dict[str, ManualFormat]:
        """Every format staff may export documents in for entering them by hand: the generic CSV, then the
        platform's own import formats."""
        return {fmt.name: fmt for fmt in (GENERIC, *cls.manual_formats)}

    @classmethod
    def sandbox_settings(cls, base_url: str) -> dict:
        """Connection settings that point this connector at its sandbox served at ``base_url``."""
        raise NotImplementedError

    def exchanges(self) -> list[dict]:
        """The HTTP exchanges this connector's client has made so far (the sync log records them, redacted).
        Default: the ``exchanges`` list of ``self.client`` once the connector has built one."""
        return getattr(self.__dict__.get("client"), "exchanges", [])

    def access_token(self, force_refresh: bool = False) -> str:
        if self._token_getter is None:
            raise RuntimeError("this connector was built without a token getter")
        return self._token_getter(force_refresh)

    # -- OAuth -------------------------------------------------------------------------------------------
    def authorization_url(self, redirect_uri: str, state: str) -> str:
        raise NotImplementedError

    def exchange_code(self, code: str, redirect_uri: str, params: dict) -> TokenSet:
        raise NotImplementedError

    def refresh(self, refresh_token: str) -> TokenSet:
        raise NotImplementedError

    def release(self, token: str) -> None:
        """Give back what ``token`` holds on the platform when the connection is disconnected (a login session,
        which a platform's licence may count). Default: nothing to give back (an OAuth grant stays until revoked
        on the platform). Never raises: a platform that cannot be reached lets the session lapse by itself."""

    # -- documents ---------------------------------------------------------------------------------------
    def find_existing(self, doc: Snapshot, mapping: Mapping) -> RemoteResult | None:
        """Search-before-create: the remote object this document already became, if any."""
        raise NotImplementedError

    def create(self, doc: Snapshot, mapping: Mapping, idempotency_key: str) -> RemoteResult:
        raise NotImplementedError

    def update(self, doc: Snapshot, mapping: Mapping, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        raise NotImplementedError

    def void(self, entity: str, ref: RemoteRef, idempotency_key: str) -> RemoteResult:
        raise NotImplementedError

    def delete(self, entity: str, ref: RemoteRef, idempotency_key: str) -> None:
        raise NotImplementedError

    def fetch(self, entity: str, remote_id: str) -> RemoteResult:
        raise NotImplementedError

    # -- bulk --------------------------------------------------------------------------------------------
    def find_existing_many(self, items: Sequence[tuple[Snapshot, Mapping]]) -> list[RemoteResult | None]:
        """``find_existing`` for many documents; platforms with an IN query answer in one request per chunk."""
        return [self.find_existing(doc, mapping) for doc, mapping in items]

    def write_batch(self, ops: Sequence[BatchOp]) -> list[BatchOutcome]:
        """Send up to ``capabilities.batch_size`` writes in as few requests as the platform allows.

        Returns one outcome per op, in order: its ``RemoteResult``, or the ``SyncError`` that op alone met (one
        invalid invoice does not fail its neighbours). Raises a ``SyncError`` when the request as a whole failed
        (transport error, 429, 5xx, auth): then no op's outcome is known and the caller retries them all, which
        the idempotency keys and search-before-create make safe. This default sends one request per op.
        """
        outcomes: list[BatchOutcome] = []
        for op in ops:
            try:
                if op.operation == "create":
                    outcomes.append(self.create(op.doc, op.mapping, op.idempotency_key))
                else:
                    outcomes.append(self.update(op.doc, op.mapping, op.ref, op.idempotency_key))
            except PermanentError as exc:
                outcomes.append(exc)
            except SyncError as exc:
                if not outcomes:
                    raise
                outcomes.extend([exc] * (len(ops) - len(outcomes)))
                break
        return outcomes

    def reference_data(self) -> ReferenceData:
        raise NotImplementedError

    def exchange_rate(self, currency: str, on: dt.date | None) -> Decimal | None:
        """The platform's own rate for ``currency`` on ``on`` (home-currency units per foreign unit), or None when
        the platform applies its own rate when the document is posted. Used when a connection's ``rate_source``
        is ``"platform"``; this default says the platform offers no rates."""
        raise ConfigurationError(f"{self.name} offers no exchange rates, and the connection takes its rates from "
                                 "the platform", hint="Set the connection's rate_source to document or table.")

    # -- what a platform's refusals and rules mean ------------------------------------------------------
    @classmethod
    def refused_references(cls, exc: SyncError) -> list[Refused]:
        """The account or tax-code references a platform error says it refused (mapping drift reads these to
        pause only the documents that use a gone account). Default: the platform's errors never say."""
        return []

    @classmethod
    def tax_code_needs_jurisdiction(cls, tax_code: str, reference: ReferenceData | None) -> bool:
        """True when ``tax_code`` takes its rate from the local tax rate's jurisdiction (so a local rate mapped to it
        must have one). Default: no tax code does."""
        return False

    # -- platform -> local (polling and webhooks) ---------------------------------------------------------
    @property
    def inbound_entities(self) -> frozenset[str]:
        """Entities this connector can report changes for (``capabilities.inbound``)."""
        return self.capabilities.inbound

    def changes_since(self, entities: Sequence[str], since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """What changed on the platform since ``since`` (deletions included), and the cursor for next time."""
        raise NotImplementedError

    def remote_payment(self, remote_id: str) -> RemotePayment:
        """Read one payment (``RemoteNotFound`` when it was deleted)."""
        raise NotImplementedError

    def payments_of(self, invoice_remote_id: str) -> list[RemoteChange]:
        """Payments a change of this invoice may stand for: for platforms whose notifications announce a payment
        as an update of its invoice. Default: none (payments are announced on their own)."""
        return []

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        """Read one invoice or credit note: status and line amounts (deleted ones: status "deleted")."""
        raise NotImplementedError

    def remote_customer(self, remote_id: str) -> RemoteCustomer | None:
        """Read one customer whole (e-mail, tax number) to match or create it locally. Default: None, the
        document's own customer reference (id and name) is all there is."""
        return None

    def remote_item(self, remote_id: str) -> RemoteItem | None:
        """Read one item whole (code, price, kind). Default: None, the line's item reference is all there is."""
        return None

    @classmethod
    def verify_webhook(cls, headers: dict[str, str], body: bytes, secret: str) -> bool:
        """True when the delivery's signature matches ``body`` (constant-time compare)."""
        raise NotImplementedError

    @classmethod
    def parse_webhook(cls, body: bytes) -> list[RemoteChange]:
        """The changes a (verified) delivery announces; ``[]`` for a delivery that announces none (a handshake).
        Raises ``ValueError`` when the body is not a delivery of this platform at all (not JSON, wrong shape):
        the receiver then answers 400 and stores nothing."""
        raise NotImplementedError

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        """Platform-specific checks; return plain-language problems (empty list = fine)."""
        return []

    # -- reconciliation (what the platform holds, read in bulk) -------------------------------------------------
    #: Entities reconciliation compares: documents with totals. Customers and items have none.
    reconcile_entities: ClassVar[frozenset[str]] = frozenset({"invoice", "payment", "credit_note"})

    def read_documents(self, entity: str, remote_ids: Sequence[str]) -> list[DocumentTotals]:
        """The documents ``remote_ids`` of ``entity`` as the platform holds them now, in any order; an id the
        platform no longer knows comes back with status "deleted". Reconciliation calls this with chunks of
        ``reconcile_chunk`` ids. This default reads one document per request with ``fetch``, so every platform
        can be reconciled at once; a platform with an IN query or a list-by-ids endpoint overrides it with one
        request per chunk."""
        return [self._read_one(entity, remote_id) for remote_id in remote_ids]

    def list_documents(self, entity: str, since: dt.datetime | None = None) -> Iterator[DocumentTotals]:
        """Every document of ``entity`` on the platform changed since ``since`` (all of them when None), page by
        page: full runs look through it for duplicates of ours. Default: what ``changes_since`` reports, which
        needs a ``since``; a platform that can list everything overrides this (else full runs find no duplicate)."""
        if since is None or entity not in self.inbound_entities:
            return
        changes, _ = self.changes_since([entity], since)
        ids = list(dict.fromkeys(c.remote_id for c in changes if c.entity == entity))
        for start in range(0, len(ids), self.reconcile_chunk):
            yield from self.read_documents(entity, ids[start:start + self.reconcile_chunk])

    #: How many ids ``read_documents`` is asked for at once (the platform's IN-list or ids-per-request limit).
    reconcile_chunk: ClassVar[int] = 100
    #: True when ``list_documents`` gives each document exactly as ``read_documents`` does (the same answer, the
    #: same translation): a full run then compares what the list says and reads by id only what it did not list,
    #: so each document crosses the wire once instead of twice (read, then listed for duplicates).
    reconcile_from_list: ClassVar[bool] = False

    def rounding_tolerance(self, entity: str, lines: int) -> Decimal:
        """The largest difference between our total and the platform's that its own rounding explains: a cent per
        line by default (platforms that round tax per document, or per line, differ by at most that)."""
        return Decimal("0.01") * max(1, lines)

    # -- bank feed (payment matching) ----------------------------------------------------------------------------
    def bank_deposits(self, since: dt.date, until: dt.date) -> Iterator[BankDeposit]:
        """Bank-side records dated ``since`` to ``until`` (both included), page by page. Only platforms whose
        ``capabilities.bank_feed`` is True implement it."""
        raise NotImplementedError(f"{self.name or type(self).__name__} has no bank feed: its API exposes no "
                                  "deposits or bank transactions to match payments to")

    def _read_one(self, entity: str, remote_id: str) -> DocumentTotals:
        try:
            return DocumentTotals.from_result(entity, self.fetch(entity, remote_id))
        except RemoteNotFound:
            return DocumentTotals(remote_id, entity, "", "deleted")


@dataclass(frozen=True)
class DocumentTotals:
    """One invoice, credit note or payment as the platform holds it, in the terms reconciliation compares.

    ``status`` is normalized: "open" (money still due), "paid" (nothing due; a payment that stands), "voided",
    "deleted". Amounts are Decimal in the document's currency except ``home_total`` (the company's home currency);
    None means the platform does not say. ``modified`` is the platform's last-modified time when it has one.
    """

    remote_id: str
    entity: str
    number: str = ""
    status: str = "open"
    currency: str = ""
    total: Decimal | None = None
    tax_total: Decimal | None = None
    balance: Decimal | None = None
    home_total: Decimal | None = None
    modified: dt.datetime | None = None
    date: dt.date | None = None
    version: str = ""

    STATUSES: ClassVar[tuple[str, ...]] = ("open", "paid", "voided", "deleted")

    @classmethod
    def from_result(cls, entity: str, result: RemoteResult, *, currency: str = "", tax_total: Decimal | None = None,
                    date: dt.date | None = None, modified: dt.datetime | None = None) -> DocumentTotals:
        """From a ``fetch`` result: its status ("active" / "voided" / "deleted") and balance give open or paid."""
        if result.status in ("voided", "deleted"):
            status = result.status
        elif entity == "payment":
            status = "paid"
        elif entity in ("refund", "expense", "journal", "bill_payment"):  # money out or a posting: nothing to pay
            status = "open"
        else:
            status = "paid" if result.balance is not None and result.balance == 0 and result.total else "open"
        return cls(result.remote_id, entity, result.number, status, currency, result.total, tax_total,
                   result.balance, result.home_total, modified, date, result.version)
