"""Snapshots to NetSuite record bodies and back (pure), and round trips through the sandbox with our client: what
we write reads back with the same fingerprint, totals and balances, payments and credit memos applied."""
import datetime as dt
from decimal import Decimal

import pytest

from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, Entity, InvoiceSnapshot,
                                  LineSnapshot, Mapping, PaymentSnapshot)
from connectors.errors import ConfigurationError
from connectors.netsuite import translate as t
from connectors.netsuite.client import NetSuiteClient

DEFAULT_ITEM, WIDGET, DEPOSIT = "201", "202", "122"


def line(price, kind="service", item_key=None, tax_key=None):
    return LineSnapshot(kind=kind, description="Visit", quantity=Decimal("2"), unit_price=Decimal(price),
                        net_amount=Decimal(price) * 2, tax_amount=Decimal("0"), item_key=item_key,
                        tax_rate_key=tax_key)


def invoice(key="invoice:7", number="INV-7", lines=None):
    return InvoiceSnapshot(key=key, organization_id=1, number=number, customer_key="cust",
                           issue_date=dt.date(2026, 12, 1), due_date=dt.date(2026, 12, 31),
                           lines=tuple(lines or (line("50.00", item_key="widget", tax_key="gst"),
                                                 line("5.00", "discount"))))


def mapping(**refs):
    return Mapping(deposit_account=DEPOSIT, tax_codes={"gst": "7"}, refs={"widget": WIDGET, **refs})


def test_invoice_body_names_items_our_number_and_external_id():
    body = t.document(invoice(), mapping(cust="1001"), DEFAULT_ITEM)
    assert body["externalId"] == "invoice:7" and body["tranId"] == "INV-7" and body["entity"] == {"id": "1001"}
    assert body["dueDate"] == "2026-12-31"
    assert [(x["item"]["id"], x["rate"], x.get("taxCode")) for x in body["item"]["items"]] == [
        (WIDGET, Decimal("50.00"), {"id": "7"}), (DEFAULT_ITEM, Decimal("-5.00"), None)]


def test_a_line_without_item_needs_the_default_item_and_a_document_its_customer():
    with pytest.raises(ConfigurationError):
        t.document(invoice(lines=(line("1.00"),)), mapping(cust="1001"), "")
    with pytest.raises(ConfigurationError):
        t.document(invoice(), mapping(), DEFAULT_ITEM)


def test_a_line_takes_the_item_chosen_for_its_account_before_the_default_one():
    body = t.document(invoice(), mapping(cust="1001"), DEFAULT_ITEM, items=("999", "204"))
    assert [x["item"]["id"] for x in body["item"]["items"]] == [WIDGET, "204"]  # a synced item still wins


def test_a_tax_code_changed_in_netsuite_changes_the_fingerprint():
    body = t.document(invoice(), mapping(cust="1001"), DEFAULT_ITEM)
    retaxed = {**body, "item": {"items": [{**body["item"]["items"][0], "taxCode": {"id": "8"}},
                                          *body["item"]["items"][1:]]}}
    assert t.fingerprint(Entity.INVOICE, body) != t.fingerprint(Entity.INVOICE, retaxed)


def test_voided_in_netsuite_or_by_our_emulated_void():
    assert t.voided({"status": {"id": "V", "refName": "Voided"}, "item": {"items": []}})
    ours = {"memo": "Voided", "item": {"items": [{"item": {"id": "201"}, "description": "Voided", "rate": 0,
                                                  "amount": 0}]}}
    assert t.voided(ours)
    assert not t.voided({**ours, "item": {"items": [{**ours["item"]["items"][0], "amount": "5.00"}]}})
    assert not t.voided({"status": {"refName": "Open"}, "memo": "Voided", "item": {"items": []}})


def test_external_ids_keep_only_characters_safe_in_a_url_path():
    assert t.external_id("org 1/invoice#7") == "org_1_invoice_7"


def test_payment_applies_to_invoices_into_the_deposit_account():
    pay = PaymentSnapshot(key="payment:3", organization_id=1, number="PAY-3", customer_key="cust",
                          date=dt.date(2026, 12, 2), amount=Decimal("60.00"),
                          allocations=(Allocation("inv", Decimal("60.00")), Allocation("other", Decimal("0"))))
    body = t.payment(pay, mapping(cust="1001", inv="3001"))
    assert body["account"] == {"id": DEPOSIT} and body["payment"] == Decimal("60.00")
    assert body["apply"]["items"] == [{"doc": {"id": "3001"}, "apply": True, "amount": Decimal("60.00")}]
    with pytest.raises(ConfigurationError):
        t.payment(pay, Mapping(refs={"cust": "1001", "inv": "3001"}))


@pytest.fixture
def client(nsandbox):
    token, secret = next(iter(nsandbox.tokens.items()))
    return NetSuiteClient(nsandbox.base_url + "/services/rest", None, timeout=10,
                          tba_credentials=(nsandbox.account_id, *nsandbox.consumer, token, secret))


def test_round_trip_customer_invoice_payment_credit_memo(client):
    cust = CustomerSnapshot(key="customer:1", organization_id=1, name="Round Trip Ltd", email="a@b.test")
    cust_id = client.upsert("customer", t.external_id(cust.key), t.customer(cust, "1"))
    assert t.result(Entity.CUSTOMER, client.read("customer", cust_id)).fingerprint == \
        t.fingerprint(Entity.CUSTOMER, t.customer(cust, "1"))
    refs = mapping(cust=cust_id)
    inv = invoice(lines=(line("50.00", item_key="widget"), line("5.00", "discount")))
    body = t.document(inv, refs, DEFAULT_ITEM)
    inv_id = client.upsert("invoice", body["externalId"], body)
    got = t.result(Entity.INVOICE, client.read("invoice", inv_id))
    assert got.fingerprint == t.fingerprint(Entity.INVOICE, body)
    assert got.number == "INV-7" and got.total == got.balance == Decimal("90.00")

    refs = mapping(cust=cust_id, inv=inv_id)
    pay = PaymentSnapshot(key="payment:1", organization_id=1, number="PAY-1", customer_key="cust",
                          date=dt.date(2026, 12, 2), amount=Decimal("40.00"),
                          allocations=(Allocation("inv", Decimal("40.00")),))
    pay_body = t.payment(pay, refs)
    pay_id = client.upsert("customerpayment", pay_body["externalId"], pay_body)
    paid = t.result(Entity.PAYMENT, client.read("customerpayment", pay_id))
    assert paid.total == Decimal("40.00") and paid.fingerprint == t.fingerprint(Entity.PAYMENT, pay_body)

    note = CreditNoteSnapshot(key="credit_note:1", organization_id=1, number="CN-1", customer_key="cust",
                              issue_date=dt.date(2026, 12, 3), lines=(line("15.00"),),
                              allocations=(Allocation("inv", Decimal("20.00")),))
    note_body = t.document(note, refs, DEFAULT_ITEM)
    note_id = client.create("creditmemo", note_body)
    memo = t.result(Entity.CREDIT_NOTE, client.read("creditmemo", note_id))
    assert memo.total == Decimal("30.00") and memo.balance == Decimal("10.00")
    assert memo.fingerprint == t.fingerprint(Entity.CREDIT_NOTE, note_body)
    assert t.result(Entity.INVOICE, client.read("invoice", inv_id)).balance == Decimal("30.00")
