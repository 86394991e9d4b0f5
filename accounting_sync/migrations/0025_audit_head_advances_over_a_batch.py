"""On PostgreSQL the audit heads' guard lets a head advance over several records appended at once (a chunk of
documents sent in one batch writes its records with one INSERT and moves the head once), still only forward, only
to a record of its chain that exists with that hash, and only when the first record after the old head continues
from it (its ``prev_hash`` is the old head's hash). Records themselves stay append-only as before.
"""
from django.db import migrations

HEADS = "accounting_sync_audithead"
RECORDS = "accounting_sync_auditrecord"
MESSAGE = (f"'the audit trail is append-only: ' || TG_OP || ' on {HEADS} refused (a head only advances to "
           "the records just appended to its chain)'")

BATCH_GUARD = f"""
CREATE OR REPLACE FUNCTION accounting_sync_audit_head_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.chain = OLD.chain AND NEW.seq > OLD.seq
       AND EXISTS (SELECT 1 FROM {RECORDS} r WHERE r.chain = NEW.chain AND r.seq = NEW.seq AND r.hash = NEW.hash)
       AND EXISTS (SELECT 1 FROM {RECORDS} r WHERE r.chain = NEW.chain AND r.seq = OLD.seq + 1
                   AND r.prev_hash = OLD.hash)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = {MESSAGE};
END;
$$ LANGUAGE plpgsql;
"""
#: What migration 0014 installed: one record at a time.
SINGLE_GUARD = f"""
CREATE OR REPLACE FUNCTION accounting_sync_audit_head_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.chain = OLD.chain AND NEW.seq = OLD.seq + 1
       AND EXISTS (SELECT 1 FROM {RECORDS} r WHERE r.chain = NEW.chain AND r.seq = NEW.seq AND r.hash = NEW.hash)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'the audit trail is append-only: ' || TG_OP || ' on {HEADS} refused (a head only advances to '
                  'the record just appended to its chain)';
END;
$$ LANGUAGE plpgsql;
"""


def batch_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BATCH_GUARD)


def single_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SINGLE_GUARD)


class Migration(migrations.Migration):
    dependencies = [("accounting_sync", "0024_manual_entry_batches")]
    operations = [migrations.RunPython(batch_guard, single_guard)]
