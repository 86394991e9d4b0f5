from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .inbound import webhooks
from .staff.api import views as api

router = SimpleRouter()
router.register("connections", api.ConnectionViewSet, basename="api-connection")
router.register("outbox", api.OutboxEntryViewSet, basename="api-outbox")
router.register("sync-logs", api.SyncLogViewSet, basename="api-synclog")
router.register("mappings", api.MappingViewSet, basename="api-mapping")
router.register("reconciliation-runs", api.ReconciliationRunViewSet, basename="api-reconciliationrun")
router.register("variances", api.VarianceViewSet, basename="api-variance")
router.register("audit-records", api.AuditRecordViewSet, basename="api-auditrecord")

app_name = "accounting_sync"
urlpatterns = [
    path("api/status/", api.StatusView.as_view(), name="api-status"),
    path("api/attention/", api.AttentionView.as_view(), name="api-attention"),
    path("api/metrics/", api.MetricsView.as_view(), name="api-metrics"),
    path("api/connections/<int:pk>/triggers/", api.TriggerRulesView.as_view(), name="api-trigger-rules"),
    path("api/schema/", api.SchemaView.as_view(), name="api-schema"),
    path("api/", include(router.urls)),
    path("webhooks/<str:platform>/", webhooks.receive, name="webhook"),
]
