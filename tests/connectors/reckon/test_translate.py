"""Translation between our snapshots and Reckon One API v2 JSON: pure functions, no HTTP."""
import datetime as dt
from decimal import Decimal

from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, ItemSnapshot,
                                  LineSnapshot, Mapping, PaymentSnapshot)
from connectors.reckon import translate as t
from connectors.reckon.connector import account_kind

DAY = dt.date(2026, 3, 14)
MAPPING = Mapping(line_accounts=("sales", "discounts"), tax_codes={"gst": "tax-gst"}, item_account="sales",
                  deposit_account="bank", refs={"c": "cust-1", "i": "inv-1", "j": "inv-2"})


def line(net="100.00", tax="10.00", kind="service", quantity="2", rate_key="gst"):
    return LineSnapshot(kind=kind, description=f"{kind} line", quantity=Decimal(quantity),
                        unit_price=Decimal(net) / Decimal(quantity), net_amount=Decimal(net),
                        tax_amount=Decimal(tax), tax_rate_key=rate_key)


def invoice_doc(**extra):
    return InvoiceSnapshot(key="i", organization_id=1, number="RV-1001", customer_key="c", issue_date=DAY,
                           due_date=DAY + dt.timedelta(days=14),
                           lines=(line(), line("5.00", "0.50", "discount", "1")), memo="Thank you", **extra)


def reckon_invoice(**extra):
    return {"id": "inv-1", "invoiceNumber": "INV0007", "reference": "RV-1001", "customer": {"id": "cust-1",
                                                                                           "name": "Ada"},
            "invoiceDate": "2026-03-14T00:00:00Z", "dueDate": "2026-03-28T00:00:00Z", "amountTaxStatus": "Exclusive",
            "totalAmount": Decimal("104.50"), "totalTaxAmount": Decimal("9.50"), "balance": Decimal("60.00"),
            "status": "Approved", "notes": "Thank you", "template": {"id": "tpl", "name": "Standard Invoice"},
            "lineItems": [{"lineNumber": 1, "lineId": "a", "accountDetails": {"ledgerAccount": {"id": "sales"},
                                                                              "quantity": Decimal("2"),
                                                                              "amount": Decimal("100.00")},
                           "taxRate": {"id": "tax-gst", "name": "GST"}, "taxAmount": Decimal("10.00")},
                          {"lineNumber": 2, "lineId": "b", "accountDetails": {"ledgerAccount": {"id": "discounts"},
                                                                              "quantity": Decimal("1"),
                                                                              "amount": Decimal("-5.00")},
                           "taxRate": {"id": "tax-gst"}, "taxAmount": Decimal("-0.50")}], **extra}


def test_invoice_payload_carries_our_number_as_reference_and_our_tax_per_line():
    body = t.payload(invoice_doc(), MAPPING)
    assert body["customer"] == "cust-1" and body["reference"] == "RV-1001" and "invoiceNumber" not in body
    assert body["invoiceDate"] == "2026-03-14T00:00:00Z" and body["dueDate"] == "2026-03-28T00:00:00Z"
    assert body["amountTaxStatus"] == "Exclusive" and body["notes"] == "Thank you" and "template" not in body
    first, discount = body["lineItems"]
    assert first == {"lineNumber": 1, "description": "service line", "taxRate": "tax-gst",
                     "taxAmount": Decimal("10.00"), "accountDetails": {"ledgerAccount": "sales",
                                                                       "quantity": Decimal("2"),
                                                                       "amount": Decimal("100.00")}}
    assert discount["accountDetails"]["amount"] == Decimal("-5.00") and discount["taxAmount"] == Decimal("-0.50")
    assert discount["accountDetails"]["ledgerAccount"] == "discounts"
    assert t.payload(invoice_doc(), MAPPING, "tpl")["template"] == "tpl"


def test_untaxed_line_sends_no_tax_rate_or_amount():
    doc = InvoiceSnapshot(key="i", organization_id=1, number="N", customer_key="c", issue_date=DAY,
                          lines=(line("20.00", "0.00", rate_key=None),))
    [only] = t.payload(doc, MAPPING)["lineItems"]
    assert "taxRate" not in only and "taxAmount" not in only


def test_credit_note_receipt_customer_and_item_payloads():
    note = CreditNoteSnapshot(key="n", organization_id=1, number="CN-1", customer_key="c", issue_date=DAY,
                              lines=(line(),), allocations=(Allocation("i", Decimal("30")),
                                                            Allocation("j", Decimal("0"))))
    body = t.payload(note, MAPPING)
    assert body["creditNoteDate"] == "2026-03-14T00:00:00Z" and "invoiceDate" not in body and "dueDate" not in body
    assert t.credit_links(note, MAPPING) == {"inv-1": Decimal("30.00")}
    pay = PaymentSnapshot(key="p", organization_id=1, number="P-9", customer_key="c", date=DAY,
                          amount=Decimal("40.00"), memo="Card", allocations=(Allocation("i", Decimal("40")),))
    assert t.payload(pay, MAPPING) == {
        "customer": "cust-1", "receiptDate": "2026-03-14T00:00:00Z", "ledgerAccount": "bank", "reference": "P-9",
        "notes": "Card", "totalAmount": Decimal("40.00"),
        "transactionLinks": [{"transactionId": "inv-1", "transactionType": "Invoice",
                              "transactionAmount": Decimal("40.00")}]}
    assert t.payload(CustomerSnapshot(key="c", organization_id=1, name="Ada", email="ada@example.com"),
                     MAPPING) == {"name": "Ada", "electronicAddresses": [{"type": "Email",
                                                                          "address": "ada@example.com"}]}
    item = t.payload(ItemSnapshot(key="t", organization_id=1, name="Nail trim", kind="product",
                                  unit_price=Decimal("12.50")), MAPPING)
    assert item == {"name": "Nail trim", "itemType": "Product", "amountTaxStatus": "Exclusive",
                    "sale": {"price": Decimal("12.50"), "ledgerAccount": "sales"}}


