"""Admin: incidents (read-only: they open and clear by themselves) and alert recipients (per connection).

Recipients are edited on their own page and, when this module is imported after the connection admin is
registered, in an inline on each connection's page too.
"""
from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from connectors.models import Connection

from ..adminkit import ReadOnlyAdmin
from ..permissions import CONNECT, VIEW_DASHBOARD, ViewWith, allowed
from .models import AlertRecipient, Incident


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(Incident)
class IncidentAdmin(ViewWith, ReadOnlyAdmin):
    """Read with ``view_dashboard``."""

    list_display = ["title", "kind", "connection", "state", "value", "opened_at", "last_seen_at", "resolved_at",
                    "notices"]
    list_filter = [StateFilter, "kind", "connection"]
    search_fields = ["title", "detail"]
    date_hierarchy = "opened_at"
    list_select_related = ["connection"]
    readonly_fields = [f.name for f in Incident._meta.fields if f.name != "claimed_until"]

    @admin.display(description="State", ordering="resolved_at")
    def state(self, obj):
        if obj.is_open:
            return format_html('<strong style="color:#c00">{}</strong>', "open")
        return "resolved"

    @admin.display(description="Notices")
    def notices(self, obj):
        """Which notices went out; a failing channel shows its error."""
        sent = [f"{event} {channel}" for event in ("opened", "resolved") for channel in ("signal", "email", "webhook")
                if getattr(obj, f"{event}_{channel}_at")]
        text = ", ".join(sent) or "—"
        if obj.delivery_error:
            return format_html('{}<br><span style="color:#c00">{}</span>', text, obj.delivery_error)
        return text


@admin.register(AlertRecipient)
class AlertRecipientAdmin(ViewWith, admin.ModelAdmin):
    """Who is alerted is part of a connection's set-up: read with ``view_dashboard``, edited with
    ``connect_connection`` (or the model's own permissions)."""

    view_permissions = (VIEW_DASHBOARD, CONNECT)
    list_display = ["email", "connection", "incidents", "digest"]
    list_filter = ["connection", "incidents", "digest"]
    search_fields = ["email"]

    def has_add_permission(self, request):
        return allowed(request.user, "connect") or super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return allowed(request.user, "connect") or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return allowed(request.user, "connect") or super().has_delete_permission(request, obj)


class AlertRecipientInline(admin.TabularInline):
    model = AlertRecipient
    extra = 0
    fields = ["email", "incidents", "digest"]
    verbose_name = "alert recipient"
    verbose_name_plural = "Who hears about this connection's incidents (besides ACCOUNTING_SYNC['ALERT_EMAILS'])"

    # Part of the connection's set-up: whoever may edit connections may edit its recipients.
    def has_view_permission(self, request, obj=None):
        return allowed(request.user, "connect") or super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return allowed(request.user, "connect") or super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return allowed(request.user, "connect") or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return allowed(request.user, "connect") or super().has_delete_permission(request, obj)


def add_inline(site: admin.AdminSite = admin.site) -> bool:
    """Put the recipients on the connection page, when the connection admin is registered (once)."""
    if not site.is_registered(Connection):
        return False
    connection_admin = site.get_model_admin(Connection)
    if AlertRecipientInline not in connection_admin.inlines:
        connection_admin.inlines = [*connection_admin.inlines, AlertRecipientInline]
    return True


add_inline()
