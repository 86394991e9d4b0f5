"""Tests for the QBO sandbox: real loopback HTTP via ``requests``, no Django DB."""

from __future__ import annotations

import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.qbo.sandbox import QBOSandbox
from connectors.qbo.sandbox.query import parse_query
from tests.connectors.sandbox_clock import Clock

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def sandbox(clock):
    sb = QBOSandbox(clock=clock).start()
    yield sb
    sb.stop()


class Api:
    """Tiny QBO client for tests; deliberately not our connector."""

    def __init__(self, sb: QBOSandbox) -> None:
        self.sb = sb
        self.token = sb.issue_tokens()["access_token"]
        self.base = f"{sb.api_base}/company/{sb.realm_id}"

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def post(self, entity: str, body: dict, **params) -> requests.Response:
        return requests.post(f"{self.base}/{entity}", json=body, params=params, headers=self.headers(), timeout=5)

    def get(self, entity: str, entity_id: str) -> requests.Response:
        return requests.get(f"{self.base}/{entity}/{entity_id}", headers=self.headers(), timeout=5)

    def query(self, text: str) -> requests.Response:
        return requests.get(f"{self.base}/query", params={"query": text, "minorversion": "75"},
                            headers=self.headers(), timeout=5)

    def ok(self, entity: str, body: dict, **params) -> dict:
        response = self.post(entity, body, **params)
        assert response.status_code == 200, response.text
        return response.json()[next(k for k in response.json() if k != "time")]

    def customer(self, name: str = "Acme", **extra) -> dict:
        return self.ok("customer", {"DisplayName": name, **extra})

    def item(self, name: str = "Widget") -> dict:
        return self.ok("item", {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": "1"}})

    def invoice(self, customer_id: str, amount: str = "100.00", **extra) -> dict:
        line = {"Amount": amount, "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": self.item_id}, "Qty": 1, "UnitPrice": amount}}
        return self.ok("invoice", {"CustomerRef": {"value": customer_id}, "Line": [line], **extra})


@pytest.fixture
def api(sandbox):
    sandbox.reset()
    client = Api(sandbox)
    client.item_id = client.item()["Id"]
    return client


def fault_of(response: requests.Response) -> dict:
    body = response.json()
    assert set(body) == {"Fault", "time"}
    return body["Fault"]["Error"][0]


def sales_line(item_id: str, amount, qty=None, price=None, tax=None) -> dict:
    detail = {"ItemRef": {"value": item_id}}
    if qty is not None:
        detail["Qty"] = qty
    if price is not None:
        detail["UnitPrice"] = price
    if tax:
        detail["TaxCodeRef"] = {"value": tax}
    return {"Amount": amount, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}


# --- OAuth -------------------------------------------------------------------


def test_discovery_document_points_at_sandbox(sandbox):
    doc = requests.get(sandbox.discovery_url, timeout=5).json()
    assert doc["token_endpoint"] == sandbox.token_url
    assert doc["authorization_endpoint"] == sandbox.authorize_url
    for key in ("revocation_endpoint", "issuer", "userinfo_endpoint", "jwks_uri"):
        assert doc[key].startswith(sandbox.base_url)


def test_intuit_oauth_client_full_flow_with_rotation(sandbox):
    from intuitlib.client import AuthClient
    from intuitlib.enums import Scopes
    from intuitlib.exceptions import AuthClientError

    client = AuthClient("sandbox-client", "sandbox-secret", "http://localhost/callback", sandbox.discovery_url)
    url = client.get_authorization_url([Scopes.ACCOUNTING])
    redirect = requests.get(url, allow_redirects=False, timeout=5)
    assert redirect.status_code == 302
    params = {k: v[0] for k, v in parse_qs(urlsplit(redirect.headers["Location"]).query).items()}
    assert params["state"] == client.state_token and params["realmId"] == sandbox.realm_id
    calls = sandbox.token_calls
    client.get_bearer_token(params["code"], realm_id=params["realmId"])
    assert client.expires_in == 3600 and client.x_refresh_token_expires_in == 8726400
    first_refresh = client.refresh_token
    client.refresh()
    assert client.refresh_token != first_refresh
    assert sandbox.token_calls == calls + 2
    with pytest.raises(AuthClientError) as err:  # rotated out, grace 0
        client.refresh(refresh_token=first_refresh)
    assert err.value.status_code == 400 and err.value.content and b"invalid_grant" in err.value.content
    with pytest.raises(AuthClientError):  # an authorization code is single-use
        client.get_bearer_token(params["code"])


