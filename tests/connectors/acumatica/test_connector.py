"""What the contract cannot say about the Acumatica connector: sessions always logged out (the licence counts
them), the licence's login limit, the release life cycle's refusals, and edits of released documents."""
import uuid
from decimal import Decimal

import pytest

from connectors.acumatica.connector import AcumaticaConnector
from connectors.base import ConnectionConfig
from connectors.documents import Allocation, Entity, Mapping, RemoteRef
from connectors.errors import AuthError, PostingRefused, RateLimitedError, ValidationFailed
from tests.connectors.contract import credit_note, customer, invoice, payment


def connect(sandbox, secret="sandbox-secret", **settings) -> AcumaticaConnector:
    config = ConnectionConfig("acumatica", "t", "SandboxCompany",
                              {**AcumaticaConnector.sandbox_settings(sandbox.base_url), "timeout": 3, **settings},
                              "sandbox-client", secret)
    token = {"value": ""}

    def getter(force=False):
        if force or not token["value"]:
            token["value"] = AcumaticaConnector(config).login().token
        return token["value"]
    return AcumaticaConnector(config, getter)


def mapping(refs=None, lines=1) -> Mapping:
    return Mapping(line_accounts=("40000",) * lines, item_account="40000", deposit_account="10200",
                   refs=dict(refs or {}))


def sent_invoice(conn, prices=("100.00",)):
    cust = customer()
    refs = {cust.key: conn.create(cust, mapping(), "c").remote_id}
    doc = invoice(cust.key, f"K{uuid.uuid4().hex[:6]}", prices)
    return doc, refs, conn.create(doc, mapping(refs), "i")


def test_a_renewal_logs_the_old_session_out_and_release_logs_out_for_good(asandbox):
    conn = connect(asandbox)
    first = conn.login().token
    before = asandbox.state()["sessions"]
    renewed = conn.refresh(first)
    assert asandbox.token_problem(first) == "invalid" and asandbox.token_problem(renewed.access_token) is None
    assert asandbox.state()["sessions"] == before  # one session for the connection, never two
    conn.release(renewed.access_token)
    assert asandbox.token_problem(renewed.access_token) == "invalid"
    conn.release(renewed.access_token)  # logging out a session already gone does not raise


def test_a_refused_login_is_an_auth_error_and_the_licence_limit_a_rate_limit(asandbox):
    with pytest.raises(AuthError):
        connect(asandbox, secret="wrong").login()
    asandbox.settings({"api_users": len(asandbox.sessions)})
    with pytest.raises(RateLimitedError) as info:
        connect(asandbox).login()
    assert info.value.platform_code == "API Login Limit"


def test_an_idle_session_is_replaced_once_and_the_call_goes_through(asandbox):
    conn = connect(asandbox)
    conn.reference_data()
    asandbox.clock.advance(21 * 60)
    assert conn.reference_data().home_currency == "USD"
    assert [e["status"] for e in conn.exchanges()].count(401) == 1


def test_a_refused_release_deletes_the_balanced_invoice_and_tells_staff_why(asandbox):
    conn = connect(asandbox)
    cust = customer()
    refs = {cust.key: conn.create(cust, mapping(), "c").remote_id}
    negative = invoice(cust.key, "NEG-1", ("-5.00",))  # Acumatica refuses a negative total
    with pytest.raises(ValidationFailed):
        conn.create(negative, mapping(refs), "n")
    doc = invoice(cust.key, "HOLD-1")
    on_hold = connect(asandbox)
    put = on_hold.client.put  # a tenant whose invoices are held on entry: Acumatica refuses to release them
    on_hold.client.put = lambda entity, record, params=None: put(entity, {**record, "Hold": True}, params)
    with pytest.raises(PostingRefused) as info:
        on_hold.create(doc, mapping(refs), "h")
    assert "invoice HOLD-1" in info.value.message and "on hold" in info.value.message and info.value.hint
    assert conn.find_existing(doc, mapping(refs)) is None  # nothing left behind


def test_editing_a_released_invoice_voids_it_and_sends_the_new_content(asandbox):
    conn = connect(asandbox)
    doc, refs, made = sent_invoice(conn)
    changed = invoice(doc.customer_key, doc.number, ("150.00",))
    updated = conn.update(changed, mapping(refs), RemoteRef(made.remote_id, made.version), "u")
    assert updated.remote_id != made.remote_id and updated.total == Decimal("150.00")
    assert conn.fetch(Entity.INVOICE, made.remote_id).status == "voided"
    again = conn.update(changed, mapping(refs), RemoteRef(updated.remote_id, updated.version), "u2")
    assert again.remote_id == updated.remote_id  # the same content again changes nothing


def test_editing_a_paid_invoice_is_refused_with_acumaticas_reason(asandbox):
    conn = connect(asandbox)
    doc, refs, made = sent_invoice(conn)
    refs[doc.key] = made.remote_id
    conn.create(payment(doc.customer_key, "P-1", doc.key, "40.00"), mapping(refs), "p")
    current = conn.fetch(Entity.INVOICE, made.remote_id)
    with pytest.raises(PostingRefused) as info:
        conn.update(invoice(doc.customer_key, doc.number, ("150.00",)), mapping(refs),
                    RemoteRef(current.remote_id, current.version), "u")
    assert "cannot be voided" in info.value.message
    assert conn.fetch(Entity.INVOICE, made.remote_id).balance == Decimal("60.00")


def test_unreleased_documents_stay_balanced_change_in_place_and_are_deleted(asandbox):
    conn = connect(asandbox, release=False)
    doc, refs, made = sent_invoice(conn, ("10.00", "20.00"))
    assert conn.state(Entity.INVOICE, made.remote_id) == "Balanced"
    updated = conn.update(invoice(doc.customer_key, doc.number, ("45.00",)), mapping(refs),
                          RemoteRef(made.remote_id, made.version), "u")
    assert updated.remote_id == made.remote_id and updated.total == Decimal("45.00")
    assert len(conn.client.get("Invoice", made.remote_id, {"$expand": "Details"})["Details"]) == 1
    conn.delete(Entity.INVOICE, RemoteRef(made.remote_id), "d")
    assert conn.remote_document(Entity.INVOICE, made.remote_id).status == "deleted"


def test_a_credit_note_applied_then_taken_back_then_voided(asandbox):
    conn = connect(asandbox)
    doc, refs, made = sent_invoice(conn)
    refs[doc.key] = made.remote_id
    note = credit_note(doc.customer_key, "CN-1", applied=(Allocation(doc.key, Decimal("30.00")),))
    sent = conn.create(note, mapping(refs), "n")
    assert conn.fetch(Entity.INVOICE, made.remote_id).balance == Decimal("70.00")
    fewer = credit_note(doc.customer_key, "CN-1", applied=(Allocation(doc.key, Decimal("10.00")),))
    conn.update(fewer, mapping(refs), RemoteRef(sent.remote_id, sent.version), "u")
    assert conn.fetch(Entity.INVOICE, made.remote_id).balance == Decimal("90.00")
    conn.void(Entity.CREDIT_NOTE, RemoteRef(sent.remote_id), "v")
    assert conn.fetch(Entity.INVOICE, made.remote_id).balance == Decimal("100.00")
    assert conn.fetch(Entity.CREDIT_NOTE, sent.remote_id).status == "voided"
