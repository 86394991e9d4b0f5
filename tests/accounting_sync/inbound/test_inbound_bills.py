"""Supplier bills changed on QuickBooks Online and Xero come in (issue 23): deleted or voided there -> voided here; an
amount edited there is never applied (flagged as a variance); nothing that came in goes back out. Both read bills
from a list the poll reads anyway (QBO's one ``/cdc``; Xero's ``GET /Invoices``, which lists ACCPAY with ACCREC), so
polling bills costs no request of Xero's 60 a minute."""
from __future__ import annotations

import datetime as dt
from collections import Counter
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
from tests.accounting_sync.policies.test_bills import QBOBills, XeroBills, ref_of, supplier_bill
from tests.conftest import drain

pytestmark = pytest.mark.django_db
D = Decimal
WRITES = ("POST", "PUT", "DELETE")


@pytest.fixture(params=["qbo", "xero"])
def books(request, org):
    if request.param == "qbo":
        found = QBOBills(request.getfixturevalue("sandbox"),
                         request.getfixturevalue("make_connection")(org, direction=Direction.BOTH))
    else:
        found = XeroBills(request.getfixturevalue("xsandbox"),
                          request.getfixturevalue("make_xero_connection")(org, direction=Direction.BOTH))
    found.map()
    return found


def test_bills_are_polled_where_the_poll_reads_their_list_anyway():
    assert Entity.BILL in registry.get("qbo").capabilities.inbound  # one /cdc request for all entities
    assert Entity.BILL in registry.get("xero").capabilities.inbound  # the ACCPAY rows of GET /Invoices
    assert Entity.BILL_PAYMENT in registry.get("xero").capabilities.inbound  # the ACCPAYPAYMENT rows of /Payments


def lists_read(sandbox) -> Counter:
    """The Xero collections the sandbox was asked to list (GET), and how many times each."""
    return Counter(path.rsplit("/", 1)[-1] for method, path, *_ in sandbox.requests_log if method == "GET")


def test_a_xero_poll_reads_each_list_once_whatever_it_polls(xsandbox, make_xero_connection, org):
    """Bills cost no request: one poll of invoices, payments, credit notes, refunds, expenses, journals, bills,
    contacts and items reads ``/Invoices`` as often as a poll of invoices alone, and every other list once."""
    alone = make_xero_connection(org, direction=Direction.BOTH)
    alone.entities = [Entity.INVOICE]
    alone.save()
    xsandbox.requests_log.clear()
    sync.pull(alone)
    invoices_alone = lists_read(xsandbox)
    assert invoices_alone == {"Invoices": 1}

    every = make_xero_connection(org, direction=Direction.BOTH)
    polled = [e for e in Entity.EVERY if every.syncs(e) and e in registry.get("xero").capabilities.inbound]
    assert {Entity.INVOICE, Entity.PAYMENT, Entity.CREDIT_NOTE, Entity.BILL, Entity.REFUND,
            Entity.BILL_PAYMENT} <= set(polled)
    xsandbox.requests_log.clear()
    result = sync.pull(every)
    assert result.failed == 0, result.summary()
    assert lists_read(xsandbox) == invoices_alone + Counter({"Payments": 1, "CreditNotes": 1, "BankTransactions": 1,
                                                             "ManualJournals": 1, "Contacts": 1, "Items": 1})
    assert len(xsandbox.requests_log) == sum(lists_read(xsandbox).values())  # nothing else was asked


def test_a_bill_voided_in_xero_is_voided_here_after_one_pull(xsandbox, make_xero_connection, org):
    books = XeroBills(xsandbox, make_xero_connection(org, direction=Direction.BOTH))
    books.map()
    bill = supplier_bill(org)
    drain()
    books.remove_as_user(ref_of(bill).remote_id)  # a user voids it in Xero
    result = sync.pull(books.conn)  # from the cursors: no ``since``
    assert result.failed == 0 and result.applied == 1, result.summary()
    bill.refresh_from_db()
    assert bill.status == DocumentStatus.VOID
    assert ref_of(bill).remote_status == RemoteStatus.VOIDED


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
    """Bill payments come in through a list the poll reads anyway (QBO's /cdc, Xero's GET /Payments): one voided in
    QuickBooks or deleted in Xero is voided here (the bill owes its amount again); the bill's own update (its
    balance moved) is only the platform's bookkeeping."""
    assert Entity.BILL_PAYMENT in registry.get(books.conn.platform).capabilities.inbound
    f.MappingFactory(connection=books.conn, kind=MappingKind.PAID_FROM_ACCOUNT, remote_id=books.account("Checking"))
    bill = supplier_bill(org)
    with transaction.atomic():
        payment = f.BillPaymentFactory(bill=bill, organization=org, number="BP-1", amount=D("80.00"))
    drain()
    books.remove_payment_as_user(ref_of(payment).remote_id)
    result = pulled(books)
    assert result.failed == 0 and result.applied == 1, result.summary()
    payment.refresh_from_db()
    assert payment.status == DocumentStatus.VOID
    assert ref_of(payment).remote_status in (RemoteStatus.VOIDED, RemoteStatus.DELETED)
    assert f.BillPaymentFactory.build(bill=bill, amount=D("200.00")).owed() == D("200.00")
    before = writes(books)
    drain()
    assert writes(books) == before
    assert engine.run(books.conn).variances == 0
