"""Plain, immutable document snapshots: what a connector receives instead of Django models.

The pipeline builds these from the host's models (through a source adapter); connectors translate them into
platform payloads. ``key`` identifies the local object ("ledger.invoice:42") and links documents to their
dependencies (an invoice's ``customer_key``). Amounts are Decimal, already rounded by the ledger's rule.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal

from ledger.totals import KEPT


class Entity:
    CUSTOMER = "customer"
    ITEM = "item"
    INVOICE = "invoice"
    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"
    REFUND = "refund"
    EXPENSE = "expense"
    JOURNAL = "journal"
    BILL = "bill"
    BILL_PAYMENT = "bill_payment"

    #: What every platform syncs: names and sales documents.
    SALES = (CUSTOMER, ITEM, INVOICE, PAYMENT, CREDIT_NOTE)
    #: Money going the other way; a platform declares the ones it takes in ``Capabilities.entities``.
    RETURNS_AND_COSTS = (REFUND, EXPENSE, JOURNAL)
    #: What the business owes suppliers (accounts payable) and pays them against it; declared by a platform that
    #: takes it, by name.
    PURCHASES = (BILL, BILL_PAYMENT)
    #: Sales, returns and costs: what a connector that "takes everything" of the first releases declares. Kept
    #: without the purchases so a platform that declares ``frozenset(Entity.ALL)`` does not take bills or bill
    #: payments unawares.
    ALL = SALES + RETURNS_AND_COSTS
    #: Every entity the product knows, in dependency order: anything earlier may be needed by anything later.
    EVERY = ALL + PURCHASES
    #: Entities a platform takes only where it declares them; others stop in preflight with the fallback message.
    DECLARED = RETURNS_AND_COSTS + PURCHASES
    ORDER = {name: i for i, name in enumerate(EVERY)}


@dataclass(frozen=True)
class Snapshot:
    key: str
    organization_id: int

    entity = ""

    def dependencies(self) -> tuple[tuple[str, str], ...]:
        """``(entity, key)`` pairs that must exist remotely before this document is sent."""
        return ()

    def content_hash(self) -> str:
        """Stable hash of the content; equal hashes mean nothing changed and no call is needed."""
        data = json.dumps(asdict(self), sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(f"{self.entity}:{data}".encode()).hexdigest()


@dataclass(frozen=True)
class CustomerSnapshot(Snapshot):
    name: str = ""
    email: str = ""
    currency: str = "USD"
    parent_key: str | None = None
    active: bool = True  # False: made inactive (archived) on the platform, not deleted
    tax_number: str = ""  # tax / VAT / company number; sent where the platform has a field for it

    entity = Entity.CUSTOMER

    def dependencies(self):
        return ((Entity.CUSTOMER, self.parent_key),) if self.parent_key else ()


@dataclass(frozen=True)
class ItemSnapshot(Snapshot):
    name: str = ""
    sku: str = ""
    kind: str = "service"
    category: str = ""
    unit_price: Decimal = Decimal("0")
    taxable: bool = False
    active: bool = True  # False: made inactive on the platform

    entity = Entity.ITEM


@dataclass(frozen=True)
class LineSnapshot:
    kind: str  # product, service, shipping, discount, fee, restocking_fee, return_shipping; "tax" (tax-as-line)
    description: str
    quantity: Decimal
    unit_price: Decimal
    net_amount: Decimal  # positive; a discount line subtracts it
    tax_amount: Decimal
    item_key: str | None = None
    item_name: str = ""
    category: str = ""
    tax_rate_key: str | None = None
    tax_rate_name: str = ""
    tax_rate_percent: Decimal | None = None

    @property
    def kept(self) -> bool:
        """A credit-note line the business keeps (restocking fee, return shipping): it nets the credit, so its net
        and tax are taken off the total like a discount's, and it is income like a sales line."""
        return self.kind in KEPT


@dataclass(frozen=True)
class SalesDocumentSnapshot(Snapshot):
    number: str = ""
    customer_key: str = ""
    issue_date: dt.date | None = None
    currency: str = "USD"
    exchange_rate: Decimal | None = None
    memo: str = ""
    private_note: str = ""
    status: str = "issued"
    lines: tuple[LineSnapshot, ...] = ()
    subtotal: Decimal = Decimal("0")
    discount_total: Decimal = Decimal("0")
    tax_total: Decimal = Decimal("0")
    total: Decimal = Decimal("0")

    @property
    def is_void(self) -> bool:
        return self.status == "void"

    def dependencies(self):
        deps = [(Entity.CUSTOMER, self.customer_key)]
        deps += [(Entity.ITEM, line.item_key) for line in self.lines if line.item_key]
        return tuple(dict.fromkeys(deps))


@dataclass(frozen=True)
class InvoiceSnapshot(SalesDocumentSnapshot):
    due_date: dt.date | None = None

    entity = Entity.INVOICE


