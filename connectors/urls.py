from django.urls import path

from . import views

app_name = "connectors"
urlpatterns = [
    path("oauth/connect/<int:pk>/", views.connect, name="oauth-connect"),
    path("oauth/callback/", views.callback, name="oauth-callback"),
]
