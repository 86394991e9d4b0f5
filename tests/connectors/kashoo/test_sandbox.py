"""The Kashoo sandbox over real loopback HTTP: the token sign-in and its ``TOKEN json:`` header, integer cents,
balances lowered by payments and credit notes, unique invoice numbers, date-range lists with limit and offset,
faults in Kashoo's error shape, and every request and answer body checked against our schema in
connectors/kashoo/spec (no client library for Kashoo exists on PyPI; the schema is written from the documented
facts and marks the rest as guesses)."""
import base64
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import requests

SPEC = Path(__file__).resolve().parents[3] / "connectors" / "kashoo" / "spec" / "kashoo-api.schema.json"
SCHEMA = json.loads(SPEC.read_text())


def check(name: str, body) -> None:
    """``body`` is valid against the schema's ``$defs/<name>``."""
    jsonschema.validate(body, {**SCHEMA, "$ref": f"#/$defs/{name}"})


def basic(user="sandbox-client", password="sandbox-secret"):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Kashoo:
    """Calls the way Kashoo's pages describe them: a token from /api/authTokens, then ``TOKEN json:{token}``."""

    def __init__(self, sb):
        self.sb = sb
        answer = requests.post(f"{sb.api_base}/authTokens", headers={"Authorization": basic()}, timeout=5)
        assert answer.status_code == 200, answer.text
        check("authToken", answer.json())
        self.token = "json:" + json.dumps(answer.json())
        self.base = f"{sb.api_base}/businesses/{sb.company_id}"

    def call(self, method, path, body=None, params=None, token=None):
        data = json.dumps(body, default=str) if body is not None else None
        headers = {"Authorization": f"TOKEN {token or self.token}", "Content-Type": "application/json"}
        answer = requests.request(method, f"{self.base}/{path}", data=data, params=params, headers=headers,
                                  timeout=5)
        answer.body = json.loads(answer.content, parse_float=Decimal) if answer.content else None
        return answer

    def ok(self, method, path, body=None, params=None):
        answer = self.call(method, path, body, params)
        assert answer.status_code in (200, 204), answer.text
        return answer.body

    def customer(self, name="Acme"):
        body = {"name": name}
        check("customerRequest", body)
        return self.ok("POST", "contacts", body)["id"]

    def invoice(self, customer, number="INV-1", prices=(10000,), date="2026-12-01"):
        body = {"contactId": customer, "number": number, "date": date, "dueDate": "2026-12-31",
                "lineItems": [{"quantity": 1, "unitPrice": p, "description": f"L{i}"} for i, p in enumerate(prices)]}
        check("invoiceRequest", body)
        made = self.ok("POST", "records/invoices", body)
        check("invoice", made)
        return made


@pytest.fixture
def kashoo(ksandbox):
    return Kashoo(ksandbox)


def error_code(answer) -> str:
    check("error", answer.body)
    return answer.body["errorCode"]


def test_sign_in_refuses_a_wrong_password_and_counts_sign_ins(ksandbox):
    before = ksandbox.token_calls
    answer = requests.post(f"{ksandbox.api_base}/authTokens", headers={"Authorization": basic(password="x")},
                           timeout=5)
    assert answer.status_code == 401 and answer.json()["errorCode"] == "INVALID_CREDENTIALS"
    assert ksandbox.token_calls == before + 1


def test_calls_need_the_token_header_and_a_lapsed_token_is_refused(kashoo, ksandbox):
    assert error_code(kashoo.call("GET", "contacts", token="Bearer-ish")) == "INVALID_TOKEN"
    raw = requests.get(f"{kashoo.base}/contacts", headers={"Authorization": kashoo.token}, timeout=5)
    assert raw.status_code == 401
    assert kashoo.call("GET", "contacts").status_code == 200
    ksandbox.clock.advance(13 * 3600)
    answer = kashoo.call("GET", "contacts")
    assert answer.status_code == 401 and error_code(answer) == "TOKEN_EXPIRED"


def test_another_business_is_forbidden(kashoo, ksandbox):
    answer = requests.get(f"{ksandbox.api_base}/businesses/1/contacts",
                          headers={"Authorization": f"TOKEN {kashoo.token}"}, timeout=5)
    assert answer.status_code == 403 and answer.json()["errorCode"] == "ACCESS_DENIED"


def test_money_is_integer_cents_and_fractions_or_floats_are_refused(kashoo):
    customer = kashoo.customer()
    made = kashoo.invoice(customer, prices=(10000, 2345))
    assert made["amount"] == 12345 and made["balanceDue"] == 12345 and made["contactName"] == "Acme"
    for bad in ("100.50", 100.5):
        answer = kashoo.call("POST", "records/invoices", {"contactId": customer, "number": "X", "date": "2026-12-01",
                                                          "lineItems": [{"unitPrice": bad}]})
        assert answer.status_code == 400 and error_code(answer) == "VALIDATION_ERROR"


def test_a_second_invoice_with_the_same_number_is_a_duplicate(kashoo):
    customer = kashoo.customer()
    kashoo.invoice(customer, "DUP-1")
    answer = kashoo.call("POST", "records/invoices", {"contactId": customer, "number": "DUP-1", "date": "2026-12-01",
                                                      "lineItems": [{"unitPrice": 100}]})
    assert answer.status_code == 409 and error_code(answer) == "DUPLICATE_NUMBER"


