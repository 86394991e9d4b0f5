"""Delivering an incident's two notices (opened, resolved) to the channels: the signals, email, the webhook.

Each channel's delivery of each notice is recorded on the incident (``opened_email_at``...), so it happens once:
a worker claims the incident (a compare-and-set on ``claimed_until``), delivers what is still due and records
it. A channel that fails (the mail server, the webhook receiver) leaves its field empty and is tried again at the
next evaluation, up to ``ALERT_DELIVERY_ATTEMPTS`` evaluations; it never holds up the other channels. A worker
killed mid-delivery leaves its claim to expire (``CLAIM_SECONDS``): the notice it was sending may then go twice
to that channel, never zero times.

The webhook is a JSON POST signed with HMAC-SHA256 (``connectors.signatures``) over ``"<timestamp>.<body>"``;
see docs/alerts.md for the headers and how a receiver verifies them.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid

import requests
from django.conf import settings as django_settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.utils import timezone

from connectors import signatures

from .. import conf
from .models import AlertRecipient, Incident
from .signals import incident_opened, incident_resolved

log = logging.getLogger(__name__)

CLAIM_SECONDS = 300  # longer than a task may run (Q_CLUSTER timeout 120 s)
WEBHOOK_TIMEOUT = 10.0  # seconds, unless ALERT_WEBHOOK["timeout"] says otherwise
SUBJECT = "[Accounting sync]"
SIGNATURE_HEADER = "X-Accounting-Sync-Signature"
TIMESTAMP_HEADER = "X-Accounting-Sync-Timestamp"
EVENT_HEADER = "X-Accounting-Sync-Event"
DELIVERY_HEADER = "X-Accounting-Sync-Delivery"
EVENTS = ("opened", "resolved")
SIGNALS = {"opened": incident_opened, "resolved": incident_resolved}


class DeliveryFailed(Exception):
    pass


# -- who and where ------------------------------------------------------------------------------------------------
def recipients(incident: Incident, *, digest: bool = False) -> list[str]:
    """``ALERT_EMAILS`` and the recipients of the incident's connection (of every connection for an incident
    that concerns all), without repeats, in a stable order."""
    field = "digest" if digest else "incidents"
    people = AlertRecipient.objects.filter(**{field: True})
    if incident.connection_id is not None:
        people = people.filter(connection_id=incident.connection_id)
    found = dict.fromkeys(e.strip() for e in conf.get("ALERT_EMAILS") or [])
    found.update(dict.fromkeys(people.order_by("email").values_list("email", flat=True)))
    return [e for e in found if e]


def webhook() -> dict | None:
    hook = conf.get("ALERT_WEBHOOK") or {}
    return hook if hook.get("url") and hook.get("secret") else None


# -- what is said -------------------------------------------------------------------------------------------------
def describe(incident: Incident) -> dict:
    """The incident as plain JSON: the webhook's payload and what the email says."""
    conn = incident.connection
    return {
        "id": incident.pk, "kind": incident.kind, "kind_label": incident.get_kind_display(), "key": incident.key,
        "connection": None if conn is None else {"id": conn.pk, "name": conn.name, "platform": conn.platform},
        "title": incident.title, "detail": incident.detail, "hint": incident.hint, "value": incident.value,
        "peak": incident.peak, "opened_at": _iso(incident.opened_at), "last_seen_at": _iso(incident.last_seen_at),
        "resolved_at": _iso(incident.resolved_at), "status": "open" if incident.is_open else "resolved",
    }


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def email_text(incident: Incident, event: str) -> tuple[str, str]:
    when = incident.opened_at if event == "opened" else incident.resolved_at
    subject = f"{SUBJECT} {'Resolved' if event == 'resolved' else 'Alert'}: {incident.title}"
    lines = [
        f"{'Resolved' if event == 'resolved' else 'Opened'} {when:%Y-%m-%d %H:%M} UTC: {incident.title}",
        "",
        f"What: {incident.get_kind_display()}",
        f"Connection: {incident.connection or 'all connections'}",
    ]
    if event == "opened":
        lines += ["", incident.detail, "", f"What to do: {incident.hint}"] if incident.hint else ["", incident.detail]
    else:
        lines += ["", f"It was open from {incident.opened_at:%Y-%m-%d %H:%M} UTC, found by {incident.seen} "
                      f"evaluation{'s' if incident.seen != 1 else ''} (at most {incident.peak})."]
    lines += ["", "Incidents: Django admin → Accounting sync → Incidents. You receive this because you are an alert "
                  "recipient of this connection or of every connection."]
    return subject, "\n".join(lines).strip() + "\n"


def from_email() -> str:
    return conf.get("ALERT_FROM_EMAIL") or django_settings.DEFAULT_FROM_EMAIL


# -- the channels -------------------------------------------------------------------------------------------------
def send_signal(incident: Incident, event: str) -> None:
    for receiver, response in SIGNALS[event].send_robust(
            sender=Incident, incident=incident, connection=incident.connection, kind=incident.kind):
        if isinstance(response, Exception):
            log.error("alert signal receiver %r raised %r (incident %s)", receiver, response, incident.pk,
                      exc_info=response)


