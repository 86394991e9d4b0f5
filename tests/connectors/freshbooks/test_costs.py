"""FreshBooks expenses through the connector against its sandbox (issue 23): what is stopped before sending and why,
an expense with tax sent, found again by our number, edited and deleted; a restocking fee kept on a credit note."""
import datetime as dt
from decimal import Decimal

import pytest

from connectors.documents import Entity, ExpenseLineSnapshot, ExpenseSnapshot, Mapping, RemoteRef
from connectors.errors import RemoteNotFound, ValidationFailed
from connectors.freshbooks import costs as c
from connectors.freshbooks.sandbox.seed import CATEGORIES
from tests.platforms import next_second

D = Decimal


def spent(lines=(("50.00", "5.00", "gst"),), number="EXP-1", currency="USD"):
    made = tuple(ExpenseLineSnapshot(cost_kind="return_shipping", description=f"Cost {i}", net_amount=D(net),
                                     tax_amount=D(tax), tax_rate_key=key) for i, (net, tax, key) in enumerate(lines))
    total = sum((x.net_amount + x.tax_amount for x in made), D("0.00"))
    return ExpenseSnapshot(key=f"test.expense:{number}", organization_id=1, number=number, payee="Parcel Express",
                           date=dt.date.today(), currency=currency, lines=made, total=total)


def chart(connector):
    """Account name -> id, and tax name -> id, as reference data offers them."""
    data = connector.reference_data()
    return {name: pk for pk, name in data.accounts.items()}, {name: pk for pk, name in data.tax_codes.items()}


def test_expense_categories_are_offered_as_expense_accounts(connector):
    data = connector.reference_data()
    offered = {name: pk for pk, name in data.accounts.items() if pk.startswith(c.CATEGORY_PREFIX)}
    assert sorted(offered) == sorted(CATEGORIES)
    assert {data.account_kinds[pk] for pk in offered.values()} == {"expense"}


def test_what_is_stopped_before_sending(connector):
    accounts, taxes = chart(connector)
    shipping, supplies = accounts["Shipping & Delivery"], accounts["Supplies"]
    mixed = spent(lines=(("50.00", "5.00", "gst"), ("10.00", "0.00", None)))
    mapping = Mapping(line_accounts=(shipping, supplies), tax_codes={"gst": taxes["GST 10%"]},
                      deposit_account=accounts["Business Checking"])
    assert "one category and one tax" in connector.preflight(mixed, mapping)[0]
    with pytest.raises(ValidationFailed, match="one category and one tax"):
        connector.create(mixed, mapping, "k-1")
    ledger = Mapping(line_accounts=(accounts["Office Expenses"],), tax_codes={"gst": taxes["GST 10%"]})
    assert "map the expense account to one of FreshBooks' expense categories" in connector.preflight(spent(), ledger)[0]
    gone = Mapping(line_accounts=(c.category_account(999),), tax_codes={"gst": taxes["GST 10%"]})
    with pytest.raises(ValidationFailed, match="category 999 does not exist") as refused:
        connector.create(spent(), gone, "k-2")
    assert refused.value.raw["kinds"] == ["expense_account"]


