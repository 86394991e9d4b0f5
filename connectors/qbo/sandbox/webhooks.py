"""QBO's webhooks: data-change notifications signed with ``intuit-signature``, in either payload format.

``classic`` (the ``eventNotifications`` envelope QBO sent until its 2025-2026 migration)::

    {"eventNotifications": [{"realmId": "9130000000000001", "dataChangeEvent": {"entities": [
        {"name": "Invoice", "id": "12", "operation": "Create", "lastUpdated": "2026-01-02T18:04:05.678Z"}]}}]}

``cloudevents`` (CloudEvents 1.0, a JSON array; mandatory for every app after the migration)::

    [{"specversion": "1.0", "id": "<uuid>", "source": "intuit.<opaque>", "type": "qbo.invoice.created.v1",
      "datacontenttype": "application/json", "time": "2026-01-02T18:04:05.678Z", "intuitentityid": "12",
      "intuitaccountid": "9130000000000001", "data": {}}]

Events come from the store (:meth:`Store.subscribe`), so API writes, batch items, ``store.write`` and the
"as a user" helpers all announce themselves. Sources and what is assumed: docs/sandbox-qbo.md, "Webhooks".
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from typing import Any, ClassVar

from ...sandboxkit.webhooks import WebhookEmitter, compact
from .store import StoreChange

PAYLOADS = ("classic", "cloudevents")
#: Classic ``operation`` -> the verb in a CloudEvents ``type`` (``qbo.<entity>.<verb>.v1``). "void" rather than
#: "voided" follows the strings listed on Intuit's subscription page as quoted by integrators; see the docs.
CLOUDEVENT_VERBS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "void",
                    "Merge": "merged", "Emailed": "emailed"}


def utc_millis(epoch: float) -> str:
    """``2026-01-02T18:04:05.678Z``: the timestamp shape of both payload formats."""
    stamp = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


class QBOWebhooks(WebhookEmitter):
    """``sb.webhooks``: configure with ``configure(url, verifier_token, payload="classic"|"cloudevents")``."""

    signature_header = "intuit-signature"
    #: QBO wants an HTTP 200 within 3 seconds; Intuit's webinar notes cap a notification at 100 events.
    defaults: ClassVar[dict[str, Any]] = {"timeout": 3.0, "max_batch": 100}
    extra_options: ClassVar[dict[str, Any]] = {"payload": "classic"}
    thread_name = "qbo-sandbox-webhooks"

    def __init__(self, realm_id: str, app_id: str) -> None:
        super().__init__()
        self.realm_id = realm_id
        digest = hashlib.sha256(f"sandbox-app:{app_id}".encode()).digest()
        self.source = "intuit." + base64.b64encode(digest).decode("ascii")

    def _check_option(self, name: str, value: Any) -> Any:
        if name == "payload" and value not in PAYLOADS:
            raise ValueError(f"payload must be one of {PAYLOADS}, not {value!r}")
        return super()._check_option(name, value)

    def record(self, change: StoreChange) -> None:
        """Store listener: queue one entity change in a neutral shape; the format is chosen when it is sent."""
        if not self.accepting():
            return
        self.enqueue({"name": change.name, "id": change.entity_id, "operation": change.operation,
                      "at": change.at, "event_id": str(uuid.uuid4())})

    def build(self, events: list[dict]) -> bytes:
        if self.options["payload"] == "cloudevents":
            return compact([self._cloud_event(e) for e in events])
        entities = [{"name": e["name"], "id": e["id"], "operation": e["operation"], "lastUpdated": utc_millis(e["at"])}
                    for e in events]
        return compact({"eventNotifications": [{"realmId": self.realm_id, "dataChangeEvent": {"entities": entities}}]})

    def _cloud_event(self, event: dict) -> dict:
        verb = CLOUDEVENT_VERBS[event["operation"]]
        return {"specversion": "1.0", "id": event["event_id"], "source": self.source,
                "type": f"qbo.{event['name'].lower()}.{verb}.v1", "datacontenttype": "application/json",
                "time": utc_millis(event["at"]), "intuitentityid": event["id"], "intuitaccountid": self.realm_id,
                "data": {}}
