"""OAuth connect and callback views (staff only).

``state`` is random, single-use, bound to the session and the connection, expires after 10 minutes and is
compared in constant time; a bad state is refused before any token request is made.
"""
from __future__ import annotations

import hmac
import secrets
import time

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

from .crypto import KEYS_CHANGED, Undecryptable
from .errors import SyncError
from .models import Connection
from .tokens import store_tokens

SESSION_KEY = "accounting_sync_oauth"
STATE_TTL = 600


def _redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("connectors:oauth-callback"))


def start_connect(request: HttpRequest, conn: Connection) -> HttpResponse:
    """Send staff to the platform's sign-in for ``conn``; the platform sends them back to :func:`callback`, which
    checks the single-use state set here. The caller has checked that the user may connect platforms (the admin's
    connect view: ``accounting_sync.connect_connection``)."""
    if isinstance(conn.client_secret, Undecryptable):
        messages.error(request, f"{conn.name}: {KEYS_CHANGED}. Enter the client secret again here, save, then "
                                "Connect (or restore the previous encryption key).")
        return redirect("admin:connectors_connection_change", conn.pk)
    if conn.secrets_unreadable:  # only the old tokens are unreadable: connecting again replaces them
        conn.access_token = conn.refresh_token = ""  # nosec B105
        conn.save(update_fields=["access_token", "refresh_token"])
    state = secrets.token_urlsafe(32)
    request.session[SESSION_KEY] = {"state": state, "connection": conn.pk, "at": time.time()}
    return redirect(conn.connector().authorization_url(_redirect_uri(request), state))


@staff_member_required
@sensitive_variables("tokens", "code")
def callback(request: HttpRequest) -> HttpResponse:
    pending = request.session.pop(SESSION_KEY, None)  # single use, whatever happens next
    state = request.GET.get("state", "")
    if not pending or not state or not hmac.compare_digest(state, pending["state"]):
        return HttpResponseBadRequest("The sign-in link is invalid or was already used. Start again from Connect.")
    if time.time() - pending["at"] > STATE_TTL:
        return HttpResponseBadRequest("The sign-in took too long. Start again from Connect.")
    conn = get_object_or_404(Connection, pk=pending["connection"])
    if "error" in request.GET:
        messages.error(request, f"{conn.name}: the platform refused consent ({request.GET['error']}).")
        return redirect("admin:connectors_connection_change", conn.pk)
    code = request.GET.get("code", "")
    if not code:
        return HttpResponseBadRequest("The platform sent no authorization code.")
    try:
        tokens = conn.connector().exchange_code(code, _redirect_uri(request), request.GET.dict())
    except SyncError as exc:
        messages.error(request, f"{conn.name}: connecting failed: {exc.message}")
        return redirect("admin:connectors_connection_change", conn.pk)
    store_tokens(conn, tokens)
    messages.success(request, f"{conn.name} is connected.")
    return redirect("admin:connectors_connection_change", conn.pk)
