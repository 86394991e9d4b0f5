"""Permissions per action (issue 17, item 4): each permission allows exactly its action in the admin and the
commands; a staff user without permissions gets 403 from every admin page and action; the two ready-made groups.

The API's side is in test_api.py, on the same world (``world`` below).
"""
from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError

from accounting_sync.staff import demo
from accounting_sync import permissions, reconcile
from accounting_sync.audit.models import AuditRecord
from accounting_sync.files import batches
from accounting_sync.files.models import ExportBatch
from accounting_sync.models import EntryStatus, OutboxEntry
from accounting_sync.permissions import (ADD_MAPPINGS, CONNECT, DELETE_MAPPINGS, EDIT_MAPPINGS, EXPORT, RECONCILE,
                                         SYNC, VIEW_AUDIT, VIEW_DASHBOARD, VIEW_MAPPINGS)
from accounting_sync.reconcile.models import BankBucket, BankMatch, Variance
from connectors.models import ConnectionStatus
from mappings.models import Mapping, MappingKind
from tests import factories as f
from tests.conftest import drain

pytestmark = pytest.mark.django_db

#: The permissions of the actions (issue 17: one per action), and the mapping permissions besides the editor's.
ACTION_PERMISSIONS = (VIEW_DASHBOARD, SYNC, CONNECT, EDIT_MAPPINGS, EXPORT, RECONCILE, VIEW_AUDIT)
ALL = ACTION_PERMISSIONS + (VIEW_MAPPINGS, ADD_MAPPINGS, DELETE_MAPPINGS)


def staff(*perms: str) -> User:
    """A staff user holding exactly ``perms`` (full names)."""
    user = User.objects.create_user(f"staff{User.objects.count()}", password="pw", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)  # no cached permissions


@pytest.fixture
def world(connection, make_invoice, org):
    """Something for every page and action to act on: a QBO connection with a synced invoice, one that needs
    attention, a reconciliation run with a variance, a probable bank match; a file-delivery connection with an
    exported batch and a document ready for export."""
    # Every connection first: within a test (one transaction) an organization's connections are looked up once.
    f.TaxRateFactory(organization=org, name="Exempt", rate=Decimal("0"))
    gst = f.TaxRateFactory(organization=org, name="GST 10%", rate=Decimal("10"))
    files = demo.connect_file_platform(org, platform=demo.file_platforms()[0])
    Mapping.objects.filter(connection=connection, kind=MappingKind.TAX_CODE).delete()
    ok = make_invoice(number="A-1")  # numbers short enough for the file platform's import
    make_invoice(("service", "1", "10.00", gst), number="A-2")  # no tax code mapped for it on the QBO connection
    drain()
    broken = OutboxEntry.objects.get(connection=connection, status=EntryStatus.NEEDS_ATTENTION)
    run = reconcile.run(connection)
    variance = Variance.objects.create(connection=connection, last_run=run, entity="invoice", field="total",
                                       reason="unknown", message="differs", action="look")
    bank_match = BankMatch.objects.create(connection=connection, ident="deposit:1", deposit_id="1",
                                          bucket=BankBucket.PROBABLE, payment_keys=["ledger.payment:1"])
    batch = demo_export(files)
    make_invoice(("service", "1", "50.00", gst), number="F-2")
    drain()  # ready for the next export
    exported = OutboxEntry.objects.filter(connection=files, status=EntryStatus.EXPORTED, entity="invoice").first()
    return {"conn": connection, "ok": ok, "broken": broken, "run": run, "variance": variance,
            "bank_match": bank_match, "files": files, "batch": batch, "file": batch.files.first(),
            "exported": exported, "mapping": Mapping.objects.filter(connection=connection).first(),
            "audit": AuditRecord.objects.order_by("pk").first(), "log": connection.logs.first()}


def demo_export(conn) -> ExportBatch:
    return batches.export(conn, actor="setup")


