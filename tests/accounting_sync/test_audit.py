"""The tamper-evident audit trail (issue 16): every transfer and staff action appended to a hash chain that
``accounting_sync_audit verify`` checks; PostgreSQL refuses to change it at all."""
import contextlib
import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection as db, transaction

from accounting_sync import audit, inbound
from accounting_sync.audit.models import AuditHead, AuditKind, AuditRecord
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, SyncLog
from tests.conftest import at_once, drain

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif("config.getoption('--ds', None) is None and "
                                   "__import__('django.conf').conf.settings.DATABASES['default']['ENGINE']"
                                   ".endswith('sqlite3')", reason="PostgreSQL only")


def on_postgres() -> bool:
    return db.vendor == "postgresql"


@contextlib.contextmanager
def tampering():
    """What someone with direct database access does: on PostgreSQL, with the append-only trigger bypassed."""
    if on_postgres():
        with db.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        if on_postgres():
            with db.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")


def trail(count: int = 5) -> list[AuditRecord]:
    for n in range(count):
        audit.append(AuditKind.ATTEMPT, connection_id=1, source_key=f"ledger.invoice:{n}", entity="invoice",
                     operation="create", outcome="success", remote_id=str(100 + n), detail={"amount": "10.00"})
    return list(AuditRecord.objects.order_by("seq"))


def verify_command() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("accounting_sync_audit", "verify", stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_each_record_commits_to_the_previous_one():
    records = trail(3)
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].prev_hash == "0" * 64
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert all(audit.digest(r) == r.hash for r in records)
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (3, records[-1].hash)
    assert audit.verify() == [] and verify_command() == (0, "The audit trail is intact: 3 records, chain unbroken.\n")


def test_sync_attempts_and_inbound_changes_are_recorded(make_connection, org, make_invoice, sandbox):
    conn = make_connection(org, direction="both")
    invoice = make_invoice()
    drain()
    ref = ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    sandbox.store.record_payment_as_user(ref.remote_id, "40.00", ref_num="CHK-9")
    assert inbound.pull(conn).applied == 1
    records = list(AuditRecord.objects.order_by("seq"))
    assert len(records) == SyncLog.objects.count()  # one per attempt and per change applied
    kinds = {(r.kind, r.entity, r.operation, r.outcome) for r in records}
    assert (AuditKind.ATTEMPT, "invoice", "create (batch)", "success") in kinds
    assert (AuditKind.INBOUND, "payment", "pull payment", "success") in kinds
    create = next(r for r in records if r.entity == "invoice" and r.operation.startswith("create"))
    assert (create.connection_id, create.connection_name, create.remote_id) == (conn.pk, conn.name, ref.remote_id)
    assert len(create.detail["exchanges_sha256"]) == 64  # the HTTP exchanges of the attempt, as logged
    assert audit.verify() == []


def test_a_failed_attempt_is_recorded_even_though_nothing_was_written(connection, make_invoice, sandbox):
    sandbox.faults.add("http_503", count=None, match="POST /batch")
    make_invoice()
    drain()
    sandbox.faults.clear()
    sandbox.faults.fired.clear()  # the history is kept across tests; others read its first entry
    failed = AuditRecord.objects.filter(kind=AuditKind.ATTEMPT, outcome="retry")
    assert failed.exists() and AuditRecord.objects.count() == SyncLog.objects.count()
    assert failed.first().detail["http_status"] == 503


def test_staff_actions_are_recorded_with_who_did_them(admin_client, admin_user, connection, make_invoice):
    make_invoice()
    drain()
    entry = OutboxEntry.objects.get(entity="invoice")
    OutboxEntry.objects.filter(pk=entry.pk).update(status=EntryStatus.NEEDS_ATTENTION)
    response = admin_client.post("/admin/accounting_sync/outboxentry/", {"action": "retry",
                                                                         "_selected_action": [entry.pk]})
    assert response.status_code == 302
    admin_client.post("/admin/connectors/connection/", {"action": "sync_now", "_selected_action": [connection.pk]})
    staff = list(AuditRecord.objects.filter(kind=AuditKind.STAFF).order_by("seq"))
    assert [(r.actor, r.detail["change"], r.connection_id) for r in staff] == [
        (admin_user.username, "Retry requested", connection.pk),
        (admin_user.username, "Sync now (1 entries queued)", connection.pk)]
    assert audit.verify() == []


def test_edited_record_is_found():
    records = trail()
    with tampering():
        AuditRecord.objects.filter(seq=3).update(outcome="failed")
    [problem] = audit.verify()
    assert (problem.seq, problem.kind) == (3, "edited")
    code, out = verify_command()
    assert code == 1 and "#3 edited" in out


