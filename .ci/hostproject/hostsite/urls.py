from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounting-sync/", include("accounting_sync.urls")),
    path("connectors/", include("connectors.urls")),  # OAuth connect / callback
]