# -- the admin ---------------------------------------------------------------------------------------------------
#: (changelist, action, permission it needs, what it is taken on). None: whoever sees the list may take it.
ADMIN_ACTIONS = [
    ("connectors/connection", "sync_now", SYNC, "conn"),
    ("connectors/connection", "retry_failed", SYNC, "conn"),
    ("connectors/connection", "refresh_reference_data", EDIT_MAPPINGS, "conn"),
    ("connectors/connection", "export_batch", EXPORT, "files"),
    ("connectors/connection", "reconcile_now", RECONCILE, "conn"),
    ("accounting_sync/outboxentry", "retry", SYNC, "broken"),
    ("accounting_sync/outboxentry", "send_ours_anyway", SYNC, "broken"),
    ("accounting_sync/outboxentry", "send_now", SYNC, "broken"),
    ("accounting_sync/outboxentry", "confirm_imported", EXPORT, "exported"),
    ("accounting_sync/attentionentry", "retry", SYNC, "broken"),
    ("accounting_sync/attentionentry", "send_ours_anyway", SYNC, "broken"),
    ("accounting_sync/attentionentry", "void_locally", SYNC, "broken"),
    ("accounting_sync/attentionentry", "resend", SYNC, "broken"),
    ("accounting_sync/exportbatch", "confirm_imported", EXPORT, "batch"),
    ("accounting_sync/exportbatch", "export_again", EXPORT, "batch"),
    ("accounting_sync/bankmatch", "confirm_match", RECONCILE, "bank_match"),
    ("accounting_sync/bankmatch", "reject_match", RECONCILE, "bank_match"),
    ("accounting_sync/variance", "export_csv", None, "variance"),
    ("connectors/connection", "export_manual", EXPORT, "conn"),
    ("accounting_sync/outboxentry", "export_manual", EXPORT, "broken"),
    ("accounting_sync/attentionentry", "export_manual", EXPORT, "broken"),
    ("accounting_sync/exportbatch", "mark_entered", EXPORT, "batch"),
    ("connectors/connection", "resume_after_manual", SYNC, "conn"),
    ("connectors/connection", "disconnect", CONNECT, "conn"),  # last: the others need the connection connected
]
#: (page, the permissions any one of which opens it).
ADMIN_PAGES = [
    ("/admin/connectors/connection/", (VIEW_DASHBOARD, CONNECT)),
    ("/admin/connectors/connection/{conn}/change/", (VIEW_DASHBOARD, CONNECT)),
    ("/admin/connectors/connection/{conn}/connect/", (CONNECT,)),
    ("/admin/connectors/connection/{conn}/mappings/", (EDIT_MAPPINGS,)),
    ("/admin/connectors/connection/{conn}/mappings/export/", (EDIT_MAPPINGS, VIEW_MAPPINGS)),
    ("/admin/accounting_sync/outboxentry/dashboard/", (VIEW_DASHBOARD,)),
    ("/admin/accounting_sync/outboxentry/", (VIEW_DASHBOARD,)),
    ("/admin/accounting_sync/outboxentry/{broken}/change/", (VIEW_DASHBOARD,)),
    ("/admin/accounting_sync/attentionentry/", (VIEW_DASHBOARD,)),
    ("/admin/accounting_sync/synclog/", (VIEW_DASHBOARD,)),
    ("/admin/accounting_sync/externalreference/", (VIEW_DASHBOARD,)),
    ("/admin/accounting_sync/reconciliationrun/", (VIEW_DASHBOARD, RECONCILE)),
    ("/admin/accounting_sync/reconciliationrun/report/", (VIEW_DASHBOARD, RECONCILE)),
    ("/admin/accounting_sync/reconciliationrun/report/variances.csv", (VIEW_DASHBOARD, RECONCILE)),
    ("/admin/accounting_sync/reconciliationrun/{run}/totals.csv", (VIEW_DASHBOARD, RECONCILE)),
    ("/admin/accounting_sync/variance/", (VIEW_DASHBOARD, RECONCILE)),
    ("/admin/accounting_sync/bankmatch/", (VIEW_DASHBOARD, RECONCILE)),
    ("/admin/accounting_sync/exportbatch/", (VIEW_DASHBOARD, EXPORT)),
    ("/admin/accounting_sync/exportbatch/{batch}/change/", (VIEW_DASHBOARD, EXPORT)),
    ("/admin/accounting_sync/exportbatch/file/{file}/", (EXPORT,)),
    ("/admin/connectors/platformexport/add/", (EXPORT,)),
    ("/admin/accounting_sync/incident/", (VIEW_DASHBOARD,)),
    ("/admin/accounting_sync/alertrecipient/", (VIEW_DASHBOARD, CONNECT)),
    ("/admin/accounting_sync/alertrecipient/add/", (CONNECT,)),
    ("/admin/accounting_sync/auditrecord/", (VIEW_AUDIT,)),
    ("/admin/accounting_sync/auditrecord/{audit}/change/", (VIEW_AUDIT,)),
]


def page_url(template: str, world: dict) -> str:
    return template.format(**{k: getattr(v, "pk", v) for k, v in world.items()})


def post_action(client, world, changelist: str, action: str, target: str):
    return client.post(f"/admin/{changelist}/", {"action": action, "_selected_action": [world[target].pk]})


@pytest.mark.parametrize("changelist, action, perm, target", ADMIN_ACTIONS, ids=[f"{c.split('/')[1]}.{a}" for c, a, *_
                                                                                   in ADMIN_ACTIONS])
