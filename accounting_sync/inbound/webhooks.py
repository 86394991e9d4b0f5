"""Webhook receivers: verify the signature on the raw body, store the delivery once, answer at once.

``POST /accounting-sync/webhooks/<platform>/``: the platform's connector checks the signature header
(``verify_webhook``: 401 for a bad one). A correctly signed body that is not the platform's delivery shape
(``parse_webhook`` raises ``ValueError``) is answered 400 and not stored. A correctly signed delivery that
announces no change (a handshake such as an intent to receive) is answered 200 and not stored. The secret is the
app's webhook verifier token / key, ``ACCOUNTING_SYNC["WEBHOOK_SECRETS"][platform]``. A delivery is processed by a
task (``tasks.process_webhook``); its events are hints: every entity is re-read from the platform.
"""
from __future__ import annotations

import hashlib
import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from connectors import registry

from .. import conf
from ..models import WebhookDelivery

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def receive(request, platform: str) -> HttpResponse:
    try:
        connector = registry.get(platform)
    except LookupError:
        return HttpResponse(status=404)
    if not connector.capabilities.webhooks:  # the platform sends none: nothing here to receive
        return HttpResponse(status=404)
    secret = (conf.get("WEBHOOK_SECRETS") or {}).get(platform, "")
    body = request.body
    if not secret:
        log.warning("%s webhook received but no WEBHOOK_SECRETS entry is configured; refused", platform)
        return HttpResponse(status=401)
    if not connector.verify_webhook(dict(request.headers), body, secret):
        return HttpResponse(status=401)
    try:
        announced = connector.parse_webhook(body)
    except ValueError as exc:  # not JSON, or not the platform's shape: refused, nothing stored
        log.warning("%s webhook with a body of the wrong shape refused: %s", platform, exc)
        return HttpResponse(status=400)
    except Exception:  # noqa: BLE001 - stored anyway: processing says why it cannot be read
        announced = None
    if announced == []:
        return HttpResponse(status=200)  # signed correctly, nothing to do (a handshake)
    digest = hashlib.sha256(body).hexdigest()
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(platform=platform, digest=digest,
                                                      body=body.decode("utf-8", "replace"))
    except IntegrityError:  # the same delivery again (platforms retry): counted, not processed twice
        WebhookDelivery.objects.filter(digest=digest).update(times_received=F("times_received") + 1)
        return HttpResponse(status=200)
    _enqueue(delivery.pk)
    return HttpResponse(status=200)


def _enqueue(delivery_id: int) -> None:
    if not conf.get("QUEUE_TASKS"):
        return
    try:
        async_task("accounting_sync.tasks.process_webhook", delivery_id, group="accounting_sync")
    except Exception:  # the delivery is stored; the every-minute pull task processes what is left
        log.warning("could not enqueue webhook delivery %s", delivery_id, exc_info=True)
