"""python-quickbooks (with intuit-oauth) as an independent client of the QBO sandbox.

If this library and the sandbox disagree about the wire format, the sandbox is wrong. The client is pointed
at the sandbox by overriding its API base URL on the instance (``api_url`` is a property that reads
``api_url_v3`` or ``sandbox_api_url_v3``); ``AuthClient`` treats any unknown environment as the discovery URL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.batch import batch_create, batch_delete, batch_update
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import (
    ObjectNotFoundException,
    QuickbooksException,
    ValidationException,
)
from quickbooks.objects.account import Account
from quickbooks.objects.base import LinkedTxn, Ref
from quickbooks.objects.bill import Bill
from quickbooks.objects.billpayment import BillPayment, BillPaymentLine, CheckPayment
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import (AccountBasedExpenseLine, AccountBasedExpenseLineDetail, SalesItemLine,
                                           SalesItemLineDetail)
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.tax import TxnTaxDetail
from quickbooks.objects.vendor import Vendor

from connectors.qbo.sandbox.schema import COMPANY_TZ


@pytest.fixture
def qb(sandbox, monkeypatch) -> QuickBooks:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # requests-oauthlib refuses plain http otherwise
    tokens = sandbox.issue_tokens()
    auth = AuthClient(sandbox.client_id, sandbox.client_secret, "http://localhost/callback", sandbox.discovery_url,
                      access_token=tokens["access_token"], refresh_token=tokens["refresh_token"],
                      realm_id=sandbox.realm_id)
    client = QuickBooks(auth_client=auth, refresh_token=tokens["refresh_token"], company_id=sandbox.realm_id,
                        minorversion=75)
    client.api_url_v3 = client.sandbox_api_url_v3 = sandbox.api_base
    return client


def new_customer(qb: QuickBooks, name: str) -> Customer:
    customer = Customer()
    customer.DisplayName = name
    return customer.save(qb=qb)


def new_item(qb: QuickBooks, name: str) -> Item:
    item = Item()
    item.Name, item.Type = name, "Service"
    item.IncomeAccountRef = Account.filter(Name="Sales", qb=qb)[0].to_ref()
    return item.save(qb=qb)


def new_invoice(customer: Customer, item: Item, *lines: tuple[int, str]) -> Invoice:
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    for qty, price in lines:
        line = SalesItemLine()
        line.SalesItemLineDetail = SalesItemLineDetail()
        line.SalesItemLineDetail.ItemRef = item.to_ref()
        line.SalesItemLineDetail.Qty, line.SalesItemLineDetail.UnitPrice = qty, price
        line.Amount = str(qty * float(price))
        invoice.Line.append(line)
    return invoice


def company_now() -> dt.datetime:
    """python-quickbooks sends CDC timestamps without an offset: QBO reads them as company time."""
    return dt.datetime.now(COMPANY_TZ).replace(tzinfo=None)


def test_create_read_query_update_void_delete(qb, sandbox):
    customer = new_customer(qb, "Acme Ltd")
    item = new_item(qb, "Consulting")
    invoice = new_invoice(customer, item, (2, "50.00"), (3, "12.50"))
    invoice.DocNumber = "PQ-1"
    invoice = invoice.save(qb=qb)
    assert invoice.TotalAmt == 137.5 and invoice.Balance == 137.5 and invoice.SyncToken == "0"

    fetched = Invoice.get(invoice.Id, qb=qb)
    assert fetched.DocNumber == "PQ-1" and fetched.CustomerRef.value == customer.Id
    assert [line.Amount for line in fetched.Line] == [100.0, 37.5, 137.5]  # plus the computed subtotal line
    assert [i.Id for i in Invoice.filter(CustomerRef=customer.Id, qb=qb)] == [invoice.Id]
    assert [i.Id for i in Invoice.query("SELECT * FROM Invoice WHERE DocNumber = 'PQ-1'", qb=qb)] == [invoice.Id]
    assert Invoice.count("DocNumber = 'PQ-1'", qb=qb) == 1

    fetched.PrivateNote = "checked"
    fetched.Line = fetched.Line[:1]  # a full update replaces the lines
    updated = fetched.save(qb=qb)
    assert updated.SyncToken == "1" and updated.PrivateNote == "checked" and updated.TotalAmt == 100.0
    with pytest.raises(QuickbooksException) as stale:
        fetched.save(qb=qb)  # still holds SyncToken 0
    assert stale.value.error_code == 5010

    voided = Invoice.get(updated.Id, qb=qb)
    voided.void(qb=qb)
    assert Invoice.get(updated.Id, qb=qb).TotalAmt == 0
    second = new_invoice(customer, item, (1, "9.99")).save(qb=qb)
    second.delete(qb=qb)
    with pytest.raises(ObjectNotFoundException):
        Invoice.get(second.Id, qb=qb)
    with pytest.raises(ValidationException) as typo:
        Customer.from_json({"DisplayNmae": "typo"}).save(qb=qb)
    assert typo.value.error_code == 2010
    assert [c["DisplayName"] for c in sandbox.store.entities("Customer")] == ["Acme Ltd"]


def test_batch_create_update_delete(qb, sandbox):
    new_customer(qb, "Taken")
    good, duplicate = Customer(), Customer()
    good.DisplayName, duplicate.DisplayName = "Fresh", "Taken"
    created = batch_create([good, duplicate], qb=qb)
    assert [c.DisplayName for c in created.successes] == ["Fresh"]
    assert len(created.faults) == 1
    fault = created.faults[0]
    assert fault.type == "ValidationFault" and fault.original_object is duplicate
    assert fault.Error[0].code == "6240" and fault.Error[0].Message == "Duplicate Name Exists Error"

    fresh = created.successes[0]
    fresh.CompanyName = "Fresh Co"
    updated = batch_update([fresh], qb=qb)
    assert updated.faults == [] and updated.successes[0].CompanyName == "Fresh Co"
    assert updated.successes[0].SyncToken == "1"

    item = new_item(qb, "Widget")
    invoices = [new_invoice(fresh, item, (1, "10.00")).save(qb=qb) for _ in range(2)]
    deleted = batch_delete([invoices[0], Customer.get(fresh.Id, qb=qb)], qb=qb)
    assert [f.Error[0].code for f in deleted.faults] == ["500"]  # customers can't be deleted
    assert sandbox.store.get("Invoice", invoices[0].Id) is None
    assert sandbox.store.get("Invoice", invoices[1].Id) is not None


def test_change_data_capture(qb, sandbox):
    since = company_now() - dt.timedelta(minutes=5)
    customer = new_customer(qb, "Changing")
    item = new_item(qb, "Thing")
    kept = new_invoice(customer, item, (1, "5.00")).save(qb=qb)
    gone = new_invoice(customer, item, (1, "6.00")).save(qb=qb)
    gone.delete(qb=qb)
    changes = change_data_capture([Invoice, Customer], since, qb=qb)
    invoices = list(changes.Invoice)
    assert [i.Id for i in invoices] == [kept.Id, gone.Id]
    assert invoices[0].TotalAmt == 5.0 and invoices[1].status == "Deleted"
    assert [c.DisplayName for c in changes.Customer] == ["Changing"]
    assert changes.time
    with pytest.raises(QuickbooksException) as too_old:
        change_data_capture([Invoice], company_now() - dt.timedelta(days=31), qb=qb)
    assert too_old.value.error_code == 500 and "older than fixed days" in too_old.value.detail


def test_closed_books_and_throttling_surface_as_errors(qb, sandbox):
    customer = new_customer(qb, "Closed")
    item = new_item(qb, "Late fee")
    sandbox.store.closing_date = dt.date.today() + dt.timedelta(days=1)
    try:
        with pytest.raises(QuickbooksException) as closed:
            new_invoice(customer, item, (1, "1.00")).save(qb=qb)
        assert closed.value.error_code == 6210
    finally:
        sandbox.store.closing_date = None
    sandbox.limits.set("per_minute", 0)
    try:
        with pytest.raises(QuickbooksException) as throttled:
            Customer.get(customer.Id, qb=qb)
        assert "429" in str(throttled.value.message) and "ThrottleExceeded" in str(throttled.value.message)
    finally:
        sandbox.limits.restore()


def test_deposit_of_payments_less_a_fee(qb, sandbox):
    """A bank deposit as python-quickbooks builds it: a payment from Undeposited Funds (LinkedTxn) and the
    processor's fee as a negative DepositLineDetail line; read back, queried by date, and 6540 for the payment."""
    from quickbooks.objects.deposit import Deposit, DepositLine, DepositLineDetail
    from quickbooks.objects.base import LinkedTxn, Ref

    invoice = new_invoice(new_customer(qb, "Depositor"), new_item(qb, "Session"), (1, "80.00")).save(qb=qb)
    payment = sandbox.store.record_payment_as_user(invoice.Id, "80.00", txn_date="2026-03-02")
    paid = DepositLine()
    paid.Amount = 80.0
    link = LinkedTxn()
    link.TxnId, link.TxnType, link.TxnLineId = payment["Id"], "Payment", 0
    paid.LinkedTxn = [link]
    fee = DepositLine()
    fee.Amount = -2.62
    fee.DepositLineDetail = DepositLineDetail()
    fee.DepositLineDetail.AccountRef = Account.filter(Name="Bank Charges", qb=qb)[0].to_ref()
    deposit = Deposit()
    deposit.DepositToAccountRef = Ref()
    deposit.DepositToAccountRef.value = Account.filter(Name="Checking", qb=qb)[0].Id
    deposit.TxnDate, deposit.PrivateNote, deposit.Line = "2026-03-04", "Card payout", [paid, fee]
    saved = deposit.save(qb=qb)
    assert saved.TotalAmt == 77.38 and saved.Line[0].LinkedTxn[0].TxnId == payment["Id"]
    found = Deposit.query("SELECT * FROM Deposit WHERE TxnDate >= '2026-03-01' AND TxnDate <= '2026-03-31'", qb=qb)
    assert [d.Id for d in found] == [saved.Id] and found[0].PrivateNote == "Card payout"
    from quickbooks.objects.payment import Payment

    with pytest.raises(QuickbooksException) as deposited:
        Payment.get(payment["Id"], qb=qb).delete(qb=qb)
    assert deposited.value.error_code == 6540


