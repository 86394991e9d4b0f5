"""Supplier bills changed on QuickBooks Online come in (issue 23): deleted there -> voided here; an amount edited there
is never applied (flagged as a variance); nothing that came in goes back out. Xero's bills are not polled (each
polled entity costs a request of its 60 a minute): reconciliation finds them (tests/accounting_sync/reconcile)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounting_sync.inbound import sync
from accounting_sync.models import RemoteStatus
from accounting_sync.reconcile import engine
from accounting_sync.reconcile.models import Reason, Variance, VarianceStatus
from connectors.models import Direction
from ledger.models import DocumentStatus
from connectors import registry
from connectors.documents import Entity
from mappings.models import MappingKind
from tests import factories as f
from tests.accounting_sync.policies.test_bills import QBOBills, ref_of, supplier_bill
from tests.conftest import drain

pytestmark = pytest.mark.django_db
D = Decimal
WRITES = ("POST", "PUT", "DELETE")


@pytest.fixture
def books(org, sandbox, make_connection):
    found = QBOBills(sandbox, make_connection(org, direction=Direction.BOTH))
    found.map()
    return found


def test_bills_are_polled_where_one_request_reads_every_entity():
    assert Entity.BILL in registry.get("qbo").capabilities.inbound  # one /cdc request for all entities
    assert Entity.BILL not in registry.get("xero").capabilities.inbound
    assert Entity.BILL_PAYMENT not in registry.get("xero").capabilities.inbound


def pulled(books) -> sync.Result:
    return sync.pull(books.conn, since=timezone.now() - dt.timedelta(minutes=5))


def writes(books) -> int:
    return sum(1 for method, path, *_ in books.sandbox.requests_log if method in WRITES and "query" not in path)


def test_a_bill_removed_there_is_voided_here_and_nothing_goes_back(books, org):
    bill = supplier_bill(org)
    drain()
    books.remove_as_user(ref_of(bill).remote_id)
    result = pulled(books)
    assert result.failed == 0 and result.applied == 1, result.summary()
    bill.refresh_from_db()
    assert bill.status == DocumentStatus.VOID
    assert ref_of(bill).remote_status in (RemoteStatus.VOIDED, RemoteStatus.DELETED)
    before = writes(books)
    drain()
    assert writes(books) == before and pulled(books).applied == 0
    assert engine.run(books.conn).variances == 0


def test_a_bill_amount_edited_there_is_flagged_never_overwritten(books, org):
    bill = supplier_bill(org)
    drain()
    books.edit_amount_as_user(ref_of(bill).remote_id, D("250.00"))
    result = pulled(books)
    assert result.attention == 1 and result.applied == 0, result.summary()
    assert bill.lines.get().amount == D("200.00")
    [flagged] = Variance.objects.filter(connection=books.conn, status=VarianceStatus.OPEN)
    assert (flagged.reason, flagged.field) == (Reason.EDITED_REMOTELY, "total")
    assert (D(flagged.local_value), D(flagged.remote_value)) == (200, 250)


def test_a_bill_payment_voided_there_is_voided_here_and_the_bill_is_owed_again(books, org):
    """Bill payments come in through the same /cdc request: one voided in QuickBooks is voided here (the bill owes
    its amount again); the bill's own update (its Balance moved) is only the platform's bookkeeping."""
    f.MappingFactory(connection=books.conn, kind=MappingKind.PAID_FROM_ACCOUNT, remote_id=books.account("Checking"))
    assert Entity.BILL_PAYMENT in registry.get("qbo").capabilities.inbound
    bill = supplier_bill(org)
    with transaction.atomic():
        payment = f.BillPaymentFactory(bill=bill, organization=org, number="BP-1", amount=D("80.00"))
    drain()
    remote = ref_of(payment).remote_id
    with books.sandbox.store.lock:
        row = books.sandbox.store.get("BillPayment", remote)
        books.sandbox.store.write("BillPayment", {"Id": row["Id"], "SyncToken": row["SyncToken"], "sparse": True},
                                  "update", ["void"])
    result = pulled(books)
    assert result.failed == 0 and result.applied == 1, result.summary()
    payment.refresh_from_db()
    assert payment.status == DocumentStatus.VOID and ref_of(payment).remote_status == RemoteStatus.VOIDED
    assert f.BillPaymentFactory.build(bill=bill, amount=D("200.00")).owed() == D("200.00")
    before = writes(books)
    drain()
    assert writes(books) == before
    assert engine.run(books.conn).variances == 0
