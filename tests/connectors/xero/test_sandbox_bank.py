"""The Xero sandbox's bank side: ``GET /BankTransactions`` (where, paging, single reads, Xero's field names), a
RECEIVE bank transaction for a card settlement and payments marked reconciled, through the "as a user" actions
(real loopback HTTP, no Django DB). Bank transactions written through the API: ``test_sandbox_costs``."""
from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from connectors.xero.sandbox import schema
from tests.connectors.xero.test_sandbox import Api, clock, line, sandbox  # noqa: F401 (fixtures)


@pytest.fixture
def api(sandbox):  # noqa: F811
    sandbox.reset()
    yield Api(sandbox)


def test_settlement_deposit_is_a_receive_bank_transaction(api, sandbox):  # noqa: F811
    made = requests.post(f"{sandbox.base_url}/_sandbox/as-user", timeout=5, json={
        "action": "settlement_deposit", "amount": "232.70", "fee": "7.30", "date": "2026-03-04",
        "reference": "Stripe payout po_1"})
    assert made.status_code == 200, made.text
    sandbox.act_as_user("settlement_deposit", amount="50.00", date="2026-04-10", reference="Other")
    listed = api.get("BankTransactions", where='Type=="RECEIVE" AND Date >= DateTime(2026, 03, 01) AND '
                                               'Date <= DateTime(2026, 03, 31)', page=1)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 1, "itemCount": 1}
    [row] = body["BankTransactions"]
    assert (row["Type"], row["Status"], row["Reference"], row["IsReconciled"]) == \
        ("RECEIVE", "AUTHORISED", "Stripe payout po_1", True)
    assert (Decimal(str(row["Total"])), row["BankAccount"]["Code"], row["Contact"]["Name"]) == \
        (Decimal("232.7"), "090", "Card processor")
    assert [Decimal(str(li["LineAmount"])) for li in row["LineItems"]] == [Decimal("240"), Decimal("-7.3")]
    assert row["Date"].startswith("/Date(") and row["UpdatedDateUTC"].startswith("/Date(")
    assert schema.status()["enabled"], schema.status()
    assert schema.check("BankTransactions", {"BankTransactions": [row]}) is None  # Xero's published schema
    single = api.get(f"BankTransactions/{row['BankTransactionID']}").json()["BankTransactions"]
    assert single[0]["BankTransactionID"] == row["BankTransactionID"]
    assert api.get("BankTransactions/00000000-0000-0000-0000-000000000000").status_code == 404
    broken = api.get("BankTransactions", where='Type=="RECEIVE" AND (')
    assert broken.status_code == 400 and broken.json()["Type"] == "QueryParseException"
    refused = api.put("BankTransactions", {"Type": "RECEIVE"})  # written through the API too (test_sandbox_costs)
    assert refused.status_code == 400 and refused.json()["Type"] == "PostDataInvalidException"  # no lines, no bank


def test_payments_marked_reconciled(api, sandbox):  # noqa: F811
    contact = api.contact()["ContactID"]
    invoice = api.invoice(contact, line(100, tax="NONE"))["InvoiceID"]
    first = api.ok(api.pay(invoice, 40), "Payments")
    second = api.ok(api.pay(invoice, 60), "Payments")
    assert first["IsReconciled"] is False
    sandbox.act_as_user("reconcile_payments", payment_ids=[first["PaymentID"]])
    reconciled = api.get("Payments", where="IsReconciled==true").json()["Payments"]
    assert [p["PaymentID"] for p in reconciled] == [first["PaymentID"]]
    assert api.get(f"Payments/{second['PaymentID']}").json()["Payments"][0]["IsReconciled"] is False
    with pytest.raises(LookupError):
        sandbox.act_as_user("reconcile_payments", payment_ids=["nope"])
