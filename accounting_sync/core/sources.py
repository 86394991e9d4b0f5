"""Source adapters: how the pipeline reads a host's models without owning them.

A host registers each of its billing models with an adapter in ``ACCOUNTING_SYNC["SOURCES"]``; the ``ledger``
models are registered the same way by default. An adapter says which entity a model is, which organization an
object belongs to, its document date, and builds the immutable snapshot the connectors receive. ``triggers``
names child models (lines, allocations) whose saves count as a change of their parent.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from django.apps import apps
from django.db import models
from django.utils.module_loading import import_string

from connectors.base import RemoteDocument
from connectors.documents import Snapshot
from connectors.errors import PermanentError

from .. import conf
from .batching import among


def key_for(obj: models.Model) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


@dataclass(frozen=True)
class Incoming:
    """A document created on the platform, in local terms: what ``create_from_platform`` of an invoice or credit
    note adapter receives. Its customer and items already exist here (matched or created first)."""

    remote: RemoteDocument
    customer_key: str
    item_keys: dict[str, str] = field(default_factory=dict)  # remote item id -> local key
    #: The platform's tax code -> the local tax rate (name or key), from the connection's tax-code rules where one
    #: code stands for one local rate.
    tax_rates: dict[str, str] = field(default_factory=dict)
    platform: str = ""  # the platform's name, for numbers and memos
    #: A credit note's applications to invoices known here: local invoice key -> amount (``remote.applications``
    #: whose invoice has a reference; the others are left out and the log says so).
    applications: dict[str, Decimal] = field(default_factory=dict)


class SourceAdapter:
    """Base class for adapters. Subclasses set ``entity`` and implement ``organization_id`` and ``snapshot``."""

    entity: str = ""
    # Model label -> attribute naming the document on it (a line's invoice) or its documents (a job's invoices):
    # a save of that model re-queues them.
    triggers: dict[str, str] = {}

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model

    def organization_id(self, obj) -> int:
        raise NotImplementedError

    def snapshot(self, obj) -> Snapshot:
        raise NotImplementedError

    def document_date(self, obj) -> dt.date | None:
        """Date compared with a connection's start date; None means always eligible (customers, items)."""
        return None

    def queryset(self, organization_ids: set[int]):
        """Objects to consider for a resync; override to filter in the database."""
        return self.model._default_manager.order_by("pk")

    def label(self, obj) -> str:
        """How staff recognise the object in the dashboard."""
        return str(obj)

    # -- when to send (trigger rules, accounting_sync/triggers.py) ------------------------------------------
    #: The source model's own workflow statuses a trigger rule can wait for, as (value, label); the last one
    #: is the final one unless ``final_status`` says otherwise. Empty: the snapshot's status (draft / issued).
    statuses: tuple[tuple[str, str], ...] = ()
    final_status: str = ""

    def workflow_status(self, obj) -> str:
        """The object's status among ``statuses`` (default: the snapshot's own status)."""
        return ""

    def is_draft(self, obj, snapshot) -> bool:
        """A draft is not sent (unless staff send it). Default: the snapshot says ``draft``."""
        return getattr(snapshot, "status", "") == "draft"

    def waiting_for(self, obj, snapshot) -> str:
        """A host's own condition, checked under every trigger rule: a non-empty answer holds the document and is
        shown to staff as the reason ("waiting for the job's sign-off"). Default: nothing to wait for."""
        return ""

    def prefetch(self, objs: list) -> None:
        """Load in a few queries what ``snapshot`` and ``applied`` will read of many objects (reconciliation
        reads thousands). Default: nothing; each object then reads its own."""

    def applied(self, obj) -> list[tuple[str, Decimal]] | None:
        """Invoice / credit note adapters: the payments and credits applied to the document, as (key of the object
        that carries the application, amount). Reconciliation compares the platform's balance with the total less
        these; None (the default) means the adapter does not say, and balances are not compared."""
        return None

    # -- platform -> local (optional; two-way sync) ------------------------------------------------------------
    # A host adapter that does not implement these keeps working one way: the pipeline reports, per change,
    # that this kind of record cannot take changes from the platform.
    def accepts_payment_for(self, invoices: list) -> bool:
        """Payment adapters: True if payments on these local invoices are recorded through this adapter."""
        return False

    def apply_from_platform(self, existing, remote, invoice_keys: dict[str, str], platform: str):
        """Payment adapters: create (``existing`` None) or change the local payment to match ``remote``
        (a ``connectors.base.RemotePayment``); ``invoice_keys`` maps remote invoice ids to local keys."""
        raise _unsupported(self, "take payments recorded on the platform")

    def delete_from_platform(self, obj) -> None:
        raise _unsupported(self, "delete records deleted on the platform")

    def apply_line_amounts_from_platform(self, obj, lines) -> None:
        """Invoice / credit note adapters: set the local line amounts to ``lines`` ((quantity, unit price) per
        non-discount line, in order); raise ``ValueError`` when the platform's lines do not fit the local ones.
        Only the accounting record changes: the source record (a case, a job) is not rewritten."""
        raise _unsupported(self, "take line changes made on the platform")

    def void_from_platform(self, obj) -> None:
        raise _unsupported(self, "void documents voided on the platform")

    # Records created on the platform (the connection's sync table lets creations of the entity in). Customers
    # and items are matched first: the pipeline looks for a reference, then asks ``find_from_platform``, and
    # only when both find nothing calls ``create_from_platform``.
    def find_from_platform(self, organization_id: int, remote):
        """The local record that is ``remote`` although no reference links them, or None. Customer adapters get a
        ``RemoteCustomer`` (match on tax / company number, then e-mail, then exact name), item adapters a
        ``RemoteItem`` (code, then exact name), invoice / credit note adapters a ``RemoteDocument`` (its number:
        a document of ours whose reference is not written yet is not created twice). Default: None."""
        return None

    def create_from_platform(self, organization_id: int, remote):
        """Create the local record: from a ``RemoteCustomer`` / ``RemoteItem`` (customer and item adapters) or an
        ``Incoming`` document (invoice and credit note adapters). Returns the new object. Payments created on the
        platform come in through ``apply_from_platform``."""
        raise _unsupported(self, "create records created on the platform")

    def update_from_platform(self, obj, remote) -> bool:
        """Customer and item adapters: apply an edit made on the platform (a ``RemoteCustomer``: name, e-mail, tax
        number, active flag; a ``RemoteItem``: name, code, price, active flag) to ``obj``. Empty values and
        ``None`` are what the platform does not say: they leave the local field alone. Returns True when ``obj``
        changed (and was saved)."""
        raise _unsupported(self, "take edits made on the platform")

    @property
    def updates_from_platform(self) -> bool:
        return type(self).update_from_platform is not SourceAdapter.update_from_platform

    #: Document adapters: the model labels of the customer and item records their documents point to
    #: (``{"customer": "ledger.customer", "item": "ledger.item"}``); those adapters match and create them.
    #: Empty: the adapter ``creator_for`` the entity.
    related_sources: dict[str, str] = {}

    @property
    def creates_from_platform(self) -> bool:
        return type(self).create_from_platform is not SourceAdapter.create_from_platform


