"""Refunds, expenses and journals changed on QuickBooks Online and Xero come in (issue 23): voided or deleted there
-> voided here, where the connection's sync table lets that operation in; an amount edited there is never applied
(a conflict, an attention item, a reconciliation variance); nothing that came in goes back out as a write."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from accounting_sync.core.sources import SourceAdapter
from accounting_sync.inbound import sync
from accounting_sync.ledger_adapters import RefundAdapter
from accounting_sync.models import EntryStatus, OutboxEntry, Outcome, RemoteStatus, SyncLog
from accounting_sync.reconcile import engine
from accounting_sync.reconcile.models import Reason, Variance, VarianceStatus
from connectors.documents import Entity
from connectors.models import Direction, Flow
from ledger.models import DocumentStatus
from tests.accounting_sync.reconcile.test_reconcile_returns_and_costs import PLATFORMS, mapped, ref_of, synced_documents
from tests.conftest import drain

pytestmark = pytest.mark.django_db
D = Decimal
WRITES = ("POST", "PUT", "DELETE")


@pytest.fixture(params=sorted(PLATFORMS))
def books(request, org):
    found = mapped(PLATFORMS[request.param](request, org))
    found.conn.direction = Direction.BOTH
    # Each pull now reads every list the platform reports (contacts, items, documents, refunds, spend money,
    # journals): a test that pulls, drains and reconciles within one minute would spend Xero's 60-a-minute budget,
    # which connectors/budget tests on its own.
    found.conn.settings = {**found.conn.settings, "rate_limits": False}
    found.conn.save()
    return found


def pulled(books) -> sync.Result:
    return sync.pull(books.conn, since=timezone.now() - dt.timedelta(minutes=5))


def writes(books) -> int:
    """Requests that write to the platform (QBO's queries excluded)."""
    return sum(1 for method, path, *_ in books.sandbox.requests_log if method in WRITES and "query" not in path)


def open_variances(books) -> dict[str, Variance]:
    return {v.source_key.split(":")[0]: v
            for v in Variance.objects.filter(connection=books.conn, status=VarianceStatus.OPEN)}


def test_refund_voided_there_is_voided_here_and_nothing_goes_back(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.void_refund(ref_of(refund).remote_id)
    result = pulled(books)
    assert result.failed == 0 and result.applied == 1, result.summary()
    refund.refresh_from_db()
    assert refund.status == DocumentStatus.VOID
    assert ref_of(refund).remote_status in (RemoteStatus.VOIDED, RemoteStatus.DELETED)
    assert SyncLog.objects.filter(connection=books.conn, operation="pull refund", outcome=Outcome.SUCCESS).exists()

    before = writes(books)
    drain()
    assert writes(books) == before  # the void that came in is not sent back
    assert pulled(books).applied == 0  # and a second poll finds nothing new to apply
    run = engine.run(books.conn)
    assert run.variances == 0 and open_variances(books) == {}  # the credit is back on both sides


def test_expense_amount_edited_there_is_flagged_never_overwritten(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.edit_expense_amount(ref_of(expense).remote_id, D("25.00"))
    result = pulled(books)
    assert result.attention == 1 and result.applied == 0, result.summary()
    assert sum(line.amount for line in expense.lines.all()) == D("20.00")  # unchanged here
    flagged = open_variances(books)["ledger.expense"]  # flagged at once, before any reconciliation run
    assert (flagged.reason, flagged.field, flagged.alarm) == (Reason.EDITED_REMOTELY, "total", True)
    assert (D(flagged.local_value), D(flagged.remote_value), flagged.difference) == (20, 25, 5)
    conflicts = SyncLog.objects.filter(connection=books.conn, operation="pull expense", outcome=Outcome.CONFLICT)
    assert conflicts.count() == 1 and "never overwritten" in conflicts.get().message
    assert pulled(books).attention == 0  # flagged once, not on every poll

    before = writes(books)
    drain()
    assert writes(books) == before
    run = engine.run(books.conn)
    [variance] = open_variances(books).values()  # the same variance, refreshed by the run
    assert variance.pk == flagged.pk and variance.last_run == run, (run.status, run.error, run.checked)
    assert variance.reason == Reason.EDITED_REMOTELY


def test_journal_deleted_or_voided_there_is_voided_here(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.remove_journal(ref_of(entry).remote_id)
    assert pulled(books).applied == 1
    entry.refresh_from_db()
    assert entry.status == DocumentStatus.VOID
    before = writes(books)
    drain()
    assert writes(books) == before
    engine.run(books.conn)
    assert open_variances(books) == {}


def test_the_sync_table_decides_what_comes_in(books, org):
    """Refund deletions set to go out only: the void there is not applied here; reconciliation still shows it."""
    table = {entity: {"create": Flow.BOTH, "update": Flow.BOTH, "delete": Flow.BOTH} for entity in Entity.ALL}
    table[Entity.REFUND] = {"create": Flow.OUT, "update": Flow.OUT, "delete": Flow.OUT}
    books.conn.operations = table
    books.conn.save()
    note, refund, expense, entry = synced_documents(org)
    books.void_refund(ref_of(refund).remote_id)
    pulled(books)
    refund.refresh_from_db()
    assert refund.status != DocumentStatus.VOID
    assert SyncLog.objects.filter(connection=books.conn, outcome=Outcome.SKIPPED,
                                  message__contains="does not take refund deletions").exists()
    engine.run(books.conn)
    assert open_variances(books)["ledger.refund"].reason in (Reason.VOIDED_REMOTELY, Reason.DELETED_REMOTELY)


def test_a_host_adapter_without_the_void_hook_gets_an_attention_item(books, org, monkeypatch):
    monkeypatch.setattr(RefundAdapter, "void_from_platform", SourceAdapter.void_from_platform)
    note, refund, expense, entry = synced_documents(org)
    books.void_refund(ref_of(refund).remote_id)
    assert pulled(books).attention == 1
    refund.refresh_from_db()
    assert refund.status != DocumentStatus.VOID
    item = OutboxEntry.objects.get(connection=books.conn, source_key=f"ledger.refund:{refund.pk}")
    assert item.status == EntryStatus.NEEDS_ATTENTION and item.error_code.startswith("remote_")
    assert "cannot void documents voided on the platform" in item.last_error


def test_a_quickbooks_purchase_event_reaches_the_refund_it_is(request, org):
    """A webhook names a Purchase, not whether it is a refund or an expense: it is reported as both, and only the
    one we hold applies it."""
    books = mapped(PLATFORMS["qbo"](request, org))
    books.conn.direction = Direction.BOTH
    books.conn.save()
    note, refund, expense, entry = synced_documents(org)
    remote_id = ref_of(refund).remote_id
    books.void_refund(remote_id)
    body = json.dumps({"eventNotifications": [{"realmId": books.conn.remote_company_id, "dataChangeEvent": {
        "entities": [{"name": "Purchase", "id": remote_id, "operation": "Delete"}]}}]}).encode()
    changes = type(books.conn.connector()).parse_webhook(body)
    assert sorted((c.entity, c.remote_id, c.operation) for c in changes) == [
        ("expense", remote_id, "delete"), ("refund", remote_id, "delete")]
    result = sync.apply_changes(books.conn, books.conn.connector(), changes, sync.Result())
    assert (result.applied, result.failed) == (1, 0), result.summary()
    refund.refresh_from_db()
    expense.refresh_from_db()
    assert refund.status == DocumentStatus.VOID and expense.status != DocumentStatus.VOID
