"""The integration dashboard: connection health, outbox, attention list, sync logs, external references.

State is shown read-only; changes go through permission-checked actions that are logged to the admin log.
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from connectors import registry
from connectors.errors import SyncError
from connectors.forms import connection_form, setting_names
from connectors.models import Connection, ConnectionStatus
from connectors.views import start_connect
from mappings.models import Mapping

from .. import audit, reconcile
from ..audit import admin as audit_admin  # noqa: F401 - registers the audit trail's admin
from ..audit.models import AuditKind
from ..core import outbox
from ..files import admin as files_admin  # noqa: F401 - registers export batches and platform export uploads
from ..files import batches as file_batches
from ..files import manual as file_manual
from ..files.models import ExportItem
from ..inbound import sync as inbound
from ..models import (AttentionEntry, EntryStatus, ExternalReference, OutboxChange, OutboxEntry, PullCursor, SyncLog,
                      TriggerRule, WebhookDelivery)
from ..permissions import CONNECT, VIEW_DASHBOARD, Actions, ViewWith, allowed, any_allowed, require
from ..policies.drift import stale_rules
from ..policies.preflight import fixes, reference_data
from ..reconcile import admin as reconcile_admin  # noqa: F401 - registers the reconciliation report
from . import glpreview, mapping_admin, status
from ..adminkit import ReadOnlyAdmin, local_link, readable


class TriggerRuleInline(admin.TabularInline):
    """When this connection sends each kind of document (no rule: on every save, drafts excepted)."""

    model = TriggerRule
    extra = 0
    verbose_name = "trigger rule"
    verbose_name_plural = "When to send (no rule: on every save; drafts are never sent)"
    fields = ["entity", "kind", "status", "partly_paid", "every_minutes", "daily_at", "time_zone", "send_drafts"]

    # Trigger rules are part of a connection's settings: whoever may edit connections may edit them.
    def has_view_permission(self, request, obj=None):
        return any_allowed(request.user, VIEW_DASHBOARD, CONNECT) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return allowed(request.user, "connect") or super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return allowed(request.user, "connect") or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return allowed(request.user, "connect") or super().has_delete_permission(request, obj)


@admin.register(Connection)
class ConnectionAdmin(ViewWith, Actions, admin.ModelAdmin):
    """The dashboard's first page. Viewing it needs ``view_dashboard``; adding, editing, connecting and
    disconnecting ``connect_connection``; each action its own permission (``accounting_sync.permissions``)."""

    inlines = [TriggerRuleInline]
    list_display = ["name", "platform", "health", "auto_sync", "pending", "needs_attention", "failed", "last_success",
                    "token_expiry", "mappings_link"]
    list_editable = ["auto_sync"]
    list_filter = ["platform", "status", "auto_sync"]
    filter_horizontal = ["organizations"]
    readonly_fields = ["status", "status_message", "paused_until", "access_expires_at", "refresh_expires_at",
                       "connect_link", "reference_data_at", "created_at", "updated_at", "mappings_link"]
    fields = ["name", "platform", "organizations", "direction", "entities", "auto_sync", "start_date", "settings",
              "remote_company_id", "client_id", "client_secret_input", "connect_link", "mappings_link", "status",
              "status_message", "paused_until", "access_expires_at", "refresh_expires_at", "reference_data_at",
              "created_at", "updated_at"]
    actions = ["sync_now", "retry_failed", "refresh_reference_data", "export_batch", "export_manual",
               "resume_after_manual", "reconcile_now", "disconnect"]
    view_permissions = (VIEW_DASHBOARD, CONNECT)

    def has_add_permission(self, request):
        return allowed(request.user, "connect") or super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return allowed(request.user, "connect") or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return allowed(request.user, "connect") or super().has_delete_permission(request, obj)

    def _platform(self, request, obj) -> str | None:
        """Whose form it is (``connectors.forms``): the platform being saved, else the one the add page was
        reloaded with (``?platform=``), else the connection's."""
        asked = request.POST.get("platform") if request.method == "POST" else request.GET.get("platform")
        return asked if asked in dict(registry.choices()) else (obj.platform if obj else None)

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = connection_form(self._platform(request, obj))
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        """The sync table where direction and entities were, the platform's typed settings where the JSON box was.
        Read only, the stored fields instead (the settings not at all: they may hold a credential)."""
        fields = list(super().get_fields(request, obj))
        at = fields.index("settings")
        if not self.has_change_permission(request, obj):
            fields[at:at + 1] = []
            fields.insert(fields.index("entities") + 1, "operations")
            return fields
        fields[at:at + 1] = setting_names(self._platform(request, obj)) + ["other_settings"]
        at = fields.index("direction")
        fields = [f for f in fields if f not in ("direction", "entities")]
        fields[at:at] = ["sync_preset", "sync_table"]
        return fields

    def get_queryset(self, request):
        _waiting = OutboxChange.objects.filter(connection_id=OuterRef("pk")).order_by().values("connection_id")
        return super().get_queryset(request).annotate(
            _pending=Count("outbox", filter=Q(outbox__status__in=[EntryStatus.PENDING, EntryStatus.IN_PROGRESS])),
            _attention=Count("outbox", filter=Q(outbox__status=EntryStatus.NEEDS_ATTENTION)),
            _failed=Count("outbox", filter=Q(outbox__status=EntryStatus.FAILED)),
            _stale=_stale_count(),
            _waiting=Subquery(_waiting.annotate(n=Count("pk")).values("n")[:1]),
            _oldest_waiting=Subquery(_waiting.annotate(at=Min("created_at")).values("at")[:1]),
        )

    def changelist_view(self, request, extra_context=None):
        """A banner per connection whose mappings point at what its platform no longer offers."""
        if request.method == "GET":
            for conn in Connection.objects.filter(mappings__stale_since__isnull=False).distinct().order_by("name"):
                messages.warning(request, stale_banner(conn))
        return super().changelist_view(request, extra_context)

    @admin.display(description="Status")
    def health(self, obj):
        colour = {"active": "green", "needs_reauth": "#c00", "disabled": "grey"}.get(obj.status, "black")
        text = obj.get_status_display()
        if obj.is_paused():
            text += f" (paused until {obj.paused_until:%Y-%m-%d %H:%M:%S} UTC"
            text += f": {obj.status_message})" if obj.status_message.startswith("Paused") else ")"
        if obj.status == ConnectionStatus.NEEDS_REAUTH:
            text += " — reconnect"
        health = format_html('<b style="color:{}">{}</b>', colour, text)
        stale = _stale_of(obj)
        if stale:
            health = format_html('{}<br><a href="{}#rules" style="color:#c00">{} mapping{} to fix</a>', health,
                                 mapping_admin.editor_url(obj.pk), stale, "" if stale == 1 else "s")
        return health

    @admin.display(description="Pending", ordering="_pending")
    def pending(self, obj):
        """Entries to send, plus saved changes the dispatcher has not taken in yet (and a warning if they wait
        longer than a running cluster ever lets them)."""
        count = obj._waiting or 0
        note = status.stalled(count, obj._oldest_waiting)
        if note:
            return format_html('{}<br><span style="color:#c00">{}</span>', obj._pending + count, note)
        return obj._pending + count

    @admin.display(description="Needs attention", ordering="_attention")
    def needs_attention(self, obj):
        if not obj._attention:
            return 0
        url = reverse("admin:accounting_sync_outboxentry_changelist")
        return format_html('<a href="{}?connection__id__exact={}&status__exact=needs_attention">{}</a>', url, obj.pk,
                           obj._attention)

    @admin.display(description="Failed", ordering="_failed")
    def failed(self, obj):
        return obj._failed

    @admin.display(description="Last success")
    def last_success(self, obj):
        log = obj.logs.filter(outcome="success").order_by("-created_at").values_list("created_at", flat=True).first()
        return log or "—"

    @admin.display(description="Token expires")
    def token_expiry(self, obj):
        return obj.access_expires_at or "—"

    @admin.display(description="Connect")
    def connect_link(self, obj):
        if not obj or not obj.pk:
            return "Save first, then connect."
        return format_html('<a class="button" href="{}">Connect / reconnect to {}</a>',
                           reverse("admin:connectors_connection_connect", args=[obj.pk]), obj.platform_name)

    @admin.display(description="Mappings")
    def mappings_link(self, obj):
        if not obj or not obj.pk:
            return "Save first, then map accounts and tax codes."
        stale = _stale_of(obj)
        if stale:
            return format_html('<a href="{}#rules">Edit mappings</a> <b style="color:#c00">({} to fix)</b>',
                               mapping_admin.editor_url(obj.pk), stale)
        return format_html('<a href="{}">Edit mappings</a>', mapping_admin.editor_url(obj.pk))

    def get_urls(self):
        connect = path("<int:connection_id>/connect/", self.admin_site.admin_view(self.connect_view),
                       name="connectors_connection_connect")
        return [connect] + mapping_admin.urls(self) + super().get_urls()

    def connect_view(self, request, connection_id: int):
        """Start the platform's OAuth sign-in (``connect_connection``); the platform sends staff back to
        ``connectors:oauth-callback``, which checks the single-use state this sets."""
        require(request.user, "connect")
        return start_connect(request, get_object_or_404(Connection, pk=connection_id))

    @admin.action(description="Sync now: send everything pending", permissions=["sync"])
    def sync_now(self, request, queryset):
        ids = list(OutboxEntry.objects.filter(connection__in=queryset, status=EntryStatus.PENDING)
                   .values_list("pk", flat=True))
        OutboxEntry.objects.filter(pk__in=ids).update(next_attempt_at=timezone.now())
        outbox.enqueue(ids)
        self.message_user(request, f"{_entries(len(ids))} queued (everything pending).", messages.SUCCESS)
        for conn in queryset:
            self.log_change(request, conn, f"Sync now ({_entries(len(ids))} queued)")

    @admin.action(description="Retry failed and needs-attention entries", permissions=["sync"])
    def retry_failed(self, request, queryset):
        count = retry_entries(OutboxEntry.objects.filter(connection__in=queryset))
        self.message_user(request, f"{_entries(count)} queued for retry.", messages.SUCCESS)
        for conn in queryset:
            self.log_change(request, conn, "Retry failed entries")

    @admin.action(description="Refresh accounts, tax codes and currencies from the platform",
                  permissions=["edit_mappings"])
    def refresh_reference_data(self, request, queryset):
        for conn in queryset:
            try:
                data = reference_data(conn, conn.connector(), refresh=True)
            except SyncError as exc:
                self.message_user(request, f"{conn}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{conn}: {len(data.accounts)} accounts, {len(data.tax_codes)} tax codes.")


    @admin.action(description="Export a batch of the documents ready for export (file-delivery platforms)",
                  permissions=["export"])
    def export_batch(self, request, queryset):
        for conn in queryset:
            if not file_batches.file_delivery(conn):
                self.message_user(request, f"{conn}: sends through {conn.platform_name}'s API, no export files.",
                                  messages.WARNING)
                continue
            try:
                batch = file_batches.export(conn, actor=request.user.get_username())
            except SyncError as exc:
                self.message_user(request, f"{conn}: {exc.message}", messages.ERROR)
                continue
            if batch is None:
                self.message_user(request, f"{conn}: nothing ready for export.", messages.WARNING)
                continue
            self.log_change(request, conn, f"Exported batch {batch.number} ({batch.documents} documents, "
                                           f"sha256 {batch.sha256})")
            url = reverse("admin:accounting_sync_exportbatch_change", args=[batch.pk])
            self.message_user(request, format_html('{}: <a href="{}">batch {}</a> with {} documents: download its '
                                                   'files there.', conn, url, batch.number, batch.documents),
                              messages.SUCCESS)

    @admin.action(description="Export for manual entry: the unsynced documents, as a generic CSV and the "
                               "platform's own import files", permissions=["export"])
    def export_manual(self, request, queryset):
        for conn in queryset:
            files_admin.export_manual(self, request, conn)

    @admin.action(description="Resume after manual entry: send the documents keyed in by hand, adopting each one",
                  permissions=["sync"])
    def resume_after_manual(self, request, queryset):
        for conn in queryset:
            count = file_manual.resume(conn)
            self.log_change(request, conn, f"Resumed after manual entry ({count} documents)")
            self.message_user(request, f"{conn}: {count} documents entered by hand queued; each is looked for on "
                                       f"{conn.platform_name} and adopted, not created again.",
                              messages.SUCCESS if count else messages.WARNING)

    @admin.action(description="Reconcile now: compare what the platform holds with ours", permissions=["reconcile"])
    def reconcile_now(self, request, queryset):
        for conn in queryset:
            run = reconcile.run(conn)
            self.log_change(request, conn, f"Reconciled ({run.kind} run {run.pk}: {run.variances} variances)")
            url = reverse("admin:accounting_sync_reconciliation_report")
            text = run.error or (f"{run.checked} documents compared, {run.variances} variances "
                                 f"({run.alarms} need a person)")
            self.message_user(request, format_html('{}: {} (<a href="{}?connection={}">report</a>)', conn, text, url,
                                                   conn.pk), messages.ERROR if run.error else
                              messages.WARNING if run.alarms else messages.SUCCESS)

    @admin.action(description="Disconnect: forget the tokens (nothing is sent until connected again)",
                  permissions=["connect"])
    def disconnect(self, request, queryset):
        for conn in queryset:
            disconnect(conn, request.user.get_username())
            self.log_change(request, conn, "Disconnected")
        self.message_user(request, f"{queryset.count()} disconnected; Connect on the connection's page resumes it.",
                          messages.SUCCESS)


