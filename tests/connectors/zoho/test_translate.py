"""Zoho Books payload translation: snapshots to Zoho JSON and Zoho JSON back, pure functions."""
import datetime as dt
import json
from decimal import Decimal

from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, ItemSnapshot,
                                  LineSnapshot, Mapping, PaymentSnapshot)
from connectors.exactjson import dumps
from connectors.zoho import translate as t

D = Decimal


def line(kind="service", price="50.00", qty="2", tax=None, item=None, description="Consult"):
    net = (D(price) * D(qty)).quantize(D("0.01"))
    return LineSnapshot(kind=kind, description=description, quantity=D(qty), unit_price=D(price), net_amount=net,
                        tax_amount=D("0.00"), item_key=item, tax_rate_key=tax)


def invoice(*lines, number="INV-7"):
    return InvoiceSnapshot(key="ledger.invoice:7", organization_id=1, number=number, customer_key="c",
                           issue_date=dt.date(2026, 12, 1), due_date=dt.date(2026, 12, 31), memo="Thanks",
                           lines=lines)


MAPPING = Mapping(line_accounts=("400", "401", "402"), tax_codes={"gst": "T10"}, item_account="400",
                  deposit_account="090", refs={"c": "C1", "i": "I1", "inv": "V1"})


def test_invoice_lines_accounts_taxes_and_items():
    body = t.sales_payload(invoice(line(tax="gst"), line(item="i", price="5.50", qty="1")), MAPPING)
    assert body["customer_id"] == "C1" and body["invoice_number"] == "INV-7" and body["date"] == "2026-12-01"
    assert body["due_date"] == "2026-12-31" and body["notes"] == "Thanks" and body["is_inclusive_tax"] is False
    first, second = body["line_items"]
    assert first == {"name": "Consult", "description": "Consult", "rate": D("50.00"), "quantity": D("2"),
                     "account_id": "400", "tax_id": "T10", "item_order": 1}
    assert second["item_id"] == "I1" and "name" not in second and "tax_id" not in second
    assert "discount" not in body


def test_a_discount_line_is_a_negative_line_on_the_discount_account_with_its_tax():
    body = t.sales_payload(invoice(line(), line(kind="discount", price="10.00", qty="1", tax="gst",
                                                description="Loyalty")), MAPPING)
    assert body["line_items"][1] == {"name": "Loyalty", "description": "Loyalty", "rate": D("-10.00"),
                                     "quantity": D("1"), "account_id": "401", "tax_id": "T10", "item_order": 2}
    assert "discount" not in body


def test_money_is_sent_digit_for_digit():
    text = dumps(t.sales_payload(invoice(line(price="0.10", qty="3")), MAPPING))
    assert '"rate": 0.10' in text and '"quantity": 3' in text


def test_credit_note_number_and_applications():
    note = CreditNoteSnapshot(key="n", organization_id=1, number="CN-1", customer_key="c", lines=(line(),),
                              allocations=(Allocation("inv", D("30")), Allocation("inv2", D("0"))))
    body = t.sales_payload(note, MAPPING)
    assert body["creditnote_number"] == "CN-1" and "invoice_number" not in body and "due_date" not in body
    assert t.credit_applications(note, MAPPING) == {"V1": D("30.00")}


def test_payment_applied_to_invoices_and_deposited():
    pay = PaymentSnapshot(key="p", organization_id=1, number="PAY-1", customer_key="c", date=dt.date(2026, 12, 2),
                          amount=D("40.00"), method="transfer", allocations=(Allocation("inv", D("40.00")),))
    body = t.payment_payload(pay, MAPPING)
    assert body == {"customer_id": "C1", "payment_mode": "banktransfer", "amount": D("40.00"), "date": "2026-12-02",
                    "reference_number": "PAY-1", "account_id": "090",
                    "invoices": [{"invoice_id": "V1", "amount_applied": D("40.00")}]}


