"""The audit trail gets one hash chain per connection (and one, ``global``, for records without a connection), so
workers of different connections no longer append one after the other.

The records already written stay as they were hashed, in a closed chain named ``legacy`` that ``verify`` checks as
before; the head that ended them becomes the legacy chain's head, and a record of the global chain seals it (its
number of records, last ``seq`` and last hash), as every later chain is opened by one. A database without records
starts with the global chain only. On PostgreSQL a trigger now guards the heads too: no DELETE, and an UPDATE only
to advance a head by one, to the record of its chain just appended. Going back is refused once any record lies
outside the legacy chain (they cannot be merged into one chain without rewriting their hashes); on an empty trail
it restores the single head.
"""
import datetime as dt
import hashlib
import json

from django.core.management.color import no_style
from django.db import connections, migrations, models
from django.utils import timezone

GENESIS = "0" * 64
HEADS = "accounting_sync_audithead"
RECORDS = "accounting_sync_auditrecord"
#: The hashing recipe of ``accounting_sync.audit.canonical`` for a chained record, copied so that this migration
#: keeps writing what it wrote whatever the code becomes.
HASHED = ("chain", "seq", "at", "kind", "actor", "connection_id", "connection_name", "source_key", "entity",
          "operation", "outcome", "remote_id", "detail")

GUARD = f"""
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
CREATE TRIGGER accounting_sync_audit_head_guard BEFORE UPDATE OR DELETE ON {HEADS}
    FOR EACH ROW EXECUTE FUNCTION accounting_sync_audit_head_guard();
"""
UNGUARD = f"""
DROP TRIGGER IF EXISTS accounting_sync_audit_head_guard ON {HEADS};
DROP FUNCTION IF EXISTS accounting_sync_audit_head_guard();
"""


def guard_heads(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD)


def unguard_heads(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD)


def digest(record) -> str:
    fields = {name: getattr(record, name) for name in HASHED}
    fields["at"] = record.at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((text + record.prev_hash).encode()).hexdigest()


def split_into_chains(apps, schema_editor):
    """Existing records (and the single head, pk 1) make up the closed legacy chain, sealed in the global chain."""
    Head = apps.get_model("accounting_sync", "AuditHead")
    Record = apps.get_model("accounting_sync", "AuditRecord")
    db = connections[Head.objects.db]
    with db.cursor() as cursor:  # the single head was created as pk 1, which the id sequence does not know yet
        for sql in db.ops.sequence_reset_sql(no_style(), [Head]):
            cursor.execute(sql)
    count = Record.objects.count()  # all in the legacy chain: the column's default
    if not count:
        Head.objects.filter(chain="legacy").update(chain="global")
        Head.objects.get_or_create(chain="global")
        return
    last = Record.objects.order_by("-seq").first()
    seal = Record(chain="global", seq=1, at=timezone.now(), kind="chain", operation="chain opened", outcome="done",
                  detail={"chain": "legacy", "connection_id": None, "records": count, "last_seq": last.seq,
                          "last_hash": last.hash}, prev_hash=GENESIS)
    seal.hash = digest(seal)
    seal.save(force_insert=True)
    Head.objects.create(chain="global", seq=1, hash=seal.hash)


def merge_back(apps, schema_editor):
    Head = apps.get_model("accounting_sync", "AuditHead")
    Record = apps.get_model("accounting_sync", "AuditRecord")
    if Record.objects.exclude(chain="legacy").exists():
        raise RuntimeError("audit records were appended to per-connection chains (or the legacy chain was sealed): "
                           "they cannot be merged back into one chain without rewriting their hashes")
    Head.objects.exclude(chain="legacy").delete()
    if not Head.objects.exists():
        Head.objects.create(pk=1, chain="legacy")


class Migration(migrations.Migration):
    dependencies = [("accounting_sync", "0013_reconciliation_document_checks")]
    operations = [
        migrations.AddField("auditrecord", "chain", models.CharField(
            default="legacy", max_length=40, help_text="connection:<id>, global (no connection) or legacy")),
        migrations.AlterField("auditrecord", "seq", models.PositiveBigIntegerField(
            help_text="Position in its chain, from 1, without gaps")),
        migrations.AddConstraint("auditrecord", models.UniqueConstraint(
            fields=["chain", "seq"], name="accounting_sync_audit_chain_seq")),
        migrations.AddField("audithead", "chain", models.CharField(default="legacy", max_length=40)),
        migrations.AlterField("auditrecord", "kind", models.CharField(choices=[
            ("attempt", "Sync attempt"), ("inbound", "Platform change applied"), ("staff", "Staff action"),
            ("chain", "Chain opened")], max_length=10)),
        migrations.RunPython(split_into_chains, merge_back),
        migrations.AlterField("audithead", "chain", models.CharField(max_length=40, unique=True)),
        migrations.AlterField("auditrecord", "chain", models.CharField(
            max_length=40, help_text="connection:<id>, global (no connection) or legacy")),
        migrations.AlterModelOptions("auditrecord", {"ordering": ["chain", "seq"], "verbose_name": "audit record"}),
        migrations.AddIndex("auditrecord", models.Index(fields=["at", "chain", "seq"],
                                                        name="accounting_sync_audit_at")),
        migrations.RunPython(guard_heads, unguard_heads),
    ]
