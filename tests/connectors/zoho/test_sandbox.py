"""The Zoho Books sandbox over real loopback HTTP: OAuth, organization_id, envelopes and error bodies, invoices,
payments and credit notes with balances, paging and polling, limits, faults in Zoho's shape, what a bookkeeper
does, and the responses checked against the vendored (partial) OpenAPI copy. The command line and the control
endpoints every sandbox shares are tested once for all in tests/connectors/sandboxkit/test_every_sandbox.py."""
import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import requests
import yaml

from tests.connectors.sandboxkit.wire import WireClient, inline_schema

SPEC = Path(__file__).resolve().parents[3] / "connectors" / "zoho" / "spec" / "zoho.books.yaml"


class Zoho(WireClient):
    """Calls the way Zoho's docs show them: Zoho-oauthtoken header, organization_id query parameter."""

    def __init__(self, sb, token=None):
        super().__init__(sb, "Zoho-oauthtoken", {"organization_id": sb.company_id}, token)

    def ok(self, method, path, params=None, body=None):
        response = self.call(method, path, params, body)
        assert response.status_code in (200, 201), response.text
        assert response.body["code"] == 0
        return response.body

    def ref(self, path, key, name_field, name):
        return next(r for r in self.ok("GET", path)[key] if r[name_field] == name)


@pytest.fixture
def zoho(zsandbox):
    return Zoho(zsandbox)


def customer(zoho, name="Acme Ltd"):
    return zoho.ok("POST", "contacts", body={"contact_name": name})["contact"]["contact_id"]


def invoice(zoho, cid, number="INV-100", lines=None, **extra):
    gst = zoho.ref("settings/taxes", "taxes", "tax_name", "GST 10%")["tax_id"]
    lines = lines or [{"name": "Consulting", "rate": "100.00", "quantity": 2, "tax_id": gst},
                      {"name": "Travel", "rate": "15.55", "quantity": 1}]
    body = {"customer_id": cid, "invoice_number": number, "line_items": lines, **extra}
    return zoho.ok("POST", "invoices", {"ignore_auto_number_generation": "true"}, body)["invoice"]


# -- OAuth -----------------------------------------------------------------------------------------------------------
def test_consent_code_exchange_and_refresh(zsandbox):
    redirect = "https://host.example/callback"
    r = requests.get(zsandbox.authorize_url, params={"client_id": "sandbox-client", "redirect_uri": redirect,
                                                     "response_type": "code", "scope": "ZohoBooks.fullaccess.all",
                                                     "state": "xyz", "access_type": "offline"},
                     allow_redirects=False, timeout=5)
    assert r.status_code == 302
    query = {k: v[-1] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
    assert query["state"] == "xyz" and query["location"] == "us" and query["accounts-server"] == zsandbox.base_url
    grant = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": redirect,
             "client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    tokens = requests.post(zsandbox.token_url, params=grant, timeout=5).json()  # Zoho's docs: in the query
    assert tokens["access_token"].startswith("1000.") and tokens["expires_in"] == 3600
    assert tokens["api_domain"] == zsandbox.base_url and tokens["token_type"] == "Bearer"
    again = requests.post(zsandbox.token_url, data=grant, timeout=5)
    assert again.status_code == 200 and again.json() == {"error": "invalid_code"}  # Zoho: 200 with an error
    refreshed = requests.post(zsandbox.token_url, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": "sandbox-client",
        "client_secret": "sandbox-secret"}, timeout=5).json()
    assert refreshed["access_token"] != tokens["access_token"] and "refresh_token" not in refreshed
    assert zsandbox.token_calls == 3
    assert Zoho(zsandbox, refreshed["access_token"]).call("GET", "contacts").status_code == 200
    wrong = requests.post(zsandbox.token_url, data={**grant, "client_secret": "nope"}, timeout=5)
    assert wrong.json() == {"error": "invalid_client"}


