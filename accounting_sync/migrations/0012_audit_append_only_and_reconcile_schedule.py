"""The audit table refuses UPDATE and DELETE on PostgreSQL (a trigger); the reconciliation Schedule; the chain head.

Other databases have no such trigger: there ``accounting_sync_audit verify`` is what finds a changed record.
"""
from django.db import migrations

RECONCILE = "accounting_sync.reconcile.tasks.reconcile_due"
TABLE = "accounting_sync_auditrecord"

REFUSE = f"""
CREATE OR REPLACE FUNCTION accounting_sync_audit_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'the audit trail is append-only: ' || TG_OP || ' on {TABLE} refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER accounting_sync_audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION accounting_sync_audit_refuse();
"""
ALLOW = f"""
DROP TRIGGER IF EXISTS accounting_sync_audit_append_only ON {TABLE};
DROP FUNCTION IF EXISTS accounting_sync_audit_refuse();
"""


def refuse_changes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REFUSE)


def allow_changes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW)


def create_schedule_and_head(apps, schema_editor):
    apps.get_model("accounting_sync", "AuditHead").objects.get_or_create(pk=1)
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        func=RECONCILE, defaults={"name": "accounting_sync reconciliation", "schedule_type": "I", "minutes": 1,
                                  "repeats": -1})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=RECONCILE).delete()


class Migration(migrations.Migration):
    dependencies = [("accounting_sync", "0011_reconciliation_and_audit"), ("django_q", "0018_task_success_index")]
    operations = [
        migrations.RunPython(refuse_changes, allow_changes),
        migrations.RunPython(create_schedule_and_head, remove_schedule),
    ]