def disconnect(conn: Connection, actor: str) -> None:
    """Forget the connection's tokens: it needs connecting again, and its entries wait without spending attempts.
    A login session is logged out on the platform first (``BaseConnector.release``)."""
    if conn.access_token:
        conn.connector_class()(conn.config()).release(conn.access_token)
    conn.access_token = conn.refresh_token = ""  # nosec B105
    conn.access_expires_at = conn.refresh_expires_at = None
    conn.status = ConnectionStatus.NEEDS_REAUTH
    conn.status_message = f"Disconnected by {actor}: connect again to resume."[:500]
    conn.save(update_fields=["access_token", "refresh_token", "access_expires_at", "refresh_expires_at", "status",
                             "status_message", "updated_at"])
    audit.append(AuditKind.STAFF, actor=actor, connection_id=conn.pk, connection_name=conn.name,
                 operation="disconnect", outcome="done")


def _entries(n: int) -> str:
    return f"{n} {'entry' if n == 1 else 'entries'}"


def _stale_count():
    """The number of a connection's stale mapping rules, as a subquery (a join would multiply the counts)."""
    rules = (Mapping.objects.filter(connection=OuterRef("pk"), stale_since__isnull=False).order_by()
             .values("connection").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(rules[:1]), 0)


def _stale_of(conn) -> int:
    stale = getattr(conn, "_stale", None)
    return conn.mappings.filter(stale_since__isnull=False).count() if stale is None else stale


