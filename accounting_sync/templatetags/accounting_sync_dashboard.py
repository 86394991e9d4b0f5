"""``{% load accounting_sync_dashboard %}{% accounting_sync_dashboard %}``: the integration dashboard inside any
admin template (the app's own index, the standalone site's admin index, or a host's). Renders nothing for a user
without ``accounting_sync.view_dashboard``."""
from django import template

from ..staff import dashboard
from ..permissions import allowed

register = template.Library()


@register.inclusion_tag("accounting_sync/admin/dashboard.html", takes_context=True)
def accounting_sync_dashboard(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if not allowed(user, "view_dashboard"):
        return {"shown": False}
    return {"shown": True, "request": request, "csrf_token": context.get("csrf_token"), **dashboard.context(user)}
