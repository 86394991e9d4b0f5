"""The FreshBooks sandbox over real loopback HTTP: OAuth with single-use rotating refresh tokens, the identity
endpoint, the account id in the path, the ``response.result`` envelope and error bodies, clients, invoices priced
with per-line taxes, payments and credit payments with balances, vis_state deletes, ``search[...]`` filters and
paging, polling by ``updated_min`` in US Eastern time, faults in FreshBooks' shape, what a bookkeeper does, and the
answers checked against the vendored (partial) OpenAPI copy. The command line and the control endpoints every
sandbox shares are tested once for all in tests/connectors/sandboxkit/test_every_sandbox.py."""
import datetime as dt
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import jsonschema
import pytest
import requests
import yaml

from connectors.documents import ExpenseLineSnapshot, ExpenseSnapshot, Mapping
from connectors.freshbooks import costs
from tests.connectors.sandboxkit.wire import WireClient, inline_schema

SPEC = Path(__file__).resolve().parents[3] / "connectors" / "freshbooks" / "spec" / "freshbooks.yaml"
REDIRECT = "https://host.example/callback"


class FreshBooks(WireClient):
    """Calls the way FreshBooks' docs show them: Bearer token, the account id in the path."""

    def __init__(self, sb, token=None):
        super().__init__(sb, "Bearer", {}, token)

    def path(self, resource, *rest):
        return "/".join(("accounting/account", self.sb.company_id, resource, *map(str, rest)))

    def ok(self, method, resource, *rest, params=None, body=None):
        response = self.call(method, self.path(resource, *rest), params, body)
        assert response.status_code == 200, response.text
        return response.body["response"]["result"]

    def error(self, method, resource, *rest, params=None, body=None, status=422):
        response = self.call(method, self.path(resource, *rest), params, body)
        assert response.status_code == status, response.text
        return response.body["response"]["errors"][0]


@pytest.fixture
def fb(fsandbox):
    return FreshBooks(fsandbox)


def client(fb, name="Acme Ltd"):
    return fb.ok("POST", "users/clients", body={"client": {"organization": name, "email": "a@example.com"}})[
        "client"]["id"]


def invoice(fb, cid, number="INV-100", lines=None, **extra):
    lines = lines or [{"name": "Consulting", "qty": "2", "unit_cost": {"amount": "100.00"}, "taxName1": "GST 10%",
                       "taxAmount1": "10"},
                      {"name": "Travel", "qty": "1", "unit_cost": {"amount": "15.55"}}]
    body = {"invoice": {"customerid": cid, "invoice_number": number, "create_date": "2026-12-01", "lines": lines,
                        **extra}}
    return fb.ok("POST", "invoices/invoices", body=body)["invoice"]


def pay(fb, invoice_id, amount, **extra):
    body = {"payment": {"invoiceid": invoice_id, "amount": {"amount": amount}, "date": "2026-12-02", "type": "Check",
                        **extra}}
    return fb.ok("POST", "payments/payments", body=body)["payment"]


