"""QuickBooks Online passes the shared connector contract against its sandbox (loopback HTTP)."""
from tests.connectors.contract import ConnectorContract


class TestQBOContract(ConnectorContract):
    platform = "qbo"
