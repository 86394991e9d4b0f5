"""The OneUp sandbox over real loopback HTTP: HTTP Basic with the API email and key, money as JSON numbers to the
cent, unique invoice numbers (``user_code``), payments lowering ``unpaid``, offset/limit lists with the next-page
header, "missing fields are ignored" on update, bulk delete, faults in OneUp's error shape, and every request and
answer body checked against our schema in connectors/oneup/spec (OneUp publishes no machine-readable spec and no
maintained Python client exists; the schema is written from the documented facts and marks the rest as guesses)."""
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import requests

from connectors.exactjson import dumps

SPEC = Path(__file__).resolve().parents[3] / "connectors" / "oneup" / "spec" / "oneup-api.schema.json"
SCHEMA = json.loads(SPEC.read_text())


def check(name: str, body) -> None:
    """``body`` is valid against the schema's ``$defs/<name>``."""
    jsonschema.validate(body, {**SCHEMA, "$ref": f"#/$defs/{name}"})


class OneUp:
    """Calls the way developers.oneup.com describes them: JSON over HTTP Basic (API email, API key)."""

    def __init__(self, sb, auth=("sandbox-client", "sandbox-secret")):
        self.sb, self.auth, self.base = sb, auth, sb.api_base

    def call(self, method, path, body=None, params=None, auth=None):
        data = dumps(body) if body is not None else None
        answer = requests.request(method, f"{self.base}/{path}", data=data, params=params, auth=auth or self.auth,
                                  headers={"Content-Type": "application/json"}, timeout=5)
        answer.body = json.loads(answer.content, parse_float=Decimal) if answer.content else None
        return answer

    def ok(self, method, path, body=None, params=None):
        answer = self.call(method, path, body, params)
        assert answer.status_code == 200, answer.text
        return answer.body

    def customer(self, name="Acme"):
        body = {"type": 1, "company_name": name}
        check("customerRequest", body)
        made = self.ok("POST", "customers", body)
        check("customer", made)
        return made["id"]

    def invoice(self, customer, number="INV-1", prices=("100.00",), date="2026-12-01"):
        body = {"customer_id": customer, "user_code": number, "date": date, "due_date": "2026-12-31",
                "order_lines": [{"quantity": 1, "unit_price_wt": Decimal(p), "description": f"L{i}"}
                                for i, p in enumerate(prices)]}
        check("invoiceRequest", body)
        made = self.ok("POST", "invoices", body)
        check("invoice", made)
        return made


@pytest.fixture
def oneup(osandbox):
    return OneUp(osandbox)


def error_code(answer) -> str:
    check("error", answer.body)
    return answer.body["error"]["code"]


def test_calls_need_the_api_email_and_key(oneup):
    answer = oneup.call("GET", "customers", auth=("sandbox-client", "wrong"))
    assert answer.status_code == 401 and error_code(answer) == "001"
    raw = requests.get(f"{oneup.base}/customers", timeout=5)
    assert raw.status_code == 401
    assert oneup.ok("GET", "customers") == []


def test_checking_the_credentials_is_counted(oneup, osandbox):
    before = osandbox.token_calls
    assert len(oneup.ok("GET", "employees", params={"limit": 1})) == 1
    assert osandbox.token_calls == before + 1


def test_money_is_exact_and_more_than_two_decimals_is_refused(oneup):
    customer = oneup.customer()
    made = oneup.invoice(customer, prices=("100.00", "23.45"))
    assert made["total"] == Decimal("123.45") and made["unpaid"] == Decimal("123.45")
    assert made["customer"]["name"] == "Acme" and made["installments"][0]["outstanding_amount"] == made["total"]
    answer = oneup.call("POST", "payments", {"customer_id": customer, "date": "2026-12-02", "amount": "1.234"})
    assert answer.status_code == 400 and error_code(answer) == "002"
    answer = oneup.call("POST", "invoices", {"customer_id": customer, "date": "2026-12-01",
                                             "order_lines": [{"unit_price_wt": "12.00"}]})
    assert answer.status_code == 400 and error_code(answer) == "002"  # a number, not text


def test_a_second_invoice_with_the_same_number_is_a_duplicate(oneup):
    customer = oneup.customer()
    oneup.invoice(customer, "DUP-1")
    answer = oneup.call("POST", "invoices", {"customer_id": customer, "user_code": "DUP-1", "date": "2026-12-01",
                                             "order_lines": [{"unit_price_wt": 1}]})
    assert answer.status_code == 400 and error_code(answer) == "005" and "already exists" in answer.body[
        "error"]["message"]


