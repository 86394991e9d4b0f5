"""The connector base class: what every platform implements, and what it declares it can do.

A connector is a translation layer. It gets a ``ConnectionConfig`` (plain values, no Django model) and a
``token_getter`` that returns a valid access token (the pipeline owns refresh and its locking). It receives
snapshots and mappings and returns ``RemoteResult``s or raises a ``connectors.errors.SyncError`` subclass.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, ClassVar, Sequence

from .documents import Mapping, RemoteRef, RemoteResult, Snapshot
from .errors import PermanentError, SyncError


@dataclass(frozen=True)
class ConnectionConfig:
    """The parts of a ``Connection`` a connector may see."""

    platform: str
    name: str
    remote_company_id: str  # QBO realm id, Xero tenant id
    settings: dict = field(default_factory=dict)
    client_id: str = ""
    client_secret: str = ""


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    access_expires_at: dt.datetime
    refresh_expires_at: dt.datetime | None = None
    remote_company_id: str = ""


@dataclass(frozen=True)
class Capabilities:
    entities: frozenset[str]
    void: frozenset[str] = frozenset()  # entities the platform voids
    delete: frozenset[str] = frozenset()  # entities the platform deletes
    currencies: frozenset[str] | None = None  # None = ask the platform (reference data)
    batch_size: int = 1


class AccountKind:
    """What a platform account is for, as far as mappings and the GL preview care."""

    INCOME = "income"  # revenue: sales, other income
    EXPENSE = "expense"
    DEPOSIT = "deposit"  # a payment may be deposited to it: bank accounts, QBO's Undeposited Funds
    RECEIVABLE = "receivable"  # accounts receivable, where invoices post their totals
    TAX_PAYABLE = "tax_payable"  # where sales tax collected posts
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
class RemoteDocument:
    """An invoice or credit note as the platform holds it: status and the amounts of its lines, in order."""

    remote_id: str
    version: str
    number: str
    status: str  # "active" | "voided" | "deleted"
    total: Decimal | None
    balance: Decimal | None
    lines: tuple[tuple[Decimal, Decimal], ...] = ()  # (quantity, unit price) per sales line


class BaseConnector:
    """Subclass per platform; register it with ``connectors.registry.register``."""

    id: ClassVar[str] = ""
    name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities]
    default_settings: ClassVar[dict] = {}

    #: The platform's published request limits per company: ``{kind: (requests, window_seconds)}``. The pipeline
    #: keeps every worker of a connection under them together (``connectors.budget``); the connector calls
    #: ``self.throttle(kind)`` before each HTTP request of that kind ("request" for every call; extra kinds,
    #: such as QBO's "batch", are counted as well).
    rate_limits: ClassVar[dict[str, tuple[int, float]]] = {}
    #: Requests the platform lets one company have in flight at once (None: not limited). The throttle holds a
    #: slot per request; the connector gives it back with what ``throttle`` returned once the response is read.
    concurrent_limit: ClassVar[int | None] = None

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
        return self.config.settings.get(key, self.default_settings.get(key))

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

    # -- platform -> local (polling and webhooks) ---------------------------------------------------------
    #: Entities this connector can report changes for (polling / webhooks).
    inbound_entities: ClassVar[frozenset[str]] = frozenset()

    def changes_since(self, entities: Sequence[str], since: dt.datetime) -> tuple[list[RemoteChange], dt.datetime]:
        """What changed on the platform since ``since`` (deletions included), and the cursor for next time."""
        raise NotImplementedError

    def remote_payment(self, remote_id: str) -> RemotePayment:
        """Read one payment (``RemoteNotFound`` when it was deleted)."""
        raise NotImplementedError

    def remote_document(self, entity: str, remote_id: str) -> RemoteDocument:
        """Read one invoice or credit note: status and line amounts (deleted ones: status "deleted")."""
        raise NotImplementedError

    @classmethod
    def verify_webhook(cls, headers: dict[str, str], body: bytes, secret: str) -> bool:
        """True when the delivery's signature matches ``body`` (constant-time compare)."""
        raise NotImplementedError

    @classmethod
    def parse_webhook(cls, body: bytes) -> list[RemoteChange]:
        """The changes a (verified) delivery announces."""
        raise NotImplementedError

    def preflight(self, doc: Snapshot, mapping: Mapping) -> list[str]:
        """Platform-specific checks; return plain-language problems (empty list = fine)."""
        return []
