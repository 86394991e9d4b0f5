"""FreeAgent payload translation: snapshots to FreeAgent JSON and FreeAgent JSON back, pure functions."""
import datetime as dt
from decimal import Decimal

from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, ExpenseLineSnapshot,
                                  ExpenseSnapshot, InvoiceSnapshot, ItemSnapshot, JournalLineSnapshot, JournalSnapshot,
                                  LineSnapshot, Mapping, PaymentSnapshot, RefundSnapshot)
from connectors.freeagent import costs as c
from connectors.freeagent import translate as t

D = Decimal
BASE = "https://api.freeagent.com/v2"


def line(kind="service", price="50.00", qty="2", tax=None, description="Consult"):
    net = (D(price) * D(qty)).quantize(D("0.01"))
    return LineSnapshot(kind=kind, description=description, quantity=D(qty), unit_price=D(price), net_amount=net,
                        tax_amount=D("0.00"), tax_rate_key=tax)


def invoice(*lines, number="INV-7"):
    return InvoiceSnapshot(key="ledger.invoice:7", organization_id=1, number=number, customer_key="c",
                           issue_date=dt.date(2026, 12, 1), due_date=dt.date(2026, 12, 31), memo="Thanks",
                           lines=lines, currency="USD")


MAPPING = Mapping(line_accounts=("001", "002", "005"), tax_codes={"gst": "10", "free": "EXEMPT"},
                  item_account="001", deposit_account="bank_accounts/1", refs={"c": "11", "inv": "21"})


def test_invoice_lines_categories_tax_and_terms():
    body = t.sales_payload(invoice(line(tax="gst"), line("product", "9.99", "1", tax="free"),
                                   line("discount", "5.00", "1")), MAPPING, BASE)
    assert body["contact"] == f"{BASE}/contacts/11" and body["reference"] == "INV-7"
    assert body["dated_on"] == "2026-12-01" and body["payment_terms_in_days"] == 30 and body["comments"] == "Thanks"
    first, second, discount = body["invoice_items"]
    assert first == {"item_type": "Services", "quantity": D("2"), "price": D("50.00"), "description": "Consult",
                     "category": f"{BASE}/categories/001", "sales_tax_status": "TAXABLE",
                     "sales_tax_rate": D("10")}
    assert second["item_type"] == "Products" and second["sales_tax_status"] == "EXEMPT"
    assert second["sales_tax_rate"] == D("0.00")
    assert discount["item_type"] == "Discount" and discount["price"] == D("-5.00")
    assert "sales_tax_rate" not in discount  # no tax code: FreeAgent applies the category's own


def test_credit_note_prices_are_negative_and_applications_listed():
    note = CreditNoteSnapshot(key="n", organization_id=1, number="CN-1", customer_key="c",
                              issue_date=dt.date(2026, 12, 2), lines=(line(price="30.00", qty="1"),
                                                                      line("discount", "5.00", "1")),
                              allocations=(Allocation("inv", D("12.5")),))
    body = t.sales_payload(note, MAPPING, BASE)
    assert [i["price"] for i in body["credit_note_items"]] == [D("-30.00"), D("5.00")]
    assert "invoice_items" not in body and body["payment_terms_in_days"] == 0
    assert t.credit_applications(note, MAPPING) == {"21": D("12.50")}


def test_update_edits_lines_in_place_and_destroys_the_rest():
    current = {"invoice_items": [{"url": f"{BASE}/invoice_items/1"}, {"url": f"{BASE}/invoice_items/2"},
                                 {"url": f"{BASE}/invoice_items/3"}]}
    items = t.sales_payload(invoice(line(), line()), MAPPING, BASE, current)["invoice_items"]
    assert [i["url"] for i in items] == [f"{BASE}/invoice_items/{n}" for n in (1, 2, 3)]
    assert items[2] == {"url": f"{BASE}/invoice_items/3", "_destroy": True} and "_destroy" not in items[0]


def test_contact_item_and_explanation_payloads():
    assert t.contact_payload(CustomerSnapshot(key="c", organization_id=1, name="Ada", email="a@example.com")) == {
        "organisation_name": "Ada", "email": "a@example.com"}
    item = t.item_payload(ItemSnapshot(key="i", organization_id=1, name="Vaccine", sku="V1", kind="product",
                                       unit_price=D("25.00")), MAPPING, BASE)
    assert item == {"code": "Vaccine", "description": "Vaccine (V1)", "item_type": "Products", "quantity": D("1"),
                    "price": D("25.00"), "category": f"{BASE}/categories/001"}
    pay = PaymentSnapshot(key="p", organization_id=1, number="PAY-1", customer_key="c", date=dt.date(2026, 12, 3),
                          amount=D("40.00"), allocations=(Allocation("inv", D("40.00")),))
    assert t.explanation_payload(pay, MAPPING, BASE, f"{BASE}/bank_accounts/1") == {
        "bank_account": f"{BASE}/bank_accounts/1", "dated_on": "2026-12-03", "gross_value": D("40.00"),
        "paid_invoice": f"{BASE}/invoices/21", "description": "PAY-1"}


