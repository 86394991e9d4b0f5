"""Refunds, expenses and journals on the NetSuite REST sandbox as NetSuite models them (issue 23): a customer refund
applies credit memos and lowers what they have unapplied, never more; a check pays expense lines from a bank
account, NetSuite adds each line's tax, and a bank account in a foreign currency takes only its own; a journal entry
must balance; and the connector's bodies say it that way. Errors come in NetSuite's ``o:errorDetails`` shape."""
import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from connectors.documents import (CreditNoteSnapshot, ExpenseLineSnapshot, ExpenseSnapshot, JournalLineSnapshot,
                                  JournalSnapshot, LineSnapshot, Mapping, RefundSnapshot)
from connectors.errors import ConfigurationError
from connectors.netsuite import costs as c
from connectors.netsuite import translate as t
from tests.connectors.netsuite.test_sandbox import customer, error_of

D = Decimal
CHECKING, EURO_CHECKING, UNDEPOSITED, POSTAGE, SALES, RESTOCKING = "1", "2", "122", "61", "54", "58"
VENDOR, GST = "301", "31"


def credit_memo(ns, cust, *amounts):
    lines = [{"item": {"id": "202"}, "quantity": 1, "rate": str(a)} for a in amounts]
    return ns.create("creditmemo", {"entity": {"id": cust}, "item": {"items": lines}})


def refund_body(cust, memo, amount, account=CHECKING):
    return {"customer": {"id": cust}, "account": {"id": account},
            "apply": {"items": [{"doc": {"id": memo}, "apply": True, "amount": str(amount)}]}}


def test_a_customer_refund_lowers_the_credit_memo_and_cannot_exceed_it(ns):
    cust = customer(ns)
    memo = credit_memo(ns, cust, "120.00", "-12.00")  # a restocking fee kept: a negative line
    assert D(str(ns.get("creditmemo", memo)["unapplied"])) == D("108.00")
    refund = ns.create("customerrefund", refund_body(cust, memo, "40.00"))
    body = ns.get("customerrefund", refund)
    assert D(str(body["total"])) == D("40.00") and body["apply"]["items"][0]["doc"]["id"] == memo
    assert D(str(ns.get("creditmemo", memo)["unapplied"])) == D("68.00")
    detail = error_of(ns.call("POST", "record/v1/customerrefund", refund_body(cust, memo, "68.01")), 400)
    assert detail["o:errorCode"] == "USER_ERROR" and detail["o:errorPath"] == "apply.items[0].amount"
    # changed: the apply sublist replaced, the credit follows
    assert ns.call("PATCH", f"record/v1/customerrefund/{refund}", {"apply": {"items": [
        {"doc": {"id": memo}, "apply": True, "amount": "30.00"}]}}, params={"replace": "apply"}).status_code == 204
    assert D(str(ns.get("creditmemo", memo)["unapplied"])) == D("78.00")
    # a credit memo a refund applies cannot be deleted; the refund can, and the credit is whole again
    assert error_of(ns.call("DELETE", f"record/v1/creditmemo/{memo}"), 400)["o:errorCode"] == "USER_ERROR"
    assert ns.call("DELETE", f"record/v1/customerrefund/{refund}").status_code == 204
    assert D(str(ns.get("creditmemo", memo)["unapplied"])) == D("108.00")


def test_a_refund_of_an_overpayment_applies_the_payment_and_takes_no_more_than_it_left(ns):
    cust = customer(ns)
    pay = ns.create("customerpayment", {"customer": {"id": cust}, "payment": "80.00", "account": {"id": CHECKING}})
    detail = error_of(ns.call("POST", "record/v1/customerrefund", refund_body(cust, pay, "80.01")), 400)
    assert detail["o:errorPath"] == "apply.items[0].amount"
    refund = ns.create("customerrefund", refund_body(cust, pay, "80.00"))
    assert D(str(ns.get("customerpayment", pay)["unapplied"])) == D("0.00")
    assert error_of(ns.call("DELETE", f"record/v1/customerpayment/{pay}"), 400)["o:errorCode"] == "USER_ERROR"
    assert ns.call("DELETE", f"record/v1/customerrefund/{refund}").status_code == 204
    assert D(str(ns.get("customerpayment", pay)["unapplied"])) == D("80.00")


