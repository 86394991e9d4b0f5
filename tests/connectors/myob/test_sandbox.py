"""The MYOB sandbox over loopback HTTP, as MYOB's documentation describes the API: headers, 201 + Location with
no body, RowVersion, OData lists, errors in MYOB's shape, balances, the user's reversal, limits and OAuth."""
import json
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from connectors.exactjson import dumps
from tests.connectors.sandboxkit.wire import WireClient


class Myob(WireClient):
    """The wire client with MYOB's key and version headers and the company file in every path."""

    def call(self, method, path, params=None, body=None, headers=None, **kw):
        sb = self.sb
        sent = {"Authorization": f"Bearer {kw.get('token') or self.token}", "x-myobapi-key": sb.client_id,
                "x-myobapi-version": "v2", **(headers or {})}
        data = None
        if body is not None:
            data, sent["Content-Type"] = dumps(body), "application/json"
        url = path if "://" in path else f"{sb.api_base}/{sb.company_id}/{path}"
        response = requests.request(method, url, params=params, data=data, headers=sent, timeout=5)
        response.body = json.loads(response.content, parse_float=Decimal) if response.content else None
        return response


@pytest.fixture
def api(msandbox):
    return Myob(msandbox)


def ids(sb):
    return ({r.data["Name"]: r.id for r in sb.store.rows("accounts")},
            {r.data["Code"]: r.id for r in sb.store.rows("taxcodes")})


def customer(api, name="Ada Pty Ltd"):
    _, taxes = ids(api.sb)
    made = api.call("POST", "Contact/Customer", params={"returnBody": "true"}, body={
        "CompanyName": name, "SellingDetails": {"TaxCode": {"UID": taxes["GST"]},
                                                "FreightTaxCode": {"UID": taxes["GST"]}}})
    assert made.status_code == 201, made.body
    return made.body


def sale(api, cust, number="INV-1", totals=("100.00",), tax="GST"):
    accounts, taxes = ids(api.sb)
    lines = [{"Type": "Transaction", "Description": "x", "Total": Decimal(t), "Account": {"UID": accounts["Sales"]},
              "TaxCode": {"UID": taxes[tax]}} for t in totals]
    return api.call("POST", "Sale/Invoice/Service", params={"returnBody": "true"},
                    body={"Number": number, "Date": "2026-12-03", "Customer": {"UID": cust["UID"]}, "Lines": lines})


def test_post_answers_201_with_location_and_no_body_and_the_location_reads_the_record(api):
    _, taxes = ids(api.sb)
    made = api.call("POST", "Contact/Customer", body={"CompanyName": "Bob", "SellingDetails": {
        "TaxCode": {"UID": taxes["GST"]}, "FreightTaxCode": {"UID": taxes["FRE"]}}})
    assert made.status_code == 201 and made.content == b""
    read = api.call("GET", made.headers["Location"])
    assert read.status_code == 200 and read.body["CompanyName"] == "Bob"
    assert read.body["URI"] == made.headers["Location"]
    assert read.body["SellingDetails"]["FreightTaxCode"]["Code"] == "FRE" and read.body["RowVersion"]
    assert read.body["LastModified"].count(":") == 2 and "+" not in read.body["LastModified"]


def test_the_key_the_token_and_the_version_headers_are_checked(api, msandbox):
    bad_key = api.call("GET", "Contact/Customer", headers={"x-myobapi-key": "someone-else"})
    assert bad_key.status_code == 403 and bad_key.body["Errors"][0]["Name"] == "DeveloperInactive"
    no_token = api.call("GET", "Contact/Customer", token="not-a-token")
    assert no_token.status_code == 401 and no_token.body["Errors"][0]["Name"] == "OAuthTokenIsInvalid"
    assert api.call("GET", "Contact/Customer", headers={"x-myobapi-version": "v1"}).status_code == 400
    files = api.call("GET", f"{msandbox.api_base}/")
    assert files.status_code == 200 and [f["Id"] for f in files.body] == [msandbox.company_id]