INVOICE = {"url": f"{BASE}/invoices/5", "reference": "INV-7", "contact": f"{BASE}/contacts/11", "status": "Open",
           "dated_on": "2026-12-01", "currency": "USD", "exchange_rate": "1.0", "total_value": "110.0",
           "due_value": "60.0", "sales_tax_value": "10.0", "updated_at": "2026-12-03T09:00:00.000Z",
           "invoice_items": [{"url": f"{BASE}/invoice_items/1", "item_type": "Services", "quantity": "2.0",
                              "price": "50.0", "sales_tax_rate": "10.0", "category": f"{BASE}/categories/001"}]}


def test_result_totals_and_documents_read_back():
    found = t.result("invoice", INVOICE)
    assert (found.remote_id, found.number, found.total, found.balance, found.status) == (
        "5", "INV-7", D("110.00"), D("60.00"), "active")
    totals = t.totals("invoice", INVOICE)
    assert totals.status == "open" and totals.tax_total == D("10.00") and totals.date == dt.date(2026, 12, 1)
    assert t.remote_document("invoice", INVOICE).lines == ((D("2.0"), D("50.0")),)
    cancelled = t.result("invoice", {**INVOICE, "status": "Cancelled"})
    assert cancelled.status == "voided" and cancelled.total == cancelled.balance == D("0.00")
    note = {**INVOICE, "url": f"{BASE}/credit_notes/6", "total_value": "-30.0", "due_value": "-10.0",
            "sales_tax_value": "0.0", "credit_note_items": [{"quantity": "1", "price": "-30.0"}]}
    assert (t.result("credit_note", note).total, t.result("credit_note", note).balance) == (D("30.00"), D("10.00"))
    assert t.remote_document("credit_note", note).lines == ((D("1"), D("30.0")),)


def test_fingerprint_ignores_hosts_and_number_spelling_but_sees_edits():
    other_host = {**INVOICE, "contact": "https://api.sandbox.freeagent.com/v2/contacts/11",
                  "invoice_items": [{**INVOICE["invoice_items"][0], "price": "50.00",
                                     "category": "http://127.0.0.1:9/v2/categories/001"}]}
    assert t.fingerprint("invoice", other_host) == t.fingerprint("invoice", INVOICE)
    edited = {**INVOICE, "invoice_items": [{**INVOICE["invoice_items"][0], "price": "55.0"}]}
    assert t.fingerprint("invoice", edited) != t.fingerprint("invoice", INVOICE)
    assert t.version("invoice", INVOICE).startswith("2026-12-03T09:00:00.000Z/")


def test_payment_read_back():
    body = {"url": f"{BASE}/bank_transaction_explanations/9", "dated_on": "2026-12-03", "gross_value": "40.0",
            "paid_invoice": f"{BASE}/invoices/5", "description": "PAY-1", "updated_at": "2026-12-03T09:00:00Z"}
    paid = t.remote_payment(body, "11", "USD")
    assert (paid.remote_id, paid.amount, paid.allocations, paid.reference) == (
        "9", D("40.00"), (("5", D("40.00")),), "PAY-1")
    assert t.result("payment", body).total == D("40.00") and t.result("payment", body).number == "PAY-1"


def test_tax_fields_and_times():
    assert t.tax_fields(None) == {}
    assert t.tax_fields("OUT_OF_SCOPE") == {"sales_tax_status": "OUT_OF_SCOPE", "sales_tax_rate": D("0.00")}
    assert t.format_time(dt.datetime(2026, 12, 3, 10, 2, 51, 999, tzinfo=dt.UTC)) == \
        "2026-12-03T10:02:51.000Z"
    assert t.record_id(f"{BASE}/invoices/42/") == "42" and t.record_id("42") == "42"


def test_items_change_is_what_a_sent_document_locks():
    current = {"invoice_items": [{"url": "u1", "item_type": "Services", "quantity": "2.0", "price": "50.0",
                                  "category": f"{BASE}/categories/001"}]}
    same = {"invoice_items": [{"url": "u1", "item_type": "Services", "quantity": D("2"), "price": D("50.00"),
                               "category": f"{BASE}/categories/002"}]}
    assert not t.items_change(same, current, "invoice")  # spelling and category are no change
    assert t.items_change({"invoice_items": [{"url": "u1", "price": D("51")}]}, current, "invoice")
    assert t.items_change({"invoice_items": [{"url": "u1", "_destroy": True}]}, current, "invoice")
    assert t.items_change({"invoice_items": [{"price": D("1")}]}, current, "invoice")


# -- refunds, expenses, journals (issue 23) ---------------------------------------------------------------------------
USD_BANK = {"url": f"{BASE}/bank_accounts/1", "currency": "USD", "name": "Business Current Account"}
EUR_BANK = {"url": f"{BASE}/bank_accounts/3", "currency": "EUR", "name": "Euro Account"}


def spent(*lines, currency="USD", rate=None, number="EXP-4"):
    total = sum((x.net_amount + x.tax_amount for x in lines), D("0.00"))
    return ExpenseSnapshot(key="ledger.expense:4", organization_id=1, number=number, payee="Parcel Express",
                           date=dt.date(2026, 12, 2), currency=currency, exchange_rate=rate, lines=lines,
                           subtotal=sum((x.net_amount for x in lines), D("0.00")), total=total,
                           tax_total=sum((x.tax_amount for x in lines), D("0.00")))


