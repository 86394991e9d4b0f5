"""Pure translation between our snapshots and FreshBooks JSON: payloads, money objects, taxes by name, the emulated
void, vis_state, Eastern times, fingerprints and versions, and account kinds."""
import datetime as dt
from decimal import Decimal

from connectors.base import AccountKind
from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, ItemSnapshot, LineSnapshot,
                                  Mapping)
from connectors.freshbooks import translate as t
from connectors.freshbooks.connector import account_kind
from tests.connectors.contract import invoice, payment

D = Decimal


def line(kind="service", price="10.00", qty="1", tax_key=None):
    return LineSnapshot(kind=kind, description=f"{kind} line", quantity=D(qty), unit_price=D(price),
                        net_amount=D(qty) * D(price), tax_amount=D("0"), tax_rate_key=tax_key)


def test_client_and_item_payloads():
    body = t.client_payload(CustomerSnapshot(key="c", organization_id=1, name="Ada Vets", email="a@example.com",
                                             currency="CAD"))
    assert body == {"organization": "Ada Vets", "email": "a@example.com", "currency_code": "CAD"}
    item = t.item_payload(ItemSnapshot(key="i", organization_id=1, name="Bath", sku="B-1", unit_price=D("12.5")))
    assert item == {"name": "Bath", "description": "B-1", "unit_cost": {"amount": "12.50"}}


def test_lines_name_their_tax_and_a_discount_is_a_negative_line():
    doc = invoice("c", "INV-1", ("100.00",))
    doc = type(doc)(**{**doc.__dict__, "lines": (line(price="100.00", qty="1.5", tax_key="gst"),
                                                 line("discount", "10.00", tax_key="gst"), line(price="5.00"))})
    mapping = Mapping(tax_codes={"gst": "7"})
    lines = t.lines_payload(doc, {"7": ("GST 10%", D("10.000"))}, mapping)
    assert lines[0]["qty"] == "1.5" and lines[0]["unit_cost"] == {"amount": "100.00", "code": "USD"}
    assert (lines[0]["taxName1"], lines[0]["taxAmount1"]) == ("GST 10%", "10")
    assert lines[1]["unit_cost"]["amount"] == "-10.00" and lines[1]["taxName1"] == "GST 10%"
    assert "taxName1" not in lines[2]


def test_invoice_credit_note_and_payment_payloads():
    doc = invoice("c", "INV-2")
    doc = type(doc)(**{**doc.__dict__, "issue_date": dt.date(2026, 12, 1), "due_date": dt.date(2026, 12, 31)})
    body = t.invoice_payload(doc, "42", [])
    assert body["customerid"] == 42 and body["due_offset_days"] == 30 and body["create_date"] == "2026-12-01"
    note = CreditNoteSnapshot(key="n", organization_id=1, number="CN-1", customer_key="c",
                              issue_date=dt.date(2026, 12, 2), allocations=(Allocation("inv", D("5")),))
    assert t.credit_payload(note, "42", [])["clientid"] == 42
    assert t.credit_applications(note, Mapping(refs={"inv": "9"})) == {"9": D("5.00")}
    paid = t.payment_payload(payment("c", "P-9", "inv", "12.5"), "9")
    assert paid == {"invoiceid": 9, "amount": {"amount": "12.50"}, "date": dt.date.today().isoformat(),
                    "type": "Credit Card", "note": "P-9"}
    credit = t.credit_application("3", "9", D("5"), dt.date(2026, 12, 2))
    assert credit["type"] == "Credit" and credit["creditid"] == 3 and credit["amount"] == {"amount": "5.00"}


INVOICE = {"invoiceid": 5, "id": 5, "invoice_number": "INV-5", "customerid": 2, "create_date": "2026-12-01",
           "currency_code": "USD", "notes": "", "amount": {"amount": "110.00", "code": "USD"},
           "outstanding": {"amount": "60.00", "code": "USD"}, "vis_state": 0, "updated": "2026-12-03 04:10:05",
           "lines": [{"name": "Visit", "qty": "2", "unit_cost": {"amount": "50.00", "code": "USD"},
                      "taxName1": "GST 10%", "taxAmount1": "10"}]}


