"""Sage's journals cannot be edited: a changed journal replaces the old one, and a retry after a lost answer never
leaves two; an other payment (an expense) edited there is reported by the change poll (issue 23)."""
import datetime as dt
from decimal import Decimal

from connectors.base import ConnectionConfig
from connectors.documents import Entity, Mapping, RemoteRef
from connectors.sage.connector import SageConnector
from tests.connectors.contract import expense, journal
from tests.platforms import next_second


def connector(sandbox):
    token = sandbox.issue_tokens()["access_token"]
    return SageConnector(ConnectionConfig("sage", "costs", sandbox.company_id,
                                          SageConnector.sandbox_settings(sandbox.base_url)), lambda force: token)


def ours(sandbox, reference):
    return [r for r in sandbox.store.rows("journals") if r.data["reference"] == reference]


def test_a_changed_journal_replaces_the_old_one_and_a_lost_replacement_leaves_one(ssandbox):
    sage = connector(ssandbox)
    ledgers = {r.data["name"]: r.id for r in ssandbox.store.rows("ledger_accounts")}
    mapping = Mapping(line_accounts=(ledgers["Office Supplies"], ledgers["Sales"]))
    first = sage.create(journal("JE-1", "15.00"), mapping, "k1")
    leftover = sage.create(journal("JE-1", "16.00"), mapping, "k2")  # a replacement whose answer was lost
    assert len(ours(ssandbox, "JE-1")) == 2
    replaced = sage.update(journal("JE-1", "18.00"), mapping, RemoteRef(first.remote_id, first.version), "k3")
    [kept] = ours(ssandbox, "JE-1")
    assert kept.id == replaced.remote_id not in (first.remote_id, leftover.remote_id)
    assert sage.fetch(Entity.JOURNAL, replaced.remote_id).total == 18


def test_an_expense_typed_over_in_sage_is_reported_as_an_update_with_its_new_total(ssandbox):
    sage = connector(ssandbox)
    ledgers = {r.data["name"]: r.id for r in ssandbox.store.rows("ledger_accounts")}
    bank = ssandbox.store.rows("bank_accounts")[0].id
    made = sage.create(expense("EX-1", ("20.00", "5.00")), Mapping(
        line_accounts=(ledgers["Office Supplies"],) * 2, deposit_account=bank), "k1")
    since = dt.datetime.now(dt.UTC)
    next_second()
    ssandbox.act_as_user("edit_other_payment_line", payment_id=made.remote_id, line=0, amount="25.00")
    next_second()
    changes, cursor = sage.changes_since([Entity.EXPENSE, Entity.PAYMENT, Entity.REFUND], since)
    assert [(c.entity, c.remote_id, c.operation) for c in changes] == [(Entity.EXPENSE, made.remote_id, "update")]
    [read] = sage.read_documents(Entity.EXPENSE, [made.remote_id])
    assert read.status == "open" and read.total == Decimal("30.00") and read.version != made.version
    assert sage.changes_since([Entity.EXPENSE], cursor)[0] == []
