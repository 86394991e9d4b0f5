"""The reconciliation report in the admin: runs, variances with reasons and actions, totals side by side, a trend
of open alarms, CSV exports. Read-only like the rest of the dashboard."""
from __future__ import annotations

import csv

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from connectors.models import Connection

from ..adminkit import ReadOnlyAdmin, local_link
from ..permissions import RECONCILE, VIEW_DASHBOARD, Actions, ViewWith
from . import bank, metrics
from .models import BankBucket, BankMatch, PeriodTotal, ReconciliationRun, RunKind, RunStatus, Variance, VarianceStatus

TREND_RUNS = 30
VARIANCE_FIELDS = ("connection", "organization_id", "entity", "label", "source_key", "remote_id", "number", "field",
                   "local_value", "remote_value", "difference", "reason", "alarm", "status", "message", "action",
                   "first_seen_at", "last_seen_at", "resolved_at")
TOTAL_FIELDS = ("organization_id", "entity", "period", "start", "currency", "local_count", "local_total",
                "remote_count", "remote_total", "difference")


def csv_response(filename: str, fields: tuple[str, ...], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(fields)
    for row in rows:
        writer.writerow([getattr(row, name) for name in fields])
    return response


def trend(runs: list[ReconciliationRun]) -> str:
    """Open alarms after each run, oldest first, as a bar list (no script, no chart library)."""
    if not runs:
        return "No reconciliation has run yet."
    most = max(r.open_alarms for r in runs) or 1
    rows = format_html_join(
        "", '<div style="display:flex;align-items:center;gap:.5em;font-size:11px">'
            '<span style="width:10em">{}</span><span style="display:inline-block;height:10px;width:{}px;'
            'background:{}"></span><span>{}</span></div>',
        ((f"{r.started_at:%Y-%m-%d %H:%M}", max(2, 240 * r.open_alarms // most),
          "#c00" if r.open_alarms else "#5a5", r.open_alarms) for r in runs))
    return format_html('<div aria-label="open variances after each run">{}</div>', rows)


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ViewWith, ReadOnlyAdmin):
    list_display = ["started_at", "connection", "kind", "status", "checked", "in_flight", "variances", "alarms",
                    "open_alarms", "report_link"]
    list_filter = ["connection", "kind", "status"]
    readonly_fields = [f.name for f in ReconciliationRun._meta.fields] + ["totals_table", "found"]
    date_hierarchy = "started_at"
    view_permissions = (VIEW_DASHBOARD, RECONCILE)

    def _require_view(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("report/", view(self.report), name="accounting_sync_reconciliation_report"),
            path("report/variances.csv", view(self.variances_csv), name="accounting_sync_reconciliation_variances"),
            path("<int:run_id>/totals.csv", view(self.totals_csv), name="accounting_sync_reconciliation_totals"),
        ] + super().get_urls()

    @admin.display(description="Report")
    def report_link(self, obj):
        url = reverse("admin:accounting_sync_reconciliation_report")
        return format_html('<a href="{}?connection={}">report</a>', url, obj.connection_id)

    @admin.display(description="Totals: ours and the platform's")
    def totals_table(self, obj):
        return totals_html(obj.totals.filter(period="month")) if obj else ""

    @admin.display(description="Variances found")
    def found(self, obj):
        if not obj:
            return ""
        url = reverse("admin:accounting_sync_variance_changelist")
        return format_html('<a href="{}?last_run__id__exact={}">{} variances ({} need a person)</a>', url, obj.pk,
                           obj.variances, obj.alarms)

    def report(self, request):
        """Per connection: the trend of open alarms, the latest run's totals side by side, the open variances."""
        self._require_view(request)
        connection_id = request.GET.get("connection")
        conns = Connection.objects.order_by("name")
        if connection_id and connection_id.isdigit():
            conns = conns.filter(pk=connection_id)
        sections = []
        for conn in conns:
            runs = list(ReconciliationRun.objects.filter(connection=conn).order_by("-started_at")[:TREND_RUNS])[::-1]
            latest = (ReconciliationRun.objects.filter(connection=conn, kind=RunKind.FULL, status=RunStatus.DONE)
                      .order_by("-started_at").first())
            open_ = Variance.objects.filter(connection=conn, status=VarianceStatus.OPEN).order_by("-alarm", "entity",
                                                                                                  "label")
            sections.append({
                "connection": conn, "trend": trend(runs), "latest": latest,
                "metrics": metrics.for_connections([conn.pk]),
                "totals": totals_html(latest.totals.filter(period="month")) if latest else "",
                "totals_csv": reverse("admin:accounting_sync_reconciliation_totals", args=[latest.pk]) if latest
                else "",
                "variances": open_[:200], "open": open_.count(),
                "by_reason": open_.values("reason").annotate(n=Count("pk"), alarms=Count("pk", filter=Q(alarm=True)))
                .order_by("-n"),
            })
        context = {**self.admin_site.each_context(request), "title": "Reconciliation", "opts": self.model._meta,
                   "sections": sections,
                   "variances_csv": reverse("admin:accounting_sync_reconciliation_variances")}
        return TemplateResponse(request, "accounting_sync/reconciliation_report.html", context)

    def variances_csv(self, request):
        self._require_view(request)
        rows = Variance.objects.select_related("connection").order_by("connection_id", "pk")
        if request.GET.get("status") != "all":
            rows = rows.filter(status=VarianceStatus.OPEN)
        return csv_response("variances.csv", VARIANCE_FIELDS, rows.iterator())

    def totals_csv(self, request, run_id: int):
        self._require_view(request)
        return csv_response(f"reconciliation-{run_id}-totals.csv", TOTAL_FIELDS,
                            PeriodTotal.objects.filter(run_id=run_id).iterator())


def totals_html(totals) -> str:
    rows = format_html_join(
        "", '<tr><td>{}</td><td>{}</td><td>{}</td><td style="text-align:right">{} ({})</td>'
            '<td style="text-align:right">{} ({})</td><td style="text-align:right;color:{}">{}</td></tr>',
        ((f"{t.start:%Y-%m}" if t.period == "month" else t.start, t.entity, t.currency, t.local_total,
          t.local_count, t.remote_total, t.remote_count, "#c00" if t.difference else "inherit", t.difference)
         for t in totals))
    return format_html('<table><thead><tr><th>Period</th><th>Entity</th><th>Currency</th><th>Ours (count)</th>'
                       '<th>Platform (count)</th><th>Difference</th></tr></thead><tbody>{}</tbody></table>', rows)


@admin.register(Variance)
class VarianceAdmin(ViewWith, Actions, ReadOnlyAdmin):
    list_display = ["document", "connection", "entity", "field", "local_value", "remote_value", "difference",
                    "reason", "alarm", "status", "action", "last_seen_at"]
    list_filter = ["status", "alarm", "reason", "entity", "connection", "last_run"]
    search_fields = ["label", "source_key", "remote_id", "number", "message"]
    readonly_fields = [f.name for f in Variance._meta.fields]
    actions = ["export_csv"]
    view_permissions = (VIEW_DASHBOARD, RECONCILE)

    @admin.display(description="Document")
    def document(self, obj):
        return local_link(obj.source_key, obj.label) if obj.source_key else obj.number or obj.remote_id

    @admin.action(description="Export the selected variances as CSV", permissions=["export_csv"])
    def export_csv(self, request, queryset):
        return csv_response("variances.csv", VARIANCE_FIELDS, queryset.order_by("pk"))

    def has_export_csv_permission(self, request):
        return self.has_view_permission(request)


@admin.register(BankMatch)
class BankMatchAdmin(ViewWith, Actions, ReadOnlyAdmin):
    """Bank-feed payment matching: each deposit with the payments found in it, each payment found in none.
    Probable matches wait for a person: "Confirm match" keeps them, "Reject match" never proposes them again."""

    list_display = ["deposit_id", "deposit_date", "deposit_amount", "currency", "payments", "payments_total", "fee",
                    "bucket", "decision", "reason", "connection", "last_seen_at"]
    list_filter = ["bucket", "decision", "connection", "deposit_kind"]
    search_fields = ["deposit_id", "reference", "payment_labels", "ident"]
    readonly_fields = [f.name for f in BankMatch._meta.fields]
    actions = ["confirm_match", "reject_match"]
    view_permissions = (VIEW_DASHBOARD, RECONCILE)

    @admin.display(description="Payments")
    def payments(self, obj):
        return obj.payment_labels

    @admin.action(description="Confirm match", permissions=["reconcile"])
    def confirm_match(self, request, queryset):
        done = 0
        for row in queryset.filter(bucket=BankBucket.PROBABLE):
            bank.confirm(row, request.user)
            self.log_change(request, row, f"Confirm bank match: deposit {row.deposit_id} = {row.payment_labels}")
            done += 1
        self.message_user(request, f"{done} probable {'match' if done == 1 else 'matches'} confirmed.",
                          messages.SUCCESS if done else messages.WARNING)

    @admin.action(description="Reject match", permissions=["reconcile"])
    def reject_match(self, request, queryset):
        done = 0
        for row in queryset.filter(bucket=BankBucket.PROBABLE):
            bank.reject(row, request.user)
            self.log_change(request, row, f"Reject bank match: deposit {row.deposit_id} ≠ {row.payment_labels}")
            done += 1
        self.message_user(request, f"{done} probable {'match' if done == 1 else 'matches'} rejected.",
                          messages.SUCCESS if done else messages.WARNING)
