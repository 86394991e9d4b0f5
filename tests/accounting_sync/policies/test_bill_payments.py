"""Bill payments reach the books: worked examples on QuickBooks Online and Xero (issue 23).

A bill payment pays a supplier's bill, in full or in part, from a bank account (the one mapped for its method by the
expenses' paid-from rule): it clears accounts payable. The examples save a bill of 200.00 and its payments, let the
pipeline send them to the platform's sandbox, and assert what the platform then holds (the payment, and the bill's
balance falling), the GL preview's legs, and what reconciliation finds.
"""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import models, transaction

from accounting_sync.models import EntryStatus, ExternalReference, OutboxEntry, RemoteStatus
from accounting_sync.policies import preflight
from accounting_sync.reconcile import engine
from accounting_sync.reconcile.models import RunStatus, Variance, VarianceStatus
from connectors import registry
from connectors.documents import BillPaymentSnapshot, Entity
from connectors.errors import PermanentError
from ledger.models import DocumentStatus
from mappings.models import MappingKind, Scope
from tests import factories as f
from tests.accounting_sync.policies.test_bills import DATE, QBOBills, XeroBills, supplier_bill
from tests.accounting_sync.policies.test_returns_and_costs import legs, reconciled, ref_of, sides
from tests.conftest import drain

pytestmark = pytest.mark.django_db
D = Decimal


class QBOBillPayments(QBOBills):
    """QBO: a ``BillPayment`` by check from the bank account, its line linking the Bill; voided through the API."""

    bank = "Checking"

    def payment(self, remote_id: str) -> dict | None:
        row = self.sandbox.store.get("BillPayment", remote_id)
        if row is None:
            return None
        [line] = row["Line"]
        return {"amount": D(str(row["TotalAmt"])), "type": row["PayType"],
                "from": row["CheckPayment"]["BankAccountRef"]["value"], "vendor": row["VendorRef"]["name"],
                "bill": line["LinkedTxn"][0]["TxnId"], "kind": line["LinkedTxn"][0]["TxnType"],
                "number": row.get("DocNumber"), "voided": str(row.get("PrivateNote", "")).startswith("Voided")}

    def owed(self, bill_id: str) -> Decimal:
        return D(str(self.sandbox.store.get("Bill", bill_id)["Balance"]))

    def paid(self, bill_id: str) -> bool:
        return self.owed(bill_id) == 0

    def remove_payment_as_user(self, remote_id: str) -> None:
        with self.sandbox.store.lock:
            row = self.sandbox.store.get("BillPayment", remote_id)
            self.sandbox.store.write("BillPayment", {"Id": row["Id"], "SyncToken": row["SyncToken"]}, "delete")


class XeroBillPayments(XeroBills):
    """Xero: a ``Payment`` on the ACCPAY invoice from a bank account (by code); deleted (Status DELETED)."""

    bank = "Checking"

    def payment(self, remote_id: str) -> dict | None:
        row = self.store.get("Payments", remote_id)
        if row is None:
            return None
        return {"amount": D(str(row["Amount"])), "type": row.get("PaymentType"), "from": row["Account"]["Code"],
                "vendor": None, "bill": row["Invoice"]["InvoiceID"], "kind": "Bill",
                "number": row.get("Reference"), "voided": row.get("Status") == "DELETED"}

    def owed(self, bill_id: str) -> Decimal:
        return D(str(self.store.get("Invoices", bill_id)["AmountDue"]))

    def paid(self, bill_id: str) -> bool:
        return self.store.get("Invoices", bill_id)["Status"] == "PAID"

    def remove_payment_as_user(self, remote_id: str) -> None:
        self.store.edit_as_user("Payments", remote_id, {"Status": "DELETED"})


@pytest.fixture(params=["qbo", "xero"])
def books(request, org):
    if request.param == "qbo":
        found = QBOBillPayments(request.getfixturevalue("sandbox"), request.getfixturevalue("make_connection")(org))
    else:
        found = XeroBillPayments(request.getfixturevalue("xsandbox"),
                                 request.getfixturevalue("make_xero_connection")(org))
    found.map()
    f.MappingFactory(connection=found.conn, kind=MappingKind.PAID_FROM_ACCOUNT, scope=Scope.PAYMENT_METHOD,
                     local_value="transfer", remote_id=found.account(found.bank))
    return found