def test_put_needs_the_current_row_version_and_a_post_may_not_carry_one(api):
    cust = customer(api)
    moved = api.call("PUT", f"Contact/Customer/{cust['UID']}", body={**cust, "CompanyName": "Ada Two"})
    assert moved.status_code == 200 and moved.content == b""
    stale = api.call("PUT", f"Contact/Customer/{cust['UID']}", body={**cust, "CompanyName": "Ada Three"})
    assert stale.status_code == 409 and stale.body["Errors"][0]["Name"] == "IncorrectRowVersionSupplied"
    missing = api.call("PUT", f"Contact/Customer/{cust['UID']}", body={k: v for k, v in cust.items()
                                                                       if k != "RowVersion"})
    assert missing.status_code == 400 and missing.body["Errors"][0]["Name"] == "Required"
    again = api.call("POST", "Contact/Customer", body=cust)
    assert again.status_code == 409
    assert api.call("GET", f"Contact/Customer/{cust['UID']}").body["CompanyName"] == "Ada Two"


def test_lists_page_with_top_and_skip_and_filter_with_odata(api):
    for n in range(5):
        customer(api, f"Card {n}")
    first = api.call("GET", "Contact/Customer", params={"$top": "2"})
    assert len(first.body["Items"]) == 2 and first.body["Count"] == 5 and "$skip=2" in first.body["NextPageLink"]
    last = api.call("GET", "Contact/Customer", params={"$top": "2", "$skip": "4"})
    assert len(last.body["Items"]) == 1 and last.body["NextPageLink"] is None
    found = api.call("GET", "Contact/Customer", params={"$filter": "CompanyName eq 'card 3' or startswith("
                                                                   "CompanyName,'Card 1')"})
    assert sorted(c["CompanyName"] for c in found.body["Items"]) == ["Card 1", "Card 3"]
    bad = api.call("GET", "Contact/Customer", params={"$filter": "CompanyName eq"})
    assert bad.status_code == 400 and bad.body["Errors"][0]["Severity"] == "Error"


def test_a_sale_is_taxed_per_line_and_numbers_are_unique(api):
    cust = customer(api)
    made = sale(api, cust, totals=("10.05", "20.05"))
    assert made.status_code == 201 and made.body["TotalTax"] == Decimal("3.02")  # 1.005 and 2.005, each half up
    assert made.body["TotalAmount"] == Decimal("33.12") and made.body["Status"] == "Open"
    twice = sale(api, cust)
    assert twice.status_code == 400 and "already in use" in twice.body["Errors"][0]["Message"]
    unknown = api.call("POST", "Sale/Invoice/Service", body={**{k: made.body[k] for k in ("Date", "Customer")},
                                                             "Number": "INV-2", "Lines": [{
                                                                 **made.body["Lines"][0],
                                                                 "Account": {"UID": cust["UID"]}}]})
    assert unknown.status_code == 400 and unknown.body["Errors"][0]["ErrorCode"] == 150
    listed = api.call("GET", "Sale/Invoice", params={"$filter": f"Customer/UID eq guid'{cust['UID']}'"})
    assert [s["Number"] for s in listed.body["Items"]] == ["INV-1"]
    assert api.call("GET", f"Sale/Invoice/Item/{made.body['UID']}").status_code == 404


