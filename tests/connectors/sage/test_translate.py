"""Sage payload translation (snapshots to Sage JSON and Sage JSON back, pure functions), and the connector's own
choices that need no sandbox: account kinds, the token expiry it hands the token store."""
import datetime as dt
from decimal import Decimal

import pytest

from connectors.base import AccountKind
from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, ItemSnapshot,
                                  LineSnapshot, Mapping, PaymentSnapshot)
from connectors.models import Connection
from connectors.sage import connector as c
from connectors.sage import translate as t
from connectors.tokens import DEFAULT_MARGIN

D = Decimal


def line(kind="service", price="50.00", qty="2", tax=None, description="Consult", item_name=""):
    net = (D(price) * D(qty)).quantize(D("0.01"))
    return LineSnapshot(kind=kind, description=description, quantity=D(qty), unit_price=D(price), net_amount=net,
                        tax_amount=D("0.00"), tax_rate_key=tax, item_name=item_name)


def invoice(*lines, number="INV-7"):
    return InvoiceSnapshot(key="ledger.invoice:7", organization_id=1, number=number, customer_key="c",
                           issue_date=dt.date(2026, 12, 1), due_date=dt.date(2026, 12, 31), memo="Thanks",
                           currency="USD", lines=lines)


MAPPING = Mapping(line_accounts=("L400", "L401", "L402"), tax_codes={"gst": "T10"}, item_account="L400",
                  deposit_account="B1", refs={"c": "C1", "inv": "V1", "inv2": "V2"})


def test_invoice_carries_our_number_as_reference_lines_accounts_and_taxes():
    body = t.sales_payload(invoice(line(tax="gst"), line(price="5.50", qty="1", description="", item_name="Bath"),
                                   line(kind="discount", price="10.00", qty="1", description="")), MAPPING)
    assert body["contact_id"] == "C1" and body["reference"] == "INV-7" and "invoice_number" not in body
    assert body["date"] == "2026-12-01" and body["due_date"] == "2026-12-31" and body["notes"] == "Thanks"
    first, second, discount = body["invoice_lines"]
    assert first == {"description": "Consult", "ledger_account_id": "L400", "quantity": D("2"),
                     "unit_price": D("50.00"), "tax_rate_id": "T10"}
    assert second["description"] == "Bath" and "tax_rate_id" not in second  # Sage refuses a blank description
    assert discount["unit_price"] == D("-10.00") and discount["description"] == "Discount"


def test_credit_note_lines_and_allocations():
    note = CreditNoteSnapshot(key="n", organization_id=1, number="CN-1", customer_key="c",
                              issue_date=dt.date(2026, 12, 2), lines=(line(),),
                              allocations=(Allocation("inv", D("20")), Allocation("inv2", D("0"))))
    body = t.sales_payload(note, MAPPING)
    assert body["reference"] == "CN-1" and len(body["credit_note_lines"]) == 1 and "due_date" not in body
    assert t.credit_allocations(note, MAPPING) == {"V1": D("20.00")}


def test_receipt_allocated_into_the_mapped_bank_account():
    pay = PaymentSnapshot(key="p", organization_id=1, number="PAY-1", customer_key="c", date=dt.date(2026, 12, 3),
                          amount=D("60.00"), method="check", allocations=(Allocation("inv", D("60.00")),))
    body = t.payment_payload(pay, MAPPING)
    assert body == {"transaction_type_id": "CUSTOMER_RECEIPT", "contact_id": "C1", "bank_account_id": "B1",
                    "date": "2026-12-03", "total_amount": D("60.00"), "reference": "PAY-1",
                    "payment_method_id": "CHECK", "currency_id": "USD",
                    "allocated_artefacts": [{"artefact_id": "V1", "amount": D("60.00")}]}


def test_customer_and_items():
    body = t.contact_payload(CustomerSnapshot(key="k", organization_id=1, name="Ann", email="a@example.com"))
    assert body["contact_type_ids"] == ["CUSTOMER"] and body["main_contact_person"]["email"] == "a@example.com"
    thing = ItemSnapshot(key="i", organization_id=1, name="Bath", sku="B1", kind="product", unit_price=D("12.50"))
    service = t.item_payload(thing, MAPPING)
    assert service["sales_rates"][0]["rate"] == D("12.50") and "purchase_ledger_account_id" not in service
    product = t.item_payload(thing, MAPPING, "P500")
    assert product["purchase_ledger_account_id"] == "P500" and product["sales_prices"][0]["price"] == D("12.50")