def test_contact_and_item():
    contact = t.contact_payload(CustomerSnapshot(key="c", organization_id=1, name="Ada", email="ada@example.com"),
                                "CUR-EUR")
    assert contact == {"contact_name": "Ada", "contact_type": "customer", "currency_id": "CUR-EUR",
                       "contact_persons": [{"email": "ada@example.com", "is_primary_contact": True}]}
    item = t.item_payload(ItemSnapshot(key="i", organization_id=1, name="Bath", kind="product",
                                       unit_price=D("12.00")), MAPPING)
    assert item == {"name": "Bath", "rate": D("12.00"), "product_type": "goods", "account_id": "400"}


ZOHO_INVOICE = {"invoice_id": "V1", "invoice_number": "INV-7", "customer_id": "C1", "date": "2026-12-01",
                "status": "sent", "currency_code": "EUR", "exchange_rate": 1.5, "total": "100.00", "balance": 60,
                "tax_total": "0", "last_modified_time": "2026-12-01T10:00:00+0100",
                "line_items": [{"line_item_id": "L1", "description": "Consult", "rate": 50, "quantity": 2,
                                "account_id": "400"}]}


def test_result_totals_balance_home_total_and_version():
    found = t.result("invoice", json.loads(json.dumps(ZOHO_INVOICE), parse_float=D))
    assert (found.remote_id, found.number, found.total, found.balance, found.status) == ("V1", "INV-7", D("100.00"),
                                                                                        D("60.00"), "active")
    assert found.home_total == D("150.00") and found.version.startswith("2026-12-01T10:00:00+0100/")


def test_voided_counts_for_nothing():
    found = t.result("invoice", {**ZOHO_INVOICE, "status": "void"})
    assert (found.status, found.total, found.balance) == ("voided", D("0.00"), D("0.00"))


def test_fingerprint_ignores_spelling_balance_and_times_but_not_edits():
    same = {**ZOHO_INVOICE, "total": 100.0, "balance": "0", "last_modified_time": "2027-01-01T00:00:00+0000",
            "line_items": [{**ZOHO_INVOICE["line_items"][0], "rate": "50.00", "quantity": "2.0"}]}
    assert t.fingerprint("invoice", same) == t.fingerprint("invoice", ZOHO_INVOICE)
    edited = {**ZOHO_INVOICE, "line_items": [{**ZOHO_INVOICE["line_items"][0], "rate": 75}]}
    assert t.fingerprint("invoice", edited) != t.fingerprint("invoice", ZOHO_INVOICE)
    assert t.version("invoice", edited) != t.version("invoice", ZOHO_INVOICE)  # same second, other content


def test_remote_document_and_payment():
    doc = t.remote_document("invoice", ZOHO_INVOICE)
    assert doc.lines == ((D("2"), D("50")),) and doc.status == "active" and doc.total == D("100.00")
    paid = t.remote_payment({"payment_id": "P1", "customer_id": "C1", "date": "2026-12-02", "amount": 40,
                             "currency_code": "EUR", "reference_number": "USER-77",
                             "invoices": [{"invoice_id": "V1", "amount_applied": 40}]})
    assert paid.allocations == (("V1", D("40.00")),) and paid.amount == D("40.00") and paid.reference == "USER-77"


def test_totals_for_reconciliation():
    row = t.totals("invoice", ZOHO_INVOICE)
    assert (row.status, row.currency, row.date, row.tax_total) == ("open", "EUR", dt.date(2026, 12, 1), D("0.00"))
    assert row.modified == dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def test_times_as_zoho_writes_them():
    assert t.parse_time("2013-11-18T02:02:51-0800") == dt.datetime(2013, 11, 18, 10, 2, 51, tzinfo=dt.UTC)
    assert t.format_time(dt.datetime(2013, 11, 18, 2, 2, 51, tzinfo=dt.timezone(dt.timedelta(hours=-8)))) == \
        "2013-11-18T10:02:51+0000"
    assert t.modified({"updated_time": "x"}) == "x" and t.modified({}) == ""
