"""Reconciliation of supplier bills (issue 23) on QuickBooks Online and Xero: a bill sent agrees (see the worked
examples in ``tests/accounting_sync/policies/test_bills.py``); one removed on the platform "as a user" (deleted in
QBO, whose API voids no bill; voided in Xero) is the variance, with its reason; one edited there is an amount
variance."""
from __future__ import annotations

from decimal import Decimal

import pytest

from accounting_sync.reconcile import engine
from accounting_sync.reconcile.models import Reason, RunStatus, Variance, VarianceStatus
from connectors.documents import Entity
from tests.accounting_sync.policies.test_bills import books, purchase_tax, ref_of, supplier_bill  # noqa: F401
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