def record(**extra):
    return {"id": "S1", "reference": "INV-7", "contact": {"id": "C1"}, "date": "2026-12-01",
            "updated_at": "2026-12-03T10:00:00Z", "total_amount": D("110.00"), "outstanding_amount": D("60.00"),
            "tax_amount": D("10.00"), "currency": {"id": "USD"}, "status": {"id": "PART_PAID"},
            "invoice_lines": [{"description": "x", "quantity": D("1"), "unit_price": D("100.00"),
                               "ledger_account": {"id": "L400"}, "tax_rate": {"id": "T10"}}], **extra}


def test_result_totals_and_voided_counts_for_nothing():
    found = t.result("invoice", record())
    assert (found.number, found.total, found.balance, found.status) == ("INV-7", D("110.00"), D("60.00"), "active")
    void = t.result("invoice", record(status={"id": "VOID"}))
    assert (void.status, void.total, void.balance) == ("voided", D("0.00"), D("0.00"))
    totals = t.totals("invoice", record())
    assert totals.status == "open" and totals.tax_total == D("10.00") and totals.currency == "USD"


def test_version_changes_with_content_within_one_second_and_ignores_what_sage_computes():
    base = t.version("invoice", record())
    assert t.version("invoice", record(outstanding_amount=D("0.00"), status={"id": "PAID"})) == base
    edited = record()
    edited["invoice_lines"][0]["unit_price"] = D("90.00")
    assert t.version("invoice", edited) != base  # same updated_at, other content
    assert t.fingerprint("invoice", record(total_amount="110")) == t.fingerprint("invoice", record())


def test_remote_payment_and_document():
    pay = t.remote_payment({"id": "P1", "contact": {"id": "C1"}, "date": "2026-12-03", "total_amount": D("60"),
                            "currency": {"id": "USD"}, "reference": "R",
                            "allocated_artefacts": [{"artefact": {"id": "S1"}, "amount": D("60")}]})
    assert pay.allocations == (("S1", D("60.00")),) and pay.customer_remote_id == "C1" and pay.amount == D("60.00")
    doc = t.remote_document("invoice", record())
    assert doc.lines == ((D("1"), D("100.00")),) and doc.status == "active"


def test_format_time_is_utc_to_the_second():
    when = dt.datetime(2026, 12, 3, 11, 2, 51, 999, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert t.format_time(when) == "2026-12-03T10:02:51+00:00"


@pytest.mark.parametrize("account, kind", [
    ({"ledger_account_type": {"id": "SALES"}}, AccountKind.INCOME),
    ({"ledger_account_type": {"id": "OTHER_INCOME"}}, AccountKind.INCOME),
    ({"ledger_account_type": {"id": "OVERHEADS"}}, AccountKind.EXPENSE),
    ({"_bank": True}, AccountKind.DEPOSIT),
    ({"ledger_account_type": {"id": "CURRENT_ASSETS"}, "is_control_account": True,
      "control_name": "SALES_LEDGER_CONTROL"}, AccountKind.RECEIVABLE),
    ({"ledger_account_type": {"id": "CURRENT_LIABILITY"}, "control_name": "SALES_TAX"}, AccountKind.TAX_PAYABLE),
    ({"ledger_account_type": {"id": "CURRENT_ASSETS"}}, AccountKind.OTHER)])
def test_account_kinds(account, kind):
    assert c.account_kind(account) == kind


def test_a_five_minute_token_is_used_until_30_seconds_before_it_expires():
    """Sage's access token lives 5 minutes: the token store refreshes it 30 s before its expiry (the connector's
    ``token_refresh_margin``), not before every call (the kit's default margin is 5 minutes)."""
    assert c.SageConnector.token_refresh_margin == dt.timedelta(seconds=30) < DEFAULT_MARGIN
    conn = Connection(access_token="a", access_expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=290))
    assert conn.token_valid(c.SageConnector.token_refresh_margin) and not conn.token_valid(DEFAULT_MARGIN)
