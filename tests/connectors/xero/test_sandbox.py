"""Tests for the Xero sandbox: real loopback HTTP via ``requests`` (and once via the official SDK), no Django DB.

Time-dependent rules (token expiry, refresh grace, idempotency retention, rate-limit windows) use an injected
clock that tests move forward instead of sleeping.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.xero.sandbox import XeroSandbox, schema
from connectors.xero.sandbox.documents import line_amounts, line_tax, totals
from connectors.xero.sandbox.query import compile_where
from connectors.xero.sandbox.wire import XeroError
from tests.connectors.sandbox_clock import Clock

REPO = Path(__file__).resolve().parents[3]
AUTH = ("sandbox-client", "sandbox-secret")


def spec_document(name: str) -> dict:
    """One of Xero's OpenAPI documents vendored in ``connectors/xero/spec/``; a missing one fails the test."""
    import yaml  # the test extra installs it: its absence is a failure too, not a skip

    path = schema.SPEC_DIR / name
    assert path.is_file(), (f"{name} is missing from connectors/xero/spec/: the sandbox checks need the vendored "
                            "spec (restore the folder from version control)")
    return yaml.load(path.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def sandbox(clock):
    sb = XeroSandbox(clock=clock).start()
    yield sb
    sb.stop()


class Api:
    """A tiny Xero client for tests; deliberately not our connector."""

    def __init__(self, sb: XeroSandbox) -> None:
        self.sb = sb
        self.token = sb.issue_tokens()["access_token"]
        self.tenant = sb.tenant_id

    def headers(self, **extra) -> dict:
        return {"Authorization": f"Bearer {self.token}", "xero-tenant-id": self.tenant,
                "Accept": "application/json", **extra}

    def call(self, method: str, path: str, body=None, key: str | None = None, headers: dict | None = None,
             **params) -> requests.Response:
        hdrs = self.headers(**(headers or {}))
        if key:
            hdrs["Idempotency-Key"] = key
        return requests.request(method, f"{self.sb.api_base}/{path}", json=body, params=params, headers=hdrs,
                                timeout=5)

    def get(self, path: str, **params) -> requests.Response:
        return self.call("GET", path, **params)

    def put(self, collection: str, *elements, key: str | None = None, **params) -> requests.Response:
        return self.call("PUT", collection, {collection: list(elements)}, key=key, **params)

    def post(self, path: str, body, key: str | None = None, **params) -> requests.Response:
        return self.call("POST", path, body, key=key, **params)

    def ok(self, response: requests.Response, collection: str) -> dict:
        assert response.status_code == 200, response.text
        rows = response.json()[collection]
        assert len(rows) == 1
        return rows[0]

    def contact(self, name: str = "Acme Ltd", **extra) -> dict:
        return self.ok(self.put("Contacts", {"Name": name, **extra}), "Contacts")

    def invoice(self, contact_id: str, *lines: dict, **extra) -> dict:
        body = {"Type": "ACCREC", "Contact": {"ContactID": contact_id}, "Status": "AUTHORISED",
                "LineItems": list(lines) or [line(100)], **extra}
        return self.ok(self.put("Invoices", body), "Invoices")

    def pay(self, invoice_id: str, amount, **extra) -> requests.Response:
        return self.put("Payments", {"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"},
                                     "Date": "2026-03-01", "Amount": amount, **extra})


def line(unit, qty=1, account="200", tax="OUTPUT", **extra) -> dict:
    return {"Description": "Consulting", "Quantity": qty, "UnitAmount": unit, "AccountCode": account,
            "TaxType": tax, **extra}


@pytest.fixture
def api(sandbox):
    sandbox.reset()
    yield Api(sandbox)
    sandbox.faults.clear()
    sandbox.limits.restore()


def errors_of(response: requests.Response) -> list[str]:
    body = response.json()
    assert body["ErrorNumber"] == 10 and body["Type"] == "ValidationException", body
    return [e["Message"] for element in body["Elements"] for e in element["ValidationErrors"]]


def token_post(sb: XeroSandbox, auth=AUTH, **form) -> requests.Response:
    return requests.post(sb.token_url, data=form, auth=auth, timeout=5)


# --- identity ------------------------------------------------------------------------------------------------


