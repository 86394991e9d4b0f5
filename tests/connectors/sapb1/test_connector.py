"""The SAP Business One connector against its Service Layer sandbox: the session (login once, a session the Service
Layer forgot renewed single-flight through the token store, Logout on disconnect), the replacement of an added
document whose lines change, a header-only change kept in place, and paging."""
import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from accounting_sync.staff import demo
from accounting_sync.staff.admin import disconnect
from connectors.base import ConnectionConfig
from connectors.documents import Allocation, Entity, Mapping, RemoteRef
from connectors.errors import AuthError, DuplicateError, PostingRefused
from connectors.models import Connection
from connectors.sapb1 import client as sl_client
from connectors.sapb1.connector import ServiceLayerConnector
from tests.conftest import at_once
from tests.connectors.contract import credit_note, customer, invoice, payment


def connect(sandbox, secret="sandbox-secret") -> ServiceLayerConnector:
    config = ConnectionConfig("sapb1", "t", "sandbox", {**ServiceLayerConnector.sandbox_settings(sandbox.base_url),
                                                        "timeout": 3}, "sandbox-client", secret)
    token = {"value": ""}

    def getter(force=False):
        if force or not token["value"]:
            token["value"] = ServiceLayerConnector(config).login().token
        return token["value"]
    return ServiceLayerConnector(config, getter)


def mapping(conn, refs=None, lines=1) -> Mapping:
    accounts = {name: pk for pk, name in conn.reference_data().accounts.items()}
    return Mapping(line_accounts=(accounts["Sales Revenue"],) * lines, item_account=accounts["Sales Revenue"],
                   deposit_account=accounts["Bank Account"], refs=dict(refs or {}))


def sent_invoice(conn, prices=("100.00",)):
    cust = customer()
    made = conn.create(cust, mapping(conn), "c")
    doc = invoice(cust.key, f"INV-{uuid.uuid4().hex[:6]}", prices)
    m = mapping(conn, {cust.key: made.remote_id}, len(prices))
    return doc, m, conn.create(doc, m, "i")


def test_a_refused_login_is_an_auth_error_and_is_not_sent_twice(slsandbox):
    before = slsandbox.logins
    with pytest.raises(AuthError) as info:
        connect(slsandbox, secret="wrong").reference_data()
    assert info.value.platform_code == "100000027" and slsandbox.logins == before


def test_a_session_the_service_layer_forgot_is_renewed_once_and_the_call_sent_again(slsandbox):
    conn = connect(slsandbox)
    conn.reference_data()
    logins = slsandbox.logins
    slsandbox.expire_sessions()  # 30 minutes without a request: 401, code 301
    assert conn.reference_data().home_currency == "USD"
    assert slsandbox.logins == logins + 1
    assert [e["status"] for e in conn.exchanges()].count(401) == 1


@pytest.mark.django_db
def test_connecting_logs_in_once_stores_a_30_minute_session_and_disconnecting_logs_it_out(slsandbox, org):
    slsandbox.expire_sessions()  # the sandbox is shared by the session's tests, and sessions survive its reset()
    conn = demo.connect_to_sandbox(slsandbox.base_url, org, platform="sapb1", name="B1")
    assert slsandbox.extra_state()["sessions"] == 1
    minutes = (conn.access_expires_at - timezone.now()).total_seconds() / 60
    assert 25 <= minutes <= 30
    assert slsandbox.token_problem(conn.access_token) is None
    disconnect(conn, "staff")
    assert slsandbox.extra_state()["sessions"] == 0


@pytest.mark.django_db(transaction=True)
def test_workers_that_find_the_session_forgotten_log_in_once(slsandbox, org):
    if db_connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway (covered on the PostgreSQL run)")
    conn = demo.connect_to_sandbox(slsandbox.base_url, org, platform="sapb1", name="B1")
    slsandbox.expire_sessions()
    logins = slsandbox.logins
    errors = at_once(4, lambda: Connection.objects.get(pk=conn.pk).connector().reference_data())
    assert not errors, errors
    assert slsandbox.logins == logins + 1


