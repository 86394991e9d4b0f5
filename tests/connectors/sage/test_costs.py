"""Sage's journals cannot be edited: a changed journal replaces the old one, and a retry after a lost answer never
leaves two (issue 23)."""
from connectors.base import ConnectionConfig
from connectors.documents import Entity, Mapping, RemoteRef
from connectors.sage.connector import SageConnector
from tests.connectors.contract import journal


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