@dataclass(frozen=True)
class Allocation:
    invoice_key: str
    amount: Decimal


@dataclass(frozen=True)
class CreditNoteSnapshot(SalesDocumentSnapshot):
    allocations: tuple[Allocation, ...] = ()

    entity = Entity.CREDIT_NOTE

    def dependencies(self):
        return super().dependencies() + tuple((Entity.INVOICE, a.invoice_key) for a in self.allocations)


@dataclass(frozen=True)
class PaymentSnapshot(Snapshot):
    number: str = ""
    customer_key: str = ""
    date: dt.date | None = None
    amount: Decimal = Decimal("0")
    currency: str = "USD"
    exchange_rate: Decimal | None = None
    method: str = "card"
    memo: str = ""
    status: str = "issued"
    allocations: tuple[Allocation, ...] = field(default_factory=tuple)

    entity = Entity.PAYMENT

    @property
    def is_void(self) -> bool:
        return self.status == "void"

    def dependencies(self):
        return ((Entity.CUSTOMER, self.customer_key),) + tuple(
            (Entity.INVOICE, a.invoice_key) for a in self.allocations)


@dataclass(frozen=True)
class RefundSnapshot(Snapshot):
    """Money paid back to a customer from a bank or clearing account: against a credit note (``credit_note_key``)
    or an overpayment (``payment_key``). Posts: debit accounts receivable, credit the refund account."""

    number: str = ""
    customer_key: str = ""
    date: dt.date | None = None
    amount: Decimal = Decimal("0")
    currency: str = "USD"
    exchange_rate: Decimal | None = None
    method: str = "card"
    memo: str = ""
    status: str = "issued"
    credit_note_key: str | None = None
    payment_key: str | None = None

    entity = Entity.REFUND

    @property
    def is_void(self) -> bool:
        return self.status == "void"

    def dependencies(self):
        deps = [(Entity.CUSTOMER, self.customer_key)]
        if self.credit_note_key:
            deps.append((Entity.CREDIT_NOTE, self.credit_note_key))
        if self.payment_key:
            deps.append((Entity.PAYMENT, self.payment_key))
        return tuple(deps)


@dataclass(frozen=True)
class ExpenseLineSnapshot:
    cost_kind: str  # ledger.CostKind values: return_shipping, consumables, supplier, fees, other
    description: str
    net_amount: Decimal
    tax_amount: Decimal
    tax_rate_key: str | None = None
    tax_rate_name: str = ""
    tax_rate_percent: Decimal | None = None


@dataclass(frozen=True)
class ExpenseSnapshot(Snapshot):
    """A cost paid on the spot: debit each line's expense account (and the tax it reclaims), credit the account it
    was paid from (mapped per ``paid_from`` method)."""

    number: str = ""
    payee: str = ""
    date: dt.date | None = None
    currency: str = "USD"
    exchange_rate: Decimal | None = None
    paid_from: str = "card"
    attachment: str = ""
    memo: str = ""
    status: str = "issued"
    lines: tuple[ExpenseLineSnapshot, ...] = ()
    subtotal: Decimal = Decimal("0")
    tax_total: Decimal = Decimal("0")
    total: Decimal = Decimal("0")

    entity = Entity.EXPENSE

    @property
    def is_void(self) -> bool:
        return self.status == "void"


@dataclass(frozen=True)
class BillSnapshot(Snapshot):
    """A supplier's bill the business owes (accounts payable): debit each line's expense account (and the tax it
    reclaims), credit accounts payable. ``number`` is our reference; ``supplier_reference`` the supplier's own bill
    number. Its lines are cost lines (an expense's), mapped by cost kind to the expense accounts."""

    number: str = ""
    supplier: str = ""
    supplier_reference: str = ""
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    currency: str = "USD"
    exchange_rate: Decimal | None = None
    attachment: str = ""
    memo: str = ""
    status: str = "issued"
    lines: tuple[ExpenseLineSnapshot, ...] = ()
    subtotal: Decimal = Decimal("0")
    tax_total: Decimal = Decimal("0")
    total: Decimal = Decimal("0")

    entity = Entity.BILL

    @property
    def is_void(self) -> bool:
        return self.status == "void"

    @property
    def date(self) -> dt.date | None:
        return self.issue_date


