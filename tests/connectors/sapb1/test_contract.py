"""SAP Business One passes the shared connector contract against its Service Layer sandbox over loopback HTTP. What
Business One cannot do is declared in its capabilities (no idempotency keys, no deletion of added documents, no
webhooks, inbound payments only) and skipped for that reason."""
from tests.connectors.contract import ConnectorContract


class TestServiceLayerContract(ConnectorContract):
    platform = "sapb1"

    def test_reference_data_is_read_from_the_entity_sets_with_the_session(self, contract):
        """The sandbox answers 401 without a live ``B1SESSION`` cookie: these reads carried it."""
        contract.connector.reference_data()
        reads = [e for e in contract.connector.exchanges() if e["path"].startswith("/ChartOfAccounts?")]
        assert reads and all(e["status"] == 200 for e in reads)
