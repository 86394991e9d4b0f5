"""The QBO sandbox's Deposit: payments taken out of Undeposited Funds into a bank account, fee lines, QBO's rules
and fault bodies, the query and the "as a user" actions (real loopback HTTP, no Django DB)."""
from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from tests.connectors.qbo.test_sandbox import Api, clock, fault_of, sandbox  # noqa: F401 (fixtures)


@pytest.fixture
def api(sandbox):  # noqa: F811
    sandbox.reset()
    client = Api(sandbox)
    client.item_id = client.item()["Id"]
    return client


def payments(api, *amounts, account="6", name="Acme"):
    customer = api.customer(name)["Id"]
    invoice = api.invoice(customer, str(sum(Decimal(a) for a in amounts)))
    return [api.ok("payment", {"CustomerRef": {"value": customer}, "TotalAmt": amount, "TxnDate": "2026-03-02",
                               "DepositToAccountRef": {"value": account},
                               "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"],
                                                                           "TxnType": "Invoice"}]}]})
            for amount in amounts]


def linked(payment):
    return {"Amount": payment["TotalAmt"], "LinkedTxn": [{"TxnId": payment["Id"], "TxnType": "Payment",
                                                           "TxnLineId": "0"}]}


def test_deposit_of_payments_less_a_fee_line(api):
    first, second = payments(api, "40.00", "60.00")
    fee = {"Amount": "-3.20", "DetailType": "DepositLineDetail",
           "DepositLineDetail": {"AccountRef": {"value": "9"}}}
    deposit = api.ok("deposit", {"DepositToAccountRef": {"value": "7"}, "TxnDate": "2026-03-04",
                                 "PrivateNote": "Stripe payout", "Line": [linked(first), linked(second), fee]})
    assert (deposit["TotalAmt"], deposit["DepositToAccountRef"]["value"], deposit["TxnDate"]) == \
        (96.8, "7", "2026-03-04")
    assert [ln["LinkedTxn"][0]["TxnId"] for ln in deposit["Line"][:2]] == [first["Id"], second["Id"]]
    assert deposit["Line"][2]["DepositLineDetail"]["AccountRef"]["name"] == "Bank Charges"
    read = api.get("deposit", deposit["Id"]).json()["Deposit"]
    assert read["SyncToken"] == "0" and read["PrivateNote"] == "Stripe payout"
    found = api.query("select * from Deposit where TxnDate >= '2026-03-01' and TxnDate <= '2026-03-31'").json()
    assert [d["Id"] for d in found["QueryResponse"]["Deposit"]] == [deposit["Id"]]
    assert api.query("select * from Deposit where TxnDate >= '2026-04-01'").json()["QueryResponse"] == {}


def test_deposit_rules_and_fault_bodies(api):
    waiting, direct = payments(api, "40.00", "25.00")[0], payments(api, "25.00", account="7", name="Bravo")[0]
    again = api.post("deposit", {"DepositToAccountRef": {"value": "6"}, "Line": [linked(waiting)]})
    assert again.status_code == 400 and fault_of(again)["code"] == "6000"  # not into Undeposited Funds itself
    straight = api.post("deposit", {"DepositToAccountRef": {"value": "7"}, "Line": [linked(direct)]})
    assert fault_of(straight)["code"] == "6000" and "Undeposited Funds" in fault_of(straight)["Detail"]
    missing = api.post("deposit", {"Line": [linked(waiting)]})
    assert (fault_of(missing)["code"], fault_of(missing)["element"]) == ("2020", "DepositToAccountRef")
    unknown = api.post("deposit", {"DepositToAccountRef": {"value": "7"}, "Bogus": 1, "Line": [linked(waiting)]})
    assert fault_of(unknown)["code"] == "2010"
    api.ok("deposit", {"DepositToAccountRef": {"value": "7"}, "Line": [linked(waiting)]})
    twice = api.post("deposit", {"DepositToAccountRef": {"value": "7"}, "Line": [linked(waiting)]})
    assert "already been deposited" in fault_of(twice)["Detail"]
    current = api.get("payment", waiting["Id"]).json()["Payment"]
    deleted = api.post("payment", {"Id": current["Id"], "SyncToken": current["SyncToken"]}, operation="delete")
    assert (deleted.status_code, fault_of(deleted)["code"], fault_of(deleted)["Message"]) == \
        (400, "6540", "Deposited Transaction cannot be changed")


def test_as_user_actions_over_the_control_endpoint(api, sandbox):  # noqa: F811
    first, second = payments(api, "10.00", "20.00")
    control = f"{sandbox.base_url}/_sandbox/as-user"
    made = requests.post(control, json={"action": "make_deposit", "payment_ids": [first["Id"], second["Id"]],
                                        "fee": "1.05", "date": "2026-03-05", "memo": "batch 7"}, timeout=5)
    assert made.status_code == 200, made.text
    other = sandbox.act_as_user("bank_deposit", amount="12.50", date="2026-03-06", memo="Interest")
    deposits = sandbox.store.entities("Deposit")
    assert [(d["TotalAmt"], d.get("PrivateNote")) for d in deposits] == \
        [(Decimal("28.95"), "batch 7"), (Decimal("12.50"), "Interest")]
    assert "LinkedTxn" not in other["Line"][0]
