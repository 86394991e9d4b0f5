"""The tamper-evident audit trail (issue 16): every transfer and staff action appended to a hash chain, one per
connection, that ``accounting_sync_audit verify`` checks; PostgreSQL refuses to change it at all."""
import contextlib
import csv
import datetime as dt
import hashlib
import importlib
import json
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection as db, transaction
from django.utils import timezone

from accounting_sync import audit
from accounting_sync.inbound import sync as inbound
from accounting_sync.audit.models import GENESIS, GLOBAL, LEGACY, AuditHead, AuditKind, AuditRecord
from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, SyncLog
from tests.conftest import at_once, drain

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif("not __import__('os').environ.get('DATABASE_URL', '').startswith('postgres')",
                                   reason="PostgreSQL only")
C1 = "connection:1"


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


def trail(count: int = 5, connection_id: int = 1) -> list[AuditRecord]:
    """``count`` records in the connection's chain (the first one opens it, with a record in the global chain)."""
    for n in range(count):
        audit.append(AuditKind.ATTEMPT, connection_id=connection_id, source_key=f"ledger.invoice:{n}",
                     entity="invoice", operation="create", outcome="success", remote_id=str(100 + n),
                     detail={"amount": "10.00"})
    return list(AuditRecord.objects.filter(chain=audit.chain_of(connection_id)).order_by("seq"))


def found(problems=None) -> list[tuple]:
    return [(p.chain, p.seq, p.kind) for p in (audit.verify() if problems is None else problems)]