def stale_banner(conn: Connection) -> str:
    """Which mappings of ``conn`` to fix, linked to their rows in the editor."""
    rules = list(stale_rules(conn))
    url = mapping_admin.editor_url(conn.pk)
    links = format_html_join(", ", '<a href="{}?fix={}#rule-{}">{}</a>',
                             ((url, rule.pk, rule.pk, rule) for rule in rules))
    one = len(rules) == 1
    return format_html("{}: {} mapping rule{} at what {} no longer offers ({}); documents that need {} wait until "
                       "{} fixed.", conn, len(rules), " points" if one else "s point", conn.platform_name, links,
                       "it" if one else "them", "it is" if one else "they are")


def retry_entries(queryset) -> int:
    """Failed entries, those needing attention, and those marked entered by hand (the mark is lifted: the next
    attempt looks for the document on the platform and adopts it) go pending now. A record created on the platform
    that could not be created here is read again instead."""
    due = queryset.filter(status__in=[EntryStatus.FAILED, EntryStatus.NEEDS_ATTENTION, EntryStatus.MANUAL])
    incoming = list(due.filter(source_key__regex=inbound.INCOMING_KEY).select_related("connection"))
    for entry in incoming:  # a record created on the platform that could not be created here: read it again
        inbound.retry_incoming(entry)
    ids = list(due.exclude(source_key__regex=inbound.INCOMING_KEY).values_list("pk", flat=True))
    OutboxEntry.objects.filter(pk__in=ids).update(status=EntryStatus.PENDING, attempts=0,
                                                  next_attempt_at=timezone.now())
    outbox.enqueue(ids)
    return len(ids) + len(incoming)


