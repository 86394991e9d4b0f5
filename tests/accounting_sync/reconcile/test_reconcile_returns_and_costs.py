"""Reconciliation of refunds, expenses and journals (issue 23) on QuickBooks Online and Xero: the books agree after a
sync; a change made on the platform "as a user" (a refund voided, an expense's amount edited, a journal deleted or
voided there) gives the variance with its reason and action; the platform is read in bulk for these too."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from accounting_sync.models import ExternalReference
from accounting_sync.reconcile import engine
from connectors.qbo.costs import applies_refund
from accounting_sync.reconcile.models import PeriodTotal, Reason, RunStatus, Variance, VarianceStatus
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.conftest import account_id, drain

pytestmark = pytest.mark.django_db
D = Decimal


class QBO:
    """A bookkeeper in QuickBooks Online: a refund and an expense are Purchases, a journal a JournalEntry."""

    def __init__(self, request, org):
        self.sandbox = request.getfixturevalue("sandbox")
        self.store = self.sandbox.store
        self.conn = request.getfixturevalue("make_connection")(org)

    def account(self, name: str) -> str:
        return account_id(self.sandbox, name)

    def void_refund(self, remote_id: str) -> None:
        """The refund taken back: the payment that applies the credit memo to it removed, then the purchase
        deleted (QBO's API, and this sandbox, void no purchase)."""
        with self.store.lock:
            for payment in list(self.store.entities("Payment")):
                if applies_refund(payment, remote_id):
                    self.store.delete_payment_as_user(payment["Id"])
            row = self.store.get("Purchase", remote_id)
            self.store.write("Purchase", {"Id": row["Id"], "SyncToken": row["SyncToken"]}, "delete")

    def edit_expense_amount(self, remote_id: str, amount: Decimal) -> None:
        row = self.store.get("Purchase", remote_id)
        lines = [dict(line) for line in row["Line"]]
        lines[0] = {**lines[0], "Amount": str(amount)}
        self.store.edit_as_user("Purchase", remote_id, {"Line": lines})

    def remove_journal(self, remote_id: str) -> None:
        with self.store.lock:
            row = self.store.get("JournalEntry", remote_id)
            self.store.write("JournalEntry", {"Id": row["Id"], "SyncToken": row["SyncToken"]}, "delete")

    journal_gone = Reason.DELETED_REMOTELY  # QBO has no void for a journal entry: the UI deletes it


class Xero:
    """A bookkeeper in Xero: a refund is a payment on the credit note, an expense a spend-money bank transaction,
    a journal a manual journal."""

    CODES = {"Card Clearing": "091", "Checking": "090", "Shipping and Delivery": "425", "Supplies": "429",
             "Euro Card": "092", "Bank Charges": "404"}

    def __init__(self, request, org):
        self.sandbox = request.getfixturevalue("xsandbox")
        self.store = self.sandbox.store
        self.conn = request.getfixturevalue("make_xero_connection")(org)

    def account(self, name: str) -> str:
        return self.CODES[name]

    def void_refund(self, remote_id: str) -> None:
        """Xero removes a refund (a payment) rather than voiding it: its status becomes DELETED."""
        self.store.delete_payment_as_user(remote_id)

    def edit_expense_amount(self, remote_id: str, amount: Decimal) -> None:
        row = self.store.get("BankTransactions", remote_id)
        lines = [dict(line) for line in row["LineItems"]]
        lines[0] = {**lines[0], "UnitAmount": str(amount), "Quantity": "1"}
        lines[0].pop("LineAmount", None)
        lines[0].pop("TaxAmount", None)
        self.store.edit_as_user("BankTransactions", remote_id, {"LineItems": lines})

    def remove_journal(self, remote_id: str) -> None:
        self.store.edit_as_user("ManualJournals", remote_id, {"Status": "VOIDED"})  # a posted journal is voided

    journal_gone = Reason.VOIDED_REMOTELY


PLATFORMS = {"qbo": QBO, "xero": Xero}


@pytest.fixture(params=sorted(PLATFORMS))
def books(request, org):
    return mapped(PLATFORMS[request.param](request, org))


def mapped(found):
    """The accounts refunds, expenses and journals post to, mapped on ``found``'s connection."""
    rule, conn = f.MappingFactory, found.conn
    rule(connection=conn, kind=MappingKind.REFUND_ACCOUNT, remote_id=found.account("Checking"))
    rule(connection=conn, kind=MappingKind.EXPENSE_ACCOUNT, remote_id=found.account("Supplies"))
    rule(connection=conn, kind=MappingKind.PAID_FROM_ACCOUNT, remote_id=found.account("Checking"))
    rule(connection=conn, kind=MappingKind.JOURNAL_ACCOUNT, scope=Scope.ACCOUNT_CODE, local_value="6100",
         remote_id=found.account("Bank Charges"))
    rule(connection=conn, kind=MappingKind.JOURNAL_ACCOUNT, scope=Scope.ACCOUNT_CODE, local_value="1010",
         remote_id=found.account("Checking"))
    return found


def ref_of(obj) -> ExternalReference:
    return ExternalReference.objects.get(connection__isnull=False, source_key=f"{obj._meta.label_lower}:{obj.pk}")


def synced_documents(org):
    """A credit note of 100 refunded 40, an expense of 20 and a journal of 7.50, all sent."""
    with transaction.atomic():
        note = f.CreditNoteFactory(organization=org)
        f.CreditNoteLineFactory(credit_note=note, position=0, kind="product", unit_price=D("100.00"))
        expense = f.ExpenseFactory(organization=org, paid_from="transfer")
        f.ExpenseLineFactory(expense=expense, cost_kind="consumables", amount=D("20.00"))
        entry = f.JournalEntryFactory(organization=org)
        f.JournalLineFactory(entry=entry, position=0, account_code="6100", debit=D("7.50"), credit=D("0"))
        f.JournalLineFactory(entry=entry, position=1, account_code="1010", debit=D("0"), credit=D("7.50"))
    refund = f.RefundFactory(credit_note=note, amount=D("40.00"), method="transfer")
    drain()
    return note, refund, expense, entry


def variances(run) -> dict[tuple[str, str], Variance]:
    assert run.status == RunStatus.DONE, run.error
    return {(v.source_key.split(":")[0], v.field): v
            for v in Variance.objects.filter(connection=run.connection, status=VarianceStatus.OPEN)}


def test_books_that_agree_give_no_variance_and_per_period_totals_per_entity(books, org):
    note, refund, expense, entry = synced_documents(org)
    run = engine.run(books.conn)
    assert variances(run) == {}
    assert run.checked >= 4
    month = {row.entity: (row.local_count, row.local_total, row.remote_count, row.remote_total)
             for row in PeriodTotal.objects.filter(run=run, period="month")}
    assert month["refund"] == (1, D("40.00"), 1, D("40.00"))
    assert month["expense"] == (1, D("20.00"), 1, D("20.00"))
    assert month["journal"] == (1, D("7.50"), 1, D("7.50"))


def test_refund_voided_on_the_platform(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.void_refund(ref_of(refund).remote_id)
    found = variances(engine.run(books.conn))
    key = ("ledger.refund", "status") if ("ledger.refund", "status") in found else ("ledger.refund", "exists")
    variance = found.pop(key)
    assert variance.reason in (Reason.VOIDED_REMOTELY, Reason.DELETED_REMOTELY) and variance.alarm
    assert variance.entity == "refund" and variance.action
    # the credit note's remaining credit: 100 again on the platform, 60 here (the refund still stands here)
    rest = found.pop(("ledger.creditnote", "balance"))
    assert rest.reason == Reason.MISSING_THERE and (D(rest.local_value), D(rest.remote_value)) == (60, 100)
    assert found == {}


def test_expense_amount_edited_on_the_platform(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.edit_expense_amount(ref_of(expense).remote_id, D("25.00"))
    found = variances(engine.run(books.conn))
    variance = found.pop(("ledger.expense", "total"))
    assert variance.reason == Reason.EDITED_REMOTELY and variance.alarm
    assert (D(variance.local_value), D(variance.remote_value), variance.difference) == (20, 25, 5)
    assert found == {}


def test_journal_deleted_or_voided_on_the_platform(books, org):
    note, refund, expense, entry = synced_documents(org)
    books.remove_journal(ref_of(entry).remote_id)
    found = variances(engine.run(books.conn))
    [(key, variance)] = found.items()
    assert key[0] == "ledger.journalentry" and variance.reason == books.journal_gone and variance.alarm


def test_refunds_expenses_and_journals_are_read_in_bulk(books, org, monkeypatch):
    """Read by id (a run limited to an organization), each entity costs one read per chunk, not one per document."""
    for _ in range(2):
        synced_documents(org)
    connector = type(books.conn.connector())
    calls = []
    real = connector.read_documents

    def counting(self, entity, remote_ids):
        calls.append((entity, len(remote_ids)))
        return real(self, entity, remote_ids)

    monkeypatch.setattr(connector, "read_documents", counting)
    run = engine.run(books.conn, organization_id=org.pk)
    assert variances(run) == {}
    assert sorted(calls) == sorted([("credit_note", 2), ("refund", 2), ("expense", 2), ("journal", 2)])
