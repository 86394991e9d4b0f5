"""The Bill.com sandbox over real loopback HTTP: sign-in sessions and their idle timeout, the devKey header, error
arrays, invoices and recorded payments with due amounts, credit memos, archive, cursor paging and filters, limits,
faults in Bill.com's shape, signed event notifications, and the wire bodies checked against the schema in
connectors/billcom/spec (written from Bill.com's documentation: no third-party client for v3 exists)."""
import base64
import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import requests

from connectors.billcom.sandbox import DEV_KEY, ORGANIZATION_ID
from tests.platforms import POOL  # noqa: F401 - the shared pool's receiver serves the webhook test

SPEC = Path(__file__).resolve().parents[3] / "connectors" / "billcom" / "spec" / "billcom-v3-ar.schema.json"
SCHEMA = json.loads(SPEC.read_text())
LOGIN = {"username": "sandbox-client", "password": "sandbox-secret", "organizationId": ORGANIZATION_ID,
         "devKey": DEV_KEY}


def check(name: str, body) -> None:
    """``body`` (JSON with Decimals, as sent or read) is valid against the schema's ``$defs/<name>``."""
    jsonschema.validate(body, {**SCHEMA, "$ref": f"#/$defs/{name}"})


class Bill:
    """Calls the way Bill.com's docs show them: ``devKey`` and ``sessionId`` headers, JSON bodies."""

    def __init__(self, sb):
        self.sb = sb
        answer = requests.post(f"{sb.api_base}/login", json=LOGIN, timeout=5)
        assert answer.status_code == 200, answer.text
        check("loginResponse", answer.json())
        self.session = answer.json()["sessionId"]

    def call(self, method, path, body=None, params=None, session=None, dev_key=DEV_KEY):
        data = json.dumps(body, default=str) if body is not None else None
        headers = {"devKey": dev_key, "sessionId": session or self.session, "Content-Type": "application/json"}
        answer = requests.request(method, f"{self.sb.api_base}/{path}", data=data, params=params, headers=headers,
                                  timeout=5)
        answer.body = json.loads(answer.content, parse_float=Decimal) if answer.content else None
        return answer

    def ok(self, method, path, body=None, params=None):
        answer = self.call(method, path, body, params)
        assert answer.status_code == 200, answer.text
        return answer.body

    def customer(self, name="Acme"):
        return self.ok("POST", "customers", {"name": name})["id"]

    def invoice(self, customer, number="INV-1", prices=("100.00",)):
        body = {"customer": {"id": customer}, "invoiceNumber": number, "invoiceDate": "2026-12-01",
                "dueDate": "2026-12-31",
                "invoiceLineItems": [{"quantity": 1, "price": p, "description": f"L{i}"} for i, p in enumerate(prices)]}
        check("invoiceRequest", body)
        made = self.ok("POST", "invoices", body)
        check("invoice", made)
        return made


@pytest.fixture
def bill(bsandbox):
    return Bill(bsandbox)


def error_code(answer) -> str:
    check("error", answer.body)
    return answer.body[0]["code"]


def test_login_refuses_a_wrong_password_or_key_and_counts_sign_ins(bsandbox):
    before = bsandbox.token_calls
    for change in ({"password": "nope"}, {"devKey": "nope"}, {"organizationId": "00899"}):
        answer = requests.post(f"{bsandbox.api_base}/login", json={**LOGIN, **change}, timeout=5)
        assert answer.status_code == 401 and answer.json()[0]["code"] in ("BDC_1101", "BDC_1102")
    check("loginRequest", LOGIN)
    assert bsandbox.token_calls == before + 3


