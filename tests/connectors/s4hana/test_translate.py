"""Snapshots to S/4HANA journal-entry bodies and back: pure functions, no sandbox."""
from decimal import Decimal

import pytest

from connectors.documents import Allocation, Entity, LineSnapshot, Mapping
from connectors.errors import ConfigurationError
from connectors.s4hana import translate as t
from tests.connectors.contract import credit_note, invoice, payment

MAPPING = Mapping(line_accounts=("41000000", "41400000"), deposit_account="11001000",
                  refs={"cust": "1000001", "inv": "1800000001-2026"}, tax_codes={"gst": "O1"})


def test_an_invoice_debits_the_customer_with_net_plus_the_codes_tax():
    doc = invoice("cust", "INV-0000000000000001-long", ("100.00", "20.00"))
    discount = LineSnapshot(kind="discount", description="Loyal", quantity=Decimal("1"),
                            unit_price=Decimal("20.00"), net_amount=Decimal("20.00"), tax_amount=Decimal("0"))
    taxed = LineSnapshot(**{**doc.lines[0].__dict__, "tax_rate_key": "gst"})
    doc = type(doc)(**{**doc.__dict__, "lines": (taxed, discount), "memo": "A memo longer than twenty-five"})
    body = t.document(doc, MAPPING, "1710", {"O1": Decimal("10")})
    assert body["AccountingDocumentType"] == "DR" and body["DocumentReferenceID"] == "INV-000000000000"
    assert body["DocumentHeaderText"] == "A memo longer than twenty" and body["PostingDate"].startswith("/Date(")
    items = body["to_Item"]["results"]
    assert items[0] == {"Customer": "1000001", "DebitCreditCode": "S", "AmountInTransactionCurrency": "90.00"}
    assert [(i["GLAccount"], i["DebitCreditCode"], i["AmountInTransactionCurrency"], i.get("TaxCode"))
            for i in items[1:]] == [("41000000", "H", "100.00", "O1"), ("41400000", "S", "20.00", None)]


def test_a_credit_note_applied_in_part_names_the_invoice_and_keeps_the_rest():
    doc = credit_note("cust", "CN-1", ("30.00",), applied=(Allocation("inv", Decimal("20.00")),))
    items = t.document(doc, MAPPING, "1710", {})["to_Item"]["results"]
    customer = [i for i in items if i.get("Customer")]
    assert {(i["AmountInTransactionCurrency"], i.get("InvoiceReference"), i.get("InvoiceReferenceFiscalYear"))
            for i in customer} == {("10.00", None, None), ("20.00", "1800000001", "2026")}
    assert all(i["DebitCreditCode"] == "H" for i in customer)


def test_a_payment_debits_the_bank_and_credits_the_customer_per_invoice_and_the_rest():
    doc = payment("cust", "PAY-1", "inv", "50.00")
    doc = type(doc)(**{**doc.__dict__, "amount": Decimal("70.00")})
    body = t.payment(doc, MAPPING, "1710")
    assert body["AccountingDocumentType"] == "DZ"
    assert [(i.get("GLAccount"), i["DebitCreditCode"], i["AmountInTransactionCurrency"], i.get("InvoiceReference"))
            for i in body["to_Item"]["results"]] == [("11001000", "S", "70.00", None), (None, "H", "50.00",
                                                                                        "1800000001"),
                                                     (None, "H", "20.00", None)]


def test_a_missing_mapping_is_named():
    with pytest.raises(ConfigurationError):
        t.payment(payment("cust", "P", "inv"), Mapping(refs=MAPPING.refs), "1710")
    with pytest.raises(ConfigurationError):
        t.document(invoice("nobody", "I"), MAPPING, "1710", {})


def test_the_content_leaves_out_automatic_tax_items_and_a_customer_items_account():
    ours = {"AccountingDocumentType": "DR", "DocumentReferenceID": "X", "TransactionCurrency": "USD",
            "to_Item": {"results": [{"Customer": "1", "DebitCreditCode": "S", "AmountInTransactionCurrency": "11.00"},
                                    {"GLAccount": "4", "DebitCreditCode": "H", "AmountInTransactionCurrency": "10.00",
                                     "TaxCode": "O1"}]}}
    read = {**ours, "to_Item": {"results": [
        {"GLAccount": "4", "DebitCreditCode": "H", "AmountInTransactionCurrency": "10.00", "TaxCode": "O1",
         "IsAutomaticallyCreated": False},
        {"GLAccount": "2", "DebitCreditCode": "H", "AmountInTransactionCurrency": "1.00", "TaxCode": "O1",
         "IsAutomaticallyCreated": True},
        {"GLAccount": "12100000", "Customer": "1", "DebitCreditCode": "S", "AmountInTransactionCurrency": "11.0",
         "IsAutomaticallyCreated": False}]}}
    assert t.content(ours) == t.content(read)
    assert t.result(Entity.INVOICE, {**read, "AccountingDocument": "1", "FiscalYear": "2026",
                                     "AmountInTransactionCurrency": "11.00", "IsReversed": True}).status == "voided"
