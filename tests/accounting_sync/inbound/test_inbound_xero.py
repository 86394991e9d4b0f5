"""Two-way sync, what only Xero does (issue 5): the webhook intent-to-receive handshake. What every platform does
(polling, signed webhooks, payments and voids coming back) is in test_platform_inbound.py."""
import base64
import hashlib
import hmac
import json

import pytest

from accounting_sync.models import WebhookDelivery

pytestmark = pytest.mark.django_db
KEY = "xero-webhook-key-for-tests"


@pytest.fixture
def two_way(make_xero_connection, org, xsandbox, settings):
    settings.ACCOUNTING_SYNC = {**settings.ACCOUNTING_SYNC, "WEBHOOK_SECRETS": {"xero": KEY}}
    xsandbox.limits.off()
    return make_xero_connection(org, direction="both", rate_limits=False)


def signed(body: dict, key: str = KEY) -> tuple[bytes, str]:
    raw = json.dumps(body).encode()
    return raw, base64.b64encode(hmac.new(key.encode(), raw, hashlib.sha256).digest()).decode()


def test_intent_to_receive_and_tampered_bodies(two_way, client):
    raw, signature = signed({"events": [], "firstEventSequence": 0, "lastEventSequence": 0,
                             "entropy": "S0M3R4ND0MT3XT"})
    good = client.post("/accounting-sync/webhooks/xero/", raw, content_type="application/json",
                       HTTP_X_XERO_SIGNATURE=signature)
    assert good.status_code == 200 and good.content == b""
    bad = client.post("/accounting-sync/webhooks/xero/", raw, content_type="application/json",
                      HTTP_X_XERO_SIGNATURE=base64.b64encode(b"x" * 32).decode())
    assert bad.status_code == 401
    tampered = client.post("/accounting-sync/webhooks/xero/", raw.replace(b"S0M3", b"S0M4"),
                           content_type="application/json", HTTP_X_XERO_SIGNATURE=signature)
    assert tampered.status_code == 401 and not WebhookDelivery.objects.exists()
