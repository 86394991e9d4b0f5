"""SAP's own OData V2 client, ``pyodata``, against the S/4HANA sandbox over loopback HTTP: it parses each service's
``$metadata``, reads entity sets and entities (Edm.Decimal as the text OData V2 JSON writes, Edm.DateTime as
datetime), expands a journal entry's items, filters on ``LastChangeDateTime``, and changes records the way SAP's
documentation tells a client to (an ``X-CSRF-Token`` fetched first, ``If-Match``). pyodata leaves the CSRF token to
its caller, as SAP's examples do: the session carries it."""
import datetime as dt
from decimal import Decimal

import pytest
import requests

from connectors.documents import Entity, Mapping
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
    for name, sets in (("API_JOURNALENTRY_SRV", {"A_JournalEntry", "A_JournalEntryItem", "A_TaxCode", "A_Currency"}),
                       ("API_BUSINESS_PARTNER", {"A_BusinessPartner"}), ("API_PRODUCT_SRV", {"A_Product"}),
                       ("API_GLACCOUNTINCHARTOFACCOUNTS_SRV", {"A_GLAccountInChartOfAccounts"}),
                       ("API_COMPANYCODE_SRV", {"A_CompanyCode"})):
        client = service(s4sandbox, session, name)
        assert sets <= {es.name for es in client.schema.entity_sets}


def test_reads_tax_codes_with_decimal_rates(s4sandbox, session):
    client = service(s4sandbox, session, "API_JOURNALENTRY_SRV")
    rates = {t.TaxCode: t.TaxRate for t in client.entity_sets.A_TaxCode.get_entities().execute()}
    assert rates == {"O1": "10.00", "O0": "0.00"}  # pyodata leaves Edm.Decimal as the JSON text


def test_reads_a_posted_journal_entry_with_its_items(s4sandbox, session, harness):
    _, made = posted_invoice(s4sandbox, harness)
    document, year = made.remote_id.split("-")
    client = service(s4sandbox, session, "API_JOURNALENTRY_SRV")
    entry = client.entity_sets.A_JournalEntry.get_entity(CompanyCode="1710", AccountingDocument=document,
                                                         FiscalYear=year).expand("to_Item").execute()
    assert entry.AccountingDocumentType == "DR" and entry.DocumentReferenceID == "IND-1"
    assert Decimal(entry.AmountInTransactionCurrency) == Decimal("100.00") and entry.IsReversed is False
    assert isinstance(entry.PostingDate, dt.datetime) and entry.PostingDate.date() == dt.date.today()
    items = sorted((i.DebitCreditCode, Decimal(i.AmountInTransactionCurrency)) for i in entry.to_Item)
    assert items == [("H", Decimal("40.00")), ("H", Decimal("60.00")), ("S", Decimal("100.00"))]


def test_filters_on_last_change_time(s4sandbox, session, harness):
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    _, made = posted_invoice(s4sandbox, harness)
    client = service(s4sandbox, session, "API_JOURNALENTRY_SRV")
    since = before.strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = client.entity_sets.A_JournalEntry.get_entities().filter(
        f"LastChangeDateTime ge datetimeoffset'{since}' and AccountingDocumentType eq 'DR'").execute()
    assert [f"{r.AccountingDocument}-{r.FiscalYear}" for r in rows] == [made.remote_id]
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not client.entity_sets.A_JournalEntry.get_entities().filter(
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


def test_the_reverse_function_import(s4sandbox, session, harness):
    _, made = posted_invoice(s4sandbox, harness)
    document, year = made.remote_id.split("-")
    fetch_csrf(s4sandbox, session, "API_JOURNALENTRY_SRV")
    client = service(s4sandbox, session, "API_JOURNALENTRY_SRV")
    reversed_ = client.functions.Reverse.parameter("CompanyCode", "1710").parameter(
        "AccountingDocument", document).parameter("FiscalYear", year).parameter("ReversalReason", "01").execute()
    assert reversed_.IsReversed is True and reversed_.ReverseDocument
    connector = harness.connector(lambda force: s4sandbox.issue_tokens()["access_token"])
    assert connector.fetch(Entity.INVOICE, made.remote_id).status == "voided"