def test_changed_lines_replace_the_invoice_with_our_number_and_a_header_change_keeps_it(slsandbox):
    conn = connect(slsandbox)
    doc, m, first = sent_invoice(conn)
    changed = invoice(doc.customer_key, doc.number, ("150.00",))
    second = conn.update(changed, m, RemoteRef(first.remote_id, first.version), "u")
    assert second.remote_id != first.remote_id and second.number == doc.number and second.total == Decimal("150.00")
    old = conn.fetch(Entity.INVOICE, first.remote_id)
    assert old.status == "voided" and old.total == Decimal("0.00")  # cancelled in Business One, still listed
    assert conn.find_existing(doc, m).remote_id == second.remote_id  # the live one with our number
    memo = invoice(doc.customer_key, doc.number, ("150.00",))
    object.__setattr__(memo, "memo", "Please pay by the 30th")
    third = conn.update(memo, m, RemoteRef(second.remote_id, second.version), "u2")
    assert third.remote_id == second.remote_id and third.raw["Comments"] == "Please pay by the 30th"


def test_an_invoice_with_a_payment_applied_is_not_replaced_and_staff_are_told_why(slsandbox):
    conn = connect(slsandbox)
    doc, m, inv = sent_invoice(conn)
    refs = {**m.refs, doc.key: inv.remote_id}
    conn.create(payment(doc.customer_key, "PAY-1", doc.key, "40.00"), mapping(conn, refs), "p")
    current = conn.fetch(Entity.INVOICE, inv.remote_id)
    with pytest.raises(PostingRefused) as info:
        conn.update(invoice(doc.customer_key, doc.number, ("120.00",)), m, RemoteRef(inv.remote_id, current.version),
                    "u")
    assert "payments" in info.value.message and "Void those here first" in info.value.hint
    kept = conn.fetch(Entity.INVOICE, inv.remote_id)
    assert kept.status == "active" and kept.total == Decimal("100.00") and kept.balance == Decimal("60.00")


def test_a_second_document_with_our_number_is_refused_and_the_copy_cancelled(slsandbox):
    conn = connect(slsandbox)
    doc, m, first = sent_invoice(conn)
    with pytest.raises(DuplicateError):
        conn.create(doc, m, "again")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    changes, _ = conn.changes_since([Entity.INVOICE], since)
    assert [c.remote_id for c in changes if c.operation == "update"] == [first.remote_id]
    assert len([c for c in changes if c.operation == "void"]) == 1  # the copy, cancelled


def test_reading_follows_the_next_link_page_by_page(slsandbox, monkeypatch):
    monkeypatch.setattr(sl_client, "PAGE_SIZE", 2)
    conn = connect(slsandbox)
    for _ in range(5):
        conn.create(customer(), mapping(conn), "c")
    rows = list(conn.client.rows("BusinessPartners", {"$select": "CardCode"}))
    assert len(rows) == len({r["CardCode"] for r in rows}) == 5
    pages = [e for e in conn.exchanges() if e["method"] == "GET" and e["path"].startswith("/BusinessPartners")]
    assert len(pages) == 3  # 2 + 2 + 1, the second and third asked through @odata.nextLink


def test_part_of_a_credit_note_is_applied_by_an_internal_reconciliation_changed_and_given_back_on_void(slsandbox):
    conn = connect(slsandbox)
    doc, m, inv = sent_invoice(conn)
    refs = {**m.refs, doc.key: inv.remote_id}
    note_doc = credit_note(doc.customer_key, "CN-1", applied=(Allocation(doc.key, Decimal("20.00")),))
    note = conn.create(note_doc, mapping(conn, refs), "n")
    assert (note.total, note.balance) == (Decimal("30.00"), Decimal("10.00"))
    assert conn.fetch(Entity.INVOICE, inv.remote_id).balance == Decimal("80.00")
    with pytest.raises(PostingRefused):  # a reconciled invoice is not cancelled to be replaced
        conn.update(invoice(doc.customer_key, doc.number, ("90.00",)), m,
                    RemoteRef(inv.remote_id, conn.fetch(Entity.INVOICE, inv.remote_id).version), "u")
    more = credit_note(doc.customer_key, "CN-1", applied=(Allocation(doc.key, Decimal("30.00")),))
    again = conn.update(more, mapping(conn, refs), RemoteRef(note.remote_id, note.version), "u2")
    assert again.remote_id == note.remote_id and again.balance == Decimal("0.00")  # same lines: kept, re-applied
    assert conn.fetch(Entity.INVOICE, inv.remote_id).balance == Decimal("70.00")
    voided = conn.void(Entity.CREDIT_NOTE, RemoteRef(note.remote_id, again.version), "v")
    assert voided.status == "voided" and conn.fetch(Entity.INVOICE, inv.remote_id).balance == Decimal("100.00")