def test_staff_without_permissions_get_403_from_every_admin_action(client, world, changelist, action, perm, target):
    client.force_login(staff())
    assert post_action(client, world, changelist, action, target).status_code == 403


@pytest.mark.parametrize("page, openers", ADMIN_PAGES, ids=[p for p, _ in ADMIN_PAGES])
def test_staff_without_permissions_get_403_from_every_admin_page(client, world, page, openers):
    client.force_login(staff())
    assert client.get(page_url(page, world)).status_code == 403


@pytest.mark.parametrize("perm", ALL)
def test_each_permission_opens_exactly_its_admin_pages(client, world, perm):
    client.force_login(staff(perm))
    for page, openers in ADMIN_PAGES:
        status = client.get(page_url(page, world)).status_code
        if perm in openers:
            assert status in (200, 302), f"{perm} should open {page}: {status}"
        else:
            assert status == 403, f"{perm} should not open {page}: {status}"


@pytest.mark.parametrize("perm", ALL)
def test_each_permission_allows_exactly_its_admin_actions(client, world, perm):
    """With the dashboard's view permission (to see the lists) and ``perm``: its actions run, every other one is
    refused with 403."""
    client.force_login(staff(VIEW_DASHBOARD, perm))
    for changelist, action, needs, target in ADMIN_ACTIONS:
        status = post_action(client, world, changelist, action, target).status_code
        if needs is None or needs == perm:
            assert status in (200, 302), f"{perm}: {action} on {changelist} refused ({status})"
        else:
            assert status == 403, f"{perm}: {action} on {changelist} allowed ({status})"


def test_the_actions_do_what_they_say_for_those_allowed(client, world):
    client.force_login(staff(VIEW_DASHBOARD, SYNC))
    post_action(client, world, "accounting_sync/outboxentry", "retry", "broken")
    assert OutboxEntry.objects.get(pk=world["broken"].pk).status == EntryStatus.PENDING
    client.force_login(staff(VIEW_DASHBOARD, RECONCILE))
    post_action(client, world, "accounting_sync/bankmatch", "confirm_match", "bank_match")
    assert BankMatch.objects.get(pk=world["bank_match"].pk).bucket == BankBucket.MATCHED
    client.force_login(staff(VIEW_DASHBOARD, EXPORT))
    post_action(client, world, "connectors/connection", "export_batch", "files")
    assert ExportBatch.objects.filter(connection=world["files"]).count() == 2
    user = staff(CONNECT)
    client.force_login(user)
    post_action(client, world, "connectors/connection", "disconnect", "conn")
    conn = world["conn"]
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.NEEDS_REAUTH and not conn.access_token and not conn.refresh_token
    assert user.username in conn.status_message
    record = AuditRecord.objects.filter(operation="disconnect").get()
    assert record.actor == user.username and record.connection_id == conn.pk


def test_editing_a_connection_needs_connect(client, world):
    conn = world["conn"]
    url = f"/admin/connectors/connection/{conn.pk}/change/"
    client.force_login(staff(VIEW_DASHBOARD))
    page = client.get(url)
    assert page.status_code == 200 and 'name="name"' not in page.content.decode()  # read only
    assert client.post(url, {"name": "Renamed"}).status_code == 403
    assert client.get("/admin/connectors/connection/add/").status_code == 403
    client.force_login(staff(CONNECT))
    page = client.get(url)
    assert 'name="name"' in page.content.decode() and 'name="trigger_rules-TOTAL_FORMS"' in page.content.decode()
    assert client.get("/admin/connectors/connection/add/").status_code == 200


def test_connect_starts_the_platforms_sign_in_for_those_allowed(client, world):
    conn = world["conn"]
    client.force_login(staff(CONNECT))
    response = client.get(f"/admin/connectors/connection/{conn.pk}/connect/")
    assert response.status_code == 302 and "state=" in response["Location"]
    assert client.session["accounting_sync_oauth"]["connection"] == conn.pk
    page = client.get(f"/admin/connectors/connection/{conn.pk}/change/").content.decode()
    assert f"/admin/connectors/connection/{conn.pk}/connect/" in page


def test_the_dashboard_shows_only_the_actions_one_may_take(client, world):
    client.force_login(staff(VIEW_DASHBOARD, SYNC))
    page = client.get("/admin/connectors/connection/").content.decode()
    assert 'value="sync_now"' in page and 'value="retry_failed"' in page
    assert 'value="disconnect"' not in page and 'value="reconcile_now"' not in page
    assert 'value="export_batch"' not in page