def test_token_required_and_expires(zoho, zsandbox):
    for token in ("", "1000.unknown"):
        r = zoho.call("GET", "invoices", token=token or " ")
        assert r.status_code == 401 and r.body == {"code": 57,
                                                   "message": "You are not authorized to perform this operation"}
    bearer = requests.get(f"{zsandbox.api_base}/invoices", params={"organization_id": zsandbox.company_id},
                          headers={"Authorization": f"Bearer {zoho.token}"}, timeout=5)
    assert bearer.status_code == 401  # Zoho wants "Zoho-oauthtoken"
    requests.post(f"{zsandbox.base_url}/_sandbox/clock", json={"advance": 3601}, timeout=5)
    assert zoho.call("GET", "invoices").status_code == 401


def test_organization_id_required(zoho, zsandbox):
    orgs = zoho.call("GET", "organizations", defaults=False)
    assert orgs.status_code == 200 and orgs.body["organizations"][0]["organization_id"] == zsandbox.company_id
    assert orgs.body["organizations"][0]["is_default_org"] is True
    missing = zoho.call("GET", "invoices", defaults=False)
    assert missing.status_code == 400 and missing.body["code"] == 2 and "organization_id" in missing.body["message"]
    wrong = zoho.call("GET", "invoices", {"organization_id": "999"})
    assert wrong.status_code == 401 and wrong.body["code"] == 6041
    assert zoho.call("GET", "nothing-here").body == {"code": 5, "message": "Invalid URL Passed"}


# -- reference data --------------------------------------------------------------------------------------------------
def test_seed_reference_data(zoho):
    names = {a["account_name"]: a for a in zoho.ok("GET", "chartofaccounts")["chartofaccounts"]}
    for name in ("Sales", "General Income", "Shipping Charge", "Discount", "Undeposited Funds", "Petty Cash",
                 "Business Checking", "Late Fee Income"):
        assert name in names
    assert names["Business Checking"]["account_type"] == "bank" and names["Sales"]["account_type"] == "income"
    taxes = {t["tax_name"]: t["tax_percentage"] for t in zoho.ok("GET", "settings/taxes")["taxes"]}
    assert taxes["GST 10%"] == Decimal("10") and taxes["Exempt"] == 0
    currencies = zoho.ok("GET", "settings/currencies")["currencies"]
    assert [c["currency_code"] for c in currencies if c["is_base_currency"]] == ["USD"]
    eur = next(c for c in currencies if c["currency_code"] == "EUR")
    rates = zoho.ok("GET", f"settings/currencies/{eur['currency_id']}/exchangerates")["exchange_rates"]
    assert rates[0]["rate"] == Decimal("1.08")


# -- contacts and items ----------------------------------------------------------------------------------------------
def test_contacts_unique_name_filter_and_inactive(zoho):
    cid = customer(zoho, "Acme Ltd")
    dup = zoho.call("POST", "contacts", body={"contact_name": "ACME LTD"})
    assert dup.status_code == 400 and dup.body["code"] == 3062
    found = zoho.ok("GET", "contacts", {"contact_name": "acme ltd"})["contacts"]
    assert [c["contact_id"] for c in found] == [cid]
    assert zoho.ok("POST", f"contacts/{cid}/inactive")["message"]
    assert zoho.ok("GET", "contacts", {"filter_by": "Status.Inactive"})["contacts"][0]["status"] == "inactive"
    item = zoho.ok("POST", "items", body={"name": "Widget", "rate": "9.99"})["item"]
    assert item["rate"] == Decimal("9.99")
    assert zoho.call("POST", "items", body={"name": "widget"}).body["code"] == 1001


# -- invoices --------------------------------------------------------------------------------------------------------
def test_invoice_with_our_number_totals_and_duplicate(zoho):
    cid = customer(zoho)
    inv = invoice(zoho, cid)
    assert inv["invoice_number"] == "INV-100" and inv["status"] == "draft"
    assert (inv["sub_total"], inv["tax_total"], inv["total"], inv["balance"]) == (
        Decimal("215.55"), Decimal("20.00"), Decimal("235.55"), Decimal("235.55"))
    assert [li["item_total"] for li in inv["line_items"]] == [Decimal("200.00"), Decimal("15.55")]
    raw = zoho.call("GET", f"invoices/{inv['invoice_id']}").text
    assert '"total": 235.55' in raw  # exact number on the wire, not "235.55" and not 235.55000000001
    dup = zoho.call("POST", "invoices", {"ignore_auto_number_generation": "true"},
                    {"customer_id": cid, "invoice_number": "inv-100", "line_items": [{"name": "x", "rate": 1}]})
    assert dup.status_code == 400 and dup.body == {"code": 1001, "message": 'Invoice "INV-100" already exists.'}
    auto = zoho.ok("POST", "invoices", body={"customer_id": cid, "invoice_number": "MINE",
                                             "line_items": [{"name": "x", "rate": 1}]})["invoice"]
    assert auto["invoice_number"] == "INV-000001"  # without the flag Zoho numbers it (guess: ours ignored)


