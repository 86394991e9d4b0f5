"""The Intacct sandbox driven by an independent client: ``sageintacctsdk`` (a widely used third-party SDK of the
XML gateway), which builds its requests with xmltodict and reads the answers its own way. The SDK has the
gateway's address built in and moves to the ``endpoint`` ``getAPISession`` answers, so its first address is
pointed at the sandbox (its private attribute: the one thing bent here)."""
import pytest

from tests.connectors.contract import journal

from connectors.documents import Mapping
from connectors.intacct import costs
from connectors.intacct.sandbox import COMPANY_ID, SENDER_ID, SENDER_PASSWORD, USER_ID, USER_PASSWORD

sdk = pytest.importorskip("sageintacctsdk", reason="sageintacctsdk (the independent client) is not installed")


def client(sandbox):
    intacct = sdk.SageIntacctSDK(SENDER_ID, SENDER_PASSWORD, USER_ID, COMPANY_ID, USER_PASSWORD,
                                 session_id="not-yet")
    url = f"{sandbox.base_url}/ia/xml/xmlgw.phtml"
    for api in (intacct.api_base, intacct.customers, intacct.ar_invoices, intacct.ar_payments, intacct.locations):
        api._ApiBase__api_url = url
    session = intacct.api_base.get_session_id(USER_ID, COMPANY_ID, USER_PASSWORD)
    for api in (intacct.customers, intacct.ar_invoices, intacct.ar_payments, intacct.locations):
        api.set_session_id(session)
    return intacct


def test_the_sdk_logs_in_creates_and_reads_back(isandbox):
    intacct = client(isandbox)
    assert isandbox.token_calls == 1
    created = intacct.customers.post({"CUSTOMERID": "SDK-1", "NAME": "Made by the SDK",
                                      "DISPLAYCONTACT": {"PRINTAS": "Made by the SDK"}})
    assert created["status"] == "success"
    invoice = intacct.ar_invoices.post({
        "customerid": "SDK-1", "datecreated": {"year": 2026, "month": 12, "day": 4},
        "datedue": {"year": 2026, "month": 12, "day": 31}, "invoiceno": "SDK-INV-1",
        "invoiceitems": {"lineitem": [{"glaccountno": "4000", "amount": "120.50", "memo": "Exam"}]}})
    assert invoice["status"] == "success" and invoice["key"]
    payment = intacct.ar_payments.post({
        "UNDEPOSITEDACCOUNTNO": "1050", "PAYMENTMETHOD": "Cash", "CUSTOMERID": "SDK-1", "DOCNUMBER": "SDK-PAY-1",
        "RECEIPTDATE": "12/04/2026", "CURRENCY": "USD",
        "ARPYMTDETAILS": {"ARPYMTDETAIL": [{"RECORDKEY": invoice["key"], "TRX_PAYMENTAMOUNT": "20.50"}]}})
    assert payment["status"] == "success"
    read = intacct.ar_invoices.get("RECORDID", "SDK-INV-1")["arinvoice"]  # one record: xmltodict gives a dict
    assert (read["TOTALENTERED"], read["TOTALDUE"], read["STATE"]) == ("120.50", "100.00", "Partially Paid")
    locations = intacct.locations.get("STATUS", "active")["location"]
    assert {row["LOCATIONID"] for row in locations} == {"100", "200"}


def test_the_sdk_sees_a_refusal_as_its_own_error(isandbox):
    intacct = client(isandbox)
    with pytest.raises(sdk.exceptions.WrongParamsError) as info:
        intacct.ar_invoices.post({"customerid": "NOBODY", "datecreated": {"year": 2026, "month": 12, "day": 4},
                                  "termname": "Net 30", "invoiceitems": {"lineitem": [
                                      {"glaccountno": "4000", "amount": "1.00"}]}})
    assert "customer" in str(info.value.response).lower()


def test_the_sdk_sends_our_journal_entry_and_reads_it_back(isandbox):
    """The connector's ``GLBATCH`` body as the SDK sends a ``create`` (xmltodict writes it), then its
    ``JournalEntries`` reads it by our reference number."""
    intacct = client(isandbox)
    body = costs.journal_body(journal("JE-SDK", "9.00"), Mapping(line_accounts=("6200", "1000")))
    made = intacct.api_base.format_and_send_request({"create": body})
    assert made["status"] == "success"
    intacct.journal_entries._ApiBase__api_url = intacct.api_base._ApiBase__api_url
    intacct.journal_entries.set_session_id(intacct.api_base._ApiBase__session_id)
    read = intacct.journal_entries.get("REFERENCENO", "JE-SDK")["glbatch"]
    assert (read["JOURNAL"], read["STATE"], read["BATCH_TITLE"]) == ("GJ", "Posted", "Contract adjustment")