def test_a_supplier_bill_created_read_and_deleted(qb, sandbox):
    """python-quickbooks' ``Bill``: a vendor's bill on Accounts Payable, its total the lines plus the tax; the API
    offers no void for a bill (python-quickbooks gives ``Bill`` only ``DeleteMixin``), so it is deleted."""
    vendor = Vendor()
    vendor.DisplayName = "Acme Supplies"
    vendor = vendor.save(qb=qb)
    detail = AccountBasedExpenseLineDetail()
    detail.AccountRef = Account.filter(Name="Supplies", qb=qb)[0].to_ref()
    detail.TaxCodeRef = Ref()
    detail.TaxCodeRef.value = next(c["Id"] for c in sandbox.store.entities("TaxCode") if c["Name"] == "GST 10%")
    line = AccountBasedExpenseLine()
    line.Amount, line.AccountBasedExpenseLineDetail = 200.0, detail
    bill = Bill()
    bill.VendorRef, bill.Line, bill.DocNumber = vendor.to_ref(), [line], "INV-7788"
    bill.TxnDate, bill.DueDate = "2026-11-02", "2026-12-02"
    bill.TxnTaxDetail = TxnTaxDetail()
    bill.TxnTaxDetail.TotalTax = 20.0
    bill = bill.save(qb=qb)
    assert bill.TotalAmt == 220.0 and bill.Balance == 220.0 and bill.DueDate == "2026-12-02"
    payable = next(a for a in sandbox.store.entities("Account") if a["AccountType"] == "Accounts Payable")
    assert bill.APAccountRef.value == payable["Id"]  # the company's only A/P account, implicitly

    fetched = Bill.get(bill.Id, qb=qb)
    assert fetched.VendorRef.value == vendor.Id and fetched.DocNumber == "INV-7788"
    assert [b.Id for b in Bill.filter(DocNumber="INV-7788", qb=qb)] == [bill.Id]

    wrong = Bill.get(bill.Id, qb=qb)
    wrong.DueDate = "2026-10-01"
    with pytest.raises(QuickbooksException) as early:
        wrong.save(qb=qb)
    assert early.value.error_code == 6000 and "due date" in str(early.value.detail)

    fetched.delete(qb=qb)
    with pytest.raises(ObjectNotFoundException):
        Bill.get(bill.Id, qb=qb)


