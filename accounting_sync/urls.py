from django.urls import path

from . import api, webhooks

app_name = "accounting_sync"
urlpatterns = [
    path("api/status/", api.status, name="api-status"),
    path("api/attention/", api.attention, name="api-attention"),
    path("api/connections/<int:pk>/triggers/", api.trigger_rules, name="api-trigger-rules"),
    path("webhooks/<str:platform>/", webhooks.receive, name="webhook"),
]
