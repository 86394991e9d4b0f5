"""Clients that are not ours against the S/4HANA sandbox over loopback HTTP.

- SAP's own OData V2 client, ``pyodata``: it parses each service's ``$metadata``, reads the journal-entry items of
  ``API_JOURNALENTRYITEMBASIC_SRV`` (Edm.Decimal as the text OData V2 JSON writes, signed; Edm.DateTime as datetime),
  filters on ``LastChangeDateTime``, and changes a business partner the way SAP's documentation tells a client to
  (an ``X-CSRF-Token`` fetched first, ``If-Match``). pyodata leaves the CSRF token to its caller, as SAP's examples
  do: the session carries it.
- Plain zeep, loaded from the WSDL the sandbox serves, posts through ``JournalEntryCreateRequestConfirmation_In``
  and reads the confirmation and its log (a refusal is a log of severity 3, not a fault)."""
import datetime as dt
from decimal import Decimal

import pytest
import requests
import zeep
from zeep.transports import Transport

from connectors.documents import Mapping
from connectors.s4hana.sandbox import soap
from tests.connectors.contract import customer, invoice
from tests.platforms import PlatformHarness

pyodata = pytest.importorskip("pyodata")
HttpError = pytest.importorskip("pyodata.exceptions").HttpError


@pytest.fixture
def harness(s4sandbox):
    return PlatformHarness("s4hana", s4sandbox, None)


@pytest.fixture
def session(s4sandbox):
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {s4sandbox.issue_tokens()['access_token']}"
    return http


def service(sb, session, name):
    return pyodata.Client(f"{sb.api_base}/{name}/", session)


def fetch_csrf(sb, session, name):
    answer = session.get(f"{sb.api_base}/{name}/", headers={"X-CSRF-Token": "Fetch"}, timeout=5)
    assert answer.status_code == 200 and answer.headers["x-csrf-token"]
    session.headers["X-CSRF-Token"] = answer.headers["x-csrf-token"]


def posted_invoice(sb, harness):
    """An invoice of 100.00 posted by our connector (the part under test here is the reading client)."""
    connector = harness.connector(lambda force: sb.issue_tokens()["access_token"])
    accounts = harness.account_ids(connector.reference_data())
    cust_doc = customer()
    cust = connector.create(cust_doc, Mapping(), "c-1")
    doc = invoice(cust_doc.key, "IND-1", ("60.00", "40.00"))
    mapping = Mapping(line_accounts=(accounts[harness.chart.default_income],) * 2,
                      refs={cust_doc.key: cust.remote_id})
    return cust, connector.create(doc, mapping, "i-1")


def test_metadata_of_every_service_parses(s4sandbox, session):
    for name, sets in (("API_JOURNALENTRYITEMBASIC_SRV", {"A_JournalEntryItemBasic"}),
                       ("API_BUSINESS_PARTNER", {"A_BusinessPartner"}), ("API_PRODUCT_SRV", {"A_Product"}),
                       ("API_GLACCOUNTINCHARTOFACCOUNTS_SRV", {"A_GLAccountInChartOfAccounts"}),
                       ("API_COMPANYCODE_SRV", {"A_CompanyCode"})):
        client = service(s4sandbox, session, name)
        assert sets <= {es.name for es in client.schema.entity_sets}


def soap_client(sb, session) -> zeep.Client:
    """Plain zeep, loaded from the WSDL the sandbox serves, authenticated as the communication user would be."""
    return zeep.Client(f"{sb.base_url}{soap.WSDL_PATH}", transport=Transport(session=session))


def journal_entry(customer_id: str, tax: str) -> dict:
    usd = lambda value: {"_value_1": Decimal(value), "currencyCode": "USD"}  # noqa: E731 - a local shorthand
    return {"OriginalReferenceDocumentType": "BKPFF", "BusinessTransactionType": "RFBU",
            "AccountingDocumentType": "DR", "DocumentReferenceID": "ZEEP-1", "CreatedByUser": "ZEEP",
            "CompanyCode": "1710", "DocumentDate": dt.date(2026, 2, 3), "PostingDate": dt.date(2026, 2, 3),
            "Item": [{"GLAccount": "41000000", "AmountInTransactionCurrency": usd("-200.00"), "DebitCreditCode": "H",
                      "Tax": {"TaxCode": "O1"}}],
            "DebtorItem": [{"Debtor": customer_id, "AmountInTransactionCurrency": usd("220.00"),
                            "DebitCreditCode": "S"}],
            "ProductTaxItem": [{"TaxCode": "O1", "AmountInTransactionCurrency": usd(tax), "DebitCreditCode": "H",
                                "TaxBaseAmountInTransCrcy": usd("-200.00")}]}