def _bill_payment(qb, vendor: Vendor, bill: Bill, amount: float, number: str) -> BillPayment:
    payment = BillPayment()
    payment.VendorRef, payment.PayType, payment.TotalAmt, payment.DocNumber = vendor.to_ref(), "Check", amount, number
    payment.CheckPayment = CheckPayment()
    payment.CheckPayment.BankAccountRef = Account.filter(Name="Checking", qb=qb)[0].to_ref()
    link = LinkedTxn()
    link.TxnId, link.TxnType = bill.Id, "Bill"
    line = BillPaymentLine()
    line.Amount, line.LinkedTxn = amount, [link]
    payment.Line = [line]
    return payment.save(qb=qb)


def test_a_bill_of_200_paid_80_then_120_and_a_payment_voided(qb, sandbox):
    """python-quickbooks' ``BillPayment`` (PayType Check, its line linking the Bill): the bill's Balance falls to
    120.00, then 0.00; a payment over the balance is refused; voiding one (python-quickbooks' ``VoidMixin``:
    operation=update&include=void) puts its amount back on the bill."""
    vendor = Vendor()
    vendor.DisplayName = "Acme Supplies"
    vendor = vendor.save(qb=qb)
    detail = AccountBasedExpenseLineDetail()
    detail.AccountRef = Account.filter(Name="Supplies", qb=qb)[0].to_ref()
    line = AccountBasedExpenseLine()
    line.Amount, line.AccountBasedExpenseLineDetail = 200.0, detail
    bill = Bill()
    bill.VendorRef, bill.Line, bill.DocNumber, bill.TxnDate = vendor.to_ref(), [line], "INV-7788", "2026-11-02"
    bill = bill.save(qb=qb)
    assert bill.Balance == 200.0

    first = _bill_payment(qb, vendor, bill, 80.0, "BP-1")
    assert first.TotalAmt == 80.0 and first.PayType == "Check"
    assert first.CheckPayment.BankAccountRef.value == Account.filter(Name="Checking", qb=qb)[0].Id
    assert Bill.get(bill.Id, qb=qb).Balance == 120.0
    with pytest.raises(QuickbooksException) as over:
        _bill_payment(qb, vendor, bill, 150.0, "BP-X")
    assert over.value.error_code == 6000 and "open balance 120.00" in str(over.value.detail)
    second = _bill_payment(qb, vendor, bill, 120.0, "BP-2")
    assert Bill.get(bill.Id, qb=qb).Balance == 0.0
    assert [p.Id for p in BillPayment.filter(DocNumber="BP-2", qb=qb)] == [second.Id]

    BillPayment.get(second.Id, qb=qb).void(qb=qb)
    voided = BillPayment.get(second.Id, qb=qb)
    assert voided.TotalAmt == 0 and voided.PrivateNote.startswith("Voided")
    assert Bill.get(bill.Id, qb=qb).Balance == 120.0

    with pytest.raises(QuickbooksException) as linked:  # a bill with a payment applied is not deleted
        Bill.get(bill.Id, qb=qb).delete(qb=qb)
    assert linked.value.error_code == 6000
    BillPayment.get(first.Id, qb=qb).delete(qb=qb)
    assert Bill.get(bill.Id, qb=qb).Balance == 200.0