def test_payment_and_credit_note_lower_the_balance_and_deleting_gives_it_back(kashoo):
    customer = kashoo.customer()
    invoice = kashoo.invoice(customer, prices=(10000,))
    body = {"contactId": customer, "number": "P-1", "date": "2026-12-02", "amount": 4000,
            "invoices": [{"invoiceId": invoice["id"], "amount": 4000}]}
    check("paymentRequest", body)
    paid = kashoo.ok("POST", "records/payments", body)
    check("payment", paid)
    credit = {"contactId": customer, "number": "CN-1", "date": "2026-12-03", "lineItems": [{"unitPrice": 1500}],
              "invoices": [{"invoiceId": invoice["id"], "amount": 1500}]}
    check("creditNoteRequest", credit)
    made = kashoo.ok("POST", "records/creditNotes", credit)
    assert made["balanceDue"] == 0
    assert kashoo.ok("GET", f"records/invoices/{invoice['id']}")["balanceDue"] == 4500
    too_much = {**body, "number": "P-2", "amount": 5000, "invoices": [{"invoiceId": invoice["id"], "amount": 5000}]}
    assert error_code(kashoo.call("POST", "records/payments", too_much)) == "VALIDATION_ERROR"
    refused = kashoo.call("DELETE", f"records/invoices/{invoice['id']}")
    assert refused.status_code == 400  # payments are applied to it
    kashoo.ok("DELETE", f"records/payments/{paid['id']}")
    kashoo.ok("DELETE", f"records/creditNotes/{made['id']}")
    assert kashoo.ok("GET", f"records/invoices/{invoice['id']}")["balanceDue"] == 10000
    kashoo.ok("DELETE", f"records/invoices/{invoice['id']}")
    gone = kashoo.call("GET", f"records/invoices/{invoice['id']}")
    assert gone.status_code == 404 and error_code(gone) == "NOT_FOUND"


def test_a_bill_payment_lowers_the_bill_and_a_paid_bill_is_not_deleted(kashoo, ksandbox):
    """An expense's two records: a bill owed to a contact, paid from an account by a bill payment."""
    vendor = kashoo.customer("Parcel Express")
    chequing = next(r.id for r in ksandbox.store.rows("accounts") if r.data["name"] == "Chequing Account")
    bill = {"contactId": vendor, "number": "EXP-1", "date": "2026-12-02", "dueDate": "2026-12-02",
            "lineItems": [{"description": "Postage", "quantity": 1, "unitPrice": 5000, "taxable": True},
                          {"description": "Tax", "quantity": 1, "unitPrice": 500}]}
    check("billRequest", bill)
    made = kashoo.ok("POST", "records/bills", bill)
    check("bill", made)
    assert (made["amount"], made["balanceDue"], made["contactName"]) == (5500, 5500, "Parcel Express")
    payment = {"contactId": vendor, "number": "EXP-1", "date": "2026-12-02", "amount": 5500, "accountId": chequing,
               "bills": [{"billId": made["id"], "amount": 5500}]}
    check("billPaymentRequest", payment)
    paid = kashoo.ok("POST", "records/billPayments", payment)
    check("billPayment", paid)
    assert kashoo.ok("GET", f"records/bills/{made['id']}")["balanceDue"] == 0
    again = {**payment, "amount": 100, "bills": [{"billId": made["id"], "amount": 100}]}
    assert error_code(kashoo.call("POST", "records/billPayments", again)) == "VALIDATION_ERROR"  # nothing due
    nowhere = {**payment, "accountId": "99999"}
    assert "accountId" in kashoo.call("POST", "records/billPayments", nowhere).body["message"]
    assert kashoo.call("DELETE", f"records/bills/{made['id']}").status_code == 400  # paid: its payment first
    on_day = kashoo.ok("GET", "records/billPayments", params={"startDate": "2026-12-02", "endDate": "2026-12-02"})
    assert [p["id"] for p in on_day] == [paid["id"]]
    kashoo.ok("DELETE", f"records/billPayments/{paid['id']}")
    assert kashoo.ok("GET", f"records/bills/{made['id']}")["balanceDue"] == 5500
    kashoo.ok("DELETE", f"records/bills/{made['id']}")
    assert kashoo.call("GET", f"records/bills/{made['id']}").status_code == 404


def test_lists_filter_by_record_date_and_page_with_limit_and_offset(kashoo):
    customer = kashoo.customer()
    for i, date in enumerate(("2026-11-30", "2026-12-01", "2026-12-01", "2026-12-02")):
        kashoo.invoice(customer, f"D-{i}", date=date)
    rows = kashoo.ok("GET", "records/invoices", params={"startDate": "2026-12-01", "endDate": "2026-12-01"})
    check("invoiceList", rows)
    assert [r["number"] for r in rows] == ["D-1", "D-2"]
    first = kashoo.ok("GET", "records/invoices", params={"limit": 3})
    rest = kashoo.ok("GET", "records/invoices", params={"limit": 3, "offset": 3})
    assert [r["number"] for r in first + rest] == ["D-0", "D-1", "D-2", "D-3"]
    assert error_code(kashoo.call("GET", "records/invoices", params={"limit": 500})) == "VALIDATION_ERROR"


def test_faults_answer_in_kashoos_error_shape(kashoo, ksandbox):
    ksandbox.faults.add("rate_limit", retry_after="7")
    answer = kashoo.call("GET", "contacts")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    assert error_code(answer) == "TOO_MANY_REQUESTS"
    ksandbox.faults.add("http_503")
    answer = kashoo.call("GET", "contacts")
    assert answer.status_code == 503 and error_code(answer) == "INTERNAL_ERROR"


def test_an_unknown_path_is_no_such_resource(kashoo):
    answer = kashoo.call("GET", "records/estimates")
    assert answer.status_code == 404 and error_code(answer) == "NO_SUCH_RESOURCE"