def push_entries(queryset) -> list[int]:
    """Staff send these now, past their trigger rule (a manual-only connection, a draft, a batch window)."""
    ids = list(queryset.exclude(status__in=[EntryStatus.IN_PROGRESS, EntryStatus.DONE])
               .exclude(source_key__regex=inbound.INCOMING_KEY).values_list("pk", flat=True))  # nothing to send
    OutboxEntry.objects.filter(pk__in=ids).update(status=EntryStatus.PENDING, attempts=0, send_now=True,
                                                  next_attempt_at=timezone.now())
    outbox.enqueue(ids)
    return ids


@admin.register(OutboxEntry)
class OutboxEntryAdmin(ViewWith, Actions, ReadOnlyAdmin):
    list_display = ["document", "entity", "connection", "status", "attempts", "next_attempt_at", "problem",
                    "home_amount", "export_batch", "updated_at"]
    list_filter = ["status", "entity", "connection"]
    search_fields = ["source_key", "label", "last_error"]
    readonly_fields = [f.name for f in OutboxEntry._meta.fields] + ["document", "gl_preview", "home_amount",
                                                                    "export_batch"]
    actions = ["retry", "send_ours_anyway", "send_now", "confirm_imported", "export_manual"]
    change_form_template = "admin/accounting_sync/outboxentry/change_form.html"  # a Retry button when it failed

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_retry_one"
        urls = [path("<int:pk>/retry/", self.admin_site.admin_view(self.retry_one), name=name)]
        if self.model is OutboxEntry:  # once per site: not again under the attention list, which inherits this admin
            urls.append(path("dashboard/", self.admin_site.admin_view(self.dashboard_view),
                             name="accounting_sync_dashboard"))
        return urls + super().get_urls()

    def dashboard_view(self, request):
        """The integration dashboard on a page of its own (403 without ``view_dashboard``): a fixed address in
        whichever admin site registers the app, for a host's menu or bookmark (``docs/host-integration.md``)."""
        require(request.user, "view_dashboard")
        return TemplateResponse(request, "accounting_sync/admin/dashboard_page.html", {
            **self.admin_site.each_context(request), "title": "Integration dashboard", "opts": self.opts})

    def retry_one(self, request, pk: int):
        """POST: retry one failed or needs-attention entry now (the dashboard's and the entry page's button)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        require(request.user, "sync")
        entry = get_object_or_404(OutboxEntry, pk=pk)
        name = readable(entry.source_key, entry.label)
        if retry_entries(OutboxEntry.objects.filter(pk=pk)):
            self.log_change(request, entry, "Retry requested")
            self.message_user(request, f"{name}: queued for retry.", messages.SUCCESS)
        else:
            self.message_user(request, f"{name} is {entry.get_status_display().lower()}: "
                                       "only failed entries, those needing attention and those entered by hand are "
                                       "retried.",
                              messages.WARNING)
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            target = reverse("admin:accounting_sync_outboxentry_change", args=[pk])
        return HttpResponseRedirect(target)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        entry = OutboxEntry.objects.filter(pk=object_id).only("status").first() if str(object_id).isdigit() else None
        retry_url = ""
        if entry and entry.status in (EntryStatus.FAILED, EntryStatus.NEEDS_ATTENTION) and allowed(request.user,
                                                                                                    "sync"):
            retry_url = reverse("admin:accounting_sync_outboxentry_retry_one", args=[entry.pk])
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "retry_url": retry_url})

    def get_fields(self, request, obj=None):
        """"Done at" only on a done entry (a failed one still carried the time of an earlier success)."""
        fields = list(super().get_fields(request, obj))
        if obj is not None and obj.status != EntryStatus.DONE:
            fields = [f for f in fields if f != "done_at"]
        return fields

    @admin.display(description="Export batch")
    def export_batch(self, obj):
        """File delivery: the batch holding the document (the latest, when it was exported again)."""
        if obj.status not in (EntryStatus.EXPORTED, EntryStatus.DONE):
            return "—"
        item = obj.export_items.filter(batch__isnull=False).select_related("batch").order_by("-batch__number").first()
        if item is None:
            return "—"
        return format_html('<a href="{}">batch {}</a>', reverse("admin:accounting_sync_exportbatch_change",
                                                                 args=[item.batch_id]), item.batch.number)

    @admin.action(description="Confirm imported (file delivery: the platform took its export file)",
                  permissions=["export"])
    def confirm_imported(self, request, queryset):
        items = ExportItem.objects.filter(entry__in=queryset.filter(status=EntryStatus.EXPORTED),
                                          batch__isnull=False, confirmed_at__isnull=True)
        done = file_batches.confirm(items, actor=request.user.get_username())
        for entry in OutboxEntry.objects.filter(pk__in=items.values("entry_id"), status=EntryStatus.DONE):
            self.log_change(request, entry, "Confirmed imported")
        self.message_user(request, f"{len(done.closed)} documents closed as imported.",
                          messages.SUCCESS if done.closed else messages.WARNING)

    @admin.action(description="Export for manual entry (the platform is down): the selected unsynced documents",
                  permissions=["export"])
    def export_manual(self, request, queryset):
        for conn in Connection.objects.filter(pk__in=queryset.values("connection_id")).order_by("pk"):
            files_admin.export_manual(self, request, conn, list(queryset.filter(connection=conn).values_list(
                "pk", flat=True)))

    def get_queryset(self, request):
        synced = ExternalReference.objects.filter(connection=OuterRef("connection"), source_key=OuterRef("source_key"))
        home_total = Subquery(synced.values("home_total")[:1],
                              output_field=ExternalReference._meta.get_field("home_total"))
        return super().get_queryset(request).annotate(_home_total=home_total)

    @admin.display(description="Home-currency total", ordering="_home_total")
    def home_amount(self, obj):
        """What the platform booked, in its company's home currency (the last synced version)."""
        if obj._home_total is None:
            return "—"
        return f"{obj._home_total:.2f} {(obj.connection.reference_data or {}).get('home_currency', '')}".strip()

    @admin.display(description="GL preview")
    def gl_preview(self, obj):
        """Link to the document's journal lines and the rules behind them, in the connection's mapping editor."""
        if obj.entity not in glpreview.ENTITIES:
            return "—"
        return format_html('<a href="{}?{}#explain">GL preview and rules</a>',
                           mapping_admin.editor_url(obj.connection_id), urlencode({"document": obj.source_key}))

    @admin.display(description="Document")
    def document(self, obj):
        return local_link(obj.source_key, obj.label)

    @admin.display(description="Problem and fix")
    def problem(self, obj):
        """The error, the hint, and for a preflight stop the links to what fixes it (the mapping editor's row)."""
        if obj.error_code == "held":  # not a problem: its trigger rule holds it, and says until when
            return format_html("<i>{}</i>", obj.hint)
        if not obj.last_error:
            return ""
        links = format_html_join("", '<br>→ <a href="{}">{}</a>', ((fix.url, fix.text) for fix in fixes(obj)))
        # wrapped in a column of its own width: a long error never pushes the list off a 1400 px screen
        return format_html('<div style="white-space:normal;min-width:20em;max-width:36em;overflow-wrap:anywhere">'
                           '{}<br><i>{}</i>{}</div>', obj.last_error[:300], obj.hint, links)

    @admin.action(description="Retry selected entries now", permissions=["sync"])
    def retry(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        queryset.exclude(status=EntryStatus.IN_PROGRESS).update(
            status=EntryStatus.PENDING, attempts=0, next_attempt_at=timezone.now())
        outbox.enqueue(ids)
        for entry in queryset:
            self.log_change(request, entry, "Retry requested")
        self.message_user(request, f"{_entries(len(ids))} queued.", messages.SUCCESS)

    @admin.action(description="Send ours anyway (overwrite the platform's conflicting edit)", permissions=["sync"])
    def send_ours_anyway(self, request, queryset):
        conflicts = queryset.filter(status=EntryStatus.NEEDS_ATTENTION, error_code="conflict")
        ids = list(conflicts.values_list("pk", flat=True))
        conflicts.update(status=EntryStatus.PENDING, attempts=0, next_attempt_at=timezone.now(),
                         overwrite_remote=True)
        outbox.enqueue(ids)
        for entry in OutboxEntry.objects.filter(pk__in=ids):
            self.log_change(request, entry, "Send ours anyway: overwrite the platform's edit")
        skipped = queryset.count() - len(ids)
        self.message_user(request, f"{_entries(len(ids))} queued to overwrite the platform's edit."
                          + (f" {skipped} selected entries were not edit conflicts and were left alone." if skipped
                             else ""), messages.SUCCESS if ids else messages.WARNING)

    @admin.action(description="Send now, whatever its trigger rule (drafts and held documents too)",
                  permissions=["sync"])
    def send_now(self, request, queryset):
        ids = push_entries(queryset)
        for entry in OutboxEntry.objects.filter(pk__in=ids):
            self.log_change(request, entry, "Send now: pushed past its trigger rule")
        self.message_user(request, f"{_entries(len(ids))} queued to send now.",
                          messages.SUCCESS if ids else messages.WARNING)


@admin.register(AttentionEntry)
class AttentionAdmin(OutboxEntryAdmin):
    list_display = ["document", "connection", "status", "problem", "home_amount", "updated_at"]
    actions = ["retry", "send_ours_anyway", "void_locally", "resend", "export_manual"]

    @admin.action(description="Void locally (it was voided or deleted on the platform)", permissions=["sync"])
    def void_locally(self, request, queryset):
        done = 0
        for entry in queryset.filter(error_code__in=["remote_voided", "remote_deleted"]):
            if inbound.void_locally(entry):
                done += 1
                self.log_change(request, entry, "Voided locally to match the platform")
        skipped = queryset.count() - done
        self.message_user(request, f"{done} documents voided here; nothing was sent to the platform."
                          + (f" {skipped} selected entries were not voided or deleted on the platform." if skipped
                             else ""), messages.SUCCESS if done else messages.WARNING)

    @admin.action(description="Re-send (it was deleted on the platform)", permissions=["sync"])
    def resend(self, request, queryset):
        done = 0
        for entry in queryset.filter(error_code="remote_deleted"):
            if inbound.resend(entry):
                done += 1
                self.log_change(request, entry, "Re-send after deletion on the platform")
        self.message_user(request, f"{done} documents queued to be created on the platform again.",
                          messages.SUCCESS if done else messages.WARNING)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status__in=[EntryStatus.NEEDS_ATTENTION, EntryStatus.FAILED])