# -- OAuth and identity ------------------------------------------------------------------------------------------
def consent(sb):
    r = requests.get(sb.authorize_url, params={"client_id": "sandbox-client", "redirect_uri": REDIRECT,
                                               "response_type": "code", "state": "xyz"},
                     allow_redirects=False, timeout=5)
    assert r.status_code == 302
    query = parse_qs(urlsplit(r.headers["Location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def test_code_exchange_then_each_refresh_token_works_once(fsandbox):
    form = {"client_id": "sandbox-client", "client_secret": "sandbox-secret", "redirect_uri": REDIRECT}
    first = requests.post(fsandbox.token_url, data={**form, "grant_type": "authorization_code",
                                                    "code": consent(fsandbox)}, timeout=5).json()
    assert first["token_type"] == "Bearer" and first["refresh_token"] and isinstance(first["created_at"], int)
    second = requests.post(fsandbox.token_url, data={**form, "grant_type": "refresh_token",
                                                     "refresh_token": first["refresh_token"]}, timeout=5).json()
    assert second["refresh_token"] != first["refresh_token"]
    again = requests.post(fsandbox.token_url, data={**form, "grant_type": "refresh_token",
                                                    "refresh_token": first["refresh_token"]}, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"  # single use: rotated away
    assert FreshBooks(fsandbox, second["access_token"]).ok("GET", "users/clients")["clients"] == []


def test_a_code_is_refused_for_a_wrong_secret_and_works_once(fsandbox):
    code = consent(fsandbox)
    form = {"client_id": "sandbox-client", "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    wrong = requests.post(fsandbox.token_url, data={**form, "client_secret": "nope"}, timeout=5)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert requests.post(fsandbox.token_url, data={**form, "client_secret": "sandbox-secret"}, timeout=5).ok
    assert requests.post(fsandbox.token_url, data={**form, "client_secret": "sandbox-secret"},
                         timeout=5).json()["error"] == "invalid_grant"


def test_identity_names_the_business_and_its_account_id(fb, fsandbox):
    me = fb.call("GET", "auth/api/v1/users/me").body["response"]
    [membership] = me["business_memberships"]
    assert membership["business"]["account_id"] == fsandbox.company_id
    assert membership["business"]["business_uuid"]


def test_missing_or_expired_token_is_401_unauthenticated(fb, fsandbox):
    r = fb.call("GET", fb.path("users/clients"), token="not-a-token")
    assert r.status_code == 401 and r.body["error"] == "unauthenticated"
    fsandbox.auth.expire_all()
    assert fb.call("GET", fb.path("users/clients")).status_code == 401


def test_another_accounts_path_is_refused(fb):
    r = fb.call("GET", "accounting/account/ZZZZZZ/users/clients")
    assert r.status_code == 403 and r.body["response"]["errors"][0]["errno"] == 1003


# -- documents and balances ------------------------------------------------------------------------------------------
def test_invoice_lines_are_priced_and_taxed_per_line(fb):
    inv = invoice(fb, client(fb))
    assert [li["amount"]["amount"] for li in inv["lines"]] == ["200.00", "15.55"]
    assert inv["amount"] == {"amount": "235.55", "code": "USD"}  # 200 + 20 tax + 15.55
    assert inv["outstanding"]["amount"] == "235.55" and inv["payment_status"] == "unpaid"
    assert inv["invoiceid"] == inv["id"] and inv["vis_state"] == 0
    read = fb.ok("GET", "invoices/invoices", inv["id"])["invoice"]
    assert read["amount"] == inv["amount"] and read["updated"]


def test_a_repeated_invoice_number_is_refused_until_the_first_is_deleted(fb):
    cid = client(fb)
    first = invoice(fb, cid, "INV-7")
    error = fb.error("POST", "invoices/invoices", body={"invoice": {"customerid": cid, "invoice_number": "inv-7",
                                                                    "lines": [{"name": "x", "qty": "1"}]}})
    assert "already exists" in error["message"] and error["field"] == "invoice_number"
    fb.ok("PUT", "invoices/invoices", first["id"], body={"invoice": {"vis_state": 1}})
    assert invoice(fb, cid, "INV-7")["invoice_number"] == "INV-7"


def test_unknown_client_and_record_answers(fb):
    error = fb.error("POST", "invoices/invoices", body={"invoice": {"customerid": 999, "lines": [{"name": "x"}]}})
    assert error["errno"] == 1012 and error["message"] == "Client not found."
    missing = fb.error("GET", "invoices/invoices", 999999, status=404)
    assert missing["errno"] == 1012 and "not found" in missing["message"]
    assert fb.error("POST", "invoices/invoices", body={"invoice": {"customerid": client(fb)}})["field"] == "lines"


def test_payments_settle_the_invoice_and_a_deleted_one_gives_it_back(fb):
    inv = invoice(fb, client(fb), lines=[{"name": "Visit", "qty": "1", "unit_cost": {"amount": "100.00"}}])
    first = pay(fb, inv["id"], "40.00", note="P-1")
    assert first["clientid"] == inv["customerid"] and first["amount"] == {"amount": "40.00", "code": "USD"}
    read = fb.ok("GET", "invoices/invoices", inv["id"])["invoice"]
    assert read["outstanding"]["amount"] == "60.00" and read["payment_status"] == "partial"
    too_much = fb.error("POST", "payments/payments",
                        body={"payment": {"invoiceid": inv["id"], "amount": {"amount": "60.01"}}})
    assert "exceeds" in too_much["message"]
    pay(fb, inv["id"], "60.00")
    assert fb.ok("GET", "invoices/invoices", inv["id"])["invoice"]["payment_status"] == "paid"
    refused = fb.error("PUT", "invoices/invoices", inv["id"], body={"invoice": {"vis_state": 1}})
    assert "payments" in refused["message"]
    fb.ok("PUT", "payments/payments", first["id"], body={"payment": {"vis_state": 1}})
    assert fb.ok("GET", "invoices/invoices", inv["id"])["invoice"]["outstanding"]["amount"] == "40.00"
    assert [p["id"] for p in fb.ok("GET", "payments/payments")["payments"]] != [first["id"]]
    deleted = fb.ok("GET", "payments/payments", params={"search[vis_state]": "1"})["payments"]
    assert [p["id"] for p in deleted] == [first["id"]] and deleted[0]["vis_state"] == 1


def test_credit_note_is_applied_as_a_credit_payment_within_its_amount(fb):
    cid = client(fb)
    inv = invoice(fb, cid, lines=[{"name": "Visit", "qty": "1", "unit_cost": {"amount": "100.00"}}])
    note = fb.ok("POST", "credit_notes/credit_notes", body={"credit_note": {
        "clientid": cid, "credit_number": "CN-1", "lines": [{"name": "Refund", "qty": "1",
                                                            "unit_cost": {"amount": "30.00"}}]}})["credit_note"]
    assert note["creditid"] == note["id"] and note["amount"]["amount"] == "30.00"
    over = fb.error("POST", "payments/payments", body={"payment": {
        "invoiceid": inv["id"], "amount": {"amount": "30.01"}, "type": "Credit", "creditid": note["id"]}})
    assert "credit" in over["message"]
    applied = pay(fb, inv["id"], "30.00", type="Credit", creditid=note["id"])
    assert applied["from_credit"] is True
    assert fb.ok("GET", "invoices/invoices", inv["id"])["invoice"]["outstanding"]["amount"] == "70.00"
    assert "credit" in fb.error("PUT", "credit_notes/credit_notes", note["id"],
                                body={"credit_note": {"vis_state": 1}})["message"]


# -- lists ------------------------------------------------------------------------------------------------------------
def test_search_filters_and_paging(fb):
    for n in range(23):
        client(fb, f"Client {n:02d}")
    page = fb.ok("GET", "users/clients")
    assert (page["page"], page["pages"], page["per_page"], page["total"]) == (1, 2, 15, 23)
    second = fb.ok("GET", "users/clients", params={"page": 2, "per_page": 15})
    assert len(second["clients"]) == 8
    assert fb.ok("GET", "users/clients", params={"per_page": 500})["per_page"] == 100
    like = fb.ok("GET", "users/clients", params={"search[organization_like]": "client 1"})["clients"]
    assert sorted(c["organization"] for c in like) == [f"Client {n}" for n in range(10, 20)]
    assert fb.error("GET", "users/clients", params={"search[nope]": "x"})["field"] == "search[nope]"


def test_updated_min_is_in_us_eastern_time_to_the_second(fb, fsandbox):
    cid = client(fb)
    inv = invoice(fb, cid)
    eastern = dt.datetime.strptime(inv["updated"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("America/New_York"))
    assert abs(eastern.timestamp() - fsandbox.clock()) < 2
    found = fb.ok("GET", "invoices/invoices", params={"search[updated_min]": inv["updated"]})["invoices"]
    assert [i["id"] for i in found] == [inv["id"]]
    later = (eastern + dt.timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
    assert fb.ok("GET", "invoices/invoices", params={"search[updated_min]": later})["invoices"] == []


# -- limits, faults, bookkeeper ----------------------------------------------------------------------------------
def test_rate_limit_and_faults_in_freshbooks_shape(fb, fsandbox):
    fsandbox.faults.add("rate_limit", retry_after=7)
    r = fb.call("GET", fb.path("users/clients"))
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    fsandbox.faults.add("http_500")
    r = fb.call("GET", fb.path("users/clients"))
    assert r.status_code == 500 and r.body["response"]["errors"][0]["message"]
    fsandbox.settings({"limits": {"minute": [1, 60]}})
    assert fb.call("GET", fb.path("users/clients")).status_code == 200
    assert fb.call("GET", fb.path("users/clients")).status_code == 429
    fsandbox.clock.advance(61)
    assert fb.call("GET", fb.path("users/clients")).status_code == 200


def test_what_a_bookkeeper_does(fb, fsandbox):
    inv = invoice(fb, client(fb))
    edited = fsandbox.act_as_user("edit_invoice_line", invoice_id=str(inv["id"]), line=1, amount="20.00")
    assert edited["amount"]["amount"] == "240.00"
    paid = fsandbox.act_as_user("record_payment", invoice_id=str(inv["id"]), amount="40.00", reference="CHK-1")
    assert paid["note"] == "CHK-1" and paid["type"] == "Check"
    fsandbox.act_as_user("delete_payment", payment_id=str(paid["id"]))
    assert fsandbox.act_as_user("delete_invoice", invoice_id=str(inv["id"]))["vis_state"] == 1
    accounts = fb.call("GET", f"accounting/businesses/{fsandbox.extra_state()['business_uuid']}/ledger_accounts/"
                              "accounts").body["data"]
    discounts = next(a for a in accounts if a["name"] == "Discounts")
    fsandbox.act_as_user("archive_account", account_id=str(discounts["id"]))
    accounts = fb.call("GET", f"accounting/businesses/{fsandbox.extra_state()['business_uuid']}/ledger_accounts/"
                              "accounts").body["data"]
    assert next(a for a in accounts if a["name"] == "Discounts")["active"] is False


# -- the vendored OpenAPI copy ----------------------------------------------------------------------------------------
def spec_fix(schema: dict) -> None:
    """Where the generated copy and FreshBooks' documentation disagree, the documentation wins: money and
    percentages are decimal strings (``qty`` "2", a tax's ``amount`` "10"), and fields the API answers as null
    (``date_paid`` before payment, ``creditid`` of a plain payment) are typed without null in the copy."""
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type")
        if name in ("qty", "amount") and kind in ("integer", "number"):
            prop["type"] = "string"
        elif isinstance(kind, str) and kind != "object":
            prop["type"] = [kind, "null"]


def spec_schema(name: str) -> dict:
    if not SPEC.is_file():
        pytest.fail(f"the vendored FreshBooks OpenAPI copy is missing: {SPEC}")
    assert (SPEC.parent / "LICENSE-ballerina-openapi-connectors.txt").is_file(), "the spec's licence is missing"
    return inline_schema(yaml.safe_load(SPEC.read_text()), f"#/components/schemas/{name}", spec_fix)


def test_answers_match_the_vendored_spec(fb):
    cid = client(fb)
    inv = invoice(fb, cid)
    payment = pay(fb, inv["id"], "10.00")
    checks = [("InvoiceObjectResponse", ("GET", "invoices/invoices", inv["id"])),
              ("InvoiceListResponse", ("GET", "invoices/invoices")),
              ("ClientObjectResponse", ("GET", "users/clients", cid)),
              ("ClientListResponse", ("GET", "users/clients")),
              ("PaymemtObjectResponse", ("GET", "payments/payments", payment["id"])),
              ("PaymemtListResponse", ("GET", "payments/payments")),
              ("TaxListResponse", ("GET", "taxes/taxes"))]
    for name, (method, resource, *rest) in checks:
        body = fb.call(method, fb.path(resource, *rest)).body
        jsonschema.validate(body, spec_schema(name))
    answer = fb.call("GET", fb.path("invoices/invoices", inv["id"])).body["response"]["result"]["invoice"]
    assert set(spec_schema("Invoice")["properties"]) >= {"invoiceid", "customerid", "amount", "outstanding",
                                                        "lines", "vis_state"} and answer["lines"]


def test_our_request_bodies_match_the_vendored_spec(fb):
    """What the connector sends for an invoice and a payment is what the copy describes (types, names)."""
    from connectors.freshbooks import translate as t
    from tests.connectors.contract import invoice as make_invoice, payment as make_payment
    from connectors.documents import Mapping

    doc = make_invoice("c", "INV-9", ("12.50", "7.25"))
    body = t.invoice_payload(doc, "42", t.lines_payload(doc, {}, Mapping()))
    jsonschema.validate({"invoice": body}, spec_schema("InvoiceCreateObject"))
    paid = t.payment_payload(make_payment("c", "P-1", "i", "12.50"), "7")
    jsonschema.validate({"payment": paid}, spec_schema("PaymemtCreateObject"))
    assert body["lines"][0]["unit_cost"] == {"amount": "12.50", "code": "USD"} and paid["invoiceid"] == 7


def test_expenses_and_categories_match_the_vendored_spec(fb):
    """The sandbox's expense and category answers, and the connector's expense body, are what the copy describes."""
    categories = fb.ok("GET", "expenses/categories")["categories"]
    jsonschema.validate(fb.call("GET", fb.path("expenses/categories")).body, spec_schema("ExpenseCategoryListResponse"))
    line = ExpenseLineSnapshot(cost_kind="supplier", description="Paper", net_amount=Decimal("20.00"),
                               tax_amount=Decimal("2.00"), tax_rate_key="gst")
    doc = ExpenseSnapshot(key="t.expense:1", organization_id=1, number="EXP-9", payee="Paper Co",
                          date=dt.date(2026, 3, 2), lines=(line,), total=Decimal("22.00"))
    mapping = Mapping(line_accounts=(costs.category_account(categories[0]["categoryid"]),), tax_codes={"gst": "1"})
    body = costs.expense_payload(doc, mapping, {"1": ("GST 10%", Decimal("10"))})
    jsonschema.validate({"expense": body}, spec_schema("ExpenseCreateObject"))
    assert set(spec_schema("ExpenseCreate")["required"]) <= set(body)
    made = fb.ok("POST", "expenses/expenses", body={"expense": body})["expense"]
    for name, resource in (("ExpenseObjectResponse", ("expenses/expenses", made["expenseid"])),
                           ("ExpenseListResponse", ("expenses/expenses",))):
        jsonschema.validate(fb.call("GET", fb.path(*resource)).body, spec_schema(name))
    assert (made["amount"], made["taxAmount1"]) == ({"amount": "22.00", "code": "USD"},
                                                    {"amount": "2.00", "code": "USD"})
    assert fb.ok("GET", "expenses/expenses", params={"search[date_min]": "2026-03-02",
                                                     "search[date_max]": "2026-03-02"})["total"] == 1
    assert fb.ok("GET", "expenses/expenses", params={"search[date_min]": "2026-03-03"})["total"] == 0
    fb.error("POST", "expenses/categories", body={"category": {"category": "Mine"}}, status=405)
