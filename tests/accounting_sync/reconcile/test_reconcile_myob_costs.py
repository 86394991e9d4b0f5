"""Reconciliation of refunds, expenses and journals on MYOB Business (issue 23): the books agree after a sync; what
a bookkeeper does in AccountRight (a credit refund deleted, a spend money's amount typed over, a general journal
deleted: MYOB voids none of them) gives the variance with its reason. MYOB does not report these changes by
polling (no inbound for them): reconciliation is where they are found."""
from __future__ import annotations

from decimal import Decimal

import pytest

from accounting_sync.reconcile import engine
from accounting_sync.reconcile.models import PeriodTotal, Reason
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.accounting_sync.reconcile.test_reconcile_returns_and_costs import ref_of, synced_documents, variances
from tests.platforms import POOL, PlatformHarness, platform_sandboxes, sandbox_for  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def books(request, org):
    """A MYOB connection with the demo chart mapped (refunds from and expenses paid out of the bank account,
    expenses on Freight Paid) and the journal's two account codes."""
    harness = PlatformHarness("myob", sandbox_for(request, "myob"), POOL)
    harness.reset()
    f.TaxRateFactory(organization=org, name="GST 10%", rate=D("10"))
    f.TaxRateFactory(organization=org, name="Exempt", rate=D("0"))
    harness.conn = harness.connect(org)
    accounts = {r.data["Name"]: r.id for r in harness.sandbox.store.rows("accounts")}
    for code, name in (("6100", "Bank Charges"), ("1010", "Business Bank Account")):
        f.MappingFactory(connection=harness.conn, kind=MappingKind.JOURNAL_ACCOUNT, scope=Scope.ACCOUNT_CODE,
                         local_value=code, remote_id=accounts[name])
    return harness


def test_books_that_agree_give_no_variance_and_per_period_totals_per_entity(books, org):
    synced_documents(org)
    run = engine.run(books.conn)
    assert variances(run) == {}
    month = {row.entity: (row.local_count, row.local_total, row.remote_count, row.remote_total)
             for row in PeriodTotal.objects.filter(run=run, period="month")}
    assert month["refund"] == (1, D("40.00"), 1, D("40.00"))
    assert month["expense"] == (1, D("20.00"), 1, D("20.00"))
    assert month["journal"] == (1, D("7.50"), 1, D("7.50"))


def test_refund_deleted_in_myob(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.act("delete_refund", refund_id=ref_of(refund).remote_id)
    found = variances(engine.run(books.conn))
    variance = found.pop(("ledger.refund", "exists"))
    assert variance.reason == Reason.DELETED_REMOTELY and variance.alarm and variance.entity == "refund"
    rest = found.pop(("ledger.creditnote", "balance"))  # the credit is whole again in MYOB
    assert rest.reason == Reason.MISSING_THERE and (D(rest.local_value), D(rest.remote_value)) == (60, 100)
    assert found == {}


def test_spend_money_amount_typed_over_in_myob(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.act("edit_spend_money", spend_id=ref_of(expense).remote_id, line=0, amount="25.00")
    found = variances(engine.run(books.conn))
    variance = found.pop(("ledger.expense", "total"))
    assert variance.reason == Reason.EDITED_REMOTELY and variance.alarm
    assert (D(variance.local_value), D(variance.remote_value), variance.difference) == (20, 25, 5)
    assert found == {}


def test_general_journal_deleted_in_myob(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.act("delete_journal", journal_id=ref_of(entry).remote_id)
    [(key, variance)] = variances(engine.run(books.conn)).items()
    assert key[0] == "ledger.journalentry" and variance.reason == Reason.DELETED_REMOTELY and variance.alarm
