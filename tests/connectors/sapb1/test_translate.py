"""Snapshots to Service Layer bodies and back (pure), and one round trip through the sandbox: what we write reads
back with the same fingerprint and totals."""
import datetime as dt
from decimal import Decimal

import pytest

from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, Entity, InvoiceSnapshot,
                                  LineSnapshot, Mapping, PaymentSnapshot)
from connectors.errors import ConfigurationError
from connectors.sapb1 import translate as t
from connectors.sapb1.client import ServiceLayerClient
from connectors.sapb1.sandbox import COMPANY_DB, PASSWORD, USER

REVENUE, BANK = "_SYS00000000001", "_SYS00000000006"


def line(price, kind="service", tax_key=None):
    return LineSnapshot(kind=kind, description="Visit", quantity=Decimal("2"), unit_price=Decimal(price),
                        net_amount=Decimal(price) * 2, tax_amount=Decimal("0"), tax_rate_key=tax_key)


def invoice(number="INV-1", lines=None):
    return InvoiceSnapshot(key="inv", organization_id=1, number=number, customer_key="cust",
                           issue_date=dt.date(2026, 12, 1), due_date=dt.date(2026, 12, 31), currency="AUD",
                           lines=tuple(lines or (line("50.00", tax_key="gst"), line("5.00", "discount"))))


MAPPING = Mapping(line_accounts=(REVENUE, REVENUE), item_account=REVENUE, deposit_account=BANK,
                  tax_codes={"gst": "S1"}, refs={"cust": "C001", "inv": "12"})


def test_invoice_body_carries_our_number_accounts_tax_and_a_negative_discount():
    body = t.document(invoice(), MAPPING)
    assert body["CardCode"] == "C001" and body["NumAtCard"] == "INV-1" and body["DocDueDate"] == "2026-12-31"
    assert [(b["AccountCode"], b["UnitPrice"], b.get("VatGroup")) for b in body["DocumentLines"]] == [
        (REVENUE, Decimal("50.00"), "S1"), (REVENUE, Decimal("-5.00"), None)]
    assert "BaseType" not in body["DocumentLines"][0]


def test_a_credit_note_is_not_based_on_its_invoice_and_its_application_is_a_balanced_reconciliation():
    note = CreditNoteSnapshot(key="cn", organization_id=1, number="CN-1", customer_key="cust",
                              lines=(line("10.00"),), allocations=(Allocation("inv", Decimal("20.00")),))
    [first] = t.document(note, MAPPING)["DocumentLines"]
    assert "BaseType" not in first and "BaseEntry" not in first
    body = t.reconciliation("C001", {"DocEntry": 12, "TransNum": 1001}, {"DocEntry": 3, "TransNum": 1004},
                            Decimal("20.00"), "2026-12-02")
    rows = body["InternalReconciliationOpenTransRows"]
    assert [(r["SrcObjTyp"], r["SrcObjAbs"], r["TransId"], r["CreditOrDebit"], r["ReconcileAmount"]) for r in rows] \
        == [("13", 12, 1001, "codDebit", Decimal("20.00")), ("14", 3, 1004, "codCredit", Decimal("20.00"))]
    assert body["CardOrAccount"] == "coaCard" and {r["ShortName"] for r in rows} == {"C001"}


def test_payment_body_applies_to_its_invoices_and_needs_a_deposit_account():
    pay = PaymentSnapshot(key="p", organization_id=1, number="PAY-1", customer_key="cust", amount=Decimal("40.00"),
                          allocations=(Allocation("inv", Decimal("40.00")),))
    body = t.payment(pay, MAPPING)
    assert body["TransferAccount"] == BANK and body["CounterReference"] == "PAY-1"
    assert body["PaymentInvoices"] == [{"DocEntry": 12, "SumApplied": Decimal("40.00"), "InvoiceType": "it_Invoice"}]
    with pytest.raises(ConfigurationError):
        t.payment(pay, Mapping(refs=MAPPING.refs))


def test_a_missing_customer_code_is_a_configuration_error():
    with pytest.raises(ConfigurationError):
        t.document(invoice(), Mapping(item_account=REVENUE))


def test_cancelled_documents_are_voided_with_nothing_due():
    read = t.result(Entity.INVOICE, {"DocEntry": 3, "NumAtCard": "X", "DocTotal": "100.00", "PaidToDate": "0",
                                     "Cancelled": "tYES", "DocumentLines": []})
    assert (read.status, read.total, read.balance) == ("voided", Decimal("0.00"), Decimal("0.00"))


def test_what_we_write_reads_back_from_the_sandbox_with_the_same_fingerprint_and_totals(slsandbox):
    client = ServiceLayerClient(slsandbox.api_base, lambda fresh: "")
    session, _ = client.login(COMPANY_DB, USER, PASSWORD)
    api = ServiceLayerClient(slsandbox.api_base, lambda fresh: session)
    api.post("BusinessPartners", t.business_partner(CustomerSnapshot(key="cust", organization_id=1, name="Ada"),
                                                     "C001"))
    # Every line names its VAT group: a line without one gets the company's default group on the platform, so
    # a connector must take its fingerprint from the read-back (docs/connectors/sapb1.md).
    body = t.document(invoice(lines=(line("50.00", tax_key="gst"), line("5.00", "discount", "free"))),
                      Mapping(line_accounts=(REVENUE, REVENUE), tax_codes={"gst": "S1", "free": "S0"},
                              refs=MAPPING.refs))
    written = api.post("Invoices", body)
    read = t.result(Entity.INVOICE, api.get(f"Invoices({written['DocEntry']})"))
    assert read.fingerprint == t.document_content(body) == t.result(Entity.INVOICE, written).fingerprint
    assert read.total == Decimal("100.00") and read.balance == Decimal("100.00") and read.number == "INV-1"
    assert read.status == "active" and read.version
    pay = PaymentSnapshot(key="p", organization_id=1, number="PAY-1", customer_key="cust", amount=Decimal("40.00"),
                          allocations=(Allocation("inv", Decimal("40.00")),))
    api.post("IncomingPayments", t.payment(pay, Mapping(deposit_account=BANK,
                                                         refs={"cust": "C001", "inv": str(written["DocEntry"])})))
    assert t.result(Entity.INVOICE, api.get(f"Invoices({written['DocEntry']})")).balance == Decimal("60.00")


def test_a_version_fits_the_fifty_characters_a_reference_keeps_and_a_cancel_changes_it():
    body = {"DocEntry": 7, "NumAtCard": "INV-1", "DocTotal": "10.00", "UpdateDate": "2026-12-04T00:00:00Z",
            "UpdateTime": "09:00:01", "Cancelled": "tNO"}
    live, cancelled = t.result(Entity.INVOICE, body), t.result(Entity.INVOICE, {**body, "Cancelled": "tYES"})
    assert live.version != cancelled.version and max(len(live.version), len(cancelled.version)) <= 50
