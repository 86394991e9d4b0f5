"""What the contract cannot say about the Odoo connector: the protocol chosen by server version, the login, the
life cycle's refusals and matches given back after a reset to draft."""
import datetime as dt
import uuid
from dataclasses import replace
from decimal import Decimal

import pytest

from connectors.base import AccountKind, ConnectionConfig
from connectors.documents import Entity, Mapping, RemoteRef
from connectors.errors import AuthError, PostingRefused, RetryableError
from connectors.odoo import connector as odoo
from connectors.odoo.connector import OdooConnector
from tests.connectors.contract import credit_note, customer, expense, invoice, journal, payment, refund
from tests.platforms import next_second


@pytest.fixture(autouse=True)
def fresh_versions():
    odoo.forget_remembered_items()
    yield
    odoo.forget_remembered_items()


def connect(sandbox, secret="sandbox-secret", **settings) -> OdooConnector:
    config = ConnectionConfig("odoo", "t", "sandbox", {**OdooConnector.sandbox_settings(sandbox.base_url),
                                                       "timeout": 3, **settings}, "sandbox-client", secret)
    token = {"value": ""}

    def getter(force=False):
        if force or not token["value"]:
            token["value"] = OdooConnector(config).login().token
        return token["value"]
    return OdooConnector(config, getter)


def mapping(conn, refs=None, lines=1) -> Mapping:
    accounts = {name: pk for pk, name in conn.reference_data().accounts.items()}
    return Mapping(line_accounts=(accounts["Product Sales"],) * lines, item_account=accounts["Product Sales"],
                   deposit_account=accounts["Bank"], refs=dict(refs or {}))


@pytest.mark.parametrize("version, expected", [("17.0", "xmlrpc"), ("18.0", "xmlrpc"), ("19.0", "json2")])
def test_the_protocol_follows_the_server_version(osandbox, version, expected):
    osandbox.settings({"version": version})
    try:
        assert connect(osandbox).protocol == expected
    finally:
        osandbox.settings({"version": "17.0"})


def test_a_setting_fixes_the_protocol_and_the_version_is_asked_once_per_server(osandbox19):
    assert connect(osandbox19, protocol="xmlrpc").protocol == "xmlrpc"
    first = connect(osandbox19)
    assert first.protocol == "json2" and first.memo_field == "memo"
    assert not any(e["path"] == "/web/version" for e in connect(osandbox19).exchanges())


def test_a_refused_login_is_an_auth_error_on_both_protocols(osandbox, osandbox19):
    for sandbox in (osandbox, osandbox19):
        with pytest.raises(AuthError):
            OdooConnector(connect(sandbox, secret="wrong").config).login()


def test_a_refused_post_withdraws_the_draft_and_tells_staff_why(osandbox):
    conn = connect(osandbox)
    cust = customer()
    made = conn.create(cust, mapping(conn), "k")
    empty = invoice(cust.key, "E-1", prices=())
    with pytest.raises(PostingRefused) as info:
        conn.create(empty, mapping(conn, {cust.key: made.remote_id}, lines=0), "k2")
    assert "invoice E-1" in info.value.message and "add a line" in info.value.message and info.value.hint
    assert conn.find_existing(empty, mapping(conn, {cust.key: made.remote_id})) is None  # nothing left behind


def test_editing_a_paid_invoice_keeps_its_payment_matched(osandbox):
    conn = connect(osandbox)
    cust = customer()
    refs = {cust.key: conn.create(cust, mapping(conn), "c").remote_id}
    inv = invoice(cust.key, f"K{uuid.uuid4().hex[:6]}")
    made = conn.create(inv, mapping(conn, refs), "i")
    refs[inv.key] = made.remote_id
    conn.create(payment(cust.key, "P-9", inv.key, "40.00"), mapping(conn, refs), "p")
    current = conn.fetch(Entity.INVOICE, made.remote_id)
    conn.update(invoice(cust.key, inv.number, ("150.00",)), mapping(conn, refs),
                RemoteRef(current.remote_id, current.version), "u")
    after = conn.fetch(Entity.INVOICE, made.remote_id)
    assert (after.total, after.balance) == (Decimal("150.00"), Decimal("110.00"))
    assert conn.state(Entity.INVOICE, made.remote_id) == "posted"


