"""What the contract cannot say about the Intacct connector: the control ids it sends, the session's expiry,
payments and credit memos changed the way Intacct allows, paging, dimensions and the refusals staff see."""
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from connectors.base import ConnectionConfig
from connectors.documents import Allocation, Entity, Mapping, RemoteRef
from connectors.errors import AuthError, PostingRefused, ValidationFailed
from connectors.intacct import connector as intacct
from connectors.intacct import translate as t
from connectors.intacct.connector import IntacctConnector
from tests.connectors.contract import credit_note, customer, invoice, payment


def connect(sandbox, secret="sandbox-secret", **settings) -> IntacctConnector:
    config = ConnectionConfig("intacct", "t", "sandbox-company",
                              {**IntacctConnector.sandbox_settings(sandbox.base_url), "timeout": 3, **settings},
                              "sandbox-client", secret)
    token = {"value": ""}

    def getter(force=False):
        if force or not token["value"]:
            token["value"] = IntacctConnector(config).login().token
        return token["value"]
    return IntacctConnector(config, getter)


def mapping(conn, refs=None, lines=1, **dimensions) -> Mapping:
    accounts = {name: pk for pk, name in conn.reference_data().accounts.items()}
    return Mapping(line_accounts=(accounts["Product Sales"],) * lines, item_account=accounts["Product Sales"],
                   deposit_account=accounts["Undeposited Funds"], refs=dict(refs or {}),
                   line_dimensions={k: (v,) * lines for k, v in dimensions.items()})


def sent_invoice(conn, amount="100.00", **dimensions):
    cust_doc = customer()
    cust = conn.create(cust_doc, mapping(conn), f"c-{uuid.uuid4()}")
    doc = invoice(cust_doc.key, f"I{uuid.uuid4().hex[:6]}", (amount,))
    refs = {cust_doc.key: cust.remote_id}
    made = conn.create(doc, mapping(conn, refs, **dimensions), f"i-{uuid.uuid4()}")
    return doc, {**refs, doc.key: made.remote_id}, made


def test_a_login_opens_a_session_that_expires_when_intacct_says(isandbox):
    session = connect(isandbox).login()
    assert session.token in isandbox.sessions and session.company_id == "sandbox-company"
    assert session.expires_at is not None and session.expires_at > dt.datetime.now(dt.UTC)


def test_a_wrong_password_is_an_auth_error(isandbox):
    with pytest.raises(AuthError) as info:
        connect(isandbox, secret="wrong").login()
    assert info.value.platform_code == "XL03000006"


def test_writes_carry_our_key_as_control_id_and_reads_a_fresh_one(isandbox):
    conn = connect(isandbox)
    conn.create(customer(), mapping(conn), "my-key-1")
    calls = {e["call"]: e["control_id"] for e in conn.exchanges()}
    assert calls["create"] == "my-key-1" and calls["readByName"].startswith("read-")
    assert "my-key-1" in isandbox.control_ids


def test_dimensions_reach_the_lines_and_are_listed_for_staff(isandbox):
    conn = connect(isandbox)
    assert conn.dimension_values("location") == {"100": "Headquarters", "200": "Branch"}
    assert conn.dimension_values("department") == {"10": "Sales", "20": "Services"}
    _, _, made = sent_invoice(conn, location="200", department="10")
    [line] = t.lines_of(made.raw)
    assert (line["LOCATIONID"], line["DEPARTMENTID"]) == ("200", "10")
    with pytest.raises(ValidationFailed, match="location"):
        sent_invoice(conn, location="999")


def test_a_changed_payment_is_reversed_and_recorded_again(isandbox):
    conn = connect(isandbox)
    doc, refs, inv = sent_invoice(conn)
    pay_doc = payment(doc.customer_key, "P-77", doc.key, "40.00")
    paid = conn.create(pay_doc, mapping(conn, refs), "p-1")
    changed = conn.update(payment(doc.customer_key, "P-77", doc.key, "55.00"), mapping(conn, refs),
                          RemoteRef(paid.remote_id, paid.version), "u-1")
    assert changed.remote_id != paid.remote_id and changed.total == Decimal("55.00")
    assert conn.fetch(Entity.PAYMENT, paid.remote_id).status == "voided"
    assert conn.fetch(Entity.INVOICE, inv.remote_id).balance == Decimal("45.00")
    assert conn.find_existing(pay_doc, mapping(conn, refs)).remote_id == changed.remote_id


def test_a_credit_note_follows_its_allocations_and_new_lines_replace_it(isandbox):
    conn = connect(isandbox)
    doc, refs, inv = sent_invoice(conn)
    note = credit_note(doc.customer_key, "CN-1", ("30.00",), (Allocation(doc.key, Decimal("20.00")),))
    made = conn.create(note, mapping(conn, refs), "n-1")
    assert conn.fetch(Entity.INVOICE, inv.remote_id).balance == Decimal("80.00")
    more = credit_note(doc.customer_key, "CN-1", ("30.00",), (Allocation(doc.key, Decimal("30.00")),))
    same = conn.update(more, mapping(conn, refs), RemoteRef(made.remote_id, made.version), "n-2")
    assert same.remote_id == made.remote_id and same.balance == Decimal("0.00")
    assert conn.fetch(Entity.INVOICE, inv.remote_id).balance == Decimal("70.00")
    bigger = credit_note(doc.customer_key, "CN-1", ("45.00",), (Allocation(doc.key, Decimal("10.00")),))
    new = conn.update(bigger, mapping(conn, refs), RemoteRef(same.remote_id, same.version), "n-3")
    assert new.remote_id != made.remote_id and new.total == Decimal("45.00") and new.balance == Decimal("35.00")
    assert conn.fetch(Entity.INVOICE, inv.remote_id).balance == Decimal("90.00")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    changes, _ = conn.changes_since([Entity.PAYMENT], since)
    assert changes == []  # the records applying credits are not payments


def test_voiding_an_invoice_with_a_payment_says_what_intacct_refused(isandbox):
    conn = connect(isandbox)
    doc, refs, inv = sent_invoice(conn)
    conn.create(payment(doc.customer_key, "P-1", doc.key, "10.00"), mapping(conn, refs), "p-1")
    with pytest.raises(PostingRefused, match="payments applied"):
        conn.void(Entity.INVOICE, RemoteRef(inv.remote_id, inv.version), "v-1")
    assert conn.fetch(Entity.INVOICE, inv.remote_id).status == "active"


def test_polling_follows_read_more_pages(isandbox, monkeypatch):
    conn = connect(isandbox)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    made = [sent_invoice(conn)[2].remote_id for _ in range(3)]
    monkeypatch.setattr(intacct, "PAGE", 2)
    changes, _ = conn.changes_since([Entity.INVOICE], since)
    assert sorted(c.remote_id for c in changes) == sorted(made)
    assert any(e["call"] == "readMore" for e in conn.exchanges())


def test_an_expired_session_logs_in_once_more(isandbox):
    conn = connect(isandbox)
    conn.reference_data()
    logins = isandbox.token_calls
    isandbox.clock.advance(isandbox.session_timeout + 1)
    conn.reference_data()
    assert isandbox.token_calls == logins + 1