def test_payments_and_settlements_cannot_be_updated_and_move_balances(api):
    cust = customer(api)
    accounts, _ = ids(api.sb)
    inv = sale(api, cust, tax="FRE").body
    over = api.call("POST", "Sale/CustomerPayment", body={
        "Account": {"UID": accounts["Undeposited Funds"]}, "Customer": {"UID": cust["UID"]}, "Date": "2026-12-03",
        "AmountReceived": Decimal("150.00"), "Invoices": [{"UID": inv["UID"], "AmountApplied": Decimal("150.00")}]})
    assert over.status_code == 400
    paid = api.call("POST", "Sale/CustomerPayment", params={"returnBody": "true"}, body={
        "Account": {"UID": accounts["Undeposited Funds"]}, "Customer": {"UID": cust["UID"]}, "Date": "2026-12-03",
        "AmountReceived": Decimal("40.00"), "Invoices": [{"UID": inv["UID"], "AmountApplied": Decimal("40.00")}]})
    assert paid.status_code == 201
    assert api.call("PUT", f"Sale/CustomerPayment/{paid.body['UID']}", body=paid.body).status_code == 405
    assert api.call("GET", f"Sale/Invoice/Service/{inv['UID']}").body["BalanceDueAmount"] == Decimal("60.00")
    refused = api.call("DELETE", f"Sale/Invoice/Service/{inv['UID']}")
    assert refused.status_code == 400
    credit = sale(api, cust, number="CN-1", totals=("-60.00",), tax="FRE").body
    settled = api.call("POST", "Sale/CreditSettlement", body={"CreditFromInvoice": {"UID": credit["UID"]},
                                                             "Date": "2026-12-03", "Lines": [{
                                                                 "Type": "Invoice", "Sale": {"UID": inv["UID"]},
                                                                 "AmountApplied": Decimal("60.00")}]})
    assert settled.status_code == 201
    closed = api.call("GET", f"Sale/Invoice/Service/{inv['UID']}").body
    assert closed["BalanceDueAmount"] == Decimal("0.00") and closed["Status"] == "Closed"
    assert api.call("DELETE", f"Sale/CustomerPayment/{paid.body['UID']}").status_code == 200
    assert api.call("GET", f"Sale/Invoice/Service/{inv['UID']}").body["BalanceDueAmount"] == Decimal("40.00")


def test_a_user_reversal_is_a_credit_sale_with_the_same_number_settled_in_full(api, msandbox):
    cust = customer(api)
    inv = sale(api, cust).body
    msandbox.act_as_user("void_invoice", invoice_id=inv["UID"])
    same = api.call("GET", "Sale/Invoice", params={"$filter": "Number eq 'INV-1'"}).body["Items"]
    original, reversal = sorted(same, key=lambda s: s["TotalAmount"], reverse=True)
    assert original["Status"] == "Closed" and original["BalanceDueAmount"] == Decimal("0.00")
    assert reversal["TotalAmount"] == Decimal("-110.00") and reversal["JournalMemo"].startswith("Reversal;")


def test_the_per_second_limit_answers_403_rate_limit_error_with_retry_after(api, msandbox):
    msandbox.settings({"limits": {"second": [2, 1]}})
    assert [api.call("GET", "GeneralLedger/TaxCode").status_code for _ in range(3)] == [200, 200, 403]
    limited = api.call("GET", "GeneralLedger/TaxCode")
    assert limited.body["Errors"][0]["Name"] == "RateLimitError" and int(limited.headers["Retry-After"]) >= 1
    msandbox.clock.advance(1.5)
    assert api.call("GET", "GeneralLedger/TaxCode").status_code == 200


def test_the_consent_redirect_names_the_business_and_the_code_buys_20_minute_tokens(msandbox):
    redirect = requests.get(msandbox.authorize_url + "/", params={
        "client_id": msandbox.client_id, "redirect_uri": "https://app.example/cb", "response_type": "code",
        "scope": "sme-sales", "state": "s1", "prompt": "consent"}, allow_redirects=False, timeout=5)
    query = {k: v[0] for k, v in parse_qs(urlparse(redirect.headers["Location"]).query).items()}
    assert query["businessId"] == msandbox.company_id and query["state"] == "s1"
    tokens = requests.post(msandbox.token_url, data={
        "grant_type": "authorization_code", "code": query["code"], "redirect_uri": "https://app.example/cb",
        "client_id": msandbox.client_id, "client_secret": "sandbox-secret"}, timeout=5).json()
    assert tokens["expires_in"] == 1200 and tokens["refresh_token"]
