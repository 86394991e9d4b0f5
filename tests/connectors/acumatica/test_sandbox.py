"""The Acumatica sandbox against an independent client (plain ``requests`` with a cookie jar, as Acumatica's own
REST examples do it): the cookie login and logout, the licence's session limit, values wrapped as
``{"value": ...}``, PUT as an upsert by key fields, the release life cycle, applications, and error shapes."""
from decimal import Decimal

import pytest
import requests

from connectors.acumatica.sandbox import PASSWORD, TENANT, USER, AcumaticaSandbox
from connectors.exactjson import dumps


@pytest.fixture
def fresh():
    """A sandbox of its own: no session other tests opened (issued tokens outlive a reset, like the licence's)."""
    sandbox = AcumaticaSandbox(port=0).start()
    yield sandbox
    sandbox.stop()


def value(record, name):
    return record[name]["value"]


@pytest.fixture
def api(asandbox):
    """A logged-in ``requests.Session`` (the cookies the login set ride along) and the endpoint's URL."""
    http = requests.Session()
    answer = http.post(f"{asandbox.base_url}/entity/auth/login", json={"name": USER, "password": PASSWORD,
                                                                       "company": TENANT}, timeout=5)
    assert answer.status_code == 204 and ".ASPXAUTH" in http.cookies
    http.url = asandbox.api_base
    yield http
    http.post(f"{asandbox.base_url}/entity/auth/logout", timeout=5)


def put(api, entity, body, **params):
    """PUT with exact numbers (Acumatica reads JSON numbers; ``requests``' own encoder has no Decimal)."""
    return api.put(f"{api.url}/{entity}", data=dumps(body), params=params, timeout=5,
                   headers={"Content-Type": "application/json"})


def site(api) -> str:
    return api.url.split("/entity/")[0]


def customer(api, cid="ANN"):
    return put(api, "Customer", {"CustomerID": {"value": cid}, "CustomerName": {"value": "Ann"}}).json()


def invoice(api, cid="ANN", price="100.00", kind="Invoice", release=True, **extra):
    body = {"Type": {"value": kind}, "CustomerID": {"value": cid}, "CustomerOrder": {"value": "K-1"},
            "Hold": {"value": False},
            "Details": [{"TransactionDescr": {"value": "Visit"}, "Quantity": {"value": 1},
                         "UnitPrice": {"value": Decimal(price)}, "Account": {"value": "40000"},
                         "TaxCategory": {"value": "TAXABLE"}}], **extra}
    made = put(api, "Invoice", body)
    assert made.status_code == 200, made.text
    made = made.json()
    if release:
        done = api.post(f"{api.url}/Invoice/ReleaseInvoice", json={"entity": {"id": made["id"]}}, timeout=5)
        assert done.status_code == 202
        assert api.get(site(api) + done.headers["Location"], timeout=5).status_code == 204
    return api.get(f"{api.url}/Invoice/{made['id']}", params={"$expand": "Details"}, timeout=5).json()


def test_login_sets_cookies_and_logout_ends_the_session(fresh):
    asandbox = fresh
    http = requests.Session()
    http.post(f"{asandbox.base_url}/entity/auth/login", json={"name": USER, "password": PASSWORD,
                                                              "company": TENANT}, timeout=5)
    assert http.get(f"{asandbox.api_base}/Account", timeout=5).status_code == 200
    assert http.post(f"{asandbox.base_url}/entity/auth/logout", timeout=5).status_code == 204
    refused = http.get(f"{asandbox.api_base}/Account", timeout=5)
    assert refused.status_code == 401 and refused.json()["exceptionMessage"] == "You are not logged in."
    assert asandbox.state()["sessions"] == 0


def test_wrong_credentials_are_refused_with_acumaticas_error_body(asandbox):
    answer = requests.post(f"{asandbox.base_url}/entity/auth/login", json={"name": USER, "password": "wrong",
                                                                           "company": TENANT}, timeout=5)
    body = answer.json()
    assert answer.status_code == 500 and body["message"] == "An error has occurred."
    assert "Invalid credentials" in body["exceptionMessage"] and body["exceptionType"] == "PX.Data.PXException"


def test_the_licence_session_limit_refuses_a_login_until_a_session_is_logged_out(fresh):
    asandbox = fresh
    asandbox.settings({"api_users": 1})
    first = requests.Session()
    login = {"name": USER, "password": PASSWORD, "company": TENANT}
    assert first.post(f"{asandbox.base_url}/entity/auth/login", json=login, timeout=5).status_code == 204
    refused = requests.post(f"{asandbox.base_url}/entity/auth/login", json=login, timeout=5)
    assert refused.status_code == 429 and refused.json()["exceptionMessage"] == "API Login Limit"
    first.post(f"{asandbox.base_url}/entity/auth/logout", timeout=5)
    assert requests.post(f"{asandbox.base_url}/entity/auth/login", json=login, timeout=5).status_code == 204


def test_an_idle_session_expires(asandbox, api):
    asandbox.clock.advance(21 * 60)
    assert api.get(f"{api.url}/Account", timeout=5).status_code == 401


def test_values_are_wrapped_and_put_is_an_upsert_by_key_fields(api):
    made = customer(api, "ann")
    assert value(made, "CustomerID") == "ANN" and value(made, "Status") == "Active" and made["id"]
    again = put(api, "Customer", {"CustomerID": {"value": "ANN"}, "CustomerName": {"value": "Ann Lee"}}).json()
    assert again["id"] == made["id"] and value(again, "CustomerName") == "Ann Lee"
    assert len(api.get(f"{api.url}/Customer", timeout=5).json()) == 1
    by_key = api.get(f"{api.url}/Customer/ANN", timeout=5).json()
    assert by_key["id"] == made["id"]