def send_email(incident: Incident, event: str) -> int:
    """One message per recipient (recipients of different connections never see each other's address)."""
    people = recipients(incident)
    if not people:
        return 0
    subject, body = email_text(incident, event)
    messages = [EmailMessage(subject, body, from_email(), [person]) for person in people]
    try:
        return get_connection(fail_silently=False).send_messages(messages) or 0
    except Exception as exc:  # SMTP refusals, network: retried at the next evaluation
        raise DeliveryFailed(f"email: {exc.__class__.__name__}: {exc}") from exc


def webhook_request(incident: Incident, event: str, secret: str, now: float | None = None) -> tuple[bytes, dict]:
    """The body and headers of one webhook delivery. The delivery id is the same on every retry of one notice,
    so a receiver can drop a repeat; the timestamp is the attempt's, and is signed with the body."""
    body = json.dumps({"event": f"incident.{event}", "incident": describe(incident)}, sort_keys=True,
                      separators=(",", ":")).encode()
    stamp = str(int(now if now is not None else time.time()))
    signature = signatures.sign(stamp.encode() + b"." + body, secret, encoding="hex")
    return body, {
        "Content-Type": "application/json",
        EVENT_HEADER: f"incident.{event}",
        DELIVERY_HEADER: str(uuid.uuid5(uuid.NAMESPACE_URL, f"accounting-sync-incident:{incident.pk}:{event}")),
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: f"sha256={signature}",
    }


def send_webhook(incident: Incident, event: str, hook: dict) -> None:
    body, headers = webhook_request(incident, event, str(hook["secret"]))
    timeout = float(hook.get("timeout") or WEBHOOK_TIMEOUT)
    try:
        response = requests.post(hook["url"], data=body, headers=headers, allow_redirects=False, timeout=timeout)
    except Exception as exc:  # unreachable, timed out, refused, a malformed URL: retried at the next evaluation
        raise DeliveryFailed(f"webhook: {exc.__class__.__name__}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"webhook: HTTP {response.status_code}")


def verify(body: bytes, headers: dict[str, str], secret: str, *, tolerance: float | None = 300,
           now: float | None = None) -> bool:
    """What a receiver written in Python does with a delivery: True when the signature is the body's and the
    timestamp is recent (within ``tolerance`` seconds; None: any age)."""
    stamp = signatures.header(headers, TIMESTAMP_HEADER)
    given = signatures.header(headers, SIGNATURE_HEADER).removeprefix("sha256=")
    if not stamp.isdigit():
        return False
    if tolerance is not None and abs((now if now is not None else time.time()) - int(stamp)) > tolerance:
        return False
    return signatures.verify(stamp.encode() + b"." + body, secret, given, encoding="hex")


# -- delivery -----------------------------------------------------------------------------------------------------
def _claim(pk: int, now: dt.datetime) -> bool:
    return bool(Incident.objects.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk=pk,
                                        notices_due=True)
                .update(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS)))


def deliver(limit: int = 200) -> int:
    """Deliver the notices still due (openings first, oldest first); returns how many channel deliveries were
    made. Once the webhook fails in this pass it is not tried again until the next one, so an unreachable
    receiver costs one timeout per evaluation, not one per incident."""
    now = timezone.now()
    due = list(Incident.objects.filter(notices_due=True).order_by("opened_at", "pk")
               .values_list("pk", flat=True)[:limit])
    hook = webhook()
    state = {"webhook_down": False}
    delivered = 0
    for pk in due:
        if _claim(pk, now):
            delivered += deliver_one(pk, hook, state)
    return delivered


def deliver_one(pk: int, hook: dict | None, state: dict) -> int:
    incident = Incident.objects.select_related("connection").get(pk=pk)
    events = ["opened"] + (["resolved"] if incident.resolved_at else [])
    done: dict[str, dt.datetime] = {}
    errors: list[str] = []
    channels = [("signal", lambda event: send_signal(incident, event)),
                ("email", lambda event: send_email(incident, event))]
    if hook:
        channels.append(("webhook", lambda event: send_webhook(incident, event, hook)))
    for channel, send in channels:
        for event in events:  # in order: a resolution never goes out on a channel before its opening
            field = f"{event}_{channel}_at"
            if getattr(incident, field) is not None:
                continue
            if channel == "webhook" and state["webhook_down"]:
                errors.append("webhook: not tried, it failed for an earlier incident in this pass")
                break
            try:
                send(event)
            except DeliveryFailed as exc:
                errors.append(str(exc))
                log.warning("alert %s of incident %s not delivered: %s", event, incident.pk, exc)
                if channel == "webhook":
                    state["webhook_down"] = True
                break
            done[field] = timezone.now()
    update = {**done, "claimed_until": None}
    if errors:
        attempts = incident.delivery_attempts + 1
        update.update(delivery_attempts=attempts, delivery_error="; ".join(errors)[:2000])
        if attempts >= int(conf.get("ALERT_DELIVERY_ATTEMPTS")):
            update["delivery_error"] = f"Gave up after {attempts} attempts: {update['delivery_error']}"[:2000]
            errors = []  # given up: nothing more is due for what we saw
    else:
        update["delivery_error"] = ""
    finished = Incident.objects.filter(pk=pk)
    if not errors:
        # Done with what we saw; a resolution another worker recorded meanwhile keeps its notice due.
        seen_resolution = Q(resolved_at__isnull=True) if incident.resolved_at is None else Q(pk=pk)
        if finished.filter(seen_resolution).update(**update, notices_due=False):
            return len(done)
    finished.update(**update)
    return len(done)
