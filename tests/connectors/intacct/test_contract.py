"""Sage Intacct passes the shared connector contract against its sandbox over loopback HTTP. What it does not
send (items, credit notes, refunds, expenses, journals), deletions polling cannot see and webhooks are declared in
its capabilities and skipped for that reason."""
from tests.connectors.contract import ConnectorContract


class TestIntacctContract(ConnectorContract):
    platform = "intacct"

    def test_each_write_is_sent_under_uniqueid_with_our_key_as_control_id(self, contract):
        self._customer(contract)
        writes = [e for e in contract.connector.exchanges() if e.get("call") == "create"]
        assert writes and writes[-1]["control_id"].startswith("c-") and writes[-1]["status"] == 200