@dataclass(frozen=True)
class BillPaymentSnapshot(Snapshot):
    """Money paid to a supplier against a bill (in full or in part), from the bank account mapped for ``paid_from``
    (the expenses' paid-from rule). Posts: debit accounts payable, credit that bank account. ``bill_owed`` is what
    the bill still owed before this payment (its total less the business's other payments that are not void)."""

    number: str = ""
    bill_key: str = ""
    bill_number: str = ""
    supplier: str = ""
    date: dt.date | None = None
    amount: Decimal = Decimal("0")
    currency: str = "USD"
    exchange_rate: Decimal | None = None
    paid_from: str = "transfer"
    memo: str = ""
    status: str = "issued"
    bill_status: str = "issued"
    bill_owed: Decimal = Decimal("0")

    entity = Entity.BILL_PAYMENT

    @property
    def is_void(self) -> bool:
        return self.status == "void"

    @property
    def issue_date(self) -> dt.date | None:
        return self.date

    @property
    def total(self) -> Decimal:
        return self.amount

    #: What the bill says at the time of sending (read by preflight), not this payment's content: left out of the
    #: content hash, so another payment of the same bill does not make this one look changed.
    CONTEXT = ("bill_status", "bill_owed")

    def dependencies(self):
        return ((Entity.BILL, self.bill_key),)

    def content_hash(self) -> str:
        data = {k: v for k, v in asdict(self).items() if k not in self.CONTEXT}
        text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(f"{self.entity}:{text}".encode()).hexdigest()


@dataclass(frozen=True)
class JournalLineSnapshot:
    account_code: str  # the business's own code; ``Mapping.line_accounts`` holds the platform's account
    description: str
    debit: Decimal = Decimal("0.00")
    credit: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class JournalSnapshot(Snapshot):
    """A manual journal; its lines must balance to the cent (preflight refuses it otherwise)."""

    number: str = ""
    date: dt.date | None = None
    currency: str = "USD"
    exchange_rate: Decimal | None = None
    memo: str = ""
    status: str = "issued"
    lines: tuple[JournalLineSnapshot, ...] = ()

    entity = Entity.JOURNAL

    @property
    def is_void(self) -> bool:
        return self.status == "void"

    @property
    def debits(self) -> Decimal:
        return sum((line.debit for line in self.lines), Decimal("0.00"))

    @property
    def credits(self) -> Decimal:
        return sum((line.credit for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        """What reconciliation and the connectors call a journal's total: its debits."""
        return self.debits


@dataclass(frozen=True)
class Mapping:
    """What the mapping layer resolved for one document, handed to the connector with the snapshot.

    ``line_accounts`` is parallel to the document's lines (income account per line; an expense's expense account
    per line; a bill's expense account per line; a journal's account per line); ``tax_codes`` maps a tax-rate key to
    the platform's tax code; ``refs`` maps dependency keys to remote ids. ``deposit_account`` is where a payment goes
    in, where a refund or an expense is paid from, and the accounts-payable account a bill is owed in (where the
    platform takes one).
    """

    line_accounts: tuple[str | None, ...] = ()
    tax_codes: dict[str, str] = field(default_factory=dict)
    item_account: str | None = None
    deposit_account: str | None = None
    refs: dict[str, str] = field(default_factory=dict)
    #: Optional dimensions the platform declares (``connectors.base.Dimension``), by the dimension's kind: per line
    #: (parallel to the lines; None for a line without one) and per document. Empty unless a rule applies.
    line_dimensions: dict[str, tuple[str | None, ...]] = field(default_factory=dict)
    dimensions: dict[str, str] = field(default_factory=dict)

    #: Fields left out of ``repr`` while empty. The engine hashes ``repr(mapping)`` into a document's content
    #: digest, so a field added with an empty default must not change the digest of documents already sent.
    OPTIONAL = ("line_dimensions", "dimensions")

    def line_account(self, index: int) -> str | None:
        """The account of line ``index``: its own rule's, else the item account, else None."""
        return (self.line_accounts[index] if index < len(self.line_accounts) else None) or self.item_account

    def line_dimension(self, kind: str, index: int) -> str | None:
        """The value of dimension ``kind`` on line ``index``, or None."""
        values = self.line_dimensions.get(kind, ())
        return values[index] if index < len(values) else None

    def __repr__(self) -> str:
        parts = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                 if f.name not in self.OPTIONAL or getattr(self, f.name)]
        return f"{type(self).__qualname__}({', '.join(parts)})"


@dataclass(frozen=True)
class RemoteRef:
    """Where a local object lives on the platform: id plus optimistic-concurrency version (QBO SyncToken)."""

    remote_id: str
    version: str = ""


@dataclass(frozen=True)
class RemoteResult:
    """What a connector returns after a write or a read."""

    remote_id: str
    version: str = ""
    number: str = ""
    total: Decimal | None = None
    balance: Decimal | None = None
    status: str = ""
    adopted: bool = False  # found by search-before-create rather than created by this call
    raw: dict = field(default_factory=dict)
    #: Hash of the remote content a person could edit (lines, amounts, customer, dates), leaving out what the
    #: platform changes by itself (version, timestamps, balance after a payment). Compared on a stale-version
    #: conflict to tell a payment applied on the platform from a conflicting edit.
    fingerprint: str = ""
    #: The document's total in the platform company's home currency, as the platform booked it (QBO
    #: ``HomeTotalAmt``; Xero: ``Total`` at its ``CurrencyRate``); None for customers and items.
    home_total: Decimal | None = None
