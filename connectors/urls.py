from django.urls import path

from . import views

app_name = "connectors"
urlpatterns = [
    path("oauth/callback/", views.callback, name="oauth-callback"),
]
