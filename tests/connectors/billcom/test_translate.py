"""Pure translation to and from Bill.com v3 JSON, the request bodies checked against the schema in
connectors/billcom/spec, credentials and the connect step, and webhook signatures and shapes."""
import base64
import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

from connectors.base import ConnectionConfig
from connectors.billcom import translate as t
from connectors.billcom.connector import BillcomConnector
from connectors.documents import (Allocation, CreditNoteSnapshot, CustomerSnapshot, InvoiceSnapshot, LineSnapshot,
                                  Mapping, PaymentSnapshot)
from connectors.errors import ConfigurationError

SCHEMA = json.loads((Path(__file__).resolve().parents[3] / "connectors" / "billcom" / "spec" /
                     "billcom-v3-ar.schema.json").read_text())


def valid(name, body):
    jsonschema.validate(body, {**SCHEMA, "$ref": f"#/$defs/{name}"})


def line(kind="service", price="40.00", qty="2", tax="8.00", rate_key="tax:1"):
    return LineSnapshot(kind=kind, description=f"{kind} line", quantity=Decimal(qty), unit_price=Decimal(price),
                        net_amount=Decimal(qty) * Decimal(price), tax_amount=Decimal(tax), tax_rate_key=rate_key)


def invoice():
    lines = (line(), line("discount", "10.00", "1", "-1.00"))
    return InvoiceSnapshot(key="ledger.invoice:1", organization_id=1, number="RV-1", customer_key="c",
                           issue_date=dt.date(2026, 12, 1), due_date=dt.date(2026, 12, 31), lines=lines,
                           subtotal=Decimal("70.00"), tax_total=Decimal("7.00"), total=Decimal("77.00"))


MAPPING = Mapping(line_accounts=("0ca0110001", "0ca0110005"), tax_codes={"tax:1": "TAXABLE"},
                  refs={"c": "0cu0110001", "ledger.invoice:1": "00e0110001"})


def test_invoice_payload_has_our_lines_a_negative_discount_and_our_tax_as_a_last_line():
    body = t.invoice_payload(invoice(), MAPPING)
    valid("invoiceRequest", body)
    lines = body["invoiceLineItems"]
    assert [(x["quantity"], x["price"]) for x in lines] == [(Decimal("2"), Decimal("40.00")),
                                                          (Decimal("1"), Decimal("-10.00")),
                                                          (Decimal("1"), Decimal("7.00"))]
    assert lines[0]["taxable"] is True and lines[0]["classifications"] == {"chartOfAccountId": "0ca0110001"}
    assert lines[2] == {"description": t.TAX_LINE, "quantity": Decimal("1"), "price": Decimal("7.00"),
                        "taxable": False}
    assert sum(x["quantity"] * x["price"] for x in lines) == invoice().total
    assert body["customer"] == {"id": "0cu0110001"} and body["dueDate"] == "2026-12-31"


def test_payment_payload_carries_our_number_first_in_the_description():
    doc = PaymentSnapshot(key="ledger.payment:1", organization_id=1, number="PAY-1", customer_key="c",
                          date=dt.date(2026, 12, 2), amount=Decimal("77.00"), method="card", memo="thanks",
                          allocations=(Allocation("ledger.invoice:1", Decimal("77.00")),))
    body = t.payment_payload(doc, MAPPING)
    valid("recordPaymentRequest", body)
    assert body["paymentType"] == "CREDIT_CARD" and body["description"] == "PAY-1 thanks"
    assert body["invoices"] == [{"id": "00e0110001", "amount": Decimal("77.00")}]
    assert t.payment_number({"description": body["description"]}) == "PAY-1"