def pay(bill, amount: str, number: str, **fields):
    with transaction.atomic():
        return f.BillPaymentFactory(bill=bill, organization=bill.organization, number=number, amount=D(amount),
                                    date=DATE, memo="Paid by bank transfer", **fields)


def test_a_bill_of_200_paid_80_then_120(books, org):
    """Paid in two parts: the platform's bill owes 120.00 after the first and nothing (paid) after the second; each
    payment posts debit accounts payable, credit the bank; reconciled with no variance."""
    bill = supplier_bill(org)
    drain()
    remote_bill = ref_of(bill).remote_id
    assert books.owed(remote_bill) == D("200.00")

    first = pay(bill, "80.00", "BP-1")
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    held = books.payment(ref_of(first).remote_id)
    assert held["amount"] == D("80.00") and held["from"] == books.account(books.bank)
    assert held["bill"] == remote_bill and held["kind"] == "Bill" and not held["voided"]
    assert books.owed(remote_bill) == D("120.00") and not books.paid(remote_bill)
    assert ref_of(first).entity == Entity.BILL_PAYMENT

    entry = legs(books, first)
    assert sides(entry) == [(books.account(books.payable), D("80.00"), D("0.00")),
                            (books.account(books.bank), D("0.00"), D("80.00"))]
    assert entry.debits == entry.credits == D("80.00")
    assert entry.lines[0].description == "Bill BILL-1001 paid to Acme Supplies"
    reconciled(books, bill, first)

    second = pay(bill, "120.00", "BP-2")
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    assert books.payment(ref_of(second).remote_id)["amount"] == D("120.00")
    assert books.owed(remote_bill) == D("0.00") and books.paid(remote_bill)
    reconciled(books, bill, first, second)


def test_a_payment_voided_here_leaves_the_bill_owed_again(books, org):
    bill = supplier_bill(org)
    payment = pay(bill, "200.00", "BP-1")
    drain()
    remote_bill = ref_of(bill).remote_id
    assert books.owed(remote_bill) == D("0.00")
    payment.status = DocumentStatus.VOID
    payment.save()
    drain()
    assert not OutboxEntry.objects.exclude(status=EntryStatus.DONE).exists()
    assert books.owed(remote_bill) == D("200.00") and not books.paid(remote_bill)
    held = books.payment(ref_of(payment).remote_id)
    assert held is None or held["voided"]
    assert ref_of(payment).remote_status in (RemoteStatus.VOIDED, RemoteStatus.DELETED)
    assert legs(books, payment).lines == ()  # a void posts nothing
    reconciled(books, bill, payment)


def test_a_payment_over_what_the_bill_owes_is_stopped_before_anything_is_sent(books, org):
    """80.00 paid, then 150.00 recorded past the ledger's own check (as a host's model without that check would
    save it): the bill owes only 120.00. Preflight stops the payment, saying so; the platform's bill still owes
    120.00."""
    bill = supplier_bill(org)
    pay(bill, "80.00", "BP-1")
    drain()
    over = f.BillPaymentFactory.build(bill=bill, organization=org, number="BP-2", amount=D("150.00"), date=DATE)
    with transaction.atomic():
        models.Model.save(over)  # the model's clean() skipped: preflight does not rely on it
    drain()
    stopped = OutboxEntry.objects.get(connection=books.conn, source_key=f"ledger.billpayment:{over.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert stopped.last_error == ("Bill payment BP-2: it pays 150.00 USD and bill BILL-1001 (Acme Supplies) has only "
                                  "120.00 USD left to pay: a payment may not be more than the bill still owes")
    assert not ExternalReference.objects.filter(source_key=f"ledger.billpayment:{over.pk}").exists()
    assert books.owed(ref_of(bill).remote_id) == D("120.00")


