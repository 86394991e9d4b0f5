"""Admin for file delivery: export batches (download, confirm imported, export again) and the platform's export
files staff upload (read back: closes the documents they hold, and reconciliation reads them). Also the manual
fallback's batches: exported from the connection or outbox list, marked entered by hand here."""
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
from .models import BatchPurpose, ExportBatch, ExportFile, ExportItem


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
    ``export_manual``. Manual-entry batches (a platform with an API was down) are marked entered by hand instead of
    confirmed imported."""

    list_display = ["__str__", "purpose", "created_at", "created_by", "documents", "awaiting", "download",
                    "reexport_of"]
    list_filter = ["purpose", "connection"]
    readonly_fields = ["connection", "number", "purpose", "created_at", "created_by", "reexport_of", "reason",
                       "documents", "sha256", "download"]
    inlines = [ExportItemInline]
    actions = ["confirm_imported", "export_again", "mark_entered"]
    view_permissions = (VIEW_DASHBOARD, EXPORT)

    @admin.display(description="Awaiting import or entry")
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

    @admin.action(description="Mark entered by hand (manual-entry batches): stop sending these documents; adopt "
                               "them when the sync resumes", permissions=["export"])
    def mark_entered(self, request, queryset):
        actor = request.user.get_username()
        marked = skipped = 0
        for batch in queryset:
            if batch.purpose != BatchPurpose.MANUAL:
                self.message_user(request, f"{batch}: not a manual-entry batch; confirm it imported instead.",
                                  messages.WARNING)
                continue
            done = manual.mark_entered(ExportItem.objects.filter(batch=batch), actor=actor)
            marked, skipped = marked + len(done.closed), skipped + len(done.skipped)
            self.log_change(request, batch, f"Marked entered by hand: {len(done.closed)} documents")
        self.message_user(request, f"{marked} documents marked as entered by hand"
                          + (f" ({skipped} left alone: synced or being sent meanwhile)"
                             if skipped else "")
                          + ". Once the platform is back, choose “Resume after manual entry” on the connection.",
                          messages.SUCCESS if marked else messages.WARNING)


def export_manual(modeladmin, request, conn: Connection, entry_ids: list[int] | None = None) -> None:
    """Export ``conn``'s unsynced documents (or ``entry_ids`` among them) for entering by hand, in every format the
    platform has, and tell staff where the files are (the connection's and the outbox's "Export for manual
    entry")."""
    try:
        done = manual.export(conn, actor=request.user.get_username(), entry_ids=entry_ids)
    except SyncError as exc:
        modeladmin.message_user(request, f"{conn}: {exc.message}. {exc.hint}", messages.WARNING)
        return
    left_out = format_html_join("", "<br>{}", ((note,) for note in done.left_out[:20]))
    if done.batch is None:
        modeladmin.message_user(request, format_html("{}: no unsynced document to export.{}", conn, left_out),
                                messages.WARNING)
        return
    batch = done.batch
    modeladmin.log_change(request, conn, f"Exported for manual entry: batch {batch.number} ({batch.documents} "
                                         f"documents, sha256 {batch.sha256})")
    files = format_html_join(", ", '<a href="{}">{}</a>', (
        (reverse("admin:accounting_sync_exportbatch_file", args=[f.pk]), f.name) for f in batch.files.all()))
    page = reverse("admin:accounting_sync_exportbatch_change", args=[batch.pk])
    modeladmin.message_user(request, format_html(
        '{}: {} documents for entering by hand in <a href="{}">manual-entry batch {}</a>: {}. Once they are keyed '
        'in, mark the batch entered by hand.{}', conn, batch.documents, page, batch.number, files, left_out),
        messages.SUCCESS)


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
