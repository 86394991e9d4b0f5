"""Reconciliation of supplier bills (issue 23) on QuickBooks Online and Xero: a bill sent agrees (see the worked
examples in ``tests/accounting_sync/policies/test_bills.py``); one removed on the platform "as a user" (deleted in
QBO, whose API voids no bill; voided in Xero) is the variance, with its reason; one edited there is an amount
variance; a bill payment removed there is the variance and the bill's balance differs."""
from __future__ import annotations

from decimal import Decimal

import pytest

from accounting_sync.reconcile import engine
from accounting_sync.reconcile.models import Reason, RunStatus, Variance, VarianceStatus
from connectors.documents import Entity
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.accounting_sync.policies.test_bills import books, purchase_tax, ref_of, supplier_bill  # noqa: F401
from tests.accounting_sync.policies.test_bill_payments import QBOBillPayments, XeroBillPayments, pay
from tests.conftest import drain

pytestmark = pytest.mark.django_db
D = Decimal


def test_a_bill_voided_or_deleted_on_the_platform_gives_the_variance(books, org):  # noqa: F811
    bill = supplier_bill(org, purchase_tax(books, org))
    drain()
    books.remove_as_user(ref_of(bill).remote_id)
    run = engine.run(books.conn)
    assert run.status == RunStatus.DONE, run.error
    [variance] = Variance.objects.filter(connection=books.conn, status=VarianceStatus.OPEN)
    assert variance.source_key == f"ledger.bill:{bill.pk}" and variance.reason == books.gone
    assert variance.entity == Entity.BILL


def test_a_bill_edited_on_the_platform_is_an_amount_variance(books, org):  # noqa: F811
    bill = supplier_bill(org, purchase_tax(books, org))
    drain()
    books.edit_amount_as_user(ref_of(bill).remote_id, D("250.00"))
    run = engine.run(books.conn)
    assert run.status == RunStatus.DONE, run.error
    found = Variance.objects.filter(connection=books.conn, status=VarianceStatus.OPEN,
                                    source_key=f"ledger.bill:{bill.pk}")
    assert found.exists() and Reason.DELETED_REMOTELY not in set(found.values_list("reason", flat=True))
    assert "total" in set(found.values_list("field", flat=True))


@pytest.mark.parametrize("platform", ["qbo", "xero"])
def test_a_bill_payment_removed_on_the_platform_gives_its_variance_and_the_bills_balance(org, request, platform):
    """Paid 80.00 of 200.00, then the payment removed there by a person (QBO: deleted; Xero: Status DELETED): the
    payment is the variance (gone there), and the bill owes 200.00 there against 120.00 here (a payment recorded
    here is missing there)."""
    paid_books = _bill_payment_books(request, org, platform)
    bill = supplier_bill(org)
    payment = pay(bill, "80.00", "BP-1")
    drain()
    assert engine.run(paid_books.conn).variances == 0
    paid_books.remove_payment_as_user(ref_of(payment).remote_id)
    run = engine.run(paid_books.conn)
    assert run.status == RunStatus.DONE, run.error
    found = {(v.source_key, v.field, v.reason)
             for v in Variance.objects.filter(connection=paid_books.conn, status=VarianceStatus.OPEN)}
    assert (f"ledger.billpayment:{payment.pk}", "exists", Reason.DELETED_REMOTELY) in found, found
    assert (f"ledger.bill:{bill.pk}", "balance", Reason.MISSING_THERE) in found, found


def _bill_payment_books(request, org, platform: str):
    if platform == "qbo":
        books = QBOBillPayments(request.getfixturevalue("sandbox"), request.getfixturevalue("make_connection")(org))
    else:
        books = XeroBillPayments(request.getfixturevalue("xsandbox"),
                                 request.getfixturevalue("make_xero_connection")(org))
    books.map()
    f.MappingFactory(connection=books.conn, kind=MappingKind.PAID_FROM_ACCOUNT, scope=Scope.PAYMENT_METHOD,
                     local_value="transfer", remote_id=books.account(books.bank))
    return books
