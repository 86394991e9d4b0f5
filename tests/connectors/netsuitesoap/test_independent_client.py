"""The sandbox driven by a plain zeep client loaded from the WSDL it serves over loopback HTTP, signing its own
tokenPassport by NetSuite's published recipe: nothing of the connector is used. (The PyPI ``netsuite`` package drives
it too: test_netsuite_package.py. ``netsuitesdk`` cannot: its client hard-codes the v2019_1 WSDL on NetSuite's host
and the 2019_1 namespaces.)"""
import base64
import hashlib
import hmac
import secrets
import time
from decimal import Decimal

import pytest
import zeep
from zeep.exceptions import Fault

from connectors.netsuitesoap.sandbox import seed

CORE = "{urn:core_2025_2.platform.webservices.netsuite.com}"
COMMON = "{urn:common_2025_2.platform.webservices.netsuite.com}"
SALES = "{urn:sales_2025_2.transactions.webservices.netsuite.com}"
CUST = "{urn:customers_2025_2.transactions.webservices.netsuite.com}"
REL = "{urn:relationships_2025_2.lists.webservices.netsuite.com}"


def passport(secret=seed.TOKEN_SECRET, nonce=None, timestamp=None):
    nonce, timestamp = nonce or secrets.token_hex(10), timestamp or int(time.time())
    base = "&".join((seed.ACCOUNT_ID, seed.CONSUMER_KEY, seed.TOKEN_ID, nonce, str(timestamp)))
    key = f"{seed.CONSUMER_SECRET}&{secret}".encode()
    signature = base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()
    return {"tokenPassport": {"account": seed.ACCOUNT_ID, "consumerKey": seed.CONSUMER_KEY, "token": seed.TOKEN_ID,
                              "nonce": nonce, "timestamp": timestamp,
                              "signature": {"_value_1": signature, "algorithm": "HMAC-SHA256"}}}


@pytest.fixture
def client(nssandbox):
    return zeep.Client(f"{nssandbox.base_url}/wsdl/v2025_2_0/netsuite.wsdl")


def add(client, record):
    return client.service.add(record=record, _soapheaders=passport())


def test_add_upsert_get_and_a_duplicate_external_id(client):
    ref = client.get_type(f"{CORE}RecordRef")
    customer = client.get_type(f"{REL}Customer")(companyName="Acme", externalId="cust-1")
    made = add(client, customer)
    assert made.status.isSuccess and made.baseRef.externalId == "cust-1"
    again = add(client, client.get_type(f"{REL}Customer")(companyName="Acme", externalId="cust-1"))
    assert not again.status.isSuccess and again.status.statusDetail[0].code == "DUP_RCRD"
    upserted = client.service.upsert(record=client.get_type(f"{REL}Customer")(companyName="Acme Ltd",
                                                                               externalId="cust-1"),
                                     _soapheaders=passport())
    assert upserted.baseRef.internalId == made.baseRef.internalId
    got = client.service.get(baseRef=ref(internalId=made.baseRef.internalId, type="customer"),
                             _soapheaders=passport())
    assert got.status.isSuccess and got.record.companyName == "Acme Ltd"

    invoice_type, lines = client.get_type(f"{SALES}Invoice"), client.get_type(f"{SALES}InvoiceItemList")
    line = client.get_type(f"{SALES}InvoiceItem")
    invoice = add(client, invoice_type(entity=ref(internalId=made.baseRef.internalId), tranId="INV-1",
                                       externalId="inv-1", itemList=lines(item=[
                                           line(item=ref(internalId="11"), quantity=2, rate="12.50",
                                                taxCode=ref(internalId="21"))])))
    assert invoice.status.isSuccess
    bad = add(client, invoice_type(entity=ref(internalId="999"), itemList=lines(item=[
        line(item=ref(internalId="11"), quantity=1, rate="1.00")])))
    assert bad.status.statusDetail[0].code == "INVALID_KEY_OR_REF"

    apply = client.get_type(f"{CUST}CustomerPaymentApply")
    payment = add(client, client.get_type(f"{CUST}CustomerPayment")(
        customer=ref(internalId=made.baseRef.internalId), payment=Decimal("10.00"),
        applyList=client.get_type(f"{CUST}CustomerPaymentApplyList")(apply=[
            apply(doc=int(invoice.baseRef.internalId), apply=True, amount=Decimal("10.00"))])))
    assert payment.status.isSuccess
    got = client.service.get(baseRef=ref(internalId=invoice.baseRef.internalId, type="invoice"),
                             _soapheaders=passport())
    assert Decimal(str(got.record.total)) == Decimal("27.50")
    assert Decimal(str(got.record.amountRemaining)) == Decimal("17.50")
    refused = client.service.delete(baseRef=ref(internalId=invoice.baseRef.internalId, type="invoice"),
                                    _soapheaders=passport())
    assert not refused.status.isSuccess and refused.status.statusDetail[0].code == "CANT_DELETE_RCRD"


def test_search_pages_with_search_more_with_id_and_get_deleted(client, nssandbox):
    nssandbox.page_size = 5
    ref = client.get_type(f"{CORE}RecordRef")
    customers = [add(client, client.get_type(f"{REL}Customer")(companyName=f"C{i}")).baseRef.internalId
                 for i in range(7)]
    since = "2000-01-01T00:00:00Z"
    basic = client.get_type(f"{COMMON}CustomerSearchBasic")(
        lastModifiedDate=client.get_type(f"{CORE}SearchDateField")(operator="after", searchValue=since))
    first = client.service.search(searchRecord=basic, _soapheaders={**passport(),
                                                                    "searchPreferences": {"pageSize": 5}})
    assert (first.totalRecords, first.totalPages, len(first.recordList.record)) == (7, 2, 5)
    second = client.service.searchMoreWithId(searchId=first.searchId, pageIndex=2, _soapheaders=passport())
    found = [r.internalId for r in first.recordList.record + second.recordList.record]
    assert found == customers
    client.service.delete(baseRef=ref(internalId=customers[0], type="customer"), _soapheaders=passport())
    deleted = client.service.getDeleted(getDeletedFilter={"deletedDate": {"operator": "after", "searchValue": since},
                                                          "type": {"operator": "anyOf",
                                                                   "searchValue": ["customer"]}},
                                        pageIndex=1, _soapheaders=passport())
    assert [d.record.internalId for d in deleted.deletedRecordList.deletedRecord] == [customers[0]]


def test_a_bad_signature_a_reused_nonce_and_the_concurrency_limit_are_faults(client, nssandbox):
    customer = client.get_type(f"{REL}Customer")(companyName="Acme")
    with pytest.raises(Fault) as info:
        client.service.add(record=customer, _soapheaders=passport(secret="wrong"))
    assert info.value.detail[0][0].text == "INVALID_LOGIN_ATTEMPT"
    headers = passport()
    client.service.add(record=customer, _soapheaders=headers)
    with pytest.raises(Fault):
        client.service.add(record=customer, _soapheaders=headers)  # the same nonce again
    nssandbox.busy = nssandbox.concurrency_limit
    with pytest.raises(Fault) as info:
        client.service.add(record=customer, _soapheaders=passport())
    assert info.value.detail[0][0].text == "WS_REQUEST_BLOCKED"