def test_credit_payload_is_applied_to_our_allocations():
    doc = CreditNoteSnapshot(key="ledger.creditnote:1", organization_id=1, number="CN-1", customer_key="c",
                             issue_date=dt.date(2026, 12, 3), lines=(line(tax="0.00"),), total=Decimal("80.00"),
                             allocations=(Allocation("ledger.invoice:1", Decimal("66.00")),))
    body = t.credit_payload(doc, MAPPING)
    assert body["referenceNumber"] == "CN-1" and body["invoices"] == [{"id": "00e0110001", "amount": Decimal("66.00")}]
    assert len(body["creditMemoLineItems"]) == 1  # no tax line when there is no tax


def test_result_status_total_and_a_fingerprint_that_ignores_how_numbers_are_spelt():
    body = {"id": "00e0110001", "invoiceNumber": "RV-1", "totalAmount": Decimal("77.00"),
            "dueAmount": Decimal("10.00"), "archived": False, "updatedTime": "2026-12-01T10:00:00.000+00:00",
            "invoiceLineItems": [{"quantity": Decimal("2"), "price": Decimal("40.00")}]}
    found = t.result("invoice", body)
    assert (found.status, found.total, found.balance, found.number) == ("active", Decimal("77.00"),
                                                                        Decimal("10.00"), "RV-1")
    spelt = {**body, "invoiceLineItems": [{"quantity": "2.0", "price": "40"}]}
    assert t.fingerprint("invoice", spelt) == found.fingerprint
    voided = t.result("invoice", {**body, "archived": True, "totalAmount": Decimal("0.00")})
    assert voided.status == "voided" and voided.total == voided.balance == Decimal("0.00")
    assert t.result("invoice", {**body, "archived": True}).status == "deleted"
    assert t.change_operation("payment", {"status": "VOID"}) == "delete"
    customer = t.customer_payload(CustomerSnapshot(key="k", organization_id=1, name="A" * 150, email=""))
    assert customer == {"name": "A" * 100}


def connector(secret="DEVKEY1:pass:word", **settings):
    config = ConnectionConfig("billcom", "c", "", {"organization_id": "00801X", **settings}, "me@example.com", secret)
    return BillcomConnector(config)


def test_credentials_split_at_the_first_colon_and_a_missing_part_is_a_configuration_error():
    assert connector().credentials() == ("DEVKEY1", "pass:word")
    assert connector("secret-only", sandbox_dev_key="SBKEY").credentials() == ("SBKEY", "secret-only")
    with pytest.raises(ConfigurationError):
        connector("secret-only").credentials()


def test_connect_without_a_consent_page_comes_straight_back_to_the_callback():
    url = connector().authorization_url("https://host/connectors/oauth/callback/", "st8")
    assert url == "https://host/connectors/oauth/callback/?code=login&state=st8"


def sign(body: bytes, key: str) -> dict:
    return {"X-Bill-Sha-Signature": base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()}


def test_webhook_signature_and_parsing():
    body = json.dumps({"metadata": {"eventId": "e1", "subscriptionId": "s1", "organizationId": "00801X",
                                    "eventType": "invoice.archived", "version": "1"},
                       "invoice": {"id": "00e0110001", "totalAmount": 12.5,
                                   "updatedTime": "2026-12-01T10:00:00.000+00:00"}}).encode()
    assert BillcomConnector.verify_webhook(sign(body, "k1"), body, "k1")
    assert not BillcomConnector.verify_webhook(sign(body, "k1"), body, "k2")
    assert not BillcomConnector.verify_webhook({}, body, "k1")
    [change] = BillcomConnector.parse_webhook(body)
    assert (change.entity, change.remote_id, change.operation, change.company_id) == (
        "invoice", "00e0110001", "delete", "00801X")
    other = json.dumps({"metadata": {"eventType": "bill.created"}, "bill": {"id": "00n1"}}).encode()
    assert BillcomConnector.parse_webhook(other) == []
    for bad in (b"[1]", b"{}", b"nope", b'{"metadata": {"eventType": "invoice.updated"}}'):
        with pytest.raises(ValueError):
            BillcomConnector.parse_webhook(bad)
