"""MYOB Business passes the shared connector contract against its sandbox (loopback HTTP). What it cannot do is
declared in its capabilities (no void, no idempotency keys, no deletions in its lists, no webhooks) and skipped by
the contract for that reason."""
from tests.connectors.contract import ConnectorContract


class TestMyobContract(ConnectorContract):
    platform = "myob"
