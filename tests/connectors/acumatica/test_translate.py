"""Snapshots to Acumatica records and back: values wrapped on the wire, our number in CustomerOrder / PaymentRef,
ids derived from our keys, documents named by their key fields, voided ones with nothing due."""
import datetime as dt
from decimal import Decimal

import pytest

from connectors.acumatica import translate as t
from connectors.acumatica import wire
from connectors.documents import Allocation, Entity, Mapping, PaymentSnapshot
from connectors.errors import ConfigurationError
from tests.connectors.contract import customer, invoice


def test_wrap_and_unwrap_keep_system_fields_and_detail_lines():
    record = {"id": "x", "Type": "Invoice", "Amount": Decimal("12.50"), "Hold": False, "Note": None,
              "Details": [{"id": "l1", "delete": True}, {"Quantity": Decimal("2")}]}
    wrapped = wire.wrap(record)
    assert wrapped == {"id": "x", "Type": {"value": "Invoice"}, "Amount": {"value": Decimal("12.50")},
                       "Hold": {"value": False}, "Details": [{"id": "l1", "delete": True},
                                                             {"Quantity": {"value": Decimal("2")}}]}
    assert wire.unwrap(wrapped) == {k: v for k, v in record.items() if v is not None}
    assert wire.unwrap({"Email": {}}) == {"Email": None}


def test_ids_derived_from_our_key_are_stable_and_short():
    doc = customer("Ann")
    assert t.customer_record(doc)["CustomerID"] == t.key_id("C", doc.key)
    assert t.key_id("C", doc.key) == t.key_id("C", doc.key) != t.key_id("C", doc.key + "x")
    assert len(t.key_id("C", doc.key)) == 10 and t.key_id("C", doc.key).isupper()


def test_an_invoice_record_carries_our_number_lines_accounts_and_tax_categories():
    doc = invoice("cust:1", "K-7", ("100.00", "23.45"))
    mapping = Mapping(line_accounts=("40000", None), item_account="40100", refs={"cust:1": "C123"},
                      tax_codes={})
    record = t.document_record(Entity.INVOICE, doc, mapping)
    assert (record["Type"], record["CustomerID"], record["CustomerOrder"], record["Hold"]) == \
        ("Invoice", "C123", "K-7", False)
    assert [(d["UnitPrice"], d["Account"]) for d in record["Details"]] == [(Decimal("100.00"), "40000"),
                                                                           (Decimal("23.45"), "40100")]
    with pytest.raises(ConfigurationError):
        t.document_record(Entity.INVOICE, doc, Mapping(refs={}))


def test_a_document_is_named_by_its_key_fields_and_a_voided_one_has_nothing_due():
    read = {"Type": "Credit Memo", "ReferenceNbr": "AR000004", "CustomerOrder": "C-1", "Status": "Voided",
            "Amount": Decimal("30.00"), "Balance": Decimal("0.00"), "LastModifiedDateTime": "2026-12-04T09:00:00Z",
            "Details": [{"Quantity": Decimal("1"), "UnitPrice": Decimal("30.00"), "Account": "40000"}]}
    result = t.document_result(read)
    assert result.remote_id == "Credit Memo/AR000004" and t.document_keys(result.remote_id) == {
        "Type": "Credit Memo", "ReferenceNbr": "AR000004"}
    assert (result.status, result.total, result.balance, result.number) == ("voided", Decimal("0.00"),
                                                                            Decimal("0.00"), "C-1")
    assert result.version.startswith("2026-12-04T09:00:00Z/")


def test_what_we_write_and_what_acumatica_reads_back_compare_equal():
    doc = invoice("cust:1", "K-8", ("10.00",))
    mapping = Mapping(line_accounts=("40000",), refs={"cust:1": "C1"})
    written = t.document_record(Entity.INVOICE, doc, mapping)
    read = {**written, "Details": [{**written["Details"][0], "TaxCategory": "EXEMPT", "Amount": Decimal("10.00"),
                                    "Quantity": Decimal("1.000000")}]}
    assert t.same_lines(written, read)
    read["Details"][0]["UnitPrice"] = Decimal("11.00")
    assert not t.same_lines(written, read)


def test_a_payment_applies_to_invoices_by_their_key_fields():
    doc = PaymentSnapshot(key="p:1", organization_id=1, number="P-1", customer_key="cust:1",
                          date=dt.date(2026, 12, 4), amount=Decimal("40.00"),
                          allocations=(Allocation("inv:1", Decimal("25.00")), Allocation("inv:1", Decimal("5.00"))))
    mapping = Mapping(deposit_account="10200", refs={"cust:1": "C1", "inv:1": "Invoice/AR000001"})
    record = t.payment_record(doc, mapping, "CHECK")
    assert (record["CashAccount"], record["PaymentRef"], record["PaymentAmount"]) == ("10200", "P-1",
                                                                                      Decimal("40.00"))
    assert t.wanted(doc, mapping) == {"Invoice/AR000001": Decimal("30.00")}
    assert t.applied({"DocumentsToApply": [{"DocType": "Invoice", "ReferenceNbr": "AR000001",
                                            "AmountPaid": Decimal("30.00")}]}) == t.wanted(doc, mapping)
    with pytest.raises(ConfigurationError):
        t.payment_record(doc, Mapping(refs=mapping.refs), "CHECK")


def test_account_kinds_from_type_and_class():
    assert t.account_kind({"Type": "Income", "AccountClass": "SALES"}) == "income"
    assert t.account_kind({"Type": "Asset", "AccountClass": "CASH"}) == "deposit"
    assert t.account_kind({"Type": "Asset", "AccountClass": "AR"}) == "receivable"
    assert t.account_kind({"Type": "Liability", "AccountClass": "TAX"}) == "tax_payable"
    assert t.account_kind({"Type": "Asset", "AccountClass": "FIXED"}) == "other"
