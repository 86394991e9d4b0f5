"""Acumatica passes the shared connector contract against its sandbox over loopback HTTP. What Acumatica cannot do
is declared in its capabilities (no idempotency keys, no deleted-record feed, no webhooks) and skipped for that
reason; documents the contract deletes are sent unreleased (Acumatica deletes only those)."""
from tests.connectors.contract import ConnectorContract


class TestAcumaticaContract(ConnectorContract):
    platform = "acumatica"
    delete_settings = {"release": False}

    def test_the_connection_logs_in_with_a_cookie_and_calls_the_default_endpoint(self, contract):
        contract.connector.reference_data()
        assert any(e["path"].startswith("/entity/Default/24.200.001/Account") and e["status"] == 200
                   for e in contract.connector.exchanges())
