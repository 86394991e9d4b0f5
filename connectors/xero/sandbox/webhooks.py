"""Xero's webhooks: signed (``x-xero-signature``) event payloads with sequence numbers, and intent to receive.

One subscription per app covers every connected organisation. Each change to a contact, invoice (bills
included) or credit note is one event; payments and allocations are announced as the INVOICE (and CREDITNOTE)
UPDATEs they cause, since Xero has no payment category. A payload::

    {"events": [{"resourceUrl": "<api base>/Invoices/<id>", "resourceId": "<id>",
                 "eventDateUtc": "2026-01-02T18:04:05.678", "eventType": "UPDATE", "eventCategory": "INVOICE",
                 "tenantId": "<tenant>", "tenantType": "ORGANISATION"}],
     "firstEventSequence": 7, "lastEventSequence": 7, "entropy": "QWERTYUIOPASDFGHJKLZ"}

``intent_to_receive()`` runs the check Xero's developer portal runs when a webhook URL is saved. Sources and
what is assumed: docs/sandbox-xero.md, "Webhooks".
"""
from __future__ import annotations

import datetime as dt
import secrets
import string
from collections.abc import Callable
from typing import Any, ClassVar

from ...sandboxkit.webhooks import Delivery, WebhookEmitter, compact, sign
from .store import StoreChange

#: Collections Xero has webhook categories for.
CATEGORIES = {"Contacts": "CONTACT", "Invoices": "INVOICE", "CreditNotes": "CREDITNOTE"}
ITR_TIMEOUT = 5.0  # Xero: answer within 5 seconds


def event_date(updated_ms: int) -> str:
    """``2026-01-02T18:04:05.678``: UTC, milliseconds, no zone designator (as in Xero's samples)."""
    stamp = dt.datetime.fromtimestamp(updated_ms / 1000, dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"


def entropy() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))


class XeroWebhooks(WebhookEmitter):
    """``sb.webhooks``: ``configure(url, webhook_key)``, ``flush()``, ``intent_to_receive()``, ... (see the kit).

    After an event delivery has failed every attempt the webhook is disabled, as Xero disables it after a day
    of failures; later changes are not queued until ``configure(...)`` again or a passing ``intent_to_receive()``.
    """

    signature_header = "x-xero-signature"
    defaults: ClassVar[dict[str, Any]] = {"timeout": 5.0}
    thread_name = "xero-sandbox-webhooks"
    control_actions: ClassVar[dict[str, str]] = {"intent-to-receive": "intent_to_receive"}

    def __init__(self, api_base: Callable[[], str]) -> None:
        super().__init__()
        self._api_base = api_base
        self.status = "OK"  # or "DISABLED"
        self._sequence = 0  # never restarts, not even on reset: sequences only grow

    def _configured(self) -> None:
        self.status = "OK"

    def accepting(self) -> bool:
        return super().accepting() and self.status == "OK"

    def config(self) -> dict:
        return {**super().config(), "status": self.status}

    def record(self, change: StoreChange) -> None:
        """Store listener: queue the change if Xero has a webhook category for it."""
        category = CATEGORIES.get(change.collection)
        if category is None or not self.accepting():
            return
        event = {"resourceUrl": f"{self._base()}/{change.collection}/{change.resource_id}",
                 "resourceId": change.resource_id, "eventDateUtc": event_date(change.updated_ms),
                 "eventType": "CREATE" if change.created else "UPDATE", "eventCategory": category,
                 "tenantId": change.tenant_id, "tenantType": "ORGANISATION"}
        if category == "CREDITNOTE":
            event["data"] = {"Type": change.data.get("Type"), "Status": change.data.get("Status")}
        self.enqueue(event)

    def _base(self) -> str:
        try:
            return self._api_base()
        except RuntimeError:  # not serving (a bare store in a unit test): Xero's own address
            return "https://api.xero.com/api.xro/2.0"

    def build(self, events: list[dict]) -> bytes:
        with self._cond:
            first, last = self._sequence + 1, self._sequence + len(events)
            self._sequence = last
        return compact({"events": events, "firstEventSequence": first, "lastEventSequence": last,
                        "entropy": entropy()})

    def _exhausted(self, delivery: Delivery) -> None:
        with self._cond:
            self.status = "DISABLED"
            self._pending.clear()

    def intent_to_receive(self) -> dict:
        """Xero's "intent to receive" check, as run when a webhook URL is saved or re-enabled.

        POSTs ``{"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": ...}`` correctly
        signed, then incorrectly signed, then correctly signed again (Xero sends "a series"). Passes when every
        correctly signed request got 200 with an empty body and no cookie, and every incorrectly signed one got
        401, each within 5 seconds. A pass re-enables a disabled webhook. Returns
        ``{"passed": bool, "checks": [{"signed": "correctly"|"incorrectly", "status", "empty_body", "cookies",
        "seconds", "passed"}], "status": "OK"|"DISABLED"}``; each request is also in ``deliveries``
        (kind ``intent``).
        """
        with self._cond:
            if self.url is None:
                raise RuntimeError("webhooks are not configured; call configure(url, key) first")
            key = self.key
            timeout = min(self.options["timeout"], ITR_TIMEOUT)
        checks = []
        for good in (True, False, True):
            body = compact({"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": entropy()})
            signature = sign(key, body) if good else _wrong_signature(key, body)
            with self._send_lock:
                delivery = self._send(body, "intent", 0, retries=(), signature=signature, timeout=timeout)
            seconds = delivery.history[-1].seconds if delivery.history else 0.0
            if good:
                passed = (delivery.status == 200 and delivery.response_body == b""
                          and not delivery.response_cookies and seconds < ITR_TIMEOUT)
            else:
                passed = delivery.status == 401 and seconds < ITR_TIMEOUT
            checks.append({"signed": "correctly" if good else "incorrectly", "status": delivery.status,
                           "empty_body": delivery.response_body == b"", "cookies": delivery.response_cookies,
                           "seconds": round(seconds, 4), "passed": passed, "delivery": delivery.id})
        passed = all(c["passed"] for c in checks)
        if passed:
            with self._cond:
                self.status = "OK"
        return {"passed": passed, "checks": checks, "status": self.status}


def _wrong_signature(key: str, body: bytes) -> str:
    """A well-formed signature made with another key (what a forger would send)."""
    return sign("not-" + key, body)
