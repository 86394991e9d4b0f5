"""The NetSuite SOAP connector against its sandbox over loopback HTTP: add by externalId (a repeat refused with
DUP_RCRD), update, delete, applyList on payments and credit memos, polling with searchMoreWithId and getDeleted,
and the refusals staff see."""
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from connectors.base import ConnectionConfig
from connectors.documents import Allocation, Entity, Mapping, RemoteRef
from connectors.errors import (AuthError, ConfigurationError, ConflictError, DuplicateError, RateLimitedError,
                               ValidationFailed)
from connectors.netsuitesoap.connector import NetSuiteSoapConnector
from tests.connectors.contract import credit_note, customer, invoice, item, payment


def connect(sandbox, secret="sandbox-secret", **settings) -> NetSuiteSoapConnector:
    config = ConnectionConfig("netsuitesoap", "t", "1234567_SB1",
                              {**NetSuiteSoapConnector.sandbox_settings(sandbox.base_url), "timeout": 3, **settings},
                              "sandbox-client", secret)
    return NetSuiteSoapConnector(config)


def sent_invoice(conn, amount="100.00"):
    cust_doc = customer()
    cust = conn.create(cust_doc, Mapping(), f"c-{uuid.uuid4()}")
    doc = invoice(cust_doc.key, f"I{uuid.uuid4().hex[:6]}", (amount,))
    refs = {cust_doc.key: cust.remote_id}
    made = conn.create(doc, Mapping(refs=refs), f"i-{uuid.uuid4()}")
    return doc, {**refs, doc.key: made.remote_id}, made


def test_a_create_is_an_add_by_external_id_so_a_repeat_is_refused_and_found(nssandbox):
    conn = connect(nssandbox)
    doc, refs, made = sent_invoice(conn)
    assert made.total == Decimal("100.00") and made.balance == Decimal("100.00") and made.number == doc.number
    with pytest.raises(DuplicateError) as info:
        conn.create(doc, Mapping(refs=refs), "i-again")
    assert info.value.platform_code == "DUP_RCRD"
    assert conn.find_existing(doc, Mapping(refs=refs)).remote_id == made.remote_id
    assert [e["call"] for e in conn.exchanges()].count("add") == 3


def test_payments_and_credit_memos_apply_to_the_invoice(nssandbox):
    conn = connect(nssandbox)
    doc, refs, inv = sent_invoice(conn)
    paid = conn.create(payment(doc.customer_key, "P-1", doc.key, "40.00"), Mapping(refs=refs), "p-1")
    assert paid.total == Decimal("40.00")
    note = credit_note(doc.customer_key, "CN-1", ("30.00",), (Allocation(doc.key, Decimal("20.00")),))
    made = conn.create(note, Mapping(refs=refs), "n-1")
    assert made.total == Decimal("30.00") and made.balance == Decimal("10.00")
    assert conn.fetch(Entity.INVOICE, inv.remote_id).balance == Decimal("40.00")
    with pytest.raises(ValidationFailed, match="more than its amount due"):
        conn.create(payment(doc.customer_key, "P-2", doc.key, "90.00"), Mapping(refs=refs), "p-2")


def test_update_and_delete(nssandbox):
    conn = connect(nssandbox)
    doc, refs, inv = sent_invoice(conn)
    changed = conn.update(invoice(doc.customer_key, doc.number, ("120.00",)), Mapping(refs=refs),
                          RemoteRef(inv.remote_id, inv.version), "u-1")
    assert changed.remote_id == inv.remote_id and changed.total == Decimal("120.00")
    conn.delete(Entity.INVOICE, RemoteRef(inv.remote_id, changed.version), "d-1")
    conn.delete(Entity.INVOICE, RemoteRef(inv.remote_id, changed.version), "d-2")  # already gone: no error


def test_polling_pages_with_search_more_with_id_and_lists_deletions(nssandbox):
    conn = connect(nssandbox)
    nssandbox.page_size = 5
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    made = [sent_invoice(conn)[2].remote_id for _ in range(7)]
    conn.delete(Entity.INVOICE, RemoteRef(made[0], ""), "d-1")
    changes, _ = conn.changes_since([Entity.INVOICE], since)
    updates = sorted(c.remote_id for c in changes if c.operation == "update")
    assert updates == sorted(made[1:])
    assert [(c.entity, c.remote_id) for c in changes if c.operation == "delete"] == [(Entity.INVOICE, made[0])]
    assert "searchMoreWithId" in [e["call"] for e in conn.exchanges()]