def test_invoice_validation_errors(zoho):
    cid = customer(zoho)
    no_lines = zoho.call("POST", "invoices", body={"customer_id": cid, "line_items": []})
    assert no_lines.status_code == 400 and no_lines.body["code"] == 2
    assert zoho.call("POST", "invoices", body={"customer_id": "1", "line_items": [{"rate": 1}]}).body["code"] == 1002
    bad_tax = zoho.call("POST", "invoices", body={"customer_id": cid, "line_items": [{"rate": 1, "tax_id": "9"}]})
    assert bad_tax.body == {"code": 2, "message": "Invalid value passed for tax_id"}
    not_json = requests.post(f"{zoho.sb.api_base}/invoices", params={"organization_id": zoho.sb.company_id},
                             data="{nope", headers={"Authorization": f"Zoho-oauthtoken {zoho.token}"}, timeout=5)
    assert not_json.json()["code"] == 4
    missing = zoho.call("GET", "invoices/123")
    assert missing.status_code == 404 and missing.body == {"code": 1002, "message": "Invoice does not exist."}


def test_invoice_update_void_delete(zoho, zsandbox):
    cid = customer(zoho)
    inv = invoice(zoho, cid)
    requests.post(f"{zsandbox.base_url}/_sandbox/clock", json={"advance": 5}, timeout=5)
    body = {"customer_id": cid, "line_items": [{"name": "Consulting", "rate": "50", "quantity": 1}],
            "reference_number": "PO-7"}
    updated = zoho.ok("PUT", f"invoices/{inv['invoice_id']}", {"ignore_auto_number_generation": "true"}, body)
    assert updated["invoice"]["total"] == Decimal("50.00") and updated["invoice"]["reference_number"] == "PO-7"
    assert updated["invoice"]["last_modified_time"] > inv["last_modified_time"]
    voided = zoho.ok("POST", f"invoices/{inv['invoice_id']}/status/void")
    assert voided["message"]
    after = zoho.ok("GET", f"invoices/{inv['invoice_id']}")["invoice"]
    assert after["status"] == "void" and after["total"] == 0 and after["balance"] == 0
    other = invoice(zoho, cid, "INV-101")
    assert zoho.ok("DELETE", f"invoices/{other['invoice_id']}")["message"] == "The invoice has been deleted."
    assert zoho.call("GET", f"invoices/{other['invoice_id']}").status_code == 404
    # a deleted number may be used again; a void one may not
    invoice(zoho, cid, "INV-101")
    assert zoho.call("POST", "invoices", {"ignore_auto_number_generation": "true"},
                     {"customer_id": cid, "invoice_number": "INV-100",
                      "line_items": [{"rate": 1}]}).body["code"] == 1001