def test_result_reads_our_reference_as_the_number_and_totals_exactly():
    found = t.result("invoice", reckon_invoice())
    assert (found.remote_id, found.number, found.total, found.balance, found.status) == (
        "inv-1", "RV-1001", Decimal("104.50"), Decimal("60.00"), "active")
    assert found.home_total == Decimal("104.50") and found.version == found.fingerprint[:16]


def test_fingerprint_ignores_spelling_balance_and_status_but_not_content():
    base = t.fingerprint("invoice", reckon_invoice())
    respelt = reckon_invoice(totalAmount="104.5", balance=Decimal("0"), status="Paid")
    respelt["lineItems"][0]["accountDetails"]["amount"] = 100
    assert t.fingerprint("invoice", respelt) == base
    edited = reckon_invoice()
    edited["lineItems"][0]["accountDetails"]["amount"] = Decimal("150.00")
    assert t.fingerprint("invoice", edited) != base
    assert t.fingerprint("invoice", reckon_invoice(reference="RV-2")) != base


def test_customer_version_joins_the_modified_time_and_the_content():
    body = {"id": "c", "name": "Ada", "status": "Active", "lastModifiedDateTime": "2026-03-14T10:00:00.120Z"}
    version = t.version("customer", body)
    assert version.startswith("2026-03-14T10:00:00.120Z/")
    assert t.version("customer", {**body, "name": "Ada Lovelace"}) != version
    assert t.result("customer", {**body, "status": "Inactive"}).status == "inactive"


def test_void_payload_zeroes_amounts_and_marks_the_notes():
    body = t.void_payload("invoice", reckon_invoice())
    assert body["notes"] == f"{t.VOID_NOTE} Thank you" and body["template"] == "tpl"
    assert body["customer"] == "cust-1" and body["reference"] == "RV-1001"
    assert [line["accountDetails"]["amount"] for line in body["lineItems"]] == [Decimal("0.00")] * 2
    assert [line["taxAmount"] for line in body["lineItems"]] == [Decimal("0.00")] * 2
    assert body["lineItems"][0]["accountDetails"]["ledgerAccount"] == "sales"
    voided = reckon_invoice(notes=body["notes"], totalAmount=Decimal("0.00"), balance=Decimal("0.00"))
    assert t.result("invoice", voided).status == "voided" and t.is_voided("invoice", voided)
    assert not t.is_voided("invoice", reckon_invoice(notes=body["notes"]))  # a note alone does not void
    assert t.void_payload("invoice", voided)["notes"] == body["notes"]  # not marked twice


def test_remote_document_payment_and_totals():
    doc = t.remote_document("invoice", reckon_invoice())
    assert doc.lines == ((Decimal("2"), Decimal("50")), (Decimal("1"), Decimal("-5")))
    assert doc.status == "active" and doc.total == Decimal("104.50")
    receipt = {"id": "r-1", "customer": {"id": "cust-1"}, "receiptDate": "2026-03-15T00:00:00Z",
               "totalAmount": Decimal("40"), "reference": "P-9",
               "transactionLinks": [{"transactionType": "Invoice", "transactionId": "inv-1",
                                     "transactionAmount": Decimal("40")}]}
    paid = t.remote_payment(receipt, "AUD")
    assert (paid.customer_remote_id, paid.date, paid.amount, paid.currency, paid.reference) == (
        "cust-1", dt.date(2026, 3, 15), Decimal("40.00"), "AUD", "P-9")
    assert paid.allocations == (("inv-1", Decimal("40.00")),)
    totals = t.totals("invoice", reckon_invoice(), "AUD")
    assert (totals.status, totals.tax_total, totals.date, totals.currency, totals.number) == (
        "open", Decimal("9.50"), DAY, "AUD", "RV-1001")


def test_account_kinds_and_filter_quoting():
    assert account_kind({"accountType": "CurrentAsset_Bank"}) == "deposit"
    assert account_kind({"accountType": "Income_Other"}) == "income"
    assert account_kind({"accountType": "CurrentAsset_AccountsReceivable"}) == "receivable"
    assert account_kind({"accountType": "CurrentLiability_Other", "name": "GST Payable"}) == "tax_payable"
    assert account_kind({"accountType": "Equity"}) == "other"
    assert t.quote("O'Brien & Sons") == "'O''Brien & Sons'"
