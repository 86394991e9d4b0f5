"""The standalone site's own templates (top-level ``templates/``): the landing page and the admin branding."""
import pytest
from django.urls import reverse

from connectors import registry

pytestmark = pytest.mark.django_db


def test_the_landing_page_links_the_admin_dashboard_and_api_and_lists_every_platform(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    for url in (reverse("admin:index"), reverse("admin:accounting_sync_dashboard"),
                reverse("accounting_sync:api-schema")):
        assert f'href="{url}"' in html
    for platform, cls in registry.connectors().items():
        assert (cls.name or platform) in html


def test_the_admin_carries_the_sites_branding_not_djangos(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "Accounting sync</a>" in html and "Django administration" not in html
    assert "<title>" in html and "| Accounting sync</title>" in html