def test_result_totals_statuses_and_the_emulated_void():
    found = t.result("invoice", INVOICE)
    assert (found.remote_id, found.number, found.total, found.balance, found.status) == (
        "5", "INV-5", D("110.00"), D("60.00"), "active")
    archived = t.result("invoice", {**INVOICE, "vis_state": 2})
    assert archived.status == "active"  # an archived invoice still counts
    assert t.result("customer", {"id": 1, "organization": "A", "vis_state": 2}).status == "inactive"
    assert t.result("invoice", {**INVOICE, "vis_state": 1}).status == "deleted"
    voided = {**INVOICE, "amount": {"amount": "0.00"}, "notes": f"{t.VOID_NOTE}\nold notes"}
    assert t.result("invoice", voided).status == "voided" and t.result("invoice", voided).balance == D("0.00")
    assert t.result("invoice", {**INVOICE, "notes": t.VOID_NOTE}).status == "active"  # a note alone is not a void
    assert t.voided_lines(INVOICE) == [{"name": "Visit", "qty": "2", "unit_cost": {"amount": "0.00"},
                                        "taxName1": "GST 10%", "taxAmount1": "10"}]


def test_fingerprint_ignores_spelling_and_the_currency_echo_but_not_content():
    respelt = {**INVOICE, "lines": [{**INVOICE["lines"][0], "qty": 2, "unit_cost": {"amount": "50"}}]}
    assert t.fingerprint("invoice", respelt) == t.fingerprint("invoice", INVOICE)
    changed = {**INVOICE, "lines": [{**INVOICE["lines"][0], "qty": "3"}]}
    assert t.fingerprint("invoice", changed) != t.fingerprint("invoice", INVOICE)
    assert t.fingerprint("invoice", {**INVOICE, "outstanding": {"amount": "0.00"}}) == t.fingerprint(
        "invoice", INVOICE)  # a payment is not an edit
    assert t.version("invoice", INVOICE).startswith("2026-12-03 04:10:05/")


def test_times_are_us_eastern_both_ways():
    assert t.modified_at(INVOICE) == dt.datetime(2026, 12, 3, 9, 10, 5, tzinfo=dt.UTC)  # EST is UTC-5
    summer = t.modified_at({"updated": "2026-07-01 08:00:00"})
    assert summer == dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)  # EDT is UTC-4
    assert t.format_time(dt.datetime(2026, 12, 3, 9, 10, 5, tzinfo=dt.UTC)) == "2026-12-03 04:10:05"
    assert t.modified_at({}) is None


def test_remote_document_payment_and_totals():
    doc = t.remote_document("invoice", INVOICE)
    assert doc.lines == ((D("2"), D("50.00")),) and doc.status == "active" and doc.total == D("110.00")
    assert t.remote_document("invoice", {**INVOICE, "vis_state": 1}).status == "deleted"
    paid = t.remote_payment({"id": 8, "invoiceid": 5, "clientid": 2, "amount": {"amount": "40.00", "code": "USD"},
                             "date": "2026-12-02", "type": "Check", "note": "CHK-1", "vis_state": 1,
                             "updated": "2026-12-03 04:00:00"})
    assert (paid.remote_id, paid.amount, paid.allocations, paid.reference, paid.deleted, paid.currency) == (
        "8", D("40.00"), (("5", D("40.00")),), "CHK-1", True, "USD")
    totals = t.totals("invoice", INVOICE)
    assert totals.status == "open" and totals.date == dt.date(2026, 12, 1) and totals.currency == "USD"


def test_account_kinds_from_type_and_sub_type():
    assert account_kind({"account_type": "income", "account_sub_type": "sales"}) == AccountKind.INCOME
    assert account_kind({"account_type": "asset", "account_sub_type": "undeposited_funds"}) == AccountKind.DEPOSIT
    assert account_kind({"account_type": "asset", "account_sub_type": "accounts_receivable"}) == \
        AccountKind.RECEIVABLE
    assert account_kind({"account_type": "liability", "account_sub_type": "sales_taxes_payable"}) == \
        AccountKind.TAX_PAYABLE
    assert account_kind({"account_type": "cost_of_goods_sold"}) == AccountKind.EXPENSE
    assert account_kind({"account_type": "equity"}) == AccountKind.OTHER
