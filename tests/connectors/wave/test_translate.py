"""Snapshot → Wave input and Wave node → result, pure functions; every GraphQL document we send validates
against the vendored SDL (graphql-core), so a field Wave does not have fails here, not in production."""
import datetime as dt
from decimal import Decimal

import pytest
from graphql import parse, validate

from connectors.documents import (CreditNoteSnapshot, Entity, InvoiceSnapshot, LineSnapshot, Mapping)
from connectors.wave import translate as t
from connectors.wave.sandbox.server import SCHEMA


def line(kind="service", price="40.00", qty="2", tax_key=None):
    return LineSnapshot(kind=kind, description=f"{kind} line", quantity=Decimal(qty), unit_price=Decimal(price),
                        net_amount=Decimal(qty) * Decimal(price), tax_amount=Decimal("0"), tax_rate_key=tax_key)


DOCUMENTS = [t.read_query(e) for e in t.FIELDS] + [t.list_query(e) for e in t.FIELDS] + [
    t.list_query(Entity.INVOICE, "invoiceNumber:String"), t.list_query(Entity.INVOICE, "modifiedAtAfter:DateTime"),
    t.BUSINESSES, t.REFERENCE, t.mutation(*t.PAY),
    *[t.mutation(*spec) for spec in t.CREATE.values()], *[t.mutation(*spec) for spec in t.PATCH.values()],
    t.mutation("invoicePatch", "InvoicePatchInput", "invoice", t.INVOICE_FIELDS),
    t.mutation("invoiceDelete", "InvoiceDeleteInput"), t.mutation("productArchive", "ProductArchiveInput"),
    t.mutation("customerDelete", "CustomerDeleteInput"),
    t.mutation("invoicePaymentDelete", "InvoicePaymentDeleteInput"),
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_document_we_send_is_valid_against_the_vendored_schema(document):
    assert validate(SCHEMA, parse(document)) == []


def test_invoice_lines_reference_products_with_exact_text_amounts_and_mapped_taxes():
    doc = InvoiceSnapshot(key="k", organization_id=1, number="INV-9", customer_key="c", issue_date=dt.date(2026, 1, 2),
                          lines=(line(tax_key="gst"), line("discount", "5.00", "1")))
    body = t.invoice_input(doc, "B", "C", ["P1", "P2"], Mapping(tax_codes={"gst": "TAX"}))
    assert body["invoiceNumber"] == "INV-9" and body["invoiceDate"] == "2026-01-02" and body["status"] == "SAVED"
    assert body["items"] == [
        {"productId": "P1", "description": "service line", "quantity": "2", "unitPrice": "40.00",
         "taxes": [{"salesTaxId": "TAX"}]},
        {"productId": "P2", "description": "discount line", "quantity": "1", "unitPrice": "-5.00", "taxes": []}]


def test_a_credit_note_is_a_negative_invoice_and_reads_back_positive():
    doc = CreditNoteSnapshot(key="k", organization_id=1, number="CN-1", customer_key="c", lines=(line(),))
    body = t.invoice_input(doc, "B", "C", ["P1"], Mapping())
    assert body["items"][0]["unitPrice"] == "-40.00"
    node = {"id": "I", "invoiceNumber": "CN-1", "total": {"value": "-80.00"}, "amountDue": {"value": "-80.00"}}
    read = t.result(Entity.CREDIT_NOTE, node)
    assert (read.total, read.balance, read.status) == (Decimal("80.00"), Decimal("80.00"), "active")


def test_a_voided_invoice_reads_voided_and_payments_keep_their_invoice_in_the_id():
    node = {"id": "I", "title": t.VOID_TITLE, "invoiceNumber": "9", "total": {"value": "0.00"},
            "amountDue": {"value": "0.00"}}
    assert t.result(Entity.INVOICE, node).status == "voided" and t.totals(node).status == "voided"
    paid = t.payment_result("INV", {"id": "PAY", "amount": {"value": "12.50"}, "memo": "P-1"})
    assert (paid.remote_id, paid.total, paid.number) == ("INV.PAY", Decimal("12.50"), "P-1")


def test_a_payment_id_holds_both_wave_ids_within_100_characters(wsandbox):
    business = wsandbox.business_id
    invoice, payment = wsandbox.encode("Invoice", "123456"), wsandbox.encode("InvoicePayment", "987654")
    remote_id = t.payment_id(invoice, payment)
    assert remote_id == "Invoice:123456.InvoicePayment:987654" and len(remote_id) <= 100
    assert t.split_payment_id(remote_id, business) == (invoice, payment)


def test_line_products_are_one_per_kind_and_account():
    assert t.line_product_name(line(), "A1") == t.line_product_name(line(price="9"), "A1")
    assert t.line_product_name(line(), "A1") != t.line_product_name(line(), "A2")
    assert t.line_product_name(line("shipping"), "A1").startswith("Shipping line")
