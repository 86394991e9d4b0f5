"""Refunds, expenses and journals on the NetSuite SOAP sandbox as NetSuite models them (issue 23), driven by a plain
zeep client loaded from the WSDL the sandbox serves: a customer refund applies credit memos or a payment's unapplied
amount and lowers it, never more; a check pays expense lines from a bank account to a vendor and NetSuite adds each
line's tax; a journal entry must balance. Then the connector's records say it that way, and read back."""
import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

import pytest
import zeep

from connectors.documents import (Entity, ExpenseLineSnapshot, ExpenseSnapshot, JournalLineSnapshot, JournalSnapshot,
                                  Mapping, RefundSnapshot, RemoteRef)
from connectors.errors import ConfigurationError, ValidationFailed
from tests.connectors.netsuitesoap.test_connector import connect, sent_invoice
from tests.connectors.netsuitesoap.test_independent_client import CORE, CUST, REL, add, passport

D = Decimal
BANK = "{urn:bank_2025_2.transactions.webservices.netsuite.com}"
GENERAL = "{urn:general_2025_2.transactions.webservices.netsuite.com}"
CHECKING, UNDEPOSITED, EXPENSES, GST, VENDOR, EURO = "1", "2", "9", "21", "41", "2"


@pytest.fixture
def client(nssandbox):
    return zeep.Client(f"{nssandbox.base_url}/wsdl/v2025_2_0/netsuite.wsdl")


def ref(client, internal_id, kind=None):
    return client.get_type(f"{CORE}RecordRef")(internalId=internal_id, type=kind)


def customer(client, name="Acme"):
    return add(client, client.get_type(f"{REL}Customer")(companyName=name)).baseRef.internalId


def credit_memo(client, cust, *rates):
    line = client.get_type("{urn:sales_2025_2.transactions.webservices.netsuite.com}InvoiceItem")
    lines = client.get_type(f"{CUST}CreditMemoItemList")(item=[line(item=ref(client, "11"), quantity=1, rate=r)
                                                               for r in rates])
    memo = client.get_type(f"{CUST}CreditMemo")(entity=ref(client, cust), itemList=lines)
    return add(client, memo).baseRef.internalId


def refund(client, cust, doc, amount, account=CHECKING, internal_id=None):
    apply = client.get_type(f"{CUST}CustomerRefundApply")(doc=int(doc), apply=True, amount=D(amount))
    return client.get_type(f"{CUST}CustomerRefund")(
        internalId=internal_id, customer=ref(client, cust), account=ref(client, account),
        applyList=client.get_type(f"{CUST}CustomerRefundApplyList")(apply=[apply]))


def get(client, internal_id, kind):
    answer = client.service.get(baseRef=ref(client, internal_id, kind), _soapheaders=passport())
    assert answer.status.isSuccess, answer.status
    return answer.record


def refused(answer) -> str:
    assert not answer.status.isSuccess
    return answer.status.statusDetail[0].code


def delete(client, internal_id, kind):
    return client.service.delete(baseRef=ref(client, internal_id, kind), _soapheaders=passport())


def test_a_customer_refund_lowers_the_credit_memo_and_cannot_exceed_it(client):
    cust = customer(client)
    memo = credit_memo(client, cust, "120.00", "-12.00")  # a restocking fee kept: a negative line
    assert D(str(get(client, memo, "creditMemo").unapplied)) == D("108.00")
    made = add(client, refund(client, cust, memo, "40.00"))
    assert made.status.isSuccess and made.baseRef.type == "customerRefund"
    held = get(client, made.baseRef.internalId, "customerRefund")
    assert D(str(held.total)) == D("40.00") and held.applyList.apply[0].doc == int(memo)
    assert held.applyList.apply[0].type == "Credit Memo"
    assert D(str(get(client, memo, "creditMemo").unapplied)) == D("68.00")
    assert refused(add(client, refund(client, cust, memo, "68.01"))) == "USER_ERROR"
    # changed: the applyList replaced, the credit follows
    changed = client.service.update(record=refund(client, cust, memo, "30.00", internal_id=made.baseRef.internalId),
                                    _soapheaders=passport())
    assert changed.status.isSuccess and D(str(get(client, memo, "creditMemo").unapplied)) == D("78.00")
    # a credit memo a refund applies cannot be deleted; the refund can, and the credit is whole again
    assert refused(delete(client, memo, "creditMemo")) == "CANT_DELETE_RCRD"
    assert delete(client, made.baseRef.internalId, "customerRefund").status.isSuccess
    assert D(str(get(client, memo, "creditMemo").unapplied)) == D("108.00")


