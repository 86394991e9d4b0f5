"""The standalone site's own pages (the apps' pages live in their packages)."""
from __future__ import annotations

from django.urls import reverse
from django.views.generic import TemplateView

from accounting_sync import __version__
from connectors import registry


class Landing(TemplateView):
    """``/``: what runs here and where to go (templates/landing.html)."""

    template_name = "landing.html"

    def get_context_data(self, **kwargs):
        platforms = sorted(({"id": pid, "name": cls.name or pid, "delivery": "API" if cls.delivery == "api" else
                             "export file"} for pid, cls in registry.connectors().items()), key=lambda p: p["name"])
        return {**super().get_context_data(**kwargs), "version": __version__, "platforms": platforms,
                "api_schema": reverse("accounting_sync:api-schema")}