def test_a_posted_invoice_that_is_not_the_last_of_its_sequence_is_cancelled_instead_of_deleted(osandbox):
    conn = connect(osandbox)
    cust = customer()
    refs = {cust.key: conn.create(cust, mapping(conn), "c").remote_id}
    first, second = (conn.create(invoice(cust.key, n), mapping(conn, refs), n) for n in ("D-1", "D-2"))
    conn.delete(Entity.INVOICE, RemoteRef(first.remote_id), "d")
    voided = conn.fetch(Entity.INVOICE, first.remote_id)
    assert voided.status == "voided" and voided.total == Decimal("0.00")
    conn.delete(Entity.INVOICE, RemoteRef(second.remote_id), "d2")
    assert conn.remote_document(Entity.INVOICE, second.remote_id).status == "deleted"


def test_a_refund_whose_answer_was_lost_is_adopted_and_matched_with_its_credit_note(osandbox):
    """The outbound payment of a refund exists after a lost answer, maybe unmatched: adopting it matches it, so the
    credit note's amount due falls by the refund once, whatever was lost (issue 23)."""
    conn = connect(osandbox)
    cust = customer()
    refs = {cust.key: conn.create(cust, mapping(conn), "c").remote_id}
    note = credit_note(cust.key, "CN-1", ("30.00",))
    refs[note.key] = conn.create(note, mapping(conn, refs), "n").remote_id
    conn.create(refund(cust.key, "RF-0", note.key, "5.00"), mapping(conn, refs), "r0")  # the journal is known now
    back, mapped = refund(cust.key, "RF-1", note.key, "10.00"), mapping(conn, refs)
    osandbox.faults.add("lost_response")  # the create itself: the payment exists, its answer is lost
    with pytest.raises(RetryableError):
        conn.create(back, mapped, "r")
    found = conn.find_existing(back, mapped)
    assert found is not None and found.adopted and found.total == Decimal("10.00")
    assert conn.fetch(Entity.CREDIT_NOTE, refs[note.key]).balance == Decimal("15.00")
    again = conn.find_existing(back, mapped)  # adopting again matches nothing more
    assert again.remote_id == found.remote_id
    assert conn.fetch(Entity.CREDIT_NOTE, refs[note.key]).balance == Decimal("15.00")


def _expense_mapping(conn, lines=1, tax=None) -> Mapping:
    reference = conn.reference_data()
    cost = next(pk for pk, kind in sorted(reference.account_kinds.items()) if kind == AccountKind.EXPENSE)
    accounts = {name: pk for pk, name in reference.accounts.items()}
    taxes = {"GST 10%": tax} if tax else {}
    return Mapping(line_accounts=(cost,) * lines, deposit_account=accounts["Bank"], tax_codes=taxes)


@pytest.mark.parametrize("taxed", [False, True])
def test_an_expense_typed_over_in_odoo_is_reported_as_an_update(osandbox, taxed):
    """A person resets the expense's entry to draft, types 25.00 over its 20.00 and posts it again: the next poll
    reports an update (not a void), and the entry reads back with the new total (issue 23)."""
    conn = connect(osandbox)
    taxes = conn.reference_data().tax_codes
    tax = next(pk for pk, name in taxes.items() if name == "Tax 10%") if taxed else None
    doc = expense("EXP-ED1")
    if taxed:
        doc = replace(doc, lines=tuple(replace(line, tax_rate_key="GST 10%", tax_rate_percent=Decimal("10"),
                                               tax_amount=Decimal("2.00")) for line in doc.lines),
                      total=Decimal("22.00"))
    made = conn.create(doc, _expense_mapping(conn, tax=tax), "e")
    assert made.total == (Decimal("22.00") if taxed else Decimal("20.00"))
    since = dt.datetime.now(dt.UTC)
    next_second()
    osandbox.act_as_user("edit_entry_line", move_id=made.remote_id, line=0, amount="25.00")
    next_second()
    changes, cursor = conn.changes_since([Entity.EXPENSE, Entity.JOURNAL], since)
    mine = [(c.entity, c.operation) for c in changes if c.remote_id == made.remote_id]
    assert (Entity.EXPENSE, "update") in mine
    [read] = conn.read_documents(Entity.EXPENSE, [made.remote_id])
    assert read.status == "open" and read.total == (Decimal("27.50") if taxed else Decimal("25.00"))
    assert read.version != made.version
    assert made.remote_id not in {c.remote_id for c in conn.changes_since([Entity.EXPENSE], cursor)[0]}