def test_a_company_per_consent_each_token_for_its_own_company(clock):
    """``company_per_consent``: each consent after the first picks a new company, as a user with several companies
    does on Intuit's consent screen; a token reads and writes its own company only, and limits count per company."""
    from intuitlib.client import AuthClient
    from intuitlib.enums import Scopes

    sb = QBOSandbox(clock=clock, company_per_consent=True).start()
    try:
        realms, tokens = [], []
        for _ in range(3):
            client = AuthClient("sandbox-client", "sandbox-secret", "http://localhost/callback", sb.discovery_url)
            redirect = requests.get(client.get_authorization_url([Scopes.ACCOUNTING]), allow_redirects=False,
                                    timeout=5)
            params = {k: v[0] for k, v in parse_qs(urlsplit(redirect.headers["Location"]).query).items()}
            client.get_bearer_token(params["code"], realm_id=params["realmId"])
            realms.append(params["realmId"])
            tokens.append(client.access_token)
        assert realms[0] == sb.realm_id and len(set(realms)) == 3 and sb.state()["companies"] == 3

        def call(token, realm, method="GET", entity="query", **kw):
            return requests.request(method, f"{sb.api_base}/company/{realm}/{entity}", timeout=5,
                                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                                    **kw)

        made = call(tokens[1], realms[1], "POST", "customer", json={"DisplayName": "Only in the second"})
        assert made.status_code == 200, made.text
        customers = {"query": "select * from Customer"}
        names = {realm: [c["DisplayName"] for c in call(token, realm, params=customers).json()["QueryResponse"]
                         .get("Customer", [])] for realm, token in zip(realms, tokens, strict=True)}
        assert names[realms[1]] == ["Only in the second"] and "Only in the second" not in names[realms[0]] + \
            names[realms[2]]
        assert call(tokens[1], realms[2], params={"query": "select * from Customer"}).status_code == 403
        accounts = call(tokens[2], realms[2], params={"query": "select * from Account"}).json()
        assert any(a["Name"] == "Accounts Receivable" for a in accounts["QueryResponse"]["Account"])  # seeded
        sb.limits.clear()
        sb.limits.set("per_minute", 1, 60)
        items = {"query": "select * from Item"}
        assert [call(tokens[1], realms[1], params=items).status_code for _ in range(2)] == [200, 429]
        assert call(tokens[2], realms[2], params=items).status_code == 200  # a budget of its own
        sb.reset()  # the other companies go; their tokens are refused
        assert sb.state()["companies"] == 1
        assert call(tokens[1], realms[1], params=items).status_code == 403
    finally:
        sb.stop()