def test_a_refund_of_an_overpayment_applies_the_payment_and_needs_a_bank_account_and_its_customer(client):
    cust, other = customer(client), customer(client, "Other Ltd")
    pay = add(client, client.get_type(f"{CUST}CustomerPayment")(customer=ref(client, cust), payment=D("80.00")))
    pay = pay.baseRef.internalId
    assert refused(add(client, refund(client, other, pay, "10.00"))) == "INVALID_KEY_OR_REF"  # not its payment
    assert refused(add(client, refund(client, cust, pay, "10.00", UNDEPOSITED))) == "INVALID_KEY_OR_REF"  # not a bank
    assert refused(add(client, refund(client, cust, pay, "80.01"))) == "USER_ERROR"
    made = add(client, refund(client, cust, pay, "80.00")).baseRef.internalId
    assert get(client, made, "customerRefund").applyList.apply[0].type == "Payment"
    assert D(str(get(client, pay, "customerPayment").unapplied)) == D("0.00")
    assert refused(delete(client, pay, "customerPayment")) == "CANT_DELETE_RCRD"


def check(client, account=CHECKING, vendor=VENDOR, **extra):
    line = client.get_type(f"{BANK}CheckExpense")
    return client.get_type(f"{BANK}Check")(
        account=ref(client, account), entity=ref(client, vendor) if vendor else None,
        expenseList=client.get_type(f"{BANK}CheckExpenseList")(expense=[
            line(account=ref(client, EXPENSES), amount=D("50.00"), taxCode=ref(client, GST)),
            line(account=ref(client, EXPENSES), amount=D("10.00"))]), **extra)


def test_a_check_adds_the_tax_of_its_lines_and_names_a_vendor_and_a_bank_account(client):
    made = add(client, check(client, currency=ref(client, EURO), exchangeRate=D("1.08")))
    held = get(client, made.baseRef.internalId, "check")
    assert (D(str(held.userTotal)), D(str(held.taxTotal)), D(str(held.exchangeRate))) == (D("65.00"), D("5.00"),
                                                                                          D("1.08"))
    assert D(str(held.expenseList.expense[0].tax1Amt)) == D("5.00") and held.expenseList.expense[1].tax1Amt is None
    assert D(str(get(client, add(client, check(client, currency=ref(client, EURO))).baseRef.internalId,
                     "check").exchangeRate)) == D("1.08")  # the currency's rate when none is sent
    assert refused(add(client, check(client, vendor=None))) == "USER_ERROR"  # a check names its payee
    assert refused(add(client, check(client, vendor=customer(client)))) == "INVALID_KEY_OR_REF"  # a vendor
    assert refused(add(client, check(client, account=EXPENSES))) == "INVALID_KEY_OR_REF"  # paid from a bank


def test_a_journal_entry_must_balance(client):
    line = client.get_type(f"{GENERAL}JournalEntryLine")
    lines = client.get_type(f"{GENERAL}JournalEntryLineList")
    entry = client.get_type(f"{GENERAL}JournalEntry")
    unbalanced = entry(lineList=lines(line=[line(account=ref(client, EXPENSES), debit=D("100.00")),
                                            line(account=ref(client, CHECKING), credit=D("90.00"))]))
    answer = add(client, unbalanced)
    assert refused(answer) == "USER_ERROR" and "debits must equal the total credits" in \
        answer.status.statusDetail[0].message
    both = entry(lineList=lines(line=[line(account=ref(client, EXPENSES), debit=D("5.00"), credit=D("5.00")),
                                      line(account=ref(client, CHECKING))]))
    assert refused(add(client, both)) == "USER_ERROR"
    made = add(client, entry(tranId="JE-1", lineList=lines(line=[
        line(account=ref(client, EXPENSES), debit=D("100.00")), line(account=ref(client, CHECKING),
                                                                     credit=D("100.00"))])))
    rows = get(client, made.baseRef.internalId, "journalEntry").lineList.line
    assert [(r.account.internalId, r.debit, r.credit) for r in rows] == [(EXPENSES, 100.0, None),
                                                                       (CHECKING, None, 100.0)]


def test_a_search_by_type_finds_refunds_checks_and_journal_entries(client):
    cust = customer(client)
    add(client, refund(client, cust, credit_memo(client, cust, "20.00"), "20.00"))
    add(client, check(client))
    basic = client.get_type("{urn:common_2025_2.platform.webservices.netsuite.com}TransactionSearchBasic")(
        type=client.get_type(f"{CORE}SearchEnumMultiSelectField")(operator="anyOf",
                                                                 searchValue=["_customerRefund", "_check"]))
    found = client.service.search(searchRecord=basic, _soapheaders=passport()).recordList.record
    assert sorted(type(r).__name__ for r in found) == ["Check", "CustomerRefund"]


