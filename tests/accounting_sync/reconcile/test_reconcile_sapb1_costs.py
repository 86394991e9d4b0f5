"""Reconciliation of refunds, expenses and journals on SAP Business One (issue 23): the books agree after a sync;
what a bookkeeper does in the client (an outgoing payment cancelled, a journal entry cancelled: Business One
deletes none of them, and changes no added payment's amounts) gives the variance with its reason. Business One does
not report these changes by polling (no inbound for them): reconciliation is where they are found."""
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
    """A Business One connection with the demo chart mapped (refunds and expenses paid out of the bank account,
    expenses on Freight Expense) and the journal's two account codes."""
    harness = PlatformHarness("sapb1", sandbox_for(request, "sapb1"), POOL)
    harness.reset()
    f.TaxRateFactory(organization=org, name="GST 10%", rate=D("10"))
    f.TaxRateFactory(organization=org, name="Exempt", rate=D("0"))
    harness.conn = harness.connect(org)
    accounts = {r.data["Name"]: r.id for r in harness.sandbox.store.rows("ChartOfAccounts")}
    for code, name in (("6100", "Bank Charges"), ("1010", "Bank Account")):
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


def test_refund_cancelled_in_business_one(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.act("cancel_outgoing_payment", payment_id=ref_of(refund).remote_id)
    found = variances(engine.run(books.conn))
    variance = found.pop(("ledger.refund", "status"))
    assert variance.reason == Reason.VOIDED_REMOTELY and variance.alarm and variance.entity == "refund"
    rest = found.pop(("ledger.creditnote", "balance"))  # the credit is whole again in Business One
    assert rest.reason == Reason.MISSING_THERE and (D(rest.local_value), D(rest.remote_value)) == (60, 100)
    assert found == {}


def test_expense_cancelled_in_business_one(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.act("cancel_outgoing_payment", payment_id=ref_of(expense).remote_id)
    [(key, variance)] = variances(engine.run(books.conn)).items()
    assert key == ("ledger.expense", "status") and variance.reason == Reason.VOIDED_REMOTELY and variance.alarm


def test_journal_entry_cancelled_in_business_one(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.act("cancel_journal", journal_id=ref_of(entry).remote_id)
    [(key, variance)] = variances(engine.run(books.conn)).items()
    assert key[0] == "ledger.journalentry" and variance.reason == Reason.VOIDED_REMOTELY and variance.alarm