def _unsupported(adapter: SourceAdapter, what: str):
    return PermanentError(f"{type(adapter).__name__} ({adapter.model._meta.label}) cannot {what}",
                          code="adapter_unsupported",
                          hint="Implement the two-way methods of SourceAdapter in the host's adapter, or set the "
                               "connection's direction to push only.")


def creator_for(entity: str) -> SourceAdapter | None:
    """The adapter records of ``entity`` created on the platform are created through: the last one registered for
    the entity that implements ``create_from_platform`` (a host's ``ACCOUNTING_SYNC["SOURCES"]`` come after the
    ledger's), else the last one registered (which then says it cannot), None when there is none."""
    found = [adapter for adapter in adapters().values() if adapter.entity == entity]
    creating = [adapter for adapter in found if adapter.creates_from_platform]
    return (creating or found or [None])[-1]


def related_adapter(document_adapter: SourceAdapter, entity: str) -> SourceAdapter | None:
    """The adapter of the customers or items a document adapter's documents point to."""
    label = document_adapter.related_sources.get(entity)
    return adapters().get(label) if label else creator_for(entity)


def payment_adapter_for(invoices: list) -> SourceAdapter:
    """The payment adapter that records payments on these local invoices."""
    for adapter in adapters().values():
        if adapter.entity == "payment" and adapter.accepts_payment_for(invoices):
            return adapter
    raise PermanentError("no payment source accepts payments on these invoices", code="adapter_unsupported",
                         hint="Register a payment adapter for the host's invoices, or push only.")