def test_a_wrong_secret_is_an_auth_error_and_a_full_account_is_rate_limited(nssandbox):
    with pytest.raises(AuthError) as info:
        connect(nssandbox, secret="wrong").create(customer(), Mapping(), "c-1")
    assert info.value.platform_code == "INVALID_LOGIN_ATTEMPT"
    nssandbox.busy = nssandbox.concurrency_limit
    with pytest.raises(RateLimitedError) as info:
        connect(nssandbox).create(customer(), Mapping(), "c-2")
    assert info.value.platform_code == "WS_REQUEST_BLOCKED"


def test_an_update_after_a_change_in_netsuite_is_a_conflict(nssandbox):
    conn = connect(nssandbox)
    doc, refs, inv = sent_invoice(conn)
    nssandbox.clock.advance(1)
    nssandbox.act_as_user("record_payment", invoice_id=inv.remote_id, amount="10.00")
    nssandbox.books.records[inv.remote_id]["lastModifiedDate"] = nssandbox.clock()  # a person saved it there
    with pytest.raises(ConflictError):
        conn.update(invoice(doc.customer_key, doc.number, ("120.00",)), Mapping(refs=refs),
                    RemoteRef(inv.remote_id, inv.version), "u-1")


def test_read_documents_gives_totals_and_gone_ones_in_one_search(nssandbox):
    conn = connect(nssandbox)
    doc, refs, inv = sent_invoice(conn)
    conn.create(payment(doc.customer_key, "P-1", doc.key, "100.00"), Mapping(refs=refs), "p-1")
    _, _, other = sent_invoice(conn, "50.00")
    calls = len(conn.exchanges())
    paid, open_, gone = conn.read_documents(Entity.INVOICE, [inv.remote_id, other.remote_id, "99999"])
    assert (paid.status, paid.total, paid.balance) == ("paid", Decimal("100.00"), Decimal("0.00"))
    assert (open_.status, open_.total) == ("open", Decimal("50.00"))
    assert gone.status == "deleted"
    assert [e["call"] for e in conn.exchanges()[calls:]] == ["search"]


def test_reference_data_lists_accounts_with_kinds_tax_items_and_currencies(nssandbox):
    conn = connect(nssandbox)
    reference = conn.reference_data()
    names = {name: pk for pk, name in reference.accounts.items()}
    assert reference.account_kinds[names["Sales"]] == "income"
    assert reference.account_kinds[names["Undeposited Funds"]] == "deposit"
    assert reference.account_kinds[names["Accounts Receivable"]] == "receivable"
    assert reference.account_kinds[names["Sales Tax Payable"]] == "tax_payable"
    assert set(reference.tax_codes.values()) == {"Sales Tax 10%", "Tax Exempt"}
    assert reference.currencies == {"USD", "EUR", "CAD"} and reference.home_currency == "USD"
    nssandbox.books.reference["account"][4]["isInactive"] = True  # archived in NetSuite
    assert "Sales" not in conn.reference_data().accounts.values()


def test_a_line_goes_on_the_item_of_its_mapped_income_account(nssandbox):
    conn = connect(nssandbox)
    accounts = {name: pk for pk, name in conn.reference_data().accounts.items()}
    cust_doc = customer()
    cust = conn.create(cust_doc, Mapping(), "c-1")
    doc = invoice(cust_doc.key, "I-ACC", ("10.00", "20.00"))
    mapping = Mapping(line_accounts=(accounts["Consulting Revenue"], None), refs={cust_doc.key: cust.remote_id})
    made = conn.create(doc, mapping, "i-1")
    items = [line["item"]["internalId"] for line in made.raw["itemList"]["item"]]
    assert items == ["12", "11"]  # Consulting's item; the line without an account: the default item
    expense = Mapping(line_accounts=(accounts["Operating Expenses"],) * 2, refs={cust_doc.key: cust.remote_id})
    with pytest.raises(ConfigurationError, match="no active sale item"):
        conn.create(invoice(cust_doc.key, "I-EXP", ("10.00", "20.00")), expense, "i-2")