@admin.register(SyncLog)
class SyncLogAdmin(ViewWith, ReadOnlyAdmin):
    list_display = ["created_at", "document", "connection", "operation", "outcome", "remote_id", "platform_code",
                    "error_code", "duration_ms", "short_message"]
    list_filter = ["outcome", "operation", "entity", "connection", "created_at"]
    search_fields = ["source_key", "label", "message", "remote_id", "platform_code"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in SyncLog._meta.fields] + ["document"]

    @admin.display(description="Document")
    def document(self, obj):
        return local_link(obj.source_key, obj.label)

    @admin.display(description="Message")
    def short_message(self, obj):
        return obj.message[:200]


@admin.register(ExternalReference)
class ExternalReferenceAdmin(ViewWith, ReadOnlyAdmin):
    list_display = ["document", "entity", "connection", "remote_id", "remote_number", "version",
                    "remote_status", "home_total", "synced_at"]
    list_filter = ["entity", "remote_status", "connection"]
    list_select_related = ["connection"]
    search_fields = ["source_key", "remote_id", "remote_number"]
    readonly_fields = [f.name for f in ExternalReference._meta.fields] + ["document", "version"]

    def get_fields(self, request, obj=None):
        """The version stamp once, as staff read it (not also the platform's raw stamp beside it)."""
        return [f for f in super().get_fields(request, obj) if f != "remote_version"]

    def get_queryset(self, request):
        """Each reference with its document's label (kept on its outbox entry), so staff read names, not keys."""
        label = OutboxEntry.objects.filter(connection=OuterRef("connection"),
                                           source_key=OuterRef("source_key")).values("label")[:1]
        return super().get_queryset(request).annotate(_label=Subquery(label))

    @admin.display(description="Document")
    def document(self, obj):
        return local_link(obj.source_key, getattr(obj, "_label", "") or "")

    @admin.display(description="Remote version", ordering="remote_version")
    def version(self, obj):
        """The platform's version stamp as its connector reads it out (a date, where the platform's stamp is one)."""
        try:
            return registry.get(obj.connection.platform).describe_version(obj.remote_version) or "—"
        except LookupError:
            return obj.remote_version or "—"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ViewWith, ReadOnlyAdmin):
    list_display = ["received_at", "platform", "connection", "status", "times_received", "processed_at", "error"]
    list_filter = ["platform", "status", "connection"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]


@admin.register(PullCursor)
class PullCursorAdmin(ViewWith, ReadOnlyAdmin):
    list_display = ["connection", "entity", "changed_since", "last_pull_at", "last_result"]
    readonly_fields = [f.name for f in PullCursor._meta.fields]


from ..alerts import admin as alerts_admin  # noqa: E402,F401 - after ConnectionAdmin: adds an inline
