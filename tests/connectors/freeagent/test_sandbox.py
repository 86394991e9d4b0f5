"""The FreeAgent sandbox over real loopback HTTP: OAuth, error bodies, contacts and price list items, invoices and
credit notes with their transitions, bank transaction explanations paying invoices, credit note reconciliations,
paging with the Link header and updated_since, the per-user limits, faults in FreeAgent's shape, what a bookkeeper
does, and every answer (and the bodies our connector sends) checked against the vendored schema transcribed from
FreeAgent's documentation. The control endpoints every sandbox shares are tested in
tests/connectors/sandboxkit/test_every_sandbox.py."""
import json
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import requests

from connectors.freeagent.sandbox.server import fa_time
from tests.connectors.sandboxkit.wire import WireClient

SPEC = Path(__file__).resolve().parents[3] / "connectors" / "freeagent" / "spec" / "freeagent-v2.schema.json"


class FA(WireClient):
    """Calls the way FreeAgent's docs show them: ``Authorization: Bearer``, bodies wrapped in the record's name."""

    def __init__(self, sb, token=None):
        super().__init__(sb, "Bearer", {}, token)

    def ok(self, method, path, params=None, body=None):
        response = self.call(method, path, params, body)
        assert response.status_code in (200, 201), response.text
        return response.body

    def refused(self, method, path, status, pattern, params=None, body=None, token=None):
        response = self.call(method, path, params, body, token=token)
        assert response.status_code == status, response.text
        validate(response.body, "errors")
        assert re.search(pattern, response.body["errors"][0]["message"]), response.body
        return response


def schema():
    assert SPEC.is_file(), "the vendored schema is missing"
    return json.loads(SPEC.read_text())


def validate(body, name):
    spec = schema()
    jsonschema.validate(body, {**spec, "$ref": f"#/$defs/{name}"})


@pytest.fixture
def fa(fsandbox):
    return FA(fsandbox)


def contact(fa, name="Acme Ltd"):
    return fa.ok("POST", "contacts", body={"contact": {"organisation_name": name}})["contact"]


def invoice(fa, who, reference="INV-100", items=None, sent=True, **extra):
    items = items or [{"item_type": "Hours", "quantity": "2", "price": "100.00", "description": "Consulting",
                       "sales_tax_rate": "10.0", "category": f"{fa.sb.api_base}/categories/001"},
                      {"item_type": "Products", "quantity": "1", "price": "15.55", "description": "Travel",
                       "sales_tax_status": "EXEMPT"}]
    body = {"contact": who["url"], "reference": reference, "dated_on": "2026-01-10", "payment_terms_in_days": 30,
            "invoice_items": items, **extra}
    made = fa.ok("POST", "invoices", body={"invoice": body})["invoice"]
    if sent:
        fa.ok("PUT", f"invoices/{made['url'].rsplit('/', 1)[1]}/transitions/mark_as_sent")
    return fa.ok("GET", f"invoices/{made['url'].rsplit('/', 1)[1]}")["invoice"]


def rid(record):
    return record["url"].rsplit("/", 1)[1]


def pay(fa, inv, amount, **extra):
    body = {"bank_account": f"{fa.sb.api_base}/bank_accounts/1", "dated_on": "2026-01-12", "gross_value": amount,
            "paid_invoice": inv["url"], **extra}
    return fa.call("POST", "bank_transaction_explanations", body={"bank_transaction_explanation": body})