def test_authorization_code_flow_and_connections(sandbox):
    redirect = requests.get(sandbox.authorize_url, allow_redirects=False, timeout=5, params={
        "response_type": "code", "client_id": "sandbox-client", "redirect_uri": "http://localhost/cb",
        "scope": "openid accounting.transactions offline_access", "state": "xyz"})
    assert redirect.status_code == 302
    query = {k: v[0] for k, v in parse_qs(urlsplit(redirect.headers["Location"]).query).items()}
    assert query["state"] == "xyz" and query["code"]
    tokens = token_post(sandbox, grant_type="authorization_code", code=query["code"],
                        redirect_uri="http://localhost/cb").json()
    assert tokens["expires_in"] == 1800 and tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "openid accounting.transactions offline_access"
    assert {"access_token", "refresh_token", "id_token"} <= set(tokens)
    assert tokens["access_token"].count(".") == 2  # JWT-shaped, like Xero's
    again = token_post(sandbox, grant_type="authorization_code", code=query["code"],
                       redirect_uri="http://localhost/cb")
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}  # codes are single-use
    connections = requests.get(sandbox.connections_url, timeout=5,
                               headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert connections.status_code == 200 and "X-AppMinLimit-Remaining" in connections.headers
    [conn] = connections.json()
    assert conn["tenantId"] == sandbox.tenant_id and conn["tenantType"] == "ORGANISATION"
    assert set(conn) == {"id", "authEventId", "tenantId", "tenantType", "tenantName", "createdDateUtc",
                         "updatedDateUtc"}
    no_offline = sandbox.issue_tokens("accounting.transactions")
    assert "refresh_token" not in no_offline and "id_token" not in no_offline


def test_identity_responses_match_the_identity_spec(sandbox):
    """``/connections`` elements and token responses against ``xero-identity.yaml``'s Connection and AccessToken."""
    import jsonschema

    components = spec_document("xero-identity.yaml")["components"]
    formats = jsonschema.FormatChecker(formats=("uuid",))

    def errors(name: str, instance) -> list[str]:
        validator = jsonschema.Draft4Validator({"$ref": f"#/components/schemas/{name}", "components": components},
                                               format_checker=formats)
        return [error.message for error in validator.iter_errors(instance)]

    tokens = sandbox.issue_tokens()
    assert errors("AccessToken", tokens) == []
    assert {"access_token", "expires_in", "token_type", "refresh_token", "id_token"} <= set(tokens)
    [conn] = requests.get(sandbox.connections_url, headers={"Authorization": f"Bearer {tokens['access_token']}"},
                          timeout=5).json()
    assert errors("Connection", conn) == []
    assert set(conn) <= set(components["schemas"]["Connection"]["properties"])  # no field Xero does not name
    assert errors("Connection", {**conn, "tenantId": "not-a-uuid"})  # the validator does bite


def test_refresh_rotation_with_grace_period(sandbox, clock):
    first = sandbox.issue_tokens()
    calls = sandbox.token_calls
    # xero-python authenticates with form fields, other clients with HTTP Basic: both work
    rotated = token_post(sandbox, auth=None, grant_type="refresh_token", refresh_token=first["refresh_token"],
                         client_id="sandbox-client", client_secret="sandbox-secret").json()
    assert rotated["refresh_token"] != first["refresh_token"] and rotated["expires_in"] == 1800
    clock.advance(600)
    lost = token_post(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert lost["access_token"] == rotated["access_token"]  # the same new token set, within the grace period
    assert lost["refresh_token"] == rotated["refresh_token"] and lost["expires_in"] == 1200
    clock.advance(1201)
    late = token_post(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert late.status_code == 400 and late.json() == {"error": "invalid_grant"}
    newest = token_post(sandbox, grant_type="refresh_token", refresh_token=rotated["refresh_token"]).json()
    repeat = token_post(sandbox, grant_type="refresh_token", refresh_token=rotated["refresh_token"]).json()
    assert repeat["refresh_token"] == newest["refresh_token"]
    assert sandbox.token_calls == calls + 5
    # once the newer token has been used, the one before it is dead even inside its grace period
    assert token_post(sandbox, grant_type="refresh_token", refresh_token=newest["refresh_token"]).status_code == 200
    again = token_post(sandbox, grant_type="refresh_token", refresh_token=rotated["refresh_token"])
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}


def test_token_endpoint_errors(sandbox):
    refresh = sandbox.issue_tokens()["refresh_token"]
    bad_client = token_post(sandbox, auth=("sandbox-client", "wrong"), grant_type="refresh_token",
                            refresh_token=refresh)
    assert bad_client.status_code == 400 and bad_client.json() == {"error": "invalid_client"}
    unknown = token_post(sandbox, grant_type="refresh_token", refresh_token="nope")
    assert unknown.json() == {"error": "invalid_grant"}
    assert token_post(sandbox, grant_type="password").json() == {"error": "unsupported_grant_type"}


def test_bearer_token_and_tenant_checks(api, sandbox, clock):
    assert api.get("Organisation").status_code == 200
    missing = requests.get(f"{sandbox.api_base}/Invoices", headers={"xero-tenant-id": api.tenant}, timeout=5)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    body = missing.json()
    assert body["Title"] == "Unauthorized" and body["Status"] == 401 and body["Detail"] == "AuthenticationUnsuccessful"
    assert set(body) == {"Type", "Title", "Status", "Detail", "Instance", "Extensions"}
    tokens = sandbox.issue_tokens()
    api.token = tokens["access_token"]
    clock.advance(1801)
    expired = api.get("Invoices")
    assert expired.status_code == 401 and expired.json()["Detail"].startswith("TokenExpired: token expired at ")
    api.token = token_post(sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()[
        "access_token"]
    assert api.get("Invoices").status_code == 200
    for tenant in ("", "00000000-0000-0000-0000-000000000000"):
        api.tenant = tenant
        forbidden = api.get("Invoices")
        assert forbidden.status_code == 403
        assert forbidden.json()["Title"] == "Forbidden" and forbidden.json()["Detail"] == "AuthenticationUnsuccessful"


def test_revocation_and_disconnect(api, sandbox):
    tokens = sandbox.issue_tokens()
    api.token = tokens["access_token"]
    conn_id = sandbox.identity.connection_list()[0]["id"]
    gone = requests.delete(f"{sandbox.connections_url}/{conn_id}", headers=api.headers(), timeout=5)
    assert gone.status_code == 204
    assert api.get("Invoices").status_code == 403  # token still valid, tenant no longer connected
    api.token = sandbox.issue_tokens()["access_token"]  # consent again reconnects
    assert api.get("Invoices").status_code == 200
    revoked = requests.post(sandbox.revoke_url, data={"token": tokens["refresh_token"]}, auth=AUTH, timeout=5)
    assert revoked.status_code == 200
    api.token = tokens["access_token"]
    assert api.get("Invoices").status_code == 401
    assert token_post(sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 400


# --- reference data -------------------------------------------------------------------------------------------


def test_seeded_reference_data(api):
    org = api.get("Organisation").json()["Organisations"][0]
    assert org["BaseCurrency"] == "USD" and org["OrganisationID"] == api.tenant and org["CountryCode"] == "US"
    accounts = {a["Code"]: a for a in api.get("Accounts").json()["Accounts"]}
    assert accounts["200"]["Name"] == "Sales" and accounts["200"]["Type"] == "REVENUE"
    assert accounts["260"]["Name"] == "Other Revenue" and accounts["090"]["Type"] == "BANK"
    assert accounts["210"]["Name"] == "Sales Discounts" and accounts["404"]["Name"] == "Bank Fees"
    assert accounts["299"]["Status"] == "ARCHIVED" and accounts["610"]["SystemAccount"] == "DEBTORS"
    archived = api.get("Accounts", where='Status=="ARCHIVED"').json()["Accounts"]
    assert [a["Code"] for a in archived] == ["299"]
    rates = {r["TaxType"]: r for r in api.get("TaxRates").json()["TaxRates"]}
    assert rates["OUTPUT"]["EffectiveRate"] == 10 and rates["OUTPUT"]["Name"] == "Tax on Sales"
    assert rates["TAX001"]["EffectiveRate"] == 8.25 and rates["NONE"]["EffectiveRate"] == 0
    assert rates["TAX002"]["Status"] == "DELETED"
    assert api.get("TaxRates/OUTPUT").json()["TaxRates"][0]["Name"] == "Tax on Sales"
    codes = {c["Code"] for c in api.get("Currencies").json()["Currencies"]}
    assert {"USD", "EUR", "GBP", "AUD", "NZD", "CAD"} == codes


# --- contacts and items -------------------------------------------------------------------------------------


def test_contacts_create_unique_name_update_and_read(api, sandbox):
    acme = api.contact("Acme Ltd", EmailAddress="ap@acme.example", ContactNumber="C-1")
    assert acme["ContactStatus"] == "ACTIVE" and acme["UpdatedDateUTC"].startswith("/Date(")
    duplicate = api.put("Contacts", {"Name": "ACME LTD"})
    assert duplicate.status_code == 400
    assert errors_of(duplicate) == [("The contact name ACME LTD is already assigned to another contact. The contact "
                                     "name must be unique across all active contacts.")]
    assert duplicate.json()["Elements"][0]["HasValidationErrors"] is True
    bad_email = api.put("Contacts", {"Name": "Other", "EmailAddress": "not-an-email"})
    assert errors_of(bad_email) == ["Email address must be valid."]
    updated = api.ok(api.post("Contacts", {"Contacts": [{"ContactID": acme["ContactID"], "FirstName": "Ann"}]}),
                     "Contacts")
    assert updated["FirstName"] == "Ann" and updated["Name"] == "Acme Ltd"
    by_number = api.ok(api.post("Contacts", {"Contacts": [{"ContactNumber": "C-1", "LastName": "Lee"}]}),
                       "Contacts")
    assert by_number["ContactID"] == acme["ContactID"] and by_number["LastName"] == "Lee"
    archived = api.ok(api.post(f"Contacts/{acme['ContactID']}", {"Contacts": [{"ContactStatus": "ARCHIVED"}]}),
                      "Contacts")
    assert archived["ContactStatus"] == "ARCHIVED"
    reused = api.contact("Acme Ltd")  # the name must only be unique among active contacts
    assert reused["ContactID"] != acme["ContactID"]
    assert api.get(f"Contacts/{acme['ContactID']}").json()["Contacts"][0]["ContactStatus"] == "ARCHIVED"
    assert api.get("Contacts/C-1").json()["Contacts"][0]["ContactID"] == acme["ContactID"]
    missing = api.get("Contacts/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.text == "The resource you're looking for cannot be found"
    assert len(sandbox.store.entities("Contacts")) == 2


def test_contact_listing(api):
    for name in ("Delta", "Alpha", "Charlie", "Bravo"):
        api.contact(name, EmailAddress=f"{name.lower()}@example.com")
    def names(response: requests.Response) -> list[str]:
        return [c["Name"] for c in response.json()["Contacts"]]

    assert names(api.get("Contacts")) == ["Alpha", "Bravo", "Charlie", "Delta"]
    assert names(api.get("Contacts", order="Name DESC")) == ["Delta", "Charlie", "Bravo", "Alpha"]
    assert names(api.get("Contacts", searchTerm="ARLI")) == ["Charlie"]
    assert names(api.get("Contacts", where='Name="bravo"')) == ["Bravo"]  # optimised filters ignore case
    page = api.get("Contacts", page=2, pageSize=3).json()
    assert page["pagination"] == {"page": 2, "pageSize": 3, "pageCount": 2, "itemCount": 4}
    assert [c["Name"] for c in page["Contacts"]] == ["Delta"]
    alpha = api.get("Contacts", where='Name=="Alpha"').json()["Contacts"][0]
    assert names(api.get("Contacts", IDs=alpha["ContactID"])) == ["Alpha"]
    api.post(f"Contacts/{alpha['ContactID']}", {"Contacts": [{"ContactStatus": "ARCHIVED"}]})
    assert "Alpha" not in names(api.get("Contacts"))
    assert "Alpha" in names(api.get("Contacts", includeArchived="true"))
    broken = api.get("Contacts", where='Name=="x" AND (')
    assert broken.status_code == 400 and broken.json()["Type"] == "QueryParseException"


def test_items_unique_code_and_defaults_on_invoice_lines(api):
    item = api.ok(api.put("Items", {"Code": "WIDGET", "Name": "Widget", "Description": "A widget",
                                    "SalesDetails": {"UnitPrice": 12.5, "AccountCode": "200", "TaxType": "TAX001"}}),
                  "Items")
    assert item["SalesDetails"]["UnitPrice"] == 12.5
    duplicate = api.put("Items", {"Code": "widget"})
    assert errors_of(duplicate) == ["Price List Item with Code ''widget'' already exists"]
    upserted = api.ok(api.post("Items", {"Items": [{"Code": "WIDGET", "Name": "Widget v2"}]}), "Items")
    assert upserted["ItemID"] == item["ItemID"] and upserted["Name"] == "Widget v2"
    bad_account = api.put("Items", {"Code": "G2", "SalesDetails": {"AccountCode": "090"}})
    assert errors_of(bad_account) == ["Account code '090' is not a valid code for this document."]
    cust = api.contact()
    invoice = api.invoice(cust["ContactID"], {"ItemCode": "WIDGET", "Quantity": 2})
    [li] = invoice["LineItems"]
    assert (li["Description"], li["UnitAmount"], li["AccountCode"], li["TaxType"]) == ("A widget", 12.5, "200",
                                                                                       "TAX001")
    assert li["LineAmount"] == 25.0 and li["TaxAmount"] == 2.06  # 25.00 x 8.25% = 2.0625
    assert requests.delete(f"{api.sb.api_base}/Items/{item['ItemID']}", headers=api.headers(), timeout=5
                           ).status_code == 204
    assert api.get(f"Items/{item['ItemID']}").status_code == 404


# --- invoices --------------------------------------------------------------------------------------------------


def test_tax_is_rounded_per_line_then_summed(api):
    cust = api.contact()
    lines = [line(0.05, qty=1, tax="OUTPUT") for _ in range(3)]  # 3 x round(0.005) = 0.03, not round(0.015)
    invoice = api.invoice(cust["ContactID"], *lines)
    assert [li["TaxAmount"] for li in invoice["LineItems"]] == [0.01, 0.01, 0.01]
    assert (invoice["SubTotal"], invoice["TotalTax"], invoice["Total"]) == (0.15, 0.03, 0.18)
    inclusive = api.invoice(cust["ContactID"], line(10.0, tax="OUTPUT"), line(10.0, tax="TAX001"),
                            LineAmountTypes="Inclusive")
    # 10 x 10/110 = 0.909.. -> 0.91 ; 10 x 8.25/108.25 = 0.7621.. -> 0.76
    assert [li["TaxAmount"] for li in inclusive["LineItems"]] == [0.91, 0.76]
    assert (inclusive["SubTotal"], inclusive["TotalTax"], inclusive["Total"]) == (18.33, 1.67, 20.0)
    no_tax = api.invoice(cust["ContactID"], line(10.0), LineAmountTypes="NoTax")
    assert no_tax["TotalTax"] == 0 and no_tax["Total"] == 10.0


def test_invoice_lines_discounts_and_unitdp(api):
    cust = api.contact()
    invoice = api.invoice(cust["ContactID"], line(19.99, qty=3, DiscountRate=10), line(50, DiscountAmount=5),
                          {"Description": "Just a note"})
    first, second, note = invoice["LineItems"]
    assert first["LineAmount"] == 53.97 and first["DiscountRate"] == 10  # 59.97 less 10%, rounded
    assert second["LineAmount"] == 45.0 and note["LineAmount"] == 0
    assert invoice["IsDiscounted"] is True and invoice["TotalDiscount"] == 11.0
    assert invoice["SubTotal"] == 98.97 and invoice["TotalTax"] == 9.9 and invoice["Total"] == 108.87
    precise = api.ok(api.put("Invoices", {"Type": "ACCREC", "Contact": {"ContactID": cust["ContactID"]},
                                          "LineItems": [line(1.2345, qty=10)]}, unitdp=4), "Invoices")
    assert precise["LineItems"][0]["UnitAmount"] == 1.2345 and precise["LineItems"][0]["LineAmount"] == 12.35
    rounded = api.invoice(cust["ContactID"], line(1.2345, qty=10))
    assert rounded["LineItems"][0]["UnitAmount"] == 1.23 and rounded["LineItems"][0]["LineAmount"] == 12.3
    mismatch = api.put("Invoices", {"Type": "ACCREC", "Contact": {"ContactID": cust["ContactID"]},
                                    "LineItems": [line(10, qty=2, LineAmount=25)]})
    assert "does not equal Quantity x UnitAmount" in errors_of(mismatch)[0]
    bill_discount = api.put("Invoices", {"Type": "ACCPAY", "Contact": {"ContactID": cust["ContactID"]},
                                         "LineItems": [line(10, account="429", tax="INPUT", DiscountRate=5)]})
    assert bill_discount.status_code == 400


def test_invoice_numbers_contacts_and_defaults(api, sandbox):
    cust = api.contact()
    first = api.invoice(cust["ContactID"])
    assert first["InvoiceNumber"] == "INV-0001" and first["Status"] == "AUTHORISED"
    assert first["CurrencyCode"] == "USD" and first["CurrencyRate"] == 1 and first["LineAmountTypes"] == "Exclusive"
    assert first["AmountDue"] == 110 and first["AmountPaid"] == 0 and first["AmountCredited"] == 0
    assert first["Date"].startswith("/Date(") and first["DueDate"].startswith("/Date(")
    assert first["DateString"].endswith("T00:00:00")
    assert api.invoice(cust["ContactID"])["InvoiceNumber"] == "INV-0002"
    duplicate = api.put("Invoices", {"Type": "ACCREC", "Contact": {"ContactID": cust["ContactID"]},
                                     "InvoiceNumber": "inv-0001", "LineItems": [line(5)]})
    assert errors_of(duplicate) == ["Invoice # must be unique."]
    bills = [api.ok(api.put("Invoices", {"Type": "ACCPAY", "Contact": {"ContactID": cust["ContactID"]},
                                         "InvoiceNumber": "SUP-1", "LineItems": [line(5, account="429", tax="INPUT")]}),
                    "Invoices") for _ in range(2)]
    assert bills[0]["InvoiceNumber"] == bills[1]["InvoiceNumber"] == "SUP-1"  # bills may repeat numbers
    by_name = api.ok(api.put("Invoices", {"Type": "ACCREC", "Contact": {"Name": "Walk-in Customer"},
                                          "LineItems": [line(5)]}), "Invoices")
    assert by_name["Contact"]["Name"] == "Walk-in Customer"  # Xero creates a contact for an unknown name
    contacts = {c["Name"]: c for c in sandbox.store.entities("Contacts")}
    assert contacts["Walk-in Customer"]["IsCustomer"] is True
    no_contact = api.put("Invoices", {"Type": "ACCREC", "Contact": {}, "LineItems": [line(5)]})
    assert no_contact.status_code == 400
    unidentified = api.put("Invoices", {"Type": "ACCREC", "Contact": {"EmailAddress": "x@y.z"}, "LineItems": [line(5)]})
    assert errors_of(unidentified) == [("The Contact must contain at least 1 of the following elements to identify "
                                        "the contact: Name, ContactID, ContactNumber")]
    euro = api.invoice(cust["ContactID"], line(100), CurrencyCode="EUR")
    assert euro["CurrencyCode"] == "EUR" and euro["CurrencyRate"] == 0.92
    fixed = api.invoice(cust["ContactID"], line(100), CurrencyCode="GBP", CurrencyRate=0.8)
    assert fixed["CurrencyRate"] == 0.8


def test_invoice_validation_messages(api):
    cust = {"ContactID": api.contact()["ContactID"]}
    cases = {
        "Account code '999' is not a valid code for this document.": [line(5, account="999")],
        ("Account code '299' has been archived, or has been deleted. Each line item must reference a valid "
         "account."): [line(5, account="299")],
        "The TaxType code 'TAX002' does not exist or cannot be used for this type of transaction.": [
            line(5, tax="TAX002")],
        "Description is required for each line item of a document that is not a draft.": [
            {"Quantity": 1, "UnitAmount": 5, "AccountCode": "200"}],
        "An AccountCode must be specified for each line item of a document that is not a draft.": [
            {"Description": "x", "Quantity": 1, "UnitAmount": 5}],
    }
    for message, lines in cases.items():
        response = api.put("Invoices", {"Type": "ACCREC", "Contact": cust, "Status": "AUTHORISED", "LineItems": lines})
        assert response.status_code == 400 and message in errors_of(response), response.text
    draft = api.ok(api.put("Invoices", {"Type": "ACCREC", "Contact": cust, "LineItems": [
        {"Description": "x", "Quantity": 1, "UnitAmount": 5}]}), "Invoices")
    assert draft["Status"] == "DRAFT"  # drafts may lack an account
    assert errors_of(api.put("Invoices", {"Type": "ACCRECCREDIT", "Contact": cust})) == [
        "Invoice not of valid type for creation"]
    assert errors_of(api.put("Invoices", {"Type": "ACCREC", "Contact": cust, "Status": "PAID",
                                          "LineItems": [line(5)]})) == ["Invoice not of valid status for creation"]


def test_status_transitions(api):
    cust = api.contact()["ContactID"]

    def update(invoice, **fields):
        return api.post(f"Invoices/{invoice['InvoiceID']}", {"Invoices": [fields]})

    draft = api.invoice(cust, Status="DRAFT")
    submitted = api.ok(update(draft, Status="SUBMITTED"), "Invoices")
    assert submitted["Status"] == "SUBMITTED"
    deleted = api.ok(update(submitted, Status="DELETED"), "Invoices")
    assert deleted["Status"] == "DELETED" and deleted["AmountDue"] == 0
    assert errors_of(update(deleted, Status="DRAFT")) == ["Invoice not of valid status for modification"]
    authorised = api.invoice(cust)
    assert errors_of(update(authorised, Status="DELETED")) == ["Invoice not of valid status for modification"]
    assert errors_of(update(authorised, Status="DRAFT")) == ["Invoice not of valid status for modification"]
    edited = api.ok(update(authorised, LineItems=[line(200)], Reference="PO-7"), "Invoices")  # no payments yet
    assert edited["Total"] == 220 and edited["Reference"] == "PO-7" and edited["Status"] == "AUTHORISED"
    voided = api.ok(update(edited, Status="VOIDED"), "Invoices")
    assert voided["Status"] == "VOIDED" and voided["AmountDue"] == 0 and voided["Total"] == 220
    assert errors_of(update(voided, Reference="x")) == ["Invoice not of valid status for modification"]
    # POST without an id updates the sales invoice with that number
    other = api.invoice(cust)
    renamed = api.ok(api.post("Invoices", {"Invoices": [{"InvoiceNumber": other["InvoiceNumber"],
                                                         "Reference": "again"}]}), "Invoices")
    assert renamed["InvoiceID"] == other["InvoiceID"] and renamed["Reference"] == "again"
    assert api.post("Invoices/00000000-0000-0000-0000-000000000000", {"Invoices": [{}]}).status_code == 404


def test_summarize_errors_false_returns_each_element(api, sandbox):
    cust = {"ContactID": api.contact()["ContactID"]}
    good = {"Type": "ACCREC", "Contact": cust, "LineItems": [line(10)]}
    bad = {"Type": "ACCREC", "Contact": cust, "LineItems": [line(10, account="999")]}
    strict = api.put("Invoices", good, bad, good)
    assert strict.status_code == 400
    elements = strict.json()["Elements"]
    assert len(elements) == 1 and elements[0]["HasErrors"] is True and elements[0]["StatusAttributeString"] == "ERROR"
    assert sandbox.store.entities("Invoices") == []  # nothing kept
    mixed = api.put("Invoices", good, bad, good, summarizeErrors="false")
    assert mixed.status_code == 200
    rows = mixed.json()["Invoices"]
    assert [r["StatusAttributeString"] for r in rows] == ["OK", "ERROR", "OK"]
    assert [r["HasErrors"] for r in rows] == [False, True, False]
    assert rows[1]["ValidationErrors"] == [{"Message": "Account code '999' is not a valid code for this document."}]
    assert [r["InvoiceNumber"] for r in sandbox.store.entities("Invoices")] == ["INV-0001", "INV-0002"]
    batch = api.put("Invoices", *[good] * 50)
    assert batch.status_code == 200 and len(batch.json()["Invoices"]) == 50


def test_invoice_listing_filters_paging_and_polling(api, clock):
    cust_a, cust_b = api.contact("A")["ContactID"], api.contact("B")["ContactID"]
    first = api.invoice(cust_a, Reference="WEB-1")
    draft = api.invoice(cust_b, Status="DRAFT")
    clock.advance(5)
    since = dt.datetime.fromtimestamp(clock(), dt.UTC).isoformat()
    clock.advance(1)
    third = api.invoice(cust_b, CurrencyCode="EUR")
    def numbers(response: requests.Response) -> list[str]:
        return [i["InvoiceNumber"] for i in response.json()["Invoices"]]

    unpaged = api.get("Invoices")
    assert numbers(unpaged) == ["INV-0001", "INV-0002", "INV-0003"] and "pagination" not in unpaged.json()
    assert all(i["LineItems"] == [] for i in unpaged.json()["Invoices"])  # lines only when paging
    paged = api.get("Invoices", page=1).json()
    assert paged["pagination"]["pageSize"] == 100 and paged["Invoices"][0]["LineItems"]
    assert api.get("Invoices", page=1, pageSize=5000).json()["pagination"]["pageSize"] == 1000
    assert numbers(api.get("Invoices", IDs=f"{first['InvoiceID']},{third['InvoiceID']}")) == ["INV-0001", "INV-0003"]
    assert numbers(api.get("Invoices", InvoiceNumbers="INV-0002")) == ["INV-0002"]
    assert numbers(api.get("Invoices", Statuses="DRAFT,SUBMITTED")) == [draft["InvoiceNumber"]]
    assert numbers(api.get("Invoices", ContactIDs=cust_b)) == ["INV-0002", "INV-0003"]
    assert numbers(api.get("Invoices", searchTerm="web")) == ["INV-0001"]
    assert numbers(api.get("Invoices", where='Status=="AUTHORISED" AND CurrencyCode=="EUR"')) == ["INV-0003"]
    assert numbers(api.get("Invoices", where=f'Contact.ContactID==guid("{cust_a}")')) == ["INV-0001"]
    assert numbers(api.get("Invoices", where="AmountDue > 100 && Date >= DateTime(2000, 1, 1)")) == [
        "INV-0001", "INV-0002", "INV-0003"]
    assert numbers(api.get("Invoices", order="InvoiceNumber DESC")) == ["INV-0003", "INV-0002", "INV-0001"]
    null_method = api.get("Invoices", where='Reference.StartsWith("WEB")')  # Reference is null on two of them
    assert null_method.status_code == 400 and null_method.json()["Type"] == "QueryParseException"
    guarded = api.get("Invoices", where='Reference != null && Reference.StartsWith("WEB")')
    assert numbers(guarded) == ["INV-0001"]
    modified = api.call("GET", "Invoices", headers={"If-Modified-Since": since})
    assert numbers(modified) == ["INV-0003"]
    api.post(f"Invoices/{first['InvoiceID']}", {"Invoices": [{"Reference": "changed"}]})
    assert numbers(api.call("GET", "Invoices", headers={"If-Modified-Since": since})) == ["INV-0003", "INV-0001"]
    assert api.get(f"Invoices/{first['InvoiceNumber']}").json()["Invoices"][0]["InvoiceID"] == first["InvoiceID"]


# --- payments and credit notes ----------------------------------------------------------------------------------


def test_payments_settle_invoices_and_can_be_deleted(api):
    cust = api.contact()["ContactID"]
    invoice = api.invoice(cust)  # total 110.00
    partial = api.ok(api.pay(invoice["InvoiceID"], 40), "Payments")
    assert partial["Status"] == "AUTHORISED" and partial["PaymentType"] == "ACCRECPAYMENT"
    assert partial["Account"]["Code"] == "090" and partial["Invoice"]["InvoiceID"] == invoice["InvoiceID"]
    after = api.get(f"Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert (after["AmountPaid"], after["AmountDue"], after["Status"]) == (40, 70, "AUTHORISED")
    assert after["Payments"][0]["PaymentID"] == partial["PaymentID"]
    too_much = api.pay(invoice["InvoiceID"], 70.01)
    assert errors_of(too_much) == ["Payment amount exceeds the amount outstanding on this document"]
    locked = api.post(f"Invoices/{invoice['InvoiceID']}", {"Invoices": [{"LineItems": [line(500)]}]})
    assert errors_of(locked) == ["This document cannot be edited as it has a payment or credit note allocated to it."]
    assert api.ok(api.post(f"Invoices/{invoice['InvoiceID']}", {"Invoices": [{"Reference": "ok"}]}),
                  "Invoices")["Reference"] == "ok"
    rest = api.put("Payments", {"Invoice": {"InvoiceNumber": invoice["InvoiceNumber"]},
                                "Account": {"AccountID": after["LineItems"][0]["AccountID"]},
                                "Date": "2026-03-02", "Amount": 70})
    assert errors_of(rest) == ["Account type is invalid for making a payment to/from"]  # 200 is not a bank account
    final = api.ok(api.put("Payments", {"Invoice": {"InvoiceNumber": invoice["InvoiceNumber"]},
                                        "Account": {"Code": "090"}, "Date": "2026-03-02", "Amount": 70}), "Payments")
    paid = api.get(f"Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert paid["Status"] == "PAID" and paid["AmountDue"] == 0
    assert paid["FullyPaidOnDate"] == "/Date(1772409600000+0000)/"  # 2026-03-02, the settling payment's date
    voiding = api.post(f"Invoices/{invoice['InvoiceID']}", {"Invoices": [{"Status": "VOIDED"}]})
    assert errors_of(voiding) == ["This document cannot be edited as it has a payment or credit note allocated to it."]
    deleted = api.ok(api.post(f"Payments/{final['PaymentID']}", {"Status": "DELETED"}), "Payments")
    assert deleted["Status"] == "DELETED"
    reopened = api.get(f"Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert (reopened["Status"], reopened["AmountDue"], len(reopened["Payments"])) == ("AUTHORISED", 70, 1)
    draft = api.invoice(cust, Status="DRAFT")
    assert errors_of(api.pay(draft["InvoiceID"], 1)) == ["Payments can only be made against Authorised documents"]
    assert [p["Status"] for p in api.get("Payments", order="Amount").json()["Payments"]] == ["AUTHORISED", "DELETED"]


def test_credit_notes_and_allocations(api):
    cust = api.contact()["ContactID"]
    invoice = api.invoice(cust)  # 110.00
    note = api.ok(api.put("CreditNotes", {"Type": "ACCRECCREDIT", "Contact": {"ContactID": cust},
                                          "Status": "AUTHORISED", "LineItems": [line(30)]}), "CreditNotes")
    assert note["CreditNoteNumber"] == "CN-0001" and note["Total"] == 33 and note["RemainingCredit"] == 33
    over = api.call("PUT", f"CreditNotes/{note['CreditNoteID']}/Allocations",
                    {"Allocations": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": 40,
                                      "Date": "2026-03-01"}]})
    assert over.status_code == 400
    alloc = api.ok(api.call("PUT", f"CreditNotes/{note['CreditNoteID']}/Allocations",
                            {"Allocations": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": 33,
                                              "Date": "2026-03-01"}]}), "Allocations")
    assert alloc["Amount"] == 33 and alloc["Invoice"]["InvoiceID"] == invoice["InvoiceID"]
    used = api.get(f"CreditNotes/{note['CreditNoteID']}").json()["CreditNotes"][0]
    assert used["RemainingCredit"] == 0 and used["Status"] == "PAID" and len(used["Allocations"]) == 1
    credited = api.get(f"Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert credited["AmountCredited"] == 33 and credited["AmountDue"] == 77
    assert credited["CreditNotes"][0]["CreditNoteID"] == note["CreditNoteID"]
    removed = requests.delete(f"{api.sb.api_base}/CreditNotes/{note['CreditNoteID']}/Allocations/"
                              f"{alloc['AllocationID']}", headers=api.headers(), timeout=5)
    assert removed.status_code == 200 and removed.json()["IsDeleted"] is True
    restored = api.get(f"Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert restored["AmountDue"] == 110 and restored["CreditNotes"] == []
    assert api.get(f"CreditNotes/{note['CreditNoteID']}").json()["CreditNotes"][0]["RemainingCredit"] == 33
    discount = api.put("CreditNotes", {"Type": "ACCRECCREDIT", "Contact": {"ContactID": cust},
                                       "LineItems": [line(5, DiscountRate=10)]})
    assert discount.status_code == 400  # discounts are for sales invoices only


# --- request validation ---------------------------------------------------------------------------------------


def test_the_specs_ship_with_the_package_and_their_licence():
    assert schema.DEFAULT_SPEC == schema.SPEC_DIR / "xero_accounting.yaml"
    assert schema.SPEC_DIR.parent == Path(schema.__file__).resolve().parents[1]  # inside connectors/xero
    for name in ("xero_accounting.yaml", "xero-webhooks.yaml", "xero-identity.yaml", "LICENSE", "README.md"):
        assert (schema.SPEC_DIR / name).is_file(), f"connectors/xero/spec/{name} is missing"
    assert "MIT License" in (schema.SPEC_DIR / "LICENSE").read_text(encoding="utf-8")
    status = schema.status(schema.DEFAULT_SPEC)
    assert status["enabled"], status["reason"]  # jsonschema, PyYAML and the file: a missing one fails here
    assert status == {"enabled": True, "file": "xero_accounting.yaml",
                      "version": spec_document("xero_accounting.yaml")["info"]["version"]}


def test_bodies_are_validated_against_the_openapi_spec(api, sandbox):
    assert sandbox.state()["validation"]["enabled"] is True, sandbox.state()["validation"]
    cust = api.contact()["ContactID"]
    bad_enum = api.put("Invoices", {"Type": "ACCREC", "Contact": {"ContactID": cust}, "LineAmountTypes": "NO_TAX",
                                    "LineItems": [line(5)]})
    body = bad_enum.json()
    assert bad_enum.status_code == 400 and body["ErrorNumber"] == 14 and body["Type"] == "PostDataInvalidException"
    assert "'NO_TAX' is not one of" in body["Message"] and "Path 'Invoices[0].LineAmountTypes'" in body["Message"]
    wrong_type = api.put("Invoices", {"Type": "ACCREC", "Contact": {"ContactID": cust},
                                      "LineItems": [line("5.00")]})
    assert "Path 'Invoices[0].LineItems[0].UnitAmount'" in wrong_type.json()["Message"]
    not_uuid = api.put("Invoices", {"Type": "ACCREC", "Contact": {"ContactID": "abc"}, "LineItems": [line(5)]})
    assert not_uuid.json()["ErrorNumber"] == 14
    missing_required = api.call("PUT", "Items", {"Items": [{"Name": "no code"}]})
    assert "'Code' is a required property" in missing_required.json()["Message"]
    note = api.ok(api.put("CreditNotes", {"Type": "ACCRECCREDIT", "Contact": {"ContactID": cust},
                                          "LineItems": [line(5)]}), "CreditNotes")
    allocation = api.call("PUT", f"CreditNotes/{note['CreditNoteID']}/Allocations", {"Allocations": [{"Amount": 1}]})
    assert allocation.json()["ErrorNumber"] == 14  # Invoice and Date are required by the spec
    unknown = api.call("PUT", "CreditNotes/00000000-0000-0000-0000-000000000000/Allocations",
                       {"Allocations": [{"Amount": 1}]})
    assert unknown.status_code == 404
    assert sandbox.store.entities("Invoices") == []
    assert sandbox.state()["validation"]["enabled"] is True


def test_malformed_json_and_empty_batches(api):
    raw = requests.put(f"{api.sb.api_base}/Invoices", data=b"{oops", timeout=5,
                       headers={**api.headers(), "Content-Type": "application/json"})
    assert raw.status_code == 400 and raw.json()["ErrorNumber"] == 14
    assert raw.json()["Type"] == "PostDataInvalidException"
    empty = api.call("PUT", "Invoices", {"Invoices": []})
    assert empty.status_code == 400 and "No data has been processed for this endpoint" in empty.json()["Message"]
    single = api.call("PUT", "Contacts", {"Name": "Unwrapped"})  # a bare element is accepted too
    assert single.json()["Contacts"][0]["Name"] == "Unwrapped"
    nulls = api.call("PUT", "Contacts", {"Contacts": [{"Name": "Nulls", "EmailAddress": None}]})
    assert nulls.status_code == 200 and "EmailAddress" not in nulls.json()["Contacts"][0]


def test_validation_is_skipped_without_the_spec(tmp_path):
    missing = tmp_path / "absent.yaml"
    assert schema.status(missing) == {"enabled": False, "reason": "validation skipped: OpenAPI spec not found at "
                                                                  "absent.yaml (set XERO_OPENAPI_SPEC)"}
    assert schema.check("Invoices", {"Invoices": [{"Type": 42}]}, missing) is None
    sb = XeroSandbox(spec_path=missing)
    assert sb.state()["validation"]["enabled"] is False


# --- idempotency --------------------------------------------------------------------------------------------------


def test_idempotency_key_replays_the_original_response(api, sandbox, clock):
    cust = {"ContactID": api.contact()["ContactID"]}
    body = {"Type": "ACCREC", "Contact": cust, "InvoiceNumber": "IDEM-1", "LineItems": [line(10)]}
    first = api.put("Invoices", body, key="inv-1")
    second = api.put("Invoices", body, key="inv-1")
    assert first.status_code == second.status_code == 200
    assert first.json()["Invoices"] == second.json()["Invoices"]
    assert len(sandbox.store.entities("Invoices")) == 1
    reused = api.put("Invoices", {**body, "Reference": "changed"}, key="inv-1")
    assert reused.status_code == 400
    assert reused.json()["Message"] == "Idempotency Key: inv-1 is used with a different request."
    failed = api.put("Invoices", body, key="inv-2")  # a duplicate number: the error is remembered too
    assert errors_of(failed) == ["Invoice # must be unique."]
    assert api.put("Invoices", body, key="inv-2").content == failed.content
    other_tenant = sandbox.add_tenant("Second Org")
    api.token = sandbox.issue_tokens()["access_token"]
    api.tenant = other_tenant
    cust2 = {"ContactID": api.contact()["ContactID"]}
    elsewhere = api.put("Invoices", {**body, "Contact": cust2}, key="inv-1")  # keys are kept per tenant
    assert elsewhere.status_code == 200 and elsewhere.json()["Invoices"][0]["InvoiceNumber"] == "IDEM-1"
    api.tenant = sandbox.tenant_id
    clock.advance(361)  # Xero keeps a key for about six minutes
    expired = api.put("Invoices", body, key="inv-1")
    assert errors_of(expired) == ["Invoice # must be unique."]
    sandbox.forget_idempotency_keys()
    too_long = api.put("Invoices", body, key="k" * 129)
    assert too_long.status_code == 400
    sandbox.reset()
    assert list(sandbox.stores) == [sandbox.tenant_id]


def test_faults_never_enter_idempotency_memory_but_lost_responses_do(api, sandbox):
    cust = {"ContactID": api.contact()["ContactID"]}
    body = {"Type": "ACCREC", "Contact": cust, "LineItems": [line(10)]}
    sandbox.faults.add("http_500", match="PUT /Invoices")
    failed = api.put("Invoices", body, key="f-1")
    assert failed.status_code == 500 and failed.json()["Title"] == "Internal Server Error"
    assert api.put("Invoices", body, key="f-1").status_code == 200
    sandbox.faults.add("lost_response", match="PUT /Invoices")
    with pytest.raises(requests.ConnectionError):
        api.put("Invoices", body, key="f-2")
    assert len(sandbox.store.entities("Invoices")) == 2  # the write happened
    retry = api.put("Invoices", body, key="f-2")
    assert retry.status_code == 200 and len(sandbox.store.entities("Invoices")) == 2
    assert retry.json()["Invoices"][0]["InvoiceNumber"] == "INV-0002"


# --- limits ---------------------------------------------------------------------------------------------------------


def test_minute_and_day_limits(api, sandbox, clock):
    ok = api.get("Accounts")
    assert ok.headers["X-MinLimit-Remaining"] == "59" and ok.headers["X-DayLimit-Remaining"] == "4999"
    assert ok.headers["X-AppMinLimit-Remaining"] == "9999"
    sandbox.limits.set("minute", 3)
    assert api.get("Accounts").headers["X-MinLimit-Remaining"] == "1"
    api.get("Accounts")
    limited = api.get("Accounts")
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60 and limited.headers["X-MinLimit-Remaining"] == "0"
    clock.advance(61)
    assert api.get("Accounts").status_code == 200
    sandbox.limits.set("day", 4)  # four counted so far (the 429 was not)
    day = api.get("Accounts")
    assert day.status_code == 429 and day.headers["X-Rate-Limit-Problem"] == "day"
    sandbox.limits.off()
    assert api.get("Accounts").status_code == 200 and "X-MinLimit-Remaining" not in api.get("Accounts").headers
    sandbox.limits.restore()
    assert api.get("Accounts").headers["X-DayLimit-Remaining"] == "4999"


def test_concurrent_and_app_limits(api, sandbox):
    sandbox.limits.set("concurrent", 1)
    with sandbox.limits.concurrent("concurrent", api.tenant):  # another request is in flight
        busy = api.get("Accounts")
    assert busy.status_code == 429 and busy.headers["X-Rate-Limit-Problem"] == "concurrent"
    assert "Retry-After" not in busy.headers  # Xero documents Retry-After for the minute and day limits
    assert api.get("Accounts").status_code == 200
    sandbox.limits.set("appminute", 2)
    api.get("Accounts")
    app = api.get("Accounts")
    assert app.status_code == 429 and app.headers["X-Rate-Limit-Problem"] == "appminute"


def test_concurrency_limit_under_real_parallel_requests(api, sandbox):
    sandbox.faults.timeout_seconds = 1.0
    sandbox.faults.add("timeout", count=5, match="GET /Accounts")  # five slow requests hold every slot
    fired = len(sandbox.faults.fired) + 5
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda: statuses.append(api.get("Accounts").status_code)) for _ in range(5)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 5
        while len(sandbox.faults.fired) < fired and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # past the fault pick: each of the five now sits in its slot
        sixth = api.get("Organisation")
        for thread in threads:
            thread.join()
    finally:
        sandbox.faults.timeout_seconds = 5
    assert statuses == [200] * 5
    assert sixth.status_code == 429 and sixth.headers["X-Rate-Limit-Problem"] == "concurrent"


# --- faults and control endpoints ------------------------------------------------------------------------------


def test_rate_limit_and_http_faults(api, sandbox):
    sandbox.faults.add("rate_limit", retry_after=7)
    limited = api.get("Invoices")
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert limited.headers["Retry-After"] == "7"
    sandbox.faults.add("rate_limit", problem="day", retry_after=3600)
    day = api.get("Invoices")
    assert day.headers["X-Rate-Limit-Problem"] == "day" and day.headers["Retry-After"] == "3600"
    sandbox.faults.add("http_503")
    assert api.get("Invoices").status_code == 503
    sandbox.faults.add("reset", match="PUT /Contacts")
    with pytest.raises(requests.ConnectionError):
        api.put("Contacts", {"Name": "Never"})
    assert sandbox.store.entities("Contacts") == []
    with pytest.raises(ValueError):
        sandbox.faults.add("rate_limit", problem="hour")


def test_timeout_fault_applies_the_write(api, sandbox):
    sandbox.faults.timeout_seconds = 0.3
    sandbox.faults.add("timeout", match="PUT /Contacts")
    try:
        with pytest.raises(requests.Timeout):
            requests.put(f"{sandbox.api_base}/Contacts", json={"Contacts": [{"Name": "Slow"}]},
                         headers=api.headers(), timeout=0.1)
    finally:
        sandbox.faults.timeout_seconds = 5
    time.sleep(0.3)
    assert [c["Name"] for c in sandbox.store.entities("Contacts")] == ["Slow"]


def test_control_endpoints(api, sandbox):
    control = f"{sandbox.base_url}/_sandbox"
    assert requests.post(f"{control}/faults", json={"kind": "rate_limit", "problem": "day"}, timeout=5).ok
    assert api.get("Contacts").headers["X-Rate-Limit-Problem"] == "day"
    assert requests.post(f"{control}/faults", json={"probability": 1.0, "kinds": ["http_503"], "seed": 1},
                         timeout=5).ok
    assert api.get("Contacts").status_code == 503
    assert requests.post(f"{control}/faults", json={"clear": True}, timeout=5).ok
    assert requests.post(f"{control}/limits", json={"name": "minute", "limit": 1}, timeout=5).json()["rules"][
        "minute"] == [1, 60.0]
    assert api.get("Contacts").status_code == 200 and api.get("Contacts").status_code == 429
    assert requests.post(f"{control}/limits", json={"restore": True}, timeout=5).ok
    api.contact("Controlled")
    state = requests.get(f"{control}/state", timeout=5).json()
    assert state["counts"][sandbox.tenant_id]["Contacts"] == 1 and state["counts"][sandbox.tenant_id]["Accounts"] == 18
    assert state["validation"]["enabled"] in (True, False) and state["connections"]
    tokens = requests.post(f"{control}/tokens", timeout=5).json()
    assert tokens["expires_in"] == 1800 and tokens["refresh_token"]
    assert requests.post(f"{control}/forget-idempotency-keys", timeout=5).json() == {"ok": True}
    assert requests.post(f"{control}/reset", timeout=5).ok
    assert sandbox.requests_log == [] and sandbox.store.entities("Contacts") == []
    assert api.get("Contacts").status_code == 200  # tokens survive a reset


def test_concurrent_writes_get_unique_numbers(api, sandbox):
    sandbox.limits.off()
    cust = {"ContactID": api.contact()["ContactID"]}
    results: list[int] = []

    def create() -> None:
        results.append(api.put("Invoices", {"Type": "ACCREC", "Contact": cust, "LineItems": [line(1)]}).status_code)

    threads = [threading.Thread(target=create) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 12
    assert len({i["InvoiceNumber"] for i in sandbox.store.entities("Invoices")}) == 12


def test_session_fixture_resets_between_tests(xsandbox):
    assert xsandbox.store.entities("Contacts") == [] and xsandbox.faults.pending == []
    assert xsandbox.limits.rules["minute"] == (60, 60.0)
    tokens = xsandbox.issue_tokens()
    response = requests.get(f"{xsandbox.api_base}/Organisation", timeout=5, headers={
        "Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": xsandbox.tenant_id})
    assert response.status_code == 200


# --- pure parts -----------------------------------------------------------------------------------------------------


def test_money_helpers():
    assert line_amounts({"LineAmount": Decimal("10")}, 2)["Quantity"] == 1
    assert line_amounts({"Quantity": Decimal("3"), "LineAmount": Decimal("10")}, 4)["UnitAmount"] == Decimal("3.3333")
    assert line_tax(Decimal("0.05"), Decimal("10"), "Exclusive") == Decimal("0.01")  # half-up, not half-even
    assert line_tax(Decimal("100"), Decimal("10"), "Exclusive", override=Decimal("9.995")) == Decimal("10.00")
    sums = totals([{"LineAmount": Decimal("11.00"), "TaxAmount": Decimal("1.00")}], "Inclusive")
    assert (sums.sub_total, sums.total_tax, sums.total) == (Decimal("10.00"), Decimal("1.00"), Decimal("11.00"))


def test_where_parser():
    match = compile_where('Type=="ACCREC" AND (Status=="DRAFT" OR AmountDue > 10) and not IsDiscounted')
    assert match({"Type": "ACCREC", "Status": "PAID", "AmountDue": 11, "IsDiscounted": False})
    assert not match({"Type": "ACCREC", "Status": "PAID", "AmountDue": 9, "IsDiscounted": False})
    dated = compile_where("Date >= DateTime(2024, 02, 01)")
    assert dated({"Date": "/Date(1706745600000+0000)/"}) and not dated({"Date": "/Date(1706659200000+0000)/"})
    assert compile_where('EmailAddress.Contains("@EXAMPLE")')({"EmailAddress": "a@example.com"})
    with pytest.raises(XeroError):
        compile_where('Name == "unterminated')


# --- the official SDK -------------------------------------------------------------------------------------------


def test_official_xero_python_sdk(sandbox, monkeypatch):
    """If xero-python and the sandbox disagree about the wire format, the sandbox is wrong."""
    pytest.importorskip("xero_python")
    from xero_python.accounting import (
        Account,
        AccountingApi,
        Contact,
        Contacts,
        CurrencyCode,
        Invoice,
        Invoices,
        LineAmountTypes,
        LineItem,
        Payment,
    )
    from xero_python.api_client import ApiClient, Configuration
    from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
    from xero_python.exceptions import (
        AccountingBadRequestException,
        NotFoundException,
        RateLimitException,
    )

    sandbox.reset()
    token = sandbox.issue_tokens()
    token.update(scope=token["scope"].split(), expires_at=time.time() + token["expires_in"])
    stored: dict = {}
    client = ApiClient(Configuration(oauth2_token=OAuth2Token()), pool_threads=1)
    # Configuration() is a disguised singleton (xero-python#99): give this client its own OAuth2Token.
    client.configuration.oauth2_token = OAuth2Token(client_id="sandbox-client", client_secret="sandbox-secret")
    client.oauth2_token_getter(lambda: stored)
    client.oauth2_token_saver(lambda new: stored.update(new))
    client.set_oauth2_token(token)
    accounting = AccountingApi(client, base_url=sandbox.api_base)
    tenant = sandbox.tenant_id

    assert accounting.get_organisations(tenant).organisations[0].base_currency == CurrencyCode.USD
    contact = accounting.create_contacts(tenant, Contacts(contacts=[Contact(name="SDK Customer",
                                                                            email_address="sdk@example.com")]),
                                         idempotency_key="sdk-contact-1").contacts[0]
    assert contact.contact_id and contact.updated_date_utc.tzinfo is not None
    invoice = Invoice(type="ACCREC", contact=Contact(contact_id=contact.contact_id), status="AUTHORISED",
                      date=dt.date(2026, 1, 5), due_date=dt.date(2026, 2, 4), reference="ORDER-42",
                      line_amount_types=LineAmountTypes.EXCLUSIVE, currency_code=CurrencyCode.USD,
                      line_items=[LineItem(description="Widget", quantity=Decimal("3"), unit_amount=Decimal("19.99"),
                                           account_code="200", tax_type="OUTPUT")])
    created = accounting.create_invoices(tenant, Invoices(invoices=[invoice]), idempotency_key="sdk-inv-1")
    replay = accounting.create_invoices(tenant, Invoices(invoices=[invoice]), idempotency_key="sdk-inv-1")
    made = created.invoices[0]
    assert replay.invoices[0].invoice_id == made.invoice_id and len(sandbox.store.entities("Invoices")) == 1
    assert (made.total, made.total_tax, made.date, made.status) == (Decimal("65.97"), Decimal("6.00"),
                                                                    dt.date(2026, 1, 5), "AUTHORISED")
    read = accounting.get_invoice(tenant, made.invoice_id).invoices[0]
    assert read.reference == "ORDER-42" and read.contact.name == "SDK Customer"
    assert read.line_items[0].line_amount == Decimal("59.97") and read.due_date == dt.date(2026, 2, 4)
    listed = accounting.get_invoices(tenant, page=1, statuses=["AUTHORISED"], contact_i_ds=[contact.contact_id])
    assert [i.invoice_number for i in listed.invoices] == [made.invoice_number] and listed.pagination.item_count == 1
    payment = accounting.create_payment(tenant, Payment(invoice=Invoice(invoice_id=made.invoice_id),
                                                        account=Account(code="090"), date=dt.date(2026, 1, 20),
                                                        amount=Decimal("65.97"))).payments[0]
    assert payment.amount == Decimal("65.97")
    assert accounting.get_invoice(tenant, made.invoice_id).invoices[0].status == "PAID"

    with pytest.raises(AccountingBadRequestException) as bad:
        accounting.create_contacts(tenant, Contacts(contacts=[Contact(name="sdk customer")]))
    assert bad.value.reason.startswith("The contact name sdk customer is already assigned")
    with pytest.raises(NotFoundException):
        accounting.get_invoice(tenant, "00000000-0000-0000-0000-000000000000")
    sandbox.faults.add("rate_limit", problem="concurrent")  # no Retry-After, so urllib3 does not retry it
    with pytest.raises(RateLimitException) as limited:
        accounting.get_contacts(tenant)
    assert limited.value.rate_limit == "concurrent"

    monkeypatch.setattr(TokenApi, "refresh_token_url", sandbox.token_url)
    calls, old_refresh = sandbox.token_calls, stored["refresh_token"]
    refreshed = client.refresh_oauth2_token()
    assert sandbox.token_calls == calls + 1 and refreshed["refresh_token"] != old_refresh
    assert accounting.get_contact(tenant, contact.contact_id).contacts[0].name == "SDK Customer"
    sandbox.reset()


# --- standalone ----------------------------------------------------------------------------------------------------


def test_python_dash_m_entry_point():
    proc = subprocess.Popen([sys.executable, "-m", "connectors.xero.sandbox", "--port", "0"], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split()[3]
        assert requests.get(f"{url}/_sandbox/state", timeout=5).json()["tenant_id"]
    finally:
        proc.terminate()
        proc.wait(timeout=5)