# -- commands ----------------------------------------------------------------------------------------------------
def command_args(world: dict) -> dict:
    conn, files = world["conn"], world["files"]
    return {
        "accounting_sync_resync": (SYNC, ["--connection", conn.name, "--dry-run"]),
        "accounting_sync_retry": (SYNC, ["--connection", conn.name]),
        "accounting_sync_push": (SYNC, ["--connection", conn.name]),
        "accounting_sync_reconcile": (RECONCILE, ["--connection", conn.name, "--no-progress"]),
        "accounting_sync_export": (EXPORT, ["--connection", str(files.pk)]),
        "accounting_sync_audit": (VIEW_AUDIT, ["verify"]),
    }


COMMANDS = ["accounting_sync_resync", "accounting_sync_retry", "accounting_sync_push", "accounting_sync_reconcile",
            "accounting_sync_export", "accounting_sync_audit"]


def run_command(name: str, args: list[str], user: str | None):
    extra = ["--user", user] if user else []
    with contextlib.suppress(SystemExit):  # reconcile and audit verify say what they found with their exit status
        call_command(name, *extra, *args)


@pytest.mark.parametrize("name", COMMANDS)
def test_a_command_run_as_a_user_needs_the_actions_permission(world, name, capsys):
    perm, args = command_args(world)[name]
    others = [p for p in ACTION_PERMISSIONS if p != perm]
    refused = staff(*others)
    with pytest.raises(CommandError, match=f"{refused.username} may not do this: it needs the permission {perm}"):
        run_command(name, args, refused.username)
    with pytest.raises(CommandError, match="No active user 'nobody'"):
        run_command(name, args, "nobody")
    allowed = staff(perm)
    run_command(name, args, allowed.username)
    run_command(name, args, None)  # without --user: the operating-system user, as before


def test_a_command_run_as_a_user_records_that_user(world):
    user = staff(SYNC)
    call_command("accounting_sync_retry", "--connection", world["conn"].name, "--user", user.username)
    record = AuditRecord.objects.filter(operation="retry command").order_by("-pk").first()
    assert record.actor == f"{user.username} (command)"


def test_importing_mappings_as_a_user_needs_change_mapping(world, tmp_path):
    path = tmp_path / "rules.csv"
    call_command("accounting_sync_mappings", "--connection", world["conn"].name, "export", str(path))
    viewer = staff(VIEW_MAPPINGS)
    with pytest.raises(CommandError, match="needs the permission mappings.change_mapping"):
        call_command("accounting_sync_mappings", "--connection", world["conn"].name, "import", str(path),
                     "--user", viewer.username)
    editor = staff(EDIT_MAPPINGS)
    call_command("accounting_sync_mappings", "--connection", world["conn"].name, "import", str(path),
                 "--user", editor.username)


# -- the groups --------------------------------------------------------------------------------------------------
def test_the_migration_made_the_two_groups_with_their_permissions():
    migration = __import__("accounting_sync.migrations.0022_permissions_and_groups", fromlist=["GROUPS"])
    assert migration.GROUPS == permissions.GROUPS  # the migration's frozen copy agrees with the code
    for name, perms in permissions.GROUPS.items():
        group = Group.objects.get(name=name)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == set(perms)


def test_an_operator_syncs_and_exports_but_neither_connects_nor_reconciles(client, world):
    user = staff()
    user.groups.add(Group.objects.get(name=permissions.OPERATOR))
    user = User.objects.get(pk=user.pk)
    assert all(permissions.allowed(user, a) for a in ("view_dashboard", "sync", "export"))
    assert not any(permissions.allowed(user, a) for a in ("connect", "edit_mappings", "reconcile", "view_audit"))
    client.force_login(user)
    assert post_action(client, world, "accounting_sync/outboxentry", "retry", "broken").status_code == 302
    assert post_action(client, world, "connectors/connection", "reconcile_now", "conn").status_code == 403
    assert client.get("/admin/accounting_sync/auditrecord/").status_code == 403
    assert client.get(f"/admin/connectors/connection/{world['conn'].pk}/mappings/export/").status_code == 200


def test_a_finance_admin_may_do_everything(client, world):
    user = staff()
    user.groups.add(Group.objects.get(name=permissions.FINANCE_ADMIN))
    user = User.objects.get(pk=user.pk)
    assert all(permissions.allowed(user, a) for a in permissions.ACTIONS)
    client.force_login(user)
    for page, _ in ADMIN_PAGES:
        assert client.get(page_url(page, world)).status_code in (200, 302), page


def test_permissions_are_declared_once():
    declared = {f"accounting_sync.{codename}" for codename, _ in permissions.CUSTOM}
    assert set(permissions.ACTIONS.values()) - {EDIT_MAPPINGS} == declared
    assert Permission.objects.filter(content_type__app_label="accounting_sync",
                                     codename__in=[c for c, _ in permissions.CUSTOM]).count() == len(declared)
