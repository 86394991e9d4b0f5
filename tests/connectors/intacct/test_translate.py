"""Snapshots to Intacct function bodies and back: pure functions, no HTTP."""
import datetime as dt
from decimal import Decimal

import pytest

from connectors.documents import Allocation, CreditNoteSnapshot, InvoiceSnapshot, LineSnapshot, Mapping
from connectors.errors import ConfigurationError
from connectors.intacct import translate as t
from connectors.intacct import wire


def line(kind="service", quantity="1", price="50.00", tax="0.00", tax_key=None, description="Exam"):
    net = (Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01"))
    return LineSnapshot(kind=kind, description=description, quantity=Decimal(quantity), unit_price=Decimal(price),
                        net_amount=net, tax_amount=Decimal(tax), tax_rate_key=tax_key)


def invoice(*lines, number="INV-7"):
    total = sum((x.net_amount * (-1 if x.kind == "discount" else 1) + x.tax_amount *
                 (-1 if x.kind == "discount" else 1) for x in lines), Decimal("0.00"))
    return InvoiceSnapshot(key="ledger.invoice:7", organization_id=1, number=number, customer_key="ledger.customer:1",
                           issue_date=dt.date(2026, 12, 4), due_date=dt.date(2026, 12, 18), lines=tuple(lines),
                           subtotal=total, total=total, currency="USD")


MAPPING = Mapping(line_accounts=("4000", "4100", "4900"), tax_codes={"gst": "Sales Tax 10%"},
                  refs={"ledger.customer:1": "C1", "ledger.invoice:7": "7"},
                  line_dimensions={"location": ("100", None, None), "department": (None, "20", None)})


def test_an_invoice_becomes_create_invoice_with_split_dates_our_number_and_gl_lines():
    doc = invoice(line(quantity="2", price="50.00", tax="10.00", tax_key="gst"), line(price="20.00"),
                  line(kind="discount", price="5.00", tax="0.50", tax_key="gst", description="Discount"))
    body = t.invoice_body(doc, MAPPING)
    assert body["customerid"] == "C1" and body["invoiceno"] == "INV-7"
    assert body["datecreated"] == {"year": 2026, "month": "12", "day": "04"} and body["datedue"]["day"] == "18"
    first, second, discount = body["invoiceitems"]["lineitem"]
    assert first == {"glaccountno": "4000", "amount": Decimal("100.00"), "memo": "Exam [qty 2]", "locationid": "100",
                     "departmentid": None, "taxentries": {"taxentry": {"detailid": "Sales Tax 10%",
                                                                       "trx_tax": Decimal("10.00")}}}
    assert second["glaccountno"] == "4100" and second["departmentid"] == "20" and "taxentries" not in second
    assert discount["amount"] == Decimal("-5.00") and discount["memo"] == "Discount"
    assert discount["taxentries"]["taxentry"]["trx_tax"] == Decimal("-0.50")


def test_a_line_without_an_account_is_named():
    with pytest.raises(ConfigurationError, match="line 1 of INV-7"):
        t.invoice_body(invoice(line()), Mapping(refs=MAPPING.refs))


def test_the_request_carries_uniqueid_and_refuses_a_float():
    body = wire.request("s", "p", "key-1", True, {"sessionid": "abc"},
                        [wire.Function("key-1", "create_invoice", t.invoice_body(invoice(line()), MAPPING))])
    root = wire.parse(body)
    assert wire.child_text(root, "control/uniqueid") == "true" and wire.child_text(root, "control/dtdversion") == "3.0"
    assert root.find("operation/content/function").get("controlid") == "key-1"
    assert wire.child_text(root, "operation/content/function/create_invoice/invoiceitems/lineitem/amount") == "50.00"
    with pytest.raises(TypeError):
        wire.build("amount", 1.5)


def record(*lines, state="Posted", total="120.00", due="120.00"):
    return {"RECORDNO": "7", "RECORDID": "INV-7", "CUSTOMERID": "C1", "CURRENCY": "USD", "STATE": state,
            "TOTALENTERED": total, "TOTALDUE": due, "WHENMODIFIED": "12/04/2026 09:10:11", "WHENCREATED": "12/04/2026",
            "ARINVOICEITEMS": {"arinvoiceitem": list(lines) if len(lines) > 1 else lines[0]}}


def test_quantities_come_back_from_the_memo_and_a_discount_is_not_a_sales_line():
    read = record({"AMOUNT": "135.00", "MEMO": "Exam [qty 2]"}, {"AMOUNT": "10.00", "MEMO": "Shot"},
                  {"AMOUNT": "-5.00", "MEMO": "Discount"})
    assert t.sales_lines(read) == ((Decimal("2"), Decimal("67.50")), (Decimal("1"), Decimal("10.00")))
    document = t.remote_document(read)
    assert document.issue_date == dt.date(2026, 12, 4) and document.number == "INV-7"


def test_a_reversed_invoice_is_voided_with_nothing_due_and_the_version_follows_the_content():
    one = t.invoice_result(record({"AMOUNT": "120.00", "MEMO": "x"}))
    other = t.invoice_result(record({"AMOUNT": "121.00", "MEMO": "x"}))
    assert one.version.startswith("12/04/2026 09:10:11/") and one.version != other.version
    voided = t.invoice_result(record({"AMOUNT": "120.00", "MEMO": "x"}, state="Reversed", due="0.00"))
    assert (voided.status, voided.total, voided.balance) == ("voided", Decimal("0.00"), Decimal("0.00"))


def test_a_credit_note_is_written_negative_and_read_positive():
    doc = CreditNoteSnapshot(key="ledger.creditnote:3", organization_id=1, number="CN-3",
                             customer_key="ledger.customer:1", issue_date=dt.date(2026, 12, 4),
                             lines=(line(price="30.00"),), subtotal=Decimal("30.00"), total=Decimal("30.00"),
                             allocations=(Allocation("ledger.invoice:7", Decimal("10.00")),))
    body = t.credit_body(doc, MAPPING)
    assert body["adjustmentno"] == "CN-3" and body["aradjustmentitems"]["lineitem"][0]["amount"] == Decimal("-30.00")
    applying = t.credit_applications(doc, MAPPING, "12")["ARPYMT"]
    assert applying["ARPYMTDETAILS"]["ARPYMTDETAIL"] == [{"RECORDKEY": "7", "ADJUSTMENTKEY": "12",
                                                          "TRX_ADJUSTMENTAMOUNT": Decimal("10.00")}]
    read = {"RECORDNO": "12", "RECORDID": "CN-3", "TOTALENTERED": "-30.00", "TOTALDUE": "-20.00",
            "ARADJUSTMENTITEMS": {"aradjustmentitem": {"ACCOUNTNO": "4000", "AMOUNT": "-30.00",
                                                       "MEMO": "Exam [qty 1]"}}}
    result = t.credit_result(read)
    assert (result.total, result.balance) == (Decimal("30.00"), Decimal("20.00"))
    assert t.same_credit_lines(read, body)


def test_a_payment_reads_only_its_cash_details_as_allocations():
    read = {"RECORDNO": "9", "CUSTOMERID": "C1", "TOTALENTERED": "40.00", "RECEIPTDATE": "12/04/2026",
            "DOCNUMBER": "PAY-1", "STATE": "Complete",
            "ARPYMTDETAILS": {"arpymtdetail": [{"RECORDKEY": "7", "TRX_PAYMENTAMOUNT": "40.00"},
                                               {"RECORDKEY": "7", "ADJUSTMENTKEY": "12", "TRX_ADJUSTMENTAMOUNT": "5"}]}}
    paid = t.remote_payment(read)
    assert paid.allocations == (("7", Decimal("40.00")),) and paid.reference == "PAY-1" and not paid.deleted


def test_query_values_escape_quotes_with_a_backslash():
    assert t.quote("Jane's Deli") == "'Jane\\'s Deli'"


def test_account_kinds_from_type_balance_and_category():
    assert t.account_kind({"ACCOUNTTYPE": "incomestatement", "NORMALBALANCE": "credit"}) == "income"
    assert t.account_kind({"ACCOUNTTYPE": "incomestatement", "NORMALBALANCE": "debit"}) == "expense"
    assert t.account_kind({"ACCOUNTTYPE": "balancesheet", "CATEGORY": "Cash and Cash Equivalents"}) == "deposit"
    assert t.account_kind({"ACCOUNTTYPE": "balancesheet", "CATEGORY": "Accounts Receivable"}) == "receivable"