# -- payments and credit notes ---------------------------------------------------------------------------------------
def test_payments_settle_invoices(zoho):
    cid = customer(zoho)
    inv = invoice(zoho, cid)
    pay = {"customer_id": cid, "amount": "100.00", "payment_mode": "banktransfer", "reference_number": "P-1",
           "invoices": [{"invoice_id": inv["invoice_id"], "amount_applied": "100.00"}]}
    payment = zoho.ok("POST", "customerpayments", body=pay)["payment"]
    assert payment["amount"] == Decimal("100.00") and payment["unused_amount"] == 0
    assert payment["account_name"] == "Undeposited Funds"
    partly = zoho.ok("GET", f"invoices/{inv['invoice_id']}")["invoice"]
    assert partly["status"] == "partially_paid" and partly["balance"] == Decimal("135.55")
    same = zoho.ok("PUT", f"invoices/{inv['invoice_id']}", body=partly)["invoice"]  # sent back as read
    assert (same["total"], same["balance"], same["status"]) == (Decimal("235.55"), Decimal("135.55"), "partially_paid")
    too_much = zoho.call("POST", "customerpayments", body={**pay, "amount": "500", "invoices": [
        {"invoice_id": inv["invoice_id"], "amount_applied": "200.00"}]})
    assert too_much.status_code == 400 and too_much.body["code"] == 2
    rest = zoho.ok("POST", "customerpayments", body={**pay, "amount": "135.55", "reference_number": "P-2",
                                                     "invoices": [{"invoice_id": inv["invoice_id"],
                                                                   "amount_applied": "135.55"}]})["payment"]
    paid = zoho.ok("GET", f"invoices/{inv['invoice_id']}")["invoice"]
    assert paid["status"] == "paid" and paid["balance"] == 0
    listed = zoho.ok("GET", "customerpayments", {"reference_number": "P-2", "customer_id": cid})["customerpayments"]
    assert [p["payment_id"] for p in listed] == [rest["payment_id"]]
    refused = zoho.call("POST", f"invoices/{inv['invoice_id']}/status/void")
    assert refused.status_code == 400  # payments first
    shrink = zoho.call("PUT", f"invoices/{inv['invoice_id']}", body={"line_items": [{"name": "x", "rate": "10"}]})
    assert shrink.status_code == 400  # below what is paid: refused, and nothing changed
    assert zoho.ok("GET", f"invoices/{inv['invoice_id']}")["invoice"]["total"] == Decimal("235.55")
    ghost = zoho.call("POST", "customerpayments", body={**pay, "invoices": [{"invoice_id": "42",
                                                                              "amount_applied": "1.00"}]})
    assert ghost.status_code == 400 and ghost.body == {"code": 1002, "message": "Invoice does not exist."}
    zoho.ok("DELETE", f"customerpayments/{rest['payment_id']}")
    assert zoho.ok("GET", f"invoices/{inv['invoice_id']}")["invoice"]["balance"] == Decimal("135.55")
    edited = zoho.ok("PUT", f"customerpayments/{payment['payment_id']}", body={
        "amount": "60.00", "invoices": [{"invoice_id": inv["invoice_id"], "amount_applied": "60.00"}]})
    assert edited["payment"]["amount"] == Decimal("60.00")
    assert zoho.ok("GET", f"invoices/{inv['invoice_id']}")["invoice"]["balance"] == Decimal("175.55")


def test_credit_note_applied_to_invoice(zoho):
    cid = customer(zoho)
    inv = invoice(zoho, cid)
    note = zoho.ok("POST", "creditnotes", {"ignore_auto_number_generation": "true"}, {
        "customer_id": cid, "creditnote_number": "CN-7", "line_items": [{"name": "Refund", "rate": "35.55"}]})
    note = note["creditnote"]
    assert note["status"] == "open" and note["balance"] == Decimal("35.55")
    path = f"creditnotes/{note['creditnote_id']}/invoices"
    applied = zoho.ok("POST", path, body={"invoices": [{"invoice_id": inv["invoice_id"], "amount_applied": "35.55"}]})
    assert applied["apply_to_invoices"]["invoices"][0]["amount_applied"] == Decimal("35.55")
    assert zoho.ok("GET", f"invoices/{inv['invoice_id']}")["invoice"]["balance"] == Decimal("200.00")
    assert zoho.ok("GET", f"creditnotes/{note['creditnote_id']}")["creditnote"]["status"] == "closed"
    credited = zoho.ok("GET", path)["invoices_credited"]
    assert credited[0]["credited_amount"] == Decimal("35.55") and credited[0]["invoice_id"] == inv["invoice_id"]
    assert zoho.call("DELETE", f"creditnotes/{note['creditnote_id']}").status_code == 400  # applied: refused
    zoho.ok("DELETE", f"{path}/{credited[0]['creditnote_invoice_id']}")
    assert zoho.ok("GET", f"invoices/{inv['invoice_id']}")["invoice"]["balance"] == Decimal("235.55")
    zoho.ok("POST", f"creditnotes/{note['creditnote_id']}/status/void")
    voided = zoho.ok("GET", f"creditnotes/{note['creditnote_id']}")["creditnote"]
    assert voided["status"] == "void" and voided["total"] == 0
    assert zoho.call("POST", "creditnotes", {"ignore_auto_number_generation": "true"}, {
        "customer_id": cid, "creditnote_number": "cn-7", "line_items": [{"rate": 1}]}).body["code"] == 1001


