"""The audit trail in the admin: read-only (``accounting_sync.view_audit``), and no delete action (the database
refuses it on PostgreSQL anyway)."""
from __future__ import annotations

from django.contrib import admin

from ..adminkit import ReadOnlyAdmin
from ..permissions import VIEW_AUDIT, ViewWith
from .models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(ViewWith, ReadOnlyAdmin):
    """Readable with ``view_audit`` (not with the dashboard's permission)."""

    view_permissions = (VIEW_AUDIT,)
    list_display = ["chain", "seq", "at", "kind", "actor", "connection_name", "operation", "outcome", "source_key",
                    "remote_id"]
    list_filter = ["kind", "outcome", "connection_name"]
    ordering = ["-at", "chain", "-seq"]
    search_fields = ["source_key", "remote_id", "actor", "operation"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditRecord._meta.fields]

    def get_actions(self, request):
        return {}