def verify_command() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("accounting_sync_audit", "verify", stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_each_record_commits_to_the_previous_one_of_its_chain():
    records = trail(3)
    assert [(r.chain, r.seq) for r in records] == [(C1, 1), (C1, 2), (C1, 3)]
    assert records[0].prev_hash == GENESIS
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert all(audit.digest(r) == r.hash for r in records)
    head = AuditHead.objects.get(chain=C1)
    assert (head.seq, head.hash) == (3, records[-1].hash)
    [opening] = AuditRecord.objects.filter(chain=GLOBAL)  # the chain was opened in the global chain
    assert (opening.seq, opening.kind, opening.detail) == (1, AuditKind.CHAIN, {"chain": C1, "connection_id": 1})
    assert audit.digest(opening) == opening.hash and "chain" in json.loads(audit.canonical(opening)[:-64])
    assert audit.verify() == []
    assert verify_command() == (0, "The audit trail is intact: 4 records in 2 chains, every chain unbroken.\n")


def test_each_connection_has_its_own_chain():
    trail(3, connection_id=1)
    trail(2, connection_id=2)
    staff = audit.append(AuditKind.STAFF, actor="alice", operation="admin change")  # no connection: global
    chains = {}
    for record in AuditRecord.objects.order_by("chain", "seq"):
        chains.setdefault(record.chain, []).append(record.seq)
    assert chains == {C1: [1, 2, 3], "connection:2": [1, 2], GLOBAL: [1, 2, 3]}
    assert (staff.chain, staff.seq) == (GLOBAL, 3)
    assert AuditRecord.objects.get(chain="connection:2", seq=1).prev_hash == GENESIS
    assert audit.verify() == []


def test_sync_attempts_and_inbound_changes_are_recorded(make_connection, org, make_invoice, sandbox):
    conn = make_connection(org, direction="both")
    invoice = make_invoice()
    drain()
    ref = ExternalReference.objects.get(source_key=f"ledger.invoice:{invoice.pk}")
    sandbox.store.record_payment_as_user(ref.remote_id, "40.00", ref_num="CHK-9")
    assert inbound.pull(conn).applied == 1
    records = list(AuditRecord.objects.exclude(kind=AuditKind.CHAIN).order_by("at"))
    assert len(records) == SyncLog.objects.count()  # one per attempt and per change applied
    assert {r.chain for r in records} == {f"connection:{conn.pk}"}
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
    assert failed.exists() and AuditRecord.objects.exclude(kind=AuditKind.CHAIN).count() == SyncLog.objects.count()
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
    staff = list(AuditRecord.objects.filter(kind=AuditKind.STAFF).order_by("at"))
    assert [(r.actor, r.detail["change"], r.connection_id) for r in staff] == [
        (admin_user.username, "Retry requested", connection.pk),
        (admin_user.username, "Sync now (1 entry queued)", connection.pk)]
    assert audit.verify() == []


@pytest.fixture(params=[1, 2])
def chain(request):
    """Two connections' chains; the tampering happens in ``chain`` and must be named there, the other stays sound."""
    trail(5, connection_id=1)
    trail(5, connection_id=2)
    return f"connection:{request.param}"


def test_edited_record_is_found(chain):
    with tampering():
        AuditRecord.objects.filter(chain=chain, seq=3).update(outcome="failed")
    assert found() == [(chain, 3, "edited")]
    code, out = verify_command()
    assert code == 1 and f"{chain} #3 edited" in out


def test_record_edited_together_with_its_hash_is_found_by_the_next_one(chain):
    record = AuditRecord.objects.get(chain=chain, seq=2)
    record.detail = {"amount": "99.00"}
    with tampering():
        AuditRecord.objects.filter(pk=record.pk).update(detail=record.detail, hash=audit.digest(record))
    assert found() == [(chain, 2, "replaced")]  # #3 no longer follows #2


def test_deleted_record_is_found(chain):
    with tampering():
        AuditRecord.objects.filter(chain=chain, seq=3).delete()
    assert found() == [(chain, 3, "deleted")]
    code, out = verify_command()
    assert code == 1 and f"{chain} #3 deleted: record #3 deleted" in out


def test_deleted_newest_records_are_found(chain):
    with tampering():
        AuditRecord.objects.filter(chain=chain, seq__gte=4).delete()
    assert found() == [(chain, 4, "truncated")]


def test_reordered_records_are_found(chain):
    with tampering():  # records #2 and #3 change places
        AuditRecord.objects.filter(chain=chain, seq=2).update(seq=1000)
        AuditRecord.objects.filter(chain=chain, seq=3).update(seq=2)
        AuditRecord.objects.filter(chain=chain, seq=1000).update(seq=3)
    problems = audit.verify()
    assert found(problems) == [(chain, 2, "reordered"), (chain, 3, "reordered")]
    assert problems[0].message == "record #2 was appended as #3: records were reordered"
    assert verify_command()[0] == 1


def test_record_moved_to_another_chain_is_found(chain):
    other = "connection:2" if chain == C1 else C1
    with tampering():  # the newest record of one chain passed off as the newest of the other
        AuditRecord.objects.filter(chain=other, seq=5).update(chain=chain, seq=6)
        AuditHead.objects.filter(chain=other).update(seq=4, hash=AuditRecord.objects.get(chain=other, seq=4).hash)
        AuditHead.objects.filter(chain=chain).update(seq=6, hash=AuditRecord.objects.get(chain=chain, seq=6).hash)
    assert found() == [(chain, 6, "edited")]  # the chain is hashed: the record does not belong there


def test_a_chain_deleted_whole_is_found(chain):
    with tampering():  # every record of the connection and its head
        AuditRecord.objects.filter(chain=chain).delete()
        AuditHead.objects.filter(chain=chain).delete()
    problems = audit.verify()
    assert found(problems) == [(chain, 1, "vanished")]
    assert "all its records and its head were deleted" in problems[0].message
    assert verify_command()[0] == 1


def test_a_chain_without_records_but_its_head_is_found(chain):
    with tampering():
        AuditRecord.objects.filter(chain=chain).delete()
    assert found() == [(chain, 1, "truncated")]


def test_a_deleted_head_is_found(chain):
    with tampering():
        AuditHead.objects.filter(chain=chain).delete()
    assert found() == [(chain, 5, "headless")]


def test_a_deleted_global_chain_leaves_the_others_unopened(chain):
    with tampering():
        AuditRecord.objects.filter(chain=GLOBAL).delete()
        AuditHead.objects.filter(chain=GLOBAL).delete()
    assert found() == [(C1, 0, "unopened"), ("connection:2", 0, "unopened")]


def test_a_made_up_chain_is_found():
    trail(2)
    record = AuditRecord(chain="connection:9", seq=1, at=AuditRecord.objects.first().at, kind=AuditKind.ATTEMPT,
                         connection_id=9, prev_hash=GENESIS)
    record.hash = audit.digest(record)
    with tampering():
        record.save(force_insert=True)
        AuditHead.objects.create(chain="connection:9", seq=1, hash=record.hash)
    assert found() == [("connection:9", 0, "unopened")]


def test_a_deleted_connection_keeps_its_chain(connection, make_invoice):
    make_invoice()
    drain()
    chain = audit.chain_of(connection.pk)
    count = AuditRecord.objects.filter(chain=chain).count()
    assert count
    connection.delete()
    assert AuditRecord.objects.filter(chain=chain).count() == count and AuditHead.objects.filter(chain=chain).exists()
    assert audit.verify() == []


def old_digest(record: AuditRecord) -> str:
    """How records were hashed while there was one chain: without ``chain``."""
    fields = {name: getattr(record, name) for name in audit.LEGACY_HASHED}
    fields["at"] = record.at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return hashlib.sha256((json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
                           + record.prev_hash).encode()).hexdigest()


def legacy_trail(count: int = 4) -> None:
    """Records of the single chain, as they were before migration 0014, then that migration's split."""
    from django.apps import apps

    migration = importlib.import_module("accounting_sync.migrations.0014_audit_chain_per_connection")
    with tampering():
        AuditHead.objects.all().delete()
        previous = GENESIS
        for seq in range(1, count + 1):
            record = AuditRecord(chain=LEGACY, seq=seq, at=timezone.now(), kind=AuditKind.ATTEMPT, connection_id=1,
                                 operation="create", outcome="success", detail={"n": seq}, prev_hash=previous)
            record.hash = previous = old_digest(record)
            record.save(force_insert=True)
        AuditHead.objects.create(chain=LEGACY, seq=count, hash=previous)
    migration.split_into_chains(apps, None)


def test_records_of_the_single_chain_stay_verifiable_in_the_legacy_chain():
    legacy_trail()
    seal = AuditRecord.objects.get(chain=GLOBAL)
    assert seal.seq == 1 and seal.detail["chain"] == LEGACY and seal.detail["last_seq"] == 4
    assert audit.digest(seal) == seal.hash  # the migration hashes as the code does
    trail(2)  # new records go to their connection's chain, never to the legacy one
    assert AuditRecord.objects.filter(chain=LEGACY).count() == 4 and audit.verify() == []
    with tampering():
        AuditRecord.objects.filter(chain=LEGACY, seq=2).update(outcome="failed")
    assert found() == [(LEGACY, 2, "edited")]


def test_a_cut_legacy_chain_is_found_by_its_seal():
    legacy_trail()
    with tampering():  # the newest legacy record deleted and the head moved back to match: the seal still knows
        AuditRecord.objects.filter(chain=LEGACY, seq=4).delete()
        AuditHead.objects.filter(chain=LEGACY).update(seq=3, hash=AuditRecord.objects.get(chain=LEGACY, seq=3).hash)
    assert found() == [(LEGACY, 3, "truncated")]


def test_export_of_a_period_as_csv_and_json(tmp_path):
    records = trail(4)
    other = trail(1, connection_id=2)
    since, until = records[1].at, records[3].at
    out = StringIO()
    call_command("accounting_sync_audit", "export", "--since", since.isoformat(), "--until", until.isoformat(),
                 "--format", "csv", stdout=out, stderr=StringIO())
    rows = list(csv.DictReader(StringIO(out.getvalue())))
    assert [(r["chain"], int(r["seq"])) for r in rows] == [(C1, 2), (C1, 3)]
    assert rows[0]["hash"] == records[1].hash and json.loads(rows[0]["detail"]) == {"amount": "10.00"}
    target = tmp_path / "trail.json"
    call_command("accounting_sync_audit", "export", "--format", "json", "--output", str(target), stderr=StringIO())
    exported = json.loads(target.read_text())["records"]
    assert [(r["chain"], r["seq"]) for r in exported] == [  # by time, across chains
        (GLOBAL, 1), (C1, 1), (C1, 2), (C1, 3), (C1, 4), (GLOBAL, 2), ("connection:2", 1)]
    assert exported[-1]["hash"] == other[0].hash
    # An auditor recomputes each hash from the export alone, and follows each chain's links.
    last = {}
    for row in exported:
        record = AuditRecord(**{k: v for k, v in row.items() if k not in ("at", "hash")})
        record.at = AuditRecord.objects.get(chain=row["chain"], seq=row["seq"]).at
        assert audit.digest(record) == row["hash"] and row["prev_hash"] == last.get(row["chain"], GENESIS)
        last[row["chain"]] = row["hash"]


@pytest.mark.skipif("not __import__('os').environ.get('DATABASE_URL', '').startswith('postgres')",
                    reason="the append-only trigger exists on PostgreSQL only")
def test_postgres_refuses_update_and_delete():
    trail(2)
    head = AuditHead.objects.get(chain=C1)
    for change in (lambda: AuditRecord.objects.filter(chain=C1, seq=1).update(outcome="failed"),
                   lambda: AuditRecord.objects.filter(chain=C1, seq=2).delete(),
                   lambda: AuditHead.objects.filter(chain=C1).delete(),
                   lambda: AuditHead.objects.filter(chain=C1).update(seq=1),  # moved back, to hide a truncation
                   lambda: AuditHead.objects.filter(chain=C1).update(seq=3, hash=head.hash),  # to no record
                   lambda: AuditHead.objects.filter(chain=C1).update(chain="connection:5")):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()
    trail(1)  # an append still advances the head
    assert audit.verify() == [] and AuditRecord.objects.filter(chain=C1).count() == 3


def test_records_appended_together_chain_as_if_appended_one_by_one():
    trail(2)
    written = audit.append_many(
        [dict(kind=AuditKind.ATTEMPT, connection_id=1, source_key=f"ledger.invoice:{n}", outcome="success")
         for n in (7, 8, 9)] + [dict(kind=AuditKind.STAFF, actor="bob", operation="admin change"),
                                dict(kind=AuditKind.ATTEMPT, connection_id=3, source_key="ledger.invoice:1")])
    chain = list(AuditRecord.objects.filter(chain=C1).order_by("seq"))
    assert [(r.seq, r.source_key) for r in chain[2:]] == [(3, "ledger.invoice:7"), (4, "ledger.invoice:8"),
                                                          (5, "ledger.invoice:9")]
    assert [r.prev_hash for r in chain[1:]] == [r.hash for r in chain[:-1]]
    assert all(audit.digest(r) == r.hash for r in chain)
    assert AuditHead.objects.get(chain=C1).seq == 5
    assert {(r.chain, r.seq) for r in written} >= {(GLOBAL, 3), ("connection:3", 1)}  # a chain opened on the way
    assert audit.verify() == []


@pytest.mark.skipif("not __import__('os').environ.get('DATABASE_URL', '').startswith('postgres')",
                    reason="the append-only trigger exists on PostgreSQL only")
def test_postgres_lets_a_head_advance_only_over_records_that_continue_it():
    trail(2)
    head = AuditHead.objects.get(chain=C1)
    with tampering():  # records written past the head that do not continue from it
        forged = [AuditRecord(chain=C1, seq=seq, at=timezone.now(), kind=AuditKind.ATTEMPT, prev_hash=GENESIS,
                              hash=f"{seq:064d}") for seq in (3, 4)]
        AuditRecord.objects.bulk_create(forged)
    for record in forged:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditHead.objects.filter(chain=C1).update(seq=record.seq, hash=record.hash)
    assert AuditHead.objects.get(chain=C1).seq == head.seq


@pytest.mark.skipif("not __import__('os').environ.get('DATABASE_URL', '').startswith('postgres')",
                    reason="concurrent writers need a server database")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain():
    def work():  # three connections' chains opened at once, by two writers each, and the global one
        for n in range(10):
            audit.append(AuditKind.STAFF, operation="concurrent")
            audit.append(AuditKind.ATTEMPT, connection_id=7 + n % 3, operation="concurrent")

    assert at_once(6, work) == []
    assert AuditRecord.objects.exclude(kind=AuditKind.CHAIN).count() == 120
    assert AuditRecord.objects.filter(kind=AuditKind.CHAIN).count() == 3  # each chain opened once
    assert AuditHead.objects.get(chain="connection:7").seq == 24
    assert audit.verify() == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_appends_of_two_connections_do_not_wait_on_each_other():
    trail(1, connection_id=1)
    trail(1, connection_id=2)  # both chains opened (opening a chain takes the global head, once)
    appended, release, errors, took = threading.Event(), threading.Event(), [], {}

    def hold_connection_1():
        try:
            with transaction.atomic():
                audit.append(AuditKind.ATTEMPT, connection_id=1, operation="held open")
                appended.set()
                release.wait(20)
        except Exception as exc:  # pragma: no cover - the test asserts there are none
            errors.append(exc)
        finally:
            appended.set()
            db.close()

    def append_with_timeout(connection_id: int) -> None:
        start = time.monotonic()
        with transaction.atomic():
            with db.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            audit.append(AuditKind.ATTEMPT, connection_id=connection_id, operation="alongside")
        took[connection_id] = time.monotonic() - start

    def append_for_others():
        try:
            assert appended.wait(20)
            append_with_timeout(2)  # another connection: commits while connection 1's transaction is open
            with pytest.raises(DatabaseError, match="lock timeout"):
                append_with_timeout(1)  # the same connection: waits for it (and gives up after the timeout)
        except BaseException as exc:  # pragma: no cover - the test asserts there are none
            errors.append(exc)
        finally:
            release.set()
            db.close()

    threads = [threading.Thread(target=hold_connection_1), threading.Thread(target=append_for_others)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and 2 in took and 1 not in took  # 2 committed within its lock timeout, 1 gave up
    assert [r.operation for r in AuditRecord.objects.filter(chain="connection:2").order_by("seq")] == [
        "create", "alongside"]
    assert AuditHead.objects.get(chain=C1).seq == 2 and audit.verify() == []


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
    staff = list(AuditRecord.objects.filter(kind=AuditKind.STAFF).order_by("at"))
    assert [(r.operation, r.connection_id) for r in staff] == [
        ("resync command", connection.pk), ("retry command", connection.pk), ("admin change", connection.pk)]
    assert staff[0].actor.endswith("(command)") and staff[0].detail["force"] is True
    assert staff[2].actor == admin_user.username and staff[2].source_key == f"mappings.mapping:{rule.pk}"
    assert audit.verify() == []
