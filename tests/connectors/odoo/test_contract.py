"""Odoo passes the shared connector contract against its sandbox over loopback HTTP, once per protocol: XML-RPC
(an Odoo 17 server, the protocol chosen by its version) and JSON-2 (an Odoo 19 server). What Odoo cannot do is
declared in its capabilities (no idempotency keys, no deleted-record feed, no webhooks) and skipped for that
reason."""
import pytest

from tests.connectors.contract import ConnectorContract
from tests.platforms import PlatformHarness


class TestOdooXmlRpcContract(ConnectorContract):
    platform = "odoo"

    def test_the_connection_speaks_xml_rpc(self, contract):
        contract.connector.reference_data()
        assert contract.connector.protocol == "xmlrpc"
        calls = [e for e in contract.connector.exchanges() if e["path"] == "/xmlrpc/2/object"]
        assert any(e["call"] == "account.account.search_read" and e["status"] == 200 for e in calls)


class TestOdooJson2Contract(ConnectorContract):
    platform = "odoo"

    @pytest.fixture
    def harness(self, odoo19_sandbox, platform_sandboxes) -> PlatformHarness:
        h = PlatformHarness(self.platform, odoo19_sandbox, platform_sandboxes)
        h.reset()
        yield h
        h.clear_faults()

    def test_the_connection_speaks_json_2(self, contract):
        contract.connector.reference_data()
        assert contract.connector.protocol == "json2"
        assert any(e["path"].startswith("/json/2/account.account/search_read")
                   for e in contract.connector.exchanges())