def test_session_and_dev_key_headers_are_required_and_the_session_lapses_when_idle(bill, bsandbox):
    assert bill.call("GET", "customers").status_code == 200
    assert error_code(bill.call("GET", "customers", dev_key="other")) == "BDC_1102"
    assert error_code(bill.call("GET", "customers", session="unknown")) == "BDC_1109"
    bsandbox.clock.advance(34 * 60)
    assert bill.call("GET", "customers").status_code == 200  # the idle timer restarted
    bsandbox.clock.advance(36 * 60)
    answer = bill.call("GET", "customers")
    assert answer.status_code == 401 and error_code(answer) == "BDC_1109"


def test_invoice_totals_payment_lowers_the_due_amount_and_void_gives_it_back(bill):
    customer = bill.customer()
    invoice = bill.invoice(customer, prices=("100.00", "23.45"))
    assert invoice["totalAmount"] == invoice["dueAmount"] == Decimal("123.45") and invoice["status"] == "OPEN"
    request = {"customerId": customer, "paymentDate": "2026-12-02", "paymentType": "CHECK", "amount": "50.00",
               "description": "P-1 thanks", "invoices": [{"id": invoice["id"], "amount": "40.00"}]}
    check("recordPaymentRequest", request)
    paid = bill.ok("POST", "invoices/record-payment", request)
    check("receivedPayment", paid)
    assert paid["unappliedAmount"] == Decimal("10.00") and paid["id"].startswith("0rp")
    after = bill.ok("GET", f"invoices/{invoice['id']}")
    assert after["dueAmount"] == Decimal("83.45") and after["status"] == "PARTIAL_PAYMENT"
    too_much = {**request, "amount": "500.00", "invoices": [{"id": invoice["id"], "amount": "90.00"}]}
    assert error_code(bill.call("POST", "invoices/record-payment", too_much)) == "BDC_1000"
    bill.ok("POST", f"receivable-payments/{paid['id']}/void")
    assert bill.ok("GET", f"invoices/{invoice['id']}")["dueAmount"] == Decimal("123.45")


def test_invoice_number_is_unique_and_an_unknown_account_is_refused(bill):
    customer = bill.customer()
    bill.invoice(customer, "DUP-1")
    again = bill.call("POST", "invoices", {"customer": {"id": customer}, "invoiceNumber": "DUP-1",
                                           "invoiceDate": "2026-12-01", "dueDate": "2026-12-01",
                                           "invoiceLineItems": [{"quantity": 1, "price": "5.00"}]})
    assert again.status_code == 400 and error_code(again) == "BDC_1171"
    bad = bill.call("POST", "invoices", {"customer": {"id": customer}, "invoiceNumber": "X-1",
                                         "invoiceDate": "2026-12-01", "dueDate": "2026-12-01",
                                         "invoiceLineItems": [{"quantity": 1, "price": "5.00",
                                                               "classifications": {"chartOfAccountId": "0ca0199"}}]})
    assert bad.status_code == 400 and "chartOfAccountId" in bad.body[0]["message"]
    assert error_code(bill.call("GET", "invoices/00e0199999")) == "BDC_1124"
    assert error_code(bill.call("GET", "nothing-here")) == "BDC_1121"


def test_credit_memo_applied_lowers_the_invoice_and_a_patch_reapplies(bill):
    customer = bill.customer()
    invoice = bill.invoice(customer)
    memo = bill.ok("POST", "credit-memos", {"customerId": customer, "referenceNumber": "CM-1",
                                            "creditDate": "2026-12-02",
                                            "creditMemoLineItems": [{"quantity": 1, "price": "30.00"}],
                                            "invoices": [{"id": invoice["id"], "amount": "30.00"}]})
    assert memo["availableAmount"] == Decimal("0.00")
    assert bill.ok("GET", f"invoices/{invoice['id']}")["dueAmount"] == Decimal("70.00")
    bill.ok("PATCH", f"credit-memos/{memo['id']}", {"invoices": [{"id": invoice["id"], "amount": "10.00"}]})
    assert bill.ok("GET", f"invoices/{invoice['id']}")["dueAmount"] == Decimal("90.00")


