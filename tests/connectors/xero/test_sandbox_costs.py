"""The Xero sandbox's money going out: SPEND bank transactions, supplier bills (ACCPAY invoices) and manual
journals, written over the API with Xero's field names, rules and error bodies, and a refund as a payment on a
credit note (real loopback HTTP, no Django DB)."""
from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest

from connectors.xero.sandbox import schema
from tests.connectors.xero.test_sandbox import Api, clock, line, sandbox  # noqa: F401 (fixtures)

D = Decimal


@pytest.fixture
def api(sandbox):  # noqa: F811
    sandbox.reset()
    yield Api(sandbox)


def spend(**extra) -> dict:
    return {"Type": "SPEND", "Contact": {"Name": "Parcel Express"}, "BankAccount": {"Code": "090"},
            "Reference": "EXP-1", "LineItems": [line(50, account="425", tax="INPUT", Description="Return label")],
            **extra}


def errors_of(response) -> list[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    return [e["Message"] for element in body["Elements"] for e in element["ValidationErrors"]]


def test_a_spend_bank_transaction_is_an_expense_paid_from_a_bank_account(api):
    made = api.ok(api.put("BankTransactions", spend()), "BankTransactions")
    assert (made["Type"], made["Status"], made["BankAccount"]["Code"], made["Contact"]["Name"]) == \
        ("SPEND", "AUTHORISED", "090", "Parcel Express")
    assert (D(str(made["SubTotal"])), D(str(made["TotalTax"])), D(str(made["Total"]))) == \
        (D("50.00"), D("5.00"), D("55.00"))
    assert schema.check("BankTransactions", {"BankTransactions": [made]}) is None  # Xero's published schema
    payee = api.get("Contacts", where='Name=="Parcel Express"').json()["Contacts"]
    assert payee and payee[0]["IsSupplier"] is True  # Xero created the contact from the name
    changed = api.post(f"BankTransactions/{made['BankTransactionID']}", {"BankTransactions": [
        {**spend(), "BankTransactionID": made["BankTransactionID"],
         "LineItems": [line(60, account="425", tax="INPUT", Description="Return label")]}]})
    assert D(str(api.ok(changed, "BankTransactions")["Total"])) == D("66.00")
    deleted = api.post(f"BankTransactions/{made['BankTransactionID']}",  # the schema wants the whole transaction
                       {"BankTransactions": [{**spend(), "Status": "DELETED"}]})
    assert api.ok(deleted, "BankTransactions")["Status"] == "DELETED"
    again = api.post(f"BankTransactions/{made['BankTransactionID']}", {"BankTransactions": [spend()]})
    assert errors_of(again) == ["This bank transaction cannot be edited as it has been deleted or voided."]


def test_spend_rules(api):
    assert errors_of(api.put("BankTransactions", spend(BankAccount={"Code": "425"}))) == \
        ["Account type is invalid for making a payment to/from"]
    assert errors_of(api.put("BankTransactions", spend(CurrencyCode="EUR"))) == \
        ["The currency of the bank transaction (EUR) must be the currency of its bank account (USD)."]
    euro = api.ok(api.put("BankTransactions", spend(BankAccount={"Code": "092"}, CurrencyCode="EUR",
                                                    CurrencyRate=0.925926)), "BankTransactions")
    assert (euro["CurrencyCode"], D(str(euro["CurrencyRate"]))) == ("EUR", D("0.925926"))
    assert errors_of(api.put("BankTransactions", spend(LineItems=[line(50, account="999")]))) == \
        ["Account code '999' is not a valid code for this document."]


def test_a_manual_journal_must_balance(api):
    lines = [{"LineAmount": 100, "AccountCode": "404", "Description": "Processor fees"},
             {"LineAmount": -90, "AccountCode": "090", "Description": "Paid"}]
    refused = api.put("ManualJournals", {"Narration": "JE-1", "JournalLines": lines})
    assert errors_of(refused) == ["The total debits (100.00) must equal total credits (-90.00)"]  # verbatim (spec)
    unnamed = api.put("ManualJournals", {"JournalLines": lines})
    assert unnamed.status_code == 400 and unnamed.json()["Message"] == \
        "'Narration' is a required property. Path 'ManualJournals[0]'."  # the published schema requires it
    lines[1]["LineAmount"] = -100
    posted = api.ok(api.put("ManualJournals", {"Narration": "JE-1", "JournalLines": lines}), "ManualJournals")
    assert posted["Status"] == "POSTED" and [D(str(li["LineAmount"])) for li in posted["JournalLines"]] == \
        [D("100.00"), D("-100.00")]
    assert schema.check("ManualJournals", {"ManualJournals": [posted]}) is None
    journal_id = posted["ManualJournalID"]
    voided = api.post(f"ManualJournals/{journal_id}", {"ManualJournals": [{"Narration": "JE-1", "Status": "VOIDED"}]})
    assert api.ok(voided, "ManualJournals")["Status"] == "VOIDED"
    reposted = api.post(f"ManualJournals/{journal_id}", {"ManualJournals": [{"Narration": "JE-1", "Status": "POSTED"}]})
    assert errors_of(reposted) == \
        ["A manual journal with status VOIDED cannot be changed to POSTED."]


def test_a_refund_is_a_payment_on_the_credit_note(api):
    contact = api.contact()["ContactID"]
    note = api.ok(api.put("CreditNotes", {"Type": "ACCRECCREDIT", "Contact": {"ContactID": contact},
                                          "Status": "AUTHORISED", "LineItems": [line(120, tax="NONE"),
                                                                                line(-12, account="260",
                                                                                     tax="NONE")]}),
                  "CreditNotes")
    assert D(str(note["Total"])) == D("108.00")
    refund = {"CreditNote": {"CreditNoteID": note["CreditNoteID"]}, "Account": {"Code": "091"},
              "Date": "2026-03-01", "Amount": 40, "Reference": "RF-1"}
    paid = api.ok(api.put("Payments", refund), "Payments")
    assert paid["PaymentType"] == "ARCREDITPAYMENT"
    assert D(str(api.get(f"CreditNotes/{note['CreditNoteID']}").json()["CreditNotes"][0]["RemainingCredit"])) == \
        D("68.00")
    assert errors_of(api.put("Payments", {**refund, "Amount": 68.01})) == \
        ["Payment amount exceeds the amount outstanding on this document"]


def bill(**extra) -> dict:
    return {"Type": "ACCPAY", "Contact": {"Name": "Acme Supplies"}, "InvoiceNumber": "INV-7788",
            "Date": "2026-11-02", "DueDate": "2026-12-02", "Status": "AUTHORISED",
            "LineItems": [line(200, account="429", tax="INPUT", Description="Boxes and tape")], **extra}


def test_a_supplier_bill_is_an_accpay_invoice_owed_to_a_supplier(api):
    made = api.ok(api.put("Invoices", bill()), "Invoices")
    assert (made["Type"], made["Status"], made["InvoiceNumber"], made["Contact"]["Name"]) == \
        ("ACCPAY", "AUTHORISED", "INV-7788", "Acme Supplies")
    assert (D(str(made["SubTotal"])), D(str(made["TotalTax"])), D(str(made["Total"])), D(str(made["AmountDue"]))) \
        == (D("200.00"), D("20.00"), D("220.00"), D("220.00"))
    assert schema.check("Invoices", {"Invoices": [made]}) is None  # Xero's published schema
    supplier = api.get("Contacts", where='Name=="Acme Supplies"').json()["Contacts"]
    assert supplier and supplier[0]["IsSupplier"] is True
    # A bill's number need not be unique (the spec: unique for ACCREC only): a second supplier bill of that number.
    other = api.ok(api.put("Invoices", bill(Contact={"Name": "Other Supplier"})), "Invoices")
    assert other["InvoiceID"] != made["InvoiceID"] and other["InvoiceNumber"] == "INV-7788"
    voided = api.post(f"Invoices/{made['InvoiceID']}", {"Invoices": [{"InvoiceID": made["InvoiceID"],
                                                                      "Status": "VOIDED"}]})
    assert api.ok(voided, "Invoices")["Status"] == "VOIDED"


def test_a_bill_takes_no_discount(api):
    assert "Discounts can only be applied to sales invoices (ACCREC)." in errors_of(
        api.put("Invoices", bill(LineItems=[line(200, account="429", tax="INPUT", DiscountRate=10)])))


def test_xero_python_writes_a_bill_the_sandbox_takes(sandbox):  # noqa: F811
    """The official SDK's ``Invoice`` of type ACCPAY: created, read back, voided."""
    pytest.importorskip("xero_python")
    from xero_python.accounting import AccountingApi, Contact, Invoice, Invoices, LineAmountTypes, LineItem
    from xero_python.api_client import ApiClient, Configuration
    from xero_python.api_client.oauth2 import OAuth2Token

    sandbox.reset()
    token = sandbox.issue_tokens()
    token.update(scope=token["scope"].split(), expires_at=time.time() + token["expires_in"])
    stored: dict = {}
    client = ApiClient(Configuration(oauth2_token=OAuth2Token()), pool_threads=1)
    client.configuration.oauth2_token = OAuth2Token(client_id="sandbox-client", client_secret="sandbox-secret")
    client.oauth2_token_getter(lambda: stored)
    client.oauth2_token_saver(lambda new: stored.update(new))
    client.set_oauth2_token(token)
    accounting = AccountingApi(client, base_url=sandbox.api_base)
    tenant = sandbox.tenant_id
    made = accounting.create_invoices(tenant, Invoices(invoices=[Invoice(
        type="ACCPAY", contact=Contact(name="Acme Supplies"), invoice_number="INV-7788", status="AUTHORISED",
        date=dt.date(2026, 11, 2), due_date=dt.date(2026, 12, 2), line_amount_types=LineAmountTypes.EXCLUSIVE,
        line_items=[LineItem(description="Boxes and tape", quantity=D("1"), unit_amount=D("200.00"),
                             account_code="429", tax_type="INPUT")])]), idempotency_key="sdk-bill-1").invoices[0]
    assert (made.type, made.total, made.total_tax, made.amount_due) == ("ACCPAY", D("220.00"), D("20.00"), D("220.00"))
    read = accounting.get_invoice(tenant, made.invoice_id).invoices[0]
    assert read.invoice_number == "INV-7788" and read.contact.name == "Acme Supplies"
    assert read.due_date == dt.date(2026, 12, 2)
    voided = accounting.update_invoice(tenant, made.invoice_id, Invoices(invoices=[Invoice(
        invoice_id=made.invoice_id, status="VOIDED")])).invoices[0]
    assert voided.status == "VOIDED"
    sandbox.reset()


def test_a_bill_payment_is_a_payment_on_the_accpay_invoice(api):
    """A bill of 200.00 paid 80.00 then 120.00 from the bank account 090: AmountDue falls, the bill is PAID; a
    payment over what is due is refused; deleting a payment (Status DELETED) owes it again."""
    made = api.ok(api.put("Invoices", bill(LineItems=[line(200, account="429", tax="NONE", Description="Boxes")])),
                  "Invoices")
    pay = {"Invoice": {"InvoiceID": made["InvoiceID"]}, "Account": {"Code": "090"}, "Date": "2026-11-10"}
    first = api.ok(api.put("Payments", {**pay, "Amount": 80, "Reference": "BP-1"}), "Payments")
    assert (first["PaymentType"], D(str(first["Amount"])), first["Invoice"]["Type"]) == \
        ("ACCPAYPAYMENT", D("80.00"), "ACCPAY")
    held = api.ok(api.get(f"Invoices/{made['InvoiceID']}"), "Invoices")
    assert (D(str(held["AmountDue"])), D(str(held["AmountPaid"])), held["Status"]) == \
        (D("120.00"), D("80.00"), "AUTHORISED")
    assert errors_of(api.put("Payments", {**pay, "Amount": 150, "Reference": "BP-X"})) == \
        ["Payment amount exceeds the amount outstanding on this document"]
    second = api.ok(api.put("Payments", {**pay, "Amount": 120, "Reference": "BP-2"}), "Payments")
    held = api.ok(api.get(f"Invoices/{made['InvoiceID']}"), "Invoices")
    assert (D(str(held["AmountDue"])), held["Status"]) == (D("0.00"), "PAID")
    deleted = api.post(f"Payments/{second['PaymentID']}", {"Status": "DELETED"})
    assert api.ok(deleted, "Payments")["Status"] == "DELETED"
    held = api.ok(api.get(f"Invoices/{made['InvoiceID']}"), "Invoices")
    assert (D(str(held["AmountDue"])), held["Status"]) == (D("120.00"), "AUTHORISED")


def test_xero_python_pays_a_bill_the_sandbox_takes(sandbox):  # noqa: F811
    """The official SDK's ``Payment`` on an ACCPAY invoice: 80.00 then 120.00 (AmountDue 0, PAID), one deleted
    with ``PaymentDelete`` (the bill owed again)."""
    pytest.importorskip("xero_python")
    from xero_python.accounting import (Account, AccountingApi, Contact, Invoice, Invoices, LineAmountTypes, LineItem,
                                        Payment, PaymentDelete)
    from xero_python.api_client import ApiClient, Configuration
    from xero_python.api_client.oauth2 import OAuth2Token

    sandbox.reset()
    token = sandbox.issue_tokens()
    token.update(scope=token["scope"].split(), expires_at=time.time() + token["expires_in"])
    stored: dict = {}
    client = ApiClient(Configuration(oauth2_token=OAuth2Token()), pool_threads=1)
    client.configuration.oauth2_token = OAuth2Token(client_id="sandbox-client", client_secret="sandbox-secret")
    client.oauth2_token_getter(lambda: stored)
    client.oauth2_token_saver(lambda new: stored.update(new))
    client.set_oauth2_token(token)
    accounting = AccountingApi(client, base_url=sandbox.api_base)
    tenant = sandbox.tenant_id
    made = accounting.create_invoices(tenant, Invoices(invoices=[Invoice(
        type="ACCPAY", contact=Contact(name="Acme Supplies"), invoice_number="INV-7788", status="AUTHORISED",
        date=dt.date(2026, 11, 2), due_date=dt.date(2026, 12, 2), line_amount_types=LineAmountTypes.EXCLUSIVE,
        line_items=[LineItem(description="Boxes and tape", quantity=D("1"), unit_amount=D("200.00"),
                             account_code="429", tax_type="NONE")])]), idempotency_key="sdk-bill-2").invoices[0]

    def pay(amount: str, reference: str):
        return accounting.create_payment(tenant, Payment(
            invoice=Invoice(invoice_id=made.invoice_id), account=Account(code="090"), amount=D(amount),
            date=dt.date(2026, 11, 10), reference=reference), idempotency_key=f"sdk-{reference}").payments[0]

    first = pay("80.00", "BP-1")
    assert first.amount == D("80.00") and accounting.get_invoice(tenant, made.invoice_id).invoices[0].amount_due \
        == D("120.00")
    second = pay("120.00", "BP-2")
    paid = accounting.get_invoice(tenant, made.invoice_id).invoices[0]
    assert (paid.amount_due, str(paid.status)) in ((D("0.00"), "PAID"), (D("0.00"), "InvoiceStatus.PAID"))
    removed = accounting.delete_payment(tenant, second.payment_id, PaymentDelete(status="DELETED")).payments[0]
    assert "DELETED" in str(removed.status)
    assert accounting.get_invoice(tenant, made.invoice_id).invoices[0].amount_due == D("120.00")
    sandbox.reset()


def overpaid(api, amount=80) -> dict:
    """A customer's overpayment as Xero makes one: a RECEIVE-OVERPAYMENT bank transaction (its line on accounts
    receivable), which names the Overpayments record it made."""
    contact = api.contact()["ContactID"]
    made = api.ok(api.put("BankTransactions", {
        "Type": "RECEIVE-OVERPAYMENT", "Contact": {"ContactID": contact}, "BankAccount": {"Code": "090"},
        "Reference": "PAY-9", "LineAmountTypes": "NoTax", "Date": "2026-03-01",
        "LineItems": [line(amount, account="610", tax="NONE", Description="Overpayment PAY-9")]}), "BankTransactions")
    assert made["Type"] == "RECEIVE-OVERPAYMENT" and made["OverpaymentID"]
    return made


def remaining(api, overpayment_id: str) -> tuple[Decimal, str]:
    found = api.get(f"Overpayments/{overpayment_id}").json()["Overpayments"][0]
    return D(str(found["RemainingCredit"])), found["Status"]


def test_a_refund_of_an_overpayment_is_a_payment_on_it_for_no_more_than_its_remaining_credit(api):
    made = overpaid(api)
    listed = api.get("Overpayments", where=f'OverpaymentID==Guid("{made["OverpaymentID"]}")').json()
    [overpayment] = listed["Overpayments"]
    assert (overpayment["Type"], D(str(overpayment["Total"])), overpayment["Reference"]) == \
        ("RECEIVE-OVERPAYMENT", D("80.00"), "PAY-9")
    refund = {"Overpayment": {"OverpaymentID": made["OverpaymentID"]}, "Account": {"Code": "090"},
              "Date": "2026-03-05", "Amount": 30, "Reference": "RF-9"}
    paid = api.ok(api.put("Payments", refund), "Payments")
    assert paid["PaymentType"] == "AROVERPAYMENTPAYMENT"
    assert paid["Overpayment"]["OverpaymentID"] == made["OverpaymentID"]
    assert remaining(api, made["OverpaymentID"]) == (D("50.00"), "AUTHORISED")
    assert errors_of(api.put("Payments", {**refund, "Amount": 50.01})) == \
        ["Payment amount exceeds the amount outstanding on this document"]
    rest = api.ok(api.put("Payments", {**refund, "Amount": 50, "Reference": "RF-10"}), "Payments")
    assert remaining(api, made["OverpaymentID"]) == (D("0.00"), "PAID")
    assert errors_of(api.put("Payments", {**refund, "Amount": 1})) == \
        ["Payment amount exceeds the amount outstanding on this document"]
    api.ok(api.post(f"Payments/{rest['PaymentID']}", {"Status": "DELETED"}), "Payments")  # the credit is back
    assert remaining(api, made["OverpaymentID"]) == (D("50.00"), "AUTHORISED")
    whole = {field: made[field] for field in ("BankTransactionID", "Type", "BankAccount", "LineItems")}
    assert errors_of(api.post(f"BankTransactions/{made['BankTransactionID']}",
                              {"BankTransactions": [{**whole, "Status": "DELETED"}]})) == \
        ["This overpayment cannot be deleted as it has payments or allocations applied to it."]


def test_xero_python_refunds_an_overpayment_the_sandbox_holds(sandbox):  # noqa: F811
    """The official SDK's ``BankTransaction`` of type RECEIVE-OVERPAYMENT, then ``Payment(overpayment=...)``."""
    pytest.importorskip("xero_python")
    from xero_python.accounting import (Account, AccountingApi, BankTransaction, BankTransactions, Contact,
                                        LineAmountTypes, LineItem, Overpayment, Payment)
    from xero_python.api_client import ApiClient, Configuration
    from xero_python.api_client.oauth2 import OAuth2Token

    sandbox.reset()
    token = sandbox.issue_tokens()
    token.update(scope=token["scope"].split(), expires_at=time.time() + token["expires_in"])
    stored: dict = {}
    client = ApiClient(Configuration(oauth2_token=OAuth2Token()), pool_threads=1)
    client.configuration.oauth2_token = OAuth2Token(client_id="sandbox-client", client_secret="sandbox-secret")
    client.oauth2_token_getter(lambda: stored)
    client.oauth2_token_saver(lambda new: stored.update(new))
    client.set_oauth2_token(token)
    accounting = AccountingApi(client, base_url=sandbox.api_base)
    tenant = sandbox.tenant_id
    made = accounting.create_bank_transactions(tenant, BankTransactions(bank_transactions=[BankTransaction(
        type="RECEIVE-OVERPAYMENT", contact=Contact(name="Overpaying Customer"), bank_account=Account(code="090"),
        date=dt.date(2026, 11, 2), line_amount_types=LineAmountTypes.NOTAX, reference="PAY-7",
        line_items=[LineItem(description="Overpayment", quantity=D("1"), unit_amount=D("80.00"),
                             account_code="610")])]), idempotency_key="sdk-overpayment-1").bank_transactions[0]
    assert made.overpayment_id
    refund = accounting.create_payment(tenant, Payment(
        overpayment=Overpayment(overpayment_id=made.overpayment_id), account=Account(code="090"),
        amount=D("80.00"), date=dt.date(2026, 11, 10), reference="RF-7"), idempotency_key="sdk-rf-7").payments[0]
    assert refund.amount == D("80.00") and "AROVERPAYMENTPAYMENT" in str(refund.payment_type)
    held = accounting.get_overpayment(tenant, made.overpayment_id).overpayments[0]
    assert held.remaining_credit == D("0.00") and "PAID" in str(held.status)
    sandbox.reset()
