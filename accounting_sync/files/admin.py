"""Admin for file delivery: export batches (download, confirm imported, export again) and the platform's export
files staff upload (read back: closes the documents they hold, and reconciliation reads them)."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from connectors import registry
from connectors.errors import SyncError
from connectors.models import Connection, PlatformExport

from ..adminkit import ReadOnlyAdmin
from ..permissions import EXPORT, VIEW_DASHBOARD, Actions, ViewWith, allowed
from . import batches, manual
from .models import ExportBatch, ExportFile, ExportItem, ManualExport


class ExportItemInline(admin.TabularInline):
    model = ExportItem
    fk_name = "batch"
    extra = 0
    can_delete = False
    fields = readonly_fields = ["label", "entity", "number", "confirmed_at", "confirmed_by", "remote_id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ExportBatch)
class ExportBatchAdmin(ViewWith, Actions, ReadOnlyAdmin):
    """Batches are listed with ``view_dashboard``; downloading their files and every action needs
    ``export_manual``."""

    list_display = ["__str__", "created_at", "created_by", "documents", "awaiting", "download", "reexport_of"]
    list_filter = ["connection"]
    readonly_fields = ["connection", "number", "created_at", "created_by", "reexport_of", "reason", "documents",
                       "sha256", "download"]
    inlines = [ExportItemInline]
    actions = ["confirm_imported", "export_again"]
    view_permissions = (VIEW_DASHBOARD, EXPORT)

    @admin.display(description="Awaiting import")
    def awaiting(self, obj):
        return obj.items.filter(confirmed_at__isnull=True).count()

    @admin.display(description="Files")
    def download(self, obj):
        return format_html_join(mark_safe("<br>"), '<a href="{}">{}</a> ({} rows, sha256 {}…)', (  # nosec B308 B703
            (reverse("admin:accounting_sync_exportbatch_file", args=[f.pk]), f.name, f.rows, f.sha256[:12])
            for f in obj.files.all()))

    def get_urls(self):
        return [path("file/<int:pk>/", self.admin_site.admin_view(self.file_view),
                     name="accounting_sync_exportbatch_file")] + super().get_urls()

    def file_view(self, request, pk: int):
        """The file exactly as stored (refused if its bytes no longer match their SHA-256)."""
        if not allowed(request.user, "export"):
            return HttpResponse(status=403)
        file = get_object_or_404(ExportFile, pk=pk)
        if not file.intact:
            return HttpResponse("This file no longer matches its SHA-256: it was altered.", status=409)
        response = HttpResponse(bytes(file.content), content_type="text/plain")
        response["Content-Disposition"] = f'attachment; filename="{file.name}"'
        return response

    @admin.action(description="Confirm imported: the platform took these files (closes their documents)",
                  permissions=["export"])
    def confirm_imported(self, request, queryset):
        actor = request.user.get_username()
        total = 0
        for batch in queryset:
            done = batches.confirm(ExportItem.objects.filter(batch=batch), actor=actor)
            total += len(done.closed)
            self.log_change(request, batch, f"Confirmed imported: {len(done.closed)} documents closed")
        self.message_user(request, f"{total} documents closed as imported.", messages.SUCCESS if total else
                          messages.WARNING)

    @admin.action(description="Export again (a new batch of the documents not yet confirmed; recorded)",
                  permissions=["export"])
    def export_again(self, request, queryset):
        for batch in queryset:
            try:
                new = batches.reexport(batch, actor=request.user.get_username(), reason="re-export from the admin",
                                       record=False)
            except SyncError as exc:
                self.message_user(request, f"{batch}: {exc.message}", messages.WARNING)
                continue
            self.log_change(request, batch, f"Re-exported as batch {new.number} ({new.documents} documents, "
                                            f"sha256 {new.sha256})")
            self.message_user(request, f"{batch}: exported again as batch {new.number}.", messages.SUCCESS)


@admin.register(ManualExport)
class ManualExportAdmin(ViewWith, Actions, ReadOnlyAdmin):
    """Files of documents for entering by hand while a platform is down (the manual fallback). Listed with
    ``view_dashboard``; downloading and marking them entered need ``export_manual``."""

    list_display = ["__str__", "format", "documents", "rows", "created_by", "marked_at", "download"]
    list_filter = ["connection", "format"]
    readonly_fields = ["connection", "created_at", "created_by", "format", "filename", "documents", "rows",
                       "sha256", "entries", "marked_at", "marked_by", "download"]
    actions = ["mark_entered"]
    view_permissions = (VIEW_DASHBOARD, EXPORT)

    @admin.display(description="File")
    def download(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:accounting_sync_manualexport_file", args=[obj.pk]),
                           obj.filename)

    def get_urls(self):
        return [path("<int:pk>/file/", self.admin_site.admin_view(self.file_view),
                     name="accounting_sync_manualexport_file")] + super().get_urls()

    def file_view(self, request, pk: int):
        if not allowed(request.user, "export"):
            return HttpResponse(status=403)
        record = get_object_or_404(ManualExport, pk=pk)
        response = HttpResponse(bytes(record.content), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{record.filename}"'
        return response

    @admin.action(description="Mark entered by hand: stop sending these documents; adopt them when the sync resumes",
                  permissions=["export"])
    def mark_entered(self, request, queryset):
        total = 0
        for record in queryset:
            count = manual.mark_entered(record, actor=request.user.get_username())
            total += count
            self.log_change(request, record, f"Marked entered by hand ({count} documents)")
        self.message_user(request, f"{total} documents marked as entered by hand. Once the platform is back, choose "
                                   "“Resume after manual entry” on the connection.",
                          messages.SUCCESS if total else messages.WARNING)


class PlatformExportForm(forms.ModelForm):
    upload = forms.FileField(help_text="The platform's export file (its invoices report, its sales export)")

    class Meta:
        model = PlatformExport
        fields = ["connection"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connection"].queryset = Connection.objects.filter(
            platform__in=[pid for pid, cls in registry.connectors().items() if cls.delivery == "file"])

    def clean(self):
        """A file that is not the platform's export is refused here, beside the upload, and nothing is kept."""
        data = super().clean()
        conn, upload = data.get("connection"), data.get("upload")
        if conn is not None and upload is not None:
            content = upload.read()
            try:
                conn.connector().parse_export(upload.name, content)
            except SyncError as exc:
                self.add_error("upload", exc.message)
            data["content"] = content
        return data


