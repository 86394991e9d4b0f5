"""The S/4HANA sandbox on the wire, without our client: CSRF bound to the session cookie (OData changes), the SOAP
posting service's confirmation log and faults, the read-only journal-entry item service with signed amounts."""
import datetime as dt

import requests
from defusedxml.ElementTree import fromstring

from connectors.s4hana.sandbox import seed, soap

ITEMS = "API_JOURNALENTRYITEMBASIC_SRV"
BP = "API_BUSINESS_PARTNER"


def session_for(sb) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {sb.issue_tokens()['access_token']}"
    return http


def csrf(sb, http, service=BP) -> str:
    token = http.get(f"{sb.api_base}/{service}/", headers={"X-CSRF-Token": "Fetch"},
                     timeout=5).headers["x-csrf-token"]
    http.headers["X-CSRF-Token"] = token
    return token


def customer(sb, http) -> str:
    csrf(sb, http)
    made = http.post(f"{sb.api_base}/{BP}/A_BusinessPartner", json={
        "BusinessPartnerCategory": "2", "OrganizationBPName1": "Wire Customer"}, timeout=5)
    assert made.status_code == 201
    return made.json()["d"]["BusinessPartner"]


def envelope(customer_id: str, revenue: str = "-100.00", tax: str | None = None, reference: str = "R-1",
             receivable: str | None = None) -> bytes:
    """A JournalEntryBulkCreateRequest written by hand, as SAP's examples show it."""
    taxed = "<Tax><TaxCode>O1</TaxCode></Tax>" if tax else ""
    tax_item = (f'<ProductTaxItem><TaxCode>O1</TaxCode><AmountInTransactionCurrency currencyCode="USD">{tax}'
                f'</AmountInTransactionCurrency><DebitCreditCode>H</DebitCreditCode><TaxBaseAmountInTransCrcy '
                f'currencyCode="USD">{revenue}</TaxBaseAmountInTransCrcy></ProductTaxItem>') if tax else ""
    total = receivable or f"{-(float(revenue) + float(tax or 0)):.2f}"
    return f"""<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
      xmlns:sfin="http://sap.com/xi/SAPSCORE/SFIN"><soapenv:Header/><soapenv:Body>
      <sfin:JournalEntryBulkCreateRequest><MessageHeader><ID>MSG-1</ID>
      <CreationDateTime>2026-01-05T10:00:00Z</CreationDateTime></MessageHeader>
      <JournalEntryCreateRequest><MessageHeader><ID>SUB-1</ID><CreationDateTime>2026-01-05T10:00:00Z</CreationDateTime>
      </MessageHeader><JournalEntry><OriginalReferenceDocumentType>BKPFF</OriginalReferenceDocumentType>
      <BusinessTransactionType>RFBU</BusinessTransactionType><AccountingDocumentType>DR</AccountingDocumentType>
      <DocumentReferenceID>{reference}</DocumentReferenceID><CreatedByUser>WIRE</CreatedByUser>
      <CompanyCode>{seed.COMPANY_CODE}</CompanyCode><DocumentDate>2026-01-05</DocumentDate>
      <PostingDate>2026-01-05</PostingDate>
      <Item><GLAccount>41000000</GLAccount><AmountInTransactionCurrency currencyCode="USD">{revenue}
      </AmountInTransactionCurrency><DebitCreditCode>H</DebitCreditCode>{taxed}</Item>
      <DebtorItem><Debtor>{customer_id}</Debtor><AmountInTransactionCurrency currencyCode="USD">{total}
      </AmountInTransactionCurrency><DebitCreditCode>S</DebitCreditCode></DebtorItem>{tax_item}
      </JournalEntry></JournalEntryCreateRequest></sfin:JournalEntryBulkCreateRequest></soapenv:Body>
      </soapenv:Envelope>""".encode()


def post(sb, http, body: bytes):
    return http.post(f"{sb.base_url}{soap.POST_PATH}", data=body, headers={"Content-Type": "text/xml"}, timeout=5)


def found(xml: bytes, name: str) -> list[str]:
    return [(e.text or "").strip() for e in fromstring(xml).iter() if e.tag.rsplit("}", 1)[-1] == name]


def test_without_credentials_401_and_basic_auth_of_the_communication_user_works(s4sandbox):
    url = f"{s4sandbox.api_base}/{ITEMS}/A_JournalEntryItemBasic"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.post(f"{s4sandbox.base_url}{soap.POST_PATH}", data=b"<x/>", timeout=5).status_code == 401
    answer = requests.get(url, auth=(seed.CLIENT_ID, seed.CLIENT_SECRET), timeout=5)
    assert answer.status_code == 200 and answer.json()["d"]["results"] == []


