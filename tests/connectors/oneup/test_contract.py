"""OneUp passes the shared connector contract against its sandbox (loopback HTTP). What it cannot do is declared
in its capabilities and skipped by the contract for that reason: no credit notes, no void, customers and items are
never deleted, there are no idempotency keys, no inbound changes and no webhooks; the sandbox has no grant to revoke
(an API key, not OAuth)."""
from tests.connectors.contract import ConnectorContract


class TestOneUpContract(ConnectorContract):
    platform = "oneup"