# -- refunds, expenses, journals -------------------------------------------------------------------------------------
def account(zoho, name):
    return zoho.ref("chartofaccounts", "chartofaccounts", "account_name", name)["account_id"]


def test_credit_note_refunds_lower_its_balance_and_are_edited_and_deleted(zoho):
    cid = customer(zoho)
    note = zoho.ok("POST", "creditnotes", {"ignore_auto_number_generation": "true"}, {
        "customer_id": cid, "creditnote_number": "CN-8", "line_items": [{"name": "Return", "rate": "100.00"}]})
    note_id = note["creditnote"]["creditnote_id"]
    path = f"creditnotes/{note_id}/refunds"
    bank = account(zoho, "Business Checking")
    made = zoho.call("POST", path, body={"amount": "40.00", "refund_mode": "creditcard", "reference_number": "RF-1",
                                         "from_account_id": bank, "date": "2026-12-01"})
    assert made.status_code == 201 and made.body["code"] == 0
    refund = made.body["creditnote_refund"]
    assert refund["creditnote_id"] == note_id and refund["amount_fcy"] == Decimal("40.00")
    assert refund["from_account_name"] == "Business Checking" and refund["refund_mode"] == "creditcard"
    assert zoho.ok("GET", f"creditnotes/{note_id}")["creditnote"]["balance"] == Decimal("60.00")
    over = zoho.call("POST", path, body={"amount": "60.01", "from_account_id": bank})
    assert over.status_code == 400 and "more than the balance" in over.body["message"]
    income = zoho.call("POST", path, body={"amount": "1.00", "from_account_id": account(zoho, "Sales")})
    assert income.status_code == 400 and "from_account_id" in income.body["message"]  # not a paying account
    own = f"{path}/{refund['creditnote_refund_id']}"
    assert zoho.ok("PUT", own, body={"amount": "100.00"})["creditnote_refund"]["amount_fcy"] == Decimal("100.00")
    closed = zoho.ok("GET", f"creditnotes/{note_id}")["creditnote"]
    assert closed["balance"] == 0 and closed["status"] == "closed"
    assert [r["reference_number"] for r in zoho.ok("GET", path)["creditnote_refunds"]] == ["RF-1"]
    assert [r["creditnote_id"] for r in zoho.ok("GET", "creditnotes/refunds")["creditnote_refunds"]] == [note_id]
    assert zoho.call("DELETE", f"creditnotes/{note_id}").status_code == 400  # refunded: refused
    assert zoho.call("POST", f"creditnotes/{note_id}/status/void").status_code == 400
    zoho.ok("DELETE", own)
    assert zoho.call("GET", own).status_code == 404
    assert zoho.ok("GET", f"creditnotes/{note_id}")["creditnote"]["balance"] == Decimal("100.00")


