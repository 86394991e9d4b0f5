"""Who may do what: one Django permission per staff action, used by the admin, the API and the commands.

- ``view_dashboard`` (``accounting_sync.view_dashboard``): the dashboard, read only: connections and their health,
  outbox, attention list, sync logs, external references, reconciliation runs and variances, metrics, export batches.
- ``sync`` (``accounting_sync.sync_connection``): sync now, retry, send now, send ours anyway, resync, void locally
  and re-send after a platform deletion.
- ``connect`` (``accounting_sync.connect_connection``): add and edit connections (settings, credentials, trigger
  rules), connect and disconnect them.
- ``edit_mappings`` (``mappings.change_mapping``): the mapping editor, changing rules, refreshing the platform's
  lists (adding and deleting rules also need ``mappings.add_mapping`` / ``mappings.delete_mapping``; reading them
  ``mappings.view_mapping``).
- ``export`` (``accounting_sync.export_manual``): file delivery: export a batch, download its files, confirm
  imported, export again, read the platform's export file back; the manual fallback: export for manual entry, mark
  a manual-entry batch entered by hand (resuming the sync after it needs ``sync``).
- ``reconcile`` (``accounting_sync.run_reconciliation``): run a reconciliation, confirm or reject bank matches (and
  read the runs and variances).
- ``view_audit`` (``accounting_sync.view_audit``): the audit trail, read only.

Django's own model permissions (``view_outboxentry``, ``change_connection``, ...) still open the admin's pages of
their model, as in any Django admin; the actions above need the permission of the action. A superuser has them all.

Two groups are created by a migration (``0022_permissions_and_groups``): :data:`OPERATOR` and
:data:`FINANCE_ADMIN`, with the permissions in :data:`GROUPS`.
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError

#: The custom permissions (codename, name), declared on ``OutboxEntry.Meta.permissions``.
CUSTOM = (
    ("view_dashboard", "Can view the accounting sync dashboard"),
    ("sync_connection", "Can sync now, retry and resync"),
    ("connect_connection", "Can connect, disconnect and edit connections"),
    ("export_manual", "Can export documents for manual entry (file delivery)"),
    ("run_reconciliation", "Can run reconciliation and decide bank matches"),
    ("view_audit", "Can view the audit trail"),
)

VIEW_DASHBOARD = "accounting_sync.view_dashboard"
SYNC = "accounting_sync.sync_connection"
CONNECT = "accounting_sync.connect_connection"
EDIT_MAPPINGS = "mappings.change_mapping"
VIEW_MAPPINGS = "mappings.view_mapping"
ADD_MAPPINGS = "mappings.add_mapping"
DELETE_MAPPINGS = "mappings.delete_mapping"
EXPORT = "accounting_sync.export_manual"
RECONCILE = "accounting_sync.run_reconciliation"
VIEW_AUDIT = "accounting_sync.view_audit"

#: Action -> the permission it needs.
ACTIONS = {
    "view_dashboard": VIEW_DASHBOARD,
    "sync": SYNC,
    "connect": CONNECT,
    "edit_mappings": EDIT_MAPPINGS,
    "export": EXPORT,
    "reconcile": RECONCILE,
    "view_audit": VIEW_AUDIT,
}

OPERATOR = "Accounting sync operator"
FINANCE_ADMIN = "Accounting sync finance admin"
#: The ready-made groups and their permissions (the migration that creates them keeps its own copy of this list).
GROUPS = {
    OPERATOR: (VIEW_DASHBOARD, SYNC, EXPORT, VIEW_MAPPINGS, "accounting_sync.view_synclog"),
    FINANCE_ADMIN: (VIEW_DASHBOARD, SYNC, CONNECT, EXPORT, RECONCILE, VIEW_AUDIT, "accounting_sync.view_synclog",
                    VIEW_MAPPINGS, ADD_MAPPINGS, EDIT_MAPPINGS, DELETE_MAPPINGS),
}


def permission(action: str) -> str:
    """The permission ``action`` needs (a KeyError names an unknown action)."""
    return ACTIONS[action]


def allowed(user, action: str) -> bool:
    """Whether ``user`` may do ``action``."""
    return bool(user and user.is_active and user.has_perm(ACTIONS[action]))


def any_allowed(user, *perms: str) -> bool:
    """Whether ``user`` holds at least one of ``perms`` (full permission names)."""
    return bool(user and user.is_active and any(user.has_perm(p) for p in perms))


def require(user, action: str) -> None:
    """Raise ``PermissionDenied`` (403 in a view) unless ``user`` may do ``action``."""
    if not allowed(user, action):
        raise PermissionDenied(f"This needs the permission {ACTIONS[action]}.")


def command_user(username: str | None, action: str):
    """A management command's ``--user USERNAME``: that active user, if they may do ``action``, else a
    ``CommandError``. Without ``--user`` (``None``) the command runs as the operating-system user, as before, and
    this returns ``None``."""
    if username is None:
        return None
    user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
    if user is None or not user.is_active:
        raise CommandError(f"No active user {username!r}")
    if not allowed(user, action):
        raise CommandError(f"{username} may not do this: it needs the permission {ACTIONS[action]}")
    return user


def actor(user) -> str | None:
    """How the audit trail names a command's ``--user`` (``None``: the operating-system user)."""
    return f"{user.get_username()} (command)" if user is not None else None


class ViewWith:
    """Admin mixin: besides the model's own view permission, any of ``view_permissions`` opens its pages (read
    only). Put it before ``ModelAdmin`` in the bases."""

    view_permissions: tuple[str, ...] = (VIEW_DASHBOARD,)

    def has_view_permission(self, request, obj=None):
        return any_allowed(request.user, *self.view_permissions) or super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return any_allowed(request.user, *self.view_permissions) or super().has_module_permission(request)


class Actions:
    """Admin mixin: ``@admin.action(permissions=["sync"])`` and the like check :data:`ACTIONS`; an action posted
    by someone who may not take it is refused with 403 (Django would only say "no action selected")."""

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST":
            offered = self.get_actions(request)
            for name in request.POST.getlist("action"):
                if name and name not in offered and self.get_action(name) is not None:
                    raise PermissionDenied(f"You may not take the action {name!r}.")
        return super().changelist_view(request, extra_context)

    def has_sync_permission(self, request):
        return allowed(request.user, "sync")

    def has_connect_permission(self, request):
        return allowed(request.user, "connect")

    def has_export_permission(self, request):
        return allowed(request.user, "export")

    def has_reconcile_permission(self, request):
        return allowed(request.user, "reconcile")

    def has_edit_mappings_permission(self, request):
        return allowed(request.user, "edit_mappings")
