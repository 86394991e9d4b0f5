"""Bill.com's v3 event notifications: one event per request, signed with the subscription's ``securityKey``.

A notification (developer.bill.com, "Invoice notification payloads")::

    {"metadata": {"eventId": "<uuid>", "subscriptionId": "<uuid>", "organizationId": "008...",
                  "eventType": "invoice.updated", "version": "1"},
     "invoice": {"id": "00e...", "customerId": "0cu...", "invoiceNumber": "...", "totalAmount": 120.00, ...}}

The signature is ``base64(HMAC-SHA256(securityKey, raw body))`` in the ``x-bill-sha-signature`` header
("Webhook API general rules", "Test with BILL webhook security"). The invoice events of the catalogue are
emitted: ``invoice.created``, ``invoice.updated`` (a recorded payment changes the invoice's due amount, so it is
announced as an update of the invoice), ``invoice.archived``. What else the catalogue holds is not emulated.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from ...sandboxkit.resources import Row
from ...sandboxkit.platform import dumps
from ...sandboxkit.webhooks import WebhookEmitter

SUBSCRIPTION_ID = "f6d06930-e3e2-4509-be37-4dbda29efc61"


class BillcomWebhooks(WebhookEmitter):
    """``sb.webhooks``: ``configure(url, security_key)``, ``flush()``, ... (see the kit)."""

    signature_header = "x-bill-sha-signature"
    defaults: ClassVar[dict[str, Any]] = {"max_batch": 1}  # one event per notification
    thread_name = "billcom-sandbox-webhooks"

    def __init__(self, organization_id: str, show: Callable[[str, Row], dict]) -> None:
        super().__init__()
        self.organization_id, self.show = organization_id, show

    def record(self, event: str, resource: str, row: Row) -> None:
        """Store listener: queue an invoice's change as its catalogue event."""
        if resource != "invoices" or not self.accepting():
            return
        kind = "created" if event == "create" else "archived" if row.data.get("archived") else "updated"
        body = self.show(resource, row)
        body["customerId"] = (body.get("customer") or {}).get("id")
        self.enqueue({"metadata": {"eventId": str(uuid.uuid4()), "subscriptionId": SUBSCRIPTION_ID,
                                   "organizationId": self.organization_id, "eventType": f"invoice.{kind}",
                                   "version": "1"}, "invoice": body})

    def build(self, events: list[dict]) -> bytes:
        """The one event, amounts written digit for digit (``120.00``), as Bill.com's samples show them."""
        return dumps(events[0])