def test_expense_taxed_in_a_foreign_currency_and_itemized(zoho):
    gst = zoho.ref("settings/taxes", "taxes", "tax_name", "GST 10%")["tax_id"]
    eur = zoho.ref("settings/currencies", "currencies", "currency_code", "EUR")["currency_id"]
    vendor = zoho.ok("POST", "contacts", body={"contact_name": "Parcel Express", "contact_type": "vendor"})
    body = {"account_id": account(zoho, "Postage"), "amount": "50.00", "tax_id": gst, "currency_id": eur,
            "exchange_rate": "1.08", "paid_through_account_id": account(zoho, "Credit Card"),
            "vendor_id": vendor["contact"]["contact_id"], "reference_number": "EXP-1"}
    expense = zoho.ok("POST", "expenses", body=body)["expense"]
    assert (expense["sub_total"], expense["tax_amount"], expense["total"], expense["bcy_total"]) == (
        Decimal("50.00"), Decimal("5.00"), Decimal("55.00"), Decimal("59.40"))
    assert expense["currency_code"] == "EUR" and expense["vendor_name"] == "Parcel Express"
    itemized = zoho.ok("PUT", f"expenses/{expense['expense_id']}", body={"line_items": [
        {"account_id": account(zoho, "Postage"), "amount": "20.00", "tax_id": gst},
        {"account_id": account(zoho, "Office Supplies"), "amount": "5.00"}]})["expense"]
    assert itemized["total"] == Decimal("27.00") and len(itemized["line_items"]) == 2
    assert zoho.ok("GET", "expenses", {"reference_number": "EXP-1"})["expenses"][0]["total"] == Decimal("27.00")
    refused = zoho.call("POST", "expenses", body={**body, "paid_through_account_id": account(zoho, "Postage")})
    assert refused.status_code == 400 and "paid_through_account_id" in refused.body["message"]
    zoho.ok("DELETE", f"expenses/{expense['expense_id']}")
    assert zoho.call("GET", f"expenses/{expense['expense_id']}").body["code"] == 1002


def test_journal_must_balance(zoho):
    lines = [{"account_id": account(zoho, "Bank Fees and Charges"), "amount": "100.00", "debit_or_credit": "debit"},
             {"account_id": account(zoho, "Business Checking"), "amount": "90.00", "debit_or_credit": "credit"}]
    unbalanced = zoho.call("POST", "journals", body={"journal_date": "2026-12-01", "reference_number": "JE-1",
                                                     "line_items": lines})
    assert unbalanced.status_code == 400 and "debits and credits" in unbalanced.body["message"]
    assert zoho.ok("GET", "journals")["journals"] == []
    lines[1]["amount"] = "100.00"
    journal = zoho.ok("POST", "journals", body={"journal_date": "2026-12-01", "reference_number": "JE-1",
                                                "line_items": lines})["journal"]
    assert journal["total"] == Decimal("100.00") and journal["status"] == "published" and journal["entry_number"]
    sideless = zoho.call("POST", "journals", body={"line_items": [{**lines[0], "debit_or_credit": "both"}, lines[1]]})
    assert sideless.status_code == 400 and "debit_or_credit" in sideless.body["message"]
    zoho.ok("DELETE", f"journals/{journal['journal_id']}")


# -- lists and polling -----------------------------------------------------------------------------------------------
def test_paging_and_last_modified_polling(zoho, zsandbox):
    cid = customer(zoho)
    ids = []
    for n in range(5):
        ids.append(invoice(zoho, cid, f"INV-{n}")["invoice_id"])
        requests.post(f"{zsandbox.base_url}/_sandbox/clock", json={"advance": 2}, timeout=5)
    first = zoho.ok("GET", "invoices", {"per_page": 2, "page": 1, "sort_column": "created_time", "sort_order": "A"})
    assert [i["invoice_number"] for i in first["invoices"]] == ["INV-0", "INV-1"]
    assert first["page_context"]["has_more_page"] is True and first["page_context"]["per_page"] == 2
    last = zoho.ok("GET", "invoices", {"per_page": 2, "page": 3, "sort_order": "A", "sort_column": "created_time"})
    assert [i["invoice_number"] for i in last["invoices"]] == ["INV-4"] and not last["page_context"]["has_more_page"]
    assert zoho.ok("GET", "invoices", {"per_page": 500})["page_context"]["per_page"] == 200
    cursor = zoho.ok("GET", f"invoices/{ids[3]}")["invoice"]["last_modified_time"]
    zoho.ok("PUT", f"invoices/{ids[0]}", body={"reference_number": "changed"})
    changed = zoho.ok("GET", "invoices", {"last_modified_time": cursor, "sort_column": "last_modified_time",
                                          "sort_order": "D"})
    assert [i["invoice_number"] for i in changed["invoices"]] == ["INV-0", "INV-4", "INV-3"]
    assert changed["page_context"]["sort_column"] == "last_modified_time"
    assert changed["page_context"]["sort_order"] == "D"
    assert zoho.call("GET", "invoices", {"sort_column": "bogus"}).status_code == 400


