"""The sandbox driven by the PyPI ``netsuite`` package's SOAP API (``NetSuiteSoapApi``: zeep's async client, its own
tokenPassport signer), pointed at the WSDL the sandbox serves over loopback HTTP. Nothing of the connector is used.

The package's response decorator is synchronous around async methods, so it hands back the whole answer without
checking ``status``: the tests read it themselves."""
import asyncio

import pytest
import zeep

netsuite = pytest.importorskip("netsuite")
from netsuite.soap_api.client import NetSuiteSoapApi  # noqa: E402 - after the skip when the package is missing

from connectors.netsuitesoap.sandbox import seed  # noqa: E402


def api_for(sandbox) -> NetSuiteSoapApi:
    config = netsuite.Config(account=seed.ACCOUNT_ID, auth=netsuite.TokenAuth(
        consumer_key=seed.CONSUMER_KEY, consumer_secret=seed.CONSUMER_SECRET, token_id=seed.TOKEN_ID,
        token_secret=seed.TOKEN_SECRET))
    return NetSuiteSoapApi(config, version="2025.2.0", wsdl_url=f"{sandbox.base_url}/wsdl/v2025_2_0/netsuite.wsdl",
                           cache=zeep.cache.InMemoryCache())


def run(sandbox, steps):
    async def main():
        api = api_for(sandbox)
        async with api:
            return await steps(api)
    return asyncio.run(main())


def test_upsert_is_keyed_by_external_id_and_add_refuses_a_known_one(nssandbox):
    async def steps(api):
        first = await api.upsert(api.Relationships.Customer(externalId="cust-9", companyName="Acme"))
        second = await api.upsert(api.Relationships.Customer(externalId="cust-9", companyName="Acme Ltd"))
        refused = await api.request("add", record=api.Relationships.Customer(externalId="cust-9", companyName="X"))
        got = await api.request("get", baseRef=api.Core.RecordRef(internalId=first.baseRef.internalId,
                                                                  type="customer"))
        return first, second, refused, got
    first, second, refused, got = run(nssandbox, steps)
    assert first.status.isSuccess and second.baseRef.internalId == first.baseRef.internalId
    assert not refused.status.isSuccess and refused.status.statusDetail[0].code == "DUP_RCRD"
    assert got.record.companyName == "Acme Ltd"


def test_transactions_by_last_modified_date_paged_with_search_more_with_id(nssandbox):
    async def steps(api):
        customer = await api.upsert(api.Relationships.Customer(externalId="c", companyName="Acme"))
        ref = api.Core.RecordRef
        made = []
        for number in range(7):
            invoice = api.Sales.Invoice(externalId=f"inv-{number}", tranId=f"INV-{number}",
                                        entity=ref(internalId=customer.baseRef.internalId),
                                        itemList=api.Sales.InvoiceItemList(item=[api.Sales.InvoiceItem(
                                            item=ref(internalId="11"), quantity=1, rate="10.00")]))
            made.append((await api.upsert(invoice)).baseRef.internalId)
        search = api.Common.TransactionSearchBasic(
            lastModifiedDate=api.Core.SearchDateField(operator="after", searchValue="2000-01-01T00:00:00Z"),
            type=api.Core.SearchEnumMultiSelectField(operator="anyOf", searchValue=["_invoice"]))
        first = await api.search(search, additionalHeaders={"searchPreferences": {"pageSize": 5}})
        second = await api.searchMoreWithId(searchId=first.searchId, pageIndex=2)
        currencies = await api.getAll("currency")
        return made, first, second, currencies
    made, first, second, currencies = run(nssandbox, steps)
    assert (first.totalRecords, first.totalPages) == (7, 2)
    assert [r.internalId for r in first.recordList.record + second.recordList.record] == made
    assert str(first.recordList.record[0].total) == "10.0"  # an xsd:double, as NetSuite declares it
    assert [c.name for c in currencies.recordList.record if c.isBaseCurrency] == ["USD"]
