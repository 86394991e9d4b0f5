"""Kashoo passes the shared connector contract against its sandbox (loopback HTTP). What it cannot do is declared
in its capabilities and skipped by the contract for that reason: void is emulated for invoices and credit notes
only, customers and items are never deleted, there are no idempotency keys, no inbound changes and no webhooks;
the sandbox has no grant to revoke (a token sign-in, not OAuth)."""
from tests.connectors.contract import ConnectorContract


class TestKashooContract(ConnectorContract):
    platform = "kashoo"
