"""Reconciliation of refunds, expenses and journals on NetSuite REST (issue 23): the books agree after a sync; what
a bookkeeper does in NetSuite's UI (a customer refund deleted, a check's line typed over, a check voided directly,
a journal entry deleted) gives the variance with its reason. NetSuite does not report these changes by polling here
(no inbound for them): reconciliation is where they are found, reading each record back by id."""
from __future__ import annotations

from decimal import Decimal

import pytest

from accounting_sync.reconcile import engine
from accounting_sync.reconcile.models import PeriodTotal, Reason
from mappings.models import MappingKind, Scope
from connectors.documents import Entity
from tests import factories as f
from tests.conftest import drain
from tests.accounting_sync.reconcile.test_reconcile_returns_and_costs import ref_of, synced_documents, variances
from tests.platforms import POOL, PlatformHarness, platform_sandboxes, sandbox_for  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def books(request, org):
    """A NetSuite connection with the demo chart mapped (refunds from and expenses paid out of Checking, expenses on
    Postage and Delivery) and the journal's two account codes."""
    harness = PlatformHarness("netsuite", sandbox_for(request, "netsuite"), POOL)
    harness.reset()
    f.TaxRateFactory(organization=org, name="GST 10%", rate=D("10"))
    f.TaxRateFactory(organization=org, name="Exempt", rate=D("0"))
    harness.conn = harness.connect(org)
    accounts = {r.data["acctName"]: r.id for r in harness.sandbox.store.rows("account")}
    for code, name in (("6100", "Postage and Delivery"), ("1010", "Checking")):
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


def test_customer_refund_deleted_in_netsuite(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.act("delete_refund", refund_id=ref_of(refund).remote_id)
    found = variances(engine.run(books.conn))
    variance = found.pop(("ledger.refund", "exists"))
    assert variance.reason == Reason.DELETED_REMOTELY and variance.alarm and variance.entity == "refund"
    rest = found.pop(("ledger.creditnote", "balance"))  # the credit is whole again in NetSuite
    assert rest.reason == Reason.MISSING_THERE and (D(rest.local_value), D(rest.remote_value)) == (60, 100)
    assert found == {}


def test_check_line_typed_over_in_netsuite(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.act("edit_check_line", check_id=ref_of(expense).remote_id, line=0, amount="25.00")
    found = variances(engine.run(books.conn))
    variance = found.pop(("ledger.expense", "total"))
    assert variance.reason == Reason.EDITED_REMOTELY and variance.alarm
    assert (D(variance.local_value), D(variance.remote_value), variance.difference) == (20, 25, 5)
    assert found == {}


def test_check_voided_directly_in_netsuite(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.act("void_check", check_id=ref_of(expense).remote_id)
    [(key, variance)] = variances(engine.run(books.conn)).items()
    assert key[0] == "ledger.expense" and variance.alarm
    assert variance.reason == Reason.VOIDED_REMOTELY


def test_journal_entry_deleted_in_netsuite(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.act("delete_journal", journal_id=ref_of(entry).remote_id)
    [(key, variance)] = variances(engine.run(books.conn)).items()
    assert key[0] == "ledger.journalentry" and variance.reason == Reason.DELETED_REMOTELY and variance.alarm


def test_an_overpayment_refunded_from_the_payment_it_left_unapplied(books, org):
    payment = f.PaymentFactory(organization=org, amount=D("80.00"))
    refund = f.RefundFactory(credit_note=None, payment=payment, amount=D("80.00"), method="transfer")
    drain()
    connector = books.conn.connector()
    held = connector.fetch(Entity.REFUND, ref_of(refund).remote_id)
    assert held.total == D("80.00") and held.raw["apply"]["items"][0]["doc"]["id"] == ref_of(payment).remote_id
    assert D(str(connector.fetch(Entity.PAYMENT, ref_of(payment).remote_id).raw["unapplied"])) == D("0.00")
    assert variances(engine.run(books.conn)) == {}
