"""The Service Layer sandbox, driven with plain ``requests`` the way SAP's manual shows the calls (no OData v4
client library for Python fits: see docs/sandbox-sapb1.md), and with our client for the session renewal and
paging."""
import datetime as dt
import json
from decimal import Decimal

import pytest
import requests

from connectors.errors import AuthError
from connectors.sapb1.client import ServiceLayerClient, quote
from connectors.sapb1.sandbox import COMPANY_DB, PASSWORD, USER


def login(sb, http=None):
    http = http or requests.Session()
    answer = http.post(f"{sb.api_base}/Login", json={"CompanyDB": COMPANY_DB, "UserName": USER, "Password": PASSWORD},
                       timeout=3)
    assert answer.status_code == 200, answer.text
    return http, answer


def customer(http, sb, code="C001"):
    answer = http.post(f"{sb.api_base}/BusinessPartners", json={"CardCode": code, "CardName": "Ada",
                                                                 "CardType": "cCustomer"}, timeout=3)
    assert answer.status_code == 201, answer.text
    return answer.json()


def invoice(http, sb, number="INV-1", price="100.00", card="C001"):
    answer = http.post(f"{sb.api_base}/Invoices", data=json.dumps({
        "CardCode": card, "DocDate": "2026-12-01", "NumAtCard": number,
        "DocumentLines": [{"AccountCode": "_SYS00000000001", "Quantity": "2", "UnitPrice": price,
                           "VatGroup": "S1"}]}), timeout=3)
    assert answer.status_code == 201, answer.text
    return answer.json(parse_float=Decimal)


def test_login_sets_the_session_cookie_and_names_the_timeout(slsandbox):
    http, answer = login(slsandbox)
    body = answer.json()
    assert body["SessionTimeout"] == 30 and body["SessionId"] == http.cookies["B1SESSION"]
    assert "ROUTEID" in http.cookies
    assert customer(http, slsandbox)["CardType"] == "cCustomer"


def test_wrong_credentials_and_a_missing_session_answer_in_the_service_layer_shape(slsandbox):
    wrong = requests.post(f"{slsandbox.api_base}/Login", json={"CompanyDB": COMPANY_DB, "UserName": USER,
                                                                "Password": "nope"}, timeout=3)
    assert wrong.status_code == 401
    assert wrong.json() == {"error": {"code": 100000027, "message": {"lang": "en-us", "value": "Login failed"}}}
    anonymous = requests.get(f"{slsandbox.api_base}/Items", timeout=3)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == 301


def test_a_session_idles_out_after_30_minutes_and_a_request_keeps_it_alive(slsandbox):
    http, _ = login(slsandbox)
    slsandbox.clock.advance(29 * 60)
    assert http.get(f"{slsandbox.api_base}/Items", timeout=3).status_code == 200
    slsandbox.clock.advance(29 * 60)
    assert http.get(f"{slsandbox.api_base}/Items", timeout=3).status_code == 200
    slsandbox.clock.advance(31 * 60)
    expired = http.get(f"{slsandbox.api_base}/Items", timeout=3)
    assert expired.status_code == 401
    assert expired.json()["error"]["message"]["value"] == "Invalid session or session already timeout."


def test_logout_ends_the_session(slsandbox):
    http, _ = login(slsandbox)
    assert http.post(f"{slsandbox.api_base}/Logout", timeout=3).status_code == 204
    assert http.get(f"{slsandbox.api_base}/Items", timeout=3).status_code == 401


def test_search_before_create_by_num_at_card_and_duplicate_codes(slsandbox):
    http, _ = login(slsandbox)
    customer(http, slsandbox)
    again = http.post(f"{slsandbox.api_base}/BusinessPartners", json={"CardCode": "C001", "CardName": "x"}, timeout=3)
    assert again.status_code == 400 and again.json()["error"]["code"] == -2035
    made = invoice(http, slsandbox, "INV-7")
    assert made["DocTotal"] == Decimal("220.00") and made["VatSum"] == Decimal("20.00")
    found = http.get(f"{slsandbox.api_base}/Invoices", params={"$filter": f"NumAtCard eq {quote('INV-7')}"}, timeout=3)
    assert [row["DocEntry"] for row in found.json()["value"]] == [made["DocEntry"]]
    missing = http.get(f"{slsandbox.api_base}/Invoices(999)", timeout=3)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == -2028