def test_zeep_posts_through_the_served_wsdl_and_reads_the_confirmation(s4sandbox, session, harness):
    cust, _ = posted_invoice(s4sandbox, harness)
    client = soap_client(s4sandbox, session)
    now = dt.datetime.now(dt.UTC)
    answer = client.service.JournalEntryCreateRequestConfirmation_In(
        MessageHeader={"ID": "Z-1", "CreationDateTime": now},
        JournalEntryCreateRequest=[{"MessageHeader": {"ID": "Z-1-1", "CreationDateTime": now},
                                    "JournalEntry": journal_entry(cust.remote_id, "-20.00")}])
    made = answer.JournalEntryCreateConfirmation[0]
    assert made.JournalEntryCreateConfirmation.CompanyCode == "1710"
    assert made.JournalEntryCreateConfirmation.FiscalYear == "2026"
    assert made.Log.MaximumLogItemSeverityCode == "1" and made.Log.Item[0].TypeID == "605(RW)"
    refused = client.service.JournalEntryCreateRequestConfirmation_In(
        MessageHeader={"ID": "Z-2", "CreationDateTime": now},
        JournalEntryCreateRequest=[{"MessageHeader": {"ID": "Z-2-1", "CreationDateTime": now},
                                    "JournalEntry": journal_entry(cust.remote_id, "-25.00")}])
    log = refused.JournalEntryCreateConfirmation[0].Log
    assert refused.JournalEntryCreateConfirmation[0].JournalEntryCreateConfirmation.AccountingDocument == \
        "0000000000"
    assert log.MaximumLogItemSeverityCode == "3" and log.Item[0].TypeID == "747(FF)"


def test_reads_a_posted_journal_entry_item_by_item(s4sandbox, session, harness):
    _, made = posted_invoice(s4sandbox, harness)
    document, year = made.remote_id.split("-")
    client = service(s4sandbox, session, "API_JOURNALENTRYITEMBASIC_SRV")
    rows = client.entity_sets.A_JournalEntryItemBasic.get_entities().filter(
        f"CompanyCode eq '1710' and AccountingDocument eq '{document}' and FiscalYear eq '{year}'").execute()
    assert {r.AccountingDocumentType for r in rows} == {"DR"} and {r.DocumentReferenceID for r in rows} == {"IND-1"}
    assert all(isinstance(r.PostingDate, dt.datetime) and r.PostingDate.date() == dt.date.today() for r in rows)
    items = sorted((r.DebitCreditCode, Decimal(r.AmountInTransactionCurrency)) for r in rows)
    assert items == [("H", Decimal("-60.00")), ("H", Decimal("-40.00")), ("S", Decimal("100.00"))]
    one = client.entity_sets.A_JournalEntryItemBasic.get_entity(rows[0].ID).execute()
    assert one.AccountingDocument == document


def test_filters_on_last_change_time(s4sandbox, session, harness):
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    _, made = posted_invoice(s4sandbox, harness)
    client = service(s4sandbox, session, "API_JOURNALENTRYITEMBASIC_SRV")
    since = before.strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = client.entity_sets.A_JournalEntryItemBasic.get_entities().filter(
        f"LastChangeDateTime ge datetimeoffset'{since}' and AccountingDocumentType eq 'DR'").execute()
    assert {f"{r.AccountingDocument}-{r.FiscalYear}" for r in rows} == {made.remote_id}
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not client.entity_sets.A_JournalEntryItemBasic.get_entities().filter(
        f"LastChangeDateTime ge datetimeoffset'{later}'").execute()


def test_a_change_needs_a_csrf_token_then_a_current_etag(s4sandbox, session, harness):
    cust, _ = posted_invoice(s4sandbox, harness)
    client = service(s4sandbox, session, "API_BUSINESS_PARTNER")
    change = client.entity_sets.A_BusinessPartner.update_entity(BusinessPartner=cust.remote_id)
    with pytest.raises(HttpError) as refused:
        change.set(OrganizationBPName1="Renamed by pyodata").execute()
    assert refused.value.response.status_code == 403
    assert refused.value.response.headers["x-csrf-token"] == "Required"
    fetch_csrf(s4sandbox, session, "API_BUSINESS_PARTNER")
    with pytest.raises(HttpError) as unmatched:
        client.entity_sets.A_BusinessPartner.update_entity(BusinessPartner=cust.remote_id).set(
            OrganizationBPName1="Renamed by pyodata").execute()
    assert unmatched.value.response.status_code == 428
    session.headers["If-Match"] = "W/\"datetimeoffset'0'\""
    with pytest.raises(HttpError) as stale:
        client.entity_sets.A_BusinessPartner.update_entity(BusinessPartner=cust.remote_id).set(
            OrganizationBPName1="Renamed by pyodata").execute()
    assert stale.value.response.status_code == 412
    assert stale.value.response.json()["error"]["message"]["lang"] == "en"
    current = session.get(f"{s4sandbox.api_base}/API_BUSINESS_PARTNER/A_BusinessPartner('{cust.remote_id}')",
                          timeout=5)
    session.headers["If-Match"] = current.headers["ETag"]
    client.entity_sets.A_BusinessPartner.update_entity(BusinessPartner=cust.remote_id).set(
        OrganizationBPName1="Renamed by pyodata").execute()
    partner = client.entity_sets.A_BusinessPartner.get_entity(cust.remote_id).execute()
    assert partner.OrganizationBPName1 == "Renamed by pyodata"
