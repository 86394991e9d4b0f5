"""Save / delete receivers for every registered source model and its trigger models (lines, allocations)."""
from __future__ import annotations

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
    if parent is not None:
        outbox.record_change(parent, adapter)


def connect() -> None:
    """Attach receivers to the models registered in ``ACCOUNTING_SYNC["SOURCES"]`` (and the ledger)."""
    for adapter in sources.adapters().values():
        uid = f"accounting_sync:{adapter.model._meta.label_lower}"
        post_save.connect(_on_source_change, sender=adapter.model, dispatch_uid=uid)
        post_delete.connect(_on_source_change, sender=adapter.model, dispatch_uid=uid)
    from django.apps import apps

    for child_label in sources.triggers():
        model = apps.get_model(child_label)
        uid = f"accounting_sync:child:{child_label}"
        post_save.connect(_on_child_change, sender=model, dispatch_uid=uid)
        post_delete.connect(_on_child_change, sender=model, dispatch_uid=uid)
