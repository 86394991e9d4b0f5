"""What the contract cannot say about refunds, expenses and journals on Sage Intacct (issue 23): a restocking fee
nets the credit memo; a changed refund is reversed and issued again; an overpayment's refund is stopped before
sending; an expense's vendor is made once per payee and its void reverses the payment and the bill; a journal's
void is a reversing batch that search-before-create does not take for ours; what a bookkeeper reverses comes back
by polling as a void of ours, one query per object (an expense's bill and a supplier bill told apart by the
reference number), the reversing batch not taken for a record of ours."""
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from connectors.documents import CreditNoteSnapshot, Entity, LineSnapshot, Mapping, RemoteRef
from connectors.errors import ConfigurationError
from connectors.intacct import costs as c
from tests.connectors.contract import bill, credit_note, customer, expense, journal, refund
from tests.connectors.intacct.test_connector import connect, mapping

D = Decimal


def key() -> str:
    return f"k-{uuid.uuid4()}"


def accounts(conn) -> dict[str, str]:
    return {name: pk for pk, name in conn.reference_data().accounts.items()}


def sent_credit(conn, prices=("100.00",)):
    cust_doc = customer()
    cust = conn.create(cust_doc, mapping(conn), key())
    doc = credit_note(cust_doc.key, f"CN{uuid.uuid4().hex[:6]}", prices)
    refs = {cust_doc.key: cust.remote_id}
    made = conn.create(doc, mapping(conn, refs, lines=len(prices)), key())
    return cust_doc, doc, {**refs, doc.key: made.remote_id}


def paid_from(conn, refs=None, lines=1, account="Freight and Postage"):
    names = accounts(conn)
    return Mapping(line_accounts=(names[account],) * lines, deposit_account=names["Bank"], refs=dict(refs or {}))


def test_a_restocking_fee_nets_the_credit_memo(isandbox):
    conn = connect(isandbox)
    cust_doc = customer()
    cust = conn.create(cust_doc, mapping(conn), key())
    plain = credit_note(cust_doc.key, "CN-FEE", ("120.00", "12.00"))
    lines = (plain.lines[0], LineSnapshot("restocking_fee", "Restocking fee", D("1"), D("12.00"),
                                                   D("12.00"), D("0.00")))
    doc = CreditNoteSnapshot(**{**plain.__dict__, "lines": lines, "subtotal": D("108.00"), "total": D("108.00")})
    made = conn.create(doc, mapping(conn, {cust_doc.key: cust.remote_id}, lines=2), key())
    assert made.total == D("108.00")
    assert [line["AMOUNT"] for line in isandbox.store.find("ARADJUSTMENT", made.remote_id).data["_lines"]] == \
        [D("-120.00"), D("12.00")]


def test_a_changed_refund_is_reversed_and_issued_again(isandbox):
    conn = connect(isandbox)
    cust_doc, note, refs = sent_credit(conn)
    doc = refund(cust_doc.key, "RF-1", note.key, "40.00")
    first = conn.create(doc, paid_from(conn, refs), key())
    assert first.total == D("40.00") and conn.fetch(Entity.CREDIT_NOTE, refs[note.key]).balance == D("60.00")
    same = conn.update(doc, paid_from(conn, refs), RemoteRef(first.remote_id, first.version), key())
    assert same.remote_id == first.remote_id  # nothing to change: kept
    changed = conn.update(refund(cust_doc.key, "RF-1", note.key, "30.00"), paid_from(conn, refs),
                          RemoteRef(first.remote_id, first.version), key())
    assert changed.remote_id != first.remote_id and changed.total == D("30.00")
    assert conn.fetch(Entity.REFUND, first.remote_id).status == "voided"
    assert conn.fetch(Entity.CREDIT_NOTE, refs[note.key]).balance == D("70.00")


def test_a_refund_of_an_overpayment_is_stopped_before_sending(isandbox):
    conn = connect(isandbox)
    doc = refund("test.customer:x", "RF-2", None)
    assert "credit notes only" in conn.preflight(doc, paid_from(conn))[0]
    with pytest.raises(ConfigurationError):
        conn.create(doc, paid_from(conn), key())
    assert isandbox.store.counts().get("ARREFUND", 0) == 0


