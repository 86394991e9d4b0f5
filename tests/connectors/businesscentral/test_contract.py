"""Business Central passes the shared connector contract against its sandbox (loopback HTTP). What it cannot do is
declared in its capabilities (no idempotency keys, no deletions in its lists, no signed webhooks) and skipped by
the contract for that reason."""
from tests.connectors.contract import ConnectorContract


class TestBusinessCentralContract(ConnectorContract):
    platform = "businesscentral"