def test_payments_and_refunds_are_one_list_told_apart(osandbox):
    """One ``account.payment`` list a poll for both; an inbound payment is a payment, the outbound refund of a
    credit note a refund, and a cancelled refund a void (issue 23)."""
    conn = connect(osandbox)
    cust = customer()
    refs = {cust.key: conn.create(cust, mapping(conn), "c").remote_id}
    note = credit_note(cust.key, "CN-9", ("30.00",))
    refs[note.key] = conn.create(note, mapping(conn, refs), "n").remote_id
    inv = invoice(cust.key, "INV-9", ("50.00",))
    refs[inv.key] = conn.create(inv, mapping(conn, refs), "i").remote_id
    paid = conn.create(payment(cust.key, "PAY-9", inv.key, "20.00"), mapping(conn, refs), "p").remote_id
    back = conn.create(refund(cust.key, "RF-9", note.key, "10.00"), mapping(conn, refs), "r").remote_id
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    osandbox.act_as_user("cancel_payment", payment_id=back)
    next_second()
    changes, _ = conn.changes_since([Entity.PAYMENT, Entity.REFUND], since)
    found = {(c.entity, c.remote_id, c.operation) for c in changes}
    assert (Entity.PAYMENT, paid, "update") in found and (Entity.REFUND, back, "void") in found
    assert (Entity.PAYMENT, back, "void") not in found and (Entity.REFUND, paid, "update") not in found


def test_a_journal_reversed_in_odoo_is_reported_voided_and_its_reversal_is_not_ours(osandbox):
    """"Reverse Entry" leaves the journal posted beside a new reversing entry: the poll reports the journal voided
    (never the reversal as a record), it reads back voided with nothing left; the reversal cancelled, the journal is
    back in force (issue 23)."""
    conn = connect(osandbox)
    accounts = {name: pk for pk, name in conn.reference_data().accounts.items()}
    made = conn.create(journal("JE-R1"), Mapping(line_accounts=(accounts["Bank"], accounts["Product Sales"]),
                                                 deposit_account=accounts["Bank"]), "j")
    next_second()  # polls compare whole seconds: the journal's own write is before ``since``
    since = dt.datetime.now(dt.UTC)
    reversal = osandbox.act_as_user("reverse_entry", move_id=made.remote_id)["id"]
    next_second()
    changes, cursor = conn.changes_since([Entity.JOURNAL], since)
    assert {(c.remote_id, c.operation) for c in changes} == {(made.remote_id, "void")}
    [read] = conn.read_documents(Entity.JOURNAL, [made.remote_id])
    assert (read.status, read.total) == ("voided", Decimal("0.00")) and read.version != made.version
    assert conn.fetch(Entity.JOURNAL, made.remote_id).raw["state"] == "posted"  # Odoo keeps it posted
    osandbox.act_as_user("cancel_entry", move_id=reversal)
    next_second()
    assert [(c.remote_id, c.operation) for c in conn.changes_since([Entity.JOURNAL], cursor)[0]] == [
        (made.remote_id, "update")]
    [read] = conn.read_documents(Entity.JOURNAL, [made.remote_id])
    assert (read.status, read.total) == ("open", Decimal("15.00"))
