from django.contrib import admin
from django.urls import include, path

from .views import Landing

# The standalone site's admin index opens with the integration dashboard (a host can do the same, or put
# {% accounting_sync_dashboard %} in its own index template: docs/host-integration.md).
admin.site.index_template = "accounting_sync/admin/index.html"

urlpatterns = [
    path("", Landing.as_view(), name="landing"),
    path("admin/", admin.site.urls),
    path("accounting-sync/", include("accounting_sync.urls")),
    path("connectors/", include("connectors.urls")),
]