# -- limits and faults -----------------------------------------------------------------------------------------------
def test_per_minute_and_daily_limits(zoho, zsandbox):
    assert zsandbox.current_settings()["limits"] == {"minute": [100, 60], "day": [1000, 86400]}
    for _ in range(100):
        assert zoho.call("GET", "settings/taxes").status_code == 200
    r = zoho.call("GET", "settings/taxes")
    assert r.status_code == 429 and r.body["code"] == 45 and int(r.headers["Retry-After"]) >= 1
    requests.post(f"{zsandbox.base_url}/_sandbox/clock", json={"advance": 61}, timeout=5)
    assert zoho.call("GET", "settings/taxes").status_code == 200
    assert requests.post(f"{zsandbox.base_url}/_sandbox/settings", json={"daily_limit": 102},
                         timeout=5).status_code == 200
    assert zoho.call("GET", "settings/taxes").status_code == 200
    day = zoho.call("GET", "settings/taxes")
    assert day.status_code == 429 and day.body["code"] == 44 and int(day.headers["Retry-After"]) > 3600


def test_faults(zoho, zsandbox):
    control = f"{zsandbox.base_url}/_sandbox/faults"
    requests.post(control, json={"kind": "http_500", "count": 1}, timeout=5)
    r = zoho.call("GET", "invoices")
    assert r.status_code == 500 and r.body == {"code": 1000, "message": "Internal error"}
    requests.post(control, json={"kind": "rate_limit", "retry_after": 7}, timeout=5)
    r = zoho.call("GET", "invoices")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    cid = customer(zoho)
    requests.post(control, json={"kind": "lost_response", "match": "POST /books/v3/invoices"}, timeout=5)
    with pytest.raises(requests.ConnectionError):
        invoice(zoho, cid, "INV-LOST")
    assert len(zoho.ok("GET", "invoices", {"invoice_number": "INV-LOST"})["invoices"]) == 1  # applied
    retry = zoho.call("POST", "invoices", {"ignore_auto_number_generation": "true"},
                      {"customer_id": cid, "invoice_number": "INV-LOST", "line_items": [{"rate": 1}]})
    assert retry.body["code"] == 1001  # the retry is refused: exactly one remote invoice


# -- what a bookkeeper does ------------------------------------------------------------------------------------------
def test_act_as_user(zoho, zsandbox):
    cid = customer(zoho)
    inv = invoice(zoho, cid)
    as_user = f"{zsandbox.base_url}/_sandbox/as-user"
    paid = requests.post(as_user, json={"action": "record_payment", "invoice_id": inv["invoice_id"],
                                        "amount": "35.55"}, timeout=5).json()["result"]
    assert zoho.ok("GET", f"invoices/{inv['invoice_id']}")["invoice"]["balance"] == Decimal("200.00")
    zsandbox.act_as_user("delete_payment", payment_id=paid["payment_id"])
    edited = zsandbox.act_as_user("edit_invoice_line", invoice_id=inv["invoice_id"], line=1, amount=Decimal("20"))
    assert edited["total"] == Decimal("240.00")
    zsandbox.act_as_user("void_invoice", invoice_id=inv["invoice_id"])
    assert zoho.ok("GET", f"invoices/{inv['invoice_id']}")["invoice"]["status"] == "void"
    other = invoice(zoho, cid, "INV-2")
    zsandbox.act_as_user("delete_invoice", invoice_id=other["invoice_id"])
    assert zoho.call("GET", f"invoices/{other['invoice_id']}").status_code == 404
    sales = zoho.ref("chartofaccounts", "chartofaccounts", "account_name", "Sales")["account_id"]
    zsandbox.act_as_user("archive_account", account_id=sales)
    active = zoho.ok("GET", "chartofaccounts", {"filter_by": "AccountType.Active"})["chartofaccounts"]
    assert sales not in {a["account_id"] for a in active}
    refused = zoho.call("POST", "invoices", body={"customer_id": cid, "line_items": [{"rate": 1,
                                                                                      "account_id": sales}]})
    assert refused.status_code == 400 and "inactive" in refused.body["message"]