def test_archived_records_stay_readable_and_cannot_be_patched(bill):
    customer = bill.customer()
    assert bill.ok("POST", f"customers/{customer}/archive")["archived"] is True
    assert bill.ok("GET", f"customers/{customer}")["archived"] is True
    assert bill.call("PATCH", f"customers/{customer}", {"name": "Renamed"}).status_code == 400
    assert bill.ok("POST", f"customers/{customer}/restore")["archived"] is False


def test_lists_page_with_a_cursor_and_filter(bill):
    customer = bill.customer()
    for n in range(5):
        bill.invoice(customer, f"PG-{n}")
    first = bill.ok("GET", "invoices", params={"max": 2})
    check("list", first)
    seen = [r["invoiceNumber"] for r in first["results"]]
    cursor = first["nextPage"]
    while cursor:
        page = bill.ok("GET", "invoices", params={"max": 2, "page": cursor})
        seen += [r["invoiceNumber"] for r in page["results"]]
        cursor = page["nextPage"]
    assert seen == [f"PG-{n}" for n in range(5)]
    found = bill.ok("GET", "invoices", params={"filters": 'invoiceNumber:eq:"PG-3"'})["results"]
    assert [r["invoiceNumber"] for r in found] == ["PG-3"]
    assert bill.call("GET", "invoices", params={"max": 101}).status_code == 400
    assert bill.call("GET", "invoices", params={"filters": "nonsense"}).status_code == 400


def test_concurrency_and_hourly_limits_answer_in_billcoms_shape(bill, bsandbox):
    bsandbox.settings({"limits": {"hour": [2, 3600]}})
    assert bill.call("GET", "customers").status_code == 200
    assert bill.call("GET", "customers").status_code == 200
    answer = bill.call("GET", "customers")
    assert answer.status_code == 429 and error_code(answer) == "BDC_1144"
    bsandbox.settings({"limits_restore": True, "limits": {"concurrent": [0, 0]}})
    answer = bill.call("GET", "customers")
    assert answer.status_code == 429 and error_code(answer) == "BDC_1322"


def test_faults_answer_in_billcoms_shape(bill, bsandbox):
    bsandbox.faults.add("rate_limit", retry_after="7")
    answer = bill.call("GET", "customers")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7" and error_code(answer) == "BDC_1144"
    bsandbox.faults.add("http_503")
    answer = bill.call("GET", "customers")
    assert answer.status_code == 503 and error_code(answer) == "BDC_1001"


def test_connect_stand_in_redirects_back_with_a_code(bsandbox):
    answer = requests.get(f"{bsandbox.base_url}/connect/authorize", allow_redirects=False, timeout=5,
                          params={"client_id": "sandbox-client", "redirect_uri": "http://host/cb", "state": "s1"})
    assert answer.status_code == 302 and answer.headers["Location"].startswith("http://host/cb?code=")
    assert "state=s1" in answer.headers["Location"]


def test_invoice_events_are_signed_and_shaped_as_documented(bill, bsandbox):
    key = "security-key-1"
    bsandbox.webhooks.configure(POOL.receiver().url, key, batch_window=60)
    try:
        customer = bill.customer()
        invoice = bill.invoice(customer, "EV-1")
        deliveries = [d for d in bsandbox.webhooks.flush() if d.events]
    finally:
        bsandbox.webhooks.disable()
    [delivery] = deliveries
    event = json.loads(delivery.body)
    check("eventNotification", event)
    assert event["metadata"]["eventType"] == "invoice.created" and event["invoice"]["id"] == invoice["id"]
    assert event["metadata"]["organizationId"] == ORGANIZATION_ID
    expected = base64.b64encode(hmac.new(key.encode(), delivery.body, hashlib.sha256).digest()).decode()
    assert dict(delivery.headers)["x-bill-sha-signature"] == expected
    assert dt.datetime.fromisoformat(event["invoice"]["updatedTime"]).tzinfo is not None
