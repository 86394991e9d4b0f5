"""The webhook endpoint answers only for platforms that declare webhooks."""
import pytest

from connectors import registry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("platform", sorted(registry.connectors()))
def test_platforms_without_webhooks_have_no_endpoint(client, settings, platform):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "WEBHOOK_SECRETS": {platform: "secret"}}
    response = client.post(f"/accounting-sync/webhooks/{platform}/", b"{}", content_type="application/json")
    if registry.get(platform).capabilities.webhooks:
        assert response.status_code == 401  # an endpoint that checks the (missing) signature
    else:
        assert response.status_code == 404


def test_unknown_platform_is_not_found(client):
    assert client.post("/accounting-sync/webhooks/nowhere/", b"{}", content_type="application/json").status_code == 404
