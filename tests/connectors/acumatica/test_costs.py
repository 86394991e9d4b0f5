"""Refunds, expenses and journals on the Acumatica connector beyond the contract (issue 23): a restocking fee is a
negative credit-memo line; an overpayment refund is stopped before sending; an expense is a bill paid by a check,
and taken back by voiding the check and reversing the bill; a journal is taken back by a counter-batch; what was
taken back reads as voided and is never adopted again."""
import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

from connectors.acumatica import costs as c
from connectors.documents import Entity, LineSnapshot, Mapping, RemoteRef
from tests.connectors.acumatica.test_connector import connect
from tests.connectors.contract import credit_note, customer, expense, journal, refund
from tests.platforms import next_second

D = Decimal


def tag(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def test_a_restocking_fee_nets_the_credit_memo_and_a_refund_pays_out_the_rest(asandbox):
    conn = connect(asandbox)
    cust = customer()
    refs = {cust.key: conn.create(cust, Mapping(), "c").remote_id}
    note = credit_note(cust.key, tag("CN"), ("120.00",))
    fee = LineSnapshot(kind="restocking_fee", description="Restocking fee", quantity=D("1"), unit_price=D("12.00"),
                       net_amount=D("12.00"), tax_amount=D("0.00"))
    note = dataclasses.replace(note, lines=(*note.lines, fee), total=D("108.00"))
    lines = Mapping(line_accounts=("40000", "40400"), deposit_account="10200", refs=refs)
    memo = conn.create(note, lines, "n")
    assert (memo.total, memo.balance) == (D("108.00"), D("108.00"))
    assert [d["UnitPrice"] for d in memo.raw["Details"]] == [D("120.00"), D("-12.00")]
    refs[note.key] = memo.remote_id
    paid = conn.create(refund(cust.key, tag("RF"), note.key, "108.00"), Mapping(deposit_account="10200", refs=refs),
                       "r")
    assert paid.remote_id.startswith("Refund/") and paid.total == D("108.00")
    assert paid.raw["DocumentsToApply"][0]["DocType"] == "Credit Memo"
    assert conn.fetch(Entity.CREDIT_NOTE, memo.remote_id).balance == D("0.00")


def test_a_refund_of_an_overpayment_is_stopped_before_sending(asandbox):
    doc = dataclasses.replace(refund("C1", tag("RF"), "", "5.00"), credit_note_key=None, payment_key="p")
    assert "enter the refund in Acumatica by hand" in connect(asandbox).preflight(doc, Mapping())[0]


def test_an_expense_is_a_bill_paid_by_a_check_and_taken_back_by_reversing_it(asandbox):
    conn = connect(asandbox)
    doc = expense(tag("E"), ("30.00",))
    paying = Mapping(line_accounts=("60100",), deposit_account="10200")
    made = conn.create(doc, paying, "e")
    assert made.remote_id.startswith("Bill/") and (made.total, made.balance) == (D("30.00"), D("0.00"))
    checks = asandbox.store.rows("Check")
    assert [(r.data["Status"], r.data["PaymentRef"]) for r in checks] == [("Closed", doc.number)]
    assert asandbox.store.first("Vendor", VendorID=c.vendor_id(doc.payee)).data["VendorName"] == doc.payee

    voided = conn.void(Entity.EXPENSE, RemoteRef(made.remote_id), "v")
    assert voided.status == "voided" and voided.total == D("0.00")
    assert asandbox.store.rows("Check")[0].data["Status"] == "Voided"
    [adjustment] = [r for r in asandbox.store.rows("Bill") if r.data["Type"] == "Debit Adj."]
    assert adjustment.data["Description"] == f"Reversal of {made.remote_id}" and adjustment.data["Status"] == "Closed"
    assert conn.find_existing(doc, paying) is None  # the reversed bill is not ours to adopt again
    again = conn.create(doc, paying, "e2")
    assert again.remote_id != made.remote_id and again.status == "active"


def test_a_journal_is_a_released_gl_batch_and_taken_back_by_a_counter_batch(asandbox):
    conn = connect(asandbox)
    doc = journal(tag("JE"), "18.00")
    accounts = Mapping(line_accounts=("60200", "10200"))
    made = conn.create(doc, accounts, "j")
    assert made.remote_id.startswith("GL/") and made.total == D("18.00") and made.number == doc.number
    assert asandbox.store.rows("JournalTransaction")[0].data["Status"] == "Posted"
    voided = conn.void(Entity.JOURNAL, RemoteRef(made.remote_id), "v")
    assert voided.status == "voided"
    counter = asandbox.store.rows("JournalTransaction")[1].data
    assert counter["Description"] == f"Reversal of {made.remote_id}" and counter["Status"] == "Posted"
    assert [(line["DebitAmount"], line["CreditAmount"]) for line in counter["Details"]] == [
        (D("0.00"), D("18.00")), (D("18.00"), D("0.00"))]
    assert conn.find_existing(doc, accounts) is None


def test_taken_back_by_a_person_each_is_polled_once_as_voided_and_no_counter_document_is_ours(asandbox):
    """A person voids the refund, voids the check and reverses the bill, reverses the GL batch: one poll reports the
    three as voided (by their own ids), never the Voided Refund, the debit adjustment or the reversing batch; each
    reads back voided, and the reversing batch (our description copied) is not adopted as ours."""
    conn = connect(asandbox)
    cust = customer()
    refs = {cust.key: conn.create(cust, Mapping(), "c").remote_id}
    note = credit_note(cust.key, tag("CN"), ("50.00",))
    refs[note.key] = conn.create(note, Mapping(line_accounts=("40000",), deposit_account="10200", refs=refs),
                                 "n").remote_id
    paid = conn.create(refund(cust.key, tag("RF"), note.key, "20.00"), Mapping(deposit_account="10200", refs=refs),
                       "r")
    spent = conn.create(expense(tag("E"), ("30.00",)), Mapping(line_accounts=("60100",), deposit_account="10200"),
                        "e")
    entry = journal(tag("JE"), "18.00")
    accounts = Mapping(line_accounts=("60200", "10200"))
    booked = conn.create(entry, accounts, "j")
    since = dt.datetime.now(dt.UTC)
    next_second()
    asandbox.void_refund_as_user(paid.remote_id)
    asandbox.reverse_bill_as_user(spent.remote_id)
    reversal = asandbox.reverse_journal_as_user(booked.remote_id)["id"]
    next_second()
    costs = [Entity.REFUND, Entity.EXPENSE, Entity.JOURNAL]
    changes, cursor = conn.changes_since(costs, since)
    assert sorted((ch.entity, ch.remote_id, ch.operation) for ch in changes) == sorted([
        (Entity.REFUND, paid.remote_id, "void"), (Entity.EXPENSE, spent.remote_id, "void"),
        (Entity.JOURNAL, booked.remote_id, "void")])
    assert [r.status for r in conn.read_documents(Entity.REFUND, [paid.remote_id])] == ["voided"]
    assert conn.fetch(Entity.EXPENSE, spent.remote_id).status == "voided"
    assert conn.fetch(Entity.JOURNAL, booked.remote_id).status == "voided"
    assert conn.fetch(Entity.JOURNAL, reversal).status == "active"  # the reversing batch itself stands
    assert conn.find_existing(entry, accounts) is None  # it copies our description, but it is not ours
    next_second()
    assert conn.changes_since(costs, cursor)[0] == []


def test_our_own_reversals_are_reported_as_the_originals_voided(asandbox):
    conn = connect(asandbox)
    spent = conn.create(expense(tag("E"), ("12.00",)), Mapping(line_accounts=("60100",), deposit_account="10200"),
                        "e")
    booked = conn.create(journal(tag("JE"), "9.00"), Mapping(line_accounts=("60200", "10200")), "j")
    since = dt.datetime.now(dt.UTC)
    next_second()
    conn.void(Entity.EXPENSE, RemoteRef(spent.remote_id), "v1")
    conn.void(Entity.JOURNAL, RemoteRef(booked.remote_id), "v2")
    next_second()
    changes, _ = conn.changes_since([Entity.EXPENSE, Entity.JOURNAL], since)
    assert sorted((ch.entity, ch.remote_id, ch.operation) for ch in changes) == sorted([
        (Entity.EXPENSE, spent.remote_id, "void"), (Entity.JOURNAL, booked.remote_id, "void")])