def test_an_invoice_is_balanced_then_released_open_with_details_on_expand(api):
    customer(api)
    draft = invoice(api, release=False)
    assert value(draft, "Status") == "Balanced" and value(draft, "Amount") == Decimal("110.00")
    assert value(draft, "TaxTotal") == Decimal("10.00") and len(draft["Details"]) == 1
    plain = api.get(f"{api.url}/Invoice/{draft['id']}", timeout=5).json()
    assert "Details" not in plain  # detail collections come with $expand only
    released = invoice(api)
    assert value(released, "Status") == "Open" and value(released, "Balance") == Decimal("110.00")
    locked = put(api, "Invoice", {"id": released["id"], "Details": [{"id": released["Details"][0]["id"],
                                                                      "UnitPrice": {"value": 5}}]})
    assert locked.status_code == 500 and "released" in locked.json()["exceptionMessage"]


def test_a_refused_field_carries_its_error_inside_the_entity(api):
    customer(api)
    answer = put(api, "Invoice", {"Type": {"value": "Invoice"}, "CustomerID": {"value": "ANN"},
                                  "Details": [{"Quantity": {"value": 1}, "UnitPrice": {"value": 5},
                                               "Account": {"value": "99999"}}]})
    body = answer.json()
    assert answer.status_code == 422 and "raised at least one error" in body["error"]
    assert "cannot be found" in body["Details"][0]["Account"]["error"]


def test_a_payment_applied_and_released_lowers_the_invoice_and_a_void_gives_it_back(api):
    customer(api)
    inv = invoice(api)
    pay = put(api, "Payment", {"Type": {"value": "Payment"}, "CustomerID": {"value": "ANN"},
                               "CashAccount": {"value": "10200"}, "PaymentAmount": {"value": 40},
                               "PaymentRef": {"value": "P-1"},
                               "DocumentsToApply": [{"DocType": {"value": "Invoice"},
                                                     "ReferenceNbr": inv["ReferenceNbr"],
                                                     "AmountPaid": {"value": 40}}]}).json()
    assert value(pay, "Status") == "Balanced"
    assert api.get(f"{api.url}/Invoice/{inv['id']}", timeout=5).json()["Balance"]["value"] == Decimal("110.00")
    api.post(f"{api.url}/Payment/ReleasePayment", json={"entity": {"id": pay["id"]}}, timeout=5)
    assert api.get(f"{api.url}/Invoice/{inv['id']}", timeout=5).json()["Balance"]["value"] == Decimal("70.00")
    api.post(f"{api.url}/Payment/VoidPayment", json={"entity": {"id": pay["id"]}}, timeout=5)
    assert api.get(f"{api.url}/Payment/{pay['id']}", timeout=5).json()["Status"]["value"] == "Voided"
    assert api.get(f"{api.url}/Invoice/{inv['id']}", timeout=5).json()["Balance"]["value"] == Decimal("110.00")


def test_a_credit_memo_is_applied_through_the_payment_entity(api):
    customer(api)
    inv = invoice(api)
    memo = invoice(api, price="20.00", kind="Credit Memo")
    applied = put(api, "Payment", {"Type": {"value": "Credit Memo"}, "ReferenceNbr": memo["ReferenceNbr"],
                                   "DocumentsToApply": [{"DocType": {"value": "Invoice"},
                                                         "ReferenceNbr": inv["ReferenceNbr"],
                                                         "AmountPaid": {"value": 22}}]}).json()
    api.post(f"{api.url}/Payment/ReleasePayment", json={"entity": {"id": applied["id"]}}, timeout=5)
    assert api.get(f"{api.url}/Invoice/{inv['id']}", timeout=5).json()["Balance"]["value"] == Decimal("88.00")
    assert api.get(f"{api.url}/Invoice/{memo['id']}", timeout=5).json()["Status"]["value"] == "Closed"


def test_void_refuses_an_invoice_with_applications_and_delete_a_released_one(api, asandbox):
    customer(api)
    inv = invoice(api)
    assert api.delete(f"{api.url}/Invoice/{inv['id']}", timeout=5).status_code == 500
    asandbox.act_as_user("record_payment", invoice_id=inv["id"], amount="10.00")
    refused = api.post(f"{api.url}/Invoice/VoidInvoice", json={"entity": {"id": inv["id"]}}, timeout=5)
    assert refused.status_code == 500 and "cannot be voided" in refused.json()["exceptionMessage"]
    draft = invoice(api, release=False)
    assert api.delete(f"{api.url}/Invoice/{draft['id']}", timeout=5).status_code == 204
    assert api.get(f"{api.url}/Invoice/{draft['id']}", timeout=5).status_code == 404


def test_filter_on_last_modified_and_paging(api, asandbox):
    customer(api)
    first = invoice(api, release=False)
    asandbox.clock.advance(60)
    later = invoice(api, release=False)
    since = later["LastModifiedDateTime"]["value"]
    found = api.get(f"{api.url}/Invoice", params={"$filter": f"LastModifiedDateTime ge datetimeoffset'{since}'"},
                    timeout=5).json()
    assert [r["id"] for r in found] == [later["id"]]
    page = api.get(f"{api.url}/Invoice", params={"$top": 1, "$skip": 1}, timeout=5).json()
    assert [r["id"] for r in page] == [later["id"]] and first["id"] != later["id"]
    by_number = api.get(f"{api.url}/Invoice", params={"$filter": "CustomerOrder eq 'K-1' and Type eq 'Invoice'"},
                        timeout=5).json()
    assert len(by_number) == 2
