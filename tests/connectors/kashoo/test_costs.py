"""Kashoo expenses through the connector against its sandbox (issue 23): an expense is a bill owed to the payee,
paid at once by a bill payment from the paid-from account. What is stopped before sending; an expense with tax sent,
found again by our number, edited and deleted; a lost answer to the payment completed by the search; a payee deleted
in Kashoo made again; an expense deleted there read back as gone."""
import datetime as dt
from decimal import Decimal

import pytest

from connectors.base import ConnectionConfig
from connectors.documents import Entity, ExpenseLineSnapshot, ExpenseSnapshot, Mapping, RemoteRef
from connectors.errors import ConflictError, RemoteNotFound, RetryableError, ValidationFailed
from connectors.kashoo import connector as kashoo
from connectors.kashoo.connector import KashooConnector
from tests.platforms import CLIENT

D = Decimal


@pytest.fixture
def connector(ksandbox):
    """The connector on the sandbox with a token it issued; payees learnt by earlier tests forgotten (the sandbox
    is emptied for each test and hands its ids out again)."""
    kashoo.forget_remembered_items()
    token = ksandbox.issue_tokens()["access_token"]
    config = ConnectionConfig("kashoo", "tests", ksandbox.company_id,
                              {**KashooConnector.sandbox_settings(ksandbox.base_url), "timeout": 3}, *CLIENT)
    return KashooConnector(config, lambda force=False: token)


def spent(lines=(("50.00", "5.00", "gst"),), number="EXP-1", payee="Parcel Express", currency="USD"):
    made = tuple(ExpenseLineSnapshot(cost_kind="return_shipping", description=f"Cost {i}", net_amount=D(net),
                                     tax_amount=D(tax), tax_rate_key=key) for i, (net, tax, key) in enumerate(lines))
    tax = sum((x.tax_amount for x in made), D("0.00"))
    total = sum((x.net_amount + x.tax_amount for x in made), D("0.00"))
    return ExpenseSnapshot(key=f"test.expense:{number}", organization_id=1, number=number, payee=payee,
                           date=dt.date.today(), currency=currency, lines=made, tax_total=tax, total=total)


def mapped(connector, lines: int = 1) -> Mapping:
    accounts = {name: pk for pk, name in connector.reference_data().accounts.items()}
    return Mapping(line_accounts=(accounts["Office Supplies"],) * lines, tax_codes={"gst": "TAXABLE"},
                   deposit_account=accounts["Chequing Account"])


def payments_of(sandbox, bill_id: str) -> list[dict]:
    return [r.data for r in sandbox.store.rows("billPayments")
            if any(str(b["billId"]) == str(bill_id) for b in r.data["bills"])]


def test_what_is_stopped_before_sending(connector):
    mapping = mapped(connector)
    nobody = spent(payee=" ")
    assert "give the expense a payee" in connector.preflight(nobody, mapping)[0]
    unpaid = Mapping(line_accounts=mapping.line_accounts, tax_codes=mapping.tax_codes)
    assert "paid from" in connector.preflight(spent(), unpaid)[0]
    with pytest.raises(ValidationFailed, match="paid from"):
        connector.create(spent(), unpaid, "k-1")
    assert connector.preflight(spent(), mapping) == []