# -- OAuth -----------------------------------------------------------------------------------------------------------
def test_consent_code_exchange_and_refresh(fsandbox):
    consent = requests.get(fsandbox.authorize_url, params={"client_id": fsandbox.client_id, "response_type": "code",
                                                           "redirect_uri": "https://app.example/cb", "state": "s1"},
                           allow_redirects=False, timeout=5)
    assert consent.status_code == 302 and urlsplit(fsandbox.authorize_url).path == "/v2/approve_app"
    query = parse_qs(urlsplit(consent.headers["Location"]).query)
    assert query["state"] == ["s1"]
    auth = (fsandbox.client_id, "sandbox-secret")
    tokens = requests.post(fsandbox.token_url, auth=auth, timeout=5, data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": "https://app.example/cb"})
    assert tokens.status_code == 200 and urlsplit(fsandbox.token_url).path == "/v2/token_endpoint"
    validate(tokens.json(), "token")
    again = requests.post(fsandbox.token_url, auth=auth, timeout=5, data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": "https://app.example/cb"})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"  # a code is good once
    fresh = requests.post(fsandbox.token_url, auth=auth, timeout=5,
                          data={"grant_type": "refresh_token", "refresh_token": tokens.json()["refresh_token"]})
    assert fresh.status_code == 200 and fresh.json()["access_token"] != tokens.json()["access_token"]
    assert FA(fsandbox, fresh.json()["access_token"]).ok("GET", "company")["company"]["id"] == 1


def test_token_required_and_expires(fa, fsandbox):
    fa.refused("GET", "contacts", 401, "Access token", token="not-a-token")
    assert fa.call("GET", "contacts").status_code == 200
    fsandbox.clock.advance(3601)  # FreeAgent's access tokens last an hour
    fa.refused("GET", "contacts", 401, "Access token")


# -- reference data ----------------------------------------------------------------------------------------------------
def test_company_user_categories_bank_accounts_and_sales_tax(fa):
    validate(fa.ok("GET", "company")["company"], "company")
    validate(fa.ok("GET", "users/me")["user"], "user")
    categories = fa.ok("GET", "categories")
    validate(categories, "categories")
    assert {c["description"] for c in categories["income_categories"]} >= {"Sales", "Consultancy Income",
                                                                          "Discounts Given"}
    assert fa.ok("GET", "categories/001")["category"]["description"] == "Sales"
    [account, *_] = fa.ok("GET", "bank_accounts")["bank_accounts"]
    validate(account, "bank_account")
    assert account["name"] == "Business Current Account" and account["status"] == "active"
    assert "nominal_code" not in account  # FreeAgent's bank accounts have none (its attribute table)
    [period] = fa.ok("GET", "sales_tax_periods")["sales_tax_periods"]
    validate(period, "sales_tax_period")
    assert period["sales_tax_name"] == "GST" and Decimal(period["sales_tax_rate_1"]) == Decimal("10")


def test_contacts_and_price_list_items(fa):
    fa.refused("POST", "contacts", 422, "Organisation name", body={"contact": {"email": "x@example.com"}})
    fa.refused("POST", "contacts", 400, "param is missing", body={"organisation_name": "unwrapped"})
    made = contact(fa)
    validate(made, "contact")
    assert made["status"] == "Active"
    renamed = fa.ok("PUT", f"contacts/{rid(made)}", body={"contact": {"organisation_name": "Acme Group"}})["contact"]
    assert renamed["organisation_name"] == "Acme Group" and renamed["updated_at"] >= made["updated_at"]
    item = {"code": "VAC-1", "quantity": "1", "item_type": "Services", "description": "Vaccine", "price": "25.00"}
    created = fa.ok("POST", "price_list_items", body={"price_list_item": item})["price_list_item"]
    validate(created, "price_list_item")
    fa.refused("POST", "price_list_items", 422, "Code has already been taken", body={"price_list_item": item})
    fa.refused("POST", "price_list_items", 422, "Item type", body={"price_list_item": {**item, "code": "B",
                                                                                       "item_type": "Widgets"}})


# -- invoices and credit notes -----------------------------------------------------------------------------------------
def test_invoice_totals_transitions_and_reference_taken(fa):
    who = contact(fa)
    draft = invoice(fa, who, sent=False)
    validate(draft, "invoice")
    assert draft["status"] == "Draft" and draft["due_on"] == "2026-02-09"
    # 2 x 100.00 at 10% and 15.55 exempt: tax per line, to the cent
    assert (Decimal(draft["net_value"]), Decimal(draft["sales_tax_value"]), Decimal(draft["total_value"])) == (
        Decimal("215.55"), Decimal("20.00"), Decimal("235.55"))
    fa.refused("POST", "invoices", 422, "Reference has already been taken",
               body={"invoice": {"contact": who["url"], "reference": "INV-100", "dated_on": "2026-01-10",
                                 "payment_terms_in_days": 0, "invoice_items": [{"item_type": "Hours",
                                                                                "quantity": "1", "price": "1"}]}})
    note = {"contact": who["url"], "reference": "INV-100", "dated_on": "2026-01-10", "payment_terms_in_days": 0,
            "credit_note_items": [{"item_type": "Services", "quantity": "1", "price": "-5.00"}]}
    fa.refused("POST", "credit_notes", 422, "already been taken", body={"credit_note": note})  # one sequence
    fa.ok("PUT", f"invoices/{rid(draft)}/transitions/mark_as_sent")
    assert fa.ok("GET", f"invoices/{rid(draft)}")["invoice"]["status"] in ("Open", "Overdue")
    first, second = draft["invoice_items"]
    edit = {"invoice": {"invoice_items": [{"url": first["url"], "price": "120.00"},
                                          {"url": second["url"], "_destroy": True}]}}
    locked = fa.refused("PUT", f"invoices/{rid(draft)}", 422, "invoice_items.price is locked", body=edit)
    assert locked.body["errors"][-1]["message"] == "invoice_items contain errors"  # a sent invoice's items
    same = {"invoice": {"invoice_items": [{"url": first["url"], "price": "100.0", "category": f"{fa.sb.api_base}"
                                                                                          "/categories/002"}]}}
    assert fa.ok("PUT", f"invoices/{rid(draft)}", body=same)["invoice"]["invoice_items"][0]["category"].endswith(
        "/categories/002")  # the category may change, and an unchanged value is no change
    fa.ok("PUT", f"invoices/{rid(draft)}/transitions/mark_as_draft")
    edited = fa.ok("PUT", f"invoices/{rid(draft)}", body=edit)["invoice"]
    fa.ok("PUT", f"invoices/{rid(draft)}/transitions/mark_as_sent")
    assert [i["description"] for i in edited["invoice_items"]] == ["Consulting"]
    assert Decimal(edited["total_value"]) == Decimal("264.00")
    fa.ok("PUT", f"invoices/{rid(draft)}/transitions/mark_as_cancelled")
    cancelled = fa.ok("GET", f"invoices/{rid(draft)}")["invoice"]
    assert cancelled["status"] == "Cancelled"
    fa.refused("PUT", f"invoices/{rid(draft)}", 422, "Cancelled", body={"invoice": {"comments": "late edit"}})


def test_invoice_validation_errors(fa):
    who = contact(fa)
    base = {"contact": who["url"], "dated_on": "2026-01-10", "payment_terms_in_days": 30}
    fa.refused("POST", "invoices", 400, "Invalid nominal code", body={"invoice": {**base, "invoice_items": [
        {"item_type": "Hours", "quantity": "1", "price": "10", "category": f"{fa.sb.api_base}/categories/99999"}]}})
    fa.refused("POST", "invoices", 422, "Contact not found", body={"invoice": {
        **base, "contact": f"{fa.sb.api_base}/contacts/999", "invoice_items": [
            {"item_type": "Hours", "quantity": "1", "price": "10"}]}})
    fa.refused("POST", "invoices", 422, "can't be blank", body={"invoice": {**base, "invoice_items": []}})
    fa.refused("GET", "invoices/424242", 404, "not found")
    auto = fa.ok("POST", "invoices", body={"invoice": {**base, "invoice_items": [
        {"item_type": "Hours", "quantity": "1", "price": "10"}]}})["invoice"]
    assert auto["reference"] == "001"  # no reference: the next of the company's sequence


def test_bank_transaction_explanations_pay_invoices(fa, fsandbox):
    who = contact(fa)
    draft = invoice(fa, who, "INV-D", sent=False)
    assert pay(fa, draft, "10.00").status_code == 422  # a draft takes no payment
    inv = invoice(fa, who, "INV-P")
    assert pay(fa, inv, "300.00").status_code == 422  # more than is due
    assert pay(fa, inv, "35.55", sales_tax_rate="20").status_code == 422  # receipts carry no sales tax
    paid = pay(fa, inv, "35.55", description="PAY-1")
    assert paid.status_code == 201, paid.text
    explanation = paid.body["bank_transaction_explanation"]
    validate(explanation, "bank_transaction_explanation")
    assert explanation["type"] == "Invoice Receipt" and explanation["description"] == "PAY-1"
    after = fa.ok("GET", f"invoices/{rid(inv)}")["invoice"]
    assert (Decimal(after["paid_value"]), Decimal(after["due_value"])) == (Decimal("35.55"), Decimal("200.00"))
    fa.refused("GET", "bank_transaction_explanations", 422, "Bank account")  # listed per bank account only
    listed = fa.ok("GET", "bank_transaction_explanations",
                   {"bank_account": f"{fa.sb.api_base}/bank_accounts/1"})["bank_transaction_explanations"]
    assert [rid(e) for e in listed] == [rid(explanation)]
    assert pay(fa, inv, "200.00").status_code == 201
    assert fa.ok("GET", f"invoices/{rid(inv)}")["invoice"]["status"] == "Paid"
    fa.refused("DELETE", f"invoices/{rid(inv)}", 422, "payments")
    fa.ok("DELETE", f"bank_transaction_explanations/{rid(explanation)}")
    assert Decimal(fa.ok("GET", f"invoices/{rid(inv)}")["invoice"]["due_value"]) == Decimal("35.55")
    # a transaction from the bank feed, explained as the rest of the payment
    fed = fsandbox.act_as_user("bank_feed", amount="35.55", description="FPS ACME")
    unexplained = fa.ok("GET", "bank_transactions", {"bank_account": f"{fa.sb.api_base}/bank_accounts/1",
                                                     "view": "unexplained"})["bank_transactions"]
    assert [t["url"] for t in unexplained] == [fed["url"]]
    body = {"bank_transaction": fed["url"], "dated_on": "2026-01-13", "gross_value": "35.55",
            "paid_invoice": inv["url"]}
    fa.ok("POST", "bank_transaction_explanations", body={"bank_transaction_explanation": body})
    assert fa.ok("GET", f"bank_transactions/{rid(fed)}")["bank_transaction"]["unexplained_amount"] == "0.00"
    assert fa.ok("GET", f"invoices/{rid(inv)}")["invoice"]["status"] == "Paid"


def test_credit_note_reconciled_with_an_invoice(fa):
    who = contact(fa)
    inv = invoice(fa, who, "INV-C", items=[{"item_type": "Services", "quantity": "1", "price": "100.00"}])
    note_body = {"contact": who["url"], "reference": "CN-1", "dated_on": "2026-01-11", "payment_terms_in_days": 0,
                 "credit_note_items": [{"item_type": "Services", "quantity": "1", "price": "30.00"}]}
    fa.refused("POST", "credit_notes", 422, "negative", body={"credit_note": note_body})
    note_body["credit_note_items"][0]["price"] = "-30.00"
    note = fa.ok("POST", "credit_notes", body={"credit_note": note_body})["credit_note"]
    validate(note, "credit_note")
    assert Decimal(note["total_value"]) == Decimal("-30.00") and note["status"] == "Draft"
    link = {"credit_note_reconciliation": {"credit_note": note["url"], "invoice": inv["url"], "gross_value": "20"}}
    fa.refused("POST", "credit_note_reconciliations", 422, "must be sent", body=link)
    fa.ok("PUT", f"credit_notes/{rid(note)}/transitions/mark_as_sent")
    made = fa.ok("POST", "credit_note_reconciliations", body=link)["credit_note_reconciliation"]
    validate(made, "credit_note_reconciliation")
    assert Decimal(fa.ok("GET", f"invoices/{rid(inv)}")["invoice"]["due_value"]) == Decimal("80.00")
    assert Decimal(fa.ok("GET", f"credit_notes/{rid(note)}")["credit_note"]["due_value"]) == Decimal("-10.00")
    too_much = {"credit_note_reconciliation": {**link["credit_note_reconciliation"], "gross_value": "11"}}
    fa.refused("POST", "credit_note_reconciliations", 422, "more than", body=too_much)
    fa.refused("DELETE", f"credit_notes/{rid(note)}", 422, "reconciled")
    fa.ok("DELETE", f"credit_note_reconciliations/{rid(made)}")
    fa.ok("DELETE", f"credit_notes/{rid(note)}")
    assert Decimal(fa.ok("GET", f"invoices/{rid(inv)}")["invoice"]["due_value"]) == Decimal("100.00")


# -- lists -------------------------------------------------------------------------------------------------------------
def test_paging_with_link_header_and_updated_since(fa, fsandbox):
    who = contact(fa)
    made = [invoice(fa, who, f"P-{n}", sent=False) for n in range(5)]
    first = fa.call("GET", "invoices", {"per_page": 2})
    assert [rid(i) for i in first.body["invoices"]] == [rid(m) for m in made[:2]]
    assert 'rel="next"' in first.headers["Link"] and first.headers["X-Total-Count"] == "5"
    assert "invoice_items" not in first.body["invoices"][0]  # lists leave items out unless asked
    nested = fa.ok("GET", "invoices", {"per_page": 1, "nested_invoice_items": "true"})["invoices"][0]
    assert len(nested["invoice_items"]) == 2
    last = fa.call("GET", "invoices", {"per_page": 2, "page": 3})
    assert len(last.body["invoices"]) == 1 and 'rel="next"' not in last.headers["Link"]
    assert fa.ok("GET", "invoices", {"per_page": 500})["invoices"].__len__() == 5  # per_page is capped at 100
    fsandbox.clock.advance(10)
    cursor = fa_time(fsandbox.clock())
    fsandbox.clock.advance(10)
    fa.ok("PUT", f"invoices/{rid(made[3])}", body={"invoice": {"comments": "changed"}})
    changed = fa.ok("GET", "invoices", {"updated_since": cursor, "view": "all"})["invoices"]
    assert [rid(i) for i in changed] == [rid(made[3])]
    assert [rid(i) for i in fa.ok("GET", "invoices", {"view": "draft", "contact": who["url"]})["invoices"]] == [
        rid(m) for m in made]
    assert fa.call("GET", "invoices", {"view": "bogus"}).status_code == 400
    assert fa.call("GET", "invoices", {"sort": "bogus"}).status_code == 400


# -- limits and faults -------------------------------------------------------------------------------------------------
def test_per_user_limits_with_retry_after(fa, fsandbox):
    fsandbox.settings({"limits": {"minute": [3, 60]}})
    for _ in range(3):
        assert fa.call("GET", "company").status_code == 200
    limited = fa.refused("GET", "company", 429, "must not exceed 3 requests per 60 seconds")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    fsandbox.clock.advance(61)
    assert fa.call("GET", "company").status_code == 200
    fsandbox.settings({"limits_restore": True})
    test_headers = {"X-RateLimit-Test": "true", "Authorization": f"Bearer {fa.token}"}
    answers = [requests.get(f"{fsandbox.api_base}/company", headers=test_headers, timeout=5).status_code
               for _ in range(6)]
    assert answers == [200] * 5 + [429]  # FreeAgent's test header lowers the limit to 5 a minute


def test_faults_in_freeagents_shape(fa, fsandbox):
    fsandbox.faults.add("rate_limit", retry_after="42")
    limited = fa.call("GET", "company")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "42"
    validate(limited.body, "errors")
    fsandbox.faults.add("http_503")
    unavailable = requests.get(f"{fsandbox.api_base}/company", headers={"Authorization": f"Bearer {fa.token}"},
                               timeout=5)
    assert unavailable.status_code == 503 and unavailable.headers["Content-Type"].startswith("text/html")
    fsandbox.faults.add("http_500")
    broken = fa.call("GET", "company")
    assert broken.status_code == 500 and broken.body["errors"][0]["message"]


# -- what a bookkeeper does --------------------------------------------------------------------------------------------
def test_act_as_user(fa, fsandbox):
    who = contact(fa)
    inv = invoice(fa, who, "INV-U", items=[{"item_type": "Services", "quantity": "2", "price": "50.00"}])
    receipt = fsandbox.act_as_user("record_payment", invoice_id=rid(inv), amount="60.00", reference="CHK-1")
    assert receipt["description"] == "CHK-1" and receipt["paid_invoice"] == inv["url"]
    assert Decimal(fa.ok("GET", f"invoices/{rid(inv)}")["invoice"]["due_value"]) == Decimal("40.00")
    fsandbox.act_as_user("delete_payment", payment_id=rid(receipt))
    edited = fsandbox.act_as_user("edit_invoice_line", invoice_id=rid(inv), line=0, amount="150.00")
    assert Decimal(edited["total_value"]) == Decimal("150.00") and Decimal(edited["invoice_items"][0]["quantity"]) == 2
    fsandbox.act_as_user("void_invoice", invoice_id=rid(inv))
    assert fa.ok("GET", f"invoices/{rid(inv)}")["invoice"]["status"] == "Cancelled"
    other = invoice(fa, who, "INV-V")
    fsandbox.act_as_user("delete_invoice", invoice_id=rid(other))
    fa.refused("GET", f"invoices/{rid(other)}", 404, "not found")
    fsandbox.act_as_user("archive_account", account_id="005")
    assert "005" not in {c["nominal_code"] for c in fa.ok("GET", "categories")["income_categories"]}


# -- what our connector sends, against the schema --------------------------------------------------------------
def test_connector_request_bodies_match_the_schema(fsandbox):
    from connectors.documents import Allocation, Mapping
    from connectors.freeagent import translate as t
    from tests.connectors.contract import credit_note, customer, invoice as our_invoice, item, payment

    base = fsandbox.api_base
    who = customer()
    refs = {who.key: "1"}
    inv = our_invoice(who.key, "INV-9", ("100.00", "20.00"))
    refs[inv.key] = "7"
    mapping = Mapping(line_accounts=("001", "002"), item_account="001", deposit_account="bank_accounts/1", refs=refs,
                      tax_codes={})
    validate(t.contact_payload(who), "contact_request")
    validate(json.loads(json.dumps(t.item_payload(item(), mapping, base), default=str)), "price_list_item_request")
    for doc in (inv, credit_note(who.key, "CN-9", applied=(Allocation(inv.key, Decimal("5")),))):
        body = json.loads(json.dumps(t.sales_payload(doc, mapping, base), default=str))
        validate(body, "sales_document_request")
    explanation = t.explanation_payload(payment(who.key, "PAY-9", inv.key), mapping, base, f"{base}/bank_accounts/1")
    validate(json.loads(json.dumps(explanation, default=str)), "bank_transaction_explanation_request")
    link = t.reconciliation_payload(f"{base}/credit_notes/3", f"{base}/invoices/7", Decimal("5"), None)
    validate(json.loads(json.dumps(link, default=str)), "credit_note_reconciliation_request")


# -- refunds, categorised payments, journal sets (issue 23) ----------------------------------------------------------
def sent_note(fa, who, reference="CN-R", price="-120.00"):
    body = {"contact": who["url"], "reference": reference, "dated_on": "2026-01-11", "payment_terms_in_days": 0,
            "credit_note_items": [{"item_type": "Products", "quantity": "1", "price": price}]}
    note = fa.ok("POST", "credit_notes", body={"credit_note": body})["credit_note"]
    fa.ok("PUT", f"credit_notes/{rid(note)}/transitions/mark_as_sent")
    return note


def explain(fa, **body):
    return fa.call("POST", "bank_transaction_explanations",
                   body={"bank_transaction_explanation": {"bank_account": f"{fa.sb.api_base}/bank_accounts/1",
                                                          "dated_on": "2026-01-12", **body}})


def test_a_credit_note_refund_pays_the_credit_note_back(fa):
    who = contact(fa)
    note = sent_note(fa, who)
    assert explain(fa, gross_value="50.00", paid_invoice=note["url"]).status_code == 422  # money out only
    assert explain(fa, gross_value="-120.01", paid_invoice=note["url"]).status_code == 422  # more than is left
    made = explain(fa, gross_value="-100.00", paid_invoice=note["url"], description="R-1")
    assert made.status_code == 201, made.text
    refund = made.body["bank_transaction_explanation"]
    validate(refund, "bank_transaction_explanation")
    assert refund["type"] == "Credit Note Refund" and refund["paid_invoice"] == note["url"]
    after = fa.ok("GET", f"credit_notes/{rid(note)}")["credit_note"]
    assert Decimal(after["due_value"]) == Decimal("-20.00") and after["status"] in ("Open", "Overdue")
    fa.ok("PUT", f"bank_transaction_explanations/{rid(refund)}",
          body={"bank_transaction_explanation": {"gross_value": "-120.00"}})
    assert fa.ok("GET", f"credit_notes/{rid(note)}")["credit_note"]["status"] == "Refunded"
    fa.refused("DELETE", f"credit_notes/{rid(note)}", 422, "cannot be deleted")
    fa.ok("DELETE", f"bank_transaction_explanations/{rid(refund)}")
    assert Decimal(fa.ok("GET", f"credit_notes/{rid(note)}")["credit_note"]["due_value"]) == Decimal("-120.00")


def test_a_payment_names_its_category_and_tax_and_a_foreign_account_its_own_amount(fa):
    base = fa.sb.api_base
    fa.refused("POST", "bank_transaction_explanations", 422, "Category can't be blank",
               body={"bank_transaction_explanation": {"bank_account": f"{base}/bank_accounts/1",
                                                      "dated_on": "2026-01-12", "gross_value": "-55.00",
                                                      "description": "Postage"}})
    bad_rate = explain(fa, gross_value="-55.00", description="Postage", category=f"{base}/categories/370",
                       sales_tax_rate="12.5")
    assert bad_rate.status_code == 422  # not one of the company's rates
    made = explain(fa, gross_value="-55.00", description="Postage", category=f"{base}/categories/370",
                   sales_tax_rate="10.0")
    paid = made.body["bank_transaction_explanation"]
    validate(paid, "bank_transaction_explanation")
    assert paid["type"] == "Payment" and Decimal(paid["sales_tax_value"]) == Decimal("-5.00")
    euro = {"bank_account": f"{base}/bank_accounts/3", "dated_on": "2026-01-12", "gross_value": "-59.40",
            "description": "Parcel", "category": f"{base}/categories/370"}
    fa.refused("POST", "bank_transaction_explanations", 422, "Foreign currency value",
               body={"bank_transaction_explanation": euro})
    made = fa.ok("POST", "bank_transaction_explanations",
                 body={"bank_transaction_explanation": {**euro, "foreign_currency_value": "-55.00"}})
    explanation = made["bank_transaction_explanation"]
    assert (explanation["foreign_currency_value"], explanation["gross_value"]) == ("-55.00", "-59.40")


def test_journal_sets_balance_and_name_a_bank_account_on_category_750(fa):
    base = fa.sb.api_base
    entries = [{"category": f"{base}/categories/370", "debit_value": "100.00", "description": "Postage"},
               {"category": f"{base}/categories/750", "debit_value": "-90.00", "description": "Bank"}]
    body = {"dated_on": "2026-01-15", "description": "JE-1 — adjustment", "journal_entries": entries}
    fa.refused("POST", "journal_sets", 422, "Bank account", body={"journal_set": body})
    entries[1]["bank_account"] = f"{base}/bank_accounts/1"
    fa.refused("POST", "journal_sets", 422, "balance", body={"journal_set": body})
    entries[1]["debit_value"] = "-100.00"
    fa.refused("POST", "journal_sets", 400, "nominal code",
               body={"journal_set": {**body, "journal_entries": [{**entries[0], "category": f"{base}/categories/9"},
                                                                 entries[1]]}})
    made = fa.ok("POST", "journal_sets", body={"journal_set": body})["journal_set"]
    validate(made, "journal_set")
    assert made["journal_entries"][1]["bank_account"] == f"{base}/bank_accounts/1"
    first, second = (e["url"] for e in made["journal_entries"])
    edited = {"journal_entries": [{"url": first, "debit_value": "80.00"}, {"url": second, "debit_value": "-80.00"}]}
    changed = fa.ok("PUT", f"journal_sets/{rid(made)}", body={"journal_set": edited})["journal_set"]
    assert [e["debit_value"] for e in changed["journal_entries"]] == ["80.00", "-80.00"]
    listed = fa.ok("GET", "journal_sets", {"from_date": "2026-01-15", "to_date": "2026-01-15"})["journal_sets"]
    assert [rid(j) for j in listed] == [rid(made)]
    fa.ok("DELETE", f"journal_sets/{rid(made)}")
    fa.refused("GET", f"journal_sets/{rid(made)}", 404, "not found")


def test_cost_request_bodies_match_the_schema(fsandbox):
    from connectors.documents import Mapping
    from connectors.freeagent import costs as c
    from tests.connectors.contract import expense, journal, refund

    base = fsandbox.api_base
    bank = {"url": f"{base}/bank_accounts/1", "currency": "USD", "name": "Business Current Account"}
    doc = refund("test.customer:1", "R-9", "test.credit_note:1")
    body = c.refund_payload(doc, Mapping(refs={"test.credit_note:1": "4"}), base, bank, "USD")
    validate(json.loads(json.dumps(body, default=str)), "bank_transaction_explanation_request")
    spent = expense("E-9")
    body = c.expense_payload(spent, Mapping(line_accounts=("370",)), base, bank, "USD")
    validate(json.loads(json.dumps(body, default=str)), "bank_transaction_explanation_request")
    entry = journal("J-9")
    body = c.journal_payload(entry, ["bank_accounts/1", "001"], base, {"bank_accounts/1": bank["url"]})
    validate(json.loads(json.dumps(body, default=str)), "journal_set_request")