def test_a_payment_recorded_and_a_line_edited_in_netsuite_are_read_back(nssandbox):
    conn = connect(nssandbox)
    doc, refs, inv = sent_invoice(conn)
    assert conn.fetch(Entity.INVOICE, inv.remote_id).fingerprint == inv.fingerprint
    paid = nssandbox.act_as_user("record_payment", invoice_id=inv.remote_id, amount="60.00", reference="USER-77")
    payment_read = conn.remote_payment(paid["id"])
    assert (payment_read.amount, payment_read.reference) == (Decimal("60.00"), "USER-77")
    assert payment_read.allocations == ((inv.remote_id, Decimal("60.00")),) and not payment_read.deleted
    nssandbox.act_as_user("edit_invoice_line", invoice_id=inv.remote_id, line=0, amount="150.00")
    read = conn.remote_document(Entity.INVOICE, inv.remote_id)
    assert read.lines == ((Decimal("1"), Decimal("150.00")),) and read.balance == Decimal("90.00")
    assert conn.fetch(Entity.INVOICE, inv.remote_id).fingerprint != inv.fingerprint
    nssandbox.act_as_user("delete_payment", payment_id=paid["id"])
    assert conn.remote_payment(paid["id"]).deleted


def test_a_void_in_netsuites_ui_reads_back_as_voided_with_nothing_due(nssandbox):
    conn = connect(nssandbox)
    _, _, made = sent_invoice(conn)
    nssandbox.act_as_user("void_invoice", invoice_id=made.remote_id)
    remote = conn.remote_document(Entity.INVOICE, made.remote_id)
    assert remote.status == "voided" and remote.total == Decimal("0.00") and remote.version != made.version


def test_our_void_keeps_the_number_with_one_zero_line_and_takes_a_credit_memos_applications_back(nssandbox):
    conn = connect(nssandbox)
    doc, refs, made = sent_invoice(conn)
    note = credit_note(doc.customer_key, f"C{uuid.uuid4().hex[:6]}", applied=(Allocation(doc.key, Decimal("30.00")),))
    sent = conn.create(note, Mapping(refs=refs), f"n-{uuid.uuid4()}")
    voided = conn.void(Entity.CREDIT_NOTE, RemoteRef(sent.remote_id, sent.version), "v-1")
    assert voided.status == "voided" and voided.total == Decimal("0.00") and voided.number == note.number
    assert conn.fetch(Entity.INVOICE, made.remote_id).balance == Decimal("100.00")
    invoice_void = conn.void(Entity.INVOICE, RemoteRef(made.remote_id, made.version), "v-2")
    assert invoice_void.status == "voided" and invoice_void.balance == Decimal("0.00")


def test_an_item_is_a_non_inventory_sale_item_on_the_mapped_income_account_with_its_price(nssandbox):
    conn = connect(nssandbox)
    doc = item(price="31.50")
    made = conn.create(doc, Mapping(item_account="6"), f"t-{uuid.uuid4()}")
    assert made.number == doc.name and made.raw["incomeAccount"]["internalId"] == "6"
    assert made.raw["rate"] == "31.50"
    with pytest.raises(ConfigurationError):
        conn.create(item(), Mapping(), f"t-{uuid.uuid4()}")  # no income account mapped
    with pytest.raises(ValidationFailed) as info:
        conn.create(item(), Mapping(item_account="9"), f"t-{uuid.uuid4()}")  # an expense account
    assert info.value.platform_code == "INVALID_KEY_OR_REF"


def test_connect_checks_the_token_once_and_stores_its_id(nssandbox):
    conn = connect(nssandbox)
    tokens = conn.exchange_code("tba", "http://localhost/callback", {})
    assert tokens.access_token == tokens.refresh_token == "sandbox-token" and nssandbox.token_calls == 1
    with pytest.raises(AuthError):
        connect(nssandbox, secret="wrong").refresh(tokens.refresh_token)