def test_an_expense_with_tax_sent_found_edited_and_deleted(connector, ksandbox):
    mapping = mapped(connector, 2)
    doc = spent(lines=(("50.00", "5.00", "gst"), ("10.00", "0.00", None)))
    made = connector.create(doc, mapping, "k-2")
    assert (made.total, made.number, made.status) == (D("65.00"), "EXP-1", "active")
    lines = made.raw["lineItems"]
    assert [(line["description"], line["unitPrice"], line["taxable"]) for line in lines] == [
        ("Cost 0", 5000, True), ("Cost 1", 1000, False), ("Tax", 500, False)]
    assert {line.get("accountId") for line in lines[:2]} == {mapping.line_accounts[0]}
    assert made.raw["balanceDue"] == 0 and made.raw["contactName"] == "Parcel Express"
    [paid] = payments_of(ksandbox, made.remote_id)
    assert (paid["amount"], paid["accountId"], paid["number"]) == (6500, mapping.deposit_account, "EXP-1")

    found = connector.find_existing(doc, mapping)
    assert found.remote_id == made.remote_id and found.adopted
    assert connector.find_existing(spent(number="EXP-2"), mapping) is None
    assert connector.find_existing(spent(payee="Someone Else"), mapping) is None

    smaller = spent(lines=(("20.00", "2.00", "gst"),))
    changed = connector.update(smaller, mapping, RemoteRef(made.remote_id, made.version), "u-2")
    assert (changed.remote_id, changed.total, changed.raw["balanceDue"]) == (made.remote_id, D("22.00"), 0)
    assert [p["amount"] for p in payments_of(ksandbox, made.remote_id)] == [2200]  # paid once, not twice
    with pytest.raises(ConflictError, match="changed in Kashoo"):
        connector.update(doc, mapping, RemoteRef(made.remote_id, made.version), "u-3")

    connector.delete(Entity.EXPENSE, RemoteRef(changed.remote_id, changed.version), "d-2")
    with pytest.raises(RemoteNotFound):
        connector.fetch(Entity.EXPENSE, made.remote_id)
    assert payments_of(ksandbox, made.remote_id) == []
    assert connector.read_documents(Entity.EXPENSE, [made.remote_id])[0].status == "deleted"


def test_a_lost_answer_to_the_payment_is_completed_by_the_search(connector, ksandbox):
    mapping = mapped(connector)
    connector.create(spent(number="WARM"), mapping, "warm")  # the payee is known now
    ksandbox.faults.add("lost_response", match="POST /billPayments")
    with pytest.raises(RetryableError):
        connector.create(spent(), mapping, "k-3")
    found = connector.find_existing(spent(), mapping)  # paid, so kept: found as it is
    assert found.total == D("55.00") and found.raw["balanceDue"] == 0
    assert len(payments_of(ksandbox, found.remote_id)) == 1

    ksandbox.faults.add("http_500", match="POST /billPayments")
    with pytest.raises(RetryableError):
        connector.create(spent(number="EXP-4"), mapping, "k-4")
    assert connector.find_existing(spent(number="EXP-4"), mapping) is None  # its unpaid bill was taken back

    ksandbox.faults.add("lost_response", match="POST /bills")  # the bill made, its answer lost: no payment yet
    with pytest.raises(RetryableError):
        connector.create(spent(number="EXP-5"), mapping, "k-5")
    found = connector.find_existing(spent(number="EXP-5"), mapping)  # the search pays it
    assert found.total == D("55.00") and found.raw["balanceDue"] == 0
    assert [p["amount"] for p in payments_of(ksandbox, found.remote_id)] == [5500]


def test_a_payee_deleted_in_kashoo_is_made_again(connector, ksandbox):
    mapping = mapped(connector)
    first = connector.create(spent(), mapping, "k-6")
    contact = first.raw["contactId"]
    connector.delete(Entity.EXPENSE, RemoteRef(first.remote_id, first.version), "d-6")
    ksandbox.store.delete("customers", contact)  # a person removes the contact; we still remember it
    again = connector.create(spent(number="EXP-7"), mapping, "k-7")
    assert again.raw["contactId"] != contact and again.raw["contactName"] == "Parcel Express"


def test_an_expense_deleted_there_reads_back_as_gone(connector, ksandbox):
    made = connector.create(spent(), mapped(connector), "k-8")
    action, keyword = ksandbox.user_takes_back[Entity.EXPENSE]
    ksandbox.act_as_user(action, **{keyword: made.remote_id})
    assert connector.read_documents(Entity.EXPENSE, [made.remote_id])[0].status == "deleted"
    assert ksandbox.store.rows("billPayments") == []


def test_an_expense_typed_over_there_reads_back_with_its_new_total(connector, ksandbox):
    made = connector.create(spent(lines=(("20.00", "0.00", None),)), mapped(connector), "k-9")
    ksandbox.act_as_user("edit_bill_line", bill_id=made.remote_id, line=0, amount="25.00")
    read = connector.fetch(Entity.EXPENSE, made.remote_id)
    assert (read.total, read.raw["balanceDue"]) == (D("25.00"), 500)  # the payment stays at 20.00
    assert read.version != made.version