LEDGER_SOURCES = [
    {"model": "ledger.Customer", "adapter": "accounting_sync.ledger_adapters.CustomerAdapter"},
    {"model": "ledger.Item", "adapter": "accounting_sync.ledger_adapters.ItemAdapter"},
    {"model": "ledger.Invoice", "adapter": "accounting_sync.ledger_adapters.InvoiceAdapter"},
    {"model": "ledger.Payment", "adapter": "accounting_sync.ledger_adapters.PaymentAdapter"},
    {"model": "ledger.CreditNote", "adapter": "accounting_sync.ledger_adapters.CreditNoteAdapter"},
    {"model": "ledger.Refund", "adapter": "accounting_sync.ledger_adapters.RefundAdapter"},
    {"model": "ledger.Expense", "adapter": "accounting_sync.ledger_adapters.ExpenseAdapter"},
    {"model": "ledger.JournalEntry", "adapter": "accounting_sync.ledger_adapters.JournalAdapter"},
    {"model": "ledger.Bill", "adapter": "accounting_sync.ledger_adapters.BillAdapter"},
    {"model": "ledger.BillPayment", "adapter": "accounting_sync.ledger_adapters.BillPaymentAdapter"},
]


def _configured() -> tuple[tuple[str, str], ...]:
    entries = list(conf.get("SOURCES"))
    if conf.get("INCLUDE_LEDGER_SOURCES"):
        entries = LEDGER_SOURCES + entries
    return tuple((e["model"], e["adapter"]) for e in entries)


@lru_cache(maxsize=8)
def _build(configured: tuple[tuple[str, str], ...]) -> dict[str, SourceAdapter]:
    adapters = {}
    for model_label, adapter_path in configured:
        model = apps.get_model(model_label)
        adapters[model._meta.label_lower] = import_string(adapter_path)(model)
    return adapters


def adapters() -> dict[str, SourceAdapter]:
    """Adapters by lower-case model label (``ledger.invoice``)."""
    return _build(_configured())


def triggers() -> dict[str, tuple[SourceAdapter, str]]:
    """Child model label -> (parent's adapter, attribute naming the parent)."""
    found = {}
    for adapter in adapters().values():
        for child, attr in adapter.triggers.items():
            found[apps.get_model(child)._meta.label_lower] = (adapter, attr)
    return found


def adapter_for_key(key: str) -> SourceAdapter:
    label = key.rsplit(":", 1)[0]
    try:
        return adapters()[label]
    except KeyError:
        raise LookupError(f"{label} is not a registered source model (ACCOUNTING_SYNC['SOURCES'])") from None


def load(key: str) -> tuple[SourceAdapter, models.Model | None]:
    """The adapter and the object for ``key``; the object is None when it was deleted."""
    adapter = adapter_for_key(key)
    pk = key.rsplit(":", 1)[1]
    return adapter, adapter.model._default_manager.filter(pk=pk).first()


def in_bulk(model: type[models.Model], pks: list[str]) -> dict[str, models.Model]:
    """The objects of ``model`` with these primary keys (as written in source keys), by that text. Integer keys
    are selected by range where they are dense (``batching.among``): a chunk of documents written one after
    another costs no ``IN`` list."""
    manager = model._default_manager
    if not isinstance(model._meta.pk, models.IntegerField):
        return {str(pk): obj for pk, obj in manager.in_bulk(pks).items()}
    wanted = {int(pk) for pk in pks}
    return {str(obj.pk): obj for obj in manager.filter(**among("pk", wanted)) if obj.pk in wanted}


def load_many(keys: list[str]) -> dict[str, tuple[SourceAdapter, models.Model | None]]:
    """``load`` for many keys: one query per model, and what the snapshots will read of them loaded in a few more
    (the adapter's ``prefetch``)."""
    by_adapter: dict[SourceAdapter, list[str]] = {}
    for key in keys:
        by_adapter.setdefault(adapter_for_key(key), []).append(key)
    loaded: dict[str, tuple[SourceAdapter, models.Model | None]] = {}
    for adapter, group in by_adapter.items():
        pks = [key.rsplit(":", 1)[1] for key in group]
        objs = in_bulk(adapter.model, pks)
        adapter.prefetch(list(objs.values()))
        for key, pk in zip(group, pks, strict=True):
            loaded[key] = (adapter, objs.get(str(adapter.model._meta.pk.to_python(pk))))
    return loaded


def objects_for(adapter: SourceAdapter, organization_ids: set[int]):
    """Iterate the adapter's objects that belong to ``organization_ids`` (for resyncs)."""
    filtered = adapter.queryset(organization_ids)
    for obj in filtered.iterator(chunk_size=500):
        if adapter.organization_id(obj) in organization_ids:
            yield obj