def test_record_edited_together_with_its_hash_is_found_by_the_next_one():
    trail()
    record = AuditRecord.objects.get(seq=2)
    record.detail = {"amount": "99.00"}
    with tampering():
        AuditRecord.objects.filter(seq=2).update(detail=record.detail, hash=audit.digest(record))
    assert [(p.seq, p.kind) for p in audit.verify()] == [(2, "replaced")]  # #3 no longer follows #2


def test_deleted_record_is_found():
    trail()
    with tampering():
        AuditRecord.objects.filter(seq=3).delete()
    [problem] = audit.verify()
    assert (problem.seq, problem.kind) == (3, "deleted")
    code, out = verify_command()
    assert code == 1 and "record #3 deleted" in out


def test_deleted_newest_records_are_found():
    trail()
    with tampering():
        AuditRecord.objects.filter(seq__gte=4).delete()
    [problem] = audit.verify()
    assert (problem.seq, problem.kind) == (4, "truncated")


def test_reordered_records_are_found():
    trail()
    with tampering():  # records #2 and #3 change places
        AuditRecord.objects.filter(seq=2).update(seq=1000)
        AuditRecord.objects.filter(seq=3).update(seq=2)
        AuditRecord.objects.filter(seq=1000).update(seq=3)
    problems = audit.verify()
    assert [(p.seq, p.kind) for p in problems] == [(2, "reordered"), (3, "reordered")]
    assert problems[0].message == "record #2 was appended as #3: records were reordered"
    assert verify_command()[0] == 1


def test_export_of_a_period_as_csv_and_json(tmp_path):
    records = trail(4)
    since, until = records[1].at, records[3].at
    out = StringIO()
    call_command("accounting_sync_audit", "export", "--since", since.isoformat(), "--until", until.isoformat(),
                 "--format", "csv", stdout=out, stderr=StringIO())
    rows = list(csv.DictReader(StringIO(out.getvalue())))
    assert [int(r["seq"]) for r in rows] == [2, 3]
    assert rows[0]["hash"] == records[1].hash and json.loads(rows[0]["detail"]) == {"amount": "10.00"}
    target = tmp_path / "trail.json"
    call_command("accounting_sync_audit", "export", "--format", "json", "--output", str(target), stderr=StringIO())
    exported = json.loads(target.read_text())["records"]
    assert [r["seq"] for r in exported] == [1, 2, 3, 4]
    # An auditor recomputes each hash from the export alone.
    for row in exported:
        record = AuditRecord(**{k: v for k, v in row.items() if k not in ("at", "hash")})
        record.at = AuditRecord.objects.get(seq=row["seq"]).at
        assert audit.digest(record) == row["hash"]


@pytest.mark.skipif("not __import__('os').environ.get('DATABASE_URL', '').startswith('postgres')",
                    reason="the append-only trigger exists on PostgreSQL only")
def test_postgres_refuses_update_and_delete():
    trail(2)
    for change in (lambda: AuditRecord.objects.filter(seq=1).update(outcome="failed"),
                   lambda: AuditRecord.objects.filter(seq=2).delete()):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()
    assert audit.verify() == [] and AuditRecord.objects.count() == 2


@pytest.mark.skipif("not __import__('os').environ.get('DATABASE_URL', '').startswith('postgres')",
                    reason="concurrent writers need a server database")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain():
    def work():
        for _ in range(10):
            audit.append(AuditKind.STAFF, operation="concurrent")

    assert at_once(6, work) == []
    assert AuditRecord.objects.count() == 60
    assert audit.verify() == []


def test_resync_and_retry_commands_and_mapping_edits_are_recorded(connection, make_invoice, admin_user, rf):
    from django.contrib import admin

    from connectors.models import Connection
    from mappings.models import Mapping

    make_invoice()
    drain()
    call_command("accounting_sync_resync", connection=connection.name, force=True, queue=True, stdout=StringIO())
    call_command("accounting_sync_retry", connection=connection.name, stdout=StringIO())
    request = rf.post("/")
    request.user = admin_user
    rule = Mapping.objects.filter(connection=connection).first()
    admin.site._registry[Connection].log_change(request, rule, [{"changed": {"fields": ["Remote id"]}}])
    staff = list(AuditRecord.objects.filter(kind=AuditKind.STAFF).order_by("seq"))
    assert [(r.operation, r.connection_id) for r in staff] == [
        ("resync command", connection.pk), ("retry command", connection.pk), ("admin change", connection.pk)]
    assert staff[0].actor.endswith("(command)") and staff[0].detail["force"] is True
    assert staff[2].actor == admin_user.username and staff[2].source_key == f"mappings.mapping:{rule.pk}"
    assert audit.verify() == []
