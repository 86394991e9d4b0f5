"""Our snapshots to OneUp JSON and back: Decimal money to the cent (never a float), our number in ``user_code``,
our tax as its own line, a discount as a negative price, applications of a payment, and amounts read back exactly."""
import dataclasses
import json
from decimal import Decimal

import pytest

from connectors.documents import Mapping
from connectors.oneup import translate as t
from tests.connectors.contract import customer, invoice, item, payment


def no_floats(value):
    if isinstance(value, dict):
        return all(no_floats(v) for v in value.values())
    if isinstance(value, list):
        return all(no_floats(v) for v in value)
    return not isinstance(value, float)


@pytest.mark.parametrize("value,expected", [("123.45", "123.45"), ("0.005", "0.01"), ("2.675", "2.68"),
                                            ("10", "10.00"), ("-5.555", "-5.56")])
def test_amounts_are_decimals_to_the_cent_half_up(value, expected):
    assert t.amount(Decimal(value)) == Decimal(expected) and isinstance(t.amount(Decimal(value)), Decimal)


def test_money_reads_numbers_and_text_as_decimals():
    assert t.money(Decimal("12.5")) == Decimal("12.50") and t.money("7") == Decimal("7.00") and t.money(3) == 3
    assert t.money(None) is None and t.money("") is None


def test_customer_and_item_payloads():
    cust = customer("Acme Vets")
    assert t.customer_payload(cust) == {"type": 1, "company_name": "Acme Vets"}
    thing = dataclasses.replace(item("Rabies vaccine", "19.999"), kind="product", sku="RV-1")
    body = t.item_payload(thing)
    assert body == {"name": "Rabies vaccine", "type": 1, "sales_price": Decimal("20.00"), "item_number": "RV-1"}


def test_invoice_payload_with_our_number_tax_and_discount_lines():
    cust = customer()
    doc = invoice(cust.key, "INV-9", ("100.00", "23.45"))
    lines = (doc.lines[0], dataclasses.replace(doc.lines[1], kind="discount", tax_rate_key="t"))
    doc = dataclasses.replace(doc, lines=lines, tax_total=Decimal("7.50"), memo="Thanks")
    body = t.invoice_payload(doc, Mapping(line_accounts=("11", None), tax_codes={"t": "TAXABLE"},
                                          refs={cust.key: "1001"}))
    assert body["customer_id"] == 1001 and body["user_code"] == "INV-9" and body["public_note"] == "Thanks"
    assert [line["unit_price_wt"] for line in body["order_lines"]] == [Decimal("100.00"), Decimal("-23.45"),
                                                                        Decimal("7.50")]
    assert body["order_lines"][0]["account_id"] == 11 and "account_id" not in body["order_lines"][1]
    assert body["order_lines"][1]["is_taxable"] is True and body["order_lines"][2]["description"] == t.TAX_LINE
    assert no_floats(body)
    json.dumps(body, default=str)


def test_payment_payload_applies_to_invoices_in_decimals():
    cust, inv = customer(), invoice("c", "INV-1")
    refs = {cust.key: "1001", inv.key: "1002"}
    body = t.payment_payload(payment(cust.key, "P-1", inv.key, "40.10"), Mapping(deposit_account="6", refs=refs))
    assert body["amount"] == Decimal("40.10") and body["invoices"] == [{"invoice_id": 1002,
                                                                         "amount": Decimal("40.10")}]
    assert body["account_id"] == 6 and body["user_code"] == "P-1" and no_floats(body)


def test_result_reads_total_and_unpaid_and_the_fingerprint_follows_content():
    body = {"id": 1002, "user_code": "INV-1", "customer_id": 1001, "date": "2026-12-01", "total": Decimal("123.45"),
            "unpaid": Decimal("23.45"), "paid": Decimal("100.00"), "updated_at": "2026-12-01T10:00:00.000Z",
            "order_lines": [{"description": "A", "quantity": Decimal("1"), "unit_price_wt": Decimal("123.45"),
                             "total": Decimal("123.45")}]}
    found = t.result("invoice", body)
    assert (found.remote_id, found.number, found.total, found.balance, found.status) == (
        "1002", "INV-1", Decimal("123.45"), Decimal("23.45"), "active")
    changed = {**body, "order_lines": [{**body["order_lines"][0], "unit_price_wt": Decimal("123.00")}]}
    assert t.fingerprint("invoice", changed) != found.fingerprint
    assert t.fingerprint("invoice", {**body, "unpaid": 0}) == found.fingerprint  # a payment is not an edit
    assert t.remote_document("invoice", body).lines == ((Decimal("1"), Decimal("123.45")),)


def test_the_emulated_void_reads_back_as_voided():
    body = {"id": 1, "user_code": "INV-1", "total": Decimal("0.00"), "unpaid": Decimal("0.00"),
            "public_note": t.VOID_NOTE, "order_lines": [{**t.VOID_LINES[0], "total": Decimal("0.00")}]}
    assert t.result("invoice", body).status == "voided" and t.result("credit_note", body).status == "voided"
    assert t.result("invoice", {**body, "public_note": "Voided by hand?"}).status == "active"
