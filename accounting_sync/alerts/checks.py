"""System checks for the alert settings: a mistake there would only show when an incident opens."""
from __future__ import annotations

from urllib.parse import urlsplit

from django.core.checks import Error, register
from django.core.validators import EmailValidator
from django.core.exceptions import ValidationError

from .. import conf
from .models import IncidentKind


@register()
def alert_settings(app_configs, **kwargs):
    errors = []
    emails = conf.get("ALERT_EMAILS")
    if isinstance(emails, str) or not isinstance(emails, (list, tuple)):
        errors.append(Error("ACCOUNTING_SYNC['ALERT_EMAILS'] must be a list of email addresses.",
                            id="accounting_sync.E101"))
    else:
        for email in emails:
            try:
                EmailValidator()(email)
            except ValidationError:
                errors.append(Error(f"ACCOUNTING_SYNC['ALERT_EMAILS']: {email!r} is not an email address.",
                                    id="accounting_sync.E101"))
    hook = conf.get("ALERT_WEBHOOK") or {}
    if not isinstance(hook, dict):
        errors.append(Error("ACCOUNTING_SYNC['ALERT_WEBHOOK'] must be a dict with 'url' and 'secret'.",
                            id="accounting_sync.E102"))
    elif hook:
        url = urlsplit(str(hook.get("url") or ""))
        if url.scheme not in ("http", "https") or not url.netloc:
            errors.append(Error("ACCOUNTING_SYNC['ALERT_WEBHOOK']['url'] must be an http(s) URL.",
                                id="accounting_sync.E102"))
        if not hook.get("secret"):
            errors.append(Error("ACCOUNTING_SYNC['ALERT_WEBHOOK'] needs a 'secret': the receiver verifies the "
                                "signature with it, and an unsigned alert could be forged.", id="accounting_sync.E102"))
    kinds = conf.get("ALERT_KINDS")
    unknown = [k for k in (kinds or []) if k not in IncidentKind.values]
    if unknown:
        errors.append(Error(f"ACCOUNTING_SYNC['ALERT_KINDS']: unknown kinds {unknown}; choose from "
                            f"{', '.join(IncidentKind.values)}.", id="accounting_sync.E103"))
    return errors
