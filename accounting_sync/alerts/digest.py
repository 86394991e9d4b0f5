"""The daily digest: one email per recipient listing the incidents open now and those cleared in the last day.

Recipients are ``ALERT_EMAILS`` (every incident) and each connection's ``AlertRecipient`` with ``digest`` on (that
connection's incidents, plus those that concern every connection). Someone with nothing open and nothing cleared
gets no email. A Schedule (migration 0021) sends it daily; ``accounting_sync_alerts --digest`` sends it now.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.utils import timezone

from .. import conf
from .models import AlertRecipient, Incident
from .notify import SUBJECT, from_email

PERIOD = dt.timedelta(days=1)


def incidents(now: dt.datetime) -> list[Incident]:
    """Open incidents and those resolved within the last day, open ones first."""
    found = (Incident.objects.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=now - PERIOD))
             .select_related("connection").order_by("opened_at", "pk"))
    return sorted(found, key=lambda i: (i.resolved_at is not None, i.opened_at, i.pk))


def by_recipient(found: list[Incident]) -> dict[str, list[Incident]]:
    """Who reads which incidents (each recipient's in the order of ``found``)."""
    everyone = [e.strip() for e in conf.get("ALERT_EMAILS") or [] if e.strip()]
    per_connection: dict[int, list[str]] = defaultdict(list)
    for conn_id, email in AlertRecipient.objects.filter(digest=True).values_list("connection_id", "email"):
        per_connection[conn_id].append(email)
    all_people = list(dict.fromkeys([*everyone, *(e for emails in per_connection.values() for e in emails)]))
    reading: dict[str, list[Incident]] = defaultdict(list)
    for incident in found:
        people = all_people if incident.connection_id is None else [*everyone, *per_connection[incident.connection_id]]
        for person in dict.fromkeys(people):
            reading[person].append(incident)
    return dict(reading)


def line(incident: Incident, now: dt.datetime) -> str:
    if incident.is_open:
        hours = (now - incident.opened_at).total_seconds() / 3600
        since = f"open {hours:.0f} h" if hours >= 1 else "open < 1 h"
        return f"- {incident.title} ({since}, since {incident.opened_at:%Y-%m-%d %H:%M} UTC)\n  {incident.hint}"
    return (f"- {incident.title} (cleared {incident.resolved_at:%Y-%m-%d %H:%M} UTC, "
            f"open from {incident.opened_at:%Y-%m-%d %H:%M} UTC)")


def compose(person_incidents: list[Incident], now: dt.datetime) -> tuple[str, str]:
    open_ = [i for i in person_incidents if i.is_open]
    cleared = [i for i in person_incidents if not i.is_open]
    subject = f"{SUBJECT} Daily digest: {len(open_)} open, {len(cleared)} cleared"
    parts = [f"Accounting sync incidents on {now:%Y-%m-%d %H:%M} UTC.", ""]
    parts += [f"Open ({len(open_)}):", *(line(i, now) for i in open_)] if open_ else ["Nothing is open."]
    if cleared:
        parts += ["", f"Cleared in the last day ({len(cleared)}):", *(line(i, now) for i in cleared)]
    parts += ["", "Details: Django admin → Accounting sync → Incidents."]
    return subject, "\n".join(parts) + "\n"


def send_digest(now: dt.datetime | None = None) -> int:
    """Email the digest to every recipient with something in it; returns how many emails were sent."""
    now = now or timezone.now()
    reading = by_recipient(incidents(now))
    messages = []
    for person, found in sorted(reading.items()):
        subject, body = compose(found, now)
        messages.append(EmailMessage(subject, body, from_email(), [person]))
    if not messages:
        return 0
    return get_connection(fail_silently=False).send_messages(messages) or 0