def test_an_expense_makes_its_vendor_once_and_its_void_reverses_payment_and_bill(isandbox):
    conn = connect(isandbox)
    first = conn.create(expense("EXP-1"), paid_from(conn), key())
    second = conn.create(expense("EXP-2", ("5.00", "7.50")), paid_from(conn, lines=2), key())
    assert (first.total, first.balance, second.total) == (D("20.00"), D("0.00"), D("12.50"))
    assert [row.id for row in isandbox.store.rows("VENDOR")] == [c.vendor_id("Contract supplier")]
    voided = conn.void(Entity.EXPENSE, RemoteRef(first.remote_id, first.version), key())
    assert voided.status == "voided" and voided.total == D("0.00")
    payments = [r.data for r in isandbox.store.rows("APPYMT")]
    assert sorted(p["STATE"] for p in payments) == ["Complete", "Voided"]
    assert conn.find_existing(expense("EXP-1"), paid_from(conn)) is None  # the reversed bill is not ours any more


def test_a_journal_void_is_a_reversing_batch_that_search_does_not_adopt(isandbox):
    conn = connect(isandbox)
    names = accounts(conn)
    lines = Mapping(line_accounts=(names["Bank Charges"], names["Bank"]))
    made = conn.create(journal("JE-1", "7.50"), lines, key())
    assert made.total == D("7.50") and made.number == "JE-1"
    assert conn.find_existing(journal("JE-1"), lines).remote_id == made.remote_id
    voided = conn.void(Entity.JOURNAL, RemoteRef(made.remote_id, made.version), key())
    assert voided.status == "voided" and voided.total == D("0.00")
    reversal = [r.data for r in isandbox.store.rows("GLBATCH") if r.data["REVERSEDFROM"] == made.remote_id]
    assert [e["TR_TYPE"] for e in reversal[0]["_entries"]] == ["-1", "1"]
    assert conn.find_existing(journal("JE-1"), lines) is None
    again = conn.create(journal("JE-1", "8.00"), lines, key())
    assert conn.find_existing(journal("JE-1"), lines).remote_id == again.remote_id


def test_a_bill_whose_payment_was_never_sent_is_paid_when_it_is_adopted(isandbox):
    conn = connect(isandbox)
    doc = expense("EXP-LOST")
    body = c.bill_body(doc, paid_from(conn))
    conn.run("create", c.vendor_body(doc), key())
    bill = conn.run("create_bill", body, key()).key  # the bill went, the answer and the payment did not
    found = conn.find_existing(doc, paid_from(conn))
    assert found.remote_id == bill and found.adopted and found.balance == D("0.00")
    assert [r.data["STATE"] for r in isandbox.store.rows("APPYMT")] == ["Complete"]


def test_what_a_bookkeeper_reverses_is_polled_as_voids_of_ours_one_query_per_object(isandbox):
    conn = connect(isandbox)
    cust_doc, note, refs = sent_credit(conn)
    names = accounts(conn)
    made = {Entity.REFUND: conn.create(refund(cust_doc.key, "RF-P", note.key, "40.00"), paid_from(conn, refs), key()),
            Entity.EXPENSE: conn.create(expense("EXP-P"), paid_from(conn), key()),
            Entity.BILL: conn.create(bill("BILL-P"), paid_from(conn), key()),
            Entity.JOURNAL: conn.create(journal("JE-P", "7.50"),
                                        Mapping(line_accounts=(names["Bank Charges"], names["Bank"])), key())}
    isandbox.clock.advance(2)  # Intacct compares whole seconds: the reversals are after what we wrote
    since = dt.datetime.fromtimestamp(isandbox.clock(), dt.UTC).replace(microsecond=0)
    for entity, (action, keyword) in isandbox.user_takes_back.items():
        isandbox.act_as_user(action, **{keyword: made[entity].remote_id})
    before = len(conn.exchanges())
    changes, _ = conn.changes_since(list(made), since)
    assert sorted((c.entity, c.remote_id, c.operation) for c in changes) == \
        sorted((entity, result.remote_id, "void") for entity, result in made.items())
    queries = [e for e in conn.exchanges()[before:] if e["call"] == "readByQuery"]
    # ARREFUND, APBILL (expenses' and supplier bills' alike), GLBATCH: the reversing batch is named by the batch it
    # reverses
    assert len(queries) == 3
    assert [r.data["REVERSEDFROM"] for r in isandbox.store.rows("GLBATCH")] == ["", made[Entity.JOURNAL].remote_id]
