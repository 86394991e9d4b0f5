"""FreeAgent passes the shared connector contract against its sandbox (loopback HTTP). What it cannot do is
declared in its capabilities (no items, no void of credit notes, no idempotency keys, no deletions in its lists,
no webhooks, no revocation endpoint) and skipped by the contract for that reason."""
from tests.connectors.contract import ConnectorContract


class TestFreeAgentContract(ConnectorContract):
    platform = "freeagent"
