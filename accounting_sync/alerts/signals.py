"""Signals a host receives when an incident opens and when it clears.

Both are sent once per incident, after the incident's state is committed, with ``sender=Incident`` and:

- ``incident``: the ``accounting_sync.alerts.models.Incident`` row (kind, key, title, detail, hint, value,
  opened_at, last_seen_at, resolved_at);
- ``connection``: the ``connectors.models.Connection`` it concerns, or None (the task queue concerns all);
- ``kind``: the incident's kind (an ``IncidentKind`` value such as ``"failures"``).

Receivers are called with ``send_robust``: one that raises is logged and does not stop the others, the email
or the webhook (and the signal is not sent again).
"""
from django.dispatch import Signal

incident_opened = Signal()
incident_resolved = Signal()