# -- the vendored OpenAPI copy ---------------------------------------------------------------------------------------
def spec_schema(spec, ref):
    """The schema behind ``ref`` with refs inlined. The copy writes ``#/schemas/X`` for ``#/components/schemas/X``
    and types ids as integers where Zoho's own documents (and its API) give strings of digits: both are read the
    way Zoho answers, an id as an integer or a string of digits."""
    def ids_as_digits(node):
        for name, prop in node.get("properties", {}).items():
            if name.endswith("_id") and prop.get("type") == "integer":
                node["properties"][name] = {"type": ["integer", "string"], "pattern": "^[0-9]+$"}
    return inline_schema(spec, ref, ids_as_digits)


def response_schema(spec, path, method):
    operation = spec["paths"][path][method]
    assert {"organization_id"} <= {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    answer = operation["responses"].get(200) or operation["responses"].get("200")
    return spec_schema(spec, answer["content"]["application/json"]["schema"]["$ref"])


def test_responses_match_vendored_spec(zoho):
    if not SPEC.is_file():
        pytest.fail(f"the vendored Zoho Books OpenAPI copy is missing: {SPEC}")
    assert (SPEC.parent / "LICENSE-ballerina-openapi-connectors.txt").is_file(), "the spec's licence is missing"
    spec = yaml.safe_load(SPEC.read_text())
    cid = customer(zoho)
    inv = invoice(zoho, cid)
    checks = [  # (spec path, method, our path, our answer, record key checked against the record schema)
        ("/api/v3/contacts", "get", zoho.call("GET", "contacts"), None),
        ("/api/v3/contacts", "post", zoho.call("POST", "contacts", body={"contact_name": "Spec Co"}), "contact"),
        ("/api/v3/contacts/{contacts_id}", "get", zoho.call("GET", f"contacts/{cid}"), "contact"),
        ("/api/v3/contacts/{contacts_id}", "put", zoho.call("PUT", f"contacts/{cid}", body={"email": "a@b.c"}),
         "contact"),
        ("/api/v3/invoices", "get", zoho.call("GET", "invoices"), None),
        ("/api/v3/invoices", "post", zoho.call("POST", "invoices", {"ignore_auto_number_generation": "true"}, {
            "customer_id": cid, "invoice_number": "S-2", "line_items": [{"rate": 5}]}), "invoice"),
        ("/api/v3/invoices/{invoice_id}", "get", zoho.call("GET", f"invoices/{inv['invoice_id']}"), "invoice"),
        ("/api/v3/invoices/{invoice_id}", "put", zoho.call("PUT", f"invoices/{inv['invoice_id']}", body={
            "reference_number": "x"}), "invoice"),
        ("/api/v3/invoices/{invoice_id}", "delete", zoho.call("DELETE", f"invoices/{inv['invoice_id']}"), None),
    ]
    other = customer(zoho, "To Delete")
    checks.append(("/api/v3/contacts/{contacts_id}", "delete", zoho.call("DELETE", f"contacts/{other}"), None))
    records = {"contact": spec_schema(spec, "#/schemas/ContactInfo"),
               "invoice": spec_schema(spec, "#/schemas/InvoiceInfo")}
    for path, method, response, key in checks:
        assert response.status_code in (200, 201), (path, method, response.text)
        body = json.loads(response.content)
        schema = response_schema(spec, path, method)
        if key:  # the copy's single-record envelope holds an array named "contact" (for invoices too); Zoho's docs
            # answer {"contact": {...}} / {"invoice": {...}}: the envelope is checked without it, the record alone
            assert schema["properties"].pop("contact")["type"] == "array"
            jsonschema.validate(body[key], records[key])
        jsonschema.validate(body, schema)
    listed = json.loads(zoho.call("GET", "invoices").content)
    assert listed["invoices"] and set(spec_schema(spec, "#/schemas/InvoiceList")["properties"]) <= set(listed)
    error = json.loads(zoho.call("GET", "invoices/1").content)
    jsonschema.validate(error, spec_schema(spec, "#/schemas/Errors"))
    assert set(error) == {"code", "message"}
