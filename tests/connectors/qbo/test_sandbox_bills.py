"""The QBO sandbox's Bill endpoint (Finance.xsd ``Bill``): a vendor's bill owed on Accounts Payable, checked as QBO
checks it, over loopback HTTP with a client that is not our connector."""
from __future__ import annotations

import pytest

from tests.connectors.qbo.test_sandbox import Api, clock, fault_of, sandbox  # noqa: F401 (fixtures)


@pytest.fixture
def api(sandbox):  # noqa: F811
    sandbox.reset()
    return Api(sandbox)


def vendor(client: Api, name: str = "Acme Supplies") -> str:
    return client.ok("vendor", {"DisplayName": name})["Id"]


def bill(vendor_id: str, **extra) -> dict:
    line = {"Amount": "200.00", "DetailType": "AccountBasedExpenseLineDetail",
            "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "13"}, "TaxCodeRef": {"value": "NON"}}}
    return {"VendorRef": {"value": vendor_id}, "TxnDate": "2026-11-02", "DocNumber": "INV-7788", "Line": [line],
            **extra}


def test_a_bill_is_owed_on_accounts_payable(api):
    made = api.ok("bill", bill(vendor(api), TxnTaxDetail={"TotalTax": "0"}))
    assert made["TotalAmt"] == 200 and made["Balance"] == 200 and made["DueDate"] == "2026-11-02"  # due: its date
    assert made["APAccountRef"]["name"] == "Accounts Payable (A/P)" and made["VendorRef"]["name"] == "Acme Supplies"
    found = api.query("select * from Bill where DocNumber = 'INV-7788'").json()["QueryResponse"]["Bill"]
    assert [b["Id"] for b in found] == [made["Id"]]


def test_bill_rules(api):
    supplier = vendor(api)
    assert fault_of(api.post("bill", bill(supplier, APAccountRef={"value": "7"})))["Detail"].startswith(
        "Business Validation Error: The account Checking is not an Accounts Payable account")
    assert fault_of(api.post("bill", bill(supplier, DueDate="2026-11-01")))["code"] == "6000"
    missing = fault_of(api.post("bill", {k: v for k, v in bill(supplier).items() if k != "VendorRef"}))
    assert missing["code"] == "2020" and "VendorRef" in missing["Detail"]
    assert fault_of(api.post("bill", bill(supplier, Deposit="1")))["code"] == "2010"  # not a Bill property
    made = api.ok("bill", bill(supplier))
    voided = fault_of(api.post("bill", {"Id": made["Id"], "SyncToken": made["SyncToken"]}, operation="void"))
    assert voided["code"] == "500"  # QBO's API voids no bill: it is deleted
    deleted = api.ok("bill", {"Id": made["Id"], "SyncToken": made["SyncToken"]}, operation="delete")
    assert deleted["status"] == "Deleted"
