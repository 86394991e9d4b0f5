"""Save / delete receivers for every registered source model and its trigger models: children that change a document
(lines, allocations; the attribute names the document) and models a document hangs off (a repair job whose status
decides when its invoices are sent; the attribute is the reverse relation to the documents)."""
from __future__ import annotations

from django.apps import apps
from django.db.models.signals import post_delete, post_save

from . import outbox, sources


def _on_source_change(sender, instance, **kwargs) -> None:
    if kwargs.get("raw"):  # loaddata
        return
    adapter = sources.adapters().get(sender._meta.label_lower)
    if adapter is not None:
        outbox.record_change(instance, adapter)


def _on_child_change(sender, instance, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    found = sources.triggers().get(sender._meta.label_lower)
    if found is None:
        return
    adapter, attr = found
    try:
        parent = getattr(instance, attr)
    except adapter.model.DoesNotExist:  # parent deleted in the same cascade: its own receiver queued it
        return
    if parent is None:
        return
    if hasattr(parent, "all"):  # a reverse relation: the model the documents hang off (a job and its invoices)
        if kwargs.get("signal") is post_delete:
            return  # its documents went with it (their own receivers queued them) or were protected
        for document in parent.all():
            outbox.record_change(document, adapter)
    else:
        outbox.record_change(parent, adapter)


def connect() -> None:
    """Attach receivers to the models registered in ``ACCOUNTING_SYNC["SOURCES"]`` (and the ledger)."""
    for adapter in sources.adapters().values():
        uid = f"accounting_sync:{adapter.model._meta.label_lower}"
        post_save.connect(_on_source_change, sender=adapter.model, dispatch_uid=uid)
        post_delete.connect(_on_source_change, sender=adapter.model, dispatch_uid=uid)
    for child_label in sources.triggers():
        model = apps.get_model(child_label)
        uid = f"accounting_sync:child:{child_label}"
        post_save.connect(_on_child_change, sender=model, dispatch_uid=uid)
        post_delete.connect(_on_child_change, sender=model, dispatch_uid=uid)
