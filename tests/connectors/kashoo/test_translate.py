"""Our snapshots to Kashoo JSON and back: integer cents both ways (never a float), our tax as its own line, a
discount as a negative price, applications in cents, and the emulated void read back as "voided"."""
import dataclasses
import json
from decimal import Decimal

import pytest

from connectors.documents import Allocation, Mapping
from connectors.kashoo import translate as t
from tests.connectors.contract import credit_note, customer, invoice, payment


@pytest.mark.parametrize("amount,cents", [("123.45", 12345), ("0.01", 1), ("10", 1000), ("-5.50", -550),
                                          ("0.005", 1), ("2.675", 268)])
def test_to_cents_is_exact_half_up(amount, cents):
    assert t.to_cents(Decimal(amount)) == cents


def test_from_cents_is_a_decimal_of_two_places():
    assert t.from_cents(12345) == Decimal("123.45") and t.from_cents(Decimal("7")) == Decimal("0.07")
    assert t.from_cents(None) is None


def test_invoice_payload_in_cents_with_tax_and_discount_lines():
    cust = customer()
    doc = invoice(cust.key, "INV-9", ("100.00", "23.45"))
    lines = (doc.lines[0], dataclasses.replace(doc.lines[1], kind="discount", tax_rate_key="t"))
    doc = dataclasses.replace(doc, lines=lines, tax_total=Decimal("7.50"), memo="Thanks")
    body = t.invoice_payload(doc, Mapping(line_accounts=("11", None), tax_codes={"t": "TAXABLE"},
                                          refs={cust.key: "20001"}))
    assert body["contactId"] == "20001" and body["number"] == "INV-9" and body["memo"] == "Thanks"
    assert [line["unitPrice"] for line in body["lineItems"]] == [10000, -2345, 750]
    assert body["lineItems"][0]["accountId"] == "11" and "accountId" not in body["lineItems"][1]
    assert body["lineItems"][1]["taxable"] is True and body["lineItems"][2]["description"] == t.TAX_LINE
    assert all(isinstance(line["unitPrice"], int) for line in body["lineItems"])
    json.dumps(body, default=str)  # nothing but JSON-able values


def test_payment_and_credit_note_applications_in_cents():
    cust, inv = customer(), invoice("c", "INV-1")
    refs = {cust.key: "20001", inv.key: "20002"}
    pay = t.payment_payload(payment(cust.key, "P-1", inv.key, "40.10"), Mapping(deposit_account="6", refs=refs))
    assert pay["amount"] == 4010 and pay["invoices"] == [{"invoiceId": "20002", "amount": 4010}]
    assert pay["depositAccountId"] == "6" and pay["number"] == "P-1"
    note = credit_note(cust.key, "CN-1", ("30.00",), (Allocation(inv.key, Decimal("12.34")),))
    body = t.credit_payload(note, Mapping(refs=refs))
    assert body["invoices"] == [{"invoiceId": "20002", "amount": 1234}]


def test_result_reads_cents_back_and_the_fingerprint_follows_content():
    body = {"id": 20002, "number": "INV-1", "contactId": "20001", "date": "2026-12-01", "amount": 12345,
            "balanceDue": 2345, "modified": "2026-12-01T10:00:00.000Z",
            "lineItems": [{"description": "A", "quantity": Decimal("1"), "unitPrice": 12345, "amount": 12345}]}
    found = t.result("invoice", body)
    assert (found.remote_id, found.total, found.balance, found.status) == ("20002", Decimal("123.45"),
                                                                            Decimal("23.45"), "active")
    changed = {**body, "lineItems": [{**body["lineItems"][0], "unitPrice": 12300}]}
    assert t.fingerprint("invoice", changed) != found.fingerprint
    assert t.fingerprint("invoice", {**body, "balanceDue": 0}) == found.fingerprint  # a payment is not an edit


def test_the_emulated_void_reads_back_as_voided():
    body = {"id": 1, "number": "INV-1", "amount": 0, "balanceDue": 0, "memo": t.VOID_MEMO,
            "lineItems": [{**t.VOID_LINES[0], "amount": 0}]}
    assert t.result("invoice", body).status == "voided"
    assert t.result("invoice", {**body, "memo": "Voided by hand?"}).status == "active"
