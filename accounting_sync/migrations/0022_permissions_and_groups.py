"""One permission per staff action (accounting_sync.permissions), and the two ready-made groups.

The groups are created (or completed) idempotently: running this again, or on a database where staff already made a
group of that name, only adds the permissions it lacks. Reversing removes the two groups.
"""
from django.contrib.auth.management import create_permissions
from django.db import migrations

# A copy of accounting_sync.permissions.GROUPS as it was when this migration was written (a migration must not
# change with the code); tests/accounting_sync/test_permissions.py checks they agree.
OPERATOR = "Accounting sync operator"
FINANCE_ADMIN = "Accounting sync finance admin"
GROUPS = {
    OPERATOR: ("accounting_sync.view_dashboard", "accounting_sync.sync_connection", "accounting_sync.export_manual",
               "mappings.view_mapping", "accounting_sync.view_synclog"),
    FINANCE_ADMIN: ("accounting_sync.view_dashboard", "accounting_sync.sync_connection",
                    "accounting_sync.connect_connection", "accounting_sync.export_manual",
                    "accounting_sync.run_reconciliation", "accounting_sync.view_audit", "accounting_sync.view_synclog",
                    "mappings.view_mapping", "mappings.add_mapping", "mappings.change_mapping",
                    "mappings.delete_mapping"),
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran (post_migrate): create this migration's now.
    for label in ("accounting_sync", "mappings"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    for name, perms in GROUPS.items():
        group, _ = Group.objects.using(db).get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(Permission.objects.using(db).get(content_type__app_label=app_label,
                                                                   codename=codename))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounting_sync', '0021_alerts'),
        ('mappings', '0005_platform_dimensions'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='outboxentry',
            options={
                'ordering': ['-updated_at'],
                'permissions': (
                    ('view_dashboard', 'Can view the accounting sync dashboard'),
                    ('sync_connection', 'Can sync now, retry and resync'),
                    ('connect_connection', 'Can connect, disconnect and edit connections'),
                    ('export_manual', 'Can export documents for manual entry (file delivery)'),
                    ('run_reconciliation', 'Can run reconciliation and decide bank matches'),
                    ('view_audit', 'Can view the audit trail'),
                ),
                'verbose_name_plural': 'outbox entries',
            },
        ),
        migrations.RunPython(create_groups, remove_groups),
    ]