def test_an_expense_with_tax_sent_found_edited_and_deleted(connector, fsandbox):
    accounts, taxes = chart(connector)
    mapping = Mapping(line_accounts=(accounts["Shipping & Delivery"],), tax_codes={"gst": taxes["GST 10%"]},
                      deposit_account=accounts["Business Checking"])
    made = connector.create(spent(), mapping, "k-3")
    assert (made.total, made.number, made.status) == (D("55.00"), "EXP-1", "active")
    raw = made.raw
    assert raw["categoryid"] == int(accounts["Shipping & Delivery"].split("/")[1]) and raw["staffid"] == 1
    assert (raw["taxName1"], raw["taxPercent1"], raw["taxAmount1"]["amount"]) == ("GST 10%", "10", "5.00")
    assert raw["vendor"] == "Parcel Express" and raw["notes"].startswith("EXP-1 - Cost 0")
    assert connector.find_existing(spent(), mapping).remote_id == made.remote_id
    assert connector.find_existing(spent(number="EXP-2"), mapping) is None

    changed = connector.update(spent(lines=(("60.00", "6.00", "gst"),)), mapping,
                               RemoteRef(made.remote_id, made.version), "u-3")
    assert changed.remote_id == made.remote_id and changed.total == D("66.00")
    untaxed = connector.update(spent(lines=(("60.00", "0.00", None),)), mapping,
                               RemoteRef(made.remote_id, changed.version), "u-untaxed")
    assert untaxed.total == D("60.00")
    assert (untaxed.raw["taxName1"], untaxed.raw["taxAmount1"]["amount"]) == ("", "0.00")
    changed = connector.update(spent(lines=(("60.00", "6.00", "gst"),)), mapping,
                               RemoteRef(made.remote_id, untaxed.version), "u-taxed")
    assert changed.raw["taxAmount1"]["amount"] == "6.00"
    fsandbox.edit_expense_as_user(made.remote_id, "70.00")  # a bookkeeper types over the total
    with pytest.raises(Exception, match="changed in FreshBooks"):
        connector.update(spent(), mapping, RemoteRef(made.remote_id, changed.version), "u-4")
    assert connector.read_documents(Entity.EXPENSE, [made.remote_id])[0].total == D("70.00")

    connector.delete(Entity.EXPENSE, RemoteRef(made.remote_id, changed.version), "d-3")
    with pytest.raises(RemoteNotFound):
        connector.fetch(Entity.EXPENSE, made.remote_id)
    assert connector.find_existing(spent(), mapping) is None
    assert connector.read_documents(Entity.EXPENSE, [made.remote_id])[0].status == "deleted"


def test_the_sandbox_refuses_what_freshbooks_refuses(connector):
    client = connector.client
    accounts, _ = chart(connector)
    category = int(accounts["Supplies"].split("/")[1])
    with pytest.raises(ValidationFailed, match="staffid"):
        client.create(Entity.EXPENSE, {"categoryid": category, "staffid": 7, "date": "2026-01-05",
                                       "amount": {"amount": "10.00"}})
    with pytest.raises(ValidationFailed, match="taxes cannot exceed"):
        client.create(Entity.EXPENSE, {"categoryid": category, "staffid": 1, "date": "2026-01-05",
                                       "amount": {"amount": "10.00"}, "taxAmount1": {"amount": "11.00"}})
    with pytest.raises(ValidationFailed):
        client.request("POST", client.accounting("expenses/categories"), body={"category": {"category": "Mine"}})


def test_an_expense_changed_there_is_polled_by_updated_min(connector, fsandbox):
    """``changes_since`` lists ``expenses/expenses`` by ``search[updated_min]``: a total typed over there is an
    "update" (read back with the new total), a deleted one a "delete" (listed with ``search[vis_state]=1``); a
    poll from the cursor it returned reports neither again."""
    accounts, taxes = chart(connector)
    mapping = Mapping(line_accounts=(accounts["Shipping & Delivery"],), tax_codes={"gst": taxes["GST 10%"]},
                      deposit_account=accounts["Business Checking"])
    made = connector.create(spent(), mapping, "k-poll")
    other = connector.create(spent(number="EXP-2"), mapping, "k-poll-2")
    since = dt.datetime.now(dt.UTC)
    next_second()
    fsandbox.edit_expense_as_user(made.remote_id, "70.00")
    fsandbox.delete_expense_as_user(other.remote_id)
    next_second()
    changes, cursor = connector.changes_since([Entity.EXPENSE], since)
    assert {(ch.entity, ch.remote_id, ch.operation) for ch in changes} == {
        (Entity.EXPENSE, made.remote_id, "update"), (Entity.EXPENSE, other.remote_id, "delete")}
    assert all(ch.changed_at is not None for ch in changes)
    assert connector.read_documents(Entity.EXPENSE, [made.remote_id])[0].total == D("70.00")
    next_second()
    assert connector.changes_since([Entity.EXPENSE], cursor)[0] == []
