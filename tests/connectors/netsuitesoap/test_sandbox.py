"""The NetSuite SOAP sandbox's own rules, over loopback HTTP: the WSDL it serves, the tokenPassport's timestamp
window, what a bookkeeper does, and reset."""
import time

import requests
import zeep
from zeep.exceptions import Fault

from tests.connectors.netsuitesoap.test_independent_client import REL, passport


def test_the_wsdl_names_the_sandbox_as_its_service_address(nssandbox):
    client = zeep.Client(f"{nssandbox.base_url}/wsdl/v2025_2_0/netsuite.wsdl")
    assert client.service._binding_options["address"] == f"{nssandbox.base_url}/services/NetSuitePort_2025_2"
    assert requests.get(f"{nssandbox.base_url}/wsdl/v2025_2_0/core.xsd", timeout=3).status_code == 200
    assert requests.get(f"{nssandbox.base_url}/wsdl/v2025_2_0/../seed.py", timeout=3).status_code == 404


def test_a_timestamp_outside_five_minutes_is_refused(nssandbox):
    client = zeep.Client(f"{nssandbox.base_url}/wsdl/v2025_2_0/netsuite.wsdl")
    customer = client.get_type(f"{REL}Customer")(companyName="Acme")
    try:
        client.service.add(record=customer, _soapheaders=passport(timestamp=int(time.time()) - 301))
    except Fault as fault:
        assert fault.detail[0][0].text == "INVALID_LOGIN_ATTEMPT"
    else:
        raise AssertionError("an old timestamp was accepted")
    assert client.service.add(record=customer, _soapheaders=passport()).status.isSuccess


def test_a_bookkeepers_payment_lowers_the_invoice_and_reset_empties_the_account(nssandbox):
    books = nssandbox.books
    customer = books.add("customer", {"companyName": "Acme"})
    invoice = books.add("invoice", {"entity": {"internalId": customer["internalId"]},
                                    "itemList": [{"item": {"internalId": "11"}, "quantity": "1", "rate": "50.00"}]})
    paid = nssandbox.act_as_user("record_payment", invoice_id=invoice["internalId"], amount="20.00")
    assert str(books.find("invoice", invoice["internalId"])["amountRemaining"]) == "30.00"
    nssandbox.act_as_user("delete_payment", payment_id=paid["id"])
    assert str(books.find("invoice", invoice["internalId"])["amountRemaining"]) == "50.00"
    assert [d[2] for d in books.deleted] == [paid["id"]]
    nssandbox.reset()
    # only the seeded vendors are left (records: a vendor bill's supplier may be added over the API)
    assert {r["_type"] for r in books.records.values()} == {"vendor"} and books.deleted == [] and "11" in books.items