def test_a_refund_needs_a_bank_account_and_a_credit_memo_of_its_customer(ns):
    cust, other = customer(ns), customer(ns, name="Other Ltd")
    memo = credit_memo(ns, other, "50.00")
    detail = error_of(ns.call("POST", "record/v1/customerrefund", refund_body(cust, memo, "10.00")), 400)
    assert detail["o:errorPath"] == "apply.items[0].doc"
    mine = credit_memo(ns, cust, "50.00")
    detail = error_of(ns.call("POST", "record/v1/customerrefund", refund_body(cust, mine, "10.00", UNDEPOSITED)), 400)
    assert detail["o:errorPath"] == "account"  # Undeposited Funds is not a bank account
    detail = error_of(ns.call("POST", "record/v1/customerrefund", {**refund_body(cust, mine, "1"), "apply": None}), 400)
    assert detail["o:errorPath"] == "apply"


def check_body(account=CHECKING, currency="1", **extra):
    return {"account": {"id": account}, "entity": {"id": VENDOR}, "currency": {"id": currency},
            "expense": {"items": [{"account": {"id": POSTAGE}, "amount": "50.00", "taxCode": {"id": GST}},
                                  {"account": {"id": POSTAGE}, "amount": "10.00"}]}, **extra}


def test_a_check_adds_the_tax_of_its_lines_and_keeps_to_its_bank_accounts_currency(ns):
    check = ns.create("check", check_body(EURO_CHECKING, "2", exchangeRate="1.08"))
    body = ns.get("check", check)
    assert (D(str(body["total"])), D(str(body["taxTotal"])), D(str(body["exchangeRate"]))) == (D("65.00"), D("5.00"),
                                                                                                D("1.08"))
    assert D(str(body["expense"]["items"][0]["tax1Amt"])) == D("5.00")
    detail = error_of(ns.call("POST", "record/v1/check", check_body(EURO_CHECKING, "1")), 400)
    assert detail["o:errorPath"] == "currency"  # dollars from the euro account: refused
    assert ns.create("check", check_body(CHECKING, "2"))  # euros from the base-currency account: taken
    detail = error_of(ns.call("POST", "record/v1/check", {**check_body(), "entity": None}), 400)
    assert detail["o:errorPath"] == "entity"  # a check names its payee
    detail = error_of(ns.call("POST", "record/v1/check", {**check_body(), "account": {"id": POSTAGE}}), 400)
    assert detail["o:errorPath"] == "account"


def test_a_journal_entry_must_balance(ns):
    lines = [{"account": {"id": POSTAGE}, "debit": "100.00"}, {"account": {"id": CHECKING}, "credit": "90.00"}]
    detail = error_of(ns.call("POST", "record/v1/journalentry", {"line": {"items": lines}}), 400)
    assert detail["o:errorCode"] == "USER_ERROR" and "debits must equal the total credits" in detail["detail"]
    lines[1]["credit"] = "100.00"
    entry = ns.create("journalentry", {"subsidiary": {"id": "1"}, "line": {"items": lines}})
    rows = ns.get("journalentry", entry)["line"]["items"]
    assert [(x["account"]["id"], x.get("debit"), x.get("credit")) for x in rows] == [(POSTAGE, 100.0, None),
                                                                                   (CHECKING, None, 100.0)]
    both = [{"account": {"id": POSTAGE}, "debit": "5.00", "credit": "5.00"}, {"account": {"id": CHECKING}}]
    assert error_of(ns.call("POST", "record/v1/journalentry", {"line": {"items": both}}), 400)["o:errorPath"] == \
        "line.items[0]"


def test_suiteql_lists_the_new_transactions_with_their_types(ns):
    cust = customer(ns)
    memo = credit_memo(ns, cust, "20.00")
    ns.create("customerrefund", refund_body(cust, memo, "20.00"))
    ns.create("check", check_body())
    rows = ns.suiteql("SELECT id, type, foreigntotal FROM transaction").json()["items"]
    assert {(r["type"], r["foreigntotal"]) for r in rows} >= {("CustRfnd", "20.00"), ("Check", "65.00")}