@admin.register(PlatformExport)
class PlatformExportAdmin(ViewWith, admin.ModelAdmin):
    """Upload the platform's export file: closes the exported documents it holds; reconciliation reads it.
    Uploading needs ``export_manual``."""

    view_permissions = (VIEW_DASHBOARD, EXPORT)

    form = PlatformExportForm
    list_display = ["name", "connection", "uploaded_at", "uploaded_by", "sha256"]
    list_filter = ["connection"]

    def get_readonly_fields(self, request, obj=None):
        return ["name", "connection", "uploaded_at", "uploaded_by", "sha256"] if obj else []

    def has_add_permission(self, request):
        return allowed(request.user, "export") or super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return obj is None and (allowed(request.user, "export") or super().has_change_permission(request, obj))

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data["upload"]
        record, done = batches.read_back(obj.connection, upload.name, form.cleaned_data["content"],
                                         actor=request.user.get_username())
        obj.pk, obj.name, obj.sha256 = record.pk, record.name, record.sha256
        self.message_user(request, f"{upload.name}: {len(done.closed)} exported documents closed as imported.",
                          messages.SUCCESS)

    def log_addition(self, request, obj, message):
        if obj.pk:
            return super().log_addition(request, obj, f"Read back {obj.name} (sha256 {obj.sha256})")
        return None