def test_token_endpoint_errors(sandbox):
    tokens = sandbox.issue_tokens()
    bad = requests.post(sandbox.token_url, auth=("sandbox-client", "wrong"), timeout=5,
                        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert bad.status_code == 401 and bad.json() == {"error": "invalid_client"}
    unknown = requests.post(sandbox.token_url, auth=("sandbox-client", "sandbox-secret"), timeout=5,
                            data={"grant_type": "refresh_token", "refresh_token": "nope"})
    assert unknown.status_code == 400 and unknown.json() == {"error": "invalid_grant"}


def test_refresh_grace_window(sandbox, clock):
    sandbox.auth.refresh_grace_seconds = 60
    try:
        old = sandbox.issue_tokens()["refresh_token"]
        form = {"grant_type": "refresh_token", "refresh_token": old}
        auth = ("sandbox-client", "sandbox-secret")
        assert requests.post(sandbox.token_url, auth=auth, data=form, timeout=5).status_code == 200
        assert requests.post(sandbox.token_url, auth=auth, data=form, timeout=5).status_code == 200
        clock.advance(61)
        assert requests.post(sandbox.token_url, auth=auth, data=form, timeout=5).status_code == 400
    finally:
        sandbox.auth.refresh_grace_seconds = 0


def test_api_rejects_bad_and_expired_tokens(api, sandbox, clock):
    assert api.query("select * from Account").status_code == 200
    api.token = "garbage"
    response = api.query("select * from Account")
    assert response.status_code == 401
    assert response.json()["fault"]["error"][0]["code"] == "3200"
    tokens = sandbox.issue_tokens()
    api.token = tokens["access_token"]
    clock.advance(3601)
    expired = api.query("select * from Account")
    assert expired.status_code == 401 and "AuthenticationFailed" in expired.text
    refreshed = requests.post(sandbox.token_url, auth=("sandbox-client", "sandbox-secret"), timeout=5,
                              data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    api.token = refreshed.json()["access_token"]
    assert api.query("select * from Account").status_code == 200


def test_revoke_kills_the_grant(api, sandbox):
    tokens = sandbox.issue_tokens()
    api.token = tokens["access_token"]
    response = requests.post(sandbox.revoke_url, json={"token": tokens["refresh_token"]}, timeout=5,
                             auth=("sandbox-client", "sandbox-secret"))
    assert response.status_code == 200
    assert api.query("select * from Account").status_code == 401


# --- reference data, routing ----------------------------------------------------


def test_seeded_reference_data(api):
    accounts = api.query("select * from Account maxresults 1000").json()["QueryResponse"]["Account"]
    by_name = {a["Name"]: a for a in accounts}
    assert by_name["Undeposited Funds"]["AccountType"] == "Other Current Asset"
    assert by_name["Accounts Receivable"]["AccountType"] == "Accounts Receivable"
    assert {"Sales", "Services", "Shipping Income", "Fees", "Discounts given", "Checking"} <= set(by_name)
    codes = {c["Id"]: c for c in api.query("select * from TaxCode").json()["QueryResponse"]["TaxCode"]}
    assert {"TAX", "NON", "3", "4"} <= set(codes) and codes["3"]["Name"] == "GST 10%"
    rates = api.query("select * from TaxRate").json()["QueryResponse"]["TaxRate"]
    assert {r["Name"]: r["RateValue"] for r in rates}["GST"] == 10
    prefs = api.get("preferences", "").json()["Preferences"]["CurrencyPrefs"]
    assert prefs == {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "USD"}}
    currencies = api.query("select * from CompanyCurrency").json()["QueryResponse"]["CompanyCurrency"]
    assert {c["Code"] for c in currencies} == {"CAD", "EUR", "GBP", "AUD"}


def test_routing_faults_and_headers(api, sandbox):
    other = requests.get(f"{sandbox.api_base}/company/123/customer/1", headers=api.headers(), timeout=5)
    assert other.status_code == 403 and other.json()["fault"]["error"][0]["code"] == "3100"
    unknown = api.post("widget", {})
    assert unknown.status_code == 400 and fault_of(unknown)["code"] == "500"
    typo = api.post("customer", {"DisplayName": "X", "DisplayNmae": "Y"})
    assert fault_of(typo)["code"] == "2010" and "DisplayNmae" in fault_of(typo)["Detail"]
    assert typo.headers["intuit_tid"]
    not_json = requests.post(f"{api.base}/customer", data=b"{oops", headers=api.headers(), timeout=5)
    assert not_json.status_code == 400
    assert ("POST", f"/v3/company/{sandbox.realm_id}/customer", {}) in sandbox.requests_log


# --- customers and items -------------------------------------------------------------


def test_customer_duplicate_name_and_sub_customer(api):
    parent = api.customer("Acme")
    assert parent["SyncToken"] == "0" and parent["Id"] == "1"
    duplicate = api.post("customer", {"DisplayName": "acme"})
    assert duplicate.status_code == 400
    assert fault_of(duplicate)["code"] == "6240" and fault_of(duplicate)["Message"] == "Duplicate Name Exists Error"
    child = api.customer("Site A", ParentRef={"value": parent["Id"]}, Job=True)
    assert child["FullyQualifiedName"] == "Acme:Site A" and child["Level"] == 1 and child["Job"] is True
    deletion = api.post("customer", {"Id": parent["Id"], "SyncToken": "0"}, operation="delete")
    assert fault_of(deletion)["code"] == "500"
    inactive = api.ok("customer", {"Id": parent["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    assert inactive["Active"] is False and inactive["SyncToken"] == "1"
    names = [c["DisplayName"] for c in api.query("select * from Customer").json()["QueryResponse"]["Customer"]]
    assert names == ["Site A"]
    everyone = api.query("select * from Customer where Active in (true, false)").json()["QueryResponse"]
    assert len(everyone["Customer"]) == 2
    used = api.post("invoice", {"CustomerRef": {"value": parent["Id"]}, "Line": [sales_line(api.item_id, 5)]})
    assert fault_of(used)["code"] == "610"


def test_item_rules(api):
    bad_account = api.post("item", {"Name": "Gadget", "Type": "Service", "IncomeAccountRef": {"value": "999"}})
    assert bad_account.status_code == 400 and fault_of(bad_account)["code"] == "2500"
    missing = api.post("item", {"Name": "Gadget", "Type": "Service"})
    assert fault_of(missing)["code"] == "2020"
    duplicate = api.post("item", {"Name": "WIDGET", "Type": "Service", "IncomeAccountRef": {"value": "1"}})
    assert fault_of(duplicate)["code"] == "6240"
    bad_type = api.post("item", {"Name": "G2", "Type": "Thing", "IncomeAccountRef": {"value": "1"}})
    assert fault_of(bad_type)["code"] == "2170"


# --- invoices ----------------------------------------------------------------------------


def test_invoice_totals_discount_and_computed_tax(api, sandbox):
    cust = api.customer()
    invoice = api.ok("invoice", {"CustomerRef": {"value": cust["Id"]}, "DocNumber": "INV-1", "Line": [
        sales_line(api.item_id, "33.35", qty=3, price="11.115", tax="TAX"),  # 33.345 rounds half-up
        sales_line(api.item_id, 20, qty=1, price=20, tax="NON"),
        {"DetailType": "DescriptionOnly", "Description": "Thanks!"},
        {"Amount": "5.00", "DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": False}},
    ]})
    assert Decimal(str(invoice["TxnTaxDetail"]["TotalTax"])) == Decimal("2.67")  # 33.35 * 8%
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("51.02")  # 53.35 - 5 + 2.67
    assert invoice["Balance"] == invoice["TotalAmt"]
    assert invoice["Line"][-1]["DetailType"] == "SubTotalLineDetail" and invoice["Line"][-1]["Amount"] == 53.35
    assert invoice["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["NetAmountTaxable"] == 33.35
    stored = sandbox.store.get("Invoice", invoice["Id"])
    assert stored["TotalAmt"] == Decimal("51.02")  # Decimal all the way through
    assert api.get("customer", cust["Id"]).json()["Customer"]["Balance"] == 51.02


def test_invoice_tax_override_percent_discount_and_gst(api):
    cust = api.customer()
    overridden = api.ok("invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [
        sales_line(api.item_id, 200, qty=2, price=100, tax="3"),
        {"DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10}},
    ], "TxnTaxDetail": {"TotalTax": "19.99"}})
    assert overridden["TxnTaxDetail"]["TotalTax"] == 19.99
    assert overridden["TotalAmt"] == 200 - 20 + 19.99
    computed = api.ok("invoice", {"CustomerRef": {"value": cust["Id"]}, "ApplyTaxAfterDiscount": True, "Line": [
        sales_line(api.item_id, 200, qty=2, price=100, tax="3"),
        {"DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10}},
    ]})
    assert computed["TxnTaxDetail"]["TotalTax"] == 18.0  # 10% GST on 180
    assert computed["TotalAmt"] == 198.0
    # a sparse update that doesn't touch tax recomputes it (no accidental override)
    updated = api.ok("invoice", {"Id": computed["Id"], "SyncToken": "0", "sparse": True,
                                 "Line": [sales_line(api.item_id, 100, qty=1, price=100, tax="3")]})
    assert updated["TxnTaxDetail"]["TotalTax"] == 10.0 and updated["TotalAmt"] == 110.0


def test_invoice_validation_faults(api):
    cust = api.customer()
    no_lines = api.post("invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": []})
    assert fault_of(no_lines)["code"] == "2020"
    no_customer = api.post("invoice", {"CustomerRef": {"value": "999"}, "Line": [sales_line(api.item_id, 1)]})
    assert fault_of(no_customer)["code"] == "2500"
    bad_item = api.post("invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [sales_line("999", 1)]})
    assert fault_of(bad_item)["code"] == "2500"
    mismatch = api.post("invoice", {"CustomerRef": {"value": cust["Id"]},
                                    "Line": [sales_line(api.item_id, "10.00", qty=3, price="3.00")]})
    error = fault_of(mismatch)
    assert error["code"] == "6000" and "Amount is not equal to UnitPrice * Qty" in error["Detail"]
    long_doc = api.post("invoice", {"CustomerRef": {"value": cust["Id"]}, "DocNumber": "X" * 22,
                                    "Line": [sales_line(api.item_id, 1)]})
    assert fault_of(long_doc)["code"] == "2050"
    assert api.query("select count(*) from Invoice").json()["QueryResponse"]["totalCount"] == 0


def test_duplicate_docnumber_and_allow_duplicates(api):
    cust = api.customer()
    first = api.invoice(cust["Id"], DocNumber="1001")
    duplicate = api.post("invoice", {"CustomerRef": {"value": cust["Id"]}, "DocNumber": "1001",
                                     "Line": [sales_line(api.item_id, 1)]})
    error = fault_of(duplicate)
    assert duplicate.status_code == 400 and error["code"] == "6140"
    assert error["Detail"].endswith(f"DocNumber=1001 is assigned to TxnType=Invoice with TxnId={first['Id']}")
    allowed = api.ok("invoice", {"CustomerRef": {"value": cust["Id"]}, "DocNumber": "1001",
                                 "Line": [sales_line(api.item_id, 1)]}, include="allowduplicatedocnum")
    assert allowed["DocNumber"] == "1001"
    memo = api.ok("creditmemo", {"CustomerRef": {"value": cust["Id"]}, "DocNumber": "1001",
                                 "Line": [sales_line(api.item_id, 1)]})  # separate number space
    assert memo["RemainingCredit"] == 1.0


def test_read_sparse_update_full_update_and_stale_token(api):
    cust = api.customer()
    invoice = api.invoice(cust["Id"], PrivateNote="first", DocNumber="A-1")
    read = api.get("invoice", invoice["Id"])
    assert read.status_code == 200 and read.json()["Invoice"]["DocNumber"] == "A-1"
    sparse = api.ok("invoice", {"Id": invoice["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "second"})
    assert sparse["SyncToken"] == "1" and sparse["DocNumber"] == "A-1" and sparse["PrivateNote"] == "second"
    stale = api.post("invoice", {"Id": invoice["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "x"})
    assert stale.status_code == 400
    error = fault_of(stale)
    assert error["code"] == "5010" and error["Message"] == "Stale Object Error"
    assert error["Detail"].startswith("Stale Object Error : You and API API were working on this at the same time.")
    full = api.ok("invoice", {"Id": invoice["Id"], "SyncToken": "1", "CustomerRef": {"value": cust["Id"]},
                              "Line": [sales_line(api.item_id, 7)]})
    assert full["SyncToken"] == "2" and "PrivateNote" not in full and "DocNumber" not in full
    assert full["MetaData"]["CreateTime"] == invoice["MetaData"]["CreateTime"]


def test_requestid_replays_original_response(api, sandbox):
    cust = api.customer()
    body = {"CustomerRef": {"value": cust["Id"]}, "DocNumber": "R-1", "Line": [sales_line(api.item_id, 10)]}
    first = api.post("invoice", body, requestid="req-1")
    second = api.post("invoice", body, requestid="req-1")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert len(sandbox.store.entities("Invoice")) == 1
    sandbox.store.forget_request_ids()
    third = api.post("invoice", body, requestid="req-1")
    assert fault_of(third)["code"] == "6140"
    assert api.post("invoice", body, requestid="req-1").content == third.content  # faults are remembered too


# --- payments, void, delete ----------------------------------------------------------------


def test_payment_applies_and_restores_balances(api):
    cust = api.customer()
    invoice = api.invoice(cust["Id"], "100.00")
    payment = api.ok("payment", {"CustomerRef": {"value": cust["Id"]}, "TotalAmt": "70.00", "PaymentRefNum": "CHK-9",
                                 "Line": [{"Amount": "60.00", "LinkedTxn": [{"TxnId": invoice["Id"],
                                                                            "TxnType": "Invoice"}]}]})
    assert payment["UnappliedAmt"] == 10.0 and payment["DepositToAccountRef"] == {"value": "6"}
    after = api.get("invoice", invoice["Id"]).json()["Invoice"]
    assert after["Balance"] == 40.0 and after["SyncToken"] == "1"
    assert after["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    too_much = api.post("payment", {"CustomerRef": {"value": cust["Id"]}, "TotalAmt": 50, "Line": [
        {"Amount": 50, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]})
    assert fault_of(too_much)["code"] == "6000"
    other = api.customer("Other")
    wrong_customer = api.post("payment", {"CustomerRef": {"value": other["Id"]}, "TotalAmt": 5, "Line": [
        {"Amount": 5, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]})
    assert fault_of(wrong_customer)["code"] == "6000"
    blocked = api.post("invoice", {"Id": invoice["Id"], "SyncToken": "1"}, operation="void")
    assert fault_of(blocked)["code"] == "6000"
    voided = api.ok("payment", {"Id": payment["Id"], "SyncToken": "0", "sparse": True},
                    operation="update", include="void")
    assert voided["TotalAmt"] == 0 and voided["PrivateNote"].startswith("Voided")
    restored = api.get("invoice", invoice["Id"]).json()["Invoice"]
    assert restored["Balance"] == 100.0 and "LinkedTxn" not in restored
    second = api.ok("payment", {"CustomerRef": {"value": cust["Id"]}, "TotalAmt": 100, "Line": [
        {"Amount": 100, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]})
    assert api.get("invoice", invoice["Id"]).json()["Invoice"]["Balance"] == 0
    api.ok("payment", {"Id": second["Id"], "SyncToken": "0"}, operation="delete")
    assert api.get("invoice", invoice["Id"]).json()["Invoice"]["Balance"] == 100.0


def test_void_invoice_keeps_record_with_zero_amounts(api, sandbox):
    cust = api.customer()
    invoice = api.invoice(cust["Id"], "80.00", PrivateNote="order 7")
    voided = api.ok("invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="void")
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0 and voided["SyncToken"] == "1"
    assert all(line["Amount"] == 0 for line in voided["Line"])
    assert voided["PrivateNote"].startswith("Voided")
    read = api.get("invoice", invoice["Id"]).json()["Invoice"]
    assert read["TotalAmt"] == 0 and read["PrivateNote"] == voided["PrivateNote"]
    assert len(sandbox.store.entities("Invoice")) == 1


def test_delete_then_read_gives_610(api, sandbox):
    cust = api.customer()
    invoice = api.invoice(cust["Id"], DocNumber="D-1")
    deleted = api.ok("invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="delete")
    assert deleted["status"] == "Deleted"
    read = api.get("invoice", invoice["Id"])
    assert read.status_code == 400 and fault_of(read)["code"] == "610"
    assert api.query("select * from Invoice").json()["QueryResponse"] == {}
    assert sandbox.store.get("Invoice", invoice["Id"]) is None
    api.invoice(cust["Id"], DocNumber="D-1")  # a deleted invoice frees its number


def test_foreign_currency_invoice(api):
    cust = api.customer("Euro GmbH", CurrencyRef={"value": "EUR"})
    invoice = api.invoice(cust["Id"], "100.00")
    assert invoice["CurrencyRef"]["value"] == "EUR" and invoice["ExchangeRate"] == 1.08
    assert invoice["HomeTotalAmt"] == 108.0
    wrong = api.post("invoice", {"CustomerRef": {"value": cust["Id"]}, "CurrencyRef": {"value": "USD"},
                                 "Line": [sales_line(api.item_id, 1)]})
    assert fault_of(wrong)["code"] == "6000"


# --- query --------------------------------------------------------------------------------------


def test_query_language(api):
    for name in ("Alpha", "Beta", "O'Brien", "Gamma", "Delta"):
        api.customer(name)
    rows = lambda q: api.query(q).json()["QueryResponse"].get("Customer", [])  # noqa: E731
    assert [c["DisplayName"] for c in rows("select * from Customer where DisplayName = 'O\\'Brien'")] == ["O'Brien"]
    assert [c["DisplayName"] for c in rows("SELECT * FROM Customer WHERE DisplayName LIKE '%ta%' ORDERBY "
                                           "DisplayName DESC")] == ["Delta", "Beta"]
    assert len(rows("select * from Customer where DisplayName in ('Alpha', 'Gamma') and Id > '1'")) == 1
    page = api.query("select * from Customer orderby Id startposition 2 maxresults 2").json()["QueryResponse"]
    assert [c["DisplayName"] for c in page["Customer"]] == ["Beta", "O'Brien"]
    assert page["startPosition"] == 2 and page["maxResults"] == 2
    assert api.query("select count(*) from Customer").json()["QueryResponse"] == {"totalCount": 5}
    assert api.query("select * from Customer where DisplayName = 'Nobody'").json()["QueryResponse"] == {}
    since = rows("select * from Customer where MetaData.LastUpdatedTime >= '2000-01-01T00:00:00-08:00'")
    assert len(since) == 5
    posted = requests.post(f"{api.base}/query", data="select * from Customer where DisplayName = 'Beta'",
                           headers={**api.headers(), "Content-Type": "application/text"}, timeout=5)
    assert posted.json()["QueryResponse"]["Customer"][0]["DisplayName"] == "Beta"
    for broken in ("select * from Customer where DisplayName = 'O'Brien'", "select from Customer",
                   "select * from Customer where", "select * from Nope"):
        response = api.query(broken)
        assert response.status_code == 400 and fault_of(response)["code"] == "4000", broken
        assert response.json()["Fault"]["type"] == "ValidationFault"


def test_query_parser_units():
    parsed = parse_query("Select * From Invoice Where CustomerRef = '5' And TotalAmt >= 10.5 "
                         "Order By TxnDate Desc MaxResults 10 StartPosition 3")
    assert parsed.entity == "Invoice" and parsed.max_results == 10 and parsed.start == 3
    assert parsed.conditions == [("CustomerRef", "=", "5"), ("TotalAmt", ">=", "10.5")]
    assert parsed.order == [("TxnDate", True)]


# --- faults ---------------------------------------------------------------------------------------------


def test_http_error_faults(api, sandbox):
    cust = api.customer()
    sandbox.faults.add("http_500")
    assert api.query("select * from Customer").status_code == 500
    sandbox.faults.add("http_503")
    assert api.query("select * from Customer").status_code == 503
    sandbox.faults.add("rate_limit", retry_after=7)
    limited = api.query("select * from Customer")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert "ThrottleExceeded" in limited.json()["fault"]["error"][0]["message"]
    sandbox.faults.add("http_500", match="POST /invoice")
    assert api.query("select * from Customer").status_code == 200  # not matched
    assert api.post("invoice", {"CustomerRef": {"value": cust["Id"]},
                                "Line": [sales_line(api.item_id, 1)]}).status_code == 500
    assert sandbox.store.entities("Invoice") == []


def test_reset_fault_drops_connection_without_applying(api, sandbox):
    cust = api.customer()
    sandbox.faults.add("reset", match="POST /invoice")
    with pytest.raises(requests.ConnectionError):
        api.invoice(cust["Id"])
    assert sandbox.store.entities("Invoice") == []


def test_lost_response_applies_write_and_requestid_recovers(api, sandbox):
    cust = api.customer()
    body = {"CustomerRef": {"value": cust["Id"]}, "DocNumber": "L-1", "Line": [sales_line(api.item_id, 12)]}
    sandbox.faults.add("lost_response", match="POST /invoice")
    with pytest.raises(requests.ConnectionError):
        api.post("invoice", body, requestid="lost-1")
    assert [i["DocNumber"] for i in sandbox.store.entities("Invoice")] == ["L-1"]
    retry = api.post("invoice", body, requestid="lost-1")
    assert retry.status_code == 200 and retry.json()["Invoice"]["DocNumber"] == "L-1"
    assert len(sandbox.store.entities("Invoice")) == 1


def test_timeout_fault(api, sandbox):
    cust = api.customer()
    sandbox.faults.timeout_seconds = 0.3
    sandbox.faults.add("timeout", match="POST /invoice")
    try:
        with pytest.raises(requests.Timeout):
            requests.post(f"{api.base}/invoice", headers=api.headers(), timeout=0.1,
                          json={"CustomerRef": {"value": cust["Id"]}, "Line": [sales_line(api.item_id, 3)]})
    finally:
        sandbox.faults.timeout_seconds = 5
    assert len(sandbox.store.entities("Invoice")) == 1  # the server finished the work


def test_random_faults_and_http_control(api, sandbox):
    sandbox.faults.rate(1.0, kinds=["http_503"], seed=1)
    assert api.query("select * from Account").status_code == 503
    sandbox.faults.rate(0)
    control = f"{sandbox.base_url}/_sandbox"
    assert requests.post(f"{control}/faults", json={"kind": "http_500", "count": 2}, timeout=5).status_code == 200
    assert [api.query("select * from Account").status_code for _ in range(3)] == [500, 500, 200]
    api.customer()
    state = requests.get(f"{control}/state", timeout=5).json()
    assert state["counts"]["Customer"] == 1 and state["counts"]["Account"] == 15
    assert requests.post(f"{control}/reset", timeout=5).status_code == 200
    assert sandbox.requests_log == []
    assert requests.get(f"{control}/state", timeout=5).json()["counts"]["Customer"] == 0
    assert api.query("select * from Account").status_code == 200  # tokens survive reset


def test_concurrent_writes_get_unique_ids(api, sandbox):
    results: list[int] = []

    def create(n: int) -> None:
        results.append(api.post("customer", {"DisplayName": f"C{n}"}).status_code)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(16)]
    sandbox.limits.set("concurrent", None)  # 16 at once is beyond QBO's 10 in flight; this test is about ids
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sandbox.limits.set("concurrent", 10)
    assert results == [200] * 16
    assert len({c["Id"] for c in sandbox.store.entities("Customer")}) == 16


@pytest.mark.parametrize("kind", ["http_500", "http_503", "rate_limit", "reset", "timeout", "lost_response"])
def test_random_faults_can_pick_every_kind(api, sandbox, kind):
    sandbox.faults.timeout_seconds = 0.3
    sandbox.faults.rate(1.0, kinds=[kind], seed=7)
    try:
        if kind in ("reset", "lost_response"):
            with pytest.raises(requests.ConnectionError):
                api.post("customer", {"DisplayName": "Random"})
        elif kind == "timeout":
            with pytest.raises(requests.Timeout):
                requests.post(f"{api.base}/customer", json={"DisplayName": "Random"}, headers=api.headers(),
                              timeout=0.1)
        else:
            assert api.post("customer", {"DisplayName": "Random"}).status_code == {"http_500": 500, "http_503": 503,
                                                                                   "rate_limit": 429}[kind]
    finally:
        sandbox.faults.rate(0)
        sandbox.faults.timeout_seconds = 5
    applied = kind in ("timeout", "lost_response")  # processed first, then the answer is late or lost
    assert [c["DisplayName"] for c in sandbox.store.entities("Customer")] == (["Random"] if applied else [])
    assert sandbox.faults.fired[-1][0] == kind


# --- closed books (6210) ---------------------------------------------------------------------------------------


def test_closing_date_blocks_transactions_on_or_before_it(api, sandbox):
    cust = api.customer()
    old = api.invoice(cust["Id"], TxnDate="2024-03-31", DocNumber="OLD")
    new = api.invoice(cust["Id"], TxnDate="2024-04-01", DocNumber="NEW")
    paid = api.ok("payment", {"CustomerRef": {"value": cust["Id"]}, "TotalAmt": 5, "TxnDate": "2024-02-01"})
    sandbox.store.closing_date = "2024-03-31"
    try:
        blocked = [
            api.post("invoice", {"CustomerRef": {"value": cust["Id"]}, "TxnDate": "2024-03-31",
                                 "Line": [sales_line(api.item_id, 1)]}),
            api.post("invoice", {"Id": old["Id"], "SyncToken": old["SyncToken"], "sparse": True, "PrivateNote": "x"}),
            api.post("invoice", {"Id": new["Id"], "SyncToken": new["SyncToken"], "sparse": True,
                                 "TxnDate": "2024-01-15"}),  # moving a transaction into the closed period
            api.post("invoice", {"Id": old["Id"], "SyncToken": old["SyncToken"]}, operation="void"),
            api.post("invoice", {"Id": old["Id"], "SyncToken": old["SyncToken"]}, operation="delete"),
            api.post("payment", {"Id": paid["Id"], "SyncToken": paid["SyncToken"], "sparse": True},
                     operation="update", include="void"),
        ]
        for response in blocked:
            assert response.status_code == 400
            error = fault_of(response)
            assert error["code"] == "6210", error
            assert error["Message"] == "Account Period Closed, Cannot Update Through Services API"
            assert error["Detail"].startswith("The account period has closed and the account books cannot be updated")
        assert api.post("invoice", {"Id": new["Id"], "SyncToken": new["SyncToken"], "sparse": True,
                                    "PrivateNote": "open period"}).status_code == 200
        assert api.post("customer", {"DisplayName": "Names are not dated"}).status_code == 200
        prefs = api.get("preferences", "").json()["Preferences"]
        assert prefs["AccountingInfoPrefs"]["BookCloseDate"] == "2024-03-31"
        result = requests.post(f"{api.base}/batch", headers=api.headers(), timeout=5, json={"BatchItemRequest": [
            {"bId": "1", "operation": "create", "Invoice": {
                "CustomerRef": {"value": cust["Id"]}, "TxnDate": "2023-12-31", "Line": [sales_line(api.item_id, 1)]}}]})
        assert result.json()["BatchItemResponse"][0]["Fault"]["Error"][0]["code"] == "6210"
        assert sandbox.store.get("Invoice", old["Id"])["SyncToken"] == old["SyncToken"]
    finally:
        sandbox.store.closing_date = None


def test_closing_date_control_endpoint_and_reset(api, sandbox):
    control = f"{sandbox.base_url}/_sandbox/settings"
    assert requests.post(control, json={"closing_date": "2030-12-31"}, timeout=5).json() == {
        "closing_date": "2030-12-31"}
    try:
        assert str(sandbox.store.closing_date) == "2030-12-31"
        assert requests.get(f"{sandbox.base_url}/_sandbox/state", timeout=5).json()["settings"] == {
            "closing_date": "2030-12-31"}
        cust = api.customer()
        today = api.post("invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [sales_line(api.item_id, 1)]})
        assert fault_of(today)["code"] == "6210"  # no TxnDate: today, which is before the closing date
        assert requests.post(control, json={"closing_date": "31/12/2030"}, timeout=5).status_code == 400
        assert requests.post(control, json={"closing_date": None}, timeout=5).json() == {"closing_date": None}
        assert api.post("invoice", {"CustomerRef": {"value": cust["Id"]},
                                    "Line": [sales_line(api.item_id, 1)]}).status_code == 200
        sandbox.store.closing_date = "2030-12-31"
        sandbox.reset()
        assert sandbox.store.closing_date is None  # a reset company has open books
        assert requests.get(control, timeout=5).json() == {"closing_date": None}
    finally:
        sandbox.store.closing_date = None


def test_python_dash_m_entry_point():
    proc = subprocess.Popen([sys.executable, "-m", "connectors.qbo.sandbox", "--port", "0"], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split()[3]
        assert requests.get(f"{url}/.well-known/openid_configuration", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=5)