# -- the connector's bodies ---------------------------------------------------------------------------------------
def test_refund_body_applies_the_credit_memo_from_the_refund_account():
    doc = RefundSnapshot(key="ledger.refund:1", organization_id=1, number="RF-1", customer_key="c",
                         date=dt.date(2026, 1, 5),
                         amount=D("108.00"), credit_note_key="n")
    body = c.refund_payload(doc, Mapping(deposit_account=CHECKING, refs={"c": "7", "n": "9"}), {"id": "1"})
    assert body == {"externalId": "ledger.refund:1", "customer": {"id": "7"}, "account": {"id": CHECKING},
                    "tranDate": "2026-01-05", "currency": {"id": "1"}, "memo": "RF-1",
                    "apply": {"items": [{"doc": {"id": "9"}, "apply": True, "amount": D("108.00")}]}}
    overpaid = dataclasses.replace(doc, credit_note_key=None, payment_key="p")  # an overpayment: the payment
    body = c.refund_payload(overpaid, Mapping(deposit_account=CHECKING, refs={"c": "7", "p": "11"}), {"id": "1"})
    assert body["apply"]["items"] == [{"doc": {"id": "11"}, "apply": True, "amount": D("108.00")}]
    assert c.refund_problems(dataclasses.replace(doc, credit_note_key=None))  # neither: not sent


def test_expense_body_is_a_check_with_expense_lines_and_journal_body_a_balanced_entry():
    line = ExpenseLineSnapshot(cost_kind="return_shipping", description="", net_amount=D("50.00"),
                               tax_amount=D("5.00"), tax_rate_key="gst")
    doc = ExpenseSnapshot(key="ledger.expense:1", organization_id=1, number="EX-1", payee="Parcel Express",
                          currency="EUR",
                          exchange_rate=D("1.08"), lines=(line,))
    mapping = Mapping(line_accounts=(POSTAGE,), deposit_account=EURO_CHECKING, tax_codes={"gst": GST})
    body = c.expense_payload(doc, mapping, VENDOR, {"id": "2"})
    assert body["entity"] == {"id": VENDOR} and body["memo"] == "Parcel Express" and body["tranId"] == "EX-1"
    assert body["expense"]["items"] == [{"account": {"id": POSTAGE}, "amount": D("50.00"), "taxCode": {"id": GST},
                                         "memo": "return shipping"}]
    with pytest.raises(ConfigurationError, match="expense payee"):
        c.expense_payload(doc, mapping, "", {"id": "2"})
    entry = JournalSnapshot(key="ledger.journalentry:1", organization_id=1, number="JE-1", lines=(
        JournalLineSnapshot("6100", "cost", debit=D("7.50")), JournalLineSnapshot("1010", "", credit=D("7.50"))))
    body = c.journal_payload(entry, Mapping(line_accounts=(POSTAGE, CHECKING)), "1", {"id": "1"})
    assert body["subsidiary"] == {"id": "1"} and body["line"]["items"] == [
        {"account": {"id": POSTAGE}, "debit": D("7.50"), "memo": "cost"}, {"account": {"id": CHECKING},
                                                                           "credit": D("7.50")}]


def test_a_kept_line_of_a_credit_note_is_a_negative_rate():
    lines = (LineSnapshot(kind="product", description="Returned", quantity=D("1"), unit_price=D("120.00"),
                          net_amount=D("120.00"), tax_amount=D("0")),
             LineSnapshot(kind="restocking_fee", description="Restocking fee", quantity=D("1"),
                          unit_price=D("12.00"), net_amount=D("12.00"), tax_amount=D("0")))
    note = CreditNoteSnapshot(key="ledger.creditnote:1", organization_id=1, number="CN-1", customer_key="c",
                              lines=lines)
    rows = t.lines(note, Mapping(refs={"c": "7"}), "201", ("202", "205"))
    assert [(r["item"]["id"], r["rate"]) for r in rows] == [("202", D("120.00")), ("205", D("-12.00"))]


def test_results_read_refund_check_and_journal_totals():
    refund = {"id": "5", "memo": "RF-1", "apply": {"items": [{"doc": {"id": "9"}, "apply": True, "amount": 40.0}]}}
    assert t.result("refund", refund).total == D("40.00")
    check = {"id": "6", "tranId": "EX-1", "total": 55.0, "exchangeRate": 1.08, "status": {"refName": "Voided"}}
    made = t.result("expense", check)
    assert (made.total, made.home_total, made.status, made.number) == (D("55.00"), D("59.40"), "voided", "EX-1")
    entry = {"id": "7", "tranId": "JE-1", "line": {"items": [{"account": {"id": "1"}, "debit": 7.5},
                                                             {"account": {"id": "2"}, "credit": 7.5}]}}
    assert t.result("journal", entry).total == D("7.50")
    assert t.fingerprint("journal", entry) != t.fingerprint("journal", {**entry, "line": {"items": [
        {"account": {"id": "1"}, "debit": 8}, {"account": {"id": "2"}, "credit": 8}]}})