# -- the connector --------------------------------------------------------------------------------------------------
def test_the_connector_refunds_a_credit_note_sends_a_check_and_a_journal_and_deletes_them_when_voided(nssandbox):
    conn = connect(nssandbox)
    doc, refs, made = sent_invoice(conn, "30.00")
    cust_key = doc.customer_key
    note_id = credit_memo_via(conn, nssandbox, refs[cust_key])
    rfd = RefundSnapshot(key=f"test.refund:{uuid.uuid4().hex[:6]}", organization_id=1, number="RF-1",
                         customer_key=cust_key, date=dt.date(2026, 1, 5), amount=D("12.00"), credit_note_key="n")
    mapping = Mapping(deposit_account=CHECKING, refs={**refs, "n": note_id})
    sent = conn.create(rfd, mapping, "r")
    assert (sent.total, sent.number, sent.status) == (D("12.00"), "RF-1", "active")
    assert conn.find_existing(rfd, mapping).remote_id == sent.remote_id  # a retry finds it by externalId
    assert conn.fetch(Entity.CREDIT_NOTE, note_id).balance == D("18.00")

    line = ExpenseLineSnapshot(cost_kind="return_shipping", description="", net_amount=D("50.00"),
                               tax_amount=D("5.00"), tax_rate_key="gst")
    expense = ExpenseSnapshot(key=f"test.expense:{uuid.uuid4().hex[:6]}", organization_id=1, number="EX-1",
                              payee="Parcel Express", currency="EUR", exchange_rate=D("1.08"), lines=(line,))
    cost_mapping = Mapping(line_accounts=(EXPENSES,), deposit_account=CHECKING, tax_codes={"gst": GST})
    paid = conn.create(expense, cost_mapping, "e")
    assert (paid.total, paid.home_total, paid.number) == (D("55.00"), D("59.40"), "EX-1")
    assert paid.raw["entity"]["internalId"] == VENDOR and paid.raw["memo"] == "Parcel Express"
    assert paid.raw["currency"]["internalId"] == EURO

    journal = JournalSnapshot(key=f"test.journal:{uuid.uuid4().hex[:6]}", organization_id=1, number="JE-1", lines=(
        JournalLineSnapshot("6100", "cost", debit=D("7.50")), JournalLineSnapshot("1010", "", credit=D("7.50"))))
    posted = conn.create(journal, Mapping(line_accounts=(EXPENSES, CHECKING)), "j")
    assert (posted.total, posted.number) == (D("7.50"), "JE-1")
    changed = conn.update(dataclasses.replace(journal, lines=(
        JournalLineSnapshot("6100", "cost", debit=D("8.00")), JournalLineSnapshot("1010", "", credit=D("8.00")))),
        Mapping(line_accounts=(EXPENSES, CHECKING)), RemoteRef(posted.remote_id, posted.version), "j2")
    assert changed.total == D("8.00") and changed.fingerprint != posted.fingerprint

    read = {t.remote_id: t for entity, result in ((Entity.REFUND, sent), (Entity.EXPENSE, paid),
                                                   (Entity.JOURNAL, posted))
            for t in conn.read_documents(entity, [result.remote_id])}
    assert {i: (t.total, t.status) for i, t in read.items()} == {
        sent.remote_id: (D("12.00"), "open"), paid.remote_id: (D("55.00"), "open"),
        posted.remote_id: (D("8.00"), "open")}
    for entity, result in ((Entity.REFUND, sent), (Entity.EXPENSE, paid), (Entity.JOURNAL, posted)):
        conn.delete(entity, RemoteRef(result.remote_id, result.version), "v")
        assert conn.read_documents(entity, [result.remote_id])[0].status == "deleted"
    assert conn.fetch(Entity.CREDIT_NOTE, note_id).balance == D("30.00")


def credit_memo_via(conn, sandbox, cust_id) -> str:
    with sandbox.books.lock:
        return sandbox.books.add("creditMemo", {"entity": {"internalId": cust_id}, "itemList": [
            {"item": {"internalId": "11"}, "quantity": "1", "rate": "30.00"}]})["internalId"]


def test_what_the_connector_refuses_before_sending_and_what_netsuite_refuses(nssandbox):
    conn = connect(nssandbox, expense_payee="")
    rfd = RefundSnapshot(key="test.refund:x", organization_id=1, number="RF-2", customer_key="c", amount=D("1.00"))
    assert conn.preflight(rfd, Mapping()) and "neither" in conn.preflight(rfd, Mapping())[0]
    expense = ExpenseSnapshot(key="test.expense:x", organization_id=1, number="EX-2", lines=(
        ExpenseLineSnapshot(cost_kind="postage", description="", net_amount=D("1.00"), tax_amount=D("0")),))
    assert "expense payee" in conn.preflight(expense, Mapping())[0]
    with pytest.raises(ConfigurationError, match="expense payee"):
        conn.create(expense, Mapping(line_accounts=(EXPENSES,), deposit_account=CHECKING), "e")
    with pytest.raises(ConfigurationError, match="no currency XYZ"):
        connect(nssandbox).create(dataclasses.replace(expense, currency="XYZ"),
                                  Mapping(line_accounts=(EXPENSES,), deposit_account=CHECKING), "e")
    with pytest.raises(ValidationFailed, match="Invalid account reference key"):  # a bank account, not income
        connect(nssandbox).create(expense, Mapping(line_accounts=(EXPENSES,), deposit_account="5"), "e")