def test_an_unknown_field_or_account_is_refused(oneup):
    customer = oneup.customer()
    answer = oneup.call("POST", "invoices", {"customer_id": customer, "date": "2026-12-01", "colour": "red",
                                             "order_lines": [{"unit_price_wt": 1}]})
    assert answer.status_code == 400 and error_code(answer) == "002"
    answer = oneup.call("POST", "invoices", {"customer_id": customer, "date": "2026-12-01",
                                             "order_lines": [{"unit_price_wt": 1, "account_id": 99999}]})
    assert answer.status_code == 400 and "account" in answer.body["error"]["message"]


def test_payments_lower_unpaid_and_deleting_gives_it_back(oneup):
    customer = oneup.customer()
    invoice = oneup.invoice(customer, prices=("100.00",))
    body = {"customer_id": customer, "user_code": "P-1", "date": "2026-12-02", "amount": Decimal("40.00"),
            "invoices": [{"invoice_id": invoice["id"], "amount": Decimal("40.00")}]}
    check("paymentRequest", body)
    paid = oneup.ok("POST", "payments", body)
    check("payment", paid)
    after = oneup.ok("GET", f"invoices/{invoice['id']}")
    assert (after["paid"], after["unpaid"], after["invoice_status"]) == (Decimal("40.00"), Decimal("60.00"),
                                                                          "partially_paid")
    too_much = {**body, "user_code": "P-2", "amount": 70, "invoices": [{"invoice_id": invoice["id"], "amount": 70}]}
    assert error_code(oneup.call("POST", "payments", too_much)) == "002"
    refused = oneup.call("DELETE", f"invoices/{invoice['id']}")
    assert refused.status_code == 400  # a payment is applied to it
    oneup.ok("DELETE", f"payments/{paid['id']}")
    assert oneup.ok("GET", f"invoices/{invoice['id']}")["unpaid"] == Decimal("100.00")
    oneup.ok("DELETE", f"invoices/{invoice['id']}")
    gone = oneup.call("GET", f"invoices/{invoice['id']}")
    assert gone.status_code == 404 and error_code(gone) == "003"
    assert gone.body["error"]["message"] == "The resource was not found."


def test_put_leaves_missing_fields_as_they_are(oneup):
    customer = oneup.customer()
    invoice = oneup.invoice(customer, prices=("10.00",))
    edited = oneup.ok("PUT", f"invoices/{invoice['id']}", {"public_note": "Thanks"})
    assert edited["public_note"] == "Thanks" and edited["total"] == Decimal("10.00")
    assert edited["user_code"] == invoice["user_code"]


def test_lists_page_with_offset_limit_sort_and_the_next_page_header(oneup):
    customer = oneup.customer()
    for i in range(4):
        oneup.invoice(customer, f"D-{i}")
    first = oneup.call("GET", "invoices", params={"limit": 3})
    check("invoiceList", first.body)
    assert first.headers["X-OneUp-Has-Next-Page"] == "true"
    rest = oneup.call("GET", "invoices", params={"limit": 3, "offset": 3})
    assert rest.headers["X-OneUp-Has-Next-Page"] == "false"
    assert [r["user_code"] for r in first.body + rest.body] == ["D-0", "D-1", "D-2", "D-3"]
    newest = oneup.ok("GET", "invoices", params={"sort": "-id"})
    assert [r["user_code"] for r in newest] == ["D-3", "D-2", "D-1", "D-0"]
    assert error_code(oneup.call("GET", "invoices", params={"limit": 5000})) == "002"


def test_delete_on_a_collection_deletes_several(oneup):
    ids = [oneup.customer(f"C{i}") for i in range(3)]
    body = [{"id": ids[0]}, {"id": ids[1]}]
    check("bulkDelete", body)
    oneup.ok("DELETE", "customers", body)
    assert [c["id"] for c in oneup.ok("GET", "customers")] == [ids[2]]


def test_faults_answer_in_oneups_error_shape(oneup, osandbox):
    osandbox.faults.add("rate_limit", retry_after="7")
    answer = oneup.call("GET", "customers")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7" and error_code(answer) == "006"
    osandbox.faults.add("http_503")
    answer = oneup.call("GET", "customers")
    assert answer.status_code == 503 and error_code(answer) == "000"


def test_an_unknown_path_is_not_a_gone_record(oneup):
    answer = oneup.call("GET", "estimates")
    assert answer.status_code == 404 and error_code(answer) == "004"
