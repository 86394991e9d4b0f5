"""The S/4HANA sandbox on the wire, without our client: CSRF bound to the session cookie, OData V2 answers and
error bodies, If-Match, a journal entry that must balance."""
import requests

from connectors.s4hana.sandbox import seed

JE = "API_JOURNALENTRY_SRV"


def session_for(sb) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {sb.issue_tokens()['access_token']}"
    return http


def csrf(sb, http) -> str:
    token = http.get(f"{sb.api_base}/{JE}/", headers={"X-CSRF-Token": "Fetch"}, timeout=5).headers["x-csrf-token"]
    http.headers["X-CSRF-Token"] = token
    return token


def entry(*items, reference="R-1") -> dict:
    return {"CompanyCode": seed.COMPANY_CODE, "AccountingDocumentType": "DR", "DocumentReferenceID": reference,
            "TransactionCurrency": "USD", "to_Item": {"results": list(items)}}


def customer(sb, http) -> str:
    csrf(sb, http)
    made = http.post(f"{sb.api_base}/API_BUSINESS_PARTNER/A_BusinessPartner", json={
        "BusinessPartnerCategory": "2", "OrganizationBPName1": "Wire Customer"}, timeout=5)
    assert made.status_code == 201
    return made.json()["d"]["BusinessPartner"]


def test_without_credentials_401_and_basic_auth_of_the_communication_user_works(s4sandbox):
    assert requests.get(f"{s4sandbox.api_base}/{JE}/A_TaxCode", timeout=5).status_code == 401
    answer = requests.get(f"{s4sandbox.api_base}/{JE}/A_TaxCode", auth=(seed.CLIENT_ID, seed.CLIENT_SECRET),
                          timeout=5)
    assert answer.status_code == 200 and {r["TaxCode"] for r in answer.json()["d"]["results"]} == {"O1", "O0"}


def test_a_csrf_token_is_bound_to_its_session_cookie(s4sandbox):
    http = session_for(s4sandbox)
    token = csrf(s4sandbox, http)
    other = session_for(s4sandbox)  # no cookie: the same token is refused
    refused = other.post(f"{s4sandbox.api_base}/{JE}/A_JournalEntry", json=entry(),
                         headers={"X-CSRF-Token": token}, timeout=5)
    assert refused.status_code == 403 and refused.headers["x-csrf-token"] == "Required"
    assert refused.text == "CSRF token validation failed"
    s4sandbox.expire_csrf()
    assert http.post(f"{s4sandbox.api_base}/{JE}/A_JournalEntry", json=entry(), timeout=5).status_code == 403


def test_an_unbalanced_entry_is_refused_in_sap_gateways_error_shape(s4sandbox):
    http = session_for(s4sandbox)
    number = customer(s4sandbox, http)
    answer = http.post(f"{s4sandbox.api_base}/{JE}/A_JournalEntry", json=entry(
        {"Customer": number, "DebitCreditCode": "S", "AmountInTransactionCurrency": "100.00"},
        {"GLAccount": "41000000", "DebitCreditCode": "H", "AmountInTransactionCurrency": "90.00"}), timeout=5)
    error = answer.json()["error"]
    assert answer.status_code == 400 and error["code"] == "F5/702"
    assert error["message"]["lang"] == "en" and "Balance" in error["message"]["value"]
    assert error["innererror"]["errordetails"][0]["code"] == "F5/702"


def test_a_posted_entry_reads_back_in_odata_v2_and_its_header_changes_only_with_if_match(s4sandbox):
    http = session_for(s4sandbox)
    number = customer(s4sandbox, http)
    made = http.post(f"{s4sandbox.api_base}/{JE}/A_JournalEntry", json=entry(
        {"Customer": number, "DebitCreditCode": "S", "AmountInTransactionCurrency": "110.00"},
        {"GLAccount": "41000000", "DebitCreditCode": "H", "AmountInTransactionCurrency": "100.00",
         "TaxCode": "O1"}), timeout=5)
    body = made.json()["d"]
    assert made.status_code == 201 and body["AmountInTransactionCurrency"] == "110.00"
    assert body["PostingDate"].startswith("/Date(") and body["__metadata"]["etag"] == made.headers["ETag"]
    assert [i["GLAccount"] for i in body["to_Item"]["results"]] == ["12100000", "41000000", seed.TAX_ACCOUNT]
    uri = body["__metadata"]["uri"]
    assert http.patch(uri, json={"DocumentHeaderText": "x"}, timeout=5).status_code == 428
    assert http.patch(uri, json={"DocumentHeaderText": "x"}, headers={"If-Match": 'W/"x"'},
                      timeout=5).status_code == 412
    changed = http.patch(uri, json={"DocumentHeaderText": "x"}, headers={"If-Match": made.headers["ETag"]},
                         timeout=5)
    assert changed.status_code == 204 and changed.headers["ETag"] != made.headers["ETag"]
    amounts = http.patch(uri, json={"AmountInTransactionCurrency": "1.00"}, headers={"If-Match": changed.headers[
        "ETag"]}, timeout=5)
    assert amounts.status_code == 400 and amounts.json()["error"]["code"] == "F5/071"


def test_metadata_is_edmx_for_odata_v2(s4sandbox):
    http = session_for(s4sandbox)
    answer = http.get(f"{s4sandbox.api_base}/{JE}/$metadata", timeout=5)
    assert answer.status_code == 200 and 'm:DataServiceVersion="2.0"' in answer.text
    assert '<FunctionImport Name="Reverse"' in answer.text