def test_a_payment_without_a_bank_account_mapped_waits_for_its_mapping(books, org):
    books.conn.mappings.filter(kind=MappingKind.PAID_FROM_ACCOUNT).delete()
    bill = supplier_bill(org)
    payment = pay(bill, "80.00", "BP-1")
    drain()
    stopped = OutboxEntry.objects.get(connection=books.conn, source_key=f"ledger.billpayment:{payment.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION
    assert ("bill payment BP-1: no bank account to pay it from (a paid-from account) mapped for method “transfer” or "
            "as the default") in stopped.last_error
    assert not ExternalReference.objects.filter(source_key=f"ledger.billpayment:{payment.pk}").exists()
    assert books.owed(ref_of(bill).remote_id) == D("200.00")


def test_a_payment_of_a_bill_that_was_not_sent_waits_for_it(books, org):
    """The bill cannot go (a line without an expense account): its payment is not sent either, and says why."""
    books.conn.mappings.filter(kind=MappingKind.EXPENSE_ACCOUNT).delete()
    bill = supplier_bill(org)
    payment = pay(bill, "80.00", "BP-1")
    drain()
    stopped = OutboxEntry.objects.get(connection=books.conn, source_key=f"ledger.billpayment:{payment.pk}")
    assert stopped.status == EntryStatus.NEEDS_ATTENTION and stopped.error_code == preflight.DEPENDENCY_FAILED
    assert "Bill BILL-1001" in stopped.last_error
    assert not ExternalReference.objects.filter(source_key__startswith="ledger.bill").exists()


def test_a_payment_of_a_void_bill_is_refused_locally():
    doc = replace(PAYMENT, bill_status="void")
    assert preflight._bill_payment(doc) == ["bill BILL-1 is void: nothing is owed on it, so there is nothing to pay"]
    assert preflight._bill_payment(replace(doc, status="void")) == []  # taking a payment back is always allowed


PAYMENT = BillPaymentSnapshot(key="ledger.billpayment:1", organization_id=1, number="BP-1", bill_key="ledger.bill:1",
                              bill_number="BILL-1", supplier="Acme Supplies", amount=D("80.00"), bill_owed=D("200.00"))


def test_another_payment_of_the_bill_does_not_make_this_one_look_changed():
    assert replace(PAYMENT, bill_owed=D("120.00")).content_hash() == PAYMENT.content_hash()
    assert replace(PAYMENT, amount=D("81.00")).content_hash() != PAYMENT.content_hash()
    assert PAYMENT.dependencies() == ((Entity.BILL, "ledger.bill:1"),)


@pytest.mark.parametrize("platform", sorted(registry.connectors()))
def test_every_platform_takes_a_bill_payment_or_says_what_staff_do_instead(platform):
    conn = f.ConnectionFactory(platform=platform)
    if Entity.BILL_PAYMENT in registry.get(platform).capabilities.entities:
        preflight.check_supported(conn, PAYMENT)
        return
    with pytest.raises(PermanentError) as stopped:
        preflight.check_supported(conn, PAYMENT)
    assert stopped.value.code == "unsupported" and conn.platform_name in str(stopped.value)
    assert str(stopped.value).startswith(f"Bill payment BP-1: {conn.platform_name} does not take bill payments "
                                         "through its API")
    assert "by hand" in stopped.value.hint


def test_only_qbo_and_xero_declare_bill_payments():
    assert {p for p, cls in registry.connectors().items()
            if Entity.BILL_PAYMENT in cls.capabilities.entities} == {"qbo", "xero"}


def test_a_payment_removed_on_the_platform_is_the_variance(books, org):
    bill = supplier_bill(org)
    payment = pay(bill, "80.00", "BP-1")
    drain()
    books.remove_payment_as_user(ref_of(payment).remote_id)
    run = engine.run(books.conn)
    assert run.status == RunStatus.DONE, run.error
    found = Variance.objects.filter(connection=books.conn, status=VarianceStatus.OPEN)
    assert f"ledger.billpayment:{payment.pk}" in set(found.values_list("source_key", flat=True))


def test_a_bill_paid_in_part_and_then_corrected_here(books, org):
    """The supplier's bill corrected upwards after 80.00 was paid: QuickBooks takes the edit (the payment moved only
    the bill's Balance and SyncToken, which are not a person's edit) and owes the rest; Xero refuses to edit a bill
    with payments (remove them first), and the attention list says so."""
    bill = supplier_bill(org)
    pay(bill, "80.00", "BP-1")
    drain()
    line = bill.lines.get()
    line.amount = D("250.00")
    line.save()
    drain()
    entry = OutboxEntry.objects.get(connection=books.conn, source_key=f"ledger.bill:{bill.pk}")
    if books.platform == "qbo":
        assert entry.status == EntryStatus.DONE, entry.last_error
        assert books.owed(ref_of(bill).remote_id) == D("170.00")
        reconciled(books, bill)
    else:
        assert entry.status == EntryStatus.NEEDS_ATTENTION, entry.status
        assert "cannot be edited as it has a payment or credit note allocated to it" in entry.last_error
        assert books.owed(ref_of(bill).remote_id) == D("120.00")