def cost(net="50.00", tax="5.00", rate_key="gst", what="Return postage"):
    return ExpenseLineSnapshot(cost_kind="return_shipping", description=what, net_amount=D(net), tax_amount=D(tax),
                               tax_rate_key=rate_key)


def test_a_restocking_fee_is_a_credit_note_line_of_the_other_sign():
    note = CreditNoteSnapshot(key="ledger.creditnote:2", organization_id=1, number="CN-2", customer_key="c",
                              issue_date=dt.date(2026, 12, 1), lines=(line("product", "120.00", "1"),
                                                                      line("restocking_fee", "12.00", "1")))
    returned, fee = t.sales_payload(note, MAPPING, BASE)["credit_note_items"]
    assert (returned["price"], fee["price"]) == (D("-120.00"), D("12.00"))  # the credit nets to -108.00


def test_a_refund_pays_its_credit_note_back_from_the_bank():
    refund = RefundSnapshot(key="ledger.refund:1", organization_id=1, number="RF-1", customer_key="c",
                            date=dt.date(2026, 12, 3), amount=D("108.00"), method="card", credit_note_key="cn")
    body = c.refund_payload(refund, Mapping(refs={"cn": "8"}), BASE, USD_BANK, "USD")
    assert body == {"bank_account": f"{BASE}/bank_accounts/1", "dated_on": "2026-12-03", "gross_value": D("-108.00"),
                    "paid_invoice": f"{BASE}/credit_notes/8", "description": "RF-1 — Refund (card)"}
    overpaid = RefundSnapshot(key="ledger.refund:2", organization_id=1, number="RF-2", customer_key="c",
                              amount=D("5.00"), payment_key="p")
    assert "by hand" in c.refund_problems(overpaid)[0] and c.refund_problems(refund) == []
    assert c.currency_problems(refund, EUR_BANK, "USD", "a refund")  # a USD refund from a euro account: refused


def test_an_expense_is_one_categorised_payment_in_its_bank_accounts_currency():
    doc = spent(cost(), currency="EUR", rate=D("1.08"))
    mapping = Mapping(line_accounts=("370",), tax_codes={"gst": "10"})
    body = c.expense_payload(doc, mapping, BASE, EUR_BANK, "USD")
    assert body["gross_value"] == D("-59.40") and body["foreign_currency_value"] == D("-55.00")
    assert body["category"] == f"{BASE}/categories/370" and body["sales_tax_rate"] == D("10")
    assert body["description"] == "EXP-4 — Parcel Express: Return postage"
    assert t.number_of(body["description"]) == "EXP-4"
    assert c.currency_problems(doc, EUR_BANK, "USD", "an expense") == []
    assert "map a bank account in EUR" in c.currency_problems(doc, USD_BANK, "USD", "an expense")[0]
    two = spent(cost(), cost("10.00", "0.00", None, "Boxes"))
    assert c.expense_problems(two, Mapping(line_accounts=("370", "370"), tax_codes={"gst": "10"}))
    same = spent(cost(), cost("10.00", "1.00"))
    assert c.expense_problems(same, Mapping(line_accounts=("370", "370"), tax_codes={"gst": "10"})) == []


def test_a_journal_posts_debit_values_and_a_bank_account_on_category_750():
    entry = JournalSnapshot(key="ledger.journalentry:7", organization_id=1, number="JE-7", date=dt.date(2026, 12, 4),
                            memo="Year end", lines=(JournalLineSnapshot("6100", "Postage", debit=D("100.00")),
                                                    JournalLineSnapshot("1010", "", credit=D("100.00"))))
    current = {"journal_entries": [{"url": f"{BASE}/journal_entries/1"}, {"url": f"{BASE}/journal_entries/2"},
                                   {"url": f"{BASE}/journal_entries/3"}]}
    body = c.journal_payload(entry, ["370", "bank_accounts/1"], BASE, {"bank_accounts/1": USD_BANK["url"]}, current)
    assert body["description"] == "JE-7 — Year end" and body["dated_on"] == "2026-12-04"
    first, second, gone = body["journal_entries"]
    assert first == {"url": f"{BASE}/journal_entries/1", "category": f"{BASE}/categories/370",
                     "debit_value": D("100.00"), "description": "Postage"}
    assert second["category"] == f"{BASE}/categories/750" and second["bank_account"] == USD_BANK["url"]
    assert second["debit_value"] == D("-100.00") and second["description"] == "Account 1010"
    assert gone == {"url": f"{BASE}/journal_entries/3", "_destroy": True}
    read = t.result("journal", {"url": f"{BASE}/journal_sets/5", "description": "JE-7 — Year end",
                                "journal_entries": [{"debit_value": "100.0"}, {"debit_value": "-100.0"}]})
    assert (read.number, read.total, read.home_total) == ("JE-7", D("100.00"), D("100.00"))
    assert c.journal_problems(entry, "GBP")  # journals are in the company's currency only
