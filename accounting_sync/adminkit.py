"""Pieces every admin page of the sync apps shares: read-only admins and links to the local documents."""
from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html


def readable(source_key: str, label: str = "") -> str:
    """A document as staff read it: its label, or else its kind and id (``invoice #1``), never the raw key
    (``ledger.invoice:1``) unless the key names no model."""
    if label:
        return label
    try:
        model_label, pk = source_key.rsplit(":", 1)
        return f"{apps.get_model(model_label)._meta.verbose_name} #{pk}"
    except (ValueError, LookupError):
        return source_key


def local_link(source_key: str, label: str = "") -> str:
    """Link to the local document's admin page, when it has one."""
    text = readable(source_key, label)
    try:
        model_label, pk = source_key.rsplit(":", 1)
        app_label, model_name = model_label.split(".")
        return format_html('<a href="{}">{}</a>', reverse(f"admin:{app_label}_{model_name}_change", args=[pk]), text)
    except (ValueError, NoReverseMatch):
        return text


class ReadOnlyAdmin(admin.ModelAdmin):
    """State shown, never edited here: changes go through permission-checked actions."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
