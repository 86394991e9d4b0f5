from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounting-sync/", include("accounting_sync.urls")),
    path("connectors/", include("connectors.urls")),
]