def test_payment_credit_note_and_cancel_move_the_open_amount(slsandbox):
    http, _ = login(slsandbox)
    customer(http, slsandbox)
    made = invoice(http, slsandbox)
    entry = made["DocEntry"]
    paid = http.post(f"{slsandbox.api_base}/IncomingPayments", data=json.dumps({
        "CardCode": "C001", "TransferAccount": "_SYS00000000006", "TransferSum": "100.00",
        "PaymentInvoices": [{"DocEntry": entry, "SumApplied": "100.00", "InvoiceType": "it_Invoice"}]}), timeout=3)
    assert paid.status_code == 201, paid.text
    credit = http.post(f"{slsandbox.api_base}/CreditNotes", data=json.dumps({
        "CardCode": "C001", "NumAtCard": "CN-1", "DocumentLines": [
            {"AccountCode": "_SYS00000000001", "Quantity": "1", "UnitPrice": "50.00", "VatGroup": "S1",
             "BaseType": 13, "BaseEntry": entry, "BaseLine": 0}]}), timeout=3)
    assert credit.status_code == 201, credit.text
    read = http.get(f"{slsandbox.api_base}/Invoices({entry})", timeout=3).json(parse_float=Decimal)
    assert read["PaidToDate"] == Decimal("155.00") and read["DocumentStatus"] == "bost_Open"
    refused = http.post(f"{slsandbox.api_base}/Invoices({entry})/Cancel", timeout=3)
    assert refused.status_code == 400
    payment = paid.json()["DocEntry"]
    assert http.post(f"{slsandbox.api_base}/IncomingPayments({payment})/Cancel", timeout=3).status_code == 204
    refused = http.post(f"{slsandbox.api_base}/Invoices({entry})/Cancel", timeout=3)  # the credit note is based on it
    assert refused.status_code == 400 and "target documents" in refused.text
    note = credit.json()["DocEntry"]
    assert http.post(f"{slsandbox.api_base}/CreditNotes({note})/Cancel", timeout=3).status_code == 204
    read = http.get(f"{slsandbox.api_base}/Invoices({entry})", timeout=3).json(parse_float=Decimal)
    assert read["PaidToDate"] == Decimal("0.00")  # the credit note's 55.00 is open on the invoice again
    assert http.post(f"{slsandbox.api_base}/Invoices({entry})/Cancel", timeout=3).status_code == 204
    assert http.get(f"{slsandbox.api_base}/Invoices({entry})", timeout=3).json()["Cancelled"] == "tYES"


def test_posted_lines_cannot_be_patched_but_the_header_can(slsandbox):
    http, _ = login(slsandbox)
    customer(http, slsandbox)
    entry = invoice(http, slsandbox)["DocEntry"]
    lines = http.patch(f"{slsandbox.api_base}/Invoices({entry})", json={"DocumentLines": []}, timeout=3)
    assert lines.status_code == 400
    assert http.patch(f"{slsandbox.api_base}/Invoices({entry})", json={"Comments": "hi"}, timeout=3).status_code == 204


def test_paging_follows_the_next_link_with_the_asked_page_size(slsandbox):
    http, _ = login(slsandbox)
    for n in range(5):
        customer(http, slsandbox, f"C{n:03d}")
    first = http.get(f"{slsandbox.api_base}/BusinessPartners", headers={"Prefer": "odata.maxpagesize=2"}, timeout=3)
    assert first.headers["Preference-Applied"] == "odata.maxpagesize=2"
    assert len(first.json()["value"]) == 2 and first.json()["@odata.nextLink"].startswith("BusinessPartners?")
    session = login(slsandbox)[1].json()["SessionId"]
    client = ServiceLayerClient(slsandbox.api_base, lambda fresh: session)
    assert [row["CardCode"] for row in client.rows("BusinessPartners")] == [f"C{n:03d}" for n in range(5)]


def test_changes_are_filtered_by_update_date_and_time(slsandbox):
    http, _ = login(slsandbox)
    customer(http, slsandbox)
    invoice(http, slsandbox)
    today = dt.datetime.fromtimestamp(slsandbox.clock(), dt.UTC)
    query = f"UpdateDate ge '{today:%Y-%m-%d}T00:00:00Z'"
    assert len(http.get(f"{slsandbox.api_base}/Invoices", params={"$filter": query}, timeout=3).json()["value"]) == 1
    later = f"UpdateDate gt '{today:%Y-%m-%d}T00:00:00Z'"
    assert http.get(f"{slsandbox.api_base}/Invoices", params={"$filter": later}, timeout=3).json()["value"] == []


def test_our_client_logs_in_and_out_and_gets_a_new_session_after_an_idle_timeout(slsandbox):
    client = ServiceLayerClient(slsandbox.api_base, lambda fresh: "")
    first, expires = client.login(COMPANY_DB, USER, PASSWORD)
    assert dt.timedelta(minutes=29) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=30)
    renewed = []

    def token(fresh):
        if fresh:
            renewed.append(client.login(COMPANY_DB, USER, PASSWORD)[0])
            return renewed[-1]
        return first

    api = ServiceLayerClient(slsandbox.api_base, token)
    assert list(api.rows("Items")) == []
    slsandbox.clock.advance(31 * 60)
    assert list(api.rows("ChartOfAccounts"))
    assert len(renewed) == 1
    client.logout(renewed[0])
    with pytest.raises(AuthError):
        ServiceLayerClient(slsandbox.api_base, lambda fresh: renewed[0]).get("Items")
    logins, sent = slsandbox.logins, len(client.exchanges)
    with pytest.raises(AuthError) as refused:
        client.login(COMPANY_DB, USER, "wrong")
    assert refused.value.platform_code == "100000027" and len(client.exchanges) == sent + 1  # sent once
    assert slsandbox.logins == logins


@pytest.mark.parametrize("kind,status", [("http_500", 500), ("http_503", 503), ("rate_limit", 429)])
def test_injected_faults_answer_in_the_service_layer_shape(slsandbox, kind, status):
    http, _ = login(slsandbox)
    slsandbox.faults.add(kind, count=1)
    answer = http.get(f"{slsandbox.api_base}/Items", timeout=3)
    assert answer.status_code == status
    assert set(answer.json()["error"]) == {"code", "message"}
    assert answer.json()["error"]["message"]["lang"] == "en-us"


def test_orderby_sorts_numbers_as_numbers(slsandbox):
    http, _ = login(slsandbox)
    customer(http, slsandbox)
    for n in range(11):
        invoice(http, slsandbox, f"N{n}")
    rows = http.get(f"{slsandbox.api_base}/Invoices", params={"$orderby": "DocNum desc", "$select": "DocNum"},
                    timeout=3).json()["value"]
    assert [row["DocNum"] for row in rows[:3]] == [11, 10, 9]