def test_a_csrf_token_is_bound_to_its_session_cookie_and_soap_takes_none(s4sandbox):
    http = session_for(s4sandbox)
    token = csrf(s4sandbox, http)
    other = session_for(s4sandbox)  # no cookie: the same token is refused
    refused = other.post(f"{s4sandbox.api_base}/{BP}/A_BusinessPartner", json={
        "BusinessPartnerCategory": "2", "OrganizationBPName1": "X"}, headers={"X-CSRF-Token": token}, timeout=5)
    assert refused.status_code == 403 and refused.headers["x-csrf-token"] == "Required"
    assert refused.text == "CSRF token validation failed"
    number = customer(s4sandbox, http)
    posted = post(s4sandbox, session_for(s4sandbox), envelope(number))  # no token, no cookie
    assert posted.status_code == 200 and found(posted.content, "MaximumLogItemSeverityCode") == ["1"]


def test_an_unbalanced_entry_is_refused_in_the_confirmation_log(s4sandbox):
    http = session_for(s4sandbox)
    number = customer(s4sandbox, http)
    answer = post(s4sandbox, http, envelope(number, receivable="90.00"))
    assert answer.status_code == 200  # a refusal is a confirmation, not an HTTP error
    assert found(answer.content, "AccountingDocument") == ["0000000000"]
    assert found(answer.content, "MaximumLogItemSeverityCode") == ["3"]
    assert found(answer.content, "TypeID")[0] == "702(F5)" and "Balance" in found(answer.content, "Note")[0]
    assert not s4sandbox.store.rows("A_JournalEntry")


def test_a_wrong_tax_amount_and_a_malformed_envelope(s4sandbox):
    http = session_for(s4sandbox)
    number = customer(s4sandbox, http)
    wrong = post(s4sandbox, http, envelope(number, tax="-12.00"))
    assert found(wrong.content, "TypeID")[0] == "747(FF)"
    fault = post(s4sandbox, http, b"<not-soap")
    assert fault.status_code == 500 and found(fault.content, "faultcode") == ["soap-env:Client"]


def test_a_posted_entry_reads_back_item_by_item_with_signed_amounts_and_cannot_be_changed(s4sandbox):
    http = session_for(s4sandbox)
    number = customer(s4sandbox, http)
    made = post(s4sandbox, http, envelope(number, tax="-10.00"))
    document, year = found(made.content, "AccountingDocument")[0], found(made.content, "FiscalYear")[0]
    assert document.startswith("18") and year == "2026"
    rows = http.get(f"{s4sandbox.api_base}/{ITEMS}/A_JournalEntryItemBasic", params={
        "$filter": f"CompanyCode eq '{seed.COMPANY_CODE}' and AccountingDocument eq '{document}' and "
                   f"FiscalYear eq '{year}'"}, timeout=5).json()["d"]["results"]
    assert sorted((r["GLAccount"], r["AmountInTransactionCurrency"], r["TransactionTypeDetermination"])
                  for r in rows) == [("12100000", "110.00", None), ("22000000", "-10.00", "MWS"),
                                     ("41000000", "-100.00", None)]
    assert {r["DocumentReferenceID"] for r in rows} == {"R-1"} and rows[0]["PostingDate"] == "/Date(1767571200000)/"
    one = http.get(rows[0]["__metadata"]["uri"], timeout=5)
    assert one.status_code == 200 and one.json()["d"]["ID"] == rows[0]["ID"]
    csrf(s4sandbox, http, ITEMS)
    assert http.patch(rows[0]["__metadata"]["uri"], json={"DocumentItemText": "x"}, timeout=5).status_code == 405
    assert dt.date(2026, 1, 5) == dt.datetime.fromtimestamp(1767571200, dt.UTC).date()


def test_metadata_is_edmx_for_odata_v2_and_the_invented_service_is_gone(s4sandbox):
    http = session_for(s4sandbox)
    answer = http.get(f"{s4sandbox.api_base}/{ITEMS}/$metadata", timeout=5)
    assert answer.status_code == 200 and 'm:DataServiceVersion="2.0"' in answer.text
    assert "FunctionImport" not in answer.text
    gone = http.get(f"{s4sandbox.api_base}/API_JOURNALENTRY_SRV/A_JournalEntry", timeout=5)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "/IWFND/MED/170"
    wsdl = http.get(f"{s4sandbox.base_url}{soap.WSDL_PATH}", timeout=5)
    assert wsdl.status_code == 200 and f"{s4sandbox.base_url}{soap.POST_PATH}" in wsdl.text
